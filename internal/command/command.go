package command

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/importer"
	"github.com/lineitems/importer/internal/journal"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/resolve"
	"github.com/lineitems/importer/internal/retry"
	"github.com/lineitems/importer/internal/rows"
	"github.com/lineitems/importer/internal/runlock"
	"github.com/lineitems/importer/internal/schema"
	"github.com/lineitems/importer/internal/upload"
	"github.com/lineitems/importer/internal/watch"
)

// Console is where a run talks to people: standard output for the
// summary, standard error for logs and, on a terminal, the progress bar.
type Console struct {
	Stdout   io.Writer
	Stderr   *BarWriter
	Terminal bool // standard error is a terminal: show a progress bar
	// InFlight, if set, counts the requests waiting for HubSpot's answer,
	// for a message when a second signal comes.
	InFlight *atomic.Int64
	// Abandon, if set, is done when the requests already sent are no
	// longer waited for (a third signal): their rows go to the in-doubt
	// report, and the run ends with its reports written.
	Abandon context.Context
}

// Run performs one invocation as cfg says: an import (or a dry run,
// validate or init-mapping), with its checks before anything is sent,
// its reports and summary.json, and the summary a person reads. It
// returns the error the command's exit code is made from: nil, an
// *importer.IncompleteError, an *upload.StopError, a *runlock.HeldError,
// the context's error, or another (fatal) error.
func Run(ctx context.Context, cfg Config, log *zap.Logger, con Console) (err error) {
	importing := false // once set, the summary says how a stop ended the run
	defer func() {
		if err != nil && !importing && errors.Is(err, context.Canceled) {
			err = &EarlyStopError{Err: err}
		}
	}()
	if cfg.Command != InitMapping {
		if err := inputOutsideOut(cfg.Input, cfg.OutDir, cfg.SummaryJSON); err != nil {
			return err
		}
		if err := writable(cfg.SummaryJSON); err != nil {
			return fmt.Errorf("--summary-json: %w (checked before anything is sent)", err)
		}
		if err := keepOffImports(cfg); err != nil {
			return err
		}
		// One run at a time per folder: two writers would each send what the
		// other is sending, and the reports would match neither.
		lock, err := runlock.Acquire(ctx, cfg.OutDir, cfg.WaitLock, time.Second)
		if err != nil {
			return err
		}
		defer lock.Release()
		// Again under the lock: an import that held it while this run
		// waited (--wait-lock) may have written its reports meanwhile.
		if err := keepOffImports(cfg); err != nil {
			return err
		}
	}
	var spec *mapping.Spec
	if cfg.MappingPath != "" {
		data, err := os.ReadFile(cfg.MappingPath)
		if err != nil {
			return fmt.Errorf("mapping: %w", err)
		}
		if spec, err = mapping.Load(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("%s: %w", cfg.MappingPath, err)
		}
	}

	in, inName, total, watched, err := openInput(ctx, cfg.Input, con.Terminal, log)
	if err != nil {
		return err
	}
	defer in.Close()

	baseURL, token := cfg.BaseURL, cfg.Token
	if cfg.Sandbox {
		sb, err := startSandbox(log, cfg.KeyProperty)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		defer sb.Close()
		baseURL, token = sb.URL, sb.Token
	}
	var client *hubspot.Client
	var sender importer.Sender
	counted := &countingTransport{}
	if !token.Empty() {
		client, err = hubspot.NewClient(newHTTPClient(cfg, counted), baseURL, token, "lineitems-importer/"+cfg.Version)
		if err != nil {
			return err
		}
		if cfg.APIVersion != "" {
			client.UseAPIVersion(cfg.APIVersion)
		}
	} else if cfg.DryRun {
		log.Warn("no access token: the rows are not checked against the portal's property definitions")
	}
	if cfg.Command == InitMapping {
		return initMapping(ctx, client, in, cfg.CSV, con.Stdout, log)
	}
	var portal *schema.Schema
	var account *hubspot.Account
	tally := &schema.Tally{}
	if client != nil {
		if account, err = readAccount(ctx, client, log); err != nil {
			return err
		}
		log.Info("portal", zap.Int64("portal_id", account.PortalID), zap.String("account_type", account.AccountType),
			zap.String("time_zone", account.TimeZone))
		if portal, err = checkPortal(ctx, client, spec, cfg.KeyProperty, log); err != nil {
			return err
		}
	}
	// The checks' requests count in the portal's window like the creates,
	// and their answers tell the portal's limit before the first batch.
	pc := importer.NewPacer(cfg.Rate, cfg.DailyReserve)
	pc.Note(int(counted.n.Load()))
	if rl, ok := counted.last.Load().(hubspot.RateLimit); ok {
		pc.Observe(rl)
	}
	var reader resolve.Reader
	if !cfg.DryRun {
		sender, reader = client, client
	}

	policy := upload.DefaultPolicy
	policy.MaxAttempts = cfg.MaxAttempts
	policy.RetryInDoubt = cfg.RetryInDoubt
	opts := importer.Options{
		Input:                in,
		InputName:            inName,
		Mapping:              spec,
		OutDir:               cfg.OutDir,
		FeedBackCheck:        !cfg.Sandbox, // a sandbox's portal and journal are new every run
		BatchSize:            cfg.BatchSize,
		Workers:              cfg.Workers,
		Rate:                 cfg.Rate,
		Pacer:                pc,
		DailyReserve:         cfg.DailyReserve,
		Sender:               sender,
		Policy:               policy,
		DryRun:               cfg.DryRun && cfg.Command != Validate,
		ValidateOnly:         cfg.Command == Validate,
		Log:                  log,
		KeyProperty:          cfg.KeyProperty,
		KeyColumnRenamedFrom: cfg.KeyColumnRenamedFrom,
		Upsert:               cfg.Upsert,
		LastWins:             cfg.LastWins,
		Reader:               reader,
		Targets:              targetReader(client),
		SettleDelay:          cfg.LookupDelay,
		Schema:               portal,
		Tally:                tally,
		InFlight:             con.InFlight,
		Abandon:              con.Abandon,
		CSV:                  cfg.CSV,
		RetryRejected:        cfg.RetryRejected,
	}
	if account != nil && !cfg.DryRun {
		opts.Journal = journal.Header{Portal: account.PortalID, Started: time.Now().UTC()}
		// One journal per portal: a run never resumes what was sent to
		// another portal (a sandbox trial, then production).
		opts.StateDir = filepath.Join(cfg.OutDir, portalDir(account.PortalID))
		if cfg.Sandbox {
			// The sandbox's portal lives as long as the process: nothing it
			// created exists for a later run to resume.
			if opts.StateDir, err = os.MkdirTemp("", "importer-sandbox-"); err != nil {
				return err
			}
			defer os.RemoveAll(opts.StateDir)
		}
		if _, err := os.Stat(filepath.Join(cfg.OutDir, journal.FileName)); err == nil {
			return fmt.Errorf("%s was written by an earlier version of the importer, which did not record the portal: finish that import with that version, or move the folder away",
				filepath.Join(cfg.OutDir, journal.FileName))
		}
	}
	opts.Summaries = []string{filepath.Join(cfg.OutDir, report.SummaryFile)}
	if cfg.SummaryJSON != "" && cfg.SummaryJSON != "-" {
		opts.Summaries = append(opts.Summaries, cfg.SummaryJSON)
	}
	log.Info("import starting", zap.String("input", inName), zap.String("out", cfg.OutDir),
		zap.Bool("sandbox", cfg.Sandbox), zap.Bool("dry_run", cfg.DryRun),
		zap.Float64("rate", cfg.Rate), zap.Int("workers", cfg.Workers), zap.String("key_property", cfg.KeyProperty),
		zap.Bool("upsert", cfg.Upsert), zap.String("api_version", string(cfg.APIVersion)))

	finishBar := func() {}
	if con.Terminal {
		opts.OnProgress, finishBar = con.Stderr.newBar(total)
		opts.Progress = 200 * time.Millisecond
	}
	importing = true
	sum, err := importer.Run(ctx, opts)
	finishBar()
	err = explainDailyLimit(err, account, time.Now())
	if sum == nil {
		return err
	}
	var ue *watch.UnfinishedError
	if watched != nil && errors.As(watched.Unfinished(), &ue) {
		// Every row read has its outcome, and the rest of the file is the
		// next run's: a run that would exit 0 tells its scheduler to run
		// again (75); one whose rows failed keeps its exit code.
		log.Warn("the input grew past where the run stopped reading it; the rest is left to the next run",
			zap.String("input", inName), zap.Int64("bytes_unread", ue.Unread), zap.Bool("after_the_read", ue.Later))
		sum.Extra["input_unfinished_bytes"] = ue.Unread
		sum.Extra["input_unfinished"] = ue.What()
		if err == nil {
			err = ue
		}
	}
	if cfg.ExitCode != nil {
		sum.ExitCode = cfg.ExitCode(err)
	}
	sum.Sandbox = cfg.Sandbox
	if client != nil {
		// requests counts the batch writes; the portal's limits count
		// every request: the account, the definitions, the lookups.
		sum.Extra["all_requests"] = int(counted.n.Load())
	}
	human := con.Stdout
	if cfg.SummaryJSON == "-" {
		human = con.Stderr
	}
	// The summaries are what a wrapper reads: one that cannot be written
	// makes the run fatal, and the other says so (its exit code is the
	// process's), while the reports and the human summary stand.
	inOut := filepath.Join(cfg.OutDir, report.SummaryFile)
	var werr error
	fatal := func(e error) {
		werr = errors.Join(werr, &SummaryError{e})
		if cfg.ExitCode != nil {
			sum.ExitCode = cfg.ExitCode(errors.Join(err, werr))
		}
	}
	wroteOut := true
	if e := report.WriteSummaryFile(inOut, *sum); e != nil {
		wroteOut = false
		fatal(fmt.Errorf("writing the summary %s: %w", inOut, e))
	}
	if cfg.SummaryJSON != "" {
		var e error
		if cfg.SummaryJSON == "-" {
			e = report.WriteSummary(con.Stdout, *sum)
		} else {
			e = report.WriteSummaryFile(cfg.SummaryJSON, *sum)
		}
		if e != nil {
			fatal(fmt.Errorf("writing --summary-json: %w", e))
			if wroteOut {
				_ = report.WriteSummaryFile(inOut, *sum) // with the exit code the failure gives; the error below says what failed
			}
		}
	}
	if werr != nil {
		log.Error("the summary could not be written", zap.Error(werr))
		err = errors.Join(err, werr)
	}
	log.Info("import finished", zap.Int("rows", sum.Rows), zap.Int("created", sum.Created),
		zap.Int("failed", sum.Failed), zap.Int("in_doubt", sum.InDoubt), zap.Int("requests", sum.Requests),
		zap.Int("retries", sum.Retries), zap.Int("throttled", sum.Throttled),
		zap.Float64("elapsed_seconds", sum.ElapsedSeconds), zap.Int("exit_code", sum.ExitCode))
	printSummary(human, sum, cfg.OutDir, cfg.Command, wroteOut)
	if tally.Len() > 0 {
		fmt.Fprintln(human, "Problems found before sending (rows in failed.csv, never sent):")
		_ = tally.Write(human, 3)
	}
	return err
}

