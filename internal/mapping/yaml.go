package mapping

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// layout is how [Spec.YAML] writes a spec: the order of its properties and
// of their values, and comments. Load keeps the file's order; Suggest adds
// comments.
type layout struct {
	intro   []string     // comment lines before "properties:"
	items   []layoutItem // properties and comment lines, in order
	labels  map[string][]string
	assocs  []string // a comment per association, by index
	trailer []string // comment lines at the end
}

// layoutItem is a property, with an optional comment, or a comment line.
type layoutItem struct {
	property string // "" for a comment line
	comment  string
}

// propertyNodes returns the name and value nodes of the properties of a
// mapping file that was decoded without error, in the file's order.
func propertyNodes(data []byte) [][2]*yaml.Node {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "properties" || root.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		props := root.Content[i+1].Content
		for j := 0; j+1 < len(props); j += 2 {
			out = append(out, [2]*yaml.Node{props[j], props[j+1]})
		}
	}
	return out
}

// propertyKeys are the keys of a property's long form.
var propertyKeys = func() []string {
	t := reflect.TypeFor[PropertySpec]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, t.Field(i).Tag.Get("yaml"))
	}
	return keys
}()

// unknownPropertyKeys finds keys of properties' long forms that
// PropertySpec does not have. (The decoder's KnownFields does not reach
// into PropertySpec.UnmarshalYAML.)
func unknownPropertyKeys(props [][2]*yaml.Node) []error {
	var errs []error
	for _, p := range props {
		if p[1].Kind != yaml.MappingNode {
			continue
		}
		for k := 0; k+1 < len(p[1].Content); k += 2 {
			if key := p[1].Content[k]; !slices.Contains(propertyKeys, key.Value) {
				errs = append(errs, fmt.Errorf("property %q: line %d: unknown key %q (want %s)",
					p[0].Value, key.Line, key.Value, strings.Join(propertyKeys, ", ")))
			}
		}
	}
	return errs
}

// layoutOf returns the order of the properties and of their values.
func layoutOf(props [][2]*yaml.Node) *layout {
	l := &layout{labels: map[string][]string{}}
	for _, p := range props {
		name := p[0].Value
		l.items = append(l.items, layoutItem{property: name})
		v := p[1]
		if v.Kind != yaml.MappingNode {
			continue
		}
		for k := 0; k+1 < len(v.Content); k += 2 {
			if v.Content[k].Value != "values" || v.Content[k+1].Kind != yaml.MappingNode {
				continue
			}
			vals := v.Content[k+1].Content
			for m := 0; m+1 < len(vals); m += 2 {
				l.labels[name] = append(l.labels[name], vals[m].Value)
			}
		}
	}
	return l
}

