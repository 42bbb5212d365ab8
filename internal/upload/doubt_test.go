package upload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/pacer"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/resolve"
	"github.com/lineitems/importer/internal/rowstate"
)

// checkOnce fails the test unless every one of rows was recorded exactly once.
func checkOnce(t *testing.T, rec *memRecorder, rows ...int) {
	t.Helper()
	if len(rec.dups) > 0 {
		t.Errorf("rows recorded twice: %v", rec.dups)
	}
	for _, r := range rows {
		if _, ok := rec.outs[r]; !ok {
			t.Errorf("row %d recorded nowhere", r)
		}
	}
	if len(rec.outs) != len(rows) {
		t.Errorf("%d rows recorded, want %d", len(rec.outs), len(rows))
	}
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// TestDoubtfulResendRefused: rows that HubSpot may have created (a 502)
// and whose resend is then refused until the attempts run out (429s, 423s,
// connection refused) stay in doubt: failed.csv would tell a later
// run to send them as new rows.
func TestDoubtfulResendRefused(t *testing.T) {
	refusals := map[string]error{
		"429":                &hubspot.APIError{StatusCode: 429, PolicyName: hubspot.PolicyTenSecondly},
		"423":                &hubspot.APIError{StatusCode: 423, Category: "LOCKED"},
		"connection refused": &hubspot.TransportError{Sent: false, Err: errors.New("connection refused")},
	}
	for name, refusal := range refusals {
		for _, keyed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, looked up first=%v", name, keyed), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					policy := DefaultPolicy
					policy.MaxAttempts = 3
					var finder Finder
					script := []error{&hubspot.APIError{StatusCode: 502}}
					if keyed {
						finder = &fakeFinder{known: map[string]string{}} // the lookup finds nothing: resent
						script = append(script, repeat(refusal, 3)...)
					} else {
						policy.RetryInDoubt = true
						script = append(script, repeat(refusal, 2)...)
					}
					f := &fakeHubSpot{script: script}
					rec := &memRecorder{}
					u := &Uploader{Sender: f, Recorder: rec, Finder: finder, Policy: policy, Workers: 1}
					if err := u.Run(context.Background(), feed(batchOf(1, 2))); err != nil {
						t.Fatal(err)
					}
					checkOnce(t, rec, 1, 2)
					for _, r := range []int{1, 2} {
						if o := rec.outs[r]; o.Status != report.InDoubt {
							t.Errorf("row %d = %+v, want in doubt", r, o)
						}
					}
					if len(f.script) != 0 {
						t.Errorf("%d scripted answers unused", len(f.script))
					}
				})
			})
		}
	}
}

// reservePacer grants n slots, then refuses with pacer.ErrDailyReserve.
type reservePacer struct{ n int }

func (p *reservePacer) Acquire(context.Context) (pacer.Release, error) {
	if p.n == 0 {
		return nil, pacer.ErrDailyReserve
	}
	p.n--
	return func(hubspot.RateLimit, bool, time.Duration) {}, nil
}

// TestSplitMeetsStop: a batch rejected as a whole is split, and the first
// half meets a stop; the second half must be recorded too, not lost.
func TestSplitMeetsStop(t *testing.T) {
	whole := &hubspot.APIError{StatusCode: 400, Category: "VALIDATION_ERROR", Message: "One or more associations are invalid"}
	cases := []struct {
		name   string
		script []error
		pacer  Pacer
		code   string
	}{
		{"429 DAILY", []error{whole, &hubspot.APIError{StatusCode: 429, PolicyName: hubspot.PolicyDaily}}, nil, "DAILY_LIMIT"},
		{"401", []error{whole, &hubspot.APIError{StatusCode: 401, Category: "INVALID_AUTHENTICATION"}}, nil, "INVALID_AUTHENTICATION"},
		{"477", []error{whole, &hubspot.APIError{StatusCode: 477}}, nil, "MIGRATION_IN_PROGRESS"},
		{"--daily-reserve", []error{whole}, &reservePacer{n: 1}, "DAILY_RESERVE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeHubSpot{script: tc.script}
			rec := &memRecorder{}
			u := &Uploader{Sender: f, Recorder: rec, Pacer: tc.pacer, Policy: DefaultPolicy, Workers: 1}
			err := u.Run(context.Background(), feed(batchOf(1, 2, 3, 4)))
			var se *StopError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Fatalf("err = %v, want a stop %s", err, tc.code)
			}
			checkOnce(t, rec, 1, 2, 3, 4)
			for r := 1; r <= 4; r++ {
				if o := rec.outs[r]; o.Status != report.NotSent || o.Code != report.CodeNotSent {
					t.Errorf("row %d = %+v, want NOT_SENT", r, o)
				}
			}
		})
	}
}

