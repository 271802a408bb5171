package ec2_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ec2/ec2fake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// pollModes are the ways a fleet is polled in the benchmarks below.
var pollModes = []struct {
	name              string
	batched, onChange bool
}{
	{"one-by-one", false, false},
	{"batched", true, false},
	{"batched+InstancesOnChange", true, true},
}

// BenchmarkFleetPoll reports the CodeDeploy calls of one poll of a fleet of
// live deployments (two instances each, one in progress): Status for each
// deployment one by one, or StatusMany in requests of StatusBatchSize (25)
// as the engine sends them. "deployment-reads/poll" counts GetDeployment
// and BatchGetDeployments, "calls/poll" every call. Each poll is given the
// reports of the poll before and the clock does not move, so with
// InstancesOnChange nothing has changed and no instance is read: its
// figure is the floor of a poll, the others are the ceiling.
func BenchmarkFleetPoll(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, m := range pollModes {
			b.Run(fmt.Sprintf("deployments=%d/%s", n, m.name), func(b *testing.B) {
				clk := deploytest.NewClock(deploytest.Epoch())
				f := codedeployfake.New(codedeployfake.Options{Clock: clk})
				ef := ec2fake.New()
				reqs := fleetGroups(f, ef, n)
				drv := ec2.New(f, ec2.Options{Clock: clk, EC2: ef, InstancesOnChange: m.onChange})
				ds := make([]*deploy.Deployment, n)
				for i, req := range reqs {
					p, err := drv.Prepare(ctx, req)
					if err != nil {
						b.Fatal(err)
					}
					if ds[i], err = drv.Start(ctx, p); err != nil {
						b.Fatal(err)
					}
				}
				clk.Advance(2 * time.Second)
				poll := func() {
					if !m.batched {
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

// BenchmarkFleetDeploy reports the CodeDeploy calls of a whole fleet
// deployment through Engine.DeployAll (every group at once, OneAtATime over
// two instances, ten seconds a lifecycle event, polled every 10 s), with
// the engine gathering polls into StatusMany and without:
// "status-calls/deployment-poll" counts the calls the polls made
// (GetDeployment, BatchGetDeployments, ListDeploymentTargets,
// BatchGetDeploymentTargets) per deployment polled, "calls/deployment"
// every call of the fleet per deployment. The fleet runs on an
// auto-advancing fake clock, on which the number of polls varies from run
// to run: compare the per-poll figures.
func BenchmarkFleetDeploy(b *testing.B) {
	for _, n := range []int{10, 100} {
		for _, m := range pollModes {
			b.Run(fmt.Sprintf("deployments=%d/%s", n, m.name), func(b *testing.B) {
				var calls, statusCalls, polled float64
				for range b.N {
					clk := deploytest.NewAutoClock(deploytest.Epoch())
					f := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: 10 * time.Second})
					ef := ec2fake.New()
					reqs := fleetGroups(f, ef, n)
					var drv deploy.Driver = ec2.New(f, ec2.Options{Clock: clk, EC2: ef, InstancesOnChange: m.onChange})
					if !m.batched {
						drv = statusOnly{drv}
					}
					eng := deploy.New(drv, deploy.Options{Clock: clk, Concurrency: n,
						Poll: deploy.PollOptions{MinDelay: 10 * time.Second, MaxDelay: 10 * time.Second}})
					ds, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
					if err != nil {
						b.Fatal(err)
					}
					for _, d := range ds {
						if d.Status != deploy.StatusSucceeded {
							b.Fatalf("%s: %s", d.Target, d.Status)
						}
					}
					// The groups had no deployment before, so every
					// deployment read is a poll.
					for _, c := range f.Calls() {
						calls++
						switch in := c.Input.(type) {
						case *codedeploy.GetDeploymentInput:
							statusCalls++
							polled++
						case *codedeploy.BatchGetDeploymentsInput:
							statusCalls++
							polled += float64(len(in.DeploymentIds))
						case *codedeploy.ListDeploymentTargetsInput, *codedeploy.BatchGetDeploymentTargetsInput:
							statusCalls++
						}
					}
				}
				b.ReportMetric(statusCalls/polled, "status-calls/deployment-poll")
				b.ReportMetric(polled/float64(b.N)/float64(n), "polls/deployment")
				b.ReportMetric(calls/float64(b.N)/float64(n), "calls/deployment")
			})
		}
	}
}
