package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// A canary deployment with an alarm gate, run on the fake driver and a fake
// clock: the alarm fires once 10% of traffic is on the new revision, and the
// engine rolls back.
func Example() {
	clock := deploytest.NewAutoClock(time.Time{})
	drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	target := drv.AddTarget("checkout:live", deploy.Revision{ID: "41"})

	alarm := deploytest.NewAlarm("checkout-5xx")
	alarm.FireAt(10)

	eng := deploy.New(drv, deploy.Options{Clock: clock, OnEvent: func(e deploy.Event) {
		switch e.Kind {
		case deploy.EventShift, deploy.EventRollback:
			fmt.Printf("%s: %s\n", e.Kind, e.Message)
		}
	}})
	d, err := eng.Deploy(context.Background(), deploy.Request{
		Target:     target,
		Revision:   deploy.Revision{ID: "42"},
		Strategy:   deploy.Canary(10, 5*time.Minute),
		Gates:      []deploy.Gate{alarm},
		RollbackOn: deploy.OnAlarm,
	})
	fmt.Println(d.Status, errors.Is(err, deploy.ErrAlarm), drv.Current("checkout:live").ID)
	// Output:
	// shift: 10% on 42
	// shift: all traffic back on 41
	// rollback: rolled back to 41
	// RolledBack true 41
}

func ExampleParseStrategy() {
	for _, name := range []string{
		"CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
		"canary:5:15m",
		"steps:10,1h,approve,100",
		"CodeDeployDefault.HalfAtATime",
	} {
		s, err := deploy.ParseStrategy(name)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %d steps, %v baking\n", s, len(s.Steps), s.TotalBake())
	}
	_, err := deploy.ParseStrategy("canary:0:5m")
	fmt.Println(errors.Is(err, deploy.ErrInvalidRequest))
	// Output:
	// linear:10:10m: 19 steps, 1h30m0s baking
	// canary:5:15m: 3 steps, 15m0s baking
	// steps:10,1h,approve,100: 4 steps, 1h0m0s baking
	// all-at-once;min-healthy=FLEET_PERCENT:50: 1 steps, 0s baking
	// true
}

func ExampleMinHealthyHosts_Plan() {
	half, _ := deploy.ParseMinHealthyHosts("FLEET_PERCENT:50")
	p, _ := half.Plan(9)
	fmt.Println(p.Batches, "keeping", p.MinHealthy, "healthy")
	_, err := deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 4}.Plan(4)
	fmt.Println(err)
	// Output:
	// [4 4 1] keeping 5 healthy
	// invalid minHealthyHosts "HOST_COUNT:4": can never be met on 4 instances: no instance could be taken offline
}

// Plan is the dry run: it reports what would change and makes no mutating
// call.
func ExampleEngine_Plan() {
	drv := deploytest.NewDriver(deploytest.DriverOptions{})
	target := drv.AddTarget("web", deploy.Revision{ID: "v1"})
	eng := deploy.New(drv, deploy.Options{})
	p, err := eng.Plan(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Linear(25, time.Minute)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(p)
	fmt.Println("mutating calls:", drv.MutatingCalls())
	// Output:
	// fake:web: v1 -> v2 [linear:25:1m, engine]
	//   revision: v1 -> v2
	// mutating calls: 0
}

// Stop has three outcomes; a slow platform answers Pending first.
func ExampleEngine_Stop() {
	clock := deploytest.NewAutoClock(time.Time{})
	drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	drv.StopSlowly(1)
	target := drv.AddTarget("api", deploy.Revision{ID: "v1"})
	eng := deploy.New(drv, deploy.Options{Clock: clock})
	operator := deploy.GateFunc{GateName: "operator", Phases: []deploy.Phase{deploy.PhaseBake},
		Func: func(ctx context.Context, c deploy.Check) error {
			out, err := eng.Stop(ctx, c.Deployment, deploy.StopOptions{Rollback: true})
			fmt.Println("stop:", out, err)
			return nil
		}}
	d, err := eng.Deploy(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
		Strategy: deploy.Canary(20, time.Hour), Gates: []deploy.Gate{operator}})
	fmt.Println(d.Status, errors.Is(err, deploy.ErrRolledBack))
	// Output:
	// stop: Pending <nil>
	// RolledBack true
}

// DeployAll deploys a fleet; one failing target does not stop the others.
func ExampleEngine_DeployAll() {
	clock := deploytest.NewAutoClock(time.Time{})
	drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	var reqs []deploy.Request
	for _, name := range []string{"eu", "us", "ap"} {
		reqs = append(reqs, deploy.Request{Target: drv.AddTarget(name, deploy.Revision{ID: "v1"}),
			Revision: deploy.Revision{ID: "v2"}})
	}
	broken := deploytest.NewAlarm("us-latency")
	broken.Fire()
	reqs[1].Gates = []deploy.Gate{broken}
	eng := deploy.New(drv, deploy.Options{Clock: clock, Concurrency: 2})
	ds, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
	for _, d := range ds {
		fmt.Println(d.Target.Name, d.Status)
	}
	var de *deploy.Error
	if errors.As(err, &de) {
		fmt.Println("failed:", de.Target)
	}
	// Output:
	// eu Succeeded
	// us Failed
	// ap Succeeded
	// failed: fake:us
}

func ExampleEngine_Rollback() {
	clock := deploytest.NewAutoClock(time.Time{})
	drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	target := drv.AddTarget("web", deploy.Revision{ID: "v1"})
	eng := deploy.New(drv, deploy.Options{Clock: clock})
	for _, v := range []string{"v2", "v3"} {
		if _, err := eng.Deploy(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: v}}); err != nil {
			fmt.Println(err)
		}
	}
	rb, err := eng.Rollback(context.Background(), deploy.RollbackRequest{Target: target})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rb.To.ID, rb.Status, "rolls back", rb.RollbackOf)
	// Output:
	// v2 Succeeded rolls back fake-2
}
