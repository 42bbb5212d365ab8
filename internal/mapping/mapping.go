// Package mapping turns CSV records into HubSpot line-item inputs.
//
// A [Spec] is what the user wrote (a YAML file, or nothing: every column maps
// to the property of the same name). [Spec.Compile] binds it to a CSV
// header and returns a [Mapper], which converts one record at a time. The
// problems with one record are [FieldErrors], a *[FieldError] for each bad
// value, naming the column, the value, what was expected and, for a value
// that looks like a known mistake, what to change; they fail that record
// only. A problem with the spec or the header is returned by Load or
// Compile and is fatal; a misspelt key, type or column comes with a "did
// you mean".
//
// A property's long form can transform the cell before it is converted
// (trim, default), replace it with a constant (value), and read numbers,
// dates and multi-select values the way spreadsheets write them (decimal,
// thousands, percent, currency, format, formats, separator); see
// [PropertySpec]. The output is always in HubSpot's form for the type.
//
// [Suggest] proposes a spec for a header and the portal's properties, and
// [Spec.YAML] writes a spec as a commented mapping file.
package mapping

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lineitems/importer/internal/rows"

	"github.com/lineitems/importer/internal/hubspot"
)

// Value types a property mapping can convert to.
const (
	TypeString   = "string"
	TypeNumber   = "number"
	TypeBool     = "bool"
	TypeDate     = "date"
	TypeDatetime = "datetime"
	TypeEnum     = "enum"
	TypeMulti    = "multi" // multi-select (checkbox) enumeration
)

// types are the values `type:` takes.
var types = []string{TypeString, TypeNumber, TypeBool, TypeDate, TypeDatetime, TypeEnum, TypeMulti}

// suggestion returns "; did you mean ...?" for a misspelt name, or "".
func suggestion(name string, valid []string) string {
	if s := didYouMean(name, valid); s != "" {
		return "; " + s
	}
	return ""
}

// ReportColumns are the columns the importer appends to its failed,
// in-doubt and not-sent reports. They are ignored on input, so such a
// report can be fed back.
var ReportColumns = rows.ReportColumns

// Spec is a parsed mapping file.
type Spec struct {
	Properties   map[string]PropertySpec `yaml:"properties"`
	Associations []AssociationSpec       `yaml:"associations"`
	Key          string                  `yaml:"key"`
	// Settings are the importer's flags for this file (flag name: value,
	// e.g. "key-property: import_key"). The command line and IMPORTER_*
	// variables win over them; the command checks the names.
	Settings map[string]string `yaml:"settings"`

	// layout is how [Spec.YAML] writes the spec: the order of the
	// properties and the comments. It does not change what the spec means.
	layout *layout
}

// PropertySpec says where a property's value comes from and how it is
// converted. In YAML it is either a column name or a mapping.
//
// A cell goes through these steps: Trim, then Default if it is empty (an
// empty cell without a default sends nothing), then the conversion of Type.
// Value replaces all of them with one constant for every row.
type PropertySpec struct {
	Column string            `yaml:"column"`
	Type   string            `yaml:"type"`
	Format string            `yaml:"format"`
	Values map[string]string `yaml:"values"`

	// Formats are date layouts (or format names) tried in order, for type
	// date or datetime, instead of Format. Format and Formats accept Go
	// layouts and the names iso, us, eu and epoch_ms.
	Formats []string `yaml:"formats"`
	// Trim removes white space around the cell before anything else.
	// String cells are sent as they are without it; the other types
	// ignore surrounding white space anyway.
	Trim bool `yaml:"trim"`
	// Default is the value used when the cell is empty (after Trim). It is
	// converted like a cell.
	Default string `yaml:"default"`
	// Value is a constant sent for every row; Column must then be empty.
	// It is converted like a cell.
	Value string `yaml:"value"`
	// Decimal is the decimal mark of type number: "." (the default) or ",".
	Decimal string `yaml:"decimal"`
	// Thousands is the separator between groups of three digits that type
	// number accepts and drops: ".", ",", " " or "'". Without it, any
	// separator is an error.
	Thousands string `yaml:"thousands"`
	// Percent lets type number end with "%", which is dropped. The number is
	// not divided by 100: HubSpot's percentage properties store 12.5 for
	// 12.5%.
	Percent bool `yaml:"percent"`
	// Currency is a currency symbol or code ("$", "€", "EUR") that type
	// number accepts, and drops, right before or after the number, with
	// white space between or not: "$12.00", "-$12.00", "12,00 €".
	Currency string `yaml:"currency"`
	// Zone is the time zone, by its IANA name ("Europe/Berlin"), in which
	// type datetime reads a value written without an offset; without it
	// such a value is UTC. A value with an offset keeps its own.
	Zone string `yaml:"zone"`
	// Separator is what separates the values of type multi in a cell
	// (default ";"). HubSpot always gets them separated by ";".
	Separator string `yaml:"separator"`
}

