package deploy

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateOptions configure the engine's adaptive rate control. The engine
// keeps one limiter per family of driver calls (plans, status reads,
// mutations, gate checks), shared by every deployment it runs. A limiter
// lets calls through freely until the platform throttles one (an error
// wrapping ErrThrottled); it then holds the family to the rate the
// platform was seen to accept. Each throttled call that was let through
// under the current limit cuts it to the rate the platform accepted over
// the last Window (or since the first call), by a fifth at least and by half at most (calls let
// through before a change say nothing about the new limit, so they cut
// nothing); after a quarter Window without a throttle it raises the limit
// by a tenth a Window, in quarter-Window steps. Calls already waiting are
// queued again at every change, so a cut takes effect at once. A fleet so
// settles just under the platform's limit instead of retrying in a storm.
// The zero value means every default.
type RateOptions struct {
	// Off turns adaptive rate control off: calls are never delayed, and
	// throttled ones are only retried after the poll backoff.
	Off bool
	// Min is the lowest rate, in calls per second, a family is slowed to.
	// Default 1 (AWS's lowest documented rate, RegisterTaskDefinition's).
	Min float64
	// Window is how far back the engine measures the rate the platform
	// accepts, and how often it adjusts the limit. Default 1s.
	Window time.Duration
}

func (o RateOptions) withDefaults() RateOptions {
	if o.Min <= 0 {
		o.Min = 1
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
	gen      uint64        // counts the changes of the limit
	changed  chan struct{} // closed when the limit changes: waiters queue again
	accepted window        // calls that went through, over the last o.Window
	adjusted time.Time     // when the limit last changed
	throttle time.Time     // the last throttled call
	first    time.Time     // the first call that went through
}

func newLimiter(clock Clock, o RateOptions) *limiter {
	return &limiter{clock: clock, o: o, lim: rate.NewLimiter(rate.Inf, 1), changed: make(chan struct{})}
}

// wait holds the caller until the family's rate lets one more call go, and
// returns the limit's generation the call went under.
func (l *limiter) wait(ctx context.Context) (uint64, error) {
	if l == nil {
		return 0, nil
	}
	for {
		l.mu.Lock()
		now := l.clock.Now()
		r := l.lim.ReserveN(now, 1)
		delay := r.DelayFrom(now)
		changed, gen := l.changed, l.gen
		l.mu.Unlock()
		if delay <= 0 {
			return gen, nil
		}
		select {
		case <-ctx.Done():
			r.CancelAt(l.clock.Now())
			return 0, ctx.Err()
		case <-l.clock.After(delay):
			return gen, nil
		case <-changed:
			// The limit changed while this call waited: its place in the
			// queue was taken at the old rate, so queue again at the new
			// one (the old limiter, and the reservation, are dropped).
		}
	}
}

// done records how a call of the family, let through under generation gen
// of the limit, went.
func (l *limiter) done(gen uint64, err error) {
	if l == nil {
		return
	}
	throttled := errors.Is(err, ErrThrottled)
	if err != nil && !throttled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if !throttled {
		if l.first.IsZero() {
			l.first = now
		}
		l.accepted.add(now, l.o.Window)
		quarter := l.o.Window / 4
		if l.lim.Limit() != rate.Inf && now.Sub(l.throttle) >= quarter {
			if since := now.Sub(l.adjusted); since >= quarter {
				growth := 1 + 0.1*since.Seconds()/l.o.Window.Seconds()
				l.set(now, float64(l.lim.Limit())*min(growth, 2))
			}
		}
		return
	}
	l.throttle = now
	// What the platform accepted over the last window, or since the first
	// call if that is sooner (a tenth of a window at least).
	span := max(min(l.o.Window, now.Sub(l.first)), l.o.Window/10)
	accepted := float64(l.accepted.count(now, l.o.Window)) / span.Seconds()
	if l.lim.Limit() == rate.Inf {
		l.set(now, accepted) // the first throttle: start there
		return
	}
	if gen != l.gen {
		return // let through before the last change: it says nothing of this limit
	}
	// Throttled under this limit: down to what the platform accepted, by a
	// fifth at least and by half at most.
	limit := float64(l.lim.Limit())
	l.set(now, max(min(limit*0.8, accepted), limit/2))
}

// window counts events over the last Window of time in slots of a
// fortieth of it, so it costs the same however many calls a family makes
// (a fake clock that never moves included).
type window struct {
	base time.Time // slot indexes count from here: any clock, any year
	slot [40]struct {
		at int64 // the slot's index in time: time since base / slot width
		n  int
	}
}

// index is the slot index of now, for a window of span.
func (w *window) index(now time.Time, span time.Duration) int64 {
	if w.base.IsZero() {
		w.base = now
	}
	width := max(int64(span)/int64(len(w.slot)), 1)
	return max(int64(now.Sub(w.base)), 0) / width
}

func (w *window) add(now time.Time, span time.Duration) {
	at := w.index(now, span)
	s := &w.slot[at%int64(len(w.slot))]
	if s.at != at {
		s.at, s.n = at, 0
	}
	s.n++
}

// count is the events of the last span (to within a slot).
func (w *window) count(now time.Time, span time.Duration) int {
	at := w.index(now, span)
	n := 0
	for _, s := range w.slot {
		if s.at > at-int64(len(w.slot)) && s.at <= at {
			n += s.n
		}
	}
	return n
}

// set changes the limit and wakes the waiting calls to queue again at it.
func (l *limiter) set(now time.Time, perSecond float64) {
	perSecond = max(perSecond, l.o.Min)
	burst := max(1, int(perSecond*l.o.Window.Seconds()/10))
	// A new limiter starts with no tokens to spend: a burst let through
	// right after a change would meet a platform whose own bucket is
	// empty, be throttled, and cut the new limit at once (down to Min in
	// a few such rounds). The calls queued at the old rate come back for
	// a place at the new one.
	l.lim = rate.NewLimiter(rate.Limit(perSecond), burst)
	l.lim.ReserveN(now, burst)
	close(l.changed)
	l.changed = make(chan struct{})
	l.adjusted = now
	l.gen++
}

// limit is the family's current limit (rate.Inf until the first throttle).
func (l *limiter) limit() rate.Limit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lim.Limit()
}

// rates is an engine's limiters, one per family of driver calls.
type rates struct {
	prepare, status, mutation, gate *limiter
}

func newRates(clock Clock, o RateOptions) rates {
	if o.Off {
		return rates{}
	}
	o = o.withDefaults()
	return rates{prepare: newLimiter(clock, o), status: newLimiter(clock, o), mutation: newLimiter(clock, o), gate: newLimiter(clock, o)}
}

// call runs f under l's rate and records how it went.
func call[T any](ctx context.Context, l *limiter, f func() (T, error)) (T, error) {
	gen, err := l.wait(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := f()
	l.done(gen, err)
	return v, err
}
