package journal_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/journal"
	"github.com/lineitems/importer/internal/report"
)

// header is the Header of the journals written by these tests.
var header = journal.Header{
	Input:       strings.Repeat("a", 64),
	Mapping:     strings.Repeat("b", 64),
	KeyProperty: "import_key",
	Started:     time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
}

// op is one call that appends exactly one journal line: Sent when sent is
// non-nil, else Done.
type op struct {
	sent []int
	done []report.Outcome
}

// model is what a journal should yield: the Prior of every row it mentions.
type model map[int]journal.Prior

// apply plays op on the model as the journal documents it.
func (m model) apply(o op) {
	if o.sent != nil {
		for _, r := range o.sent {
			m[r] = journal.Prior{Sent: true}
		}
		return
	}
	for _, out := range o.done {
		switch {
		case out.Status == report.Created:
			m[out.Row] = journal.Prior{Status: report.Created, ID: out.ID}
		case out.Status == report.NotSent:
			delete(m, out.Row)
		default:
			m[out.Row] = journal.Prior{Status: out.Status, Code: out.Code, Message: out.Message}
		}
	}
}

// counts returns what State.Counts should return for the model.
func (m model) counts() (created, failed, doubtful int) {
	for _, p := range m {
		switch {
		case p.Status == report.Created:
			created++
		case p.Status == report.Failed:
			failed++
		case p.Status == report.InDoubt || p.Sent:
			doubtful++
		}
	}
	return
}

func modelOf(ops []op) model {
	m := model{}
	for _, o := range ops {
		m.apply(o)
	}
	return m
}

