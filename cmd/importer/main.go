// Command importer loads a CSV file into HubSpot as line items.
//
// See README.md and docs/ for flags, the mapping format, the reports and exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

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
//
// At HubSpot's ceiling with answers that take a second, a window's worth
// of batches (up to 190) is in flight at once at the start of each window,
// and the heap goal that GOGC sets after such a burst took the peak RSS to
// 92 MiB. A soft memory limit of 40 MiB makes the collector work harder
// only then: measured on 40,000 rows at 190 per 10 s with 0.5-1.5 s
// answers, a peak of 49 MiB for 0.09 CPU-s more. The limit is soft: a run
// whose live heap needs more (very wide rows) gets it, with more collection.
// An explicit GOMEMLIMIT in the environment wins.
func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(40 << 20)
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
	out.InFlight = new(atomic.Int64)
	abandon, abandonNow := context.WithCancel(context.Background())
	defer abandonNow()
	out.Abandon = abandon
	go escalate(ctx, out, abandonNow, cfg.Timeout)
	cfg.Version, cfg.ExitCode = version, exitCode
	err = command.Run(ctx, cfg.Config, log, out)
	var early *command.EarlyStopError
	if err != nil && exitCode(err) != exitRowsFailed && (!errors.Is(err, context.Canceled) || errors.As(err, &early)) {
		// A stop by a signal once the import began has said so in the
		// summary; one before it says so here.
		fmt.Fprintln(os.Stderr, "importer:", err)
	}
	return exitCode(err)
}

// escalate handles the signals: the first stops the run (through ctx) and
// says what it waits for, the second says it again; the third stops
// waiting for the answers to the requests already sent (abandon), whose
// rows the run then reports in doubt as it ends, its reports written (the
// journal has them as sent, so the next run looks them up or reports them
// in doubt); a fourth ends the process at once, its reports unfinished.
func escalate(ctx context.Context, out command.Console, abandon context.CancelFunc, timeout time.Duration) {
	// Signals are counted on a channel of their own, from the first: one
	// registered only once ctx is done could miss a quick second.
	more := make(chan os.Signal, 4)
	signal.Notify(more, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(more)
	for n := 1; ; n++ {
		<-more // the first also cancels ctx, through signal.NotifyContext
		switch {
		case n == 1:
			<-ctx.Done()
			if out.InFlight.Load() == 0 {
				continue // the run ends at once, and says so
			}
			fmt.Fprintf(out.Stderr, "importer: stopping: sending nothing more, and waiting for the answers to %d requests already sent (at most %s); a third interrupt (Ctrl-C or SIGTERM) stops waiting, leaving their rows in doubt\n",
				out.InFlight.Load(), timeout)
			continue
		case n == 3:
			waiting := out.InFlight.Load()
			abandon()
			fmt.Fprintf(out.Stderr, "importer: stopping now: the answers to %d requests are no longer waited for, and their rows go to in_doubt.csv; the reports are being written (a fourth interrupt ends the process before they are finished)\n", waiting)
			continue
		case n >= 4:
			fmt.Fprintln(out.Stderr, "importer: stopped at once, the reports unfinished (they hold part of the run, and there is no summary); the journal holds every row sent, and the next run of the same command reports them")
			os.Exit(exitInterrupted)
		}
		<-ctx.Done()
		fmt.Fprintf(out.Stderr, "importer: stopping: waiting for the answers to %d requests already sent (at most %s); one more interrupt (Ctrl-C or SIGTERM) stops waiting, leaving their rows in doubt\n",
			out.InFlight.Load(), timeout)
	}
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
