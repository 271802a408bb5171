package deploytest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// DriverOptions configure a fake Driver. The zero value gives an
// engine-driven fake on an auto-advancing clock.
type DriverOptions struct {
	// Platform is what Platform returns. Default "fake".
	Platform string
	// Mode is the plan mode. Default deploy.ModeEngine: the engine shifts
	// traffic through Shift. With deploy.ModePlatform the fake follows the
	// strategy by itself on Clock, like ECS or CodeDeploy.
	Mode deploy.Mode
	// Clock drives platform-mode progress and timestamps. Default
	// NewAutoClock(Epoch()).
	Clock deploy.Clock
	// StepTime is how long a platform-mode shift takes. Default 30s.
	StepTime time.Duration
	// PlatformRollback makes a platform-mode failure end in
	// StatusRolledBack (as an ECS circuit breaker or CodeDeploy
	// auto-rollback does) rather than StatusFailed.
	PlatformRollback bool
	// KnownRevisionsOnly makes Prepare refuse, with deploy.ErrNotFound, a
	// revision ID that no target ran and AddRevision did not register (as
	// a platform that registers revisions before deploying them does). By
	// default any revision ID can be deployed.
	KnownRevisionsOnly bool
}

// Call is one call the fake received.
type Call struct {
	// Op is the method name: Prepare, Start, Status, StatusMany, Shift, Stop,
	// Continue, History, ReadServing.
	Op string
	// Target is the target's name.
	Target string
	// DeploymentID is set for calls about a deployment.
	DeploymentID string
	// Percent is the traffic asked for, for Shift.
	Percent float64
	// Mutating is true for calls that changed the fake platform; a call
	// refused before any change is not.
	Mutating bool
}

// Driver is an in-memory deploy.Driver that follows the whole contract and
// implements every optional interface (Shifter, Stopper, Continuer,
// Historian, StatusBatcher, ServingReader). It can be told to fail at any step, to stop slowly (pending)
// or to refuse to stop, and it records every call so tests can assert that
// a dry run made no mutating one. It is safe for concurrent use.
type Driver struct {
	opts DriverOptions

	mu          sync.Mutex
	seq         int
	targets     map[string]*fakeTarget
	deployments map[string]*fakeDeployment
	revisions   map[string]bool
	calls       []Call
	faults      []fault
	startErr    error
	statusErrs  []error
	stopPending int
	stopErr     error
	stopFail    error
	servingErr  error
}

type fakeTarget struct {
	current deploy.Revision
	history []deploy.HistoryEntry // oldest first
	shifts  []float64
	// live is the deployment that holds the target: one in flight, or one
	// stopped without rollback that left the traffic split.
	live string
}

type fakeDeployment struct {
	d           deploy.Deployment
	stepStarted time.Time
	approved    bool
	fault       *fault
	stopsLeft   int
}

type fault struct {
	step int
	err  error
}

var (
	_ deploy.Driver        = (*Driver)(nil)
	_ deploy.Shifter       = (*Driver)(nil)
	_ deploy.Stopper       = (*Driver)(nil)
	_ deploy.Continuer     = (*Driver)(nil)
	_ deploy.Historian     = (*Driver)(nil)
	_ deploy.StatusBatcher = (*Driver)(nil)
	_ deploy.ServingReader = (*Driver)(nil)
)

// NewDriver returns a fake driver with no targets.
func NewDriver(o DriverOptions) *Driver {
	if o.Platform == "" {
		o.Platform = "fake"
	}
	if o.Mode == "" {
		o.Mode = deploy.ModeEngine
	}
	if o.Clock == nil {
		o.Clock = NewAutoClock(time.Time{})
	}
	if o.StepTime <= 0 {
		o.StepTime = 30 * time.Second
	}
	return &Driver{opts: o, targets: map[string]*fakeTarget{}, deployments: map[string]*fakeDeployment{},
		revisions: map[string]bool{}}
}

