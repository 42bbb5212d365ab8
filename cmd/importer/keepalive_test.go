package main

import (
	"net"
	"slices"
	"sync"
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
// created, exactly once, and the run must have paused for 7 s or more
// (else the test proves nothing).
func TestIdleConnectionsAreNotReusedIntoAReset(t *testing.T) {
	bin := buildBinary(t)
	heard := &arrivals{}
	p := newExternalPortalOn(t, 200, emulator.Config{RateMax: -1}, func(ln net.Listener) net.Listener {
		return &stampListener{Listener: emulator.IdleReset(ln, 7*time.Second, nil), a: heard}
	})
	out, err := p.command(bin, "--rate", "1", "--batch-size", "10").CombinedOutput()
	if code := exitOf(err); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	p.checkExactlyOnce(t)
	if gap := heard.longestGap(); gap < 7*time.Second {
		t.Fatalf("the longest pause between bytes reaching the portal was %v; the test needs one of 7 s or more", gap)
	}
}

// arrivals are the times bytes reached the server, on any connection.
type arrivals struct {
	mu    sync.Mutex
	times []time.Time
}

func (a *arrivals) add() { a.mu.Lock(); a.times = append(a.times, time.Now()); a.mu.Unlock() }

func (a *arrivals) longestGap() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	slices.SortFunc(a.times, time.Time.Compare) // reads on several connections append out of order
	var longest time.Duration
	for i := 1; i < len(a.times); i++ {
		longest = max(longest, a.times[i].Sub(a.times[i-1]))
	}
	return longest
}

// stampListener notes in a the time of every read that brings bytes.
type stampListener struct {
	net.Listener
	a *arrivals
}

func (l *stampListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stampConn{Conn: c, a: l.a}, nil
}

type stampConn struct {
	net.Conn
	a *arrivals
}

// CloseWrite passes the half-close on, as IdleReset's connection does.
func (c *stampConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *stampConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.a.add()
	}
	return n, err
}