// failingJournal fails every Done; failingRecorder every Record.
type failingJournal struct{ logJournal }

var errDiskFull = errors.New("no space left on device")

func (*failingJournal) Done([]report.Outcome) error { return errDiskFull }

type failingRecorder struct{}

func (failingRecorder) Record(...report.Outcome) error { return errDiskFull }

// TestWriteErrorKeepsWhatHubSpotSaid: when the journal or the reports
// cannot be written after HubSpot created rows, the other still gets them,
// and the error says where they are.
func TestWriteErrorKeepsWhatHubSpotSaid(t *testing.T) {
	t.Run("journal fails", func(t *testing.T) {
		f := &fakeHubSpot{}
		rec := &memRecorder{}
		u := &Uploader{Sender: f, Recorder: rec, Journal: &failingJournal{logJournal{hub: f}}, Policy: DefaultPolicy, Workers: 1}
		err := u.Run(context.Background(), feed(batchOf(1, 2)))
		var re *RecordError
		if !errors.As(err, &re) || !errors.Is(err, errDiskFull) || re.Created != 2 || !strings.Contains(err.Error(), "reports hold them") {
			t.Fatalf("err = %v", err)
		}
		for _, r := range []int{1, 2} {
			if o := rec.outs[r]; o.Status != report.Created || o.ID == "" {
				t.Errorf("row %d = %+v, want created with its id in the reports", r, o)
			}
		}
	})
	t.Run("reports fail", func(t *testing.T) {
		f := &fakeHubSpot{}
		j := &logJournal{hub: f}
		u := &Uploader{Sender: f, Recorder: failingRecorder{}, Journal: j, Policy: DefaultPolicy, Workers: 1}
		err := u.Run(context.Background(), feed(batchOf(1, 2)))
		var re *RecordError
		if !errors.As(err, &re) || re.Journal != nil || !strings.Contains(err.Error(), "journal holds them") {
			t.Fatalf("err = %v", err)
		}
		if got := fmt.Sprint(j.calls); !strings.Contains(got, "done [1: 2:]") {
			t.Errorf("journal calls %s: the created rows are not in it", got)
		}
	})
}

// sequenceFinder answers each lookup from the next map of a list (the
// last one repeats), so a test can let a row appear between lookups; a
// nil map fails the lookup. It counts the lookups.
type sequenceFinder struct {
	mu    sync.Mutex
	known []map[string]string
	calls int
}

func (s *sequenceFinder) Find(_ context.Context, keys []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.known[min(s.calls, len(s.known)-1)]
	s.calls++
	if m == nil {
		return nil, errors.New("lookup unavailable")
	}
	out := map[string]string{}
	for _, k := range keys {
		if id, ok := m[k]; ok {
			out[k] = id
		}
	}
	return out, nil
}

// casedSequence is a sequenceFinder that also tells keys held in another
// case.
type casedSequence struct {
	*sequenceFinder
	cased map[string]string
}

func (f casedSequence) FindCased(ctx context.Context, keys []string) (map[string]string, map[string]string, error) {
	found, err := f.Find(ctx, keys)
	return found, heldInAnotherCase(keys, f.cased), err
}

// heldInAnotherCase is the part of cased (key → id of a record holding it
// in another case) that keys ask for.
func heldInAnotherCase(keys []string, cased map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if id, ok := cased[k]; ok {
			out[k] = id
		}
	}
	return out
}

