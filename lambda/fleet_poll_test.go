package lambda_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// readLog is the CodeDeploy fake with every deployment read recorded: when
// it was made, which operation, and how many deployments it asked for.
type readLog struct {
	*codedeployfake.Fake
	mu    sync.Mutex
	reads []read
}

type read struct {
	at  time.Time
	op  string
	ids int
}

func (l *readLog) note(op string, ids int) {
	l.mu.Lock()
	l.reads = append(l.reads, read{time.Now(), op, ids})
	l.mu.Unlock()
}

func (l *readLog) BatchGetDeployments(ctx context.Context, in *codedeploy.BatchGetDeploymentsInput, o ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentsOutput, error) {
	l.note("BatchGetDeployments", len(in.DeploymentIds))
	return l.Fake.BatchGetDeployments(ctx, in, o...)
}

func (l *readLog) GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, o ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	l.note("GetDeployment", 1)
	return l.Fake.GetDeployment(ctx, in, o...)
}

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
				log := &readLog{Fake: codedeployfake.New(codedeployfake.Options{})}
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
				// starts (all at the first instant), grouped by instant.
				rounds := map[time.Time][]read{}
				for _, r := range log.reads {
					if !r.at.Equal(start) {
						rounds[r.at] = append(rounds[r.at], r)
					}
				}
				if len(rounds) == 0 {
					t.Fatal("no poll was made")
				}
				var times []time.Time
				for at := range rounds {
					times = append(times, at)
				}
				sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
				calls, deploymentPolls := 0, 0
				for _, at := range times {
					polled, batches, gets := 0, 0, 0
					for _, r := range rounds[at] {
						polled += r.ids
						switch r.op {
						case "BatchGetDeployments":
							batches++
						case "GetDeployment":
							gets++
						}
					}
					calls += len(rounds[at])
					if batched && (batches != (n+24)/25 || gets != 0 || polled != n) {
						t.Errorf("poll at +%v: %d BatchGetDeployments and %d GetDeployment for %d deployments; want %d, 0 and all %d",
							at.Sub(start), batches, gets, polled, (n+24)/25, n)
					}
					// One by one the polls are jittered: whatever falls on
					// one instant costs a call per deployment.
					if !batched && (gets != polled || batches != 0) {
						t.Errorf("poll at +%v: %d GetDeployment and %d BatchGetDeployments for %d deployments, want %d and 0",
							at.Sub(start), gets, batches, polled, polled)
					}
					deploymentPolls += polled
				}
				t.Logf("%d instants with polls, %d deployment polls, %d deployment reads: %.2f reads per deployment poll",
					len(times), deploymentPolls, calls, float64(calls)/float64(deploymentPolls))
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
