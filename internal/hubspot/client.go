package hubspot

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is HubSpot's API root.
const DefaultBaseURL = "https://api.hubapi.com"

const accountPath = "/account-info/v3/details"

// APIVersion selects the generation of HubSpot's CRM API a Client calls.
type APIVersion string

// The API versions a Client speaks.
const (
	// V3 is /crm/v3/objects/..., /crm/v3/properties/... and the v4
	// associations API; HubSpot has announced their end of support
	// (objects September 2027, v4 associations 2027-03-30).
	V3 APIVersion = "v3"
	// V202609 is the date-versioned API: /crm/objects/2026-09/...,
	// /crm/properties/2026-09/... and /crm/associations/2026-09/....
	V202609 APIVersion = "2026-09"
)

// ParseAPIVersion returns the version named s ("v3" or "2026-09").
func ParseAPIVersion(s string) (APIVersion, error) {
	switch v := APIVersion(s); v {
	case V3, V202609:
		return v, nil
	}
	return "", fmt.Errorf("unknown API version %q: use v3 or 2026-09", s)
}

// anySuccess, in the statuses parseResponse is given, stands for every
// 2xx status.
const anySuccess = -1

// batchOK are the statuses a batch write is answered with when HubSpot read
// it: any success, 201 or 207 (v3 creates) and 200 (upserts, and 2026-09's
// answers with errors in the body) as much as one HubSpot does not send
// today (205, 208, 226, 299), whose body is read for results all the same:
// a success says HubSpot acted, so it is never taken for a refusal, which
// would send the batch again. An empty or unreadable body is a
// *TransportError (HubSpot may have acted).
var batchOK = []int{anySuccess}

// objectsPath is the root of objectType's object endpoints.
func (v APIVersion) objectsPath(objectType string) string {
	if v == V202609 {
		return "/crm/objects/2026-09/" + url.PathEscape(objectType)
	}
	return "/crm/v3/objects/" + url.PathEscape(objectType)
}

// propertiesPath is where line items' property definitions are listed.
func (v APIVersion) propertiesPath() string {
	if v == V202609 {
		return "/crm/properties/2026-09/line_items"
	}
	return "/crm/v3/properties/line_items"
}

// associationsPath is the batch create of associations from line items to
// toObjectType.
func (v APIVersion) associationsPath(toObjectType string) string {
	if v == V202609 {
		return "/crm/associations/2026-09/line_items/" + url.PathEscape(toObjectType) + "/batch/create"
	}
	return "/crm/v4/associations/line_items/" + url.PathEscape(toObjectType) + "/batch/create"
}

// maxResponseBytes bounds how much of an answer is read; a batch of 100
// line items is well under it.
const maxResponseBytes = 32 << 20

// Token is an access token. Its String, GoString and MarshalJSON methods
// never reveal the value, so a Token printed or logged by mistake shows as
// "[REDACTED]". The secret sits behind a pointer so that even a struct that
// holds a Token in an unexported field, printed with %+v or %#v, shows an
// address and not the value.
type Token struct{ value *string }

// NewToken wraps a secret. Surrounding white space is trimmed.
func NewToken(s string) Token {
	s = strings.TrimSpace(s)
	return Token{value: &s}
}

// Empty reports whether the token holds no value.
func (t Token) Empty() bool { return t.value == nil || *t.value == "" }

// Reveal returns the secret; only the client's Authorization header and
// redaction checks call it.
func (t Token) Reveal() string {
	if t.value == nil {
		return ""
	}
	return *t.value
}

func (Token) String() string               { return "[REDACTED]" }
func (Token) GoString() string             { return "[REDACTED]" }
func (Token) MarshalJSON() ([]byte, error) { return []byte(`"[REDACTED]"`), nil }

