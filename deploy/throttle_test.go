package deploy_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// throttling wraps the fake: Status is throttled until the clock passes
// statusUntil, and the next shifts and stops calls to Shift and Stop are.
type throttling struct {
	*deploytest.Driver
	clk         *deploytest.Clock
	statusUntil time.Time
	shifts      atomic.Int32
	stops       atomic.Int32
}

func throttled(op string) error {
	return fmt.Errorf("%s: %w: Rate exceeded", op, deploy.ErrThrottled)
}

func (d *throttling) Status(ctx context.Context, dep *deploy.Deployment) (*deploy.Deployment, error) {
	if d.clk.Now().Before(d.statusUntil) {
		return nil, throttled("DescribeServices")
	}
	return d.Driver.Status(ctx, dep)
}

func (d *throttling) StatusMany() {} // hide the fake's: polls go through Status

func (d *throttling) Shift(ctx context.Context, dep *deploy.Deployment, pct float64) error {
	if d.shifts.Add(-1) >= 0 {
		return throttled("UpdateAlias")
	}
	return d.Driver.Shift(ctx, dep, pct)
}

func (d *throttling) Stop(ctx context.Context, dep *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if d.stops.Add(-1) >= 0 {
		return "", throttled("UpdateAlias")
	}
	return d.Driver.Stop(ctx, dep, o)
}

func newThrottling(mode deploy.Mode) (*throttling, deploy.Target) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Mode: mode, Clock: clk})
	tg := f.AddTarget("web", deploy.Revision{ID: "v1"})
	return &throttling{Driver: f, clk: clk}, tg
}

func TestThrottledStatusNeverCountsTowardGivingUp(t *testing.T) {
	d, tg := newThrottling(deploy.ModePlatform)
	d.statusUntil = d.clk.Now().Add(45 * time.Minute) // far past StatusTimeout
	eng := deploy.New(d, deploy.Options{Clock: d.clk, StatusTimeout: 10 * time.Minute})
	got, err := eng.Deploy(ctxT(t), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, 5*time.Minute), RollbackOn: deploy.OnFailure})
	require.NoError(t, err)
	assert.Equal(t, deploy.StatusSucceeded, got.Status)
}

func TestThrottledShiftIsTriedAgain(t *testing.T) {
	d, tg := newThrottling(deploy.ModeEngine)
	d.shifts.Store(3)
	eng := deploy.New(d, deploy.Options{Clock: d.clk})
	got, err := eng.Deploy(ctxT(t), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, 5*time.Minute), RollbackOn: deploy.OnFailure | deploy.OnAlarm})
	require.NoError(t, err, "a throttled UpdateAlias is not a failed deployment")
	assert.Equal(t, deploy.StatusSucceeded, got.Status)
	assert.Equal(t, []float64{10, 100}, d.Shifts("web"), "each step moved the traffic once")
}

func TestThrottledGateIsAskedAgain(t *testing.T) {
	d, tg := newThrottling(deploy.ModeEngine)
	var checks atomic.Int32
	gate := deploy.GateFunc{GateName: "alarms", Func: func(context.Context, deploy.Check) error {
		if checks.Add(1) <= 2 {
			return throttled("DescribeAlarms")
		}
		return nil
	}}
	eng := deploy.New(d, deploy.Options{Clock: d.clk})
	got, err := eng.Deploy(ctxT(t), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Minute), Gates: []deploy.Gate{gate}, RollbackOn: deploy.OnFailure})
	require.NoError(t, err, "a gate that could not look is not a gate that refused")
	assert.Equal(t, deploy.StatusSucceeded, got.Status)
	assert.Greater(t, checks.Load(), int32(2))
}

