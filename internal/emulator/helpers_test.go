package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

const testToken = "pat-na1-test"

// client sends requests to srv through its in-memory transport.
type client struct {
	t   *testing.T
	srv *emulator.Server
	hc  *http.Client
	tok string
}

func newClient(t *testing.T, cfg emulator.Config) *client {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	srv := emulator.New(cfg)
	return &client{t: t, srv: srv, hc: &http.Client{Transport: srv.Transport()}, tok: cfg.Token}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// postOverHTTP posts body to the batch-create endpoint of the real server
// hs with the given Content-Length (-1: none, the body goes chunked), and
// returns the answer with its body read.
func postOverHTTP(t *testing.T, hs *httptest.Server, body io.Reader, length int64) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, hs.URL+"/crm/v3/objects/line_items/batch/create", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

func (c *client) send(ctx context.Context, method, path string, body any, header map[string]string) (*response, error) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://api.hubapi.com"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			c.t.Fatalf("response is not JSON: %v: %s", err, raw)
		}
	}
	return r, nil
}

func (c *client) do(method, path string, body any) *response {
	c.t.Helper()
	r, err := c.send(context.Background(), method, path, body, nil)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (c *client) create(inputs ...map[string]any) *response {
	c.t.Helper()
	return c.do(http.MethodPost, "/crm/v3/objects/line_items/batch/create", map[string]any{"inputs": inputs})
}

// firstPage is the smallest search body: the spec requires after, and
// "0" asks for the first page.
func firstPage() map[string]any { return map[string]any{"after": "0"} }

func (c *client) search(body any) *response {
	c.t.Helper()
	return c.do(http.MethodPost, "/crm/v3/objects/line_items/search", body)
}

// input builds a batch create input; trace "" leaves objectWriteTraceId out.
func input(trace string, props map[string]string, assocs ...map[string]any) map[string]any {
	in := map[string]any{"properties": props, "associations": []map[string]any{}}
	if len(assocs) > 0 {
		in["associations"] = assocs
	}
	if trace != "" {
		in["objectWriteTraceId"] = trace
	}
	return in
}

func toDeal(id string) map[string]any {
	return assoc(id, emulator.CategoryHubSpotDefined, 20)
}

func assoc(id, category string, typeID int) map[string]any {
	return map[string]any{
		"to":    map[string]any{"id": id},
		"types": []map[string]any{{"associationCategory": category, "associationTypeId": typeID}},
	}
}

func wantStatus(t *testing.T, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.raw)
	}
}

// list returns body[key] as a list of objects.
func list(t *testing.T, body map[string]any, key string) []map[string]any {
	t.Helper()
	raw, ok := body[key].([]any)
	if !ok {
		t.Fatalf("%q is %T, not a list, in %v", key, body[key], body)
	}
	out := make([]map[string]any, len(raw))
	for i, e := range raw {
		out[i] = e.(map[string]any)
	}
	return out
}

// errorCodes returns the codes of errors[i].errors[*] of a 207, keyed by trace id.
func errorCodes(t *testing.T, body map[string]any) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, e := range list(t, body, "errors") {
		ctx := e["context"].(map[string]any)
		trace := ctx["objectWriteTraceId"].([]any)[0].(string)
		for _, d := range list(t, e, "errors") {
			out[trace] = append(out[trace], d["code"].(string))
		}
	}
	return out
}

func props(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func str(v any) string { return fmt.Sprint(v) }
