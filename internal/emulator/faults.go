package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

var (
	defaultErrorStatuses      = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}
	defaultCommitThenStatuses = []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
)

// drawGatewayFault draws Faults.ErrorRate and, on a hit, the status to answer.
func (s *Server) drawGatewayFault() (status int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	if f.ErrorRate <= 0 || s.rng.Float64() >= f.ErrorRate {
		return 0, false
	}
	statuses := f.ErrorStatuses
	if len(statuses) == 0 {
		statuses = defaultErrorStatuses
	}
	s.stats.Faults++
	return statuses[s.rng.IntN(len(statuses))], true
}

// commitFault is what happens to a batch create after its commit.
type commitFault int

const (
	commitAnswer commitFault = iota // answer normally
	commitDrop                      // drop the connection
	commitError                     // answer with an error status
)

// drawCommitFault draws CommitThenDrop, then CommitThenErrorRate, for a
// batch create that committed line items.
func (s *Server) drawCommitFault() (commitFault, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	if f.CommitThenDrop > 0 && s.rng.Float64() < f.CommitThenDrop {
		s.stats.Faults++
		return commitDrop, 0
	}
	if f.CommitThenErrorRate > 0 && s.rng.Float64() < f.CommitThenErrorRate {
		statuses := f.CommitThenStatuses
		if len(statuses) == 0 {
			statuses = defaultCommitThenStatuses
		}
		s.stats.Faults++
		return commitError, statuses[s.rng.IntN(len(statuses))]
	}
	return commitAnswer, 0
}

// writeGatewayError answers status the way the edge in front of HubSpot
// does: 500 is HubSpot's own JSON "internal error"; other statuses are the
// CDN's HTML page, so clients must not assume every error body is JSON.
func (s *Server) writeGatewayError(w http.ResponseWriter, status int) {
	if status == http.StatusInternalServerError {
		s.writeError(w, status, apiError{Message: "internal error"})
		return
	}
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	body := fmt.Sprintf("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n", text, text)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// lateCommit draws Faults.LateCommitRate for a batch that writes (create,
// upsert, association create) and, when drawn, puts its processing off by
// Faults.LateCommit (30 s if unset). The wait is not cancelled with the
// request: HubSpot goes on with a batch whose client has stopped waiting.
func (s *Server) lateCommit() {
	s.mu.Lock()
	f := s.faults
	drawn := f.LateCommitRate > 0 && s.rng.Float64() < f.LateCommitRate
	if drawn {
		s.stats.Faults++
	}
	s.mu.Unlock()
	if !drawn {
		return
	}
	d := f.LateCommit
	if d <= 0 {
		d = 30 * time.Second
	}
	time.Sleep(d)
}

// rowErrorsAfterCommit draws Faults.CommitThenRowErrorRate for a batch
// create that created line items and, when drawn, answers some of its
// traced results (each with probability ½, at least one) with a per-input
// error of status "500" instead: the line items stay created.
func (s *Server) rowErrorsAfterCommit(out *batchOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.faults; f.CommitThenRowErrorRate <= 0 || s.rng.Float64() >= f.CommitThenRowErrorRate {
		return
	}
	var traced []int
	for i, c := range out.created {
		if c.in.traceID != "" {
			traced = append(traced, i)
		}
	}
	if len(traced) == 0 {
		return
	}
	pick := map[int]bool{traced[s.rng.IntN(len(traced))]: true}
	for _, i := range traced {
		if s.rng.IntN(2) == 0 {
			pick[i] = true
		}
	}
	kept := out.created[:0:0]
	for i, c := range out.created {
		if !pick[i] {
			kept = append(kept, c)
			continue
		}
		e := newStandardError("INTERNAL_ERROR", "internal error", map[string][]string{"objectWriteTraceId": {c.in.traceID}}, nil)
		e.Status = strconv.Itoa(http.StatusInternalServerError)
		out.errors = append(out.errors, e)
	}
	out.created = kept
	out.status = http.StatusMultiStatus
	s.stats.Faults++
}