// AddRevision registers a revision that can be deployed when
// DriverOptions.KnownRevisionsOnly is set.
func (f *Driver) AddRevision(r deploy.Revision) {
	f.mu.Lock()
	f.revisions[r.ID] = true
	f.mu.Unlock()
}

// ReadServing reports what the target serves, as Serving does, with each
// revision's label (deploy.ServingReader). It changes nothing.
func (f *Driver) ReadServing(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
	f.mu.Lock()
	f.record(Call{Op: "ReadServing", Target: t.Name})
	err, known := f.servingErr, f.targets[t.Name] != nil
	f.mu.Unlock()
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, fmt.Errorf("%w: target %s", deploy.ErrNotFound, t.Name)
	}
	shares := f.Serving(t.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	tg := f.targets[t.Name]
	rev := func(id string) deploy.Revision {
		if tg.current.ID == id {
			return tg.current
		}
		if fd := f.deployments[tg.live]; fd != nil && fd.d.To.ID == id {
			return fd.d.To
		}
		for _, h := range tg.history {
			if h.Revision.ID == id {
				return h.Revision
			}
		}
		return deploy.Revision{ID: id}
	}
	out := make([]deploy.Share, 0, len(shares))
	for id, p := range shares {
		out = append(out, deploy.Share{Revision: rev(id), Percent: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Percent > out[j].Percent })
	return out, nil
}

// Serving returns what the target serves now: each revision ID with its
// share of traffic in percent. While a deployment is in flight, or after
// one was stopped without rollback part way, the traffic is split between
// its From and To revisions. A target that runs nothing gives an empty map.
func (f *Driver) Serving(target string) map[string]float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]float64{}
	t := f.targets[target]
	if t == nil {
		return out
	}
	if !t.current.IsZero() {
		out[t.current.ID] = 100
	}
	if fd := f.deployments[t.live]; fd != nil && fd.d.Percent > 0 {
		if !t.current.IsZero() {
			out[t.current.ID] -= fd.d.Percent
			if out[t.current.ID] <= 0 {
				delete(out, t.current.ID)
			}
		}
		out[fd.d.To.ID] += fd.d.Percent
	}
	return out
}

// Clock returns the clock the fake runs on.
func (f *Driver) Clock() deploy.Clock { return f.opts.Clock }

// AddTarget creates a target running current and returns it.
func (f *Driver) AddTarget(name string, current deploy.Revision) deploy.Target {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTarget{current: current}
	f.revisions[current.ID] = true
	if !current.IsZero() {
		t.history = append(t.history, deploy.HistoryEntry{Revision: current, DeploymentID: "initial",
			Status: deploy.StatusSucceeded, At: f.opts.Clock.Now(), Current: true})
	}
	f.targets[name] = t
	return deploy.Target{Platform: f.opts.Platform, Name: name}
}

// FailNext makes the next deployment started fail at strategy step index
// step (0 is the first step) with err (a generic error when nil). In engine
// mode the Shift of that step returns the error; in platform mode the
// deployment fails when it reaches that step. Faults queue up, one per
// deployment.
func (f *Driver) FailNext(step int, err error) {
	if err == nil {
		err = fmt.Errorf("injected failure at step %d", step)
	}
	f.mu.Lock()
	f.faults = append(f.faults, fault{step: step, err: err})
	f.mu.Unlock()
}

// FailStart makes every Start fail with err until called with nil.
func (f *Driver) FailStart(err error) {
	f.mu.Lock()
	f.startErr = err
	f.mu.Unlock()
}

// FailStatus makes the next len(errs) Status calls fail with errs in turn.
func (f *Driver) FailStatus(errs ...error) {
	f.mu.Lock()
	f.statusErrs = append(f.statusErrs, errs...)
	f.mu.Unlock()
}

// StopSlowly makes each deployment's stop answer StopPending n times before
// it succeeds.
func (f *Driver) StopSlowly(n int) {
	f.mu.Lock()
	f.stopPending = n
	f.mu.Unlock()
}

