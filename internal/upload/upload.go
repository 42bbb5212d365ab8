// Package upload sends batches to HubSpot's batch-create endpoint through a
// rate-limited pool of workers and records what became of every row.
//
// An [Uploader] guarantees that each row of each batch it takes is recorded
// exactly once: created (with its id), failed (with HubSpot's reason) or in
// doubt. Whether a batch is sent again is decided by [Policy.Decide] alone.
// A batch is encoded once and the same bytes are resent.
package upload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/pacer"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/retry"
)

// Sender posts one encoded batch. *hubspot.Client implements it.
type Sender interface {
	BatchCreate(ctx context.Context, body []byte) (*hubspot.BatchResult, error)
}

// Recorder takes the outcomes of rows. *report.Writer implements it.
type Recorder interface {
	Record(outs ...report.Outcome) error
}

// Journal keeps the durable record of what was sent and what became of
// it. *journal.Journal implements it. Sent returns once the record is on
// disk; Await does the same for the record queued for a batch with its
// Ticket; Cancel drops that record for a batch that will not be sent; Done
// returns once the outcomes are written where a killed process cannot lose
// them. An error is fatal.
type Journal interface {
	Sent(rows []int) error
	Await(ticket uint64) error
	Cancel(ticket uint64)
	Done(outs []report.Outcome) error
}

// Finder looks up which keys exist in HubSpot. *resolve.Resolver
// implements it. An error means the lookup could not be completed.
type Finder interface {
	Find(ctx context.Context, keys []string) (map[string]string, error)
}

// Pacer admits requests under the portal's rate limit and learns from each
// answer. *pacer.Pacer implements it.
type Pacer interface {
	Acquire(ctx context.Context) (pacer.Release, error)
}

// Uploader sends batches. Set the fields before calling Run; do not change
// them afterwards.
type Uploader struct {
	Sender   Sender
	Recorder Recorder
	Journal  Journal // nil: no journal
	Finder   Finder  // nil: rows without a clear answer stay in doubt
	Pacer    Pacer   // shared by all workers; nil means no limit
	Policy   Policy
	Workers  int // requests in flight at most; <1 means 1
	Log      *zap.Logger
	Jitter   func() float64 // nil means math/rand/v2
	// SettleDelay is waited before searching for rows in doubt, so that
	// HubSpot's search index catches up with a create it just committed;
	// round n waits n times as long. 0 means none.
	SettleDelay time.Duration
	// MaxRounds bounds search-and-resend rounds for rows in doubt; <1 means 5.
	MaxRounds int

	requests  atomic.Int64
	retries   atomic.Int64
	throttled atomic.Int64
	batches   atomic.Int64
	resolved  atomic.Int64
	searched  atomic.Int64
}

// Stats counts what the uploader did so far.
type Stats struct {
	Requests  int // batch-create requests sent
	Retries   int // resends
	Throttled int // 429 answers
	Batches   int // batches finished (split halves count on their own)
	Searched  int // rows looked up by key after no clear answer
	Resolved  int // of those, rows found created
}

// Stats returns the counters; it is safe to call while Run is going.
func (u *Uploader) Stats() Stats {
	return Stats{Requests: int(u.requests.Load()), Retries: int(u.retries.Load()),
		Throttled: int(u.throttled.Load()), Batches: int(u.batches.Load()),
		Searched: int(u.searched.Load()), Resolved: int(u.resolved.Load())}
}

// StopError is returned by Run when HubSpot's answer means no further
// request can succeed: a rejected token, a missing scope, the daily limit,
// or a wrong endpoint. The rows of the batch that met it are recorded as
// failed with code NOT_SENT or as in doubt, as the answer allows.
type StopError struct {
	Code string
	Msg  string
	Err  error // the *hubspot.APIError
}

func (e *StopError) Error() string { return e.Msg }
func (e *StopError) Unwrap() error { return e.Err }

