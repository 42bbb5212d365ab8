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
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lineitems/importer/internal/durable"
	"github.com/lineitems/importer/internal/jsonstr"
	"github.com/lineitems/importer/internal/keyset"
	"github.com/lineitems/importer/internal/report"
)

// FileName is the journal's name inside the output folder.
const FileName = "journal.log"

const version = 2

// Header identifies what a journal belongs to: the portal its rows were
// sent to. A journal is resumed only by a run that writes to that portal.
type Header struct {
	Version int       `json:"v"`
	Portal  int64     `json:"portal"`
	Started time.Time `json:"started"`
}

// PortalError is returned by Open when the journal in the folder was made
// for another portal.
type PortalError struct {
	Path         string
	Journal, Run int64
}

func (e *PortalError) Error() string {
	return fmt.Sprintf("%s was made for HubSpot portal %d, and this run writes to portal %d: a journal is never resumed on another portal", e.Path, e.Journal, e.Run)
}

// Owner strings of a State's entries: the row's state, then its data.
const (
	stSent     = 's' // sent, no outcome recorded: may exist
	stCreated  = 'c' // created; the id follows
	stDoubt    = 'd' // recorded in doubt; code NUL message follow
	stFailed   = 'f' // rejected; code NUL message follow
	stNever    = 'n' // not sent after all
	stLinkless = 'l' // upserted (it exists), its associations not made: sent again
)

// met is the state byte of an entry in state st (stSent, stDoubt or
// stLinkless: the states Unmet lists) once Lookup has asked for it; unmet
// undoes it. Entries in other states are not marked.
func met(st byte) byte {
	switch st {
	case stSent:
		return 'S'
	case stDoubt:
		return 'D'
	case stLinkless:
		return 'L'
	}
	return st
}

func unmet(st byte) byte {
	switch st {
	case 'S':
		return stSent
	case 'D':
		return stDoubt
	case 'L':
		return stLinkless
	}
	return st
}

// State is what earlier runs recorded, by row identity (see [Journal]).
// Each identity costs its length, its state and about 20 bytes, in memory
// outside the Go heap; in-doubt and failed rows also keep their messages.
type State struct {
	rows   keyset.Set
	counts [256]int // rows by state byte
	// kinds counts, for each way of knowing rows (see Identities), the
	// rows that may exist.
	kinds map[string]int
}

// Prior is the outcome an earlier run recorded for a row.
type Prior struct {
	Status report.Status // 0 when the row was never sent
	Sent   bool          // sent, but no outcome recorded (the process died)
	ID     string
	// Version, for a row upserted, is the version of the values its line
	// item was last given (report.Outcome.Version); "" otherwise.
	Version string
	Code    string
	Message string
}

// MayExist reports whether an earlier run sent the row without a clear
// answer (sent with no outcome, or in doubt): HubSpot may have created it.
func (p Prior) MayExist() bool { return p.Sent || p.Status == report.InDoubt }

// Lookup returns what earlier runs recorded for the identity ident, and
// marks a row they left in doubt as met (see Unmet). Lookup is not safe
// for concurrent use.
func (s *State) Lookup(ident string) Prior {
	if s == nil || ident == "" {
		return Prior{}
	}
	var owner string
	ok := s.rows.Update(ident, func(o []byte) {
		if len(o) > 0 {
			o[0] = met(o[0])
			owner = string(unmet(o[0])) + string(o[1:])
		}
	})
	if !ok || owner == "" {
		return Prior{}
	}
	switch owner[0] {
	case stSent:
		return Prior{Sent: true}
	case stCreated:
		id, version, _ := strings.Cut(owner[1:], "\x00")
		return Prior{Status: report.Created, ID: id, Version: version}
	case stDoubt, stFailed:
		st := report.Failed
		if owner[0] == stDoubt {
			st = report.InDoubt
		}
		code, msg, _ := strings.Cut(owner[1:], "\x00")
		return Prior{Status: st, Code: code, Message: msg}
	}
	return Prior{}
}

// KeyIdent returns the identity of a row known by its key in a run with
// the key property property: "u:<property>:<key>" in an upsert run,
// "k:<property>:<key>" in a create run; "" when there is no key.
func KeyIdent(property, key string, upsert bool) string {
	switch {
	case property == "" || key == "":
		return ""
	case upsert:
		return "u:" + property + ":" + key
	default:
		return "k:" + property + ":" + key
	}
}

