package emulator

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// createInput is one parsed SimplePublicObjectBatchInputForCreate.
type createInput struct {
	index   int
	props   []propKV // sorted by name, names unique
	assocs  []assocInput
	traceID string // "" when absent
	// tracePlain is whether traceID is its own JSON encoding (see batchParser.plain).
	tracePlain bool
	key        []byte // canonical form of props and assocs, for merging duplicates
	hash       uint64 // of key
}

// propKV is one property value of an input.
type propKV struct {
	name, value string
	def         *Property // s.props[name], set by processBatch
	// plain is whether name and value are their own JSON encodings (see
	// batchParser.plain), so they need no escaping.
	plain bool
}

type assocInput struct {
	ToID  string
	Types []assocSpec
	// typesFrom and typesTo locate Types in batchScratch.types while parsing.
	typesFrom, typesTo int
}

type assocSpec struct {
	Category string
	TypeID   int
}

var associationCategories = []string{CategoryHubSpotDefined, CategoryIntegratorDefined, CategoryUserDefined, CategoryWork}

// batchInputs checks a batch body whose only member is "inputs" (schema
// names it in messages) and returns its inputs: at least one, at most
// limit.
func batchInputs(v any, schema string, limit int) ([]any, error) {
	top, err := asObject(v, "", schema, "inputs")
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
	if len(raw) > limit {
		return nil, &inputError{msg: fmt.Sprintf("The maximum number of inputs supported in a batch request is %d. Please reduce the number of items and try again (received %d)", limit, len(raw))}
	}
	return raw, nil
}

// traceAndProps reads an input's objectWriteTraceId (optional) and
// properties (string values), sorted by name.
func traceAndProps(m map[string]any, path string) (string, []propKV, error) {
	var trace string
	if t, ok := m["objectWriteTraceId"]; ok && t != nil {
		var err error
		if trace, err = asString(t, path+".objectWriteTraceId"); err != nil {
			return "", nil, err
		}
	}
	props, ok := m["properties"].(map[string]any)
	if !ok {
		return "", nil, inputErrorf("Cannot deserialize value of type `java.util.HashMap` from %s at %s.properties", jsonKind(m["properties"]), path)
	}
	kvs := make([]propKV, 0, len(props))
	for k, pv := range props {
		v, err := asString(pv, path+".properties."+k)
		if err != nil {
			return "", nil, err
		}
		kvs = append(kvs, propKV{name: k, value: v})
	}
	slices.SortFunc(kvs, func(a, b propKV) int { return strings.Compare(a.name, b.name) })
	return trace, kvs, nil
}

// assocTypes reads the types of an association at path: at least one
// AssociationSpec.
func assocTypes(v any, path string) ([]assocSpec, error) {
	types, err := asArray(v, path+".types")
	if err != nil {
		return nil, err
	}
	if len(types) == 0 {
		return nil, inputErrorf("each association needs at least one type: %s.types is empty", path)
	}
	var out []assocSpec
	for k, t := range types {
		tp := fmt.Sprintf("%s.types[%d]", path, k)
		tm, err := asObject(t, tp, "AssociationSpec", "associationCategory", "associationTypeId")
		if err != nil {
			return nil, err
		}
		if err := requireFields(tm, tp, "associationCategory", "associationTypeId"); err != nil {
			return nil, err
		}
		var spec assocSpec
		if spec.Category, err = asString(tm["associationCategory"], tp+".associationCategory"); err != nil {
			return nil, err
		}
		if !slices.Contains(associationCategories, spec.Category) {
			return nil, inputErrorf("Cannot deserialize value of type `AssociationCategory` from String %q: not one of the values accepted for Enum class: [%s] at %s.associationCategory",
				spec.Category, strings.Join(associationCategories, ", "), tp)
		}
		if spec.TypeID, err = asInt32(tm["associationTypeId"], tp+".associationTypeId"); err != nil {
			return nil, err
		}
		out = append(out, spec)
	}
	return out, nil
}

