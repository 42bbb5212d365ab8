package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/schema"
	"github.com/lineitems/importer/internal/upload"
)

const badInputMapping = `
properties:
  name: Product
  price: {column: Price, type: number}
  hs_recurring_billing_start_date: {column: Start, type: date, format: "01/02/2006"}
  recurringbillingfrequency: {column: Billing, type: enum, values: {Monthly: monthly, Yearly: annually}}
associations:
  - {column: Deal, to: deal}
`

const goodRow = "Widget,10.50,03/15/2026,Monthly,1001"

// TestBadInput feeds one bad row between two good ones: the bad row fails
// with a message naming the row, the column and what was expected, and the
// good rows are created.
func TestBadInput(t *testing.T) {
	header := "Product,Price,Start,Billing,Deal"
	cases := []struct {
		name    string
		bad     string // the second data row, as raw CSV
		code    string
		message []string // substrings of error_message
	}{
		{"ragged row", "Widget,1,03/15/2026,Monthly,1001,extra", CodeMalformed, []string{"6 fields", "header has 5", `"extra"`}},
		{"short row", "Widget,1", CodeMalformed, []string{"2 fields"}},
		{"bad quoting", `Wid"get,1,03/15/2026,Monthly,1001`, CodeMalformed, []string{"line 3", `bare "`}},
		{"invalid UTF-8", "Wid\xffget,1,03/15/2026,Monthly,1001", CodeMalformed, []string{`column "Product"`, "UTF-8"}},
		{"field over 65,536 characters", strings.Repeat("x", 65537) + ",1,03/15/2026,Monthly,1001", "INVALID_VALUE", []string{`column "Product"`, "at most 65536 characters"}},
		{"thousands separator", `Widget,"1,234.50",03/15/2026,Monthly,1001`, "INVALID_VALUE", []string{`column "Price"`, `"1,234.50"`, "plain number"}},
		{"exponent", "Widget,12e3,03/15/2026,Monthly,1001", "INVALID_VALUE", []string{`column "Price"`, `"12e3"`, "plain number"}},
		{"date in the wrong format", "Widget,1,2026-03-15,Monthly,1001", "INVALID_VALUE", []string{`column "Start"`, `"2026-03-15"`, `"01/02/2006"`}},
		{"enum label not mapped", "Widget,1,03/15/2026,Weekly,1001", "INVALID_VALUE", []string{`column "Billing"`, `"Weekly"`, `"Monthly", "Yearly"`}},
		{"association id not a number", "Widget,1,03/15/2026,Monthly,D-7", "INVALID_VALUE", []string{`column "Deal"`, "record id"}},
		{"association to a missing deal (HubSpot rejects)", "Widget,1,03/15/2026,Monthly,999999", "VALIDATION_ERROR", []string{"associations are invalid"}},
		{"negative price (HubSpot rejects)", "Widget,-1,03/15/2026,Monthly,1001", "INVALID_VALUE", []string{"negative"}},
	}
	spec, err := mapping.Load(strings.NewReader(badInputMapping))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := newPortal(emulator.Config{RateMax: -1})
			input := header + "\n" + goodRow + "\n" + tc.bad + "\n" + strings.Replace(goodRow, "Widget", "Gadget", 1) + "\n"
			o := Options{Input: strings.NewReader(input), Mapping: spec, OutDir: t.TempDir(), BatchSize: 100, Workers: 1,
				Sender: inMemory(t, emu, 0), Policy: upload.DefaultPolicy}
			sum, err := Run(context.Background(), o)
			var ie *IncompleteError
			if !errors.As(err, &ie) || sum.Created != 2 || sum.Failed != 1 {
				t.Fatalf("err = %v, summary %+v", err, sum)
			}
			failed := readCSV(t, filepath.Join(o.OutDir, report.FailedFile))
			if len(failed) != 2 {
				t.Fatalf("failed.csv = %q", failed)
			}
			row := failed[1]
			if got := row[len(row)-3:]; got[0] != "2" || got[1] != tc.code {
				t.Errorf("error_row, error_code = %q, %q; want 2, %s", got[0], got[1], tc.code)
			}
			if strings.HasPrefix(row[len(row)-1], "row ") {
				t.Errorf("message %q repeats the row number of error_row", row[len(row)-1])
			}
			for _, m := range tc.message {
				if !strings.Contains(row[len(row)-1], m) {
					t.Errorf("message %q lacks %q", row[len(row)-1], m)
				}
			}
			names := map[string]bool{}
			for _, li := range emu.LineItems() {
				names[li.Properties["name"]] = true
			}
			if !names["Widget"] || !names["Gadget"] || len(names) != 2 {
				t.Errorf("portal holds %v", names)
			}
		})
	}
}

