package mapping

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lineitems/importer/internal/hubspot"
)

// converter turns a non-empty cell into HubSpot's string form. On failure it
// returns a non-empty description of what was expected.
type converter func(cell string) (value, expected string)

// newConverter builds the converter of p. It fails, naming every problem,
// when p's settings cannot convert anything (a date layout without a year,
// an unknown format name, a decimal mark equal to the thousands separator,
// ...). Checks of which keys go with which type are in [newProperty].
func newConverter(p PropertySpec) (converter, error) {
	switch p.Type {
	case "", TypeString:
		return func(c string) (string, string) { return c, "" }, nil
	case TypeNumber:
		return newNumberConverter(p)
	case TypeBool:
		return convertBool, nil
	case TypeDate, TypeDatetime:
		return newDateConverter(p)
	case TypeEnum:
		labels := make([]string, 0, len(p.Values))
		internal := make(map[string]bool, len(p.Values))
		for label, v := range p.Values {
			labels = append(labels, label)
			internal[v] = true
		}
		sort.Strings(labels)
		want := "one of the mapped labels " + quoteList(labels)
		return func(c string) (string, string) {
			c = strings.TrimSpace(c)
			if v, ok := p.Values[c]; ok {
				return v, ""
			}
			if internal[c] {
				return c, ""
			}
			return "", want
		}, nil
	case TypeMulti:
		return newMultiConverter(p)
	}
	return nil, fmt.Errorf("unknown type %q", p.Type)
}

// trimCell removes what `trim: true` removes around a cell: Unicode white
// space (unicode.IsSpace, which includes the no-break space) and the
// invisible zero-width space, word joiner and byte-order mark, which HubSpot
// also counts as leading or trailing whitespace.
func trimCell(s string) string {
	return strings.TrimFunc(s, isTrimmed)
}

func isTrimmed(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\u2060' || r == '\ufeff'
}

// Number formats.

const plainNumberWant = "a plain number (digits with an optional '-' and one '.', no thousands separators or exponents)"

// thousandsSeparators are the values `thousands:` accepts.
var thousandsSeparators = []string{".", ",", " ", "'"}

// numberFormat is how a number column writes its numbers. The output is
// always HubSpot's plain form: an optional '-', digits, and optionally one
// '.' followed by digits.
type numberFormat struct {
	decimal   string // "." or ","
	thousands string // "" (none allowed), ".", ",", " " or "'"
	// percent accepts a trailing '%' (with optional space before it) and
	// drops it. The number is NOT divided by 100: HubSpot's percentage
	// properties (hs_discount_percentage, ...) store the percent number
	// itself, so "12.5%" is sent as 12.5, which HubSpot shows as 12.5%.
	percent bool
	want    string
}