func TestThrottledStopIsAskedAgain(t *testing.T) {
	d, tg := newThrottling(deploy.ModeEngine)
	d.stops.Store(2)
	alarm := deploytest.NewAlarm("errors")
	alarm.FireAt(10)
	eng := deploy.New(d, deploy.Options{Clock: d.clk})
	got, err := eng.Deploy(ctxT(t), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, time.Minute), Gates: []deploy.Gate{alarm}, RollbackOn: deploy.OnAlarm})
	require.ErrorIs(t, err, deploy.ErrRolledBack)
	assert.Equal(t, deploy.StatusRolledBack, got.Status)
	assert.Empty(t, got.RolledBackBy, "the platform's own stop rolled it back, once asked again")
	assert.Equal(t, map[string]float64{"v1": 100}, d.Serving("web"))
}

// prepThrottled is throttled on its first Prepare calls.
type prepThrottled struct {
	*deploytest.Driver
	left atomic.Int32
}

func (d *prepThrottled) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	if d.left.Add(-1) >= 0 {
		return nil, throttled("DescribeServices")
	}
	return d.Driver.Prepare(ctx, req)
}

func TestThrottledPrepareIsAskedAgain(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	tg := f.AddTarget("web", deploy.Revision{ID: "v1"})
	d := &prepThrottled{Driver: f}
	d.left.Store(3)
	eng := deploy.New(d, deploy.Options{Clock: clk})
	got, err := eng.Deploy(ctxT(t), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"}})
	require.NoError(t, err, "a throttled plan is not a failed deployment")
	assert.Equal(t, deploy.StatusSucceeded, got.Status)
}

// startThrottled is the fake with its first Start and Continue calls
// throttled.
type startThrottled struct {
	*deploytest.Driver
	starts, continues atomic.Int32 // throttled calls left
	startCalls        atomic.Int32
}

func (d *startThrottled) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	d.startCalls.Add(1)
	if d.starts.Add(-1) >= 0 {
		return nil, throttled("UpdateService")
	}
	return d.Driver.Start(ctx, p)
}

func (d *startThrottled) Continue(ctx context.Context, dep *deploy.Deployment) error {
	if d.continues.Add(-1) >= 0 {
		return throttled("ContinueDeployment")
	}
	return d.Driver.Continue(ctx, dep)
}

// A throttled Start is asked again (the contract lets the engine call
// Start again after ErrThrottled), and the deployment then runs as one.
func TestThrottledStartIsAskedAgain(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	tg := f.AddTarget("web", deploy.Revision{ID: "v1"})
	d := &startThrottled{Driver: f}
	d.starts.Store(3)
	var notes atomic.Int32
	eng := deploy.New(d, deploy.Options{Clock: clk, OnEvent: func(ev deploy.Event) {
		if ev.Kind == deploy.EventNote && ev.Target == tg.String() && strings.HasPrefix(ev.Message, "start throttled") {
			notes.Add(1)
		}
	}})
	got, err := eng.Deploy(ctxT(t), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"}})
	require.NoError(t, err, "a throttled start is not a failed deployment")
	assert.Equal(t, deploy.StatusSucceeded, got.Status)
	assert.Equal(t, int32(4), d.startCalls.Load(), "three throttled starts and one that went through")
	assert.Equal(t, int32(3), notes.Load(), "each throttled start is reported")
}

// A throttled Continue keeps the approval: it is asked again after the
// next poll, and the deployment goes on.
func TestThrottledContinueIsAskedAgain(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk, Mode: deploy.ModePlatform})
	tg := f.AddTarget("web", deploy.Revision{ID: "v1"})
	d := &startThrottled{Driver: f}
	d.continues.Store(2)
	var eng *deploy.Engine
	eng = deploy.New(d, deploy.Options{Clock: clk, OnEvent: func(ev deploy.Event) {
		if ev.Kind == deploy.EventNote && ev.Message == "waiting for approval" {
			go func() { _ = eng.Approve(ev.DeploymentID) }()
		}
	}})
	got, err := eng.Deploy(ctxT(t), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Custom(deploy.ShiftTo(20), deploy.Approval(), deploy.ShiftTo(100))})
	require.NoError(t, err, "a throttled continue is not a failed deployment")
	assert.Equal(t, deploy.StatusSucceeded, got.Status)
	assert.Equal(t, int32(-1), d.continues.Load(), "two throttled continues and one that went through")
}
