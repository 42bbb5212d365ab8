package emulator

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
)

// errDropped is returned by the in-memory transport when the handler drops
// the connection (panic(http.ErrAbortHandler)) before answering. It wraps
// io.ErrUnexpectedEOF, as a client reading a closed socket would see.
var errDropped = fmt.Errorf("emulator: server closed the connection before sending a response: %w", io.ErrUnexpectedEOF)

// Transport returns an http.RoundTripper that hands each request straight to
// s, in memory, with no sockets, so clients can be tested inside
// testing/synctest. It reads the request body in full, runs the handler in
// its own goroutine and returns:
//   - the request context's error as soon as the context is done, even while
//     the handler is still waiting (e.g. for Faults.Latency);
//   - an error wrapping io.ErrUnexpectedEOF when the handler drops the
//     connection;
//   - otherwise a complete *http.Response with status, headers and body.
func (s *Server) Transport() http.RoundTripper { return transport{s} }

type transport struct{ s *Server }

// RoundTrip implements http.RoundTripper.
func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("emulator: reading request body: %w", err)
		}
		body = b
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	sreq := req.Clone(ctx)
	sreq.Body = io.NopCloser(bytes.NewReader(body))
	sreq.ContentLength = int64(len(body))
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "192.0.2.1:49152"
	if sreq.Host == "" {
		sreq.Host = req.URL.Host
	}

	rec := httptest.NewRecorder()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					done <- errDropped
					return
				}
				done <- fmt.Errorf("emulator: handler panicked: %v", p)
				return
			}
			done <- nil
		}()
		t.s.ServeHTTP(rec, sreq)
	}()

	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
