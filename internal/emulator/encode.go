package emulator

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lineitems/importer/internal/jsonstr"
)

// This file encodes the batch create answer by hand. It writes exactly the
// bytes marshal (encoding/json without HTML escaping) writes for a
// batchResponse: fields in struct order, property keys sorted, strings
// escaped the same way. TestGoldenWire and the fuzz tests compare the two.

// appendJSONString appends s as a JSON string escaped as HubSpot's answers
// are: as encoding/json does with SetEscapeHTML(false).
func appendJSONString(dst []byte, s string) []byte { return jsonstr.Append(dst, s, false) }

// systemProps are the properties every created line item carries, sorted.
var systemProps = [...]string{"createdate", "hs_lastmodifieddate", "hs_object_id"}

func isSystemProp(name string) bool {
	return name == "createdate" || name == "hs_lastmodifieddate" || name == "hs_object_id"
}

// appendCreated appends the SimplePublicObject of a line item created from
// in with id and timestamp ts, as a batch create result: its non-empty
// properties plus createdate, hs_lastmodifieddate and hs_object_id, keys
// sorted, then createdAt, updatedAt, archived and, if trace, objectWriteTraceId.
func appendCreated(dst []byte, in *createInput, id int64, ts string, trace, normalize bool) []byte {
	dst = append(dst, `{"id":"`...)
	dst = strconv.AppendInt(dst, id, 10)
	dst = append(dst, `","properties":{`...)
	// The properties in name order: the non-empty ones of in merged with
	// the system ones, which replace any of in with the same name.
	first := true
	sys := 0
	for i := 0; i <= len(in.props); i++ {
		var p propKV
		if i < len(in.props) {
			if p = in.props[i]; p.value == "" || isSystemProp(p.name) {
				continue
			}
		}
		for ; sys < len(systemProps) && (i == len(in.props) || systemProps[sys] < p.name); sys++ {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, '"')
			dst = append(dst, systemProps[sys]...)
			dst = append(dst, `":"`...)
			if sys == 2 {
				dst = strconv.AppendInt(dst, id, 10)
			} else {
				dst = append(dst, ts...) // an instant needs no escaping
			}
			dst = append(dst, '"')
		}
		if i == len(in.props) {
			break
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if normalize {
			p.value = normalValue(p)
		}
		if p.plain {
			dst = append(dst, '"')
			dst = append(dst, p.name...)
			dst = append(dst, `":"`...)
			dst = append(dst, p.value...)
			dst = append(dst, '"')
		} else {
			dst = appendJSONString(dst, p.name)
			dst = append(dst, ':')
			dst = appendJSONString(dst, p.value)
		}
	}
	dst = append(dst, `},"createdAt":"`...)
	dst = append(dst, ts...)
	dst = append(dst, `","updatedAt":"`...)
	dst = append(dst, ts...)
	dst = append(dst, `","archived":false`...)
	if trace && in.traceID != "" {
		dst = append(dst, `,"objectWriteTraceId":`...)
		if in.tracePlain {
			dst = append(dst, '"')
			dst = append(dst, in.traceID...)
			dst = append(dst, '"')
		} else {
			dst = appendJSONString(dst, in.traceID)
		}
	}
	return append(dst, '}')
}

// appendBatchResponse appends the batchResponse of out as marshal would.
func appendBatchResponse(dst []byte, out *batchOutcome) []byte {
	dst = append(dst, `{"status":"COMPLETE","results":[`...)
	for i, c := range out.created {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCreated(dst, c.in, c.id, out.ts, !out.omitTrace, out.normalize)
	}
	dst = append(dst, ']')
	if len(out.errors) > 0 {
		dst = append(dst, `,"numErrors":`...)
		dst = strconv.AppendInt(dst, int64(len(out.errors)), 10)
		dst = append(dst, `,"errors":`...)
		dst = append(dst, marshal(out.errors)...)
	}
	dst = append(dst, `,"startedAt":`...)
	dst = appendJSONString(dst, out.startedAt)
	dst = append(dst, `,"completedAt":`...)
	dst = appendJSONString(dst, out.completedAt)
	return append(dst, '}')
}

// writeBody writes an encoded JSON body as writeJSON does.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// scratchPool holds the per-request buffers of batch creates.
var scratchPool = sync.Pool{New: func() any { return new(batchScratch) }}

// batchScratch is the reusable working memory of one batch create.
type batchScratch struct {
	out    []byte
	keys   []byte
	data   []byte
	props  []propKV
	assocs []assocInput
	types  []assocSpec
	inputs []createInput
	trace  map[string]int
	byHash map[uint64]int
	slots  []nameSlot
	spare  nameSlot // returned by slot when slots is full
	// lastAssoc caches the association type interned last.
	lastAssoc struct {
		key assocKey
		idx int
		set bool
	}
}

// maxPooledBytes bounds the buffers kept for reuse, so one huge request does
// not pin its memory.
const maxPooledBytes = 1 << 20

func (sc *batchScratch) release() {
	if cap(sc.out) > maxPooledBytes || cap(sc.keys) > maxPooledBytes || cap(sc.data) > maxPooledBytes {
		return
	}
	clear(sc.props[:cap(sc.props)])
	clear(sc.assocs[:cap(sc.assocs)])
	clear(sc.types[:cap(sc.types)])
	clear(sc.inputs[:cap(sc.inputs)])
	clear(sc.slots[:cap(sc.slots)])
	sc.slots = sc.slots[:0]
	sc.spare = nameSlot{}
	sc.lastAssoc.set = false
	clear(sc.trace)
	clear(sc.byHash)
	scratchPool.Put(sc)
}

// normalValue is the form in which HubSpot may echo the value of p
// (Config.EchoNormalized): a number in its shortest decimal form, a date
// in calendar form as the epoch milliseconds of its midnight UTC; any
// other value as sent. p.value is valid for its property.
func normalValue(p propKV) string {
	if p.def == nil {
		return p.value
	}
	switch p.def.Type {
	case "number":
		v := p.value
		neg := strings.HasPrefix(v, "-")
		v = strings.TrimPrefix(v, "-")
		whole, frac, _ := strings.Cut(v, ".")
		whole = strings.TrimLeft(whole, "0")
		frac = strings.TrimRight(frac, "0")
		if whole == "" {
			whole = "0"
		}
		if frac != "" {
			whole += "." + frac
		}
		if neg && whole != "0" {
			whole = "-" + whole
		}
		return whole
	case "date":
		if d, err := time.Parse(time.DateOnly, p.value); err == nil {
			return strconv.FormatInt(d.UnixMilli(), 10)
		}
	}
	return p.value
}
