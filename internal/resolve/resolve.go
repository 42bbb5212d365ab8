// Package resolve finds out whether rows whose create got no clear answer
// exist in HubSpot, by searching for their keys.
//
// It relies on a line-item property with unique values that holds each
// row's key: then a key found means the row was created (and gives its id),
// and a resend of a key not found cannot create a second line item, because
// HubSpot refuses a second record with the same unique value.
package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/retry"
)

// Searcher runs one page of a line-item search. *hubspot.Client implements it.
type Searcher interface {
	Search(ctx context.Context, req hubspot.SearchRequest) (*hubspot.SearchResponse, error)
}

// HubSpot's search limits.
const (
	maxInValues   = 100  // values of one IN filter
	maxBodyChars  = 3000 // characters of a search request body
	pageSize      = 100
	DefaultPerSec = 4 // under HubSpot's 5 search requests per second
)

// Resolver looks keys up. Set the fields before use; it is safe for
// concurrent use afterwards.
type Resolver struct {
	Searcher    Searcher
	Property    string        // the unique property that holds the key
	Limiter     *rate.Limiter // search requests; nil means DefaultPerSec
	MaxAttempts int           // per search request; <1 means 8
	BaseDelay   time.Duration // first backoff; 0 means 1s

	once sync.Once
}

// New returns a Resolver with HubSpot's search rate.
func New(s Searcher, property string) *Resolver {
	return &Resolver{Searcher: s, Property: property, Limiter: rate.NewLimiter(DefaultPerSec, 1)}
}

// Find returns the ids of the line items whose Property equals one of keys
// (compared without regard to case, as HubSpot's IN filter does). Keys not
// found are absent from the map. A search that fails after its retries is
// an error: a failed search is never read as "not found".
func (r *Resolver) Find(ctx context.Context, keys []string) (map[string]string, error) {
	found := make(map[string]string, len(keys))
	want := make(map[string][]string, len(keys)) // lower-case → keys as given
	for _, k := range keys {
		if k != "" && !slices.Contains(want[strings.ToLower(k)], k) {
			want[strings.ToLower(k)] = append(want[strings.ToLower(k)], k)
		}
	}
	for _, group := range r.groups(keys) {
		after := ""
		for {
			req := hubspot.SearchRequest{
				FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{{PropertyName: r.Property, Operator: "IN", Values: group}}}},
				Properties:   []string{r.Property},
				Limit:        pageSize,
				After:        after,
			}
			res, err := r.search(ctx, req)
			if err != nil {
				return nil, err
			}
			for _, obj := range res.Results {
				for _, k := range want[strings.ToLower(obj.Properties[r.Property])] {
					found[k] = obj.ID
				}
			}
			if after = res.NextAfter(); after == "" {
				break
			}
		}
	}
	return found, nil
}

// groups splits keys into IN filters within HubSpot's limits. Values are
// lower-cased: HubSpot's IN filter on a string property needs lower case.
func (r *Resolver) groups(keys []string) [][]string {
	var out [][]string
	var cur []string
	size := 0
	overhead := 200 + len(r.Property)*2
	seen := map[string]bool{}
	for _, k := range keys {
		v := strings.ToLower(k)
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		n := encodedLen(v) + 1 // and a comma
		if len(cur) == maxInValues || (len(cur) > 0 && overhead+size+n > maxBodyChars) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, v)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// encodedLen is the length of v as a JSON string, as encoding/json writes
// it (with <, > and & escaped).
func encodedLen(v string) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// limiter returns the search limiter, creating the default one once.
func (r *Resolver) limiter() *rate.Limiter {
	r.once.Do(func() {
		if r.Limiter == nil {
			r.Limiter = rate.NewLimiter(DefaultPerSec, 1)
		}
	})
	return r.Limiter
}

// search runs one request, retrying every failure: a search changes
// nothing, so it is always safe to repeat.
func (r *Resolver) search(ctx context.Context, req hubspot.SearchRequest) (*hubspot.SearchResponse, error) {
	attempts := r.MaxAttempts
	if attempts < 1 {
		attempts = 8
	}
	base := r.BaseDelay
	if base <= 0 {
		base = time.Second
	}
	lim := r.limiter()
	var last error
	for attempt := 1; attempt <= attempts; attempt++ {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
		res, err := r.Searcher.Search(ctx, req)
		if err == nil {
			return res, nil
		}
		last = err
		var ae *hubspot.APIError
		if errors.As(err, &ae) {
			switch {
			case ae.StatusCode == 401 || ae.StatusCode == 403:
				return nil, fmt.Errorf("searching for keys: %w", err)
			case ae.StatusCode == 400:
				return nil, fmt.Errorf("searching for keys (HubSpot rejected the search): %w", err)
			}
		}
		wait := retry.Backoff(attempt, base, 30*time.Second, rand.Float64())
		if ae != nil && ae.RetryAfter > wait {
			wait = ae.RetryAfter
		}
		if !retry.Sleep(ctx, wait) {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("searching for keys: gave up after %d attempts: %w", attempts, last)
}
