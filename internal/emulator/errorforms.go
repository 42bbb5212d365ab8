package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The forms of Config.ErrorForms besides the default.
const (
	ErrorFormText  = "text"
	ErrorFormLoose = "loose"
)

// formWriter holds a handler's answer until the handler returns, then
// writes it with its error bodies recast in form (see Config.ErrorForms).
// A handler that panics (a dropped connection) never reaches flush: no
// answer goes.
type formWriter struct {
	w      http.ResponseWriter
	form   string
	status int
	body   bytes.Buffer
}

func (f *formWriter) Header() http.Header { return f.w.Header() }

func (f *formWriter) WriteHeader(status int) {
	if f.status == 0 {
		f.status = status
	}
}

func (f *formWriter) Write(p []byte) (int, error) {
	if f.status == 0 {
		f.status = http.StatusOK
	}
	return f.body.Write(p)
}

// flush writes the answer held, recast.
func (f *formWriter) flush() {
	if f.status == 0 {
		f.status = http.StatusOK
	}
	body := f.body.Bytes()
	if bytes.Contains(body, []byte(`"context"`)) {
		body = recastErrors(body, f.form)
		f.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	f.w.WriteHeader(f.status)
	_, _ = f.w.Write(body)
}

// recastErrors returns the JSON body with every context member in form,
// or body unchanged when it is not JSON.
func recastErrors(body []byte, form string) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return body
	}
	return marshal(recast(v, form, false))
}

// recast rewrites v's context members in form; inErrors says that v is
// an element of an errors list (a batch answer's StandardError, or an
// error's ErrorDetail), which the loose form gives a subCategory object.
func recast(v any, form string, inErrors bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, m := range t {
			switch k {
			case "context":
				t[k] = recastContext(m, form)
			case "errors":
				t[k] = recast(m, form, true)
			default:
				t[k] = recast(m, form, false)
			}
		}
		if inErrors && form == ErrorFormLoose {
			if _, ok := t["subCategory"]; !ok {
				t["subCategory"] = map[string]any{"reason": "standard"}
			}
		}
		return t
	case []any:
		for i := range t {
			t[i] = recast(t[i], form, inErrors)
		}
		return t
	}
	return v
}

// recastContext is a context object (lists by name) in form.
func recastContext(v any, form string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	switch form {
	case ErrorFormText:
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		slices.Sort(names)
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteString("=[")
			list, _ := m[k].([]any)
			for j, e := range list {
				if j > 0 {
					b.WriteString(", ")
				}
				switch e := e.(type) {
				case string:
					b.WriteString(e)
				case json.Number:
					b.WriteString(e.String())
				}
			}
			b.WriteByte(']')
		}
		b.WriteByte('}')
		return b.String()
	case ErrorFormLoose:
		for k, l := range m {
			if list, ok := l.([]any); ok && len(list) == 1 {
				one := list[0]
				if s, ok := one.(string); ok {
					if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
						one = json.Number(s) // an id as a number ("007" stays text)
					}
				}
				m[k] = one
			}
		}
	}
	return m
}
