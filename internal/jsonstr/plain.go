package jsonstr

import "math/bits"

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
	fill = 'a' * ones // a plain byte, to pad a part word
)

// stops has the high bit set in each byte of x (eight bytes, the first in
// the low byte) that is 0x80 or more, below 0x20, a quote or a backslash,
// and possibly in bytes after the first such byte (a borrow can carry
// upwards), never before it: the lowest set bit is exact.
func stops(x uint64) uint64 {
	q := x ^ ('"' * ones)
	b := x ^ ('\\' * ones)
	return (x | (x-0x20*ones)&^x | (q-ones)&^q | (b-ones)&^b) & high
}

// word returns the eight bytes of s at i as a little-endian word, the first
// in the low byte; i+8 must not pass len(s).
func word[T ~string | ~[]byte](s T, i int) uint64 {
	w := s[i : i+8] // one bounds check instead of eight
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// tail returns the n < 8 bytes of s at i as a word whose other bytes are
// plain, reading nothing outside s.
func tail[T ~string | ~[]byte](s T, i, n int) uint64 {
	var x uint64
	if len(s) >= 8 {
		// The last eight bytes of s, shifted so that byte i comes first.
		x = word(s, len(s)-8) >> (8 * (8 - n))
	} else {
		for k := n - 1; k >= 0; k-- {
			x = x<<8 | uint64(s[i+k])
		}
	}
	return x | fill<<(8*n)
}

// Plain returns the index of the first byte at or after i in s that is not
// printable ASCII other than '"' and '\\' (that is, a control character,
// a quote, a backslash, or a byte of 0x80 or more), or len(s) if there is
// none. The bytes it passes over are those a JSON string holds as they
// are and that need no UTF-8 check. It tests eight bytes at a time.
func Plain[T ~string | ~[]byte](s T, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := stops(word(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	if n := len(s) - i; n > 0 {
		if m := stops(tail(s, i, n)); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	return len(s)
}
