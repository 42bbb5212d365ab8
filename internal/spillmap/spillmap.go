// Package spillmap maps 16-byte digests to 64-bit values in memory that
// hardly grows with the number of entries: it keeps the newest entries in
// memory and the rest in sorted files on disk.
//
// A Map holds at most [MemEntries] entries in memory (about 2 MiB). When
// that many are there, they are written, sorted, to a file of their own (a
// run), and runs of similar size are merged, so that a Map of n entries
// has about log2(n/MemEntries) runs. In memory each run keeps a blocked
// Bloom filter (10 bits an entry, about 1% false positives) and the first
// digest of each block of 128 entries (1/8 byte an entry): about 1.4 bytes
// an entry in all, where a Go map takes 30 to 50. A Get for a digest the
// Map does not hold reads the disk only for a false positive; one it holds
// reads one block (3 KiB) of the newest run that has it.
//
// The runs are files in the directory given to [New], removed as soon as
// they are created (on systems that allow it), so that a process that
// dies leaves nothing behind; they take 24 bytes an entry, and up to twice
// that while two are merged.
package spillmap

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
)

// Digest is a map key: a hash of the value it stands for, uniformly
// distributed (the Bloom filters take their bits from it).
type Digest [16]byte

// MemEntries is the number of entries a Map keeps in memory before it
// writes them to a run.
const MemEntries = 1 << 16

const (
	recSize    = 24  // a run's record: the digest, then the value (little-endian)
	blockRecs  = 128 // records of one block, the unit a Get reads
	bloomBits  = 10  // filter bits per entry
	bloomProbe = 7   // bits set per entry, all within one 512-bit block
)

// Map maps digests to values. The zero Map is not usable; call [New]. A
// Map is not safe for concurrent use.
//
// Errors come from the file system (a full disk, most likely). After one,
// the Map is broken: every later call returns the same error.
type Map struct {
	dir     string
	memMax  int
	mem     map[Digest]uint64
	runs    []*run // oldest first
	block   []byte // scratch for one block
	err     error
	written int64 // bytes written to runs, for tests and benchmarks
}

// run is one sorted file of entries.
type run struct {
	f     *os.File
	path  string // "" once removed
	n     int
	first []Digest // the first digest of each block
	bloom []uint64 // blocked Bloom filter: 8 words (512 bits) a block
}

// New returns an empty Map whose runs go to files in dir (os.TempDir() if
// dir is ""), and which keeps up to memEntries entries in memory
// ([MemEntries] if memEntries <= 0).
func New(dir string, memEntries int) *Map {
	if memEntries <= 0 {
		memEntries = MemEntries
	}
	return &Map{dir: dir, memMax: memEntries, mem: make(map[Digest]uint64)}
}

// Get returns the value of d, and whether the Map holds d.
func (m *Map) Get(d Digest) (uint64, bool, error) {
	if m.err != nil {
		return 0, false, m.err
	}
	if v, ok := m.mem[d]; ok {
		return v, true, nil
	}
	for i := len(m.runs) - 1; i >= 0; i-- { // the newest value wins
		r := m.runs[i]
		if !r.mayHave(d) {
			continue
		}
		v, ok, err := r.get(d, &m.block)
		if err != nil {
			m.err = fmt.Errorf("spillmap: reading a run: %w", err)
			return 0, false, m.err
		}
		if ok {
			return v, true, nil
		}
	}
	return 0, false, nil
}

// Put sets the value of d.
func (m *Map) Put(d Digest, v uint64) error {
	if m.err != nil {
		return m.err
	}
	m.mem[d] = v
	if len(m.mem) < m.memMax {
		return nil
	}
	if err := m.spill(); err != nil {
		m.err = fmt.Errorf("spillmap: %w", err)
		return m.err
	}
	return nil
}

// Close removes the Map's files and releases its memory. It returns the
// Map's error, if it had one.
func (m *Map) Close() error {
	for _, r := range m.runs {
		r.close()
	}
	m.runs, m.mem = nil, nil
	return m.err
}

