package main

import (
	"net"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

// TestIdleConnectionsAreNotReusedIntoAReset runs the binary against a
// portal that resets a keep-alive connection idle for 7 s when the next
// request comes (a server's idle timer firing as the client reuses the
// connection). With --rate 1 the importer sends 10 batches, waits about
// 10 s for the rate window, and sends 10 more: had it reused the idle
// connections, the second wave would end in doubt. Every row must be
// created, exactly once.
func TestIdleConnectionsAreNotReusedIntoAReset(t *testing.T) {
	bin := buildBinary(t)
	p := newExternalPortalOn(t, 200, emulator.Config{RateMax: -1}, func(ln net.Listener) net.Listener {
		return emulator.IdleReset(ln, 7*time.Second, nil)
	})
	out, err := p.command(bin, "--rate", "1", "--batch-size", "10").CombinedOutput()
	if code := exitOf(err); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	if got := p.emu.Stats().Requests; got < 20 {
		t.Fatalf("the portal saw %d requests; the test needs two waves of 10", got)
	}
	p.checkExactlyOnce(t)
}