// RefuseStop makes Stop fail with err wrapped with deploy.ErrCannotStop
// until called with nil.
func (f *Driver) RefuseStop(err error) {
	f.mu.Lock()
	f.stopErr = err
	f.mu.Unlock()
}

// FailStop makes every Stop fail with err, as it is, before any change,
// until called with nil: an error wrapping deploy.ErrThrottled is a
// platform too busy to stop, which the engine asks again. RefuseStop is
// the refusal (deploy.ErrCannotStop).
func (f *Driver) FailStop(err error) {
	f.mu.Lock()
	f.stopFail = err
	f.mu.Unlock()
}

// FailServing makes every ReadServing fail with err until called with nil.
func (f *Driver) FailServing(err error) {
	f.mu.Lock()
	f.servingErr = err
	f.mu.Unlock()
}

// Calls returns every call so far, oldest first.
func (f *Driver) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// MutatingCalls counts the calls that changed the fake platform.
func (f *Driver) MutatingCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Mutating {
			n++
		}
	}
	return n
}

// Current returns the revision a target runs now.
func (f *Driver) Current(target string) deploy.Revision {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.targets[target]; t != nil {
		return t.current
	}
	return deploy.Revision{}
}

// Shifts returns every traffic percentage Shift set on a target, in order,
// with 0 recorded when a stop returned the traffic to the old revision.
func (f *Driver) Shifts(target string) []float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.targets[target]; t != nil {
		return append([]float64(nil), t.shifts...)
	}
	return nil
}

func (f *Driver) record(c Call) { f.calls = append(f.calls, c) }

// mutated marks the call being served as one that changed the platform.
func (f *Driver) mutated() { f.calls[len(f.calls)-1].Mutating = true }

// Platform returns the configured platform name.
func (f *Driver) Platform() string { return f.opts.Platform }

// Prepare resolves the request without changing anything.
func (f *Driver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(Call{Op: "Prepare", Target: req.Target.Name})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := f.targets[req.Target.Name]
	if t == nil {
		return nil, fmt.Errorf("%w: target %s", deploy.ErrNotFound, req.Target.Name)
	}
	if req.Revision.ID == "" {
		return nil, deploy.Invalid("revision.id", "", "required")
	}
	if err := f.lockedLocked(t, req.Target.Name, req.RollbackOf); err != nil {
		return nil, err
	}
	if f.opts.KnownRevisionsOnly && !f.revisions[req.Revision.ID] {
		return nil, fmt.Errorf("%w: revision %s", deploy.ErrNotFound, req.Revision.ID)
	}
	if req.Revision.ID == t.current.ID && req.RollbackOf == "" {
		return nil, deploy.Invalid("revision.id", req.Revision.ID, "the target already runs this revision")
	}
	to := req.Revision
	for _, h := range t.history {
		if h.Revision.ID == to.ID && to.Label == "" {
			to = h.Revision
		}
	}
	p := &deploy.Plan{Request: req, To: to, Mode: f.opts.Mode,
		Changes: []deploy.Change{{Path: "revision", Old: t.current.ID, New: to.ID}}}
	if !t.current.IsZero() {
		from := t.current
		p.From = &from
	}
	return p, nil
}

// Start begins the deployment: at 0 percent in engine mode, Created in
// platform mode. A target has one live deployment at a time; a second
// Start gives an error wrapping deploy.ErrLocked.
func (f *Driver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := p.Request.Target.Name
	f.record(Call{Op: "Start", Target: name})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.startErr != nil {
		return nil, f.startErr
	}
	t := f.targets[name]
	if t == nil {
		return nil, fmt.Errorf("%w: target %s", deploy.ErrNotFound, name)
	}
	if err := f.lockedLocked(t, name, p.Request.RollbackOf); err != nil {
		return nil, err
	}
	f.seq++
	now := f.opts.Clock.Now()
	fd := &fakeDeployment{stepStarted: now, stopsLeft: f.stopPending}
	fd.d = deploy.Deployment{
		ID: fmt.Sprintf("%s-%d", f.opts.Platform, f.seq), Target: p.Request.Target, From: p.From, To: p.To,
		Strategy: p.Request.Strategy, Status: deploy.StatusInProgress, CreatedAt: now, UpdatedAt: now,
		RollbackOf: p.Request.RollbackOf,
	}
	if f.opts.Mode == deploy.ModePlatform {
		fd.d.Status = deploy.StatusCreated
	}
	if len(f.faults) > 0 {
		fl := f.faults[0]
		f.faults = f.faults[1:]
		fd.fault = &fl
	}
	fd.d.Messages = append(fd.d.Messages, deploy.Message{ID: fd.d.ID + "/created", At: now,
		Text: "deployment " + fd.d.ID + " created for " + p.To.String()})
	f.mutated()
	f.deployments[fd.d.ID] = fd
	f.revisions[p.To.ID] = true
	t.live = fd.d.ID
	return fd.d.Clone(), nil
}

