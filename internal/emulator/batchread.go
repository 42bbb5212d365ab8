package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
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
type batchReadResponse struct {
	Status      string          `json:"status"`
	Results     []wireObject    `json:"results"`
	NumErrors   int             `json:"numErrors,omitempty"`
	Errors      []standardError `json:"errors,omitempty"`
	StartedAt   string          `json:"startedAt"`
	CompletedAt string          `json:"completedAt"`
}

// notFoundMessage is the message of a batch read input that names no line
// item. It and the error's shape are modelled, not verified.
const notFoundMessage = "Could not get some LINE_ITEM objects, they may be deleted or not exist. Check that ids are valid."

// handleBatchRead serves POST /crm/v3/objects/line_items/batch/read. It
// reads the store itself, not the search index, so Config.SearchLag does
// not delay it.
func (s *Server) handleBatchRead(w http.ResponseWriter, r *http.Request, _ []string) {
	s.mu.Lock()
	s.stats.BatchReads++
	s.mu.Unlock()
	started := s.now()

	// Archived line items only: the emulator never archives any.
	archived := r.URL.Query().Get("archived")
	if archived != "" && archived != "true" && archived != "false" {
		s.validationError(w, "Invalid value for query parameter archived: "+archived)
		return
	}
	v, _, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	req, err := parseBatchRead(v)
	if err != nil {
		s.validationError(w, err.Error())
		return
	}

	s.mu.Lock()
	if req.byProperty {
		p := s.props[req.idProperty]
		if p == nil {
			s.mu.Unlock()
			s.validationError(w, fmt.Sprintf("Invalid idProperty %q: line items have no such property", req.idProperty))
			return
		}
		if !p.HasUniqueValue {
			s.mu.Unlock()
			s.validationError(w, fmt.Sprintf("Invalid idProperty %q: it is not a unique value property (hasUniqueValue is false); only a property with unique values can identify line items, and record ids are read without idProperty", req.idProperty))
			return
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
		if archived != "true" {
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
			resp.Results = append(resp.Results, s.publicObject(it, only, false))
		}
	}
	s.rng.Shuffle(len(resp.Results), func(a, b int) { resp.Results[a], resp.Results[b] = resp.Results[b], resp.Results[a] })
	s.rng.Shuffle(len(resp.Errors), func(a, b int) { resp.Errors[a], resp.Errors[b] = resp.Errors[b], resp.Errors[a] })
	resp.CompletedAt = formatInstant(s.now())
	s.mu.Unlock()

	status := http.StatusOK
	if resp.NumErrors = len(resp.Errors); resp.NumErrors > 0 {
		status = http.StatusMultiStatus
	}
	if len(resp.Results) == 0 && s.cfg.BatchReadNoneFound404 {
		ids := make([]string, 0, len(missing))
		for _, id := range req.ids {
			if missing[id] {
				ids = append(ids, id)
				delete(missing, id)
			}
		}
		s.writeError(w, http.StatusNotFound, apiError{Category: "OBJECT_NOT_FOUND", Message: notFoundMessage,
			Context: map[string][]string{"ids": ids}})
		return
	}
	writeJSON(w, status, resp)
}

// readLookup finds the line item a batch read input names, or returns nil.
// Without idProperty, id must be a record id exactly as HubSpot writes it
// (no sign, no leading zeros). With it, id is a value of that unique
// property, compared as creates compare them (Config.UniqueCaseInsensitive);
// line items are found through the unique-value index built when they were
// created. Guarded by s.mu.
func (s *Server) readLookup(req *batchReadRequest, id string) *storedItem {
	if req.byProperty {
		owner, ok := s.unique[req.idProperty][s.uniqueKey(id)]
		if !ok {
			return nil
		}
		return s.items.find(owner)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return nil
	}
	return s.items.find(n)
}