// TestConflict: a unique-value conflict, reported as a 409 for the whole
// batch or as a per-row error in a 207, is narrowed down to the row that
// conflicts; the others are created. For a row an earlier request may have
// created, the conflict may be the row itself: it is looked up, and is
// created (with the id found), failed if a line item holds its key in
// another case, or else left in doubt (HubSpot may hold the earlier
// request's values before a read shows them). For a row sent for the first
// time it is a failure.
func TestConflict(t *testing.T) {
	cases := []struct {
		name   string
		first  error // the first answer; nil means the batch goes straight to the conflict
		finder []map[string]string
		cased  map[string]string // keys held in another case
		status report.Status
		id     string
		// requests is how many batch creates it takes, with a 409 for the
		// whole batch and with errors per row. A 409 is narrowed by halves
		// (4 → 2+2 → 1+1) once a lookup of the batch's keys finds none;
		// one that finds some sends the rest again together.
		requests [2]int
	}{
		{"first send: someone else's record", nil, []map[string]string{{}}, nil, report.Failed, "", [2]int{5, 1}},
		{"after a 502: the row itself", &hubspot.APIError{StatusCode: 502}, []map[string]string{{}, {"K3": "903"}}, nil, report.Created, "903", [2]int{3, 2}},
		{"after a 502: a key that differs in case", &hubspot.APIError{StatusCode: 502}, []map[string]string{{}}, map[string]string{"K3": "903"}, report.Failed, "", [2]int{6, 2}},
		{"after a 502: no record holds the key", &hubspot.APIError{StatusCode: 502}, []map[string]string{{}}, nil, report.InDoubt, "", [2]int{6, 2}},
	}
	for _, tc := range cases {
		for _, perRow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, per row=%v", tc.name, perRow), func(t *testing.T) {
				f := &fakeHubSpot{conflicts: map[string]string{"3": "903"}, perRow: perRow}
				if tc.first != nil {
					f.script = []error{tc.first}
				}
				finder := &sequenceFinder{known: tc.finder}
				rec := &memRecorder{}
				u := &Uploader{Sender: f, Recorder: rec, Finder: casedSequence{finder, tc.cased}, Policy: DefaultPolicy, Workers: 1}
				if err := u.Run(context.Background(), feed(batchOf(1, 2, 3, 4))); err != nil {
					t.Fatal(err)
				}
				checkOnce(t, rec, 1, 2, 3, 4)
				for _, r := range []int{1, 2, 4} {
					if o := rec.outs[r]; o.Status != report.Created {
						t.Errorf("innocent row %d = %+v, want created", r, o)
					}
				}
				o := rec.outs[3]
				if o.Status != tc.status || o.ID != tc.id {
					t.Errorf("row 3 = %+v, want %v %q", o, tc.status, tc.id)
				}
				if o.Status != report.Created && (o.Code != "CONFLICT" || !strings.Contains(o.Message, "Existing ID: 903")) {
					t.Errorf("row 3 = %+v, want CONFLICT naming the existing id", o)
				}
				if o.Status == report.InDoubt && !strings.Contains(o.Message, "may have created it") {
					t.Errorf("row 3 = %+v, want it to say why it is in doubt", o)
				}
				want := tc.requests[0]
				if perRow {
					want = tc.requests[1]
				}
				if len(f.bodies) != want {
					t.Errorf("%d requests, want %d", len(f.bodies), want)
				}
			})
		}
	}
}

// casedFinderFake is a fakeFinder that also tells keys held in another case.
type casedFinderFake struct {
	fakeFinder
	cased map[string]string
}

func (f *casedFinderFake) FindCased(ctx context.Context, keys []string) (map[string]string, map[string]string, error) {
	found, err := f.Find(ctx, keys)
	return found, heldInAnotherCase(keys, f.cased), err
}

// TestFoundAfterAResendIsRefused: rows an earlier run sent without a
// clear answer, not found at first, are sent again; HubSpot refuses one
// for its key, and the lookup that follows finds it. This run's request
// was refused, so the line item is the earlier run's: created earlier.
// The other row, created by this run's request, is created now.
func TestFoundAfterAResendIsRefused(t *testing.T) {
	for _, perRow := range []bool{false, true} {
		t.Run(fmt.Sprint("per row=", perRow), func(t *testing.T) {
			f := &fakeHubSpot{conflicts: map[string]string{"2": "902"}, perRow: perRow}
			b := batchOf(1, 2)
			b.Recheck = true
			for _, it := range b.Items {
				it.State.Resume()
			}
			finder := &sequenceFinder{known: []map[string]string{{}, {"K2": "902"}}}
			rec := &memRecorder{}
			u := &Uploader{Sender: f, Recorder: rec, Finder: finder, Policy: DefaultPolicy, Workers: 1}
			if err := u.Run(context.Background(), feed(b)); err != nil {
				t.Fatal(err)
			}
			checkOnce(t, rec, 1, 2)
			if o := rec.outs[1]; o.Status != report.Created || o.Earlier {
				t.Errorf("row 1 = %+v, want created by this run", o)
			}
			if o := rec.outs[2]; o.Status != report.Created || o.ID != "902" || !o.Earlier {
				t.Errorf("row 2 = %+v, want created earlier, as 902", o)
			}
		})
	}
}

