package emulator_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

func TestBatchCreateAllValidIs201(t *testing.T) {
	c := newClient(t, emulator.Config{Seed: 1})
	c.srv.SeedObjects("deals", "1001", "1002")
	r := c.create(
		input("a", props("name", "Widget", "price", "10.50", "quantity", "2", "recurringbillingfrequency", "monthly"), toDeal("1001")),
		input("b", props("name", "Gadget", "price", "0", "hs_recurring_billing_start_date", "2024-01-15"), toDeal("1002")),
	)
	wantStatus(t, r, http.StatusCreated)
	if r.body["status"] != "COMPLETE" || r.body["startedAt"] == nil || r.body["completedAt"] == nil {
		t.Errorf("missing batch fields: %s", r.raw)
	}
	if _, ok := r.body["errors"]; ok {
		t.Errorf("201 carries errors: %s", r.raw)
	}
	results := list(t, r.body, "results")
	if len(results) != 2 {
		t.Fatalf("got %d results, want 2", len(results))
	}
	iso := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$`)
	for _, res := range results {
		id := res["id"].(string)
		p := res["properties"].(map[string]any)
		if p["hs_object_id"] != id || !iso.MatchString(str(p["createdate"])) || p["hs_lastmodifieddate"] != p["createdate"] {
			t.Errorf("bad default properties: %v", p)
		}
		if res["archived"] != false || !iso.MatchString(str(res["createdAt"])) || res["updatedAt"] != res["createdAt"] {
			t.Errorf("bad object fields: %v", res)
		}
		if tr := res["objectWriteTraceId"]; tr != "a" && tr != "b" {
			t.Errorf("objectWriteTraceId = %v", tr)
		}
	}

	items := c.srv.LineItems()
	if len(items) != 2 {
		t.Fatalf("LineItems() has %d items, want 2", len(items))
	}
	if items[0].ID >= items[1].ID && len(items[0].ID) == len(items[1].ID) {
		t.Errorf("LineItems not sorted by id: %s, %s", items[0].ID, items[1].ID)
	}
	byTrace := map[string]emulator.LineItem{}
	for _, it := range items {
		byTrace[it.TraceID] = it
	}
	a := byTrace["a"]
	if a.Properties["name"] != "Widget" || a.Properties["price"] != "10.50" || a.Properties["hs_object_id"] != a.ID {
		t.Errorf("stored properties: %v", a.Properties)
	}
	want := []emulator.Association{{ToType: "deals", ToID: "1001", Category: emulator.CategoryHubSpotDefined, TypeID: 20}}
	if !slices.Equal(a.Associations, want) {
		t.Errorf("associations = %v, want %v", a.Associations, want)
	}
	st := c.srv.Stats()
	if st.Requests != 1 || st.BatchCreates != 1 || st.Throttled != 0 || st.Faults != 0 || st.MaxInWindow != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPropertyValidationCodes(t *testing.T) {
	tests := []struct {
		prop, value string
		code        string // "" = valid
	}{
		{"no_such_property", "x", emulator.CodePropertyDoesntExist},
		{"amount", "10", emulator.CodeReadOnlyValue},
		{"hs_object_id", "5", emulator.CodeReadOnlyValue},
		{"createdate", "2024-01-01T00:00:00Z", emulator.CodeReadOnlyValue},
		{"hs_lastmodifieddate", "1700000000000", emulator.CodeReadOnlyValue},
		{"amount", "", emulator.CodeReadOnlyValue},
		{"price", "1234.50", ""},
		{"price", "1,234.50", emulator.CodeInvalidNumber},
		{"price", "12e3", emulator.CodeInvalidNumber},
		{"price", "abc", emulator.CodeInvalidNumber},
		{"price", ".5", emulator.CodeInvalidNumber},
		{"price", "+1", emulator.CodeInvalidNumber},
		{"price", "-5", emulator.CodeInvalidValue},
		{"price", "-0", ""},
		{"price", " 5", emulator.CodeWhitespace},
		{"price", "5\u200b", emulator.CodeWhitespace},
		{"quantity", "3", ""},
		{"quantity", "1.5", ""},
		{"quantity", "three", emulator.CodeInvalidNumber},
		{"discount", "-2", ""},
		{"price", "", ""},
		{"hs_recurring_billing_start_date", "2024-01-15", ""},
		{"hs_recurring_billing_start_date", "1705276800000", ""},
		{"hs_recurring_billing_start_date", "2024-01-15T00:00:00Z", ""},
		{"hs_recurring_billing_start_date", "1705312800000", emulator.CodeInvalidDate},
		{"hs_recurring_billing_start_date", "2024-01-15T10:00:00Z", emulator.CodeInvalidDate},
		{"hs_recurring_billing_start_date", "2024-02-30", emulator.CodeInvalidDate},
		{"hs_recurring_billing_start_date", "15/01/2024", emulator.CodeInvalidDate},
		{"hs_recurring_billing_start_date", "2024-01-15 ", emulator.CodeWhitespace},
		{"custom_when", "2024-01-15T10:30:00.123Z", ""},
		{"custom_when", "1705312800123", ""},
		{"custom_when", "2024-01-15T10:30:00.123456Z", emulator.CodeInvalidLong},
		{"custom_when", "tomorrow", emulator.CodeInvalidLong},
		{"custom_when", "2024-01-15", emulator.CodeInvalidLong},
		{"recurringbillingfrequency", "monthly", ""},
		{"recurringbillingfrequency", "Monthly", emulator.CodeInvalidOption},
		{"recurringbillingfrequency", "every_month", emulator.CodeInvalidOption},
		{"hs_line_item_currency_code", "EUR", ""},
		{"hs_line_item_currency_code", "usd", emulator.CodeInvalidOption},
		{"custom_colors", "red;blue", ""},
		{"custom_colors", "red;purple", emulator.CodeInvalidOption},
		{"custom_colors", "red;;blue", emulator.CodeInvalidOption},
		{"custom_colors", "Red", emulator.CodeInvalidOption},
		{"custom_flag", "true", ""},
		{"custom_flag", "yes", emulator.CodeInvalidOption},
		{"custom_flag", "TRUE", emulator.CodeInvalidOption},
		{"name", " padded names are fine ", ""},
		{"name", strings.Repeat("x", 65536), ""},
		{"name", strings.Repeat("x", 65537), emulator.CodeValueTooLong},
		{"description", strings.Repeat("é", 65536), ""},
		{"hs_recurring_billing_period", "P12M", ""},
		{"hs_recurring_billing_period", "P1Y2M3D", ""},
		{"hs_recurring_billing_period", "P2W", ""},
		{"hs_recurring_billing_period", "12 months", emulator.CodeInvalidValue},
		{"hs_recurring_billing_period", "P", emulator.CodeInvalidValue},
	}
	c := newClient(t, emulator.Config{})
	c.srv.AddProperty(emulator.Property{Name: "custom_when", Label: "When", Type: "datetime", FieldType: "date"})
	c.srv.AddProperty(emulator.Property{Name: "custom_colors", Label: "Colors", Type: "enumeration", FieldType: "checkbox",
		Options: []emulator.Option{{Label: "Red", Value: "red"}, {Label: "Blue", Value: "blue"}}})
	c.srv.AddProperty(emulator.Property{Name: "custom_flag", Label: "Flag", Type: "bool", FieldType: "booleancheckbox",
		Options: []emulator.Option{{Label: "Yes", Value: "true"}, {Label: "No", Value: "false"}}})

	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s=%.20q", tt.prop, tt.value), func(t *testing.T) {
			trace := fmt.Sprintf("t%d", i)
			// A valid companion input makes an invalid one a 207, not a 400.
			r := c.create(input(trace, props(tt.prop, tt.value)), input(trace+"-ok", props("name", fmt.Sprint("ok", i))))
			if tt.code == "" {
				wantStatus(t, r, http.StatusCreated)
				return
			}
			wantStatus(t, r, http.StatusMultiStatus)
			codes := errorCodes(t, r.body)
			if !slices.Equal(codes[trace], []string{tt.code}) {
				t.Errorf("codes = %v, want [%s]; body %s", codes, tt.code, r.raw)
			}
			if r.body["numErrors"] != float64(1) || len(list(t, r.body, "results")) != 1 {
				t.Errorf("want 1 error and 1 result: %s", r.raw)
			}
			e := list(t, r.body, "errors")[0]
			if e["status"] != "error" || e["category"] != "VALIDATION_ERROR" ||
				!strings.HasPrefix(str(e["message"]), `Property values were not valid: [{"isValid":false,`) {
				t.Errorf("error shape: %v", e)
			}
			d := list(t, e, "errors")[0]
			if got := d["context"].(map[string]any)["propertyName"].([]any)[0]; got != tt.prop {
				t.Errorf("propertyName context = %v", got)
			}
		})
	}
}

func TestValidationMessages(t *testing.T) {
	c := newClient(t, emulator.Config{})
	r := c.create(input("x", props("hs_recurring_billing_start_date", "1579179660000", "recurringbillingfrequency", "Monthly", "missing", "1")))
	wantStatus(t, r, http.StatusMultiStatus)
	msg := str(list(t, r.body, "errors")[0]["message"])
	for _, want := range []string{
		`"message":"1579179660000 is at 13:1:0.0 UTC, not midnight!","error":"INVALID_DATE","name":"hs_recurring_billing_start_date"`,
		`"message":"Monthly was not one of the allowed options: [weekly, biweekly, monthly,`,
		`"message":"Property \"missing\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"missing","localizedErrorMessage":"Property \"missing\" does not exist","portalId":`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %s:\n%s", want, msg)
		}
	}
}

