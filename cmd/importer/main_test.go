package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/lineitems/importer/internal/command"
	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/importer"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/runlock"
	"github.com/lineitems/importer/internal/sample"
	"github.com/lineitems/importer/internal/upload"
	"github.com/lineitems/importer/internal/watch"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errHelp, 0},
		{&usageError{"x"}, 2},
		{fmt.Errorf("wrapped: %w", context.Canceled), 130},
		{&importer.IncompleteError{Failed: 1}, 3},
		{&upload.StopError{Code: "DAILY_LIMIT"}, 1},
		{fmt.Errorf("run: %w", &runlock.HeldError{Dir: "out", PID: 7}), 75},
		{fmt.Errorf("reading which portal the token belongs to: %w", &command.UnavailableError{What: "the account", Err: &hubspot.APIError{StatusCode: 429}}), 75},
		{&importer.SetupError{Err: errors.New("bad mapping")}, 1},
		{&watch.ChangedError{Name: "in.csv", Why: "it shrank"}, 75},
		{&watch.UnfinishedError{Name: "in.csv", Unread: 4096}, 75},
		{errors.New("disk full"), 1},
		{errors.Join(&importer.IncompleteError{Failed: 1}, &command.SummaryError{Err: errors.New("writing --summary-json: disk full")}), 1},
		{errors.Join(fmt.Errorf("wrapped: %w", context.Canceled), &command.SummaryError{Err: errors.New("disk full")}), 1},
	}
	for _, tc := range cases {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tokFile := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(tokFile, []byte("pat-from-file\n"), 0o600)
	emptyTok := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(emptyTok, []byte("\n"), 0o600)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	withTok := env(map[string]string{"HUBSPOT_ACCESS_TOKEN": "pat-env"})
	cases := []struct {
		name    string
		args    []string
		env     func(string) string
		usage   bool
		check   func(t *testing.T, c *config)
		errText string
	}{
		{name: "defaults", args: []string{"data/line_items.csv"}, env: withTok, check: func(t *testing.T, c *config) {
			if c.OutDir != "line_items.import" || c.Rate != 9 || c.Workers != 192 || c.BatchSize != 100 || c.Token.Reveal() != "pat-env" || c.BaseURL != "https://api.hubapi.com" {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "token file wins", args: []string{"--token-file", tokFile, "a.csv"}, env: withTok, check: func(t *testing.T, c *config) {
			if c.Token.Reveal() != "pat-from-file" {
				t.Errorf("token from %q", c.Token.Reveal())
			}
		}},
		{name: "base url from env", args: []string{"a.csv"}, env: env(map[string]string{"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_BASE_URL": "http://127.0.0.1:9"}), check: func(t *testing.T, c *config) {
			if c.BaseURL != "http://127.0.0.1:9" {
				t.Errorf("base url %q", c.BaseURL)
			}
		}},
		{name: "stdin", args: []string{"-"}, env: withTok, check: func(t *testing.T, c *config) {
			if c.Input != "-" || c.OutDir != "stdin.import" {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "sandbox needs no token", args: []string{"--sandbox", "a.csv"}, env: env(nil)},
		// Well-formed flags that name something missing or refused are fatal
		// (exit 1), not usage errors (exit 2).
		{name: "no token", args: []string{"a.csv"}, env: env(nil), errText: "HUBSPOT_ACCESS_TOKEN"},
		{name: "empty token file", args: []string{"--token-file", emptyTok, "a.csv"}, env: env(nil), errText: "is empty"},
		{name: "missing token file", args: []string{"--token-file", tokFile + ".missing", "a.csv"}, env: env(nil), errText: "--token-file"},
		{name: "missing mapping file", args: []string{"--mapping", tokFile + ".missing", "a.csv"}, env: withTok, errText: "--mapping"},
		{name: "plain http to a remote host", args: []string{"--base-url", "http://api.hubapi.com", "a.csv"}, env: withTok, errText: "loopback"},
		{name: "a flag after the file", args: []string{"a.csv", "--rate", "5"}, env: withTok, usage: true, errText: "flags go before the file"},
		{name: "a command after flags", args: []string{"--rate", "5", "validate", "--mapping", "m.yaml", "a.csv"}, env: withTok, usage: true, errText: "the command goes first: importer validate [flags] FILE.csv"},
		{name: "rate below 0.1", args: []string{"--rate", "0.05", "a.csv"}, env: withTok, usage: true, errText: "below 0.1"},
		{name: "rate 0.1", args: []string{"--rate", "0.1", "a.csv"}, env: withTok},
		{name: "batch size over 100", args: []string{"--batch-size", "101", "a.csv"}, env: withTok, usage: true},
		{name: "rate NaN", args: []string{"--rate", "NaN", "a.csv"}, env: withTok, usage: true, errText: "is not a number of requests a second"},
		{name: "rate Inf", args: []string{"--rate", "+Inf", "a.csv"}, env: withTok, usage: true, errText: "is not a number of requests a second"},
		{name: "workers by the million", args: []string{"--workers", "5000000", "a.csv"}, env: withTok, usage: true, errText: "is more than 1024"},
		{name: "a timeout of weeks", args: []string{"--timeout", "1000h", "a.csv"}, env: withTok, usage: true, errText: "at most 30m0s"},
		{name: "a lookup delay of weeks", args: []string{"--lookup-delay", "1000h", "a.csv"}, env: withTok, usage: true, errText: "between 0 and 30m0s"},
		{name: "attempts by the thousand", args: []string{"--max-attempts", "5000", "a.csv"}, env: withTok, usage: true, errText: "between 1 and 100"},
		{name: "no input", args: nil, env: withTok, usage: true},
		{name: "two inputs", args: []string{"a.csv", "b.csv"}, env: withTok, usage: true},
		{name: "unknown flag", args: []string{"--frobnicate", "a.csv"}, env: withTok, usage: true},
		{name: "bad log format", args: []string{"--log-format", "xml", "a.csv"}, env: withTok, usage: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, tc.env, &bytes.Buffer{})
			var ue *usageError
			if tc.usage != errors.As(err, &ue) {
				t.Fatalf("err = %v, usage error wanted: %v", err, tc.usage)
			}
			if tc.errText != "" && (err == nil || !strings.Contains(err.Error(), tc.errText)) {
				t.Fatalf("err %v lacks %q", err, tc.errText)
			}
			if want := map[bool]int{true: exitUsage, false: exitFatal}[tc.usage]; err != nil && exitCode(err) != want {
				t.Errorf("exit code %d, want %d", exitCode(err), want)
			}
			if tc.errText == "" && !tc.usage && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestTokenNeverInOutput runs imports that fail in several ways with a known
// token and searches every log line, report, summary and error for it.
func TestTokenNeverInOutput(t *testing.T) {
	const secret = "pat-na1-11111111-2222-3333-4444-555555555555"
	for _, tc := range []struct {
		name   string
		portal string // the token the portal accepts
		scopes []string
	}{
		{"wrong token", "pat-other", nil},
		{"missing scope", secret, []string{emulator.ScopeLineItemsRead}},
		{"accepted", secret, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := emulator.New(emulator.Config{Token: tc.portal, Scopes: tc.scopes, RateMax: -1})
			srv := httptest.NewServer(emu)
			defer srv.Close()
			dir := t.TempDir()
			input := filepath.Join(dir, "in.csv")
			f, _ := os.Create(input)
			sample.Write(f, 150, 1, nil)
			f.Close()
			mappingFile := filepath.Join(dir, "m.yaml")
			os.WriteFile(mappingFile, []byte(strings.ReplaceAll(sample.Mapping, "  - {column: Deal ID, to: deal}\n", "")), 0o600)
			out := filepath.Join(dir, "out")
			cfg, err := parseConfig([]string{"--base-url", srv.URL, "--mapping", mappingFile, "--out", out, "--rate", "0", input},
				func(k string) string { return map[string]string{"HUBSPOT_ACCESS_TOKEN": secret}[k] }, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			var logs, stdout bytes.Buffer
			log, _ := newLogger("json", "debug", &logs, false)
			err = command.Run(context.Background(), cfg.Config, log, command.Console{Stdout: &stdout, Stderr: &command.BarWriter{W: &logs}})
			_ = log.Sync()
			if tc.name != "accepted" && exitCode(err) != exitFatal {
				t.Fatalf("exit code %d (err %v), want 1", exitCode(err), err)
			}
			if tc.name == "missing scope" && (err == nil || !strings.Contains(err.Error(), "crm.objects.line_items.write")) {
				t.Errorf("error %v does not name the missing scope", err)
			}
			texts := map[string]string{"logs": logs.String(), "stdout": stdout.String(), "error": fmt.Sprint(err), "config": fmt.Sprintf("%+v %#v", *cfg, *cfg)}
			entries, _ := os.ReadDir(out)
			if len(entries) < 4 && tc.name != "wrong token" { // a rejected token stops the run before any report
				t.Fatalf("out has %d files", len(entries))
			}
			if tc.name == "wrong token" && !strings.Contains(fmt.Sprint(err), "401") {
				t.Errorf("error %v does not say the token was rejected", err)
			}
			for _, e := range entries {
				data, _ := os.ReadFile(filepath.Join(out, e.Name()))
				texts[e.Name()] = string(data)
			}
			for where, text := range texts {
				if strings.Contains(text, secret) || strings.Contains(text, secret[8:]) {
					t.Errorf("the token appears in %s", where)
				}
			}
		})
	}
}

var _ = zap.NewNop

// buildBinary compiles the importer once for the tests that run it.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "importer")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")

	t.Run("sandbox sample exits 3 with the planted problems in failed.csv", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(bin, "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), filepath.Join(root, "samples/line_items.csv"))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HUBSPOT_ACCESS_TOKEN=")
		out, err := cmd.CombinedOutput()
		if code := exitOf(err); code != 3 {
			t.Fatalf("exit %d, want 3\n%s", code, out)
		}
		var sum report.Summary
		data, err := os.ReadFile(filepath.Join(dir, "line_items.import", "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Rows != sample.SampleRows || sum.Failed != len(sample.Problems) || sum.Created != sample.SampleRows-len(sample.Problems) || sum.ExitCode != 3 {
			t.Errorf("summary = %+v", sum)
		}
		if !json.Valid(bytes.Split(out, []byte("\n"))[0]) {
			t.Errorf("log is not JSON when not on a terminal: %s", bytes.Split(out, []byte("\n"))[0])
		}
		// The validation table names the rows the portal's definitions
		// reject, and the row that could not be read as a record.
		for _, want := range []string{"Problems found before sending", `row 121: "XYZ"`, `row 42: "-25.00"`, `MALFORMED_ROW   1      row 88: "line 89: record has 11 fields`} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if exitOf(err) != 0 || !strings.HasPrefix(string(out), "importer ") {
			t.Errorf("exit %d: %s", exitOf(err), out)
		}
	})
	t.Run("usage error exits 2", func(t *testing.T) {
		out, err := exec.Command(bin).CombinedOutput()
		if exitOf(err) != 2 || !strings.Contains(string(out), "Usage") {
			t.Errorf("exit %d: %s", exitOf(err), out)
		}
	})
	t.Run("bad mapping exits 1 naming the column", func(t *testing.T) {
		dir := t.TempDir()
		m := filepath.Join(dir, "m.yaml")
		os.WriteFile(m, []byte("properties:\n  name: Produkt\n"), 0o600)
		cmd := exec.Command(bin, "--sandbox", "--mapping", m, filepath.Join(root, "samples/line_items.csv"))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if exitOf(err) != 1 || !strings.Contains(string(out), `no column "Produkt"`) {
			t.Errorf("exit %d: %s", exitOf(err), out)
		}
	})
	t.Run("SIGTERM exits 130 with consistent reports and the rerun finishes", func(t *testing.T) {
		p := newExternalPortal(t, 20000)
		// 200 requests at 5/s would take 40 s; the signal comes after the first rows land.
		cmd := p.command(bin, "--rate", "5")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p.waitForRows(t, cmd, 100, &out)
		cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		if code := exitOf(err); code != 130 {
			t.Fatalf("exit %d, want 130\n%s", code, out.String())
		}
		sum := p.summary(t)
		if sum.ExitCode != 130 || sum.Rows != p.reportLines(t) || sum.Created+sum.Failed+sum.InDoubt+sum.NotSent != sum.Rows || sum.Rows >= 20000 || sum.InDoubt != 0 {
			t.Errorf("summary %+v, %d report lines", sum, p.reportLines(t))
		}
		if len(p.emu.LineItems()) != sum.Created {
			t.Errorf("portal holds %d line items, summary says %d created", len(p.emu.LineItems()), sum.Created)
		}

		cmd = p.command(bin, "--rate", "0")
		if out, err := cmd.CombinedOutput(); exitOf(err) != 0 {
			t.Fatalf("rerun: exit %d\n%s", exitOf(err), out)
		}
		p.checkExactlyOnce(t)
	})
	t.Run("SIGKILL at random points, rerun until done: every row exactly once", func(t *testing.T) {
		// Every answer takes 30 ms, and each run may send 10 requests at once
		// (--rate 1: 10 per 10 s) on 2 workers: the kills land before, during
		// and after sends, lookups and journal writes.
		p := newExternalPortal(t, 20000)
		p.emu.SetFaults(emulator.Faults{Latency: 30 * time.Millisecond})
		p.killRepeatedly(t, bin, 12, "--rate", "1", "--workers", "2")
	})
	t.Run("SIGKILL at a high pace, rerun until done: every row exactly once", func(t *testing.T) {
		// No rate limit, 8 workers and 15 ms answers: hundreds of batches a
		// second, so that the journal writes "sent" records ahead of their
		// batches when the kills land.
		p := newExternalPortal(t, 200000)
		p.emu.SetFaults(emulator.Faults{Latency: 15 * time.Millisecond})
		p.killRepeatedly(t, bin, 5, "--rate", "0", "--workers", "8")
	})
}

// TestKilledUnderEachUndocumentedBehaviour: the binary, killed with
// SIGKILL at random points and rerun until done, leaves every row in the
// portal exactly once under each reading of what HubSpot's documentation
// leaves open, with answers that are slow and sometimes lost after the
// batch was committed (so that rows are looked up after each kill, or, in
// upsert mode, sent again), and batch creates that answer some of the line
// items they created with a per-row error of status 500. Each reading is run in create mode and in
// upsert mode, the upsert runs taking the two API versions in turn; an
// upsert run ends with nothing in doubt, no batch create and no lookup.
func TestKilledUnderEachUndocumentedBehaviour(t *testing.T) {
	bin := buildBinary(t)
	for i, tc := range []struct {
		name       string
		cfg        emulator.Config
		upsertOnly bool // the switch changes only answers to upserts
	}{
		{"a unique-value conflict is a per-row error in a 207", emulator.Config{RateMax: -1, ConflictPerRow: true}, false},
		{"a unique-value conflict is a 409 OBJECT_ALREADY_EXISTS", emulator.Config{RateMax: -1, ConflictAs: emulator.ConflictAlreadyExists}, false},
		{"a unique-value conflict is a 400 saying so in words", emulator.Config{RateMax: -1, ConflictAs: emulator.ConflictValidation}, false},
		{"a unique-value conflict is a per-row validation error in a 207", emulator.Config{RateMax: -1, ConflictPerRow: true, ConflictAs: emulator.ConflictValidation}, false},
		{"create results carry no trace ids", emulator.Config{RateMax: -1, CreateOmitsTraceID: true}, false},
		{"create results carry no trace ids and echo numbers and dates in HubSpot's forms", emulator.Config{RateMax: -1, CreateOmitsTraceID: true, EchoNormalized: true}, false},
		{"unique values compared without regard to case", emulator.Config{RateMax: -1, UniqueCaseInsensitive: true}, false},
		{"a batch read that finds nothing is a 404", emulator.Config{RateMax: -1, BatchReadNoneFound404: true}, false},
		{"the window counts a request when its answer is ready", emulator.Config{RateMax: 400, RateInterval: 10 * time.Second, CountAtCompletion: true}, false},
		{"the window counts a request on arrival", emulator.Config{RateMax: 400, RateInterval: 10 * time.Second}, false},
		{"search lags behind writes", emulator.Config{RateMax: -1, SearchLag: 5 * time.Second}, false},
		{"error contexts in the Java map text of the specs' examples, conflicts per row", emulator.Config{RateMax: -1, ConflictPerRow: true, ErrorForms: emulator.ErrorFormText}, false},
		{"upsert results carry no trace ids", emulator.Config{RateMax: -1, UpsertOmitsTraceID: true}, true},
		{"2026-09 answers failures with a 207", emulator.Config{RateMax: -1, MultiStatus2026: true}, true},
	} {
		version := []string{"v3", "2026-09"}[i%2]
		if tc.cfg.MultiStatus2026 {
			version = "2026-09"
		}
		for _, upsert := range []bool{false, true} {
			if tc.upsertOnly && !upsert {
				continue
			}
			name := tc.name + ", create"
			if upsert {
				name = tc.name + ", upsert " + version
			}
			t.Run(name, func(t *testing.T) {
				// 20,000 rows are 200 batches; each run may send 10 of them
				// at once (--rate 1), so every run is killed before the
				// import ends.
				p := newExternalPortalWith(t, 20000, tc.cfg)
				p.emu.SetFaults(emulator.Faults{Latency: 20 * time.Millisecond, LatencyMax: 60 * time.Millisecond,
					CommitThenErrorRate: 0.1, CommitThenStatuses: []int{502, 504}, CommitThenRowErrorRate: 0.05})
				if upsert {
					p.sticky = []string{"--mode", "upsert", "--api-version", version}
				}
				p.killRepeatedly(t, bin, 4, "--rate", "1", "--workers", "4")
				if !upsert {
					return
				}
				if st := p.emu.Stats(); st.BatchCreates != 0 || st.BatchReads != 0 {
					t.Errorf("%d batch creates and %d batch reads; an upsert import sends upserts and never looks rows up", st.BatchCreates, st.BatchReads)
				}
				if s := p.summary(t); s.InDoubt != 0 || s.Created != p.n {
					t.Errorf("final summary %+v", s)
				}
			})
		}
	}
}

// TestKilledWhileAnswersTakeSeconds: with answers of 0.5-1.5 s and the
// default pool, a run has up to a whole window of batches in flight when it
// is killed, and HubSpot goes on to create them with no one to read the
// answers. Each run is killed within 300 ms of its 20th request reaching
// the portal (its first burst, or its lookups of the rows an earlier kill
// left in doubt), three times, then run to the end: every row is in the
// portal exactly once. The cases take the counting models and, with slow
// answers too, the other readings of what HubSpot leaves open: a
// unique-value conflict as a per-row error, unique values compared without
// regard to case, an empty batch read as a 404, search lagging behind
// writes, and upserts on 2026-09 with failures in a 207 and results
// without trace ids.
func TestKilledWhileAnswersTakeSeconds(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		name   string
		cfg    emulator.Config
		sticky []string
	}{
		{"counted on arrival", emulator.Config{}, nil},
		{"counted at completion", emulator.Config{CountAtCompletion: true}, nil},
		{"counted at completion, per-row conflicts, case-blind unique values, empty reads 404, search lag",
			emulator.Config{CountAtCompletion: true, ConflictPerRow: true, UniqueCaseInsensitive: true, BatchReadNoneFound404: true, SearchLag: 5 * time.Second}, nil},
		{"counted on arrival, upsert on 2026-09 with 207s and no trace ids",
			emulator.Config{MultiStatus2026: true, UpsertOmitsTraceID: true}, []string{"--mode", "upsert", "--api-version", "2026-09"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each has its own portal; most of their time is waiting for answers
			// 200 batches: a window of 190 cannot hold them all.
			tc.cfg.RateMax, tc.cfg.RateInterval = 190, 10*time.Second
			p := newExternalPortalWith(t, 20000, tc.cfg)
			p.sticky = tc.sticky
			p.emu.SetFaults(emulator.Faults{Latency: 500 * time.Millisecond, LatencyMax: 1500 * time.Millisecond})
			afterRequests := func(rng *rand.Rand) <-chan struct{} {
				kill := make(chan struct{})
				go func() {
					defer close(kill)
					p.waitForRequests(t, nil, p.emu.Stats().Requests+20, nil)
					// Polling another process's progress: there is no clock to fake.
					time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
				}()
				return kill
			}
			p.killRepeatedlyWhen(t, bin, 3, afterRequests, "--rate", "50")
			// No fault but the kills leaves a row in doubt.
			st := p.emu.Stats()
			t.Logf("%d requests answered to no one, %d batch reads, %d batch creates, %d batch upserts", st.Orphaned, st.BatchReads, st.BatchCreates, st.BatchUpserts)
			if st.Orphaned == 0 {
				t.Errorf("no request was answered to no one: the kills left nothing in flight")
			}
			switch {
			case tc.sticky == nil && st.BatchReads == 0:
				t.Errorf("no batch read: the kills left no batch in doubt to look up")
			case tc.sticky != nil && (st.BatchReads != 0 || st.BatchCreates != 0):
				t.Errorf("%d batch reads and %d batch creates; an upsert import sends upserts and never looks rows up", st.BatchReads, st.BatchCreates)
			}
		})
	}
}

// killRepeatedly runs the importer with args (and --key-property) and kills
// it with SIGKILL 100 to 600 ms after it starts, kills times; then it runs
// it to the end and checks that every row is in the portal exactly once.
func (p *externalPortal) killRepeatedly(t *testing.T, bin string, kills int, args ...string) {
	t.Helper()
	p.killRepeatedlyWhen(t, bin, kills, func(rng *rand.Rand) <-chan struct{} {
		kill := make(chan struct{})
		// A child process runs on the real clock: there is no fake one to advance.
		time.AfterFunc(time.Duration(100+rng.IntN(500))*time.Millisecond, func() { close(kill) })
		return kill
	}, args...)
}

// killRepeatedlyWhen is killRepeatedly with each kill when the channel that
// when returns (called as each run starts) is ready.
func (p *externalPortal) killRepeatedlyWhen(t *testing.T, bin string, kills int, when func(*rand.Rand) <-chan struct{}, args ...string) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill timing seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	keyed := []string{"--key-property", keyProp, "--lookup-delay", "50ms"}
	for range kills {
		cmd := p.command(bin, append(args, keyed...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if exited, err := killWhen(t, cmd, when(rng)); exited {
			t.Fatalf("finished before the kill (exit %d):\n%s", exitOf(err), out.String())
		}
	}
	p.emu.SetFaults(emulator.Faults{})
	cmd := p.command(bin, append([]string{"--rate", "0"}, keyed...)...)
	out, err := cmd.CombinedOutput()
	if exitOf(err) != 0 {
		t.Fatalf("final run: exit %d\n%s", exitOf(err), out)
	}
	t.Logf("after %d kills: %+v", kills, p.summary(t))
	p.checkExactlyOnce(t)
}

const keyProp = "import_key"

// killWhen starts cmd and kills it with SIGKILL once kill is ready. It
// reports whether cmd ended by itself first, and with what.
func killWhen(t *testing.T, cmd *exec.Cmd, kill <-chan struct{}) (exited bool, err error) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return true, err
	case <-kill:
	}
	cmd.Process.Kill()
	return false, <-done
}

// externalPortal is an emulator in the test process that importer
// processes, started and killed by the test, import into.
type externalPortal struct {
	emu   *emulator.Server
	url   string
	dir   string
	input string
	n     int
	// sticky are flags every command gets (the mode, the API version).
	sticky []string
}

func newExternalPortal(t *testing.T, n int) *externalPortal {
	t.Helper()
	return newExternalPortalWith(t, n, emulator.Config{RateMax: -1})
}

// seedSamplePortal gives emu what the sample mapping needs: the deals the
// sample rows point at, and the unique key property.
func seedSamplePortal(emu *emulator.Server) {
	emu.SeedObjects("deals", sample.DealIDs()...)
	emu.AddProperty(emulator.Property{Name: keyProp, Label: "Import key", Type: "string", FieldType: "text", HasUniqueValue: true})
}

// newExternalPortalWith is newExternalPortal with the emulator's switches
// and limits taken from cfg (its token and seed are the test's).
func newExternalPortalWith(t *testing.T, n int, cfg emulator.Config) *externalPortal {
	t.Helper()
	return newExternalPortalOn(t, n, cfg, nil)
}

// newExternalPortalOn is newExternalPortalWith whose server listens on
// wrap(the listener) when wrap is not nil.
func newExternalPortalOn(t *testing.T, n int, cfg emulator.Config, wrap func(net.Listener) net.Listener) *externalPortal {
	t.Helper()
	cfg.Token, cfg.Seed = "pat-external", 3
	emu := emulator.New(cfg)
	seedSamplePortal(emu)
	srv := httptest.NewUnstartedServer(emu)
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	input := filepath.Join(dir, "big.csv")
	f, _ := os.Create(input)
	if err := sample.Write(f, n, 3, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return &externalPortal{emu: emu, url: srv.URL, dir: dir, input: input, n: n}
}

func (p *externalPortal) command(bin string, extra ...string) *exec.Cmd {
	root, _ := filepath.Abs("../..")
	args := append([]string{"--base-url", p.url, "--mapping", filepath.Join(root, "samples/mapping.yaml"), "--log-format", "json"}, p.sticky...)
	args = append(args, extra...)
	cmd := exec.Command(bin, append(args, p.input)...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "HUBSPOT_ACCESS_TOKEN=pat-external")
	return cmd
}

func (p *externalPortal) outDir() string { return filepath.Join(p.dir, "big.import") }

// eventually checks cond every step until it holds, for at most limit,
// and reports whether it held. It polls another process's progress (or the
// emulator's serving it): there is no clock to fake.
func eventually(limit, step time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(step)
	}
	return true
}

func (p *externalPortal) waitForRows(t *testing.T, cmd *exec.Cmd, rows int, out *bytes.Buffer) {
	t.Helper()
	if !eventually(30*time.Second, 20*time.Millisecond, func() bool {
		data, _ := os.ReadFile(filepath.Join(p.outDir(), "created.csv"))
		return bytes.Count(data, []byte("\n")) > rows
	}) {
		cmd.Process.Kill()
		t.Fatalf("no rows created in time:\n%s", out.String())
	}
}

// waitForRequests waits until the portal has received n requests in all,
// for at most a minute; after that it kills cmd (if not nil) and reports
// the failure with out (if not nil) through t.Errorf, which, unlike
// t.Fatalf, may be called from a goroutine other than the test's.
func (p *externalPortal) waitForRequests(t *testing.T, cmd *exec.Cmd, n int, out *bytes.Buffer) {
	t.Helper()
	if eventually(time.Minute, 5*time.Millisecond, func() bool { return p.emu.Stats().Requests >= n }) {
		return
	}
	said := ""
	if out != nil {
		said = out.String()
	}
	if cmd != nil {
		cmd.Process.Kill()
	}
	t.Errorf("the portal received %d requests in a minute, want %d:\n%s", p.emu.Stats().Requests, n, said)
}

func (p *externalPortal) summary(t *testing.T) report.Summary {
	t.Helper()
	var sum report.Summary
	data, err := os.ReadFile(filepath.Join(p.outDir(), "summary.json"))
	if err == nil {
		err = json.Unmarshal(data, &sum)
	}
	if err != nil {
		t.Fatalf("summary: %v", err)
	}
	return sum
}

func (p *externalPortal) reportLines(t *testing.T) int {
	lines := 0
	for _, name := range []string{"created.csv", "failed.csv", "in_doubt.csv", "not_sent.csv"} {
		data, _ := os.ReadFile(filepath.Join(p.outDir(), name))
		lines += bytes.Count(data, []byte("\n")) - 1
	}
	return lines
}

// checkExactlyOnce asserts that the portal holds every row of the input
// exactly once and that created.csv names exactly the portal's ids.
func (p *externalPortal) checkExactlyOnce(t *testing.T) {
	t.Helper()
	sum := p.summary(t)
	if sum.Rows != p.n || sum.Created != p.n || sum.ExitCode != 0 {
		t.Errorf("summary %+v", sum)
	}
	bySKU := p.bySKU(t)
	if len(bySKU) != p.n {
		t.Fatalf("portal holds %d line items, want %d", len(bySKU), p.n)
	}
	recs := readCSVFile(t, filepath.Join(p.outDir(), "created.csv"))
	if len(recs)-1 != p.n {
		t.Fatalf("created.csv has %d rows", len(recs)-1)
	}
	for _, rec := range recs[1:] {
		if bySKU[rec[2]] != rec[1] {
			t.Fatalf("created.csv says %s is %s; the portal has %s", rec[2], rec[1], bySKU[rec[2]])
		}
	}
}

// bySKU returns the portal's line items' ids by SKU; a SKU held twice
// fails the test.
func (p *externalPortal) bySKU(t *testing.T) map[string]string {
	t.Helper()
	bySKU := map[string]string{}
	for _, li := range p.emu.LineItems() {
		sku := li.Properties["hs_sku"]
		if prev, ok := bySKU[sku]; ok {
			t.Fatalf("SKU %s created twice: ids %s and %s", sku, prev, li.ID)
		}
		bySKU[sku] = li.ID
	}
	return bySKU
}

func exitOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func jsonValid(s string) bool { return json.Valid([]byte(s)) }

func TestEnvironmentConfiguresFlags(t *testing.T) {
	env := map[string]string{"HUBSPOT_ACCESS_TOKEN": "t", "IMPORTER_RATE": "5", "IMPORTER_KEY_PROPERTY": "import_key",
		"IMPORTER_WORKERS": "2", "IMPORTER_LOG_FORMAT": "json", "IMPORTER_DRY_RUN": "true"}
	c, err := parseConfig([]string{"--workers", "3", "a.csv"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// The flag wins over the environment; the rest come from the environment.
	if c.Workers != 3 || c.Rate != 5 || c.KeyProperty != "import_key" || c.logFormat != "json" || !c.DryRun {
		t.Errorf("config = %+v", c)
	}
	env["IMPORTER_RATE"] = "fast"
	_, err = parseConfig([]string{"a.csv"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "IMPORTER_RATE") {
		t.Errorf("err = %v, want a usage error naming IMPORTER_RATE", err)
	}
}

// TestHelp: "importer help" prints the help and exits 0.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"help"}, func(string) string { return "" }, &out)
	if !errors.Is(err, errHelp) || exitCode(err) != 0 || strings.Count(out.String(), "Usage: importer") != 1 || !strings.Contains(out.String(), "-key-property") {
		t.Errorf("err %v, output:\n%s", err, out.String())
	}
}

// TestRestartIsGone: --restart, which used to discard the journal and so
// re-create every row, is refused with a message that says what to use.
func TestRestartIsGone(t *testing.T) {
	_, err := parseConfig([]string{"--restart", "a.csv"}, func(k string) string { return map[string]string{"HUBSPOT_ACCESS_TOKEN": "t"}[k] }, io.Discard)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--retry-in-doubt") || !strings.Contains(err.Error(), "duplicates") {
		t.Errorf("err = %v, want a usage error pointing at --retry-in-doubt and naming the risk", err)
	}
}

func TestMappingSettings(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "m.yaml")
	os.WriteFile(m, []byte("properties: {name: Product}\nsettings:\n  rate: 4\n  workers: 2\n  key-property: import_key\n"), 0o600)
	env := map[string]string{"HUBSPOT_ACCESS_TOKEN": "t", "IMPORTER_WORKERS": "6"}
	c, err := parseConfig([]string{"--mapping", m, "--rate", "7", "a.csv"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// flag > environment > mapping settings
	if c.Rate != 7 || c.Workers != 6 || c.KeyProperty != "import_key" {
		t.Errorf("config = %+v", c)
	}
	// A mapping is data: it may not say where the token goes, where files
	// are written, or what is discarded or risked.
	for _, name := range []string{"token-file", "base-url", "out", "restart", "retry-in-doubt", "cpuprofile", "summary-json", "log-format", "sandbox", "dry-run", "mapping", "version"} {
		os.WriteFile(m, []byte("properties: {name: Product}\nsettings: {"+name+": x}\n"), 0o600)
		_, err := parseConfig([]string{"--mapping", m, "a.csv"}, func(k string) string { return env[k] }, &bytes.Buffer{})
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "key-property") {
			t.Errorf("settings {%s: x}: err = %v, want it refused, naming the settings a mapping may make", name, err)
		}
	}
	var help bytes.Buffer
	if _, err := parseConfig([]string{"--help"}, func(string) string { return "" }, &help); !errors.Is(err, errHelp) {
		t.Fatal(err)
	}
	for _, name := range mappingSettings {
		if !strings.Contains(help.String(), "  -"+name+" ") {
			t.Errorf("mapping setting %q is not a flag", name)
		}
	}
}

func TestSubcommands(t *testing.T) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")
	t.Run("validate reports what HubSpot would reject and sends nothing", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(bin, "validate", "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), filepath.Join(root, "samples/line_items.csv"))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if exitOf(err) != 3 {
			t.Fatalf("exit %d\n%s", exitOf(err), out)
		}
		for _, want := range []string{"294 of 300 rows would be accepted", "PROPERTY", `row 121: "XYZ"`, `row 42: "-25.00"`, "INVALID_OPTION"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "line_items.validate"))
		var names []string
		for _, e := range entries {
			if e.Name() != ".lock" {
				names = append(names, e.Name())
			}
		}
		if fmt.Sprint(names) != "[failed.csv summary.json]" {
			t.Errorf("validate wrote %v; want only the reports it fills, failed.csv and summary.json", names)
		}
		// The printed list of reports names what was written, and only that.
		_, listed, _ := strings.Cut(string(out), "Reports:\n")
		listed, _, _ = strings.Cut(listed, "Problems")
		var paths []string
		for l := range strings.Lines(listed) {
			paths = append(paths, filepath.Base(strings.TrimSpace(l)))
		}
		if fmt.Sprint(paths) != "[failed.csv summary.json]" {
			t.Errorf("the summary lists the reports %v; want [failed.csv summary.json]:\n%s", paths, out)
		}
		var sum report.Summary
		data, _ := os.ReadFile(filepath.Join(dir, "line_items.validate", "summary.json"))
		if err := json.Unmarshal(data, &sum); err != nil || sum.Requests != 0 || sum.Created != 0 || sum.Failed != 6 {
			t.Errorf("summary %+v (%v)", sum, err)
		}
	})
	t.Run("validate exits 0 when every row would be accepted", func(t *testing.T) {
		dir := t.TempDir()
		input := filepath.Join(dir, "good.csv")
		f, _ := os.Create(input)
		sample.Write(f, 250, 9, nil)
		f.Close()
		cmd := exec.Command(bin, "validate", "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), input)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); exitOf(err) != 0 {
			t.Fatalf("exit %d\n%s", exitOf(err), out)
		}
	})
	t.Run("init-mapping prints a mapping that loads and fits the file", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(bin, "init-mapping", "--sandbox", filepath.Join(root, "samples/line_items.csv"))
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		m := filepath.Join(dir, "m.yaml")
		os.WriteFile(m, stdout.Bytes(), 0o600)
		for _, want := range []string{"hs_sku: SKU", "price:", "{column: Deal ID, to: deal}", `# unmatched column: "Product"`} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("mapping lacks %q:\n%s", want, stdout.String())
			}
		}
		cmd = exec.Command(bin, "validate", "--sandbox", "--mapping", m, filepath.Join(root, "samples/line_items.csv"))
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); exitOf(err) != 3 && exitOf(err) != 0 {
			t.Fatalf("the suggested mapping does not work: exit %d\n%s", exitOf(err), out)
		}
	})
	t.Run("init-mapping reads the file as the import does: --encoding, --delimiter", func(t *testing.T) {
		europe := filepath.Join(root, "internal/rows/testdata/excel-europe.csv")
		cmd := exec.Command(bin, "init-mapping", "--encoding", "windows-1252", "--delimiter", ";", europe)
		cmd.Dir = t.TempDir()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		if want := `"Einzelpreis (€)"`; !strings.Contains(stdout.String(), want) {
			t.Errorf("mapping lacks %s:\n%s", want, stdout.String())
		}
	})
}

