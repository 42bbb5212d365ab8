package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/casefold"
	"github.com/lineitems/importer/internal/hubspot"
)

// TestMapNamesEveryBadCell: a record with several bad values gets one
// FieldError for each, in property-name order and then the associations',
// and errors.As still finds the first *FieldError.
func TestMapNamesEveryBadCell(t *testing.T) {
	m := compile(t)
	//                 SKU      Product   Qty  Unit Price  Start         Billing    Taxable  Signed  Deal ID   Quote ID  Label Col
	rec := []string{"SKU-1", "Widget", "3", "1 234,50", "02/30/2024", "Montly", "maybe", "", "D-1001", "", "x"}
	in, err := m.Map(rec)
	if err == nil {
		t.Fatal("no error")
	}
	var fes FieldErrors
	if !errors.As(err, &fes) {
		t.Fatalf("%T is not FieldErrors", err)
	}
	type cell struct{ column, property, value string }
	var got []cell
	for _, fe := range fes {
		got = append(got, cell{fe.Column, fe.Property, fe.Value})
	}
	want := []cell{
		{"Start", "hs_recurring_billing_start_date", "02/30/2024"},
		{"Taxable", "hs_taxable", "maybe"},
		{"Unit Price", "price", "1 234,50"},
		{"Billing", "recurringbillingfrequency", "Montly"},
		{"Deal ID", "", "D-1001"},
		{"Label Col", "", "x"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FieldErrors name\n%v\nwant\n%v", got, want)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe != fes[0] {
		t.Errorf("errors.As finds %v, want the first FieldError %v", fe, fes[0])
	}
	if !errors.Is(err, fes[2]) {
		t.Error("errors.Is does not find a later FieldError")
	}
	msgs := make([]string, len(fes))
	for i, fe := range fes {
		msgs[i] = fe.Error()
	}
	if err.Error() != strings.Join(msgs, "; ") {
		t.Errorf("Error() = %q, want the FieldErrors' messages joined by \"; \"", err)
	}
	if fes.Code() != "INVALID_VALUE" {
		t.Errorf("Code() = %q", fes.Code())
	}
	// Map returns nothing; MapInto leaves the good values in place.
	if len(in.Properties) != 0 {
		t.Errorf("Map returned %v with its error", in.Properties)
	}
	var into hubspot.CreateInput
	if err := m.MapInto(&into, rec); err == nil {
		t.Fatal("MapInto: no error")
	}
	wantGood := map[string]string{"name": "Widget", "quantity": "3"}
	if !reflect.DeepEqual(into.Properties.Map(), wantGood) || len(into.Associations) != 0 {
		t.Errorf("MapInto left %v, %v; want %v and no associations", into.Properties, into.Associations, wantGood)
	}
}

func TestMapOneBadCell(t *testing.T) {
	m := compile(t)
	rec := []string{"SKU-1", "Widget", "3", "12e3", "", "", "", "", "", "", ""}
	_, err := m.Map(rec)
	var fes FieldErrors
	if !errors.As(err, &fes) || len(fes) != 1 {
		t.Fatalf("err = %#v, want FieldErrors with one FieldError", err)
	}
	if err.Error() != fes[0].Error() {
		t.Errorf("Error() = %q, want %q", err, fes[0])
	}
	// A short record is not a problem with values.
	if _, err := m.Map([]string{"SKU-1"}); errors.As(err, &fes) {
		t.Errorf("a short record got FieldErrors: %v", err)
	}
}

func TestFieldErrorMessage(t *testing.T) {
	cases := []struct {
		fe   FieldError
		want string
	}{
		{FieldError{Column: "Qty", Property: "quantity", Value: "x", Expected: "a plain number"},
			`column "Qty" (property quantity): "x" is not a plain number`},
		{FieldError{Column: "price", Property: "price", Value: "12,5", Expected: "a plain number", Hint: "it looks like a decimal comma"},
			`column "price": "12,5" is not a plain number: it looks like a decimal comma`},
		{FieldError{Column: "Deal", Value: "D-1", Expected: "a HubSpot record id (digits only)"},
			`column "Deal": "D-1" is not a HubSpot record id (digits only)`},
	}
	for _, tc := range cases {
		if got := tc.fe.Error(); got != tc.want {
			t.Errorf("Error() = %s\nwant      %s", got, tc.want)
		}
	}
}

// hintCase is a cell of property p (column C) and the whole hint its
// FieldError must carry; "" means no hint.
type hintCase struct {
	prop, cell, expected, hint string
}

func runHintCases(t *testing.T, cases []hintCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.prop+"/"+fmt.Sprintf("%q", tc.cell), func(t *testing.T) {
			_, _, err := mapCell(t, tc.prop, tc.cell)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FieldError", err)
			}
			if fe.Hint != tc.hint {
				t.Errorf("Hint = %s\nwant   %s", fe.Hint, tc.hint)
			}
			if tc.expected != "" && fe.Expected != tc.expected {
				t.Errorf("Expected = %s\nwant       %s", fe.Expected, tc.expected)
			}
		})
	}
}

