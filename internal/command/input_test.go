package command

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWatchedInput: a file read to its end unchanged, or whose last line
// has a line end, or that was last written settleTime or more before, reads
// to io.EOF; one still being written or written over ends with an
// *InputChangedError, whatever the reader's buffer size.
func TestWatchedInput(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		content string
		age     time.Duration // how long before now the file was last written
		during  func(path string) error
		want    string // "" for io.EOF, else a part of the error
	}{
		{"a line end, just written", "a,b\n1,2\n", 0, nil, ""},
		{"CRLF, just written", "a,b\r\n1,2\r\n", 0, nil, ""},
		{"a lone CR at the end, just written", "a,b\r1,2\r", 0, nil, ""},
		{"UTF-16LE with a line end, just written", "\xff\xfea\x00\n\x00", 0, nil, ""},
		{"no line end, written long ago", "a,b\n1,2", time.Hour, nil, ""},
		{"no line end, written settleTime ago", "a,b\n1,2", settleTime, nil, ""},
		{"no line end, just written", "a,b\n1,2", time.Second, nil, "without a line end"},
		{"no line end, written by a clock a little ahead", "a,b\n1,2", -30 * time.Second, nil, "without a line end"},
		{"no line end, written by a clock far ahead", "a,b\n1,2", -time.Hour, nil, ""},
		{"UTF-16LE cut inside a line, just written", "\xff\xfea\x00b\x00", 0, nil, "without a line end"},
		{"an empty file", "", 0, nil, ""},
		{"appended to while read", "a,b\n1,2\n", time.Hour, func(path string) error {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString("3,4\n")
			return errors.Join(err, f.Close())
		}, "changed while it was read"},
		{"written over with as many bytes", "a,b\n1,2\n", time.Hour, func(path string) error {
			return errors.Join(os.WriteFile(path, []byte("a,b\n9,9\n"), 0o644), os.Chtimes(path, now, now))
		}, "changed while it was read"},
	} {
		for _, chunk := range []int{1, 3, 4096} {
			t.Run(tc.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "in.csv")
				if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
				mod := now.Add(-tc.age)
				if err := os.Chtimes(path, mod, mod); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				fi, err := f.Stat()
				if err != nil {
					t.Fatal(err)
				}
				w := watch(f, "in.csv", fi, func() time.Time { return now })
				if tc.during != nil {
					if err := tc.during(path); err != nil {
						t.Fatal(err)
					}
				}
				var got []byte
				buf := make([]byte, chunk)
				for {
					n, err := w.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						var ce *InputChangedError
						switch {
						case tc.want == "" && err != io.EOF:
							t.Fatalf("read %d bytes in chunks of %d: err = %v, want io.EOF", len(got), chunk, err)
						case tc.want != "" && (!errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want)):
							t.Fatalf("read %d bytes in chunks of %d: err = %v, want an InputChangedError saying %q", len(got), chunk, err, tc.want)
						}
						return
					}
				}
			})
		}
	}
}
