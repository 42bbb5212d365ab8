package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
)

// stdRecord is what encoding/csv writes for record.
func stdRecord(t testing.TB, record []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(record); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return b.Bytes()
}

var recordSeeds = [][]string{
	{},
	{""},
	{"", ""},
	{"plain", "42", "é"},
	{"a,b", `say "hi"`, "two\nlines", "cr\rhere", "crlf\r\n", `"`, `""`},
	{" leading space", "\tleading tab", "trailing ", "\u00a0nbsp", "\u2003em space", "x y"},
	{`\.`, `\..`, `.\`, `\`},
	{"\xff", "\xffbad utf-8", "\x00nul", strings.Repeat("long ", 100)},
}

func TestAppendRecordMatchesEncodingCSV(t *testing.T) {
	for _, rec := range recordSeeds {
		if got, want := appendRecord(nil, rec), stdRecord(t, rec); !bytes.Equal(got, want) {
			t.Errorf("appendRecord(%q) = %q, encoding/csv %q", rec, got, want)
		}
	}
}

func FuzzAppendRecord(f *testing.F) {
	for _, rec := range recordSeeds {
		f.Add(strings.Join(rec, "\x1f"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		rec := strings.Split(joined, "\x1f") // the unit separator splits fields
		if got, want := appendRecord(nil, rec), stdRecord(t, rec); !bytes.Equal(got, want) {
			t.Errorf("appendRecord(%q) = %q, encoding/csv %q", rec, got, want)
		}
	})
}

// failingWriter accepts n writes and then fails.
type failingWriter struct {
	n      int
	writes int
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.writes >= w.n {
		return 0, errDiskFull
	}
	w.writes++
	return len(p), nil
}

func TestLineWriter(t *testing.T) {
	var b bytes.Buffer
	lw := newLineWriter(&b)
	lw.Write([]string{"a", "b"})
	if b.Len() != 0 {
		t.Fatalf("wrote %q before Flush", b.String())
	}
	big := strings.Repeat("x", flushAt)
	lw.Write([]string{big})
	if b.Len() != len("a,b\n")+len(big)+1 {
		t.Fatalf("a buffer past %d bytes was not passed on: %d bytes written", flushAt, b.Len())
	}
	lw.Write([]string{"c"})
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "a,b\n" + big + "\nc\n"; b.String() != want {
		t.Fatalf("wrote %d bytes, want %d", b.Len(), len(want))
	}

	fw := &failingWriter{n: 1}
	lw = newLineWriter(fw)
	lw.Write([]string{"a"})
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	lw.Write([]string{"b"})
	if err := lw.Flush(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Flush after a failed write = %v, want %v", err, errDiskFull)
	}
	lw.Write([]string{"c"})
	if err := lw.Flush(); !errors.Is(err, errDiskFull) || fw.writes != 1 {
		t.Fatalf("a later Flush = %v after %d writes; want the first error kept and no more writes", err, fw.writes)
	}
}
