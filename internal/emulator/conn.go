package emulator

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// IdleReset wraps ln so that a connection which has been idle for at least
// idle when the next request's bytes arrive is reset instead of read: the
// request is dropped unread and the client sees "connection reset by peer"
// or "broken pipe" after it has written its request.
//
// It models the worst moment of a keep-alive race that every HTTP server
// and load balancer has: the server's idle timer fires (Go's
// ReadHeaderTimeout for a connection that never carried a request,
// Node's keepAliveTimeout, a proxy's idle timeout) just as the client
// reuses the connection. HubSpot does not document its idle timeout. A
// connection is idle from its accept, and from the end of each answer.
// A client that sends a batch create on such a connection cannot tell
// whether HubSpot acted on it, so the rows are in doubt; a client avoids
// the race by closing its idle connections first.
//
// It models plain HTTP/1.1 over TCP: ln must hand out *net.TCPConn for the
// reset (otherwise the connection is closed with a FIN). idle <= 0 returns
// ln unchanged. now is the clock (nil means time.Now).
func IdleReset(ln net.Listener, idle time.Duration, now func() time.Time) net.Listener {
	if idle <= 0 {
		return ln
	}
	if now == nil {
		now = time.Now
	}
	return &wrapListener{Listener: ln, wrap: func(c net.Conn) net.Conn {
		return &idleConn{Conn: c, idle: idle, now: now, last: now()}
	}}
}

// wrapListener hands out its listener's connections wrapped.
type wrapListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l *wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// idleConn is a connection whose idle time is measured from its accept and
// from its last write (an answer) until bytes arrive again.
type idleConn struct {
	net.Conn
	idle time.Duration
	now  func() time.Time

	mu      sync.Mutex
	last    time.Time // end of the last activity
	reading bool      // bytes of a request have come since the last write
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	c.mu.Lock()
	stale := !c.reading && c.now().Sub(c.last) >= c.idle
	c.reading = true
	c.mu.Unlock()
	if stale {
		if tc, ok := c.Conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with a reset, as a timed-out server does with unread data
		}
		c.Conn.Close()
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: syscall.ECONNRESET}
	}
	return n, err
}

// CloseWrite half-closes the connection, as net/http's server does before
// it closes a connection whose request it refused.
func (c *idleConn) CloseWrite() error { return closeWrite(c.Conn) }

func (c *idleConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.last, c.reading = c.now(), false
	c.mu.Unlock()
	return n, err
}

// ConnectDelay wraps ln so that the first bytes on each new connection
// reach the server d late: the round trips of a TCP and TLS handshake,
// which a request on a new connection pays and one on a kept-alive
// connection does not. The rate window counts a request when it reaches
// the server, so a client that times its requests from when it hands them
// to its HTTP transport sees requests on new connections counted d later
// than those on old ones. d <= 0 returns ln unchanged. sleep waits (nil
// means time.Sleep).
func ConnectDelay(ln net.Listener, d time.Duration, sleep func(time.Duration)) net.Listener {
	if d <= 0 {
		return ln
	}
	if sleep == nil {
		sleep = time.Sleep
	}
	return &wrapListener{Listener: ln, wrap: func(c net.Conn) net.Conn {
		return &delayConn{Conn: c, d: d, sleep: sleep}
	}}
}

// delayConn holds the first bytes that come on it.
type delayConn struct {
	net.Conn
	d     time.Duration
	sleep func(time.Duration)
	once  sync.Once
}

func (c *delayConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.once.Do(func() { c.sleep(c.d) })
	}
	return n, err
}

// CloseWrite half-closes the connection.
func (c *delayConn) CloseWrite() error { return closeWrite(c.Conn) }

// closeWrite half-closes c if it can.
func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
