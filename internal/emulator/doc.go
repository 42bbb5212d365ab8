// Package emulator is an in-process emulation of one HubSpot portal, strict
// enough to test the importer against: the line item batch create, batch
// read, search, properties and association label endpoints, HubSpot's rate
// limits, and injected failures.
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
// between it and Faults.LatencyMax; cancellable); scopes (403); the
// endpoint. So a request is counted in the rate windows when it arrives,
// as HubSpot's gateway counts it, and the rate-limit headers of its answer
// describe the window as it stood then. With Config.CountAtCompletion the
// latency comes first instead, and a request is counted when its answer is
// ready. HubSpot does not document which it does.
// A batch create then draws Faults.LateCommitRate (its processing is put
// off by Faults.LateCommit, and goes on even if the client has gone, as
// HubSpot's does: a client that timed out can find its rows created later)
// and, once it has committed line items, the commit faults
// (Faults.CommitThenDrop, Faults.CommitThenErrorRate).
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
//   - HubSpot does not document whether unique values that differ only in
//     letter case collide. By default they do not: values compare byte for
//     byte. With Config.UniqueCaseInsensitive they compare as
//     strings.EqualFold does (so "ı" and "i" still differ), for creates,
//     duplicates within a batch and batch read by idProperty; search is
//     unaffected.
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
//     properties) and leaves the property unset; it is not stored.
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
//     spec also lists is not.
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
//     delay it, and it writes nothing, so commit faults do not apply.
//   - Injected gateway errors (Faults.ErrorRate) answer 500 with HubSpot's
//     JSON "internal error" and other statuses with an HTML page; commit-then
//     errors (batch creates that committed line items only) use the same
//     pages.
//   - Line item ids start near 37,400,000,000 and increase with small random
//     gaps; results and errors of a batch come back in a seeded random order.
package emulator
