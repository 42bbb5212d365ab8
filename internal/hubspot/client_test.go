package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func response(status int, body string, hdr map[string]string) *http.Response {
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

func TestParseResponse(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rateHdr := map[string]string{"X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "42",
		"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "249000"}
	cases := []struct {
		name       string
		status     int
		body       string
		hdr        map[string]string
		wantResult func(t *testing.T, r *BatchResponse)
		wantErr    func(t *testing.T, err error)
	}{
		{
			name: "201", status: 201, hdr: rateHdr,
			body: `{"status":"COMPLETE","results":[{"id":"5","objectWriteTraceId":"2","properties":{"name":"a"},"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","archived":false}],"startedAt":"2026-01-01T00:00:00Z","completedAt":"2026-01-01T00:00:00Z"}`,
			wantResult: func(t *testing.T, r *BatchResponse) {
				if len(r.Results) != 1 || r.Results[0].ID != "5" || r.Results[0].ObjectWriteTraceID != "2" {
					t.Errorf("results = %+v", r.Results)
				}
			},
		},
		{
			name: "207 with embedded property errors", status: 207,
			body: `{"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Some value was not one of the allowed options\",\"error\":\"INVALID_OPTION\",\"name\":\"recurringbillingfrequency\"}]","context":{"objectWriteTraceId":["3"]},"errors":[]}],"startedAt":"2026-01-01T00:00:00Z","completedAt":"2026-01-01T00:00:00Z"}`,
			wantResult: func(t *testing.T, r *BatchResponse) {
				if len(r.Errors) != 1 {
					t.Fatalf("errors = %+v", r.Errors)
				}
				e := r.Errors[0]
				if got := e.TraceIDs(); len(got) != 1 || got[0] != "3" {
					t.Errorf("trace ids = %v", got)
				}
				if e.Code() != "INVALID_OPTION" {
					t.Errorf("code = %q", e.Code())
				}
				if m := e.ReadableMessage(); m != "recurringbillingfrequency: Some value was not one of the allowed options" {
					t.Errorf("message = %q", m)
				}
			},
		},
		{
			name: "401", status: 401,
			body: `{"status":"error","message":"Authentication credentials not found.","correlationId":"c1","category":"INVALID_AUTHENTICATION"}`,
			wantErr: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Category != "INVALID_AUTHENTICATION" || ae.CorrelationID != "c1" {
					t.Errorf("err = %#v", err)
				}
			},
		},
		{
			name: "403 missing scopes", status: 403,
			body: `{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"c2","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.line_items.write"]}}],"category":"MISSING_SCOPES"}`,
			wantErr: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || len(ae.MissingScopes()) != 1 || ae.MissingScopes()[0] != "crm.objects.line_items.write" {
					t.Errorf("err = %#v", err)
				}
				if !strings.Contains(err.Error(), "crm.objects.line_items.write") {
					t.Errorf("message %q does not name the scope", err)
				}
			},
		},
		{
			name: "429 ten-secondly with Retry-After", status: 429, hdr: map[string]string{"Retry-After": "3", "X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Remaining": "0"},
			body: `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c3","policyName":"TEN_SECONDLY_ROLLING","groupName":"api"}`,
			wantErr: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.PolicyName != PolicyTenSecondly || ae.RetryAfter != 3*time.Second || ae.Category != "RATE_LIMIT" || !ae.Rate.Known || ae.Rate.Remaining != 0 {
					t.Errorf("err = %#v", err)
				}
			},
		},
		{
			name: "429 daily", status: 429,
			body: `{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c4","policyName":"DAILY","groupName":"api"}`,
			wantErr: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.PolicyName != PolicyDaily {
					t.Errorf("err = %#v", err)
				}
			},
		},
		{
			name: "502 with an HTML body", status: 502, body: "<html>Bad Gateway</html>",
			wantErr: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.StatusCode != 502 || ae.Message != "an HTML page from the gateway in front of HubSpot" {
					t.Errorf("err = %#v", err)
				}
			},
		},
		{
			name: "504 page with a title: the title, not the page", status: 504,
			body: "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body><center><h1>504 Gateway Time-out</h1></center><hr><center>cloudflare</center></body></html>",
			wantErr: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || err.Error() != "hubspot: 504 Gateway Timeout: an HTML page from the gateway in front of HubSpot (504 Gateway Time-out)" {
					t.Errorf("err = %v", err)
				}
			},
		},
		{
			name: "503 with plain text: its first line", status: 503, body: "upstream connect error or disconnect/reset before headers\nreset reason: overflow",
			wantErr: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Message != "upstream connect error or disconnect/reset before headers" {
					t.Errorf("err = %#v", err)
				}
			},
		},
		{
			name: "201 with a body that is not JSON", status: 201, body: "{truncated",
			wantErr: func(t *testing.T, err error) {
				var te *TransportError
				if !errors.As(err, &te) || !te.Sent {
					t.Errorf("err = %#v, want a TransportError with Sent", err)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out BatchResponse
			status, rate, err := parseResponse(response(tc.status, tc.body, tc.hdr), now, &out, 201, 207)
			if status != tc.status {
				t.Errorf("status = %d", status)
			}
			if tc.hdr != nil && tc.hdr["X-HubSpot-RateLimit-Max"] != "" && !rate.Known {
				t.Errorf("rate headers not read")
			}
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				tc.wantErr(t, err)
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			tc.wantResult(t, &out)
		})
	}
}

