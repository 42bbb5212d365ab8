package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
)

// uniqueClient is a portal with the unique text property external_id.
func uniqueClient(t *testing.T, cfg emulator.Config) *client {
	t.Helper()
	c := newClient(t, cfg)
	c.srv.AddProperty(emulator.Property{Name: "external_id", Label: "External ID", Type: "string", HasUniqueValue: true})
	return c
}

// ownerOf returns the id of the line item holding external_id v.
func ownerOf(t *testing.T, c *client, v string) string {
	t.Helper()
	for _, it := range c.srv.LineItems() {
		if it.Properties["external_id"] == v {
			return it.ID
		}
	}
	t.Fatalf("no line item holds external_id %q", v)
	return ""
}

func TestUniqueCaseInsensitive(t *testing.T) {
	tests := []struct {
		name    string
		stored  string // created first
		sent    string // then created, in a batch of its own
		same    bool   // whether sent is stored's value ignoring case (strings.EqualFold)
		inBatch string // sent together with stored's value in a fresh portal
	}{
		{"ASCII", "EXT-1", "ext-1", true, "Ext-1"},
		{"identical", "EXT-1", "EXT-1", true, "EXT-1"},
		{"different", "EXT-1", "EXT-2", false, "EXT-2"},
		{"Latin-1", "Ärger", "äRGER", true, "ÄRGER"},
		{"Kelvin sign", "K-9", "\u212a-9", true, "k-9"},
		{"long s", "SOS", "\u017fos", true, "sos"},
		{"Greek final sigma", "ΟΔΟΣ", "οδος", true, "οδος"},
		{"dotless i is not i", "ID-1", "ıd-1", false, "ıd-1"},
		{"dotted capital I is not i", "id-1", "İd-1", false, "İD-1"},
		{"sharp s is not ss", "STRASSE", "straße", false, "straße"},
	}
	for _, insensitive := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("insensitive=%v/%s", insensitive, tt.name), func(t *testing.T) {
				if got := strings.EqualFold(tt.stored, tt.sent); got != tt.same {
					t.Fatalf("the case is wrong: EqualFold(%q, %q) = %v", tt.stored, tt.sent, got)
				}
				conflicts := tt.stored == tt.sent || (insensitive && tt.same)
				cfg := emulator.Config{UniqueCaseInsensitive: insensitive}

				c := uniqueClient(t, cfg)
				wantStatus(t, c.create(input("a", props("external_id", tt.stored))), http.StatusCreated)
				owner := ownerOf(t, c, tt.stored)
				r := c.create(input("b", props("external_id", tt.sent)))
				if conflicts {
					wantStatus(t, r, http.StatusConflict)
					if !strings.Contains(str(r.body["message"]), "Existing ID: "+owner) {
						t.Errorf("409 body: %s", r.raw)
					}
				} else {
					wantStatus(t, r, http.StatusCreated)
				}

				// Read by unique value: the stored value comes back whatever
				// the case asked for.
				r = c.read(byUnique("external_id", []string{tt.sent}, "external_id"))
				found, _ := readIDs(t, r)
				switch {
				case conflicts:
					wantStatus(t, r, http.StatusOK)
					res := list(t, r.body, "results")
					if !slices.Equal(found, []string{owner}) || res[0]["properties"].(map[string]any)["external_id"] != tt.stored {
						t.Errorf("read %q: %s", tt.sent, r.raw)
					}
				default: // sent was created: it is found as itself
					wantStatus(t, r, http.StatusOK)
					if slices.Equal(found, []string{owner}) {
						t.Errorf("read %q found the line item holding %q", tt.sent, tt.stored)
					}
				}

				// Two inputs of one batch.
				c = uniqueClient(t, cfg)
				r = c.create(input("a", props("external_id", tt.stored, "name", "one")), input("b", props("external_id", tt.inBatch, "name", "two")))
				inBatchSame := tt.stored == tt.inBatch || (insensitive && strings.EqualFold(tt.stored, tt.inBatch))
				if inBatchSame {
					wantStatus(t, r, http.StatusBadRequest)
					if !strings.Contains(str(r.body["message"]), "Duplicate unique values") {
						t.Errorf("400 body: %s", r.raw)
					}
				} else {
					wantStatus(t, r, http.StatusCreated)
				}
			})
		}
	}
}

