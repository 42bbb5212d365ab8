package emulator_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

const upsertPath = "/crm/v3/objects/line_items/batch/upsert"

// tickingClock returns a clock that starts at start and moves on 1 ms at
// every reading, so that successive writes get distinct times.
func tickingClock(start time.Time) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// upsertClient is uniqueClient (external_id) plus a second unique
// property, sku_key.
func upsertClient(t *testing.T, cfg emulator.Config) *client {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = tickingClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	}
	c := uniqueClient(t, cfg)
	c.srv.AddProperty(emulator.Property{Name: "sku_key", Label: "SKU key", Type: "string", HasUniqueValue: true})
	return c
}

// up builds an upsert input by external_id; trace "" leaves
// objectWriteTraceId out.
func up(id, trace string, p map[string]string) map[string]any {
	in := map[string]any{"id": id, "idProperty": "external_id", "properties": p}
	if trace != "" {
		in["objectWriteTraceId"] = trace
	}
	return in
}

func (c *client) upsert(inputs ...map[string]any) *response {
	c.t.Helper()
	return c.do(http.MethodPost, upsertPath, map[string]any{"inputs": inputs})
}

// byID returns the results of an answer keyed by their idProperty value
// (external_id), checking that each appears once.
func byExternalID(t *testing.T, r *response) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, res := range list(t, r.body, "results") {
		k := str(res["properties"].(map[string]any)["external_id"])
		if _, dup := out[k]; dup {
			t.Fatalf("external_id %s answered twice: %s", k, r.raw)
		}
		out[k] = res
	}
	return out
}

func TestUpsertCreatesThenUpdates(t *testing.T) {
	c := upsertClient(t, emulator.Config{Seed: 3})
	r := c.upsert(
		up("K1", "t1", props("name", "One", "price", "10", "description", "first")),
		up("K2", "t2", props("name", "Two", "quantity", "2")),
	)
	wantStatus(t, r, http.StatusOK)
	if r.body["status"] != "COMPLETE" || r.body["startedAt"] == nil || r.body["completedAt"] == nil {
		t.Errorf("batch fields: %s", r.raw)
	}
	if _, ok := r.body["errors"]; ok {
		t.Errorf("200 carries errors: %s", r.raw)
	}
	first := byExternalID(t, r)
	for k, trace := range map[string]string{"K1": "t1", "K2": "t2"} {
		res := first[k]
		p := res["properties"].(map[string]any)
		if res["new"] != true || res["archived"] != false || res["objectWriteTraceId"] != trace || p["hs_object_id"] != res["id"] ||
			p["createdate"] != res["createdAt"] || p["hs_lastmodifieddate"] != res["updatedAt"] || res["createdAt"] != res["updatedAt"] {
			t.Errorf("created result %s: %v", k, res)
		}
	}
	if p := first["K1"]["properties"].(map[string]any); p["name"] != "One" || p["price"] != "10" || p["description"] != "first" {
		t.Errorf("K1 properties: %v", p)
	}

	// The same ids again: updated in place, values replaced, "" clears.
	r = c.upsert(
		up("K1", "t3", props("name", "One again", "description", "", "quantity", "5")),
		up("K2", "t4", props("price", "7")),
	)
	wantStatus(t, r, http.StatusOK)
	second := byExternalID(t, r)
	for _, k := range []string{"K1", "K2"} {
		a, b := first[k], second[k]
		if b["new"] != false || b["id"] != a["id"] || b["createdAt"] != a["createdAt"] || str(b["updatedAt"]) <= str(a["updatedAt"]) {
			t.Errorf("updated result %s: %v (was %v)", k, b, a)
		}
		p := b["properties"].(map[string]any)
		if p["createdate"] != a["createdAt"] || p["hs_lastmodifieddate"] != b["updatedAt"] || p["external_id"] != k {
			t.Errorf("updated properties %s: %v", k, p)
		}
	}
	if p := second["K1"]["properties"].(map[string]any); p["name"] != "One again" || p["price"] != "10" || p["quantity"] != "5" || p["description"] != nil {
		t.Errorf("K1 after update: %v", p)
	}
	if p := second["K2"]["properties"].(map[string]any); p["name"] != "Two" || p["quantity"] != "2" || p["price"] != "7" {
		t.Errorf("K2 after update: %v", p)
	}

	// The store: one line item per key, read back with the new values.
	items := c.srv.LineItems()
	if len(items) != 2 || c.srv.LineItemCount() != 2 {
		t.Fatalf("LineItems: %d items", len(items))
	}
	for _, it := range items {
		if it.UpdatedAt.Before(it.CreatedAt) || it.UpdatedAt.Equal(it.CreatedAt) || (it.TraceID != "t1" && it.TraceID != "t2") {
			t.Errorf("stored item %+v", it)
		}
	}
	if counts := c.srv.PropertyValueCounts("external_id"); counts["K1"] != 1 || counts["K2"] != 1 || len(counts) != 2 {
		t.Errorf("PropertyValueCounts = %v", counts)
	}
	read := c.read(byUnique("external_id", []string{"K1", "K2"}, "name", "description"))
	wantStatus(t, read, http.StatusOK)
	for _, res := range list(t, read.body, "results") {
		p := res["properties"].(map[string]any)
		if res["id"] == second["K1"]["id"] && (p["name"] != "One again" || p["description"] != nil || res["updatedAt"] != second["K1"]["updatedAt"]) {
			t.Errorf("batch read after upsert: %v", res)
		}
	}
	sr := c.search(map[string]any{"after": "0", "filterGroups": []any{map[string]any{"filters": []any{eq("name", "One again")}}}, "properties": []string{"external_id"}})
	wantStatus(t, sr, http.StatusOK)
	if sr.body["total"] != float64(1) {
		t.Errorf("search after upsert: %s", sr.raw)
	}
	if st := c.srv.Stats(); st.BatchUpserts != 2 {
		t.Errorf("stats = %+v", st)
	}

	// A batch that creates and updates at once.
	r = c.upsert(up("K1", "", props("name", "One more")), up("K3", "", props("name", "Three")))
	wantStatus(t, r, http.StatusOK)
	third := byExternalID(t, r)
	if third["K1"]["new"] != false || third["K3"]["new"] != true || third["K1"]["id"] != first["K1"]["id"] {
		t.Errorf("mixed batch: %s", r.raw)
	}
	if _, ok := third["K3"]["objectWriteTraceId"]; ok {
		t.Errorf("untraced input got a trace id: %v", third["K3"])
	}
	if n := c.srv.LineItemCount(); n != 3 {
		t.Errorf("LineItemCount = %d, want 3", n)
	}
}