// LookupKey is Lookup of the row with key (see KeyIdent). In an upsert
// run, a key that a create run left in doubt, and that no upsert run has
// sent since, counts as an upsert left in doubt: its line item may exist.
// Both identities are marked met (see Unmet): the row's outcome settles
// the create run's doubt too.
func (s *State) LookupKey(property, key string, upsert bool) Prior {
	prior := s.Lookup(KeyIdent(property, key, upsert))
	if upsert {
		created := s.Lookup(KeyIdent(property, key, false))
		if created.MayExist() && prior.Status == 0 && !prior.Sent {
			prior = created
		}
	}
	return prior
}

// Doubt is a row that earlier runs left in doubt: its identity, and
// either Sent (sent, no outcome recorded: the process stopped first) or
// the code and message recorded with it in doubt; or, Unlinked, a row
// they upserted without its associations.
type Doubt struct {
	Ident         string
	Sent          bool
	Code, Message string
	// Unlinked: upserted without its associations; its line item exists.
	Unlinked bool
}

// Key returns the key of a row known by its key (an identity
// "k:<property>:<key>" or "u:<property>:<key>"), or "" for a row known by
// its content, which the journal names by a digest.
func (d Doubt) Key() string {
	if kind := kindOf(d.Ident); kind != "" && kind != "c" {
		return d.Ident[len(kind)+1:]
	}
	return ""
}

// Unmet returns, sorted by identity, the rows earlier runs left in doubt
// (sent with no outcome recorded, or recorded in doubt), or upserted
// without their associations (Unlinked), that no Lookup asked for since
// the State was loaded. A key a create run left in doubt
// ("k:<property>:<key>") is not listed when the journal holds an upsert of
// the same key ("u:<property>:<key>") that may exist (created, upserted
// without its associations, or itself in doubt and so listed under that
// identity): an upsert of a key gives or finds the key's one line item.
// (The journal keeps no order between the two; a create run after an
// upsert run into the same folder is refused before anything is sent.)
func (s *State) Unmet() []Doubt {
	if s == nil {
		return nil
	}
	var out []Doubt
	s.rows.All(func(ident string, owner []byte) bool {
		switch {
		case len(owner) == 0 || owner[0] != stSent && owner[0] != stDoubt && owner[0] != stLinkless:
		case strings.HasPrefix(ident, "k:") && s.upserted(ident[2:]):
		case owner[0] == stLinkless:
			out = append(out, Doubt{Ident: strings.Clone(ident), Unlinked: true})
		case owner[0] == stSent:
			out = append(out, Doubt{Ident: strings.Clone(ident), Sent: true})
		case owner[0] == stDoubt:
			code, msg, _ := strings.Cut(string(owner[1:]), "\x00")
			out = append(out, Doubt{Ident: strings.Clone(ident), Code: code, Message: msg})
		}
		return true
	})
	slices.SortFunc(out, func(a, b Doubt) int { return strings.Compare(a.Ident, b.Ident) })
	return out
}

// AnyMayExist reports whether earlier runs left a row whose identity
// starts with prefix created, or sent without a clear answer: a line item
// of it exists or may exist. It reads every identity (it is meant for a
// run that has failed and must not report such a row as never sent), and
// marks none as met.
func (s *State) AnyMayExist(prefix string) bool {
	if s == nil {
		return false
	}
	found := false
	s.rows.All(func(ident string, owner []byte) bool {
		if strings.HasPrefix(ident, prefix) && len(owner) > 0 && mayExist(unmet(owner[0])) {
			found = true
		}
		return !found
	})
	return found
}

// upserted reports whether an upsert run sent the key named by
// "<property>:<key>" with an outcome other than failed.
func (s *State) upserted(propKey string) bool {
	owner, ok := s.rows.Get("u:" + propKey)
	return ok && owner != "" && mayExist(unmet(owner[0]))
}

// Counts returns how many identities earlier runs left in each state (a
// key sent by both a create and an upsert run counts under each).
func (s *State) Counts() (createdRows, failedRows, doubtfulRows int) {
	if s == nil {
		return
	}
	return s.counts[stCreated], s.counts[stFailed], s.counts[stSent] + s.counts[stDoubt]
}

