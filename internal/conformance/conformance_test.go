package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
)

// token is the access token of every emulated portal.
const token = "pat-na1-conformance"

// uniqueProp is a custom property with unique values, as the importer's
// mapping key is.
const uniqueProp = "external_id"

// portal is an emulated HubSpot portal and a real client whose every
// exchange with it goes through the validator.
type portal struct {
	srv    *emulator.Server
	v      *validator
	client *hubspot.Client
}

// newPortal returns a portal configured by cfg, with uniqueProp and the
// deals 1001 and 1002 to associate line items with. The client
// authenticates with tok.
func newPortal(t *testing.T, s *spec, cfg emulator.Config, tok string) *portal {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = token
	}
	srv := emulator.New(cfg)
	srv.AddProperty(emulator.Property{Name: uniqueProp, Label: "External ID", Type: "string", FieldType: "text", HasUniqueValue: true})
	srv.SeedObjects("deals", "1001", "1002")
	v := &validator{spec: s, next: srv.Transport()}
	c, err := hubspot.NewClient(&http.Client{Transport: v}, hubspot.DefaultBaseURL, hubspot.NewToken(tok), "conformance-test")
	if err != nil {
		t.Fatal(err)
	}
	return &portal{srv: srv, v: v, client: c}
}

// row is a line item input as the importer maps a CSV row: a few default
// properties, the unique key and an association with a deal.
func row(key string, props ...string) hubspot.CreateInput {
	pv := hubspot.ValuesOf(map[string]string{"name": "Widget " + key, "price": "12.50", "quantity": "3", uniqueProp: key})
	for i := 0; i+1 < len(props); i += 2 {
		pv.Set(props[i], props[i+1])
	}
	return hubspot.CreateInput{
		Properties: pv,
		Associations: []hubspot.Association{{
			To:    hubspot.ObjectID{ID: "1001"},
			Types: []hubspot.AssociationType{{Category: hubspot.CategoryHubSpotDefined, TypeID: 20}},
		}},
	}
}

// batch encodes inputs as the importer does (chunker.Encode, then
// chunker.NewBatch), with the trace ids "1", "2", ...
func batch(inputs ...hubspot.CreateInput) []byte {
	items := make([]*chunker.Item, len(inputs))
	for i, in := range inputs {
		items[i] = chunker.Encode(i+1, nil, "", in)
	}
	return chunker.NewBatch(items).Body
}

// keys returns n unique keys prefix-0, prefix-1, ...
func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// create creates one line item per key in batches of 100 and fails t
// unless each batch is answered 201.
func (p *portal) create(t *testing.T, keys ...string) []string {
	t.Helper()
	var ids []string
	for chunk := range slices.Chunk(keys, hubspot.MaxBatchInputs) {
		inputs := make([]hubspot.CreateInput, len(chunk))
		for i, k := range chunk {
			inputs[i] = row(k)
		}
		res, err := p.client.BatchCreate(context.Background(), batch(inputs...))
		if err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("creating %d line items: %+v, %v", len(chunk), res, err)
		}
		for _, r := range res.Results {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// apiError returns err as an *hubspot.APIError of status, or fails t.
func apiError(t *testing.T, err error, status int) *hubspot.APIError {
	t.Helper()
	var ae *hubspot.APIError
	if !errors.As(err, &ae) || ae.StatusCode != status {
		t.Fatalf("error = %v, want an APIError with status %d", err, status)
	}
	return ae
}

// search is a search with one filter, as valid a search as the client
// can send.
func search() hubspot.SearchRequest {
	return hubspot.SearchRequest{
		FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{{PropertyName: "quantity", Operator: "GTE", Value: "1"}}}},
		Limit:        10,
	}
}

// readRequest is a batch read by uniqueProp, as the importer's resolver
// sends it.
func readRequest(ids ...string) hubspot.BatchReadRequest {
	req := hubspot.BatchReadRequest{IDProperty: uniqueProp, Properties: []string{uniqueProp}}
	for _, id := range ids {
		req.Inputs = append(req.Inputs, hubspot.ObjectID{ID: id})
	}
	return req
}

// conformanceCase drives the client through one scenario. Every exchange
// of the case is checked against the specs, and the statuses of the
// answers must be want, in order.
type conformanceCase struct {
	name    string
	cfg     emulator.Config
	token   string             // the client's token; "" means the portal's
	version hubspot.APIVersion // the API version the client calls; "" means v3
	run     func(t *testing.T, p *portal)
	want    []int
	// want2026, if set, is want when bothVersions runs the case in
	// 2026-09, whose statuses differ from v3's (see partial).
	want2026 []int
	// skip, if set, names a known break of the spec by the client that
	// the case shows; the case is skipped until the client is fixed.
	skip string
}

// runCases runs each case as a subtest, in a synctest bubble of its own,
// against a new portal.
func runCases(t *testing.T, cases []conformanceCase) {
	s := specFor(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			synctest.Test(t, func(t *testing.T) {
				tok := tc.token
				if tok == "" {
					tok = token
				}
				p := newPortal(t, s, tc.cfg, tok)
				if tc.version != "" {
					p.client.UseAPIVersion(tc.version)
				}
				// Deferred, so that a run that stops at a failure still
				// has its exchanges checked.
				defer func() { requireConformant(t, p.v.take(), tc.want...) }()
				tc.run(t, p)
			})
		})
	}
}

