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
	// 100 calls in one second go through freely: no limit yet.
	start := clk.Now()
	for range 100 {
		if err := l.wait(ctx); err != nil {
			t.Fatal(err)
		}
		l.done(nil)
		clk.now = clk.now.Add(10 * time.Millisecond)
	}
	if l.lim.Limit() != rate.Inf {
		t.Fatalf("limit %v before any throttle, want none", l.lim.Limit())
	}
	// The first throttle holds the family to half the measured rate:
	// 100 calls in the last 10 s is 10/s, so 5/s.
	l.done(fmt.Errorf("wrapped: %w", ErrThrottled))
	if got := float64(l.lim.Limit()); got != 5 {
		t.Fatalf("limit after the first throttle = %v, want 5", got)
	}
	// At 5/s, 10 more calls take about 2 s of the clock.
	before := clk.Now()
	for range 10 {
		if err := l.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if spent := clk.Now().Sub(before); spent < 1800*time.Millisecond || spent > 2200*time.Millisecond {
		t.Fatalf("10 calls at 5/s took %v", spent)
	}
	// Each further throttle halves it, down to Min.
	for range 10 {
		l.done(ErrThrottled)
	}
	if got := float64(l.lim.Limit()); got != 0.2 {
		t.Fatalf("limit after many throttles = %v, want the 0.2 floor", got)
	}
	// Successes bring it back up, gently.
	for range 20 {
		l.done(nil)
	}
	if got := float64(l.lim.Limit()); got <= 0.2 || got > 10 {
		t.Fatalf("limit after 20 successes = %v, want above the floor and still bounded", got)
	}
	// Other errors leave it alone.
	lim := l.lim.Limit()
	l.done(errors.New("boom"))
	if l.lim.Limit() != lim {
		t.Fatal("a non-throttling error changed the limit")
	}
	_ = start
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
