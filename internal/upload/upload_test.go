package upload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"sort"
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

func batchOf(rows ...int) *chunker.Batch {
	items := make([]*chunker.Item, len(rows))
	for i, r := range rows {
		items[i] = chunker.Encode(r, []string{fmt.Sprint("cell", r)}, fmt.Sprint("K", r), hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": fmt.Sprint("n", r)})})
		items[i].Ident = fmt.Sprint(r)
	}
	return chunker.NewBatch(items)
}

// fakeFinder knows some keys; err makes every lookup fail.
type fakeFinder struct {
	mu    sync.Mutex
	known map[string]string
	err   error
	calls int
}

func (f *fakeFinder) Find(_ context.Context, keys []string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]string{}
	for _, k := range keys {
		if id, ok := f.known[k]; ok {
			out[k] = id
		}
	}
	return out, nil
}

func TestOutcomes(t *testing.T) {
	b := batchOf(1, 2, 3, 4, 5)
	res := &hubspot.BatchResult{StatusCode: 207, BatchResponse: hubspot.BatchResponse{
		// Out of order, one unknown trace id, one result without an id, one row given two ids.
		Results: []hubspot.Created{{ID: "105", ObjectWriteTraceID: "5"}, {ID: "101", ObjectWriteTraceID: "1"},
			{ID: "999", ObjectWriteTraceID: "77"}, {ID: "", ObjectWriteTraceID: "4"}, {ID: "102", ObjectWriteTraceID: "1"}},
		Errors: []hubspot.StandardError{{Category: "VALIDATION_ERROR", Message: "bad",
			Context: map[string][]string{"objectWriteTraceId": {"2"}}, Errors: []hubspot.ErrorDetail{{Code: "INVALID_OPTION", Message: "x"}}}},
	}}
	outs := Outcomes(b.Items, res, "")
	want := []rowstate.Verdict{
		{Kind: rowstate.Doubt, Code: codeContradiction, Message: "HubSpot's answer gave this row two ids, 101 and 102"},
		{Kind: rowstate.Failed, Code: "INVALID_OPTION", Message: "bad"},
		{Kind: rowstate.Doubt, Code: "MISSING_RESULT", Message: unmatchedResults(1)}, // trace id 77's
		{Kind: rowstate.Doubt, Code: "MISSING_RESULT", Message: unmatchedResults(1)},
		{Kind: rowstate.Created, ID: "105"},
	}
	if len(outs) != len(want) {
		t.Fatalf("%d verdicts for %d rows", len(outs), len(want))
	}
	for i, w := range want {
		if outs[i] != w {
			t.Errorf("row %d: %+v, want %+v", i+1, outs[i], w)
		}
	}
}

