package deploy

import (
	"context"
	"errors"
	"fmt"
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
	// 100 calls in half a second go through freely: no limit yet.
	for range 100 {
		if err := l.wait(ctx); err != nil {
			t.Fatal(err)
		}
		l.done(nil)
		clk.now = clk.now.Add(5 * time.Millisecond)
	}
	if l.lim.Limit() != rate.Inf {
		t.Fatalf("limit %v before any throttle, want none", l.lim.Limit())
	}
	// The first throttle holds the family to what the platform accepted
	// since the first call: 100 calls in half a second, so 200/s.
	l.done(fmt.Errorf("wrapped: %w", ErrThrottled))
	if got := float64(l.lim.Limit()); got < 199 || got > 201 {
		t.Fatalf("limit after the first throttle = %v, want 200", got)
	}
	// At 200/s, 400 more calls take about 2 s of the clock.
	before := clk.Now()
	for range 400 {
		if err := l.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if spent := clk.Now().Sub(before); spent < 1800*time.Millisecond || spent > 2200*time.Millisecond {
		t.Fatalf("400 calls at 200/s took %v", spent)
	}
	// Throttles a quarter window apart cut it by a fifth each; a burst of
	// them within one counts once.
	lim := float64(l.lim.Limit())
	l.done(ErrThrottled)
	l.done(ErrThrottled)
	if got := float64(l.lim.Limit()); got < lim*0.8-0.01 || got > lim*0.8+0.01 {
		t.Fatalf("limit after a burst of throttles = %v, want %v", got, lim*0.8)
	}
	for range 100 {
		clk.now = clk.now.Add(time.Second)
		l.done(ErrThrottled)
	}
	if got := float64(l.lim.Limit()); got != 0.2 {
		t.Fatalf("limit after long throttling = %v, want the 0.2 floor", got)
	}
	// A window without throttles raises it by a tenth.
	clk.now = clk.now.Add(time.Second)
	l.done(nil)
	if got := float64(l.lim.Limit()); got < 0.2199 || got > 0.2201 {
		t.Fatalf("limit after a quiet window = %v, want 0.22", got)
	}
	// Other errors leave it alone.
	now := l.lim.Limit()
	l.done(errors.New("boom"))
	if l.lim.Limit() != now {
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
