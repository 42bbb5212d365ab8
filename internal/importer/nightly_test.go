package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
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
	"github.com/lineitems/importer/internal/schema"
)

// Runs that repeat rows: nightly exports that overlap, reruns, edited
// files and mappings, fixed rows fed back. The journal recognises a row by
// its key (with a key property) or by its content, across runs and files,
// and never creates a row twice.

// lines returns the header and the data lines of a sample file.
func lines(input []byte) (string, []string) {
	all := strings.SplitAfter(strings.TrimSuffix(string(input), "\n"), "\n")
	for i := range all {
		all[i] = strings.TrimSuffix(all[i], "\n") + "\n"
	}
	return all[0], all[1:]
}

// fileOf joins a header and data lines into a file.
func fileOf(header string, data ...[]string) []byte {
	var b strings.Builder
	b.WriteString(header)
	for _, d := range data {
		for _, l := range d {
			b.WriteString(l)
		}
	}
	return []byte(b.String())
}

// createdWhen reads created.csv into row → "now" or "earlier".
func createdWhen(t *testing.T, dir string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, rec := range readCSV(t, filepath.Join(dir, report.CreatedFile))[1:] {
		out[atoi(rec[0])] = rec[len(rec)-1]
	}
	return out
}

// TestNightlyOverlap: night 2's file repeats half of night 1's rows and
// adds new ones. Only the new rows are created; the repeated ones are
// reported created earlier, with their ids. A rerun of either night sends
// nothing. With a key, a repeated row whose values changed is still the
// same row; without one, a changed row is a new row.
func TestNightlyOverlap(t *testing.T) {
	for _, keyedRun := range []bool{true, false} {
		t.Run(fmt.Sprint("key=", keyedRun), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := newPortal(emulator.Config{RateMax: -1, Seed: 51})
				header, data := lines(generate(t, 30, 51))
				night1 := fileOf(header, data[:20])
				// Night 2: rows 11-30 of the export; row 15's quantity changed.
				edited := withField(t, data[14], 3, "999")
				night2 := fileOf(header, data[10:14], []string{edited}, data[15:30])
				client := inMemory(t, emu, time.Minute)
				o := withJournal(options(t, night1, client))
				if keyedRun {
					o = keyed(t, emu, o, client)
				}
				sum, err := Run(context.Background(), o)
				if err != nil || sum.Created != 20 || emu.LineItemCount() != 20 {
					t.Fatalf("night 1: err %v, summary %+v", err, sum)
				}
				idsBySKU := map[string]string{}
				for _, li := range emu.LineItems() {
					idsBySKU[li.Properties["hs_sku"]] = li.ID
				}

				o.Input = strings.NewReader(string(night2))
				sum, err = Run(context.Background(), o)
				wantNew := 10 // rows 21-30
				if !keyedRun {
					wantNew = 11 // and the changed row 15: a row is its content
				}
				if err != nil || sum.Rows != 20 || sum.Created != 20 || sum.Earlier != 20-wantNew {
					t.Fatalf("night 2: err %v, summary %+v; want 20 rows, %d of them new", err, sum, wantNew)
				}
				if n := emu.LineItemCount(); n != 20+wantNew {
					t.Fatalf("night 2: the portal holds %d line items, want %d", n, 20+wantNew)
				}
				when := createdWhen(t, o.OutDir)
				for _, rec := range readCSV(t, filepath.Join(o.OutDir, report.CreatedFile))[1:] {
					row, id, sku := atoi(rec[0]), rec[1], rec[2]
					repeated := row <= 10 && (keyedRun || row != 5)
					if repeated && (when[row] != "earlier" || idsBySKU[sku] != id) {
						t.Errorf("night 2 row %d (%s): %s as %s; want created earlier as %s", row, sku, when[row], id, idsBySKU[sku])
					}
					if !repeated && when[row] != "now" {
						t.Errorf("night 2 row %d (%s): %s, want created now", row, sku, when[row])
					}
				}
				checkAccounting(t, o.OutDir, 20, sum, nil)

				for night, file := range [][]byte{night1, night2} {
					o.Input = strings.NewReader(string(file))
					before := emu.Stats().BatchCreates
					sum, err = Run(context.Background(), o)
					if err != nil || sum.Requests != 0 || emu.Stats().BatchCreates != before || sum.Earlier != 20 {
						t.Fatalf("rerun of night %d: err %v, summary %+v; want nothing sent, every row created earlier", night+1, err, sum)
					}
				}
			})
		})
	}
}

