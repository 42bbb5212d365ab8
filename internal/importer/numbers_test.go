package importer

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
)

// TestAmbiguousNumbers: in a file delimited by ";", as Excel writes it
// where the decimal mark is a comma, "1.234" in a number column may be
// 1234: unless the mapping says which decimal mark the column uses, the
// row fails (AMBIGUOUS_NUMBER) rather than send a price a thousand times
// too small. "0.125" or "2.5" are no thousands, and go. A comma-delimited
// file, or a mapping that names the decimal mark, sends the value as the
// mapping reads it.
func TestAmbiguousNumbers(t *testing.T) {
	const semicolons = "name;price;hs_sku\nA;1.234;S-1\nB;0.125;S-2\nC;2.5;S-3\n"
	for _, c := range []struct {
		name, input, mapping string
		failed               map[int]string    // row → code
		prices               map[string]string // SKU → price sent
		unread               bool              // the portal's definitions are not read (no scope, or a dry run)
	}{
		{"semicolons, no mapping", semicolons, "", map[int]string{1: CodeAmbiguousNumber},
			map[string]string{"S-2": "0.125", "S-3": "2.5"}, false},
		{"semicolons, type number without a decimal mark", semicolons, "properties: {name: name, hs_sku: hs_sku, price: {column: price, type: number}}\n",
			map[int]string{1: CodeAmbiguousNumber}, map[string]string{"S-2": "0.125", "S-3": "2.5"}, false},
		{"semicolons, decimal comma", semicolons, "properties: {name: name, hs_sku: hs_sku, price: {column: price, type: number, decimal: \",\", thousands: \".\"}}\n",
			map[int]string{2: "INVALID_VALUE", 3: "INVALID_VALUE"}, map[string]string{"S-1": "1234"}, false},
		{"semicolons, decimal point", semicolons, "properties: {name: name, hs_sku: hs_sku, price: {column: price, type: number, decimal: \".\"}}\n",
			nil, map[string]string{"S-1": "1.234", "S-2": "0.125", "S-3": "2.5"}, false},
		{"semicolons, a thousands separator other than \".\"", semicolons, "properties: {name: name, hs_sku: hs_sku, price: {column: price, type: number, thousands: \",\"}}\n",
			nil, map[string]string{"S-1": "1.234", "S-2": "0.125", "S-3": "2.5"}, false},
		{"semicolons, a default for empty cells", "name;price;hs_sku\nA;;S-1\n", "properties: {name: name, hs_sku: hs_sku, price: {column: price, type: number, default: \"1.500\"}}\n",
			nil, map[string]string{"S-1": "1.500"}, false},
		{"semicolons, a currency", "name;price;hs_sku\nA;€ 1.234;S-1\n", "properties: {name: name, hs_sku: hs_sku, price: {column: price, type: number, currency: \"€\"}}\n",
			map[int]string{1: CodeAmbiguousNumber}, map[string]string{}, false},
		{"commas", strings.ReplaceAll(semicolons, ";", ","), "", nil,
			map[string]string{"S-1": "1.234", "S-2": "0.125", "S-3": "2.5"}, false},
		{"semicolons, no mapping, the portal's definitions unread: HubSpot's own number properties", semicolons, "",
			map[int]string{1: CodeAmbiguousNumber}, map[string]string{"S-2": "0.125", "S-3": "2.5"}, true},
		{"semicolons, untyped mapping, the portal's definitions unread", "name;Preis;hs_sku\nA;1.234;S-1\n", "properties: {name: name, hs_sku: hs_sku, price: Preis}\n",
			map[int]string{1: CodeAmbiguousNumber}, map[string]string{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			emu := newPortal(emulator.Config{RateMax: -1})
			o := withPortalSchema(t, emu, c.input)
			if c.unread {
				o.Schema = nil
			}
			if c.mapping != "" {
				var err error
				if o.Mapping, err = mapping.Load(strings.NewReader(c.mapping)); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := Run(context.Background(), o)
			if sum == nil {
				t.Fatal(err)
			}
			failed := reportRows(t, o.OutDir, report.FailedFile)
			if fmt.Sprint(failed) != fmt.Sprint(c.failed) && !(len(failed) == 0 && len(c.failed) == 0) {
				t.Errorf("failed rows %v, want %v", failed, c.failed)
			}
			prices := map[string]string{}
			for _, li := range emu.LineItems() {
				prices[li.Properties["hs_sku"]] = li.Properties["price"]
			}
			if fmt.Sprint(prices) != fmt.Sprint(c.prices) {
				t.Errorf("prices sent %v, want %v", prices, c.prices)
			}
		})
	}
}

// TestAmbiguousNumberFedBack: failed.csv is comma-delimited whatever the
// file it came from. Fed back unchanged, a row refused as AMBIGUOUS_NUMBER
// is refused again, not sent as 1.234; with the column's decimal mark in
// the mapping it goes as the mapping reads it.
func TestAmbiguousNumberFedBack(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1})
	run := func(input, spec string) (*report.Summary, string) {
		t.Helper()
		o := withPortalSchema(t, emu, input)
		if spec != "" {
			var err error
			if o.Mapping, err = mapping.Load(strings.NewReader(spec)); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := Run(context.Background(), o)
		if sum == nil {
			t.Fatal(err)
		}
		failed, _ := os.ReadFile(filepath.Join(o.OutDir, report.FailedFile))
		return sum, string(failed)
	}
	sum, failed := run("name;price;hs_sku\nA;1.234;S-1\n", "")
	if sum.Failed != 1 || !strings.Contains(failed, CodeAmbiguousNumber) {
		t.Fatalf("first run: %+v\n%s", sum, failed)
	}
	sum, again := run(failed, "")
	if sum.Failed != 1 || !strings.Contains(again, CodeAmbiguousNumber) || len(emu.LineItems()) != 0 {
		t.Fatalf("failed.csv fed back unchanged: %+v, portal %d\n%s", sum, len(emu.LineItems()), again)
	}
	sum, _ = run(failed, "properties: {name: name, hs_sku: hs_sku, price: {column: price, type: number, decimal: \",\", thousands: \".\"}}\n")
	if sum.Created != 1 || len(emu.LineItems()) != 1 || emu.LineItems()[0].Properties["price"] != "1234" {
		t.Fatalf("fed back with the decimal mark in the mapping: %+v, %v", sum, emu.LineItems())
	}
}

