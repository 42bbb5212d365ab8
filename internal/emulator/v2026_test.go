package emulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

// twinStep is one request sent to both portals of a twin test: v3 to the
// one, v2026 to the other.
type twinStep struct {
	method   string
	v3, v26  string
	body     any
	status3  int
	status26 int
}

// twins returns two identical portals (same seed, same clock) with the
// unique property external_id and deals 1001-1002 holding legacy_deal_id.
func twins(t *testing.T, cfg emulator.Config) (*client, *client) {
	t.Helper()
	mk := func() *client {
		cfg := cfg
		cfg.Seed = 11
		cfg.Now = tickingClock(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
		cfg.SeedUnique = []emulator.SeedUnique{{ObjectType: "deals", Property: "legacy_deal_id", Pattern: "LD-{id}"}}
		c := upsertClient(t, cfg)
		c.srv.SeedObjects("deals", "1001", "1002")
		return c
	}
	return mk(), mk()
}

// runTwins sends each step to both portals and requires the same body.
func runTwins(t *testing.T, a, b *client, steps []twinStep) {
	t.Helper()
	for _, st := range steps {
		ra := a.do(st.method, st.v3, st.body)
		rb := b.do(st.method, st.v26, st.body)
		if ra.status != st.status3 || rb.status != st.status26 {
			t.Errorf("%s: statuses %d and %d, want %d and %d\n%s\n%s", st.v26, ra.status, rb.status, st.status3, st.status26, ra.raw, rb.raw)
		}
		if string(ra.raw) != string(rb.raw) {
			t.Errorf("%s answers differently:\n v3: %s\n 26: %s", st.v26, ra.raw, rb.raw)
		}
	}
}

const (
	create26 = "/crm/objects/2026-09/line_items/batch/create"
	upsert26 = "/crm/objects/2026-09/line_items/batch/upsert"
	read26   = "/crm/objects/2026-09/line_items/batch/read"
	search26 = "/crm/objects/2026-09/line_items/search"
)

func TestV2026AnswersLikeV3(t *testing.T) {
	in := func(trace, name, ext string) map[string]any {
		return input(trace, props("name", name, "external_id", ext, "price", "1"), toDeal("1001"))
	}
	bad := input("bad", props("price", "x"))
	steps := func(multi bool) []twinStep {
		partial26, partialCreate26 := http.StatusOK, http.StatusCreated
		if multi {
			partial26, partialCreate26 = http.StatusMultiStatus, http.StatusMultiStatus
		}
		return []twinStep{
			{http.MethodPost, "/crm/v3/objects/line_items/batch/create", create26, map[string]any{"inputs": []any{in("a", "A", "K1"), in("b", "B", "K2")}}, 201, 201},
			{http.MethodPost, "/crm/v3/objects/line_items/batch/create", create26, map[string]any{"inputs": []any{in("c", "C", "K3"), bad}}, 207, partialCreate26},
			{http.MethodPost, "/crm/v3/objects/line_items/batch/create", "/crm/objects/2026-09/0-8/batch/create", map[string]any{"inputs": []any{in("", "D", "K1")}}, 409, 409},
			{http.MethodPost, upsertPath, upsert26, map[string]any{"inputs": []any{up("K1", "u1", props("name", "A2")), up("K9", "u2", props("name", "N"))}}, 200, 200},
			{http.MethodPost, upsertPath, upsert26, map[string]any{"inputs": []any{up("K1", "u3", props("name", "A3")), up("K8", "u4", props("price", "bad"))}}, 207, partial26},
			{http.MethodPost, upsertPath, upsert26, map[string]any{"inputs": []any{up("K1", "", props()), up("K1", "", props())}}, 400, 400},
			{http.MethodPost, readPath, read26, byUnique("external_id", []string{"K1", "K9"}, "name"), 200, 200},
			{http.MethodPost, readPath, read26, byUnique("external_id", []string{"K1", "K404"}, "name"), 207, partial26},
			{http.MethodPost, "/crm/v3/objects/line_items/search", search26, map[string]any{"after": "0", "properties": []string{"name", "external_id"}}, 200, 200},
			{http.MethodPost, "/crm/v3/objects/deals/batch/read", "/crm/objects/2026-09/deals/batch/read", byUnique("legacy_deal_id", []string{"LD-1002"}, "legacy_deal_id"), 200, 200},
			{http.MethodPost, "/crm/v3/objects/deals/batch/read", "/crm/objects/2026-09/deals/batch/read", byUnique("legacy_deal_id", []string{"LD-1002", "LD-1"}), 207, partial26},
		}
	}
	for _, multi := range []bool{false, true} {
		t.Run(map[bool]string{false: "spec statuses", true: "multi-status"}[multi], func(t *testing.T) {
			a, b := twins(t, emulator.Config{MultiStatus2026: multi})
			runTwins(t, a, b, steps(multi))
		})
	}
}

func TestV2026AssociationsAnswerLikeV4(t *testing.T) {
	for _, multi := range []bool{false, true} {
		a, b := twins(t, emulator.Config{MultiStatus2026: multi})
		ids := createdIDs(t, a, 1)
		if got := createdIDs(t, b, 1); got[0] != ids[0] {
			t.Fatalf("twins differ: %v %v", ids, got)
		}
		partial := http.StatusOK
		if multi {
			partial = http.StatusMultiStatus
		}
		runTwins(t, a, b, []twinStep{
			{http.MethodPost, assocPathV4, "/crm/associations/2026-09/line_items/deals/batch/create", map[string]any{"inputs": []any{assocInput(ids[0], "1001", 20)}}, 201, 200},
			{http.MethodPost, assocPathV4, "/crm/associations/2026-09/line_items/0-3/batch/create", map[string]any{"inputs": []any{assocInput(ids[0], "1001", 20), assocInput(ids[0], "77", 20)}}, 207, partial},
			{http.MethodPost, assocPathV4, "/crm/associations/2026-09/line_items/deals/batch/create", map[string]any{"inputs": []any{assocInput(ids[0], "1001", 68)}}, 400, 400},
		})
	}
}

func TestV2026BatchReadNulls(t *testing.T) {
	c := upsertClient(t, emulator.Config{})
	wantStatus(t, c.upsert(up("K1", "", props("name", "n"))), http.StatusOK)
	for _, path := range []string{readPath, read26} {
		r := c.do(http.MethodPost, path, byUnique("external_id", []string{"K1"}, "name", "description"))
		wantStatus(t, r, http.StatusOK)
		p := list(t, r.body, "results")[0]["properties"].(map[string]any)
		desc, has := p["description"]
		if path == readPath && has {
			t.Errorf("v3 read returns unset description: %v", p)
		}
		if path == read26 && (!has || desc != nil) {
			t.Errorf("2026-09 read: description = %v, %v; want null", desc, has)
		}
	}
}

func TestV2026Properties(t *testing.T) {
	c := newClient(t, emulator.Config{})
	r3 := c.do(http.MethodGet, "/crm/v3/properties/line_items", nil)
	r26 := c.do(http.MethodGet, "/crm/properties/2026-09/line_items", nil)
	wantStatus(t, r3, http.StatusOK)
	wantStatus(t, r26, http.StatusOK)
	if !strings.Contains(string(r3.raw), `"numberDisplayHint"`) || strings.Contains(string(r26.raw), `"numberDisplayHint"`) {
		t.Errorf("numberDisplayHint: v3 %v, 2026-09 %v", strings.Contains(string(r3.raw), `"numberDisplayHint"`), strings.Contains(string(r26.raw), `"numberDisplayHint"`))
	}
	// Apart from it, the same properties.
	var p3, p26 struct{ Results []map[string]any }
	if err := json.Unmarshal(r3.raw, &p3); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r26.raw, &p26); err != nil {
		t.Fatal(err)
	}
	if len(p3.Results) != len(p26.Results) {
		t.Fatalf("%d and %d properties", len(p3.Results), len(p26.Results))
	}
	for i := range p3.Results {
		delete(p3.Results[i], "numberDisplayHint")
		a, _ := json.Marshal(p3.Results[i])
		b, _ := json.Marshal(p26.Results[i])
		if string(a) != string(b) {
			t.Errorf("property %d: %s vs %s", i, a, b)
		}
	}
	wantStatus(t, c.do(http.MethodGet, "/crm/properties/2026-09/deals", nil), http.StatusNotFound)
}

