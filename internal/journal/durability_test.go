package journal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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
	j, _, err := Open(dir, Header{Portal: 1})
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

	if err := j.Sent([]string{rowIdent(1), rowIdent(2)}); err != nil {
		t.Fatal(err)
	}
	if w, d := c.state(); w == 0 || d != w || len(c.synced) != 1 {
		t.Fatalf("after Sent: %d bytes written, %d on disk, %d fsyncs; want all on disk with one fsync", w, d, len(c.synced))
	}
	if err := j.Done([]report.Outcome{
		{Row: 1, Ident: rowIdent(1), Status: report.Created, ID: "7"},
		{Row: 2, Ident: rowIdent(2), Status: report.Created, ID: "8"},
	}); err != nil {
		t.Fatal(err)
	}
	w, d := c.state()
	if len(c.synced) != 1 || w <= d {
		t.Fatalf("after Done: %d bytes written, %d on disk, %d fsyncs; want it written without an fsync", w, d, len(c.synced))
	}
	if got := size(); got != start+w {
		t.Fatalf("file is %d bytes after Done, want %d: the outcome is not in the file", got, start+w)
	}
	if err := j.Sent([]string{rowIdent(3)}); err != nil {
		t.Fatal(err)
	}
	if w, d := c.state(); d != w || len(c.synced) != 2 {
		t.Fatalf("after the next Sent: %d written, %d on disk, %d fsyncs", w, d, len(c.synced))
	}
	if err := j.Done([]report.Outcome{{Row: 3, Ident: rowIdent(3), FailIdent: "f:3", Status: report.Failed, Code: "X", Message: "m"}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if w, d := c.state(); d != w || len(c.synced) != 3 {
		t.Fatalf("after Close: %d written, %d on disk, %d fsyncs; want Close to sync the last outcome", w, d, len(c.synced))
	}
	j2, st, err := Open(dir, Header{Portal: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	defer st.Close()
	if c, f, d := st.Counts(); c != 2 || f != 1 || d != 0 {
		t.Errorf("reopened: %d created, %d failed, %d in doubt; want 2, 1, 0", c, f, d)
	}
	if p := st.Lookup("f:3"); p.Status != report.Failed || p.Code != "X" || st.Lookup(rowIdent(3)) != (Prior{}) {
		t.Errorf("reopened: the failure is %+v under the content, %+v under the row", p, st.Lookup(rowIdent(3)))
	}
}

// openCounted opens a new journal in a temporary folder with its file
// wrapped in a syncCounter and its clock at the test's hands.
func openCounted(t *testing.T) (*Journal, *syncCounter, *time.Time) {
	t.Helper()
	j, _, err := Open(t.TempDir(), Header{Portal: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	c := counting(t, j)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	j.now = func() time.Time { return clock }
	return j, c, &clock
}

// counting wraps j's file in a syncCounter that knows the header on disk.
func counting(t *testing.T, j *Journal) *syncCounter {
	t.Helper()
	fi, err := os.Stat(j.path)
	if err != nil {
		t.Fatal(err)
	}
	c := &syncCounter{file: j.f, written: int(fi.Size()), synced: []int{int(fi.Size())}}
	j.f = c
	return c
}

// onDisk returns what a journal would hold after a power loss now: its
// fsynced bytes only.
func onDisk(t *testing.T, j *Journal, c *syncCounter) *State {
	t.Helper()
	st, err := loadOnDisk(j, c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// loadOnDisk is onDisk for callers that cannot stop the test.
func loadOnDisk(j *Journal, c *syncCounter) (*State, error) {
	data, err := bytesOnDisk(j, c)
	if err != nil {
		return nil, err
	}
	st, _, _, err := load(bytes.NewReader(data), j.path)
	return st, err
}

// bytesOnDisk returns the fsynced part of j's file. It asks how much that
// is before reading, since other callers may be writing on.
func bytesOnDisk(j *Journal, c *syncCounter) ([]byte, error) {
	_, n := c.state()
	data, err := os.ReadFile(j.path)
	if err != nil {
		return nil, err
	}
	return data[:n], nil
}

// linesOnDisk returns how many whole lines of the journal are on disk.
func linesOnDisk(t *testing.T, j *Journal, c *syncCounter) int {
	t.Helper()
	data, err := bytesOnDisk(j, c)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte("\n"))
}

// rowIdent returns the identity of row r.
func rowIdent(r int) string { return "k:import_key:SKU-" + strconv.Itoa(r) }

// batchIdents returns the identities of the rows of the k-th batch of ten
// (k from 1).
func batchIdents(k int) []string {
	idents := make([]string, 10)
	for i := range idents {
		idents[i] = rowIdent(10*(k-1) + i + 1)
	}
	return idents
}

// sentOnDisk returns how many whole batches, counted from the first, the
// disk holds as sent, checking that no later batch is there in part.
func sentOnDisk(t *testing.T, j *Journal, c *syncCounter, batches int) int {
	t.Helper()
	st := onDisk(t, j, c)
	defer st.Close()
	n := 0
	for k := 1; k <= batches; k++ {
		idents := batchIdents(k)
		if st.Lookup(idents[0]).Sent != st.Lookup(idents[len(idents)-1]).Sent {
			t.Fatalf("batch %d is on disk in part", k)
		}
		if !st.Lookup(idents[0]).Sent {
			break
		}
		n = k
	}
	for k := n + 1; k <= batches; k++ {
		if st.Lookup(batchIdents(k)[0]).Sent {
			t.Fatalf("batch %d is on disk though batch %d is not", k, n+1)
		}
	}
	return n
}

// TestQueuedRecordsAtHubSpotsPace: when fewer than 50 batches go out a
// second, as under HubSpot's limits, steadily or in bursts of slots, each
// awaited record is on disk when Await returns, with an fsync of its own,
// and no record queued behind it is: after a crash, no row that was not
// sent is taken for sent.
func TestQueuedRecordsAtHubSpotsPace(t *testing.T) {
	for _, tc := range []struct {
		name string
		step func(k int) time.Duration // the wait before awaiting batch k
	}{
		{"ten a second", func(int) time.Duration { return 100 * time.Millisecond }},
		{"bursts of four, four times a second", func(k int) time.Duration {
			if k%4 == 1 {
				return 250 * time.Millisecond
			}
			return time.Microsecond
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, c, clock := openCounted(t)
			const batches = 80
			tickets := make([]uint64, batches+1)
			for k := 1; k <= batches; k++ {
				tickets[k] = j.Queue(batchIdents(k))
			}
			before := len(c.synced)
			for k := 1; k <= batches; k++ {
				*clock = clock.Add(tc.step(k))
				if err := j.Await(tickets[k]); err != nil {
					t.Fatal(err)
				}
				if got := sentOnDisk(t, j, c, batches); got != k {
					t.Fatalf("after awaiting batch %d, batches 1 to %d are on disk", k, got)
				}
			}
			if n := len(c.synced) - before; n != batches {
				t.Errorf("%d fsyncs for %d batches, want one each", n, batches)
			}
		})
	}
}

// TestQueuedRecordsAheadAtAHighPace: at a thousand batches a second, an
// fsync also takes the records queued behind the awaited one, one for
// every 50 batches awaited in the last second, so there are far fewer
// fsyncs; every awaited record is on disk when Await returns. When the pace
// drops, the records ahead stop within a second.
func TestQueuedRecordsAheadAtAHighPace(t *testing.T) {
	j, c, clock := openCounted(t)
	const fast, slow = 2000, 60
	const batches = fast + slow
	tickets := make([]uint64, batches+1)
	for k := 1; k <= batches; k++ {
		tickets[k] = j.Queue(batchIdents(k))
	}
	before := len(c.synced)
	mostAhead, fastSyncs := 0, 0
	for k := 1; k <= batches; k++ {
		step := time.Millisecond
		if k > fast {
			step = 100 * time.Millisecond
		}
		*clock = clock.Add(step)
		if err := j.Await(tickets[k]); err != nil {
			t.Fatal(err)
		}
		got := linesOnDisk(t, j, c) - 1 // the header, then one line per batch
		if k%100 == 0 || k > fast {
			if full := sentOnDisk(t, j, c, batches); full != got {
				t.Fatalf("after batch %d: %d lines on disk but batches 1 to %d", k, got, full)
			}
		}
		if got < k {
			t.Fatalf("Await(batch %d) returned with batches 1 to %d on disk", k, got)
		}
		// A second after the pace dropped, the records that went ahead
		// at the fast pace (20 at most) are used up.
		if k > fast+10+20 && got > k {
			t.Fatalf("at 10 batches a second, batch %d is on disk while batch %d is awaited", got, k)
		}
		mostAhead = max(mostAhead, got-k)
		if k == fast {
			fastSyncs = len(c.synced) - before
		}
	}
	t.Logf("%d fsyncs for the %d fast batches; at most %d records ahead", fastSyncs, fast, mostAhead)
	// The first second ramps up from none ahead to 20: about 1000/10 + 1000/21.
	if fastSyncs > fast/8 {
		t.Errorf("%d fsyncs for %d batches: the records ahead did not save fsyncs", fastSyncs, fast)
	}
	// The count covers the last 0.9 to 1 s, in buckets of 100 ms.
	if mostAhead < 18 || mostAhead > 20 {
		t.Errorf("at most %d records ahead; want 18 to 20 (a thousand a second, one per 50)", mostAhead)
	}
}

// TestCancelledRecordIsNotWritten: a batch cancelled before its record is
// written never appears as sent, even when records behind it go to disk
// ahead; one cancelled after its record was written is superseded by its
// not-sent outcomes.
func TestCancelledRecordIsNotWritten(t *testing.T) {
	j, c, clock := openCounted(t)
	t1, t2, t3 := j.Queue(batchIdents(1)), j.Queue(batchIdents(2)), j.Queue(batchIdents(3))
	t4 := j.Queue(batchIdents(4))
	j.Cancel(t2)
	for range 500 { // as if 500 batches had been awaited in the last second
		j.pace.add(*clock)
	}
	if err := j.Await(t1); err != nil { // takes 3 and 4 along, not 2
		t.Fatal(err)
	}
	st := onDisk(t, j, c)
	if st.Lookup(batchIdents(2)[0]).Sent || !st.Lookup(batchIdents(4)[0]).Sent {
		t.Fatalf("batch 2 (cancelled) sent on disk: %v; batch 4 (ahead) sent on disk: %v; want false, true",
			st.Lookup(batchIdents(2)[0]).Sent, st.Lookup(batchIdents(4)[0]).Sent)
	}
	st.Close()
	if err := j.Await(t3); err != nil {
		t.Fatal(err)
	}
	j.Cancel(t4) // too late: the not-sent outcomes supersede it
	var outs []report.Outcome
	for _, ident := range append(batchIdents(2), batchIdents(4)...) {
		outs = append(outs, report.Outcome{Ident: ident, FailIdent: "f:" + ident, Status: report.NotSent, Code: report.CodeNotSent})
	}
	if err := j.Done(outs); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	st = onDisk(t, j, c)
	defer st.Close()
	for k, want := range map[int]bool{1: true, 2: false, 3: true, 4: false} {
		for _, ident := range batchIdents(k) {
			if got := st.Lookup(ident); got.Sent != want || got.Status != 0 {
				t.Fatalf("%s of batch %d: %+v, want sent = %v", ident, k, got, want)
			}
		}
	}
}

// TestAwaitErrors: a ticket never handed out, a cancelled one (before or
// after a later one is on disk), and any ticket after Close, are errors.
func TestAwaitErrors(t *testing.T) {
	j, _, _ := openCounted(t)
	gone := j.Queue([]string{rowIdent(2)})
	j.Cancel(gone)
	tk := j.Queue([]string{rowIdent(1)})
	for _, bad := range []uint64{0, gone, tk + 1} {
		if err := j.Await(bad); err == nil {
			t.Errorf("Await(%d) with tickets %d (cancelled) and %d handed out: no error", bad, gone, tk)
		}
	}
	if err := j.Await(tk); err != nil {
		t.Fatal(err)
	}
	if err := j.Await(gone); err == nil {
		t.Errorf("Await(%d) (cancelled) after ticket %d is on disk: no error", gone, tk)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Await(tk); err == nil {
		t.Error("Await after Close: no error")
	}
}

// TestConcurrentQueueAndAwait: one producer queues batches and workers
// await them in any order they take them, with the real clock. Each record
// is on disk when its Await returns, and the journal reopens with every
// row as its last record says.
func TestConcurrentQueueAndAwait(t *testing.T) {
	dir := t.TempDir()
	j, _, err := Open(dir, Header{Portal: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := counting(t, j)
	const batches, workers = 300, 8
	type batch struct {
		k      int
		ticket uint64
	}
	ch := make(chan batch, 16)
	go func() {
		for k := 1; k <= batches; k++ {
			ch <- batch{k, j.Queue(batchIdents(k))}
		}
		close(ch)
	}()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for b := range ch {
				if err := j.Await(b.ticket); err != nil {
					errs <- err
					return
				}
				st, err := loadOnDisk(j, c)
				if err != nil {
					errs <- err
					return
				}
				for _, ident := range batchIdents(b.k) {
					if p := st.Lookup(ident); !p.Sent && p.Status == 0 {
						st.Close()
						errs <- fmt.Errorf("Await for batch %d returned before %s was on disk", b.k, ident)
						return
					}
				}
				st.Close()
				var outs []report.Outcome
				for i, ident := range batchIdents(b.k) {
					outs = append(outs, report.Outcome{Ident: ident, Status: report.Created, ID: fmt.Sprint(1000 + 10*b.k + i)})
				}
				if err := j.Done(outs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, st, err := Open(dir, Header{Portal: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	defer st.Close()
	for k := 1; k <= batches; k++ {
		for i, ident := range batchIdents(k) {
			if p, want := st.Lookup(ident), (Prior{Status: report.Created, ID: fmt.Sprint(1000 + 10*k + i)}); p != want {
				t.Fatalf("reopened: Lookup(%q) = %+v, want %+v", ident, p, want)
			}
		}
	}
	if created, f, d := st.Counts(); created != 10*batches || f != 0 || d != 0 {
		t.Errorf("reopened: %d created, %d failed, %d in doubt; want %d, 0, 0", created, f, d, 10*batches)
	}
}

// TestQueuedRecordsAwaitedOutOfOrder: the pacer does not grant slots in the
// order batches were queued, so a batch queued later may be awaited first,
// while one queued before it still waits for its slot. At HubSpot's pace,
// awaiting a batch takes its record to disk and no other: after a crash,
// the batch still waiting was not sent and is not on record as sent. At a
// high pace, the records that go ahead are those queued first.
func TestQueuedRecordsAwaitedOutOfOrder(t *testing.T) {
	j, c, clock := openCounted(t)
	const batches = 6
	tickets := make([]uint64, batches+1)
	for k := 1; k <= batches; k++ {
		tickets[k] = j.Queue(batchIdents(k))
	}
	order := []int{2, 5, 1, 6, 3, 4}
	awaited := map[int]bool{}
	for _, k := range order {
		*clock = clock.Add(100 * time.Millisecond)
		if err := j.Await(tickets[k]); err != nil {
			t.Fatal(err)
		}
		awaited[k] = true
		st := onDisk(t, j, c)
		for b := 1; b <= batches; b++ {
			if sent := st.Lookup(batchIdents(b)[0]).Sent; sent != awaited[b] {
				t.Errorf("after awaiting batch %d: batch %d on disk as sent: %v, want %v", k, b, sent, awaited[b])
			}
		}
		st.Close()
	}
	if err := j.Await(tickets[2]); err != nil { // awaited again: on disk already
		t.Fatal(err)
	}

	// At a thousand batches a second, records go ahead: the first queued.
	j, c, clock = openCounted(t)
	const fast = 300
	tickets = make([]uint64, fast+3)
	for k := 1; k <= fast+2; k++ {
		tickets[k] = j.Queue(batchIdents(k))
	}
	for k := 1; k <= fast; k++ {
		*clock = clock.Add(time.Millisecond)
		if err := j.Await(tickets[k+2]); err != nil { // batches 1 and 2 wait for their slots
			t.Fatal(err)
		}
	}
	st := onDisk(t, j, c)
	defer st.Close()
	if !st.Lookup(batchIdents(1)[0]).Sent || !st.Lookup(batchIdents(2)[0]).Sent {
		t.Error("at a thousand batches a second, the records queued first did not go ahead")
	}
}

// gatedFile holds each fsync until the test lets it go: entered is closed
// when the first one starts.
type gatedFile struct {
	file
	once          sync.Once
	entered, gate chan struct{}
}

func (g *gatedFile) Sync() error {
	g.once.Do(func() { close(g.entered) })
	<-g.gate
	return g.file.Sync()
}

// TestAwaitReturnsWhileAnotherFlushes: callers of Await that wait while
// another caller's fsync is under way return once it is done, whatever
// became of their ticket meanwhile: awaited by the other caller (on disk),
// or cancelled (an error). Neither waits for ever.
func TestAwaitReturnsWhileAnotherFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j, _, err := Open(t.TempDir(), Header{Portal: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		g := &gatedFile{file: j.f, entered: make(chan struct{}), gate: make(chan struct{})}
		j.f = g
		t1, t2 := j.Queue(batchIdents(1)), j.Queue(batchIdents(2))
		errs := make(chan error, 3)
		go func() { errs <- j.Await(t1) }()
		<-g.entered // t1's fsync is under way
		go func() { errs <- j.Await(t1) }()
		go func() { errs <- j.Await(t2) }()
		synctest.Wait() // both wait for the flush
		j.Cancel(t2)
		close(g.gate)
		var got []string
		for range 3 {
			if err := <-errs; err != nil {
				got = append(got, err.Error())
			} else {
				got = append(got, "nil")
			}
		}
		slices.Sort(got)
		want := []string{fmt.Sprintf("journal: the record queued with ticket %d was cancelled", t2), "nil", "nil"}
		if !slices.Equal(got, want) {
			t.Errorf("Await returned %q, want %q", got, want)
		}
	})
}
