package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// want is encoding/json's encoding of s, with or without HTML escaping.
func want(t *testing.T, s string, html bool) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `a "q" \ b`, "<b>&amp;</b>", "\x00\x01\b\f\n\r\t\x1f\x7f", "\u2028\u2029", "é 😀", "\xff bad \xc3", "x\xed\xa0\x80y"} {
		for _, html := range []bool{false, true} {
			if got, w := string(Append(nil, s, html)), want(t, s, html); got != w {
				t.Errorf("Append(%q, html=%v) = %s, want %s", s, html, got, w)
			}
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("d\"esc <a>\u2028\xff\x00\f")
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{false, true} {
			if got, w := string(Append([]byte("prefix"), s, html)), "prefix"+want(t, s, html); got != w {
				t.Fatalf("Append(%q, html=%v) = %s, want %s", s, html, got, w)
			}
		}
	})
}

// plainRef is Plain one byte at a time.
func plainRef(s string, i int) int {
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return i
		}
	}
	return len(s)
}

// checkPlain compares Plain with plainRef from every start in s, on both
// string and []byte.
func checkPlain(t *testing.T, s string) {
	t.Helper()
	for i := 0; i <= len(s); i++ {
		want := plainRef(s, i)
		if got := Plain(s, i); got != want {
			t.Fatalf("Plain(%q, %d) = %d, want %d", s, i, got, want)
		}
		if got := Plain([]byte(s), i); got != want {
			t.Fatalf("Plain([]byte(%q), %d) = %d, want %d", s, i, got, want)
		}
	}
}

var plainSeeds = []string{
	"", "a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnopq",
	`abcdefg"`, `abcdefgh"`, `abc"defgh"`, `ab\cdefghij`, "abcdefghij\x1fk", "\x00abcdefgh", "abcdefgh\x7f\x20\x21!",
	"abcdé", "abcdefghijklmnoé", "\xff\xff\xff\xff\xff\xff\xff\xff",
	// a byte just below or above each stop, and stops after others in the word
	"\x1f\x20\x21\x22\x23\x5b\x5c\x5d\x7e\x7f\x80", "ab\x01\"\\\x80cdefgh", "!#[]~~~~~~~~",
}

func TestPlain(t *testing.T) {
	for _, s := range plainSeeds {
		checkPlain(t, s)
	}
	// Every byte value at every position of a 16-byte run of plain bytes.
	for c := range 256 {
		for at := range 16 {
			b := []byte("0123456789abcdef")
			b[at] = byte(c)
			checkPlain(t, string(b))
		}
	}
}

func FuzzPlain(f *testing.F) {
	for _, s := range plainSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkPlain(t, s) })
}
