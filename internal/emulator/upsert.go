package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// upsertInput is one parsed SimplePublicObjectBatchInputUpsert.
type upsertInput struct {
	index      int
	id         string // the idProperty value identifying the line item
	idProperty string
	traceID    string   // "" when absent
	props      []propKV // sorted by name, names unique
}

// parseUpsert checks a batch upsert body against
// BatchInputSimplePublicObjectBatchInputUpsert. Unknown fields (an
// "associations" member, say: upserts take none) are a 400, as everywhere.
// Whether idProperty names a unique property is checked later.
func parseUpsert(v any) ([]upsertInput, error) {
	raw, err := batchInputs(v, "BatchInputSimplePublicObjectBatchInputUpsert", maxBatchInputs)
	if err != nil {
		return nil, err
	}
	inputs := make([]upsertInput, 0, len(raw))
	for i, e := range raw {
		path := fmt.Sprintf("inputs[%d]", i)
		m, err := asObject(e, path, "SimplePublicObjectBatchInputUpsert", "id", "idProperty", "objectWriteTraceId", "properties")
		if err != nil {
			return nil, err
		}
		if err := requireFields(m, path, "id", "properties"); err != nil {
			return nil, err
		}
		in := upsertInput{index: i}
		if in.id, err = asString(m["id"], path+".id"); err != nil {
			return nil, err
		}
		if ip, ok := m["idProperty"]; ok && ip != nil {
			if in.idProperty, err = asString(ip, path+".idProperty"); err != nil {
				return nil, err
			}
		}
		if in.idProperty == "" {
			return nil, &inputError{msg: fmt.Sprintf("Invalid input: %s has no idProperty; a batch upsert identifies each line item by the value (id) of the unique property named in idProperty", path)}
		}
		if in.id == "" {
			return nil, &inputError{msg: fmt.Sprintf("Invalid input: %s.id is empty; it must be a value of the unique property %s", path, in.idProperty)}
		}
		if in.traceID, in.props, err = traceAndProps(m, path); err != nil {
			return nil, err
		}
		inputs = append(inputs, in)
	}
	return inputs, nil
}

