package spillmap

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// digest makes a Digest of n, spread as a hash would spread it.
func digest(n uint64) Digest {
	var d Digest
	r := rand.New(rand.NewPCG(n, n^0x9e3779b97f4a7c15))
	binary.LittleEndian.PutUint64(d[:8], r.Uint64())
	binary.LittleEndian.PutUint64(d[8:], r.Uint64())
	return d
}

// check compares m with the model, for every key it holds and for keys it
// never held.
func check(t *testing.T, m *Map, model map[Digest]uint64, absent []Digest) {
	t.Helper()
	for d, want := range model {
		got, ok, err := m.Get(d)
		if err != nil || !ok || got != want {
			t.Fatalf("Get(%x) = %d, %v, %v; want %d, true, nil", d, got, ok, err, want)
		}
	}
	for _, d := range absent {
		if _, in := model[d]; in {
			continue
		}
		if got, ok, err := m.Get(d); ok || err != nil {
			t.Fatalf("Get(%x) = %d, %v, %v for a digest never put", d, got, ok, err)
		}
	}
}

// TestAgainstMap drives Maps that spill every few entries (so that every
// lookup goes through runs, merges and their filters) with random puts,
// most of them new digests, some updates of old ones, and compares them
// with a Go map.
func TestAgainstMap(t *testing.T) {
	for _, memMax := range []int{1, 2, 7, 100, 1000} {
		for seed := range uint64(3) {
			r := rand.New(rand.NewPCG(seed, uint64(memMax)))
			dir := t.TempDir()
			m := New(dir, memMax)
			model := map[Digest]uint64{}
			var absent []Digest
			for i := range 3000 {
				var d Digest
				if len(model) > 0 && r.IntN(4) == 0 {
					d = digest(uint64(r.IntN(i))) // an update, perhaps of a digest in a run
				} else {
					d = digest(uint64(i))
				}
				v := r.Uint64()
				if err := m.Put(d, v); err != nil {
					t.Fatal(err)
				}
				model[d] = v
				if i%500 == 0 {
					absent = append(absent, digest(1<<40+uint64(i)))
					check(t, m, model, absent)
				}
			}
			check(t, m, model, absent)
			if memMax <= 100 && len(m.runs) == 0 {
				t.Fatalf("memMax %d: no run written", memMax)
			}
			if n := len(m.runs); n > 20 {
				t.Fatalf("memMax %d: %d runs; merging should keep about log2(entries/memMax)", memMax, n)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("files left in the directory: %v", left)
			}
		}
	}
}

// TestDigestsThatShareBlocks puts digests that differ only in their last
// bytes, so that many fall in one block of a run and in one filter block.
func TestDigestsThatShareBlocks(t *testing.T) {
	m := New(t.TempDir(), 50)
	defer m.Close()
	model := map[Digest]uint64{}
	for i := range 1000 {
		var d Digest
		d[15] = byte(i)
		d[14] = byte(i >> 8)
		if err := m.Put(d, uint64(i)); err != nil {
			t.Fatal(err)
		}
		model[d] = uint64(i)
	}
	var absent []Digest
	for i := 1000; i < 1100; i++ {
		var d Digest
		d[15], d[14] = byte(i), byte(i>>8)
		absent = append(absent, d)
	}
	check(t, m, model, absent)
}

// TestMemoryStaysBounded checks what the package promises of memory: the
// entries in memory never exceed memMax, and the filters and block index
// take under 1.5 bytes an entry.
func TestMemoryStaysBounded(t *testing.T) {
	const n, memMax = 200000, 1000
	m := New(t.TempDir(), memMax)
	defer m.Close()
	for i := range n {
		if err := m.Put(digest(uint64(i)), uint64(i)); err != nil {
			t.Fatal(err)
		}
		if len(m.mem) >= memMax {
			t.Fatalf("%d entries in memory", len(m.mem))
		}
	}
	var bytes int
	for _, r := range m.runs {
		bytes += len(r.bloom)*8 + len(r.first)*16
	}
	if per := float64(bytes) / n; per > 1.5 {
		t.Errorf("filters and block index take %.2f bytes an entry", per)
	}
	// Merging rewrites each entry about log2(n/memMax) times, not n/memMax.
	if w := m.written / recSize; w > n*12 {
		t.Errorf("%d records written for %d entries", w, n)
	}
}

