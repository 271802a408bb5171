package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// PollOptions set how often the engine asks a driver for status. Delays grow
// exponentially from MinDelay to MaxDelay and start again from MinDelay
// whenever the deployment changes.
type PollOptions struct {
	// MinDelay is the first delay. Default 2s.
	MinDelay time.Duration
	// MaxDelay caps the delay. Default 30s. Whatever the delay, a bake the
	// strategy says ends sooner gets a poll right after its end.
	MaxDelay time.Duration
	// Multiplier grows the delay after each unchanged poll. Default 1.5.
	Multiplier float64
	// Jitter randomizes each delay by up to this fraction (0..1), which
	// spreads the polls of a large fleet so they do not come in lockstep.
	// Default 0.2; a negative value turns jitter off (deterministic
	// delays). Status polls the engine batches by time (see BatchWindow)
	// are not jittered: they are meant to coincide, and their StatusMany
	// requests are spread by the engine's rate control.
	Jitter float64
	// BatchWindow, for drivers that are a StatusBatcher, is how long the
	// engine gathers the polls that fall due before it sends them as one
	// StatusMany call, so a fleet's polls batch by time, not only while a
	// call is in flight. Default 250ms; a negative value sends at once.
	BatchWindow time.Duration
}

// Options configure an Engine. The zero value means every default.
type Options struct {
	// Clock is the source of time for every wait. Default SystemClock{}.
	Clock Clock
	// Logger receives structured logs of every event. Default: discard.
	Logger *slog.Logger
	// OnEvent, when set, receives every event. With DeployAll it is called
	// from several goroutines at once and must be safe for that.
	OnEvent func(Event)
	// Poll sets the status polling backoff.
	Poll PollOptions
	// GateInterval is how often gates are checked during bake and approval
	// waits. Default 30s. Gates are also checked after every shift.
	GateInterval time.Duration
	// Concurrency bounds how many deployments DeployAll runs at once.
	// Default 4.
	Concurrency int
	// CleanupTimeout bounds, on Clock, everything the engine does to leave
	// the platform in a known state once a deployment must end early (a
	// gate refused it, a stop was requested, the caller's context ended):
	// the stop, the wait for the platform to settle and any rollback
	// deployment, nested ones included, share this one budget; a throttled
	// stop or rollback is asked again within it. When it runs out the
	// engine returns what it last saw with an error wrapping ErrTimeout and
	// holding a *LeftError, for which it reads what the target serves
	// (ServingReader) for what is left of the budget or 10 seconds,
	// whichever is longer. Default 15 minutes: long enough for a platform rollback
	// (an ECS service back to steady state, a CodeDeploy stop that stays
	// pending through a bake), and still a bound: a platform whose status
	// never settles cannot hold Deploy forever.
	CleanupTimeout time.Duration
	// StatusTimeout is how long, on Clock, the engine keeps asking for the
	// status of a deployment whose Status calls keep failing (throttling, the
	// network) before it gives up. A status it cannot read is unknown, not
	// failed: the engine neither stops nor rolls back such a deployment, and
	// gives up with an error wrapping ErrTimeout that names the last status
	// it saw. Errors wrapping ErrNotFound end the wait at once. Default 10
	// minutes.
	StatusTimeout time.Duration
	// Rate configures the adaptive rate control the engine applies to its
	// driver calls, shared by all its deployments (see RateOptions).
	Rate RateOptions
	// StopOnCancel makes the engine stop (and, where the rollback policy has
	// OnStopRequest, roll back) a platform-driven deployment when the
	// caller's context ends. By default such a deployment is left to the
	// platform, which finishes or rolls it back by itself; engine-driven
	// deployments are always stopped and rolled back, since nothing else
	// would finish them.
	StopOnCancel bool
	// Store, when set, keeps every deployment's journal, each target's
	// revision history and a per-target lock (see Store): a second
	// deployment to a target locked by another engine, process or machine
	// is refused with a *LockedError naming the holder, Engine.Resume
	// finishes what a dead process left, and Rollback finds the last known
	// good revision there. Default nil: deployments live only in memory.
	Store Store
	// LockLease is how long a store lock holds without renewal. The engine
	// renews it whenever it wakes (each poll, gate check and step) once a
	// third of it has passed, so it must be longer than Poll.MaxDelay and
	// GateInterval; a lock whose holder died is free once it expires. A
	// run that finds its lease taken by someone else (it expired, and
	// another engine took the lock) ends with an error wrapping
	// ErrLockLost, and its OnFailure rollback policy applies.
	// Default 1 minute.
	LockLease time.Duration
	// Owner names the holder of the engine's store locks for people ("alice",
	// "ci job 42"). Default: the USER environment variable, else the
	// current user's name.
	Owner string
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Poll.MinDelay <= 0 {
		o.Poll.MinDelay = 2 * time.Second
	}
	if o.Poll.MaxDelay <= 0 {
		o.Poll.MaxDelay = 30 * time.Second
	}
	if o.Poll.MaxDelay < o.Poll.MinDelay {
		o.Poll.MaxDelay = o.Poll.MinDelay
	}
	if o.Poll.Multiplier < 1 {
		o.Poll.Multiplier = 1.5
	}
	switch {
	case o.Poll.Jitter == 0:
		o.Poll.Jitter = 0.2
	case o.Poll.Jitter < 0:
		o.Poll.Jitter = 0
	case o.Poll.Jitter > 1:
		o.Poll.Jitter = 1
	}
	switch {
	case o.Poll.BatchWindow == 0:
		o.Poll.BatchWindow = 250 * time.Millisecond
	case o.Poll.BatchWindow < 0:
		o.Poll.BatchWindow = 0
	}
	if o.GateInterval <= 0 {
		o.GateInterval = 30 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.CleanupTimeout <= 0 {
		o.CleanupTimeout = 15 * time.Minute
	}
	if o.StatusTimeout <= 0 {
		o.StatusTimeout = 10 * time.Minute
	}
	if o.LockLease <= 0 {
		o.LockLease = time.Minute
	}
	return o
}

// Engine runs deployments through a Driver: plan, start, shift, bake, gate,
// wait, stop and roll back. It is safe for concurrent use.
type Engine struct {
	drv  Driver
	opts Options

	batch *batcher // nil unless the driver is a StatusBatcher
	rates rates

	mu      sync.Mutex
	running map[string]*run
	targets map[string]string // target → ID of the deployment this engine runs on it
}

// New returns an Engine for drv. opts may be the zero value.
func New(drv Driver, opts Options) *Engine {
	e := &Engine{drv: drv, opts: opts.withDefaults(), running: map[string]*run{}, targets: map[string]string{}}
	e.rates = newRates(e.opts.Clock, e.opts.Rate)
	if sb, ok := drv.(StatusBatcher); ok {
		size := 0
		if bs, ok := drv.(BatchSizer); ok && bs.StatusBatchSize() > 0 {
			size = bs.StatusBatchSize()
		}
		e.batch = newBatcher(sb, e.rates.status, e.opts.Clock, e.opts.Poll.BatchWindow, size)
	}
	return e
}

// Driver returns the engine's driver.
func (e *Engine) Driver() Driver { return e.drv }

// run is the engine's state for one live deployment.
type run struct {
	e   *Engine
	req Request
	p   *Plan

	op sync.Mutex // serializes Shift and Stop on this deployment
	j  *journal   // the store's journal and lock, nil without Options.Store

	mu        sync.Mutex
	d         *Deployment
	seen      map[string]bool
	stop      *StopOptions
	stopCh    chan struct{}
	approve   chan struct{}
	waiting   bool      // in an approval wait
	bakeUntil time.Time // end of the bake the engine holds, if any
}

func (r *run) snapshot() *Deployment {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.d.Clone()
}

func (r *run) stopRequested() *StopOptions {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stop
}

// errStopRequested marks a loop that ended because someone asked to stop.
var errStopRequested = errors.New("stop requested")

func (e *Engine) platform() string { return e.drv.Platform() }

func (e *Engine) wrap(op string, t Target, id string, err error) error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) && de.Op == op && de.DeploymentID == id {
		return err
	}
	return &Error{Platform: e.platform(), Op: op, Target: t.String(), DeploymentID: id, Err: err}
}

