package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/lineitems/importer/internal/hubspot"
)

// Target is an object type line items can be associated with.
type Target struct {
	Name         string // plural object name, e.g. "deals"
	ObjectTypeID string // HubSpot's object type id, e.g. "0-3"
	TypeIDs      []int  // HUBSPOT_DEFINED line item → target association type ids
}

// targets are the association targets of line items and their
// HUBSPOT_DEFINED type ids, from the "Line item to object" table of
// HubSpot's associations guide.
var targets = []Target{
	{"deals", "0-3", []int{20}},
	{"quotes", "0-14", []int{68}},
	{"invoices", "0-53", []int{410}},
	{"orders", "0-123", []int{514}},
	{"carts", "0-142", []int{591}},
	{"subscriptions", "0-69", []int{302, 565}},
	{"payments", "0-101", []int{396}},
	{"discounts", "0-84", []int{368}},
}

// targetAliases are other spellings of targets' names in labels' keys.
var targetAliases = map[string]string{
	"commerce_payments": "payments",
	"commerce_payment":  "payments",
}

// Targets returns the object types whose labels a caller fetches, with
// GET /crm/v4/associations/line_items/{Name or ObjectTypeID}/labels, to
// check association types with [CheckAssociationTypes].
func Targets() []Target {
	out := slices.Clone(targets)
	for i := range out {
		out[i].TypeIDs = slices.Clone(out[i].TypeIDs)
	}
	return out
}

// TargetOf returns the object type a HUBSPOT_DEFINED line item association
// type leads to, e.g. "deals" for HUBSPOT_DEFINED 20. ok is false for other
// categories and unknown ids: their target is known only to the portal.
func TargetOf(t hubspot.AssociationType) (name string, ok bool) {
	if t.Category != hubspot.CategoryHubSpotDefined {
		return "", false
	}
	for _, tg := range targets {
		if slices.Contains(tg.TypeIDs, t.TypeID) {
			return tg.Name, true
		}
	}
	return "", false
}

// canonicalTarget maps a target's name, singular, alias or object type id
// to its plural name; other strings are returned lower-cased.
func canonicalTarget(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if a, ok := targetAliases[s]; ok {
		return a
	}
	for _, tg := range targets {
		if s == tg.Name || s == tg.ObjectTypeID || s+"s" == tg.Name {
			return tg.Name
		}
	}
	return s
}

// Label is one association type from line items to an object type, as
// GET /crm/v4/associations/line_items/{toObjectType}/labels returns it
// (AssociationSpecWithLabel).
type Label struct {
	Category         string `json:"category"`
	TypeID           int    `json:"typeId"`
	Label            string `json:"label,omitempty"` // "" for an unlabeled type (HubSpot sends null)
	FromObjectTypeID string `json:"fromObjectTypeId,omitempty"`
	ToObjectTypeID   string `json:"toObjectTypeId,omitempty"`
}

func (l Label) String() string {
	if l.Label == "" {
		return fmt.Sprintf("%s %d", l.Category, l.TypeID)
	}
	return fmt.Sprintf("%s %d %q", l.Category, l.TypeID, l.Label)
}

var categories = []string{hubspot.CategoryHubSpotDefined, hubspot.CategoryIntegratorDefined, hubspot.CategoryUserDefined, hubspot.CategoryWork}

