package lambda_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/simaws"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
	"github.com/switchyard/switchyard/platform"
)

// lambdaFamilies is the simulated Lambda control plane's throttling, per
// account and Region, after AWS's "Lambda quotas" page
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
// API requests): "Control plane API requests (excludes invocation,
// GetFunction, and GetPolicy requests)": 15 requests per second, which
// cannot be increased. Every call the client-driven driver makes
// (GetAlias, GetFunctionConfiguration, UpdateAlias, PublishVersion,
// UpdateFunctionCode, UpdateFunctionConfiguration) draws on that one
// bucket. The page gives no burst: the bucket holds one second's calls.
var lambdaFamilies = []simaws.Family{{
	Name: "control plane",
	Ops: []string{"GetAlias", "GetFunctionConfiguration", "UpdateAlias", "PublishVersion",
		"UpdateFunctionCode", "UpdateFunctionConfiguration"},
	Burst: 15, Rate: 15,
}}

// lambdaThrottled is what Lambda answers a control-plane call beyond its
// rate: HTTP 429, TooManyRequestsException.
func lambdaThrottled(string) error {
	return &types.TooManyRequestsException{Message: aws.String("Rate exceeded"), Reason: types.ThrottleReasonCallerRateLimitExceeded}
}

// rateLimitedLambda is the Lambda fake behind the simulated throttling:
// every call draws on the control plane's bucket first, and one beyond it
// is answered with a TooManyRequestsException without reaching the fake.
type rateLimitedLambda struct {
	*lambdafake.Client
	lim *simaws.Limits
}

func (r *rateLimitedLambda) GetFunctionConfiguration(ctx context.Context, in *awslambda.GetFunctionConfigurationInput, o ...func(*awslambda.Options)) (*awslambda.GetFunctionConfigurationOutput, error) {
	if err := r.lim.Call(ctx, "GetFunctionConfiguration"); err != nil {
		return nil, err
	}
	return r.Client.GetFunctionConfiguration(ctx, in, o...)
}

func (r *rateLimitedLambda) GetAlias(ctx context.Context, in *awslambda.GetAliasInput, o ...func(*awslambda.Options)) (*awslambda.GetAliasOutput, error) {
	if err := r.lim.Call(ctx, "GetAlias"); err != nil {
		return nil, err
	}
	return r.Client.GetAlias(ctx, in, o...)
}

func (r *rateLimitedLambda) UpdateFunctionCode(ctx context.Context, in *awslambda.UpdateFunctionCodeInput, o ...func(*awslambda.Options)) (*awslambda.UpdateFunctionCodeOutput, error) {
	if err := r.lim.Call(ctx, "UpdateFunctionCode"); err != nil {
		return nil, err
	}
	return r.Client.UpdateFunctionCode(ctx, in, o...)
}

func (r *rateLimitedLambda) UpdateFunctionConfiguration(ctx context.Context, in *awslambda.UpdateFunctionConfigurationInput, o ...func(*awslambda.Options)) (*awslambda.UpdateFunctionConfigurationOutput, error) {
	if err := r.lim.Call(ctx, "UpdateFunctionConfiguration"); err != nil {
		return nil, err
	}
	return r.Client.UpdateFunctionConfiguration(ctx, in, o...)
}

func (r *rateLimitedLambda) PublishVersion(ctx context.Context, in *awslambda.PublishVersionInput, o ...func(*awslambda.Options)) (*awslambda.PublishVersionOutput, error) {
	if err := r.lim.Call(ctx, "PublishVersion"); err != nil {
		return nil, err
	}
	return r.Client.PublishVersion(ctx, in, o...)
}

func (r *rateLimitedLambda) UpdateAlias(ctx context.Context, in *awslambda.UpdateAliasInput, o ...func(*awslambda.Options)) (*awslambda.UpdateAliasOutput, error) {
	if err := r.lim.Call(ctx, "UpdateAlias"); err != nil {
		return nil, err
	}
	return r.Client.UpdateAlias(ctx, in, o...)
}

var _ lambda.Client = (*rateLimitedLambda)(nil)