// targetCtx returns ctx carrying a Notifier whose notes are events of
// target t, for driver calls made before a deployment exists (Prepare,
// Start).
func (e *Engine) targetCtx(ctx context.Context, t Target) context.Context {
	return alsoNotify(ctx, func(kind EventKind, msg string) {
		e.emit(Event{Kind: kind, Target: t.String(), Message: msg})
	})
}

// alsoNotify returns ctx carrying a Notifier that calls n and then the
// notifier ctx already carried, if any: the engine reports a driver's notes
// as events without taking them from a caller that collects them itself.
func alsoNotify(ctx context.Context, n Notifier) context.Context {
	prev, ok := ctx.Value(notifierKey{}).(Notifier)
	if !ok || prev == nil {
		return WithNotifier(ctx, n)
	}
	return WithNotifier(ctx, func(kind EventKind, msg string) {
		n(kind, msg)
		prev(kind, msg)
	})
}

func (e *Engine) emit(ev Event) {
	ev.Time = e.opts.Clock.Now()
	attrs := []any{"kind", ev.Kind, "target", ev.Target}
	if ev.DeploymentID != "" {
		attrs = append(attrs, "deployment", ev.DeploymentID)
	}
	if ev.Status != "" {
		attrs = append(attrs, "status", ev.Status)
	}
	if ev.Kind == EventShift || ev.Kind == EventStep {
		attrs = append(attrs, "step", ev.Step, "percent", ev.Percent)
	}
	if ev.Gate != "" {
		attrs = append(attrs, "gate", ev.Gate, "phase", ev.Phase)
	}
	if ev.Err != nil {
		attrs = append(attrs, "err", ev.Err)
	}
	level := slog.LevelInfo
	if ev.Err != nil {
		level = slog.LevelWarn
	}
	e.opts.Logger.Log(context.Background(), level, ev.Message, attrs...)
	if e.opts.OnEvent != nil {
		e.opts.OnEvent(ev)
	}
}

