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

// BenchmarkAPICalls reports the AWS calls the driver makes for n services:
// calls/deploy is Prepare plus Start of one deployment (task definition
// file, rolling); calls/poll-min is what following all n deployments costs
// per minute when polled every 10 seconds with StatusMany (batched) and
// with one Status per deployment.
func BenchmarkAPICalls(b *testing.B) {
	for _, api := range []bool{true, false} {
		for _, n := range []int{1, 10, 100} {
			mode := map[bool]string{true: "service-deployments", false: "describe-services"}[api]
			b.Run(fmt.Sprintf("%s/services=%d", mode, n), func(b *testing.B) {
				var perDeploy, batched, single float64
				for range b.N {
					perDeploy, batched, single = measure(b, n, !api)
				}
				b.ReportMetric(perDeploy, "calls/deploy")
				b.ReportMetric(batched, "calls/poll-min")
				b.ReportMetric(single, "unbatched-calls/poll-min")
			})
		}
	}
}

func measure(b *testing.B, n int, noSD bool) (perDeploy, batched, single float64) {
	clk := deploytest.NewClock(deploytest.Epoch())
	f := ecsfake.New(ecsfake.Options{Clock: clk, NoServiceDeployments: noSD, TaskStartTime: 5 * time.Minute})
	td := f.SeedTaskDefinition(taskDef("web", "nginx:1"))
	for i := range n {
		f.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String(fmt.Sprintf("s%03d", i)),
			TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2)})
	}
	drv := New(f, Options{Clock: clk})
	ctx := context.Background()
	doc := taskDefJSON("web", "nginx:2")
	var deps []*deploy.Deployment
	f.ResetCalls()
	for i := range n {
		p, err := drv.Prepare(ctx, deploy.Request{Target: Target("prod", fmt.Sprintf("s%03d", i)), Options: DeployOptions{TaskDefinition: doc}})
		if err != nil {
			b.Fatal(err)
		}
		d, err := drv.Start(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		deps = append(deps, d)
	}
	perDeploy = float64(len(f.Calls())) / float64(n)
	f.ResetCalls()
	for range 6 {
		clk.Advance(10 * time.Second)
		if _, err := drv.StatusMany(ctx, deps); err != nil {
			b.Fatal(err)
		}
	}
	batched = float64(len(f.Calls()))
	f.ResetCalls()
	for range 6 {
		clk.Advance(10 * time.Second)
		for _, d := range deps {
			if _, err := drv.Status(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	single = float64(len(f.Calls()))
	return perDeploy, batched, single
}
