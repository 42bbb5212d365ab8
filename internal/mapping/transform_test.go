package mapping

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// mapCell maps one cell of column C through property p, written as prop
// (the YAML after "p: "). It returns the value sent and whether one was.
func mapCell(t *testing.T, prop, cell string) (string, bool, error) {
	t.Helper()
	s, err := Load(strings.NewReader("properties:\n  p: " + prop + "\n"))
	if err != nil {
		t.Fatalf("Load(%s): %v", prop, err)
	}
	m, err := s.Compile([]string{"C"})
	if err != nil {
		t.Fatalf("Compile(%s): %v", prop, err)
	}
	in, err := m.Map([]string{cell})
	v, ok := in.Properties.Get("p")
	return v, ok, err
}

type transformCase struct {
	prop string // property p's YAML, reading column C
	cell string
	want string // the value sent; "" means none (with wantErr == "")
	// wantErr is a substring of the error; the error must also be a
	// *FieldError naming column C, property p and the cell.
	wantErr string
}

func runTransformCases(t *testing.T, cases []transformCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.prop+"/"+strconv.Quote(tc.cell), func(t *testing.T) {
			got, sent, err := mapCell(t, tc.prop, tc.cell)
			if tc.wantErr != "" {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("got %q (sent %v), err %v; want a FieldError with %q", got, sent, err, tc.wantErr)
				}
				if fe.Column != "C" || fe.Property != "p" || fe.Value != tc.cell {
					t.Errorf("FieldError = %+v, want column C, property p, value %q", fe, tc.cell)
				}
				msg := err.Error()
				for _, w := range []string{`column "C"`, "property p", strconv.Quote(tc.cell), tc.wantErr} {
					if !strings.Contains(msg, w) {
						t.Errorf("error %q lacks %q", msg, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if sent != (tc.want != "") || got != tc.want {
				t.Errorf("got %q (sent %v), want %q", got, sent, tc.want)
			}
		})
	}
}

func TestTrim(t *testing.T) {
	runTransformCases(t, []transformCase{
		{"C", "  Widget  ", "  Widget  ", ""}, // strings keep their spaces by default
		{"C", "   ", "   ", ""},
		{"{column: C, trim: true}", "  Widget \t", "Widget", ""},
		{"{column: C, trim: true}", "\u00a0Widget\u3000", "Widget", ""},
		{"{column: C, trim: true}", "\ufeff\u200bWidget\u2060", "Widget", ""},
		{"{column: C, trim: true}", "Big  Widget", "Big  Widget", ""},
		{"{column: C, trim: true}", " \t\u00a0 ", "", ""}, // blank after trim: nothing sent
		{"{column: C, type: number, trim: true}", "\u200b 12.5\u00a0", "12.5", ""},
		{"{column: C, type: number}", "\u200b12.5", "", "plain number"},
		{"{column: C, type: enum, trim: true, values: {Monthly: monthly}}", "\ufeffMonthly", "monthly", ""},
	})
}

func TestDefault(t *testing.T) {
	runTransformCases(t, []transformCase{
		{"{column: C, default: N/A}", "", "N/A", ""},
		{"{column: C, default: N/A}", "x", "x", ""},
		{"{column: C, default: N/A}", "  ", "  ", ""}, // not empty without trim
		{"{column: C, trim: true, default: N/A}", "  ", "N/A", ""},
		{`{column: C, type: number, default: "0"}`, "", "0", ""},
		{`{column: C, type: number, decimal: ",", default: "1,5"}`, "", "1.5", ""},
		{`{column: C, type: number, default: "0"}`, "x", "", "plain number"},
		{"{column: C, type: bool, default: no}", "", "false", ""},
		{"{column: C, type: enum, values: {Monthly: monthly, Yearly: annually}, default: Yearly}", "", "annually", ""},
		{"{column: C, type: multi, values: {Red: red, Blue: blue}, default: Red;Blue}", "", "red;blue", ""},
		{`{column: C, type: date, format: us, default: "01/31/2026"}`, "", "2026-01-31", ""},
		{`{column: C, type: datetime, default: "2026-01-31T10:00:00+01:00"}`, "", "2026-01-31T09:00:00.000Z", ""},
	})
}

func TestNumberFormats(t *testing.T) {
	const comma = `{column: C, type: number, decimal: ","}`
	const eu = `{column: C, type: number, decimal: ",", thousands: "."}`
	const us = `{column: C, type: number, thousands: ","}`
	const space = `{column: C, type: number, decimal: ",", thousands: " "}`
	const swiss = `{column: C, type: number, thousands: "'"}`
	const euWant = `a number with "," as decimal mark and "." between thousands`
	runTransformCases(t, []transformCase{
		// Decimal comma, no thousands separator.
		{comma, "12,5", "12.5", ""},
		{comma, "-0,75", "-0.75", ""},
		{comma, " 12 ", "12", ""},
		{comma, "1.234,5", "", `a number with "," as decimal mark and no thousands separators`},
		{comma, "12.5", "", `"," as decimal mark`},
		{comma, "12,", "", `"," as decimal mark`},
		{comma, ",5", "", `"," as decimal mark`},
		{comma, "1,2,3", "", `"," as decimal mark`},

		// Decimal comma, "." between thousands.
		{eu, "1.234.567,89", "1234567.89", ""},
		{eu, "1234567,89", "1234567.89", ""},
		{eu, "999,5", "999.5", ""},
		{eu, "-1.000", "-1000", ""},
		{eu, "12.345", "12345", ""},
		{eu, "123.456.789", "123456789", ""},
		{eu, "0", "0", ""},
		{eu, "12.34.5", "", euWant},
		{eu, "0.125", "", euWant}, // not 0125
		{eu, "012.345", "", euWant},
		{eu, "0,125", "0.125", ""},
		{eu, "1.2345", "", euWant},
		{eu, "1.5", "", euWant},
		{eu, "1234.567", "", euWant},
		{eu, "1..234", "", euWant},
		{eu, ".123", "", euWant},
		{eu, "1.234.", "", euWant},
		{eu, "1.234,", "", euWant},
		{eu, "1.234,5.6", "", euWant},
		{eu, "1.234,56,7", "", euWant},
		{eu, "-", "", euWant},
		{eu, "--1", "", euWant},
		{eu, "+1", "", euWant},
		{eu, "1e3", "", euWant},
		{eu, "12%", "", euWant},

		// "," between thousands, decimal point.
		{us, "1,234.50", "1234.50", ""},
		{us, "1,234,567", "1234567", ""},
		{us, "-12,345.6", "-12345.6", ""},
		{us, "1,23", "", `a number with "." as decimal mark and "," between thousands`},
		{us, "12e3", "", `"," between thousands`},
		{us, "1.234,5", "", `"," between thousands`},

		// Spaces (also the no-break spaces spreadsheets write) and apostrophes.
		{space, "1 234 567,5", "1234567.5", ""},
		{space, "1\u00a0234,5", "1234.5", ""},
		{space, "12\u202f345", "12345", ""},
		{space, "1  234", "", `" " between thousands`},
		{space, "1 23", "", `" " between thousands`},
		{swiss, "1'234'567.25", "1234567.25", ""},
		{swiss, "1'234.5'6", "", `"'" between thousands`},

		// The default stays strict.
		{`{column: C, type: number, decimal: "."}`, "1,234.50", "", "plain number"},
		{`{column: C, type: number, decimal: "."}`, "10.50", "10.50", ""},
	})
}

func TestPercent(t *testing.T) {
	const pct = "{column: C, type: number, percent: true}"
	runTransformCases(t, []transformCase{
		// The percent number itself is sent: HubSpot's percentage
		// properties store 12.5 for 12.5%.
		{pct, "12.5%", "12.5", ""},
		{pct, "12.5 %", "12.5", ""},
		{pct, "12.5\u00a0%", "12.5", ""},
		{pct, "12.5", "12.5", ""},
		{pct, "-3%", "-3", ""},
		{pct, "100 % ", "100", ""},
		{pct, "%", "", `optionally followed by "%"`},
		{pct, "12.5%%", "", `plain number (digits with an optional '-' and one '.', no thousands separators or exponents), optionally followed by "%"`},
		{pct, "%12", "", `optionally followed by "%"`},
		{pct, "12.5 % %", "", `optionally followed by "%"`},
		{`{column: C, type: number, percent: true, decimal: ","}`, "12,5 %", "12.5", ""},
		{`{column: C, type: number, percent: true, decimal: ",", thousands: "."}`, "1.000,5%", "1000.5", ""},
		{"{column: C, type: number}", "12.5%", "", "plain number"},
	})
}

func TestDateFormats(t *testing.T) {
	const multiple = "{column: C, type: date, formats: [iso, us]}"
	runTransformCases(t, []transformCase{
		{"{column: C, type: date, format: iso}", "2026-03-15", "2026-03-15", ""},
		{"{column: C, type: date, format: iso}", " 2026-03-15 ", "2026-03-15", ""},
		{"{column: C, type: date, format: iso}", "03/15/2026", "", `a date in the format "2006-01-02" (iso)`},
		{"{column: C, type: date, format: us}", "03/15/2026", "2026-03-15", ""},
		{"{column: C, type: date, format: us}", "3/5/2026", "2026-03-05", ""},
		{"{column: C, type: date, format: us}", "15/03/2026", "", `a date in the format "01/02/2006" (us, month first)`},
		{"{column: C, type: date, format: us}", "02/30/2026", "", "is not a date: February 2026 has no day 30"},
		{"{column: C, type: date, format: us}", "03/15/26", "", "(us, month first)"},
		{"{column: C, type: date, format: eu}", "15/03/2026", "2026-03-15", ""},
		{"{column: C, type: date, format: eu}", "5/3/2026", "2026-03-05", ""},
		{"{column: C, type: date, format: eu}", "03/15/2026", "", `a date in the format "02/01/2006" (eu, day first)`},
		{`{column: C, type: date, format: "02.01.2006"}`, "15.03.2026", "2026-03-15", ""},
		{`{column: C, type: date, format: "Jan 2, 2006"}`, "Mar 15, 2026", "2026-03-15", ""},

		// Several formats, tried in order.
		{multiple, "2026-03-15", "2026-03-15", ""},
		{multiple, "03/15/2026", "2026-03-15", ""},
		{multiple, "15.03.2026", "", `a date in one of the formats "2006-01-02" (iso), "01/02/2006" (us, month first)`},
		{`{column: C, type: date, formats: ["02.01.2006", eu, epoch_ms]}`, "1773532800000", "2026-03-15", ""},

		// Milliseconds since 1970: a date must be at midnight UTC.
		{"{column: C, type: date, format: epoch_ms}", "1773532800000", "2026-03-15", ""},
		{"{column: C, type: date, format: epoch_ms}", "0", "1970-01-01", ""},
		{"{column: C, type: date, format: epoch_ms}", "-86400000", "1969-12-31", ""},
		{"{column: C, type: date, format: epoch_ms}", "1773570600123", "", "epoch_ms dates must be at midnight UTC"},
		{"{column: C, type: date, format: epoch_ms}", "2026-03-15", "", "milliseconds since 1970-01-01 UTC"},
		{"{column: C, type: date, format: epoch_ms}", "1773532800000.0", "", "milliseconds since 1970"},
		{"{column: C, type: date, format: epoch_ms}", "99999999999999999999", "", "milliseconds since 1970"},
		{"{column: C, type: date, format: epoch_ms}", "9223372036854775807", "", "milliseconds since 1970"}, // year 292278994
		{"{column: C, type: datetime, format: epoch_ms}", "1773570600123", "2026-03-15T10:30:00.123Z", ""},
		{"{column: C, type: datetime, format: epoch_ms}", "x", "", "a date and time in the format epoch_ms"},

		// Datetimes.
		{"{column: C, type: datetime}", "2026-03-15T10:30:00+02:00", "2026-03-15T08:30:00.000Z", ""},
		// A zone for values written without an offset (daylight saving
		// time in July); a value with an offset keeps its own.
		{`{column: C, type: datetime, format: "02.01.2006 15:04", zone: Europe/Berlin}`, "31.12.2026 09:00", "2026-12-31T08:00:00.000Z", ""},
		{`{column: C, type: datetime, format: "02.01.2006 15:04", zone: Europe/Berlin}`, "15.07.2026 09:00", "2026-07-15T07:00:00.000Z", ""},
		{`{column: C, type: datetime, format: "02.01.2006 15:04", zone: America/New_York}`, "31.12.2026 21:30", "2027-01-01T02:30:00.000Z", ""},
		{`{column: C, type: datetime, zone: Europe/Berlin}`, "2026-03-15T10:30:00+02:00", "2026-03-15T08:30:00.000Z", ""},
		{`{column: C, type: datetime, format: iso, zone: Europe/Berlin}`, "2026-03-15", "2026-03-14T23:00:00.000Z", ""},
		{`{column: C, type: datetime, format: "02.01.2006 15:04 -0700", zone: Europe/Berlin}`, "31.12.2026 09:00 +0000", "2026-12-31T09:00:00.000Z", ""},
		// At a change of daylight saving time a wall clock time may not
		// exist, or exist twice: refused, not guessed.
		{`{column: C, type: datetime, format: "02.01.2006 15:04", zone: Europe/Berlin}`, "29.03.2026 02:30", "", "the clocks of Europe/Berlin skip this time"},
		{`{column: C, type: datetime, format: "02.01.2006 15:04", zone: Europe/Berlin}`, "25.10.2026 02:30", "", "the clocks of Europe/Berlin show this time twice"},
		{`{column: C, type: datetime, format: "02.01.2006 15:04", zone: Europe/Berlin}`, "25.10.2026 03:30", "2026-10-25T02:30:00.000Z", ""},
		{`{column: C, type: datetime, format: "02.01.2006 15:04", zone: Europe/Berlin}`, "29.03.2026 03:00", "2026-03-29T01:00:00.000Z", ""},
		{`{column: C, type: datetime, formats: ["02.01.2006 15:04", "02.01.2006 15:04 -0700"], zone: Europe/Berlin}`, "25.10.2026 02:30 +0100", "2026-10-25T01:30:00.000Z", ""},
		// A literal Z says UTC, zone or not; a change of offset of three
		// hours (Casey, 2010) repeats three hours.
		{`{column: C, type: datetime, formats: ["2006-01-02T15:04:05Z", "02.01.2006 15:04"], zone: Europe/Berlin}`, "2024-07-01T10:00:00Z", "2024-07-01T10:00:00.000Z", ""},
		{`{column: C, type: datetime, format: "2006-01-02 15:04", zone: Antarctica/Casey}`, "2010-03-04 23:00", "", "show this time twice"},
		{`{column: C, type: datetime, format: "2006-01-02 15:04", zone: Antarctica/Casey}`, "2010-03-05 01:59", "", "show this time twice"},
		{`{column: C, type: datetime, format: "2006-01-02 15:04", zone: Antarctica/Casey}`, "2010-03-05 02:00", "2010-03-04T18:00:00.000Z", ""},
		{`{column: C, type: datetime, format: "2006-01-02 15:04:05.000", zone: Europe/Berlin}`, "2026-10-25 02:59:59.999", "", "show this time twice"},
		// A date's zone abbreviation changes nothing: the date is the one written.
		{`{column: C, type: date, format: "Mon Jan _2 15:04:05 MST 2006"}`, "Tue Mar  5 10:00:00 PST 2024", "2024-03-05", ""},
		{"{column: C, type: datetime, format: iso}", "2026-03-15", "2026-03-15T00:00:00.000Z", ""},
		{`{column: C, type: datetime, formats: ["2006-01-02 15:04", iso]}`, "2026-03-15 10:30", "2026-03-15T10:30:00.000Z", ""},
		{`{column: C, type: datetime, formats: ["2006-01-02 15:04", iso]}`, "2026-03-15", "2026-03-15T00:00:00.000Z", ""},
		// A time zone must not push the year out of HubSpot's four digits.
		{"{column: C, type: datetime}", "0000-01-01T00:00:00+01:00", "", "a date and time"},
		{"{column: C, type: datetime}", "9999-12-31T23:00:00-01:00", "", "a date and time"},
	})
}

func TestMulti(t *testing.T) {
	const colors = "{column: C, type: multi, values: {Red: red, Green: green, Light Blue: blue}}"
	const list = `a ";"-separated list of the mapped labels "Green", "Light Blue", "Red"`
	runTransformCases(t, []transformCase{
		{colors, "Red", "red", ""},
		{colors, "Red;Light Blue", "red;blue", ""},
		{colors, " Red ; green ", "red;green", ""}, // an internal value passes
		{colors, "Red;red;Red", "red", ""},
		{colors, "Red;;Green", "", list + " (with no empty parts)"},
		{colors, "Red;", "", "(with no empty parts)"},
		{colors, ";", "", "(with no empty parts)"},
		{colors, " ", "", "(with no empty parts)"},
		{colors, "Red;Pink", "", list + ` ("Pink" is not one)`},
		{colors, "red,green", "", `("red,green" is not one)`},
		{colors, "RED", "red", ""}, // case is ignored when that names one option
		{`{column: C, type: multi, separator: "|", values: {Red: red, Green: green}}`, "Red|Green", "red;green", ""},
		{`{column: C, type: multi, separator: "|", values: {Red: red, Green: green}}`, "Red;Green", "", `a "|"-separated list`},
		{`{column: C, type: multi, separator: ", ", values: {Red: red, Green: green}}`, "Red, Green", "red;green", ""},
	})
}

func TestConstantValue(t *testing.T) {
	const y = `
properties:
  name: Product
  hs_line_item_currency_code: {value: EUR}
  quantity: {value: "1", type: number}
  price: {value: "1.234,5", type: number, decimal: ",", thousands: "."}
  hs_recurring_billing_start_date: {value: "03/15/2026", type: date, format: us}
  recurringbillingfrequency: {value: Yearly, type: enum, values: {Monthly: monthly, Yearly: annually}}
`
	s, err := Load(strings.NewReader(y))
	if err != nil {
		t.Fatal(err)
	}
	// The header lacks the constants' columns: none is looked up.
	m, err := s.Compile([]string{"Product"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"hs_line_item_currency_code":      "EUR",
		"quantity":                        "1",
		"price":                           "1234.5",
		"hs_recurring_billing_start_date": "2026-03-15",
		"recurringbillingfrequency":       "annually",
	}
	for _, rec := range [][]string{{""}, {"Widget"}} {
		in, err := m.Map(rec)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if in.Properties.Value(k) != v {
				t.Errorf("row %q: %s = %q, want %q", rec, k, in.Properties.Value(k), v)
			}
		}
		if rec[0] != "" && in.Properties.Value("name") != rec[0] {
			t.Errorf("name = %q", in.Properties.Value("name"))
		}
	}
}

func TestLoadTransformErrors(t *testing.T) {
	cases := []struct{ name, prop, want string }{
		{"value with column", "{column: C, value: EUR}", "give either column or value"},
		{"value with default", "{value: EUR, default: USD}", "default is never used with value"},
		{"bad value", "{value: maybe, type: bool}", `value "maybe" is not a boolean`},
		{"blank value", `{value: " ", trim: true}`, `value " " is blank`},
		{"bad default", "{column: C, type: number, default: abc}", `default "abc" is not a plain number`},
		{"default not at midnight", `{column: C, type: date, format: epoch_ms, default: "1"}`, `default "1" is not a date in the format epoch_ms`},
		{"decimal equals thousands", `{column: C, type: number, decimal: ",", thousands: ","}`, "must differ"},
		{"thousands equals default decimal", `{column: C, type: number, thousands: "."}`, "must differ"},
		{"unknown decimal", `{column: C, type: number, decimal: ";"}`, `decimal ";": want "." or ","`},
		{"unknown thousands", `{column: C, type: number, thousands: "_"}`, `thousands "_": want one of`},
		{"percent on string", "{column: C, percent: true}", "percent is only for type number"},
		{"percent on date", "{column: C, type: date, percent: true}", "percent is only for type number"},
		{"decimal on string", `{column: C, decimal: ","}`, "decimal is only for type number"},
		{"thousands on enum", `{column: C, type: enum, values: {A: a}, thousands: "."}`, "thousands is only for type number"},
		{"multi without values", "{column: C, type: multi}", "type multi needs values"},
		{"values on string", "{column: C, values: {A: a}}", "values are only for type enum or multi"},
		{"separator on enum", `{column: C, type: enum, values: {A: a}, separator: "|"}`, "separator is only for type multi"},
		{"multi value with ;", `{column: C, type: multi, values: {A: "a;b"}}`, `value "a;b" contains ";"`},
		{"multi label with separator", `{column: C, type: multi, separator: "|", values: {"A|B": ab}}`, `label "A|B" contains the separator "|"`},
		{"multi empty value", `{column: C, type: multi, values: {A: ""}}`, `label "A" maps to an empty value`},
		{"unknown format name", "{column: C, type: date, format: isoo}", `format "isoo" is neither a format name (iso, us, eu, epoch_ms) nor a Go layout`},
		{"unknown name in formats", "{column: C, type: datetime, formats: [iso, usa]}", `format "usa" is neither`},
		{"layout without year", `{column: C, type: date, format: "01/02"}`, `format "01/02" has no year`},
		{"layout without day", `{column: C, type: date, format: "Mon Jan 2006"}`, `has no day`},
		{"layout without month", `{column: C, type: date, format: "2 2006"}`, `has no month`},
		{"format and formats", "{column: C, type: date, format: iso, formats: [us]}", "either format or formats"},
		{"format on number", "{column: C, type: number, format: iso}", "format is only for type date or datetime"},
		{"formats on string", "{column: C, formats: [iso]}", "formats are only for type date or datetime"},
		{"ambiguous formats", "{column: C, type: date, formats: [us, eu]}", `formats "01/02/2006" (us, month first) and "02/01/2006" (eu, day first) read "3/2/2001" as different dates (2001-03-02 and 2001-02-03)`},
		{"ambiguous epoch", `{column: C, type: datetime, formats: [epoch_ms, "20060102"]}`, "as different dates"},
		{"zone on date", "{column: C, type: date, zone: Europe/Berlin}", "zone is only for type datetime"},
		{"unknown zone", "{column: C, type: datetime, zone: Europe/Bonn}", `zone "Europe/Bonn" is not a time zone of the IANA database`},
		{"the machine's zone", "{column: C, type: datetime, zone: Local}", `zone "Local" is the machine's own time zone`},
		{"zone abbreviation", `{column: C, type: datetime, format: "02.01.2006 15:04 MST"}`, `reads a time zone by its abbreviation (MST)`},
		{"zone abbreviation in formats", `{column: C, type: datetime, formats: [iso, "Jan 2, 2006 at 3:04pm (MST)"]}`, `reads a time zone by its abbreviation`},
		{"unknown type", "{column: C, type: money}", `unknown type "money" (want string, number, bool, date, datetime, enum or multi)`},
		{"no column", "{trim: true}", "no column (give column, or value for a constant)"},
		{"unknown key", "{column: C, trimm: true}", `line 2: unknown key "trimm" (want column, type, format, values, formats, trim, default, value, decimal, thousands, percent, currency, zone, separator); did you mean "trim"?`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader("properties:\n  p: " + tc.prop + "\n"))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), `property "p"`) {
				t.Errorf("error %q does not name the property", err)
			}
		})
	}
}