// TestPortalChecks: the mapping is checked against the portal before
// anything is sent: a property that does not exist or is calculated, a key
// property without unique values, and a custom association type the portal
// lacks are fatal, named in the message; a custom type the portal has passes.
func TestPortalChecks(t *testing.T) {
	cases := []struct {
		name, mapping, keyProp, want string
	}{
		{"unknown property", "properties: {nmae: Product}\n", "", "nmae"},
		{"calculated property", "properties: {name: Product, amount: Unit Price}\n", "", "amount"},
		{"key property without unique values", "properties: {name: Product}\nkey: SKU\n", "hs_sku", "unique"},
		{"key property that is a number", "properties: {name: Product}\nkey: SKU\n", "numeric_key", "text (string)"},
		{"custom association type the portal lacks", "properties: {name: Product}\nassociations: [{column: Deal ID, type_id: 78, category: USER_DEFINED}]\n", "", "78"},
		{"custom association type the portal has", "properties: {name: Product}\nassociations: [{column: Deal ID, type_id: 77, category: USER_DEFINED}]\n", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := emulator.New(emulator.Config{Token: "pat-x", RateMax: -1})
			emu.SeedObjects("deals", "1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009", "1010",
				"1011", "1012", "1013", "1014", "1015", "1016", "1017", "1018", "1019", "1020")
			emu.AddAssociationLabel("deals", emulator.CategoryUserDefined, 77, "Upsell item")
			emu.AddProperty(emulator.Property{Name: "numeric_key", Label: "Numeric key", Type: "number", FieldType: "number", HasUniqueValue: true})
			srv := httptest.NewServer(emu)
			defer srv.Close()
			dir := t.TempDir()
			m := filepath.Join(dir, "m.yaml")
			os.WriteFile(m, []byte(tc.mapping), 0o600)
			root, _ := filepath.Abs("../..")
			args := []string{"--base-url", srv.URL, "--mapping", m, "--out", filepath.Join(dir, "out")}
			if tc.keyProp != "" {
				args = append(args, "--key-property", tc.keyProp)
			}
			cfg, err := parseConfig(append(args, filepath.Join(root, "samples/line_items.csv")),
				func(k string) string { return map[string]string{"HUBSPOT_ACCESS_TOKEN": "pat-x"}[k] }, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			var logs, stdout bytes.Buffer
			log, _ := newLogger("json", "info", &logs, false)
			err = command.Run(context.Background(), cfg.Config, log, command.Console{Stdout: &stdout, Stderr: &command.BarWriter{W: &logs}})
			if tc.want == "" {
				if exitCode(err) == exitFatal {
					t.Fatalf("err = %v", err)
				}
				if len(emu.LineItems()) == 0 {
					t.Fatal("nothing was created")
				}
				return
			}
			if exitCode(err) != exitFatal || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("exit %d, err %v; want a fatal error naming %q", exitCode(err), err, tc.want)
			}
			if n := emu.Stats().BatchCreates; n != 0 {
				t.Errorf("%d batch creates were sent", n)
			}
		})
	}
}

