package chunker

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/lineitems/importer/internal/hubspot"
)

func item(row int, name string) *Item {
	return Encode(row, []string{name}, "", hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": name})})
}

// run feeds names through a Chunker and returns the batches.
func run(t testing.TB, size int, names []string) []*Batch {
	c, err := New(size)
	if err != nil {
		t.Fatal(err)
	}
	var out []*Batch
	for i, n := range names {
		out = append(out, c.Add(item(i+1, n))...)
	}
	return append(out, c.Flush()...)
}

// check asserts the Chunker's guarantees.
func check(t testing.TB, size int, names []string, batches []*Batch) {
	t.Helper()
	seen := map[int]bool{}
	for bi, b := range batches {
		if len(b.Items) == 0 || len(b.Items) > size {
			t.Fatalf("batch %d has %d items (size %d)", bi, len(b.Items), size)
		}
		var req hubspot.BatchCreateRequest
		if err := json.Unmarshal(b.Body, &req); err != nil {
			t.Fatalf("batch %d body is not JSON: %v", bi, err)
		}
		if len(req.Inputs) != len(b.Items) {
			t.Fatalf("batch %d body has %d inputs for %d items", bi, len(req.Inputs), len(b.Items))
		}
		inBatch := map[string]bool{}
		for i, it := range b.Items {
			if seen[it.Row] {
				t.Fatalf("row %d in two batches", it.Row)
			}
			seen[it.Row] = true
			if req.Inputs[i].ObjectWriteTraceID != it.TraceID() {
				t.Fatalf("body input %d has trace id %q, item row %d", i, req.Inputs[i].ObjectWriteTraceID, it.Row)
			}
			name := req.Inputs[i].Properties.Value("name")
			if name != names[it.Row-1] {
				t.Fatalf("row %d sent as %q, want %q", it.Row, name, names[it.Row-1])
			}
			if inBatch[name] {
				t.Fatalf("batch %d holds two identical inputs %q", bi, name)
			}
			inBatch[name] = true
		}
	}
	if len(seen) != len(names) {
		t.Fatalf("%d rows came out of %d", len(seen), len(names))
	}
}

func TestChunker(t *testing.T) {
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	cases := []struct {
		name       string
		size       int
		names      []string
		maxBatches int // no more batches than this
	}{
		{"empty", 100, nil, 0},
		{"one", 100, []string{"a"}, 1},
		{"exactly full", 3, []string{"a", "b", "c"}, 1},
		{"250 distinct in 100s", 100, many(250, func(i int) string { return fmt.Sprint(i) }), 3},
		{"duplicates wait for the next batch", 3, []string{"a", "a", "b", "c", "d"}, 2},
		{"all identical: one per batch", 10, many(25, func(int) string { return "same" }), 25},
		{"pairs", 4, many(20, func(i int) string { return fmt.Sprint(i / 2) }), 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := run(t, tc.size, tc.names)
			check(t, tc.size, tc.names, b)
			if len(b) > tc.maxBatches {
				t.Errorf("%d batches, want at most %d", len(b), tc.maxBatches)
			}
		})
	}
}

func TestNewRejectsSizes(t *testing.T) {
	for _, n := range []int{0, -1, 101} {
		if _, err := New(n); err == nil {
			t.Errorf("New(%d) accepted", n)
		}
	}
}

func FuzzChunker(f *testing.F) {
	f.Add(uint8(3), []byte("aabbcdaa"))
	f.Add(uint8(100), []byte("abc"))
	f.Add(uint8(1), []byte("zzzz"))
	f.Fuzz(func(t *testing.T, size uint8, data []byte) {
		s := int(size%hubspot.MaxBatchInputs) + 1
		names := make([]string, len(data))
		for i, b := range data {
			names[i] = string(rune('a' + b%8)) // few distinct values: many duplicates
		}
		check(t, s, names, run(t, s, names))
	})
}

// BenchmarkChunker measures encoding one row with an Encoder, as the
// importer does, and batching it.
func BenchmarkChunker(b *testing.B) {
	in := hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": "Enterprise plan seat", "price": "1234.50", "quantity": "12",
		"hs_sku": "SKU-000123", "description": "Annual subscription"})}
	c, _ := New(100)
	var e Encoder
	b.ReportAllocs()
	row := 0
	for b.Loop() {
		row++
		in.Properties.Set("hs_sku", fmt.Sprint(row))
		c.Add(e.Encode(row, nil, "", in))
	}
}

