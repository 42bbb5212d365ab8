package emulator_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

// dealClient is a portal whose deals 1001-1003 hold legacy_deal_id LD-{id}
// and whose quotes 5 holds q_key Q-5.
func dealClient(t *testing.T, cfg emulator.Config) *client {
	t.Helper()
	cfg.SeedUnique = append(cfg.SeedUnique,
		emulator.SeedUnique{ObjectType: "deals", Property: "legacy_deal_id", Pattern: "LD-{id}"},
		emulator.SeedUnique{ObjectType: "quotes", Property: "q_key", Pattern: "Q-{id}"})
	c := newClient(t, cfg)
	c.srv.SeedObjects("deals", "1001", "1002")
	c.srv.SeedObjects("quotes", "5")
	c.srv.SeedObjects("deals", "1003") // seeded later, given its value too
	return c
}

func TestTargetBatchRead(t *testing.T) {
	tests := []struct {
		name        string
		cfg         emulator.Config
		path        string
		body        map[string]any
		status      int
		found       []string
		missing     []string
		wantMessage string // of the errors, or of a whole-request error
	}{
		{name: "by unique property", path: "/crm/v3/objects/deals/batch/read", body: byUnique("legacy_deal_id", []string{"LD-1001", "LD-1003"}, "legacy_deal_id"),
			status: 200, found: []string{"1001", "1003"}},
		{name: "by id", path: "/crm/v3/objects/deals/batch/read", body: readBody([]string{"1002"}), status: 200, found: []string{"1002"}},
		{name: "by type id path", path: "/crm/v3/objects/0-3/batch/read", body: readBody([]string{"1002"}), status: 200, found: []string{"1002"}},
		{name: "some not found", path: "/crm/v3/objects/deals/batch/read", body: byUnique("legacy_deal_id", []string{"LD-1001", "LD-9", "ld-1002"}),
			status: 207, found: []string{"1001"}, missing: []string{"LD-9", "ld-1002"},
			wantMessage: "Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid."},
		{name: "case-insensitive", cfg: emulator.Config{UniqueCaseInsensitive: true}, path: "/crm/v3/objects/deals/batch/read",
			body: byUnique("legacy_deal_id", []string{"ld-1002", "LD-1002"}), status: 200, found: []string{"1002"}},
		{name: "none found", path: "/crm/v3/objects/deals/batch/read", body: byUnique("legacy_deal_id", []string{"LD-9"}), status: 207, missing: []string{"LD-9"},
			wantMessage: "Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid."},
		{name: "none found 404", cfg: emulator.Config{BatchReadNoneFound404: true}, path: "/crm/v3/objects/deals/batch/read",
			body: byUnique("legacy_deal_id", []string{"LD-9", "LD-8"}), status: 404,
			wantMessage: "Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid."},
		{name: "other type's property", path: "/crm/v3/objects/deals/batch/read", body: byUnique("q_key", []string{"Q-5"}), status: 400, wantMessage: `Invalid idProperty "q_key"`},
		{name: "hs_object_id", path: "/crm/v3/objects/deals/batch/read", body: byUnique("hs_object_id", []string{"1001"}), status: 400, wantMessage: "not a unique value property of deals"},
		{name: "quotes", path: "/crm/v3/objects/quotes/batch/read", body: byUnique("q_key", []string{"Q-5"}), status: 200, found: []string{"5"}},
		{name: "type without unique property", path: "/crm/v3/objects/orders/batch/read", body: byUnique("x", []string{"1"}), status: 400, wantMessage: "not a unique value property of orders"},
		{name: "2026-09", path: "/crm/objects/2026-09/deals/batch/read", body: byUnique("legacy_deal_id", []string{"LD-1001"}), status: 200, found: []string{"1001"}},
		{name: "2026-09 not found", path: "/crm/objects/2026-09/0-3/batch/read", body: byUnique("legacy_deal_id", []string{"LD-1001", "LD-9"}), status: 200,
			found: []string{"1001"}, missing: []string{"LD-9"}, wantMessage: "Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid."},
		{name: "2026-09 not found multi-status", cfg: emulator.Config{MultiStatus2026: true}, path: "/crm/objects/2026-09/deals/batch/read",
			body: byUnique("legacy_deal_id", []string{"LD-9"}), status: 207, missing: []string{"LD-9"}, wantMessage: "Could not get some DEAL objects"},
		{name: "payments are not readable", path: "/crm/v3/objects/payments/batch/read", body: readBody([]string{"1"}), status: 404, wantMessage: "resource not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dealClient(t, tt.cfg)
			r := c.do(http.MethodPost, tt.path, tt.body)
			wantStatus(t, r, tt.status)
			if tt.status >= 400 {
				if !strings.Contains(str(r.body["message"]), tt.wantMessage) {
					t.Errorf("message: %s", r.raw)
				}
				return
			}
			var found, missing []string
			for _, res := range list(t, r.body, "results") {
				found = append(found, res["id"].(string))
				p := res["properties"].(map[string]any)
				if p["hs_object_id"] != res["id"] || p["createdate"] == nil || res["createdAt"] != p["createdate"] || res["archived"] != false {
					t.Errorf("result shape: %v", res)
				}
			}
			if _, ok := r.body["errors"]; ok {
				for _, e := range list(t, r.body, "errors") {
					if e["category"] != "OBJECT_NOT_FOUND" || !strings.HasPrefix(str(e["message"]), tt.wantMessage) {
						t.Errorf("error: %v", e)
					}
					missing = append(missing, e["context"].(map[string]any)["ids"].([]any)[0].(string))
				}
				if r.body["numErrors"] != float64(len(missing)) {
					t.Errorf("numErrors: %s", r.raw)
				}
			}
			slices.Sort(found)
			slices.Sort(missing)
			if !slices.Equal(found, tt.found) || !slices.Equal(missing, tt.missing) {
				t.Errorf("found %v missing %v, want %v %v: %s", found, missing, tt.found, tt.missing, r.raw)
			}
		})
	}
}

