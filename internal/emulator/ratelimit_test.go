package emulator_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

func TestBurstWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{RateMax: 3, RateInterval: 10 * time.Second})
		send := func() *response { return c.create(input("", props("name", "x"))) }

		for i, wantRemaining := range []string{"2", "1", "0"} {
			r := send()
			wantStatus(t, r, http.StatusCreated)
			if got := r.header.Get("X-HubSpot-RateLimit-Remaining"); got != wantRemaining {
				t.Errorf("request %d: Remaining = %s, want %s", i, got, wantRemaining)
			}
			if r.header.Get("X-HubSpot-RateLimit-Max") != "3" || r.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" {
				t.Errorf("headers: %v", r.header)
			}
			if r.header.Get("X-HubSpot-RateLimit-Daily") != "" {
				t.Error("daily headers without a daily limit")
			}
			time.Sleep(time.Second)
		}
		// t=3s: the window (t-10s, t] holds 3 requests.
		r := send()
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.body["status"] != "error" || r.body["errorType"] != "RATE_LIMIT" || r.body["policyName"] != emulator.PolicyTenSecondly ||
			r.body["message"] != "You have reached your ten_secondly_rolling limit." || r.body["correlationId"] == nil || r.body["groupName"] == nil {
			t.Errorf("429 body: %s", r.raw)
		}
		if r.header.Get("Retry-After") != "" {
			t.Error("genuine 429 carries Retry-After")
		}
		if r.header.Get("X-HubSpot-RateLimit-Remaining") != "0" {
			t.Errorf("429 Remaining = %q", r.header.Get("X-HubSpot-RateLimit-Remaining"))
		}
		// The rejected request did not count: at t=10s the first request (t=0) leaves the window.
		time.Sleep(7 * time.Second)
		wantStatus(t, send(), http.StatusCreated)
		wantStatus(t, send(), http.StatusTooManyRequests)
		time.Sleep(time.Second) // t=11s: the t=1s request leaves at exactly t=11s
		wantStatus(t, send(), http.StatusCreated)

		st := c.srv.Stats()
		if st.Throttled != 2 || st.Requests != 7 || st.BatchCreates != 5 {
			t.Errorf("stats = %+v", st)
		}
		if st.MaxInWindow != 5 {
			t.Errorf("MaxInWindow = %d, want 5 (attempts, throttled ones included)", st.MaxInWindow)
		}
		if n := len(c.srv.LineItems()); n != 5 {
			t.Errorf("created %d, want 5", n)
		}
	})
}

func TestWellBehavedClientStaysWithinWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{RateMax: 10, RateInterval: 10 * time.Second})
		for range 30 {
			wantStatus(t, c.create(input("", props("name", "x"))), http.StatusCreated)
			time.Sleep(time.Second)
		}
		if st := c.srv.Stats(); st.MaxInWindow != 10 || st.Throttled != 0 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestUnlimitedRate(t *testing.T) {
	c := newClient(t, emulator.Config{RateMax: -1})
	for range 150 {
		r := c.do(http.MethodGet, "/crm/v3/properties/line_items", nil)
		wantStatus(t, r, http.StatusOK)
		if r.header.Get("X-HubSpot-RateLimit-Max") != "" {
			t.Fatal("unlimited portal sent burst headers")
		}
	}
}

