package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

// serve posts body to path through srv's handler.
func serve(t testing.TB, srv *emulator.Server, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// TestManyLineItems stores more line items than fit in one storage chunk
// and checks that LineItems, the answers and searches see all of them.
func TestManyLineItems(t *testing.T) {
	srv := newBenchServer()
	bodies := benchBodies(250, 100)
	sent := map[string]map[string]string{} // trace id -> properties sent
	created := map[string]string{}         // trace id -> id answered
	for _, body := range bodies {
		var req struct {
			Inputs []struct {
				TraceID    string            `json:"objectWriteTraceId"`
				Properties map[string]string `json:"properties"`
			} `json:"inputs"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatal(err)
		}
		for _, in := range req.Inputs {
			sent[in.TraceID] = in.Properties
		}
		rec := serve(t, srv, "/crm/v3/objects/line_items/batch/create", body)
		if rec.Code != http.StatusCreated {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
		var resp struct {
			Results []struct {
				ID         string            `json:"id"`
				TraceID    string            `json:"objectWriteTraceId"`
				Properties map[string]string `json:"properties"`
			} `json:"results"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.Results {
			created[r.TraceID] = r.ID
			for k, v := range sent[r.TraceID] {
				if r.Properties[k] != v {
					t.Fatalf("result %s: %s = %q, sent %q", r.ID, k, r.Properties[k], v)
				}
			}
		}
	}
	items := srv.LineItems()
	if len(items) != 25000 || srv.LineItemCount() != 25000 || len(created) != 25000 {
		t.Fatalf("%d line items (count %d), %d created", len(items), srv.LineItemCount(), len(created))
	}
	var prev int64
	for _, it := range items {
		id, err := strconv.ParseInt(it.ID, 10, 64)
		if err != nil || id <= prev {
			t.Fatalf("id %s after %d", it.ID, prev)
		}
		prev = id
		if created[it.TraceID] != it.ID {
			t.Fatalf("item %s has trace id %q, answered as %s", it.ID, it.TraceID, created[it.TraceID])
		}
		want := sent[it.TraceID]
		if len(it.Properties) != len(want)+3 || it.Properties["hs_object_id"] != it.ID {
			t.Fatalf("item %s: properties %v, sent %v", it.ID, it.Properties, want)
		}
		for k, v := range want {
			if it.Properties[k] != v {
				t.Fatalf("item %s: %s = %q, sent %q", it.ID, k, it.Properties[k], v)
			}
		}
		if len(it.Associations) != 1 || it.Associations[0].ToType != "deals" || it.Associations[0].TypeID != 20 {
			t.Fatalf("item %s: associations %v", it.ID, it.Associations)
		}
	}
	if n := len(srv.PropertyValueCounts("hs_sku")); n != 25000 {
		t.Errorf("%d distinct SKUs, want 25000", n)
	}

	// Items on both sides of a chunk boundary (16,384) are found.
	rec := serve(t, srv, "/crm/v3/objects/line_items/search",
		[]byte(`{"filterGroups":[{"filters":[{"propertyName":"hs_sku","operator":"IN","values":["sku-0000001","sku-0016384","sku-0016385","sku-0025000"]}]}],"properties":["hs_sku"],"sorts":[{"propertyName":"hs_sku","direction":"DESCENDING"}],"after":"0"}`))
	var found struct {
		Total   int `json:"total"`
		Results []struct {
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		} `json:"results"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &found); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("search: %d %v %s", rec.Code, err, rec.Body.Bytes())
	}
	var skus []string
	for _, r := range found.Results {
		skus = append(skus, r.Properties["hs_sku"])
	}
	if found.Total != 4 || fmt.Sprint(skus) != "[SKU-0025000 SKU-0016385 SKU-0016384 SKU-0000001]" {
		t.Errorf("search found %d: %v", found.Total, skus)
	}
}

// TestConcurrentBatchesAndReads runs batch creates of many inputs next to
// searches, property changes and the read-only accessors, for the race
// detector, and checks that nothing is lost.
func TestConcurrentBatchesAndReads(t *testing.T) {
	srv := newBenchServer()
	bodies := benchBodies(40, 50)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(bodies); i += 4 {
				if rec := serve(t, srv, "/crm/v3/objects/line_items/batch/create", bodies[i]); rec.Code != http.StatusCreated {
					t.Errorf("status %d: %s", rec.Code, rec.Body.Bytes())
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			if rec := serve(t, srv, "/crm/v3/objects/line_items/search", []byte(`{"filterGroups":[{"filters":[{"propertyName":"hs_sku","operator":"HAS_PROPERTY"}]}],"sorts":["-price"],"query":"sku","after":"0"}`)); rec.Code != http.StatusOK {
				t.Errorf("search status %d: %s", rec.Code, rec.Body.Bytes())
			}
			srv.AddProperty(emulator.Property{Name: fmt.Sprint("custom_", i), Label: "x", Type: "string"})
			_ = srv.LineItems()
			_ = srv.PropertyValueCounts("name")
			_ = srv.LineItemCount()
		}
	})
	wg.Wait()
	if n := srv.LineItemCount(); n != 40*50 {
		t.Errorf("%d line items, want %d", n, 40*50)
	}
}

// TestBodyReading sends bodies without a Content-Length (chunked) and over
// the 16 MiB limit through a real HTTP server.
func TestBodyReading(t *testing.T) {
	srv := newBenchServer()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	post := func(body io.Reader, length int64) (int, string) {
		t.Helper()
		resp, raw := postOverHTTP(t, hs, body, length)
		return resp.StatusCode, string(raw)
	}
	body := benchBodies(1, 100)[0]
	if status, raw := post(io.MultiReader(bytes.NewReader(body[:10]), bytes.NewReader(body[10:])), -1); status != http.StatusCreated {
		t.Errorf("chunked body: %d %s", status, raw)
	}
	big := bytes.Repeat([]byte(" "), 16<<20)
	big = append(big, body...)
	if status, raw := post(bytes.NewReader(big), int64(len(big))); status != http.StatusRequestEntityTooLarge || !strings.Contains(raw, "HTTP 413 Request Entity Too Large") {
		t.Errorf("oversized body: %d %s", status, raw)
	}
	if status, raw := post(bytes.NewReader(big), -1); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized chunked body: %d %s", status, raw)
	}
	if n := srv.LineItemCount(); n != 100 {
		t.Errorf("%d line items, want 100", n)
	}
}
