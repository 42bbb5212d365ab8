// Package pacer keeps the importer's requests under HubSpot's rolling-window
// rate limit, close to it but not over it, while other apps on the same
// portal use part of it.
//
// HubSpot counts a portal's requests in a rolling window (Max requests per
// Interval, e.g. 190 per 10 s) and reports the limit, what remains of it and
// the window's length in X-HubSpot-RateLimit-* headers on every answer. The
// fastest schedule a client can keep under such a window is a burst of Max
// requests, then request k+Max exactly one Interval after request k. A
// token bucket (golang.org/x/time/rate) cannot express that: with burst B
// and rate r it admits B + r·Interval requests in one window, so staying
// under Max costs either the burst or a fifth of the rate. Pacer therefore
// keeps a log of its own requests and admits one when fewer than its budget
// are still inside the window (or a wave, see below):
//
//	budget = min(cap, Max − others − room if others are present)
//
// cap is the user's limit (--rate), Max and Interval are learned from the
// headers, and others is the largest number of requests by other clients
// seen in the window over the last Interval (the portal's count from
// Max − Remaining, less the requests of ours it can have counted). Alone on
// the portal the importer uses all of it. Once another client shows up (in
// the counts beyond what our own requests in flight can explain, or as a
// 429 the importer did not expect), room is kept free while the other
// client's use grows: as much again as it uses, up to half the window
// between them, and at least 10% of the window. HubSpot's headers never
// show a client's rejected requests, only its admitted ones, so a newcomer
// can only show its demand through room left to it: this lets its use
// double every interval until it has half the portal. Once its use is
// steady for an interval, 2% is kept free. Its use grew when one count
// proves it, or when the counts stay up for a tenth of the interval: the
// answers to one burst of ours can all read high for a moment. One
// answer's count is loose by our requests in flight beside it, so others
// is the largest over the last interval of the tightest bound of each
// tenth of it. After a tenth of an
// interval without an answer, one request goes first and the rest wait for
// its answer, so that a burst follows a fresh count.
//
// Alone on the portal the Pacer sends in bursts, the fastest schedule under
// a rolling window. Beside other clients, when answers take a while, it
// spreads its requests, at most Spread of its budget in any tenth of the
// interval: a burst's slots all
// free at once an interval later and are all taken again at once, and the
// others' use between bursts shows only in the next burst's answers, a
// round trip too late (with answers of a second, the other client's
// requests were then still refused 40 s after it started; spread, its
// requests get through within 20 s).
//
// When HubSpot counts a request, on arrival at its gateway or when the
// work is done, is not documented, and with answers that take seconds the
// difference is most of a window. The Pacer starts by assuming the later
// (the safe one: a slot freed an Interval after the answer, less the
// fastest recent round trip, is free under both), and checks each answer's
// count against what each model predicts of its own requests alone: a
// count below what counting on arrival implies rules that model out, and
// three counts below what counting on completion implies (and consistent
// with arrival) switch to it, after which a slot is free an Interval after
// the send. A 429 with room under the arrival model is explained as well by
// another app's growth as by a wrong model: it makes the Pacer assume
// completion for three intervals, then return to arrival unless a count
// disproved it meanwhile. After a 429 everything pauses.
//
// Holding a slot until the fastest round trip could count its successor
// costs each slot the gap between that round trip and the actual one
// (about 5% of the window with answers of 0.5–1.5 s, 10% with 3–5 s). So
// under the completion model a request may also go earlier when a full
// window is unlikely when it is counted: for every moment it may be
// counted, the requests answered within the window before it, plus those
// now in flight weighted by the chance (read from the recent round trips)
// that they are counted by then, plus three standard deviations of that
// sum, must fit the budget; and fewer than the budget must have been sent
// in the last interval (safe under the arrival model too). Alone, and while
// the recent round trips have no long tail, the requests waiting (and those
// the caller announced with Ready) are judged together as a wave, and go
// at once when all may: the next window's requests are then counted a
// window after this one's, as this one's were, and no window spreads out
// over the run. A 429 to a request of a wave shows another client, unless
// the wave's own requests explain it (see oursFilled); a 429 to a request
// judged alone is the risk it took, and is taken for another app's growth
// only if our requests that may be in the window do not fill what the
// others are thought to leave.
//
// A Pacer also tracks the daily quota and refuses to start a request that
// would eat into the part of it reserved for other integrations.
package pacer

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/lineitems/importer/internal/hubspot"
)

// ErrDailyReserve is returned by Acquire when the portal's daily quota is
// down to the reserve the user asked to leave.
var ErrDailyReserve = errors.New("the daily request quota is down to --daily-reserve")

// Config configures a Pacer. Zero values get the defaults noted.
type Config struct {
	// Cap is the most requests per Interval the user allows (--rate × the
	// interval in seconds); 0 means no cap of the user's own.
	Cap int
	// Interval is the assumed window until HubSpot reports one; 0 means 10 s.
	Interval time.Duration
	// Share is the least part of the portal's window (0..1) left free, on
	// top of their current use, while other clients' use is seen growing,
	// so that it can grow further and show (more is left while it is under
	// half the window: see the package documentation); 0 means 0.1. Once
	// their use has been steady for an interval, only Keep is left free;
	// alone, the Pacer uses the whole window.
	Share float64
	// Keep is the part of the window left free beside steady other clients,
	// so that a new rise in their use can show; 0 means 0.02 (at least one
	// request).
	Keep float64
	// Spread is the most of the budget (0..1) sent in any tenth of the
	// interval while other clients use the portal; 0 means 0.3. Alone, the
	// Pacer sends in bursts.
	Spread float64
	// DailyReserve is how many requests of the daily quota to leave for
	// other integrations; 0 means none (HubSpot's own 429 DAILY stops the
	// run then).
	DailyReserve int
	// Pause is the wait after a 429 without Retry-After; 0 means 1 s.
	Pause time.Duration
	// Slack is how long after a request leaves HubSpot's window its slot is
	// reused; 0 means 50 ms. It absorbs clock and network skew and leaves
	// gaps through which other clients' requests get in, and so show up in
	// the counts, instead of meeting a window this client keeps full.
	Slack time.Duration
}

