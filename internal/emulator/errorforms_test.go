package emulator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

// TestErrorForms: each form of an error's context, in a 207's per-input
// errors and in their details, with the rest of the answer and its
// Content-Length right; a dropped connection is still dropped.
func TestErrorForms(t *testing.T) {
	for _, tc := range []struct {
		form        string
		member      func(ctx any, name string) string // a context member's values as text
		subCategory bool
	}{
		{"", func(ctx any, name string) string { return jsonText(ctx.(map[string]any)[name]) }, false},
		{emulator.ErrorFormText, func(ctx any, name string) string {
			s := ctx.(string)
			i := strings.Index(s, name+"=[")
			if i < 0 {
				return ""
			}
			v, _, _ := strings.Cut(s[i+len(name)+2:], "]")
			return `["` + v + `"]`
		}, false},
		{emulator.ErrorFormLoose, func(ctx any, name string) string {
			return "[" + jsonText(ctx.(map[string]any)[name]) + "]"
		}, true},
	} {
		t.Run(strconv.Quote(tc.form), func(t *testing.T) {
			c := uniqueClient(t, emulator.Config{ConflictPerRow: true, ErrorForms: tc.form, Seed: 5})
			wantStatus(t, c.create(input("s1", props("external_id", "EXT-1"))), http.StatusCreated)
			r := c.create(input("7", props("external_id", "EXT-1")), input("8", props("external_id", "NEW-1")),
				input("9", props("price", "abc")))
			wantStatus(t, r, http.StatusMultiStatus)
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(r.raw)) {
				t.Errorf("Content-Length %s for a body of %d bytes", got, len(r.raw))
			}
			var body struct {
				Results []map[string]any `json:"results"`
				Errors  []map[string]any `json:"errors"`
			}
			dec := json.NewDecoder(bytes.NewReader(r.raw))
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil || len(body.Results) != 1 || len(body.Errors) != 2 {
				t.Fatalf("body %s: %v", r.raw, err)
			}
			for _, e := range body.Errors {
				trace := tc.member(e["context"], "objectWriteTraceId")
				want := map[any]string{"CONFLICT": `["7"]`, "VALIDATION_ERROR": `["9"]`}[e["category"]]
				if tc.form == emulator.ErrorFormLoose {
					want = strings.ReplaceAll(want, `"`, "") // an id alone, as a number
				}
				if trace != want {
					t.Errorf("error %v: objectWriteTraceId %s, want %s", e, trace, want)
				}
				if _, has := e["subCategory"]; has != tc.subCategory {
					t.Errorf("error %v: subCategory present %v, want %v", e, has, tc.subCategory)
				}
				if e["category"] == "VALIDATION_ERROR" {
					d := e["errors"].([]any)[0].(map[string]any)
					if got := tc.member(d["context"], "propertyName"); got != `["price"]` {
						t.Errorf("detail %v: propertyName %s", d, got)
					}
				}
			}

			// A key with a leading zero is no number: it stays text.
			r = c.do(http.MethodPost, readPath, byUnique("external_id", []string{"007"}))
			wantStatus(t, r, http.StatusMultiStatus)
			if got := tc.member(list(t, r.body, "errors")[0]["context"], "ids"); got != `["007"]` {
				t.Errorf("batch read of 007: ids %s in %s", got, r.raw)
			}

			c.srv.SetFaults(emulator.Faults{CommitThenDrop: 1})
			_, err := c.send(t.Context(), http.MethodPost, "/crm/v3/objects/line_items/batch/create",
				map[string]any{"inputs": []any{input("a", props("name", "x"))}}, nil)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("commit then drop: err = %v, want the connection dropped", err)
			}
		})
	}
}

// jsonText is v encoded as JSON.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
