package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/resolve"
	"github.com/lineitems/importer/internal/watch"
)

// versions are the API generations every upsert test runs under.
var versions = []hubspot.APIVersion{hubspot.V3, hubspot.V202609}

// pathLog records the paths of the requests a client sends.
type pathLog struct {
	next  http.RoundTripper
	mu    sync.Mutex
	paths map[string]int
}

func (p *pathLog) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	if p.paths == nil {
		p.paths = map[string]int{}
	}
	p.paths[r.URL.Path]++
	p.mu.Unlock()
	return p.next.RoundTrip(r)
}

// checkVersion fails the test if a request went to a path of the other
// API generation. The association labels and the account details have one
// path in both.
func (p *pathLog) checkVersion(t *testing.T, v hubspot.APIVersion) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for path := range p.paths {
		shared := strings.HasSuffix(path, "/labels") || strings.HasPrefix(path, "/account-info/")
		dated := strings.Contains(path, "/2026-09/")
		if !shared && dated != (v == hubspot.V202609) {
			t.Errorf("API %s: a request went to %s", v, path)
		}
	}
}

// versioned returns a client of emu for API version v, and its path log.
func versioned(t testing.TB, emu *emulator.Server, v hubspot.APIVersion) (*hubspot.Client, *pathLog) {
	return versionedTimeout(t, emu, v, time.Minute)
}

// versionedTimeout is versioned with the client's timeout.
func versionedTimeout(t testing.TB, emu *emulator.Server, v hubspot.APIVersion, timeout time.Duration) (*hubspot.Client, *pathLog) {
	log := &pathLog{next: emu.Transport()}
	c, err := hubspot.NewClient(&http.Client{Transport: log, Timeout: timeout}, "http://127.0.0.1", hubspot.NewToken(token), "test")
	if err != nil {
		t.Fatal(err)
	}
	c.UseAPIVersion(v)
	return c, log
}

// upsertPortal is a portal with the unique key property.
func upsertPortal(cfg emulator.Config) *emulator.Server {
	emu := newPortal(cfg)
	emu.AddProperty(emulator.Property{Name: keyProp, Label: "Import key", Type: "string", FieldType: "text", HasUniqueValue: true})
	return emu
}

// upsertRun imports input in upsert mode with the journal kept in state.
func upsertRun(t *testing.T, emu *emulator.Server, client *hubspot.Client, input []byte, state string) (*report.Summary, Options, error) {
	t.Helper()
	o := withJournal(options(t, input, client))
	o.KeyProperty, o.Reader, o.Targets, o.Upsert, o.StateDir = keyProp, client, client, true, state
	sum, err := Run(context.Background(), o)
	return sum, o, err
}

// mapped maps every row of a sample file, by SKU.
func mapped(t *testing.T, input []byte) map[string]hubspot.CreateInput {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(input))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	m, err := sampleSpec(t).Compile(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]hubspot.CreateInput{}
	for _, rec := range recs[1:] {
		in, err := m.Map(rec)
		if err != nil {
			t.Fatal(err)
		}
		out[rec[0]] = in
	}
	return out
}

// checkHolds asserts that the portal holds each SKU of want once, with
// want's values and (at least) its associations.
func checkHolds(t *testing.T, emu *emulator.Server, want map[string]hubspot.CreateInput) {
	t.Helper()
	seen := map[string]int{}
	for _, li := range emu.LineItems() {
		sku := li.Properties["hs_sku"]
		if seen[sku]++; seen[sku] > 1 {
			t.Fatalf("SKU %s is on the portal twice", sku)
		}
		if li.Properties[keyProp] != sku {
			t.Errorf("line item %s: key %q, SKU %q", li.ID, li.Properties[keyProp], sku)
		}
		in, ok := want[sku]
		if !ok {
			continue
		}
		for _, nv := range in.Properties {
			if got := li.Properties[nv.Name]; got != nv.Value {
				t.Errorf("SKU %s: %s = %q, want the file's %q", sku, nv.Name, got, nv.Value)
			}
		}
		for _, a := range in.Associations {
			found := false
			for _, la := range li.Associations {
				found = found || la.ToID == a.To.ID
			}
			if !found {
				t.Errorf("SKU %s: no association to %s (has %+v)", sku, a.To.ID, li.Associations)
			}
		}
	}
	for sku := range want {
		if seen[sku] != 1 {
			t.Errorf("SKU %s is on the portal %d times", sku, seen[sku])
		}
	}
}

