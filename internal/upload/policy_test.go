package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/hubspot"
)

func apiErr(status int, policy string, retryAfter time.Duration) error {
	return &hubspot.APIError{StatusCode: status, Category: "X", PolicyName: policy, RetryAfter: retryAfter, Message: "m"}
}

// taken is a refusal in words only: another record holds a unique value.
func taken(status int) error {
	return &hubspot.APIError{StatusCode: status, Category: "VALIDATION_ERROR", Message: "propertyValue: already has that value import_key"}
}

func TestDecide(t *testing.T) {
	p := Policy{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, ThrottleBase: time.Second, MaxDelay: 10 * time.Second}
	inDoubtOK := p
	inDoubtOK.RetryInDoubt = true
	upsert := p
	upsert.Idempotent = true
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
		capped  bool
	}{
		{"success", p, nil, 1, 100, Accept, "", 0, false},
		{"429 rolling retried", p, apiErr(429, hubspot.PolicyTenSecondly, 0), 1, 100, Retry, "RATE_LIMIT", 500 * time.Millisecond, false},
		{"429 honours a longer Retry-After", p, apiErr(429, hubspot.PolicyTenSecondly, 7*time.Second), 1, 100, Retry, "RATE_LIMIT", 7 * time.Second, false},
		{"429 daily stops", p, apiErr(429, hubspot.PolicyDaily, 0), 1, 100, Stop, "DAILY_LIMIT", 0, false},
		{"429 without a policy when the day's requests are used up stops", p,
			&hubspot.APIError{StatusCode: 429, Rate: hubspot.RateLimit{DailyKnown: true, Daily: 1000}}, 1, 100, Stop, "DAILY_LIMIT", 0, false},
		{"429 after the last attempt gives up: not sent", p, apiErr(429, "", 0), 3, 100, GiveUp, "RATE_LIMIT", 0, false},
		{"503 in doubt: HubSpot does not say it did nothing", p, apiErr(503, "", 0), 1, 100, MarkInDoubt, "HTTP_503", 0, false},
		{"503 resent when the user accepts duplicates", inDoubtOK, apiErr(503, "", 0), 2, 100, Retry, "X", 100 * time.Millisecond, false},
		{"423 retried", p, apiErr(423, "", 0), 1, 10, Retry, "X", 0, false},
		{"500 in doubt", p, apiErr(500, "", 0), 1, 100, MarkInDoubt, "HTTP_500", 0, false},
		{"502 in doubt", p, apiErr(502, "", 0), 1, 100, MarkInDoubt, "HTTP_502", 0, false},
		{"504 in doubt", p, apiErr(504, "", 0), 1, 100, MarkInDoubt, "HTTP_504", 0, false},
		{"502 resent when the user accepts duplicates", inDoubtOK, apiErr(502, "", 0), 1, 100, Retry, "X", 0, false},
		{"502 after the last resend the user accepted is in doubt", inDoubtOK, apiErr(502, "", 0), 3, 100, MarkInDoubt, "X", 0, false},
		{"lost after send in doubt", p, sentEOF, 1, 100, MarkInDoubt, "NO_ANSWER", 0, false},
		{"timeout after send in doubt", p, sentTimeout, 1, 100, MarkInDoubt, "TIMEOUT", 0, false},
		{"lost after send resent on request", inDoubtOK, sentEOF, 1, 100, Retry, "NO_ANSWER", 0, false},
		{"not sent retried", p, notSent, 1, 100, Retry, "NOT_SENT", 0, false},
		{"not sent, attempts used up", p, notSent, 3, 100, GiveUp, "NOT_SENT", 0, false},
		{"401 stops", p, apiErr(401, "", 0), 1, 100, Stop, "X", 0, false},
		{"403 stops", p, apiErr(403, "", 0), 1, 100, Stop, "X", 0, false},
		{"404 stops", p, apiErr(404, "", 0), 1, 100, Stop, "X", 0, false},
		{"400 on a batch splits", p, apiErr(400, "", 0), 1, 2, Split, "X", 0, false},
		{"400 on one row fails it", p, apiErr(400, "", 0), 1, 1, FailRows, "X", 0, false},
		{"413 splits", p, apiErr(413, "", 0), 1, 50, Split, "X", 0, false},
		{"409 on one row is a conflict", p, apiErr(409, "", 0), 1, 1, Conflict, "CONFLICT", 0, false},
		{"400 on one row that says its value is taken is a worded conflict", p, taken(400), 1, 1, Conflict, "VALIDATION_ERROR", 0, false},
		{"422 on one row that says its value is taken is a worded conflict", p, taken(422), 1, 1, Conflict, "VALIDATION_ERROR", 0, false},
		{"400 on one upserted row that says its value is taken is a worded conflict", upsert, taken(400), 1, 1, Conflict, "VALIDATION_ERROR", 0, false},
		{"400 on one row whose code says conflict is one", p, &hubspot.APIError{StatusCode: 400, Category: "OBJECT_ALREADY_EXISTS", Message: "m"}, 1, 1, Conflict, "CONFLICT", 0, false},
		{"400 on a batch that says a value is taken splits", p, taken(400), 1, 2, Split, "VALIDATION_ERROR", 0, false},
		{"422 on one row fails it", p, apiErr(422, "", 0), 1, 1, FailRows, "X", 0, false},
		{"421 says nothing of the rows: resent", p, apiErr(421, "", 0), 1, 20, Retry, "X", 0, false},
		{"408 on one row: resent, not failed", p, apiErr(408, "", 0), 1, 1, Retry, "X", 0, false},
		{"307 refused, resent", p, apiErr(307, "", 0), 1, 5, Retry, "X", 0, false},
		{"308 refused, resent", p, apiErr(308, "", 0), 1, 5, Retry, "X", 0, false},
		{"301 may have acted on the POST: in doubt", p, apiErr(301, "", 0), 1, 5, MarkInDoubt, "HTTP_301", 0, false},
		{"302 may have acted on the POST: in doubt", p, apiErr(302, "", 0), 1, 5, MarkInDoubt, "HTTP_302", 0, false},
		{"303 acted on the POST: in doubt", p, apiErr(303, "", 0), 1, 5, MarkInDoubt, "HTTP_303", 0, false},
		{"upsert: 303 resent", upsert, apiErr(303, "", 0), 1, 5, Retry, "X", 0, false},
		{"431 after the last attempt: not sent", p, apiErr(431, "", 0), 3, 5, GiveUp, "X", 0, false},
		{"a success not read as one: in doubt, never resent", p, apiErr(208, "", 0), 1, 5, MarkInDoubt, "HTTP_208", 0, false},
		{"a success not read as one, first attempt of many: in doubt", p, apiErr(299, "", 0), 1, 100, MarkInDoubt, "HTTP_299", 0, false},
		{"upsert: a success not read as one is resent", upsert, apiErr(205, "", 0), 1, 5, Retry, "X", 0, false},
		{"other error stops", p, errors.New("boom"), 1, 1, Stop, "INTERNAL", 0, false},
		{"409 on a batch splits", p, apiErr(409, "", 0), 1, 10, Split, "X", 0, false},
		{"423 waits at least the documented lock", p, apiErr(423, "", 0), 1, 10, Retry, "X", 2 * time.Second, false},
		{"423 honours a longer Retry-After", p, apiErr(423, "", 3*time.Second), 1, 10, Retry, "X", 3 * time.Second, false},
		{"429 with an absurd Retry-After waits the cap", p, apiErr(429, hubspot.PolicyTenSecondly, 3*time.Hour), 1, 100, Retry, "RATE_LIMIT", 60 * time.Second, true},
		{"477 stops resumably", p, apiErr(477, "", 0), 1, 100, Stop, "MIGRATION_IN_PROGRESS", 0, false},
		{"502 resent on request, attempts used up: in doubt, not failed", inDoubtOK, apiErr(502, "", 0), 3, 100, MarkInDoubt, "X", 0, false},
		{"upsert: 502 resent", upsert, apiErr(502, "", 0), 1, 100, Retry, "X", 0, false},
		{"upsert: 504 resent", upsert, apiErr(504, "", 0), 2, 100, Retry, "X", 0, false},
		{"upsert: lost after send resent", upsert, sentEOF, 1, 100, Retry, "NO_ANSWER", 0, false},
		{"upsert: timeout resent", upsert, sentTimeout, 1, 100, Retry, "NO_ANSWER", 0, false},
		{"upsert: 502, attempts used up: in doubt", upsert, apiErr(502, "", 0), 3, 100, MarkInDoubt, "X", 0, false},
		{"upsert: 429 retried as for creates", upsert, apiErr(429, hubspot.PolicyTenSecondly, 0), 1, 100, Retry, "RATE_LIMIT", 500 * time.Millisecond, false},
		{"upsert: 400 on a batch splits", upsert, apiErr(400, "", 0), 1, 100, Split, "X", 0, false},
		{"upsert: 400 on one row fails it", upsert, apiErr(400, "", 0), 1, 1, FailRows, "X", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.p.Decide(Attempt{Err: tc.err, N: tc.attempt, Items: tc.items})
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
			if d.Capped != tc.capped {
				t.Errorf("capped = %v", d.Capped)
			}
			if d.Action == MarkInDoubt && strings.Contains(d.Message, "did not process") {
				t.Errorf("in doubt, yet the message says HubSpot did nothing: %s", d.Message)
			}
			if worded := strings.Contains(tc.name, "worded"); d.Worded != worded {
				t.Errorf("worded = %v, want %v", d.Worded, worded)
			}
		})
	}
}