// Pacer admits requests. It is safe for concurrent use.
type Pacer struct {
	cfg Config

	mu         sync.Mutex
	interval   time.Duration
	portalMax  int
	log        []*entry // our requests still inside the window, by send time
	samples    []sample // others' usage seen, by time
	pauseUntil time.Time
	// othersSeenUntil is set by a 429 that proves other clients present.
	othersSeenUntil time.Time
	othersGrew      time.Time // when other clients' use was last seen rising
	// riseSince is when the counts rose above riseFrom, the others' use
	// before, by enough to be growth if they stay there for a tenth (and
	// counts keep coming: within three tenths).
	riseSince  time.Time
	riseFrom   int
	rtt        time.Duration // largest recent round trip
	lastHeard  time.Time     // when rate-limit headers last arrived
	dailyKnown bool
	dailyLeft  int
	changed    chan struct{} // closed and replaced when the budget may have grown
	stats      Stats
	waiting    int // calls of Acquire waiting for a slot
	ready      int // requests held back by the caller before Acquire (Ready)

	// When the portal counts a request: on arrival (a slot is free again
	// an interval after the send) or at completion (an interval after
	// the answer). Unknown, it is taken to be completion, which is safe
	// under both; answers whose counts the completion model cannot
	// explain prove arrival (see observeModel).
	arrival      bool
	arrivalVotes votes // counts the completion model could not explain, since the last doubt
	// arrivalProven: counts showed the arrival model, and none has
	// disproved it since. A 429 with room then doubts it only until
	// doubtUntil (another app's growth explains such a 429 as well).
	arrivalProven bool
	doubtUntil    time.Time
	recent        []*entry        // our requests of the last two intervals, for reading the counts
	latencies     []latency       // recent round trips, by when they ended
	sorted        []time.Duration // the same round trips, shortest first

	// gate is admit's last refusal: while nothing changed (version) no
	// request goes before gateUntil.
	version   uint64
	gateVer   uint64
	gateUntil time.Time
	gateNext  time.Time // when the refused request can be expected to go
	// odds is set by decide when the request it admits goes on likely's
	// word alone, and wave when it goes in a wave.
	odds, wave bool
	// heldSince is when a wave was first held back while one request
	// alone could go; zero once a wave goes.
	heldSince time.Time
}

// latency is one request's round trip, and when it ended.
type latency struct {
	at time.Time
	d  time.Duration
}

type entry struct {
	sent, done time.Time
	throttled  bool // answered 429: HubSpot did not count it
	odds       bool // admitted by likely alone: a 429 is the risk it took
	wave       bool // sent in a wave (see likely): a 429 shows another client, unless oursFilled
	// unheard: answered without rate-limit headers and not throttled (not
	// sent, failed on the way, or exempt from the window), or made without
	// Acquire (Note): not surely in any count.
	unheard bool
}

// sample is what one answer said about other clients' requests in the
// window. The portal's count includes ours sent before the answered
// request, and possibly ours sent while it was in flight: so the others
// numbered at least least and at most most.
type sample struct {
	at          time.Time
	least, most int
}

// Stats describe what the Pacer learned.
type Stats struct {
	PortalMax      int           // the portal's limit per interval, 0 if not reported
	Interval       time.Duration // the window
	Others         int           // requests by other clients in the window, as last estimated
	DailyRemaining int           // -1 if not reported
	Throttled      int           // 429s observed
	Waited         time.Duration // time requests spent waiting for a slot, summed
	// NextSlot is when the next request waiting for a slot may go: zero
	// when none waits.
	NextSlot time.Time
	// CountedOnArrival says the portal's counts show that it counts a
	// request when it arrives (a slot is free an interval after the send);
	// false while that is not shown (a slot is then held an interval
	// after the answer, less the shortest round trip).
	CountedOnArrival bool
}

// New returns a Pacer.
func New(cfg Config) *Pacer {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Pause <= 0 {
		cfg.Pause = time.Second
	}
	if cfg.Slack <= 0 {
		cfg.Slack = 50 * time.Millisecond
	}
	return &Pacer{cfg: cfg, interval: cfg.Interval, changed: make(chan struct{}), stats: Stats{DailyRemaining: -1}}
}

// Release reports the answer to an admitted request: its rate-limit
// headers (if any), whether it was a 429, and the 429's Retry-After.
type Release = func(rl hubspot.RateLimit, throttled bool, retryAfter time.Duration)

// Acquire waits until a request may be sent, records it, and returns the
// function to call with its answer. It returns ctx's error if ctx ends
// first, and ErrDailyReserve when the daily quota is down to the reserve.
func (p *Pacer) Acquire(ctx context.Context) (Release, error) {
	start := time.Now()
	waiting := false // counted in p.waiting
	for {
		p.mu.Lock()
		now := time.Now()
		if p.cfg.DailyReserve > 0 && p.dailyKnown && p.dailyLeft <= p.cfg.DailyReserve {
			if waiting {
				p.leave()
			}
			p.mu.Unlock()
			return nil, ErrDailyReserve
		}
		if !waiting {
			waiting = true
			p.waiting++
		}
		wait, next := p.admit(now)
		if wait == 0 {
			p.leave()
			e := &entry{sent: now, odds: p.odds, wave: p.wave}
			p.log = append(p.log, e)
			p.recent = append(p.recent, e)
			p.version++
			if p.dailyKnown {
				p.dailyLeft--
			}
			p.stats.Waited += now.Sub(start)
			p.mu.Unlock()
			return func(rl hubspot.RateLimit, throttled bool, retryAfter time.Duration) {
				p.release(e, rl, throttled, retryAfter)
			}, nil
		}
		p.stats.NextSlot = next // every caller waiting reads the same, until something changes
		changed := p.changed
		p.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			p.mu.Lock()
			p.leave()
			p.mu.Unlock()
			return nil, ctx.Err()
		case <-t.C:
		case <-changed:
			t.Stop()
		}
	}
}

// leave takes a caller of Acquire off the waiting: a wave (see likely) is
// one smaller. p.mu is held.
func (p *Pacer) leave() {
	p.waiting--
	p.version++
	if p.waiting == 0 {
		p.stats.NextSlot = time.Time{}
	}
}