// TestOutcomesWithErrors: how the per-row errors of a 207 decide their
// rows: by their status, the more cautious of two errors for one row, and
// in doubt where a result of the same answer also names the row.
func TestOutcomesWithErrors(t *testing.T) {
	rowErr := func(trace, status, code string) hubspot.StandardError {
		return hubspot.StandardError{Status: status, Category: "VALIDATION_ERROR", Message: "m" + status,
			Context: map[string][]string{"objectWriteTraceId": {trace}}, Errors: []hubspot.ErrorDetail{{Code: code}}}
	}
	for _, tc := range []struct {
		name     string
		results  []hubspot.Created
		errors   []hubspot.StandardError
		kind     rowstate.Kind
		code     string
		contains string
	}{
		{"a 400", nil, []hubspot.StandardError{rowErr("1", "400", "INVALID_OPTION")}, rowstate.Failed, "INVALID_OPTION", "m400"},
		{"a 500", nil, []hubspot.StandardError{rowErr("1", "500", "")}, rowstate.Doubt, "HTTP_500", "may have created"},
		{"a 408 inside an answer", nil, []hubspot.StandardError{rowErr("1", "408", "")}, rowstate.Doubt, "HTTP_408", "may have created"},
		{"a 429", nil, []hubspot.StandardError{rowErr("1", "429", "")}, rowstate.NotSent, "HTTP_429", "unprocessed"},
		{"a 423", nil, []hubspot.StandardError{rowErr("1", "423", "")}, rowstate.NotSent, "HTTP_423", "unprocessed"},
		{"a 400, then a 500", nil, []hubspot.StandardError{rowErr("1", "400", "INVALID_OPTION"), rowErr("1", "500", "")}, rowstate.Doubt, "HTTP_500", "may have created"},
		{"a 500, then a 400", nil, []hubspot.StandardError{rowErr("1", "500", ""), rowErr("1", "400", "INVALID_OPTION")}, rowstate.Doubt, "HTTP_500", "may have created"},
		{"a 429, then a 503", nil, []hubspot.StandardError{rowErr("1", "429", ""), rowErr("1", "503", "")}, rowstate.Doubt, "HTTP_503", "may have created"},
		{"a 400, then a 429", nil, []hubspot.StandardError{rowErr("1", "400", "INVALID_OPTION"), rowErr("1", "429", "")}, rowstate.NotSent, "HTTP_429", "unprocessed"},
		{"a result and an error", []hubspot.Created{{ID: "101", ObjectWriteTraceID: "1"}}, []hubspot.StandardError{rowErr("1", "400", "INVALID_OPTION")},
			rowstate.Doubt, codeContradiction, "the id 101 and an error"},
		{"an error and a result", []hubspot.Created{{ID: "101", ObjectWriteTraceID: "1"}}, []hubspot.StandardError{rowErr("1", "400", "INVALID_OPTION"), rowErr("1", "429", "")},
			rowstate.Doubt, codeContradiction, "the id 101 and an error"},
		{"a result without an id and an error", []hubspot.Created{{ObjectWriteTraceID: "1"}}, []hubspot.StandardError{rowErr("1", "400", "INVALID_OPTION")},
			rowstate.Doubt, codeContradiction, "a result without an id"},
		{"a result without an id", []hubspot.Created{{ObjectWriteTraceID: "1"}}, nil, rowstate.Doubt, codeMissingResult, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := batchOf(1, 2)
			res := &hubspot.BatchResult{StatusCode: 207, BatchResponse: hubspot.BatchResponse{
				Results: append(tc.results, hubspot.Created{ID: "102", ObjectWriteTraceID: "2"}), Errors: tc.errors}}
			outs := Outcomes(b.Items, res, "")
			if o := outs[0]; o.Kind != tc.kind || o.Code != tc.code || !strings.Contains(o.Message, tc.contains) {
				t.Errorf("row 1: %+v, want %v %s saying %q", o, tc.kind, tc.code, tc.contains)
			}
			if o := outs[1]; o.Kind != rowstate.Created || o.ID != "102" {
				t.Errorf("row 2: %+v, want created 102", o)
			}
		})
	}
}

// TestOutcomesByKey: create results without an objectWriteTraceId are
// matched to their rows by the key property's value, exactly: keys that
// differ only in case each get their own line item's id, a result holding
// another case of a row's key is not that row's, a result with a trace id
// is matched by it alone, and a row that a traced result and an untraced
// one both claim, with two ids, is in doubt.
func TestOutcomesByKey(t *testing.T) {
	keyed := func(rows []int, keys ...string) []*chunker.Item {
		items := make([]*chunker.Item, len(rows))
		for i, r := range rows {
			items[i] = chunker.Encode(r, []string{keys[i]}, keys[i], hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"k": keys[i]})})
		}
		return items
	}
	result := func(id, trace, key string) hubspot.Created {
		return hubspot.Created{ID: id, ObjectWriteTraceID: trace, Properties: json.RawMessage(fmt.Sprintf(`{"k":%q,"name":"x"}`, key))}
	}
	created := func(id string) rowstate.Verdict { return rowstate.Verdict{Kind: rowstate.Created, ID: id} }
	doubt := rowstate.Verdict{Kind: rowstate.Doubt, Code: codeMissingResult, Message: msgMissingResult}
	for _, tc := range []struct {
		name    string
		items   []*chunker.Item
		results []hubspot.Created
		want    []rowstate.Verdict
	}{
		{"keys that differ only in case", keyed([]int{1, 2}, "ABC-1", "abc-1"),
			[]hubspot.Created{result("202", "", "abc-1"), result("201", "", "ABC-1")}, []rowstate.Verdict{created("201"), created("202")}},
		{"another case of the key", keyed([]int{1}, "ABC-1"),
			[]hubspot.Created{result("201", "", "abc-1")}, []rowstate.Verdict{doubt}},
		{"an unknown trace id", keyed([]int{1}, "ABC-1"),
			[]hubspot.Created{result("201", "77", "ABC-1")}, []rowstate.Verdict{doubt}},
		{"two ids for one row", keyed([]int{1, 2}, "A", "B"),
			[]hubspot.Created{result("299", "", "A"), result("201", "1", "A"), result("202", "2", "B")},
			[]rowstate.Verdict{{Kind: rowstate.Doubt, Code: codeContradiction, Message: "HubSpot's answer gave this row two ids, 201 and 299"}, created("202")}},
		{"the same id twice", keyed([]int{1}, "A"),
			[]hubspot.Created{result("201", "", "A"), result("201", "1", "A")}, []rowstate.Verdict{created("201")}},
		{"no key property value", keyed([]int{1}, "A"),
			[]hubspot.Created{{ID: "201"}}, []rowstate.Verdict{doubt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outs := Outcomes(tc.items, &hubspot.BatchResult{StatusCode: 201, BatchResponse: hubspot.BatchResponse{Results: tc.results}}, "k")
			for i, w := range tc.want {
				if !sameVerdict(outs[i], w) {
					t.Errorf("row %d: %+v, want %+v", i+1, outs[i], w)
				}
			}
		})
	}
}