// TestOverlappingRuns: while one run imports into a folder, a second run
// of the same command (cron starting the next night's job, or a person)
// exits at once with code 75, naming the holder, and sends nothing; with
// --wait-lock it waits, then gives up the same way. After the first run
// is stopped, the command finishes the import with every row once.
func TestOverlappingRuns(t *testing.T) {
	bin := buildBinary(t)
	for _, mode := range []string{"create", "upsert"} {
		t.Run(mode, func(t *testing.T) { overlappingRuns(t, bin, mode) })
	}
}

func overlappingRuns(t *testing.T, bin, mode string) {
	p := newExternalPortal(t, 3000)
	p.sticky = []string{"--mode", mode}
	first := p.command(bin, "--rate", "1", "--key-property", keyProp)
	var out bytes.Buffer
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	p.waitForRows(t, first, 100, &out)
	// The second runs reach the portal through a proxy that counts their
	// requests: the first run keeps sending meanwhile.
	var seen atomic.Int64
	target, _ := url.Parse(p.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer counting.Close()
	for _, extra := range [][]string{nil, {"--wait-lock", "300ms"}} {
		second := p.command(bin, append([]string{"--rate", "0", "--key-property", keyProp, "--base-url", counting.URL}, extra...)...)
		msg, err := second.CombinedOutput()
		if code := exitOf(err); code != 75 {
			t.Fatalf("second run %v: exit %d, want 75\n%s", extra, code, msg)
		}
		if want := fmt.Sprintf("pid %d", first.Process.Pid); !strings.Contains(string(msg), want) {
			t.Errorf("second run's message does not name the holder (%s):\n%s", want, msg)
		}
	}
	if n := seen.Load(); n != 0 {
		t.Errorf("the refused runs made %d requests to the portal", n)
	}
	first.Process.Signal(syscall.SIGTERM)
	if code := exitOf(first.Wait()); code != 130 {
		t.Fatalf("first run: exit %d\n%s", code, out.String())
	}
	if msg, err := p.command(bin, "--rate", "0", "--key-property", keyProp, "--base-url", counting.URL).CombinedOutput(); exitOf(err) != 0 {
		t.Fatalf("final run: exit %d\n%s", exitOf(err), msg)
	}
	if seen.Load() == 0 {
		t.Error("the final run's requests did not go through the counting proxy")
	}
	p.checkExactlyOnce(t)
}

// TestAnotherFolderMeetsTheSameKeys: the same file imported again into
// another --out (a second cron job, a lost report folder, another machine)
// meets every row's key already held, under each form HubSpot may give
// that conflict: every row is reported created earlier, with the id the
// first import reported, the run exits 0, and the portal is unchanged.
func TestAnotherFolderMeetsTheSameKeys(t *testing.T) {
	bin := buildBinary(t)
	for _, cfg := range []emulator.Config{
		{RateMax: -1},
		{RateMax: -1, ConflictPerRow: true},
		{RateMax: -1, ConflictAs: emulator.ConflictAlreadyExists},
		{RateMax: -1, ConflictAs: emulator.ConflictValidation},
		{RateMax: -1, ConflictPerRow: true, ConflictAs: emulator.ConflictValidation},
	} {
		t.Run(fmt.Sprintf("per row=%v as %q", cfg.ConflictPerRow, cfg.ConflictAs), func(t *testing.T) {
			t.Parallel() // each has its own portal
			const n = 300
			p := newExternalPortalWith(t, n, cfg)
			if msg, err := p.command(bin, "--rate", "0", "--key-property", keyProp).CombinedOutput(); exitOf(err) != 0 {
				t.Fatalf("first import: exit %d\n%s", exitOf(err), msg)
			}
			ids := func(dir string) map[string]string { // row → id
				m := map[string]string{}
				for _, rec := range readCSVFile(t, filepath.Join(dir, "created.csv"))[1:] {
					m[rec[0]] = rec[1]
				}
				return m
			}
			first := ids(p.outDir())
			other := filepath.Join(p.dir, "again.import")
			msg, err := p.command(bin, "--rate", "0", "--key-property", keyProp, "--out", other).CombinedOutput()
			if exitOf(err) != 0 {
				t.Fatalf("import into another folder: exit %d\n%s", exitOf(err), msg)
			}
			var sum report.Summary
			data, _ := os.ReadFile(filepath.Join(other, "summary.json"))
			must(t, json.Unmarshal(data, &sum))
			if sum.Created != n || sum.Earlier != n {
				t.Errorf("summary %+v: want all %d rows created earlier", sum, n)
			}
			if again := ids(other); !maps.Equal(first, again) || len(first) != n {
				t.Errorf("the second import reported other ids than the first (%d and %d rows)", len(first), len(again))
			}
			if c := p.emu.LineItemCount(); c != n {
				t.Errorf("portal holds %d line items, want %d", c, n)
			}
		})
	}
}

// TestKeyPropertyAddedLater: a nightly import ran without --key-property;
// then the key is added to the same command. The folder knows its rows by
// their content, and the line items hold no key: the run is refused with
// exit 1 before sending anything, rather than creating every row again.
// Dropping the key again runs as before and sends nothing.
func TestKeyPropertyAddedLater(t *testing.T) {
	bin := buildBinary(t)
	const n = 300
	p := newExternalPortalWith(t, n, emulator.Config{RateMax: -1})
	if msg, err := p.command(bin, "--rate", "0").CombinedOutput(); exitOf(err) != 0 {
		t.Fatalf("first import: exit %d\n%s", exitOf(err), msg)
	}
	msg, err := p.command(bin, "--rate", "0", "--key-property", keyProp).CombinedOutput()
	if code := exitOf(err); code != 1 || !strings.Contains(string(msg), "by their content") {
		t.Fatalf("with --key-property added: exit %d, want 1 with a message\n%s", code, msg)
	}
	if c := p.emu.LineItemCount(); c != n {
		t.Fatalf("portal holds %d line items for %d rows", c, n)
	}
	if msg, err := p.command(bin, "--rate", "0").CombinedOutput(); exitOf(err) != 0 {
		t.Fatalf("the first command again: exit %d\n%s", exitOf(err), msg)
	}
	if c := p.emu.LineItemCount(); c != n {
		t.Fatalf("portal holds %d line items for %d rows", c, n)
	}
}

// TestFeedingBackFromTheReportFolder: the input inside --out is refused
// before anything is written, and the file is left as the user fixed it.
func TestFeedingBackFromTheReportFolder(t *testing.T) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	out := filepath.Join(dir, "run1")
	os.MkdirAll(out, 0o700)
	sampleCSV, _ := os.ReadFile(filepath.Join(root, "samples/line_items.csv"))
	fixed := filepath.Join(out, "failed.csv")
	os.WriteFile(fixed, sampleCSV, 0o600)
	cmd := exec.Command(bin, "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), "--out", out, fixed)
	cmd.Dir = dir
	msg, err := cmd.CombinedOutput()
	if code := exitOf(err); code != 1 || !strings.Contains(string(msg), "lies inside") {
		t.Fatalf("exit %d, want 1 with a message\n%s", code, msg)
	}
	if after, _ := os.ReadFile(fixed); !bytes.Equal(after, sampleCSV) {
		t.Fatalf("the input was changed: %d bytes, was %d", len(after), len(sampleCSV))
	}
}

// TestFeedingBackWithoutOut: without a key, a row is known by its content
// in the journal of the folder that imported it only. A report fed back
// into a folder that holds no journal for the portal (no --out: the folder
// named after the report; or a new one) is refused before anything is
// sent: the rows it created would be unknown to the later runs into the
// import's folder, which could create them again. Into the import's
// folder, the rows created there are carried over, and nothing is created
// twice.
func TestFeedingBackWithoutOut(t *testing.T) {
	bin := buildBinary(t)
	p := newExternalPortal(t, 20)
	if out, err := p.command(bin).CombinedOutput(); err != nil {
		t.Fatalf("the import: %v\n%s", err, out)
	}
	// The input's rows as a report holds them: the report columns after
	// the input's, empty once the rows are fixed.
	input, _ := os.ReadFile(p.input)
	var fed []byte
	for i, line := range strings.Split(strings.TrimRight(string(input), "\n"), "\n") {
		if i == 0 {
			line += ",error_row,error_code,error_message"
		} else {
			line += ",,,"
		}
		fed = append(fed, line+"\n"...)
	}
	fixed := filepath.Join(p.dir, "fixed.csv")
	os.WriteFile(fixed, fed, 0o600)
	root, _ := filepath.Abs("../..")
	run := func(args ...string) ([]byte, int) {
		cmd := exec.Command(bin, append(append([]string{"--base-url", p.url, "--mapping", filepath.Join(root, "samples/mapping.yaml")}, args...), fixed)...)
		cmd.Dir = p.dir
		cmd.Env = append(os.Environ(), "HUBSPOT_ACCESS_TOKEN=pat-external")
		msg, err := cmd.CombinedOutput()
		return msg, exitOf(err)
	}
	creates := p.emu.Stats().BatchCreates
	for _, args := range [][]string{nil, {"--out", filepath.Join(p.dir, "elsewhere")}} {
		msg, code := run(args...)
		if code != 1 || !strings.Contains(string(msg), "give --out with the folder of the import that wrote the report") {
			t.Errorf("%v: exit %d, want 1 with a message\n%s", args, code, msg)
		}
	}
	if got := p.emu.Stats().BatchCreates; got != creates {
		t.Errorf("%d batch creates after the refusals, want none", got-creates)
	}
	if msg, code := run("--out", p.outDir()); code != 0 {
		t.Fatalf("into the import's folder: exit %d\n%s", code, msg)
	}
	if n := len(p.emu.LineItems()); n != p.n {
		t.Errorf("the portal holds %d line items for %d rows", n, p.n)
	}
}

// TestDryRunsKeepOffImports: --dry-run and validate write to folders of
// their own by default, and refuse a folder that holds an import's journal,
// so a finished import's reports are never overwritten by a check.
func TestDryRunsKeepOffImports(t *testing.T) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	run := func(args ...string) ([]byte, int) {
		cmd := exec.Command(bin, append(append(args, "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml")), filepath.Join(root, "samples/line_items.csv"))...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return out, exitOf(err)
	}
	if out, code := run(); code != 3 {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	created := filepath.Join(dir, "line_items.import", "created.csv")
	before, _ := os.ReadFile(created)
	if out, code := run("--dry-run"); code == 1 || code == 2 {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "line_items.dry-run", "batches.jsonl")); err != nil {
		t.Errorf("the dry run did not write to line_items.dry-run: %v", err)
	}
	for _, args := range [][]string{{"--dry-run", "--out", "line_items.import"}, {"validate", "--out", "line_items.import"}} {
		out, code := run(args...)
		if code != 1 || !strings.Contains(string(out), "journal") {
			t.Errorf("%v: exit %d, want 1 with a message\n%s", args, code, out)
		}
	}
	if after, _ := os.ReadFile(created); !bytes.Equal(before, after) || len(before) == 0 {
		t.Errorf("the import's created.csv changed (%d bytes, was %d)", len(after), len(before))
	}
	t.Run("a dry run that waited for an import's lock", func(t *testing.T) {
		dryRunAfterLock(t, bin, root)
	})
}