// admit returns 0 if a request may go now, else how long to wait before
// looking again (a hundredth of the interval at most), and when the
// request can be expected to go (for Stats.NextSlot). A refusal holds
// until something changes (a request is sent or answered, a caller stops
// waiting, or Ready, Observe or Note is called) or for at most a
// hundredth of the interval: every caller waiting is woken by each
// answer, and all but the first are spared the same computation. p.mu is
// held.
func (p *Pacer) admit(now time.Time) (time.Duration, time.Time) {
	if p.gateVer == p.version && now.Before(p.gateUntil) {
		return p.gateUntil.Sub(now), p.gateNext
	}
	wait, expect := p.decide(now)
	if wait > 0 {
		p.gateVer, p.gateUntil, p.gateNext = p.version, now.Add(min(wait, p.interval/100)), now.Add(expect)
	}
	return min(wait, p.interval/100), now.Add(expect)
}

// decide is admit without the memory of its last refusal: how long to
// wait before looking again, and how long until the request can be
// expected to go (the same, except when likely may let it go sooner than
// the expiry rule). Under the expiry rule a request goes when a slot is
// free; when likely judges a wave, when the whole wave's slots are (or
// likely lets the wave go sooner). A wave held back while one request
// alone could go is given half the spread of the round trips; then
// requests go one at a time until a wave goes. p.mu is held.
func (p *Pacer) decide(now time.Time) (wait, expect time.Duration) {
	if now.Before(p.pauseUntil) {
		return p.pauseUntil.Sub(now), p.pauseUntil.Sub(now)
	}
	p.prune(now, false)
	if p.portalMax > 0 && now.Sub(p.lastHeard) > p.interval/10 && p.othersAround(now) {
		// What the portal last said is stale (the window has been full of
		// ours and quiet): one request goes first, and the rest wait for
		// its answer, so that a burst of sends follows a fresh count of
		// the other clients' use instead of a count from a window ago.
		for _, e := range p.log {
			if e.done.IsZero() && !e.sent.Before(p.lastHeard) {
				return p.interval / 100, p.interval / 100 // or sooner, when an answer comes
			}
		}
	}
	budget := p.budget(now)
	if budget == math.MaxInt {
		// No limit: no cap of the user's, and no answer has said the
		// portal's. Nothing to judge. The log is pruned as the odds'
		// judging would prune it: the daily count and the reading of a
		// 429 go through it.
		if p.judgesOdds() {
			p.prune(now, true)
		}
		p.odds, p.wave, p.heldSince = false, false, time.Time{}
		return 0, 0
	}
	if wait := p.spread(now, budget); wait > 0 {
		return wait, wait
	}
	p.odds, p.wave = false, false
	odds := p.judgesOdds()
	if len(p.log) < budget && !odds {
		return 0, 0
	}
	p.prune(now, true)
	free := budget - len(p.log)
	if odds && free >= max(1, p.waiting+p.ready) {
		// Room for any wave likely could judge (it is never larger):
		// its verdict would let the request go, as below. Not judged, to
		// spare its cost (a pass over the window's requests for each of
		// its steps) where the window has room, as when the portal sets
		// no limit.
		p.heldSince = time.Time{}
		return 0, 0
	}
	soon, wave := time.Duration(math.MaxInt64), 1
	if odds {
		v := p.likely(now, budget)
		single := false
		switch {
		case v.early: // refused before anything was judged
		case !v.inWave, v.ok, free >= v.wave, !v.near:
			p.heldSince = time.Time{}
		case v.one:
			// A wave that would fit but for its margin, while one
			// request alone could go: after a window counted spread out
			// (beside another app until now, or while answers had a long
			// tail), the room grows as fast as the window's requests
			// leave, and a wave of it may wait for the window to empty.
			// After half the spread of the round trips (a wave after a
			// wave goes sooner), requests go one at a time until a wave
			// goes. Those that go together at one moment are the next
			// window's waves, of the room that frees within a round trip.
			if p.heldSince.IsZero() {
				p.heldSince = now
			}
			if from := p.heldSince.Add(v.spread / 2); now.Before(from) {
				v.wait = min(v.wait, from.Sub(now))
			} else {
				single = true
			}
		}
		if free >= v.wave || single && free >= 1 {
			return 0, 0
		}
		if v.ok || single {
			p.odds, p.wave = true, !single
			return 0, 0
		}
		soon, wave = v.wait, v.wave
	} else if free > 0 {
		return 0, 0
	}
	// Wait until enough entries leave the window (or look again sooner,
	// when likely may let one go before that).
	exp := make([]time.Time, len(p.log))
	for i, e := range p.log {
		exp[i] = p.expiry(e)
	}
	slices.SortFunc(exp, func(a, b time.Time) int { return a.Compare(b) })
	sure := max(exp[len(exp)-budget+wave-1].Sub(now), time.Millisecond)
	return min(soon, sure), sure
}

// spread returns how long to wait before the next request while other
// clients use the portal, so that no tenth of the interval holds more than
// Spread of the budget; 0 if one may go as far as spreading goes. Alone, the
// importer sends in bursts (the fastest schedule under a rolling window).
// Beside others, a burst's slots all free at once an interval later, every
// one taken again at once, and the counts that show the others' use come
// only from the burst's answers: with answers that take a second, the
// others' requests between bursts stay unseen until the next burst meets
// them, over its budget. Spread out (over at least a third of the
// interval), answers keep coming while the Pacer sends, and the slots the
// others are left free up a few at a time. With
// answers faster than a fortieth of the interval (250 ms in 10 s) the
// counts are fresh enough and the Pacer still sends in bursts. p.mu is
// held.
func (p *Pacer) spread(now time.Time, budget int) time.Duration {
	if p.portalMax == 0 || !p.othersAround(now) || p.fast() < p.interval/40 {
		// Alone, or with answers fast enough that a burst's counts are
		// fresh: bursts.
		return 0
	}
	frac := p.cfg.Spread
	if frac <= 0 {
		frac = 0.3
	}
	per := max(1, int(frac*float64(budget)))
	tenth := p.interval / 10
	n := 0
	var oldest time.Time
	for i := len(p.log) - 1; i >= 0 && p.log[i].sent.After(now.Add(-tenth)); i-- {
		n++
		oldest = p.log[i].sent
	}
	if n < per {
		return 0
	}
	return max(oldest.Add(tenth).Sub(now), time.Millisecond)
}

