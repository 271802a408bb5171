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

var errBusy = fmt.Errorf("%w: Rate exceeded", deploy.ErrThrottled)

// leftOf returns the *deploy.LeftError err carries, failing the test
// when there is none.
func leftOf(t *testing.T, err error) *deploy.LeftError {
	t.Helper()
	var le *deploy.LeftError
	require.ErrorAs(t, err, &le, "the error says nothing about what the target is left serving: %v", err)
	return le
}

func shares(le *deploy.LeftError) map[string]float64 {
	out := map[string]float64{}
	for _, s := range le.Serving {
		out[s.Revision.ID] = s.Percent
	}
	return out
}

// A canary whose final shift fails, whose stop the platform refuses and
// whose rollback deployment cannot start: the error reads back what the
// target serves (the canary's split) and names the repair.
func TestLeftWhenRollbackFails(t *testing.T) {
	r := newRig(t, deploy.ModeEngine)
	r.fake.FailNext(2, errors.New("shift to 100% failed"))
	r.fake.RefuseStop(errors.New("the platform will not stop it"))
	d, err := r.eng.Deploy(ctxT(t), deploy.Request{Target: r.target, Revision: deploy.Revision{ID: "v2", Label: "web:2"},
		Strategy: deploy.Canary(10, time.Hour), RollbackOn: deploy.OnFailure})
	require.Error(t, err)
	assert.ErrorIs(t, err, deploy.ErrFailed)
	assert.Equal(t, deploy.StatusFailed, d.Status)
	le := leftOf(t, err)
	assert.False(t, le.LastSeen, "the driver is a ServingReader: what is served is read back")
	assert.Equal(t, map[string]float64{"v2": 10, "v1": 90}, shares(le))
	assert.Equal(t, r.fake.Serving("web"), shares(le), "what the platform really serves")
	require.NotNil(t, le.Repair)
	assert.Equal(t, "v1", le.Repair.ID)
	assert.Equal(t, d.ID, le.DeploymentID)
	assert.True(t, le.NeedsRepair())
	assert.Contains(t, err.Error(), "left serving web:2 at 10% and v1 at 90%; repair: roll back to v1 (Engine.Rollback)")
	assert.Equal(t, "rollback failed", d.Reason)
}

// A stop without rollback that the platform keeps throttling is asked
// again with backoff until the cleanup budget runs out; the error then
// says the target is still split and what repairs it.
func TestLeftWhenStopStaysThrottled(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	eng := deploy.New(fake, deploy.Options{Clock: clk, CleanupTimeout: 5 * time.Minute})
	var once sync.Once
	var stoppedAt time.Time
	gate := deploy.GateFunc{GateName: "stopper", Phases: []deploy.Phase{deploy.PhaseBake}, Func: func(ctx context.Context, c deploy.Check) error {
		once.Do(func() {
			fake.FailStop(errBusy)
			stoppedAt = clk.Now()
			_, _ = eng.Stop(ctx, c.Deployment, deploy.StopOptions{Reason: "operator"})
		})
		return nil
	}}
	d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(25, time.Hour), Gates: []deploy.Gate{gate}})
	require.Error(t, err)
	assert.Equal(t, deploy.StatusFailed, d.Status)
	assert.ErrorIs(t, err, deploy.ErrTimeout, "the budget ran out and the error says so")
	assert.Contains(t, err.Error(), "CleanupTimeout")
	le := leftOf(t, err)
	assert.Equal(t, map[string]float64{"v2": 25, "v1": 75}, shares(le))
	assert.True(t, le.Live)
	stops := 0
	for _, c := range fake.Calls() {
		if c.Op == "Stop" {
			stops++
		}
	}
	assert.Greater(t, stops, 3, "a throttled stop is asked again, with backoff")
	assert.LessOrEqual(t, clk.Now().Sub(stoppedAt), 5*time.Minute+time.Minute, "within the budget")
}

// When the budget runs out and the target cannot be read back either, the
// error gives the last status the engine saw, marked as such.
func TestLeftFallsBackToLastSeen(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	fake.StopSlowly(1 << 20)
	fake.FailServing(errors.New("the platform is unreachable"))
	eng := deploy.New(fake, deploy.Options{Clock: clk, CleanupTimeout: 2 * time.Minute})
	alarm := deploytest.NewAlarm("errors")
	alarm.FireAt(30)
	d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Linear(30, time.Minute), Gates: []deploy.Gate{alarm}, RollbackOn: deploy.OnAlarm})
	require.Error(t, err)
	assert.Equal(t, deploy.StatusFailed, d.Status)
	assert.ErrorIs(t, err, deploy.ErrAlarm)
	le := leftOf(t, err)
	assert.True(t, le.LastSeen)
	assert.ErrorContains(t, le.ReadErr, "unreachable")
	assert.Equal(t, map[string]float64{"v2": 30, "v1": 70}, shares(le))
	assert.Contains(t, err.Error(), "left serving v2 at 30% and v1 at 70% as last seen (not read back: the platform is unreachable); repair: roll back to v1")
	assert.Len(t, deploymentErrors(err, deploy.ErrTimeout), 1)
}

