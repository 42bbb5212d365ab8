// Package importer runs one import: it streams a CSV, maps each record,
// batches the inputs and hands the batches to an uploader, and accounts for
// every row it read in the reports.
//
// Run guarantees that every data row it read is recorded exactly once, as
// created, failed, in doubt or not sent, in the order outcomes become known. Rows it
// never read (because the run stopped) appear in no report; the summary
// says the run stopped and why, and the journal lets the next run of the
// same command pick up where this one ended.
package importer

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/lineitems/importer/internal/casefold"
	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/journal"
	"github.com/lineitems/importer/internal/keyset"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/pacer"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/resolve"
	"github.com/lineitems/importer/internal/rows"
	"github.com/lineitems/importer/internal/schema"
	"github.com/lineitems/importer/internal/spillmap"
	"github.com/lineitems/importer/internal/upload"
	"github.com/lineitems/importer/internal/watch"
)

// Options configure one run.
type Options struct {
	Input     io.Reader
	InputName string        // for the summary
	CSV       rows.Options  // the delimiter and encoding; zero values are detected
	Mapping   *mapping.Spec // nil: every column maps to the property of the same name
	OutDir    string
	// Summaries are the files the caller writes the run's summary to
	// (summary.json, --summary-json). The last run's are removed once this
	// run's reports have replaced its reports, so that a run stopped before it
	// writes its own (a kill -9) leaves none that describes other reports.
	Summaries []string
	BatchSize int     // 1..100
	Workers   int     // requests in flight
	Rate      float64 // requests per second at most, counted per 10 s window; <=0 means no cap of the user's
	// DailyReserve is how many requests of the portal's daily quota to
	// leave for other integrations; the run stops cleanly before it.
	DailyReserve int
	// Pacer, when set, paces the batch creates instead of one built from
	// Rate and DailyReserve (so that a caller can tell it of requests it
	// made itself).
	Pacer  *pacer.Pacer
	Sender Sender
	Policy upload.Policy
	// LastWins (--duplicate-keys last-wins) sends, of the rows that share
	// a key, only the last; the others are recorded superseded (in
	// superseded.csv). It needs KeyProperty, and an Input that is an
	// io.ReadSeeker (a regular file, not a pipe): the input is read once
	// first, for the last row of each key, then again from its start.
	// Without it, a later row with an earlier row's key fails as
	// DUPLICATE_KEY.
	LastWins bool
	// Upsert makes the run create or update line items by their key
	// (KeyProperty, required) with batch upserts, instead of creating
	// them: each row's key names its line item, and associations are made
	// once it is upserted. A row without a clear answer is sent again.
	Upsert bool
	DryRun bool // map and batch, write batches.jsonl, send nothing
	// ValidateOnly is a dry run that writes no batches.jsonl: only the
	// reports of rows that would be rejected.
	ValidateOnly bool
	Log          *zap.Logger
	Progress     time.Duration // how often OnProgress is called; 0 means 5s
	// OnProgress, when set, is called every Progress with the tallies so
	// far and once more at the end; otherwise Run logs a progress line at
	// info level every Progress.
	OnProgress func(Progress)
	Jitter     func() float64

	// Journal, when its Portal is set, turns the journal in StateDir on: it
	// records every row sent to the portal and what became of it, by the
	// row's identity (its key, or its content), across runs and input
	// files. A row an earlier run created is not sent again; a row it sent
	// without a clear answer is looked up first; content HubSpot rejected
	// is not sent again until it is changed. Zero means no journal.
	Journal journal.Header
	// FeedBackCheck refuses a report of the importer fed back without a
	// key property into a folder that holds no journal for the portal
	// (see Run). Off for a sandbox, whose portal is new every run.
	FeedBackCheck bool
	// StateDir is where the journal is kept; "" means OutDir. The command
	// keeps one per portal, so that a journal is only ever resumed against
	// the portal its rows were sent to.
	StateDir string

	// KeyProperty is the unique line-item property that holds the mapping's
	// key. Each row's key is sent in it, and rows without a clear answer are
	// looked up by it with Finder.
	KeyProperty string
	// KeyColumnRenamedFrom names the column that earlier keyed runs into
	// the folder took keys from, when the mapping's key column is that
	// column renamed (--key-column-renamed-from): see checkKeyColumn.
	KeyColumnRenamedFrom string
	// Reader, when set with KeyProperty, looks rows up by key through a
	// resolve.Resolver paced with the run's pacer (batch reads count in the
	// same window as the creates). Finder, when set, is used instead.
	Reader resolve.Reader
	Finder upload.Finder
	// Targets reads the records that mapping associations name by an
	// external id (by:), paced with the run's pacer. A dry run without it
	// leaves the external ids in batches.jsonl; an import needs it.
	Targets     resolve.Reader
	SettleDelay time.Duration // see upload.Uploader.SettleDelay
	MaxRounds   int           // see upload.Uploader.MaxRounds

	// Schema, when set, checks every mapped row against the portal's
	// property definitions before it is sent: option labels become values,
	// and a row HubSpot would reject fails here, with what was expected,
	// and is never sent. Problems are added to Tally, if set.
	Schema *schema.Schema
	Tally  *schema.Tally

	// OpenReport opens each report file; nil means report.OpenFile.
	OpenReport report.Opener
	// RetryRejected sends rows whose content HubSpot rejected in an earlier
	// run (they are otherwise reported failed again, unsent): for when the
	// portal, not the row, was what was wrong.
	RetryRejected bool
	// InFlight, if set, counts the requests waiting for HubSpot's answer.
	InFlight *atomic.Int64
	// Abandon, if set, ends the wait for the answers of the requests
	// already sent when it is done (see upload.Uploader.Abandon).
	Abandon context.Context
}

// Sender is what a run needs of HubSpot to send its rows. *hubspot.Client
// implements it.
type Sender interface {
	BatchCreate(ctx context.Context, body []byte) (*hubspot.BatchResult, error)
	BatchUpsert(ctx context.Context, idProperty string, body []byte) (*hubspot.BatchResult, error)
	CreateAssociations(ctx context.Context, toObjectType string, inputs []hubspot.AssociationInput) (*hubspot.AssociationResult, error)
}

// Codes written to failed.csv for rows rejected before sending.
const (
	CodeMalformed = "MALFORMED_ROW"
	// CodeDuplicateKey: the row's key is an earlier row's too.
	CodeDuplicateKey = "DUPLICATE_KEY"
	// CodeMissingKey: the row has no key, though --key-property asks for one.
	CodeMissingKey = "MISSING_KEY"
	// CodeSuperseded: a later row has the row's key, and
	// --duplicate-keys last-wins sends only that one.
	CodeSuperseded = "SUPERSEDED"
	// CodeAmbiguousNumber: a number in a file not delimited by commas
	// reads as thousands ("1.234") as well as a decimal, and the mapping
	// does not say which decimal mark the column uses.
	CodeAmbiguousNumber = "AMBIGUOUS_NUMBER"
	// CodeTargetNotFound: an association names its target by an external
	// id (mapping `by:`) that no record holds.
	CodeTargetNotFound = "ASSOCIATION_TARGET_NOT_FOUND"
)

// IncompleteError is returned when the run finished but not every row was
// created.
type IncompleteError struct {
	Failed, InDoubt, NotSent int
}

func (e *IncompleteError) Error() string {
	msg := fmt.Sprintf("%d rows failed and %d are in doubt", e.Failed, e.InDoubt)
	if e.NotSent > 0 {
		msg += fmt.Sprintf("; %d were not sent (HubSpot kept refusing them for the moment: run the same command again to send them)", e.NotSent)
	}
	return msg
}