// SummaryError is a summary (summary.json in --out, or --summary-json)
// that could not be written. It is fatal: a wrapper that reads the summary
// would read last night's, or none.
type SummaryError struct{ Err error }

func (e *SummaryError) Error() string { return e.Err.Error() }
func (e *SummaryError) Unwrap() error { return e.Err }

// initMapping prints a starting mapping for the input's header, matched to
// the portal's properties when client may read them.
func initMapping(ctx context.Context, client *hubspot.Client, in io.Reader, opts rows.Options, w io.Writer, log *zap.Logger) error {
	rd, err := rows.NewReaderOptions(in, opts)
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	var props []hubspot.Property
	if client != nil {
		err = readAgain(ctx, log, "the line-item properties", func() (err error) {
			props, err = client.Properties(ctx)
			return err
		})
		if err != nil {
			log.Warn("cannot read the portal's line-item properties; every column maps to the property of the same name", zap.Error(err))
			props = nil
		}
	}
	data, err := mapping.Suggest(rd.Header(), props).YAML()
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// checkPortal reads the portal's line-item property definitions and checks
// the mapping against them before anything is sent: every mapped property
// must exist and be writable, the key property must hold unique values,
// and custom association types must exist. It returns the Schema that
// checks each row's values, or nil when the token may not read property
// definitions (the run goes on without those checks, as it says).
func checkPortal(ctx context.Context, c *hubspot.Client, spec *mapping.Spec, keyProp string, log *zap.Logger) (*schema.Schema, error) {
	var props []hubspot.Property
	err := readAgain(ctx, log, "the line-item properties", func() (err error) {
		props, err = c.Properties(ctx)
		return err
	})
	var ae *hubspot.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden {
		log.Warn("the token may not read line-item property definitions (scope crm.schemas.line_items.read): values are not checked before sending, HubSpot will check them")
		return nil, nil
	}
	if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
		return nil, errors.New("HubSpot rejected the access token (401): check HUBSPOT_ACCESS_TOKEN or --token-file; the token may be wrong, expired or revoked")
	}
	if err != nil {
		return nil, fmt.Errorf("reading the portal's line-item properties: %w", err)
	}
	s := schema.New(props)
	var problems []string
	if spec != nil {
		for _, name := range slices.Sorted(maps.Keys(spec.Properties)) {
			if pr, ok := s.CheckValue(name, ""); !ok {
				problems = append(problems, fmt.Sprintf("property %s (column %q): %v", name, spec.Properties[name].Column, pr))
			}
		}
	}
	if keyProp != "" {
		unique, found, typ := false, false, ""
		for _, p := range props {
			if p.Name == keyProp {
				found, unique, typ = true, p.HasUniqueValue, p.Type
			}
		}
		switch {
		case !found:
			problems = append(problems, fmt.Sprintf("--key-property %s: the portal has no line-item property of that name; create a text property with unique values", keyProp))
		case typ != "string":
			problems = append(problems, fmt.Sprintf("--key-property %s: the property's type is %s; a key must be a text (string) property, which HubSpot stores as sent (it would rewrite a number such as 007 as 7, and a lookup by the row's key would miss it)", keyProp, typ))
		case !unique:
			problems = append(problems, fmt.Sprintf("--key-property %s: the property does not require unique values, so a resend could create a duplicate; use a property created with hasUniqueValue", keyProp))
		}
	}
	if spec != nil {
		if err := checkAssociationTypes(ctx, c, spec, log); err != nil {
			var ue *UnavailableError
			if errors.As(err, &ue) || ctx.Err() != nil {
				return nil, err // not the mapping's fault
			}
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the mapping does not fit the portal:\n  %s", strings.Join(problems, "\n  "))
	}
	return s, nil
}

// checkAssociationTypes looks up the portal's association labels when the
// mapping uses a type id HubSpot does not define for line items.
func checkAssociationTypes(ctx context.Context, c *hubspot.Client, spec *mapping.Spec, log *zap.Logger) error {
	var types []hubspot.AssociationType
	custom := false
	for _, a := range spec.Associations {
		if a.To != "" {
			continue // a HubSpot-defined target: its type id is known
		}
		t := hubspot.AssociationType{Category: a.Category, TypeID: a.TypeID}
		if t.Category == "" {
			t.Category = hubspot.CategoryHubSpotDefined
		}
		if _, known := schema.TargetOf(t); !known {
			custom = true
		}
		types = append(types, t)
	}
	if !custom {
		return nil
	}
	labels := map[string][]schema.Label{}
	for _, target := range schema.Targets() {
		var ls []hubspot.AssociationLabel
		err := readAgain(ctx, log, "the association labels", func() (err error) {
			ls, err = c.AssociationLabels(ctx, target.Name)
			return err
		})
		var ae *hubspot.APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusForbidden || ae.StatusCode == http.StatusNotFound) {
			log.Warn("cannot read association labels; custom association types are not checked before sending",
				zap.String("to", target.Name), zap.Int("status", ae.StatusCode))
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading association labels to %s: %w", target.Name, err)
		}
		for _, l := range ls {
			labels[target.Name] = append(labels[target.Name], schema.Label{Category: l.Category, TypeID: l.TypeID, Label: l.Label})
		}
	}
	if errs := schema.CheckAssociationTypes(types, labels); len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// openInput opens the input. With count, it first counts the data records
// of a file for the progress bar; total is -1 when unknown (standard input
// cannot be read twice). A regular file (standard input too, when it is
// one) is read through a watch.File, which reads on while a writer appends
// to it and waits for a last line without a line end that was written
// moments ago; one written over while it is read ends its read with a
// *watch.ChangedError.
//
// watched is the watch.File the input is read through, or nil.
func openInput(ctx context.Context, name string, count bool, log *zap.Logger) (in io.ReadCloser, display string, total int, watched *watch.File, err error) {
	watchFile := func(f *os.File, display string, fi os.FileInfo) *watch.File {
		w := watch.New(ctx, f, display, fi, watch.Clock{})
		w.OnWait = func(age time.Duration, lineEnded bool) {
			msg, settle := "the input ends in a line without a line end, written moments ago: waiting for it to be finished", watch.SettleTime
			if lineEnded {
				msg, settle = "the input was written moments ago, and may still be being written: waiting until it is left unchanged", watch.QuietTime
			}
			log.Info(msg, zap.String("input", display), zap.Duration("written_ago", age), zap.Duration("settle", settle))
		}
		return w
	}
	if name == "-" {
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
			w := watchFile(os.Stdin, "stdin", fi)
			return io.NopCloser(w), "stdin", -1, w, nil
		}
		return io.NopCloser(os.Stdin), "stdin", -1, nil, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, name, -1, nil, fmt.Errorf("input: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, name, -1, nil, fmt.Errorf("input: %w", err)
	}
	total = -1
	if count && fi.Mode().IsRegular() {
		total, err = countRecords(f)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
	}
	if err != nil {
		f.Close()
		return nil, name, -1, nil, fmt.Errorf("input: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return f, name, total, nil, nil // a pipe: read as it comes
	}
	w := watchFile(f, name, fi)
	return w, name, total, w, nil
}

// countRecords counts r's CSV data records. A malformed record counts as
// one, as the import will count it.
func countRecords(r io.Reader) (int, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	records := 0
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return 0, err
		}
		records++
	}
	return max(records-1, 0), nil
}

