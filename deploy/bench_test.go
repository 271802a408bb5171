package deploy_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// BenchmarkDeployLinear measures the engine's own cost for one engine-driven
// Linear10PercentEvery10Minutes deployment (10 shifts, 9 bakes, gates every
// 30s of simulated time) on the fake driver.
func BenchmarkDeployLinear(b *testing.B) {
	clk := deploytest.NewAutoClock(time.Time{})
	drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := drv.AddTarget("fn:live", deploy.Revision{ID: "0"})
	alarm := deploytest.NewAlarm("ok")
	eng := deploy.New(drv, deploy.Options{Clock: clk})
	s, _ := deploy.ParseStrategy("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, err := eng.Deploy(context.Background(), deploy.Request{Target: target,
			Revision: deploy.Revision{ID: fmt.Sprint(i + 1)}, Strategy: s, Gates: []deploy.Gate{alarm}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeployAll measures a fleet of platform-driven canaries with the
// default concurrency limit.
func BenchmarkDeployAll(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			clk := deploytest.NewAutoClock(time.Time{})
			drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk, Mode: deploy.ModePlatform})
			var targets []deploy.Target
			for i := range n {
				targets = append(targets, drv.AddTarget(fmt.Sprintf("svc-%d", i), deploy.Revision{ID: "0"}))
			}
			eng := deploy.New(drv, deploy.Options{Clock: clk})
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				reqs := make([]deploy.Request, n)
				for j, t := range targets {
					reqs[j] = deploy.Request{Target: t, Revision: deploy.Revision{ID: fmt.Sprint(i + 1)},
						Strategy: deploy.Canary(10, 5*time.Minute)}
				}
				if _, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseStrategy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := deploy.ParseStrategy("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineOverhead is the engine's own cost for one deployment
// with its defaults: an all-at-once, platform-driven deployment (Prepare,
// Start, one status read that finds it done) on a driver that does nothing
// else, so the figure is the engine's. (The fake driver of deploytest
// keeps every deployment's history, which would be measured too.)
func BenchmarkEngineOverhead(b *testing.B) {
	clk := deploytest.NewAutoClock(time.Time{})
	h := &heldPlatform{}
	h.released.Store(true)
	eng := deploy.New(h, deploy.Options{Clock: clk})
	req := deploy.Request{Target: deploy.Target{Name: "svc"}, Revision: deploy.Revision{ID: "2"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Deploy(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// heldPlatform is a platform whose deployments stay in progress until
// released, so a benchmark can count what each costs while in flight.
type heldPlatform struct {
	started  atomic.Int64
	polled   atomic.Int64
	released atomic.Bool
}

func (h *heldPlatform) Platform() string { return "held" }

func (h *heldPlatform) Prepare(_ context.Context, req deploy.Request) (*deploy.Plan, error) {
	return &deploy.Plan{Request: req, To: req.Revision, Mode: deploy.ModePlatform}, nil
}

func (h *heldPlatform) Start(_ context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	n := h.started.Add(1)
	return &deploy.Deployment{ID: fmt.Sprint("d-", n), Target: p.Request.Target, To: p.To, Status: deploy.StatusInProgress}, nil
}

func (h *heldPlatform) Status(_ context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	h.polled.Add(1)
	nd := &deploy.Deployment{ID: d.ID, Target: d.Target, To: d.To, Status: deploy.StatusInProgress, Percent: 50}
	if h.released.Load() {
		nd.Status, nd.Percent = deploy.StatusSucceeded, 100
	}
	return nd, nil
}

// BenchmarkInFlight holds 10,000 platform-driven deployments in flight at
// once (every one started and polled at least once, polls every 50 ms of
// the wall clock) and reports the memory each costs while in flight: heap
// and goroutine stacks over the engine's at rest, per deployment.
func BenchmarkInFlight(b *testing.B) {
	const n = 10000
	for b.Loop() {
		h := &heldPlatform{}
		eng := deploy.New(h, deploy.Options{Concurrency: n,
			Poll: deploy.PollOptions{MinDelay: 50 * time.Millisecond, MaxDelay: 50 * time.Millisecond}})
		reqs := make([]deploy.Request, n)
		for i := range reqs {
			reqs[i] = deploy.Request{Target: deploy.Target{Name: fmt.Sprint("svc-", i)}, Revision: deploy.Revision{ID: "2"}}
		}
		before := inUse()
		done := make(chan error, 1)
		go func() {
			_, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
			done <- err
		}()
		for h.started.Load() < n || h.polled.Load() < 2*n {
			time.Sleep(10 * time.Millisecond)
		}
		during := inUse()
		h.released.Store(true)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(during-before)/n, "B/in-flight")
	}
}

// inUse is the heap and stack memory in use after a collection.
func inUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}
