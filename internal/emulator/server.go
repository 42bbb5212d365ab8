package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is an emulated HubSpot portal. It is an http.Handler and is safe
// for concurrent use.
type Server struct {
	cfg    Config
	scopes map[string]bool
	start  time.Time

	mu      sync.Mutex
	rng     *rand.Rand
	faults  Faults
	props   map[string]*Property
	order   []string                   // property names in insertion order
	objects map[string]map[string]bool // seeded association targets: type -> id set
	targets map[string]*targetType     // unique properties of readable targets, by type
	assoc   map[assocKey]assocDef      // association types from line_items
	items   itemList                   // sorted by id (ids only grow)
	batches []batchRecord              // what the items of each committing batch share
	meta    map[int64]itemMeta         // items rewritten since their creation
	nextID  int64
	unique  map[string]map[string]int64 // property -> value -> owning line item id
	limits  limiter
	stats   Stats

	// Interned property names and association types of stored items.
	names      []string
	nameIdx    map[string]int
	assocTypes []Association // without ToID
	assocIdx   map[assocKey]int

	hashSeed maphash.Seed // for hashing input keys
}

// New returns a portal configured by cfg with HubSpot's default line item
// properties and association types.
func New(cfg Config) *Server {
	if cfg.RateMax == 0 {
		cfg.RateMax = DefaultRateMax
	}
	if cfg.RateInterval <= 0 {
		cfg.RateInterval = DefaultRateInterval
	}
	if cfg.SearchPerSecond == 0 {
		cfg.SearchPerSecond = DefaultSearchPerSecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Account.PortalID == 0 {
		cfg.Account.PortalID = PortalID
	}
	if cfg.Account.AccountType == "" {
		cfg.Account.AccountType = "STANDARD"
	}
	if cfg.Account.TimeZone == "" {
		cfg.Account.TimeZone = "US/Eastern"
	}
	if cfg.Account.Currency == "" {
		cfg.Account.Currency = "USD"
	}
	scopes := cfg.Scopes
	if scopes == nil {
		scopes = DefaultScopes()
	}
	cfg.Scopes = slices.Clone(scopes)
	s := &Server{
		cfg:     cfg,
		scopes:  make(map[string]bool),
		start:   cfg.Now(),
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
		props:   make(map[string]*Property),
		objects: make(map[string]map[string]bool),
		targets: make(map[string]*targetType),
		assoc:   make(map[assocKey]assocDef),
		nextID:  37_400_000_000 + int64(cfg.Seed%1000)*1000,
		unique:  make(map[string]map[string]int64),

		nameIdx:  make(map[string]int),
		assocIdx: make(map[assocKey]int),
		hashSeed: maphash.MakeSeed(),
	}
	for _, sc := range cfg.Scopes {
		s.scopes[sc] = true
	}
	for _, p := range defaultProperties() {
		s.addProperty(p)
	}
	for _, a := range defaultAssociationTypes() {
		s.assoc[assocKey{a.category, a.typeID}] = a
	}
	s.cfg.SeedUnique = slices.Clone(cfg.SeedUnique)
	for _, u := range s.cfg.SeedUnique {
		s.addTargetUnique(u)
	}
	s.limits.reset(s.cfg.Now())
	return s
}

// now reads the configured clock, truncated to HubSpot's millisecond precision.
func (s *Server) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// AddProperty adds a property definition, or replaces the one of the same
// name. Replacing a property does not revalidate stored line items.
func (s *Server) AddProperty(p Property) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addProperty(p)
}

func (s *Server) addProperty(p Property) {
	if p.GroupName == "" {
		p.GroupName = defaultGroupName
	}
	if p.FieldType == "" {
		p.FieldType = defaultFieldType(p.Type)
	}
	p.Options = slices.Clone(p.Options)
	if _, ok := s.props[p.Name]; !ok {
		s.order = append(s.order, p.Name)
	}
	s.props[p.Name] = &p
}

