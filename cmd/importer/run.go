package main

import (
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
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/upload"
)

// run performs one import as cfg says and writes summary.json. Its error
// goes through exitCode.
func run(ctx context.Context, cfg *config, log *zap.Logger, stdout io.Writer) (err error) {
	var spec *mapping.Spec
	if cfg.mappingPath != "" {
		f, err := os.Open(cfg.mappingPath)
		if err != nil {
			return fmt.Errorf("mapping: %w", err)
		}
		spec, err = mapping.Load(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.mappingPath, err)
		}
	}

	in, inName, err := openInput(cfg.input)
	if err != nil {
		return err
	}
	defer in.Close()

	baseURL, token := cfg.baseURL, cfg.token
	if cfg.sandbox && !cfg.dryRun {
		sb, err := startSandbox(log)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		defer sb.Close()
		baseURL, token = sb.URL, sb.Token
	}
	var sender upload.Sender
	if !cfg.dryRun {
		client, err := hubspot.NewClient(newHTTPClient(cfg), baseURL, token, "lineitems-importer/"+version)
		if err != nil {
			return &usageError{err.Error()}
		}
		sender = client
	}

	policy := upload.DefaultPolicy
	policy.MaxAttempts = cfg.maxAttempts
	policy.RetryInDoubt = cfg.retryInDoubt
	log.Info("import starting", zap.String("input", inName), zap.String("out", cfg.outDir),
		zap.Bool("sandbox", cfg.sandbox), zap.Bool("dry_run", cfg.dryRun),
		zap.Float64("rate", cfg.rate), zap.Int("workers", cfg.workers))

	sum, err := importer.Run(ctx, importer.Options{
		Input:     in,
		InputName: inName,
		Mapping:   spec,
		OutDir:    cfg.outDir,
		BatchSize: cfg.batchSize,
		Workers:   cfg.workers,
		Rate:      cfg.rate,
		Sender:    sender,
		Policy:    policy,
		DryRun:    cfg.dryRun,
		Log:       log,
	})
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

func openInput(name string) (io.ReadCloser, string, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), "stdin", nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, name, fmt.Errorf("input: %w", err)
	}
	return f, name, nil
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
	fmt.Fprintf(w, "reports: %s\n", out)
}
