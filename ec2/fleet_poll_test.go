package ec2_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ec2/ec2fake"
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

// statusOnly hides StatusMany, so the engine polls each deployment alone.
type statusOnly struct{ deploy.Driver }

// fleetGroups adds n in-place groups "g000".."gNNN" of two instances each
// (tagged Group=gNNN in ef) to f, running s3://bucket/app-0.zip, and
// returns a request deploying app-1.zip to each.
func fleetGroups(f *codedeployfake.Fake, ef *ec2fake.Client, n int) []deploy.Request {
	reqs := make([]deploy.Request, n)
	for i := range n {
		g := fmt.Sprintf("g%03d", i)
		ids := []string{g + "-i-1", g + "-i-2"}
		for _, id := range ids {
			ef.AddInstance(ec2fake.Instance{ID: id, Tags: map[string]string{"Group": g}})
		}
		f.AddGroup(codedeployfake.Group{Application: "app", Name: g, Batches: true,
			Targets: ids, Current: s3Loc("app-0.zip"), DeploymentConfigName: "CodeDeployDefault.OneAtATime",
			EC2TagFilters: []cdtypes.EC2TagFilter{{Key: aws.String("Group"), Value: aws.String(g), Type: cdtypes.EC2TagFilterTypeKeyAndValue}}})
		reqs[i] = deploy.Request{Target: ec2.Target("app", g),
			Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "bucket", Key: "app-1.zip"}}}
	}
	return reqs
}

// A fleet of 100 EC2/on-premises deployments through Engine.DeployAll
// with the engine's defaults reads its deployments with one
// BatchGetDeployments per 25 deployments per poll; polled one by one, the
// same fleet costs one GetDeployment per deployment per poll. The test runs
// in a synctest bubble: the engine's, the driver's and the fake's default
// clock is the bubble's, so every poll falls due on the same fake instant
// it would in production, and no timing decides the outcome.
func TestFleetOf100PollsOneBatchGetDeploymentsPer25(t *testing.T) {
	for _, batched := range []bool{true, false} {
		t.Run(map[bool]string{true: "StatusMany", false: "Status"}[batched], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 100
				log := &readLog{Fake: codedeployfake.New(codedeployfake.Options{})}
				ef := ec2fake.New()
				reqs := fleetGroups(log.Fake, ef, n)
				var drv deploy.Driver = ec2.New(log, ec2.Options{EC2: ef})
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
					if d.Status != deploy.StatusSucceeded {
						t.Fatalf("%s: %s (%s)", d.Target, d.Status, d.Reason)
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