// SeedObjects makes ids of objectType exist as association targets.
// objectType is one of deals, quotes, invoices, orders, carts, subscriptions,
// payments or discounts; SeedObjects panics on any other.
func (s *Server) SeedObjects(objectType string, ids ...string) {
	if !slices.Contains(objectTypes, objectType) {
		panic(fmt.Sprintf("emulator: SeedObjects: unknown object type %q (want one of %s)", objectType, strings.Join(objectTypes, ", ")))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.objects[objectType]
	if set == nil {
		set = make(map[string]bool)
		s.objects[objectType] = set
	}
	for _, id := range ids {
		set[id] = true
		s.seedTargetValues(objectType, id)
	}
}

// AddAssociationLabel registers a custom association type from line items to
// toObjectType, as a portal admin (USER_DEFINED) or an app
// (INTEGRATOR_DEFINED, WORK) would. It panics if toObjectType is not a
// seedable object type, if category is HUBSPOT_DEFINED or unknown, or if the
// (category, typeID) pair already exists.
func (s *Server) AddAssociationLabel(toObjectType string, category string, typeID int, label string) {
	if !slices.Contains(objectTypes, toObjectType) {
		panic(fmt.Sprintf("emulator: AddAssociationLabel: unknown object type %q", toObjectType))
	}
	switch category {
	case CategoryUserDefined, CategoryIntegratorDefined, CategoryWork:
	default:
		panic(fmt.Sprintf("emulator: AddAssociationLabel: category %q cannot be registered", category))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := assocKey{category, typeID}
	if _, dup := s.assoc[k]; dup {
		panic(fmt.Sprintf("emulator: AddAssociationLabel: %s %d already exists", category, typeID))
	}
	s.assoc[k] = assocDef{category: category, typeID: typeID, toType: toObjectType, label: label}
}

// SetFaults replaces the fault settings. It is safe to call while requests
// are being served; a request uses the settings current when it draws.
func (s *Server) SetFaults(f Faults) {
	f.ErrorStatuses = slices.Clone(f.ErrorStatuses)
	f.CommitThenStatuses = slices.Clone(f.CommitThenStatuses)
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// LineItems returns a deep copy of the created line items, sorted by ID
// (numerically, which is also creation order).
func (s *Server) LineItems() []LineItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LineItem, s.items.len())
	for i := range out {
		out[i] = s.lineItem(s.items.at(i))
	}
	return out
}

// LineItemCount returns the number of created line items: len(LineItems())
// without copying them.
func (s *Server) LineItemCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items.len()
}

// PropertyValueCounts returns how many created line items hold each value
// of the property name, counting those without it under "". It is what
// counting LineItems()[i].Properties[name] would give, without copying
// every line item.
func (s *Server) PropertyValueCounts(name string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := make(map[string]int, s.items.len())
	ref := s.ref(name)
	for i := range s.items.len() {
		v, _ := s.value(s.view(s.items.at(i)), ref)
		counts[v]++
	}
	return counts
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetDaily starts a new day for the daily quota, as midnight would.
func (s *Server) ResetDaily() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.resetDay(s.cfg.Now())
}

// rateClass tells which limits an endpoint is subject to.
type rateClass int

const (
	classBurst  rateClass = iota // ten-secondly window + daily
	classSearch                  // secondly search limit + daily, no burst headers
	classExempt                  // exempt from the burst window ("ten-secondly" exemption in the spec) + daily
)

// apiVersion tells which generation of HubSpot's API a path belongs to.
type apiVersion int

const (
	apiV3   apiVersion = iota // /crm/v3/objects, /crm/v3/properties, /crm/v4/associations
	api2026                   // the date-versioned 2026-09 APIs
)

// route is one emulated endpoint.
type route struct {
	method string
	class  rateClass
	scopes func(params []string) []string // any one of them suffices
	// with2026 marks the 2026-09 line item endpoints, which also need
	// e-commerce (all of the scopes) unless Config.GranularScopeSuffices2026.
	with2026 bool
	// assoc marks association batch creates, whose class
	// Config.AssociationsBurstExempt may turn into classExempt.
	assoc   bool
	handler func(s *Server, w http.ResponseWriter, r *http.Request, params []string)
}

