package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

// seedItems creates n line items with hs_sku SKU-00..SKU-nn and price i.
func seedItems(t *testing.T, c *client, n int) {
	t.Helper()
	for start := 0; start < n; start += 100 {
		var inputs []map[string]any
		for i := start; i < min(start+100, n); i++ {
			p := props("name", fmt.Sprintf("Item %d", i), "hs_sku", fmt.Sprintf("SKU-%02d", i), "price", fmt.Sprint(i))
			if i%2 == 0 {
				p["recurringbillingfrequency"] = "monthly"
			}
			inputs = append(inputs, input(fmt.Sprint("t", i), p))
		}
		wantStatus(t, c.create(inputs...), http.StatusCreated)
	}
}

func skus(t *testing.T, r *response) []string {
	t.Helper()
	var out []string
	for _, res := range list(t, r.body, "results") {
		p := res["properties"].(map[string]any)
		out = append(out, str(p["hs_sku"]))
	}
	return out
}

func eq(prop, value string) map[string]any {
	return map[string]any{"propertyName": prop, "operator": "EQ", "value": value}
}

func groups(filters ...[]map[string]any) map[string]any {
	var gs []map[string]any
	for _, f := range filters {
		gs = append(gs, map[string]any{"filters": f})
	}
	return map[string]any{"filterGroups": gs, "properties": []string{"hs_sku"}, "limit": 100, "after": "0"}
}

func TestSearchFilters(t *testing.T) {
	c := newClient(t, emulator.Config{RateMax: -1, SearchPerSecond: -1})
	seedItems(t, c, 25)
	tests := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"EQ is case-insensitive on strings", groups([]map[string]any{eq("hs_sku", "sku-03")}), []string{"SKU-03"}},
		{"EQ on enumeration is case-sensitive", groups([]map[string]any{eq("recurringbillingfrequency", "Monthly")}), nil},
		{"EQ on numbers compares values", groups([]map[string]any{eq("price", "4.0")}), []string{"SKU-04"}},
		{"IN needs lowercase values on strings", groups([]map[string]any{{"propertyName": "hs_sku", "operator": "IN", "values": []string{"sku-01", "SKU-02"}}}), []string{"SKU-01"}},
		{"NOT_IN", groups([]map[string]any{{"propertyName": "price", "operator": "LT", "value": "3"}, {"propertyName": "hs_sku", "operator": "NOT_IN", "values": []string{"sku-01"}}}), []string{"SKU-00", "SKU-02"}},
		{"AND within a group", groups([]map[string]any{eq("recurringbillingfrequency", "monthly"), {"propertyName": "price", "operator": "GTE", "value": "20"}}), []string{"SKU-20", "SKU-22", "SKU-24"}},
		{"OR across groups", groups([]map[string]any{eq("hs_sku", "SKU-01")}, []map[string]any{eq("hs_sku", "SKU-24")}), []string{"SKU-01", "SKU-24"}},
		{"BETWEEN", groups([]map[string]any{{"propertyName": "price", "operator": "BETWEEN", "value": "10", "highValue": "12"}}), []string{"SKU-10", "SKU-11", "SKU-12"}},
		{"HAS_PROPERTY", groups([]map[string]any{{"propertyName": "recurringbillingfrequency", "operator": "NOT_HAS_PROPERTY"}, {"propertyName": "price", "operator": "LT", "value": "6"}}), []string{"SKU-01", "SKU-03", "SKU-05"}},
		{"top-level filters", map[string]any{"filters": []map[string]any{eq("hs_sku", "SKU-07")}, "properties": []string{"hs_sku"}, "after": "0"}, []string{"SKU-07"}},
		{"query", map[string]any{"query": "item 13", "properties": []string{"hs_sku"}, "after": "0"}, []string{"SKU-13"}},
		{"sort descending", map[string]any{"sorts": []map[string]any{{"propertyName": "price", "direction": "DESCENDING"}}, "limit": 3, "properties": []string{"hs_sku"}, "after": "0"}, []string{"SKU-24", "SKU-23", "SKU-22"}},
		{"sort string form", map[string]any{"sorts": []string{"-price"}, "limit": 2, "properties": []string{"hs_sku"}, "after": "0"}, []string{"SKU-24", "SKU-23"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.search(tt.body)
			wantStatus(t, r, http.StatusOK)
			if got := skus(t, r); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if r.body["total"] == nil {
				t.Error("total missing")
			}
		})
	}
}

func TestSearchPaging(t *testing.T) {
	c := newClient(t, emulator.Config{RateMax: -1, SearchPerSecond: -1})
	seedItems(t, c, 25)
	var all []string
	after := "0" // the first page
	pages := 0
	for {
		r := c.search(map[string]any{"limit": 10, "properties": []string{"hs_sku", "tax"}, "after": after})
		wantStatus(t, r, http.StatusOK)
		pages++
		if r.body["total"] != float64(25) {
			t.Fatalf("total = %v", r.body["total"])
		}
		res := list(t, r.body, "results")
		p := res[0]["properties"].(map[string]any)
		if v, ok := p["tax"]; !ok || v != nil {
			t.Errorf("unset requested property should be null: %v", p)
		}
		for _, k := range []string{"createdate", "hs_lastmodifieddate", "hs_object_id"} {
			if p[k] == nil {
				t.Errorf("%s not returned: %v", k, p)
			}
		}
		if _, ok := p["name"]; ok {
			t.Errorf("unrequested property returned: %v", p)
		}
		all = append(all, skus(t, r)...)
		pg, ok := r.body["paging"].(map[string]any)
		if !ok {
			break
		}
		after = pg["next"].(map[string]any)["after"].(string)
	}
	if pages != 3 || len(all) != 25 || !slices.IsSorted(all) {
		t.Errorf("pages=%d results=%v", pages, all)
	}
	r := c.search(firstPage())
	if n := len(list(t, r.body, "results")); n != 10 {
		t.Errorf("default page has %d results, want 10", n)
	}
	if p := list(t, r.body, "results")[0]["properties"].(map[string]any); len(p) != 3 {
		t.Errorf("default properties: %v", p)
	}
}