// expiry is when an entry's slot may be reused, the slack after HubSpot's
// window lets go of it. When the portal counts requests on arrival, that
// is an interval after the send. Otherwise (or while unknown) HubSpot
// counts it at the latest when it answered, and a request sent now reaches
// that point no sooner than the fastest recent round trip: an interval
// after the answer less that (or, while in flight, after the send plus the
// recent round trip).
func (p *Pacer) expiry(e *entry) time.Time {
	if p.arrival {
		return e.sent.Add(p.interval + p.cfg.Slack)
	}
	at := e.done
	if at.IsZero() {
		at = e.sent.Add(p.rtt)
	}
	return at.Add(p.interval + p.cfg.Slack - p.fast())
}

// judgesOdds reports whether requests may go on the odds (see likely):
// while the portal is not known to count on arrival, once enough round
// trips are known. p.mu is held.
func (p *Pacer) judgesOdds() bool { return !p.arrival && len(p.sorted) >= minLatencySamples }

// minLatencySamples is how many round trips of the last two intervals
// likely needs to read their spread.
const minLatencySamples = 100

// likelyMargin is how many standard deviations of the uncertain part of a
// future count likely keeps below the budget for one request.
const likelyMargin = 3

// waveMargin is likelyMargin for a wave (see likely). With 1 standard
// deviation a wave meets a full window now and then (3 429s in 74,043
// requests over 60 fake-clock seeds of 6.5 windows with answers of 3–5 s),
// which costs the pause and a request sent again when our own requests
// explain it (oursFilled); with 2, none came in 288,800 requests, but each
// wave went 0.1 s later (0.3–0.7 points of the ceiling: docs/rate.md).
const waveMargin = 1

// likelySteps is how many parts likely cuts the spread of the round trips
// into.
const likelySteps = 16

// likely reports whether a request may go now under the completion model
// (or while the model is unknown) although a slot held until the fastest
// round trip could count its successor (expiry) is not yet free; if not,
// how long to wait before looking again; and how many requests it judged
// together (the wave, 1 or more).
//
// Holding each slot that long never meets a full window, but it leaves the
// window short by about the mean round trip less the shortest: 5% with
// answers of 0.5–1.5 s, 10% with 3–5 s. likely reads the spread of the
// recent round trips instead. A request sent now is counted at some time T
// between now plus the shortest and now plus the longest recent round trip.
// The window then holds the requests answered less than an interval before
// T (known), this one, and those now in flight that are counted by T: each
// with the probability, read from the recent round trips, that a request
// in flight for g is answered within g + (T − now). The request goes when,
// for every such T, the expected count plus likelyMargin standard
// deviations of it is within the budget, and fewer than the budget were
// sent in the last interval (so that it is safe under the arrival model
// too).
//
// Judged one by one, the first requests to go take the room, the rest wait
// for single slots and go over a second or more, and the next window's
// slots free up as spread out: over a run, a window's requests come to be
// counted over the whole window, and the run's last window cannot go at
// once. So alone on the portal, while the round trips are compact (the
// slowest no further above the median than twice the median is above the
// fastest: answers of 0.5–1.5 s or 3–5 s, not a long tail of slow ones),
// likely judges a wave: every request waiting or ready (Ready), up to the
// room left at the longest round trip (as the last step bounds it). The
// wave's requests are counted after a recent round trip each, so they
// count a window after the last wave as that wave did; none goes until all
// may, with waveMargin standard deviations, and then all go at once (each
// finds the same answer, its wave one smaller and one more in flight). A
// wave's count cannot exceed the requests in it and in flight. With a long
// tail of slow answers the last wave's slowest requests are unknown until
// they end, and a wave would wait for them: there one request is judged
// at a time. The verdict also says whether one request judged alone would
// go, for decide to fall back on when a wave cannot form. p.mu is held.
func (p *Pacer) likely(now time.Time, budget int) verdict {
	v := verdict{wave: 1}
	refuse := func(wait time.Duration) verdict {
		v.wait = max(wait, time.Millisecond)
		return v
	}
	// The count at T is known plus in flight (mean, variance). Known falls
	// as T grows, and each in-flight request's chance q rises: between two
	// grid points the count is at most the known of the first plus the
	// mean of the second, and each request's variance q(1−q) at most its
	// largest over the step (¼ where q crosses ½).
	lo, hi := p.sorted[0], p.sorted[len(p.sorted)-1]
	var known [likelySteps + 1]int
	var next [likelySteps + 1]time.Duration // until a known request leaves the window at T
	var mean, variance [likelySteps + 1]float64
	var q [likelySteps + 1]float64
	at := func(k int) time.Duration { return lo + (hi-lo)*time.Duration(k)/likelySteps }
	for k := range likelySteps + 1 {
		next[k] = p.interval / 100
	}
	inflight := 0
	for _, e := range p.log {
		if !e.done.IsZero() {
			out := e.done.Add(p.interval + p.cfg.Slack)
			for k := range likelySteps + 1 {
				if t := now.Add(at(k)); out.After(t) {
					known[k]++
					next[k] = min(next[k], out.Sub(t))
				}
			}
			continue
		}
		inflight++
		g := now.Sub(e.sent)
		for k := range likelySteps + 1 {
			q[k] = p.countedBy(g, g+at(k))
		}
		for k := range likelySteps + 1 {
			j := min(k+1, likelySteps)
			mean[k] += q[j]
			variance[k] += stepVariance(q[k], q[j])
		}
	}
	med := p.sorted[len(p.sorted)/2]
	v.inWave = hi-med <= 2*(med-lo) && !p.othersAround(now)
	if v.inWave {
		// The room: what the window will have left at the longest round
		// trip, as the last step bounds it (the known requests of its
		// start), so that the wave fits that step whole.
		v.wave = max(1, min(p.waiting+p.ready, budget-known[likelySteps-1]-inflight))
		v.spread = hi - lo
	}
	// Under the arrival model: fewer than budget sent in the last interval.
	i := 0
	for i < len(p.log) && !p.log[i].sent.Add(p.interval+p.cfg.Slack).After(now) {
		i++
	}
	if n := len(p.log) - i; n >= budget {
		v.early = true
		return refuse(p.log[i+n-budget].sent.Add(p.interval + p.cfg.Slack).Sub(now))
	}
	if v.inWave {
		for k := range likelySteps + 1 {
			q[k] = p.countedBy(0, at(k))
		}
	}
	// The first step whose count does not fit refuses, until a known
	// request leaves the window at it.
	v.ok, v.one, v.near = v.inWave, true, v.inWave
	var oneWait, waveWait time.Duration
	for k := range likelySteps + 1 {
		if v.one && 1+float64(known[k])+mean[k]+likelyMargin*math.Sqrt(variance[k]) > float64(budget) { // 1: this request
			v.one, oneWait = false, next[k]
		}
		if v.inWave {
			j := min(k+1, likelySteps)
			w := float64(v.wave)
			expected := mean[k] + w*q[j]
			deviation := waveMargin * math.Sqrt(variance[k]+w*stepVariance(q[k], q[j]))
			if float64(known[k])+min(expected, float64(inflight)+w) > float64(budget) {
				v.near = false
			}
			if v.ok && float64(known[k])+min(expected+deviation, float64(inflight)+w) > float64(budget) {
				v.ok, waveWait = false, next[k]
			}
		}
	}
	switch {
	case !v.inWave && v.one:
		v.ok = true
	case !v.inWave:
		return refuse(oneWait)
	case !v.ok:
		return refuse(waveWait)
	}
	return v
}

