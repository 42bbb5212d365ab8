// Package resolve finds records by the value of a unique property: line
// items by the key of rows whose create got no clear answer (do they
// exist?), and the targets of associations given by an external id (a
// deal by its legacy_deal_id, say).
//
// It relies on a line-item property with unique values that holds each
// row's key: then a key found means the row was created (and gives its id),
// and a resend of a key not found cannot create a second line item, because
// HubSpot refuses a second record with the same unique value.
//
// Lookups use POST /crm/v3/objects/line_items/batch/read with idProperty,
// which reads the records themselves: unlike the search API, whose index
// HubSpot documents may lag behind a create by "a few moments", it sees a
// create as soon as HubSpot committed it, and it matches the value itself
// rather than a tokenised, case-folded form of it. Search is not used.
package resolve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/pacer"
	"github.com/lineitems/importer/internal/retry"
)

// Reader reads records of an object type (line_items, deals, ...) by a
// unique property. *hubspot.Client implements it.
type Reader interface {
	BatchReadObjects(ctx context.Context, objectType string, req hubspot.BatchReadRequest) (*hubspot.BatchReadResult, error)
}

// Pacer admits requests under the portal's rate limit: batch reads count
// against the same 10-second window as batch creates. *pacer.Pacer
// implements it.
type Pacer interface {
	Acquire(ctx context.Context) (pacer.Release, error)
}

// MaxInputs is HubSpot's limit of inputs in one batch read.
const MaxInputs = 100

// Resolver looks keys up. Set the fields before use; it is safe for
// concurrent use afterwards.
type Resolver struct {
	Reader Reader
	// ObjectType is the type of the records looked up; "" means
	// line_items.
	ObjectType string
	Property   string // the unique property that holds the key
	Pacer      Pacer  // nil: no pacing of its own
	// SilentIsMissing takes a key that HubSpot's answer names neither as
	// found nor as not found for a key no record holds, instead of asking
	// again and then failing the lookup. For association targets, where
	// a wrong "not found" only fails the row before it is sent; never for
	// rows that may exist.
	SilentIsMissing bool
	MaxAttempts     int           // per request; <1 means 8
	BaseDelay       time.Duration // first backoff; 0 means 1s
	MaxDelay        time.Duration // longest backoff or Retry-After; 0 means 30s
}

// New returns a Resolver that reads through r and paces its requests with p.
func New(r Reader, property string, p Pacer) *Resolver {
	return &Resolver{Reader: r, Property: property, Pacer: p}
}

// Find returns the ids of the records whose Property equals one of keys
// exactly, byte for byte. A record whose value differs from a key only in
// case (which a portal that compares unique values without regard to case
// may return) is not that key's. Keys not found are absent from the map.
//
// An error means the lookup could not be completed, and says nothing about
// any key: a failed lookup is never read as "not found". A key is not
// found only when HubSpot says so (an OBJECT_NOT_FOUND error naming it, or
// a 404 OBJECT_NOT_FOUND for the whole read); an answer silent about a key
// is asked again, like a 5xx, and then fails the lookup. It wraps the
// *hubspot.APIError when HubSpot refused the request (a 401, 403, 429
// DAILY or 477 is returned at once), and pacer.ErrDailyReserve when the
// portal's daily quota is down to the reserve.
func (r *Resolver) Find(ctx context.Context, keys []string) (map[string]string, error) {
	found, _, err := r.FindCased(ctx, keys)
	return found, err
}