// bothVersions returns each case twice: as "v3/name", and as "2026-09/name"
// with the client calling the 2026-09 paths and want2026 (if set) as want.
// The run functions ask p.client.APIVersion() where the answers differ.
func bothVersions(cases []conformanceCase) []conformanceCase {
	var out []conformanceCase
	for _, tc := range cases {
		v3, v2026 := tc, tc
		v3.name, v3.version, v3.want2026 = "v3/"+tc.name, hubspot.V3, nil
		v2026.name, v2026.version, v2026.want2026 = "2026-09/"+tc.name, hubspot.V202609, nil
		if tc.want2026 != nil {
			v2026.want = tc.want2026
		}
		out = append(out, v3, v2026)
	}
	return out
}

// is2026 reports whether p's client calls the 2026-09 paths.
func is2026(p *portal) bool { return p.client.APIVersion() == hubspot.V202609 }

// partial is the status of an answer to a batch in which some inputs
// failed: 207 in v3 (and v4 associations), and in 2026-09, whose specs
// document no 207 (the emulator follows them unless
// Config.MultiStatus2026), the operation's success status ok, with the
// errors in the body.
func partial(p *portal, ok int) int {
	if is2026(p) {
		return ok
	}
	return http.StatusMultiStatus
}

// TestBatchCreate: the batch creates the importer sends, and the answers it
// meets: 201; 207 with per-row validation errors; 207 with per-row
// CONFLICT errors (ConflictPerRow); 409 CONFLICT; 400 VALIDATION_ERROR for
// a batch that fails whole. In both API versions: 2026-09 answers per-row
// errors with a 201 (see partial).
func TestBatchCreate(t *testing.T) {
	ctx := context.Background()
	runCases(t, bothVersions([]conformanceCase{{
		name: "201 created",
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchCreate(ctx, batch(row("A"), row("B", "hs_sku", "SKU-1", "recurringbillingfrequency", "monthly"),
				hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": "no associations"})}))
			if err != nil || len(res.Results) != 3 {
				t.Fatalf("BatchCreate = %+v, %v; want 3 results", res, err)
			}
		},
		want: []int{201},
	}, {
		name: "207 per-row validation errors",
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchCreate(ctx, batch(row("A"), row("B", "price", "-1"), row("C", "hs_line_item_currency_code", "Euro"), row("D", "nosuchproperty", "x")))
			if want := partial(p, http.StatusCreated); err != nil || res.StatusCode != want || len(res.Results) != 1 || len(res.Errors) != 3 {
				t.Fatalf("BatchCreate = %+v, %v; want %d with 1 result and 3 errors", res, err, want)
			}
			for _, e := range res.Errors {
				if e.Category != "VALIDATION_ERROR" {
					t.Errorf("error category %q, want VALIDATION_ERROR", e.Category)
				}
			}
		},
		want:     []int{207},
		want2026: []int{201},
	}, {
		name: "207 per-row conflicts",
		cfg:  emulator.Config{ConflictPerRow: true},
		run: func(t *testing.T, p *portal) {
			p.create(t, "A", "B")
			res, err := p.client.BatchCreate(ctx, batch(row("A"), row("C"), row("B"), row("D", "price", "abc")))
			if want := partial(p, http.StatusCreated); err != nil || res.StatusCode != want || len(res.Results) != 1 || len(res.Errors) != 3 {
				t.Fatalf("BatchCreate = %+v, %v; want %d with 1 result and 3 errors", res, err, want)
			}
			conflicts := countErrors(res.Errors, func(e hubspot.StandardError) bool { return e.Category == "CONFLICT" })
			if conflicts != 2 {
				t.Errorf("%d CONFLICT errors, want 2: %+v", conflicts, res.Errors)
			}
		},
		want:     []int{201, 207},
		want2026: []int{201, 201},
	}, {
		name: "409 conflict",
		run: func(t *testing.T, p *portal) {
			p.create(t, "A")
			_, err := p.client.BatchCreate(ctx, batch(row("B"), row("A")))
			if ae := apiError(t, err, http.StatusConflict); ae.Category != "CONFLICT" {
				t.Errorf("category %q, want CONFLICT", ae.Category)
			}
		},
		want: []int{201, 409},
	}, {
		name: "409 OBJECT_ALREADY_EXISTS",
		cfg:  emulator.Config{ConflictAs: emulator.ConflictAlreadyExists},
		run: func(t *testing.T, p *portal) {
			p.create(t, "A")
			_, err := p.client.BatchCreate(ctx, batch(row("B"), row("A")))
			if ae := apiError(t, err, http.StatusConflict); ae.Category != "OBJECT_ALREADY_EXISTS" || !ae.Conflict() {
				t.Errorf("category %q, conflict %v; want OBJECT_ALREADY_EXISTS read as a conflict", ae.Category, ae.Conflict())
			}
		},
		want: []int{201, 409},
	}, {
		name: "400 conflict in words",
		cfg:  emulator.Config{ConflictAs: emulator.ConflictValidation},
		run: func(t *testing.T, p *portal) {
			p.create(t, "A")
			_, err := p.client.BatchCreate(ctx, batch(row("A")))
			if ae := apiError(t, err, http.StatusBadRequest); ae.Category != "VALIDATION_ERROR" || !ae.MayBeConflict() {
				t.Errorf("category %q, worded conflict %v; want VALIDATION_ERROR read as a worded conflict", ae.Category, ae.MayBeConflict())
			}
		},
		want: []int{201, 400},
	}, {
		name: "207 per-row conflicts in words",
		cfg:  emulator.Config{ConflictPerRow: true, ConflictAs: emulator.ConflictValidation},
		run: func(t *testing.T, p *portal) {
			p.create(t, "A")
			res, err := p.client.BatchCreate(ctx, batch(row("A"), row("C"), row("D", "price", "abc")))
			if want := partial(p, http.StatusCreated); err != nil || res.StatusCode != want || len(res.Results) != 1 || len(res.Errors) != 2 {
				t.Fatalf("BatchCreate = %+v, %v; want %d with 1 result and 2 errors", res, err, want)
			}
			conflicts := countErrors(res.Errors, hubspot.StandardError.MayBeConflict)
			if conflicts != 1 {
				t.Errorf("%d errors read as worded conflicts, want 1: %+v", conflicts, res.Errors)
			}
		},
		want:     []int{201, 207},
		want2026: []int{201, 201},
	}, {
		name: "201 without trace ids",
		cfg:  emulator.Config{CreateOmitsTraceID: true},
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchCreate(ctx, batch(row("A"), row("B")))
			if err != nil || len(res.Results) != 2 {
				t.Fatalf("BatchCreate = %+v, %v; want 2 results", res, err)
			}
			keys := map[string]bool{}
			for _, r := range res.Results {
				if r.ObjectWriteTraceID != "" {
					t.Errorf("result %s has trace id %q", r.ID, r.ObjectWriteTraceID)
				}
				keys[r.Property(uniqueProp)] = true
			}
			if !keys["A"] || !keys["B"] {
				t.Errorf("results hold the keys %v, want A and B", keys)
			}
		},
		want: []int{201},
	}, {
		name: "400 invalid association",
		run: func(t *testing.T, p *portal) {
			in := row("B")
			in.Associations[0].To.ID = "999"
			_, err := p.client.BatchCreate(ctx, batch(row("A"), in))
			if ae := apiError(t, err, http.StatusBadRequest); ae.Category != "VALIDATION_ERROR" {
				t.Errorf("category %q, want VALIDATION_ERROR", ae.Category)
			}
		},
		want: []int{400},
	}, {
		name: "400 duplicate unique value in one batch",
		run: func(t *testing.T, p *portal) {
			_, err := p.client.BatchCreate(ctx, batch(row("A"), row("A", "quantity", "7")))
			apiError(t, err, http.StatusBadRequest)
		},
		want: []int{400},
	}}))
}

