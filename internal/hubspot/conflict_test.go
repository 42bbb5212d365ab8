package hubspot

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestConflict: the forms of a unique-value conflict are read as one, as
// an answer to a whole request and as one input's error in a 207: by their
// codes for sure, by their words as a maybe; other refusals are neither.
func TestConflict(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int // of the whole answer
		body         string
		sure, worded bool
	}{
		{"409 CONFLICT", 409, `{"status":"error","message":"Line item already exists. Existing ID: 7","category":"CONFLICT"}`, true, false},
		{"409 without a body", 409, ``, true, false},
		{"409 OBJECT_ALREADY_EXISTS", 409, `{"status":"error","message":"Contact already exists. Existing ID: 2926551","errors":[{"message":"A contact with email lee@xyz.co.uk already exists. Existing ID: 2926551","in":"email"}],"category":"OBJECT_ALREADY_EXISTS","error":"CONTACT_EXISTS"}`, true, false},
		{"400 with a detail code", 400, `{"status":"error","message":"Invalid input","category":"VALIDATION_ERROR","errors":[{"message":"taken","code":"OBJECT_ALREADY_EXISTS"}]}`, true, false},
		{"400 with the taken value in an embedded property error", 400, `{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"import_key: another line item already has that value (K-1)\",\"error\":\"INVALID_PROPERTY_VALUE\",\"name\":\"import_key\"}]","category":"VALIDATION_ERROR"}`, false, true},
		{"400 in plain words", 400, `{"status":"error","message":"propertyValue: already has that value hs_external_order_id","category":"VALIDATION_ERROR"}`, false, true},
		{"422 must be unique", 422, `{"status":"error","message":"The value of import_key must be unique","category":"VALIDATION_ERROR"}`, false, true},
		// Words are no proof: the value sent may say them.
		{"400 an invalid option whose value says already exists", 400, `{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Item already exists was not one of the allowed options\",\"error\":\"INVALID_OPTION\",\"name\":\"name\"}]","category":"VALIDATION_ERROR"}`, false, true},
		{"400 an invalid option", 400, `{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Some value was not one of the allowed options\",\"error\":\"INVALID_OPTION\",\"name\":\"recurringbillingfrequency\"}]","category":"VALIDATION_ERROR"}`, false, false},
		{"400 an upsert by a property that is not unique", 400, `{"status":"error","message":"Unable to perform update/upsert by non-unique 0-8 property hs_sku","category":"VALIDATION_ERROR"}`, false, false},
		{"400 two inputs of the batch hold one value", 400, `{"status":"error","message":"Duplicate unique values in batch input: import_key=\"K\" appears in more than one input","category":"VALIDATION_ERROR"}`, false, false},
		{"500 whose words say exists", 500, `{"status":"error","message":"Object already exists in cache","category":"INTERNAL_ERROR"}`, false, false},
		{"404", 404, `{"status":"error","message":"Object not found","category":"OBJECT_NOT_FOUND"}`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
			ae := newAPIError(resp, []byte(tc.body), RateLimit{}, time.Now())
			if got, worded := ae.Conflict(), ae.MayBeConflict(); got != tc.sure || worded != tc.worded {
				t.Errorf("APIError: Conflict() = %v, MayBeConflict() = %v; want %v, %v", got, worded, tc.sure, tc.worded)
			}
			if tc.status == 409 || tc.status >= 500 || tc.body == "" {
				return // a 207's input errors carry no status of their own
			}
			var se StandardError
			if err := json.Unmarshal([]byte(tc.body), &se); err != nil {
				t.Fatal(err)
			}
			if got, worded := se.Conflict(), se.MayBeConflict(); got != tc.sure || worded != tc.worded {
				t.Errorf("as an input's error in a 207: Conflict() = %v, MayBeConflict() = %v; want %v, %v", got, worded, tc.sure, tc.worded)
			}
		})
	}
	// In a 207 the category alone tells: HubSpot's input errors have no
	// status of their own.
	for _, cat := range []string{"CONFLICT", "OBJECT_ALREADY_EXISTS"} {
		if e := (StandardError{Category: cat, Message: "Line item already exists. Existing ID: 7"}); !e.Conflict() || e.MayBeConflict() {
			t.Errorf("a 207 input error of category %s is not read as a sure conflict", cat)
		}
	}
}

// TestCreatedProperty: a result's properties are read only when asked for.
func TestCreatedProperty(t *testing.T) {
	var r BatchResponse
	if err := json.Unmarshal([]byte(`{"results":[{"id":"1","properties":{"import_key":"K-1","price":null}},{"id":"2"}]}`), &r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		i          int
		name, want string
	}{{0, "import_key", "K-1"}, {0, "price", ""}, {0, "absent", ""}, {1, "import_key", ""}} {
		if got := r.Results[tc.i].Property(tc.name); got != tc.want {
			t.Errorf("result %d: Property(%q) = %q, want %q", tc.i, tc.name, got, tc.want)
		}
	}
}

