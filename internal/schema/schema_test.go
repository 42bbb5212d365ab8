package schema_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func opt(value, label string) hubspot.PropertyOption {
	return hubspot.PropertyOption{Value: value, Label: label}
}

func prop(name, typ, fieldType string, options ...hubspot.PropertyOption) hubspot.Property {
	return hubspot.Property{Name: name, Label: name, Type: typ, FieldType: fieldType, Options: options}
}

// testProperties has a property of every type and fieldType the importer
// meets, plus a calculated, a read-only and a unique one.
func testProperties() []hubspot.Property {
	amount := prop("amount", "number", "calculation_equation")
	amount.Label = "Net price"
	amount.Calculated = true
	amount.ModificationMetadata.ReadOnlyValue = true
	objectID := prop("hs_object_id", "number", "number")
	objectID.Label = "Record ID"
	objectID.ModificationMetadata.ReadOnlyValue = true
	key := prop("import_key", "string", "text")
	key.Label = "Import key"
	key.HasUniqueValue = true
	price := prop("price", "number", "number")
	price.Label = "Unit price"
	legacy := opt("legacy", "Legacy")
	legacy.Hidden = true
	return []hubspot.Property{
		prop("name", "string", "text"),
		prop("description", "string", "textarea"),
		prop("hs_recurring_billing_period", "string", "text"),
		prop("quantity", "number", "number"),
		price,
		prop("hs_recurring_billing_start_date", "date", "date"),
		prop("billed_at", "datetime", "date"),
		prop("recurringbillingfrequency", "enumeration", "select",
			opt("monthly", "Monthly"), opt("quarterly", "Quarterly"), opt("annually", "Annually"), legacy),
		prop("tier", "enumeration", "radio", opt("gold", "Gold"), opt("silver", "Silver")),
		prop("channels", "enumeration", "checkbox", opt("web", "Web"), opt("store", "Store"), opt("phone", "Phone")),
		prop("taxable", "enumeration", "booleancheckbox", opt("true", "Yes"), opt("false", "No")),
		prop("gift", "bool", "booleancheckbox", opt("true", "Yes"), opt("false", "No")),
		amount,
		objectID,
		key,
	}
}

type pc struct{ property, code string }

func codes(ps []schema.Problem) []pc {
	var out []pc
	for _, p := range ps {
		out = append(out, pc{p.Property, p.Code})
	}
	return out
}

