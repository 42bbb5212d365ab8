// Package report writes the importer's account of every row: created.csv
// (with a last column, imported, that says whether this run created the
// row, "now", or found it created by an earlier run, "earlier"; for an
// upsert import, a further column, action: created, updated, upserted or
// unchanged), failed.csv, in_doubt.csv, not_sent.csv and summary.json.
//
// A [Writer] writes each outcome as it is recorded and flushes after every
// call to Record, so the reports are complete up to the last batch answered
// even if the process dies. Files are created with mode 0600: they hold
// customer data.
package report

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/lineitems/importer/internal/durable"
)

// Status is what became of a row.
type Status int

// The possible outcomes of a row.
const (
	Created Status = iota + 1 // HubSpot created it; ID is set
	Failed                    // HubSpot (or the importer, before sending) rejected it; safe to fix and send again
	InDoubt                   // sent, but no clear answer came back: HubSpot may or may not have created it
	NotSent                   // HubSpot never processed it (the run stopped, or gave up resending); the same command sends it again
	// Superseded: not sent, because a later row of the file has the same
	// key and --duplicate-keys last-wins sends only the last (in
	// superseded.csv, which exists only then).
	Superseded
)

// String is the name, without ".csv", of the report that holds rows of
// status s ("created", "failed", "in_doubt", "not_sent", "superseded"),
// which the column error_report of each error report holds, so that a
// report fed back says which it is.
func (s Status) String() string {
	switch s {
	case Created:
		return "created"
	case Failed:
		return "failed"
	case InDoubt:
		return "in_doubt"
	case NotSent:
		return "not_sent"
	case Superseded:
		return "superseded"
	}
	return "unknown"
}

// Outcome is the final state of one data row.
type Outcome struct {
	Row     int
	Record  []string // the row's cells, in header order
	Status  Status
	ID      string // HubSpot id, for Created
	Code    string // error code, for Failed, InDoubt and NotSent
	Message string
	// Raw is the row's line as read, for a malformed record (written in
	// the column raw_line, so that nothing of it is lost); "" otherwise.
	Raw string
	// Earlier marks a Created row that was there before this run: found in
	// the journal (the same key, or the same content) and not sent, or
	// found by its key while no request of this run that may have reached
	// HubSpot carried it (created by an earlier run, folder or tool).
	Earlier bool

	// Action, for a Created row of an upsert import, is what the upsert
	// did (ActionCreated, ActionUpdated, ActionUpserted) or ActionUnchanged
	// for a row an earlier run upserted with the same values; it is
	// written in created.csv's action column.
	Action string

	// Ident and FailIdent are the row's identities for the journal (see
	// package journal), and Version, for an upserted row, the version of
	// the values its line item was given (its content); they are not
	// written to the reports.
	Version          string
	Ident, FailIdent string
}

// What an upsert did with a row, in created.csv's action column.
const (
	ActionCreated   = "created"   // HubSpot created the line item
	ActionUpdated   = "updated"   // HubSpot updated the line item that held the key
	ActionUpserted  = "upserted"  // HubSpot's answer did not say which (the row was found by its key)
	ActionUnchanged = "unchanged" // an earlier run upserted the same values; not sent again
)

// CodeNotSent is the error code of a row that HubSpot did not process
// because the run stopped before the row could be sent. A later run of the
// same import sends it. Its status is NotSent.
const CodeNotSent = "NOT_SENT"

// File names inside the output folder.
const (
	CreatedFile = "created.csv"
	FailedFile  = "failed.csv"
	InDoubtFile = "in_doubt.csv"
	NotSentFile = "not_sent.csv"
	// SupersededFile holds the rows a later row with the same key replaced
	// (with --duplicate-keys last-wins only).
	SupersededFile = "superseded.csv"
	SummaryFile    = "summary.json"
)

// Reports returns the names of the four CSV reports, in the order of
// [NewWriter]'s arguments: created, failed, in doubt, not sent.
func Reports() []string { return []string{CreatedFile, FailedFile, InDoubtFile, NotSentFile} }

