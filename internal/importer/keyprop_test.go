package importer

import (
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/mapping"
)

// TestCheckKeyProperty: the key property is filled from the key column as
// the cell holds it; a mapping that would send it otherwise (trimmed, a
// default, another column, a conversion) is refused before anything is
// sent, since the journal and the lookups know the row by the cell.
func TestCheckKeyProperty(t *testing.T) {
	for _, c := range []struct {
		name, spec, want string // want: part of the error, "" for none
	}{
		{"not mapped: filled from the key", "properties: {name: Product}\nkey: SKU\n", ""},
		{"short form", "properties: {import_key: SKU}\nkey: SKU\n", ""},
		{"long form, as it is", "properties: {import_key: {column: SKU}}\nkey: SKU\n", ""},
		{"type string", "properties: {import_key: {column: SKU, type: string}}\nkey: SKU\n", ""},
		{"no key column", "properties: {import_key: SKU}\n", "needs a key column"},
		{"another column", "properties: {import_key: Ref}\nkey: SKU\n", `fills it from column "Ref"`},
		{"trimmed", "properties: {import_key: {column: SKU, trim: true}}\nkey: SKU\n", "a key with spaces around it is another key"},
		{"a default", "properties: {import_key: {column: SKU, default: X}}\nkey: SKU\n", "changes the cell"},
		{"a number", "properties: {import_key: {column: SKU, type: number}}\nkey: SKU\n", "changes the cell"},
		{"a constant", "properties: {import_key: {value: K}}\nkey: SKU\n", "fills it from column"},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec, err := mapping.Load(strings.NewReader(c.spec))
			if err != nil {
				t.Fatal(err)
			}
			err = checkKeyProperty(spec, "import_key")
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want it to say %q", err, c.want)
			}
		})
	}
}