func newNumberConverter(p PropertySpec) (converter, error) {
	f := numberFormat{decimal: p.Decimal, thousands: p.Thousands, percent: p.Percent}
	if f.decimal == "" {
		f.decimal = "."
	}
	var errs []error
	if f.decimal != "." && f.decimal != "," {
		errs = append(errs, fmt.Errorf(`decimal %q: want "." or ","`, p.Decimal))
	}
	if f.thousands != "" && !slices.Contains(thousandsSeparators, f.thousands) {
		errs = append(errs, fmt.Errorf(`thousands %q: want one of ".", ",", " " or "'"`, p.Thousands))
	}
	if f.thousands == f.decimal {
		errs = append(errs, fmt.Errorf("thousands %q is also the decimal mark; they must differ", p.Thousands))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if f == (numberFormat{decimal: "."}) {
		return convertNumber, nil
	}
	switch {
	case f.decimal == "." && f.thousands == "":
		f.want = plainNumberWant
	case f.thousands == "":
		f.want = fmt.Sprintf("a number with %q as decimal mark and no thousands separators", f.decimal)
	default:
		f.want = fmt.Sprintf("a number with %q as decimal mark and %q between thousands", f.decimal, f.thousands)
	}
	if f.percent {
		f.want += `, optionally followed by "%"`
	}
	return f.convert, nil
}

// convert parses c strictly: an optional '-', the integer part, and
// optionally the decimal mark followed by digits. With a thousands
// separator, the integer part is either plain digits or correctly grouped
// digits (1 to 3, then groups of exactly 3), so "12.34.5" is rejected.
func (f numberFormat) convert(c string) (string, string) {
	s := strings.TrimSpace(c)
	if f.percent {
		if rest, ok := strings.CutSuffix(s, "%"); ok {
			s = strings.TrimRightFunc(rest, unicode.IsSpace)
		}
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, hasDec := strings.Cut(s, f.decimal)
	if hasDec && !isDigits(frac) {
		return "", f.want
	}
	digits, ok := f.integer(intPart)
	if !ok {
		return "", f.want
	}
	var b strings.Builder
	b.Grow(len(digits) + len(frac) + 2)
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(digits)
	if hasDec {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String(), ""
}

// integer returns the digits of an integer part written with f's thousands
// separator.
func (f numberFormat) integer(s string) (string, bool) {
	if f.thousands == "" {
		return s, isDigits(s)
	}
	if f.thousands == " " {
		// Spreadsheets group with a no-break or narrow no-break space.
		s = strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s)
	}
	if !strings.Contains(s, f.thousands) {
		return s, isDigits(s)
	}
	groups := strings.Split(s, f.thousands)
	if n := len(groups[0]); n < 1 || n > 3 {
		return "", false
	}
	for i, g := range groups {
		if !isDigits(g) || (i > 0 && len(g) != 3) {
			return "", false
		}
	}
	return strings.Join(groups, ""), true
}

// convertNumber accepts what HubSpot accepts for a number property: an
// optional leading minus, digits, and optionally one decimal point followed
// by digits. Thousands separators and exponents are rejected so that
// "1,234.50" never becomes 1.
func convertNumber(c string) (string, string) {
	s := strings.TrimSpace(c)
	intPart, frac, hasDot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if !isDigits(intPart) || (hasDot && !isDigits(frac)) {
		return "", plainNumberWant
	}
	return s, ""
}

func convertBool(c string) (string, string) {
	switch strings.ToLower(strings.TrimSpace(c)) {
	case "true", "yes", "y", "1":
		return "true", ""
	case "false", "no", "n", "0":
		return "false", ""
	}
	return "", "a boolean (true/false, yes/no, 1/0)"
}

// Dates.

// Format names `format:` and `formats:` accept besides Go layouts.
const (
	FormatISO     = "iso"      // 2006-01-02
	FormatUS      = "us"       // 01/02/2006, month first; 1/2/2006 is accepted too
	FormatEU      = "eu"       // 02/01/2006, day first; 2/1/2006 is accepted too
	FormatEpochMS = "epoch_ms" // milliseconds since 1970-01-01 UTC
)

// namedFormats maps a format name to its Go layout and how messages show it.
var namedFormats = map[string]struct{ layout, shown string }{
	FormatISO: {time.DateOnly, `"2006-01-02" (iso)`},
	FormatUS:  {"1/2/2006", `"01/02/2006" (us, month first)`},
	FormatEU:  {"2/1/2006", `"02/01/2006" (eu, day first)`},
}

// dateFormat is one way a date column writes its dates.
type dateFormat struct {
	layout string // Go layout; "" for epoch_ms
	epoch  bool
	shown  string // in messages
	fast   *dateOnly
}

func parseDateFormat(s string) (dateFormat, error) {
	if s == FormatEpochMS {
		return dateFormat{epoch: true, shown: "epoch_ms (milliseconds since 1970-01-01 UTC)"}, nil
	}
	if n, ok := namedFormats[s]; ok {
		return dateFormat{layout: n.layout, shown: n.shown, fast: compileDateOnly(n.layout)}, nil
	}
	if err := checkLayout(s); err != nil {
		return dateFormat{}, err
	}
	return dateFormat{layout: s, shown: strconv.Quote(s), fast: compileDateOnly(s)}, nil
}

// dateOnly reads a layout of the form F S F S F, where the fields F are
// 2006, 01 and 02 in some order and the separators S are single characters
// from "/-. ", without time.Parse, which dominates the cost of mapping a
// row with a date. It accepts exactly what time.Parse accepts and writes
// what Format(time.DateOnly) writes (a fuzz target compares them).
type dateOnly struct {
	order [3]byte // 'y', 'm' and 'd' in the layout's order
	sep   [2]byte
}

func compileDateOnly(layout string) *dateOnly {
	var d dateOnly
	rest := layout
	for i := range 3 {
		if i > 0 {
			if rest == "" || !strings.ContainsRune("/-. ", rune(rest[0])) {
				return nil
			}
			d.sep[i-1], rest = rest[0], rest[1:]
		}
		switch {
		case strings.HasPrefix(rest, "2006"):
			d.order[i], rest = 'y', rest[4:]
		case strings.HasPrefix(rest, "01"):
			d.order[i], rest = 'm', rest[2:]
		case strings.HasPrefix(rest, "02"):
			d.order[i], rest = 'd', rest[2:]
		default:
			return nil
		}
	}
	if rest != "" || d.order[0] == d.order[1] || d.order[1] == d.order[2] || d.order[0] == d.order[2] {
		return nil
	}
	return &d
}

// convert returns s as YYYY-MM-DD, or false if time.Parse would refuse it.
func (d *dateOnly) convert(s string) (string, bool) {
	if len(s) != 10 {
		return "", false
	}
	var out [10]byte
	out[4], out[7] = '-', '-'
	pos := 0
	for i, f := range d.order {
		if i > 0 {
			if s[pos] != d.sep[i-1] {
				return "", false
			}
			pos++
		}
		n, at := 2, 5 // where the field goes in YYYY-MM-DD
		switch f {
		case 'y':
			n, at = 4, 0
		case 'd':
			at = 8
		}
		for k := range n {
			c := s[pos+k]
			if c < '0' || c > '9' {
				return "", false
			}
			out[at+k] = c
		}
		pos += n
	}
	if v := string(out[:]); hubspot.CalendarDay(v) {
		return v, true
	}
	return "", false
}

func (f dateFormat) parse(s string) (time.Time, bool) {
	if !f.epoch {
		t, err := time.Parse(f.layout, s)
		return t, err == nil
	}
	digits := strings.TrimPrefix(s, "-")
	if !isDigits(digits) {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

func (f dateFormat) format(t time.Time) string {
	if f.epoch {
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	return t.Format(f.layout)
}

// dateConverter converts a cell written in one of its formats, tried in
// order, to HubSpot's form: YYYY-MM-DD for a date, ISO 8601 in UTC with
// milliseconds for a datetime.
type dateConverter struct {
	formats  []dateFormat
	datetime bool
	want     string
}

func newDateConverter(p PropertySpec) (converter, error) {
	d := &dateConverter{datetime: p.Type == TypeDatetime}
	names := p.Formats
	switch {
	case len(names) > 0:
	case p.Format != "":
		names = []string{p.Format}
	case d.datetime:
		names = []string{time.RFC3339}
	default:
		names = []string{time.DateOnly}
	}
	var errs []error
	for _, n := range names {
		f, err := parseDateFormat(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.formats = append(d.formats, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := d.checkAmbiguity(); err != nil {
		return nil, err
	}
	what := "a date"
	if d.datetime {
		what = "a date and time"
	}
	if len(d.formats) == 1 {
		d.want = what + " in the format " + d.formats[0].shown
	} else {
		shown := make([]string, len(d.formats))
		for i, f := range d.formats {
			shown[i] = f.shown
		}
		d.want = what + " in one of the formats " + strings.Join(shown, ", ")
	}
	if !d.datetime && slices.ContainsFunc(d.formats, func(f dateFormat) bool { return f.epoch }) {
		d.want += " (epoch_ms dates must be at midnight UTC)"
	}
	return d.convert, nil
}

func (d *dateConverter) convert(c string) (string, string) {
	s := strings.TrimSpace(c)
	for _, f := range d.formats {
		if v, ok := d.convertWith(f, s); ok {
			return v, ""
		}
	}
	return "", d.want
}

// convertWith converts s written in format f, or reports false.
func (d *dateConverter) convertWith(f dateFormat, s string) (string, bool) {
	if f.fast != nil && !d.datetime {
		return f.fast.convert(s)
	}
	t, ok := f.parse(s)
	if !ok {
		return "", false
	}
	if d.datetime || f.epoch {
		t = t.UTC()
	}
	// HubSpot's forms have four-digit years: a time zone can move year 0
	// into year -1, and epoch milliseconds can go anywhere.
	if y := t.Year(); y < 0 || y > 9999 {
		return "", false
	}
	if d.datetime {
		return t.Format("2006-01-02T15:04:05.000Z"), true
	}
	if f.epoch && (t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0) {
		return "", false // HubSpot takes a date only at midnight UTC
	}
	return t.Format(time.DateOnly), true
}

// checkAmbiguity rejects a list of formats where an earlier one would read
// a value written in a later one as a different date, e.g. [us, eu]: then
// "02/03/2001" would silently become February 3 where March 2 was meant.
func (d *dateConverter) checkAmbiguity() error {
	probes := []time.Time{
		time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		time.Date(2012, 11, 10, 13, 14, 15, 0, time.UTC),
	}
	for j, later := range d.formats {
		for _, t := range probes {
			s := later.format(t)
			want, ok := d.convertWith(later, s)
			if !ok {
				continue
			}
			for _, earlier := range d.formats[:j] {
				if got, ok := d.convertWith(earlier, s); ok && got != want {
					return fmt.Errorf("formats %s and %s read %q as different dates (%s and %s): list only one of them",
						earlier.shown, later.shown, s, got, want)
				}
			}
		}
	}
	return nil
}

// checkLayout rejects a Go time layout that has no reference-time element,
// which would parse nothing, or that lacks the year, the month or the day,
// which would turn every value into a wrong date.
func checkLayout(layout string) error {
	other := time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC)
	if other.Format(layout) == layout {
		return fmt.Errorf("format %q is neither a format name (iso, us, eu, epoch_ms) nor a Go layout with date elements (use Go's reference date, e.g. \"01/02/2006\")", layout)
	}
	// Shifts that keep the weekday, so that "Mon" does not stand in for
	// the element it lacks: the calendar repeats every 28 years (within
	// 1901-2099), and February 2001 has 28 days.
	base := time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		what string
		t    time.Time
	}{
		{"year", base.AddDate(28, 0, 0)},
		{"month", base.AddDate(0, 1, 0)},
		{"day", base.AddDate(0, 0, 7)},
	} {
		if c.t.Format(layout) == base.Format(layout) {
			return fmt.Errorf("format %q has no %s (use Go's reference date, e.g. \"01/02/2006\")", layout, c.what)
		}
	}
	return nil
}

// Multi-select (checkbox enumeration) values.

// multiSeparator is what HubSpot puts between the values of a multi-select
// property.
const multiSeparator = ";"

func newMultiConverter(p PropertySpec) (converter, error) {
	sep := p.Separator
	if sep == "" {
		sep = multiSeparator
	}
	labels := make([]string, 0, len(p.Values))
	internal := make(map[string]bool, len(p.Values))
	var errs []error
	for _, label := range sortedKeys(p.Values) {
		v := p.Values[label]
		labels = append(labels, label)
		internal[v] = true
		switch {
		case strings.TrimSpace(label) != label || label == "":
			errs = append(errs, fmt.Errorf("values: label %q cannot be matched (it is empty or has surrounding spaces)", label))
		case strings.Contains(label, sep):
			errs = append(errs, fmt.Errorf("values: label %q contains the separator %q", label, sep))
		}
		switch {
		case v == "":
			errs = append(errs, fmt.Errorf("values: label %q maps to an empty value", label))
		case strings.Contains(v, multiSeparator):
			errs = append(errs, fmt.Errorf("values: value %q contains %q, which HubSpot puts between values", v, multiSeparator))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	list := fmt.Sprintf("a %q-separated list of the mapped labels %s", sep, quoteList(labels))
	return func(c string) (string, string) {
		var out []string
		for rest, more := c, true; more; {
			var part string
			part, rest, more = strings.Cut(rest, sep)
			part = strings.TrimSpace(part)
			if part == "" {
				return "", list + " (with no empty parts)"
			}
			v, ok := p.Values[part]
			if !ok {
				if !internal[part] {
					return "", fmt.Sprintf("%s (%q is not one)", list, part)
				}
				v = part
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return strings.Join(out, multiSeparator), ""
	}, nil
}
