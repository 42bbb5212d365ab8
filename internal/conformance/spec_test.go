package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specDir is where HubSpot's OpenAPI files are, relative to this package's
// directory: CI clones the repository with shared/ beside it.
const specDir = "../../../shared/hubspot-spec"

// specFiles are the specs of the operations the client calls, and the
// requests each is the spec of:
//
//   - lineItems.json: v3 line item batch create, upsert, read and search;
//   - properties.json: the v3 property list;
//   - associationsSchema.json: association labels, which both API versions
//     read from /crm/associations/v4/{from}/{to}/labels;
//   - associations.json: v4 association batch create;
//   - deals.json: the v3 batch read of deals by a unique property;
//   - 2026-09/lineItems.json, 2026-09/objects.json: the 2026-09 object
//     endpoints, line items' and every other type's;
//   - 2026-09/properties.json: the 2026-09 property list;
//   - 2026-09/associations.json: 2026-09 association batch create.
//
// Each file gets a router of its own, and a request must be claimed by
// exactly one of them (see spec.route): a request that two files claim is
// an error, so that no answer is checked against a spec picked by the
// order of this list.
var specFiles = []specFile{
	{name: "lineItems.json"},
	{name: "properties.json"},
	{name: "associationsSchema.json"},
	{name: "associations.json"},
	{
		name: "deals.json",
		// deals.json writes its paths with deals' object type id,
		// /crm/v3/objects/0-3/..., where the client names the type,
		// /crm/v3/objects/deals/...: HubSpot's object APIs take an object
		// type by name or by id in the same place of the path (2026-09/
		// objects.json templates it as {objectType}; the emulator takes
		// both). The path is rewritten to the id for finding the route
		// only; the request is validated as sent. The rewrite is the only
		// way a v3 deal read reaches a spec: no other file has v3 deal
		// paths.
		alias: func(path string) string {
			if rest, ok := strings.CutPrefix(path, "/crm/v3/objects/deals/"); ok {
				return "/crm/v3/objects/0-3/" + rest
			}
			return path
		},
	},
	{
		// 2026-09/lineItems.json and 2026-09/objects.json both template
		// their paths as /crm/objects/2026-09/{objectType}/..., so the
		// routers of both match every 2026-09 object request. The line
		// item file is the spec of line items: its operations say "line
		// items" and ask for the line item scopes (with e-commerce), where
		// objects.json is the generic API of every type and accepts any
		// one of dozens of scopes. So a request is lineItems.json's when
		// its object type is line items, objects.json's otherwise (deals
		// here). The two share their operationIds, so an exchange records
		// its file beside its operation, and failures name it.
		//
		// 2026-09/lineItems.json also holds the one-record association
		// paths /crm/objects/2026-09/{objectType}/{objectId}/associations/...
		// that 2026-09/associations.json holds too; those are the
		// associations file's, as they were associations.json's in v4.
		name: "2026-09/lineItems.json",
		claims: func(route *routers.Route, params map[string]string) bool {
			return lineItemType(params["objectType"]) && !strings.Contains(route.Path, "/associations/")
		},
	},
	{
		name: "2026-09/objects.json",
		claims: func(_ *routers.Route, params map[string]string) bool {
			return !lineItemType(params["objectType"])
		},
	},
	{name: "2026-09/properties.json"},
	{name: "2026-09/associations.json"},
}

// specFile is one of HubSpot's spec files, and how requests are routed to
// it.
type specFile struct {
	name string // relative to specDir
	// alias, if set, rewrites a request's path before the file's router
	// looks for its route (for routing only).
	alias func(path string) string
	// claims, if set, reports whether a request whose path matched route
	// of the file, with params, is the file's; nil claims every match.
	claims func(route *routers.Route, params map[string]string) bool
}

// lineItemType reports whether a path's object type names line items: by
// name, singular or object type id, in any case, as the emulator takes it.
func lineItemType(objectType string) bool {
	switch strings.ToLower(objectType) {
	case "line_items", "line_item", "0-8":
		return true
	}
	return false
}

// spec is the loaded specs: one router per file, and the validation options
// shared by every check.
type spec struct {
	routers []routers.Router
	files   []specFile    // files[i] is the file of routers[i]
	docs    []*openapi3.T // docs[i] is the document of routers[i]
	opts    *openapi3filter.Options
}