// lockedLocked refuses a new deployment while another holds the target:
// one in flight, or one stopped part way whose split only a rollback
// request (rollbackOf set) may repair.
func (f *Driver) lockedLocked(t *fakeTarget, name, rollbackOf string) error {
	fd := f.deployments[t.live]
	if fd == nil {
		return nil
	}
	if !fd.d.Status.Terminal() {
		return fmt.Errorf("%w: %s is deploying %s", deploy.ErrLocked, name, t.live)
	}
	if rollbackOf == "" {
		return fmt.Errorf("%w: deployment %s was stopped with %v%% of %s's traffic on %s; "+
			"return it to %s with Engine.Rollback", deploy.ErrLocked, t.live, fd.d.Percent, name, fd.d.To, t.current)
	}
	return nil
}

func (f *Driver) lookup(d *deploy.Deployment) (*fakeDeployment, error) {
	if d == nil {
		return nil, deploy.Invalid("deployment", "", "required")
	}
	fd := f.deployments[d.ID]
	if fd == nil {
		return nil, fmt.Errorf("%w: deployment %s", deploy.ErrNotFound, d.ID)
	}
	return fd, nil
}

// Status reports the deployment, moving a platform-mode deployment along
// its strategy up to the clock's time first.
func (f *Driver) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(Call{Op: "Status", Target: d.Target.Name, DeploymentID: d.ID})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(f.statusErrs) > 0 {
		err := f.statusErrs[0]
		f.statusErrs = f.statusErrs[1:]
		return nil, err
	}
	fd, err := f.lookup(d)
	if err != nil {
		return nil, err
	}
	f.advance(fd)
	return fd.d.Clone(), nil
}

// StatusMany reports several deployments in one call, as Status would. It
// records a single StatusMany call; unknown deployments give nil entries
// and *deploy.Error values naming them.
func (f *Driver) StatusMany(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(Call{Op: "StatusMany"})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(f.statusErrs) > 0 {
		err := f.statusErrs[0]
		f.statusErrs = f.statusErrs[1:]
		return nil, err
	}
	out := make([]*deploy.Deployment, len(ds))
	var errs []error
	for i, d := range ds {
		fd, err := f.lookup(d)
		if err != nil {
			var id string
			if d != nil {
				id = d.ID
			}
			errs = append(errs, &deploy.Error{Platform: f.opts.Platform, Op: "StatusMany", DeploymentID: id, Err: err})
			continue
		}
		f.advance(fd)
		out[i] = fd.d.Clone()
	}
	return out, errors.Join(errs...)
}

