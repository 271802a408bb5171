package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// stopRecorder is the fake with the stop types of StopServiceDeployment
// calls recorded.
type stopRecorder struct {
	*ecsfake.Fake
	mu    sync.Mutex
	types []types.StopServiceDeploymentStopType
}

func (r *stopRecorder) StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error) {
	r.mu.Lock()
	r.types = append(r.types, in.StopType)
	r.mu.Unlock()
	return r.Fake.StopServiceDeployment(ctx, in, optFns...)
}

func (r *stopRecorder) sent() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := fmt.Sprint(r.types)
	r.types = nil
	return s
}

func newStopEnv(t *testing.T, fo ecsfake.Options) (*env, *stopRecorder) {
	t.Helper()
	e := newEnv(t, fo)
	rec := &stopRecorder{Fake: e.fake}
	drv := New(rec, Options{AutoScaling: e.fake, Clock: e.clock})
	e.drv = drv
	return e, rec
}

func (e *env) startDeploy(image string) *deploy.Deployment {
	e.t.Helper()
	p := mustPlan(e.t, e, DeployOptions{TaskDefinition: taskDefJSON("web", image)})
	d, err := e.drv.Start(e.ctx(), p)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) takeNotes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.notes
	e.notes = nil
	return n
}

// TestStopAbortRefused: where ECS refuses the ABORT stop type, a stop
// without rollback changes nothing and says ErrUnsupported (the engine then
// stops with rollback); later plain stops are refused without a call, and a
// stop with rollback still works.
func TestStopAbortRefused(t *testing.T) {
	for _, partition := range []bool{false, true} {
		t.Run(map[bool]string{false: "injected", true: "partition"}[partition], func(t *testing.T) {
			e, rec := newStopEnv(t, ecsfake.Options{RefuseAbort: partition})
			if !partition {
				e.fake.InjectError("StopServiceDeployment", &types.InvalidParameterException{
					Message: aws.String("Invalid stopType ABORT: the valid stop type is ROLLBACK.")})
			}
			d := e.startDeploy("nginx:2")
			before := e.service()
			_, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{})
			if !errors.Is(err, deploy.ErrUnsupported) || errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("stop: %v, want ErrUnsupported (not ErrInvalidRequest)", err)
			}
			if !strings.Contains(err.Error(), "ABORT") {
				t.Fatalf("error does not say why: %v", err)
			}
			if got := rec.sent(); got != "[ABORT]" {
				t.Fatalf("stop types sent %s, want [ABORT]", got)
			}
			if s, err := e.drv.Status(e.ctx(), d); err != nil || s.Status.Terminal() ||
				aws.ToString(e.service().TaskDefinition) != aws.ToString(before.TaskDefinition) {
				t.Fatalf("the refused stop changed the deployment: %v %v", s, err)
			}
			// The driver remembers: the next plain stop makes no call.
			if _, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{Reason: "operator"}); !errors.Is(err, deploy.ErrUnsupported) {
				t.Fatalf("second stop: %v", err)
			}
			if got := rec.sent(); got != "[]" {
				t.Fatalf("stop types sent %s, want none", got)
			}
			// A stop with rollback is what ECS offers.
			if out, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{Rollback: true}); err != nil || out != deploy.StopPending {
				t.Fatalf("stop with rollback: %v %v", out, err)
			}
			if got := rec.sent(); got != "[ROLLBACK]" {
				t.Fatalf("stop types sent %s, want [ROLLBACK]", got)
			}
			e.clock.Advance(5 * time.Minute)
			s, err := e.drv.Status(e.ctx(), d)
			if err != nil || s.Status != deploy.StatusRolledBack || s.Percent != 0 {
				t.Fatalf("status %v %v", s, err)
			}
			if got := aws.ToString(e.service().TaskDefinition); !strings.HasSuffix(got, "web:1") {
				t.Fatalf("service runs %s", got)
			}
		})
	}
}

