package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/journal"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/upload"
	"github.com/lineitems/importer/internal/watch"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const keyProp = "import_key"

// keyed prepares options that send each row's SKU in a unique property and
// look rows without a clear answer up by it.
func keyed(t testing.TB, emu *emulator.Server, o Options, client *hubspot.Client) Options {
	emu.AddProperty(emulator.Property{Name: keyProp, Label: "Import key", Type: "string", FieldType: "text", HasUniqueValue: true})
	o.KeyProperty = keyProp
	o.Reader = client
	o.SettleDelay = 2 * time.Second
	return o
}

// withJournal turns the journal on, as the command does for a file.
func withJournal(o Options) Options {
	o.Journal = journal.Header{Portal: 1}
	return o
}

// checkPortal asserts that the portal holds each SKU at most once, and
// exactly the created rows when nothing is in doubt.
func checkPortal(t *testing.T, emu *emulator.Server, sum *report.Summary) map[string]int {
	t.Helper()
	perSKU := map[string]int{}
	for _, li := range emu.LineItems() {
		perSKU[li.Properties["hs_sku"]]++
		if n := perSKU[li.Properties["hs_sku"]]; n > 1 {
			t.Fatalf("SKU %s created %d times", li.Properties["hs_sku"], n)
		}
	}
	if len(perSKU) < sum.Created || len(perSKU) > sum.Created+sum.InDoubt {
		t.Fatalf("portal holds %d line items; created %d, in doubt %d", len(perSKU), sum.Created, sum.InDoubt)
	}
	return perSKU
}

func TestFaults(t *testing.T) {
	const n = 3000
	cases := []struct {
		name    string
		faults  emulator.Faults
		keyed   bool
		timeout time.Duration
		// want: with a key every row is created; without, some are in doubt
		wantDoubt bool
	}{
		{name: "20% 5xx and 10% 429 with Retry-After, keyed",
			faults: emulator.Faults{ErrorRate: 0.2, RateLimitRate: 0.1, RetryAfter: true}, keyed: true},
		{name: "20% 5xx and 10% 429 without Retry-After, keyed",
			faults: emulator.Faults{ErrorRate: 0.2, RateLimitRate: 0.1}, keyed: true},
		{name: "20% 5xx and 10% 429, no key: 500/502 leave rows in doubt",
			faults: emulator.Faults{ErrorRate: 0.2, RateLimitRate: 0.1}, wantDoubt: true},
		{name: "5% committed then dropped, 5% committed then 502/504, keyed",
			faults: emulator.Faults{CommitThenDrop: 0.05, CommitThenErrorRate: 0.05}, keyed: true},
		{name: "5% committed then dropped, 5% committed then 502/504, no key",
			faults: emulator.Faults{CommitThenDrop: 0.05, CommitThenErrorRate: 0.05}, wantDoubt: true},
		{name: "every fault at once, keyed",
			faults: emulator.Faults{ErrorRate: 0.2, RateLimitRate: 0.1, CommitThenDrop: 0.05, CommitThenErrorRate: 0.05}, keyed: true},
	}
	for i, tc := range cases {
		for _, v := range versions {
			t.Run(tc.name+", "+string(v), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					emu := newPortal(emulator.Config{RateMax: -1, Seed: int64(100 + i)})
					emu.SetFaults(tc.faults)
					client, paths := versioned(t, emu, v)
					defer paths.checkVersion(t, v)
					o := withJournal(options(t, generate(t, n, uint64(i)), client))
					o.Policy.MaxAttempts = 30
					o.BatchSize = 25 // 120 requests: enough for every fault to strike
					if tc.keyed {
						o = keyed(t, emu, o, client)
						// With every fault at once, a resend gets no clear answer
						// about 30% of the time, so the default 5 rounds of lookup
						// and resend leave a batch in doubt in some runs (seen once
						// in 150 and once in 400; 0.3^5 per batch in doubt):
						// honestly reported, but not what this test is about. 12
						// rounds make that 0.3^12. The other keyed cases meet it
						// less often; they get the same rounds.
						o.MaxRounds = 12
					}
					sum, err := Run(context.Background(), o)
					st := emu.Stats()
					t.Logf("created %d, in doubt %d, requests %d, retries %d, throttled %d, looked up %v, found %v; emulator faults %d, searches %d",
						sum.Created, sum.InDoubt, sum.Requests, sum.Retries, sum.Throttled, sum.Extra["rows_looked_up"], sum.Extra["rows_found_by_key"], st.Faults, st.BatchReads)
					checkAccounting(t, o.OutDir, n, sum, nil)
					perSKU := checkPortal(t, emu, sum)
					if tc.wantDoubt {
						var ie *IncompleteError
						if !errors.As(err, &ie) || sum.InDoubt == 0 || sum.Failed != 0 {
							t.Fatalf("err = %v, summary %+v", err, sum)
						}
						return
					}
					if err != nil || sum.Created != n || len(perSKU) != n {
						doubt := readCSV(t, filepath.Join(o.OutDir, report.InDoubtFile))
						t.Fatalf("err = %v, summary %+v, portal %d; in doubt: %q", err, sum, len(perSKU), doubt[1:min(len(doubt), 3)])
					}
					if st.Faults == 0 || st.BatchReads == 0 && (tc.faults.CommitThenDrop > 0 || tc.faults.ErrorRate > 0) {
						t.Fatalf("faults %d, searches %d: the test did not exercise what it names", st.Faults, st.BatchReads)
					}
				})
			})
		}
	}
}