// Identities returns, for each way in which earlier runs knew rows, how
// many of the rows known that way may exist in HubSpot (sent, created or
// in doubt): "c" for rows known by their content (runs without a key
// property), "k:<property>" for rows known by their key in create runs,
// "u:<property>" in upsert runs. Ways with no such row are left out.
func (s *State) Identities() map[string]int {
	out := map[string]int{}
	if s == nil {
		return out
	}
	for k, n := range s.kinds {
		if n > 0 {
			out[k] = n
		}
	}
	return out
}

// kindOf returns the way ident knows its row (see Identities), or "" for
// an identity that never stands for a line item (a rejected content).
func kindOf(ident string) string {
	switch {
	case strings.HasPrefix(ident, "c:"):
		return "c"
	case strings.HasPrefix(ident, "k:"), strings.HasPrefix(ident, "u:"):
		if i := strings.IndexByte(ident[2:], ':'); i >= 0 {
			return ident[:2+i]
		}
	}
	return ""
}

// mayExist reports whether a row in the state owner (an owner string's
// first byte) may exist in HubSpot.
func mayExist(state byte) bool {
	return state == stSent || state == stCreated || state == stDoubt || state == stLinkless
}

// set records ident's new state.
func (s *State) set(ident string, owner string) {
	kind := kindOf(ident)
	if prev, ok := s.rows.Get(ident); ok && prev != "" {
		s.counts[prev[0]]--
		if kind != "" && mayExist(prev[0]) {
			s.kinds[kind]--
		}
	}
	s.counts[owner[0]]++
	if kind != "" && mayExist(owner[0]) {
		if s.kinds == nil {
			s.kinds = map[string]int{}
		}
		if _, ok := s.kinds[kind]; !ok {
			kind = strings.Clone(kind) // not the line it was read from
		}
		s.kinds[kind]++
	}
	s.rows.Add(ident, owner)
}

// Close releases the State's memory.
func (s *State) Close() {
	if s != nil {
		s.rows.Close()
	}
}

// record is one journal line.
type record struct {
	T      string       `json:"t"`                // "start", "sent" or "done"
	Header *Header      `json:"h,omitempty"`      // start
	IDs    []string     `json:"ids,omitempty"`    // sent: row identities
	Out    []outcome    `json:"out,omitempty"`    // done
	Create []createdRow `json:"create,omitempty"` // done: [identity, id] pairs, the common case kept short
}

// createdRow is a created row's identity and HubSpot id, written
// ["identity","id"], and for an upsert the version of the values the line
// item was given: ["identity","id","version"].
type createdRow struct {
	Ident   string
	ID      string
	Version string
}

func (c createdRow) MarshalJSON() ([]byte, error) {
	if c.Version != "" {
		return json.Marshal([3]string{c.Ident, c.ID, c.Version})
	}
	return json.Marshal([2]string{c.Ident, c.ID})
}

func (c *createdRow) UnmarshalJSON(b []byte) error {
	var parts []string
	if err := json.Unmarshal(b, &parts); err != nil {
		return err
	}
	if len(parts) < 2 { // more than 3: a later format's; the first three are these
		return fmt.Errorf("journal: a created row of %d parts", len(parts))
	}
	*c = createdRow{Ident: parts[0], ID: parts[1]}
	if len(parts) >= 3 {
		c.Version = parts[2]
	}
	return nil
}

type outcome struct {
	Ident string `json:"i"`
	S     string `json:"s"` // "f" failed, "d" in doubt, "n" not processed: send again; "l" exists, unlinked: send again
	Code  string `json:"c,omitempty"`
	Msg   string `json:"m,omitempty"`
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
	inBuf     map[uint64]uint64   // ticket → its record's number (queued), once moved into buf
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
	ticket  uint64
	line    []byte
	awaited bool // a caller of Await waits for it
}

// Write-ahead of queued sent records: an fsync made for one batch also
// takes to disk the sent records of the batches queued first that no one
// awaits yet, one for every perAhead batches awaited in the last second,
// and at most maxAhead. Below perAhead batches a second, none.
const (
	perAhead = 50
	maxAhead = 64
)

