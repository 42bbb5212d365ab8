package resolve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/pacer"
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
// batch read request bodies and the answers' statuses.
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
	if strings.HasSuffix(req.URL.Path, "/batch/read") {
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

// recording returns a client whose batch reads p.rec records.
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

// countingPacer counts slots and what the answers told it.
type countingPacer struct {
	mu        sync.Mutex
	acquired  int
	released  int
	known     int // answers with rate-limit headers
	throttled int
}

func (c *countingPacer) Acquire(context.Context) (pacer.Release, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acquired++
	return func(rl hubspot.RateLimit, throttled bool, _ time.Duration) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.released++
		if rl.Known {
			c.known++
		}
		if throttled {
			c.throttled++
		}
	}, nil
}

// TestFindExact: a key is found only by a line item whose value equals it
// byte for byte, whether the portal compares unique values with or without
// regard to case; a record that differs only in case is not the key's.
func TestFindExact(t *testing.T) {
	for _, fold := range []bool{false, true} {
		t.Run(fmt.Sprint("case-insensitive portal=", fold), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, emulator.Config{Seed: 1, UniqueCaseInsensitive: fold})
				ids := p.create(t, []string{"ABC-1", "x-2", "Ünïcode-3"})
				r := resolve.New(p.client, keyProp, nil)
				got, err := r.Find(context.Background(), []string{"ABC-1", "abc-1", "X-2", "x-2", "ünïcode-3", "Ünïcode-3", "missing", ""})
				if err != nil {
					t.Fatal(err)
				}
				checkFound(t, got, ids)
			})
		})
	}
}

func TestFindNoKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 2})
		client := p.recording(t, token)
		for _, keys := range [][]string{nil, {}, {"", ""}} {
			got, err := resolve.New(client, keyProp, nil).Find(context.Background(), keys)
			if err != nil || len(got) != 0 {
				t.Errorf("Find(%q) = %v, %v", keys, got, err)
			}
		}
		if bodies, _, _ := p.rec.snapshot(); len(bodies) != 0 {
			t.Errorf("%d requests for no keys", len(bodies))
		}
	})
}

// TestFindManyKeys: keys go 100 to a request (HubSpot's limit), each key
// once, through the pacer, and every request follows HubSpot's spec.
func TestFindManyKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 3})
		existing := keysOf("M-%04d", 0, 180)
		ids := p.create(t, existing)
		client := p.recording(t, token)
		pc := &countingPacer{}
		keys := append(slices.Clone(existing), keysOf("M-%04d", 180, 250)...)
		keys = append(keys, keys[:30]...) // repeated keys are asked once
		got, err := resolve.New(client, keyProp, pc).Find(context.Background(), keys)
		if err != nil {
			t.Fatal(err)
		}
		checkFound(t, got, ids)
		bodies, statuses, _ := p.rec.snapshot()
		if len(bodies) != 3 {
			t.Fatalf("%d requests for 250 keys, want 3", len(bodies))
		}
		asked := map[string]int{}
		for i, b := range bodies {
			var req struct {
				IDProperty            string                `json:"idProperty"`
				Inputs                []struct{ ID string } `json:"inputs"`
				Properties            []string              `json:"properties"`
				PropertiesWithHistory []string              `json:"propertiesWithHistory"`
			}
			if err := json.Unmarshal([]byte(b), &req); err != nil {
				t.Fatal(err)
			}
			if req.IDProperty != keyProp || len(req.Inputs) > resolve.MaxInputs || !slices.Equal(req.Properties, []string{keyProp}) || req.PropertiesWithHistory == nil {
				t.Errorf("request %d: %s", i, b)
			}
			for _, in := range req.Inputs {
				asked[in.ID]++
			}
			if statuses[i] != http.StatusMultiStatus && statuses[i] != http.StatusOK {
				t.Errorf("request %d answered %d", i, statuses[i])
			}
		}
		for k, n := range asked {
			if n != 1 {
				t.Errorf("key %s asked %d times", k, n)
			}
		}
		if len(asked) != 250 {
			t.Errorf("%d keys asked, want 250", len(asked))
		}
		if pc.acquired != 3 || pc.released != 3 || pc.known != 3 {
			t.Errorf("pacer: %+v; want 3 slots, each released with the answer's rate-limit headers", pc)
		}
	})
}