// TestSlowerThanTimeoutThenResume: every answer comes after the client's
// timeout (HubSpot processes each batch all the same), or half the batches
// are committed and their connections dropped, so rows are in doubt; a
// rerun once HubSpot is healthy looks them up, resends those not found,
// and ends with each row exactly once. After the slow answers, every row
// is found and nothing is sent again.
func TestSlowerThanTimeoutThenResume(t *testing.T) {
	for _, commit := range []bool{false, true} {
		t.Run(fmt.Sprint("committed=", commit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 1000
				emu := newPortal(emulator.Config{RateMax: -1, Seed: 21})
				input := generate(t, n, 21)
				client := inMemory(t, emu, 5*time.Second)
				o := keyed(t, emu, withJournal(options(t, input, client)), client)
				if commit {
					// Half the batches are committed before the connection drops.
					emu.SetFaults(emulator.Faults{CommitThenDrop: 0.5})
				} else {
					emu.SetFaults(emulator.Faults{Latency: 10 * time.Second})
				}
				sum, err := Run(context.Background(), o)
				var ie *IncompleteError
				if !commit && (!errors.As(err, &ie) || sum.InDoubt != n) {
					t.Fatalf("first run: err %v, summary %+v", err, sum)
				}
				checkAccounting(t, o.OutDir, n, sum, nil)
				checkPortal(t, emu, sum)

				time.Sleep(10 * time.Second) // HubSpot finishes what it received
				synctest.Wait()
				emu.SetFaults(emulator.Faults{})
				before := emu.Stats().BatchCreates
				rerunToTheEnd(t, o, input, emu, n)
				if sent := emu.Stats().BatchCreates - before; !commit && sent != 0 {
					t.Errorf("the rerun sent %d batches; HubSpot had processed every batch of the first run", sent)
				}
			})
		})
	}
}

// finderFunc adapts a function to upload.Finder.
type finderFunc func(ctx context.Context, keys []string) (map[string]string, error)

func (f finderFunc) Find(ctx context.Context, keys []string) (map[string]string, error) {
	return f(ctx, keys)
}

// TestStopBeforeLookupKeepsRowsInDoubt: every row of a first run is created
// but gets no answer; a second run, which must look them up before sending
// them again, is stopped at its first lookup, with the rest of its lookups
// queued. Those rows must stay in doubt, not become "not sent": a third run
// would otherwise send them blindly and create each one twice. With a file
// of one batch, the whole input is read before the stop: the run is still
// a stopped one (exit 130), not a finished one with rows in doubt.
func TestStopBeforeLookupKeepsRowsInDoubt(t *testing.T) {
	for _, n := range []int{200, 20} {
		t.Run(fmt.Sprint(n, " rows"), func(t *testing.T) { stopBeforeLookup(t, n) })
	}
}