// TestBatchRead: batch reads by idProperty, as the importer's resolver
// sends them, and by record id: 200 when every input is found, 207 when
// some or none are (2026-09: 200 with the errors), 400 for an idProperty
// without unique values. In both API versions; in 2026-09 requested
// properties without a value come back as null, which its spec allows.
func TestBatchRead(t *testing.T) {
	ctx := context.Background()
	runCases(t, bothVersions([]conformanceCase{{
		name: "200 all found by idProperty",
		run: func(t *testing.T, p *portal) {
			p.create(t, "A", "B")
			res, err := p.client.BatchRead(ctx, readRequest("A", "B"))
			if err != nil || res.StatusCode != http.StatusOK || len(res.Results) != 2 {
				t.Fatalf("BatchRead = %+v, %v; want 200 with 2 results", res, err)
			}
		},
		want: []int{201, 200},
	}, {
		name: "207 some not found",
		run: func(t *testing.T, p *portal) {
			p.create(t, "A")
			res, err := p.client.BatchRead(ctx, readRequest("A", "missing"))
			if want := partial(p, http.StatusOK); err != nil || res.StatusCode != want || len(res.Results) != 1 || len(res.Errors) != 1 {
				t.Fatalf("BatchRead = %+v, %v; want %d with 1 result and 1 error", res, err, want)
			}
		},
		want:     []int{201, 207},
		want2026: []int{201, 200},
	}, {
		name: "207 none found",
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchRead(ctx, readRequest("x", "y"))
			if want := partial(p, http.StatusOK); err != nil || res.StatusCode != want || len(res.Results) != 0 || len(res.Errors) != 2 {
				t.Fatalf("BatchRead = %+v, %v; want %d with 2 errors", res, err, want)
			}
		},
		want:     []int{207},
		want2026: []int{200},
	}, {
		name: "404 none found (BatchReadNoneFound404)",
		cfg:  emulator.Config{BatchReadNoneFound404: true},
		run: func(t *testing.T, p *portal) {
			_, err := p.client.BatchRead(ctx, readRequest("x", "y"))
			if ae := apiError(t, err, http.StatusNotFound); ae.Category != "OBJECT_NOT_FOUND" {
				t.Errorf("category %q, want OBJECT_NOT_FOUND", ae.Category)
			}
		},
		want: []int{404},
	}, {
		name: "200 by record id",
		run: func(t *testing.T, p *portal) {
			ids := p.create(t, "A", "B")
			req := hubspot.BatchReadRequest{Properties: []string{"name", "price", "hs_sku"}}
			for _, id := range ids {
				req.Inputs = append(req.Inputs, hubspot.ObjectID{ID: id})
			}
			res, err := p.client.BatchRead(ctx, req)
			if err != nil || res.StatusCode != http.StatusOK || len(res.Results) != 2 {
				t.Fatalf("BatchRead = %+v, %v; want 200 with 2 results", res, err)
			}
		},
		want: []int{201, 200},
	}, {
		name: "400 idProperty without unique values",
		run: func(t *testing.T, p *portal) {
			req := readRequest("A")
			req.IDProperty = "name"
			_, err := p.client.BatchRead(ctx, req)
			apiError(t, err, http.StatusBadRequest)
		},
		want: []int{400},
	}}))
}

