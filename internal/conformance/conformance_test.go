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
	name  string
	cfg   emulator.Config
	token string // the client's token; "" means the portal's
	run   func(t *testing.T, p *portal)
	want  []int
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
				// Deferred, so that a run that stops at a failure still
				// has its exchanges checked.
				defer func() { requireConformant(t, p.v.take(), tc.want...) }()
				tc.run(t, p)
			})
		})
	}
}

// TestBatchCreate: the batch creates the importer sends, and the answers it
// meets: 201; 207 with per-row validation errors; 207 with per-row
// CONFLICT errors (ConflictPerRow); 409 CONFLICT; 400 VALIDATION_ERROR for
// a batch that fails whole.
func TestBatchCreate(t *testing.T) {
	ctx := context.Background()
	runCases(t, []conformanceCase{{
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
			if err != nil || res.StatusCode != http.StatusMultiStatus || len(res.Results) != 1 || len(res.Errors) != 3 {
				t.Fatalf("BatchCreate = %+v, %v; want 207 with 1 result and 3 errors", res, err)
			}
			for _, e := range res.Errors {
				if e.Category != "VALIDATION_ERROR" {
					t.Errorf("error category %q, want VALIDATION_ERROR", e.Category)
				}
			}
		},
		want: []int{207},
	}, {
		name: "207 per-row conflicts",
		cfg:  emulator.Config{ConflictPerRow: true},
		run: func(t *testing.T, p *portal) {
			p.create(t, "A", "B")
			res, err := p.client.BatchCreate(ctx, batch(row("A"), row("C"), row("B"), row("D", "price", "abc")))
			if err != nil || res.StatusCode != http.StatusMultiStatus || len(res.Results) != 1 || len(res.Errors) != 3 {
				t.Fatalf("BatchCreate = %+v, %v; want 207 with 1 result and 3 errors", res, err)
			}
			var conflicts int
			for _, e := range res.Errors {
				if e.Category == "CONFLICT" {
					conflicts++
				}
			}
			if conflicts != 2 {
				t.Errorf("%d CONFLICT errors, want 2: %+v", conflicts, res.Errors)
			}
		},
		want: []int{201, 207},
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
	}})
}

// TestBatchRead: batch reads by idProperty, as the importer's resolver
// sends them, and by record id: 200 when every input is found, 207 when
// some or none are, 400 for an idProperty without unique values.
func TestBatchRead(t *testing.T) {
	ctx := context.Background()
	runCases(t, []conformanceCase{{
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
			if err != nil || res.StatusCode != http.StatusMultiStatus || len(res.Results) != 1 || len(res.Errors) != 1 {
				t.Fatalf("BatchRead = %+v, %v; want 207 with 1 result and 1 error", res, err)
			}
		},
		want: []int{201, 207},
	}, {
		name: "207 none found",
		run: func(t *testing.T, p *portal) {
			res, err := p.client.BatchRead(ctx, readRequest("x", "y"))
			if err != nil || res.StatusCode != http.StatusMultiStatus || len(res.Results) != 0 || len(res.Errors) != 2 {
				t.Fatalf("BatchRead = %+v, %v; want 207 with 2 errors", res, err)
			}
		},
		want: []int{207},
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
	}})
}

// TestSearch: searches with filters, requested properties (some unset) and
// sorts, paged to the end with the cursor HubSpot returns.
func TestSearch(t *testing.T) {
	ctx := context.Background()
	runCases(t, []conformanceCase{{
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
	}})
}

// TestSchema: the property list and the association labels the importer
// reads before it sends anything.
func TestSchema(t *testing.T) {
	ctx := context.Background()
	runCases(t, []conformanceCase{{
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
	}})
}

// TestThrottledAndRefused: 429 answers of every policy the importer can
// meet (ten-secondly, search secondly, daily, injected with Retry-After),
// 401 for a wrong token and 403 for missing scopes, on each endpoint.
func TestThrottledAndRefused(t *testing.T) {
	ctx := context.Background()
	// all calls every endpoint once and returns the errors.
	all := func(p *portal) []error {
		_, e1 := p.client.Properties(ctx)
		_, e2 := p.client.AssociationLabels(ctx, "deals")
		_, e3 := p.client.BatchCreate(ctx, batch(row("A")))
		_, e4 := p.client.BatchRead(ctx, readRequest("A"))
		_, e5 := p.client.Search(ctx, search())
		return []error{e1, e2, e3, e4, e5}
	}
	runCases(t, []conformanceCase{{
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
		},
		want: []int{200, 429, 429},
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
		want: []int{200, 429, 429, 429, 429, 429},
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
		want: []int{429, 429, 429, 429, 429},
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
		want: []int{401, 401, 401, 401, 401},
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
		want: []int{403, 403, 403, 403, 403},
	}})
}