// upsertObject is HubSpot's SimplePublicUpsertObject.
type upsertObject struct {
	ID                 string            `json:"id"`
	Properties         map[string]string `json:"properties"`
	CreatedAt          string            `json:"createdAt"`
	UpdatedAt          string            `json:"updatedAt"`
	Archived           bool              `json:"archived"`
	New                bool              `json:"new"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
}

// batchAnswer is a batch answer, BatchResponse<T> or, with errors,
// BatchResponse<T>WithErrors, in HubSpot's spec's names.
type batchAnswer[T any] struct {
	Status      string          `json:"status"`
	Results     []T             `json:"results"`
	NumErrors   int             `json:"numErrors,omitempty"`
	Errors      []standardError `json:"errors,omitempty"`
	StartedAt   string          `json:"startedAt"`
	CompletedAt string          `json:"completedAt"`
}

// upsertResponse is BatchResponseSimplePublicUpsertObject(WithErrors).
type upsertResponse = batchAnswer[upsertObject]

// handleUpsert serves POST /crm/v3/objects/line_items/batch/upsert and
// /crm/objects/2026-09/line_items/batch/upsert. It draws the late commit
// and, once it has written line items, the commit faults, as batch create
// does.
func (s *Server) handleUpsert(w http.ResponseWriter, r *http.Request, _ []string, v apiVersion) {
	s.mu.Lock()
	s.stats.BatchUpserts++
	s.mu.Unlock()
	started := s.now()

	inputs, ok := readParsed(s, w, r, parseUpsert)
	if !ok {
		return
	}
	s.lateCommit()
	resp, status, fail := s.processUpsert(inputs, started)
	if fail != nil {
		s.writeBatchFailure(w, *fail)
		return
	}
	if len(resp.Results) > 0 && s.commitFault(w) {
		return
	}
	writeJSON(w, s.multiStatus(status, http.StatusOK, v), resp)
}

// processUpsert validates and commits a parsed batch upsert under the
// store lock. It returns the answer and its (v3) status, or a whole-batch
// error (nothing written).
func (s *Server) processUpsert(inputs []upsertInput, started time.Time) (upsertResponse, int, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reject := func(msg string, ctx map[string][]string) (upsertResponse, int, *apiError) {
		return upsertResponse{}, 0, &apiError{Message: msg, Context: ctx, Category: "VALIDATION_ERROR"}
	}

	// One idProperty, naming a unique property.
	idProp := inputs[0].idProperty
	for _, in := range inputs[1:] {
		if in.idProperty != idProp {
			return reject(fmt.Sprintf("All inputs of a batch upsert must use the same idProperty: inputs[0] uses %q and inputs[%d] uses %q", idProp, in.index, in.idProperty), nil)
		}
	}
	idDef := s.props[idProp]
	if idDef == nil || !idDef.HasUniqueValue {
		return reject(fmt.Sprintf("Unable to perform update/upsert by non-unique 0-8 property %s in portal ID %d", idProp, s.cfg.Account.PortalID), nil)
	}

	// Ids must be distinct (compared as unique values are); nothing is merged.
	seen := make(map[string]int, len(inputs))
	var dups []string
	dupSeen := make(map[string]bool)
	for i, in := range inputs {
		key := s.uniqueKey(in.id)
		if j, ok := seen[key]; ok {
			if !dupSeen[key] {
				dupSeen[key] = true
				dups = append(dups, inputs[j].id)
			}
			continue
		}
		seen[key] = i
	}
	if len(dups) > 0 {
		return reject("Duplicate IDs found in batch input: ["+strings.Join(dups, ", ")+"]", nil)
	}
	traces := make(map[string]bool, len(inputs))
	for _, in := range inputs {
		if in.traceID == "" {
			continue
		}
		if traces[in.traceID] {
			return reject(fmt.Sprintf("Duplicate objectWriteTraceId %q: each input must have a unique objectWriteTraceId", in.traceID), nil)
		}
		traces[in.traceID] = true
	}

	// The line item each input updates (0: none, it creates one), property
	// values, then unique values of other properties against the store and
	// the batch.
	targets := make([]int64, len(inputs))
	errs := make([][]propError, len(inputs))
	var conflicts []collision // with ConflictPerRow: each input's first collision, if any
	claimed := make(map[string]map[string]bool)
	for i := range inputs {
		in := &inputs[i]
		targets[i] = s.unique[idProp][s.uniqueKey(in.id)]
		if e := validateValue(idProp, idDef, in.id); e != nil {
			errs[i] = append(errs[i], *e)
		}
		for _, kv := range in.props {
			p := s.props[kv.name]
			if e := validateValue(kv.name, p, kv.value); e != nil {
				errs[i] = append(errs[i], *e)
				continue
			}
			if kv.name == idProp || p == nil || !p.HasUniqueValue || kv.value == "" {
				continue
			}
			key := s.uniqueKey(kv.value)
			if owner, taken := s.unique[kv.name][key]; taken && owner != targets[i] {
				ownerID := strconv.FormatInt(owner, 10)
				c := collision{owner: ownerID, name: kv.name, value: kv.value}
				if s.cfg.ConflictPerRow && in.traceID != "" {
					if conflicts == nil {
						conflicts = make([]collision, len(inputs))
					}
					if conflicts[i].owner == "" {
						conflicts[i] = c
					}
					continue
				}
				return upsertResponse{}, 0, s.conflictError(c)
			}
			if claimed[kv.name][key] {
				return reject(fmt.Sprintf("Duplicate unique values in batch input: %s=%q appears in more than one input, and %s is a unique property", kv.name, kv.value, kv.name),
					map[string][]string{"propertyName": {kv.name}})
			}
			if claimed[kv.name] == nil {
				claimed[kv.name] = make(map[string]bool)
			}
			claimed[kv.name][key] = true
		}
	}

	failed, refused := s.failedInputs(errs, conflicts, func(i int) bool { return inputs[i].traceID != "" })
	if refused != nil {
		return upsertResponse{}, 0, refused
	}

	// Commit the valid inputs into one batch record.
	resp := upsertResponse{Status: "COMPLETE", Results: []upsertObject{}, StartedAt: formatInstant(started)}
	now := s.now()
	type write struct {
		in    *upsertInput
		id    int64
		it    *storedItem // the updated item; nil for a created one
		off   uint32
		isNew bool
	}
	var writes []write
	var data []byte
	for i := range inputs {
		in := &inputs[i]
		if len(errs[i]) > 0 || (conflicts != nil && conflicts[i].owner != "") {
			continue
		}
		off := uint32(len(data))
		if owner := targets[i]; owner != 0 {
			it := s.items.find(owner)
			v := s.view(it)
			old, assocs := s.decode(v)
			merged := s.mergeProps(owner, old, in.props, idProp)
			data = s.appendStored(data, v.trace, merged, assocs)
			writes = append(writes, write{in: in, id: owner, it: it, off: off})
			continue
		}
		s.nextID += 1 + int64(s.rng.IntN(3))
		props := make([]propKV, 0, len(in.props)+1)
		for _, kv := range in.props {
			if kv.name != idProp && kv.value != "" {
				props = append(props, kv)
			}
		}
		props = append(props, propKV{name: idProp, value: in.id})
		slices.SortFunc(props, func(a, b propKV) int { return strings.Compare(a.name, b.name) })
		for _, kv := range props {
			if p := s.props[kv.name]; p != nil && p.HasUniqueValue {
				s.claimUnique(kv.name, kv.value, s.nextID)
			}
		}
		data = s.appendStored(data, in.traceID, props, nil)
		writes = append(writes, write{in: in, id: s.nextID, off: off, isNew: true})
	}
	if len(writes) > 0 {
		b := s.addBatch(data, now)
		for _, wr := range writes {
			if wr.isNew {
				s.items.add(storedItem{idNum: wr.id, batch: b, off: wr.off})
			} else {
				s.moveItem(wr.it, b, wr.off, true)
			}
		}
		for _, wr := range writes {
			it := wr.it
			if it == nil {
				it = s.items.find(wr.id)
			}
			li := s.lineItem(it)
			v := s.view(it)
			res := upsertObject{ID: li.ID, Properties: li.Properties, CreatedAt: v.created.ts, UpdatedAt: v.modified.ts, New: wr.isNew}
			if !s.cfg.UpsertOmitsTraceID {
				res.ObjectWriteTraceID = wr.in.traceID
			}
			resp.Results = append(resp.Results, res)
		}
	}
	for _, i := range failed {
		ctx := map[string][]string{"objectWriteTraceId": {inputs[i].traceID}}
		if len(errs[i]) > 0 {
			resp.Errors = append(resp.Errors, newStandardError("VALIDATION_ERROR", propertyMessage(errs[i], s.cfg.Account.PortalID), ctx, propertyDetails(errs[i])))
			continue
		}
		resp.Errors = append(resp.Errors, s.conflictRowError(conflicts[i], ctx))
	}
	s.rng.Shuffle(len(resp.Results), func(a, b int) { resp.Results[a], resp.Results[b] = resp.Results[b], resp.Results[a] })
	s.rng.Shuffle(len(resp.Errors), func(a, b int) { resp.Errors[a], resp.Errors[b] = resp.Errors[b], resp.Errors[a] })
	resp.CompletedAt = formatInstant(s.now())
	status := http.StatusOK
	if resp.NumErrors = len(resp.Errors); resp.NumErrors > 0 {
		status = http.StatusMultiStatus
	}
	return resp, status, nil
}

// mergeProps returns the properties of line item id after an update: old
// (its stored ones, sorted by name) with each of set applied, an empty
// value clearing the property. idProp keeps its stored value. It keeps
// the unique-value index up to date. Guarded by s.mu.
func (s *Server) mergeProps(id int64, old, set []propKV, idProp string) []propKV {
	vals := make(map[string]string, len(old)+len(set))
	for _, kv := range old {
		vals[kv.name] = kv.value
	}
	for _, kv := range set {
		if kv.name == idProp || isSystemProp(kv.name) {
			continue
		}
		prev, had := vals[kv.name]
		if p := s.props[kv.name]; p != nil && p.HasUniqueValue {
			if had {
				key := s.uniqueKey(prev)
				if s.unique[kv.name][key] == id {
					delete(s.unique[kv.name], key)
				}
			}
			if kv.value != "" {
				s.claimUnique(kv.name, kv.value, id)
			}
		}
		if kv.value == "" {
			delete(vals, kv.name)
		} else {
			vals[kv.name] = kv.value
		}
	}
	out := make([]propKV, 0, len(vals))
	for name, val := range vals {
		out = append(out, propKV{name: name, value: val})
	}
	slices.SortFunc(out, func(a, b propKV) int { return strings.Compare(a.name, b.name) })
	return out
}

// claimUnique records that line item id holds value of the unique
// property name. Guarded by s.mu.
func (s *Server) claimUnique(name, value string, id int64) {
	if s.unique[name] == nil {
		s.unique[name] = make(map[string]int64)
	}
	s.unique[name][strings.Clone(s.uniqueKey(value))] = id
}