// idleConnTimeout is how long a keep-alive connection may sit idle before
// the importer closes it instead of sending on it. Servers and proxies
// close idle connections on timers of their own (HubSpot does not document
// its own; Node's default is 5 s, and a Go server's ReadHeaderTimeout runs
// from the accept of a connection no request has used yet). A batch create
// sent on a connection the server closes at that moment gets no answer,
// and its rows are in doubt. Closing first narrows that race to servers
// whose timer is shorter than this plus a round trip, for the price of a
// new connection after each pause. net/http checks a connection's idle
// time when it takes it from the pool: none idle longer than this is
// reused.
const idleConnTimeout = 4 * time.Second

// newHTTPClient returns the client for HubSpot: HTTP/1.1 only, idle
// connections closed after idleConnTimeout, TLS sessions resumed.
//
// HTTP/1.1 because it is what the emulator and the tests speak, so the
// connection handling that runs is the one tested, and because HTTP/2's
// idle timeout does not apply to a connection that never completed a
// request and its pool, after a pause, dials one connection per waiting
// request and keeps one. The rate is 19 requests a second at most; one
// connection per request in flight costs nothing that matters.
func newHTTPClient(cfg Config, counter *countingTransport) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Workers + 1
	tr.IdleConnTimeout = idleConnTimeout
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	tr.Protocols = &protocols
	tr.TLSClientConfig = &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(0)}
	counter.next = tr
	return &http.Client{Transport: counter, Timeout: cfg.Timeout}
}

