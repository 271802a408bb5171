package ecs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// The fault matrix: a deployment to moto's ECS with the first read, or
// the first mutation, failing in each way AWS and the network fail. Every
// run is accepted or ends with a typed error that classifies, and the
// service read back afterwards runs exactly the old or the new task
// definition (the new one only when the run was accepted). With the SDK's
// retries (production's three attempts) one retryable fault never fails
// the run; a malformed answer is not retried and fails it, typed.
// (moto never moves a rollout forward, so the runs stop once ECS accepted
// the update, and its deployments list is not read.)
func TestFaultMatrixAgainstMoto(t *testing.T) {
	srv := motoserver.Start(t, "MOTO_ECS_SERVICE_RUNNING=2")
	base := srv.Config()
	clean := ecs.NewFromConfig(base)
	kinds := []faultinject.Kind{faultinject.Throttle, faultinject.ServerError, faultinject.Unavailable,
		faultinject.Reset, faultinject.Timeout, faultinject.Malformed}
	for _, sdkRetries := range []bool{false, true} {
		for _, calls := range []faultinject.Calls{faultinject.Reads, faultinject.Mutations} {
			for _, kind := range kinds {
				name := map[faultinject.Calls]string{faultinject.Reads: "first-read", faultinject.Mutations: "first-mutation"}[calls] + "/" + kind.String()
				if sdkRetries {
					name = "sdk-retries/" + name
				}
				t.Run(name, func(t *testing.T) {
					srv.Reset(t)
					seedECS(t, base)
					ft := faultinject.New(base.HTTPClient, faultinject.Rule{Service: "ECS", Calls: calls, Nth: []int{1}, Fault: faultinject.Fault{Kind: kind}})
					cfg := base.Copy()
					cfg.HTTPClient = ft
					if sdkRetries {
						faultinject.SDKRetries(&cfg)
					}
					drv := NewFromConfig(cfg, Options{})
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					d, err := deploy.New(drv, deploy.Options{}).Deploy(ctx, deploy.Request{Target: Target("prod", "web"),
						Options: DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}, NoWait: true})
					if len(ft.Injected()) != 1 {
						t.Fatalf("injected %+v, want one fault", ft.Injected())
					}
					if sdkRetries && kind != faultinject.Malformed && err != nil {
						t.Fatalf("one retryable fault failed the deployment although the SDK retries: %v", err)
					}
					if err != nil {
						var de *deploy.Error
						if !errors.As(err, &de) {
							t.Fatalf("untyped error %T: %v", err, err)
						}
						if kind == faultinject.Throttle && !errors.Is(err, deploy.ErrThrottled) {
							t.Fatalf("a throttle does not wrap deploy.ErrThrottled: %v", err)
						}
						t.Logf("%s: %v", platform.Classify(err), err)
					}
					out, rerr := clean.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
					if rerr != nil || len(out.Services) != 1 {
						t.Fatalf("read back: %v", rerr)
					}
					td := aws.ToString(out.Services[0].TaskDefinition)
					switch {
					case err == nil && !strings.HasSuffix(td, "/web:2"):
						t.Fatalf("accepted (%s) but the service runs %s", d.Status, td)
					case err != nil && !strings.HasSuffix(td, "/web:1") && !strings.HasSuffix(td, "/web:2"):
						t.Fatalf("the service runs %s", td)
					}
				})
			}
		}
	}
}

// seedECS makes cluster prod with service web on web:1.
func seedECS(t *testing.T, cfg aws.Config) {
	t.Helper()
	ctx := context.Background()
	c := ecs.NewFromConfig(cfg)
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, taskDef("web", "nginx:1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := applicationautoscaling.NewFromConfig(cfg).RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: astypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web"),
		ScalableDimension: astypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
}