func TestCheck(t *testing.T) {
	long := strings.Repeat("x", hubspot.MaxPropertyValueLen)
	longRunes := strings.Repeat("é", hubspot.MaxPropertyValueLen)
	tests := []struct {
		name     string
		props    map[string]string
		want     []pc
		expected string // a substring of the first problem's Expected
	}{
		{"no properties", nil, nil, ""},
		{"every type valid", map[string]string{
			"name": "Widget", "description": "two\nlines", "hs_recurring_billing_period": "P12M",
			"quantity": "3", "price": "10.50", "hs_recurring_billing_start_date": "2024-03-01",
			"billed_at": "2024-03-01T13:45:00.123Z", "recurringbillingfrequency": "monthly", "tier": "gold",
			"channels": "web;store", "taxable": "true", "gift": "false", "import_key": "k1",
		}, nil, ""},
		{"empty values pass", map[string]string{"quantity": "", "tier": "", "gift": "", "billed_at": ""}, nil, ""},

		// existence and read-only
		{"unknown property", map[string]string{"nope": "x"}, []pc{{"nope", "PROPERTY_DOESNT_EXIST"}}, "an existing line-item property"},
		{"unknown property, empty value", map[string]string{"nope": ""}, []pc{{"nope", "PROPERTY_DOESNT_EXIST"}}, ""},
		{"unknown property by label", map[string]string{"Unit Price": "1"}, []pc{{"Unit Price", "PROPERTY_DOESNT_EXIST"}}, `did you mean price (label "Unit price")?`},
		{"unknown property by case", map[string]string{"Import_Key": "1"}, []pc{{"Import_Key", "PROPERTY_DOESNT_EXIST"}}, "did you mean import_key"},
		{"calculated", map[string]string{"amount": "10"}, []pc{{"amount", "READ_ONLY_VALUE"}}, "HubSpot calculates amount"},
		{"calculated, empty value", map[string]string{"amount": ""}, []pc{{"amount", "READ_ONLY_VALUE"}}, ""},
		{"read-only", map[string]string{"hs_object_id": "1"}, []pc{{"hs_object_id", "READ_ONLY_VALUE"}}, "read-only"},

		// number
		{"number negative", map[string]string{"quantity": "-2.5"}, nil, ""},
		{"number thousands", map[string]string{"quantity": "1,234.50"}, []pc{{"quantity", "INVALID_DOUBLE"}}, "plain decimal"},
		{"number exponent", map[string]string{"quantity": "12e3"}, []pc{{"quantity", "INVALID_DOUBLE"}}, ""},
		{"number leading dot", map[string]string{"quantity": ".5"}, []pc{{"quantity", "INVALID_DOUBLE"}}, ""},
		{"number trailing dot", map[string]string{"quantity": "5."}, []pc{{"quantity", "INVALID_DOUBLE"}}, ""},
		{"number plus", map[string]string{"quantity": "+1"}, []pc{{"quantity", "INVALID_DOUBLE"}}, ""},
		{"number two dots", map[string]string{"quantity": "1.2.3"}, []pc{{"quantity", "INVALID_DOUBLE"}}, ""},
		{"number text", map[string]string{"quantity": "abc"}, []pc{{"quantity", "INVALID_DOUBLE"}}, ""},
		{"number whitespace", map[string]string{"quantity": " 1"}, []pc{{"quantity", "LEADING_TRAILING_WHITESPACE"}}, `("1")`},
		{"number zero-width space", map[string]string{"quantity": "1\u200b"}, []pc{{"quantity", "LEADING_TRAILING_WHITESPACE"}}, ""},
		{"number nbsp", map[string]string{"quantity": "\u00a01"}, []pc{{"quantity", "LEADING_TRAILING_WHITESPACE"}}, ""},
		{"price negative", map[string]string{"price": "-0.01"}, []pc{{"price", "INVALID_VALUE"}}, "0 or more"},
		{"price minus zero", map[string]string{"price": "-0.00"}, nil, ""},
		{"price invalid number", map[string]string{"price": "-1,5"}, []pc{{"price", "INVALID_DOUBLE"}}, ""},

		// date
		{"date ISO", map[string]string{"hs_recurring_billing_start_date": "2024-02-29"}, nil, ""},
		{"date not a day", map[string]string{"hs_recurring_billing_start_date": "2023-02-29"}, []pc{{"hs_recurring_billing_start_date", "INVALID_DATE"}}, "YYYY-MM-DD"},
		{"date US format", map[string]string{"hs_recurring_billing_start_date": "03/01/2024"}, []pc{{"hs_recurring_billing_start_date", "INVALID_DATE"}}, ""},
		{"date epoch midnight", map[string]string{"hs_recurring_billing_start_date": "1709251200000"}, nil, ""},
		{"date epoch not midnight", map[string]string{"hs_recurring_billing_start_date": "1709300000000"}, []pc{{"hs_recurring_billing_start_date", "INVALID_DATE"}}, `at 13:33:20.000 UTC, not midnight; that day is "2024-03-01" or 1709251200000`},
		{"date instant midnight", map[string]string{"hs_recurring_billing_start_date": "2024-03-01T00:00:00.000Z"}, nil, ""},
		{"date instant not midnight UTC", map[string]string{"hs_recurring_billing_start_date": "2024-03-01T00:00:00+01:00"}, []pc{{"hs_recurring_billing_start_date", "INVALID_DATE"}}, `"2024-03-01"`},
		{"date whitespace", map[string]string{"hs_recurring_billing_start_date": "2024-03-01 "}, []pc{{"hs_recurring_billing_start_date", "LEADING_TRAILING_WHITESPACE"}}, ""},

		// datetime
		{"datetime zone offset", map[string]string{"billed_at": "2024-03-01T13:45:00+01:00"}, nil, ""},
		{"datetime epoch", map[string]string{"billed_at": "1709300000123"}, nil, ""},
		{"datetime no zone", map[string]string{"billed_at": "2024-03-01T13:45:00"}, []pc{{"billed_at", "INVALID_LONG"}}, "ISO 8601"},
		{"datetime microseconds", map[string]string{"billed_at": "2024-03-01T13:45:00.123456Z"}, []pc{{"billed_at", "INVALID_LONG"}}, ""},
		{"datetime date only", map[string]string{"billed_at": "2024-03-01"}, []pc{{"billed_at", "INVALID_LONG"}}, ""},
		{"datetime out of range hour", map[string]string{"billed_at": "2024-03-01T24:00:00Z"}, []pc{{"billed_at", "INVALID_LONG"}}, ""},
		{"datetime epoch overflow", map[string]string{"billed_at": "9223372036854775808"}, []pc{{"billed_at", "INVALID_LONG"}}, ""},

		// enumeration: select, radio, checkbox, booleancheckbox
		{"select label", map[string]string{"recurringbillingfrequency": "Monthly"}, []pc{{"recurringbillingfrequency", "INVALID_OPTION"}},
			`one of "monthly", "quarterly", "annually" (labels: "Monthly", "Quarterly", "Annually"); did you mean "monthly"?`},
		{"select wrong case", map[string]string{"recurringbillingfrequency": "MONTHLY"}, []pc{{"recurringbillingfrequency", "INVALID_OPTION"}}, `did you mean "monthly"?`},
		{"select unknown", map[string]string{"recurringbillingfrequency": "Fortnightly"}, []pc{{"recurringbillingfrequency", "INVALID_OPTION"}}, `"Annually")`},
		{"select hidden option", map[string]string{"recurringbillingfrequency": "legacy"}, nil, ""},
		{"select whitespace", map[string]string{"recurringbillingfrequency": "monthly "}, []pc{{"recurringbillingfrequency", "LEADING_TRAILING_WHITESPACE"}}, ""},
		{"radio", map[string]string{"tier": "silver"}, nil, ""},
		{"radio label", map[string]string{"tier": "Gold"}, []pc{{"tier", "INVALID_OPTION"}}, `did you mean "gold"?`},
		{"checkbox one", map[string]string{"channels": "phone"}, nil, ""},
		{"checkbox bad part", map[string]string{"channels": "web;fax"}, []pc{{"channels", "INVALID_OPTION"}}, `"fax" is not one`},
		{"checkbox labels", map[string]string{"channels": "Web;Store"}, []pc{{"channels", "INVALID_OPTION"}}, `did you mean "web;store"?`},
		{"checkbox empty part", map[string]string{"channels": "web;;store"}, []pc{{"channels", "INVALID_OPTION"}}, "no empty parts"},
		{"checkbox trailing separator", map[string]string{"channels": "web;"}, []pc{{"channels", "INVALID_OPTION"}}, "no empty parts"},
		{"checkbox space after separator", map[string]string{"channels": "web; store"}, []pc{{"channels", "INVALID_OPTION"}}, ""},
		{"enumeration booleancheckbox", map[string]string{"taxable": "false"}, nil, ""},
		{"enumeration booleancheckbox label", map[string]string{"taxable": "Yes"}, []pc{{"taxable", "INVALID_OPTION"}}, `did you mean "true"?`},

		// bool
		{"bool", map[string]string{"gift": "true"}, nil, ""},
		{"bool upper case", map[string]string{"gift": "TRUE"}, []pc{{"gift", "INVALID_OPTION"}}, `"true" or "false"; did you mean "true"?`},
		{"bool label", map[string]string{"gift": "No"}, []pc{{"gift", "INVALID_OPTION"}}, `did you mean "false"?`},
		{"bool digit", map[string]string{"gift": "1"}, []pc{{"gift", "INVALID_OPTION"}}, ""},

		// strings
		{"string whitespace is kept", map[string]string{"name": "  padded  "}, nil, ""},
		{"string at the limit", map[string]string{"description": long}, nil, ""},
		{"string over the limit", map[string]string{"description": long + "x"}, []pc{{"description", "VALUE_TOO_LONG"}}, "at most 65,536 characters (this value has 65,537)"},
		{"string limit counts characters", map[string]string{"name": longRunes}, nil, ""},
		{"string over the limit in characters", map[string]string{"name": longRunes + "é"}, []pc{{"name", "VALUE_TOO_LONG"}}, ""},
		{"term weeks", map[string]string{"hs_recurring_billing_period": "P2W"}, nil, ""},
		{"term all parts", map[string]string{"hs_recurring_billing_period": "P1Y2M3W4D"}, nil, ""},
		{"term hours", map[string]string{"hs_recurring_billing_period": "PT1H"}, []pc{{"hs_recurring_billing_period", "INVALID_VALUE"}}, "PnYnMnD or PnW"},
		{"term bare P", map[string]string{"hs_recurring_billing_period": "P"}, []pc{{"hs_recurring_billing_period", "INVALID_VALUE"}}, ""},
		{"term wrong order", map[string]string{"hs_recurring_billing_period": "P1M1Y"}, []pc{{"hs_recurring_billing_period", "INVALID_VALUE"}}, ""},

		// several problems, in property-name order
		{"several", map[string]string{"tier": "x", "amount": "1", "quantity": "x", "name": "ok", "billed_at": "x"},
			[]pc{{"amount", "READ_ONLY_VALUE"}, {"billed_at", "INVALID_LONG"}, {"quantity", "INVALID_DOUBLE"}, {"tier", "INVALID_OPTION"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := schema.New(testProperties())
			got := s.Check(hubspot.CreateInput{ObjectWriteTraceID: "1", Properties: hubspot.ValuesOf(tt.props)})
			if fmt.Sprint(codes(got)) != fmt.Sprint(tt.want) {
				t.Fatalf("Check = %v, want %v", got, tt.want)
			}
			if tt.want == nil && got != nil {
				t.Fatalf("Check = %#v, want nil", got)
			}
			for _, p := range got {
				if p.Value != tt.props[p.Property] {
					t.Errorf("Problem.Value = %q, want %q", p.Value, tt.props[p.Property])
				}
				if p.Expected == "" {
					t.Errorf("%s: no Expected", p.Code)
				}
			}
			if tt.expected != "" && !strings.Contains(got[0].Expected, tt.expected) {
				t.Errorf("Expected = %q, want it to contain %q", got[0].Expected, tt.expected)
			}
		})
	}

	// One Checker takes every case, forwards then backwards, so that its
	// remembered definitions meet inputs with other names, counts and
	// orders; it must agree with Schema every time. The two schemas see
	// the same inputs, so their unique-value state stays the same.
	t.Run("Checker", func(t *testing.T) {
		ref, s := schema.New(testProperties()), schema.New(testProperties())
		c := s.NewChecker()
		order := make([]int, 0, 2*len(tests))
		for i := range tests {
			order = append(order, i)
		}
		for i := range tests {
			order = append(order, len(tests)-1-i)
		}
		for k, i := range order {
			tt := tests[i]
			in := hubspot.CreateInput{ObjectWriteTraceID: fmt.Sprint(k), Properties: hubspot.ValuesOf(tt.props)}
			want := ref.Check(in)
			got := c.Check(in)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: Checker.Check = %v, Schema.Check = %v", tt.name, got, want)
			}
		}
	})
}