// countingTransport counts the requests that go through it, and keeps the
// rate-limit headers of the last answer that had them, so that the pacer
// learns of the requests made before the import and of the portal's limit.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
	last atomic.Value // hubspot.RateLimit
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		if rl := hubspot.ParseRateLimit(resp.Header); rl.Known {
			t.last.Store(rl)
		}
	}
	return resp, err
}

// stoppedBy names the signal a run was stopped by, as " by SIGINT", from
// the reason in its summary; "" for another reason (which the summary
// gives on a line of its own).
func stoppedBy(reason string) string {
	switch {
	case strings.HasPrefix(reason, os.Interrupt.String()):
		return " by SIGINT"
	case strings.HasPrefix(reason, syscall.SIGTERM.String()):
		return " by SIGTERM"
	}
	return ""
}

// printSummary writes the table a person reads at the end of a run;
// wroteSummary says whether summary.json was written, to list it.
func printSummary(w io.Writer, s *report.Summary, out, command string, wroteSummary bool) {
	wouldSend, _ := s.Extra["would_send"].(int)
	upserts := actionsOf(s)
	keyProperty, _ := s.Extra["key_property"].(string)
	keyed := keyProperty != ""
	resends, _ := s.Extra["retry_in_doubt"].(bool)
	switch {
	case command == Validate:
		fmt.Fprintf(w, "Validation finished (nothing sent): %d of %d rows would be accepted.\n", wouldSend, s.Rows)
	case s.DryRun:
		fmt.Fprintf(w, "Dry run finished (nothing sent): %d of %d rows would be sent.\n", wouldSend, s.Rows)
	case s.Stopped != "" && s.InDoubt > 0 && !keyed:
		// The rerun sends the rest; it cannot settle the rows in doubt,
		// which the line below says.
		fmt.Fprintf(w, "Stopped%s: %d of the %d rows read so far were created; run the same command again to send the rest.\n", stoppedBy(s.Stopped), s.Created, s.Rows)
	case s.Stopped != "":
		fmt.Fprintf(w, "Stopped%s: %d of the %d rows read so far were created; run the same command again to resume.\n", stoppedBy(s.Stopped), s.Created, s.Rows)
	case upserts != "" && s.Rows > 0 && s.Earlier+s.Superseded == s.Rows && s.Batches == 0:
		fmt.Fprintf(w, "Already complete: all %d rows were upserted earlier with these values (%s); no line item was sent.\n", s.Rows, upserts)
	case upserts != "":
		fmt.Fprintf(w, "Import finished: %d of %d rows upserted (%s).\n", s.Created, s.Rows, upserts)
	case s.Rows > 0 && s.Earlier+s.Superseded == s.Rows && s.Superseded == 0 && s.Batches == 0 && s.Requests == 0:
		fmt.Fprintf(w, "Already complete: all %d rows were created earlier; no line item was sent.\n", s.Rows)
	case s.Rows > 0 && s.Earlier+s.Superseded == s.Rows && s.Batches == 0 && s.Requests == 0:
		fmt.Fprintf(w, "Already complete: all %d rows were created earlier (%d superseded by later rows with their keys); no line item was sent.\n", s.Rows-s.Superseded, s.Superseded)
	case s.Rows > 0 && s.Earlier+s.Superseded == s.Rows:
		// Sent (a new folder knows none of them), refused for keys line
		// items held, and found by them: created by no request of this run.
		fmt.Fprintf(w, "Already complete: all %d rows were created earlier; the %d requests that sent them were refused, as line items already held their keys, and created nothing.\n", s.Rows-s.Superseded, s.Requests)
	case s.Superseded > 0:
		fmt.Fprintf(w, "Import finished: %d of %d rows created (%d superseded by later rows with their keys).\n", s.Created, s.Rows, s.Superseded)
	case s.Earlier > 0:
		fmt.Fprintf(w, "Import finished: %d of %d rows created, %d of them earlier (not by this run).\n", s.Created, s.Rows, s.Earlier)
	default:
		fmt.Fprintf(w, "Import finished: %d of %d rows created.\n", s.Created, s.Rows)
	}
	if c, ok := s.Extra["plan_create"].(int); ok {
		u, _ := s.Extra["plan_update"].(int)
		fmt.Fprintf(w, "Plan: %s to create, %s to update, %s failing.\n", thousands(c), thousands(u), thousands(s.Failed))
	}
	type line struct {
		k string
		v any
	}
	lines := []line{{"rows", s.Rows}, {"created", s.Created}, {"  of which earlier", s.Earlier}, {"failed", s.Failed}, {"in doubt", s.InDoubt}, {"not sent", s.NotSent}}
	if s.Superseded > 0 {
		lines = append(lines, line{"superseded", s.Superseded})
	}
	lines = append(lines, line{"requests", s.Requests})
	if all, ok := s.Extra["all_requests"].(int); ok && all != s.Requests {
		lines = append(lines, line{"  with reads", all})
	}
	lines = append(lines, line{"retries", s.Retries}, line{"throttled (429)", s.Throttled},
		line{"elapsed", (time.Duration(s.ElapsedSeconds*1000) * time.Millisecond).String()},
		line{"rows/s", fmt.Sprintf("%.0f", s.RowsPerSecond)})
	for _, r := range lines {
		fmt.Fprintf(w, "  %-16s %10v\n", r.k, r.v)
	}
	if len(s.ErrorCodes) > 0 {
		fmt.Fprintln(w, "Top errors:")
		for i, c := range s.ErrorCodes {
			if i == 5 {
				break
			}
			fmt.Fprintf(w, "  %6d  %s\n", c.Count, c.Code)
		}
	}
	for _, c := range s.ErrorCodes {
		if c.Code == upload.CodeAssociationFailed && c.Count > 0 {
			fmt.Fprintf(w, "%d of the failed rows exist in HubSpot, upserted without an association (%s in failed.csv, with each line item's id): run the same command again to make their associations.\n", c.Count, c.Code)
		}
	}
	// What the same command does with the rows in doubt when run again.
	if s.InDoubt > 0 && !s.DryRun {
		var next string
		switch {
		case s.Extra["mode"] == "upsert":
			next = "the same command run again upserts them by " + keyProperty + ", which gives each key one line item."
		case keyed:
			next = "the same command run again looks them up by " + keyProperty + " (a row refused before it was sent, whose message says why, once it is fixed)."
		case resends:
			next = "without --key-property they cannot be looked up, and the same command (with --retry-in-doubt) sends them again: a duplicate of each one that exists. Check them in HubSpot first."
		default:
			next = "without --key-property no later run can look them up, and each reports them in doubt again. Check them in HubSpot, then decide: --retry-in-doubt sends them again, at the risk of a duplicate of each one that exists."
		}
		fmt.Fprintf(w, "%s in doubt (%s) may exist in HubSpot: %s\n", rowsCount(s.InDoubt), report.InDoubtFile, next)
	}
	if what, ok := s.Extra["input_unfinished"].(string); ok {
		fmt.Fprintf(w, "The input %s: the rows past where the run stopped reading are left to the next run of the same command.\n", what)
	}
	if s.Stopped != "" && stoppedBy(s.Stopped) == "" {
		fmt.Fprintf(w, "Stopped: %s\n", s.Stopped)
	}
	earlier, _ := s.Extra["earlier_in_doubt"].(int)
	if earlier > 0 {
		fmt.Fprintf(w, "Earlier runs left %s in doubt that this input does not hold: they may exist in HubSpot (%s lists them).\n",
			rowsCount(earlier), importer.EarlierInDoubtFile)
	}
	if found, _ := s.Extra["earlier_in_doubt_found"].(int); found > 0 {
		fmt.Fprintf(w, "%s earlier runs left in doubt, not in this input, found by key: created (the journal records their ids).\n", rowsCount(found))
	}
	unlinked, _ := s.Extra["earlier_unlinked"].(int)
	if unlinked > 0 {
		fmt.Fprintf(w, "Earlier runs upserted %s without their associations that this input does not hold: their line items exist, unlinked (%s lists them; a file that holds them makes their associations).\n",
			rowsCount(unlinked), importer.EarlierInDoubtFile)
	}
	fmt.Fprintln(w, "Reports:")
	files := report.Reports()
	if s.DryRun {
		files = []string{report.FailedFile} // the only report a dry run or validate fills
	}
	if wroteSummary {
		files = append(files, report.SummaryFile)
	}
	if s.Superseded > 0 && !s.DryRun {
		files = append(files, report.SupersededFile)
	}
	if earlier+unlinked > 0 {
		files = append(files, importer.EarlierInDoubtFile)
	}
	if s.DryRun && command != Validate {
		files = append(files, importer.BatchesFile)
	}
	for _, f := range files {
		fmt.Fprintf(w, "  %s\n", filepath.Join(out, f))
	}
}

