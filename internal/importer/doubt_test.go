package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/schema"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// Tests of the rule that a row that may exist stays "may exist" until
// proof, each a scenario that lost or duplicated rows before the rule had
// one place (package rowstate).

// scripted is a RoundTripper in front of the emulator. hook sees each
// request with its number among the requests to the same path; it returns
// an answer to give instead of forwarding the request, or nil to forward.
type scripted struct {
	next http.RoundTripper
	hook func(path string, n int, req *http.Request) (*http.Response, error)

	mu sync.Mutex
	n  map[string]int
}

func (s *scripted) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[req.URL.Path]++
	n := s.n[req.URL.Path]
	s.mu.Unlock()
	if s.hook != nil {
		if resp, err := s.hook(req.URL.Path, n, req); resp != nil || err != nil {
			return resp, err
		}
	}
	return s.next.RoundTrip(req)
}

func (s *scripted) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[path]
}

const createPath = "/crm/v3/objects/line_items/batch/create"

// gatewayPage is a 502 from the edge: HubSpot never saw the request.
func gatewayPage(req *http.Request) *http.Response {
	return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {"text/html"}},
		Body: io.NopCloser(strings.NewReader("<html><body>502 Bad Gateway</body></html>")), Request: req}
}

func clientVia(t testing.TB, rt http.RoundTripper, timeout time.Duration) *hubspot.Client {
	c, err := hubspot.NewClient(&http.Client{Transport: rt, Timeout: timeout}, "http://127.0.0.1", hubspot.NewToken(token), "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withKeys replaces the SKU (the key) of each data line of a sample file.
func withKeys(input []byte, keys ...string) []byte {
	lines := strings.SplitAfter(string(input), "\n")
	for i, k := range keys {
		_, rest, _ := strings.Cut(lines[i+1], ",")
		lines[i+1] = k + "," + rest
	}
	return []byte(strings.Join(lines, ""))
}

// reportRows reads a report into row → (id or error code).
func reportRows(t *testing.T, dir, name string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, rec := range readCSV(t, filepath.Join(dir, name))[1:] {
		if name == report.CreatedFile {
			out[atoi(rec[0])] = rec[1]
		} else {
			out[atoi(rec[len(rec)-3])] = rec[len(rec)-2]
		}
	}
	return out
}

// TestKeysThatDifferOnlyInCase: row 1 (ABC-1) is created; row 2 (abc-1)
// gets a 502 that HubSpot never saw. Row 2 must not be reported created
// with row 1's id. On a portal that compares unique values byte for byte
// it is created on its own; on one that ignores case HubSpot refuses it as
// a conflict, and it fails.
func TestKeysThatDifferOnlyInCase(t *testing.T) {
	for _, fold := range []bool{false, true} {
		for _, perRow := range []bool{false, true} {
			for _, form := range conflictForms {
				t.Run(fmt.Sprintf("case-insensitive=%v conflict-per-row=%v as %q", fold, perRow, form), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						emu := newPortal(emulator.Config{RateMax: -1, Seed: 31, UniqueCaseInsensitive: fold, ConflictPerRow: perRow, ConflictAs: form})
						input := withKeys(generate(t, 2, 31), "ABC-1", "abc-1")
						rt := &scripted{next: emu.Transport(), hook: func(path string, n int, req *http.Request) (*http.Response, error) {
							if path == createPath && n == 2 {
								return gatewayPage(req), nil
							}
							return nil, nil
						}}
						client := clientVia(t, rt, time.Minute)
						o := keyed(t, emu, withJournal(options(t, input, client)), client)
						o.BatchSize, o.Workers = 1, 1
						sum, err := Run(context.Background(), o)
						checkAccounting(t, o.OutDir, 2, sum, nil)
						created := reportRows(t, o.OutDir, report.CreatedFile)
						failed := reportRows(t, o.OutDir, report.FailedFile)
						items := map[string]string{} // id → key
						for _, li := range emu.LineItems() {
							items[li.ID] = li.Properties[keyProp]
						}
						for row, id := range created {
							if want := []string{"ABC-1", "abc-1"}[row-1]; items[id] != want {
								t.Errorf("row %d (%s) reported created as %s, which holds %q", row, want, id, items[id])
							}
						}
						if id1, id2 := created[1], created[2]; id1 == "" || id1 == id2 {
							t.Fatalf("created %v: two rows share an id, or row 1 is missing", created)
						}
						if fold {
							var ie *IncompleteError
							if !errors.As(err, &ie) || failed[2] != "CONFLICT" || len(items) != 1 {
								t.Errorf("err %v, failed %v, portal %v: want row 2 failed as a conflict", err, failed, items)
							}
						} else if err != nil || len(created) != 2 || len(items) != 2 {
							t.Errorf("err %v, created %v, portal %v: want both rows created", err, created, items)
						}
					})
				})
			}
		}
	}
}

