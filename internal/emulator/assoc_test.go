package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

const assocPathV4 = "/crm/v4/associations/line_items/deals/batch/create"

// assocInput is a PublicAssociationMultiPost of HUBSPOT_DEFINED typeID.
func assocInput(from, to string, typeID int) map[string]any {
	return map[string]any{
		"from":  map[string]any{"id": from},
		"to":    map[string]any{"id": to},
		"types": []any{map[string]any{"associationCategory": emulator.CategoryHubSpotDefined, "associationTypeId": typeID}},
	}
}

func (c *client) associate(path string, inputs ...map[string]any) *response {
	c.t.Helper()
	return c.do(http.MethodPost, path, map[string]any{"inputs": inputs})
}

// createdIDs creates n line items without associations and returns their ids.
func createdIDs(t *testing.T, c *client, n int) []string {
	t.Helper()
	var ins []map[string]any
	for i := range n {
		ins = append(ins, input(fmt.Sprint("c", i), props("name", fmt.Sprint("item ", i))))
	}
	r := c.create(ins...)
	wantStatus(t, r, http.StatusCreated)
	var ids []string
	for _, res := range list(t, r.body, "results") {
		ids = append(ids, res["id"].(string))
	}
	slices.Sort(ids)
	return ids
}

// pairs renders the results of an association answer as from->to[labels], sorted.
func pairs(t *testing.T, r *response) []string {
	t.Helper()
	var out []string
	for _, res := range list(t, r.body, "results") {
		if res["fromObjectTypeId"] != "0-8" || len(res) != 5 {
			t.Errorf("result shape: %v", res)
		}
		out = append(out, fmt.Sprintf("%s->%s:%s%v", res["fromObjectId"], res["toObjectTypeId"], res["toObjectId"], res["labels"]))
	}
	slices.Sort(out)
	return out
}

