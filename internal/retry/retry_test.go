package retry

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestBackoff(t *testing.T) {
	base, max := 100*time.Millisecond, 2*time.Second
	cases := []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{0, 0.5, 0},
		{1, 0, 50 * time.Millisecond},
		{1, 0.999999999, 100 * time.Millisecond},
		{2, 0, 100 * time.Millisecond},
		{3, 0.5, 300 * time.Millisecond},
		{5, 1, 1600 * time.Millisecond},
		{6, 0, time.Second},             // capped at 2s, half fixed
		{60, 1, 2 * time.Second},        // no overflow
		{3, -1, 200 * time.Millisecond}, // jitter clamped
	}
	for _, tc := range cases {
		got := Backoff(tc.attempt, base, max, tc.jitter)
		if diff := got - tc.want; diff < -time.Microsecond || diff > time.Microsecond {
			t.Errorf("Backoff(%d, jitter %v) = %v, want %v", tc.attempt, tc.jitter, got, tc.want)
		}
	}
}

func TestWait(t *testing.T) {
	base, ceiling := time.Second, 30*time.Second
	cases := []struct {
		attempt    int
		retryAfter time.Duration
		jitter     float64
		want       time.Duration
	}{
		{1, 0, 0, 500 * time.Millisecond},        // the backoff
		{1, 5 * time.Second, 0, 5 * time.Second}, // at least Retry-After
		{4, 2 * time.Second, 1, 8 * time.Second}, // the backoff when longer
		{1, time.Hour, 0, 30 * time.Second},      // Retry-After capped
		{9, time.Hour, 1, 30 * time.Second},      // both capped
		{2, 1500 * time.Millisecond, 1, 2 * time.Second},
	}
	for _, tc := range cases {
		got := Wait(tc.attempt, base, ceiling, tc.retryAfter, tc.jitter)
		if diff := got - tc.want; diff < -time.Microsecond || diff > time.Microsecond {
			t.Errorf("Wait(%d, Retry-After %v, jitter %v) = %v, want %v", tc.attempt, tc.retryAfter, tc.jitter, got, tc.want)
		}
	}
}

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if !Sleep(context.Background(), 3*time.Second) || time.Since(start) != 3*time.Second {
			t.Errorf("Sleep did not wait 3s: %v", time.Since(start))
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(time.Second); cancel() }()
		start = time.Now()
		if Sleep(ctx, time.Hour) || time.Since(start) != time.Second {
			t.Errorf("Sleep was not cut short by cancel: %v", time.Since(start))
		}
		if Sleep(ctx, 0) {
			t.Error("Sleep(0) on a done context reported success")
		}
	})
}