// TestWordedConflict: a one-row refusal that only its words call a
// unique-value conflict is looked up by key. Found, the row is created.
// Not found, it failed for HubSpot's own reason, not as a conflict, and a
// row an earlier request may have created (a 502 first) stays in doubt:
// the words may quote the value sent, and that earlier request may still
// commit. A record holding the key in another case bears the words out.
func TestWordedConflict(t *testing.T) {
	quoted := &hubspot.APIError{StatusCode: 400, Category: "VALIDATION_ERROR",
		Message: `Property values were not valid: [{"isValid":false,"message":"Item already exists was not one of the allowed options","error":"INVALID_OPTION","name":"name"}]`}
	for _, tc := range []struct {
		name         string
		after502     bool
		known, cased map[string]string
		status       report.Status
		code         string
	}{
		{"first send, key found", false, map[string]string{"K1": "77"}, nil, report.Created, ""},
		{"first send, key not found", false, nil, nil, report.Failed, "INVALID_OPTION"},
		{"after a 502, key not found", true, nil, nil, report.InDoubt, ""},
		{"after a 502, key found", true, map[string]string{"K1": "77"}, nil, report.Created, ""},
		{"after a 502, key held in another case", true, nil, map[string]string{"K1": "78"}, report.Failed, "CONFLICT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				script := []error{quoted}
				finder := &casedFinderFake{fakeFinder: fakeFinder{known: map[string]string{}}, cased: tc.cased}
				if tc.after502 {
					// The 502, then a lookup that finds nothing, then the
					// resend that meets the refusal.
					script = []error{&hubspot.APIError{StatusCode: 502}, quoted}
				}
				f := &fakeHubSpot{script: script}
				rec := &memRecorder{}
				u := &Uploader{Sender: f, Recorder: rec, Finder: finder, Policy: DefaultPolicy, Workers: 1}
				// The key appears only with the last send (the refusal):
				// the lookup after the 502 finds nothing.
				sent := 0
				u.Sender = SenderFunc(func(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
					sent++
					if sent == len(script) {
						finder.mu.Lock()
						maps.Copy(finder.known, tc.known)
						finder.mu.Unlock()
					}
					return f.Send(ctx, body)
				})
				if err := u.Run(context.Background(), feed(batchOf(1))); err != nil {
					t.Fatal(err)
				}
				checkOnce(t, rec, 1)
				o := rec.outs[1]
				if o.Status != tc.status || (tc.code != "" && o.Code != tc.code) {
					t.Errorf("row 1 = %+v, want %s %s", o, tc.status, tc.code)
				}
				if o.Status == report.Created && o.ID != "77" {
					t.Errorf("created as %s, want the line item found, 77", o.ID)
				}
				if sent != len(script) {
					t.Errorf("%d sends, want %d", sent, len(script))
				}
			})
		})
	}
}

