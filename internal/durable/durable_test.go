package durable

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMkdirAll(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		ok        bool
	}{
		{"nested, all new", filepath.Join(root, "a", "b", "c"), true},
		{"one new under an existing one", filepath.Join(root, "a", "b", "d"), true},
		{"existing", filepath.Join(root, "a"), true},
		{"under a file", filepath.Join(file, "x"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := MkdirAll(tc.dir, 0o700)
			if (err == nil) != tc.ok {
				t.Fatalf("MkdirAll(%s) = %v, want ok %v", tc.dir, err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if st, err := os.Stat(tc.dir); err != nil || !st.IsDir() {
				t.Fatalf("after MkdirAll: %v, %v", st, err)
			}
		})
	}
}

func TestSyncDir(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("SyncDir of a missing folder succeeded")
	}
}
