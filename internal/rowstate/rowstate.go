// Package rowstate holds the importer's central rule in one place: once a
// request that carried a row may have reached HubSpot, the row may exist,
// and only proof changes that.
//
// A [Row] is the state of one input row during a run. It starts out either
// unsent, or (for a row that an earlier run sent without a clear answer)
// possibly existing. Each request that carries the row reports its fate to
// the Row: [Row.Begin] before it goes out, then [Row.NotProcessed] when
// HubSpot's answer proves it did nothing with the request (a 429, a 423, a
// whole-batch rejection, a request that never left), or
// [Row.Unclear] when HubSpot may have acted on it (a 5xx, a timeout, a
// dropped connection). A request left begun and never resolved counts as
// unclear.
//
// [Row.Close] turns what the run concludes about the row into the outcome
// that may be recorded, and is the only way to make a row final:
//
//   - Created needs proof: HubSpot's answer named the row with an id, or a
//     lookup by key found it.
//   - Failed and not sent are allowed only while no request that may have
//     reached HubSpot carried the row. For a row that may exist they become
//     in doubt, with the reason kept in the message, unless the verdict
//     proves the row does not exist ([Absent]).
//   - In doubt is always allowed.
//   - Unlinked (an upserted row whose association failed) needs the row's
//     id, the proof that it exists; it is recorded failed, never created.
//
// A row is closed at most once; closing it again is an error (a bug in the
// caller, which the caller must treat as fatal).
package rowstate

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/lineitems/importer/internal/report"
)

// State is where a row stands.
type State uint32

// The states of a row. Unsent and MayExist are open; the rest are final.
const (
	Unsent   State = iota // no request that may have reached HubSpot carried it
	InFlight              // a request carrying it is out, its fate unknown yet
	MayExist              // a request that may have reached HubSpot carried it
	Closed                // an outcome was recorded
)

