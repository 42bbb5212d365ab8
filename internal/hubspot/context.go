package hubspot

import (
	"bytes"
	"encoding/json"
	"strings"
)

// ErrorContext is an error's context: lists of values by name (for
// example objectWriteTraceId, propertyName, ids). HubSpot's specs type it
// as an object of string lists, their examples show it as the text of a
// Java map ("{missingScopes=[scope1, scope2]}"), and HubSpot's docs call
// every error member optional and varying between APIs. So any form
// decodes, and none fails the answer around it: an object's lists as they
// are, a single value as a list of one, a value that is not a string (a
// number) as its JSON text, a string in the Java map form read into its
// lists; anything else, or a string in no known form, as an empty context.
type ErrorContext map[string][]string

// UnmarshalJSON decodes any form of a context; it never fails.
func (c *ErrorContext) UnmarshalJSON(data []byte) error {
	*c = nil
	var members map[string]json.RawMessage
	if json.Unmarshal(data, &members) == nil && members != nil {
		m := make(ErrorContext, len(members))
		for k, v := range members {
			if vs := contextValues(v); vs != nil {
				m[k] = vs
			}
		}
		*c = m
		return nil
	}
	var s string
	if json.Unmarshal(data, &s) == nil {
		*c = parseJavaMap(s)
	}
	return nil
}

// contextValues is a context member's values: a list's elements, or the
// one value; nil for null.
func contextValues(v json.RawMessage) []string {
	v = bytes.TrimSpace(v)
	if string(v) == "null" {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(v, &list) == nil {
		out := make([]string, 0, len(list))
		for _, e := range list {
			out = append(out, valueText(e))
		}
		return out
	}
	return []string{valueText(v)}
}

// valueText is a JSON string's value, or any other JSON value's text.
func valueText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(v))
}

// parseJavaMap reads the text of a Java map of lists, "{a=[x, y], b=[z]}"
// (a value without brackets is a list of one), or returns nil when s is
// not in that form.
func parseJavaMap(s string) ErrorContext {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	m := ErrorContext{}
	for s != "" {
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil
		}
		name = strings.TrimSpace(name)
		var vals []string
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil
			}
			for _, v := range strings.Split(rest[1:end], ",") {
				if v = strings.TrimSpace(v); v != "" {
					vals = append(vals, v)
				}
			}
			rest = strings.TrimSpace(rest[end+1:])
			if rest != "" && !strings.HasPrefix(rest, ",") {
				return nil
			}
			rest = strings.TrimPrefix(rest, ",")
		} else {
			v, after, _ := strings.Cut(rest, ",")
			vals, rest = []string{strings.TrimSpace(v)}, after
		}
		m[name] = append(m[name], vals...)
		s = strings.TrimSpace(rest)
	}
	return m
}

// Text is a string member that HubSpot's specs type otherwise in places
// (StandardError.subCategory is an object there): a JSON string decodes as
// itself, null as "", and anything else as its JSON text. It never fails.
type Text string

// UnmarshalJSON decodes any JSON value as text; it never fails.
func (t *Text) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		*t = ""
		return nil
	}
	*t = Text(valueText(data))
	return nil
}