// dryRunAfterLock: a dry run given --wait-lock finds the folder empty,
// then waits while an import holds it; the import writes its journal
// meanwhile. Once the lock is free the dry run checks again, refuses
// (exit 1, naming the journal) and writes nothing.
func dryRunAfterLock(t *testing.T, bin, root string) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc to see that the dry run is waiting for the lock")
	}
	out := filepath.Join(t.TempDir(), "shared.import")
	lock, err := runlock.Acquire(context.Background(), out, 0, time.Second)
	must(t, err)
	defer lock.Release()
	cmd := exec.Command(bin, "--dry-run", "--wait-lock", "1m", "--out", out, "--mapping", filepath.Join(root, "samples/mapping.yaml"), filepath.Join(root, "samples/line_items.csv"))
	var said bytes.Buffer
	cmd.Stdout, cmd.Stderr = &said, &said
	must(t, cmd.Start())
	defer cmd.Process.Kill()
	lockFile := filepath.Join(out, runlock.FileName)
	waiting := func() bool { // it has the lock file open: past its first check
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", cmd.Process.Pid))
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && target == lockFile {
				return true
			}
		}
		return false
	}
	if !eventually(30*time.Second, 5*time.Millisecond, waiting) {
		t.Fatalf("the dry run never opened %s\n%s", lockFile, said.String())
	}
	journal := filepath.Join(out, "portal-4242", "journal.log")
	must(t, os.MkdirAll(filepath.Dir(journal), 0o700))
	must(t, os.WriteFile(journal, []byte("the import's\n"), 0o600))
	must(t, lock.Release())
	if code := exitOf(cmd.Wait()); code != 1 || !strings.Contains(said.String(), "journal") {
		t.Fatalf("dry run: exit %d, want 1 with a message naming the journal\n%s", code, said.String())
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{runlock.FileName, "portal-4242"}; !slices.Equal(names, want) {
		t.Errorf("the folder holds %v after the refused dry run, want %v", names, want)
	}
}

