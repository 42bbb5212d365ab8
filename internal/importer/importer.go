// Package importer runs one import: it streams a CSV, maps each record,
// batches the inputs and hands the batches to an uploader, and accounts for
// every row it read in the reports.
//
// Run guarantees that every data row it read is recorded exactly once, as
// created, failed or in doubt, in the order outcomes become known. Rows it
// never read (because the run stopped) appear in no report; the summary
// says the run stopped and why.
package importer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/rows"
	"github.com/lineitems/importer/internal/upload"
)

// Options configure one run.
type Options struct {
	Input     io.Reader
	InputName string        // for the summary
	Mapping   *mapping.Spec // nil: every column maps to the property of the same name
	OutDir    string
	BatchSize int     // 1..100
	Workers   int     // requests in flight
	Rate      float64 // requests per second at most; <=0 means no limit
	Sender    upload.Sender
	Policy    upload.Policy
	DryRun    bool // map and batch, write batches.jsonl, send nothing
	Log       *zap.Logger
	Progress  time.Duration // interval of the info progress line; 0 means 5s
	Jitter    func() float64
}

// Codes written to failed.csv for rows rejected before sending.
const (
	CodeMalformed = "MALFORMED_ROW"
)

// IncompleteError is returned when the run finished but not every row was
// created.
type IncompleteError struct {
	Failed, InDoubt int
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("%d rows failed and %d are in doubt", e.Failed, e.InDoubt)
}

// SetupError is a problem found before any row was sent: an unreadable or
// empty input, a mapping that does not fit the header, an unwritable
// output folder.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// Run performs the import. It returns the summary (always, even with an
// error, once the reports exist) and:
//   - nil when every row read was created (or, in a dry run, would be sent);
//   - *IncompleteError when the run finished with failed or in-doubt rows;
//   - *SetupError before anything was sent;
//   - *upload.StopError when HubSpot's answer stopped the run;
//   - ctx's error when the run was interrupted;
//   - any other error (I/O on the input or the reports) is fatal.
func Run(ctx context.Context, o Options) (*report.Summary, error) {
	start := time.Now()
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	rd, err := rows.NewReader(o.Input)
	if err != nil {
		return nil, &SetupError{fmt.Errorf("%s: %w", o.InputName, err)}
	}
	spec := o.Mapping
	if spec == nil {
		spec = mapping.Identity(rd.Header())
	}
	mapper, err := spec.Compile(rd.Header())
	if err != nil {
		return nil, &SetupError{err}
	}
	ch, err := chunker.New(o.BatchSize)
	if err != nil {
		return nil, &SetupError{err}
	}
	rep, err := report.Create(o.OutDir, rd.Header())
	if err != nil {
		return nil, &SetupError{err}
	}
	defer rep.Close()

	var dry *dryRun
	if o.DryRun {
		dry, err = newDryRun(filepath.Join(o.OutDir, BatchesFile))
		if err != nil {
			return nil, &SetupError{err}
		}
		defer dry.Close()
	}
	up := &upload.Uploader{
		Sender:   o.Sender,
		Recorder: rep,
		Policy:   o.Policy,
		Workers:  o.Workers,
		Log:      log,
		Jitter:   o.Jitter,
	}
	if o.Rate > 0 && !o.DryRun {
		up.Limiter = rate.NewLimiter(rate.Limit(o.Rate), 1)
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan *chunker.Batch, max(o.Workers, 1))
	var g errgroup.Group
	var readErr error
	g.Go(func() error {
		defer close(batches)
		readErr = produce(runCtx, rd, mapper, ch, rep, batches)
		if readErr != nil {
			cancel(readErr)
		}
		return nil
	})
	stopProgress := progress(runCtx, log, rep, start, o.Progress)
	var upErr error
	if dry != nil {
		upErr = dry.Run(runCtx, batches)
	} else {
		upErr = up.Run(runCtx, batches)
	}
	if upErr != nil {
		cancel(upErr)
	}
	drainErr := up.Drain(batches, "the run stopped before this row was sent")
	_ = g.Wait()
	stopProgress()

	counts := rep.Counts()
	st := up.Stats()
	elapsed := time.Since(start)
	sum := &report.Summary{
		Input: o.InputName, OutDir: o.OutDir, DryRun: o.DryRun,
		StartedAt: start.UTC(), FinishedAt: time.Now().UTC(),
		Rows: counts.Rows, Created: counts.Created, Failed: counts.Failed, InDoubt: counts.InDoubt,
		Requests: st.Requests, Retries: st.Retries, Throttled: st.Throttled, Batches: st.Batches,
		ElapsedSeconds: elapsed.Seconds(),
		ErrorCodes:     report.TopCodes(counts.Codes),
	}
	if dry != nil {
		sum.Rows += dry.rows
		sum.Batches = dry.batches
		sum.Extra = map[string]any{"would_send": dry.rows, "batches_file": filepath.Join(o.OutDir, BatchesFile)}
		if err := dry.Close(); err != nil {
			return sum, fmt.Errorf("writing %s: %w", BatchesFile, err)
		}
	}
	if elapsed > 0 {
		sum.RowsPerSecond = float64(counts.Rows) / elapsed.Seconds()
	}
	if err := rep.Close(); err != nil {
		return sum, fmt.Errorf("closing reports: %w", err)
	}
	switch {
	case readErr != nil && !errors.Is(readErr, context.Canceled):
		sum.Stopped = readErr.Error()
		return sum, readErr
	case upErr != nil:
		sum.Stopped = upErr.Error()
		return sum, upErr
	case drainErr != nil:
		return sum, drainErr
	}
	if n := counts.Failed + counts.InDoubt; n > 0 {
		return sum, &IncompleteError{Failed: counts.Failed, InDoubt: counts.InDoubt}
	}
	return sum, nil
}