// advance follows a platform-mode deployment's steps up to now.
func (f *Driver) advance(fd *fakeDeployment) {
	if f.opts.Mode != deploy.ModePlatform || fd.d.Status.Terminal() || fd.stopsLeft < f.stopPending {
		return
	}
	now := f.opts.Clock.Now()
	steps := fd.d.Strategy.Normalized()
	for fd.d.Step < len(steps) {
		st := steps[fd.d.Step]
		if fd.fault != nil && fd.fault.step == fd.d.Step {
			f.fail(fd, fd.fault.err)
			return
		}
		switch st.Kind {
		case deploy.StepShift:
			due := fd.stepStarted.Add(f.opts.StepTime)
			if now.Before(due) {
				fd.d.Status = deploy.StatusInProgress
				return
			}
			fd.d.Percent = st.Percent
			f.targets[fd.d.Target.Name].shifts = append(f.targets[fd.d.Target.Name].shifts, st.Percent)
			f.say(fd, due, fmt.Sprintf("step %d: %v%% of traffic on %s", fd.d.Step, st.Percent, fd.d.To))
			fd.stepStarted = due
		case deploy.StepBake:
			due := fd.stepStarted.Add(st.Duration)
			if now.Before(due) {
				fd.d.Status = deploy.StatusBaking
				return
			}
			fd.stepStarted = due
		case deploy.StepApprove:
			if !fd.approved {
				fd.d.Status = deploy.StatusReady
				return
			}
			fd.approved = false
			fd.stepStarted = now
		}
		fd.d.Step++
		fd.d.UpdatedAt = fd.stepStarted
	}
	f.complete(fd)
}

func (f *Driver) say(fd *fakeDeployment, at time.Time, text string) {
	fd.d.Messages = append(fd.d.Messages, deploy.Message{
		ID: fmt.Sprintf("%s/%d", fd.d.ID, len(fd.d.Messages)), At: at, Text: text})
}

func (f *Driver) complete(fd *fakeDeployment) {
	t := f.targets[fd.d.Target.Name]
	now := f.opts.Clock.Now()
	fd.d.Status, fd.d.Percent, fd.d.EndedAt = deploy.StatusSucceeded, 100, now
	fd.d.Step = len(fd.d.Strategy.Normalized()) - 1
	t.current = fd.d.To
	for i := range t.history {
		t.history[i].Current = false
	}
	t.history = append(t.history, deploy.HistoryEntry{Revision: fd.d.To, DeploymentID: fd.d.ID,
		Status: deploy.StatusSucceeded, At: now, Current: true})
	t.live = ""
	f.say(fd, now, "deployment succeeded")
}

// end finishes a deployment that did not succeed; the target returns to
// the old revision.
//
// A deployment stopped without rollback (StatusStopped) is the exception:
// its traffic stays where it was, and while it is split the deployment
// keeps holding the target (see Serving).
func (f *Driver) end(fd *fakeDeployment, s deploy.Status, reason string) {
	t := f.targets[fd.d.Target.Name]
	now := f.opts.Clock.Now()
	fd.d.Status, fd.d.EndedAt, fd.d.Reason = s, now, reason
	t.history = append(t.history, deploy.HistoryEntry{Revision: fd.d.To, DeploymentID: fd.d.ID, Status: s, At: now})
	f.say(fd, now, "deployment "+string(s)+": "+reason)
	if s == deploy.StatusStopped && fd.d.Percent > 0 {
		if fd.d.Percent >= 100 {
			// Everything had moved: the new revision is what runs.
			t.current = fd.d.To
			f.markCurrent(t)
			t.live = ""
		}
		return
	}
	if fd.d.Percent != 0 {
		t.shifts = append(t.shifts, 0)
	}
	fd.d.Percent = 0
	t.live = ""
}

// markCurrent marks the newest entry for t.current as the current one.
func (f *Driver) markCurrent(t *fakeTarget) {
	found := false
	for i := len(t.history) - 1; i >= 0; i-- {
		h := &t.history[i]
		h.Current = !found && h.Revision.ID == t.current.ID && h.Status == deploy.StatusSucceeded
		found = found || h.Current
	}
}

func (f *Driver) fail(fd *fakeDeployment, err error) {
	if f.opts.PlatformRollback && fd.d.From != nil {
		f.end(fd, deploy.StatusRolledBack, "platform rolled back after: "+err.Error())
		return
	}
	f.end(fd, deploy.StatusFailed, err.Error())
}

