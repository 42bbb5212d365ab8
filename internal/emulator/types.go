package emulator

import "time"

// Default values applied by [New] to zero fields of [Config] and [Faults].
const (
	// DefaultRateMax is the free-tier burst limit: 100 requests per rolling 10 s.
	DefaultRateMax = 100
	// DefaultRateInterval is the length of the rolling burst window.
	DefaultRateInterval = 10 * time.Second
	// DefaultSearchPerSecond is the CRM search limit: five requests per second per account.
	DefaultSearchPerSecond = 5
)

// PortalID is the HubSpot account id the emulator reports in validation
// messages and 429 group names.
const PortalID = 48151623

// Scopes understood by the emulator.
const (
	ScopeLineItemsRead       = "crm.objects.line_items.read"
	ScopeLineItemsWrite      = "crm.objects.line_items.write"
	ScopeLineItemSchemasRead = "crm.schemas.line_items.read"
	ScopeDealsRead           = "crm.objects.deals.read"
	ScopeQuotesRead          = "crm.objects.quotes.read"
	ScopeInvoicesRead        = "crm.objects.invoices.read"
	ScopeOrdersRead          = "crm.objects.orders.read"
	ScopeCartsRead           = "crm.objects.carts.read"
	ScopeSubscriptionsRead   = "crm.objects.subscriptions.read"
	// ScopeECommerce is the legacy scope. It never suffices on its own, but
	// the 2026-09 line item endpoints require it next to the granular scope
	// unless [Config.GranularScopeSuffices2026] is set (see the package
	// documentation).
	ScopeECommerce = "e-commerce"
)

// Limits of HubSpot's API (see the package documentation for sources).
const (
	defaultGroupName            = "lineiteminformation"
	maxBatchInputs              = 100
	maxPropertyValueRunes       = 65536
	maxSearchLimit              = 200
	defaultSearchLimit          = 10
	maxSearchResults            = 10000
	maxFilterGroups             = 5
	maxFiltersPerGroup          = 6
	maxFiltersTotal             = 18
	maxInValues                 = 100
	maxSearchBodyChars          = 3000
	maxBatchReadInputs          = 100
	maxAssocBatchInputs         = 100
	maxRequestBodyBytes   int64 = 16 << 20
)

// DefaultScopes are the scopes a portal grants when [Config.Scopes] is nil:
// line items read and write, line item schemas read, the read scopes of
// the six association targets that can be read back (deals, quotes,
// invoices, orders, carts, subscriptions) and e-commerce (which the
// 2026-09 line item endpoints ask for, see [Config.GranularScopeSuffices2026]).
func DefaultScopes() []string {
	return []string{ScopeLineItemsRead, ScopeLineItemsWrite, ScopeLineItemSchemasRead, ScopeDealsRead,
		ScopeQuotesRead, ScopeInvoicesRead, ScopeOrdersRead, ScopeCartsRead, ScopeSubscriptionsRead, ScopeECommerce}
}