func TestTraceIDsDecide207Or400(t *testing.T) {
	tests := []struct {
		name       string
		inputs     []map[string]any
		status     int
		numCreated int
	}{
		{"all invalid traced", []map[string]any{input("a", props("price", "x")), input("b", props("price", "y"))}, http.StatusMultiStatus, 0},
		{"invalid traced, valid untraced", []map[string]any{input("a", props("price", "x")), input("", props("name", "ok"))}, http.StatusMultiStatus, 1},
		{"invalid untraced", []map[string]any{input("", props("price", "x")), input("b", props("name", "ok"))}, http.StatusBadRequest, 0},
		{"one of two invalid untraced", []map[string]any{input("a", props("price", "x")), input("", props("quantity", "y")), input("c", props("name", "ok"))}, http.StatusBadRequest, 0},
		{"empty trace id counts as none", []map[string]any{{"properties": props("price", "x"), "associations": []any{}, "objectWriteTraceId": ""}}, http.StatusBadRequest, 0},
		{"valid untraced", []map[string]any{input("", props("name", "ok"))}, http.StatusCreated, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, emulator.Config{})
			r := c.create(tt.inputs...)
			wantStatus(t, r, tt.status)
			if got := len(c.srv.LineItems()); got != tt.numCreated {
				t.Errorf("created %d, want %d", got, tt.numCreated)
			}
			if tt.status == http.StatusBadRequest {
				if r.body["category"] != "VALIDATION_ERROR" || r.body["correlationId"] == nil ||
					!strings.HasPrefix(str(r.body["message"]), "Property values were not valid: [") {
					t.Errorf("400 body: %s", r.raw)
				}
				if len(list(t, r.body, "errors")) == 0 {
					t.Errorf("400 without error details: %s", r.raw)
				}
			}
			if tt.status == http.StatusMultiStatus && len(list(t, r.body, "results")) != tt.numCreated {
				t.Errorf("results: %s", r.raw)
			}
		})
	}
}

