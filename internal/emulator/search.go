package emulator

import (
	"cmp"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Filter operators of HubSpot's Filter schema.
var filterOperators = []string{"BETWEEN", "CONTAINS_TOKEN", "EQ", "GT", "GTE", "HAS_PROPERTY", "IN", "LT", "LTE", "NEQ", "NOT_CONTAINS_TOKEN", "NOT_HAS_PROPERTY", "NOT_IN"}

// filter is one parsed Filter.
type filter struct {
	prop     string
	ref      propRef // prop, resolved by handleSearch
	op       string
	value    string
	high     string
	values   []string
	propType string
	checkbox bool
}

// searchRequest is a parsed PublicObjectSearchRequest.
type searchRequest struct {
	groups     [][]filter
	limit      int
	after      int
	properties []string // nil: defaults only
	sortProp   string
	sortDesc   bool
	query      string
	queryRefs  []propRef // queryProps, resolved by handleSearch
}

// parseSearch checks a search body against PublicObjectSearchRequest and
// HubSpot's documented search limits. props are the portal's properties.
func parseSearch(v any, props map[string]*Property) (*searchRequest, error) {
	m, err := asObject(v, "", "PublicObjectSearchRequest", "after", "filterGroups", "filters", "limit", "properties", "query", "sorts")
	if err != nil {
		return nil, err
	}
	// The spec marks after, filterGroups, limit, properties and sorts
	// required; only after is enforced (see the package documentation).
	if err := requireFields(m, "", "after"); err != nil {
		return nil, err
	}
	req := &searchRequest{limit: defaultSearchLimit}
	if q, ok := m["query"]; ok && q != nil {
		if req.query, err = asString(q, "query"); err != nil {
			return nil, err
		}
	}
	if l, ok := m["limit"]; ok && l != nil {
		if req.limit, err = asInt32(l, "limit"); err != nil {
			return nil, err
		}
		if req.limit < 1 || req.limit > maxSearchLimit {
			return nil, &inputError{msg: fmt.Sprintf("Invalid input JSON: limit must be between 1 and %d (got %d)", maxSearchLimit, req.limit)}
		}
	}
	after, err := asString(m["after"], "after") // "0" asks for the first page
	if err != nil {
		return nil, err
	}
	if req.after, err = strconv.Atoi(after); err != nil || req.after < 0 {
		return nil, &inputError{msg: fmt.Sprintf("Invalid input JSON: after must be a non-negative integer formatted as a string (got %q)", after)}
	}
	if req.after >= maxSearchResults {
		return nil, &inputError{msg: fmt.Sprintf("Invalid input: search results are limited to %d; paging beyond them (after=%d) is not allowed", maxSearchResults, req.after)}
	}
	if p, ok := m["properties"]; ok && p != nil {
		arr, err := asArray(p, "properties")
		if err != nil {
			return nil, err
		}
		req.properties = []string{}
		for i, e := range arr {
			name, err := asString(e, fmt.Sprintf("properties[%d]", i))
			if err != nil {
				return nil, err
			}
			if props[name] != nil && !slices.Contains(req.properties, name) {
				req.properties = append(req.properties, name) // unknown names are ignored, as HubSpot does
			}
		}
	}
	if sv, ok := m["sorts"]; ok && sv != nil {
		arr, err := asArray(sv, "sorts")
		if err != nil {
			return nil, err
		}
		if len(arr) > 1 {
			return nil, &inputError{msg: fmt.Sprintf("Invalid input JSON: only one sort is allowed (got %d)", len(arr))}
		}
		if len(arr) == 1 {
			if req.sortProp, req.sortDesc, err = parseSort(arr[0], props); err != nil {
				return nil, err
			}
		}
	}
	var rawGroups []any
	if g, ok := m["filterGroups"]; ok && g != nil {
		if rawGroups, err = asArray(g, "filterGroups"); err != nil {
			return nil, err
		}
	}
	for i, g := range rawGroups {
		gp := fmt.Sprintf("filterGroups[%d]", i)
		gm, err := asObject(g, gp, "FilterGroup", "filters")
		if err != nil {
			return nil, err
		}
		if err := requireFields(gm, gp, "filters"); err != nil {
			return nil, err
		}
		group, err := parseFilters(gm["filters"], gp+".filters", props)
		if err != nil {
			return nil, err
		}
		req.groups = append(req.groups, group)
	}
	if f, ok := m["filters"]; ok && f != nil { // top-level filters, as in HubSpot's docs: one more group
		group, err := parseFilters(f, "filters", props)
		if err != nil {
			return nil, err
		}
		req.groups = append(req.groups, group)
	}
	if len(req.groups) > maxFilterGroups {
		return nil, &inputError{msg: fmt.Sprintf("Invalid input JSON: too many filterGroups (count: %d, max allowed: %d)", len(req.groups), maxFilterGroups)}
	}
	total := 0
	for _, g := range req.groups {
		if len(g) > maxFiltersPerGroup {
			return nil, &inputError{msg: fmt.Sprintf("Invalid input JSON: too many filters per filterGroup (count: %d, max allowed: %d)", len(g), maxFiltersPerGroup)}
		}
		total += len(g)
	}
	if total > maxFiltersTotal {
		return nil, &inputError{msg: fmt.Sprintf("Invalid input JSON: too many filters (count: %d, max allowed: %d)", total, maxFiltersTotal)}
	}
	return req, nil
}

func parseSort(v any, props map[string]*Property) (string, bool, error) {
	var name string
	desc := false
	switch sv := v.(type) {
	case string:
		name = sv
		if strings.HasPrefix(name, "-") {
			name, desc = name[1:], true
		}
	default:
		sm, err := asObject(v, "sorts[0]", "PublicSort", "propertyName", "direction")
		if err != nil {
			return "", false, err
		}
		if err := requireFields(sm, "sorts[0]", "propertyName"); err != nil {
			return "", false, err
		}
		if name, err = asString(sm["propertyName"], "sorts[0].propertyName"); err != nil {
			return "", false, err
		}
		if d, ok := sm["direction"]; ok && d != nil {
			ds, err := asString(d, "sorts[0].direction")
			if err != nil {
				return "", false, err
			}
			switch ds {
			case "ASCENDING":
			case "DESCENDING":
				desc = true
			default:
				return "", false, inputErrorf("Cannot deserialize value of type `Direction` from String %q: not one of the values accepted for Enum class: [ASCENDING, DESCENDING]", ds)
			}
		}
	}
	if props[name] == nil {
		return "", false, &inputError{msg: fmt.Sprintf("Invalid input: cannot sort by unknown property %q", name)}
	}
	return name, desc, nil
}

func parseFilters(v any, fp string, props map[string]*Property) ([]filter, error) {
	arr, err := asArray(v, fp)
	if err != nil {
		return nil, err
	}
	var out []filter
	for i, e := range arr {
		p := fmt.Sprintf("%s[%d]", fp, i)
		fm, err := asObject(e, p, "Filter", "highValue", "operator", "propertyName", "value", "values")
		if err != nil {
			return nil, err
		}
		if err := requireFields(fm, p, "operator", "propertyName"); err != nil {
			return nil, err
		}
		var f filter
		if f.prop, err = asString(fm["propertyName"], p+".propertyName"); err != nil {
			return nil, err
		}
		if f.op, err = asString(fm["operator"], p+".operator"); err != nil {
			return nil, err
		}
		if !slices.Contains(filterOperators, f.op) {
			return nil, inputErrorf("Cannot deserialize value of type `FilterOperatorEnum` from String %q: not one of the values accepted for Enum class: [%s] at %s.operator", f.op, strings.Join(filterOperators, ", "), p)
		}
		pd := props[f.prop]
		if pd == nil {
			return nil, &inputError{msg: fmt.Sprintf("Invalid input: property %q in %s does not exist", f.prop, p)}
		}
		f.propType, f.checkbox = pd.Type, pd.FieldType == "checkbox"
		need := func(field string) (string, error) {
			x, ok := fm[field]
			if !ok || x == nil {
				return "", &inputError{msg: fmt.Sprintf("Invalid input: operator %s requires %s.%s", f.op, p, field)}
			}
			return asString(x, p+"."+field)
		}
		switch f.op {
		case "HAS_PROPERTY", "NOT_HAS_PROPERTY":
		case "IN", "NOT_IN":
			x, ok := fm["values"]
			if !ok || x == nil {
				return nil, &inputError{msg: fmt.Sprintf("Invalid input: operator %s requires %s.values", f.op, p)}
			}
			vals, err := asArray(x, p+".values")
			if err != nil {
				return nil, err
			}
			if len(vals) == 0 || len(vals) > maxInValues {
				return nil, &inputError{msg: fmt.Sprintf("Invalid input: %s.values must hold between 1 and %d values (got %d)", p, maxInValues, len(vals))}
			}
			for j, x := range vals {
				sv, err := asString(x, fmt.Sprintf("%s.values[%d]", p, j))
				if err != nil {
					return nil, err
				}
				f.values = append(f.values, sv)
			}
		case "BETWEEN":
			if f.value, err = need("value"); err != nil {
				return nil, err
			}
			if f.high, err = need("highValue"); err != nil {
				return nil, err
			}
		default:
			if f.value, err = need("value"); err != nil {
				return nil, err
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// collectionResponse is CollectionResponseWithTotalSimplePublicObjectForwardPaging.
type collectionResponse struct {
	Total   int          `json:"total"`
	Results []wireObject `json:"results"`
	Paging  *paging      `json:"paging,omitempty"`
}

type paging struct {
	Next nextPage `json:"next"`
}

type nextPage struct {
	After string `json:"after"`
	Link  string `json:"link"`
}

// handleSearch serves POST /crm/v3/objects/line_items/search.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, params []string) {
	s.handleSearchVersion(w, r, params, apiV3)
}

// handleSearchVersion serves search in both API generations; the 2026-09
// search (POST /crm/objects/2026-09/line_items/search) answers exactly as
// v3 does, the two specs' schemas being the same.
func (s *Server) handleSearchVersion(w http.ResponseWriter, r *http.Request, _ []string, _ apiVersion) {
	s.mu.Lock()
	s.stats.Searches++
	s.mu.Unlock()
	v, raw, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	if n := utf8.RuneCount(raw); n > maxSearchBodyChars {
		s.validationError(w, fmt.Sprintf("Search request bodies are limited to %d characters (got %d)", maxSearchBodyChars, n))
		return
	}
	s.mu.Lock()
	req, err := parseSearch(v, s.props)
	if err != nil {
		s.mu.Unlock()
		s.validationError(w, err.Error())
		return
	}
	for _, g := range req.groups {
		for i := range g {
			g[i].ref = s.ref(g[i].prop)
		}
	}
	if req.query != "" {
		req.queryRefs = make([]propRef, len(queryProps))
		for i, name := range queryProps {
			req.queryRefs[i] = s.ref(name)
		}
	}
	now := s.cfg.Now()
	var hits []*storedItem
	for i := range s.items.len() {
		it := s.items.at(i)
		if s.createdAt(it).Add(s.cfg.SearchLag).After(now) {
			continue // not indexed yet
		}
		if req.matches(s, s.view(it)) {
			hits = append(hits, it)
		}
	}
	if req.sortProp != "" {
		typ := s.props[req.sortProp].Type
		type keyed struct {
			it  *storedItem
			val string
		}
		sorted := make([]keyed, len(hits))
		ref := s.ref(req.sortProp)
		for i, it := range hits {
			val, _ := s.value(s.view(it), ref)
			sorted[i] = keyed{it, val}
		}
		slices.SortStableFunc(sorted, func(a, b keyed) int {
			c := compareValues(typ, a.val, b.val)
			if req.sortDesc {
				c = -c
			}
			return c
		})
		for i := range sorted {
			hits[i] = sorted[i].it
		}
	}
	total := len(hits)
	end := min(req.after+req.limit, total, maxSearchResults)
	resp := collectionResponse{Total: total, Results: []wireObject{}}
	only := req.properties
	if only == nil {
		only = []string{}
	}
	for i := req.after; i < end; i++ {
		resp.Results = append(resp.Results, s.searchResult(hits[i], only))
	}
	s.mu.Unlock()
	if end < min(total, maxSearchResults) {
		after := strconv.Itoa(end)
		resp.Paging = &paging{Next: nextPage{After: after, Link: "?after=" + after}}
	}
	writeJSON(w, http.StatusOK, resp)
}

// matches reports whether the item satisfies any filter group (all filters
// of it) and the free-text query. Guarded by s.mu.
func (req *searchRequest) matches(s *Server, v view) bool {
	if req.query != "" && !req.matchesQuery(s, v) {
		return false
	}
	if len(req.groups) == 0 {
		return true
	}
	for _, g := range req.groups {
		all := true
		for _, f := range g {
			val, has := s.value(v, f.ref)
			if !f.matches(val, has) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// queryProps are the line item's default searchable text properties.
var queryProps = []string{"name", "description", "hs_sku", "hs_object_id"}

// matchesQuery searches the line item's queryProps for the query.
func (req *searchRequest) matchesQuery(s *Server, v view) bool {
	q := strings.ToLower(req.query)
	for _, r := range req.queryRefs {
		val, _ := s.value(v, r)
		if strings.Contains(strings.ToLower(val), q) {
			return true
		}
	}
	return false
}

// searchResult renders a stored item as a search result: the named
// properties (null when unset) plus HubSpot's always-returned ones.
// Guarded by s.mu.
func (s *Server) searchResult(it *storedItem, only []string) wireObject {
	return s.publicObject(it, only, true)
}

// publicObject renders a stored item as a SimplePublicObject holding the
// named properties and createdate, hs_lastmodifieddate and hs_object_id.
// A named property without a value is null if nulls is set, else left out.
// Guarded by s.mu.
func (s *Server) publicObject(it *storedItem, only []string, nulls bool) wireObject {
	v := s.view(it)
	props := make(map[string]*string, len(systemProps)+len(only))
	for _, k := range slices.Concat(systemProps[:], only) {
		if val, ok := s.get(v, k); ok {
			props[k] = &val
		} else if nulls {
			props[k] = nil
		}
	}
	return wireObject{ID: v.id(), Properties: props, CreatedAt: v.created.ts, UpdatedAt: v.modified.ts}
}

// matches reports whether a value (has false: the property is unset)
// satisfies the filter.
func (f filter) matches(v string, has bool) bool {
	switch f.op {
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	case "NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN":
		if !has {
			return true
		}
	}
	if !has {
		return false
	}
	switch f.op {
	case "EQ":
		return f.equal(v, f.value)
	case "NEQ":
		return !f.equal(v, f.value)
	case "IN", "NOT_IN":
		in := slices.ContainsFunc(f.values, func(x string) bool { return f.inEqual(v, x) })
		return in == (f.op == "IN")
	case "LT":
		return compareValues(f.propType, v, f.value) < 0
	case "LTE":
		return compareValues(f.propType, v, f.value) <= 0
	case "GT":
		return compareValues(f.propType, v, f.value) > 0
	case "GTE":
		return compareValues(f.propType, v, f.value) >= 0
	case "BETWEEN":
		return compareValues(f.propType, v, f.value) >= 0 && compareValues(f.propType, v, f.high) <= 0
	case "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		return containsToken(v, f.value) == (f.op == "CONTAINS_TOKEN")
	}
	return false
}

// equal is EQ: case-insensitive, except enumerations (case-sensitive) and
// numbers and dates (by value). A multi-checkbox matches any of its values.
func (f filter) equal(stored, want string) bool {
	switch f.propType {
	case "enumeration":
		if f.checkbox {
			return slices.Contains(strings.Split(stored, ";"), want)
		}
		return stored == want
	case "number", "date", "datetime":
		return compareValues(f.propType, stored, want) == 0
	}
	return strings.EqualFold(stored, want)
}

// inEqual is IN/NOT_IN: exact match; for string properties the searched
// values must be lowercase, so they are compared with the lowercased value.
func (f filter) inEqual(stored, want string) bool {
	switch f.propType {
	case "enumeration", "number", "date", "datetime":
		return f.equal(stored, want)
	}
	return lowerEquals(stored, want)
}

// lowerEquals reports whether strings.ToLower(s) == want, without
// allocating when s is ASCII.
func lowerEquals(s, want string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return strings.ToLower(s) == want
		}
	}
	if len(s) != len(want) {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// compareValues orders two values of a property type; unparsable and empty
// values sort after parsable ones.
func compareValues(typ, a, b string) int {
	switch typ {
	case "number":
		x, errA := strconv.ParseFloat(a, 64)
		y, errB := strconv.ParseFloat(b, 64)
		if errA == nil && errB == nil {
			return cmp.Compare(x, y)
		}
		return cmp.Compare(boolRank(errA == nil), boolRank(errB == nil))
	case "date", "datetime":
		x, okA := epochOf(a)
		y, okB := epochOf(b)
		if okA && okB {
			return cmp.Compare(x, y)
		}
		return cmp.Compare(boolRank(okA), boolRank(okB))
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

func boolRank(ok bool) int {
	if ok {
		return 0
	}
	return 1
}

// epochOf reads a date or datetime value as epoch milliseconds.
func epochOf(v string) (int64, bool) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return ms, true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UnixMilli(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UnixMilli(), true
	}
	return 0, false
}

// containsToken matches a token pattern (with * wildcards) against the
// value's whitespace-separated tokens, case-insensitively.
func containsToken(v, pattern string) bool {
	pattern = strings.ToLower(pattern)
	for _, tok := range strings.Fields(strings.ToLower(v)) {
		if ok, _ := path.Match(pattern, tok); ok {
			return true
		}
	}
	return false
}