func TestCheckUnique(t *testing.T) {
	s := schema.New(testProperties())
	steps := []struct {
		trace string
		props map[string]string
		want  []pc
	}{
		{"1", map[string]string{"import_key": "a"}, nil},
		{"2", map[string]string{"import_key": "b"}, nil},
		{"3", map[string]string{"import_key": "a", "name": "x"}, []pc{{"import_key", "CONFLICT"}}},
		{"1", map[string]string{"import_key": "a"}, nil}, // the same input again
		{"4", map[string]string{"import_key": ""}, nil},
		{"5", map[string]string{"import_key": ""}, nil},
		{"6", map[string]string{"import_key": "c", "quantity": "x"}, []pc{{"quantity", "INVALID_DOUBLE"}}},
		{"7", map[string]string{"import_key": "c"}, nil}, // 6 failed, so c is free
		{"8", map[string]string{"import_key": "c", "tier": "x"}, []pc{{"import_key", "CONFLICT"}, {"tier", "INVALID_OPTION"}}},
		{"9", map[string]string{"import_key": "A"}, nil}, // case-sensitive, like the emulator
	}
	for i, st := range steps {
		got := s.Check(hubspot.CreateInput{ObjectWriteTraceID: st.trace, Properties: hubspot.ValuesOf(st.props)})
		if fmt.Sprint(codes(got)) != fmt.Sprint(st.want) {
			t.Fatalf("step %d: Check = %v, want %v", i, got, st.want)
		}
	}
	got := s.Check(hubspot.CreateInput{ObjectWriteTraceID: "10", Properties: hubspot.ValuesOf(map[string]string{"import_key": "b"})})
	if len(got) != 1 || !strings.Contains(got[0].Expected, "objectWriteTraceId 2 has this one") {
		t.Fatalf("conflict = %v", got)
	}
}

