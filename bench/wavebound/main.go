// Command wavebound computes how late a wave of requests must go, under a
// portal that counts a request when its answer is ready, for its counts
// not to outrun the departures of the wave before it: the bound behind
// docs/rate.md's "Why not with 3–5 s".
//
// Two waves of n requests each, with answer times drawn independently and
// uniformly from [lo, hi). The old wave went at 0 and its answers are
// known; the new wave goes at one window plus d. The window never holds
// more than n when the new wave's k-th answer comes no sooner than the old
// wave's k-th answer plus the window, for every k: d ≥ max over k of
// (old k-th − new k-th). The sender knows the old answer times but not the
// new ones, so it must choose d with some chance of being wrong. The
// command prints the quantiles of that least d, and, for a few values of
// d, the mean number of the new wave's requests that find the window full
// (each a 429), and what a client delaying each of w waves after the first
// by d takes of the ceiling (the last window goes at (w−1) windows, its
// answers take the mean answer time to come).
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

func main() {
	n := flag.Int("n", 190, "requests per wave (the portal's limit per window)")
	lo := flag.Duration("lo", 3*time.Second, "shortest answer time")
	hi := flag.Duration("hi", 5*time.Second, "longest answer time")
	windows := flag.Int("windows", 7, "windows of requests in the run")
	interval := flag.Duration("interval", 10*time.Second, "the portal's window")
	trials := flag.Int("trials", 4000, "pairs of waves drawn")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()

	rng := rand.New(rand.NewPCG(*seed, 0))
	draw := func() []float64 {
		w := make([]float64, *n)
		for i := range w {
			w[i] = lo.Seconds() + rng.Float64()*(hi.Seconds()-lo.Seconds())
		}
		slices.Sort(w)
		return w
	}
	var least []float64
	delays := []float64{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4}
	over := make([]float64, len(delays))
	for range *trials {
		old, next := draw(), draw()
		d := 0.0
		for k := range old {
			d = max(d, old[k]-next[k])
		}
		least = append(least, d)
		for i, d := range delays {
			over[i] += float64(excess(old, next, d))
		}
	}
	slices.Sort(least)
	mean := (lo.Seconds() + hi.Seconds()) / 2
	best := float64(*windows-1)*interval.Seconds() + mean
	share := func(d float64) float64 {
		// The perfect client's last answer comes at hi after its last wave;
		// the ceiling counts the mean.
		return best / (float64(*windows-1)*(interval.Seconds()+d) + hi.Seconds())
	}
	fmt.Printf("waves of %d, answers in %v–%v, %d windows, %d pairs of waves\n\n", *n, *lo, *hi, *windows, *trials)
	fmt.Println("| chance the new wave meets a full window | least d, s | share of the ceiling |")
	fmt.Println("|---:|---:|---:|")
	for _, q := range []float64{0.5, 0.1, 0.05, 0.01} {
		d := least[int((1-q)*float64(len(least)))]
		fmt.Printf("| %.0f%% | %.3f | %.1f%% |\n", 100*q, d, 100*share(d))
	}
	fmt.Println()
	fmt.Println("| d, s | requests of the new wave refused, mean | of the wave | share of the ceiling |")
	fmt.Println("|---:|---:|---:|---:|")
	for i, d := range delays {
		m := over[i] / float64(*trials)
		fmt.Printf("| %.2f | %.2f | %.2f%% | %.1f%% |\n", d, m, 100*m/float64(*n), 100*share(d))
	}
}

// excess is the most the new wave's answers (each counted at d plus its
// answer time, a window after the old wave) outrun the old wave's
// departures: how many of the new wave find the window full.
func excess(old, next []float64, d float64) int {
	most := 0
	for k, t := range next {
		left := sort.SearchFloat64s(old, t+d) // old answers that left by then (strictly before)
		most = max(most, k+1-left)
	}
	return most
}