func stopBeforeLookup(t *testing.T, n int) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 8})
		input := generate(t, n, 8)
		client := inMemory(t, emu, time.Minute)
		o := keyed(t, emu, withJournal(options(t, input, client)), client)
		o.Workers, o.BatchSize = 1, 25
		lookups := o.Finder
		unreachable := errors.New("search is unreachable")

		emu.SetFaults(emulator.Faults{CommitThenDrop: 1})
		o.Finder = finderFunc(func(context.Context, []string) (map[string]string, error) { return nil, unreachable })
		sum, err := Run(context.Background(), o)
		if sum.InDoubt != n || len(emu.LineItems()) != n {
			t.Fatalf("first run: err %v, summary %+v, portal %d; want every row created and in doubt", err, sum, len(emu.LineItems()))
		}

		emu.SetFaults(emulator.Faults{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		o.Finder = finderFunc(func(context.Context, []string) (map[string]string, error) {
			calls++
			cancel()
			return nil, unreachable
		})
		o.Input = strings.NewReader(string(input))
		sum, err = Run(ctx, o)
		if !errors.Is(err, context.Canceled) || calls != 1 || sum.Stopped == "" {
			t.Fatalf("second run: err %v after %d lookups, summary's stopped %q; want it stopped at the first", err, calls, sum.Stopped)
		}
		// It stopped reading too; every row it read must still be in doubt.
		if sum.Rows < min(50, n) || sum.InDoubt != sum.Rows || sum.Requests != 0 {
			t.Fatalf("second run: summary %+v; want every row read still in doubt and nothing sent", sum)
		}
		checkAccounting(t, o.OutDir, sum.Rows, sum, nil)

		o.Finder = lookups
		sum = rerunToTheEnd(t, o, input, emu, n)
		if sum.Requests != 0 {
			t.Fatalf("third run: %d requests; want every row found by its key, none sent", sum.Requests)
		}
		// The first run created them: they were there before this one.
		if sum.Earlier != n {
			t.Errorf("third run: %d of the %d rows found by key reported created earlier, want all", sum.Earlier, n)
		}
	})
}

// TestStopAtAHighPace: a run stopped while batches go out faster than one
// per 20 ms, so that the journal takes sent records to disk ahead of their
// batches, leaves no row in doubt: the batches still queued are recorded
// as not sent, in the reports and in the journal, and a rerun sends them.
func TestStopAtAHighPace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 3000
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 9})
		emu.SetFaults(emulator.Faults{Latency: time.Millisecond})
		input := generate(t, n, 9)
		o := withJournal(options(t, input, inMemory(t, emu, time.Minute)))
		o.BatchSize = 10 // 300 batches, 4 in flight: 4,000 a second
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(30*time.Millisecond, cancel)
		sum, err := Run(ctx, o)
		if !errors.Is(err, context.Canceled) || sum.Created == 0 || sum.Created > n/2 {
			t.Fatalf("err %v, summary %+v; want a run stopped partway", err, sum)
		}
		if sum.InDoubt != 0 {
			t.Fatalf("%d rows in doubt after a stop", sum.InDoubt)
		}
		jr, st, err := journal.Open(o.OutDir, o.Journal)
		if err != nil {
			t.Fatal(err)
		}
		created, failed, doubtful := st.Counts()
		jr.Close()
		st.Close()
		if created != sum.Created || failed != 0 || doubtful != 0 {
			t.Fatalf("journal: %d created, %d failed, %d in doubt; want %d, 0, 0", created, failed, doubtful, sum.Created)
		}
		rerunToTheEnd(t, o, input, emu, n)
	})
}

// rerunToTheEnd runs the import of input again and checks that it ends
// with each of its n rows created exactly once, as the reports say.
func rerunToTheEnd(t *testing.T, o Options, input []byte, emu *emulator.Server, n int) *report.Summary {
	t.Helper()
	o.Input = strings.NewReader(string(input))
	return runToTheEnd(t, o, emu, n)
}

