package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// finishesAtOnce is a platform that completes a deployment between the
// engine's polls: its first Status already reports the end.
type finishesAtOnce struct {
	*deploytest.Driver
	clk *deploytest.Clock
}

func (f finishesAtOnce) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	for {
		nd, err := f.Driver.Status(ctx, d)
		if err != nil || nd.Status.Terminal() {
			return nd, err
		}
		f.clk.Advance(time.Minute)
	}
}

// StatusMany hides the fake's, so the engine polls through Status.
func (f finishesAtOnce) StatusMany() {}

// Defect 1: in platform mode a deployment the platform completed between
// two polls ended Succeeded with no gate checked.
func TestPlatformModeGatesCheckedWhenPlatformCompletesBetweenPolls(t *testing.T) {
	for _, policy := range []deploy.RollbackOn{0, deploy.OnAlarm} {
		t.Run(policy.String(), func(t *testing.T) {
			clk := deploytest.NewAutoClock(time.Time{})
			fake := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk})
			target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
			eng := deploy.New(finishesAtOnce{fake, clk}, deploy.Options{Clock: clk})
			alarm := deploytest.NewAlarm("errors")
			alarm.Fire()
			d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
				Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{alarm}, RollbackOn: policy})
			require.Error(t, err)
			assert.ErrorIs(t, err, deploy.ErrAlarm)
			assert.NotEqual(t, deploy.StatusSucceeded, d.Status)
			assert.NotEmpty(t, alarm.Checks(), "the alarm was checked")
			if policy.Has(deploy.OnAlarm) {
				assert.Equal(t, deploy.StatusRolledBack, d.Status)
				assert.Equal(t, map[string]float64{"v1": 100}, fake.Serving("web"))
			} else {
				assert.Equal(t, deploy.StatusFailed, d.Status)
				assert.Contains(t, d.Reason, "the platform completed the deployment")
			}
		})
	}
}

// staleAfterStop is a platform whose status stops moving once a stop was
// asked: it never confirms the stop.
type staleAfterStop struct {
	*deploytest.Driver
}

func (s staleAfterStop) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	nd, err := s.Driver.Status(ctx, d)
	if err == nil && nd.Status.Terminal() {
		nd.Status = deploy.StatusInProgress
	}
	return nd, err
}

func (s staleAfterStop) StatusMany() {}

// Defect 2: CleanupTimeout did not bound cleanup; every nested rollback
// got a fresh budget and a stale Status made Deploy never return.
func TestCleanupTimeoutBoundsEveryNestedCleanup(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	eng := deploy.New(staleAfterStop{fake}, deploy.Options{Clock: clk, CleanupTimeout: 3 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt time.Time
	gate := deploy.GateFunc{GateName: "cancel", Phases: []deploy.Phase{deploy.PhaseShift},
		Func: func(context.Context, deploy.Check) error {
			cancelledAt = clk.Now()
			cancel()
			return nil
		}}
	type res struct {
		d   *deploy.Deployment
		err error
	}
	done := make(chan res, 1)
	go func() {
		d, err := eng.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
			Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{gate}})
		done <- res{d, err}
	}()
	var r res
	select {
	case r = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Deploy did not return: the cleanup is not bounded")
	}
	require.Error(t, r.err)
	assert.ErrorIs(t, r.err, context.Canceled)
	assert.ErrorIs(t, r.err, deploy.ErrTimeout, "the cleanup ran out of time and says so")
	assert.Contains(t, r.err.Error(), "CleanupTimeout")
	spent := clk.Now().Sub(cancelledAt)
	assert.LessOrEqual(t, spent, 3*time.Minute+30*time.Second, "one budget for the whole cleanup, nested rollbacks included")
	assert.Equal(t, map[string]float64{"v1": 100}, fake.Serving("web"), "the stop itself took effect")
}