// TestSearch: searches with filters, requested properties (some unset) and
// sorts, paged to the end with the cursor HubSpot returns. In both API
// versions.
func TestSearch(t *testing.T) {
	ctx := context.Background()
	runCases(t, bothVersions([]conformanceCase{{
		name: "paging",
		run: func(t *testing.T, p *portal) {
			p.create(t, keys("K", 25)...)
			req := hubspot.SearchRequest{
				FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{{PropertyName: "quantity", Operator: "EQ", Value: "3"}}}},
				Properties:   []string{uniqueProp, "name", "hs_sku"},
				Limit:        10,
			}
			var got int
			for page := 0; ; page++ {
				res, err := p.client.Search(ctx, req)
				if err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				got += len(res.Results)
				if res.Total != 25 {
					t.Errorf("page %d: total %d, want 25", page, res.Total)
				}
				if req.After = res.NextAfter(); req.After == "" {
					break
				}
			}
			if got != 25 {
				t.Errorf("%d results in all, want 25", got)
			}
		},
		want: []int{201, 200, 200, 200},
	}, {
		name: "IN filter, sort, no match",
		run: func(t *testing.T, p *portal) {
			p.create(t, "A", "B", "C")
			res, err := p.client.Search(ctx, hubspot.SearchRequest{
				FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{{PropertyName: uniqueProp, Operator: "IN", Values: []string{"a", "c"}}}}},
				Sorts:        []string{"-" + uniqueProp},
				Limit:        100,
			})
			if err != nil || res.Total != 2 {
				t.Fatalf("Search = %+v, %v; want 2 results", res, err)
			}
			res, err = p.client.Search(ctx, hubspot.SearchRequest{
				FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{{PropertyName: uniqueProp, Operator: "EQ", Value: "nothing"}}}},
				Limit:        10,
			})
			if err != nil || res.Total != 0 || res.NextAfter() != "" {
				t.Fatalf("Search = %+v, %v; want nothing", res, err)
			}
		},
		want: []int{201, 200, 200},
	}, {
		name: "no filter groups",
		run: func(t *testing.T, p *portal) {
			if _, err := p.client.Search(ctx, hubspot.SearchRequest{Limit: 10}); err != nil {
				t.Fatal(err)
			}
			if _, err := p.client.Search(ctx, hubspot.SearchRequest{FilterGroups: []hubspot.FilterGroup{{}}, Limit: 10}); err != nil {
				t.Fatal(err)
			}
		},
		want: []int{200, 200},
	}}))
}

// TestSchema: the property list and the association labels the importer
// reads before it sends anything, in both API versions (the labels
// endpoint is the same in both).
func TestSchema(t *testing.T) {
	ctx := context.Background()
	runCases(t, bothVersions([]conformanceCase{{
		name: "properties",
		run: func(t *testing.T, p *portal) {
			props, err := p.client.Properties(ctx)
			if err != nil || !slices.ContainsFunc(props, func(p hubspot.Property) bool { return p.Name == uniqueProp && p.HasUniqueValue }) {
				t.Fatalf("Properties = %+v, %v; want %s among them", props, err, uniqueProp)
			}
		},
		want: []int{200},
	}, {
		name: "association labels",
		run: func(t *testing.T, p *portal) {
			p.srv.AddAssociationLabel("deals", hubspot.CategoryUserDefined, 77, "Upsell")
			labels, err := p.client.AssociationLabels(ctx, "deals")
			if err != nil || !slices.Contains(labels, hubspot.AssociationLabel{Category: hubspot.CategoryUserDefined, TypeID: 77, Label: "Upsell"}) {
				t.Fatalf("AssociationLabels = %+v, %v; want the USER_DEFINED label among them", labels, err)
			}
			if _, err := p.client.AssociationLabels(ctx, "quotes"); err != nil {
				t.Fatal(err)
			}
		},
		want: []int{200, 200},
	}}))
}

