package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/importer"
	"github.com/lineitems/importer/internal/journal"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/resolve"
	"github.com/lineitems/importer/internal/upload"
)

// run performs one import as cfg says and writes summary.json. Its error
// goes through exitCode.
func run(ctx context.Context, cfg *config, log *zap.Logger, stdout io.Writer) (err error) {
	var spec *mapping.Spec
	mappingSum := "identity"
	if cfg.mappingPath != "" {
		data, err := os.ReadFile(cfg.mappingPath)
		if err != nil {
			return fmt.Errorf("mapping: %w", err)
		}
		if spec, err = mapping.Load(bytes.NewReader(data)); err != nil {
			return fmt.Errorf("%s: %w", cfg.mappingPath, err)
		}
		mappingSum, _ = journal.Fingerprint(bytes.NewReader(data))
	}

	in, inName, inputSum, err := openInput(cfg.input)
	if err != nil {
		return err
	}
	defer in.Close()

	baseURL, token := cfg.baseURL, cfg.token
	if cfg.sandbox && !cfg.dryRun {
		sb, err := startSandbox(log, cfg.keyProperty)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		defer sb.Close()
		baseURL, token = sb.URL, sb.Token
	}
	var client *hubspot.Client
	var sender upload.Sender
	var finder upload.Finder
	if !cfg.dryRun {
		client, err = hubspot.NewClient(newHTTPClient(cfg), baseURL, token, "lineitems-importer/"+version)
		if err != nil {
			return &usageError{err.Error()}
		}
		sender = client
		if cfg.keyProperty != "" {
			if err := checkKeyProperty(ctx, client, cfg.keyProperty, log); err != nil {
				return err
			}
			finder = resolve.New(client, cfg.keyProperty)
		}
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
		DailyReserve: cfg.dailyReserve,
		Sender:       sender,
		Policy:       policy,
		DryRun:       cfg.dryRun,
		Log:          log,
		Restart:      cfg.restart,
		KeyProperty:  cfg.keyProperty,
		Finder:       finder,
		SettleDelay:  cfg.settleDelay,
	}
	if inputSum != "" {
		opts.Journal = journal.Header{Input: inputSum, Mapping: mappingSum, KeyProperty: cfg.keyProperty, Started: time.Now().UTC()}
	} else if !cfg.dryRun {
		log.Warn("reading standard input: no journal is kept, so this import cannot be resumed")
	}
	log.Info("import starting", zap.String("input", inName), zap.String("out", cfg.outDir),
		zap.Bool("sandbox", cfg.sandbox), zap.Bool("dry_run", cfg.dryRun),
		zap.Float64("rate", cfg.rate), zap.Int("workers", cfg.workers), zap.String("key_property", cfg.keyProperty))

	sum, err := importer.Run(ctx, opts)
	if sum == nil {
		return err
	}
	sum.ExitCode = exitCode(err)
	if werr := report.WriteSummaryFile(filepath.Join(cfg.outDir, report.SummaryFile), *sum); werr != nil {
		return errors.Join(err, fmt.Errorf("writing the summary: %w", werr))
	}
	log.Info("import finished", zap.Int("rows", sum.Rows), zap.Int("created", sum.Created),
		zap.Int("failed", sum.Failed), zap.Int("in_doubt", sum.InDoubt), zap.Int("requests", sum.Requests),
		zap.Int("retries", sum.Retries), zap.Int("throttled", sum.Throttled),
		zap.Float64("elapsed_seconds", sum.ElapsedSeconds), zap.Int("exit_code", sum.ExitCode))
	printSummary(stdout, sum, cfg.outDir)
	return err
}

// checkKeyProperty makes sure the key property exists and holds unique
// values: only then is a resend of a row that was not found safe. Without
// the scope to read property definitions it warns and goes on.
func checkKeyProperty(ctx context.Context, c *hubspot.Client, name string, log *zap.Logger) error {
	props, err := c.Properties(ctx)
	var ae *hubspot.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden {
		log.Warn("cannot read line-item property definitions (scope crm.schemas.line_items.read); assuming --key-property has unique values",
			zap.String("key_property", name))
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading line-item properties to check --key-property: %w", err)
	}
	for _, p := range props {
		if p.Name != name {
			continue
		}
		if !p.HasUniqueValue {
			return fmt.Errorf("--key-property %s: the property does not require unique values, so a resend could create a duplicate; use a property created with hasUniqueValue", name)
		}
		return nil
	}
	return fmt.Errorf("--key-property %s: the portal has no line-item property of that name; create a text property with unique values", name)
}

// openInput opens the input and, for a file, fingerprints it for the
// journal (standard input cannot be read twice, so it has none).
func openInput(name string) (io.ReadCloser, string, string, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), "stdin", "", nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, name, "", fmt.Errorf("input: %w", err)
	}
	sum, err := journal.Fingerprint(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, name, "", fmt.Errorf("input: %w", err)
	}
	return f, name, sum, nil
}

func newHTTPClient(cfg *config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.workers + 1
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: tr, Timeout: cfg.timeout}
}

// printSummary writes a few lines a person reads at the end of a run.
func printSummary(w io.Writer, s *report.Summary, out string) {
	fmt.Fprintf(w, "rows %d: created %d, failed %d, in doubt %d (%d requests, %d retries, %d throttled, %.1fs)\n",
		s.Rows, s.Created, s.Failed, s.InDoubt, s.Requests, s.Retries, s.Throttled, s.ElapsedSeconds)
	for i, c := range s.ErrorCodes {
		if i == 5 {
			break
		}
		fmt.Fprintf(w, "  %6d  %s\n", c.Count, c.Code)
	}
	if s.Stopped != "" {
		fmt.Fprintf(w, "stopped: %s\n", s.Stopped)
	}
	fmt.Fprintf(w, "reports: %s\n", out)
}
