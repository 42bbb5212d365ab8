package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zone: reads the same on every machine
	"unicode"

	"github.com/lineitems/importer/internal/casefold"
	"github.com/lineitems/importer/internal/hubspot"
)

// converter turns a non-empty cell into HubSpot's string form. On failure
// it says what was expected (never "" then) and, when the cell looks like a
// known mistake, a hint at what to change.
type converter func(cell string) (value string, bad failure)

// failure is why a converter refused a cell.
type failure struct {
	expected string // what was expected, e.g. "a plain number"; "" for success
	hint     string // what to change, or ""
}

func (f failure) failed() bool { return f.expected != "" }

// convertString sends a text cell as it is.
func convertString(c string) (string, failure) { return c, failure{} }

// newConverter builds the converter of property name as p says. It fails,
// naming every problem, when p's settings cannot convert anything (a date
// layout without a year, an unknown format name, a decimal mark equal to
// the thousands separator, ...). Checks of which keys go with which type
// are in [newProperty].
func newConverter(name string, p PropertySpec) (converter, error) {
	switch p.Type {
	case "", TypeString:
		return convertString, nil
	case TypeNumber:
		return newNumberConverter(name, p)
	case TypeBool:
		return convertBool, nil
	case TypeDate, TypeDatetime:
		return newDateConverter(p)
	case TypeEnum:
		o := newOptions(p.Values)
		want := "one of the mapped labels " + quoteList(o.labels)
		return func(c string) (string, failure) {
			c = strings.TrimSpace(c)
			v, ok, ambiguous := o.match(c)
			if ok {
				return v, failure{}
			}
			return "", failure{want, o.hint(c, ambiguous)}
		}, nil
	case TypeMulti:
		return newMultiConverter(p)
	}
	return nil, fmt.Errorf("unknown type %q", p.Type)
}

// Enumerations.

// options are the options of type enum or multi (values: label → internal
// value), indexed for matching a cell, by this rule:
//
//  1. A cell (without surrounding white space) equal to a label is sent as
//     the label's value; else a cell equal to an internal value is sent
//     as it is.
//  2. Otherwise a cell equal to a label or an internal value when case is
//     ignored (strings.EqualFold) is sent as that option's value, unless it
//     so matches options with different values: then it is refused, and
//     the message names them.
//
// Schema.Normalize applies the same rule to the portal's options.
type options struct {
	folded  map[string][]string // casefold.Fold(label or value) → the labels and values it matches, when they mean different values
	unique  map[string]string   // casefold.Fold(label or value) → the value, when all it matches mean one
	labels  []string            // sorted
	names   []string            // labels, then internal values not among them: for "did you mean"
	meaning map[string]string   // name → the value it is sent as (a label's value, or an internal value itself)
}

func newOptions(values map[string]string) *options {
	o := &options{folded: map[string][]string{}, unique: make(map[string]string, 2*len(values))}
	o.labels = sortedKeys(values)
	o.names = append([]string(nil), o.labels...)
	byFold := map[string][]string{} // fold → names, in o.names order
	meaning := make(map[string]string, 2*len(values))
	o.meaning = meaning
	for _, l := range o.labels {
		meaning[l] = values[l]
	}
	for _, l := range o.labels {
		v := values[l]
		if _, known := meaning[v]; !known { // neither a label nor already added
			o.names = append(o.names, v)
			meaning[v] = v
		}
	}
	for _, n := range o.names {
		k := casefold.Fold(n)
		byFold[k] = append(byFold[k], n)
	}
	for k, names := range byFold {
		v := meaning[names[0]]
		one := true
		for _, n := range names[1:] {
			one = one && meaning[n] == v
		}
		if one {
			o.unique[k] = v
		} else {
			o.folded[k] = names
		}
	}
	return o
}

