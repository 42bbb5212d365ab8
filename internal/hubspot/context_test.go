package hubspot

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestErrorContextForms: every form a context may take decodes, and none
// fails the error around it.
func TestErrorContextForms(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       ErrorContext
	}{
		{"the specs' schema: lists of strings", `{"objectWriteTraceId":["3"],"propertyName":["hs_sku","name"]}`,
			ErrorContext{"objectWriteTraceId": {"3"}, "propertyName": {"hs_sku", "name"}}},
		{"a value alone", `{"objectWriteTraceId":"3","ids":[12,13]}`, ErrorContext{"objectWriteTraceId": {"3"}, "ids": {"12", "13"}}},
		{"a number alone", `{"objectWriteTraceId":3}`, ErrorContext{"objectWriteTraceId": {"3"}}},
		{"null members", `{"a":null,"b":["x"]}`, ErrorContext{"b": {"x"}}},
		{"the specs' example: a Java map's text", `"{invalidPropertyName=[propertyValue], missingScopes=[scope1, scope2]}"`,
			ErrorContext{"invalidPropertyName": {"propertyValue"}, "missingScopes": {"scope1", "scope2"}}},
		{"a Java map with a value alone", `"{objectWriteTraceId=7, propertyName=[hs_sku]}"`,
			ErrorContext{"objectWriteTraceId": {"7"}, "propertyName": {"hs_sku"}}},
		{"an empty Java map", `"{}"`, ErrorContext{}},
		{"text in no known form", `"something went wrong"`, nil},
		{"a broken Java map", `"{a=[x, b=[y]"`, nil},
		{"an array", `["x"]`, nil},
		{"null", `null`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e StandardError
			body := `{"status":"error","category":"CONFLICT","message":"m","context":` + tc.json + `}`
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if e.Category != "CONFLICT" || e.Message != "m" {
				t.Errorf("the error around the context: %+v", e)
			}
			if !reflect.DeepEqual(e.Context, tc.want) {
				t.Errorf("Context = %#v, want %#v", e.Context, tc.want)
			}
		})
	}
}

// TestSubCategoryForms: subCategory, a string in ErrorDetail's schema and
// an object in StandardError's, decodes in either form.
func TestSubCategoryForms(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`"DEAL_NOT_FOUND"`, "DEAL_NOT_FOUND"},
		{`{"category":"CONFLICT"}`, `{"category":"CONFLICT"}`},
		{`null`, ""},
		{`7`, "7"},
	} {
		var d ErrorDetail
		if err := json.Unmarshal([]byte(`{"message":"m","code":"C","subCategory":`+tc.json+`}`), &d); err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if string(d.SubCategory) != tc.want || d.Code != "C" {
			t.Errorf("%s: %+v, want subCategory %q", tc.json, d, tc.want)
		}
	}
}

// FuzzErrorContext: no body makes a context fail to decode, and a context
// of string lists survives a round trip.
func FuzzErrorContext(f *testing.F) {
	f.Add(`{"objectWriteTraceId":["3"]}`)
	f.Add(`"{a=[x, y], b=z}"`)
	f.Add(`{"a":1,"b":[true,null]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var c ErrorContext
		if err := c.UnmarshalJSON([]byte(s)); err != nil {
			t.Fatalf("UnmarshalJSON(%q): %v", s, err)
		}
		var lists map[string][]string
		if json.Unmarshal([]byte(s), &lists) != nil {
			return
		}
		var back ErrorContext
		data, _ := json.Marshal(lists)
		_ = back.UnmarshalJSON(data)
		for k, v := range lists {
			if v != nil && !reflect.DeepEqual(back[k], v) {
				t.Errorf("%q: %q decoded as %q", s, v, back[k])
			}
		}
	})
}
