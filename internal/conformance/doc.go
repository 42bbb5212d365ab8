// Package conformance holds no code of its own: its tests check the
// importer's HubSpot client and the HubSpot emulator against HubSpot's
// official OpenAPI 3.0 specs.
//
// The tests load these files from ../shared/hubspot-spec beside the
// repository (as CI lays it out) with github.com/getkin/kin-openapi:
//
//   - lineItems.json: v3 line item batch create, batch upsert, batch read
//     and search (/crm/v3/objects/line_items/...);
//   - properties.json: the v3 property list (/crm/v3/properties/line_items);
//   - associationsSchema.json: association labels
//     (/crm/associations/v4/line_items/{to}/labels), which both API
//     versions use;
//   - associations.json: v4 association batch create
//     (/crm/v4/associations/line_items/{to}/batch/create);
//   - deals.json: v3 batch read of deals by record id or by a unique
//     property (/crm/v3/objects/deals/batch/read, which deals.json writes
//     with the type id, /crm/v3/objects/0-3/...);
//   - 2026-09/lineItems.json: the 2026-09 line item batch create, upsert,
//     read and search (/crm/objects/2026-09/line_items/...);
//   - 2026-09/objects.json: the 2026-09 batch read of other object types
//     (/crm/objects/2026-09/deals/batch/read), whose paths it templates as
//     2026-09/lineItems.json does;
//   - 2026-09/properties.json: the 2026-09 property list;
//   - 2026-09/associations.json: 2026-09 association batch create
//     (/crm/associations/2026-09/line_items/{to}/batch/create).
//
// Each file has a router of its own, and a request must be claimed by
// exactly one file (specFiles in spec_test.go says which takes what, and
// TestRouting shows it); a request no file claims, or two do, is a
// failure.
//
// The tests put a validating http.RoundTripper between a real
// *hubspot.Client and the emulator's in-memory Transport, and drive the
// client's public methods, in both API versions (v3/v4 and, after
// UseAPIVersion(hubspot.V202609), 2026-09) wherever an operation exists in
// both: batch create, batch upsert, batch read, search, the property list,
// association labels, association batch create and the batch read of deals
// by a unique property, through their good answers, per-input errors (207
// in v3/v4; in 2026-09, whose specs document no 207, the success status
// with errors in the body), whole-request errors, 429s, 401s and 403s, and
// the emulator's switches that change an answer's shape or status
// (ConflictPerRow, BatchReadNoneFound404, UpsertOmitsTraceID,
// AssociationsBurstExempt, GranularScopeSuffices2026). Every request the
// client sends is validated against the operation it names (path, method,
// parameters, body, bearer authentication), and every answer the emulator
// gives against the responses that operation declares (status, content
// type, body schema); a success status must be one the operation declares
// by itself. The tests skip when the spec folder is absent. The "teeth"
// tests (teeth_test.go) show that requests and answers made by hand with
// one defect each are caught.
//
// The specs are read as they are, with three exceptions, each commented
// where it is made: their examples are not validated (some contradict
// their own schemas); v3 deal reads are routed by the type's name as by
// its id; and a few errors that HubSpot's real answers make, and so the
// emulator's, are waived where they occur and nowhere else (the deviations
// in spec_test.go; TestDeviations fails once one is no longer needed, and
// TestNoDeviations2026 shows that the 2026-09 answers need no waiver for
// null property values, which the 2026-09 specs allow).
//
// What the specs cannot catch is not checked: they forbid no unknown
// members, so an upsert input that carries associations, which HubSpot's
// upsert does not take, is valid as far as they go.
package conformance
