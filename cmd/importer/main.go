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
	"syscall"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if !errors.Is(err, errHelp) {
			fmt.Fprintln(os.Stderr, "importer:", err)
		}
		os.Exit(exitCode(err))
	}
	if cfg.version {
		fmt.Println("importer", version)
		return
	}
	log, err := newLogger(cfg.logFormat, cfg.logLevel, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "importer:", err)
		os.Exit(exitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg, log, os.Stdout)
	stop()
	_ = log.Sync()
	if err != nil && exitCode(err) != exitRowsFailed {
		fmt.Fprintln(os.Stderr, "importer:", err)
	}
	os.Exit(exitCode(err))
}