// fakeHubSpot answers batch creates from a script of errors, then creates
// every input. It records the bodies it received.
type fakeHubSpot struct {
	mu     sync.Mutex
	omit   map[string]bool // trace ids answered with neither a result nor an error
	script []error
	reject func(traces []string) error // whole-batch rejection, checked after the script
	// conflicts maps trace ids to the id of a line item that holds the
	// row's unique value: a 409 for the whole batch, or with perRow a
	// per-row CONFLICT error in a 207.
	conflicts map[string]string
	perRow    bool
	// inContext: a conflict names the line item holding the value in its
	// context's existingId only, its message saying "Line item already
	// exists." alone.
	inContext bool
	// rowStatus maps trace ids to the status of a per-row error each is
	// answered with in a 207 ("500", "429", "error", ...).
	rowStatus map[string]string
	bodies    [][]byte
	nextID    int
}

func (f *fakeHubSpot) Send(_ context.Context, body []byte) (*hubspot.BatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, body)
	if len(f.script) > 0 {
		err := f.script[0]
		f.script = f.script[1:]
		if err != nil {
			return nil, err
		}
	}
	var req hubspot.BatchCreateRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var traces []string
	for _, in := range req.Inputs {
		traces = append(traces, in.ObjectWriteTraceID)
	}
	if f.reject != nil {
		if err := f.reject(traces); err != nil {
			return nil, err
		}
	}
	res := &hubspot.BatchResult{StatusCode: 201}
	for _, tr := range traces {
		id, ok := f.conflicts[tr]
		if !ok {
			continue
		}
		msg := "Line item already exists. Existing ID: " + id
		ctx := map[string][]string{"objectWriteTraceId": {tr}}
		if f.inContext {
			msg = "Line item already exists."
			ctx["existingId"] = []string{id}
		}
		if !f.perRow {
			return nil, &hubspot.APIError{StatusCode: 409, Category: "CONFLICT", Message: msg, Context: ctx}
		}
		res.StatusCode = 207
		res.Errors = append(res.Errors, hubspot.StandardError{Status: "error", Category: "CONFLICT", Message: msg,
			Context: ctx})
	}
	for _, tr := range traces {
		if st, ok := f.rowStatus[tr]; ok {
			res.StatusCode = 207
			res.Errors = append(res.Errors, hubspot.StandardError{Status: st, Category: "SOMETHING", Message: "went wrong",
				Context: map[string][]string{"objectWriteTraceId": {tr}}})
		}
	}
	for _, tr := range traces {
		if _, ok := f.conflicts[tr]; f.omit[tr] || ok || f.rowStatus[tr] != "" {
			continue
		}
		f.nextID++
		res.Results = append(res.Results, hubspot.Created{ID: strconv.Itoa(1000 + f.nextID), ObjectWriteTraceID: tr})
	}
	return res, nil
}

type memRecorder struct {
	mu   sync.Mutex
	outs map[int]report.Outcome
	dups []int
}

func (m *memRecorder) Record(outs ...report.Outcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.outs == nil {
		m.outs = map[int]report.Outcome{}
	}
	for _, o := range outs {
		if _, ok := m.outs[o.Row]; ok {
			m.dups = append(m.dups, o.Row)
		}
		m.outs[o.Row] = o
	}
	return nil
}

func (m *memRecorder) statuses() map[report.Status][]int {
	out := map[report.Status][]int{}
	for r, o := range m.outs {
		out[o.Status] = append(out[o.Status], r)
	}
	for _, v := range out {
		sort.Ints(v)
	}
	return out
}

func feed(bs ...*chunker.Batch) <-chan *chunker.Batch {
	ch := make(chan *chunker.Batch, len(bs))
	for _, b := range bs {
		ch <- b
	}
	close(ch)
	return ch
}

func TestUploaderRetriesWithSameBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeHubSpot{script: []error{
			&hubspot.APIError{StatusCode: 429, PolicyName: hubspot.PolicyTenSecondly, RetryAfter: 2 * time.Second},
			&hubspot.TransportError{Sent: false, Err: errors.New("connection refused")},
			&hubspot.TransportError{Sent: false, Err: errors.New("connection refused")},
			&hubspot.TransportError{Sent: false, Err: errors.New("connection refused")},
		}}
		rec := &memRecorder{}
		u := &Uploader{Sender: f, Recorder: rec, Policy: DefaultPolicy, Workers: 1, Jitter: func() float64 { return 0 }}
		start := time.Now()
		if err := u.Run(context.Background(), feed(batchOf(1, 2, 3))); err != nil {
			t.Fatal(err)
		}
		if got := rec.statuses()[report.Created]; len(got) != 3 {
			t.Fatalf("created %v", got)
		}
		for i, b := range f.bodies {
			if string(b) != string(f.bodies[0]) {
				t.Errorf("attempt %d sent different bytes", i+1)
			}
		}
		st := u.Stats()
		if st.Requests != 5 || st.Retries != 4 || st.Throttled != 1 {
			t.Errorf("stats = %+v", st)
		}
		// On the fake clock: 2s (Retry-After beats the 0.5s backoff), then half of
		// 0.5s·2^(n-1) for attempts 2, 3 and 4 (equal jitter at 0): 0.5s, 1s, 2s.
		if el := time.Since(start); el != 5500*time.Millisecond {
			t.Errorf("waited %v", el)
		}
	})
}

func TestUploaderSplitsWholeBatchRejection(t *testing.T) {
	f := &fakeHubSpot{reject: func(traces []string) error {
		for _, tr := range traces {
			if tr == "6" {
				return &hubspot.APIError{StatusCode: 400, Category: "VALIDATION_ERROR", Message: "One or more associations are invalid"}
			}
		}
		return nil
	}}
	rec := &memRecorder{}
	u := &Uploader{Sender: f, Recorder: rec, Policy: DefaultPolicy, Workers: 2}
	if err := u.Run(context.Background(), feed(batchOf(1, 2, 3, 4, 5, 6, 7, 8), batchOf(9, 10))); err != nil {
		t.Fatal(err)
	}
	st := rec.statuses()
	if len(st[report.Created]) != 9 || len(st[report.Failed]) != 1 || st[report.Failed][0] != 6 {
		t.Fatalf("statuses = %v", st)
	}
	if o := rec.outs[6]; o.Code != "VALIDATION_ERROR" || o.Message != "One or more associations are invalid" {
		t.Errorf("row 6 = %+v", o)
	}
	// 8 → 4+4 → 2+2 → 1+1: 1 + 2 + 2 + 2 requests for the first batch, 1 for the second.
	if n := u.Stats().Requests; n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
	if len(rec.dups) > 0 {
		t.Errorf("rows recorded twice: %v", rec.dups)
	}
}

// TestPerRowErrorStatus: a per-row error's status says what became of
// its row. A 5xx may come after the row was written: in doubt, and looked
// up by key when there is a Finder. A 429 refused it unprocessed: not
// sent. Any other (HubSpot writes "error") fails it. Each unclear row
// keeps its own reason.
func TestPerRowErrorStatus(t *testing.T) {
	for _, withFinder := range []bool{false, true} {
		t.Run(fmt.Sprint("finder=", withFinder), func(t *testing.T) {
			b := batchOf(1, 2, 3, 4, 5)
			tr := func(i int) string { return b.Items[i].TraceID() }
			f := &fakeHubSpot{omit: map[string]bool{tr(2): true},
				rowStatus: map[string]string{tr(1): "500", tr(3): "429", tr(4): "error"}}
			rec := &memRecorder{}
			u := &Uploader{Sender: f, Recorder: rec, Policy: DefaultPolicy, Workers: 1}
			var finder *fakeFinder
			if withFinder {
				finder = &fakeFinder{known: map[string]string{"K2": "777"}}
				u.Finder = finder
			}
			if err := u.Run(context.Background(), feed(b)); err != nil {
				t.Fatal(err)
			}
			want := map[int]struct {
				status report.Status
				code   string
			}{
				1: {report.Created, ""},
				2: {report.InDoubt, "HTTP_500"},
				3: {report.InDoubt, codeMissingResult},
				4: {report.NotSent, "HTTP_429"},
				5: {report.Failed, "SOMETHING"},
			}
			if withFinder {
				want[2] = struct {
					status report.Status
					code   string
				}{report.Created, ""}
			}
			for r, w := range want {
				o := rec.outs[r]
				if o.Status != w.status || o.Code != w.code {
					t.Errorf("row %d: %s %s (%s), want %s %s", r, o.Status, o.Code, o.Message, w.status, w.code)
				}
			}
			if o := rec.outs[2]; withFinder && o.ID != "777" {
				t.Errorf("row 2: id %q, want the one the lookup found, 777", o.ID)
			}
			if o := rec.outs[2]; !withFinder && (!strings.Contains(o.Message, "status 500") || strings.Count(o.Message, "may have created") != 1) {
				t.Errorf("row 2's message %q does not give the status, or does not say once that HubSpot may have created it", o.Message)
			}
		})
	}
}

