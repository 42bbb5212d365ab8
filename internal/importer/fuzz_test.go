package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/lineitems/importer/internal/chunker"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/mapping"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/rows"
	"github.com/lineitems/importer/internal/spillmap"
)

// FuzzPipeline feeds arbitrary bytes through the CSV reader, the mapping and
// the chunker, and checks that every data record comes out exactly once:
// either as a row failed before sending or as an input in exactly one
// batch, whose body is valid JSON carrying the row's trace id.
func FuzzPipeline(f *testing.F) {
	f.Add([]byte("Product,Price,Start,Billing,Deal\nWidget,10.50,03/15/2026,Monthly,1001\n"), uint8(100))
	f.Add([]byte("Product,Price,Start,Billing,Deal\r\n\"a\nb\",1,,,\r\nx,\"1,2\",,,\nx\"y,1\n,,,,\n,,,,\n"), uint8(2))
	f.Add([]byte("\xef\xbb\xbfProduct,Price,Start,Billing,Deal,error_row\n\xff,1,02/30/2026,Yearly,9,1\n"), uint8(1))
	f.Add([]byte("Product,Price\n\"unterminated\n"), uint8(3))
	spec, err := mapping.Load(strings.NewReader(badInputMapping))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		rd, err := rows.NewReader(bytes.NewReader(data))
		if err != nil {
			return // a file-level problem: nothing to account for
		}
		m, err := spec.Compile(rd.Header())
		if err != nil {
			return
		}
		var created, failed, doubt, notSent bytes.Buffer
		rep, err := report.NewWriter(&created, &failed, &doubt, &notSent, rd.Header())
		if err != nil {
			t.Fatal(err)
		}
		ch, _ := chunker.New(int(size%100) + 1)
		recheck, _ := chunker.New(int(size%100) + 1)
		out := make(chan *chunker.Batch)
		p := &producer{rd: rd, m: m, ch: ch, recheck: recheck, rep: rep, out: out, contents: spillmap.New(t.TempDir(), 2)}
		defer p.contents.Close()
		errc := make(chan error, 1)
		go func() { errc <- p.run(context.Background()); close(out) }()

		seen := map[int]string{}
		for b := range out {
			var req hubspot.BatchCreateRequest
			if err := jsonUnmarshal(b.Body, &req); err != nil {
				t.Fatalf("batch body is not JSON: %v\n%s", err, b.Body)
			}
			if len(req.Inputs) != len(b.Items) || len(b.Items) > int(size%100)+1 {
				t.Fatalf("batch of %d items has %d inputs (size %d)", len(b.Items), len(req.Inputs), size%100+1)
			}
			for i, it := range b.Items {
				if req.Inputs[i].ObjectWriteTraceID != strconv.Itoa(it.Row) {
					t.Fatalf("input %d has trace id %q for row %d", i, req.Inputs[i].ObjectWriteTraceID, it.Row)
				}
				if _, dup := seen[it.Row]; dup {
					t.Fatalf("row %d sent twice", it.Row)
				}
				seen[it.Row] = "sent"
			}
		}
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("producer: %v", err)
		}
		recs, err := csv.NewReader(bytes.NewReader(failed.Bytes())).ReadAll()
		if err != nil {
			t.Fatalf("failed.csv is not CSV: %v", err)
		}
		for _, r := range recs[1:] {
			row, _ := strconv.Atoi(r[len(r)-3])
			if _, dup := seen[row]; dup {
				t.Fatalf("row %d both %s and failed", row, seen[row])
			}
			seen[row] = "failed"
		}
		// Count the records on their own, to catch a row dropped at the end.
		// Blank rows are skipped: they are no line items.
		n := 0
		count, _ := rows.NewReader(bytes.NewReader(data))
		for {
			rec, err := count.Read()
			if err != nil {
				break
			}
			n++
			if rec.Blank {
				seen[rec.Row] = "skipped"
			}
		}
		if p.skipped != countOf(seen, "skipped") {
			t.Fatalf("%d blank rows skipped, %d blank rows in the input", p.skipped, countOf(seen, "skipped"))
		}
		for row := 1; row <= n; row++ {
			if _, ok := seen[row]; !ok {
				t.Fatalf("row %d of %d was dropped", row, n)
			}
		}
		if len(seen) != n {
			t.Fatalf("%d outcomes for %d rows", len(seen), n)
		}
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func countOf(m map[int]string, v string) int {
	n := 0
	for _, x := range m {
		if x == v {
			n++
		}
	}
	return n
}
