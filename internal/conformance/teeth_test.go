package conformance

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
)

// Valid bodies that the cases below break one field at a time.
const (
	validCreate = `{"inputs":[{"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":20}]}],` +
		`"objectWriteTraceId":"1","properties":{"name":"Widget","price":"12.50"}}]}`
	validRead   = `{"idProperty":"external_id","inputs":[{"id":"A"}],"properties":["external_id"],"propertiesWithHistory":[]}`
	validSearch = `{"filterGroups":[{"filters":[{"propertyName":"quantity","operator":"GTE","value":"1"}]}],` +
		`"properties":[],"sorts":[],"limit":10,"after":"0"}`
)

const (
	createPath = "/crm/v3/objects/line_items/batch/create"
	readPath   = "/crm/v3/objects/line_items/batch/read"
	searchPath = "/crm/v3/objects/line_items/search"
	propsPath  = "/crm/v3/properties/line_items"
	labelsPath = "/crm/associations/v4/line_items/deals/labels"
)

// TestCheckerRejectsBadRequests shows that the checker has teeth: requests
// made by hand with one defect each, sent through the validating transport,
// are reported as breaking the spec, with the field at fault named; the
// valid requests they were made from are not.
func TestCheckerRejectsBadRequests(t *testing.T) {
	s := specFor(t)
	cases := []struct {
		name         string
		method, path string
		body         string
		auth         string // the Authorization header; "" means the portal's bearer token, "-" none
		want         string // in the error; "" means the request is valid
	}{
		{name: "valid batch create", method: "POST", path: createPath, body: validCreate},
		{name: "valid batch read", method: "POST", path: readPath, body: validRead},
		{name: "valid search", method: "POST", path: searchPath, body: validSearch},
		{name: "valid properties", method: "GET", path: propsPath},
		{name: "valid labels", method: "GET", path: labelsPath},

		{name: "batch read without propertiesWithHistory", method: "POST", path: readPath,
			body: `{"idProperty":"external_id","inputs":[{"id":"A"}],"properties":["external_id"]}`,
			want: `property "propertiesWithHistory" is missing`},
		{name: "batch read without properties", method: "POST", path: readPath,
			body: `{"inputs":[{"id":"A"}],"propertiesWithHistory":[]}`,
			want: `property "properties" is missing`},
		{name: "batch read with a number id", method: "POST", path: readPath,
			body: `{"inputs":[{"id":12}],"properties":[],"propertiesWithHistory":[]}`,
			want: `"/inputs/0/id"`},
		{name: "batch read with archived not a boolean", method: "POST", path: readPath + "?archived=maybe", body: validRead,
			want: `parameter "archived"`},

		{name: "search without after", method: "POST", path: searchPath,
			body: `{"filterGroups":[],"properties":[],"sorts":[],"limit":10}`,
			want: `property "after" is missing`},
		{name: "search with after null", method: "POST", path: searchPath,
			body: `{"filterGroups":[],"properties":[],"sorts":[],"limit":10,"after":null}`,
			want: `"/after": Value is not nullable`},
		{name: "search with a string limit", method: "POST", path: searchPath,
			body: `{"filterGroups":[],"properties":[],"sorts":[],"limit":"10","after":"0"}`,
			want: `"/limit"`},
		{name: "search with an unknown operator", method: "POST", path: searchPath,
			body: `{"filterGroups":[{"filters":[{"propertyName":"name","operator":"LIKE","value":"x"}]}],"properties":[],"sorts":[],"limit":10,"after":"0"}`,
			want: `"/filterGroups/0/filters/0/operator"`},
		{name: "search filter without propertyName", method: "POST", path: searchPath,
			body: `{"filterGroups":[{"filters":[{"operator":"EQ","value":"x"}]}],"properties":[],"sorts":[],"limit":10,"after":"0"}`,
			want: `property "propertyName" is missing`},

		{name: "batch create without associations", method: "POST", path: createPath,
			body: `{"inputs":[{"objectWriteTraceId":"1","properties":{"name":"Widget"}}]}`,
			want: `property "associations" is missing`},
		{name: "batch create with a number value", method: "POST", path: createPath,
			body: `{"inputs":[{"associations":[],"properties":{"price":12.5}}]}`,
			want: `"/inputs/0/properties/price"`},
		{name: "batch create with a string associationTypeId", method: "POST", path: createPath,
			body: `{"inputs":[{"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":"20"}]}],"properties":{}}]}`,
			want: `"/inputs/0/associations/0/types/0/associationTypeId"`},
		{name: "batch create with an unknown associationCategory", method: "POST", path: createPath,
			body: `{"inputs":[{"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"HUBSPOT","associationTypeId":20}]}],"properties":{}}]}`,
			want: `"/inputs/0/associations/0/types/0/associationCategory"`},
		{name: "batch create with an associationTypeId out of int32", method: "POST", path: createPath,
			body: `{"inputs":[{"associations":[{"to":{"id":"1001"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":2147483648}]}],"properties":{}}]}`,
			want: `"/inputs/0/associations/0/types/0/associationTypeId"`},
		{name: "batch create without a body", method: "POST", path: createPath,
			want: `request body has an error`},

		{name: "wrong method", method: "GET", path: createPath, want: "method not allowed"},
		{name: "unknown path", method: "POST", path: "/crm/v3/objects/line_items/batch/insert", body: validCreate, want: "is in no spec"},
		{name: "no Authorization header", method: "GET", path: propsPath, auth: "-", want: "authorization failed"},
		{name: "not a bearer token", method: "GET", path: propsPath, auth: "Basic dXNlcjpwYXNz", want: "authorization failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := &validator{spec: s, next: emulator.New(emulator.Config{Token: token}).Transport()}
				var body *strings.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				req, err := http.NewRequest(tc.method, hubspot.DefaultBaseURL+tc.path, nil)
				if body != nil {
					req, err = http.NewRequest(tc.method, hubspot.DefaultBaseURL+tc.path, body)
					req.Header.Set("Content-Type", "application/json")
				}
				if err != nil {
					t.Fatal(err)
				}
				switch tc.auth {
				case "":
					req.Header.Set("Authorization", "Bearer "+token)
				case "-":
				default:
					req.Header.Set("Authorization", tc.auth)
				}
				resp, err := (&http.Client{Transport: v}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				log := v.take()
				if len(log) != 1 {
					t.Fatalf("%d exchanges logged, want 1", len(log))
				}
				got := log[0].reqErr
				switch {
				case tc.want == "" && got != nil:
					t.Errorf("valid request reported: %v", got)
				case tc.want != "" && got == nil:
					t.Errorf("request not reported; want an error with %q\nbody: %s", tc.want, tc.body)
				case tc.want != "" && !strings.Contains(got.Error(), tc.want):
					t.Errorf("error = %v\nwant it to name %q", got, tc.want)
				}
			})
		})
	}
}

