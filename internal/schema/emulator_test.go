package schema_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/schema"
)

// These tests hold Check to the emulator: for every value, Check accepts
// exactly when the emulator creates the line item, and reports the codes
// the emulator's 207 (or 409) names, in the same order. Only the
// emulator's exported API is used.

const (
	portalToken = "t"
	apiRoot     = "https://api.hubapi.com"
)

// newPortal returns an emulated portal with HubSpot's default line-item
// properties plus custom ones of the types the defaults lack, one id (1)
// of every association target, and a client for it.
func newPortal(t *testing.T) (*emulator.Server, *http.Client) {
	t.Helper()
	srv := emulator.New(emulator.Config{Token: portalToken, RateMax: -1})
	o := func(value, label string) emulator.Option { return emulator.Option{Value: value, Label: label} }
	srv.AddProperty(emulator.Property{Name: "billed_at", Label: "Billed at", Type: "datetime", FieldType: "date"})
	srv.AddProperty(emulator.Property{Name: "tier", Label: "Tier", Type: "enumeration", FieldType: "radio",
		Options: []emulator.Option{o("gold", "Gold"), o("silver", "Silver")}})
	srv.AddProperty(emulator.Property{Name: "channels", Label: "Channels", Type: "enumeration", FieldType: "checkbox",
		Options: []emulator.Option{o("web", "Web"), o("store", "Store"), o("phone", "Phone")}})
	srv.AddProperty(emulator.Property{Name: "taxable", Label: "Taxable", Type: "enumeration", FieldType: "booleancheckbox",
		Options: []emulator.Option{o("true", "Yes"), o("false", "No")}})
	srv.AddProperty(emulator.Property{Name: "gift", Label: "Gift", Type: "bool", FieldType: "booleancheckbox",
		Options: []emulator.Option{o("true", "Yes"), o("false", "No")}})
	srv.AddProperty(emulator.Property{Name: "import_key", Label: "Import key", Type: "string", FieldType: "text", HasUniqueValue: true})
	srv.AddProperty(emulator.Property{Name: "legacy_code", Label: "Legacy code", Type: "enumeration", FieldType: "select",
		Options: []emulator.Option{o("a", "A"), {Value: "old", Label: "Old", Hidden: true}}})
	for _, tg := range schema.Targets() {
		srv.SeedObjects(tg.Name, "1")
	}
	return srv, &http.Client{Transport: srv.Transport()}
}

