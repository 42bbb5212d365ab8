package importer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
)

// TestErrorBodiesInEveryForm: whatever form an error's context takes
// (the specs' lists, the Java map text of their examples, single values
// and a subCategory object), a unique-value conflict is read as one: the
// row that meets another record's value fails CONFLICT, the other row of
// its batch is created, and none is left in doubt. An error body the
// client cannot decode would put the whole batch in doubt.
func TestErrorBodiesInEveryForm(t *testing.T) {
	for _, form := range []string{"", emulator.ErrorFormText, emulator.ErrorFormLoose} {
		for _, perRow := range []bool{false, true} {
			for _, as := range []string{emulator.ConflictCategory, emulator.ConflictAlreadyExists} {
				t.Run(fmt.Sprintf("form %q, per row %v, as %q", form, perRow, as), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						emu := newPortal(emulator.Config{RateMax: -1, ConflictPerRow: perRow, ConflictAs: as, ErrorForms: form})
						emu.AddProperty(emulator.Property{Name: keyProp, Label: "Import key", Type: "string", FieldType: "text", HasUniqueValue: true})
						client := inMemory(t, emu, time.Minute)
						spec, err := mapping.Load(strings.NewReader("properties:\n  hs_sku: SKU\n  name: Product\n  " + keyProp + ": Key\n"))
						if err != nil {
							t.Fatal(err)
						}
						o := options(t, []byte("SKU,Product,Key\nS0,first,X\n"), client)
						o.Mapping = spec
						if sum, err := Run(context.Background(), o); err != nil || sum.Created != 1 {
							t.Fatalf("the first record: %v, %+v", err, sum)
						}
						o = options(t, []byte("SKU,Product,Key\nS1,a,X\nS2,b,Y\n"), client)
						o.Mapping = spec
						sum, _ := Run(context.Background(), o)
						if sum == nil || sum.Created != 1 || sum.Failed != 1 || sum.InDoubt != 0 || sum.NotSent != 0 {
							t.Fatalf("summary %+v; want S2 created and S1 failed", sum)
						}
						failed := reportRecords(t, o.OutDir, report.FailedFile)
						if len(failed) != 1 || failed[0]["SKU"] != "S1" || failed[0]["error_code"] != "CONFLICT" {
							t.Errorf("failed.csv %v; want S1 CONFLICT", failed)
						}
						if n := emu.LineItemCount(); n != 2 {
							t.Errorf("portal holds %d line items, want 2", n)
						}
					})
				})
			}
		}
	}
}
