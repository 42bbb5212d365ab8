package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

func TestErrorRate(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		want     map[int]bool
	}{
		{"default statuses", nil, map[int]bool{500: true, 502: true, 503: true}},
		{"chosen statuses", []int{503}, map[int]bool{503: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, emulator.Config{RateMax: 1})
			c.srv.SetFaults(emulator.Faults{ErrorRate: 1, ErrorStatuses: tt.statuses})
			seen := map[int]bool{}
			for range 40 {
				r := c.create(input("a", props("name", "x")))
				if !tt.want[r.status] {
					t.Fatalf("status %d not in %v", r.status, tt.want)
				}
				seen[r.status] = true
				switch r.status {
				case 500:
					if r.body["message"] != "internal error" || r.body["status"] != "error" {
						t.Errorf("500 body: %s", r.raw)
					}
				default:
					if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.raw), "<html>") {
						t.Errorf("gateway page: %q %s", r.header.Get("Content-Type"), r.raw)
					}
				}
			}
			if len(seen) != len(tt.want) {
				t.Errorf("saw statuses %v, want all of %v", seen, tt.want)
			}
			st := c.srv.Stats()
			if len(c.srv.LineItems()) != 0 || st.BatchCreates != 0 || st.Faults != 40 || st.Requests != 40 || st.MaxInWindow != 0 {
				t.Errorf("faulted requests were processed or counted: %+v", st)
			}
			// Faulted requests did not use up the burst window (RateMax 1).
			c.srv.SetFaults(emulator.Faults{})
			wantStatus(t, c.create(input("a", props("name", "x"))), http.StatusCreated)
		})
	}
}

func TestInjectedRateLimit(t *testing.T) {
	c := newClient(t, emulator.Config{RateMax: 2})
	c.srv.SetFaults(emulator.Faults{RateLimitRate: 1, RetryAfter: true})
	for range 5 {
		r := c.create(input("a", props("name", "x")))
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.body["policyName"] != emulator.PolicyTenSecondly || r.header.Get("Retry-After") != "1" {
			t.Errorf("injected 429: %v %s", r.header, r.raw)
		}
	}
	r := c.search(firstPage())
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.body["policyName"] != emulator.PolicySecondly {
		t.Errorf("injected search 429: %s", r.raw)
	}
	c.srv.SetFaults(emulator.Faults{RateLimitRate: 1})
	if r := c.create(input("a", props("name", "x"))); r.header.Get("Retry-After") != "" {
		t.Error("Retry-After sent although Faults.RetryAfter is false")
	}
	st := c.srv.Stats()
	if st.Throttled != 7 || st.Faults != 7 || st.BatchCreates != 0 {
		t.Errorf("stats = %+v", st)
	}
	// Injected 429s are not counted against the window (RateMax 2).
	c.srv.SetFaults(emulator.Faults{})
	wantStatus(t, c.create(input("a", props("name", "x"))), http.StatusCreated)
	wantStatus(t, c.create(input("b", props("name", "y"))), http.StatusCreated)
	wantStatus(t, c.create(input("c", props("name", "z"))), http.StatusTooManyRequests)
}

func TestCommitThenDrop(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.SetFaults(emulator.Faults{CommitThenDrop: 1})
	_, err := c.send(t.Context(), http.MethodPost, "/crm/v3/objects/line_items/batch/create",
		map[string]any{"inputs": []any{input("a", props("name", "x")), input("b", props("name", "y"))}}, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want one wrapping io.ErrUnexpectedEOF", err)
	}
	if n := len(c.srv.LineItems()); n != 2 {
		t.Errorf("committed %d line items, want 2", n)
	}
	// A batch that commits nothing is answered normally, and search is unaffected.
	wantStatus(t, c.create(input("", props("price", "bad"))), http.StatusBadRequest)
	wantStatus(t, c.search(firstPage()), http.StatusOK)
	if st := c.srv.Stats(); st.Faults != 1 || st.BatchCreates != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCommitThenError(t *testing.T) {
	tests := []struct {
		statuses []int
		want     map[int]bool
	}{
		{nil, map[int]bool{502: true, 503: true, 504: true}},
		{[]int{500}, map[int]bool{500: true}},
	}
	for _, tt := range tests {
		c := newClient(t, emulator.Config{})
		c.srv.SetFaults(emulator.Faults{CommitThenErrorRate: 1, CommitThenStatuses: tt.statuses})
		seen := map[int]bool{}
		for i := range 20 {
			r := c.create(input("t", props("name", str(i))))
			if !tt.want[r.status] {
				t.Fatalf("status %d, want one of %v", r.status, tt.want)
			}
			seen[r.status] = true
		}
		if len(seen) != len(tt.want) {
			t.Errorf("saw %v, want all of %v", seen, tt.want)
		}
		if n := len(c.srv.LineItems()); n != 20 {
			t.Errorf("committed %d, want 20", n)
		}
	}
}

// TestCommitThenRowErrors: the batch creates line items and answers some
// of them with a per-input error of status "500": every traced input is a
// result or such an error, never both, at least one is an error, and the
// store holds every input's line item.
func TestCommitThenRowErrors(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.SetFaults(emulator.Faults{CommitThenRowErrorRate: 1})
	const n = 10
	for round := range 3 {
		var ins []any
		for i := range n {
			ins = append(ins, input(str(round*n+i), props("name", str(round*n+i))))
		}
		r, err := c.send(t.Context(), http.MethodPost, "/crm/v3/objects/line_items/batch/create", map[string]any{"inputs": ins}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, r, http.StatusMultiStatus)
		named := map[string]int{}
		for _, res := range r.body["results"].([]any) {
			named[res.(map[string]any)["objectWriteTraceId"].(string)]++
		}
		errs := r.body["errors"].([]any)
		if len(errs) == 0 || len(errs) == n {
			t.Errorf("%d of %d inputs answered with an error, want some and not all of them (at ½ each, all %d: a chance of 1 in 1,024)", len(errs), n, n)
		}
		for _, e := range errs {
			e := e.(map[string]any)
			if e["status"] != "500" || e["category"] != "INTERNAL_ERROR" {
				t.Errorf("error %v, want status 500, INTERNAL_ERROR", e)
			}
			for _, tr := range e["context"].(map[string]any)["objectWriteTraceId"].([]any) {
				named[tr.(string)]++
			}
		}
		for i := range n {
			if tr := str(round*n + i); named[tr] != 1 {
				t.Errorf("input %s named %d times in the answer, want once", tr, named[tr])
			}
		}
	}
	if got := len(c.srv.LineItems()); got != 3*n {
		t.Errorf("the store holds %d line items, want all %d", got, 3*n)
	}
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{})
		c.srv.SetFaults(emulator.Faults{Latency: 3 * time.Second})
		start := time.Now()
		wantStatus(t, c.create(input("a", props("name", "x"))), http.StatusCreated)
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("answer took %v, want 3s", d)
		}
	})
}