// loadSpecOnce loads the specs once for the whole test binary: they are
// read-only once loaded.
var loadSpecOnce = sync.OnceValues(func() (*spec, error) { return loadSpec(specDir) })

// specFor returns the loaded specs, or skips t when the spec folder is
// absent.
func specFor(t testing.TB) *spec {
	t.Helper()
	if _, err := os.Stat(specDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("HubSpot's OpenAPI specs are not at %s (shared/hubspot-spec beside the repository, as CI lays it out): nothing to check against", specDir)
	} else if err != nil {
		t.Fatal(err)
	}
	s, err := loadSpecOnce()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loadSpec loads and validates the files of specFiles under dir.
func loadSpec(dir string) (*spec, error) {
	s := &spec{opts: validationOptions()}
	for _, f := range specFiles {
		path := filepath.Join(dir, filepath.FromSlash(f.name))
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", path, err)
		}
		// Exclusion: the examples are not validated. HubSpot's specs hold
		// examples that contradict their own schemas (the string
		// "{missingScopes=[scope1, scope2]}" as the example of the object
		// ErrorDetail.context, Property examples without the required
		// "description"), and kin-openapi rejects the whole document for
		// them. Examples play no part in validating requests and answers.
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			return nil, fmt.Errorf("validating %s: %w", path, err)
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("routing %s: %w", path, err)
		}
		s.routers = append(s.routers, r)
		s.files = append(s.files, f)
		s.docs = append(s.docs, doc)
	}
	return s, nil
}

// validationOptions are the openapi3filter options of every check.
func validationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		// An answer whose status the operation does not declare is an
		// error. Every operation here declares "default" (the Error
		// schema), so any error status is declared; checkResponse also
		// asks that a success status be declared by itself.
		IncludeResponseStatus: true,
		// Report every schema error of a body, not only the first.
		MultiError: true,
		// Every operation's security is oauth2, which kin-openapi cannot
		// check by itself. bearerAuth checks what can be checked from the
		// request alone; scopes cannot, as the token is opaque.
		AuthenticationFunc: bearerAuth,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			// Keep errors to "Error at <pointer>: <reason>": the failure
			// message shows the body, and the schemas are in the files.
			openapi3.DisableSchemaErrorDetails(),
			// Error.correlationId is "format": "uuid", a format kin-openapi
			// knows but does not check; check it, as RFC 4122 writes it.
			openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
				"uuid": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122),
			}),
		},
	}
}

// bearerAuth accepts a request for an oauth2 requirement when it carries
// an "Authorization: Bearer <token>" header with a token, and refuses any
// other scheme: the client authenticates with a private app's access token,
// which HubSpot takes as an OAuth bearer token.
func bearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "oauth2" {
		return in.NewError(fmt.Errorf("the client authenticates with a bearer token only, not with %q", in.SecuritySchemeName))
	}
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return in.NewError(errors.New("no Authorization: Bearer header with a token"))
	}
	return nil
}

// route finds the operation of req in the specs, and the file it is in.
// Exactly one file must claim req: none is an error ("is in no spec"), and
// so is more than one ("is in more than one spec").
func (s *spec) route(req *http.Request) (string, *routers.Route, map[string]string, error) {
	var errs []error
	var files []string
	var found *routers.Route
	var foundParams map[string]string
	for i, r := range s.routers {
		f := s.files[i]
		rr := req
		if f.alias != nil {
			if p := f.alias(req.URL.Path); p != req.URL.Path {
				rr = req.Clone(req.Context())
				rr.URL.Path, rr.URL.RawPath = p, ""
			}
		}
		route, params, err := r.FindRoute(rr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		if f.claims != nil && !f.claims(route, params) {
			errs = append(errs, fmt.Errorf("%s: %s matches %s, which this file does not claim", f.name, req.URL.Path, route.Path))
			continue
		}
		files = append(files, f.name)
		found, foundParams = route, params
	}
	switch len(files) {
	case 0:
		return "", nil, nil, fmt.Errorf("%s %s is in no spec: %w", req.Method, req.URL.Path, errors.Join(errs...))
	case 1:
		return files[0], found, foundParams, nil
	}
	return "", nil, nil, fmt.Errorf("%s %s is in more than one spec (%s): the routing of specFiles is ambiguous", req.Method, req.URL.Path, strings.Join(files, ", "))
}

// fileOf returns the name of the file that route is in.
func (s *spec) fileOf(route *routers.Route) string {
	for i, doc := range s.docs {
		if route.Spec == doc {
			return s.files[i].name
		}
	}
	return "?"
}

// checkRequest validates req, whose body is body, against its operation.
// It returns the validation input for checking the answer, nil if req names
// no operation; req's body is left unread.
func (s *spec) checkRequest(ctx context.Context, req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	file, route, params, err := s.route(r)
	if err != nil {
		return nil, err
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: s.opts}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return in, fmt.Errorf("request %s %s (%s in %s): %w", req.Method, req.URL.Path, route.Operation.OperationID, file, err)
	}
	return in, nil
}

