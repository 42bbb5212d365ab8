package watch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFile: what a File reads to its end, and what it waits for, for files
// written at various times before, appended to, or written over while they
// are read, in reads of 1, 3 and 4096 bytes, on a fake clock.
func TestFile(t *testing.T) {
	start := time.Date(2026, 12, 3, 8, 0, 0, 123456789, time.UTC)
	appendTo := func(s string) func(path string, now time.Time) error {
		return func(path string, now time.Time) error {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString(s)
			return errors.Join(err, f.Close(), os.Chtimes(path, now, now))
		}
	}
	for _, tc := range []struct {
		name    string
		content string
		age     time.Duration // how long before the read the file was last written
		coarse  bool          // its time in whole seconds, as some file systems keep it
		// before runs once the File is made, during at the first wait.
		before, during func(path string, now time.Time) error
		want           string        // what is read, if the read ends in io.EOF
		wantErr        string        // else a part of the error
		waited         time.Duration // on the fake clock
	}{
		{name: "a line end, just written", content: "a,b\n1,2\n", want: "a,b\n1,2\n", waited: QuietTime},
		{name: "a line end, written QuietTime ago", content: "a,b\n1,2\n", age: QuietTime, want: "a,b\n1,2\n"},
		// Written at 07:59:58.623, its time says 07:59:58: 2.123 s ago by
		// the time, 1.123 s at the least.
		{name: "a line end, written 1.5 s ago, by a time in whole seconds", content: "a,b\n1,2\n", age: 1500 * time.Millisecond, coarse: true,
			want: "a,b\n1,2\n", waited: QuietTime - 1123456789*time.Nanosecond},
		{name: "a line end, written 3.5 s ago, by a time in whole seconds", content: "a,b\n1,2\n", age: 3500 * time.Millisecond, coarse: true,
			want: "a,b\n1,2\n"},
		{name: "a line end, written 1.5 s ago, then more lines", content: "a,b\n1,2\n", age: 1500 * time.Millisecond, during: appendTo("3,4\n5,6\n"),
			want: "a,b\n1,2\n3,4\n5,6\n", waited: PollEvery + QuietTime}, // the writer was between two lines
		{name: "CRLF, just written", content: "a,b\r\n1,2\r\n", want: "a,b\r\n1,2\r\n", waited: QuietTime},
		{name: "a lone CR at the end, just written", content: "a,b\r1,2\r", want: "a,b\r1,2\r", waited: QuietTime},
		{name: "UTF-16LE with a line end, just written", content: "\xff\xfea\x00\n\x00", want: "\xff\xfea\x00\n\x00", waited: QuietTime},
		{name: "no line end, written long ago", content: "a,b\n1,2", age: time.Hour, want: "a,b\n1,2"},
		{name: "no line end, written SettleTime ago", content: "a,b\n1,2", age: SettleTime, want: "a,b\n1,2"},
		{name: "no line end, written 1 s ago, left as it is", content: "a,b\n1,2", age: time.Second, want: "a,b\n1,2", waited: SettleTime - time.Second},
		{name: "no line end, by a clock 30 s ahead", content: "a,b\n1,2", age: -30 * time.Second, want: "a,b\n1,2", waited: SettleTime},
		{name: "no line end, by a clock far ahead", content: "a,b\n1,2", age: -time.Hour, want: "a,b\n1,2", waited: SettleTime},
		{name: "cut inside a line, then finished", content: "a,b\n1,2", age: time.Second, during: appendTo("5\n3,4\n"),
			want: "a,b\n1,25\n3,4\n", waited: PollEvery + QuietTime}, // then whole lines, just written
		{name: "UTF-16LE cut inside a line, left as it is", content: "\xff\xfea\x00b\x00", want: "\xff\xfea\x00b\x00", waited: SettleTime},
		{name: "an empty file, just made", content: "", want: "", waited: QuietTime},
		{name: "an empty file, made long ago", content: "", age: time.Hour, want: ""},
		{name: "appended to while read", content: "a,b\n1,2\n", age: time.Hour, before: appendTo("3,4\n"), want: "a,b\n1,2\n3,4\n", waited: QuietTime},
		{name: "written over, shorter", content: "a,b\n1,2\n3,4\n", age: time.Hour, before: func(path string, now time.Time) error {
			return os.WriteFile(path, []byte("a,b\n9,9\n"), 0o644)
		}, wantErr: "written over"},
		{name: "written over with as many bytes", content: "a,b\n1,2\n", age: time.Hour, before: func(path string, now time.Time) error {
			return errors.Join(os.WriteFile(path, []byte("a,b\n9,9\n"), 0o644), os.Chtimes(path, now, now))
		}, wantErr: "written over", waited: PollEvery}, // looked at again: an append changes the time first
	} {
		for _, chunk := range []int{1, 3, 4096} {
			t.Run(tc.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "in.csv")
				if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
				now := start
				mod := now.Add(-tc.age)
				if tc.coarse {
					mod = mod.Truncate(time.Second)
				}
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
				during := tc.during
				waits := 0
				w := New(context.Background(), f, "in.csv", fi, Clock{
					Now: func() time.Time { return now },
					Sleep: func(ctx context.Context, d time.Duration) error {
						now = now.Add(d)
						if during != nil {
							err := during(path, now)
							during = nil
							return err
						}
						return nil
					},
				})
				w.OnWait = func(time.Duration, bool) { waits++ }
				if tc.before != nil {
					if err := tc.before(path, now); err != nil {
						t.Fatal(err)
					}
				}
				got, err := readAll(w, chunk)
				switch {
				case tc.wantErr != "":
					var ce *ChangedError
					if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("reads of %d: err = %v, want a ChangedError saying %q", chunk, err, tc.wantErr)
					}
				case err != nil || got != tc.want:
					t.Fatalf("reads of %d: read %q, %v; want %q and io.EOF", chunk, got, err, tc.want)
				case w.Unfinished() != nil:
					t.Errorf("reads of %d: %v, of a file left unchanged", chunk, w.Unfinished())
				}
				// OnWait tells of the first wait for the file to be left
				// unchanged, not of a second look.
				if waited := now.Sub(start); waited != tc.waited || tc.wantErr == "" && (waited > 0) != (waits == 1) {
					t.Errorf("reads of %d: waited %v (OnWait called %d times), want %v", chunk, waited, waits, tc.waited)
				}
			})
		}
	}
}

