package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// budgetKey carries, in the context of everything a cleanup does, the time
// on the engine's clock by which the cleanup must be over.
type budgetKey struct{}

func budgetFrom(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(budgetKey{}).(time.Time)
	return t, ok
}

// cleanup returns the context a cleanup runs in: not ended by the caller's
// context (the platform must be left in a known state) but bounded by
// Options.CleanupTimeout on the engine's clock, and by the context given to
// WithCleanupContext, if any. A cleanup already under way keeps its budget:
// nested stops and rollbacks never get a fresh one.
func (e *Engine) cleanup(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := budgetFrom(ctx); ok {
		return ctx, func() {}
	}
	until := e.opts.Clock.Now().Add(e.opts.CleanupTimeout)
	c := context.WithValue(context.WithoutCancel(ctx), budgetKey{}, until)
	cancels := []context.CancelFunc{}
	if _, ok := e.opts.Clock.(SystemClock); ok {
		// On the wall clock the same deadline also bounds calls that block.
		var cancel context.CancelFunc
		c, cancel = context.WithDeadline(c, until)
		cancels = append(cancels, cancel)
	}
	if cc, ok := ctx.Value(cleanupCtxKey{}).(context.Context); ok {
		var cancel context.CancelCauseFunc
		c, cancel = context.WithCancelCause(c)
		stop := context.AfterFunc(cc, func() { cancel(fmt.Errorf("cleanup cut short: %w", context.Cause(cc))) })
		cancels = append(cancels, func() { stop(); cancel(nil) })
	}
	return c, func() {
		for _, f := range cancels {
			f()
		}
	}
}

type cleanupCtxKey struct{}

// WithCleanupContext returns a context for Deploy, Execute, Wait or
// Rollback whose cleanups end early when cleanup is done. A cleanup is what
// the engine does to leave the platform in a known state after the
// caller's context ended or a gate refused (stop, wait, roll back); it
// normally outlives the caller's context, bounded by Options.CleanupTimeout.
// A CLI uses this for a second interrupt: the first cancels the deployment
// and the cleanup runs; the second ends cleanup too, and the engine returns
// at once with what it last saw.
func WithCleanupContext(ctx, cleanup context.Context) context.Context {
	return context.WithValue(ctx, cleanupCtxKey{}, cleanup)
}

// expired reports whether ctx carries a cleanup budget that has run out.
func (e *Engine) expired(ctx context.Context) bool {
	until, ok := budgetFrom(ctx)
	return ok && !e.opts.Clock.Now().Before(until)
}

// wait returns how long to wait before the next try: next, shortened to
// what is left of a cleanup budget. ok is false once the budget is spent.
func (e *Engine) wait(ctx context.Context, next time.Duration) (time.Duration, bool) {
	until, ok := budgetFrom(ctx)
	if !ok {
		return next, true
	}
	left := until.Sub(e.opts.Clock.Now())
	if left <= 0 {
		return 0, false
	}
	return min(next, left), true
}

// unknownError ends a wait whose outcome the engine could not learn: the
// status could not be read for StatusTimeout, or the cleanup budget ran out
// first. It wraps ErrTimeout and the last error seen.
type unknownError struct {
	status  Status
	percent float64
	why     string
	err     error
}

func (u *unknownError) Error() string {
	s := fmt.Sprintf("status unknown: %s; last seen %s at %s%% on the new revision", u.why, u.status, formatPercent(u.percent))
	if u.err != nil {
		s += ": " + u.err.Error()
	}
	return s
}

func (u *unknownError) Unwrap() []error {
	if u.err == nil {
		return []error{ErrTimeout}
	}
	return []error{ErrTimeout, u.err}
}

func unknown(d *Deployment, why string, err error) *unknownError {
	return &unknownError{status: d.Status, percent: d.Percent, why: why, err: err}
}

// joined is a list of errors that prints on one line. Its Unwrap() []error
// lets errors.Is and errors.As reach each one, as errors.Join does.
type joined []error