// SetupError is a problem found before any row was sent: an unreadable or
// empty input, a mapping that does not fit the header, an unwritable
// output folder, a journal that belongs to another input.
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
//   - any other error (I/O on the input, the reports or the journal) is fatal.
func Run(ctx context.Context, o Options) (*report.Summary, error) {
	start := time.Now()
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	var last *keyset.Set // each key's last row, for LastWins
	if o.LastWins {
		var err error
		if last, err = lastRows(o.Input, o.CSV, o.Mapping, o.KeyProperty, o.Upsert); err != nil {
			return nil, &SetupError{fmt.Errorf("%s: %w", o.InputName, err)}
		}
		defer last.Close()
	}
	rd, err := rows.NewReaderOptions(o.Input, o.CSV)
	if err != nil {
		return nil, &SetupError{fmt.Errorf("%s: %w", o.InputName, err)}
	}
	log.Info("reading the input", zap.String("input", o.InputName), zap.String("delimiter", delimiterName(rd.Delimiter())),
		zap.String("encoding", rd.Encoding()), zap.Int("columns", len(rd.Header())))
	if rd.ReadsAsUTF8() {
		if rd.FedBack() {
			return nil, &SetupError{fmt.Errorf("%s is a report of the importer, which writes UTF-8, and its text reads as UTF-8; read as %s, its accented letters would reach HubSpot as two characters each (\"é\" as \"Ã©\"): "+
				"run without --encoding (and without IMPORTER_ENCODING)", o.InputName, rd.Encoding())}
		}
		log.Warn("the input's text reads as UTF-8, and the encoding given would garble it (\"é\" read as \"Ã©\"): check --encoding",
			zap.String("input", o.InputName), zap.String("encoding", rd.Encoding()))
	}
	spec := o.Mapping
	if spec == nil {
		if err := unknownColumns(rd.Header(), o.Schema, o.InputName); err != nil {
			return nil, &SetupError{err}
		}
		spec = mapping.Identity(rd.Header())
	}
	mapper, err := spec.Compile(rd.Header())
	if err != nil {
		return nil, &SetupError{err}
	}
	if o.KeyProperty == "" && spec.Key != "" && !o.DryRun && !o.ValidateOnly {
		log.Warn("the mapping names a key column, but no --key-property was given: rows are known by their content, in this --out folder only, "+
			"and rows without a clear answer are not looked up; give --key-property (a unique line-item property) for the key to count",
			zap.String("key", spec.Key))
	}
	if o.Upsert && o.KeyProperty == "" {
		return nil, &SetupError{errors.New("upsert mode needs --key-property: the unique line-item property whose value names each row's line item")}
	}
	if o.KeyProperty != "" {
		if err := checkKeyProperty(spec, o.KeyProperty); err != nil {
			return nil, &SetupError{err}
		}
		if w := keyUnconverted(spec, o.KeyProperty); w != "" {
			log.Warn(w)
		}
	}
	if o.Upsert {
		if err := mapper.CanLinkLater(); err != nil {
			return nil, &SetupError{err}
		}
	}

	ch, err := chunker.New(o.BatchSize)
	if err != nil {
		return nil, &SetupError{err}
	}
	recheck, _ := chunker.New(o.BatchSize)

	var jr *journal.Journal
	var prior *journal.State
	stateDir := o.StateDir
	if stateDir == "" {
		stateDir = o.OutDir
	}
	if o.Journal.Portal != 0 && !o.DryRun && !o.ValidateOnly {
		if err := feedBackCheck(o, rd, stateDir); err != nil {
			return nil, &SetupError{err}
		}
		jr, prior, err = journal.Open(stateDir, o.Journal)
		if err != nil {
			return nil, &SetupError{err}
		}
		// The identity first: checkMode marks the folder as an upsert
		// folder, which a refused run must not do.
		if err := checkIdentity(stateDir, prior, o.KeyProperty, o.Upsert); err != nil {
			jr.Close()
			prior.Close()
			return nil, &SetupError{err}
		}
		if err := checkMode(stateDir, o.Upsert); err != nil {
			jr.Close()
			prior.Close()
			return nil, &SetupError{err}
		}
		if renamed, err := checkKeyColumn(stateDir, prior, o.KeyProperty, spec.Key, o.KeyColumnRenamedFrom, rd.Header()); err != nil {
			jr.Close()
			prior.Close()
			return nil, &SetupError{err}
		} else if renamed != "" {
			log.Info("the key column has a new name; rows are known by their keys, which the column holds as before",
				zap.String("was", renamed), zap.String("now", spec.Key))
		}
		defer jr.Close()
		defer prior.Close()
		if c, f, d := prior.Counts(); c+f+d > 0 {
			at := zap.String("journal", filepath.Join(stateDir, journal.FileName))
			log.Info("earlier runs into this portal", at, zap.Int("created", c), zap.Int("rejected", f), zap.Int("in_doubt", d))
		}
	}
	openReport := o.OpenReport
	if openReport == nil {
		openReport = report.OpenFile
	}
	create := report.CreateWith
	if o.DryRun || o.ValidateOnly {
		create = report.CreateFailedOnly // the only report they fill
	}
	var repOpts []report.Option
	if o.Upsert {
		repOpts = append(repOpts, report.WithActions())
	}
	if o.LastWins {
		repOpts = append(repOpts, report.WithSuperseded(nil))
	} else if err := os.Remove(filepath.Join(o.OutDir, report.SupersededFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		// An earlier run's, with last-wins: it would sit beside this run's
		// reports as if it were one of them.
		return nil, &SetupError{err}
	}
	rep, err := create(o.OutDir, rd.Header(), openReport, repOpts...)
	if err != nil {
		return nil, &SetupError{err}
	}
	defer rep.Close()
	for _, path := range o.Summaries {
		// The last run's summary would sit beside reports it does not
		// describe, with its exit code, until this run writes its own:
		// after a kill -9 it never does.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, &SetupError{fmt.Errorf("removing the last run's summary: %w", err)}
		}
	}

	var dry *dryRun
	if o.DryRun || o.ValidateOnly {
		path := filepath.Join(o.OutDir, BatchesFile)
		if o.ValidateOnly {
			path = os.DevNull
		}
		dry, err = newDryRun(path)
		if err != nil {
			return nil, &SetupError{err}
		}
		defer dry.Close()

	}
	pc := o.Pacer
	if !o.DryRun && !o.ValidateOnly && pc == nil {
		pc = NewPacer(o.Rate, o.DailyReserve)
	}
	var reads resolve.Pacer // the pacer of batch reads: pc, unless there is none
	if pc != nil {
		reads = pc
	}
	if dry != nil && o.Upsert && o.Targets != nil {
		// One batch read by key per hundred rows tells what the upsert
		// would do.
		dry.plan = &resolve.Resolver{Reader: o.Targets, Property: o.KeyProperty, Pacer: reads, MaxAttempts: o.Policy.MaxAttempts}
	}
	finder := o.Finder
	if finder == nil && o.Reader != nil && o.KeyProperty != "" && pc != nil {
		// A lookup's reads get as many attempts as a batch's sends: a
		// lookup that gives up leaves its rows in doubt.
		r := resolve.New(o.Reader, o.KeyProperty, pc)
		r.MaxAttempts = o.Policy.MaxAttempts
		finder = r
	}
	if o.Upsert {
		finder = nil // an upsert is sent again instead of looked up
	}
	up := &upload.Uploader{
		Recorder:    rep,
		Finder:      finder,
		Policy:      o.Policy,
		Workers:     o.Workers,
		Log:         log,
		Jitter:      o.Jitter,
		SettleDelay: o.SettleDelay,
		MaxRounds:   o.MaxRounds,
		InFlight:    o.InFlight,
		Abandon:     o.Abandon,
		KeyProperty: o.KeyProperty,
	}
	if o.Sender != nil {
		up.Sender = upload.SenderFunc(o.Sender.BatchCreate)
		if o.Upsert {
			up.Sender = upload.SenderFunc(func(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
				return o.Sender.BatchUpsert(ctx, o.KeyProperty, body)
			})
			up.Associator, up.Idempotent = o.Sender, true
			up.Policy.Idempotent = true
		}
	}
	if jr != nil {
		up.Journal = jr
	}
	if pc != nil {
		up.Pacer = pc
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A short queue: the workers wait on the pacer far more than on the
	// producer, and each queued batch holds its encoded body.
	batches := make(chan *chunker.Batch, min(max(o.Workers, 1), 32))
	p := &producer{rd: rd, inputName: o.InputName, m: mapper, ch: ch, recheck: recheck, rep: rep, out: batches, discard: up.Discard, jr: jr, prior: prior,
		keyProp: o.KeyProperty, canRecheck: finder != nil, resend: o.Policy.RetryInDoubt || o.Upsert, upsert: o.Upsert,
		tally: o.Tally, columns: columnsOf(spec, o.KeyProperty), retryRejected: o.RetryRejected,
		ambCols: ambiguousNumbers(spec, o.Schema, rd.Header())}
	if o.KeyProperty != "" {
		// The key must be unique within the file, with or without the
		// portal's definitions: a lookup by key takes the line item that
		// holds it for the row's.
		p.keys = spillmap.New(o.OutDir, spillAfter)
		defer p.keys.Close()
		p.keySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
		if o.Schema != nil {
			o.Schema.LeaveUniqueTo(o.KeyProperty)
		}
	}
	p.contents = spillmap.New(o.OutDir, spillAfter)
	defer p.contents.Close()
	p.fedBack = spillmap.New(o.OutDir, spillAfter)
	defer p.fedBack.Close()
	if o.Schema != nil {
		p.checker = o.Schema.NewChecker()
	}
	if o.Upsert {
		p.enc.IDProperty = o.KeyProperty
	}
	p.last, p.held = last, map[int][]heldRow{}
	if mapper.ByExternalID() {
		switch {
		case o.Targets != nil:
			p.targets = newTargets(o.Targets, reads, o.Policy.MaxAttempts)
		case o.DryRun || o.ValidateOnly:
			log.Warn("associations by external id are not checked: the portal cannot be read without a token")
		default:
			return nil, &SetupError{errors.New("the mapping names association targets by an external id (by:), which needs the portal to be read")}
		}
	}
	var g errgroup.Group
	var readErr error
	g.Go(func() error {
		defer close(batches)
		readErr = p.run(runCtx)
		if readErr != nil {
			cancel(readErr)
		}
		return nil
	})
	onProgress := o.OnProgress
	if onProgress == nil {
		onProgress = logProgress(log)
	}
	snapshot := func(done bool) Progress {
		pr := Progress{Counts: rep.Counts(), Elapsed: time.Since(start), Done: done}
		if pc != nil {
			if next := pc.Stats().NextSlot; !next.IsZero() {
				pr.RateWait = max(time.Until(next), 0)
			}
		}
		return pr
	}
	stopProgress := progress(runCtx, snapshot, o.Progress, onProgress)
	var upErr error
	if dry != nil {
		upErr = dry.Run(runCtx, batches)
	} else {
		upErr = up.Run(runCtx, batches)
	}
	if upErr != nil {
		cancel(upErr)
	}
	drainErr := up.Drain(batches, stoppedBeforeSent)
	_ = g.Wait()
	stopProgress()
	if o.OnProgress != nil {
		o.OnProgress(snapshot(readErr == nil && upErr == nil))
	}

	counts := rep.Counts()
	st := up.Stats()
	elapsed := time.Since(start)
	sum := &report.Summary{
		Input: o.InputName, OutDir: o.OutDir, DryRun: o.DryRun || o.ValidateOnly,
		StartedAt: start.UTC(), FinishedAt: time.Now().UTC(),
		Rows: counts.Rows, Created: counts.Created, Failed: counts.Failed, InDoubt: counts.InDoubt, NotSent: counts.NotSent, Earlier: counts.Earlier,
		Superseded: counts.Superseded,
		Requests:   st.Requests, Retries: st.Retries, Throttled: st.Throttled, Batches: st.Batches,
		ElapsedSeconds: elapsed.Seconds(),
		ErrorCodes:     report.TopCodes(counts.Codes),
		Extra:          map[string]any{},
	}
	if p.carried > 0 {
		sum.Extra["rows_from_earlier_runs"] = p.carried
	}
	sum.Skipped = p.skipped
	if counts.Actions != nil {
		sum.Extra["actions"] = counts.Actions // what the upserts did
	}
	// What a later run does with this run's rows in doubt follows from
	// these: looks them up by the key, upserts them again, or, keyless,
	// sends them again (retry_in_doubt) or leaves them in doubt.
	if o.KeyProperty != "" {
		sum.Extra["key_property"] = o.KeyProperty
	}
	sum.Extra["mode"] = "create"
	if o.Upsert {
		sum.Extra["mode"] = "upsert"
	}
	if o.Policy.RetryInDoubt {
		sum.Extra["retry_in_doubt"] = true
	}
	sum.Extra["delimiter"] = delimiterName(rd.Delimiter())
	sum.Extra["encoding"] = rd.Encoding()
	if pc != nil {
		ps := pc.Stats()
		if ps.PortalMax > 0 {
			sum.Extra["portal_rate_limit"] = fmt.Sprintf("%d per %s", ps.PortalMax, ps.Interval)
			sum.Extra["other_clients_requests_per_window"] = ps.Others
		}
		if ps.DailyRemaining >= 0 {
			sum.Extra["daily_remaining"] = ps.DailyRemaining
		} else if o.DailyReserve > 0 && st.Requests > 0 {
			// HubSpot sends no daily-limit headers to OAuth apps, which
			// have no daily limit: the reserve asked for could not be kept,
			// and the user should know it was not.
			sum.Extra["daily_reserve_unchecked"] = true
			log.Warn("--daily-reserve was not checked: no answer carried a daily limit (X-HubSpot-RateLimit-Daily-Remaining); HubSpot sends none to OAuth apps, which have none",
				zap.Int("daily_reserve", o.DailyReserve))
		}
		sum.Extra["seconds_waiting_for_rate_limit"] = ps.Waited.Seconds()
		sum.Extra["portal_counts_requests_on_arrival"] = ps.CountedOnArrival
	}
	if st.Searched > 0 {
		sum.Extra["rows_looked_up"] = st.Searched
		sum.Extra["rows_found_by_key"] = st.Resolved
	}
	if dry != nil {
		sum.Rows += dry.rows
		sum.Batches = dry.batches
		sum.Extra["would_send"] = dry.rows
		switch {
		case dry.planErr != nil:
			log.Warn("no plan: reading the portal's line items by key failed", zap.Error(dry.planErr))
		case dry.plan != nil:
			sum.Extra["plan_create"], sum.Extra["plan_update"] = dry.create, dry.update
		}
		if !o.ValidateOnly {
			sum.Extra["batches_file"] = filepath.Join(o.OutDir, BatchesFile)
		}
		if err := dry.Close(); err != nil {
			return sum, fmt.Errorf("writing %s: %w", BatchesFile, err)
		}
	}
	var earlier []journal.Doubt
	var settleErr error // the run stopped during settleEarlier's lookup
	if prior != nil && readErr == nil {
		// Read to its end, the input held every row it holds: the rows
		// earlier runs left in doubt that it did not are in no report of
		// this run. Those known by key are looked up first.
		var fed int
		earlier, fed = notFedBack(prior.Unmet(), p.fedBack)
		if fed > 0 {
			sum.Extra["earlier_in_doubt_fed_back"] = fed
		}
		if finder != nil && upErr == nil && ctx.Err() == nil {
			var found int
			earlier, found, settleErr = settleEarlier(ctx, log, finder, jr, o.KeyProperty, earlier)
			sum.Extra["earlier_in_doubt_found"] = found
			// The lookup is part of the run: its time counts.
			before := elapsed
			elapsed = time.Since(start)
			sum.Extra["earlier_in_doubt_lookup_seconds"] = (elapsed - before).Seconds()
		}
	}
	sum.FinishedAt, sum.ElapsedSeconds = start.Add(elapsed).UTC(), elapsed.Seconds()
	if elapsed > 0 {
		sum.RowsPerSecond = float64(counts.Rows) / elapsed.Seconds()
	}
	if jr != nil {
		// Takes the last outcomes to disk; the reports hold them anyway, so a
		// failure here only weakens a resume after a power loss.
		if err := jr.Close(); err != nil {
			log.Warn("closing the journal", zap.Error(err))
		}
	}
	if err := rep.Close(); err != nil {
		// The run's own error (a record that failed) says more; the
		// summary says the run did not finish as the counts would suggest.
		// What had stopped the run is told, not wrapped: the exit code is a
		// failure's, not a signal's or a retry's.
		if cause := cmp.Or(readErr, upErr, drainErr); cause != nil {
			err = fmt.Errorf("closing reports: %w (the run had stopped: %v)", err, cause)
		} else {
			err = fmt.Errorf("closing reports: %w", err)
		}
		sum.Stopped = err.Error()
		return sum, err
	}
	if o.OpenReport == nil {
		if err := report.Sort(o.OutDir); err != nil {
			log.Warn("the reports are complete but not in input order", zap.Error(err))
		}
	}
	if prior != nil && readErr == nil {
		unlinked := 0
		for _, d := range earlier {
			if d.Unlinked {
				unlinked++
			}
		}
		sum.Extra["earlier_in_doubt"] = len(earlier) - unlinked
		sum.Extra["earlier_unlinked"] = unlinked
		if n := len(earlier) - unlinked; n > 0 {
			log.Warn("rows that earlier runs left in doubt are not in this input; "+EarlierInDoubtFile+" lists them",
				zap.Int("rows", n), zap.String("file", filepath.Join(o.OutDir, EarlierInDoubtFile)))
		}
		if unlinked > 0 {
			log.Warn("rows that earlier runs upserted without their associations are not in this input; "+EarlierInDoubtFile+" lists them",
				zap.Int("rows", unlinked), zap.String("file", filepath.Join(o.OutDir, EarlierInDoubtFile)))
		}
		if err := writeEarlierInDoubt(filepath.Join(o.OutDir, EarlierInDoubtFile), earlier); err != nil {
			// The count is in the summary; the run's own outcome stands.
			log.Warn("writing "+EarlierInDoubtFile, zap.Error(err))
			sum.Extra["earlier_in_doubt_error"] = err.Error()
		}
	}
	switch {
	case readErr != nil && !errors.Is(readErr, context.Canceled):
		sum.Stopped = readErr.Error()
		return sum, readErr
	case upErr != nil && errors.Is(upErr, context.Canceled) && readErr == nil && counts.NotSent == 0 && st.Interrupted == 0 && st.Abandoned == 0:
		// Stopped after the last row was read and answered: nothing
		// remains, so the run ends as a finished one. (Rows the stop left
		// in doubt, not looked up or not waited for, make it a stopped
		// run.)
	case upErr != nil:
		sum.Stopped = upErr.Error()
		if errors.Is(upErr, context.Canceled) && context.Cause(ctx) != nil {
			sum.Stopped = context.Cause(ctx).Error()
		}
		return sum, upErr
	case drainErr != nil:
		sum.Stopped = drainErr.Error()
		return sum, drainErr
	case settleErr != nil:
		// Every row of the input has its outcome; the earlier doubts the
		// lookup did not reach stay listed, for the next run to look up.
		sum.Stopped = context.Cause(ctx).Error()
		return sum, settleErr
	}
	if n := counts.Failed + counts.InDoubt + counts.NotSent; n > 0 {
		return sum, &IncompleteError{Failed: counts.Failed, InDoubt: counts.InDoubt, NotSent: counts.NotSent}
	}
	return sum, nil
}

// settleEarlier looks up by key the rows of ds (rows earlier runs left in
// doubt that this run's input did not hold) that are known by keyProp in
// a create run, records those found in the journal as created, with the
// ids found, and returns the others and how many were found. A row not
// found stays in doubt (a read may lag behind a create); a lookup that
// fails leaves every row as it was, and the run's outcome stands, unless
// it failed because ctx was done: its error is then returned, and the run
// is a stopped one.
func settleEarlier(ctx context.Context, log *zap.Logger, finder upload.Finder, jr *journal.Journal, keyProp string, ds []journal.Doubt) ([]journal.Doubt, int, error) {
	prefix := "k:" + keyProp + ":" // a create run's key (journal.KeyIdent)
	var keys []string
	for _, d := range ds {
		if k, ok := strings.CutPrefix(d.Ident, prefix); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 || jr == nil {
		return ds, 0, nil
	}
	found, err := finder.Find(ctx, keys)
	if err != nil {
		log.Warn("looking up the rows earlier runs left in doubt failed; they stay in doubt", zap.Int("rows", len(keys)), zap.Error(err))
		return ds, 0, ctx.Err()
	}
	var left []journal.Doubt
	var outs []report.Outcome
	for _, d := range ds {
		if k, ok := strings.CutPrefix(d.Ident, prefix); ok {
			if id, ok := found[k]; ok {
				outs = append(outs, report.Outcome{Ident: d.Ident, Status: report.Created, ID: id})
				continue
			}
		}
		left = append(left, d)
	}
	if len(outs) == 0 {
		return ds, 0, nil
	}
	if err := jr.Done(outs); err != nil {
		log.Warn("recording the rows earlier runs left in doubt, found by key", zap.Error(err))
		return ds, 0, nil
	}
	log.Info("rows earlier runs left in doubt, not in this input, found by key: recorded as created", zap.Int("rows", len(outs)))
	return left, len(outs), nil
}

// EarlierInDoubtFile lists, after a run that read its input to the end,
// the rows that earlier runs into the folder left in doubt, or upserted
// without their associations, and that the input did not hold: in no
// other report of the run, they may exist in HubSpot, or exist unlinked.
// Written by every such run (removed when there are none), so
// that a nightly file that no longer holds them does not hide them.
const EarlierInDoubtFile = "earlier_in_doubt.csv"

// writeEarlierInDoubt replaces path with a CSV of ds (key, identity,
// error_code, error_message), or removes it when ds is empty.
func writeEarlierInDoubt(path string, ds []journal.Doubt) error {
	if len(ds) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return report.ReplaceFile(path, func(f io.Writer) error {
		w := csv.NewWriter(f)
		_ = w.Write([]string{"key", "identity", "error_code", "error_message"})
		for _, d := range ds {
			msg, code := d.Message, d.Code
			switch {
			case d.Sent:
				code, msg = "NO_ANSWER", "sent, and the run stopped before an answer was recorded"
			case d.Unlinked:
				code, msg = upload.CodeAssociationFailed, "upserted (its line item exists) without its associations: a run on a file that holds the row again makes them"
			}
			_ = w.Write([]string{d.Key(), d.Ident, code, msg})
		}
		w.Flush()
		return w.Error()
	})
}

// delimiterName names a delimiter for people.
func delimiterName(d rune) string {
	switch d {
	case ',':
		return "comma"
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	case '|':
		return "pipe"
	}
	return strconv.QuoteRune(d)
}

// feedBackCheck refuses a report of the importer fed back (its header has
// the report columns) without a key property into a folder that holds no
// journal for the portal, before the journal is made. Without a key a row
// is known by its content in the journal of the folder that imported it
// only: a fixed row created from a folder of its own would be unknown to
// the later runs into the import's folder, which could create it again.
// With a key, a row is found by it from any folder. A folder that holds a
// journal already (the import's, or one that reports were fed back into
// before) is taken as it is.
func feedBackCheck(o Options, rd *rows.Reader, stateDir string) error {
	if !o.FeedBackCheck || !rd.FedBack() || o.KeyProperty != "" {
		return nil
	}
	_, err := os.Stat(filepath.Join(stateDir, journal.FileName))
	if !errors.Is(err, os.ErrNotExist) {
		return nil // there, or unreadable: journal.Open says which
	}
	return fmt.Errorf("%s is a report of an import (its header has the importer's report columns: %s), and %s holds no earlier import "+
		"into this portal: without --key-property a row is known by its content only in the folder that imported it, so a row created "+
		"from another folder could be created again by the later runs into the first; give --out with the folder of the import that "+
		"wrote the report (if this file is no report, rename those columns)", o.InputName, strings.Join(rows.ReportColumns, ", "), o.OutDir)
}

// unknownColumns checks, for a run without a mapping (every column maps
// to the property of the same name), that every column names a property of
// the portal; else every row would fail. Without the portal's definitions
// it checks nothing.
func unknownColumns(header []string, s *schema.Schema, input string) error {
	if s == nil {
		return nil
	}
	var bad []string
	for _, col := range header {
		if p, ok := s.CheckValue(col, ""); !ok && p.Code == schema.CodePropertyDoesntExist {
			if _, hint, found := strings.Cut(p.Expected, "; "); found {
				bad = append(bad, fmt.Sprintf("%q (%s)", col, hint))
			} else {
				bad = append(bad, fmt.Sprintf("%q", col))
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	if input == "" {
		input = "FILE.csv"
	}
	return fmt.Errorf("without --mapping every column maps to the line-item property of the same name, and the portal has no property for %d of the columns:\n  %s\n"+
		"Run `importer init-mapping %s > mapping.yaml` for a mapping matched to the portal's properties, edit it, and pass it with --mapping mapping.yaml",
		len(bad), strings.Join(bad, "\n  "), input)
}

// NewPacer returns the pacer for --rate (requests per second, counted per
// 10 s window; 0 means no cap of the user's) and --daily-reserve.
func NewPacer(rate float64, dailyReserve int) *pacer.Pacer {
	return pacer.New(pacer.Config{Cap: int(math.Floor(rate * 10)), Interval: 10 * time.Second, DailyReserve: dailyReserve})
}

// checkKeyProperty makes sure the key property carries the key column: the
// mapping must name a key, and may map the property only from that column.
func checkKeyProperty(spec *mapping.Spec, prop string) error {
	if spec.Key == "" {
		return fmt.Errorf("--key-property %s needs a key column: add `key: COLUMN` to the mapping", prop)
	}
	if p, ok := spec.Properties[prop]; ok && p.Column != spec.Key {
		return fmt.Errorf("--key-property %s: the mapping fills it from column %q, but the key is column %q", prop, p.Column, spec.Key)
	}
	return nil
}

// keyUnconverted returns a warning when the mapping of the key property
// asks to change the cell (trim, default, a type): the key is sent,
// recorded and looked up as the key column holds it, so those are not
// applied. "" when there is nothing to say.
func keyUnconverted(spec *mapping.Spec, prop string) string {
	p, ok := spec.Properties[prop]
	if !ok || !p.Trim && p.Default == "" && (p.Type == "" || p.Type == mapping.TypeString) {
		return ""
	}
	return fmt.Sprintf("--key-property %s: its mapping's trim, default and type are not applied: a key is sent, recorded and looked up "+
		"as column %q holds it (a key with spaces around it is another key); map it as `%s: %s` to say so", prop, spec.Key, prop, spec.Key)
}

// producer reads, maps and batches records.
type producer struct {
	rd         *rows.Reader
	inputName  string
	m          *mapping.Mapper
	ch         *chunker.Chunker // rows to send
	recheck    *chunker.Chunker // rows to look up first
	rep        *report.Writer
	out        chan<- *chunker.Batch
	discard    func(*chunker.Batch, string) error // records a batch the run will not send
	jr         *journal.Journal                   // nil: no journal
	prior      *journal.State
	keyProp    string
	canRecheck bool            // a Finder can look rows up
	resend     bool            // --retry-in-doubt, or upserts (which may be sent again)
	upsert     bool            // rows are upserted by key
	carried    int             // rows whose outcome came from the journal
	checker    *schema.Checker // nil without a Schema
	keys       *spillmap.Map   // keys seen (keyDigest), with the row of each; nil without a key property
	keySeeds   [2]maphash.Seed // for keyDigest
	contents   *spillmap.Map   // content identities seen, with how many rows had each
	// fedBack counts, by content, the keyless rows of in_doubt.csv fed
	// back and reported in doubt as they were (see notFedBack).
	fedBack       *spillmap.Map
	scratch       []byte // for encoding a row's content
	retryRejected bool   // send content an earlier run saw rejected
	skipped       int    // blank rows
	tally         *schema.Tally
	columns       map[string]string // property → CSV column, for messages
	ambCols       []ambiguousColumn // see ambiguousNumbers
	enc           chunker.Encoder
	in            hubspot.CreateInput
	last          *keyset.Set       // each key's last row (--duplicate-keys last-wins); nil otherwise
	held          map[int][]heldRow // superseded rows, by the later row that supersedes them, until it is read
	targets       *targets          // nil without associations by external id
	pending       []pendingRow      // rows waiting for their targets to be read
	recordErr     error             // a report write error met while dropping rows read (fatal)
}

// columnsOf maps each property to the CSV column it comes from.
func columnsOf(spec *mapping.Spec, keyProp string) map[string]string {
	cols := make(map[string]string, len(spec.Properties)+1)
	for name, p := range spec.Properties {
		cols[name] = p.Column
	}
	if keyProp != "" && spec.Key != "" {
		cols[keyProp] = spec.Key
	}
	return cols
}

// ambiguousColumn is a number column whose values may be written with a
// decimal comma while the mapping does not say which decimal mark it uses.
type ambiguousColumn struct {
	property, column string
	index            int // in the header
}

// ambiguousNumbers returns the columns of number properties (by the
// mapping's type, or the portal's, or without the portal's definitions
// HubSpot's own, see schema.BuiltInNumber) whose mapping names neither a decimal
// mark nor a thousands separator: in a file delimited otherwise than by
// commas (Excel writes ";" where the decimal mark is a comma), "1.234"
// there may be 1234. See producer.ambiguous.
func ambiguousNumbers(spec *mapping.Spec, portal *schema.Schema, header []string) []ambiguousColumn {
	var out []ambiguousColumn
	for _, name := range slices.Sorted(maps.Keys(spec.Properties)) {
		ps := spec.Properties[name]
		if ps.Column == "" || ps.Decimal != "" || ps.Thousands != "" {
			continue
		}
		i := slices.Index(header, ps.Column)
		if i < 0 {
			continue
		}
		if ps.Type == "number" || ps.Type == "" && (portal != nil && portal.IsNumber(name) || portal == nil && schema.BuiltInNumber(name)) {
			out = append(out, ambiguousColumn{property: name, column: ps.Column, index: i})
		}
	}
	return out
}

// ambiguous returns the problem with the first cell of rec in an
// ambiguous column that reads as a whole number with "." between
// thousands ("1.234", "€ 12.345.678") as well as a decimal, or nil. It
// checks a file not delimited by commas, and the rows of a failed.csv fed
// back (comma-delimited, whatever the file it came from) that were
// refused for such a value. The cells are read as written, before the
// mapping: a row is refused for this before anything else, so that a
// failed.csv row refused for another reason is not fed back without it.
func (p *producer) ambiguous(rec rows.Record) *mapping.FieldError {
	if p.rd.Delimiter() == ',' && rec.ReportCode != CodeAmbiguousNumber {
		return nil
	}
	for _, c := range p.ambCols {
		if c.index >= len(rec.Fields) {
			continue
		}
		v := strings.TrimFunc(rec.Fields[c.index], func(r rune) bool { // spaces, currency, %
			return !unicode.IsDigit(r) && r != '.' && r != ',' && r != '-'
		})
		if !mapping.GroupedThousands(v) {
			continue
		}
		return &mapping.FieldError{Column: c.column, Property: c.property, Value: rec.Fields[c.index],
			Expected: "an unambiguous number",
			Hint: fmt.Sprintf("where the decimal mark is a comma (Excel there writes files delimited by \";\"), it means %s; "+
				`say which in the mapping: {column: %s, type: number, decimal: ",", thousands: "."} for the first, or decimal: "." for %s as written`,
				strings.ReplaceAll(v, ".", ""), c.column, v)}
	}
	return nil
}

// refuseAmbiguous records rec, whose cell fe describes, as AMBIGUOUS_NUMBER:
// failed, or in doubt for a row an earlier run may have created. also is
// another problem of the row, or "".
func (p *producer) refuseAmbiguous(rec rows.Record, fe *mapping.FieldError, prior journal.Prior, also string) error {
	if p.tally != nil && !prior.MayExist() {
		p.tally.Add(rec.Row, fe.Column, schema.Problem{Property: fe.Property, Value: fe.Value, Code: CodeAmbiguousNumber, Expected: fe.Expected})
	}
	msg := fe.Error()
	if also != "" {
		msg += "; also " + also
	}
	o := report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.Failed, Code: CodeAmbiguousNumber, Message: msg}
	if prior.MayExist() {
		o.Status, o.Message = report.InDoubt, msg+"; an earlier run sent this row without a clear answer, so it may exist"
	}
	return p.rep.Record(o)
}

// validate checks a mapped, normalised row against the portal's
// definitions. It returns the outcome of a row HubSpot would reject, or
// nil. It is not called for a row that may exist already (an earlier run
// sent it without a clear answer): the definitions may have changed since
// it was sent, and it is looked up before anything else.
func (p *producer) validate(row int, fields []string, in *hubspot.CreateInput) *report.Outcome {
	if p.checker == nil {
		return nil
	}
	probs := p.checker.Check(*in)
	if len(probs) == 0 {
		return nil
	}
	msgs := make([]string, len(probs))
	for i, pr := range probs {
		col := p.columns[pr.Property]
		if p.tally != nil {
			p.tally.Add(row, col, pr)
		}
		msgs[i] = fmt.Sprintf("column %q: %v", col, pr)
	}
	return &report.Outcome{Row: row, Record: fields, Status: report.Failed, Code: probs[0].Code,
		Message: strings.Join(msgs, "; ")}
}

// run reads until the input ends or ctx is done. Rows rejected before
// sending, and rows an earlier run finished, are recorded here. On a stop,
// rows read but not handed over are recorded as not sent.
func (p *producer) run(ctx context.Context) error {
	err := p.readAll(ctx)
	// Rows held for a later row with their key that was not read: the run
	// stopped first, or the file changed since it was read for each key's
	// last row.
	changed := 0 // a later row's key not where the first read found it
	for _, later := range slices.Sorted(maps.Keys(p.held)) {
		why := stoppedBeforeSent
		if err == nil {
			why = fmt.Sprintf("the input changed while it was read (row %d no longer has this row's key, so this row, which it was to supersede, was not sent): run the same command again", later)
			changed = later
		}
		for _, h := range p.held[later] {
			p.unsent(h.rec, h.prior, why) // in doubt if an earlier run may have created its key's line item
		}
		delete(p.held, later)
	}
	if changed > 0 {
		// The second read did not read what the first did: the file was
		// written over in a way its size and time did not show.
		err = &watch.ChangedError{Name: p.inputName, Why: fmt.Sprintf("row %d no longer has the key it had when the file was first read", changed)}
	}
	if len(p.pending) > 0 {
		// A stop, or an error, left rows waiting for their targets.
		p.dropPending(stopWhy(ctx, err))
	}
	if p.recordErr != nil {
		// Fatal, even while stopping: the reports can no longer be trusted.
		if err != nil {
			return fmt.Errorf("%w (the run was stopping: %v)", p.recordErr, err)
		}
		return p.recordErr
	}
	return err
}

// readAll is run without the report errors of rows dropped on the way.
func (p *producer) readAll(ctx context.Context) error {
	for {
		if ctx.Err() != nil {
			p.flush(ctx)
			return ctx.Err()
		}
		rec, err := p.rd.Read()
		if errors.Is(err, io.EOF) {
			if len(p.pending) > 0 {
				if err := p.resolvePending(ctx); err != nil {
					return err
				}
			}
			if !p.flush(ctx) {
				return ctx.Err()
			}
			return nil
		}
		if err != nil {
			if _, ok := errors.AsType[*watch.ChangedError](err); ok {
				// Rows read from a file written over may mix its two
				// versions: none more is sent (nor from one still being
				// written: the next run sends them with the rest).
				p.drop(stopWhy(ctx, err))
				return err
			}
			p.flush(ctx)
			return err
		}
		if err := p.one(ctx, rec); err != nil {
			p.drop(stopWhy(ctx, err))
			return err
		}
	}
}

// countFedBack counts a keyless row of in_doubt.csv fed back, by the
// content its cells map to, in p.fedBack. A row whose cells
// do not map is not counted. The error, from the disk where the counts go
// beyond memory, is fatal.
func (p *producer) countFedBack(rec rows.Record) error {
	in := &p.in
	if p.m.MapInto(in, rec.Fields) != nil {
		return nil
	}
	var content string
	content, p.scratch = chunker.ContentOf(*in, p.scratch)
	d, ok := contentDigest(content)
	if !ok {
		return nil
	}
	n, _, err := p.fedBack.Get(d)
	if err != nil {
		return err
	}
	return p.fedBack.Put(d, n+1)
}

// notFedBack returns the doubts that earlier runs left and this run did
// not meet, less those of rows known by their content that a keyless row
// fed back from in_doubt.csv (counted by countFedBack) stands for: such a
// row cannot be told from the other rows with its content, so it is
// reported in doubt as it was, and one doubt with its content is its own.
// fed is how many were left out. On an error of the spill files the
// doubts are kept.
func notFedBack(ds []journal.Doubt, fedBack *spillmap.Map) (left []journal.Doubt, fed int) {
	for _, d := range ds {
		if rest, ok := strings.CutPrefix(d.Ident, "c:"); ok { // known by its content
			content, _, _ := strings.Cut(rest, "#")
			if dg, ok := contentDigest(content); ok {
				if n, _, err := fedBack.Get(dg); err == nil && n > 0 && fedBack.Put(dg, n-1) == nil {
					fed++
					continue
				}
			}
		}
		left = append(left, d)
	}
	return left, fed
}

// contentDigest reads a row's content identity (chunker.ContentOf) as
// the digest it is.
func contentDigest(content string) (spillmap.Digest, bool) {
	var d spillmap.Digest
	n, err := base64.RawURLEncoding.Decode(d[:], []byte(content))
	return d, err == nil && n == len(d)
}

// unfedReport reports whether a fed-back row comes from not_sent.csv
// (status NotSent) or in_doubt.csv (InDoubt), by its error_report (from),
// or, in a report written before that column was, by an error_code that
// only those reports hold: the importer's codes for rows not sent or
// without a clear answer, and the answers that lead there (failed.csv
// never holds them; other codes of those reports go unnoticed there).
func unfedReport(from, code string) (report.Status, bool) {
	switch from {
	case report.InDoubt.String():
		return report.InDoubt, true
	case report.NotSent.String():
		return report.NotSent, true
	case "":
	default:
		return 0, false
	}
	switch {
	case code == report.CodeNotSent, code == "RATE_LIMIT", code == "HTTP_423", code == "DAILY_LIMIT", code == "DAILY_RESERVE", code == "MIGRATION_IN_PROGRESS":
		return report.NotSent, true
	case code == "NO_ANSWER", code == "TIMEOUT", code == "HTTP_303", code == "MISSING_RESULT",
		len(code) == len("HTTP_500") && strings.HasPrefix(code, "HTTP_5"):
		return report.InDoubt, true
	}
	return 0, false
}

// refuseMalformed records rec, whose cells (fields) cannot be trusted, as
// failed with CodeMalformed, or in doubt if the line item an earlier run
// sent under its key (as far as it can be read) may exist: failed would
// invite a resend. raw is the line as it was in its own file.
func (p *producer) refuseMalformed(rec rows.Record, fields []string, msg, raw string) error {
	out := report.Outcome{Row: rec.Row, Record: fields, Status: report.Failed, Code: CodeMalformed, Message: msg, Raw: raw}
	if p.priorOf(p.m.Key(fields)).MayExist() {
		out.Status = report.InDoubt
		out.Message += "; an earlier run sent a row with this key without a clear answer, so it may exist"
	} else if p.tally != nil {
		// In the table of problems found before sending, under no property.
		p.tally.Add(rec.Row, "", schema.Problem{Value: msg, Code: CodeMalformed})
	}
	return p.rep.Record(out)
}

// drop records the rows read and not handed over (in the batchers, or
// waiting for their targets) as not sent, or in doubt for rows an earlier
// request may have created, when the run stops on an error: without it they
// would be in no report. Errors recording them join p.recordErr.
func (p *producer) drop(why string) {
	p.dropPending(why)
	p.recordErr = errors.Join(p.recordErr, p.discardHeld(nil, why))
}

// discardHeld records the batches bs, then every row the batchers hold, as
// rows the run will not send (see upload.Uploader.Discard), and returns the
// errors recording them.
func (p *producer) discardHeld(bs []*chunker.Batch, why string) error {
	rb := p.recheck.Flush()
	markRecheck(rb)
	var errs error
	for _, b := range slices.Concat(bs, p.ch.Flush(), rb) {
		errs = errors.Join(errs, p.discard(b, why))
	}
	return errs
}

// one handles a record. It returns ctx's error if the run stopped while the
// record's batch was being handed over.
func (p *producer) one(ctx context.Context, rec rows.Record) error {
	if rec.Err != nil {
		lines := fmt.Sprintf("line %d", rec.Line)
		if rec.Lines > 1 {
			lines = fmt.Sprintf("lines %d-%d", rec.Line, rec.Line+rec.Lines-1)
		}
		return p.refuseMalformed(rec, p.rd.Fit(rec.Fields), fmt.Sprintf("%s: %v", lines, rec.Err), rec.Raw)
	}
	if rec.Blank {
		// Empty lines and rows of empty cells (Excel ends exports with
		// them) are no line items: skipped, counted, never sent.
		p.skipped++
		return nil
	}
	if rec.ReportCode == CodeMalformed {
		// A row of a failed.csv fed back that could not be read in its
		// own file: its cells are the best that could be read then (a
		// stray quote kept, a cell cut at a delimiter), so they are not
		// sent while its error_code still says so; unless its key, as
		// far as it was read, is one an earlier run created (the file it
		// came from was fixed and run again).
		if ident := p.keyIdent(p.m.Key(rec.Fields)); ident != "" && !p.upsert {
			if prior := p.prior.Lookup(ident); prior.Status == report.Created {
				return p.carryCreated(rec, prior, "")
			}
		}
		return p.refuseMalformed(rec, rec.Fields, "this row could not be read in the file it came from, and its cells here are only "+
			"the best that could be read then (raw_line holds the line as it was): put the right values in its cells and empty "+
			"its error_code cell, then feed the file back", rec.ReportRaw)
	}
	if p.keyProp == "" {
		if status, ok := unfedReport(rec.Report, rec.ReportCode); ok {
			if status == report.InDoubt {
				if err := p.countFedBack(rec); err != nil {
					return p.stopAt(rec, journal.Prior{Sent: true}, err)
				}
			}
			return p.rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: status, Code: rec.ReportCode,
				Message: "a row of " + status.String() + ".csv fed back: without --key-property a row is known by its content and its place among " +
					"identical rows of its own file, which this file does not keep, so it could pass for a row already created; " +
					"run the command that wrote the report again, on its own file"})
		}
	}
	amb := p.ambiguous(rec)
	// A row with a key is known by its key, across runs and files: a row
	// an earlier run created is carried over before it is even mapped.
	key := p.m.Key(rec.Fields)
	if p.keyProp != "" && key == "" {
		// Without its key the row could be neither looked up nor told from
		// the next night's row that has one.
		missing := fmt.Sprintf("the key column is empty; with --key-property %s every row needs a key", p.keyProp)
		if amb != nil {
			return p.refuseAmbiguous(rec, amb, journal.Prior{}, missing)
		}
		return p.rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.Failed, Code: CodeMissingKey, Message: missing})
	}
	// A row with a key is known by it (an upsert row too: the journal
	// keeps the version of the values its line item was last given,
	// checked below once the values are known).
	ident := p.keyIdent(key)
	prior := p.priorOf(key) // none when ident is ""
	if p.last != nil && key != "" {
		if owner, ok := p.last.Get(p.sameKey(key)); ok {
			if later, _ := strconv.Atoi(owner); later > rec.Row {
				// Superseded, once the later row is read with this key: the
				// file could have changed since it was read for the last rows.
				p.held[later] = append(p.held[later], heldRow{rec: rec, key: key, prior: prior})
				return nil
			} else if later == rec.Row {
				outs := make([]report.Outcome, len(p.held[later]))
				for i, h := range p.held[later] {
					outs[i] = report.Outcome{Row: h.rec.Row, Record: h.rec.Fields, Status: report.Superseded, Code: CodeSuperseded,
						Message: fmt.Sprintf("row %d has the same key %q; with --duplicate-keys last-wins only a key's last row is sent", later, h.key)}
				}
				delete(p.held, later) // recorded here, or never: not as unsent too if this fails
				if err := p.rep.Record(outs...); err != nil {
					return err
				}
			}
		}
	}
	dup, err := p.claimKey(rec.Row, key)
	if err != nil {
		return p.stopAt(rec, prior, err)
	}
	if dup != 0 {
		if amb != nil {
			return p.refuseAmbiguous(rec, amb, journal.Prior{}, fmt.Sprintf("the key %q is also row %d's", key, dup))
		}
		return p.duplicateKey(rec, key, dup)
	}
	if prior.Status == report.Created && !p.upsert {
		return p.carryCreated(rec, prior, "")
	}
	// p.in is reused row after row: nothing keeps it past this call (the
	// encoder copies what it needs).
	in := &p.in
	if err := p.m.MapInto(in, rec.Fields); err != nil {
		if amb != nil {
			return p.refuseAmbiguous(rec, amb, prior, err.Error())
		}
		code := "INVALID_VALUE"
		var fe *mapping.FieldError
		if errors.As(err, &fe) {
			code = fe.Code()
		}
		if prior.MayExist() {
			return p.rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.InDoubt, Code: code,
				Message: fmt.Sprintf("%v; an earlier run sent this row without a clear answer, so it may exist", err)})
		}
		var fes mapping.FieldErrors
		if errors.As(err, &fes) && p.tally != nil {
			for _, fe := range fes { // every bad cell of the row
				p.tally.Add(rec.Row, fe.Column, schema.Problem{Property: fe.Property, Value: fe.Value, Code: fe.Code(), Expected: fe.Expected})
			}
		}
		return p.rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.Failed,
			Code: code, Message: err.Error()})
	}
	if p.keyProp != "" && key != "" {
		in.Properties.Set(p.keyProp, key) // so also in upserts, and in the row's content
	}
	// The row's content as the file and the mapping make it, before the
	// portal's definitions turn labels into values: a change to the
	// portal's options does not make it another row.
	var content string
	content, p.scratch = chunker.ContentOf(*in, p.scratch)
	if p.checker != nil {
		p.checker.Normalize(in)
	}
	if p.upsert && prior.Status == report.Created {
		// The same values as the line item was last given are not sent
		// again; other values are (A, then B, then A again sends A). A row
		// sent without an answer is resumed, whatever its values now.
		if prior.Version == content {
			return p.carryCreated(rec, prior, report.ActionUnchanged)
		}
		prior = journal.Prior{} // other values: an update, sent afresh
	}
	if ident == "" {
		// Without a key a row is known by its content, and by how many rows
		// before it in the file have the same content: n identical rows are
		// n line items, and a rerun creates only those not created yet.
		n, err := p.occurrence(content)
		if err != nil {
			if p.prior.AnyMayExist("c:" + content + "#") {
				// Which of the rows with this content it is is unknown: an
				// earlier run's line item with it may be this row's.
				return p.stopAt(rec, journal.Prior{Sent: true}, err)
			}
			return p.stopAt(rec, prior, err)
		}
		ident = "c:" + content + "#" + strconv.Itoa(n)
		prior = p.prior.Lookup(ident)
		if prior.Status == report.Created {
			return p.carryCreated(rec, prior, "")
		}
	}
	if amb != nil {
		return p.refuseAmbiguous(rec, amb, prior, "")
	}
	r := pendingRow{rec: rec, key: key, content: content, ident: ident, prior: prior}
	if p.targets != nil && !p.targets.known(in) {
		// An association names its target by an external id not read yet:
		// the row waits until a hundred such values (or the end of the
		// input) make a batch read worth it.
		r.in = cloneInput(*in)
		p.pending = append(p.pending, r)
		if p.targets.waiting() >= resolve.MaxInputs || len(p.pending) >= maxPending {
			return p.resolvePending(ctx)
		}
		return nil
	}
	r.in = *in
	return p.finish(ctx, r)
}