// UnmarshalYAML accepts "property: Column" as well as the long form.
func (p *PropertySpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Column = n.Value
		return nil
	}
	type plain PropertySpec
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	*p = PropertySpec(v)
	return nil
}

// AssociationSpec links each row to an existing object whose id is in Column.
// Either To (a HubSpot-defined target) or TypeID is set. With By (and To),
// Column holds the value of the target's unique property By instead of its
// id (an external id, such as a legacy deal number): the importer finds the
// record by it before sending.
type AssociationSpec struct {
	Column   string `yaml:"column"`
	To       string `yaml:"to"`
	By       string `yaml:"by"`
	TypeID   int    `yaml:"type_id"`
	Category string `yaml:"category"`
}

// lineItemTypeIDs are HubSpot's HUBSPOT_DEFINED line item → object
// association type ids.
var lineItemTypeIDs = map[string]int{
	"deal":         20,
	"quote":        68,
	"invoice":      410,
	"order":        514,
	"cart":         591,
	"subscription": 302,
	"payment":      396,
	"discount":     368,
}

// targetObjectTypes are the object types, as HubSpot's paths name them,
// of the targets `to:` accepts.
var targetObjectTypes = map[string]string{
	"deal":         "deals",
	"quote":        "quotes",
	"invoice":      "invoices",
	"order":        "orders",
	"cart":         "carts",
	"subscription": "subscriptions",
	"payment":      "commerce_payments",
	"discount":     "discounts",
}

// CanLinkLater reports, as an error naming each, the associations that
// cannot be made after their rows are created: upserts carry no
// associations, and the associations API that makes them afterwards names
// the target's object type, which a bare type_id does not give.
func (m *Mapper) CanLinkLater() error {
	var errs []error
	for _, a := range m.assocs {
		if a.objectType == "" {
			errs = append(errs, fmt.Errorf("association (column %q): in upsert mode associations are made after the upsert, through HubSpot's associations API, which needs the target's type: use to: (one of %s) instead of type_id",
				a.name, strings.Join(AssociationTargets(), ", ")))
		}
	}
	return errors.Join(errs...)
}

// ByExternalID reports whether some association names its target by an
// external id (by:), which must be read from the portal before sending.
func (m *Mapper) ByExternalID() bool {
	for _, a := range m.assocs {
		if a.by != "" {
			return true
		}
	}
	return false
}

// AssociationTargets lists the names `to:` accepts.
func AssociationTargets() []string {
	out := make([]string, 0, len(lineItemTypeIDs))
	for k := range lineItemTypeIDs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Load parses and checks a mapping file. Unknown keys are errors, so a typo
// is caught before anything is sent; the message suggests the closest key.
// A file indented with a tab gets "line N: the mapping is indented with a
// tab; YAML needs spaces", N being the line with the tab.
func Load(r io.Reader) (*Spec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("mapping: %w", syntaxError(data, err))
	}
	unknown := unknownKeys(&doc)
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return nil, errors.New("mapping: the file is empty")
		case len(unknown) > 0:
			return nil, fmt.Errorf("mapping: %w", errors.Join(unknown...))
		}
		return nil, fmt.Errorf("mapping: %w", err)
	}
	props := propertyNodes(&doc)
	if errs := append(unknown, s.problems()...); len(errs) > 0 {
		return nil, fmt.Errorf("mapping: %w", errors.Join(errs...))
	}
	s.layout = layoutOf(props)
	return &s, nil
}

