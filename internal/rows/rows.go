// Package rows streams the data records of a CSV file.
//
// It is built on encoding/csv rather than gocsv: the columns are known only
// at run time (they come from the file's header and the mapping), while
// gocsv binds columns to struct fields at compile time and reads a file as a
// whole or through reflection per record.
//
// A Reader keeps going past a bad record: a record with the wrong number of
// fields, broken quoting or invalid UTF-8 comes back with Err set and the
// next call reads the following record. Only an I/O error or a bad header
// ends the stream.
package rows

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// ReportColumns are trailing columns of the importer's own failed and
// in-doubt reports; a Reader drops them so a report can be fed back as input.
var ReportColumns = []string{"error_row", "error_code", "error_message"}

// Record is one data record.
type Record struct {
	Row    int      // 1-based data record number; the header is not counted
	Line   int      // line of the input where the record starts
	Fields []string // the cells of the record, report columns removed
	Err    error    // non-nil when the record is malformed; Fields holds what could be read
}

// Reader reads records from a CSV stream. It is not safe for concurrent use.
type Reader struct {
	csv    *csv.Reader
	header []string
	keep   []int // indexes of the input columns to keep, nil = all
	width  int   // fields per record in the raw file
	row    int
}

// ErrEmpty is returned by NewReader for an input without a header line.
var ErrEmpty = errors.New("the input is empty: no header line")

// NewReader reads the header from r. A UTF-8 byte order mark is skipped and
// CRLF or LF line ends are accepted. It fails on an empty input or a header
// that cannot be parsed. Empty or repeated column names are allowed here:
// the mapping decides whether they matter.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	if !validUTF8(header) {
		return nil, errors.New("the CSV header is not valid UTF-8")
	}
	rd := &Reader{csv: cr, width: len(header)}
	var keep []int
	for i, h := range header {
		if !slices.Contains(ReportColumns, h) {
			keep = append(keep, i)
		}
	}
	if len(keep) != len(header) {
		rd.keep = keep
	}
	rd.header = rd.project(header)
	return rd, nil
}

// Header returns the input columns (report columns removed).
func (r *Reader) Header() []string { return r.header }

// Read returns the next record, or io.EOF after the last one. Any other
// error is fatal: the input could not be read.
func (r *Reader) Read() (Record, error) {
	fields, err := r.csv.Read()
	if errors.Is(err, io.EOF) {
		return Record{}, io.EOF
	}
	if err != nil {
		// Declared here: a ParseError target taken by errors.As escapes to
		// the heap, which a clean record should not pay for.
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return Record{}, fmt.Errorf("reading the CSV: %w", err)
		}
		r.row++
		return Record{Row: r.row, Line: pe.StartLine, Fields: fields,
			Err: fmt.Errorf("malformed CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)}, nil
	}
	r.row++
	rec := Record{Row: r.row}
	rec.Line, _ = r.csv.FieldPos(0) // a record without error has at least one field
	switch {
	case len(fields) != r.width:
		rec.Fields = fields
		rec.Err = fmt.Errorf("record has %d fields, the header has %d", len(fields), r.width)
		if len(fields) > r.width {
			rec.Err = fmt.Errorf("%w; extra values: %q", rec.Err, fields[r.width:])
		}
		return rec, nil
	case !validUTF8(fields):
		rec.Fields = r.project(fields)
		rec.Err = fmt.Errorf("column %q holds invalid UTF-8", r.header[badUTF8Column(rec.Fields)])
		return rec, nil
	}
	rec.Fields = r.project(fields)
	return rec, nil
}

// Fit returns fields cut or padded to the header's width, for writing a
// malformed record under the header.
func (r *Reader) Fit(fields []string) []string {
	if len(fields) == r.width {
		return r.project(fields)
	}
	out := make([]string, r.width)
	copy(out, fields)
	return r.project(out)
}

func (r *Reader) project(fields []string) []string {
	if r.keep == nil {
		return fields
	}
	out := make([]string, len(r.keep))
	for i, k := range r.keep {
		if k < len(fields) {
			out[i] = fields[k]
		}
	}
	return out
}

func validUTF8(fields []string) bool {
	for _, f := range fields {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

func badUTF8Column(fields []string) int {
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return i
		}
	}
	return 0
}