// runToTheEnd runs the import o describes and checks that it ends with
// each of its n rows created exactly once, as the reports say.
func runToTheEnd(t *testing.T, o Options, emu *emulator.Server, n int) *report.Summary {
	t.Helper()
	sum, err := Run(context.Background(), o)
	if err != nil || sum.Created != n {
		t.Fatalf("err %v, summary %+v; want every row created", err, sum)
	}
	if got := len(checkPortal(t, emu, sum)); got != n {
		t.Fatalf("portal holds %d line items, want %d", got, n)
	}
	checkAccounting(t, o.OutDir, n, sum, emu)
	return sum
}

// TestDailyLimitThenNextDay: the quota runs out mid-file, the run stops
// with a message saying when it resets, and the rerun the next day
// finishes without duplicates.
func TestDailyLimitThenNextDay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 2000
		emu := newPortal(emulator.Config{RateMax: -1, DailyLimit: 12, Seed: 4})
		input := generate(t, n, 4)
		client := inMemory(t, emu, time.Minute)
		o := withJournal(options(t, input, client))
		sum, err := Run(context.Background(), o)
		var se *upload.StopError
		if !errors.As(err, &se) || se.Code != "DAILY_LIMIT" || !strings.Contains(err.Error(), "resets at midnight") {
			t.Fatalf("err = %v", err)
		}
		if sum.Created != 1200 || len(emu.LineItems()) != 1200 {
			t.Fatalf("created %d, portal %d", sum.Created, len(emu.LineItems()))
		}
		checkAccounting(t, o.OutDir, sum.Rows, sum, emu)

		emu.ResetDaily()
		o.Input = strings.NewReader(string(input))
		sum, err = Run(context.Background(), o)
		if err != nil || sum.Created != n || sum.Requests != 8 {
			t.Fatalf("next day: err %v, summary %+v", err, sum)
		}
		if got := len(checkPortal(t, emu, sum)); got != n {
			t.Fatalf("portal holds %d", got)
		}
		checkAccounting(t, o.OutDir, n, sum, emu)
	})
}

// TestDailyReserve: with --daily-reserve the run stops before eating into
// the quota left for other integrations, and resumes the next day.
func TestDailyReserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, DailyLimit: 20, Seed: 4})
		input := generate(t, 1000, 4)
		o := withJournal(options(t, input, inMemory(t, emu, time.Minute)))
		o.Workers, o.DailyReserve = 1, 15
		sum, err := Run(context.Background(), o)
		var se *upload.StopError
		if !errors.As(err, &se) || se.Code != "DAILY_RESERVE" {
			t.Fatalf("err = %v", err)
		}
		if sum.Requests != 5 || sum.Created != 500 || emu.Stats().Throttled != 0 {
			t.Fatalf("requests %d, created %d, throttled %d; want 5 requests leaving 15 of 20", sum.Requests, sum.Created, emu.Stats().Throttled)
		}
		if got := sum.Extra["daily_remaining"]; got != 15 {
			t.Errorf("summary daily_remaining = %v", got)
		}
		emu.ResetDaily()
		o.Input = strings.NewReader(string(input))
		if sum, err = Run(context.Background(), o); err != nil || sum.Created != 1000 || len(checkPortal(t, emu, sum)) != 1000 {
			t.Fatalf("next day: err %v, summary %+v", err, sum)
		}
	})
}

// TestDailyReserveWithoutDailyHeaders: answers without the daily-limit
// headers (HubSpot sends none to OAuth apps) leave --daily-reserve
// unchecked; the run imports everything and says, in a warning and in the
// summary, that the reserve was not kept.
func TestDailyReserveWithoutDailyHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 4})
		o := withJournal(options(t, generate(t, 300, 4), inMemory(t, emu, time.Minute)))
		o.DailyReserve = 15
		core, logs := observer.New(zap.WarnLevel)
		o.Log = zap.New(core)
		sum, err := Run(context.Background(), o)
		if err != nil || sum.Created != 300 {
			t.Fatalf("err %v, summary %+v", err, sum)
		}
		if sum.Extra["daily_reserve_unchecked"] != true {
			t.Errorf("summary extra %v; want daily_reserve_unchecked", sum.Extra)
		}
		if w := logs.FilterMessageSnippet("--daily-reserve was not checked").All(); len(w) != 1 {
			t.Errorf("warnings %v; want one saying the reserve was not checked", logs.All())
		}
	})
}

