// Command gencsv writes generated line-item CSV files: the committed sample
// (--sample) or a file of any size for benchmarks, streamed to standard
// output in constant memory.
//
//	go run ./cmd/gencsv --rows 1000000 --seed 1 > big.csv
//	go run ./cmd/gencsv --sample > samples/line_items.csv
//	go run ./cmd/gencsv --mapping > samples/mapping.yaml
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/lineitems/importer/internal/sample"
)

func main() {
	rows := flag.Int("rows", 1000, "rows to generate")
	seed := flag.Uint64("seed", 1, "random seed")
	smp := flag.Bool("sample", false, "write the committed sample file instead")
	mapping := flag.Bool("mapping", false, "write the mapping that fits the generated columns")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	var err error
	switch {
	case *mapping:
		_, err = w.WriteString(sample.Mapping)
	case *smp:
		err = sample.WriteSample(w)
	default:
		err = sample.Write(w, *rows, *seed, nil)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencsv:", err)
		os.Exit(1)
	}
}
