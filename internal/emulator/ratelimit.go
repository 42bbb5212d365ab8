package emulator

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// limiter is the rate-limit state of the portal. It is guarded by Server.mu.
type limiter struct {
	burst  window    // admitted burst-class requests, oldest first
	seen   window    // every burst-class request that reached the limiter
	search window    // admitted search requests
	day    time.Time // UTC midnight starting the current day
	daily  int       // requests admitted today
}

func (l *limiter) reset(now time.Time) { l.resetDay(now) }

func (l *limiter) resetDay(now time.Time) {
	l.day = midnightUTC(now)
	l.daily = 0
}

func midnightUTC(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// window is a queue of request times, oldest first. Dropping from the
// front is amortised O(1): the live times are ts[head:], and they are moved
// to the front of ts only once the dead prefix is at least as long.
type window struct {
	ts   []time.Time
	head int
}

// len is the number of times in the window.
func (w *window) len() int { return len(w.ts) - w.head }

// first is the oldest time; the window must not be empty.
func (w *window) first() time.Time { return w.ts[w.head] }

func (w *window) push(t time.Time) { w.ts = append(w.ts, t) }

// prune drops the times at or before cutoff: a window holds (now-interval, now].
func (w *window) prune(cutoff time.Time) {
	for w.head < len(w.ts) && !w.ts[w.head].After(cutoff) {
		w.head++
	}
	switch {
	case w.head == len(w.ts):
		w.ts, w.head = w.ts[:0], 0
	case w.head >= 64 && w.head >= len(w.ts)-w.head:
		n := copy(w.ts, w.ts[w.head:])
		w.ts, w.head = w.ts[:n], 0
	}
}

// rateLimitBody is HubSpot's 429 body.
type rateLimitBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	ErrorType     string `json:"errorType"`
	CorrelationID string `json:"correlationId"`
	PolicyName    string `json:"policyName"`
	GroupName     string `json:"groupName"`
	RequestID     string `json:"requestId"`
}

// Policies reported in 429 bodies.
const (
	PolicyTenSecondly = "TEN_SECONDLY_ROLLING"
	PolicyDaily       = "DAILY"
	PolicySecondly    = "SECONDLY"
)

// admit applies the rate limits of class to one authenticated request. It
// sets the rate-limit headers on w and returns true if the request may
// proceed; otherwise it has answered 429.
//
// Rules (see the package documentation for sources and choices):
//   - an injected 429 (Faults.RateLimitRate) is drawn first and counts
//     against nothing;
//   - the daily quota is checked next, then the burst window (or, for search,
//     the secondly window);
//   - only admitted requests count against the windows and the day.
func (s *Server) admit(w http.ResponseWriter, class rateClass) bool {
	now := s.cfg.Now()
	s.mu.Lock()
	l := &s.limits
	if m := midnightUTC(now); m.After(l.day) {
		l.day, l.daily = m, 0
	}
	interval, rateMax := s.cfg.RateInterval, s.cfg.RateMax
	if class == classBurst {
		l.seen.prune(now.Add(-interval))
		l.seen.push(now)
		s.stats.MaxInWindow = max(s.stats.MaxInWindow, l.seen.len())
		l.burst.prune(now.Add(-interval))
	}
	if class == classSearch {
		l.search.prune(now.Add(-time.Second))
	}

	policy := ""
	injected := s.faults.RateLimitRate > 0 && s.rng.Float64() < s.faults.RateLimitRate
	retryAfter := 0
	switch {
	case injected:
		policy = PolicyTenSecondly
		if class == classSearch {
			policy = PolicySecondly
		}
		if s.faults.RetryAfter {
			retryAfter = 1
			if class == classBurst && rateMax > 0 && l.burst.len() >= rateMax {
				retryAfter = int(math.Ceil(l.burst.first().Add(interval).Sub(now).Seconds()))
			}
			retryAfter = max(retryAfter, 1)
		}
		s.stats.Faults++
	case s.cfg.DailyLimit > 0 && l.daily >= s.cfg.DailyLimit:
		policy = PolicyDaily
	case class == classBurst && rateMax > 0 && l.burst.len() >= rateMax:
		policy = PolicyTenSecondly
	case class == classSearch && s.cfg.SearchPerSecond > 0 && l.search.len() >= s.cfg.SearchPerSecond:
		policy = PolicySecondly
	default:
		switch class {
		case classBurst:
			l.burst.push(now)
		case classSearch:
			l.search.push(now)
		}
		l.daily++
	}
	if policy != "" {
		s.stats.Throttled++
	}

	h := w.Header()
	if class == classBurst && rateMax > 0 {
		remaining := rateMax - l.burst.len()
		if policy != "" {
			remaining = 0
		}
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(rateMax))
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(interval.Milliseconds(), 10))
	}
	if s.cfg.DailyLimit > 0 {
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(s.cfg.DailyLimit))
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(s.cfg.DailyLimit-l.daily, 0)))
	}
	s.mu.Unlock()

	if policy == "" {
		return true
	}
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	var msg, group string
	switch policy {
	case PolicyDaily:
		msg, group = "You have reached your daily limit.", "publicapi:private-app-daily"
	case PolicySecondly:
		msg, group = "You have reached your secondly limit.", "publicapi:crm-search-secondly"
	default:
		msg, group = "You have reached your ten_secondly_rolling limit.", "publicapi:private-app-ten-secondly"
	}
	id := s.correlationID()
	h.Set("X-HubSpot-Correlation-Id", id)
	writeJSON(w, http.StatusTooManyRequests, rateLimitBody{
		Status:        "error",
		Message:       msg,
		ErrorType:     "RATE_LIMIT",
		CorrelationID: id,
		PolicyName:    policy,
		GroupName:     fmt.Sprintf("%s:%d", group, s.cfg.Account.PortalID),
		RequestID:     s.correlationID(),
	})
	return false
}
