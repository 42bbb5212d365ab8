package rows

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// got is what a test looks at in a Record.
type got struct {
	row, line, lines int
	fields           []string
	blank            bool
	raw              string
	err              string // substrings separated by "|", "" for none
}

func readAll(t *testing.T, input string, o Options) (*Reader, []got) {
	t.Helper()
	r, err := NewReaderOptions(strings.NewReader(input), o)
	if err != nil {
		t.Fatalf("NewReaderOptions: %v", err)
	}
	return r, records(t, r)
}

func records(t *testing.T, r *Reader) []got {
	t.Helper()
	var out []got
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		g := got{row: rec.Row, line: rec.Line, lines: rec.Lines, fields: rec.Fields, blank: rec.Blank, raw: rec.Raw}
		if rec.Err != nil {
			g.err = rec.Err.Error()
		}
		out = append(out, g)
	}
}

// compare checks records against want; a want with no fields does not
// check them, and lines 0 means 1.
func compare(t *testing.T, recs, want []got) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("got %d records %+v, want %d", len(recs), recs, len(want))
	}
	for i, w := range want {
		g := recs[i]
		if w.lines == 0 {
			w.lines = 1
		}
		if g.row != w.row || g.line != w.line || g.lines != w.lines {
			t.Errorf("record %d: row %d, line %d, %d lines; want %d, %d, %d", i, g.row, g.line, g.lines, w.row, w.line, w.lines)
		}
		if w.fields != nil && !reflect.DeepEqual(g.fields, w.fields) {
			t.Errorf("record %d: fields %q, want %q", i, g.fields, w.fields)
		}
		if g.blank != w.blank {
			t.Errorf("record %d: blank %v, want %v", i, g.blank, w.blank)
		}
		if g.raw != w.raw {
			t.Errorf("record %d: raw %q, want %q", i, g.raw, w.raw)
		}
		if (w.err == "") != (g.err == "") {
			t.Errorf("record %d: err %q, want %q", i, g.err, w.err)
			continue
		}
		for _, s := range strings.Split(w.err, "|") {
			if !strings.Contains(g.err, s) {
				t.Errorf("record %d: err %q lacks %q", i, g.err, s)
			}
		}
	}
}

