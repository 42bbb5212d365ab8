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
// (each a 429), and what a client delaying each of the windows − 1 waves
// after the first by d takes of the ceiling (its last wave goes at
// (windows − 1) × (window + d) and its last answer comes the longest answer
// time later; the ceiling counts the mean answer time). It models one
// strategy: the same d for every wave, chosen without looking at the old
// wave's answer times. With -adaptive it also prints what a sender that
// chooses each wave's d from the old wave's answer times reaches: for each
// of a few prices λ, the d that minimizes d + λ × the wave's expected
// refusals (estimated from 300 new waves drawn for each of 300 old ones).
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
	adaptive := flag.Bool("adaptive", false, "also print what a sender choosing each wave's delay from the old wave's answer times reaches")
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
	delays := []float64{0, 0.05, 0.1, 0.15, 0.16, 0.17, 0.2, 0.25, 0.3, 0.35, 0.4}
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
	for _, q := range []float64{0.5, 0.25, 0.2, 0.1, 0.05, 0.01} {
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
	if *adaptive {
		adapt(draw, *n, share)
	}
}

// adapt prints what a sender reaches that knows the old wave's answer
// times and, for each old wave, picks the delay that minimizes the delay
// plus λ times the new wave's expected refusals there. The run's time
// grows with the sum of the delays, so the mean delay gives its share.
func adapt(draw func() []float64, n int, share func(float64) float64) {
	const olds, news = 300, 300
	var grid []float64
	for d := 0.0; d <= 0.5; d += 0.005 {
		grid = append(grid, d)
	}
	refused := make([][]float64, olds) // per old wave, per delay: mean refused
	for o := range refused {
		old := draw()
		refused[o] = make([]float64, len(grid))
		for range news {
			next := draw()
			for i, d := range grid {
				refused[o][i] += float64(excess(old, next, d)) / news
			}
		}
	}
	fmt.Println()
	fmt.Printf("A sender choosing each wave's delay from the old wave's answer times (%d old waves, %d new for each):\n\n", olds, news)
	fmt.Println("| λ, s per refused request | mean delay, s | requests of the new wave refused, mean | of the wave | share of the ceiling |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, price := range []float64{0.02, 0.03, 0.04, 0.05, 0.06, 0.08} {
		var delay, lost float64
		for o := range refused {
			best, at := math.Inf(1), 0
			for i, d := range grid {
				if c := d + price*refused[o][i]; c < best {
					best, at = c, i
				}
			}
			delay += grid[at] / olds
			lost += refused[o][at] / olds
		}
		fmt.Printf("| %.2f | %.3f | %.2f | %.2f%% | %.1f%% |\n", price, delay, lost, 100*lost/float64(n), 100*share(delay))
	}
}

// excess is the most the new wave's answers (each counted at d plus its
// answer time, a window after the old wave) outrun the old wave's
// departures: how many of the new wave find the window full. Both waves
// are sorted, so the old answers that left by each new one (strictly
// before it) are counted in one pass.
func excess(old, next []float64, d float64) int {
	most, left := 0, 0
	for k, t := range next {
		for left < len(old) && old[left] < t+d {
			left++
		}
		most = max(most, k+1-left)
	}
	return most
}