func TestBatchShapeErrors(t *testing.T) {
	many := make([]map[string]any, 101)
	for i := range many {
		many[i] = input(fmt.Sprint(i), props("name", fmt.Sprint(i)))
	}
	hundred := many[:100]
	tests := []struct {
		name   string
		body   any
		header map[string]string
		status int
		msg    string // substring of message
	}{
		{"101 inputs", map[string]any{"inputs": many}, nil, 400, "maximum number of inputs supported in a batch request is 100"},
		{"100 inputs", map[string]any{"inputs": hundred}, nil, 201, ""},
		{"no inputs", map[string]any{"inputs": []any{}}, nil, 400, "at least one input"},
		{"inputs missing", map[string]any{}, nil, 400, "required attributes are not set [inputs]"},
		{"inputs null", `{"inputs":null}`, nil, 400, "required attributes are not set [inputs]"},
		{"associations missing", map[string]any{"inputs": []any{map[string]any{"properties": props("name", "x")}}}, nil, 400, "[inputs[0].associations]"},
		{"properties missing", map[string]any{"inputs": []any{map[string]any{"associations": []any{}}}}, nil, 400, "[inputs[0].properties]"},
		{"number value", `{"inputs":[{"properties":{"price":10},"associations":[]}]}`, nil, 400, "from number at inputs[0].properties.price"},
		{"bool value", `{"inputs":[{"properties":{"name":true},"associations":[]}]}`, nil, 400, "from boolean"},
		{"null value", `{"inputs":[{"properties":{"name":null},"associations":[]}]}`, nil, 400, "from null"},
		{"properties not object", `{"inputs":[{"properties":[],"associations":[]}]}`, nil, 400, "inputs[0].properties"},
		{"unknown top field", `{"inputs":[],"extra":1}`, nil, 400, `Unrecognized field "extra"`},
		{"unknown input field", `{"inputs":[{"id":"1","properties":{},"associations":[]}]}`, nil, 400, `Unrecognized field "id"`},
		{"numeric to.id", `{"inputs":[{"properties":{},"associations":[{"to":{"id":1001},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":20}]}]}]}`, nil, 400, "to.id"},
		{"no types", `{"inputs":[{"properties":{},"associations":[{"to":{"id":"1001"},"types":[]}]}]}`, nil, 400, "at least one type"},
		{"bad category", `{"inputs":[{"properties":{},"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"DEFAULT","associationTypeId":20}]}]}]}`, nil, 400, "AssociationCategory"},
		{"string type id", `{"inputs":[{"properties":{},"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":"20"}]}]}]}`, nil, 400, "associationTypeId"},
		{"fractional type id", `{"inputs":[{"properties":{},"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":20.5}]}]}]}`, nil, 400, "associationTypeId"},
		{"trace id number", `{"inputs":[{"properties":{},"associations":[],"objectWriteTraceId":7}]}`, nil, 400, "objectWriteTraceId"},
		{"malformed JSON", `{"inputs": [`, nil, 400, "Invalid input JSON on line 1, column"},
		{"trailing data", `{"inputs":[]} {}`, nil, 400, "Invalid input JSON on line 1"},
		{"empty body", "", nil, 400, "a request body was expected, but none found"},
		{"no content type", `{"inputs":[]}`, map[string]string{"Content-Type": ""}, 415, "No Content-Type defined"},
		{"text content type", `{"inputs":[]}`, map[string]string{"Content-Type": "text/plain"}, 415, "Unsupported Media Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, emulator.Config{})
			c.srv.SeedObjects("deals", "1001")
			body := tt.body
			if body == "" {
				body = []byte{}
			}
			hdr := map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.header {
				hdr[k] = v
			}
			r, err := c.send(t.Context(), http.MethodPost, "/crm/v3/objects/line_items/batch/create", body, hdr)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, r, tt.status)
			if tt.status >= 400 {
				if !strings.Contains(str(r.body["message"]), tt.msg) {
					t.Errorf("message %q lacks %q", r.body["message"], tt.msg)
				}
				if r.body["status"] != "error" || r.body["correlationId"] == nil {
					t.Errorf("error body: %s", r.raw)
				}
				if n := len(c.srv.LineItems()); n != 0 {
					t.Errorf("created %d line items on a %d", n, tt.status)
				}
			}
		})
	}
}

