package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

func TestNoWaitThenWait(t *testing.T) {
	r := newRig(t, deploy.ModePlatform)
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Hour), NoWait: true})
	require.NoError(t, err)
	assert.False(t, d.Status.Terminal(), "NoWait returns before the deployment ends")
	assert.Equal(t, "v1", r.fake.Current("web").ID)

	other := deploy.New(r.fake, deploy.Options{Clock: r.clk})
	final, err := other.Wait(ctxT(t), d)
	require.NoError(t, err)
	assert.Equal(t, deploy.StatusSucceeded, final.Status)
	assert.Equal(t, "v2", r.fake.Current("web").ID)
}

func TestNoWaitRefusedForEngineMode(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	_, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"}, NoWait: true})
	assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
	assert.Equal(t, 0, r.fake.MutatingCalls())
}

func TestWaitOnFailedPlatformDeploymentReportsIt(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk})
	target := f.AddTarget("svc", deploy.Revision{ID: "1"})
	f.FailNext(0, errors.New("image pull failed"))
	eng := deploy.New(f, deploy.Options{Clock: clk})
	d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "2"}, NoWait: true})
	require.NoError(t, err)
	final, err := eng.Wait(ctxT(t), d)
	assert.ErrorIs(t, err, deploy.ErrFailed)
	assert.Contains(t, err.Error(), "image pull failed")
	assert.Equal(t, deploy.StatusFailed, final.Status)
}

func TestPlatformFailureRolledBackByEngine(t *testing.T) {
	// The platform fails without rolling back; with OnFailure the engine
	// redeploys the previous revision as a new, linked deployment.
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk})
	target := f.AddTarget("svc", deploy.Revision{ID: "1"})
	f.FailNext(2, errors.New("tasks crash-looping"))
	eng := deploy.New(f, deploy.Options{Clock: clk})
	d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "2"},
		Strategy: deploy.Canary(10, time.Minute), RollbackOn: deploy.OnFailure})
	assert.ErrorIs(t, err, deploy.ErrRolledBack)
	assert.Equal(t, deploy.StatusRolledBack, d.Status)
	require.NotEmpty(t, d.RolledBackBy)
	h, err := eng.History(ctxT(t), target)
	require.NoError(t, err)
	assert.Equal(t, d.RolledBackBy, h[0].DeploymentID)
	assert.Equal(t, "1", h[0].Revision.ID)
	assert.True(t, h[0].Current)
}

func TestChanObserverAndEventJSON(t *testing.T) {
	ch := make(chan deploy.Event, 256)
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := f.AddTarget("web", deploy.Revision{ID: "1"})
	alarm := deploytest.NewAlarm("a")
	alarm.Fire()
	eng := deploy.New(f, deploy.Options{Clock: clk, OnEvent: deploy.ChanObserver(ch)})
	_, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "2"}, Gates: []deploy.Gate{alarm}})
	require.Error(t, err)
	close(ch)
	var gateEvent *deploy.Event
	n := 0
	for e := range ch {
		n++
		if e.Kind == deploy.EventGate && e.Err != nil {
			gateEvent = &e
		}
	}
	assert.Greater(t, n, 3)
	require.NotNil(t, gateEvent)
	b, err := json.Marshal(gateEvent)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, "gate", m["kind"])
	assert.Equal(t, "a", m["gate"])
	assert.Contains(t, m["error"], "ALARM")
}

func TestErrorFormatting(t *testing.T) {
	cause := errors.New("boom")
	err := &deploy.Error{Platform: "ecs", Op: "UpdateService", Target: "ecs:prod/web", DeploymentID: "ecs-svc/1", Err: cause}
	assert.Equal(t, "ecs UpdateService ecs:prod/web (deployment ecs-svc/1): boom", err.Error())
	assert.ErrorIs(t, err, cause)
	ve := deploy.Invalid("tasks", "-2", "must not be negative")
	assert.Equal(t, `invalid tasks "-2": must not be negative`, ve.Error())
	assert.ErrorIs(t, ve, deploy.ErrInvalidRequest)
	assert.ErrorIs(t, deploy.ErrUnsupported, errors.ErrUnsupported)
	for s, want := range map[deploy.Status]error{
		deploy.StatusFailed: deploy.ErrFailed, deploy.StatusStopped: deploy.ErrStopped,
		deploy.StatusRolledBack: deploy.ErrRolledBack, deploy.StatusSucceeded: nil, deploy.StatusBaking: nil,
	} {
		assert.Equal(t, want, deploy.StatusError(s), s)
	}
}

func TestDriverErrorsAreWrapped(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	_, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: deploy.Target{Name: "missing"}, Revision: deploy.Revision{ID: "2"}})
	var de *deploy.Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "prepare", de.Op)
	assert.Equal(t, "fake", de.Platform)
	assert.ErrorIs(t, err, deploy.ErrNotFound)

	r.fake.FailStart(errors.New("throttled"))
	_, err = r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "2"}})
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "start", de.Op)

	_, err = r.eng.Deploy(ctxT(t), deploy.Request{Target: deploy.Target{Platform: "ecs", Name: "web"}, Revision: deploy.Revision{ID: "2"}})
	assert.ErrorIs(t, err, deploy.ErrInvalidRequest, "a target of another platform")
}

