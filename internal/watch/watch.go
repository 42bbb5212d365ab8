// Package watch reads an input file that may still be being written, or
// be written over, while it is read: an export that had not finished when
// cron started the import.
//
// A File checks the file after every read: one that shrank (below what
// was read, or below its size when last checked), was written over with
// as many bytes (a new time at the same size, still so when looked at
// again after PollEvery, as an append updates a file's time before its
// size), or no longer holds the bytes read where the last two reads ended
// (up to KeepBytes of each, read again from the file), ends the read with
// a *ChangedError, and the bytes of that read, which may be the new
// version's, are not returned. An append never changes bytes already
// read.
//
// At the end of the file it checks the file again. A file that grew
// meanwhile (a writer appending) is read on, for ReadOnFor at most. A file
// written moments before is waited for, checking every PollEvery, until
// it grows (it is read on) or has been left unchanged for a while: for
// QuietTime when its last line has its line end (a writer that appends
// whole lines may be between two of them), for SettleTime when it has
// none (the line may be cut). A file that shrank, or was written over
// without growing, ends the read with a *ChangedError; so does one still
// growing inside a line once ReadOnFor has passed.
//
// What is not caught: a file written over with more bytes than it had,
// between two reads, whose new version holds the same bytes as the old
// where the last two reads ended (the same export with rows added at its
// end, or changed only further up) looks like one appended to; a writer
// that pauses longer than QuietTime between two lines has the lines after
// the pause left to the next run; and one that pauses longer than
// SettleTime in the middle of a line leaves that line cut short. Line ends
// are looked for in the raw bytes (LF or CR, or either followed by a NUL,
// as UTF-16LE writes them).
package watch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// SettleTime is how long a last line without a line end must have been
// left unchanged before it is taken as whole.
const SettleTime = 5 * time.Second

// QuietTime is how long a file whose last line has its line end must have
// been left unchanged before its end is taken as the end: a writer that
// appends whole lines, and is between two of them when the read reaches
// the end, goes on within it.
const QuietTime = 2 * time.Second

// PollEvery is how often a file is checked while it is waited for.
const PollEvery = 200 * time.Millisecond

// KeepBytes is how many of the bytes last read a File keeps, to read
// them again from the file at the next check: bytes an append leaves
// alone, and that a file written over likely changes.
const KeepBytes = 4 << 10

// ReadOnFor is how long after the first time it reaches the end of the
// file a File reads on what a writer appends: a file appended to for ever
// (a log) must not keep the run, and the folder's lock, for ever. After
// that it ends at a line end, and the rest is the next run's.
const ReadOnFor = 2 * time.Minute

// ChangedError is a file that was written over while it was read (it
// shrank, or changed without growing), or that was still being written,
// inside a line, once ReadOnFor had passed (Appending). The rows read
// from a file written over may mix its two versions; those read from one
// appended to are whole. It is temporary: once the file is complete, the
// same command reads it again.
type ChangedError struct {
	Name      string
	Why       string
	Appending bool
}

func (e *ChangedError) Error() string {
	if e.Appending {
		return fmt.Sprintf("%s was still being written (%s): its last line was not read. Run the same command again once the file is complete", e.Name, e.Why)
	}
	return fmt.Sprintf("%s was written over while it was read (%s): the rows read before the change was seen may mix its two versions, "+
		"so check created.csv; the rows not yet sent were not sent. Run the same command again once the file is complete", e.Name, e.Why)
}

// UnfinishedError is a file that grew past where its read ended (see
// [File.Unfinished]): still being written ReadOnFor after the read first
// reached its end, or written to again after the read had ended. What was
// read is whole lines, and the rest is the next run's.
type UnfinishedError struct {
	Name   string
	Unread int64 // bytes written past where the read ended
	// Later: the file grew after its read had ended (the writer paused
	// longer than QuietTime), not while it was read.
	Later bool
}

func (e *UnfinishedError) Error() string {
	return fmt.Sprintf("%s %s: the rows up to there were read, and the rest is left to the next run. "+
		"Run the same command again once the file is complete", e.Name, e.What())
}