func TestReader(t *testing.T) {
	cases := []struct {
		name   string
		input  string
		opts   Options
		header []string
		want   []got
	}{
		{name: "header only", input: "a,b\n", header: []string{"a", "b"}},
		{name: "BOM and CRLF", input: "\xef\xbb\xbfa,b\r\n1,2\r\n3,4\r\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2"}},
			{row: 2, line: 3, fields: []string{"3", "4"}},
		}},
		{name: "mixed line ends, no final newline", input: "a,b\r\n1,2\n3,4", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2"}},
			{row: 2, line: 3, fields: []string{"3", "4"}},
		}},
		{name: "CR before the end of the input", input: "a,b\n1,2\r", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2"}},
		}},
		{name: "quoted fields", input: "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"\"\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"x,y", `say "hi"`, ""}},
		}},
		{name: "quoted newline", input: "a,b\n\"x\ny\",2\n3,4\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, lines: 2, fields: []string{"x\ny", "2"}},
			{row: 2, line: 4, fields: []string{"3", "4"}},
		}},
		{name: "quoted CRLF and empty lines become LF", input: "a,b\r\n\"x\r\n\r\ny\",2\r\n3,4\r\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, lines: 3, fields: []string{"x\n\ny", "2"}},
			{row: 2, line: 5, fields: []string{"3", "4"}},
		}},
		{name: "ragged rows fail alone", input: "a,b\n1\n1,2,3\n5,6\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1"}, raw: "1", err: "record has 1 fields, the header has 2"},
			{row: 2, line: 3, fields: []string{"1", "2", "3"}, raw: "1,2,3", err: `extra values: ["3"]`},
			{row: 3, line: 4, fields: []string{"5", "6"}},
		}},
		{name: "bad quoting fails alone and keeps its cells", input: "a,b\n1,x\"y\n5,6\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", `x"y`}, raw: `1,x"y`, err: `malformed CSV at line 2, column 4: bare " in non-quoted-field`},
			{row: 2, line: 3, fields: []string{"5", "6"}},
		}},
		{name: "a quote inside a field", input: "a,b,c\n1,Bad \"quote\" row,3\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", `Bad "quote" row`, "3"}, raw: `1,Bad "quote" row,3`, err: "line 2, column 7|bare"},
		}},
		{name: "text after a closing quote", input: "a,b\n\"x\"y,2\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{`"x"y`, "2"}, raw: `"x"y,2`, err: `line 2, column 3: extraneous or missing " in quoted-field`},
		}},
		{name: "stray quote never closed", input: "a,b,c\n1,\"x,3\n4,5,6\n7,8,9\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", `"x`, "3"}, raw: `1,"x,3`, err: "line 2, column 3|nor on any later line|line 2 is read alone and line 3 as the next record"},
			{row: 2, line: 3, fields: []string{"4", "5", "6"}},
			{row: 3, line: 4, fields: []string{"7", "8", "9"}},
		}},
		{name: "stray quote never closed over lines that are no records", input: "a,b,c\n1,\"x,3\n4,5\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", `"x`, "3"}, raw: `1,"x,3`, err: "nor on any later line"},
			{row: 2, line: 3, fields: []string{"4", "5"}, raw: "4,5", err: "record has 2 fields, the header has 3"},
		}},
		{name: "stray quote meets bad quoting over lines that are no records", input: "a,b,c\n1,\"x,3\n4\n7,\"eight\",9\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", `"x`, "3"}, raw: `1,"x,3`, err: "bad quoting on line 4"},
			{row: 2, line: 3, fields: []string{"4"}, raw: "4", err: "record has 1 fields, the header has 3"},
			{row: 3, line: 4, fields: []string{"7", "eight", "9"}},
		}},
		{name: "stray quote meets a quoted field", input: "a,b,c\n1,\"x,3\n4,5,6\n7,\"eight\",9\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", `"x`, "3"}, raw: `1,"x,3`, err: "line 2, column 3|bad quoting on line 4"},
			{row: 2, line: 3, fields: []string{"4", "5", "6"}},
			{row: 3, line: 4, fields: []string{"7", "eight", "9"}},
		}},
		{name: "stray quote closes in a record of the wrong width", input: "a,b,c\n1,\"x,3\n4,5\",6,7\n8,9,10\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", `"x`, "3"}, raw: `1,"x,3`, err: "closes on line 3 in a record of 4 fields, not 3"},
			{row: 2, line: 3, fields: []string{"4", `5"`, "6", "7"}, raw: `4,5",6,7`, err: "line 3, column 4|bare"},
			{row: 3, line: 4, fields: []string{"8", "9", "10"}},
		}},
		{name: "multi-line record of the wrong width is read line by line", input: "a,b,c\n\"x\ny\",2\n3,4,5\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{`x`}, raw: `"x`, err: "line 2, column 1|2 fields, not 3"},
			{row: 2, line: 3, fields: []string{`y"`, "2"}, raw: `y",2`, err: "line 3, column 2|bare"},
			{row: 3, line: 4, fields: []string{"3", "4", "5"}},
		}},
		{name: "quote closing in a record of the right width is one record", input: "a,b,c\n1,\"x\n4\",6\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, lines: 2, fields: []string{"1", "x\n4", "6"}},
		}},
		{name: "multi-line cells first and last are one record", input: "a,b,c\n\"x\ny\",2,3\n1,2,\"p,\nq\"\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, lines: 2, fields: []string{"x\ny", "2", "3"}},
			{row: 2, line: 4, lines: 2, fields: []string{"1", "2", "p,\nq"}},
		}},
		// A stray opening quote and a stray inch mark later would make one
		// record of the right width out of two whole lines, or of every
		// whole line between them.
		{name: "stray quote closed by an inch mark on the next whole line", input: "a,b,c,d,e\n1,\"x,3,4,5\n6,24\",8,9,10\n11,12,13,14,15\n", header: []string{"a", "b", "c", "d", "e"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", `"x`, "3", "4", "5"}, raw: `1,"x,3,4,5`, err: "inch mark|lines 2 and 3 are each a whole record"},
			{row: 2, line: 3, fields: []string{"6", `24"`, "8", "9", "10"}, raw: `6,24",8,9,10`, err: "line 3, column 5|bare"},
			{row: 3, line: 4, fields: []string{"11", "12", "13", "14", "15"}},
		}},
		{name: "stray quote would take in whole lines", input: "a,b,c,d,e\n1,\"x\n4,5,6,7,8\n9,10,11,12,13\n24\",9,9,9\n", header: []string{"a", "b", "c", "d", "e"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "x"}, raw: `1,"x`, err: "it would take in line 3, a whole record of its own"},
			{row: 2, line: 3, fields: []string{"4", "5", "6", "7", "8"}},
			{row: 3, line: 4, fields: []string{"9", "10", "11", "12", "13"}},
			{row: 4, line: 5, fields: []string{`24"`, "9", "9", "9"}, raw: `24",9,9,9`, err: "bare"},
		}},
		// Genuine cells with line breaks whose lines have the header's
		// number of fields stay one record: in a narrow file, and where
		// the field does not close with an inch mark.
		{name: "an address in a narrow file", input: "name,address\nBob,\"12 Main St\nSpringfield, IL\nUSA\"\n", header: []string{"name", "address"}, want: []got{
			{row: 1, line: 2, lines: 3, fields: []string{"Bob", "12 Main St\nSpringfield, IL\nUSA"}},
		}},
		{name: "notes in a one-column file", input: "notes\n\"line one\n\nline two\"\n", header: []string{"notes"}, want: []got{
			{row: 1, line: 2, lines: 3, fields: []string{"line one\n\nline two"}},
		}},
		{name: "a description with commas on both lines", input: "a,b,c,d,e\n1,2,\"Setup, training, SSO\nBilled per seat, per month, in advance\",9,10\n", header: []string{"a", "b", "c", "d", "e"}, want: []got{
			{row: 1, line: 2, lines: 2, fields: []string{"1", "2", "Setup, training, SSO\nBilled per seat, per month, in advance", "9", "10"}},
		}},
		{name: "invalid UTF-8 names the column and the encoding", input: "a,b\n1,\xff\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "\xff"}, raw: "1,\xff", err: `column "b" is not valid UTF-8: the file looks like Windows-1252|--encoding windows-1252`},
		}},
		{name: "invalid UTF-8 over several lines", input: "a,b\n\"x\n\x80\",2\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, lines: 2, fields: []string{"x\n\x80", "2"}, raw: "\"x\n\x80\",2", err: `lines 2-3: column "a" is not valid UTF-8`},
		}},
		{name: "empty lines are blank rows", input: "a,b\n1,2\n\n\r\n3,4\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2"}},
			{row: 2, line: 3, fields: []string{"", ""}, blank: true},
			{row: 3, line: 4, fields: []string{"", ""}, blank: true},
			{row: 4, line: 5, fields: []string{"3", "4"}},
		}},
		{name: "rows of delimiters are blank", input: "a,b,c\n1,2,3\n,,\r\n,\n,,,,\n\"\",,\"\"\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2", "3"}},
			{row: 2, line: 3, fields: []string{"", "", ""}, blank: true},
			{row: 3, line: 4, fields: []string{"", "", ""}, blank: true},
			{row: 4, line: 5, fields: []string{"", "", ""}, blank: true},
			{row: 5, line: 6, fields: []string{"", "", ""}, blank: true},
		}},
		{name: "spaces are not blank", input: "a,b\n , \n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{" ", " "}},
		}},
		{name: "report columns dropped", input: "a,b,error_row,error_code,error_message\n1,2,7,X,msg\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2"}},
		}},
		{name: "report columns kept in a bad record, for Fit", input: "a,b,error_row,error_code,error_message\n1,2,7\n,,,,\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2", "7"}, raw: "1,2,7", err: "3 fields"},
			{row: 2, line: 3, fields: []string{"", ""}, blank: true},
		}},
		{name: "duplicate header names kept", input: "a,a\n1,2\n", header: []string{"a", "a"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2"}},
		}},
		{name: "empty lines before the header", input: "\n\r\na,b\n1,2\n", header: []string{"a", "b"}, want: []got{
			{row: 1, line: 4, fields: []string{"1", "2"}},
		}},
		{name: "header with a quoted newline", input: "\"a\nb\",c\n1,2\n", header: []string{"a\nb", "c"}, want: []got{
			{row: 1, line: 3, fields: []string{"1", "2"}},
		}},
		{name: "semicolons detected", input: "a;b;c\n1,5;\"x;y\";3\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1,5", "x;y", "3"}},
		}},
		{name: "tabs detected", input: "a\tb, c\td\n1\t2\t3\n", header: []string{"a", "b, c", "d"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2", "3"}},
		}},
		{name: "bars detected", input: "a|b|c\n1|2|3\n", header: []string{"a", "b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2", "3"}},
		}},
		{name: "a tie goes to the comma", input: "a,b;c\n1,2;3\n", header: []string{"a", "b;c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2;3"}},
		}},
		{name: "delimiters in quotes do not count", input: "\"a;b;c\",d\n1,2\n", header: []string{"a;b;c", "d"}, want: []got{
			{row: 1, line: 2, fields: []string{"1", "2"}},
		}},
		{name: "no delimiter: one column", input: "Product\nWidget\n", header: []string{"Product"}, want: []got{
			{row: 1, line: 2, fields: []string{"Widget"}},
		}},
		{name: "Excel's sep= line", input: "sep=|\na,b;c|d\n1|2\n", header: []string{"a,b;c", "d"}, want: []got{
			{row: 1, line: 3, fields: []string{"1", "2"}},
		}},
		{name: "delimiter given", input: "a;b,c\n1;2,3\n", opts: Options{Delimiter: ','}, header: []string{"a;b", "c"}, want: []got{
			{row: 1, line: 2, fields: []string{"1;2", "3"}},
		}},
		{name: "delimiter of several bytes", input: "a§b\n\"1§\"§2\n", opts: Options{Delimiter: '§'}, header: []string{"a", "b"}, want: []got{
			{row: 1, line: 2, fields: []string{"1§", "2"}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, recs := readAll(t, tc.input, tc.opts)
			if !reflect.DeepEqual(r.Header(), tc.header) {
				t.Errorf("header = %q, want %q", r.Header(), tc.header)
			}
			compare(t, recs, tc.want)
		})
	}
}

