package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

type rig struct {
	clk    *deploytest.Clock
	fake   *deploytest.Driver
	eng    *deploy.Engine
	target deploy.Target
	mu     sync.Mutex
	events []deploy.Event
}

func newRig(t *testing.T, mode deploy.Mode) *rig {
	t.Helper()
	r := &rig{clk: deploytest.NewAutoClock(time.Time{})}
	r.fake = deploytest.NewDriver(deploytest.DriverOptions{Mode: mode, Clock: r.clk})
	r.target = r.fake.AddTarget("web", deploy.Revision{ID: "v1"})
	r.eng = deploy.New(r.fake, deploy.Options{Clock: r.clk, OnEvent: func(e deploy.Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}})
	return r
}

func (r *rig) kinds(kind deploy.EventKind) []deploy.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []deploy.Event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHourLongCanaryOnFakeClock(t *testing.T) {
	for _, mode := range []deploy.Mode{deploy.ModeEngine, deploy.ModePlatform} {
		t.Run(string(mode), func(t *testing.T) {
			r := newRig(t, mode)
			start := r.clk.Now()
			d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
				Strategy: deploy.Canary(10, time.Hour)})
			require.NoError(t, err)
			assert.Equal(t, deploy.StatusSucceeded, d.Status)
			assert.Equal(t, 100.0, d.Percent)
			assert.Equal(t, "v2", r.fake.Current("web").ID)
			assert.Equal(t, []float64{10, 100}, r.fake.Shifts("web"))
			assert.GreaterOrEqual(t, r.clk.Now().Sub(start), time.Hour, "the fake clock must have passed the bake")
			var statuses []deploy.Status
			for _, e := range r.kinds(deploy.EventStatus) {
				statuses = append(statuses, e.Status)
			}
			assert.Contains(t, statuses, deploy.StatusBaking)
			assert.Equal(t, deploy.StatusSucceeded, statuses[len(statuses)-1])
		})
	}
}

func TestBakeChecksGatesEveryInterval(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	alarm := deploytest.NewAlarm("errors")
	_, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, 5*time.Minute), Gates: []deploy.Gate{alarm}})
	require.NoError(t, err)
	phases := map[deploy.Phase]int{}
	for _, c := range alarm.Checks() {
		phases[c.Phase]++
	}
	// 5 minutes at the default 30s gate interval is ten bake checks.
	assert.Equal(t, 10, phases[deploy.PhaseBake])
	assert.Equal(t, 1, phases[deploy.PhaseBeforeTraffic])
	assert.Equal(t, 1, phases[deploy.PhaseShift])
	assert.Equal(t, 1, phases[deploy.PhaseAfterTraffic])
}

func TestAlarmTriggersAutoRollback(t *testing.T) {
	for _, mode := range []deploy.Mode{deploy.ModeEngine, deploy.ModePlatform} {
		t.Run(string(mode), func(t *testing.T) {
			r := newRig(t, mode)
			alarm := deploytest.NewAlarm("5xx")
			alarm.FireAt(10)
			d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
				Strategy: deploy.Canary(10, 30*time.Minute), Gates: []deploy.Gate{alarm},
				RollbackOn: deploy.OnAlarm | deploy.OnFailure})
			require.Error(t, err)
			assert.ErrorIs(t, err, deploy.ErrRolledBack)
			assert.ErrorIs(t, err, deploy.ErrAlarm)
			assert.ErrorIs(t, err, deploy.ErrGateFailed)
			var de *deploy.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, d.ID, de.DeploymentID)
			assert.Equal(t, deploy.StatusRolledBack, d.Status)
			assert.Equal(t, "v1", r.fake.Current("web").ID)
			assert.NotEmpty(t, r.kinds(deploy.EventRollback))
		})
	}
}

func TestAlarmWithoutRollbackPolicyFails(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	alarm := deploytest.NewAlarm("5xx")
	alarm.FireAt(10)
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Minute), Gates: []deploy.Gate{alarm}, RollbackOn: deploy.OnFailure})
	assert.ErrorIs(t, err, deploy.ErrFailed)
	assert.ErrorIs(t, err, deploy.ErrAlarm)
	assert.Equal(t, deploy.StatusFailed, d.Status)
	// The fake still returns traffic when stopped; what matters is that the
	// engine stopped it and did not claim success.
	assert.NotEqual(t, "v2", r.fake.Current("web").ID)
}

