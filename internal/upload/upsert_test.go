package upload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/pacer"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/rowstate"
)

// upsertBatch encodes rows as upserts by key "K<row>" in property k; each
// row listed in deals gets an association to that deal.
func upsertBatch(deals map[int]string, rows ...int) *chunker.Batch {
	enc := chunker.Encoder{IDProperty: "k"}
	items := make([]*chunker.Item, len(rows))
	for i, r := range rows {
		in := hubspot.CreateInput{Properties: hubspot.PropertyValues{{Name: "name", Value: fmt.Sprint("n", r)}, {Name: "k", Value: fmt.Sprint("K", r)}}}
		if d, ok := deals[r]; ok {
			in.Associations = []hubspot.Association{{To: hubspot.ObjectID{ID: d}, ObjectType: "deals",
				Types: []hubspot.AssociationType{{Category: hubspot.CategoryHubSpotDefined, TypeID: 20}}}}
		}
		items[i] = enc.Encode(r, []string{fmt.Sprint("cell", r)}, fmt.Sprint("K", r), in)
		items[i].Ident, items[i].FailIdent = fmt.Sprint("u", r), fmt.Sprint("f", r)
	}
	return chunker.NewBatch(items)
}

// fakeUpserts is a portal of line items by key. Each send applies its
// upserts, unless the script's next entry says the request failed before
// (script) or after (commitThen) it was applied.
type fakeUpserts struct {
	mu         sync.Mutex
	byKey      map[string]string // key → id
	script     []error           // errors answered instead, nothing applied
	commitThen []error           // errors answered after applying
	noTrace    bool              // results carry no objectWriteTraceId
	noKey      map[string]bool   // keys whose results carry neither trace nor key, once
	conflict   map[string]bool   // keys whose other unique value another record holds (per-row CONFLICT)
	sends      int
	nextID     int

	// associations
	links      map[[2]string]int // from, to → times created
	badTargets map[string]bool   // deal ids that do not exist
	linkScript []error
	linkCalls  int
	linkSilent bool // association answers name neither results nor errors
}