// verdict is likely's answer.
type verdict struct {
	ok   bool          // the request, with its wave, may go now
	wait time.Duration // if not, how long before looking again
	// inWave says whether requests were judged as a wave; wave is how
	// many (1 otherwise).
	inWave bool
	wave   int
	// one says whether the request would go if judged alone, near
	// whether the wave's expected count (without the margin) fits, and
	// spread is the spread of the recent round trips (in waves only).
	one, near bool
	spread    time.Duration
	// early says that more than the budget were sent in the last
	// interval: refused before anything else was judged.
	early bool
}

// stepVariance bounds the variance of a request counted by the start of a
// step with probability a, and by its end with b: the larger of a(1−a)
// and b(1−b), or ¼ where the chance crosses ½.
func stepVariance(a, b float64) float64 {
	if a <= 0.5 && b >= 0.5 {
		return 0.25
	}
	return max(a*(1-a), b*(1-b))
}

// oursMayFill reports whether our requests that may be in the portal's
// window now (in flight, or answered within the interval, and not
// throttled) fill what the others are thought to leave. p.mu is held.
func (p *Pacer) oursMayFill(now time.Time) bool {
	n := 0
	for _, e := range p.log {
		if !e.throttled && (e.done.IsZero() || e.done.Add(p.interval+p.cfg.Slack).After(now)) {
			n++
		}
	}
	return n >= p.portalMax-p.othersEstimate(now)
}

// oursFilled reports whether our own requests explain the 429 that e, a
// request of a wave, was answered now: the portal is not known to count
// on arrival, e's 429 took at least the shortest round trip of our
// requests counted in the last interval (so it was not refused on arrival, as a
// portal that counts on arrival refuses), and those requests number the
// portal's limit, less as many as were answered within onTheWay before now
// (as many may have been counted and still be on the way: a 429 comes back
// sooner than a batch's answer). Under the completion model those
// requests are the window when e was refused: the wave overshot a window
// full of ours, and no other client need be present. Counting on
// arrival, the last wave's answers fall within that interval too while
// the window holds only the new wave and others' requests; that 429 comes
// at once, and is not explained. Another client's requests in the window
// leave ours short of the limit, unless it has no more of them there than
// ours answered within onTheWay (and then its use shows in the counts,
// which end the waves). p.mu is held.
func (p *Pacer) oursFilled(e *entry, now time.Time) bool {
	if p.arrival {
		return false
	}
	n, late := 0, 0
	shortest := time.Duration(math.MaxInt64)
	for _, o := range p.recent {
		if o.throttled || o.unheard || o.done.IsZero() || !o.done.After(now.Add(-p.interval)) {
			continue
		}
		n++
		if o.done.After(now.Add(-onTheWay)) {
			late++
		}
		shortest = min(shortest, o.done.Sub(o.sent))
	}
	return n > 0 && now.Sub(e.sent) >= shortest && n+late >= p.portalMax
}

// onTheWay is how long before a 429 our answers are taken to show how
// many of ours may have been counted and still be on the way (see
// oursFilled). With answers coming up to 80 ms after their count and 429s
// at once, the fake-clock long run (30.5 windows, 3–5 s, 40 seeds) had
// every 429 of a wave explained with 50 ms, and 14 of 17 taken for another
// app with none (95.9% of the ceiling against 96.8%); with 100 ms, another
// app's first requests in the window passed for ours in
// TestSharingThePortal (1.04% of the importer's requests refused).
const onTheWay = 50 * time.Millisecond

// countedBy is the probability, read from the recent round trips, that a
// request in flight for g is answered within h (h ≥ g). p.mu is held.
func (p *Pacer) countedBy(g, h time.Duration) float64 {
	n := len(p.sorted)
	le := func(d time.Duration) int { // how many round trips took d or less
		i, _ := slices.BinarySearch(p.sorted, d+1)
		return i
	}
	past := le(g)
	if past >= n {
		return 1 // slower than any recent one: it may be counted any moment
	}
	return float64(le(h)-past) / float64(n-past)
}

// fast is the shortest round trip of the last two intervals (0 before
// the first), a bound on how soon a request sent now is counted under the
// completion model. p.mu is held.
func (p *Pacer) fast() time.Duration {
	if len(p.sorted) == 0 {
		return 0
	}
	return p.sorted[0]
}

// surelyBefore reports whether, under the arrival model, x reached the
// portal before e and was still in its window when e arrived: sent more
// than modelSkew before e, and less than an interval (less the skew).
func (p *Pacer) surelyBefore(x, e *entry) bool {
	return x.sent.Before(e.sent.Add(-modelSkew)) && x.sent.After(e.sent.Add(-p.interval+modelSkew))
}

