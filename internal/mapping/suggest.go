package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lineitems/importer/internal/hubspot"
)

var suggestIntro = []string{
	"Mapping suggested from the CSV header and the portal's line-item properties.",
	"Check it before importing. Each entry is \"HubSpot property: CSV column\" or",
	"\"property: {column: ..., type: ...}\" (docs/mapping.md). More keys:",
	"  trim: true        remove white space around the cell",
	"  default: VALUE    the value sent for an empty cell",
	"  value: CONST      a constant for every row, instead of column",
	"  decimal: \",\", thousands: \".\", percent: true    numbers like 1.234,5 or 12,5 %",
	"  currency: \"€\"     a currency symbol before or after the number, dropped",
	"  format: iso, us, eu, epoch_ms or a Go layout like \"01/02/2006\"; formats: [...] for several",
	"  separator: \"|\"    between the values of a multi cell (default \";\")",
}

var identityIntro = []string{
	"Mapping suggested from the CSV header alone: without the portal's property list,",
	"every column maps to the line-item property of the same name, as text.",
	"Rename each key to the property's internal name and set its type",
	"(see docs/mapping.md).",
}

// Suggest proposes a mapping for a CSV header, for the user to check and
// edit. Write it with [Spec.YAML].
//
// Each column is matched to a property of props by name, then by label,
// ignoring case, spaces, underscores and hyphens. The property's type
// decides the conversion: number, date and datetime as such, an
// enumeration with field type checkbox as multi, another enumeration as
// enum with each option as "label: value", bool (or field type
// booleancheckbox) as bool, anything else as text. Read-only and calculated
// properties are never suggested. A column named like "Deal ID" or
// "quote_id" becomes an association (to: deal, quote, ...). The columns
// left over are listed as comments ("# unmatched column: ...").
//
// With props == nil, Suggest falls back to [Identity]: every column maps to
// the property of the same name, as text.
//
// Columns the importer ignores (ReportColumns), columns without a name and
// columns the header holds twice are never mapped, so the spec always
// compiles for header.
func Suggest(header []string, props []hubspot.Property) *Spec {
	l := &layout{labels: map[string][]string{}}
	s := &Spec{Properties: map[string]PropertySpec{}, layout: l}
	if props == nil {
		l.intro = identityIntro
	} else {
		l.intro = suggestIntro
	}
	count := map[string]int{}
	for _, h := range header {
		count[h]++
	}
	used := map[string]string{} // property name → column
	noted := map[string]bool{}
	for _, h := range header {
		unmatched := func(why string) {
			c := "unmatched column: " + strconv.Quote(h)
			if why != "" {
				c += " (" + why + ")"
			}
			l.items = append(l.items, layoutItem{comment: c})
		}
		switch {
		case slices.Contains(ReportColumns, h):
			continue
		case h == "":
			unmatched("it has no name")
			continue
		case !utf8.ValidString(h):
			unmatched("not valid UTF-8")
			continue
		case count[h] > 1:
			if !noted[h] {
				unmatched(fmt.Sprintf("the header has it %d times", count[h]))
				noted[h] = true
			}
			continue
		}
		if props == nil {
			s.Properties[h] = PropertySpec{Column: h}
			l.items = append(l.items, layoutItem{property: h})
			continue
		}
		if to := associationTarget(h); to != "" {
			s.Associations = append(s.Associations, AssociationSpec{Column: h, To: to})
			l.assocs = append(l.assocs, fmt.Sprintf("line item to %s (association type %d)", to, lineItemTypeIDs[to]))
			continue
		}
		p, why := matchProperty(h, props, used)
		if p == nil {
			unmatched(why)
			continue
		}
		used[p.Name] = h
		spec, labels, comment := suggestProperty(h, p)
		s.Properties[p.Name] = spec
		if labels != nil {
			l.labels[p.Name] = labels
		}
		l.items = append(l.items, layoutItem{property: p.Name, comment: comment})
		if p.HasUniqueValue && len(l.trailer) == 0 {
			l.trailer = append(l.trailer,
				fmt.Sprintf("key: %s", scalar(h)),
				fmt.Sprintf("  %s has unique values: uncomment the key above and run with --key-property %s", p.Name, p.Name),
				"  so that rows with no clear answer are looked up instead of left in doubt.")
		}
	}
	return s
}