// TestThrottledAndRefused: 429 answers of every policy the importer can
// meet (ten-secondly, search secondly, daily, injected with Retry-After),
// 401 for a wrong token and 403 for missing scopes, on each endpoint, in
// both API versions.
func TestThrottledAndRefused(t *testing.T) {
	ctx := context.Background()
	// all calls every endpoint once and returns the errors.
	all := func(p *portal) []error {
		_, e1 := p.client.Properties(ctx)
		_, e2 := p.client.AssociationLabels(ctx, "deals")
		_, e3 := p.client.BatchCreate(ctx, batch(row("A")))
		_, e4 := p.client.BatchRead(ctx, readRequest("A"))
		_, e5 := p.client.Search(ctx, search())
		_, e6 := p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A")))
		_, e7 := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{link("1", "1001")})
		_, e8 := p.client.BatchReadObjects(ctx, "deals", hubspot.BatchReadRequest{Inputs: []hubspot.ObjectID{{ID: "1001"}}})
		return []error{e1, e2, e3, e4, e5, e6, e7, e8}
	}
	runCases(t, bothVersions([]conformanceCase{{
		name: "429 ten-secondly",
		cfg:  emulator.Config{RateMax: 1},
		run: func(t *testing.T, p *portal) {
			if _, err := p.client.Properties(ctx); err != nil {
				t.Fatal(err)
			}
			_, err := p.client.BatchCreate(ctx, batch(row("A")))
			if ae := apiError(t, err, http.StatusTooManyRequests); ae.PolicyName != emulator.PolicyTenSecondly {
				t.Errorf("policy %q, want %s", ae.PolicyName, emulator.PolicyTenSecondly)
			}
			_, err = p.client.BatchRead(ctx, readRequest("A"))
			apiError(t, err, http.StatusTooManyRequests)
			_, err = p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A")))
			apiError(t, err, http.StatusTooManyRequests)
			_, err = p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{link("1", "1001")})
			apiError(t, err, http.StatusTooManyRequests)
			_, err = p.client.BatchReadObjects(ctx, "deals", hubspot.BatchReadRequest{Inputs: []hubspot.ObjectID{{ID: "1001"}}})
			apiError(t, err, http.StatusTooManyRequests)
		},
		want: []int{200, 429, 429, 429, 429, 429},
	}, {
		name: "associations exempt from the ten-secondly window (AssociationsBurstExempt)",
		cfg:  emulator.Config{RateMax: 1, AssociationsBurstExempt: true},
		run: func(t *testing.T, p *portal) {
			ids := p.create(t, "A")
			for range 2 {
				if _, err := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{link(ids[0], "1002")}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := p.client.Properties(ctx)
			apiError(t, err, http.StatusTooManyRequests)
		},
		want:     []int{201, 201, 201, 429},
		want2026: []int{201, 200, 200, 429},
	}, {
		name: "429 search secondly",
		cfg:  emulator.Config{SearchPerSecond: 1},
		run: func(t *testing.T, p *portal) {
			if _, err := p.client.Search(ctx, search()); err != nil {
				t.Fatal(err)
			}
			_, err := p.client.Search(ctx, search())
			if ae := apiError(t, err, http.StatusTooManyRequests); ae.PolicyName != emulator.PolicySecondly {
				t.Errorf("policy %q, want %s", ae.PolicyName, emulator.PolicySecondly)
			}
		},
		want: []int{200, 429},
	}, {
		name: "429 daily",
		cfg:  emulator.Config{DailyLimit: 1},
		run: func(t *testing.T, p *portal) {
			if _, err := p.client.Properties(ctx); err != nil {
				t.Fatal(err)
			}
			for _, err := range all(p) {
				if ae := apiError(t, err, http.StatusTooManyRequests); ae.PolicyName != emulator.PolicyDaily {
					t.Errorf("policy %q, want %s", ae.PolicyName, emulator.PolicyDaily)
				}
			}
		},
		want: []int{200, 429, 429, 429, 429, 429, 429, 429, 429},
	}, {
		name: "429 injected with Retry-After",
		run: func(t *testing.T, p *portal) {
			p.srv.SetFaults(emulator.Faults{RateLimitRate: 1, RetryAfter: true})
			for _, err := range all(p) {
				if ae := apiError(t, err, http.StatusTooManyRequests); ae.RetryAfter <= 0 {
					t.Errorf("no Retry-After: %v", ae)
				}
			}
		},
		want: []int{429, 429, 429, 429, 429, 429, 429, 429},
	}, {
		name:  "401 wrong token",
		token: "pat-na1-wrong",
		run: func(t *testing.T, p *portal) {
			for _, err := range all(p) {
				if ae := apiError(t, err, http.StatusUnauthorized); ae.Category != "INVALID_AUTHENTICATION" {
					t.Errorf("category %q, want INVALID_AUTHENTICATION", ae.Category)
				}
			}
		},
		want: []int{401, 401, 401, 401, 401, 401, 401, 401},
	}, {
		name: "403 missing scopes",
		cfg:  emulator.Config{Scopes: []string{}},
		run: func(t *testing.T, p *portal) {
			for _, err := range all(p) {
				if ae := apiError(t, err, http.StatusForbidden); ae.Category != "MISSING_SCOPES" {
					t.Errorf("category %q, want MISSING_SCOPES", ae.Category)
				}
			}
		},
		want: []int{403, 403, 403, 403, 403, 403, 403, 403},
	}}))
}

// upsert encodes inputs as the importer does in upsert mode (a
// chunker.Encoder with IDProperty uniqueProp, then chunker.NewBatch): each
// input named by its uniqueProp value, with the trace ids "1", "2", ...,
// and without its associations, which upserts cannot carry.
func upsert(inputs ...hubspot.CreateInput) []byte {
	e := &chunker.Encoder{IDProperty: uniqueProp}
	items := make([]*chunker.Item, len(inputs))
	for i, in := range inputs {
		items[i] = e.Encode(i+1, nil, in.Properties.Value(uniqueProp), in)
	}
	return chunker.NewBatch(items).Body
}