func TestPlatformRollbackIsNeverSuccess(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk, PlatformRollback: true})
	target := f.AddTarget("svc", deploy.Revision{ID: "td:1"})
	f.FailNext(2, errors.New("tasks failed health checks"))
	eng := deploy.New(f, deploy.Options{Clock: clk})
	d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "td:2"},
		Strategy: deploy.Canary(10, time.Minute)})
	assert.ErrorIs(t, err, deploy.ErrRolledBack)
	assert.Equal(t, deploy.StatusRolledBack, d.Status)
	assert.Contains(t, err.Error(), "tasks failed health checks")
}

func TestStopPendingThenSucceeds(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	r.fake.StopSlowly(2)
	var outcomes []deploy.StopOutcome
	stopper := deploy.GateFunc{GateName: "operator", Phases: []deploy.Phase{deploy.PhaseShift},
		Func: func(ctx context.Context, c deploy.Check) error {
			out, err := r.eng.Stop(ctx, c.Deployment, deploy.StopOptions{Reason: "operator"})
			require.NoError(t, err)
			outcomes = append(outcomes, out)
			return nil
		}}
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{stopper}})
	assert.Equal(t, []deploy.StopOutcome{deploy.StopPending}, outcomes)
	assert.ErrorIs(t, err, deploy.ErrStopped)
	assert.Equal(t, deploy.StatusStopped, d.Status)
	var stops []string
	for _, e := range r.kinds(deploy.EventStop) {
		stops = append(stops, e.Message)
	}
	// The caller's own request answered Pending, the engine's next one
	// Pending too, and the third Succeeded.
	assert.Equal(t, []string{"stop requested", "stop Pending", "stop Pending", "stop Succeeded"}, stops)
	n := 0
	for _, c := range r.fake.Calls() {
		if c.Op == "Stop" {
			n++
		}
	}
	assert.Equal(t, 3, n, "two pending answers, then success")
	assert.Equal(t, "v1", r.fake.Current("web").ID)
}

func TestStopRequestRollsBackWithPolicy(t *testing.T) {
	r := newRig(t, deploy.ModePlatform)
	stopper := deploy.GateFunc{GateName: "operator", Phases: []deploy.Phase{deploy.PhaseBake},
		Func: func(ctx context.Context, c deploy.Check) error {
			_, err := r.eng.Stop(ctx, c.Deployment, deploy.StopOptions{})
			return err
		}}
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{stopper}, RollbackOn: deploy.OnStopRequest})
	assert.ErrorIs(t, err, deploy.ErrRolledBack)
	assert.Equal(t, deploy.StatusRolledBack, d.Status)
}

func TestStopThatErrors(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	r.fake.RefuseStop(errors.New("deployment is past the point of no return"))
	var stopErr error
	stopper := deploy.GateFunc{GateName: "operator", Phases: []deploy.Phase{deploy.PhaseShift},
		Func: func(ctx context.Context, c deploy.Check) error {
			_, stopErr = r.eng.Stop(ctx, c.Deployment, deploy.StopOptions{})
			return nil
		}}
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{stopper}})
	require.Error(t, stopErr)
	assert.ErrorIs(t, stopErr, deploy.ErrCannotStop)
	var de *deploy.Error
	require.ErrorAs(t, stopErr, &de)
	assert.Equal(t, "stop", de.Op)
	// The deployment could not be stopped and nothing finishes an
	// engine-driven deployment the engine stopped driving: it is reported
	// as stopped with the refusal attached, never as a success.
	require.Error(t, err)
	assert.ErrorIs(t, err, deploy.ErrCannotStop)
	assert.NotEqual(t, deploy.StatusSucceeded, d.Status)
}

func TestStopUnsupportedWithoutStopper(t *testing.T) {
	eng := deploy.New(minimalDriver{}, deploy.Options{})
	_, err := eng.Stop(context.Background(), &deploy.Deployment{ID: "x"}, deploy.StopOptions{})
	assert.ErrorIs(t, err, deploy.ErrUnsupported)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}

