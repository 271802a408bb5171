package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

type env struct {
	t     *testing.T
	fake  *ecsfake.Fake
	drv   *Driver
	clock *deploytest.Clock
	tgt   deploy.Target

	mu     sync.Mutex
	events []deploy.Event
	notes  []string
}

// newEnv seeds service "web" in cluster "prod" on task definition web:1
// with two tasks, circuit breaker with rollback on.
func newEnv(t *testing.T, fo ecsfake.Options) *env {
	t.Helper()
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	fo.Clock = clk
	f := ecsfake.New(fo)
	td := f.SeedTaskDefinition(taskDef("web", "nginx:1"))
	f.SeedService(&ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(200), MinimumHealthyPercent: aws.Int32(100),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}, Strategy: types.DeploymentStrategyRolling},
	})
	drv := New(f, Options{AutoScaling: f, Clock: clk})
	return &env{t: t, fake: f, drv: drv, clock: clk, tgt: Target("prod", "web")}
}

func taskDef(family, image string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: []types.ContainerDefinition{{
		Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(256),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
	}}}
}

// taskDefJSON renders a task definition document as describe-task-definition prints it.
func taskDefJSON(family, image string) []byte {
	return []byte(fmt.Sprintf(`{"taskDefinition": {
  "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/%[1]s:1",
  "family": %[1]q, "revision": 1, "status": "ACTIVE",
  "containerDefinitions": [{"name": "app", "image": %[2]q, "memory": 256, "essential": true,
    "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}], "environment": [], "mountPoints": []}],
  "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
  "compatibilities": ["EC2"], "registeredAt": "2026-01-01T00:00:00Z", "registeredBy": "arn:aws:iam::123456789012:root"},
  "tags": []}`, family, image))
}

func (e *env) ctx() context.Context {
	return deploy.WithNotifier(context.Background(), func(k deploy.EventKind, msg string) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.notes = append(e.notes, msg)
	})
}

func (e *env) engine() *deploy.Engine {
	return deploy.New(e.drv, deploy.Options{Clock: e.clock, OnEvent: func(ev deploy.Event) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.events = append(e.events, ev)
	}})
}

func (e *env) request(o DeployOptions) deploy.Request {
	return deploy.Request{Target: e.tgt, Options: o}
}

func (e *env) service() types.Service {
	e.t.Helper()
	out, err := e.fake.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 {
		e.t.Fatalf("describe: %v %v", out, err)
	}
	return out.Services[0]
}

func (e *env) addScalableTarget() {
	e.t.Helper()
	_, err := e.fake.RegisterScalableTarget(context.Background(), &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: astypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web"),
		ScalableDimension: astypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(10)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.fake.ResetCalls()
}

func (e *env) messages(kind deploy.EventKind) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		if ev.Kind == kind {
			out = append(out, ev.Message)
		}
	}
	return out
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ptr[T any](v T) *T { return &v }