func (r *run) event(kind EventKind, msg string) Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := Event{Kind: kind, DeploymentID: r.d.ID, Target: r.d.Target.String(), Status: r.d.Status,
		Step: r.d.Step, Percent: r.d.Percent, Message: msg}
	progress(&ev, r.d, r.bakeUntil, r.e.opts.Clock.Now())
	return ev
}

func (r *run) emit(kind EventKind, msg string) { r.e.emit(r.event(kind, msg)) }

// notifier returns ctx carrying a Notifier that reports through r.
func (r *run) ctx(ctx context.Context) context.Context {
	return alsoNotify(ctx, func(kind EventKind, msg string) { r.emit(kind, msg) })
}

// retryCtx is r.ctx for a call the engine asks again when it is throttled
// (see EngineRetriesThrottles).
func (r *run) retryCtx(ctx context.Context) context.Context {
	return r.ctx(WithEngineRetries(ctx))
}

// setStatus changes the engine's view of the status and reports the change.
func (r *run) setStatus(s Status, reason string) {
	r.mu.Lock()
	changed := r.d.Status != s
	r.d.Status = s
	if reason != "" {
		r.d.Reason = reason
	}
	if s.Terminal() && r.d.EndedAt.IsZero() {
		r.d.EndedAt = r.e.opts.Clock.Now()
	}
	r.mu.Unlock()
	if changed {
		r.emit(EventStatus, string(s))
	}
}

// merge takes a driver's fresh view of the deployment and reports what is new.
func (r *run) merge(nd *Deployment) {
	if nd == nil {
		return
	}
	r.mu.Lock()
	old := r.d
	nd = nd.Clone()
	if nd.RollbackOf == "" {
		nd.RollbackOf = old.RollbackOf
	}
	if len(nd.Strategy.Steps) == 0 {
		nd.Strategy = old.Strategy
	}
	if nd.From == nil {
		nd.From = old.From
	}
	var fresh []Message
	for _, m := range nd.Messages {
		if !r.seen[m.ID] {
			r.seen[m.ID] = true
			fresh = append(fresh, m)
		}
	}
	statusChanged := nd.Status != old.Status
	shifted := nd.Percent != old.Percent
	if nd.Status.Terminal() && nd.EndedAt.IsZero() {
		nd.EndedAt = r.e.opts.Clock.Now()
	}
	r.d = nd
	r.mu.Unlock()
	for _, m := range fresh {
		ev := r.event(EventMessage, m.Text)
		r.e.emit(ev)
	}
	if shifted {
		msg := fmt.Sprintf("%s%% on %s", formatPercent(nd.Percent), nd.To)
		if nd.Percent == 0 && nd.From != nil {
			msg = "all traffic back on " + nd.From.String()
		}
		r.emit(EventShift, msg)
	}
	if statusChanged {
		r.emit(EventStatus, string(nd.Status))
	}
}

