package deploy

import (
	"context"
	"errors"
	"sort"
	"time"
)

// servingGrace is how long the engine may spend reading what a target
// serves (ServingReader) once its cleanup failed, when less than that is
// left of the cleanup budget.
const servingGrace = 10 * time.Second

// nestedRollbackKey marks the context of the rollback deployment a cleanup
// starts (rollbackAfter): a cleanup failing inside it is reported once, by
// the cleanup that started it, which knows what the target should serve.
type nestedRollbackKey struct{}

func nestedRollback(ctx context.Context) bool { return ctx.Value(nestedRollbackKey{}) != nil }

// cutShort reports whether the caller ended the cleanup early
// (WithCleanupContext).
func cutShort(ctx context.Context) bool {
	cc, ok := ctx.Value(cleanupCtxKey{}).(context.Context)
	return ok && cc.Err() != nil
}

// left says what r's target is left serving after a cleanup that failed:
// read from the driver's ServingReader when it has one (once, bounded by
// what is left of the cleanup budget or servingGrace, whichever is
// longer), else r's last status. Call it before the run's final status is
// set: Live is the platform's last word.
func (e *Engine) left(ctx context.Context, r *run) *LeftError {
	d := r.snapshot()
	le := &LeftError{Target: d.Target, DeploymentID: d.ID, Live: !d.Status.Terminal()}
	switch {
	case d.RollbackOf != "":
		// A rollback is repaired by finishing it.
		to := d.To
		le.Repair = &to
	case d.From != nil:
		from := *d.From
		le.Repair = &from
	}
	if sr, ok := e.drv.(ServingReader); ok {
		if cutShort(ctx) {
			le.ReadErr = errors.New("the cleanup was cut short")
		} else {
			shares, err := e.readServing(ctx, r, sr, d.Target)
			if err == nil {
				le.Serving = orderShares(shares, d)
				return le
			}
			le.ReadErr = err
		}
	}
	le.LastSeen = true
	var seen []Share
	if d.Percent > 0 {
		seen = append(seen, Share{Revision: d.To, Percent: d.Percent})
	}
	if d.From != nil && d.Percent < 100 {
		seen = append(seen, Share{Revision: *d.From, Percent: 100 - d.Percent})
	}
	le.Serving = seen
	return le
}

// readServing asks the driver once what t serves, in a context the caller's
// end does not cancel: bounded by the cleanup budget (at least
// servingGrace) on the wall clock, and by WithCleanupContext.
func (e *Engine) readServing(ctx context.Context, r *run, sr ServingReader, t Target) ([]Share, error) {
	bound := servingGrace
	if until, ok := budgetFrom(ctx); ok {
		if left := until.Sub(e.opts.Clock.Now()); left > bound {
			bound = left
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if _, ok := e.opts.Clock.(SystemClock); ok {
		var stop context.CancelFunc
		rctx, stop = context.WithTimeout(rctx, bound)
		defer stop()
	}
	if cc, ok := ctx.Value(cleanupCtxKey{}).(context.Context); ok {
		defer context.AfterFunc(cc, cancel)()
	}
	return call(rctx, e.rates.status, func() ([]Share, error) { return sr.ReadServing(r.ctx(rctx), t) })
}

// orderShares drops empty shares and puts d's To first, its From second,
// then the rest, largest first.
func orderShares(in []Share, d *Deployment) []Share {
	out := make([]Share, 0, len(in))
	for _, s := range in {
		if s.Percent <= 0 {
			continue
		}
		switch {
		case s.Revision.Label != "":
		case s.Revision.ID == d.To.ID:
			s.Revision.Label = d.To.Label
		case d.From != nil && s.Revision.ID == d.From.ID:
			s.Revision.Label = d.From.Label
		}
		out = append(out, s)
	}
	rank := func(s Share) int {
		switch {
		case s.Revision.ID == d.To.ID:
			return 0
		case d.From != nil && s.Revision.ID == d.From.ID:
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		return out[i].Percent > out[j].Percent
	})
	return out
}
