package resolve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/resolve"
)

const (
	token   = "pat-na1-resolve-test"
	keyProp = "import_key"
)

// portal is an emulated HubSpot portal with a unique key property, and a
// client that reaches it in memory.
type portal struct {
	emu    *emulator.Server
	client *hubspot.Client
	rec    *recorder
}

// recorder is a RoundTripper in front of the emulator that keeps the
// search request bodies and the answers' statuses.
type recorder struct {
	next http.RoundTripper

	mu       sync.Mutex
	bodies   []string
	statuses []int
	times    []time.Time
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := r.next.RoundTrip(req)
	if strings.HasSuffix(req.URL.Path, "/search") {
		r.mu.Lock()
		r.bodies = append(r.bodies, string(body))
		r.times = append(r.times, time.Now())
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		r.statuses = append(r.statuses, status)
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recorder) snapshot() (bodies []string, statuses []int, times []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies), slices.Clone(r.statuses), slices.Clone(r.times)
}

func newPortal(t *testing.T, cfg emulator.Config) *portal {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = token
	}
	emu := emulator.New(cfg)
	emu.AddProperty(emulator.Property{Name: keyProp, Label: "Import key", Type: "string", FieldType: "text", HasUniqueValue: true})
	return &portal{emu: emu, client: newClient(t, emu, cfg.Token)}
}

func newClient(t *testing.T, emu *emulator.Server, tok string) *hubspot.Client {
	t.Helper()
	c, err := hubspot.NewClient(&http.Client{Transport: emu.Transport()}, "http://127.0.0.1", hubspot.NewToken(tok), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recording returns a client whose search requests p.rec records.
func (p *portal) recording(t *testing.T, tok string) *hubspot.Client {
	t.Helper()
	p.rec = &recorder{next: p.emu.Transport()}
	c, err := hubspot.NewClient(&http.Client{Transport: p.rec}, "http://127.0.0.1", hubspot.NewToken(tok), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// create makes one line item per key, 100 to a batch, and returns the ids
// by key.
func (p *portal) create(t *testing.T, keys []string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for start := 0; start < len(keys); start += hubspot.MaxBatchInputs {
		var req hubspot.BatchCreateRequest
		for i, k := range keys[start:min(start+hubspot.MaxBatchInputs, len(keys))] {
			req.Inputs = append(req.Inputs, hubspot.CreateInput{
				ObjectWriteTraceID: strconv.Itoa(start + i + 1),
				Properties:         hubspot.PropertyValues{{Name: keyProp, Value: k}},
			})
		}
		body, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if start == 0 && !strings.HasPrefix(string(body), `{"inputs":[{"associations":[],"objectWriteTraceId":"1","properties":{"import_key":`) {
			t.Fatalf("unexpected batch body %s", body)
		}
		res, err := p.client.BatchCreate(context.Background(), body)
		if err != nil {
			t.Fatalf("BatchCreate: %v", err)
		}
		if res.StatusCode != http.StatusCreated || len(res.Results) != len(req.Inputs) {
			t.Fatalf("BatchCreate: status %d, %d results for %d inputs: %+v", res.StatusCode, len(res.Results), len(req.Inputs), res.Errors)
		}
		for _, o := range res.Results {
			n, _ := strconv.Atoi(o.ObjectWriteTraceID)
			ids[keys[n-1]] = o.ID
		}
	}
	if len(ids) != len(keys) {
		t.Fatalf("created %d line items for %d keys", len(ids), len(keys))
	}
	return ids
}

func keysOf(format string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out
}

// checkFound compares Find's answer with want, key by key.
func checkFound(t *testing.T, got, want map[string]string) {
	t.Helper()
	if got == nil {
		t.Fatal("Find returned a nil map without an error")
	}
	for k, id := range want {
		if got[k] != id {
			t.Errorf("found[%q] = %q, want %q", k, got[k], id)
		}
	}
	for k, id := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("found[%q] = %q, but that key does not exist", k, id)
		}
	}
}

// maxPerWindow returns the most instants of ts within any window [t, t+d).
func maxPerWindow(ts []time.Time, d time.Duration) int {
	best := 0
	for i := range ts {
		n := 0
		for _, u := range ts[i:] {
			if u.Sub(ts[i]) < d {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func TestFindMixedCase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 1})
		stored := []string{"K-1", "k-2", "Order-ABC-7", "ÉTÉ-2024", "mixed.Case_key"}
		ids := p.create(t, stored)
		r := resolve.New(p.client, keyProp)

		keys := []string{"k-1", "K-2", "ORDER-abc-7", "été-2024", "MIXED.case_KEY", "K-3", "missing", "", "ORDER-ABC-8"}
		got, err := r.Find(context.Background(), keys)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"k-1":            ids["K-1"],
			"K-2":            ids["k-2"],
			"ORDER-abc-7":    ids["Order-ABC-7"],
			"été-2024":       ids["ÉTÉ-2024"],
			"MIXED.case_KEY": ids["mixed.Case_key"],
		}
		checkFound(t, got, want)
		if s := p.emu.Stats().Searches; s != 1 {
			t.Errorf("%d searches for %d keys, want 1", s, len(keys))
		}

		// Keys as stored are found too.
		got, err = r.Find(context.Background(), stored)
		if err != nil {
			t.Fatal(err)
		}
		checkFound(t, got, ids)
	})
}

func TestFindNoKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 1})
		r := resolve.New(p.client, keyProp)
		for _, keys := range [][]string{nil, {}, {"", ""}} {
			got, err := r.Find(context.Background(), keys)
			if err != nil || got == nil || len(got) != 0 {
				t.Errorf("Find(%q) = %v, %v; want an empty map", keys, got, err)
			}
		}
		if n := p.emu.Stats().Requests; n != 0 {
			t.Errorf("%d requests for no keys", n)
		}
	})
}

func TestFindManyKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 2})
		existing := keysOf("SKU-%05d", 0, 250)
		ids := p.create(t, existing)
		client := p.recording(t, token)
		r := resolve.New(client, keyProp)

		keys := append(slices.Clone(existing), keysOf("SKU-%05d", 250, 300)...)
		// Duplicates and empty keys cost nothing more.
		keys = append(keys, "SKU-00001", "", "SKU-00002")
		start := time.Now()
		got, err := r.Find(context.Background(), keys)
		if err != nil {
			t.Fatal(err)
		}
		checkFound(t, got, ids)

		st := p.emu.Stats()
		if st.Searches < 3 {
			t.Errorf("%d searches for 300 distinct keys, want at least 3", st.Searches)
		}
		if st.Throttled != 0 {
			t.Errorf("%d searches throttled: the resolver exceeded HubSpot's 5 searches per second", st.Throttled)
		}
		bodies, statuses, times := p.rec.snapshot()
		if n := maxPerWindow(times, time.Second); n > 5 {
			t.Errorf("%d searches within one second, want at most 5", n)
		}
		if elapsed := time.Since(start); elapsed < time.Duration(len(times)-1)*time.Second/resolve.DefaultPerSec {
			t.Errorf("%d searches took %v: not paced at %d/s", len(times), elapsed, resolve.DefaultPerSec)
		}
		seen := map[string]int{}
		for i, b := range bodies {
			if statuses[i] != http.StatusOK {
				t.Errorf("search %d answered %d", i, statuses[i])
			}
			vals := inValues(t, b)
			if len(vals) == 0 || len(vals) > 100 {
				t.Errorf("search %d has %d IN values", i, len(vals))
			}
			for _, v := range vals {
				if v != strings.ToLower(v) {
					t.Errorf("IN value %q is not lower-case", v)
				}
				seen[v]++
			}
		}
		if len(seen) != 300 {
			t.Errorf("%d distinct values searched, want 300", len(seen))
		}
		for v, n := range seen {
			if n != 1 {
				t.Errorf("value %q searched %d times", v, n)
			}
		}
	})
}

