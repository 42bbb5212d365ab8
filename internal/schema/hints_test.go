package schema_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/schema"
)

// TestCheckHints: values that look like a known mistake get what to change
// at the end of Expected, after "; ".
func TestCheckHints(t *testing.T) {
	props := append(testProperties(),
		prop("size", "enumeration", "select", opt("s", "Small"), opt("S", "Short")),
		prop("extras", "enumeration", "checkbox", opt("a", "Alpha"), opt("A", "Upper alpha"), opt("b", "Beta")),
	)
	s := schema.New(props)
	tests := []struct {
		property, value, code, hint string // hint: what Expected ends with ("" for no hint)
	}{
		{"quantity", "1 234,50", "INVALID_DOUBLE", `; it looks like a decimal comma with spaces between thousands; map it with type: number, decimal: "," and thousands: " "`},
		{"quantity", "1\u00a0234,50", "INVALID_DOUBLE", `; it looks like a decimal comma with spaces between thousands; map it with type: number, decimal: "," and thousands: " "`},
		{"quantity", "1.234,50", "INVALID_DOUBLE", `; it looks like a decimal comma with "." between thousands; map it with type: number, decimal: "," and thousands: "."`},
		{"quantity", "1,234.50", "INVALID_DOUBLE", `; it looks like "," between thousands; map it with type: number and thousands: ","`},
		{"price", "$12.00", "INVALID_DOUBLE", `; it has the currency symbol "$"; map it with type: number and currency: "$"`},
		{"price", "€12", "INVALID_DOUBLE", `; it has the currency symbol "€"; map it with type: number and currency: "€"`},
		{"quantity", "12.5%", "INVALID_DOUBLE", `; it has a "%" sign; map it with type: number and percent: true`},
		{"quantity", "12e3", "INVALID_DOUBLE", "; it has an exponent, which no option reads; write it as 12000"},
		{"quantity", "+1", "INVALID_DOUBLE", `; it has a leading "+", which no option reads; write it as 1`},
		{"quantity", "abc", "INVALID_DOUBLE", `(no thousands separators, exponent or "+")`},

		{"hs_recurring_billing_start_date", "2024-02-30", "INVALID_DATE", "; February 2024 has no day 30"},
		{"hs_recurring_billing_start_date", "2023-02-29", "INVALID_DATE", "; February 2023 has no day 29 (2023 is not a leap year)"},
		{"hs_recurring_billing_start_date", "2024-13-01", "INVALID_DATE", "; there is no month 13"},
		{"hs_recurring_billing_start_date", "2024-02-30T00:00:00Z", "INVALID_DATE", "; February 2024 has no day 30"},
		{"hs_recurring_billing_start_date", "2024-03-01T09:00:00Z", "INVALID_DATE", `; this value is at 09:00:00.000 UTC, not midnight; that day is "2024-03-01" or 1709251200000`},
		{"hs_recurring_billing_start_date", "03/01/2024", "INVALID_DATE", "or epoch milliseconds at midnight UTC"},
		{"billed_at", "2024-02-30T10:00:00Z", "INVALID_LONG", "; February 2024 has no day 30"},
		{"billed_at", "2024-04-31T10:00:00+02:00", "INVALID_LONG", "; April 2024 has no day 31"},
		{"billed_at", "2024-03-01T10:00:00", "INVALID_LONG", "or epoch milliseconds"},

		{"channels", "web;fax;tv", "INVALID_OPTION", `; "fax" and "tv" are not`},
		{"channels", "web;fax", "INVALID_OPTION", `; "fax" is not one`},
		{"channels", "Web;fax", "INVALID_OPTION", `; "Web" and "fax" are not; did you mean "web" for "Web"?`},
		{"channels", "Web;Store", "INVALID_OPTION", `; "Web" and "Store" are not; did you mean "web;store"?`},
		{"size", "SMALL", "INVALID_OPTION", `; did you mean "s"?`},
		{"size", "s", "", ""},
		{"size", "S", "", ""},
		{"size", "Short", "INVALID_OPTION", `; did you mean "S"?`},
		{"extras", "ALPHA", "INVALID_OPTION", `; did you mean "a"?`},
	}
	for _, tt := range tests {
		t.Run(tt.property+"="+tt.value, func(t *testing.T) {
			p, ok := s.CheckValue(tt.property, tt.value)
			if tt.code == "" {
				if !ok {
					t.Fatalf("CheckValue = %v, want no problem", p)
				}
				return
			}
			if ok || p.Code != tt.code {
				t.Fatalf("CheckValue = %v, %v; want %s", p, ok, tt.code)
			}
			if !strings.HasSuffix(p.Expected, tt.hint) {
				t.Errorf("Expected =\n%s\nwant it to end with\n%s", p.Expected, tt.hint)
			}
			if !strings.Contains(p.Error(), p.Expected) {
				t.Errorf("Error() = %s lacks Expected", p.Error())
			}
		})
	}
	// An input matching several options only when case is ignored is not
	// normalized, and Check says why.
	amb := schema.New([]hubspot.Property{prop("size", "enumeration", "select", opt("s", "Same"), opt("t", "same"))})
	p, _ := amb.CheckValue("size", "SAME")
	if want := `; ignoring case "SAME" matches the options "s" (label "Same") and "t" (label "same"); write it exactly as one of them`; !strings.HasSuffix(p.Expected, want) {
		t.Errorf("Expected =\n%s\nwant it to end with\n%s", p.Expected, want)
	}
}

