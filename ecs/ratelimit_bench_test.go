package ecs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
	"github.com/switchyard/switchyard/internal/simaws"
	"github.com/switchyard/switchyard/platform"
)

// ecsFamilies are the throttling buckets of the simulated ECS API, per
// account and Region, after AWS's "Request throttling for the Amazon ECS
// API" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html),
// which describes a token bucket per group of actions: its capacity is the
// burst, its refill rate the sustained rate.
//
//   - RegisterTaskDefinition: burst 20, 1 a second, as that page gives it
//     (quoted in aws-actions/amazon-ecs-deploy-task-definition issue 502;
//     remind101/empire PR 469 met the same 60 a minute).
//   - The reads: burst 50, 20 a second, the bucket the page's own example
//     gives for cluster reads (DescribeClusters). The page's per-action
//     table could not be read when these benchmarks were written, so
//     DescribeServices, DescribeTaskDefinition, ListServiceDeployments,
//     DescribeServiceDeployments and the other reads take that example's
//     bucket, each operation its own.
//   - UpdateService (and the other service mutations): burst 50, 5 a
//     second, as issue 11 gives it; not checked against the table either.
//
// Only the sustained rates enter the floor, and at these rates the floor
// of a fleet that registers a task definition per service is
// RegisterTaskDefinition's, the one rate above that the page confirms.
var ecsFamilies = []simaws.Family{
	{Name: "RegisterTaskDefinition", Ops: []string{"RegisterTaskDefinition", "DeregisterTaskDefinition"}, Burst: 20, Rate: 1},
	{Name: "UpdateService", Ops: []string{"UpdateService", "CreateService", "StopServiceDeployment", "ContinueServiceDeployment"}, Burst: 50, Rate: 5},
	{Name: "DescribeServices", Ops: []string{"DescribeServices"}, Burst: 50, Rate: 20},
	{Name: "DescribeTaskDefinition", Ops: []string{"DescribeTaskDefinition"}, Burst: 50, Rate: 20},
	{Name: "ListTaskDefinitions", Ops: []string{"ListTaskDefinitions"}, Burst: 50, Rate: 20},
	{Name: "ListServiceDeployments", Ops: []string{"ListServiceDeployments"}, Burst: 50, Rate: 20},
	{Name: "DescribeServiceDeployments", Ops: []string{"DescribeServiceDeployments"}, Burst: 50, Rate: 20},
	{Name: "DescribeServiceRevisions", Ops: []string{"DescribeServiceRevisions"}, Burst: 50, Rate: 20},
}

// ecsThrottled is what ECS answers a call beyond its bucket.
func ecsThrottled(string) error {
	return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
}

// rateLimitedECS is the ECS fake behind the simulated throttling: every
// call draws on its family's bucket first, and one beyond it is answered
// with a ThrottlingException without reaching the fake.
type rateLimitedECS struct {
	*ecsfake.Fake
	lim *simaws.Limits
}

func (r *rateLimitedECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	if err := r.lim.Call(ctx, "DescribeServices"); err != nil {
		return nil, err
	}
	return r.Fake.DescribeServices(ctx, in, o...)
}

func (r *rateLimitedECS) CreateService(ctx context.Context, in *ecs.CreateServiceInput, o ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error) {
	if err := r.lim.Call(ctx, "CreateService"); err != nil {
		return nil, err
	}
	return r.Fake.CreateService(ctx, in, o...)
}

func (r *rateLimitedECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, o ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	if err := r.lim.Call(ctx, "UpdateService"); err != nil {
		return nil, err
	}
	return r.Fake.UpdateService(ctx, in, o...)
}

func (r *rateLimitedECS) DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	if err := r.lim.Call(ctx, "DescribeTaskDefinition"); err != nil {
		return nil, err
	}
	return r.Fake.DescribeTaskDefinition(ctx, in, o...)
}

