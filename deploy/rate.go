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
// ErrThrottled); it then holds the family to the rate the platform was
// seen to accept (over the last Window, or since the first call), cuts
// that by a fifth at most four times a Window while throttling goes on, and
// raises it by a tenth for every Window without a throttle (in steps of a
// quarter Window), so a fleet settles just under the platform's
// limit instead of retrying in a storm. The zero value means every default.
type RateOptions struct {
	// Off turns adaptive rate control off: calls are never delayed, and
	// throttled ones are only retried after the poll backoff.
	Off bool
	// Min is the lowest rate, in calls per second, a family is slowed to.
	// Default 0.2.
	Min float64
	// Window is how far back the engine measures the rate the platform
	// accepts, and how often it adjusts the limit. Default 1s.
	Window time.Duration
}

func (o RateOptions) withDefaults() RateOptions {
	if o.Min <= 0 {
		o.Min = 0.2
	}
	if o.Window <= 0 {
		o.Window = time.Second
	}
	return o
}

// limiter is one family's adaptive rate limit, built on
// golang.org/x/time/rate with the engine's clock for its time.
type limiter struct {
	clock Clock
	o     RateOptions

	mu       sync.Mutex
	lim      *rate.Limiter
	accepted []time.Time // calls that went through within o.Window
	adjusted time.Time   // when the limit last changed
	first    time.Time   // the first call that went through
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
	cut := now.Add(-l.o.Window)
	keep := l.accepted[:0]
	for _, t := range l.accepted {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	l.accepted = keep
	switch {
	case errors.Is(err, ErrThrottled):
		if l.lim.Limit() == rate.Inf {
			// Start at the rate the platform accepted until now (over the
			// last window, or since the first call if that is sooner).
			span := min(l.o.Window, now.Sub(l.first))
			if span < l.o.Window/10 {
				span = l.o.Window / 10
			}
			l.set(now, float64(len(l.accepted))/span.Seconds())
			return
		}
		if now.Sub(l.adjusted) >= l.o.Window/4 {
			l.set(now, float64(l.lim.Limit())*0.8)
		}
	case err == nil:
		if l.first.IsZero() {
			l.first = now
		}
		l.accepted = append(l.accepted, now)
		if l.lim.Limit() != rate.Inf {
			if since := now.Sub(l.adjusted); since >= l.o.Window/4 {
				growth := 1 + 0.1*since.Seconds()/l.o.Window.Seconds()
				l.set(now, float64(l.lim.Limit())*growth)
			}
		}
	}
}

func (l *limiter) set(now time.Time, perSecond float64) {
	perSecond = max(perSecond, l.o.Min)
	l.lim.SetLimitAt(now, rate.Limit(perSecond))
	l.lim.SetBurstAt(now, max(1, int(perSecond*l.o.Window.Seconds()/10)))
	l.adjusted = now
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