// BenchmarkNewBatch measures encoding one request body of 100 inputs from
// their already encoded JSON.
func BenchmarkNewBatch(b *testing.B) {
	items := make([]*Item, 100)
	for i := range items {
		items[i] = Encode(i+1, nil, "", hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": "Enterprise plan seat", "price": "1234.50",
			"quantity": "12", "hs_sku": fmt.Sprint("SKU-", i), "description": "Annual subscription"})})
	}
	b.ReportAllocs()
	for b.Loop() {
		NewBatch(items)
	}
}

// TestEncoderSharesBlocksSafely: items from an Encoder hold the same bytes
// as Encode's, whatever their size, and appending to one never touches
// another's.
func TestEncoderSharesBlocksSafely(t *testing.T) {
	var e Encoder
	var items []*Item
	var wants []string
	for i := range 2000 {
		name := strings.Repeat("x", i%7*i) // some longer than a quarter block
		in := hubspot.CreateInput{Properties: hubspot.PropertyValues{{Name: "name", Value: name}, {Name: "price", Value: fmt.Sprint(i)}}}
		it := e.Encode(i+1, nil, "", in)
		want := Encode(i+1, nil, "", in)
		if string(it.JSON) != string(want.JSON) || it.fp != want.fp {
			t.Fatalf("item %d: Encoder gives %s, Encode %s", i+1, it.JSON, want.JSON)
		}
		items = append(items, it)
		wants = append(wants, string(want.JSON))
	}
	for _, it := range items {
		_ = append(it.JSON, "garbage"...)
	}
	for i, it := range items {
		if string(it.JSON) != wants[i] {
			t.Fatalf("item %d changed after appends to others: %s", i+1, it.JSON)
		}
	}
}

// TestBatchHoldsItsItems: after NewBatch, each item's encoding is the same
// bytes, held in the batch's body (so the Encoder block it came from can
// be freed), and appending to one does not touch the body; splitting the
// batch again moves them into the halves' bodies.
func TestBatchHoldsItsItems(t *testing.T) {
	var e Encoder
	var items []*Item
	var wants []string
	for i := range 10 {
		it := e.Encode(i+1, nil, "", hubspot.CreateInput{Properties: hubspot.PropertyValues{{Name: "name", Value: strings.Repeat("n", i)}}})
		items = append(items, it)
		wants = append(wants, string(it.JSON))
	}
	within := func(b []byte, body []byte) bool {
		p, start := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(body)))
		return len(b) > 0 && p >= start && p+uintptr(len(b)) <= start+uintptr(len(body))
	}
	whole := NewBatch(items)
	halves := []*Batch{whole}
	for round := range 2 {
		for _, b := range halves {
			body := string(b.Body)
			for i, it := range b.Items {
				if string(it.JSON) != wants[it.Row-1] {
					t.Fatalf("round %d: item %d holds %s, want %s", round, i, it.JSON, wants[it.Row-1])
				}
				if !within(it.JSON, b.Body) {
					t.Fatalf("round %d: item %d's encoding is not in its batch's body", round, i)
				}
				_ = append(it.JSON, "garbage"...)
			}
			if string(b.Body) != body {
				t.Fatalf("round %d: appending to an item changed the body: %s", round, b.Body)
			}
		}
		halves = []*Batch{NewBatch(whole.Items[:5]), NewBatch(whole.Items[5:])}
	}
}

func TestIdents(t *testing.T) {
	items := []*Item{item(7, "a"), item(3, "b"), item(12, "c")}
	for i, it := range items {
		it.Ident = fmt.Sprint("k:", i)
	}
	got := NewBatch(items).Idents([]string{"x"})
	if fmt.Sprint(got) != "[x k:0 k:1 k:2]" {
		t.Errorf("Idents([x]) = %v, want [x k:0 k:1 k:2]", got)
	}
}

// TestContent: an input's content identity ignores its trace id and tells
// different inputs apart; it is the same in every process (FNV-1a, no
// random seed).
func TestContent(t *testing.T) {
	in := hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": "Widget", "price": "10"})}
	a, scratch := ContentOf(in, nil)
	if b, _ := ContentOf(in, scratch); a != b || len(a) != 22 {
		t.Errorf("same input, reused scratch: %q and %q", a, b)
	}
	other := hubspot.CreateInput{Properties: hubspot.ValuesOf(map[string]string{"name": "Widget", "price": "11"})}
	if c, _ := ContentOf(other, nil); c == a {
		t.Errorf("different inputs share the content identity %q", c)
	}
	// A fixed value, so that a change of encoding or hash (which would make
	// every earlier run's rows look new) fails here first.
	if want := "iEYmJNZsF9Paa4t01I_h0Q"; a != want {
		t.Errorf("ContentOf = %q; it changed from %q: rows journalled by earlier runs would no longer be recognised", a, want)
	}
}