// problems returns every mistake in s, naming the property or association.
func (s *Spec) problems() []error {
	var errs []error
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name]
		if p.Column == "" && p.Value == "" {
			errs = append(errs, fmt.Errorf("property %q: no column (give column, or value for a constant)", name))
		}
		_, perrs := newProperty(name, p)
		for _, err := range perrs {
			errs = append(errs, fmt.Errorf("property %q: %w", name, err))
		}
	}
	for i, a := range s.Associations {
		where := fmt.Sprintf("association %d (column %q)", i+1, a.Column)
		if a.Column == "" {
			errs = append(errs, fmt.Errorf("association %d: no column", i+1))
		}
		if a.By != "" && a.To == "" {
			errs = append(errs, fmt.Errorf("%s: by: %s names a property of the target, which needs to: (one of %s)", where, a.By, strings.Join(AssociationTargets(), ", ")))
		}
		switch {
		case a.To != "" && a.TypeID != 0:
			errs = append(errs, fmt.Errorf("%s: give either to or type_id, not both", where))
		case a.To != "":
			if _, ok := lineItemTypeIDs[strings.ToLower(a.To)]; !ok {
				errs = append(errs, fmt.Errorf("%s: unknown target %q (want one of %s)%s", where, a.To,
					strings.Join(AssociationTargets(), ", "), suggestion(a.To, AssociationTargets())))
			}
			if a.Category != "" && a.Category != hubspot.CategoryHubSpotDefined {
				errs = append(errs, fmt.Errorf("%s: to: %s is HUBSPOT_DEFINED; use type_id for category %s", where, a.To, a.Category))
			}
		case a.TypeID > 0:
			switch a.Category {
			case "", hubspot.CategoryHubSpotDefined, hubspot.CategoryUserDefined, hubspot.CategoryIntegratorDefined, hubspot.CategoryWork:
			default:
				errs = append(errs, fmt.Errorf("%s: unknown category %q (want %s)%s", where, a.Category,
					joinOr(categories), suggestion(a.Category, categories)))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: needs to: (one of %s) or a positive type_id", where, strings.Join(AssociationTargets(), ", ")))
		}
	}
	return errs
}

// categories are the association categories `category:` takes.
var categories = []string{hubspot.CategoryHubSpotDefined, hubspot.CategoryUserDefined, hubspot.CategoryIntegratorDefined, hubspot.CategoryWork}

// Identity returns the mapping used without a file: every column maps to
// the property of the same name, as a string.
func Identity(header []string) *Spec {
	s := &Spec{Properties: make(map[string]PropertySpec, len(header))}
	for _, h := range header {
		if slices.Contains(ReportColumns, h) {
			continue
		}
		s.Properties[h] = PropertySpec{Column: h}
	}
	return s
}

// FieldError is a problem with one value of one record. It never holds
// more than the offending cell, so it is safe to write to a report.
type FieldError struct {
	Column   string // CSV column
	Property string // HubSpot property, if any
	Value    string
	Expected string // what was expected, e.g. "a plain number"
	// Hint, when the value looks like a known mistake, says what is wrong
	// or what to change, e.g. `it looks like a decimal comma; add
	// decimal: "," to the mapping of price` or "February 2024 has no day
	// 30". It may be empty.
	Hint string
}

// Error renders the problem in one line, with long values shortened:
//
//	column "C" (property p): "V" is not EXPECTED: HINT
//
// without "(property p)" when the property is named like the column, and
// without ": HINT" when there is no hint.
func (e *FieldError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:77] + "..."
	}
	msg := fmt.Sprintf("%q is not %s", v, e.Expected)
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	if e.Property != "" && e.Property != e.Column {
		return fmt.Sprintf("column %q (property %s): %s", e.Column, e.Property, msg)
	}
	return fmt.Sprintf("column %q: %s", e.Column, msg)
}

// Code is the error code written to failed.csv for a value rejected locally.
func (e *FieldError) Code() string { return "INVALID_VALUE" }

// FieldErrors are the problems with the values of one record, one
// *FieldError per bad value: the properties' in name order, then the
// associations' in the mapping's order. [Mapper.Map] and [Mapper.MapInto]
// return them for a record with bad values, never empty. errors.As finds
// FieldErrors in such an error, and also finds its first *FieldError.
type FieldErrors []*FieldError

