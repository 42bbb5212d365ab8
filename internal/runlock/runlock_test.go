package runlock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestOneHolderAtATime(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	first, err := Acquire(context.Background(), dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(context.Background(), dir, 0, 0)
	var he *HeldError
	if !errors.As(err, &he) || he.PID != os.Getpid() || he.Started.IsZero() || he.Dir != dir {
		t.Fatalf("second Acquire: %v (%+v), want a HeldError naming this process", err, he)
	}
	if msg := err.Error(); !strings.Contains(msg, "--wait-lock") || !strings.Contains(msg, dir) {
		t.Errorf("message %q does not say what to do", msg)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := Acquire(context.Background(), dir, 0, 0)
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	defer again.Release()
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, %v", fi, err)
	}
}

// TestWaitForTheHolder: with a wait, Acquire takes the lock once the
// holder lets go, or gives up when the wait is over; cancelling ends it.
func TestWaitForTheHolder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		held, err := Acquire(context.Background(), dir, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(2500*time.Millisecond, func() { held.Release() }) // between two polls
		start := time.Now()
		l, err := Acquire(context.Background(), dir, time.Minute, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 3*time.Second {
			t.Errorf("took the lock after %v, want 3s (the first poll after the release)", waited)
		}

		start = time.Now()
		var he *HeldError
		if _, err := Acquire(context.Background(), dir, 5*time.Second, time.Second); !errors.As(err, &he) {
			t.Fatalf("err = %v, want HeldError", err)
		}
		if waited := time.Since(start); waited != 5*time.Second {
			t.Errorf("gave up after %v, want 5s", waited)
		}

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(2*time.Second, cancel)
		if _, err := Acquire(ctx, dir, time.Hour, time.Second); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		l.Release()
	})
}