// TestCheckerRejectsBadAnswers shows that the checker has teeth for
// answers too: answers made by hand with one defect each are reported, the
// deviations notwithstanding; the valid answers they were made from are
// not.
func TestCheckerRejectsBadAnswers(t *testing.T) {
	s := specFor(t)
	const (
		uuid    = "7c0a3e3c-4e4b-4f0e-9a55-2f8a1b0c9d11"
		created = `{"id":"37400000001","properties":{"name":"Widget"},"createdAt":"2026-01-02T03:04:05.678Z","updatedAt":"2026-01-02T03:04:05.678Z","archived":false,"objectWriteTraceId":"1"}`
		stdErr  = `{"status":"error","category":"VALIDATION_ERROR","message":"bad","context":{"objectWriteTraceId":["2"]},"errors":[],"links":{}}`
		times   = `"startedAt":"2026-01-02T03:04:05.600Z","completedAt":"2026-01-02T03:04:05.700Z"`
		prop    = `{"name":"name","label":"Name","type":"string","fieldType":"text","description":"Product name","groupName":"lineiteminformation","options":[]}`
	)
	cases := []struct {
		name         string
		method, path string
		reqBody      string
		status       int
		contentType  string // "" means application/json;charset=utf-8
		body         string
		want         string // in the error; "" means the answer is valid
	}{
		{name: "valid 201", method: "POST", path: createPath, reqBody: validCreate, status: 201,
			body: `{"status":"COMPLETE","results":[` + created + `],` + times + `}`},
		{name: "valid 207", method: "POST", path: createPath, reqBody: validCreate, status: 207,
			body: `{"status":"COMPLETE","results":[` + created + `],"numErrors":1,"errors":[` + stdErr + `],` + times + `}`},
		{name: "valid 400", method: "POST", path: createPath, reqBody: validCreate, status: 400,
			body: `{"status":"error","message":"bad","correlationId":"` + uuid + `","category":"VALIDATION_ERROR"}`},
		{name: "valid properties", method: "GET", path: propsPath, status: 200, body: `{"results":[` + prop + `]}`},
		{name: "valid labels", method: "GET", path: labelsPath, status: 200, body: `{"results":[{"category":"USER_DEFINED","typeId":77,"label":"Upsell"}]}`},

		{name: "200 to a batch create", method: "POST", path: createPath, reqBody: validCreate, status: 200,
			body: `{"status":"COMPLETE","results":[` + created + `],` + times + `}`,
			want: `a success status the operation does not declare`},
		{name: "201 without completedAt", method: "POST", path: createPath, reqBody: validCreate, status: 201,
			body: `{"status":"COMPLETE","results":[` + created + `],"startedAt":"2026-01-02T03:04:05.600Z"}`,
			want: `property "completedAt" is missing`},
		{name: "201 with an unknown status", method: "POST", path: createPath, reqBody: validCreate, status: 201,
			body: `{"status":"DONE","results":[` + created + `],` + times + `}`,
			want: `"/status"`},
		{name: "201 with a number id", method: "POST", path: createPath, reqBody: validCreate, status: 201,
			body: `{"status":"COMPLETE","results":[` + strings.Replace(created, `"37400000001"`, `37400000001`, 1) + `],` + times + `}`,
			want: `"/results/0/id"`},
		{name: "201 with a createdAt that is no date-time", method: "POST", path: createPath, reqBody: validCreate, status: 201,
			body: `{"status":"COMPLETE","results":[` + strings.Replace(created, `"createdAt":"2026-01-02T03:04:05.678Z"`, `"createdAt":"1767323045678"`, 1) + `],` + times + `}`,
			want: `"/results/0/createdAt"`},
		{name: "201 with a null property value", method: "POST", path: createPath, reqBody: validCreate, status: 201,
			body: `{"status":"COMPLETE","results":[` + strings.Replace(created, `"Widget"`, `null`, 1) + `],` + times + `}`,
			want: `"/results/0/properties/name": Value is not nullable`},
		{name: "207 error without links", method: "POST", path: createPath, reqBody: validCreate, status: 207,
			body: `{"status":"COMPLETE","results":[],"numErrors":1,"errors":[` + strings.Replace(stdErr, `,"links":{}`, ``, 1) + `],` + times + `}`,
			want: `property "links" is missing`},
		{name: "207 error with a number in context", method: "POST", path: readPath, reqBody: validRead, status: 207,
			body: `{"status":"COMPLETE","results":[],"numErrors":1,"errors":[` + strings.Replace(stdErr, `["2"]`, `[2]`, 1) + `],` + times + `}`,
			want: `"/errors/0/context/objectWriteTraceId/0"`},
		{name: "search total as a string", method: "POST", path: searchPath, reqBody: validSearch, status: 200,
			body: `{"total":"1","results":[` + created + `]}`,
			want: `"/total"`},
		{name: "search paging without after", method: "POST", path: searchPath, reqBody: validSearch, status: 200,
			body: `{"total":11,"results":[` + created + `],"paging":{"next":{"link":"?after=10"}}}`,
			want: `property "after" is missing`},
		{name: "properties: property without options", method: "GET", path: propsPath, status: 200,
			body: `{"results":[` + strings.Replace(prop, `,"options":[]`, ``, 1) + `]}`,
			want: `property "options" is missing`},
		{name: "labels: unknown category", method: "GET", path: labelsPath, status: 200,
			body: `{"results":[{"category":"SYSTEM","typeId":20,"label":null}]}`,
			want: `"/results/0/category"`},
		{name: "labels: typeId out of int32", method: "GET", path: labelsPath, status: 200,
			body: `{"results":[{"category":"HUBSPOT_DEFINED","typeId":2147483648}]}`,
			want: `"/results/0/typeId"`},
		{name: "error with a correlationId that is no UUID", method: "POST", path: createPath, reqBody: validCreate, status: 400,
			body: `{"status":"error","message":"bad","correlationId":"req-1","category":"VALIDATION_ERROR"}`,
			want: `"/correlationId"`},
		{name: "409 without category", method: "POST", path: createPath, reqBody: validCreate, status: 409,
			body: `{"status":"error","message":"Line item already exists. Existing ID: 1","correlationId":"` + uuid + `"}`,
			want: `property "category" is missing`},
		{name: "429 without message", method: "GET", path: propsPath, status: 429,
			body: `{"status":"error","errorType":"RATE_LIMIT","correlationId":"` + uuid + `","policyName":"DAILY"}`,
			want: `property "message" is missing`},
		{name: "200 as HTML", method: "GET", path: propsPath, status: 200, contentType: "text/html",
			body: `<html></html>`,
			want: `response header Content-Type has unexpected value`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, hubspot.DefaultBaseURL+tc.path, strings.NewReader(tc.reqBody))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			ctx := context.Background()
			in, err := s.checkRequest(ctx, req, []byte(tc.reqBody))
			if err != nil {
				t.Fatalf("the request the answer is for breaks the spec: %v", err)
			}
			ct := tc.contentType
			if ct == "" {
				ct = "application/json;charset=utf-8"
			}
			_, got := waive(in.Route.Operation.OperationID, tc.status,
				s.checkResponse(ctx, in, tc.status, http.Header{"Content-Type": {ct}}, []byte(tc.body)))
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("valid answer reported: %v", got)
			case tc.want != "" && got == nil:
				t.Errorf("answer not reported; want an error with %q\nbody: %s", tc.want, tc.body)
			case tc.want != "" && !strings.Contains(got.Error(), tc.want):
				t.Errorf("error = %v\nwant it to name %q", got, tc.want)
			}
		})
	}
}