func TestUpsertIDWinsOverProperty(t *testing.T) {
	c := upsertClient(t, emulator.Config{})
	r := c.upsert(up("K1", "a", props("external_id", "OTHER", "name", "x")))
	wantStatus(t, r, http.StatusOK)
	r = c.upsert(up("K1", "b", props("external_id", "OTHER2")))
	wantStatus(t, r, http.StatusOK)
	if got := byExternalID(t, r); got["K1"] == nil || got["K1"]["new"] != false {
		t.Errorf("answer: %s", r.raw)
	}
	if counts := c.srv.PropertyValueCounts("external_id"); counts["K1"] != 1 || len(counts) != 1 {
		t.Errorf("external_id values: %v", counts)
	}
}

func TestUpsertCaseInsensitive(t *testing.T) {
	for _, insensitive := range []bool{false, true} {
		c := upsertClient(t, emulator.Config{UniqueCaseInsensitive: insensitive})
		wantStatus(t, c.upsert(up("ABC", "a", props("name", "x"))), http.StatusOK)
		r := c.upsert(up("abc", "b", props("name", "y")))
		wantStatus(t, r, http.StatusOK)
		res := list(t, r.body, "results")[0]
		p := res["properties"].(map[string]any)
		if insensitive && (res["new"] != false || p["external_id"] != "ABC" || p["name"] != "y") {
			t.Errorf("insensitive: %s", r.raw)
		}
		if !insensitive && (res["new"] != true || p["external_id"] != "abc") {
			t.Errorf("sensitive: %s", r.raw)
		}
	}
}