func TestNumberHints(t *testing.T) {
	const plain = "{column: C, type: number}"
	const comma = `{column: C, type: number, decimal: ","}`
	const eu = `{column: C, type: number, decimal: ",", thousands: "."}`
	const us = `{column: C, type: number, thousands: ","}`
	runHintCases(t, []hintCase{
		// Separators the column does not read: the options that do.
		{plain, "1 234,50", "a plain number", `it looks like a decimal comma with spaces between thousands; add decimal: "," and thousands: " " to the mapping of p`},
		{plain, "1\u00a0234,50", "", `it looks like a decimal comma with spaces between thousands; add decimal: "," and thousands: " " to the mapping of p`},
		{plain, "1\u202f234\u202f567", "", `it looks like spaces between thousands; add thousands: " " to the mapping of p`},
		{plain, "1.234,50", "", `it looks like a decimal comma with "." between thousands; add decimal: "," and thousands: "." to the mapping of p`},
		{plain, "1,234.50", "", `it looks like "," between thousands; add thousands: "," to the mapping of p`},
		{plain, "1'234.50", "", `it looks like "'" between thousands; add thousands: "'" to the mapping of p`},
		{plain, "1.234.567", "", `it looks like "." between thousands; add decimal: "," and thousands: "." to the mapping of p`},
		{plain, "12,5", "", `it looks like a decimal comma; add decimal: "," to the mapping of p`},
		{plain, "-0,75", "", `it looks like a decimal comma; add decimal: "," to the mapping of p`},
		{plain, "1,234", "", `"," followed by three digits is either between thousands (1234: thousands: ",") or a decimal comma (1.234: decimal: ","); add the one that fits to the mapping of p`},
		{plain, "0,123", "", `it looks like a decimal comma; add decimal: "," to the mapping of p`},

		// Currency symbols and codes, percent signs, invisible characters.
		{plain, "$12.00", "", `it has the currency symbol "$"; add currency: "$" to the mapping of p`},
		{plain, "€12", "", `it has the currency symbol "€"; add currency: "€" to the mapping of p`},
		{plain, "-$12.00", "", `it has the currency symbol "$"; add currency: "$" to the mapping of p`},
		{plain, "12,50 €", "", `it has the currency symbol "€" and looks like a decimal comma; add currency: "€" and decimal: "," to the mapping of p`},
		{plain, "EUR 1.234,50", "", `it has the currency symbol "EUR" and looks like a decimal comma with "." between thousands; add currency: "EUR", decimal: "," and thousands: "." to the mapping of p`},
		{plain, "12.5%", "", `it has a "%" sign; add percent: true to the mapping of p`},
		{plain, "12,5 %", "", `it has a "%" sign and looks like a decimal comma; add percent: true and decimal: "," to the mapping of p`},
		{plain, "\u200b12.5", "", "it has invisible characters around it; add trim: true to the mapping of p"},

		// What no option reads: how to write the cell.
		{plain, "12e3", "", "it has an exponent, which no option reads; write it as 12000"},
		{plain, "1.5E+3", "", "it has an exponent, which no option reads; write it as 1500"},
		{plain, "12e-3", "", "it has an exponent, which no option reads; write it as 0.012"},
		{plain, "1.23457E+11", "", "it has an exponent, which no option reads; write it as 123457000000 (if a spreadsheet wrote it, it may have rounded it: export the column formatted as a number)"},
		{plain, "+1", "", `it has a leading "+", which no option reads; write it as 1`},
		{plain, "(12.00)", "", "it has parentheses for a negative number, which no option reads; write it as -12.00"},
		{plain, "($1,234.00)", "", "it has parentheses for a negative number, which no option reads; write it as -1234.00"},
		{plain, ".5", "", "it has a decimal mark with no digits on one side, which no option reads; write it as 0.5"},
		{plain, "5.", "", "it has a decimal mark with no digits on one side, which no option reads; write it as 5"},
		{comma, ",5", "", "it has a decimal mark with no digits on one side, which no option reads; write it as 0,5"},

		// Columns with options: what to add, or a cell unlike the others.
		{comma, "1.234,5", `a number with "," as decimal mark and no thousands separators`, `it looks like "." between thousands; add thousands: "." to the mapping of p`},
		{comma, "12.5", "", `it looks like a decimal point; write it as 12,5, or set decimal: "." in the mapping of p if the whole column is written so`},
		{comma, "1.234", "", `"." followed by three digits is either between thousands (1234: thousands: ".") or a decimal point (1.234: decimal: "."); set the one that fits in the mapping of p`},
		{eu, "1.5", "", `it looks like a decimal point, but the mapping of p has thousands: "."; write it as 1,5`},
		{eu, "12%", "", `it has a "%" sign; add percent: true to the mapping of p`},
		{us, "1,23", "", `it looks like a decimal comma, but the mapping of p has thousands: ","; write it as 1.23`},
		{us, "1.234,5", "", `it looks like a decimal comma with "." between thousands; write it as 1234.5, or set decimal: "," and thousands: "." in the mapping of p if the whole column is written so`},
		{`{column: C, type: number, currency: "$"}`, "€12", `a plain number, optionally with "$" before or after it`,
			`it has the currency symbol "€", but the mapping of p has currency: "$"; this row is in another currency`},

		// Not numbers: the long phrase, no hint.
		{plain, "abc", plainNumberWant, ""},
		{plain, "1.2.3", plainNumberWant, ""},
		{plain, "-", plainNumberWant, ""},
		{plain, "12.5%%", plainNumberWant, ""},
		{plain, "ab 12", plainNumberWant, ""},
		{plain, "5e", plainNumberWant, ""},
		{eu, "12.34.5", "", ""},
		{`{column: C, type: number, decimal: ",", thousands: " "}`, "1  234", "", ""},
	})
}