// Config describes one emulated HubSpot portal. Zero values get the defaults
// noted on each field; [New] copies the Config, so later changes to the
// caller's value have no effect.
type Config struct {
	// Token is the one bearer token the portal accepts. An empty Token means
	// every request is answered 401.
	Token string
	// Scopes are the granted scopes. nil means [DefaultScopes]; an empty
	// non-nil slice grants nothing.
	Scopes []string
	// RateMax is the number of non-search requests allowed per RateInterval.
	// 0 means [DefaultRateMax]; a negative value disables the burst limit.
	RateMax int
	// RateInterval is the rolling burst window: a request at time t counts
	// against every window (t-RateInterval, t]. 0 means [DefaultRateInterval].
	RateInterval time.Duration
	// DailyLimit is the number of requests allowed per UTC day (as told by
	// Now). 0 means unlimited.
	DailyLimit int
	// SearchPerSecond is the number of search requests allowed per rolling
	// second. 0 means [DefaultSearchPerSecond]; negative disables the limit.
	SearchPerSecond int
	// SearchLag delays the moment a created line item becomes visible to the
	// search endpoint, as HubSpot's search index does ("it may take a few
	// moments"). 0 means created items are searchable at once.
	SearchLag time.Duration
	// ReadLag delays the moment a created line item becomes visible to
	// batch read (by id or by a unique property), as a read replica or an
	// index behind HubSpot's store might: HubSpot documents a lag for
	// search only, and says nothing of batch read. Unique values are still
	// enforced at once: a create meets the value of a line item that no
	// read shows yet. 0 (the default) means reads see a write at once.
	ReadLag time.Duration
	// Account describes the portal for GET /account-info/v3/details. Zero
	// fields get the defaults noted on [Account].
	Account Account
	// UniqueCaseInsensitive makes values of a hasUniqueValue property that
	// differ only in letter case (as strings.EqualFold tells) the same value:
	// such a create conflicts with the line item holding the other form, two
	// inputs of one batch holding both forms are duplicates, and batch read
	// by idProperty finds the line item whatever the case of the id asked
	// for. The same holds for batch upsert ids (matching a stored line item,
	// duplicates in a batch) and batch read of association targets by
	// idProperty. HubSpot does not document which it does; false (the
	// default) compares unique values byte for byte. Search is unaffected.
	UniqueCaseInsensitive bool
	// ConflictPerRow changes how a batch create or upsert input whose
	// unique value another line item already holds is answered. false (the
	// default) fails the whole batch with a 409 CONFLICT and writes
	// nothing. true answers 207: each such input gets a CONFLICT error of
	// its own and the batch's other valid inputs are written; a conflicting
	// input without an objectWriteTraceId still fails the whole batch with
	// a 409.
	ConflictPerRow bool
	// ConflictAs is the form of that answer (or of each input's error):
	// ConflictCategory (the default) a CONFLICT; ConflictAlreadyExists an
	// OBJECT_ALREADY_EXISTS with a detail naming the property, as HubSpot
	// answers contact creates since 2023; ConflictValidation a
	// VALIDATION_ERROR (a 400 for the whole batch) whose embedded property
	// error says only in words that the value is taken. HubSpot documents
	// none of them for line items; a client must read all three.
	ConflictAs string
	// CreateOmitsTraceID leaves objectWriteTraceId out of batch create
	// results, which the spec allows (SimplePublicObject marks it
	// optional): a client must then match each result to its input by a
	// unique property's value in results[].properties, or leave the row in
	// doubt. The errors of a 207 carry context.objectWriteTraceId either
	// way. false (the default) echoes each input's trace id.
	CreateOmitsTraceID bool
	// EchoNormalized makes batch create results echo number and date
	// values in a form of HubSpot's own, not as sent: a number in its
	// shortest decimal form ("12.50" as "12.5", "007" as "7") and a date
	// as the epoch milliseconds of its midnight UTC ("2026-04-04" as
	// "1775260800000"), as HubSpot's docs show date values. What is stored
	// (and read back) is unchanged. A client that matches results to rows
	// by echoed values must read both forms. false (the default) echoes
	// each value as sent.
	EchoNormalized bool
	// CountAtCompletion is when the gateway counts a request in the rate
	// windows. false (the default): on arrival, before the request's work
	// and latency, as HubSpot's gateway does; the rate-limit headers then
	// describe the window as it stood when the request arrived. true: when
	// its answer is ready, after the latency (the emulator's model before
	// it modelled the gateway). HubSpot does not document which; clients
	// must reach the limit under both.
	CountAtCompletion bool
	// BatchReadNoneFound404 changes the answer to a batch read (of line
	// items or of association targets, v3 or 2026-09) that finds
	// none of its inputs: a 404 OBJECT_NOT_FOUND for the whole request
	// (as public integrations report HubSpot does) instead of a 207 with an
	// error per input. HubSpot's spec documents neither.
	BatchReadNoneFound404 bool
	// UpsertOmitsTraceID leaves objectWriteTraceId out of batch upsert
	// results. The spec marks it optional and HubSpot's docs do not say an
	// upsert echoes it; clients must then match each result to its input
	// by the idProperty value in results[].properties. false (the default)
	// echoes the input's trace id, as batch create does. The errors of a
	// 207 carry context.objectWriteTraceId either way.
	UpsertOmitsTraceID bool
	// MultiStatus2026 makes the 2026-09 batch endpoints (create, upsert,
	// read, association create) answer a batch with failed inputs 207, as
	// their v3/v4 twins do. false (the default) follows the 2026-09 specs,
	// which document no 207: such a batch is answered with the endpoint's
	// success status (201 for create, 200 for the others) and a body that
	// carries numErrors and errors next to results, so a client must
	// inspect the body of every 2xx answer.
	MultiStatus2026 bool
	// ErrorForms is the form of the error bodies' context and subCategory
	// members, which HubSpot's specs and examples disagree on and its docs
	// call optional and varying between APIs. "" (the default) follows the
	// specs' schemas: context an object of string lists. ErrorFormText
	// writes each context as the text the specs' examples show, a Java
	// map's ("{objectWriteTraceId=[3], propertyName=[hs_sku]}").
	// ErrorFormLoose writes a context list of one value as that value alone
	// (a string, or a number where the value is an integer written as one),
	// and gives each element of an errors list (a per-input StandardError,
	// whose subCategory the specs type as an object, and an ErrorDetail,
	// whose subCategory they type as a string) a subCategory object. A
	// client must read every form without losing the answer around it.
	ErrorForms string
	// GranularScopeSuffices2026 lets the 2026-09 line item endpoints
	// (batch create, upsert, read, search) accept crm.objects.line_items.read
	// or .write alone, as the generic 2026-09 objects.json lists them.
	// false (the default) requires that scope and e-commerce together, as
	// the security requirement of the 2026-09 lineItems.json lists both in
	// one requirement (which OpenAPI reads as "all of").
	GranularScopeSuffices2026 bool
	// AssociationsBurstExempt exempts association batch creates (v4 and
	// 2026-09) from the ten-secondly burst window, as the spec extension
	// x-hubspot-rate-limit-exemptions ["ten-secondly"] of associations.json
	// says. false (the default) counts them in the burst window like batch
	// create; both count towards the daily quota.
	AssociationsBurstExempt bool
	// SeedUnique gives association targets values of a unique property, so
	// that they can be read back by that property (batch read with
	// idProperty). Each entry applies to every id of its ObjectType seeded
	// with [Server.SeedObjects], before or after New. [New] panics on an
	// entry of an object type that cannot be read back, or whose Pattern
	// lacks "{id}".
	SeedUnique []SeedUnique
	// Seed seeds all randomness: fault draws, id gaps, result shuffling and
	// correlation ids. Equal seeds and equal request sequences give equal
	// answers.
	Seed int64
	// Now is the clock. nil means time.Now. Every wait in the emulator uses
	// time.Sleep-style timers and the request context, never a separate
	// real-time source, so the emulator runs inside testing/synctest.
	Now func() time.Time
}

