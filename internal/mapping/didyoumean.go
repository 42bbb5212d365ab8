package mapping

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// maxSuggestions is how many equally close names a "did you mean" offers.
const maxSuggestions = 3

// closest returns the candidates nearest to s, for a "did you mean": those
// at the smallest edit distance from s, in the candidates' order, when that
// distance is small for s's length (at most a third of it, and at least
// 1). Names that differ only in case, spaces, underscores and hyphens are
// at distance 0. It returns nil when no candidate is close, or when s is
// itself a candidate.
func closest(s string, candidates []string) []string {
	n := normalize(s)
	limit := max(1, utf8.RuneCountInString(n)/3)
	best := limit + 1
	var out []string
	for _, c := range candidates {
		if c == s {
			return nil
		}
		d := 0
		if nc := normalize(c); nc != n {
			d = editDistance(n, nc)
		}
		switch {
		case d > limit:
		case d < best:
			best, out = d, append(out[:0], c)
		case d == best && len(out) < maxSuggestions && !slices.Contains(out, c):
			out = append(out, c)
		}
	}
	return out
}

// Closest returns the candidates nearest to s, for a "did you mean": those
// at the smallest edit distance, when it is small for s's length (at most
// a third of it); names that differ only in case, spaces, underscores and
// hyphens count as equal. It returns nil when none is close or s is itself
// a candidate.
func Closest(s string, candidates []string) []string { return closest(s, candidates) }

// didYouMean returns `did you mean "x"?` (or `"x" or "y"`) for the
// candidates closest to s, or "" when none is close.
func didYouMean(s string, candidates []string) string {
	c := closest(s, candidates)
	if len(c) == 0 {
		return ""
	}
	return "did you mean " + joinOr(quoteEach(c)) + "?"
}

// joinOr joins words as "a", "a or b", "a, b or c".
func joinOr(words []string) string { return joinWords(words, "or") }

// joinAnd joins words as "a", "a and b", "a, b and c".
func joinAnd(words []string) string { return joinWords(words, "and") }

func joinWords(words []string, last string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + last + " " + words[len(words)-1]
}

// editDistance is the optimal string alignment distance between a and b,
// in runes: insertions, deletions, substitutions and transpositions of
// adjacent runes each cost 1, so "tyep" is 1 from "type".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows of the table: i-2, i-1 and i.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
