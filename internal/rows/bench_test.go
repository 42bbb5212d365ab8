package rows

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/lineitems/importer/internal/sample"
)

// benchRows is the size of the benchmark files: enough rows that the
// set-up is noise.
const benchRows = 200_000

var benchFiles = sync.OnceValue(func() map[string][]byte {
	sample := generate(benchRows, 0)
	cp1252, _ := charmap.Windows1252.NewEncoder().Bytes(sample)
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(sample)
	return map[string][]byte{
		"sample":       sample,
		"plain":        generate(benchRows, -1),
		"quoted":       generate(benchRows, 1),
		"windows-1252": cp1252,
		"utf-16le":     utf16,
	}
})

// generate writes a line-item file of n rows of internal/sample's
// (sample.NewRow) with encoding/csv: ten columns, about a quarter of the
// rows with a quoted field holding a comma. quoted < 0 leaves out every
// quote (the description is replaced by one without a comma); quoted > 0
// quotes every field.
func generate(n int, quoted int) []byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"SKU", "Product", "Description", "Qty", "Unit Price", "Discount %", "Currency", "Billing", "Start", "Deal ID"})
	w.Flush()
	for i := 1; i <= n; i++ {
		r := sample.NewRow(i, rnd)
		if quoted < 0 {
			r.Description = fmt.Sprintf("%s %d", r.Product, i)
		}
		rec := []string{r.SKU, r.Product, r.Description, r.Qty, r.UnitPrice, r.Discount, r.Currency, r.Billing, r.Start, r.DealID}
		if quoted > 0 {
			b.WriteString(`"` + rec[0])
			for _, f := range rec[1:] {
				b.WriteString(`","` + f)
			}
			b.WriteString("\"\n")
			continue
		}
		_ = w.Write(rec)
		w.Flush()
	}
	w.Flush()
	return b.Bytes()
}

// BenchmarkRead reads generated files of 200,000 rows: "sample" is shaped
// like internal/sample's files, "plain" has no quotes at all and "quoted"
// quotes every field; "windows-1252" and "utf-16le" (with a byte order
// mark) are "sample" in those encodings, decoded as they are read.
func BenchmarkRead(b *testing.B) {
	for _, name := range []string{"sample", "plain", "quoted", "windows-1252", "utf-16le"} {
		data := benchFiles()[name]
		var o Options
		if name == "windows-1252" {
			o.Encoding = name
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := NewReaderOptions(bytes.NewReader(data), o)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					rec, err := r.Read()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil || rec.Err != nil {
						b.Fatal(err, rec.Err)
					}
					n++
				}
				if n != benchRows {
					b.Fatalf("%d rows, want %d", n, benchRows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
		})
	}
}