// What says how the file was seen to grow, for a sentence about it.
func (e *UnfinishedError) What() string {
	if e.Later {
		return fmt.Sprintf("grew by %d bytes after the run had read it to its end", e.Unread)
	}
	return fmt.Sprintf("was still being written %s after the run first reached its end (%d bytes more so far)", ReadOnFor, e.Unread)
}

// Clock is what a File waits with; the zero value is the real clock.
type Clock struct {
	Now func() time.Time
	// Sleep waits for d or until ctx is done, and returns ctx.Err() then.
	Sleep func(ctx context.Context, d time.Duration) error
}

// File reads f, and checks it at its end (see the package comment). It
// implements io.ReadSeeker: a seek to the start reads the file again from
// there, up to where the first read ended (what the first read was, the
// second is). It is not safe for concurrent use.
type File struct {
	ctx   context.Context
	f     *os.File
	name  string
	clock Clock
	// OnWait, if set, is called at the first wait for the file to be left
	// unchanged, with how long ago it was last written and whether its
	// last line has its line end.
	OnWait func(age time.Duration, lineEnded bool)
	told   bool // OnWait was called
	// unfinished is set when the read ended at a file still being written.
	unfinished *UnfinishedError
	// grew: the file was seen to grow since the end of the file was last
	// reached; grewAt: when the end was reached after that.
	grew   bool
	grewAt time.Time

	size int64     // the file's size and modification time when last checked
	mod  time.Time //
	// The size and time last seen, and when they were first seen so.
	seenSize int64
	seenMod  time.Time
	seen     time.Time
	read     int64   // where the next read reads from
	tail     [2]byte // the last two bytes read
	// kept is the last bytes returned (KeepBytes at most), which end at
	// read; scratch is where they are read again.
	kept, scratch []byte
	limit         int64     // after a seek back to the start: where the first read ended; 0 before
	endedAt       time.Time // when the end of the file was first reached
}

// New returns a File that reads f, opened as name, from where f is; fi is
// f's stat taken when it was opened. The waits end when ctx is done, and
// the read then ends with ctx.Err().
func New(ctx context.Context, f *os.File, name string, fi os.FileInfo, clock Clock) *File {
	if clock.Now == nil {
		clock.Now = time.Now
	}
	if clock.Sleep == nil {
		clock.Sleep = sleep
	}
	w := &File{ctx: ctx, f: f, name: name, clock: clock, size: fi.Size(), mod: fi.ModTime()}
	if pos, err := f.Seek(0, io.SeekCurrent); err == nil {
		w.read = pos // standard input may come partway into its file
	}
	return w
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
	if w.limit > 0 {
		if w.read >= w.limit {
			return 0, w.atLimit()
		}
		p = p[:min(int64(len(p)), w.limit-w.read)]
	}
	for empty := 0; ; empty++ {
		n, err := w.f.Read(p)
		switch {
		case n >= 2:
			w.tail = [2]byte{p[n-2], p[n-1]}
		case n == 1:
			w.tail = [2]byte{w.tail[1], p[0]}
		}
		if n > 0 {
			if cerr := w.check(w.read+int64(n), p[:n]); cerr != nil {
				return 0, cerr
			}
			w.keep(p[:n])
		}
		w.read += int64(n)
		if n > 0 || err != io.EOF {
			return n, err
		}
		more, cerr := w.atEnd()
		switch {
		case cerr != nil:
			return 0, cerr
		case !more:
			return 0, io.EOF
		case empty >= 50:
			// Its size says there is more, and reading it gives none.
			return 0, &ChangedError{Name: w.name, Why: fmt.Sprintf("its size says %d bytes, and reading it stops at %d", w.size, w.read)}
		case empty > 0:
			if err := w.clock.Sleep(w.ctx, PollEvery); err != nil {
				return 0, err
			}
		}
	}
}

// Seek sets where the next Read reads from. A seek back to the start
// reads the file again, up to where the first read ended.
func (w *File) Seek(offset int64, whence int) (int64, error) {
	pos, err := w.f.Seek(offset, whence)
	if err == nil {
		if pos == 0 && w.read > 0 {
			w.limit = max(w.limit, w.read)
		}
		w.read, w.tail, w.kept = pos, [2]byte{}, w.kept[:0]
	}
	return pos, err
}

