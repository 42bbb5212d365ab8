package mapping

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/hubspot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// suggestProps has every type and field type of HubSpot's properties, as
// GET /crm/v3/properties/line_items returns them.
func suggestProps() []hubspot.Property {
	opts := func(pairs ...string) []hubspot.PropertyOption {
		var out []hubspot.PropertyOption
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, hubspot.PropertyOption{Label: pairs[i], Value: pairs[i+1]})
		}
		return out
	}
	props := []hubspot.Property{
		{Name: "name", Label: "Name", Type: "string", FieldType: "text"},
		{Name: "description", Label: "Description", Type: "string", FieldType: "textarea"},
		{Name: "hs_sku", Label: "SKU", Type: "string", FieldType: "text", HasUniqueValue: true},
		{Name: "price", Label: "Unit price", Type: "number", FieldType: "number"},
		{Name: "quantity", Label: "Quantity", Type: "number", FieldType: "number"},
		{Name: "amount", Label: "Net price", Type: "number", FieldType: "calculation_equation", Calculated: true},
		{Name: "hs_discount_percentage", Label: "Discount Percentage", Type: "number", FieldType: "number"},
		{Name: "hs_recurring_billing_start_date", Label: "Billing start date", Type: "date", FieldType: "date"},
		{Name: "signed_at", Label: "Signed at", Type: "datetime", FieldType: "date"},
		{Name: "createdate", Label: "Create Date", Type: "datetime", FieldType: "date"},
		{Name: "recurringbillingfrequency", Label: "Billing frequency", Type: "enumeration", FieldType: "select",
			Options: append(opts("Monthly", "monthly", "Quarterly", "quarterly", "Annually", "annually"),
				hubspot.PropertyOption{Label: "Every two years", Value: "per_two_years", Hidden: true})},
		{Name: "hs_line_item_currency_code", Label: "Currency", Type: "enumeration", FieldType: "radio",
			Options: opts("US Dollar", "USD", "Euro", "EUR", "Yes", "YES_CURRENCY", "", "GBP")},
		{Name: "colors", Label: "Colors", Type: "enumeration", FieldType: "checkbox",
			Options: opts("Red", "red", "Green", "green", "Light Blue", "blue", "Red", "crimson", "Two;Tone", "two_tone", "Bad", "a;b")},
		{Name: "hs_taxable", Label: "Taxable", Type: "bool", FieldType: "booleancheckbox"},
		{Name: "legacy", Label: "Legacy item", Type: "enumeration", FieldType: "booleancheckbox", Options: opts("Yes", "true", "No", "false")},
		{Name: "region", Label: "Region", Type: "enumeration", FieldType: "select"},
		{Name: "phone", Label: "Support phone", Type: "phone_number", FieldType: "phonenumber"},
		{Name: "hs_object_id", Label: "Record ID", Type: "number", FieldType: "number", Calculated: true},
	}
	props[9].ModificationMetadata.ReadOnlyValue = true // createdate
	return props
}

var suggestHeader = []string{
	"SKU", "Product", "Name", "description", "Unit Price", "qty", "Quantity", "Amount",
	"Discount Percentage", "Billing Start Date", "signed-at", "Create Date", "Billing frequency",
	"Currency", "COLORS", "Taxable", "Legacy Item", "Region", "Support Phone", "Deal ID", "quote_id",
	"Notes", "Notes", "error_code", "", "Price (€)", "hs_sku", "Record ID", "Order Record Id",
}

func TestSuggestGolden(t *testing.T) {
	s := Suggest(suggestHeader, suggestProps())
	got, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "suggest.golden.yaml", got)
}