// TestCompileChecksHandMadeSpecs: a spec built in Go, not loaded, gets the
// same checks from Compile.
func TestCompileChecksHandMadeSpecs(t *testing.T) {
	s := &Spec{Properties: map[string]PropertySpec{
		"price": {Column: "P", Type: TypeNumber, Decimal: ",", Thousands: ","},
		"fee":   {Value: "x", Type: TypeNumber},
	}}
	_, err := s.Compile([]string{"P"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"property price: thousands", "must differ", `property fee: value "x" is not a plain number`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func TestMapShortRecord(t *testing.T) {
	m := compile(t)
	if _, err := m.Map([]string{"SKU-1"}); err == nil {
		t.Error("a short record mapped without error")
	}
}

func TestLoadScalarTypesAsText(t *testing.T) {
	// YAML numbers and booleans in default and value are their text.
	s, err := Load(strings.NewReader("properties:\n  a: {value: 12.50, type: number}\n  b: {column: B, type: bool, default: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Properties["a"].Value != "12.50" || s.Properties["b"].Default != "true" {
		t.Errorf("properties = %+v", s.Properties)
	}
}

// TestGroupedThousands: integers with "." between groups of three digits,
// which read two ways where the decimal mark may be a comma.
func TestGroupedThousands(t *testing.T) {
	for s, want := range map[string]bool{
		"1.234": true, "12.345": true, "123.456": true, "1.234.567": true, "-1.234": true,
		"0.125": false, "1.23": false, "1.2345": false, "1234.567": false, "1234": false,
		"1.234,5": false, "": false, ".123": false, "1..234": false, "1.234.56": false, "01.234": false,
	} {
		if got := GroupedThousands(s); got != want {
			t.Errorf("GroupedThousands(%q) = %v, want %v", s, got, want)
		}
	}
}
