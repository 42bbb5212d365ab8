package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/sample"
	"github.com/lineitems/importer/internal/upload"
)

var update = flag.Bool("update", false, "rewrite golden files")

const token = "pat-test-0123456789"

func newPortal(cfg emulator.Config) *emulator.Server {
	cfg.Token = token
	emu := emulator.New(cfg)
	emu.SeedObjects("deals", sample.DealIDs()...)
	return emu
}

func sampleSpec(t testing.TB) *mapping.Spec {
	s, err := mapping.Load(strings.NewReader(sample.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func generate(t testing.TB, n int, seed uint64) []byte {
	var b bytes.Buffer
	if err := sample.Write(&b, n, seed, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// inMemory returns a client that reaches emu without sockets, for tests
// inside synctest bubbles.
func inMemory(t testing.TB, emu *emulator.Server, timeout time.Duration) *hubspot.Client {
	c, err := hubspot.NewClient(&http.Client{Transport: emu.Transport(), Timeout: timeout}, "http://127.0.0.1", hubspot.NewToken(token), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func options(t testing.TB, input []byte, sender Sender) Options {
	return Options{
		Input: bytes.NewReader(input), InputName: "test.csv", Mapping: sampleSpec(t), OutDir: t.TempDir(),
		BatchSize: 100, Workers: 4, Rate: 0, Sender: sender, Policy: upload.DefaultPolicy,
	}
}

func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkAccounting asserts that the reports account for every one of n rows
// exactly once and that created.csv matches the portal's contents: the same
// ids, none missing, none twice.
func checkAccounting(t *testing.T, dir string, n int, sum *report.Summary, emu *emulator.Server) {
	t.Helper()
	rows := map[string]string{}
	for _, name := range []string{report.CreatedFile, report.FailedFile, report.InDoubtFile, report.NotSentFile} {
		recs := readCSV(t, filepath.Join(dir, name))
		for _, rec := range recs[1:] {
			row := rec[0]
			if name != report.CreatedFile {
				row = rec[len(rec)-3]
			}
			if prev, ok := rows[row]; ok {
				t.Fatalf("row %s in %s and %s", row, prev, name)
			}
			rows[row] = name
		}
	}
	if len(rows) != n {
		t.Fatalf("reports account for %d rows, want %d", len(rows), n)
	}
	if sum.Rows != n || sum.Created+sum.Failed+sum.InDoubt+sum.NotSent != n {
		t.Fatalf("summary rows %d = %d + %d + %d + %d, want %d", sum.Rows, sum.Created, sum.Failed, sum.InDoubt, sum.NotSent, n)
	}
	if emu == nil {
		return
	}
	ids := map[string]bool{}
	for _, rec := range readCSV(t, filepath.Join(dir, report.CreatedFile))[1:] {
		if ids[rec[1]] {
			t.Fatalf("id %s twice in created.csv", rec[1])
		}
		ids[rec[1]] = true
	}
	items := emu.LineItems()
	for _, li := range items {
		if !ids[li.ID] && sum.InDoubt == 0 {
			t.Errorf("line item %s (trace %s) is in the portal but not in created.csv", li.ID, li.TraceID)
		}
		delete(ids, li.ID)
	}
	if len(ids) > 0 {
		t.Errorf("created.csv names %d ids the portal does not have", len(ids))
	}
}

func TestImport10000Rows(t *testing.T) {
	for _, v := range versions {
		t.Run(string(v), func(t *testing.T) { import10000Rows(t, v) })
	}
}

// import10000Rows is TestImport10000Rows through API version v, over a
// real socket.
func import10000Rows(t *testing.T, v hubspot.APIVersion) {
	emu := newPortal(emulator.Config{RateMax: -1, Seed: 1})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	log := &pathLog{next: srv.Client().Transport}
	client, err := hubspot.NewClient(&http.Client{Transport: log}, srv.URL, hubspot.NewToken(token), "test")
	if err != nil {
		t.Fatal(err)
	}
	client.UseAPIVersion(v)
	defer log.checkVersion(t, v)
	const n = 10000
	input := generate(t, n, 7)
	o := options(t, input, client)
	sum, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Created != n || sum.Failed != 0 || sum.InDoubt != 0 || sum.Requests != n/100 {
		t.Fatalf("summary = %+v", sum)
	}
	checkAccounting(t, o.OutDir, n, sum, emu)

	// Every line item carries its row's values, converted as the mapping says.
	recs := readCSV(t, filepath.Join(o.OutDir, report.CreatedFile))
	byID := map[string][]string{}
	for _, rec := range recs[1:] {
		byID[rec[1]] = rec[2:]
	}
	items := emu.LineItems()
	if len(items) != n {
		t.Fatalf("portal has %d line items", len(items))
	}
	for _, li := range items {
		row := byID[li.ID] // SKU, Product, Description, Qty, Unit Price, Discount %, Currency, Billing, Start, Deal ID
		p := li.Properties
		if p["hs_sku"] != row[0] || p["name"] != row[1] || p["quantity"] != row[3] || p["price"] != row[4] || p["hs_line_item_currency_code"] != row[6] {
			t.Fatalf("line item %s = %v, row %q", li.ID, p, row)
		}
		if row[8] != "" {
			d, _ := time.Parse("01/02/2006", row[8])
			if p["hs_recurring_billing_start_date"] != d.Format(time.DateOnly) {
				t.Fatalf("start date %q from %q", p["hs_recurring_billing_start_date"], row[8])
			}
		}
		wantBilling := map[string]string{"Monthly": "monthly", "Quarterly": "quarterly", "Yearly": "annually", "": ""}[row[7]]
		if p["recurringbillingfrequency"] != wantBilling {
			t.Fatalf("billing %q from %q", p["recurringbillingfrequency"], row[7])
		}
		switch {
		case row[9] == "" && len(li.Associations) != 0:
			t.Fatalf("line item %s has associations %v but no deal", li.ID, li.Associations)
		case row[9] != "" && (len(li.Associations) != 1 || li.Associations[0].ToID != row[9] || li.Associations[0].TypeID != 20 || li.Associations[0].ToType != "deals"):
			t.Fatalf("line item %s associations %+v, want deal %s", li.ID, li.Associations, row[9])
		}
	}
}

func TestSampleFailures(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1, Seed: 3})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	client, _ := hubspot.NewClient(srv.Client(), srv.URL, hubspot.NewToken(token), "test")
	input, err := os.ReadFile("../../samples/line_items.csv")
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := sample.WriteSample(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(input, want.Bytes()) {
		t.Fatal("samples/line_items.csv is not what `go run ./cmd/gencsv --sample` writes")
	}
	o := options(t, input, client)
	sum, err := Run(context.Background(), o)
	var ie *IncompleteError
	if !errors.As(err, &ie) || ie.Failed != len(sample.Problems) {
		t.Fatalf("err = %v", err)
	}
	checkAccounting(t, o.OutDir, sample.SampleRows, sum, emu)
	failed := readCSV(t, filepath.Join(o.OutDir, report.FailedFile))
	rows := failed[1:]
	rowCol := len(failed[0]) - 3 // error_row
	sort.Slice(rows, func(i, j int) bool { return atoi(rows[i][rowCol]) < atoi(rows[j][rowCol]) })
	var got bytes.Buffer
	w := csv.NewWriter(&got)
	_ = w.Write(failed[0])
	for _, r := range rows {
		if _, ok := sample.Problems[atoi(r[rowCol])]; !ok {
			t.Errorf("row %s failed but is not a planted problem: %v", r[rowCol], r)
		}
		_ = w.Write(r)
	}
	w.Flush()
	golden := filepath.Join("testdata", "sample_failed.csv")
	if *update {
		_ = os.MkdirAll("testdata", 0o755)
		_ = os.WriteFile(golden, got.Bytes(), 0o644)
	}
	wantFailed, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), wantFailed) {
		t.Errorf("failed.csv (sorted by row):\n%s\nwant:\n%s", got.Bytes(), wantFailed)
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// TestRetriesToSuccess runs against 30% 423s and 10% injected 429s, answers
// that prove HubSpot did nothing: every row is created once, and every such
// answer was followed by a resend, none given up on. (How many of each
// come depends on which worker draws first, which the bubble does not fix.)
func TestRetriesToSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 11})
		emu.SetFaults(emulator.Faults{ErrorRate: 0.3, ErrorStatuses: []int{423}, RateLimitRate: 0.1})
		const n = 3000
		o := options(t, generate(t, n, 3), inMemory(t, emu, time.Minute))
		o.Policy.MaxAttempts = 20
		sum, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("Run: %v (summary %+v)", err, sum)
		}
		st := emu.Stats()
		if sum.Created != n || st.Faults == 0 || sum.Retries != st.Faults || sum.Throttled != st.Throttled {
			t.Fatalf("summary = %+v; portal: %+v; want every row created and a resend after each of the portal's faults", sum, st)
		}
		if got := len(emu.LineItems()); got != n {
			t.Fatalf("portal has %d line items", got)
		}
		checkAccounting(t, o.OutDir, n, sum, emu)
	})
}