// Unfinished returns an *UnfinishedError if the file has grown past where
// its read ended: the read ended, ReadOnFor after it first reached the
// end of the file, while the file was still growing; or the file is
// larger now, when Unfinished is called (once the rows read have been
// sent), than where the read ended. It returns nil otherwise, and for a
// file that cannot be looked at.
func (w *File) Unfinished() error {
	if w.unfinished != nil {
		return w.unfinished
	}
	fi, err := w.f.Stat()
	if end := max(w.read, w.limit); err == nil && !w.endedAt.IsZero() && fi.Size() > end {
		return &UnfinishedError{Name: w.name, Unread: fi.Size() - end, Later: true}
	}
	return nil
}

// Close closes the file.
func (w *File) Close() error { return w.f.Close() }

// check checks the file after a read of got that ends at read: one that
// shrank below it or below the size last checked, that lookAgain finds
// written over, or that no longer holds the bytes kept or the end of got,
// was written over. One that grew was appended to. It returns a
// *ChangedError, or ctx's error if the wait was cut short.
func (w *File) check(read int64, got []byte) error {
	fi, err := w.f.Stat()
	if err != nil {
		return nil // nothing to compare: the read stands as it is
	}
	size, mod, err := w.lookAgain(fi.Size(), fi.ModTime())
	if err != nil {
		return err
	}
	if size < read || size < w.size {
		return w.changed(size, mod)
	}
	if err := w.stillHolds(w.kept, w.read); err != nil {
		return err
	}
	if err := w.stillHolds(got[max(0, len(got)-KeepBytes):], read); err != nil {
		return err
	}
	if size > w.size {
		w.size, w.mod, w.grew = size, mod, true
	}
	return nil
}

// keep keeps the last KeepBytes of what was read, got included.
func (w *File) keep(got []byte) {
	if w.kept == nil {
		w.kept = make([]byte, 0, 2*KeepBytes)
	}
	if len(got) >= KeepBytes {
		w.kept = append(w.kept[:0], got[len(got)-KeepBytes:]...)
		return
	}
	w.kept = append(w.kept, got...)
	if extra := len(w.kept) - KeepBytes; extra > 0 {
		w.kept = w.kept[:copy(w.kept, w.kept[extra:])]
	}
}

// stillHolds returns a *ChangedError if the file no longer holds b, bytes
// read that end at offset end; nil if it does, or cannot be read there (a
// pipe): there is nothing to compare.
func (w *File) stillHolds(b []byte, end int64) *ChangedError {
	if len(b) == 0 {
		return nil
	}
	if len(w.scratch) < len(b) {
		w.scratch = make([]byte, KeepBytes)
	}
	at := end - int64(len(b))
	n, err := w.f.ReadAt(w.scratch[:len(b)], at)
	if n == len(b) && !bytes.Equal(w.scratch[:n], b) || n < len(b) && err == io.EOF { // it ends before what was read there
		return &ChangedError{Name: w.name, Why: fmt.Sprintf("bytes %d to %d, as read, are no longer what the file holds there", at, end)}
	}
	return nil
}

// lookAgain returns size and mod, the file's as just seen, unless they are
// the size last checked at another time. An append updates a file's time
// before its size, so it then looks again after PollEvery: the same size
// still is a file written over with as many bytes (a *ChangedError);
// another is returned with its time. It returns ctx's error if the wait
// was cut short.
func (w *File) lookAgain(size int64, mod time.Time) (int64, time.Time, error) {
	if size != w.size || mod.Equal(w.mod) {
		return size, mod, nil
	}
	if err := w.clock.Sleep(w.ctx, PollEvery); err != nil {
		return 0, time.Time{}, err
	}
	fi, err := w.f.Stat()
	if err != nil {
		return w.size, w.mod, nil // nothing to compare
	}
	if fi.Size() == w.size {
		return 0, time.Time{}, w.changed(fi.Size(), fi.ModTime())
	}
	return fi.Size(), fi.ModTime(), nil
}