func TestUpsertWholeBatchErrors(t *testing.T) {
	tests := []struct {
		name        string
		insensitive bool
		body        any
		status      int
		message     string // a part of the message
	}{
		{name: "duplicate ids", body: map[string]any{"inputs": []any{up("K1", "a", props()), up("K2", "b", props()), up("K1", "c", props()), up("K2", "d", props())}},
			status: 400, message: "Duplicate IDs found in batch input: [K1, K2]"},
		{name: "ids equal ignoring case, sensitive", body: map[string]any{"inputs": []any{up("K9", "a", props()), up("k9", "b", props())}},
			status: 200},
		{name: "ids equal ignoring case, insensitive", insensitive: true, body: map[string]any{"inputs": []any{up("K9", "a", props()), up("k9", "b", props())}},
			status: 400, message: "Duplicate IDs found in batch input: [K9]"},
		{name: "non-unique idProperty", body: map[string]any{"inputs": []any{map[string]any{"id": "x", "idProperty": "name", "properties": props()}}},
			status: 400, message: "Unable to perform update/upsert by non-unique 0-8 property name in portal ID 48151623"},
		{name: "hs_object_id as idProperty", body: map[string]any{"inputs": []any{map[string]any{"id": "1", "idProperty": "hs_object_id", "properties": props()}}},
			status: 400, message: "non-unique 0-8 property hs_object_id"},
		{name: "unknown idProperty", body: map[string]any{"inputs": []any{map[string]any{"id": "1", "idProperty": "nope", "properties": props()}}},
			status: 400, message: "non-unique 0-8 property nope"},
		{name: "missing idProperty", body: map[string]any{"inputs": []any{map[string]any{"id": "1", "properties": props()}}},
			status: 400, message: "has no idProperty"},
		{name: "mixed idProperty", body: map[string]any{"inputs": []any{up("K1", "a", props()), map[string]any{"id": "S", "idProperty": "sku_key", "properties": props()}}},
			status: 400, message: "same idProperty"},
		{name: "associations member", body: map[string]any{"inputs": []any{map[string]any{"id": "K1", "idProperty": "external_id", "properties": props(), "associations": []any{}}}},
			status: 400, message: `Unrecognized field "associations"`},
		{name: "missing id", body: map[string]any{"inputs": []any{map[string]any{"idProperty": "external_id", "properties": props()}}},
			status: 400, message: "inputs[0].id"},
		{name: "empty id", body: map[string]any{"inputs": []any{up("", "a", props())}}, status: 400, message: "inputs[0].id is empty"},
		{name: "missing properties", body: map[string]any{"inputs": []any{map[string]any{"id": "K1", "idProperty": "external_id"}}},
			status: 400, message: "inputs[0].properties"},
		{name: "no inputs", body: map[string]any{"inputs": []any{}}, status: 400, message: "at least one input"},
		{name: "duplicate trace ids", body: map[string]any{"inputs": []any{up("K1", "a", props()), up("K2", "a", props())}},
			status: 400, message: `Duplicate objectWriteTraceId "a"`},
		{name: "invalid value untraced", body: map[string]any{"inputs": []any{up("K1", "a", props("price", "x")), up("K2", "", props("amount", "1"))}},
			status: 400, message: "Property values were not valid"},
		{name: "same unique value twice", body: map[string]any{"inputs": []any{up("K1", "a", props("sku_key", "S")), up("K2", "b", props("sku_key", "S"))}},
			status: 400, message: "Duplicate unique values in batch input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := upsertClient(t, emulator.Config{UniqueCaseInsensitive: tt.insensitive})
			r := c.do(http.MethodPost, upsertPath, tt.body)
			wantStatus(t, r, tt.status)
			if tt.status == 200 {
				return
			}
			if r.body["status"] != "error" || r.body["category"] != "VALIDATION_ERROR" || !strings.Contains(str(r.body["message"]), tt.message) {
				t.Errorf("body: %s", r.raw)
			}
			if n := c.srv.LineItemCount(); n != 0 {
				t.Errorf("%d line items written", n)
			}
		})
	}
}