func TestRollbackToNamedRevision(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	var last *deploy.Deployment
	for _, id := range []string{"v2", "v3", "v4"} {
		d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: id}})
		require.NoError(t, err)
		last = d
	}
	rb, err := r.eng.Rollback(ctxT(t), deploy.RollbackRequest{Target: r.target, To: "v2"})
	require.NoError(t, err)
	assert.Equal(t, "v2", rb.To.ID)
	assert.Equal(t, last.ID, rb.RollbackOf)
	assert.NotEqual(t, last.ID, rb.ID)
	assert.Equal(t, "v2", r.fake.Current("web").ID)

	// With no name it goes to the last known good: v4, not v2 again.
	rb2, err := r.eng.Rollback(ctxT(t), deploy.RollbackRequest{Target: r.target})
	require.NoError(t, err)
	assert.Equal(t, "v4", rb2.To.ID)

	_, err = r.eng.Rollback(ctxT(t), deploy.RollbackRequest{Target: r.target, To: "v4"})
	assert.ErrorIs(t, err, deploy.ErrInvalidRequest, "rolling back to the current revision")
}

func TestLastKnownGoodSkipsFailures(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	_, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"}})
	require.NoError(t, err)
	r.fake.FailNext(0, nil)
	_, err = r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v3"}})
	require.Error(t, err)
	_, err = r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v4"}})
	require.NoError(t, err)
	rb, err := r.eng.Rollback(ctxT(t), deploy.RollbackRequest{Target: r.target})
	require.NoError(t, err)
	assert.Equal(t, "v2", rb.To.ID, "v3 failed, so the last known good before v4 is v2")
}