// TestInputShapes: inputs that are unusual but valid go through whole.
func TestInputShapes(t *testing.T) {
	cases := []struct {
		name, input string
		want        []string // names created
	}{
		{"header only", "Product,Price,Start,Billing,Deal\n", nil},
		{"header with a BOM", "\xef\xbb\xbfProduct,Price,Start,Billing,Deal\n" + goodRow + "\n", []string{"Widget"}},
		{"CRLF and LF mixed", "Product,Price,Start,Billing,Deal\r\n" + goodRow + "\n" + strings.Replace(goodRow, "Widget", "Gadget", 1) + "\r\n", []string{"Widget", "Gadget"}},
		{"quoted field with a newline", "Product,Price,Start,Billing,Deal\n\"Two\nlines\",1,,,\n", []string{"Two\nlines"}},
		{"no final newline", "Product,Price,Start,Billing,Deal\n" + goodRow, []string{"Widget"}},
		{"feeding failed.csv back", "Product,Price,Start,Billing,Deal,error_row,error_code,error_message\n" + goodRow + ",7,INVALID_VALUE,\"old, fixed\"\n", []string{"Widget"}},
	}
	spec, _ := mapping.Load(strings.NewReader(badInputMapping))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := newPortal(emulator.Config{RateMax: -1})
			o := Options{Input: strings.NewReader(tc.input), Mapping: spec, OutDir: t.TempDir(), BatchSize: 100, Workers: 1,
				Sender: inMemory(t, emu, 0), Policy: upload.DefaultPolicy}
			sum, err := Run(context.Background(), o)
			if err != nil || sum.Created != len(tc.want) || sum.Rows != len(tc.want) {
				t.Fatalf("err = %v, summary %+v", err, sum)
			}
			got := map[string]bool{}
			for _, li := range emu.LineItems() {
				got[li.Properties["name"]] = true
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("%q not created; portal has %v", w, got)
				}
			}
		})
	}
}

// TestFileLevelProblems: problems with the whole file or mapping stop the
// run before anything is sent, with a message naming what is wrong.
func TestFileLevelProblems(t *testing.T) {
	cases := []struct {
		name, input, mapping, want string
	}{
		{"empty file", "", badInputMapping, "empty"},
		{"mapping names a missing column", "Product,Cost,Start,Billing,Deal\n" + goodRow + "\n", badInputMapping, `no column "Price"`},
		{"duplicate header names the mapping uses", "Product,Price,Start,Billing,Deal,Price\n", badInputMapping, `column "Price" appears more than once`},
		{"unknown association target", "Product\nx\n", "associations: [{column: Product, to: lead}]", `unknown target "lead"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := mapping.Load(strings.NewReader(tc.mapping))
			if err == nil {
				emu := newPortal(emulator.Config{RateMax: -1})
				o := Options{Input: strings.NewReader(tc.input), Mapping: spec, OutDir: filepath.Join(t.TempDir(), "out"), BatchSize: 100, Workers: 1,
					Sender: inMemory(t, emu, 0), Policy: upload.DefaultPolicy}
				_, err = Run(context.Background(), o)
				var se *SetupError
				if err != nil && !errors.As(err, &se) {
					t.Fatalf("err %v is not a SetupError", err)
				}
				if st := emu.Stats(); st.Requests != 0 {
					t.Errorf("%d requests sent", st.Requests)
				}
				if _, statErr := os.Stat(o.OutDir); statErr == nil {
					t.Errorf("reports written for a run that could not start")
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name %q", err, tc.want)
			}
		})
	}
}

// TestUnknownColumnsWithoutAMapping: without a mapping, columns that name
// no property of the portal are fatal at start, listed, with a pointer to
// init-mapping; nothing is sent.
func TestUnknownColumnsWithoutAMapping(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1})
	o := withPortalSchema(t, emu, "name,quantity,Colour,prize\nWidget,1,red,10\n")
	_, err := Run(context.Background(), o)
	var se *SetupError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a SetupError", err)
	}
	for _, want := range []string{`"Colour"`, `"prize" (did you mean price?)`, "init-mapping export.csv", "2 of the columns"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%s", want, err)
		}
	}
	if strings.Contains(err.Error(), `"name"`) || emu.Stats().BatchCreates != 0 {
		t.Errorf("a known column was listed, or something was sent:\n%s", err)
	}
}

// withPortalSchema returns options that import input (named export.csv,
// without a mapping) into emu through one worker, checking values against
// the portal's property definitions as the command does.
func withPortalSchema(t *testing.T, emu *emulator.Server, input string) Options {
	t.Helper()
	client := inMemory(t, emu, 0)
	props, err := client.Properties(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return Options{Input: strings.NewReader(input), InputName: "export.csv", OutDir: t.TempDir(), BatchSize: 100, Workers: 1,
		Sender: client, Policy: upload.DefaultPolicy, Schema: schema.New(props)}
}
