package deploytest

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is a controllable deploy.Clock. In manual mode time moves only with
// Advance or Set; in auto mode every After call moves time forward by its
// duration at once, so an engine that waits an hour returns in microseconds.
// It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	cond   *sync.Cond
	now    time.Time
	auto   bool
	timers []*timer
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// Epoch returns the time a Clock made with a zero start begins at:
// 2026-01-01T00:00:00Z.
func Epoch() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// NewClock returns a manual clock set to start (Epoch when start is zero).
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = Epoch()
	}
	c := &Clock{now: start}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// NewAutoClock returns a clock in auto mode set to start (Epoch when zero).
func NewAutoClock(start time.Time) *Clock {
	c := NewClock(start)
	c.auto = true
	return c
}

// SetAuto switches auto mode on or off. Switching it on fires every pending
// timer, moving time to the latest of them.
func (c *Clock) SetAuto(on bool) {
	c.mu.Lock()
	c.auto = on
	if on && len(c.timers) > 0 {
		last := c.timers[len(c.timers)-1].at
		if last.After(c.now) {
			c.now = last
		}
		c.fireLocked()
	}
	c.mu.Unlock()
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once d has passed
// on it. In auto mode the clock moves forward by d at once.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d < 0 {
		d = 0
	}
	t := &timer{at: c.now.Add(d), ch: ch}
	if c.auto {
		c.now = t.at
		ch <- c.now
		c.fireLocked()
		return ch
	}
	if d == 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, t)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	c.cond.Broadcast()
	return ch
}

// Advance moves the clock forward by d, firing the timers that fall due in
// order of their deadlines.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.fireLocked()
	c.mu.Unlock()
}

// Set moves the clock to t (never backwards) and fires due timers.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.fireLocked()
	c.mu.Unlock()
}

func (c *Clock) fireLocked() {
	n := 0
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.ch <- c.now
			continue
		}
		c.timers[n] = t
		n++
	}
	c.timers = c.timers[:n]
}

// Waiters returns how many After channels have not fired yet.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// BlockUntil waits (in real time) until at least n After channels are
// pending, or ctx ends. Tests use it to advance the clock only once the code
// under test is waiting on it.
func (c *Clock) BlockUntil(ctx context.Context, n int) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.cond.Wait()
	}
	return nil
}

// AdvanceToNext moves the clock to the earliest pending timer and fires it.
// It reports false when no timer is pending.
func (c *Clock) AdvanceToNext() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return false
	}
	if at := c.timers[0].at; at.After(c.now) {
		c.now = at
	}
	c.fireLocked()
	return true
}
