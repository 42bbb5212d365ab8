// Package chunker groups mapped rows into batch-create (or batch-upsert)
// requests.
//
// A [Chunker] guarantees that every item added comes out in exactly one
// batch, that no batch holds more than its size, and that no batch holds
// two items with identical inputs (HubSpot merges those silently, so one of
// them would get no result). Each batch's request body is encoded once,
// when the batch is closed; callers resend the same bytes.
package chunker

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"slices"
	"strconv"

	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/rowstate"
)

// Item is one mapped row on its way to HubSpot.
type Item struct {
	Row    int      // 1-based data record number; also its objectWriteTraceId
	Record []string // the row's cells, for the reports
	Key    string   // the mapping's key value, "" if none
	JSON   []byte   // the encoded CreateInput, trace id included
	// State is where the row stands with HubSpot: whether a request that
	// carried it may have been processed, and whether it has an outcome.
	State rowstate.Row
	// Ident is the row's identity in the journal: its key, or its content
	// and occurrence; FailIdent is its content's, under which a failure is
	// remembered. Set by the caller; "" means the row is not journalled.
	Ident, FailIdent string
	// Version, in upsert mode, is the version of the row's values (its
	// content), journalled with its outcome: the next run sends the key
	// again only with other values.
	Version string
	// Associations are the row's associations in upsert mode, where the
	// input carries none: they are made once the row is upserted. nil in
	// create mode (they are in JSON).
	Associations []hubspot.Association
	fp           uint64 // fingerprint of the input without its trace id
}

// ContentOf identifies an input, trace id aside, in 22 characters (the
// FNV-1a 128 hash of its encoding): two rows that would send the same
// input have the same content, in any run of any version of the importer
// that encodes inputs the same way. scratch is reused for the encoding and
// returned.
func ContentOf(in hubspot.CreateInput, scratch []byte) (string, []byte) {
	js, ts, te := hubspot.AppendInput(scratch[:0], in, "0")
	f := fnv.New128a()
	_, _ = f.Write(js[:ts])
	_, _ = f.Write(js[te:])
	var sum [16]byte
	return base64.RawURLEncoding.EncodeToString(f.Sum(sum[:0])), js
}

// TraceID is the objectWriteTraceId the item is sent with.
func (it *Item) TraceID() string { return strconv.Itoa(it.Row) }

// Batch is one batch-create request.
type Batch struct {
	Items []*Item
	Body  []byte // the encoded BatchCreateRequest for Items
	// Recheck marks rows that an earlier run sent without getting a clear
	// answer: they may exist already and are looked up before sending.
	Recheck bool
	// Ticket is the journal's ticket for the record that the batch's rows
	// are sent (see journal.Journal.Queue), set by whoever hands the batch
	// over; 0 if none.
	Ticket uint64
}

// Idents appends the identities of b's items to dst, in order.
func (b *Batch) Idents(dst []string) []string {
	for _, it := range b.Items {
		dst = append(dst, it.Ident)
	}
	return dst
}

// Encode builds an Item from a mapped input, its encoding in memory of its
// own. An [Encoder] does the same for many items at less cost.
func Encode(row int, record []string, key string, in hubspot.CreateInput) *Item {
	it := &Item{Row: row, Record: record, Key: key}
	var ts, te int
	it.JSON, ts, te = hubspot.AppendInput(make([]byte, 0, 512), in, strconv.Itoa(row))
	it.fingerprint(ts, te)
	return it
}

// fingerprint hashes the item's encoding without its trace id field, which
// spans JSON[ts:te].
func (it *Item) fingerprint(ts, te int) {
	var h maphash.Hash
	h.SetSeed(seed)
	_, _ = h.Write(it.JSON[:ts])
	_, _ = h.Write(it.JSON[te:])
	it.fp = h.Sum64()
}

// An Encoder builds Items like [Encode], placing their encodings side by
// side in shared blocks of memory instead of one allocation each. A block
// stays in memory while any of its items does. It is not safe for
// concurrent use.
type Encoder struct {
	// IDProperty, when set, makes upsert inputs (see
	// hubspot.AppendUpsertInput) named by the item's key in this property,
	// with the associations kept on the Item; "" makes create inputs.
	IDProperty string

	scratch []byte
	block   []byte
}

const blockSize = 64 << 10