func TestDuplicateInputsAreMerged(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.SeedObjects("deals", "1001")
	p := props("name", "Same", "price", "5")
	r := c.create(input("first", p, toDeal("1001")), input("second", p, toDeal("1001")), input("third", props("name", "Other")))
	wantStatus(t, r, http.StatusCreated)
	var traces []string
	for _, res := range list(t, r.body, "results") {
		traces = append(traces, res["objectWriteTraceId"].(string))
	}
	slices.Sort(traces)
	if !slices.Equal(traces, []string{"first", "third"}) {
		t.Errorf("result trace ids = %v, want [first third]", traces)
	}
	if n := len(c.srv.LineItems()); n != 2 {
		t.Errorf("created %d line items, want 2", n)
	}

	// Identical invalid inputs: one error, for the first trace id.
	bad := props("price", "x")
	r = c.create(input("e1", bad), input("e2", bad), input("ok", props("name", "fine")))
	wantStatus(t, r, http.StatusMultiStatus)
	if codes := errorCodes(t, r.body); len(codes) != 1 || codes["e1"] == nil {
		t.Errorf("errors by trace = %v, want only e1", codes)
	}

	// Different inputs may not share a trace id.
	r = c.create(input("dup", props("name", "a")), input("dup", props("name", "b")))
	wantStatus(t, r, http.StatusBadRequest)
}

func TestUniqueValueProperty(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.AddProperty(emulator.Property{Name: "external_id", Label: "External ID", Type: "string", FieldType: "text", HasUniqueValue: true})
	wantStatus(t, c.create(input("a", props("external_id", "X-1"))), http.StatusCreated)
	owner := c.srv.LineItems()[0].ID

	// A collision with a stored line item fails the whole batch with a 409
	// that names the existing record; nothing of the batch is created.
	r := c.create(input("b", props("external_id", "X-1")), input("c", props("external_id", "X-2")))
	wantStatus(t, r, http.StatusConflict)
	if str(r.body["category"]) != "CONFLICT" || !strings.Contains(str(r.body["message"]), "Existing ID: "+owner) {
		t.Errorf("body = %v", r.body)
	}

	// Repeated within one batch: the whole batch is a 400.
	r = c.create(input("d", props("external_id", "X-3", "name", "one")), input("e", props("external_id", "X-3", "name", "two")))
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(str(r.body["message"]), "Duplicate unique values") {
		t.Errorf("body = %v", r.body)
	}
	// Untraced conflict: also the whole batch.
	wantStatus(t, c.create(input("", props("external_id", "X-1"))), http.StatusConflict)
	if n := len(c.srv.LineItems()); n != 1 {
		t.Errorf("stored %d line items, want 1", n)
	}
	// A value no one holds is created.
	wantStatus(t, c.create(input("f", props("external_id", "X-4"))), http.StatusCreated)
}