func (f *fakeUpserts) Send(_ context.Context, body []byte) (*hubspot.BatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sends++
	if len(f.script) > 0 {
		err := f.script[0]
		f.script = f.script[1:]
		if err != nil {
			return nil, err
		}
	}
	var req hubspot.BatchUpsertRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if f.byKey == nil {
		f.byKey = map[string]string{}
	}
	res := &hubspot.BatchResult{StatusCode: 200}
	for _, in := range req.Inputs {
		if in.IDProperty != "k" || in.ID == "" {
			return nil, &hubspot.APIError{StatusCode: 400, Message: "bad input"}
		}
		if f.conflict[in.ID] {
			res.StatusCode = 207
			res.Errors = append(res.Errors, hubspot.StandardError{Status: "error", Category: "CONFLICT", Message: "another record holds the value",
				Context: map[string][]string{"objectWriteTraceId": {in.ObjectWriteTraceID}}})
			continue
		}
		id, ok := f.byKey[in.ID]
		if !ok {
			f.nextID++
			id = strconv.Itoa(500 + f.nextID)
			f.byKey[in.ID] = id
		}
		c := hubspot.Created{ID: id, ObjectWriteTraceID: in.ObjectWriteTraceID, Upsert: true, Told: true, New: !ok, Key: in.ID}
		if f.noTrace {
			c.ObjectWriteTraceID = ""
		}
		if f.noKey[in.ID] {
			delete(f.noKey, in.ID)
			c.ObjectWriteTraceID, c.Key = "", ""
		}
		res.Results = append(res.Results, c)
	}
	if len(f.commitThen) > 0 {
		err := f.commitThen[0]
		f.commitThen = f.commitThen[1:]
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (f *fakeUpserts) CreateAssociations(_ context.Context, to string, inputs []hubspot.AssociationInput) (*hubspot.AssociationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.linkCalls++
	if to != "deals" {
		return nil, &hubspot.APIError{StatusCode: 400, Message: "unexpected target type " + to}
	}
	if len(f.linkScript) > 0 {
		err := f.linkScript[0]
		f.linkScript = f.linkScript[1:]
		if err != nil {
			return nil, err
		}
	}
	if f.links == nil {
		f.links = map[[2]string]int{}
	}
	res := &hubspot.AssociationResult{StatusCode: 201}
	for _, in := range inputs {
		if f.badTargets[in.To.ID] {
			res.StatusCode = 207
			res.Errors = append(res.Errors, hubspot.StandardError{Status: "error", Category: "OBJECT_NOT_FOUND", Message: "No deal with id " + in.To.ID,
				Context: map[string][]string{"toObjectId": {in.To.ID}, "fromObjectId": {in.From.ID}}})
			continue
		}
		f.links[[2]string{in.From.ID, in.To.ID}]++
		if !f.linkSilent {
			res.Results = append(res.Results, hubspot.AssociationPair{FromObjectID: hubspot.FlexID(in.From.ID), ToObjectID: hubspot.FlexID(in.To.ID)})
		}
	}
	return res, nil
}

// mustNotFind fails the test if the uploader looks anything up.
type mustNotFind struct{ t *testing.T }

func (m mustNotFind) Find(context.Context, []string) (map[string]string, error) {
	m.t.Error("an upsert import looked rows up")
	return nil, errors.New("no lookups")
}

func upserter(f *fakeUpserts, rec Recorder, t *testing.T) *Uploader {
	p := DefaultPolicy
	p.Idempotent = true
	return &Uploader{Sender: f, Associator: f, Recorder: rec, Finder: mustNotFind{t}, Policy: p, Workers: 1,
		Idempotent: true, Jitter: func() float64 { return 0 }}
}

// TestUpsertOutcomesByKey: an upsert answer is matched to its rows by trace
// id, or by the key in the result when the trace id is missing (also when
// HubSpot answers with the key in another case), never by position; New
// says created or updated, and a result without it says upserted.
func TestUpsertOutcomesByKey(t *testing.T) {
	b := upsertBatch(nil, 1, 2, 3, 4, 5)
	res := &hubspot.BatchResult{StatusCode: 200, BatchResponse: hubspot.BatchResponse{Results: []hubspot.Created{
		{ID: "13", Upsert: true, Told: true, New: true, Key: "k3"}, // no trace id; the stored key in another case
		{ID: "11", ObjectWriteTraceID: "1", Upsert: true, Told: true, New: false, Key: "K1"},
		{ID: "12", Upsert: true, Told: true, New: true, Key: "K2"},        // no trace id
		{ID: "99", Upsert: true, Told: true, New: true, Key: "K-unknown"}, // names no row
		{ID: "14", ObjectWriteTraceID: "4", Upsert: true, Key: "K4"},      // without "new"
	}}}
	got := Outcomes(b.Items, res, "")
	want := []rowstate.Verdict{
		{Kind: rowstate.Created, ID: "11", Action: report.ActionUpdated},
		{Kind: rowstate.Created, ID: "12", Action: report.ActionCreated},
		{Kind: rowstate.Created, ID: "13", Action: report.ActionCreated},
		{Kind: rowstate.Created, ID: "14", Action: report.ActionUpserted},
		{Kind: rowstate.Doubt, Code: codeMissingResult, Message: unmatchedResults(1)}, // K-unknown's may be its
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

// TestUpsertOutcomeByAFoldedKey: a result without a trace id whose key
// differs from the row's only as Unicode case folding tells (a final
// sigma, a long s) is that row's, when no other row of the batch can be
// meant.
func TestUpsertOutcomeByAFoldedKey(t *testing.T) {
	enc := chunker.Encoder{IDProperty: "k"}
	var items []*chunker.Item
	for i, key := range []string{"οδος-1", "ſku-2"} {
		in := hubspot.CreateInput{Properties: hubspot.PropertyValues{{Name: "k", Value: key}}}
		items = append(items, enc.Encode(i+1, []string{key}, key, in))
	}
	res := &hubspot.BatchResult{StatusCode: 200, BatchResponse: hubspot.BatchResponse{Results: []hubspot.Created{
		{ID: "21", Upsert: true, Told: true, New: true, Key: "ΟΔΟΣ-1"},
		{ID: "22", Upsert: true, Told: true, New: false, Key: "SKU-2"},
	}}}
	got := Outcomes(items, res, "")
	want := []rowstate.Verdict{
		{Kind: rowstate.Created, ID: "21", Action: report.ActionCreated},
		{Kind: rowstate.Created, ID: "22", Action: report.ActionUpdated},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

// TestUpsertResendsInsteadOfLookingUp: under every way an upsert can lose
// its answer (committed then 502, 504, a dropped connection, a result that
// names no row) the batch is simply sent again: each key exists once, every
// row is created or updated with its id, none is in doubt, and nothing is
// looked up.
func TestUpsertResendsInsteadOfLookingUp(t *testing.T) {
	cases := []struct {
		name string
		f    *fakeUpserts
	}{
		{"committed, then 502", &fakeUpserts{commitThen: []error{&hubspot.APIError{StatusCode: 502}}}},
		{"committed, then the connection dropped", &fakeUpserts{commitThen: []error{&hubspot.TransportError{Sent: true, Err: io.ErrUnexpectedEOF}, &hubspot.APIError{StatusCode: 504}}}},
		{"500 before anything", &fakeUpserts{script: []error{&hubspot.APIError{StatusCode: 500}, &hubspot.APIError{StatusCode: 503}}}},
		{"results without trace ids", &fakeUpserts{noTrace: true, commitThen: []error{&hubspot.APIError{StatusCode: 502}}}},
		{"a result naming no row", &fakeUpserts{noKey: map[string]bool{"K2": true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &memRecorder{}
				u := upserter(tc.f, rec, t)
				if err := u.Run(context.Background(), feed(upsertBatch(nil, 1, 2, 3))); err != nil {
					t.Fatal(err)
				}
				st := rec.statuses()
				if len(st[report.Created]) != 3 || len(rec.dups) > 0 {
					t.Fatalf("outcomes %v (recorded twice: %v), want 3 created", st, rec.dups)
				}
				if len(tc.f.byKey) != 3 {
					t.Errorf("%d line items for 3 keys", len(tc.f.byKey))
				}
				for r := 1; r <= 3; r++ {
					o := rec.outs[r]
					if o.ID != tc.f.byKey[fmt.Sprint("K", r)] || o.Action == "" {
						t.Errorf("row %d: id %q action %q, want id %q and an action", r, o.ID, o.Action, tc.f.byKey[fmt.Sprint("K", r)])
					}
				}
			})
		})
	}
}

// TestUpsertAgainUpdates: the same keys upserted twice are updated the
// second time, with the ids of the first.
func TestUpsertAgainUpdates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpserts{}
		first, second := &memRecorder{}, &memRecorder{}
		if err := upserter(f, first, t).Run(context.Background(), feed(upsertBatch(nil, 1, 2))); err != nil {
			t.Fatal(err)
		}
		if err := upserter(f, second, t).Run(context.Background(), feed(upsertBatch(nil, 1, 2))); err != nil {
			t.Fatal(err)
		}
		for r := 1; r <= 2; r++ {
			a, b := first.outs[r], second.outs[r]
			if a.Action != report.ActionCreated || b.Action != report.ActionUpdated || a.ID != b.ID {
				t.Errorf("row %d: first %s %s, then %s %s; want created, then updated with the same id", r, a.Action, a.ID, b.Action, b.ID)
			}
		}
	})
}

// TestUpsertAssociations: a batch's associations are made after its
// upserts, one call per target type; a row whose association fails is
// failed with its id and HubSpot's reason, never created, and its content
// is not remembered as rejected (the next run sends it again); an
// association call without a clear answer is sent again.
func TestUpsertAssociations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpserts{badTargets: map[string]bool{"9999": true, "8888": true},
			linkScript: []error{&hubspot.APIError{StatusCode: 502}}}
		rec := &memRecorder{}
		u := upserter(f, rec, t)
		if err := u.Run(context.Background(), feed(upsertBatch(map[int]string{1: "1001", 2: "9999", 3: "1002", 5: "8888"}, 1, 2, 3, 4, 5))); err != nil {
			t.Fatal(err)
		}
		st := rec.statuses()
		if fmt.Sprint(st[report.Created]) != "[1 3 4]" || fmt.Sprint(st[report.Failed]) != "[2 5]" {
			t.Fatalf("outcomes %v, want rows 1, 3, 4 created and rows 2 and 5 failed", st)
		}
		o := rec.outs[2]
		if o.Code != CodeAssociationFailed || o.ID != f.byKey["K2"] || !strings.Contains(o.Message, f.byKey["K2"]) ||
			!strings.Contains(o.Message, "No deal with id 9999") || strings.Contains(o.Message, "8888") || o.FailIdent != "" {
			t.Errorf("row 2: %+v; want ASSOCIATION_FAILED with the line item's id and HubSpot's reason about its own deal, and no failure identity", o)
		}
		if f.links[[2]string{f.byKey["K1"], "1001"}] == 0 || f.links[[2]string{f.byKey["K3"], "1002"}] == 0 {
			t.Errorf("associations made: %v", f.links)
		}
		if f.linkCalls != 2 || u.Stats().Associations != 2 {
			t.Errorf("%d association calls (stats %d), want 2: one for the batch's deals, resent once after a 502", f.linkCalls, u.Stats().Associations)
		}
	})
}