// Shift moves percent of the target's traffic to the new revision (engine
// mode). Shift(100) completes the deployment.
func (f *Driver) Shift(ctx context.Context, d *deploy.Deployment, percent float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(Call{Op: "Shift", Target: d.Target.Name, DeploymentID: d.ID, Percent: percent})
	if err := ctx.Err(); err != nil {
		return err
	}
	fd, err := f.lookup(d)
	if err != nil {
		return err
	}
	if fd.d.Status.Terminal() {
		return deploy.Invalid("deployment", d.ID, "already "+string(fd.d.Status))
	}
	if fd.stopsLeft < f.stopPending {
		return fmt.Errorf("%w: deployment %s is stopping", deploy.ErrLocked, d.ID)
	}
	if !(percent >= 1 && percent <= 100) {
		return deploy.Invalid("percent", fmt.Sprint(percent), "must be between 1 and 100")
	}
	if fd.fault != nil && fd.fault.step == d.Step {
		return fd.fault.err
	}
	f.mutated()
	fd.d.Step = d.Step
	fd.d.Percent = percent
	fd.d.UpdatedAt = f.opts.Clock.Now()
	f.targets[d.Target.Name].shifts = append(f.targets[d.Target.Name].shifts, percent)
	f.say(fd, fd.d.UpdatedAt, fmt.Sprintf("%v%% of traffic on %s", percent, fd.d.To))
	if percent == 100 {
		f.complete(fd)
	}
	return nil
}

// Stop stops the deployment as deploy.Stopper says: with o.Rollback the
// traffic returns to the old revision (StatusRolledBack); without it the
// traffic stays where it is (StatusStopped) and, when split, the target
// stays locked until a rollback request repairs it. With StopSlowly(n) it
// answers StopPending n times first; with RefuseStop it fails. A
// deployment that already ended changes nothing: StopSucceeded, or
// deploy.ErrCannotStop when it succeeded or when o.Rollback asks to
// reverse one that ended Stopped or Failed.
func (f *Driver) Stop(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(Call{Op: "Stop", Target: d.Target.Name, DeploymentID: d.ID})
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fd, err := f.lookup(d)
	if err != nil {
		return "", err
	}
	if f.stopErr != nil {
		return "", fmt.Errorf("%w: %w", deploy.ErrCannotStop, f.stopErr)
	}
	if f.stopFail != nil {
		return "", f.stopFail
	}
	f.advance(fd)
	if out, ended, err := deploy.StopEnded(fd.d.Status, o); ended {
		return out, err
	}
	f.mutated()
	if fd.stopsLeft > 0 {
		fd.stopsLeft--
		return deploy.StopPending, nil
	}
	reason := o.Reason
	if reason == "" {
		reason = "stop requested"
	}
	if o.Rollback && fd.d.From != nil {
		f.end(fd, deploy.StatusRolledBack, reason)
	} else {
		f.end(fd, deploy.StatusStopped, reason)
	}
	return deploy.StopSucceeded, nil
}

// Continue approves a platform-mode deployment waiting in StatusReady.
func (f *Driver) Continue(ctx context.Context, d *deploy.Deployment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(Call{Op: "Continue", Target: d.Target.Name, DeploymentID: d.ID})
	if err := ctx.Err(); err != nil {
		return err
	}
	fd, err := f.lookup(d)
	if err != nil {
		return err
	}
	f.advance(fd)
	if fd.d.Status != deploy.StatusReady {
		return deploy.Invalid("deployment", d.ID, "not waiting: "+string(fd.d.Status))
	}
	f.mutated()
	fd.approved = true
	return nil
}

// History returns the target's revisions, newest first.
func (f *Driver) History(ctx context.Context, target deploy.Target) ([]deploy.HistoryEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(Call{Op: "History", Target: target.Name})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := f.targets[target.Name]
	if t == nil {
		return nil, fmt.Errorf("%w: target %s", deploy.ErrNotFound, target.Name)
	}
	out := make([]deploy.HistoryEntry, len(t.history))
	for i, h := range t.history {
		out[len(out)-1-i] = h
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, nil
}