// ParseLabels decodes a CollectionResponseAssociationSpecWithLabelNoPaging
// body: {"results":[{"category":"HUBSPOT_DEFINED","typeId":20,"label":null}, ...]}.
// results, category and typeId are required; category must be one of the
// four the spec names and typeId an int32. Fields the spec adds later are
// ignored.
func ParseLabels(r io.Reader) ([]Label, error) {
	var body struct {
		Results *[]struct {
			Category         *string `json:"category"`
			TypeID           *int64  `json:"typeId"`
			Label            *string `json:"label"`
			FromObjectTypeID string  `json:"fromObjectTypeId"`
			ToObjectTypeID   string  `json:"toObjectTypeId"`
		} `json:"results"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("association labels: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("association labels: data after the JSON object")
	}
	if body.Results == nil {
		return nil, errors.New(`association labels: no "results"`)
	}
	out := make([]Label, 0, len(*body.Results))
	for i, raw := range *body.Results {
		switch {
		case raw.Category == nil:
			return nil, fmt.Errorf("association labels: results[%d]: no category", i)
		case !slices.Contains(categories, *raw.Category):
			return nil, fmt.Errorf("association labels: results[%d]: unknown category %q", i, *raw.Category)
		case raw.TypeID == nil:
			return nil, fmt.Errorf("association labels: results[%d]: no typeId", i)
		case *raw.TypeID < math.MinInt32 || *raw.TypeID > math.MaxInt32:
			return nil, fmt.Errorf("association labels: results[%d]: typeId %d is not an int32", i, *raw.TypeID)
		}
		l := Label{Category: *raw.Category, TypeID: int(*raw.TypeID), FromObjectTypeID: raw.FromObjectTypeID, ToObjectTypeID: raw.ToObjectTypeID}
		if raw.Label != nil {
			l.Label = *raw.Label
		}
		out = append(out, l)
	}
	return out, nil
}

// AssociationError is an association type the portal does not have.
type AssociationError struct {
	Type hubspot.AssociationType
	// Target is the object type a HUBSPOT_DEFINED type leads to; "" when
	// only the portal knows it.
	Target string
	// Checked are the object types whose labels were searched, sorted.
	Checked []string
	// Available are the portal's types to Target, or to every checked
	// object type when Target is "".
	Available []Label
	// Reason is set when the type cannot be valid whatever the portal has.
	Reason string
}

func (e *AssociationError) Error() string {
	what := fmt.Sprintf("association type %s %d", e.Type.Category, e.Type.TypeID)
	if e.Target != "" {
		what += " (line items → " + e.Target + ")"
	}
	if e.Reason != "" {
		return what + ": " + e.Reason
	}
	if len(e.Checked) == 0 {
		return what + ": no association labels were given to check it against"
	}
	have := make([]string, 0, len(e.Available))
	for _, l := range e.Available {
		have = append(have, l.String())
	}
	if len(have) > 20 {
		have = append(have[:20], fmt.Sprintf("and %d more", len(e.Available)-20))
	}
	if len(have) == 0 {
		have = []string{"none"}
	}
	to := "to " + strings.Join(e.Checked, ", ")
	if e.Target != "" {
		to = "to " + e.Target
	}
	return fmt.Sprintf("%s does not exist in this portal; its line item association types %s are: %s", what, to, strings.Join(have, ", "))
}

// CheckAssociationTypes reports each association type of types the portal
// does not have, as an *AssociationError, once per type, in the order of
// types. labels holds the portal's association types from line items per
// target object type, keyed by the name, singular or object type id the
// labels were fetched with ("deals", "deal", "0-3"); see [Targets].
//
// A HUBSPOT_DEFINED type whose target is known ([TargetOf]) must be among
// its target's labels when those were fetched; any other type must be
// among the labels of some fetched target. A category other than the four
// HubSpot defines is always an error. HubSpot answers a batch that uses a
// missing type with a 400 for the whole batch, so one such type fails
// every row that has a value in its column.
func CheckAssociationTypes(types []hubspot.AssociationType, labels map[string][]Label) []error {
	byTarget := make(map[string][]Label, len(labels))
	for k, ls := range labels {
		c := canonicalTarget(k)
		byTarget[c] = append(byTarget[c], ls...)
	}
	checked := make([]string, 0, len(byTarget))
	for k := range byTarget {
		checked = append(checked, k)
	}
	slices.Sort(checked)
	has := func(ls []Label, t hubspot.AssociationType) bool {
		return slices.ContainsFunc(ls, func(l Label) bool { return l.Category == t.Category && l.TypeID == t.TypeID })
	}

	var errs []error
	done := make(map[hubspot.AssociationType]bool)
	for _, t := range types {
		if done[t] {
			continue
		}
		done[t] = true
		target, known := TargetOf(t)
		e := &AssociationError{Type: t, Target: target, Checked: checked}
		switch {
		case !slices.Contains(categories, t.Category):
			e.Reason = fmt.Sprintf("unknown category %q (HubSpot has %s)", t.Category, strings.Join(categories, ", "))
		case t.TypeID <= 0 || t.TypeID > math.MaxInt32:
			e.Reason = "a type id is a positive int32"
		default:
			if ls, fetched := byTarget[target]; known && fetched {
				if has(ls, t) {
					continue
				}
				e.Available = ls
				break
			}
			found := false
			for _, ls := range byTarget {
				found = found || has(ls, t)
			}
			if found {
				continue
			}
			if !known {
				for _, k := range checked {
					e.Available = append(e.Available, byTarget[k]...)
				}
			} else if len(checked) > 0 {
				e.Reason = fmt.Sprintf("the labels of %s were not fetched, and no other fetched object type (%s) has it", target, strings.Join(checked, ", "))
			}
		}
		errs = append(errs, e)
	}
	return errs
}