// versioned adapts a handler that serves both API generations.
func versioned(v apiVersion, h func(s *Server, w http.ResponseWriter, r *http.Request, params []string, v apiVersion)) func(*Server, http.ResponseWriter, *http.Request, []string) {
	return func(s *Server, w http.ResponseWriter, r *http.Request, params []string) { h(s, w, r, params, v) }
}

// match finds the route for path, the methods allowed on it, and the path parameters.
func match(path string) (routes []route, params []string) {
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case path == "/crm/v3/objects/line_items/batch/create":
		return []route{{method: http.MethodPost, class: classBurst, scopes: fixed(ScopeLineItemsWrite), handler: (*Server).handleBatchCreate}}, nil
	case path == "/crm/v3/objects/line_items/batch/read":
		return []route{{method: http.MethodPost, class: classBurst, scopes: fixed(ScopeLineItemsRead), handler: (*Server).handleBatchRead}}, nil
	case path == "/crm/v3/objects/line_items/batch/upsert":
		return []route{{method: http.MethodPost, class: classBurst, scopes: fixed(ScopeLineItemsWrite), handler: versioned(apiV3, (*Server).handleUpsert)}}, nil
	case len(seg) == 6 && seg[0] == "crm" && seg[1] == "v3" && seg[2] == "objects" && seg[4] == "batch" && seg[5] == "read":
		if t, ok := readableTarget(seg[3]); ok {
			return []route{{method: http.MethodPost, class: classBurst, scopes: fixed(objectTypeInfos[t].scope), handler: versioned(apiV3, (*Server).handleTargetRead)}}, []string{t}
		}
	case len(seg) >= 5 && seg[0] == "crm" && seg[1] == "objects" && seg[2] == "2026-09":
		return match2026Objects(seg)
	case len(seg) == 4 && seg[0] == "crm" && seg[1] == "properties" && seg[2] == "2026-09" && seg[3] != "":
		return []route{{method: http.MethodGet, class: classBurst, scopes: fixed(ScopeLineItemSchemasRead), handler: versioned(api2026, (*Server).handlePropertiesVersion)}}, seg[3:]
	case len(seg) == 7 && seg[0] == "crm" && seg[5] == "batch" && seg[6] == "create" && seg[3] != "" && seg[4] != "" &&
		((seg[1] == "v4" && seg[2] == "associations") || (seg[1] == "associations" && seg[2] == "2026-09")):
		v := apiV3
		if seg[2] == "2026-09" {
			v = api2026
		}
		return []route{{method: http.MethodPost, class: classBurst, assoc: true, scopes: fixed(ScopeLineItemsWrite), handler: versioned(v, (*Server).handleAssocCreate)}}, seg[3:5]
	case path == "/account-info/v3/details":
		// The spec asks only for the basic oauth scope, which every token has.
		return []route{{method: http.MethodGet, class: classBurst, scopes: nil, handler: (*Server).handleAccount}}, nil
	case path == "/crm/v3/objects/line_items/search":
		return []route{{method: http.MethodPost, class: classSearch, scopes: fixed(ScopeLineItemsRead), handler: (*Server).handleSearch}}, nil
	case len(seg) == 4 && seg[0] == "crm" && seg[1] == "v3" && seg[2] == "properties" && seg[3] != "":
		return []route{{method: http.MethodGet, class: classBurst, scopes: fixed(ScopeLineItemSchemasRead), handler: (*Server).handleProperties}}, seg[3:]
	case len(seg) == 6 && seg[0] == "crm" && seg[5] == "labels" && seg[3] != "" && seg[4] != "" &&
		((seg[1] == "associations" && seg[2] == "v4") || (seg[1] == "v4" && seg[2] == "associations")):
		return []route{{method: http.MethodGet, class: classExempt, scopes: labelScopes, handler: (*Server).handleLabels}}, seg[3:5]
	}
	return nil, nil
}