// reportRecords reads a report, each line by its header's names.
func reportRecords(t *testing.T, dir, name string) []map[string]string {
	t.Helper()
	recs := readCSV(t, filepath.Join(dir, name))
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

// actions counts created.csv's action column.
func actions(t *testing.T, dir string) map[string]int {
	t.Helper()
	rows := reportRecords(t, dir, report.CreatedFile)
	out := map[string]int{}
	for _, r := range rows {
		out[r["action"]]++
	}
	return out
}

// TestUpsertTwice: a file upserted, then the next night's file with new
// values for the same keys and some new keys, leaves each key once with
// the second file's values and associations; the second night's rerun
// sends nothing; and without the journal, the key alone still makes a
// rerun update, not duplicate. Under both API versions.
func TestUpsertTwice(t *testing.T) {
	for _, v := range versions {
		t.Run(string(v), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 61})
				client, paths := versioned(t, emu, v)
				state := t.TempDir()
				night1, night2 := generate(t, 300, 1), generate(t, 350, 2)

				sum, o, err := upsertRun(t, emu, client, night1, state)
				if err != nil || sum.Created != 300 {
					t.Fatalf("night 1: err %v, summary %+v", err, sum)
				}
				if a := actions(t, o.OutDir); a["created"] != 300 {
					t.Errorf("night 1 actions %v, want 300 created", a)
				}
				checkHolds(t, emu, mapped(t, night1))

				sum, o, err = upsertRun(t, emu, client, night2, state)
				if err != nil || sum.Created != 350 {
					t.Fatalf("night 2: err %v, summary %+v", err, sum)
				}
				if a := actions(t, o.OutDir); a["updated"] != 300 || a["created"] != 50 {
					t.Errorf("night 2 actions %v, want 300 updated and 50 created", a)
				}
				if emu.LineItemCount() != 350 {
					t.Errorf("%d line items, want 350", emu.LineItemCount())
				}
				checkHolds(t, emu, mapped(t, night2))

				before := emu.Stats().BatchUpserts
				sum, o, err = upsertRun(t, emu, client, night2, state)
				if err != nil || sum.Created != 350 || sum.Requests != 0 || emu.Stats().BatchUpserts != before {
					t.Fatalf("night 2 again: err %v, summary %+v, upserts %d → %d", err, sum, before, emu.Stats().BatchUpserts)
				}
				if a := actions(t, o.OutDir); a["unchanged"] != 350 {
					t.Errorf("night 2 again: actions %v, want 350 unchanged", a)
				}

				// The journal gone (another machine, say): the keys alone.
				sum, o, err = upsertRun(t, emu, client, night2, t.TempDir())
				if err != nil || sum.Created != 350 {
					t.Fatalf("without the journal: err %v, summary %+v", err, sum)
				}
				if a := actions(t, o.OutDir); a["updated"] != 350 {
					t.Errorf("without the journal: actions %v, want 350 updated", a)
				}
				if emu.LineItemCount() != 350 || emu.Stats().BatchReads != 0 {
					t.Errorf("%d line items (want 350), %d batch reads (want none)", emu.LineItemCount(), emu.Stats().BatchReads)
				}
				checkHolds(t, emu, mapped(t, night2))
				paths.checkVersion(t, v)
			})
		})
	}
}

