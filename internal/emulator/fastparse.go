package emulator

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/lineitems/importer/internal/jsonstr"
)

// batchParser reads a batch create body in one pass, straight into
// createInputs, without building generic JSON values.
//
// It only ever accepts bodies that the generic path (decodeJSON then
// parseBatch) accepts, and then yields the same inputs. Anything else, and
// anything unusual, makes it give up: syntax errors, unknown or repeated
// fields, null values, non-string values, numbers that are not int32
// integers, invalid UTF-8, escaped surrogates, unknown association
// categories, empty types, no inputs or more than 100. The caller then
// runs the generic path, which either accepts the body after all or answers
// with its exact error message, so every answer stays what it was.
type batchParser struct {
	s  string
	i  int
	sc *batchScratch
	// plain is whether the string str read last was written plainly, with
	// ASCII characters that need no escaping only, so that it is its own
	// JSON encoding between quotes.
	plain bool
}

// parseBatchFast parses body with the scratch space of sc. ok is false if
// the generic path must decide.
func parseBatchFast(body string, sc *batchScratch) (inputs []createInput, ok bool) {
	p := batchParser{s: body, sc: sc}
	sc.props, sc.assocs, sc.types, sc.inputs = sc.props[:0], sc.assocs[:0], sc.types[:0], sc.inputs[:0]
	if !p.consume('{') {
		return nil, false
	}
	if k, ok := p.str(); !ok || k != "inputs" || !p.consume(':') || !p.consume('[') {
		return nil, false
	}
	// Inputs refer to props, assocs and types by position while they grow;
	// the slices are cut once parsing is done.
	type span struct{ props, assocs [2]int }
	var spans [maxBatchInputs]span
	for {
		if len(sc.inputs) == maxBatchInputs {
			return nil, false
		}
		var in createInput
		var sp span
		if !p.input(&in, &sp.props, &sp.assocs) {
			return nil, false
		}
		in.index = len(sc.inputs)
		spans[in.index] = sp
		sc.inputs = append(sc.inputs, in)
		if p.consume(',') {
			continue
		}
		if p.consume(']') {
			break
		}
		return nil, false
	}
	if !p.consume('}') {
		return nil, false
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, false
	}
	for i := range sc.inputs {
		in, sp := &sc.inputs[i], spans[i]
		in.props = sc.props[sp.props[0]:sp.props[1]:sp.props[1]]
		if sp.assocs[1] > sp.assocs[0] {
			in.assocs = sc.assocs[sp.assocs[0]:sp.assocs[1]:sp.assocs[1]]
		}
	}
	for i := range sc.assocs {
		a := &sc.assocs[i]
		a.Types = sc.types[a.typesFrom:a.typesTo:a.typesTo]
	}
	return sc.inputs, true
}

// input parses one SimplePublicObjectBatchInputForCreate.
func (p *batchParser) input(in *createInput, props, assocs *[2]int) bool {
	if !p.consume('{') {
		return false
	}
	var haveAssocs, haveProps, haveTrace bool
	for {
		k, ok := p.str()
		if !ok || !p.consume(':') {
			return false
		}
		switch k {
		case "associations":
			if haveAssocs {
				return false
			}
			haveAssocs = true
			assocs[0] = len(p.sc.assocs)
			if !p.associations() {
				return false
			}
			assocs[1] = len(p.sc.assocs)
		case "properties":
			if haveProps {
				return false
			}
			haveProps = true
			props[0] = len(p.sc.props)
			if !p.properties() {
				return false
			}
			props[1] = len(p.sc.props)
		case "objectWriteTraceId":
			if haveTrace {
				return false
			}
			haveTrace = true
			if in.traceID, ok = p.str(); !ok {
				return false
			}
			in.tracePlain = p.plain
		default:
			return false
		}
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			break
		}
		return false
	}
	return haveAssocs && haveProps
}

// properties parses a properties object of string values and sorts it by
// name. A repeated name gives up (the generic path keeps the last value).
func (p *batchParser) properties() bool {
	if !p.consume('{') {
		return false
	}
	start := len(p.sc.props)
	if !p.consume('}') {
		for {
			name, ok := p.str()
			if !ok || !p.consume(':') {
				return false
			}
			namePlain := p.plain
			value, ok := p.str()
			if !ok {
				return false
			}
			p.sc.props = append(p.sc.props, propKV{name: name, value: value, plain: namePlain && p.plain})
			if p.consume(',') {
				continue
			}
			if p.consume('}') {
				break
			}
			return false
		}
	}
	props := p.sc.props[start:]
	sortProps(props)
	for i := 1; i < len(props); i++ {
		if props[i].name == props[i-1].name {
			return false
		}
	}
	return true
}

