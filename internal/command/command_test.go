package command

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/importer"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/upload"
	"github.com/lineitems/importer/internal/watch"
)

func TestInputOutsideOut(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run1")
	os.MkdirAll(out, 0o700)
	os.WriteFile(filepath.Join(out, "failed.csv"), []byte("a\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a\n"), 0o600)
	os.Symlink(out, filepath.Join(dir, "link"))
	cases := []struct {
		input, out, summary string
		refused             bool
	}{
		{filepath.Join(out, "failed.csv"), out, "", true},
		{filepath.Join(dir, "link", "failed.csv"), out, "", true}, // through a link to the folder
		{filepath.Join(out, "failed.csv"), filepath.Join(dir, "link"), "", true},
		{filepath.Join(out, "sub", "new.csv"), out, "", true}, // not there yet
		{filepath.Join(dir, "in.csv"), out, "", false},
		{filepath.Join(dir, "in.csv"), dir + "/run1x", "", false}, // a sibling with a common prefix
		{filepath.Join(dir, "in.csv"), filepath.Join(dir, "other"), filepath.Join(dir, "in.csv"), true},
		{"-", out, "", false},
	}
	for _, tc := range cases {
		err := inputOutsideOut(tc.input, tc.out, tc.summary)
		if (err != nil) != tc.refused {
			t.Errorf("input %s, --out %s, --summary-json %q: err = %v, want refused %v", tc.input, tc.out, tc.summary, err, tc.refused)
		}
	}
}

func TestUntilMidnight(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	cases := []struct {
		now  time.Time
		loc  *time.Location
		want string
	}{
		{time.Date(2026, 11, 30, 23, 48, 30, 0, time.UTC), ny, "5 h 11 min"},    // 18:48:30 in New York
		{time.Date(2026, 11, 30, 22, 59, 10, 0, time.UTC), berlin, "0 min"},     // 23:59:10 in Berlin
		{time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), berlin, "22 h 30 min"}, // 00:30 on the day summer time begins: it has 23 hours
		{time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC), ny, "6 h 0 min"},         // 18:00 EST; the next day is 23 h long, but midnight comes first
	}
	for _, tc := range cases {
		if got := untilMidnight(tc.now, tc.loc); got != tc.want {
			t.Errorf("untilMidnight(%v, %v) = %q, want %q", tc.now, tc.loc, got, tc.want)
		}
	}
	err := explainDailyLimit(&upload.StopError{Code: "DAILY_LIMIT", Msg: "daily limit used up"}, &hubspot.Account{TimeZone: "America/New_York"},
		time.Date(2026, 11, 30, 23, 48, 30, 0, time.UTC))
	if !strings.Contains(err.Error(), "resets the daily limit at midnight America/New_York, in 5 h 11 min") {
		t.Errorf("message %q", err)
	}
	var se *upload.StopError
	if !errors.As(err, &se) || se.Code != "DAILY_LIMIT" {
		t.Errorf("the explained error lost its StopError: %v", err)
	}
}

