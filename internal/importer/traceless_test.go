package importer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/report"
)

// TestCreateResultsWithoutTraceIDs: a portal whose batch create results
// carry no objectWriteTraceId, which the spec allows. With a key, each
// result is matched to its row by the key property's value: every row is
// created with the id of the line item that holds its key, and nothing is
// looked up. Without a key each result is matched to its row by the
// values it echoes, as sent or in HubSpot's forms (HubSpot does not
// promise results in input order, so never by position): the sample's
// rows differ in their SKUs, so every row is created with the id of the
// line item that holds its SKU.
func TestCreateResultsWithoutTraceIDs(t *testing.T) {
	const n = 250
	t.Run("with a key", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu := newPortal(emulator.Config{RateMax: -1, Seed: 61, CreateOmitsTraceID: true})
			client := inMemory(t, emu, time.Minute)
			input := generate(t, n, 61)
			o := keyed(t, emu, withJournal(options(t, input, client)), client)
			sum, err := Run(context.Background(), o)
			if err != nil || sum.Created != n {
				t.Fatalf("err %v, summary %+v; want every row created", err, sum)
			}
			checkAccounting(t, o.OutDir, n, sum, emu)
			_, data := lines(input)
			held := map[string]string{} // id → key
			for _, li := range emu.LineItems() {
				held[li.ID] = li.Properties[keyProp]
			}
			for row, id := range reportRows(t, o.OutDir, report.CreatedFile) {
				key, _, _ := strings.Cut(data[row-1], ",")
				if held[id] != key {
					t.Errorf("row %d (key %s) reported created as %s, which holds %q", row, key, id, held[id])
				}
			}
			if st := emu.Stats(); st.BatchReads != 0 {
				t.Errorf("%d batch reads: the results were not matched by key", st.BatchReads)
			}
		})
	})
	for _, normalized := range []bool{false, true} {
		t.Run(fmt.Sprintf("without a key, echo normalized %v", normalized), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := newPortal(emulator.Config{RateMax: -1, Seed: 62, CreateOmitsTraceID: true, EchoNormalized: normalized})
				input := generate(t, n, 62)
				o := withJournal(options(t, input, inMemory(t, emu, time.Minute)))
				sum, err := Run(context.Background(), o)
				if err != nil || sum.Created != n || emu.LineItemCount() != n {
					t.Fatalf("err %v, summary %+v, portal %d; want every row created, matched by the values its result echoes", err, sum, emu.LineItemCount())
				}
				checkAccounting(t, o.OutDir, n, sum, emu)
				_, data := lines(input)
				held := map[string]string{} // id → SKU
				for _, li := range emu.LineItems() {
					held[li.ID] = li.Properties["hs_sku"]
				}
				for row, id := range reportRows(t, o.OutDir, report.CreatedFile) {
					sku, _, _ := strings.Cut(data[row-1], ",")
					if held[id] != sku {
						t.Errorf("row %d (SKU %s) reported created as %s, which holds %q", row, sku, id, held[id])
					}
				}
			})
		})
	}
}