// TestIdenticalRowsAreRowsOfTheirOwn: without a key, n identical rows are
// n line items; a rerun creates none, and a file with one more copy
// creates one more.
func TestIdenticalRowsAreRowsOfTheirOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 52})
		header, data := lines(generate(t, 2, 52))
		o := withJournal(options(t, fileOf(header, []string{data[0], data[0], data[1]}), inMemory(t, emu, time.Minute)))
		o.BatchSize = 10
		if sum, err := Run(context.Background(), o); err != nil || sum.Created != 3 || emu.LineItemCount() != 3 {
			t.Fatalf("first run: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
		}
		o.Input = strings.NewReader(string(fileOf(header, []string{data[0], data[1], data[0]})))
		if sum, err := Run(context.Background(), o); err != nil || sum.Earlier != 3 || emu.LineItemCount() != 3 {
			t.Fatalf("rerun: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
		}
		o.Input = strings.NewReader(string(fileOf(header, []string{data[0], data[0], data[0], data[1]})))
		if sum, err := Run(context.Background(), o); err != nil || sum.Earlier != 3 || sum.Created != 4 || emu.LineItemCount() != 4 {
			t.Fatalf("a third copy: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
		}
	})
}

// TestRejectedRowsStayRejectedUntilFixed: a row HubSpot rejected is not
// sent again by a rerun of the same file (failed.csv holds only rows a
// rerun does not send); the fixed row, fed back in a file of its own, is
// sent and created; then the original command sends nothing.
func TestRejectedRowsStayRejectedUntilFixed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 53})
		header, data := lines(generate(t, 5, 53))
		bad := withField(t, data[2], 6, "XYZ") // a currency HubSpot refuses
		// No property definitions: HubSpot itself rejects the row.
		file := fileOf(header, data[:2], []string{bad}, data[3:])
		client := inMemory(t, emu, time.Minute)
		o := keyed(t, emu, withJournal(options(t, file, client)), client)
		o.Mapping = sampleSpec(t)
		sum, err := Run(context.Background(), o)
		var ie *IncompleteError
		if !errors.As(err, &ie) || sum.Failed != 1 || sum.Created != 4 {
			t.Fatalf("first run: err %v, summary %+v", err, sum)
		}
		requests := emu.Stats().BatchCreates
		o.Input = strings.NewReader(string(file))
		sum, _ = Run(context.Background(), o)
		if emu.Stats().BatchCreates != requests || sum.Failed != 1 || sum.Earlier != 4 {
			t.Fatalf("rerun: %d creates sent, summary %+v; want none, the rejection carried over", emu.Stats().BatchCreates-requests, sum)
		}
		failed := readCSV(t, filepath.Join(o.OutDir, report.FailedFile))
		if len(failed) != 2 || !strings.Contains(failed[1][len(failed[1])-1], "earlier run") {
			t.Fatalf("failed.csv %v", failed)
		}
		o.Input = strings.NewReader(string(fileOf(header, []string{data[2]})))
		if sum, err := Run(context.Background(), o); err != nil || sum.Created != 1 || sum.Earlier != 0 || emu.LineItemCount() != 5 {
			t.Fatalf("fixed row fed back: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
		}
		// The original file again: the key names the line item the fixed row
		// created, so the spoilt row is that row, created earlier.
		o.Input = strings.NewReader(string(file))
		if sum, err := Run(context.Background(), o); err != nil || emu.LineItemCount() != 5 || sum.Earlier != 5 || sum.Requests != 0 {
			t.Fatalf("the original file again: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
		}
	})
}