// inValues returns the IN values of a search body.
func inValues(t *testing.T, body string) []string {
	t.Helper()
	var req hubspot.SearchRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatalf("search body %q: %v", body, err)
	}
	if len(req.FilterGroups) != 1 || len(req.FilterGroups[0].Filters) != 1 {
		t.Fatalf("search body %s: want one filter", body)
	}
	f := req.FilterGroups[0].Filters[0]
	if f.PropertyName != keyProp || f.Operator != "IN" {
		t.Fatalf("search body %s: want an IN filter on %s", body, keyProp)
	}
	return f.Values
}

func TestFindRetriesFaults(t *testing.T) {
	cases := []struct {
		name   string
		faults emulator.Faults
	}{
		{"50% 5xx, 20% 429", emulator.Faults{ErrorRate: 0.5, RateLimitRate: 0.2}},
		{"50% 5xx, 20% 429 with Retry-After", emulator.Faults{ErrorRate: 0.5, RateLimitRate: 0.2, RetryAfter: true}},
		{"30% 502 only", emulator.Faults{ErrorRate: 0.3, ErrorStatuses: []int{http.StatusBadGateway}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, emulator.Config{Seed: int64(10 + i)})
				existing := keysOf("F-%04d", 0, 800)
				ids := p.create(t, existing)
				p.emu.SetFaults(tc.faults)
				r := resolve.New(p.client, keyProp)
				// A success needs one draw under 0.4 (no 5xx, no 429); 15
				// attempts all failing has a chance of 0.6^15 ≈ 0.05%.
				r.MaxAttempts = 15
				keys := append(slices.Clone(existing), keysOf("F-%04d", 800, 1000)...) // 10 searches
				got, err := r.Find(context.Background(), keys)
				if err != nil {
					t.Fatalf("Find: %v", err)
				}
				checkFound(t, got, ids)
				st := p.emu.Stats()
				if st.Faults == 0 {
					t.Error("no fault was injected; the test proves nothing")
				}
				if searches := st.Requests - 8; searches <= 10 { // minus the batch creates
					t.Errorf("%d search requests for 10 groups despite faults: no retries?", searches)
				}
			})
		})
	}
}

func TestFindGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 3})
		p.create(t, keysOf("G-%d", 0, 10))
		p.emu.SetFaults(emulator.Faults{ErrorRate: 1})
		r := resolve.New(p.client, keyProp)
		start := time.Now()
		got, err := r.Find(context.Background(), keysOf("G-%d", 0, 20))
		if err == nil {
			t.Fatalf("Find succeeded with every search failing: %v", got)
		}
		if got != nil {
			t.Errorf("Find returned %v with its error: a failed search must not read as \"not found\"", got)
		}
		var ae *hubspot.APIError
		if !errors.As(err, &ae) || ae.StatusCode < 500 {
			t.Errorf("error %v does not wrap the 5xx answer", err)
		}
		if !strings.Contains(err.Error(), "8 attempts") {
			t.Errorf("error %q does not say how often it tried", err)
		}
		if n := p.emu.Stats().Requests - 1; n != 8 { // minus the batch create
			t.Errorf("%d search attempts, want the default 8", n)
		}
		// Backoff between attempts (1s base, doubling, capped at 30s).
		if elapsed := time.Since(start); elapsed < 30*time.Second || elapsed > 3*time.Minute {
			t.Errorf("giving up took %v", elapsed)
		}

		// MaxAttempts is honoured.
		r.MaxAttempts = 3
		r.BaseDelay = 10 * time.Millisecond
		before := p.emu.Stats().Requests
		if _, err := r.Find(context.Background(), []string{"G-1"}); err == nil || !strings.Contains(err.Error(), "3 attempts") {
			t.Errorf("MaxAttempts 3: %v", err)
		}
		if n := p.emu.Stats().Requests - before; n != 3 {
			t.Errorf("MaxAttempts 3: %d attempts", n)
		}
	})
}

