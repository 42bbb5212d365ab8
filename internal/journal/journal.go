// Package journal keeps the durable record of an import that lets a later
// run resume it: which rows were sent and what became of them.
//
// The journal is an append-only file of lines, each "crc32 json\n". Before a
// batch is sent its rows are recorded as sent; after the answer, their
// outcomes. A sent record is on disk (fsync) before Sent or Await returns,
// so that no request goes out unrecorded; an outcome is written to the file
// before Done returns, and reaches the disk with the next fsync. Appends of
// concurrent workers share writes and fsyncs (group commit), and at high
// rates an fsync also takes along the sent records queued for the batches
// next in line (see [Journal.Queue]). A kill -9 at any instant leaves the
// file readable: a last line that is incomplete or fails its checksum is a
// torn write and is dropped when the journal is opened. A bad line anywhere
// else means the file was damaged, and Open refuses it.
package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/lineitems/importer/internal/report"
)

// FileName is the journal's name inside the output folder.
const FileName = "journal.log"

const version = 1

// Header identifies what a journal belongs to. A journal is resumed only by
// a run with an equal Input, Mapping and KeyProperty.
type Header struct {
	Version     int       `json:"v"`
	Portal      int64     `json:"portal,omitempty"` // the HubSpot portal the rows were sent to
	Input       string    `json:"input_sha256"`
	Mapping     string    `json:"mapping_sha256"`
	KeyProperty string    `json:"key_property,omitempty"`
	Started     time.Time `json:"started"`
}

// MismatchError is returned by Open when the journal in the folder was made
// for another input file, mapping or key property.
type MismatchError struct{ What, Path string }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s was made for a different %s; run with --restart to discard it and start over, or choose another --out", e.Path, e.What)
}

// Row states kept in a State.
const (
	never   byte = iota // not sent by any earlier run
	sent                // sent, no outcome recorded: in doubt
	created             // created; id known
	failed              // failed with HubSpot's reason
	inDoubt             // recorded as in doubt
)

// State is what earlier runs recorded, by row. It costs about nine bytes a
// row of the input, plus the messages of failed and in-doubt rows.
type State struct {
	status []byte
	ids    []uint64          // created rows' ids when numeric
	strIDs map[int]string    // ids that are not numbers
	notes  map[int][2]string // code and message of failed and in-doubt rows
}

// Prior is the outcome an earlier run recorded for a row.
type Prior struct {
	Status  report.Status // 0 when the row was never sent
	Sent    bool          // sent, but no outcome recorded (the process died)
	ID      string
	Code    string
	Message string
}

// Lookup returns what earlier runs recorded for row.
func (s *State) Lookup(row int) Prior {
	if s == nil || row < 0 || row >= len(s.status) {
		return Prior{}
	}
	switch s.status[row] {
	case sent:
		return Prior{Sent: true}
	case created:
		id, ok := s.strIDs[row]
		if !ok {
			id = strconv.FormatUint(s.ids[row], 10)
		}
		return Prior{Status: report.Created, ID: id}
	case failed, inDoubt:
		st := report.Failed
		if s.status[row] == inDoubt {
			st = report.InDoubt
		}
		n := s.notes[row]
		return Prior{Status: st, Code: n[0], Message: n[1]}
	}
	return Prior{}
}

// Counts returns how many rows earlier runs left in each state.
func (s *State) Counts() (createdRows, failedRows, doubtfulRows int) {
	if s == nil {
		return
	}
	for _, st := range s.status {
		switch st {
		case created:
			createdRows++
		case failed:
			failedRows++
		case sent, inDoubt:
			doubtfulRows++
		}
	}
	return
}

func (s *State) grow(row int) {
	if row < len(s.status) {
		return
	}
	n := max(row+1, 2*len(s.status))
	s.status = append(s.status, make([]byte, n-len(s.status))...)
	s.ids = append(s.ids, make([]uint64, n-len(s.ids))...)
}

func (s *State) set(row int, st byte) {
	s.grow(row)
	s.status[row] = st
}

