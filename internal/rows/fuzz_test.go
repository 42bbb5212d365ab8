package rows

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// FuzzReader checks, for any input, with the delimiter detected and given
// and read as Windows-1252, that every physical line after the header belongs to exactly one record,
// that a record read without error or as blank is what encoding/csv reads
// from its lines, and that a record with an error has a reason encoding/csv
// agrees with. It also writes a clean file with encoding/csv, from fields
// cut out of the input, and checks that it reads back identically.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"a,b\n1,2\n",
		"\xef\xbb\xbfa;b\r\n1;2\r\n;\r\n",
		"a,b\n\"x\ny\",2\n3,4\n",
		"a,b,c\n1,\"x,3\n4,5,6\n7,\"eight\",9\n",
		"a,b,c\n1,\"x,3\n4,5\",6,7\n",
		"a,b\n1,x\"y\n\"x\"y,2\n\n,\n",
		"a\tb\n\"1\t\"\t2\n",
		"sep=|\na|b\n1|2\n",
		"\xff\xfea\x00,\x00b\x00\n\x001\x00,\x00\"\x00\n\x00",
		"a,b\n\xe9,\x80\n",
		"\"a\nb\",c\n1,2\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), uint8(i), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, delim, width uint8, crlf bool) {
		comma := rune(",;\t|"[delim%4])
		checkLines(t, data, Options{})
		checkLines(t, data, Options{Delimiter: comma})
		checkLines(t, data, Options{Encoding: "windows-1252"})
		roundTrip(t, data, comma, int(width%6)+1, crlf)
	})
}

// physicalLines returns the lines of data after decoding, each with its
// line end.
func physicalLines(t *testing.T, data []byte, enc string) []string {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		data = data[3:]
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		order := unicode.LittleEndian
		if data[0] == 0xfe {
			order = unicode.BigEndian
		}
		var err error
		data, err = unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder().Bytes(data[2:])
		if err != nil {
			t.Fatal(err)
		}
	case enc == "windows-1252":
		var err error
		data, err = charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			t.Fatal(err)
		}
	}
	var lines []string
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n') + 1
		if i == 0 {
			i = len(data)
		}
		lines = append(lines, string(data[:i]))
		data = data[i:]
	}
	return lines
}

func checkLines(t *testing.T, data []byte, o Options) {
	r, err := NewReaderOptions(bytes.NewReader(data), o)
	if err != nil {
		return // a file-level problem: nothing to account for
	}
	lines := physicalLines(t, data, o.Encoding)
	next := r.line // the line after the header
	if next < 2 || next > len(lines)+1 {
		t.Fatalf("the header ends on line %d of %d", next-1, len(lines))
	}
	for row := 1; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Row != row || rec.Line != next || rec.Lines < 1 || next+rec.Lines-1 > len(lines) {
			t.Fatalf("record %d: row %d, lines %d+%d; want row %d from line %d of %d", row, rec.Row, rec.Line, rec.Lines, row, next, len(lines))
		}
		text := strings.Join(lines[next-1:next-1+rec.Lines], "")
		next += rec.Lines
		fields, csvErr := readOne(text, r.Delimiter())
		switch {
		case rec.Blank:
			if rec.Err != nil || len(rec.Fields) != len(r.Header()) || strings.Join(rec.Fields, "") != "" || strings.Join(fields, "") != "" {
				t.Fatalf("line %d: blank record %+v; encoding/csv reads %q, %v", rec.Line, rec, fields, csvErr)
			}
		case rec.Err == nil:
			if csvErr != nil || !reflect.DeepEqual(r.project(fields), rec.Fields) || len(fields) != r.width || rec.Raw != "" {
				t.Fatalf("line %d: record %q; encoding/csv reads %q, %v", rec.Line, rec.Fields, fields, csvErr)
			}
		default:
			if rec.Raw != string(trimEOL([]byte(text))) {
				t.Fatalf("line %d: raw %q of %q", rec.Line, rec.Raw, text)
			}
			undefined := r.lossy && strings.ContainsRune(text, utf8.RuneError) // a byte the encoding does not define
			if csvErr == nil && len(fields) == r.width && utf8.ValidString(text) && !undefined {
				t.Fatalf("line %d: %v, but encoding/csv reads %q", rec.Line, rec.Err, fields)
			}
		}
	}
	if next != len(lines)+1 {
		t.Fatalf("records end on line %d of %d", next-1, len(lines))
	}
}

// takenForStray reports whether rec, written by encoding/csv, spans lines
// that the Reader reads as a stray quote rather than as one record (in a
// file of strayWidth columns or more): a line inside a quoted field that is
// a whole record of width fields without a quote, or first and last lines
// that are each one with the quotes read as characters, the last closing
// the field with an inch mark.
func takenForStray(rec []string, comma rune, width int) bool {
	if width < strayWidth {
		return false
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = comma
	_ = w.Write(rec)
	w.Flush()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) < 2 {
		return false
	}
	whole := func(l string) bool { return strings.Count(l, string(comma))+1 == width }
	for _, l := range lines[1 : len(lines)-1] {
		if !strings.Contains(l, `"`) && whole(l) {
			return true
		}
	}
	last := strings.TrimSuffix(lines[len(lines)-1], "\r")
	return whole(lines[0]) && whole(last) && inchMark([]byte(last))
}

// readOne returns the one record encoding/csv reads from text, or an error.
func readOne(text string, comma rune) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma, cr.FieldsPerRecord = comma, -1
	fields, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return []string{""}, nil // an empty line
	}
	if err != nil {
		return fields, err
	}
	if _, err := cr.Read(); !errors.Is(err, io.EOF) {
		return fields, errors.New("more than one record")
	}
	return fields, nil
}

func roundTrip(t *testing.T, data []byte, comma rune, width int, crlf bool) {
	// encoding/csv turns CRLF in a quoted field into LF, and reads only
	// valid UTF-8 back as such.
	s := strings.ReplaceAll(strings.ToValidUTF8(string(data), "?"), "\r", "")
	if strings.Count(s, "\n") >= maxRecordLines-1 || len(s) >= maxRecordBytes {
		return
	}
	cells := strings.Split(s, "\x01")
	var want [][]string
	for len(cells) > 0 {
		rec := make([]string, width)
		copy(rec, cells)
		want = append(want, rec)
		cells = cells[min(width, len(cells)):]
	}
	for _, rec := range want {
		if takenForStray(rec, comma, width) {
			return // the ambiguity the package comment documents
		}
	}
	header := make([]string, width)
	for i := range header {
		header[i] = "h" + string(rune('0'+i))
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = comma, crlf
	_ = w.Write(header)
	_ = w.WriteAll(want)
	opts := []Options{{Delimiter: comma}}
	if width > 1 {
		opts = append(opts, Options{}) // the header has width-1 delimiters
	}
	for _, o := range opts {
		r, err := NewReaderOptions(bytes.NewReader(b.Bytes()), o)
		if err != nil {
			t.Fatalf("%q: %v", b.Bytes(), err)
		}
		if !reflect.DeepEqual(r.Header(), header) || r.Delimiter() != comma {
			t.Fatalf("header %q, delimiter %q", r.Header(), r.Delimiter())
		}
		for i, w := range want {
			rec, err := r.Read()
			if err != nil || rec.Err != nil || !reflect.DeepEqual(rec.Fields, w) || rec.Blank != (strings.Join(w, "") == "") {
				t.Fatalf("record %d of %q: %+v, %v; want %q", i, b.Bytes(), rec, err, w)
			}
		}
		if rec, err := r.Read(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last record: %+v, %v", rec, err)
		}
	}
}
