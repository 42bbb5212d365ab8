package command

import (
	"fmt"
	"io"
	"os"
	"time"
)

// settleTime is how long before it is read to its end an input file whose
// last line has no line end must have been left unchanged: a writer still
// at work (an export that had not finished when the run started) may be
// in the middle of that line.
const settleTime = 5 * time.Second

// InputChangedError is an input file that changed while it was read, or
// whose last line, without a line end, was written moments before it was
// read: a file still being written, or written over. Its last line is not
// sent (it may be cut short); the rows read before it are accounted for as
// after any stop. It is temporary: run the same command once the file is
// complete, and the rows already created are not created again.
type InputChangedError struct {
	Name string
	Why  string
}

func (e *InputChangedError) Error() string {
	return fmt.Sprintf("%s %s: it may still be being written (or was written over); its last line was not sent. "+
		"Run the same command again once the file is complete: the rows created are not created again", e.Name, e.Why)
}

// watchedInput reads an input file and, at its end, checks that the file
// is what it was when it was opened (the same size and modification time,
// and every byte of it read), and that a last line without a line end was
// not written less than settleTime before. Otherwise it returns an
// *InputChangedError in place of io.EOF, which ends the read of the CSV
// before that line becomes a row.
type watchedInput struct {
	f    *os.File
	name string
	size int64     // when opened
	mod  time.Time // when opened
	now  func() time.Time
	read int64
	tail [2]byte // the last two bytes read
}

// watch returns f, opened as name and unread since the stat fi was taken,
// read through a watchedInput.
func watch(f *os.File, name string, fi os.FileInfo, now func() time.Time) *watchedInput {
	return &watchedInput{f: f, name: name, size: fi.Size(), mod: fi.ModTime(), now: now}
}

func (w *watchedInput) Read(p []byte) (int, error) {
	n, err := w.f.Read(p)
	switch {
	case n >= 2:
		w.tail = [2]byte{p[n-2], p[n-1]}
	case n == 1:
		w.tail = [2]byte{w.tail[1], p[0]}
	}
	w.read += int64(n)
	if err == io.EOF {
		if cerr := w.check(); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

func (w *watchedInput) Close() error { return w.f.Close() }

// check is done at the end of the file.
func (w *watchedInput) check() error {
	fi, err := w.f.Stat()
	if err != nil {
		return nil // nothing to compare: the read stands as it is
	}
	if fi.Size() != w.size || !fi.ModTime().Equal(w.mod) || w.read != w.size {
		return &InputChangedError{Name: w.name, Why: fmt.Sprintf("changed while it was read (%d bytes, modified %s, when opened; %d bytes, modified %s, at the end of the read; "+
			"if it was written over rather than appended to, rows read before the change was seen may mix its two versions: check created.csv)",
			w.size, w.mod.UTC().Format(time.RFC3339Nano), fi.Size(), fi.ModTime().UTC().Format(time.RFC3339Nano))}
	}
	if w.read == 0 || w.lineEnded() {
		return nil
	}
	// A clock a little behind the file's (a network file system) counts as
	// a recent write too; one far behind does not block every run.
	if age := w.now().Sub(fi.ModTime()); age < settleTime && age > -time.Minute {
		return &InputChangedError{Name: w.name, Why: fmt.Sprintf("ends in a line without a line end, and was last written %s before it was read to its end (less than %s)",
			age.Round(time.Millisecond), settleTime)}
	}
	return nil
}

// lineEnded reports whether the bytes read end with a line end: LF or CR,
// or either in UTF-16LE (a NUL after it; UTF-16BE ends in the byte
// itself).
func (w *watchedInput) lineEnded() bool {
	end := func(b byte) bool { return b == '\n' || b == '\r' }
	return end(w.tail[1]) || w.read >= 2 && w.tail[1] == 0 && end(w.tail[0])
}