// record is one journal line.
type record struct {
	T      string       `json:"t"`                // "start", "sent" or "done"
	Header *Header      `json:"h,omitempty"`      // start
	Rows   [][2]int     `json:"rows,omitempty"`   // sent: row ranges, inclusive
	Out    []outcome    `json:"out,omitempty"`    // done
	Create []createdRow `json:"create,omitempty"` // done: [row, id] pairs, the common case kept short
}

// createdRow is a created row's number and HubSpot id, written [row,"id"].
type createdRow struct {
	Row int
	ID  string
}

func (c createdRow) MarshalJSON() ([]byte, error) { return json.Marshal([2]any{c.Row, c.ID}) }

func (c *createdRow) UnmarshalJSON(b []byte) error {
	var pair [2]any
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	row, _ := pair[0].(float64)
	id, _ := pair[1].(string)
	*c = createdRow{Row: int(row), ID: id}
	return nil
}

type outcome struct {
	Row  int    `json:"r"`
	S    string `json:"s"` // "f" failed, "d" in doubt, "n" not processed: send again
	Code string `json:"c,omitempty"`
	Msg  string `json:"m,omitempty"`
}

// Journal appends to a journal file. It is safe for concurrent use.
type Journal struct {
	f    file
	path string
	now  func() time.Time

	mu       sync.Mutex
	cond     *sync.Cond
	buf      []byte
	queued   uint64 // records appended to buf so far
	written  uint64 // records written to the file
	synced   uint64 // records on disk
	mustSync uint64 // the last queued record that must reach the disk
	busy     bool   // a caller is writing (and perhaps syncing)
	err      error  // sticky write error

	// Sent records queued ahead of their batches (see Queue).
	ahead     []queuedSent        // not yet in buf, in ticket order
	tickets   uint64              // last ticket handed out
	admitted  uint64              // last ticket moved into buf
	durable   uint64              // last ticket on disk
	want      uint64              // last ticket a caller of Await waits for
	cancelled map[uint64]struct{} // tickets given to Cancel
	pace      pace                // calls of Await in the last second
}

// pace counts events in the last second, in ten buckets of 100 ms.
type pace struct {
	origin time.Time
	n      [10]int
	bucket [10]int64 // which 100 ms since origin each slot counts
}

func (p *pace) index(now time.Time) int64 {
	if p.origin.IsZero() {
		p.origin = now
	}
	return max(int64(now.Sub(p.origin)/(100*time.Millisecond)), 0)
}

// add counts one event at now.
func (p *pace) add(now time.Time) {
	b := p.index(now)
	i := b % int64(len(p.n))
	if p.bucket[i] != b {
		p.bucket[i], p.n[i] = b, 0
	}
	p.n[i]++
}

// lastSecond returns how many events were counted in the second up to now.
func (p *pace) lastSecond(now time.Time) int {
	b, sum := p.index(now), 0
	for i, n := range p.n {
		if age := b - p.bucket[i]; age >= 0 && age < int64(len(p.n)) {
			sum += n
		}
	}
	return sum
}

// queuedSent is a sent record waiting in memory, encoded.
type queuedSent struct {
	ticket uint64
	line   []byte
}

// Write-ahead of queued sent records: an fsync made for one batch also
// takes to disk the sent records of the batches queued behind it, one for
// every perAhead batches awaited in the last second, and at most maxAhead.
// Below perAhead batches a second, none.
const (
	perAhead = 50
	maxAhead = 64
)