// surelyAnswered reports whether, under the completion model, x was
// counted before a request answered now and was still in the portal's
// window then: answered more than skew before now, and less than an
// interval (less the skew).
func (p *Pacer) surelyAnswered(x *entry, now time.Time, skew time.Duration) bool {
	return !x.done.IsZero() && x.done.Before(now.Add(-skew)) && x.done.After(now.Add(-p.interval+skew))
}

// modelSkew is how far apart two events may be and still not be known to
// be in order at HubSpot: send and arrival times differ by network time.
const modelSkew = 50 * time.Millisecond

// observeModel checks the portal's count in the answer to e (obs, ours and
// others') against what each counting model predicts of ours alone: under
// the arrival model at least e and the requests sent surely before it and
// within an interval (modelSkew); under the completion model at least e
// and the requests answered surely before it and within an interval
// (answerSkew). Others can only add to the count, so a count below a
// model's least disproves it, as far as the skews hold. Three counts the
// completion model cannot explain within an interval, and none the
// arrival model cannot, switch the pacer to the arrival model; one count
// the arrival model cannot explain switches it back to the safe model.
// p.mu is held.
func (p *Pacer) observeModel(e *entry, obs int, now time.Time) {
	leastA, leastC := 1, 1
	for _, x := range p.recent {
		if x == e || x.throttled || x.unheard {
			continue
		}
		if p.surelyBefore(x, e) {
			leastA++
		}
		if p.surelyAnswered(x, now, answerSkew) {
			leastC++
		}
	}
	switch {
	case obs < leastA:
		p.arrival, p.arrivalProven = false, false
		p.arrivalVotes.reset()
	case obs < leastC:
		if p.arrivalVotes.add(now, p.interval) {
			p.arrival, p.arrivalProven = true, true
		}
	case !p.arrival && p.arrivalProven && now.After(p.doubtUntil):
		// The doubt a 429 cast is over, and no count disproved arrival.
		p.arrival = true
	}
	p.stats.CountedOnArrival = p.arrival
}

// votes are the counts the arrival model explains and the completion
// model cannot. Three within an interval show arrival. Such counts that an
// answer held up on its way now and then (more than answerSkew) explains
// do not add up over a long run: beside another app, whose requests fill
// the count, nothing else would reset them, and a switch to arrival on a
// portal that counts at completion overfills it. (Answers held up that
// long throughout still switch it: docs/rate.md.)
type votes struct {
	n  int
	at [3]time.Time // the last n votes, oldest first
}

// add counts a vote at now and reports whether the last three came within
// interval.
func (v *votes) add(now time.Time, interval time.Duration) bool {
	if v.n == len(v.at) {
		copy(v.at[:], v.at[1:])
		v.n--
	}
	v.at[v.n] = now
	v.n++
	return v.n == len(v.at) && now.Sub(v.at[0]) <= interval
}

func (v *votes) reset() { v.n = 0 }

// prune drops expired entries. The log is in send order, so expiries are
// nearly in order too: dropping from the front is cheap and nearly exact.
// With exact, every expired entry goes; that costs a pass over the log,
// which is small whenever its count matters (under a limit).
func (p *Pacer) prune(now time.Time, exact bool) {
	i := 0
	for i < len(p.log) && !p.expiry(p.log[i]).After(now) {
		i++
	}
	if i > 0 {
		clear(p.log[:i])
		p.log = p.log[i:]
	}
	if exact {
		keep := p.log[:0]
		for _, e := range p.log {
			if p.expiry(e).After(now) {
				keep = append(keep, e)
			}
		}
		clear(p.log[len(keep):])
		p.log = keep
	}
	j := 0
	for j < len(p.samples) && !p.samples[j].at.Add(2*p.interval).After(now) {
		j++
	}
	p.samples = p.samples[j:]
	k := 0
	for k < len(p.recent) && !p.recent[k].sent.Add(2*p.interval+p.rtt).After(now) {
		k++
	}
	if k > 0 {
		clear(p.recent[:k])
		p.recent = p.recent[k:]
	}
}

// othersAround reports whether other clients have used the portal in the
// last two intervals, or a 429 said so. Only then does a burst wait for a
// fresh count first: alone, the importer's own log is the count.
func (p *Pacer) othersAround(now time.Time) bool {
	if now.Before(p.othersSeenUntil.Add(p.interval)) {
		return true
	}
	for _, s := range p.samples {
		if s.least > 0 {
			return true
		}
	}
	return false
}

// budget is how many of our requests may be in the window now.
func (p *Pacer) budget(now time.Time) int {
	b := math.MaxInt
	if p.cfg.Cap > 0 {
		b = p.cfg.Cap
	}
	if p.portalMax > 0 {
		// Other clients are present when some answer proves it (least > 0,
		// or a 429 the log did not expect); then count them generously.
		present := now.Before(p.othersSeenUntil)
		for _, s := range p.samples {
			present = present || (s.least > 0 && s.at.Add(p.interval).After(now))
		}
		others := p.othersEstimate(now)
		if !present {
			others = 0
		}
		p.stats.Others = others
		reserve := 0
		if present {
			reserve = p.reserve(now, others)
		}
		b = min(b, p.portalMax-reserve-others)
	}
	return max(b, 1)
}

// keep is how many requests of the window are left free beside other
// clients' steady use.
func (p *Pacer) keep() int {
	keep := p.cfg.Keep
	if keep <= 0 {
		keep = 0.02
	}
	return max(1, int(math.Ceil(keep*float64(p.portalMax))))
}