// TestFindNoneFound: a read that finds none of its keys is "none found",
// whether HubSpot answers it with a 207 of errors or a 404 for the whole
// request; a read that finds some is answered 207 either way.
func TestFindNoneFound(t *testing.T) {
	for _, as404 := range []bool{false, true} {
		t.Run(fmt.Sprint("404=", as404), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, emulator.Config{Seed: 5, BatchReadNoneFound404: as404})
				ids := p.create(t, []string{"HAVE-1"})
				r := resolve.New(p.client, keyProp, nil)
				got, err := r.Find(context.Background(), keysOf("NONE-%d", 0, 150)) // two reads, neither finds anything
				if err != nil || len(got) != 0 {
					t.Fatalf("Find = %v, %v; want nothing found and no error", got, err)
				}
				got, err = r.Find(context.Background(), []string{"HAVE-1", "NONE-1"})
				if err != nil {
					t.Fatal(err)
				}
				checkFound(t, got, ids)
				if n := p.emu.Stats().Requests; n != 4 { // the create and three reads: nothing retried
					t.Errorf("%d requests, want 4", n)
				}
			})
		})
	}
}

// TestFindCased: a portal that compares unique values without regard to
// case returns the record holding another case of a key; FindCased names
// it apart from the exact finds, and Find leaves it out. A portal that
// compares byte for byte returns nothing for it.
func TestFindCased(t *testing.T) {
	for _, fold := range []bool{false, true} {
		t.Run(fmt.Sprint("case-insensitive=", fold), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, emulator.Config{Seed: 6, UniqueCaseInsensitive: fold})
				ids := p.create(t, []string{"ABC-1", "DEF-1"})
				r := resolve.New(p.client, keyProp, nil)
				found, cased, err := r.FindCased(context.Background(), []string{"abc-1", "DEF-1", "NONE-1"})
				if err != nil {
					t.Fatal(err)
				}
				if len(found) != 1 || found["DEF-1"] != ids["DEF-1"] {
					t.Errorf("found %v, want DEF-1 alone, as %s", found, ids["DEF-1"])
				}
				if want := map[string]string{"abc-1": ids["ABC-1"]}; fold && !maps.Equal(cased, want) || !fold && len(cased) != 0 {
					t.Errorf("cased %v (portal case-insensitive=%v)", cased, fold)
				}
				if got, err := r.Find(context.Background(), []string{"abc-1"}); err != nil || len(got) != 0 {
					t.Errorf("Find = %v, %v; want nothing", got, err)
				}
			})
		})
	}
}

// TestFindSeesCreatesAtOnce: batch read reads the records, not the search
// index, so a lag of the index does not hide a create.
func TestFindSeesCreatesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPortal(t, emulator.Config{Seed: 4, SearchLag: time.Hour})
		ids := p.create(t, keysOf("L-%d", 0, 5))
		got, err := resolve.New(p.client, keyProp, nil).Find(context.Background(), keysOf("L-%d", 0, 10))
		if err != nil {
			t.Fatal(err)
		}
		checkFound(t, got, ids)
	})
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
				r := resolve.New(p.client, keyProp, nil)
				r.MaxAttempts = 15
				keys := append(slices.Clone(existing), keysOf("F-%04d", 800, 1000)...) // 10 reads
				got, err := r.Find(context.Background(), keys)
				if err != nil {
					t.Fatalf("Find: %v", err)
				}
				checkFound(t, got, ids)
				st := p.emu.Stats()
				if st.Faults == 0 {
					t.Error("no fault was injected; the test proves nothing")
				}
				if st.BatchReads < 10 {
					t.Errorf("%d batch reads answered for 10 groups", st.BatchReads)
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
		r := resolve.New(p.client, keyProp, nil)
		got, err := r.Find(context.Background(), keysOf("G-%d", 0, 20))
		if err == nil || got != nil {
			t.Fatalf("Find = %v, %v with every read failing: a failed lookup must not read as \"not found\"", got, err)
		}
		var ae *hubspot.APIError
		if !errors.As(err, &ae) || ae.StatusCode < 500 || !strings.Contains(err.Error(), "8 attempts") {
			t.Errorf("error %v: want the 5xx answer and how often it tried", err)
		}
		if n := p.emu.Stats().Requests - 1; n != 8 { // minus the batch create
			t.Errorf("%d read attempts, want the default 8", n)
		}
	})
}