// Plan validates req and asks the driver what it would do. It makes no
// mutating platform call: it is the dry run. Bad input is reported with an
// error wrapping ErrInvalidRequest before the driver is called.
func (e *Engine) Plan(ctx context.Context, req Request) (*Plan, error) {
	req, err := e.validate(req)
	if err != nil {
		return nil, e.wrap("plan", req.Target, "", err)
	}
	p, err := e.prepare(ctx, req)
	if err != nil {
		return nil, e.wrap("prepare", req.Target, "", err)
	}
	if p == nil {
		return nil, e.wrap("prepare", req.Target, "", errors.New("driver returned no plan"))
	}
	if p.Mode == "" {
		p.Mode = ModePlatform
	}
	// Secrets never reach a plan's reader: not in the diff, not in events.
	p.Changes = redact(p.Changes)
	if len(p.Request.Strategy.Steps) == 0 {
		p.Request.Strategy = req.Strategy
	}
	if p.Request.Target.Name == "" {
		p.Request.Target = req.Target
	}
	if p.Request.Gates == nil {
		p.Request.Gates = req.Gates
	}
	if p.Mode == ModeEngine {
		if _, ok := e.drv.(Shifter); !ok {
			return nil, e.wrap("plan", req.Target, "",
				fmt.Errorf("%w: engine-driven plan but the driver cannot shift traffic", ErrUnsupported))
		}
		if p.Request.NoWait {
			return nil, e.wrap("plan", req.Target, "", Invalid("noWait", "true",
				"the engine drives this deployment's traffic shifts, so it cannot return before they end"))
		}
	}
	e.emit(Event{Kind: EventPlanned, Target: req.Target.String(), Message: p.String()})
	return p, nil
}

func (e *Engine) validate(req Request) (Request, error) {
	if req.Target.Platform == "" {
		req.Target.Platform = e.platform()
	}
	if req.Target.Platform != e.platform() {
		return req, Invalid("target.platform", req.Target.Platform, "the engine's driver is "+e.platform())
	}
	if req.Target.Name == "" {
		return req, Invalid("target.name", "", "required")
	}
	if len(req.Strategy.Steps) == 0 {
		mh := req.Strategy.MinHealthy
		req.Strategy = AllAtOnce()
		req.Strategy.MinHealthy = mh
	}
	if err := req.Strategy.Validate(); err != nil {
		return req, err
	}
	for i, g := range req.Gates {
		if g == nil {
			return req, Invalid(fmt.Sprintf("gates[%d]", i), "", "nil gate")
		}
	}
	return req, nil
}

// Deploy plans and runs req to a terminal state. It returns the final
// deployment (nil only when nothing was started) and, unless the deployment
// succeeded, an error: *Error wrapping ErrFailed, ErrStopped or
// ErrRolledBack and the cause (a *GateError, the platform's reason), or
// ErrTimeout/context errors when ctx ended first. A deployment the platform
// rolled back is never reported as a success.
func (e *Engine) Deploy(ctx context.Context, req Request) (*Deployment, error) {
	if err := e.checkLock(ctx, req.Target); err != nil {
		return nil, err
	}
	p, err := e.Plan(ctx, req)
	if err != nil {
		return nil, err
	}
	return e.Execute(ctx, p)
}

