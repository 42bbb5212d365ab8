package journal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/journal"
	"github.com/lineitems/importer/internal/report"
)

// header is the Header of the journals written by these tests.
var header = journal.Header{
	Portal:  4242,
	Started: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
}

// id returns the identity of row, as the importer makes it for a row with a
// key: most tests speak of rows by number and record them by identity.
func id(row int) string { return "k:import_key:SKU-" + strconv.Itoa(row) }

// failID returns the identity of row's content, under which a failure of
// the row is recorded.
func failID(row int) string { return "f:content-of-row-" + strconv.Itoa(row) }

// ids returns the identities of rows.
func ids(rows ...int) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

// op is one call that appends exactly one journal line: Sent when sent is
// non-nil, else Done.
type op struct {
	sent []string
	done []report.Outcome
}

// model is what a journal should yield: the Prior of every identity it
// mentions.
type model map[string]journal.Prior

// apply plays op on the model as the journal documents it.
func (m model) apply(o op) {
	if o.sent != nil {
		for _, ident := range o.sent {
			m[ident] = journal.Prior{Sent: true}
		}
		return
	}
	for _, out := range o.done {
		if out.Ident == "" {
			continue // not recorded
		}
		switch out.Status {
		case report.Created:
			m[out.Ident] = journal.Prior{Status: report.Created, ID: out.ID}
		case report.NotSent:
			delete(m, out.Ident)
		case report.Failed:
			delete(m, out.Ident)
			if out.FailIdent != "" {
				m[out.FailIdent] = journal.Prior{Status: report.Failed, Code: out.Code, Message: out.Message}
			}
		case report.InDoubt:
			m[out.Ident] = journal.Prior{Status: report.InDoubt, Code: out.Code, Message: out.Message}
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

// checkState compares st with want: over the identities and content
// identities of rows -1..upTo+5, the odd identities of oddIdents, every
// identity of want, and the empty identity.
func checkState(t *testing.T, st *journal.State, want model, upTo int) {
	t.Helper()
	probes := map[string]bool{"": true}
	for row := -1; row <= upTo+5; row++ {
		probes[id(row)], probes[failID(row)] = true, true
	}
	for _, ident := range oddIdents {
		probes[ident], probes["f:"+ident] = true, true
	}
	for ident := range want {
		probes[ident] = true
	}
	for _, ident := range slices.Sorted(maps.Keys(probes)) {
		if got := st.Lookup(ident); got != want[ident] {
			t.Errorf("Lookup(%q) = %+v, want %+v", ident, got, want[ident])
		}
	}
	c, f, d := st.Counts()
	wc, wf, wd := want.counts()
	if c != wc || f != wf || d != wd {
		t.Errorf("Counts() = %d created, %d failed, %d doubtful; want %d, %d, %d", c, f, d, wc, wf, wd)
	}
}

func open(t *testing.T, dir string, h journal.Header) (*journal.Journal, *journal.State) {
	t.Helper()
	j, st, err := journal.Open(dir, h)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(st.Close)
	return j, st
}

// written makes a journal in dir for header from ops, closes it, and
// returns its path and contents.
func written(t *testing.T, dir string, ops []op) (path string, data []byte) {
	t.Helper()
	j, _ := open(t, dir, header)
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

// The outcomes of row carry both its identities, as the importer's do: the
// journal must use FailIdent for failures only.

func created(row int, hsID string) report.Outcome {
	return report.Outcome{Row: row, Ident: id(row), FailIdent: failID(row), Status: report.Created, ID: hsID}
}

func failed(row int, code, msg string) report.Outcome {
	return report.Outcome{Row: row, Ident: id(row), FailIdent: failID(row), Status: report.Failed, Code: code, Message: msg}
}

func inDoubt(row int, code, msg string) report.Outcome {
	return report.Outcome{Row: row, Ident: id(row), FailIdent: failID(row), Status: report.InDoubt, Code: code, Message: msg}
}

func notSent(row int) report.Outcome {
	return report.Outcome{Row: row, Ident: id(row), FailIdent: failID(row), Status: report.NotSent, Code: report.CodeNotSent, Message: "the run stopped"}
}

// sampleOps covers every kind of outcome: created (numeric, non-numeric,
// zero-padded and huge ids), failed (with and without a content identity),
// in doubt, NOT_SENT, an outcome without an identity, and a row sent
// without an outcome.
var sampleOps = []op{
	{sent: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14)},
	{done: []report.Outcome{
		created(1, "37400000001"),
		created(2, "li-abc"),
		created(3, "007"),
		created(4, "184467440737095516160"), // beyond uint64
		failed(5, "INVALID_DOUBLE", "price: \"1,5\" was not a valid number.\nsecond line é"),
		inDoubt(6, "NO_ANSWER", "the connection dropped"),
		notSent(7),
		created(8, "0"),
		{Row: 14, Ident: id(14), Status: report.Failed, Code: "E", Message: "no content identity"},
		{Row: 15, FailIdent: failID(15), Status: report.Failed, Code: "E", Message: "no identity"},
		{Row: 15, Status: report.Created, ID: "15"},
	}},
	// Row 9 was sent and never got an outcome: in doubt.
	// Row 10 first failed, then was sent again and not sent: never sent,
	// and its content's failure stays.
	{done: []report.Outcome{failed(10, "VALIDATION_ERROR", "bad")}},
	{sent: ids(10, 12)},
	{done: []report.Outcome{notSent(10), failed(12, "CONFLICT", "Line item already exists. Existing ID: 5")}},
}

// oddIdents are identities with characters that JSON escapes, or that
// encoding/json escapes for HTML, or that are not ASCII.
var oddIdents = []string{
	`k:import_key:say "hi"`,
	`k:import_key:C:\path\to\`,
	"k:import_key:<b>&amp;</b>",
	"k:import_key:tab\there\nnew line\rCR\x00NUL\x01\x1f\x7f",
	"k:import_key:é ü 日本語 🎉",
	"k:import_key:\u2028\u2029",
	"k:import_key:\ufffd",
	"k:import_key: spaces ",
	"c:Ab-_9xYZ0123456789abcdefghijklmnopqrstu#12",
	"k:import_key:SKU-1 ", // not the identity of row 1
}

// oddOps records the odd identities in every state, with HubSpot ids and
// messages that need escaping too.
func oddOps() []op {
	o := oddIdents
	return []op{
		{sent: slices.Clone(o)},
		{done: []report.Outcome{ // created only: the hand-encoded record
			{Ident: o[0], FailIdent: "f:" + o[0], Status: report.Created, ID: `id "quoted" <&> \ é`},
			{Ident: o[1], FailIdent: "f:" + o[1], Status: report.Created, ID: "007"},
			{Ident: o[2], FailIdent: "f:" + o[2], Status: report.Created, ID: "37400000001"},
		}},
		{done: []report.Outcome{ // mixed: encoding/json
			{Ident: o[3], FailIdent: "f:" + o[3], Status: report.Failed, Code: "INVALID<&>", Message: "bad \"value\"\n\u2028"},
			{Ident: o[4], FailIdent: "f:" + o[4], Status: report.InDoubt, Code: "NO_ANSWER", Message: "<timeout> & \\ \x00 after a NUL"},
			{Ident: o[5], FailIdent: "f:" + o[5], Status: report.NotSent, Code: report.CodeNotSent},
			{Ident: o[6], FailIdent: "f:" + o[6], Status: report.Created, ID: "li-\u2028"},
		}},
		// o[7], o[8] and o[9] stay sent.
		{sent: []string{o[5]}},
		{done: []report.Outcome{{Ident: o[5], FailIdent: "f:" + o[5], Status: report.Created, ID: "5"}}},
	}
}

func TestOpenNewAndResume(t *testing.T) {
	dir := t.TempDir()
	j, st := open(t, dir, header)
	if c, f, d := st.Counts(); c != 0 || f != 0 || d != 0 {
		t.Fatalf("new journal Counts() = %d, %d, %d", c, f, d)
	}
	if got := st.Lookup(id(1)); got != (journal.Prior{}) {
		t.Fatalf("new journal Lookup(%q) = %+v", id(1), got)
	}
	play(t, j, sampleOps)
	closeJ(t, j)

	later := header
	later.Started = header.Started.Add(time.Hour) // Started is no part of the identity
	j, st = open(t, dir, later)
	want := modelOf(sampleOps)
	checkState(t, st, want, 15)

	// Spot-check the model itself against the brief, so that a wrong model
	// cannot hide a wrong journal.
	failure := func(code, msg string) journal.Prior {
		return journal.Prior{Status: report.Failed, Code: code, Message: msg}
	}
	spot := []struct {
		ident string
		want  journal.Prior
	}{
		{id(0), journal.Prior{}},
		{id(1), journal.Prior{Status: report.Created, ID: "37400000001"}},
		{id(2), journal.Prior{Status: report.Created, ID: "li-abc"}},
		{id(3), journal.Prior{Status: report.Created, ID: "007"}},
		{id(4), journal.Prior{Status: report.Created, ID: "184467440737095516160"}},
		{id(5), journal.Prior{}}, // a failed row's identity is cleared...
		{failID(5), failure("INVALID_DOUBLE", "price: \"1,5\" was not a valid number.\nsecond line é")}, // ...its content failed
		{id(6), journal.Prior{Status: report.InDoubt, Code: "NO_ANSWER", Message: "the connection dropped"}},
		{id(7), journal.Prior{}},
		{id(8), journal.Prior{Status: report.Created, ID: "0"}},
		{id(9), journal.Prior{Sent: true}},
		{id(10), journal.Prior{}},
		{failID(10), failure("VALIDATION_ERROR", "bad")},
		{id(11), journal.Prior{}},
		{id(12), journal.Prior{}},
		{failID(12), failure("CONFLICT", "Line item already exists. Existing ID: 5")},
		{id(14), journal.Prior{}},
		{failID(14), journal.Prior{}},
		{id(15), journal.Prior{}},
		{failID(15), journal.Prior{}},
		{failID(1), journal.Prior{}}, // a created row's content identity is not recorded
		{failID(6), journal.Prior{}},
		{failID(7), journal.Prior{}},
		{id(1000), journal.Prior{}},
		{"", journal.Prior{}},
		{"37400000001", journal.Prior{}}, // an id is not an identity
	}
	for _, tc := range spot {
		if got := st.Lookup(tc.ident); got != tc.want {
			t.Errorf("Lookup(%q) = %+v, want %+v", tc.ident, got, tc.want)
		}
	}
	if c, f, d := st.Counts(); c != 5 || f != 3 || d != 2 {
		t.Errorf("Counts() = %d created, %d failed, %d doubtful; want 5, 3, 2", c, f, d)
	}

	// The resumed journal appends after the old records.
	if err := j.Sent(ids(11)); err != nil {
		t.Fatal(err)
	}
	if err := j.Done([]report.Outcome{created(11, "99")}); err != nil {
		t.Fatal(err)
	}
	closeJ(t, j)
	j, st = open(t, dir, header)
	defer closeJ(t, j)
	want[id(11)] = journal.Prior{Status: report.Created, ID: "99"}
	checkState(t, st, want, 15)
}

func TestNilStateAndEmptyDone(t *testing.T) {
	var st *journal.State
	if got := st.Lookup(id(3)); got != (journal.Prior{}) {
		t.Errorf("nil State Lookup = %+v", got)
	}
	if c, f, d := st.Counts(); c+f+d != 0 {
		t.Errorf("nil State Counts = %d, %d, %d", c, f, d)
	}
	st.Close() // no panic

	dir := t.TempDir()
	j, _ := open(t, dir, header)
	before, err := os.ReadFile(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// Outcomes of no recordable status, or without an identity, write
	// nothing.
	for _, outs := range [][]report.Outcome{
		nil,
		{},
		{{Row: 1, Ident: id(1), FailIdent: failID(1), Status: 0}},
		{
			{Row: 1, Status: report.Created, ID: "1"},
			{Row: 2, FailIdent: failID(2), Status: report.Failed, Code: "C", Message: "M"},
			{Row: 3, Status: report.InDoubt, Code: "C", Message: "M"},
			{Row: 4, Status: report.NotSent, Code: report.CodeNotSent},
		},
	} {
		if err := j.Done(outs); err != nil {
			t.Fatalf("Done(%+v): %v", outs, err)
		}
	}
	after, err := os.ReadFile(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("Done with nothing to record appended %q", after[len(before):])
	}
	closeJ(t, j)
	if err := j.Sent(ids(1)); err == nil {
		t.Error("Sent after Close succeeded")
	}
	if err := j.Done([]report.Outcome{created(1, "1")}); err == nil {
		t.Error("Done after Close succeeded")
	}
	j, st = open(t, dir, header)
	defer closeJ(t, j)
	checkState(t, st, model{}, 5)
}

// TestStateClose: a closed State has released its entries; it answers as
// an empty one and may be closed again.
func TestStateClose(t *testing.T) {
	dir := t.TempDir()
	written(t, dir, sampleOps)
	j, st, err := journal.Open(dir, header)
	if err != nil {
		t.Fatal(err)
	}
	defer closeJ(t, j)
	if got := st.Lookup(id(1)); got.Status != report.Created {
		t.Fatalf("Lookup(%q) = %+v before Close", id(1), got)
	}
	st.Close()
	for _, ident := range []string{id(1), id(9), failID(5), id(100)} {
		if got := st.Lookup(ident); got != (journal.Prior{}) {
			t.Errorf("after Close, Lookup(%q) = %+v", ident, got)
		}
	}
	st.Close()
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
	bodies := make([]string, len(lines))
	for i, line := range lines {
		sum, body, ok := strings.Cut(line, " ")
		if !ok || len(sum) != 8 {
			t.Fatalf("line %d is not \"crc32hex json\": %q", i+1, line)
		}
		if want := fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))); sum != want {
			t.Errorf("line %d: checksum %s, want %s", i+1, sum, want)
		}
		if !json.Valid([]byte(body)) {
			t.Errorf("line %d is not JSON: %q", i+1, body)
		}
		bodies[i] = body
	}
	var start struct {
		T string         `json:"t"`
		H map[string]any `json:"h"`
	}
	if err := json.Unmarshal([]byte(bodies[0]), &start); err != nil {
		t.Fatal(err)
	}
	wantH := map[string]any{"v": 2.0, "portal": float64(header.Portal), "started": "2025-03-01T12:00:00Z"}
	if start.T != "start" || !maps.Equal(start.H, wantH) {
		t.Errorf("first line is not the header %v: %q", wantH, bodies[0])
	}
	// The records are those the package documents.
	mustJSON := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	type out struct {
		I string `json:"i"`
		S string `json:"s"`
		C string `json:"c,omitempty"`
		M string `json:"m,omitempty"`
	}
	want := []string{
		1: mustJSON(struct {
			T   string   `json:"t"`
			IDs []string `json:"ids"`
		}{"sent", ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14)}),
		3: mustJSON(struct {
			T   string `json:"t"`
			Out []out  `json:"out"`
		}{"done", []out{{I: id(10), S: "n"}, {I: failID(10), S: "f", C: "VALIDATION_ERROR", M: "bad"}}}),
		4: `{"t":"sent","ids":["k:import_key:SKU-10","k:import_key:SKU-12"]}`,
	}
	for i, w := range want {
		if w != "" && bodies[i] != w {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, bodies[i], w)
		}
	}
	// Row numbers are not recorded: rows are known by identity.
	for i, b := range bodies[1:] {
		for _, k := range []string{`"r":`, `"row"`, `"rows"`} {
			if strings.Contains(b, k) {
				t.Errorf("line %d holds %s: %q", i+2, k, b)
			}
		}
	}
}

// TestCreateRecordFormat: a Done of created rows only is written
// {"t":"done","create":[["identity","id"],...]}.
func TestCreateRecordFormat(t *testing.T) {
	_, data := written(t, t.TempDir(), []op{{done: []report.Outcome{created(1, "37400000001"), created(2, `a"<b>`)}}})
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	_, body, _ := strings.Cut(lines[len(lines)-1], " ")
	want := `{"t":"done","create":[["k:import_key:SKU-1","37400000001"],["k:import_key:SKU-2","a\"\u003cb\u003e"]]}`
	if body != want {
		t.Errorf("created rows recorded as\n %s\nwant\n %s", body, want)
	}
}

func TestTornTail(t *testing.T) {
	ops := sampleOps[:2]
	torn := `{"t":"done","create":[["` + id(20) + `","12"]]}`
	badSum := fmt.Appendf(nil, "%08x %s\n", crc32.ChecksumIEEE([]byte(torn))^1, torn)
	cases := []struct {
		name string
		tail []byte
	}{
		{"partial line", []byte(`1a2b3c4d {"t":"done","create":[["k:import_key:SKU-20","12`)},
		{"partial checksum", []byte("1a2b")},
		{"complete record without its newline", bytes.TrimSuffix(line(t, torn), []byte("\n"))},
		{"full line with wrong checksum", badSum},
		{"full line with damaged body", bytes.Replace(line(t, torn), []byte(`"12"`), []byte(`"13"`), 1)},
		{"full line with damaged identity", bytes.Replace(line(t, torn), []byte(`SKU-20`), []byte(`SKU-21`), 1)},
		{"blank last line", []byte("\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, good := written(t, dir, ops)
			appendFile(t, path, tc.tail)

			j, st := open(t, dir, header)
			want := modelOf(ops)
			checkState(t, st, want, 25)
			// The torn tail is gone from the file...
			if data, err := os.ReadFile(path); err != nil {
				t.Fatal(err)
			} else if !bytes.Equal(data, good) {
				t.Errorf("after Open the file is\n%q\nwant it truncated to\n%q", data, good)
			}
			// ...so that what is appended next can be read back.
			more := []op{{sent: ids(21, 22)}, {done: []report.Outcome{created(21, "555"), inDoubt(22, "X", "y")}}}
			play(t, j, more)
			closeJ(t, j)
			j, st = open(t, dir, header)
			defer closeJ(t, j)
			checkState(t, st, modelOf(append(slices.Clone(ops), more...)), 25)
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
		j, st, err := journal.Open(dir, header)
		if err == nil {
			j.Close()
			t.Fatalf("byte %d (%q) flipped: Open succeeded with state %+v", off, orig[off], st)
		}
		if !strings.Contains(err.Error(), "move it away") || !strings.Contains(err.Error(), path) {
			t.Fatalf("byte %d flipped: error %q does not name the file and say to move it away", off, err)
		}
		var pe *journal.PortalError
		if errors.As(err, &pe) {
			t.Fatalf("byte %d flipped: damage reported as another portal's journal: %v", off, err)
		}
		// A refused journal is left as it was.
		if now, _ := os.ReadFile(path); !bytes.Equal(now, data) {
			t.Fatalf("byte %d flipped: Open changed the damaged file", off)
		}
	}

	// Moved away, the damaged journal is left alone and a new one starts.
	data := bytes.Clone(orig)
	data[lastStart-10] ^= 0x01
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	moved := path + ".damaged"
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	j, st := open(t, dir, header)
	checkState(t, st, model{}, 15)
	closeJ(t, j)
	j, st = open(t, dir, header)
	checkState(t, st, model{}, 15)
	closeJ(t, j)
	if now, _ := os.ReadFile(moved); !bytes.Equal(now, data) {
		t.Error("the journal moved away was changed")
	}
}

// hdr is a start record as the package documents it.
func hdr(v int, portal int64) string {
	return fmt.Sprintf(`{"t":"start","h":{"v":%d,"portal":%d,"started":"2025-03-01T12:00:00Z"}}`, v, portal)
}

func TestNotAJournal(t *testing.T) {
	// A journal written by the row-number version of the importer.
	v1 := append(line(t, fmt.Sprintf(`{"t":"start","h":{"v":1,"portal":%d,"input_sha256":%q,"mapping_sha256":%q,"key_property":"import_key","started":"2025-03-01T12:00:00Z"}}`,
		header.Portal, strings.Repeat("a", 64), strings.Repeat("b", 64))),
		line(t, `{"t":"sent","rows":[[1,10]]}`)...)
	cases := []struct {
		name    string
		content []byte
		want    []string
	}{
		{"torn header only", bytes.TrimSuffix(line(t, hdr(2, header.Portal)), []byte("\n")), []string{"no header", "move it away"}},
		{"first record not a header", append(line(t, `{"t":"sent","ids":["a"]}`), line(t, hdr(2, header.Portal))...), []string{"not an importer journal"}},
		{"start record without a header", line(t, `{"t":"start"}`), []string{"not an importer journal"}},
		{"version 1", v1, []string{"version 1", "version 2"}},
		{"later version", line(t, hdr(3, header.Portal)), []string{"version 3", "version 2"}},
		{"text file", []byte("hello\nworld\n"), []string{"damaged at line 1", "move it away"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, journal.FileName)
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			j, _, err := journal.Open(dir, header)
			if err == nil {
				j.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, tc.content) {
				t.Error("a refused Open changed the file")
			}
		})
	}
	// A hand-made journal is read as the package documents the format.
	dir := t.TempDir()
	var body []byte
	for _, l := range []string{
		hdr(2, header.Portal),
		`{"t":"sent","ids":["a","b","c","d","e"]}`,
		`{"t":"done","create":[["a","42"]],"out":[{"i":"b","s":"n"},{"i":"f:b","s":"f","c":"C","m":"M"},{"i":"c","s":"d","c":"D","m":"N"}]}`,
		`{"t":"done","create":[["e","\u003c\"7\"\u003e"]]}`,
	} {
		body = append(body, line(t, l)...)
	}
	if err := os.WriteFile(filepath.Join(dir, journal.FileName), body, 0o600); err != nil {
		t.Fatal(err)
	}
	j, st := open(t, dir, header)
	defer closeJ(t, j)
	checkState(t, st, model{
		"a":   {Status: report.Created, ID: "42"},
		"f:b": {Status: report.Failed, Code: "C", Message: "M"},
		"c":   {Status: report.InDoubt, Code: "D", Message: "N"},
		"d":   {Sent: true},
		"e":   {Status: report.Created, ID: `<"7">`},
	}, 5)
	for _, ident := range []string{"b", "f:a", "f:c"} {
		if got := st.Lookup(ident); got != (journal.Prior{}) {
			t.Errorf("Lookup(%q) = %+v, want zero", ident, got)
		}
	}
}

// TestResumeWhateverTheInput: a journal is known by its portal alone. Rows
// are recorded by identity, so a run over an edited input (rows moved,
// added or removed, another mapping) or started later resumes the journal
// and finds each row's outcome by its identity, whatever its row number.
func TestResumeWhateverTheInput(t *testing.T) {
	cases := []struct {
		name string
		h    journal.Header
	}{
		{"same header", header},
		{"started later", journal.Header{Portal: header.Portal, Started: header.Started.Add(72 * time.Hour)}},
		{"no start time", journal.Header{Portal: header.Portal}},
		{"version set by the caller", journal.Header{Version: 1, Portal: header.Portal}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// The first run had the rows in this order...
			first := []op{
				{sent: ids(1, 2, 3)},
				{done: []report.Outcome{created(1, "101"), inDoubt(2, "NO_ANSWER", "x"), failed(3, "INVALID", "y")}},
			}
			path, orig := written(t, dir, first)
			j, st := open(t, dir, tc.h)
			want := modelOf(first)
			checkState(t, st, want, 10)
			// ...the next has them elsewhere: its outcomes carry other row
			// numbers for the same identities.
			moved := []op{
				{sent: ids(2, 4)},
				{done: []report.Outcome{
					{Row: 987654, Ident: id(2), FailIdent: failID(2), Status: report.Created, ID: "102"},
					{Row: 1, Ident: id(4), FailIdent: failID(4), Status: report.Created, ID: "104"},
				}},
			}
			play(t, j, moved)
			closeJ(t, j)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, orig) {
				t.Fatalf("resuming rewrote the journal:\n%q\nwas\n%q", data, orig)
			}
			if bytes.Contains(data, []byte("987654")) {
				t.Errorf("a row number was recorded: %q", data)
			}
			j, st = open(t, dir, header)
			defer closeJ(t, j)
			for _, o := range moved {
				want.apply(o)
			}
			checkState(t, st, want, 10)
			if got := st.Lookup(id(2)); got != (journal.Prior{Status: report.Created, ID: "102"}) {
				t.Errorf("Lookup(%q) = %+v, want created 102", id(2), got)
			}
		})
	}

	// A version-2 header with fields this version does not write (as an
	// input fingerprint) is resumed all the same.
	dir := t.TempDir()
	body := append(line(t, fmt.Sprintf(`{"t":"start","h":{"v":2,"portal":%d,"input_sha256":"abc","mapping_sha256":"def","key_property":"k","started":"2025-03-01T12:00:00Z"}}`, header.Portal)),
		line(t, `{"t":"done","create":[["`+id(1)+`","1"]]}`)...)
	if err := os.WriteFile(filepath.Join(dir, journal.FileName), body, 0o600); err != nil {
		t.Fatal(err)
	}
	j, st := open(t, dir, header)
	defer closeJ(t, j)
	checkState(t, st, model{id(1): {Status: report.Created, ID: "1"}}, 5)
}

// TestPortalMismatch: a journal is never resumed on another portal; the
// refusal is a *PortalError that names both portals and the file, and
// leaves the journal as it was, to be resumed by a run on its portal.
func TestPortalMismatch(t *testing.T) {
	cases := []struct{ journal, run int64 }{
		{111, 222},
		{222, 111},
		{0, 111},
		{111, 0},
		{1 << 40, 1<<40 + 1},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d on %d", tc.journal, tc.run), func(t *testing.T) {
			dir := t.TempDir()
			h := header
			h.Portal = tc.journal
			j, _ := open(t, dir, h)
			ops := []op{{sent: ids(1, 2)}, {done: []report.Outcome{created(1, "5")}}}
			play(t, j, ops)
			closeJ(t, j)
			path := filepath.Join(dir, journal.FileName)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			other := h
			other.Portal = tc.run
			j, st, err := journal.Open(dir, other)
			if err == nil {
				j.Close()
				t.Fatalf("Open on another portal succeeded: %+v", st)
			}
			if j != nil || st != nil {
				t.Errorf("a refused Open returned %v, %v", j, st)
			}
			var pe *journal.PortalError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *PortalError", err, err)
			}
			if *pe != (journal.PortalError{Path: path, Journal: tc.journal, Run: tc.run}) {
				t.Errorf("%+v, want {Path: %q, Journal: %d, Run: %d}", *pe, path, tc.journal, tc.run)
			}
			msg := err.Error()
			for _, w := range []string{fmt.Sprint(tc.journal), fmt.Sprint(tc.run), path} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not name %q", msg, w)
				}
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
				t.Error("a refused Open changed the journal")
			}
			// The journal's own portal still resumes it.
			j, st = open(t, dir, h)
			defer closeJ(t, j)
			checkState(t, st, modelOf(ops), 5)
		})
	}
}