// Counts tallies the outcomes recorded so far.
type Counts struct {
	Rows    int
	Created int
	Failed  int
	InDoubt int
	NotSent int
	// Superseded counts the rows not sent because a later row has their
	// key (--duplicate-keys last-wins); they are no failure.
	Superseded int
	Earlier    int            // of the created rows, those an earlier run created
	Codes      map[string]int // error code → rows, over failed, in-doubt and not-sent rows
	// Actions counts the created rows by Outcome.Action, in a Writer made
	// WithActions (an upsert import); nil otherwise.
	Actions map[string]int
}

// Writer writes outcomes to the three CSV reports. It is safe for
// concurrent use.
type Writer struct {
	mu      sync.Mutex
	created *lineWriter
	failed  *lineWriter
	inDoubt *lineWriter
	notSent *lineWriter
	// superseded is superseded.csv, with WithSuperseded only.
	superseded *lineWriter
	files      []File // set by Create
	counts     Counts
	width      int
	line       []string // reused for each report line
	actions    bool     // created.csv has an action column
}

// Option configures a Writer.
type Option func(*Writer)

// WithSuperseded makes the Writer record Superseded rows, to w, in the
// layout of failed.csv. Create and CreateWith ignore w (nil will do) and
// open superseded.csv in the folder instead.
func WithSuperseded(w io.Writer) Option {
	if w == nil {
		w = io.Discard // CreateFailedOnly: only failed.csv is written
	}
	return func(wr *Writer) { wr.superseded = newLineWriter(w) }
}

// WithActions adds to created.csv a last column, action, with each row's
// Outcome.Action: what an upsert did with it.
func WithActions() Option { return func(w *Writer) { w.actions = true } }

// NewWriter writes reports for a CSV with the given header to the four
// writers, starting with their header lines.
func NewWriter(created, failed, inDoubt, notSent io.Writer, header []string, opts ...Option) (*Writer, error) {
	w := &Writer{
		created: newLineWriter(created),
		failed:  newLineWriter(failed),
		inDoubt: newLineWriter(inDoubt),
		notSent: newLineWriter(notSent),
		counts:  Counts{Codes: map[string]int{}},
		width:   len(header),
	}
	for _, o := range opts {
		o(w)
	}
	errHeader := append(append([]string{}, header...), "error_report", "raw_line", "error_row", "error_code", "error_message")
	createdHeader := append(append([]string{"row", "id"}, header...), "imported")
	if w.actions {
		createdHeader = append(createdHeader, "action")
	}
	w.created.Write(createdHeader)
	w.failed.Write(errHeader)
	w.inDoubt.Write(errHeader)
	w.notSent.Write(errHeader)
	if w.superseded != nil {
		w.superseded.Write(errHeader)
	}
	return w, w.flush()
}

// File is what a Writer needs of a report file. *os.File implements it.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// Opener creates (or truncates) the report file at path.
type Opener func(path string) (File, error)

// OpenFile is the Opener of real files, with mode 0600.
func OpenFile(path string) (File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
}

// Create opens the reports in dir (created with mode 0700 if missing),
// truncating earlier ones.
func Create(dir string, header []string, opts ...Option) (*Writer, error) {
	return CreateWith(dir, header, OpenFile, opts...)
}

// CreateFailedOnly opens only failed.csv in dir, for a dry run or validate,
// which record only rows they would not send: outcomes of other statuses
// are counted and discarded.
func CreateFailedOnly(dir string, header []string, open Opener, opts ...Option) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("report folder: %w", err)
	}
	f, err := open(filepath.Join(dir, FailedFile))
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	w, err := NewWriter(io.Discard, f, io.Discard, io.Discard, header, opts...)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.files = []File{f}
	return w, nil
}