// TestRefusedBatch: a batch refused whole because a unique value is taken
// is read by its keys once: rows found are created with the ids found
// (earlier only if no request of this run may have created them), rows
// without a key go along with the rest, a lookup that fails or finds none
// splits the batch, and a second refusal splits it without another
// lookup. Every row is recorded once.
func TestRefusedBatch(t *testing.T) {
	keys := func(rows ...int) *chunker.Batch { // row 2 has no key
		items := make([]*chunker.Item, len(rows))
		for i, r := range rows {
			key := fmt.Sprint("K", r)
			if r == 2 {
				key = ""
			}
			items[i] = chunker.Encode(r, []string{fmt.Sprint("cell", r)}, key, hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": fmt.Sprint("n", r)})})
			items[i].Ident = fmt.Sprint(r)
		}
		return chunker.NewBatch(items)
	}
	for _, tc := range []struct {
		name      string
		script    []error             // answers before the fake's own
		conflicts map[string]string   // trace id → the line item holding the row's key
		finds     []map[string]string // the lookups' answers in turn; nil fails
		created   map[int]string      // rows created with the id found by the lookup
		earlier   map[int]bool        // of those, the ones created earlier
		failed    []int               // rows failed as conflicts
		doubt     []int               // rows in doubt
		lookups   int
	}{
		{name: "found rows are created earlier, the rest sent again",
			conflicts: map[string]string{"3": "903"}, finds: []map[string]string{{"K3": "903"}},
			created: map[int]string{3: "903"}, earlier: map[int]bool{3: true}, lookups: 1},
		{name: "after a 502 a row found is the row itself",
			script: []error{&hubspot.APIError{StatusCode: 502}}, conflicts: map[string]string{"3": "903"},
			finds: []map[string]string{{}, {"K3": "903"}}, created: map[int]string{3: "903"}, lookups: 2,
			doubt: []int{2}}, // after the 502, with no key to look it up by
		{name: "a lookup that fails splits the batch",
			conflicts: map[string]string{"3": "903"}, finds: []map[string]string{nil, {}},
			failed: []int{3}, lookups: 2},
		{name: "a second refusal splits without another lookup",
			conflicts: map[string]string{"1": "901", "3": "903"}, finds: []map[string]string{{"K1": "901"}, {}},
			created: map[int]string{1: "901"}, earlier: map[int]bool{1: true}, failed: []int{3}, lookups: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				conflicts := maps.Clone(tc.conflicts)
				f := &fakeHubSpot{script: tc.script, conflicts: conflicts}
				finder := &sequenceFinder{known: tc.finds}
				rec := &memRecorder{}
				// A row found by the lookup is created: the fake stops
				// refusing it.
				u := &Uploader{Recorder: rec, Finder: finder, Policy: DefaultPolicy, Workers: 1,
					Sender: SenderFunc(func(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
						f.mu.Lock()
						for r := range tc.created {
							if rec.outs[r].Status == report.Created {
								delete(f.conflicts, fmt.Sprint(r))
							}
						}
						f.mu.Unlock()
						return f.Send(ctx, body)
					})}
				if err := u.Run(context.Background(), feed(keys(1, 2, 3, 4))); err != nil {
					t.Fatal(err)
				}
				checkOnce(t, rec, 1, 2, 3, 4)
				for r := 1; r <= 4; r++ {
					o := rec.outs[r]
					switch {
					case slices.Contains(tc.doubt, r):
						if o.Status != report.InDoubt {
							t.Errorf("row %d = %+v, want in doubt", r, o)
						}
					case slices.Contains(tc.failed, r):
						if o.Status != report.Failed || o.Code != "CONFLICT" {
							t.Errorf("row %d = %+v, want failed as a conflict", r, o)
						}
					case tc.created[r] != "":
						if o.Status != report.Created || o.ID != tc.created[r] || o.Earlier != tc.earlier[r] {
							t.Errorf("row %d = %+v, want created as %s, earlier %v", r, o, tc.created[r], tc.earlier[r])
						}
					default:
						if o.Status != report.Created || o.Earlier {
							t.Errorf("row %d = %+v, want created by this run", r, o)
						}
					}
				}
				if finder.calls != tc.lookups {
					t.Errorf("%d lookups, want %d", finder.calls, tc.lookups)
				}
			})
		})
	}
}

// TestWordedConflictsPerRow: rows whose errors in a 207 say only in words
// that a value is taken are looked up together; each row not found fails
// for its own error.
func TestWordedConflictsPerRow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		worded := func(trace, msg string) hubspot.StandardError {
			return hubspot.StandardError{Status: "error", Category: "VALIDATION_ERROR", Message: msg, Context: map[string][]string{"objectWriteTraceId": {trace}}}
		}
		send := SenderFunc(func(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
			return &hubspot.BatchResult{StatusCode: 207, BatchResponse: hubspot.BatchResponse{
				Results: []hubspot.Created{{ID: "104", ObjectWriteTraceID: "4"}},
				Errors: []hubspot.StandardError{worded("1", "name: Alpha already exists was not one of the allowed options"),
					worded("2", "price: Beta already in use is not a number"), worded("3", "import_key: already has that value K3")}}}, nil
		})
		finder := &sequenceFinder{known: []map[string]string{{"K3": "903"}}}
		rec := &memRecorder{}
		u := &Uploader{Sender: send, Recorder: rec, Finder: finder, Policy: DefaultPolicy, Workers: 1}
		if err := u.Run(context.Background(), feed(batchOf(1, 2, 3, 4))); err != nil {
			t.Fatal(err)
		}
		checkOnce(t, rec, 1, 2, 3, 4)
		if o := rec.outs[1]; o.Status != report.Failed || !strings.Contains(o.Message, "Alpha") {
			t.Errorf("row 1 = %+v, want failed with its own message", o)
		}
		if o := rec.outs[2]; o.Status != report.Failed || !strings.Contains(o.Message, "Beta") {
			t.Errorf("row 2 = %+v, want failed with its own message", o)
		}
		if o := rec.outs[3]; o.Status != report.Created || o.ID != "903" || !o.Earlier {
			t.Errorf("row 3 = %+v, want created earlier as 903", o)
		}
		if finder.calls != 1 {
			t.Errorf("%d lookups, want one for the three rows", finder.calls)
		}
	})
}

