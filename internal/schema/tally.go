package schema

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"unicode"
)

// DefaultExamples is how many examples a Tally keeps per line when
// MaxExamples is 0.
const DefaultExamples = 5

// Tally collects problems for the end-of-run table: counts by (property,
// column, code), with the first few examples of each. The zero value is
// ready to use; a Tally is safe for concurrent use. Its memory grows with
// the number of distinct (property, column, code) lines, not with rows.
type Tally struct {
	// MaxExamples is how many examples are kept per line; 0 means
	// DefaultExamples. Set it before the first Add.
	MaxExamples int

	mu    sync.Mutex
	lines map[tallyKey]*tallyLine
	total int
}

type tallyKey struct{ property, column, code string }

type tallyLine struct {
	count    int
	examples []example
}

type example struct {
	row   int
	value string // already shortened and quoted
}

// Add counts one problem found in data row row (1-based) of column (the
// CSV column the value came from, "" if none).
func (t *Tally) Add(row int, column string, p Problem) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lines == nil {
		t.lines = make(map[tallyKey]*tallyLine)
	}
	k := tallyKey{p.Property, column, p.Code}
	l := t.lines[k]
	if l == nil {
		l = &tallyLine{}
		t.lines[k] = l
	}
	l.count++
	t.total++
	keep := t.MaxExamples
	if keep <= 0 {
		keep = DefaultExamples
	}
	if len(l.examples) < keep {
		l.examples = append(l.examples, example{row, quote(p.Value)})
	}
}

// Len returns the number of problems added.
func (t *Tally) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// Write writes the table: one line per (property, column, code), most
// frequent first (then by property, column and code), with the count and
// up to examples examples, each `row 17: "Fortnightly"`. It writes nothing
// when no problem was added.
func (t *Tally) Write(w io.Writer, examples int) error {
	t.mu.Lock()
	keys := make([]tallyKey, 0, len(t.lines))
	for k := range t.lines {
		keys = append(keys, k)
	}
	lines := make(map[tallyKey]tallyLine, len(t.lines))
	for k, l := range t.lines {
		lines[k] = tallyLine{count: l.count, examples: slices.Clone(l.examples)}
	}
	t.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b tallyKey) int {
		return cmp.Or(
			cmp.Compare(lines[b].count, lines[a].count),
			cmp.Compare(a.property, b.property),
			cmp.Compare(a.column, b.column),
			cmp.Compare(a.code, b.code),
		)
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROPERTY\tCOLUMN\tCODE\tCOUNT\tEXAMPLES")
	for _, k := range keys {
		l := lines[k]
		var ex []string
		for i, e := range l.examples {
			if i >= examples {
				break
			}
			ex = append(ex, fmt.Sprintf("row %d: %s", e.row, e.value))
		}
		if len(ex) == 0 {
			ex = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", cell(k.property), cell(k.column), cell(k.code), l.count, strings.Join(ex, ", "))
	}
	return tw.Flush()
}

// cell makes a name safe for one table cell: Go-quoted when it holds a
// tab, a line break or another unprintable character; "-" when empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fmt.Sprintf("%q", s)
	}
	return s
}
