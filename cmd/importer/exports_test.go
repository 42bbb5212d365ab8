package main

import (
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/sample"
)

// TestExportsAsPeopleWriteThem imports, with the binary, files as
// spreadsheets and CRMs export them (internal/rows/testdata): Excel in much
// of Europe (";", Windows-1252, decimal commas, day-first dates, blank
// trailing rows), Excel's "Unicode text" (UTF-16 with a byte order mark,
// tab-delimited), and a file with a stray opening quote.
func TestExportsAsPeopleWriteThem(t *testing.T) {
	bin := buildBinary(t)
	root := repoRoot(t)
	data := filepath.Join(root, "internal", "rows", "testdata")
	cases := []struct {
		name     string
		file     string
		mapping  string
		args     []string
		exit     int
		created  int
		failed   int
		skipped  int
		names    []string          // line item names the portal must hold
		prices   map[string]string // SKU → the price the portal holds, when set
		output   []string          // in the command's output
		rowsRead int
	}{
		{
			name: "Excel in Europe, without --encoding", file: "excel-europe.csv",
			mapping: "properties: {name: Produkt}\n", exit: 1,
			output: []string{"windows-1252", "--encoding"},
		},
		{
			name: "Excel in Europe", file: "excel-europe.csv", args: []string{"--encoding", "windows-1252"},
			mapping: "properties:\n  hs_sku: SKU\n  name: Produkt\n  description: Beschreibung\n" +
				"  quantity: {column: Menge, type: number}\n" +
				"  price: {column: \"Einzelpreis (€)\", type: number, decimal: \",\", thousands: \".\"}\n" +
				"  hs_recurring_billing_start_date: {column: Start, type: date, format: \"02.01.2006\"}\n",
			exit: 0, created: 5, skipped: 3, rowsRead: 5,
			names:  []string{"Café Crème", "Support-Paket"},
			output: []string{`"delimiter":"semicolon"`, `"encoding":"windows-1252"`},
		},
		{
			// Prices written with "." between thousands, the mapping
			// silent on the decimal mark: 1.234 may be 1234. Refused,
			// not sent as 1.234.
			name: "Excel in Europe, thousands, no decimal mark in the mapping", file: "excel-europe-thousands.csv",
			mapping: "properties:\n  hs_sku: SKU\n  name: Produkt\n  quantity: {column: Menge, type: number}\n" +
				"  price: {column: Einzelpreis, type: number}\n",
			exit: 3, created: 1, failed: 2, rowsRead: 3,
			prices: map[string]string{"SKU-2": "89"},
			output: []string{"AMBIGUOUS_NUMBER"},
		},
		{
			name: "Excel in Europe, thousands, the decimal mark in the mapping", file: "excel-europe-thousands.csv",
			mapping: "properties:\n  hs_sku: SKU\n  name: Produkt\n  quantity: {column: Menge, type: number}\n" +
				"  price: {column: Einzelpreis, type: number, decimal: \",\", thousands: \".\"}\n",
			exit: 0, created: 3, rowsRead: 3,
			prices: map[string]string{"SKU-1": "1234", "SKU-2": "89", "SKU-3": "2499"},
		},
		{
			name: "Unicode text", file: "unicode-text.txt",
			mapping: "properties:\n  hs_sku: SKU\n  name: Product\n  quantity: {column: Qty, type: number}\n" +
				"  price: {column: Unit Price, type: number, decimal: \",\"}\n",
			// Row 3 writes 9.99 with a point, the others with a comma: it
			// fails, saying how.
			exit: 3, created: 4, failed: 1, rowsRead: 5,
			names:  []string{"Café Crème", "日本語ライセンス", "Two lines"},
			output: []string{`"delimiter":"tab"`, `utf-16le (byte order mark)`},
		},
		{
			name: "a stray opening quote", file: "stray-quote.csv", mapping: sample.Mapping,
			exit: 3, created: 48, failed: 2, rowsRead: 50,
			names: []string{"Onboarding package", "API add-on"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := emulator.New(emulator.Config{Token: "pat-x", RateMax: -1, Seed: 71})
			emu.SeedObjects("deals", sample.DealIDs()...)
			srv := httptest.NewServer(emu)
			defer srv.Close()
			dir := t.TempDir()
			m := filepath.Join(dir, "mapping.yaml")
			must(t, os.WriteFile(m, []byte(tc.mapping), 0o600))
			args := append([]string{"--base-url", srv.URL, "--rate", "0", "--log-format", "json", "--mapping", m, "--out", filepath.Join(dir, "out")}, tc.args...)
			cmd := exec.Command(bin, append(args, filepath.Join(data, tc.file))...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HUBSPOT_ACCESS_TOKEN=pat-x")
			out, err := cmd.CombinedOutput()
			if code := exitOf(err); code != tc.exit {
				t.Fatalf("exit %d, want %d\n%s", code, tc.exit, out)
			}
			for _, want := range tc.output {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if tc.exit == 1 {
				if n := emu.Stats().BatchCreates; n != 0 {
					t.Errorf("%d batches sent after a fatal error", n)
				}
				return
			}
			sum := (&cronWorld{t: t}).summary(filepath.Join(dir, "out"))
			if sum.Rows != tc.rowsRead || sum.Created != tc.created || sum.Failed != tc.failed || sum.Skipped != tc.skipped {
				t.Errorf("summary %+v; want %d rows, %d created, %d failed, %d skipped", sum, tc.rowsRead, tc.created, tc.failed, tc.skipped)
			}
			names := map[string]bool{}
			for _, li := range emu.LineItems() {
				names[li.Properties["name"]] = true
			}
			for _, n := range tc.names {
				if !names[n] {
					t.Errorf("the portal has no line item %q; it has %v", n, names)
				}
			}
			if tc.prices != nil {
				prices := map[string]string{}
				for _, li := range emu.LineItems() {
					prices[li.Properties["hs_sku"]] = li.Properties["price"]
				}
				if !maps.Equal(prices, tc.prices) {
					t.Errorf("the portal holds the prices %v, want %v", prices, tc.prices)
				}
			}
			if tc.failed > 0 {
				failed := readCSVFile(t, filepath.Join(dir, "out", "failed.csv"))
				for _, rec := range failed[1:] {
					raw, code := rec[len(rec)-4], rec[len(rec)-2]
					switch {
					case code == "MALFORMED_ROW" && (raw == "" || !strings.HasPrefix(raw, rec[0]+",") || rec[1] == ""):
						t.Errorf("malformed row not kept whole: %q", rec)
					case code == "AMBIGUOUS_NUMBER" && !strings.Contains(rec[len(rec)-1], "say which in the mapping"):
						t.Errorf("ambiguous row without a way to fix it: %q", rec)
					case code != "MALFORMED_ROW" && code != "AMBIGUOUS_NUMBER" && !strings.Contains(rec[len(rec)-1], "write it as"):
						t.Errorf("failed row without a way to fix it: %q", rec)
					}
				}
			}
		})
	}
}
