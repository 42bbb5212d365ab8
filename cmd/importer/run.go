package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/importer"
	"github.com/lineitems/importer/internal/journal"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/resolve"
	"github.com/lineitems/importer/internal/rows"
	"github.com/lineitems/importer/internal/runlock"
	"github.com/lineitems/importer/internal/schema"
	"github.com/lineitems/importer/internal/upload"
)

// console is where a run talks to people: standard output for the
// summary, standard error for logs and, on a terminal, the progress bar.
type console struct {
	stdout   io.Writer
	stderr   *barWriter
	terminal bool // standard error is a terminal: show a progress bar
}

// run performs one import as cfg says and writes summary.json. Its error
// goes through exitCode.
func run(ctx context.Context, cfg *config, log *zap.Logger, con console) (err error) {
	if cfg.command != cmdInitMapping {
		if err := inputOutsideOut(cfg.input, cfg.outDir, cfg.summaryJSON); err != nil {
			return err
		}
		if cfg.dryRun {
			// A dry run or validate writes reports too: never over an import's.
			if holdsImport(cfg.outDir) {
				return fmt.Errorf("%s holds an import's journal and reports; a dry run or validate would write over them: give another --out (by default they write to %s)",
					cfg.outDir, defaultOutDir(cfg.input, cfg.command, true))
			}
		}
		// One run at a time per folder: two writers would each send what the
		// other is sending, and the reports would match neither.
		lock, err := runlock.Acquire(ctx, cfg.outDir, cfg.waitLock, time.Second)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	var spec *mapping.Spec
	if cfg.mappingPath != "" {
		data, err := os.ReadFile(cfg.mappingPath)
		if err != nil {
			return fmt.Errorf("mapping: %w", err)
		}
		if spec, err = mapping.Load(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("%s: %w", cfg.mappingPath, err)
		}
	}

	in, inName, total, err := openInput(cfg.input, con.terminal)
	if err != nil {
		return err
	}
	defer in.Close()

	baseURL, token := cfg.baseURL, cfg.token
	if cfg.sandbox {
		sb, err := startSandbox(log, cfg.keyProperty)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		defer sb.Close()
		baseURL, token = sb.URL, sb.Token
	}
	var client *hubspot.Client
	var sender upload.Sender
	counted := &countingTransport{}
	if !token.Empty() {
		client, err = hubspot.NewClient(newHTTPClient(cfg, counted), baseURL, token, "lineitems-importer/"+version)
		if err != nil {
			return &usageError{err.Error()}
		}
	} else if cfg.dryRun {
		log.Warn("no access token: the rows are not checked against the portal's property definitions")
	}
	if cfg.command == cmdInitMapping {
		return initMapping(ctx, client, in, con.stdout, log)
	}
	var portal *schema.Schema
	var account *hubspot.Account
	tally := &schema.Tally{}
	if client != nil {
		if account, err = readAccount(ctx, client); err != nil {
			return err
		}
		log.Info("portal", zap.Int64("portal_id", account.PortalID), zap.String("account_type", account.AccountType),
			zap.String("time_zone", account.TimeZone))
		if portal, err = checkPortal(ctx, client, spec, cfg.keyProperty, log); err != nil {
			return err
		}
	}
	// The checks' requests count in the portal's window like the creates.
	pc := importer.NewPacer(cfg.rate, cfg.dailyReserve)
	pc.Note(int(counted.n.Load()))
	var reader resolve.Reader
	if !cfg.dryRun {
		sender, reader = client, client
	}

	policy := upload.DefaultPolicy
	policy.MaxAttempts = cfg.maxAttempts
	policy.RetryInDoubt = cfg.retryInDoubt
	opts := importer.Options{
		Input:        in,
		InputName:    inName,
		Mapping:      spec,
		OutDir:       cfg.outDir,
		BatchSize:    cfg.batchSize,
		Workers:      cfg.workers,
		Rate:         cfg.rate,
		Pacer:        pc,
		DailyReserve: cfg.dailyReserve,
		Sender:       sender,
		Policy:       policy,
		DryRun:       cfg.dryRun && cfg.command != cmdValidate,
		ValidateOnly: cfg.command == cmdValidate,
		Log:          log,
		KeyProperty:  cfg.keyProperty,
		Reader:       reader,
		SettleDelay:  cfg.settleDelay,
		Schema:       portal,
		Tally:        tally,
	}
	if account != nil && !cfg.dryRun {
		opts.Journal = journal.Header{Portal: account.PortalID, Started: time.Now().UTC()}
		// One journal per portal: a run never resumes what was sent to
		// another portal (a sandbox trial, then production).
		opts.StateDir = filepath.Join(cfg.outDir, portalDir(account.PortalID))
		if cfg.sandbox {
			// The sandbox's portal lives as long as the process: nothing it
			// created exists for a later run to resume.
			if opts.StateDir, err = os.MkdirTemp("", "importer-sandbox-"); err != nil {
				return err
			}
			defer os.RemoveAll(opts.StateDir)
		}
		if _, err := os.Stat(filepath.Join(cfg.outDir, journal.FileName)); err == nil {
			return fmt.Errorf("%s was written by an earlier version of the importer, which did not record the portal: finish that import with that version, or move the folder away",
				filepath.Join(cfg.outDir, journal.FileName))
		}
	}
	log.Info("import starting", zap.String("input", inName), zap.String("out", cfg.outDir),
		zap.Bool("sandbox", cfg.sandbox), zap.Bool("dry_run", cfg.dryRun),
		zap.Float64("rate", cfg.rate), zap.Int("workers", cfg.workers), zap.String("key_property", cfg.keyProperty))

	finishBar := func() {}
	if con.terminal {
		opts.OnProgress, finishBar = con.stderr.newBar(total)
		opts.Progress = 200 * time.Millisecond
	}
	sum, err := importer.Run(ctx, opts)
	finishBar()
	err = explainDailyLimit(err, account, time.Now())
	if sum == nil {
		return err
	}
	sum.ExitCode = exitCode(err)
	if werr := report.WriteSummaryFile(filepath.Join(cfg.outDir, report.SummaryFile), *sum); werr != nil {
		return errors.Join(err, fmt.Errorf("writing the summary: %w", werr))
	}
	human := con.stdout
	switch cfg.summaryJSON {
	case "":
	case "-":
		if werr := report.WriteSummary(con.stdout, *sum); werr != nil {
			return errors.Join(err, werr)
		}
		human = con.stderr
	default:
		if werr := report.WriteSummaryFile(cfg.summaryJSON, *sum); werr != nil {
			return errors.Join(err, fmt.Errorf("writing --summary-json: %w", werr))
		}
	}
	log.Info("import finished", zap.Int("rows", sum.Rows), zap.Int("created", sum.Created),
		zap.Int("failed", sum.Failed), zap.Int("in_doubt", sum.InDoubt), zap.Int("requests", sum.Requests),
		zap.Int("retries", sum.Retries), zap.Int("throttled", sum.Throttled),
		zap.Float64("elapsed_seconds", sum.ElapsedSeconds), zap.Int("exit_code", sum.ExitCode))
	printSummary(human, sum, cfg.outDir, cfg.command)
	if tally.Len() > 0 {
		fmt.Fprintln(human, "Problems found before sending (rows in failed.csv, never sent):")
		_ = tally.Write(human, 3)
	}
	return err
}

// initMapping prints a starting mapping for the input's header, matched to
// the portal's properties when client may read them.
func initMapping(ctx context.Context, client *hubspot.Client, in io.Reader, w io.Writer, log *zap.Logger) error {
	rd, err := rows.NewReader(in)
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	var props []hubspot.Property
	if client != nil {
		props, err = client.Properties(ctx)
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
	props, err := c.Properties(ctx)
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
		ls, err := c.AssociationLabels(ctx, target.Name)
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
// cannot be read twice).
func openInput(name string, count bool) (in io.ReadCloser, display string, total int, err error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), "stdin", -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, name, -1, fmt.Errorf("input: %w", err)
	}
	total = -1
	if count {
		total, err = countRecords(f)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
	}
	if err != nil {
		f.Close()
		return nil, name, -1, fmt.Errorf("input: %w", err)
	}
	return f, name, total, nil
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

func newHTTPClient(cfg *config, counter *countingTransport) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.workers + 1
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	counter.next = tr
	return &http.Client{Transport: counter, Timeout: cfg.timeout}
}

// countingTransport counts the requests that go through it, so that the
// pacer learns of those made before the import.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

// printSummary writes the table a person reads at the end of a run.
func printSummary(w io.Writer, s *report.Summary, out, command string) {
	wouldSend, _ := s.Extra["would_send"].(int)
	switch {
	case command == cmdValidate:
		fmt.Fprintf(w, "Validation finished (nothing sent): %d of %d rows would be accepted.\n", wouldSend, s.Rows)
	case s.DryRun:
		fmt.Fprintf(w, "Dry run finished (nothing sent): %d of %d rows would be sent.\n", wouldSend, s.Rows)
	default:
		fmt.Fprintf(w, "Import finished: %d of %d rows created.\n", s.Created, s.Rows)
	}
	for _, r := range []struct {
		k string
		v any
	}{
		{"rows", s.Rows}, {"created", s.Created}, {"  of which earlier", s.Earlier}, {"failed", s.Failed}, {"in doubt", s.InDoubt}, {"not sent", s.NotSent},
		{"requests", s.Requests}, {"retries", s.Retries}, {"throttled (429)", s.Throttled},
		{"elapsed", (time.Duration(s.ElapsedSeconds*1000) * time.Millisecond).String()},
		{"rows/s", fmt.Sprintf("%.0f", s.RowsPerSecond)},
	} {
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
	if s.Stopped != "" {
		fmt.Fprintf(w, "Stopped: %s\n", s.Stopped)
	}
	fmt.Fprintln(w, "Reports:")
	files := []string{report.CreatedFile, report.FailedFile, report.InDoubtFile, report.NotSentFile, report.SummaryFile}
	if s.DryRun && command != cmdValidate {
		files = append(files, importer.BatchesFile)
	}
	for _, f := range files {
		fmt.Fprintf(w, "  %s\n", filepath.Join(out, f))
	}
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
			"copy it elsewhere first (e.g. cp %s fixed.csv) or give another --out", input, outDir, input)
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
// summary of an import (not of a dry run).
func holdsImport(outDir string) bool {
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
		DryRun *bool `json:"dry_run"`
	}
	return json.Unmarshal(data, &sum) != nil || sum.DryRun == nil || !*sum.DryRun
}

// readAccount reads which portal the token writes to.
func readAccount(ctx context.Context, c *hubspot.Client) (*hubspot.Account, error) {
	a, err := c.Account(ctx)
	var ae *hubspot.APIError
	switch {
	case errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized:
		return nil, errors.New("HubSpot rejected the access token (401): check HUBSPOT_ACCESS_TOKEN or --token-file; the token may be wrong, expired or revoked")
	case err != nil:
		return nil, fmt.Errorf("reading which portal the token belongs to (GET /account-info/v3/details): %w", err)
	}
	return a, nil
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
