// Package upload sends batches to HubSpot's batch-create endpoint through a
// rate-limited pool of workers and records what became of every row.
//
// An [Uploader] guarantees that each row of each batch it takes is recorded
// exactly once: created (with its id), failed (with HubSpot's reason) or in
// doubt. Whether a batch is sent again is decided by [Policy.Decide] alone.
// A batch is encoded once and the same bytes are resent.
package upload

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/lineitems/importer/internal/casefold"
	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/pacer"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/retry"
	"github.com/lineitems/importer/internal/rowstate"
)

// Sender posts one encoded batch: a batch create or, for an upsert
// import, a batch upsert. The same bytes may be passed again to resend.
type Sender interface {
	Send(ctx context.Context, body []byte) (*hubspot.BatchResult, error)
}

// SenderFunc adapts a function, such as (*hubspot.Client).BatchCreate, to
// a Sender.
type SenderFunc func(ctx context.Context, body []byte) (*hubspot.BatchResult, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
	return f(ctx, body)
}

// Associator makes associations from line items to records of another
// type. *hubspot.Client implements it.
type Associator interface {
	CreateAssociations(ctx context.Context, toObjectType string, inputs []hubspot.AssociationInput) (*hubspot.AssociationResult, error)
}

// Recorder takes the outcomes of rows. *report.Writer implements it.
type Recorder interface {
	Record(outs ...report.Outcome) error
}

// Journal keeps the durable record of what was sent and what became of
// it. *journal.Journal implements it. Sent returns once the record is on
// disk, and skips empty identities (rows not journalled); Await does the same for the record queued for a batch with its
// Ticket; Cancel drops that record for a batch that will not be sent; Done
// returns once the outcomes are written where a killed process cannot lose
// them. An error is fatal.
type Journal interface {
	Sent(idents []string) error
	Await(ticket uint64) error
	Cancel(ticket uint64)
	Done(outs []report.Outcome) error
}

// Finder looks up which keys exist in HubSpot. *resolve.Resolver
// implements it. An error means the lookup could not be completed.
type Finder interface {
	Find(ctx context.Context, keys []string) (map[string]string, error)
}

// casedFinder is a Finder that also tells which keys not found exactly a
// record holds in another case. *resolve.Resolver implements it. Without
// it, a row refused for a conflict whose key is not found exactly fails
// (for that refusal, when only words called it a conflict), or stays in
// doubt if an earlier request may have created it.
type casedFinder interface {
	FindCased(ctx context.Context, keys []string) (found, cased map[string]string, err error)
}

// holderReader is a Finder that also reads line items by their ids: the
// key each holds. *resolve.Resolver implements it. With it, a row refused
// for a unique value that HubSpot says line item N holds, and whose key no
// line item is found to hold, is checked against N: reads may lag behind
// creates, and N may hold the row's very key. Without it, such a row
// fails (or stays in doubt if an earlier request may have created it).
type holderReader interface {
	KeysOf(ctx context.Context, ids []string) (map[string]string, error)
}

// Pacer admits requests under the portal's rate limit and learns from each
// answer. *pacer.Pacer implements it.
type Pacer interface {
	Acquire(ctx context.Context) (pacer.Release, error)
}

// readier is a Pacer told how many requests are held back before Acquire
// (workers waiting for their turn to take a batch). *pacer.Pacer
// implements it.
type readier interface {
	Ready(n int)
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
	// MaxRounds bounds lookup-and-resend rounds for rows in doubt; <1 means 5.
	MaxRounds int
	// InFlight, if set, counts the batch creates waiting for an answer.
	InFlight *atomic.Int64
	// Abandon, if set, cancels the requests in flight when it is done:
	// a request's answer is otherwise waited for even after the run's
	// context ends. An abandoned request that may have reached HubSpot
	// leaves its rows in doubt, as a timeout does.
	Abandon context.Context
	// Idempotent says the batches are upserts: sending a row again cannot
	// create it twice. A row without a clear answer is then sent again
	// (up to MaxRounds times) instead of being looked up; a unique-value
	// conflict on a row's first send proves that the row does not exist
	// (its own key would have been matched, not conflicted with), and
	// after a request that may have reached HubSpot, the row is sent again.
	Idempotent bool
	// KeyProperty is the unique property that holds each row's key (""
	// for none): create results that carry no objectWriteTraceId are
	// matched to their rows by it.
	KeyProperty string
	// Associator, for an upsert import, makes the associations of the
	// rows each batch upserted (upsert inputs carry none): one call per
	// target type per batch, paced like the batches. A row counts as
	// created only once its associations are made.
	Associator Associator

	// Warnings that every worker may meet at once are logged at most
	// once in 10 s each.
	cappedWarn, lookupWarn, giveUpWarn rate.Sometimes

	requests  atomic.Int64
	retries   atomic.Int64
	throttled atomic.Int64
	batches   atomic.Int64
	resolved  atomic.Int64
	searched  atomic.Int64
	// interrupted counts the rows whose outcome the run's stop decided.
	interrupted atomic.Int64
	abandoned   atomic.Int64

	associations atomic.Int64
}

// Stats counts what the uploader did so far.
type Stats struct {
	Requests  int // batch requests sent: creates or upserts, and association creates
	Retries   int // resends
	Throttled int // 429 answers
	Batches   int // batches finished (split halves count on their own)
	Searched  int // rows looked up by key: after no clear answer, or a refusal for a taken value
	Resolved  int // of those, rows found created
	// Associations counts the batch creates of associations sent after
	// upserts.
	Associations int
	// Interrupted counts the rows whose outcome the run's stop decided:
	// not sent, in doubt or unlinked because the run stopped before it
	// sent them (again), looked them up or made their associations.
	Interrupted int
	// Abandoned counts the requests whose answers were no longer waited
	// for once Abandon was done: their rows are in doubt because the run
	// was stopped.
	Abandoned int
}

// Stats returns the counters; it is safe to call while Run is going.
func (u *Uploader) Stats() Stats {
	return Stats{Requests: int(u.requests.Load()), Retries: int(u.retries.Load()),
		Throttled: int(u.throttled.Load()), Batches: int(u.batches.Load()),
		Searched: int(u.searched.Load()), Resolved: int(u.resolved.Load()), Associations: int(u.associations.Load()),
		Interrupted: int(u.interrupted.Load()), Abandoned: int(u.abandoned.Load())}
}