// TestNumberHint: the hint for a value mapped as text, which the schema's
// number check gives.
func TestNumberHint(t *testing.T) {
	cases := []struct{ value, want string }{
		{"1 234,50", `it looks like a decimal comma with spaces between thousands; map it with type: number, decimal: "," and thousands: " "`},
		{"1.234,50", `it looks like a decimal comma with "." between thousands; map it with type: number, decimal: "," and thousands: "."`},
		{"1,234.50", `it looks like "," between thousands; map it with type: number and thousands: ","`},
		{"1,234", `"," followed by three digits is either between thousands (1234: map it with type: number and thousands: ",") or a decimal comma (1.234: map it with type: number and decimal: ",")`},
		{"$12.00", `it has the currency symbol "$"; map it with type: number and currency: "$"`},
		{"€12", `it has the currency symbol "€"; map it with type: number and currency: "€"`},
		{"12.5%", `it has a "%" sign; map it with type: number and percent: true`},
		{"12e3", "it has an exponent, which no option reads; write it as 12000"},
		{"12", ""},
		{"abc", ""},
		{"", ""},
		{strings.Repeat("1", 100) + ",5", ""},
	}
	for _, tc := range cases {
		if got := NumberHint(tc.value); got != tc.want {
			t.Errorf("NumberHint(%q) =\n%s\nwant\n%s", tc.value, got, tc.want)
		}
	}
}

func TestCurrency(t *testing.T) {
	const dollar = `{column: C, type: number, currency: "$", thousands: ","}`
	const euro = `{column: C, type: number, currency: "€", decimal: ",", thousands: " "}`
	runTransformCases(t, []transformCase{
		{dollar, "$12.00", "12.00", ""},
		{dollar, "$ 1,234.50", "1234.50", ""},
		{dollar, "-$12", "-12", ""},
		{dollar, "$-12", "-12", ""},
		{dollar, "12$", "12", ""},
		{dollar, "12", "12", ""},
		{dollar, "-$-12", "", `optionally with "$" before or after it`},
		{dollar, "$$12", "", `optionally with "$" before or after it`},
		{dollar, "€12", "", "another currency"},
		{euro, "12,50 €", "12.50", ""},
		{euro, "1 234,50\u00a0€", "1234.50", ""},
		{euro, "€ -3", "-3", ""},
		{`{column: C, type: number, currency: EUR}`, "EUR 12", "12", ""},
		{`{column: C, type: number, currency: EUR}`, "12 EUR", "12", ""},
		{`{column: C, type: number, currency: "$", percent: true}`, "12%", "12", ""},
	})
}

