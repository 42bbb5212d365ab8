package upload

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/rowstate"
)

func TestSameValue(t *testing.T) {
	for _, tc := range []struct {
		sent, echoed string
		want         bool
	}{
		{"Widget", "Widget", true},
		{"Widget", "widget", false},
		{" Widget ", "Widget", true},
		{"12.50", "12.5", true},
		{"0012.500", "12.5", true},
		{"-0.0", "0", true},
		{"12.5", "12.50001", false},
		{"12", "12.0", true},
		{"12", "1.2e1", false}, // HubSpot writes plain decimals
		{"1e3", "1000", false}, // not a plain decimal: compared as a string
		{"2026-04-04", "1775260800000", true},
		{"2026-04-04", "1775174400000", false},
		{"2026-04-04", "2026-04-04T00:00:00Z", true},
		{"2026-04-04", "2026-04-04T00:00:00.000Z", true},
		{"2026-04-04", "2026-04-04T02:00:00+02:00", true},
		{"2026-04-04", "2026-04-05T00:00:00Z", false},
		{"1775260800000", "2026-04-04", true},
		{"2024-03-01T13:45:00+01:00", "2024-03-01T12:45:00.000Z", true},
		{"2024-03-01T13:45:00+01:00", "1709297100000", true},
		{"2024-03-01T13:45:00+01:00", "2024-03-01T13:45:00Z", false},
		{"a;b;c", "c;a;b", true},
		{"a;b;c", "a;b", false},
		{"a;b", "a;b;b", false},
		{"", "0", false},
	} {
		if got := sameValue(tc.sent, tc.echoed); got != tc.want {
			t.Errorf("sameValue(%q, %q) = %v, want %v", tc.sent, tc.echoed, got, tc.want)
		}
	}
}

// rowsOf encodes one batch input per map, row numbers from 1.
func rowsOf(props ...map[string]string) []*chunker.Item {
	items := make([]*chunker.Item, len(props))
	for i, p := range props {
		items[i] = chunker.Encode(i+1, nil, "", hubspot.CreateInput{Properties: hubspot.ValuesOf(p)})
	}
	return items
}

// echoed is a create result without a trace id, echoing props.
func echoed(id string, props map[string]string) hubspot.Created {
	b, err := json.Marshal(props)
	if err != nil {
		panic(err)
	}
	return hubspot.Created{ID: id, Properties: b}
}

