package command

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHTTPClientSpeaksHTTP1AndResumesTLS: against a server that offers
// HTTP/2, the importer's client speaks HTTP/1.1 (as it does to the
// emulator), and a new connection resumes the TLS session of the last.
func TestHTTPClientSpeaksHTTP1AndResumesTLS(t *testing.T) {
	type seen struct {
		proto   int
		resumed bool
	}
	got := make(chan seen, 2)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.ProtoMajor, r.TLS.DidResume}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	counter := &countingTransport{}
	client := newHTTPClient(Config{Workers: 4, Timeout: 0}, counter)
	tr := counter.next.(*http.Transport)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tr.TLSClientConfig.RootCAs = roots
	for i := range 2 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		s := <-got
		if s.proto != 1 {
			t.Errorf("request %d: HTTP/%d, want HTTP/1.1", i, s.proto)
		}
		if i == 1 && !s.resumed {
			t.Errorf("request %d on a new connection did not resume the TLS session", i)
		}
		tr.CloseIdleConnections() // the next request dials
	}
}
