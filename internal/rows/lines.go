package rows

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// readLine reads a physical line from src, with its line end. The line is
// valid until the next read; at the end of the input it is empty and the
// error io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	l, err := r.src.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], l...)
		for err == bufio.ErrBufferFull {
			l, err = r.src.ReadSlice('\n')
			r.long = append(r.long, l...)
		}
		l = r.long
	}
	if len(l) > 0 && err == io.EOF {
		err = nil // a last line without a line end
	}
	return l, err
}

// firstLine returns the first line of the next record. It is held when
// lines were read ahead; otherwise it is valid until the next read from
// src, and holdFirst must be called before reading on.
func (r *Reader) firstLine() ([]byte, error) {
	if r.head < len(r.ends) {
		return r.heldLine(r.head), nil
	}
	r.held, r.ends, r.head = r.held[:0], r.ends[:0], 0
	return r.readLine()
}

// holdFirst holds line, the first line of the next record returned by
// firstLine, unless it is held already.
func (r *Reader) holdFirst(line []byte) {
	if r.head == len(r.ends) {
		r.hold(line)
	}
}

func (r *Reader) hold(line []byte) {
	r.held = append(r.held, line...)
	r.ends = append(r.ends, len(r.held))
}

// heldLine returns held line i, counted from the first line held.
func (r *Reader) heldLine(i int) []byte {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.held[start:r.ends[i]]
}

// lineAt returns line i (i ≥ 1) of the next record, reading and holding it
// if needed. Lines 0 to i-1 must be held.
func (r *Reader) lineAt(i int) ([]byte, error) {
	if r.head+i < len(r.ends) {
		return r.heldLine(r.head + i), nil
	}
	if r.head > 0 {
		// Move the lines still ahead to the front, so that the buffer
		// holds at most one record's worth of lines.
		off := r.ends[r.head-1]
		r.held = r.held[:copy(r.held, r.held[off:])]
		for j := r.head; j < len(r.ends); j++ {
			r.ends[j-r.head] = r.ends[j] - off
		}
		r.ends = r.ends[:len(r.ends)-r.head]
		r.head = 0
	}
	l, err := r.readLine()
	if err != nil {
		return nil, err
	}
	r.hold(l)
	return r.heldLine(r.head + i), nil
}

// span returns lines 0 to n-1 of the next record, which must be held.
func (r *Reader) span(n int) []byte {
	start := 0
	if r.head > 0 {
		start = r.ends[r.head-1]
	}
	return r.held[start:r.ends[r.head+n-1]]
}

// consume ends a record of n lines.
func (r *Reader) consume(n int) {
	r.line += n
	if r.head < len(r.ends) {
		r.head += n
	}
}

// trimEOL returns line without its line end: LF, CRLF, or at the end of
// the input a lone CR, as encoding/csv does.
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// quoteState is where a line leaves the quoting of its record.
type quoteState int

const (
	quoteNone   quoteState = iota // the line ends outside quotes
	quoteClosed                   // the line has quoted fields, all closed
	quoteOpen                     // the line ends inside a quoted field
	quoteBad                      // encoding/csv rejects the line's quoting
)

// scan follows the quoting of line, without its line end, as encoding/csv
// does with LazyQuotes off, and collects the cells it makes out: their
// bytes in r.rec, their ends in r.ends. inQuote says that the line starts
// inside a quoted field, after a line break that the field holds as "\n"
// (encoding/csv's too). For quoteOpen, col is the 1-based byte column of
// the quote that opened the field, or 0 if that was on an earlier line.
func (r *Reader) scan(line []byte, inQuote bool) (st quoteState, col int) {
	i, q := 0, -1
	st = quoteNone
	if inQuote {
		r.rec = append(r.rec, '\n')
	}
	for {
		if !inQuote {
			if i >= len(line) || line[i] != '"' {
				// A field without quotes, up to the next delimiter.
				j := bytes.Index(line[i:], r.delim)
				end := len(line)
				if j >= 0 {
					end = i + j
				}
				if bytes.IndexByte(line[i:end], '"') >= 0 {
					return quoteBad, 0
				}
				r.rec = append(r.rec, line[i:end]...)
				r.recEnds = append(r.recEnds, len(r.rec))
				if j < 0 {
					return st, 0
				}
				i = end + len(r.delim)
				continue
			}
			q, i, inQuote = i, i+1, true
		}
		st = quoteClosed
		j := bytes.IndexByte(line[i:], '"')
		if j < 0 {
			r.rec = append(r.rec, line[i:]...)
			return quoteOpen, q + 1
		}
		r.rec = append(r.rec, line[i:i+j]...)
		i += j + 1
		switch {
		case i < len(line) && line[i] == '"': // an escaped quote
			r.rec = append(r.rec, '"')
			i++
		case bytes.HasPrefix(line[i:], r.delim):
			r.recEnds = append(r.recEnds, len(r.rec))
			i += len(r.delim)
			inQuote = false
		case i == len(line):
			r.recEnds = append(r.recEnds, len(r.rec))
			return quoteClosed, 0
		default:
			return quoteBad, 0
		}
	}
}

// startScan empties the cells collected by scan, for a new record.
func (r *Reader) startScan() {
	r.rec, r.recEnds = r.rec[:0], r.recEnds[:0]
}

// scanned returns the cells collected by scan: like encoding/csv, one
// string holds them all.
func (r *Reader) scanned() []string {
	s := string(r.rec)
	fields := make([]string, len(r.recEnds))
	prev := 0
	for i, end := range r.recEnds {
		fields[i] = s[prev:end]
		prev = end
	}
	return fields
}

// split returns the fields of line, without its line end, which holds no
// quotes: what encoding/csv would return, for less work.
func (r *Reader) split(line []byte) []string {
	s := string(line)
	fields := make([]string, 0, max(r.width, 1))
	if len(r.delim) == 1 {
		d := r.delim[0]
		for {
			i := strings.IndexByte(s, d)
			if i < 0 {
				break
			}
			fields = append(fields, s[:i])
			s = s[i+1:]
		}
		return append(fields, s)
	}
	d := string(r.delim)
	for {
		i := strings.Index(s, d)
		if i < 0 {
			break
		}
		fields = append(fields, s[:i])
		s = s[i+len(d):]
	}
	return append(fields, s)
}

// parse returns the record encoding/csv reads from text, a record's lines.
func (r *Reader) parse(text []byte, lazy bool) ([]string, error) {
	r.feed.Reset(text)
	r.cbr.Reset(&r.feed)
	r.csv.LazyQuotes = lazy
	return r.csv.Read()
}
