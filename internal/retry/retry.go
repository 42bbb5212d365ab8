// Package retry holds the waiting half of retry policies: the backoff
// schedule, the wait of a read made again, and a sleep that gives way to
// cancellation. They are shared by batch creates, lookups and the reads
// before an import; what may be retried is decided elsewhere.
package retry

import (
	"context"
	"math"
	"time"
)

// Backoff returns the wait before send attempt+1: capped exponential
// (base·2^(attempt−1), at most max) with "equal jitter": half of it fixed,
// half scaled by jitter in [0, 1).
func Backoff(attempt int, base, max time.Duration, jitter float64) time.Duration {
	if attempt < 1 || base <= 0 {
		return 0
	}
	d := float64(base) * math.Pow(2, float64(attempt-1))
	if max > 0 && d > float64(max) {
		d = float64(max)
	}
	jitter = math.Min(math.Max(jitter, 0), 1)
	return time.Duration(d/2 + d/2*jitter)
}

// Wait returns the wait before a read is made again after attempt failed:
// Backoff(attempt, base, ceiling, jitter), but never shorter than the
// answer's Retry-After (retryAfter, 0 for none), itself at most ceiling.
func Wait(attempt int, base, ceiling, retryAfter time.Duration, jitter float64) time.Duration {
	return max(Backoff(attempt, base, ceiling, jitter), min(retryAfter, ceiling))
}

// Sleep waits for d or until ctx is done, and reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