func TestDailyQuota(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{DailyLimit: 3})
		get := func() *response { return c.do(http.MethodGet, "/crm/v3/properties/line_items", nil) }
		for _, want := range []string{"2", "1"} {
			r := get()
			wantStatus(t, r, http.StatusOK)
			if r.header.Get("X-HubSpot-RateLimit-Daily") != "3" || r.header.Get("X-HubSpot-RateLimit-Daily-Remaining") != want {
				t.Errorf("daily headers: %v", r.header)
			}
		}
		// Search counts towards the day and carries the daily headers only.
		r := c.search(firstPage())
		wantStatus(t, r, http.StatusOK)
		if r.header.Get("X-HubSpot-RateLimit-Daily-Remaining") != "0" || r.header.Get("X-HubSpot-RateLimit-Max") != "" {
			t.Errorf("search headers: %v", r.header)
		}
		r = get()
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.body["policyName"] != emulator.PolicyDaily || r.body["message"] != "You have reached your daily limit." {
			t.Errorf("daily 429: %s", r.raw)
		}
		wantStatus(t, c.search(firstPage()), http.StatusTooManyRequests)

		c.srv.ResetDaily()
		wantStatus(t, get(), http.StatusOK)
		wantStatus(t, get(), http.StatusOK)
		wantStatus(t, get(), http.StatusOK)
		wantStatus(t, get(), http.StatusTooManyRequests)

		// The next UTC day starts a new quota.
		now := time.Now().UTC()
		time.Sleep(time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now))
		wantStatus(t, get(), http.StatusOK)
		if st := c.srv.Stats(); st.Throttled != 3 {
			t.Errorf("Throttled = %d, want 3", st.Throttled)
		}
	})
}

func TestSearchSecondlyLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{RateMax: 2})
		for range 5 {
			r := c.search(firstPage())
			wantStatus(t, r, http.StatusOK)
			for _, h := range []string{"X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining", "X-HubSpot-RateLimit-Interval-Milliseconds"} {
				if r.header.Get(h) != "" {
					t.Errorf("search response carries %s", h)
				}
			}
		}
		r := c.search(firstPage())
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.body["policyName"] != emulator.PolicySecondly || r.body["message"] != "You have reached your secondly limit." || r.body["errorType"] != "RATE_LIMIT" {
			t.Errorf("search 429: %s", r.raw)
		}
		// Searches do not use the burst window (RateMax 2).
		wantStatus(t, c.create(input("", props("name", "x"))), http.StatusCreated)
		time.Sleep(time.Second)
		wantStatus(t, c.search(firstPage()), http.StatusOK)
		if st := c.srv.Stats(); st.Searches != 6 || st.Throttled != 1 || st.MaxInWindow != 1 {
			t.Errorf("stats = %+v", st)
		}
	})
}

// TestWhenRequestsAreCounted: on arrival (the default), a request is
// counted before its latency, and one that finds the window full is refused
// at once; at completion, it is counted, and refused, only once its
// latency has passed.
func TestWhenRequestsAreCounted(t *testing.T) {
	for _, atCompletion := range []bool{false, true} {
		t.Run(fmt.Sprint("at completion=", atCompletion), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newClient(t, emulator.Config{RateMax: 2, RateInterval: 10 * time.Second, CountAtCompletion: atCompletion})
				c.srv.SetFaults(emulator.Faults{Latency: 2 * time.Second})
				var wg sync.WaitGroup
				answers := make([]*response, 2)
				for i := range answers {
					wg.Go(func() { answers[i] = c.create(input(fmt.Sprint(i+1), props("name", fmt.Sprint("n", i)))) })
				}
				time.Sleep(time.Second) // both are on their way
				start := time.Now()
				third := c.create(input("3", props("name", "third")))
				took := time.Since(start)
				wg.Wait()
				wantStatus(t, third, http.StatusTooManyRequests)
				want := time.Duration(0) // refused on arrival
				if atCompletion {
					want = 2 * time.Second
				}
				if took != want {
					t.Errorf("the third request was refused after %v, want %v", took, want)
				}
				for _, a := range answers {
					wantStatus(t, a, http.StatusCreated)
				}
			})
		})
	}
}

// TestLatencyRange: with LatencyMax, each request takes between Latency and
// LatencyMax, not always the same.
func TestLatencyRange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{RateMax: -1, Seed: 3})
		c.srv.SetFaults(emulator.Faults{Latency: 500 * time.Millisecond, LatencyMax: 1500 * time.Millisecond})
		seen := map[time.Duration]bool{}
		for i := range 20 {
			start := time.Now()
			wantStatus(t, c.create(input(fmt.Sprint(i+1), props("name", fmt.Sprint("n", i)))), http.StatusCreated)
			d := time.Since(start)
			if d < 500*time.Millisecond || d >= 1500*time.Millisecond {
				t.Fatalf("latency %v outside [0.5 s, 1.5 s)", d)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("%d distinct latencies in 20 requests", len(seen))
		}
	})
}