// Encode builds an Item from a mapped input.
func (e *Encoder) Encode(row int, record []string, key string, in hubspot.CreateInput) *Item {
	it := &Item{Row: row, Record: record, Key: key}
	var ts, te int
	if e.IDProperty != "" {
		e.scratch, ts, te = hubspot.AppendUpsertInput(e.scratch[:0], in, e.IDProperty, key, strconv.Itoa(row))
		if len(in.Associations) > 0 {
			it.Associations = slices.Clone(in.Associations)
		}
	} else {
		e.scratch, ts, te = hubspot.AppendInput(e.scratch[:0], in, strconv.Itoa(row))
	}
	n := len(e.scratch)
	if n > blockSize/4 {
		it.JSON = slices.Clone(e.scratch)
	} else {
		if cap(e.block)-len(e.block) < n {
			e.block = make([]byte, 0, blockSize)
		}
		start := len(e.block)
		e.block = append(e.block, e.scratch...)
		it.JSON = e.block[start : start+n : start+n]
	}
	it.fingerprint(ts, te)
	return it
}

var seed = maphash.MakeSeed()

// NewBatch encodes a batch of items. It is also how a batch is split.
func NewBatch(items []*Item) *Batch {
	n := len(`{"inputs":[]}`)
	for _, it := range items {
		n += len(it.JSON) + 1
	}
	body := make([]byte, 0, n)
	body = append(body, `{"inputs":[`...)
	for i, it := range items {
		if i > 0 {
			body = append(body, ',')
		}
		// The item's encoding then points into the body (which never grows
		// past n), so that the memory it came from (an Encoder's block, or
		// a batch that was split) is not kept alive beside the body.
		start := len(body)
		body = append(body, it.JSON...)
		it.JSON = body[start:len(body):len(body)]
	}
	body = append(body, "]}"...)
	return &Batch{Items: items, Body: body}
}

// Chunker collects items into batches. It is not safe for concurrent use.
type Chunker struct {
	size     int
	cur      []*Item
	seen     map[uint64]struct{}
	deferred []*Item
}

// New returns a Chunker for batches of at most size items; size must be
// between 1 and hubspot.MaxBatchInputs.
func New(size int) (*Chunker, error) {
	if size < 1 || size > hubspot.MaxBatchInputs {
		return nil, fmt.Errorf("batch size %d: must be between 1 and %d", size, hubspot.MaxBatchInputs)
	}
	return &Chunker{size: size, seen: make(map[uint64]struct{}, size)}, nil
}

// Add takes an item and returns the batches it completed, if any.
// An item identical to one already in the open batch waits for a later
// batch. At most size items wait; past that the open batch is closed early.
func (c *Chunker) Add(it *Item) []*Batch {
	var out []*Batch
	if _, dup := c.seen[it.fp]; dup {
		c.deferred = append(c.deferred, it)
		if len(c.deferred) >= c.size {
			out = append(out, c.close())
			out = append(out, c.drain()...)
		}
		return out
	}
	c.put(it)
	if len(c.cur) == c.size {
		out = append(out, c.close())
		out = append(out, c.drain()...)
	}
	return out
}

// Flush closes the open batch and empties the waiting items into further
// batches. The Chunker is empty afterwards.
func (c *Chunker) Flush() []*Batch {
	var out []*Batch
	for len(c.cur) > 0 || len(c.deferred) > 0 {
		if len(c.cur) > 0 {
			out = append(out, c.close())
		}
		out = append(out, c.drain()...)
	}
	return out
}

func (c *Chunker) put(it *Item) {
	c.cur = append(c.cur, it)
	c.seen[it.fp] = struct{}{}
}

func (c *Chunker) close() *Batch {
	b := NewBatch(c.cur)
	c.cur = make([]*Item, 0, c.size)
	clear(c.seen)
	return b
}

// drain moves waiting items into the open batch, which is empty when it
// is called, closing batches that fill up on the way. It returns with fewer
// than size items waiting.
func (c *Chunker) drain() []*Batch {
	var out []*Batch
	for len(c.deferred) > 0 {
		waiting := c.deferred
		c.deferred = nil
		for _, it := range waiting {
			if _, dup := c.seen[it.fp]; dup || len(c.cur) == c.size {
				c.deferred = append(c.deferred, it)
				continue
			}
			c.put(it)
		}
		if len(c.cur) == c.size || len(c.deferred) >= c.size {
			out = append(out, c.close())
			continue
		}
		break
	}
	return out
}