// TestUpsertFaults: every fault at once, and each of HubSpot's undocumented
// behaviours, in upsert mode: every row is created or updated, exactly
// once on the portal, none in doubt, and nothing is looked up.
func TestUpsertFaults(t *testing.T) {
	const n = 2000
	every := emulator.Faults{ErrorRate: 0.2, RateLimitRate: 0.1, CommitThenDrop: 0.05, CommitThenErrorRate: 0.05, LateCommitRate: 0.05, LateCommit: 3 * time.Second}
	cases := []struct {
		name    string
		cfg     emulator.Config
		timeout time.Duration // the client's; 0 means a minute
		faults  *emulator.Faults
	}{
		{"defaults", emulator.Config{}, 0, nil},
		// A fifth of the upserts commit 3 s late, after the client gave up
		// on them: the resend may meet its own row being committed.
		{"late commits after the client gave up", emulator.Config{}, time.Second,
			&emulator.Faults{LateCommitRate: 0.2, LateCommit: 3 * time.Second, ErrorRate: 0.1}},
		{"results without trace ids", emulator.Config{UpsertOmitsTraceID: true}, 0, nil},
		{"unique values without regard to case", emulator.Config{UniqueCaseInsensitive: true}, 0, nil},
		{"conflicts per row, counted at completion", emulator.Config{ConflictPerRow: true, CountAtCompletion: true}, 0, nil},
		{"conflicts per row, late commits", emulator.Config{ConflictPerRow: true}, time.Second,
			&emulator.Faults{LateCommitRate: 0.2, LateCommit: 3 * time.Second}},
		{"2026-09 answering 207, associations outside the window", emulator.Config{MultiStatus2026: true, AssociationsBurstExempt: true}, 0, nil},
	}
	for i, tc := range cases {
		for _, v := range versions {
			t.Run(tc.name+", "+string(v), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					cfg := tc.cfg
					cfg.RateMax, cfg.Seed = -1, int64(300+i)
					emu := upsertPortal(cfg)
					faults, timeout := every, time.Minute
					if tc.faults != nil {
						faults = *tc.faults
					}
					if tc.timeout > 0 {
						timeout = tc.timeout
					}
					emu.SetFaults(faults)
					client, paths := versionedTimeout(t, emu, v, timeout)
					input := generate(t, n, uint64(i))
					o := withJournal(options(t, input, client))
					o.KeyProperty, o.Upsert, o.StateDir = keyProp, true, t.TempDir()
					o.Policy.MaxAttempts, o.MaxRounds, o.BatchSize = 30, 12, 25
					sum, err := Run(context.Background(), o)
					// Late commits the client gave up on land before the
					// portal is checked (the bubble's clock is fake).
					time.Sleep(2 * faults.LateCommit)
					st := emu.Stats()
					t.Logf("created %d, in doubt %d, requests %d, retries %d; emulator faults %d, upserts %d, association creates %d, reads %d",
						sum.Created, sum.InDoubt, sum.Requests, sum.Retries, st.Faults, st.BatchUpserts, st.AssociationCreates, st.BatchReads)
					checkAccounting(t, o.OutDir, n, sum, nil)
					if err != nil || sum.Created != n || sum.InDoubt != 0 {
						t.Fatalf("err = %v, summary %+v", err, sum)
					}
					if st.Faults == 0 || st.BatchReads != 0 {
						t.Fatalf("faults %d, batch reads %d: want faults, and no lookups", st.Faults, st.BatchReads)
					}
					checkHolds(t, emu, mapped(t, input))
					paths.checkVersion(t, v)
				})
			})
		}
	}
}

// TestUpsertAssociationFailureIsItsOwnOutcome: a row upserted whose
// association HubSpot refuses is failed with its id and the reason, never
// created; once the target exists, the same command makes it.
func TestUpsertAssociationFailureIsItsOwnOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 62})
		client, _ := versioned(t, emu, hubspot.V3)
		state := t.TempDir()
		input := generate(t, 40, 3)
		// Row 7 names a deal the portal does not have yet.
		recs, _ := csv.NewReader(bytes.NewReader(input)).ReadAll()
		recs[7][9] = "4242"
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.WriteAll(recs)
		input = b.Bytes()

		sum, o, err := upsertRun(t, emu, client, input, state)
		var ie *IncompleteError
		if !errors.As(err, &ie) || sum.Failed != 1 || sum.Created != 39 {
			t.Fatalf("err %v, summary %+v; want 39 created and 1 failed", err, sum)
		}
		failed := reportRecords(t, o.OutDir, report.FailedFile)
		if len(failed) != 1 || failed[0]["error_code"] != "ASSOCIATION_FAILED" || !strings.Contains(failed[0]["error_message"], "4242") {
			t.Fatalf("failed.csv = %v", failed)
		}
		var id string
		for _, li := range emu.LineItems() {
			if li.Properties["hs_sku"] == "SKU-0000007" {
				id = li.ID
			}
		}
		if id == "" || !strings.Contains(failed[0]["error_message"], id) {
			t.Errorf("row 7 is on the portal as %q; the message should name it: %s", id, failed[0]["error_message"])
		}

		// A night whose file no longer holds row 7: the row, unlinked,
		// is listed in earlier_in_doubt.csv, not forgotten.
		var night bytes.Buffer
		w = csv.NewWriter(&night)
		_ = w.WriteAll(append(slices.Clone(recs[:7]), recs[8:]...))
		sum, o, err = upsertRun(t, emu, client, night.Bytes(), state)
		if err != nil || sum.Extra["earlier_unlinked"] != 1 || sum.Extra["earlier_in_doubt"] != 0 {
			t.Fatalf("a night without row 7: err %v, summary %+v; want it listed as upserted without its association", err, sum)
		}
		listed, err := os.ReadFile(filepath.Join(o.OutDir, EarlierInDoubtFile))
		if err != nil || !strings.Contains(string(listed), "SKU-0000007") || !strings.Contains(string(listed), "ASSOCIATION_FAILED") {
			t.Fatalf("%s = %q, %v; want row 7 listed as ASSOCIATION_FAILED", EarlierInDoubtFile, listed, err)
		}

		// The whole file again, the deal still missing: row 7 fails again,
		// in failed.csv alone.
		sum, _, err = upsertRun(t, emu, client, input, state)
		if !errors.As(err, &ie) || sum.Failed != 1 || sum.Extra["earlier_unlinked"] != 0 {
			t.Fatalf("the file again: err %v, summary %+v; want row 7 failed, and not listed as missing from the input", err, sum)
		}

		emu.SeedObjects("deals", "4242")
		sum, _, err = upsertRun(t, emu, client, input, state)
		if err != nil || sum.Created != 40 {
			t.Fatalf("rerun: err %v, summary %+v", err, sum)
		}
		checkHolds(t, emu, mapped(t, input))
	})
}