// produce reads, maps and batches records until the input ends or ctx is
// done. Rows rejected before sending are recorded as failed here. On a stop,
// rows read but not handed over are recorded as not sent.
func produce(ctx context.Context, rd *rows.Reader, m *mapping.Mapper, ch *chunker.Chunker, rep *report.Writer, out chan<- *chunker.Batch) error {
	emit := func(bs []*chunker.Batch) bool {
		for i, b := range bs {
			select {
			case out <- b:
			case <-ctx.Done():
				var items []*chunker.Item
				for _, rest := range bs[i:] {
					items = append(items, rest.Items...)
				}
				for _, rest := range ch.Flush() {
					items = append(items, rest.Items...)
				}
				_ = rep.Record(notSent(items)...)
				return false
			}
		}
		return true
	}
	for {
		if ctx.Err() != nil {
			emit(ch.Flush())
			return ctx.Err()
		}
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			if !emit(ch.Flush()) {
				return ctx.Err()
			}
			return nil
		}
		if err != nil {
			emit(ch.Flush())
			return err
		}
		if rec.Err != nil {
			if err := rep.Record(report.Outcome{Row: rec.Row, Record: rd.Fit(rec.Fields), Status: report.Failed,
				Code: CodeMalformed, Message: fmt.Sprintf("row %d (line %d): %v", rec.Row, rec.Line, rec.Err)}); err != nil {
				return err
			}
			continue
		}
		in, err := m.Map(rec.Fields)
		if err != nil {
			code := "INVALID_VALUE"
			var fe *mapping.FieldError
			if errors.As(err, &fe) {
				code = fe.Code()
			}
			if err := rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.Failed,
				Code: code, Message: fmt.Sprintf("row %d: %v", rec.Row, err)}); err != nil {
				return err
			}
			continue
		}
		if !emit(ch.Add(chunker.Encode(rec.Row, rec.Fields, m.Key(rec.Fields), in))) {
			return ctx.Err()
		}
	}
}

func notSent(items []*chunker.Item) []report.Outcome {
	outs := make([]report.Outcome, len(items))
	for i, it := range items {
		outs[i] = report.Outcome{Row: it.Row, Record: it.Record, Status: report.Failed, Code: "NOT_SENT",
			Message: "not sent: the run stopped before this row was sent"}
	}
	return outs
}

// progress logs a line at info level every interval until the returned
// function is called.
func progress(ctx context.Context, log *zap.Logger, rep *report.Writer, start time.Time, every time.Duration) func() {
	if every <= 0 {
		every = 5 * time.Second
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				c := rep.Counts()
				secs := time.Since(start).Seconds()
				log.Info("progress", zap.Int("rows_done", c.Rows), zap.Int("created", c.Created),
					zap.Int("failed", c.Failed), zap.Int("in_doubt", c.InDoubt),
					zap.Float64("rows_per_second", float64(c.Rows)/secs))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// BatchesFile is where a dry run writes the request bodies it would send.
const BatchesFile = "batches.jsonl"

// dryRun stands in for the uploader in a dry run: it writes each batch body
// as one line of batches.jsonl and sends nothing.
type dryRun struct {
	f       *os.File
	w       *bufio.Writer
	rows    int
	batches int
}

func newDryRun(path string) (*dryRun, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &dryRun{f: f, w: bufio.NewWriter(f)}, nil
}

func (d *dryRun) Run(ctx context.Context, batches <-chan *chunker.Batch) error {
	for b := range batches {
		d.w.Write(b.Body)
		if err := d.w.WriteByte('\n'); err != nil {
			return err
		}
		d.rows += len(b.Items)
		d.batches++
	}
	return ctx.Err()
}

// Close flushes and closes the file; calling it again does nothing.
func (d *dryRun) Close() error {
	if d.f == nil {
		return nil
	}
	err := errors.Join(d.w.Flush(), d.f.Close())
	d.f = nil
	return err
}
