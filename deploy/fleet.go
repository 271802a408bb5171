package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// FleetOptions configure DeployAll.
type FleetOptions struct {
	// FailFast cancels the deployments still running or waiting once one
	// fails. By default a failure does not affect the others.
	FailFast bool
	// Concurrency overrides Options.Concurrency for this call when > 0.
	Concurrency int
}

// DeployAll deploys many targets at once, at most Concurrency at a time. It
// returns one result per request, in request order (nil where nothing
// started), and an error joining each failed target's *Error in request
// order (errors.Join: its Unwrap() []error lists them), or nil when all
// succeeded. One target's failure does not
// cancel the others unless o.FailFast is set.
func (e *Engine) DeployAll(ctx context.Context, reqs []Request, o FleetOptions) ([]*Deployment, error) {
	limit := o.Concurrency
	if limit <= 0 {
		limit = e.opts.Concurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]*Deployment, len(reqs))
	errs := make([]error, len(reqs))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	// Slots are taken in request order, so with a limit the first requests
	// start first.
	for i, req := range reqs {
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			if acquired {
				<-sem
			}
			errs[i] = e.wrap("deploy", req.Target, "", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i], errs[i] = e.Deploy(ctx, req)
			if errs[i] != nil && o.FailFast {
				cancel()
			}
		}()
	}
	wg.Wait()
	return results, errors.Join(errs...)
}

// FleetItem is one target of an ordered fleet.
type FleetItem struct {
	// Name identifies the item within the fleet, for After and results.
	// Default: the request's Target.String().
	Name string
	// Request is the deployment to run. Its Target.Platform picks the
	// engine; empty means the fleet's only engine.
	Request Request
	// After names the items that must succeed before this one starts.
	After []string
}

// FleetResult is what became of one fleet item.
type FleetResult struct {
	// Name is the item's name.
	Name string
	// Deployment is the final deployment, nil when none was started.
	Deployment *Deployment
	// Err is the item's error: the deployment's own, or, for an item that
	// never started, one wrapping ErrSkipped that names the dependency
	// that failed.
	Err error
	// Started is true when the item's deployment was planned and started.
	Started bool
}

// ErrSkipped marks a fleet item that never started because an item it
// depends on failed (or the fleet was stopped first).
var ErrSkipped = errors.New("deploy: skipped")

// Fleet deploys many targets, across platforms, in dependency order: an
// item starts only once every item it names in After has succeeded. The
// zero Fleet is not usable: it needs at least one engine.
type Fleet struct {
	// Engines run the items, one per platform, chosen by each request's
	// Target.Platform (an engine's driver's Platform()). Required.
	Engines []*Engine
	// Concurrency bounds how many items run at once. Default 4.
	Concurrency int
	// FailFast stops starting new items once one fails; items already
	// running go on. By default only the items downstream of a failure are
	// skipped.
	FailFast bool
}