// externalMapping is the sample mapping with the deal named by its
// legacy_deal_id instead of its id.
const externalMapping = `properties:
  hs_sku: SKU
  name: Product
  price: {column: Unit Price, type: number}
associations:
  - {column: Legacy Deal, to: deal, by: legacy_deal_id}
key: SKU
`

// TestAssociationsByExternalID: rows name their deal by a unique property
// of the deal's; the importer reads each value once (a hundred to a
// read), associates the row with the deal that holds it, and fails a row
// whose value no deal holds before sending it. In both modes and both API
// versions.
func TestAssociationsByExternalID(t *testing.T) {
	for _, upsert := range []bool{false, true} {
		for _, v := range versions {
			t.Run(fmt.Sprintf("upsert=%v, %s", upsert, v), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 63})
					var ids []string
					for d := 2001; d <= 2250; d++ {
						ids = append(ids, fmt.Sprint(d))
					}
					emu.SeedObjects("deals", ids...)
					emu.SeedUnique("deals", "legacy_deal_id", func(id string) string { return "LD-" + id })
					client, paths := versioned(t, emu, v)
					var b bytes.Buffer
					b.WriteString("SKU,Product,Unit Price,Legacy Deal\n")
					const n = 600
					for i := 1; i <= n; i++ {
						legacy := fmt.Sprintf("LD-%d", 2001+i%250)
						switch i {
						case 77:
							legacy = "LD-9999" // no such deal
						case 78:
							legacy = "ld-2001" // another case: not the same value
						case 79:
							legacy = ""
						}
						fmt.Fprintf(&b, "SKU-%d,Thing %d,%d.50,%s\n", i, i, i, legacy)
					}
					spec, err := mapping.Load(strings.NewReader(externalMapping))
					if err != nil {
						t.Fatal(err)
					}
					o := withJournal(options(t, b.Bytes(), client))
					o.Mapping, o.KeyProperty, o.Reader, o.Targets, o.Upsert, o.StateDir = spec, keyProp, client, client, upsert, t.TempDir()
					sum, err := Run(context.Background(), o)
					var ie *IncompleteError
					if !errors.As(err, &ie) || sum.Failed != 2 || sum.Created != n-2 {
						t.Fatalf("err %v, summary %+v; want %d created and 2 failed", err, sum, n-2)
					}
					for _, f := range reportRecords(t, o.OutDir, report.FailedFile) {
						if f["error_code"] != CodeTargetNotFound || !strings.Contains(f["error_message"], "legacy_deal_id") {
							t.Errorf("failed row %s: %s %s", f["error_row"], f["error_code"], f["error_message"])
						}
					}
					if st := emu.Stats(); st.BatchReads != 3 { // 250 distinct values and ld-2001: 251, a hundred to a read
						t.Errorf("%d batch reads, want 3", st.BatchReads)
					}
					for _, li := range emu.LineItems() {
						var i int
						fmt.Sscanf(li.Properties["hs_sku"], "SKU-%d", &i)
						want := fmt.Sprint(2001 + i%250)
						if i == 79 {
							if len(li.Associations) != 0 {
								t.Errorf("row 79 (no deal): associations %+v", li.Associations)
							}
							continue
						}
						if len(li.Associations) != 1 || li.Associations[0].ToID != want {
							t.Errorf("row %d: associations %+v, want deal %s", i, li.Associations, want)
						}
					}
					paths.checkVersion(t, v)
				})
			})
		}
	}
}