// TestRateLimitNeverExceeded imports 300 batches into a free-tier portal
// (100 requests per rolling 10 s) with the default --rate of 9 per second,
// that is at most 90 requests in any 10 s window.
func TestRateLimitNeverExceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: 100, RateInterval: 10 * time.Second, Seed: 5})
		const n = 30000
		o := options(t, generate(t, n, 9), inMemory(t, emu, time.Minute))
		o.Rate = 9
		start := time.Now()
		sum, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		st := emu.Stats()
		if sum.Created != n || sum.Throttled != 0 || st.Throttled != 0 || st.MaxInWindow > 100 {
			t.Fatalf("summary %+v, emulator %+v", sum, st)
		}
		// 90 per window: requests 271 to 300 cannot start before 30 s on the
		// fake clock. The pacer, not luck, kept the portal under its limit.
		if el := time.Since(start); el < 30*time.Second {
			t.Errorf("took %v on the fake clock; the requests were not paced", el)
		}
	})
}

// TestSplittingStaysUnderTheRateLimit: batches rejected as a whole (an
// association to a missing deal) are split until the bad row is alone; the
// extra requests still go through the shared limiter.
func TestSplittingStaysUnderTheRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: 100, RateInterval: 10 * time.Second, Seed: 6})
		const n = 10000
		var b bytes.Buffer
		if err := sample.Write(&b, n, 12, func(i int, r *sample.Row) {
			if i%250 == 0 {
				r.DealID = "999999"
			}
		}); err != nil {
			t.Fatal(err)
		}
		o := options(t, b.Bytes(), inMemory(t, emu, time.Minute))
		o.Rate = 9
		sum, err := Run(context.Background(), o)
		var ie *IncompleteError
		if !errors.As(err, &ie) || sum.Failed != n/250 || sum.Created != n-n/250 {
			t.Fatalf("err %v, summary %+v", err, sum)
		}
		st := emu.Stats()
		if sum.Requests <= n/100 || st.Throttled != 0 || st.MaxInWindow > 100 {
			t.Fatalf("requests %d (no splitting?), emulator %+v", sum.Requests, st)
		}
		checkAccounting(t, o.OutDir, n, sum, emu)
	})
}