// silentReader answers every batch read with a 200 that names neither a
// record nor a "not found" error for the keys asked: an answer that says
// nothing about them.
type silentReader struct{ reads int }

func (s *silentReader) BatchReadObjects(context.Context, string, hubspot.BatchReadRequest) (*hubspot.BatchReadResult, error) {
	s.reads++
	return &hubspot.BatchReadResult{StatusCode: 200}, nil
}

// TestSilentLookupKeepsRowInDoubt: row 1's create is committed but
// answered 504, so it may exist. Every lookup's answer is silent about its
// key. Read as "not found", the resend's 409 (the row's own record holds
// the key) would then prove another record holds the value, and the row,
// which exists, would be reported failed. A silent answer is a failed
// lookup: the row stays in doubt.
func TestSilentLookupKeepsRowInDoubt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeHubSpot{script: []error{
			&hubspot.APIError{StatusCode: 504, Message: "gateway timeout"},
			&hubspot.APIError{StatusCode: 409, Category: "CONFLICT", Message: "A line item with import_key K1 already exists"},
		}}
		rec := &memRecorder{}
		rd := &silentReader{}
		u := &Uploader{Sender: f, Recorder: rec, Policy: DefaultPolicy, Workers: 1,
			Finder: resolve.New(rd, "import_key", nil), KeyProperty: "import_key"}
		if err := u.Run(context.Background(), feed(batchOf(1))); err != nil {
			t.Fatal(err)
		}
		checkOnce(t, rec, 1)
		if o := rec.outs[1]; o.Status != report.InDoubt {
			t.Errorf("row 1, which its first request may have created, is %v (%s: %s) after lookups whose answers were silent about its key; want in doubt", o.Status, o.Code, o.Message)
		}
		if rd.reads == 0 {
			t.Error("no lookup was made")
		}
	})
}

// idlessReader answers a batch read with a record for every key asked,
// K2's without an id.
type idlessReader struct{}

func (idlessReader) BatchReadObjects(_ context.Context, _ string, req hubspot.BatchReadRequest) (*hubspot.BatchReadResult, error) {
	res := &hubspot.BatchReadResult{StatusCode: 200}
	for _, in := range req.Inputs {
		id := "90" + in.ID[1:]
		if in.ID == "K2" {
			id = ""
		}
		res.Results = append(res.Results, hubspot.Object{ID: id, Properties: map[string]string{"import_key": in.ID}})
	}
	return res, nil
}

// TestIdlessRecordIsNoProof: rows 1 and 2 get a 502 and are looked up;
// the read names a record for each key, K2's without an id. That record
// proves neither that row 2 exists (no id to report) nor that it does not:
// the answer is silent about K2, and the rows stay in doubt, each recorded
// once, and none is sent again. (Taken for found, row 2 failed Close after
// row 1 was closed and before it was recorded: row 1 was in no report.
// Taken for missing, row 2 was sent again.)
func TestIdlessRecordIsNoProof(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeHubSpot{script: []error{&hubspot.APIError{StatusCode: 502}}}
		rec := &memRecorder{}
		u := &Uploader{Sender: f, Recorder: rec, Policy: DefaultPolicy, Workers: 1,
			Finder: resolve.New(idlessReader{}, "import_key", nil), KeyProperty: "import_key"}
		if err := u.Run(context.Background(), feed(batchOf(1, 2))); err != nil {
			t.Fatal(err)
		}
		checkOnce(t, rec, 1, 2)
		for _, r := range []int{1, 2} {
			if o := rec.outs[r]; o.Status != report.InDoubt {
				t.Errorf("row %d: %v %q; want in doubt", r, o.Status, o.ID)
			}
		}
		if len(f.bodies) != 1 {
			t.Errorf("%d create requests; want the first alone", len(f.bodies))
		}
	})
}

// TestConcludeChecksEveryVerdictFirst: a wrong verdict (created without an
// id) for the second of two rows fails the call before the first row is
// closed, so that the first is still open for the stop to record; closed
// and not recorded, it would be lost.
func TestConcludeChecksEveryVerdictFirst(t *testing.T) {
	rec := &memRecorder{}
	u := &Uploader{Recorder: rec}
	items := batchOf(1, 2).Items
	err := u.concludeEach(items, func(i int) rowstate.Verdict {
		if i == 0 {
			return rowstate.Verdict{Kind: rowstate.Created, ID: "901"}
		}
		return rowstate.Verdict{Kind: rowstate.Created}
	})
	if err == nil {
		t.Fatal("a created verdict without an id was accepted")
	}
	for _, it := range items {
		if it.State.State() == rowstate.Closed {
			t.Errorf("row %d closed by a call that failed", it.Row)
		}
	}
	if len(rec.outs) != 0 {
		t.Errorf("recorded %v", rec.outs)
	}
}