// rowsCount is "1 row" or "n rows".
func rowsCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.Itoa(n) + " rows"
}

// actionsOf says what an upsert import's rows were, "3 created, 2
// updated, 1 unchanged" (the actions of none left out), or "" for another
// import.
func actionsOf(s *report.Summary) string {
	acts, ok := s.Extra["actions"].(map[string]int)
	if !ok {
		return ""
	}
	var parts []string
	for _, a := range []string{report.ActionCreated, report.ActionUpdated, report.ActionUpserted, report.ActionUnchanged} {
		if acts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", acts[a], a))
		}
	}
	if len(parts) == 0 {
		return "none written"
	}
	return strings.Join(parts, ", ")
}

// inputOutsideOut refuses an input that lies inside the folder the run
// writes its reports to (a fixed failed.csv fed back from there would be
// truncated by the run that reads it), or that is the --summary-json file.
// Paths are compared after resolving symbolic links.
func inputOutsideOut(input, outDir, summaryJSON string) error {
	if input == "-" {
		return nil
	}
	in, err := resolvePath(input)
	if err != nil {
		return nil // an input that cannot be resolved fails when it is opened
	}
	out, err := resolvePath(outDir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(out, in); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("the input %s lies inside %s, the folder this run writes its reports to, and would be overwritten while it is read: "+
			"copy it elsewhere first (e.g. cp %s fixed.csv) and feed that back with the same --out", input, outDir, input)
	}
	if summaryJSON != "" && summaryJSON != "-" {
		if sj, err := resolvePath(summaryJSON); err == nil && sj == in {
			return fmt.Errorf("--summary-json %s is the input file", summaryJSON)
		}
	}
	return nil
}

