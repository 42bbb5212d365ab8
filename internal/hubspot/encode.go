package hubspot

import (
	"strconv"

	"github.com/lineitems/importer/internal/jsonstr"
)

// AppendInput appends the JSON encoding of in, with traceID as its
// objectWriteTraceId, to dst. It writes the same bytes as encoding/json
// would for CreateInput (keys sorted, HTML-safe escaping) without
// reflection, and reports where the trace id field starts and ends in the
// returned slice so callers can fingerprint the input without it.
func AppendInput(dst []byte, in CreateInput, traceID string) (out []byte, traceStart, traceEnd int) {
	dst = append(dst, `{"associations":[`...)
	for i, a := range in.Associations {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"to":{"id":`...)
		dst = appendString(dst, a.To.ID)
		dst = append(dst, `},"types":[`...)
		for j, t := range a.Types {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"associationCategory":`...)
			dst = appendString(dst, t.Category)
			dst = append(dst, `,"associationTypeId":`...)
			dst = strconv.AppendInt(dst, int64(t.TypeID), 10)
			dst = append(dst, '}')
		}
		dst = append(dst, "]}"...)
	}
	dst = append(dst, "],"...)
	return appendTraceAndProperties(dst, in, traceID)
}

// appendTraceAndProperties ends an input: its objectWriteTraceId (when
// traceID is set) and its properties, and says where the trace id field
// starts and ends.
func appendTraceAndProperties(dst []byte, in CreateInput, traceID string) (out []byte, traceStart, traceEnd int) {
	traceStart = len(dst)
	if traceID != "" {
		dst = append(dst, `"objectWriteTraceId":`...)
		dst = appendString(dst, traceID)
		dst = append(dst, ',')
	}
	traceEnd = len(dst)
	dst = append(dst, `"properties":`...)
	dst = appendValues(dst, in.Properties)
	dst = append(dst, '}')
	return dst, traceStart, traceEnd
}

// AppendUpsertInput appends the JSON encoding of in as an upsert input
// (UpsertInput: id, idProperty, objectWriteTraceId, properties) to dst,
// with the same guarantees as AppendInput. Upsert inputs carry no
// associations: in.Associations is left out.
func AppendUpsertInput(dst []byte, in CreateInput, idProperty, id, traceID string) (out []byte, traceStart, traceEnd int) {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, id)
	dst = append(dst, `,"idProperty":`...)
	dst = appendString(dst, idProperty)
	dst = append(dst, ',')
	return appendTraceAndProperties(dst, in, traceID)
}

// appendString appends s as a JSON string, escaped as encoding/json.Marshal
// does (HTML-safe).
func appendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s, true) }