// TestHintsAgreeWithMapping: a number or an ISO date that the mapping's
// type number or date refuses gets the same diagnosis from the schema,
// when the value was mapped as text.
func TestHintsAgreeWithMapping(t *testing.T) {
	s := schema.New(testProperties())
	mapCell := func(typ, cell string) *mapping.FieldError {
		t.Helper()
		spec, err := mapping.Load(strings.NewReader("properties:\n  p: {column: C, type: " + typ + "}\n"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := spec.Compile([]string{"C"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Map([]string{cell})
		var fe *mapping.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%s %q: err = %v", typ, cell, err)
		}
		return fe
	}
	for _, v := range []string{"1 234,50", "1.234,50", "1,234.50", "12,5", "1,234", "$12.00", "12,50 €", "12.5%", "12e3", "(12.00)", ".5"} {
		fe := mapCell("number", v)
		p, ok := s.CheckValue("quantity", v)
		if ok || fe.Hint == "" {
			t.Fatalf("%q: schema ok %v, mapping hint %q", v, ok, fe.Hint)
		}
		if !strings.HasSuffix(p.Expected, "; "+mapping.NumberHint(v)) {
			t.Errorf("%q: schema's Expected %q lacks NumberHint", v, p.Expected)
		}
		// The diagnosis, before the change to make, is the same.
		diagnosis := func(h string) string {
			if i := strings.IndexAny(h, ";("); i >= 0 {
				return h[:i]
			}
			return h
		}
		if got, want := diagnosis(mapping.NumberHint(v)), diagnosis(fe.Hint); got != want {
			t.Errorf("%q: schema says %q, mapping %q", v, got, want)
		}
	}
	for _, v := range []string{"2024-02-30", "2023-02-29", "2024-04-31", "2024-13-01", "2024-00-10", "2024-01-00"} {
		fe := mapCell("date", v)
		p, _ := s.CheckValue("hs_recurring_billing_start_date", v)
		if fe.Hint == "" || !strings.HasSuffix(p.Expected, "; "+fe.Hint) {
			t.Errorf("%q: schema's Expected %q does not end with the mapping's hint %q", v, p.Expected, fe.Hint)
		}
	}
}

// TestEnumRuleInBothPaths: a cell mapped with `type: enum` and the
// options' labels as `values:`, and the same cell mapped as text and
// normalized by the schema, are sent as the same value, or refused by both.
func TestEnumRuleInBothPaths(t *testing.T) {
	optionSets := [][]hubspot.PropertyOption{
		{opt("monthly", "Monthly"), opt("quarterly", "Quarterly"), opt("annually", "Annually")},
		{opt("true", "Yes"), opt("yes_value", "YES"), opt("false", "No")},    // labels differing in case
		{opt("a", "Alpha"), opt("ALPHA", "Other"), opt("b", "Beta")},         // a label and a value differing in case
		{opt("s", "Small"), opt("S", "Short")},                               // values differing in case
		{opt("usd", "USD"), opt("eur", "Euro"), opt("EUR_OLD", "Old euro")},  // a label equal to a value in another case
		{opt("x", "Straße"), opt("y", "Kelvin \u212a"), opt("z", "ΣΊΣΥΦΟΣ")}, // Unicode case folding
	}
	cells := []string{"Monthly", "monthly", "MONTHLY", "mOnThLy", "Annually", "ANNUALLY", "Fortnightly", " Quarterly ",
		"Yes", "YES", "yes", "No", "NO", "TRUE", "true", "yes_value", "YES_VALUE",
		"Alpha", "alpha", "ALPHA", "Other", "OTHER", "a", "A", "beta",
		"s", "S", "Small", "SMALL", "Short", "short",
		"USD", "usd", "Usd", "EUR", "eur", "Euro", "EURO", "eur_old", "Old Euro",
		"STRASSE", "straße", "STRAßE", "kelvin k", "KELVIN K", "σίσυφος", ""}
	for i, opts := range optionSets {
		values := map[string]string{}
		var y strings.Builder
		y.WriteString("properties:\n  p:\n    column: C\n    type: enum\n    values:\n")
		for _, o := range opts {
			values[o.Label] = o.Value
			fmt.Fprintf(&y, "      %q: %q\n", o.Label, o.Value)
		}
		spec, err := mapping.Load(strings.NewReader(y.String()))
		if err != nil {
			t.Fatal(err)
		}
		m, err := spec.Compile([]string{"C"})
		if err != nil {
			t.Fatal(err)
		}
		s := schema.New([]hubspot.Property{prop("p", "enumeration", "select", opts...)})
		for _, cell := range cells {
			if cell == "" {
				continue
			}
			in, err := m.Map([]string{cell})
			mapped, mappedOK := in.Properties.Get("p")
			mappedOK = mappedOK && err == nil

			norm := hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"p": strings.TrimSpace(cell)})}
			s.Normalize(&norm)
			normalized := norm.Properties.Value("p")
			normalizedOK := s.Check(norm) == nil

			if mappedOK != normalizedOK || (mappedOK && mapped != normalized) {
				t.Errorf("options %d, cell %q: mapping sends %q (ok %v, %v), schema %q (ok %v)",
					i, cell, mapped, mappedOK, err, normalized, normalizedOK)
			}
		}
	}
}