// normalize folds a name for matching: lower case, without white space,
// underscores and hyphens.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// associationTarget returns the `to:` target a column such as "Deal ID",
// "deal_id" or "Quote Record ID" holds ids of, or "".
func associationTarget(h string) string {
	n := normalize(h)
	for _, to := range AssociationTargets() {
		if n == to+"id" || n == to+"recordid" {
			return to
		}
	}
	return ""
}

// matchProperty finds the property for column h: by exact name, then by
// name, then by label, both normalized. It skips read-only and calculated
// properties and those already mapped; when it finds nothing else, it
// says why.
func matchProperty(h string, props []hubspot.Property, used map[string]string) (*hubspot.Property, string) {
	n := normalize(h)
	tiers := []func(p *hubspot.Property) bool{
		func(p *hubspot.Property) bool { return p.Name == h },
		func(p *hubspot.Property) bool { return n != "" && normalize(p.Name) == n },
		func(p *hubspot.Property) bool { return n != "" && normalize(p.Label) == n },
	}
	why := ""
	for _, match := range tiers {
		for i := range props {
			p := &props[i]
			if !match(p) {
				continue
			}
			var reason string
			switch {
			case p.Name == "":
				continue
			case p.Calculated:
				reason = fmt.Sprintf("property %s is calculated by HubSpot", p.Name)
			case p.ModificationMetadata.ReadOnlyValue:
				reason = fmt.Sprintf("property %s is read-only", p.Name)
			case used[p.Name] != "":
				reason = fmt.Sprintf("property %s is mapped from column %q", p.Name, used[p.Name])
			default:
				return p, ""
			}
			if why == "" {
				why = reason
			}
		}
	}
	return nil, why
}

// suggestProperty returns how column h fills property p, the order of its
// values' labels, and a comment saying what p is.
func suggestProperty(h string, p *hubspot.Property) (PropertySpec, []string, string) {
	comment := p.Label
	if comment == "" {
		comment = p.Name
	}
	kind := p.Type
	if p.FieldType != "" && p.FieldType != p.Type {
		kind += ", " + p.FieldType
	}
	comment += " (" + kind + ")"
	spec := PropertySpec{Column: h}
	switch {
	case p.Type == "bool" || p.FieldType == "booleancheckbox":
		spec.Type = TypeBool
	case p.Type == "number":
		spec.Type = TypeNumber
	case p.Type == "date":
		spec.Type = TypeDate
		comment += "; reads 2026-01-31 unless you set format"
	case p.Type == "datetime":
		spec.Type = TypeDatetime
		comment += "; reads 2026-01-31T10:30:00Z (RFC 3339) unless you set format"
	case p.Type == "enumeration":
		multi := p.FieldType == "checkbox"
		labels, values, left := optionValues(p.Options, multi)
		if len(values) == 0 {
			return spec, nil, comment + "; no options to map, so sent as text"
		}
		spec.Type, spec.Values = TypeEnum, values
		if multi {
			spec.Type = TypeMulti
			comment += `; values separated by ";"`
		}
		if len(left) > 0 {
			comment += "; options left out: " + quoteList(left)
		}
		return spec, labels, comment
	}
	return spec, nil, comment
}

// optionValues turns enumeration options into `values:` (label: internal
// value), in the options' order. A label that is empty or taken is
// replaced by the option's value; an option that still cannot be told
// apart, or has an empty value, or for multi a value with ';', is left out
// and returned in left.
func optionValues(opts []hubspot.PropertyOption, multi bool) (labels []string, values map[string]string, left []string) {
	values = map[string]string{}
	usable := func(label string) bool {
		_, taken := values[label]
		return label != "" && !taken && strings.TrimSpace(label) == label &&
			!(multi && strings.Contains(label, multiSeparator))
	}
	for _, o := range opts {
		if o.Value == "" || (multi && strings.Contains(o.Value, multiSeparator)) {
			left = append(left, o.Value)
			continue
		}
		label := strings.TrimSpace(o.Label)
		if !usable(label) {
			label = o.Value
		}
		if !usable(label) {
			left = append(left, o.Value)
			continue
		}
		labels = append(labels, label)
		values[label] = o.Value
	}
	return labels, values, left
}
