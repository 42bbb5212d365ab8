package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// batchReadRequest is a parsed BatchReadInputSimplePublicObjectId.
type batchReadRequest struct {
	ids        []string // the inputs' ids as sent, in order
	properties []string // the requested properties, as sent
	idProperty string   // "" when reading by record id
	byProperty bool     // idProperty was given
}

// parseBatchRead checks a batch read body against
// BatchReadInputSimplePublicObjectId. Whether idProperty and the requested
// properties exist is checked later, against the portal's properties.
func parseBatchRead(v any) (*batchReadRequest, error) {
	top, err := asObject(v, "", "BatchReadInputSimplePublicObjectId", "idProperty", "inputs", "properties", "propertiesWithHistory")
	if err != nil {
		return nil, err
	}
	if err := requireFields(top, "", "inputs", "properties", "propertiesWithHistory"); err != nil {
		return nil, err
	}
	req := &batchReadRequest{}
	if ip, ok := top["idProperty"]; ok && ip != nil {
		if req.idProperty, err = asString(ip, "idProperty"); err != nil {
			return nil, err
		}
		req.byProperty = true
	}
	if req.properties, err = stringList(top["properties"], "properties"); err != nil {
		return nil, err
	}
	history, err := stringList(top["propertiesWithHistory"], "propertiesWithHistory")
	if err != nil {
		return nil, err
	}
	if len(history) > 0 {
		return nil, &inputError{msg: fmt.Sprintf("propertiesWithHistory is not supported by this emulator, which keeps no property history; send an empty list (got %d names)", len(history))}
	}
	raw, err := asArray(top["inputs"], "inputs")
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, &inputError{msg: "The batch request must contain at least one input. Please add an item and try again"}
	}
	if len(raw) > maxBatchReadInputs {
		return nil, &inputError{msg: fmt.Sprintf("The maximum number of inputs supported in a batch request is %d. Please reduce the number of items and try again (received %d)", maxBatchReadInputs, len(raw))}
	}
	req.ids = make([]string, len(raw))
	for i, e := range raw {
		path := fmt.Sprintf("inputs[%d]", i)
		m, err := asObject(e, path, "SimplePublicObjectId", "id")
		if err != nil {
			return nil, err
		}
		if err := requireFields(m, path, "id"); err != nil {
			return nil, err
		}
		if req.ids[i], err = asString(m["id"], path+".id"); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// stringList requires v to be a JSON array of strings.
func stringList(v any, path string) ([]string, error) {
	arr, err := asArray(v, path)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		if out[i], err = asString(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// batchReadResponse is BatchResponseSimplePublicObject (200) or, with
// errors, BatchResponseSimplePublicObjectWithErrors (207).
type batchReadResponse = batchAnswer[wireObject]

// notFoundMessage is the message of a batch read input that names no line
// item. It and the error's shape are modelled, not verified.
const notFoundMessage = "Could not get some LINE_ITEM objects, they may be deleted or not exist. Check that ids are valid."

// handleBatchRead serves POST /crm/v3/objects/line_items/batch/read. It
// reads the store itself, not the search index, so Config.SearchLag does
// not delay it.
func (s *Server) handleBatchRead(w http.ResponseWriter, r *http.Request, params []string) {
	s.handleBatchReadVersion(w, r, params, apiV3)
}

// handleBatchReadVersion serves line item batch read in both API
// generations (see batchRead).
func (s *Server) handleBatchReadVersion(w http.ResponseWriter, r *http.Request, _ []string, v apiVersion) {
	s.batchRead(w, r, "", v)
}

// handleTargetRead serves POST /crm/v3/objects/{objectType}/batch/read and
// /crm/objects/2026-09/{objectType}/batch/read for a readable association
// target type, params[0] (its plural name).
func (s *Server) handleTargetRead(w http.ResponseWriter, r *http.Request, params []string, v apiVersion) {
	s.batchRead(w, r, params[0], v)
}

// batchRead answers a batch read of line items (target "") or of the
// association targets of type target. In the 2026-09 APIs (v) inputs not
// found give a 200 unless Config.MultiStatus2026, and requested
// properties without a value come back as null.
func (s *Server) batchRead(w http.ResponseWriter, r *http.Request, target string, v apiVersion) {
	s.mu.Lock()
	s.stats.BatchReads++
	s.mu.Unlock()
	started := s.now()

	// Archived records only: the emulator never archives any.
	archived := r.URL.Query().Get("archived")
	if archived != "" && archived != "true" && archived != "false" {
		s.validationError(w, "Invalid value for query parameter archived: "+archived)
		return
	}
	req, ok := readParsed(s, w, r, parseBatchRead)
	if !ok {
		return
	}

	s.mu.Lock()
	var resp batchReadResponse
	var msg string
	var missing map[string]bool
	if target == "" {
		resp, missing, msg = s.readLineItems(req, archived == "true", v, started)
	} else {
		resp, missing, msg = s.readTargets(req, target, archived == "true", v, started)
	}
	if msg != "" {
		s.mu.Unlock()
		s.validationError(w, msg)
		return
	}
	s.rng.Shuffle(len(resp.Results), func(a, b int) { resp.Results[a], resp.Results[b] = resp.Results[b], resp.Results[a] })
	s.rng.Shuffle(len(resp.Errors), func(a, b int) { resp.Errors[a], resp.Errors[b] = resp.Errors[b], resp.Errors[a] })
	resp.CompletedAt = formatInstant(s.now())
	s.mu.Unlock()

	status := http.StatusOK
	if resp.NumErrors = len(resp.Errors); resp.NumErrors > 0 {
		status = s.multiStatus(http.StatusMultiStatus, http.StatusOK, v)
	}
	if len(resp.Results) == 0 && s.cfg.BatchReadNoneFound404 {
		ids := make([]string, 0, len(missing))
		for _, id := range req.ids {
			if missing[id] {
				ids = append(ids, id)
				delete(missing, id)
			}
		}
		s.writeError(w, http.StatusNotFound, apiError{Category: "OBJECT_NOT_FOUND", Message: notFoundMessageFor(target),
			Context: map[string][]string{"ids": ids}})
		return
	}
	writeJSON(w, status, resp)
}

// readLineItems looks up the line items a batch read names. It returns
// the answer (without completedAt, unshuffled) and the ids not found, or
// the message of a 400. Guarded by s.mu.
func (s *Server) readLineItems(req *batchReadRequest, archived bool, v apiVersion, started time.Time) (batchReadResponse, map[string]bool, string) {
	if req.byProperty {
		p := s.props[req.idProperty]
		if p == nil {
			return batchReadResponse{}, nil, fmt.Sprintf("Invalid idProperty %q: line items have no such property", req.idProperty)
		}
		if !p.HasUniqueValue {
			return batchReadResponse{}, nil, fmt.Sprintf("Invalid idProperty %q: it is not a unique value property (hasUniqueValue is false); only a property with unique values can identify line items, and record ids are read without idProperty", req.idProperty)
		}
	}
	// Unknown property names are ignored, as search ignores them.
	only := make([]string, 0, len(req.properties))
	for _, name := range req.properties {
		if s.props[name] != nil && !isSystemProp(name) && !slices.Contains(only, name) {
			only = append(only, name)
		}
	}
	resp := batchReadResponse{Status: "COMPLETE", Results: []wireObject{}, StartedAt: formatInstant(started)}
	found := make(map[int64]bool, len(req.ids))
	missing := make(map[string]bool)
	for _, id := range req.ids {
		var it *storedItem
		if !archived {
			it = s.readLookup(req, id)
		}
		if it == nil {
			if !missing[id] {
				missing[id] = true
				resp.Errors = append(resp.Errors, newStandardError("OBJECT_NOT_FOUND", notFoundMessage, map[string][]string{"ids": {id}}, nil))
			}
			continue
		}
		if !found[it.idNum] {
			found[it.idNum] = true
			resp.Results = append(resp.Results, s.publicObject(it, only, v == api2026))
		}
	}
	return resp, missing, ""
}

// notFoundMessageFor is notFoundMessage for the objects of target ("":
// line items).
func notFoundMessageFor(target string) string {
	if target == "" {
		return notFoundMessage
	}
	return "Could not get some " + objectTypeInfos[target].upper + " objects, they may be deleted or not exist. Check that ids are valid."
}

// readLookup finds the line item a batch read input names, or returns nil.
// Without idProperty, id must be a record id exactly as HubSpot writes it
// (no sign, no leading zeros). With it, id is a value of that unique
// property, compared as creates compare them (Config.UniqueCaseInsensitive);
// line items are found through the unique-value index built when they were
// created. A line item younger than Config.ReadLag is not found. Guarded
// by s.mu.
func (s *Server) readLookup(req *batchReadRequest, id string) *storedItem {
	var it *storedItem
	if req.byProperty {
		owner, ok := s.unique[req.idProperty][s.uniqueKey(id)]
		if !ok {
			return nil
		}
		it = s.items.find(owner)
	} else {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
			return nil
		}
		it = s.items.find(n)
	}
	if it != nil && s.cfg.ReadLag > 0 && s.createdAt(it).Add(s.cfg.ReadLag).After(s.cfg.Now()) {
		return nil // not visible to reads yet (Config.ReadLag)
	}
	return it
}