// TestCheckerNamesEveryBadProperty: Checker.Check reports one problem per
// bad property, every one of them, each naming the property and the value.
func TestCheckerNamesEveryBadProperty(t *testing.T) {
	s := schema.New(testProperties())
	c := s.NewChecker()
	bad := map[string]string{
		"quantity": "1 234,50", "price": "$12.00", "hs_recurring_billing_start_date": "2024-02-30",
		"billed_at": "yesterday", "recurringbillingfrequency": "Fortnightly", "tier": "bronze",
		"channels": "web;fax;tv", "gift": "maybe", "amount": "10", "hs_object_id": "1",
		"hs_recurring_billing_period": "12M", "nope": "x",
	}
	good := map[string]string{"name": "Widget", "description": "ok", "taxable": "true", "import_key": "k1"}
	all := map[string]string{}
	for k, v := range bad {
		all[k] = v
	}
	for k, v := range good {
		all[k] = v
	}
	for round := range 3 { // the Checker's remembered names must not hide any
		probs := c.Check(hubspot.CreateInput{ObjectWriteTraceID: fmt.Sprint(round), Properties: hubspot.ValuesOf(all)})
		named := map[string]int{}
		for _, p := range probs {
			named[p.Property]++
			if p.Value != bad[p.Property] {
				t.Errorf("round %d: %s: Value %q, want %q", round, p.Property, p.Value, bad[p.Property])
			}
			if !strings.Contains(p.Error(), p.Property) {
				t.Errorf("round %d: %s", round, p.Error())
			}
		}
		for k := range bad {
			if named[k] != 1 {
				t.Errorf("round %d: %s named %d times", round, k, named[k])
			}
		}
		if len(probs) != len(bad) {
			t.Errorf("round %d: %d problems, want %d: %v", round, len(probs), len(bad), probs)
		}
	}
}

// TestProblemsGolden: the messages users read for values that look like
// known mistakes, as Problem.Error renders them.
func TestProblemsGolden(t *testing.T) {
	s := schema.New(append(testProperties(), prop("size", "enumeration", "select", opt("s", "Same"), opt("t", "same"))))
	values := []struct{ property, value string }{
		{"quantity", "1 234,50"}, {"quantity", "1,234"}, {"price", "$12.00"}, {"quantity", "12.5%"}, {"quantity", "1.23457E+11"},
		{"hs_recurring_billing_start_date", "2024-02-30"}, {"hs_recurring_billing_start_date", "2023-02-29"},
		{"hs_recurring_billing_start_date", "2024-13-01"}, {"billed_at", "2024-02-30T10:00:00Z"},
		{"recurringbillingfrequency", "MONTHLY"}, {"size", "SAME"}, {"channels", "web;fax;tv"}, {"channels", "Web;Phone"},
	}
	var b bytes.Buffer
	for _, v := range values {
		p, ok := s.CheckValue(v.property, v.value)
		if ok {
			t.Fatalf("%s = %q accepted", v.property, v.value)
		}
		fmt.Fprintln(&b, p.Error())
	}
	golden := filepath.Join("testdata", "problems.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("messages differ from %s (go test -update rewrites it):\n%s", golden, b.Bytes())
	}
}
