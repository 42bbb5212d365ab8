package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
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
func propertyNodes(doc *yaml.Node) [][2]*yaml.Node {
	root := rootMapping(doc)
	if root == nil {
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

// rootMapping returns the top-level mapping of a document, or nil.
func rootMapping(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	return doc.Content[0]
}

// yamlKeys returns the YAML keys of struct type T, in field order.
func yamlKeys[T any]() []string {
	t := reflect.TypeFor[T]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("yaml"); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// The keys of a mapping file: at the top, in a property's long form and in
// an association.
var (
	specKeys        = yamlKeys[Spec]()
	propertyKeys    = yamlKeys[PropertySpec]()
	associationKeys = yamlKeys[AssociationSpec]()
)

// unknownKeys finds keys that the mapping file's level does not have, each
// with the closest known key when there is one. (The decoder's KnownFields
// finds some of them, without suggestions, and does not reach into
// PropertySpec.UnmarshalYAML.)
func unknownKeys(doc *yaml.Node) []error {
	root := rootMapping(doc)
	if root == nil {
		return nil
	}
	var errs []error
	check := func(where string, m *yaml.Node, known []string) {
		if m.Kind != yaml.MappingNode {
			return
		}
		for k := 0; k+1 < len(m.Content); k += 2 {
			key := m.Content[k]
			if slices.Contains(known, key.Value) {
				continue
			}
			errs = append(errs, fmt.Errorf("%sline %d: unknown key %q (want %s)%s",
				where, key.Line, key.Value, strings.Join(known, ", "), suggestion(key.Value, known)))
		}
	}
	check("", root, specKeys)
	for i := 0; i+1 < len(root.Content); i += 2 {
		v := root.Content[i+1]
		switch root.Content[i].Value {
		case "properties":
			if v.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				check(fmt.Sprintf("property %q: ", v.Content[j].Value), v.Content[j+1], propertyKeys)
			}
		case "associations":
			if v.Kind != yaml.SequenceNode {
				continue
			}
			for j, a := range v.Content {
				check(fmt.Sprintf("association %d: ", j+1), a, associationKeys)
			}
		}
	}
	return errs
}

// lineRE finds the line number in a yaml error.
var lineRE = regexp.MustCompile(`line (\d+)`)

// syntaxError replaces the error yaml gives for a tab in the indentation,
// whose line number may be off by one, with one naming the line that has
// the tab. Other errors are returned as they are.
func syntaxError(data []byte, err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "tab character") && !strings.Contains(msg, "cannot start any token") {
		return err
	}
	var tabs []int // lines with a tab in their indentation
	for i, line := range bytes.Split(data, []byte("\n")) {
		indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 {
			tabs = append(tabs, i+1)
		}
	}
	if len(tabs) == 0 {
		return err
	}
	// yaml's line is that of the tab or the one before it.
	reported := 0
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		reported, _ = strconv.Atoi(m[1])
	}
	at := slices.IndexFunc(tabs, func(n int) bool { return n >= reported })
	if at < 0 {
		at = 0
	}
	line := tabs[at]
	text := fmt.Sprintf("line %d: the mapping is indented with a tab; YAML needs spaces", line)
	if len(tabs) > 1 {
		lines := make([]string, 0, len(tabs)-1)
		for _, n := range tabs {
			if n != line {
				lines = append(lines, strconv.Itoa(n))
			}
		}
		what := "line"
		if len(lines) > 1 {
			what = "lines"
		}
		text += fmt.Sprintf(" (so is %s %s)", what, joinAnd(lines))
	}
	return errors.New(text)
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
			if a.By != "" {
				fields = append(fields, "by: "+scalar(a.By))
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
		check(name, p.Column, p.Type, p.Format, p.Default, p.Value, p.Decimal, p.Thousands, p.Currency, p.Separator)
		check(p.Formats...)
		for k, v := range p.Values {
			check(k, v)
		}
	}
	for _, a := range s.Associations {
		check(a.Column, a.To, a.Category, a.By)
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
	addf("currency", scalarOrEmpty(p.Currency))
	addf("zone", scalarOrEmpty(p.Zone))
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
