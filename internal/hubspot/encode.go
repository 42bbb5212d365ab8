package hubspot

import (
	"strconv"
	"unicode/utf8"
)

// AppendInput appends the JSON encoding of in, with traceID as its
// objectWriteTraceId, to dst. It writes the same bytes as encoding/json
// would for CreateInput (keys sorted, HTML-safe escaping) without
// reflection, and reports where the trace id field starts and ends in the
// returned slice so callers can fingerprint the input without it.
func AppendInput(dst []byte, in CreateInput, traceID string) (out []byte, traceStart, traceEnd int) {
	dst = append(dst, `{"associations":[`...)
	for i, a := range in.Associations {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"to":{"id":`...)
		dst = appendString(dst, a.To.ID)
		dst = append(dst, `},"types":[`...)
		for j, t := range a.Types {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"associationCategory":`...)
			dst = appendString(dst, t.Category)
			dst = append(dst, `,"associationTypeId":`...)
			dst = strconv.AppendInt(dst, int64(t.TypeID), 10)
			dst = append(dst, '}')
		}
		dst = append(dst, "]}"...)
	}
	dst = append(dst, "],"...)
	traceStart = len(dst)
	if traceID != "" {
		dst = append(dst, `"objectWriteTraceId":`...)
		dst = appendString(dst, traceID)
		dst = append(dst, ',')
	}
	traceEnd = len(dst)
	dst = append(dst, `"properties":`...)
	dst = appendValues(dst, in.Properties)
	dst = append(dst, '}')
	return dst, traceStart, traceEnd
}

const hexDigits = "0123456789abcdef"

// htmlSafe marks the ASCII bytes encoding/json writes as they are: not
// control characters, quote, backslash, <, > or &.
var htmlSafe = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaped as encoding/json does:
// control characters, quote, backslash, <, >, &, U+2028 and U+2029 are
// escaped and invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if htmlSafe[s[i]] {
			i++
			continue
		}
		if b := s[i]; b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
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