// TestUpsertAssociationWithoutAnAnswer: an association call that gets no
// clear answer in all its attempts (a 502, a 504, a dropped connection,
// each after HubSpot may have made the association) leaves its rows
// ASSOCIATION_FAILED with the line item's id, saying HubSpot may have made
// it: the line item exists, and an association made twice is one
// association, so the next run makes it again; never created, and never
// in doubt of a line item that is known.
func TestUpsertAssociationWithoutAnAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var script []error
		for i := range DefaultPolicy.MaxAttempts {
			script = append(script, []error{&hubspot.APIError{StatusCode: 502}, &hubspot.APIError{StatusCode: 504},
				&hubspot.TransportError{Sent: true, Err: io.ErrUnexpectedEOF}}[i%3])
		}
		f := &fakeUpserts{linkScript: script}
		rec := &memRecorder{}
		u := upserter(f, rec, t)
		if err := u.Run(context.Background(), feed(upsertBatch(map[int]string{1: "1001"}, 1, 2))); err != nil {
			t.Fatal(err)
		}
		if f.linkCalls != DefaultPolicy.MaxAttempts {
			t.Errorf("%d association calls, want %d (every attempt)", f.linkCalls, DefaultPolicy.MaxAttempts)
		}
		o := rec.outs[1]
		if o.Status != report.Failed || o.Code != CodeAssociationFailed || o.ID != f.byKey["K1"] ||
			!strings.Contains(o.Message, "association to deals 1001 may not have been made") || !strings.Contains(o.Message, "HubSpot may have acted") {
			t.Errorf("row 1: %+v; want ASSOCIATION_FAILED with the line item's id, saying HubSpot may have made it", o)
		}
		if o := rec.outs[2]; o.Status != report.Created {
			t.Errorf("row 2 (no association): %+v, want created", o)
		}
	})
}