// TestDuplicateKeysLastWins: of the rows that share a key, last-wins sends
// only the last, records the others in superseded.csv (no failure: the
// run ends without error), and the portal holds the last row's values;
// without it, the later rows fail as DUPLICATE_KEY. In both modes.
func TestDuplicateKeysLastWins(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("SKU,Product,Unit Price\n")
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&b, "K%d,Thing %d,%d.00\n", i, i, i)
	}
	b.WriteString("K5,Thing 5 b,500.00\nK5,Thing 5 c,5000.00\nK7,Thing 7 b,700.00\n")
	input := b.Bytes()
	spec, err := mapping.Load(strings.NewReader("properties:\n  hs_sku: SKU\n  name: Product\n  price: {column: Unit Price, type: number}\nkey: SKU\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, upsert := range []bool{false, true} {
		for _, lastWins := range []bool{false, true} {
			t.Run(fmt.Sprintf("upsert=%v last-wins=%v", upsert, lastWins), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 64})
					client := inMemory(t, emu, time.Minute)
					o := withJournal(options(t, input, client))
					o.Mapping, o.KeyProperty, o.Reader, o.Upsert, o.LastWins = spec, keyProp, client, upsert, lastWins
					sum, err := Run(context.Background(), o)
					byKey := map[string]emulator.LineItem{}
					for _, li := range emu.LineItems() {
						if _, dup := byKey[li.Properties[keyProp]]; dup {
							t.Fatalf("key %s twice on the portal", li.Properties[keyProp])
						}
						byKey[li.Properties[keyProp]] = li
					}
					if len(byKey) != 100 {
						t.Fatalf("%d keys on the portal, want 100", len(byKey))
					}
					if !lastWins {
						var ie *IncompleteError
						if !errors.As(err, &ie) || sum.Failed != 3 || sum.Created != 100 {
							t.Fatalf("err %v, summary %+v; want 100 created and 3 DUPLICATE_KEY", err, sum)
						}
						if p := byKey["K5"].Properties["price"]; p != "5" && p != "5.00" {
							t.Errorf("K5 price %q, want the first row's", p)
						}
						return
					}
					if err != nil || sum.Created != 100 || sum.Superseded != 3 || sum.Rows != 103 {
						t.Fatalf("err %v, summary %+v; want 100 created and 3 superseded", err, sum)
					}
					sup := reportRecords(t, o.OutDir, report.SupersededFile)
					var rows []string
					for _, r := range sup {
						rows = append(rows, r["error_row"])
						if r["error_code"] != CodeSuperseded {
							t.Errorf("superseded.csv row %s: code %s", r["error_row"], r["error_code"])
						}
					}
					if strings.Join(rows, ",") != "5,7,101" {
						t.Errorf("superseded rows %v, want 5, 7 and 101", rows)
					}
					if p := byKey["K5"].Properties["price"]; p != "5000" && p != "5000.00" {
						t.Errorf("K5 price %q, want the last row's 5000", p)
					}
					if n := byKey["K7"].Properties["name"]; n != "Thing 7 b" {
						t.Errorf("K7 name %q, want the last row's", n)
					}
				})
			})
		}
	}
}