func TestAssociationBatchCreate(t *testing.T) {
	c := newClient(t, emulator.Config{Seed: 5})
	c.srv.SeedObjects("deals", "1001", "1002")
	ids := createdIDs(t, c, 2)
	before := c.srv.LineItems()

	r := c.associate(assocPathV4, assocInput(ids[0], "1001", 20), assocInput(ids[1], "1002", 20))
	wantStatus(t, r, http.StatusCreated)
	want := []string{ids[0] + "->0-3:1001[]", ids[1] + "->0-3:1002[]"}
	if got := pairs(t, r); !slices.Equal(got, want) {
		t.Errorf("results = %v, want %v", got, want)
	}
	if r.body["status"] != "COMPLETE" || r.body["startedAt"] == nil || r.body["completedAt"] == nil {
		t.Errorf("batch fields: %s", r.raw)
	}
	if _, ok := r.body["errors"]; ok {
		t.Errorf("201 with errors: %s", r.raw)
	}

	// Again, and twice in one batch: no error, stored once.
	r = c.associate(assocPathV4, assocInput(ids[0], "1001", 20), assocInput(ids[0], "1001", 20))
	wantStatus(t, r, http.StatusCreated)
	if got := pairs(t, r); !slices.Equal(got, want[:1]) {
		t.Errorf("repeated: results = %v", got)
	}
	items := c.srv.LineItems()
	for i, it := range items {
		wantAssoc := []emulator.Association{{ToType: "deals", ToID: []string{"1001", "1002"}[i], Category: emulator.CategoryHubSpotDefined, TypeID: 20}}
		if !slices.Equal(it.Associations, wantAssoc) {
			t.Errorf("item %s associations = %v, want %v", it.ID, it.Associations, wantAssoc)
		}
		// Associating changes neither the properties nor the times.
		b := before[i]
		if it.ID != b.ID || it.TraceID != b.TraceID || !it.CreatedAt.Equal(b.CreatedAt) || !it.UpdatedAt.Equal(b.UpdatedAt) || fmt.Sprint(it.Properties) != fmt.Sprint(b.Properties) {
			t.Errorf("item changed: %+v, was %+v", it, b)
		}
	}
	if st := c.srv.Stats(); st.AssociationCreates != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestAssociationLabelsAndAliases(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.SeedObjects("subscriptions", "7")
	ids := createdIDs(t, c, 1)
	in := assocInput(ids[0], "7", 302)
	in["types"] = append(in["types"].([]any), map[string]any{"associationCategory": emulator.CategoryHubSpotDefined, "associationTypeId": 565})
	r := c.associate("/crm/v4/associations/line_item/0-69/batch/create", in)
	wantStatus(t, r, http.StatusCreated)
	if got := pairs(t, r); !slices.Equal(got, []string{ids[0] + "->0-69:7[Upcoming line item]"}) {
		t.Errorf("results = %v", got)
	}
	if a := c.srv.LineItems()[0].Associations; len(a) != 2 {
		t.Errorf("associations = %v", a)
	}
}

func TestAssociationMissingObjects(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.SeedObjects("deals", "1001")
	ids := createdIDs(t, c, 1)
	r := c.associate(assocPathV4,
		assocInput(ids[0], "1001", 20),
		assocInput("999", "1001", 20),
		assocInput(ids[0], "4242", 20),
		assocInput("0"+ids[0], "4243", 20),
	)
	wantStatus(t, r, http.StatusMultiStatus)
	if got := pairs(t, r); !slices.Equal(got, []string{ids[0] + "->0-3:1001[]"}) {
		t.Errorf("results = %v", got)
	}
	if r.body["numErrors"] != float64(3) {
		t.Fatalf("numErrors: %s", r.raw)
	}
	var got []string
	for _, e := range list(t, r.body, "errors") {
		ctx := e["context"].(map[string]any)
		if e["status"] != "error" || e["category"] != "OBJECT_NOT_FOUND" || str(e["errors"]) != "[]" || str(e["links"]) != "map[]" ||
			!strings.HasPrefix(str(e["message"]), "Could not create association: ") {
			t.Errorf("error shape: %v", e)
		}
		got = append(got, fmt.Sprint(ctx["fromObjectId"], ctx["toObjectId"], ctx["INVALID_OBJECT_IDS"]))
	}
	slices.Sort(got)
	want := []string{
		fmt.Sprintf("[0%s] [4243] [LINE_ITEM=0%s is not valid DEAL=4243 is not valid]", ids[0], ids[0]),
		"[999] [1001] [LINE_ITEM=999 is not valid]",
		fmt.Sprintf("[%s] [4242] [DEAL=4242 is not valid]", ids[0]),
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q\nwant %q", got, want)
	}
	if a := c.srv.LineItems()[0].Associations; len(a) != 1 {
		t.Errorf("associations = %v", a)
	}

	// Nothing found: 207 with no results.
	r = c.associate(assocPathV4, assocInput("999", "1001", 20))
	wantStatus(t, r, http.StatusMultiStatus)
	if len(list(t, r.body, "results")) != 0 {
		t.Errorf("results: %s", r.raw)
	}
}

func TestAssociationWholeBatchErrors(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		body    any
		status  int
		message string
	}{
		{"type to another object", assocPathV4, map[string]any{"inputs": []any{assocInput("1", "1001", 68)}}, 400, "leads from line_items (0-8) to quotes (0-14), not to deals (0-3)"},
		{"unknown type", assocPathV4, map[string]any{"inputs": []any{assocInput("1", "1001", 999)}}, 400, "association type id 999 does not exist"},
		{"unknown category", assocPathV4, map[string]any{"inputs": []any{map[string]any{"from": map[string]any{"id": "1"}, "to": map[string]any{"id": "2"},
			"types": []any{map[string]any{"associationCategory": "NOPE", "associationTypeId": 20}}}}}, 400, "AssociationCategory"},
		{"no types", assocPathV4, map[string]any{"inputs": []any{map[string]any{"from": map[string]any{"id": "1"}, "to": map[string]any{"id": "2"}, "types": []any{}}}}, 400, "at least one type"},
		{"numeric id", assocPathV4, map[string]any{"inputs": []any{map[string]any{"from": map[string]any{"id": 1}, "to": map[string]any{"id": "2"}, "types": []any{}}}}, 400, "java.lang.String"},
		{"unknown field", assocPathV4, map[string]any{"inputs": []any{map[string]any{"from": map[string]any{"id": "1"}, "to": map[string]any{"id": "2"}, "types": []any{}, "label": "x"}}}, 400, `Unrecognized field "label"`},
		{"missing to", assocPathV4, map[string]any{"inputs": []any{map[string]any{"from": map[string]any{"id": "1"}, "types": []any{}}}}, 400, "inputs[0].to"},
		{"no inputs", assocPathV4, map[string]any{"inputs": []any{}}, 400, "at least one input"},
		{"unknown target type", "/crm/v4/associations/line_items/widgets/batch/create", map[string]any{"inputs": []any{assocInput("1", "2", 20)}}, 400, "Unable to infer object type from: widgets"},
		{"from another type", "/crm/v4/associations/deals/line_items/batch/create", map[string]any{"inputs": []any{assocInput("1", "2", 20)}}, 404, "resource not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, emulator.Config{})
			c.srv.SeedObjects("deals", "1001")
			r := c.do(http.MethodPost, tt.path, tt.body)
			wantStatus(t, r, tt.status)
			if !strings.Contains(str(r.body["message"]), tt.message) {
				t.Errorf("message: %s", r.raw)
			}
		})
	}
}