// FindCased is Find that also returns, for keys no record holds exactly,
// the id of a record that holds the key in another case (as
// strings.EqualFold tells), which a portal that compares unique values
// without regard to case may return. A caller takes such a record as
// proof that another record holds the key's value, which assumes that a
// portal whose reads ignore case also compares unique values that way;
// HubSpot documents neither. It returns the same errors as Find.
func (r *Resolver) FindCased(ctx context.Context, keys []string) (found, cased map[string]string, err error) {
	found = make(map[string]string, len(keys))
	err = r.eachGroup(ctx, r.Property, keys, func(group []string, want map[string]bool, res *hubspot.BatchReadResult) error {
		for _, obj := range res.Results {
			if obj.ID == "" {
				// No proof of anything: the key stays unanswered, as if
				// the record were not there.
				continue
			}
			v := obj.Properties[r.Property]
			if !want[v] {
				for _, k := range group {
					if strings.EqualFold(k, v) {
						if cased == nil {
							cased = map[string]string{}
						}
						cased[k] = obj.ID
					}
				}
				continue
			}
			if id, dup := found[v]; dup && id != obj.ID {
				return fmt.Errorf("reading %s by %s: two records (%s and %s) hold the value %q of a unique property", r.objectType(), r.Property, id, obj.ID, v)
			}
			found[v] = obj.ID
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for k := range cased {
		if _, ok := found[k]; ok {
			delete(cased, k)
		}
	}
	return found, cased, nil
}

// KeysOf reads records by their HubSpot ids and returns, for each id
// found, the record's value of Property ("" when it holds none). An id
// absent from the map is one HubSpot said it holds no record for (as a
// record created moments ago may not be readable yet, a caller must not
// take that for proof that it will never exist). It returns the same
// errors as Find.
func (r *Resolver) KeysOf(ctx context.Context, ids []string) (map[string]string, error) {
	keys := make(map[string]string, len(ids))
	err := r.eachGroup(ctx, "", ids, func(_ []string, want map[string]bool, res *hubspot.BatchReadResult) error {
		for _, obj := range res.Results {
			if want[obj.ID] {
				keys[obj.ID] = obj.Properties[r.Property]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// eachGroup reads the records whose idProperty ("" for their HubSpot ids)
// is one of values, leaving out empty and repeated values, in groups of at
// most MaxInputs, and hands each group's answer to use with the values
// asked so far. An error HubSpot gives for one value other than "not
// found" fails the whole read, as does an error from use.
func (r *Resolver) eachGroup(ctx context.Context, idProperty string, values []string,
	use func(group []string, want map[string]bool, res *hubspot.BatchReadResult) error) error {
	by := cmp.Or(idProperty, "id") // for messages
	want := make(map[string]bool, len(values))
	var group []string
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		res, err := r.readBy(ctx, idProperty, group)
		if err != nil {
			return err
		}
		for _, e := range res.Errors {
			if !e.NotFound() {
				return fmt.Errorf("reading %s by %s: HubSpot answered %s: %s", r.objectType(), by, e.Category, e.ReadableMessage())
			}
		}
		if err := use(group, want, res); err != nil {
			return err
		}
		group = group[:0]
		return nil
	}
	for _, v := range values {
		if v == "" || want[v] {
			continue
		}
		want[v] = true
		group = append(group, v)
		if len(group) == MaxInputs {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// readBy runs one batch read of the records whose idProperty ("" for
// their HubSpot ids) is one of keys, retrying what may be retried: a read
// changes nothing, so a 5xx or a lost answer is simply asked again.
func (r *Resolver) readBy(ctx context.Context, idProperty string, keys []string) (*hubspot.BatchReadResult, error) {
	req := hubspot.BatchReadRequest{IDProperty: idProperty, Properties: []string{r.Property},
		Inputs: make([]hubspot.ObjectID, len(keys))}
	by := cmp.Or(idProperty, "id") // for messages
	for i, k := range keys {
		req.Inputs[i] = hubspot.ObjectID{ID: k}
	}
	attempts := r.MaxAttempts
	if attempts < 1 {
		attempts = 8
	}
	base := r.BaseDelay
	if base <= 0 {
		base = time.Second
	}
	maxDelay := r.MaxDelay
	if maxDelay <= 0 {
		maxDelay = 30 * time.Second
	}
	var last error
	for attempt := 1; attempt <= attempts; attempt++ {
		release := func(hubspot.RateLimit, bool, time.Duration) {}
		if r.Pacer != nil {
			var err error
			if release, err = r.Pacer.Acquire(ctx); err != nil {
				return nil, fmt.Errorf("reading %s by %s: %w", r.objectType(), by, err)
			}
		}
		res, err := r.Reader.BatchReadObjects(ctx, r.objectType(), req)
		var ae *hubspot.APIError
		errors.As(err, &ae)
		switch {
		case res != nil:
			release(res.Rate, false, 0)
		case ae != nil:
			release(ae.Rate, ae.StatusCode == http.StatusTooManyRequests, ae.RetryAfter)
		default:
			release(hubspot.RateLimit{}, false, 0)
		}
		if ae != nil && ae.NotFound() {
			// HubSpot may answer a read that finds none of its inputs with
			// a 404 for the whole request rather than a 207: every key of
			// the request is not found.
			return &hubspot.BatchReadResult{StatusCode: ae.StatusCode, Errors: []hubspot.StandardError{
				{Category: ae.Category, Message: ae.Message, Context: map[string][]string{"ids": slices.Clone(keys)}}}}, nil
		}
		if err == nil {
			silent := unanswered(res, keys, idProperty)
			if len(silent) == 0 || r.SilentIsMissing || slices.ContainsFunc(res.Errors, func(e hubspot.StandardError) bool { return !e.NotFound() }) {
				return res, nil
			}
			// An answer that names neither a record nor "not found" for a
			// key says nothing about it; asked again, it may.
			err = fmt.Errorf("HubSpot's answer named neither a record nor \"not found\" for %d of the %d keys asked (%q first)", len(silent), len(keys), silent[0])
		}
		last = err
		if ae != nil && ae.Lasting() {
			return nil, fmt.Errorf("reading %s by %s: %w", r.objectType(), by, err)
		}
		var after time.Duration
		if ae != nil {
			after = ae.RetryAfter
		}
		if !retry.Sleep(ctx, retry.Wait(attempt, base, maxDelay, after, rand.Float64())) {
			return nil, context.Cause(ctx)
		}
	}
	return nil, fmt.Errorf("reading %s by %s: gave up after %d attempts: %w", r.objectType(), by, attempts, last)
}

// unanswered returns the keys that res names neither as a record's value
// of property (its id when property is "") (in any case: a portal may
// compare values without regard to case) nor in a "not found" error's
// context. HubSpot answers a batch read with a record or an
// OBJECT_NOT_FOUND error naming its id for each input; a key it is silent
// about is not known to be missing.
func unanswered(res *hubspot.BatchReadResult, keys []string, property string) []string {
	named := make(map[string]bool, len(res.Results)+len(keys))
	for _, obj := range res.Results {
		switch {
		case obj.ID == "": // a record without an id tells nothing (see FindCased)
		case property == "":
			named[obj.ID] = true
		default:
			named[obj.Properties[property]] = true
		}
	}
	for _, e := range res.Errors {
		if !e.NotFound() {
			continue // FindCased refuses the answer
		}
		for _, ids := range e.Context {
			for _, id := range ids {
				named[id] = true
			}
		}
	}
	var silent []string
	for _, k := range keys {
		if named[k] {
			continue
		}
		folded := false
		for v := range named {
			if strings.EqualFold(k, v) {
				folded = true
				break
			}
		}
		if !folded {
			silent = append(silent, k)
		}
	}
	return silent
}

func (r *Resolver) objectType() string {
	if r.ObjectType == "" {
		return "line_items"
	}
	return r.ObjectType
}
