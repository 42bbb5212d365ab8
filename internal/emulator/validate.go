package emulator

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validation codes used in HubSpot's "Property values were not valid"
// errors. The ones marked verified appear in HubSpot's docs, changelog or
// real responses quoted in public code; the others are this emulator's
// choice where no HubSpot answer could be found (see the package doc).
const (
	CodePropertyDoesntExist = "PROPERTY_DOESNT_EXIST"       // verified
	CodeReadOnlyValue       = "READ_ONLY_VALUE"             // verified
	CodeInvalidOption       = "INVALID_OPTION"              // verified
	CodeInvalidDate         = "INVALID_DATE"                // verified
	CodeInvalidLong         = "INVALID_LONG"                // verified (datetime values)
	CodeWhitespace          = "LEADING_TRAILING_WHITESPACE" // verified
	CodeInvalidNumber       = "INVALID_DOUBLE"              // unverified
	CodeValueTooLong        = "VALUE_TOO_LONG"              // unverified
	CodeInvalidValue        = "INVALID_VALUE"               // unverified: negative price, bad term
)

// propError is one invalid property value of one input.
type propError struct {
	name, value, code, message string
}

var (
	plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	epochMillis = regexp.MustCompile(`^-?[0-9]{1,19}$`)
	isoDate     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	isoDateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2})$`)
	isoPeriod   = regexp.MustCompile(`^P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$`)
)

// invisibleEdge reports runes HubSpot counts as leading or trailing
// whitespace: Unicode spaces and invisible format characters.
func invisibleEdge(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == '\u00a0'
}

// validateValue checks one property value against its definition p (nil
// when the property does not exist). It returns nil for a valid value.
func validateValue(name string, p *Property, v string) *propError {
	fail := func(code, msg string) *propError { return &propError{name: name, value: v, code: code, message: msg} }
	if p == nil {
		return fail(CodePropertyDoesntExist, fmt.Sprintf("Property %q does not exist", name))
	}
	if p.Calculated {
		return fail(CodeReadOnlyValue, fmt.Sprintf("%q is a calculated property; its value cannot be set.", name))
	}
	if p.ReadOnlyValue {
		return fail(CodeReadOnlyValue, fmt.Sprintf("%q is a read only property; its value cannot be set.", name))
	}
	if v == "" {
		return nil // an empty value leaves the property unset
	}
	if p.Type != "string" && strings.TrimFunc(v, invisibleEdge) != v {
		return fail(CodeWhitespace, fmt.Sprintf("%q includes leading or trailing whitespace.", v))
	}
	switch p.Type {
	case "number":
		if !plainNumber.MatchString(v) {
			return fail(CodeInvalidNumber, v+" was not a valid number.")
		}
		if name == "price" && strings.HasPrefix(v, "-") && strings.Trim(v, "-0.") != "" {
			return fail(CodeInvalidValue, fmt.Sprintf("Line item price cannot be negative: %s", v))
		}
	case "date":
		if msg := checkDate(v); msg != "" {
			return fail(CodeInvalidDate, msg)
		}
	case "datetime":
		if !validDateTime(v) {
			return fail(CodeInvalidLong, v+" was not a valid long.")
		}
	case "bool":
		if v != "true" && v != "false" {
			return fail(CodeInvalidOption, v+" was not one of the allowed options: [true, false]")
		}
	case "enumeration":
		values := []string{v}
		if p.FieldType == "checkbox" {
			values = strings.Split(v, ";")
		}
		for _, one := range values {
			if !hasOption(p, one) {
				return fail(CodeInvalidOption, fmt.Sprintf("%s was not one of the allowed options: %s", one, optionList(p)))
			}
		}
	default: // string and any other textual type
		if n := utf8.RuneCountInString(v); n > maxPropertyValueRunes {
			return fail(CodeValueTooLong, fmt.Sprintf("Value for property %q is %d characters long; the limit is %d.", name, n, maxPropertyValueRunes))
		}
		if name == "hs_recurring_billing_period" && (len(v) < 3 || !isoPeriod.MatchString(v)) {
			return fail(CodeInvalidValue, fmt.Sprintf("%s is not a valid ISO-8601 period (PnYnMnD or PnW)", v))
		}
	}
	return nil
}

func hasOption(p *Property, v string) bool {
	for _, o := range p.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

func optionList(p *Property) string {
	vals := make([]string, len(p.Options))
	for i, o := range p.Options {
		vals[i] = o.Value
	}
	return "[" + strings.Join(vals, ", ") + "]"
}

// checkDate validates a date property value: YYYY-MM-DD, or epoch
// milliseconds (or an ISO instant) exactly at midnight UTC. It returns ""
// for a valid value, else HubSpot's message.
func checkDate(v string) string {
	var t time.Time
	switch {
	case isoDate.MatchString(v):
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return v + " is not a valid date"
		}
		return ""
	case epochMillis.MatchString(v):
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return v + " is not a valid date"
		}
		t = time.UnixMilli(ms).UTC()
	case isoDateTime.MatchString(v):
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return v + " is not a valid date"
		}
		t = t.UTC()
	default:
		return v + " is not a valid date"
	}
	if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
		return fmt.Sprintf("%s is at %d:%d:%d.%d UTC, not midnight!", v, t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/int(time.Millisecond))
	}
	return ""
}

// validDateTime accepts epoch milliseconds or an ISO-8601 instant with at
// most millisecond precision and an explicit zone.
func validDateTime(v string) bool {
	if epochMillis.MatchString(v) {
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	}
	if isoDateTime.MatchString(v) {
		_, err := time.Parse(time.RFC3339Nano, v)
		return err == nil
	}
	return false
}
