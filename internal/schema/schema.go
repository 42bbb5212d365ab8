// Package schema checks mapped line-item inputs against the portal's
// property definitions before anything is sent, so that a value HubSpot is
// going to reject is reported (with what would be accepted) without
// spending a request on it.
//
// [New] indexes the definitions from GET /crm/v3/properties/line_items;
// [Schema.Check] returns one input's problems. The rules are HubSpot's as
// the emulator in internal/emulator implements them (its package comment
// lists the sources and the stricter choices), with the same codes:
//
//   - PROPERTY_DOESNT_EXIST: the property is not defined (even for an empty
//     value).
//   - READ_ONLY_VALUE: the property is calculated (amount, hs_term_in_months,
//     ...) or has modificationMetadata.readOnlyValue (hs_object_id,
//     createdate, ...), even for an empty value.
//   - An empty value passes every other rule: HubSpot leaves the property
//     unset.
//   - LEADING_TRAILING_WHITESPACE: a value of any type but string that
//     starts or ends with a Unicode space or an invisible format character
//     (U+200B, U+FEFF, ...). Checked before the type's own rule.
//   - number, INVALID_DOUBLE: an optional "-", digits, and optionally "."
//     and digits ("1,234.50", "12e3", ".5", "5.", "+1" fail). A value that
//     looks like a number written another way ("1 234,50", "$12.00",
//     "12.5%") gets the hint of [mapping.NumberHint]: the options of type
//     number that read it.
//     INVALID_VALUE: a negative price ("-0" and "-0.00" are not negative).
//   - date, INVALID_DATE: YYYY-MM-DD (a real calendar date), or epoch
//     milliseconds or an ISO 8601 instant exactly at midnight UTC. A day
//     that does not exist is named ("February 2024 has no day 30"), here
//     and for a datetime.
//   - datetime, INVALID_LONG: epoch milliseconds (at most 19 digits, within
//     int64), or ISO 8601 with seconds, at most three fraction digits and a
//     zone (Z or ±hh:mm).
//   - bool, INVALID_OPTION: "true" or "false".
//   - enumeration, INVALID_OPTION: an option value, case-sensitive (labels
//     fail; hidden options pass). fieldType checkbox (multi-select): ";"-
//     separated option values, no empty part; every bad part is named.
//     [Schema.Normalize] turns labels into values first, by the rule of
//     [Schema.OptionValue].
//   - any other type (string and the rest), VALUE_TOO_LONG: more than 65,536
//     characters (runes). INVALID_VALUE: hs_recurring_billing_period that is
//     not an ISO 8601 period PnYnMnD or PnW.
//   - hasUniqueValue, CONFLICT: a value an earlier accepted input of the same
//     run already holds (see [Schema.Check]).
//
// Problems are reported in property-name order, every problem of the input
// (HubSpot's 207 lists every invalid property too, but a unique-value
// conflict fails the whole batch with a 409 that names only the first).
package schema

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/keyset"
	"github.com/lineitems/importer/internal/mapping"
)

// Codes of the problems Check reports. They are HubSpot's codes, as the
// emulator uses them; CodeConflict is the category of HubSpot's 409 answer
// to a create that repeats a unique value.
const (
	CodePropertyDoesntExist = "PROPERTY_DOESNT_EXIST"
	CodeReadOnlyValue       = "READ_ONLY_VALUE"
	CodeInvalidOption       = "INVALID_OPTION"
	CodeInvalidDate         = "INVALID_DATE"
	CodeInvalidLong         = "INVALID_LONG"
	CodeWhitespace          = "LEADING_TRAILING_WHITESPACE"
	CodeInvalidNumber       = "INVALID_DOUBLE"
	CodeValueTooLong        = "VALUE_TOO_LONG"
	CodeInvalidValue        = "INVALID_VALUE"
	CodeConflict            = "CONFLICT"
)

// maxListedOptions is how many option values an Expected phrase names.
const maxListedOptions = 12