// TestUpsertAssociationAnswerSilent: an association answer that names the
// link neither as made nor as failed leaves the row ASSOCIATION_FAILED,
// saying the association may not have been made (HubSpot may have made
// it), never that it was not.
func TestUpsertAssociationAnswerSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpserts{linkSilent: true}
		rec := &memRecorder{}
		if err := upserter(f, rec, t).Run(context.Background(), feed(upsertBatch(map[int]string{1: "1001"}, 1))); err != nil {
			t.Fatal(err)
		}
		o := rec.outs[1]
		if o.Status != report.Failed || o.Code != CodeAssociationFailed || o.ID != f.byKey["K1"] ||
			!strings.Contains(o.Message, "association to deals 1001 may not have been made: HubSpot's answer named neither") {
			t.Errorf("row 1: %+v; want ASSOCIATION_FAILED with its id, saying the association may not have been made", o)
		}
	})
}

// TestUpsertConflict: a unique-value conflict on an upsert's first send
// proves the row was never created (the record holding the value is
// another one): failed. After a request that may have reached HubSpot, it
// may be that request's row, still being committed: the row is sent
// again, and stays in doubt while the conflict lasts, never failed.
func TestUpsertConflict(t *testing.T) {
	for _, after502 := range []bool{false, true} {
		t.Run(fmt.Sprint("after a 502: ", after502), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeUpserts{conflict: map[string]bool{"K2": true}}
				if after502 {
					f.script = []error{&hubspot.APIError{StatusCode: 502}}
				}
				rec := &memRecorder{}
				if err := upserter(f, rec, t).Run(context.Background(), feed(upsertBatch(nil, 1, 2))); err != nil {
					t.Fatal(err)
				}
				want := report.Failed
				if after502 {
					want = report.InDoubt
				}
				if o := rec.outs[2]; o.Status != want || o.Code != "CONFLICT" {
					t.Errorf("row 2: %+v, want %v CONFLICT", o, want)
				}
				if o := rec.outs[1]; o.Status != report.Created {
					t.Errorf("row 1: %+v, want created", o)
				}
			})
		})
	}
}

// stopOnSend cancels the run while a batch upsert is in flight.
type stopOnSend struct {
	*fakeUpserts
	cancel func()
}

func (s stopOnSend) Send(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
	s.cancel()
	return s.fakeUpserts.Send(ctx, body)
}

// TestUpsertStopBeforeAssociations: a stop while an upsert is in flight:
// its answer is awaited, and its rows, which exist, are reported with their
// ids as failed for want of their associations (never not sent, never
// created), and no association call starts after the stop.
func TestUpsertStopBeforeAssociations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpserts{}
		ctx, cancel := context.WithCancel(context.Background())
		rec := &memRecorder{}
		u := upserter(f, rec, t)
		u.Sender = stopOnSend{f, cancel}
		err := u.Run(ctx, feed(upsertBatch(map[int]string{1: "1001", 2: "1002"}, 1, 2, 3)))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want the stop", err)
		}
		for r := 1; r <= 2; r++ {
			o := rec.outs[r]
			if o.Status != report.Failed || o.Code != CodeAssociationFailed || o.ID != f.byKey[fmt.Sprint("K", r)] || !strings.Contains(o.Message, "stopped") {
				t.Errorf("row %d: %+v; want failed for want of its association, with its id", r, o)
			}
		}
		if o := rec.outs[3]; o.Status != report.Created || o.ID != f.byKey["K3"] {
			t.Errorf("row 3 (no association): %+v, want created", o)
		}
		if f.linkCalls != 0 {
			t.Errorf("%d association calls after the stop", f.linkCalls)
		}
	})
}