// portalProperties reads the portal's GET /crm/v3/properties/line_items.
func portalProperties(t *testing.T, hc *http.Client) []hubspot.Property {
	t.Helper()
	c, err := hubspot.NewClient(hc, apiRoot, hubspot.NewToken(portalToken), "schema-test")
	if err != nil {
		t.Fatal(err)
	}
	props, err := c.Properties(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return props
}

// create sends one input and returns the emulator's verdict: nil when it
// created the line item, else the (property, code) pairs of its 207, or
// ("", category) for a whole-batch error.
func create(t *testing.T, hc *http.Client, in hubspot.CreateInput) []pc {
	t.Helper()
	body, err := json.Marshal(hubspot.BatchCreateRequest{Inputs: []hubspot.CreateInput{in}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, apiRoot+"/crm/v3/objects/line_items/batch/create", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+portalToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	switch resp.StatusCode {
	case http.StatusCreated, http.StatusMultiStatus:
		var br hubspot.BatchResponse
		if err := json.Unmarshal(raw, &br); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusCreated {
			if len(br.Results) != 1 || br.Results[0].ObjectWriteTraceID != in.ObjectWriteTraceID {
				t.Fatalf("201 without the input's result: %s", raw)
			}
			return nil
		}
		if len(br.Results) != 0 || len(br.Errors) != 1 || br.Errors[0].TraceIDs()[0] != in.ObjectWriteTraceID {
			t.Fatalf("207 with other than one error for the input: %s", raw)
		}
		var out []pc
		for _, d := range br.Errors[0].Errors {
			out = append(out, pc{d.Context["propertyName"][0], d.Code})
		}
		return out
	default:
		var e struct{ Category string }
		if err := json.Unmarshal(raw, &e); err != nil || e.Category == "" {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		return []pc{{"", e.Category}}
	}
}

// checkCodes is what Check predicts, in create's terms: a CONFLICT is a
// whole-batch 409 that names no property.
func checkCodes(ps []schema.Problem) []pc {
	for _, p := range ps {
		if p.Code == schema.CodeConflict {
			return []pc{{"", schema.CodeConflict}}
		}
	}
	return codes(ps)
}

func TestConsistentWithEmulator(t *testing.T) {
	_, hc := newPortal(t)
	defs := portalProperties(t, hc)

	long := strings.Repeat("x", hubspot.MaxPropertyValueLen)
	longRunes := strings.Repeat("é", hubspot.MaxPropertyValueLen)
	generic := []string{"", "1", "-1", "0.5", "x", " x", "true", "false", "2024-03-01", "1709251200000",
		"2024-03-01T13:45:00Z", "monthly", "Monthly", "USD", "P12M", "a;b", " ", "\u200b", long + "x"}
	specific := map[string][]string{
		"quantity": {"1", "-1", "0", "1.5", "-0.25", "007", "1,234.50", "12e3", ".5", "5.", "+1", "abc", "--1", "1.2.3",
			"1 ", " 1", "\t1", "1\n", "\u200b1", "1\ufeff", "\u00a01", "\u20281", "１", "99999999999999999999999999"},
		"price": {"-1", "-0", "-0.00", "-0.01", "-00.10", "0", "10.5", "-", "-.5"},
		"hs_recurring_billing_start_date": {"2024-03-01", "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "2024-3-1",
			"24-03-01", "1709251200000", "1709251200001", "1709300000000", "-86400000", "0", "-0", "00000000000000000000",
			"9223372036854775807", "9223372036854775808", "-9223372036854775808", "2024-03-01T00:00:00Z",
			"2024-03-01T00:00:00.000Z", "2024-03-01T00:00:00.001Z", "2024-03-01T01:00:00+01:00", "2024-03-01T00:00:00+01:00",
			"2024-03-01T00:00:00", "2024-03-01 00:00:00Z", "03/01/2024", "20240301", "2024-03-01T24:00:00Z", " 2024-03-01"},
		"billed_at": {"2024-03-01T13:45:00Z", "2024-03-01T13:45:00.1Z", "2024-03-01T13:45:00.123Z", "2024-03-01T13:45:00.1234Z",
			"2024-03-01T13:45:00+01:00", "2024-03-01T13:45:00-05:30", "2024-03-01T13:45:00+0100", "2024-03-01T13:45:00",
			"2024-03-01 13:45:00Z", "2024-03-01T13:45Z", "2024-03-01T13:45:00z", "2024-03-01T24:00:00Z", "2024-02-30T00:00:00Z",
			"2024-03-01T13:45:60Z", "2024-03-01T13:45:00+24:00", "2024-03-01T13:45:00+01:60", "1709300000000", "-1", "0",
			"9223372036854775807", "9223372036854775808", "12345678901234567890", "2024-03-01", "now"},
		"createdate":                 {"", "2024-03-01T13:45:00Z"},
		"recurringbillingfrequency":  {"monthly", "annually", "per_two_years", "Monthly", "MONTHLY", "fortnightly", "monthly;quarterly", "monthly ", ""},
		"hs_line_item_currency_code": {"USD", "usd", "US Dollar", "XXX"},
		"legacy_code":                {"a", "old", "Old", "A"},
		"tier":                       {"gold", "silver", "Gold", "bronze", "gold;silver"},
		"channels": {"web", "web;store", "web;store;phone", "phone;web", "web;web", "Web", "web;fax", "web;;store", ";web", "web;",
			";", "web; store", " web", "web\u00a0"},
		"taxable": {"true", "false", "True", "yes", "Yes", "1", "true;false"},
		"gift":    {"true", "false", "TRUE", "True", "yes", "Yes", "1", "0", "", " true", "true "},
		"name": {"Widget", " padded ", "\t", "tab\there", "line\nbreak", long, long + "x", longRunes, longRunes + "é",
			strings.Repeat("😀", hubspot.MaxPropertyValueLen), strings.Repeat("😀", hubspot.MaxPropertyValueLen+1)},
		"description": {"two\nlines", long, long + "y"},
		"hs_recurring_billing_period": {"P12M", "P1Y", "P2W", "P1D", "P1Y2M3W4D", "P0D", "P", "PT1H", "P1", "12M", "P1M1Y",
			"p1y", " P1Y", "P1Y ", "P1.5Y", "P-1Y", ""},
		"import_key":   {"k1", " k1", "", long + "x"},
		"amount":       {"10", ""},
		"hs_object_id": {"1", ""},
		"nope":         {"x", ""},
		"Name":         {"x"},
	}

	type tc struct{ property, value string }
	var cases []tc
	for _, name := range sortedKeys(specific) {
		for _, v := range specific[name] {
			cases = append(cases, tc{name, v})
		}
	}
	var props []string
	for _, p := range defs {
		props = append(props, p.Name)
	}
	for _, name := range props {
		for _, v := range generic {
			cases = append(cases, tc{name, v})
		}
	}
	mismatches, accepted := 0, 0
	for i, c := range cases {
		in := hubspot.CreateInput{ObjectWriteTraceID: fmt.Sprint(i + 1), Properties: hubspot.ValuesOf(map[string]string{c.property: c.value})}
		_, hc := newPortal(t) // a fresh portal, so that unique values do not collide
		want := create(t, hc, in)
		if want == nil {
			accepted++
		}
		got := schema.New(defs).Check(in)
		if fmt.Sprint(checkCodes(got)) != fmt.Sprint(want) {
			mismatches++
			t.Errorf("%s = %s: Check %v, emulator %v", c.property, short(c.value), checkCodes(got), want)
		}
	}
	if accepted < 100 || len(cases)-accepted < 100 {
		t.Errorf("%d of %d values accepted: too few of one kind to compare", accepted, len(cases))
	}
	if mismatches == 0 {
		t.Logf("%d single values agree (%d properties; %d accepted, %d rejected)", len(cases), len(props), accepted, len(cases)-accepted)
	}

	// Several properties at once: the same problems, in the same order.
	multi := []map[string]string{
		{"quantity": "x", "price": "-1", "name": "ok", "amount": "1", "tier": "Gold", "billed_at": "2024", "nope": ""},
		{"hs_recurring_billing_start_date": "2024-03-01T10:00:00Z", "hs_recurring_billing_period": "1Y", "channels": "web;x", "gift": "yes"},
		{"quantity": "2", "price": "3.50", "name": "fine", "tier": "gold", "channels": "web;phone", "gift": "true",
			"hs_recurring_billing_start_date": "2024-03-01", "billed_at": "1709300000000", "recurringbillingfrequency": "monthly"},
	}
	for i, p := range multi {
		in := hubspot.CreateInput{ObjectWriteTraceID: fmt.Sprint("m", i), Properties: hubspot.ValuesOf(p)}
		_, hc := newPortal(t)
		want := create(t, hc, in)
		if got := checkCodes(schema.New(defs).Check(in)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("input %v: Check %v, emulator %v", p, got, want)
		}
	}
}

func TestUniqueValuesConsistentWithEmulator(t *testing.T) {
	srv, hc := newPortal(t)
	s := schema.New(portalProperties(t, hc))
	steps := []map[string]string{
		{"import_key": "a"},
		{"import_key": "b"},
		{"import_key": "a"},                  // CONFLICT
		{"import_key": ""},                   // empty values are not unique values
		{"import_key": ""},                   //
		{"import_key": "c", "quantity": "x"}, // fails, so c stays free
		{"import_key": "c"},                  // created
		{"import_key": "c", "name": "other"}, // CONFLICT
		{"import_key": "A"},                  // case-sensitive
	}
	for i, p := range steps {
		in := hubspot.CreateInput{ObjectWriteTraceID: fmt.Sprint(i + 1), Properties: hubspot.ValuesOf(p)}
		want := create(t, hc, in)
		if got := checkCodes(s.Check(in)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("step %d %v: Check %v, emulator %v", i, p, got, want)
		}
	}
	if n := len(srv.LineItems()); n != 6 {
		t.Errorf("the emulator holds %d line items, want 6", n)
	}
}

func TestAssociationTypesConsistentWithEmulator(t *testing.T) {
	srv, hc := newPortal(t)
	srv.AddAssociationLabel("deals", "USER_DEFINED", 7, "Primary")
	srv.AddAssociationLabel("quotes", "INTEGRATOR_DEFINED", 9, "Synced")

	labels := make(map[string][]schema.Label)
	for _, tg := range schema.Targets() {
		req, err := http.NewRequest(http.MethodGet, apiRoot+"/crm/v4/associations/line_items/"+tg.Name+"/labels", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+portalToken)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := schema.ParseLabels(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("labels of %s: %d %v", tg.Name, resp.StatusCode, err)
		}
		labels[tg.Name] = ls
	}
	if !slices.Contains(labels["deals"], schema.Label{Category: "USER_DEFINED", TypeID: 7, Label: "Primary"}) {
		t.Fatalf("deals labels: %v", labels["deals"])
	}

	type at = hubspot.AssociationType
	types := []at{
		{Category: "HUBSPOT_DEFINED", TypeID: 20}, {Category: "HUBSPOT_DEFINED", TypeID: 68}, {Category: "HUBSPOT_DEFINED", TypeID: 410},
		{Category: "HUBSPOT_DEFINED", TypeID: 514}, {Category: "HUBSPOT_DEFINED", TypeID: 591}, {Category: "HUBSPOT_DEFINED", TypeID: 302},
		{Category: "HUBSPOT_DEFINED", TypeID: 565}, {Category: "HUBSPOT_DEFINED", TypeID: 396}, {Category: "HUBSPOT_DEFINED", TypeID: 368},
		{Category: "HUBSPOT_DEFINED", TypeID: 21}, {Category: "HUBSPOT_DEFINED", TypeID: 7}, {Category: "HUBSPOT_DEFINED", TypeID: 571},
		{Category: "USER_DEFINED", TypeID: 7}, {Category: "USER_DEFINED", TypeID: 8}, {Category: "USER_DEFINED", TypeID: 20},
		{Category: "INTEGRATOR_DEFINED", TypeID: 9}, {Category: "INTEGRATOR_DEFINED", TypeID: 7}, {Category: "WORK", TypeID: 1},
	}
	for i, typ := range types {
		in := hubspot.CreateInput{ObjectWriteTraceID: fmt.Sprint(i + 1),
			Associations: []hubspot.Association{{To: hubspot.ObjectID{ID: "1"}, Types: []at{typ}}},
			Properties:   hubspot.PropertyValues{{Name: "name", Value: fmt.Sprint("item ", i)}}}
		accepted := create(t, hc, in) == nil
		errs := schema.CheckAssociationTypes([]at{typ}, labels)
		if accepted != (len(errs) == 0) {
			t.Errorf("%v: emulator accepted = %v, CheckAssociationTypes = %v", typ, accepted, errs)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func short(v string) string {
	if len(v) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", v[:40], len(v))
	}
	return fmt.Sprintf("%q", v)
}