// Execute starts the deployment a Plan describes and runs it like Deploy.
// Use it to show a plan and ask for confirmation before changing anything.
// With p.Request.NoWait (platform mode), it returns right after the start.
//
// One engine runs at most one deployment per target at a time: Execute
// refuses a second with an error wrapping ErrLocked that names the
// deployment holding the target, unless the plan is the rollback of that
// deployment (its RollbackOf names it).
func (e *Engine) Execute(ctx context.Context, p *Plan) (*Deployment, error) {
	if p == nil {
		return nil, e.wrap("start", Target{}, "", Invalid("plan", "", "required"))
	}
	req := p.Request
	release, err := e.reserve(req)
	if err != nil {
		return nil, err
	}
	defer release()
	j, nested, err := e.openJournal(ctx, req.Target)
	if err != nil {
		return nil, err
	}
	if err := j.write(ctx, planEntry(p)); err != nil {
		if !nested {
			j.end(ctx, p, nil, err)
		}
		return nil, e.wrap("journal", req.Target, "", err)
	}
	ctx = j.with(ctx)
	d, err := e.start(ctx, p)
	if err == nil && (d == nil || d.ID == "") {
		err = errors.New("driver returned no deployment ID")
	}
	if err != nil {
		if !nested {
			j.end(ctx, p, nil, err)
		}
		return nil, e.wrap("start", req.Target, "", err)
	}
	e.mu.Lock()
	e.targets[req.Target.String()] = d.ID
	e.mu.Unlock()
	d = d.Clone()
	if len(d.Strategy.Steps) == 0 {
		d.Strategy = req.Strategy
	}
	if d.RollbackOf == "" {
		d.RollbackOf = req.RollbackOf
	}
	if d.From == nil {
		d.From = p.From
	}
	if d.Target.Name == "" {
		d.Target = req.Target
	}
	if d.Status == "" {
		d.Status = StatusCreated
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = e.opts.Clock.Now()
	}
	r := &run{e: e, req: req, p: p, d: d, seen: map[string]bool{},
		stopCh: make(chan struct{}), approve: make(chan struct{}, 1), j: j}
	for _, m := range d.Messages {
		r.seen[m.ID] = true
	}
	if err := r.note(ctx, JournalStarted, d.Percent, false); err != nil {
		// The store no longer takes the journal: stop before any traffic moves.
		r.emit(EventNote, err.Error())
		ctx = withCause(ctx, err)
	}
	if !nested && j != nil {
		defer func() { j.end(ctx, p, r.snapshot(), nil) }()
	}
	e.mu.Lock()
	e.running[d.ID] = r
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.running, d.ID)
		e.mu.Unlock()
	}()
	r.emit(EventStatus, "started "+d.To.String())
	if req.NoWait {
		return r.snapshot(), nil
	}
	return e.drive(ctx, r)
}

// reserve reserves req's target for one deployment of this engine. The
// returned func gives it back (to the deployment it was reserved from, for a
// nested rollback).
func (e *Engine) reserve(req Request) (func(), error) {
	key := req.Target.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	prev, held := e.targets[key]
	if held && (req.RollbackOf == "" || prev != req.RollbackOf) {
		return nil, e.wrap("start", req.Target, "", fmt.Errorf(
			"%w: this engine is running deployment %s on %s; wait for it, or stop it with Engine.Stop", ErrLocked, prev, key))
	}
	e.targets[key] = "(starting)"
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if held {
			e.targets[key] = prev
		} else {
			delete(e.targets, key)
		}
	}, nil
}

// Wait follows a deployment that is already running (started by another
// process, or with NoWait) to a terminal state, checking gates at each
// poll. It only suits platform-driven deployments.
func (e *Engine) Wait(ctx context.Context, d *Deployment, gates ...Gate) (*Deployment, error) {
	if d == nil || d.ID == "" {
		return nil, e.wrap("wait", Target{}, "", Invalid("deployment", "", "required"))
	}
	req := Request{Target: d.Target, Strategy: d.Strategy, Gates: gates, RollbackOf: d.RollbackOf}
	r := &run{e: e, req: req, p: &Plan{Request: req, Mode: ModePlatform, From: d.From, To: d.To},
		d: d.Clone(), seen: map[string]bool{}, stopCh: make(chan struct{}), approve: make(chan struct{}, 1)}
	e.mu.Lock()
	if _, dup := e.running[d.ID]; dup {
		e.mu.Unlock()
		return nil, e.wrap("wait", d.Target, d.ID, fmt.Errorf("%w: already followed by this engine", ErrLocked))
	}
	e.running[d.ID] = r
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.running, d.ID)
		e.mu.Unlock()
	}()
	return e.drive(ctx, r)
}

// drive runs r to a terminal state and works out the result.
func (e *Engine) drive(ctx context.Context, r *run) (*Deployment, error) {
	var cause error
	if r.p.Mode == ModeEngine {
		cause = e.walk(ctx, r)
		if cause == nil {
			cause = e.settle(ctx, r)
		}
	} else {
		cause = e.watch(ctx, r)
	}
	return e.finish(ctx, r, cause)
}

