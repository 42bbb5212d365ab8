package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/hubspot"
)

func apiErr(status int, policy string, retryAfter time.Duration) error {
	return &hubspot.APIError{StatusCode: status, Category: "X", PolicyName: policy, RetryAfter: retryAfter, Message: "m"}
}

func TestDecide(t *testing.T) {
	p := Policy{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, ThrottleBase: time.Second, MaxDelay: 10 * time.Second}
	inDoubtOK := p
	inDoubtOK.RetryInDoubt = true
	sentEOF := &hubspot.TransportError{Sent: true, Err: io.ErrUnexpectedEOF}
	sentTimeout := &hubspot.TransportError{Sent: true, Err: fmt.Errorf("Post: %w", context.DeadlineExceeded)}
	notSent := &hubspot.TransportError{Sent: false, Err: errors.New("connection refused")}
	cases := []struct {
		name    string
		p       Policy
		err     error
		attempt int
		items   int
		want    Action
		code    string
		wait    time.Duration // checked when non-zero (jitter 0 gives half the backoff)
	}{
		{"success", p, nil, 1, 100, Accept, "", 0},
		{"429 rolling retried", p, apiErr(429, hubspot.PolicyTenSecondly, 0), 1, 100, Retry, "RATE_LIMIT", 500 * time.Millisecond},
		{"429 honours a longer Retry-After", p, apiErr(429, hubspot.PolicyTenSecondly, 7*time.Second), 1, 100, Retry, "RATE_LIMIT", 7 * time.Second},
		{"429 daily stops", p, apiErr(429, hubspot.PolicyDaily, 0), 1, 100, Stop, "DAILY_LIMIT", 0},
		{"429 after the last attempt fails the rows", p, apiErr(429, "", 0), 3, 100, FailRows, "RATE_LIMIT", 0},
		{"503 retried", p, apiErr(503, "", 0), 2, 100, Retry, "X", 100 * time.Millisecond},
		{"423 retried", p, apiErr(423, "", 0), 1, 10, Retry, "X", 0},
		{"500 in doubt", p, apiErr(500, "", 0), 1, 100, MarkInDoubt, "HTTP_500", 0},
		{"502 in doubt", p, apiErr(502, "", 0), 1, 100, MarkInDoubt, "HTTP_502", 0},
		{"504 in doubt", p, apiErr(504, "", 0), 1, 100, MarkInDoubt, "HTTP_504", 0},
		{"502 resent when the user accepts duplicates", inDoubtOK, apiErr(502, "", 0), 1, 100, Retry, "X", 0},
		{"lost after send in doubt", p, sentEOF, 1, 100, MarkInDoubt, "NO_ANSWER", 0},
		{"timeout after send in doubt", p, sentTimeout, 1, 100, MarkInDoubt, "TIMEOUT", 0},
		{"lost after send resent on request", inDoubtOK, sentEOF, 1, 100, Retry, "NO_ANSWER", 0},
		{"not sent retried", p, notSent, 1, 100, Retry, "NOT_SENT", 0},
		{"not sent, attempts used up", p, notSent, 3, 100, FailRows, "NOT_SENT", 0},
		{"401 stops", p, apiErr(401, "", 0), 1, 100, Stop, "X", 0},
		{"403 stops", p, apiErr(403, "", 0), 1, 100, Stop, "X", 0},
		{"404 stops", p, apiErr(404, "", 0), 1, 100, Stop, "X", 0},
		{"400 on a batch splits", p, apiErr(400, "", 0), 1, 2, Split, "X", 0},
		{"400 on one row fails it", p, apiErr(400, "", 0), 1, 1, FailRows, "X", 0},
		{"413 splits", p, apiErr(413, "", 0), 1, 50, Split, "X", 0},
		{"409 on one row fails it", p, apiErr(409, "", 0), 1, 1, FailRows, "X", 0},
		{"other error stops", p, errors.New("boom"), 1, 1, Stop, "INTERNAL", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.p.Decide(tc.err, tc.attempt, tc.items, 0)
			if d.Action != tc.want {
				t.Fatalf("action = %v, want %v (%+v)", d.Action, tc.want, d)
			}
			if tc.code != "" && d.Code != tc.code {
				t.Errorf("code = %q, want %q", d.Code, tc.code)
			}
			if tc.wait != 0 && d.Wait != tc.wait {
				t.Errorf("wait = %v, want %v", d.Wait, tc.wait)
			}
			if d.Action == Retry && d.Wait <= 0 {
				t.Errorf("retry without a wait")
			}
		})
	}
}

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
