package rows

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

type got struct {
	row    int
	fields []string
	err    string // substring, "" for none
}

func readAll(t *testing.T, input string) (*Reader, []got) {
	t.Helper()
	r, err := NewReader(strings.NewReader(input))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []got
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return r, out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		g := got{row: rec.Row, fields: rec.Fields}
		if rec.Err != nil {
			g.err = rec.Err.Error()
		}
		out = append(out, g)
	}
}

func TestReader(t *testing.T) {
	cases := []struct {
		name   string
		input  string
		header []string
		want   []got
	}{
		{"header only", "a,b\n", []string{"a", "b"}, nil},
		{"BOM and CRLF", "\xef\xbb\xbfa,b\r\n1,2\r\n3,4\r\n", []string{"a", "b"}, []got{{1, []string{"1", "2"}, ""}, {2, []string{"3", "4"}, ""}}},
		{"mixed line ends, no final newline", "a,b\r\n1,2\n3,4", []string{"a", "b"}, []got{{1, []string{"1", "2"}, ""}, {2, []string{"3", "4"}, ""}}},
		{"quoted newline", "a,b\n\"x\ny\",2\n3,4\n", []string{"a", "b"}, []got{{1, []string{"x\ny", "2"}, ""}, {2, []string{"3", "4"}, ""}}},
		{"ragged rows fail alone", "a,b\n1\n1,2,3\n5,6\n", []string{"a", "b"}, []got{
			{1, []string{"1"}, "record has 1 fields, the header has 2"},
			{2, []string{"1", "2", "3"}, `extra values: ["3"]`},
			{3, []string{"5", "6"}, ""},
		}},
		{"bad quoting fails alone", "a,b\n1,x\"y\n5,6\n", []string{"a", "b"}, []got{
			{1, nil, "bare \" in non-quoted-field"},
			{2, []string{"5", "6"}, ""},
		}},
		{"invalid UTF-8 names the column", "a,b\n1,\xff\n", []string{"a", "b"}, []got{{1, []string{"1", "\xff"}, `column "b" holds invalid UTF-8`}}},
		{"report columns dropped", "a,b,error_row,error_code,error_message\n1,2,7,X,msg\n", []string{"a", "b"}, []got{{1, []string{"1", "2"}, ""}}},
		{"duplicate header names kept", "a,a\n1,2\n", []string{"a", "a"}, []got{{1, []string{"1", "2"}, ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, recs := readAll(t, tc.input)
			if !reflect.DeepEqual(r.Header(), tc.header) {
				t.Errorf("header = %q, want %q", r.Header(), tc.header)
			}
			if len(recs) != len(tc.want) {
				t.Fatalf("got %d records %+v, want %d", len(recs), recs, len(tc.want))
			}
			for i, w := range tc.want {
				g := recs[i]
				if g.row != w.row {
					t.Errorf("record %d: row %d, want %d", i, g.row, w.row)
				}
				if w.fields != nil && !reflect.DeepEqual(g.fields, w.fields) {
					t.Errorf("record %d: fields %q, want %q", i, g.fields, w.fields)
				}
				if (w.err == "") != (g.err == "") || !strings.Contains(g.err, w.err) {
					t.Errorf("record %d: err %q, want %q", i, g.err, w.err)
				}
			}
		})
	}
}

func TestEmptyInput(t *testing.T) {
	for _, in := range []string{"", "\xef\xbb\xbf"} {
		if _, err := NewReader(strings.NewReader(in)); !errors.Is(err, ErrEmpty) {
			t.Errorf("%q: err = %v, want ErrEmpty", in, err)
		}
	}
}

func TestFit(t *testing.T) {
	r, _ := NewReader(strings.NewReader("a,b,c\n"))
	if got := r.Fit([]string{"1"}); !reflect.DeepEqual(got, []string{"1", "", ""}) {
		t.Errorf("short: %q", got)
	}
	if got := r.Fit([]string{"1", "2", "3", "4"}); !reflect.DeepEqual(got, []string{"1", "2", "3"}) {
		t.Errorf("long: %q", got)
	}
}
