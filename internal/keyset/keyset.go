// Package keyset keeps a large set of strings, each with an owner string,
// in little memory: about 14 bytes of table per entry plus the bytes of the
// two strings, where a Go map[string]string takes about 90 bytes per entry
// before the collector's headroom.
//
// The memory is taken from the operating system directly (anonymous mmap
// where available), outside the Go heap, so that a set of millions of
// entries does not also raise the collector's heap goal, which GOGC sets
// in proportion to the live heap. It is released when the Set becomes
// unreachable, or by Close.
package keyset

import (
	"encoding/binary"
	"hash/maphash"
	"runtime"
	"sync/atomic"
	"unsafe"
)

const (
	chunkSize = 1 << 20 // bytes of one arena chunk
	offBits   = 20      // bits of an offset within a chunk
	refBits   = 40      // bits of a reference: chunk index and offset
	refMask   = 1<<refBits - 1
	minSlots  = 1 << 10
)

// Set is a set of distinct strings, each with an owner. The zero Set is
// empty and ready to use. A Set is not safe for concurrent use, and must
// not be copied after first use (go vet reports copies): its memory is
// released when the Set it was first used as becomes unreachable.
type Set struct {
	_      noCopy
	seed   maphash.Seed
	slots  []uint64 // 0: empty; else hash tag << refBits | (reference + 1)
	n      int
	chunks [][]byte // the entries, encoded by put
	free   *releaser
}

// noCopy makes go vet's copylocks check report copies of a Set.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// releaser owns the Set's memory, so that a cleanup can free it without
// keeping the Set reachable.
type releaser struct{ blocks [][]byte }

// held counts the bytes all Sets hold, for tests.
var held atomic.Int64

func (r *releaser) alloc(n int) []byte {
	b := allocate(n)
	held.Add(int64(len(b)))
	r.blocks = append(r.blocks, b)
	return b
}

func (r *releaser) release(b []byte) {
	for i, x := range r.blocks {
		if unsafe.SliceData(x) == unsafe.SliceData(b) {
			r.blocks[i] = r.blocks[len(r.blocks)-1]
			r.blocks = r.blocks[:len(r.blocks)-1]
			held.Add(-int64(len(x)))
			deallocate(x)
			return
		}
	}
}

func (r *releaser) releaseAll() {
	for _, b := range r.blocks {
		held.Add(-int64(len(b)))
		deallocate(b)
	}
	r.blocks = nil
}

func (s *Set) init() {
	if s.free != nil {
		return
	}
	s.seed = maphash.MakeSeed()
	s.free = &releaser{}
	runtime.AddCleanup(s, func(r *releaser) { r.releaseAll() }, s.free)
}

// Len returns the number of entries.
func (s *Set) Len() int { return s.n }

// Get returns the owner of v, and whether v is in the set. The owner is a
// copy, safe to keep after Close.
func (s *Set) Get(v string) (owner string, ok bool) {
	o, ok := s.ownerOf(v)
	owner = string(o)
	// The reads above are of memory that the cleanup frees once s is
	// unreachable; s must stay reachable until they are done.
	runtime.KeepAlive(s)
	return owner, ok
}

// Update calls f with v's owner, in the set's memory, if v is in the set,
// and reports whether it is. f may change the owner's bytes, not its
// length, and must not keep the slice.
func (s *Set) Update(v string, f func(owner []byte)) bool {
	o, ok := s.ownerOf(v)
	if ok {
		f(o)
	}
	runtime.KeepAlive(s)
	return ok
}

// ownerOf returns v's owner in the set's memory, capped at its length, and
// whether v is in the set. The caller keeps s reachable while it reads the
// slice.
func (s *Set) ownerOf(v string) ([]byte, bool) {
	if s.n == 0 {
		return nil, false
	}
	i, found := s.find(v, maphash.String(s.seed, v))
	if !found {
		return nil, false
	}
	_, o := s.entry(s.slots[i]&refMask - 1)
	return o[:len(o):len(o)], true
}