// conflictForms are the ways the emulator can word a unique-value
// conflict (emulator.Config.ConflictAs).
var conflictForms = []string{emulator.ConflictCategory, emulator.ConflictAlreadyExists, emulator.ConflictValidation}

// TestInterruptedRetryInDoubtKeepsDoubt: run 1 leaves every row in doubt
// (HubSpot committed, then answered 502). Run 2, with --retry-in-doubt and
// no key, is stopped after its first resend. Run 3, the plain command,
// must send nothing: no row may have turned into "not sent".
func TestInterruptedRetryInDoubtKeepsDoubt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 40
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 32})
		input := generate(t, n, 32)
		o := withJournal(options(t, input, inMemory(t, emu, time.Minute)))
		o.BatchSize, o.Workers = 10, 1
		emu.SetFaults(emulator.Faults{CommitThenErrorRate: 1})
		sum, _ := Run(context.Background(), o)
		if sum.InDoubt != n || emu.LineItemCount() != n {
			t.Fatalf("run 1: summary %+v, portal %d; want every row created and in doubt", sum, emu.LineItemCount())
		}

		emu.SetFaults(emulator.Faults{Latency: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		rt := &stopAfter{next: emu.Transport(), n: 1, cancel: cancel}
		o2 := o
		o2.Sender = clientVia(t, rt, 5*time.Second) // the resend times out after the stop
		o2.Policy.RetryInDoubt = true
		o2.Input = strings.NewReader(string(input))
		sum, err := Run(ctx, o2)
		cancel()
		if !errors.Is(err, context.Canceled) || rt.count.Load() != 1 {
			t.Fatalf("run 2: err %v after %d requests; want it stopped after the first", err, rt.count.Load())
		}
		if sum.Rows < 10 || sum.InDoubt != sum.Rows {
			t.Fatalf("run 2: summary %+v; want every row it read still in doubt", sum)
		}

		// HubSpot finishes the resend it received although its client
		// stopped waiting: its rows now exist twice, which --retry-in-doubt
		// without a key accepts.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		held := emu.LineItemCount()
		if held != n+10 {
			t.Fatalf("after run 2: portal %d, want %d (the resend processed)", held, n+10)
		}

		emu.SetFaults(emulator.Faults{})
		o.Input = strings.NewReader(string(input))
		before := emu.Stats().BatchCreates
		sum, _ = Run(context.Background(), o)
		if sent := emu.Stats().BatchCreates - before; sent != 0 || sum.InDoubt != n || emu.LineItemCount() != held {
			t.Fatalf("run 3: %d batches sent, summary %+v, portal %d; want nothing sent and every row still in doubt", sent, sum, emu.LineItemCount())
		}
	})
}

