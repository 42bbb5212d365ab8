package mapping

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lineitems/importer/internal/hubspot"
)

// fuzzMapping uses every type and every transform.
const fuzzMapping = `
properties:
  s_plain: S
  s_trim: {column: S, trim: true}
  s_default: {column: S, trim: true, default: none}
  n_plain: {column: N, type: number}
  n_comma: {column: N, type: number, decimal: ","}
  n_eu: {column: N, type: number, decimal: ",", thousands: "."}
  n_us: {column: N, type: number, thousands: ","}
  n_space: {column: N, type: number, decimal: ",", thousands: " ", percent: true}
  n_swiss: {column: N, type: number, thousands: "'", percent: true, trim: true, default: "0"}
  n_dollar: {column: N, type: number, thousands: ",", currency: "$"}
  n_euro: {column: N, type: number, decimal: ",", thousands: ".", currency: "€", percent: true}
  b: {column: B, type: bool, default: "no"}
  d_iso: {column: D, type: date}
  d_us: {column: D, type: date, format: us}
  d_eu: {column: D, type: date, format: eu, trim: true}
  d_epoch: {column: D, type: date, format: epoch_ms}
  d_list: {column: D, type: date, formats: [iso, "02.01.2006", epoch_ms, "Jan 2, 2006", "2006-01-02T15:04:05Z07:00"]}
  t_default: {column: D, type: datetime}
  t_list: {column: D, type: datetime, formats: [epoch_ms, "2006-01-02 15:04:05", us, "2006-01-02T15:04:05.999999999Z07:00"]}
  t_zone: {column: D, type: datetime, formats: ["02.01.2006 15:04", "2006-01-02T15:04:05Z07:00"], zone: Europe/Berlin}
  e: {column: E, type: enum, values: {Monthly: monthly, Yearly: annually}, default: Monthly}
  m: {column: E, type: multi, values: {Red: red, Green: green, Blue: blue}}
  m_pipe: {column: E, type: multi, separator: "|", values: {Red: red, Green: green}, trim: true}
  c: {value: EUR}
  c_num: {value: "1.234,5", type: number, decimal: ",", thousands: "."}
`

var fuzzHeader = []string{"S", "N", "B", "D", "E"}