// finish sends a mapped row whose associations name their targets by id:
// it resolves those named by an external id (already read), checks it,
// and hands it to a chunker. It returns ctx's error if the run stopped
// while the row's batch was being handed over.
func (p *producer) finish(ctx context.Context, r pendingRow) error {
	rec, key, in, content, ident, prior := r.rec, r.key, &r.in, r.content, r.ident, r.prior
	if p.targets != nil {
		if missing := p.targets.apply(in); len(missing) > 0 {
			o := report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.Failed, Code: CodeTargetNotFound,
				Message: strings.Join(missing, "; ") + "; the row was not sent"}
			if prior.MayExist() {
				// Not sent now, but an earlier run sent it: it may exist.
				o.Status = report.InDoubt
				o.Message = strings.Join(missing, "; ") + "; the row was not sent again, and an earlier run sent it without a clear answer, so it may exist"
			}
			return p.rep.Record(o)
		}
	}
	it := p.enc.Encode(rec.Row, rec.Fields, key, *in)
	it.FailIdent = "f:" + content
	it.Ident = ident
	if p.upsert {
		it.Version = content
	}
	target := p.ch
	if prior.MayExist() {
		// An earlier run sent the row without a clear answer: it may exist.
		// It is not checked against the portal's definitions again (they
		// may have changed since): it is looked up first, and a resend is
		// judged by HubSpot's answer.
		switch {
		case p.canRecheck:
			target = p.recheck
		case p.resend:
		default:
			p.carried++
			code, msg := prior.Code, prior.Message
			if code == "" {
				code, msg = "NO_ANSWER", "an earlier run sent this row and stopped before the answer was recorded; HubSpot may have created it"
			}
			return p.rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.InDoubt, Code: code, Message: msg})
		}
		it.State.Resume()
	} else {
		if fp := p.prior.Lookup(it.FailIdent); fp.Status == report.Failed && !p.retryRejected {
			// HubSpot rejected this very content before: it is not sent
			// again until it is fixed.
			p.carried++
			return p.rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.Failed, Code: fp.Code,
				Message: fp.Message + " (rejected by an earlier run: fix the row to send it again; if the portal was what was wrong, a missing deal say, run with --retry-rejected to send such rows again)"})
		}
		if bad := p.validate(rec.Row, rec.Fields, in); bad != nil {
			return p.rep.Record(*bad)
		}
	}
	bs := target.Add(it)
	if target == p.recheck {
		markRecheck(bs)
	}
	if !p.emit(ctx, bs) {
		return ctx.Err()
	}
	return nil
}

