package mapping

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// converter turns a non-empty cell into HubSpot's string form. On failure it
// returns a non-empty description of what was expected.
type converter func(cell string) (value, expected string)

func newConverter(p PropertySpec) (converter, error) {
	switch p.Type {
	case "", TypeString:
		return func(c string) (string, string) { return c, "" }, nil
	case TypeNumber:
		return convertNumber, nil
	case TypeBool:
		return convertBool, nil
	case TypeDate:
		layout := p.Format
		if layout == "" {
			layout = time.DateOnly
		}
		if err := checkLayout(layout); err != nil {
			return nil, err
		}
		want := fmt.Sprintf("a date in the format %q", layout)
		return func(c string) (string, string) {
			t, err := time.Parse(layout, strings.TrimSpace(c))
			if err != nil {
				return "", want
			}
			return t.Format(time.DateOnly), ""
		}, nil
	case TypeDatetime:
		layout := p.Format
		if layout == "" {
			layout = time.RFC3339
		}
		if err := checkLayout(layout); err != nil {
			return nil, err
		}
		want := fmt.Sprintf("a date and time in the format %q", layout)
		return func(c string) (string, string) {
			t, err := time.Parse(layout, strings.TrimSpace(c))
			if err != nil {
				return "", want
			}
			return t.UTC().Format("2006-01-02T15:04:05.000Z"), ""
		}, nil
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
	}
	return nil, fmt.Errorf("unknown type %q", p.Type)
}

// checkLayout rejects a Go time layout that has no reference-time element,
// which would parse nothing.
func checkLayout(layout string) error {
	other := time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC)
	if other.Format(layout) == layout {
		return fmt.Errorf("format %q has no date elements (use Go's reference date, e.g. \"01/02/2006\")", layout)
	}
	return nil
}

// convertNumber accepts what HubSpot accepts for a number property: an
// optional leading minus, digits, and optionally one decimal point followed
// by digits. Thousands separators and exponents are rejected so that
// "1,234.50" never becomes 1.
func convertNumber(c string) (string, string) {
	const want = "a plain number (digits with an optional '-' and one '.', no thousands separators or exponents)"
	s := strings.TrimSpace(c)
	intPart, frac, hasDot := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if !isDigits(intPart) || (hasDot && !isDigits(frac)) {
		return "", want
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
