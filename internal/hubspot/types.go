// Package hubspot holds the wire types of HubSpot's CRM v3 line-item API
// and a small client for the calls the importer makes.
//
// Every HTTP response is turned into a typed result or a typed error by one
// function, parseResponse, for every endpoint. Callers tell errors apart
// with errors.As:
//
//   - *APIError: HubSpot answered with a non-success status. Its StatusCode,
//     Category and PolicyName say what went wrong.
//   - *TransportError: no HTTP answer was read. Its Sent field says whether
//     the request had been written in full, i.e. whether HubSpot may have
//     acted on it.
//
// Property values are strings, as HubSpot's OpenAPI spec requires.
package hubspot

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Association categories from HubSpot's AssociationSpec.
const (
	CategoryHubSpotDefined    = "HUBSPOT_DEFINED"
	CategoryIntegratorDefined = "INTEGRATOR_DEFINED"
	CategoryUserDefined       = "USER_DEFINED"
	CategoryWork              = "WORK"
)

// MaxBatchInputs is the most inputs HubSpot accepts in one batch create.
const MaxBatchInputs = 100

// MaxPropertyValueLen is the longest property value HubSpot stores, in characters.
const MaxPropertyValueLen = 65536

// TooLong returns v's length in characters if it is over
// MaxPropertyValueLen, else 0. Only values longer than that in bytes are
// counted: a value has no more characters than bytes.
func TooLong(v string) int {
	if len(v) <= MaxPropertyValueLen {
		return 0
	}
	if n := utf8.RuneCountInString(v); n > MaxPropertyValueLen {
		return n
	}
	return 0
}

