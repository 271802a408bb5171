package deploy_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

type fleetRig struct {
	clk      *deploytest.Clock
	fn, svc  *deploytest.Driver
	fleet    deploy.Fleet
	mu       sync.Mutex
	timeline []string // "start T" and "done T", in the order they happened
}

func newFleetRig(t *testing.T) *fleetRig {
	r := &fleetRig{clk: deploytest.NewAutoClock(time.Time{})}
	r.fn = deploytest.NewDriver(deploytest.DriverOptions{Platform: "lambda", Clock: r.clk})
	r.svc = deploytest.NewDriver(deploytest.DriverOptions{Platform: "ecs", Mode: deploy.ModePlatform, Clock: r.clk})
	r.fn.AddTarget("migrate:live", deploy.Revision{ID: "1"})
	for _, s := range []string{"prod/api", "prod/web", "prod/worker", "prod/cron"} {
		r.svc.AddTarget(s, deploy.Revision{ID: "td:1"})
	}
	on := func(e deploy.Event) {
		if e.Kind != deploy.EventStatus {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		switch {
		case e.Status == deploy.StatusCreated || (e.Status == deploy.StatusInProgress && len(e.Message) > 8 && e.Message[:8] == "started "):
			r.timeline = append(r.timeline, "start "+e.Target)
		case e.Status.Terminal():
			r.timeline = append(r.timeline, "done "+e.Target)
		}
	}
	r.fleet = deploy.Fleet{Engines: []*deploy.Engine{
		deploy.New(r.fn, deploy.Options{Clock: r.clk, OnEvent: on}),
		deploy.New(r.svc, deploy.Options{Clock: r.clk, OnEvent: on}),
	}}
	return r
}

func (r *fleetRig) at(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Index(r.timeline, s)
}

func item(platform, name, rev string, after ...string) deploy.FleetItem {
	return deploy.FleetItem{Request: deploy.Request{Target: deploy.Target{Platform: platform, Name: name},
		Revision: deploy.Revision{ID: rev}, Strategy: deploy.Canary(10, time.Minute)}, After: after}
}

func TestFleetStartsEachItemAfterItsDependenciesSucceeded(t *testing.T) {
	r := newFleetRig(t)
	results, err := r.fleet.Deploy(ctxT(t), []deploy.FleetItem{
		item("ecs", "prod/worker", "td:2", "ecs:prod/api", "ecs:prod/web"),
		item("ecs", "prod/api", "td:2", "lambda:migrate:live"),
		item("lambda", "migrate:live", "2"),
		item("ecs", "prod/web", "td:2", "lambda:migrate:live"),
	})
	require.NoError(t, err)
	for _, res := range results {
		assert.True(t, res.Started, res.Name)
		assert.Equal(t, deploy.StatusSucceeded, res.Deployment.Status, res.Name)
	}
	assert.Equal(t, "ecs:prod/worker", results[0].Name, "results come in item order")
	for _, edge := range [][2]string{
		{"lambda:migrate:live", "ecs:prod/api"}, {"lambda:migrate:live", "ecs:prod/web"},
		{"ecs:prod/api", "ecs:prod/worker"}, {"ecs:prod/web", "ecs:prod/worker"},
	} {
		done, start := r.at("done "+edge[0]), r.at("start "+edge[1])
		require.GreaterOrEqual(t, done, 0, edge[0])
		require.GreaterOrEqual(t, start, 0, edge[1])
		assert.Less(t, done, start, "%s started before %s succeeded: %v", edge[1], edge[0], r.timeline)
	}
}

func TestFleetFailureSkipsEverythingDownstream(t *testing.T) {
	r := newFleetRig(t)
	r.fn.FailNext(0, errors.New("migration failed"))
	results, err := r.fleet.Deploy(ctxT(t), []deploy.FleetItem{
		item("lambda", "migrate:live", "2"),
		item("ecs", "prod/api", "td:2", "lambda:migrate:live"),
		item("ecs", "prod/worker", "td:2", "ecs:prod/api"),
		item("ecs", "prod/cron", "td:2"), // independent: still runs
	})
	require.Error(t, err)
	assert.ErrorIs(t, results[0].Err, deploy.ErrFailed)
	for _, i := range []int{1, 2} {
		assert.False(t, results[i].Started, results[i].Name)
		assert.Nil(t, results[i].Deployment)
		assert.ErrorIs(t, results[i].Err, deploy.ErrSkipped, results[i].Name)
	}
	assert.Contains(t, results[1].Err.Error(), "lambda:migrate:live did not succeed")
	assert.Contains(t, results[2].Err.Error(), "ecs:prod/api did not succeed")
	assert.NoError(t, results[3].Err)
	assert.Equal(t, "td:1", r.svc.Current("prod/api").ID, "nothing downstream was touched")
	j, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok)
	assert.Len(t, j.Unwrap(), 3)
}

func TestFleetRefusesBadGraphsBeforeAnyCall(t *testing.T) {
	cases := map[string][]deploy.FleetItem{
		"cycle": {item("ecs", "prod/api", "td:2", "ecs:prod/web"), item("ecs", "prod/web", "td:2", "ecs:prod/worker"),
			item("ecs", "prod/worker", "td:2", "ecs:prod/api")},
		"self":          {item("ecs", "prod/api", "td:2", "ecs:prod/api")},
		"unknown after": {item("ecs", "prod/api", "td:2", "ecs:prod/nope")},
		"duplicate":     {item("ecs", "prod/api", "td:2"), item("ecs", "prod/api", "td:3")},
		"no engine":     {item("opsworks", "stack/app", "r2")},
	}
	for name, items := range cases {
		t.Run(name, func(t *testing.T) {
			r := newFleetRig(t)
			_, err := r.fleet.Deploy(context.Background(), items)
			var ve *deploy.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
			assert.Empty(t, r.fn.Calls())
			assert.Empty(t, r.svc.Calls())
			if name == "cycle" {
				assert.Contains(t, err.Error(), "ecs:prod/api -> ecs:prod/web -> ecs:prod/worker -> ecs:prod/api")
			}
		})
	}
}

func TestFleetFailFastStopsStartingNewItems(t *testing.T) {
	r := newFleetRig(t)
	r.fleet.Concurrency = 1
	r.fleet.FailFast = true
	r.svc.FailNext(0, errors.New("tasks failed"))
	results, err := r.fleet.Deploy(ctxT(t), []deploy.FleetItem{
		item("ecs", "prod/api", "td:2"), item("ecs", "prod/web", "td:2"), item("ecs", "prod/cron", "td:2"),
	})
	require.Error(t, err)
	assert.True(t, results[0].Started)
	for _, res := range results[1:] {
		assert.False(t, res.Started, res.Name)
		assert.ErrorIs(t, res.Err, deploy.ErrSkipped)
	}
}
