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
	"math/rand/v2"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/report"
)

// Sender posts one encoded batch. *hubspot.Client implements it.
type Sender interface {
	BatchCreate(ctx context.Context, body []byte) (*hubspot.BatchResult, error)
}

// Recorder takes the outcomes of rows. *report.Writer implements it.
type Recorder interface {
	Record(outs ...report.Outcome) error
}

// Uploader sends batches. Set the fields before calling Run; do not change
// them afterwards.
type Uploader struct {
	Sender   Sender
	Recorder Recorder
	Limiter  *rate.Limiter // shared by all workers; nil means no limit
	Policy   Policy
	Workers  int // requests in flight at most; <1 means 1
	Log      *zap.Logger
	Jitter   func() float64 // nil means math/rand/v2

	requests  atomic.Int64
	retries   atomic.Int64
	throttled atomic.Int64
	batches   atomic.Int64
}

// Stats counts what the uploader did so far.
type Stats struct {
	Requests  int // HTTP requests sent
	Retries   int // resends
	Throttled int // 429 answers
	Batches   int // batches finished (split halves count on their own)
}

// Stats returns the counters; it is safe to call while Run is going.
func (u *Uploader) Stats() Stats {
	return Stats{Requests: int(u.requests.Load()), Retries: int(u.retries.Load()),
		Throttled: int(u.throttled.Load()), Batches: int(u.batches.Load())}
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

// Drain records every row of the batches still in the channel as not sent,
// for the caller to use after Run stopped early.
func (u *Uploader) Drain(batches <-chan *chunker.Batch, why string) error {
	for b := range batches {
		if err := u.Recorder.Record(notSent(b.Items, why)...); err != nil {
			return err
		}
	}
	return nil
}

func notSent(items []*chunker.Item, why string) []report.Outcome {
	outs := make([]report.Outcome, len(items))
	for i, it := range items {
		outs[i] = report.Outcome{Row: it.Row, Record: it.Record, Status: report.Failed, Code: "NOT_SENT",
			Message: "not sent: " + why}
	}
	return outs
}

// send delivers one batch and records its rows. It returns an error only
// when the run must stop.
func (u *Uploader) send(ctx context.Context, b *chunker.Batch) error {
	log := u.log()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		if u.Limiter != nil {
			if err := u.Limiter.Wait(ctx); err != nil {
				return u.abandon(b, ctx)
			}
		}
		u.requests.Add(1)
		// The request itself is not cancelled with ctx: once sent, its answer
		// is worth waiting for (the HTTP client's timeout bounds it).
		res, err := u.Sender.BatchCreate(context.WithoutCancel(ctx), b.Body)
		d := u.Policy.Decide(err, attempt, len(b.Items), u.jitter())
		if d.Action == Retry && d.Code == "RATE_LIMIT" || isThrottle(err) {
			u.throttled.Add(1)
		}
		switch d.Action {
		case Accept:
			u.batches.Add(1)
			outs := Outcomes(b, res)
			log.Debug("batch answered", zap.Int("first_row", b.Items[0].Row), zap.Int("rows", len(b.Items)),
				zap.Int("status", res.StatusCode), zap.Int("errors", len(res.Errors)), zap.Int("attempts", attempt),
				zap.Duration("took", time.Since(start)))
			return u.Recorder.Record(outs...)
		case Retry:
			u.retries.Add(1)
			log.Debug("batch will be resent", zap.Int("first_row", b.Items[0].Row), zap.String("code", d.Code),
				zap.Int("attempt", attempt), zap.Duration("wait", d.Wait))
			if !sleep(ctx, d.Wait) {
				return u.abandon(b, ctx)
			}
		case Split:
			mid := len(b.Items) / 2
			log.Debug("batch rejected as a whole; splitting", zap.Int("first_row", b.Items[0].Row),
				zap.Int("rows", len(b.Items)), zap.String("code", d.Code))
			if err := u.send(ctx, chunker.NewBatch(b.Items[:mid])); err != nil {
				return err
			}
			return u.send(ctx, chunker.NewBatch(b.Items[mid:]))
		case FailRows, MarkInDoubt:
			u.batches.Add(1)
			st := report.Failed
			if d.Action == MarkInDoubt {
				st = report.InDoubt
			}
			log.Debug("batch not created", zap.Int("first_row", b.Items[0].Row), zap.Int("rows", len(b.Items)),
				zap.String("outcome", st.String()), zap.String("code", d.Code))
			return u.Recorder.Record(allRows(b.Items, st, d.Code, d.Message)...)
		case Stop:
			if err := u.Recorder.Record(notSent(b.Items, d.Message)...); err != nil {
				return err
			}
			return &StopError{Code: d.Code, Msg: d.Message, Err: err}
		}
	}
}

func isThrottle(err error) bool {
	var ae *hubspot.APIError
	return errors.As(err, &ae) && ae.StatusCode == 429
}

// abandon records a batch that will not be sent because the run is stopping.
func (u *Uploader) abandon(b *chunker.Batch, ctx context.Context) error {
	return u.Recorder.Record(notSent(b.Items, "the run was stopped ("+context.Cause(ctx).Error()+")")...)
}

func allRows(items []*chunker.Item, st report.Status, code, msg string) []report.Outcome {
	outs := make([]report.Outcome, len(items))
	for i, it := range items {
		outs[i] = report.Outcome{Row: it.Row, Record: it.Record, Status: st, Code: code, Message: msg}
	}
	return outs
}

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
			outs[i] = report.Outcome{Status: report.InDoubt, Code: "MISSING_RESULT",
				Message: "HubSpot's answer named neither a result nor an error for this row"}
		}
		outs[i].Row, outs[i].Record = it.Row, it.Record
	}
	return outs
}

// sleep waits for d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
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