// reserve is how much of the window to leave free beside others' use.
// While their use grows, the room is the larger of Share of the window and
// their own use, up to half the window between them: a newcomer's use can
// double every interval until it has half the portal, and grows by Share
// beyond that. Once their use has been steady for an interval, Keep is left,
// or Share while a 429 proves others present (for six intervals after it,
// or until their use shows and has been steady for two intervals).
func (p *Pacer) reserve(now time.Time, others int) int {
	n := p.keep()
	share := p.cfg.Share
	if share <= 0 {
		share = 0.1
	}
	if now.Before(p.othersSeenUntil) && !p.othersSteady(now) {
		// A 429 proved another client present; its use may not show yet
		// (its requests were the ones refused): Share stays free until
		// its use shows in the counts and stops growing.
		n = max(n, int(math.Ceil(share*float64(p.portalMax))))
	}
	if !now.Before(p.othersGrew.Add(p.interval)) {
		return n
	}
	n = max(n, int(math.Ceil(share*float64(p.portalMax))))
	return max(n, min(others, p.portalMax/2-others))
}

// othersSteady reports whether other clients' use shows in the counts of
// the last interval and has not grown for two intervals: with room left
// to grow into (Share, while others are seen growing), a client that
// wanted more would have taken it. p.mu is held.
func (p *Pacer) othersSteady(now time.Time) bool {
	if now.Before(p.othersGrew.Add(2 * p.interval)) {
		return false
	}
	for _, s := range p.samples {
		if s.least > 0 && s.at.Add(p.interval).After(now) {
			return true
		}
	}
	return false
}

// othersEstimate is the most requests by other clients the window held at
// any time in the last interval, as far as the samples tell. One sample's
// upper bound counts our requests in flight beside it as others' (HubSpot
// may or may not have counted them), which with many workers is loose by
// as many. Other clients' use changes little within a tenth of the
// interval, so the smallest upper bound of each tenth is taken, and the
// largest of those.
func (p *Pacer) othersEstimate(now time.Time) int {
	return p.estimate(now.Add(-p.interval), time.Time{})
}

// estimate is othersEstimate over the samples taken from from, and before
// to unless to is zero. (Samples are kept for two intervals.)
func (p *Pacer) estimate(from, to time.Time) int {
	s := p.samples // in time order
	lo := 0
	for lo < len(s) && s[lo].at.Before(from) {
		lo++
	}
	hi := len(s)
	if !to.IsZero() {
		hi = lo
		for hi < len(s) && s[hi].at.Before(to) {
			hi++
		}
	}
	s = s[lo:hi]
	est, slice := 0, p.interval/10
	for i := 0; i < len(s); {
		end, low := s[i].at.Add(slice), s[i].most
		for i++; i < len(s) && s[i].at.Before(end); i++ {
			low = min(low, s[i].most)
		}
		est = max(est, low)
	}
	return est
}

