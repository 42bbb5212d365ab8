package emulator_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

func TestAuthentication(t *testing.T) {
	const msg = "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
	tests := []struct {
		name   string
		token  string // portal token
		header string // Authorization header ("" = none)
	}{
		{"no header", testToken, ""},
		{"wrong token", testToken, "Bearer nope"},
		{"wrong scheme", testToken, "Basic " + testToken},
		{"token without scheme", testToken, testToken},
		{"portal without token", "", "Bearer "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := emulator.New(emulator.Config{Token: tt.token})
			c := &client{t: t, srv: srv, hc: &http.Client{Transport: srv.Transport()}}
			hdr := map[string]string{"Authorization": tt.header}
			r, err := c.send(t.Context(), http.MethodPost, "/crm/v3/objects/line_items/batch/create",
				map[string]any{"inputs": []any{input("a", props("name", "x"))}}, hdr)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, r, http.StatusUnauthorized)
			keys := []string{}
			for k := range r.body {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, []string{"category", "correlationId", "message", "status"}) ||
				r.body["status"] != "error" || r.body["message"] != msg || r.body["category"] != "INVALID_AUTHENTICATION" {
				t.Errorf("401 body: %s", r.raw)
			}
			if r.header.Get("X-HubSpot-RateLimit-Max") != "" {
				t.Error("401 carries rate-limit headers")
			}
			if len(srv.LineItems()) != 0 || srv.Stats().BatchCreates != 0 {
				t.Error("unauthenticated request was processed")
			}
		})
	}
}

