package upload

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/retry"
)

// Action is what to do with a batch after one attempt to send it.
type Action int

// The actions [Policy.Decide] chooses from.
const (
	Accept      Action = iota + 1 // HubSpot answered 201/207: read the per-row results
	Retry                         // HubSpot did not act on the batch: send the same bytes again after Wait
	Split                         // the whole batch was rejected without per-row detail: send each half on its own
	FailRows                      // every row of the batch failed, for Code and Message
	MarkInDoubt                   // HubSpot may have acted on the batch; resending could create duplicates
	Stop                          // fatal for the run (auth, daily limit, wrong endpoint): send nothing more
	// Conflict: HubSpot refused a one-row batch because another record
	// holds one of its unique values (a 409, or a 400 or 422 that says so;
	// see hubspot.APIError.Conflict, and Decision.Worded). Nothing was created by this
	// request; if an earlier request for the row may have created it, the
	// row is looked up by its key.
	Conflict
	// GiveUp: HubSpot did not process the batch (429, 423, a request never
	// sent) and the attempts are used up. The rows are not sent; the
	// same command sends them again.
	GiveUp
)

func (a Action) String() string {
	return [...]string{"?", "accept", "retry", "split", "fail", "in-doubt", "stop", "conflict", "give-up"}[a]
}

// Decision is the outcome of [Policy.Decide].
type Decision struct {
	Action  Action
	Wait    time.Duration // before a Retry
	Code    string        // for FailRows and MarkInDoubt: the error code written to the report
	Message string
	// Doubtful is set on a Retry after an answer that HubSpot may have acted
	// on (only with RetryInDoubt): the rows may exist from now on.
	Doubtful bool
	// Capped is set when the answer's Retry-After was longer than
	// MaxRetryAfter and Wait was cut to it.
	Capped bool
	// Worded is set on a Conflict that only the answer's words tell (see
	// hubspot.APIError.MayBeConflict): the row is looked up by its key,
	// but a miss proves nothing, and the row failed for Code and Message.
	Worded bool
}

// Attempt describes one send of a batch, for [Policy.Decide].
type Attempt struct {
	Err    error   // what the send returned; nil for a 201/207
	N      int     // sends of this batch so far, this one included
	Items  int     // rows in the batch
	Jitter float64 // in [0, 1), spreads the retries of concurrent workers
}

// Policy decides what follows each attempt. It is a pure value: the same
// inputs always give the same Decision.
type Policy struct {
	MaxAttempts  int           // sends per batch, the first included; <1 means 1
	BaseDelay    time.Duration // first backoff after a 5xx or network error
	ThrottleBase time.Duration // first backoff after a 429 without Retry-After
	MaxDelay     time.Duration // cap of any backoff
	// MaxRetryAfter caps a Retry-After header (0 means 60 s): a value far
	// beyond HubSpot's 10-second window is a mistake (milliseconds sent as
	// seconds, say), and would stall every worker.
	MaxRetryAfter time.Duration
	// LockWait is the least wait after a 423 (0 means 2 s): HubSpot
	// documents a record lock of about two seconds.
	LockWait     time.Duration
	RetryInDoubt bool // resend even when HubSpot may have acted (risks duplicates)
	// Idempotent says the requests are upserts (or association creates):
	// applied twice they leave what they left once, so a request HubSpot
	// may have acted on is sent again, as with RetryInDoubt, without its
	// risk.
	Idempotent bool
}

// DefaultPolicy is the policy the importer uses unless told otherwise.
var DefaultPolicy = Policy{
	MaxAttempts:   8,
	BaseDelay:     500 * time.Millisecond,
	ThrottleBase:  time.Second,
	MaxDelay:      30 * time.Second,
	MaxRetryAfter: 60 * time.Second,
	LockWait:      2 * time.Second,
}

// mayHaveCreated is how a message says that a row may exist in HubSpot.
const mayHaveCreated = "HubSpot may have created"

// StatusMigrating is HubSpot's 477 "Migration in Progress": the portal is
// being moved between data centres and writes are refused for a while.
const StatusMigrating = 477

