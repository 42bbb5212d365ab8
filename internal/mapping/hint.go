package mapping

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hints for numbers written the way spreadsheets and locales write them.
//
// A cell that type number refuses is read again, leniently, by readNumber:
// it guesses the decimal mark and the thousands separator from where they
// stand, and notices a currency symbol, a percent sign, invisible
// characters at the edges, a leading "+", parentheses for a negative
// number, a decimal mark without digits on one side and an exponent. The
// hint then names the options of type number that read the cell (decimal,
// thousands, percent, currency, trim), or, when no option does, how to
// write the cell.

// NumberHint says what to change so that value, refused by HubSpot for a
// number property, is read as the number it looks like. It is for a value
// mapped as text (a plain "property: Column" mapping), so it names the
// options of type number to map it with, e.g. for "1 234,50":
//
//	it looks like a decimal comma with spaces between thousands; map it with type: number, decimal: "," and thousands: " "
//
// or, when no option reads the value, how to write it, e.g. for "12e3":
//
//	it has an exponent, which no option reads; write it as 12000
//
// It returns "" when value does not look like a number.
func NumberHint(value string) string {
	return hintContext{asText: true}.numberHint(value)
}

// hintContext is where a number hint is given: the column's options of
// type number, and how to phrase a change to them.
type hintContext struct {
	spec   PropertySpec // the property's mapping (zero when asText)
	name   string       // the property, named in "the mapping of NAME"
	asText bool         // the value was mapped as text: say "map it with type: number, ..."
}

// numberReading is how a cell reads as a number under the lenient reading.
type numberReading struct {
	decimal   string // the decimal mark, "." or ",", when there is a fraction
	thousands string // the separator between groups of three digits, if any
	// ambiguous is set for one "," or "." followed by exactly three
	// digits: thousands holds it (reading 1,234 as 1234), and it could as
	// well be a decimal mark (1.234).
	ambiguous bool
	percent   bool   // a trailing "%"
	currency  string // a currency symbol or code before or after the number
	trim      bool   // invisible characters at the edges
	neg       bool
	intPart   string // digits, without separators
	frac      string // digits after the decimal mark
	// oddity is what no option reads ("a leading \"+\"", "an exponent",
	// ...); the cell must then be written as the plain number.
	oddity string
}

// maxHintLen is the longest cell a hint is looked for: longer ones are not
// numbers anyone wrote by hand or by spreadsheet.
const maxHintLen = 64

// readNumber reads cell leniently; ok is false when it does not look like
// a number at all.
func readNumber(cell string) (r numberReading, ok bool) {
	s := strings.TrimSpace(cell)
	if t := trimCell(s); t != s {
		r.trim, s = true, t
	}
	if s == "" || len(s) > maxHintLen || !utf8.ValidString(s) {
		return r, false
	}
	if rest, ok := strings.CutSuffix(s, "%"); ok {
		r.percent, s = true, strings.TrimRightFunc(rest, unicode.IsSpace)
	}
	paren := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") && len(s) > 2 {
		paren, s = true, strings.TrimSpace(s[1:len(s)-1])
	}
	s, neg, plus := cutSign(s)
	if sym, rest := currencyPrefix(s); sym != "" {
		r.currency, s = sym, strings.TrimLeftFunc(rest, unicode.IsSpace)
		if !neg && !plus {
			s, neg, plus = cutSign(s)
		}
	} else if sym, rest := currencySuffix(s); sym != "" {
		r.currency, s = sym, strings.TrimRightFunc(rest, unicode.IsSpace)
	}
	if paren && (neg || plus) {
		return r, false
	}
	r.neg = neg || paren
	switch {
	case paren:
		r.oddity = "parentheses for a negative number"
	case plus:
		r.oddity = `a leading "+"`
	}
	if ip, frac, ok := expandExponent(s); ok {
		r.intPart, r.frac = ip, frac
		r.oddity = "an exponent"
		return r, true
	}
	if !r.readDigits(s) {
		return r, false
	}
	return r, true
}

// cutSign removes a leading "-" or "+".
func cutSign(s string) (rest string, neg, plus bool) {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return rest, true, false
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		return rest, false, true
	}
	return s, false, false
}

// currencyPrefix returns the currency symbol or code s starts with, and the
// rest of s.
func currencyPrefix(s string) (sym, rest string) {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !currencyRune(r) {
			break
		}
		i += n
	}
	if isCurrency(s[:i]) {
		return s[:i], s[i:]
	}
	return "", s
}