// Defect 3: a status the engine could not read was treated as a failure.
func TestUnreadableStatusIsUnknownNotFailed(t *testing.T) {
	t.Run("transient errors", func(t *testing.T) {
		r := newRig(t, deploy.ModePlatform)
		errs := make([]error, 15)
		for i := range errs {
			errs[i] = fmt.Errorf("throttled %d", i)
		}
		r.fake.FailStatus(errs...)
		d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
			Strategy: deploy.Canary(10, 5*time.Minute)})
		require.NoError(t, err, "15 failed reads in a row (about five minutes) are not a failed deployment")
		assert.Equal(t, deploy.StatusSucceeded, d.Status)
	})
	t.Run("never readable", func(t *testing.T) {
		clk := deploytest.NewAutoClock(time.Time{})
		fake := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk})
		target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
		eng := deploy.New(unreadable{fake}, deploy.Options{Clock: clk, StatusTimeout: 20 * time.Minute})
		d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
			Strategy: deploy.Canary(10, 5*time.Minute), RollbackOn: deploy.OnFailure})
		require.Error(t, err)
		assert.ErrorIs(t, err, deploy.ErrTimeout)
		assert.NotErrorIs(t, err, deploy.ErrFailed)
		assert.Contains(t, err.Error(), "last seen Created")
		assert.Equal(t, deploy.StatusCreated, d.Status, "the last status seen, not Failed")
		for _, c := range fake.Calls() {
			assert.NotEqual(t, "Stop", c.Op, "an unknown deployment is neither stopped nor rolled back")
		}
	})
	t.Run("fleet under throttling", func(t *testing.T) {
		clk := deploytest.NewAutoClock(time.Time{})
		fake := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk})
		var reqs []deploy.Request
		for i := range 30 {
			tg := fake.AddTarget(fmt.Sprint("svc-", i), deploy.Revision{ID: "v1"})
			reqs = append(reqs, deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"}})
		}
		errs := make([]error, 20)
		for i := range errs {
			errs[i] = errors.New("ThrottlingException: Rate exceeded")
		}
		fake.FailStatus(errs...) // each fails a whole StatusMany batch
		// The auto clock moves for every poller's wait, so thirty pollers
		// see time pass up to thirty times faster, by however the
		// scheduler interleaves them: give them all the time that can take
		// (20 failed rounds x 30 pollers x 30s at most).
		eng := deploy.New(fake, deploy.Options{Clock: clk, Concurrency: 30, StatusTimeout: 1000 * time.Hour})
		ds, err := eng.DeployAll(ctxT(t), reqs, deploy.FleetOptions{})
		require.NoError(t, err)
		for _, d := range ds {
			assert.Equal(t, deploy.StatusSucceeded, d.Status)
		}
	})
}

type unreadable struct{ *deploytest.Driver }

func (u unreadable) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	return nil, errors.New("ThrottlingException: Rate exceeded")
}

func (u unreadable) StatusMany() {}

// Defect 4: what a stop without rollback leaves in engine mode, and what
// the next deployment does about it.
func TestStopWithoutRollbackLeavesSplitUntilRollback(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	gate := deploy.GateFunc{GateName: "operator", Phases: []deploy.Phase{deploy.PhaseBake},
		Func: func(ctx context.Context, c deploy.Check) error {
			_, err := r.eng.Stop(ctx, c.Deployment, deploy.StopOptions{Reason: "hold it"})
			return err
		}}
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{gate}})
	require.ErrorIs(t, err, deploy.ErrStopped)
	assert.Equal(t, deploy.StatusStopped, d.Status)
	assert.Equal(t, 10.0, d.Percent, "the traffic stays where it was")
	assert.Equal(t, map[string]float64{"v1": 90, "v2": 10}, r.fake.Serving("web"))

	_, err = r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v3"}})
	require.ErrorIs(t, err, deploy.ErrLocked, "the split target is held")
	assert.Contains(t, err.Error(), "Engine.Rollback", "the error names the repair")

	rb, err := r.eng.Rollback(ctxT(t), deploy.RollbackRequest{Target: r.target})
	require.NoError(t, err)
	assert.Equal(t, "v1", rb.To.ID)
	assert.Equal(t, d.ID, rb.RollbackOf)
	assert.Equal(t, map[string]float64{"v1": 100}, r.fake.Serving("web"))

	_, err = r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v3"}})
	require.NoError(t, err)
}

// revertOnly is a platform that can only stop by reverting.
type revertOnly struct{ *deploytest.Driver }

func (v revertOnly) Stop(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if !o.Rollback {
		return "", fmt.Errorf("%w: this platform stops by reverting", deploy.ErrUnsupported)
	}
	return v.Driver.Stop(ctx, d, o)
}