// Decide is the one place that decides whether a batch may be sent again.
//
// Batch create is not idempotent, so a resend is chosen only when HubSpot
// cannot have acted on the batch: a request that was never fully sent, a
// 429 or a 423. After a 500, 502, 503 or 504, or a connection lost once
// the request was sent, the rows are in doubt (unless RetryInDoubt, or
// Idempotent for upserts, which are resent).
func (p Policy) Decide(a Attempt) Decision {
	err, attempt, items, jitter := a.Err, a.N, a.Items, a.Jitter
	if err == nil {
		return Decision{Action: Accept}
	}
	// retry sends the batch again after a wait; with the attempts used up
	// it gives up: the rows are not sent, or, if HubSpot may have acted on
	// the batch (acted: only with RetryInDoubt or Idempotent), in doubt.
	retry := func(acted bool, base time.Duration, after time.Duration, code, msg string) Decision {
		if attempt >= max(p.MaxAttempts, 1) {
			if acted {
				return Decision{Action: MarkInDoubt, Code: code,
					Message: fmt.Sprintf("gave up after %d attempts; HubSpot may have acted on the batch: %s", attempt, msg)}
			}
			return Decision{Action: GiveUp, Code: code,
				Message: fmt.Sprintf("gave up after %d attempts; HubSpot did not process the batch: %s", attempt, msg)}
		}
		capped := false
		if limit := cmp.Or(p.MaxRetryAfter, 60*time.Second); after > limit {
			after, capped = limit, true
		}
		return Decision{Action: Retry, Wait: max(after, retry.Backoff(attempt, base, p.MaxDelay, jitter)), Code: code, Message: msg,
			Capped: capped, Doubtful: acted}
	}
	var te *hubspot.TransportError
	if errors.As(err, &te) {
		if !te.Sent {
			return retry(false, p.BaseDelay, 0, "NOT_SENT", te.Error())
		}
		if p.RetryInDoubt || p.Idempotent {
			return retry(true, p.BaseDelay, 0, "NO_ANSWER", te.Error())
		}
		code := "NO_ANSWER"
		if errors.Is(err, context.DeadlineExceeded) {
			code = "TIMEOUT"
		}
		return Decision{Action: MarkInDoubt, Code: code, Message: te.Error() + "; " + mayHaveCreated + " these rows"}
	}
	var ae *hubspot.APIError
	if !errors.As(err, &ae) {
		return Decision{Action: Stop, Code: "INTERNAL", Message: err.Error()}
	}
	code := ae.Code()
	if code == "" {
		code = fmt.Sprintf("HTTP_%d", ae.StatusCode)
	}
	switch s := ae.StatusCode; {
	case s == http.StatusTooManyRequests:
		if ae.Daily() {
			return Decision{Action: Stop, Code: "DAILY_LIMIT", Message: "HubSpot's daily request limit for this portal is used up (429 DAILY). " +
				"It resets at midnight in the portal's time zone; run the same command again after that and the import resumes where it stopped"}
		}
		return retry(false, p.ThrottleBase, ae.RetryAfter, "RATE_LIMIT", ae.Error())
	case s == http.StatusLocked:
		return retry(false, p.BaseDelay, max(ae.RetryAfter, cmp.Or(p.LockWait, 2*time.Second)), code, ae.Error())
	case s == StatusMigrating:
		return Decision{Action: Stop, Code: "MIGRATION_IN_PROGRESS", Message: "HubSpot is moving this portal between data centres (477 Migration in Progress) and refuses writes until it is done; " +
			"nothing was created by the refused request. Run the same command again later and the import resumes where it stopped"}
	case s >= 500 || s == http.StatusSeeOther || s == http.StatusFound || s == http.StatusMovedPermanently || s < 300:
		// A 5xx may come after the work was done. A 303 is the answer of a
		// server that acted on a POST and points at the result (which the
		// client does not follow); so may a 302 or a 301 be, as servers
		// answered POSTs before 303 was defined (HTTP lets a client follow
		// either with a GET). A success the client did not read as one (it
		// reads every 2xx of a batch write) says HubSpot acted.
		if p.RetryInDoubt || p.Idempotent {
			return retry(true, p.BaseDelay, ae.RetryAfter, code, ae.Error())
		}
		return Decision{Action: MarkInDoubt, Code: fmt.Sprintf("HTTP_%d", s),
			Message: ae.Error() + "; " + mayHaveCreated + " these rows"}
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return Decision{Action: Stop, Code: code, Message: authMessage(ae)}
	case s == http.StatusNotFound || s == http.StatusMethodNotAllowed:
		return Decision{Action: Stop, Code: code, Message: ae.Error() + " (is --base-url the API root?)"}
	case (s == http.StatusBadRequest || s == http.StatusRequestEntityTooLarge || s == http.StatusConflict || s == http.StatusUnprocessableEntity) && items > 1:
		return Decision{Action: Split, Code: code, Message: ae.Error()}
	case ae.Conflict():
		// A 409, or a 400 or 422 whose codes say another record holds the
		// row's unique value.
		return Decision{Action: Conflict, Code: "CONFLICT", Message: ae.ReadableMessage()}
	case ae.MayBeConflict():
		// Only words say so, and words are no proof: the value sent may
		// say them. The row is looked up; a miss leaves this refusal.
		return Decision{Action: Conflict, Worded: true, Code: code, Message: ae.ReadableMessage()}
	case s == http.StatusBadRequest || s == http.StatusRequestEntityTooLarge || s == http.StatusUnprocessableEntity:
		// One row, refused for what it holds.
		return Decision{Action: FailRows, Code: code, Message: ae.ReadableMessage()}
	}
	// Any other answer (408, 421, 425, 431, a 307 or 308 redirect, which
	// asks for the same request at another address, ...)
	// refused the request without a word about its rows: nothing was
	// processed, and the rows are sent again, then left not sent.
	return retry(false, p.BaseDelay, ae.RetryAfter, code, ae.Error())
}

// authMessage says what to do about a 401 or 403. It never includes the token.
func authMessage(ae *hubspot.APIError) string {
	if ae.StatusCode == http.StatusUnauthorized {
		return "HubSpot rejected the access token (401 " + ae.Category + "): check HUBSPOT_ACCESS_TOKEN or --token-file; the token may be wrong, expired or revoked"
	}
	if scopes := ae.MissingScopes(); len(scopes) > 0 {
		return fmt.Sprintf("the access token lacks a required scope (403): grant %v to the private app", scopes)
	}
	return "HubSpot refused the request (403 " + ae.Category + "): the token needs the scope crm.objects.line_items.write"
}
