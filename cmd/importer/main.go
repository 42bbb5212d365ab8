// Command importer loads a CSV file into HubSpot as line items.
//
// See the README for flags, the mapping format, the reports and exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/lineitems/importer/internal/command"
	_ "time/tzdata" // portal time zones, also in an image without zoneinfo
)

func main() { os.Exit(importerMain()) }

// The importer's live heap is small and constant (the batches in flight,
// 3 to 9 MiB with 32 workers), so the collector may let it grow further
// between cycles than Go's default: with GOGC=200 it collects half as
// often as with GOGC=100, for a peak RSS near 40 MiB. GOGC=400 saved no
// measurable CPU more and took the peak to 57-65 MiB. An explicit GOGC in
// the environment wins.
func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

// importerMain wires flags, environment, logger and signals to run, and
// returns the exit code; deferred work runs before the process exits.
func importerMain() int {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if !errors.Is(err, errHelp) {
			fmt.Fprintln(os.Stderr, "importer:", err)
		}
		return exitCode(err)
	}
	if cfg.version {
		fmt.Println("importer", version)
		return exitOK
	}
	out := command.Console{Stdout: os.Stdout, Stderr: &command.BarWriter{W: os.Stderr}, Terminal: isTerminal(os.Stderr)}
	log, err := newLogger(cfg.logFormat, cfg.logLevel, out.Stderr, out.Terminal)
	if err != nil {
		fmt.Fprintln(os.Stderr, "importer:", err)
		return exitUsage
	}
	defer func() { _ = log.Sync() }()
	if cfg.cpuProfile != "" {
		stop, err := startCPUProfile(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "importer:", err)
			return exitUsage
		}
		defer stop()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.Version, cfg.ExitCode = version, exitCode
	err = command.Run(ctx, cfg.Config, log, out)
	if err != nil && exitCode(err) != exitRowsFailed {
		fmt.Fprintln(os.Stderr, "importer:", err)
	}
	return exitCode(err)
}

// startCPUProfile profiles the process until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