// TestFalsePositives measures the filters: a digest never put should
// cost a read of the disk about 1% of the time, per run, whether the
// digests are spread evenly or are FNV-1a digests of inputs that differ
// only in their last bytes (as the content identities of rows that differ
// only in their last property are), and a digest put never misses.
func TestFalsePositives(t *testing.T) {
	fnvDigest := func(n uint64) Digest {
		h := fnv.New128a()
		fmt.Fprintf(h, `{"associations":[],"properties":{"name":"W","quantity":"%d"}}`, n)
		var d Digest
		h.Sum(d[:0])
		return d
	}
	for name, digest := range map[string]func(uint64) Digest{"spread": digest, "FNV-1a, last bytes differ": fnvDigest} {
		t.Run(name, func(t *testing.T) {
			const n = 1 << 16
			m := New(t.TempDir(), n)
			defer m.Close()
			for i := range n {
				if err := m.Put(digest(uint64(i)), 1); err != nil {
					t.Fatal(err)
				}
			}
			if len(m.runs) != 1 {
				t.Fatalf("%d runs, want 1", len(m.runs))
			}
			fp := 0
			const probes = 100000
			for i := range probes {
				if m.runs[0].mayHave(digest(n + uint64(i))) {
					fp++
				}
			}
			if rate := float64(fp) / probes; rate > 0.02 {
				t.Errorf("false positive rate %.4f, want about 0.01", rate)
			}
			for i := range n { // and no false negative
				if !m.runs[0].mayHave(digest(uint64(i))) {
					t.Fatalf("digest %d put but not in the filter", i)
				}
			}
		})
	}
}

// TestBrokenByTheDisk checks that a Map whose runs cannot be written
// returns the error, and the same error on every later call.
func TestBrokenByTheDisk(t *testing.T) {
	m := New(filepath.Join(t.TempDir(), "missing"), 3)
	var err error
	for i := range 3 {
		if err = m.Put(digest(uint64(i)), 1); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("Put into a missing directory succeeded")
	}
	if _, _, err2 := m.Get(digest(0)); err2 != err {
		t.Fatalf("Get after the error = %v, want %v", err2, err)
	}
	if err2 := m.Put(digest(9), 1); err2 != err {
		t.Fatalf("Put after the error = %v, want %v", err2, err)
	}
	if err2 := m.Close(); err2 != err {
		t.Fatalf("Close = %v, want %v", err2, err)
	}
}

// TestShortRunIsAnError: a run's file that holds fewer records than its
// count (cut short under the Map) makes the merge that reads it fail,
// never end early and lose the records not read.
func TestShortRunIsAnError(t *testing.T) {
	m := New(t.TempDir(), 100)
	defer m.Close()
	for i := range 100 {
		if err := m.Put(digest(uint64(i)), 1); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.runs) != 1 {
		t.Fatalf("%d runs, want 1", len(m.runs))
	}
	if err := m.runs[0].f.Truncate(50 * recSize); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 100; i < 200 && err == nil; i++ { // the second spill merges
		err = m.Put(digest(uint64(i)), 1)
	}
	if err == nil {
		t.Fatal("a merge of a run cut short succeeded")
	}
}

// FuzzAgainstMap replays a byte string as puts and gets on a Map that
// spills every two entries, against a Go map.
func FuzzAgainstMap(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 1, 1, 1, 0x81, 0x82})
	f.Add([]byte{7, 7, 7, 7, 0x87, 3, 0x83})
	f.Fuzz(func(t *testing.T, ops []byte) {
		m := New(t.TempDir(), 2)
		defer m.Close()
		model := map[Digest]uint64{}
		for i, op := range ops {
			var d Digest
			d[0], d[8] = op&0x3f, op&0x3f // few distinct digests: many updates
			if op&0x80 == 0 {
				if err := m.Put(d, uint64(i)); err != nil {
					t.Fatal(err)
				}
				model[d] = uint64(i)
				continue
			}
			got, ok, err := m.Get(d)
			want, in := model[d]
			if err != nil || ok != in || got != want {
				t.Fatalf("op %d: Get = %d, %v, %v; want %d, %v", i, got, ok, err, want, in)
			}
		}
	})
}
