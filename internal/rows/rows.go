// Package rows streams the data records of a CSV file as people export
// them from spreadsheets and CRMs.
//
// It is built on encoding/csv rather than gocsv: the columns are known only
// at run time (they come from the file's header and the mapping), while
// gocsv binds columns to struct fields at compile time and reads a file as a
// whole or through reflection per record.
//
// # Records and lines
//
// A Reader reads its input line by line and accounts for every physical
// line after the header: each belongs to exactly one Record, which starts
// on Record.Line and spans Record.Lines lines. A record spans several lines
// only when a quoted field holds line breaks. The rule is:
//
//   - A line that ends outside any quoted field is a record on its own;
//     encoding/csv's rules (LazyQuotes off) decide whether it is well
//     formed.
//   - A line that ends inside a quoted field is joined with the lines after
//     it until the field closes. The joined lines are one record only if
//     they parse cleanly and give exactly the header's number of fields,
//     at most 1,000 lines or 1 MiB are joined, and, in a file of five
//     columns or more, no line inside the field is a whole record of its
//     own (the header's number of fields, no quote), nor does the field
//     close with an inch mark (24") on a line that, like the first, is a
//     whole record with its quotes read as characters (a stray opening
//     quote closed by a monitor's size). Otherwise the first line alone is a
//     malformed record (a stray opening quote, as in
//     SKU-14,"Premium support,24/7 support,35) and reading goes on with
//     the next line, so the lines the quote would have swallowed are read
//     again as records of their own.
//
// So a stray quote costs its own row and no other, while a genuine quoted
// field with line breaks, in a record of the right width, reads as one
// record, as encoding/csv reads it. A multi-line record whose width is
// wrong, or whose lines look like the whole records a stray quote would
// swallow, is not told from a stray quote: its first line fails, and each
// following line is read as a record of its own.
//
// A Reader keeps going past a bad record: a record with the wrong number of
// fields, broken quoting or invalid UTF-8 comes back with Record.Err set,
// the cells that could be made out in Record.Fields and the line as read in
// Record.Raw, and the next call reads the following record. A record whose
// cells are all empty (an empty line, or ;;;; under an Excel export) comes
// back with Record.Blank set. Only an I/O error or a bad header ends the
// stream.
//
// # Delimiters
//
// Unless Options.Delimiter says otherwise, the delimiter is the one of
// comma, semicolon, tab and vertical bar that occurs most often outside
// quotes on the header's first line, the earlier of them in that order on a
// tie; a header with none of them is one column, delimited by commas. A
// first line such as "sep=;", which Excel reads and some exports write,
// gives the delimiter and is skipped. Empty lines before the header are
// skipped too.
//
// # Encodings
//
// A byte order mark decides the encoding: UTF-8 (the mark is skipped),
// UTF-16LE or UTF-16BE (Excel's "Unicode text", which is tab-delimited).
// Without one, the input is read as UTF-8 unless Options.Encoding names
// another encoding, which is then decoded as the input streams.
//
// Input read as UTF-8 is checked. A header or a cell that is not valid
// UTF-8 gets an error that names the encoding the file most likely has and
// the --encoding flag to read it with, guessed from the bytes of the line
// that are not part of a UTF-8 sequence: one in 0x80-0x9F that is a
// printable character in Windows-1252 (€ is 0x80, curly quotes are
// 0x91-0x94) means Windows-1252; otherwise one in 0x80-0x9F (a control
// character in ISO-8859-1, nothing in Windows-1252) means ISO-8859-1;
// otherwise (only 0xA0-0xFF, such as é or ü) Windows-1252 is suggested,
// which reads those bytes as ISO-8859-1 does. A header in which a quarter
// of the bytes are zero is taken for UTF-16 without a byte order mark.
package rows

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// ReportColumns are trailing columns of the importer's own failed,
// in-doubt and not-sent reports: the report's name, the raw line of a
// malformed record, the row number, the error code and the message. A Reader
// drops them so a report can be fed back as input.
var ReportColumns = []string{"error_report", "raw_line", "error_row", "error_code", "error_message"}

// The most a record may span: past either, a quoted field left open is
// taken for a stray quote.
const (
	maxRecordLines = 1000
	maxRecordBytes = 1 << 20
)