// Error joins the messages of the FieldErrors with "; ".
func (e FieldErrors) Error() string {
	var b strings.Builder
	for i, fe := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap returns the *FieldErrors, for errors.Is and errors.As.
func (e FieldErrors) Unwrap() []error {
	errs := make([]error, len(e))
	for i, fe := range e {
		errs[i] = fe
	}
	return errs
}

// Code is the error code written to failed.csv for a record rejected
// locally: that of its FieldErrors.
func (e FieldErrors) Code() string { return "INVALID_VALUE" }

// Mapper converts records of one CSV header. It is safe for concurrent use.
type Mapper struct {
	props  []boundProperty
	assocs []boundAssociation
	key    int // column index of the key, -1 if none
	width  int // number of data columns in the header
}

type boundProperty struct {
	name string
	col  int // -1 for a constant
	conv converter
	spec PropertySpec
	trim bool

	constant   bool // value is sent for every row
	value      string
	hasDefault bool // def is sent for an empty cell
	def        string
}

// newProperty prepares property name as p says. It returns every problem
// with p: keys that do not go with its type or with each other, and
// settings that cannot convert anything. The column is not looked up.
func newProperty(name string, p PropertySpec) (boundProperty, []error) {
	b := boundProperty{name: name, col: -1, spec: p, trim: p.Trim}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	known := true
	switch p.Type {
	case "", TypeString, TypeNumber, TypeBool, TypeDate, TypeDatetime:
	case TypeEnum, TypeMulti:
		if len(p.Values) == 0 {
			bad("type %s needs values (label: internal value)", p.Type)
		}
	default:
		known = false
		bad("unknown type %q (want %s)%s", p.Type, joinOr(types), suggestion(p.Type, types))
	}
	if p.Value != "" && p.Column != "" {
		bad("give either column or value (a constant for every row), not both")
	}
	if p.Value != "" && p.Default != "" {
		bad("default is never used with value")
	}
	if len(p.Values) > 0 && p.Type != TypeEnum && p.Type != TypeMulti {
		bad("values are only for type enum or multi")
	}
	if p.Type != TypeDate && p.Type != TypeDatetime {
		if p.Format != "" {
			bad("format is only for type date or datetime")
		}
		if len(p.Formats) > 0 {
			bad("formats are only for type date or datetime")
		}
	}
	if p.Format != "" && len(p.Formats) > 0 {
		bad("give either format or formats, not both")
	}
	if p.Type != TypeNumber {
		if p.Decimal != "" {
			bad("decimal is only for type number")
		}
		if p.Thousands != "" {
			bad("thousands is only for type number")
		}
		if p.Percent {
			bad("percent is only for type number")
		}
		if p.Currency != "" {
			bad("currency is only for type number")
		}
	}
	if p.Type != TypeDatetime && p.Zone != "" {
		bad("zone is only for type datetime")
	}
	if p.Type != TypeMulti && p.Separator != "" {
		bad("separator is only for type multi")
	}
	if !known || len(errs) > 0 {
		return b, errs
	}
	conv, err := newConverter(name, p)
	if err != nil {
		return b, []error{err}
	}
	b.conv = conv
	// A constant and a default are converted once, here, so that a bad one
	// is a mistake in the mapping rather than in every row.
	prepare := func(what, s string) string {
		c := s
		if p.Trim {
			c = trimCell(c)
		}
		if c == "" {
			bad("%s %q is blank", what, s)
			return ""
		}
		v, f := conv(c)
		if f.failed() {
			msg := fmt.Sprintf("%s %q is not %s", what, s, f.expected)
			if f.hint != "" {
				msg += ": " + f.hint
			}
			bad("%s", msg)
		} else if n := hubspot.TooLong(v); n > 0 {
			bad("%s is %d characters long; HubSpot takes at most %d", what, n, hubspot.MaxPropertyValueLen)
		}
		return v
	}
	if p.Value != "" {
		b.constant, b.value = true, prepare("value", p.Value)
	}
	if p.Default != "" {
		b.hasDefault, b.def = true, prepare("default", p.Default)
	}
	return b, errs
}

type boundAssociation struct {
	col        int
	name       string
	types      []hubspot.AssociationType // one; shared by every input
	objectType string                    // the target's object type, "" for a type_id
	by         string                    // the target's unique property the cell holds, "" for an id
}

// Compile binds s to header. It fails, naming every problem, when the
// mapping names a column the header lacks, or the header repeats a name the
// mapping uses.
func (s *Spec) Compile(header []string) (*Mapper, error) {
	index := make(map[string]int, len(header))
	dup := map[string]bool{}
	for i, h := range header {
		if _, ok := index[h]; ok {
			dup[h] = true
		}
		index[h] = i
	}
	var errs []error
	col := func(what, name string) int {
		i, ok := index[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: the CSV has no column %q (columns: %s)%s",
				what, name, quoteList(header), suggestion(name, header)))
			return -1
		case dup[name]:
			errs = append(errs, fmt.Errorf("%s: column %q appears more than once in the CSV header", what, name))
			return -1
		}
		return i
	}
	m := &Mapper{key: -1, width: len(header)}
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name]
		bp, perrs := newProperty(name, p)
		for _, err := range perrs {
			errs = append(errs, fmt.Errorf("property %s: %w", name, err))
		}
		if !bp.constant {
			bp.col = col("property "+name, p.Column)
		}
		m.props = append(m.props, bp)
	}
	for _, a := range s.Associations {
		i := col("association", a.Column)
		t := hubspot.AssociationType{Category: a.Category, TypeID: a.TypeID}
		if a.To != "" {
			t = hubspot.AssociationType{Category: hubspot.CategoryHubSpotDefined, TypeID: lineItemTypeIDs[strings.ToLower(a.To)]}
		}
		if t.Category == "" {
			t.Category = hubspot.CategoryHubSpotDefined
		}
		m.assocs = append(m.assocs, boundAssociation{col: i, name: a.Column, types: []hubspot.AssociationType{t},
			objectType: targetObjectTypes[strings.ToLower(a.To)], by: a.By})
	}
	if s.Key != "" {
		m.key = col("key", s.Key)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("mapping: %w", errors.Join(errs...))
	}
	return m, nil
}

