package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// assocPost is one parsed PublicAssociationMultiPost.
type assocPost struct {
	fromID, toID string
	types        []assocSpec
}

// parseAssocBatch checks an association batch create body against
// BatchInputPublicAssociationMultiPost.
func parseAssocBatch(v any) ([]assocPost, error) {
	raw, err := batchInputs(v, "BatchInputPublicAssociationMultiPost", maxAssocBatchInputs)
	if err != nil {
		return nil, err
	}
	posts := make([]assocPost, 0, len(raw))
	for i, e := range raw {
		path := fmt.Sprintf("inputs[%d]", i)
		m, err := asObject(e, path, "PublicAssociationMultiPost", "from", "to", "types")
		if err != nil {
			return nil, err
		}
		if err := requireFields(m, path, "from", "to", "types"); err != nil {
			return nil, err
		}
		var p assocPost
		for _, end := range []struct {
			name string
			dst  *string
		}{{"from", &p.fromID}, {"to", &p.toID}} {
			ep := path + "." + end.name
			om, err := asObject(m[end.name], ep, "PublicObjectId", "id")
			if err != nil {
				return nil, err
			}
			if err := requireFields(om, ep, "id"); err != nil {
				return nil, err
			}
			if *end.dst, err = asString(om["id"], ep+".id"); err != nil {
				return nil, err
			}
		}
		if p.types, err = assocTypes(m["types"], path); err != nil {
			return nil, err
		}
		posts = append(posts, p)
	}
	return posts, nil
}

// labelsPair is HubSpot's LabelsBetweenObjectPair.
type labelsPair struct {
	FromObjectTypeID string   `json:"fromObjectTypeId"`
	FromObjectID     string   `json:"fromObjectId"`
	ToObjectTypeID   string   `json:"toObjectTypeId"`
	ToObjectID       string   `json:"toObjectId"`
	Labels           []string `json:"labels"`
}

// assocBatchResponse is BatchResponseLabelsBetweenObjectPair(WithErrors).
type assocBatchResponse = batchAnswer[labelsPair]

// handleAssocCreate serves POST
// /crm/v4/associations/line_items/{toObjectType}/batch/create and
// /crm/associations/2026-09/line_items/{toObjectType}/batch/create. The
// associations are stored on the line items as batch create's inline
// ones are. It draws the late commit and, once it has stored anything, the
// commit faults, as batch create does.
func (s *Server) handleAssocCreate(w http.ResponseWriter, r *http.Request, params []string, v apiVersion) {
	if !isLineItemType(params[0]) {
		s.writeError(w, http.StatusNotFound, apiError{Message: "resource not found"})
		return
	}
	s.mu.Lock()
	s.stats.AssociationCreates++
	s.mu.Unlock()
	started := s.now()
	to, ok := canonicalObjectType(params[1])
	if !ok {
		s.validationError(w, "Unable to infer object type from: "+params[1])
		return
	}
	posts, ok := readParsed(s, w, r, parseAssocBatch)
	if !ok {
		return
	}
	s.lateCommit()
	resp, fail := s.processAssocs(posts, to, started)
	if fail != nil {
		s.writeError(w, http.StatusBadRequest, *fail)
		return
	}
	if len(resp.Results) > 0 && s.commitFault(w) {
		return
	}
	status := http.StatusCreated
	if v == api2026 {
		status = http.StatusOK // the 2026-09 spec's only success status
	}
	if resp.NumErrors > 0 {
		status = s.multiStatus(http.StatusMultiStatus, status, v)
	}
	writeJSON(w, status, resp)
}