// TestConflictOnResendIsTheRow: a batch's first request is processed by
// HubSpot only after the client gave up on it and after the lookup that
// followed, so the lookup finds nothing and the rows are sent again; the
// resend then meets the first request's line items. Under both ways of
// reporting a conflict, every row ends created with the id of the line item
// that holds its key, and nothing is created twice.
func TestConflictOnResendIsTheRow(t *testing.T) {
	for _, perRow := range []bool{false, true} {
		for _, form := range conflictForms {
			t.Run(fmt.Sprintf("conflict per row=%v as %q", perRow, form), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					const n = 8
					emu := newPortal(emulator.Config{RateMax: -1, Seed: 33, ConflictPerRow: perRow, ConflictAs: form})
					input := generate(t, n, 33)
					var held sync.WaitGroup
					release := make(chan struct{})
					rt := &scripted{next: emu.Transport()}
					rt.hook = func(path string, n int, req *http.Request) (*http.Response, error) {
						switch {
						case path == createPath && n == 1:
							// Lost on the way back; HubSpot processes it later.
							body, _ := io.ReadAll(req.Body)
							late, _ := http.NewRequest(req.Method, req.URL.String(), strings.NewReader(string(body)))
							late.Header = req.Header.Clone()
							held.Go(func() {
								<-release
								if resp, err := emu.Transport().RoundTrip(late); err == nil {
									resp.Body.Close()
								}
							})
							return nil, &hubspot.TransportError{Sent: true, Err: io.ErrUnexpectedEOF}
						case strings.HasSuffix(path, "/batch/read") && n == 1:
							resp, err := rt.next.RoundTrip(req) // the lookup finds nothing yet
							close(release)
							held.Wait()
							return resp, err
						}
						return nil, nil
					}
					client := clientVia(t, rt, time.Minute)
					o := keyed(t, emu, withJournal(options(t, input, client)), client)
					o.Workers = 1
					runToTheEnd(t, o, emu, n)
					if c := rt.count(createPath); c < 2 {
						t.Fatalf("%d batch creates: the resend never met the conflict", c)
					}
				})
			})
		}
	}
}

// leftInDoubt runs an import of n keyed rows whose every create commits
// and then gets a 502, with lookups unavailable: every row ends in doubt,
// and the portal holds them all. It returns the options for the next run,
// with the faults cleared but the lookups still unavailable.
func leftInDoubt(t *testing.T, n int, seed uint64) (*emulator.Server, []byte, *hubspot.Client, Options) {
	t.Helper()
	emu := newPortal(emulator.Config{RateMax: -1, Seed: int64(seed)})
	input := generate(t, n, seed)
	client := inMemory(t, emu, time.Minute)
	o := keyed(t, emu, withJournal(options(t, input, client)), client)
	o.Finder = finderFunc(func(context.Context, []string) (map[string]string, error) {
		return nil, errors.New("lookups unavailable")
	})
	emu.SetFaults(emulator.Faults{CommitThenErrorRate: 1})
	if sum, _ := Run(context.Background(), o); sum.InDoubt != n || emu.LineItemCount() != n {
		t.Fatalf("run 1: summary %+v; want every row created and in doubt", sum)
	}
	emu.SetFaults(emulator.Faults{})
	return emu, input, client, o
}

// TestResumeLooksUpBeforeRevalidating: rows an earlier run left in doubt
// are looked up before they are checked against the portal's property
// definitions, which may have changed since: a row that exists is created,
// not failed.
func TestResumeLooksUpBeforeRevalidating(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 30
		emu, input, client, o := leftInDoubt(t, n, 34)
		// The portal's currency options change: every row's value is now
		// invalid for it.
		emu.AddProperty(emulator.Property{Name: "hs_line_item_currency_code", Label: "Currency", Type: "enumeration", FieldType: "select",
			HubSpotDefined: true, Options: []emulator.Option{{Label: "Yen", Value: "JPY"}}})
		props, err := client.Properties(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		o.Finder = nil
		o.Schema = schema.New(props)
		o.Input = strings.NewReader(string(input))
		sum, err := Run(context.Background(), o)
		if err != nil || sum.Created != n || sum.Requests != 0 {
			t.Fatalf("run 2: err %v, summary %+v; want every row found by key, none failed or sent", err, sum)
		}
		checkAccounting(t, o.OutDir, n, sum, emu)
	})
}

// TestLookupsNeedNoSearchIndex: with HubSpot's search index an hour
// behind, rows whose answer was lost are still found by key at once.
func TestLookupsNeedNoSearchIndex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 500
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 35, SearchLag: time.Hour})
		input := generate(t, n, 35)
		client := inMemory(t, emu, time.Minute)
		o := keyed(t, emu, withJournal(options(t, input, client)), client)
		o.SettleDelay = 0
		emu.SetFaults(emulator.Faults{CommitThenDrop: 0.3, CommitThenErrorRate: 0.2})
		sum, err := Run(context.Background(), o)
		if err != nil || sum.Created != n || sum.InDoubt != 0 {
			t.Fatalf("err %v, summary %+v; want every row created, none in doubt", err, sum)
		}
		if got := len(checkPortal(t, emu, sum)); got != n {
			t.Fatalf("portal holds %d line items, want %d", got, n)
		}
		checkAccounting(t, o.OutDir, n, sum, emu)
		st := emu.Stats()
		if st.BatchReads == 0 || st.Searches != 0 || st.Faults == 0 {
			t.Fatalf("stats %+v: want lookups by batch read, no search", st)
		}
	})
}