// Problem is one value HubSpot would reject.
type Problem struct {
	Property string // HubSpot property
	Value    string
	Code     string // HubSpot's validation code, one of the Code constants
	Expected string // what would be accepted, as a phrase a person can act on
}

// Error renders the problem in one line; long values are shortened.
func (p Problem) Error() string {
	s := fmt.Sprintf("property %s, value %s: %s", p.Property, quote(p.Value), p.Code)
	if p.Expected != "" {
		s += ": expected " + p.Expected
	}
	return s
}

// property is one definition, indexed for checks.
type property struct {
	name       string
	label      string
	typ        string
	fieldType  string
	calculated bool
	readOnly   bool
	unique     bool
	options    []hubspot.PropertyOption
	values     map[string]struct{} // option values, for enumerations
	listing    string              // "one of ..." phrase, for enumerations
}

// Schema is the portal's line-item property definitions, indexed for
// checks. It is safe for concurrent use.
//
// A Schema remembers the values of unique-value (hasUniqueValue) properties
// of the inputs it accepted, to report a repeat: its memory grows with the
// number of distinct values of unique properties (each costs its length,
// its input's trace id and about 16 bytes, in a [keyset.Set] outside the
// Go heap), and with nothing else.
type Schema struct {
	props   map[string]*property
	suggest map[string]string // normalized name or label -> property name; "" if ambiguous

	mu   sync.Mutex
	seen map[string]*keyset.Set // unique property -> value -> trace id of the input that has it
}

// New indexes props. A later definition of the same name replaces an
// earlier one.
func New(props []hubspot.Property) *Schema {
	s := &Schema{
		props:   make(map[string]*property, len(props)),
		suggest: make(map[string]string),
		seen:    make(map[string]*keyset.Set),
	}
	for _, hp := range props {
		p := &property{
			name:       hp.Name,
			label:      hp.Label,
			typ:        hp.Type,
			fieldType:  hp.FieldType,
			calculated: hp.Calculated,
			readOnly:   hp.ModificationMetadata.ReadOnlyValue,
			unique:     hp.HasUniqueValue,
			options:    slices.Clone(hp.Options),
		}
		if p.typ == "enumeration" {
			p.values = make(map[string]struct{}, len(p.options))
			for _, o := range p.options {
				p.values[o.Value] = struct{}{}
			}
			p.listing = optionListing(p.options)
		}
		s.props[p.name] = p
	}
	for _, p := range s.props {
		if p.calculated || p.readOnly {
			continue
		}
		for _, k := range []string{normalize(p.name), normalize(p.label)} {
			if k == "" {
				continue
			}
			if other, ok := s.suggest[k]; ok && other != p.name {
				s.suggest[k] = ""
				continue
			}
			s.suggest[k] = p.name
		}
	}
	return s
}

// Check returns the problems with one input, in property-name order; nil
// if HubSpot would accept its properties. Associations are not checked here
// (see [CheckAssociationTypes]).
//
// Check has one piece of state: when it accepts an input, it records the
// input's values of unique-value properties with the input's
// ObjectWriteTraceID, and reports a later input with the same value as a
// CONFLICT (HubSpot creates the first and answers the second 409). An
// input that has problems records nothing, since it will not be created.
// Checking the same input (same non-empty trace id) again is not a
// conflict. Values already stored in HubSpot are not known to Check.
func (s *Schema) Check(in hubspot.CreateInput) []Problem {
	return s.check(in, s.lookup(in.Properties))
}

// lookup returns the definitions of ps's properties, nil for those the
// portal does not have, in ps's order.
func (s *Schema) lookup(ps hubspot.PropertyValues) []*property {
	defs := make([]*property, len(ps))
	for i, nv := range ps {
		defs[i] = s.props[nv.Name]
	}
	return defs
}