// sortProps sorts by name. Clients usually send names sorted already, so an
// insertion sort is linear in practice.
func sortProps(props []propKV) {
	if len(props) > 32 {
		slices.SortFunc(props, func(a, b propKV) int { return strings.Compare(a.name, b.name) })
		return
	}
	for i := 1; i < len(props); i++ {
		for j := i; j > 0 && props[j].name < props[j-1].name; j-- {
			props[j], props[j-1] = props[j-1], props[j]
		}
	}
}

// associations parses a list of PublicAssociationsForObject.
func (p *batchParser) associations() bool {
	if !p.consume('[') {
		return false
	}
	if p.consume(']') {
		return true
	}
	for {
		if !p.association() {
			return false
		}
		if p.consume(',') {
			continue
		}
		return p.consume(']')
	}
}

func (p *batchParser) association() bool {
	if !p.consume('{') {
		return false
	}
	var a assocInput
	var haveTo, haveTypes bool
	for {
		k, ok := p.str()
		if !ok || !p.consume(':') {
			return false
		}
		switch k {
		case "to":
			if haveTo {
				return false
			}
			haveTo = true
			if !p.consume('{') {
				return false
			}
			if k, ok := p.str(); !ok || k != "id" || !p.consume(':') {
				return false
			}
			if a.ToID, ok = p.str(); !ok || !p.consume('}') {
				return false
			}
		case "types":
			if haveTypes {
				return false
			}
			haveTypes = true
			a.typesFrom = len(p.sc.types)
			if !p.assocTypes() {
				return false
			}
			a.typesTo = len(p.sc.types)
		default:
			return false
		}
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			break
		}
		return false
	}
	if !haveTo || !haveTypes {
		return false
	}
	p.sc.assocs = append(p.sc.assocs, a)
	return true
}

// assocTypes parses a non-empty list of AssociationSpec.
func (p *batchParser) assocTypes() bool {
	if !p.consume('[') {
		return false
	}
	for {
		if !p.consume('{') {
			return false
		}
		var t assocSpec
		var haveCategory, haveTypeID bool
		for {
			k, ok := p.str()
			if !ok || !p.consume(':') {
				return false
			}
			switch k {
			case "associationCategory":
				if haveCategory {
					return false
				}
				haveCategory = true
				if t.Category, ok = p.str(); !ok || !slices.Contains(associationCategories, t.Category) {
					return false
				}
			case "associationTypeId":
				if haveTypeID {
					return false
				}
				haveTypeID = true
				if t.TypeID, ok = p.int32(); !ok {
					return false
				}
			default:
				return false
			}
			if p.consume(',') {
				continue
			}
			if p.consume('}') {
				break
			}
			return false
		}
		if !haveCategory || !haveTypeID {
			return false
		}
		p.sc.types = append(p.sc.types, t)
		if p.consume(',') {
			continue
		}
		return p.consume(']')
	}
}

// ws skips JSON whitespace.
func (p *batchParser) ws() {
	for p.i < len(p.s) {
		if c := p.s[p.i]; c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return
		}
		p.i++
	}
}

// consume skips whitespace and then c, reporting whether c was there.
func (p *batchParser) consume(c byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str parses a JSON string. Without escapes the result shares the body's
// memory.
func (p *batchParser) str() (string, bool) {
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", false
	}
	p.i++
	start := p.i
	p.plain = true
	for {
		p.i = jsonstr.Plain(p.s, p.i)
		if p.i >= len(p.s) {
			return "", false
		}
		switch c := p.s[p.i]; {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			return v, true
		case c == '\\':
			p.plain = false
			return p.escapedStr(start)
		case c < 0x20:
			return "", false
		default:
			p.plain = false
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			p.i += size
		}
	}
}

// escapedStr finishes a string that started at start and has an escape at p.i.
func (p *batchParser) escapedStr(start int) (string, bool) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), true
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", false
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				if p.i+4 > len(p.s) {
					return "", false
				}
				var r rune
				for _, h := range []byte(p.s[p.i : p.i+4]) {
					switch {
					case '0' <= h && h <= '9':
						h -= '0'
					case 'a' <= h && h <= 'f':
						h -= 'a' - 10
					case 'A' <= h && h <= 'F':
						h -= 'A' - 10
					default:
						return "", false
					}
					r = r<<4 | rune(h)
				}
				if utf16.IsSurrogate(r) {
					return "", false
				}
				p.i += 4
				buf = utf8.AppendRune(buf, r)
			default:
				return "", false
			}
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			buf = append(buf, p.s[p.i:p.i+size]...)
			p.i += size
		}
	}
	return "", false
}

// int32 parses a JSON number that is an integer in int32 range, as
// asInt32 accepts it (json.Number.Int64, so "-0" is 0).
func (p *batchParser) int32() (int, bool) {
	p.ws()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i >= len(p.s):
		return 0, false
	case p.s[p.i] == '0':
		p.i++
	case '1' <= p.s[p.i] && p.s[p.i] <= '9':
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
		}
	default:
		return 0, false
	}
	if p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '.' || c == 'e' || c == 'E' || ('0' <= c && c <= '9'):
			return 0, false
		}
	}
	n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}