// withField returns a CSV line with its field col (from 0) set to v.
func withField(t *testing.T, line string, col int, v string) string {
	t.Helper()
	rec, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil || col >= len(rec) {
		t.Fatalf("line %q: %v", line, err)
	}
	rec[col] = v
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(rec)
	w.Flush()
	return b.String()
}

// TestAssociationOrderIsNoChange: listing the mapping's associations in
// another order changes nothing sent, so a row without a key is still the
// same row.
func TestAssociationOrderIsNoChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 54})
		emu.SeedObjects("quotes", "2001", "2002")
		input := "SKU,Product,Deal ID,Quote ID\nA-1,Widget,1001,2001\nA-2,Gadget,1002,2002\n"
		spec := func(assocs string) *mapping.Spec {
			s, err := mapping.Load(strings.NewReader("properties: {hs_sku: SKU, name: Product}\nassociations:\n" + assocs))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		o := withJournal(options(t, []byte(input), inMemory(t, emu, time.Minute)))
		o.Mapping = spec("  - {column: Deal ID, to: deal}\n  - {column: Quote ID, to: quote}\n")
		if sum, err := Run(context.Background(), o); err != nil || sum.Created != 2 {
			t.Fatalf("first run: err %v, summary %+v", err, sum)
		}
		o.Input = strings.NewReader(input)
		o.Mapping = spec("  - {column: Quote ID, to: quote}\n  - {column: Deal ID, to: deal}\n")
		if sum, err := Run(context.Background(), o); err != nil || sum.Earlier != 2 || emu.LineItemCount() != 2 {
			t.Fatalf("associations listed the other way round: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
		}
	})
}

// TestMissingKey: with a key property, a row without a key is refused
// before sending: it could be neither looked up nor told from a later
// export's row that has one.
func TestMissingKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 55})
		client := inMemory(t, emu, time.Minute)
		o := keyed(t, emu, withJournal(options(t, withKeys(generate(t, 2, 55), "SKU-1", ""), client)), client)
		sum, _ := Run(context.Background(), o)
		failed := reportRows(t, o.OutDir, report.FailedFile)
		if sum.Created != 1 || failed[2] != CodeMissingKey || emu.LineItemCount() != 1 {
			t.Fatalf("summary %+v, failed %v, portal %d", sum, failed, emu.LineItemCount())
		}
	})
}

// TestPortalOptionsAreNoChange: the portal changes the internal value of
// an option; the same row of the same file, mapped by the option's label,
// is still the same row.
func TestPortalOptionsAreNoChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 56})
		client := inMemory(t, emu, time.Minute)
		input := "Product,Billing\nSeat,Monthly\n"
		spec, err := mapping.Load(strings.NewReader("properties: {name: Product, recurringbillingfrequency: Billing}\n"))
		if err != nil {
			t.Fatal(err)
		}
		withSchema := func() *schema.Schema {
			props, err := client.Properties(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return schema.New(props)
		}
		o := withJournal(options(t, []byte(input), client))
		o.Mapping, o.Schema = spec, withSchema()
		if sum, err := Run(context.Background(), o); err != nil || sum.Created != 1 {
			t.Fatalf("first run: err %v, summary %+v", err, sum)
		}
		emu.AddProperty(emulator.Property{Name: "recurringbillingfrequency", Label: "Billing frequency", Type: "enumeration", FieldType: "select",
			HubSpotDefined: true, Options: []emulator.Option{{Label: "Monthly", Value: "per_month"}, {Label: "Yearly", Value: "per_year"}}})
		o.Input, o.Schema = strings.NewReader(input), withSchema()
		if sum, err := Run(context.Background(), o); err != nil || sum.Earlier != 1 || emu.LineItemCount() != 1 {
			t.Fatalf("after the option's value changed: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
		}
	})
}

