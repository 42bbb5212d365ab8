package emulator

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestIdleReset: a request that comes on a connection idle for the limit
// or longer, counted from the accept or from the last answer, is reset
// unread; one that comes sooner is served.
func TestIdleReset(t *testing.T) {
	tests := []struct {
		name   string
		waits  []time.Duration // clock advance before each request on one connection
		served []bool
	}{
		{"requests sooner than the limit", []time.Duration{0, 4 * time.Second, 4 * time.Second}, []bool{true, true, true}},
		{"reused at the limit", []time.Duration{0, 5 * time.Second}, []bool{true, false}},
		{"fresh connection idle from its accept", []time.Duration{5 * time.Second}, []bool{false}},
		{"fresh connection used just in time", []time.Duration{4 * time.Second, 4 * time.Second}, []bool{true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			now := time.Unix(1e9, 0)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			accepted, idle := make(chan struct{}, 1), make(chan struct{}, 1)
			ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("ok"))
			}))
			ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				switch s {
				case http.StateNew:
					accepted <- struct{}{}
				case http.StateIdle: // the answer is written, and its time taken
					idle <- struct{}{}
				}
			}
			ts.Listener = IdleReset(ts.Listener, 5*time.Second, clock)
			ts.Start()
			defer ts.Close()
			c, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			<-accepted
			r := bufio.NewReader(c)
			for i, wait := range tc.waits {
				mu.Lock()
				now = now.Add(wait)
				mu.Unlock()
				served := false
				_, err := c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"))
				if err == nil {
					var resp *http.Response
					if resp, err = http.ReadResponse(r, nil); err == nil {
						resp.Body.Close()
						served = resp.StatusCode == http.StatusOK
					}
				}
				if served != tc.served[i] {
					t.Fatalf("request %d after %v: served %v, want %v", i, wait, served, tc.served[i])
				}
				if !served && !errors.Is(err, syscall.ECONNRESET) {
					t.Fatalf("request %d: %v, want a connection reset", i, err)
				}
				if served {
					<-idle
				}
			}
		})
	}
}

// TestConnectDelay: the first request on each connection waits the delay
// once; a later request on the same connection does not.
func TestConnectDelay(t *testing.T) {
	var mu sync.Mutex
	var slept []time.Duration
	sleep := func(d time.Duration) { mu.Lock(); slept = append(slept, d); mu.Unlock() }
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	ts.Listener = ConnectDelay(ts.Listener, 150*time.Millisecond, sleep)
	ts.Start()
	defer ts.Close()
	client := ts.Client()
	get := func() {
		resp, err := client.Get(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get()
	get() // the same connection, kept alive
	client.Transport.(*http.Transport).CloseIdleConnections()
	get() // a new one
	mu.Lock()
	defer mu.Unlock()
	if want := []time.Duration{150 * time.Millisecond, 150 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Errorf("waits %v, want %v", slept, want)
	}
}
