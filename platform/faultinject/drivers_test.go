package faultinject_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ecs"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/opsworks"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// Every driver, built with NewFromConfig over the real SDK, reports each
// injected fault on its first platform call as a typed *deploy.Error that
// classifies as the fault: throttling wraps deploy.ErrThrottled, 5xx,
// resets and timeouts are retryable. No request reaches a server.
func TestDriversClassifyInjectedFaults(t *testing.T) {
	want := map[faultinject.Kind]platform.Class{
		faultinject.Throttle: platform.ClassThrottling, faultinject.ServerError: platform.ClassRetryable,
		faultinject.Unavailable: platform.ClassRetryable, faultinject.Reset: platform.ClassRetryable,
		faultinject.Timeout: platform.ClassRetryable,
	}
	type driver struct {
		name string
		prep func(ctx context.Context, ft *faultinject.Transport) error
	}
	drivers := []driver{
		{"ecs", func(ctx context.Context, ft *faultinject.Transport) error {
			_, err := ecs.NewFromConfig(config(ft), ecs.Options{}).Prepare(ctx, deploy.Request{Target: ecs.Target("prod", "web"),
				Options: ecs.DeployOptions{SkipTaskDefinition: true, ForceNewDeployment: true}})
			return err
		}},
		{"lambda", func(ctx context.Context, ft *faultinject.Transport) error {
			_, err := lambda.NewFromConfig(config(ft), lambda.Options{}).Prepare(ctx, deploy.Request{Target: lambda.Target("app", "live"),
				Revision: deploy.Revision{ID: "2"}})
			return err
		}},
		{"ec2", func(ctx context.Context, ft *faultinject.Transport) error {
			_, err := ec2.NewFromConfig(config(ft), ec2.Options{}).Prepare(ctx, deploy.Request{Target: ec2.Target("app", "web"),
				Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "bucket", Key: "app.zip"}}})
			return err
		}},
		{"opsworks", func(ctx context.Context, ft *faultinject.Transport) error {
			_, err := opsworks.NewFromConfig(config(ft), opsworks.Options{}).Prepare(ctx, deploy.Request{
				Target: opsworks.Target("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222")})
			return err
		}},
	}
	for _, d := range drivers {
		for _, kind := range []faultinject.Kind{faultinject.Throttle, faultinject.ServerError, faultinject.Unavailable, faultinject.Reset, faultinject.Timeout} {
			t.Run(d.name+"/"+kind.String(), func(t *testing.T) {
				ft := faultinject.New(unreachable{t}, faultinject.Rule{Fault: faultinject.Fault{Kind: kind}})
				err := d.prep(context.Background(), ft)
				var de *deploy.Error
				if !errors.As(err, &de) {
					t.Fatalf("err %T %v, want a *deploy.Error", err, err)
				}
				if got := platform.Classify(err); got != want[kind] {
					t.Fatalf("Classify = %v, want %v: %v", got, want[kind], err)
				}
				if (kind == faultinject.Throttle) != errors.Is(err, deploy.ErrThrottled) {
					t.Fatalf("ErrThrottled = %v for %s: %v", errors.Is(err, deploy.ErrThrottled), kind, err)
				}
				if len(ft.Injected()) == 0 {
					t.Fatal("no call was made")
				}
			})
		}
	}
}
