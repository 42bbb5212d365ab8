package emulator

import (
	"encoding/binary"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Created line items are stored compactly, as the emulator may hold
// millions of them: each is 16 bytes in a chunk of itemChunk, pointing into
// the encoded data of the batch that created it, and holds no pointer of
// its own, so the garbage collector never scans the items.
//
// A batch record keeps what its items share: their encoded data, creation
// time and its rendering. An item's data is
//
//	uvarint len(traceID), traceID
//	uvarint n, then n times: uvarint name index, uvarint len(value), value
//	uvarint m, then m times: uvarint association type index, uvarint len(toID), toID
//
// with the properties sorted by name, empty values left out, and without
// hs_object_id, createdate and hs_lastmodifieddate, which are derived from
// the id and the batch. Property names and association types are interned
// in Server.names and Server.assocTypes.
//
// A write to a stored item (an upsert that updates it, an association
// create that adds to it) encodes its whole new data into the batch record
// of that write and points the item there; Server.meta then remembers the
// records whose times are its createdate and hs_lastmodifieddate.

// storedItem is a committed line item. It is guarded by Server.mu.
type storedItem struct {
	idNum int64
	batch uint32 // index in Server.batches
	off   uint32 // start of the item's data in the batch's data
}

// itemMeta locates the times of a line item whose data was rewritten after
// its creation: the indexes in Server.batches of the records whose times
// are its createdate (the batch that created it) and its
// hs_lastmodifieddate (the last write to its properties).
type itemMeta struct{ created, modified uint32 }

// batchRecord is what the line items of one batch write share.
type batchRecord struct {
	data    string
	created time.Time // commit time, UTC, whole milliseconds
	ts      string    // formatInstant(created)
}

const itemChunk = 1 << 14

// itemList is an append-only list of stored items, sorted by id. It grows
// in chunks, so it never copies what it holds and pointers to items stay valid.
type itemList struct {
	chunks [][]storedItem
	n      int
}

func (l *itemList) len() int { return l.n }

func (l *itemList) at(i int) *storedItem { return &l.chunks[i/itemChunk][i%itemChunk] }

func (l *itemList) add(it storedItem) {
	if l.n%itemChunk == 0 {
		l.chunks = append(l.chunks, make([]storedItem, 0, itemChunk))
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, it)
	l.n++
}

// find returns the item with id, or nil if there is none.
func (l *itemList) find(id int64) *storedItem {
	i := sort.Search(l.n, func(i int) bool { return l.at(i).idNum >= id })
	if i < l.n && l.at(i).idNum == id {
		return l.at(i)
	}
	return nil
}

// nameIndex interns a property name. Guarded by Server.mu.
func (s *Server) nameIndex(name string) int {
	if i, ok := s.nameIdx[name]; ok {
		return i
	}
	i := len(s.names)
	name = strings.Clone(name) // do not keep the request body alive
	s.names = append(s.names, name)
	s.nameIdx[name] = i
	return i
}

// assocTypeIndex interns the association type of (category, typeID), which
// must exist. Guarded by Server.mu.
func (s *Server) assocTypeIndex(category string, typeID int) int {
	k := assocKey{category, typeID}
	if i, ok := s.assocIdx[k]; ok {
		return i
	}
	i := len(s.assocTypes)
	def := s.assoc[k]
	s.assocTypes = append(s.assocTypes, Association{ToType: def.toType, Category: def.category, TypeID: def.typeID})
	s.assocIdx[assocKey{def.category, def.typeID}] = i
	return i
}

func appendUvarintString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// nameSlot caches the definition and interned index of a property name
// for the duration of one processBatch: the inputs of a batch usually have
// the same few names, so a short list beats hashing each name.
type nameSlot struct {
	name string
	def  *Property
	idx  int // -1: not interned yet
}

// slot returns the cache for name, the j-th property of its input.
// Guarded by Server.mu; processBatch empties the cache first, as the
// properties may have changed since the last batch.
func (s *Server) slot(sc *batchScratch, j int, name string) *nameSlot {
	n := len(sc.slots)
	if n > 0 {
		// Start where the name was in the previous input, if it had the same ones.
		j = min(j, n-1)
		for k := j; k < n; k++ {
			if sc.slots[k].name == name {
				return &sc.slots[k]
			}
		}
		for k := 0; k < j; k++ {
			if sc.slots[k].name == name {
				return &sc.slots[k]
			}
		}
	}
	sl := nameSlot{name: name, def: s.props[name], idx: -1}
	if n == maxNameSlots { // many different names: stop caching
		sc.spare = sl
		return &sc.spare
	}
	sc.slots = append(sc.slots, sl)
	return &sc.slots[n]
}

// maxNameSlots bounds the linear search of slot.
const maxNameSlots = 48

// appendItemData appends the stored form of in. Guarded by Server.mu.
func (s *Server) appendItemData(sc *batchScratch, dst []byte, in *createInput) []byte {
	dst = appendUvarintString(dst, in.traceID)
	n := 0
	for _, p := range in.props {
		if p.value != "" && !isSystemProp(p.name) {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for j, p := range in.props {
		if p.value != "" && !isSystemProp(p.name) {
			sl := s.slot(sc, j, p.name)
			if sl.idx < 0 {
				sl.idx = s.nameIndex(p.name)
			}
			dst = binary.AppendUvarint(dst, uint64(sl.idx))
			dst = appendUvarintString(dst, p.value)
		}
	}
	m := 0
	for _, a := range in.assocs {
		m += len(a.Types)
	}
	dst = binary.AppendUvarint(dst, uint64(m))
	for _, a := range in.assocs {
		for _, t := range a.Types {
			if k := (assocKey{t.Category, t.TypeID}); !sc.lastAssoc.set || sc.lastAssoc.key != k {
				sc.lastAssoc.key, sc.lastAssoc.idx, sc.lastAssoc.set = k, s.assocTypeIndex(t.Category, t.TypeID), true
			}
			dst = binary.AppendUvarint(dst, uint64(sc.lastAssoc.idx))
			dst = appendUvarintString(dst, a.ToID)
		}
	}
	return dst
}

// itemReader walks the data of one stored item.
type itemReader struct {
	s string
	i int
}

func (r *itemReader) uvarint() int {
	var x uint64
	var shift uint
	for {
		b := r.s[r.i]
		r.i++
		if b < 0x80 {
			return int(x | uint64(b)<<shift)
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
}

func (r *itemReader) str() string {
	n := r.uvarint()
	v := r.s[r.i : r.i+n]
	r.i += n
	return v
}

// view is a decoded handle on a stored item. Guarded by Server.mu.
type view struct {
	it       *storedItem
	batch    *batchRecord // holds the item's data
	created  *batchRecord // its time is the item's createdate
	modified *batchRecord // its time is the item's hs_lastmodifieddate
	trace    string
	props    string // the encoded properties, starting with their count
}

func (s *Server) view(it *storedItem) view {
	b := &s.batches[it.batch]
	r := itemReader{s: b.data, i: int(it.off)}
	trace := r.str()
	v := view{it: it, batch: b, created: b, modified: b, trace: trace, props: b.data[r.i:]}
	if len(s.meta) > 0 {
		if m, ok := s.meta[it.idNum]; ok {
			v.created, v.modified = &s.batches[m.created], &s.batches[m.modified]
		}
	}
	return v
}

// createdAt is the commit time of the batch that created it. Guarded by Server.mu.
func (s *Server) createdAt(it *storedItem) time.Time {
	if len(s.meta) > 0 {
		if m, ok := s.meta[it.idNum]; ok {
			return s.batches[m.created].created
		}
	}
	return s.batches[it.batch].created
}

// id is the item's id as a string.
func (v view) id() string { return strconv.FormatInt(v.it.idNum, 10) }

// propRef is a property name resolved for reading stored items.
type propRef struct {
	kind int // refStored, refID, refCreated or refModified
	idx  int // the interned name; -1 if no item holds the property
}

const (
	refStored   = iota // a property the client set
	refID              // hs_object_id
	refCreated         // createdate
	refModified        // hs_lastmodifieddate
)

// ref resolves name. Guarded by Server.mu; the result is valid until the
// lock is released.
func (s *Server) ref(name string) propRef {
	switch name {
	case "hs_object_id":
		return propRef{kind: refID}
	case "createdate":
		return propRef{kind: refCreated}
	case "hs_lastmodifieddate":
		return propRef{kind: refModified}
	}
	idx, ok := s.nameIdx[name]
	if !ok {
		idx = -1
	}
	return propRef{kind: refStored, idx: idx}
}

// value returns the value of a property as the map of properties the
// emulator used to store held it: the stored non-empty value, or the
// derived hs_object_id, createdate and hs_lastmodifieddate.
func (s *Server) value(v view, r propRef) (string, bool) {
	switch r.kind {
	case refID:
		return v.id(), true
	case refCreated:
		return v.created.ts, true
	case refModified:
		return v.modified.ts, true
	}
	if r.idx < 0 {
		return "", false
	}
	rd := itemReader{s: v.props}
	for n := rd.uvarint(); n > 0; n-- {
		idx := rd.uvarint()
		l := rd.uvarint()
		if idx == r.idx {
			return rd.s[rd.i : rd.i+l], true
		}
		rd.i += l
	}
	return "", false
}

// get is value(v, s.ref(name)).
func (s *Server) get(v view, name string) (string, bool) { return s.value(v, s.ref(name)) }

// lineItem decodes a stored item as LineItems returns it.
func (s *Server) lineItem(it *storedItem) LineItem {
	v := s.view(it)
	r := itemReader{s: v.props}
	n := r.uvarint()
	props := make(map[string]string, n+len(systemProps))
	for ; n > 0; n-- {
		name := s.names[r.uvarint()]
		props[name] = r.str()
	}
	id := v.id()
	props["hs_object_id"] = id
	props["createdate"] = v.created.ts
	props["hs_lastmodifieddate"] = v.modified.ts
	var assocs []Association
	if m := r.uvarint(); m > 0 {
		assocs = make([]Association, m)
		for i := range assocs {
			assocs[i] = s.assocTypes[r.uvarint()]
			assocs[i].ToID = r.str()
		}
	}
	return LineItem{ID: id, Properties: props, Associations: assocs, TraceID: v.trace,
		CreatedAt: v.created.created, UpdatedAt: v.modified.created}
}

// storedAssoc is one stored association: an interned type and a target id.
type storedAssoc struct {
	typeIdx int
	toID    string
}

// decode returns the properties (sorted by name, without the derived
// ones) and associations of a stored item, for rewriting it. The strings
// share the batch record's memory. Guarded by Server.mu.
func (s *Server) decode(v view) (props []propKV, assocs []storedAssoc) {
	r := itemReader{s: v.props}
	n := r.uvarint()
	props = make([]propKV, 0, n)
	for ; n > 0; n-- {
		name := s.names[r.uvarint()]
		props = append(props, propKV{name: name, value: r.str()})
	}
	m := r.uvarint()
	assocs = make([]storedAssoc, 0, m)
	for ; m > 0; m-- {
		idx := r.uvarint()
		assocs = append(assocs, storedAssoc{typeIdx: idx, toID: r.str()})
	}
	return props, assocs
}

// appendStored appends the stored form of an item with trace id trace,
// props (sorted by name; empty values and the derived properties are left
// out) and assocs. Guarded by Server.mu.
func (s *Server) appendStored(dst []byte, trace string, props []propKV, assocs []storedAssoc) []byte {
	dst = appendUvarintString(dst, trace)
	n := 0
	for _, p := range props {
		if p.value != "" && !isSystemProp(p.name) {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, p := range props {
		if p.value != "" && !isSystemProp(p.name) {
			dst = binary.AppendUvarint(dst, uint64(s.nameIndex(p.name)))
			dst = appendUvarintString(dst, p.value)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(assocs)))
	for _, a := range assocs {
		dst = binary.AppendUvarint(dst, uint64(a.typeIdx))
		dst = appendUvarintString(dst, a.toID)
	}
	return dst
}

// addBatch appends a batch record holding data, committed at now, and
// returns its index. Guarded by Server.mu.
func (s *Server) addBatch(data []byte, now time.Time) uint32 {
	s.batches = append(s.batches, batchRecord{data: string(data), created: now, ts: formatInstant(now)})
	return uint32(len(s.batches) - 1)
}

// moveItem points it at its new data, at off in the batch record b. It
// keeps the item's createdate; modified tells whether b's time becomes its
// hs_lastmodifieddate. Guarded by Server.mu.
func (s *Server) moveItem(it *storedItem, b, off uint32, modified bool) {
	m, ok := s.meta[it.idNum]
	if !ok {
		m = itemMeta{created: it.batch, modified: it.batch}
	}
	if modified {
		m.modified = b
	}
	if s.meta == nil {
		s.meta = make(map[int64]itemMeta)
	}
	s.meta[it.idNum] = m
	it.batch, it.off = b, off
}