// Open opens the journal in dir for the run described by h. With restart,
// or when there is none, it starts a new journal. Otherwise it checks that
// the journal belongs to the same input, mapping and key property (else a
// *MismatchError) and returns what earlier runs recorded.
func Open(dir string, h Header, restart bool) (*Journal, *State, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, FileName)
	h.Version = version
	if !restart {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err == nil {
			st, old, good, err := load(f, path)
			if err != nil {
				f.Close()
				return nil, nil, err
			}
			switch {
			case old.Portal != h.Portal:
				err = fmt.Errorf("%s was made for HubSpot portal %d, and this run writes to portal %d: a journal is never resumed on another portal", path, old.Portal, h.Portal)
			case old.Input != h.Input:
				err = &MismatchError{"input file", path}
			case old.Mapping != h.Mapping:
				err = &MismatchError{"mapping", path}
			case old.KeyProperty != h.KeyProperty:
				err = &MismatchError{"--key-property", path}
			}
			if err == nil {
				// Drop a torn last line before appending after it.
				err = f.Truncate(good)
			}
			if err == nil {
				_, err = f.Seek(good, io.SeekStart)
			}
			if err != nil {
				f.Close()
				return nil, nil, err
			}
			return newJournal(f, path), st, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	j := newJournal(f, path)
	if err := j.append(record{T: "start", Header: &h}, true); err != nil {
		f.Close()
		return nil, nil, err
	}
	if d, err := os.Open(dir); err == nil { // make the new file's name durable too
		_ = d.Sync()
		d.Close()
	}
	return j, &State{}, nil
}

// file is what a Journal needs of its *os.File.
type file interface {
	Write([]byte) (int, error)
	Sync() error
	Close() error
}

func newJournal(f *os.File, path string) *Journal {
	j := &Journal{f: f, path: path, now: time.Now}
	j.cond = sync.NewCond(&j.mu)
	return j
}

// Fingerprint returns the hex SHA-256 of everything r yields.
func Fingerprint(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// load reads a journal. It returns the state, the header, and the offset
// after the last good line.
func load(r io.Reader, path string) (*State, Header, int64, error) {
	st := &State{strIDs: map[int]string{}, notes: map[int][2]string{}}
	var h Header
	br := bufio.NewReaderSize(r, 1<<20)
	var good int64
	for n := 0; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// An unterminated last line is a torn write.
			break
		}
		if err != nil {
			return nil, h, 0, fmt.Errorf("reading %s: %w", path, err)
		}
		rec, ok := decode(line)
		if !ok {
			if rest, _ := br.Peek(1); len(rest) == 0 {
				break // a torn last line
			}
			return nil, h, 0, fmt.Errorf("%s is damaged at line %d; run with --restart to discard it (rows it recorded may then be sent again)", path, n+1)
		}
		if n == 0 {
			if rec.T != "start" || rec.Header == nil {
				return nil, h, 0, fmt.Errorf("%s is not an importer journal", path)
			}
			h = *rec.Header
			if h.Version != version {
				return nil, h, 0, fmt.Errorf("%s has version %d; this importer reads version %d", path, h.Version, version)
			}
		}
		good += int64(len(line))
		apply(st, rec)
	}
	if good == 0 {
		return nil, h, 0, fmt.Errorf("%s has no header; run with --restart to discard it", path)
	}
	return st, h, good, nil
}

func decode(line []byte) (record, bool) {
	var rec record
	line = bytes.TrimSuffix(line, []byte("\n"))
	sum, body, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(sum) != 8 {
		return rec, false
	}
	want, err := strconv.ParseUint(string(sum), 16, 32)
	if err != nil || crc32.ChecksumIEEE(body) != uint32(want) {
		return rec, false
	}
	return rec, json.Unmarshal(body, &rec) == nil
}

func apply(st *State, rec record) {
	switch rec.T {
	case "sent":
		for _, r := range rec.Rows {
			for row := r[0]; row <= r[1]; row++ {
				st.set(row, sent)
			}
		}
	case "done":
		for _, c := range rec.Create {
			st.set(c.Row, created)
			if n, err := strconv.ParseUint(c.ID, 10, 64); err == nil && strconv.FormatUint(n, 10) == c.ID {
				st.ids[c.Row] = n
				delete(st.strIDs, c.Row)
			} else {
				st.strIDs[c.Row] = c.ID
			}
		}
		for _, o := range rec.Out {
			switch o.S {
			case "n":
				st.set(o.Row, never)
				delete(st.notes, o.Row)
			case "d":
				st.set(o.Row, inDoubt)
				st.notes[o.Row] = [2]string{o.Code, o.Msg}
			default:
				st.set(o.Row, failed)
				st.notes[o.Row] = [2]string{o.Code, o.Msg}
			}
		}
	}
}

