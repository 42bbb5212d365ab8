package jsonstr

import "math/bits"

// Plain returns the index of the first byte at or after i in s that is not
// printable ASCII other than '"' and '\\' (that is, a control character,
// a quote, a backslash, or a byte of 0x80 or more), or len(s) if there is
// none. The bytes it passes over are those a JSON string holds as they
// are and that need no UTF-8 check. It tests eight bytes at a time.
func Plain[T ~string | ~[]byte](s T, i int) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		q := x ^ ('"' * ones)
		b := x ^ ('\\' * ones)
		// A byte's high bit is set in m if the byte is 0x80 or more, below
		// 0x20, a quote or a backslash. A borrow can set it in bytes after
		// the first such byte, never before, so the lowest one is exact.
		m := (x | (x-0x20*ones)&^x | (q-ones)&^q | (b-ones)&^b) & high
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return i
		}
	}
	return len(s)
}