// TestSandboxThenProduction: the README's first step, a sandbox trial,
// then the real import with the same arguments and a token, run twice (as
// the next night's cron would). The real run must not resume the sandbox's
// state: every row goes to the real portal, once. In create mode, and in
// upsert mode, where the row whose deal does not exist is upserted (failed
// for its association, and tried again the second time) and the second
// run sends nothing else.
func TestSandboxThenProduction(t *testing.T) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")
	for _, mode := range [][]string{nil, {"--mode", "upsert", "--key-property", keyProp}} {
		t.Run(map[bool]string{true: "create", false: "upsert"}[mode == nil], func(t *testing.T) {
			dir := t.TempDir()
			args := append(slices.Clone(mode), "--mapping", filepath.Join(root, "samples/mapping.yaml"), filepath.Join(root, "samples/line_items.csv"))
			sandbox := exec.Command(bin, append([]string{"--sandbox"}, args...)...)
			sandbox.Dir = dir
			if out, err := sandbox.CombinedOutput(); exitOf(err) != 3 {
				t.Fatalf("sandbox: exit %d\n%s", exitOf(err), out)
			}
			prod := emulator.New(emulator.Config{Token: "pat-prod", RateMax: -1, Seed: 5, Account: emulator.Account{PortalID: 4242}})
			seedSamplePortal(prod)
			srv := httptest.NewServer(prod)
			defer srv.Close()
			want := sample.SampleRows - len(sample.Problems)
			if mode != nil {
				want++ // the row whose deal does not exist is upserted, then fails its association
			}
			for run := 1; run <= 2; run++ {
				upserts := prod.Stats().BatchUpserts
				real := exec.Command(bin, append([]string{"--base-url", srv.URL, "--rate", "0"}, args...)...)
				real.Dir = dir
				real.Env = append(os.Environ(), "HUBSPOT_ACCESS_TOKEN=pat-prod")
				out, err := real.CombinedOutput()
				if exitOf(err) != 3 {
					t.Fatalf("production run %d: exit %d\n%s", run, exitOf(err), out)
				}
				if n := prod.LineItemCount(); n != want {
					t.Fatalf("production run %d: the portal holds %d line items, want %d\n%s", run, n, want, out)
				}
				if mode != nil && run == 2 && prod.Stats().BatchUpserts-upserts != 1 {
					t.Errorf("second upsert run: %d upserts, want 1 (the row whose association failed)", prod.Stats().BatchUpserts-upserts)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "line_items.import", "portal-4242", "journal.log")); err != nil {
				t.Errorf("the production journal is not kept per portal: %v", err)
			}
		})
	}
}