// spill writes the entries in memory to a new run, then merges the newest
// runs while the newer is at least half the size of the older.
func (m *Map) spill() error {
	keys := make([]Digest, 0, len(m.mem))
	for d := range m.mem {
		keys = append(keys, d)
	}
	slices.SortFunc(keys, func(a, b Digest) int { return bytes.Compare(a[:], b[:]) })
	r, err := m.write(len(keys), func(emit func(Digest, uint64) error) error {
		for _, d := range keys {
			if err := emit(d, m.mem[d]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.runs = append(m.runs, r)
	clear(m.mem)
	for len(m.runs) >= 2 {
		older, newer := m.runs[len(m.runs)-2], m.runs[len(m.runs)-1]
		if newer.n*2 < older.n {
			break
		}
		merged, err := m.merge(older, newer)
		if err != nil {
			return err
		}
		older.close()
		newer.close()
		m.runs = append(m.runs[:len(m.runs)-2], merged)
	}
	return nil
}

// merge writes one run of the entries of older and newer, the newer
// value where both have a digest.
func (m *Map) merge(older, newer *run) (*run, error) {
	a, b := newReader(older), newReader(newer)
	return m.write(older.n+newer.n, func(emit func(Digest, uint64) error) error {
		for a.ok || b.ok {
			var c int
			switch {
			case !a.ok:
				c = 1
			case !b.ok:
				c = -1
			default:
				c = bytes.Compare(a.d[:], b.d[:])
			}
			var err error
			switch {
			case c < 0:
				err = emit(a.d, a.v)
				a.next()
			case c > 0:
				err = emit(b.d, b.v)
				b.next()
			default:
				err = emit(b.d, b.v)
				a.next()
				b.next()
			}
			if err != nil {
				return err
			}
		}
		return cmp.Or(a.err, b.err)
	})
}

// write makes a run of the entries that entries emits in ascending order,
// at most max of them.
func (m *Map) write(max int, entries func(emit func(Digest, uint64) error) error) (*run, error) {
	f, err := os.CreateTemp(m.dir, ".spillmap-*")
	if err != nil {
		return nil, err
	}
	r := &run{f: f, path: f.Name()}
	if os.Remove(r.path) == nil {
		r.path = ""
	}
	blocks := (max + blockRecs - 1) / blockRecs
	r.first = make([]Digest, 0, blocks)
	r.bloom = make([]uint64, bloomWords(max))
	w := bufio.NewWriterSize(f, 64<<10)
	var rec [recSize]byte
	err = entries(func(d Digest, v uint64) error {
		if r.n%blockRecs == 0 {
			r.first = append(r.first, d)
		}
		r.add(d)
		copy(rec[:16], d[:])
		binary.LittleEndian.PutUint64(rec[16:], v)
		r.n++
		_, err := w.Write(rec[:])
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		r.close()
		return nil, err
	}
	m.written += int64(r.n) * recSize
	return r, nil
}

// bloomWords is the size of a filter for n entries: whole 512-bit blocks.
func bloomWords(n int) int {
	blocks := (n*bloomBits + 511) / 512
	return max(blocks, 1) * 8
}

// probes returns the filter block of d and the bits d sets in it. A
// digest need not be uniform in every bit (FNV-1a spreads an input's last
// bytes into few of them), so both halves are mixed into each choice.
func (r *run) probes(d Digest) (block int, h uint64) {
	lo, hi := binary.LittleEndian.Uint64(d[:8]), binary.LittleEndian.Uint64(d[8:])
	blocks := uint64(len(r.bloom) / 8)
	b, _ := bits.Mul64(mix64(lo^bits.RotateLeft64(hi, 32)), blocks) // the high bits pick the block
	return int(b) * 8, mix64(hi + lo*0x9e3779b97f4a7c15)
}

// mix64 is MurmurHash3's 64-bit finalizer: each bit of x changes about
// half of the bits of the result.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func (r *run) add(d Digest) {
	b, h := r.probes(d)
	for i := range bloomProbe {
		bit := (h >> (9 * i)) & 511
		r.bloom[b+int(bit>>6)] |= 1 << (bit & 63)
	}
}

func (r *run) mayHave(d Digest) bool {
	b, h := r.probes(d)
	for i := range bloomProbe {
		bit := (h >> (9 * i)) & 511
		if r.bloom[b+int(bit>>6)]&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}

// get reads the block that would hold d.
func (r *run) get(d Digest, scratch *[]byte) (uint64, bool, error) {
	// The last block whose first digest is not above d.
	i, found := slices.BinarySearchFunc(r.first, d, func(a, b Digest) int { return bytes.Compare(a[:], b[:]) })
	if !found {
		if i == 0 {
			return 0, false, nil
		}
		i--
	}
	n := min(blockRecs, r.n-i*blockRecs)
	if cap(*scratch) < n*recSize {
		*scratch = make([]byte, blockRecs*recSize)
	}
	buf := (*scratch)[:n*recSize]
	if _, err := r.f.ReadAt(buf, int64(i)*blockRecs*recSize); err != nil {
		return 0, false, err
	}
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if bytes.Compare(buf[mid*recSize:mid*recSize+16], d[:]) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < n && bytes.Equal(buf[lo*recSize:lo*recSize+16], d[:]) {
		return binary.LittleEndian.Uint64(buf[lo*recSize+16:]), true, nil
	}
	return 0, false, nil
}

func (r *run) close() {
	r.f.Close()
	if r.path != "" {
		_ = os.Remove(r.path)
	}
}

// reader reads a run's records in order.
type reader struct {
	br   *bufio.Reader
	left int // records still to read
	ok   bool
	d    Digest
	v    uint64
	err  error
	rec  [recSize]byte
}

func newReader(r *run) *reader {
	rd := &reader{br: bufio.NewReaderSize(io.NewSectionReader(r.f, 0, int64(r.n)*recSize), 64<<10), left: r.n}
	rd.next()
	return rd
}

func (rd *reader) next() {
	if rd.left == 0 {
		rd.ok = false
		return
	}
	if _, err := io.ReadFull(rd.br, rd.rec[:]); err != nil {
		// The file is shorter than its count: an error, never a
		// quiet end that would lose the records not read.
		rd.ok = false
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		rd.err = err
		return
	}
	rd.left--
	rd.ok = true
	copy(rd.d[:], rd.rec[:16])
	rd.v = binary.LittleEndian.Uint64(rd.rec[16:])
}