// readAll reads r to its end in reads of chunk bytes; a nil error is io.EOF.
func readAll(r io.Reader, chunk int) (string, error) {
	var got []byte
	buf := make([]byte, chunk)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			return string(got), nil
		}
		if err != nil {
			return string(got), err
		}
	}
}

// TestFileWaitEndsWithContext: a wait for a last line ends when the
// context does, and the read with the context's error.
func TestFileWaitEndsWithContext(t *testing.T) {
	f, fi := openWritten(t, "a,b\n1,2")
	ctx, cancel := context.WithCancel(context.Background())
	w := New(ctx, f, "in.csv", fi, Clock{Now: fi.ModTime})
	w.OnWait = func(time.Duration, bool) { cancel() }
	if _, err := readAll(w, 4096); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestFileSeek: a seek to the start reads the file again, whole.
func TestFileSeek(t *testing.T) {
	f, fi := openWritten(t, "a,b\n1,2\n")
	w := New(context.Background(), f, "in.csv", fi, Clock{})
	var rs io.ReadSeeker = w
	for i := range 2 {
		if got, err := readAll(rs, 3); err != nil || got != "a,b\n1,2\n" {
			t.Fatalf("read %d: %q, %v", i+1, got, err)
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
	}
}

// openWritten writes content to a new file, last written an hour ago,
// and opens it, with its stat; the file is closed when the test ends.
func openWritten(t *testing.T, content string) (*os.File, os.FileInfo) {
	t.Helper()
	return openWrittenAt(t, content, time.Now().Add(-time.Hour))
}

// openWrittenAt is openWritten of a file last written at mod.
func openWrittenAt(t *testing.T, content string, mod time.Time) (*os.File, os.FileInfo) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return f, fi
}

// TestFileFromWhereItIs: standard input may come partway into its file
// (a wrapper read a line of it first): the read goes from there to the
// end, and ends.
func TestFileFromWhereItIs(t *testing.T) {
	f, fi := openWritten(t, "preamble\na,b\n1,2\n")
	if _, err := f.Read(make([]byte, len("preamble\n"))); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(New(context.Background(), f, "stdin", fi, Clock{}), 3); err != nil || got != "a,b\n1,2\n" {
		t.Fatalf("read %q, %v", got, err)
	}
}

// TestFileReadsOnForAWhile: a file appended to for ever (a log) is read
// on for ReadOnFor, then ends at a line end, or, inside a line, with a
// ChangedError that says it was still being written.
func TestFileReadsOnForAWhile(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		wantErr    bool
	}{
		{"lines with their line ends", "x,1\n", false},
		{"lines that start with their line ends", "\nx,1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, fi := openWritten(t, "a,b"+tc.line)
			now := fi.ModTime().Add(time.Hour)
			appended := 0
			// The writer appends a line each time the clock is read, and
			// each reading is a second later.
			w := New(context.Background(), f, "in.csv", fi, Clock{
				Now: func() time.Time {
					now = now.Add(time.Second)
					out, err := os.OpenFile(f.Name(), os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					out.WriteString(tc.line)
					out.Close()
					os.Chtimes(f.Name(), now, now)
					appended++
					return now
				},
				Sleep: func(ctx context.Context, d time.Duration) error { now = now.Add(d); return nil },
			})
			got, err := readAll(w, 4096)
			var ce *ChangedError
			switch {
			case tc.wantErr && (!errors.As(err, &ce) || !ce.Appending):
				t.Fatalf("err = %v, want a ChangedError saying the file was still being written", err)
			case !tc.wantErr && err != nil:
				t.Fatalf("err = %v, want io.EOF", err)
			case !tc.wantErr && !strings.HasSuffix(got, "\n"):
				t.Fatalf("the read ended inside a line: %q", got[max(0, len(got)-20):])
			}
			// Ended at a line end while the writer goes on: the rest is
			// the next run's, and the read says so.
			var ue *UnfinishedError
			if !tc.wantErr && !errors.As(w.Unfinished(), &ue) {
				t.Errorf("Unfinished() = %v, want an *UnfinishedError", w.Unfinished())
			}
			if appended > int(ReadOnFor/time.Second)+10 {
				t.Errorf("the writer appended %d lines, one a second: the read went on past %s", appended, ReadOnFor)
			}
		})
	}
}