func TestTargetBatchReadProperties(t *testing.T) {
	c := dealClient(t, emulator.Config{})
	r := c.do(http.MethodPost, "/crm/v3/objects/deals/batch/read", byUnique("legacy_deal_id", []string{"LD-1001"}, "legacy_deal_id", "dealname"))
	wantStatus(t, r, http.StatusOK)
	p := list(t, r.body, "results")[0]["properties"].(map[string]any)
	if p["legacy_deal_id"] != "LD-1001" || len(p) != 4 {
		t.Errorf("properties = %v", p)
	}
	// Without asking for it, the unique value is not returned.
	r = c.do(http.MethodPost, "/crm/v3/objects/deals/batch/read", readBody([]string{"1001"}))
	if p := list(t, r.body, "results")[0]["properties"].(map[string]any); len(p) != 3 {
		t.Errorf("properties = %v", p)
	}
	// Two unique properties of one type: both values are kept and returned.
	c2 := newClient(t, emulator.Config{SeedUnique: []emulator.SeedUnique{{ObjectType: "deals", Property: "a", Pattern: "A{id}"}, {ObjectType: "deals", Property: "b", Pattern: "B{id}"}}})
	c2.srv.SeedObjects("deals", "1")
	r = c2.do(http.MethodPost, "/crm/objects/2026-09/deals/batch/read", byUnique("a", []string{"A1"}, "a", "b"))
	if p := list(t, r.body, "results")[0]["properties"].(map[string]any); p["a"] != "A1" || p["b"] != "B1" {
		t.Errorf("properties = %v", p)
	}
}

func TestTargetBatchReadScopes(t *testing.T) {
	for _, typ := range []string{"deals", "quotes", "invoices", "orders", "carts", "subscriptions"} {
		c := newClient(t, emulator.Config{Scopes: []string{emulator.ScopeLineItemsRead, emulator.ScopeLineItemsWrite}})
		r := c.do(http.MethodPost, "/crm/v3/objects/"+typ+"/batch/read", readBody([]string{"1"}))
		wantStatus(t, r, http.StatusForbidden)
		want := "crm.objects." + typ + ".read"
		if got := str(list(t, r.body, "errors")[0]["context"].(map[string]any)["requiredGranularScopes"]); got != "["+want+"]" {
			t.Errorf("%s: required %s, want %s", typ, got, want)
		}
		// The default scopes grant it.
		c = newClient(t, emulator.Config{})
		c.srv.SeedObjects(typ, "1")
		wantStatus(t, c.do(http.MethodPost, "/crm/v3/objects/"+typ+"/batch/read", readBody([]string{"1"})), http.StatusOK)
	}
}

func TestSeedUniquePanics(t *testing.T) {
	tests := []struct {
		name string
		seed []emulator.SeedUnique
		ids  []string
	}{
		{"unreadable type", []emulator.SeedUnique{{ObjectType: "payments", Property: "p", Pattern: "P{id}"}}, nil},
		{"no {id}", []emulator.SeedUnique{{ObjectType: "deals", Property: "p", Pattern: "P"}}, nil},
		{"twice", []emulator.SeedUnique{{ObjectType: "deals", Property: "p", Pattern: "P{id}"}, {ObjectType: "deals", Property: "p", Pattern: "Q{id}"}}, nil},
		{"collision", []emulator.SeedUnique{{ObjectType: "deals", Property: "p", Pattern: "P{id}"}}, []string{"x", "X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			srv := emulator.New(emulator.Config{SeedUnique: tt.seed, UniqueCaseInsensitive: true})
			srv.SeedObjects("deals", tt.ids...)
		})
	}
}

func TestSeedUniqueMethod(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.SeedObjects("invoices", "10", "11")
	c.srv.SeedUnique("invoices", "inv_no", func(id string) string { return "INV/" + id })
	c.srv.SeedObjects("invoices", "12")
	r := c.do(http.MethodPost, "/crm/v3/objects/invoices/batch/read", byUnique("inv_no", []string{"INV/10", "INV/12", "INV/13"}, "inv_no"))
	wantStatus(t, r, http.StatusMultiStatus)
	var got []string
	for _, res := range list(t, r.body, "results") {
		got = append(got, str(res["properties"].(map[string]any)["inv_no"]))
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"INV/10", "INV/12"}) {
		t.Errorf("found %v: %s", got, r.raw)
	}
	defer func() {
		if recover() == nil {
			t.Error("a constant value did not panic")
		}
	}()
	c.srv.SeedUnique("invoices", "same", func(string) string { return "X" })
}
