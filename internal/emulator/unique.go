package emulator

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// uniqueKey returns the key under which Server.unique indexes a value of a
// hasUniqueValue property: the value itself, or with
// Config.UniqueCaseInsensitive its foldKey. The result may share v's memory.
func (s *Server) uniqueKey(v string) string {
	if s.cfg.UniqueCaseInsensitive {
		return foldKey(v)
	}
	return v
}

// foldKey maps every rune of v to the smallest rune of its case-folding
// orbit (unicode.SimpleFold), so that for valid UTF-8 foldKey(a) ==
// foldKey(b) exactly when strings.EqualFold(a, b). (strings.ToLower of
// strings.ToUpper comes close but also equates runes EqualFold keeps apart,
// such as "ı" and "i".) Invalid bytes are kept as they are. When nothing
// changes, v itself is returned.
func foldKey(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf {
			return foldFrom(v, i)
		}
		if 'a' <= c && c <= 'z' {
			return foldFrom(v, i)
		}
	}
	return v
}

// foldFrom is foldKey for a v whose first i bytes are ASCII without a
// lowercase letter.
func foldFrom(v string, i int) string {
	var b strings.Builder
	b.Grow(len(v))
	b.WriteString(v[:i])
	for i < len(v) {
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(v[i])
			i++
			continue
		}
		b.WriteRune(minFold(r))
		i += size
	}
	return b.String()
}

// minFold returns the smallest rune of r's case-folding orbit.
func minFold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}
