package importer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
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
