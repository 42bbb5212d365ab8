package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/journal"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
)

// TestIdentityMustNotChange: a folder's journal knows each row the way the
// runs that sent it did: by content without --key-property, by key with
// it. A run that would know the rows otherwise (a key property added or
// dropped, or another one) would not recognise the rows that may exist,
// and would create them again: the line items created without the key
// property do not hold it, so HubSpot does not refuse the second ones. It
// is refused before anything is sent. A run that knows rows the same way
// goes on, and sends nothing twice.
func TestIdentityMustNotChange(t *testing.T) {
	const other = "other_key"
	for _, c := range []struct {
		name          string
		first, second string // the key property of each run ("" for none)
		firstLost     bool   // the first run's answers are lost after the commit
		secondUpsert  bool   // the second run is an upsert
		refused       string // in the second run's error, or "" when it runs
	}{
		{"key added after runs without one left rows in doubt", "", keyProp, true, false, "by their content"},
		{"key added after runs without one created the rows", "", keyProp, false, false, "by their content"},
		{"upsert after runs without a key", "", keyProp, false, true, "Upserts need a key"},
		{"upsert by another key property", keyProp, other, false, true, "this run's --key-property is " + other},
		{"key dropped", keyProp, "", false, false, "Run with --key-property " + keyProp},
		{"another key property", keyProp, other, false, false, "this run's --key-property is " + other},
		{"the same key property", keyProp, keyProp, true, false, ""},
		{"no key either time", "", "", false, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 20
				emu := newPortal(emulator.Config{RateMax: -1, Seed: 8})
				emu.AddProperty(emulator.Property{Name: other, Label: "Other key", Type: "string", FieldType: "text", HasUniqueValue: true})
				input := generate(t, n, 8)
				client := inMemory(t, emu, time.Minute)
				base := withJournal(options(t, input, client))
				with := func(prop string) Options {
					o := base
					o.Input = strings.NewReader(string(input))
					if prop != "" {
						o = keyed(t, emu, o, client)
						o.KeyProperty = prop
					}
					return o
				}
				if c.firstLost {
					emu.SetFaults(emulator.Faults{CommitThenDrop: 1})
				}
				sum, err := Run(context.Background(), with(c.first))
				if len(emu.LineItems()) != n {
					t.Fatalf("first run: %v %+v; portal holds %d line items, want %d", err, sum, len(emu.LineItems()), n)
				}
				emu.SetFaults(emulator.Faults{})
				before := emu.Stats().BatchCreates
				second := with(c.second)
				second.Upsert = c.secondUpsert
				sum, err = Run(context.Background(), second)
				if got := len(emu.LineItems()); got != n {
					t.Fatalf("second run: %v; portal holds %d line items for %d rows", err, got, n)
				}
				var se *SetupError
				if c.refused == "" {
					if err != nil {
						t.Fatalf("second run: %v, want it to run", err)
					}
					if sum.Created != n {
						t.Errorf("second run: %d rows created, want %d (found by key, or carried over)", sum.Created, n)
					}
					return
				}
				if !errors.As(err, &se) || !strings.Contains(err.Error(), c.refused) {
					t.Fatalf("second run: %v; want it refused before sending, saying %q", err, c.refused)
				}
				if d := emu.Stats().BatchCreates - before; d != 0 {
					t.Errorf("second run: %d batch creates, want none", d)
				}
				// The refused run changed nothing: the first command still
				// runs (rows it left in doubt without a key stay in doubt).
				sum, err = Run(context.Background(), with(c.first))
				if errors.As(err, &se) || sum == nil {
					t.Fatalf("the first command again: %v", err)
				}
				if sum.Created+sum.InDoubt != n || len(emu.LineItems()) != n {
					t.Fatalf("the first command again: %v, %d created, %d in doubt; portal holds %d line items for %d rows", err, sum.Created, sum.InDoubt, len(emu.LineItems()), n)
				}
			})
		})
	}
}