func TestMissingScopes(t *testing.T) {
	tests := []struct {
		method, path string
		body         any
		granted      []string
		want         string
	}{
		{http.MethodPost, "/crm/v3/objects/line_items/batch/create", map[string]any{"inputs": []any{}}, []string{emulator.ScopeLineItemsRead}, emulator.ScopeLineItemsWrite},
		{http.MethodPost, "/crm/v3/objects/line_items/search", map[string]any{}, []string{emulator.ScopeLineItemsWrite}, emulator.ScopeLineItemsRead},
		{http.MethodPost, "/crm/v3/objects/line_items/batch/read", map[string]any{}, []string{emulator.ScopeLineItemsWrite, emulator.ScopeLineItemSchemasRead}, emulator.ScopeLineItemsRead},
		{http.MethodGet, "/crm/v3/properties/line_items", nil, []string{emulator.ScopeLineItemsRead}, emulator.ScopeLineItemSchemasRead},
		{http.MethodGet, "/crm/v4/associations/line_items/deals/labels", nil, []string{}, emulator.ScopeLineItemsRead},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := newClient(t, emulator.Config{Scopes: tt.granted})
			r := c.do(tt.method, tt.path, tt.body)
			wantStatus(t, r, http.StatusForbidden)
			if r.body["category"] != "MISSING_SCOPES" || r.body["status"] != "error" ||
				!strings.HasPrefix(str(r.body["message"]), "This app hasn't been granted all required scopes to make this call.") {
				t.Errorf("403 body: %s", r.raw)
			}
			d := list(t, r.body, "errors")[0]
			scopes := d["context"].(map[string]any)["requiredGranularScopes"].([]any)
			if str(scopes[0]) != tt.want {
				t.Errorf("requiredGranularScopes = %v, want %s first", scopes, tt.want)
			}
			if r.body["links"].(map[string]any)["scopes"] != "https://developers.hubspot.com/scopes" {
				t.Errorf("links: %v", r.body["links"])
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	c := newClient(t, emulator.Config{})
	for _, path := range []string{"/crm/v3/objects/line_items/batch/create", "/crm/v3/objects/line_items/batch/read"} {
		r := c.do(http.MethodGet, path, nil)
		wantStatus(t, r, http.StatusMethodNotAllowed)
		if r.header.Get("Allow") != http.MethodPost {
			t.Errorf("%s: Allow = %q", path, r.header.Get("Allow"))
		}
	}
	var r *response
	for _, path := range []string{"/crm/v3/objects/line_items", "/crm/v3/objects/deals/batch/create", "/nope", "/crm/v3/objects/line_items/batch/create/"} {
		r = c.do(http.MethodPost, path, map[string]any{})
		wantStatus(t, r, http.StatusNotFound)
		if r.body["message"] != "resource not found" || r.body["status"] != "error" {
			t.Errorf("404 body: %s", r.raw)
		}
	}
}

func TestPropertiesEndpoint(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.AddProperty(emulator.Property{Name: "external_id", Label: "External ID", Type: "string", HasUniqueValue: true})
	r := c.do(http.MethodGet, "/crm/v3/properties/line_items", nil)
	wantStatus(t, r, http.StatusOK)
	byName := map[string]map[string]any{}
	for _, p := range list(t, r.body, "results") {
		for _, k := range []string{"name", "label", "type", "fieldType", "description", "groupName", "options"} {
			if _, ok := p[k]; !ok {
				t.Errorf("property %v lacks required field %q", p["name"], k)
			}
		}
		byName[p["name"].(string)] = p
	}
	for _, name := range []string{"name", "description", "price", "quantity", "amount", "discount", "hs_discount_percentage",
		"hs_sku", "hs_cost_of_goods_sold", "tax", "hs_product_id", "hs_line_item_currency_code", "recurringbillingfrequency",
		"hs_recurring_billing_start_date", "hs_recurring_billing_period", "hs_term_in_months", "hs_billing_start_delay_days",
		"hs_position_on_quote", "createdate", "hs_lastmodifieddate", "hs_object_id", "external_id"} {
		if byName[name] == nil {
			t.Errorf("property %s missing", name)
		}
	}
	amount := byName["amount"]
	if amount["calculated"] != true || amount["modificationMetadata"].(map[string]any)["readOnlyValue"] != true {
		t.Errorf("amount: %v", amount)
	}
	if byName["external_id"]["hasUniqueValue"] != true || byName["external_id"]["groupName"] != "lineiteminformation" || byName["external_id"]["fieldType"] != "text" {
		t.Errorf("external_id: %v", byName["external_id"])
	}
	freq := list(t, byName["recurringbillingfrequency"], "options")
	if freq[2]["value"] != "monthly" || freq[2]["label"] != "Monthly" || freq[2]["hidden"] != false {
		t.Errorf("recurringbillingfrequency options: %v", freq)
	}
	if r.header.Get("X-HubSpot-RateLimit-Max") != "100" {
		t.Errorf("rate-limit headers missing: %v", r.header)
	}

	wantStatus(t, c.do(http.MethodGet, "/crm/v3/properties/deals", nil), http.StatusNotFound)
	r = c.do(http.MethodGet, "/crm/v3/properties/line_items?archived=true", nil)
	wantStatus(t, r, http.StatusOK)
	if len(list(t, r.body, "results")) != 0 {
		t.Errorf("archived properties: %s", r.raw)
	}
}

func TestLabelsEndpoint(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.AddAssociationLabel("deals", emulator.CategoryUserDefined, 501, "Bundle")
	for _, path := range []string{"/crm/associations/v4/line_items/deals/labels", "/crm/v4/associations/line_items/deals/labels", "/crm/v4/associations/0-8/0-3/labels"} {
		r := c.do(http.MethodGet, path, nil)
		wantStatus(t, r, http.StatusOK)
		got := list(t, r.body, "results")
		if len(got) != 2 {
			t.Fatalf("%s: %s", path, r.raw)
		}
		if got[0]["category"] != "HUBSPOT_DEFINED" || got[0]["typeId"] != float64(20) || got[0]["label"] != nil {
			t.Errorf("default label: %v", got[0])
		}
		if _, ok := got[0]["label"]; !ok {
			t.Error("label key missing for the default type")
		}
		if got[1]["category"] != "USER_DEFINED" || got[1]["typeId"] != float64(501) || got[1]["label"] != "Bundle" {
			t.Errorf("custom label: %v", got[1])
		}
		if r.header.Get("X-HubSpot-RateLimit-Max") != "" {
			t.Error("labels endpoint is exempt from the ten-secondly limit but sent its headers")
		}
	}
	r := c.do(http.MethodGet, "/crm/v4/associations/line_items/payments/labels", nil)
	wantStatus(t, r, http.StatusOK)
	if got := list(t, r.body, "results"); len(got) != 1 || got[0]["typeId"] != float64(396) {
		t.Errorf("payments labels: %s", r.raw)
	}
	wantStatus(t, c.do(http.MethodGet, "/crm/v4/associations/line_items/widgets/labels", nil), http.StatusBadRequest)
}

func TestSeedAndLabelPanics(t *testing.T) {
	srv := emulator.New(emulator.Config{})
	for name, f := range map[string]func(){
		"seed unknown type":     func() { srv.SeedObjects("widgets", "1") },
		"label hubspot defined": func() { srv.AddAssociationLabel("deals", emulator.CategoryHubSpotDefined, 9, "x") },
		"label unknown type":    func() { srv.AddAssociationLabel("widgets", emulator.CategoryUserDefined, 9, "x") },
		"label duplicate": func() {
			srv.AddAssociationLabel("deals", emulator.CategoryUserDefined, 9, "x")
			srv.AddAssociationLabel("deals", emulator.CategoryUserDefined, 9, "y")
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}