// walk carries out the strategy steps in engine mode.
func (e *Engine) walk(ctx context.Context, r *run) error {
	shifter := e.drv.(Shifter)
	r.setStatus(StatusInProgress, "")
	if err := e.checkGates(ctx, r, PhaseBeforeTraffic); err != nil {
		return err
	}
	steps := r.req.Strategy.Normalized()
	for i, st := range steps {
		if err := e.interrupted(ctx, r); err != nil {
			return err
		}
		r.mu.Lock()
		r.d.Step = i
		r.mu.Unlock()
		r.emit(EventStep, st.String())
		switch st.Kind {
		case StepShift:
			if err := e.shift(ctx, r, shifter, st.Percent); err != nil {
				return err
			}
			phase := PhaseShift
			if st.Percent >= 100 {
				phase = PhaseAfterTraffic
			}
			if err := e.checkGates(ctx, r, phase); err != nil {
				return err
			}
		case StepBake:
			r.setStatus(StatusBaking, "")
			if err := e.hold(ctx, r, st.Duration, false); err != nil {
				return err
			}
			r.setStatus(StatusInProgress, "")
		case StepApprove:
			r.setStatus(StatusReady, "")
			if err := e.hold(ctx, r, 0, true); err != nil {
				return err
			}
			r.setStatus(StatusInProgress, "")
		}
	}
	return nil
}

func (e *Engine) shift(ctx context.Context, r *run, s Shifter, percent float64) error {
	r.op.Lock()
	defer r.op.Unlock()
	if r.stopRequested() != nil {
		return errStopRequested
	}
	d := r.snapshot()
	if err := r.note(ctx, JournalShift, percent, false); err != nil {
		return err
	}
	b := e.newBackoff()
	for {
		_, err := call(ctx, e.rates.mutation, func() (struct{}, error) { return struct{}{}, s.Shift(r.retryCtx(ctx), d, percent) })
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !errors.Is(err, ErrThrottled) {
			return e.wrap("shift", d.Target, d.ID, err)
		}
		// Throttled: the traffic did not move. Try again after backing off.
		r.emit(EventNote, "shift throttled, trying again: "+err.Error())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.stopCh:
			return errStopRequested
		case <-e.opts.Clock.After(b.NextBackOff()):
		}
	}
	r.mu.Lock()
	r.d.Percent = percent
	r.d.UpdatedAt = e.opts.Clock.Now()
	r.mu.Unlock()
	_ = r.note(ctx, JournalShifted, percent, false)
	r.emit(EventShift, fmt.Sprintf("%s%% on %s", formatPercent(percent), d.To))
	return nil
}

// hold waits out a bake (dur) or an approval (approval true), checking
// gates every GateInterval.
func (e *Engine) hold(ctx context.Context, r *run, dur time.Duration, approval bool) error {
	clk := e.opts.Clock
	end := clk.Now().Add(dur)
	if !approval {
		r.mu.Lock()
		r.bakeUntil = end
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			r.bakeUntil = time.Time{}
			r.mu.Unlock()
		}()
	}
	phase := PhaseBake
	if approval {
		phase = PhaseWatch
		r.mu.Lock()
		r.waiting = true
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			r.waiting = false
			r.mu.Unlock()
		}()
		r.emit(EventNote, "waiting for approval")
	}
	for {
		if err := e.interrupted(ctx, r); err != nil {
			return err
		}
		wait := e.opts.GateInterval
		if !approval {
			left := end.Sub(clk.Now())
			if left <= 0 {
				return nil
			}
			wait = min(wait, left)
		}
		var approved <-chan struct{}
		if approval {
			approved = r.approve
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.stopCh:
			return errStopRequested
		case <-approved:
			r.emit(EventNote, "approved")
			return nil
		case <-clk.After(wait):
		}
		if err := e.checkGates(ctx, r, phase); err != nil {
			return err
		}
	}
}

func (e *Engine) interrupted(ctx context.Context, r *run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.stopRequested() != nil {
		return errStopRequested
	}
	return r.renewLease(ctx)
}

// checkGates runs every gate for phase; the first refusal ends the check.
func (e *Engine) checkGates(ctx context.Context, r *run, phase Phase) error {
	if len(r.req.Gates) == 0 {
		return nil
	}
	d := r.snapshot()
	for _, g := range r.req.Gates {
		err := e.checkGate(ctx, r, g, Check{Deployment: d, Phase: phase, Percent: d.Percent})
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		ev := r.event(EventGate, "passed")
		ev.Gate, ev.Phase = g.Name(), phase
		if err != nil {
			ge := &GateError{Gate: g.Name(), Phase: phase, Err: err}
			ev.Err, ev.Message = ge, "failed"
			e.emit(ev)
			return ge
		}
		e.emit(ev)
	}
	return nil
}