// TestStopOtherErrorsNotRetried: an error that is not the ABORT refusal
// is returned as is, without a ROLLBACK the caller did not ask for.
func TestStopOtherErrorsNotRetried(t *testing.T) {
	e, rec := newStopEnv(t, ecsfake.Options{})
	e.fake.InjectError("StopServiceDeployment", &types.ConflictException{Message: aws.String("the service deployment is not in progress")})
	d := e.startDeploy("nginx:2")
	_, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{})
	var ce *types.ConflictException
	var de *deploy.Error
	if !errors.As(err, &ce) || !errors.As(err, &de) || de.Op != "stop" || de.DeploymentID != d.ID {
		t.Fatalf("err = %v, want a *deploy.Error wrapping ConflictException", err)
	}
	if got := rec.sent(); got != "[ABORT]" {
		t.Fatalf("stop types sent %s, want [ABORT]", got)
	}
	if n := e.takeNotes(); len(n) != 0 {
		t.Fatalf("notes %q", n)
	}
	// ABORT is still tried next time.
	if out, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{}); err != nil || out != deploy.StopPending {
		t.Fatalf("stop: %v %v", out, err)
	}
	if got := rec.sent(); got != "[ABORT]" {
		t.Fatalf("stop types sent %s, want [ABORT]", got)
	}
}

func TestAbortRefused(t *testing.T) {
	wrapOp := func(err error) error {
		return &smithy.OperationError{ServiceID: "ECS", OperationName: "StopServiceDeployment", Err: err}
	}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"invalid parameter naming ABORT", &types.InvalidParameterException{Message: aws.String("ABORT is not supported")}, true},
		{"wrapped by the SDK", wrapOp(&types.InvalidParameterException{Message: aws.String("Invalid stopType")}), true},
		{"validation exception", wrapOp(&smithy.GenericAPIError{Code: "ValidationException",
			Message: "1 validation error detected: Value 'ABORT' at 'stopType' failed to satisfy constraint"}), true},
		{"client exception naming the stop type", &types.ClientException{Message: aws.String("The stop type is not valid in this Region.")}, true},
		{"unsupported feature", &types.UnsupportedFeatureException{Message: aws.String("ABORT is unsupported")}, true},
		{"invalid parameter about something else", &types.InvalidParameterException{Message: aws.String("Invalid service deployment ARN")}, false},
		{"conflict naming ABORT", &types.ConflictException{Message: aws.String("cannot ABORT: not in progress")}, false},
		{"not found", &types.ServiceDeploymentNotFoundException{Message: aws.String("no such deployment")}, false},
		{"access denied", &types.AccessDeniedException{Message: aws.String("not authorized to perform ecs:StopServiceDeployment")}, false},
		{"plain error", errors.New("abort"), false},
	}
	for _, tc := range cases {
		if got := abortRefused(tc.err); got != tc.want {
			t.Errorf("%s: abortRefused = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// lateStop is the fake with the deployment finishing just before
// StopServiceDeployment arrives.
type lateStop struct {
	*ecsfake.Fake
	clock interface{ Advance(time.Duration) }
}

func (l *lateStop) StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error) {
	l.clock.Advance(time.Hour)
	return l.Fake.StopServiceDeployment(ctx, in, optFns...)
}

// TestStopOfDeploymentThatJustEnded: ECS refuses the stop because the
// deployment finished after Status looked; the outcome is that of a stop
// of an ended deployment.
func TestStopOfDeploymentThatJustEnded(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	e.drv = New(&lateStop{Fake: e.fake, clock: e.clock}, Options{AutoScaling: e.fake, Clock: e.clock})
	d := e.startDeploy("nginx:2")
	if _, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{}); !errors.Is(err, deploy.ErrCannotStop) {
		t.Fatalf("stop: %v, want ErrCannotStop (the deployment succeeded)", err)
	}
	if s, err := e.drv.Status(e.ctx(), d); err != nil || s.Status != deploy.StatusSucceeded {
		t.Fatalf("status %v %v", s, err)
	}
}