func TestUniqueCaseInsensitiveLeavesSearchAlone(t *testing.T) {
	for _, insensitive := range []bool{false, true} {
		t.Run(fmt.Sprint("insensitive=", insensitive), func(t *testing.T) {
			c := uniqueClient(t, emulator.Config{UniqueCaseInsensitive: insensitive})
			wantStatus(t, c.create(input("a", props("external_id", "EXT-1"))), http.StatusCreated)
			for _, tt := range []struct {
				filter map[string]any
				total  float64
			}{
				{eq("external_id", "ext-1"), 1}, // EQ ignores case anyway
				{map[string]any{"propertyName": "external_id", "operator": "IN", "values": []string{"EXT-1"}}, 0}, // IN wants lowercase
				{map[string]any{"propertyName": "external_id", "operator": "IN", "values": []string{"ext-1"}}, 1},
			} {
				r := c.search(map[string]any{"filterGroups": []map[string]any{{"filters": []map[string]any{tt.filter}}}, "after": "0"})
				wantStatus(t, r, http.StatusOK)
				if r.body["total"] != tt.total {
					t.Errorf("%v: total = %v, want %v", tt.filter, r.body["total"], tt.total)
				}
			}
		})
	}
}

// conflictError checks that e is the CONFLICT error of trace, naming owner.
func conflictError(t *testing.T, e map[string]any, trace, owner string) {
	t.Helper()
	want := fmt.Sprintf(`map[category:CONFLICT context:map[existingId:[%s] objectWriteTraceId:[%s]] errors:[] links:map[] message:Line item already exists. Existing ID: %s status:error]`, owner, trace, owner)
	if got := fmt.Sprint(e); got != want {
		t.Errorf("error = %s\n want %s", got, want)
	}
}

func TestConflictPerRow(t *testing.T) {
	type row struct {
		trace, value string
		extra        []string // more properties
	}
	tests := []struct {
		name      string
		rows      []row
		status    int
		created   []string          // trace ids answered in results
		conflicts map[string]string // trace id -> value whose owner it names
		invalid   []string          // trace ids answered with VALIDATION_ERROR
		msg       string            // for a whole-batch error: substring of the message
		names     string            // for a 409: the value whose owner it names
	}{
		{name: "conflict and valid", rows: []row{{"a", "EXT-1", nil}, {"b", "NEW-1", nil}}, status: 207,
			created: []string{"b"}, conflicts: map[string]string{"a": "EXT-1"}},
		{name: "all conflict", rows: []row{{"a", "EXT-1", nil}, {"b", "EXT-2", nil}}, status: 207,
			conflicts: map[string]string{"a": "EXT-1", "b": "EXT-2"}},
		{name: "two inputs hold one taken value", rows: []row{{"a", "EXT-1", []string{"name", "x"}}, {"b", "EXT-1", []string{"name", "y"}}}, status: 207,
			conflicts: map[string]string{"a": "EXT-1", "b": "EXT-1"}},
		{name: "conflict, invalid and valid", rows: []row{{"a", "EXT-2", nil}, {"b", "", []string{"price", "x"}}, {"c", "NEW-1", nil}}, status: 207,
			created: []string{"c"}, conflicts: map[string]string{"a": "EXT-2"}, invalid: []string{"b"}},
		{name: "invalid values win over a conflict", rows: []row{{"a", "EXT-1", []string{"price", "x"}}, {"b", "NEW-1", nil}}, status: 207,
			created: []string{"b"}, invalid: []string{"a"}},
		{name: "untraced conflict fails the batch", rows: []row{{"a", "NEW-1", nil}, {"", "EXT-2", nil}}, status: 409, msg: "Existing ID: ", names: "EXT-2"},
		{name: "untraced conflict after a traced one", rows: []row{{"a", "EXT-1", nil}, {"", "EXT-2", nil}}, status: 409, msg: "Existing ID: ", names: "EXT-2"},
		{name: "untraced invalid fails the batch", rows: []row{{"a", "EXT-1", nil}, {"", "", []string{"price", "x"}}}, status: 400, msg: "Property values were not valid"},
		{name: "duplicate in the batch still fails it", rows: []row{{"a", "NEW-1", []string{"name", "x"}}, {"b", "NEW-1", []string{"name", "y"}}}, status: 400, msg: "Duplicate unique values"},
		{name: "no conflict", rows: []row{{"a", "NEW-1", nil}, {"", "NEW-2", nil}}, status: 201, created: []string{"", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := uniqueClient(t, emulator.Config{ConflictPerRow: true, Seed: 3})
			wantStatus(t, c.create(input("s1", props("external_id", "EXT-1")), input("s2", props("external_id", "EXT-2"))), http.StatusCreated)
			owners := map[string]string{"EXT-1": ownerOf(t, c, "EXT-1"), "EXT-2": ownerOf(t, c, "EXT-2")}
			before := c.srv.LineItemCount()

			var inputs []map[string]any
			for _, rw := range tt.rows {
				p := props(rw.extra...)
				if rw.value != "" {
					p["external_id"] = rw.value
				}
				inputs = append(inputs, input(rw.trace, p))
			}
			r := c.create(inputs...)
			wantStatus(t, r, tt.status)
			if tt.msg != "" {
				if !strings.Contains(str(r.body["message"]), tt.msg) {
					t.Errorf("message %q lacks %q", r.body["message"], tt.msg)
				}
				if tt.names != "" && (r.body["category"] != "CONFLICT" || r.body["message"] != "Line item already exists. Existing ID: "+owners[tt.names]) {
					t.Errorf("409 names the wrong line item: %s", r.raw)
				}
				if n := c.srv.LineItemCount(); n != before {
					t.Errorf("a whole-batch %d created %d line items", tt.status, n-before)
				}
				return
			}
			var created []string
			for _, res := range list(t, r.body, "results") {
				trace, _ := res["objectWriteTraceId"].(string)
				created = append(created, trace)
			}
			slices.Sort(created)
			if !slices.Equal(created, tt.created) {
				t.Errorf("results for %q, want %q", created, tt.created)
			}
			if n := c.srv.LineItemCount() - before; n != len(tt.created) {
				t.Errorf("created %d line items, want %d", n, len(tt.created))
			}
			if tt.status == http.StatusCreated {
				return
			}
			var invalid []string
			conflicts := map[string]bool{}
			for _, e := range list(t, r.body, "errors") {
				trace := e["context"].(map[string]any)["objectWriteTraceId"].([]any)[0].(string)
				switch e["category"] {
				case "CONFLICT":
					conflictError(t, e, trace, owners[tt.conflicts[trace]])
					conflicts[trace] = true
				case "VALIDATION_ERROR":
					invalid = append(invalid, trace)
				default:
					t.Errorf("error: %v", e)
				}
			}
			if len(conflicts) != len(tt.conflicts) || !slices.Equal(invalid, tt.invalid) {
				t.Errorf("conflicts %v, invalid %v; want %v, %v", conflicts, invalid, tt.conflicts, tt.invalid)
			}
			if r.body["numErrors"] != float64(len(tt.conflicts)+len(tt.invalid)) {
				t.Errorf("numErrors = %v", r.body["numErrors"])
			}
		})
	}
}