// TestFindFinalAnswers: answers that repeating cannot change are returned
// at once, wrapping HubSpot's error, and never reveal the token.
func TestFindFinalAnswers(t *testing.T) {
	cases := []struct {
		name   string
		cfg    emulator.Config
		token  string
		prop   string
		status int
	}{
		{"401 wrong token", emulator.Config{}, "pat-na1-wrong", keyProp, http.StatusUnauthorized},
		{"403 missing scope", emulator.Config{Scopes: []string{emulator.ScopeLineItemsWrite}}, token, keyProp, http.StatusForbidden},
		{"400 not a unique property", emulator.Config{}, token, "name", http.StatusBadRequest},
		{"429 daily limit", emulator.Config{DailyLimit: 1}, token, keyProp, http.StatusTooManyRequests},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, tc.cfg)
				if tc.cfg.DailyLimit > 0 {
					p.create(t, []string{"used-the-day"})
				}
				before := p.emu.Stats().Requests
				start := time.Now()
				got, err := resolve.New(newClient(t, p.emu, tc.token), tc.prop, nil).Find(context.Background(), []string{"a", "b"})
				var ae *hubspot.APIError
				if err == nil || got != nil || !errors.As(err, &ae) || ae.StatusCode != tc.status {
					t.Fatalf("Find = %v, %v; want a %d *hubspot.APIError", got, err, tc.status)
				}
				if n := p.emu.Stats().Requests - before; n > 1 {
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

func TestFindCancelled(t *testing.T) {
	cases := []struct {
		name     string
		faults   emulator.Faults
		cancelAt time.Duration // <0: before Find
	}{
		{"before the call", emulator.Faults{}, -1},
		{"during a slow read", emulator.Faults{Latency: time.Hour}, 2 * time.Second},
		{"during backoff", emulator.Faults{ErrorRate: 1}, 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, emulator.Config{Seed: 9})
				p.emu.SetFaults(tc.faults)
				r := resolve.New(p.client, keyProp, nil)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.cancelAt < 0 {
					cancel()
				} else {
					time.AfterFunc(tc.cancelAt, cancel)
				}
				start := time.Now()
				got, err := r.Find(ctx, keysOf("C-%d", 0, 500))
				if !errors.Is(err, context.Canceled) || got != nil {
					t.Errorf("Find = %v, %v; want context.Canceled", got, err)
				}
				if elapsed, want := time.Since(start), max(tc.cancelAt, 0); elapsed != want {
					t.Errorf("returned %v after the start, want %v (at the cancellation)", elapsed, want)
				}
				time.Sleep(tc.faults.Latency) // the portal finishes the read it received
			})
		})
	}
}

// fakeReader answers every read with the given results and errors.
type fakeReader struct {
	res *hubspot.BatchReadResult
}

func (f fakeReader) BatchReadObjects(context.Context, string, hubspot.BatchReadRequest) (*hubspot.BatchReadResult, error) {
	return f.res, nil
}

// TestFindDistrustsOddAnswers: an answer with an error other than "not
// found", or two records holding one value of a unique property, makes the
// lookup fail rather than guess.
func TestFindDistrustsOddAnswers(t *testing.T) {
	cases := map[string]*hubspot.BatchReadResult{
		"an error other than not found": {StatusCode: 207, Errors: []hubspot.StandardError{{Category: "VALIDATION_ERROR", Message: "x"}}},
		"two records with one key": {StatusCode: 200, Results: []hubspot.Object{
			{ID: "1", Properties: map[string]string{keyProp: "K"}}, {ID: "2", Properties: map[string]string{keyProp: "K"}}}},
	}
	for name, res := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := resolve.New(fakeReader{res}, keyProp, nil).Find(context.Background(), []string{"K"})
			if err == nil || got != nil {
				t.Errorf("Find = %v, %v; want an error", got, err)
			}
		})
	}
	res := &hubspot.BatchReadResult{StatusCode: 207, Results: []hubspot.Object{{ID: "1", Properties: map[string]string{keyProp: "K"}}},
		Errors: []hubspot.StandardError{{Category: "OBJECT_NOT_FOUND", Context: map[string][]string{"ids": {"L"}}}}}
	got, err := resolve.New(fakeReader{res}, keyProp, nil).Find(context.Background(), []string{"K", "L"})
	if err != nil || len(got) != 1 || got["K"] != "1" {
		t.Errorf("Find = %v, %v; want K found and L not", got, err)
	}
}

// countingReader answers every read with res and counts the reads.
type countingReader struct {
	res   *hubspot.BatchReadResult
	reads int
}

func (c *countingReader) BatchReadObjects(context.Context, string, hubspot.BatchReadRequest) (*hubspot.BatchReadResult, error) {
	c.reads++
	return c.res, nil
}

