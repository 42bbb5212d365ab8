package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/lineitems/importer/internal/jsonstr"
)

// The regular expressions the hand-written matchers of validate.go replace.
var (
	plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	epochMillis = regexp.MustCompile(`^-?[0-9]{1,19}$`)
	isoDate     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	isoDateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?(Z|[+-][0-9]{2}:[0-9]{2})$`)
	isoPeriod   = regexp.MustCompile(`^P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$`)
)

// checkMatchers compares every matcher with its regular expression, and
// the calendar check with time.Parse, on v.
func checkMatchers(t *testing.T, v string) {
	t.Helper()
	for _, m := range []struct {
		name string
		re   *regexp.Regexp
		fn   func(string) bool
	}{
		{"plainNumber", plainNumber, isPlainNumber},
		{"epochMillis", epochMillis, isEpochMillis},
		{"isoDate", isoDate, isISODate},
		{"isoDateTime", isoDateTime, isISODateTime},
		{"isoPeriod", isoPeriod, isISOPeriod},
	} {
		if got, want := m.fn(v), m.re.MatchString(v); got != want {
			t.Errorf("%s(%q) = %v, regexp says %v", m.name, v, got, want)
		}
	}
	if isISODate(v) {
		_, err := time.Parse(time.DateOnly, v)
		if got := validISODate(v); got != (err == nil) {
			t.Errorf("validISODate(%q) = %v, time.Parse error %v", v, got, err)
		}
	}
	if got, want := hasInvisibleEdge(v), strings.TrimFunc(v, invisibleEdge) != v; got != want {
		t.Errorf("hasInvisibleEdge(%q) = %v, want %v", v, got, want)
	}
}

var matcherSeeds = []string{
	"", "-", "0", "-0", "12", "1.5", "1.", ".5", "-1.25", "+1", "1e3", "1,5", "--1", "1.2.3", " 1", "1 ",
	"1234567890123456789", "12345678901234567890", "-1234567890123456789",
	"2024-01-15", "2024-1-15", "2024-01-15 ", "0000-02-29", "1900-02-29", "2000-02-29", "2023-02-29", "2024-02-29",
	"2024-04-31", "2024-12-31", "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32", "9999-12-31",
	"2024-01-15T10:30:00Z", "2024-01-15T10:30:00.1Z", "2024-01-15T10:30:00.123Z", "2024-01-15T10:30:00.1234Z",
	"2024-01-15T10:30:00+02:00", "2024-01-15T10:30:00.12-11:30", "2024-01-15T10:30:00", "2024-01-15T10:30:00.Z",
	"2024-01-15T10:30:00+0200", "2024-01-15t10:30:00Z", "2024-01-15T10:30:00z",
	"P", "P1Y", "P12M", "P1Y2M3D", "P2W", "P1D2Y", "P1Y1Y", "PY", "P1", "P1W1D", "P1M1W", "P01Y", "p1Y", "P1Y ",
	"\u00a05", "5\u200b", "\t5", "5\n", "\xff5", "5\xff", "\u20285",
}

func TestMatchersAgreeWithRegexps(t *testing.T) {
	for _, v := range matcherSeeds {
		checkMatchers(t, v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789-.:TZ+PYMWD e"
	for range 200000 {
		b := make([]byte, r.IntN(30))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		checkMatchers(t, string(b))
	}
	for c := rune(0); c < 0x3100; c++ {
		checkMatchers(t, string(c))
		checkMatchers(t, "1"+string(c))
		checkMatchers(t, string(c)+"1")
	}
	for _, c := range []rune{0xfeff, 0xfff9, 0xe0001, 0x110bd, utf8.RuneError} {
		checkMatchers(t, string(c)+"1"+string(c))
	}
	for y := 0; y < 10000; y += 1 + r.IntN(97) {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				checkMatchers(t, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
}

func FuzzMatchers(f *testing.F) {
	for _, v := range matcherSeeds {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) { checkMatchers(t, v) })
}

// checkString compares appendJSONString with encoding/json.
func checkString(t *testing.T, s string) {
	t.Helper()
	if got, want := string(appendJSONString(nil, s)), string(marshal(s)); got != want {
		t.Errorf("appendJSONString(%q) = %s, encoding/json gives %s", s, got, want)
	}
}

func TestAppendJSONString(t *testing.T) {
	for c := range 256 {
		checkString(t, string(rune(c)))
		checkString(t, "a"+string([]byte{byte(c)})+"b")
	}
	for _, s := range []string{"", "plain", `q"b\s/`, "<&>", "\u2028\u2029", "é😀", "\xed\xa0\x80", "\xc3(", "\ufffd", "\x7f"} {
		checkString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("a\u2028<\x01\"\\\xff")
	f.Fuzz(checkString)
}

// batchResponse is the struct appendBatchResponse encodes by hand: the
// same fields as a batch read's answer.
type batchResponse = batchReadResponse

// plainASCII is what batchParser.plain means: s needs no escaping.
func plainASCII(s string) bool { return jsonstr.Plain(s, 0) == len(s) }

// TestAppendBatchResponse compares the hand-written encoder with
// encoding/json on random batch outcomes.
func TestAppendBatchResponse(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	names := []string{"name", "price", "createdate", "hs_object_id", "hs_lastmodifieddate", "a", "zz", "hs_sku", "é", "<&>", "", "hs_m"}
	values := []string{"", "x", "A & <B>", "\u2028", "\x00\x1f", `"\`, "😀", "\xff"}
	for range 2000 {
		out := batchOutcome{status: http.StatusCreated, ts: "2026-03-04T05:06:07.897Z", startedAt: "2026-03-04T05:06:07Z", completedAt: "2026-03-04T05:06:08.100Z"}
		want := batchResponse{Status: "COMPLETE", Results: []wireObject{}, StartedAt: out.startedAt, CompletedAt: out.completedAt}
		for range r.IntN(4) {
			in := &createInput{}
			if r.IntN(2) == 0 {
				in.traceID = values[r.IntN(len(values))]
				in.tracePlain = r.IntN(2) == 0 && plainASCII(in.traceID)
			}
			seen := map[string]bool{}
			for range r.IntN(6) {
				n := names[r.IntN(len(names))]
				if !seen[n] {
					seen[n] = true
					v := values[r.IntN(len(values))]
					in.props = append(in.props, propKV{name: n, value: v, plain: r.IntN(2) == 0 && plainASCII(n) && plainASCII(v)})
				}
			}
			sortProps(in.props)
			id := r.Int64N(1 << 40)
			out.created = append(out.created, createdItem{in: in, id: id})
			// What the store and wire() made of it before.
			props := map[string]*string{}
			for _, p := range in.props {
				if p.value != "" {
					props[p.name] = &p.value
				}
			}
			idStr := fmt.Sprint(id)
			props["hs_object_id"] = &idStr
			props["createdate"] = &out.ts
			props["hs_lastmodifieddate"] = &out.ts
			want.Results = append(want.Results, wireObject{ID: idStr, Properties: props, CreatedAt: out.ts, UpdatedAt: out.ts, ObjectWriteTraceID: in.traceID})
		}
		for range r.IntN(3) {
			e := newStandardError("VALIDATION_ERROR", "m <&>", map[string][]string{"objectWriteTraceId": {"t"}},
				[]errorDetail{{Message: "x", Code: "C", Context: map[string][]string{"propertyName": {"p"}}}})
			if r.IntN(2) == 0 {
				e = newStandardError("CONFLICT", conflictMessage("12"), map[string][]string{"objectWriteTraceId": {"t"}, "existingId": {"12"}}, nil)
			}
			out.errors = append(out.errors, e)
			want.Errors = append(want.Errors, e)
		}
		want.NumErrors = len(want.Errors)
		got := appendBatchResponse(nil, &out)
		if exp := marshal(want); !bytes.Equal(got, exp) {
			t.Fatalf("hand-encoded:\n%s\nencoding/json:\n%s", got, exp)
		}
		if !json.Valid(got) || !utf8.Valid(got) {
			t.Fatalf("invalid JSON: %s", got)
		}
	}
}

func TestLowerEquals(t *testing.T) {
	words := []string{"", "a", "A", "sku-1", "SKU-1", "Sku-1", "sku-2", "ÀB", "àb", "İ", "i̇", "K", "k", "\u212a", "ß", "SS", "\xff", "ab\xffC"}
	for _, s := range words {
		for _, w := range words {
			if got, want := lowerEquals(s, w), strings.ToLower(s) == w; got != want {
				t.Errorf("lowerEquals(%q, %q) = %v, want %v", s, w, got, want)
			}
		}
	}
}

// foldWords are strings whose case folding is tricky: ASCII, Latin-1, the
// Kelvin sign and long s (which fold to ASCII), Greek sigmas, Turkish i's,
// sharp s, Cherokee and Deseret letters.
var foldWords = []string{"", "a", "A", "sku-1", "SKU-1", "Sku-1", "sku-2", "ÀB", "àb", "àB", "İ", "i̇", "ı", "I", "i",
	"K", "k", "\u212a", "S", "s", "\u017f", "ß", "ẞ", "SS", "ss", "Σ", "σ", "ς", "ΟΔΟΣ", "οδος", "οδοσ",
	"\u13a0", "\uab70", "\U00010400", "\U00010428", "Ǆ", "ǅ", "ǆ", "\ufffd", "x\u0301", "ǰ", "J̌"}

// checkFold compares foldKey with strings.EqualFold on a and b.
func checkFold(t *testing.T, a, b string) {
	t.Helper()
	if !utf8.ValidString(a) || !utf8.ValidString(b) {
		return // EqualFold reads every invalid byte as U+FFFD; stored values are valid UTF-8
	}
	if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
		t.Errorf("foldKey(%q) = %q, foldKey(%q) = %q: equal %v, EqualFold says %v", a, foldKey(a), b, foldKey(b), got, want)
	}
}

func TestFoldKeyIsEqualFold(t *testing.T) {
	for _, a := range foldWords {
		for _, b := range foldWords {
			checkFold(t, a, b)
		}
		if k := foldKey(a); foldKey(k) != k {
			t.Errorf("foldKey(%q) = %q is not its own key", a, k)
		}
	}
	// Every rune with a case against its simple fold and case mappings.
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.SimpleFold(r) == r && unicode.ToUpper(r) == r && unicode.ToLower(r) == r {
			continue // no case (this includes the surrogates)
		}
		a := string(r)
		checkFold(t, a, string(unicode.SimpleFold(r)))
		checkFold(t, a, string(unicode.ToUpper(r)))
		checkFold(t, a, string(unicode.ToLower(r)))
		checkFold(t, a, strings.ToLower(strings.ToUpper(a)))
	}
	if s := "PLAIN-UPPER 123"; unsafe.StringData(foldKey(s)) != unsafe.StringData(s) {
		t.Error("foldKey copied a string that needs no folding")
	}
}

func FuzzFoldKey(f *testing.F) {
	for i, w := range foldWords {
		f.Add(w, foldWords[(i+1)%len(foldWords)])
	}
	f.Fuzz(checkFold)
}
