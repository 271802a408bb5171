package lambda_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// A fleet of 100 aliases deployed through CodeDeploy with Engine.DeployAll
// and the engine's defaults reads its deployments with one
// BatchGetDeployments per 25 deployments per poll; polled one by one, the
// same fleet costs one GetDeployment per deployment per poll. The test runs
// in a synctest bubble: the engine's, the driver's and the fake's default
// clock is the bubble's, so every poll falls due on the same fake instant
// it would in production, and no timing decides the outcome.
func TestCodeDeployFleetOf100PollsOneBatchGetDeploymentsPer25(t *testing.T) {
	for _, batched := range []bool{true, false} {
		t.Run(map[bool]string{true: "StatusMany", false: "Status"}[batched], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 100
				log := codedeployfake.NewReadLog(codedeployfake.New(codedeployfake.Options{}))
				lf := lambdafake.New()
				tgts := cdFleet(t, lf, log.Fake, n)
				reqs := make([]deploy.Request, n)
				for i, tgt := range tgts {
					reqs[i] = deploy.Request{Target: tgt, Revision: deploy.Revision{ID: "2"}}
				}
				var drv deploy.Driver = lambda.NewCodeDeploy(lf, log, lambda.CodeDeployOptions{})
				if !batched {
					drv = statusOnly{drv}
				}
				eng := deploy.New(drv, deploy.Options{Concurrency: n})
				start := time.Now()
				ds, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ds {
					if d.Status != deploy.StatusSucceeded || d.To.ID != "2" {
						t.Fatalf("%s: %s to %s (%s)", d.Target, d.Status, d.To.ID, d.Reason)
					}
				}
				// The polls: every deployment read after the plans and
				// starts (all at the first instant), by instant.
				log.CheckPolls(t, start, n, batched)
			})
		})
	}
}

// BenchmarkCodeDeployFleetPoll reports the CodeDeploy calls of one poll of
// a fleet of live Lambda deployments through CodeDeploy (one alias each,
// shifting at 10%): Status for each deployment one by one, or StatusMany
// in requests of StatusBatchSize (25) as the engine sends them.
// "deployment-reads/poll" counts GetDeployment and BatchGetDeployments,
// "calls/poll" every call: each deployment's target (the alias's weights)
// is still read on its own (ListDeploymentTargets and
// BatchGetDeploymentTargets), as CodeDeploy's API has it.
func BenchmarkCodeDeployFleetPoll(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 100, 1000} {
		for _, batched := range []bool{false, true} {
			b.Run(fmt.Sprintf("deployments=%d/%s", n, map[bool]string{false: "one-by-one", true: "batched"}[batched]), func(b *testing.B) {
				clk := deploytest.NewClock(deploytest.Epoch())
				f := codedeployfake.New(codedeployfake.Options{Clock: clk})
				lf := lambdafake.New()
				tgts := cdFleet(b, lf, f, n)
				drv := lambda.NewCodeDeploy(lf, f, lambda.CodeDeployOptions{Options: lambda.Options{Clock: clk}})
				canary := deploy.Canary(10, 5*time.Minute)
				ds := make([]*deploy.Deployment, n)
				for i, tgt := range tgts {
					p, err := drv.Prepare(ctx, deploy.Request{Target: tgt, Revision: deploy.Revision{ID: "2"}, Strategy: canary})
					if err != nil {
						b.Fatal(err)
					}
					if ds[i], err = drv.Start(ctx, p); err != nil {
						b.Fatal(err)
					}
				}
				clk.Advance(time.Minute)
				poll := func() {
					if !batched {
						for i, d := range ds {
							nd, err := drv.Status(ctx, d)
							if err != nil {
								b.Fatal(err)
							}
							ds[i] = nd
						}
						return
					}
					size := drv.StatusBatchSize()
					for i := 0; i < n; i += size {
						out, err := drv.StatusMany(ctx, ds[i:min(i+size, n)])
						if err != nil {
							b.Fatal(err)
						}
						copy(ds[i:], out)
					}
				}
				poll()
				for _, d := range ds {
					if d.Status != deploy.StatusInProgress || d.Percent != 10 {
						b.Fatalf("%s: %s at %v%%, want InProgress at 10%%", d.Target, d.Status, d.Percent)
					}
				}
				before := f.Calls()
				b.ResetTimer()
				for range b.N {
					poll()
				}
				b.StopTimer()
				calls := f.Calls()[len(before):]
				reads := 0
				for _, c := range calls {
					if c.Op == "GetDeployment" || c.Op == "BatchGetDeployments" {
						reads++
					}
				}
				b.ReportMetric(float64(len(calls))/float64(b.N), "calls/poll")
				b.ReportMetric(float64(reads)/float64(b.N), "deployment-reads/poll")
			})
		}
	}
}