// TestInterruptedThenBothInstructions: a run is stopped (SIGTERM); then the
// user follows both of the README's instructions: feed back a fixed
// failed.csv, and rerun the same command. No row is created twice, every
// row ends up created once, and failed.csv never holds a row the rerun
// sends. Then the mapping gets a comment (an edit that changes nothing)
// and the command runs again: nothing is sent.
func TestInterruptedThenBothInstructions(t *testing.T) {
	bin := buildBinary(t)
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprint("key=", keyed), func(t *testing.T) {
			const n = 3000
			p := newExternalPortal(t, 1)
			f, err := os.Create(p.input)
			must(t, err)
			must(t, sample.Write(f, n, 8, func(i int, r *sample.Row) {
				if i%100 == 0 {
					r.Currency = "XYZ" // the portal has no such option: the row fails
				}
			}))
			f.Close()
			p.n = n
			extra := []string{"--rate", "3"}
			if keyed {
				extra = append(extra, "--key-property", keyProp)
			}
			first := p.command(bin, extra...)
			var out bytes.Buffer
			first.Stdout, first.Stderr = &out, &out
			must(t, first.Start())
			p.waitForRows(t, first, 300, &out)
			first.Process.Signal(syscall.SIGTERM)
			if code := exitOf(first.Wait()); code != 130 {
				t.Fatalf("first run: exit %d\n%s", code, out.String())
			}
			sum := p.summary(t)
			if sum.NotSent == 0 {
				t.Fatalf("first run: summary %+v; want rows not sent", sum)
			}
			failed := readCSVFile(t, filepath.Join(p.outDir(), "failed.csv"))
			for _, rec := range failed[1:] {
				if rec[len(rec)-2] == "NOT_SENT" || rec[6] != "XYZ" {
					t.Fatalf("failed.csv holds a row the rerun sends: %v", rec)
				}
			}

			// Instruction 1: fix failed.csv (copied out of --out) and feed it back.
			for _, rec := range failed[1:] {
				rec[6] = "EUR"
			}
			fixed := filepath.Join(p.dir, "fixed.csv")
			writeCSVFile(t, fixed, failed)
			feed := exec.Command(bin, append([]string{"--base-url", p.url, "--mapping", filepath.Join(repoRoot(t), "samples/mapping.yaml"), "--rate", "0"}, append(extra[2:], fixed)...)...)
			feed.Dir = p.dir
			feed.Env = append(os.Environ(), "HUBSPOT_ACCESS_TOKEN=pat-external", "IMPORTER_OUT="+p.outDir())
			if msg, err := feed.CombinedOutput(); exitOf(err) != 0 {
				t.Fatalf("feeding back the fixed failed.csv: exit %d\n%s", exitOf(err), msg)
			}
			// Instruction 2: rerun the same command.
			rerun := p.command(bin, append([]string{"--rate", "0"}, extra[2:]...)...)
			msg, err := rerun.CombinedOutput()
			if code := exitOf(err); code != 3 && code != 0 {
				t.Fatalf("rerun: exit %d\n%s", code, msg)
			}
			bySKU := map[string]int{}
			for _, li := range p.emu.LineItems() {
				bySKU[li.Properties["hs_sku"]]++
				if bySKU[li.Properties["hs_sku"]] > 1 {
					t.Fatalf("SKU %s created twice", li.Properties["hs_sku"])
				}
			}
			// Rows the first run never read were never in its failed.csv, so
			// they are still unfixed.
			fixedRows := len(failed) - 1
			if want := n - n/100 + fixedRows; len(bySKU) != want {
				t.Fatalf("the portal holds %d line items, want %d; summary %+v\n%s", len(bySKU), want, p.summary(t), msg)
			}
			sum = p.summary(t)
			// Without a key, a fixed row is new content and the spoilt one in
			// the original file stays rejected; with a key, the fixed row is
			// the row, created earlier.
			wantFailed := n / 100
			if keyed {
				wantFailed -= fixedRows
			}
			if sum.Failed != wantFailed || sum.Created != n-wantFailed || sum.NotSent != 0 || sum.InDoubt != 0 {
				t.Errorf("rerun: summary %+v; want %d rows failed (%d fixed and fed back) and every other row created", sum, wantFailed, fixedRows)
			}

			// An edit of the mapping that changes nothing sent.
			mapping, _ := os.ReadFile(filepath.Join(repoRoot(t), "samples/mapping.yaml"))
			edited := filepath.Join(p.dir, "mapping.yaml")
			must(t, os.WriteFile(edited, append([]byte("# edited by hand\n"), mapping...), 0o600))
			creates := p.emu.Stats().BatchCreates
			again := exec.Command(bin, append([]string{"--base-url", p.url, "--mapping", edited, "--log-format", "json", "--rate", "0"}, append(extra[2:], p.input)...)...)
			again.Dir = p.dir
			again.Env = append(os.Environ(), "HUBSPOT_ACCESS_TOKEN=pat-external")
			wantExit := 0
			if wantFailed > 0 {
				wantExit = 3
			}
			if msg, err := again.CombinedOutput(); exitOf(err) != wantExit || p.emu.Stats().BatchCreates != creates {
				t.Fatalf("after a comment in the mapping: exit %d, %d creates sent\n%s", exitOf(err), p.emu.Stats().BatchCreates-creates, msg)
			}
		})
	}
}

