package command

import (
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/lineitems/importer/internal/importer"
)

// BarWriter is the terminal's standard error shared by log lines and the
// progress bar: a log line first clears the bar, then the bar is drawn
// again below it, so the two never mix on one line. Set W before use.
type BarWriter struct {
	mu  sync.Mutex
	W   io.Writer
	bar *progressbar.ProgressBar // nil until a bar is shown
}

func (b *BarWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil {
		return b.W.Write(p)
	}
	_ = b.bar.Clear()
	n, err := b.W.Write(p)
	_ = b.bar.RenderBlank()
	return n, err
}

// Sync lets zap flush through the writer.
func (b *BarWriter) Sync() error { return nil }

// newBar shows a progress bar of total rows (-1 when unknown) on w, and
// returns the function that updates it and the one that removes it. While
// requests wait for HubSpot's rate window the bar says so; the last update
// of a run that settled its whole input fills the bar.
func (b *BarWriter) newBar(total int) (update func(importer.Progress), finish func()) {
	bar := progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(bareWriter{b}),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionUseANSICodes(true),
		// No spinner goroutine: the bar is drawn only under b.mu.
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
	b.mu.Lock()
	b.bar = bar
	b.mu.Unlock()
	update = func(p importer.Progress) {
		b.mu.Lock()
		defer b.mu.Unlock()
		rows := int64(p.Rows)
		if p.Done && total >= 0 {
			rows = int64(total) // every row was settled: the count of records and of rows may differ (blank rows)
		}
		bar.Describe(describe(p, total))
		_ = bar.Set64(rows)
		_ = bar.RenderBlank() // the description changes even when the count does not
	}
	finish = func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		_ = bar.Exit()
		b.bar = nil
		_, _ = b.W.Write([]byte("\n")) // the bar stays, the summary goes below it
	}
	return update, finish
}

// describe is the bar's description for p: failures so far, and the pace
// with the time left, or, while requests wait for a slot in HubSpot's rate
// window, how long until the next one.
func describe(p importer.Progress, total int) string {
	desc := "importing"
	if bad := p.Failed + p.InDoubt; bad > 0 {
		desc = fmt.Sprintf("importing (%d failed, %d in doubt)", p.Failed, p.InDoubt)
	}
	switch {
	case p.Done:
	case p.RateWait >= 500*time.Millisecond:
		desc += fmt.Sprintf(", waiting for HubSpot's rate window, %d s", int(math.Ceil(p.RateWait.Seconds())))
	case p.Rows > 0 && p.Elapsed > 0:
		perSecond := float64(p.Rows) / p.Elapsed.Seconds()
		desc += fmt.Sprintf(", %.0f rows/s", perSecond)
		if total > p.Rows {
			left := time.Duration(float64(total-p.Rows) / perSecond * float64(time.Second)).Round(time.Second)
			desc += fmt.Sprintf(", about %s left", left)
		}
	}
	return desc
}

// bareWriter is how the bar itself writes: straight through, under the
// lock its caller already holds.
type bareWriter struct{ b *BarWriter }

func (w bareWriter) Write(p []byte) (int, error) { return w.b.W.Write(p) }
