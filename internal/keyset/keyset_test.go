package keyset

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// check compares s with the model m, both ways.
func check(t *testing.T, s *Set, m map[string]string, absent []string) {
	t.Helper()
	if s.Len() != len(m) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(m))
	}
	for v, want := range m {
		if got, ok := s.Get(v); !ok || got != want {
			t.Fatalf("Get(%q) = %q, %v; want %q, true", v, got, ok, want)
		}
	}
	for _, v := range absent {
		if _, in := m[v]; in {
			continue
		}
		if got, ok := s.Get(v); ok {
			t.Fatalf("Get(%q) = %q, true for a value never added", v, got)
		}
	}
	seen := map[string]string{}
	s.All(func(v string, owner []byte) bool {
		if _, twice := seen[v]; twice {
			t.Fatalf("All yields %q twice", v)
		}
		seen[strings.Clone(v)] = string(owner)
		return true
	})
	if !maps.Equal(seen, m) {
		t.Fatalf("All yields %d entries that differ from the %d added", len(seen), len(m))
	}
}

func TestZeroSet(t *testing.T) {
	var s Set
	if _, ok := s.Get("x"); ok || s.Len() != 0 {
		t.Fatal("the zero Set is not empty")
	}
	s.Close() // a no-op
}

func TestAgainstMap(t *testing.T) {
	var s Set
	defer s.Close()
	m := map[string]string{}
	r := rand.New(rand.NewPCG(1, 2))
	var absent []string
	for i := range 200000 {
		v := fmt.Sprintf("SKU-%07d", r.IntN(150000))
		owner := fmt.Sprint(i)
		s.Add(v, owner)
		m[v] = owner
		if i%20000 == 0 {
			absent = append(absent, fmt.Sprintf("SKU-%07d", 150000+i), v+"x", strings.ToLower(v))
			check(t, &s, m, absent)
		}
	}
	// Empty strings, and strings that share prefixes with others.
	for _, v := range []string{"", "S", "SKU-", "SKU-0000001\x00"} {
		s.Add(v, "o"+v)
		m[v] = "o" + v
	}
	check(t, &s, m, absent)
	// Owners changed in place.
	n := 0
	for v, owner := range m {
		if n++; n > 1000 {
			break
		}
		if !s.Update(v, func(o []byte) { o[0] = 'X' }) {
			t.Fatalf("Update(%q) did not find it", v)
		}
		m[v] = "X" + owner[1:]
	}
	if s.Update("SKU-9999999", func([]byte) { t.Fatal("f called for a value never added") }) {
		t.Fatal("Update found a value never added")
	}
	check(t, &s, m, absent)
}

func TestLargeEntries(t *testing.T) {
	var s Set
	defer s.Close()
	m := map[string]string{}
	for i := range 5 {
		v := strings.Repeat(string(rune('a'+i)), chunkSize+i*1000) // larger than a chunk
		s.Add(v, fmt.Sprint(i))
		m[v] = fmt.Sprint(i)
		s.Add(fmt.Sprint("small", i), "s") // and small ones between them
		m[fmt.Sprint("small", i)] = "s"
	}
	check(t, &s, m, []string{strings.Repeat("a", chunkSize)})
}

func TestOwnerOutlivesClose(t *testing.T) {
	var s Set
	s.Add("k", "owner")
	o, _ := s.Get("k")
	s.Close()
	if o != "owner" || s.Len() != 0 {
		t.Fatalf("owner %q after Close, Len %d", o, s.Len())
	}
	if _, ok := s.Get("k"); ok {
		t.Fatal("Get finds a value after Close")
	}
	s.Add("k2", "o2") // usable again
	if o, ok := s.Get("k2"); !ok || o != "o2" {
		t.Fatal("Add after Close")
	}
	s.Close()
}

// TestMemoryIsReleased: Close gives a set's memory back, and so does
// dropping a set without Close, once the collector finds it unreachable.
func TestMemoryIsReleased(t *testing.T) {
	before := held.Load()
	fill := func(s *Set) {
		for i := range 20000 {
			s.Add(fmt.Sprint(i), "o")
		}
	}
	var s Set
	fill(&s)
	if held.Load()-before < chunkSize {
		t.Fatalf("a set of 20,000 entries holds %d bytes", held.Load()-before)
	}
	s.Close()
	if got := held.Load() - before; got != 0 {
		t.Fatalf("%d bytes held after Close", got)
	}

	for range 10 {
		fill(new(Set))
	}
	// Cleanups run on a goroutine of their own after a collection.
	for i := 0; held.Load() != before && i < 1000; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if got := held.Load() - before; got != 0 {
		t.Fatalf("%d bytes still held by unreachable sets", got)
	}
}

func FuzzSet(f *testing.F) {
	f.Add([]byte("a\x00b\x01a\x02"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		var s Set
		defer s.Close()
		m := map[string]string{}
		var seen []string
		for i := 0; i+1 < len(ops); i += 2 {
			v := strings.Repeat(string(rune('a'+ops[i]%5)), int(ops[i+1]%7))
			owner := fmt.Sprint(i)
			s.Add(v, owner)
			m[v] = owner
			seen = append(seen, v, v+"z")
		}
		check(t, &s, m, seen)
	})
}

// TestSameOwnerAgainTakesNoMemory: adding a value again with the owner it
// has (a row checked twice) stores nothing more; another owner replaces it.
func TestSameOwnerAgainTakesNoMemory(t *testing.T) {
	var s Set
	defer s.Close()
	s.Add("k", "1")
	used := len(s.chunks[0])
	s.Add("k", "1")
	if len(s.chunks[0]) != used || s.Len() != 1 {
		t.Fatalf("adding the same entry again used %d more bytes", len(s.chunks[0])-used)
	}
	s.Add("k", "2")
	if o, _ := s.Get("k"); o != "2" || s.Len() != 1 {
		t.Fatalf("owner %q, Len %d after a new owner", o, s.Len())
	}
}

// lookupOnce makes a Set that only Get uses last.
//
//go:noinline
func lookupOnce(v, owner string) (string, bool) {
	s := new(Set)
	s.Add(v, owner)
	return s.Get(v) // the last use of s
}

// TestGetOnAnOtherwiseDeadSet reads from sets that become unreachable
// during Get, with collections running all the while: Get must keep its
// Set (and so its memory) alive until it has copied the owner. Without
// that, the copy of a large owner can meet the cleanup's munmap and fault.
// The race is a matter of timing: this stress test catches its return in
// some runs, not in every one (a program doing 200 rounds of 64 MiB
// faulted in one run of three; that takes 20 s, too long for a test).
func TestGetOnAnOtherwiseDeadSet(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	big := strings.Repeat("o", 16<<20)
	for i := range 40 {
		if o, ok := lookupOnce(fmt.Sprint("key", i), big); !ok || o != big {
			t.Fatal("owner lost")
		}
	}
	close(stop)
	<-done
}