func TestFindDoesNotRetryClientErrors(t *testing.T) {
	cases := []struct {
		name   string
		cfg    emulator.Config
		token  string
		prop   string
		status int
	}{
		{"401 wrong token", emulator.Config{}, "pat-na1-wrong", keyProp, http.StatusUnauthorized},
		{"403 missing scope", emulator.Config{Scopes: []string{emulator.ScopeLineItemsWrite}}, token, keyProp, http.StatusForbidden},
		{"400 unknown property", emulator.Config{}, token, "no_such_property", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, tc.cfg)
				r := resolve.New(newClient(t, p.emu, tc.token), tc.prop)
				start := time.Now()
				got, err := r.Find(context.Background(), []string{"a", "b"})
				if err == nil {
					t.Fatalf("Find succeeded: %v", got)
				}
				if got != nil {
					t.Errorf("Find returned %v with its error", got)
				}
				var ae *hubspot.APIError
				if !errors.As(err, &ae) || ae.StatusCode != tc.status {
					t.Errorf("error %v, want a %d *hubspot.APIError", err, tc.status)
				}
				if n := p.emu.Stats().Requests; n != 1 {
					t.Errorf("%d requests, want 1: a %d must not be retried", n, tc.status)
				}
				if elapsed := time.Since(start); elapsed != 0 {
					t.Errorf("returned after %v, want at once", elapsed)
				}
				if strings.Contains(err.Error(), "pat-na1") {
					t.Errorf("error reveals the token: %v", err)
				}
			})
		})
	}
}

func TestFindSplitsLongBodies(t *testing.T) {
	cases := []struct {
		name string
		keys []string
	}{
		{"100 keys of 40 characters", keysOf("KEY-%036d", 0, 100)},
		{"150 keys of 60 characters", keysOf("A-LONG-KEY-%049d", 0, 150)},
		{"30 keys of 400 characters", keysOf("K%0399d", 0, 30)},
		{"multi-byte keys", keysOf("Schlüssel-größe-€-%020d", 0, 120)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, emulator.Config{Seed: 4})
				ids := p.create(t, tc.keys)
				client := p.recording(t, token)
				r := resolve.New(client, keyProp)
				got, err := r.Find(context.Background(), append(slices.Clone(tc.keys), "absent"))
				if err != nil {
					t.Fatalf("Find: %v", err)
				}
				checkFound(t, got, ids)
				bodies, statuses, _ := p.rec.snapshot()
				if len(bodies) < 2 {
					t.Errorf("%d searches, want the keys split over several", len(bodies))
				}
				for i, b := range bodies {
					if n := utf8.RuneCountInString(b); n > 3000 || statuses[i] != http.StatusOK {
						t.Errorf("search %d: %d characters, status %d", i, n, statuses[i])
					}
				}
				if th := p.emu.Stats().Throttled; th != 0 {
					t.Errorf("%d searches throttled", th)
				}
			})
		})
	}
}

// TestFindSplitsBodiesWithEscapedCharacters: encoding/json writes '&', '<'
// and '>' as \u0026, \u003c and \u003e (6 characters for 1), and '"' and
// '\' with a backslash; groups must count the encoded length, or keys such
// as "R&D-..." make a body over HubSpot's 3,000 characters (a 400, never
// retried, so such rows could not be resolved).
func TestFindSplitsBodiesWithEscapedCharacters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 5})
		keys := keysOf("R&D&QA<EU>-%030d", 0, 100) // 40 characters, 4 of them escaped
		ids := p.create(t, keys)
		client := p.recording(t, token)
		r := resolve.New(client, keyProp)
		got, err := r.Find(context.Background(), keys)
		bodies, statuses, _ := p.rec.snapshot()
		for i, b := range bodies {
			if n := utf8.RuneCountInString(b); n > 3000 || statuses[i] != http.StatusOK {
				t.Errorf("search %d: %d characters, status %d", i, n, statuses[i])
			}
		}
		if err != nil {
			t.Fatalf("Find: %v", err)
		}
		checkFound(t, got, ids)
	})
}