func TestFileMode(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out", "nested")
	j, _ := open(t, dir, header)
	closeJ(t, j)
	path := filepath.Join(dir, journal.FileName)
	fi, err := os.Stat(path)
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
	// Resuming and appending keeps the mode.
	j, _ = open(t, dir, header)
	play(t, j, []op{{sent: ids(1)}})
	closeJ(t, j)
	if fi, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("after resuming: journal mode %v, want 0600", perm)
	}
}

func TestConcurrentAppends(t *testing.T) {
	const workers, perWorker = 16, 25
	dir := t.TempDir()
	j, _ := open(t, dir, header)
	want := model{}
	var wmu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				// Rows interleave across workers.
				a, b := 2*(i*workers+w)+1, 2*(i*workers+w)+2
				sent := ids(a, b)
				if err := j.Sent(sent); err != nil {
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
				m.apply(op{sent: sent})
				m.apply(op{done: outs})
				maps.Copy(want, m)
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
	j, st := open(t, dir, header)
	defer closeJ(t, j)
	checkState(t, st, want, 2*workers*perWorker)
}

// TestKillAtEveryByte simulates a kill -9 after every byte written: each
// prefix of a journal must open with exactly the records whose lines it
// holds in full, or (before the header is complete) fail with an error, and
// must accept further appends.
func TestKillAtEveryByte(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []op
	}{
		{"rows", sampleOps},
		{"identities that need escaping", oddOps()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, full := written(t, t.TempDir(), tc.ops)
			dir := t.TempDir()
			path := filepath.Join(dir, journal.FileName)
			extra := []report.Outcome{created(50, "5050"), {Ident: oddIdents[0], Status: report.InDoubt, Code: "X", Message: "<later>"}}
			for n := 0; n <= len(full); n++ {
				prefix := full[:n]
				if err := os.WriteFile(path, prefix, 0o600); err != nil {
					t.Fatal(err)
				}
				lines := bytes.Count(prefix, []byte("\n")) // complete lines
				j, st, err := journal.Open(dir, header)
				if n == 0 { // an empty file recorded nothing: started anew
					if err != nil {
						t.Fatalf("prefix 0: Open: %v", err)
					}
					j.Close()
					st.Close()
					continue
				}
				if lines == 0 {
					if err == nil {
						j.Close()
						t.Fatalf("prefix %d (header incomplete): Open succeeded", n)
					}
					if !strings.Contains(err.Error(), "move it away") {
						t.Errorf("prefix %d: error %q does not say how to recover", n, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("prefix %d (%d complete lines): Open: %v", n, lines, err)
				}
				want := modelOf(tc.ops[:lines-1])
				checkState(t, st, want, 12)
				st.Close()
				if t.Failed() {
					j.Close()
					t.Fatalf("prefix %d of %d bytes: wrong state (see above)", n, len(full))
				}
				if err := j.Done(extra); err != nil {
					t.Fatalf("prefix %d: Done: %v", n, err)
				}
				closeJ(t, j)
				j, st, err = journal.Open(dir, header)
				if err != nil {
					t.Fatalf("prefix %d: reopening after an append: %v", n, err)
				}
				want.apply(op{done: extra})
				checkState(t, st, want, 50)
				st.Close()
				j.Close()
				if t.Failed() {
					t.Fatalf("prefix %d: wrong state after an append", n)
				}
			}
		})
	}
}

// TestEscapedIdentitiesRoundTrip: identities, ids, codes and messages with
// characters that JSON escapes (quotes, backslashes, control characters),
// that encoding/json escapes for HTML (<, >, &), U+2028 and U+2029, and
// non-ASCII text, are written as encoding/json writes them, and read back
// exactly.
func TestEscapedIdentitiesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ops := oddOps()
	// A long identity and message: longer than a keyset chunk.
	long := "k:import_key:" + strings.Repeat(`"<é>\`, 1<<18)
	longMsg := strings.Repeat("\n&", 1<<19)
	ops = append(ops,
		op{sent: []string{long}},
		op{done: []report.Outcome{{Ident: long, FailIdent: "f:" + long, Status: report.Failed, Code: "LONG", Message: longMsg}}},
	)
	_, data := written(t, dir, ops)

	// Every line is JSON, with nothing unescaped that encoding/json
	// escapes, and holds the strings exactly.
	seen := map[string]bool{}
	for i, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		body := l[9 : len(l)-1]
		if bytes.ContainsAny(body, "<>&\u2028\u2029") || bytes.ContainsFunc(body, func(r rune) bool { return r < 0x20 }) {
			t.Errorf("line %d holds a character encoding/json escapes: %q", i+1, body)
		}
		var rec struct {
			IDs    []string    `json:"ids"`
			Create [][2]string `json:"create"`
			Out    []struct {
				I string `json:"i"`
			} `json:"out"`
		}
		if err := json.Unmarshal(body, &rec); err != nil {
			t.Fatalf("line %d: %v: %q", i+1, err, body)
		}
		for _, s := range rec.IDs {
			seen[s] = true
		}
		for _, c := range rec.Create {
			seen[c[0]], seen[c[1]] = true, true
		}
		for _, o := range rec.Out {
			seen[o.I] = true
		}
	}
	for _, s := range append(slices.Clone(oddIdents), long, "f:"+long, "f:"+oddIdents[3], `id "quoted" <&> \ é`, "li-\u2028") {
		if !seen[s] {
			t.Errorf("%.60q is not in the journal as it is", s)
		}
	}

	j, st := open(t, dir, header)
	defer closeJ(t, j)
	want := modelOf(ops)
	checkState(t, st, want, 5)
	o := oddIdents
	spot := []struct {
		ident string
		want  journal.Prior
	}{
		{o[0], journal.Prior{Status: report.Created, ID: `id "quoted" <&> \ é`}},
		{o[1], journal.Prior{Status: report.Created, ID: "007"}},
		{o[2], journal.Prior{Status: report.Created, ID: "37400000001"}},
		{o[3], journal.Prior{}},
		{"f:" + o[3], journal.Prior{Status: report.Failed, Code: "INVALID<&>", Message: "bad \"value\"\n\u2028"}},
		{o[4], journal.Prior{Status: report.InDoubt, Code: "NO_ANSWER", Message: "<timeout> & \\ \x00 after a NUL"}},
		{o[5], journal.Prior{Status: report.Created, ID: "5"}},
		{o[6], journal.Prior{Status: report.Created, ID: "li-\u2028"}},
		{o[7], journal.Prior{Sent: true}},
		{o[8], journal.Prior{Sent: true}},
		{o[9], journal.Prior{Sent: true}},
		{id(1), journal.Prior{}},
		{strings.TrimSpace(o[7]), journal.Prior{}},
		{long, journal.Prior{}},
		{"f:" + long, journal.Prior{Status: report.Failed, Code: "LONG", Message: longMsg}},
	}
	for _, tc := range spot {
		if got := st.Lookup(tc.ident); got != tc.want {
			t.Errorf("Lookup(%.60q) = %.200v, want %.200v", tc.ident, got, tc.want)
		}
	}
	if c, f, d := st.Counts(); c != 5 || f != 2 || d != 4 {
		t.Errorf("Counts() = %d, %d, %d; want 5 created, 2 failed, 4 doubtful", c, f, d)
	}
}

// TestInvalidUTF8Identity documents what becomes of an identity that is
// not valid UTF-8: like encoding/json, the journal writes each invalid byte
// as U+FFFD, so the identity is read back changed, and found only as
// changed. (The importer never makes one: package rows refuses rows that
// are not valid UTF-8.)
func TestInvalidUTF8Identity(t *testing.T) {
	cases := []struct{ ident, readBack string }{
		{"k:import_key:\xff", "k:import_key:\ufffd"},
		{"k:import_key:a\xc3", "k:import_key:a\ufffd"},
		{"k:import_key:\xed\xa0\x80", "k:import_key:\ufffd\ufffd\ufffd"}, // a surrogate
	}
	for _, tc := range cases {
		for _, o := range []op{
			{sent: []string{tc.ident}},
			{done: []report.Outcome{{Ident: tc.ident, Status: report.Created, ID: "1"}}},
			{done: []report.Outcome{{Ident: tc.ident, Status: report.InDoubt, Code: "C"}}},
		} {
			dir := t.TempDir()
			written(t, dir, []op{o})
			j, st := open(t, dir, header)
			want := modelOf([]op{o})[tc.ident]
			if got := st.Lookup(tc.readBack); got != want {
				t.Errorf("%q recorded by %+v: Lookup(%q) = %+v, want %+v", tc.ident, o, tc.readBack, got, want)
			}
			if got := st.Lookup(tc.ident); got != (journal.Prior{}) {
				t.Errorf("%q recorded by %+v: found as it was: %+v", tc.ident, o, got)
			}
			closeJ(t, j)
		}
	}
}

// TestLastRecordWins: an identity takes the state of the last record that
// names it, whatever came before; ids are kept exactly as HubSpot gave them
// (numeric, zero-padded, beyond uint64, not numeric).
func TestLastRecordWins(t *testing.T) {
	const row = 1
	sent := op{sent: ids(row)}
	done := func(o report.Outcome) op { return op{done: []report.Outcome{o}} }
	made := func(hsID string) op { return done(created(row, hsID)) }
	is := func(hsID string) journal.Prior { return journal.Prior{Status: report.Created, ID: hsID} }
	cases := []struct {
		name         string
		ops          []op
		row, content journal.Prior // Lookup(id(row)), Lookup(failID(row))
		counts       [3]int
	}{
		{"created non-numeric, reset, created numeric", []op{sent, made("li-abc"), done(notSent(row)), sent, made("37400000123")}, is("37400000123"), journal.Prior{}, [3]int{1, 0, 0}},
		{"created numeric, reset, created non-numeric", []op{sent, made("37400000123"), done(notSent(row)), sent, made("li-abc")}, is("li-abc"), journal.Prior{}, [3]int{1, 0, 0}},
		{"plain, then zero-padded", []op{sent, made("7"), made("007")}, is("007"), journal.Prior{}, [3]int{1, 0, 0}},
		{"zero-padded, then plain", []op{sent, made("007"), made("7")}, is("7"), journal.Prior{}, [3]int{1, 0, 0}},
		{"beyond uint64, then zero", []op{made("184467440737095516160"), made("0")}, is("0"), journal.Prior{}, [3]int{1, 0, 0}},
		{"zero, then beyond uint64", []op{made("0"), made("184467440737095516160")}, is("184467440737095516160"), journal.Prior{}, [3]int{1, 0, 0}},
		{"the same id twice", []op{sent, made("5"), made("5")}, is("5"), journal.Prior{}, [3]int{1, 0, 0}},
		{"sent after created", []op{sent, made("5"), sent}, journal.Prior{Sent: true}, journal.Prior{}, [3]int{0, 0, 1}},
		{"sent twice", []op{sent, sent}, journal.Prior{Sent: true}, journal.Prior{}, [3]int{0, 0, 1}},
		{"in doubt after created", []op{sent, made("5"), done(inDoubt(row, "D", "later"))},
			journal.Prior{Status: report.InDoubt, Code: "D", Message: "later"}, journal.Prior{}, [3]int{0, 0, 1}},
		{"created after in doubt", []op{sent, done(inDoubt(row, "D", "m")), made("9")}, is("9"), journal.Prior{}, [3]int{1, 0, 0}},
		{"in doubt twice", []op{sent, done(inDoubt(row, "A", "first")), done(inDoubt(row, "B", "second"))},
			journal.Prior{Status: report.InDoubt, Code: "B", Message: "second"}, journal.Prior{}, [3]int{0, 0, 1}},
		{"not sent after in doubt", []op{sent, done(inDoubt(row, "D", "m")), done(notSent(row))}, journal.Prior{}, journal.Prior{}, [3]int{0, 0, 0}},
		{"failed after created", []op{sent, made("5"), done(failed(row, "F", "m"))},
			journal.Prior{}, journal.Prior{Status: report.Failed, Code: "F", Message: "m"}, [3]int{0, 1, 0}},
		// The failure belongs to the content, and stays when the row
		// identity is created later.
		{"created after failed", []op{sent, done(failed(row, "F", "m")), sent, made("5")},
			is("5"), journal.Prior{Status: report.Failed, Code: "F", Message: "m"}, [3]int{1, 1, 0}},
		{"failed twice", []op{sent, done(failed(row, "A", "first")), sent, done(failed(row, "B", "second"))},
			journal.Prior{}, journal.Prior{Status: report.Failed, Code: "B", Message: "second"}, [3]int{0, 1, 0}},
		{"sent after failed", []op{sent, done(failed(row, "F", "m")), sent},
			journal.Prior{Sent: true}, journal.Prior{Status: report.Failed, Code: "F", Message: "m"}, [3]int{0, 1, 1}},
		{"in the same record, the later created row", []op{{done: []report.Outcome{created(row, "1"), created(row, "2")}}}, is("2"), journal.Prior{}, [3]int{1, 0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			written(t, dir, tc.ops)
			j, st := open(t, dir, header)
			defer closeJ(t, j)
			if got := st.Lookup(id(row)); got != tc.row {
				t.Errorf("Lookup(%q) = %+v, want %+v", id(row), got, tc.row)
			}
			if got := st.Lookup(failID(row)); got != tc.content {
				t.Errorf("Lookup(%q) = %+v, want %+v", failID(row), got, tc.content)
			}
			if c, f, d := st.Counts(); [3]int{c, f, d} != tc.counts {
				t.Errorf("Counts() = %d, %d, %d; want %d, %d, %d", c, f, d, tc.counts[0], tc.counts[1], tc.counts[2])
			}
			checkState(t, st, modelOf(tc.ops), 3)
		})
	}
}

// TestCountsAfterTransitions: Counts after each step of a row's life, each
// step made by a run of its own that resumes the journal.
func TestCountsAfterTransitions(t *testing.T) {
	type step struct {
		op     op
		counts [3]int // created, failed, doubtful after the step
	}
	done := func(outs ...report.Outcome) op { return op{done: outs} }
	sameContent := func(row int) report.Outcome {
		o := failed(row, "INVALID", "bad")
		o.FailIdent = "f:shared content"
		return o
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"sent, created", []step{
			{op{sent: ids(1)}, [3]int{0, 0, 1}},
			{done(created(1, "11")), [3]int{1, 0, 0}},
		}},
		{"sent, in doubt, created", []step{
			{op{sent: ids(1)}, [3]int{0, 0, 1}},
			{done(inDoubt(1, "NO_ANSWER", "m")), [3]int{0, 0, 1}},
			{done(created(1, "11")), [3]int{1, 0, 0}},
		}},
		{"sent, failed: the row is cleared, its content failed", []step{
			{op{sent: ids(1)}, [3]int{0, 0, 1}},
			{done(failed(1, "INVALID", "m")), [3]int{0, 1, 0}},
		}},
		{"sent, failed without a content identity", []step{
			{op{sent: ids(1)}, [3]int{0, 0, 1}},
			{done(report.Outcome{Ident: id(1), Status: report.Failed, Code: "C"}), [3]int{0, 0, 0}},
		}},
		{"sent, not sent", []step{
			{op{sent: ids(1, 2)}, [3]int{0, 0, 2}},
			{done(notSent(1), notSent(2)), [3]int{0, 0, 0}},
		}},
		{"a fixed row is created after its content failed", []step{
			{op{sent: ids(1)}, [3]int{0, 0, 1}},
			{done(failed(1, "INVALID", "m")), [3]int{0, 1, 0}},
			{op{sent: ids(1)}, [3]int{0, 1, 1}},
			{done(report.Outcome{Ident: id(1), FailIdent: "f:fixed", Status: report.Created, ID: "11"}), [3]int{1, 1, 0}},
		}},
		// Failures are counted by content: rows of the same content count
		// once.
		{"two rows of the same content fail", []step{
			{op{sent: ids(1, 2, 3)}, [3]int{0, 0, 3}},
			{done(sameContent(1), sameContent(2), created(3, "33")), [3]int{1, 1, 0}},
		}},
		{"created, then in doubt, then sent again", []step{
			{done(created(1, "11"), created(2, "22")), [3]int{2, 0, 0}},
			{done(inDoubt(1, "D", "m")), [3]int{1, 0, 1}},
			{op{sent: ids(1, 2)}, [3]int{0, 0, 2}},
			{done(created(1, "11"), failed(2, "F", "m")), [3]int{1, 1, 0}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var ops []op
			for i, s := range tc.steps {
				j, _ := open(t, dir, header)
				play(t, j, []op{s.op})
				closeJ(t, j)
				ops = append(ops, s.op)

				j, st := open(t, dir, header)
				if c, f, d := st.Counts(); [3]int{c, f, d} != s.counts {
					t.Errorf("after step %d: Counts() = %d, %d, %d; want %d, %d, %d", i+1, c, f, d, s.counts[0], s.counts[1], s.counts[2])
				}
				checkState(t, st, modelOf(ops), 5)
				closeJ(t, j)
			}
		})
	}
}

// TestReopenAppends: each run that resumes a journal appends its records
// after the existing ones and leaves those as they were; a run that
// records nothing leaves the file as it was.
func TestReopenAppends(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, journal.FileName)
	runs := [][]op{
		{{sent: ids(1, 2, 3)}, {done: []report.Outcome{created(1, "1"), inDoubt(2, "D", "m")}}},
		nil, // a run that records nothing
		{{sent: ids(2, 4)}, {done: []report.Outcome{created(2, "2"), failed(4, "F", "m")}}},
		{{sent: oddIdents[:3]}},
		{{done: []report.Outcome{notSent(3)}}},
	}
	var before []byte
	var all []op
	for i, ops := range runs {
		j, st := open(t, dir, header)
		checkState(t, st, modelOf(all), 5)
		play(t, j, ops)
		closeJ(t, j)
		all = append(all, ops...)

		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, before) {
			t.Fatalf("run %d changed the records before its own:\n%q\nwere\n%q", i+1, data, before)
		}
		added := data[len(before):]
		wantLines := len(ops)
		if i == 0 {
			wantLines++ // the header
		}
		if n := bytes.Count(added, []byte("\n")); n != wantLines {
			t.Errorf("run %d appended %d lines, want %d: %q", i+1, n, wantLines, added)
		}
		if n := bytes.Count(data, []byte(`"t":"start"`)); n != 1 {
			t.Errorf("after run %d the journal has %d headers", i+1, n)
		}
		before = data
	}
	j, st := open(t, dir, header)
	defer closeJ(t, j)
	want := modelOf(all)
	checkState(t, st, want, 5)
	if c, f, d := st.Counts(); c != 2 || f != 1 || d != 3 {
		t.Errorf("Counts() = %d, %d, %d; want 2 created, 1 failed, 3 doubtful", c, f, d)
	}
}

// TestEmptyJournalStartsAnew: a journal file left empty (a process killed
// as it created it) recorded nothing: it is started anew, not refused.
func TestEmptyJournalStartsAnew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, journal.FileName)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	j, st := open(t, dir, header)
	if c, f, d := st.Counts(); c+f+d != 0 {
		t.Errorf("counts %d %d %d from an empty file", c, f, d)
	}
	closeJ(t, j)
	if _, err := os.Stat(path + ".new"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
	j, _ = open(t, dir, header) // and it resumes now
	closeJ(t, j)
}

// TestIdentities: the State tells, for each way rows were known (content,
// or a key property in create or upsert runs), how many of the rows known
// that way may exist in HubSpot: sent, created or in doubt, not those
// recorded as never sent, and never a rejected content.
func TestIdentities(t *testing.T) {
	dir := t.TempDir()
	j, st := open(t, dir, header)
	st.Close()
	ops := []struct {
		sent []string
		outs []report.Outcome
	}{
		{[]string{"c:abc#1", "c:abc#2", "c:def#1"}, []report.Outcome{
			{Ident: "c:abc#1", Status: report.Created, ID: "1"},
			{Ident: "c:abc#2", Status: report.InDoubt, Code: "NO_ANSWER"},
			{Ident: "c:def#1", Status: report.NotSent}}},
		{[]string{"k:import_key:A", "k:import_key:B"}, []report.Outcome{
			{Ident: "k:import_key:A", Status: report.Failed, FailIdent: "f:xyz", Code: "INVALID"}}}, // B: sent, no answer
		{[]string{"u:sku:key:with:colons", "u:sku:unlinked"}, []report.Outcome{
			{Ident: "u:sku:unlinked", Status: report.Failed, ID: "77", Code: "ASSOCIATION_FAILED"}}}, // upserted, exists

		{[]string{"k:gone:Z"}, []report.Outcome{{Ident: "k:gone:Z", Status: report.NotSent}}},
	}
	for _, op := range ops {
		if err := j.Sent(op.sent); err != nil {
			t.Fatal(err)
		}
		if err := j.Done(op.outs); err != nil {
			t.Fatal(err)
		}
	}
	closeJ(t, j)
	j, st = open(t, dir, header)
	defer closeJ(t, j)
	defer st.Close()
	want := map[string]int{"c": 2, "k:import_key": 1, "u:sku": 2}
	if got := st.Identities(); !maps.Equal(got, want) {
		t.Errorf("Identities() = %v, want %v", got, want)
	}
	if p := st.Lookup("u:sku:unlinked"); p != (journal.Prior{}) {
		t.Errorf("an upserted row whose associations failed: Lookup = %+v, want nothing (sent again)", p)
	}
	if got := (*journal.State)(nil).Identities(); len(got) != 0 {
		t.Errorf("nil State: Identities() = %v, want none", got)
	}
}

// TestUnmet: the rows earlier runs left in doubt that no Lookup asked
// for, with their keys; asking marks a row met without changing what
// Lookup returns.
func TestUnmet(t *testing.T) {
	dir := t.TempDir()
	j, st := open(t, dir, header)
	st.Close()
	if err := j.Sent([]string{"c:abc#1", "c:abc#2", "c:def#1", "k:import_key:B", "k:import_key:C", "u:sku:key:with:colons",
		"k:import_key:D", "k:import_key:E", "k:import_key:F"}); err != nil {
		t.Fatal(err)
	}
	if err := j.Done([]report.Outcome{
		{Ident: "c:abc#1", Status: report.Created, ID: "1"},
		{Ident: "c:abc#2", Status: report.InDoubt, Code: "NO_ANSWER", Message: "no answer"},
		{Ident: "c:def#1", Status: report.InDoubt, Code: "TIMEOUT", Message: "timed out"},
		{Ident: "k:import_key:C", Status: report.NotSent}}); err != nil {
		t.Fatal(err)
	}
	// Keys a create run left in doubt, then sent by upsert runs: D upserted
	// (settled), E refused (still in doubt as the create left it), F sent
	// with no answer (listed once, as the upsert's).
	// G and H upserted without their associations: they exist, unlinked.
	if err := j.Sent([]string{"u:import_key:D", "u:import_key:E", "u:import_key:F", "u:import_key:G", "u:import_key:H"}); err != nil {
		t.Fatal(err)
	}
	if err := j.Done([]report.Outcome{
		{Ident: "u:import_key:D", Status: report.Created, ID: "4"},
		{Ident: "u:import_key:E", Status: report.Failed, Code: "INVALID_OPTION", Message: "no"},
		{Ident: "u:import_key:G", Status: report.Failed, ID: "7", Code: "ASSOCIATION_FAILED", Message: "no deal"},
		{Ident: "u:import_key:H", Status: report.Failed, ID: "8", Code: "ASSOCIATION_FAILED", Message: "no deal"}}); err != nil {
		t.Fatal(err)
	}
	closeJ(t, j)
	j, st = open(t, dir, header)
	defer closeJ(t, j)
	defer st.Close()
	c, f, d := st.Counts()
	for range 2 {
		if p := st.Lookup("c:abc#2"); p.Status != report.InDoubt || p.Code != "NO_ANSWER" || p.Message != "no answer" {
			t.Errorf("Lookup(c:abc#2) = %+v, want in doubt as recorded", p)
		}
		if p := st.Lookup("k:import_key:B"); !p.Sent {
			t.Errorf("Lookup(k:import_key:B) = %+v, want sent", p)
		}
	}
	st.Lookup("c:abc#1")
	st.Lookup("k:import_key:C")
	if p := st.Lookup("u:import_key:H"); p.Status != 0 || p.Sent { // sent again, as a row never sent
		t.Errorf("Lookup(u:import_key:H) = %+v, want nothing recorded", p)
	}
	want := []journal.Doubt{{Ident: "c:def#1", Code: "TIMEOUT", Message: "timed out"}, {Ident: "k:import_key:E", Sent: true},
		{Ident: "u:import_key:F", Sent: true}, {Ident: "u:import_key:G", Unlinked: true}, {Ident: "u:sku:key:with:colons", Sent: true}}
	if got := st.Unmet(); !slices.Equal(got, want) {
		t.Errorf("Unmet() = %+v, want %+v", got, want)
	}
	if k := want[4].Key(); k != "key:with:colons" {
		t.Errorf("Key() = %q", k)
	}
	if k := want[0].Key(); k != "" {
		t.Errorf("a row known by its content: Key() = %q, want none", k)
	}
	if c2, f2, d2 := st.Counts(); c2 != c || f2 != f || d2 != d || d != 8 {
		t.Errorf("Counts() = %d, %d, %d after the lookups, were %d, %d, %d (want 8 in doubt)", c2, f2, d2, c, f, d)
	}
	if got := (*journal.State)(nil).Unmet(); got != nil {
		t.Errorf("nil State: Unmet() = %v", got)
	}
}

// TestDamagedMiddleAdvice: the error for a journal damaged in the middle
// says how many lines are sound, and keeping only those (as it says)
// gives a journal that opens with exactly what they record.
func TestDamagedMiddleAdvice(t *testing.T) {
	dir := t.TempDir()
	path, prefix := written(t, dir, sampleOps[:1])
	j, _ := open(t, dir, header)
	play(t, j, sampleOps[1:])
	closeJ(t, j)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sound := bytes.Count(prefix, []byte("\n"))
	if !bytes.HasPrefix(data, prefix) || bytes.Count(data, []byte("\n")) < sound+2 {
		t.Fatalf("the second run did not append at least two lines to the first's %d", sound)
	}
	data[len(prefix)+3] ^= 0x01 // in the first line after the sound ones, not the last line
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = journal.Open(dir, header)
	if err == nil {
		t.Fatal("a journal damaged in the middle opened")
	}
	if want := fmt.Sprintf("damaged at line %d; to keep what lines 1-%d record, keep only them (head -n %d)", sound+1, sound, sound); !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	if err := os.WriteFile(path, prefix, 0o600); err != nil { // head -n sound
		t.Fatal(err)
	}
	j, st := open(t, dir, header)
	defer closeJ(t, j)
	checkState(t, st, modelOf(sampleOps[:1]), 25)
}

// TestLookupKey: a row known by its key is looked up under its run's
// identity; in an upsert run a key a create run left in doubt counts when
// no upsert sent it, and is met either way, while an upsert's own record
// wins.
func TestLookupKey(t *testing.T) {
	for _, tc := range []struct {
		property, key string
		upsert        bool
		want          string
	}{
		{"import_key", "A", false, "k:import_key:A"},
		{"import_key", "A", true, "u:import_key:A"},
		{"import_key", "", true, ""},
		{"", "A", false, ""},
	} {
		if got := journal.KeyIdent(tc.property, tc.key, tc.upsert); got != tc.want {
			t.Errorf("KeyIdent(%q, %q, %v) = %q, want %q", tc.property, tc.key, tc.upsert, got, tc.want)
		}
	}
	dir := t.TempDir()
	j, st := open(t, dir, header)
	st.Close()
	if err := j.Sent([]string{"k:p:A", "k:p:B", "u:p:B", "k:p:C"}); err != nil {
		t.Fatal(err)
	}
	if err := j.Done([]report.Outcome{{Ident: "u:p:B", Status: report.Created, ID: "7"}, {Ident: "k:p:C", Status: report.Created, ID: "8"}}); err != nil {
		t.Fatal(err)
	}
	closeJ(t, j)
	j, st = open(t, dir, header)
	defer closeJ(t, j)
	defer st.Close()
	if p := st.LookupKey("p", "A", false); !p.Sent {
		t.Errorf("create run, A: %+v, want sent", p)
	}
	if p := st.LookupKey("p", "A", true); !p.Sent {
		t.Errorf("upsert run, A (the create run's doubt): %+v, want sent", p)
	}
	if p := st.LookupKey("p", "B", true); p.Status != report.Created || p.ID != "7" {
		t.Errorf("upsert run, B (upserted since): %+v, want created 7", p)
	}
	if p := st.LookupKey("p", "C", true); p != (journal.Prior{}) {
		t.Errorf("upsert run, C (created by a create run): %+v, want nothing: an upsert sends it", p)
	}
	if got := st.Unmet(); len(got) != 0 {
		t.Errorf("Unmet() = %+v, want every doubt met", got)
	}
}