// KeyColumnFile holds, in a journal's folder, the name of the column that
// the last keyed run took its rows' keys from.
const KeyColumnFile = "key-column"

// checkKeyColumn refuses a keyed run whose mapping takes keys from another
// column than the runs before it did: rows are known by their keys, so a
// row imported under its old key would be created again under its new one
// (nothing in HubSpot holds the new key yet). Only the operator can tell
// a renamed column (an export's new header over the same keys) from
// another one (a new id scheme): with the old column gone from the input
// and renamedFrom naming it, the run goes on, recording the new name, and
// checkKeyColumn returns the old one. A keyless run, and a folder with no
// rows known by key that may exist, are not checked; the file records the
// column for the next run.
func checkKeyColumn(stateDir string, prior *journal.State, keyProp, column, renamedFrom string, header []string) (renamed string, err error) {
	if keyProp == "" || column == "" {
		return "", nil
	}
	path := filepath.Join(stateDir, KeyColumnFile)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var was string
	if len(data) > 0 {
		if was, err = strconv.Unquote(strings.TrimSuffix(string(data), "\n")); err != nil {
			return "", fmt.Errorf("%s is damaged: it names, quoted, the column earlier runs took keys from; remove it if the mapping's key: is the one they used", path)
		}
	}
	if was == column {
		return "", nil
	}
	ids := prior.Identities()
	known := ids["k:"+keyProp] + ids["u:"+keyProp]
	if was != "" && known > 0 {
		if slices.Contains(header, was) {
			return "", fmt.Errorf("the journal in %s knows %d rows by their keys in %s, which earlier runs took from the column %q; this run's mapping takes keys from %q, and the input still has %q: "+
				"rows imported under their old keys would be created again under new ones. Put key: %s back in the mapping; "+
				"if the keys are meant to change, the line items imported so far do not hold the new ones, and any run would create them again",
				stateDir, known, keyProp, was, column, was, was)
		}
		if renamedFrom != was {
			return "", fmt.Errorf("the journal in %s knows %d rows by their keys in %s, which earlier runs took from the column %q; this run's mapping takes keys from %q, and the input has no %q. "+
				"If %q is %q renamed, holding the same keys, run again with --key-column-renamed-from %s. "+
				"If it holds other keys (a new id scheme), the line items imported so far do not hold them, and every row would be created again as a new line item",
				stateDir, known, keyProp, was, column, was, column, was, shellQuote(was))
		}
		renamed = was
	}
	return renamed, report.ReplaceFile(path, func(w io.Writer) error {
		_, err := io.WriteString(w, strconv.Quote(column)+"\n")
		return err
	})
}