func (r *rateLimitedECS) RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	if err := r.lim.Call(ctx, "RegisterTaskDefinition"); err != nil {
		return nil, err
	}
	return r.Fake.RegisterTaskDefinition(ctx, in, o...)
}

func (r *rateLimitedECS) DeregisterTaskDefinition(ctx context.Context, in *ecs.DeregisterTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error) {
	if err := r.lim.Call(ctx, "DeregisterTaskDefinition"); err != nil {
		return nil, err
	}
	return r.Fake.DeregisterTaskDefinition(ctx, in, o...)
}

func (r *rateLimitedECS) ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, o ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	if err := r.lim.Call(ctx, "ListTaskDefinitions"); err != nil {
		return nil, err
	}
	return r.Fake.ListTaskDefinitions(ctx, in, o...)
}

func (r *rateLimitedECS) ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, o ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error) {
	if err := r.lim.Call(ctx, "ListServiceDeployments"); err != nil {
		return nil, err
	}
	return r.Fake.ListServiceDeployments(ctx, in, o...)
}

func (r *rateLimitedECS) DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, o ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error) {
	if err := r.lim.Call(ctx, "DescribeServiceDeployments"); err != nil {
		return nil, err
	}
	return r.Fake.DescribeServiceDeployments(ctx, in, o...)
}

func (r *rateLimitedECS) DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, o ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error) {
	if err := r.lim.Call(ctx, "DescribeServiceRevisions"); err != nil {
		return nil, err
	}
	return r.Fake.DescribeServiceRevisions(ctx, in, o...)
}

func (r *rateLimitedECS) StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, o ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error) {
	if err := r.lim.Call(ctx, "StopServiceDeployment"); err != nil {
		return nil, err
	}
	return r.Fake.StopServiceDeployment(ctx, in, o...)
}

func (r *rateLimitedECS) ContinueServiceDeployment(ctx context.Context, in *ecs.ContinueServiceDeploymentInput, o ...func(*ecs.Options)) (*ecs.ContinueServiceDeploymentOutput, error) {
	if err := r.lim.Call(ctx, "ContinueServiceDeployment"); err != nil {
		return nil, err
	}
	return r.Fake.ContinueServiceDeployment(ctx, in, o...)
}

var _ ECSAPI = (*rateLimitedECS)(nil)

// BenchmarkFleetAtAWSRates deploys fleets of 10, 100 and 1000 ECS services
// (rolling, two tasks each, the fake's 30 s task start and drain) through
// Engine.DeployAll against the simulated ECS throttling of ecsFamilies,
// with every engine default but Concurrency (the fleet's size, so the
// rate, not a slot, is what holds a service back): polls from 2 s to 30 s
// gathered into StatusMany calls (the driver's DescribeServices ten
// services a call), and the adaptive rate control. "register" gives each
// service a new task definition document (a RegisterTaskDefinition per
// service, as ecspresso deploy does); "revision" deploys a revision
// registered beforehand, so no RegisterTaskDefinition is made.
// "sdkretry=off" hands every throttle to the driver at once, as a client
// with RetryMaxAttempts 1 does; "sdkretry=on" first runs the AWS SDK's
// retry loop with the retryer platform.LoadConfig sets by default
// (standard mode, platform.DefaultMaxAttempts attempts, backoff up to
// platform.DefaultMaxBackoff, and the SDK's retry quota), as deployctl's
// clients have it: the engine then sees only the throttles the SDK gave up
// on.
//
// Each fleet runs in virtual time: a testing/synctest bubble in a process
// of its own (simaws.Run; TestFleetAtAWSRatesBubble is the fleet), where
// the engine's timers, the fake's deployments and the buckets' refill all
// run on the bubble's clock, so an hour of polling takes seconds and the
// engine keeps its real defaults. ns/op is the real time the simulation
// took; the metrics are on the bubble's clock:
//
//   - wall/floor: the fleet's wall time over its floor, the largest of the
//     families' useful calls divided by their sustained rates (the burst
//     ignored);
//   - calls/useful: every call, throttled ones included, per call that
//     went through;
//   - throttled: the calls throttled;
//   - failed: the deployments not reported Succeeded (ECS completes every
//     one here);
//   - wall/(floor+solo): the wall time over the floor plus the time one
//     service takes alone (solo): what making every call back to back,
//     then waiting for the last service, would take;
//   - wall-s, floor-s, solo-s: the three times, in seconds.
//
// Run it with
//
//	go test -run '^$' -bench FleetAtAWSRates -benchtime 1x ./ecs/
func BenchmarkFleetAtAWSRates(b *testing.B) {
	for _, mode := range []string{"register", "revision"} {
		for _, sdk := range []string{"off", "on"} {
			for _, n := range []int{10, 100, 1000} {
				b.Run(fmt.Sprintf("%s/sdkretry=%s/services=%d", mode, sdk, n), func(b *testing.B) {
					var results []simaws.Result
					for b.Loop() {
						results = append(results, simaws.Run(b, "TestFleetAtAWSRatesBubble", fmt.Sprintf("%s/%s/%d", mode, sdk, n)))
					}
					simaws.Report(b, results)
				})
			}
		}
	}
}

