package ecs

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// conformanceHarness seeds service prod/web on web:1 (two tasks, the
// deployment circuit breaker on with rollback) in a fresh fake per clause.
func conformanceHarness(fo ecsfake.Options) func(t *testing.T) *deploytest.Harness {
	return func(t *testing.T) *deploytest.Harness {
		clk := deploytest.NewClock(deploytest.Epoch())
		fo := fo
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
		next := func() DeployOptions {
			return DeployOptions{TaskDefinition: taskDefJSON("web", fmt.Sprintf("nginx:v%d", n.Add(1)))}
		}
		h := &deploytest.Harness{
			Driver:          drv,
			Clock:           clk,
			Target:          Target("prod", "web"),
			MissingTarget:   Target("prod", "ghost"),
			MissingRevision: deploy.Revision{ID: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:999"},
			Request: func(t *testing.T) deploy.Request {
				return deploy.Request{Target: Target("prod", "web"), Options: next()}
			},
			Mutations: f.Mutations,
			Serving: func(t *testing.T) map[string]float64 {
				return f.Serving("prod", "web")
			},
			FailNext: func(*testing.T) { f.FailNext(1) },
			ThrottleStart: func(*testing.T) {
				f.InjectError("UpdateService", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})
			},
			Timeout: 30 * time.Second,
		}
		if fo.NoServiceDeployments {
			// Without the service-deployments API (an older partition,
			// an emulator) ECS deploys ROLLING only: tasks of the new
			// revision come up beside the old ones, then the old drain.
			h.Strategy = deploy.AllAtOnce()
		} else {
			// A PAUSE hook after the test traffic shift waits for
			// ContinueServiceDeployment. Without the service-deployments
			// API nothing can continue it.
			h.Waiting = func(t *testing.T) deploy.Request {
				o := next()
				o.BlueGreen = true
				o.Hooks = []LifecycleHook{{Pause: true, Stages: []string{"POST_TEST_TRAFFIC_SHIFT"}}}
				return deploy.Request{Target: Target("prod", "web"), Options: o}
			}
		}
		return h
	}
}

func TestConformance(t *testing.T) {
	deploytest.Run(t, conformanceHarness(ecsfake.Options{}))
}

func TestConformanceWithoutServiceDeploymentsAPI(t *testing.T) {
	deploytest.Run(t, conformanceHarness(ecsfake.Options{NoServiceDeployments: true}))
}

// TestConformanceStrategies runs the suite with ECS's other native
// strategies that split traffic: ROLLING (all at once: old and new tasks
// serve side by side) and LINEAR. (BLUE_GREEN moves all traffic at once,
// so the suite's clauses about split traffic cannot run on it.)
func TestConformanceStrategies(t *testing.T) {
	for _, s := range []deploy.Strategy{deploy.AllAtOnce(), deploy.Linear(25, time.Minute)} {
		t.Run(s.String(), func(t *testing.T) {
			deploytest.Run(t, func(t *testing.T) *deploytest.Harness {
				h := conformanceHarness(ecsfake.Options{})(t)
				h.Strategy = s
				return h
			})
		})
	}
}
