// Command tabulate reads what bench/run.sh left in its output folder and
// prints the results as Markdown tables (for BENCHMARKS.md).
//
//	go run ./bench/tabulate bench/out
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tabulate DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if b, err := os.ReadFile(filepath.Join(dir, "machine.txt")); err == nil {
		fmt.Println(strings.TrimSpace(string(b)))
		fmt.Println()
	}
	pipeline(dir)
	ceiling(dir)
	peer(dir)
}

// timeV reads GNU time -v output: CPU seconds (user+system), peak RSS in
// MiB and wall seconds.
func timeV(path string) (cpu, rssMiB, wall float64, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, found := strings.Cut(strings.TrimSpace(sc.Text()), ": ")
		if !found {
			continue
		}
		switch k {
		case "User time (seconds)", "System time (seconds)":
			x, _ := strconv.ParseFloat(v, 64)
			cpu += x
		case "Maximum resident set size (kbytes)":
			x, _ := strconv.ParseFloat(v, 64)
			rssMiB = x / 1024
		case "Elapsed (wall clock) time (h:mm:ss or m:ss)":
			parts := strings.Split(v, ":")
			mult := 1.0
			for i := len(parts) - 1; i >= 0; i-- {
				x, _ := strconv.ParseFloat(parts[i], 64)
				wall += x * mult
				mult *= 60
			}
		}
	}
	return cpu, rssMiB, wall, true
}

func readJSON(path string) map[string]any {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func num(m map[string]any, k string) float64 {
	if m == nil {
		return 0
	}
	switch v := m[k].(type) {
	case float64:
		return v
	case map[string]any:
		return 0
	}
	return 0
}

func pipeline(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "pipeline-*"))
	if len(matches) == 0 {
		return
	}
	slices.SortFunc(matches, func(a, b string) int { return pipelineRows(a) - pipelineRows(b) })
	fmt.Println("### Pipeline cost (unlimited emulator on the same machine)")
	fmt.Println()
	fmt.Println("| rows | run | created | wall s | rows/s | importer CPU s per 1M rows | importer peak RSS MiB | emulator CPU s per 1M rows | emulator peak RSS MiB | encoding/csv alone, rows/s |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, d := range matches {
		floor := num(readJSON(filepath.Join(d, "csvfloor.json")), "rows_per_second")
		runs, _ := filepath.Glob(filepath.Join(d, "run-*"))
		var rates, icpus, ecpus, irsss, ersss []float64
		for _, r := range runs {
			sum := readJSON(filepath.Join(r, "importer.json"))
			icpu, irss, _, _ := timeV(filepath.Join(r, "importer.time"))
			ecpu, erss, _, _ := timeV(filepath.Join(r, "emulator.time"))
			rows := num(sum, "rows")
			if rows == 0 {
				continue
			}
			rate := num(sum, "rows_per_second")
			fmt.Printf("| %.0f | %s | %.0f | %.1f | %.0f | %.1f | %.1f | %.1f | %.0f | %.0f |\n", rows, strings.TrimPrefix(filepath.Base(r), "run-"),
				num(sum, "created"), num(sum, "elapsed_seconds"), rate, icpu/rows*1e6, irss, ecpu/rows*1e6, erss, floor)
			rates, icpus, ecpus = append(rates, rate), append(icpus, icpu/rows*1e6), append(ecpus, ecpu/rows*1e6)
			irsss, ersss = append(irsss, irss), append(ersss, erss)
		}
		if len(rates) > 1 {
			fmt.Printf("| %d | **median** (RSS: highest) | | | **%.0f** | %.1f | %.1f | %.1f | %.0f | |\n", pipelineRows(d),
				median(rates), median(icpus), slices.Max(irsss), median(ecpus), slices.Max(ersss))
		}
	}
	fmt.Println()
}