// checkGolden compares got with testdata/name, which go test -update
// rewrites.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the output differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func TestSuggest(t *testing.T) {
	s := Suggest(suggestHeader, suggestProps())
	want := map[string]PropertySpec{
		"hs_sku":                          {Column: "SKU"},
		"name":                            {Column: "Name"},
		"description":                     {Column: "description"},
		"price":                           {Column: "Unit Price", Type: TypeNumber},
		"quantity":                        {Column: "Quantity", Type: TypeNumber},
		"hs_discount_percentage":          {Column: "Discount Percentage", Type: TypeNumber},
		"hs_recurring_billing_start_date": {Column: "Billing Start Date", Type: TypeDate},
		"signed_at":                       {Column: "signed-at", Type: TypeDatetime},
		"recurringbillingfrequency": {Column: "Billing frequency", Type: TypeEnum, Values: map[string]string{
			"Monthly": "monthly", "Quarterly": "quarterly", "Annually": "annually", "Every two years": "per_two_years"}},
		"hs_line_item_currency_code": {Column: "Currency", Type: TypeEnum, Values: map[string]string{
			"US Dollar": "USD", "Euro": "EUR", "Yes": "YES_CURRENCY", "GBP": "GBP"}},
		"colors": {Column: "COLORS", Type: TypeMulti, Values: map[string]string{
			"Red": "red", "Green": "green", "Light Blue": "blue", "crimson": "crimson", "two_tone": "two_tone"}},
		"hs_taxable": {Column: "Taxable", Type: TypeBool},
		"legacy":     {Column: "Legacy Item", Type: TypeBool},
		"region":     {Column: "Region"},
		"phone":      {Column: "Support Phone"},
	}
	if !reflect.DeepEqual(s.Properties, want) {
		t.Errorf("properties:\n%#v\nwant\n%#v", s.Properties, want)
	}
	wantAssoc := []AssociationSpec{{Column: "Deal ID", To: "deal"}, {Column: "quote_id", To: "quote"}, {Column: "Order Record Id", To: "order"}}
	if !reflect.DeepEqual(s.Associations, wantAssoc) {
		t.Errorf("associations = %+v, want %+v", s.Associations, wantAssoc)
	}
	y, _ := s.YAML()
	for _, w := range []string{
		`# unmatched column: "Product"`,
		`# unmatched column: "qty"`,
		`# unmatched column: "Amount" (property amount is calculated by HubSpot)`,
		`# unmatched column: "Create Date" (property createdate is read-only)`,
		`# unmatched column: "Record ID" (property hs_object_id is calculated by HubSpot)`,
		`# unmatched column: "Notes" (the header has it 2 times)`,
		`# unmatched column: "" (it has no name)`,
		`# unmatched column: "Price (€)"`,
		`# unmatched column: "hs_sku" (property hs_sku is mapped from column "SKU")`,
		"# key: SKU",
	} {
		if !strings.Contains(string(y), w) {
			t.Errorf("YAML lacks %q", w)
		}
	}
	if strings.Contains(string(y), "error_code") {
		t.Error("YAML mentions a report column")
	}
}

// TestSuggestRoundTrip: the YAML Suggest writes loads back as the same
// spec, compiles for the header, and converts a row.
func TestSuggestRoundTrip(t *testing.T) {
	s := Suggest(suggestHeader, suggestProps())
	y, back := roundTrip(t, s)
	if !reflect.DeepEqual(back.Properties, s.Properties) || !reflect.DeepEqual(back.Associations, s.Associations) || back.Key != s.Key {
		t.Errorf("loaded back as %+v\nwant %+v", back, s)
	}
	m, err := back.Compile(suggestHeader)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	rec := make([]string, len(suggestHeader))
	set := func(col, v string) { rec[indexOf(suggestHeader, col)] = v }
	set("SKU", "SKU-1")
	set("Unit Price", "10.50")
	set("Billing Start Date", "2026-03-15")
	set("Billing frequency", "Annually")
	set("Currency", "Euro")
	set("COLORS", "Red;Light Blue;two_tone")
	set("Taxable", "yes")
	set("Legacy Item", "no")
	set("Deal ID", "1001")
	in, err := m.Map(rec)
	if err != nil {
		t.Fatal(err)
	}
	wantProps := map[string]string{
		"hs_sku": "SKU-1", "price": "10.50", "hs_recurring_billing_start_date": "2026-03-15",
		"recurringbillingfrequency": "annually", "hs_line_item_currency_code": "EUR",
		"colors": "red;blue;two_tone", "hs_taxable": "true", "legacy": "false",
	}
	if !reflect.DeepEqual(in.Properties, hubspot.ValuesOf(wantProps)) {
		t.Errorf("properties = %v\nwant %v", in.Properties, wantProps)
	}
	if len(in.Associations) != 1 || in.Associations[0].To.ID != "1001" || in.Associations[0].Types[0].TypeID != 20 {
		t.Errorf("associations = %+v", in.Associations)
	}
	// Written again, the loaded spec gives the same YAML, less comments.
	again, err := back.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if want := uncommented(y); string(again) != want {
		t.Errorf("YAML of the loaded spec:\n%s\nwant\n%s", again, want)
	}
}