func TestUploaderInDoubtAndStop(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		policy   Policy
		want     report.Status
		wantCode string
		stop     bool
	}{
		{"502 is in doubt", &hubspot.APIError{StatusCode: 502}, DefaultPolicy, report.InDoubt, "HTTP_502", false},
		{"lost after send is in doubt", &hubspot.TransportError{Sent: true, Err: errors.New("EOF")}, DefaultPolicy, report.InDoubt, "NO_ANSWER", false},
		{"401 stops", &hubspot.APIError{StatusCode: 401, Category: "INVALID_AUTHENTICATION"}, DefaultPolicy, report.NotSent, "NOT_SENT", true},
		{"daily limit stops", &hubspot.APIError{StatusCode: 429, PolicyName: hubspot.PolicyDaily}, DefaultPolicy, report.NotSent, "NOT_SENT", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeHubSpot{script: []error{tc.err}}
			rec := &memRecorder{}
			u := &Uploader{Sender: f, Recorder: rec, Policy: tc.policy, Workers: 1}
			err := u.Run(context.Background(), feed(batchOf(1, 2)))
			var se *StopError
			if tc.stop != errors.As(err, &se) {
				t.Fatalf("err = %v, stop = %v", err, tc.stop)
			}
			for _, r := range []int{1, 2} {
				o := rec.outs[r]
				if o.Status != tc.want || o.Code != tc.wantCode {
					t.Errorf("row %d = %+v", r, o)
				}
				if n := strings.Count(o.Message, "may have created"); o.Status == report.InDoubt && n != 1 {
					t.Errorf("row %d's message says %d times that HubSpot may have created it, want once: %q", r, n, o.Message)
				}
			}
		})
	}
}

func TestUploaderStopsTakingBatchesOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeHubSpot{script: []error{&hubspot.TransportError{Sent: false, Err: errors.New("connection refused")}}}
		rec := &memRecorder{}
		u := &Uploader{Sender: f, Recorder: rec, Policy: DefaultPolicy, Workers: 1, Jitter: func() float64 { return 0 }}
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan *chunker.Batch, 2)
		ch <- batchOf(1)
		ch <- batchOf(2)
		close(ch)
		go func() {
			time.Sleep(100 * time.Millisecond) // during the backoff after the refused connection
			cancel()
		}()
		err := u.Run(ctx, ch)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if err := u.Drain(ch, "stopped"); err != nil {
			t.Fatal(err)
		}
		for _, r := range []int{1, 2} {
			if o := rec.outs[r]; o.Status != report.NotSent || o.Code != "NOT_SENT" {
				t.Errorf("row %d = %+v", r, o)
			}
		}
		if len(f.bodies) != 1 {
			t.Errorf("%d requests after cancel, want 1", len(f.bodies))
		}
	})
}

// TestDiscard: rows of a batch the run stops before sending are not sent,
// so a later run sends them; rows an earlier run sent without a clear
// answer stay in doubt, so a later run looks them up first.
func TestDiscard(t *testing.T) {
	recheck := batchOf(3, 4)
	recheck.Recheck = true
	for _, it := range recheck.Items {
		it.State.Resume()
	}
	for _, tc := range []struct {
		b    *chunker.Batch
		st   report.Status
		code string
	}{
		{batchOf(1, 2), report.NotSent, report.CodeNotSent},
		{recheck, report.InDoubt, "NO_ANSWER"},
	} {
		rec := &memRecorder{}
		u := &Uploader{Recorder: rec}
		if err := u.Discard(tc.b, "stopped"); err != nil {
			t.Fatal(err)
		}
		if len(rec.outs) != len(tc.b.Items) {
			t.Fatalf("%d outcomes for %d rows", len(rec.outs), len(tc.b.Items))
		}
		for _, it := range tc.b.Items {
			if o := rec.outs[it.Row]; o.Status != tc.st || o.Code != tc.code || o.Message == "" {
				t.Errorf("recheck=%v: %+v, want status %v code %s", tc.b.Recheck, o, tc.st, tc.code)
			}
		}
		if err := u.Discard(tc.b, "again"); !errors.Is(err, rowstate.ErrClosed) {
			t.Errorf("discarding the rows again: %v, want ErrClosed", err)
		}
	}
}