// pipelineRows is the row count in a pipeline-ROWS folder's name.
func pipelineRows(d string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "pipeline-"))
	return n
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ceiling(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "ceiling-*"))
	shared := filepath.Join(dir, "shared-190")
	if len(matches) == 0 {
		return
	}
	fmt.Println("### At the ceiling (--rate 50, above the portal's limit: learned from the headers)")
	fmt.Println()
	fmt.Println("Latency 1s is uniform in 0.5–1.5 s, 4s in 3–5 s. The ceiling is what a client that fills every window needs: call k + Max goes one window after call k, so the last call goes at ⌊(C − 1) / Max⌋ × 10 s; its last answer comes after the slowest answer time, as in issue 14's 31.5 s for 74,000 rows with answers of 0.5–1.5 s. The share by the mean answer time (what no client reaches: the last window's slowest answer ends the run) is given beside it.")
	fmt.Println()
	fmt.Println("| portal limit | answers take | counted | rows | calls C (creates + reads) | wall s | ceiling s | share of the ceiling | share by the mean answer | 429s | 429s / calls | most calls in a 10 s window | counting found | peak RSS MiB |")
	fmt.Println("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
	for _, d := range matches {
		// ceiling-MAX-LATENCY-MODEL, or ceiling-MAX-LATENCY-MODEL-WINDOWS
		// for a run longer than 7 windows
		parts := strings.Split(strings.TrimPrefix(filepath.Base(d), "ceiling-"), "-")
		if len(parts) != 3 && len(parts) != 4 {
			continue
		}
		max, _ := strconv.Atoi(parts[0])
		lat, model := parts[1], parts[2]
		if len(parts) == 4 {
			model += ", " + parts[3] + " windows"
		}
		mean := map[string]float64{"0": 0, "1s": 1, "4s": 4}[lat]
		slowest := map[string]float64{"0": 0, "1s": 1.5, "4s": 5}[lat]
		sum := readJSON(filepath.Join(d, "importer.json"))
		emu := readJSON(filepath.Join(d, "emulator.json"))
		// The portal counted every request: the creates and the read of the
		// property definitions at the start.
		calls, el := num(emu, "requests"), num(sum, "elapsed_seconds")
		if calls == 0 || el == 0 {
			continue
		}
		last := math.Floor((calls-1)/float64(max)) * 10
		best := last + slowest
		found := "completion"
		extra, _ := sum["extra"].(map[string]any)
		if v, _ := extra["portal_counts_requests_on_arrival"].(bool); v {
			found = "arrival"
		}
		_, rss, _, _ := timeV(filepath.Join(d, "importer.time"))
		fmt.Printf("| %d per 10 s | %s | on %s | %.0f | %.0f | %.1f | %.1f | %.1f%% | %.1f%% | %.0f | %.2f%% | %.0f | %s | %.1f |\n", max, lat, model, num(sum, "rows"), calls, el, best,
			100*best/el, 100*(last+mean)/el, num(sum, "throttled"), 100*num(sum, "throttled")/calls, num(emu, "max_in_window"), found, rss)
	}
	fmt.Println()
	if sum := readJSON(filepath.Join(shared, "importer.json")); sum != nil {
		other := readJSON(filepath.Join(shared, "otherapp.json"))
		const max = 190.0
		calls, el := num(sum, "requests"), num(sum, "elapsed_seconds")
		otherOK := num(other, "ok")
		active := el - 20
		otherRate := otherOK / active // per second, over the time both ran
		left := max/10 - otherRate
		best := 20 + (calls-3*max)/left
		// Had the other app got all it asked for, half the limit.
		bestHalf := 20 + (calls-3*max)/(max/20)
		fmt.Println("Another app starts 20 s into the run and asks for half of the portal's limit (95 of 190 per 10 s); answers take 0.5–1.5 s:")
		fmt.Println()
		fmt.Println("| calls | wall s | other app: sent, created, throttled | other app from 40 s on: sent, throttled | perfect client s, the other app getting half | share of what is left | left by the other app's created calls, calls/s | perfect client s | share of that | importer 429s / calls |")
		fmt.Println("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|")
		fmt.Printf("| %.0f | %.1f | %.0f, %.0f, %.0f | %.0f, %.0f | %.1f | %.1f%% | %.2f | %.1f | %.1f%% | %.2f%% |\n", calls, el, num(other, "sent"), otherOK, num(other, "throttled"),
			num(other, "sent_after_40s"), num(other, "throttled_after_40s"), bestHalf, 100*bestHalf/el, left, best, 100*best/el, 100*num(sum, "throttled")/calls)
		fmt.Println()
	}
}

func peer(dir string) {
	var any bool
	for _, f := range []string{"none", "gateway"} {
		if _, err := os.Stat(filepath.Join(dir, "peer-"+f+"-importer")); err == nil {
			any = true
		}
	}
	if !any {
		return
	}
	fmt.Println("### Side by side with @hubspot/api-client (190 per 10 s, answers in 0.5–1.5 s, same file, same emulator settings)")
	fmt.Println()
	fmt.Println("| faults | tool | rows | created (distinct in HubSpot) | duplicates in HubSpot | rows missing from HubSpot | wall s | rows/s | peak RSS MiB | 429s |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, f := range []string{"none", "gateway"} {
		var rates [2]float64
		for i, tool := range []string{"importer", "node"} {
			d := filepath.Join(dir, "peer-"+f+"-"+tool)
			emu := readJSON(filepath.Join(d, "emulator.json"))
			var rows, wall, rss float64
			if tool == "importer" {
				sum := readJSON(filepath.Join(d, "importer.json"))
				rows, wall = num(sum, "rows"), num(sum, "elapsed_seconds")
				_, rss, _, _ = timeV(filepath.Join(d, "importer.time"))
			} else {
				res := readJSON(filepath.Join(d, "peer.json"))
				rows, wall = num(res, "rows"), num(res, "elapsed_seconds")
				_, rss, _, _ = timeV(filepath.Join(d, "peer.time"))
			}
			if rows == 0 || wall == 0 {
				continue
			}
			rates[i] = rows / wall
			distinct := num(emu, "distinct_values")
			label := map[string]string{"importer": "importer", "node": "@hubspot/api-client"}[tool]
			if tool == "importer" && f == "gateway" {
				label += " --key-property"
			}
			fmt.Printf("| %s | %s | %.0f | %.0f | %.0f | %.0f | %.1f | %.0f | %.1f | %.0f |\n", f, label, rows, distinct,
				num(emu, "duplicates"), rows-distinct, wall, rows/wall, rss, num(emu, "throttled"))
		}
		if rates[1] > 0 {
			fmt.Printf("| %s | ratio importer / peer | | | | | | %.2f× | | |\n", f, rates[0]/rates[1])
		}
	}
	fmt.Println()
}
