// Package watch reads an input file that may still be being written, or
// be written over, while it is read: an export that had not finished when
// cron started the import.
//
// A File reads through to the end of the file, and there checks the file
// again. A file that grew meanwhile (a writer appending) is read on. A
// file whose last line has no line end and that was written less than
// SettleTime before is waited for, checking every PollEvery, until it grows
// (it is read on) or SettleTime has passed since it was last written (the
// line is whole). A file that shrank, or was written over without growing,
// ends the read with a *ChangedError.
//
// What is not caught: a file written over with more bytes than were read
// looks like one appended to, and a writer that pauses longer than
// SettleTime in the middle of a line leaves that line cut short. Line ends
// are looked for in the raw bytes (LF or CR, or either followed by a NUL,
// as UTF-16LE writes them).
package watch

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// SettleTime is how long a last line without a line end must have been
// left unchanged before it is taken as whole.
const SettleTime = 5 * time.Second

// PollEvery is how often a file is checked while it is waited for.
const PollEvery = 200 * time.Millisecond

// ChangedError is a file that was written over while it was read: it
// shrank, or changed without growing. The rows read before the change was
// seen may mix its two versions. It is temporary: once the file is
// complete, the same command reads it again.
type ChangedError struct {
	Name string
	Why  string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s was written over while it was read (%s): the rows read before the change was seen may mix its two versions, "+
		"so check created.csv; the rows not yet sent were not sent. Run the same command again once the file is complete", e.Name, e.Why)
}

// Clock is what a File waits with; the zero value is the real clock.
type Clock struct {
	Now func() time.Time
	// Sleep waits for d or until ctx is done, and returns ctx.Err() then.
	Sleep func(ctx context.Context, d time.Duration) error
}

// File reads f, and checks it at its end (see the package comment). It
// implements io.ReadSeeker: a seek to the start reads the file again from
// there. It is not safe for concurrent use.
type File struct {
	ctx   context.Context
	f     *os.File
	name  string
	clock Clock
	// OnWait, if set, is called once for each wait for a last line, with
	// how long ago the file was last written.
	OnWait func(age time.Duration)

	size    int64     // the file's size and modification time when last checked
	mod     time.Time //
	read    int64     // bytes read from the start
	tail    [2]byte   // the last two bytes read
	waiting bool
}

// New returns a File that reads f, opened as name, from its start; fi is
// f's stat taken when it was opened. The waits end when ctx is done, and
// the read then ends with ctx.Err().
func New(ctx context.Context, f *os.File, name string, fi os.FileInfo, clock Clock) *File {
	if clock.Now == nil {
		clock.Now = time.Now
	}
	if clock.Sleep == nil {
		clock.Sleep = sleep
	}
	return &File{ctx: ctx, f: f, name: name, clock: clock, size: fi.Size(), mod: fi.ModTime()}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Read reads from the file. At its end it returns io.EOF only once the
// file is settled: see the package comment.
func (w *File) Read(p []byte) (int, error) {
	n, err := w.f.Read(p)
	switch {
	case n >= 2:
		w.tail = [2]byte{p[n-2], p[n-1]}
	case n == 1:
		w.tail = [2]byte{w.tail[1], p[0]}
	}
	w.read += int64(n)
	if err == io.EOF {
		more, cerr := w.atEnd()
		switch {
		case cerr != nil:
			return n, cerr
		case more:
			return n, nil // the next Read reads what was added
		}
	}
	return n, err
}

// Seek sets where the next Read reads from. A seek to the start reads the
// file again, with the checks of a first read.
func (w *File) Seek(offset int64, whence int) (int64, error) {
	pos, err := w.f.Seek(offset, whence)
	if err == nil {
		w.read, w.tail = pos, [2]byte{}
	}
	return pos, err
}

// Close closes the file.
func (w *File) Close() error { return w.f.Close() }

// atEnd checks the file at the end of what was read: more says it grew.
func (w *File) atEnd() (more bool, err error) {
	w.waiting = false
	for {
		fi, err := w.f.Stat()
		if err != nil {
			return false, nil // nothing to compare: the read stands as it is
		}
		size, mod := fi.Size(), fi.ModTime()
		switch {
		case size > w.read && size >= w.size:
			// Appended to since it was read: read on.
			w.size, w.mod = size, mod
			return true, nil
		case size == w.read && size > w.size:
			// Appended to while it was read, and read to its new end.
			w.size, w.mod = size, mod
			continue
		case size < w.read || size != w.size || !mod.Equal(w.mod):
			return false, &ChangedError{Name: w.name, Why: fmt.Sprintf("%d bytes read; %d bytes, modified %s, when last checked; %d bytes, modified %s, now",
				w.read, w.size, w.mod.UTC().Format(time.RFC3339Nano), size, mod.UTC().Format(time.RFC3339Nano))}
		case w.read == 0 || w.lineEnded():
			return false, nil
		}
		// The last line has no line end: whole, unless the file was
		// written moments ago (a clock a little behind the file's, on a
		// network file system, counts as moments; one far behind does not
		// hold every run up).
		age := w.clock.Now().Sub(mod)
		if age >= SettleTime || age <= -time.Minute {
			return false, nil
		}
		if !w.waiting && w.OnWait != nil {
			w.OnWait(age)
		}
		w.waiting = true
		if err := w.clock.Sleep(w.ctx, min(PollEvery, SettleTime-age)); err != nil {
			return false, err
		}
	}
}

// lineEnded reports whether the bytes read end with a line end: LF or CR,
// or either followed by a NUL (UTF-16LE; UTF-16BE ends in the byte itself).
func (w *File) lineEnded() bool {
	end := func(b byte) bool { return b == '\n' || b == '\r' }
	return end(w.tail[1]) || w.read >= 2 && w.tail[1] == 0 && end(w.tail[0])
}
