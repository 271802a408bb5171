package ecs

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// describeLog is the ECS fake with every DescribeServices call recorded:
// when it was made and how many services it asked for.
type describeLog struct {
	*ecsfake.Fake
	mu    sync.Mutex
	calls []describeCall
}

type describeCall struct {
	at       time.Time
	services int
}

func (l *describeLog) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	l.mu.Lock()
	l.calls = append(l.calls, describeCall{time.Now(), len(in.Services)})
	l.mu.Unlock()
	return l.Fake.DescribeServices(ctx, in, o...)
}

// A fleet of 100 ECS services deployed through Engine.DeployAll with the
// engine's defaults polls them with one DescribeServices per ten services
// per poll; polled one by one, the same fleet costs one per service per
// poll. The test runs in a synctest bubble: the engine's default clock is
// the bubble's, so every poll falls due on the same fake instant it would
// in production, and no timing decides the outcome.
func TestFleetOf100PollsOneDescribeServicesPerTenServices(t *testing.T) {
	for _, batched := range []bool{true, false} {
		t.Run(map[bool]string{true: "StatusMany", false: "Status"}[batched], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 100
				log := &describeLog{Fake: ecsfake.New(ecsfake.Options{TaskStartTime: time.Minute})}
				td := log.SeedTaskDefinition(taskDef("web", "nginx:1"))
				for i := range n {
					log.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String(fmt.Sprintf("s%03d", i)),
						TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2)})
				}
				var drv deploy.Driver = New(log, Options{})
				if !batched {
					drv = statusOnly{drv}
				}
				eng := deploy.New(drv, deploy.Options{Concurrency: n})
				reqs := make([]deploy.Request, n)
				for i := range reqs {
					reqs[i] = deploy.Request{Target: Target("prod", fmt.Sprintf("s%03d", i)),
						Options: DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}}
				}
				start := time.Now()
				ds, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ds {
					if d.Status != deploy.StatusSucceeded {
						t.Fatalf("%s: %s", d.Target, d.Status)
					}
				}
				// The polls: every DescribeServices after the plans (one
				// service each, all at the start), grouped by instant.
				rounds := map[time.Time][]describeCall{}
				for _, c := range log.calls {
					if c.at.Equal(start) {
						continue
					}
					rounds[c.at] = append(rounds[c.at], c)
				}
				if len(rounds) == 0 {
					t.Fatal("no poll was made")
				}
				var times []time.Time
				for at := range rounds {
					times = append(times, at)
				}
				sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
				for _, at := range times {
					calls, services := len(rounds[at]), 0
					for _, c := range rounds[at] {
						services += c.services
					}
					want := services // one by one: a call per service
					if batched {
						want = (services + 9) / 10
					}
					if calls != want || (batched && services != n) {
						t.Errorf("poll at +%v: %d DescribeServices for %d services, want %d (and all %d services in each poll)", at.Sub(start), calls, services, want, n)
					}
				}
				t.Logf("%d polls, %d DescribeServices in all", len(times), len(log.calls))
			})
		})
	}
}
