// Package emulator is an in-process emulation of one HubSpot portal, strict
// enough to test the importer against: the line item batch create, batch
// upsert, batch read, search, properties, association label and
// association batch create endpoints (v3/v4 and 2026-09), batch read of
// association targets, HubSpot's rate limits, and injected failures.
//
// It is as strict as real HubSpot and, where HubSpot's behaviour could not
// be established, stricter: a client that works against the emulator should
// not meet a surprise in production. Every such choice is listed below under
// "Choices".
//
// # Endpoints
//
//   - POST /crm/v3/objects/line_items/batch/create (scope crm.objects.line_items.write)
//   - POST /crm/v3/objects/line_items/batch/read (scope crm.objects.line_items.read)
//   - POST /crm/v3/objects/line_items/search (scope crm.objects.line_items.read)
//   - GET /crm/v3/properties/line_items (scope crm.schemas.line_items.read)
//   - GET /crm/associations/v4/line_items/{toObjectType}/labels, also served as
//     /crm/v4/associations/line_items/{toObjectType}/labels (scope
//     crm.objects.line_items.read or .write, or the target's read scope)
//   - POST /crm/v3/objects/line_items/batch/upsert (scope crm.objects.line_items.write)
//   - POST /crm/v4/associations/line_items/{toObjectType}/batch/create
//     (scope crm.objects.line_items.write)
//   - POST /crm/v3/objects/{objectType}/batch/read for the association
//     targets deals (0-3), quotes (0-14), invoices (0-53), orders (0-123),
//     carts (0-142) and subscriptions (0-69), by name, singular or type id
//     (scope: the type's read scope, e.g. crm.objects.deals.read). Payments
//     and discounts are association targets only.
//   - The 2026-09 twins, on the same store and with the same behaviour
//     except for the differences listed below:
//     POST /crm/objects/2026-09/line_items/batch/create, /batch/upsert,
//     /batch/read and /search ({objectType} line_items, line_item or 0-8;
//     scopes as v3 plus e-commerce, see Config.GranularScopeSuffices2026),
//     POST /crm/objects/2026-09/{objectType}/batch/read for the six targets
//     above, GET /crm/properties/2026-09/line_items (scope
//     crm.schemas.line_items.read) and POST
//     /crm/associations/2026-09/line_items/{toObjectType}/batch/create
//     (scope crm.objects.line_items.write). There is no 2026-09 labels
//     endpoint.
//
// Rate classes: upserts, target batch reads, the 2026-09 batch endpoints
// and the 2026-09 properties list are counted like batch create (burst
// window and day); the 2026-09 search like v3 search. Association batch
// creates are counted like batch create too, although associations.json
// exempts them from the ten-secondly window (see
// Config.AssociationsBurstExempt).
//
// Association targets exist once seeded (Server.SeedObjects; the command's
// --seed-deals and --seed-objects TYPE=IDS). A readable target type can
// also be given unique properties: Config.SeedUnique {ObjectType,
// Property, Pattern} (the command's repeatable --seed-unique
// TYPE.PROPERTY=PATTERN, e.g. deals.legacy_deal_id=LD-{id}) makes every
// seeded record of the type hold Property = Pattern with "{id}" replaced by
// its id, and Server.SeedUnique(type, property, func(id) string) does the
// same with any function. Both apply to records seeded before and after.
//
// Any other path is a 404 {"status":"error","message":"resource not found"};
// a known path with another method is a 405 with an Allow header.
//
// # Request pipeline
//
// Each request goes through, in order: routing (404/405);
// Faults.ErrorRate (gateway errors, before anything is counted); bearer
// authentication (401); the rate limiter, where Faults.RateLimitRate is
// drawn first (429); the request's latency (Faults.Latency, or uniformly
// between it and Faults.LatencyMax; a client that goes away meanwhile does
// not cut it short); scopes (403); the
// endpoint. So a request is counted in the rate windows when it arrives,
// as HubSpot's gateway counts it, and the rate-limit headers of its answer
// describe the window as it stood then. With Config.CountAtCompletion the
// latency comes first instead, and a request is counted when its answer is
// ready. HubSpot does not document which it does.
// A batch create then draws Faults.LateCommitRate (its processing is put
// off by Faults.LateCommit, and goes on even if the client has gone, as
// HubSpot's does: a client that timed out can find its rows created later)
// and, once it has committed line items, the commit faults
// (Faults.CommitThenDrop, Faults.CommitThenErrorRate). Batch upserts and
// association batch creates (v3/v4 and 2026-09) draw the same faults, the
// commit faults once they have written something (an upsert: any line
// item created or updated; an association create: any result). A batch
// create that was answered then draws Faults.CommitThenRowErrorRate: some
// of its line items, created, are answered with a per-input error of
// status "500" in place of their results.
//
// # What was looked up, and where
//
//   - 207 multi-status: HubSpot's error handling guide and "Using object
//     APIs" guide: a 207 needs an objectWriteTraceId on every input; each
//     error has status "error", category, message "Property values were not
//     valid: [{isValid,message,error,name,localizedErrorMessage,portalId}]"
//     and context {"objectWriteTraceId":[id]}; results and errors come back
//     with status COMPLETE, numErrors, startedAt and completedAt.
//   - 400 VALIDATION_ERROR body with errors[] {message, code,
//     context.propertyName}: the same guide (PROPERTY_DOESNT_EXIST example).
//   - 403 MISSING_SCOPES body, including errors[].context.requiredGranularScopes
//     and links.scopes: the same guide.
//   - 401 INVALID_AUTHENTICATION message "Authentication credentials not
//     found. This API supports OAuth 2.0 ...": quoted responses in public code.
//   - 429 body {status, message, errorType "RATE_LIMIT", correlationId,
//     policyName, groupName, requestId}; messages "You have reached your
//     ten_secondly_rolling limit." / "daily limit." / "secondly limit."
//     (search): HubSpot's usage guidelines, community answers and the
//     official Node client's retry decorator.
//   - Headers X-HubSpot-RateLimit-Max, -Remaining, -Interval-Milliseconds on
//     non-search responses, not on search; -Daily and -Daily-Remaining: usage
//     guidelines. Retry-After on 429 is documented only for workflows, so
//     genuine 429s carry none.
//   - The search endpoint and the labels endpoint carry the spec extension
//     x-hubspot-rate-limit-exemptions: ["ten-secondly"]; they are not counted
//     in the burst window. Batch read carries none, so it is counted like
//     batch create.
//   - Batch read, from lineItems.json: the body is
//     BatchReadInputSimplePublicObjectId, whose inputs ([{"id": string}]),
//     properties and propertiesWithHistory (lists of names) are required and
//     idProperty ("a custom unique value property"; "Do not include this
//     parameter if retrieving by record ID") is optional; the query
//     parameter archived is a boolean, default false ("Whether to return only
//     results that have been archived"). The answer is 200
//     BatchResponseSimplePublicObject {status, results, startedAt,
//     completedAt} or 207 BatchResponseSimplePublicObjectWithErrors, which
//     adds numErrors and errors.
//   - StandardError, the element of a 207's errors, requires status,
//     category, message, context, errors and links (lineItems.json); every
//     207 error the emulator sends has all six, errors [] and links {} when
//     there is nothing to put in them.
//   - PublicObjectSearchRequest (lineItems.json, and the 2026-09 spec alike)
//     requires after, filterGroups, limit, properties and sorts.
//   - Search limits, from the "Search the CRM" guide: 5 requests/s per
//     account; default page 10, at most 200; paging past 10,000 results is a
//     400; at most 5 filterGroups, 6 filters per group, 18 filters in all;
//     after is an integer formatted as a string ("0" is the first page); one
//     sort rule; EQ is
//     case-insensitive except on enumerations; IN/NOT_IN on string
//     properties need lowercase values; "a query can contain a maximum of
//     3,000 characters. If the body of your request exceeds 3,000 characters,
//     a 400 error will be returned".
//   - Validation codes PROPERTY_DOESNT_EXIST, READ_ONLY_VALUE ("\"x\" is a
//     calculated property; its value cannot be set."), INVALID_OPTION ("v was
//     not one of the allowed options: [...]"), INVALID_DATE ("<ms> is at
//     13:1:0.0 UTC, not midnight!"), INVALID_LONG ("v was not a valid long.",
//     for datetime values) and LEADING_TRAILING_WHITESPACE (non-string values,
//     HubSpot changelog, January 2025): HubSpot docs and quoted responses.
//   - "The price ... cannot be negative" and the term hs_recurring_billing_period
//     "accepts ISO-8601 period formats of PnYnMnD and PnW": the line items guide.
//   - Line item association type ids (deal 20, quote 68, invoice 410, order
//     514, cart 591, subscription 302, upcoming subscription 565, payment 396,
//     discount 368): the associations guide's "Line item to object" table.
//   - 415 "Cannot parse content. No Content-Type defined." and "Invalid JSON
//     input: a request body was expected, but none found": quoted responses.
//   - Batch upsert, from lineItems.json: the body is
//     BatchInputSimplePublicObjectBatchInputUpsert, whose inputs
//     (SimplePublicObjectBatchInputUpsert) require id and properties and
//     take idProperty and objectWriteTraceId; there is no associations
//     member. The answer is 200 BatchResponseSimplePublicUpsertObject or 207
//     ...WithErrors; SimplePublicUpsertObject requires id, properties, new,
//     createdAt, updatedAt and archived, objectWriteTraceId is optional.
//     "Unable to perform update/upsert by non-unique 0-1 property
//     hs_object_id in portal ID N" (with 0-2 for companies): quoted
//     responses in public issues (HubSpot's Node client #548, Segment's
//     action-destinations #3957); a batch upsert naming one record twice is
//     rejected (action-destinations #3969); HubSpot's docs: an empty string
//     clears a property on update.
//   - Association batch create, from associations.json:
//     BatchInputPublicAssociationMultiPost, inputs {from:{id}, to:{id},
//     types:[AssociationSpec]} all required; 201
//     BatchResponseLabelsBetweenObjectPair or 207 ...WithErrors, results
//     LabelsBetweenObjectPair {fromObjectTypeId, fromObjectId,
//     toObjectTypeId, toObjectId, labels} (all required). The operation
//     carries x-hubspot-rate-limit-exemptions ["ten-secondly"].
//   - deals.json: POST /crm/v3/objects/0-3/batch/read takes the same
//     BatchReadInputSimplePublicObjectId as line items ("include the
//     idProperty parameter to retrieve records by a custom unique value
//     property") and answers BatchResponseSimplePublicObject (200) or
//     ...WithErrors (207); scope crm.objects.deals.read.
//
// # 2026-09 compared with v3/v4
//
// Request schemas of the operations served are the same in
// 2026-09/lineItems.json and lineItems.json (batch create, upsert and read
// inputs, PublicObjectSearchRequest, StandardError, ErrorDetail, Error),
// and in 2026-09/associations.json and associations.json
// (BatchInputPublicAssociationMultiPost, LabelsBetweenObjectPair). The
// differences, and what the emulator does with them:
//
//   - Status codes: the 2026-09 batch create documents only 201, batch
//     upsert and batch read only 200, association batch create only 200
//     (v4: 201) and none documents a 207; instead BatchResponseSimplePublicObject,
//     BatchResponseSimplePublicUpsertObject and
//     BatchResponseLabelsBetweenObjectPair gained optional numErrors and
//     errors, and the ...WithErrors schemas are gone. So a 2026-09 batch
//     with failed inputs answers 201/200 with the same body a v3/v4 207
//     would carry (see Config.MultiStatus2026); an all-good association
//     create answers 200.
//   - SimplePublicObject.properties values are nullable in 2026-09 (not in
//     v3). A 2026-09 batch read answers requested properties without a
//     value as null (v3 leaves them out), as search does in both.
//   - SimplePublicObject and SimplePublicUpsertObject lost warnings
//     (PublicObjectWarning); the emulator never sends it.
//   - Security: the 2026-09 line item operations list
//     crm.objects.line_items.{read,write} and e-commerce in one requirement
//     (v3: either one), while the generic 2026-09 objects.json accepts any
//     one of its scopes for the same paths (see
//     Config.GranularScopeSuffices2026). The 2026-09 properties and
//     association specs list alternatives, as v3/v4 do.
//   - Property (2026-09/properties.json) has no numberDisplayHint,
//     textDisplayHint or currencyPropertyName; the 2026-09 properties list
//     leaves numberDisplayHint out. Everything else (query parameters,
//     required fields, Option, PropertyModificationMetadata) is the same.
//   - The 2026-09 search keeps the ten-secondly exemption;
//     CollectionResponseWithTotalSimplePublicObject changed a description
//     only.
//
// # Choices
//
// Where no answer was found, the emulator does the stricter plausible thing:
//
//   - Unknown JSON fields anywhere in a request body are a 400 (as Jackson
//     with FAIL_ON_UNKNOWN_PROPERTIES would answer), except the top-level
//     "filters" of a search request, which HubSpot's own docs use.
//   - Property values, to.id and objectWriteTraceId must be JSON strings; a
//     number, boolean or null is a 400 (the spec types them as strings).
//     associationTypeId must be an integer.
//   - An empty inputs array is a 400; more than 100 inputs is a 400 with a
//     message modelled on HubSpot's batch limit messages.
//   - A batch in which any invalid input lacks an objectWriteTraceId is
//     rejected whole with a 400 that lists every invalid input's errors;
//     nothing is created.
//   - Two inputs that are identical apart from objectWriteTraceId are merged:
//     one line item is created, reported under the first input's trace id;
//     the duplicate gets neither a result nor an error. Two different inputs
//     with the same trace id make the whole batch a 400.
//   - An association to an id that was not seeded, or with a (category,
//     typeId) that does not exist from line items, makes the whole batch a
//     400 VALIDATION_ERROR ("One or more associations are invalid", context
//     INVALID_OBJECT_IDS ["DEAL=999 is not valid"], objectId, objectType),
//     whatever the trace ids. Nothing is created.
//   - A value of a hasUniqueValue property that another line item holds
//     fails the whole batch with a 409 CONFLICT, "Line item already exists.
//     Existing ID: N", naming the first collision only (as HubSpot does for
//     contacts' unique email), whatever the trace ids. Two inputs of one
//     batch with the same unique value fail the whole batch with a 400.
//     Nothing is created in either case.
//   - With Config.ConflictPerRow, such a collision is answered per input
//     instead: a 207 in which each colliding input gets the error
//     {"status":"error","category":"CONFLICT","message":"Line item already
//     exists. Existing ID: N","context":{"objectWriteTraceId":[its trace
//     id],"existingId":["N"]},"errors":[],"links":{}} and the other valid
//     inputs are created (and subject to commit faults). This shape is
//     modelled on the 409's, not verified. An input with invalid values gets
//     only its VALIDATION_ERROR; a colliding input without a trace id still
//     fails the whole batch with the 409, naming its collision; two inputs
//     holding the same taken value both get a CONFLICT.
//   - Config.ConflictAs changes the form of either answer (HubSpot
//     documents none for line items): ConflictAlreadyExists gives the
//     category OBJECT_ALREADY_EXISTS and an error detail {"message":"A line
//     item with P V already exists. Existing ID: N","in":"P"}, as HubSpot's
//     409s for contacts have since 2023; ConflictValidation gives a
//     VALIDATION_ERROR (for the whole batch, a 400) whose embedded property
//     error says "P: another line item already has that value (V)" with the
//     generic code INVALID_PROPERTY_VALUE, so that only its words tell it
//     from another refused value, as a public integration's tests mock
//     HubSpot's answer ("already has that value").
//   - With Config.CreateOmitsTraceID, batch create results leave out
//     objectWriteTraceId (the spec makes it optional); errors still carry
//     context.objectWriteTraceId.
//   - With Config.EchoNormalized, batch create results echo a number in
//     its shortest decimal form and a calendar date as epoch milliseconds
//     (the spec's examples show "property_date": "1572480000000"); stored
//     values stay as sent.
//   - HubSpot does not document whether unique values that differ only in
//     letter case collide. By default they do not: values compare byte for
//     byte. With Config.UniqueCaseInsensitive they compare as
//     strings.EqualFold does (so "ı" and "i" still differ), for creates,
//     upserts (matching the id, duplicate ids, conflicts), duplicates within
//     a batch and batch read by idProperty (of line items and of
//     association targets); search is unaffected.
//   - Number values must be plain decimals: optional "-", digits, optionally
//     "." and digits ("1,234.50", "12e3", ".5", "+1" and "abc" fail with code
//     INVALID_DOUBLE). quantity accepts decimals like any number property.
//     A negative price fails with INVALID_VALUE, as does a term that is not
//     PnYnMnD/PnW.
//   - Date values are YYYY-MM-DD (a real calendar date), or epoch
//     milliseconds or an ISO instant exactly at midnight UTC. Datetime values
//     are epoch milliseconds or ISO 8601 with a zone and at most millisecond
//     precision.
//   - Enumeration values must be option values (labels fail), case-sensitive;
//     checkbox (multi-select) values are ";"-separated, each valid, no empty
//     parts. Hidden options are accepted. Bool values are "true" or "false".
//   - Strings longer than 65,536 characters fail with VALUE_TOO_LONG.
//   - An empty value passes validation (except for unknown or read-only
//     properties) and leaves the property unset; it is not stored. In an
//     upsert that updates a line item it clears the property.
//   - The unverified codes are INVALID_DOUBLE, VALUE_TOO_LONG and
//     INVALID_VALUE.
//   - 401s are not counted against any rate limit and carry no rate-limit
//     headers (HubSpot cannot attribute them to a portal). 403s, 400s and
//     every other answered request after authentication are counted.
//   - Requests answered 429 are not counted against the window or the day.
//   - The daily quota resets at midnight UTC (HubSpot uses the account's time
//     zone) or on ResetDaily. Search, batch read and label requests count
//     towards it.
//   - Only granular scopes are accepted; the legacy "e-commerce" scope the
//     spec also lists never suffices on its own. By default the 2026-09
//     line item endpoints require it next to the granular scope (their
//     spec lists both in one requirement); Config.GranularScopeSuffices2026
//     drops that. Such a 403 lists both scopes in requiredGranularScopes,
//     its detail message being "All of the following scopes are required."
//     DefaultScopes grants e-commerce, and the read scopes of the six
//     readable association targets.
//   - Search: a body without after (or with after null) is a 400
//     VALIDATION_ERROR, as the spec requires it; whether HubSpot itself
//     rejects it is not verified. The other fields the spec requires
//     (filterGroups, limit, properties, sorts) are not enforced and may be
//     left out. A body over 3,000 characters is a 400 (the docs'
//     sentence read literally); IN/NOT_IN take at most 100 values; a filter or sort on an
//     unknown property is a 400; limit must be 1..200; results are ordered by
//     id unless sorted; requested properties without a value come back as
//     null, and createdate, hs_lastmodifieddate and hs_object_id always come
//     back. Config.SearchLag can delay indexing, as HubSpot's index does.
//   - Batch read: an input that names no line item gets its own error
//     {"status":"error","category":"OBJECT_NOT_FOUND","message":"Could not
//     get some LINE_ITEM objects, they may be deleted or not exist. Check
//     that ids are valid.","context":{"ids":[the id as sent]},"errors":[],
//     "links":{}}, one per distinct id sent; this message, category and shape
//     are modelled, not verified (HubSpot may well list several ids in one
//     error). Some found: 207 with results and errors; none found: 207 with
//     empty results. A line item named twice (or, with
//     UniqueCaseInsensitive, in two cases) is answered once. Without
//     idProperty an id must be the record id as HubSpot writes it ("0123",
//     "+123" and " 123" are not found). idProperty must name a property with
//     hasUniqueValue (hs_object_id has not), else the request is a 400; line
//     items are then found by the value they were created with. Results hold
//     the requested properties that have a value (unset ones are left out,
//     unlike search's nulls; unknown names are ignored) plus createdate,
//     hs_lastmodifieddate and hs_object_id. A non-empty
//     propertiesWithHistory is a 400, as the emulator keeps no history.
//     archived=true finds nothing (nothing is ever archived); an archived
//     value other than true or false is a 400. Inputs are limited as for
//     creates (1 to 100). Batch read reads the store, so SearchLag does not
//     delay it (Config.ReadLag does: a line item younger than it is not
//     found, though its unique values are taken at once), and it writes
//     nothing, so commit faults do not apply.
//   - Error bodies give context as an object of string lists, as the
//     specs' schemas do; Config.ErrorForms writes it as the Java map text
//     of the specs' examples, or with single values alone and subCategory
//     objects, in every answer (batch errors and whole-request errors).
//   - Injected gateway errors (Faults.ErrorRate) answer 500 with HubSpot's
//     JSON "internal error" and other statuses with an HTML page; commit-then
//     errors (batch creates and upserts that wrote line items, association
//     creates that answered a result) use the same pages.
//   - Line item ids start near 37,400,000,000 and increase with small random
//     gaps; results and errors of a batch come back in a seeded random order.
//   - Batch upsert: idProperty is required on every input (the spec marks
//     it optional; without it HubSpot's upsert has nothing to match by) and
//     must be the same on all inputs of a batch; it must name a property
//     with hasUniqueValue, else the whole batch is a 400 VALIDATION_ERROR
//     "Unable to perform update/upsert by non-unique 0-8 property NAME in
//     portal ID N" (also for a property that does not exist). An empty id
//     is a 400. Two inputs whose ids are equal (as unique values compare,
//     so also ignoring case with UniqueCaseInsensitive) fail the whole batch
//     with a 400 "Duplicate IDs found in batch input: [K1, K2]" (each id
//     once, as first sent); unlike batch create, nothing is merged. Trace
//     ids must be distinct as for creates.
//   - Batch upsert values are validated as batch create's, the id too (as
//     a value of idProperty); invalid inputs follow create's rules (207 per
//     input when every invalid input has a trace id, else a 400 listing all
//     errors, nothing written). An input whose id a line item holds (found
//     as batch read by idProperty finds it) updates that line item: the
//     given properties replace the stored ones, an empty value clears one,
//     the others stay; idProperty keeps its stored value whatever
//     properties says (so its case too); the id, createdate, createdAt and
//     trace id of creation stay; hs_lastmodifieddate and updatedAt become
//     the commit time; associations stay. Any other input creates a line
//     item with its non-empty properties and idProperty = id (id wins over
//     a properties[idProperty]). A value of another unique property that a
//     different line item holds (as the store stood before the batch, so a
//     value given up by another input of the same batch still collides) is
//     a conflict answered as batch create's (409 naming the first
//     collision, or with ConflictPerRow a 207 CONFLICT per traced input);
//     two inputs giving the same value of such a property are a 400.
//     Results are SimplePublicUpsertObject with every stored property of
//     the line item (as batch create's results), "new", and the input's
//     objectWriteTraceId unless Config.UpsertOmitsTraceID (the spec makes
//     it optional; the docs do not say upserts echo it). Errors carry
//     context.objectWriteTraceId either way. Changed values are searchable
//     at once; Config.SearchLag delays only the first indexing of a line
//     item.
//   - Association batch create: types are checked for the whole batch as
//     batch create's inline associations are: an unknown (category,
//     typeId) from line items, or one leading to another object type than
//     the path's toObjectType, is a 400 and nothing is stored. Then each
//     input is on its own: a from id that is no line item (record ids as
//     batch read reads them) or a to id that was not seeded gives the error
//     {"status":"error","category":"OBJECT_NOT_FOUND","message":"Could not
//     create association: LINE_ITEM=1 is not valid; DEAL=2 is not
//     valid","context":{"INVALID_OBJECT_IDS":[...],"fromObjectId":[from],
//     "toObjectId":[to]},"errors":[],"links":{}} (modelled on batch
//     create's, not verified), one per distinct (from, to); the others are
//     stored on the line item as inline associations are (one per type and
//     target, an existing one kept once, and not an error) and answered
//     once per distinct pair, labels being the labels of the pair's stored
//     types ([] for unlabelled types). Some failed: 207 (v4), even if all
//     failed. Associating changes neither hs_lastmodifieddate nor
//     updatedAt. At most 100 inputs (HubSpot reportedly accepts 2,000).
//     The scope is crm.objects.line_items.write only (the spec accepts any
//     of 80 scopes).
//   - Batch read of association targets reads the seeded records (see
//     Config.SeedUnique): by record id exactly as seeded, or by idProperty,
//     which must be one of the type's seeded unique properties (else a
//     400). Results hold hs_object_id, createdate and hs_lastmodifieddate
//     (one day before the emulator started) and the requested unique
//     properties; other names are ignored. Errors, 207/200 and
//     BatchReadNoneFound404 work as for line items, with the message
//     "Could not get some DEAL objects, ..." (QUOTE, INVOICE, ORDER, CART,
//     SUBSCRIPTION).
package emulator