// TestRepeatedKeyNeverSharesAnID: two rows with one key. The second is
// refused before sending, with or without the portal's property
// definitions, also on a resume where the first is carried over from the
// journal; so a lookup by key can never give it the first row's line item.
func TestRepeatedKeyNeverSharesAnID(t *testing.T) {
	for _, withSchema := range []bool{false, true} {
		t.Run(fmt.Sprint("property definitions=", withSchema), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := newPortal(emulator.Config{RateMax: -1, Seed: 41})
				input := withKeys(generate(t, 3, 41), "DUP-1", "DUP-1", "OTHER")
				gateway := true // every create after the first is lost at the gateway
				rt := &scripted{next: emu.Transport(), hook: func(path string, n int, req *http.Request) (*http.Response, error) {
					if path == createPath && n > 1 && gateway {
						return gatewayPage(req), nil
					}
					return nil, nil
				}}
				client := clientVia(t, rt, time.Minute)
				o := keyed(t, emu, withJournal(options(t, input, client)), client)
				o.BatchSize, o.Workers = 1, 1
				if withSchema {
					props, err := client.Properties(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					o.Schema = schema.New(props)
				}
				for run := 1; run <= 2; run++ {
					o.Input = strings.NewReader(string(input))
					Run(context.Background(), o)
					created := reportRows(t, o.OutDir, report.CreatedFile)
					failed := reportRows(t, o.OutDir, report.FailedFile)
					if created[2] != "" || failed[2] != CodeDuplicateKey {
						t.Fatalf("run %d: row 2 created %q, failed %q; want it refused as %s", run, created[2], failed[2], CodeDuplicateKey)
					}
					if created[1] == "" || emu.LineItemCount() != len(created) {
						t.Fatalf("run %d: created %v, portal %d", run, created, emu.LineItemCount())
					}
					gateway = false
				}
			})
		})
	}
}

// cancelAfter is a Sender that cancels the run once its n-th batch has been
// answered.
type cancelAfter struct {
	next   Sender
	n      int
	cancel func()
	mu     sync.Mutex
	calls  int
}

func (c *cancelAfter) BatchUpsert(ctx context.Context, idProperty string, body []byte) (*hubspot.BatchResult, error) {
	return c.next.BatchUpsert(ctx, idProperty, body)
}

func (c *cancelAfter) CreateAssociations(ctx context.Context, to string, inputs []hubspot.AssociationInput) (*hubspot.AssociationResult, error) {
	return c.next.CreateAssociations(ctx, to, inputs)
}

func (c *cancelAfter) BatchCreate(ctx context.Context, body []byte) (*hubspot.BatchResult, error) {
	res, err := c.next.BatchCreate(ctx, body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls++; c.calls == c.n {
		c.cancel()
	}
	return res, err
}

// TestStopAfterTheLastRowIsNoStop: a signal that comes once every row was
// read and answered leaves nothing to resume: the run ends as finished,
// not as interrupted.
func TestStopAfterTheLastRowIsNoStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := newPortal(emulator.Config{RateMax: -1, Seed: 36})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		o := withJournal(options(t, generate(t, 250, 36), &cancelAfter{next: inMemory(t, emu, time.Minute), n: 3, cancel: cancel}))
		o.Workers = 1
		sum, err := Run(ctx, o)
		if err != nil || sum.Created != 250 || sum.Stopped != "" {
			t.Fatalf("err %v, summary %+v; want a finished run", err, sum)
		}
	})
}