// UpsertsFile marks a journal's folder as holding an upsert import's rows.
const UpsertsFile = "upserts"

// checkMode refuses a create run on a journal that upsert runs wrote to,
// and marks the journal's folder for an upsert run. An upserted row may
// exist without its associations (they are made afterwards, and may have
// failed or been cut short); a create run would meet its key, find the
// line item, and report the row created, as if its create had carried the
// associations. The other way round is safe: an upsert updates what a
// create made.
func checkMode(stateDir string, upsert bool) error {
	marker := filepath.Join(stateDir, UpsertsFile)
	_, err := os.Stat(marker)
	switch {
	case errors.Is(err, os.ErrNotExist) && upsert:
		return os.WriteFile(marker, []byte("Upsert runs wrote to the journal in this folder: a create run (--mode create) here is refused.\n"), 0o600)
	case errors.Is(err, os.ErrNotExist):
		return nil // creates only, so far
	case err != nil:
		return err
	case upsert:
		return nil
	}
	return fmt.Errorf("the journal in %s holds rows of upsert runs (--mode upsert): a row upserted without its associations would be taken, by a create run, for one created with them. Run with --mode upsert, or use another --out for creates", stateDir)
}

// checkIdentity refuses a run that would know rows otherwise than the
// earlier runs of the folder knew the rows that may exist in HubSpot: by
// content without a key property, by another key property, or by a key
// after runs without one. Such a run would not recognise those rows, and
// would create them again: a line item created without the key property
// need not hold it, so HubSpot would not refuse the second one.
func checkIdentity(stateDir string, prior *journal.State, keyProp string, upsert bool) error {
	want := "c"
	if keyProp != "" {
		want = "k:" + keyProp
	}
	kinds := prior.Identities()
	for _, kind := range slices.Sorted(maps.Keys(kinds)) {
		n := kinds[kind]
		if kind == want || (upsert && kind == "u:"+keyProp) {
			continue
		}
		switch {
		case kind == "u:"+keyProp:
			return fmt.Errorf("the journal in %s knows %d rows that upsert runs (--mode upsert) sent: a row upserted without its associations would be taken, by a create run, for one created with them. Run with --mode upsert, or use another --out for creates",
				stateDir, n)
		case kind == "c":
			instead := "Run without --key-property here; or use"
			if upsert {
				instead = "Upserts need a key: use"
			}
			return fmt.Errorf("the journal in %s knows %d rows that may exist in HubSpot by their content: the runs that sent them had no --key-property. "+
				"This run, with --key-property %s, knows rows by their key, and would create those rows again (their line items need not hold %s, so HubSpot would not refuse them). "+
				"%s another --out once the line items already imported hold their keys in HubSpot (created.csv has their ids)",
				stateDir, n, keyProp, keyProp, instead)
		case keyProp == "":
			prop := kind[2:]
			return fmt.Errorf("the journal in %s knows %d rows that may exist in HubSpot by their key in %s: a run without --key-property knows rows by their content, and would create them again. Run with --key-property %s",
				stateDir, n, prop, prop)
		default:
			prop := kind[2:]
			return fmt.Errorf("the journal in %s knows %d rows that may exist in HubSpot by their key in %s, and this run's --key-property is %s: it would not recognise them, and would create them again. Run with --key-property %s, or use another --out",
				stateDir, n, prop, keyProp, prop)
		}
	}
	return nil
}

