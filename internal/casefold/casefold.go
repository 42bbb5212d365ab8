// Package casefold compares strings without regard to letter case, as
// Unicode's simple case folding does.
package casefold

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold returns s with each rune replaced by the smallest rune of its
// case-folding orbit, so that Fold(a) == Fold(b) exactly when
// strings.EqualFold(a, b). Unlike strings.ToLower it makes one of "Σ",
// "σ" and "ς", and of "S", "s" and "ſ" (the Kelvin sign "K" and "k" too).
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			return strings.Map(foldRune, s)
		}
	}
	return s // ASCII without small letters: already folded
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}