// Sent records that the rows are about to be sent. It returns once the
// record is on disk.
func (j *Journal) Sent(rows []int) error {
	return j.append(record{T: "sent", Rows: ranges(rows)}, true)
}

// Done records outcomes: created, failed, in doubt and not sent. A row not
// sent (HubSpot did not process it) is recorded as never sent, so a later
// run sends it. It returns once the
// record is written to the file, which a killed process cannot undo; it
// reaches the disk with the next Sent or Close. After a power loss, an
// outcome that had not is missing, and a later run treats its rows as sent
// without an answer: looked up by key, or reported in doubt, never resent
// blindly.
func (j *Journal) Done(outs []report.Outcome) error {
	rec := record{T: "done"}
	for _, o := range outs {
		switch {
		case o.Status == report.Created:
			rec.Create = append(rec.Create, createdRow{o.Row, o.ID})
		case o.Status == report.NotSent:
			rec.Out = append(rec.Out, outcome{Row: o.Row, S: "n"})
		case o.Status == report.Failed:
			rec.Out = append(rec.Out, outcome{Row: o.Row, S: "f", Code: o.Code, Msg: o.Message})
		case o.Status == report.InDoubt:
			rec.Out = append(rec.Out, outcome{Row: o.Row, S: "d", Code: o.Code, Msg: o.Message})
		}
	}
	if len(rec.Create) == 0 && len(rec.Out) == 0 {
		return nil
	}
	return j.append(rec, false)
}

// ranges compresses row numbers into inclusive runs.
func ranges(rows []int) [][2]int {
	var out [][2]int
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1][1]+1 == r {
			out[n-1][1] = r
			continue
		}
		out = append(out, [2]int{r, r})
	}
	return out
}

// Queue records, in memory, that the rows are about to be handed to a
// sender, and returns the ticket to pass to [Journal.Await] before they are
// sent. Batches must be queued in the order they will be sent. Nothing is
// written yet: the record reaches the disk when its ticket is awaited, or
// earlier, when batches go out at 50 a second or more, with the fsync made
// for a batch ahead of it (one record ahead for every 50 batches awaited in
// the last second, and at most 64). A batch that will not be sent after all
// must be given to [Journal.Cancel] before its rows' outcomes are recorded.
//
// A record taken to disk ahead of its batch says the rows were sent though
// they were not yet; if the process dies then, a later run treats them as
// rows sent without an answer: looked up by key, or reported in doubt,
// never sent blindly.
func (j *Journal) Queue(rows []int) uint64 {
	line, err := encodeLine(nil, record{T: "sent", Rows: ranges(rows)})
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil && j.err == nil {
		j.err = err
	}
	j.tickets++
	j.ahead = append(j.ahead, queuedSent{j.tickets, line})
	return j.tickets
}

// Await returns once the sent record queued with ticket t is on disk. An
// error is fatal: the batch must not be sent. Awaiting a cancelled ticket
// is an error.
func (j *Journal) Await(t uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if t == 0 || t > j.tickets {
		return fmt.Errorf("journal: no record was queued with ticket %d", t)
	}
	if _, ok := j.cancelled[t]; ok {
		return fmt.Errorf("journal: the record queued with ticket %d was cancelled", t)
	}
	j.pace.add(j.now())
	j.want = max(j.want, t)
	for j.durable < t && j.err == nil {
		if j.busy {
			j.cond.Wait()
			continue
		}
		j.admit()
		j.mustSync = j.queued
		j.flush()
	}
	return j.err
}

// Cancel drops the sent record queued with ticket t if it is still in
// memory. If it is already in the file, the outcomes recorded next (not
// sent) supersede it. Either way the ticket may no longer be awaited.
func (j *Journal) Cancel(t uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ahead = slices.DeleteFunc(j.ahead, func(q queuedSent) bool { return q.ticket == t })
	if j.cancelled == nil {
		j.cancelled = map[uint64]struct{}{}
	}
	j.cancelled[t] = struct{}{}
}

