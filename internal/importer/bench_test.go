package importer

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/schema"
)

// BenchmarkPrepare measures the importer's own work on each row before
// anything is sent: reading the CSV, mapping, checking against the
// portal's property definitions, encoding and batching (a --validate run).
func BenchmarkPrepare(b *testing.B) {
	const rows = 20000
	emu := newPortal(emulator.Config{})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := hubspot.NewClient(srv.Client(), srv.URL, hubspot.NewToken(token), "bench")
	if err != nil {
		b.Fatal(err)
	}
	props, err := c.Properties(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	data := generate(b, rows, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		o := options(b, data, nil)
		o.ValidateOnly, o.Schema = true, schema.New(props)
		sum, err := Run(context.Background(), o)
		if err != nil && sum == nil {
			b.Fatal(err)
		}
		if sum.Rows != rows {
			b.Fatalf("%d rows, want %d", sum.Rows, rows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
