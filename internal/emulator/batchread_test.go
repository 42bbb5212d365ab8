package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

const readPath = "/crm/v3/objects/line_items/batch/read"

// read posts body to the batch read endpoint.
func (c *client) read(body any) *response {
	c.t.Helper()
	return c.do(http.MethodPost, readPath, body)
}

// readBody is a batch read body for ids asking for properties.
func readBody(ids []string, properties ...string) map[string]any {
	inputs := make([]map[string]any, len(ids))
	for i, id := range ids {
		inputs[i] = map[string]any{"id": id}
	}
	if properties == nil {
		properties = []string{}
	}
	return map[string]any{"inputs": inputs, "properties": properties, "propertiesWithHistory": []string{}}
}

// byUnique is readBody reading by the unique property idProperty.
func byUnique(idProperty string, ids []string, properties ...string) map[string]any {
	b := readBody(ids, properties...)
	b["idProperty"] = idProperty
	return b
}

// readIDs returns the ids of a batch read answer's results and of its
// errors' context.ids, each sorted, and checks the shape of every error.
func readIDs(t *testing.T, r *response) (found, missing []string) {
	t.Helper()
	for _, res := range list(t, r.body, "results") {
		found = append(found, res["id"].(string))
	}
	if _, ok := r.body["errors"]; ok {
		for _, e := range list(t, r.body, "errors") {
			ids := e["context"].(map[string]any)["ids"].([]any)
			if len(ids) != 1 || e["status"] != "error" || e["category"] != "OBJECT_NOT_FOUND" ||
				e["message"] != "Could not get some LINE_ITEM objects, they may be deleted or not exist. Check that ids are valid." ||
				fmt.Sprint(e["errors"]) != "[]" || fmt.Sprint(e["links"]) != "map[]" {
				t.Errorf("error shape: %v", e)
			}
			missing = append(missing, ids[0].(string))
		}
	}
	slices.Sort(found)
	slices.Sort(missing)
	return found, missing
}