func TestFleetOneFailingTarget(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	var reqs []deploy.Request
	for i := range 6 {
		tg := f.AddTarget(fmt.Sprintf("svc-%d", i), deploy.Revision{ID: "v1"})
		reqs = append(reqs, deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"}, Strategy: deploy.Linear(25, time.Minute)})
	}
	// The fake hands faults to deployments in start order; make the bad
	// target's own revision fail instead, with a gate.
	bad := deploytest.NewAlarm("svc-3-errors")
	bad.Fire()
	reqs[3].Gates = []deploy.Gate{bad}
	eng := deploy.New(f, deploy.Options{Clock: clk, Concurrency: 2})
	ds, err := eng.DeployAll(ctxT(t), reqs, deploy.FleetOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fake:svc-3")
	assert.ErrorIs(t, err, deploy.ErrAlarm)
	var de *deploy.Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "fake:svc-3", de.Target)
	for i, d := range ds {
		require.NotNil(t, d, "target %d", i)
		if i == 3 {
			assert.NotEqual(t, deploy.StatusSucceeded, d.Status)
			assert.Equal(t, "v1", f.Current("svc-3").ID)
			continue
		}
		assert.Equal(t, deploy.StatusSucceeded, d.Status, "target %d", i)
		assert.Equal(t, "v2", f.Current(fmt.Sprintf("svc-%d", i)).ID)
	}
}

func TestFleetBoundedConcurrency(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	var mu sync.Mutex
	live, peak := 0, 0
	gate := deploy.GateFunc{GateName: "count", Func: func(ctx context.Context, c deploy.Check) error {
		mu.Lock()
		defer mu.Unlock()
		switch c.Phase {
		case deploy.PhaseBeforeTraffic:
			live++
			peak = max(peak, live)
		case deploy.PhaseAfterTraffic:
			live--
		}
		return nil
	}}
	var reqs []deploy.Request
	for i := range 10 {
		tg := f.AddTarget(fmt.Sprintf("fn-%d", i), deploy.Revision{ID: "1"})
		reqs = append(reqs, deploy.Request{Target: tg, Revision: deploy.Revision{ID: "2"}, Gates: []deploy.Gate{gate}})
	}
	eng := deploy.New(f, deploy.Options{Clock: clk, Concurrency: 3})
	_, err := eng.DeployAll(ctxT(t), reqs, deploy.FleetOptions{})
	require.NoError(t, err)
	assert.LessOrEqual(t, peak, 3)
	assert.GreaterOrEqual(t, peak, 1)
}

func TestFleetFailFastCancelsOthers(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	var reqs []deploy.Request
	for i := range 4 {
		tg := f.AddTarget(fmt.Sprintf("svc-%d", i), deploy.Revision{ID: "v1"})
		reqs = append(reqs, deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"}})
	}
	bad := deploytest.NewAlarm("bad")
	bad.Fire()
	reqs[0].Gates = []deploy.Gate{bad}
	eng := deploy.New(f, deploy.Options{Clock: clk, Concurrency: 1})
	ds, err := eng.DeployAll(ctxT(t), reqs, deploy.FleetOptions{FailFast: true})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	for i := 1; i < 4; i++ {
		assert.Nil(t, ds[i], "target %d should not have started", i)
		assert.Equal(t, "v1", f.Current(fmt.Sprintf("svc-%d", i)).ID)
	}
}

func TestPlanMakesNoMutatingCall(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	p, err := r.eng.Plan(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Linear(10, time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, 0, r.fake.MutatingCalls())
	assert.Equal(t, "v1", p.From.ID)
	assert.Equal(t, "v2", p.To.ID)
	assert.Equal(t, []deploy.Change{{Path: "revision", Old: "v1", New: "v2"}}, p.Changes)
	assert.Contains(t, p.String(), "v1 -> v2")
	_, err = r.eng.PlanRollback(ctxT(t), deploy.RollbackRequest{Target: r.target, To: "v0"})
	require.NoError(t, err)
	assert.Equal(t, 0, r.fake.MutatingCalls())
	calls := r.fake.Calls()
	require.NotEmpty(t, calls)
	for _, c := range calls {
		assert.False(t, c.Mutating, "call %s", c.Op)
	}
}

func TestBadInputRefusedBeforeDriver(t *testing.T) {
	cases := []struct {
		name     string
		strategy func() (deploy.Strategy, error)
	}{
		{"percent over 100", func() (deploy.Strategy, error) { return deploy.Canary(150, time.Minute), nil }},
		{"percent zero", func() (deploy.Strategy, error) { return deploy.Linear(0, time.Minute), nil }},
		{"never reaches 100", func() (deploy.Strategy, error) {
			return deploy.Custom(deploy.ShiftTo(10), deploy.ShiftTo(50)), nil
		}},
		{"negative bake", func() (deploy.Strategy, error) { return deploy.Canary(10, -time.Minute), nil }},
		{"unknown CodeDeploy name", func() (deploy.Strategy, error) {
			return deploy.ParseStrategy("CodeDeployDefault.LambdaCanary7Percent3Minutes")
		}},
		{"min healthy never met", func() (deploy.Strategy, error) {
			return deploy.ParseStrategy("all-at-once;min-healthy=FLEET_PERCENT:100")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, deploy.ModeEngine)
			s, err := tc.strategy()
			if err == nil {
				_, err = r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"}, Strategy: s})
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
			var ve *deploy.ValidationError
			assert.ErrorAs(t, err, &ve)
			assert.Empty(t, r.fake.Calls(), "no driver call for bad input")
		})
	}
}

func TestMinHealthyNeverMetForFleet(t *testing.T) {
	_, err := deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 3}.Plan(3)
	assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
}

func TestApprovalStep(t *testing.T) {
	for _, mode := range []deploy.Mode{deploy.ModeEngine, deploy.ModePlatform} {
		t.Run(string(mode), func(t *testing.T) {
			r := newRig(t, mode)
			approver := make(chan error, 1)
			r.eng = deploy.New(r.fake, deploy.Options{Clock: r.clk, OnEvent: func(e deploy.Event) {
				if e.Kind == deploy.EventNote && e.Message == "waiting for approval" {
					go func() { approver <- r.eng.Approve(e.DeploymentID) }()
				}
			}})
			d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
				Strategy: deploy.Custom(deploy.ShiftTo(20), deploy.Approval(), deploy.ShiftTo(100))})
			require.NoError(t, err)
			require.NoError(t, <-approver)
			assert.Equal(t, deploy.StatusSucceeded, d.Status)
			assert.ErrorIs(t, r.eng.Approve(d.ID), deploy.ErrNotFound)
		})
	}
}