// CalendarDay reports whether v, of the shape YYYY-MM-DD (digits and
// dashes: the caller has checked), names a day of the calendar, the way
// time.Parse(time.DateOnly, v) would accept it, without its cost. Date
// properties take such days.
func CalendarDay(v string) bool {
	num := func(s string) int {
		n := 0
		for i := range len(s) {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	y, m, d := num(v[0:4]), num(v[5:7]), num(v[8:10])
	// Day 0 of the next month is the last of this one.
	return m >= 1 && m <= 12 && d >= 1 && d <= time.Date(y, time.Month(m+1), 0, 0, 0, 0, 0, time.UTC).Day()
}

// BatchCreateRequest is the body of POST /crm/v3/objects/line_items/batch/create
// (BatchInputSimplePublicObjectBatchInputForCreate).
type BatchCreateRequest struct {
	Inputs []CreateInput `json:"inputs"`
}

// CreateInput is one line item to create (SimplePublicObjectBatchInputForCreate).
// Associations is required by the spec, so it is always sent, as [] when empty.
type CreateInput struct {
	Associations       []Association  `json:"associations"`
	ObjectWriteTraceID string         `json:"objectWriteTraceId,omitempty"`
	Properties         PropertyValues `json:"properties"`
}

// BatchUpsertRequest is the body of POST .../line_items/batch/upsert
// (BatchInputSimplePublicObjectBatchInputUpsert).
type BatchUpsertRequest struct {
	Inputs []UpsertInput `json:"inputs"`
}

// UpsertInput is one line item to create or update, named by the value ID
// of its unique property IDProperty (SimplePublicObjectBatchInputUpsert).
type UpsertInput struct {
	ID                 string         `json:"id"`
	IDProperty         string         `json:"idProperty"`
	ObjectWriteTraceID string         `json:"objectWriteTraceId,omitempty"`
	Properties         PropertyValues `json:"properties"`
}

// MarshalJSON encodes the input with a nil Associations slice as [] so that
// every request carries the field the spec marks as required.
func (in CreateInput) MarshalJSON() ([]byte, error) {
	type plain CreateInput
	p := plain(in)
	if p.Associations == nil {
		p.Associations = []Association{}
	}
	return json.Marshal(p)
}

// Association links a new line item to an existing object (PublicAssociationsForObject).
type Association struct {
	To    ObjectID          `json:"to"`
	Types []AssociationType `json:"types"`
	// ObjectType is the target's object type (e.g. "deals"), where it is
	// known: the v4 associations API names it in the path. It is not
	// part of the create input.
	ObjectType string `json:"-"`
	// By, when set, is the target's unique property whose value To.ID
	// holds (an external id) instead of the record's id; the record must
	// be found by it, and To.ID replaced, before the input is sent.
	By string `json:"-"`
}

// ObjectID names an existing CRM object (PublicObjectId).
type ObjectID struct {
	ID string `json:"id"`
}

// AssociationType is an AssociationSpec: the category and type id of a link.
type AssociationType struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

// Object is a created CRM object as HubSpot returns it (SimplePublicObject).
type Object struct {
	ID                 string            `json:"id"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
	Properties         map[string]string `json:"properties"`
	CreatedAt          time.Time         `json:"createdAt"`
	UpdatedAt          time.Time         `json:"updatedAt"`
	Archived           bool              `json:"archived"`
}

// BatchResponse is the body of a 201 or 207 answer to a batch create
// (BatchResponseSimplePublicObject / ...WithErrors), reduced to what the
// importer reads: decoding each result's properties would cost more than
// the rest of the pipeline.
type BatchResponse struct {
	Status    string          `json:"status"`
	Results   []Created       `json:"results"`
	Errors    []StandardError `json:"errors,omitempty"`
	NumErrors int             `json:"numErrors,omitempty"`
}

// Created is the part of a created object (SimplePublicObject) that ties it
// to its input: the new id and the objectWriteTraceId it was sent with,
// and, for a result without one (the spec makes it optional), its
// properties, undecoded until [Created.Property] reads one.
type Created struct {
	ID                 string          `json:"id"`
	ObjectWriteTraceID string          `json:"objectWriteTraceId,omitempty"`
	Properties         json.RawMessage `json:"properties,omitempty"`
	// Upsert marks a result of a batch upsert, which may also say whether
	// HubSpot created the record (Told: the answer had "new"; New: its
	// value) and the value of the idProperty it was upserted by (Key, ""
	// if the answer did not include it).
	Upsert bool   `json:"-"`
	Told   bool   `json:"-"`
	New    bool   `json:"-"`
	Key    string `json:"-"`
}

// Property returns the value of the result's property name, "" if the
// answer did not include it or could not be read.
func (c Created) Property(name string) string {
	var props map[string]*string
	if json.Unmarshal(c.Properties, &props) != nil || props[name] == nil {
		return ""
	}
	return *props[name]
}

// StandardError is one per-input error in a 207 answer.
type StandardError struct {
	Status   string        `json:"status"`
	Category string        `json:"category"`
	Message  string        `json:"message"`
	Context  ErrorContext  `json:"context"`
	Errors   []ErrorDetail `json:"errors"`
	ID       string        `json:"id,omitempty"`
}

// TraceIDs returns the objectWriteTraceIds the error is about.
func (e StandardError) TraceIDs() []string { return e.Context["objectWriteTraceId"] }

// Code returns the most specific error code HubSpot gave: the first detail
// code, else the code inside a "Property values were not valid" message,
// else the category.
func (e StandardError) Code() string {
	return errorCode(e.Errors, e.Message, e.Category)
}

// Conflict reports whether the error's codes say that another record
// already holds one of the input's unique values: the category CONFLICT
// (HubSpot's 409s) or OBJECT_ALREADY_EXISTS (its 409s for contacts since
// 2023), or a detail or embedded property error with either code. HubSpot
// documents no form for line items; see also [StandardError.MayBeConflict].
func (e StandardError) Conflict() bool { return conflictByCode(e.Errors, e.Message, e.Category) }

// MayBeConflict reports whether the error, whose codes do not say so (see
// [StandardError.Conflict]), says in words that a value is taken
// ("already exists", "already has that value", ...), as a validation error
// may. Words are no proof: the message may quote the value that was sent.
// A caller may look the row up by its key, but must not read a miss as
// proof that another record holds the value.
func (e StandardError) MayBeConflict() bool {
	return !e.Conflict() && conflictByWords(e.Errors, e.Message)
}

// NotFound reports whether the error says that the record asked for does
// not exist: its category is OBJECT_NOT_FOUND, or another that ends in
// NOT_FOUND. An error without a category is not read as one: a proxy's
// 404 page for a path it does not serve says "Not Found" too, and a
// lookup must never read a failure as "none found".
func (e StandardError) NotFound() bool { return notFound(e.Category) }

func notFound(category string) bool { return strings.HasSuffix(category, "NOT_FOUND") }

// ErrorDetail is HubSpot's ErrorDetail.
type ErrorDetail struct {
	Code        string       `json:"code,omitempty"`
	Message     string       `json:"message"`
	In          string       `json:"in,omitempty"`
	SubCategory Text         `json:"subCategory,omitempty"`
	Context     ErrorContext `json:"context,omitempty"`
}

// propertyValidation is one element of the JSON array HubSpot embeds in
// "Property values were not valid: [...]" messages.
type propertyValidation struct {
	IsValid bool   `json:"isValid"`
	Message string `json:"message"`
	Error   string `json:"error"`
	Name    string `json:"name"`
}

const invalidPropsPrefix = "Property values were not valid: "

// errorCode picks the most specific code out of a HubSpot error.
func errorCode(details []ErrorDetail, message, category string) string {
	for _, d := range details {
		if d.Code != "" {
			return d.Code
		}
	}
	if pv := embeddedValidations(message); len(pv) > 0 && pv[0].Error != "" {
		return pv[0].Error
	}
	return category
}

// conflictCodes are the categories and codes of a refusal because another
// record holds a unique value.
var conflictCodes = []string{"CONFLICT", "OBJECT_ALREADY_EXISTS"}

// conflictWords are what HubSpot's messages say of such a refusal when its
// code says nothing (a VALIDATION_ERROR, say), lower-cased.
var conflictWords = []string{"already exist", "already has that value", "already has this value",
	"already in use", "already used", "must be unique", "duplicate value"}

// conflictByCode reports whether an error, given by its details, message
// and category, has a code of a refusal because another record holds a
// unique value.
func conflictByCode(details []ErrorDetail, message, category string) bool {
	codes := []string{category}
	for _, d := range details {
		codes = append(codes, d.Code, string(d.SubCategory))
	}
	for _, v := range embeddedValidations(message) {
		codes = append(codes, v.Error)
	}
	for _, c := range codes {
		if slices.Contains(conflictCodes, c) {
			return true
		}
	}
	return false
}

// conflictByWords reports whether an error's message (without the JSON
// list of property errors it may embed), its details' messages or its
// embedded property errors' messages say that a value is taken.
func conflictByWords(details []ErrorDetail, message string) bool {
	texts := []string{message}
	if i := strings.Index(message, invalidPropsPrefix); i >= 0 {
		texts[0] = message[:i]
	}
	for _, d := range details {
		texts = append(texts, d.Message)
	}
	for _, v := range embeddedValidations(message) {
		texts = append(texts, v.Message)
	}
	return saysTaken(texts)
}

// TakenInWords reports whether the error says in words that the value of
// property is taken: a detail "in" that property (or naming it as its
// context's propertyName), or an embedded property error naming it, whose
// message says so (see [StandardError.MayBeConflict], and its caveat).
func (e StandardError) TakenInWords(property string) bool {
	return takenInWords(e.Errors, e.Message, property)
}

func takenInWords(details []ErrorDetail, message, property string) bool {
	if property == "" {
		return false
	}
	var texts []string
	for _, d := range details {
		if d.In == property || slices.Contains(d.Context["propertyName"], property) {
			texts = append(texts, d.Message)
		}
	}
	for _, v := range embeddedValidations(message) {
		if v.Name == property {
			texts = append(texts, v.Message)
		}
	}
	return saysTaken(texts)
}

// saysTaken reports whether one of texts says in words that a value is
// taken (conflictWords).
func saysTaken(texts []string) bool {
	for _, t := range texts {
		t = strings.ToLower(t)
		for _, w := range conflictWords {
			if strings.Contains(t, w) {
				return true
			}
		}
	}
	return false
}

func embeddedValidations(message string) []propertyValidation {
	i := strings.Index(message, invalidPropsPrefix)
	if i < 0 {
		return nil
	}
	var pv []propertyValidation
	if err := json.Unmarshal([]byte(message[i+len(invalidPropsPrefix):]), &pv); err != nil {
		return nil
	}
	return pv
}

// errorMessage renders the most readable message of a HubSpot error: the
// embedded property messages when there are some, else the message itself.
func errorMessage(message string) string {
	pv := embeddedValidations(message)
	if len(pv) == 0 {
		return message
	}
	parts := make([]string, 0, len(pv))
	for _, v := range pv {
		m := v.Message
		if m == "" {
			m = v.Error
		}
		if v.Name != "" && !strings.Contains(m, v.Name) {
			m = v.Name + ": " + m
		}
		parts = append(parts, m)
	}
	return strings.Join(parts, "; ")
}

// ReadableMessage returns the error's message with HubSpot's embedded JSON
// list of property problems rendered as plain sentences, naming the record
// that a conflict says holds the value ("Existing ID: N") when the error
// names one the sentences leave out (see [StandardError.ExistingID]).
func (e StandardError) ReadableMessage() string {
	return withExistingID(errorMessage(e.Message), e.ExistingID())
}

// ExistingID returns the id of the record that a unique-value conflict
// names as holding the value: its context's existingId, else a detail's,
// else the "Existing ID: N" of its message; "" when it names none.
func (e StandardError) ExistingID() string { return existingID(e.Message, e.Context, e.Errors) }

// existingIDPattern finds the record a conflict's message names.
var existingIDPattern = regexp.MustCompile(`Existing ID: ([0-9]+)`)

// ExistingIDIn returns the id of the record a message names as holding a
// value ("... already exists. Existing ID: 123"), the last one when it
// names several (ReadableMessage puts the one an error's context names
// last), or "".
func ExistingIDIn(message string) string {
	if m := existingIDPattern.FindAllStringSubmatch(message, -1); m != nil {
		return m[len(m)-1][1]
	}
	return ""
}

func existingID(message string, context map[string][]string, details []ErrorDetail) string {
	named := func(c map[string][]string) string {
		if ids := c["existingId"]; len(ids) == 1 && isDigits(ids[0]) {
			return ids[0]
		}
		return ""
	}
	if id := named(context); id != "" {
		return id
	}
	for _, d := range details {
		if id := named(d.Context); id != "" {
			return id
		}
	}
	return ExistingIDIn(message)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// withExistingID is msg naming the record id ("; Existing ID: N") unless
// id is "" or msg names it already.
func withExistingID(msg, id string) string {
	if id == "" || ExistingIDIn(msg) == id {
		return msg
	}
	switch {
	case msg == "":
		return "Existing ID: " + id
	case strings.HasSuffix(msg, "."):
		return msg + " Existing ID: " + id
	}
	return msg + "; Existing ID: " + id
}

// Property is a property definition from GET /crm/v3/properties/line_items.
type Property struct {
	Name                 string           `json:"name"`
	Label                string           `json:"label"`
	Type                 string           `json:"type"`
	FieldType            string           `json:"fieldType"`
	Options              []PropertyOption `json:"options"`
	Calculated           bool             `json:"calculated"`
	HasUniqueValue       bool             `json:"hasUniqueValue"`
	ModificationMetadata struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
}

// PropertyOption is one option of an enumeration property.
type PropertyOption struct {
	Label  string `json:"label"`
	Value  string `json:"value"`
	Hidden bool   `json:"hidden"`
}