// lastRows reads the input once through and returns, for each key, its
// last row (as the row number in decimal); then it rewinds the input, so
// that the import reads the very same bytes. Malformed and blank rows are
// passed over, as the import passes them; with fold, keys are folded as
// in upsert mode (see producer.sameKey). The input must be an
// io.ReadSeeker, and a regular file if it is an *os.File.
func lastRows(in io.Reader, opts rows.Options, spec *mapping.Spec, keyProp string, fold bool) (*keyset.Set, error) {
	if keyProp == "" || spec == nil || spec.Key == "" {
		return nil, errors.New("--duplicate-keys last-wins needs --key-property and a mapping with key: rows are told apart by their key")
	}
	rs, ok := in.(io.ReadSeeker)
	if f, isFile := in.(*os.File); isFile {
		fi, err := f.Stat()
		ok = err == nil && fi.Mode().IsRegular()
	}
	if !ok {
		return nil, errors.New("--duplicate-keys last-wins reads the input twice (first for each key's last row): give a regular file, not standard input or a pipe")
	}
	rd, err := rows.NewReaderOptions(rs, opts)
	if err != nil {
		return nil, err
	}
	m, err := spec.Compile(rd.Header())
	if err != nil {
		return nil, err
	}
	last := new(keyset.Set)
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			last.Close()
			return nil, err
		}
		if rec.Err != nil || rec.Blank || rec.ReportCode == CodeMalformed {
			// Rows the import refuses before it weighs their keys (see
			// producer.one): none of them takes a key from another row.
			continue
		}
		if key := m.Key(rec.Fields); key != "" {
			if fold {
				key = foldKey(key) // as producer.sameKey
			}
			last.Add(key, strconv.Itoa(rec.Row))
		}
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		last.Close()
		return nil, err
	}
	return last, nil
}

