package journal

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// oddStrings need escaping in JSON, or are escaped by encoding/json for
// HTML, or are not ASCII, or not valid UTF-8.
var oddStrings = []string{
	"",
	"k:import_key:SKU-1",
	`q"uote`,
	`back\slash\`,
	"<script>&amp;</script>",
	"\x00\x01\x08\x09\x0a\x0c\x0d\x1f\x20\x7f",
	"é ü 日本語 🎉",
	"\u2028\u2029",
	"\ufffd",
	"\xff",             // invalid byte
	"a\xc3",            // truncated sequence
	"\xed\xa0\x80",     // a surrogate
	"\xf4\x90\x80\x80", // beyond U+10FFFF
	"\xc0\xaf",         // overlong
	"ok\xfe\xffok",
}

// plainJSON is an independent encoding of the records marshal writes by
// hand: what encoding/json makes of plain types, without the record type
// and its MarshalJSON methods.
func plainJSON(t testing.TB, rec record) []byte {
	t.Helper()
	var v any
	switch {
	case rec.T == "sent":
		v = struct {
			T   string   `json:"t"`
			IDs []string `json:"ids"`
		}{rec.T, rec.IDs}
	default:
		rows := make([][]string, len(rec.Create))
		for i, c := range rec.Create {
			rows[i] = []string{c.Ident, c.ID}
			if c.Version != "" {
				rows[i] = append(rows[i], c.Version)
			}
		}
		v = struct {
			T      string     `json:"t"`
			Create [][]string `json:"create"`
		}{rec.T, rows}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkMarshal checks that marshal(rec) is what encoding/json writes, and
// for the records encoded by hand, what it writes for plain types; and
// that the line encodeLine makes decodes to rec, with each string as
// encoding/json reads back what it wrote (the string itself when it is
// valid UTF-8).
func checkMarshal(t testing.TB, rec record) {
	t.Helper()
	want, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := marshal(rec)
	if err != nil || string(got) != string(want) {
		t.Fatalf("marshal(%+v):\n got %s (%v)\nwant %s", rec, got, err, want)
	}
	byHand := rec.Header == nil && rec.Out == nil && (len(rec.IDs) > 0) != (len(rec.Create) > 0)
	if byHand {
		if plain := plainJSON(t, rec); string(got) != string(plain) {
			t.Fatalf("marshal(%+v):\n got %s\nwant %s (plain types)", rec, got, plain)
		}
	}
	line, err := encodeLine(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	back, ok := decode(line)
	if !ok {
		t.Fatalf("decode(%q) failed", line)
	}
	wantIDs := slices.Clone(rec.IDs)
	for i, s := range wantIDs {
		wantIDs[i] = viaJSON(t, s)
	}
	wantCreate := slices.Clone(rec.Create)
	for i, c := range wantCreate {
		wantCreate[i] = createdRow{viaJSON(t, c.Ident), viaJSON(t, c.ID), viaJSON(t, c.Version)}
	}
	if back.T != rec.T || !slices.Equal(back.IDs, wantIDs) || !slices.Equal(back.Create, wantCreate) {
		t.Fatalf("decode(encodeLine(%+v)) = %+v", rec, back)
	}
}

// viaJSON returns what encoding/json reads back of the string s it wrote.
func viaJSON(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if utf8.ValidString(s) && back != s {
		t.Fatalf("encoding/json does not read back %q: %q", s, back)
	}
	return back
}

// TestMarshalMatchesEncodingJSON: the hand-written encoding of the common
// records is byte for byte what encoding/json writes, and everything else
// goes to encoding/json.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	pairs := func(ss []string) []createdRow {
		var out []createdRow
		for i, s := range ss {
			out = append(out, createdRow{s, ss[len(ss)-1-i], ""})
		}
		return out
	}
	recs := []record{
		{T: "sent", IDs: []string{"k:import_key:SKU-1"}},
		{T: "sent", IDs: []string{"k:import_key:SKU-1", "k:import_key:SKU-2", "c:Ab-_09#1", "c:Ab-_09#2"}},
		{T: "sent", IDs: oddStrings},
		{T: "sent", IDs: []string{""}},
		{T: "done", Create: []createdRow{{"k:1", "37400000001", ""}, {"k:2", "s-2", ""}, {"c:x#3", "A_b", ""}, {"k:4", "007", ""}}},
		{T: "done", Create: []createdRow{{`needs "escaping" <&>`, `needs "escaping" <&>`, ""}, {"x", "7", ""}}},
		{T: "done", Create: []createdRow{{"é", "é", ""}}},
		{T: "done", Create: []createdRow{{"", "", ""}}},
		{T: "done", Create: []createdRow{{"u:import_key:K-1", "37400000001", "iEYmJNZsF9Paa4t01I_h0Q"}, {"u:k:<&>", "2", `"v"`}}},
		{T: "done", Create: pairs(oddStrings)},
		{T: "done", Out: []outcome{{Ident: "k:4", S: "f", Code: "X", Msg: "m"}}},
		{T: "done", Out: []outcome{{Ident: `<"k">`, S: "d", Code: "<&>", Msg: "\u2028"}}},
		{T: "done", Out: []outcome{{Ident: "k:4", S: "n"}}, Create: []createdRow{{"k:5", "9", ""}}},
		{T: "start", Header: &Header{Version: 2, Portal: 42, Started: time.Date(2025, 3, 1, 12, 0, 0, 5, time.FixedZone("x", 3600))}},
		{T: "start", Header: &Header{}},
		{T: "sent"},
		{T: "sent", IDs: []string{}},
		{T: "done"},
		{T: "done", Create: []createdRow{}},
	}
	for _, rec := range recs {
		checkMarshal(t, rec)
	}
}

// TestMarshalEveryByte: identities and ids holding any one byte, alone or
// between others, or any rune, are encoded as encoding/json encodes them.
func TestMarshalEveryByte(t *testing.T) {
	var strs []string
	for b := range 256 {
		c := string([]byte{byte(b)})
		strs = append(strs, c, "x"+c+"y", c+c, "é"+c, c+"\x80")
	}
	for r := rune(0); r <= utf8.MaxRune; r += 97 {
		strs = append(strs, string(r), "x"+string(r))
	}
	for _, r := range []rune{0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x2027, 0x2028, 0x2029, 0x202a, utf8.MaxRune} {
		strs = append(strs, string(r), "x"+string(r)+"y")
	}
	for i, s := range strs {
		checkMarshal(t, record{T: "sent", IDs: []string{s}})
		checkMarshal(t, record{T: "done", Create: []createdRow{{s, strs[len(strs)-1-i], ""}}})
		checkMarshal(t, record{T: "done", Create: []createdRow{{s, "7", strs[len(strs)-1-i]}}})
	}
	checkMarshal(t, record{T: "sent", IDs: strs})
	checkMarshal(t, record{T: "sent", IDs: []string{strings.Join(strs, "")}})
}

func FuzzMarshal(f *testing.F) {
	f.Add("k:import_key:SKU-1", "37400000001", "c:Ab-_09#1")
	f.Add(`a"b`, `c\d`, "<&>")
	f.Add("é", "\u2028", "\x00\x1f\x7f")
	f.Add("\xff", "a\xc3", "\xed\xa0\x80")
	f.Add("", "", "")
	for _, s := range oddStrings {
		f.Add(s, s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, rec := range []record{
			{T: "sent", IDs: []string{a}},
			{T: "sent", IDs: []string{a, b, c}},
			{T: "done", Create: []createdRow{{a, b, ""}}},
			{T: "done", Create: []createdRow{{a, b, ""}, {c, "1", ""}, {"k:1", c, ""}}},
			{T: "done", Create: []createdRow{{a, b, c}, {c, "1", a}}},
			{T: "done", Create: []createdRow{{a, b, ""}}, Out: []outcome{{Ident: c, S: "f", Code: a, Msg: b}}},
		} {
			checkMarshal(t, rec)
		}
	})
}
