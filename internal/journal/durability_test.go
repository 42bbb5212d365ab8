package journal

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lineitems/importer/internal/report"
)

// syncCounter wraps the journal's file and records how many bytes had been
// written at each fsync.
type syncCounter struct {
	file
	mu      sync.Mutex
	written int
	synced  []int
}

func (c *syncCounter) Write(b []byte) (int, error) {
	n, err := c.file.Write(b)
	c.mu.Lock()
	c.written += n
	c.mu.Unlock()
	return n, err
}

func (c *syncCounter) Sync() error {
	c.mu.Lock()
	c.synced = append(c.synced, c.written)
	c.mu.Unlock()
	return c.file.Sync()
}

// state returns the bytes written and those known to be on disk.
func (c *syncCounter) state() (written, onDisk int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.synced) > 0 {
		onDisk = c.synced[len(c.synced)-1]
	}
	return c.written, onDisk
}

// TestSentIsOnDiskDoneIsWritten: a sent record is on disk before Sent
// returns (no request may go out unrecorded); an outcome is in the file
// before Done returns (a killed process cannot lose it) and reaches the
// disk with the next Sent or with Close, without an fsync of its own.
func TestSentIsOnDiskDoneIsWritten(t *testing.T) {
	dir := t.TempDir()
	j, _, err := Open(dir, Header{Input: "in", Mapping: "m"}, false)
	if err != nil {
		t.Fatal(err)
	}
	c := &syncCounter{file: j.f}
	j.f = c
	path := filepath.Join(dir, FileName)
	size := func() int {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return int(fi.Size())
	}
	start := size()

	if err := j.Sent([]int{1, 2}); err != nil {
		t.Fatal(err)
	}
	if w, d := c.state(); w == 0 || d != w || len(c.synced) != 1 {
		t.Fatalf("after Sent: %d bytes written, %d on disk, %d fsyncs; want all on disk with one fsync", w, d, len(c.synced))
	}
	if err := j.Done([]report.Outcome{{Row: 1, Status: report.Created, ID: "7"}, {Row: 2, Status: report.Created, ID: "8"}}); err != nil {
		t.Fatal(err)
	}
	w, d := c.state()
	if len(c.synced) != 1 || w <= d {
		t.Fatalf("after Done: %d bytes written, %d on disk, %d fsyncs; want it written without an fsync", w, d, len(c.synced))
	}
	if got := size(); got != start+w {
		t.Fatalf("file is %d bytes after Done, want %d: the outcome is not in the file", got, start+w)
	}
	if err := j.Sent([]int{3}); err != nil {
		t.Fatal(err)
	}
	if w, d := c.state(); d != w || len(c.synced) != 2 {
		t.Fatalf("after the next Sent: %d written, %d on disk, %d fsyncs", w, d, len(c.synced))
	}
	if err := j.Done([]report.Outcome{{Row: 3, Status: report.Failed, Code: "X", Message: "m"}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if w, d := c.state(); d != w || len(c.synced) != 3 {
		t.Fatalf("after Close: %d written, %d on disk, %d fsyncs; want Close to sync the last outcome", w, d, len(c.synced))
	}
	j2, st, err := Open(dir, Header{Input: "in", Mapping: "m"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if c, f, d := st.Counts(); c != 2 || f != 1 || d != 0 {
		t.Errorf("reopened: %d created, %d failed, %d in doubt; want 2, 1, 0", c, f, d)
	}
}