// YAML returns s as a mapping file, which [Load] reads back as s. The
// properties come in the order of the file s was loaded from, or of the
// header s was suggested for; properties added since come last, sorted.
// Simple properties take one line ("name: Column" or a flow mapping); enum
// and multi properties list their values one per line. A suggested spec
// carries comments: what each property is in HubSpot, and the columns left
// unmatched.
func (s *Spec) YAML() ([]byte, error) {
	if err := s.checkUTF8(); err != nil {
		return nil, err
	}
	l := s.layout
	if l == nil {
		l = &layout{}
	}
	var b bytes.Buffer
	for _, c := range l.intro {
		writeComment(&b, "", c)
	}

	// Properties: one-line entries have their comments aligned.
	type entry struct {
		line    string   // "  name: ..." or "  # comment"
		block   []string // further lines of a long entry
		comment string
	}
	var entries []entry
	done := map[string]bool{}
	add := func(name, comment string) {
		p, ok := s.Properties[name]
		if !ok || done[name] {
			return
		}
		done[name] = true
		line, block := propertyYAML(name, p, l.labels[name])
		entries = append(entries, entry{line: line, block: block, comment: comment})
	}
	for _, it := range l.items {
		if it.property == "" {
			entries = append(entries, entry{line: "  # " + commentText(it.comment)})
			continue
		}
		add(it.property, it.comment)
	}
	for _, name := range sortedKeys(s.Properties) {
		add(name, "")
	}
	// Comments start in one column, unless a line is too long for it.
	const maxWidth = 60
	width := 0
	for _, e := range entries {
		if n := utf8.RuneCountInString(e.line); e.comment != "" && len(e.block) == 0 && n <= maxWidth {
			width = max(width, n)
		}
	}
	if len(done) == 0 {
		b.WriteString("properties: {}\n")
	} else {
		b.WriteString("properties:\n")
	}
	for _, e := range entries {
		b.WriteString(e.line)
		if e.comment != "" {
			pad := 2
			if len(e.block) == 0 {
				pad = max(2, width-utf8.RuneCountInString(e.line)+2)
			}
			b.WriteString(strings.Repeat(" ", pad))
			b.WriteString("# " + commentText(e.comment))
		}
		b.WriteByte('\n')
		for _, line := range e.block {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}

	if len(s.Associations) > 0 {
		b.WriteString("associations:\n")
		for i, a := range s.Associations {
			fields := []string{"column: " + scalar(a.Column)}
			if a.To != "" {
				fields = append(fields, "to: "+scalar(a.To))
			}
			if a.TypeID != 0 {
				fields = append(fields, "type_id: "+strconv.Itoa(a.TypeID))
			}
			if a.Category != "" {
				fields = append(fields, "category: "+scalar(a.Category))
			}
			b.WriteString("  - {" + strings.Join(fields, ", ") + "}")
			if i < len(l.assocs) && l.assocs[i] != "" {
				b.WriteString("  # " + commentText(l.assocs[i]))
			}
			b.WriteByte('\n')
		}
	}
	if s.Key != "" {
		b.WriteString("key: " + scalar(s.Key) + "\n")
	}
	for _, c := range l.trailer {
		writeComment(&b, "", c)
	}
	return b.Bytes(), nil
}

// checkUTF8 fails for a string YAML cannot hold.
func (s *Spec) checkUTF8() error {
	var bad []string
	check := func(ss ...string) {
		for _, v := range ss {
			if !utf8.ValidString(v) {
				bad = append(bad, strconv.Quote(v))
			}
		}
	}
	for name, p := range s.Properties {
		check(name, p.Column, p.Type, p.Format, p.Default, p.Value, p.Decimal, p.Thousands, p.Separator)
		check(p.Formats...)
		for k, v := range p.Values {
			check(k, v)
		}
	}
	for _, a := range s.Associations {
		check(a.Column, a.To, a.Category)
	}
	check(s.Key)
	if len(bad) > 0 {
		return fmt.Errorf("mapping: not valid UTF-8, so not writable as YAML: %s", strings.Join(bad, ", "))
	}
	return nil
}

// propertyYAML writes one property: "  name: Column" when only the column
// is set, a flow mapping on one line, or a block mapping when the property
// has values.
func propertyYAML(name string, p PropertySpec, order []string) (line string, block []string) {
	key := mappingKey("  ", name)
	if p.Column != "" && p.onlyColumn() {
		return key + " " + scalar(p.Column), nil
	}
	var fields [][2]string
	addf := func(k, v string) {
		if v != "" {
			fields = append(fields, [2]string{k, v})
		}
	}
	addf("column", scalarOrEmpty(p.Column))
	addf("value", scalarOrEmpty(p.Value))
	addf("type", scalarOrEmpty(p.Type))
	if p.Trim {
		addf("trim", "true")
	}
	addf("default", scalarOrEmpty(p.Default))
	addf("format", scalarOrEmpty(p.Format))
	if len(p.Formats) > 0 {
		fs := make([]string, len(p.Formats))
		for i, f := range p.Formats {
			fs[i] = scalar(f)
		}
		addf("formats", "["+strings.Join(fs, ", ")+"]")
	}
	addf("decimal", scalarOrEmpty(p.Decimal))
	addf("thousands", scalarOrEmpty(p.Thousands))
	if p.Percent {
		addf("percent", "true")
	}
	addf("separator", scalarOrEmpty(p.Separator))
	if len(p.Values) == 0 {
		parts := make([]string, len(fields))
		for i, f := range fields {
			parts[i] = f[0] + ": " + f[1]
		}
		return key + " {" + strings.Join(parts, ", ") + "}", nil
	}
	for _, f := range fields {
		block = append(block, "    "+f[0]+": "+f[1])
	}
	block = append(block, "    values:")
	labels := make([]string, 0, len(p.Values))
	for _, l := range order {
		if _, ok := p.Values[l]; ok && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	for _, l := range sortedKeys(p.Values) {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	for _, l := range labels {
		block = append(block, mappingKey("      ", l)+" "+scalar(p.Values[l]))
	}
	return key, block
}

// onlyColumn reports whether p sets nothing but its column.
func (p PropertySpec) onlyColumn() bool {
	v := reflect.ValueOf(p)
	for i := range v.NumField() {
		if v.Type().Field(i).Name != "Column" && !v.Field(i).IsZero() {
			return false
		}
	}
	return true
}

// maxImplicitKey is the longest key written as "key:". YAML parsers do not
// look further than 1024 characters for the ':' of an implicit key, so a
// longer one is written as an explicit "? key".
const maxImplicitKey = 1000

// mappingKey writes a block mapping key indented by indent, with its ':'.
func mappingKey(indent, s string) string {
	q := scalar(s)
	if len(q) > maxImplicitKey {
		return indent + "? " + q + "\n" + indent + ":"
	}
	return indent + q + ":"
}

func scalarOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return scalar(s)
}

// scalar writes s as a YAML scalar that reads back as the string s, in
// block and in flow context: plain when that is unambiguous, else double
// quoted.
func scalar(s string) string {
	if plainSafe(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == ' ' || (unicode.IsPrint(r) && r != utf8.RuneError):
			b.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plainSafe reports whether s can be written unquoted: letters, digits and
// a few punctuation marks that mean nothing in YAML's flow context, never a
// word YAML 1.1 reads as a boolean or null.
func plainSafe(s string) bool {
	if s == "" || len(s) > 200 || !utf8.ValidString(s) || strings.HasSuffix(s, " ") {
		return false
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r), r == '_':
		case i > 0 && (unicode.IsDigit(r) || strings.ContainsRune(" -./()%'", r)):
		default:
			return false
		}
	}
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return false
	}
	var v any
	if yaml.Unmarshal([]byte(s), &v) != nil {
		return false
	}
	str, ok := v.(string)
	return ok && str == s
}

// commentText makes s safe for a one-line comment.
func commentText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029' || (r < 0x20 && r != '\t') {
			return ' '
		}
		return r
	}, s)
}

func writeComment(b *bytes.Buffer, indent, c string) {
	if c == "" {
		b.WriteString(indent + "#\n")
		return
	}
	b.WriteString(indent + "# " + commentText(c) + "\n")
}