func TestBadTokenStops(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	client, _ := hubspot.NewClient(srv.Client(), srv.URL, hubspot.NewToken("pat-wrong-secret"), "test")
	o := options(t, generate(t, 500, 1), client)
	sum, err := Run(context.Background(), o)
	var se *upload.StopError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "pat-wrong-secret") {
		t.Errorf("message %q", err)
	}
	if len(emu.LineItems()) != 0 || sum.Created != 0 {
		t.Fatalf("created %d", sum.Created)
	}
	checkAccounting(t, o.OutDir, sum.Rows, sum, nil)
}

func TestDailyLimitStopsCleanly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, DailyLimit: 5, Seed: 2})
		o := options(t, generate(t, 2000, 4), inMemory(t, emu, time.Minute))
		o.Workers = 1
		sum, err := Run(context.Background(), o)
		var se *upload.StopError
		if !errors.As(err, &se) || se.Code != "DAILY_LIMIT" {
			t.Fatalf("err = %v", err)
		}
		if sum.Created != 500 || len(emu.LineItems()) != 500 {
			t.Fatalf("created %d, portal %d", sum.Created, len(emu.LineItems()))
		}
		checkAccounting(t, o.OutDir, sum.Rows, sum, emu)
		if sum.Stopped == "" {
			t.Error("summary does not say why the run stopped")
		}
	})
}