// TestFindDistrustsSilentAnswers: a key is not found only when HubSpot
// says so. An answer that names neither a record nor a "not found" error
// for a key is asked again, and then fails the lookup: read as "not
// found", it would let a caller take a row that exists for one that does
// not (and, after a conflict, report it failed).
func TestFindDistrustsSilentAnswers(t *testing.T) {
	notFound := func(ids ...string) hubspot.StandardError {
		return hubspot.StandardError{Category: "OBJECT_NOT_FOUND", Message: "Could not get some LINE_ITEM objects", Context: map[string][]string{"ids": ids}}
	}
	for _, c := range []struct {
		name    string
		res     *hubspot.BatchReadResult
		wantErr bool
		found   map[string]string
	}{
		{"silent about every key", &hubspot.BatchReadResult{StatusCode: 200}, true, nil},
		{"silent about one key", &hubspot.BatchReadResult{StatusCode: 207, Errors: []hubspot.StandardError{notFound("K")}}, true, nil},
		{"a not found error without ids", &hubspot.BatchReadResult{StatusCode: 207, Errors: []hubspot.StandardError{notFound()}}, true, nil},
		{"every key named", &hubspot.BatchReadResult{StatusCode: 207, Results: []hubspot.Object{{ID: "1", Properties: map[string]string{keyProp: "K"}}},
			Errors: []hubspot.StandardError{notFound("L")}}, false, map[string]string{"K": "1"}},
		{"one error naming every key not found, as HubSpot gives it", &hubspot.BatchReadResult{StatusCode: 207,
			Errors: []hubspot.StandardError{notFound("K", "L")}}, false, map[string]string{}},
		{"named in another case", &hubspot.BatchReadResult{StatusCode: 207, Results: []hubspot.Object{{ID: "1", Properties: map[string]string{keyProp: "k"}}},
			Errors: []hubspot.StandardError{notFound("l")}}, false, map[string]string{}},
		{"a record without an id", &hubspot.BatchReadResult{StatusCode: 207, Results: []hubspot.Object{{Properties: map[string]string{keyProp: "K"}}},
			Errors: []hubspot.StandardError{notFound("L")}}, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rd := &countingReader{res: c.res}
				r := resolve.New(rd, keyProp, nil)
				r.MaxAttempts = 3
				got, err := r.Find(context.Background(), []string{"K", "L"})
				if c.wantErr {
					if err == nil || got != nil {
						t.Fatalf("Find = %v, %v; want an error", got, err)
					}
					if rd.reads != 3 {
						t.Errorf("%d reads, want 3: a silent answer is asked again", rd.reads)
					}
					return
				}
				if err != nil || !maps.Equal(got, c.found) {
					t.Fatalf("Find = %v, %v; want %v", got, err, c.found)
				}
				if rd.reads != 1 {
					t.Errorf("%d reads, want 1", rd.reads)
				}
			})
		})
	}
}

// TestSilentIsMissing: for association targets, a value the answer is
// silent about counts as not found at once (its rows fail before they are
// sent), rather than stopping the run after the retries.
func TestSilentIsMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rd := &countingReader{res: &hubspot.BatchReadResult{StatusCode: 200, Results: []hubspot.Object{{ID: "9", Properties: map[string]string{keyProp: "K"}}}}}
		r := resolve.New(rd, keyProp, nil)
		r.SilentIsMissing = true
		got, err := r.Find(context.Background(), []string{"K", "0042"})
		if err != nil || !maps.Equal(got, map[string]string{"K": "9"}) || rd.reads != 1 {
			t.Fatalf("Find = %v, %v after %d reads; want K found, 0042 not, in one read", got, err, rd.reads)
		}
	})
}

// TestKeysOf: line items read by id give the key each holds; ids no line
// item has, and line items younger than the portal's read lag, are left
// out, 100 ids to a request, under both answers to a read that finds none.
func TestKeysOf(t *testing.T) {
	for _, as404 := range []bool{false, true} {
		t.Run(fmt.Sprint("404=", as404), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPortal(t, emulator.Config{Seed: 6, BatchReadNoneFound404: as404, ReadLag: time.Minute})
				old := p.create(t, []string{"OLD-1", "OLD-2"})
				time.Sleep(2 * time.Minute)
				young := p.create(t, []string{"YOUNG-1"})
				r := resolve.New(p.recording(t, token), keyProp, nil)
				ids := []string{old["OLD-1"], old["OLD-2"], young["YOUNG-1"], old["OLD-1"], "1"}
				for i := range 120 {
					ids = append(ids, strconv.Itoa(900000000+i)) // no such line items
				}
				got, err := r.KeysOf(context.Background(), ids)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]string{old["OLD-1"]: "OLD-1", old["OLD-2"]: "OLD-2"}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("KeysOf = %v, want %v", got, want)
				}
				bodies, _, _ := p.rec.snapshot()
				if len(bodies) != 2 {
					t.Fatalf("%d reads for 124 distinct ids, want 2", len(bodies))
				}
				if strings.Contains(bodies[0], "idProperty") {
					t.Errorf("a read by id names an idProperty: %s", bodies[0])
				}
				time.Sleep(time.Minute) // the young line item can now be read
				got, err = r.KeysOf(context.Background(), []string{young["YOUNG-1"]})
				if err != nil || got[young["YOUNG-1"]] != "YOUNG-1" {
					t.Errorf("after the lag, KeysOf = %v, %v", got, err)
				}
			})
		})
	}
}