// deploymentErrors returns how many LeftErrors err holds (one per failed
// cleanup, never one per nested rollback), checking err wraps sentinel.
func deploymentErrors(err error, sentinel error) []*deploy.LeftError {
	var out []*deploy.LeftError
	var walk func(error)
	walk = func(e error) {
		if le, ok := e.(*deploy.LeftError); ok {
			out = append(out, le)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			if x := u.Unwrap(); x != nil {
				walk(x)
			}
		}
	}
	if errors.Is(err, sentinel) {
		walk(err)
	}
	return out
}

// throttledStarts throttles the first n Starts after the first: the
// rollback deployment a cleanup starts.
type throttledStarts struct {
	*deploytest.Driver
	mu     sync.Mutex
	starts int
	n      int
}

func (d *throttledStarts) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	d.mu.Lock()
	d.starts++
	throttle := d.starts > 1 && d.starts <= 1+d.n
	d.mu.Unlock()
	if throttle {
		return nil, errBusy
	}
	return d.Driver.Start(ctx, p)
}

// A rollback deployment the platform throttles is tried again after
// backing off, while the cleanup budget lasts: throttling during a
// rollback is normal in a fleet.
func TestRollbackRetriedWhileThrottled(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		rollback bool
	}{{"throttled three times", 3, true}, {"throttled past the budget", 1 << 20, false}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := deploytest.NewAutoClock(time.Time{})
			fake := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk})
			target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
			drv := &throttledStarts{Driver: fake, n: tc.n}
			eng := deploy.New(drv, deploy.Options{Clock: clk, CleanupTimeout: 10 * time.Minute})
			fake.FailNext(2, errors.New("tasks keep failing"))
			d, err := eng.Deploy(ctxT(t), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
				Strategy: deploy.Canary(10, 5*time.Minute), RollbackOn: deploy.OnFailure})
			require.Error(t, err)
			if tc.rollback {
				assert.ErrorIs(t, err, deploy.ErrRolledBack)
				assert.Equal(t, deploy.StatusRolledBack, d.Status)
				assert.Equal(t, map[string]float64{"v1": 100}, fake.Serving("web"))
				var le *deploy.LeftError
				assert.False(t, errors.As(err, &le), "a cleanup that succeeded leaves nothing to repair: %v", err)
				return
			}
			assert.ErrorIs(t, err, deploy.ErrFailed)
			assert.ErrorIs(t, err, deploy.ErrThrottled)
			assert.Contains(t, err.Error(), "CleanupTimeout")
			le := leftOf(t, err)
			assert.False(t, le.Live)
			// The platform failed the deployment and put v1 back itself.
			assert.False(t, le.NeedsRepair(), "%v", le)
			assert.Contains(t, le.Error(), "nothing to repair")
			assert.Greater(t, drv.starts, 3)
		})
	}
}

func TestLeftErrorMessage(t *testing.T) {
	web := func(n int) deploy.Revision {
		return deploy.Revision{ID: fmt.Sprintf("arn:td/web:%d", n), Label: fmt.Sprintf("web:%d", n)}
	}
	six := web(6)
	for _, tc := range []struct {
		le   deploy.LeftError
		want string
	}{
		{deploy.LeftError{Serving: []deploy.Share{{web(7), 30}, {web(6), 70}}, Repair: &six},
			"left serving web:7 at 30% and web:6 at 70%; repair: roll back to web:6 (Engine.Rollback)"},
		{deploy.LeftError{Serving: []deploy.Share{{web(7), 100}}, Repair: &six, LastSeen: true},
			"left serving web:7 at 100% as last seen; repair: roll back to web:6 (Engine.Rollback)"},
		{deploy.LeftError{Serving: []deploy.Share{{web(6), 100}}, Repair: &six},
			"left serving web:6 at 100%, the revision the cleanup was returning it to: nothing to repair"},
		{deploy.LeftError{Serving: []deploy.Share{{web(7), 100}}},
			"left serving web:7 at 100%; no earlier revision to roll back to"},
		{deploy.LeftError{Serving: []deploy.Share{{web(8), 10}, {web(7), 20}, {web(6), 70}}, Repair: &six},
			"left serving web:8 at 10%, web:7 at 20% and web:6 at 70%; repair: roll back to web:6 (Engine.Rollback)"},
	} {
		assert.Equal(t, tc.want, tc.le.Error())
		assert.False(t, strings.Contains(tc.le.Error(), "\n"))
	}
}