func TestDelimiter(t *testing.T) {
	for in, want := range map[string]rune{"a,b": ',', "a;b": ';', "a\tb": '\t', "a|b": '|', "a": ',', "a;b,c;d": ';', "a|b\t c": '\t', "sep=;\na,b": ';'} {
		r, err := NewReader(strings.NewReader(in + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Delimiter(); got != want {
			t.Errorf("%q: delimiter %q, want %q", in, got, want)
		}
	}
	for _, d := range []rune{'"', '\n', '\r', utf8.RuneError, -1} {
		if _, err := NewReaderOptions(strings.NewReader("a,b\n"), Options{Delimiter: d}); err == nil {
			t.Errorf("delimiter %q accepted", d)
		}
	}
}

func TestEmptyInput(t *testing.T) {
	for _, in := range []string{"", "\xef\xbb\xbf", "\n\r\n", "\xff\xfe", "\xff\xfe\n\x00"} {
		if _, err := NewReader(strings.NewReader(in)); !errors.Is(err, ErrEmpty) {
			t.Errorf("%q: err = %v, want ErrEmpty", in, err)
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	cases := []struct {
		name, input string
		opts        Options
		err         []string
	}{
		{"stray quote", "a,\"b\nc,d\n", Options{}, []string{"reading the CSV header", "line 1", `extraneous or missing "`}},
		{"bare quote", "a,b\"c\n1,2\n", Options{}, []string{"reading the CSV header", `bare "`}},
		{"Windows-1252", "Caf\xe9,Preis (\x80)\n", Options{}, []string{`column 1 of the CSV header, "Caf\xe9", is not valid UTF-8`, "Windows-1252", "--encoding windows-1252"}},
		{"ISO-8859-1", "a,\x8f\xe9\n", Options{}, []string{"column 2", "ISO-8859-1", "--encoding iso-8859-1"}},
		{"UTF-16LE without a byte order mark", "a\x00,\x00b\x00\n\x00", Options{}, []string{"UTF-16 (little-endian) without a byte order mark", "--encoding utf-16le"}},
		{"UTF-16BE without a byte order mark", "\x00a\x00,\x00b\x00\n", Options{}, []string{"UTF-16 (big-endian)", "--encoding utf-16be"}},
		{"unknown encoding", "a\n", Options{Encoding: "klingon"}, []string{`unknown encoding "klingon"`, "windows-1252", "iso-8859-1", "utf-16le"}},
		{"replacement encoding", "a\n", Options{Encoding: "iso-2022-kr"}, []string{"unknown encoding"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReaderOptions(strings.NewReader(tc.input), tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.err {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q lacks %q", err, s)
				}
			}
		})
	}
	_, err := NewReaderOptions(strings.NewReader("a\n"), Options{Encoding: "klingon"})
	if !errors.Is(err, ErrUnknownEncoding) {
		t.Errorf("err = %v, want ErrUnknownEncoding", err)
	}
	_, err = NewReader(strings.NewReader("a,\"b\nc\n"))
	if pe := (*csv.ParseError)(nil); !errors.As(err, &pe) || pe.StartLine != 1 {
		t.Errorf("err = %#v, want a csv.ParseError from line 1", err)
	}
}

// TestEncodings reads the same text written in each encoding.
func TestEncodings(t *testing.T) {
	const text = "Product;Price\r\nCafé Crème;12,50\r\nMüller ß;0,99\r\n"
	le := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	be := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	cases := []struct {
		name     string
		enc      encoding.Encoding // nil: UTF-8
		bom      string
		option   string
		encoding string // what Reader.Encoding says
	}{
		{"default", nil, "", "", "utf-8"},
		{"utf-8 named", nil, "", "UTF8", "utf-8"},
		{"utf-8 BOM", nil, "\xef\xbb\xbf", "", "utf-8 (byte order mark)"},
		{"utf-16le BOM", le, "\xff\xfe", "", "utf-16le (byte order mark)"},
		{"utf-16be BOM", be, "\xfe\xff", "", "utf-16be (byte order mark)"},
		{"utf-16le BOM, named", le, "\xff\xfe", "utf-16le", "utf-16le (byte order mark)"},
		{"utf-16 BOM, named", be, "\xfe\xff", "utf-16", "utf-16be (byte order mark)"},
		{"BOM over a name", le, "\xff\xfe", "windows-1252", `utf-16le (byte order mark; encoding "windows-1252" ignored)`},
		{"utf-16le named", le, "", "utf-16le", "utf-16le"},
		{"utf-16be named", be, "", "UTF-16BE", "utf-16be"},
		{"utf-16 little-endian guessed", le, "", "utf-16", "utf-16le (no byte order mark: little-endian assumed)"},
		{"utf-16 big-endian guessed", be, "", "utf-16", "utf-16be (no byte order mark: big-endian guessed from the first bytes)"},
		{"windows-1252", charmap.Windows1252, "", "windows-1252", "windows-1252"},
		{"cp1252", charmap.Windows1252, "", "cp1252", "windows-1252"},
		{"iso-8859-1", charmap.ISO8859_1, "", "iso-8859-1", "iso-8859-1"},
		{"latin1", charmap.ISO8859_1, "", "Latin1", "iso-8859-1"},
		{"iso-8859-15", charmap.ISO8859_15, "", "iso-8859-15", "iso-8859-15"},
		{"macintosh", charmap.Macintosh, "", "macintosh", "macintosh"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(text)
			if tc.enc != nil {
				var err error
				if in, err = tc.enc.NewEncoder().Bytes(in); err != nil {
					t.Fatal(err)
				}
			}
			r, err := NewReaderOptions(bytes.NewReader(append([]byte(tc.bom), in...)), Options{Encoding: tc.option})
			if err != nil {
				t.Fatal(err)
			}
			if r.Encoding() != tc.encoding {
				t.Errorf("Encoding() = %q, want %q", r.Encoding(), tc.encoding)
			}
			if r.Delimiter() != ';' || !reflect.DeepEqual(r.Header(), []string{"Product", "Price"}) {
				t.Errorf("delimiter %q, header %q", r.Delimiter(), r.Header())
			}
			compare(t, records(t, r), []got{
				{row: 1, line: 2, fields: []string{"Café Crème", "12,50"}},
				{row: 2, line: 3, fields: []string{"Müller ß", "0,99"}},
			})
		})
	}
}

// TestEncodingGuess: the error for a cell that is not UTF-8 names the
// likely encoding.
func TestEncodingGuess(t *testing.T) {
	for cell, want := range map[string]string{
		"\x80 5":         "looks like Windows-1252 (Excel on Windows); run with --encoding windows-1252",
		"\x93quoted\x94": "looks like Windows-1252 (Excel on Windows); run with --encoding windows-1252",
		"Caf\xe9":        "looks like Windows-1252 (Excel on Windows) or ISO-8859-1, which read these bytes the same; run with --encoding windows-1252",
		"\x81\xe9":       "looks like ISO-8859-1 (Latin-1); run with --encoding iso-8859-1",
		"€ \x8d":         "looks like ISO-8859-1", // the bytes of € in UTF-8 are no evidence
		"\x8d \x80":      "looks like Windows-1252",
	} {
		_, recs := readAll(t, "Product,Price\n"+cell+",1\n", Options{})
		compare(t, recs, []got{{row: 1, line: 2, raw: cell + ",1", err: `column "Product" is not valid UTF-8: the file ` + want}})
	}
}

// TestUndefinedBytes: a byte the named encoding does not define fails its
// row, naming the column, rather than reach HubSpot as U+FFFD; where the
// encoding defines it, or has a U+FFFD of its own (UTF-16), the row reads.
func TestUndefinedBytes(t *testing.T) {
	utf16 := func(s string) string {
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct {
		name, input, encoding string
		want                  got
	}{
		{"windows-1252, 0x81", "Product;Price\nCaf\xe9 \x81;1\n", "windows-1252",
			got{row: 1, line: 2, raw: "Café \ufffd;1", err: `column "Product" holds a byte that windows-1252 does not define (read as U+FFFD)`}},
		{"windows-1252, 0x9d in a later column", "Product;Price\nA;\x9d1\n", "windows-1252",
			got{row: 1, line: 2, raw: "A;\ufffd1", err: `column "Price" holds a byte`}},
		{"iso-8859-1 defines 0x81", "Product;Price\nCaf\xe9 \x81;1\n", "iso-8859-1",
			got{row: 1, line: 2, fields: []string{"Café \u0081", "1"}}},
		{"utf-16 has U+FFFD of its own", utf16("Product;Price\n\ufffd;1\n"), "",
			got{row: 1, line: 2, fields: []string{"\ufffd", "1"}}},
		{"gb18030 has U+FFFD of its own", "Product;Price\n\x84\x31\xa4\x37;1\n", "gb18030",
			got{row: 1, line: 2, fields: []string{"\ufffd", "1"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, recs := readAll(t, c.input, Options{Encoding: c.encoding})
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			if c.want.err != "" {
				if recs[0].err == "" || !strings.Contains(recs[0].err, c.want.err) || recs[0].raw != c.want.raw {
					t.Errorf("got %+v, want the error %q and raw %q", recs[0], c.want.err, c.want.raw)
				}
				return
			}
			compare(t, recs, []got{c.want})
		})
	}
}

// TestExcelEurope reads a file as Excel writes it in much of Europe:
// semicolons, Windows-1252, decimal commas, CRLF and blank rows at the end.
func TestExcelEurope(t *testing.T) {
	data, err := os.ReadFile("testdata/excel-europe.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewReader(bytes.NewReader(data))
	if err == nil || !strings.Contains(err.Error(), "Windows-1252 (Excel on Windows); run with --encoding windows-1252") {
		t.Errorf("without an encoding: err = %v", err)
	}
	r, err := NewReaderOptions(bytes.NewReader(data), Options{Encoding: "windows-1252"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Delimiter() != ';' || r.Encoding() != "windows-1252" {
		t.Errorf("delimiter %q, encoding %q", r.Delimiter(), r.Encoding())
	}
	if want := []string{"SKU", "Produkt", "Beschreibung", "Menge", "Einzelpreis (€)", "Rabatt %", "Kunde", "Start"}; !reflect.DeepEqual(r.Header(), want) {
		t.Errorf("header %q, want %q", r.Header(), want)
	}
	blank := []string{"", "", "", "", "", "", "", ""}
	compare(t, records(t, r), []got{
		{row: 1, line: 2, fields: []string{"SKU-1", "Café Crème", "Kaffee für Büros", "2", "12,50", "0", "Müller GmbH", "01.03.2026"}},
		{row: 2, line: 3, fields: []string{"SKU-2", "Support-Paket", "Support; 24/7, 1 h Reaktion", "1", "1.234,00", "10", "Société Générale", "15.03.2026"}},
		{row: 3, line: 4, fields: []string{"SKU-3", "Schulung", `Zwei Tage "vor Ort"`, "3", "899,99", "5", "Núñez S.L.", ""}},
		{row: 4, line: 5, lines: 2, fields: []string{"SKU-4", "Lizenz", "Zeile eins\nZeile zwei", "10", "49,90", "0", "Øresund A/S", "02.04.2026"}},
		{row: 5, line: 7, fields: []string{"SKU-5", "Straße – Upgrade™", "„Premium“ Paket…", "1", "0,99", "", "Œuvre SARL", ""}},
		{row: 6, line: 8, fields: blank, blank: true},
		{row: 7, line: 9, fields: blank, blank: true},
		{row: 8, line: 10, fields: blank, blank: true},
	})
}

// TestUnicodeText reads Excel's "Unicode text": UTF-16LE with a byte order
// mark, tabs, CRLF.
func TestUnicodeText(t *testing.T) {
	f, err := os.Open("testdata/unicode-text.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.Delimiter() != '\t' || r.Encoding() != "utf-16le (byte order mark)" {
		t.Errorf("delimiter %q, encoding %q", r.Delimiter(), r.Encoding())
	}
	if want := []string{"SKU", "Product", "Description", "Qty", "Unit Price"}; !reflect.DeepEqual(r.Header(), want) {
		t.Errorf("header %q, want %q", r.Header(), want)
	}
	compare(t, records(t, r), []got{
		{row: 1, line: 2, fields: []string{"SKU-1", "Café Crème", "Coffee for offices", "2", "12,50"}},
		{row: 2, line: 3, fields: []string{"SKU-2", "日本語ライセンス", "Japanese licence", "1", "1234"}},
		{row: 3, line: 4, fields: []string{"SKU-3", "🚀 Rocket plan", "Tab\tinside", "3", "9.99"}},
		{row: 4, line: 5, lines: 2, fields: []string{"SKU-4", "Two lines", "First line\nsecond line", "1", "5"}},
		{row: 5, line: 7, fields: []string{"SKU-5", "Quote", `Says "hi"`, "1", "0"}},
	})
}

// TestStrayQuoteFile reads 50 rows, of which row 14 has a stray opening
// quote and row 30 a quote inside a field: every line is a row, those two
// fail with their cells and line, and every other row is read as
// encoding/csv reads its line alone.
func TestStrayQuoteFile(t *testing.T) {
	data, err := os.ReadFile("testdata/stray-quote.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, r)
	if len(recs) != len(lines)-1 || len(recs) != 50 {
		t.Fatalf("%d records for %d data lines", len(recs), len(lines)-1)
	}
	for i, g := range recs {
		line := lines[i+1]
		if g.row != i+1 || g.line != i+2 || g.lines != 1 {
			t.Errorf("record %d: row %d, line %d, %d lines", i, g.row, g.line, g.lines)
		}
		switch g.row {
		case 14:
			want := got{row: 14, line: 15, raw: line, err: "malformed CSV at line 15, column 8|does not close on this line|would take in line 16, a whole record|line 15 is read alone and line 16 as the next record",
				fields: []string{"SKU-14", `"Premium support`, "24/7 support with 1 h response", "1", "24.14", "10", "GBP", "Yearly", "03/15/2026", "1015"}}
			compare(t, recs[i:i+1], []got{want})
		case 30:
			want := got{row: 30, line: 31, raw: line, err: `malformed CSV at line 31, column 12: bare " in non-quoted-field`,
				fields: []string{"SKU-30", `Bad "quote" row`, "Per-user analytics licence", "3", "40.30", "10", "USD", "Yearly", "07/03/2026", "1011"}}
			compare(t, recs[i:i+1], []got{want})
		default:
			fields, err := csv.NewReader(strings.NewReader(line)).Read()
			if err != nil {
				t.Fatalf("line %d: %v", i+2, err)
			}
			compare(t, recs[i:i+1], []got{{row: i + 1, line: i + 2, fields: fields}})
		}
	}
}

// TestLongLines: lines longer than the read buffer, alone and in a
// multi-line record.
func TestLongLines(t *testing.T) {
	long := strings.Repeat("x", 300<<10)
	in := "a,b\n" + long + ",1\n\"" + long + "\n" + long + "\",2\n3,4\n"
	_, recs := readAll(t, in, Options{})
	compare(t, recs, []got{
		{row: 1, line: 2, fields: []string{long, "1"}},
		{row: 2, line: 3, lines: 2, fields: []string{long + "\n" + long, "2"}},
		{row: 3, line: 5, fields: []string{"3", "4"}},
	})
}

// TestSpanLimit: a quote left open does not join more than maxRecordLines
// lines, and the lines it ran over are read again.
func TestSpanLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b\n\"x,1\n")
	for i := range 2 * maxRecordLines {
		fmt.Fprintf(&b, "%d\n", i) // no line is a whole record of two fields
	}
	_, recs := readAll(t, b.String(), Options{})
	if len(recs) != 2*maxRecordLines+1 {
		t.Fatalf("%d records", len(recs))
	}
	compare(t, recs[:2], []got{
		{row: 1, line: 2, fields: []string{`"x`, "1"}, raw: `"x,1`, err: "nor within 1000 lines"},
		{row: 2, line: 3, fields: []string{"0"}, raw: "0", err: "record has 1 fields, the header has 2"},
	})
	if last := recs[len(recs)-1]; last.line != 2*maxRecordLines+2 || last.fields[0] != fmt.Sprint(2*maxRecordLines-1) {
		t.Errorf("last record %+v", last)
	}
	// A multi-line field up to the limit is one record.
	in := "a,b\n\"" + strings.Repeat("\n", maxRecordLines-1) + "\",1\n"
	_, recs = readAll(t, in, Options{})
	compare(t, recs, []got{{row: 1, line: 2, lines: maxRecordLines, fields: []string{strings.Repeat("\n", maxRecordLines-1), "1"}}})
}

func TestFit(t *testing.T) {
	r, _ := NewReader(strings.NewReader("a,b,c\n"))
	if got := r.Fit([]string{"1"}); !reflect.DeepEqual(got, []string{"1", "", ""}) {
		t.Errorf("short: %q", got)
	}
	if got := r.Fit([]string{"1", "2", "3", "4"}); !reflect.DeepEqual(got, []string{"1", "2", "3"}) {
		t.Errorf("long: %q", got)
	}
	r, _ = NewReader(strings.NewReader("a,b,error_row,error_code,error_message\n"))
	if got := r.Fit([]string{"1", "2", "7"}); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Errorf("report columns: %q", got)
	}
}

// errReader fails after its data.
type errReader struct{ data []byte }

var errBroken = errors.New("broken pipe")

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, errBroken
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	for _, in := range []string{"a,b\n1,2\n", "a,b\n1,2\n\"3\n"} {
		r, err := NewReader(&errReader{[]byte(in)})
		if err != nil {
			t.Fatal(err)
		}
		if rec, err := r.Read(); err != nil || rec.Err != nil {
			t.Fatalf("first record: %v %v", err, rec.Err)
		}
		for range 2 {
			if _, err := r.Read(); !errors.Is(err, errBroken) || !strings.Contains(err.Error(), "reading the CSV") {
				t.Errorf("%q: err = %v", in, err)
			}
		}
	}
}

// endless is an input of a header and rows without end.
type endless struct {
	head, row []byte
	off, read int
}

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.head)
	e.head = e.head[n:]
	for n < len(p) {
		c := copy(p[n:], e.row[e.off:])
		n += c
		e.off = (e.off + c) % len(e.row)
	}
	e.read += n
	return n, nil
}

// TestStreams: the reader takes its input a buffer at a time, decoded or
// not.
func TestStreams(t *testing.T) {
	for _, tc := range []struct {
		name, encoding string
		enc            encoding.Encoding
		prefix         string
	}{
		{"utf-8", "", nil, ""},
		{"windows-1252", "windows-1252", charmap.Windows1252, ""},
		{"utf-16le", "", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "\xff\xfe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head, row := []byte("a;b;c\r\n"), []byte("SKU-1;Café;12,50\r\n")
			if tc.enc != nil {
				head, _ = tc.enc.NewEncoder().Bytes(head)
				row, _ = tc.enc.NewEncoder().Bytes(row)
			}
			e := &endless{head: append([]byte(tc.prefix), head...), row: row}
			r, err := NewReaderOptions(e, Options{Encoding: tc.encoding})
			if err != nil {
				t.Fatal(err)
			}
			for range 100_000 {
				rec, err := r.Read()
				if err != nil || rec.Err != nil || rec.Fields[1] != "Café" {
					t.Fatalf("%v %v %q", err, rec.Err, rec.Fields)
				}
			}
			if e.read > 10<<20 {
				t.Errorf("read %d bytes for 100,000 rows", e.read)
			}
		})
	}
}

// TestReadsAsUTF8: an input whose start is UTF-8 text beyond ASCII is
// told apart, under a single-byte encoding given by name, from text in
// that encoding, a character cut at the end of the sniff included.
func TestReadsAsUTF8(t *testing.T) {
	long := "SKU,Name\n" + strings.Repeat("A-1,Thé vert\n", sniffSize/13+1)
	for _, tc := range []struct {
		name, input, encoding string
		want                  bool
	}{
		{"UTF-8 read as windows-1252", "SKU,Name\nA-1,Thé vert\n", "windows-1252", true},
		{"UTF-8 read as iso-8859-1", "SKU,Name\nA-1,Très bon\n", "iso-8859-1", true},
		{"windows-1252", "SKU,Name\nA-1,Th\xe9 vert\n", "windows-1252", false},
		{"windows-1252 and a UTF-8 row later", "SKU,Name\nA-1,Th\xe9 vert\nA-2,Thé vert\n", "windows-1252", false},
		{"ASCII", "SKU,Name\nA-1,Tea\n", "windows-1252", false},
		{"UTF-8 as UTF-8", "SKU,Name\nA-1,Thé vert\n", "", false},
		{"a byte order mark", "\xef\xbb\xbfSKU,Name\nA-1,Thé vert\n", "windows-1252", false},
		{"longer than the sniff", long, "windows-1252", true},
		{"longer than the sniff, a character cut after its lead byte", long[:sniffSize-1] + "€" + long[sniffSize+2:], "windows-1252", true},
		{"longer than the sniff, a character cut after two bytes", long[:sniffSize-2] + "€" + long[sniffSize+1:], "windows-1252", true},
		{"longer than the sniff, invalid at its end", long[:sniffSize-2] + "\xe9x" + long[sniffSize:], "windows-1252", false},
		{"a multi-byte encoding", "SKU,Name\nA-1,Thé vert\n", "shift_jis", false},
		{"UTF-16 by name", "S\x00K\x00U\x00\n\x00", "utf-16le", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewReaderOptions(strings.NewReader(tc.input), Options{Encoding: tc.encoding})
			if err != nil {
				t.Fatal(err)
			}
			if got := rd.ReadsAsUTF8(); got != tc.want {
				t.Errorf("ReadsAsUTF8() = %v, want %v (encoding %s)", got, tc.want, rd.Encoding())
			}
		})
	}
}