// TestDeviations: each waived deviation is still needed. Checked
// literally, the emulator's answers that show it break the spec, with no
// error but the deviation's; once the emulator or the spec changes so that
// one is no longer met, this test fails and the deviation should go.
func TestDeviations(t *testing.T) {
	s := specFor(t)
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		p := newPortal(t, s, emulator.Config{RateMax: 2}, token)
		p.v.strict = true
		p.create(t, "A")
		req := search()
		req.Properties = []string{"hs_sku"} // unset: null in the answer
		if _, err := p.client.Search(ctx, req); err != nil {
			t.Fatal(err)
		}
		if _, err := p.client.AssociationLabels(ctx, "deals"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.client.Properties(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := p.client.Properties(ctx); err == nil {
			t.Fatal("no 429 over RateMax")
		}

		var used []string
		for _, ex := range p.v.take() {
			if ex.reqErr != nil {
				t.Errorf("%v: %v", ex, ex.reqErr)
			}
			names, left := waive(ex.operation, ex.status, ex.respErr)
			if left != nil {
				t.Errorf("%v: %v", ex, left)
			}
			used = append(used, names...)
		}
		for _, d := range deviations {
			if !slices.Contains(used, d.name) {
				t.Errorf("deviation %q was not needed: the answers that showed it now follow the spec; remove it", d.name)
			}
		}
	})
}
