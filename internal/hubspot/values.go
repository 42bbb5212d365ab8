package hubspot

import (
	"encoding/json"
	"slices"
	"strings"
)

// NameValue is one property value of an input.
type NameValue struct {
	Name, Value string
}

// PropertyValues are an input's property values, encoded as a JSON object.
//
// Built with [PropertyValues.Set] or [ValuesOf], they are sorted by name
// with each name once: the order in which encoding/json writes a map, so
// that encoding needs neither a sort nor a map. A slice built by hand in
// another order, or with a name twice, still encodes as the map it stands
// for (sorted, the last value of a name winning). Most inputs have a dozen
// values or fewer, for which a slice costs less than a map to build, look
// up and encode.
type PropertyValues []NameValue

// ValuesOf returns m's entries as PropertyValues, sorted by name.
func ValuesOf(m map[string]string) PropertyValues {
	vs := make(PropertyValues, 0, len(m))
	for k, v := range m {
		vs = append(vs, NameValue{k, v})
	}
	slices.SortFunc(vs, byName)
	return vs
}

func byName(a, b NameValue) int { return strings.Compare(a.Name, b.Name) }

// Get returns the value of name and whether there is one.
func (vs PropertyValues) Get(name string) (string, bool) {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Name == name {
			return vs[i].Value, true
		}
	}
	return "", false
}

// Value returns the value of name, "" if there is none.
func (vs PropertyValues) Value(name string) string {
	v, _ := vs.Get(name)
	return v
}

// Set gives name the value v, replacing its value or inserting it in name
// order.
func (vs *PropertyValues) Set(name, v string) {
	s := *vs
	for i := len(s) - 1; i >= 0; i-- {
		if s[i].Name == name {
			s[i].Value = v
			return
		}
	}
	i := len(s)
	for i > 0 && s[i-1].Name > name {
		i--
	}
	*vs = slices.Insert(s, i, NameValue{name, v})
}

// Map returns the values as a map.
func (vs PropertyValues) Map() map[string]string {
	m := make(map[string]string, len(vs))
	for _, nv := range vs {
		m[nv.Name] = nv.Value
	}
	return m
}

// sorted returns vs if it is sorted by name with each name once, else a
// sorted copy holding each name's last value.
func (vs PropertyValues) sorted() PropertyValues {
	ok := true
	for i := 1; i < len(vs); i++ {
		if vs[i-1].Name >= vs[i].Name {
			ok = false
			break
		}
	}
	if ok {
		return vs
	}
	c := slices.Clone(vs)
	slices.SortStableFunc(c, byName)
	out := c[:0]
	for _, nv := range c {
		if len(out) > 0 && out[len(out)-1].Name == nv.Name {
			out[len(out)-1] = nv
			continue
		}
		out = append(out, nv)
	}
	return out
}

// appendValues appends vs as a JSON object, as encoding/json encodes the
// map vs stands for.
func appendValues(dst []byte, vs PropertyValues) []byte {
	dst = append(dst, '{')
	for i, nv := range vs.sorted() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, nv.Name)
		dst = append(dst, ':')
		dst = appendString(dst, nv.Value)
	}
	return append(dst, '}')
}

// MarshalJSON encodes the values as a JSON object; nil encodes as {}.
func (vs PropertyValues) MarshalJSON() ([]byte, error) {
	return appendValues(nil, vs), nil
}

// UnmarshalJSON decodes a JSON object of strings.
func (vs *PropertyValues) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*vs = ValuesOf(m)
	return nil
}