func TestSettleRowsWithoutAClearAnswer(t *testing.T) {
	cases := []struct {
		name        string
		hub         *fakeHubSpot
		finder      *fakeFinder
		wantCreated []int
		wantDoubt   []int
		wantIDs     map[int]string // ids that must come from the lookup
		wantResent  int            // bodies sent after the first
	}{
		{
			name:        "502: found rows are created, the rest resent",
			hub:         &fakeHubSpot{script: []error{&hubspot.APIError{StatusCode: 502}}},
			finder:      &fakeFinder{known: map[string]string{"K1": "900", "K3": "903"}},
			wantCreated: []int{1, 2, 3, 4}, wantIDs: map[int]string{1: "900", 3: "903"}, wantResent: 1,
		},
		{
			name:        "dropped after send: all found, nothing resent",
			hub:         &fakeHubSpot{script: []error{&hubspot.TransportError{Sent: true, Err: errors.New("EOF")}}},
			finder:      &fakeFinder{known: map[string]string{"K1": "1", "K2": "2", "K3": "3", "K4": "4"}},
			wantCreated: []int{1, 2, 3, 4}, wantIDs: map[int]string{1: "1", 2: "2", 3: "3", 4: "4"},
		},
		{
			name:        "a row missing from a 201 is looked up",
			hub:         &fakeHubSpot{omit: map[string]bool{"2": true}},
			finder:      &fakeFinder{known: map[string]string{"K2": "777"}},
			wantCreated: []int{1, 2, 3, 4}, wantIDs: map[int]string{2: "777"},
		},
		{
			name:      "a failed lookup leaves rows in doubt and sends nothing more",
			hub:       &fakeHubSpot{script: []error{&hubspot.APIError{StatusCode: 504}}},
			finder:    &fakeFinder{err: errors.New("search unavailable")},
			wantDoubt: []int{1, 2, 3, 4},
		},
		{
			name: "a conflict on the resend is split until the rows that conflict stand alone",
			hub: &fakeHubSpot{script: []error{&hubspot.APIError{StatusCode: 502},
				&hubspot.APIError{StatusCode: 409, Category: "CONFLICT", Message: "Line item already exists. Existing ID: 5"}}},
			finder:      &fakeFinder{known: map[string]string{}},
			wantCreated: []int{1, 2, 3, 4}, wantResent: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &memRecorder{}
				u := &Uploader{Sender: tc.hub, Recorder: rec, Finder: tc.finder, Policy: DefaultPolicy, Workers: 1, SettleDelay: time.Second}
				if err := u.Run(context.Background(), feed(batchOf(1, 2, 3, 4))); err != nil {
					t.Fatal(err)
				}
				st := rec.statuses()
				if fmt.Sprint(st[report.Created]) != fmt.Sprint(tc.wantCreated) || fmt.Sprint(st[report.InDoubt]) != fmt.Sprint(tc.wantDoubt) {
					t.Fatalf("statuses %v", st)
				}
				for row, id := range tc.wantIDs {
					if rec.outs[row].ID != id {
						t.Errorf("row %d id %q, want %q from the lookup", row, rec.outs[row].ID, id)
					}
					if rec.outs[row].Earlier { // this run's unclear request may have created it
						t.Errorf("row %d found after an unclear answer is labelled earlier, want now", row)
					}
				}
				if got := len(tc.hub.bodies) - 1; got != tc.wantResent {
					t.Errorf("%d resends, want %d", got, tc.wantResent)
				}
				if len(rec.dups) > 0 {
					t.Errorf("rows recorded twice: %v", rec.dups)
				}
			})
		})
	}
}

// logJournal records the calls an Uploader makes to its journal, in order,
// and when each Sent or Await was made, whether a request had been sent.
type logJournal struct {
	mu    sync.Mutex
	calls []string
	hub   *fakeHubSpot
}

func (l *logJournal) log(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
}

func (l *logJournal) requests() int {
	l.hub.mu.Lock()
	defer l.hub.mu.Unlock()
	return len(l.hub.bodies)
}

func (l *logJournal) Sent(idents []string) error {
	l.log("sent %v after %d requests", idents, l.requests())
	return nil
}

func (l *logJournal) Await(t uint64) error {
	l.log("await %d after %d requests", t, l.requests())
	return nil
}

func (l *logJournal) Cancel(t uint64) { l.log("cancel %d", t) }

func (l *logJournal) Done(outs []report.Outcome) error {
	var rows []string
	for _, o := range outs {
		rows = append(rows, fmt.Sprintf("%s:%s", o.Ident, o.Code)) // the identity the journal records it under
	}
	l.log("done %v", rows)
	return nil
}

// blockedPacer admits nothing until ctx ends.
type blockedPacer struct{}