// prepare asks the driver for a plan. Prepare changes nothing, so a
// throttled one is asked again after backing off, within ctx: a busy
// platform never fails a deployment before it starts.
func (e *Engine) prepare(ctx context.Context, req Request) (*Plan, error) {
	b := e.newBackoff()
	for {
		p, err := call(ctx, e.rates.prepare, func() (*Plan, error) { return e.drv.Prepare(e.targetCtx(WithEngineRetries(ctx), req.Target), req) })
		if !errors.Is(err, ErrThrottled) || ctx.Err() != nil {
			return p, err
		}
		wait, ok := e.wait(ctx, b.NextBackOff())
		if !ok {
			return nil, err // a cleanup's budget is spent
		}
		e.emit(Event{Kind: EventNote, Target: req.Target.String(), Message: "plan throttled, asking again: " + err.Error()})
		select {
		case <-ctx.Done():
			return nil, err
		case <-e.opts.Clock.After(wait):
		}
	}
}

// start starts p. A start the platform throttled (an error wrapping
// ErrThrottled) changed nothing the driver will not reuse (see Driver), so
// it is asked again after backing off, within ctx (and a cleanup's budget):
// a busy platform never fails a deployment before it starts.
func (e *Engine) start(ctx context.Context, p *Plan) (*Deployment, error) {
	b := e.newBackoff()
	t := p.Request.Target
	for {
		d, err := call(ctx, e.rates.mutation, func() (*Deployment, error) {
			return e.drv.Start(context.WithValue(e.targetCtx(ctx, t), startRetriesKey{}, true), p)
		})
		if !errors.Is(err, ErrThrottled) || ctx.Err() != nil {
			return d, err
		}
		wait, ok := e.wait(ctx, b.NextBackOff())
		if !ok {
			return nil, err // a cleanup's budget is spent
		}
		e.emit(Event{Kind: EventNote, Target: t.String(), Message: "start throttled, asking again: " + err.Error()})
		select {
		case <-ctx.Done():
			return nil, err
		case <-e.opts.Clock.After(wait):
		}
	}
}

// checkGate runs one gate. A check the platform throttled (an error
// wrapping ErrThrottled) says nothing about the deployment: it is asked
// again after backing off, and never refuses the deployment.
func (e *Engine) checkGate(ctx context.Context, r *run, g Gate, c Check) error {
	b := e.newBackoff()
	for {
		_, err := call(ctx, e.rates.gate, func() (struct{}, error) { return struct{}{}, g.Check(r.retryCtx(ctx), c) })
		if !errors.Is(err, ErrThrottled) || ctx.Err() != nil {
			return err
		}
		r.emit(EventNote, "gate "+g.Name()+" throttled, checking again: "+err.Error())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.opts.Clock.After(b.NextBackOff()):
		}
	}
}

func (e *Engine) newBackoff() *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     e.opts.Poll.MinDelay,
		RandomizationFactor: e.opts.Poll.Jitter,
		Multiplier:          e.opts.Poll.Multiplier,
		MaxInterval:         e.opts.Poll.MaxDelay,
		MaxElapsedTime:      0,
		Stop:                backoff.Stop,
		Clock:               e.opts.Clock,
	}
	b.Reset()
	return b
}

// Stop asks the platform to stop d. When this engine is running d, the
// deployment's loop ends too and Deploy returns ErrStopped or ErrRolledBack;
// the request's OnStopRequest policy adds a rollback. Without rollback the
// traffic stays where it is (see Stopper); a platform that can only stop
// by reverting is asked again with rollback, and says so in a note event.
// The outcome is the platform's: StopSucceeded, StopPending (ask again
// later), or an error wrapping ErrCannotStop. Drivers without Stopper give
// ErrUnsupported.
func (e *Engine) Stop(ctx context.Context, d *Deployment, o StopOptions) (StopOutcome, error) {
	if d == nil || d.ID == "" {
		return "", e.wrap("stop", Target{}, "", Invalid("deployment", "", "required"))
	}
	s, ok := e.drv.(Stopper)
	if !ok {
		return "", e.wrap("stop", d.Target, d.ID, fmt.Errorf("%w: %s deployments cannot be stopped", ErrUnsupported, e.platform()))
	}
	e.mu.Lock()
	r := e.running[d.ID]
	e.mu.Unlock()
	if r == nil {
		out, err := s.Stop(ctx, d, o)
		if err != nil && !o.Rollback && errors.Is(err, ErrUnsupported) {
			o.Rollback = true
			out, err = s.Stop(ctx, d, o)
		}
		return out, e.wrap("stop", d.Target, d.ID, err)
	}
	r.mu.Lock()
	if r.req.RollbackOn.Has(OnStopRequest) {
		o.Rollback = true
	}
	first := r.stop == nil
	if first {
		so := o
		r.stop = &so
	} else {
		o = *r.stop
	}
	r.mu.Unlock()
	r.emit(EventStop, "stop requested")
	_ = r.note(ctx, JournalStop, r.snapshot().Percent, o.Rollback)
	r.op.Lock()
	out, err := s.Stop(r.ctx(ctx), r.snapshot(), o)
	if err != nil && !o.Rollback && errors.Is(err, ErrUnsupported) {
		r.op.Unlock()
		r.emit(EventNote, "the platform cannot stop without rolling back; stopping with rollback")
		o.Rollback = true
		r.mu.Lock()
		r.stop.Rollback = true
		r.mu.Unlock()
		r.op.Lock()
		out, err = s.Stop(r.ctx(ctx), r.snapshot(), o)
	}
	r.op.Unlock()
	ev := r.event(EventStop, "stop "+string(out))
	if err != nil {
		ev.Message, ev.Err = "stop failed", err
	}
	e.emit(ev)
	if first {
		close(r.stopCh)
	}
	return out, e.wrap("stop", d.Target, d.ID, err)
}