func TestParseRateLimit(t *testing.T) {
	h := http.Header{}
	h.Set("X-HubSpot-RateLimit-Max", "190")
	h.Set("X-HubSpot-RateLimit-Remaining", "17")
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
	h.Set("X-HubSpot-RateLimit-Daily", "1000000")
	h.Set("X-HubSpot-RateLimit-Daily-Remaining", "999")
	got := ParseRateLimit(h)
	want := RateLimit{Known: true, Max: 190, Remaining: 17, Interval: 10 * time.Second, DailyKnown: true, Daily: 1000000, DailyRemaining: 999}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if ParseRateLimit(http.Header{}).Known {
		t.Error("empty headers read as known")
	}
}

func TestTokenNeverPrints(t *testing.T) {
	tok := NewToken(" pat-na1-secret-value \n")
	if tok.Reveal() != "pat-na1-secret-value" {
		t.Fatalf("Reveal = %q", tok.Reveal())
	}
	js, _ := json.Marshal(struct{ T Token }{tok})
	type holder struct {
		name  string
		token Token
	}
	h := holder{"x", tok}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), string(js),
		fmt.Sprintf("%v %+v %#v", h, h, h), fmt.Sprintf("%+v", &h)} {
		if strings.Contains(s, "secret") {
			t.Errorf("token leaked: %s", s)
		}
	}
}

func TestValidateBaseURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://api.hubapi.com", true},
		{"https://api.hubapi.com/", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:1", true},
		{"http://[::1]:9", true},
		{"http://api.hubapi.com", false},
		{"http://10.0.0.1", false},
		{"ftp://x", false},
		{"https://", false},
	} {
		_, err := ValidateBaseURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestClientSendsAuthAndTellsSentFromUnsent(t *testing.T) {
	var gotAuth, gotCT string
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotCT = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		gotBody, _ = io.ReadAll(r.Body)
		if r.URL.Path != "/crm/v3/objects/line_items/batch/create" {
			t.Errorf("path = %s", r.URL.Path)
		}
		if strings.Contains(string(gotBody), "drop") {
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
			return
		}
		if strings.Contains(string(gotBody), "short") {
			// A 201 that declares more body than arrives before the drop.
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			io.WriteString(c, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"status\":\"COMPLETE\",\"results\":[")
			c.Close()
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"status":"COMPLETE","results":[{"id":"1","objectWriteTraceId":"1","properties":{}}]}`)
	}))
	defer srv.Close()
	c, err := NewClient(srv.Client(), srv.URL, NewToken("tok-123"), "test")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.BatchCreate(context.Background(), []byte(`{"inputs":[]}`))
	if err != nil || res.StatusCode != 201 || len(res.Results) != 1 {
		t.Fatalf("res = %+v, err = %v", res, err)
	}
	if gotAuth != "Bearer tok-123" || gotCT != "application/json" || string(gotBody) != `{"inputs":[]}` {
		t.Errorf("auth %q, content type %q, body %q", gotAuth, gotCT, gotBody)
	}

	_, err = c.BatchCreate(context.Background(), []byte(`{"drop":1}`))
	var te *TransportError
	if !errors.As(err, &te) || !te.Sent {
		t.Errorf("dropped after send: err = %v, want TransportError with Sent", err)
	}

	_, err = c.BatchCreate(context.Background(), []byte(`{"short":1}`))
	if !errors.As(err, &te) || !te.Sent {
		t.Errorf("answer cut short: err = %v, want TransportError with Sent", err)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c2, _ := NewClient(nil, "http://"+addr, NewToken("tok-123"), "")
	_, err = c2.BatchCreate(context.Background(), []byte(`{}`))
	if !errors.As(err, &te) || te.Sent {
		t.Errorf("connection refused: err = %v, want TransportError without Sent", err)
	}
	if strings.Contains(err.Error(), "tok-123") {
		t.Errorf("error reveals the token: %v", err)
	}
}

// TestClientTellsAFailedHandshakeFromASend: a connection reset during the
// TLS handshake, before any byte of the request was written, leaves the
// request unsent (safe to send again), though the error is a read error
// like one that comes after a send.
func TestClientTellsAFailedHandshakeFromASend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			// The ClientHello has come, so the dial is over; then a
			// reset, before the handshake's answer.
			_, _ = conn.Read(make([]byte, 1))
			_ = conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}()
	c, err := NewClient(&http.Client{}, "https://"+ln.Addr().String(), NewToken("tok"), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.BatchCreate(context.Background(), []byte(`{"inputs":[]}`))
	var te *TransportError
	if !errors.As(err, &te) || te.Sent {
		t.Fatalf("err = %v, want an unsent TransportError", err)
	}
}

func TestClientVerifiesTLSCertificates(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request reached a server whose certificate is not trusted")
	}))
	defer srv.Close()
	// A client that does not trust the test server's self-signed certificate,
	// as the importer's own client does not.
	c, err := NewClient(&http.Client{}, srv.URL, NewToken("tok"), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.BatchCreate(context.Background(), []byte(`{"inputs":[]}`))
	var te *TransportError
	if !errors.As(err, &te) || te.Sent || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want an unsent TransportError about the certificate", err)
	}
}

// TestAnswersOutliveTheirBuffers parses answers one after another, as the
// pooled body buffers get reused, and checks that what each parse returned
// (ids, trace ids, error messages) is unchanged by the later parses.
func TestAnswersOutliveTheirBuffers(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	created := func(id, trace string) string {
		return `{"status":"COMPLETE","results":[{"id":"` + id + `","objectWriteTraceId":"` + trace + `","properties":{}}],"startedAt":"x","completedAt":"y"}`
	}
	withErrors := func(trace, msg string) string {
		return `{"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"` + msg + `","context":{"objectWriteTraceId":["` + trace + `"]}}]}`
	}
	type kept struct {
		resp BatchResponse
		err  error
		want string
	}
	var all []kept
	for i := range 50 {
		id, trace, msg := fmt.Sprintf("%04d", i), fmt.Sprintf("%03d", i), fmt.Sprintf("message %03d", i)
		var body string
		status := 201
		switch i % 3 {
		case 0:
			body = created(id, trace)
		case 1:
			status, body = 207, withErrors(trace, msg)
		case 2:
			status, body = 502, "<html><head><title>gateway "+id+"</title></head></html>"
		}
		resp := response(status, body, nil)
		if i%2 == 0 {
			resp.ContentLength = int64(len(body)) // the path that reads a known length
		}
		var k kept
		_, _, k.err = parseResponse(resp, now, &k.resp, 201, 207)
		k.want = fmt.Sprint(k.resp, k.err)
		all = append(all, k)
	}
	for i, k := range all {
		if got := fmt.Sprint(k.resp, k.err); got != k.want {
			t.Errorf("answer %d changed after later answers: %s, was %s", i, got, k.want)
		}
		if i%3 == 0 && (len(k.resp.Results) != 1 || k.resp.Results[0].ID != fmt.Sprintf("%04d", i)) {
			t.Errorf("answer %d: results %+v", i, k.resp.Results)
		}
	}
}

// TestNothingBelowThePolicyResends: a POST is sent once per call. The
// request carries no GetBody, so neither net/http's HTTP/2 transport (after
// a RST_STREAM or GOAWAY) nor its redirect handling (307, 308) can send the
// body again on its own; a 307 comes back as an answer.
func TestNothingBelowThePolicyResends(t *testing.T) {
	// 307 and 308 would be followed with the body; 301, 302 and 303 as a
	// GET without it, whose answer would pass for the POST's.
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect,
		http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		t.Run(fmt.Sprint(status), func(t *testing.T) { nothingBelowThePolicyResends(t, status) })
	}
}