func TestUpsertPerRowValidation(t *testing.T) {
	c := upsertClient(t, emulator.Config{})
	r := c.upsert(
		up("K1", "ok", props("name", "fine")),
		up("K2", "bad", props("price", "abc", "no_such", "x")),
		up("K3", "enum", props("recurringbillingfrequency", "Monthly")),
	)
	wantStatus(t, r, http.StatusMultiStatus)
	if r.body["numErrors"] != float64(2) || len(list(t, r.body, "results")) != 1 {
		t.Fatalf("207: %s", r.raw)
	}
	codes := errorCodes(t, r.body)
	if !slices.Equal(codes["bad"], []string{emulator.CodePropertyDoesntExist, emulator.CodeInvalidNumber}) || !slices.Equal(codes["enum"], []string{emulator.CodeInvalidOption}) {
		t.Errorf("codes = %v", codes)
	}
	for _, e := range list(t, r.body, "errors") {
		if e["status"] != "error" || e["category"] != "VALIDATION_ERROR" || !strings.HasPrefix(str(e["message"]), "Property values were not valid: ") || str(e["links"]) != "map[]" {
			t.Errorf("error shape: %v", e)
		}
	}
	if n := c.srv.LineItemCount(); n != 1 {
		t.Errorf("LineItemCount = %d, want 1", n)
	}
}

func TestUpsertConflict(t *testing.T) {
	for _, perRow := range []bool{false, true} {
		t.Run(map[bool]string{false: "409", true: "per row"}[perRow], func(t *testing.T) {
			c := upsertClient(t, emulator.Config{ConflictPerRow: perRow})
			r := c.upsert(up("X", "x", props("sku_key", "S1")))
			wantStatus(t, r, http.StatusOK)
			owner := list(t, r.body, "results")[0]["id"].(string)

			// X keeping its own value is no conflict.
			wantStatus(t, c.upsert(up("X", "x2", props("sku_key", "S1", "name", "same"))), http.StatusOK)

			r = c.upsert(up("K2", "k2", props("sku_key", "S1")), up("K3", "k3", props("name", "fine")))
			if !perRow {
				wantStatus(t, r, http.StatusConflict)
				if r.body["category"] != "CONFLICT" || r.body["message"] != "Line item already exists. Existing ID: "+owner {
					t.Errorf("409 body: %s", r.raw)
				}
				if n := c.srv.LineItemCount(); n != 1 {
					t.Errorf("LineItemCount = %d after a 409", n)
				}
				return
			}
			wantStatus(t, r, http.StatusMultiStatus)
			errs := list(t, r.body, "errors")
			if len(errs) != 1 {
				t.Fatalf("errors: %s", r.raw)
			}
			conflictError(t, errs[0], "k2", owner)
			if res := list(t, r.body, "results"); len(res) != 1 || res[0]["objectWriteTraceId"] != "k3" {
				t.Errorf("results: %s", r.raw)
			}
			// Without a trace id the collision still fails the whole batch.
			wantStatus(t, c.upsert(up("K4", "", props("sku_key", "S1"))), http.StatusConflict)
		})
	}
}

func TestUpsertReleasesChangedUniqueValue(t *testing.T) {
	c := upsertClient(t, emulator.Config{})
	wantStatus(t, c.upsert(up("X", "", props("sku_key", "S1"))), http.StatusOK)
	wantStatus(t, c.upsert(up("X", "", props("sku_key", "S2"))), http.StatusOK)
	// S1 is free again; S2 is X's.
	wantStatus(t, c.upsert(up("Y", "", props("sku_key", "S1"))), http.StatusOK)
	wantStatus(t, c.upsert(up("Z", "", props("sku_key", "S2"))), http.StatusConflict)
	wantStatus(t, c.create(input("", props("sku_key", "S2"))), http.StatusConflict)
	wantStatus(t, c.create(input("", props("sku_key", "S3"))), http.StatusCreated)
}

func TestUpsertOmitsTraceID(t *testing.T) {
	for _, omit := range []bool{false, true} {
		c := upsertClient(t, emulator.Config{UpsertOmitsTraceID: omit})
		r := c.upsert(up("K1", "t1", props("name", "a")), up("K2", "t2", props("price", "bad")))
		wantStatus(t, r, http.StatusMultiStatus)
		res := list(t, r.body, "results")[0]
		_, has := res["objectWriteTraceId"]
		if has == omit || res["properties"].(map[string]any)["external_id"] != "K1" {
			t.Errorf("omit=%v: result %v", omit, res)
		}
		// The errors keep the trace id in their context either way.
		if codes := errorCodes(t, r.body); len(codes["t2"]) != 1 {
			t.Errorf("omit=%v: errors %v", omit, codes)
		}
	}
}

func TestUpsertCommitFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults emulator.Faults
	}{
		{"commit then error", emulator.Faults{CommitThenErrorRate: 1}},
		{"commit then drop", emulator.Faults{CommitThenDrop: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := upsertClient(t, emulator.Config{})
			c.srv.SetFaults(tt.faults)
			r, err := c.send(context.Background(), http.MethodPost, upsertPath, map[string]any{"inputs": []any{up("K1", "a", props("name", "v1"))}}, nil)
			if tt.faults.CommitThenDrop > 0 {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("err = %v, want a dropped connection", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if r.status != http.StatusBadGateway && r.status != http.StatusGatewayTimeout {
					t.Fatalf("status = %d", r.status)
				}
			}
			// The write persists: the retry updates it.
			items := c.srv.LineItems()
			if len(items) != 1 || items[0].Properties["name"] != "v1" {
				t.Fatalf("after the fault: %+v", items)
			}
			c.srv.SetFaults(emulator.Faults{})
			r = c.upsert(up("K1", "a", props("name", "v2")))
			wantStatus(t, r, http.StatusOK)
			if res := list(t, r.body, "results")[0]; res["new"] != false || res["id"] != items[0].ID {
				t.Errorf("retry: %s", r.raw)
			}
			if st := c.srv.Stats(); st.Faults != 1 || st.BatchUpserts != 2 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestUpsertCountedInBurstWindow(t *testing.T) {
	c := upsertClient(t, emulator.Config{RateMax: 2})
	wantStatus(t, c.upsert(up("K1", "", props())), http.StatusOK)
	r := c.upsert(up("K2", "", props()))
	wantStatus(t, r, http.StatusOK)
	if r.header.Get("X-HubSpot-RateLimit-Remaining") != "0" {
		t.Errorf("headers: %v", r.header)
	}
	wantStatus(t, c.upsert(up("K3", "", props())), http.StatusTooManyRequests)
	wantStatus(t, newClient(t, emulator.Config{Scopes: []string{emulator.ScopeLineItemsRead}}).upsert(up("K1", "", props())), http.StatusForbidden)
}

// TestUpsertLateCommit: inside testing/synctest, a late upsert still
// writes after its client gave up, and a late association create too.
func TestUpsertLateCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := upsertClient(t, emulator.Config{RateMax: -1, Now: time.Now})
		c.srv.SeedObjects("deals", "1001")
		c.srv.SetFaults(emulator.Faults{LateCommitRate: 1, LateCommit: 20 * time.Second, Latency: time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		body := map[string]any{"inputs": []any{up("K1", "t", props("name", "late"))}}
		if r, err := c.send(ctx, http.MethodPost, upsertPath, body, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("answer %+v, %v; want the client's timeout", r, err)
		}
		time.Sleep(10 * time.Second)
		if n := c.srv.LineItemCount(); n != 0 {
			t.Fatalf("%d line items before the late commit", n)
		}
		time.Sleep(15 * time.Second)
		items := c.srv.LineItems()
		if len(items) != 1 {
			t.Fatalf("%d line items after the late commit, want 1", len(items))
		}
		ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel2()
		body = map[string]any{"inputs": []any{assocInput(items[0].ID, "1001", 20)}}
		if _, err := c.send(ctx2, http.MethodPost, assocPathV4, body, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("association: %v; want the client's timeout", err)
		}
		time.Sleep(25 * time.Second)
		if a := c.srv.LineItems()[0].Associations; len(a) != 1 {
			t.Errorf("associations after the late commit: %v", a)
		}
		c.srv.SetFaults(emulator.Faults{})
		r := c.upsert(up("K1", "t2", props("name", "on time")))
		wantStatus(t, r, http.StatusOK)
		if res := list(t, r.body, "results")[0]; res["new"] != false || str(res["updatedAt"]) <= str(res["createdAt"]) {
			t.Errorf("update: %v", res)
		}
	})
}
