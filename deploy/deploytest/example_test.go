package deploytest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// A platform team's tool that wraps the engine can be tested against the
// fake driver, including its failure paths.
func ExampleDriver() {
	clock := deploytest.NewAutoClock(time.Time{})
	drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock, Mode: deploy.ModePlatform, PlatformRollback: true})
	target := drv.AddTarget("orders", deploy.Revision{ID: "orders:7"})
	drv.FailNext(2, fmt.Errorf("tasks failed to start"))

	eng := deploy.New(drv, deploy.Options{Clock: clock})
	d, err := eng.Deploy(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "orders:8"},
		Strategy: deploy.Canary(10, time.Minute)})
	fmt.Println(d.Status)
	fmt.Println(err)
	fmt.Println("running:", drv.Current("orders").ID)
	// Output:
	// RolledBack
	// fake deploy fake:orders (deployment fake-1): deploy: deployment rolled back: platform rolled back after: tasks failed to start
	// running: orders:7
}

// The clock runs an hour-long bake without waiting for it.
func ExampleClock() {
	clock := deploytest.NewClock(time.Time{})
	done := make(chan time.Time)
	go func() { done <- <-clock.After(time.Hour) }()
	_ = clock.BlockUntil(context.Background(), 1)
	clock.Advance(time.Hour)
	fmt.Println((<-done).Sub(deploytest.Epoch()))
	// Output: 1h0m0s
}

// Run checks a driver against the contract; this is how the fake itself is
// tested. A real driver's harness backs it with fakes of the AWS clients.
func ExampleRun() {
	harness := func(t *testing.T) *deploytest.Harness {
		clock := deploytest.NewClock(time.Time{})
		drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
		target := drv.AddTarget("web", deploy.Revision{ID: "v0"})
		var n atomic.Int64
		return &deploytest.Harness{
			Driver: drv, Clock: clock, Target: target, MissingTarget: deploy.Target{Name: "missing"},
			Request: func(*testing.T) deploy.Request {
				return deploy.Request{Target: target, Revision: deploy.Revision{ID: fmt.Sprint("v", n.Add(1))}}
			},
			Mutations: drv.MutatingCalls,
			// What the platform serves, read from the platform, not the driver.
			Serving:  func(*testing.T) map[string]float64 { return drv.Serving("web") },
			FailNext: func(*testing.T) { drv.FailNext(0, nil) },
		}
	}
	// In a test: deploytest.Run(t, harness). thirdparty_test.go has a whole
	// driver written with only the standard library and deploy.
	_ = harness
	fmt.Println("deploytest.Run(t, harness)")
	// Output: deploytest.Run(t, harness)
}