// TestAClientThatGoesAwayIsAnsweredAnyway: a client that stops waiting
// (a timeout, a kill) does not stop HubSpot's work on a request it has
// received: under both counting models, the batch is created after all.
func TestAClientThatGoesAwayIsAnsweredAnyway(t *testing.T) {
	for _, atCompletion := range []bool{false, true} {
		t.Run(fmt.Sprint("counted at completion: ", atCompletion), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newClient(t, emulator.Config{CountAtCompletion: atCompletion})
				c.srv.SetFaults(emulator.Faults{Latency: 3 * time.Second})
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				start := time.Now()
				_, err := c.send(ctx, http.MethodPost, "/crm/v3/objects/line_items/batch/create",
					map[string]any{"inputs": []any{input("a", props("name", "x"))}}, nil)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want context.DeadlineExceeded", err)
				}
				if d := time.Since(start); d != 2*time.Second {
					t.Errorf("returned after %v, want 2s", d)
				}
				synctest.Wait()
				if n := len(c.srv.LineItems()); n != 0 {
					t.Errorf("%d line items before the latency is over, want 0", n)
				}
				time.Sleep(time.Second)
				synctest.Wait()
				if st := c.srv.Stats(); st.BatchCreates != 1 || st.Orphaned != 1 || len(c.srv.LineItems()) != 1 {
					t.Errorf("the request was dropped with its client: %+v, %d line items", st, len(c.srv.LineItems()))
				}
			})
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newClient(t, emulator.Config{RateMax: -1, SearchPerSecond: -1, Seed: 7})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				r, err := c.send(context.Background(), http.MethodPost, "/crm/v3/objects/line_items/batch/create",
					map[string]any{"inputs": []any{input("", props("name", str(g*100+i)))}}, nil)
				if err == nil && r.status == http.StatusOK {
					t.Errorf("unexpected 200")
				}
				_, _ = c.send(context.Background(), http.MethodPost, "/crm/v3/objects/line_items/search", firstPage(), nil)
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			c.srv.SetFaults(emulator.Faults{ErrorRate: float64(i%2) / 2, CommitThenErrorRate: 0.1})
			_ = c.srv.Stats()
			_ = c.srv.LineItems()
		}
	})
	wg.Wait()
	st := c.srv.Stats()
	if st.Requests != 8*20*2 {
		t.Errorf("Requests = %d", st.Requests)
	}
	if len(c.srv.LineItems()) != st.BatchCreates {
		t.Errorf("%d line items for %d processed batch creates", len(c.srv.LineItems()), st.BatchCreates)
	}
}

// TestLateCommit: a batch create that HubSpot processes after its client
// stopped waiting still creates its line items, later.
func TestLateCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{RateMax: -1})
		c.srv.SetFaults(emulator.Faults{LateCommitRate: 1, LateCommit: 20 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		body := map[string]any{"inputs": []map[string]any{input("1", props("name", "late"))}}
		if r, err := c.send(ctx, http.MethodPost, "/crm/v3/objects/line_items/batch/create", body, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("answer %+v, %v; want the client's timeout", r, err)
		}
		time.Sleep(10 * time.Second) // 10 s after arrival: not yet
		if n := c.srv.LineItemCount(); n != 0 {
			t.Fatalf("%d line items before the late commit", n)
		}
		time.Sleep(15 * time.Second) // 25 s after arrival
		if n := c.srv.LineItemCount(); n != 1 {
			t.Fatalf("%d line items after the late commit, want 1", n)
		}
		if st := c.srv.Stats(); st.Faults != 1 {
			t.Errorf("faults %d, want 1", st.Faults)
		}
	})
}
