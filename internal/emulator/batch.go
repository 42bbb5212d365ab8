package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// storedItem is a committed line item. It is guarded by Server.mu.
type storedItem struct {
	id      string
	idNum   int64
	props   map[string]string
	assocs  []Association
	traceID string
	created time.Time
}

// createInput is one parsed SimplePublicObjectBatchInputForCreate.
type createInput struct {
	index   int
	props   map[string]string
	assocs  []assocInput
	traceID string // "" when absent
	key     string // canonical form of props and assocs, for merging duplicates
}

type assocInput struct {
	ToID  string      `json:"to"`
	Types []assocSpec `json:"types"`
}

type assocSpec struct {
	Category string `json:"category"`
	TypeID   int    `json:"typeId"`
}

var associationCategories = []string{CategoryHubSpotDefined, CategoryIntegratorDefined, CategoryUserDefined, CategoryWork}

// parseBatch checks a batch create body against
// BatchInputSimplePublicObjectBatchInputForCreate.
func parseBatch(v any) ([]createInput, error) {
	top, err := asObject(v, "", "BatchInputSimplePublicObjectBatchInputForCreate", "inputs")
	if err != nil {
		return nil, err
	}
	if err := requireFields(top, "", "inputs"); err != nil {
		return nil, err
	}
	raw, err := asArray(top["inputs"], "inputs")
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, &inputError{msg: "The batch request must contain at least one input. Please add an item and try again"}
	}
	if len(raw) > maxBatchInputs {
		return nil, &inputError{msg: fmt.Sprintf("The maximum number of inputs supported in a batch request is %d. Please reduce the number of items and try again (received %d)", maxBatchInputs, len(raw))}
	}
	inputs := make([]createInput, 0, len(raw))
	for i, e := range raw {
		in, err := parseInput(e, fmt.Sprintf("inputs[%d]", i))
		if err != nil {
			return nil, err
		}
		in.index = i
		inputs = append(inputs, in)
	}
	return inputs, nil
}

func parseInput(v any, path string) (createInput, error) {
	var in createInput
	m, err := asObject(v, path, "SimplePublicObjectBatchInputForCreate", "associations", "objectWriteTraceId", "properties")
	if err != nil {
		return in, err
	}
	if err := requireFields(m, path, "associations", "properties"); err != nil {
		return in, err
	}
	if t, ok := m["objectWriteTraceId"]; ok && t != nil {
		if in.traceID, err = asString(t, path+".objectWriteTraceId"); err != nil {
			return in, err
		}
	}
	props, ok := m["properties"].(map[string]any)
	if !ok {
		return in, inputErrorf("Cannot deserialize value of type `java.util.HashMap` from %s at %s.properties", jsonKind(m["properties"]), path)
	}
	in.props = make(map[string]string, len(props))
	for k, pv := range props {
		if in.props[k], err = asString(pv, path+".properties."+k); err != nil {
			return in, err
		}
	}
	assocs, err := asArray(m["associations"], path+".associations")
	if err != nil {
		return in, err
	}
	for j, a := range assocs {
		ap := fmt.Sprintf("%s.associations[%d]", path, j)
		am, err := asObject(a, ap, "PublicAssociationsForObject", "to", "types")
		if err != nil {
			return in, err
		}
		if err := requireFields(am, ap, "to", "types"); err != nil {
			return in, err
		}
		to, err := asObject(am["to"], ap+".to", "PublicObjectId", "id")
		if err != nil {
			return in, err
		}
		if err := requireFields(to, ap+".to", "id"); err != nil {
			return in, err
		}
		var ai assocInput
		if ai.ToID, err = asString(to["id"], ap+".to.id"); err != nil {
			return in, err
		}
		types, err := asArray(am["types"], ap+".types")
		if err != nil {
			return in, err
		}
		if len(types) == 0 {
			return in, inputErrorf("each association needs at least one type: %s.types is empty", ap)
		}
		for k, t := range types {
			tp := fmt.Sprintf("%s.types[%d]", ap, k)
			tm, err := asObject(t, tp, "AssociationSpec", "associationCategory", "associationTypeId")
			if err != nil {
				return in, err
			}
			if err := requireFields(tm, tp, "associationCategory", "associationTypeId"); err != nil {
				return in, err
			}
			var spec assocSpec
			if spec.Category, err = asString(tm["associationCategory"], tp+".associationCategory"); err != nil {
				return in, err
			}
			if !slices.Contains(associationCategories, spec.Category) {
				return in, inputErrorf("Cannot deserialize value of type `AssociationCategory` from String %q: not one of the values accepted for Enum class: [%s] at %s.associationCategory",
					spec.Category, strings.Join(associationCategories, ", "), tp)
			}
			if spec.TypeID, err = asInt32(tm["associationTypeId"], tp+".associationTypeId"); err != nil {
				return in, err
			}
			ai.Types = append(ai.Types, spec)
		}
		in.assocs = append(in.assocs, ai)
	}
	in.key = string(marshal(struct {
		P map[string]string `json:"p"`
		A []assocInput      `json:"a"`
	}{in.props, in.assocs}))
	return in, nil
}

