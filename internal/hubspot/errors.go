package hubspot

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate-limit policies named in a 429 body.
const (
	PolicyTenSecondly = "TEN_SECONDLY_ROLLING"
	PolicySecondly    = "SECONDLY"
	PolicyDaily       = "DAILY"
)

// APIError is a non-success HTTP answer from HubSpot. It never holds the
// access token: HubSpot does not echo it and the client does not add it.
type APIError struct {
	StatusCode    int
	Category      string // e.g. VALIDATION_ERROR, INVALID_AUTHENTICATION, MISSING_SCOPES
	Message       string
	CorrelationID string
	PolicyName    string        // on a 429: TEN_SECONDLY_ROLLING, SECONDLY or DAILY
	RetryAfter    time.Duration // from the Retry-After header; 0 when absent
	Details       []ErrorDetail
	Context       map[string][]string
	Rate          RateLimit
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hubspot: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Category != "" {
		fmt.Fprintf(&b, " (%s)", e.Category)
	}
	if e.PolicyName != "" {
		fmt.Fprintf(&b, " policy %s", e.PolicyName)
	}
	if m := e.ReadableMessage(); m != "" {
		fmt.Fprintf(&b, ": %s", m)
	}
	if scopes := e.MissingScopes(); len(scopes) > 0 {
		fmt.Fprintf(&b, " (required scopes: %s)", strings.Join(scopes, ", "))
	}
	return b.String()
}

// Lasting reports whether the same request, made again soon, meets the same
// answer: a rejected token or scope, a bad request, a missing object, the
// daily limit. A 429 of a rolling window, a 423 (the portal is being moved)
// and a 5xx are not lasting: a read may simply be made again.
func (e *APIError) Lasting() bool {
	switch s := e.StatusCode; {
	case s == http.StatusTooManyRequests:
		return e.Daily()
	case s == http.StatusLocked, s >= 500:
		return false
	}
	return true
}

// NotFound reports whether the answer is a 404 that says the records asked
// for do not exist (see [StandardError.NotFound]), as HubSpot may answer a
// batch read that finds none of its inputs.
func (e *APIError) NotFound() bool {
	return e.StatusCode == http.StatusNotFound && notFound(e.Category)
}

// Daily reports whether the answer is a 429 of the daily limit: its
// policyName says DAILY, or, where the body names no policy, its headers
// say that none of the day's requests are left.
func (e *APIError) Daily() bool {
	if e.StatusCode != http.StatusTooManyRequests {
		return false
	}
	return e.PolicyName == PolicyDaily || (e.PolicyName == "" && e.Rate.DailyKnown && e.Rate.DailyRemaining <= 0)
}

// Code returns the most specific error code of the answer.
func (e *APIError) Code() string { return errorCode(e.Details, e.Message, e.Category) }

// ReadableMessage returns HubSpot's message with any embedded JSON list of
// property problems rendered as sentences, naming the record a conflict
// says holds the value, as [StandardError.ReadableMessage] does.
func (e *APIError) ReadableMessage() string {
	return withExistingID(errorMessage(e.Message), e.ExistingID())
}

// ExistingID returns the id of the record that a unique-value conflict
// names as holding the value, as [StandardError.ExistingID] does.
func (e *APIError) ExistingID() string { return existingID(e.Message, e.Context, e.Details) }

// Conflict reports whether HubSpot refused the request because another
// record already holds a unique value of an input: a 409, or a 400 or 422
// whose codes say so (see [StandardError.Conflict]).
func (e *APIError) Conflict() bool {
	switch e.StatusCode {
	case http.StatusConflict:
		return true
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return conflictByCode(e.Details, e.Message, e.Category)
	}
	return false
}

// MayBeConflict reports whether a 400 or 422 whose codes do not make it a
// conflict says in words that a value is taken (see
// [StandardError.MayBeConflict], and its caveat).
func (e *APIError) MayBeConflict() bool {
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return !e.Conflict() && conflictByWords(e.Details, e.Message)
	}
	return false
}

// TakenInWords reports whether a 400 or 422 says in words that the value
// of property is taken (see [StandardError.TakenInWords]).
func (e *APIError) TakenInWords(property string) bool {
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return takenInWords(e.Details, e.Message, property)
	}
	return false
}

// MissingScopes lists the scopes a 403 MISSING_SCOPES answer says are required.
func (e *APIError) MissingScopes() []string {
	var out []string
	for _, d := range e.Details {
		out = append(out, d.Context["requiredGranularScopes"]...)
		out = append(out, d.Context["requiredScopes"]...)
	}
	return out
}

// TransportError means no HTTP answer was read for a request.
//
// Sent reports whether the whole request had been written before the
// failure. When Sent is false HubSpot cannot have acted on the request and
// it is safe to send again; when true the outcome is unknown.
type TransportError struct {
	Sent bool
	Err  error
}

func (e *TransportError) Error() string {
	if e.Sent {
		return "hubspot: no answer after the request was sent: " + e.Err.Error()
	}
	return "hubspot: request not sent: " + e.Err.Error()
}

func (e *TransportError) Unwrap() error { return e.Err }

// RateLimit is what the X-HubSpot-RateLimit-* headers of one answer said.
// Known is false when the answer had none.
type RateLimit struct {
	Known          bool
	Max            int
	Remaining      int
	Interval       time.Duration
	DailyKnown     bool
	Daily          int
	DailyRemaining int
}

// ParseRateLimit reads HubSpot's rate-limit headers.
func ParseRateLimit(h http.Header) RateLimit {
	var rl RateLimit
	max, err1 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Max"))
	rem, err2 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Remaining"))
	if err1 == nil && err2 == nil {
		rl.Known, rl.Max, rl.Remaining = true, max, rem
		if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil {
			rl.Interval = time.Duration(ms) * time.Millisecond
		}
	}
	daily, err1 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Daily"))
	drem, err2 := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Daily-Remaining"))
	if err1 == nil && err2 == nil {
		rl.DailyKnown, rl.Daily, rl.DailyRemaining = true, daily, drem
	}
	return rl
}

// parseRetryAfter reads a Retry-After header given in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
