package platform_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// Classify sorts any AWS error, however deeply wrapped, into a few kinds a
// driver acts on, whatever service returned it.
func ExampleClassify() {
	errs := []error{
		fmt.Errorf("update alias: %w", &lambdatypes.ResourceConflictException{Message: aws.String("update in progress")}),
		fmt.Errorf("get deployment: %w", &cdtypes.DeploymentDoesNotExistException{Message: aws.String("no d-404")}),
		&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"},
		&cdtypes.InvalidDeploymentIdException{Message: aws.String("bad ID")},
		context.DeadlineExceeded,
	}
	for _, err := range errs {
		fmt.Printf("%-14s retryable=%v\n", platform.Classify(err), platform.IsRetryable(err))
	}
	// Output:
	// conflict       retryable=false
	// not-found      retryable=false
	// throttling     retryable=true
	// validation     retryable=false
	// canceled       retryable=false
}

// Wrap turns an SDK error into a *deploy.Error that errors.Is matches
// against the deploy sentinels while errors.As still reaches the SDK type.
func ExampleWrap() {
	sdkErr := &cdtypes.DeploymentLimitExceededException{
		Message: aws.String("The Deployment Group 'web' already has an active Deployment 'd-7'"),
	}
	err := platform.Wrap("ec2", "CreateDeployment", "app/web", sdkErr)
	fmt.Println(err)
	fmt.Println("locked:", errors.Is(err, deploy.ErrLocked))

	var limit *cdtypes.DeploymentLimitExceededException
	fmt.Println("SDK type reached:", errors.As(err, &limit))
	var de *deploy.Error
	if errors.As(err, &de) {
		fmt.Println("platform:", de.Platform, "op:", de.Op, "target:", de.Target)
	}
	// Output:
	// ec2 CreateDeployment app/web: deploy: target locked by another deployment: DeploymentLimitExceededException: The Deployment Group 'web' already has an active Deployment 'd-7'
	// locked: true
	// SDK type reached: true
	// platform: ec2 op: CreateDeployment target: app/web
}

// alarmsAPI is a minimal in-memory platform.CloudWatchAPI: DescribeAlarms
// over a map of alarm states, by name or by prefix, in one page.
type alarmsAPI map[string]cwtypes.StateValue

func (a alarmsAPI) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	out := &cloudwatch.DescribeAlarmsOutput{}
	for name, state := range a {
		match := strings.HasPrefix(name, aws.ToString(in.AlarmNamePrefix)) && in.AlarmNamePrefix != nil
		for _, n := range in.AlarmNames {
			match = match || n == name
		}
		if match {
			out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(name),
				StateValue: state, StateReason: aws.String("Threshold Crossed: 1 datapoint was greater than 5.0")})
		}
	}
	return out, nil
}

var _ platform.CloudWatchAPI = alarmsAPI(nil)

// An alarm gate refuses a deployment while any of its alarms is in ALARM;
// the error wraps deploy.ErrAlarm, so the engine's OnAlarm rollback policy
// applies.
func ExampleNewAlarmGate() {
	cw := alarmsAPI{
		"checkout-errors-v7":  cwtypes.StateValueOk,
		"checkout-latency-v7": cwtypes.StateValueInsufficientData,
		"billing-errors":      cwtypes.StateValueAlarm,
	}
	gate, err := platform.NewAlarmGate(cw, platform.AlarmGateOptions{Prefixes: []string{"checkout-"}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	check := deploy.Check{Phase: deploy.PhaseBake, Percent: 10}
	fmt.Println(gate.Name(), "before:", gate.Check(ctx, check))

	cw["checkout-errors-v7"] = cwtypes.StateValueAlarm
	err = gate.Check(ctx, check)
	fmt.Println(gate.Name(), "after:", err)
	fmt.Println("alarm:", errors.Is(err, deploy.ErrAlarm))

	_, err = platform.NewAlarmGate(cw, platform.AlarmGateOptions{})
	fmt.Println("invalid:", errors.Is(err, deploy.ErrInvalidRequest))
	// Output:
	// cloudwatch-alarms before: <nil>
	// cloudwatch-alarms after: cloudwatch-alarms: checkout-errors-v7 is ALARM (Threshold Crossed: 1 datapoint was greater than 5.0)
	// alarm: true
	// invalid: true
}

// The CodeDeploy tracker creates a deployment and reports it in the deploy
// package's terms. Here it runs over the in-memory fake on a manual clock:
// a Lambda canary holds 10% of the traffic for five minutes, then shifts
// the rest.
func ExampleNewCodeDeploy() {
	clock := deploytest.NewClock(time.Time{})
	fake := codedeployfake.New(codedeployfake.Options{Clock: clock, StepDuration: time.Second})
	fake.AddGroup(codedeployfake.Group{Application: "checkout", Name: "live",
		ComputePlatform: cdtypes.ComputePlatformLambda, Targets: []string{"checkout:live"}})
	cd := platform.NewCodeDeploy(fake, platform.CodeDeployOptions{Clock: clock, Platform: "lambda"})

	ctx := context.Background()
	id, err := cd.Create(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName:      aws.String("checkout"),
		DeploymentGroupName:  aws.String("live"),
		DeploymentConfigName: aws.String("CodeDeployDefault.LambdaCanary10Percent5Minutes"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(`{"version": 0.0, "Resources": []}`)}},
	})
	if err != nil {
		panic(err)
	}
	for _, wait := range []time.Duration{0, time.Second, time.Second, 5 * time.Minute, time.Second, time.Second} {
		clock.Advance(wait)
		s, err := cd.Status(ctx, id)
		if err != nil {
			panic(err)
		}
		running := "-"
		for _, in := range s.Instances {
			for _, ev := range in.Lifecycle {
				if ev.Status == "InProgress" {
					running = ev.Name
				}
			}
		}
		fmt.Printf("+%-6v %-10s %3v%%  %s\n", clock.Now().Sub(deploytest.Epoch()), s.Status, s.Percent, running)
	}

	if _, err := cd.Stop(ctx, id, false); errors.Is(err, deploy.ErrCannotStop) {
		fmt.Println("stop refused: the deployment already succeeded")
	}
	// Output:
	// +0s     Created      0%  -
	// +1s     InProgress   0%  BeforeAllowTraffic
	// +2s     InProgress  10%  AllowTraffic
	// +5m2s   InProgress 100%  AllowTraffic
	// +5m3s   InProgress 100%  AfterAllowTraffic
	// +5m4s   Succeeded  100%  -
	// stop refused: the deployment already succeeded
}
