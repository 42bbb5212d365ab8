package rowstate

import (
	"errors"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/report"
)

// TestClose walks rows through histories of requests and checks what each
// verdict may record: only proof changes a row that may exist.
func TestClose(t *testing.T) {
	type step int
	const (
		resume step = iota
		notProcessed
		unclear
		inFlight // Begin with no answer yet
	)
	created := Verdict{Kind: Created, ID: "42"}
	failed := Verdict{Kind: Failed, Code: "INVALID_OPTION", Message: "bad"}
	absent := Verdict{Kind: Absent, Code: "CONFLICT", Message: "another record"}
	notSent := Verdict{Kind: NotSent, Message: "the run stopped"}
	doubt := Verdict{Kind: Doubt, Code: "HTTP_502", Message: "no answer"}
	unlinked := Verdict{Kind: Unlinked, ID: "42", Code: "ASSOCIATION_FAILED", Message: "upserted, association refused"}
	cases := []struct {
		name     string
		history  []step
		v        Verdict
		status   report.Status
		code     string
		mayExist bool
		// byThisRun: a request of this run may have created the row, so a
		// line item found by its key is not known to be an earlier one.
		byThisRun bool
	}{
		{"never sent, failed before sending", nil, failed, report.Failed, "INVALID_OPTION", false, false},
		{"never sent, run stops", nil, notSent, report.NotSent, report.CodeNotSent, false, false},
		{"429 only, run stops", []step{notProcessed, notProcessed}, notSent, report.NotSent, report.CodeNotSent, false, false},
		{"429 only, attempts used up", []step{notProcessed, notProcessed}, Verdict{Kind: NotSent, Code: "RATE_LIMIT", Message: "gave up"}, report.NotSent, "RATE_LIMIT", false, false},
		{"rejected by HubSpot", []step{notProcessed}, failed, report.Failed, "INVALID_OPTION", false, false},
		{"created", []step{notProcessed}, created, report.Created, "", false, false},
		{"502, then the run stops", []step{unclear}, notSent, report.InDoubt, "NO_ANSWER", true, true},
		{"502, then 429s until attempts run out", []step{unclear, notProcessed, notProcessed}, failed, report.InDoubt, "INVALID_OPTION", true, true},
		{"502, then a per-row error on the resend", []step{unclear, notProcessed}, failed, report.InDoubt, "INVALID_OPTION", true, true},
		{"502, then created", []step{unclear, notProcessed}, created, report.Created, "", true, true},
		{"502, then proven absent", []step{unclear, notProcessed}, absent, report.Failed, "CONFLICT", true, true},
		{"resumed in doubt, run stops before the lookup", []step{resume}, notSent, report.InDoubt, "NO_ANSWER", true, false},
		{"resumed in doubt, failed before sending", []step{resume}, failed, report.InDoubt, "INVALID_OPTION", true, false},
		{"a request in flight when the run stops", []step{inFlight}, notSent, report.InDoubt, "NO_ANSWER", true, true},
		{"a request in flight, failed", []step{inFlight}, failed, report.InDoubt, "INVALID_OPTION", true, true},
		{"no answer", []step{unclear}, doubt, report.InDoubt, "HTTP_502", true, true},
		{"upserted, association refused", []step{notProcessed}, unlinked, report.Failed, "ASSOCIATION_FAILED", false, false},
		{"502, upserted on the resend, association refused", []step{unclear, notProcessed}, unlinked, report.Failed, "ASSOCIATION_FAILED", true, true},
		{"resumed in doubt, the resend refused, then found", []step{resume, notProcessed}, created, report.Created, "", true, false},
		{"resumed in doubt, the resend unclear, then found", []step{resume, unclear}, created, report.Created, "", true, true},
		{"a request never answered, then resent and refused", []step{inFlight, notProcessed}, failed, report.InDoubt, "INVALID_OPTION", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r Row
			for _, s := range tc.history {
				switch s {
				case resume:
					r.Resume()
				case inFlight:
					if err := r.Begin(); err != nil {
						t.Fatal(err)
					}
				default:
					if err := r.Begin(); err != nil {
						t.Fatal(err)
					}
					if s == unclear {
						r.Unclear()
					} else {
						r.NotProcessed()
					}
				}
			}
			if r.MayExist() != tc.mayExist {
				t.Fatalf("MayExist = %v, want %v", r.MayExist(), tc.mayExist)
			}
			if r.MayExistByThisRun() != tc.byThisRun {
				t.Fatalf("MayExistByThisRun = %v, want %v", r.MayExistByThisRun(), tc.byThisRun)
			}
			if got := r.Outcome(tc.v); got.Status != tc.status {
				t.Errorf("Outcome = %+v before Close", got)
			}
			o, err := r.Close(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != tc.status || o.Code != tc.code {
				t.Fatalf("outcome %+v, want %v %s", o, tc.status, tc.code)
			}
			if tc.v.Kind == Created && o.ID != tc.v.ID {
				t.Errorf("id %q, want %q", o.ID, tc.v.ID)
			}
			if o.Status == report.InDoubt && tc.v.Message != "" && !strings.Contains(o.Message, tc.v.Message) {
				t.Errorf("message %q lost the reason %q", o.Message, tc.v.Message)
			}
			if r.State() != Closed {
				t.Errorf("state %v after Close", r.State())
			}
		})
	}
}