// currencySuffix returns the currency symbol or code s ends with, and the
// rest of s.
func currencySuffix(s string) (sym, rest string) {
	i := len(s)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !currencyRune(r) {
			break
		}
		i -= n
	}
	if isCurrency(s[i:]) {
		return s[i:], s[:i]
	}
	return "", s
}

func currencyRune(r rune) bool { return unicode.Is(unicode.Sc, r) || unicode.IsLetter(r) }

// isCurrency reports whether s is a currency symbol ("$", "€", "R$", ...)
// or an ISO 4217 code ("EUR"); other words are not taken for one.
func isCurrency(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 4 {
		return false
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Sc, r) }) >= 0 {
		return true
	}
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// maxExponent bounds the exponents a hint writes out.
const maxExponent = 30

// expandExponent reads s as digits, an optional "." and digits, "e" or
// "E", an optional sign and digits, and returns the number's integer part
// and fraction written out.
func expandExponent(s string) (intPart, frac string, ok bool) {
	i := strings.IndexAny(s, "eE")
	if i <= 0 {
		return "", "", false
	}
	m, e := s[:i], s[i+1:]
	mi, mf, hasDot := strings.Cut(m, ".")
	if !isDigits(mi) || (hasDot && !isDigits(mf)) {
		return "", "", false
	}
	eDigits := strings.TrimLeft(e, "+-")
	if len(e)-len(eDigits) > 1 || !isDigits(eDigits) || len(eDigits) > 2 {
		return "", "", false
	}
	exp, _ := strconv.Atoi(eDigits)
	if exp > maxExponent {
		return "", "", false
	}
	if strings.HasPrefix(e, "-") {
		exp = -exp
	}
	digits := mi + mf
	point := len(mi) + exp // where the decimal point goes in digits
	switch {
	case point <= 0:
		intPart, frac = "0", strings.Repeat("0", -point)+digits
	case point >= len(digits):
		intPart = digits + strings.Repeat("0", point-len(digits))
	default:
		intPart, frac = digits[:point], digits[point:]
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	return intPart, strings.TrimRight(frac, "0"), true
}

// readDigits reads digits with separators (".", ",", "'", a space or a
// no-break space), guessing which is the decimal mark and which the
// thousands separator.
func (r *numberReading) readDigits(s string) bool {
	s = noBreakSpaces.Replace(s)
	var groups []string // digit runs
	var seps []byte     // the separator after each run but the last
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			continue
		}
		groups = append(groups, s[start:i])
		if i == len(s) {
			break
		}
		if !strings.ContainsRune(".,' ", rune(s[i])) {
			return false
		}
		seps = append(seps, s[i])
		start = i + 1
	}
	for i, g := range groups {
		// Only a lone decimal mark may lack digits on one side (".5", "5.").
		if g == "" && (len(seps) != 1 || (i > 0 && i < len(groups)-1)) {
			return false
		}
	}
	switch {
	case len(seps) == 0:
		r.intPart = groups[0]
		return true
	case len(seps) == 1 && (groups[0] == "" || groups[1] == ""):
		if (seps[0] != '.' && seps[0] != ',') || groups[0] == groups[1] {
			return false
		}
		r.decimal, r.intPart, r.frac = string(seps[0]), cmp.Or(groups[0], "0"), groups[1]
		r.oddity = "a decimal mark with no digits on one side"
		return true
	}
	first, last := seps[0], seps[len(seps)-1]
	for _, c := range seps[1:max(1, len(seps)-1)] {
		if c != first {
			return false
		}
	}
	switch {
	case first != last:
		// Thousands, then one decimal mark.
		if (last != '.' && last != ',') || !grouped(groups[:len(groups)-1]) {
			return false
		}
		r.thousands, r.decimal = string(first), string(last)
		r.intPart, r.frac = strings.Join(groups[:len(groups)-1], ""), groups[len(groups)-1]
	case len(seps) > 1 || first == ' ' || first == '\'':
		if !grouped(groups) {
			return false
		}
		r.thousands, r.intPart = string(first), strings.Join(groups, "")
	case len(groups[1]) == 3 && len(groups[0]) <= 3 && groups[0][0] != '0':
		// 1,234: thousands, or a decimal mark.
		r.thousands, r.ambiguous = string(first), true
		r.intPart, r.frac = groups[0]+groups[1], groups[1]
	default:
		r.decimal, r.intPart, r.frac = string(first), groups[0], groups[1]
	}
	return true
}