func (blockedPacer) Acquire(ctx context.Context) (pacer.Release, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestUploaderJournal: a batch handed over with a journal ticket awaits
// its queued record before it is sent; the halves of a split batch record
// themselves; a batch that never gets a slot from the pacer is not on
// record as sent: its queued record is cancelled and its rows recorded as
// not sent.
func TestUploaderJournal(t *testing.T) {
	t.Run("ticket, then split halves", func(t *testing.T) {
		f := &fakeHubSpot{reject: func(traces []string) error {
			if len(traces) > 1 {
				return &hubspot.APIError{StatusCode: 400, Category: "VALIDATION_ERROR", Message: "One or more associations are invalid"}
			}
			return nil
		}}
		j := &logJournal{hub: f}
		b := batchOf(1, 2)
		b.Ticket = 7
		u := &Uploader{Sender: f, Recorder: &memRecorder{}, Journal: j, Policy: DefaultPolicy, Workers: 1}
		if err := u.Run(context.Background(), feed(b)); err != nil {
			t.Fatal(err)
		}
		want := []string{"await 7 after 0 requests", "sent [1] after 1 requests", "done [1:]", "sent [2] after 2 requests", "done [2:]"}
		if fmt.Sprint(j.calls) != fmt.Sprint(want) {
			t.Errorf("journal calls:\n%q\nwant\n%q", j.calls, want)
		}
	})
	t.Run("no slot from the pacer", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeHubSpot{}
			j := &logJournal{hub: f}
			b := batchOf(1, 2)
			b.Ticket = 3
			u := &Uploader{Sender: f, Recorder: &memRecorder{}, Journal: j, Pacer: blockedPacer{}, Policy: DefaultPolicy, Workers: 1}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				time.Sleep(time.Second)
				cancel()
			}()
			if err := u.Run(ctx, feed(b)); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			want := []string{"cancel 3", "done [1:NOT_SENT 2:NOT_SENT]"}
			if fmt.Sprint(j.calls) != fmt.Sprint(want) {
				t.Errorf("journal calls:\n%q\nwant\n%q", j.calls, want)
			}
		})
	})
}

// TestStopsLeaveRowsRightlyRecorded: a run stopped while a batch waits for
// the disk sends nothing more and records the batch not sent; a run stopped
// before it resends rows that a search did not find leaves them in doubt,
// since the search may have lagged behind a create, so that a later run
// looks them up again instead of sending them blindly.
func TestStopsLeaveRowsRightlyRecorded(t *testing.T) {
	t.Run("stopped while the journal syncs", func(t *testing.T) {
		f := &fakeHubSpot{}
		ctx, cancel := context.WithCancel(context.Background())
		j := &stoppingJournal{logJournal: logJournal{hub: f}, stop: cancel}
		rec := &memRecorder{}
		b := batchOf(1, 2)
		b.Ticket = 1
		u := &Uploader{Sender: f, Recorder: rec, Journal: j, Policy: DefaultPolicy, Workers: 1}
		if err := u.Run(ctx, feed(b)); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if len(f.bodies) != 0 {
			t.Errorf("%d requests after the stop", len(f.bodies))
		}
		for _, r := range []int{1, 2} {
			if o := rec.outs[r]; o.Status != report.NotSent || o.Code != report.CodeNotSent {
				t.Errorf("row %d = %+v, want NOT_SENT", r, o)
			}
		}
	})
	t.Run("stopped before a resend after a search", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeHubSpot{omit: map[string]bool{"2": true}} // row 2 gets no result
			rec := &memRecorder{}
			u := &Uploader{Sender: f, Recorder: rec, Finder: &fakeFinder{known: map[string]string{}},
				Pacer: &grantN{n: 1}, Policy: DefaultPolicy, Workers: 1, SettleDelay: time.Second}
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(time.Minute, cancel) // long after the search, while the resend waits
			if err := u.Run(ctx, feed(batchOf(1, 2))); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			if o := rec.outs[1]; o.Status != report.Created {
				t.Errorf("row 1 = %+v", o)
			}
			if o := rec.outs[2]; o.Status != report.InDoubt {
				t.Errorf("row 2 = %+v, want in doubt", o)
			}
			if len(f.bodies) != 1 {
				t.Errorf("%d requests, want 1", len(f.bodies))
			}
		})
	})
}

// grantN gives the first n requests a slot at once and holds every later
// one until ctx ends.
type grantN struct{ n int }