// link is an association of the line item from with the deal to, of the
// default type (HUBSPOT_DEFINED 20), as the importer makes them after an
// upsert.
func link(from, to string) hubspot.AssociationInput {
	return hubspot.AssociationInput{
		From:  hubspot.ObjectID{ID: from},
		To:    hubspot.ObjectID{ID: to},
		Types: []hubspot.AssociationType{{Category: hubspot.CategoryHubSpotDefined, TypeID: 20}},
	}
}

// keysOf returns the results' idProperty values, New flags and trace ids,
// sorted by key.
func keysOf(res *hubspot.BatchResult) []string {
	var out []string
	for _, r := range res.Results {
		out = append(out, fmt.Sprintf("%s new=%t trace=%q", r.Key, r.New, r.ObjectWriteTraceID))
	}
	slices.Sort(out)
	return out
}

// TestBatchUpsert: the batch upserts the importer sends in upsert mode, in
// both API versions: all new (200), the same keys again (200, updates), a
// bad value (207 with a per-input error; 2026-09: 200 with it), results
// without trace ids (UpsertOmitsTraceID), and 400 for a batch naming one
// key twice.
func TestBatchUpsert(t *testing.T) {
	ctx := context.Background()
	runCases(t, bothVersions([]conformanceCase{{
		name: "200 all new",
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A"), row("B", "hs_sku", "SKU-1")))
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("BatchUpsert = %+v, %v; want 200", res, err)
			}
			want := []string{`A new=true trace="1"`, `B new=true trace="2"`}
			if got := keysOf(res); !slices.Equal(got, want) {
				t.Errorf("results %q, want %q", got, want)
			}
		},
		want: []int{200},
	}, {
		name: "200 the same keys again: updates",
		run: func(t *testing.T, p *portal) {
			first, err := p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A"), row("B")))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A", "quantity", "5"), row("B", "hs_sku", ""), row("C")))
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("BatchUpsert = %+v, %v; want 200", res, err)
			}
			want := []string{`A new=false trace="1"`, `B new=false trace="2"`, `C new=true trace="3"`}
			if got := keysOf(res); !slices.Equal(got, want) {
				t.Errorf("results %q, want %q", got, want)
			}
			ids := map[string]string{}
			for _, r := range first.Results {
				ids[r.Key] = r.ID
			}
			for _, r := range res.Results {
				if id, ok := ids[r.Key]; ok && id != r.ID {
					t.Errorf("%s: updated as %s, created as %s", r.Key, r.ID, id)
				}
			}
		},
		want: []int{200, 200},
	}, {
		name: "207 a bad value",
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A"), row("B", "price", "-1"), row("C", "quantity", "many")))
			if want := partial(p, http.StatusOK); err != nil || res.StatusCode != want || len(res.Results) != 1 || len(res.Errors) != 2 {
				t.Fatalf("BatchUpsert = %+v, %v; want %d with 1 result and 2 errors", res, err, want)
			}
			var traces []string
			for _, e := range res.Errors {
				traces = append(traces, e.TraceIDs()...)
			}
			if slices.Sort(traces); !slices.Equal(traces, []string{"2", "3"}) {
				t.Errorf("errors for trace ids %q, want 2 and 3", traces)
			}
		},
		want:     []int{207},
		want2026: []int{200},
	}, {
		name: "200 without trace ids (UpsertOmitsTraceID)",
		cfg:  emulator.Config{UpsertOmitsTraceID: true},
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A"), row("B")))
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("BatchUpsert = %+v, %v; want 200", res, err)
			}
			want := []string{`A new=true trace=""`, `B new=true trace=""`}
			if got := keysOf(res); !slices.Equal(got, want) {
				t.Errorf("results %q, want %q", got, want)
			}
			res, err = p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A", "quantity", "2"), row("C", "price", "x")))
			if want := partial(p, http.StatusOK); err != nil || res.StatusCode != want || len(res.Results) != 1 || len(res.Errors) != 1 {
				t.Fatalf("BatchUpsert = %+v, %v; want %d with 1 result and 1 error", res, err, want)
			}
			if got := res.Errors[0].TraceIDs(); !slices.Equal(got, []string{"2"}) {
				t.Errorf("error for trace ids %q, want 2", got)
			}
		},
		want:     []int{200, 207},
		want2026: []int{200, 200},
	}, {
		name: "400 one key twice",
		run: func(t *testing.T, p *portal) {
			_, err := p.client.BatchUpsert(ctx, uniqueProp, upsert(row("A"), row("A", "quantity", "7")))
			if ae := apiError(t, err, http.StatusBadRequest); ae.Category != "VALIDATION_ERROR" {
				t.Errorf("category %q, want VALIDATION_ERROR", ae.Category)
			}
		},
		want: []int{400},
	}, {
		name: "400 idProperty without unique values",
		run: func(t *testing.T, p *portal) {
			e := &chunker.Encoder{IDProperty: "name"}
			_, err := p.client.BatchUpsert(ctx, "name", chunker.NewBatch([]*chunker.Item{e.Encode(1, nil, "Widget", row("A"))}).Body)
			apiError(t, err, http.StatusBadRequest)
		},
		want: []int{400},
	}}))
}