// Approve lets a deployment waiting at an approval step go on. It returns an
// error wrapping ErrNotFound when this engine runs no such deployment and
// ErrInvalidRequest when it is not waiting.
func (e *Engine) Approve(deploymentID string) error {
	e.mu.Lock()
	r := e.running[deploymentID]
	e.mu.Unlock()
	if r == nil {
		return e.wrap("approve", Target{}, deploymentID, ErrNotFound)
	}
	r.mu.Lock()
	waiting := r.waiting
	r.mu.Unlock()
	if !waiting {
		return e.wrap("approve", r.req.Target, deploymentID, Invalid("deployment", deploymentID, "not waiting for approval"))
	}
	select {
	case r.approve <- struct{}{}:
	default:
	}
	return nil
}

// Continue lets a waiting deployment go on. A deployment this engine holds
// at an approval step is approved (as Approve does); any other is passed to
// the driver's Continuer (a blue/green deployment waiting to reroute, a
// deployment paused at a lifecycle hook). Drivers without Continuer give
// ErrUnsupported; a deployment that is not waiting, ErrInvalidRequest.
func (e *Engine) Continue(ctx context.Context, d *Deployment) error {
	if d == nil || d.ID == "" {
		return e.wrap("continue", Target{}, "", Invalid("deployment", "", "required"))
	}
	e.mu.Lock()
	r := e.running[d.ID]
	e.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		waiting := r.waiting
		r.mu.Unlock()
		if waiting {
			return e.Approve(d.ID)
		}
	}
	c, ok := e.drv.(Continuer)
	if !ok {
		return e.wrap("continue", d.Target, d.ID, fmt.Errorf("%w: %s deployments cannot be continued", ErrUnsupported, e.platform()))
	}
	return e.wrap("continue", d.Target, d.ID, c.Continue(ctx, d))
}

// Running returns snapshots of the deployments this engine is running.
func (e *Engine) Running() []*Deployment {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Deployment, 0, len(e.running))
	for _, r := range e.running {
		out = append(out, r.snapshot())
	}
	return out
}

// status polls the driver, through the batcher when there is one.
func (e *Engine) status(ctx context.Context, d *Deployment) (*Deployment, error) {
	if e.batch != nil {
		return e.batch.status(ctx, d)
	}
	return call(ctx, e.rates.status, func() (*Deployment, error) { return e.drv.Status(ctx, d) })
}

// Status asks the driver where d stands. It changes nothing.
func (e *Engine) Status(ctx context.Context, d *Deployment) (*Deployment, error) {
	nd, err := e.drv.Status(ctx, d)
	return nd, e.wrap("status", d.Target, d.ID, err)
}

// History returns t's revisions, newest first. Drivers without Historian
// give ErrUnsupported.
func (e *Engine) History(ctx context.Context, t Target) ([]HistoryEntry, error) {
	h, ok := e.drv.(Historian)
	if !ok {
		return nil, e.wrap("history", t, "", fmt.Errorf("%w: %s keeps no revision history", ErrUnsupported, e.platform()))
	}
	if t.Platform == "" {
		t.Platform = e.platform()
	}
	out, err := h.History(ctx, t)
	return out, e.wrap("history", t, "", err)
}