// resolvePath returns the absolute path of p with symbolic links resolved,
// for as much of it as exists.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest), nil
		}
		if parent := filepath.Dir(dir); parent == dir {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// portalDir names the folder inside --out that holds a portal's journal.
func portalDir(id int64) string { return fmt.Sprintf("portal-%d", id) }

// holdsImport reports whether outDir holds an import's journal or the
// summary of an import (not of a dry run); with sandbox, a sandbox run's
// import counts too.
func holdsImport(outDir string, sandbox bool) bool {
	if _, err := os.Stat(filepath.Join(outDir, journal.FileName)); err == nil {
		return true
	}
	if found, _ := filepath.Glob(filepath.Join(outDir, "portal-*", journal.FileName)); len(found) > 0 {
		return true
	}
	data, err := os.ReadFile(filepath.Join(outDir, report.SummaryFile))
	if err != nil {
		return false
	}
	var sum struct {
		DryRun  *bool `json:"dry_run"`
		Sandbox bool  `json:"sandbox"`
	}
	if json.Unmarshal(data, &sum) != nil || sum.DryRun == nil {
		return true // not ours to write over
	}
	return !*sum.DryRun && (sandbox || !sum.Sandbox)
}

// readAccount reads which portal the token writes to.
func readAccount(ctx context.Context, c *hubspot.Client, log *zap.Logger) (*hubspot.Account, error) {
	var a *hubspot.Account
	err := readAgain(ctx, log, "the account", func() (err error) {
		a, err = c.Account(ctx)
		return err
	})
	var ae *hubspot.APIError
	switch {
	case errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized:
		return nil, errors.New("HubSpot rejected the access token (401): check HUBSPOT_ACCESS_TOKEN or --token-file; the token may be wrong, expired or revoked")
	case err != nil:
		return nil, fmt.Errorf("reading which portal the token belongs to (GET /account-info/v3/details): %w", err)
	}
	return a, nil
}

// startupAttempts is how many times a read made before the import is made
// before the run gives up on it, and startupPatience how long after its
// first failure it keeps trying at most (each attempt may also take up to
// --timeout).
const (
	startupAttempts = 8
	startupPatience = 2 * time.Minute
)

// UnavailableError is returned when a read made before the import still
// failed in a way that passes (see passes) after startupAttempts attempts
// or startupPatience: HubSpot's window stayed full, or it kept answering
// 5xx, or its answers were lost. Nothing was sent; the same command may
// simply be run again later.
type UnavailableError struct {
	What string // what was read, e.g. "the account"
	Err  error  // the last attempt's error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("HubSpot kept refusing or losing the read of %s (nothing was sent; try again later): %v", e.What, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// keepOffImports refuses a dry run, validate or sandbox run into a folder
// that holds an import's journal and reports, which it would write over.
func keepOffImports(cfg Config) error {
	if cfg.DryRun {
		// A dry run or validate writes reports too: never over an import's.
		if holdsImport(cfg.OutDir, true) {
			return fmt.Errorf("%s holds an import's journal and reports; a dry run or validate would write over them: give another --out (by default they write to %s)",
				cfg.OutDir, DefaultOutDir(cfg.Input, cfg.Command, true))
		}
	} else if cfg.Sandbox && holdsImport(cfg.OutDir, false) {
		// Nor a sandbox run over a real import's reports.
		return fmt.Errorf("%s holds the reports of an import into a real portal; a sandbox run would write its emulator's ids over them: give another --out", cfg.OutDir)
	}
	return nil
}

// EarlyStopError is a run stopped by a signal before its import began
// (waiting for the folder's lock, or reading the account and the portal's
// definitions): no line item was sent and no report written, so no
// summary says that the run stopped; this error does. It unwraps to the
// stop's cause (context.Canceled).
type EarlyStopError struct{ Err error }

func (e *EarlyStopError) Error() string {
	return "stopped before the import began: no line item was sent and no report written; run the same command again"
}

func (e *EarlyStopError) Unwrap() error { return e.Err }

// readAgain runs read, one of the reads made before the import (the
// account, property definitions, association labels), again while it
// fails in a way that passes (see passes). These reads go outside the
// pacer, and a window filled by a run that just ended, or by another app,
// answers them 429. It waits as the batch reads do (backoff from 1 s to
// 30 s, at least HubSpot's Retry-After), at most startupAttempts times and
// for startupPatience after the first failure. It returns nil, read's
// error when it does not pass, an *UnavailableError when it kept passing,
// or ctx's cause once ctx is done.
func readAgain(ctx context.Context, log *zap.Logger, what string, read func() error) error {
	var failed time.Time
	for attempt := 1; ; attempt++ {
		err := read()
		if err == nil || !passes(err) {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx) // a stop, not an outage
		}
		if attempt == startupAttempts {
			return &UnavailableError{What: what, Err: err}
		}
		if failed.IsZero() {
			failed = time.Now()
		}
		var after time.Duration
		var ae *hubspot.APIError
		if errors.As(err, &ae) {
			after = ae.RetryAfter
		}
		wait := retry.Wait(attempt, time.Second, 30*time.Second, after, rand.Float64())
		if time.Since(failed)+wait > startupPatience {
			return &UnavailableError{What: what, Err: err}
		}
		log.Warn("reading "+what+" again", zap.Error(err), zap.Int("attempt", attempt), zap.Duration("in", wait))
		if !retry.Sleep(ctx, wait) {
			return context.Cause(ctx)
		}
	}
}

// passes reports whether a read that failed with err may succeed if made
// again soon (a read changes nothing): a 429 of the rolling window, a 423,
// a 5xx, or a lost answer. A rejected token or scope, a bad request, the
// daily limit, a host name that does not exist and a certificate that does
// not verify do not pass.
func passes(err error) bool {
	var ae *hubspot.APIError
	if errors.As(err, &ae) {
		return !ae.Lasting()
	}
	var te *hubspot.TransportError
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	switch {
	case !errors.As(err, &te), errors.As(err, &cert):
		return false
	case errors.As(err, &dns):
		return !dns.IsNotFound
	}
	return true
}

// explainDailyLimit adds to a stop for the portal's daily limit when the
// limit resets: at midnight in the portal's time zone.
func explainDailyLimit(err error, account *hubspot.Account, now time.Time) error {
	var se *upload.StopError
	if !errors.As(err, &se) || (se.Code != "DAILY_LIMIT" && se.Code != "DAILY_RESERVE") || account == nil {
		return err
	}
	loc, lerr := time.LoadLocation(account.TimeZone)
	if lerr != nil {
		return err
	}
	return fmt.Errorf("%w. HubSpot resets the daily limit at midnight %s, in %s", err, account.TimeZone, untilMidnight(now, loc))
}

// untilMidnight is how long from now until the next midnight in loc,
// rounded down to the minute, as "3 h 12 min".
func untilMidnight(now time.Time, loc *time.Location) string {
	t := now.In(loc)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
	d := next.Sub(t).Truncate(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	if h == 0 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// Commands besides the import itself.
const (
	Import      = ""
	Validate    = "validate"
	InitMapping = "init-mapping"
)

// Config is what one invocation does, from the command line and the
// environment.
type Config struct {
	Command      string // Import, Validate or InitMapping
	Input        string // "-" for standard input
	MappingPath  string
	BaseURL      string
	OutDir       string
	Rate         float64
	Workers      int
	BatchSize    int
	Sandbox      bool
	DryRun       bool
	Timeout      time.Duration
	MaxAttempts  int
	RetryInDoubt bool
	// RetryRejected sends again rows whose content HubSpot rejected in an
	// earlier run.
	RetryRejected bool
	KeyProperty   string
	// KeyColumnRenamedFrom names the column earlier runs into OutDir took
	// keys from, of which the mapping's key column is a new name
	// (--key-column-renamed-from).
	KeyColumnRenamedFrom string
	// Upsert creates or updates line items by KeyProperty instead of
	// creating them (--mode upsert).
	Upsert bool
	// LastWins sends only the last of the rows that share a key
	// (--duplicate-keys last-wins).
	LastWins bool
	// APIVersion is the generation of HubSpot's API to call (--api-version).
	APIVersion   hubspot.APIVersion
	DailyReserve int
	LookupDelay  time.Duration
	WaitLock     time.Duration
	SummaryJSON  string
	Token        hubspot.Token
	CSV          rows.Options // --delimiter and --encoding; zero values are detected
	Version      string       // the importer's version, for the User-Agent
	// ExitCode maps Run's error to the exit code written into
	// summary.json; main's mapping, the one place that makes them.
	ExitCode func(error) int
}

// DefaultOutDir names the report folder, in the working directory, after
// the input: data/line_items.csv → line_items.import (line_items.validate
// for validate, line_items.dry-run for a dry run, so that neither writes
// over a real import's reports), standard input → stdin.import.
func DefaultOutDir(input, command string, dryRun bool) string {
	ext := ".import"
	switch {
	case command == Validate:
		ext = ".validate"
	case dryRun:
		ext = ".dry-run"
	}
	if input == "-" {
		return "stdin" + ext
	}
	base := filepath.Base(input)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	return base + ext
}

// writable checks that a file can be written at path ("" and "-" need no
// check), leaving no file behind that was not there.
func writable(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	if errors.Is(statErr, os.ErrNotExist) {
		return os.Remove(path)
	}
	return nil
}

// targetReader is the reader of association targets named by an external
// id: the client, when there is one (a dry run without a token has none).
func targetReader(c *hubspot.Client) resolve.Reader {
	if c == nil {
		return nil
	}
	return c
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