func (s State) String() string {
	switch s {
	case Unsent:
		return "unsent"
	case InFlight:
		return "in flight"
	case MayExist:
		return "may exist"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", uint32(s))
}

// Row is the state of one row. The zero value is an unsent row. A Row is
// safe for concurrent use, though one worker at a time handles a row.
type Row struct {
	s        atomic.Uint32
	mayExist atomic.Bool // sticky: some request may have been processed
	thisRun  atomic.Bool // sticky: some request of this run may have been processed
}

// Resume starts a row that an earlier run sent without recording a clear
// answer: it may exist. (A request of this run in flight, were there one,
// would still count as this run's.)
func (r *Row) Resume() {
	if r.State() == InFlight {
		r.thisRun.Store(true)
	}
	r.mayExist.Store(true)
	r.s.Store(uint32(MayExist))
}

// State returns where the row stands now.
func (r *Row) State() State { return State(r.s.Load()) }

// MayExist reports whether a request that may have reached HubSpot carried
// the row (a request now in flight counts).
func (r *Row) MayExist() bool {
	return r.mayExist.Load() || r.State() == InFlight
}

// MayExistByThisRun reports whether a request of this run that carried
// the row may have reached HubSpot (a request now in flight counts). A
// line item found by the row's key while it does not was there before the
// run: created by an earlier run, another folder or another tool.
func (r *Row) MayExistByThisRun() bool {
	return r.State() == InFlight || r.thisRun.Load()
}

// ErrClosed is returned when a row is sent or closed after it was closed.
var ErrClosed = errors.New("rowstate: row already has an outcome")

// Begin records that a request carrying the row is about to go out.
func (r *Row) Begin() error {
	switch r.State() {
	case Closed:
		return ErrClosed
	case InFlight: // the request before never had its fate told
		r.mayExist.Store(true)
		r.thisRun.Store(true)
	}
	r.s.Store(uint32(InFlight))
	return nil
}

// NotProcessed records that HubSpot certainly did nothing with the request
// that carried the row. The row goes back to what it was before.
func (r *Row) NotProcessed() { r.settle() }

// Unclear records that HubSpot may have acted on the request that carried
// the row: from now on the row may exist.
func (r *Row) Unclear() {
	r.mayExist.Store(true)
	r.thisRun.Store(true)
	r.settle()
}

func (r *Row) settle() {
	if r.State() != InFlight {
		return
	}
	if r.mayExist.Load() {
		r.s.Store(uint32(MayExist))
	} else {
		r.s.Store(uint32(Unsent))
	}
}

// Kind is what a verdict says about a row.
type Kind int

// The verdicts.
const (
	// Created: HubSpot's answer named the row with its id, or a lookup by
	// key found it. ID must be set.
	Created Kind = iota + 1
	// Failed: HubSpot (or the importer, before sending) rejected the row.
	// For a row that may exist this only says the last request failed.
	Failed
	// Absent: proof that the row does not exist, whatever earlier requests
	// did (a unique-value conflict with a record that is not the row's).
	Absent
	// NotSent: HubSpot never processed the row: the run stops before
	// (re)sending it, or gave up resending it after answers that prove
	// HubSpot did nothing (429s, 423s, refused connections). Code, if set,
	// says why.
	NotSent
	// Doubt: no clear answer.
	Doubt
	// Unlinked: the row was upserted (ID set: it exists) but an
	// association it asks for could not be made. It is recorded failed,
	// with its id, never as created; the same command sends it again.
	Unlinked
)

// Verdict is what the run concludes about a row.
type Verdict struct {
	Kind    Kind
	ID      string // for Created and Unlinked
	Earlier bool   // for Created: the line item was there before this run (found by key)
	// Action, for Created in upsert mode, says what the upsert did:
	// report.ActionCreated, report.ActionUpdated, or report.ActionUpserted
	// when HubSpot's answer did not say.
	Action  string
	Code    string // for the other kinds
	Message string
}

// Check returns the error [Row.Close] returns for v on any open row: a
// Created or Unlinked verdict needs an id. A caller closing several rows
// checks every verdict first, so that none is closed by a call that fails.
func (v Verdict) Check() error {
	if (v.Kind == Created || v.Kind == Unlinked) && v.ID == "" {
		return errors.New("rowstate: created without an id")
	}
	return nil
}

// Close applies the rule to v and returns the outcome to record for the
// row (without Row and Record, which the caller fills in), making the row
// final. It returns [ErrClosed] if the row already has an outcome, and
// v.Check's error.
func (r *Row) Close(v Verdict) (report.Outcome, error) {
	if err := v.Check(); err != nil {
		return report.Outcome{}, err
	}
	may := r.MayExist()
	if State(r.s.Swap(uint32(Closed))) == Closed {
		return report.Outcome{}, ErrClosed
	}
	return outcome(v, may), nil
}

// Outcome returns what [Row.Close] would record for v, without closing the
// row.
func (r *Row) Outcome(v Verdict) report.Outcome { return outcome(v, r.MayExist()) }

func outcome(v Verdict, mayExist bool) report.Outcome {
	switch v.Kind {
	case Created:
		return report.Outcome{Status: report.Created, ID: v.ID, Earlier: v.Earlier, Action: v.Action}
	case Unlinked:
		// The row exists (its id is known) whatever earlier requests did:
		// failed, for the association, and sent again by the next run.
		return report.Outcome{Status: report.Failed, ID: v.ID, Code: v.Code, Message: v.Message}
	case Absent:
		return report.Outcome{Status: report.Failed, Code: v.Code, Message: v.Message}
	case Failed:
		if !mayExist {
			return report.Outcome{Status: report.Failed, Code: v.Code, Message: v.Message}
		}
		return report.Outcome{Status: report.InDoubt, Code: v.Code,
			Message: v.Message + "; an earlier request for this row may have created it, so it is in doubt, not failed"}
	case NotSent:
		if !mayExist {
			if v.Code == "" {
				return report.Outcome{Status: report.NotSent, Code: report.CodeNotSent, Message: "not sent: " + v.Message}
			}
			return report.Outcome{Status: report.NotSent, Code: v.Code, Message: v.Message}
		}
		return report.Outcome{Status: report.InDoubt, Code: "NO_ANSWER",
			Message: "an earlier request for this row got no clear answer, and " + v.Message}
	default:
		return report.Outcome{Status: report.InDoubt, Code: v.Code, Message: v.Message}
	}
}
