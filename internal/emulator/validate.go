package emulator

import (
	"fmt"
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

// The value formats, as regular expressions (validate_test.go checks the
// hand-written matchers below against them):
//
//	plain number  ^-?[0-9]+(\.[0-9]+)?$
//	epoch millis  ^-?[0-9]{1,19}$
//	ISO date      ^[0-9]{4}-[0-9]{2}-[0-9]{2}$
//	ISO datetime  ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2})$
//	ISO period    ^P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the length of the run of ASCII digits at the start of v.
func digits(v string) int {
	n := 0
	for n < len(v) && isDigit(v[n]) {
		n++
	}
	return n
}

// allDigits reports whether v is non-empty and all ASCII digits.
func allDigits(v string) bool { return v != "" && digits(v) == len(v) }

func isPlainNumber(v string) bool {
	v = strings.TrimPrefix(v, "-")
	n := digits(v)
	if n == 0 {
		return false
	}
	if n == len(v) {
		return true
	}
	return v[n] == '.' && allDigits(v[n+1:])
}

func isEpochMillis(v string) bool {
	v = strings.TrimPrefix(v, "-")
	return allDigits(v) && len(v) <= 19
}

func isISODate(v string) bool {
	return len(v) == 10 && allDigits(v[0:4]) && v[4] == '-' && allDigits(v[5:7]) && v[7] == '-' && allDigits(v[8:10])
}

func isISODateTime(v string) bool {
	if len(v) < 20 || !isISODate(v[:10]) || v[10] != 'T' || !allDigits(v[11:13]) || v[13] != ':' ||
		!allDigits(v[14:16]) || v[16] != ':' || !allDigits(v[17:19]) {
		return false
	}
	rest := v[19:]
	if rest[0] == '.' {
		n := digits(rest[1:])
		if n < 1 || n > 3 {
			return false
		}
		rest = rest[1+n:]
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && allDigits(rest[1:3]) && rest[3] == ':' && allDigits(rest[4:6])
}

func isISOPeriod(v string) bool {
	if v == "" || v[0] != 'P' {
		return false
	}
	v = v[1:]
	next := 0 // index in "YMWD" of the first unit still allowed
	for v != "" {
		n := digits(v)
		if n == 0 || n == len(v) {
			return false
		}
		u := strings.IndexByte("YMWD", v[n])
		if u < next {
			return false
		}
		next = u + 1
		v = v[n+1:]
	}
	return true
}

// validISODate reports whether a value of the ISO date format is a real
// calendar date, as time.Parse(time.DateOnly, v) would.
func validISODate(v string) bool {
	year := int(v[0]-'0')*1000 + int(v[1]-'0')*100 + int(v[2]-'0')*10 + int(v[3]-'0')
	month := int(v[5]-'0')*10 + int(v[6]-'0')
	day := int(v[8]-'0')*10 + int(v[9]-'0')
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// hasInvisibleEdge reports whether v starts or ends with a rune HubSpot
// counts as whitespace, i.e. whether strings.TrimFunc(v, invisibleEdge) != v.
func hasInvisibleEdge(v string) bool {
	if v == "" {
		return false
	}
	if c := v[0]; c < utf8.RuneSelf {
		if asciiSpace(c) {
			return true
		}
	} else if r, _ := utf8.DecodeRuneInString(v); invisibleEdge(r) {
		return true
	}
	if c := v[len(v)-1]; c < utf8.RuneSelf {
		return asciiSpace(c)
	}
	r, _ := utf8.DecodeLastRuneInString(v)
	return invisibleEdge(r)
}

// asciiSpace is invisibleEdge for ASCII: no ASCII character is a format
// character, and the ASCII spaces are these.
func asciiSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

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
	if p.Type != "string" && hasInvisibleEdge(v) {
		return fail(CodeWhitespace, fmt.Sprintf("%q includes leading or trailing whitespace.", v))
	}
	switch p.Type {
	case "number":
		if !isPlainNumber(v) {
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
		// A value has no more runes than bytes, so short ones need no count.
		if len(v) > maxPropertyValueRunes {
			if n := utf8.RuneCountInString(v); n > maxPropertyValueRunes {
				return fail(CodeValueTooLong, fmt.Sprintf("Value for property %q is %d characters long; the limit is %d.", name, n, maxPropertyValueRunes))
			}
		}
		if name == "hs_recurring_billing_period" && (len(v) < 3 || !isISOPeriod(v)) {
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
	case isISODate(v):
		if !validISODate(v) {
			return v + " is not a valid date"
		}
		return ""
	case isEpochMillis(v):
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return v + " is not a valid date"
		}
		t = time.UnixMilli(ms).UTC()
	case isISODateTime(v):
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
	if isEpochMillis(v) {
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	}
	if isISODateTime(v) {
		_, err := time.Parse(time.RFC3339Nano, v)
		return err == nil
	}
	return false
}
