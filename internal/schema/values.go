package schema

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/mapping"
)

// The matchers below are hand-written equivalents of the emulator's
// regular expressions (the tests compare them on generated strings):
//
//	number    ^-?[0-9]+(\.[0-9]+)?$
//	epoch ms  ^-?[0-9]{1,19}$, then strconv.ParseInt
//	date      ^[0-9]{4}-[0-9]{2}-[0-9]{2}$, then time.Parse(time.DateOnly)
//	instant   ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2})$,
//	          then time.Parse(time.RFC3339Nano)
//	period    ^P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$ and at least 3 characters

// invisibleEdge reports runes HubSpot counts as leading or trailing
// whitespace: Unicode spaces and invisible format characters.
func invisibleEdge(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == '\u00a0'
}

func trimEdges(v string) string {
	// Most values start and end with a visible ASCII character.
	if v == "" || (plainEdge(v[0]) && plainEdge(v[len(v)-1])) {
		return v
	}
	return strings.TrimFunc(v, invisibleEdge)
}

// plainEdge reports whether b is a visible ASCII character, which
// invisibleEdge never trims.
func plainEdge(b byte) bool { return b > ' ' && b < 0x7f }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the index after the run of digits starting at i.
func digits(v string, i int) int {
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	return i
}

// PlainNumber reports whether v is a number as HubSpot's number
// properties take one: an optional "-", digits, optionally "." and digits.
func PlainNumber(v string) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	j := digits(v, i)
	if j == i {
		return false
	}
	if j == len(v) {
		return true
	}
	if v[j] != '.' {
		return false
	}
	k := digits(v, j+1)
	return k > j+1 && k == len(v)
}

// negative reports a number below zero ("-0" and "-0.00" are not).
func negative(v string) bool {
	return strings.HasPrefix(v, "-") && strings.Trim(v, "-0.") != ""
}

// EpochMillis parses epoch milliseconds, a form date and datetime
// properties take: an optional "-" and 1 to 19 digits. isShape reports
// whether v has that shape, valid whether it also fits an int64.
func EpochMillis(v string) (ms int64, isShape, valid bool) {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	j := digits(v, i)
	if j == i || j != len(v) || j-i > 19 {
		return 0, false, false // not the shape
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	return ms, true, err == nil
}

// shape matches v against a pattern in which 'd' is a digit and every other
// byte is itself.
func shape(v, pattern string) bool {
	if len(v) != len(pattern) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if pattern[i] == 'd' {
			if !isDigit(v[i]) {
				return false
			}
		} else if v[i] != pattern[i] {
			return false
		}
	}
	return true
}

func isoDateShape(v string) bool { return shape(v, "dddd-dd-dd") }

// isoInstantShape: date, time with seconds, up to 3 fraction digits, and
// Z or ±hh:mm.
func isoInstantShape(v string) bool {
	const head = "dddd-dd-ddTdd:dd:dd"
	if len(v) < len(head) || !shape(v[:len(head)], head) {
		return false
	}
	rest := v[len(head):]
	if rest != "" && rest[0] == '.' {
		j := digits(rest, 1)
		if j == 1 || j > 4 {
			return false
		}
		rest = rest[j:]
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && shape(rest[1:], "dd:dd")
}

// checkDate validates a date value: YYYY-MM-DD, or epoch milliseconds or
// an ISO instant exactly at midnight UTC. For an instant that is not at
// midnight, hint names the time and the day's valid values; for a day that
// does not exist, it says so.
func checkDate(v string) (ok bool, hint string) {
	var t, day time.Time // the instant in UTC; the calendar day to suggest
	if isoDateShape(v) {
		if hubspot.CalendarDay(v) {
			return true, ""
		}
		return false, dayHint(v)
	}
	if ms, isShape, valid := EpochMillis(v); isShape {
		if !valid {
			return false, ""
		}
		t = time.UnixMilli(ms).UTC()
		day = t
	} else if isoInstantShape(v) {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return false, dayHint(v)
		}
		day, t = t, t.UTC()
	} else {
		return false, ""
	}
	if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
		day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
		return false, fmt.Sprintf("this value is at %s UTC, not midnight; that day is %q or %d", t.Format("15:04:05.000"), day.Format(time.DateOnly), day.UnixMilli())
	}
	return true, ""
}

// dayHint explains why v, which starts with YYYY-MM-DD, names no day:
// "there is no month 13", "February 2024 has no day 30", "February 2023
// has no day 29 (2023 is not a leap year)", in the words of the mapping's
// date messages ([mapping.DayHint]). It returns "" when v does not start so, or names a day.
func dayHint(v string) string {
	if len(v) < 10 || !isoDateShape(v[:10]) || hubspot.CalendarDay(v[:10]) {
		return ""
	}
	y, _ := strconv.Atoi(v[0:4])
	m, _ := strconv.Atoi(v[5:7])
	d, _ := strconv.Atoi(v[8:10])
	if m < 1 || m > 12 {
		return fmt.Sprintf("there is no month %d", m)
	}
	return mapping.DayHint(y, time.Month(m), d)
}

// validDateTime accepts epoch milliseconds or an ISO 8601 instant with at
// most millisecond precision and an explicit zone.
func validDateTime(v string) bool {
	if _, isShape, valid := EpochMillis(v); isShape {
		return valid
	}
	if isoInstantShape(v) {
		_, err := time.Parse(time.RFC3339Nano, v)
		return err == nil
	}
	return false
}

// isoPeriod accepts PnYnMnD or PnW periods (any of the parts, in that
// order) of at least 3 characters.
func isoPeriod(v string) bool {
	if len(v) < 3 || v[0] != 'P' {
		return false
	}
	units := "YMWD"
	for i := 1; i < len(v); {
		j := digits(v, i)
		if j == i || j == len(v) {
			return false
		}
		u := strings.IndexByte(units, v[j])
		if u < 0 {
			return false
		}
		units = units[u+1:]
		i = j + 1
	}
	return true
}