// TestUpsertPlan: a dry run (and validate) in upsert mode reads the keys
// and says how many rows would be created and how many updated, sending
// nothing.
func TestUpsertPlan(t *testing.T) {
	for _, validate := range []bool{false, true} {
		t.Run(fmt.Sprint("validate=", validate), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 65})
				client := inMemory(t, emu, time.Minute)
				if _, _, err := upsertRun(t, emu, client, generate(t, 30, 1), t.TempDir()); err != nil {
					t.Fatal(err)
				}
				input := generate(t, 52, 2) // rows 1-30 exist, 31-52 are new
				recs, _ := csv.NewReader(bytes.NewReader(input)).ReadAll()
				recs[40][4] = "twelve" // two rows that fail before sending
				recs[41][4] = "abc"
				var b bytes.Buffer
				_ = csv.NewWriter(&b).WriteAll(recs)
				o := options(t, b.Bytes(), client)
				o.KeyProperty, o.Upsert, o.Targets, o.Pacer = keyProp, true, client, NewPacer(0, 0)
				o.DryRun, o.ValidateOnly = !validate, validate
				o.Sender = nil
				before := emu.Stats()
				sum, _ := Run(context.Background(), o)
				after := emu.Stats()
				if sum.Extra["plan_create"] != 20 || sum.Extra["plan_update"] != 30 || sum.Failed != 2 {
					t.Errorf("plan: create %v, update %v, failing %d; want 20, 30 and 2", sum.Extra["plan_create"], sum.Extra["plan_update"], sum.Failed)
				}
				if after.BatchUpserts != before.BatchUpserts || after.BatchCreates != before.BatchCreates || after.BatchReads-before.BatchReads != 1 {
					t.Errorf("a plan sent %d upserts, %d creates and %d reads; want one read",
						after.BatchUpserts-before.BatchUpserts, after.BatchCreates-before.BatchCreates, after.BatchReads-before.BatchReads)
				}
			})
		})
	}
}

// TestUpsertValuesComeBack: values A, then B, then A again for the same
// keys: the third night sends A again (the journal keeps each key's last
// values, not every values it ever had), and the portal ends with A.
func TestUpsertValuesComeBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 66})
		client := inMemory(t, emu, time.Minute)
		state := t.TempDir()
		a, b := generate(t, 50, 1), generate(t, 50, 2)
		for night, input := range [][]byte{a, b, a} {
			sum, o, err := upsertRun(t, emu, client, input, state)
			if err != nil || sum.Created != 50 {
				t.Fatalf("night %d: err %v, summary %+v", night+1, err, sum)
			}
			want := map[string]int{"created": 50}
			if night > 0 {
				want = map[string]int{"updated": 50}
			}
			if got := actions(t, o.OutDir); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("night %d: actions %v, want %v", night+1, got, want)
			}
		}
		checkHolds(t, emu, mapped(t, a))
	})
}

// TestUpsertKeysThatDifferOnlyInCase: in upsert mode AB-1 and ab-1 are one
// key, whichever way the portal compares unique values: the second row
// fails as DUPLICATE_KEY (with last-wins, the first is superseded), so no
// two rows are ever reported with one line item's id.
func TestUpsertKeysThatDifferOnlyInCase(t *testing.T) {
	// The second pair differs in a final sigma, which strings.ToLower
	// keeps apart from "σ" and case folding does not.
	for _, keys := range [][2]string{{"AB-1", "ab-1"}, {"ΟΔΟΣ-1", "οδος-1"}} {
		for _, fold := range []bool{false, true} {
			for _, lastWins := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s %s case-insensitive portal=%v last-wins=%v", keys[0], keys[1], fold, lastWins), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 67, UniqueCaseInsensitive: fold})
						client := inMemory(t, emu, time.Minute)
						input := withKeys(generate(t, 3, 67), keys[0], keys[1])
						o := withJournal(options(t, input, client))
						o.KeyProperty, o.Upsert, o.LastWins = keyProp, true, lastWins
						sum, _ := Run(context.Background(), o)
						ids := map[string]int{}
						for _, r := range reportRecords(t, o.OutDir, report.CreatedFile) {
							if ids[r["id"]]++; ids[r["id"]] > 1 {
								t.Errorf("two rows reported as line item %s", r["id"])
							}
						}
						if lastWins {
							if sum.Superseded != 1 || sum.Created != 2 || sum.Failed != 0 {
								t.Errorf("summary %+v; want row 1 superseded, 2 created", sum)
							}
							return
						}
						failed := reportRecords(t, o.OutDir, report.FailedFile)
						if len(failed) != 1 || failed[0]["error_row"] != "2" || failed[0]["error_code"] != CodeDuplicateKey {
							t.Errorf("failed.csv %v; want row 2 DUPLICATE_KEY", failed)
						}
					})
				})
			}
		}
	}
}