// TestSpillFailureRecordsRowsRead: a run that stops because a spill file
// cannot be written (a full disk, its folder gone) records every row it
// read: the row it was handling and the rows waiting in the batchers are
// not sent, none missing from the reports, and nothing is sent after the
// failure. Keyed rows spill their keys, keyless rows their contents.
func TestSpillFailureRecordsRowsRead(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprint("keyed=", keyed), func(t *testing.T) { spillFailure(t, keyed) })
	}
}

func spillFailure(t *testing.T, withKey bool) {
	emu := newPortal(emulator.Config{RateMax: -1, Seed: 3})
	client := inMemory(t, emu, time.Minute)
	const n = 40 // more than spillAfter: the 17th row's identity goes to a file
	o := options(t, generate(t, n, 3), client)
	if withKey {
		o = keyed(t, emu, o, client)
	}
	moved := breakSpillFiles(t, &o)
	sum, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "spillmap") {
		t.Fatalf("err = %v, want the spill file's", err)
	}
	if got := len(emu.LineItems()); got != 0 {
		t.Errorf("the portal holds %d line items; nothing may be sent once the run fails", got)
	}
	// The 16th identity fills the map's memory and is the first to go to
	// a file: rows 1 to 15 wait in the batcher, row 16 meets the failure.
	var rows []int
	for _, name := range reportFiles {
		recs := readCSV(t, filepath.Join(moved, name))
		if name != report.NotSentFile && len(recs) > 1 {
			t.Errorf("%s holds %d rows, want none", name, len(recs)-1)
		}
		for _, rec := range recs[1:] {
			row, _ := strconv.Atoi(rec[len(rec)-3])
			rows = append(rows, row)
		}
	}
	slices.Sort(rows)
	var want []int
	for i := 1; i <= spillAfter; i++ {
		want = append(want, i)
	}
	if !slices.Equal(rows, want) || sum.NotSent != spillAfter {
		t.Errorf("reports hold rows %v (summary: %d not sent), want rows 1 to %d not sent", rows, sum.NotSent, spillAfter)
	}
}

// TestSpillFailureKeepsDoubt: an earlier run left every row of a keyless
// file in doubt (each batch committed, then answered 502). A rerun that
// fails on the spill file of row contents cannot tell which of the rows
// with a content the row it was handling is: it reports that row in doubt,
// like the rows it read before, and none as never sent.
func TestSpillFailureKeepsDoubt(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1, Seed: 3})
	client := inMemory(t, emu, time.Minute)
	const n = 40
	input := generate(t, n, 3)
	o := withJournal(options(t, input, client))
	emu.SetFaults(emulator.Faults{CommitThenErrorRate: 1, CommitThenStatuses: []int{502}})
	sum, err := Run(context.Background(), o)
	if sum == nil || sum.InDoubt != n {
		t.Fatalf("first run: %+v, %v; want all %d rows in doubt", sum, err, n)
	}
	emu.SetFaults(emulator.Faults{})
	o.Input = bytes.NewReader(input)
	moved := breakSpillFiles(t, &o)
	sum, err = Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "spillmap") {
		t.Fatalf("err = %v, want the spill file's", err)
	}
	if got := len(emu.LineItems()); got != n {
		t.Errorf("the portal holds %d line items, want the first run's %d", got, n)
	}
	doubt := readCSV(t, filepath.Join(moved, report.InDoubtFile))[1:]
	if ns := readCSV(t, filepath.Join(moved, report.NotSentFile))[1:]; len(ns) != 0 || len(doubt) != spillAfter || sum.InDoubt != spillAfter {
		t.Errorf("%d rows in doubt (summary %d), %d not sent; want all %d rows read in doubt", len(doubt), sum.InDoubt, len(ns), spillAfter)
	}
}