// contentIdent is the identity a run without a key gave the row.
func contentIdent(t *testing.T, spec *mapping.Spec, header, row []string) string {
	t.Helper()
	m, err := spec.Compile(header)
	if err != nil {
		t.Fatal(err)
	}
	var in hubspot.CreateInput
	if err := m.MapInto(&in, row); err != nil {
		t.Fatal(err)
	}
	content, _ := chunker.ContentOf(in, nil)
	return "c:" + content + "#1"
}

// seedJournal records, in o's journal, ident as sent and, with id, created.
func seedJournal(t *testing.T, o Options, ident, id, version string) {
	t.Helper()
	jr, st, err := journal.Open(o.OutDir, o.Journal)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := jr.Sent([]string{ident}); err != nil {
		t.Fatal(err)
	}
	if id != "" {
		if err := jr.Done([]report.Outcome{{Ident: ident, Status: report.Created, ID: id, Version: version}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := jr.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestContentIdentity: without a key, a row is known by its content and
// how many rows before it in the file have the same content: the first
// is #1 (as the journals of every earlier run have it), and one an
// earlier run left in doubt is sent again with --retry-in-doubt.
func TestContentIdentity(t *testing.T) {
	const keyless = "properties: {name: name, description: description}\n"
	header := []string{"name", "description"}
	setup := func(t *testing.T, input string) (*emulator.Server, Options, *mapping.Spec) {
		emu := newPortal(emulator.Config{RateMax: -1})
		client := inMemory(t, emu, time.Minute)
		o := withJournal(options(t, []byte(input), client))
		m, err := mapping.Load(strings.NewReader(keyless))
		if err != nil {
			t.Fatal(err)
		}
		o.Mapping = m
		return emu, o, m
	}
	t.Run("numbered among its content's", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, o, m := setup(t, "name;description\nA;x\nB;y\nA;x\n")
			if _, err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			_, st, err := journal.Open(o.OutDir, o.Journal)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			a, b := contentIdent(t, m, header, []string{"A", "x"}), contentIdent(t, m, header, []string{"B", "y"})
			a2, a3 := strings.TrimSuffix(a, "#1")+"#2", strings.TrimSuffix(a, "#1")+"#3"
			for ident, want := range map[string]bool{a: true, a2: true, b: true, a3: false} {
				if got := st.Lookup(ident).Status == report.Created; got != want {
					t.Errorf("journal: %s created %v, want %v", ident[len(ident)-2:], got, want)
				}
			}
		})
	})
	t.Run("in doubt, sent again on request", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu, o, m := setup(t, "name;description\nA;x\n")
			o.Policy.RetryInDoubt = true
			seedJournal(t, o, contentIdent(t, m, header, []string{"A", "x"}), "", "")
			sum, err := Run(context.Background(), o)
			if err != nil || sum.Created != 1 || len(emu.LineItems()) != 1 {
				t.Errorf("%v, %+v, portal %d; want the row sent again and created", err, sum, len(emu.LineItems()))
			}
		})
	})
}