func TestCheckUniqueConcurrent(t *testing.T) {
	s := schema.New(testProperties())
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				in := hubspot.CreateInput{ObjectWriteTraceID: fmt.Sprint(i*1000 + j), Properties: hubspot.ValuesOf(map[string]string{"import_key": fmt.Sprint(j)})}
				if s.Check(in) == nil {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if accepted != 100 {
		t.Fatalf("accepted %d inputs, want each of the 100 values once", accepted)
	}
}

func TestCheckValue(t *testing.T) {
	s := schema.New(testProperties())
	if p, ok := s.CheckValue("quantity", "1e3"); ok || p.Code != "INVALID_DOUBLE" {
		t.Fatalf("CheckValue = %v, %v", p, ok)
	}
	for range 2 { // no unique-value state
		if p, ok := s.CheckValue("import_key", "a"); !ok {
			t.Fatalf("CheckValue = %v", p)
		}
	}
}

func TestOptionValue(t *testing.T) {
	props := append(testProperties(),
		prop("ambiguous", "enumeration", "select", opt("a", "Same"), opt("b", "same")),
		prop("labels", "enumeration", "select", opt("r", "Red"), opt("crimson", "RED"), opt("red", "Dark red")),
		prop("mixed", "enumeration", "select", opt("x", "Ex"), opt("y", "X"), opt("z2", "Zed")),
		prop("plain_bool", "bool", "booleancheckbox"),
	)
	s := schema.New(props)
	tests := []struct {
		property, in, want string
		ok                 bool
	}{
		{"recurringbillingfrequency", "monthly", "monthly", true},
		{"recurringbillingfrequency", "Monthly", "monthly", true},
		{"recurringbillingfrequency", "QUARTERLY", "quarterly", true},
		{"recurringbillingfrequency", " Annually ", "annually", true},
		{"recurringbillingfrequency", "Legacy", "legacy", true},
		{"recurringbillingfrequency", "Fortnightly", "", false},
		{"recurringbillingfrequency", "", "", false},
		{"tier", "GOLD", "gold", true},
		{"channels", "Web;phone", "web;phone", true},
		{"channels", "Web;;phone", "", false},
		{"channels", "Web;fax", "", false},
		{"taxable", "yes", "true", true},
		{"gift", "No", "false", true},
		{"gift", "FALSE", "false", true},
		{"plain_bool", "True", "true", true},
		{"plain_bool", "yes", "", false},
		{"ambiguous", "SAME", "", false},
		{"ambiguous", "a", "a", true},
		// The rule: an exact value, then an exact label, then a label or
		// value in another case, each only if it means one value.
		{"ambiguous", "Same", "a", true},
		{"ambiguous", "same", "b", true},
		{"labels", "Red", "r", true},
		{"labels", "RED", "crimson", true},
		{"labels", "red", "red", true}, // an exact value first
		{"labels", "rEd", "", false},
		{"mixed", "x", "x", true},
		{"mixed", "X", "y", true}, // an exact label before value x in another case
		{"mixed", "Y", "y", true},
		{"mixed", "ex", "x", true},
		{"mixed", "ZED", "z2", true},
		{"mixed", "z", "", false},
		{"name", "x", "", false},
		{"nope", "x", "", false},
	}
	for _, tt := range tests {
		got, ok := s.OptionValue(tt.property, tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("OptionValue(%q, %q) = %q, %v; want %q, %v", tt.property, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestExpectedListsAtMostTwelveOptions(t *testing.T) {
	var opts []hubspot.PropertyOption
	for i := range 20 {
		opts = append(opts, opt(fmt.Sprintf("c%02d", i), fmt.Sprintf("C%02d", i)))
	}
	s := schema.New([]hubspot.Property{prop("currency", "enumeration", "select", opts...)})
	p, ok := s.CheckValue("currency", "x")
	if ok {
		t.Fatal("accepted")
	}
	want := `one of "c00", "c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11" and 8 more (labels: "C00", "C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10", "C11", ...)`
	if p.Expected != want {
		t.Fatalf("Expected =\n%s\nwant\n%s", p.Expected, want)
	}
	s = schema.New([]hubspot.Property{prop("same", "enumeration", "radio", opt("a", "a"), opt("b", "b"))})
	if p, _ := s.CheckValue("same", "x"); p.Expected != `one of "a", "b"` {
		t.Fatalf("Expected = %s", p.Expected)
	}
}

func TestProblemError(t *testing.T) {
	p := schema.Problem{Property: "tier", Value: "Platinum", Code: "INVALID_OPTION", Expected: `one of "gold", "silver"`}
	if got, want := p.Error(), `property tier, value "Platinum": INVALID_OPTION: expected one of "gold", "silver"`; got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
	p = schema.Problem{Property: "description", Value: strings.Repeat("y", 70000), Code: "VALUE_TOO_LONG"}
	if got, want := p.Error(), `property description, value "`+strings.Repeat("y", 57)+`"... (70,000 characters): VALUE_TOO_LONG`; got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
	var err error = p
	if err.Error() == "" {
		t.Fatal("empty error")
	}
}

func TestTallyGolden(t *testing.T) {
	s := schema.New(testProperties())
	var tally schema.Tally
	rows := []struct {
		column string
		props  map[string]string
	}{
		{"Billing", map[string]string{"recurringbillingfrequency": "Fortnightly"}},
		{"Billing", map[string]string{"recurringbillingfrequency": "Monthly"}},
		{"Qty", map[string]string{"quantity": "1,5"}},
		{"Billing", map[string]string{"recurringbillingfrequency": "fortnightly"}},
		{"Billing", map[string]string{"recurringbillingfrequency": "Weekly"}},
		{"Notes", map[string]string{"description": strings.Repeat("z", 70000)}},
		{"Start", map[string]string{"hs_recurring_billing_start_date": "2024-03-01T09:00:00Z"}},
		{"Qty", map[string]string{"quantity": " 2"}},
		{"Net", map[string]string{"amount": "10"}},
		{"Qty", map[string]string{"quantity": "x\ty"}},
		{"Key", map[string]string{"import_key": "k1"}},
		{"Key", map[string]string{"import_key": "k1"}},
		{"Billing", map[string]string{"recurringbillingfrequency": "Fortnightly"}},
	}
	for i, r := range rows {
		for _, p := range s.Check(hubspot.CreateInput{ObjectWriteTraceID: fmt.Sprint(i + 1), Properties: hubspot.ValuesOf(r.props)}) {
			tally.Add(i+1, r.column, p)
		}
	}
	tally.Add(99, "", schema.Problem{Property: "nope", Value: "v", Code: "PROPERTY_DOESNT_EXIST"})
	if tally.Len() != 13 {
		t.Fatalf("Len = %d, want 13", tally.Len())
	}
	var buf bytes.Buffer
	if err := tally.Write(&buf, 3); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "tally.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Tally.Write =\n%s\nwant (%s)\n%s", buf.Bytes(), golden, want)
	}
}

func TestTallyEmptyAndExamples(t *testing.T) {
	var tally schema.Tally
	var buf bytes.Buffer
	if err := tally.Write(&buf, 3); err != nil || buf.Len() != 0 || tally.Len() != 0 {
		t.Fatalf("empty tally wrote %q, %v", buf.String(), err)
	}
	tally.MaxExamples = 2
	for i := range 5 {
		tally.Add(i+1, "Qty", schema.Problem{Property: "quantity", Value: fmt.Sprint("v", i), Code: "INVALID_DOUBLE"})
	}
	if err := tally.Write(&buf, 10); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `5      row 1: "v0", row 2: "v1"`+"\n") {
		t.Fatalf("table:\n%s", buf.String())
	}
	buf.Reset()
	if err := tally.Write(&buf, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "5      -\n") {
		t.Fatalf("table:\n%s", buf.String())
	}
}

func TestParseLabels(t *testing.T) {
	got, err := schema.ParseLabels(strings.NewReader(`{"results":[
		{"category":"HUBSPOT_DEFINED","typeId":20,"label":null},
		{"category":"USER_DEFINED","typeId":7,"label":"Primary","toObjectTypeId":"0-3","newField":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []schema.Label{
		{Category: "HUBSPOT_DEFINED", TypeID: 20},
		{Category: "USER_DEFINED", TypeID: 7, Label: "Primary", ToObjectTypeID: "0-3"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ParseLabels = %+v, want %+v", got, want)
	}
	for _, bad := range []string{
		``,
		`[]`,
		`{}`,
		`{"results":null}`,
		`{"results":[{"typeId":20}]}`,
		`{"results":[{"category":"HUBSPOT_DEFINED"}]}`,
		`{"results":[{"category":"hubspot_defined","typeId":20}]}`,
		`{"results":[{"category":"HUBSPOT_DEFINED","typeId":"20"}]}`,
		`{"results":[{"category":"HUBSPOT_DEFINED","typeId":2.5}]}`,
		`{"results":[{"category":"HUBSPOT_DEFINED","typeId":3000000000}]}`,
		`{"results":[]} {}`,
	} {
		if _, err := schema.ParseLabels(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseLabels(%s) succeeded", bad)
		}
	}
	if got, err := schema.ParseLabels(strings.NewReader(`{"results":[]}`)); err != nil || len(got) != 0 {
		t.Errorf("empty results: %v, %v", got, err)
	}
}

func TestCheckAssociationTypes(t *testing.T) {
	hd := func(id int) hubspot.AssociationType {
		return hubspot.AssociationType{Category: "HUBSPOT_DEFINED", TypeID: id}
	}
	ud := func(id int) hubspot.AssociationType {
		return hubspot.AssociationType{Category: "USER_DEFINED", TypeID: id}
	}
	labels := map[string][]schema.Label{
		"deals":   {{Category: "HUBSPOT_DEFINED", TypeID: 20}, {Category: "USER_DEFINED", TypeID: 7, Label: "Primary"}},
		"0-14":    {{Category: "HUBSPOT_DEFINED", TypeID: 68}},
		"payment": {{Category: "HUBSPOT_DEFINED", TypeID: 396}},
	}
	tests := []struct {
		name  string
		types []hubspot.AssociationType
		want  []string // substrings of the errors, in order
	}{
		{"all known", []hubspot.AssociationType{hd(20), hd(68), ud(7), hd(396)}, nil},
		{"repeated types are reported once", []hubspot.AssociationType{ud(8), ud(8)}, []string{
			`association type USER_DEFINED 8 does not exist in this portal; its line item association types to deals, payments, quotes are: HUBSPOT_DEFINED 20, USER_DEFINED 7 "Primary", HUBSPOT_DEFINED 396, HUBSPOT_DEFINED 68`}},
		{"HubSpot-defined, missing from its target", []hubspot.AssociationType{hd(20), {Category: "HUBSPOT_DEFINED", TypeID: 7}}, []string{
			`association type HUBSPOT_DEFINED 7 does not exist`}},
		{"wrong category for an id", []hubspot.AssociationType{{Category: "INTEGRATOR_DEFINED", TypeID: 20}}, []string{"INTEGRATOR_DEFINED 20 does not exist"}},
		{"target not fetched", []hubspot.AssociationType{hd(410)}, []string{
			`association type HUBSPOT_DEFINED 410 (line items → invoices): the labels of invoices were not fetched`}},
		{"unknown category", []hubspot.AssociationType{{Category: "FRIENDS", TypeID: 1}}, []string{`unknown category "FRIENDS"`}},
		{"bad id", []hubspot.AssociationType{ud(0)}, []string{"positive int32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := schema.CheckAssociationTypes(tt.types, labels)
			if len(errs) != len(tt.want) {
				t.Fatalf("errors = %v, want %d", errs, len(tt.want))
			}
			for i, err := range errs {
				var ae *schema.AssociationError
				if !errors.As(err, &ae) {
					t.Fatalf("%T is not an *AssociationError", err)
				}
				if !strings.Contains(err.Error(), tt.want[i]) {
					t.Errorf("error %q does not contain %q", err, tt.want[i])
				}
			}
		})
	}
	if errs := schema.CheckAssociationTypes([]hubspot.AssociationType{hd(20)}, nil); len(errs) != 1 ||
		!strings.Contains(errs[0].Error(), "no association labels were given") {
		t.Errorf("no labels: %v", errs)
	}
	hd20 := labels["deals"][:1]
	if errs := schema.CheckAssociationTypes([]hubspot.AssociationType{hd(20)}, map[string][]schema.Label{"0-3": hd20}); errs != nil {
		t.Errorf("object type id key: %v", errs)
	}
}

func TestTargets(t *testing.T) {
	want := map[string]int{"deals": 20, "quotes": 68, "invoices": 410, "orders": 514, "carts": 591, "subscriptions": 302, "payments": 396, "discounts": 368}
	for _, tg := range schema.Targets() {
		if tg.TypeIDs[0] != want[tg.Name] {
			t.Errorf("%s: %v", tg.Name, tg.TypeIDs)
		}
		name, ok := schema.TargetOf(hubspot.AssociationType{Category: "HUBSPOT_DEFINED", TypeID: want[tg.Name]})
		if !ok || name != tg.Name {
			t.Errorf("TargetOf(%d) = %s, %v", want[tg.Name], name, ok)
		}
		delete(want, tg.Name)
	}
	if len(want) != 0 {
		t.Errorf("missing targets %v", want)
	}
	if _, ok := schema.TargetOf(hubspot.AssociationType{Category: "USER_DEFINED", TypeID: 20}); ok {
		t.Error("TargetOf(USER_DEFINED 20) is known")
	}
}

func BenchmarkCheck(b *testing.B) {
	s := schema.New(testProperties())
	in := hubspot.CreateInput{ObjectWriteTraceID: "1", Properties: hubspot.ValuesOf(map[string]string{
		"name": "Widget", "quantity": "3", "price": "10.50", "hs_recurring_billing_start_date": "2024-03-01",
		"billed_at": "2024-03-01T13:45:00.123Z", "recurringbillingfrequency": "monthly", "channels": "web;store", "gift": "false",
	})}
	b.ReportAllocs()
	for b.Loop() {
		if s.Check(in) != nil {
			b.Fatal("rejected")
		}
	}
}

func TestNormalize(t *testing.T) {
	s := schema.New([]hubspot.Property{
		{Name: "freq", Type: "enumeration", FieldType: "select", Options: []hubspot.PropertyOption{{Label: "Monthly", Value: "monthly"}, {Label: "Yearly", Value: "annually"}}},
		{Name: "tags", Type: "enumeration", FieldType: "checkbox", Options: []hubspot.PropertyOption{{Label: "Red", Value: "r"}, {Label: "Blue", Value: "b"}}},
		{Name: "name", Type: "string", FieldType: "text"},
	})
	c := s.NewChecker()
	for _, norm := range []struct {
		name      string
		normalize func(*hubspot.CreateInput)
	}{{"Schema", s.Normalize}, {"Checker", c.Normalize}} {
		in := hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"freq": "Yearly", "tags": "Red;b", "name": "Yearly"})}
		norm.normalize(&in)
		want := map[string]string{"freq": "annually", "tags": "r;b", "name": "Yearly"}
		for k, v := range want {
			if in.Properties.Value(k) != v {
				t.Errorf("%s: %s = %q, want %q", norm.name, k, in.Properties.Value(k), v)
			}
		}
		// The same number of properties under other names: "name" now
		// stands where "freq" stood.
		in = hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": "Monthly", "tags": "Blue", "zzz": "Yearly"})}
		norm.normalize(&in)
		if got := in.Properties.Map(); !reflect.DeepEqual(got, map[string]string{"name": "Monthly", "tags": "b", "zzz": "Yearly"}) {
			t.Errorf("%s: other names: %v", norm.name, got)
		}
		in = hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"freq": "Fortnightly"})}
		norm.normalize(&in)
		if in.Properties.Value("freq") != "Fortnightly" || len(s.Check(in)) != 1 {
			t.Errorf("%s: an unknown label was changed or accepted: %v", norm.name, in.Properties)
		}
	}
}