// Record is one data record.
type Record struct {
	Row   int // 1-based data record number; the header is not counted
	Line  int // line of the input where the record starts
	Lines int // number of physical lines the record spans, at least 1

	// Fields holds the cells of the record, report columns removed. For
	// a record with Err, it holds the cells that could be made out, as
	// read and report columns included: Reader.Fit puts them under the
	// header. For a Blank record, it holds one empty string per column.
	Fields []string

	// Raw holds the record's physical lines as read (after decoding),
	// without the last line end, when Err is set; it is empty otherwise.
	Raw string

	// Blank is set when every cell of the record is empty: an empty line,
	// or a row of delimiters. Err is nil for a blank record, whatever
	// its number of cells. (A cell of white space is not empty: strings
	// are sent as they are.)
	Blank bool

	// Err is non-nil when the record is malformed.
	Err error

	// ReportCode is the record's error_code, in a failed.csv fed back: why
	// the importer refused the row before. "" otherwise.
	ReportCode string

	// Report is the record's error_report, in a report fed back: the
	// report it came from ("failed", "in_doubt", "not_sent"); "" otherwise,
	// and in a report written before the column was.
	Report string

	// ReportRaw is the record's raw_line, in a failed.csv fed back: the
	// line as it was in its own file, for a row that could not be read
	// there. "" otherwise.
	ReportRaw string
}

// Options change how a Reader reads its input. The zero value is what
// NewReader uses.
type Options struct {
	// Delimiter separates the fields. Zero means detect it from the
	// header (see the package comment). It may not be a quote, a line
	// break or an invalid rune.
	Delimiter rune

	// Encoding names the input's character encoding when it has no byte
	// order mark: "" or "utf-8" (no conversion), "windows-1252",
	// "iso-8859-1" (or "latin1"), "utf-16le", "utf-16be", "utf-16" (byte
	// order guessed from the first bytes), or any other name that the
	// IANA registry or the WHATWG Encoding Standard gives, looked up in
	// that order. Case does not matter.
	Encoding string
}

// Reader reads records from a CSV stream. It is not safe for concurrent use.
type Reader struct {
	src  *bufio.Reader // the input, decoded, read a line at a time
	long []byte        // a line longer than src's buffer

	// Lines read ahead of the next record: line i is held[ends[i-1]:ends[i]]
	// (from 0 for the first), the next record starts with line head.
	held []byte
	ends []int
	head int
	line int   // number of the line the next record starts on
	err  error // the fatal error that ended the stream

	// The cells of a record with quotes, as scan makes them out: their
	// bytes and where each ends.
	rec     []byte
	recEnds []int

	// A csv.Reader parses the lines scan finds fault with, one record at
	// a time, from feed through cbr, which is reset for each.
	csv  *csv.Reader
	feed bytes.Reader
	cbr  *bufio.Reader

	delim    []byte // the delimiter, UTF-8 encoded
	comma    rune
	encoding string
	decoded  bool // the input goes through a decoder
	utf8Text bool // ... yet its start is UTF-8 text beyond ASCII (utf8Text)
	// lossy: the decoder writes U+FFFD for a byte its encoding does not
	// define, and the encoding has no U+FFFD of its own (every decoded
	// encoding but UTF-16 and GB18030), so a U+FFFD in the text is such a
	// byte.
	lossy bool

	raw     []string // the header as read
	header  []string // the header, report columns removed
	keep    []int    // indexes of the input columns to keep, nil = all
	fedBack bool     // the header has report columns
	code    int      // index of the error_code column of a report fed back, or -1
	rawCol  int      // index of its raw_line column, or -1
	repCol  int      // index of its error_report column, or -1
	width   int      // fields per record in the raw file
	row     int
}

// ErrEmpty is returned by NewReader for an input without a header line.
var ErrEmpty = errors.New("the input is empty: no header line")

// NewReader reads the header from r with the default Options: the
// delimiter detected from the header, UTF-8 unless a byte order mark says
// otherwise. CRLF or LF line ends are accepted and empty lines before the
// header are skipped. It fails on an empty input or a header that cannot be
// parsed. Empty or repeated column names are allowed here: the mapping
// decides whether they matter.
func NewReader(r io.Reader) (*Reader, error) {
	return NewReaderOptions(r, Options{})
}

// NewReaderOptions is like NewReader with options. It fails, with an error
// wrapping ErrUnknownEncoding, on an encoding it does not know, and on an
// invalid delimiter.
func NewReaderOptions(r io.Reader, o Options) (*Reader, error) {
	if o.Delimiter != 0 && !validDelim(o.Delimiter) {
		return nil, fmt.Errorf("%q cannot be a CSV delimiter", o.Delimiter)
	}
	rd := &Reader{line: 1}
	if err := rd.openInput(r, o.Encoding); err != nil {
		return nil, err
	}
	rd.cbr = bufio.NewReaderSize(&rd.feed, 4096)
	rd.csv = csv.NewReader(rd.cbr) // uses cbr itself: it is big enough
	rd.csv.FieldsPerRecord = -1
	if err := rd.readHeader(o.Delimiter); err != nil {
		return nil, err
	}
	return rd, nil
}