func TestInDoubtAfterCommitThenError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 8})
		emu.SetFaults(emulator.Faults{CommitThenErrorRate: 0.1, CommitThenDrop: 0.1})
		const n = 2000
		o := options(t, generate(t, n, 5), inMemory(t, emu, time.Minute))
		sum, err := Run(context.Background(), o)
		var ie *IncompleteError
		if !errors.As(err, &ie) || sum.InDoubt == 0 {
			t.Fatalf("err = %v, summary %+v", err, sum)
		}
		// Nothing is resent, so nothing is duplicated: the portal holds every
		// created row and every in-doubt row exactly once.
		if got := len(emu.LineItems()); got != sum.Created+sum.InDoubt {
			t.Fatalf("portal has %d line items, created %d + in doubt %d", got, sum.Created, sum.InDoubt)
		}
		checkAccounting(t, o.OutDir, n, sum, emu)
	})
}

func TestSetupErrors(t *testing.T) {
	cases := []struct {
		name, input, mapping, want string
	}{
		{"empty file", "", "", "empty"},
		{"mapping names a missing column", "SKU,Product\n1,a\n", sample.Mapping, `no column "Qty"`},
		{"identity with duplicate headers", "name,name\n1,2\n", "", `appears more than once`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Input: strings.NewReader(tc.input), OutDir: t.TempDir(), BatchSize: 100, Workers: 1, DryRun: true}
			if tc.mapping != "" {
				o.Mapping, _ = mapping.Load(strings.NewReader(tc.mapping))
			}
			_, err := Run(context.Background(), o)
			var se *SetupError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a SetupError with %q", err, tc.want)
			}
		})
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	input, _ := os.ReadFile("../../samples/line_items.csv")
	o := options(t, input, nil)
	o.DryRun = true
	sum, err := Run(context.Background(), o)
	var ie *IncompleteError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v", err)
	}
	// Rows rejected before sending are failed; the rest would be sent.
	local := 4 // Fortnightly, 1,299.00, ragged row, 02/30/2026
	if sum.Failed != local || sum.Extra["would_send"] != sample.SampleRows-local || sum.Requests != 0 {
		t.Fatalf("summary %+v", sum)
	}
	data, err := os.ReadFile(filepath.Join(o.OutDir, BatchesFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(data, []byte("\n")); lines != 3 {
		t.Errorf("%d batches in %s, want 3", lines, BatchesFile)
	}
}

// TestLastSummaryRemoved checks that the last run's summaries go when this
// run's reports replace its reports: a run killed before it writes its own
// summary must not leave one that describes other reports.
func TestLastSummaryRemoved(t *testing.T) {
	input, _ := os.ReadFile("../../samples/line_items.csv")
	o := options(t, input, nil)
	o.DryRun = true
	inOut := filepath.Join(o.OutDir, report.SummaryFile)
	elsewhere := filepath.Join(t.TempDir(), "nightly-summary.json")
	absent := filepath.Join(t.TempDir(), "never-written.json")
	for _, p := range []string{inOut, elsewhere} {
		if err := os.WriteFile(p, []byte(`{"exit_code":0}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o.Summaries = []string{inOut, elsewhere, absent}
	if _, err := Run(context.Background(), o); err != nil && !errors.As(err, new(*IncompleteError)) {
		t.Fatalf("err = %v", err)
	}
	for _, p := range o.Summaries {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: stat err = %v, want the last run's summary removed", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(o.OutDir, report.FailedFile)); err != nil {
		t.Errorf("this run's report: %v", err)
	}
}