func TestStopWithoutRollbackFallsBackWhereThePlatformCanOnlyRevert(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	var notes []string
	eng := deploy.New(revertOnly{fake}, deploy.Options{Clock: clk, OnEvent: func(e deploy.Event) {
		if e.Kind == deploy.EventNote {
			notes = append(notes, e.Message)
		}
	}})
	gate := deploy.GateFunc{GateName: "operator", Phases: []deploy.Phase{deploy.PhaseBake},
		Func: func(ctx context.Context, c deploy.Check) error {
			_, err := eng.Stop(ctx, c.Deployment, deploy.StopOptions{})
			return err
		}}
	d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{gate}})
	require.ErrorIs(t, err, deploy.ErrRolledBack)
	assert.Equal(t, deploy.StatusRolledBack, d.Status)
	assert.Equal(t, map[string]float64{"v1": 100}, fake.Serving("web"))
	assert.Contains(t, strings.Join(notes, "\n"), "cannot stop without rolling back")
}

func TestEngineRunsOneDeploymentPerTarget(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	var second error
	gate := deploy.GateFunc{GateName: "eager", Phases: []deploy.Phase{deploy.PhaseBake},
		Func: func(ctx context.Context, c deploy.Check) error {
			if second == nil {
				_, second = r.eng.Deploy(ctx, deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v3"}})
			}
			return nil
		}}
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Minute), Gates: []deploy.Gate{gate}})
	require.NoError(t, err)
	require.ErrorIs(t, second, deploy.ErrLocked)
	assert.Contains(t, second.Error(), d.ID, "the error names the deployment holding the target")
	for _, c := range r.fake.Calls() {
		if c.Op == "Start" {
			assert.Equal(t, "web", c.Target)
		}
	}
	assert.Equal(t, "v2", r.fake.Current("web").ID)
}

func TestDeployAllJoinsErrorsWithTheStandardLibrary(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	other := r.fake.AddTarget("api", deploy.Revision{ID: "a1"})
	_, err := r.eng.DeployAll(ctxT(t), []deploy.Request{
		{Target: r.target, Revision: deploy.Revision{ID: "v1"}},  // already running: invalid
		{Target: other, Revision: deploy.Revision{ID: "a1"}},     // the same
		{Target: r.target, Revision: deploy.Revision{ID: "v2"}}}, // fine
		deploy.FleetOptions{Concurrency: 1})
	require.Error(t, err)
	j, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "DeployAll's error lists its parts with Unwrap() []error")
	assert.Len(t, j.Unwrap(), 2)
	assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
}

// A CLI's second interrupt ends the cleanup too: the engine returns at once
// with what it last saw.
func TestCleanupContextCutsCleanupShort(t *testing.T) {
	clk := deploytest.NewClock(time.Time{}) // manual: a pending stop waits forever
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	fake.StopSlowly(1000)
	eng := deploy.New(fake, deploy.Options{Clock: clk, CleanupTimeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hard, cutShort := context.WithCancel(context.Background())
	defer cutShort()
	stopping := make(chan struct{})
	var once sync.Once
	gate := deploy.GateFunc{GateName: "interrupt", Phases: []deploy.Phase{deploy.PhaseShift},
		Func: func(context.Context, deploy.Check) error { cancel(); return nil }}
	go func() {
		// Wait until the cleanup waits on the clock for its pending stop.
		_ = clk.BlockUntil(context.Background(), 1)
		once.Do(func() { close(stopping) })
	}()
	type res struct {
		d   *deploy.Deployment
		err error
	}
	done := make(chan res, 1)
	go func() {
		d, err := eng.Deploy(deploy.WithCleanupContext(ctx, hard), deploy.Request{Target: target,
			Revision: deploy.Revision{ID: "v2"}, Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{gate}})
		done <- res{d, err}
	}()
	select {
	case <-stopping:
	case <-time.After(10 * time.Second):
		t.Fatal("the cleanup never waited on its pending stop")
	}
	select {
	case r := <-done:
		t.Fatalf("Deploy returned before the cleanup was cut short: %v", r.err)
	default:
	}
	cutShort()
	var r res
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Deploy did not return once the cleanup was cut short")
	}
	require.Error(t, r.err)
	assert.ErrorIs(t, r.err, context.Canceled)
	assert.Contains(t, r.err.Error(), "cleanup cut short")
	require.NotNil(t, r.d)
	assert.Equal(t, 10.0, r.d.Percent, "it says what it left: 10% still on the new revision")
}