// match returns the value c is sent as; ok is false when c matches no
// option, and ambiguous then lists the labels or values c matches ignoring
// case when they mean different values.
func (o *options) match(c string) (value string, ok bool, ambiguous []string) {
	if v, ok := o.meaning[c]; ok { // a label first: meaning maps labels to their values
		return v, true, nil
	}
	k := casefold.Fold(c)
	if v, ok := o.unique[k]; ok {
		return v, true, nil
	}
	return "", false, o.folded[k]
}

// hint says why c matched no option: it matches several ignoring case, or
// it is close to one ("did you mean").
func (o *options) hint(c string, ambiguous []string) string {
	if len(ambiguous) > 0 {
		return fmt.Sprintf("ignoring case it matches %s, which mean different values; write it exactly as one of them",
			joinAnd(quoteEach(ambiguous)))
	}
	if s := o.closest(c); len(s) > 0 {
		return "did you mean " + joinOr(quoteEach(s)) + "?"
	}
	return ""
}

// closest returns the labels or values closest to c, one per value they
// mean (a label rather than its own value).
func (o *options) closest(c string) []string {
	var out, seen []string
	for _, n := range closest(c, o.names) {
		if v := o.meaning[n]; !slices.Contains(seen, v) {
			seen = append(seen, v)
			out = append(out, n)
		}
	}
	return out
}

func quoteEach(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return q
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

const (
	plainNumberWant = "a plain number (digits with an optional '-' and one '.', no thousands separators or exponents)"
	// plainNumberShort is plainNumberWant when a hint explains more.
	plainNumberShort = "a plain number"
)

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
	// currency is a symbol or code accepted (and dropped) right before or
	// after the number, with optional white space between: "$12.00",
	// "-$12.00", "$-12.00", "12,00 €".
	currency string
	want     string
	hints    hintContext
}