// TestFindCaseVariantsOfOneKey: two spellings of one value both match the
// line item "without regard to case" and both are in the map; otherwise a
// caller looking up found[key] for one spelling would read "not found" and
// send the row again.
func TestFindCaseVariantsOfOneKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 6})
		ids := p.create(t, []string{"K-1"})
		r := resolve.New(p.client, keyProp)
		got, err := r.Find(context.Background(), []string{"K-1", "k-1"})
		if err != nil {
			t.Fatal(err)
		}
		checkFound(t, got, map[string]string{"K-1": ids["K-1"], "k-1": ids["K-1"]})
	})
}

func TestFindPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 7})
		client := p.recording(t, token)
		r := resolve.New(client, keyProp)
		start := time.Now()
		got, err := r.Find(context.Background(), keysOf("P-%d", 0, 1500)) // 15 searches
		if err != nil || len(got) != 0 {
			t.Fatalf("Find = %v, %v; want an empty map", got, err)
		}
		_, _, times := p.rec.snapshot()
		if len(times) != 15 {
			t.Errorf("%d searches, want 15", len(times))
		}
		if n := maxPerWindow(times, time.Second); n > resolve.DefaultPerSec {
			t.Errorf("%d searches within one second, want at most %d", n, resolve.DefaultPerSec)
		}
		if th := p.emu.Stats().Throttled; th != 0 {
			t.Errorf("%d searches throttled", th)
		}
		if elapsed := time.Since(start); elapsed < 3*time.Second {
			t.Errorf("15 searches in %v", elapsed)
		}

		// A Limiter set by the caller is used.
		r.Limiter = rate.NewLimiter(1, 1)
		start = time.Now()
		if _, err := r.Find(context.Background(), keysOf("Q-%d", 0, 500)); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed < 4*time.Second {
			t.Errorf("5 searches at 1/s took %v", elapsed)
		}
	})
}

// TestFindNilLimiterPaces: a Resolver built as a struct literal, with a nil
// Limiter, still paces its searches at DefaultPerSec.
func TestFindNilLimiterPaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 8})
		client := p.recording(t, token)
		r := &resolve.Resolver{Searcher: client, Property: keyProp}
		got, err := r.Find(context.Background(), keysOf("N-%d", 0, 1000)) // 10 searches
		if err != nil || len(got) != 0 {
			t.Fatalf("Find = %v, %v; want an empty map", got, err)
		}
		_, _, times := p.rec.snapshot()
		if n := maxPerWindow(times, time.Second); n > resolve.DefaultPerSec {
			t.Errorf("%d searches within one second with a nil Limiter, want at most %d", n, resolve.DefaultPerSec)
		}
		if th := p.emu.Stats().Throttled; th != 0 {
			t.Errorf("%d searches throttled with a nil Limiter", th)
		}
	})
}

func TestFindCancelled(t *testing.T) {
	cases := []struct {
		name     string
		faults   emulator.Faults
		cancelAt time.Duration // <0: before Find
	}{
		{"before the call", emulator.Faults{}, -1},
		{"during a slow search", emulator.Faults{Latency: time.Hour}, 2 * time.Second},
		{"during backoff", emulator.Faults{ErrorRate: 1}, 5 * time.Second},
		{"while paced by the limiter", emulator.Faults{}, 1100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, emulator.Config{Seed: 9})
				p.emu.SetFaults(tc.faults)
				r := resolve.New(p.client, keyProp)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.cancelAt < 0 {
					cancel()
				} else {
					time.AfterFunc(tc.cancelAt, cancel)
				}
				start := time.Now()
				got, err := r.Find(ctx, keysOf("C-%d", 0, 5000)) // 50 searches: 12s at 4/s
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Find = %v, %v; want context.Canceled", got, err)
				}
				if got != nil {
					t.Errorf("Find returned %v with its error", got)
				}
				if elapsed, want := time.Since(start), max(tc.cancelAt, 0); elapsed != want {
					t.Errorf("returned %v after the start, want %v (at the cancellation)", elapsed, want)
				}
			})
		})
	}
}