// TestNotFound: a 404 (or a 207 input error) says "none found" only when
// its category says so; a 404 without one (a proxy's page) does not.
func TestNotFound(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{
		{404, `{"status":"error","message":"Object not found","category":"OBJECT_NOT_FOUND"}`, true},
		{404, `{"status":"error","message":"Not found","category":"NOT_FOUND"}`, true},
		{404, `<html><head><title>404 Not Found</title></head></html>`, false},
		{404, `{"status":"error","message":"Not found"}`, false},
		{404, `{"status":"error","message":"No route","category":"VALIDATION_ERROR"}`, false},
		{400, `{"status":"error","message":"x","category":"OBJECT_NOT_FOUND"}`, false},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
		if got := newAPIError(resp, []byte(tc.body), RateLimit{}, time.Now()).NotFound(); got != tc.want {
			t.Errorf("%d %s: NotFound() = %v, want %v", tc.status, tc.body, got, tc.want)
		}
	}
	if !(StandardError{Category: "OBJECT_NOT_FOUND"}).NotFound() || (StandardError{Message: "not found"}).NotFound() {
		t.Error("a 207 input error is read as not found by its category alone")
	}
}

// TestExistingID: the record a conflict names as holding the value is
// found where HubSpot may put it (its context, a detail's context, its
// message, outside an embedded list of property problems), and the
// readable message names it once.
func TestExistingID(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     string
		id       string
		readable string
	}{
		{"in the message", `{"status":"error","message":"Line item already exists. Existing ID: 7","category":"CONFLICT"}`,
			"7", "Line item already exists. Existing ID: 7"},
		{"in the context only", `{"status":"error","message":"Line item already exists.","category":"CONFLICT","context":{"existingId":["8"]}}`,
			"8", "Line item already exists. Existing ID: 8"},
		{"in the context as one value", `{"status":"error","message":"Line item already exists.","category":"CONFLICT","context":{"existingId":"12"}}`,
			"12", "Line item already exists. Existing ID: 12"},
		{"in a detail's context", `{"status":"error","message":"Conflict","category":"CONFLICT","errors":[{"message":"taken","in":"import_key","context":{"existingId":["9"]}}]}`,
			"9", "Conflict; Existing ID: 9"},
		{"outside an embedded list", `{"status":"error","message":"Line item already exists. Existing ID: 10. Property values were not valid: [{\"isValid\":false,\"message\":\"import_key is taken\",\"error\":\"DUPLICATE\",\"name\":\"import_key\"}]","category":"CONFLICT"}`,
			"10", "import_key is taken; Existing ID: 10"},
		{"the context and the message agree", `{"status":"error","message":"Line item already exists. Existing ID: 11","category":"CONFLICT","context":{"existingId":["11"]}}`,
			"11", "Line item already exists. Existing ID: 11"},
		{"the context and the message disagree", `{"status":"error","message":"Line item already exists. Existing ID: 11","category":"CONFLICT","context":{"existingId":["12"]}}`,
			"12", "Line item already exists. Existing ID: 11; Existing ID: 12"},
		{"not an id", `{"status":"error","message":"Line item already exists.","category":"CONFLICT","context":{"existingId":["abc"]}}`,
			"", "Line item already exists."},
		{"none", `{"status":"error","message":"Some value was not one of the allowed options","category":"VALIDATION_ERROR"}`,
			"", "Some value was not one of the allowed options"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e StandardError
			if err := json.Unmarshal([]byte(tc.body), &e); err != nil {
				t.Fatal(err)
			}
			if got := e.ExistingID(); got != tc.id {
				t.Errorf("ExistingID() = %q, want %q", got, tc.id)
			}
			if got := e.ReadableMessage(); got != tc.readable {
				t.Errorf("ReadableMessage() = %q, want %q", got, tc.readable)
			}
			// What a row's message keeps of the error names the same record.
			if got := ExistingIDIn(e.ReadableMessage()); got != tc.id {
				t.Errorf("ExistingIDIn(ReadableMessage()) = %q, want %q", got, tc.id)
			}
			ae := newAPIError(&http.Response{StatusCode: 409, Header: http.Header{}}, []byte(tc.body), RateLimit{}, time.Now())
			if got := ae.ExistingID(); got != tc.id {
				t.Errorf("APIError.ExistingID() = %q, want %q", got, tc.id)
			}
			if got := ae.ReadableMessage(); got != tc.readable {
				t.Errorf("APIError.ReadableMessage() = %q, want %q", got, tc.readable)
			}
		})
	}
}
