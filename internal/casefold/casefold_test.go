package casefold

import (
	"strings"
	"testing"
)

func TestFold(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"SKU-1", "sku-1", true},
		{"ΟΔΟΣ-1", "οδος-1", true}, // final sigma: strings.ToLower keeps them apart
		{"ΟΔΟΣ-1", "οδοσ-1", true},
		{"SKU-1", "ſku-1", true},  // long s
		{"\u212a-1", "k-1", true}, // Kelvin sign
		{"SKU-1", "SKU-2", false},
		{"straße", "STRASSE", false}, // full case folding would join them; simple folding, as EqualFold, does not
		{"", "", true},
		{"ABC", "ABC", true},
	} {
		if got := Fold(tc.a) == Fold(tc.b); got != tc.same {
			t.Errorf("Fold(%q) == Fold(%q) is %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

// FuzzFold: Fold agrees with strings.EqualFold, and folding is idempotent.
func FuzzFold(f *testing.F) {
	f.Add("ΟΔΟΣ", "οδος")
	f.Add("SKU-1", "ſku-1")
	f.Add("a", "B")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := Fold(a) == Fold(b), strings.EqualFold(a, b); got != want {
			t.Errorf("Fold(%q) == Fold(%q) is %v; strings.EqualFold says %v", a, b, got, want)
		}
		if Fold(Fold(a)) != Fold(a) {
			t.Errorf("Fold(Fold(%q)) != Fold(%q)", a, a)
		}
	})
}