// maxPending is how many rows may wait for their associations' targets
// to be read.
const maxPending = 1000

// pendingRow is a mapped row on its way to a chunker.
type pendingRow struct {
	rec            rows.Record
	key            string
	in             hubspot.CreateInput
	content, ident string
	prior          journal.Prior
}

// cloneInput copies in, so that it outlives the producer's reused input.
func cloneInput(in hubspot.CreateInput) hubspot.CreateInput {
	in.Properties = slices.Clone(in.Properties)
	in.Associations = slices.Clone(in.Associations)
	return in
}

// resolvePending reads the targets the waiting rows name by external id
// and sends the rows on. If the reads fail, the waiting rows are recorded
// (not sent, or in doubt for rows an earlier run may have created), what
// the chunkers hold is handed over, and the error is returned: the run
// stops.
func (p *producer) resolvePending(ctx context.Context) error {
	if err := p.targets.resolve(ctx); err != nil {
		if ctx.Err() != nil {
			p.dropPending(stoppedBeforeSent)
			p.flush(ctx) // what the chunkers hold, recorded as the stop leaves it
			return ctx.Err()
		}
		err = fmt.Errorf("finding the records that associations name by an external id: %w", err)
		p.dropPending("the run stopped: " + err.Error())
		p.flush(ctx)
		return err
	}
	waiting := p.pending
	p.pending = nil
	for i, r := range waiting {
		if err := p.finish(ctx, r); err != nil {
			p.pending = waiting[i+1:]
			p.dropPending(stoppedBeforeSent)
			return err
		}
	}
	return nil
}