func nothingBelowThePolicyResends(t *testing.T, status int) {
	var creates, elsewhere int
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/crm/v3/objects/line_items/batch/create" {
			creates++
			http.Redirect(w, r, "/elsewhere", status)
			return
		}
		elsewhere++
		w.WriteHeader(201)
		io.WriteString(w, `{"status":"COMPLETE","results":[]}`)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	var getBody []bool
	hc := srv.Client()
	next := hc.Transport
	hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		getBody = append(getBody, r.GetBody != nil)
		resp, err := next.RoundTrip(r)
		if err == nil && resp.ProtoMajor != 2 {
			t.Errorf("answered over %s, want HTTP/2", resp.Proto)
		}
		return resp, err
	})
	c, err := NewClient(hc, srv.URL, NewToken("tok"), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.BatchCreate(context.Background(), []byte(`{"inputs":[]}`))
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != status {
		t.Fatalf("err = %v, want the %d as an *APIError", err, status)
	}
	if creates != 1 || elsewhere != 0 {
		t.Errorf("%d creates, %d requests elsewhere; want the body sent once, and the redirect not followed", creates, elsewhere)
	}
	if _, err := c.BatchRead(context.Background(), BatchReadRequest{Inputs: []ObjectID{{ID: "1"}}}); err == nil {
		t.Error("batch read of a server without the endpoint succeeded")
	}
	if len(getBody) != 2 || getBody[0] || getBody[1] {
		t.Errorf("GetBody set on requests: %v", getBody)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestFlexID: association answers may give record ids as strings or as
// numbers; both read the same.
func TestFlexID(t *testing.T) {
	var res AssociationResult
	body := `{"results":[{"fromObjectId":37400002002,"toObjectId":"1001"},{"fromObjectId":"7","toObjectId":12}]}`
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Results[0].FromObjectID != "37400002002" || res.Results[0].ToObjectID != "1001" || res.Results[1].ToObjectID != "12" {
		t.Errorf("results %+v", res.Results)
	}
	if err := json.Unmarshal([]byte(`{"results":[{"fromObjectId":true}]}`), &res); err == nil {
		t.Error("a boolean id was read")
	}
}

func TestDaily(t *testing.T) {
	spent := RateLimit{DailyKnown: true, Daily: 250000, DailyRemaining: 0}
	left := RateLimit{DailyKnown: true, Daily: 250000, DailyRemaining: 12}
	for _, tc := range []struct {
		name  string
		e     APIError
		daily bool
	}{
		{"policy DAILY", APIError{StatusCode: 429, PolicyName: PolicyDaily}, true},
		{"no policy, the day's requests used up", APIError{StatusCode: 429, Rate: spent}, true},
		{"no policy, requests left today", APIError{StatusCode: 429, Rate: left}, false},
		{"no policy, no daily headers", APIError{StatusCode: 429}, false},
		{"policy TEN_SECONDLY_ROLLING wins over the headers", APIError{StatusCode: 429, PolicyName: PolicyTenSecondly, Rate: spent}, false},
		{"not a 429", APIError{StatusCode: 503, Rate: spent}, false},
	} {
		if got := tc.e.Daily(); got != tc.daily {
			t.Errorf("%s: Daily() = %v, want %v", tc.name, got, tc.daily)
		}
		if got := tc.e.Lasting(); tc.e.StatusCode == 429 && got != tc.daily {
			t.Errorf("%s: Lasting() = %v, want %v", tc.name, got, tc.daily)
		}
	}
}

func TestLasting(t *testing.T) {
	for _, tc := range []struct {
		status  int
		policy  string
		lasting bool
	}{
		{400, "", true},
		{401, "", true},
		{403, "", true},
		{404, "", true},
		{409, "", true},
		{423, "", false},
		{429, PolicyTenSecondly, false},
		{429, PolicySecondly, false},
		{429, PolicyDaily, true},
		{500, "", false},
		{502, "", false},
		{504, "", false},
	} {
		e := &APIError{StatusCode: tc.status, PolicyName: tc.policy}
		if got := e.Lasting(); got != tc.lasting {
			t.Errorf("%d %s: Lasting() = %v, want %v", tc.status, tc.policy, got, tc.lasting)
		}
	}
}

// TestEverySuccessIsReadAsOne: a batch write answered with any 2xx, even one
// HubSpot does not send today, is read for its results: taken for a
// refusal, it would be sent again and create its rows twice.
func TestEverySuccessIsReadAsOne(t *testing.T) {
	const body = `{"status":"COMPLETE","results":[{"id":"501","properties":{"name":"a"},"objectWriteTraceId":"t1"}]}`
	for _, status := range []int{200, 201, 202, 203, 205, 206, 207, 208, 226, 299} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				io.WriteString(w, body)
			}))
			defer srv.Close()
			c, err := NewClient(srv.Client(), srv.URL, NewToken("tok"), "")
			if err != nil {
				t.Fatal(err)
			}
			req := []byte(`{"inputs":[{"properties":{"name":"a"},"objectWriteTraceId":"t1"}]}`)
			res, err := c.BatchCreate(context.Background(), req)
			if err != nil {
				t.Fatalf("BatchCreate: %v", err)
			}
			if res.StatusCode != status || len(res.Results) != 1 || res.Results[0].ID != "501" {
				t.Errorf("result = %d %+v", res.StatusCode, res.Results)
			}
			var up map[string]any
			if _, _, err := c.do(context.Background(), http.MethodPost, "/x", req, &up, batchOK...); err != nil {
				t.Errorf("batch write: %v", err)
			}
		})
	}
	for _, status := range []int{204, 205} {
		t.Run(fmt.Sprintf("%d without a body", status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
			defer srv.Close()
			c, _ := NewClient(srv.Client(), srv.URL, NewToken("tok"), "")
			_, err := c.BatchCreate(context.Background(), []byte(`{"inputs":[]}`))
			var te *TransportError
			if !errors.As(err, &te) || !te.Sent {
				t.Errorf("err = %#v, want a TransportError with Sent (HubSpot acted, its answer unread)", err)
			}
		})
	}
}