// Open opens the journal in dir for the run described by h: it resumes
// the journal there, or starts one if there is none. A journal made for
// another portal is refused with a *PortalError. It returns what earlier
// runs recorded; the caller closes the State when it is done with it.
func Open(dir string, h Header) (*Journal, *State, error) {
	if err := durable.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, FileName)
	h.Version = version
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if fi, serr := os.Stat(path); err == nil && serr == nil && fi.Size() == 0 {
		// Left empty by a process killed as it created the file: it
		// recorded nothing, and is started anew.
		f.Close()
		err = os.ErrNotExist
		if rerr := os.Remove(path); rerr != nil {
			return nil, nil, rerr
		}
	}
	if err == nil {
		st, old, good, err := load(f, path)
		if err == nil && old.Portal != h.Portal {
			st.Close()
			err = &PortalError{Path: path, Journal: old.Portal, Run: h.Portal}
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
	// A new journal gets its header in a file of its own, renamed into
	// place once it is on disk: a kill at any instant leaves either no
	// journal or one with its header.
	tmp := path + ".new"
	f, err = os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	j := newJournal(f, path)
	if err := j.append(record{T: "start", Header: &h}, true); err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := durable.SyncDir(dir); err != nil { // make the new file's name durable too
		f.Close()
		return nil, nil, err
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

// load reads a journal. It returns the state, the header, and the offset
// after the last good line.
func load(r io.Reader, path string) (*State, Header, int64, error) {
	st := &State{}
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
			keep := ""
			if n > 0 {
				keep = fmt.Sprintf("to keep what lines 1-%d record, keep only them (head -n %d), so that only rows recorded after them may be sent again; or ", n, n)
			}
			return nil, h, 0, fmt.Errorf("%s is damaged at line %d; %smove it away to start a new journal for this portal (rows it recorded may then be sent again)", path, n+1, keep)
		}
		if n == 0 {
			if rec.T != "start" || rec.Header == nil {
				return nil, h, 0, fmt.Errorf("%s is not an importer journal", path)
			}
			h = *rec.Header
			if h.Version != version {
				return nil, h, 0, fmt.Errorf("%s has version %d, from an earlier importer; this importer reads version %d: finish that import with that version, or move the file away to start a new journal for this portal (rows it recorded may then be sent again)", path, h.Version, version)
			}
		}
		good += int64(len(line))
		apply(st, rec)
	}
	if good == 0 {
		return nil, h, 0, fmt.Errorf("%s has no header; move it away to start a new journal for this portal", path)
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
		for _, id := range rec.IDs {
			st.set(id, string(stSent))
		}
	case "done":
		for _, c := range rec.Create {
			owner := string(stCreated) + c.ID
			if c.Version != "" {
				owner += "\x00" + c.Version
			}
			st.set(c.Ident, owner)
		}
		for _, o := range rec.Out {
			switch o.S {
			case "n":
				st.set(o.Ident, string(stNever))
			case "l":
				st.set(o.Ident, string(stLinkless))
			case "d":
				st.set(o.Ident, string(stDoubt)+o.Code+"\x00"+o.Msg)
			default:
				st.set(o.Ident, string(stFailed)+o.Code+"\x00"+o.Msg)
			}
		}
	}
}

// Sent records that the rows with these identities are about to be sent;
// empty identities (rows not journalled) are skipped. It returns once the
// record is on disk.
func (j *Journal) Sent(idents []string) error {
	idents = slices.DeleteFunc(slices.Clone(idents), func(id string) bool { return id == "" })
	if len(idents) == 0 {
		return nil
	}
	return j.append(record{T: "sent", IDs: idents}, true)
}

// Done records outcomes, each under its identity (Outcome.Ident): created,
// failed, in doubt and not sent. A row not sent (HubSpot did not process
// it) is recorded as never sent, so a later run sends it. A failed row is
// recorded under Outcome.FailIdent, the identity of its content, so that a
// later run carries the failure over for the same content but sends a
// fixed row; its row identity is cleared (a failed row with an id, an
// upsert whose associations failed, is sent again too, but counts as
// existing in [State.Identities]). Outcomes without an identity are
// not recorded. It returns once the record is written to the file, which
// a killed process cannot undo; it reaches the disk with the next Sent or
// Close. After a power loss, an outcome that had not is missing, and a
// later run treats its rows as sent without an answer: looked up by key,
// or reported in doubt, never resent blindly.
func (j *Journal) Done(outs []report.Outcome) error {
	rec := record{T: "done"}
	for _, o := range outs {
		if o.Ident == "" {
			continue
		}
		switch o.Status {
		case report.Created:
			rec.Create = append(rec.Create, createdRow{o.Ident, o.ID, o.Version})
		case report.NotSent:
			rec.Out = append(rec.Out, outcome{Ident: o.Ident, S: "n"})
		case report.Failed:
			s := "n"
			if o.ID != "" { // an upserted row whose associations failed: it exists
				s = "l"
			}
			rec.Out = append(rec.Out, outcome{Ident: o.Ident, S: s})
			if o.FailIdent != "" {
				rec.Out = append(rec.Out, outcome{Ident: o.FailIdent, S: "f", Code: o.Code, Msg: o.Message})
			}
		case report.InDoubt:
			rec.Out = append(rec.Out, outcome{Ident: o.Ident, S: "d", Code: o.Code, Msg: o.Message})
		}
	}
	if len(rec.Create) == 0 && len(rec.Out) == 0 {
		return nil
	}
	return j.append(rec, false)
}

// Queue records, in memory, that the rows are about to be handed to a
// sender, and returns the ticket to pass to [Journal.Await] before they are
// sent. Batches may be awaited in any order (a batch queued first may wait
// longer for its slot in the rate window). Nothing is written yet: the
// record reaches the disk when its ticket is awaited, and no sooner while
// fewer than 50 batches a second are awaited; at that pace or more, the
// fsync made for one batch also takes the records of the batches queued
// first that no one awaits yet (one for every 50 batches awaited in the
// last second, and at most 64). A batch that will not be sent after all
// must be given to [Journal.Cancel] before its rows' outcomes are recorded.
//
// A record taken to disk ahead of its batch says the rows were sent though
// they were not yet; if the process dies then, a later run treats them as
// rows sent without an answer: looked up by key, or reported in doubt,
// never sent blindly.
func (j *Journal) Queue(idents []string) uint64 {
	line, err := encodeLine(nil, record{T: "sent", IDs: idents})
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil && j.err == nil {
		j.err = err
	}
	j.tickets++
	j.ahead = append(j.ahead, queuedSent{ticket: j.tickets, line: line})
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
	for j.err == nil {
		if _, ok := j.cancelled[t]; ok { // while this call waited
			return fmt.Errorf("journal: the record queued with ticket %d was cancelled", t)
		}
		n, inBuf := j.inBuf[t]
		if inBuf && j.synced >= n {
			delete(j.inBuf, t)
			return nil
		}
		if !inBuf {
			i := slices.IndexFunc(j.ahead, func(q queuedSent) bool { return q.ticket == t })
			if i < 0 {
				return nil // awaited before, by this caller or another: on disk
			}
			j.ahead[i].awaited = true
		}
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
	delete(j.inBuf, t)
	if j.cancelled == nil {
		j.cancelled = map[uint64]struct{}{}
	}
	j.cancelled[t] = struct{}{}
}

// admit moves the awaited queued records into buf, and as many of the
// first others as the recent pace of sending calls for. j.mu is held.
func (j *Journal) admit() {
	extra := min(j.pace.lastSecond(j.now())/perAhead, maxAhead)
	if j.inBuf == nil {
		j.inBuf = map[uint64]uint64{}
	}
	kept := j.ahead[:0]
	for _, q := range j.ahead {
		if !q.awaited {
			if extra == 0 {
				kept = append(kept, q)
				continue
			}
			extra--
		}
		j.buf = append(j.buf, q.line...)
		j.queued++
		j.inBuf[q.ticket] = j.queued
	}
	clear(j.ahead[len(kept):])
	j.ahead = kept
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
	buf, upto, sync := j.buf, j.queued, j.mustSync > j.synced
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
	if rec.Header != nil || rec.Out != nil || (rec.IDs != nil) == (rec.Create != nil) {
		return json.Marshal(rec)
	}
	n := 32
	for _, id := range rec.IDs {
		n += len(id) + 3
	}
	for _, c := range rec.Create {
		n += len(c.Ident) + len(c.ID) + len(c.Version) + 11
	}
	b := make([]byte, 0, n)
	switch {
	case rec.T == "sent" && len(rec.IDs) > 0:
		b = append(b, `{"t":"sent","ids":[`...)
		for i, id := range rec.IDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonstr.Append(b, id, true)
		}
	case rec.T == "done" && len(rec.Create) > 0:
		b = append(b, `{"t":"done","create":[`...)
		for i, c := range rec.Create {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = jsonstr.Append(b, c.Ident, true)
			b = append(b, ',')
			b = jsonstr.Append(b, c.ID, true)
			if c.Version != "" {
				b = append(b, ',')
				b = jsonstr.Append(b, c.Version, true)
			}
			b = append(b, ']')
		}
	default:
		return json.Marshal(rec)
	}
	return append(b, "]}"...), nil
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