// HubSpot's forms, as its API (and the emulator) checks them.
var (
	plainNumberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	dateRE        = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	datetimeRE    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$`)
)

// checkForm reports whether v is in HubSpot's form for property p.
func checkForm(p PropertySpec, v string) error {
	if v == "" {
		return errors.New("empty value sent")
	}
	if p.Type != "" && p.Type != TypeString {
		if strings.TrimFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }) != v {
			return errors.New("leading or trailing whitespace")
		}
	}
	switch p.Type {
	case "", TypeString:
		if n := utf8.RuneCountInString(v); n > hubspot.MaxPropertyValueLen {
			return fmt.Errorf("%d characters", n)
		}
		if p.Trim && trimCell(v) != v {
			return errors.New("not trimmed")
		}
	case TypeNumber:
		if !plainNumberRE.MatchString(v) {
			return errors.New("not a plain number")
		}
	case TypeBool:
		if v != "true" && v != "false" {
			return errors.New("not true or false")
		}
	case TypeDate:
		if !dateRE.MatchString(v) {
			return errors.New("not YYYY-MM-DD")
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return err
		}
	case TypeDatetime:
		if !datetimeRE.MatchString(v) {
			return errors.New("not ISO 8601 UTC with milliseconds")
		}
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return err
		}
	case TypeEnum:
		if !slices.Contains(mapValues(p.Values), v) {
			return errors.New("not an option")
		}
	case TypeMulti:
		parts := strings.Split(v, ";")
		for i, part := range parts {
			if !slices.Contains(mapValues(p.Values), part) {
				return fmt.Errorf("%q is not an option", part)
			}
			if slices.Contains(parts[:i], part) {
				return fmt.Errorf("%q twice", part)
			}
		}
	default:
		return fmt.Errorf("unknown type %q", p.Type)
	}
	return nil
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// asciiDigits returns the ASCII digits of s, in order.
func asciiDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// FuzzMap sends arbitrary cells through a mapping with every type and
// transform. Map must never panic; every value it returns must be in
// HubSpot's form for its type, and every error must be FieldErrors, each
// naming the column, the property and the cell, at most one per property.
func FuzzMap(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""}, {" ", "\u00a0"}, {"1.234,5", "12,5 %"}, {"1,234.50", "12e3"}, {"1 234 567,5", "1'234.5%"},
		{"2026-03-15", "03/15/2026"}, {"15/03/2026", "15.03.2026"}, {"1773532800000", "1773570600123"},
		{"Mar 15, 2026", "2026-03-15T10:30:00+02:00"}, {"0000-01-01T00:00:00+01:00", "9999-12-31 23:59:59"},
		{"Red;Blue", "Red|Green"}, {"Red;;Blue", " red ; green "}, {"Monthly", "annually"}, {"yes", "N"},
		{"-", "%"}, {";", "|"}, {"$1,234.50", "-12,50 €"}, {"(12.00)", "1.23457E+11"}, {"RED", "yes;YES"}, {"-9223372036854775808", "99999999999999999999"}, {"\ufeff12\u200b", "\xff\xfe"},
	} {
		f.Add(seed[0], seed[1])
	}
	spec, err := Load(strings.NewReader(fuzzMapping))
	if err != nil {
		f.Fatal(err)
	}
	whole, err := spec.Compile(fuzzHeader)
	if err != nil {
		f.Fatal(err)
	}
	// One mapper per property as well, so that each converter is checked
	// alone.
	single := map[string]*Mapper{}
	for name, p := range spec.Properties {
		s := &Spec{Properties: map[string]PropertySpec{name: p}}
		if single[name], err = s.Compile(fuzzHeader); err != nil {
			f.Fatal(err)
		}
	}
	check := func(t *testing.T, m *Mapper, rec []string) {
		in, err := m.Map(rec)
		if err != nil {
			var fes FieldErrors
			if !errors.As(err, &fes) || len(fes) == 0 {
				t.Fatalf("Map(%q): %v is not FieldErrors", rec, err)
			}
			seen := map[string]bool{}
			for _, fe := range fes {
				p, ok := spec.Properties[fe.Property]
				if !ok || p.Column != fe.Column || rec[indexOf(fuzzHeader, fe.Column)] != fe.Value || fe.Expected == "" || seen[fe.Property] {
					t.Fatalf("Map(%q): FieldError %+v does not name the column, property and cell, once", rec, fe)
				}
				seen[fe.Property] = true
				msg := fe.Error()
				if !strings.Contains(msg, fe.Column) || !strings.Contains(msg, fe.Property) || !strings.Contains(msg, fe.Expected) ||
					!strings.Contains(msg, fe.Hint) || !strings.Contains(err.Error(), msg) {
					t.Fatalf("Map(%q): message %q", rec, msg)
				}
			}
			return
		}
		for i, nv := range in.Properties {
			if i > 0 && in.Properties[i-1].Name >= nv.Name {
				t.Fatalf("Map(%q): properties not in strict name order: %v", rec, in.Properties)
			}
		}
		for name, v := range in.Properties.Map() {
			p := spec.Properties[name]
			if err := checkForm(p, v); err != nil {
				t.Fatalf("Map(%q): %s = %q: %v", rec, name, v, err)
			}
			if p.Type == TypeNumber && p.Column != "" {
				cell := rec[indexOf(fuzzHeader, p.Column)]
				if d := asciiDigits(cell); d != "" && d != asciiDigits(v) {
					t.Fatalf("Map(%q): %s = %q from %q: digits changed", rec, name, v, cell)
				}
			}
			if name == "n_plain" || name == "d_iso" {
				if cell := rec[indexOf(fuzzHeader, p.Column)]; v != strings.TrimSpace(cell) {
					t.Fatalf("Map(%q): %s = %q from %q", rec, name, v, cell)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		cells := []string{a, b, a + ";" + b, a + "|" + b, a + b}
		for _, c := range cells {
			rec := []string{c, c, c, c, c}
			for _, m := range single {
				check(t, m, rec)
			}
		}
		check(t, whole, []string{a, b, a, b, a})
		check(t, whole, []string{b, a, b, a, b})
	})
}

// FuzzYAMLRoundTrip: whatever the names, values and columns, the YAML that
// Spec.YAML writes loads back as the same spec.
func FuzzYAMLRoundTrip(f *testing.F) {
	for _, seed := range [][3]string{
		{"name", "Product", "Monthly"}, {"yes", "no", "~"}, {"a: b", "#c", "[d]"}, {" x", "y ", "\t"},
		{"\u2028", "\ufeff", "\x00"}, {"'", `"`, `\`}, {"1e3", "0x10", ".inf"}, {"é", "😀", "\u00a0"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, name, column, label string) {
		if column == "" || !utf8.ValidString(name) || !utf8.ValidString(column) || !utf8.ValidString(label) {
			return
		}
		s := &Spec{
			Properties: map[string]PropertySpec{
				name:       {Column: column},
				name + "e": {Column: column, Type: TypeEnum, Values: map[string]string{label: column, column: label}},
				name + "d": {Column: column, Default: column, Trim: true},
				name + "v": {Value: column},
			},
			Associations: []AssociationSpec{{Column: column, TypeID: 7, Category: hubspot.CategoryUserDefined}},
			Key:          column,
		}
		if trimCell(column) == "" {
			delete(s.Properties, name+"d") // a blank default is refused
		}
		if s.problems() != nil {
			return
		}
		y, err := s.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Load(strings.NewReader(string(y)))
		if err != nil {
			t.Fatalf("%v\n%s", err, y)
		}
		back.layout = nil
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("loaded back as %#v\nwant %#v\n%s", back, s, y)
		}
	})
}