// StopError is returned by Run when HubSpot's answer means no further
// request can succeed: a rejected token, a missing scope, the daily limit,
// or a wrong endpoint. The rows of the batch that met it are recorded as
// not sent or as in doubt, as the answer allows.
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
// taken but not sent are recorded as not sent, or as in doubt if an earlier
// request for them may have been processed (see package rowstate).
//
// It returns nil, ctx.Err(), a *StopError, or a *RecordError or other error
// from the journal or the reports (fatal).
func (u *Uploader) Run(ctx context.Context, batches <-chan *chunker.Batch) error {
	u.cappedWarn.Interval, u.lookupWarn.Interval, u.giveUpWarn.Interval = 10*time.Second, 10*time.Second, 10*time.Second
	g, gctx := errgroup.WithContext(ctx)
	// waiting bounds the batches taken from the channel that wait for a
	// slot in the rate window: workers are many, to keep a window's worth
	// of slow requests in flight, but a batch waiting for its slot is
	// memory spent for nothing. A worker holds a token from before it takes
	// a batch until the pacer grants the batch's first request a slot.
	// While a worker waits for a token, the pacer is told (Ready): it may
	// send a window's requests as one wave, and needs to know how many of
	// them are coming.
	waiting := make(chan struct{}, min(max(u.Workers, 1), maxWaiting))
	ready := func(int) {}
	if r, ok := u.Pacer.(readier); ok {
		ready = r.Ready
	}
	for range max(u.Workers, 1) {
		g.Go(func() error {
			for {
				if gctx.Err() != nil { // stopping wins over a batch that is ready
					return nil
				}
				ready(1)
				select {
				case <-gctx.Done():
					ready(-1)
					return nil
				case waiting <- struct{}{}:
					ready(-1)
				}
				var once sync.Once
				granted := func() { once.Do(func() { <-waiting }) }
				select {
				case <-gctx.Done():
					granted()
					return nil
				case b, ok := <-batches:
					if !ok {
						granted()
						return nil
					}
					err := u.send(gctx, b, granted)
					granted()
					if err != nil {
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

// maxWaiting is how many batches taken by workers may wait for a slot in
// the rate window at once.
const maxWaiting = 16

// Drain records every row of the batches still in the channel as
// [Uploader.Discard] does, for the caller to use after Run stopped early.
func (u *Uploader) Drain(batches <-chan *chunker.Batch, why string) error {
	var errs []error
	for b := range batches {
		errs = append(errs, u.Discard(b, why))
	}
	return errors.Join(errs...)
}

// Discard records the rows of a batch the run will not send because it is
// stopping: not sent, so that a later run sends them, or in doubt for rows
// that an earlier request may have created (a batch marked Recheck), so
// that a later run looks them up instead of sending them blindly. why says
// why the run stopped. An error is fatal.
func (u *Uploader) Discard(b *chunker.Batch, why string) error {
	u.cancel(b)
	return u.concludeStopped(b.Items, why)
}

// cancel drops the journal record queued for b if it is not written yet:
// b will not be sent (again), and its outcomes are about to be recorded.
func (u *Uploader) cancel(b *chunker.Batch) {
	if u.Journal != nil && b.Ticket != 0 {
		u.Journal.Cancel(b.Ticket)
		b.Ticket = 0
	}
}

// concludeStopped closes items the run does not (re)send because it stops,
// and counts them as interrupted.
func (u *Uploader) concludeStopped(items []*chunker.Item, why string) error {
	u.interrupted.Add(int64(len(items)))
	return u.conclude(items, rowstate.Verdict{Kind: rowstate.NotSent, Message: why})
}

// conclude closes every item with the same verdict, as concludeEach does.
func (u *Uploader) conclude(items []*chunker.Item, v rowstate.Verdict) error {
	return u.concludeEach(items, func(int) rowstate.Verdict { return v })
}

// concludeEach closes items[i] with verdict(i) (see package rowstate, which
// decides what may be recorded for a row that may exist) and records the
// outcomes. It is the one place where the uploader records outcomes.
func (u *Uploader) concludeEach(items []*chunker.Item, verdict func(i int) rowstate.Verdict) error {
	verdicts := make([]rowstate.Verdict, len(items))
	for i, it := range items {
		// All checked before any is closed: a row closed and then not
		// recorded, because a later row's verdict is wrong, would be lost.
		verdicts[i] = verdict(i)
		if err := verdicts[i].Check(); err != nil {
			return fmt.Errorf("row %d: %w", it.Row, err)
		}
	}
	outs := make([]report.Outcome, 0, len(items))
	for i, it := range items {
		v := verdicts[i]
		o, err := it.State.Close(v)
		if err != nil {
			return fmt.Errorf("row %d: %w", it.Row, err)
		}
		o.Row, o.Record, o.Ident, o.FailIdent, o.Version = it.Row, it.Record, it.Ident, it.FailIdent, it.Version
		if v.Kind == rowstate.Unlinked || (u.Idempotent && v.Code == "CONFLICT") {
			// The content is fine (Unlinked), or the conflict may pass (a
			// record another writer made with the key meanwhile, which the
			// next upsert updates): the next run sends the row again.
			o.FailIdent = ""
		}
		outs = append(outs, o)
	}
	return u.record(outs)
}

// RecordError is returned when outcomes HubSpot gave could not be written
// to the journal, the reports, or both. It says where they can still be
// found; the run stops, since its account can no longer be trusted.
type RecordError struct {
	Rows    string // the rows concerned, e.g. "rows 101-200"
	Created int    // how many of them HubSpot created
	Journal error  // nil if the journal holds them
	Reports error  // nil if the reports hold them
}

func (e *RecordError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recording the outcomes of %s (%d created in HubSpot) failed: ", e.Rows, e.Created)
	switch {
	case e.Journal != nil && e.Reports != nil:
		fmt.Fprintf(&b, "journal: %v; reports: %v. The created rows and their ids are in the error log lines above", e.Journal, e.Reports)
	case e.Journal != nil:
		fmt.Fprintf(&b, "journal: %v. The reports hold them (and the error log lines above, the created ids): copy the reports before running again, "+
			"since a new run rewrites them from the journal, which will lack these outcomes (with --key-property it looks those rows up again; without, it reports them in doubt)", e.Journal)
	default:
		fmt.Fprintf(&b, "reports: %v. The journal holds them: once the folder is writable, run the same command again and the reports are rebuilt from it", e.Reports)
	}
	return b.String()
}

func (e *RecordError) Unwrap() []error { return []error{e.Journal, e.Reports} }

// record writes outcomes to the journal, then to the reports: a crash in
// between leaves the journal ahead, and the next run rebuilds the reports
// from it. A failure of one does not keep the outcomes from the other;
// when either fails, created rows and their ids are also logged.
func (u *Uploader) record(outs []report.Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	var jerr, rerr error
	if u.Journal != nil {
		jerr = u.Journal.Done(outs)
	}
	rerr = u.Recorder.Record(outs...)
	if jerr == nil && rerr == nil {
		return nil
	}
	e := &RecordError{Rows: rowSpan(outs), Journal: jerr, Reports: rerr}
	for _, o := range outs {
		if o.Status == report.Created {
			e.Created++
			u.log().Error("created in HubSpot, but not recorded everywhere", zap.Int("row", o.Row), zap.String("id", o.ID))
		} else if o.Status == report.InDoubt {
			u.log().Error("in doubt, but not recorded everywhere", zap.Int("row", o.Row), zap.String("code", o.Code))
		}
	}
	return e
}

// rowSpan names the rows of outs for a message.
func rowSpan(outs []report.Outcome) string {
	lo, hi := outs[0].Row, outs[0].Row
	for _, o := range outs {
		lo, hi = min(lo, o.Row), max(hi, o.Row)
	}
	if lo == hi {
		return fmt.Sprintf("row %d", lo)
	}
	return fmt.Sprintf("%d rows between %d and %d", len(outs), lo, hi)
}

// job is a piece of work on some of a batch's rows: send them, or look
// them up by key first.
type job struct {
	items  []*chunker.Item
	body   []byte         // the encoded request; nil means encode items
	batch  *chunker.Batch // the batch from the channel, while the job is all of it
	lookup bool           // look the rows up before anything else
	// conflict: HubSpot refused the rows because a record holds one of
	// their unique values; a lookup that does not find a row's exact key
	// then proves that the row does not exist if no request before this
	// one may have created it, or if a record holds its key in another
	// case (see lookUp).
	conflict bool
	// worded: only the answer's words said the rows' values are taken
	// (hubspot.StandardError.MayBeConflict). A row found is created; a
	// row not found failed for HubSpot's own reason, ifMissing's verdict
	// for it (else code and msg), which leaves a row that may exist in
	// doubt, unless the words said that its key is taken (keyTaken): then
	// it is in doubt (keyTakenInWords).
	worded   bool
	keyTaken map[*chunker.Item]bool
	// ifMissing holds, for rows of a conflict or worded job refused each
	// with an error of its own, that error's verdict (else code and msg
	// stand for it): see msgOf.
	ifMissing map[*chunker.Item]rowstate.Verdict
	// refused: HubSpot refused the whole batch, saying a unique value is
	// taken (a 409, say), and nothing of it was created: its rows are
	// looked up by key before the batch is split, and the rows not found
	// are sent again together, with looked set.
	refused bool
	// looked: the rows were looked up after such a refusal; another one
	// splits the batch, as any whole-batch refusal does.
	looked bool
	round  int // lookups done so far for these rows (resends, for upserts)
	// assoc: the rows were upserted, with the verdicts in upserted; their
	// associations are to be made.
	assoc     bool
	upserted  []rowstate.Verdict
	code, msg string
	// granted, when set, is called once the job's first request has its
	// slot in the rate window (or will not get one).
	granted func()
}

// msgOf is the message HubSpot refused row it with: its own error's, else
// the job's.
func (j job) msgOf(it *chunker.Item) string {
	_, msg := j.own(it)
	return msg
}

// own is the code and message HubSpot refused row it with: its own
// error's, else the job's.
func (j job) own(it *chunker.Item) (code, msg string) {
	if v, ok := j.ifMissing[it]; ok {
		return v.Code, v.Message
	}
	return j.code, j.msg
}

// send delivers one batch and records every one of its rows exactly once.
// It returns an error only when the run must stop; every row it did not
// settle is then recorded as the run stopping leaves it.
//
// granted, if not nil, is called once the batch's first request is given
// its slot in the rate window (it may also not be called).
func (u *Uploader) send(ctx context.Context, b *chunker.Batch, granted func()) error {
	todo := []job{{items: b.Items, body: b.Body, batch: b, lookup: b.Recheck,
		code: "NO_ANSWER", msg: "an earlier run sent this row and got no clear answer", granted: granted}}
	var stop error
	var errs []error
	for len(todo) > 0 {
		j := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if stop == nil {
			next, err := u.do(ctx, j)
			if err == nil {
				for i := len(next) - 1; i >= 0; i-- { // the first half goes first
					todo = append(todo, next[i])
				}
				continue
			}
			stop = err
		}
		// The run stops: whatever this job's rows still lack, they get now.
		// A queued journal record that they are sent goes first, so that it
		// cannot land after their outcomes.
		if j.batch != nil {
			u.cancel(j.batch)
		}
		if j.assoc {
			// Upserted already: they exist, with their ids, unlinked.
			errs = append(errs, u.concludeLinks(j, unlinkedBy(ctx, stop), nil))
			continue
		}
		why := "the run stopped before this row was sent (" + stopReason(ctx, stop) + ")"
		var open []*chunker.Item
		for _, it := range j.items {
			if it.State.State() != rowstate.Closed {
				open = append(open, it)
			}
		}
		errs = append(errs, u.concludeStopped(open, why))
	}
	u.cancel(b)
	if stop != nil && ctx.Err() != nil && errors.Is(stop, context.Cause(ctx)) {
		stop = nil // the caller knows; Run returns ctx.Err()
	}
	return errors.Join(append([]error{stop}, errs...)...)
}

// stopReason says why the run stops, for the rows' messages.
func stopReason(ctx context.Context, err error) string {
	var se *StopError
	if errors.As(err, &se) {
		return se.Code
	}
	if ctx.Err() != nil {
		return context.Cause(ctx).Error()
	}
	return err.Error()
}

// do runs one job. It records the rows it settles and returns the jobs
// that follow for the others. On an error it leaves unrecorded the rows it
// did not settle, for send to record.
func (u *Uploader) do(ctx context.Context, j job) ([]job, error) {
	if j.assoc {
		// Even when the run is stopping: associate records the rows, which
		// exist, with their ids.
		return nil, u.associate(ctx, j)
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if j.lookup {
		return u.lookUp(ctx, j)
	}
	return u.post(ctx, j)
}

// post sends a job's rows until HubSpot answers them or a decision ends it.
func (u *Uploader) post(ctx context.Context, j job) ([]job, error) {
	log := u.log()
	start := time.Now()
	body := j.body
	if body == nil {
		body = chunker.NewBatch(j.items).Body
	}
	for attempt := 1; ; attempt++ {
		release, err := u.slot(ctx)
		if err != nil {
			return nil, err
		}
		if j.granted != nil {
			j.granted()
		}
		if attempt == 1 {
			// Journalled once a slot is granted, so that rows waiting for
			// one are not on record as sent.
			if err := u.journalSent(j); err != nil {
				release(hubspot.RateLimit{}, false, 0)
				return nil, err
			}
		}
		if ctx.Err() != nil { // stopped while waiting for the slot or the disk
			release(hubspot.RateLimit{}, false, 0)
			return nil, context.Cause(ctx)
		}
		// Whether an earlier request may have created each row: a unique
		// value conflict then may be the row itself.
		before := make([]bool, len(j.items))
		for i, it := range j.items {
			before[i] = it.State.MayExist()
			if err := it.State.Begin(); err != nil {
				release(hubspot.RateLimit{}, false, 0)
				return nil, fmt.Errorf("row %d: %w", it.Row, err)
			}
		}
		var res *hubspot.BatchResult
		err = u.exchange(ctx, release, func(ctx context.Context) (hubspot.RateLimit, error) {
			var err error
			if res, err = u.Sender.Send(ctx, body); res != nil {
				return res.Rate, err
			}
			return hubspot.RateLimit{}, err
		})
		d := u.Policy.Decide(Attempt{Err: err, N: attempt, Items: len(j.items), Jitter: u.jitter()})
		switch d.Action {
		case Accept:
			u.batches.Add(1)
			log.Debug("batch answered", zap.Int("first_row", j.items[0].Row), zap.Int("rows", len(j.items)),
				zap.Int("status", res.StatusCode), zap.Int("errors", len(res.Errors)), zap.Int("attempts", attempt),
				zap.Duration("took", time.Since(start)))
			return u.accept(j, res, before)
		case Retry:
			u.retries.Add(1)
			for _, it := range j.items {
				if d.Doubtful {
					it.State.Unclear()
				} else {
					it.State.NotProcessed()
				}
			}
			if d.Capped {
				u.cappedWarn.Do(func() {
					log.Warn("HubSpot asked for a wait longer than the cap; waiting the cap instead",
						zap.Duration("wait", d.Wait), zap.String("code", d.Code))
				})
			}
			log.Debug("batch will be resent", zap.Int("first_row", j.items[0].Row), zap.String("code", d.Code),
				zap.Int("attempt", attempt), zap.Duration("wait", d.Wait))
			if !retry.Sleep(ctx, d.Wait) {
				return nil, context.Cause(ctx)
			}
		case Split:
			notProcessed(j.items)
			var ae *hubspot.APIError
			if errors.As(err, &ae) && (ae.Conflict() || ae.MayBeConflict()) && !j.looked && !u.Idempotent && u.Finder != nil && hasKey(j.items) {
				// Rows whose keys line items hold already (another run,
				// another --out, another tool) would each take a request
				// of the split to find; one read finds them all.
				log.Debug("batch refused for a taken unique value; looking its rows up before splitting", zap.Int("first_row", j.items[0].Row),
					zap.Int("rows", len(j.items)))
				return []job{{items: j.items, lookup: true, refused: true, round: j.round, code: d.Code, msg: d.Message}}, nil
			}
			log.Debug("batch rejected as a whole; splitting", zap.Int("first_row", j.items[0].Row),
				zap.Int("rows", len(j.items)), zap.String("code", d.Code))
			return j.halves(), nil
		case Conflict:
			u.batches.Add(1)
			notProcessed(j.items)
			return u.conflicted(j.items, d, err, j.round)
		case MarkInDoubt:
			u.batches.Add(1)
			for _, it := range j.items {
				it.State.Unclear()
			}
			log.Debug("batch got no clear answer", zap.Int("first_row", j.items[0].Row),
				zap.Int("rows", len(j.items)), zap.String("code", d.Code))
			return u.doubt(j, j.items, d.Code, d.Message)
		case FailRows:
			u.batches.Add(1)
			notProcessed(j.items)
			log.Debug("batch failed", zap.Int("first_row", j.items[0].Row), zap.Int("rows", len(j.items)), zap.String("code", d.Code))
			return nil, u.conclude(j.items, rowstate.Verdict{Kind: rowstate.Failed, Code: d.Code, Message: d.Message})
		case GiveUp:
			u.batches.Add(1)
			notProcessed(j.items)
			log.Debug("batch not sent: attempts used up", zap.Int("first_row", j.items[0].Row), zap.Int("rows", len(j.items)), zap.String("code", d.Code))
			u.giveUpWarn.Do(func() { // a scheduler's log shows why rows are left not sent
				log.Warn("HubSpot did not process a batch after every attempt; its rows are not sent (not_sent.csv), and the next run sends them",
					zap.Int("first_row", j.items[0].Row), zap.Int("rows", len(j.items)), zap.String("code", d.Code), zap.String("reason", d.Message))
			})
			return nil, u.conclude(j.items, rowstate.Verdict{Kind: rowstate.NotSent, Code: d.Code, Message: d.Message})
		case Stop:
			notProcessed(j.items)
			return nil, &StopError{Code: d.Code, Msg: d.Message, Err: err}
		}
	}
}

func notProcessed(items []*chunker.Item) {
	for _, it := range items {
		it.State.NotProcessed()
	}
}

// accept settles the rows of a 201/207 answer. Rows the answer names are
// created or failed; a unique-value conflict on a row that an earlier
// request may have created is looked up; rows it does not name are in
// doubt, and looked up like any other row without a clear answer.
func (u *Uploader) accept(j job, res *hubspot.BatchResult, before []bool) ([]job, error) {
	verdicts := Outcomes(j.items, res, u.KeyProperty)
	var worded map[string]bool   // trace ids of rows whose errors say only in words that a value is taken
	var keyTaken map[string]bool // ... and that it is the row's key (by any of its errors)
	for _, e := range res.Errors {
		if e.MayBeConflict() {
			if worded == nil {
				worded, keyTaken = map[string]bool{}, map[string]bool{}
			}
			for _, t := range e.TraceIDs() {
				worded[t] = true
				keyTaken[t] = keyTaken[t] || e.TakenInWords(u.KeyProperty)
			}
		}
	}
	var wordedOnly []*chunker.Item // refused for words that say a value is taken
	var wordedKeyTaken map[*chunker.Item]bool
	var ifMissing map[*chunker.Item]rowstate.Verdict
	var done, unclear, conflict []*chunker.Item
	var unclearVerdicts []rowstate.Verdict // each unclear row's, for its code and message
	var doneVerdicts []rowstate.Verdict
	var conflictMsg string
	var linked []*chunker.Item // upserted, with associations to make
	var linkedVerdicts []rowstate.Verdict
	var again []*chunker.Item // upserts that conflicted after an unclear request
	for i, it := range j.items {
		v := verdicts[i]
		if u.Idempotent && v.Kind == rowstate.Failed && (v.Code == "CONFLICT" || worded[it.TraceID()]) {
			if before[i] {
				// An earlier request for the row may still have been
				// committing (a late commit) when this one looked for its
				// key: sent again, it meets the row itself.
				it.State.NotProcessed()
				again = append(again, it)
				conflictMsg = v.Message
				continue
			}
			// No earlier request: the record holding the unique value is
			// another one, and the row does not exist. (Words alone prove
			// no conflict: such a row failed for HubSpot's own reason.)
			if v.Code == "CONFLICT" {
				v.Kind = rowstate.Absent
			}
		}
		if v.Kind == rowstate.Created && v.Action == report.ActionUpdated && before[i] {
			// An earlier request (of this run, or of an earlier run that
			// left the row in doubt) may have created it.
			v.Action = report.ActionUpserted
		}
		switch {
		case v.Kind == rowstate.Created && len(it.Associations) > 0 && u.Associator != nil:
			it.State.NotProcessed()
			linked = append(linked, it)
			linkedVerdicts = append(linkedVerdicts, v)
			continue
		case v.Kind == rowstate.Doubt:
			it.State.Unclear()
			unclear = append(unclear, it)
			unclearVerdicts = append(unclearVerdicts, v)
			continue
		case v.Kind == rowstate.Failed && v.Code == "CONFLICT" && u.Finder != nil && it.Key != "":
			// The line item holding the key may be the row itself (an
			// earlier request of this run), or the row as an earlier run
			// or another tool created it: a row is known by its key.
			it.State.NotProcessed()
			conflict = append(conflict, it)
			if ifMissing == nil {
				ifMissing = map[*chunker.Item]rowstate.Verdict{}
			}
			ifMissing[it] = v // its own message, naming the record that holds its value
			continue
		case v.Kind == rowstate.Failed && worded[it.TraceID()] && !u.Idempotent && u.Finder != nil && it.Key != "":
			// Its error says in words that a value is taken: looked up
			// like a conflict, but a miss leaves this very verdict.
			it.State.NotProcessed()
			wordedOnly = append(wordedOnly, it)
			if ifMissing == nil {
				ifMissing = map[*chunker.Item]rowstate.Verdict{}
			}
			ifMissing[it] = v
			if keyTaken[it.TraceID()] {
				if wordedKeyTaken == nil {
					wordedKeyTaken = map[*chunker.Item]bool{}
				}
				wordedKeyTaken[it] = true
			}
			continue
		}
		it.State.NotProcessed() // this request's fate is known; Close decides from the row's past
		done = append(done, it)
		doneVerdicts = append(doneVerdicts, v)
	}
	var next []job
	if len(linked) > 0 {
		next = append(next, job{items: linked, assoc: true, upserted: linkedVerdicts})
	}
	// fail gives up the jobs that follow. The upserted rows among them
	// exist: they are recorded as such, with their ids, and not left for
	// send, which would record them as rows the run did not send.
	fail := func(err error) ([]job, error) {
		if len(linked) > 0 {
			err = errors.Join(err, u.concludeLinks(next[0], unlinkedBy(context.Background(), err), nil))
		}
		return nil, err
	}
	if err := u.concludeEach(done, func(i int) rowstate.Verdict { return doneVerdicts[i] }); err != nil {
		return fail(err)
	}
	if len(again) > 0 {
		more, err := u.doubt(j, again, "CONFLICT", conflictMsg)
		if err != nil {
			return fail(err)
		}
		next = append(next, more...)
	}
	if len(conflict) > 0 {
		next = append(next, job{items: conflict, lookup: true, conflict: true, round: j.round, code: "CONFLICT",
			msg: ifMissing[conflict[0]].Message, ifMissing: ifMissing})
	}
	if len(wordedOnly) > 0 {
		v := ifMissing[wordedOnly[0]]
		next = append(next, job{items: wordedOnly, lookup: true, conflict: true, worded: true, keyTaken: wordedKeyTaken,
			round: j.round, code: v.Code, msg: v.Message, ifMissing: ifMissing})
	}
	// The unclear rows, each group with its own reason (most often every
	// one MISSING_RESULT), in the order of the batch.
	for len(unclear) > 0 {
		v := unclearVerdicts[0]
		var same, rest []*chunker.Item
		var restVerdicts []rowstate.Verdict
		for i, it := range unclear {
			if w := unclearVerdicts[i]; w.Code == v.Code && w.Message == v.Message {
				same = append(same, it)
			} else {
				rest, restVerdicts = append(rest, it), append(restVerdicts, w)
			}
		}
		more, err := u.doubt(j, same, v.Code, v.Message)
		if err != nil {
			return fail(err)
		}
		next = append(next, more...)
		unclear, unclearVerdicts = rest, restVerdicts
	}
	return next, nil
}

// conflicted handles a one-row batch that HubSpot refused because another
// record holds one of its unique values. If an earlier request for the row
// may have created it, that record may be the row itself: it is looked up
// by key. Otherwise the row failed.
func (u *Uploader) conflicted(items []*chunker.Item, d Decision, err error, round int) ([]job, error) {
	msg := d.Message
	if u.Idempotent {
		if len(items) == 1 && items[0].State.MayExist() {
			return u.doubt(job{items: items, round: round}, items, d.Code, msg) // sent again: see accept
		}
		if d.Worded { // words alone prove no conflict: the row failed for HubSpot's own reason
			return nil, u.conclude(items, rowstate.Verdict{Kind: rowstate.Failed, Code: d.Code, Message: msg})
		}
		return nil, u.conclude(items, rowstate.Verdict{Kind: rowstate.Absent, Code: "CONFLICT", Message: msg})
	}
	if len(items) == 1 && u.Finder != nil && items[0].Key != "" {
		var keyTaken map[*chunker.Item]bool
		var ae *hubspot.APIError
		if d.Worded && errors.As(err, &ae) && ae.TakenInWords(u.KeyProperty) {
			keyTaken = map[*chunker.Item]bool{items[0]: true}
		}
		return []job{{items: items, lookup: true, conflict: true, worded: d.Worded, keyTaken: keyTaken, code: d.Code, msg: msg}}, nil
	}
	return nil, u.conclude(items, rowstate.Verdict{Kind: rowstate.Failed, Code: d.Code, Message: msg})
}

// doubt handles rows that got no clear answer: with a Finder, rows with a
// key are looked up; the others are in doubt.
func (u *Uploader) doubt(j job, items []*chunker.Item, code, msg string) ([]job, error) {
	if u.Idempotent {
		// An upsert sent again gives the answer this one did not.
		if j.round+1 >= u.maxRounds() {
			return nil, u.conclude(items, rowstate.Verdict{Kind: rowstate.Doubt, Code: code,
				Message: fmt.Sprintf("%s; still no clear answer after %d rounds of resending; the next run sends the row again", msg, j.round+1)})
		}
		return []job{{items: items, round: j.round + 1, code: code, msg: msg}}, nil
	}
	if u.Finder == nil {
		if !strings.Contains(msg, mayHaveCreated) { // the policy's messages say so already
			msg += "; " + mayHaveCreated + " these rows"
		}
		return nil, u.conclude(items, rowstate.Verdict{Kind: rowstate.Doubt, Code: code, Message: msg})
	}
	return []job{{items: items, lookup: true, round: j.round, code: code, msg: msg}}, nil
}

// lookUp looks a job's rows up by key. Rows found are created (with the id
// found); the others are sent again, which cannot create a duplicate
// because the key property is unique, unless the lookup followed a
// conflict: then a row is failed, or in doubt if an earlier request may
// have created it and no record holds its key in another case. A row with
// no key, a failed lookup or too many rounds leaves rows in doubt.
func (u *Uploader) lookUp(ctx context.Context, j job) ([]job, error) {
	log := u.log()
	var keyed, unkeyed []*chunker.Item
	for _, it := range j.items {
		if it.Key == "" || u.Finder == nil {
			unkeyed = append(unkeyed, it)
			continue
		}
		keyed = append(keyed, it)
	}
	if j.refused {
		return u.lookUpRefused(ctx, j, keyed, unkeyed)
	}
	if err := u.conclude(unkeyed, rowstate.Verdict{Kind: rowstate.Doubt, Code: j.code,
		Message: j.msg + "; the row has no key to look it up by"}); err != nil || len(keyed) == 0 {
		return nil, err
	}
	if maxRounds := u.maxRounds(); j.round >= maxRounds {
		return nil, u.concludeEach(keyed, func(i int) rowstate.Verdict {
			code, msg := j.own(keyed[i])
			return rowstate.Verdict{Kind: rowstate.Doubt, Code: code,
				Message: fmt.Sprintf("%s; still unresolved after %d lookups", msg, j.round)}
		})
	}
	if !retry.Sleep(ctx, time.Duration(j.round+1)*u.SettleDelay) {
		return nil, context.Cause(ctx)
	}
	found, cased, hit, missing, err := u.find(ctx, keyed, j.conflict)
	if err != nil {
		if stop := u.lookupEnds(ctx, err); stop != nil {
			return nil, stop
		}
		u.lookupWarn.Do(func() {
			log.Warn("looking up rows in doubt failed; they stay in doubt", zap.Int("rows", len(keyed)), zap.Error(err))
		})
		return nil, u.concludeEach(keyed, func(i int) rowstate.Verdict {
			code, msg := j.own(keyed[i])
			return rowstate.Verdict{Kind: rowstate.Doubt, Code: code,
				Message: msg + "; looking the row up by its key failed: " + err.Error()}
		})
	}
	log.Debug("rows in doubt looked up", zap.Int("found", len(hit)), zap.Int("missing", len(missing)), zap.Int("round", j.round+1))
	if err := u.concludeEach(hit, func(i int) rowstate.Verdict {
		return rowstate.Verdict{Kind: rowstate.Created, ID: found[hit[i].Key], Earlier: !hit[i].State.MayExistByThisRun()}
	}); err != nil {
		return nil, err
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if j.worded {
		// Only words said the values were taken. A record holding a row's
		// key in another case bears them out: the row cannot be created
		// beside it (nor could an earlier request of it commit), so it did
		// not happen. Otherwise a miss proves nothing of the row, which
		// failed for HubSpot's own reason (Close keeps a row that may exist
		// in doubt).
		return nil, u.concludeEach(missing, func(i int) rowstate.Verdict {
			it := missing[i]
			v, ok := j.ifMissing[it]
			if !ok {
				v = rowstate.Verdict{Kind: rowstate.Failed, Code: j.code, Message: j.msg}
			}
			if id, ok := cased[it.Key]; ok {
				return casedConflict(v.Message, id)
			}
			if j.keyTaken[it] {
				return keyTakenInWords(v.Code, v.Message)
			}
			return v
		})
	}
	if j.conflict {
		return nil, u.conflictMissing(ctx, j, missing, cased)
	}
	return []job{{items: missing, round: j.round + 1, code: j.code, msg: j.msg}}, nil
}

// conflictMissing settles the rows of a conflict job whose keys no line
// item was found to hold exactly. A record holding the key in another
// case proves that the row cannot exist beside it. Otherwise the record
// HubSpot named as holding the row's value ("Existing ID: N") is read, if
// the Finder can (holderReader), for a read by key may lag behind a create:
// N holding the row's key makes the row created (with id N); N holding
// another key, or no record named, makes it failed, since another record
// holds one of its values (a row an earlier request may have created
// stays in doubt all the same, by Close: HubSpot may hold that request's
// values for its uniqueness check before a read shows its record, or
// commit it later); N not readable yet, or a read that fails, leaves the
// row in doubt, to be looked up by the next run.
func (u *Uploader) conflictMissing(ctx context.Context, j job, missing []*chunker.Item, cased map[string]string) error {
	var casedRows, rest []*chunker.Item
	for _, it := range missing {
		if _, ok := cased[it.Key]; ok {
			casedRows = append(casedRows, it)
		} else {
			rest = append(rest, it)
		}
	}
	holders := map[*chunker.Item]string{}
	var ids []string
	hr, canRead := u.Finder.(holderReader)
	if canRead {
		for _, it := range rest {
			if id := hubspot.ExistingIDIn(j.msgOf(it)); id != "" {
				holders[it] = id
				ids = append(ids, id)
			}
		}
	}
	var keys map[string]string
	var readErr error
	if len(ids) > 0 {
		if keys, readErr = hr.KeysOf(ctx, ids); readErr != nil {
			if stop := u.lookupEnds(ctx, readErr); stop != nil {
				return stop
			}
		}
	}
	// Every row in one call: none is closed unless all are recorded.
	return u.concludeEach(append(casedRows, rest...), func(i int) rowstate.Verdict {
		if i < len(casedRows) {
			it := casedRows[i]
			return casedConflict(j.msgOf(it), cased[it.Key])
		}
		it := rest[i-len(casedRows)]
		msg := j.msgOf(it)
		id, named := holders[it]
		if !named {
			return rowstate.Verdict{Kind: rowstate.Failed, Code: "CONFLICT",
				Message: msg + "; no line item holds this row's key: another record holds one of its unique values"}
		}
		if readErr != nil {
			return rowstate.Verdict{Kind: rowstate.Doubt, Code: "CONFLICT",
				Message: fmt.Sprintf("%s; no line item was found holding this row's key, and reading line item %s failed: %v; the next run looks the row up again", msg, id, readErr)}
		}
		key, found := keys[id]
		switch {
		case !found:
			return rowstate.Verdict{Kind: rowstate.Doubt, Code: "CONFLICT",
				Message: fmt.Sprintf("%s; HubSpot names line item %s as holding one of the row's unique values, but neither it nor the row's key can be read yet (reads may lag behind creates): the row may exist; the next run looks it up again", msg, id)}
		case key == it.Key:
			return rowstate.Verdict{Kind: rowstate.Created, ID: id, Earlier: !it.State.MayExistByThisRun()}
		case strings.EqualFold(key, it.Key):
			// Another case of the key proves nothing here (a portal may
			// compare unique values with regard to case): the row failed,
			// unless an earlier request may have created it (Close).
			return rowstate.Verdict{Kind: rowstate.Failed, Code: "CONFLICT",
				Message: fmt.Sprintf("%s; line item %s holds one of this row's unique values, and its key in another case (%q)", msg, id, key)}
		}
		return rowstate.Verdict{Kind: rowstate.Failed, Code: "CONFLICT",
			Message: fmt.Sprintf("%s; line item %s holds one of this row's unique values, and another key (%q)", msg, id, key)}
	})
}

// keyTakenInWords is the verdict of a row refused with code and msg, an
// error that says in words that the row's key is taken, when no line item
// is found holding the key: reads may lag behind creates, so the row may
// exist.
func keyTakenInWords(code, msg string) rowstate.Verdict {
	return rowstate.Verdict{Kind: rowstate.Doubt, Code: code,
		Message: msg + "; HubSpot says the row's key is taken, and no line item was found holding it (reads may lag behind creates): the row may exist; the next run looks it up again"}
}

// casedConflict is the verdict of a row refused as a conflict (msg)
// whose key line item id holds in another case: HubSpot compares unique
// values without regard to case, so the row cannot exist beside it.
func casedConflict(msg, id string) rowstate.Verdict {
	return rowstate.Verdict{Kind: rowstate.Absent, Code: "CONFLICT",
		Message: fmt.Sprintf("%s; line item %s holds this row's key in another case (HubSpot compares unique values without regard to case)", msg, id)}
}

// lookUpRefused looks up the keyed rows of a batch HubSpot refused whole
// because a unique value is taken: rows found are created, with the ids
// found (earlier, unless an earlier request of this run may have created
// them); the others, and the rows without a key, are sent again together,
// and a second such refusal splits them. When none is found (or the lookup
// fails), the same batch would meet the same refusal: it is split at once.
func (u *Uploader) lookUpRefused(ctx context.Context, j job, keyed, unkeyed []*chunker.Item) ([]job, error) {
	again := job{items: j.items, round: j.round, looked: true, code: j.code, msg: j.msg}
	found, _, hit, missing, err := u.find(ctx, keyed, false)
	if err != nil {
		if stop := u.lookupEnds(ctx, err); stop != nil {
			return nil, stop
		}
		return again.halves(), nil
	}
	again.items = append(unkeyed, missing...)
	u.log().Debug("rows of a refused batch looked up", zap.Int("found", len(hit)), zap.Int("sent again", len(again.items)))
	if len(hit) == 0 {
		again.items = j.items
		return again.halves(), nil
	}
	if err := u.concludeEach(hit, func(i int) rowstate.Verdict {
		return rowstate.Verdict{Kind: rowstate.Created, ID: found[hit[i].Key], Earlier: !hit[i].State.MayExistByThisRun()}
	}); err != nil {
		return nil, err
	}
	if len(again.items) == 0 {
		return nil, nil
	}
	return []job{again}, nil
}

// find looks keyed up by their keys, in as many reads as they take, and
// tells the rows found (hit) from the others (missing). With withCase and
// a casedFinder, cased holds the keys a record holds in another case. An
// error means the lookup could not be completed; lookupEnds says whether
// it ends the run.
func (u *Uploader) find(ctx context.Context, keyed []*chunker.Item, withCase bool) (found, cased map[string]string, hit, missing []*chunker.Item, err error) {
	keys := make([]string, len(keyed))
	for i, it := range keyed {
		keys[i] = it.Key
	}
	u.searched.Add(int64(len(keyed)))
	if cf, ok := u.Finder.(casedFinder); ok && withCase {
		found, cased, err = cf.FindCased(ctx, keys)
	} else {
		found, err = u.Finder.Find(ctx, keys)
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, it := range keyed {
		if _, ok := found[it.Key]; ok {
			hit = append(hit, it)
			u.resolved.Add(1)
			continue
		}
		missing = append(missing, it)
	}
	return found, cased, hit, missing, nil
}

// lookupEnds returns the error that ends the run after a lookup failed
// with err: the run's cause once ctx is done, or the StopError of an
// answer that stops the run (lookupStop); nil when only the looked-up
// rows are left to deal with.
func (u *Uploader) lookupEnds(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if se := lookupStop(u.Policy, err); se != nil {
		return se
	}
	return nil
}

// halves returns the job as two jobs of half its rows each, to be encoded
// anew: a batch refused whole is narrowed down this way.
func (j job) halves() []job {
	mid := len(j.items) / 2
	first, second := j, j
	first.items, first.body, first.batch = j.items[:mid], nil, nil
	second.items, second.body, second.batch = j.items[mid:], nil, nil
	return []job{first, second}
}

// hasKey reports whether any of items has a key to be looked up by.
func hasKey(items []*chunker.Item) bool {
	for _, it := range items {
		if it.Key != "" {
			return true
		}
	}
	return false
}

// maxAssociationInputs is the most associations sent in one batch create
// of associations.
const maxAssociationInputs = 100

// link is one association to make for the row j.items[row].
type link struct {
	row int
	in  hubspot.AssociationInput
}

// associate makes the associations of rows that were upserted (j.upserted
// holds their verdicts): one call per target type and hundred
// associations, paced like the batches, resent as the policy says (it is
// idempotent: an association that exists is no error). A row is recorded
// created once all its associations are made, and otherwise failed
// (rowstate.Unlinked), with its id and HubSpot's reason. If the run must
// stop, every row is recorded before the error is returned.
func (u *Uploader) associate(ctx context.Context, j job) error {
	why := make([]string, len(j.items)) // what went wrong with each row's associations
	byType := map[string][]link{}
	var types []string
	for i, it := range j.items {
		for _, a := range it.Associations {
			if _, ok := byType[a.ObjectType]; !ok {
				types = append(types, a.ObjectType)
			}
			byType[a.ObjectType] = append(byType[a.ObjectType], link{row: i, in: hubspot.AssociationInput{
				From: hubspot.ObjectID{ID: j.upserted[i].ID}, To: a.To, Types: a.Types}})
		}
	}
	var stop error
	for _, t := range types {
		links := byType[t]
		for start := 0; start < len(links) && stop == nil; start += maxAssociationInputs {
			stop = u.link(ctx, t, links[start:min(start+maxAssociationInputs, len(links))], why)
		}
		if stop != nil {
			break
		}
	}
	fallback := ""
	if stop != nil {
		fallback = unlinkedBy(ctx, stop)
	}
	err := u.concludeLinks(j, fallback, why)
	return errors.Join(stop, err)
}

// unlinkedBy says why upserted rows are left without their associations
// when the run stops with err.
func unlinkedBy(ctx context.Context, err error) string {
	return "the run stopped before its associations were made (" + stopReason(ctx, err) + ")"
}

// concludeLinks records the rows of an association job: created (or
// updated) when why[i] is "", else Unlinked, with the line item's id and
// why[i], or fallback for a row without a reason of its own (why may be
// nil). The rows exist: they were upserted.
func (u *Uploader) concludeLinks(j job, fallback string, why []string) error {
	var open []int // rows not recorded yet
	for i, it := range j.items {
		if it.State.State() != rowstate.Closed {
			open = append(open, i)
		}
	}
	items := make([]*chunker.Item, len(open))
	for k, i := range open {
		items[k] = j.items[i]
	}
	return u.concludeEach(items, func(k int) rowstate.Verdict {
		i := open[k]
		v, reason := j.upserted[i], fallback
		if why != nil && why[i] != "" {
			reason = why[i]
		} else if fallback != "" {
			u.interrupted.Add(1) // unlinked because the run stops
		}
		if reason == "" {
			return v
		}
		return rowstate.Verdict{Kind: rowstate.Unlinked, ID: v.ID, Code: CodeAssociationFailed,
			Message: fmt.Sprintf("the line item was %s (id %s), but %s; the same command makes the association again",
				cmp.Or(v.Action, report.ActionUpserted), v.ID, reason)}
	})
}

// CodeAssociationFailed is the code of an upserted row whose association
// could not be made.
const CodeAssociationFailed = "ASSOCIATION_FAILED"

// link sends one batch of associations to toType until HubSpot answers it
// or the policy gives up, and notes in why, for each row with an
// association that was not made, the reason. It returns an error only when
// the run must stop.
func (u *Uploader) link(ctx context.Context, toType string, links []link, why []string) error {
	inputs := make([]hubspot.AssociationInput, len(links))
	for i, l := range links {
		inputs[i] = l.in
	}
	// note records, for each link's row without a reason yet, what became
	// of its association: fail when it was not made, unsure when no clear
	// answer came (HubSpot may have made it).
	note := func(ls []link, verb, msg string) {
		for _, l := range ls {
			if why[l.row] == "" {
				why[l.row] = fmt.Sprintf("its association to %s %s %s: %s", toType, l.in.To.ID, verb, msg)
			}
		}
	}
	fail := func(ls []link, msg string) { note(ls, "was not made", msg) }
	unsure := func(ls []link, msg string) { note(ls, "may not have been made", msg) }
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil { // no new request once the run stops
			return context.Cause(ctx)
		}
		release, err := u.slot(ctx)
		if err != nil {
			return err
		}
		if ctx.Err() != nil { // stopped while waiting for the slot
			release(hubspot.RateLimit{}, false, 0)
			return context.Cause(ctx)
		}
		u.associations.Add(1)
		var res *hubspot.AssociationResult
		err = u.exchange(ctx, release, func(ctx context.Context) (hubspot.RateLimit, error) {
			var err error
			if res, err = u.Associator.CreateAssociations(ctx, toType, inputs); res != nil {
				return res.Rate, err
			}
			return hubspot.RateLimit{}, err
		})
		d := u.Policy.Decide(Attempt{Err: err, N: attempt, Items: len(links), Jitter: u.jitter()})
		switch d.Action {
		case Accept:
			made := make(map[[2]string]bool, len(res.Results))
			for _, r := range res.Results {
				made[[2]string{sameID(string(r.FromObjectID)), sameID(string(r.ToObjectID))}] = true
			}
			// Each error is a link's when its context names the link's ids;
			// a link no error names gets them all.
			msgs := make([]string, len(res.Errors))
			for i, e := range res.Errors {
				msgs[i] = e.Code() + ": " + e.ReadableMessage()
			}
			general := "HubSpot's answer named neither a result nor an error for it"
			if len(msgs) > 0 {
				general = strings.Join(msgs, "; ")
			}
			for _, l := range links {
				if made[[2]string{sameID(l.in.From.ID), sameID(l.in.To.ID)}] {
					continue
				}
				var own []string
				for i, e := range res.Errors {
					if names(e, l.in.From.ID, "fromObjectId") && names(e, l.in.To.ID, "toObjectId") {
						own = append(own, msgs[i])
					}
				}
				if len(own) == 0 && len(msgs) == 0 {
					unsure([]link{l}, general)
					continue
				}
				msg := general
				if len(own) > 0 {
					msg = strings.Join(own, "; ")
				}
				fail([]link{l}, msg)
			}
			return nil
		case Retry:
			if !retry.Sleep(ctx, d.Wait) {
				return context.Cause(ctx)
			}
		case Split:
			mid := len(links) / 2
			if err := u.link(ctx, toType, links[:mid], why); err != nil {
				return err
			}
			return u.link(ctx, toType, links[mid:], why)
		case Stop:
			return &StopError{Code: d.Code, Msg: d.Message, Err: err}
		case MarkInDoubt:
			unsure(links, d.Code+": "+d.Message)
			return nil
		default:
			fail(links, d.Code+": "+d.Message)
			return nil
		}
	}
}

// sameID is a record id as HubSpot compares ids: a number, so without
// leading zeros.
func sameID(id string) string {
	if t := strings.TrimLeft(id, "0"); t != "" || id == "" {
		return t
	}
	return "0"
}

// names reports whether e's context, under key, is silent or names id: an
// error that names other ids there is another link's.
func names(e hubspot.StandardError, id, key string) bool {
	vs, ok := e.Context[key]
	if !ok {
		return true
	}
	for _, v := range vs {
		if sameID(v) == sameID(id) {
			return true
		}
	}
	return false
}

// lookupStop returns the StopError for a lookup that failed in a way that
// stops the run (the daily limit or reserve, a rejected token or scope, a
// portal being migrated), or nil when only its rows are left in doubt.
func lookupStop(p Policy, err error) *StopError {
	if errors.Is(err, pacer.ErrDailyReserve) {
		return dailyReserve(err)
	}
	var ae *hubspot.APIError
	if !errors.As(err, &ae) || ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests && !ae.Daily() {
		return nil
	}
	if d := p.Decide(Attempt{Err: ae, N: max(p.MaxAttempts, 1), Items: 1}); d.Action == Stop {
		return &StopError{Code: d.Code, Msg: d.Message, Err: err}
	}
	return nil
}

// dailyReserve is the StopError for a pacer that refuses a slot because
// the portal's daily quota is down to --daily-reserve.
func dailyReserve(err error) *StopError {
	return &StopError{Code: "DAILY_RESERVE", Err: err,
		Msg: "the portal's daily request quota is down to --daily-reserve; run the same command again after HubSpot resets it at midnight (portal time zone) to resume"}
}

// journalSent returns once the journal has the job's rows on disk as sent:
// the record queued with the batch's ticket, else (split halves, resends
// after a lookup) a record of its own.
func (u *Uploader) journalSent(j job) error {
	if u.Journal == nil {
		return nil
	}
	if b := j.batch; b != nil && b.Ticket != 0 {
		t := b.Ticket
		b.Ticket = 0 // awaited: nothing left to cancel
		return u.Journal.Await(t)
	}
	idents := make([]string, len(j.items))
	for i, it := range j.items {
		idents[i] = it.Ident // the journal skips rows without one
	}
	return u.Journal.Sent(idents)
}

// exchange makes one request with call, which returns the rate-limit
// headers of a successful answer, and returns call's error. The request is
// counted (and in flight) while it goes, and not cancelled with ctx: once
// sent, its answer is worth waiting for (the HTTP client's timeout bounds
// it), unless Abandon is done. What the answer says about the rate limit (its headers, whether it
// was a 429, its Retry-After) goes to release, the pacer's.
func (u *Uploader) exchange(ctx context.Context, release pacer.Release, call func(context.Context) (hubspot.RateLimit, error)) error {
	u.requests.Add(1)
	if u.InFlight != nil {
		u.InFlight.Add(1)
	}
	cctx := context.WithoutCancel(ctx)
	if u.Abandon != nil {
		var cancel context.CancelFunc
		cctx, cancel = context.WithCancel(cctx)
		defer cancel()
		defer context.AfterFunc(u.Abandon, cancel)()
	}
	rl, err := call(cctx)
	if u.InFlight != nil {
		u.InFlight.Add(-1)
	}
	if err != nil && u.Abandon != nil && u.Abandon.Err() != nil {
		u.abandoned.Add(1)
		if te, ok := errors.AsType[*hubspot.TransportError](err); ok {
			te.Err = fmt.Errorf("the run stopped waiting for it, at a third interrupt (%w)", te.Err)
		}
	}
	var ae *hubspot.APIError
	if errors.As(err, &ae) {
		rl = ae.Rate
	}
	throttled := ae != nil && ae.StatusCode == http.StatusTooManyRequests
	if throttled {
		u.throttled.Add(1)
	}
	release(rl, throttled, retryAfterOf(ae))
	return err
}

// slot waits for a slot in the rate window (at once without a Pacer) and
// returns the function to call with the answer. It returns the daily
// reserve's *StopError, or the run's cause once ctx ends.
func (u *Uploader) slot(ctx context.Context) (pacer.Release, error) {
	if u.Pacer == nil {
		return func(hubspot.RateLimit, bool, time.Duration) {}, nil
	}
	release, err := u.Pacer.Acquire(ctx)
	if errors.Is(err, pacer.ErrDailyReserve) {
		return nil, dailyReserve(err)
	} else if err != nil {
		return nil, context.Cause(ctx)
	}
	return release, nil
}

// retryAfterOf is an error answer's Retry-After; 0 for none.
func retryAfterOf(ae *hubspot.APIError) time.Duration {
	if ae == nil {
		return 0
	}
	return ae.RetryAfter
}

const (
	codeMissingResult = "MISSING_RESULT"
	msgMissingResult  = "HubSpot's answer named neither a result nor an error for this row"
	// codeContradiction: HubSpot's answer said two things of the row
	// (two ids, or an id and an error).
	codeContradiction = "CONTRADICTORY_ANSWER"
)

// errorVerdict is what a per-row error of a 201/207 answer says of its
// row. The spec gives each error a status, "the HTTP status code
// associated with the error" (HubSpot writes "error" there too): a 5xx,
// or a 408 (inside an answer, the request was received: a timeout while
// the row was worked on), may come after the row was written, so the row
// is in doubt; a 429 or 423 refused it unprocessed, so it is not sent (the
// next run sends it); any other error fails it.
func errorVerdict(e hubspot.StandardError) rowstate.Verdict {
	code := e.Code()
	if e.Conflict() {
		code = "CONFLICT"
	}
	msg := e.ReadableMessage()
	switch s, _ := strconv.Atoi(strings.TrimSpace(e.Status)); {
	case s >= 500 && s <= 599 || s == http.StatusRequestTimeout:
		return rowstate.Verdict{Kind: rowstate.Doubt, Code: fmt.Sprintf("HTTP_%d", s),
			Message: fmt.Sprintf("HubSpot answered this row with an error of status %d (%s: %s); %s it", s, code, msg, mayHaveCreated)}
	case s == http.StatusTooManyRequests || s == http.StatusLocked:
		return rowstate.Verdict{Kind: rowstate.NotSent, Code: fmt.Sprintf("HTTP_%d", s),
			Message: fmt.Sprintf("HubSpot refused this row unprocessed, with an error of status %d (%s: %s); run the same command again to send it", s, code, msg)}
	}
	return rowstate.Verdict{Kind: rowstate.Failed, Code: code, Message: msg}
}

// caution ranks a row's verdict from an error by what it leaves possible:
// in doubt (the row may exist) over not sent over failed.
func caution(k rowstate.Kind) int {
	switch k {
	case rowstate.Doubt:
		return 3
	case rowstate.NotSent:
		return 2
	case rowstate.Failed:
		return 1
	}
	return 0
}

// Outcomes matches a 201/207 answer to the rows by objectWriteTraceId,
// never by position, and returns a verdict for each: created, failed with
// the row's own error, or in doubt for a row the answer does not name.
// Results whose objectWriteTraceId names no row are matched by key once
// the traced ones are: an upsert result by its idProperty value (exactly,
// or without regard to case when only one row can be meant), a create
// result that carries no trace id by its value of keyProperty ("" for
// none), exactly. In an answer without errors where neither matched any
// row, the create results are matched by the values they echo, only where
// those tell every row of the batch apart (see matchByEcho). An error
// whose codes make it a unique-value conflict
// ([hubspot.StandardError.Conflict]) has the code CONFLICT, whatever
// HubSpot named it.
//
// An answer that contradicts itself about a row leaves the row in doubt:
// two results with different ids, a result and an error, or an error
// beside a create result that neither a trace id nor a key matched and
// whose values may be the row's (see mayBeFrom). A per-row error whose
// status is a 5xx or 408 leaves its row in doubt too, and one whose
// status says the row was refused unprocessed (429, 423) leaves it not
// sent (see errorVerdict); only the other errors fail their rows. Of two
// errors for one row, the more cautious verdict stands (in doubt, then
// not sent, then failed).
func Outcomes(items []*chunker.Item, res *hubspot.BatchResult, keyProperty string) []rowstate.Verdict {
	byTrace := make(map[string]int, len(items))
	for i, it := range items {
		byTrace[it.TraceID()] = i
	}
	out := make([]rowstate.Verdict, len(items))
	claimed := make([]bool, len(items)) // rows a result without an id named
	matched := 0                        // results matched to a row
	created := func(i int, r hubspot.Created) {
		matched++
		if r.ID == "" {
			claimed[i] = true
			return
		}
		switch {
		case out[i].Kind == rowstate.Created && out[i].ID != r.ID:
			out[i] = rowstate.Verdict{Kind: rowstate.Doubt, Code: codeContradiction,
				Message: fmt.Sprintf("HubSpot's answer gave this row two ids, %s and %s", out[i].ID, r.ID)}
			return
		case out[i].Kind != 0:
			return
		}
		out[i] = rowstate.Verdict{Kind: rowstate.Created, ID: r.ID}
		switch {
		case r.Upsert && !r.Told:
			out[i].Action = report.ActionUpserted
		case r.Upsert && r.New:
			out[i].Action = report.ActionCreated
		case r.Upsert:
			out[i].Action = report.ActionUpdated
		}
	}
	var untraced []hubspot.Created
	for _, r := range res.Results {
		if i, ok := byTrace[r.ObjectWriteTraceID]; ok {
			created(i, r)
		} else {
			untraced = append(untraced, r)
		}
	}
	// Then, once every traced result has its row, the results matched by
	// key: an upsert's by its idProperty value, exactly or without regard
	// to case (HubSpot may answer with the stored form); a create's, which
	// carries no trace id, by the key property's value exactly (HubSpot
	// stores the value sent).
	var byKey map[string]int
	byKeyOf := func(key string, fold bool) (int, bool) {
		if key == "" {
			return 0, false
		}
		if byKey == nil {
			byKey = keyIndex(items)
		}
		i, ok := byKey[key]
		if !ok && fold {
			i, ok = byKey[casefold.Fold(key)]
		}
		if ok && !fold && items[i].Key != key {
			ok = false // keyIndex's case-folded entry
		}
		return i, ok
	}
	var traceless []hubspot.Created // create results without a trace id that no key matched
	for _, r := range untraced {
		if r.Upsert {
			if i, ok := byKeyOf(r.Key, true); ok {
				created(i, r)
			}
			continue
		}
		if r.ObjectWriteTraceID != "" {
			continue // a trace id that names no row
		}
		key := ""
		if keyProperty != "" {
			key = r.Property(keyProperty)
		}
		if i, ok := byKeyOf(key, false); ok {
			created(i, r)
		} else {
			traceless = append(traceless, r)
		}
	}
	named := make([]bool, len(items)) // rows an error named
	for _, e := range res.Errors {
		for _, t := range e.TraceIDs() {
			i, ok := byTrace[t]
			if !ok {
				continue
			}
			v := errorVerdict(e)
			switch {
			case named[i]:
				// Another error for the row: the more cautious stands.
				if caution(v.Kind) > caution(out[i].Kind) {
					out[i] = v
				}
			case out[i].Kind == rowstate.Created:
				out[i] = rowstate.Verdict{Kind: rowstate.Doubt, Code: codeContradiction,
					Message: fmt.Sprintf("HubSpot's answer gave this row the id %s and an error (%s: %s)", out[i].ID, v.Code, v.Message)}
			case claimed[i]:
				out[i] = rowstate.Verdict{Kind: rowstate.Doubt, Code: codeContradiction,
					Message: fmt.Sprintf("HubSpot's answer gave this row a result without an id and an error (%s: %s)", v.Code, v.Message)}
			case out[i].Kind == 0:
				out[i] = v
			}
			named[i] = true
		}
	}
	for i := range out {
		if named[i] && out[i].Kind != rowstate.Doubt && mayBeFrom(items[i], traceless) {
			// A result no trace id or key matched may be this row's: an
			// answer that names the row with an error and may also hold
			// its line item. Failed, it would be fixed and sent again.
			out[i] = rowstate.Verdict{Kind: rowstate.Doubt, Code: out[i].Code,
				Message: out[i].Message + "; yet a result of the same answer, matched to no row, may be this row's line item"}
		}
	}
	decided := func(v rowstate.Verdict) bool { return v.Kind != 0 }
	if len(traceless) > 0 && len(res.Errors) == 0 && !slices.ContainsFunc(out, decided) {
		// Last, the create results that neither a trace id nor a key
		// matched, by the values they echo, if the answer has no errors,
		// no row has a verdict and the values tell the rows apart
		// (matchByEcho).
		for i, r := range matchByEcho(items, traceless) {
			created(i, r)
		}
	}
	missing := rowstate.Verdict{Kind: rowstate.Doubt, Code: codeMissingResult, Message: msgMissingResult}
	if n := len(res.Results) - matched; n > 0 {
		missing.Message = unmatchedResults(n)
	}
	for i := range out {
		if out[i].Kind == 0 {
			out[i] = missing
		}
	}
	return out
}

// unmatchedResults is the message of a row without a result or an error
// in an answer that held n results matched to no row: the row's line item
// may be one of them.
func unmatchedResults(n int) string {
	results := "results"
	if n == 1 {
		results = "a result"
	}
	if n > 1 {
		results = strconv.Itoa(n) + " results"
	}
	return fmt.Sprintf("%s, but held %s matched to no row (by trace id, key or the values echoed): this row's line item may be one of them", msgMissingResult, results)
}

// maxRounds is how many rounds of lookups (or, for upserts, resends) rows
// without a clear answer get.
func (u *Uploader) maxRounds() int {
	if u.MaxRounds < 1 {
		return 5
	}
	return u.MaxRounds
}

// keyIndex maps each item's key to its index, and the case-folded key
// (casefold.Fold) too when no other item's folded key is the same (HubSpot
// may compare unique values without regard to case, and answer with the
// stored form).
func keyIndex(items []*chunker.Item) map[string]int {
	m := make(map[string]int, 2*len(items))
	folds := make([]string, len(items)) // each key folded once
	folded := map[string]int{}
	for i, it := range items {
		if it.Key == "" {
			continue
		}
		m[it.Key] = i
		folds[i] = casefold.Fold(it.Key)
		folded[folds[i]]++
	}
	for i, l := range folds {
		if l != "" && folded[l] == 1 {
			if _, taken := m[l]; !taken {
				m[l] = i
			}
		}
	}
	return m
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
