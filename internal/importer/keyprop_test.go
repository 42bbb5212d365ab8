package importer

import (
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/mapping"
)

// TestCheckKeyProperty: the key property is filled from the key column as
// the cell holds it. A mapping that fills it from another column, or
// without a key column, is refused before anything is sent; one that asks
// to change the cell (trim, a default, a type) is warned about, since
// those are not applied: the journal and the lookups know the row by the
// cell.
func TestCheckKeyProperty(t *testing.T) {
	for _, c := range []struct {
		name, spec, refused, warned string // parts of the error and the warning, "" for none
	}{
		{"not mapped: filled from the key", "properties: {name: Product}\nkey: SKU\n", "", ""},
		{"short form", "properties: {import_key: SKU}\nkey: SKU\n", "", ""},
		{"long form, as it is", "properties: {import_key: {column: SKU}}\nkey: SKU\n", "", ""},
		{"type string", "properties: {import_key: {column: SKU, type: string}}\nkey: SKU\n", "", ""},
		{"no key column", "properties: {import_key: SKU}\n", "needs a key column", ""},
		{"another column", "properties: {import_key: Ref}\nkey: SKU\n", `fills it from column "Ref"`, ""},
		{"a constant", "properties: {import_key: {value: K}}\nkey: SKU\n", "fills it from column", ""},
		{"trimmed", "properties: {import_key: {column: SKU, trim: true}}\nkey: SKU\n", "", "a key with spaces around it is another key"},
		{"a default", "properties: {import_key: {column: SKU, default: X}}\nkey: SKU\n", "", "trim, default and type are not applied"},
		{"a number", "properties: {import_key: {column: SKU, type: number}}\nkey: SKU\n", "", `as column "SKU" holds it`},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec, err := mapping.Load(strings.NewReader(c.spec))
			if err != nil {
				t.Fatal(err)
			}
			err = checkKeyProperty(spec, "import_key")
			switch {
			case c.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused)):
				t.Errorf("err = %v, want it to say %q", err, c.refused)
			}
			if err != nil {
				return
			}
			w := keyUnconverted(spec, "import_key")
			if (c.warned == "") != (w == "") || !strings.Contains(w, c.warned) {
				t.Errorf("warning %q, want one that says %q", w, c.warned)
			}
		})
	}
}