// processAssocs validates and stores a parsed association batch to
// objects of type to, under the store lock. It returns the answer, or a
// whole-batch error (nothing stored).
func (s *Server) processAssocs(posts []assocPost, to string, started time.Time) (assocBatchResponse, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := objectTypeInfos[to]

	// Types are checked for the whole batch first, as batch create checks
	// inline associations: each must exist from line items and lead to to.
	for _, p := range posts {
		for _, t := range p.types {
			def, ok := s.assoc[assocKey{t.Category, t.TypeID}]
			if !ok {
				return assocBatchResponse{}, &apiError{Category: "VALIDATION_ERROR",
					Message: fmt.Sprintf("Invalid association type: %s association type id %d does not exist from line_items (0-8)", t.Category, t.TypeID),
					Context: map[string][]string{"associationTypeId": {strconv.Itoa(t.TypeID)}, "associationCategory": {t.Category}}}
			}
			if def.toType != to {
				return assocBatchResponse{}, &apiError{Category: "VALIDATION_ERROR",
					Message: fmt.Sprintf("Invalid association type: %s association type id %d leads from line_items (0-8) to %s (%s), not to %s (%s)", t.Category, t.TypeID, def.toType, objectTypeInfos[def.toType].typeID, to, info.typeID),
					Context: map[string][]string{"associationTypeId": {strconv.Itoa(t.TypeID)}, "associationCategory": {t.Category}}}
			}
		}
	}

	resp := assocBatchResponse{Status: "COMPLETE", Results: []labelsPair{}, StartedAt: formatInstant(started)}
	// The pairs to answer, in input order, and the types to add per line item.
	type pair struct {
		it   *storedItem
		toID string
	}
	var pairs []pair
	pairSeen := make(map[pair]bool)
	adds := make(map[*storedItem][]storedAssoc)
	var order []*storedItem // line items to rewrite, in input order
	failedSeen := make(map[[2]string]bool)
	for _, p := range posts {
		var it *storedItem
		if n, err := strconv.ParseInt(p.fromID, 10, 64); err == nil && n > 0 && strconv.FormatInt(n, 10) == p.fromID {
			it = s.items.find(n)
		}
		toOK := s.objects[to][p.toID]
		if it == nil || !toOK {
			if k := [2]string{p.fromID, p.toID}; !failedSeen[k] {
				failedSeen[k] = true
				resp.Errors = append(resp.Errors, assocNotFound(p, it == nil, !toOK, info))
			}
			continue
		}
		pk := pair{it, p.toID}
		if !pairSeen[pk] {
			pairSeen[pk] = true
			pairs = append(pairs, pk)
		}
		for _, t := range p.types {
			a := storedAssoc{typeIdx: s.assocTypeIndex(t.Category, t.TypeID), toID: p.toID}
			if !slices.Contains(adds[it], a) {
				if adds[it] == nil {
					order = append(order, it)
				}
				adds[it] = append(adds[it], a)
			}
		}
	}

	// Rewrite the line items that gain an association; existing ones are
	// kept once.
	var data []byte
	type move struct {
		it  *storedItem
		off uint32
	}
	var moves []move
	for _, it := range order {
		v := s.view(it)
		props, assocs := s.decode(v)
		n := len(assocs)
		for _, a := range adds[it] {
			if !slices.Contains(assocs, a) {
				assocs = append(assocs, a)
			}
		}
		if len(assocs) == n {
			continue
		}
		moves = append(moves, move{it, uint32(len(data))})
		data = s.appendStored(data, v.trace, props, assocs)
	}
	if len(moves) > 0 {
		b := s.addBatch(data, s.now())
		for _, m := range moves {
			s.moveItem(m.it, b, m.off, false)
		}
	}

	for _, pk := range pairs {
		labels := []string{}
		_, assocs := s.decode(s.view(pk.it))
		for _, a := range assocs {
			t := s.assocTypes[a.typeIdx]
			if a.toID != pk.toID || t.ToType != to {
				continue
			}
			if l := s.assoc[assocKey{t.Category, t.TypeID}].label; l != "" && !slices.Contains(labels, l) {
				labels = append(labels, l)
			}
		}
		slices.Sort(labels)
		resp.Results = append(resp.Results, labelsPair{FromObjectTypeID: "0-8", FromObjectID: strconv.FormatInt(pk.it.idNum, 10),
			ToObjectTypeID: info.typeID, ToObjectID: pk.toID, Labels: labels})
	}
	s.rng.Shuffle(len(resp.Results), func(a, b int) { resp.Results[a], resp.Results[b] = resp.Results[b], resp.Results[a] })
	s.rng.Shuffle(len(resp.Errors), func(a, b int) { resp.Errors[a], resp.Errors[b] = resp.Errors[b], resp.Errors[a] })
	resp.NumErrors = len(resp.Errors)
	resp.CompletedAt = formatInstant(s.now())
	return resp, nil
}

// assocNotFound is the error of an association input whose line item
// (fromMissing) or target (toMissing) does not exist. Its shape is
// modelled on batch create's INVALID_OBJECT_IDS, not verified.
func assocNotFound(p assocPost, fromMissing, toMissing bool, to objectTypeInfo) standardError {
	var invalid []string
	if fromMissing {
		invalid = append(invalid, "LINE_ITEM="+p.fromID+" is not valid")
	}
	if toMissing {
		invalid = append(invalid, to.upper+"="+p.toID+" is not valid")
	}
	return newStandardError("OBJECT_NOT_FOUND", "Could not create association: "+strings.Join(invalid, "; "), map[string][]string{
		"fromObjectId": {p.fromID}, "toObjectId": {p.toID}, "INVALID_OBJECT_IDS": invalid,
	}, nil)
}
