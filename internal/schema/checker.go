package schema

import (
	"slices"

	"github.com/lineitems/importer/internal/hubspot"
)

// A Checker normalizes and checks inputs as [Schema.Normalize] and
// [Schema.Check] do, with the same results. It remembers the definitions of
// the property names it has met, in the order it met them, so that inputs
// whose names come in a steady order (the rows of one mapping, some of
// which leave out an empty property) cost no lookups by name.
//
// A Checker is not safe for concurrent use; any number of Checkers may
// share one Schema.
type Checker struct {
	s     *Schema
	known []known     // at most maxKnown
	defs  []*property // lookup's result, reused
}

type known struct {
	name string
	def  *property // nil if the portal has no such property
}

// maxKnown bounds how many names a Checker remembers; past it, new names
// are looked up each time.
const maxKnown = 256

// NewChecker returns a Checker for s.
func (s *Schema) NewChecker() *Checker { return &Checker{s: s} }

// Normalize is [Schema.Normalize].
func (c *Checker) Normalize(in *hubspot.CreateInput) {
	c.s.normalize(in, c.lookup(in.Properties))
}

// Check is [Schema.Check].
func (c *Checker) Check(in hubspot.CreateInput) []Problem {
	return c.s.check(in, c.lookup(in.Properties))
}

// lookup returns the definitions of ps's properties in ps's order. It looks
// for each name among the remembered ones after the previous name's, and
// looks a name up by map only when it is not there; the new name is then
// remembered at that place, so that the remembered order follows the
// inputs'.
func (c *Checker) lookup(ps hubspot.PropertyValues) []*property {
	c.defs = c.defs[:0]
	j := 0 // where the search for the next name starts
	for _, nv := range ps {
		k := j
		for k < len(c.known) && c.known[k].name != nv.Name {
			k++
		}
		if k < len(c.known) {
			c.defs = append(c.defs, c.known[k].def)
			j = k + 1
			continue
		}
		def := c.s.props[nv.Name]
		c.defs = append(c.defs, def)
		if len(c.known) < maxKnown {
			c.known = slices.Insert(c.known, j, known{nv.Name, def})
			j++
		}
	}
	return c.defs
}