// TestFleetAtAWSRatesBubble is one fleet of BenchmarkFleetAtAWSRates, run
// in a synctest bubble. It runs only when the benchmark starts it (through
// simaws.Run), and is skipped otherwise.
func TestFleetAtAWSRatesBubble(t *testing.T) {
	spec := strings.Split(simaws.Spec(t), "/")
	n := 0
	if len(spec) == 3 {
		n, _ = strconv.Atoi(spec[2])
	}
	if n <= 0 || (spec[0] != "register" && spec[0] != "revision") || (spec[1] != "off" && spec[1] != "on") {
		t.Fatalf("spec %q: want register|revision/off|on/services", spec)
	}
	synctest.Test(t, func(t *testing.T) {
		simaws.Write(t, fleetAtAWSRates(spec[0], spec[1] == "on", n))
	})
}

// fleetAtAWSRates deploys one service alone (the time a deployment takes
// when nothing waits for the rate), then n services together, through the
// engine with its defaults, over the rate-limited fake, on the bubble's
// clock.
func fleetAtAWSRates(mode string, sdk bool, n int) simaws.Result {
	solo := deployAtAWSRates(mode, sdk, 1)
	r := deployAtAWSRates(mode, sdk, n)
	r.Solo = solo.Wall
	return r
}

// deployAtAWSRates deploys n services of a fake of their own through an
// engine of its own, and returns what the buckets saw. With sdk, every
// call runs the SDK's retry loop with the retryer platform.LoadConfig
// gives a client by default.
func deployAtAWSRates(mode string, sdk bool, n int) simaws.Result {
	f := ecsfake.New(ecsfake.Options{})
	reqs := make([]deploy.Request, n)
	for i := range n {
		family := fmt.Sprintf("s%04d", i)
		td := f.SeedTaskDefinition(taskDef(family, "nginx:1"))
		f.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String(family),
			TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2)})
		reqs[i] = deploy.Request{Target: Target("prod", family)}
		switch mode {
		case "register":
			reqs[i].Options = DeployOptions{TaskDefinition: taskDefJSON(family, "nginx:2")}
		case "revision":
			reqs[i].Revision = deploy.Revision{Label: labelOf(f.SeedTaskDefinition(taskDef(family, "nginx:2")))}
		}
	}
	var retryer aws.Retryer
	if sdk {
		retryer = platform.NewRetryer(aws.RetryModeStandard, platform.DefaultMaxAttempts, platform.DefaultMaxBackoff)()
	}
	lim := simaws.New(ecsFamilies, ecsThrottled, retryer)
	eng := deploy.New(New(&rateLimitedECS{Fake: f, lim: lim}, Options{}), deploy.Options{Concurrency: n, OnEvent: lim.OnEvent})
	start := time.Now()
	ds, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
	return lim.NewResult(ds, err, time.Since(start))
}
