package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/gather"
)

// batcher gathers the status polls of concurrent deployments into
// StatusMany calls: the first poll to fall due opens a window (on the
// engine's clock); every poll that arrives before it closes, or while a
// call is in flight, goes out together in the next call.
type batcher struct {
	sb   StatusBatcher
	lim  *limiter // the engine's status family
	size int      // deployments a StatusMany call may carry; 0: any
	g    gather.Gatherer[*batchReq]
}

func newBatcher(sb StatusBatcher, lim *limiter, clock Clock, window time.Duration, size int) *batcher {
	b := &batcher{sb: sb, lim: lim, size: size}
	b.g = gather.Gatherer[*batchReq]{Clock: clock, Window: window, Send: b.send}
	return b
}

type batchReq struct {
	ctx  context.Context
	d    *Deployment
	done chan batchResult
}

type batchResult struct {
	d   *Deployment
	err error
}

// status asks for d's status in the next batch.
func (b *batcher) status(ctx context.Context, d *Deployment) (*Deployment, error) {
	req := &batchReq{ctx: ctx, d: d, done: make(chan batchResult, 1)}
	b.g.Add(req)
	select {
	case r := <-req.done:
		return r.d, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *batcher) send(batch []*batchReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() == nil {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	if size := b.size; size > 0 && len(live) > size {
		for i := 0; i < len(live); i += size {
			b.send(live[i:min(i+size, len(live))])
		}
		return
	}
	ds := make([]*Deployment, len(live))
	for i, r := range live {
		ds[i] = r.d
	}
	// The call serves several callers, so no single caller's cancellation
	// may end it; it carries the first caller's values and a time limit.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), callTimeout)
	defer cancel()
	out, err := call(ctx, b.lim, func() ([]*Deployment, error) { return b.sb.StatusMany(ctx, ds) })
	for i, r := range live {
		var nd *Deployment
		if i < len(out) {
			nd = out[i]
		}
		if nd != nil {
			r.done <- batchResult{d: nd}
			continue
		}
		r.done <- batchResult{err: errorFor(err, r.d.ID)}
	}
}

// callTimeout bounds one StatusMany call made on behalf of several
// deployments.
const callTimeout = 2 * time.Minute

// errorFor picks the error about deployment id out of a StatusMany error,
// may join several (errors.Join, or any error with Unwrap() []error).
func errorFor(err error, id string) error {
	if err == nil {
		return fmt.Errorf("%w: no status reported for deployment %s", ErrNotFound, id)
	}
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	for _, e := range parts {
		var de *Error
		if errors.As(e, &de) && de.DeploymentID == id {
			return e
		}
	}
	var de *Error
	if errors.As(err, &de) && de.DeploymentID != "" && de.DeploymentID != id {
		return fmt.Errorf("no status reported for deployment %s: %w", id, err)
	}
	return err
}
