package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/hubspot"
)

const sampleYAML = `
properties:
  name: Product
  quantity: Qty
  price: {column: Unit Price, type: number}
  hs_recurring_billing_start_date: {column: Start, type: date, format: "01/02/2006"}
  recurringbillingfrequency: {column: Billing, type: enum, values: {Monthly: monthly, Yearly: annually}}
  hs_taxable: {column: Taxable, type: bool}
  hs_signed_at: {column: Signed, type: datetime}
associations:
  - {column: Deal ID, to: deal}
  - {column: Quote ID, type_id: 68}
  - {column: Label Col, type_id: 7, category: USER_DEFINED}
key: SKU
`

var header = []string{"SKU", "Product", "Qty", "Unit Price", "Start", "Billing", "Taxable", "Signed", "Deal ID", "Quote ID", "Label Col"}

func compile(t *testing.T) *Mapper {
	t.Helper()
	s, err := Load(strings.NewReader(sampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Compile(header)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMap(t *testing.T) {
	m := compile(t)
	rec := []string{"SKU-1", "Widget", "3", "10.50", "03/15/2026", "Monthly", "yes", "2026-03-15T10:30:00+02:00", "1001", "", "55"}
	in, err := m.Map(rec)
	if err != nil {
		t.Fatal(err)
	}
	wantProps := map[string]string{
		"name": "Widget", "quantity": "3", "price": "10.50", "hs_recurring_billing_start_date": "2026-03-15",
		"recurringbillingfrequency": "monthly", "hs_taxable": "true", "hs_signed_at": "2026-03-15T08:30:00.000Z",
	}
	if !reflect.DeepEqual(in.Properties, hubspot.ValuesOf(wantProps)) {
		t.Errorf("properties = %v\nwant %v", in.Properties, wantProps)
	}
	wantAssoc := []hubspot.Association{ // by type id, whatever the mapping's order
		{To: hubspot.ObjectID{ID: "55"}, Types: []hubspot.AssociationType{{Category: "USER_DEFINED", TypeID: 7}}},
		{To: hubspot.ObjectID{ID: "1001"}, Types: []hubspot.AssociationType{{Category: "HUBSPOT_DEFINED", TypeID: 20}}, ObjectType: "deals"},
	}
	if !reflect.DeepEqual(in.Associations, wantAssoc) {
		t.Errorf("associations = %+v\nwant %+v", in.Associations, wantAssoc)
	}
	if m.Key(rec) != "SKU-1" || !m.HasKey() {
		t.Errorf("key = %q", m.Key(rec))
	}
}

func TestMapEmptyCellsSendNothing(t *testing.T) {
	m := compile(t)
	in, err := m.Map(make([]string, len(header)))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Properties) != 0 || len(in.Associations) != 0 {
		t.Errorf("empty row mapped to %+v", in)
	}
}

func TestMapRejectsValues(t *testing.T) {
	base := []string{"SKU-1", "Widget", "3", "10.50", "03/15/2026", "Monthly", "yes", "", "1001", "", ""}
	cases := []struct {
		col, value, wantColumn, wantIn string
	}{
		{"Unit Price", "1,234.50", "Unit Price", "plain number"},
		{"Unit Price", "12e3", "Unit Price", "plain number"},
		{"Unit Price", "1.2.3", "Unit Price", "plain number"},
		{"Unit Price", "-", "Unit Price", "plain number"},
		{"Unit Price", "abc", "Unit Price", "plain number"},
		{"Unit Price", ".5", "Unit Price", "plain number"},
		{"Unit Price", "5.", "Unit Price", "plain number"},
		{"Unit Price", "+1", "Unit Price", "plain number"},
		{"Start", "2026-03-15", "Start", `"01/02/2006"`},
		{"Start", "02/30/2026", "Start", "date"},
		{"Billing", "Fortnightly", "Billing", `"Monthly", "Yearly"`},
		{"Taxable", "maybe", "Taxable", "boolean"},
		{"Signed", "yesterday", "Signed", "date and time"},
		{"Deal ID", "D-1001", "Deal ID", "record id"},
		{"Product", strings.Repeat("x", hubspot.MaxPropertyValueLen+1), "Product", "at most 65536 characters"},
	}
	m := compile(t)
	for _, tc := range cases {
		t.Run(tc.col+"="+tc.value[:min(len(tc.value), 20)], func(t *testing.T) {
			rec := append([]string(nil), base...)
			rec[indexOf(header, tc.col)] = tc.value
			_, err := m.Map(rec)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FieldError", err)
			}
			if fe.Column != tc.wantColumn || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("err = %q (column %q), want column %q and %q", err, fe.Column, tc.wantColumn, tc.wantIn)
			}
		})
	}
}

func TestNumbersAccepted(t *testing.T) {
	for _, v := range []string{"0", "-1", "10.50", " 42 ", "-0.001", "007"} {
		if _, ok := convertNumber(v); !ok {
			t.Errorf("convertNumber(%q) rejected", v)
		}
	}
}