// BenchmarkFleetAtAWSRates deploys fleets of 10, 100 and 1000 Lambda
// aliases with the client-driven driver (engine-driven shifts), "canary"
// with CodeDeployDefault.LambdaCanary10Percent5Minutes (10% of the
// traffic, five minutes' bake, then all of it) and "allatonce" with
// CodeDeployDefault.LambdaAllAtOnce, each alias moving to a version
// published beforehand (sdkretry=off and on as in the ecs benchmark: every
// throttle handed to the driver at once, or the AWS SDK's retry loop with
// platform.LoadConfig's default retryer first), through Engine.DeployAll
// against the simulated
// Lambda control plane of lambdaFamilies (15 calls a second for the whole
// account). The engine runs with every default but Concurrency (the
// fleet's size, so the rate, not a slot, is what holds an alias back):
// polls from 2 s to 30 s, each alias's alone (the driver is no
// StatusBatcher: a GetAlias reads one alias), and the adaptive rate
// control.
//
// Each fleet runs in virtual time: a testing/synctest bubble in a process
// of its own (simaws.Run; TestFleetAtAWSRatesBubble is the fleet), so the
// bakes and polls keep their real lengths and the run takes seconds.
// ns/op is the real time the simulation took; the metrics, on the
// bubble's clock, are those of simaws.Report: wall/floor (the floor being
// the useful calls divided by 15 a second, the burst ignored),
// calls/useful (throttled calls included), throttled, failed (aliases not
// reported Succeeded; Lambda completes every one here), wall/(floor+solo),
// and wall-s, floor-s and solo-s (one alias deployed alone) in seconds.
//
// Run it with
//
//	go test -run '^$' -bench FleetAtAWSRates -benchtime 1x ./lambda/
func BenchmarkFleetAtAWSRates(b *testing.B) {
	for _, strategy := range []string{"canary", "allatonce"} {
		for _, sdk := range []string{"off", "on"} {
			for _, n := range []int{10, 100, 1000} {
				b.Run(fmt.Sprintf("%s/sdkretry=%s/aliases=%d", strategy, sdk, n), func(b *testing.B) {
					var results []simaws.Result
					for b.Loop() {
						results = append(results, simaws.Run(b, "TestFleetAtAWSRatesBubble", fmt.Sprintf("%s/%s/%d", strategy, sdk, n)))
					}
					simaws.Report(b, results)
				})
			}
		}
	}
}

// strategies are the benchmark's strategies by name.
var strategies = map[string]string{
	"canary":    "CodeDeployDefault.LambdaCanary10Percent5Minutes",
	"allatonce": "CodeDeployDefault.LambdaAllAtOnce",
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
	if n <= 0 || strategies[spec[0]] == "" || (spec[1] != "off" && spec[1] != "on") {
		t.Fatalf("spec %q: want canary|allatonce/off|on/aliases", spec)
	}
	strategy, err := deploy.ParseStrategy(strategies[spec[0]])
	if err != nil {
		t.Fatal(err)
	}
	sdk := spec[1] == "on"
	synctest.Test(t, func(t *testing.T) {
		solo := aliasesAtAWSRates(strategy, sdk, 1)
		r := aliasesAtAWSRates(strategy, sdk, n)
		r.Solo = solo.Wall
		simaws.Write(t, r)
	})
}

// aliasesAtAWSRates deploys n aliases of a fake of their own through an
// engine of its own, with its defaults, on the bubble's clock, and returns
// what the bucket saw. With sdk, every call runs the SDK's retry loop with
// the retryer platform.LoadConfig gives a client by default.
func aliasesAtAWSRates(strategy deploy.Strategy, sdk bool, n int) simaws.Result {
	f := lambdafake.New()
	reqs := make([]deploy.Request, n)
	for i := range n {
		fn := fmt.Sprintf("fn%04d", i)
		f.AddFunction(fn, 2)
		f.AddAlias(fn, "live", "1", nil)
		reqs[i] = deploy.Request{Target: lambda.Target(fn, "live"), Revision: deploy.Revision{ID: "2"}, Strategy: strategy}
	}
	var retryer aws.Retryer
	if sdk {
		retryer = platform.NewRetryer(aws.RetryModeStandard, platform.DefaultMaxAttempts, platform.DefaultMaxBackoff)()
	}
	lim := simaws.New(lambdaFamilies, lambdaThrottled, retryer)
	eng := deploy.New(lambda.New(&rateLimitedLambda{Client: f, lim: lim}, lambda.Options{}), deploy.Options{Concurrency: n, OnEvent: lim.OnEvent})
	start := time.Now()
	ds, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
	return lim.NewResult(ds, err, time.Since(start))
}