// Key returns the record's key value, or "" when the mapping has no key.
func (m *Mapper) Key(record []string) string {
	if m.key < 0 || m.key >= len(record) {
		return ""
	}
	return record[m.key]
}

// HasKey reports whether the mapping names a key column.
func (m *Mapper) HasKey() bool { return m.key >= 0 }

// Map converts one record. Empty cells send nothing: no property, no
// association. The record must have exactly the header's width; callers
// reject ragged records before calling Map. The input's properties are in
// name order. Its associations' Types slices are shared by every input the
// Mapper makes: they must not be modified.
func (m *Mapper) Map(record []string) (hubspot.CreateInput, error) {
	var in hubspot.CreateInput
	if err := m.MapInto(&in, record); err != nil {
		return hubspot.CreateInput{}, err
	}
	return in, nil
}

// MapInto is Map into *in, reusing the memory of its Properties and
// Associations slices: what an earlier call put there is overwritten.
//
// A record with bad values gets [FieldErrors] naming every one of them;
// *in then holds the record's good values. A record shorter than the
// header gets an error that is not a FieldErrors.
func (m *Mapper) MapInto(in *hubspot.CreateInput, record []string) error {
	if len(record) < m.width {
		return fmt.Errorf("mapping: the record has %d fields, the header %d", len(record), m.width)
	}
	in.ObjectWriteTraceID = ""
	in.Properties = slices.Grow(in.Properties[:0], len(m.props)+1)
	in.Associations = in.Associations[:0]
	var errs FieldErrors
	for i := range m.props {
		p := &m.props[i]
		if p.constant {
			in.Properties = append(in.Properties, hubspot.NameValue{Name: p.name, Value: p.value})
			continue
		}
		cell := record[p.col]
		c := cell
		if p.trim {
			c = trimCell(c)
		}
		if c == "" {
			if p.hasDefault {
				in.Properties = append(in.Properties, hubspot.NameValue{Name: p.name, Value: p.def})
			}
			continue
		}
		v, f := p.conv(c)
		if f.failed() {
			errs = append(errs, &FieldError{Column: p.spec.Column, Property: p.name, Value: cell, Expected: f.expected, Hint: f.hint})
			continue
		}
		if n := hubspot.TooLong(v); n > 0 {
			errs = append(errs, &FieldError{Column: p.spec.Column, Property: p.name, Value: v,
				Expected: fmt.Sprintf("at most %d characters long (it has %d)", hubspot.MaxPropertyValueLen, n)})
			continue
		}
		in.Properties = append(in.Properties, hubspot.NameValue{Name: p.name, Value: v})
	}
	for _, a := range m.assocs {
		cell := strings.TrimSpace(record[a.col])
		if cell == "" {
			continue
		}
		if a.by == "" && !isDigits(cell) {
			errs = append(errs, &FieldError{Column: a.name, Value: cell, Expected: "a HubSpot record id (digits only)"})
			continue
		}
		in.Associations = append(in.Associations, hubspot.Association{To: hubspot.ObjectID{ID: cell}, Types: a.types, ObjectType: a.objectType, By: a.by})
	}
	if len(in.Associations) > 1 {
		// In an order of their own, not the mapping's: the same row sends
		// the same bytes (and so has the same identity in the journal)
		// whatever order the mapping lists its associations in.
		slices.SortFunc(in.Associations, func(x, y hubspot.Association) int {
			return cmp.Or(cmp.Compare(x.Types[0].TypeID, y.Types[0].TypeID), strings.Compare(x.Types[0].Category, y.Types[0].Category),
				cmp.Compare(len(x.To.ID), len(y.To.ID)), strings.Compare(x.To.ID, y.To.ID))
		})
	}
	if errs != nil {
		return errs
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
