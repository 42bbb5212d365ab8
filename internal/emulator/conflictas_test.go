package emulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

// TestConflictAs: each form of a unique-value conflict, for the whole
// batch and per input; none writes the conflicting input.
func TestConflictAs(t *testing.T) {
	for _, tc := range []struct {
		form     string
		status   int    // for the whole batch
		category string // of the answer, and of the input's error
		says     string // in the message
	}{
		{emulator.ConflictCategory, http.StatusConflict, "CONFLICT", "Line item already exists. Existing ID: "},
		{emulator.ConflictAlreadyExists, http.StatusConflict, "OBJECT_ALREADY_EXISTS", "Line item already exists. Existing ID: "},
		{emulator.ConflictValidation, http.StatusBadRequest, "VALIDATION_ERROR", "already has that value (EXT-1)"},
	} {
		for _, perRow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%q per row=%v", tc.form, perRow), func(t *testing.T) {
				c := uniqueClient(t, emulator.Config{ConflictPerRow: perRow, ConflictAs: tc.form, Seed: 5})
				wantStatus(t, c.create(input("s1", props("external_id", "EXT-1"))), http.StatusCreated)
				owner := ownerOf(t, c, "EXT-1")
				r := c.create(input("a", props("external_id", "EXT-1")), input("b", props("external_id", "NEW-1")))
				e := r.body
				if perRow {
					wantStatus(t, r, http.StatusMultiStatus)
					errs := list(t, r.body, "errors")
					if len(errs) != 1 || fmt.Sprint(errs[0]["context"].(map[string]any)["objectWriteTraceId"]) != "[a]" {
						t.Fatalf("errors %v, want one, of input a", errs)
					}
					e = errs[0]
					if c.srv.LineItemCount() != 2 {
						t.Errorf("%d line items, want the stored one and input b", c.srv.LineItemCount())
					}
				} else {
					wantStatus(t, r, tc.status)
					if c.srv.LineItemCount() != 1 {
						t.Errorf("a whole-batch %d created %d line items", tc.status, c.srv.LineItemCount()-1)
					}
				}
				if e["category"] != tc.category || !strings.Contains(str(e["message"]), tc.says) {
					t.Errorf("category %v, message %q; want %s saying %q", e["category"], e["message"], tc.category, tc.says)
				}
				switch tc.form {
				case emulator.ConflictValidation:
					if !strings.HasPrefix(str(e["message"]), "Property values were not valid: ") || strings.Contains(str(e["message"]), owner) {
						t.Errorf("message %q: want an embedded property error that names no record", e["message"])
					}
				case emulator.ConflictAlreadyExists:
					d := list(t, e, "errors")
					if len(d) != 1 || d[0]["in"] != "external_id" || !strings.Contains(str(d[0]["message"]), "already exists. Existing ID: "+owner) {
						t.Errorf("details %v: want one naming external_id and line item %s", d, owner)
					}
				}
			})
		}
	}
}

// TestCreateOmitsTraceID: results carry no objectWriteTraceId, but their
// properties, by which a client can match them; a 207's errors still name
// their inputs' trace ids.
func TestCreateOmitsTraceID(t *testing.T) {
	c := uniqueClient(t, emulator.Config{CreateOmitsTraceID: true, ConflictPerRow: true, Seed: 6})
	wantStatus(t, c.create(input("s1", props("external_id", "EXT-1"))), http.StatusCreated)
	r := c.create(input("a", props("external_id", "NEW-1")), input("b", props("external_id", "EXT-1")))
	wantStatus(t, r, http.StatusMultiStatus)
	res := list(t, r.body, "results")
	if len(res) != 1 {
		t.Fatalf("results %v", res)
	}
	if _, ok := res[0]["objectWriteTraceId"]; ok || res[0]["properties"].(map[string]any)["external_id"] != "NEW-1" {
		t.Errorf("result %v: want no trace id, and its external_id", res[0])
	}
	errs := list(t, r.body, "errors")
	if len(errs) != 1 || fmt.Sprint(errs[0]["context"].(map[string]any)["objectWriteTraceId"]) != "[b]" {
		t.Errorf("errors %v: want input b's, by its trace id", errs)
	}
}

// TestEchoNormalized: with the switch, a create result echoes numbers in
// their shortest decimal form and calendar dates as epoch milliseconds;
// strings, and the values stored, stay as sent. Without it, every value
// is echoed as sent.
func TestEchoNormalized(t *testing.T) {
	sent := props("name", "007", "price", "0012.500", "quantity", "-0.0", "hs_recurring_billing_start_date", "2026-04-04")
	for _, tc := range []struct {
		normalize bool
		want      map[string]string
	}{
		{false, map[string]string{"name": "007", "price": "0012.500", "quantity": "-0.0", "hs_recurring_billing_start_date": "2026-04-04"}},
		{true, map[string]string{"name": "007", "price": "12.5", "quantity": "0", "hs_recurring_billing_start_date": "1775260800000"}},
	} {
		c := newClient(t, emulator.Config{EchoNormalized: tc.normalize, Seed: 7})
		r := c.create(input("a", sent))
		wantStatus(t, r, http.StatusCreated)
		echoed := list(t, r.body, "results")[0]["properties"].(map[string]any)
		for name, want := range tc.want {
			if echoed[name] != want {
				t.Errorf("normalize %v: %s echoed as %v, want %q", tc.normalize, name, echoed[name], want)
			}
		}
		stored := c.srv.LineItems()[0].Properties
		for name, v := range sent {
			if stored[name] != v {
				t.Errorf("normalize %v: %s stored as %q, want %q as sent", tc.normalize, name, stored[name], v)
			}
		}
	}
}