func repoRoot(t *testing.T) string {
	root, err := filepath.Abs("../..")
	must(t, err)
	return root
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	must(t, err)
	return recs
}

func writeCSVFile(t *testing.T, path string, recs [][]string) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	w := csv.NewWriter(f)
	must(t, w.WriteAll(recs))
	must(t, f.Close())
}

// TestSignals: one SIGINT stops the run, which waits for its answers and
// says what happened; a second says what it waits for; a third ends the
// process at once. The next run finishes with every row once.
func TestSignals(t *testing.T) {
	bin := buildBinary(t)
	t.Run("one", func(t *testing.T) {
		p := newExternalPortal(t, 20000)
		cmd := p.command(bin, "--rate", "5")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		must(t, cmd.Start())
		p.waitForRows(t, cmd, 100, &out)
		cmd.Process.Signal(os.Interrupt)
		if code := exitOf(cmd.Wait()); code != 130 {
			t.Fatalf("exit %d, want 130\n%s", code, out.String())
		}
		sum := p.summary(t)
		want := fmt.Sprintf("Stopped by SIGINT: %d of the %d rows read so far were created; run the same command again to resume.", sum.Created, sum.Rows)
		if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "context canceled") || strings.Contains(out.String(), "Import finished") {
			t.Errorf("output lacks %q, or says more:\n%s", want, out.String())
		}
	})
	t.Run("before the import", func(t *testing.T) {
		// Every answer takes 3 s: the signal comes while the first read
		// (the account) is unanswered, before any report exists.
		p := newExternalPortal(t, 200)
		p.emu.SetFaults(emulator.Faults{Latency: 3 * time.Second})
		cmd := p.command(bin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		must(t, cmd.Start())
		p.waitForRequests(t, cmd, 1, &out)
		cmd.Process.Signal(syscall.SIGTERM)
		if code := exitOf(cmd.Wait()); code != 130 {
			t.Fatalf("exit %d, want 130\n%s", code, out.String())
		}
		want := "importer: stopped before the import began: no line item was sent and no report written; run the same command again"
		if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "context canceled") {
			t.Errorf("output lacks %q, or says more:\n%s", want, out.String())
		}
		if _, err := os.Stat(filepath.Join(p.outDir(), "created.csv")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("created.csv: %v, want none", err)
		}
		if n := len(p.emu.LineItems()); n != 0 {
			t.Errorf("%d line items created", n)
		}
	})
	t.Run("three", func(t *testing.T) { threeSignals(t, bin) })
	t.Run("three, keyless, every row sent", func(t *testing.T) { threeSignalsAllSent(t, bin) })
}

// threeSignals sends three SIGINTs while requests are in flight. The third
// stops waiting for their answers, which come to no one: the run ends
// with its reports written, their rows in doubt, every row it read in one
// report. The next run finishes with every row once. (A fourth would end
// the process without its reports; it comes too late to test here, as the
// run ends within moments of the third.)
func threeSignals(t *testing.T, bin string) {
	p := newExternalPortal(t, 20000)
	p.emu.SetFaults(emulator.Faults{Latency: 2 * time.Second})
	cmd := p.command(bin, "--rate", "0", "--workers", "4", "--key-property", keyProp, "--timeout", "5m")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	p.waitForRows(t, cmd, 100, &out.b)
	// The first answers are in; the signals must come while later
	// requests are out. The portal counts a request as it arrives and
	// answers 2 s later, so one that arrives from now on is in flight.
	p.waitForRequests(t, cmd, p.emu.Stats().Requests+1, nil)
	cmd.Process.Signal(os.Interrupt)
	// The first says at once what the run waits for.
	if !eventually(30*time.Second, 10*time.Millisecond, func() bool {
		return strings.Contains(out.String(), "a third interrupt (Ctrl-C or SIGTERM) stops waiting")
	}) {
		cmd.Process.Kill()
		t.Fatalf("the first signal did not say what the run waits for:\n%s", out.String())
	}
	p.interruptAbandons(t, cmd, 2, &out)
	wants := []string{"waiting for the answers to", "requests already sent (at most 5m0s)", "stopping now: the answers to",
		"the same command run again looks them up by " + keyProp}
	// The reports account for every row read, and the abandoned
	// requests' rows, which the portal may hold, are in doubt.
	sum := p.summary(t)
	if sum.InDoubt == 0 || sum.Created+sum.Failed+sum.InDoubt+sum.NotSent != sum.Rows {
		t.Errorf("summary %+v: want the abandoned rows in doubt, and every row read in a report", sum)
	}
	reported := map[string]bool{}
	for name, col := range map[string]int{"created.csv": 2, "in_doubt.csv": 0} { // the SKU's column
		recs := readCSVFile(t, filepath.Join(p.outDir(), name))
		if recs[0][col] != "SKU" {
			t.Fatalf("%s's column %d is %q, not the SKU", name, col, recs[0][col])
		}
		for _, r := range recs[1:] {
			reported[r[col]] = true
		}
	}
	for _, li := range p.emu.LineItems() {
		if !reported[li.Properties["hs_sku"]] {
			t.Fatalf("the portal holds %s, in neither created.csv nor in_doubt.csv", li.Properties["hs_sku"])
		}
	}
	if !strings.Contains(out.String(), "Stopped by SIGINT") {
		t.Errorf("no summary printed:\n%s", out.String())
	}
	for _, want := range wants {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	p.emu.SetFaults(emulator.Faults{})
	if msg, err := p.command(bin, "--rate", "0", "--key-property", keyProp).CombinedOutput(); exitOf(err) != 0 {
		t.Fatalf("rerun: exit %d\n%s", exitOf(err), msg)
	}
	p.checkExactlyOnce(t)
}

// threeSignalsAllSent sends three SIGINTs once every row of a keyless run
// has been sent, while the last request is out. The rows of the requests
// no longer waited for are in doubt because of the stop: the run ends as
// a stopped one (exit 130), not as a finished one (exit 3).
func threeSignalsAllSent(t *testing.T, bin string) {
	p := newExternalPortal(t, 500)
	p.emu.SetFaults(emulator.Faults{Latency: 2 * time.Second})
	cmd := p.command(bin, "--rate", "0", "--workers", "4", "--timeout", "5m")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	// Four requests at once, the fifth (the last 100 rows) as soon as an
	// answer is in: once a row is created, every row has been sent, and
	// the fifth request is out for 2 s.
	p.waitForRows(t, cmd, 1, &out.b)
	p.interruptAbandons(t, cmd, 3, &out)
	sum := p.summary(t)
	if sum.Rows != 500 || sum.NotSent != 0 || sum.InDoubt == 0 || sum.Stopped == "" || sum.Created+sum.Failed+sum.InDoubt != sum.Rows {
		t.Errorf("summary %+v: want every row read and sent, the abandoned ones in doubt, and the run stopped", sum)
	}
	// The rerun sends nothing (every row was sent), and without a key it
	// cannot settle the rows in doubt: the summary does not promise that.
	for _, want := range []string{"Stopped by SIGINT", "run the same command again to send the rest.",
		fmt.Sprintf("%d rows in doubt (in_doubt.csv) may exist in HubSpot: without --key-property no later run can look them up", sum.InDoubt)} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "to resume") {
		t.Errorf("the summary promises a keyless rerun resumes the rows in doubt:\n%s", out.String())
	}
	// Each row in doubt says why: its answer was no longer waited for.
	recs := readCSVFile(t, filepath.Join(p.outDir(), "in_doubt.csv"))
	for _, r := range recs[1:] {
		if msg := r[len(r)-1]; !strings.Contains(msg, "the run stopped waiting for it, at a third interrupt") {
			t.Fatalf("in_doubt.csv: %q does not say the answer was no longer waited for", msg)
		}
	}
}

