package deploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// Events carry what a progress bar needs: step n of m, percent, the end
// of the bake and the time left, in either mode.
func TestEventsCarryProgress(t *testing.T) {
	for _, mode := range []deploy.Mode{deploy.ModeEngine, deploy.ModePlatform} {
		t.Run(string(mode), func(t *testing.T) {
			clk := deploytest.NewAutoClock(time.Time{})
			fake := deploytest.NewDriver(deploytest.DriverOptions{Mode: mode, Clock: clk})
			target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
			var events []deploy.Event
			eng := deploy.New(fake, deploy.Options{Clock: clk, OnEvent: func(e deploy.Event) { events = append(events, e) }})
			// shift 10, bake 10m, shift 50, bake 5m, shift 100: five steps.
			s := deploy.Custom(deploy.ShiftTo(10), deploy.BakeFor(10*time.Minute), deploy.ShiftTo(50),
				deploy.BakeFor(5*time.Minute), deploy.ShiftTo(100))
			_, err := eng.Deploy(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"}, Strategy: s})
			require.NoError(t, err)
			var sawFirstBake, sawSecondBake bool
			for _, e := range events {
				if e.DeploymentID == "" {
					continue
				}
				assert.Equal(t, 5, e.Steps, "%s %s", e.Kind, e.Message)
				if e.Status != deploy.StatusBaking {
					continue
				}
				require.False(t, e.BakeUntil.IsZero(), "a bake event says when the bake ends: %+v", e)
				switch e.Percent {
				case 10:
					sawFirstBake = true
					assert.Equal(t, 1, e.Step)
					// the rest of this bake and all of the next one
					assert.Equal(t, e.BakeUntil.Sub(e.Time)+5*time.Minute, e.Remaining)
					assert.LessOrEqual(t, e.Remaining, 15*time.Minute)
				case 50:
					sawSecondBake = true
					assert.Equal(t, 3, e.Step)
					assert.LessOrEqual(t, e.Remaining, 5*time.Minute)
				}
			}
			assert.True(t, sawFirstBake && sawSecondBake, "both bakes were reported")
			last := events[len(events)-1]
			assert.Equal(t, time.Duration(0), last.Remaining)
		})
	}
}

func TestEventJSONNamesOneConvention(t *testing.T) {
	e := deploy.Event{Kind: deploy.EventStatus, Target: "x", Steps: 3, Remaining: 90 * time.Second,
		Instances: &deploy.InstanceCounts{Done: 1, Failed: 0, Total: 4}}
	b, err := e.MarshalJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"time":"0001-01-01T00:00:00Z","kind":"status","target":"x","step":0,"steps":3,"percent":0,
		"instances":{"done":1,"failed":0,"total":4},"remainingSeconds":90}`, string(b))
}

// timedStatus records when the engine asked for status.
type timedStatus struct {
	*deploytest.Driver
	clk   *deploytest.Clock
	times []time.Time
}

func (s *timedStatus) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	s.times = append(s.times, s.clk.Now())
	return s.Driver.Status(ctx, d)
}

func (s *timedStatus) StatusMany() {}

// In platform mode the engine polls right after a bake the strategy says
// ends, not up to a whole backoff later.
func TestPollsNearStepBoundaries(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Mode: deploy.ModePlatform, Clock: clk, StepTime: 10 * time.Second})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	drv := &timedStatus{Driver: fake, clk: clk}
	eng := deploy.New(drv, deploy.Options{Clock: clk, Poll: deploy.PollOptions{Jitter: -1, MinDelay: 2 * time.Second, MaxDelay: time.Minute}})
	start := clk.Now()
	_, err := eng.Deploy(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(10, 7*time.Minute)})
	require.NoError(t, err)
	// The 10% shift lands 10s in, the bake ends 7 minutes later.
	bakeEnd := start.Add(10*time.Second + 7*time.Minute)
	near := false
	for _, at := range drv.times {
		if !at.Before(bakeEnd) && at.Sub(bakeEnd) <= 2*time.Second {
			near = true
		}
	}
	assert.True(t, near, "no poll within 2s after the bake ended at %s: %v", bakeEnd.Format("15:04:05"), drv.times)
}
