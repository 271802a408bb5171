package deploy_test

import (
	"context"
	"fmt"
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