func TestAssociations(t *testing.T) {
	c := newClient(t, emulator.Config{})
	c.srv.SeedObjects("deals", "1001")
	c.srv.SeedObjects("quotes", "2001")
	c.srv.SeedObjects("discounts", "3001")
	c.srv.AddAssociationLabel("deals", emulator.CategoryUserDefined, 77, "Upsell item")

	r := c.create(input("a", props("name", "x"),
		toDeal("1001"),
		assoc("2001", emulator.CategoryHubSpotDefined, 68),
		assoc("3001", emulator.CategoryHubSpotDefined, 368),
		assoc("1001", emulator.CategoryUserDefined, 77)))
	wantStatus(t, r, http.StatusCreated)
	got := c.srv.LineItems()[0].Associations
	want := []emulator.Association{
		{ToType: "deals", ToID: "1001", Category: "HUBSPOT_DEFINED", TypeID: 20},
		{ToType: "quotes", ToID: "2001", Category: "HUBSPOT_DEFINED", TypeID: 68},
		{ToType: "discounts", ToID: "3001", Category: "HUBSPOT_DEFINED", TypeID: 368},
		{ToType: "deals", ToID: "1001", Category: "USER_DEFINED", TypeID: 77},
	}
	if !slices.Equal(got, want) {
		t.Errorf("associations = %v, want %v", got, want)
	}

	tests := []struct {
		name  string
		assoc map[string]any
		msg   string
	}{
		{"unknown deal", toDeal("999"), "One or more associations are invalid"},
		{"deal id used as quote", assoc("1001", emulator.CategoryHubSpotDefined, 68), "One or more associations are invalid"},
		{"unknown type id", assoc("1001", emulator.CategoryHubSpotDefined, 4242), "Invalid association type"},
		{"type id of another category", assoc("1001", emulator.CategoryUserDefined, 20), "Invalid association type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(c.srv.LineItems())
			// Traced and mixed with a valid input: still a whole-batch 400.
			r := c.create(input("bad", props("name", "y"), tt.assoc), input("good", props("name", "z")))
			wantStatus(t, r, http.StatusBadRequest)
			if !strings.Contains(str(r.body["message"]), tt.msg) || r.body["category"] != "VALIDATION_ERROR" {
				t.Errorf("body: %s", r.raw)
			}
			if len(c.srv.LineItems()) != before {
				t.Error("a whole-batch 400 created line items")
			}
		})
	}
	r = c.create(input("bad", props("name", "y"), toDeal("999")))
	ctx := r.body["context"].(map[string]any)
	if str(ctx["INVALID_OBJECT_IDS"]) != "[DEAL=999 is not valid]" {
		t.Errorf("context = %v", ctx)
	}
}

func TestResultsAreShuffled(t *testing.T) {
	c := newClient(t, emulator.Config{Seed: 42})
	var inputs []map[string]any
	var want []string
	for i := range 30 {
		trace := fmt.Sprintf("row-%02d", i)
		want = append(want, trace)
		p := props("name", trace)
		if i%5 == 0 {
			p["price"] = "bad"
		}
		inputs = append(inputs, input(trace, p))
	}
	r := c.create(inputs...)
	wantStatus(t, r, http.StatusMultiStatus)
	var resultTraces, errorTraces []string
	for _, res := range list(t, r.body, "results") {
		resultTraces = append(resultTraces, res["objectWriteTraceId"].(string))
	}
	for trace := range errorCodes(t, r.body) {
		errorTraces = append(errorTraces, trace)
	}
	if slices.IsSorted(resultTraces) {
		t.Errorf("results came back in input order: %v", resultTraces)
	}
	got := slices.Concat(resultTraces, errorTraces)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("trace ids = %v, want exactly the inputs' %v", got, want)
	}
	if len(errorTraces) != 6 || r.body["numErrors"] != float64(6) {
		t.Errorf("want 6 errors, got %v", errorTraces)
	}
	ids := map[string]bool{}
	for _, it := range c.srv.LineItems() {
		if ids[it.ID] {
			t.Errorf("duplicate id %s", it.ID)
		}
		ids[it.ID] = true
	}
}