func TestStopOfDeploymentNotRunHere(t *testing.T) {
	r := newRig(t, deploy.ModePlatform)
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Hour), NoWait: true})
	require.NoError(t, err)
	other := deploy.New(r.fake, deploy.Options{Clock: r.clk})
	out, err := other.Stop(context.Background(), d, deploy.StopOptions{Rollback: true})
	require.NoError(t, err)
	assert.Equal(t, deploy.StopSucceeded, out)
	got, err := other.Status(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, deploy.StatusRolledBack, got.Status)
}

func TestOptionsOf(t *testing.T) {
	type opts struct{ Tasks int }
	got, err := deploy.OptionsOf[opts](nil)
	require.NoError(t, err)
	assert.Equal(t, opts{}, got)
	got, err = deploy.OptionsOf[opts](opts{Tasks: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, got.Tasks)
	got, err = deploy.OptionsOf[opts](&opts{Tasks: 3})
	require.NoError(t, err)
	assert.Equal(t, 3, got.Tasks)
	got, err = deploy.OptionsOf[opts]((*opts)(nil))
	require.NoError(t, err)
	assert.Equal(t, opts{}, got)
	_, err = deploy.OptionsOf[opts]("tasks=2")
	assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "deploy_test.opts")
}

func TestRefusedStopPlatformFinishesItsWay(t *testing.T) {
	r := newRig(t, deploy.ModePlatform)
	r.fake.RefuseStop(errors.New("too late"))
	stopper := deploy.GateFunc{GateName: "operator", Phases: []deploy.Phase{deploy.PhaseBake},
		Func: func(ctx context.Context, c deploy.Check) error {
			_, err := r.eng.Stop(ctx, c.Deployment, deploy.StopOptions{})
			assert.ErrorIs(t, err, deploy.ErrCannotStop)
			return nil
		}}
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{stopper}})
	assert.ErrorIs(t, err, deploy.ErrCannotStop, "the refusal is reported")
	assert.Equal(t, deploy.StatusSucceeded, d.Status, "the platform finished the deployment; that is the outcome")
	assert.Equal(t, "v2", r.fake.Current("web").ID)
}

func TestRefusedStopEngineModeIsFailed(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	r.fake.RefuseStop(errors.New("too late"))
	alarm := deploytest.NewAlarm("errors")
	alarm.FireAt(30)
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Linear(30, time.Minute), Gates: []deploy.Gate{alarm}})
	assert.ErrorIs(t, err, deploy.ErrFailed)
	assert.ErrorIs(t, err, deploy.ErrAlarm)
	assert.ErrorIs(t, err, deploy.ErrCannotStop)
	assert.Equal(t, deploy.StatusFailed, d.Status)
	assert.Contains(t, d.Reason, "stopped shifting at 30%")
}

func TestEngineContinue(t *testing.T) {
	clk := deploytest.NewClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk})
	target := f.AddTarget("svc", deploy.Revision{ID: "1"})
	eng := deploy.New(f, deploy.Options{Clock: clk})
	d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "2"},
		Strategy: deploy.Custom(deploy.ShiftTo(50), deploy.Approval(), deploy.ShiftTo(100)), NoWait: true})
	require.NoError(t, err)
	assert.ErrorIs(t, eng.Continue(ctxT(t), d), deploy.ErrInvalidRequest, "not waiting yet")
	clk.Advance(time.Minute)
	got, err := eng.Status(ctxT(t), d)
	require.NoError(t, err)
	require.Equal(t, deploy.StatusReady, got.Status)
	require.NoError(t, eng.Continue(ctxT(t), got))
	clk.SetAuto(true)
	final, err := eng.Wait(ctxT(t), got)
	require.NoError(t, err)
	assert.Equal(t, deploy.StatusSucceeded, final.Status)

	plain := deploy.New(minimalDriver{}, deploy.Options{})
	assert.ErrorIs(t, plain.Continue(ctxT(t), &deploy.Deployment{ID: "m-1"}), deploy.ErrUnsupported)
}

func TestStopEnded(t *testing.T) {
	for _, tt := range []struct {
		s        deploy.Status
		rollback bool
		out      deploy.StopOutcome
		ended    bool
		cannot   bool
	}{
		{deploy.StatusSucceeded, false, "", true, true},
		{deploy.StatusSucceeded, true, "", true, true},
		{deploy.StatusStopped, false, deploy.StopSucceeded, true, false},
		{deploy.StatusStopped, true, "", true, true},
		{deploy.StatusFailed, false, deploy.StopSucceeded, true, false},
		{deploy.StatusFailed, true, "", true, true},
		{deploy.StatusRolledBack, true, deploy.StopSucceeded, true, false},
		{deploy.StatusInProgress, true, "", false, false},
		{deploy.StatusBaking, false, "", false, false},
	} {
		out, ended, err := deploy.StopEnded(tt.s, deploy.StopOptions{Rollback: tt.rollback})
		assert.Equal(t, tt.out, out, "%s rollback=%v", tt.s, tt.rollback)
		assert.Equal(t, tt.ended, ended, "%s rollback=%v", tt.s, tt.rollback)
		assert.Equal(t, tt.cannot, errors.Is(err, deploy.ErrCannotStop), "%s rollback=%v: %v", tt.s, tt.rollback, err)
	}
}
