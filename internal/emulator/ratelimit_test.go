package emulator_test

import (
	"net/http"
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
