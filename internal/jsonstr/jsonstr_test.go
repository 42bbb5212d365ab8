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
