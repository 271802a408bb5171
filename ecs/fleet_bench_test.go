package ecs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// statusOnly hides StatusMany, so the engine polls each deployment alone.
type statusOnly struct{ deploy.Driver }

// BenchmarkFleetDeploy reports the AWS calls per service of a whole fleet
// deployment through Engine.DeployAll (all services at once, rolling, to
// stable), with the engine gathering polls into StatusMany and without.
func BenchmarkFleetDeploy(b *testing.B) {
	for _, n := range []int{10, 100} {
		for _, batched := range []bool{true, false} {
			name := map[bool]string{true: "batched", false: "one-by-one"}[batched]
			b.Run(fmt.Sprintf("services=%d/%s", n, name), func(b *testing.B) {
				var calls, describes float64
				for range b.N {
					c, d := fleetCalls(b, n, batched)
					calls += c
					describes += d
				}
				b.ReportMetric(calls/float64(b.N), "calls/service")
				b.ReportMetric(describes/float64(b.N), "DescribeServices/service")
			})
		}
	}
}

func fleetCalls(b *testing.B, n int, batched bool) (perService, describesPerService float64) {
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	f := ecsfake.New(ecsfake.Options{Clock: clk, TaskStartTime: 2 * time.Minute})
	td := f.SeedTaskDefinition(taskDef("web", "nginx:1"))
	for i := range n {
		f.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String(fmt.Sprintf("s%03d", i)),
			TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2)})
	}
	drv := New(f, Options{Clock: clk})
	var d deploy.Driver = drv
	if !batched {
		d = statusOnly{drv}
	}
	eng := deploy.New(d, deploy.Options{Clock: clk, Concurrency: n,
		Poll: deploy.PollOptions{MinDelay: 10 * time.Second, MaxDelay: 10 * time.Second}})
	doc := taskDefJSON("web", "nginx:2")
	reqs := make([]deploy.Request, n)
	for i := range reqs {
		reqs[i] = deploy.Request{Target: Target("prod", fmt.Sprintf("s%03d", i)), Options: DeployOptions{TaskDefinition: doc}}
	}
	f.ResetCalls()
	if _, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{}); err != nil {
		b.Fatal(err)
	}
	calls := f.Calls()
	describes := 0
	for _, c := range calls {
		if c == "DescribeServices" {
			describes++
		}
	}
	return float64(len(calls)) / float64(n), float64(describes) / float64(n)
}