// interruptAbandons sends cmd n SIGINTs, 100 ms apart, the last of them
// the third, and checks that the run exits 130 and stopped waiting for
// answers: stopped before them, the process was not there to hear them
// (had it waited, no answer would be orphaned).
func (p *externalPortal) interruptAbandons(t *testing.T, cmd *exec.Cmd, n int, out *lockedBuffer) {
	t.Helper()
	for range n {
		time.Sleep(100 * time.Millisecond)
		cmd.Process.Signal(os.Interrupt)
	}
	if code := exitOf(cmd.Wait()); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, out.String())
	}
	if !eventually(30*time.Second, 20*time.Millisecond, func() bool { return p.emu.Stats().Orphaned > 0 }) {
		t.Fatalf("no request was answered to no one: the signals did not stop the wait before the answers came\n%s", out.String())
	}
}

// lockedBuffer is a bytes.Buffer that a process writes to while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSandboxKeepsOffARealImport: a sandbox run refuses a folder that
// holds a real import's reports; over its own earlier run it goes on.
func TestSandboxKeepsOffARealImport(t *testing.T) {
	bin := buildBinary(t)
	root := repoRoot(t)
	p := newExternalPortal(t, 50)
	if out, err := p.command(bin, "--rate", "0").CombinedOutput(); exitOf(err) != 0 {
		t.Fatalf("real import: exit %d\n%s", exitOf(err), out)
	}
	before, _ := os.ReadFile(filepath.Join(p.outDir(), "created.csv"))
	sandbox := func() ([]byte, int) {
		cmd := exec.Command(bin, "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), "--out", p.outDir(), p.input)
		cmd.Dir = p.dir
		out, err := cmd.CombinedOutput()
		return out, exitOf(err)
	}
	if out, code := sandbox(); code != 1 || !strings.Contains(string(out), "real portal") {
		t.Fatalf("sandbox over a real import: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(filepath.Join(p.outDir(), "created.csv")); !bytes.Equal(before, after) {
		t.Fatal("the real import's created.csv changed")
	}
	other := t.TempDir()
	for range 2 {
		cmd := exec.Command(bin, "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), "--out", other, p.input)
		if out, err := cmd.CombinedOutput(); exitOf(err) != 0 {
			t.Fatalf("sandbox into its own folder: exit %d\n%s", exitOf(err), out)
		}
	}
}

// TestModeFlags: --mode, --duplicate-keys and --api-version from flags,
// IMPORTER_* variables and the mapping's settings, and the combinations
// refused before anything is read.
func TestModeFlags(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "m.yaml")
	must(t, os.WriteFile(m, []byte("properties: {name: Product}\nkey: SKU\nsettings:\n  mode: upsert\n  key-property: import_key\n  api-version: 2026-09\n"), 0o600))
	tok := map[string]string{"HUBSPOT_ACCESS_TOKEN": "t"}
	c, err := parseConfig([]string{"--mapping", m, "--duplicate-keys", "last-wins", "a.csv"}, func(k string) string { return tok[k] }, io.Discard)
	if err != nil || !c.Upsert || !c.LastWins || c.APIVersion != hubspot.V202609 {
		t.Fatalf("from the mapping's settings: %+v, %v", c, err)
	}
	// Which rows are sent is not the data's to say: last-wins drops rows.
	must(t, os.WriteFile(m, []byte("properties: {name: Product}\nkey: SKU\nsettings:\n  key-property: import_key\n  duplicate-keys: last-wins\n"), 0o600))
	if _, err := parseConfig([]string{"--mapping", m, "a.csv"}, func(k string) string { return tok[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "duplicate-keys") {
		t.Errorf("duplicate-keys in the mapping's settings: err = %v, want it refused", err)
	}
	env := map[string]string{"HUBSPOT_ACCESS_TOKEN": "t", "IMPORTER_MODE": "upsert", "IMPORTER_KEY_PROPERTY": "k"}
	c, err = parseConfig([]string{"a.csv"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || !c.Upsert || c.LastWins || c.APIVersion != hubspot.V3 {
		t.Fatalf("from IMPORTER_MODE: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "merge", "a.csv"}, `--mode "merge"`},
		{[]string{"--mode", "upsert", "a.csv"}, "--mode upsert needs --key-property"},
		{[]string{"--mode", "upsert", "--key-property", "k", "--retry-in-doubt", "a.csv"}, "--retry-in-doubt has no use with --mode upsert"},
		{[]string{"--duplicate-keys", "first-wins", "--key-property", "k", "a.csv"}, `--duplicate-keys "first-wins"`},
		{[]string{"--duplicate-keys", "last-wins", "a.csv"}, "last-wins needs --key-property"},
		{[]string{"--duplicate-keys", "last-wins", "--key-property", "k", "-"}, "not standard input"},
		{[]string{"--api-version", "v4", "a.csv"}, "unknown API version"},
	} {
		_, err := parseConfig(tc.args, func(k string) string { return tok[k] }, io.Discard)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}

// TestLoadToken: a token file may start with a byte order mark and end
// with a line break; a token with a line break or another control
// character inside is refused at once (no request could carry it), and no
// error holds the token.
// TestTokenGivenAsItsFile: a token typed where its file's name goes is not
// echoed in the error that the file does not exist.
func TestTokenGivenAsItsFile(t *testing.T) {
	for _, value := range []string{"pat-na1-0123456789abcdef-secret", "CiQwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC1secret"} {
		_, err := loadToken(value, func(string) string { return "" })
		if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "looks like a token") {
			t.Errorf("err = %v, want one that says so without the token", err)
		}
	}
	_, err := loadToken(filepath.Join(t.TempDir(), "missing-token.txt"), func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "missing-token.txt") {
		t.Errorf("err = %v, want the path of a missing file", err)
	}
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, env string
		want, err       string
	}{
		{"file with a BOM and a newline", "\ufeffpat-na1-secret\r\n", "", "pat-na1-secret", ""},
		{"environment", "", "pat-na1-secret", "pat-na1-secret", ""},
		{"environment with a line break at the end (a Secret made from a file)", "", "pat-na1-secret\n", "pat-na1-secret", ""},
		{"a line break inside", "pat-na1-\nsecret\n", "", "", "control character at byte 9"},
		{"a control character in the environment", "", "pat-na1-\x01secret", "", "HUBSPOT_ACCESS_TOKEN has a control character"},
		{"an empty file", "\ufeff \n", "", "", "is empty"},
		{"a file with the scheme, as copied from a header", "Bearer pat-na1-secret\n", "", "pat-na1-secret", ""},
		{"the environment with the scheme", "", "bearer  pat-na1-secret", "pat-na1-secret", ""},
		{"the scheme alone", "Bearer \n", "", "", "the word Bearer alone"},
		{"a token that starts with the word", "", "Bearerpat-na1-secret", "Bearerpat-na1-secret", ""},
		{"nothing", "", "", "", "no access token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := ""
			if tc.file != "" {
				file = filepath.Join(dir, "token")
				must(t, os.WriteFile(file, []byte(tc.file), 0o600))
			}
			tok, err := loadToken(file, func(k string) string {
				if k == "HUBSPOT_ACCESS_TOKEN" {
					return tc.env
				}
				return ""
			})
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "secret") {
					t.Errorf("err = %v, want one saying %q without the token", err, tc.err)
				}
			case err != nil || tok.Reveal() != tc.want:
				t.Errorf("err %v, or the token read is not the one given", err)
			}
		})
	}
}