// TestInputWrittenOver: an input written over while it was read (its
// reader ends with a *watch.ChangedError) sends none of the rows read and
// not yet sent, which may mix the file's two versions: they are not sent.
// Nor does one still being written when the reader gave up on it: the
// next run sends them with the rest.
func TestInputWrittenOver(t *testing.T) {
	for _, appending := range []bool{false, true} {
		t.Run(fmt.Sprint("appending=", appending), func(t *testing.T) {
			emu := newPortal(emulator.Config{RateMax: -1, Seed: 7})
			const n = 50 // one batch, sent only once the input ends
			o := withJournal(options(t, nil, inMemory(t, emu, time.Minute)))
			changed := &watch.ChangedError{Name: "test.csv", Why: "test", Appending: appending}
			o.Input = io.MultiReader(bytes.NewReader(generate(t, n, 7)), errReader{changed})
			sum, err := Run(context.Background(), o)
			if !errors.Is(err, changed) {
				t.Fatalf("err = %v, want the reader's", err)
			}
			want := 0
			if got := emu.LineItemCount(); got != want || sum.Created != want || sum.NotSent != n-want {
				t.Errorf("the portal holds %d line items; summary %d created, %d not sent; want %d created", got, sum.Created, sum.NotSent, want)
			}
		})
	}
}