// checkResponse validates an answer to the request of in, literally:
// deviations are not waived. A success status must be one that the
// operation declares by itself, not through "default".
func (s *spec) checkResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	op := in.Route.Operation
	if status >= 200 && status < 300 && op.Responses.Status(status) == nil {
		return fmt.Errorf("answer %d to %s %s (%s): a success status the operation does not declare", status, in.Request.Method, in.Request.URL.Path, op.OperationID)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: s.opts}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("answer %d to %s %s (%s): %w", status, in.Request.Method, in.Request.URL.Path, op.OperationID, err)
	}
	return nil
}

// A deviation is one way in which HubSpot's real answers break HubSpot's
// own spec, and the emulator's answers with them, on purpose: the emulator
// is there to answer as HubSpot does. A schema error of an answer that
// matches a deviation is not a failure; every other error of the same
// answer still is. TestDeviations shows that each one is still needed.
type deviation struct {
	name      string
	operation string         // the request's operationId; "" means any
	status    int            // the answer's status
	pointer   *regexp.Regexp // where in the body (a JSON pointer)
	keyword   string         // the schema keyword broken: "nullable", "required"
}

// deviations are every waived break of the specs; each is commented with
// what it waives, and why.
var deviations = []deviation{{
	// Search results carry each requested property, with null for one
	// that has no value, where lineItems.json types every value of
	// SimplePublicObject.properties as a string. HubSpot's successor spec
	// (2026-09/lineItems.json, same folder) marks those values
	// "nullable": true; the v3 file predates the fix.
	name:      "search: null property values",
	operation: "post-/crm/v3/objects/line_items/search_doSearch",
	status:    http.StatusOK,
	pointer:   regexp.MustCompile(`^/results/\d+/properties/[^/]+$`),
	keyword:   "nullable",
}, {
	// An unlabelled association type comes back with "label": null, where
	// associationsSchema.json types AssociationSpecWithLabel.label as a
	// string (not required, not nullable). The project records that
	// HubSpot sends null (internal/schema's label decoding), and the
	// importer reads it so.
	name:      "labels: null label",
	operation: "get-/crm/associations/v4/{fromObjectType}/{toObjectType}/labels_getPage",
	status:    http.StatusOK,
	pointer:   regexp.MustCompile(`^/results/\d+/label$`),
	keyword:   "nullable",
}, {
	// HubSpot's 429 body is {status, message, errorType "RATE_LIMIT",
	// correlationId, policyName, groupName, requestId}, as quoted in public
	// issues and listed in the emulator's doc: it has no "category", which
	// the specs' Error schema (every operation's default answer) requires.
	// The rest of the body is still checked against Error.
	name:    "429: no category",
	status:  http.StatusTooManyRequests,
	pointer: regexp.MustCompile(`^/category$`),
	keyword: "required",
}}

// waive returns the names of the deviations that allow schema errors of
// err, the result of checking an answer of status to the operation op, and
// err without those errors: nil if nothing else is left.
func waive(op string, status int, err error) ([]string, error) {
	if err == nil {
		return nil, nil
	}
	var re *openapi3filter.ResponseError
	if !errors.As(err, &re) || re.Err == nil {
		return nil, err
	}
	var kept []error
	var used []string
	for _, e := range flatten(re.Err) {
		if d := matchDeviation(op, status, e); d != nil {
			used = append(used, d.name)
			continue
		}
		kept = append(kept, e)
	}
	if len(kept) == 0 {
		return used, nil
	}
	return used, fmt.Errorf("answer %d (%s): %s: %w", status, op, re.Reason, errors.Join(kept...))
}