func TestCurrencyErrors(t *testing.T) {
	for _, tc := range []struct{ prop, want string }{
		{`{column: C, currency: "$"}`, "currency is only for type number"},
		{`{column: C, type: date, currency: "$"}`, "currency is only for type number"},
		{`{column: C, type: number, currency: "1$"}`, `currency "1$": want a symbol or code`},
		{`{column: C, type: number, currency: "US $"}`, `currency "US $": want a symbol or code`},
		{`{column: C, type: number, currency: "-"}`, `currency "-": want a symbol or code`},
	} {
		_, err := Load(strings.NewReader("properties:\n  p: " + tc.prop + "\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.prop, err, tc.want)
		}
	}
}

func TestImpossibleDates(t *testing.T) {
	const us = `{column: C, type: date, format: "01/02/2006"}`
	runHintCases(t, []hintCase{
		// A day that does not exist: "not a date", not "not in the format".
		{us, "02/30/2024", "a date", "February 2024 has no day 30"},
		{us, "04/31/2024", "a date", "April 2024 has no day 31"},
		{us, "02/29/2023", "a date", "February 2023 has no day 29 (2023 is not a leap year)"},
		{us, "02/00/2024", "a date", "February 2024 has no day 0"},
		{us, "02/45/2024", "a date", "February 2024 has no day 45"},
		{"{column: C, type: date, format: us}", "2/30/2024", "a date", "February 2024 has no day 30"},
		{"{column: C, type: date, format: eu}", "31/04/2024", "a date", "April 2024 has no day 31"},
		{"{column: C, type: date}", "2024-02-30", "a date", "February 2024 has no day 30"},
		{"{column: C, type: date, format: iso}", "2023-02-29", "a date", "February 2023 has no day 29 (2023 is not a leap year)"},
		{`{column: C, type: date, format: "Jan 2, 2006"}`, "Feb 30, 2024", "a date", "February 2024 has no day 30"},
		{`{column: C, type: date, formats: [iso, us]}`, "02/30/2024", "a date", "February 2024 has no day 30"},
		{"{column: C, type: datetime}", "2024-02-30T10:00:00Z", "a date and time", "February 2024 has no day 30"},
		{`{column: C, type: datetime, format: "2006-01-02 15:04"}`, "2024-02-30 10:30", "a date and time", "February 2024 has no day 30"},

		// A month that does not exist, with the other order when it reads.
		{"{column: C, type: date}", "2024-13-01", `a date in the format "2006-01-02"`, "there is no month 13"},
		{"{column: C, type: date, format: us}", "15/03/2026", `a date in the format "01/02/2006" (us, month first)`,
			"there is no month 15; if the day comes first (format: eu), it is 2026-03-15"},
		{"{column: C, type: date, format: eu}", "03/15/2026", `a date in the format "02/01/2006" (eu, day first)`,
			"there is no month 15; if the month comes first (format: us), it is 2026-03-15"},
		{us, "15/03/2026", "", `there is no month 15; if the day comes first (format: "02/01/2006"), it is 2026-03-15`},
		{us, "13/31/2026", "", "there is no month 13"},
		{`{column: C, type: date, format: "02.01.2006"}`, "03.15.2026", "", `there is no month 15; if the month comes first (format: "01.02.2006"), it is 2026-03-15`},

		// Not in the format at all: no hint.
		{us, "2026-03-15", `a date in the format "01/02/2006"`, ""},
		{us, "03/15/26", "", ""},
		{"{column: C, type: date}", "yesterday", "", ""},
		{"{column: C, type: date, format: epoch_ms}", "1773570600123", "", ""},
	})
}

func TestEnumCase(t *testing.T) {
	const freq = "{column: C, type: enum, values: {Monthly: monthly, Yearly: annually}}"
	const yes = `{column: C, type: enum, values: {"Yes": "true", "YES": "yes_value", "No": "false"}}`
	runTransformCases(t, []transformCase{
		{freq, "Monthly", "monthly", ""},   // label
		{freq, "annually", "annually", ""}, // internal value
		{freq, "MONTHLY", "monthly", ""},   // label or value, another case
		{freq, "monthly ", "monthly", ""},  // surrounding spaces
		{freq, "yearly", "annually", ""},   // label, another case
		{freq, "ANNUALLY", "annually", ""}, // value, another case
		{freq, "Montly", "", `one of the mapped labels "Monthly", "Yearly"`},
		{yes, "Yes", "true", ""}, // exact labels win
		{yes, "YES", "yes_value", ""},
		{yes, "no", "false", ""},
		{yes, "yes", "", `one of the mapped labels "No", "YES", "Yes"`},
		{yes, "TRUE", "true", ""},
		// A label equal to another option's value: the label wins.
		{"{column: C, type: enum, values: {a: b, b: c}}", "b", "c", ""},
		{"{column: C, type: enum, values: {a: b, b: c}}", "B", "c", ""},
	})
	runHintCases(t, []hintCase{
		{freq, "Montly", "", `did you mean "Monthly"?`},
		{freq, "anualy", "", `did you mean "annually"?`},
		{freq, "Weekly", "", ""},
		{yes, "yes", "", `ignoring case it matches "YES" and "Yes", which mean different values; write it exactly as one of them`},
	})
}

func TestMultiCase(t *testing.T) {
	const colors = "{column: C, type: multi, values: {Red: red, Green: green, Light Blue: blue}}"
	const list = `a ";"-separated list of the mapped labels "Green", "Light Blue", "Red"`
	runTransformCases(t, []transformCase{
		{colors, "RED;light blue", "red;blue", ""},
		{colors, "red;Red;RED", "red", ""},
		{colors, "BLUE", "blue", ""},
	})
	runHintCases(t, []hintCase{
		{colors, "Rd;Green", list + ` ("Rd" is not one)`, `did you mean "Red"?`},
		{colors, "Rd;Pink;Lght Blue", list + ` ("Rd", "Pink" and "Lght Blue" are not)`, `did you mean "Red" for "Rd" and "Light Blue" for "Lght Blue"?`},
		{colors, "Pink;Teal", list + ` ("Pink" and "Teal" are not)`, ""},
		{`{column: C, type: multi, values: {"Yes": "y", "YES": "Y"}}`, "yes;YES;maybe", "",
			`ignoring case "yes" matches "YES" and "Yes", which mean different values; write each exactly as one of them`},
	})
}

func TestDidYouMean(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"top-level key", "propertys: {}\n", `line 1: unknown key "propertys" (want properties, associations, key, settings); did you mean "properties"?`},
		{"top-level key, far", "nothing: {}\n", `line 1: unknown key "nothing" (want properties, associations, key, settings)`},
		{"column", "properties:\n  p: {colum: C}\n", `property "p": line 2: unknown key "colum"`},
		{"values", "properties:\n  p: {column: C, type: enum, valeus: {A: a}}\n", `did you mean "values"?`},
		{"type key", "properties:\n  p: {column: C, tyep: number}\n", `unknown key "tyep" (want column, type, format, values, formats, trim, default, value, decimal, thousands, percent, currency, zone, separator); did you mean "type"?`},
		{"transform option", "properties:\n  p: {column: C, type: number, percnt: true}\n", `did you mean "percent"?`},
		{"transform option in block form", "properties:\n  p:\n    column: C\n    type: number\n    thousand: \",\"\n", `property "p": line 5: unknown key "thousand" (want column, type, format, values, formats, trim, default, value, decimal, thousands, percent, currency, zone, separator); did you mean "thousands"?`},
		{"type value", "properties:\n  p: {column: C, type: nubmer}\n", `unknown type "nubmer" (want string, number, bool, date, datetime, enum or multi); did you mean "number"?`},
		{"type value, case", "properties:\n  p: {column: C, type: Number}\n", `did you mean "number"?`},
		{"format name", "properties:\n  p: {column: C, type: date, format: isoo}\n", `did you mean "iso"?`},
		{"association key", "associations:\n  - {colum: D, to: deal}\n", `association 1: line 2: unknown key "colum" (want column, to, by, type_id, category); did you mean "column"?`},
		{"association target", "associations:\n  - {column: D, to: dael}\n", `unknown target "dael" (want one of cart, deal, discount, invoice, order, payment, quote, subscription); did you mean "deal"?`},
		{"association category", "associations:\n  - {column: D, type_id: 7, category: USER_DEFIND}\n", `unknown category "USER_DEFIND" (want HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED or WORK); did you mean "USER_DEFINED"?`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.yaml))
			wantError(t, err, tc.want)
			if strings.Contains(tc.name, "far") && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("error %q suggests a key far from the one written", err)
			}
		})
	}
}