// TestCreateAssociations: the association batch creates the importer sends
// after an upsert, in both API versions: new associations (v4 201,
// 2026-09 200), labelled ones, associations that exist already (no
// error), inputs naming a missing deal or line item (a per-input error:
// v4 207, 2026-09 200 with the errors), and 400 for an unknown type.
func TestCreateAssociations(t *testing.T) {
	ctx := context.Background()
	runCases(t, bothVersions([]conformanceCase{{
		name: "created",
		run: func(t *testing.T, p *portal) {
			ids := p.create(t, "A", "B")
			res, err := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{link(ids[0], "1002"), link(ids[1], "1002")})
			if err != nil || len(res.Results) != 2 || len(res.Errors) != 0 {
				t.Fatalf("CreateAssociations = %+v, %v; want 2 results", res, err)
			}
		},
		want:     []int{201, 201},
		want2026: []int{201, 200},
	}, {
		name: "labelled",
		run: func(t *testing.T, p *portal) {
			p.srv.AddAssociationLabel("deals", hubspot.CategoryUserDefined, 77, "Upsell")
			ids := p.create(t, "A")
			in := link(ids[0], "1002")
			in.Types = append(in.Types, hubspot.AssociationType{Category: hubspot.CategoryUserDefined, TypeID: 77})
			res, err := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{in})
			if err != nil || len(res.Results) != 1 {
				t.Fatalf("CreateAssociations = %+v, %v; want 1 result", res, err)
			}
		},
		want:     []int{201, 201},
		want2026: []int{201, 200},
	}, {
		name: "existing associations again",
		run: func(t *testing.T, p *portal) {
			ids := p.create(t, "A") // associated with 1001 inline
			for range 2 {
				res, err := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{link(ids[0], "1001"), link(ids[0], "1002")})
				if err != nil || len(res.Results) != 2 || len(res.Errors) != 0 {
					t.Fatalf("CreateAssociations = %+v, %v; want 2 results and no error", res, err)
				}
			}
		},
		want:     []int{201, 201, 201},
		want2026: []int{201, 200, 200},
	}, {
		name: "207 a missing deal or line item",
		run: func(t *testing.T, p *portal) {
			ids := p.create(t, "A")
			res, err := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{link(ids[0], "1002"), link(ids[0], "9999"), link("1", "1001")})
			if want := partial(p, http.StatusOK); err != nil || res.StatusCode != want || len(res.Results) != 1 || len(res.Errors) != 2 {
				t.Fatalf("CreateAssociations = %+v, %v; want %d with 1 result and 2 errors", res, err, want)
			}
			for _, e := range res.Errors {
				if e.Category != "OBJECT_NOT_FOUND" {
					t.Errorf("error category %q, want OBJECT_NOT_FOUND", e.Category)
				}
			}
		},
		want:     []int{201, 207},
		want2026: []int{201, 200},
	}, {
		name: "207 all missing",
		run: func(t *testing.T, p *portal) {
			res, err := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{link("1", "1001")})
			if want := partial(p, http.StatusOK); err != nil || res.StatusCode != want || len(res.Results) != 0 || len(res.Errors) != 1 {
				t.Fatalf("CreateAssociations = %+v, %v; want %d with 1 error", res, err, want)
			}
		},
		want:     []int{207},
		want2026: []int{200},
	}, {
		name: "400 unknown association type",
		run: func(t *testing.T, p *portal) {
			ids := p.create(t, "A")
			in := link(ids[0], "1002")
			in.Types[0].TypeID = 999
			_, err := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{in})
			if ae := apiError(t, err, http.StatusBadRequest); ae.Category != "VALIDATION_ERROR" {
				t.Errorf("category %q, want VALIDATION_ERROR", ae.Category)
			}
		},
		want: []int{201, 400},
	}}))
}

// dealKey is a unique property of the seeded deals.
const dealKey = "legacy_deal_id"

// dealRead is a batch read of deals by dealKey, as the importer's
// association targets are read.
func dealRead(values ...string) hubspot.BatchReadRequest {
	req := hubspot.BatchReadRequest{IDProperty: dealKey, Properties: []string{dealKey}}
	for _, v := range values {
		req.Inputs = append(req.Inputs, hubspot.ObjectID{ID: v})
	}
	return req
}