// matchDeviation returns the deviation that allows e, or nil.
func matchDeviation(op string, status int, e error) *deviation {
	var se *openapi3.SchemaError
	if !errors.As(e, &se) {
		return nil
	}
	pointer := "/" + strings.Join(se.JSONPointer(), "/")
	for i := range deviations {
		d := &deviations[i]
		if (d.operation == "" || d.operation == op) && d.status == status && d.keyword == se.SchemaField && d.pointer.MatchString(pointer) {
			return d
		}
	}
	return nil
}

// flatten lists the errors of a tree of openapi3.MultiErrors.
func flatten(err error) []error {
	me, ok := err.(openapi3.MultiError)
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range me {
		out = append(out, flatten(e)...)
	}
	return out
}

// exchange is one request and its answer as the validator saw them.
type exchange struct {
	method, path string
	operation    string // operationId, "" if the request named none
	file         string // the spec file of operation
	status       int    // 0 if no answer came
	reqErr       error  // the request broke the spec
	respErr      error  // the answer broke the spec, or could not be checked
	reqBody      []byte
	respBody     []byte
}

func (e exchange) String() string {
	return fmt.Sprintf("%s %s [%s] -> %d", e.method, e.path, e.file, e.status)
}

// validator is an http.RoundTripper that checks each request against the
// specs, hands it to next, checks the answer, and keeps a log of both.
// It changes neither: the client sees exactly what next answered.
type validator struct {
	spec *spec
	next http.RoundTripper
	// strict checks answers literally, without waiving deviations.
	strict bool

	mu  sync.Mutex
	log []exchange
}

// RoundTrip implements http.RoundTripper.
func (v *validator) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	ex := exchange{method: req.Method, path: req.URL.Path, reqBody: body}
	in, err := v.spec.checkRequest(req.Context(), req, body)
	ex.reqErr = err
	if in != nil {
		ex.operation = in.Route.Operation.OperationID
		ex.file = v.spec.fileOf(in.Route)
	}

	fwd := req.Clone(req.Context())
	fwd.Body = io.NopCloser(bytes.NewReader(body))
	if body == nil {
		fwd.Body = nil
	}
	resp, err := v.next.RoundTrip(fwd)
	if err != nil {
		ex.respErr = fmt.Errorf("no answer: %w", err)
		v.record(ex)
		return nil, err
	}
	rbody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rbody))
	ex.status, ex.respBody = resp.StatusCode, rbody
	if in == nil {
		ex.respErr = errors.New("answer not checked: the request names no operation of the specs")
	} else {
		ex.respErr = v.spec.checkResponse(req.Context(), in, resp.StatusCode, resp.Header, rbody)
		if !v.strict {
			_, ex.respErr = waive(ex.operation, ex.status, ex.respErr)
		}
	}
	v.record(ex)
	return resp, nil
}

func (v *validator) record(ex exchange) {
	v.mu.Lock()
	v.log = append(v.log, ex)
	v.mu.Unlock()
}

// take returns the exchanges logged since the last call.
func (v *validator) take() []exchange {
	v.mu.Lock()
	defer v.mu.Unlock()
	log := v.log
	v.log = nil
	return log
}

// requireConformant fails t for every exchange whose request or answer
// broke the specs, and unless the answers' statuses are want, in order.
func requireConformant(t testing.TB, log []exchange, want ...int) {
	t.Helper()
	var got []int
	for _, ex := range log {
		got = append(got, ex.status)
		if ex.reqErr != nil {
			t.Errorf("%v: the client's request breaks the spec: %v\nbody: %s", ex, ex.reqErr, clip(ex.reqBody))
		}
		if ex.respErr != nil {
			t.Errorf("%v: the emulator's answer breaks the spec: %v\nbody: %s", ex, ex.respErr, clip(ex.respBody))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("answer statuses = %v, want %v (exchanges: %v)", got, want, log)
	}
}

// clip shortens a body for a failure message.
func clip(b []byte) string {
	const n = 2000
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