// TestCreateAfterUpsertIsRefused: a create run on a journal upsert runs
// wrote to is refused before anything is sent (an upserted row may lack
// its associations, which a create run would not see); an upsert run on a
// create run's journal is fine.
func TestCreateAfterUpsertIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 68})
		client := inMemory(t, emu, time.Minute)
		state := t.TempDir()
		input := generate(t, 20, 1)
		create := func() (*report.Summary, error) {
			o := withJournal(options(t, input, client))
			o.KeyProperty, o.Reader, o.StateDir = keyProp, client, state
			return Run(context.Background(), o)
		}
		if sum, err := create(); err != nil || sum.Created != 20 {
			t.Fatalf("create: %+v, %v", sum, err)
		}
		if sum, _, err := upsertRun(t, emu, client, input, state); err != nil || sum.Created != 20 {
			t.Fatalf("upsert after create: %+v, %v", sum, err)
		}
		before := emu.Stats().Requests
		_, err := create()
		var se *SetupError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "--mode upsert") || emu.Stats().Requests != before {
			t.Errorf("create after upsert: err %v, %d requests; want it refused before sending", err, emu.Stats().Requests-before)
		}
		// The journal says so too, without the folder's marker file.
		if err := os.Remove(filepath.Join(state, UpsertsFile)); err != nil {
			t.Fatal(err)
		}
		if _, err := create(); !errors.As(err, &se) || !strings.Contains(err.Error(), "--mode upsert") || emu.Stats().Requests != before {
			t.Errorf("create after upsert, the marker file removed: err %v, %d requests; want it refused before sending", err, emu.Stats().Requests-before)
		}
	})
}

// changingFile reads as before until it is rewound, then as after: a file
// rewritten in place between the two readings of last-wins.
type changingFile struct {
	r     *bytes.Reader
	after []byte
}

func (c *changingFile) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *changingFile) Seek(off int64, whence int) (int64, error) {
	c.r = bytes.NewReader(c.after)
	return c.r.Seek(off, whence)
}

// TestLastWinsInputChanged: a file rewritten in place between the reading
// for each key's last row and the import: rows to be superseded by a row
// that no longer has their key are not sent and reported so, never
// superseded by nothing; in doubt, if an earlier run sent their key
// without a clear answer. The run ends as one whose input was written over
// (a *watch.ChangedError: exit 75, try again later).
func TestLastWinsInputChanged(t *testing.T) {
	for _, sentBefore := range []bool{false, true} {
		t.Run(fmt.Sprint("K1 sent before without an answer=", sentBefore), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 69})
				client := inMemory(t, emu, time.Minute)
				spec := skuProductSpec(t)
				before := "SKU,Product\nK1,a\nK2,b\nK1,c\n"
				after := "SKU,Product\nK1,a\nK1,b\nK3,c\n"
				o := withJournal(options(t, nil, client))
				o.Input = &changingFile{r: bytes.NewReader([]byte(before)), after: []byte(after)}
				o.Mapping, o.KeyProperty, o.Upsert, o.LastWins = spec, keyProp, true, true
				file, inDoubt := report.NotSentFile, 0
				if sentBefore {
					seedJournal(t, o, "u:"+keyProp+":K1", "", "")
					file, inDoubt = report.InDoubtFile, 2
				}
				sum, err := Run(context.Background(), o)
				var ce *watch.ChangedError
				// Row 3, read from the new version before the change was
				// seen, may have been sent: created, or not sent.
				if !errors.As(err, &ce) || sum.Stopped == "" || sum.InDoubt != inDoubt || sum.Created+sum.NotSent+sum.InDoubt != 3 || sum.Superseded != 0 {
					t.Fatalf("err %v, summary %+v; want rows 1 and 2 in %s, and the run stopped as one whose input was written over", err, sum, file)
				}
				var recs []map[string]string
				for _, r := range reportRecords(t, o.OutDir, file) {
					if r["error_row"] != "3" {
						recs = append(recs, r)
					}
				}
				if len(recs) != 2 {
					t.Errorf("%s holds %d of rows 1 and 2, want both", file, len(recs))
				}
				for _, r := range recs {
					if !strings.Contains(r["error_message"], "changed") {
						t.Errorf("row %s: %s", r["error_row"], r["error_message"])
					}
				}
			})
		})
	}
}