// Deploy runs the fleet. It validates the whole fleet before any call (an
// item with no engine for its platform, a duplicate name, an After naming
// no item, a cycle: each a *ValidationError), then starts every item whose
// dependencies have succeeded, at most Concurrency at a time, in the order
// given among those ready. An item whose dependency failed is never
// started and reports ErrSkipped, and so is everything downstream of it.
// The results come in item order; the error joins the failed and skipped
// items' errors (errors.Join), nil when every item succeeded.
func (f Fleet) Deploy(ctx context.Context, items []FleetItem) ([]FleetResult, error) {
	plan, err := f.order(items)
	if err != nil {
		return nil, err
	}
	limit := f.Concurrency
	if limit <= 0 {
		limit = 4
	}
	n := len(items)
	results := make([]FleetResult, n)
	for i := range items {
		results[i].Name = plan.names[i]
	}
	const (
		waiting = iota
		running
		succeeded
		failed
	)
	state := make([]int, n)
	done := make(chan int)
	active := 0
	stopped := false
	for {
		// Skip what can no longer run and start what can, until a pass
		// changes nothing (a skip may doom an item scanned before it).
		for changed := true; changed; {
			changed = false
			for i := range n {
				if state[i] != waiting {
					continue
				}
				ready := true
				for _, dep := range plan.after[i] {
					switch state[dep] {
					case failed:
						state[i], changed = failed, true
						results[i].Err = fmt.Errorf("%w: %s: %s did not succeed", ErrSkipped, plan.names[i], plan.names[dep])
					case succeeded:
						continue
					default:
						ready = false
					}
					if state[i] == failed {
						break
					}
				}
				if state[i] == failed || !ready {
					continue
				}
				if stopped || ctx.Err() != nil {
					state[i], changed = failed, true
					reason := "the fleet stopped after a failure"
					if ctx.Err() != nil {
						reason = ctx.Err().Error()
					}
					results[i].Err = fmt.Errorf("%w: %s: %s", ErrSkipped, plan.names[i], reason)
					continue
				}
				if active >= limit {
					continue
				}
				state[i], changed = running, true
				active++
				go func(i int) {
					d, err := plan.engines[i].Deploy(ctx, items[i].Request)
					results[i].Deployment, results[i].Err, results[i].Started = d, err, d != nil
					done <- i
				}(i)
			}
		}
		if active == 0 {
			break
		}
		i := <-done
		active--
		if results[i].Err == nil {
			state[i] = succeeded
		} else {
			state[i] = failed
			stopped = stopped || f.FailFast
		}
	}
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return results, errors.Join(errs...)
}

type fleetPlan struct {
	names   []string
	engines []*Engine
	after   [][]int
}

// order validates the fleet and resolves names, engines and dependencies.
func (f Fleet) order(items []FleetItem) (fleetPlan, error) {
	p := fleetPlan{names: make([]string, len(items)), engines: make([]*Engine, len(items)), after: make([][]int, len(items))}
	if len(f.Engines) == 0 {
		return p, Invalid("fleet.engines", "", "at least one engine is required")
	}
	byPlatform := map[string]*Engine{}
	for _, e := range f.Engines {
		byPlatform[e.platform()] = e
	}
	index := map[string]int{}
	for i, it := range items {
		name := it.Name
		if name == "" {
			name = it.Request.Target.String()
		}
		if _, dup := index[name]; dup {
			return p, Invalid(fmt.Sprintf("items[%d].name", i), name, "another item has this name")
		}
		index[name] = i
		p.names[i] = name
		pl := it.Request.Target.Platform
		switch {
		case pl != "":
			p.engines[i] = byPlatform[pl]
		case len(f.Engines) == 1:
			p.engines[i] = f.Engines[0]
		}
		if p.engines[i] == nil {
			return p, Invalid(fmt.Sprintf("items[%d].request.target.platform", i), pl, "no engine of the fleet deploys to this platform")
		}
	}
	for i, it := range items {
		for _, a := range it.After {
			j, ok := index[a]
			if !ok {
				return p, Invalid(fmt.Sprintf("items[%d].after", i), a, "names no item of the fleet")
			}
			p.after[i] = append(p.after[i], j)
		}
	}
	if cycle := findCycle(p.after); cycle != nil {
		names := make([]string, len(cycle))
		for k, i := range cycle {
			names[k] = p.names[i]
		}
		return p, Invalid("items.after", strings.Join(names, " -> "), "the items depend on each other in a cycle")
	}
	return p, nil
}

// findCycle returns the items of a dependency cycle, first repeated last,
// or nil when there is none.
func findCycle(after [][]int) []int {
	const (
		unseen = iota
		open
		closed
	)
	mark := make([]int, len(after))
	var stack []int
	var visit func(i int) []int
	visit = func(i int) []int {
		mark[i] = open
		stack = append(stack, i)
		for _, j := range after[i] {
			switch mark[j] {
			case open:
				for k, s := range stack {
					if s == j {
						return append(append([]int(nil), stack[k:]...), j)
					}
				}
			case unseen:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		mark[i] = closed
		return nil
	}
	for i := range after {
		if mark[i] == unseen {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}
