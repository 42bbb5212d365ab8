//go:build !unix

package keyset

// allocate returns n zeroed bytes. Without mmap they come from the Go heap.
func allocate(n int) []byte { return make([]byte, n) }

func deallocate([]byte) {}
