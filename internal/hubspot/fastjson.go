package hubspot

import (
	"bytes"
	"unicode/utf8"

	"github.com/lineitems/importer/internal/jsonstr"
)

// decodeCreated is a fast path for the common answer to a batch create: a
// 201 whose "results" hold each new object's id and objectWriteTraceId
// among properties the importer does not read. It scans the body once,
// without reflection or allocations beyond the two strings per result.
//
// It reports false, and leaves out unchanged, for anything it does not
// handle (an "errors" member, a result without an objectWriteTraceId,
// whose properties are kept to match it by key, escaped strings, malformed
// JSON): the caller
// then decodes with encoding/json, which remains the reference. A fuzz test
// checks that whenever it reports true, encoding/json succeeds on the same
// bytes and yields the same value, but for the results' properties, which
// it leaves undecoded: every result it accepts has a trace id to be
// matched by.
func decodeCreated(data []byte, out *BatchResponse) bool {
	s := scanner{b: data}
	var res BatchResponse
	ok := s.object(func(key []byte) bool {
		// encoding/json matches member names without regard to case; so does this.
		switch {
		case bytes.EqualFold(key, []byte("status")):
			v, ok := s.str()
			res.Status = string(v)
			return ok
		case bytes.EqualFold(key, []byte("results")):
			res.Results = make([]Created, 0, 100)
			return s.array(func() bool {
				var c Created
				ok := s.object(func(k []byte) bool {
					switch {
					case bytes.EqualFold(k, []byte("id")):
						v, ok := s.str()
						c.ID = string(v)
						return ok
					case bytes.EqualFold(k, []byte("objectWriteTraceId")):
						v, ok := s.str()
						c.ObjectWriteTraceID = string(v)
						return ok
					}
					return s.skip()
				})
				res.Results = append(res.Results, c)
				return ok && c.ObjectWriteTraceID != ""
			})
		case bytes.EqualFold(key, []byte("errors")), bytes.EqualFold(key, []byte("numErrors")):
			return false
		}
		return s.skip()
	})
	s.ws()
	if !ok || s.i != len(s.b) {
		return false
	}
	*out = res
	return true
}

// scanner reads JSON from a byte slice. Each method reports false on
// anything it does not accept.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		if c := s.b[s.i]; c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return
		}
		s.i++
	}
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// str reads a string without escapes and returns its bytes (aliasing b).
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	b, i := s.b, s.i
	for {
		i = jsonstr.Plain(b, i)
		if i == len(b) {
			return nil, false
		}
		switch c := b[i]; {
		case c == '"':
			v := b[s.i:i]
			s.i = i + 1
			return v, true
		case c < 0x20 || c == '\\':
			return nil, false
		}
		// A byte of 0x80 or more: encoding/json would replace invalid
		// UTF-8 with U+FFFD, so leave such a string to it.
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return nil, false
		}
		i += size
	}
}

// object reads {"key": value, ...}, calling member for each key with the
// scanner positioned at the value; member must consume the value.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		key, ok := s.str()
		if !ok || !s.eat(':') || !member(key) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

// array reads [value, ...], calling elem for each element.
func (s *scanner) array(elem func() bool) bool {
	if !s.eat('[') {
		return false
	}
	if s.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat(']')
	}
}

// skip reads any value that needs no unescaping: strings without escapes,
// numbers, true, false, null, and objects and arrays of those.
func (s *scanner) skip() bool {
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{':
		// As object, without a closure call per member.
		s.i++
		if s.eat('}') {
			return true
		}
		for {
			if _, ok := s.str(); !ok || !s.eat(':') || !s.skip() {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat('}')
		}
	case c == '[':
		return s.array(s.skip)
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return true
		}
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