func (p *Pacer) release(e *entry, rl hubspot.RateLimit, throttled bool, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.version++
	now := time.Now()
	e.done, e.throttled = now, throttled
	e.unheard = !rl.Known && !throttled
	if rtt := now.Sub(e.sent); rtt > p.rtt {
		p.rtt = rtt
	} else {
		p.rtt = (p.rtt*7 + rtt) / 8 // let an old spike fade
	}
	if !throttled {
		// p.sorted holds the durations of p.latencies, shortest first:
		// kept by binary search, not sorted anew for each answer (at
		// hundreds of answers a second that sort was a seventh of the
		// run's CPU).
		i := 0
		for i < len(p.latencies) && !p.latencies[i].at.Add(2*p.interval).After(now) {
			if j, ok := slices.BinarySearch(p.sorted, p.latencies[i].d); ok {
				p.sorted = slices.Delete(p.sorted, j, j+1)
			}
			i++
		}
		d := now.Sub(e.sent)
		p.latencies = append(p.latencies[i:], latency{at: now, d: d})
		j, _ := slices.BinarySearch(p.sorted, d)
		p.sorted = slices.Insert(p.sorted, j, d)
	}
	if throttled {
		p.stats.Throttled++
		// Whether the wave's own requests explain it, read before a 429
		// with room doubts the arrival model below.
		ownWave := e.wave && p.oursFilled(e, now)
		if p.arrival && len(p.log) <= p.portalMax {
			// A 429 with room in the window as the arrival model counts it:
			// another app grew, or the model is wrong. Be safe for a few
			// intervals; unless a count disproves arrival meanwhile, the
			// pacer returns to it.
			p.arrival = false
			p.arrivalVotes.reset()
			p.doubtUntil = now.Add(3 * p.interval)
			p.stats.CountedOnArrival = false
		}
		p.pauseUntil = later(p.pauseUntil, now.Add(max(retryAfter, p.cfg.Pause)))
		if p.portalMax > 0 && len(p.log) <= p.portalMax && !ownWave && !(!e.wave && e.odds && p.oursMayFill(now)) {
			// Throttled with no more of ours in the window than the limit:
			// someone else is using the portal, more than before. Its use
			// may not show in the counts for a while (its requests are
			// counted beside ours in flight), so the pacer keeps sharing
			// (room kept, sends spread) for some intervals. (A request
			// sent on likely's odds explains its 429 when our requests that
			// may be in the window fill what the others leave; a request
			// of a wave, when our answered requests do: see oursFilled.)
			p.othersSeenUntil = now.Add(6 * p.interval)
			p.othersGrew = now
		}
	}
	if p.learn(rl) {
		p.lastHeard = now
	}
	// A 429's count says only that the window was full, and this request
	// is not in it: it is no sample of the others' use.
	if rl.Known && rl.Max > 0 && !throttled {
		p.prune(now, true) // count ours exactly
		// The portal counted Max − Remaining requests when it answered this
		// one; the rest of the count are others'. Ours among them: see
		// ours.
		sure, possible := p.ours(e, now)
		count := rl.Max - rl.Remaining
		p.observeModel(e, count, now)
		smp := sample{at: now, least: max(0, count-possible), most: max(0, count-sure)}
		// Their use grew when one count proves it (its least is above every
		// earlier tenth's tightest count by half the room kept beside steady
		// use or more), or when the tightest count of the last tenth is
		// above by that much and every count since has stayed there for a
		// tenth: a client that fills the room it is left wants more, and a
		// rise of one is the jitter of a steady one. A count's most is loose
		// by our requests sent within the skew of the answered one, or of
		// an interval before it (a burst's slots are reused one by one, each
		// beside the rest of the old burst), so the answers to one burst can
		// all read high for a moment; the next answer to a request sent
		// apart from it reads low again, and rules the rise out. (Taken for
		// growth, such a moment kept 10% of the window free for another
		// interval, every interval.) The last two intervals before the last
		// tenth are compared with, so that a quiet interval (the window full
		// of ours) does not make every count look new.
		slice := p.interval / 10
		prior := p.estimate(now.Add(-2*p.interval), now.Add(-slice))
		p.samples = append(p.samples, smp)
		recent := p.estimate(now.Add(-slice), time.Time{}) // one tenth: its tightest count
		rise := max(1, p.keep()/2)
		if !p.riseSince.IsZero() && (smp.most < p.riseFrom+rise || now.After(p.riseSince.Add(3*slice))) {
			// This count rules the rise out; or no count came in the
			// tenths after it (a pause, or a window full of ours), and the
			// next may be the first answer to a burst.
			p.riseSince = time.Time{}
		}
		switch {
		case smp.least >= prior+rise: // this count proves it
			p.othersGrew, p.riseSince = now, time.Time{}
		case !p.riseSince.IsZero() && !now.Before(p.riseSince.Add(slice)):
			p.othersGrew, p.riseSince = now, time.Time{}
		case p.riseSince.IsZero() && recent >= prior+rise:
			p.riseSince, p.riseFrom = now, prior
		}
	}
	if rl.DailyKnown {
		sentAfter := 0
		for _, o := range p.log {
			if o.sent.After(e.sent) {
				sentAfter++
			}
		}
		p.dailyKnown = true
		p.dailyLeft = rl.DailyRemaining - sentAfter
		p.stats.DailyRemaining = rl.DailyRemaining
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// ours bounds how many of our requests the portal's count in the answer
// to e (just now) includes. Under the arrival model: surely those sent
// surely before e and within an interval, perhaps those sent up to the
// skew after it. Not known to count on arrival, surely the fewer of what
// each model implies: counting on arrival, those sent surely before e and
// within an interval; counting at completion, those answered within the
// interval before e's answer, with answerSkew at either end; under either,
// those answered before e was sent and sent within an interval. (Beside
// another app that reads its use several requests high, as each model's
// bound misses some of what the other counts: 4.0 and 5.6 a window in
// TestReadingAnotherAppAtCompletion. The counts cannot show completion
// safely: see docs/rate.md.) Perhaps: any sent by now, except those
// answered an interval or more before e was sent. Requests answered 429
// are not counted by HubSpot, and unheard ones are not surely counted.
// p.mu is held.
func (p *Pacer) ours(e *entry, now time.Time) (sure, possible int) {
	sureA, sureC := 0, 0
	for _, o := range p.recent {
		if o.throttled && o != e {
			continue
		}
		if p.arrival {
			switch {
			case o == e:
				sure++
				possible++
			case o.sent.After(e.sent.Add(modelSkew)), !o.sent.After(e.sent.Add(-p.interval - modelSkew)):
			default:
				possible++
				if p.surelyBefore(o, e) && !o.unheard {
					sure++
				}
			}
			continue
		}
		if o != e && !o.done.IsZero() && !o.done.Add(p.interval).After(e.sent) {
			continue
		}
		possible++
		if o == e {
			sureA++
			sureC++
			continue
		}
		if o.unheard {
			continue
		}
		both := !o.done.IsZero() && o.done.Before(e.sent) && o.sent.Add(p.interval).After(now)
		if both || p.surelyBefore(o, e) {
			sureA++
		}
		if both || p.surelyAnswered(o, now, answerSkew) {
			sureC++
		}
	}
	if !p.arrival {
		sure = min(sureA, sureC)
	}
	return sure, possible
}

// answerSkew bounds how long after the portal counted a request (at
// completion) its answer is in: the time the answer's body takes to come
// and be read (50 KB, a batch of 100 created items, at 4 Mbit/s). Within
// it, the order of two answers need not be the order the portal counted
// them in. (250 ms cost the importer 4 points of what another app left in
// TestSharingThePortal; 100 ms, 0.2.)
const answerSkew = 100 * time.Millisecond

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Observe learns the portal's limit and window from the rate-limit headers
// of an answer to a request made without Acquire (such as reading the
// portal's account or property definitions before an import), so that the
// first burst already keeps to the portal's limit; the requests the window
// holds beyond this Pacer's own keep their slots for an interval. Use Note
// first, to count the request itself.
func (p *Pacer) Observe(rl hubspot.RateLimit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.version++
	if !p.learn(rl) {
		return
	}
	// The window may hold requests this Pacer did not make: another
	// client's, or those of a run that ended moments ago. Until they leave
	// (when, the headers do not say: within an interval), they hold their
	// slots, so that the first burst does not meet a full window.
	now := time.Now()
	p.prune(now, true)
	for range rl.Max - rl.Remaining - len(p.log) {
		e := &entry{sent: now, done: now, unheard: true}
		p.log = append(p.log, e)
	}
}

// learn takes the portal's limit and window from rate-limit headers, and
// reports whether they had them. p.mu is held.
func (p *Pacer) learn(rl hubspot.RateLimit) bool {
	if !rl.Known || rl.Max <= 0 {
		return false
	}
	p.portalMax = rl.Max
	if rl.Interval > 0 {
		p.interval = rl.Interval
	}
	p.stats.PortalMax, p.stats.Interval = rl.Max, p.interval
	return true
}

// Ready tells the Pacer that n more requests (fewer, if n is negative) are
// held back by the caller before Acquire, to bound the memory of requests
// waiting for a slot. While the portal may count requests when their work
// is done, the Pacer sends a window's requests together as a wave (see
// likely), and needs to know how many are coming. Announcing more than
// come delays a wave (until the room it was judged for is free), never
// sends it sooner.
func (p *Pacer) Ready(n int) {
	p.mu.Lock()
	p.ready += n
	p.version++
	p.mu.Unlock()
}

// Note records n requests of this client that were made without Acquire
// and answered just now (such as reading property definitions before an
// import), so that they are not taken for another client's.
func (p *Pacer) Note(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.version++
	now := time.Now()
	for range n {
		e := &entry{sent: now, done: now, unheard: true}
		p.log = append(p.log, e)
		p.recent = append(p.recent, e)
	}
}

// Stats returns what the Pacer learned so far.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}