func TestWritable(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.json")
	os.WriteFile(existing, []byte("{}"), 0o600)
	cases := []struct {
		path string
		ok   bool
	}{
		{"", true}, {"-", true},
		{filepath.Join(dir, "new.json"), true},
		{existing, true},
		{filepath.Join(dir, "no", "such", "folder", "s.json"), false},
		{dir, false}, // a folder
	}
	for _, tc := range cases {
		if err := writable(tc.path); (err == nil) != tc.ok {
			t.Errorf("writable(%q) = %v, want ok %v", tc.path, err, tc.ok)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.json")); !os.IsNotExist(err) {
		t.Errorf("the check left a file behind: %v", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "{}" {
		t.Errorf("the check changed an existing file: %q", b)
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct {
		p     importer.Progress
		total int
		want  string
	}{
		{importer.Progress{}, 100, "importing"},
		{importer.Progress{Counts: report.Counts{Failed: 2, InDoubt: 1}}, 100, "importing (2 failed, 1 in doubt)"},
		{importer.Progress{RateWait: 3200 * time.Millisecond, Counts: report.Counts{Rows: 50}, Elapsed: time.Second}, 100,
			"importing, waiting for HubSpot's rate window, 4 s"},
		{importer.Progress{RateWait: 100 * time.Millisecond, Counts: report.Counts{Rows: 50}, Elapsed: 10 * time.Second}, 100,
			"importing, 5 rows/s, about 10s left"},
		{importer.Progress{Counts: report.Counts{Rows: 50}, Elapsed: 10 * time.Second}, -1, "importing, 5 rows/s"},
		{importer.Progress{Counts: report.Counts{Rows: 100}, Elapsed: 10 * time.Second, Done: true}, 100, "importing"},
	}
	for _, tc := range cases {
		if got := describe(tc.p, tc.total); got != tc.want {
			t.Errorf("describe(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestSummaryLines: the human summary of an upsert dry run gives the plan
// (with thousands separators), and a run with superseded rows says so
// without calling them failures.
func TestSummaryLines(t *testing.T) {
	cases := []struct {
		name    string
		s       report.Summary
		command string
		want    []string
		not     []string
	}{
		{"plan", report.Summary{DryRun: true, Rows: 20197, Failed: 3, Extra: map[string]any{"would_send": 20194, "plan_create": 1204, "plan_update": 18990}}, Validate,
			[]string{"Validation finished (nothing sent): 20194 of 20197 rows would be accepted.", "Plan: 1,204 to create, 18,990 to update, 3 failing."}, nil},
		{"superseded", report.Summary{Rows: 103, Created: 100, Superseded: 3}, Import,
			[]string{"Import finished: 100 of 103 rows created (3 superseded by later rows with their keys).", "superseded", "superseded.csv"}, nil},
		{"no plan, no superseded", report.Summary{Rows: 5, Created: 5}, Import,
			[]string{"Import finished: 5 of 5 rows created."}, nil},
		{"upserts", report.Summary{Rows: 7, Created: 6, Failed: 1, Batches: 1, Extra: map[string]any{"actions": map[string]int{"created": 3, "updated": 2, "unchanged": 1}}}, Import,
			[]string{"Import finished: 6 of 7 rows upserted (3 created, 2 updated, 1 unchanged)."}, nil},
		{"upserts unchanged", report.Summary{Rows: 4, Created: 4, Earlier: 4, Extra: map[string]any{"actions": map[string]int{"unchanged": 4}}}, Import,
			[]string{"Already complete: all 4 rows were upserted earlier with these values (4 unchanged); no line item was sent."}, nil},
		{"upserted without associations", report.Summary{Rows: 5000, Created: 978, Failed: 3822, Stopped: "terminated", ErrorCodes: []report.CodeCount{{Code: "ASSOCIATION_FAILED", Count: 3822}}}, Import,
			[]string{"3822 of the failed rows exist in HubSpot, upserted without an association (ASSOCIATION_FAILED in failed.csv"}, nil},
		{"all earlier but a failed row", report.Summary{Rows: 300, Created: 299, Earlier: 299, Failed: 1}, Import,
			[]string{"Import finished: 299 of 300 rows created, 299 of them earlier (not by this run)."}, nil},
		{"all earlier, none sent", report.Summary{Rows: 3000, Created: 3000, Earlier: 3000}, Import,
			[]string{"Already complete: all 3000 rows were created earlier; no line item was sent."}, nil},
		{"all earlier, found after refusals", report.Summary{Rows: 3000, Created: 3000, Earlier: 3000, Requests: 30}, Import,
			[]string{"Already complete: all 3000 rows were created earlier; the 30 requests that sent them were refused, as line items already held their keys, and created nothing."}, nil},
		{"earlier in doubt", report.Summary{Rows: 5, Created: 5, Extra: map[string]any{"earlier_in_doubt": 2}}, Import,
			[]string{"Earlier runs left 2 rows in doubt that this input does not hold", "out/earlier_in_doubt.csv"}, nil},
		{"earlier found", report.Summary{Rows: 5, Created: 5, Extra: map[string]any{"earlier_in_doubt": 0, "earlier_in_doubt_found": 3}}, Import,
			[]string{"3 rows earlier runs left in doubt, not in this input, found by key: created"}, []string{"earlier_in_doubt.csv"}},
		{"earlier unlinked", report.Summary{Rows: 5, Created: 5, Extra: map[string]any{"earlier_in_doubt": 0, "earlier_unlinked": 1}}, Import,
			[]string{"Earlier runs upserted 1 row without their associations that this input does not hold", "out/earlier_in_doubt.csv"},
			[]string{"rows in doubt"}},
		{"dry run lists the files it writes", report.Summary{DryRun: true, Rows: 300, Failed: 4, Extra: map[string]any{"would_send": 296}}, Import,
			[]string{"Dry run finished (nothing sent): 296 of 300 rows would be sent.", "out/failed.csv", "out/summary.json", "out/batches.jsonl"},
			[]string{"created.csv", "in_doubt.csv", "not_sent.csv"}},
		{"a dry run with last-wins writes no superseded.csv", report.Summary{DryRun: true, Rows: 300, Superseded: 2, Extra: map[string]any{"would_send": 298}}, Import,
			[]string{"out/failed.csv", "out/batches.jsonl"}, []string{"superseded.csv"}},
		{"validate lists the files it writes", report.Summary{DryRun: true, Rows: 300, Failed: 4, Extra: map[string]any{"would_send": 296}}, Validate,
			[]string{"out/failed.csv", "out/summary.json"},
			[]string{"created.csv", "in_doubt.csv", "not_sent.csv", "batches.jsonl"}},
		{"stopped keyless with rows in doubt", report.Summary{Rows: 8000, Created: 7900, InDoubt: 100, Stopped: "interrupt"}, Import,
			[]string{"Stopped by SIGINT: 7900 of the 8000 rows read so far were created; run the same command again to send the rest.",
				"100 rows in doubt (in_doubt.csv) may exist in HubSpot: without --key-property no later run can look them up"},
			[]string{"to resume"}},
		{"stopped keyed with rows in doubt", report.Summary{Rows: 8000, Created: 7900, InDoubt: 100, Stopped: "interrupt", Extra: map[string]any{"key_property": "import_key"}}, Import,
			[]string{"Stopped by SIGINT: 7900 of the 8000 rows read so far were created; run the same command again to resume.",
				"100 rows in doubt (in_doubt.csv) may exist in HubSpot: the same command run again looks them up by import_key"},
			[]string{"without --key-property"}},
		{"finished keyless with a row in doubt", report.Summary{Rows: 300, Created: 299, InDoubt: 1}, Import,
			[]string{"Import finished: 299 of 300 rows created.", "1 row in doubt (in_doubt.csv) may exist in HubSpot: without --key-property"}, nil},
		{"keyless, resending rows in doubt", report.Summary{Rows: 20, InDoubt: 20, Extra: map[string]any{"mode": "create", "retry_in_doubt": true}}, Import,
			[]string{"20 rows in doubt (in_doubt.csv) may exist in HubSpot: without --key-property they cannot be looked up, and the same command (with --retry-in-doubt) sends them again: a duplicate of each one that exists."},
			[]string{"reports them in doubt again"}},
		{"upsert rows in doubt", report.Summary{Rows: 20, Created: 18, InDoubt: 2, Extra: map[string]any{"mode": "upsert", "key_property": "sku", "actions": map[string]int{"created": 18}}}, Import,
			[]string{"2 rows in doubt (in_doubt.csv) may exist in HubSpot: the same command run again upserts them by sku, which gives each key one line item."},
			[]string{"look them up"}},
		{"input still being written", report.Summary{Rows: 2500, Created: 2500, Extra: map[string]any{"input_unfinished_bytes": int64(40960),
			"input_unfinished": (&watch.UnfinishedError{Unread: 40960}).What()}}, Import,
			[]string{"Import finished: 2500 of 2500 rows created.", "The input was still being written 2m0s after the run first reached its end (40960 bytes more so far): the rows past where the run stopped reading are left to the next run of the same command."}, nil},
		{"input written to after the read", report.Summary{Rows: 2500, Created: 2500, Extra: map[string]any{"input_unfinished_bytes": int64(300),
			"input_unfinished": (&watch.UnfinishedError{Unread: 300, Later: true}).What()}}, Import,
			[]string{"The input grew by 300 bytes after the run had read it to its end: the rows past where the run stopped reading are left"}, nil},
		{"no rows in doubt, no line about them", report.Summary{Rows: 300, Created: 300, Stopped: "interrupt"}, Import,
			[]string{"run the same command again to resume."}, []string{"in doubt (", "send the rest"}},
		{"an import lists every report", report.Summary{Rows: 5, Created: 5}, Import,
			[]string{"out/created.csv", "out/failed.csv", "out/in_doubt.csv", "out/not_sent.csv", "out/summary.json"},
			[]string{"batches.jsonl"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printSummary(&b, &tc.s, "out", tc.command, true)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, b.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("summary names %q:\n%s", n, b.String())
				}
			}
			if tc.s.Superseded == 0 && strings.Contains(b.String(), "superseded") {
				t.Errorf("summary mentions superseded rows:\n%s", b.String())
			}
			if tc.s.Extra["plan_create"] == nil && strings.Contains(b.String(), "Plan:") {
				t.Errorf("summary has a plan:\n%s", b.String())
			}
		})
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestReadAgain: a read made before the import is made again while its
// failure passes (a full rolling window, a 5xx, a lost answer), waiting at
// least HubSpot's Retry-After, and not after a lasting one.
func TestReadAgain(t *testing.T) {
	window := &hubspot.APIError{StatusCode: 429, PolicyName: hubspot.PolicyTenSecondly, RetryAfter: 5 * time.Second}
	daily := &hubspot.APIError{StatusCode: 429, PolicyName: hubspot.PolicyDaily}
	lost := &hubspot.TransportError{Sent: true, Err: errors.New("connection reset")}
	rejected := &hubspot.APIError{StatusCode: 401}
	noHost := &hubspot.TransportError{Err: &net.DNSError{Err: "no such host", Name: "api.hubapi.con", IsNotFound: true}}
	dnsTimeout := &hubspot.TransportError{Err: &net.DNSError{Err: "i/o timeout", Name: "api.hubapi.com", IsTimeout: true}}
	badCert := &hubspot.TransportError{Err: &tls.CertificateVerificationError{Err: errors.New("x509: certificate is valid for proxy.example, not api.hubapi.com")}}
	for _, tc := range []struct {
		name    string
		answers []error // one per call; nil is success
		calls   int
		err     error
		least   time.Duration // the least time it may take
	}{
		{"at once", []error{nil}, 1, nil, 0},
		{"a full window, then room", []error{window, window, nil}, 3, nil, 10 * time.Second},
		{"a 502, a lost answer, then the answer", []error{&hubspot.APIError{StatusCode: 502}, lost, nil}, 3, nil, time.Second},
		{"the daily limit", []error{daily, nil}, 1, daily, 0},
		{"a rejected token", []error{rejected, nil}, 1, rejected, 0},
		{"the window stays full", slices.Repeat([]error{window}, startupAttempts+1), startupAttempts, window, 35 * time.Second},
		{"no such host", []error{noHost, nil}, 1, noHost, 0},
		{"a certificate that does not verify", []error{badCert, nil}, 1, badCert, 0},
		{"a host that cannot be resolved for now", []error{dnsTimeout, nil}, 2, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				start := time.Now()
				err := readAgain(context.Background(), zap.NewNop(), "it", func() error {
					calls++
					return tc.answers[calls-1]
				})
				if calls != tc.calls || !errors.Is(err, tc.err) {
					t.Errorf("%d calls, err %v; want %d calls, err %v", calls, err, tc.calls, tc.err)
				}
				// Given up on while it still passes: try later (exit 75).
				var ue *UnavailableError
				if gaveUp := calls == startupAttempts; errors.As(err, &ue) != gaveUp {
					t.Errorf("err %v: an UnavailableError is %v, want %v", err, !gaveUp, gaveUp)
				}
				if took := time.Since(start); took < tc.least {
					t.Errorf("took %v, want at least %v", took, tc.least)
				}
			})
		})
	}
	t.Run("each attempt takes 50 s", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			calls := 0
			err := readAgain(context.Background(), zap.NewNop(), "it", func() error {
				calls++
				time.Sleep(50 * time.Second) // a host that does not answer, until the client's timeout
				return window
			})
			// The first failure at 50 s; then 5 s, 50 s, 5 s, 50 s, 5 s, 50 s:
			// a fifth would start more than startupPatience after it.
			var ue *UnavailableError
			if calls != 4 || !errors.As(err, &ue) || !errors.Is(err, window) {
				t.Errorf("%d calls, err %v; want 4 calls, and the last error as an UnavailableError", calls, err)
			}
		})
	})
	t.Run("cancelled during the last attempt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			calls := 0
			err := readAgain(ctx, zap.NewNop(), "it", func() error {
				if calls++; calls == startupAttempts {
					cancel()
				}
				return window
			})
			var ue *UnavailableError
			if !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
				t.Errorf("err %v, want context.Canceled (a stop, exit 130), not an outage", err)
			}
		})
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(3*time.Second, cancel)
			err := readAgain(ctx, zap.NewNop(), "it", func() error { return window })
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err %v, want context.Canceled", err)
			}
		})
	})
}

// TestOpenInputIsWatched: a regular file is read through a watch.File,
// whose Unfinished the run consults once the import is done.
func TestOpenInputIsWatched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hourAgo := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}
	in, _, _, watched, err := openInput(context.Background(), path, false, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if watched == nil || in != io.ReadCloser(watched) {
		t.Fatalf("openInput returned %T and watched %v; want the watch.File for both", in, watched)
	}
	if b, err := io.ReadAll(in); err != nil || string(b) != "a,b\n1,2\n" || watched.Unfinished() != nil {
		t.Errorf("read %q, %v, unfinished %v", b, err, watched.Unfinished())
	}
}