// FuzzDateOnly: the fast reading of numeric date layouts agrees with
// time.Parse and Format(time.DateOnly) on every input, for every shape of
// layout it takes.
func FuzzDateOnly(f *testing.F) {
	for _, s := range []string{"03/15/2026", "15.03.2026", "2026-03-15", "02/29/2024", "02/29/2023", "00/10/2026", "1/2/2026", "2026-3-15 ", "+026-03-15", "9999-12-31", "0000-01-01"} {
		f.Add(s)
	}
	var layouts []string
	for _, order := range [][3]string{{"01", "02", "2006"}, {"02", "01", "2006"}, {"2006", "01", "02"}, {"2006", "02", "01"}, {"01", "2006", "02"}} {
		for _, sep := range []string{"/", "-", ".", " "} {
			layouts = append(layouts, order[0]+sep+order[1]+sep+order[2])
		}
	}
	layouts = append(layouts, "01/02-2006")
	f.Fuzz(func(t *testing.T, s string) {
		for _, layout := range layouts {
			d := compileDateOnly(layout)
			if d == nil {
				t.Fatalf("layout %q not taken", layout)
			}
			got, ok := d.convert(s)
			want, err := time.Parse(layout, s)
			if ok != (err == nil) || (ok && got != want.Format(time.DateOnly)) {
				t.Fatalf("layout %q, %q: fast %q, %v; time.Parse %v, %v", layout, s, got, ok, want.Format(time.DateOnly), err)
			}
		}
	})
}

func TestDateOnlyTakesOnlyNumericDates(t *testing.T) {
	for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "Jan 2, 2006", "01/02/06", "1/2/2006", "2006-01-02 ", "2006--01-02", "01/01/2006", "2006/01:02", "_2/01/2006"} {
		if compileDateOnly(layout) != nil {
			t.Errorf("layout %q read without time.Parse", layout)
		}
	}
}