func TestV2026Scopes(t *testing.T) {
	tests := []struct {
		name     string
		granted  []string
		suffices bool
		path     string
		status   int
		required string
	}{
		{"create without e-commerce", []string{emulator.ScopeLineItemsWrite}, false, create26, 403, "[crm.objects.line_items.write e-commerce]"},
		{"create, granular suffices", []string{emulator.ScopeLineItemsWrite}, true, create26, 400, ""},
		{"create with both", []string{emulator.ScopeLineItemsWrite, emulator.ScopeECommerce}, false, create26, 400, ""},
		{"e-commerce alone", []string{emulator.ScopeECommerce}, false, create26, 403, "[crm.objects.line_items.write e-commerce]"},
		{"e-commerce alone, granular suffices", []string{emulator.ScopeECommerce}, true, create26, 403, "[crm.objects.line_items.write]"},
		{"e-commerce alone on v3", []string{emulator.ScopeECommerce}, false, "/crm/v3/objects/line_items/batch/create", 403, "[crm.objects.line_items.write]"},
		{"upsert", []string{emulator.ScopeLineItemsWrite}, false, upsert26, 403, "[crm.objects.line_items.write e-commerce]"},
		{"read", []string{emulator.ScopeLineItemsRead}, false, read26, 403, "[crm.objects.line_items.read e-commerce]"},
		{"search", []string{emulator.ScopeLineItemsRead}, false, search26, 403, "[crm.objects.line_items.read e-commerce]"},
		{"deals read needs no e-commerce", []string{emulator.ScopeDealsRead}, false, "/crm/objects/2026-09/deals/batch/read", 400, ""},
		{"associations need no e-commerce", []string{emulator.ScopeLineItemsWrite}, false, "/crm/associations/2026-09/line_items/deals/batch/create", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, emulator.Config{Scopes: tt.granted, GranularScopeSuffices2026: tt.suffices})
			r := c.do(http.MethodPost, tt.path, map[string]any{"inputs": []any{}})
			wantStatus(t, r, tt.status)
			if tt.status == http.StatusForbidden {
				d := list(t, r.body, "errors")[0]
				if got := str(d["context"].(map[string]any)["requiredGranularScopes"]); got != tt.required {
					t.Errorf("required %s, want %s: %s", got, tt.required, r.raw)
				}
			}
		})
	}
}

func TestV2026Routing(t *testing.T) {
	c := newClient(t, emulator.Config{})
	for _, path := range []string{
		"/crm/objects/2026-09/deals/batch/create",
		"/crm/objects/2026-09/deals/search",
		"/crm/objects/2026-09/line_items/batch/update",
		"/crm/objects/2026-09/payments/batch/read",
		"/crm/objects/2025-09/line_items/batch/create",
		"/crm/associations/2026-09/line_items/deals/labels",
	} {
		wantStatus(t, c.do(http.MethodPost, path, map[string]any{}), http.StatusNotFound)
	}
	r := c.do(http.MethodGet, create26, nil)
	wantStatus(t, r, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}