// SeedUnique is a unique property of seeded association targets: every
// seeded record of ObjectType holds Property = Pattern with each "{id}"
// replaced by the record id. E.g. {"deals", "legacy_deal_id", "LD-{id}"}
// gives deal 1001 legacy_deal_id "LD-1001".
type SeedUnique struct {
	// ObjectType is deals, quotes, invoices, orders, carts or subscriptions.
	ObjectType string
	// Property is the unique property's internal name.
	Property string
	// Pattern is the value; it must contain "{id}".
	Pattern string
}

// Account is what GET /account-info/v3/details says of the portal.
type Account struct {
	PortalID    int    // 0 means [PortalID]
	AccountType string // STANDARD (the default), SANDBOX, DEVELOPER_TEST or APP_DEVELOPER
	TimeZone    string // an IANA zone; "" means US/Eastern
	Currency    string // "" means USD
}

// Faults are injected failures. The zero value injects nothing. Rates are
// probabilities in [0, 1], drawn independently per request from the seeded
// generator.
type Faults struct {
	// ErrorRate is the fraction of requests answered, before any
	// authentication, rate limiting, processing or commit, with a status from
	// ErrorStatuses (as a gateway in front of HubSpot would).
	ErrorRate float64
	// ErrorStatuses are the statuses used for ErrorRate; nil means {500, 502, 503}.
	ErrorStatuses []int
	// RateLimitRate is the fraction of authenticated requests answered with a
	// 429 of the endpoint's own policy (TEN_SECONDLY_ROLLING, or SECONDLY for
	// search) although the portal is within its limits. Such requests are not
	// counted against any window or the daily quota.
	RateLimitRate float64
	// RetryAfter adds a Retry-After header (whole seconds) to injected 429s.
	// Genuine 429s never carry one: HubSpot documents Retry-After only for
	// workflow webhooks, not for API rate limits.
	RetryAfter bool
	// Latency is how long HubSpot takes over every request: the work and
	// the answer come Latency after the request arrived (see
	// Config.CountAtCompletion for when it is counted). A client that goes
	// away meanwhile does not cut it short: the request is processed all
	// the same, as HubSpot finishes a request it has received.
	Latency time.Duration
	// LatencyMax, when above Latency, makes the latency of each request
	// uniformly distributed between Latency and LatencyMax (seeded).
	LatencyMax time.Duration
	// CommitThenDrop is the fraction of batch writes (creates, upserts and
	// association creates, v3/v4 and 2026-09) that wrote something and
	// whose connection is then dropped without an answer
	// (panic(http.ErrAbortHandler); Transport returns an error).
	CommitThenDrop float64
	// CommitThenErrorRate is the fraction of batch writes (as for
	// CommitThenDrop) that wrote something and are then answered with a
	// status from CommitThenStatuses.
	CommitThenErrorRate float64
	// CommitThenStatuses are the statuses used for CommitThenErrorRate; nil
	// means {502, 503, 504}: a gateway may answer 503 when the connection
	// to the service that committed the batch broke before its answer.
	CommitThenStatuses []int
	// LateCommitRate is the fraction of batch writes (creates, upserts and
	// association creates) that HubSpot goes on
	// processing after the client stopped waiting: the batch is processed
	// LateCommit after it arrived, whatever became of the connection (a
	// client whose timeout is shorter sees no answer, and a lookup made in
	// the meantime does not find the rows yet).
	LateCommitRate float64
	// LateCommit is the delay of a late commit; 0 means 30 s.
	LateCommit time.Duration
	// CommitThenRowErrorRate is the fraction of batch creates (v3 and
	// 2026-09) that created line items and then answer some of them (each
	// traced one with probability ½, at least one) with a per-input error
	// of status "500" (category INTERNAL_ERROR) in place of its result:
	// the line item exists, and the answer says the input failed. The spec
	// gives each error "the HTTP status code associated with the error";
	// a 5xx may come after the write, as a whole batch's may.
	CommitThenRowErrorRate float64
}

