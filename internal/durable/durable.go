// Package durable makes new directory entries survive a power loss: a
// file's fsync makes its contents durable, but its name is an entry in
// its directory, which has to be synced too.
package durable

import (
	"errors"
	"os"
	"path/filepath"
)

// SyncDir flushes dir's entries (names created, renamed or removed in it)
// to disk. It returns the error of opening or syncing dir.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// MkdirAll creates dir and any missing parents, as os.MkdirAll does with
// perm, and syncs the parent of each directory it created, so that none
// of them can vanish in a power loss after MkdirAll returns. An existing
// dir is left as it is (nothing is synced).
func MkdirAll(dir string, perm os.FileMode) error {
	dir = filepath.Clean(dir)
	var missing []string // dir and its missing parents, innermost first
	for p := dir; ; {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := SyncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}