func newNumberConverter(name string, p PropertySpec) (converter, error) {
	f := numberFormat{decimal: p.Decimal, thousands: p.Thousands, percent: p.Percent, currency: p.Currency,
		hints: hintContext{spec: p, name: name}}
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
	if err := checkCurrency(p.Currency); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if f.decimal == "." && f.thousands == "" && !f.percent && f.currency == "" {
		f.want = plainNumberWant
		return func(c string) (string, failure) {
			if v, ok := convertNumber(c); ok {
				return v, failure{}
			}
			return f.refuse(c)
		}, nil
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
	if f.currency != "" {
		f.want += fmt.Sprintf(", optionally with %q before or after it", f.currency)
	}
	return f.convert, nil
}

// checkCurrency checks the value of `currency:`: a symbol or code with no
// digits, signs or white space, so that it cannot take part of a number.
func checkCurrency(cur string) error {
	if cur == "" {
		return nil
	}
	if strings.ContainsFunc(cur, func(r rune) bool {
		return unicode.IsDigit(r) || unicode.IsSpace(r) || isTrimmed(r) || strings.ContainsRune("-+.,'%", r)
	}) {
		return fmt.Errorf(`currency %q: want a symbol or code such as "$", "€" or "EUR", without digits, signs, separators or spaces`, cur)
	}
	return nil
}

// convert converts c as f says, and says what to change in the mapping or
// the cell when it cannot.
func (f numberFormat) convert(c string) (string, failure) {
	if v, ok := f.parse(c); ok {
		return v, failure{}
	}
	return f.refuse(c)
}

// refuse says what to change in the mapping or the cell for a c that f
// cannot read.
func (f numberFormat) refuse(c string) (string, failure) {
	if h := f.hints.numberHint(c); h != "" {
		return "", failure{strings.Replace(f.want, plainNumberWant, plainNumberShort, 1), h}
	}
	return "", failure{expected: f.want}
}

// parse reads c strictly: an optional '-', the integer part, and
// optionally the decimal mark followed by digits. With a thousands
// separator, the integer part is either plain digits or correctly grouped
// digits (1 to 3, then groups of exactly 3), so "12.34.5" is rejected.
func (f numberFormat) parse(c string) (string, bool) {
	s := strings.TrimSpace(c)
	if f.percent {
		if rest, ok := strings.CutSuffix(s, "%"); ok {
			s = strings.TrimRightFunc(rest, unicode.IsSpace)
		}
	}
	if f.currency != "" {
		s = f.cutCurrency(s)
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, hasDec := strings.Cut(s, f.decimal)
	if hasDec && !isDigits(frac) {
		return "", false
	}
	digits, ok := f.integer(intPart)
	if !ok {
		return "", false
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
	return b.String(), true
}

// cutCurrency removes f's currency from before the number (after a '-', or
// before it) or from after it, with the white space between.
func (f numberFormat) cutCurrency(s string) string {
	rest, neg := strings.CutPrefix(s, "-")
	if r, ok := strings.CutPrefix(rest, f.currency); ok {
		r = strings.TrimLeftFunc(r, unicode.IsSpace)
		if neg {
			if strings.HasPrefix(r, "-") {
				return s // "-$-1": left for the parser to refuse
			}
			return "-" + r
		}
		return r
	}
	if r, ok := strings.CutSuffix(s, f.currency); ok {
		return strings.TrimRightFunc(r, unicode.IsSpace)
	}
	return s
}

// integer returns the digits of an integer part written with f's thousands
// separator.
// noBreakSpaces turns the no-break and narrow no-break spaces with which
// spreadsheets group digits into plain spaces.
var noBreakSpaces = strings.NewReplacer("\u00a0", " ", "\u202f", " ")

// GroupedThousands reports whether s is an integer written with "."
// between groups of three digits, as type number with thousands: "."
// reads it: an optional "-", 1 to 3 digits not starting with 0, then one
// or more groups of "." and 3 digits ("1.234", "-12.345.678"). Where the
// decimal mark may be a comma, such a value reads two ways.
func GroupedThousands(s string) bool {
	s = strings.TrimPrefix(s, "-")
	_, ok := numberFormat{thousands: "."}.integer(s)
	return ok && strings.Contains(s, ".")
}

func (f numberFormat) integer(s string) (string, bool) {
	if f.thousands == "" {
		return s, isDigits(s)
	}
	if f.thousands == " " {
		// Spreadsheets group with a no-break or narrow no-break space.
		s = noBreakSpaces.Replace(s)
	}
	if !strings.Contains(s, f.thousands) {
		return s, isDigits(s)
	}
	groups := strings.Split(s, f.thousands)
	if n := len(groups[0]); n < 1 || n > 3 || groups[0][0] == '0' {
		return "", false // "0.125" is no grouped integer (it would send 0125)
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
func convertNumber(c string) (string, bool) {
	s := strings.TrimSpace(c)
	intPart, frac, hasDot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if !isDigits(intPart) || (hasDot && !isDigits(frac)) {
		return "", false
	}
	return s, true
}

func convertBool(c string) (string, failure) {
	switch strings.ToLower(strings.TrimSpace(c)) {
	case "true", "yes", "y", "1":
		return "true", failure{}
	case "false", "no", "n", "0":
		return "false", failure{}
	}
	return "", failure{expected: "a boolean (true/false, yes/no, 1/0)"}
}

// Dates.

// Format names `format:` and `formats:` accept besides Go layouts.
const (
	FormatISO     = "iso"      // 2006-01-02
	FormatUS      = "us"       // 01/02/2006, month first; 1/2/2006 is accepted too
	FormatEU      = "eu"       // 02/01/2006, day first; 2/1/2006 is accepted too
	FormatEpochMS = "epoch_ms" // milliseconds since 1970-01-01 UTC
)

// formatNames are the format names, for "did you mean".
var formatNames = []string{FormatISO, FormatUS, FormatEU, FormatEpochMS}

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
	loc    *time.Location // of a value without an offset; nil means UTC
	offset bool           // the layout has an offset: loc is not used
}

// hasOffset reports whether a layout says the zone of its values: an
// offset element ("-0700", "Z07:00"; the same wall clock in two zones then
// reads differently), or a literal "Z", which says UTC ("Z" is in no other
// layout element).
func hasOffset(layout string) bool {
	a := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	b := time.Date(2001, 2, 3, 4, 5, 6, 0, time.FixedZone("", 5*3600+1800))
	return strings.Contains(layout, "Z") || a.Format(layout) != b.Format(layout)
}

// zoneAbbreviation reports whether a layout reads a time zone by its
// abbreviation ("MST"), which time.Parse resolves by the machine's own
// zone.
func zoneAbbreviation(layout string) bool {
	const probe = "QZXQ"
	return strings.Contains(time.Date(2001, 2, 3, 4, 5, 6, 0, time.FixedZone(probe, 3600)).Format(layout), probe) && !strings.Contains(layout, probe)
}

// inZone returns the instant at which the clocks of loc show wall's wall
// clock (wall is read as UTC). problem is not "" when there is no such
// instant, or more than one: at a change of daylight saving time the
// clocks skip an hour, or show it twice, and a value there is refused
// rather than guessed.
func inZone(wall time.Time, loc *time.Location) (t time.Time, problem string) {
	t = time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc)
	same := func(u time.Time) bool {
		u = u.In(loc)
		return time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond(), time.UTC).Equal(wall)
	}
	if !same(t) {
		return t, fmt.Sprintf("the clocks of %s skip this time (a change of offset, such as to daylight saving time)", loc)
	}
	// The wall clock may also be shown at another instant, under the
	// offset of the period before t's or the one after it: the clocks
	// went back, and show it twice.
	var near []time.Time
	start, end := t.ZoneBounds()
	if !start.IsZero() {
		near = append(near, start.Add(-time.Nanosecond))
	}
	if !end.IsZero() {
		near = append(near, end)
	}
	for _, n := range near {
		_, off := n.Zone()
		if u := wall.Add(-time.Duration(off) * time.Second); !u.Equal(t) && same(u) {
			return t, fmt.Sprintf("the clocks of %s show this time twice (a change of offset, such as from daylight saving time); write it with its offset", loc)
		}
	}
	return t, ""
}

func parseDateFormat(s string) (dateFormat, error) {
	if s == FormatEpochMS {
		return dateFormat{epoch: true, shown: "epoch_ms (milliseconds since 1970-01-01 UTC)"}, nil
	}
	if n, ok := namedFormats[s]; ok {
		return dateFormat{layout: n.layout, shown: n.shown, fast: compileDateOnly(n.layout)}, nil
	}
	if err := checkLayout(s); err != nil {
		return dateFormat{}, fmt.Errorf("%w%s", err, suggestion(s, formatNames))
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
		if err != nil || f.loc == nil || f.offset {
			return t, err == nil
		}
		t, problem := inZone(t, f.loc)
		return t, problem == ""
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
	what     string // "a date" or "a date and time"
	want     string // what, in which formats
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
	for _, f := range d.formats {
		if d.datetime && !f.epoch && zoneAbbreviation(f.layout) {
			errs = append(errs, fmt.Errorf("format %q reads a time zone by its abbreviation (MST), which Go resolves by the machine's own zone (CET is an hour ahead of UTC on a machine in Berlin, and read as UTC elsewhere): "+
				"use a numeric offset (\"-0700\", \"Z07:00\"), or leave the zone out and name it with the key zone", f.layout))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if p.Zone != "" {
		loc, err := loadZone(p.Zone)
		if err != nil {
			return nil, err
		}
		for i := range d.formats {
			d.formats[i].loc = loc
			d.formats[i].offset = !d.formats[i].epoch && hasOffset(d.formats[i].layout)
		}
	}
	if err := d.checkAmbiguity(); err != nil {
		return nil, err
	}
	d.what = "a date"
	if d.datetime {
		d.what = "a date and time"
	}
	if len(d.formats) == 1 {
		d.want = d.what + " in the format " + d.formats[0].shown
	} else {
		shown := make([]string, len(d.formats))
		for i, f := range d.formats {
			shown[i] = f.shown
		}
		d.want = d.what + " in one of the formats " + strings.Join(shown, ", ")
	}
	if !d.datetime && slices.ContainsFunc(d.formats, func(f dateFormat) bool { return f.epoch }) {
		d.want += " (epoch_ms dates must be at midnight UTC)"
	}
	return d.convert, nil
}

func (d *dateConverter) convert(c string) (string, failure) {
	s := strings.TrimSpace(c)
	for _, f := range d.formats {
		if v, ok := d.convertWith(f, s); ok {
			return v, failure{}
		}
	}
	for _, f := range d.formats {
		if f.loc == nil || f.offset || f.epoch {
			continue
		}
		if wall, err := time.Parse(f.layout, s); err == nil {
			if _, problem := inZone(wall, f.loc); problem != "" {
				return "", failure{d.what, problem}
			}
		}
	}
	for _, f := range d.formats {
		switch field, hint := f.impossible(s); field {
		case "day":
			// Written in the format, but the day does not exist: the
			// format is not the problem.
			return "", failure{d.what, hint}
		case "month":
			return "", failure{d.want, hint}
		}
	}
	return "", failure{expected: d.want}
}

// maxDateLen is the longest cell impossible looks at.
const maxDateLen = 64

// impossible explains why s, written in format f, names no day, when the
// only thing wrong with it is the number of the day or of the month:
// field is "day" ("February 2024 has no day 30") or "month" ("there is
// no month 13"), with the explanation in hint. field is "" otherwise.
func (f dateFormat) impossible(s string) (field, hint string) {
	if f.epoch || len(s) > maxDateLen {
		return "", ""
	}
	_, err := time.Parse(f.layout, s)
	var pe *time.ParseError
	if !errors.As(err, &pe) {
		return "", ""
	}
	switch pe.Message {
	case ": day out of range":
		t, n, ok := withNumberOne(f.layout, s, 28, func(t time.Time) bool { return t.Day() == 1 })
		if !ok {
			return "", ""
		}
		return "day", DayHint(t.Year(), t.Month(), n)
	case ": month out of range":
		_, n, ok := withNumberOne(f.layout, s, 12, func(t time.Time) bool { return t.Month() == time.January })
		if !ok {
			return "", ""
		}
		hint = fmt.Sprintf("there is no month %d", n)
		if layout, name, first := f.swapped(); layout != "" {
			if t, err := time.Parse(layout, s); err == nil {
				hint += fmt.Sprintf("; if the %s comes first (format: %s), it is %s", first, name, t.Format(time.DateOnly))
			}
		}
		return "month", hint
	}
	return "", ""
}

// DayHint says that day n of a month does not exist: "February 2024 has
// no day 30", "February 2023 has no day 29 (2023 is not a leap year)".
func DayHint(year int, month time.Month, n int) string {
	h := fmt.Sprintf("%s %d has no day %d", month, year, n)
	if month == time.February && n == 29 {
		h += fmt.Sprintf(" (%d is not a leap year)", year)
	}
	return h
}

// withNumberOne finds the number in s that makes it fail to parse with
// layout: a run of one or two digits above limit (or 0) that, replaced by
// 1 (or 01), lets s parse into a time for which check holds. It returns
// that time and the number.
func withNumberOne(layout, s string, limit int, check func(time.Time) bool) (time.Time, int, bool) {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			i++
			continue
		}
		if n, _ := strconv.Atoi(s[i:j]); j-i <= 2 && (n == 0 || n > limit) {
			one := "01"[2-(j-i):]
			if t, err := time.Parse(layout, s[:i]+one+s[j:]); err == nil && check(t) {
				return t, n, true
			}
		}
		i = j
	}
	return time.Time{}, 0, false
}

// swapped returns the layout that reads f's dates with the day and the
// month the other way round (us and eu, "01/02/2006" and "02/01/2006"),
// its name as `format:` takes it, and which of the two ("day" or "month")
// comes first in it; layout is "" when there is none to suggest.
func (f dateFormat) swapped() (layout, name, first string) {
	switch f.layout {
	case namedFormats[FormatUS].layout:
		return namedFormats[FormatEU].layout, FormatEU, "day"
	case namedFormats[FormatEU].layout:
		return namedFormats[FormatUS].layout, FormatUS, "month"
	default:
		if f.fast == nil || f.fast.order[0] == 'y' {
			return "", "", "" // YYYY-DD-MM is too rare to suggest
		}
		d := *f.fast
		for i, c := range d.order {
			switch c {
			case 'm':
				d.order[i] = 'd'
			case 'd':
				d.order[i] = 'm'
			}
		}
		first = "day"
		if slices.Index(d.order[:], 'm') < slices.Index(d.order[:], 'd') {
			first = "month"
		}
		return d.layout(), strconv.Quote(d.layout()), first
	}
}

// layout returns the Go layout d reads.
func (d dateOnly) layout() string {
	var b strings.Builder
	for i, c := range d.order {
		if i > 0 {
			b.WriteByte(d.sep[i-1])
		}
		switch c {
		case 'y':
			b.WriteString("2006")
		case 'm':
			b.WriteString("01")
		case 'd':
			b.WriteString("02")
		}
	}
	return b.String()
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

// loadZone returns the time zone named name in the IANA database, which
// the binary carries (time/tzdata), so that it reads the same on every
// machine. "Local", the machine's own zone, is refused for that reason.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New(`zone "Local" is the machine's own time zone, so a move of the job to another machine would change the times sent: name the zone, e.g. "Europe/Berlin"`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("zone %q is not a time zone of the IANA database (e.g. \"Europe/Berlin\", \"America/New_York\", \"UTC\")", name)
	}
	return loc, nil
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
	var errs []error
	for _, label := range sortedKeys(p.Values) {
		v := p.Values[label]
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
	o := newOptions(p.Values)
	list := fmt.Sprintf("a %q-separated list of the mapped labels %s", sep, quoteList(o.labels))
	return func(c string) (string, failure) {
		var out []string
		var bad []string // parts that match no option
		for rest, more := c, true; more; {
			var part string
			part, rest, more = strings.Cut(rest, sep)
			part = strings.TrimSpace(part)
			if part == "" {
				return "", failure{expected: list + " (with no empty parts)"}
			}
			v, ok, _ := o.match(part)
			if !ok {
				if !slices.Contains(bad, part) {
					bad = append(bad, part)
				}
				continue
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		switch {
		case len(bad) == 1:
			_, _, ambiguous := o.match(bad[0])
			return "", failure{fmt.Sprintf("%s (%q is not one)", list, bad[0]), o.hint(bad[0], ambiguous)}
		case len(bad) > 1:
			return "", failure{fmt.Sprintf("%s (%s are not)", list, joinAnd(quoteEach(bad))), partHints(bad, o)}
		}
		return strings.Join(out, multiSeparator), failure{}
	}, nil
}

// partHints says what several parts of a multi cell that match no option
// may have meant: `did you mean "Red" for "Rd" and "Blue" for "Blu"?`,
// and which match several options ignoring case.
func partHints(bad []string, o *options) string {
	var guesses, ambiguous []string
	for _, part := range bad {
		if _, _, amb := o.match(part); len(amb) > 0 {
			ambiguous = append(ambiguous, fmt.Sprintf("%q matches %s", part, joinAnd(quoteEach(amb))))
		} else if s := o.closest(part); len(s) > 0 {
			guesses = append(guesses, fmt.Sprintf("%s for %q", joinOr(quoteEach(s)), part))
		}
	}
	var hints []string
	if len(guesses) > 0 {
		hints = append(hints, "did you mean "+joinAnd(guesses)+"?")
	}
	if len(ambiguous) > 0 {
		hints = append(hints, "ignoring case "+joinAnd(ambiguous)+", which mean different values; write each exactly as one of them")
	}
	return strings.Join(hints, "; ")
}