// validationResult is one element of the JSON list embedded in HubSpot's
// "Property values were not valid: [...]" message.
type validationResult struct {
	IsValid               bool   `json:"isValid"`
	Message               string `json:"message"`
	Error                 string `json:"error"`
	Name                  string `json:"name"`
	LocalizedErrorMessage string `json:"localizedErrorMessage"`
	PortalID              int    `json:"portalId"`
}

func propertyMessage(errs []propError) string {
	results := make([]validationResult, len(errs))
	for i, e := range errs {
		results[i] = validationResult{Message: e.message, Error: e.code, Name: e.name, LocalizedErrorMessage: e.message, PortalID: PortalID}
	}
	return "Property values were not valid: " + string(marshal(results))
}

func propertyDetails(errs []propError) []errorDetail {
	out := make([]errorDetail, len(errs))
	for i, e := range errs {
		out[i] = errorDetail{Message: e.message, Code: e.code, Context: map[string][]string{"propertyName": {e.name}}}
	}
	return out
}

// wireObject is HubSpot's SimplePublicObject.
type wireObject struct {
	ID                 string             `json:"id"`
	Properties         map[string]*string `json:"properties"`
	CreatedAt          string             `json:"createdAt"`
	UpdatedAt          string             `json:"updatedAt"`
	Archived           bool               `json:"archived"`
	ObjectWriteTraceID string             `json:"objectWriteTraceId,omitempty"`
}

// standardError is HubSpot's StandardError, one failed input of a 207.
type standardError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
	Errors   []errorDetail       `json:"errors"`
}

// batchResponse is BatchResponseSimplePublicObject (201) and
// BatchResponseSimplePublicObjectWithErrors (207).
type batchResponse struct {
	Status      string          `json:"status"`
	Results     []wireObject    `json:"results"`
	NumErrors   int             `json:"numErrors,omitempty"`
	Errors      []standardError `json:"errors,omitempty"`
	StartedAt   string          `json:"startedAt"`
	CompletedAt string          `json:"completedAt"`
}

// handleBatchCreate serves POST /crm/v3/objects/line_items/batch/create.
func (s *Server) handleBatchCreate(w http.ResponseWriter, r *http.Request, _ []string) {
	s.mu.Lock()
	s.stats.BatchCreates++
	s.mu.Unlock()
	started := s.now()

	v, _, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	inputs, err := parseBatch(v)
	if err != nil {
		s.validationError(w, err.Error())
		return
	}

	status, body, committed, fail := s.processBatch(inputs, started)
	if fail != nil {
		code := http.StatusBadRequest
		if fail.httpStatus != 0 {
			code = fail.httpStatus
		}
		s.writeError(w, code, *fail)
		return
	}
	if committed > 0 {
		switch fault, st := s.drawCommitFault(); fault {
		case commitDrop:
			panic(http.ErrAbortHandler)
		case commitError:
			s.writeGatewayError(w, st)
			return
		}
	}
	writeJSON(w, status, body)
}

