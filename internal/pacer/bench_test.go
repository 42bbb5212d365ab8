package pacer

import (
	"context"
	"testing"

	"github.com/lineitems/importer/internal/hubspot"
)

// BenchmarkAcquireWithRoom: requests through a pacer with no limit (no cap,
// a portal that reports none: an emulator without a rate limit), whose
// window holds thousands of answered requests, as at hundreds of batches a
// second. Each admission once judged the odds over the whole window, and
// each answer sorted the round trips of the last 20 s anew: 93,000 rows/s
// into an unlimited emulator, against 246,000 without.
func BenchmarkAcquireWithRoom(b *testing.B) {
	b.Run("no limit", func(b *testing.B) { acquireWithRoom(b, Config{}) })
	// A limit far above the pace: each admission goes through the window
	// once (its exact pruning), and not through the odds.
	b.Run("a cap with room", func(b *testing.B) { acquireWithRoom(b, Config{Cap: 1 << 30}) })
}

func acquireWithRoom(b *testing.B, cfg Config) {
	p := New(cfg)
	ctx := context.Background()
	for range 5000 { // a window's worth of answered requests first
		release, err := p.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		release(hubspot.RateLimit{}, false, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		release, err := p.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		release(hubspot.RateLimit{}, false, 0)
	}
}