// ValidateBaseURL checks an API root: https anywhere, plain http only to a
// loopback host.
func ValidateBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("base URL %q: plain http is allowed only to a loopback host; use https", raw)
		}
	default:
		return nil, fmt.Errorf("base URL %q: scheme must be https (or http to a loopback host)", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("base URL %q: no host", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client calls HubSpot's line-item endpoints. It is safe for concurrent use.
// It does not retry: retry policy belongs to the caller. Nor does it follow
// redirects: net/http would turn a POST answered 301, 302 or 303 into a GET
// without its body, and the GET's answer would pass for the POST's. A 3xx
// comes back as an *APIError.
type Client struct {
	http    *http.Client
	base    string
	token   Token
	now     func() time.Time
	agent   string
	version APIVersion
}

// NewClient returns a client for the API root base. It calls through a
// copy of hc (its Transport, and its Timeout, which bounds each call) that
// follows no redirect; nil means http.DefaultClient.
func NewClient(hc *http.Client, base string, token Token, userAgent string) (*Client, error) {
	u, err := ValidateBaseURL(base)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{http: &own, base: u.String(), token: token, now: time.Now, agent: userAgent, version: V3}, nil
}

// UseAPIVersion makes the client call version v's paths; the default is
// V3. Call it before the client's first request.
func (c *Client) UseAPIVersion(v APIVersion) { c.version = v }

// APIVersion returns the version the client calls.
func (c *Client) APIVersion() APIVersion { return c.version }

// BatchResult is a 201 or 207 answer to a batch create.
type BatchResult struct {
	StatusCode int
	BatchResponse
	Rate RateLimit
}

// BatchCreate posts body, an already encoded BatchCreateRequest, to the
// batch create endpoint. The same bytes may be passed again to resend.
//
// It returns a *BatchResult for 201, 207 and any other success, an
// *APIError for any other status and a *TransportError when no answer was
// read (or a success could not be read).
func (c *Client) BatchCreate(ctx context.Context, body []byte) (*BatchResult, error) {
	res := &BatchResult{}
	path := c.version.objectsPath("line_items") + "/batch/create"
	status, rate, err := c.do(ctx, http.MethodPost, path, body, &res.BatchResponse, batchOK...)
	res.StatusCode, res.Rate = status, rate
	if err != nil {
		return nil, err
	}
	return res, nil
}

// BatchUpsert posts body, an already encoded BatchUpsertRequest whose
// inputs name their records by idProperty, to the batch upsert endpoint
// (POST .../line_items/batch/upsert). HubSpot updates the line item that
// holds each input's id in idProperty, or creates one. The same bytes may
// be passed again to resend: an upsert applied twice leaves what it left
// once.
//
// Each result's Key is its idProperty value and New says whether HubSpot
// created it, so that results can be matched to inputs whether or not
// HubSpot echoes their objectWriteTraceIds. It returns a *BatchResult for
// 200 and 207 (per-input errors may also come with a 200), an *APIError for
// any other status and a *TransportError when no answer was read.
func (c *Client) BatchUpsert(ctx context.Context, idProperty string, body []byte) (*BatchResult, error) {
	var out struct {
		Status  string `json:"status"`
		Results []struct {
			ID                 string            `json:"id"`
			ObjectWriteTraceID string            `json:"objectWriteTraceId"`
			New                *bool             `json:"new"`
			Properties         map[string]string `json:"properties"`
		} `json:"results"`
		Errors    []StandardError `json:"errors"`
		NumErrors int             `json:"numErrors"`
	}
	path := c.version.objectsPath("line_items") + "/batch/upsert"
	status, rate, err := c.do(ctx, http.MethodPost, path, body, &out, batchOK...)
	if err != nil {
		return nil, err
	}
	res := &BatchResult{StatusCode: status, Rate: rate}
	res.Status, res.Errors, res.NumErrors = out.Status, out.Errors, out.NumErrors
	res.Results = make([]Created, len(out.Results))
	for i, r := range out.Results {
		res.Results[i] = Created{ID: r.ID, ObjectWriteTraceID: r.ObjectWriteTraceID, Upsert: true, Key: r.Properties[idProperty]}
		if r.New != nil {
			res.Results[i].Told, res.Results[i].New = true, *r.New
		}
	}
	return res, nil
}

// AssociationInput is one association to create (PublicAssociationMultiPost).
type AssociationInput struct {
	From  ObjectID          `json:"from"`
	To    ObjectID          `json:"to"`
	Types []AssociationType `json:"types"`
}

// AssociationPair is one association HubSpot made or found (LabelsBetweenObjectPair).
type AssociationPair struct {
	FromObjectID FlexID `json:"fromObjectId"`
	ToObjectID   FlexID `json:"toObjectId"`
}

// FlexID is a record id read from JSON as a string or as a number: the
// association specs have typed ids both ways over time.
type FlexID string

// UnmarshalJSON reads a JSON string or number.
func (id *FlexID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = FlexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("hubspot: a record id that is neither a string nor a number: %s", b)
	}
	*id = FlexID(n.String())
	return nil
}

// AssociationResult is an answer to a batch association create: the pairs
// made, and an error for each input that was refused.
type AssociationResult struct {
	StatusCode int
	Results    []AssociationPair `json:"results"`
	Errors     []StandardError   `json:"errors,omitempty"`
	Rate       RateLimit         `json:"-"`
}

// CreateAssociations associates line items with records of toObjectType
// (POST /crm/v4/associations/line_items/{toObjectType}/batch/create, or its
// 2026-09 twin). An association that exists already is no error. It is
// idempotent: the same inputs may be sent again.
//
// It returns an *AssociationResult for 200, 201 and 207, an *APIError for
// any other status and a *TransportError when no answer was read.
func (c *Client) CreateAssociations(ctx context.Context, toObjectType string, inputs []AssociationInput) (*AssociationResult, error) {
	body, err := json.Marshal(struct {
		Inputs []AssociationInput `json:"inputs"`
	}{inputs})
	if err != nil {
		return nil, err
	}
	res := &AssociationResult{}
	status, rate, err := c.do(ctx, http.MethodPost, c.version.associationsPath(toObjectType), body, res, batchOK...)
	res.StatusCode, res.Rate = status, rate
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Properties returns the portal's line-item property definitions.
func (c *Client) Properties(ctx context.Context) ([]Property, error) {
	var out struct {
		Results []Property `json:"results"`
	}
	if _, _, err := c.do(ctx, http.MethodGet, c.version.propertiesPath(), nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// AssociationLabel is one association type from line items to an object
// type (AssociationSpecWithLabel).
type AssociationLabel struct {
	Category string `json:"category"`
	TypeID   int    `json:"typeId"`
	Label    string `json:"label"`
}

// AssociationLabels returns the association types from line items to
// toObjectType (e.g. "deals"), from
// GET /crm/associations/v4/line_items/{toObjectType}/labels.
func (c *Client) AssociationLabels(ctx context.Context, toObjectType string) ([]AssociationLabel, error) {
	var out struct {
		Results []AssociationLabel `json:"results"`
	}
	path := "/crm/associations/v4/line_items/" + url.PathEscape(toObjectType) + "/labels"
	if _, _, err := c.do(ctx, http.MethodGet, path, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// SearchRequest is HubSpot's PublicObjectSearchRequest.
type SearchRequest struct {
	FilterGroups []FilterGroup `json:"filterGroups"`
	Properties   []string      `json:"properties"`
	Sorts        []string      `json:"sorts"`
	Limit        int           `json:"limit"`
	// After is the paging cursor. HubSpot's spec requires it; "" is sent
	// as "0", the first page, as HubSpot's own clients do.
	After string `json:"after"`
}

// FilterGroup is a conjunction of filters.
type FilterGroup struct {
	Filters []Filter `json:"filters"`
}

// Filter is one search condition.
type Filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"`
}

// SearchResponse is one page of search results.
type SearchResponse struct {
	Total   int      `json:"total"`
	Results []Object `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging,omitempty"`
}

// NextAfter returns the cursor of the next page, or "" on the last page.
func (r *SearchResponse) NextAfter() string {
	if r.Paging == nil || r.Paging.Next == nil {
		return ""
	}
	return r.Paging.Next.After
}

// Search runs one page of a line-item search.
func (c *Client) Search(ctx context.Context, req SearchRequest) (*SearchResponse, error) {
	if req.Sorts == nil {
		req.Sorts = []string{}
	}
	// The spec wants arrays, never null.
	if req.FilterGroups == nil {
		req.FilterGroups = []FilterGroup{}
	}
	for i := range req.FilterGroups {
		if req.FilterGroups[i].Filters == nil {
			req.FilterGroups[i].Filters = []Filter{}
		}
	}
	if req.Properties == nil {
		req.Properties = []string{}
	}
	if req.After == "" {
		req.After = "0"
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var out SearchResponse
	if _, _, err := c.do(ctx, http.MethodPost, c.version.objectsPath("line_items")+"/search", body, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// Account is what HubSpot says of the portal a token belongs to
// (PortalInformationResponse).
type Account struct {
	PortalID        int64  `json:"portalId"`
	AccountType     string `json:"accountType"` // STANDARD, SANDBOX, DEVELOPER_TEST or APP_DEVELOPER
	TimeZone        string `json:"timeZone"`    // the daily limit resets at midnight in it
	CompanyCurrency string `json:"companyCurrency"`
}

// Account reads the portal's details (GET /account-info/v3/details), which
// every token may read.
func (c *Client) Account(ctx context.Context) (*Account, error) {
	var out Account
	if _, _, err := c.do(ctx, http.MethodGet, accountPath, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	if out.PortalID == 0 {
		return nil, errors.New("hubspot: the account details name no portal id")
	}
	return &out, nil
}

// BatchReadRequest is HubSpot's BatchReadInputSimplePublicObjectId: line
// items by id or, with IDProperty, by the values of a unique property.
type BatchReadRequest struct {
	IDProperty            string     `json:"idProperty,omitempty"`
	Inputs                []ObjectID `json:"inputs"`
	Properties            []string   `json:"properties"`
	PropertiesWithHistory []string   `json:"propertiesWithHistory"`
}

// BatchReadResult is a 200 or 207 answer to a batch read: the records
// found, and an error for each input that was not.
type BatchReadResult struct {
	StatusCode int
	Results    []Object        `json:"results"`
	Errors     []StandardError `json:"errors,omitempty"`
	Rate       RateLimit       `json:"-"`
}

// BatchRead reads up to 100 line items by id or by a unique property's
// values (POST /crm/v3/objects/line_items/batch/read). It reads the records
// themselves, not the search index, so it sees a create as soon as HubSpot
// committed it.
//
// It returns a *BatchReadResult for 200 and 207, an *APIError for any other
// status and a *TransportError when no answer was read.
func (c *Client) BatchRead(ctx context.Context, req BatchReadRequest) (*BatchReadResult, error) {
	return c.BatchReadObjects(ctx, "line_items", req)
}

// BatchReadObjects is BatchRead for records of objectType (deals, quotes,
// ...), by id or by one of their unique properties
// (POST /crm/v3/objects/{objectType}/batch/read, or its 2026-09 twin).
func (c *Client) BatchReadObjects(ctx context.Context, objectType string, req BatchReadRequest) (*BatchReadResult, error) {
	if req.Properties == nil {
		req.Properties = []string{}
	}
	if req.PropertiesWithHistory == nil {
		req.PropertiesWithHistory = []string{}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	res := &BatchReadResult{}
	status, rate, err := c.do(ctx, http.MethodPost, c.version.objectsPath(objectType)+"/batch/read", body, res, http.StatusOK, http.StatusMultiStatus)
	res.StatusCode, res.Rate = status, rate
	if err != nil {
		return nil, err
	}
	return res, nil
}

// do sends one request and hands the answer to parseResponse.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any, ok ...int) (int, RateLimit, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var getting, got atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn: func(string) { getting.Store(true) },
		GotConn: func(httptrace.GotConnInfo) { got.Store(true) },
	})
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, RateLimit{}, err
	}
	// Without GetBody, nothing below the caller's retry policy can send
	// the body again: net/http's HTTP/2 transport would otherwise resend a
	// request after a RST_STREAM or GOAWAY on its own, and follow a 307 or
	// 308 with the same body. Whether a POST is sent again is for the
	// caller to decide, with what it knows of the answer.
	req.GetBody = nil
	req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// net/http calls GotConn before it writes a byte of the request.
		// Once it got a connection, any failure may come after bytes went
		// out (a dial error then is a redirect's). If it asked for one
		// (GetConn) and never got it, the dial or the TLS handshake failed
		// and nothing was written. Without the hooks (a RoundTripper other
		// than net/http's), the error alone decides.
		sent := got.Load() || (!getting.Load() && !beforeSend(err))
		return 0, RateLimit{}, &TransportError{Sent: sent, Err: scrub(err)}
	}
	return parseResponse(resp, c.now(), out, ok...)
}

// beforeSend reports whether err certainly happened before any byte of the
// request reached the server: a failed DNS lookup, dial or TLS handshake.
// Anything else counts as possibly sent, so that a transport that cannot
// tell errs on the side of "in doubt" rather than a duplicate.
func beforeSend(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	var cert *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	switch {
	case errors.As(err, &dns), errors.As(err, &cert), errors.As(err, &rec):
		return true
	case errors.As(err, &op):
		return op.Op == "dial"
	}
	return false
}

// scrub removes the request URL from net/http's error text; it keeps the
// cause. The URL holds no secret, but the error reads better without it.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
	}
	return err
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// readBody appends an answer's body, at most maxResponseBytes of it, to
// dst[:0]. A body of known length is read in one piece.
func readBody(resp *http.Response, dst []byte) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= maxResponseBytes {
		dst = slices.Grow(dst[:0], int(n))[:n]
		_, err := io.ReadFull(resp.Body, dst)
		return dst, err
	}
	dst = dst[:0]
	r := io.LimitReader(resp.Body, maxResponseBytes)
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, 512)
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// bodies holds answer buffers for reuse: a batch's answer is tens of KiB,
// and a new buffer for each would be most of what the importer allocates.
// Every decoding path copies what it keeps, so a buffer goes back to the
// pool once parseResponse returns.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest buffer kept in bodies.
const maxPooledBody = 1 << 20

// parseResponse is the one place where an HTTP answer becomes a typed value.
// For a status in ok (see anySuccess) it decodes the body into out; for any
// other status it returns an *APIError; a body that cannot be read is a
// *TransportError with Sent set. The body is always closed.
func parseResponse(resp *http.Response, now time.Time, out any, ok ...int) (int, RateLimit, error) {
	defer resp.Body.Close()
	rate := ParseRateLimit(resp.Header)
	buf := bodies.Get().(*[]byte)
	data, err := readBody(resp, *buf)
	defer func() {
		if cap(data) <= maxPooledBody {
			*buf = data[:0]
			bodies.Put(buf)
		}
	}()
	if err != nil {
		return resp.StatusCode, rate, &TransportError{Sent: true, Err: fmt.Errorf("reading %d answer: %w", resp.StatusCode, err)}
	}
	for _, s := range ok {
		if resp.StatusCode != s && (s != anySuccess || resp.StatusCode/100 != 2) {
			continue
		}
		s := resp.StatusCode
		if out == nil {
			return s, rate, nil
		}
		if br, ok := out.(*BatchResponse); ok && decodeCreated(data, br) {
			return s, rate, nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			// A success status with a body we cannot read: HubSpot did act,
			// but we do not know the ids. Report it as an unreadable answer.
			return s, rate, &TransportError{Sent: true, Err: fmt.Errorf("decoding %d answer: %w", s, err)}
		}
		return s, rate, nil
	}
	return resp.StatusCode, rate, newAPIError(resp, data, rate, now)
}

func newAPIError(resp *http.Response, data []byte, rate RateLimit, now time.Time) *APIError {
	var body struct {
		Category      string        `json:"category"`
		ErrorType     string        `json:"errorType"`
		Message       string        `json:"message"`
		CorrelationID string        `json:"correlationId"`
		PolicyName    string        `json:"policyName"`
		Errors        []ErrorDetail `json:"errors"`
		Context       ErrorContext  `json:"context"`
	}
	e := &APIError{StatusCode: resp.StatusCode, Rate: rate, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now)}
	if json.Unmarshal(data, &body) == nil {
		e.Category = body.Category
		if e.Category == "" {
			e.Category = body.ErrorType
		}
		e.Message, e.CorrelationID, e.PolicyName = body.Message, body.CorrelationID, body.PolicyName
		e.Details, e.Context = body.Errors, body.Context
	} else {
		e.Message = plainMessage(data)
	}
	return e
}

// plainMessage is what a body that is not HubSpot's JSON says, short: the
// title of an HTML page (a gateway's 502 or 504 page), or the first line
// of text, at most 200 bytes.
func plainMessage(data []byte) string {
	text := strings.TrimSpace(string(truncate(data, 4096)))
	if strings.HasPrefix(text, "<") {
		title := ""
		if _, rest, ok := strings.Cut(strings.ToLower(text), "<title>"); ok {
			if t, _, ok := strings.Cut(rest, "</title>"); ok {
				title = strings.TrimSpace(text[len(text)-len(rest) : len(text)-len(rest)+len(t)])
			}
		}
		if title != "" {
			return "an HTML page from the gateway in front of HubSpot (" + title + ")"
		}
		return "an HTML page from the gateway in front of HubSpot"
	}
	line, _, _ := strings.Cut(text, "\n")
	return string(truncate([]byte(strings.TrimSpace(line)), 200))
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