// errReader is a reader that fails with its error.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// breakSpillFiles makes o's run unable to write spill files once every
// report is open: the folder moves away and a file takes its place. It
// returns where the folder went.
func breakSpillFiles(t *testing.T, o *Options) (moved string) {
	moved = o.OutDir + ".moved"
	opened := 0
	o.OpenReport = func(path string) (report.File, error) {
		f, err := report.OpenFile(path)
		if opened++; opened == len(reportFiles) {
			if err := os.Rename(o.OutDir, moved); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(o.OutDir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return f, err
	}
	return moved
}

var reportFiles = []string{report.CreatedFile, report.FailedFile, report.InDoubtFile, report.NotSentFile}

// twoIdenticalRows sets up a keyless import of two identical rows, one a
// batch, with a journal, into a new portal.
func twoIdenticalRows(t *testing.T, seed int64) (*emulator.Server, *hubspot.Client, []byte, Options) {
	emu := newPortal(emulator.Config{RateMax: -1, Seed: seed})
	client := inMemory(t, emu, time.Minute)
	input := []byte("name,hs_sku,quantity\nWidget,X1,2\nWidget,X1,2\n")
	o := withJournal(options(t, input, client))
	o.Mapping, o.Workers, o.BatchSize = nil, 1, 1
	return emu, client, input, o
}

// stopAfterCreate is a Sender whose run stops once its first batch create
// has its answer.
type stopAfterCreate struct {
	*hubspot.Client
	cancel func()
}

func (s stopAfterCreate) BatchCreate(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
	res, err := s.Client.BatchCreate(ctx, body)
	s.cancel()
	return res, err
}

// TestNotSentFedBackWithoutKey: without a key property, identical rows are
// known by their place among each other in their own file. Fed back,
// not_sent.csv would make the second of two identical rows the first, and
// pass it for the row already created (it would never be created); its
// rows are refused instead, and the command that wrote it, run again,
// creates the second.
func TestNotSentFedBackWithoutKey(t *testing.T) {
	emu, client, input, o := twoIdenticalRows(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Sender = stopAfterCreate{client, cancel}
	sum, _ := Run(ctx, o)
	if sum == nil || sum.Created != 1 || sum.NotSent != 1 || len(emu.LineItems()) != 1 {
		t.Fatalf("first run: %+v, portal %d", sum, len(emu.LineItems()))
	}
	notSent, err := os.ReadFile(filepath.Join(o.OutDir, report.NotSentFile))
	if err != nil {
		t.Fatal(err)
	}

	o.Sender, o.Input = client, bytes.NewReader(notSent)
	sum, _ = Run(context.Background(), o)
	if sum == nil || sum.Created != 0 || sum.NotSent != 1 || len(emu.LineItems()) != 1 {
		t.Fatalf("not_sent.csv fed back: %+v, portal %d", sum, len(emu.LineItems()))
	}
	refused := readCSV(t, filepath.Join(o.OutDir, report.NotSentFile))
	if len(refused) != 2 || !strings.Contains(refused[1][len(refused[1])-1], "run the command that wrote the report again") {
		t.Fatalf("not_sent.csv of the run fed it: %v", refused)
	}

	o.Input = bytes.NewReader(input)
	sum, _ = Run(context.Background(), o)
	if sum == nil || sum.Created != 2 || len(emu.LineItems()) != 2 {
		t.Fatalf("the first command again: %+v, portal %d", sum, len(emu.LineItems()))
	}
}

// TestInDoubtFedBackWithoutKey: without a key property, a row of
// in_doubt.csv fed back cannot be told from the other rows with its
// content, and is reported in doubt as it was; the doubt an earlier run
// left with its content is its own, not a row "missing from this input".
// Of two identical rows and a third, all in doubt, the fed-back file holds
// one of the two and the third (a line deleted by hand): only the other
// of the two is listed in earlier_in_doubt.csv.
func TestInDoubtFedBackWithoutKey(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1, Seed: 6})
	client := inMemory(t, emu, time.Minute)
	input := []byte("name,hs_sku,quantity\nWidget,X1,2\nWidget,X1,2\nGadget,Y1,1\n")
	o := withJournal(options(t, input, client))
	o.Mapping, o.Workers, o.BatchSize = nil, 1, 1
	emu.SetFaults(emulator.Faults{CommitThenErrorRate: 1, CommitThenStatuses: []int{502}})
	sum, _ := Run(context.Background(), o)
	if sum == nil || sum.InDoubt != 3 || len(emu.LineItems()) != 3 {
		t.Fatalf("first run: %+v, portal %d", sum, len(emu.LineItems()))
	}
	doubt := readCSV(t, filepath.Join(o.OutDir, report.InDoubtFile))
	var fed bytes.Buffer
	w := csv.NewWriter(&fed)
	_ = w.Write(doubt[0])
	for _, rec := range doubt[1:] {
		if rec[0] == "Widget" && rec[len(rec)-3] == "2" {
			continue // one of the two identical rows, deleted
		}
		_ = w.Write(rec)
	}
	w.Flush()

	o.Input = bytes.NewReader(fed.Bytes())
	sum, _ = Run(context.Background(), o)
	if sum == nil || sum.InDoubt != 2 || sum.Rows != 2 || len(emu.LineItems()) != 3 {
		t.Fatalf("in_doubt.csv fed back: %+v, portal %d", sum, len(emu.LineItems()))
	}
	if sum.Extra["earlier_in_doubt"] != 1 || sum.Extra["earlier_in_doubt_fed_back"] != 2 {
		t.Errorf("earlier_in_doubt %v, of them fed back %v; want 1 and 2", sum.Extra["earlier_in_doubt"], sum.Extra["earlier_in_doubt_fed_back"])
	}
	if listed := readCSV(t, filepath.Join(o.OutDir, EarlierInDoubtFile)); len(listed) != 2 {
		t.Errorf("%s lists %d rows, want the one identical row not fed back: %v", EarlierInDoubtFile, len(listed)-1, listed)
	}
}

// refuseSecond is a Sender whose second batch create is answered 408, a
// refusal that leaves its rows not sent with the code HTTP_408.
type refuseSecond struct {
	*hubspot.Client
	n *int
}

func (s refuseSecond) BatchCreate(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
	if *s.n++; *s.n == 2 {
		return nil, &hubspot.APIError{StatusCode: 408}
	}
	return s.Client.BatchCreate(ctx, body)
}

// TestNotSentFedBackByItsColumn: a not_sent.csv row is known as one by its
// error_report column, whatever its code (HTTP_408 here, a code failed.csv
// holds too for other statuses), and refused when fed back without a key;
// a report written before that column was is refused by the codes only
// not_sent.csv and in_doubt.csv hold.
func TestNotSentFedBackByItsColumn(t *testing.T) {
	emu, client, _, o := twoIdenticalRows(t, 6)
	o.Policy.MaxAttempts = 1
	n := 0
	o.Sender = refuseSecond{client, &n}
	sum, _ := Run(context.Background(), o)
	notSent := readCSV(t, filepath.Join(o.OutDir, report.NotSentFile))
	if sum == nil || sum.Created != 1 || sum.NotSent != 1 || len(notSent) != 2 || notSent[1][len(notSent[1])-2] != "HTTP_408" {
		t.Fatalf("first run: %+v\n%v", sum, notSent)
	}
	feed := func(recs [][]string) []byte {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.WriteAll(recs)
		return b.Bytes()
	}
	at := slices.Index(notSent[0], "error_report")
	if at < 0 || notSent[1][at] != "not_sent" {
		t.Fatalf("not_sent.csv without its error_report: %v", notSent)
	}
	older := [][]string{slices.Delete(slices.Clone(notSent[0]), at, at+1), slices.Delete(slices.Clone(notSent[1]), at, at+1)}
	older[1][len(older[1])-2] = report.CodeNotSent
	o.Sender = client
	for name, recs := range map[string][][]string{"as written": notSent, "without error_report, code NOT_SENT": older} {
		o.Input = bytes.NewReader(feed(recs))
		sum, _ = Run(context.Background(), o)
		if sum == nil || sum.NotSent != 1 || sum.Created != 0 || len(emu.LineItems()) != 1 {
			t.Errorf("fed back %s: %+v, portal %d; want the row refused", name, sum, len(emu.LineItems()))
		}
	}
}

// TestFedBackReportEncoding: a report is UTF-8. Fed back with the
// single-byte encoding of the nightly file it came from, its accented
// letters would reach HubSpot as two characters each: the run is refused
// before anything is sent. The same file saved in that encoding (by a
// spreadsheet, say) is read with it.
func TestFedBackReportEncoding(t *testing.T) {
	emu := newPortal(emulator.Config{RateMax: -1, Seed: 9})
	client := inMemory(t, emu, time.Minute)
	report := "name,hs_sku,quantity,error_report,raw_line,error_row,error_code,error_message\n" +
		"Thé vert,X1,2,failed,,2,INVALID_VALUE,fixed\n"
	o := withJournal(options(t, []byte(report), client))
	o.Mapping, o.Workers = nil, 1
	o.CSV.Encoding = "windows-1252"
	_, err := Run(context.Background(), o)
	var se *SetupError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "run without --encoding") {
		t.Fatalf("a UTF-8 report read as windows-1252: %v; want it refused", err)
	}
	if n := len(emu.LineItems()); n != 0 {
		t.Fatalf("%d line items created by a refused run", n)
	}

	o.Input = strings.NewReader(strings.ReplaceAll(report, "é", "\xe9"))
	sum, err := Run(context.Background(), o)
	if err != nil || sum.Created != 1 {
		t.Fatalf("the report saved in windows-1252: %v %+v", err, sum)
	}
	for _, li := range emu.LineItems() {
		if li.Properties["name"] != "Thé vert" {
			t.Errorf("name %q, want %q", li.Properties["name"], "Thé vert")
		}
	}
}

// TestKeyColumnWithoutKeyProperty: a mapping that names a key column, run
// without --key-property, is a keyless run, and says so in a warning; with
// the key property, no such warning.
func TestKeyColumnWithoutKeyProperty(t *testing.T) {
	for _, withKey := range []bool{false, true} {
		t.Run(fmt.Sprint("key property=", withKey), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := newPortal(emulator.Config{RateMax: -1, Seed: 4})
				client := inMemory(t, emu, time.Minute)
				o := withJournal(options(t, generate(t, 20, 4), client))
				if withKey {
					o = keyed(t, emu, o, client)
				}
				core, logs := observer.New(zap.WarnLevel)
				o.Log = zap.New(core)
				if sum, err := Run(context.Background(), o); err != nil || sum.Created != 20 {
					t.Fatalf("err %v, summary %+v", err, sum)
				}
				n := len(logs.FilterMessageSnippet("no --key-property was given").All())
				if want := map[bool]int{false: 1, true: 0}[withKey]; n != want {
					t.Errorf("%d warnings of a key column without --key-property, want %d: %v", n, want, logs.All())
				}
			})
		})
	}
}