// uncommented drops comment lines and trailing comments (as Suggest writes
// them: after two or more spaces).
func uncommented(y []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(y), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if i := strings.Index(line, "  #"); i >= 0 {
			line = strings.TrimRight(line[:i], " ")
		} else if i := strings.Index(line, ": #"); i >= 0 {
			line = line[:i+1]
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestSuggestIdentity(t *testing.T) {
	header := []string{"name", "Unit Price", "Deal ID", "name", "", "error_row", "yes", "a: b", "#x"}
	s := Suggest(header, nil)
	want := map[string]PropertySpec{
		"Unit Price": {Column: "Unit Price"}, "Deal ID": {Column: "Deal ID"},
		"yes": {Column: "yes"}, "a: b": {Column: "a: b"}, "#x": {Column: "#x"},
	}
	if !reflect.DeepEqual(s.Properties, want) || len(s.Associations) != 0 {
		t.Errorf("Suggest(header, nil) = %+v, want %+v", s, want)
	}
	y, back := roundTrip(t, s)
	if !reflect.DeepEqual(back.Properties, want) {
		t.Errorf("loaded back as %+v", back.Properties)
	}
	if _, err := back.Compile(header[1:]); err != nil { // without the duplicate
		t.Error(err)
	}
	for _, w := range []string{`# unmatched column: "name" (the header has it 2 times)`, "without the portal's property list"} {
		if !strings.Contains(string(y), w) {
			t.Errorf("YAML lacks %q:\n%s", w, y)
		}
	}
	// Header order, not sorted order.
	if i, j := strings.Index(string(y), "Unit Price:"), strings.Index(string(y), "Deal ID:"); i < 0 || j < i {
		t.Errorf("properties out of header order:\n%s", y)
	}
}

func TestSuggestNoMatch(t *testing.T) {
	header := []string{"Foo"}
	s := Suggest(header, []hubspot.Property{})
	y, back := roundTrip(t, s)
	if !strings.Contains(string(y), "properties: {}\n  # unmatched column: \"Foo\"\n") {
		t.Errorf("YAML:\n%s", y)
	}
	if _, err := back.Compile(header); err != nil {
		t.Fatal(err)
	}
}

// TestYAMLRoundTripLoaded: a loaded mapping with every key is written back
// in the file's order and loads as the same spec.
func TestYAMLRoundTripLoaded(t *testing.T) {
	const file = `
properties:
  name: Product
  price: {column: Unit Price, type: number, decimal: ",", thousands: ".", trim: true, default: "0"}
  hs_discount_percentage: {column: Discount, type: number, percent: true}
  hs_line_item_currency_code: {value: EUR}
  start: {column: Start, type: date, formats: [iso, "01/02/2006", epoch_ms]}
  signed: {column: Signed, type: datetime, format: "2006-01-02 15:04"}
  billing:
    column: Billing
    type: enum
    values: {Yearly: annually, Monthly: monthly}
  colors: {column: Colors, type: multi, separator: "|", values: {Red: red, "Yes": "on"}}
  hs_taxable: {column: Taxable, type: bool}
associations:
  - {column: Deal ID, to: deal}
  - {column: Label Col, type_id: 7, category: USER_DEFINED}
key: SKU
`
	s, err := Load(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	y, back := roundTrip(t, s)
	if !reflect.DeepEqual(back, s) {
		t.Errorf("loaded back as %+v\nwant %+v\n%s", back, s, y)
	}
	const want = `properties:
  name: Product
  price: {column: Unit Price, type: number, trim: true, default: "0", decimal: ",", thousands: "."}
  hs_discount_percentage: {column: Discount, type: number, percent: true}
  hs_line_item_currency_code: {value: EUR}
  start: {column: Start, type: date, formats: [iso, "01/02/2006", epoch_ms]}
  signed: {column: Signed, type: datetime, format: "2006-01-02 15:04"}
  billing:
    column: Billing
    type: enum
    values:
      Yearly: annually
      Monthly: monthly
  colors:
    column: Colors
    type: multi
    separator: "|"
    values:
      Red: red
      "Yes": "on"
  hs_taxable: {column: Taxable, type: bool}
associations:
  - {column: Deal ID, to: deal}
  - {column: Label Col, type_id: 7, category: USER_DEFINED}
key: SKU
`
	if string(y) != want {
		t.Errorf("YAML:\n%s\nwant\n%s", y, want)
	}
}

// TestYAMLQuoting: names and values YAML would misread unquoted come back
// as they were.
func TestYAMLQuoting(t *testing.T) {
	for _, v := range []string{
		"yes", "No", "on", "null", "~", "123", "1.5", "0x1F", "1e3", "true", ".inf", "2026-03-15",
		"a: b", "a #b", "#a", "a,b", "[a]", "{a}", "- a", "? a", "!a", "&a", "*a", "|a", ">a", "%a", "@a", "`a",
		"'a'", `"a"`, " lead", "trail ", "tab\there", "new\nline", `back\slash`, "ü", "Ünïcödé", "\u00a0nbsp",
		"emoji 😀", "\u2028", "\ufeffbom", "\x7f", "\x00", "€", "a'b", "O'Brien", "x:", "a:b",
		strings.Repeat("k", 1500),
	} {
		s := &Spec{
			Properties: map[string]PropertySpec{
				v:       {Column: v},
				v + "2": {Column: v, Type: TypeEnum, Values: map[string]string{v: v}},
				v + "4": {Column: v, Default: v},
				v + "3": {Value: v},
			},
			Associations: []AssociationSpec{{Column: v, To: "deal"}},
			Key:          v,
		}
		y, err := s.YAML()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		back, err := Load(bytes.NewReader(y))
		if err != nil {
			t.Errorf("%q: %v\n%s", v, err, y)
			continue
		}
		back.layout = nil
		if !reflect.DeepEqual(back, s) {
			t.Errorf("%q: loaded back as %+v\n%s", v, back, y)
		}
	}
}

func TestYAMLRejectsInvalidUTF8(t *testing.T) {
	s := &Spec{Properties: map[string]PropertySpec{"name": {Column: "\xff"}}}
	if _, err := s.YAML(); err == nil {
		t.Error("no error")
	}
}

// roundTrip writes s as YAML and loads it back, failing the test if
// either step fails.
func roundTrip(t *testing.T, s *Spec) (yaml []byte, back *Spec) {
	t.Helper()
	yaml, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	back, err = Load(bytes.NewReader(yaml))
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, yaml)
	}
	return yaml, back
}