// admit moves the queued records up to the awaited ticket into buf, and
// those queued behind it that the recent pace of sending calls for. j.mu is
// held.
func (j *Journal) admit() {
	upto := j.want + uint64(min(j.pace.lastSecond(j.now())/perAhead, maxAhead))
	n := 0
	for ; n < len(j.ahead) && j.ahead[n].ticket <= upto; n++ {
		j.buf = append(j.buf, j.ahead[n].line...)
		j.queued++
		j.admitted = j.ahead[n].ticket
	}
	clear(j.ahead[:n])
	j.ahead = j.ahead[n:]
}

// append writes one record. With durable, it returns once the record is on
// disk; otherwise once it is written to the file (in the operating system's
// cache, where a killed process cannot lose it), and the next fsync takes
// it to disk. Concurrent callers share writes and fsyncs: whoever finds
// none under way writes everything queued so far, and syncs it if any of
// it must be durable.
func (j *Journal) append(rec record, durable bool) error {
	line, err := encodeLine(nil, rec)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	j.buf = append(j.buf, line...)
	j.queued++
	me := j.queued
	if durable {
		j.mustSync = me
	}
	for (j.written < me || (durable && j.synced < me)) && j.err == nil {
		if j.busy {
			j.cond.Wait()
			continue
		}
		j.flush()
	}
	return j.err
}

// flush writes everything in buf, and syncs it if any of it must be
// durable. j.mu is held, and released while writing; no flush is under way.
func (j *Journal) flush() {
	j.busy = true
	buf, upto, admitted, sync := j.buf, j.queued, j.admitted, j.mustSync > j.synced
	j.buf = nil
	j.mu.Unlock()
	var err error
	if len(buf) > 0 {
		_, err = j.f.Write(buf)
	}
	if err == nil && sync {
		err = j.f.Sync()
	}
	j.mu.Lock()
	j.busy = false
	if err != nil {
		j.err = fmt.Errorf("journal %s: %w", j.path, err)
	} else {
		j.written = upto
		if sync {
			j.synced = upto
			j.durable = admitted
		}
	}
	j.cond.Broadcast()
}

// encodeLine appends rec's journal line to b: checksum, JSON, newline.
func encodeLine(b []byte, rec record) ([]byte, error) {
	body, err := marshal(rec)
	if err != nil {
		return b, err
	}
	b = fmt.Appendf(b, "%08x ", crc32.ChecksumIEEE(body))
	return append(append(b, body...), '\n'), nil
}

// marshal encodes rec as encoding/json does. The two records written for
// every batch, sent rows and created rows, are encoded by hand.
func marshal(rec record) ([]byte, error) {
	if rec.Header != nil || rec.Out != nil || (rec.Rows != nil) == (rec.Create != nil) {
		return json.Marshal(rec)
	}
	b := make([]byte, 0, 32+24*(len(rec.Rows)+len(rec.Create)))
	switch {
	case rec.T == "sent" && len(rec.Rows) > 0:
		b = append(b, `{"t":"sent","rows":[`...)
		for i, r := range rec.Rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(r[0]), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(r[1]), 10)
			b = append(b, ']')
		}
	case rec.T == "done" && len(rec.Create) > 0:
		b = append(b, `{"t":"done","create":[`...)
		for i, c := range rec.Create {
			if !plainID(c.ID) {
				return json.Marshal(rec)
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(c.Row), 10)
			b = append(b, ',', '"')
			b = append(b, c.ID...)
			b = append(b, '"', ']')
		}
	default:
		return json.Marshal(rec)
	}
	return append(b, "]}"...), nil
}

// plainID reports whether encoding/json writes id as it is: letters,
// digits, '-' and '_' need no escaping.
func plainID(id string) bool {
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// Close takes what is written to disk and closes the file. Appends after
// Close fail.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.busy {
		j.cond.Wait()
	}
	err := j.err
	if err == nil && j.written > j.synced {
		if err = j.f.Sync(); err != nil {
			err = fmt.Errorf("journal %s: %w", j.path, err)
		}
	}
	if j.err == nil {
		j.err = errors.New("journal closed")
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}