// TestKeyAlreadyInThePortal: with a key, a row whose key a line item
// already holds, though this folder's journal has no record of it (another
// --out, another tool, a journal deleted), is that line item: created
// earlier, with its id, under every way HubSpot may report the conflict,
// and found by one lookup of the refused batch's keys.
func TestKeyAlreadyInThePortal(t *testing.T) {
	for _, perRow := range []bool{false, true} {
		for _, form := range conflictForms {
			t.Run(fmt.Sprintf("conflict per row=%v as %q", perRow, form), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					emu := newPortal(emulator.Config{RateMax: -1, Seed: 57, ConflictPerRow: perRow, ConflictAs: form})
					client := inMemory(t, emu, time.Minute)
					input := generate(t, 8, 57)
					o := keyed(t, emu, withJournal(options(t, input, client)), client)
					if sum, err := Run(context.Background(), o); err != nil || sum.Created != 8 {
						t.Fatalf("first run: err %v, summary %+v", err, sum)
					}
					ids := reportRows(t, o.OutDir, report.CreatedFile)
					o.OutDir = t.TempDir() // no journal
					o.Input = strings.NewReader(string(input))
					sum, err := Run(context.Background(), o)
					if err != nil || sum.Created != 8 || sum.Earlier != 8 || emu.LineItemCount() != 8 {
						t.Fatalf("another folder: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
					}
					// One batch create, refused; one lookup finds its rows.
					// (Narrowing the refusal by halves would take 15.)
					if sum.Requests != 1 {
						t.Errorf("another folder: %d batch requests, want 1", sum.Requests)
					}
					again := reportRows(t, o.OutDir, report.CreatedFile)
					for row, id := range ids {
						if again[row] != id {
							t.Errorf("row %d: %s, was created as %s", row, again[row], id)
						}
					}
				})
			})
		}
	}
}

// TestRejectedByThePortalsState: a row HubSpot rejected for the portal's
// state (an association to a deal that does not exist yet) is reported
// failed again, unsent, until --retry-rejected, once the deal exists.
func TestRejectedByThePortalsState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 58})
		header, data := lines(generate(t, 2, 58))
		file := fileOf(header, []string{data[0], withField(t, data[1], 9, "5000")})
		o := withJournal(options(t, file, inMemory(t, emu, time.Minute)))
		if sum, _ := Run(context.Background(), o); sum.Failed != 1 || sum.Created != 1 {
			t.Fatalf("first run: summary %+v", sum)
		}
		emu.SeedObjects("deals", "5000")
		o.Input = strings.NewReader(string(file))
		if sum, _ := Run(context.Background(), o); sum.Failed != 1 || sum.Requests != 0 {
			t.Fatalf("rerun: summary %+v; want the rejection carried over, nothing sent", sum)
		}
		failed := readCSV(t, filepath.Join(o.OutDir, report.FailedFile))
		if !strings.Contains(failed[1][len(failed[1])-1], "--retry-rejected") {
			t.Errorf("the message does not say how to send it again: %q", failed[1][len(failed[1])-1])
		}
		o.Input, o.RetryRejected = strings.NewReader(string(file)), true
		if sum, err := Run(context.Background(), o); err != nil || sum.Created != 2 || emu.LineItemCount() != 2 {
			t.Fatalf("with --retry-rejected: err %v, summary %+v, portal %d", err, sum, emu.LineItemCount())
		}
	})
}