func TestSearchLimits(t *testing.T) {
	filter := eq("hs_sku", "x")
	six := []map[string]any{filter, filter, filter, filter, filter, filter}
	in := func(n int) map[string]any {
		vals := make([]string, n)
		for i := range vals {
			vals[i] = fmt.Sprint(i)
		}
		return map[string]any{"filterGroups": []map[string]any{{"filters": []map[string]any{{"propertyName": "hs_sku", "operator": "IN", "values": vals}}}}}
	}
	tests := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"limit 200", map[string]any{"limit": 200}, 200, ""},
		{"limit 201", map[string]any{"limit": 201}, 400, "limit"},
		{"limit 0", map[string]any{"limit": 0}, 400, "limit"},
		{"after 0", map[string]any{"after": "0"}, 200, ""},
		{"after 9999", map[string]any{"after": "9999"}, 200, ""},
		{"after 10000", map[string]any{"after": "10000"}, 400, "10000"},
		{"after not a number", map[string]any{"after": "abc"}, 400, "after"},
		{"after as JSON number", `{"after":10}`, 400, "after"},
		{"after missing", `{"limit":10,"filterGroups":[],"sorts":[],"properties":[]}`, 400, "required attributes are not set [after]"},
		{"after null", `{"after":null}`, 400, "required attributes are not set [after]"},
		{"after empty", `{"after":""}`, 400, "after"},
		{"after negative", `{"after":"-1"}`, 400, "after"},
		{"5 groups of 3", map[string]any{"filterGroups": []map[string]any{{"filters": six[:3]}, {"filters": six[:3]}, {"filters": six[:3]}, {"filters": six[:3]}, {"filters": six[:3]}}}, 200, ""},
		{"5 groups of 4", map[string]any{"filterGroups": []map[string]any{{"filters": six[:4]}, {"filters": six[:4]}, {"filters": six[:4]}, {"filters": six[:4]}, {"filters": six[:4]}}}, 400, "too many filters (count: 20, max allowed: 18)"},
		{"6 groups", map[string]any{"filterGroups": []map[string]any{{"filters": six[:1]}, {"filters": six[:1]}, {"filters": six[:1]}, {"filters": six[:1]}, {"filters": six[:1]}, {"filters": six[:1]}}}, 400, "too many filterGroups"},
		{"6 filters in a group", map[string]any{"filterGroups": []map[string]any{{"filters": six}}}, 200, ""},
		{"7 filters in a group", map[string]any{"filterGroups": []map[string]any{{"filters": append(six, filter)}}}, 400, "too many filters per filterGroup"},
		{"19 filters", map[string]any{"filterGroups": []map[string]any{{"filters": six}, {"filters": six}, {"filters": six}, {"filters": six[:1]}}}, 400, "too many filters (count: 19"},
		{"18 filters", map[string]any{"filterGroups": []map[string]any{{"filters": six}, {"filters": six}, {"filters": six}}}, 200, ""},
		{"100 IN values", in(100), 200, ""},
		{"101 IN values", in(101), 400, "values"},
		{"unknown operator", map[string]any{"filters": []map[string]any{{"propertyName": "hs_sku", "operator": "LIKE", "value": "x"}}}, 400, "FilterOperatorEnum"},
		{"unknown property", map[string]any{"filters": []map[string]any{eq("nope", "x")}}, 400, "does not exist"},
		{"EQ without value", map[string]any{"filters": []map[string]any{{"propertyName": "hs_sku", "operator": "EQ"}}}, 400, "requires"},
		{"two sorts", map[string]any{"sorts": []string{"price", "name"}}, 400, "one sort"},
		{"unknown field", map[string]any{"pageSize": 10}, 400, "Unrecognized field"},
		{"body over 3000 characters", map[string]any{"query": strings.Repeat("q", 3000)}, 400, "3000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each map body asks for the first page unless it names another.
			if m, ok := tt.body.(map[string]any); ok {
				if _, ok := m["after"]; !ok {
					m["after"] = "0"
				}
			}
			c := newClient(t, emulator.Config{})
			r := c.search(tt.body)
			wantStatus(t, r, tt.status)
			if tt.status == 400 && (!strings.Contains(str(r.body["message"]), tt.msg) || r.body["category"] != "VALIDATION_ERROR") {
				t.Errorf("message %q lacks %q", r.body["message"], tt.msg)
			}
		})
	}
}

func TestSearchCapsAtTenThousand(t *testing.T) {
	c := newClient(t, emulator.Config{RateMax: -1, SearchPerSecond: -1})
	seedItems(t, c, 10050)
	r := c.search(map[string]any{"after": "9900", "limit": 200})
	wantStatus(t, r, http.StatusOK)
	if n := len(list(t, r.body, "results")); n != 100 || r.body["total"] != float64(10050) || r.body["paging"] != nil {
		t.Errorf("results=%d total=%v paging=%v", n, r.body["total"], r.body["paging"])
	}
}

func TestSearchLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{SearchLag: 5 * time.Second})
		seedItems(t, c, 2)
		if r := c.search(firstPage()); r.body["total"] != float64(0) {
			t.Errorf("fresh items are searchable: %s", r.raw)
		}
		time.Sleep(5 * time.Second)
		if r := c.search(firstPage()); r.body["total"] != float64(2) {
			t.Errorf("indexed items not searchable: %s", r.raw)
		}
	})
}