// parseBatch checks a batch create body against
// BatchInputSimplePublicObjectBatchInputForCreate.
func parseBatch(v any) ([]createInput, error) {
	raw, err := batchInputs(v, "BatchInputSimplePublicObjectBatchInputForCreate", maxBatchInputs)
	if err != nil {
		return nil, err
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
	if in.traceID, in.props, err = traceAndProps(m, path); err != nil {
		return in, err
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
		if ai.Types, err = assocTypes(am["types"], ap); err != nil {
			return in, err
		}
		in.assocs = append(in.assocs, ai)
	}
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

func propertyMessage(errs []propError, portal int) string {
	results := make([]validationResult, len(errs))
	for i, e := range errs {
		results[i] = validationResult{Message: e.message, Error: e.code, Name: e.name, LocalizedErrorMessage: e.message, PortalID: portal}
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
// Every field the spec marks required is always sent; use newStandardError.
type standardError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
	Errors   []errorDetail       `json:"errors"`
	Links    map[string]string   `json:"links"`
}

// newStandardError returns a StandardError with status "error", errs as
// its errors (an empty list when errs is nil) and empty links.
func newStandardError(category, msg string, ctx map[string][]string, errs []errorDetail) standardError {
	if errs == nil {
		errs = []errorDetail{}
	}
	return standardError{Status: "error", Category: category, Message: msg, Context: ctx, Errors: errs, Links: map[string]string{}}
}

// batchOutcome is what a committed batch create answers: a 201 or 207
// batchResponse. appendBatchResponse encodes it.
type batchOutcome struct {
	status      int
	created     []createdItem   // results, in answer order
	errors      []standardError // in answer order
	ts          string          // createdAt of the results
	startedAt   string
	completedAt string
	omitTrace   bool // Config.CreateOmitsTraceID
	normalize   bool // Config.EchoNormalized
}

// createdItem is one result: the line item created from in.
type createdItem struct {
	in *createInput
	id int64
}

// handleBatchCreate serves POST /crm/v3/objects/line_items/batch/create.
func (s *Server) handleBatchCreate(w http.ResponseWriter, r *http.Request, params []string) {
	s.handleBatchCreateVersion(w, r, params, apiV3)
}

// handleBatchCreateVersion serves batch create in API generation v: v3,
// or POST /crm/objects/2026-09/line_items/batch/create, which answers a
// batch with failed inputs 201 unless Config.MultiStatus2026.
func (s *Server) handleBatchCreateVersion(w http.ResponseWriter, r *http.Request, _ []string, v apiVersion) {
	s.mu.Lock()
	s.stats.BatchCreates++
	s.mu.Unlock()
	started := s.now()

	sc := scratchPool.Get().(*batchScratch)
	defer sc.release()
	raw, ok := s.readBody(w, r)
	if !ok {
		return
	}
	// The parsed strings share the body's memory instead of a copy of it,
	// which is safe as raw is never modified: readBody filled a buffer of its
	// own, and the generic path below only reads it.
	inputs, ok := parseBatchFast(unsafe.String(unsafe.SliceData(raw), len(raw)), sc)
	if !ok {
		v, ok := s.decodeJSON(w, raw)
		if !ok {
			return
		}
		var err error
		if inputs, err = parseBatch(v); err != nil {
			s.validationError(w, err.Error())
			return
		}
	}
	sc.keys = sc.keys[:0]
	for i := range inputs {
		start := len(sc.keys)
		sc.keys = appendInputKey(sc.keys, &inputs[i])
		inputs[i].hash = maphash.Bytes(s.hashSeed, sc.keys[start:])
		inputs[i].key = sc.keys[start:len(sc.keys):len(sc.keys)]
	}

	s.lateCommit()
	out, fail := s.processBatch(sc, inputs, started)
	if fail != nil {
		s.writeBatchFailure(w, *fail)
		return
	}
	if len(out.created) > 0 {
		if s.commitFault(w) {
			return
		}
		s.rowErrorsAfterCommit(&out)
	}
	sc.out = appendBatchResponse(sc.out[:0], &out)
	writeBody(w, s.multiStatus(out.status, http.StatusCreated, v), sc.out)
}

// failedInputs lists the inputs answered with an error of their own:
// invalid values (errs[i]), or with ConflictPerRow a collision with a
// stored line item (conflicts[i].owner != ""). Invalid values in an input that
// has no trace id (traced(i) false) cannot be answered per input: the
// whole batch is refused, with the error returned.
func (s *Server) failedInputs(errs [][]propError, conflicts []collision, traced func(i int) bool) ([]int, *apiError) {
	var failed []int
	untraced := false
	for i := range errs {
		if len(errs[i]) > 0 {
			failed = append(failed, i)
			untraced = untraced || !traced(i)
		} else if conflicts != nil && conflicts[i].owner != "" {
			failed = append(failed, i)
		}
	}
	if !untraced {
		return failed, nil
	}
	var all []propError
	for _, i := range failed {
		all = append(all, errs[i]...)
	}
	return nil, &apiError{Message: propertyMessage(all, s.cfg.Account.PortalID), Errors: propertyDetails(all), Category: "VALIDATION_ERROR"}
}

// commitFault draws the commit faults for a batch that wrote something:
// the connection dropped after the commit (the handler aborts) or a
// gateway error written to w. It reports whether it wrote the answer.
func (s *Server) commitFault(w http.ResponseWriter) bool {
	switch fault, st := s.drawCommitFault(); fault {
	case commitDrop:
		panic(http.ErrAbortHandler)
	case commitError:
		s.writeGatewayError(w, st)
		return true
	}
	return false
}

// writeBatchFailure answers a batch refused as a whole, nothing written:
// with the failure's status, or 400.
func (s *Server) writeBatchFailure(w http.ResponseWriter, fail apiError) {
	code := http.StatusBadRequest
	if fail.httpStatus != 0 {
		code = fail.httpStatus
	}
	s.writeError(w, code, fail)
}

// multiStatus is the status of a batch answer that would be status in v3:
// a 207 becomes ok in the 2026-09 APIs, whose specs document no 207, unless
// Config.MultiStatus2026.
func (s *Server) multiStatus(status, ok int, v apiVersion) int {
	if status == http.StatusMultiStatus && v == api2026 && !s.cfg.MultiStatus2026 {
		return ok
	}
	return status
}

// appendInputKey appends an encoding of in's properties and associations
// that two inputs share exactly when both are equal.
func appendInputKey(dst []byte, in *createInput) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(in.props)))
	for _, p := range in.props {
		dst = appendUvarintString(dst, p.name)
		dst = appendUvarintString(dst, p.value)
	}
	dst = binary.AppendUvarint(dst, uint64(len(in.assocs)))
	for _, a := range in.assocs {
		dst = appendUvarintString(dst, a.ToID)
		dst = binary.AppendUvarint(dst, uint64(len(a.Types)))
		for _, t := range a.Types {
			dst = appendUvarintString(dst, t.Category)
			dst = binary.AppendVarint(dst, int64(t.TypeID))
		}
	}
	return dst
}

