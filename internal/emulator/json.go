package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// inputError is a request body that does not match the endpoint's schema.
// It becomes a 400 VALIDATION_ERROR carrying msg.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &inputError{msg: "Invalid input JSON: " + fmt.Sprintf(format, args...)}
}

// readJSON checks the content type, reads the body and decodes it with
// json.Number for numbers. On failure it has answered and returns ok false.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request) (v any, raw []byte, ok bool) {
	if raw, ok = s.readBody(w, r); !ok {
		return nil, nil, false
	}
	if v, ok = s.decodeJSON(w, raw); !ok {
		return nil, nil, false
	}
	return v, raw, true
}

// readParsed reads r's JSON body (see readJSON) and parses it with parse,
// answering 400 VALIDATION_ERROR with parse's error. On failure it has
// answered and returns ok false.
func readParsed[T any](s *Server, w http.ResponseWriter, r *http.Request, parse func(any) (T, error)) (req T, ok bool) {
	v, _, ok := s.readJSON(w, r)
	if !ok {
		return req, false
	}
	req, err := parse(v)
	if err != nil {
		s.validationError(w, err.Error())
		return req, false
	}
	return req, true
}

// readBody checks the content type and reads the body into a new buffer
// that nothing else refers to. It answers an empty body (only whitespace)
// too. On failure it has answered and returns ok false.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (raw []byte, ok bool) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		s.writeError(w, http.StatusUnsupportedMediaType, apiError{Message: "Cannot parse content. No Content-Type defined."})
		return nil, false
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		s.writeError(w, http.StatusUnsupportedMediaType, apiError{Message: "HTTP 415 Unsupported Media Type"})
		return nil, false
	}
	raw, err := readAll(http.MaxBytesReader(w, r.Body, maxRequestBodyBytes), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, http.StatusRequestEntityTooLarge, apiError{Message: "HTTP 413 Request Entity Too Large"})
		} else {
			s.writeError(w, http.StatusBadRequest, apiError{Message: "Invalid JSON input: could not read the request body"})
		}
		return nil, false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		s.validationError(w, "Invalid JSON input: a request body was expected, but none found")
		return nil, false
	}
	return raw, true
}

// readAll is io.ReadAll, with a first buffer large enough for a body of
// the announced length (if believable).
func readAll(rd io.Reader, length int64) ([]byte, error) {
	b := make([]byte, 0, 512)
	if length > 0 && length <= maxRequestBodyBytes {
		b = make([]byte, 0, length+1) // +1: the read that sees EOF needs room
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
	}
}

// decodeJSON decodes a whole body into generic values, with json.Number for
// numbers. On failure it has answered and returns ok false.
func (s *Server) decodeJSON(w http.ResponseWriter, raw []byte) (v any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		s.writeError(w, http.StatusBadRequest, apiError{Message: syntaxMessage(raw, err)})
		return nil, false
	}
	if dec.More() || dec.InputOffset() < int64(len(bytes.TrimRight(raw, " \t\r\n"))) {
		line, col := lineCol(raw, int(dec.InputOffset()))
		s.writeError(w, http.StatusBadRequest, apiError{Message: fmt.Sprintf("Invalid input JSON on line %d, column %d: Unexpected trailing content after the JSON value", line, col)})
		return nil, false
	}
	return v, true
}

// syntaxMessage renders a decoding error the way HubSpot's Jackson-based
// endpoints do: "Invalid input JSON on line L, column C: ...".
func syntaxMessage(raw []byte, err error) string {
	offset := len(raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = int(se.Offset)
	}
	line, col := lineCol(raw, offset)
	msg := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		msg = "Unexpected end-of-input"
	}
	return fmt.Sprintf("Invalid input JSON on line %d, column %d: %s", line, col, msg)
}

func lineCol(raw []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(raw))
	prefix := raw[:offset]
	line = bytes.Count(prefix, []byte("\n")) + 1
	col = offset - (bytes.LastIndexByte(prefix, '\n') + 1) + 1
	return line, col
}

// jsonKind names the JSON type of v for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// asObject requires v to be a JSON object with no field outside allowed.
// class is the schema name used in the unknown-field message.
func asObject(v any, path, class string, allowed ...string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, inputErrorf("%s: expected an object (%s), got %s", where(path), class, jsonKind(v))
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, inputErrorf("Unrecognized field %q (class %s), not marked as ignorable (%d known properties: %s) at %s",
			unknown[0], class, len(allowed), quoteList(allowed), where(path))
	}
	return m, nil
}

// requireFields reports the fields of m that are missing or null.
func requireFields(m map[string]any, path string, names ...string) error {
	var missing []string
	for _, n := range names {
		if v, ok := m[n]; !ok || v == nil {
			missing = append(missing, join(path, n))
		}
	}
	if len(missing) > 0 {
		return inputErrorf("some of required attributes are not set %s", "["+strings.Join(missing, ", ")+"]")
	}
	return nil
}

func asString(v any, path string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", inputErrorf("Cannot deserialize value of type `java.lang.String` from %s at %s", jsonKind(v), where(path))
	}
	return s, nil
}

func asArray(v any, path string) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, inputErrorf("Cannot deserialize value of type `java.util.ArrayList` from %s at %s", jsonKind(v), where(path))
	}
	return a, nil
}

// asInt32 requires v to be a JSON integer that fits in an int32 (the
// format of associationTypeId and limit in the spec).
func asInt32(v any, path string) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, inputErrorf("Cannot deserialize value of type `int` from %s at %s", jsonKind(v), where(path))
	}
	i, err := n.Int64()
	if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
		return 0, inputErrorf("Cannot deserialize value of type `int` from number %s: not a valid int value at %s", n, where(path))
	}
	return int(i), nil
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func where(path string) string {
	if path == "" {
		return "the request body"
	}
	return path
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