// grouped reports whether digit runs are groups of thousands: 1 to 3
// digits, then exactly 3 each.
func grouped(groups []string) bool {
	if n := len(groups[0]); n < 1 || n > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

// numberOptions are the number options a column has, as it reads them.
type numberOptions struct {
	decimal, thousands, currency string
	percent, trim                bool
}

func (c hintContext) options() numberOptions {
	o := numberOptions{decimal: c.spec.Decimal, thousands: c.spec.Thousands, currency: c.spec.Currency,
		percent: c.spec.Percent, trim: c.spec.Trim}
	if o.decimal == "" {
		o.decimal = "."
	}
	return o
}

// setting is one option of type number to give a column.
type setting struct {
	key, value string
	change     bool // the mapping sets key to something else now
}

func (s setting) String() string { return s.key + ": " + s.value }

// otherMark is the decimal mark that can go with thousands separator t.
func otherMark(t string) string {
	if t == "." {
		return ","
	}
	return "."
}

// numberHint returns what to change so that the column reads cell, or ""
// when cell does not look like a number.
func (c hintContext) numberHint(cell string) string {
	r, ok := readNumber(cell)
	if !ok {
		return ""
	}
	have := c.options()
	if r.oddity != "" {
		if r.ambiguous {
			return "" // 1,234 with an oddity: the number itself is unclear
		}
		return fmt.Sprintf("it has %s, which no option reads; write it as %s%s", r.oddity, r.plain(have.decimal), r.exponentNote(cell))
	}
	var has []string
	var set []setting
	if r.trim && !have.trim {
		has = append(has, "invisible characters around it")
		set = append(set, setting{"trim", "true", false})
	}
	if r.currency != "" && r.currency != have.currency {
		if have.currency != "" {
			return fmt.Sprintf("it has the currency symbol %q, but the mapping of %s has currency: %q; this row is in another currency",
				r.currency, c.name, have.currency)
		}
		has = append(has, fmt.Sprintf("the currency symbol %q", r.currency))
		set = append(set, setting{"currency", strconv.Quote(r.currency), false})
	}
	if r.percent && !have.percent {
		has = append(has, `a "%" sign`)
		set = append(set, setting{"percent", "true", false})
	}
	var looks []string
	either := "" // the clause for a lone separator that may be either
	switch {
	case r.ambiguous:
		if have.decimal != r.thousands && have.thousands != r.thousands {
			either = c.eitherClause(r, set)
		}
	case r.decimal != "" || r.thousands != "":
		looks = separatorLooks(r, have)
		dec, thou := have.decimal, have.thousands
		if r.decimal != "" {
			dec = r.decimal
		}
		if r.thousands != "" {
			thou = r.thousands
		}
		if thou != "" && thou == dec {
			if r.decimal != "" {
				// The column's thousands separator is this cell's decimal
				// mark: the cell is written unlike the others.
				return fmt.Sprintf("it looks like %s, but the mapping of %s has thousands: %q; write it as %s",
					joinAnd(looks), c.name, have.thousands, r.plain(have.decimal))
			}
			dec = otherMark(thou)
		}
		if dec != have.decimal {
			set = append(set, setting{"decimal", strconv.Quote(dec), c.spec.Decimal != ""})
		}
		if thou != have.thousands {
			set = append(set, setting{"thousands", strconv.Quote(thou), c.spec.Thousands != ""})
		}
	}
	if len(set) == 0 && either == "" {
		return ""
	}
	var b strings.Builder
	switch {
	case len(has) > 0 && len(looks) > 0:
		fmt.Fprintf(&b, "it has %s and looks like %s", joinAnd(has), joinAnd(looks))
	case len(has) > 0:
		fmt.Fprintf(&b, "it has %s", joinAnd(has))
	case len(looks) > 0:
		fmt.Fprintf(&b, "it looks like %s", joinAnd(looks))
	}
	if either != "" {
		// The other settings are part of both readings.
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(either)
		return b.String()
	}
	b.WriteString("; ")
	if changes(set) {
		fmt.Fprintf(&b, "write it as %s, or %s if the whole column is written so", r.plain(have.decimal), c.apply(set))
	} else {
		b.WriteString(c.apply(set))
	}
	return b.String()
}

// changes reports whether a setting changes an option the mapping sets.
func changes(set []setting) bool {
	for _, s := range set {
		if s.change {
			return true
		}
	}
	return false
}

// eitherClause explains a lone "," or "." followed by three digits, which
// the column reads neither way: it is either a thousands separator or a
// decimal mark. set holds the other settings the cell needs.
func (c hintContext) eitherClause(r numberReading, set []setting) string {
	sep := r.thousands
	asThousands := append(set[:len(set):len(set)], setting{"thousands", strconv.Quote(sep), c.spec.Thousands != ""})
	asDecimal := append(set[:len(set):len(set)], setting{"decimal", strconv.Quote(sep), c.spec.Decimal != ""})
	mark := "a decimal comma"
	if sep == "." {
		mark = "a decimal point"
	}
	whole := r.signed(r.intPart)
	fraction := r.signed(strings.TrimSuffix(r.intPart, r.frac) + "." + r.frac)
	if c.asText {
		return fmt.Sprintf("%q followed by three digits is either between thousands (%s: %s) or %s (%s: %s)",
			sep, whole, c.apply(asThousands), mark, fraction, c.apply(asDecimal))
	}
	verb := "add"
	if changes(asThousands) || changes(asDecimal) {
		verb = "set"
	}
	to := "to"
	if verb == "set" {
		to = "in"
	}
	return fmt.Sprintf("%q followed by three digits is either between thousands (%s: %s) or %s (%s: %s); %s the one that fits %s the mapping of %s",
		sep, whole, joinAnd(settingWords(asThousands)), mark, fraction, joinAnd(settingWords(asDecimal)), verb, to, c.name)
}

func settingWords(set []setting) []string {
	words := make([]string, len(set))
	for i, s := range set {
		words[i] = s.String()
	}
	return words
}

// signed writes digits with r's sign.
func (r numberReading) signed(digits string) string {
	if r.neg {
		return "-" + digits
	}
	return digits
}

// separatorLooks describes the decimal mark and thousands separator of r
// that the column does not read.
func separatorLooks(r numberReading, have numberOptions) []string {
	var dec, thou string
	if r.decimal != "" && r.decimal != have.decimal {
		dec = "a decimal comma"
		if r.decimal == "." {
			dec = "a decimal point"
		}
	}
	if r.thousands != "" && r.thousands != have.thousands {
		thou = fmt.Sprintf("%q between thousands", r.thousands)
		if r.thousands == " " {
			thou = "spaces between thousands"
		}
	}
	switch {
	case dec != "" && thou != "":
		return []string{dec + " with " + thou}
	case dec != "":
		return []string{dec}
	case thou != "":
		return []string{thou}
	}
	return nil
}

// apply phrases giving the column the settings: "add decimal: "," to the
// mapping of price", "set ... in the mapping of price", or, for a value
// mapped as text, "map it with type: number and decimal: ",""
func (c hintContext) apply(set []setting) string {
	words := make([]string, 0, len(set)+1)
	if c.asText {
		words = append(words, "type: number")
	}
	for _, s := range set {
		words = append(words, s.String())
	}
	switch {
	case c.asText:
		return "map it with " + joinAnd(words)
	case changes(set):
		return fmt.Sprintf("set %s in the mapping of %s", joinAnd(words), c.name)
	}
	return fmt.Sprintf("add %s to the mapping of %s", joinAnd(words), c.name)
}

// plain writes the number r read with decimal mark dec and no thousands
// separators, which a column with decimal mark dec reads.
func (r numberReading) plain(dec string) string {
	s := r.signed(r.intPart)
	if r.decimal != "" || r.oddity == "an exponent" {
		if r.frac != "" {
			s += dec + r.frac
		}
	}
	return s
}

// exponentNote warns that a number a spreadsheet wrote with an exponent
// may have lost digits: it shows about six significant ones.
func (r numberReading) exponentNote(cell string) string {
	if r.oddity != "an exponent" {
		return ""
	}
	m, _, _ := strings.Cut(strings.ToLower(cell), "e")
	if n := len(strings.Trim(asciiDigitsOf(m), "0")); n >= 6 && len(r.intPart) > n {
		return " (if a spreadsheet wrote it, it may have rounded it: export the column formatted as a number)"
	}
	return ""
}

func asciiDigitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