func (g *grantN) Acquire(ctx context.Context) (pacer.Release, error) {
	if g.n > 0 {
		g.n--
		return func(hubspot.RateLimit, bool, time.Duration) {}, nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestStopBeforeHalvesOfADoubtfulBatch: a batch answered 502 (HubSpot may
// have created it), resent under --retry-in-doubt and then rejected as a
// whole, is split; if the run stops before the halves are sent, their rows
// are in doubt, not NOT_SENT.
func TestStopBeforeHalvesOfADoubtfulBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		whole := &hubspot.APIError{StatusCode: 400, Category: "VALIDATION_ERROR", Message: "One or more associations are invalid"}
		f := &fakeHubSpot{script: []error{&hubspot.APIError{StatusCode: 502}, whole}}
		rec := &memRecorder{}
		policy := DefaultPolicy
		policy.RetryInDoubt = true
		u := &Uploader{Sender: f, Recorder: rec, Pacer: &grantN{n: 2}, Policy: policy, Workers: 1, Jitter: func() float64 { return 0 }}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Minute, cancel)
		if err := u.Run(ctx, feed(batchOf(1, 2, 3, 4))); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if len(f.bodies) != 2 {
			t.Fatalf("%d requests, want 2 (the 502, then the 400)", len(f.bodies))
		}
		for r := 1; r <= 4; r++ {
			if o := rec.outs[r]; o.Status != report.InDoubt {
				t.Errorf("row %d = %+v, want in doubt", r, o)
			}
		}
	})
}

// stoppingJournal stops the run while a batch waits for its record.
type stoppingJournal struct {
	logJournal
	stop func()
}

func (s *stoppingJournal) Await(t uint64) error {
	s.stop()
	return s.logJournal.Await(t)
}

// TestGiveUpWarns: a batch HubSpot never processed, its attempts used up,
// is left not sent, and the log says so at warn level, once, with the
// reason (a scheduler's log otherwise shows only progress stuck).
func TestGiveUpWarns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		refused := &hubspot.TransportError{Sent: false, Err: errors.New("dial tcp: connect: connection refused")}
		f := &fakeHubSpot{script: repeat(refused, 8)}
		core, logs := observer.New(zap.WarnLevel)
		rec := &memRecorder{}
		policy := DefaultPolicy
		policy.MaxAttempts = 2
		u := &Uploader{Sender: f, Recorder: rec, Policy: policy, Workers: 1, Log: zap.New(core)}
		if err := u.Run(context.Background(), feed(batchOf(1, 2), batchOf(3, 4))); err != nil {
			t.Fatal(err)
		}
		if got := rec.statuses()[report.NotSent]; len(got) != 4 {
			t.Fatalf("not sent %v, want all 4 rows", got)
		}
		warns := logs.FilterMessageSnippet("HubSpot did not process a batch").All()
		if len(warns) != 1 || !strings.Contains(fmt.Sprint(warns[0].ContextMap()["reason"]), "connection refused") {
			t.Errorf("warnings %+v, want one naming the reason", warns)
		}
	})
}

// sameVerdict reports whether got is want, a want of msgMissingResult
// standing also for the message of an answer with results matched to no
// row (unmatchedResults).
func sameVerdict(got, want rowstate.Verdict) bool {
	if want.Message == msgMissingResult && strings.HasPrefix(got.Message, msgMissingResult) {
		got.Message = want.Message
	}
	return got == want
}

// TestUnmatchedResults: a row without a result or an error of its own, in
// an answer that holds results matched to no row, is told that its line
// item may be one of them; in an answer without such results, that the
// answer named nothing for it.
func TestUnmatchedResults(t *testing.T) {
	b := batchOf(1, 2)
	for _, tc := range []struct {
		name    string
		results []hubspot.Created
		want    string
	}{
		{"nothing for row 2", []hubspot.Created{{ID: "101", ObjectWriteTraceID: "1"}}, msgMissingResult},
		{"a result for no row", []hubspot.Created{{ID: "101", ObjectWriteTraceID: "1"}, {ID: "199"}}, unmatchedResults(1)},
		{"two results of unknown trace ids", []hubspot.Created{{ID: "101", ObjectWriteTraceID: "1"}, {ID: "198", ObjectWriteTraceID: "8"}, {ID: "199", ObjectWriteTraceID: "9"}}, unmatchedResults(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outs := Outcomes(b.Items, &hubspot.BatchResult{StatusCode: 201, BatchResponse: hubspot.BatchResponse{Results: tc.results}}, "")
			if outs[0].Kind != rowstate.Created || outs[1].Kind != rowstate.Doubt || outs[1].Message != tc.want {
				t.Errorf("verdicts %+v; want row 1 created, row 2 in doubt with %q", outs, tc.want)
			}
		})
	}
	if m := unmatchedResults(2); !strings.Contains(m, "held 2 results matched to no row") || !strings.Contains(m, "may be one of them") {
		t.Errorf("unmatchedResults(2) = %q", m)
	}
}
