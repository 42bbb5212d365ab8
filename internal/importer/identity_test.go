package importer

import (
	"context"
	"errors"
	"path/filepath"
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

// TestWhiteSpaceRowsSentBefore: a row of white space only is blank, and a
// key of white space is no key; earlier runs (before either rule) sent
// such rows. A row one of them created is carried over with its id, one
// it left in doubt stays in doubt, and only a row no run sent is skipped
// or refused: none is dropped from the reports while it may exist.
func TestWhiteSpaceRowsSentBefore(t *testing.T) {
	const keyless = "properties: {name: name, description: description}\n"
	const keyedSpec = "properties: {name: name, hs_sku: hs_sku}\nkey: hs_sku\n"
	for _, c := range []struct {
		name, spec, input string
		keyed             bool
		ident             func(t *testing.T, spec *mapping.Spec, header, row []string) string
		created           bool   // the earlier run created it (else: sent, no answer)
		want              string // the row's report: created, in_doubt, or "" (skipped) / failed
	}{
		{"row of white space, created", keyless, "name;description\n  ;   \n", false, contentIdent, true, report.CreatedFile},
		{"row of white space, in doubt", keyless, "name;description\n  ;   \n", false, contentIdent, false, report.InDoubtFile},
		{"row of white space, never sent", keyless, "name;description\n  ;   \n", false, nil, false, ""},
		{"key of white space, created", keyedSpec, "name;hs_sku\nA;   \n", true, keyIdent, true, report.CreatedFile},
		{"key of white space, in doubt", keyedSpec, "name;hs_sku\nA;   \n", true, keyIdent, false, report.InDoubtFile},
		{"key of white space, never sent", keyedSpec, "name;hs_sku\nA;   \n", true, nil, false, report.FailedFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := newPortal(emulator.Config{RateMax: -1})
				client := inMemory(t, emu, time.Minute)
				o := withJournal(options(t, []byte(c.input), client))
				if c.keyed {
					o = keyed(t, emu, o, client)
				}
				spec, err := mapping.Load(strings.NewReader(c.spec))
				if err != nil {
					t.Fatal(err)
				}
				o.Mapping = spec
				if c.ident != nil {
					lines := strings.Split(strings.TrimSuffix(c.input, "\n"), "\n")
					ident := c.ident(t, spec, strings.Split(lines[0], ";"), strings.Split(lines[1], ";"))
					jr, st, err := journal.Open(o.OutDir, o.Journal)
					if err != nil {
						t.Fatal(err)
					}
					st.Close()
					if err := jr.Sent([]string{ident}); err != nil {
						t.Fatal(err)
					}
					if c.created {
						if err := jr.Done([]report.Outcome{{Ident: ident, Status: report.Created, ID: "4242"}}); err != nil {
							t.Fatal(err)
						}
					}
					jr.Close()
				}
				sum, err := Run(context.Background(), o)
				if sum == nil {
					t.Fatal(err)
				}
				for _, name := range []string{report.CreatedFile, report.InDoubtFile, report.FailedFile, report.NotSentFile} {
					n := len(readCSV(t, filepath.Join(o.OutDir, name))) - 1
					if want := map[bool]int{true: 1}[name == c.want]; n != want {
						t.Errorf("%s holds %d rows, want %d", name, n, want)
					}
				}
				if c.want == "" && sum.Skipped != 1 {
					t.Errorf("skipped %d, want 1", sum.Skipped)
				}
				if c.want == report.CreatedFile && reportRows(t, o.OutDir, report.CreatedFile)[1] != "4242" {
					t.Errorf("created.csv: %v, want row 1 with id 4242", reportRows(t, o.OutDir, report.CreatedFile))
				}
				if len(emu.LineItems()) != 0 {
					t.Errorf("portal holds %d line items, want none sent", len(emu.LineItems()))
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

// keyIdent is the identity a run with --key-property gave the row.
func keyIdent(t *testing.T, spec *mapping.Spec, header, row []string) string {
	t.Helper()
	m, err := spec.Compile(header)
	if err != nil {
		t.Fatal(err)
	}
	return "k:" + keyProp + ":" + m.Key(row)
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

// TestWhiteSpaceRulesKeepOtherIdentities: the white-space rules touch no
// other row. Without a key, an ordinary row is numbered once among its
// content's (its identity is #1, as every earlier run gave it), and one an
// earlier run left in doubt is sent again with --retry-in-doubt. An empty
// row does not take the identity of a row of white space an earlier run
// sent (with trim: true both map to the same content). Of two rows with
// one key of white space, only the first is the line item an earlier run
// created. An upserted row with a key of white space is in doubt (its new
// values are not sent), not created.
func TestWhiteSpaceRulesKeepOtherIdentities(t *testing.T) {
	const keyless = "properties: {name: name, description: description}\n"
	const trimmed = "properties: {name: {column: name, trim: true}, description: {column: description, trim: true}}\n"
	const keyedSpec = "properties: {name: name, hs_sku: hs_sku}\nkey: hs_sku\n"
	header := []string{"name", "description"}
	setup := func(t *testing.T, input, spec string) (*emulator.Server, Options, *mapping.Spec) {
		emu := newPortal(emulator.Config{RateMax: -1})
		client := inMemory(t, emu, time.Minute)
		o := withJournal(options(t, []byte(input), client))
		m, err := mapping.Load(strings.NewReader(spec))
		if err != nil {
			t.Fatal(err)
		}
		o.Mapping = m
		return emu, o, m
	}
	t.Run("an ordinary row is #1", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, o, m := setup(t, "name;description\nA;x\n", keyless)
			if _, err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			_, st, err := journal.Open(o.OutDir, o.Journal)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			id1 := contentIdent(t, m, header, []string{"A", "x"})
			if st.Lookup(id1).Status != report.Created || st.Lookup(strings.TrimSuffix(id1, "#1")+"#2") != (journal.Prior{}) {
				t.Errorf("journal: #1 %+v, #2 %+v; want the row created as #1", st.Lookup(id1), st.Lookup(strings.TrimSuffix(id1, "#1")+"#2"))
			}
		})
	})
	t.Run("a row in doubt is sent again on request", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu, o, m := setup(t, "name;description\nA;x\n", keyless)
			o.Policy.RetryInDoubt = true
			seedJournal(t, o, contentIdent(t, m, header, []string{"A", "x"}), "", "")
			sum, err := Run(context.Background(), o)
			if err != nil || sum.Created != 1 || len(emu.LineItems()) != 1 {
				t.Errorf("%v, %+v, portal %d; want the row sent again and created", err, sum, len(emu.LineItems()))
			}
		})
	})
	t.Run("an empty row is not the row of white space", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, o, m := setup(t, "name;description\n;\n  ;   \n", trimmed)
			seedJournal(t, o, contentIdent(t, m, header, []string{"  ", "   "}), "4242", "")
			sum, err := Run(context.Background(), o)
			if created := reportRows(t, o.OutDir, report.CreatedFile); err != nil || sum.Skipped != 1 || len(created) != 1 || created[2] != "4242" {
				t.Errorf("%v, skipped %d, created %v; want row 2 created (4242) and row 1 skipped", err, sum.Skipped, created)
			}
		})
	})
	t.Run("one key of white space, two rows", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu, o, _ := setup(t, "name;hs_sku\nA;   \nB;   \n", keyedSpec)
			o = keyed(t, emu, o, o.Sender.(*hubspot.Client))
			seedJournal(t, o, "k:"+keyProp+":   ", "4242", "")
			sum, _ := Run(context.Background(), o)
			created, failed := reportRows(t, o.OutDir, report.CreatedFile), reportRows(t, o.OutDir, report.FailedFile)
			if sum.Created != 1 || created[1] != "4242" || len(failed) != 1 || failed[2] == "" {
				t.Errorf("created %v, failed %v; want row 1 created (4242) and row 2 failed", created, failed)
			}
		})
	})
	t.Run("an upserted row with a key of white space", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu, o, _ := setup(t, "name;hs_sku\nB;   \n", keyedSpec)
			emu.AddProperty(emulator.Property{Name: keyProp, Label: "Import key", Type: "string", FieldType: "text", HasUniqueValue: true})
			o.KeyProperty, o.Reader, o.Upsert = keyProp, o.Sender.(*hubspot.Client), true
			seedJournal(t, o, "u:"+keyProp+":   ", "4242", "the values of an earlier night")
			sum, _ := Run(context.Background(), o)
			if sum.Created != 0 || sum.InDoubt != 1 || emu.Stats().Requests != 0 {
				t.Errorf("%+v, %d requests; want the row in doubt and nothing sent", sum, emu.Stats().Requests)
			}
		})
	})
}