// processBatch validates and commits a parsed batch under the store lock.
// It returns what to answer, or a whole-batch error (nothing committed).
func (s *Server) processBatch(sc *batchScratch, inputs []createInput, started time.Time) (batchOutcome, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reject := func(msg string, ctx map[string][]string) (batchOutcome, *apiError) {
		return batchOutcome{}, &apiError{Message: msg, Context: ctx, Category: "VALIDATION_ERROR"}
	}

	// Trace ids must be unique, except on inputs that are merged anyway.
	if sc.trace == nil {
		sc.trace = make(map[string]int, maxBatchInputs)
	}
	for i := range inputs {
		in := &inputs[i]
		if in.traceID == "" {
			continue
		}
		if j, dup := sc.trace[in.traceID]; dup && !bytes.Equal(inputs[j].key, in.key) {
			return reject(fmt.Sprintf("Duplicate objectWriteTraceId %q: each input must have a unique objectWriteTraceId", in.traceID), nil)
		}
		sc.trace[in.traceID] = i
	}

	// HubSpot merges identical inputs: only the first of each is processed.
	if sc.byHash == nil {
		sc.byHash = make(map[uint64]int, maxBatchInputs)
	}
	unique := make([]*createInput, 0, len(inputs))
	for i := range inputs {
		in := &inputs[i]
		if j, ok := sc.byHash[in.hash]; !ok {
			sc.byHash[in.hash] = i
		} else if bytes.Equal(inputs[j].key, in.key) || slices.ContainsFunc(unique, func(u *createInput) bool { return bytes.Equal(u.key, in.key) }) {
			continue
		}
		unique = append(unique, in)
	}

	// Associations are checked for the whole batch first.
	var badIDs, badObjIDs, badTypes []string
	var last struct { // the association type looked up last
		key assocKey
		def assocDef
		ok  bool
	}
	for _, in := range unique {
		for _, a := range in.assocs {
			toType := ""
			for _, t := range a.Types {
				if k := (assocKey{t.Category, t.TypeID}); !last.ok || k != last.key {
					last.key = k
					last.def, last.ok = s.assoc[k]
				}
				def, ok := last.def, last.ok
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
	// Unique values are compared by s.uniqueKey.
	errs := make([][]propError, len(unique))
	var conflicts []collision // with ConflictPerRow: each input's first collision, if any
	var claimed map[string]map[string]bool
	sc.slots = sc.slots[:0]
	for i, in := range unique {
		for j := range in.props { // sorted by name
			kv := &in.props[j]
			name, val := kv.name, kv.value
			p := s.slot(sc, j, name).def
			kv.def = p
			if e := validateValue(name, p, val); e != nil {
				errs[i] = append(errs[i], *e)
				continue
			}
			if p == nil || !p.HasUniqueValue || val == "" {
				continue
			}
			key := s.uniqueKey(val)
			if owner, taken := s.unique[name][key]; taken {
				ownerID := strconv.FormatInt(owner, 10)
				c := collision{owner: ownerID, name: name, value: val}
				if s.cfg.ConflictPerRow && in.traceID != "" {
					// Reported as this input's own error. The value is not
					// claimed: an input that holds it too collides with the
					// stored line item as well.
					if conflicts == nil {
						conflicts = make([]collision, len(unique))
					}
					if conflicts[i].owner == "" {
						conflicts[i] = c
					}
					continue
				}
				// HubSpot answers a create that collides with an existing
				// record's unique value with a 409 CONFLICT for the whole
				// batch, naming only the first collision ("Contact already
				// exists. Existing ID: N" for contacts); the emulator does the
				// same for line items, trace ids or not, unless ConflictPerRow
				// asks for errors per input (which need a trace id), in the
				// form ConflictAs says.
				return batchOutcome{}, s.conflictError(c)
			}
			if claimed[name][key] {
				return reject(fmt.Sprintf("Duplicate unique values in batch input: %s=%q appears in more than one input, and %s is a unique property", name, val, name),
					map[string][]string{"propertyName": {name}})
			}
			if claimed == nil {
				claimed = make(map[string]map[string]bool)
			}
			if claimed[name] == nil {
				claimed[name] = make(map[string]bool)
			}
			claimed[name][key] = true
		}
	}

	failed, refused := s.failedInputs(errs, conflicts, func(i int) bool { return unique[i].traceID != "" })
	if refused != nil {
		return batchOutcome{}, refused
	}

	// Commit the valid inputs.
	out := batchOutcome{status: http.StatusCreated, startedAt: formatInstant(started), omitTrace: s.cfg.CreateOmitsTraceID, normalize: s.cfg.EchoNormalized}
	now := s.now()
	out.ts = formatInstant(now)
	out.created = make([]createdItem, 0, len(unique)-len(failed))
	batch := uint32(len(s.batches))
	sc.data = sc.data[:0]
	var offs [maxBatchInputs]uint32
	for i, in := range unique {
		if len(errs[i]) > 0 || (conflicts != nil && conflicts[i].owner != "") {
			continue
		}
		s.nextID += 1 + int64(s.rng.IntN(3))
		for _, kv := range in.props {
			if kv.value == "" {
				continue
			}
			if p := kv.def; p != nil && p.HasUniqueValue {
				if s.unique[kv.name] == nil {
					s.unique[kv.name] = make(map[string]int64)
				}
				s.unique[kv.name][strings.Clone(s.uniqueKey(kv.value))] = s.nextID
			}
		}
		offs[len(out.created)] = uint32(len(sc.data))
		sc.data = s.appendItemData(sc, sc.data, in)
		out.created = append(out.created, createdItem{in: in, id: s.nextID})
	}
	if len(out.created) > 0 {
		s.batches = append(s.batches, batchRecord{data: string(sc.data), created: now, ts: out.ts})
		for j, c := range out.created {
			s.items.add(storedItem{idNum: c.id, batch: batch, off: offs[j]})
		}
	}
	for _, i := range failed {
		ctx := map[string][]string{"objectWriteTraceId": {unique[i].traceID}}
		if len(errs[i]) > 0 { // invalid values are reported before a collision
			out.errors = append(out.errors, newStandardError("VALIDATION_ERROR", propertyMessage(errs[i], s.cfg.Account.PortalID), ctx, propertyDetails(errs[i])))
			continue
		}
		out.errors = append(out.errors, s.conflictRowError(conflicts[i], ctx))
	}
	s.rng.Shuffle(len(out.created), func(a, b int) { out.created[a], out.created[b] = out.created[b], out.created[a] })
	s.rng.Shuffle(len(out.errors), func(a, b int) { out.errors[a], out.errors[b] = out.errors[b], out.errors[a] })
	out.completedAt = formatInstant(s.now())
	if len(failed) > 0 {
		out.status = http.StatusMultiStatus
	}
	return out, nil
}

// conflictMessage is the message of a create whose unique value the line
// item ownerID already holds.
func conflictMessage(ownerID string) string {
	return "Line item already exists. Existing ID: " + ownerID
}

// collision is an input's unique value that a stored line item holds.
type collision struct {
	owner       string // the stored line item's id; "" for none
	name, value string // the unique property and the value
}

// Forms of a unique-value conflict (Config.ConflictAs).
const (
	// ConflictCategory answers with the category CONFLICT: a 409 for the
	// whole batch, or a per-input error. The default.
	ConflictCategory = ""
	// ConflictAlreadyExists answers with the category
	// OBJECT_ALREADY_EXISTS and an error detail naming the property in
	// "in", the form HubSpot's 409s for contacts took in 2023.
	ConflictAlreadyExists = "OBJECT_ALREADY_EXISTS"
	// ConflictValidation answers as a refused property value: a 400
	// VALIDATION_ERROR for the whole batch (or a per-input one) whose
	// embedded property error says the value is taken, in words only (its
	// code is a generic one).
	ConflictValidation = "VALIDATION_ERROR"
)

// conflictError is the answer to a batch refused whole because an input
// collides with c, in the form Config.ConflictAs says.
func (s *Server) conflictError(c collision) *apiError {
	ctx := map[string][]string{"propertyName": {c.name}, "existingId": {c.owner}}
	switch s.cfg.ConflictAs {
	case ConflictAlreadyExists:
		return &apiError{httpStatus: http.StatusConflict, Category: ConflictAlreadyExists,
			Message: conflictMessage(c.owner), Context: ctx, Errors: []errorDetail{c.detail()}}
	case ConflictValidation:
		e := []propError{c.propError()}
		return &apiError{Category: "VALIDATION_ERROR", Message: propertyMessage(e, s.cfg.Account.PortalID), Errors: propertyDetails(e)}
	}
	return &apiError{httpStatus: http.StatusConflict, Category: "CONFLICT", Message: conflictMessage(c.owner), Context: ctx}
}

// conflictRowError is the error of one input that collides with c
// (Config.ConflictPerRow), with the context ctx (its trace id), in the
// form Config.ConflictAs says.
func (s *Server) conflictRowError(c collision, ctx map[string][]string) standardError {
	switch s.cfg.ConflictAs {
	case ConflictAlreadyExists:
		ctx["existingId"] = []string{c.owner}
		return newStandardError(ConflictAlreadyExists, conflictMessage(c.owner), ctx, []errorDetail{c.detail()})
	case ConflictValidation:
		e := []propError{c.propError()}
		return newStandardError("VALIDATION_ERROR", propertyMessage(e, s.cfg.Account.PortalID), ctx, propertyDetails(e))
	}
	ctx["existingId"] = []string{c.owner}
	return newStandardError("CONFLICT", conflictMessage(c.owner), ctx, nil)
}

func (c collision) detail() errorDetail {
	return errorDetail{Message: fmt.Sprintf("A line item with %s %s already exists. Existing ID: %s", c.name, c.value, c.owner), In: c.name}
}

func (c collision) propError() propError {
	return propError{name: c.name, value: c.value, code: "INVALID_PROPERTY_VALUE",
		message: fmt.Sprintf("%s: another line item already has that value (%s)", c.name, c.value)}
}