func TestDidYouMeanColumn(t *testing.T) {
	s, err := Load(strings.NewReader("properties:\n  price: Unit Pirce\n  quantity: qty\n  name: Title\nkey: sku_code\nassociations:\n  - {column: Deal_ID, to: deal}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Compile([]string{"SKU Code", "Unit Price", "Qty", "Product", "Deal ID"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{
		`property price: the CSV has no column "Unit Pirce" (columns: "SKU Code", "Unit Price", "Qty", "Product", "Deal ID"); did you mean "Unit Price"?`,
		`property quantity: the CSV has no column "qty" (columns: "SKU Code", "Unit Price", "Qty", "Product", "Deal ID"); did you mean "Qty"?`,
		`key: the CSV has no column "sku_code" (columns: "SKU Code", "Unit Price", "Qty", "Product", "Deal ID"); did you mean "SKU Code"?`,
		`association: the CSV has no column "Deal_ID" (columns: "SKU Code", "Unit Price", "Qty", "Product", "Deal ID"); did you mean "Deal ID"?`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks\n%s\nin\n%s", w, err)
		}
	}
	if strings.Contains(err.Error(), `"Title" (columns: "SKU Code", "Unit Price", "Qty", "Product", "Deal ID"); did you mean`) {
		t.Errorf("a column far from every header name got a suggestion:\n%s", err)
	}
}