func (j joined) Error() string {
	parts := make([]string, len(j))
	for i, e := range j {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func (j joined) Unwrap() []error { return j }

// join returns nil for no errors, the error itself for one, and a joined
// list otherwise.
func join(errs []error) error {
	var out joined
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

func joinStatus(sentinel error, errs []error) error {
	if err := join(errs); err != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return sentinel
}

func revString(r *Revision) string {
	if r == nil {
		return "(none)"
	}
	return r.String()
}

// poller asks the driver for a deployment's status. A status it cannot read
// is unknown, not failed: it keeps asking for Options.StatusTimeout.
type poller struct {
	e            *Engine
	r            *run
	b            *backoff.ExponentialBackOff
	failingSince time.Time
	lastErr      error
}

func (e *Engine) poller(r *run) *poller {
	b := e.newBackoff()
	if e.batch != nil && e.batch.g.Window > 0 {
		// Polls the engine batches by time are meant to coincide: jitter
		// would spread a fleet's polls over several windows and so over
		// more StatusMany requests (the rate limiter spreads the requests).
		b.RandomizationFactor = 0
	}
	return &poller{e: e, r: r, b: b}
}

// once refreshes r from the driver. It returns an error when waiting must
// end: the context ended, the deployment is unknown to the platform
// (ErrNotFound), or its status stayed unreadable for StatusTimeout (an
// *unknownError).
func (p *poller) once(ctx context.Context) error {
	_ = p.r.renewLease(ctx) // a lost lease ends the run's loops (interrupted), not its cleanup
	d := p.r.snapshot()
	nd, err := p.e.status(p.r.retryCtx(ctx), d)
	switch {
	case err != nil:
	case nd == nil:
		err = errors.New("the driver reported no status")
	case nd.ID != d.ID:
		err = fmt.Errorf("the driver reported deployment %s when asked for %s", nd.ID, d.ID)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrNotFound) {
			return p.e.wrap("status", d.Target, d.ID, err)
		}
		if errors.Is(err, ErrThrottled) {
			// The platform answered: it is only busy. That never counts
			// toward giving up, and the engine's rate limiter, not a
			// longer backoff, paces the next try.
			p.lastErr = err
			p.b.Reset()
			p.r.emit(EventNote, "status throttled, asking again: "+err.Error())
			return nil
		}
		now := p.e.opts.Clock.Now()
		if p.failingSince.IsZero() {
			p.failingSince = now
		}
		p.lastErr = err
		if failing := now.Sub(p.failingSince); failing >= p.e.opts.StatusTimeout {
			return unknown(d, "no status could be read for "+failing.String(), err)
		}
		p.r.emit(EventNote, "status unknown, asking again: "+err.Error())
		return nil
	}
	p.failingSince, p.lastErr = time.Time{}, nil
	p.r.merge(nd)
	if nd.Status != d.Status || nd.Percent != d.Percent {
		p.b.Reset()
	}
	return nil
}

// sleep waits for the next poll or for ctx to end; with watchStop, a stop
// request also ends the wait (with errStopRequested). Within a cleanup, a
// spent budget ends it with an *unknownError.
func (p *poller) sleep(ctx context.Context, watchStop bool) error {
	next := p.b.NextBackOff()
	// Poll near step boundaries: a bake the strategy says ends sooner than
	// the next poll gets a poll right after its end.
	if ev := p.r.event(EventNote, ""); !ev.BakeUntil.IsZero() {
		if left := ev.BakeUntil.Sub(p.e.opts.Clock.Now()) + p.e.opts.Poll.MinDelay/2; left > 0 && left < next {
			next = left
		}
	}
	wait, ok := p.e.wait(ctx, next)
	if !ok {
		return unknown(p.r.snapshot(), "the cleanup time (Options.CleanupTimeout) ran out", p.lastErr)
	}
	var stop <-chan struct{}
	if watchStop {
		stop = p.r.stopCh
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-stop:
		return errStopRequested
	case <-p.e.opts.Clock.After(wait):
		return nil
	}
}

// settle polls until the platform reports a terminal status.
func (e *Engine) settle(ctx context.Context, r *run) error {
	p := e.poller(r)
	for {
		if err := p.once(ctx); err != nil {
			return err
		}
		if r.snapshot().Status.Terminal() {
			return nil
		}
		if err := p.sleep(ctx, false); err != nil {
			return err
		}
	}
}

// watch follows a platform-driven deployment, checking gates at each poll
// and once more when the platform reports success (PhaseAfterTraffic), and
// handling approvals through the driver's Continuer.
func (e *Engine) watch(ctx context.Context, r *run) error {
	p := e.poller(r)
	approvals := 0
	approved := false // the approval of the next Continue was given
	for _, st := range r.req.Strategy.Normalized() {
		if st.Kind == StepApprove {
			approvals++
		}
	}
	for {
		if err := e.interrupted(ctx, r); err != nil {
			return err
		}
		if err := p.once(ctx); err != nil {
			return err
		}
		d := r.snapshot()
		if d.Status.Terminal() {
			if d.Status == StatusSucceeded {
				// The platform may finish between two polls: the gates
				// still get their say on the finished deployment.
				return e.checkGates(ctx, r, PhaseAfterTraffic)
			}
			return nil
		}
		phase := PhaseWatch
		if d.Status == StatusBaking {
			phase = PhaseBake
		}
		if err := e.checkGates(ctx, r, phase); err != nil {
			return err
		}
		if d.Status == StatusReady && approvals > 0 {
			c, ok := e.drv.(Continuer)
			if !ok {
				return e.wrap("continue", d.Target, d.ID,
					fmt.Errorf("%w: the driver cannot continue a waiting deployment", ErrUnsupported))
			}
			if !approved {
				if err := e.hold(ctx, r, 0, true); err != nil {
					return err
				}
				approved = true
			}
			_, err := call(ctx, e.rates.mutation, func() (struct{}, error) { return struct{}{}, c.Continue(r.retryCtx(ctx), r.snapshot()) })
			switch {
			case err == nil:
				approvals--
				approved = false
				p.b.Reset()
				continue
			case errors.Is(err, ErrThrottled) && ctx.Err() == nil:
				// Not an answer: the approval stands, and Continue is
				// asked again after the next poll.
				r.emit(EventNote, "continue throttled, asking again: "+err.Error())
			default:
				return e.wrap("continue", d.Target, d.ID, err)
			}
		}
		if err := p.sleep(ctx, true); err != nil {
			return err
		}
	}
}

// finish handles whatever ended the loops: nothing (the platform reached a
// terminal state), an unknown status, a failure, an alarm, a stop request
// or the context.
func (e *Engine) finish(ctx context.Context, r *run, cause error) (*Deployment, error) {
	d := r.snapshot()
	var ue *unknownError
	switch {
	case cause == nil:
	case errors.As(cause, &ue):
		// Not failed: the engine does not know. It neither stops nor rolls
		// back what it cannot see, and says what it saw last.
		r.emit(EventNote, cause.Error())
		return d, e.wrap("deploy", d.Target, d.ID, cause)
	case ctx.Err() != nil && (errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded)):
		return e.cancelled(ctx, r)
	case errors.Is(cause, errStopRequested):
		so := r.stopRequested()
		return e.halt(ctx, r, so.Rollback, StatusStopped, so.Reason, nil)
	default:
		trigger := OnFailure
		if errors.Is(cause, ErrAlarm) {
			trigger = OnAlarm
		}
		return e.halt(ctx, r, r.req.RollbackOn.Has(trigger), StatusFailed, cause.Error(), cause)
	}
	// The platform ended it by itself.
	if d.Status == StatusSucceeded {
		return d, nil
	}
	perr := StatusError(d.Status)
	if d.Reason != "" {
		perr = fmt.Errorf("%w: %s", perr, d.Reason)
	}
	if d.Status == StatusFailed && r.req.RollbackOn.Has(OnFailure) && d.From != nil {
		cctx, cancel := e.cleanup(ctx)
		defer cancel()
		return e.rollbackAfter(cctx, r, perr)
	}
	return d, e.wrap("deploy", d.Target, d.ID, perr)
}

// cancelled leaves the platform in a known state after ctx ended.
func (e *Engine) cancelled(ctx context.Context, r *run) (*Deployment, error) {
	cerr := ctx.Err()
	if errors.Is(cerr, context.DeadlineExceeded) {
		cerr = fmt.Errorf("%w: %w", ErrTimeout, cerr)
	}
	if r.p.Mode == ModeEngine || e.opts.StopOnCancel {
		cctx, cancel := e.cleanup(ctx)
		defer cancel()
		rollback := r.p.Mode == ModeEngine || r.req.RollbackOn.Has(OnStopRequest)
		d, err := e.halt(cctx, r, rollback, StatusStopped, "context ended: "+ctx.Err().Error(), nil)
		var de *Error
		if errors.As(err, &de) {
			err = de.Err
		}
		return d, e.wrap("deploy", d.Target, d.ID, join([]error{cerr, err}))
	}
	d := r.snapshot()
	r.emit(EventNote, "stopped waiting; the platform carries on with the deployment")
	return d, e.wrap("deploy", d.Target, d.ID, cerr)
}

// halt stops the deployment (with rollback if asked), waits for the platform
// to settle and reports the result, all within one cleanup budget. failed is
// StatusFailed when a failure caused the halt and StatusStopped for stop
// requests; cause is the failure.
//
// The stop, the wait after it and any rollback deployment run in a cleanup
// context: the caller's context ending does not interrupt them, and
// Options.CleanupTimeout bounds them. When the platform could not be
// stopped, waiting for it to finish the deployment its own way is not
// cleanup: that wait runs in the caller's context (in the cleanup context
// once the caller's has ended).
func (e *Engine) halt(ctx context.Context, r *run, rollback bool, failed Status, reason string, cause error) (*Deployment, error) {
	waitCtx := ctx
	ctx, cancel := e.cleanup(ctx)
	defer cancel()
	if waitCtx.Err() != nil {
		waitCtx = ctx
	}
	var errs []error
	if cause != nil {
		errs = append(errs, cause)
	}
	causes := len(errs)
	stopped := false
	stopper, canStop := e.drv.(Stopper)
	switch {
	case r.snapshot().Status.Terminal():
		// Nothing to stop: the platform already ended it.
	case canStop:
		if err := e.stopLoop(ctx, r, stopper, StopOptions{Rollback: rollback, Reason: reason}); err != nil {
			errs = append(errs, err)
			// A refused stop usually means the deployment ended meanwhile:
			// learn how, so the outcome below is the platform's.
			_ = e.poller(r).once(ctx)
		} else {
			stopped = true
		}
	default:
		r.emit(EventNote, "the driver cannot stop deployments; waiting for the platform to finish")
	}
	// Wait for a terminal status unless the engine was driving and could not
	// stop: nothing would ever finish that deployment.
	switch {
	case stopped:
		if err := e.settle(ctx, r); err != nil {
			errs = append(errs, err)
		}
	case r.p.Mode == ModePlatform:
		if err := e.settle(waitCtx, r); err != nil {
			errs = append(errs, err)
		}
		// What follows the platform's own ending is a new cleanup.
		cancel()
		ctx, cancel = e.cleanup(waitCtx)
		defer cancel()
	}
	d := r.snapshot()
	if d.Status == StatusRolledBack {
		r.emit(EventRollback, "rolled back to "+revString(d.From))
		return d, e.wrap("deploy", d.Target, d.ID, joinStatus(ErrRolledBack, errs))
	}
	if rollback && d.From != nil {
		return e.rollbackAfter(ctx, r, join(errs))
	}
	if rollback {
		r.emit(EventNote, "nothing to roll back to: the target had no previous revision")
	}
	final := failed
	if !stopped {
		switch {
		case failed == StatusStopped && d.Status.Terminal():
			// A stop request the platform refused; it finished the
			// deployment its own way, and that is the outcome.
			final = d.Status
		case d.Status == StatusSucceeded:
			final = StatusFailed
			reason = "the platform completed the deployment, but: " + reason
		case r.p.Mode == ModeEngine:
			final = StatusFailed
			reason = "could not be stopped; the engine stopped shifting at " + formatPercent(d.Percent) + "%: " + reason
		default:
			final = StatusFailed
		}
	}
	if len(errs) > causes && !nestedRollback(ctx) {
		// The stop, or the wait after it, failed: say what the target is
		// left serving and what repairs it.
		errs = append(errs, e.left(ctx, r))
	}
	if final == StatusSucceeded {
		return d, e.wrap("deploy", d.Target, d.ID, join(errs))
	}
	r.setStatus(final, reason)
	return r.snapshot(), e.wrap("deploy", d.Target, d.ID, joinStatus(StatusError(final), errs))
}

// stopLoop asks the driver to stop until it says StopSucceeded. A platform
// that cannot stop without rolling back (ErrUnsupported) is asked again
// with rollback.
func (e *Engine) stopLoop(ctx context.Context, r *run, s Stopper, o StopOptions) error {
	b := e.newBackoff()
	for {
		_ = r.note(ctx, JournalStop, r.snapshot().Percent, o.Rollback)
		r.op.Lock()
		d := r.snapshot()
		out, err := call(ctx, e.rates.mutation, func() (StopOutcome, error) { return s.Stop(r.retryCtx(ctx), d, o) })
		r.op.Unlock()
		if errors.Is(err, ErrThrottled) && ctx.Err() == nil {
			// Not an answer: ask again after backing off, within the budget.
			r.emit(EventNote, "stop throttled, asking again: "+err.Error())
			out, err = StopPending, nil
		}
		if err != nil && !o.Rollback && errors.Is(err, ErrUnsupported) {
			r.emit(EventNote, "the platform cannot stop without rolling back; stopping with rollback")
			o.Rollback = true
			continue
		}
		if err != nil {
			ev := r.event(EventStop, "stop failed")
			ev.Err = err
			e.emit(ev)
			return e.wrap("stop", d.Target, d.ID, err)
		}
		r.emit(EventStop, "stop "+string(out))
		if out != StopPending {
			return nil
		}
		wait, ok := e.wait(ctx, b.NextBackOff())
		if !ok {
			return e.wrap("stop", d.Target, d.ID, unknown(r.snapshot(), "the stop was still pending when the cleanup time (Options.CleanupTimeout) ran out", nil))
		}
		select {
		case <-ctx.Done():
			return e.wrap("stop", d.Target, d.ID, context.Cause(ctx))
		case <-e.opts.Clock.After(wait):
		}
	}
}

// rollbackAfter returns the target to the failed deployment's From revision
// through a new deployment linked to it, within the cleanup budget of ctx.
// A rollback the platform throttled changed nothing: it is tried again
// after backing off, while the budget lasts. When the rollback cannot be
// done, the error says what the target is left serving (*LeftError).
func (e *Engine) rollbackAfter(ctx context.Context, r *run, cause error) (*Deployment, error) {
	d := r.snapshot()
	var causes []error
	if cause != nil {
		causes = append(causes, cause)
	}
	fail := func(reason string, err error) (*Deployment, error) {
		causes = append(causes, err)
		if !nestedRollback(ctx) {
			causes = append(causes, e.left(ctx, r))
		}
		r.setStatus(StatusFailed, reason)
		return r.snapshot(), e.wrap("deploy", d.Target, d.ID, joinStatus(ErrFailed, causes))
	}
	if e.expired(ctx) {
		return fail("the cleanup time ran out before the rollback to "+d.From.String()+" could start",
			unknown(d, "the cleanup time (Options.CleanupTimeout) ran out", nil))
	}
	if ctx.Err() != nil {
		return fail("the cleanup was cut short before the rollback to "+d.From.String()+" could start", context.Cause(ctx))
	}
	r.emit(EventRollback, "rolling back to "+d.From.String())
	req := Request{
		Target:     d.Target,
		Revision:   *d.From,
		Strategy:   AllAtOnce(),
		RollbackOf: d.ID,
		Comment:    "rollback of " + d.ID,
	}
	b := e.newBackoff()
	var rb *Deployment
	var err error
	for {
		rb, err = e.Deploy(context.WithValue(ctx, nestedRollbackKey{}, true), req)
		if err == nil || rb != nil || !errors.Is(err, ErrThrottled) || ctx.Err() != nil {
			break
		}
		wait, ok := e.wait(ctx, b.NextBackOff())
		if !ok {
			err = join([]error{err, unknown(d, "the rollback was still throttled when the cleanup time (Options.CleanupTimeout) ran out", nil)})
			break
		}
		r.emit(EventNote, "rollback throttled, trying again: "+err.Error())
		select {
		case <-ctx.Done():
		case <-e.opts.Clock.After(wait):
		}
	}
	if err != nil {
		return fail("rollback failed", fmt.Errorf("rollback: %w", err))
	}
	r.mu.Lock()
	r.d.RolledBackBy = rb.ID
	r.d.Percent = 0 // the rollback put all traffic back on From
	r.mu.Unlock()
	r.setStatus(StatusRolledBack, "")
	r.emit(EventRollback, "rolled back by "+rb.ID)
	return r.snapshot(), e.wrap("deploy", d.Target, d.ID, joinStatus(ErrRolledBack, causes))
}