// TestClosedIsFinal: a row is recorded once; nothing sends or closes it again.
func TestClosedIsFinal(t *testing.T) {
	var r Row
	if _, err := r.Close(Verdict{Kind: Created, ID: "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Close(Verdict{Kind: Created, ID: "2"}); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if err := r.Begin(); !errors.Is(err, ErrClosed) {
		t.Errorf("Begin after Close: %v, want ErrClosed", err)
	}
	var s Row
	if _, err := s.Close(Verdict{Kind: Created}); err == nil {
		t.Error("created without an id was accepted")
	}
	if s.State() == Closed {
		t.Error("a refused Close closed the row")
	}
}

// FuzzRow drives a row through arbitrary histories: once a request may
// have been processed, nothing but proof (created, absent) records it as
// anything but in doubt; and the row tells whether a request of this run
// may have been (not an earlier run's doubt).
func FuzzRow(f *testing.F) {
	f.Add([]byte{1, 2, 0, 3}, uint8(1))
	f.Add([]byte{0, 0}, uint8(3))
	f.Fuzz(func(t *testing.T, history []byte, kind uint8) {
		var r Row
		processed, byThisRun := false, false
		for _, h := range history {
			switch h % 4 {
			case 0: // a 429, 423 or 503: HubSpot did nothing
				_ = r.Begin()
				r.NotProcessed()
			case 1: // a 502 or a timeout
				_ = r.Begin()
				r.Unclear()
				processed, byThisRun = true, true
			case 2: // an earlier run's doubt
				r.Resume()
				processed = true
			case 3: // a request out when the verdict comes
				_ = r.Begin()
				processed, byThisRun = true, true
			}
			if r.MayExistByThisRun() != byThisRun || byThisRun && !r.MayExist() {
				t.Fatalf("history %v: MayExistByThisRun %v, MayExist %v; want %v", history, r.MayExistByThisRun(), r.MayExist(), byThisRun)
			}
			if h%4 != 3 && r.State() == InFlight {
				t.Fatalf("history %v: still in flight after an answer", history)
			}
		}
		v := Verdict{Kind: Kind(kind%5) + 1, ID: "7", Code: "C", Message: "m"}
		o, err := r.Close(v)
		if err != nil {
			t.Fatal(err)
		}
		if processed && o.Status != report.InDoubt && v.Kind != Created && v.Kind != Absent {
			t.Fatalf("history %v, verdict %+v: recorded %+v for a row that may exist", history, v, o)
		}
		if o.Status == report.NotSent && r.mayExist.Load() {
			t.Fatalf("a row that may exist was recorded not sent")
		}
	})
}