// TestFileSecondRead: after a seek back to the start (--duplicate-keys
// last-wins reads the file twice), the second read ends where the first
// did, whatever was appended since; a file written over since ends it with
// a ChangedError.
func TestFileSecondRead(t *testing.T) {
	for _, tc := range []struct {
		name    string
		between func(path string) error
		wantErr bool
	}{
		{"appended to between the reads", func(path string) error {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString("3,4\n")
			return errors.Join(err, f.Close())
		}, false},
		{"written over, shorter, between the reads", func(path string) error {
			return os.WriteFile(path, []byte("a,b\n"), 0o644)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, fi := openWritten(t, "a,b\n1,2\n")
			w := New(context.Background(), f, "in.csv", fi, Clock{})
			if got, err := readAll(w, 3); err != nil || got != "a,b\n1,2\n" {
				t.Fatalf("first read %q, %v", got, err)
			}
			if err := tc.between(f.Name()); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(w, 3)
			var ce *ChangedError
			switch {
			case tc.wantErr && !errors.As(err, &ce):
				t.Fatalf("second read %q, %v; want a ChangedError", got, err)
			case !tc.wantErr && (err != nil || got != "a,b\n1,2\n"):
				t.Fatalf("second read %q, %v; want what the first read", got, err)
			}
		})
	}
}