// TestAmbiguousNumberComesFirst: a row with an ambiguous number and another
// problem (a date the mapping cannot read) is refused as AMBIGUOUS_NUMBER,
// naming both: refused for the date alone, it would come back in a
// comma-delimited failed.csv with the date fixed and go as 1.234. A row an
// earlier run sent without a clear answer, and that tonight's file gives
// an ambiguous number, stays in doubt: not looked up and resent as 1.234.
func TestAmbiguousNumberComesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 3})
		client := inMemory(t, emu, time.Minute)
		spec := "properties: {name: name, hs_sku: hs_sku, price: {column: price, type: number}, hs_recurring_billing_start_date: {column: start, type: date, format: \"02.01.2006\"}}\nkey: hs_sku\n"
		m, err := mapping.Load(strings.NewReader(spec))
		if err != nil {
			t.Fatal(err)
		}
		o := keyed(t, emu, withJournal(options(t, []byte("name;price;hs_sku;start\nA;1.234;S-1;31.13.2026\nB;2;S-2;01.02.2026\n"), client)), client)
		o.Mapping = m
		emu.SetFaults(emulator.Faults{ErrorRate: 1, ErrorStatuses: []int{502}}) // S-2: in doubt, not created
		sum, err := Run(context.Background(), o)
		failed := readCSV(t, filepath.Join(o.OutDir, report.FailedFile))
		if sum == nil || sum.Failed != 1 || sum.InDoubt != 1 || len(failed) != 2 || failed[1][len(failed[1])-2] != CodeAmbiguousNumber ||
			!strings.Contains(failed[1][len(failed[1])-1], "also") {
			t.Fatalf("first run: %v %+v\n%v", err, sum, failed)
		}
		emu.SetFaults(emulator.Faults{})
		o.Input = strings.NewReader("name;price;hs_sku;start\nB;2.500;S-2;01.02.2026\n")
		sum, err = Run(context.Background(), o)
		doubt := readCSV(t, filepath.Join(o.OutDir, report.InDoubtFile))
		if sum == nil || sum.InDoubt != 1 || len(emu.LineItems()) != 0 || doubt[1][len(doubt[1])-2] != CodeAmbiguousNumber {
			t.Fatalf("second run: %v %+v, portal %d\n%v", err, sum, len(emu.LineItems()), doubt)
		}
	})
}

