package ec2_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ec2"
)

// TestConformanceInstancesOnChange runs the suite with InstancesOnChange,
// which lets StatusMany (every engine poll) carry the instances of a
// deployment whose instance counts did not move.
func TestConformanceInstancesOnChange(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness {
		h, e := harnessEnv(t, oneAtATime(t))
		e.drv = ec2.New(e.cd, ec2.Options{Clock: e.clock, EC2: e.ec2, AutoScaling: e.ec2, InstancesOnChange: true})
		h.Driver = e.drv
		return h
	})
}

// TestStatusManyAsStatus follows a deployment with StatusMany, next to
// Status: the same report at every step, FailureOf's reason included when
// an instance fails; entries in order, nil exactly where an error names
// the deployment (unknown: ErrNotFound, nil or no ID: ErrInvalidRequest);
// a done context gives its error for each entry without a call.
func TestStatusManyAsStatus(t *testing.T) {
	e := newEnv(t, 4)
	e.cd.FailNext("Install", "i-003")
	d := e.start(t, deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: oneAtATime(t)})
	unknown := &deploy.Deployment{ID: "d-unknown", Target: e.tgt}
	for range 200 {
		e.clock.Advance(time.Second)
		out, err := e.drv.StatusMany(ctx, []*deploy.Deployment{nil, d, unknown, {Target: e.tgt}})
		if len(out) != 4 || out[0] != nil || out[2] != nil || out[3] != nil || out[1] == nil {
			t.Fatalf("StatusMany = %v, %v", out, err)
		}
		var parts []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			parts = j.Unwrap()
		}
		if len(parts) != 3 || !errors.Is(parts[0], deploy.ErrInvalidRequest) || !errors.Is(parts[1], deploy.ErrNotFound) ||
			!errors.Is(parts[2], deploy.ErrInvalidRequest) {
			t.Fatalf("errors %v", parts)
		}
		var de *deploy.Error
		if !errors.As(parts[1], &de) || de.DeploymentID != unknown.ID || de.Platform != ec2.Platform {
			t.Fatalf("unknown's error %v does not name it", parts[1])
		}
		want, err := e.drv.Status(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out[1], want) {
			t.Fatalf("StatusMany\n%+v\nStatus\n%+v", out[1], want)
		}
		if want.Status.Terminal() {
			if want.Status != deploy.StatusFailed || ec2.FailureOf(out[1]) == nil {
				t.Fatalf("ended %s (%s), want Failed with a lifecycle failure", want.Status, want.Reason)
			}
			done, cancel := context.WithCancel(ctx)
			cancel()
			before := len(e.cd.Calls())
			out, err := e.drv.StatusMany(done, []*deploy.Deployment{d, d})
			if out[0] != nil || out[1] != nil || !errors.Is(err, context.Canceled) || len(e.cd.Calls()) != before {
				t.Fatalf("done context: %v, %v, %d calls", out, err, len(e.cd.Calls())-before)
			}
			return
		}
		d = want
	}
	t.Fatal("the deployment never ended")
}

// TestStatusManyThrottled: a throttled BatchGetDeployments fails each
// deployment it read with an error wrapping deploy.ErrThrottled, so the
// engine keeps asking.
func TestStatusManyThrottled(t *testing.T) {
	e := newEnv(t, 2)
	d := e.start(t, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	e.cd.InjectError("BatchGetDeployments", &cdtypes.ThrottlingException{Message: aws.String("Rate exceeded")})
	out, err := e.drv.StatusMany(ctx, []*deploy.Deployment{d})
	var de *deploy.Error
	if out[0] != nil || !errors.Is(err, deploy.ErrThrottled) || !errors.As(err, &de) || de.DeploymentID != d.ID {
		t.Fatalf("throttled: %v, %v", out, err)
	}
	if out, err := e.drv.StatusMany(ctx, []*deploy.Deployment{d}); err != nil || out[0] == nil {
		t.Fatalf("after the throttle: %v, %v", out, err)
	}
}
