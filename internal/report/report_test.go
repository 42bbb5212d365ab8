package report

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestReportsGolden(t *testing.T) {
	var created, failed, inDoubt, notSent bytes.Buffer
	w, err := NewWriter(&created, &failed, &inDoubt, &notSent, []string{"SKU", "Product", "Unit Price"})
	if err != nil {
		t.Fatal(err)
	}
	outs := []Outcome{
		{Row: 1, Record: []string{"SKU-1", "Widget", "10.00"}, Status: Created, ID: "36001"},
		{Row: 2, Record: []string{"SKU-2", "Gadget, large", "-1"}, Status: Failed, Code: "INVALID_VALUE", Message: `price: "-1" is negative`},
		{Row: 3, Record: []string{"SKU-3", "Multi\nline", "5"}, Status: InDoubt, Code: "HTTP_502", Message: "no clear answer"},
		{Row: 4, Record: []string{"SKU-4"}, Status: Failed, Code: "MALFORMED_ROW", Message: "record has 1 fields"},
		{Row: 5, Record: []string{"SKU-5", "Thing", "1"}, Status: Created, ID: "36002", Earlier: true},
		{Row: 6, Record: []string{"SKU-6", "Late", "2"}, Status: NotSent, Code: "NOT_SENT", Message: "not sent: the run stopped"},
	}
	if err := w.Record(outs[:2]...); err != nil {
		t.Fatal(err)
	}
	// Outcomes are on disk (here: in the buffers) as soon as Record returns.
	if !strings.Contains(created.String(), "36001") || !strings.Contains(failed.String(), "SKU-2") {
		t.Fatal("Record did not flush")
	}
	if err := w.Record(outs[2:]...); err != nil {
		t.Fatal(err)
	}
	golden(t, "created.csv", created.Bytes())
	golden(t, "failed.csv", failed.Bytes())
	golden(t, "in_doubt.csv", inDoubt.Bytes())
	golden(t, "not_sent.csv", notSent.Bytes())
	c := w.Counts()
	if c.Rows != 6 || c.Created != 2 || c.Failed != 2 || c.InDoubt != 1 || c.NotSent != 1 || c.Earlier != 1 || c.Codes["HTTP_502"] != 1 || c.Codes["NOT_SENT"] != 1 {
		t.Errorf("counts = %+v", c)
	}
}

// TestUpsertActionsGolden: an upsert import's created.csv says what the
// upsert did with each row.
func TestUpsertActionsGolden(t *testing.T) {
	var created bytes.Buffer
	w, err := NewWriter(&created, io.Discard, io.Discard, io.Discard, []string{"Key", "Product"}, WithActions())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Record(
		Outcome{Row: 1, Record: []string{"K-1", "Widget"}, Status: Created, ID: "36001", Action: ActionCreated},
		Outcome{Row: 2, Record: []string{"K-2", "Gadget"}, Status: Created, ID: "35000", Action: ActionUpdated},
		Outcome{Row: 3, Record: []string{"K-3", "Thing"}, Status: Created, ID: "35001", Action: ActionUpserted},
		Outcome{Row: 4, Record: []string{"K-4", "Old"}, Status: Created, ID: "34000", Earlier: true, Action: ActionUnchanged},
	); err != nil {
		t.Fatal(err)
	}
	golden(t, "created-upsert.csv", created.Bytes())
}

func TestRecordRejectsNoOutcome(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, &b, &b, &b, []string{"a"})
	if err := w.Record(Outcome{Row: 1}); err == nil {
		t.Error("an outcome without a status was accepted")
	}
}

func TestConcurrentRecord(t *testing.T) {
	var created, failed, inDoubt, notSent bytes.Buffer
	w, _ := NewWriter(&created, &failed, &inDoubt, &notSent, []string{"a"})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				_ = w.Record(Outcome{Row: g*100 + i + 1, Record: []string{"x"}, Status: Created, ID: "1"})
			}
		})
	}
	wg.Wait()
	if n := strings.Count(created.String(), "\n"); n != 801 {
		t.Errorf("%d lines, want 801", n)
	}
}

func TestCreateFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	w, err := Create(dir, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := WriteSummaryFile(filepath.Join(dir, SummaryFile), Summary{Rows: 1}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CreatedFile, FailedFile, InDoubtFile, SummaryFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}

func TestSummaryGolden(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	s := Summary{Input: "in.csv", OutDir: "in.import", StartedAt: at, FinishedAt: at.Add(2 * time.Second),
		Rows: 10, Created: 7, Failed: 2, InDoubt: 1, Requests: 3, Retries: 1, Throttled: 1, Batches: 2,
		ElapsedSeconds: 2, RowsPerSecond: 5, ErrorCodes: TopCodes(map[string]int{"INVALID_OPTION": 1, "HTTP_502": 1, "INVALID_VALUE": 1}),
		ExitCode: 3}
	var b bytes.Buffer
	if err := WriteSummary(&b, s); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.json", b.Bytes())
}

// TestSort: reports are rewritten in input order, every record and every
// byte of its cells kept (cells with commas, quotes and newlines too).
func TestSort(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, []string{"SKU", "Note"})
	if err != nil {
		t.Fatal(err)
	}
	rows := []int{5, 2, 9, 1, 7, 3}
	for _, r := range rows {
		rec := []string{fmt.Sprint("SKU-", r), fmt.Sprintf("line one, \"quoted\"\nline %d", r)}
		outs := []Outcome{{Row: r, Record: rec, Status: Created, ID: fmt.Sprint(100 + r)},
			{Row: r + 100, Record: rec, Status: Failed, Code: "X", Message: "bad"}}
		if err := w.Record(outs...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, CreatedFile))
	if err := Sort(dir); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		col  func([]string) string
		add  int
		note int // the column of the Note cell
	}{
		{CreatedFile, func(r []string) string { return r[0] }, 0, 3},
		{FailedFile, func(r []string) string { return r[len(r)-3] }, 100, 1},
	} {
		f, _ := os.Open(filepath.Join(dir, tc.name))
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) != len(rows)+1 {
			t.Fatalf("%s: %d records, %v", tc.name, len(recs), err)
		}
		prev := 0
		for _, rec := range recs[1:] {
			n, _ := strconv.Atoi(tc.col(rec))
			if n <= prev || !strings.HasSuffix(rec[tc.note], fmt.Sprintf("line %d", n-tc.add)) {
				t.Fatalf("%s: record %v out of order or changed", tc.name, rec)
			}
			prev = n
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, CreatedFile))
	if len(after) != len(before) || bytes.Equal(after, before) {
		t.Errorf("created.csv: %d bytes before, %d after; want the same bytes in another order", len(before), len(after))
	}
	if fi, _ := os.Stat(filepath.Join(dir, FailedFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}