// readHeader reads the header record, detecting the delimiter unless
// delim is set.
func (r *Reader) readHeader(delim rune) error {
	var line []byte
	for first := true; ; {
		l, err := r.firstLine()
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		if err != nil {
			return fmt.Errorf("reading the CSV header: %w", err)
		}
		c := trimEOL(l)
		if len(c) == 0 {
			r.consume(1)
			continue
		}
		if d, ok := sepLine(c); ok && first {
			if delim == 0 {
				delim = d
			}
			r.consume(1)
			first = false
			continue
		}
		line = l
		break
	}
	content := trimEOL(line)
	if delim == 0 {
		delim = detectDelim(content)
	}
	r.setDelim(delim)
	if !r.decoded {
		if err := utf16Hint(content); err != nil {
			return err
		}
	}
	r.startScan()
	st, _ := r.scan(content, false)
	n, text := 1, line
	if st == quoteOpen {
		// A quoted column name with line breaks: take lines until it
		// closes.
		r.holdFirst(line)
		for size := len(line); st == quoteOpen && n < maxRecordLines && size <= maxRecordBytes; {
			l, err := r.lineAt(n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("reading the CSV header: %w", err)
			}
			n++
			size += len(l)
			st, _ = r.scan(trimEOL(l), true)
		}
		text = r.span(n)
	}
	if st == quoteOpen || st == quoteBad {
		// encoding/csv says what is wrong.
		_, err := r.parse(text, false)
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			err = &csv.ParseError{StartLine: r.line, Line: r.line + pe.Line - pe.StartLine, Column: pe.Column, Err: pe.Err}
		case err == nil:
			err = fmt.Errorf("a quoted field is not closed within lines %d-%d", r.line, r.line+n-1)
		}
		return fmt.Errorf("reading the CSV header: %w", err)
	}
	header := r.scanned()
	if i := badUTF8Column(header); i >= 0 {
		return fmt.Errorf("column %d of the CSV header, %q, is %s", i+1, header[i], r.utf8Hint(content))
	}
	r.consume(n)
	r.raw, r.width = header, len(header)
	r.code = slices.Index(header, "error_code")
	r.rawCol = slices.Index(header, "raw_line")
	r.repCol = slices.Index(header, "error_report")
	var keep []int
	for i, h := range header {
		if !slices.Contains(ReportColumns, h) {
			keep = append(keep, i)
		}
	}
	if len(keep) != len(header) {
		r.keep, r.fedBack = keep, true
	}
	r.header = r.project(header)
	return nil
}

// sepLine reads Excel's "sep=;" line, which may come before the header
// to give the delimiter.
func sepLine(line []byte) (rune, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("sep="))
	if !ok {
		return 0, false
	}
	d, size := utf8.DecodeRune(rest)
	return d, size == len(rest) && validDelim(d)
}

// detectDelim returns the delimiter of a header line: the one of , ; tab |
// that occurs most often outside quotes, the earliest in that order on a
// tie, and a comma when there is none.
func detectDelim(line []byte) rune {
	const delims = ",;\t|"
	var count [len(delims)]int
	quoted := false
	for _, c := range line {
		switch c {
		case '"':
			quoted = !quoted
		case ',', ';', '\t', '|':
			if !quoted {
				count[strings.IndexByte(delims, c)]++
			}
		}
	}
	best := 0
	for i := 1; i < len(count); i++ {
		if count[i] > count[best] {
			best = i
		}
	}
	return rune(delims[best])
}

func (r *Reader) setDelim(d rune) {
	r.comma = d
	r.delim = utf8.AppendRune(nil, d)
	r.csv.Comma = d
}

// validDelim is encoding/csv's rule for a delimiter.
func validDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

// Header returns the input columns (report columns removed).
func (r *Reader) Header() []string { return r.header }

// FedBack reports whether the input is one of the importer's own reports
// fed back: its header has one of [ReportColumns].
func (r *Reader) FedBack() bool { return r.fedBack }

// ReadsAsUTF8 reports whether the input, decoded from the single-byte
// encoding given in Options, begins (its first 64 KiB) with text beyond
// ASCII that is valid UTF-8: most likely a UTF-8 file that the encoding
// would garble ("é" read as "Ã©"), as text in a single-byte encoding
// seldom is valid UTF-8.
func (r *Reader) ReadsAsUTF8() bool { return r.utf8Text }