// atLimit checks the file when a second read reaches the end of the first:
// grown, it is the same file (the rest is the next run's); shrunk or
// written over, it is not.
func (w *File) atLimit() error {
	fi, err := w.f.Stat()
	if err != nil {
		return io.EOF
	}
	size, mod := fi.Size(), fi.ModTime()
	if size < w.limit || size < w.size {
		return w.changed(size, mod)
	}
	if _, _, err := w.lookAgain(size, mod); err != nil {
		return err
	}
	return io.EOF
}

func (w *File) changed(size int64, mod time.Time) *ChangedError {
	return &ChangedError{Name: w.name, Why: fmt.Sprintf("%d bytes read; %d bytes, modified %s, when last checked; %d bytes, modified %s, now",
		w.read, w.size, w.mod.UTC().Format(time.RFC3339Nano), size, mod.UTC().Format(time.RFC3339Nano))}
}

// atEnd checks the file at the end of what was read: more says it grew.
func (w *File) atEnd() (more bool, err error) {
	if w.endedAt.IsZero() {
		w.endedAt = w.clock.Now()
	}
	for {
		fi, err := w.f.Stat()
		if err != nil {
			return false, nil // nothing to compare: the read stands as it is
		}
		size, mod, now := fi.Size(), fi.ModTime(), w.clock.Now()
		if w.seen.IsZero() || size != w.seenSize || !mod.Equal(w.seenMod) {
			w.seen, w.seenSize, w.seenMod = now, size, mod
		}
		readingOn := now.Sub(w.endedAt) < ReadOnFor
		if w.grew {
			w.grew, w.grewAt = false, now
		}
		switch {
		case size > w.read && size >= w.size && readingOn:
			// Appended to since it was read: read on.
			w.size, w.mod, w.grew = size, mod, true
			return true, nil
		case size == w.read && size > w.size:
			// Appended to while it was read, and read to its new end.
			w.size, w.mod, w.grew = size, mod, true
			continue
		case size < w.read || size < w.size:
			return false, w.changed(size, mod)
		case size == w.size && !mod.Equal(w.mod):
			if _, _, err := w.lookAgain(size, mod); err != nil {
				return false, err
			}
			continue // it grew (an append), or shrank: checked again
		}
		// The end is the end once the file has been left unchanged for a
		// while, by its modification time or, for a time ahead of this
		// clock, since it was first seen so: QuietTime after a whole line,
		// SettleTime inside one.
		ended := w.read == 0 || w.lineEnded()
		settle := SettleTime
		if ended {
			settle = QuietTime
		}
		age := now.Sub(mod)
		if mod.Nanosecond() == 0 {
			// A file system that keeps times in whole seconds: it may
			// have been written up to a second later than its time says.
			age -= time.Second
		}
		unchanged := max(age, now.Sub(w.seen))
		if !w.grewAt.IsZero() {
			// Seen to grow: quiet since then at most, whatever its time
			// says (the clock that set it may lag behind this one).
			unchanged = min(unchanged, now.Sub(w.grewAt))
		}
		switch {
		case ended && !readingOn && size > w.read:
			// What was added after ReadOnFor is the next run's.
			w.unfinished = &UnfinishedError{Name: w.name, Unread: size - w.read}
			return false, nil
		case ended && !readingOn && unchanged >= QuietTime:
			return false, nil
		case ended && !readingOn:
			// Waited for below: it grows (the rest is the next run's), or
			// is left unchanged for QuietTime.
		case !readingOn:
			return false, &ChangedError{Name: w.name, Appending: true,
				Why: fmt.Sprintf("its last line still had no line end %s after the end of the file was first reached", ReadOnFor)}
		case unchanged >= settle:
			return false, nil
		}
		if !w.told && w.OnWait != nil {
			w.OnWait(now.Sub(mod), ended)
		}
		w.told = true
		if err := w.clock.Sleep(w.ctx, min(PollEvery, settle-unchanged)); err != nil {
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