// cancelOnGrant is a pacer that stops the run as it grants its n-th slot.
type cancelOnGrant struct {
	mu     sync.Mutex
	n      int
	cancel func()
}

func (c *cancelOnGrant) Acquire(context.Context) (pacer.Release, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return func(hubspot.RateLimit, bool, time.Duration) {}, nil
}

// TestNoAssociationCallAfterAStop: the run stops while the association
// call waits for its slot, and the pacer grants it all the same: the call
// is not made, and the rows are recorded with their ids.
func TestNoAssociationCallAfterAStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpserts{}
		ctx, cancel := context.WithCancel(context.Background())
		rec := &memRecorder{}
		u := upserter(f, rec, t)
		u.Pacer = &cancelOnGrant{n: 2, cancel: cancel} // the upsert's slot, then the association call's
		_ = u.Run(ctx, feed(upsertBatch(map[int]string{1: "1001"}, 1)))
		if f.linkCalls != 0 {
			t.Errorf("%d association calls after the stop", f.linkCalls)
		}
		if o := rec.outs[1]; o.Status != report.Failed || o.Code != CodeAssociationFailed || o.ID == "" {
			t.Errorf("row 1: %+v", o)
		}
	})
}

// TestUpsertWordedConflict: an upsert of one row refused by a 400 that
// only its words call a taken value fails for that 400 on its first send
// (words prove no conflict), and is sent again after an answer that may
// have been acted on; nothing is looked up either way.
func TestUpsertWordedConflict(t *testing.T) {
	taken := &hubspot.APIError{StatusCode: 400, Category: "VALIDATION_ERROR", Message: "sku: another line item already has that value"}
	for _, tc := range []struct {
		name   string
		script []error
		status report.Status
		sends  int
	}{
		{"first send", []error{taken}, report.Failed, 1},
		{"after a 502", []error{&hubspot.APIError{StatusCode: 502}, taken}, report.Created, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeUpserts{script: tc.script}
				rec := &memRecorder{}
				if err := upserter(f, rec, t).Run(context.Background(), feed(upsertBatch(nil, 1))); err != nil {
					t.Fatal(err)
				}
				o := rec.outs[1]
				if o.Status != tc.status || (o.Status == report.Failed && o.Code != "VALIDATION_ERROR") {
					t.Errorf("row 1 = %+v, want %s", o, tc.status)
				}
				if n := f.sends; n != tc.sends {
					t.Errorf("%d sends, want %d", n, tc.sends)
				}
			})
		})
	}
}

// diskFullJournal takes "sent" records but cannot write outcomes.
type diskFullJournal struct{}

func (diskFullJournal) Sent([]string) error { return nil }
func (diskFullJournal) Await(uint64) error  { return nil }
func (diskFullJournal) Cancel(uint64)       {}
func (diskFullJournal) Done([]report.Outcome) error {
	return errors.New("write journal.log: no space left on device")
}

// TestUpsertedRowsWhenRecordingFails: rows 1 (with an association) and 2
// are upserted in one batch, and recording row 2's outcome fails (the
// journal's disk is full; the reports are fine). Row 1 exists, with the id
// HubSpot gave it: it is recorded unlinked with that id, not as a row the
// run did not send.
func TestUpsertedRowsWhenRecordingFails(t *testing.T) {
	f := &fakeUpserts{}
	rec := &memRecorder{}
	u := upserter(f, rec, t)
	u.Journal = diskFullJournal{}
	if err := u.Run(context.Background(), feed(upsertBatch(map[int]string{1: "7"}, 1, 2))); err == nil {
		t.Fatal("the journal's error was not returned")
	}
	checkOnce(t, rec, 1, 2)
	id := f.byKey["K1"]
	if id == "" {
		t.Fatal("row 1 was not upserted")
	}
	if o := rec.outs[1]; o.Status != report.Failed || o.Code != CodeAssociationFailed || o.ID != id {
		t.Errorf("row 1, upserted as %s: %v %s id %q; want failed %s with its id", id, o.Status, o.Code, o.ID, CodeAssociationFailed)
	}
}