// pager is a Searcher that answers from a fixed list of ids, a few per
// page, whatever the filter, and records the requests.
type pager struct {
	values []string // property values, in id order
	per    int
	reqs   []hubspot.SearchRequest
}

func (s *pager) Search(_ context.Context, req hubspot.SearchRequest) (*hubspot.SearchResponse, error) {
	s.reqs = append(s.reqs, req)
	from := 0
	if req.After != "" {
		var err error
		if from, err = strconv.Atoi(req.After); err != nil {
			return nil, &hubspot.APIError{StatusCode: 400, Message: "bad after"}
		}
	}
	in := req.FilterGroups[0].Filters[0].Values
	var matches []int
	for i, v := range s.values {
		if slices.Contains(in, strings.ToLower(v)) {
			matches = append(matches, i)
		}
	}
	res := &hubspot.SearchResponse{Total: len(matches)}
	end := min(from+s.per, len(matches))
	for _, i := range matches[from:end] {
		res.Results = append(res.Results, hubspot.Object{ID: strconv.Itoa(1000 + i), Properties: map[string]string{keyProp: s.values[i]}})
	}
	if end < len(matches) {
		res.Paging = &struct {
			Next *struct {
				After string `json:"after"`
			} `json:"next"`
		}{Next: &struct {
			After string `json:"after"`
		}{After: strconv.Itoa(end)}}
	}
	return res, nil
}

func TestFindFollowsPages(t *testing.T) {
	s := &pager{values: []string{"a", "B", "c", "D", "e", "f", "g"}, per: 3}
	r := resolve.New(s, keyProp)
	r.Limiter = rate.NewLimiter(rate.Inf, 1)
	got, err := r.Find(context.Background(), []string{"A", "b", "C", "d", "E", "F", "G", "h"})
	if err != nil {
		t.Fatal(err)
	}
	checkFound(t, got, map[string]string{"A": "1000", "b": "1001", "C": "1002", "d": "1003", "E": "1004", "F": "1005", "G": "1006"})
	if len(s.reqs) != 3 {
		t.Fatalf("%d requests, want 3 pages", len(s.reqs))
	}
	for i, want := range []string{"", "3", "6"} {
		req := s.reqs[i]
		if req.After != want || req.Limit != 100 || !slices.Equal(req.Properties, []string{keyProp}) {
			t.Errorf("request %d: after %q, limit %d, properties %v", i, req.After, req.Limit, req.Properties)
		}
	}
}

func TestFindHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 11})
		ids := p.create(t, keysOf("RA-%d", 0, 300))
		p.emu.SetFaults(emulator.Faults{RateLimitRate: 0.5, RetryAfter: true})
		client := p.recording(t, token)
		r := resolve.New(client, keyProp)
		r.Limiter = rate.NewLimiter(rate.Inf, 1)
		r.BaseDelay = time.Millisecond // backoff alone would retry at once
		r.MaxAttempts = 20
		got, err := r.Find(context.Background(), keysOf("RA-%d", 0, 300))
		if err != nil {
			t.Fatal(err)
		}
		checkFound(t, got, ids)
		_, statuses, times := p.rec.snapshot()
		throttled := 0
		for i := 0; i+1 < len(times); i++ {
			if statuses[i] != http.StatusTooManyRequests {
				continue
			}
			throttled++
			if gap := times[i+1].Sub(times[i]); gap < time.Second {
				t.Errorf("search %d answered 429 with Retry-After: 1; retried after %v", i, gap)
			}
		}
		if throttled == 0 {
			t.Error("no 429 was injected; the test proves nothing")
		}
	})
}
