package report

import (
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lineWriter writes CSV records byte for byte as encoding/csv's Writer
// with its defaults (comma, "\n" line ends) writes them; a test and a fuzz
// target compare the two. It builds records in one buffer and hands the
// underlying writer whole records, where csv.Writer makes a buffered call
// for every field, comma and quote, and writes every 4 KiB.
//
// A write error is kept and returned by every later Flush.
type lineWriter struct {
	w   io.Writer
	buf []byte
	err error
}

// flushAt is the buffer size past which Write passes the buffer on
// before Flush is called, so that a call with large cells does not
// keep a large buffer.
const flushAt = 64 << 10

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{w: w} }

// Write adds one record.
func (lw *lineWriter) Write(record []string) {
	lw.buf = appendRecord(lw.buf, record)
	if len(lw.buf) >= flushAt {
		lw.Flush()
	}
}

// Flush passes the buffered records to the underlying writer and returns
// the first write error met so far.
func (lw *lineWriter) Flush() error {
	if lw.err == nil && len(lw.buf) > 0 {
		_, lw.err = lw.w.Write(lw.buf)
	}
	if cap(lw.buf) > flushAt {
		lw.buf = nil
	}
	lw.buf = lw.buf[:0]
	return lw.err
}

// appendRecord appends record as one CSV line.
func appendRecord(dst []byte, record []string) []byte {
	for n, field := range record {
		if n > 0 {
			dst = append(dst, ',')
		}
		if !needsQuotes(field) {
			dst = append(dst, field...)
			continue
		}
		dst = append(dst, '"')
		for {
			i := strings.IndexByte(field, '"')
			if i < 0 {
				break
			}
			dst = append(dst, field[:i+1]...)
			dst = append(dst, '"')
			field = field[i+1:]
		}
		dst = append(dst, field...)
		dst = append(dst, '"')
	}
	return append(dst, '\n')
}

// quoteByte marks the bytes that make a field need quotes.
var quoteByte = [256]bool{'\n': true, '\r': true, '"': true, ',': true}

// needsQuotes is csv.Writer's rule: a field is quoted if it holds a comma,
// a quote or a line break, starts with a space, or is `\.`.
func needsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` {
		return true
	}
	for i := range len(field) {
		if quoteByte[field[i]] {
			return true
		}
	}
	if c := field[0]; c < utf8.RuneSelf {
		return unicode.IsSpace(rune(c))
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
}