// Property is a property definition of the line item object, as served by
// GET /crm/v3/properties/line_items.
type Property struct {
	// Name is the internal name used in the API.
	Name string
	// Label is the name shown in HubSpot's UI.
	Label string
	// Type is the data type: string, number, date, datetime, enumeration or bool.
	Type string
	// FieldType is the UI control: text, textarea, number, date, select,
	// radio, checkbox (multi-select), booleancheckbox, calculation_equation, ...
	FieldType string
	// Description is the help text.
	Description string
	// GroupName is the property group; "" means "lineiteminformation".
	GroupName string
	// Options are the allowed values of an enumeration or bool property.
	Options []Option
	// DisplayOrder orders properties in the UI.
	DisplayOrder int
	// ReadOnlyValue marks a property whose value the API may not set.
	ReadOnlyValue bool
	// Calculated marks a property HubSpot computes; it is read-only too.
	Calculated bool
	// HasUniqueValue makes HubSpot reject a value another line item already holds.
	HasUniqueValue bool
	// Hidden hides the property in HubSpot's UI.
	Hidden bool
	// HubSpotDefined marks a default (non-custom) property.
	HubSpotDefined bool
	// CalculationFormula is the formula of a calculated property, if known.
	CalculationFormula string
	// NumberDisplayHint is how a number is shown (e.g. "currency", "unformatted").
	NumberDisplayHint string
}

// Option is one allowed value of an enumeration property.
type Option struct {
	Label        string
	Value        string
	Hidden       bool
	DisplayOrder int
}

// LineItem is a created line item as the emulator stores it.
type LineItem struct {
	// ID is HubSpot's record id, a numeric string.
	ID string
	// Properties are the values the client sent (empty values dropped) plus
	// hs_object_id, createdate and hs_lastmodifieddate.
	Properties map[string]string
	// Associations are the links of the line item, one per type and
	// target: those created with it, then those added by association
	// batch creates.
	Associations []Association
	// TraceID is the objectWriteTraceId the line item was created with, if any.
	TraceID string
	// CreatedAt is the commit time.
	CreatedAt time.Time
	// UpdatedAt is the time of the last write to its properties (an upsert
	// that updated it); CreatedAt if there was none. Associations added
	// later do not change it.
	UpdatedAt time.Time
}

// Association is one association of a created line item.
type Association struct {
	ToType   string // e.g. "deals"
	ToID     string
	Category string // HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED or WORK
	TypeID   int
}

// Stats are counters of what the emulator saw and did.
type Stats struct {
	// Requests counts all HTTP requests received.
	Requests int
	// BatchCreates counts batch creates that reached processing (passed
	// faults, authentication, rate limits and scopes).
	BatchCreates int
	// Throttled counts 429s sent: burst window, daily, search and injected.
	Throttled int
	// Faults counts injected fault responses (including dropped connections).
	Faults int
	// MaxInWindow is the highest number of authenticated non-search requests
	// that reached the burst limiter, admitted or not, within any rolling
	// RateInterval. A client that never exceeded the limit has
	// MaxInWindow <= RateMax.
	MaxInWindow int
	// Searches counts search requests that reached processing.
	Searches int
	// BatchReads counts batch read requests that reached processing, of
	// line items and of association targets.
	BatchReads int
	// BatchUpserts counts batch upserts that reached processing.
	BatchUpserts int
	// AssociationCreates counts association batch creates that reached
	// processing.
	AssociationCreates int
	// Orphaned counts requests that reached their endpoint and were
	// answered after their client had gone (it timed out, or was killed):
	// what they did, no one heard.
	Orphaned int
	// InFlight is how many requests are being served now: once it is 0,
	// every request that arrived has done all it will do.
	InFlight int
}
