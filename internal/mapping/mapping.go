// Package mapping turns CSV records into HubSpot line-item inputs.
//
// A [Spec] is what the user wrote (a YAML file, or nothing: every column maps
// to the property of the same name). [Spec.Compile] binds it to a CSV
// header and returns a [Mapper], which converts one record at a time. A
// problem with one record is a *[FieldError] naming the column, the value
// and what was expected; it fails that record only. A problem with the
// spec or the header is returned by Load or Compile and is fatal.
package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

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
)

// ReportColumns are the columns the importer appends to failed and in-doubt
// reports. They are ignored on input, so such a report can be fed back.
var ReportColumns = []string{"error_row", "error_code", "error_message"}

// Spec is a parsed mapping file.
type Spec struct {
	Properties   map[string]PropertySpec `yaml:"properties"`
	Associations []AssociationSpec       `yaml:"associations"`
	Key          string                  `yaml:"key"`
}

// PropertySpec says where a property's value comes from and how it is
// converted. In YAML it is either a column name or a mapping.
type PropertySpec struct {
	Column string            `yaml:"column"`
	Type   string            `yaml:"type"`
	Format string            `yaml:"format"`
	Values map[string]string `yaml:"values"`
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
// Either To (a HubSpot-defined target) or TypeID is set.
type AssociationSpec struct {
	Column   string `yaml:"column"`
	To       string `yaml:"to"`
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
// is caught before anything is sent.
func Load(r io.Reader) (*Spec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("mapping: the file is empty")
		}
		return nil, fmt.Errorf("mapping: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Spec) check() error {
	var errs []error
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name]
		if p.Column == "" {
			errs = append(errs, fmt.Errorf("property %q: no column", name))
		}
		switch p.Type {
		case "", TypeString, TypeNumber, TypeBool:
		case TypeDate, TypeDatetime:
		case TypeEnum:
			if len(p.Values) == 0 {
				errs = append(errs, fmt.Errorf("property %q: type enum needs values (label: internal value)", name))
			}
		default:
			errs = append(errs, fmt.Errorf("property %q: unknown type %q (want string, number, bool, date, datetime or enum)", name, p.Type))
		}
		if p.Type != TypeEnum && len(p.Values) > 0 {
			errs = append(errs, fmt.Errorf("property %q: values are only for type enum", name))
		}
	}
	for i, a := range s.Associations {
		where := fmt.Sprintf("association %d (column %q)", i+1, a.Column)
		if a.Column == "" {
			errs = append(errs, fmt.Errorf("association %d: no column", i+1))
		}
		switch {
		case a.To != "" && a.TypeID != 0:
			errs = append(errs, fmt.Errorf("%s: give either to or type_id, not both", where))
		case a.To != "":
			if _, ok := lineItemTypeIDs[strings.ToLower(a.To)]; !ok {
				errs = append(errs, fmt.Errorf("%s: unknown target %q (want one of %s)", where, a.To, strings.Join(AssociationTargets(), ", ")))
			}
			if a.Category != "" && a.Category != hubspot.CategoryHubSpotDefined {
				errs = append(errs, fmt.Errorf("%s: to: %s is HUBSPOT_DEFINED; use type_id for category %s", where, a.To, a.Category))
			}
		case a.TypeID > 0:
			switch a.Category {
			case "", hubspot.CategoryHubSpotDefined, hubspot.CategoryUserDefined, hubspot.CategoryIntegratorDefined, hubspot.CategoryWork:
			default:
				errs = append(errs, fmt.Errorf("%s: unknown category %q", where, a.Category))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: needs to: (one of %s) or a positive type_id", where, strings.Join(AssociationTargets(), ", ")))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("mapping: %w", errors.Join(errs...))
	}
	return nil
}

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
	Expected string
}

func (e *FieldError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:77] + "..."
	}
	if e.Property != "" && e.Property != e.Column {
		return fmt.Sprintf("column %q (property %s): %q is not %s", e.Column, e.Property, v, e.Expected)
	}
	return fmt.Sprintf("column %q: %q is not %s", e.Column, v, e.Expected)
}

// Code is the error code written to failed.csv for a value rejected locally.
func (e *FieldError) Code() string { return "INVALID_VALUE" }

// Mapper converts records of one CSV header. It is safe for concurrent use.
type Mapper struct {
	props  []boundProperty
	assocs []boundAssociation
	key    int // column index of the key, -1 if none
	width  int // number of data columns in the header
}

type boundProperty struct {
	name string
	col  int
	conv converter
	spec PropertySpec
}

type boundAssociation struct {
	col  int
	name string
	typ  hubspot.AssociationType
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
			errs = append(errs, fmt.Errorf("%s: the CSV has no column %q (columns: %s)", what, name, quoteList(header)))
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
		i := col("property "+name, p.Column)
		conv, err := newConverter(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("property %s: %w", name, err))
		}
		m.props = append(m.props, boundProperty{name: name, col: i, conv: conv, spec: p})
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
		m.assocs = append(m.assocs, boundAssociation{col: i, name: a.Column, typ: t})
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
// reject ragged records before calling Map.
func (m *Mapper) Map(record []string) (hubspot.CreateInput, error) {
	in := hubspot.CreateInput{Properties: make(map[string]string, len(m.props))}
	for _, p := range m.props {
		cell := record[p.col]
		if cell == "" {
			continue
		}
		v, expected := p.conv(cell)
		if expected != "" {
			return hubspot.CreateInput{}, &FieldError{Column: p.spec.Column, Property: p.name, Value: cell, Expected: expected}
		}
		if n := len([]rune(v)); n > hubspot.MaxPropertyValueLen {
			return hubspot.CreateInput{}, &FieldError{Column: p.spec.Column, Property: p.name, Value: v,
				Expected: fmt.Sprintf("at most %d characters long (it has %d)", hubspot.MaxPropertyValueLen, n)}
		}
		in.Properties[p.name] = v
	}
	for _, a := range m.assocs {
		cell := strings.TrimSpace(record[a.col])
		if cell == "" {
			continue
		}
		if !isDigits(cell) {
			return hubspot.CreateInput{}, &FieldError{Column: a.name, Value: cell, Expected: "a HubSpot record id (digits only)"}
		}
		in.Associations = append(in.Associations, hubspot.Association{
			To:    hubspot.ObjectID{ID: cell},
			Types: []hubspot.AssociationType{a.typ},
		})
	}
	return in, nil
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