// match2026Objects matches /crm/objects/2026-09/{objectType}/...: line
// item batch create, upsert, read and search, and batch read of the
// readable association targets.
func match2026Objects(seg []string) (routes []route, params []string) {
	typ := seg[3]
	switch {
	case len(seg) == 5 && seg[4] == "search" && isLineItemType(typ):
		return []route{{method: http.MethodPost, class: classSearch, with2026: true, scopes: fixed(ScopeLineItemsRead), handler: versioned(api2026, (*Server).handleSearchVersion)}}, nil
	case len(seg) == 6 && seg[4] == "batch" && isLineItemType(typ):
		switch seg[5] {
		case "create":
			return []route{{method: http.MethodPost, class: classBurst, with2026: true, scopes: fixed(ScopeLineItemsWrite), handler: versioned(api2026, (*Server).handleBatchCreateVersion)}}, nil
		case "upsert":
			return []route{{method: http.MethodPost, class: classBurst, with2026: true, scopes: fixed(ScopeLineItemsWrite), handler: versioned(api2026, (*Server).handleUpsert)}}, nil
		case "read":
			return []route{{method: http.MethodPost, class: classBurst, with2026: true, scopes: fixed(ScopeLineItemsRead), handler: versioned(api2026, (*Server).handleBatchReadVersion)}}, nil
		}
	case len(seg) == 6 && seg[4] == "batch" && seg[5] == "read":
		if t, ok := readableTarget(typ); ok {
			return []route{{method: http.MethodPost, class: classBurst, scopes: fixed(objectTypeInfos[t].scope), handler: versioned(api2026, (*Server).handleTargetRead)}}, []string{t}
		}
	}
	return nil, nil
}

func fixed(scopes ...string) func([]string) []string {
	return func([]string) []string { return scopes }
}

// process runs a request's endpoint, and counts it in Stats.Orphaned when
// its client had gone by the time it was answered.
func (s *Server) process(rt *route, w http.ResponseWriter, r *http.Request, params []string) {
	rt.handler(s, w, r, params)
	if r.Context().Err() != nil {
		s.mu.Lock()
		s.stats.Orphaned++
		s.mu.Unlock()
	}
}

// ServeHTTP answers one request the way HubSpot would: latency, injected
// gateway errors, authentication, rate limits and injected 429s, scopes,
// then the endpoint itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ErrorForms == "" {
		s.serve(w, r)
		return
	}
	fw := &formWriter{w: w, form: s.cfg.ErrorForms}
	s.serve(fw, r)
	fw.flush() // not reached when the handler drops the connection
}