// seedForRead creates three line items, the first two with an external_id,
// and returns their ids in creation order.
func seedForRead(t *testing.T, c *client) []string {
	t.Helper()
	c.srv.AddProperty(emulator.Property{Name: "external_id", Label: "External ID", Type: "string", HasUniqueValue: true})
	wantStatus(t, c.create(input("a", props("name", "Alpha", "external_id", "EXT-1", "price", "10"))), http.StatusCreated)
	wantStatus(t, c.create(input("b", props("name", "Beta", "external_id", "EXT-2"))), http.StatusCreated)
	wantStatus(t, c.create(input("c", props("name", "Gamma"))), http.StatusCreated)
	var ids []string
	for _, it := range c.srv.LineItems() {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestBatchRead(t *testing.T) {
	c := newClient(t, emulator.Config{RateMax: -1})
	ids := seedForRead(t, c)
	a, b, g := ids[0], ids[1], ids[2]
	sorted := func(s ...string) []string { return slices.Sorted(slices.Values(s)) }
	tests := []struct {
		name    string
		query   string
		body    map[string]any
		status  int
		found   []string
		missing []string
	}{
		{"all found", "", readBody([]string{a, b, g}, "name"), 200, sorted(a, b, g), nil},
		{"some missing", "", readBody([]string{a, "1", g}, "name"), 207, sorted(a, g), []string{"1"}},
		{"none found", "", readBody([]string{"1", "2"}, "name"), 207, nil, []string{"1", "2"}},
		{"duplicates answered once", "", readBody([]string{a, a, "1", "1"}), 207, []string{a}, []string{"1"}},
		{"non-canonical ids are not found", "", readBody([]string{"0" + a, "+" + a, " " + a, "abc", ""}), 207, nil,
			sorted("0"+a, "+"+a, " "+a, "abc", "")},
		{"by unique value", "", byUnique("external_id", []string{"EXT-2", "EXT-1"}, "name"), 200, sorted(a, b), nil},
		{"by unique value, case matters by default", "", byUnique("external_id", []string{"ext-1", "EXT-1", "EXT-9"}), 207, []string{a}, []string{"EXT-9", "ext-1"}},
		{"by unique value, record ids are values", "", byUnique("external_id", []string{a}), 207, nil, []string{a}},
		{"archived=false", "?archived=false", readBody([]string{a}), 200, []string{a}, nil},
		{"archived=true finds nothing", "?archived=true", readBody([]string{a, b}), 207, nil, sorted(a, b)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(http.MethodPost, readPath+tt.query, tt.body)
			wantStatus(t, r, tt.status)
			found, missing := readIDs(t, r)
			if !slices.Equal(found, tt.found) || !slices.Equal(missing, tt.missing) {
				t.Errorf("found %v, missing %v; want %v, %v", found, missing, tt.found, tt.missing)
			}
			if r.body["status"] != "COMPLETE" || r.body["startedAt"] == nil || r.body["completedAt"] == nil {
				t.Errorf("batch fields: %s", r.raw)
			}
			if tt.status == http.StatusOK {
				if _, ok := r.body["errors"]; ok {
					t.Errorf("200 carries errors: %s", r.raw)
				}
			} else if r.body["numErrors"] != float64(len(tt.missing)) {
				t.Errorf("numErrors = %v, want %d", r.body["numErrors"], len(tt.missing))
			}
		})
	}
	if st := c.srv.Stats(); st.BatchReads != len(tests) || st.Searches != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBatchReadResultShape(t *testing.T) {
	c := newClient(t, emulator.Config{})
	ids := seedForRead(t, c)
	tests := []struct {
		name       string
		properties []string
		want       map[string]string // of the first line item, besides the three always returned
	}{
		{"no properties", nil, map[string]string{}},
		{"set and unset", []string{"name", "price", "tax", "description"}, map[string]string{"name": "Alpha", "price": "10"}},
		{"unknown names are ignored", []string{"name", "nope"}, map[string]string{"name": "Alpha"}},
		{"repeated names", []string{"name", "name", "hs_object_id"}, map[string]string{"name": "Alpha"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.read(readBody(ids[:1], tt.properties...))
			wantStatus(t, r, http.StatusOK)
			res := list(t, r.body, "results")
			if len(res) != 1 {
				t.Fatalf("results: %s", r.raw)
			}
			o := res[0]
			p := o["properties"].(map[string]any)
			if p["hs_object_id"] != ids[0] || p["createdate"] == nil || p["hs_lastmodifieddate"] != p["createdate"] {
				t.Errorf("always-returned properties: %v", p)
			}
			delete(p, "hs_object_id")
			delete(p, "createdate")
			delete(p, "hs_lastmodifieddate")
			if fmt.Sprint(p) != fmt.Sprint(tt.want) {
				t.Errorf("properties = %v, want %v (unset ones left out, not null)", p, tt.want)
			}
			if o["id"] != ids[0] || o["archived"] != false || o["createdAt"] == nil || o["updatedAt"] != o["createdAt"] {
				t.Errorf("object: %v", o)
			}
			if _, ok := o["objectWriteTraceId"]; ok {
				t.Errorf("a read result carries objectWriteTraceId: %v", o)
			}
		})
	}
}

func TestBatchReadRequestErrors(t *testing.T) {
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	tests := []struct {
		name   string
		query  string
		body   any
		header map[string]string
		status int
		msg    string // substring of message
	}{
		{"100 inputs", "", readBody(many[:100]), nil, 207, ""},
		{"101 inputs", "", readBody(many), nil, 400, "maximum number of inputs supported in a batch request is 100"},
		{"no inputs", "", readBody(nil), nil, 400, "at least one input"},
		{"nothing", "", `{}`, nil, 400, "required attributes are not set [inputs, properties, propertiesWithHistory]"},
		{"properties missing", "", `{"inputs":[{"id":"1"}],"propertiesWithHistory":[]}`, nil, 400, "required attributes are not set [properties]"},
		{"propertiesWithHistory missing", "", `{"inputs":[{"id":"1"}],"properties":[]}`, nil, 400, "required attributes are not set [propertiesWithHistory]"},
		{"inputs null", "", `{"inputs":null,"properties":[],"propertiesWithHistory":[]}`, nil, 400, "required attributes are not set [inputs]"},
		{"unknown top field", "", `{"inputs":[{"id":"1"}],"properties":[],"propertiesWithHistory":[],"archived":false}`, nil, 400, `Unrecognized field "archived"`},
		{"unknown input field", "", `{"inputs":[{"id":"1","objectWriteTraceId":"t"}],"properties":[],"propertiesWithHistory":[]}`, nil, 400, `Unrecognized field "objectWriteTraceId"`},
		{"input id missing", "", `{"inputs":[{}],"properties":[],"propertiesWithHistory":[]}`, nil, 400, "[inputs[0].id]"},
		{"input id number", "", `{"inputs":[{"id":1}],"properties":[],"propertiesWithHistory":[]}`, nil, 400, "from number at inputs[0].id"},
		{"input not object", "", `{"inputs":["1"],"properties":[],"propertiesWithHistory":[]}`, nil, 400, "inputs[0]"},
		{"properties not array", "", `{"inputs":[{"id":"1"}],"properties":"name","propertiesWithHistory":[]}`, nil, 400, "properties"},
		{"property name number", "", `{"inputs":[{"id":"1"}],"properties":[1],"propertiesWithHistory":[]}`, nil, 400, "properties[0]"},
		{"history asked for", "", `{"inputs":[{"id":"1"}],"properties":[],"propertiesWithHistory":["name"]}`, nil, 400, "propertiesWithHistory is not supported"},
		{"history not array", "", `{"inputs":[{"id":"1"}],"properties":[],"propertiesWithHistory":{}}`, nil, 400, "propertiesWithHistory"},
		{"idProperty unknown", "", byUnique("nope", []string{"1"}), nil, 400, `Invalid idProperty "nope"`},
		{"idProperty not unique", "", byUnique("hs_sku", []string{"1"}), nil, 400, `"hs_sku": it is not a unique value property`},
		{"idProperty hs_object_id", "", byUnique("hs_object_id", []string{"1"}), nil, 400, "not a unique value property"},
		{"idProperty empty", "", byUnique("", []string{"1"}), nil, 400, `Invalid idProperty ""`},
		{"idProperty number", "", `{"idProperty":1,"inputs":[{"id":"1"}],"properties":[],"propertiesWithHistory":[]}`, nil, 400, "idProperty"},
		{"idProperty null", "", `{"idProperty":null,"inputs":[{"id":"1"}],"properties":[],"propertiesWithHistory":[]}`, nil, 207, ""},
		{"archived not a boolean", "?archived=yes", readBody([]string{"1"}), nil, 400, "archived"},
		{"malformed JSON", "", `{"inputs":[`, nil, 400, "Invalid input JSON on line 1"},
		{"no content type", "", readBody([]string{"1"}), map[string]string{"Content-Type": ""}, 415, "No Content-Type defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, emulator.Config{})
			c.srv.AddProperty(emulator.Property{Name: "external_id", Label: "External ID", Type: "string", HasUniqueValue: true})
			r, err := c.send(t.Context(), http.MethodPost, readPath+tt.query, tt.body, tt.header)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, r, tt.status)
			if tt.status >= 400 {
				if !strings.Contains(str(r.body["message"]), tt.msg) || r.body["status"] != "error" || r.body["correlationId"] == nil {
					t.Errorf("message %q lacks %q: %s", r.body["message"], tt.msg, r.raw)
				}
				if tt.status == 400 && !strings.HasPrefix(tt.msg, "Invalid input JSON on line") && r.body["category"] != "VALIDATION_ERROR" {
					t.Errorf("category: %s", r.raw)
				}
			}
			if st := c.srv.Stats(); st.BatchReads != 1 {
				t.Errorf("BatchReads = %d, want 1", st.BatchReads)
			}
		})
	}
}

func TestBatchReadRateLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{RateMax: 3, DailyLimit: 10})
		ids := seedForRead(t, c) // three creates fill the burst window
		time.Sleep(10 * time.Second)

		for _, want := range []string{"2", "1", "0"} {
			r := c.read(readBody(ids[:1]))
			wantStatus(t, r, http.StatusOK)
			if r.header.Get("X-HubSpot-RateLimit-Max") != "3" || r.header.Get("X-HubSpot-RateLimit-Remaining") != want ||
				r.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" || r.header.Get("X-HubSpot-RateLimit-Daily") != "10" {
				t.Errorf("headers: %v", r.header)
			}
		}
		// Reads and creates share the burst window.
		r := c.read(readBody(ids[:1]))
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.body["policyName"] != emulator.PolicyTenSecondly {
			t.Errorf("429: %s", r.raw)
		}
		wantStatus(t, c.create(input("d", props("name", "Delta"))), http.StatusTooManyRequests)
		time.Sleep(10 * time.Second)
		wantStatus(t, c.create(input("d", props("name", "Delta"))), http.StatusCreated)

		// And the daily quota: 3 creates + 3 reads + 1 create so far.
		time.Sleep(10 * time.Second)
		for range 3 {
			wantStatus(t, c.read(readBody(ids[:1])), http.StatusOK)
		}
		r = c.read(readBody(ids[:1]))
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.body["policyName"] != emulator.PolicyDaily {
			t.Errorf("daily 429: %s", r.raw)
		}
		st := c.srv.Stats()
		if st.BatchReads != 6 || st.BatchCreates != 4 || st.Throttled != 3 || st.MaxInWindow != 5 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestBatchReadFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults emulator.Faults
		status int
		reads  int // Stats.BatchReads afterwards
	}{
		{"gateway error", emulator.Faults{ErrorRate: 1, ErrorStatuses: []int{503}}, 503, 0},
		{"injected 429", emulator.Faults{RateLimitRate: 1}, 429, 0},
		{"commit-then-drop does not apply", emulator.Faults{CommitThenDrop: 1}, 200, 1},
		{"commit-then-error does not apply", emulator.Faults{CommitThenErrorRate: 1}, 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, emulator.Config{})
			ids := seedForRead(t, c)
			c.srv.SetFaults(tt.faults)
			r := c.read(readBody(ids))
			wantStatus(t, r, tt.status)
			if tt.status == http.StatusTooManyRequests && r.body["policyName"] != emulator.PolicyTenSecondly {
				t.Errorf("injected 429 policy: %s", r.raw)
			}
			if st := c.srv.Stats(); st.BatchReads != tt.reads {
				t.Errorf("BatchReads = %d, want %d", st.BatchReads, tt.reads)
			}
		})
	}
}

func TestBatchReadLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{})
		ids := seedForRead(t, c)
		c.srv.SetFaults(emulator.Faults{Latency: 2 * time.Second})
		start := time.Now()
		wantStatus(t, c.read(readBody(ids)), http.StatusOK)
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("answer took %v, want 2s", d)
		}
	})
}

func TestBatchReadIgnoresSearchLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClient(t, emulator.Config{SearchLag: time.Minute})
		ids := seedForRead(t, c)
		if r := c.search(firstPage()); r.body["total"] != float64(0) {
			t.Fatalf("fresh items are searchable: %s", r.raw)
		}
		r := c.read(readBody(ids))
		wantStatus(t, r, http.StatusOK)
		if found, _ := readIDs(t, r); len(found) != 3 {
			t.Errorf("read found %v, want all 3 at once", found)
		}
		wantStatus(t, c.read(byUnique("external_id", []string{"EXT-1"})), http.StatusOK)
	})
}

func TestBatchReadResultsAreShuffled(t *testing.T) {
	answer := func(seed int64) []string {
		c := newClient(t, emulator.Config{Seed: seed})
		seedItems(t, c, 30)
		var ids []string
		for _, it := range c.srv.LineItems() {
			ids = append(ids, it.ID)
		}
		ids = append(ids, "1", "2", "3")
		r := c.read(readBody(ids))
		wantStatus(t, r, http.StatusMultiStatus)
		var got []string
		for _, res := range list(t, r.body, "results") {
			got = append(got, res["id"].(string))
		}
		if slices.Equal(got, ids[:30]) {
			t.Errorf("results came back in input order: %v", got)
		}
		if found, missing := readIDs(t, r); !slices.Equal(found, slices.Sorted(slices.Values(ids[:30]))) || !slices.Equal(missing, []string{"1", "2", "3"}) {
			t.Errorf("found %v, missing %v", found, missing)
		}
		return got
	}
	if a, b := answer(5), answer(5); !slices.Equal(a, b) {
		t.Errorf("equal seeds gave different orders:\n%v\n%v", a, b)
	}
}

// TestBatchReadNoneFound404: with the switch, a read that finds none of
// its inputs is a 404 OBJECT_NOT_FOUND naming them; a read that finds some
// is still a 207.
func TestBatchReadNoneFound404(t *testing.T) {
	c := newClient(t, emulator.Config{RateMax: -1, BatchReadNoneFound404: true})
	ids := seedForRead(t, c)
	r := c.do(http.MethodPost, readPath, readBody([]string{"1", "2", "1"}))
	wantStatus(t, r, http.StatusNotFound)
	if r.body["category"] != "OBJECT_NOT_FOUND" || fmt.Sprint(r.body["context"]) != "map[ids:[1 2]]" {
		t.Errorf("body %s", r.raw)
	}
	wantStatus(t, c.do(http.MethodPost, readPath, readBody([]string{ids[0], "1"})), http.StatusMultiStatus)
}

// TestReadLag: a line item younger than Config.ReadLag is not found by
// batch read, by id or by its unique value, though its unique value is
// taken at once; once the lag has passed it is found.
func TestReadLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := uniqueClient(t, emulator.Config{ReadLag: 5 * time.Second, ConflictPerRow: true, Seed: 9})
		r := c.create(input("a", props("external_id", "EXT-1")))
		wantStatus(t, r, http.StatusCreated)
		id := list(t, r.body, "results")[0]["id"].(string)
		if found, _ := readIDs(t, c.read(byUnique("external_id", []string{"EXT-1"}))); len(found) != 0 {
			t.Errorf("read by unique value at once: found %v", found)
		}
		if found, _ := readIDs(t, c.read(readBody([]string{id}))); len(found) != 0 {
			t.Errorf("read by id at once: found %v", found)
		}
		r = c.create(input("b", props("external_id", "EXT-1")))
		wantStatus(t, r, http.StatusMultiStatus)
		if errs := list(t, r.body, "errors"); len(errs) != 1 || errs[0]["category"] != "CONFLICT" {
			t.Errorf("a second create of EXT-1 during the lag: %s; want a conflict", r.raw)
		}
		time.Sleep(5 * time.Second)
		if found, _ := readIDs(t, c.read(byUnique("external_id", []string{"EXT-1"}))); !slices.Equal(found, []string{id}) {
			t.Errorf("read by unique value after the lag: found %v, want %s", found, id)
		}
	})
}