func TestConflictPerRowIsCaseInsensitiveToo(t *testing.T) {
	c := uniqueClient(t, emulator.Config{ConflictPerRow: true, UniqueCaseInsensitive: true})
	wantStatus(t, c.create(input("s", props("external_id", "EXT-1"))), http.StatusCreated)
	owner := ownerOf(t, c, "EXT-1")
	r := c.create(input("a", props("external_id", "ext-1")), input("b", props("external_id", "ext-2")))
	wantStatus(t, r, http.StatusMultiStatus)
	errs := list(t, r.body, "errors")
	if len(errs) != 1 {
		t.Fatalf("errors: %s", r.raw)
	}
	conflictError(t, errs[0], "a", owner)
	if n := c.srv.LineItemCount(); n != 2 {
		t.Errorf("%d line items, want 2", n)
	}
}

func TestConflictPerRowCommitFaults(t *testing.T) {
	c := uniqueClient(t, emulator.Config{ConflictPerRow: true})
	wantStatus(t, c.create(input("s", props("external_id", "EXT-1"))), http.StatusCreated)
	c.srv.SetFaults(emulator.Faults{CommitThenErrorRate: 1, CommitThenStatuses: []int{504}})

	// The valid row is committed, then the answer is lost.
	wantStatus(t, c.create(input("a", props("external_id", "EXT-1")), input("b", props("external_id", "NEW-1"))), http.StatusGatewayTimeout)
	if n := c.srv.LineItemCount(); n != 2 {
		t.Errorf("%d line items, want 2 (the valid row committed)", n)
	}
	// A batch that commits nothing is answered.
	r := c.create(input("c", props("external_id", "EXT-1")), input("d", props("external_id", "NEW-1")))
	wantStatus(t, r, http.StatusMultiStatus)
	if len(list(t, r.body, "results")) != 0 || r.body["numErrors"] != float64(2) {
		t.Errorf("body: %s", r.raw)
	}
	if st := c.srv.Stats(); st.Faults != 1 {
		t.Errorf("Faults = %d, want 1", st.Faults)
	}
}