// dropPending records the rows waiting for their targets, which the run
// will not send: not sent, or in doubt for a row an earlier run sent
// without a clear answer.
func (p *producer) dropPending(why string) {
	for _, r := range p.pending {
		p.unsent(r.rec, r.prior, why)
	}
	p.pending = nil
}

// unsent records rec, which the run read and does not send because of why:
// not sent, or in doubt if an earlier run may have created it (prior).
// An error recording it joins p.recordErr.
func (p *producer) unsent(rec rows.Record, prior journal.Prior, why string) {
	o := report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.NotSent, Code: report.CodeNotSent, Message: "not sent: " + why}
	if prior.MayExist() {
		o.Status, o.Code = report.InDoubt, "NO_ANSWER"
		o.Message = "an earlier run sent this row without a clear answer, and " + why
	}
	if err := p.rep.Record(o); err != nil {
		p.recordErr = errors.Join(p.recordErr, err)
	}
}

// heldRow is a row that a later row with its key supersedes under
// --duplicate-keys last-wins, held until that row is read: with its key and
// what earlier runs left of the key's line item.
type heldRow struct {
	rec   rows.Record
	key   string
	prior journal.Prior
}

// stopAt records rec with unsent when the run stops on err while handling
// it (a spill file that cannot be written), and returns err: a row read is
// in a report even then.
func (p *producer) stopAt(rec rows.Record, prior journal.Prior, err error) error {
	p.unsent(rec, prior, "the run stopped: "+err.Error())
	return err
}

// carryCreated records a row an earlier run created (or upserted, with
// action), with its id; it is not sent again.
func (p *producer) carryCreated(rec rows.Record, prior journal.Prior, action string) error {
	p.carried++
	return p.rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.Created, ID: prior.ID, Earlier: true, Action: action})
}

// duplicateKey records a row whose key an earlier row of the file has. A
// key names one line item: the row is not sent, and cannot exist as a line
// item of its own (the key property holds unique values).
func (p *producer) duplicateKey(rec rows.Record, key string, dup int) error {
	msg := fmt.Sprintf("the key %q is also row %d's: keys must be unique within the file; this row was not sent", key, dup)
	if p.upsert {
		msg = fmt.Sprintf("the key %q is also row %d's (in upsert mode keys that differ only in case count as the same: HubSpot may compare unique values without regard to case, and both rows would then update one line item): keys must be unique within the file; this row was not sent", key, dup)
	}
	return p.rep.Record(report.Outcome{Row: rec.Row, Record: rec.Fields, Status: report.Failed, Code: CodeDuplicateKey, Message: msg})
}

// sameKey is the form of key under which rows are the same row: in upsert
// mode, keys that differ only in case are (a portal may compare unique
// values without regard to case, and the second row would then update the
// first one's line item, both rows reported with one id); in create mode a
// lookup tells such rows apart, and keys are compared byte for byte.
func (p *producer) sameKey(key string) string {
	if p.upsert {
		return foldKey(key)
	}
	return key
}

// foldKey is key with letter case folded as strings.EqualFold folds it
// (casefold.Fold), which a portal comparing unique values without regard
// to case is assumed to match or fall short of: "ΟΔΟΣ-1" and "οδος-1" are
// one key.
func foldKey(key string) string { return casefold.Fold(key) }

// spillAfter is the number of keys and content identities the producer
// keeps in memory before they go to files (spillmap.MemEntries if 0);
// tests lower it.
var spillAfter = 0

// occurrence counts the rows with this content so far, this one included.
// The error, from the disk where the counts go beyond memory, is fatal.
func (p *producer) occurrence(content string) (int, error) {
	d, ok := contentDigest(content)
	if !ok {
		return 0, fmt.Errorf("importer: content identity %q is not a 128-bit digest", content)
	}
	n, _, err := p.contents.Get(d)
	if err != nil {
		return 0, err
	}
	n++
	return int(n), p.contents.Put(d, n)
}

// claimKey remembers that row has key, and returns 0, or the earlier row
// that has it already. The error, from the disk where the keys go beyond
// memory, is fatal.
func (p *producer) claimKey(row int, key string) (int, error) {
	if p.keys == nil || key == "" {
		return 0, nil
	}
	d := p.keyDigest(p.sameKey(key))
	owner, taken, err := p.keys.Get(d)
	if err != nil {
		return 0, err
	}
	if taken && owner != uint64(row) {
		return int(owner), nil
	}
	return 0, p.keys.Put(d, uint64(row))
}

// keyIdent returns the journal identity of the row with the given key,
// or "" when rows have no key.
func (p *producer) keyIdent(key string) string { return journal.KeyIdent(p.keyProp, key, p.upsert) }

// priorOf returns what earlier runs recorded of the row with key (see
// journal.State.LookupKey): in upsert mode a key a create run left in
// doubt may exist, so such a row is resumed (sent again, its answer judged
// as a resend's) and a row refused before it is sent is in doubt, not
// failed.
func (p *producer) priorOf(key string) journal.Prior {
	return p.prior.LookupKey(p.keyProp, key, p.upsert)
}

// keyDigest is the digest under which p.keys knows key: two 64-bit hashes
// with seeds of this run, so that no input can make two keys collide on
// purpose, and by chance about once in 2^64 files of 2^32 keys.
func (p *producer) keyDigest(key string) spillmap.Digest {
	var d spillmap.Digest
	binary.LittleEndian.PutUint64(d[:8], maphash.String(p.keySeeds[0], key))
	binary.LittleEndian.PutUint64(d[8:], maphash.String(p.keySeeds[1], key))
	return d
}

func markRecheck(bs []*chunker.Batch) {
	for _, b := range bs {
		b.Recheck = true
	}
}

// flush hands over what the chunkers hold, and the rows waiting for their
// associations' targets.
func (p *producer) flush(ctx context.Context) bool {
	p.dropPending(stoppedBeforeSent) // resolved before, unless the run stops
	rb := p.recheck.Flush()
	markRecheck(rb)
	return p.emit(ctx, append(p.ch.Flush(), rb...))
}

// emit hands batches over; if the run stops first, it discards every batch
// it holds (see [upload.Uploader.Discard]) and reports false. Errors recording the
// discarded rows join p.recordErr.
func (p *producer) emit(ctx context.Context, bs []*chunker.Batch) bool {
	for i, b := range bs {
		if p.jr != nil && !b.Recheck { // a recheck batch is looked up before anything is sent
			b.Ticket = p.jr.Queue(b.Idents(nil))
		}
		select {
		case p.out <- b:
		case <-ctx.Done():
			p.recordErr = errors.Join(p.recordErr, p.discardHeld(bs[i:], stoppedBeforeSent))
			return false
		}
	}
	return true
}

// stoppedBeforeSent is why rows read but never handed to HubSpot are not sent.
const stoppedBeforeSent = "the run stopped before this row was sent"

// stopWhy says why rows read are not sent when the run ends with err: the
// error, unless the run was stopped (ctx done) or err is nil.
func stopWhy(ctx context.Context, err error) string {
	if err != nil && ctx.Err() == nil {
		return "the run stopped: " + err.Error()
	}
	return stoppedBeforeSent
}

// Progress is what a run reports of itself while it goes.
type Progress struct {
	report.Counts
	Elapsed time.Duration
	// RateWait is how long until the next request may go, while requests
	// wait for a slot in HubSpot's rate window; 0 when none waits.
	RateWait time.Duration
	// Done is set on the last report of a run that read and settled its
	// whole input.
	Done bool
}

// progress calls report with a snapshot every interval until the returned
// function is called.
func progress(ctx context.Context, snapshot func(bool) Progress, every time.Duration, report func(Progress)) func() {
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
				report(snapshot(false))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// logProgress logs the tallies as an info line, for logs read by machines.
func logProgress(log *zap.Logger) func(Progress) {
	return func(p Progress) {
		fields := []zap.Field{zap.Int("rows_done", p.Rows), zap.Int("created", p.Created),
			zap.Int("failed", p.Failed), zap.Int("in_doubt", p.InDoubt),
			zap.Float64("rows_per_second", float64(p.Rows)/p.Elapsed.Seconds())}
		if p.RateWait > 0 {
			fields = append(fields, zap.Duration("waiting_for_rate_window", p.RateWait))
		}
		log.Info("progress", fields...)
	}
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
	// plan, for an upsert import that can read the portal, finds which
	// rows' keys a line item holds already: those would be updated, the
	// others created.
	plan           upload.Finder
	create, update int
	planErr        error // the plan could not be made
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
		_, _ = d.w.Write(b.Body)
		if err := d.w.WriteByte('\n'); err != nil {
			return err
		}
		d.rows += len(b.Items)
		d.batches++
		if d.plan != nil && d.planErr == nil {
			keys := make([]string, len(b.Items))
			for i, it := range b.Items {
				keys[i] = it.Key
			}
			found, err := d.plan.Find(ctx, keys)
			if err != nil {
				d.planErr = err
				continue
			}
			d.update += len(found)
			d.create += len(keys) - len(found)
		}
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

// shellQuote is s as one word of a POSIX shell command line: as it is when
// only letters, digits and _ . - / : , + = @ make it, else in single quotes.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-/:,+=@", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
