// Package gather gathers requests that arrive close together in time into
// batches: the first request opens a window on a clock, every request that
// arrives before it closes, or while the batch before is being sent, goes
// out in the next batch. The engine's StatusMany polls and the alarm
// gates' DescribeAlarms lookups share it.
package gather

import (
	"sync"
	"time"
)

// Clock is the source of time for the window.
type Clock interface {
	After(d time.Duration) <-chan time.Time
}

// Gatherer batches requests of type R. Its zero value is not usable: Clock
// and Send must be set, and must not change once Add has been called.
type Gatherer[R any] struct {
	// Clock times the window.
	Clock Clock
	// Window is how long a batch gathers requests from its first; zero or
	// less sends at once (requests still gather while a batch is sent).
	Window time.Duration
	// Send is called with each batch, from one goroutine at a time; it
	// must answer every request of the batch (through whatever the
	// request carries) before it returns.
	Send func(batch []R)

	mu      sync.Mutex
	pending []R
	busy    bool
}

// Add puts r in the next batch.
func (g *Gatherer[R]) Add(r R) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending = append(g.pending, r)
	if !g.busy {
		g.busy = true
		go g.flush()
	}
}

// flush sends batches until nothing is pending: the first after the
// window, each next one (the requests that came while the one before was
// being sent) after another.
func (g *Gatherer[R]) flush() {
	for {
		if g.Window > 0 {
			<-g.Clock.After(g.Window)
		}
		g.mu.Lock()
		batch := g.pending
		g.pending = nil
		if len(batch) == 0 {
			g.busy = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.Send(batch)
		g.mu.Lock()
		if len(g.pending) == 0 {
			// Nothing came while the batch was sent: the next request
			// opens a new window.
			g.busy = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
	}
}

// Pending is the number of requests waiting for the next batch.
func (g *Gatherer[R]) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}