// serve answers r (see ServeHTTP).
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.stats.InFlight++
	defer func() {
		s.mu.Lock()
		s.stats.InFlight--
		s.mu.Unlock()
	}()
	latency := s.faults.Latency
	if max := s.faults.LatencyMax; max > latency {
		latency += time.Duration(s.rng.Int64N(int64(max - latency)))
	}
	s.mu.Unlock()
	// The gateway has the whole request before anything happens; a client
	// that goes away before sending all of it has sent nothing.
	// (One byte over the limit is enough for the endpoint to answer 413.)
	if r.Body != nil {
		body, err := readAll(io.LimitReader(r.Body, maxRequestBodyBytes+1), r.ContentLength)
		r.Body.Close()
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	// The request's latency is spent before it is counted or after, as
	// Config.CountAtCompletion says. A client that goes away meanwhile does
	// not cut it short: HubSpot finishes a request it has received, and a
	// batch sent just before a client was killed may be created with no
	// one to read the answer.
	if s.cfg.CountAtCompletion {
		time.Sleep(latency)
	}

	routes, params := match(r.URL.Path)
	if len(routes) == 0 {
		s.writeError(w, http.StatusNotFound, apiError{Message: "resource not found"})
		return
	}
	var rt *route
	var allowed []string
	for i := range routes {
		allowed = append(allowed, routes[i].method)
		if routes[i].method == r.Method {
			rt = &routes[i]
		}
	}
	if rt == nil {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, http.StatusMethodNotAllowed, apiError{Message: "HTTP 405 Method Not Allowed"})
		return
	}

	if status, ok := s.drawGatewayFault(); ok {
		s.writeGatewayError(w, status)
		return
	}

	if !s.authenticated(r) {
		s.writeError(w, http.StatusUnauthorized, apiError{
			Message:  "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
			Category: "INVALID_AUTHENTICATION",
		})
		return
	}

	class := rt.class
	if rt.assoc && s.cfg.AssociationsBurstExempt {
		class = classExempt
	}
	if !s.admit(w, class) {
		return
	}
	if !s.cfg.CountAtCompletion {
		time.Sleep(latency) // counted on arrival; the work and the answer come later
	}

	if rt.scopes == nil {
		s.process(rt, w, r, params)
		return
	}
	req := rt.scopes(params)
	granted, detail := s.hasAnyScope(req), "One or more of the following scopes are required."
	if rt.with2026 && !s.cfg.GranularScopeSuffices2026 {
		req = append(slices.Clip(req), ScopeECommerce)
		granted, detail = s.hasAllScopes(req), "All of the following scopes are required."
	}
	if !granted {
		s.writeError(w, http.StatusForbidden, apiError{
			Message: "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
			Errors: []errorDetail{{
				Message: detail,
				Context: map[string][]string{"requiredGranularScopes": req},
			}},
			Links:    map[string]string{"scopes": "https://developers.hubspot.com/scopes"},
			Category: "MISSING_SCOPES",
		})
		return
	}
	s.process(rt, w, r, params)
}

// authenticated reports whether r carries the portal's bearer token.
func (s *Server) authenticated(r *http.Request) bool {
	if s.cfg.Token == "" {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && token == s.cfg.Token
}

func (s *Server) hasAnyScope(req []string) bool {
	for _, sc := range req {
		if s.scopes[sc] {
			return true
		}
	}
	return false
}

func (s *Server) hasAllScopes(req []string) bool {
	for _, sc := range req {
		if !s.scopes[sc] {
			return false
		}
	}
	return true
}

// apiError is HubSpot's Error body. Field order follows HubSpot's.
type apiError struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Context       map[string][]string `json:"context,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
	Links         map[string]string   `json:"links,omitempty"`
	Category      string              `json:"category,omitempty"`
	// httpStatus is the status a batch failure is answered with; 0 means 400.
	httpStatus int
}

// errorDetail is HubSpot's ErrorDetail.
type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	In      string              `json:"in,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

// correlationID returns a random (seeded) version-4 UUID.
func (s *Server) correlationID() string {
	s.mu.Lock()
	hi, lo := s.rng.Uint64(), s.rng.Uint64()
	s.mu.Unlock()
	hi = hi&^(0xf<<12) | 4<<12
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// writeError writes e with status, filling in status and correlation id.
func (s *Server) writeError(w http.ResponseWriter, status int, e apiError) {
	e.Status = "error"
	if e.CorrelationID == "" {
		e.CorrelationID = s.correlationID()
	}
	w.Header().Set("X-HubSpot-Correlation-Id", e.CorrelationID)
	writeJSON(w, status, e)
}

// validationError writes a 400 VALIDATION_ERROR with msg.
func (s *Server) validationError(w http.ResponseWriter, msg string) {
	s.writeError(w, http.StatusBadRequest, apiError{Message: msg, Category: "VALIDATION_ERROR"})
}

// writeJSON writes v as HubSpot does: compact JSON, no HTML escaping.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body := marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// marshal encodes v without HTML escaping and without a trailing newline.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("emulator: encoding response: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// formatInstant renders t like Java's Instant.toString at millisecond
// precision, which is what HubSpot sends: no fraction when it is zero.
func formatInstant(t time.Time) string {
	t = t.UTC().Truncate(time.Millisecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}
