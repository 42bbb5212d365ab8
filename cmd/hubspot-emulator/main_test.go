package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, o *options)
	}{
		{name: "defaults", args: []string{"--token", "T"}, check: func(t *testing.T, o *options) {
			if o.addr != "127.0.0.1:8080" || o.config.RateMax != 100 || o.config.RateInterval != 10*time.Second || o.config.Scopes != nil {
				t.Errorf("options = %+v", o)
			}
			if o.config.UniqueCaseInsensitive || o.config.ConflictPerRow || o.config.ConflictAs != "" || o.config.CreateOmitsTraceID || o.config.EchoNormalized {
				t.Errorf("unique switches on by default: %+v", o.config)
			}
		}},
		{name: "unique switches", args: []string{"--token", "T", "--unique-property", "external_id", "--unique-case-insensitive", "--conflict-per-row"},
			check: func(t *testing.T, o *options) {
				if !o.config.UniqueCaseInsensitive || !o.config.ConflictPerRow || !slices.Equal(o.unique, []string{"external_id"}) {
					t.Errorf("config = %+v, unique = %v", o.config, o.unique)
				}
			}},
		{name: "unique switches off", args: []string{"--token", "T", "--unique-case-insensitive=false", "--conflict-per-row=false"},
			check: func(t *testing.T, o *options) {
				if o.config.UniqueCaseInsensitive || o.config.ConflictPerRow {
					t.Errorf("config = %+v", o.config)
				}
			}},
		{name: "unique switch with a value", args: []string{"--token", "T", "--conflict-per-row=maybe"}, wantErr: "invalid boolean value"},
		{name: "conflict forms", args: []string{"--token", "T", "--conflict-as", "VALIDATION_ERROR", "--create-omits-trace-id", "--echo-normalized"},
			check: func(t *testing.T, o *options) {
				if o.config.ConflictAs != emulator.ConflictValidation || !o.config.CreateOmitsTraceID || !o.config.EchoNormalized {
					t.Errorf("config = %+v", o.config)
				}
			}},
		{name: "conflict form unknown", args: []string{"--token", "T", "--conflict-as", "409"}, wantErr: `--conflict-as "409"`},
		{name: "error forms", args: []string{"--token", "T", "--error-forms", "text"},
			check: func(t *testing.T, o *options) {
				if o.config.ErrorForms != emulator.ErrorFormText {
					t.Errorf("config = %+v", o.config)
				}
			}},
		{name: "read lag", args: []string{"--token", "T", "--read-lag", "5s"},
			check: func(t *testing.T, o *options) {
				if o.config.ReadLag != 5*time.Second {
					t.Errorf("config = %+v", o.config)
				}
			}},
		{name: "error form unknown", args: []string{"--token", "T", "--error-forms", "xml"}, wantErr: `--error-forms "xml"`},
		{name: "upsert and 2026-09 switches off by default", args: []string{"--token", "T"}, check: func(t *testing.T, o *options) {
			c := o.config
			if c.UpsertOmitsTraceID || c.MultiStatus2026 || c.GranularScopeSuffices2026 || c.AssociationsBurstExempt || c.SeedUnique != nil {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "upsert and 2026-09 switches", args: []string{"--token", "T", "--upsert-omits-trace-id", "--multi-status-2026",
			"--granular-scope-suffices-2026", "--associations-burst-exempt"}, check: func(t *testing.T, o *options) {
			c := o.config
			if !c.UpsertOmitsTraceID || !c.MultiStatus2026 || !c.GranularScopeSuffices2026 || !c.AssociationsBurstExempt {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "seed unique", args: []string{"--token", "T", "--seed-unique", "deals.legacy_deal_id=LD-{id}", "--seed-unique", "quotes.q=Q{id}-{id}"},
			check: func(t *testing.T, o *options) {
				want := []emulator.SeedUnique{{ObjectType: "deals", Property: "legacy_deal_id", Pattern: "LD-{id}"}, {ObjectType: "quotes", Property: "q", Pattern: "Q{id}-{id}"}}
				if !slices.Equal(o.config.SeedUnique, want) {
					t.Errorf("SeedUnique = %+v", o.config.SeedUnique)
				}
			}},
		{name: "seed unique without {id}", args: []string{"--token", "T", "--seed-unique", "deals.x=LD"}, wantErr: "has no {id}"},
		{name: "seed unique of payments", args: []string{"--token", "T", "--seed-unique", "payments.x={id}"}, wantErr: "cannot be read back"},
		{name: "seed unique malformed", args: []string{"--token", "T", "--seed-unique", "deals=LD-{id}"}, wantErr: "TYPE.PROPERTY=PATTERN"},
		{name: "seed unique twice", args: []string{"--token", "T", "--seed-unique", "deals.x={id}", "--seed-unique", "deals.x=A{id}"}, wantErr: "given twice"},
		{name: "seeds and faults", args: []string{"--token", "T", "--seed-deals", "1001-1003,2000", "--seed-objects", "quotes=5",
			"--error-rate", "0.5", "--error-statuses", "503", "--latency", "250ms", "--scopes", "a, b", "--idle-reset", "5s", "--connect-delay", "150ms"},
			check: func(t *testing.T, o *options) {
				if len(o.seeds) != 2 || !slices.Equal(o.seeds[0].ids, []string{"1001", "1002", "1003", "2000"}) || o.seeds[1].objectType != "quotes" {
					t.Errorf("seeds = %+v", o.seeds)
				}
				if o.faults.ErrorRate != 0.5 || !slices.Equal(o.faults.ErrorStatuses, []int{503}) || o.faults.Latency != 250*time.Millisecond {
					t.Errorf("faults = %+v", o.faults)
				}
				if o.idleReset != 5*time.Second || o.connectDelay != 150*time.Millisecond {
					t.Errorf("idleReset = %v, connectDelay = %v", o.idleReset, o.connectDelay)
				}
				if !slices.Equal(o.config.Scopes, []string{"a", "b"}) {
					t.Errorf("scopes = %v", o.config.Scopes)
				}
			}},
		{name: "localhost", args: []string{"--token", "T", "--addr", "localhost:0"}},
		{name: "ipv6 loopback", args: []string{"--token", "T", "--addr", "[::1]:0"}},
		{name: "no token", args: nil, wantErr: "--token is required"},
		{name: "all interfaces", args: []string{"--token", "T", "--addr", ":8080"}, wantErr: "non-loopback"},
		{name: "public address", args: []string{"--token", "T", "--addr", "0.0.0.0:8080"}, wantErr: "non-loopback"},
		{name: "allow remote", args: []string{"--token", "T", "--addr", "0.0.0.0:8080", "--allow-remote"}},
		{name: "bad range", args: []string{"--token", "T", "--seed-deals", "9-1"}, wantErr: "invalid id range"},
		{name: "bad seed type", args: []string{"--token", "T", "--seed-objects", "widgets=1"}, wantErr: "unknown object type"},
		{name: "bad rate", args: []string{"--token", "T", "--error-rate", "2"}, wantErr: "between 0 and 1"},
		{name: "bad status", args: []string{"--token", "T", "--commit-then-statuses", "x"}, wantErr: "invalid status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}

// syncBuffer passes each write to the test through a channel.
type syncBuffer struct {
	ch chan string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.ch <- string(p)
	return len(p), nil
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{ch: make(chan string, 4)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--token", "T", "--addr", "127.0.0.1:0", "--seed-deals", "1001"}, out, io.Discard)
	}()

	line := <-out.ch
	m := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first output line = %q", line)
	}
	req, _ := http.NewRequest(http.MethodPost, m[1]+"/crm/v3/objects/line_items/batch/create", bytes.NewBufferString(
		`{"inputs":[{"properties":{"name":"x"},"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":20}]}]}]}`))
	req.Header.Set("Authorization", "Bearer T")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("status = %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if last := <-out.ch; !strings.Contains(last, "1 line items") {
		t.Errorf("summary = %q", last)
	}
}

// startRun runs the command with args on a free loopback port and returns
// its base URL and a function that stops it and returns run's error.
func startRun(t *testing.T, args ...string) (base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{ch: make(chan string, 4)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--token", "T", "--addr", "127.0.0.1:0"}, args...), out, io.Discard)
	}()
	var line string
	select {
	case line = <-out.ch:
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
	}
	m := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
	if m == nil {
		cancel()
		t.Fatalf("first output line = %q", line)
	}
	return m[1], func() error {
		cancel()
		err := <-done
		<-out.ch // the summary
		return err
	}
}

// post sends body to base+path with the token T and returns the status and body.
func post(t *testing.T, base, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer T")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}

func TestRunPassesUniqueSwitches(t *testing.T) {
	const (
		create = "/crm/v3/objects/line_items/batch/create"
		read   = "/crm/v3/objects/line_items/batch/read"
	)
	row := func(trace, v string) string {
		return `{"objectWriteTraceId":"` + trace + `","properties":{"external_id":"` + v + `"},"associations":[]}`
	}
	tests := []struct {
		name       string
		args       []string
		conflict   int // status of a create whose value differs from a stored one in case only
		taken      int // status of a create holding a stored value and a new one
		readStatus int // status of a batch read by a case form of a stored value that was never sent
	}{
		{"defaults", nil, http.StatusCreated, http.StatusConflict, http.StatusMultiStatus},
		{"case-insensitive", []string{"--unique-case-insensitive"}, http.StatusConflict, http.StatusConflict, http.StatusOK},
		{"per row", []string{"--conflict-per-row"}, http.StatusCreated, http.StatusMultiStatus, http.StatusMultiStatus},
		{"both", []string{"--unique-case-insensitive", "--conflict-per-row"}, http.StatusMultiStatus, http.StatusMultiStatus, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, stop := startRun(t, append([]string{"--unique-property", "external_id"}, tt.args...)...)
			if status, body := post(t, base, create, `{"inputs":[`+row("a", "EXT-1")+`]}`); status != http.StatusCreated {
				t.Fatalf("seeding: %d %s", status, body)
			}
			if status, body := post(t, base, create, `{"inputs":[`+row("b", "ext-1")+`]}`); status != tt.conflict {
				t.Errorf("other case: %d %s, want %d", status, body, tt.conflict)
			}
			if status, body := post(t, base, create, `{"inputs":[`+row("c", "EXT-1")+`,`+row("d", "NEW-1")+`]}`); status != tt.taken {
				t.Errorf("taken value: %d %s, want %d", status, body, tt.taken)
			}
			if status, body := post(t, base, read, `{"idProperty":"external_id","inputs":[{"id":"Ext-1"}],"properties":[],"propertiesWithHistory":[]}`); status != tt.readStatus {
				t.Errorf("read: %d %s, want %d", status, body, tt.readStatus)
			}
			if err := stop(); err != nil {
				t.Fatalf("run: %v", err)
			}
		})
	}
}

func TestRunServesUpsertsAssociationsAndTargets(t *testing.T) {
	dir := t.TempDir()
	reportPath := dir + "/report.json"
	base, stop := startRun(t, "--unique-property", "external_id", "--seed-deals", "1001-1002",
		"--seed-unique", "deals.legacy_deal_id=LD-{id}", "--report-json", reportPath, "--distinct", "external_id")
	upsert := func(name string) (int, string) {
		return post(t, base, "/crm/v3/objects/line_items/batch/upsert",
			`{"inputs":[{"id":"K1","idProperty":"external_id","objectWriteTraceId":"t","properties":{"name":"`+name+`"}}]}`)
	}
	status, body := upsert("a")
	if status != http.StatusOK || !strings.Contains(body, `"new":true`) {
		t.Fatalf("upsert: %d %s", status, body)
	}
	id := regexp.MustCompile(`"id":"(\d+)"`).FindStringSubmatch(body)[1]
	if status, body := upsert("b"); status != http.StatusOK || !strings.Contains(body, `"new":false`) || !strings.Contains(body, `"id":"`+id+`"`) {
		t.Errorf("second upsert: %d %s", status, body)
	}
	if status, body := post(t, base, "/crm/v4/associations/line_items/deals/batch/create",
		`{"inputs":[{"from":{"id":"`+id+`"},"to":{"id":"1002"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":20}]}]}`); status != http.StatusCreated {
		t.Errorf("associate: %d %s", status, body)
	}
	if status, body := post(t, base, "/crm/v3/objects/deals/batch/read",
		`{"idProperty":"legacy_deal_id","inputs":[{"id":"LD-1002"}],"properties":["legacy_deal_id"],"propertiesWithHistory":[]}`); status != http.StatusOK || !strings.Contains(body, `"legacy_deal_id":"LD-1002"`) {
		t.Errorf("deal read: %d %s", status, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	raw, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep["line_items"] != float64(1) || rep["batch_upserts"] != float64(2) || rep["association_creates"] != float64(1) ||
		rep["duplicates"] != float64(0) || rep["distinct_values"] != float64(1) || rep["batch_reads"] != float64(1) {
		t.Errorf("report = %s", raw)
	}
}
