package upload

import (
	"encoding/json"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lineitems/importer/internal/casefold"
	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/schema"
)

// matchByEcho matches the results of a batch create that carry no trace
// id (nor a key that names a row) to the batch's rows, by the property
// values each result echoes. HubSpot does not promise results in the
// order of the inputs, so position says nothing; the values do, when they
// tell the rows apart.
//
// A result is a row's when, over every property some row of the batch
// sent, it echoes the values that row sent (as sameValue compares them)
// and no value where the row sent none; HubSpot's own properties
// (createdate, amount and the like) are not compared. A result may have
// come from a row when it is that row's but for values it leaves out.
//
// The match is all or nothing. The caller asks only for an answer that
// leaves no room for a mistake: one without errors, where no row has a
// verdict yet. (Where a row has an error, a result may be that row's all
// the same, an answer that contradicts itself, while another row's answer
// is lost, and the values cannot tell that from the rows' true outcome.)
// matchByEcho returns, for the index of each row, the result that is its,
// only if there are as many results as rows, each result is one row's and
// may have come from no other row even with values left out, and no row
// is matched twice; otherwise nil, and the rows stay in doubt. The chunker
// never puts two identical inputs in one batch, but two rows' values may
// be the same as sameValue reads them: then neither is matched.
func matchByEcho(items []*chunker.Item, results []hubspot.Created) map[int]hubspot.Created {
	if len(items) == 0 || len(results) != len(items) {
		return nil
	}
	sent := make([]map[string]string, len(items))
	names := map[string]bool{} // every property a row of the batch sent
	for i, it := range items {
		var in struct {
			Properties map[string]string `json:"properties"`
		}
		if json.Unmarshal(it.JSON, &in) != nil || len(in.Properties) == 0 {
			return nil
		}
		sent[i] = in.Properties
		for name, v := range in.Properties {
			if v != "" {
				names[name] = true
			}
		}
	}
	out := make(map[int]hubspot.Created, len(results))
	for _, r := range results {
		var echoed map[string]*string
		if r.ID == "" || json.Unmarshal(r.Properties, &echoed) != nil {
			return nil
		}
		match := -1
		for i, props := range sent {
			if !fromRow(echoed, props, names, true) {
				continue
			}
			if match >= 0 {
				return nil // may have come from two rows
			}
			match = i
		}
		if match < 0 || !fromRow(echoed, sent[match], names, false) {
			return nil // no row's
		}
		if _, taken := out[match]; taken {
			return nil // two results are this row's
		}
		out[match] = r
	}
	return out
}

// fromRow reports whether a result's echoed properties are those a row
// sent, over names: the same value (sameValue) where the row sent one
// (or, with dropped, none), and none where the row sent none.
func fromRow(echoed map[string]*string, sent map[string]string, names map[string]bool, dropped bool) bool {
	for name := range names {
		v := sent[name]
		var e string
		if p := echoed[name]; p != nil {
			e = *p
		}
		switch {
		case v == "" && e == "":
		case v == "" || e == "" && !dropped:
			return false
		case e != "" && !sameValue(v, e):
			return false
		}
	}
	return true
}

// sameValue reports whether HubSpot, given the value sent, may have
// stored and echoed the value echoed: the same string, or the same with
// white space trimmed, the same decimal number in another form ("12.50"
// and "12.5"), the same instant in another form (a calendar date, an
// RFC 3339 time or epoch milliseconds: "2026-04-04", "1775260800000" and
// "2026-04-04T00:00:00.000Z"), or the same options of a multiple checkbox
// in another order ("a;b" and "b;a"). Anything else is no match, which
// leaves rows in doubt, never matched wrongly.
func sameValue(sent, echoed string) bool {
	if sent == echoed {
		return true
	}
	s, e := strings.TrimSpace(sent), strings.TrimSpace(echoed)
	if s == e {
		return true
	}
	if a, ok := decimal(s); ok {
		if b, ok := decimal(e); ok {
			return a.Cmp(b) == 0
		}
	}
	if a, ok := instant(s); ok {
		b, ok := instant(e)
		return ok && a.Equal(b)
	}
	if strings.Contains(s, ";") {
		a, b := strings.Split(s, ";"), strings.Split(e, ";")
		slices.Sort(a)
		slices.Sort(b)
		return slices.Equal(a, b)
	}
	return false
}

// instant reads a date or time as HubSpot takes one: a calendar date (its
// midnight UTC), an RFC 3339 time, or epoch milliseconds.
func instant(s string) (time.Time, bool) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if ms, isShape, valid := schema.EpochMillis(s); isShape {
		return time.UnixMilli(ms), valid
	}
	return time.Time{}, false
}

// decimal reads a plain decimal number (schema.PlainNumber).
func decimal(s string) (*big.Rat, bool) {
	if !schema.PlainNumber(s) {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}

// mayBeFrom reports whether one of results (create results that no trace
// id or key matched) may be the line item of a row that HubSpot's answer
// named with an error: of every value the row sent, the result echoes the
// same (sameValue, the same binary floating-point number, as HubSpot may
// round the number it stores, or looseSame) or leaves it out. Values the row did not
// send are not compared, as HubSpot may fill some in (a line item's name
// from its product). A row or a result whose values cannot be read may be
// any row's.
func mayBeFrom(it *chunker.Item, results []hubspot.Created) bool {
	if len(results) == 0 {
		return false
	}
	var in struct {
		Properties map[string]string `json:"properties"`
	}
	if json.Unmarshal(it.JSON, &in) != nil {
		return true
	}
	for _, r := range results {
		var echoed map[string]*string
		if json.Unmarshal(r.Properties, &echoed) != nil {
			return true
		}
		may := true
		for name, v := range in.Properties {
			if e := echoed[name]; v != "" && e != nil && *e != "" && !sameValue(v, *e) && !sameFloat(v, *e) && !looseSame(v, *e) {
				may = false
				break
			}
		}
		if may {
			return true
		}
	}
	return false
}

// looseSame reports whether two values are the same text but for case,
// white space and the order of the options of a multiple choice (a;b):
// forms in which HubSpot may store a value it was sent (an option's
// label, TRUE for true, line ends changed). mayBeFrom errs towards "may":
// a miss there fails a row HubSpot may have created.
func looseSame(a, b string) bool {
	norm := func(s string) []string {
		parts := strings.Split(s, ";")
		for i, p := range parts {
			parts[i] = casefold.Fold(strings.Join(strings.Fields(p), " "))
		}
		slices.Sort(parts)
		return parts
	}
	return slices.Equal(norm(a), norm(b))
}

// sameFloat reports whether two values read as the same float64.
func sameFloat(a, b string) bool {
	x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	return err1 == nil && err2 == nil && x == y
}