func TestAssociationRateClassAndScope(t *testing.T) {
	for _, exempt := range []bool{false, true} {
		c := newClient(t, emulator.Config{RateMax: 1, AssociationsBurstExempt: exempt})
		c.srv.SeedObjects("deals", "1001")
		ids := createdIDs(t, c, 1) // uses up the burst window
		r := c.associate(assocPathV4, assocInput(ids[0], "1001", 20))
		if exempt {
			wantStatus(t, r, http.StatusCreated)
			if r.header.Get("X-HubSpot-RateLimit-Max") != "" {
				t.Errorf("exempt answer has burst headers: %v", r.header)
			}
		} else {
			wantStatus(t, r, http.StatusTooManyRequests)
		}
	}
	c := newClient(t, emulator.Config{Scopes: []string{emulator.ScopeLineItemsRead, emulator.ScopeDealsRead}})
	wantStatus(t, c.associate(assocPathV4, assocInput("1", "1001", 20)), http.StatusForbidden)
}

func TestAssociationCommitFault(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.SeedObjects("deals", "1001")
	ids := createdIDs(t, c, 1)
	c.srv.SetFaults(emulator.Faults{CommitThenErrorRate: 1, CommitThenStatuses: []int{http.StatusBadGateway}})
	wantStatus(t, c.associate(assocPathV4, assocInput(ids[0], "1001", 20)), http.StatusBadGateway)
	if a := c.srv.LineItems()[0].Associations; len(a) != 1 {
		t.Fatalf("associations after the fault = %v", a)
	}
	c.srv.SetFaults(emulator.Faults{})
	wantStatus(t, c.associate(assocPathV4, assocInput(ids[0], "1001", 20)), http.StatusCreated)
	if a := c.srv.LineItems()[0].Associations; len(a) != 1 {
		t.Errorf("associations after the retry = %v", a)
	}
}

func TestAssociationAfterUpsertAndCreateAssociations(t *testing.T) {
	// Associations survive upserts, and upserts survive associations.
	c := upsertClient(t, emulator.Config{})
	c.srv.SeedObjects("deals", "1001", "1002")
	r := c.create(input("a", props("external_id", "K1", "name", "n1"), toDeal("1001")))
	wantStatus(t, r, http.StatusCreated)
	id := list(t, r.body, "results")[0]["id"].(string)
	wantStatus(t, c.associate(assocPathV4, assocInput(id, "1002", 20)), http.StatusCreated)
	wantStatus(t, c.upsert(up("K1", "b", props("name", "n2"))), http.StatusOK)
	it := c.srv.LineItems()[0]
	if it.Properties["name"] != "n2" || len(it.Associations) != 2 || it.Associations[0].ToID != "1001" || it.Associations[1].ToID != "1002" || it.TraceID != "a" {
		t.Errorf("item = %+v", it)
	}
}
