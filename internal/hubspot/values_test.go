package hubspot

import (
	"slices"
	"strings"
	"testing"
)

func TestPropertyValuesSetKeepsNameOrder(t *testing.T) {
	var vs PropertyValues
	for _, nv := range []NameValue{{"price", "1"}, {"amount", "2"}, {"quantity", "3"}, {"name", "4"}, {"price", "5"}, {"zeta", "6"}} {
		vs.Set(nv.Name, nv.Value)
	}
	want := PropertyValues{{"amount", "2"}, {"name", "4"}, {"price", "5"}, {"quantity", "3"}, {"zeta", "6"}}
	if !slices.Equal(vs, want) {
		t.Fatalf("got %v, want %v", vs, want)
	}
	if v, ok := vs.Get("price"); !ok || v != "5" {
		t.Errorf("Get(price) = %q, %v", v, ok)
	}
	if v, ok := vs.Get("missing"); ok || v != "" {
		t.Errorf("Get(missing) = %q, %v", v, ok)
	}
	if got := ValuesOf(vs.Map()); !slices.Equal(got, want) {
		t.Errorf("ValuesOf(Map()) = %v", got)
	}
}

func TestPropertyValuesEncodeAsTheirMap(t *testing.T) {
	cases := []struct {
		vs   PropertyValues
		want string
	}{
		{nil, `{}`},
		{PropertyValues{}, `{}`},
		{PropertyValues{{"b", "1"}, {"a", "2"}}, `{"a":"2","b":"1"}`},
		{PropertyValues{{"a", "1"}, {"b", "x"}, {"a", "3"}}, `{"a":"3","b":"x"}`}, // the last value of a name wins
		{PropertyValues{{"a", "<&>"}}, `{"a":"\u003c\u0026\u003e"}`},
	}
	for _, tc := range cases {
		got, err := tc.vs.MarshalJSON()
		if err != nil || string(got) != tc.want {
			t.Errorf("%v: got %s (%v), want %s", tc.vs, got, err, tc.want)
		}
	}
}

func TestTooLong(t *testing.T) {
	max := MaxPropertyValueLen
	for _, tc := range []struct {
		v    string
		want int
	}{
		{"", 0},
		{strings.Repeat("a", max), 0},
		{strings.Repeat("a", max+1), max + 1},
		{strings.Repeat("é", max), 0}, // 2·max bytes, max characters
		{strings.Repeat("é", max+1), max + 1},
	} {
		if got := TooLong(tc.v); got != tc.want {
			t.Errorf("TooLong(%d bytes) = %d, want %d", len(tc.v), got, tc.want)
		}
	}
}
