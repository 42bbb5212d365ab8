// Command csvfloor reads a CSV file with encoding/csv and does nothing else:
// the floor any CSV importer's throughput is compared with.
//
//	go run ./bench/csvfloor FILE
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: csvfloor FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	start := time.Now()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	rows := -1 // the header
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		rows++
	}
	el := time.Since(start).Seconds()
	fmt.Printf("{\"rows\":%d,\"elapsed_seconds\":%.3f,\"rows_per_second\":%.0f}\n", rows, el, float64(rows)/el)
}