// CreateWith is Create with the files opened by open.
func CreateWith(dir string, header []string, open Opener, opts ...Option) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("report folder: %w", err)
	}
	names := Reports()
	var probe Writer
	for _, o := range opts {
		o(&probe)
	}
	if probe.superseded != nil { // WithSuperseded: superseded.csv in dir
		names = append(names, SupersededFile)
	}
	var files []File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for _, name := range names {
		f, err := open(filepath.Join(dir, name))
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("report: %w", err)
		}
		files = append(files, f)
	}
	if probe.superseded != nil {
		opts = append(opts, WithSuperseded(files[len(files)-1]))
	}
	w, err := NewWriter(files[0], files[1], files[2], files[3], header, opts...)
	if err != nil {
		closeAll()
		return nil, err
	}
	w.files = files
	return w, nil
}

// Record writes outcomes and flushes the reports. A write error is
// returned and is fatal: the reports can no longer be trusted.
func (w *Writer) Record(outs ...Outcome) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range outs {
		row := strconv.Itoa(o.Row)
		w.counts.Rows++
		line := w.line[:0]
		if o.Status == Created {
			w.counts.Created++
			line = appendFit(append(line, row, o.ID), o.Record, w.width)
			when := "now"
			if o.Earlier {
				w.counts.Earlier++
				when = "earlier"
			}
			line = append(line, when)
			if w.actions {
				line = append(line, o.Action)
				if w.counts.Actions == nil {
					w.counts.Actions = map[string]int{}
				}
				w.counts.Actions[cmp.Or(o.Action, ActionUpserted)]++ // no action known: it was upserted
			}
			w.created.Write(line)
		} else {
			lw, n := w.errorReport(o.Status)
			if lw == nil {
				return fmt.Errorf("report: row %d has no outcome", o.Row)
			}
			*n++
			if o.Status != Superseded { // no error
				w.counts.Codes[o.Code]++
			}
			line = append(appendFit(line, o.Record, w.width), o.Status.String(), o.Raw, row, o.Code, o.Message)
			lw.Write(line)
		}
		clear(line)
		w.line = line[:0]
	}
	return w.flush()
}

// errorReport returns the report of rows with status st other than
// Created, and its count; nil for a status that is no outcome.
func (w *Writer) errorReport(st Status) (*lineWriter, *int) {
	switch st {
	case Failed:
		return w.failed, &w.counts.Failed
	case InDoubt:
		return w.inDoubt, &w.counts.InDoubt
	case NotSent:
		return w.notSent, &w.counts.NotSent
	case Superseded:
		if w.superseded != nil {
			return w.superseded, &w.counts.Superseded
		}
	}
	return nil, nil
}

// appendFit appends rec's cells to line, cut or padded with empty cells to
// exactly width.
func appendFit(line, rec []string, width int) []string {
	line = append(line, rec[:min(len(rec), width)]...)
	for range width - min(len(rec), width) {
		line = append(line, "")
	}
	return line
}

