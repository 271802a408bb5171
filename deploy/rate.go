package deploy

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateOptions configure the engine's adaptive rate control. The engine
// keeps one limiter per family of driver calls (status reads, mutations,
// gate checks), shared by every deployment it runs. A limiter lets calls
// through freely until the platform throttles one (an error wrapping
// ErrThrottled); it then holds the family to half the rate it measured,
// halves again at each further throttle, and creeps back up with each call
// that goes through (by 1/r calls per second at rate r, as TCP's congestion
// window grows), so a fleet settles near the platform's limit instead of
// retrying in a storm. The zero value means every default.
type RateOptions struct {
	// Off turns adaptive rate control off: calls are never delayed, and
	// throttled ones are only retried after the poll backoff.
	Off bool
	// Min is the lowest rate, in calls per second, a family is slowed to.
	// Default 0.2.
	Min float64
	// Window is how far back the engine measures a family's call rate when
	// it is first throttled. Default 10s.
	Window time.Duration
}

func (o RateOptions) withDefaults() RateOptions {
	if o.Min <= 0 {
		o.Min = 0.2
	}
	if o.Window <= 0 {
		o.Window = 10 * time.Second
	}
	return o
}

// limiter is one family's adaptive rate limit, built on
// golang.org/x/time/rate with the engine's clock for its time.
type limiter struct {
	clock Clock
	o     RateOptions

	mu     sync.Mutex
	lim    *rate.Limiter
	recent []time.Time // calls within o.Window, to measure the rate
}

func newLimiter(clock Clock, o RateOptions) *limiter {
	return &limiter{clock: clock, o: o, lim: rate.NewLimiter(rate.Inf, 1)}
}

// wait holds the caller until the family's rate lets one more call go.
func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := l.clock.Now()
	cut := now.Add(-l.o.Window)
	keep := l.recent[:0]
	for _, t := range l.recent {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	l.recent = append(keep, now)
	r := l.lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	l.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		r.CancelAt(l.clock.Now())
		return ctx.Err()
	case <-l.clock.After(delay):
		return nil
	}
}

// done records how a call of the family went.
func (l *limiter) done(err error) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	cur := float64(l.lim.Limit())
	switch {
	case errors.Is(err, ErrThrottled):
		if l.lim.Limit() == rate.Inf {
			cur = float64(len(l.recent)) / l.o.Window.Seconds()
		}
		l.lim.SetLimitAt(now, rate.Limit(max(cur/2, l.o.Min)))
	case err == nil && l.lim.Limit() != rate.Inf:
		l.lim.SetLimitAt(now, rate.Limit(cur+1/cur))
	}
}

// rates is an engine's limiters, one per family of driver calls.
type rates struct {
	status, mutation, gate *limiter
}

func newRates(clock Clock, o RateOptions) rates {
	if o.Off {
		return rates{}
	}
	o = o.withDefaults()
	return rates{status: newLimiter(clock, o), mutation: newLimiter(clock, o), gate: newLimiter(clock, o)}
}

// call runs f under l's rate and records how it went.
func call[T any](ctx context.Context, l *limiter, f func() (T, error)) (T, error) {
	if err := l.wait(ctx); err != nil {
		var zero T
		return zero, err
	}
	v, err := f()
	l.done(err)
	return v, err
}