func TestClosest(t *testing.T) {
	names := []string{"column", "type", "values", "trim", "decimal", "thousands"}
	cases := []struct {
		s    string
		want []string
	}{
		{"colum", []string{"column"}},
		{"tyep", []string{"type"}},
		{"valeus", []string{"values"}},
		{"THOUSANDS", []string{"thousands"}},
		{"thou_sands", []string{"thousands"}},
		{"trm", []string{"trim"}},
		{"type", nil}, // itself
		{"x", nil},
		{"decimals", []string{"decimal"}},
		{"zzzzzz", nil},
	}
	for _, tc := range cases {
		if got := closest(tc.s, names); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("closest(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
	if got := closest("ab", []string{"aa", "bb", "cb"}); !reflect.DeepEqual(got, []string{"aa", "bb", "cb"}) {
		t.Errorf("ties: %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"type", "type", 0}, {"tyep", "type", 1},
		{"colum", "column", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3}, {"héllo", "hello", 1}, {"ab", "ba", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestFoldCase(t *testing.T) {
	pairs := [][2]string{{"Monthly", "MONTHLY"}, {"k", "\u212a"}, {"straße", "STRAßE"}, {"ſ", "S"}, {"Σίσυφος", "ΣΊΣΥΦΟΣ"}, {"", ""}}
	for _, p := range pairs {
		if !strings.EqualFold(p[0], p[1]) {
			t.Fatalf("bad pair %q", p)
		}
		if casefold.Fold(p[0]) != casefold.Fold(p[1]) {
			t.Errorf("casefold.Fold(%q) = %q, casefold.Fold(%q) = %q", p[0], casefold.Fold(p[0]), p[1], casefold.Fold(p[1]))
		}
	}
	if casefold.Fold("a") == casefold.Fold("b") || casefold.Fold("ss") == casefold.Fold("ß") {
		t.Error("casefold.Fold folds what EqualFold tells apart")
	}
}

func TestTabIndentation(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"first entry", "properties:\n\tname: Product\n", "line 2: the mapping is indented with a tab; YAML needs spaces"},
		{"later entry", "properties:\n  name: Product\n\tqty: Q\n", "line 3: the mapping is indented with a tab; YAML needs spaces"},
		{"spaces then a tab", "properties:\n  name: Product\n  price:\n \t column: P\n", "line 4: the mapping is indented with a tab"},
		{"deeper", "properties:\n  name: Product\n  price:\n    column: P\n\t\ttype: number\n", "line 5: the mapping is indented with a tab"},
		{"several", "properties:\n  name: Product\n\tqty: Q\n\tx: y\n\tz: w\n", "line 3: the mapping is indented with a tab; YAML needs spaces (so is lines 4 and 5)"},
		{"one more", "properties:\n\tname: Product\n\tqty: Q\n", "line 2: the mapping is indented with a tab; YAML needs spaces (so is line 3)"},
		{"blank line with a tab", "properties:\n  name: Product\n\t\n  q: Q\n", "line 3: the mapping is indented with a tab"},
		{"comment after a tab", "properties:\n  name: Product\n\t# note\n", "line 3: the mapping is indented with a tab"},
		{"CRLF", "properties:\r\n  name: Product\r\n\tqty: Q\r\n", "line 3: the mapping is indented with a tab"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.yaml))
			wantError(t, err, tc.want)
			if strings.Contains(err.Error(), "cannot start any token") || strings.Contains(err.Error(), "tab character") {
				t.Errorf("error %q still has yaml's words", err)
			}
		})
	}
	// Tabs where YAML takes them are not errors.
	for _, y := range []string{"properties:\n  name:\tProduct\n", "properties:\n  p: {column: \"a\\tb\"}\n", "properties:\n  price: {column: P,\n\ttype: number}\n"} {
		if _, err := Load(strings.NewReader(y)); err != nil {
			t.Errorf("%q: %v", y, err)
		}
	}
	// Other syntax errors are yaml's.
	if _, err := Load(strings.NewReader("properties: [\n")); err == nil || strings.Contains(err.Error(), "tab") {
		t.Errorf("unclosed flow: %v", err)
	}
}

// messageCases are records whose messages testdata/messages.golden holds:
// the whole of what a user reads in failed.csv, one record a line.
var messageCases = []struct {
	spec   string
	header []string
	rows   [][]string
}{
	{
		spec: `
properties:
  price: {column: Price, type: number}
  hs_discount_percentage: {column: Discount, type: number}
  quantity: {column: Qty, type: number, decimal: ",", thousands: "."}
  start: {column: Start, type: date, format: us}
  signed: {column: Signed, type: datetime}
  billing: {column: Billing, type: enum, values: {Monthly: monthly, Yearly: annually}}
  colors: {column: Colors, type: multi, values: {Red: red, Green: green, Light Blue: blue}}
associations:
  - {column: Deal, to: deal}
`,
		header: []string{"Price", "Discount", "Qty", "Start", "Signed", "Billing", "Colors", "Deal"},
		rows: [][]string{
			{"1 234,50", "12.5%", "1.5", "02/30/2024", "2024-02-30T10:00:00Z", "Montly", "Rd;Pink", "D-1"},
			{"$12.00", "12,5 %", "1,234.5", "15/03/2026", "2024-13-01T10:00:00Z", "MONTHLY", "RED;light blue", "1001"},
			{"12e3", "(5)", "12e3", "02/29/2023", "yesterday", "Weekly", "Red;;Green", ""},
			{"1,234", "\u200b5", "1 234,5", "2026-03-15", "", "", "", ""},
		},
	},
}

func TestMessagesGolden(t *testing.T) {
	var b bytes.Buffer
	for _, mc := range messageCases {
		s, err := Load(strings.NewReader(mc.spec))
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Compile(mc.header)
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range mc.rows {
			_, err := m.Map(rec)
			fmt.Fprintf(&b, "row %d: %v\n", i+1, err)
		}
	}
	for _, y := range []string{
		"properties:\n  p: {colum: C, type: nubmer}\nassociations:\n  - {column: D, to: dael}\n",
		"properties:\n  name: Product\n\tqty: Q\n",
		"properties:\n  p: {column: C, type: number, default: \"1 234,5\"}\n  d: {column: D, type: date, format: us, default: \"02/30/2024\"}\n",
	} {
		_, err := Load(strings.NewReader(y))
		fmt.Fprintf(&b, "%q:\n%v\n", y, err)
	}
	checkGolden(t, "messages.golden", b.Bytes())
}
