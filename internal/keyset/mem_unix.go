//go:build unix

package keyset

import "syscall"

// allocate returns n zeroed bytes of anonymous memory outside the Go heap.
func allocate(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic("keyset: out of memory: " + err.Error())
	}
	return b
}

func deallocate(b []byte) { _ = syscall.Munmap(b) }