// TestEarlierInDoubtNotInTheInput: a nightly file that no longer holds a
// row an earlier run left in doubt does not hide it. A run that reads its
// input to the end lists, in earlier_in_doubt.csv and the summary, the
// rows earlier runs left in doubt that the input did not hold; a row the
// input holds is settled as usual and not listed. Once no such row is
// left, the file goes.
func TestEarlierInDoubtNotInTheInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1})
		client := inMemory(t, emu, time.Minute)
		spec := skuProductSpec(t)
		o := withJournal(keyed(t, emu, options(t, nil, client), client))
		o.Mapping = spec
		// Earlier runs sent K1 and K9 and recorded no answer.
		seedJournal(t, o, "k:"+keyProp+":K1", "", "")
		seedJournal(t, o, "k:"+keyProp+":K9", "", "")
		path := filepath.Join(o.OutDir, EarlierInDoubtFile)

		o.Input = bytes.NewReader([]byte("SKU,Product\nK1,a\nK2,b\n"))
		sum, err := Run(context.Background(), o)
		if err != nil || sum.Created != 2 || sum.Extra["earlier_in_doubt"] != 1 {
			t.Fatalf("err %v, summary %+v; want K1 and K2 created and one row of earlier runs in doubt", err, sum)
		}
		recs := readCSV(t, path)
		if len(recs) != 2 || recs[0][0] != "key" || recs[1][0] != "K9" || recs[1][1] != "k:"+keyProp+":K9" || recs[1][2] != "NO_ANSWER" {
			t.Errorf("%s = %q, want K9 alone", EarlierInDoubtFile, recs)
		}

		// The next file holds K9: it is looked up, not found, and created.
		o.Input = bytes.NewReader([]byte("SKU,Product\nK9,z\n"))
		sum, err = Run(context.Background(), o)
		if err != nil || sum.Created != 1 || sum.Extra["earlier_in_doubt"] != 0 {
			t.Fatalf("err %v, summary %+v; want K9 created and no row of earlier runs in doubt", err, sum)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after K9 was settled: %v, want it gone", EarlierInDoubtFile, err)
		}
		perSKU := map[string]int{}
		for _, li := range emu.LineItems() {
			perSKU[li.Properties["hs_sku"]]++
		}
		if len(perSKU) != 3 || perSKU["K1"] != 1 || perSKU["K2"] != 1 || perSKU["K9"] != 1 {
			t.Errorf("the portal holds %v, want K1, K2 and K9 once each", perSKU)
		}
	})
}

// TestEarlierInDoubtFoundByKey: a row an earlier run left in doubt, not in
// tonight's file, whose line item exists (its request committed), is
// looked up by its key at the end of the run, recorded as created with the
// id found, and not listed in earlier_in_doubt.csv; a later file that
// holds it reports it created earlier, with that id, and creates nothing.
// One not found stays listed.
func TestEarlierInDoubtFoundByKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu, o := keyedSKUImport(t)
		// K9's request committed; the run that sent it stopped before its
		// answer. K8's did not commit.
		other := o
		other.OutDir, other.Input = t.TempDir(), bytes.NewReader([]byte("SKU,Product\nK9,z\n"))
		if sum, err := Run(context.Background(), other); err != nil || sum.Created != 1 {
			t.Fatalf("creating K9: %v %+v", err, sum)
		}
		id := emu.LineItems()[0].ID
		seedJournal(t, o, "k:"+keyProp+":K9", "", "")
		seedJournal(t, o, "k:"+keyProp+":K8", "", "")

		o.Input = bytes.NewReader([]byte("SKU,Product\nK1,a\n"))
		sum, err := Run(context.Background(), o)
		if err != nil || sum.Created != 1 || sum.Extra["earlier_in_doubt"] != 1 || sum.Extra["earlier_in_doubt_found"] != 1 {
			t.Fatalf("err %v, summary %+v; want K1 created, K9 found, K8 still in doubt", err, sum)
		}
		if recs := readCSV(t, filepath.Join(o.OutDir, EarlierInDoubtFile)); len(recs) != 2 || recs[1][0] != "K8" {
			t.Errorf("%s = %q, want K8 alone", EarlierInDoubtFile, recs)
		}

		before := emu.Stats().BatchCreates
		o.Input = bytes.NewReader([]byte("SKU,Product\nK9,z\n"))
		sum, err = Run(context.Background(), o)
		if err != nil || sum.Created != 1 || sum.Earlier != 1 || emu.Stats().BatchCreates != before {
			t.Fatalf("err %v, summary %+v, %d batch creates; want K9 created earlier, nothing sent", err, sum, emu.Stats().BatchCreates-before)
		}
		created := readCSV(t, filepath.Join(o.OutDir, report.CreatedFile))
		if len(created) != 2 || !slices.Contains(created[1], id) {
			t.Errorf("created.csv = %q, want K9 with id %s", created, id)
		}
	})
}

