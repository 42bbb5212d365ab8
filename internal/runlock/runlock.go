// Package runlock keeps two runs of the importer from writing to one state
// folder at once.
//
// [Acquire] takes an exclusive flock(2) on the file .lock in the folder and
// holds it until [Lock.Release] or the process ends (the kernel releases it
// even after a kill -9). The holder writes its pid and start time into the
// file, so that a run that finds the folder taken can say by whom.
package runlock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lineitems/importer/internal/durable"
)

// FileName is the lock file inside the folder.
const FileName = ".lock"

// Lock is a held lock. Release it once the run is over.
type Lock struct {
	f *os.File
}

// HeldError is returned by Acquire when another run holds the folder.
type HeldError struct {
	Dir     string
	PID     int       // 0 if the holder did not say
	Started time.Time // zero if the holder did not say
}

func (e *HeldError) Error() string {
	who := "another run"
	if e.PID > 0 {
		who = fmt.Sprintf("another run (pid %d", e.PID)
		if !e.Started.IsZero() {
			who += ", started " + e.Started.Local().Format(time.RFC3339)
		}
		who += ")"
	}
	return fmt.Sprintf("%s is using %s; two runs must not write to one folder. Wait for it to finish, or give --wait-lock DURATION to wait for it", who, e.Dir)
}

// ErrUnsupported is returned where the platform has no flock.
var ErrUnsupported = errors.New("runlock: file locks are not supported on this platform")

// Acquire locks dir (created with mode 0700 if missing). If another run
// holds it, Acquire waits up to wait for it, checking every poll, and then
// returns a *HeldError; with wait 0 it returns at once. It returns
// ctx.Err() if ctx ends first.
func Acquire(ctx context.Context, dir string, wait, poll time.Duration) (*Lock, error) {
	if err := durable.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if poll <= 0 {
		poll = time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			break
		}
		left := time.Until(deadline)
		if left <= 0 {
			held := holder(path)
			held.Dir = dir
			f.Close()
			return nil, held
		}
		t := time.NewTimer(min(poll, left))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	info := fmt.Sprintf("%d %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339Nano))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(info), 0)
	}
	return &Lock{f: f}, nil
}

// holder reads who holds the lock from the file.
func holder(path string) *HeldError {
	e := &HeldError{}
	b, err := os.ReadFile(path)
	if err != nil {
		return e
	}
	fields := strings.Fields(string(b))
	if len(fields) >= 1 {
		e.PID, _ = strconv.Atoi(fields[0])
	}
	if len(fields) >= 2 {
		e.Started, _ = time.Parse(time.RFC3339Nano, fields[1])
	}
	return e
}

// Release gives the folder up. Calling it again does nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}