// TestFileWrittenOverWhileRead: a file written over in place while it is
// read (an export run again: truncated, then written anew) ends the read
// at the next read after the change, before a byte of the new version is
// returned, whenever the new version is shorter than the old one or, with
// as many bytes, written later; a file appended to reads on.
func TestFileWrittenOverWhileRead(t *testing.T) {
	const old = "a,b\n1,2\n3,4\n5,6\n"
	for _, tc := range []struct {
		name, next string
		appended   bool
	}{
		{"shorter than what was read", "a,b\n", false},
		{"shorter, yet longer than what was read", "a,b\n9,9\n8,8\n", false},
		{"as many bytes", "a,b\n9,9\n8,8\n7,7\n", false},
		{"longer, other bytes where the read ended", "a,b\n9,9\n8,8\n7,7\n6,6\n", false},
		{"appended to", old + "7,8\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, fi := openWritten(t, old)
			now := fi.ModTime().Add(time.Hour)
			w := New(context.Background(), f, "in.csv", fi, Clock{
				Now:   func() time.Time { return now },
				Sleep: func(ctx context.Context, d time.Duration) error { now = now.Add(d); return nil },
			})
			head := make([]byte, 8)
			if n, err := io.ReadFull(w, head); n != 8 || err != nil {
				t.Fatalf("first read: %d, %v", n, err)
			}
			later := fi.ModTime().Add(time.Second)
			if tc.appended {
				g, err := os.OpenFile(f.Name(), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, err = g.WriteString(tc.next[len(old):])
				if err := errors.Join(err, g.Close()); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(f.Name(), []byte(tc.next), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(f.Name(), later, later); err != nil {
				t.Fatal(err)
			}
			rest, err := readAll(w, 4096)
			var ce *ChangedError
			switch {
			case tc.appended:
				if err != nil || string(head)+rest != tc.next {
					t.Errorf("appended to: read %q, %v; want %q", string(head)+rest, err, tc.next)
				}
			case !errors.As(err, &ce) || ce.Appending:
				t.Errorf("written over: read on to %q, %v; want a ChangedError", rest, err)
			case rest != "":
				t.Errorf("written over: %q of the new version returned before the ChangedError", rest)
			}
		})
	}
}

// TestFileWrittenOverThenAppended: a file written over in place with as
// many bytes, whose writer goes on appending to the new version before
// it is looked at again, is written over: the bytes already read are no
// longer there. (By size and time alone it looks like the append of
// TestFileAppendTouchesTimeFirst.)
func TestFileWrittenOverThenAppended(t *testing.T) {
	const old = "a,b\n1,2\n3,4\n"
	f, fi := openWritten(t, old)
	now := fi.ModTime().Add(time.Hour)
	w := New(context.Background(), f, "in.csv", fi, Clock{
		Now: func() time.Time { return now },
		Sleep: func(ctx context.Context, d time.Duration) error {
			now = now.Add(d)
			g, err := os.OpenFile(f.Name(), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = g.WriteString("9,9\n") // the new version goes on
			return errors.Join(err, g.Close())
		},
	})
	head := make([]byte, 8)
	if _, err := io.ReadFull(w, head); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Name(), []byte("a,b\n5,6\n7,8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	touched := fi.ModTime().Add(time.Second)
	if err := os.Chtimes(f.Name(), touched, touched); err != nil {
		t.Fatal(err)
	}
	rest, err := readAll(w, 4096)
	var ce *ChangedError
	if !errors.As(err, &ce) || rest != "" {
		t.Errorf("read %q, %v; want a *ChangedError before a byte of the new version (old 1,2 mixed with new 7,8, and 5,6 never read)", string(head)+rest, err)
	}
}

// TestFileKeep: the bytes kept are the last KeepBytes read, whatever the
// sizes of the reads.
func TestFileKeep(t *testing.T) {
	var all []byte
	w := &File{}
	for i, n := range []int{1, 7, KeepBytes - 3, 2, KeepBytes + 5, 0, 10, 3 * KeepBytes, KeepBytes - 1} {
		got := bytes.Repeat([]byte{byte('a' + i)}, n)
		all = append(all, got...)
		w.keep(got)
		want := all[max(0, len(all)-KeepBytes):]
		if !bytes.Equal(w.kept, want) {
			t.Fatalf("after %d reads: kept %d bytes ending %q, want %d ending %q", i+1, len(w.kept), w.kept[max(0, len(w.kept)-3):], len(want), want[max(0, len(want)-3):])
		}
	}
}

// TestFileAppendTouchesTimeFirst: a writer's append updates the file's
// time before its size; a check that lands between the two sees the same
// size at a new time, as a file written over with as many bytes would
// look. Looked at again after PollEvery, the file has grown: it is read on,
// not taken for written over, after a read and at the end of the file.
func TestFileAppendTouchesTimeFirst(t *testing.T) {
	for _, at := range []string{"after a read", "at the end"} {
		t.Run(at, func(t *testing.T) {
			const content = "a,b\n1,2\n"
			f, fi := openWritten(t, content)
			now := fi.ModTime().Add(time.Hour)
			looks := 0
			w := New(context.Background(), f, "in.csv", fi, Clock{
				Now: func() time.Time { return now },
				Sleep: func(ctx context.Context, d time.Duration) error {
					now = now.Add(d)
					if looks++; looks > 1 {
						return nil // then the file is left as it is
					}
					g, err := os.OpenFile(f.Name(), os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						return err
					}
					_, err = g.WriteString("3,4\n")
					return errors.Join(err, g.Close())
				},
			})
			head := make([]byte, 4)
			if at == "at the end" {
				head = make([]byte, len(content))
			}
			if _, err := io.ReadFull(w, head); err != nil {
				t.Fatal(err)
			}
			touched := fi.ModTime().Add(time.Second)
			if err := os.Chtimes(f.Name(), touched, touched); err != nil {
				t.Fatal(err)
			}
			rest, err := readAll(w, 4096)
			if got := string(head) + rest; err != nil || got != content+"3,4\n" {
				t.Errorf("read %q, %v; want %q, read on", got, err, content+"3,4\n")
			}
		})
	}
}

// appendLine appends s to the file at path and, unless mod is zero, sets
// its time to mod.
func appendLine(t *testing.T, path, s string, mod time.Time) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(s)
	if err := errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
	if !mod.IsZero() {
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFileGrowsAfterTheRead: a file written to again once its read has
// ended (the writer paused longer than QuietTime) is unfinished, after
// one read or after the second of last-wins; one left as it is is not.
func TestFileGrowsAfterTheRead(t *testing.T) {
	for _, second := range []bool{false, true} {
		f, fi := openWritten(t, "a,b\n1,2\n")
		w := New(context.Background(), f, "in.csv", fi, Clock{})
		if got, err := readAll(w, 3); err != nil || got != "a,b\n1,2\n" || w.Unfinished() != nil {
			t.Fatalf("read %q, %v, unfinished %v", got, err, w.Unfinished())
		}
		appendLine(t, f.Name(), "3,4\n", time.Time{})
		if second {
			if _, err := w.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if got, err := readAll(w, 3); err != nil || got != "a,b\n1,2\n" {
				t.Fatalf("second read %q, %v", got, err)
			}
		}
		var ue *UnfinishedError
		if !errors.As(w.Unfinished(), &ue) || !ue.Later || ue.Unread != 4 {
			t.Errorf("second read %v: Unfinished() = %v, want 4 bytes written after the read", second, w.Unfinished())
		}
	}
}

// TestFileTimeBehindTheClock: a file seen to grow while it is read is
// waited for, QuietTime from then, even when its time, set by a clock
// behind this one, says it was written long before.
func TestFileTimeBehindTheClock(t *testing.T) {
	start := time.Now()
	behind := start.Add(-10 * time.Second)
	f, fi := openWrittenAt(t, "a,b\n1,2\n", behind)
	slept := time.Duration(0)
	w := New(context.Background(), f, "in.csv", fi, Clock{Now: func() time.Time { return start.Add(slept) },
		Sleep: func(ctx context.Context, d time.Duration) error { slept += d; return nil }})
	head := make([]byte, 4)
	if _, err := io.ReadFull(w, head); err != nil {
		t.Fatal(err)
	}
	appendLine(t, f.Name(), "3,4\n", behind) // while it is read
	rest, err := readAll(w, 4096)
	if got := string(head) + rest; err != nil || got != "a,b\n1,2\n3,4\n" || slept != QuietTime {
		t.Errorf("read %q, %v, after waiting %v; want the whole file after %v", got, err, slept, QuietTime)
	}
}

// TestFileTimeAheadComplete: a file whose time is ahead of this clock,
// seen to grow while it is read and read to its end minutes later, is
// complete once left unchanged for QuietTime: not unfinished.
func TestFileTimeAheadComplete(t *testing.T) {
	for _, ahead := range []time.Duration{time.Hour, 10 * time.Second} {
		start := time.Now()
		mod := start.Add(ahead)
		f, fi := openWrittenAt(t, "a,b\n1,2\n", mod)
		now := start
		appended := false
		w := New(context.Background(), f, "in.csv", fi, Clock{Now: func() time.Time { return now },
			Sleep: func(ctx context.Context, d time.Duration) error {
				now = now.Add(d)
				if !appended {
					appended = true
					appendLine(t, f.Name(), "3,4\n", mod.Add(time.Second))
				}
				return nil
			}})
		buf := make([]byte, 8)
		got := ""
		for range 2 {
			n, err := w.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got += string(buf[:n])
		}
		appendLine(t, f.Name(), "5,6\n", mod.Add(2*time.Second)) // the writer's last line
		now = now.Add(3 * time.Minute)                           // the reader comes back to it much later
		rest, err := readAll(w, 8)
		if got += rest; err != nil || got != "a,b\n1,2\n3,4\n5,6\n" || w.Unfinished() != nil {
			t.Errorf("time %v ahead: read %q, %v, unfinished %v; want the whole file, complete", ahead, got, err, w.Unfinished())
		}
	}
}