// TestIdentitiesBeyondMemory checks the counts of identical rows, and the
// keys already seen, once they have gone from memory to files: identical
// rows far apart are numbered on, and a key far apart is a duplicate.
func TestIdentitiesBeyondMemory(t *testing.T) {
	defer func(n int) { spillAfter = n }(spillAfter)
	spillAfter = 2
	var in strings.Builder
	in.WriteString("SKU,Product\n")
	for i := 1; i <= 40; i++ {
		switch i {
		case 3, 25, 38:
			in.WriteString("K3,Same\n") // one content three times (keyless); one key three times
		default:
			fmt.Fprintf(&in, "K%d,Thing %d\n", i, i)
		}
	}
	t.Run("keyless", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			spec, err := mapping.Load(strings.NewReader("properties: {hs_sku: SKU, name: Product}\n"))
			if err != nil {
				t.Fatal(err)
			}
			emu := newPortal(emulator.Config{RateMax: -1})
			client := inMemory(t, emu, time.Minute)
			o := withJournal(options(t, []byte(in.String()), client))
			o.Mapping = spec
			if sum, err := Run(context.Background(), o); err != nil || sum.Created != 40 {
				t.Fatalf("%v, %+v; want 40 created", err, sum)
			}
			_, st, err := journal.Open(o.OutDir, o.Journal)
			if err != nil {
				t.Fatal(err)
			}
			same := strings.TrimSuffix(contentIdent(t, spec, []string{"SKU", "Product"}, []string{"K3", "Same"}), "#1")
			for n, want := range map[string]bool{"#1": true, "#2": true, "#3": true, "#4": false} {
				if got := st.Lookup(same+n).Status == report.Created; got != want {
					t.Errorf("journal: copy %s created %v, want %v", n, got, want)
				}
			}
			st.Close()
			// The same file with a fourth copy: one more line item.
			o.Input = strings.NewReader(in.String() + "K3,Same\n")
			sum, err := Run(context.Background(), o)
			if err != nil || sum.Created != 41 || sum.Earlier != 40 || len(emu.LineItems()) != 41 {
				t.Fatalf("rerun: %v, %+v, portal %d; want the fourth copy alone created", err, sum, len(emu.LineItems()))
			}
		})
	})
	t.Run("keyed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			spec, err := mapping.Load(strings.NewReader("properties: {hs_sku: SKU, name: Product}\nkey: SKU\n"))
			if err != nil {
				t.Fatal(err)
			}
			emu := newPortal(emulator.Config{RateMax: -1})
			client := inMemory(t, emu, time.Minute)
			o := keyed(t, emu, withJournal(options(t, []byte(in.String()), client)), client)
			o.Mapping = spec
			sum, err := Run(context.Background(), o)
			if sum == nil || sum.Created != 38 || sum.Failed != 2 || len(emu.LineItems()) != 38 {
				t.Fatalf("%v, %+v; want 38 created and rows 25 and 38 failed", err, sum)
			}
			for _, r := range reportRecords(t, o.OutDir, report.FailedFile) {
				if r["error_code"] != CodeDuplicateKey || !strings.Contains(r["error_message"], "also row 3's") {
					t.Errorf("failed row %s: %s %s; want a duplicate of row 3", r["error_row"], r["error_code"], r["error_message"])
				}
			}
		})
	})
}

// rewriteCSV returns input with each record passed through edit (the
// header as record 0).
func rewriteCSV(t *testing.T, input []byte, edit func(i int, rec []string) []string) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(input)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for i, rec := range recs {
		if err := w.Write(edit(i, rec)); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return b.Bytes()
}

