package ecs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// TestUnsupportedStrategyBeforeAnyCall: a strategy ECS cannot carry out
// is refused by Prepare with deploy.UnsupportedStrategy before any call.
func TestUnsupportedStrategyBeforeAnyCall(t *testing.T) {
	for _, s := range []deploy.Strategy{
		deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 1}),
		deploy.Custom(deploy.ShiftTo(10), deploy.Approval(), deploy.ShiftTo(100)),
		deploy.Linear(1, time.Minute),
	} {
		t.Run(s.String(), func(t *testing.T) {
			e := newEnv(t, ecsfake.Options{})
			e.fake.ResetCalls()
			req := e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})
			req.Strategy = s
			_, err := e.drv.Prepare(e.ctx(), req)
			var ve *deploy.ValidationError
			if !errors.Is(err, deploy.ErrUnsupported) || !errors.Is(err, deploy.ErrInvalidRequest) || !errors.As(err, &ve) || ve.Field != "strategy" {
				t.Fatalf("err = %v, want deploy.UnsupportedStrategy's", err)
			}
			if calls := e.fake.Calls(); len(calls) != 0 {
				t.Fatalf("calls before the refusal: %v", calls)
			}
		})
	}
}

// TestTrafficShiftingNeedsServiceDeploymentsAPI: where ECS has no
// service-deployments API it has no native traffic shifting either.
func TestTrafficShiftingNeedsServiceDeploymentsAPI(t *testing.T) {
	e := newEnv(t, ecsfake.Options{NoServiceDeployments: true})
	req := e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})
	req.Strategy = deploy.Canary(10, 5*time.Minute)
	if _, err := e.drv.Prepare(e.ctx(), req); !errors.Is(err, deploy.ErrUnsupported) {
		t.Fatalf("canary without the API: %v, want ErrUnsupported", err)
	}
	req.Strategy = deploy.AllAtOnce()
	if _, err := e.drv.Prepare(e.ctx(), req); err != nil {
		t.Fatalf("rolling without the API: %v", err)
	}
	if e.fake.Mutations() != 0 {
		t.Fatal("Prepare mutated")
	}
}

// TestStartRechecksTheLock: a deployment started by someone else between
// Prepare and Start makes Start refuse with ErrLocked, changing nothing.
func TestStartRechecksTheLock(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "service-deployments", false: "fallback"}[api], func(t *testing.T) {
			e := newEnv(t, ecsfake.Options{NoServiceDeployments: !api})
			p1 := mustPlan(t, e, DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})
			p2 := mustPlan(t, e, DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:3")})
			if _, err := e.drv.Start(e.ctx(), p1); err != nil {
				t.Fatal(err)
			}
			mut := e.fake.Mutations()
			if _, err := e.drv.Start(e.ctx(), p2); !errors.Is(err, deploy.ErrLocked) {
				t.Fatalf("second Start: %v, want ErrLocked", err)
			}
			if e.fake.Mutations() != mut {
				t.Fatalf("the refused Start made calls: %v", e.fake.Calls())
			}
			if _, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{SkipTaskDefinition: true})); !errors.Is(err, deploy.ErrLocked) {
				t.Fatalf("Prepare while live: %v, want ErrLocked", err)
			}
		})
	}
}

// TestStatusManyJoinsErrors: entries in input order, nil exactly where
// an error names the deployment; errors.Join, no third-party type.
func TestStatusManyJoinsErrors(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	d, err := e.engine().Deploy(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}))
	if err != nil {
		t.Fatal(err)
	}
	ghost := &deploy.Deployment{ID: "ecs-svc/0", Target: Target("prod", "ghost")}
	out, err := e.drv.StatusMany(e.ctx(), []*deploy.Deployment{ghost, d, nil})
	if len(out) != 3 || out[0] != nil || out[1] == nil || out[1].ID != d.ID || out[2] != nil {
		t.Fatalf("entries %v", out)
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 2 || !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("err = %#v, want two joined errors", err)
	}
	var de *deploy.Error
	if !errors.As(joined.Unwrap()[0], &de) || de.DeploymentID != ghost.ID {
		t.Fatalf("first error %v does not name %s", joined.Unwrap()[0], ghost.ID)
	}
	// A done context: every entry nil, every error wraps ctx.Err().
	ctx, cancel := context.WithCancel(e.ctx())
	cancel()
	out, err = e.drv.StatusMany(ctx, []*deploy.Deployment{d})
	if out[0] != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("done context: %v %v", out, err)
	}
}

// TestRollbackOptions: RollbackOptions need a named revision (the engine
// resolves it); a named revision ignores a task definition document.
func TestRollbackOptions(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	if _, err := e.drv.Prepare(e.ctx(), deploy.Request{Target: e.tgt, Options: &RollbackOptions{}}); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("rollback options without a revision: %v", err)
	}
	p, err := e.drv.Prepare(e.ctx(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{Label: "web:1"},
		Options: DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:9")}})
	if err != nil || p.To.Label != "web:1" || p.To.ID == "" {
		t.Fatalf("named revision with a document: %v %v", p, err)
	}
	if _, err := e.drv.Prepare(e.ctx(), deploy.Request{Target: e.tgt, Options: "deploy"}); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("options of another type: %v", err)
	}
}

// TestConstructors: New needs a client; NewFromConfig makes the optional
// clients unless the options set them; the zero Options mean defaults.
func TestConstructors(t *testing.T) {
	func() {
		defer func() {
			if recover() == nil {
				t.Error("New(nil, ...) did not panic")
			}
		}()
		New(nil, Options{})
	}()
	f := ecsfake.New(ecsfake.Options{})
	d := New(f, Options{})
	if d.clock == nil || d.log == nil || d.as != nil || d.cd != nil {
		t.Fatalf("zero Options: %+v", d)
	}
	d = NewFromConfig(aws.Config{Region: "us-east-1"}, Options{AutoScaling: f})
	if d.as != AutoScalingAPI(f) || d.cd == nil || d.ecs == nil {
		t.Fatalf("NewFromConfig: %+v", d)
	}
}
