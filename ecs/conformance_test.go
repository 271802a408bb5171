package ecs

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

func conformanceHarness(fo ecsfake.Options) func(t *testing.T) *deploytest.Harness {
	return func(t *testing.T) *deploytest.Harness {
		clk := deploytest.NewClock(deploytest.Epoch())
		fo.Clock = clk
		f := ecsfake.New(fo)
		td := f.SeedTaskDefinition(taskDef("web", "nginx:1"))
		f.SeedService(&ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2),
			DeploymentConfiguration: &types.DeploymentConfiguration{
				DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
		})
		drv := New(f, Options{AutoScaling: f, Clock: clk})
		var n atomic.Int64
		return &deploytest.Harness{
			Driver:        drv,
			Clock:         clk,
			Target:        Target("prod", "web"),
			MissingTarget: Target("prod", "ghost"),
			Request: func(t *testing.T) deploy.Request {
				return deploy.Request{Target: Target("prod", "web"), Options: DeployOptions{
					TaskDefinition: taskDefJSON("web", fmt.Sprintf("nginx:v%d", n.Add(1)))}}
			},
			Mutations: f.Mutations,
			FailNext:  func(*testing.T) { f.FailNext(1) },
		}
	}
}

func TestConformance(t *testing.T) {
	deploytest.Run(t, conformanceHarness(ecsfake.Options{}))
}

func TestConformanceWithoutServiceDeploymentsAPI(t *testing.T) {
	deploytest.Run(t, conformanceHarness(ecsfake.Options{NoServiceDeployments: true}))
}