// play performs ops on j.
func play(t *testing.T, j *journal.Journal, ops []op) {
	t.Helper()
	for i, o := range ops {
		var err error
		if o.sent != nil {
			err = j.Sent(o.sent)
		} else {
			err = j.Done(o.done)
		}
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
}

// checkState compares st with want over rows 0..upTo (and a few beyond).
func checkState(t *testing.T, st *journal.State, want model, upTo int) {
	t.Helper()
	for row := -1; row <= upTo+5; row++ {
		if got := st.Lookup(row); got != want[row] {
			t.Errorf("Lookup(%d) = %+v, want %+v", row, got, want[row])
		}
	}
	c, f, d := st.Counts()
	wc, wf, wd := want.counts()
	if c != wc || f != wf || d != wd {
		t.Errorf("Counts() = %d created, %d failed, %d doubtful; want %d, %d, %d", c, f, d, wc, wf, wd)
	}
}

func open(t *testing.T, dir string, h journal.Header, restart bool) (*journal.Journal, *journal.State) {
	t.Helper()
	j, st, err := journal.Open(dir, h, restart)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return j, st
}

// written makes a journal in dir for header from ops, closes it, and
// returns its path and contents.
func written(t *testing.T, dir string, ops []op) (path string, data []byte) {
	t.Helper()
	j, _ := open(t, dir, header, false)
	play(t, j, ops)
	closeJ(t, j)
	path = filepath.Join(dir, journal.FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func closeJ(t *testing.T, j *journal.Journal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func created(row int, id string) report.Outcome {
	return report.Outcome{Row: row, Status: report.Created, ID: id}
}

func failed(row int, code, msg string) report.Outcome {
	return report.Outcome{Row: row, Status: report.Failed, Code: code, Message: msg}
}

func inDoubt(row int, code, msg string) report.Outcome {
	return report.Outcome{Row: row, Status: report.InDoubt, Code: code, Message: msg}
}

func notSent(row int) report.Outcome {
	return report.Outcome{Row: row, Status: report.NotSent, Code: report.CodeNotSent, Message: "the run stopped"}
}

// sampleOps covers every kind of outcome: created (numeric, non-numeric,
// zero-padded and huge ids), failed, in doubt, NOT_SENT, and a row sent
// without an outcome.
var sampleOps = []op{
	{sent: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	{done: []report.Outcome{
		created(1, "37400000001"),
		created(2, "li-abc"),
		created(3, "007"),
		created(4, "184467440737095516160"), // beyond uint64
		failed(5, "INVALID_DOUBLE", "price: \"1,5\" was not a valid number.\nsecond line é"),
		inDoubt(6, "NO_ANSWER", "the connection dropped"),
		notSent(7),
		created(8, "0"),
	}},
	// Row 9 was sent and never got an outcome: in doubt.
	// Row 10 first failed, then was sent again and not sent: never sent.
	{done: []report.Outcome{failed(10, "VALIDATION_ERROR", "bad")}},
	{sent: []int{10, 12}},
	{done: []report.Outcome{notSent(10), failed(12, "CONFLICT", "Line item already exists. Existing ID: 5")}},
}

func TestOpenNewAndResume(t *testing.T) {
	dir := t.TempDir()
	j, st := open(t, dir, header, false)
	if c, f, d := st.Counts(); c != 0 || f != 0 || d != 0 {
		t.Fatalf("new journal Counts() = %d, %d, %d", c, f, d)
	}
	if got := st.Lookup(1); got != (journal.Prior{}) {
		t.Fatalf("new journal Lookup(1) = %+v", got)
	}
	play(t, j, sampleOps)
	closeJ(t, j)

	later := header
	later.Started = header.Started.Add(time.Hour) // Started is no part of the identity
	j, st = open(t, dir, later, false)
	want := modelOf(sampleOps)
	checkState(t, st, want, 12)

	// Spot-check the model itself against the brief, so that a wrong model
	// cannot hide a wrong journal.
	spot := []struct {
		row  int
		want journal.Prior
	}{
		{0, journal.Prior{}},
		{1, journal.Prior{Status: report.Created, ID: "37400000001"}},
		{2, journal.Prior{Status: report.Created, ID: "li-abc"}},
		{3, journal.Prior{Status: report.Created, ID: "007"}},
		{4, journal.Prior{Status: report.Created, ID: "184467440737095516160"}},
		{5, journal.Prior{Status: report.Failed, Code: "INVALID_DOUBLE", Message: "price: \"1,5\" was not a valid number.\nsecond line é"}},
		{6, journal.Prior{Status: report.InDoubt, Code: "NO_ANSWER", Message: "the connection dropped"}},
		{7, journal.Prior{}},
		{8, journal.Prior{Status: report.Created, ID: "0"}},
		{9, journal.Prior{Sent: true}},
		{10, journal.Prior{}},
		{11, journal.Prior{}},
		{12, journal.Prior{Status: report.Failed, Code: "CONFLICT", Message: "Line item already exists. Existing ID: 5"}},
		{1000, journal.Prior{}},
	}
	for _, tc := range spot {
		if got := st.Lookup(tc.row); got != tc.want {
			t.Errorf("row %d: Lookup = %+v, want %+v", tc.row, got, tc.want)
		}
	}
	if c, f, d := st.Counts(); c != 5 || f != 2 || d != 2 {
		t.Errorf("Counts() = %d created, %d failed, %d doubtful; want 5, 2, 2", c, f, d)
	}

	// The resumed journal appends after the old records.
	if err := j.Sent([]int{11}); err != nil {
		t.Fatal(err)
	}
	if err := j.Done([]report.Outcome{created(11, "99")}); err != nil {
		t.Fatal(err)
	}
	closeJ(t, j)
	j, st = open(t, dir, header, false)
	defer closeJ(t, j)
	want[11] = journal.Prior{Status: report.Created, ID: "99"}
	checkState(t, st, want, 12)
}

func TestNilStateAndEmptyDone(t *testing.T) {
	var st *journal.State
	if got := st.Lookup(3); got != (journal.Prior{}) {
		t.Errorf("nil State Lookup = %+v", got)
	}
	if c, f, d := st.Counts(); c+f+d != 0 {
		t.Errorf("nil State Counts = %d, %d, %d", c, f, d)
	}

	dir := t.TempDir()
	j, _ := open(t, dir, header, false)
	before, err := os.ReadFile(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// Outcomes of no recordable status write nothing.
	if err := j.Done(nil); err != nil {
		t.Fatal(err)
	}
	if err := j.Done([]report.Outcome{{Row: 1, Status: 0}}); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("Done with nothing to record appended %q", after[len(before):])
	}
	closeJ(t, j)
	if err := j.Sent([]int{1}); err == nil {
		t.Error("Sent after Close succeeded")
	}
	if err := j.Done([]report.Outcome{created(1, "1")}); err == nil {
		t.Error("Done after Close succeeded")
	}
}

func TestLineFormat(t *testing.T) {
	dir := t.TempDir()
	_, data := written(t, dir, sampleOps)
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatalf("journal does not end with a newline: %q", data)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 1+len(sampleOps) {
		t.Fatalf("journal has %d lines, want %d (a header and one per op):\n%s", len(lines), 1+len(sampleOps), data)
	}
	for i, line := range lines {
		sum, body, ok := strings.Cut(line, " ")
		if !ok || len(sum) != 8 {
			t.Fatalf("line %d is not \"crc32hex json\": %q", i+1, line)
		}
		if want := fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))); sum != want {
			t.Errorf("line %d: checksum %s, want %s", i+1, sum, want)
		}
	}
	if !strings.Contains(lines[0], `"t":"start"`) || !strings.Contains(lines[0], header.Input) {
		t.Errorf("first line is not the header: %q", lines[0])
	}
	// A run of consecutive rows is recorded as one range.
	if !strings.Contains(lines[1], "[[1,10]]") {
		t.Errorf("sent rows 1..10 not recorded as one range: %q", lines[1])
	}
}

func TestTornTail(t *testing.T) {
	ops := sampleOps[:2]
	const torn = `{"t":"done","create":[[20,"12"]]}`
	badSum := fmt.Appendf(nil, "%08x %s\n", crc32.ChecksumIEEE([]byte(torn))^1, torn)
	cases := []struct {
		name string
		tail []byte
	}{
		{"partial line", []byte(`1a2b3c4d {"t":"done","create":[[20,"12`)},
		{"partial checksum", []byte("1a2b")},
		{"complete record without its newline", bytes.TrimSuffix(line(t, torn), []byte("\n"))},
		{"full line with wrong checksum", badSum},
		{"full line with damaged body", bytes.Replace(line(t, torn), []byte(`"12"`), []byte(`"13"`), 1)},
		{"blank last line", []byte("\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, good := written(t, dir, ops)
			appendFile(t, path, tc.tail)

			j, st := open(t, dir, header, false)
			want := modelOf(ops)
			checkState(t, st, want, 20)
			if got := st.Lookup(20); got != (journal.Prior{}) {
				t.Errorf("row of the torn record: Lookup(20) = %+v, want zero", got)
			}
			// The torn tail is gone from the file...
			if data, err := os.ReadFile(path); err != nil {
				t.Fatal(err)
			} else if !bytes.Equal(data, good) {
				t.Errorf("after Open the file is\n%q\nwant it truncated to\n%q", data, good)
			}
			// ...so that what is appended next can be read back.
			more := []op{{sent: []int{21, 22}}, {done: []report.Outcome{created(21, "555"), inDoubt(22, "X", "y")}}}
			play(t, j, more)
			closeJ(t, j)
			j, st = open(t, dir, header, false)
			defer closeJ(t, j)
			checkState(t, st, modelOf(append(append([]op{}, ops...), more...)), 25)
		})
	}
}

// line builds a well-formed journal line for body.
func line(t *testing.T, body string) []byte {
	t.Helper()
	return fmt.Appendf(nil, "%08x %s\n", crc32.ChecksumIEEE([]byte(body)), body)
}

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedMiddleIsRefused(t *testing.T) {
	dir := t.TempDir()
	path, orig := written(t, dir, sampleOps)
	// The last line starts after the second-to-last newline. Flipping that
	// newline merges the last two lines into one last line, which Open
	// reads as a torn write by design; every other byte before the last
	// line is in the middle.
	lastStart := bytes.LastIndexByte(orig[:len(orig)-1], '\n') + 1
	for off := 0; off < lastStart-1; off++ {
		data := bytes.Clone(orig)
		data[off] ^= 0x01
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, st, err := journal.Open(dir, header, false)
		if err == nil {
			j.Close()
			t.Fatalf("byte %d (%q) flipped: Open succeeded with state %+v", off, orig[off], st)
		}
		if !strings.Contains(err.Error(), "--restart") {
			t.Fatalf("byte %d flipped: error %q does not mention --restart", off, err)
		}
		var me *journal.MismatchError
		if errors.As(err, &me) {
			t.Fatalf("byte %d flipped: damage reported as a mismatch: %v", off, err)
		}
		// A refused journal is left as it was.
		if now, _ := os.ReadFile(path); !bytes.Equal(now, data) {
			t.Fatalf("byte %d flipped: Open changed the damaged file", off)
		}
	}

	// With restart the damaged journal is discarded.
	data := bytes.Clone(orig)
	data[lastStart-10] ^= 0x01
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	j, st := open(t, dir, header, true)
	checkState(t, st, model{}, 12)
	closeJ(t, j)
	j, st = open(t, dir, header, false)
	checkState(t, st, model{}, 12)
	closeJ(t, j)
}

func TestNotAJournal(t *testing.T) {
	hdr := func(v int) string {
		return fmt.Sprintf(`{"t":"start","h":{"v":%d,"input_sha256":%q,"mapping_sha256":%q,"key_property":%q,"started":"2025-03-01T12:00:00Z"}}`,
			v, header.Input, header.Mapping, header.KeyProperty)
	}
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", nil, "no header"},
		{"first record not a header", append(line(t, `{"t":"sent","rows":[[1,1]]}`), line(t, hdr(1))...), "not an importer journal"},
		{"other version", line(t, hdr(2)), "version 2"},
		{"text file", []byte("hello\nworld\n"), "--restart"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, journal.FileName), tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			j, _, err := journal.Open(dir, header, false)
			if err == nil {
				j.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	// A hand-made version-1 header is accepted: the format is what the
	// package documents.
	dir := t.TempDir()
	body := append(line(t, hdr(1)), line(t, `{"t":"done","create":[[3,"42"]],"out":[{"r":4,"s":"f","c":"C","m":"M"}]}`)...)
	if err := os.WriteFile(filepath.Join(dir, journal.FileName), body, 0o600); err != nil {
		t.Fatal(err)
	}
	j, st := open(t, dir, header, false)
	defer closeJ(t, j)
	checkState(t, st, model{
		3: {Status: report.Created, ID: "42"},
		4: {Status: report.Failed, Code: "C", Message: "M"},
	}, 5)
}

func TestMismatch(t *testing.T) {
	cases := []struct {
		name   string
		change func(*journal.Header)
		what   string
	}{
		{"input", func(h *journal.Header) { h.Input = strings.Repeat("c", 64) }, "input file"},
		{"mapping", func(h *journal.Header) { h.Mapping = strings.Repeat("d", 64) }, "mapping"},
		{"key property", func(h *journal.Header) { h.KeyProperty = "other_key" }, "--key-property"},
		{"no key property", func(h *journal.Header) { h.KeyProperty = "" }, "--key-property"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, orig := written(t, dir, sampleOps)

			other := header
			tc.change(&other)
			j, st, err := journal.Open(dir, other, false)
			if err == nil {
				j.Close()
				t.Fatalf("Open with a different %s succeeded: %+v", tc.name, st)
			}
			var me *journal.MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("error %v (%T) is not a *MismatchError", err, err)
			}
			if me.What != tc.what || me.Path != path {
				t.Errorf("MismatchError{What: %q, Path: %q}, want {%q, %q}", me.What, me.Path, tc.what, path)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.what) || !strings.Contains(msg, "--restart") || !strings.Contains(msg, path) {
				t.Errorf("error %q should name %q, the path and --restart", msg, tc.what)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
				t.Error("a refused Open changed the journal")
			}

			// restart discards the old journal and starts one for other.
			j, st = open(t, dir, other, true)
			checkState(t, st, model{}, 12)
			if err := j.Done([]report.Outcome{created(2, "77")}); err != nil {
				t.Fatal(err)
			}
			closeJ(t, j)
			j, st = open(t, dir, other, false)
			checkState(t, st, model{2: {Status: report.Created, ID: "77"}}, 12)
			closeJ(t, j)
			// ...and the old header is now the mismatch.
			if j, _, err := journal.Open(dir, header, false); !errors.As(err, &me) {
				if err == nil {
					j.Close()
				}
				t.Errorf("Open with the old header after restart: %v, want a *MismatchError", err)
			}
		})
	}
}

func TestFileMode(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out", "nested")
	j, _ := open(t, dir, header, false)
	closeJ(t, j)
	fi, err := os.Stat(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("journal mode %v, want 0600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("created folder mode %v, want 0700", perm)
	}
	// Restarting keeps the mode.
	j, _ = open(t, dir, header, true)
	closeJ(t, j)
	if fi, err := os.Stat(filepath.Join(dir, journal.FileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("after restart: %v, %v", fi.Mode().Perm(), err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	const workers, perWorker = 16, 25
	dir := t.TempDir()
	j, _ := open(t, dir, header, false)
	want := model{}
	var wmu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				// Rows interleave across workers so that ranges never merge
				// by accident.
				a, b := 2*(i*workers+w)+1, 2*(i*workers+w)+2
				if err := j.Sent([]int{a, b}); err != nil {
					errs <- err
					return
				}
				var outs []report.Outcome
				switch i % 4 {
				case 0:
					outs = []report.Outcome{created(a, fmt.Sprint(1_000_000+a)), created(b, fmt.Sprintf("s-%d", b))}
				case 1:
					outs = []report.Outcome{failed(a, "E", fmt.Sprint("worker ", w)), inDoubt(b, "D", "no answer")}
				case 2:
					outs = []report.Outcome{notSent(a)} // b stays sent, in doubt
				case 3:
					outs = []report.Outcome{created(a, fmt.Sprint(a)), notSent(b)}
				}
				if err := j.Done(outs); err != nil {
					errs <- err
					return
				}
				wmu.Lock()
				m := model{}
				m.apply(op{sent: []int{a, b}})
				m.apply(op{done: outs})
				for k, v := range m {
					want[k] = v
				}
				wmu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	closeJ(t, j)

	data, err := os.ReadFile(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if n, wantN := bytes.Count(data, []byte("\n")), 1+2*workers*perWorker; n != wantN {
		t.Errorf("journal has %d lines, want %d", n, wantN)
	}
	j, st := open(t, dir, header, false)
	defer closeJ(t, j)
	checkState(t, st, want, 2*workers*perWorker)
}

// TestKillAtEveryByte simulates a kill -9 after every byte written: each
// prefix of a journal must open with exactly the records whose lines it
// holds in full, or (before the header is complete) fail with an error, and
// must accept further appends.
func TestKillAtEveryByte(t *testing.T) {
	_, full := written(t, t.TempDir(), sampleOps)
	dir := t.TempDir()
	path := filepath.Join(dir, journal.FileName)
	extra := []report.Outcome{created(50, "5050")}
	for n := 0; n <= len(full); n++ {
		prefix := full[:n]
		if err := os.WriteFile(path, prefix, 0o600); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(prefix, []byte("\n")) // complete lines
		j, st, err := journal.Open(dir, header, false)
		if lines == 0 {
			if err == nil {
				j.Close()
				t.Fatalf("prefix %d (header incomplete): Open succeeded", n)
			}
			if !strings.Contains(err.Error(), "--restart") {
				t.Errorf("prefix %d: error %q does not say how to recover", n, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("prefix %d (%d complete lines): Open: %v", n, lines, err)
		}
		want := modelOf(sampleOps[:lines-1])
		checkState(t, st, want, 12)
		if t.Failed() {
			j.Close()
			t.Fatalf("prefix %d of %d bytes: wrong state (see above)", n, len(full))
		}
		if err := j.Done(extra); err != nil {
			t.Fatalf("prefix %d: Done: %v", n, err)
		}
		closeJ(t, j)
		j, st, err = journal.Open(dir, header, false)
		if err != nil {
			t.Fatalf("prefix %d: reopening after an append: %v", n, err)
		}
		want.apply(op{done: extra})
		checkState(t, st, want, 50)
		j.Close()
		if t.Failed() {
			t.Fatalf("prefix %d: wrong state after an append", n)
		}
	}
}

func TestFingerprint(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"The quick brown fox jumps over the lazy dog", "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
	}
	for _, tc := range cases {
		got, err := journal.Fingerprint(strings.NewReader(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("Fingerprint(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	boom := errors.New("boom")
	if _, err := journal.Fingerprint(errReader{boom}); !errors.Is(err, boom) {
		t.Errorf("Fingerprint of a failing reader: %v, want %v", err, boom)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestLaterCreateWinsOverStaleNonNumericID: a row created with a
// non-numeric id, later reset (NOT_SENT) and created again with a numeric
// id reads back the numeric one: the last record wins.
func TestLaterCreateWinsOverStaleNonNumericID(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, dir, header, false)
	play(t, j, []op{
		{sent: []int{1}},
		{done: []report.Outcome{created(1, "li-abc")}},
		{done: []report.Outcome{notSent(1)}},
		{sent: []int{1}},
		{done: []report.Outcome{created(1, "37400000123")}},
	})
	closeJ(t, j)
	j, st := open(t, dir, header, false)
	defer closeJ(t, j)
	if got, want := st.Lookup(1), (journal.Prior{Status: report.Created, ID: "37400000123"}); got != want {
		t.Errorf("Lookup(1) = %+v, want %+v (the latest record)", got, want)
	}
}

// TestPortalMismatch: a journal is never resumed on another portal, and
// the refusal names both.
func TestPortalMismatch(t *testing.T) {
	dir := t.TempDir()
	h := header
	h.Portal = 111
	j, _ := open(t, dir, h, false)
	closeJ(t, j)
	orig, _ := os.ReadFile(filepath.Join(dir, journal.FileName))
	other := h
	other.Portal = 222
	if j, _, err := journal.Open(dir, other, false); err == nil || !strings.Contains(err.Error(), "111") || !strings.Contains(err.Error(), "222") {
		if j != nil {
			j.Close()
		}
		t.Fatalf("Open on another portal: %v, want an error naming both portals", err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, journal.FileName)); !bytes.Equal(now, orig) {
		t.Error("a refused Open changed the journal")
	}
}