// holderFinder is a sequenceFinder that also reads line items by id
// (holderReader): holders maps ids to the keys they hold; err fails every
// such read.
type holderFinder struct {
	*sequenceFinder
	holders map[string]string
	err     error
	reads   int
}

func (f *holderFinder) KeysOf(_ context.Context, ids []string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]string{}
	for _, id := range ids {
		if k, ok := f.holders[id]; ok {
			out[id] = k
		}
	}
	return out, nil
}

// TestConflictHolderRead: a row sent for the first time is refused
// because line item 903 holds one of its unique values, and a read by key
// does not find the row's key (reads may lag behind creates). Line item
// 903 is read by id: holding the row's key, it is the row, created
// earlier; holding another key, the row failed; not readable yet, or
// unreadable, the row may exist and stays in doubt.
func TestConflictHolderRead(t *testing.T) {
	cases := []struct {
		name    string
		holders map[string]string
		err     error
		status  report.Status
		id      string
		message string
	}{
		{"903 holds the row's key", map[string]string{"903": "K3"}, nil, report.Created, "903", ""},
		{"903 holds another key", map[string]string{"903": "K9"}, nil, report.Failed, "", `and another key ("K9")`},
		{"903 holds the key in another case", map[string]string{"903": "k3"}, nil, report.Failed, "", "in another case"},
		{"903 not readable yet", map[string]string{}, nil, report.InDoubt, "", "the row may exist"},
		{"reading 903 fails", nil, errors.New("read unavailable"), report.InDoubt, "", "reading line item 903 failed: read unavailable"},
	}
	for _, tc := range cases {
		for _, form := range []struct{ perRow, inContext bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			t.Run(fmt.Sprintf("%s, %+v", tc.name, form), func(t *testing.T) {
				f := &fakeHubSpot{conflicts: map[string]string{"3": "903"}, perRow: form.perRow, inContext: form.inContext}
				finder := &holderFinder{sequenceFinder: &sequenceFinder{known: []map[string]string{{}}}, holders: tc.holders, err: tc.err}
				rec := &memRecorder{}
				u := &Uploader{Sender: f, Recorder: rec, Finder: finder, Policy: DefaultPolicy, Workers: 1}
				if err := u.Run(context.Background(), feed(batchOf(1, 2, 3, 4))); err != nil {
					t.Fatal(err)
				}
				checkOnce(t, rec, 1, 2, 3, 4)
				o := rec.outs[3]
				if o.Status != tc.status || o.ID != tc.id || !strings.Contains(o.Message, tc.message) {
					t.Errorf("row 3 = %+v, want %v %q with %q", o, tc.status, tc.id, tc.message)
				}
				if tc.status == report.Created && !o.Earlier {
					t.Errorf("row 3 = %+v, want it created by an earlier request", o)
				}
				if finder.reads != 1 {
					t.Errorf("line items read by id %d times, want 1", finder.reads)
				}
			})
		}
	}
}

// TestConflictMessagesPerRow: rows of one batch refused each with its own
// conflict keep their own messages, each naming the line item that holds
// that row's value, whether the lookup that follows misses them (failed)
// or fails (in doubt).
func TestConflictMessagesPerRow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		known  map[string]string // nil: the lookup fails
		status report.Status
	}{
		{"not found", map[string]string{}, report.Failed},
		{"the lookup fails", nil, report.InDoubt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeHubSpot{conflicts: map[string]string{"2": "902", "3": "903", "4": "904"}, perRow: true}
			finder := &sequenceFinder{known: []map[string]string{tc.known}}
			rec := &memRecorder{}
			u := &Uploader{Sender: f, Recorder: rec, Finder: finder, Policy: DefaultPolicy, Workers: 1}
			if err := u.Run(context.Background(), feed(batchOf(1, 2, 3, 4))); err != nil {
				t.Fatal(err)
			}
			checkOnce(t, rec, 1, 2, 3, 4)
			for r, id := range map[int]string{2: "902", 3: "903", 4: "904"} {
				o := rec.outs[r]
				if o.Status != tc.status || !strings.Contains(o.Message, "Existing ID: "+id) {
					t.Errorf("row %d = %+v, want %v naming line item %s", r, o, tc.status, id)
				}
			}
		})
	}
}