func (w *Writer) flush() error {
	var errs []error
	for _, lw := range []*lineWriter{w.created, w.failed, w.inDoubt, w.notSent, w.superseded} {
		if lw != nil {
			errs = append(errs, lw.Flush())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// Counts returns the tallies so far.
func (w *Writer) Counts() Counts {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.counts
	c.Codes = maps.Clone(w.counts.Codes)
	if c.Codes == nil {
		c.Codes = map[string]int{}
	}
	c.Actions = maps.Clone(w.counts.Actions)
	return c
}

// Close flushes and closes files opened by Create.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	errs := []error{w.flush()}
	for _, f := range w.files {
		errs = append(errs, f.Sync(), f.Close())
	}
	w.files = nil
	return errors.Join(errs...)
}

// Summary is summary.json.
type Summary struct {
	Input          string         `json:"input"`
	OutDir         string         `json:"out_dir"`
	DryRun         bool           `json:"dry_run"`
	Sandbox        bool           `json:"sandbox,omitempty"` // into the built-in emulator
	StartedAt      time.Time      `json:"started_at"`
	FinishedAt     time.Time      `json:"finished_at"`
	Rows           int            `json:"rows"`
	Created        int            `json:"created"`
	Failed         int            `json:"failed"`
	InDoubt        int            `json:"in_doubt"`
	NotSent        int            `json:"not_sent"`
	Earlier        int            `json:"already_imported"`     // of created: there before this run (see Outcome.Earlier)
	Skipped        int            `json:"skipped"`              // blank rows, not in rows: never sent, in no report
	Superseded     int            `json:"superseded,omitempty"` // of rows: replaced by a later row with the same key (--duplicate-keys last-wins), in superseded.csv
	Requests       int            `json:"requests"`
	Retries        int            `json:"retries"`
	Throttled      int            `json:"throttled"`
	Batches        int            `json:"batches"`
	ElapsedSeconds float64        `json:"elapsed_seconds"`
	RowsPerSecond  float64        `json:"rows_per_second"`
	ErrorCodes     []CodeCount    `json:"error_codes"`
	Stopped        string         `json:"stopped,omitempty"` // why the run ended early, if it did
	ExitCode       int            `json:"exit_code"`
	Extra          map[string]any `json:"extra,omitempty"`
}

// CodeCount is how many rows ended with one error code.
type CodeCount struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
}

// TopCodes orders error codes by count, most frequent first.
func TopCodes(codes map[string]int) []CodeCount {
	out := make([]CodeCount, 0, len(codes))
	for c, n := range codes {
		out = append(out, CodeCount{Code: c, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// WriteSummary writes s as indented JSON.
func WriteSummary(w io.Writer, s Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteSummaryFile writes s to path with mode 0600, replacing it atomically.
func WriteSummaryFile(path string, s Summary) error {
	return ReplaceFile(path, func(w io.Writer) error { return WriteSummary(w, s) })
}

// ReplaceFile replaces path atomically, with mode 0600, by what write
// writes: into path.tmp, synced, then renamed over path, and the rename
// synced in its folder, so that after a power loss path is the old file or
// the new one, whole. On an error the temporary file is removed and path
// is left as it was (unless only the last sync failed).
func ReplaceFile(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := errors.Join(write(f), f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return durable.SyncDir(filepath.Dir(path))
}

// SortLimit is the largest report Sort sorts; a larger one stays in the
// order its rows were answered.
const SortLimit = 32 << 20

// Sort rewrites each report in dir in input order (by row number), for a
// person to read: rows are written as HubSpot answers them, which is not
// the order of the input. A report over SortLimit bytes is left as it is.
// Each file is replaced atomically, with mode 0600.
func Sort(dir string) error {
	var errs []error
	for _, name := range append(Reports(), SupersededFile) {
		errs = append(errs, sortFile(filepath.Join(dir, name)))
	}
	return errors.Join(errs...)
}

func sortFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil || fi.Size() > SortLimit {
		return err
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	// Only where each record starts and its row number are kept: the
	// records are copied back as the bytes they are, read from the file
	// where they lie, so memory is 24 bytes a record, not the file.
	cr := csv.NewReader(bufio.NewReaderSize(src, 1<<16))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil // not a report this package wrote
	}
	col := slices.Index(header, "error_row")
	if filepath.Base(path) == CreatedFile {
		col = 0
	}
	if col < 0 {
		return nil
	}
	type span struct {
		row        int
		start, end int64
	}
	var spans []span
	start := cr.InputOffset()
	bodyStart := start
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil // not a report this package wrote
		}
		end := cr.InputOffset()
		row := 0
		if col < len(rec) {
			row, _ = strconv.Atoi(rec[col])
		}
		spans = append(spans, span{row, start, end})
		start = end
	}
	byRow := func(a, b span) int { return a.row - b.row }
	if slices.IsSortedFunc(spans, byRow) {
		return nil
	}
	slices.SortStableFunc(spans, byRow)
	return ReplaceFile(path, func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 1<<20)
		buf := make([]byte, 0, 4096)
		copyAt := func(start, end int64) error {
			buf = slices.Grow(buf[:0], int(end-start))[:end-start]
			if _, err := src.ReadAt(buf, start); err != nil {
				return err
			}
			_, err := w.Write(buf)
			return err
		}
		err := copyAt(0, bodyStart)
		for _, sp := range spans {
			if err != nil {
				break
			}
			err = copyAt(sp.start, sp.end)
		}
		return errors.Join(err, w.Flush())
	})
}
