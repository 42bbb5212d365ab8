package schema

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/hubspot"
)

// The emulator's regular expressions (internal/emulator/validate.go), which
// the hand-written matchers must agree with.
var (
	emuPlainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	emuEpochMillis = regexp.MustCompile(`^-?[0-9]{1,19}$`)
	emuISODate     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	emuISODateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2})$`)
	emuISOPeriod   = regexp.MustCompile(`^P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$`)
)

func compareMatchers(t *testing.T, v string) {
	t.Helper()
	if got, want := PlainNumber(v), emuPlainNumber.MatchString(v); got != want {
		t.Errorf("PlainNumber(%q) = %v, regexp %v", v, got, want)
	}
	_, isShape, valid := EpochMillis(v)
	if want := emuEpochMillis.MatchString(v); isShape != want {
		t.Errorf("EpochMillis(%q) shape = %v, regexp %v", v, isShape, want)
	}
	if isShape {
		_, err := strconv.ParseInt(v, 10, 64)
		if valid != (err == nil) {
			t.Errorf("EpochMillis(%q) valid = %v, ParseInt %v", v, valid, err)
		}
	}
	if got, want := isoDateShape(v), emuISODate.MatchString(v); got != want {
		t.Errorf("isoDateShape(%q) = %v, regexp %v", v, got, want)
	}
	if isoDateShape(v) {
		_, err := time.Parse(time.DateOnly, v)
		if got := hubspot.CalendarDay(v); got != (err == nil) {
			t.Errorf("hubspot.CalendarDay(%q) = %v, time.Parse: %v", v, got, err)
		}
	}
	if got, want := isoInstantShape(v), emuISODateTime.MatchString(v); got != want {
		t.Errorf("isoInstantShape(%q) = %v, regexp %v", v, got, want)
	}
	if got, want := isoPeriod(v), len(v) >= 3 && emuISOPeriod.MatchString(v); got != want {
		t.Errorf("isoPeriod(%q) = %v, regexp %v", v, got, want)
	}
}

var matcherSeeds = []string{
	"", "-", "0", "-0", "1.5", "-1.5", ".5", "5.", "1.2.3", "+1", "12e3", "1,5", "１",
	"1709251200000", "-1709251200000", "9223372036854775807", "9223372036854775808", "12345678901234567890",
	"2024-03-01", "2024-3-01", "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-02-29",
	"2024-13-01", "2024-00-10", "2024-04-31", "2024-12-31", "2024-12-32", "9999-12-31", "2024-03-01T00:00:00Z", "2024-03-01T00:00:00.1Z", "2024-03-01T00:00:00.123Z",
	"2024-03-01T00:00:00.1234Z", "2024-03-01T00:00:00.Z", "2024-03-01T00:00:00+01:00", "2024-03-01T00:00:00+0100",
	"2024-03-01T00:00:00-01:00", "2024-03-01T00:00:00", "2024-03-01T00:00Z", "2024-03-01T00:00:00z",
	"P", "P1", "P1Y", "P12M", "P2W", "P1Y2M3W4D", "P1D1Y", "PY", "P1Y1Y", "PT1H", "P1Y\n", "1\n",
}

func TestMatchersAgreeWithEmulatorRegexps(t *testing.T) {
	for _, v := range matcherSeeds {
		compareMatchers(t, v)
	}
	// Random mutations of the seeds over the characters the patterns use.
	const alphabet = "0123456789-.:+TZzPYMWD \n"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		b := []byte(matcherSeeds[rng.IntN(len(matcherSeeds))])
		for range 1 + rng.IntN(3) {
			c := alphabet[rng.IntN(len(alphabet))]
			switch op := rng.IntN(3); {
			case op == 0 && len(b) > 0:
				b[rng.IntN(len(b))] = c
			case op == 1 && len(b) > 0:
				i := rng.IntN(len(b))
				b = append(b[:i], b[i+1:]...)
			default:
				i := rng.IntN(len(b) + 1)
				b = append(b[:i], append([]byte{c}, b[i:]...)...)
			}
		}
		compareMatchers(t, string(b))
		if t.Failed() {
			return
		}
	}
}

func FuzzMatchers(f *testing.F) {
	for _, v := range matcherSeeds {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) { compareMatchers(t, v) })
}