// TestWordedKeyTaken: a row whose errors say in words that its key is
// taken, and whose key no read shows yet (reads lag behind creates), may
// exist: it is in doubt, whatever the order of its errors; a row whose
// words name only another property failed for HubSpot's own reason.
func TestWordedKeyTaken(t *testing.T) {
	keyTaken := hubspot.StandardError{Status: "error", Category: "VALIDATION_ERROR", Message: "Invalid input",
		Errors:  []hubspot.ErrorDetail{{Message: "another line item already has that value", In: "import_key"}},
		Context: map[string][]string{"objectWriteTraceId": {"3"}}}
	skuTaken := hubspot.StandardError{Status: "error", Category: "VALIDATION_ERROR", Message: "Invalid input",
		Errors:  []hubspot.ErrorDetail{{Message: "another line item already has that value", In: "hs_sku"}},
		Context: map[string][]string{"objectWriteTraceId": {"3"}}}
	for _, tc := range []struct {
		name   string
		errs   []hubspot.StandardError
		status report.Status
	}{
		{"the key", []hubspot.StandardError{keyTaken}, report.InDoubt},
		{"the key, then another property", []hubspot.StandardError{keyTaken, skuTaken}, report.InDoubt},
		{"another property, then the key", []hubspot.StandardError{skuTaken, keyTaken}, report.InDoubt},
		{"another property", []hubspot.StandardError{skuTaken}, report.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				send := SenderFunc(func(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
					return &hubspot.BatchResult{StatusCode: 207, BatchResponse: hubspot.BatchResponse{
						Results: []hubspot.Created{{ID: "101", ObjectWriteTraceID: "1"}, {ID: "102", ObjectWriteTraceID: "2"}},
						Errors:  tc.errs}}, nil
				})
				finder := &sequenceFinder{known: []map[string]string{{}}}
				rec := &memRecorder{}
				u := &Uploader{Sender: send, Recorder: rec, Finder: finder, Policy: DefaultPolicy, Workers: 1, KeyProperty: "import_key"}
				if err := u.Run(context.Background(), feed(batchOf(1, 2, 3))); err != nil {
					t.Fatal(err)
				}
				checkOnce(t, rec, 1, 2, 3)
				if o := rec.outs[3]; o.Status != tc.status || o.Code != "VALIDATION_ERROR" {
					t.Errorf("row 3 = %+v, want %v (VALIDATION_ERROR)", o, tc.status)
				}
				if finder.calls != 1 {
					t.Errorf("%d lookups, want 1", finder.calls)
				}
			})
		})
	}
}

// TestOwnCodeWhenLookupFails: rows of one answer refused each with its own
// worded error keep their own code and message when the lookup that
// follows fails.
func TestOwnCodeWhenLookupFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		send := SenderFunc(func(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
			return &hubspot.BatchResult{StatusCode: 207, BatchResponse: hubspot.BatchResponse{
				Results: []hubspot.Created{{ID: "103", ObjectWriteTraceID: "3"}},
				Errors: []hubspot.StandardError{
					{Status: "error", Category: "VALIDATION_ERROR", Message: "name: Alpha already exists",
						Context: map[string][]string{"objectWriteTraceId": {"1"}}},
					{Status: "error", Category: "VALIDATION_ERROR", Message: "name: Beta already in use",
						Errors:  []hubspot.ErrorDetail{{Code: "INVALID_OPTION", Message: "Beta already in use", In: "name"}},
						Context: map[string][]string{"objectWriteTraceId": {"2"}}}}}}, nil
		})
		finder := &sequenceFinder{known: []map[string]string{nil}}
		rec := &memRecorder{}
		u := &Uploader{Sender: send, Recorder: rec, Finder: finder, Policy: DefaultPolicy, Workers: 1}
		if err := u.Run(context.Background(), feed(batchOf(1, 2, 3))); err != nil {
			t.Fatal(err)
		}
		checkOnce(t, rec, 1, 2, 3)
		for r, want := range map[int][2]string{1: {"VALIDATION_ERROR", "Alpha"}, 2: {"INVALID_OPTION", "Beta"}} {
			if o := rec.outs[r]; o.Status != report.InDoubt || o.Code != want[0] || !strings.Contains(o.Message, want[1]) || !strings.Contains(o.Message, "looking the row up by its key failed") {
				t.Errorf("row %d = %+v, want in doubt with %s and its own message", r, o, want[0])
			}
		}
	})
}
