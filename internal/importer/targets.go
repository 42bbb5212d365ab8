package importer

import (
	"context"
	"fmt"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/resolve"
)

// targets finds the records that associations name by an external id (a
// mapping association with by:), a hundred values to a batch read by the
// target's unique property, and remembers what it found for the run. A
// value is read once per run, whatever the number of rows that name it.
// It is not safe for concurrent use.
type targets struct {
	reader resolve.Reader
	pacer  resolve.Pacer        // the run's: the reads count in the same window
	tries  int                  // attempts per read (resolve.Resolver.MaxAttempts)
	ids    map[targetRef]string // the record's id; "" for a value no record holds
	want   map[targetRef]bool   // values named by waiting rows, not read yet
}

// targetRef is one external id: a value of a target type's unique property.
type targetRef struct{ objectType, property, value string }

func newTargets(r resolve.Reader, p resolve.Pacer, attempts int) *targets {
	return &targets{reader: r, pacer: p, tries: attempts, ids: map[targetRef]string{}, want: map[targetRef]bool{}}
}

// known reports whether every external id in's associations name has been
// read; those that have not are noted for the next resolve.
func (t *targets) known(in *hubspot.CreateInput) bool {
	ok := true
	for _, a := range in.Associations {
		if a.By == "" {
			continue
		}
		ref := targetRef{a.ObjectType, a.By, a.To.ID}
		if _, read := t.ids[ref]; !read {
			t.want[ref] = true
			ok = false
		}
	}
	return ok
}

// waiting is how many values wait to be read.
func (t *targets) waiting() int { return len(t.want) }

// resolve reads the values waiting, one batch read per hundred values of
// each target type and property. An error means some could not be read
// (see resolve.Resolver.Find); nothing is taken as not found then.
func (t *targets) resolve(ctx context.Context) error {
	groups := map[[2]string][]string{}
	for ref := range t.want {
		k := [2]string{ref.objectType, ref.property}
		groups[k] = append(groups[k], ref.value)
	}
	for k, values := range groups {
		// A value HubSpot's answer is silent about (a number property may
		// come back as 42 for 0042) fails its rows as not found, before
		// they are sent; it does not stop the run.
		r := &resolve.Resolver{Reader: t.reader, ObjectType: k[0], Property: k[1], Pacer: t.pacer, SilentIsMissing: true, MaxAttempts: t.tries}
		found, err := r.Find(ctx, values)
		if err != nil {
			return err
		}
		for _, v := range values {
			ref := targetRef{k[0], k[1], v}
			t.ids[ref] = found[v] // "" when no record holds it
			delete(t.want, ref)
		}
	}
	return nil
}

// apply replaces in's external ids with the ids of their records, all of
// which must have been read, and returns a description of each value no
// record holds.
func (t *targets) apply(in *hubspot.CreateInput) []string {
	var missing []string
	for i := range in.Associations {
		a := &in.Associations[i]
		if a.By == "" {
			continue
		}
		id := t.ids[targetRef{a.ObjectType, a.By, a.To.ID}]
		if id == "" {
			missing = append(missing, fmt.Sprintf("no %s has %s %q", a.ObjectType, a.By, a.To.ID))
			continue
		}
		a.To.ID, a.By = id, ""
	}
	return missing
}