// TestKeyColumnMustNotChange: a keyed run whose mapping takes keys from
// another column than the folder's earlier runs did would create every
// row again under a new key: it is refused before anything is sent, the
// old column still in the input or not (a new id scheme replaces it). A
// key column the operator says was renamed (--key-column-renamed-from,
// the old name gone) holds the same keys: the run goes on, finds every
// row, and creates nothing.
func TestKeyColumnMustNotChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 30
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 8})
		input := generate(t, n, 8)
		client := inMemory(t, emu, time.Minute)
		base := keyed(t, emu, withJournal(options(t, input, client)), client)
		renamedFrom := ""
		run := func(input []byte, edit func(*mapping.Spec)) (*report.Summary, error) {
			o := base
			o.KeyColumnRenamedFrom = renamedFrom
			o.Input = bytes.NewReader(input)
			spec := sampleSpec(t)
			if edit != nil {
				edit(spec)
			}
			o.Mapping = spec
			return Run(context.Background(), o)
		}
		if sum, err := run(input, nil); err != nil || sum.Created != n {
			t.Fatalf("first run: %v %+v", err, sum)
		}
		before := emu.Stats().BatchCreates

		// Keys from another column, the old one still there: refused.
		legacy := rewriteCSV(t, input, func(i int, rec []string) []string {
			if i == 0 {
				return append(rec, "Legacy")
			}
			return append(rec, "L-"+rec[0])
		})
		_, err := run(legacy, func(s *mapping.Spec) { s.Key = "Legacy" })
		var se *SetupError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), `took from the column "SKU"; this run's mapping takes keys from "Legacy"`) {
			t.Fatalf("keys from another column: %v; want it refused before sending", err)
		}
		if d := emu.Stats().BatchCreates - before; d != 0 || len(emu.LineItems()) != n {
			t.Fatalf("keys from another column: %d batch creates, %d line items for %d rows", d, len(emu.LineItems()), n)
		}

		// A new id scheme in place of the old column: refused too, for
		// nothing tells it from a rename.
		scheme := rewriteCSV(t, input, func(i int, rec []string) []string {
			if i == 0 {
				rec[0] = "ItemRef"
			} else {
				rec[0] = "REF-" + rec[0]
			}
			return rec
		})
		toColumn := func(col string) func(*mapping.Spec) {
			return func(s *mapping.Spec) {
				s.Key = col
				p := s.Properties["hs_sku"]
				p.Column = col
				s.Properties["hs_sku"] = p
			}
		}
		if _, err := run(scheme, toColumn("ItemRef")); !errors.As(err, &se) || !strings.Contains(err.Error(), `and the input has no "SKU". If "ItemRef" is "SKU" renamed, holding the same keys, run again with --key-column-renamed-from SKU.`) {
			t.Fatalf("a new id scheme in place of the key column: %v; want it refused", err)
		}
		if d := emu.Stats().BatchCreates - before; d != 0 || len(emu.LineItems()) != n {
			t.Fatalf("a new id scheme: %d batch creates, %d line items for %d rows", d, len(emu.LineItems()), n)
		}

		// The key column renamed: refused until the operator says so,
		// naming the old column; then the same keys, every row found.
		renamed := rewriteCSV(t, input, func(i int, rec []string) []string {
			if i == 0 {
				rec[0] = "Sku Code"
			}
			return rec
		})
		for _, from := range []string{"", "Product"} {
			renamedFrom = from
			if _, err := run(renamed, toColumn("Sku Code")); !errors.As(err, &se) || !strings.Contains(err.Error(), "--key-column-renamed-from SKU") {
				t.Fatalf("key column renamed, --key-column-renamed-from %q: %v; want it refused", from, err)
			}
		}
		renamedFrom = "SKU"
		sum, err := run(renamed, toColumn("Sku Code"))
		if err != nil || sum.Created != n || sum.Earlier != n {
			t.Fatalf("key column renamed: %v %+v; want all %d rows created earlier", err, sum, n)
		}
		if d := emu.Stats().BatchCreates - before; d != 0 || len(emu.LineItems()) != n {
			t.Fatalf("key column renamed: %d batch creates, %d line items for %d rows", d, len(emu.LineItems()), n)
		}
		// The folder now knows the new name: the old one, back in the
		// input beside it, is another column.
		both := rewriteCSV(t, renamed, func(i int, rec []string) []string {
			if i == 0 {
				return append(rec, "SKU")
			}
			return append(rec, "X-"+rec[0])
		})
		renamedFrom = ""
		if _, err := run(both, func(s *mapping.Spec) { s.Key = "SKU" }); !errors.As(err, &se) || !strings.Contains(err.Error(), `took from the column "Sku Code"`) {
			t.Fatalf("back to the old column beside the new one: %v; want it refused", err)
		}
	})
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"SKU":        "SKU",
		"sku_code-1": "sku_code-1",
		"Sku Code":   "'Sku Code'",
		"O'Brien":    `'O'\''Brien'`,
		"":           "''",
		"Réf":        "'Réf'",
		"a;b":        "'a;b'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