// TestBatchReadDeals: batch reads of deals by a unique property of theirs
// (seeded with Server.SeedUnique), as the importer finds the deals that
// rows name by an external id, and by record id, in both API versions: v3
// against deals.json, 2026-09 against 2026-09/objects.json. 200 when all
// are found; 207 when some or none are (2026-09: 200 with the errors); 404
// with BatchReadNoneFound404; 400 for a property the deals do not hold
// unique values of.
func TestBatchReadDeals(t *testing.T) {
	ctx := context.Background()
	seed := func(p *portal) {
		p.srv.SeedUnique("deals", dealKey, func(id string) string { return "LD-" + id })
	}
	runCases(t, bothVersions([]conformanceCase{{
		name: "200 all found",
		run: func(t *testing.T, p *portal) {
			seed(p)
			res, err := p.client.BatchReadObjects(ctx, "deals", dealRead("LD-1001", "LD-1002"))
			if err != nil || res.StatusCode != http.StatusOK || len(res.Results) != 2 {
				t.Fatalf("BatchReadObjects = %+v, %v; want 200 with 2 results", res, err)
			}
			for _, r := range res.Results {
				if r.Properties[dealKey] != "LD-"+r.ID {
					t.Errorf("deal %s: %s = %q, want LD-%s", r.ID, dealKey, r.Properties[dealKey], r.ID)
				}
			}
		},
		want: []int{200},
	}, {
		name: "200 by the object type id",
		run: func(t *testing.T, p *portal) {
			seed(p)
			res, err := p.client.BatchReadObjects(ctx, "0-3", dealRead("LD-1001"))
			if err != nil || res.StatusCode != http.StatusOK || len(res.Results) != 1 {
				t.Fatalf("BatchReadObjects = %+v, %v; want 200 with 1 result", res, err)
			}
		},
		want: []int{200},
	}, {
		name: "207 some not found",
		run: func(t *testing.T, p *portal) {
			seed(p)
			res, err := p.client.BatchReadObjects(ctx, "deals", dealRead("LD-1001", "LD-404"))
			if want := partial(p, http.StatusOK); err != nil || res.StatusCode != want || len(res.Results) != 1 || len(res.Errors) != 1 {
				t.Fatalf("BatchReadObjects = %+v, %v; want %d with 1 result and 1 error", res, err, want)
			}
		},
		want:     []int{207},
		want2026: []int{200},
	}, {
		name: "207 none found",
		run: func(t *testing.T, p *portal) {
			seed(p)
			res, err := p.client.BatchReadObjects(ctx, "deals", dealRead("LD-404", "LD-405"))
			if want := partial(p, http.StatusOK); err != nil || res.StatusCode != want || len(res.Results) != 0 || len(res.Errors) != 2 {
				t.Fatalf("BatchReadObjects = %+v, %v; want %d with 2 errors", res, err, want)
			}
		},
		want:     []int{207},
		want2026: []int{200},
	}, {
		name: "404 none found (BatchReadNoneFound404)",
		cfg:  emulator.Config{BatchReadNoneFound404: true},
		run: func(t *testing.T, p *portal) {
			seed(p)
			_, err := p.client.BatchReadObjects(ctx, "deals", dealRead("LD-404"))
			if ae := apiError(t, err, http.StatusNotFound); ae.Category != "OBJECT_NOT_FOUND" {
				t.Errorf("category %q, want OBJECT_NOT_FOUND", ae.Category)
			}
		},
		want: []int{404},
	}, {
		name: "200 by record id",
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchReadObjects(ctx, "deals", hubspot.BatchReadRequest{Inputs: []hubspot.ObjectID{{ID: "1001"}, {ID: "1002"}}})
			if err != nil || res.StatusCode != http.StatusOK || len(res.Results) != 2 {
				t.Fatalf("BatchReadObjects = %+v, %v; want 200 with 2 results", res, err)
			}
		},
		want: []int{200},
	}, {
		name: "400 not a unique property of deals",
		run: func(t *testing.T, p *portal) {
			seed(p)
			req := dealRead("x")
			req.IDProperty = "dealname"
			_, err := p.client.BatchReadObjects(ctx, "deals", req)
			apiError(t, err, http.StatusBadRequest)
		},
		want: []int{400},
	}}))
}

// TestScopes2026: the 2026-09 line item operations ask for their granular
// scope and e-commerce in one requirement; the emulator refuses a token
// without e-commerce unless GranularScopeSuffices2026. The property list
// and association create, whose 2026-09 specs list alternatives, do not
// need it. Both answers are checked.
func TestScopes2026(t *testing.T) {
	ctx := context.Background()
	granular := slices.DeleteFunc(emulator.DefaultScopes(), func(s string) bool { return s == emulator.ScopeECommerce })
	calls := func(p *portal) []error {
		_, e1 := p.client.BatchCreate(ctx, batch(row("A")))
		_, e2 := p.client.BatchUpsert(ctx, uniqueProp, upsert(row("B")))
		_, e3 := p.client.BatchRead(ctx, readRequest("A"))
		_, e4 := p.client.Search(ctx, search())
		_, e5 := p.client.Properties(ctx)
		_, e6 := p.client.CreateAssociations(ctx, "deals", []hubspot.AssociationInput{link("1", "1001")})
		return []error{e1, e2, e3, e4, e5, e6}
	}
	runCases(t, []conformanceCase{{
		name:    "403 without e-commerce",
		version: hubspot.V202609,
		cfg:     emulator.Config{Scopes: granular},
		run: func(t *testing.T, p *portal) {
			errs := calls(p)
			for _, err := range errs[:4] {
				if ae := apiError(t, err, http.StatusForbidden); ae.Category != "MISSING_SCOPES" {
					t.Errorf("category %q, want MISSING_SCOPES", ae.Category)
				}
			}
			for _, err := range errs[4:] {
				if err != nil {
					t.Error(err)
				}
			}
		},
		want: []int{403, 403, 403, 403, 200, 200},
	}, {
		name:    "granular scopes suffice (GranularScopeSuffices2026)",
		version: hubspot.V202609,
		cfg:     emulator.Config{Scopes: granular, GranularScopeSuffices2026: true},
		run: func(t *testing.T, p *portal) {
			for _, err := range calls(p) {
				if err != nil {
					t.Error(err)
				}
			}
		},
		want: []int{201, 200, 200, 200, 200, 200},
	}})
}

// countErrors counts the per-input errors of a 207 for which is holds.
func countErrors(errs []hubspot.StandardError, is func(hubspot.StandardError) bool) int {
	n := 0
	for _, e := range errs {
		if is(e) {
			n++
		}
	}
	return n
}