// TestStoppedWhileLookingUpEarlierDoubts: a signal while the rows earlier
// runs left in doubt are looked up stops the run: it says so (exit 130),
// its own rows keep their outcomes, and the earlier rows stay listed.
func TestStoppedWhileLookingUpEarlierDoubts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, o := keyedSKUImport(t)
		seedJournal(t, o, "k:"+keyProp+":K9", "", "")
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		finds := 0
		o.Finder = finderFunc(func(ctx context.Context, keys []string) (map[string]string, error) {
			if finds++; slices.Equal(keys, []string{"K9"}) {
				cancel(errors.New("interrupt")) // the signal comes during the lookup
			}
			<-ctx.Done()
			return nil, ctx.Err()
		})
		o.Input = bytes.NewReader([]byte("SKU,Product\nK1,a\n"))
		sum, err := Run(ctx, o)
		if !errors.Is(err, context.Canceled) || sum.Stopped != "interrupt" || sum.Created != 1 || finds != 1 {
			t.Fatalf("err %v, summary %+v, %d lookups; want K1 created and the run stopped during the lookup of K9", err, sum, finds)
		}
		if recs := readCSV(t, filepath.Join(o.OutDir, EarlierInDoubtFile)); len(recs) != 2 || recs[1][0] != "K9" {
			t.Errorf("%s = %q, want K9", EarlierInDoubtFile, recs)
		}
	})
}

// TestEarlierDoubtsLookupTimeCounts: the time the end-of-run lookup of
// earlier doubts takes is part of the run's elapsed time.
func TestEarlierDoubtsLookupTimeCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, o := keyedSKUImport(t)
		seedJournal(t, o, "k:"+keyProp+":K9", "", "")
		o.Finder = finderFunc(func(ctx context.Context, keys []string) (map[string]string, error) {
			if slices.Equal(keys, []string{"K9"}) {
				time.Sleep(90 * time.Second) // 30 reads at 3 s each
			}
			return map[string]string{}, nil
		})
		o.Input = bytes.NewReader([]byte("SKU,Product\nK1,a\n"))
		sum, err := Run(context.Background(), o)
		if err != nil || sum.ElapsedSeconds < 90 || sum.Extra["earlier_in_doubt_lookup_seconds"] != 90.0 ||
			!sum.FinishedAt.Equal(sum.StartedAt.Add(time.Duration(sum.ElapsedSeconds*float64(time.Second)))) {
			t.Errorf("err %v, elapsed %v s, lookup %v s, started %v, finished %v; want the 90 s lookup counted",
				err, sum.ElapsedSeconds, sum.Extra["earlier_in_doubt_lookup_seconds"], sum.StartedAt, sum.FinishedAt)
		}
	})
}

// keyedSKUImport is a portal without a rate limit, and a keyed import into
// it with a journal, its mapping SKU (the key) and Product. Call it inside
// a synctest bubble.
func keyedSKUImport(t *testing.T) (*emulator.Server, Options) {
	emu := newPortal(emulator.Config{RateMax: -1})
	client := inMemory(t, emu, time.Minute)
	o := withJournal(keyed(t, emu, options(t, nil, client), client))
	o.Mapping = skuProductSpec(t)
	return emu, o
}

