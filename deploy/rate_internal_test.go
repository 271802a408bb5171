package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// manualClock is a clock tests move by hand; After fires at once and moves
// time forward by the wait, like deploytest's auto clock.
type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time { return c.now }
func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func TestLimiterSlowsOnThrottlingAndRecovers(t *testing.T) {
	clk := &manualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(clk, RateOptions{}.withDefaults())
	ctx := context.Background()
	pass := func() uint64 {
		t.Helper()
		gen, err := l.wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return gen
	}
	// 100 calls in half a second go through freely: no limit yet.
	for range 100 {
		l.done(pass(), nil)
		clk.now = clk.now.Add(5 * time.Millisecond)
	}
	if l.limit() != rate.Inf {
		t.Fatalf("limit %v before any throttle, want none", l.limit())
	}
	// The first throttle holds the family to what the platform accepted
	// since the first call: 100 calls in half a second, so 200/s.
	gen := pass()
	l.done(gen, fmt.Errorf("wrapped: %w", ErrThrottled))
	if got := float64(l.limit()); got < 199 || got > 201 {
		t.Fatalf("limit after the first throttle = %v, want 200", got)
	}
	// Calls let through before that change cut nothing more.
	l.done(gen, ErrThrottled)
	if got := float64(l.limit()); got < 199 || got > 201 {
		t.Fatalf("a call let through before the cut cut again: limit %v", got)
	}
	// At 200/s, 400 more calls take about 2 s of the clock.
	before := clk.Now()
	var gens []uint64
	for range 400 {
		gens = append(gens, pass())
	}
	if spent := clk.Now().Sub(before); spent < 1800*time.Millisecond || spent > 2200*time.Millisecond {
		t.Fatalf("400 calls at 200/s took %v", spent)
	}
	// A throttle of a call let through under this limit cuts it to what
	// the platform accepted over the last second, by half at most (none
	// of the 400 was reported: 200 to 100); of the calls let through
	// under the same limit, only the first counts.
	l.done(gens[398], ErrThrottled)
	l.done(gens[399], ErrThrottled)
	if got := float64(l.limit()); got != 100 {
		t.Fatalf("limit after two throttles = %v, want 100", got)
	}
	// 70 calls go through in the next half second, each within a quarter
	// second of a throttle (so they raise nothing), and the platform
	// throttles one more: 70/s accepted, between half and four fifths of
	// the limit, is the new limit.
	for i := range 70 {
		clk.now = clk.now.Add(500 * time.Millisecond / 70)
		if i%30 == 29 {
			l.done(gens[0], ErrThrottled) // an old call's throttle: no cut, but not quiet
		}
		l.done(l.gen, nil)
	}
	if got := float64(l.limit()); got != 100 {
		t.Fatalf("calls right after a throttle raised the limit to %v", got)
	}
	l.done(l.gen, ErrThrottled)
	if got := float64(l.limit()); got < 69.9 || got > 70.1 {
		t.Fatalf("limit after throttling at 70 accepted calls/s = %v, want 70", got)
	}
	for range 100 {
		clk.now = clk.now.Add(time.Second)
		l.done(pass(), ErrThrottled)
	}
	if got := float64(l.limit()); got != 1 {
		t.Fatalf("limit after long throttling = %v, want the floor of 1/s", got)
	}
	// A window without throttles raises it by a tenth.
	clk.now = clk.now.Add(time.Second)
	l.done(l.gen, nil)
	if got := float64(l.limit()); got < 1.0999 || got > 1.1001 {
		t.Fatalf("limit after a quiet window = %v, want 1.1", got)
	}
	// Other errors leave it alone.
	now := l.limit()
	l.done(l.gen, errors.New("boom"))
	if l.limit() != now {
		t.Fatal("a non-throttling error changed the limit")
	}
}

func TestRatesOff(t *testing.T) {
	r := newRates(SystemClock{}, RateOptions{Off: true})
	if r.status != nil || r.mutation != nil || r.gate != nil {
		t.Fatal("Off still made limiters")
	}
	v, err := call(context.Background(), r.status, func() (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Fatalf("call without a limiter = %v, %v", v, err)
	}
}

// stepClock is a clock whose timers fire only when the test moves it.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []stepTimer
}

type stepTimer struct {
	at time.Time
	ch chan time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, stepTimer{c.now.Add(d), ch})
	return ch
}

// pending is the number of timers not fired yet.
func (c *stepClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			keep = append(keep, t)
			continue
		}
		t.ch <- c.now
	}
	c.timers = keep
}

// A cut takes effect on the calls already waiting: they were queued at the
// old rate, and go at the new one.
func TestLimiterCutRequeuesWaitingCalls(t *testing.T) {
	clk := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(clk, RateOptions{}.withDefaults())
	for range 20 {
		l.done(0, nil)
	}
	clk.advance(500 * time.Millisecond)
	l.done(0, ErrThrottled) // 20 calls in the half second since the first: 40/s
	if got := l.limit(); got != 40 {
		t.Fatalf("limit %v, want 40", got)
	}
	var through atomic.Int32
	for range 20 {
		go func() {
			if _, err := l.wait(context.Background()); err == nil {
				through.Add(1)
			}
		}()
	}
	// A new limit starts with nothing to spend: all 20 are queued 25 ms
	// apart, over half a second.
	waitFor(t, func() bool { return clk.pending() == 20 })
	clk.advance(250 * time.Millisecond)
	waitFor(t, func() bool { return through.Load() == 10 })
	// A call let through at 40/s is throttled: the platform accepted 20
	// calls in the 0.75 s since the first, so the limit comes down to 26.7/s.
	l.done(l.gen, ErrThrottled)
	if got := float64(l.limit()); got < 26.6 || got > 26.7 {
		t.Fatalf("limit %v, want 26.7", got)
	}
	waitFor(t, func() bool { return clk.pending() == 10+10 }) // 10 requeued (their old timers stay behind)
	// At the old rate the 10 left would all go within 0.25 s; at the new
	// one, 6 do.
	clk.advance(250 * time.Millisecond)
	waitFor(t, func() bool { return through.Load() == 10+6 })
	time.Sleep(20 * time.Millisecond) // none other is about to go through
	if got := through.Load(); got != 16 {
		t.Fatalf("%d calls went through in 0.25 s after the cut to 26.7/s, want 6", got-10)
	}
}

// A throttle at low volume (one call so far) holds the family to the floor
// of one call a second, never slower: the retry of a throttled call in a
// short cleanup is not held for long.
func TestLimiterFloorAtLowVolume(t *testing.T) {
	clk := &manualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(clk, RateOptions{}.withDefaults())
	l.done(0, nil)
	clk.now = clk.now.Add(10 * time.Second)
	l.done(0, ErrThrottled)
	if got := l.limit(); got != 1 {
		t.Fatalf("limit %v after a throttle at low volume, want the floor of 1/s", got)
	}
	before := clk.Now()
	if _, err := l.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := clk.Now().Sub(before); waited > time.Second {
		t.Fatalf("the next call waited %v, want a second at most", waited)
	}
}