// Delimiter returns the delimiter in use, given or detected.
func (r *Reader) Delimiter() rune { return r.comma }

// Encoding says how the input is decoded: "utf-8" when it is not, the
// name of the encoding given in Options otherwise, and how it was chosen
// when that was not by name, as in "utf-16le (byte order mark)".
func (r *Reader) Encoding() string { return r.encoding }

// Read returns the next record, or io.EOF after the last one. Any other
// error is fatal: the input could not be read.
func (r *Reader) Read() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	line, err := r.firstLine()
	if err != nil {
		return Record{}, r.fail(err)
	}
	r.row++
	rec := Record{Row: r.row, Line: r.line, Lines: 1}
	content := trimEOL(line)
	if bytes.IndexByte(content, '"') < 0 {
		rec = r.check(rec, r.split(content), content)
		r.consume(1)
		return rec, nil
	}
	r.startScan()
	switch st, col := r.scan(content, false); st {
	case quoteOpen:
		return r.readOpen(rec, line, col)
	case quoteBad:
		// encoding/csv says what is wrong.
		if fields, err := r.parse(line, false); err != nil {
			rec = r.malformed(rec, content, err)
		} else {
			rec = r.check(rec, fields, content)
		}
	default:
		rec = r.check(rec, r.scanned(), content)
	}
	r.consume(1)
	return rec, nil
}

// readOpen reads a record whose first line, line, leaves open the quoted
// field whose quote is at column col: see the package comment.
func (r *Reader) readOpen(rec Record, line []byte, col int) (Record, error) {
	r.holdFirst(line)
	n, size := 1, len(line)
	// The signs of a stray quote's swallow are looked for only in a file
	// of strayWidth columns or more: in a narrower one, a line of a
	// genuine cell (an address, "Springfield, IL") too often has the
	// header's number of fields.
	wide := r.width >= strayWidth
	firstWhole := wide && r.literalWidth(trimEOL(line)) == r.width
	var why string
	for {
		if n >= maxRecordLines {
			why = fmt.Sprintf("nor within %d lines", maxRecordLines)
			break
		}
		if size > maxRecordBytes {
			why = fmt.Sprintf("nor within %d MiB", maxRecordBytes>>20)
			break
		}
		l, err := r.lineAt(n)
		if errors.Is(err, io.EOF) {
			why = "nor on any later line"
			break
		}
		if err != nil {
			return Record{}, r.fail(err)
		}
		n++
		size += len(l)
		st, _ := r.scan(trimEOL(l), true)
		if st == quoteOpen {
			if tl := trimEOL(l); wide && bytes.IndexByte(tl, '"') < 0 && r.literalWidth(tl) == r.width {
				why = fmt.Sprintf("it would take in line %d, a whole record of its own", r.line+n-1)
				break
			}
			continue
		}
		last := r.line + n - 1
		if tl := trimEOL(l); st != quoteBad && firstWhole && inchMark(tl) && r.literalWidth(tl) == r.width {
			why = fmt.Sprintf("it would close on line %d with an inch mark, and lines %d and %d are each a whole record with the quotes read as characters", last, rec.Line, last)
			break
		}
		if st == quoteBad {
			why = fmt.Sprintf("run on, it meets bad quoting on line %d", last)
			break
		}
		if len(r.recEnds) == r.width {
			rec.Lines = n
			rec = r.check(rec, r.scanned(), trimEOL(r.span(n)))
			r.consume(n)
			return rec, nil
		}
		why = fmt.Sprintf("run on, it closes on line %d in a record of %d fields, not %d", last, len(r.recEnds), r.width)
		break
	}
	content := trimEOL(r.span(1))
	rec.Raw = string(content)
	rec.Fields = r.bestEffort(content)
	rec.Err = fmt.Errorf("malformed CSV at line %d, column %d: %w: the field this quote opens does not close on this line (%s), so line %d is read alone and line %d as the next record",
		rec.Line, col, csv.ErrQuote, why, rec.Line, rec.Line+1)
	r.consume(1)
	return rec, nil
}

// strayWidth is the fewest columns a file must have for a join to be
// refused as a stray quote's swallow (see readOpen).
const strayWidth = 5