// check is Check with in's property definitions already looked up: defs[i]
// is the definition of in.Properties[i].
func (s *Schema) check(in hubspot.CreateInput, defs []*property) []Problem {
	if len(in.Properties) == 0 {
		return nil
	}
	// The input's order, which is name order unless it was built by hand;
	// the problems, if any, are sorted at the end to be sure.
	var problems []Problem
	var claims []*property
	for i, nv := range in.Properties {
		name, v := nv.Name, nv.Value
		p := defs[i]
		if pr, bad := s.checkValue(name, p, v); bad {
			problems = append(problems, pr)
			continue
		}
		if p.unique && v != "" {
			claims = append(claims, p)
		}
	}
	byProperty := func(a, b Problem) int { return strings.Compare(a.Property, b.Property) }
	slices.SortStableFunc(problems, byProperty)
	if len(claims) == 0 {
		return problems
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	conflicts := false
	for _, p := range claims {
		v := in.Properties.Value(p.name)
		var owner string
		taken := false
		if set := s.seen[p.name]; set != nil {
			owner, taken = set.Get(v)
		}
		if !taken || (owner != "" && owner == in.ObjectWriteTraceID) {
			continue
		}
		problems = append(problems, Problem{Property: p.name, Value: v, Code: CodeConflict, Expected: conflictPhrase(p.name, owner)})
		conflicts = true
	}
	if conflicts {
		slices.SortStableFunc(problems, byProperty)
		return problems
	}
	if len(problems) > 0 {
		return problems
	}
	for _, p := range claims {
		set := s.seen[p.name]
		if set == nil {
			set = new(keyset.Set)
			s.seen[p.name] = set
		}
		set.Add(in.Properties.Value(p.name), in.ObjectWriteTraceID)
	}
	return nil
}

func conflictPhrase(name, owner string) string {
	if owner == "" {
		return fmt.Sprintf("a value no other input has: %s holds unique values and an earlier input has this one", name)
	}
	return fmt.Sprintf("a value no other input has: %s holds unique values and the input with objectWriteTraceId %s has this one", name, owner)
}

// IsNumber reports whether the portal defines name as a number property.
func (s *Schema) IsNumber(name string) bool {
	p := s.props[name]
	return p != nil && p.typ == "number"
}

// builtInNumbers are the number properties HubSpot defines for line items
// in every portal that a client may set (the calculated ones, such as
// amount, are read-only).
var builtInNumbers = []string{"price", "quantity", "discount", "hs_discount_percentage", "hs_cost_of_goods_sold", "tax",
	"hs_billing_start_delay_days", "hs_billing_start_delay_months", "hs_position_on_quote"}

// BuiltInNumber reports whether name is one of HubSpot's own number
// properties of line items, known to be a number without the portal's
// definitions (when the token may not read them, or in a dry run).
func BuiltInNumber(name string) bool { return slices.Contains(builtInNumbers, name) }

// LeaveUniqueTo tells the Schema that the caller checks the values of the
// unique property name for repeats itself (the importer does so for the
// key property), so Check does not remember them a second time.
func (s *Schema) LeaveUniqueTo(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.props[name]; ok && p.unique {
		c := *p
		c.unique = false
		s.props[name] = &c
	}
}

// CheckValue checks one value of one property, without the unique-value
// rule (which needs the other inputs). ok is false when there is a problem.
func (s *Schema) CheckValue(property, value string) (p Problem, ok bool) {
	p, bad := s.checkValue(property, s.props[property], value)
	return p, !bad
}

// checkValue applies every per-value rule, in the emulator's order.
func (s *Schema) checkValue(name string, p *property, v string) (Problem, bool) {
	fail := func(code, expected string) (Problem, bool) {
		return Problem{Property: name, Value: v, Code: code, Expected: expected}, true
	}
	if p == nil {
		return fail(CodePropertyDoesntExist, s.existingPhrase(name))
	}
	if p.calculated {
		return fail(CodeReadOnlyValue, fmt.Sprintf("no value: HubSpot calculates %s; remove it from the mapping", name))
	}
	if p.readOnly {
		return fail(CodeReadOnlyValue, fmt.Sprintf("no value: %s is read-only; remove it from the mapping", name))
	}
	if v == "" {
		return Problem{}, false
	}
	if p.typ != "string" && trimEdges(v) != v {
		return fail(CodeWhitespace, fmt.Sprintf("no leading or trailing whitespace (%s)", quote(trimEdges(v))))
	}
	switch p.typ {
	case "number":
		if !PlainNumber(v) {
			exp := `a plain decimal number: digits with an optional leading "-" and at most one "." between digits, e.g. "1234.50" (no thousands separators, exponent or "+")`
			if h := mapping.NumberHint(v); h != "" {
				exp += "; " + h
			}
			return fail(CodeInvalidNumber, exp)
		}
		if name == "price" && negative(v) {
			return fail(CodeInvalidValue, "a price of 0 or more")
		}
	case "date":
		if ok, hint := checkDate(v); !ok {
			return fail(CodeInvalidDate, datePhrase(hint))
		}
	case "datetime":
		if !validDateTime(v) {
			exp := `a datetime: ISO 8601 with seconds, at most 3 fraction digits and a zone (e.g. "2024-03-01T13:45:00.000Z" or "2024-03-01T13:45:00+01:00"), or epoch milliseconds`
			if h := dayHint(v); h != "" {
				exp += "; " + h
			}
			return fail(CodeInvalidLong, exp)
		}
	case "bool":
		if v != "true" && v != "false" {
			exp := `"true" or "false"`
			if sug, ok := s.OptionValue(name, v); ok {
				exp += fmt.Sprintf("; did you mean %q?", sug)
			}
			return fail(CodeInvalidOption, exp)
		}
	case "enumeration":
		if p.fieldType == "checkbox" {
			if exp := s.multiPhrase(p, v); exp != "" {
				return fail(CodeInvalidOption, exp)
			}
		} else if _, ok := p.values[v]; !ok {
			exp := p.listing
			if sug, ok := s.OptionValue(name, v); ok {
				exp += fmt.Sprintf("; did you mean %q?", sug)
			} else if amb := ambiguity(p.options, v); amb != "" {
				exp += "; " + amb
			}
			return fail(CodeInvalidOption, exp)
		}
	default: // string and any other textual type
		if n := hubspot.TooLong(v); n > 0 {
			return fail(CodeValueTooLong, fmt.Sprintf("at most %s characters (this value has %s)", thousands(hubspot.MaxPropertyValueLen), thousands(n)))
		}
		if name == "hs_recurring_billing_period" && !isoPeriod(v) {
			return fail(CodeInvalidValue, `an ISO 8601 period PnYnMnD or PnW, e.g. "P12M", "P1Y" or "P2W"`)
		}
	}
	return Problem{}, false
}

func (s *Schema) existingPhrase(name string) string {
	if sug := s.suggest[normalize(name)]; sug != "" && sug != name {
		p := s.props[sug]
		if p.label != "" && p.label != sug {
			return fmt.Sprintf("an existing line-item property; did you mean %s (label %q)?", sug, p.label)
		}
		return fmt.Sprintf("an existing line-item property; did you mean %s?", sug)
	}
	if near := mapping.Closest(name, s.names()); len(near) > 0 {
		return fmt.Sprintf("an existing line-item property; did you mean %s?", strings.Join(near, " or "))
	}
	return "an existing line-item property (create it in HubSpot, or fix the mapping)"
}

// names lists the property names, sorted.
func (s *Schema) names() []string {
	out := make([]string, 0, len(s.props))
	for n := range s.props {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// multiPhrase returns what a checkbox (multi-select) value v should be,
// naming each of its parts that is not an option value; "" when every part
// is one.
func (s *Schema) multiPhrase(p *property, v string) string {
	var bad []string
	empty := false
	for _, part := range strings.Split(v, ";") {
		if _, ok := p.values[part]; ok {
			continue
		}
		if part == "" {
			empty = true
		} else if !slices.Contains(bad, part) {
			bad = append(bad, part)
		}
	}
	if len(bad) == 0 && !empty {
		return ""
	}
	exp := `";"-separated values, each ` + p.listing
	if empty {
		return exp + "; no empty parts"
	}
	quoted := make([]string, len(bad))
	for i, b := range bad {
		quoted[i] = quote(b)
	}
	if len(bad) == 1 {
		exp += fmt.Sprintf("; %s is not one", quoted[0])
	} else {
		exp += fmt.Sprintf("; %s are not", joinAnd(quoted))
	}
	if sug, ok := s.OptionValue(p.name, v); ok {
		return exp + fmt.Sprintf("; did you mean %q?", sug)
	}
	var guesses []string
	for _, b := range bad {
		if sug, ok := matchOption(p.options, b); ok {
			guesses = append(guesses, fmt.Sprintf("%q for %s", sug, quote(b)))
		}
	}
	if len(guesses) > 0 {
		exp += "; did you mean " + joinAnd(guesses) + "?"
	}
	for _, b := range bad {
		if amb := ambiguity(p.options, b); amb != "" {
			exp += "; " + amb
		}
	}
	return exp
}

// joinAnd joins words as "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func datePhrase(hint string) string {
	const base = `a date as YYYY-MM-DD (e.g. "2024-03-01"), or epoch milliseconds at midnight UTC`
	if hint != "" {
		return base + "; " + hint
	}
	return base
}

// OptionValue maps an enumeration's option label or value to the value
// HubSpot accepts, by this rule, after trimming surrounding whitespace:
//
//  1. A value equal to an option's value is that value; else a value equal
//     to the label of options of one value is that value.
//  2. Otherwise a value equal to an option's label or value when case is
//     ignored (strings.EqualFold) is that option's value, unless it so
//     matches options with different values: then it is not mapped.
//
// Hidden options count. For a checkbox (multi-select) property each
// ";"-separated part is mapped. For a bool property the values are "true"
// and "false" and the labels are those of its options. ok is false for any
// other property, or when nothing matches. The mapping's `type: enum` and
// `type: multi` match their `values:` by the same rule.
func (s *Schema) OptionValue(property, labelOrValue string) (value string, ok bool) {
	p := s.props[property]
	if p == nil {
		return "", false
	}
	switch {
	case p.typ == "bool":
		opts := []hubspot.PropertyOption{{Label: "true", Value: "true"}, {Label: "false", Value: "false"}}
		for _, o := range p.options {
			if o.Value == "true" || o.Value == "false" {
				opts = append(opts, o)
			}
		}
		return matchOption(opts, labelOrValue)
	case p.typ != "enumeration":
		return "", false
	case p.fieldType == "checkbox":
		parts := strings.Split(labelOrValue, ";")
		for i, part := range parts {
			v, ok := matchOption(p.options, part)
			if !ok {
				return "", false
			}
			parts[i] = v
		}
		return strings.Join(parts, ";"), true
	default:
		return matchOption(p.options, labelOrValue)
	}
}

func matchOption(opts []hubspot.PropertyOption, x string) (string, bool) {
	v, ok, _ := matchOptions(opts, x)
	return v, ok
}

// matchOptions applies OptionValue's rule to one value x. When x matches
// no option because it matches several with different values ignoring
// case, ambiguous holds them.
func matchOptions(opts []hubspot.PropertyOption, x string) (value string, ok bool, ambiguous []hubspot.PropertyOption) {
	x = trimEdges(x)
	if x == "" {
		return "", false, nil
	}
	for _, o := range opts {
		if o.Value == x {
			return o.Value, true, nil
		}
	}
	// An exact label, then a label or value in another case: each tier
	// maps x only if all it matches mean one value.
	for _, match := range []func(hubspot.PropertyOption) bool{
		func(o hubspot.PropertyOption) bool { return o.Label == x },
		func(o hubspot.PropertyOption) bool {
			return strings.EqualFold(o.Label, x) || strings.EqualFold(o.Value, x)
		},
	} {
		var found []hubspot.PropertyOption
		one := true
		for _, o := range opts {
			if match(o) {
				one = one && (len(found) == 0 || found[0].Value == o.Value)
				found = append(found, o)
			}
		}
		switch {
		case len(found) > 0 && one:
			return found[0].Value, true, nil
		case len(found) > 0:
			return "", false, found
		}
	}
	return "", false, nil
}

// ambiguity explains why x maps to no option because it matches several
// ignoring case, or returns "".
func ambiguity(opts []hubspot.PropertyOption, x string) string {
	_, _, amb := matchOptions(opts, x)
	if len(amb) == 0 {
		return ""
	}
	names := make([]string, len(amb))
	for i, o := range amb {
		names[i] = fmt.Sprintf("%q", o.Value)
		if o.Label != "" && o.Label != o.Value {
			names[i] += fmt.Sprintf(" (label %q)", o.Label)
		}
	}
	return fmt.Sprintf("ignoring case %s matches the options %s; write it exactly as one of them", quote(x), joinAnd(names))
}

// optionListing renders `one of "a", "b" (labels: "A", "B")`, naming the
// visible options (all of them if every one is hidden), at most
// maxListedOptions of them.
func optionListing(opts []hubspot.PropertyOption) string {
	var shown []hubspot.PropertyOption
	for _, o := range opts {
		if !o.Hidden {
			shown = append(shown, o)
		}
	}
	if len(shown) == 0 {
		shown = opts
	}
	if len(shown) == 0 {
		return "no value: the property has no options"
	}
	more := 0
	if len(shown) > maxListedOptions {
		more = len(shown) - maxListedOptions
		shown = shown[:maxListedOptions]
	}
	values := make([]string, len(shown))
	labels := make([]string, len(shown))
	sameLabels := true
	for i, o := range shown {
		values[i] = fmt.Sprintf("%q", o.Value)
		labels[i] = fmt.Sprintf("%q", o.Label)
		sameLabels = sameLabels && (o.Label == o.Value || o.Label == "")
	}
	s := "one of " + strings.Join(values, ", ")
	if more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	if !sameLabels {
		s += " (labels: " + strings.Join(labels, ", ")
		if more > 0 {
			s += ", ..."
		}
		s += ")"
	}
	return s
}

// normalize folds a property name or label for "did you mean": lower case,
// letters and digits only.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= utf8.RuneSelf {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// quote renders a value for a message: Go-quoted, shortened to 60
// characters with its full length when longer.
func quote(v string) string {
	const keep = 60
	if utf8.RuneCountInString(v) <= keep {
		return fmt.Sprintf("%q", v)
	}
	n, i := 0, 0
	for i = range v {
		if n == keep-3 {
			break
		}
		n++
	}
	return fmt.Sprintf("%q... (%s characters)", v[:i], thousands(utf8.RuneCountInString(v)))
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Normalize replaces, in place, each enumeration or bool value that names
// an option by its label, or by its label or value in another case, with
// the option's value, as HubSpot wants it, by the rule of
// [Schema.OptionValue]. Values that match no option, or several, are left
// for Check to report.
func (s *Schema) Normalize(in *hubspot.CreateInput) {
	s.normalize(in, s.lookup(in.Properties))
}

// normalize is Normalize with in's property definitions already looked up,
// as for check.
func (s *Schema) normalize(in *hubspot.CreateInput, defs []*property) {
	for i, nv := range in.Properties {
		p := defs[i]
		if p == nil || (p.typ != "enumeration" && p.typ != "bool") {
			continue
		}
		if _, exact := p.values[nv.Value]; exact {
			continue
		}
		if v, ok := s.OptionValue(nv.Name, nv.Value); ok {
			in.Properties[i].Value = v
		}
	}
}