// TestMalformedRowFedBack: a row that could not be read in its own file
// comes back in failed.csv with its cells as well as they could be read.
// Fed back as it is, or with only raw_line fixed, it is refused again
// (its raw line kept), not sent with a stray quote in its name; once its
// cells are put right and its error_code emptied, it is created.
func TestMalformedRowFedBack(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1})
	run := func(input string) (*report.Summary, [][]string) {
		t.Helper()
		o := withPortalSchema(t, emu, input)
		sum, err := Run(context.Background(), o)
		if sum == nil {
			t.Fatal(err)
		}
		return sum, readCSV(t, filepath.Join(o.OutDir, report.FailedFile))
	}
	sum, failed := run("name;price;hs_sku\nWidget;2;S-1\n\"Gadget;3;S-2\n")
	if sum.Created != 1 || sum.Failed != 1 || failed[1][len(failed[1])-2] != CodeMalformed {
		t.Fatalf("first run: %+v\n%v", sum, failed)
	}
	header, row := failed[0], failed[1]
	rawAt := slices.Index(header, "raw_line")
	if rawAt < 0 || row[rawAt] != `"Gadget;3;S-2` {
		t.Fatalf("raw_line: %v %v", header, row)
	}
	feed := func(row []string) string {
		var b strings.Builder
		w := csv.NewWriter(&b)
		w.Write(header)
		w.Write(row)
		w.Flush()
		return b.String()
	}
	fixedRaw := slices.Clone(row)
	fixedRaw[rawAt] = "Gadget;3;S-2"
	for name, again := range map[string][]string{"unchanged": row, "raw_line fixed": fixedRaw} {
		sum, refused := run(feed(again))
		if sum.Failed != 1 || len(emu.LineItems()) != 1 || refused[1][len(refused[1])-2] != CodeMalformed || refused[1][rawAt] != again[rawAt] {
			t.Fatalf("fed back %s: %+v, portal %d\n%v", name, sum, len(emu.LineItems()), refused)
		}
	}
	fixed := slices.Clone(row)
	fixed[slices.Index(header, "name")], fixed[slices.Index(header, "price")], fixed[slices.Index(header, "hs_sku")] = "Gadget", "3", "S-2"
	fixed[slices.Index(header, "error_code")] = ""
	sum, _ = run(feed(fixed))
	items := emu.LineItems()
	if sum.Created != 1 || len(items) != 2 || items[1].Properties["name"] != "Gadget" || items[1].Properties["price"] != "3" {
		t.Fatalf("fed back with its cells fixed: %+v, %v", sum, items)
	}
}

// TestMalformedRowFedBackAfterItsFileWasFixed: with a key, a malformed row
// whose key an earlier run created since (the file it came from was fixed
// and run again) is carried over when the old failed.csv is fed back,
// created earlier with its id, not refused again.
func TestMalformedRowFedBackAfterItsFileWasFixed(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1})
	client := inMemory(t, emu, time.Minute)
	o := keyed(t, emu, withJournal(options(t, nil, client)), client)
	spec, err := mapping.Load(strings.NewReader("properties: {name: name, price: {column: price, type: number}, hs_sku: hs_sku}\nkey: hs_sku\n"))
	if err != nil {
		t.Fatal(err)
	}
	o.Mapping = spec
	run := func(input string) *report.Summary {
		t.Helper()
		o.Input = strings.NewReader(input)
		sum, err := Run(context.Background(), o)
		if sum == nil {
			t.Fatal(err)
		}
		return sum
	}
	if sum := run("name;price;hs_sku\nWidget;2;S-1\nGadget;3;\"S-2\n"); sum.Failed != 1 || sum.Created != 1 {
		t.Fatalf("first run: %+v", sum)
	}
	failed, err := os.ReadFile(filepath.Join(o.OutDir, report.FailedFile))
	if err != nil {
		t.Fatal(err)
	}
	if sum := run("name;price;hs_sku\nWidget;2;S-1\nGadget;3;S-2\n"); sum.Created != 2 || len(emu.LineItems()) != 2 {
		t.Fatalf("the fixed file: %+v, portal %d", sum, len(emu.LineItems()))
	}
	sum := run(string(failed))
	created := readCSV(t, filepath.Join(o.OutDir, report.CreatedFile))
	if sum.Created != 1 || sum.Failed != 0 || len(emu.LineItems()) != 2 || len(created) != 2 || created[1][len(created[1])-1] != "earlier" {
		t.Fatalf("the old failed.csv fed back: %+v, portal %d\n%v", sum, len(emu.LineItems()), created)
	}
}