// TestOutcomesByEcho: create results with neither a trace id nor a key
// are matched to rows by the values they echo, and only when every result
// names exactly one row and no row twice; otherwise every such row stays
// in doubt. Never by position.
func TestOutcomesByEcho(t *testing.T) {
	p := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	sys := func(m map[string]string) map[string]string { // what HubSpot adds to an echo
		out := p("hs_object_id", "1", "createdate", "2026-12-01T00:00:00Z", "amount", "3")
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	created := func(id string) rowstate.Verdict { return rowstate.Verdict{Kind: rowstate.Created, ID: id} }
	doubt := rowstate.Verdict{Kind: rowstate.Doubt, Code: codeMissingResult, Message: msgMissingResult}
	failed := rowstate.Verdict{Kind: rowstate.Failed, Code: "INVALID_OPTION", Message: "bad"}
	// A row an error names, beside a result no row matched that may be its
	// line item: in doubt, never failed (fixed and fed back, it would be
	// created again).
	mayBe := rowstate.Verdict{Kind: rowstate.Doubt, Code: "INVALID_OPTION", Message: "bad; yet a result of the same answer, matched to no row, may be this row's line item"}
	a, b, c := p("name", "A", "price", "12.50"), p("name", "B", "price", "12.50"), p("name", "A", "price", "3")
	for _, tc := range []struct {
		name    string
		items   []*chunker.Item
		results []hubspot.Created
		errRow  string // trace id of a per-row error, if any ("none": an error naming no row)
		want    []rowstate.Verdict
	}{
		{"out of order", rowsOf(a, b, c),
			[]hubspot.Created{echoed("203", sys(c)), echoed("201", sys(a)), echoed("202", sys(b))},
			"", []rowstate.Verdict{created("201"), created("202"), created("203")}},
		{"values in HubSpot's forms", rowsOf(p("name", "A", "price", "12.50", "hs_recurring_billing_start_date", "2026-04-04"), b),
			[]hubspot.Created{echoed("202", p("name", "B", "price", "12.5")), echoed("201", p("name", "A", "price", "12.5", "hs_recurring_billing_start_date", "1775260800000"))},
			"", []rowstate.Verdict{created("201"), created("202")}},
		{"a result missing", rowsOf(a, b, c),
			[]hubspot.Created{echoed("203", c), echoed("201", a)},
			"", []rowstate.Verdict{doubt, doubt, doubt}},
		{"beside an error", rowsOf(a, b, c),
			[]hubspot.Created{echoed("203", c), echoed("201", a)},
			"2", []rowstate.Verdict{doubt, failed, doubt}}, // an answer with errors: see the next two
		{"a failed row's result", rowsOf(a, b),
			[]hubspot.Created{echoed("202", b)},
			"2", []rowstate.Verdict{doubt, mayBe}},
		{"one row's values within another's", rowsOf(p("name", "A"), a),
			[]hubspot.Created{echoed("202", a), echoed("201", p("name", "A"))},
			"", []rowstate.Verdict{doubt, doubt}},
		{"the smaller row's result alone", rowsOf(p("name", "A"), a),
			[]hubspot.Created{echoed("201", p("name", "A"))},
			"", []rowstate.Verdict{doubt, doubt}},
		{"a row with an error that names no row", rowsOf(p("name", "W", "when", "2024-03-01T13:45:00+01:00"), p("name", "W")),
			[]hubspot.Created{echoed("901", p("name", "W", "when", "2024-03-01T12:45:00.000Z"))},
			"none", []rowstate.Verdict{doubt, doubt}},
		{"a failed row's values within a result", rowsOf(p("name", "A"), p("name", "A", "description", "x")),
			[]hubspot.Created{echoed("902", p("name", "A"))}, // description left out
			"1", []rowstate.Verdict{mayBe, doubt}},
		{"a failed row created anyway, its name from a product", rowsOf(p("hs_product_id", "P1", "quantity", "1"), p("hs_product_id", "P1", "quantity", "1", "name", "Widget")),
			[]hubspot.Created{echoed("901", p("hs_product_id", "P1", "quantity", "1", "name", "Widget"))},
			"1", []rowstate.Verdict{mayBe, doubt}},
		{"a failed row created anyway, its number rounded", rowsOf(p("name", "W", "price", "0.10000000000000000001"), p("name", "W", "price", "0.1")),
			[]hubspot.Created{echoed("901", p("name", "W", "price", "0.1"))},
			"1", []rowstate.Verdict{mayBe, doubt}},
		{"a failed row's result without one of its values", rowsOf(p("name", "A", "price", "1"), p("name", "A")),
			[]hubspot.Created{echoed("901", p("name", "A"))}, // row 1's, though it failed, price left out
			"1", []rowstate.Verdict{mayBe, doubt}},
		{"a failed row created anyway, its values in another case and spacing", rowsOf(p("name", "Blue  widget", "billing", "annually", "tags", "b;a"), p("name", "B")),
			[]hubspot.Created{echoed("901", p("name", "Blue widget", "billing", "Annually", "tags", "A;B"))},
			"1", []rowstate.Verdict{mayBe, doubt}},
		{"a failed row no result can be", rowsOf(p("name", "A", "price", "1"), p("name", "A", "price", "-1")),
			[]hubspot.Created{echoed("901", sys(p("name", "A", "price", "1")))},
			"2", []rowstate.Verdict{doubt, failed}},
		{"a failed row's other value", rowsOf(p("name", "A", "sku", "S1"), p("name", "B", "sku", "S2")),
			[]hubspot.Created{echoed("901", p("name", "A", "sku", "S1"))},
			"2", []rowstate.Verdict{doubt, failed}},
		{"a result that names nothing", rowsOf(a, b),
			[]hubspot.Created{echoed("901", p("hs_object_id", "901"))},
			"2", []rowstate.Verdict{doubt, mayBe}},
		{"a value the row did not send", rowsOf(p("name", "A"), p("name", "B", "price", "5")),
			[]hubspot.Created{echoed("902", p("name", "B", "price", "5")), echoed("901", p("name", "A", "price", "5"))},
			"", []rowstate.Verdict{doubt, doubt}},
		{"a value no row sent", rowsOf(p("name", "A"), p("name", "B")),
			[]hubspot.Created{echoed("902", p("name", "B")), echoed("901", p("name", "A", "price", "5"))},
			"", []rowstate.Verdict{created("901"), created("902")}}, // HubSpot's own, as amount is
		{"a time in another form", rowsOf(p("name", "W", "when", "2024-03-01T13:45:00+01:00"), p("name", "W", "when", "1709297100000")),
			[]hubspot.Created{echoed("902", p("name", "W", "when", "2024-03-01T12:45:00Z")), echoed("901", p("name", "W", "when", "2024-03-01T12:45:00.000Z"))},
			"", []rowstate.Verdict{doubt, doubt}}, // the same instant: either result is either row's
		{"times that differ", rowsOf(p("name", "W", "when", "2024-03-01T13:45:00+01:00"), p("name", "W", "when", "1709297100001")),
			[]hubspot.Created{echoed("902", p("name", "W", "when", "1709297100001")), echoed("901", p("name", "W", "when", "2024-03-01T12:45:00.000Z"))},
			"", []rowstate.Verdict{created("901"), created("902")}},
		{"the larger row's result alone", rowsOf(p("name", "A"), a),
			[]hubspot.Created{echoed("202", a)},
			"", []rowstate.Verdict{doubt, doubt}},
		{"numbers equal in value", rowsOf(p("name", "A", "price", "1"), p("name", "A", "price", "1.0")),
			[]hubspot.Created{echoed("201", p("name", "A", "price", "1"))},
			"", []rowstate.Verdict{doubt, doubt}},
		{"a result that is no row's", rowsOf(a, b),
			[]hubspot.Created{echoed("201", a), echoed("209", p("name", "Z"))},
			"", []rowstate.Verdict{doubt, doubt}},
		{"two results for one row", rowsOf(a, b),
			[]hubspot.Created{echoed("201", a), echoed("209", a)},
			"", []rowstate.Verdict{doubt, doubt}},
		{"a changed value", rowsOf(a),
			[]hubspot.Created{echoed("201", p("name", "a", "price", "12.50"))},
			"", []rowstate.Verdict{doubt}},
		{"a result without an id", rowsOf(a),
			[]hubspot.Created{echoed("", a)},
			"", []rowstate.Verdict{doubt}},
		{"a result without properties", rowsOf(a),
			[]hubspot.Created{{ID: "201"}},
			"", []rowstate.Verdict{doubt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &hubspot.BatchResult{StatusCode: 201, BatchResponse: hubspot.BatchResponse{Results: tc.results}}
			if tc.errRow != "" {
				res.StatusCode = 207
				ctx := map[string][]string{"objectWriteTraceId": {tc.errRow}}
				if tc.errRow == "none" {
					ctx = map[string][]string{"propertyName": {"name"}}
				}
				res.Errors = []hubspot.StandardError{{Category: "VALIDATION_ERROR", Message: "bad",
					Context: ctx, Errors: []hubspot.ErrorDetail{{Code: "INVALID_OPTION", Message: "x"}}}}
			}
			outs := Outcomes(tc.items, res, "")
			for i, w := range tc.want {
				if !sameVerdict(outs[i], w) {
					t.Errorf("row %d: %+v, want %+v", i+1, outs[i], w)
				}
			}
		})
	}
}

// echoValues are the values the fuzz test's rows take: few, so that rows
// often share values or hold a part of another's, and each with the form
// HubSpot may echo it in.
var echoValues = [][2]string{
	{"", ""}, {"1", "1"}, {"1.0", "1"}, {"01", "1"}, {"2", "2"}, {"a", "a"}, {"A", "A"},
	{"2026-04-04", "1775260800000"}, {"a;b", "b;a"}, {" a", " a"},
}

// FuzzMatchByEcho: whatever the rows, whichever of their results come back
// (a row's, none, or two) and in whatever order and form (a value echoed
// as sent, in HubSpot's form, in a form sameValue does not know, or left
// out), every result matchByEcho matches to a row is that row's own, and
// mayBeFrom takes a row's own result for one that may be its line item.
// (Answers with errors, where a result may be a failed row's, never reach
// matchByEcho: TestOutcomesByEcho.)
func FuzzMatchByEcho(f *testing.F) {
	f.Add([]byte{3, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint64(1))
	f.Add([]byte{5, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, uint64(2))
	f.Add([]byte{2, 1, 0, 1, 2}, uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		if len(data) < 1 {
			return
		}
		n := int(data[0])%8 + 1
		data = data[1:]
		names := []string{"name", "price"}
		props := make([]map[string]string, n)
		for i := range props {
			props[i] = map[string]string{}
			for _, name := range names {
				if len(data) == 0 {
					break
				}
				if v := echoValues[int(data[0])%len(echoValues)]; v[0] != "" || data[0]&0x80 != 0 {
					props[i][name] = v[0]
				}
				data = data[1:]
			}
		}
		items := rowsOf(props...)
		rng := rand.New(rand.NewPCG(seed, seed>>1))
		var results []hubspot.Created
		whole := rng.IntN(2) == 0 // each row with one result of its own
		for i, p := range props {
			// Otherwise a row has none, one or two results.
			copies := 1
			if !whole {
				copies = rng.IntN(3)
			}
			for range copies {
				results = append(results, echoOf(rng, names, p, fmt.Sprint(901+i)))
			}
		}
		rng.Shuffle(len(results), func(a, b int) { results[a], results[b] = results[b], results[a] })
		t.Logf("props %q", props)
		for _, r := range results {
			t.Logf("result %s %s", r.ID, r.Properties)
		}
		for i, r := range matchByEcho(items, results) {
			if want := fmt.Sprint(901 + i); r.ID != want {
				t.Errorf("row %d (%v) matched to result %s, whose row is %s", i+1, props[i], r.ID, want)
			}
		}
		// A row's own result, its values as sent, in HubSpot's forms or
		// left out, may always be its line item (mayBeFrom errs towards
		// "may": a miss would fail a row HubSpot created).
		for _, r := range results {
			var i int
			fmt.Sscan(r.ID, &i)
			if !strings.Contains(string(r.Properties), "~") && !mayBeFrom(items[i-901], []hubspot.Created{r}) {
				t.Errorf("row %d (%v): its own result %s is taken for another row's", i-900, props[i-901], r.Properties)
			}
		}
	})
}

// echoOf is a result with id for a row that sent p: each value of names
// echoed as sent, in HubSpot's form, in a form sameValue does not know,
// or left out, at random.
func echoOf(rng *rand.Rand, names []string, p map[string]string, id string) hubspot.Created {
	echo := map[string]string{"hs_object_id": id}
	for _, k := range names {
		v := p[k]
		if v == "" {
			continue // HubSpot leaves an empty value unset
		}
		switch rng.IntN(8) {
		case 0:
			continue // left out of the echo
		case 1:
			v = "~" + v // a form sameValue does not know
		default:
			for _, ev := range echoValues {
				if ev[0] == v && rng.IntN(2) == 0 {
					v = ev[1]
				}
			}
		}
		echo[k] = v
	}
	return echoed(id, echo)
}