// TestLastWinsFedBackMalformedRow: a failed.csv fed back with last-wins,
// whose last row for a key is one that could not be read in its own file
// (MALFORMED_ROW, refused again as it is): that row takes the key from no
// row. The fixed row before it is sent, and the input, which did not
// change, is not taken for one written over.
func TestLastWinsFedBackMalformedRow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu, o := keyedSKUImport(t)
		o.LastWins = true
		o.Input = bytes.NewReader([]byte("SKU,Product,error_report,raw_line,error_row,error_code,error_message\n" +
			"K1,a,failed,,2,,\n" +
			"K1,b,failed,\"K1,\"\"b\",3,MALFORMED_ROW,bare quote\n"))
		sum, err := Run(context.Background(), o)
		var ce *watch.ChangedError
		if errors.As(err, &ce) || sum.Stopped != "" || sum.Created != 1 || sum.Failed != 1 || sum.Superseded != 0 || sum.NotSent != 0 {
			t.Fatalf("err %v, summary %+v; want the fixed row created and the malformed one failed", err, sum)
		}
		created := reportRecords(t, o.OutDir, report.CreatedFile)
		failed := reportRecords(t, o.OutDir, report.FailedFile)
		if len(created) != 1 || created[0]["Product"] != "a" || len(failed) != 1 || failed[0]["error_code"] != CodeMalformed {
			t.Errorf("created.csv %v, failed.csv %v", created, failed)
		}
		if n := len(emu.LineItems()); n != 1 {
			t.Errorf("the portal holds %d line items, want 1", n)
		}
	})
}

// TestStaleSupersededReportIsRemoved: a run without last-wins leaves no
// superseded.csv of an earlier run beside its reports.
func TestStaleSupersededReportIsRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 70})
		client := inMemory(t, emu, time.Minute)
		input := withKeys(generate(t, 3, 70), "K1", "K2", "K1")
		out := t.TempDir()
		for _, lastWins := range []bool{true, false} {
			o := withJournal(options(t, input, client))
			o.OutDir, o.StateDir, o.KeyProperty, o.Upsert, o.LastWins = out, t.TempDir(), keyProp, true, lastWins
			_, _ = Run(context.Background(), o)
			_, err := os.Stat(filepath.Join(out, report.SupersededFile))
			if exists := err == nil; exists != lastWins {
				t.Errorf("last-wins=%v: superseded.csv there: %v", lastWins, exists)
			}
		}
	})
}

// silentReads answers batch reads as next does, without their errors: an
// answer silent about the values no record holds.
type silentReads struct{ next resolve.Reader }

func (s silentReads) BatchReadObjects(ctx context.Context, objectType string, req hubspot.BatchReadRequest) (*hubspot.BatchReadResult, error) {
	res, err := s.next.BatchReadObjects(ctx, objectType, req)
	if res != nil {
		res.Errors = nil
	}
	return res, err
}

// TestTargetSilentlyMissing: a read of association targets whose answer is
// silent about a value (it names no "not found" error) fails that value's
// rows as not found, before they are sent; the run does not stop.
func TestTargetSilentlyMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := upsertPortal(emulator.Config{RateMax: -1, Seed: 65})
		emu.SeedObjects("deals", "2001", "2002")
		emu.SeedUnique("deals", "legacy_deal_id", func(id string) string { return "LD-" + id })
		client := inMemory(t, emu, time.Minute)
		input := "SKU,Product,Unit Price,Legacy Deal\nSKU-1,A,1.50,LD-2001\nSKU-2,B,2.50,LD-9999\nSKU-3,C,3.50,LD-2002\n"
		spec, err := mapping.Load(strings.NewReader(externalMapping))
		if err != nil {
			t.Fatal(err)
		}
		o := withJournal(options(t, []byte(input), client))
		o.Mapping, o.KeyProperty, o.Reader, o.Targets = spec, keyProp, client, silentReads{client}
		sum, err := Run(context.Background(), o)
		var ie *IncompleteError
		if !errors.As(err, &ie) || sum.Created != 2 || sum.Failed != 1 {
			t.Fatalf("err %v, summary %+v; want 2 created and 1 failed", err, sum)
		}
		if f := reportRows(t, o.OutDir, report.FailedFile); f[2] != CodeTargetNotFound {
			t.Errorf("failed rows %v, want row 2 %s", f, CodeTargetNotFound)
		}
	})
}