// Run sends the batches it receives until the channel is closed, ctx is
// done or a StopError occurs. Once ctx is done no new request starts; a
// request already under way is given its answer (bounded by the HTTP
// client's timeout) so that its rows are not left in doubt. Rows of a batch
// taken but not sent are recorded as failed with code NOT_SENT.
//
// It returns nil, ctx.Err(), a *StopError, or a Recorder error (fatal).
func (u *Uploader) Run(ctx context.Context, batches <-chan *chunker.Batch) error {
	g, gctx := errgroup.WithContext(ctx)
	for range max(u.Workers, 1) {
		g.Go(func() error {
			for {
				if gctx.Err() != nil { // stopping wins over a batch that is ready
					return nil
				}
				select {
				case <-gctx.Done():
					return nil
				case b, ok := <-batches:
					if !ok {
						return nil
					}
					if err := u.send(gctx, b); err != nil {
						return err
					}
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// Drain records every row of the batches still in the channel with
// [Unsent], for the caller to use after Run stopped early.
func (u *Uploader) Drain(batches <-chan *chunker.Batch, why string) error {
	for b := range batches {
		if err := u.Discard(b, why); err != nil {
			return err
		}
	}
	return nil
}

// Discard records the rows of a batch the run will not send because it is
// stopping, as [Unsent] describes them, in the journal and the reports.
// An error is fatal.
func (u *Uploader) Discard(b *chunker.Batch, why string) error {
	u.cancel(b)
	return u.record(Unsent(b, why)...)
}

// cancel drops the journal record queued for b if it is not written yet:
// b will not be sent (again), and its outcomes are about to be recorded.
func (u *Uploader) cancel(b *chunker.Batch) {
	if u.Journal != nil && b.Ticket != 0 {
		u.Journal.Cancel(b.Ticket)
	}
}

// Unsent returns the outcomes of a batch's rows when the run stops before
// sending it: [NotSent], so that a later run sends them, except for a
// batch marked Recheck. Its rows were sent by an earlier run without a
// clear answer and were not looked up: they stay in doubt, so that a later
// run looks them up too instead of sending them blindly. why says why the
// run stopped.
func Unsent(b *chunker.Batch, why string) []report.Outcome {
	if !b.Recheck {
		return NotSent(b.Items, why)
	}
	return allRows(b.Items, report.InDoubt, "NO_ANSWER",
		"an earlier run sent this row and got no clear answer; this run stopped before looking it up")
}

// NotSent returns the outcomes of rows the run will not send because it is
// stopping: failed with code NOT_SENT, so that a later run sends them.
func NotSent(items []*chunker.Item, why string) []report.Outcome {
	outs := make([]report.Outcome, len(items))
	for i, it := range items {
		outs[i] = report.Outcome{Row: it.Row, Record: it.Record, Status: report.Failed, Code: report.CodeNotSent,
			Message: "not sent: " + why}
	}
	return outs
}

// record writes outcomes to the journal, then to the reports: a crash in
// between leaves the journal ahead, and the next run rebuilds the reports
// from it.
func (u *Uploader) record(outs ...report.Outcome) error {
	if u.Journal != nil {
		if err := u.Journal.Done(outs); err != nil {
			return err
		}
	}
	return u.Recorder.Record(outs...)
}

// send delivers one batch and records its rows. It returns an error only
// when the run must stop. A batch marked Recheck holds rows that may exist
// already: they are looked up before anything is sent.
func (u *Uploader) send(ctx context.Context, b *chunker.Batch) error {
	if b.Recheck {
		return u.settle(ctx, b.Items, "HTTP_UNKNOWN", "an earlier run sent these rows and got no clear answer", 0)
	}
	return u.sendRound(ctx, b, 0, false)
}

// sendRound sends a batch; round > 0 means its rows were sent before
// without a clear answer and a search did not find them. doubt says that
// an earlier attempt may have been processed (a search can lag behind a
// create): if the run stops before this batch is answered, its rows are
// then in doubt, not NOT_SENT, so that a later run looks them up again.
func (u *Uploader) sendRound(ctx context.Context, b *chunker.Batch, round int, doubt bool) error {
	log := u.log()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		release := func(hubspot.RateLimit, bool, time.Duration) {}
		if u.Pacer != nil {
			var err error
			if release, err = u.Pacer.Acquire(ctx); errors.Is(err, pacer.ErrDailyReserve) {
				msg := "the portal's daily request quota is down to --daily-reserve; run the same command again after HubSpot resets it at midnight (portal time zone) to resume"
				return u.stop(b, doubt, &StopError{Code: "DAILY_RESERVE", Msg: msg, Err: err})
			} else if err != nil {
				return u.abandon(ctx, b, doubt)
			}
		}
		if attempt == 1 {
			// Journalled once a slot is granted, so that rows waiting for
			// one are not on record as sent.
			if err := u.journalSent(b); err != nil {
				release(hubspot.RateLimit{}, false, 0)
				return err
			}
		}
		if ctx.Err() != nil { // stopped while waiting for the slot or the disk
			release(hubspot.RateLimit{}, false, 0)
			return u.abandon(ctx, b, doubt)
		}
		u.requests.Add(1)
		// The request itself is not cancelled with ctx: once sent, its answer
		// is worth waiting for (the HTTP client's timeout bounds it).
		res, err := u.Sender.BatchCreate(context.WithoutCancel(ctx), b.Body)
		rl, throttled, retryAfter := rateOf(res, err)
		release(rl, throttled, retryAfter)
		if throttled {
			u.throttled.Add(1)
		}
		d := u.Policy.Decide(Attempt{Err: err, N: attempt, Items: len(b.Items), Recheck: round > 0, Jitter: u.jitter()})
		switch d.Action {
		case Accept:
			u.batches.Add(1)
			outs := Outcomes(b, res)
			log.Debug("batch answered", zap.Int("first_row", b.Items[0].Row), zap.Int("rows", len(b.Items)),
				zap.Int("status", res.StatusCode), zap.Int("errors", len(res.Errors)), zap.Int("attempts", attempt),
				zap.Duration("took", time.Since(start)))
			if u.Finder == nil {
				return u.record(outs...)
			}
			// Rows the answer did not mention are looked up like any other
			// row without a clear answer.
			var known []report.Outcome
			var unclear []*chunker.Item
			for i, o := range outs {
				if o.Status == report.InDoubt {
					unclear = append(unclear, b.Items[i])
					continue
				}
				known = append(known, o)
			}
			if err := u.record(known...); err != nil || len(unclear) == 0 {
				return err
			}
			return u.settle(ctx, unclear, codeMissingResult, msgMissingResult, round+1)
		case Retry:
			u.retries.Add(1)
			doubt = doubt || d.Doubtful
			log.Debug("batch will be resent", zap.Int("first_row", b.Items[0].Row), zap.String("code", d.Code),
				zap.Int("attempt", attempt), zap.Duration("wait", d.Wait))
			if !retry.Sleep(ctx, d.Wait) {
				return u.abandon(ctx, b, doubt)
			}
		case Split:
			mid := len(b.Items) / 2
			log.Debug("batch rejected as a whole; splitting", zap.Int("first_row", b.Items[0].Row),
				zap.Int("rows", len(b.Items)), zap.String("code", d.Code))
			if err := u.sendRound(ctx, chunker.NewBatch(b.Items[:mid]), round, doubt); err != nil {
				return err
			}
			return u.sendRound(ctx, chunker.NewBatch(b.Items[mid:]), round, doubt)
		case MarkInDoubt:
			u.batches.Add(1)
			if u.Finder != nil {
				log.Debug("batch got no clear answer; looking its rows up", zap.Int("first_row", b.Items[0].Row),
					zap.Int("rows", len(b.Items)), zap.String("code", d.Code))
				return u.settle(ctx, b.Items, d.Code, d.Message, round+1)
			}
			log.Debug("batch in doubt", zap.Int("first_row", b.Items[0].Row), zap.Int("rows", len(b.Items)), zap.String("code", d.Code))
			return u.record(allRows(b.Items, report.InDoubt, d.Code, d.Message)...)
		case FailRows:
			u.batches.Add(1)
			log.Debug("batch failed", zap.Int("first_row", b.Items[0].Row), zap.Int("rows", len(b.Items)), zap.String("code", d.Code))
			return u.record(allRows(b.Items, report.Failed, d.Code, d.Message)...)
		case Stop:
			return u.stop(b, doubt, &StopError{Code: d.Code, Msg: d.Message, Err: err})
		}
	}
}

// journalSent returns once the journal has the batch's rows on disk as
// sent: its queued record when the batch came from the channel with a
// ticket, else (split halves, resends after a search) a record of its own.
func (u *Uploader) journalSent(b *chunker.Batch) error {
	if u.Journal == nil {
		return nil
	}
	if b.Ticket != 0 {
		return u.Journal.Await(b.Ticket)
	}
	return u.Journal.Sent(b.AppendRows(make([]int, 0, len(b.Items))))
}

// stop records a batch that will not be sent (again) because the run must
// stop, and returns se: its rows were not sent, or are in doubt if an
// earlier attempt may have been processed.
func (u *Uploader) stop(b *chunker.Batch, doubt bool, se *StopError) error {
	u.cancel(b)
	outs := NotSent(b.Items, se.Msg)
	if doubt {
		outs = allRows(b.Items, report.InDoubt, se.Code, se.Msg)
	}
	if err := u.record(outs...); err != nil {
		return err
	}
	return se
}

// settle resolves rows that got no clear answer: rows whose key is found
// in HubSpot are created (with the id found), the others are sent again,
// which cannot create a duplicate because the key property is unique. A
// row with no key, a failed search or too many rounds leaves rows in doubt.
func (u *Uploader) settle(ctx context.Context, items []*chunker.Item, code, msg string, round int) error {
	log := u.log()
	var keyed []*chunker.Item
	var outs []report.Outcome
	for _, it := range items {
		if it.Key == "" {
			outs = append(outs, outcome(it, report.InDoubt, code, msg+"; the row has no key to look it up by"))
			continue
		}
		keyed = append(keyed, it)
	}
	if len(keyed) == 0 {
		return u.record(outs...)
	}
	maxRounds := u.MaxRounds
	if maxRounds < 1 {
		maxRounds = 5
	}
	if round > maxRounds {
		for _, it := range keyed {
			outs = append(outs, outcome(it, report.InDoubt, code, fmt.Sprintf("%s; still unresolved after %d lookups", msg, round-1)))
		}
		return u.record(outs...)
	}
	if !retry.Sleep(ctx, time.Duration(max(round, 1))*u.SettleDelay) {
		for _, it := range keyed {
			outs = append(outs, outcome(it, report.InDoubt, code, msg+"; the run stopped before the rows could be looked up"))
		}
		return u.record(outs...)
	}
	keys := make([]string, len(keyed))
	for i, it := range keyed {
		keys[i] = it.Key
	}
	u.searched.Add(int64(len(keyed)))
	found, err := u.Finder.Find(ctx, keys)
	if err != nil {
		log.Warn("looking up rows in doubt failed", zap.Int("rows", len(keyed)), zap.Error(err))
		for _, it := range keyed {
			outs = append(outs, outcome(it, report.InDoubt, code, msg+"; looking the row up by its key failed: "+err.Error()))
		}
		return u.record(outs...)
	}
	var missing []*chunker.Item
	for _, it := range keyed {
		if id, ok := found[it.Key]; ok {
			o := outcome(it, report.Created, "", "")
			o.ID = id
			outs = append(outs, o)
			u.resolved.Add(1)
			continue
		}
		missing = append(missing, it)
	}
	log.Debug("rows in doubt looked up", zap.Int("found", len(keyed)-len(missing)), zap.Int("resending", len(missing)), zap.Int("round", round))
	if len(outs) > 0 {
		if err := u.record(outs...); err != nil {
			return err
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return u.sendRound(ctx, chunker.NewBatch(missing), max(round, 1), true)
}

func outcome(it *chunker.Item, st report.Status, code, msg string) report.Outcome {
	return report.Outcome{Row: it.Row, Record: it.Record, Status: st, Code: code, Message: msg}
}

// rateOf extracts what an answer says about the rate limit: the headers,
// whether it was a 429, and its Retry-After.
func rateOf(res *hubspot.BatchResult, err error) (hubspot.RateLimit, bool, time.Duration) {
	if res != nil {
		return res.Rate, false, 0
	}
	var ae *hubspot.APIError
	if errors.As(err, &ae) {
		return ae.Rate, ae.StatusCode == 429, ae.RetryAfter
	}
	return hubspot.RateLimit{}, false, 0
}

// abandon records a batch that will not be sent (again) because the run is
// stopping: not sent, or in doubt if an earlier attempt may have been
// processed.
func (u *Uploader) abandon(ctx context.Context, b *chunker.Batch, doubt bool) error {
	u.cancel(b)
	why := "the run was stopped (" + context.Cause(ctx).Error() + ")"
	if doubt {
		return u.record(allRows(b.Items, report.InDoubt, "NO_ANSWER", "an earlier attempt got no clear answer and "+why)...)
	}
	return u.record(NotSent(b.Items, why)...)
}

func allRows(items []*chunker.Item, st report.Status, code, msg string) []report.Outcome {
	outs := make([]report.Outcome, len(items))
	for i, it := range items {
		outs[i] = outcome(it, st, code, msg)
	}
	return outs
}

const (
	codeMissingResult = "MISSING_RESULT"
	msgMissingResult  = "HubSpot's answer named neither a result nor an error for this row"
)

// Outcomes matches a 201/207 answer to the batch's rows by
// objectWriteTraceId, never by position. A row named by neither a result
// nor an error is in doubt: HubSpot answered but did not say what became of
// it.
func Outcomes(b *chunker.Batch, res *hubspot.BatchResult) []report.Outcome {
	byTrace := make(map[string]int, len(b.Items))
	for i, it := range b.Items {
		byTrace[it.TraceID()] = i
	}
	outs := make([]report.Outcome, len(b.Items))
	for _, r := range res.Results {
		i, ok := byTrace[r.ObjectWriteTraceID]
		if !ok || outs[i].Status != 0 || r.ID == "" {
			continue
		}
		outs[i] = report.Outcome{Status: report.Created, ID: r.ID}
	}
	for _, e := range res.Errors {
		for _, t := range e.TraceIDs() {
			i, ok := byTrace[t]
			if !ok || outs[i].Status != 0 {
				continue
			}
			outs[i] = report.Outcome{Status: report.Failed, Code: e.Code(), Message: e.ReadableMessage()}
		}
	}
	for i, it := range b.Items {
		if outs[i].Status == 0 {
			outs[i] = report.Outcome{Status: report.InDoubt, Code: codeMissingResult, Message: msgMissingResult}
		}
		outs[i].Row, outs[i].Record = it.Row, it.Record
	}
	return outs
}

func (u *Uploader) jitter() float64 {
	if u.Jitter != nil {
		return u.Jitter()
	}
	return rand.Float64()
}

func (u *Uploader) log() *zap.Logger {
	if u.Log != nil {
		return u.Log
	}
	return zap.NewNop()
}
