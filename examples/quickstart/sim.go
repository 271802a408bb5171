package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// scaledClock is a simulated clock that runs speed times faster than real
// time: each wait sleeps for its duration divided by speed and then moves
// simulated time forward by exactly that duration, so a ten-minute bake
// takes two seconds at speed 300 and the printed times stay round.
type scaledClock struct {
	speed float64

	mu  sync.Mutex
	now time.Time
}

func newScaledClock(base time.Time, speed float64) *scaledClock {
	return &scaledClock{now: base, speed: speed}
}

func (c *scaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *scaledClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	due := c.Now().Add(d)
	go func() {
		time.Sleep(time.Duration(float64(d) / c.speed))
		c.mu.Lock()
		if due.After(c.now) {
			c.now = due
		}
		now := c.now
		c.mu.Unlock()
		ch <- now
	}()
	return ch
}

// errorRateAlarm simulates a CloudWatch alarm on the error rate of the new
// version: the buggy build's errors climb a little more every minute it
// takes traffic, until the rate passes the threshold.
type errorRateAlarm struct {
	name      string
	clock     deploy.Clock
	threshold float64
	buggy     bool

	mu       sync.Mutex
	since    time.Time
	lastRate float64
}

func (a *errorRateAlarm) Name() string { return a.name }

func (a *errorRateAlarm) last() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastRate
}

// Check computes the simulated error rate and fails with deploy.ErrAlarm
// above the threshold.
func (a *errorRateAlarm) Check(_ context.Context, c deploy.Check) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	rate := 0.3
	if c.Percent > 0 {
		if a.since.IsZero() {
			a.since = a.clock.Now()
		}
		if a.buggy {
			rate += 0.5 * a.clock.Now().Sub(a.since).Minutes()
		}
	}
	a.lastRate = rate
	if rate > a.threshold {
		return fmt.Errorf("%w: %s in ALARM: error rate %.1f%% > %.1f%%", deploy.ErrAlarm, a.name, rate, a.threshold)
	}
	return nil
}