func TestEnumAcceptsInternalValue(t *testing.T) {
	m := compile(t)
	rec := []string{"", "", "", "", "", "annually", "", "", "", "", ""}
	in, err := m.Map(rec)
	if err != nil || in.Properties.Value("recurringbillingfrequency") != "annually" {
		t.Errorf("in = %+v, err = %v", in, err)
	}
}

func TestCompileErrors(t *testing.T) {
	s, _ := Load(strings.NewReader(sampleYAML))
	cases := []struct {
		name   string
		header []string
		want   []string
	}{
		{"missing columns named", []string{"SKU", "Product"}, []string{`no column "Qty"`, `no column "Deal ID"`, `no column "Unit Price"`}},
		{"duplicate header", append(append([]string{}, header...), "Qty"), []string{`column "Qty" appears more than once`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Compile(tc.header)
			wantError(t, err, tc.want...)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"empty", "", "empty"},
		{"unknown key", "propertys: {}", "propertys"},
		{"unknown type", "properties: {price: {column: P, type: money}}", `unknown type "money"`},
		{"enum without values", "properties: {x: {column: P, type: enum}}", "needs values"},
		{"unknown to", "associations: [{column: D, to: lead}]", `unknown target "lead"`},
		{"both to and type_id", "associations: [{column: D, to: deal, type_id: 20}]", "not both"},
		{"neither", "associations: [{column: D}]", "needs to:"},
		{"by without to", "associations: [{column: D, type_id: 20, by: legacy_id}]", "by: legacy_id names a property of the target, which needs to:"},
		{"bad category", "associations: [{column: D, type_id: 7, category: MINE}]", `unknown category "MINE"`},
		{"no column", "properties: {x: {type: number}}", "no column"},
		{"date layout without elements", "properties: {x: {column: D, type: date, format: YYYY}}", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(strings.NewReader(tc.yaml))
			if err == nil && tc.want == "" {
				_, err = s.Compile([]string{"D"})
			}
			wantError(t, err, tc.want)
		})
	}
}

// wantError fails the test at once if err is nil, and otherwise if its
// text lacks any of want.
func wantError(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

// TestAssociationByExternalID: with by, the cell is the target's unique
// value, any text, kept as it is for the importer to resolve; the target's
// type is known, so the association can also be made after an upsert,
// which a bare type_id cannot.
func TestAssociationByExternalID(t *testing.T) {
	s, err := Load(strings.NewReader("properties: {name: Product}\nassociations:\n  - {column: Legacy Deal, to: deal, by: legacy_deal_id}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Compile([]string{"Product", "Legacy Deal"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := m.Map([]string{"Widget", " LD-1001 "})
	if err != nil {
		t.Fatal(err)
	}
	want := []hubspot.Association{{To: hubspot.ObjectID{ID: "LD-1001"}, ObjectType: "deals", By: "legacy_deal_id",
		Types: []hubspot.AssociationType{{Category: hubspot.CategoryHubSpotDefined, TypeID: 20}}}}
	if !reflect.DeepEqual(in.Associations, want) {
		t.Errorf("associations = %+v, want %+v", in.Associations, want)
	}
	if err := m.CanLinkLater(); err != nil {
		t.Errorf("CanLinkLater: %v", err)
	}
	y, err := s.YAML()
	if err != nil || !strings.Contains(string(y), "{column: Legacy Deal, to: deal, by: legacy_deal_id}") {
		t.Errorf("YAML = %s (%v), want the association with its by", y, err)
	}
	if err := compile(t).CanLinkLater(); err == nil || !strings.Contains(err.Error(), `column "Quote ID"`) || strings.Contains(err.Error(), "Deal ID") {
		t.Errorf("CanLinkLater on type_id associations: %v, want an error naming Quote ID and Label Col only", err)
	}
}

func TestIdentitySkipsReportColumns(t *testing.T) {
	s := Identity([]string{"name", "price", "error_row", "error_code", "error_message"})
	if len(s.Properties) != 2 || s.Properties["name"].Column != "name" {
		t.Errorf("identity = %+v", s.Properties)
	}
}

func indexOf(ss []string, s string) int {
	for i, v := range ss {
		if v == s {
			return i
		}
	}
	panic(s)
}

func BenchmarkMap(b *testing.B) {
	s, err := Load(strings.NewReader(sampleYAML))
	if err != nil {
		b.Fatal(err)
	}
	m, err := s.Compile(header)
	if err != nil {
		b.Fatal(err)
	}
	rec := []string{"SKU-1", "Widget", "3", "10.50", "03/15/2026", "Monthly", "yes", "2026-03-15T10:30:00+02:00", "1001", "", "55"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Map(rec); err != nil {
			b.Fatal(err)
		}
	}
}