func TestCancelMidShiftRollsBackEngineMode(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := deploy.GateFunc{GateName: "ctrl-c", Phases: []deploy.Phase{deploy.PhaseBake},
		Func: func(context.Context, deploy.Check) error { cancel(); return nil }}
	d, err := r.eng.Deploy(ctx, deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Linear(10, time.Minute), Gates: []deploy.Gate{g}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, deploy.StatusRolledBack, d.Status)
	assert.Equal(t, "v1", r.fake.Current("web").ID)
	assert.Equal(t, []float64{10, 0}, r.fake.Shifts("web"))
}

func TestDeadlineIsTimeout(t *testing.T) {
	r := newRig(t, deploy.ModePlatform)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	g := deploy.GateFunc{GateName: "slow", Func: func(context.Context, deploy.Check) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	short, cancel2 := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel2()
	_, err := r.eng.Deploy(short, deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"}, Gates: []deploy.Gate{
		deploy.GateFunc{GateName: "wait", Func: func(c context.Context, _ deploy.Check) error { <-c.Done(); return c.Err() }}, g}})
	assert.ErrorIs(t, err, deploy.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestTransientStatusErrorsAreRetried(t *testing.T) {
	r := newRig(t, deploy.ModePlatform)
	r.fake.FailStatus(errors.New("throttled"), errors.New("throttled"))
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"}})
	require.NoError(t, err)
	assert.Equal(t, deploy.StatusSucceeded, d.Status)
	notes := 0
	for _, e := range r.kinds(deploy.EventNote) {
		if e.Message != "" {
			notes++
		}
	}
	assert.GreaterOrEqual(t, notes, 2)
}

func TestPlatformMessagesReportedOnce(t *testing.T) {
	r := newRig(t, deploy.ModePlatform)
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Linear(50, time.Minute)})
	require.NoError(t, err)
	seen := map[string]int{}
	for _, e := range r.kinds(deploy.EventMessage) {
		seen[e.Message]++
	}
	require.NotEmpty(t, seen)
	for msg, n := range seen {
		assert.Equal(t, 1, n, "message %q", msg)
	}
	assert.Len(t, seen, len(d.Messages)-1, "every message but the one Start returned is reported once")
}

// minimalDriver implements only the required interface.
type minimalDriver struct{}

func (minimalDriver) Platform() string { return "minimal" }
func (minimalDriver) Prepare(_ context.Context, req deploy.Request) (*deploy.Plan, error) {
	return &deploy.Plan{Request: req, To: req.Revision}, nil
}
func (minimalDriver) Start(_ context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	return &deploy.Deployment{ID: "m-1", Target: p.Request.Target, To: p.To, Status: deploy.StatusSucceeded}, nil
}
func (minimalDriver) Status(_ context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	if d.ID != "m-1" {
		return nil, deploy.ErrNotFound
	}
	return &deploy.Deployment{ID: "m-1", Target: d.Target, To: d.To, Status: deploy.StatusSucceeded, Percent: 100}, nil
}

func TestEngineModeNeedsShifter(t *testing.T) {
	eng := deploy.New(engineModeOnly{}, deploy.Options{})
	_, err := eng.Plan(context.Background(), deploy.Request{Target: deploy.Target{Name: "x"}, Revision: deploy.Revision{ID: "1"}})
	assert.ErrorIs(t, err, deploy.ErrUnsupported)
}

type engineModeOnly struct{ minimalDriver }

func (engineModeOnly) Prepare(_ context.Context, req deploy.Request) (*deploy.Plan, error) {
	return &deploy.Plan{Request: req, To: req.Revision, Mode: deploy.ModeEngine}, nil
}

func TestMinimalDriverDeploys(t *testing.T) {
	eng := deploy.New(minimalDriver{}, deploy.Options{Clock: deploytest.NewAutoClock(time.Time{})})
	d, err := eng.Deploy(ctxT(t), deploy.Request{Target: deploy.Target{Name: "x"}, Revision: deploy.Revision{ID: "1"}})
	require.NoError(t, err)
	assert.Equal(t, deploy.StatusSucceeded, d.Status)
	_, err = eng.History(ctxT(t), d.Target)
	assert.ErrorIs(t, err, deploy.ErrUnsupported)
	_, err = eng.Rollback(ctxT(t), deploy.RollbackRequest{Target: d.Target})
	assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
}