// inchMark reports whether the quote that closes the field open at the
// start of line, its first quote that is not one of a doubled pair, follows
// a digit, as in 24" (a monitor's size, or another measure in inches).
func inchMark(line []byte) bool {
	for i := 0; i < len(line); i++ {
		if line[i] != '"' {
			continue
		}
		if i+1 < len(line) && line[i+1] == '"' {
			i++
			continue
		}
		return i > 0 && line[i-1] >= '0' && line[i-1] <= '9'
	}
	return false
}

// literalWidth is how many fields line has if its quotes are characters
// like any other: one more than its delimiters.
func (r *Reader) literalWidth(line []byte) int {
	return bytes.Count(line, r.delim) + 1
}

// check finishes a record that parsed: fields are its cells as read and
// text its lines without the last line end.
func (r *Reader) check(rec Record, fields []string, text []byte) Record {
	if blank(fields, text, len(r.delim)) {
		rec.Blank = true
		rec.Fields = r.project(make([]string, r.width))
		return rec
	}
	if len(fields) != r.width {
		rec.Fields, rec.Raw = fields, string(text)
		rec.Err = fmt.Errorf("record has %d fields, the header has %d", len(fields), r.width)
		if len(fields) > r.width {
			rec.Err = fmt.Errorf("%w; extra values: %q", rec.Err, fields[r.width:])
		}
		return rec
	}
	if !utf8.Valid(text) {
		rec.Fields, rec.Raw = fields, string(text)
		i := max(badUTF8Column(fields), 0)
		rec.Err = fmt.Errorf("column %q is %s", r.raw[i], r.utf8Hint(text))
		if rec.Lines > 1 {
			rec.Err = fmt.Errorf("lines %d-%d: %w", rec.Line, rec.Line+rec.Lines-1, rec.Err)
		}
		return rec
	}
	if r.lossy {
		if i := slices.IndexFunc(fields, func(f string) bool { return strings.ContainsRune(f, utf8.RuneError) }); i >= 0 {
			rec.Fields, rec.Raw = fields, string(text)
			rec.Err = fmt.Errorf("column %q holds a byte that %s does not define (read as U+FFFD): the file may be in another encoding "+
				"(windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; iso-8859-1 reads them)", r.raw[i], r.encoding)
			if rec.Lines > 1 {
				rec.Err = fmt.Errorf("lines %d-%d: %w", rec.Line, rec.Line+rec.Lines-1, rec.Err)
			}
			return rec
		}
	}
	field := func(i int) string { // a report column's cell, "" without the column
		if i >= 0 && i < len(fields) {
			return fields[i]
		}
		return ""
	}
	rec.ReportCode, rec.ReportRaw, rec.Report = field(r.code), field(r.rawCol), field(r.repCol)
	rec.Fields = r.project(fields)
	return rec
}

// blank reports whether every field is empty. text is the line the fields
// were split from: when it holds only delimiters, they all are.
func blank(fields []string, text []byte, delim int) bool {
	if len(text) == (len(fields)-1)*delim {
		return true
	}
	for _, f := range fields {
		if f != "" {
			return false
		}
	}
	return true
}

// malformed fills in a one-line record that encoding/csv rejected with err.
func (r *Reader) malformed(rec Record, content []byte, err error) Record {
	rec.Raw = string(content)
	rec.Fields = r.bestEffort(content)
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		rec.Err = fmt.Errorf("malformed CSV at line %d, column %d: %w", rec.Line+pe.Line-pe.StartLine, pe.Column, pe.Err)
	} else {
		rec.Err = fmt.Errorf("malformed CSV at line %d: %w", rec.Line, err)
	}
	return rec
}

// bestEffort returns the cells of a malformed line: as encoding/csv reads
// it with LazyQuotes on (a quote inside a field is kept as it is) if that
// gives the header's number of cells, or else split at every delimiter
// (what a stray opening quote needs) if that does, or else whichever of
// the two comes nearer.
func (r *Reader) bestEffort(content []byte) []string {
	lazy, err := r.parse(content, true)
	if err == nil && len(lazy) == r.width {
		return lazy
	}
	split := r.split(content)
	if err != nil || len(split) == r.width || absDiff(len(split), r.width) < absDiff(len(lazy), r.width) {
		return split
	}
	return lazy
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
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

// badUTF8Column returns the index of the first field that is not valid
// UTF-8, or -1.
func badUTF8Column(fields []string) int {
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return i
		}
	}
	return -1
}

// fail ends the stream with err, from reading the input.
func (r *Reader) fail(err error) error {
	if errors.Is(err, io.EOF) {
		r.err = io.EOF
	} else {
		r.err = fmt.Errorf("reading the CSV: %w", err)
	}
	return r.err
}