// TestEarlierInDoubtSettledByAnUpsert: a key a create run left in doubt,
// upserted by a later run in the same folder, is settled by it: not
// listed as a row the input did not hold.
func TestEarlierInDoubtSettledByAnUpsert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := upsertPortal(emulator.Config{RateMax: -1})
		client := inMemory(t, emu, time.Minute)
		spec := skuProductSpec(t)
		o := withJournal(options(t, []byte("SKU,Product\nK5,a\n"), client))
		o.Mapping, o.KeyProperty, o.Upsert, o.Reader = spec, keyProp, true, client
		seedJournal(t, o, "k:"+keyProp+":K5", "", "")
		sum, err := Run(context.Background(), o)
		if err != nil || sum.Created != 1 || sum.Extra["earlier_in_doubt"] != 0 {
			t.Fatalf("err %v, summary %+v; want K5 upserted and no row of earlier runs in doubt", err, sum)
		}
		if _, err := os.Stat(filepath.Join(o.OutDir, EarlierInDoubtFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want none", EarlierInDoubtFile, err)
		}
		// The next night's file no longer holds K5: the journal says the
		// upsert settled it, on disk, not only in the run that met it.
		o.Input = strings.NewReader("SKU,Product\nK6,b\n")
		sum, err = Run(context.Background(), o)
		if err != nil || sum.Created != 1 || sum.Extra["earlier_in_doubt"] != 0 {
			t.Fatalf("next night: err %v, summary %+v; want K6 upserted and no row of earlier runs in doubt", err, sum)
		}
		if _, err := os.Stat(filepath.Join(o.OutDir, EarlierInDoubtFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("next night: %s: %v, want none", EarlierInDoubtFile, err)
		}
	})
}

// TestUpsertRefusesARowACreateRunLeftInDoubt: a key a create run sent
// without an answer may exist; an upsert run that refuses the row before
// sending it (a value HubSpot would reject, a malformed line) reports it in
// doubt, not failed, and the next night's file without it still lists it.
func TestUpsertRefusesARowACreateRunLeftInDoubt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := upsertPortal(emulator.Config{RateMax: -1})
		client := inMemory(t, emu, time.Minute)
		spec, err := mapping.Load(strings.NewReader("properties:\n  hs_sku: SKU\n  name: Product\n  quantity: Qty\nkey: SKU\n"))
		if err != nil {
			t.Fatal(err)
		}
		// K5's quantity is no number; K7's line has a field too many.
		o := withJournal(options(t, []byte("SKU,Product,Qty\nK5,a,many\nK6,b,2\nK7,c,3,x\n"), client))
		o.Mapping, o.KeyProperty, o.Upsert, o.Reader = spec, keyProp, true, client
		seedJournal(t, o, "k:"+keyProp+":K5", "", "")
		seedJournal(t, o, "k:"+keyProp+":K7", "", "")
		sum, err := Run(context.Background(), o)
		if sum == nil || sum.Created != 1 || sum.InDoubt != 2 || sum.Failed != 0 {
			t.Fatalf("err %v, summary %+v; want K6 upserted, K5 and K7 in doubt", err, sum)
		}
		o.Input = strings.NewReader("SKU,Product,Qty\nK6,b,2\n")
		sum, _ = Run(context.Background(), o)
		if sum == nil || sum.Extra["earlier_in_doubt"] != 2 {
			t.Fatalf("next night: summary %+v; want K5 and K7 still in doubt from earlier runs", sum)
		}
	})
}

// skuProductSpec maps SKU and Product, with SKU as the key.
func skuProductSpec(t *testing.T) *mapping.Spec {
	t.Helper()
	spec, err := mapping.Load(strings.NewReader("properties:\n  hs_sku: SKU\n  name: Product\nkey: SKU\n"))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}