// TestMalformedRowThatMayExist: a row an earlier run sent without an
// answer comes back malformed. It cannot be sent, but its line item may
// exist: it is in doubt, not failed (a failed row invites a resend).
func TestMalformedRowThatMayExist(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 20
		emu, input, _, o := leftInDoubt(t, n, 36)
		o.Finder = nil
		lines := strings.SplitN(string(input), "\n", 3)
		cells := strings.Split(lines[1], ",")
		cells[1] = `Bro"ken` // a bare quote: the record is malformed, its key still readable
		lines[1] = strings.Join(cells, ",")
		o.Input = strings.NewReader(strings.Join(lines, "\n"))
		sum, err := Run(context.Background(), o)
		var ie *IncompleteError
		if !errors.As(err, &ie) || sum.Created != n-1 || sum.InDoubt != 1 || sum.Failed != 0 || sum.Requests != 0 {
			t.Fatalf("run 2: err %v, summary %+v; want the malformed row in doubt, the others found by key", err, sum)
		}
		doubt := readCSV(t, filepath.Join(o.OutDir, report.InDoubtFile))
		if len(doubt) != 2 || doubt[1][0] != cells[0] || !slices.Contains(doubt[1], CodeMalformed) {
			t.Fatalf("%s: %q; want row 1 (%s) in doubt as %s", report.InDoubtFile, doubt, cells[0], CodeMalformed)
		}
		checkAccounting(t, o.OutDir, n, sum, emu)
	})
}

// TestLookupsTakeMaxAttempts: the reads that look rows in doubt up get as
// many attempts as a batch's sends (--max-attempts), not a budget of
// their own: with ten gateway errors before the first answer and twelve
// attempts, every row is found.
func TestLookupsTakeMaxAttempts(t *testing.T) {
	for _, attempts := range []int{12, 8} {
		t.Run(fmt.Sprint(attempts), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 20
				emu := newPortal(emulator.Config{RateMax: -1, Seed: 37})
				emu.SetFaults(emulator.Faults{CommitThenErrorRate: 1})
				rt := &scripted{next: emu.Transport(), hook: func(path string, k int, req *http.Request) (*http.Response, error) {
					if strings.HasSuffix(path, "/batch/read") && k <= 10 {
						return gatewayPage(req), nil
					}
					return nil, nil
				}}
				client := clientVia(t, rt, time.Minute)
				o := keyed(t, emu, withJournal(options(t, generate(t, n, 37), client)), client)
				o.Policy.MaxAttempts = attempts
				o.MaxRounds = 1
				sum, _ := Run(context.Background(), o)
				if attempts > 10 && (sum.Created != n || sum.InDoubt != 0) {
					t.Fatalf("summary %+v; want every row found by key", sum)
				}
				if attempts <= 10 && (sum.Created != 0 || sum.InDoubt != n) {
					t.Fatalf("summary %+v; want every row in doubt: the lookup gave up", sum)
				}
				checkAccounting(t, o.OutDir, n, sum, emu)
			})
		})
	}
}

// TestWarnsOfRowsInDoubtFromEarlierRuns: a run whose input no longer holds
// the rows an earlier run left in doubt cannot list them in in_doubt.csv;
// it lists them in earlier_in_doubt.csv, counts them in the summary and
// says so at warning level, so they are not forgotten.
func TestWarnsOfRowsInDoubtFromEarlierRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 20
		_, input, _, o := leftInDoubt(t, n, 35)
		header, _ := lines(input)
		core, logs := observer.New(zap.WarnLevel)
		o.Log = zap.New(core)
		o.Input = strings.NewReader(header) // tonight's file: no rows
		sum, err := Run(context.Background(), o)
		if err != nil || sum.Rows != 0 || sum.InDoubt != 0 {
			t.Fatalf("err %v, summary %+v; want an empty run", err, sum)
		}
		warned := logs.FilterMessageSnippet("are not in this input").All()
		if len(warned) != 1 || warned[0].ContextMap()["rows"] != int64(n) {
			t.Fatalf("warnings %v; want one naming the %d rows in doubt", logs.All(), n)
		}
		if sum.Extra["earlier_in_doubt"] != n {
			t.Errorf("summary: earlier_in_doubt = %v, want %d", sum.Extra["earlier_in_doubt"], n)
		}
		if recs := readCSV(t, filepath.Join(o.OutDir, EarlierInDoubtFile)); len(recs) != n+1 {
			t.Errorf("%s holds %d lines, want a header and %d rows", EarlierInDoubtFile, len(recs), n)
		}
	})
}
