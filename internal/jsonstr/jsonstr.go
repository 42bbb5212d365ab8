// Package jsonstr writes JSON strings byte for byte as encoding/json does,
// without reflection. The importer's request encoder and the emulator's
// answer encoder share it.
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// plain[html][c] is whether the ASCII byte c is written as it is: not a
// control character, quote or backslash, and with html not <, > or &.
var plain = func() (t [2][256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[0][c] = c != '"' && c != '\\'
		t[1][c] = t[0][c] && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// Append appends s as a JSON string escaped as encoding/json does: quote,
// backslash and control characters are escaped (\b, \f, \n, \r and \t by
// name, the others as \u00XX), U+2028 and U+2029 as \u2028 and \u2029, and
// invalid UTF-8 becomes \ufffd. With html, <, > and & are escaped too, as
// encoding/json.Marshal does; without, as an Encoder with SetEscapeHTML(false).
func Append(dst []byte, s string, html bool) []byte {
	safe := &plain[0]
	if html {
		safe = &plain[1]
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if safe[s[i]] {
			i++
			continue
		}
		if b := s[i]; b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
