package emulator_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

// TestWireFormatOverHTTP exercises the handler through a real HTTP server.
func TestWireFormatOverHTTP(t *testing.T) {
	srv := emulator.New(emulator.Config{Token: testToken, Seed: 3, DailyLimit: 1000})
	srv.SeedObjects("deals", "1001")
	hs := httptest.NewServer(srv)
	defer hs.Close()

	post := func(body string) (*http.Response, []byte) {
		t.Helper()
		return postOverHTTP(t, hs, strings.NewReader(body), int64(len(body)))
	}

	resp, raw := post(`{"inputs":[
		{"objectWriteTraceId":"ok","properties":{"name":"A & <B>","price":"10"},"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":20}]}]},
		{"objectWriteTraceId":"bad","properties":{"price":"ten"},"associations":[]}]}`)
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json;charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, h := range []string{"X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining", "X-HubSpot-RateLimit-Interval-Milliseconds", "X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if !json.Valid(raw) || strings.Contains(string(raw), "\n") || strings.Contains(string(raw), `\u003c`) {
		t.Errorf("body is not compact, unescaped JSON: %s", raw)
	}
	// The documented shape, field by field.
	var body struct {
		Status    string `json:"status"`
		NumErrors int    `json:"numErrors"`
		Results   []struct {
			ID                 string            `json:"id"`
			Properties         map[string]string `json:"properties"`
			CreatedAt          string            `json:"createdAt"`
			UpdatedAt          string            `json:"updatedAt"`
			Archived           *bool             `json:"archived"`
			ObjectWriteTraceID string            `json:"objectWriteTraceId"`
		} `json:"results"`
		Errors []struct {
			Status   string              `json:"status"`
			Category string              `json:"category"`
			Message  string              `json:"message"`
			Context  map[string][]string `json:"context"`
			Errors   []struct {
				Message string              `json:"message"`
				Code    string              `json:"code"`
				Context map[string][]string `json:"context"`
			} `json:"errors"`
		} `json:"errors"`
		StartedAt   string `json:"startedAt"`
		CompletedAt string `json:"completedAt"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "COMPLETE" || body.NumErrors != 1 || len(body.Results) != 1 || len(body.Errors) != 1 || body.StartedAt == "" || body.CompletedAt == "" {
		t.Fatalf("body: %s", raw)
	}
	res := body.Results[0]
	if !regexp.MustCompile(`^[0-9]{10,}$`).MatchString(res.ID) || res.Archived == nil || *res.Archived ||
		res.ObjectWriteTraceID != "ok" || res.Properties["name"] != "A & <B>" || res.Properties["hs_object_id"] != res.ID {
		t.Errorf("result: %+v", res)
	}
	e := body.Errors[0]
	if e.Status != "error" || e.Category != "VALIDATION_ERROR" || e.Context["objectWriteTraceId"][0] != "bad" ||
		e.Errors[0].Code != emulator.CodeInvalidNumber || e.Errors[0].Context["propertyName"][0] != "price" {
		t.Errorf("error: %+v", e)
	}
	var embedded []map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(e.Message, "Property values were not valid: ")), &embedded); err != nil {
		t.Errorf("message does not embed a JSON list: %v: %s", err, e.Message)
	} else if embedded[0]["error"] != emulator.CodeInvalidNumber || embedded[0]["name"] != "price" || embedded[0]["isValid"] != false {
		t.Errorf("embedded: %v", embedded)
	}

	// A dropped connection reaches a real client as a transport error.
	srv.SetFaults(emulator.Faults{CommitThenDrop: 1})
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/crm/v3/objects/line_items/batch/create",
		strings.NewReader(`{"inputs":[{"properties":{"name":"dropped"},"associations":[]}]}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := hs.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped connection answered %d", resp.StatusCode)
	}
	if n := len(srv.LineItems()); n != 2 {
		t.Errorf("line items = %d, want 2 (the dropped batch committed)", n)
	}
}