// processBatch validates and commits a parsed batch under the store lock.
// It returns the status and body to send, how many line items it
// committed, or a whole-batch 400 error (nothing committed).
func (s *Server) processBatch(inputs []createInput, started time.Time) (int, *batchResponse, int, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reject := func(msg string, ctx map[string][]string) (int, *batchResponse, int, *apiError) {
		return 0, nil, 0, &apiError{Message: msg, Context: ctx, Category: "VALIDATION_ERROR"}
	}

	// Trace ids must be unique, except on inputs that are merged anyway.
	traceKey := make(map[string]string)
	for _, in := range inputs {
		if in.traceID == "" {
			continue
		}
		if k, dup := traceKey[in.traceID]; dup && k != in.key {
			return reject(fmt.Sprintf("Duplicate objectWriteTraceId %q: each input must have a unique objectWriteTraceId", in.traceID), nil)
		}
		traceKey[in.traceID] = in.key
	}

	// HubSpot merges identical inputs: only the first of each is processed.
	seen := make(map[string]bool)
	var unique []createInput
	for _, in := range inputs {
		if !seen[in.key] {
			seen[in.key] = true
			unique = append(unique, in)
		}
	}

	// Associations are checked for the whole batch first.
	var badIDs, badObjIDs, badTypes []string
	for _, in := range unique {
		for _, a := range in.assocs {
			toType := ""
			for _, t := range a.Types {
				def, ok := s.assoc[assocKey{t.Category, t.TypeID}]
				if !ok {
					return reject(fmt.Sprintf("Invalid association type: %s association type id %d does not exist from line_items (0-8)", t.Category, t.TypeID),
						map[string][]string{"associationTypeId": {strconv.Itoa(t.TypeID)}, "associationCategory": {t.Category}})
				}
				if toType != "" && def.toType != toType {
					return reject(fmt.Sprintf("The association types of one association must all lead to the same object type; to.id %s mixes %s and %s", a.ToID, toType, def.toType), nil)
				}
				toType = def.toType
			}
			if !s.objects[toType][a.ToID] {
				upper := objectTypeInfos[toType].upper
				badIDs = append(badIDs, fmt.Sprintf("%s=%s is not valid", upper, a.ToID))
				badObjIDs = append(badObjIDs, a.ToID)
				badTypes = append(badTypes, upper)
			}
		}
	}
	if len(badIDs) > 0 {
		return reject("One or more associations are invalid", map[string][]string{
			"INVALID_OBJECT_IDS": badIDs, "objectId": badObjIDs, "objectType": badTypes,
		})
	}

	// Property values, then unique values against the store and the batch.
	errs := make([][]propError, len(unique))
	claimed := make(map[string]map[string]bool)
	for i, in := range unique {
		names := make([]string, 0, len(in.props))
		for k := range in.props {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, name := range names {
			val := in.props[name]
			p := s.props[name]
			if e := validateValue(name, p, val); e != nil {
				errs[i] = append(errs[i], *e)
				continue
			}
			if p == nil || !p.HasUniqueValue || val == "" {
				continue
			}
			if owner, taken := s.unique[name][val]; taken {
				// HubSpot answers a create that collides with an existing
				// record's unique value with a 409 CONFLICT for the whole
				// batch, naming only the first collision ("Contact already
				// exists. Existing ID: N" for contacts); the emulator does the
				// same for line items, trace ids or not.
				return 0, nil, 0, &apiError{httpStatus: http.StatusConflict, Category: "CONFLICT",
					Message: fmt.Sprintf("Line item already exists. Existing ID: %s", owner),
					Context: map[string][]string{"propertyName": {name}, "existingId": {owner}}}
			}
			if claimed[name][val] {
				return reject(fmt.Sprintf("Duplicate unique values in batch input: %s=%q appears in more than one input, and %s is a unique property", name, val, name),
					map[string][]string{"propertyName": {name}})
			}
			if claimed[name] == nil {
				claimed[name] = make(map[string]bool)
			}
			claimed[name][val] = true
		}
	}

	var invalid []int
	untraced := false
	for i := range unique {
		if len(errs[i]) > 0 {
			invalid = append(invalid, i)
			untraced = untraced || unique[i].traceID == ""
		}
	}
	if untraced {
		var all []propError
		for _, i := range invalid {
			all = append(all, errs[i]...)
		}
		return 0, nil, 0, &apiError{Message: propertyMessage(all), Errors: propertyDetails(all), Category: "VALIDATION_ERROR"}
	}

	// Commit the valid inputs.
	resp := &batchResponse{Status: "COMPLETE", Results: []wireObject{}, StartedAt: formatInstant(started)}
	now := s.now()
	ts := formatInstant(now)
	for i, in := range unique {
		if len(errs[i]) > 0 {
			continue
		}
		s.nextID += 1 + int64(s.rng.IntN(3))
		item := &storedItem{idNum: s.nextID, id: strconv.FormatInt(s.nextID, 10), props: make(map[string]string), traceID: in.traceID, created: now}
		for k, v := range in.props {
			if v == "" {
				continue
			}
			item.props[k] = v
			if p := s.props[k]; p != nil && p.HasUniqueValue {
				if s.unique[k] == nil {
					s.unique[k] = make(map[string]string)
				}
				s.unique[k][v] = item.id
			}
		}
		item.props["hs_object_id"] = item.id
		item.props["createdate"] = ts
		item.props["hs_lastmodifieddate"] = ts
		for _, a := range in.assocs {
			for _, t := range a.Types {
				item.assocs = append(item.assocs, Association{ToType: s.assoc[assocKey{t.Category, t.TypeID}].toType, ToID: a.ToID, Category: t.Category, TypeID: t.TypeID})
			}
		}
		s.items = append(s.items, item)
		obj := item.wire(nil)
		obj.ObjectWriteTraceID = in.traceID
		resp.Results = append(resp.Results, obj)
	}
	for _, i := range invalid {
		resp.Errors = append(resp.Errors, standardError{
			Status:   "error",
			Category: "VALIDATION_ERROR",
			Message:  propertyMessage(errs[i]),
			Context:  map[string][]string{"objectWriteTraceId": {unique[i].traceID}},
			Errors:   propertyDetails(errs[i]),
		})
	}
	resp.NumErrors = len(resp.Errors)
	s.rng.Shuffle(len(resp.Results), func(a, b int) { resp.Results[a], resp.Results[b] = resp.Results[b], resp.Results[a] })
	s.rng.Shuffle(len(resp.Errors), func(a, b int) { resp.Errors[a], resp.Errors[b] = resp.Errors[b], resp.Errors[a] })
	resp.CompletedAt = formatInstant(s.now())
	status := http.StatusCreated
	if len(invalid) > 0 {
		status = http.StatusMultiStatus
	}
	return status, resp, len(resp.Results), nil
}

// wire renders the item as a SimplePublicObject. With only == nil every
// stored property is included; otherwise the named properties (null when
// unset) plus HubSpot's always-returned ones.
func (it *storedItem) wire(only []string) wireObject {
	props := make(map[string]*string)
	if only == nil {
		for k, v := range it.props {
			props[k] = &v
		}
	} else {
		for _, k := range append([]string{"createdate", "hs_lastmodifieddate", "hs_object_id"}, only...) {
			if v, ok := it.props[k]; ok {
				props[k] = &v
			} else {
				props[k] = nil
			}
		}
	}
	ts := formatInstant(it.created)
	return wireObject{ID: it.id, Properties: props, CreatedAt: ts, UpdatedAt: ts}
}