// All calls yield with each entry, in no particular order, until yield
// returns false. v and owner are the set's memory: valid only during the
// call, to be copied if kept, and owner not to be changed. The set must
// not change during the calls.
func (s *Set) All(yield func(v string, owner []byte) bool) {
	defer runtime.KeepAlive(s)
	for _, slot := range s.slots {
		if slot == 0 {
			continue
		}
		v, o := s.entry(slot&refMask - 1)
		if !yield(v, o[:len(o):len(o)]) {
			return
		}
	}
}

// find returns the slot that holds v, or the empty slot where v would go.
func (s *Set) find(v string, h uint64) (i int, found bool) {
	for i = s.start(h); s.slots[i] != 0; i = (i + 1) & (len(s.slots) - 1) {
		if s.slots[i]>>refBits != tag(h) {
			continue
		}
		if k, _ := s.entry(s.slots[i]&refMask - 1); k == v {
			return i, true
		}
	}
	return i, false
}

// Add puts v in the set with owner, or changes v's owner if it is there
// with another one. Adding v again with the same owner takes no memory.
func (s *Set) Add(v, owner string) {
	s.init()
	if s.n+1 > len(s.slots)/4*3 {
		s.grow()
	}
	h := maphash.String(s.seed, v)
	i, found := s.find(v, h)
	if found {
		if _, o := s.entry(s.slots[i]&refMask - 1); string(o) == owner {
			runtime.KeepAlive(s)
			return
		}
		// Replaced below; the old entry's bytes stay unused.
	} else {
		s.n++
	}
	s.slots[i] = tag(h)<<refBits | (s.put(v, owner) + 1)
}

// Close releases the set's memory; the Set is empty afterwards.
func (s *Set) Close() {
	if s.free != nil {
		s.free.releaseAll()
	}
	s.slots, s.chunks, s.n = nil, nil, 0
}

func tag(h uint64) uint64 { return h >> refBits } // the hash's top 24 bits

func (s *Set) start(h uint64) int { return int(h & uint64(len(s.slots)-1)) }

// grow doubles the table (or makes the first one) and places the entries
// again.
func (s *Set) grow() {
	old := s.slots
	n := max(2*len(old), minSlots)
	mem := s.free.alloc(8 * n)
	s.slots = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), n)
	for _, slot := range old {
		if slot == 0 {
			continue
		}
		k, _ := s.entry(slot&refMask - 1)
		i := s.start(maphash.String(s.seed, k))
		for s.slots[i] != 0 {
			i = (i + 1) & (n - 1)
		}
		s.slots[i] = slot
	}
	if old != nil {
		s.free.release(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(old))), 8*len(old)))
	}
}

// put appends an entry, uvarint(len v) v uvarint(len owner) owner, and
// returns its reference: chunk index << offBits | offset.
func (s *Set) put(v, owner string) uint64 {
	need := 2*binary.MaxVarintLen64 + len(v) + len(owner)
	last := len(s.chunks) - 1
	if last < 0 || len(s.chunks[last])+need > cap(s.chunks[last]) {
		mem := s.free.alloc(max(chunkSize, need))
		s.chunks = append(s.chunks, mem[:0])
		last++
		if last >= 1<<(refBits-offBits) {
			panic("keyset: more than 1 TiB of entries")
		}
	}
	c := s.chunks[last]
	off := len(c)
	c = binary.AppendUvarint(c, uint64(len(v)))
	c = append(c, v...)
	c = binary.AppendUvarint(c, uint64(len(owner)))
	c = append(c, owner...)
	s.chunks[last] = c
	return uint64(last)<<offBits | uint64(off)
}

// entry returns the strings of the entry at ref, pointing into the arena.
func (s *Set) entry(ref uint64) (v string, owner []byte) {
	c := s.chunks[ref>>offBits][ref&(1<<offBits-1):]
	n, w := binary.Uvarint(c)
	c = c[w:]
	v, c = unsafe.String(unsafe.SliceData(c), int(n)), c[n:]
	n, w = binary.Uvarint(c)
	return v, c[w : w+int(n)]
}
