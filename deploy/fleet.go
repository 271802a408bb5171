package deploy

import (
	"context"
	"errors"
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
