// Command hubspot-emulator serves an emulated HubSpot portal over HTTP for
// manual and end-to-end testing of the importer.
//
// Usage:
//
//	hubspot-emulator --token TOKEN [--addr 127.0.0.1:8080] [--rate-max 100]
//	    [--rate-interval 10s] [--daily 0] [--seed-deals 1001-1010] [--error-rate 0]
//	    [--latency 0] [--unique-property external_id] [--unique-case-insensitive]
//	    [--conflict-per-row] [--seed-unique deals.legacy_deal_id=LD-{id}]
//	    [--upsert-omits-trace-id] [--multi-status-2026] [--idle-reset 0] [--connect-delay 0] ...
//
// It prints the URL it listens on and serves until SIGINT or SIGTERM. It
// refuses non-loopback addresses unless --allow-remote is given. Run with
// -h for every flag.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hubspot-emulator:", err)
		os.Exit(2)
	}
}

// run parses args, listens and serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	srv := emulator.New(opts.config)
	srv.SetFaults(opts.faults)
	for _, s := range opts.seeds {
		srv.SeedObjects(s.objectType, s.ids...)
	}
	for _, name := range opts.unique {
		srv.AddProperty(emulator.Property{Name: name, Label: name, Type: "string", FieldType: "text", HasUniqueValue: true})
	}
	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return err
	}
	ln = emulator.ConnectDelay(emulator.IdleReset(ln, opts.idleReset, nil), opts.connectDelay, nil)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "hubspot-emulator listening on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	st := srv.Stats()
	// Counted without LineItems(), which would copy millions of line items.
	n := srv.LineItemCount()
	fmt.Fprintf(stdout, "hubspot-emulator stopped: %d requests, %d batch creates, %d batch upserts, %d line items, %d throttled, %d faults\n",
		st.Requests, st.BatchCreates, st.BatchUpserts, n, st.Throttled, st.Faults)
	if opts.reportJSON != "" {
		return writeReport(opts.reportJSON, st, n, srv.PropertyValueCounts(opts.distinct), opts.distinct)
	}
	return nil
}

// writeReport writes the final counts, including how many of the n line
// items share a value of the distinct property with another one
// (duplicates); seen counts the line items holding each value.
func writeReport(path string, st emulator.Stats, n int, seen map[string]int, prop string) error {
	dups := 0
	for _, c := range seen {
		dups += c - 1
	}
	data, err := json.MarshalIndent(map[string]any{
		"requests": st.Requests, "batch_creates": st.BatchCreates, "throttled": st.Throttled, "faults": st.Faults,
		"max_in_window": st.MaxInWindow, "searches": st.Searches, "batch_reads": st.BatchReads, "line_items": n,
		"batch_upserts": st.BatchUpserts, "association_creates": st.AssociationCreates,
		"distinct_property": prop, "distinct_values": len(seen), "duplicates": dups,
	}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
