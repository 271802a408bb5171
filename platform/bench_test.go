package platform_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// sdkError returns the error the real CodeDeploy client returns for a
// second deployment on a busy group: a *smithy.OperationError around the
// HTTP response error around *types.DeploymentLimitExceededException, as
// decoded from the wire.
func sdkError(b *testing.B) error {
	b.Helper()
	f := codedeployfake.New(codedeployfake.Options{Clock: deploytest.NewClock(time.Time{})})
	f.AddGroup(codedeployfake.Group{Application: "app", Name: "web"})
	s := codedeployserver.Start(b, f)
	c := s.Client()
	in := &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
			S3Location: &cdtypes.S3Location{Bucket: aws.String("b"), Key: aws.String("k"), BundleType: cdtypes.BundleTypeZip}}}
	if _, err := c.CreateDeployment(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	_, err := c.CreateDeployment(context.Background(), in)
	if platform.Classify(err) != platform.ClassConflict {
		b.Fatalf("second CreateDeployment = %v, want a conflict", err)
	}
	return err
}

func BenchmarkClassify(b *testing.B) {
	raw := sdkError(b)
	cases := []struct {
		name string
		err  error
	}{
		// The SDK's error chain, wrapped once more by a caller.
		{"SDKError", fmt.Errorf("create deployment: %w", raw)},
		// The same after Wrap: the deploy sentinel answers first.
		{"Wrapped", platform.Wrap("ec2", "CreateDeployment", "app/web", raw)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if platform.Classify(tc.err) != platform.ClassConflict {
					b.Fatal("not a conflict")
				}
			}
		})
	}
}

// pagedAlarms is a platform.CloudWatchAPI over many alarms that pages as
// CloudWatch does: MaxRecords per page, 50 when unset.
type pagedAlarms struct {
	alarms []cwtypes.MetricAlarm
	byName map[string]int
	calls  atomic.Int64
}

func newPagedAlarms(n int, alarmAt int) *pagedAlarms {
	p := &pagedAlarms{byName: map[string]int{}}
	for i := 0; i < n; i++ {
		state := cwtypes.StateValueOk
		if i == alarmAt {
			state = cwtypes.StateValueAlarm
		}
		name := fmt.Sprintf("svc-%03d-errors", i)
		p.byName[name] = i
		p.alarms = append(p.alarms, cwtypes.MetricAlarm{AlarmName: aws.String(name), StateValue: state,
			StateReason: aws.String("Threshold Crossed"), StateUpdatedTimestamp: aws.Time(deploytest.Epoch())})
	}
	return p
}

func (p *pagedAlarms) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	p.calls.Add(1)
	size := int(aws.ToInt32(in.MaxRecords))
	if size <= 0 {
		size = 50
	}
	start := 0
	if t := aws.ToString(in.NextToken); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return nil, &cwtypes.InvalidNextToken{Message: aws.String("bad token")}
		}
		start = n
	}
	// Only the page is copied, so the fake's cost stays small next to the
	// gate's.
	out := &cloudwatch.DescribeAlarmsOutput{MetricAlarms: make([]cwtypes.MetricAlarm, 0, size)}
	matched := 0
	take := func(i int) {
		if matched >= start && matched < start+size {
			out.MetricAlarms = append(out.MetricAlarms, p.alarms[i])
		}
		matched++
	}
	if len(in.AlarmNames) > 0 {
		for _, n := range in.AlarmNames {
			if i, ok := p.byName[n]; ok {
				take(i)
			}
		}
	} else {
		prefix := aws.ToString(in.AlarmNamePrefix)
		for i := range p.alarms {
			if strings.HasPrefix(aws.ToString(p.alarms[i].AlarmName), prefix) {
				take(i)
			}
		}
	}
	if start > matched {
		return nil, &cwtypes.InvalidNextToken{Message: aws.String("bad token")}
	}
	if matched > start+size {
		out.NextToken = aws.String(strconv.Itoa(start + size))
	}
	return out, nil
}

func BenchmarkAlarmGateCheck(b *testing.B) {
	const n = 250
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("svc-%03d-errors", i)
	}
	cases := []struct {
		name    string
		opts    platform.AlarmGateOptions
		alarmAt int
	}{
		{"Prefix250/OK", platform.AlarmGateOptions{Prefixes: []string{"svc-"}}, -1},
		{"Names250/OK", platform.AlarmGateOptions{Names: names}, -1},
		{"Names250/OneInAlarm", platform.AlarmGateOptions{Names: names}, 137},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			api := newPagedAlarms(n, tc.alarmAt)
			gate, err := platform.NewAlarmGate(api, tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			check := deploy.Check{Phase: deploy.PhaseBake, Percent: 10}
			b.ReportAllocs()
			api.calls.Store(0)
			checks := 0
			for b.Loop() {
				err := gate.Check(context.Background(), check)
				if (tc.alarmAt >= 0) != (err != nil) {
					b.Fatalf("Check = %v", err)
				}
				checks++
			}
			b.ReportMetric(float64(api.calls.Load())/float64(checks), "DescribeAlarms/check")
		})
	}
}

// statusFixture is a Server deployment on 60 instances, in progress (one
// lifecycle event lasts an hour, and the clock stands still).
func statusFixture(b *testing.B) (*codedeployfake.Fake, *deploytest.Clock, string) {
	b.Helper()
	clk := deploytest.NewClock(time.Time{})
	f := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: time.Hour})
	targets := make([]string, 60)
	for i := range targets {
		targets[i] = fmt.Sprintf("i-%017d", i)
	}
	f.AddGroup(codedeployfake.Group{Application: "app", Name: "fleet", Targets: targets})
	id, err := platform.NewCodeDeploy(f, platform.CodeDeployOptions{Clock: clk}).Create(context.Background(),
		&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("fleet"),
			DeploymentConfigName: aws.String("CodeDeployDefault.HalfAtATime"),
			Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
				S3Location: &cdtypes.S3Location{Bucket: aws.String("b"), Key: aws.String("app.zip"), BundleType: cdtypes.BundleTypeZip}}})
	if err != nil {
		b.Fatal(err)
	}
	clk.Advance(time.Hour + time.Minute) // InProgress, second lifecycle event running
	return f, clk, id
}

func BenchmarkCodeDeployStatus(b *testing.B) {
	cases := []struct {
		name      string
		noTargets bool
		wire      bool
	}{
		{"Targets60", false, false},
		{"Targets60/NoTargets", true, false},
		// The real SDK client over HTTP to the same fake: adds the
		// serialisation and loopback round trips.
		{"Targets60/Wire", false, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			f, clk, id := statusFixture(b)
			var api platform.CodeDeployAPI = f
			if tc.wire {
				api = codedeployserver.Start(b, f).Client()
			}
			cd := platform.NewCodeDeploy(api, platform.CodeDeployOptions{Clock: clk, NoTargets: tc.noTargets})
			ctx := context.Background()
			before := len(f.Calls())
			polls := 0
			b.ReportAllocs()
			for b.Loop() {
				s, err := cd.Status(ctx, id)
				if err != nil {
					b.Fatal(err)
				}
				if s.Status != deploy.StatusInProgress || (!tc.noTargets && len(s.Instances) != 60) {
					b.Fatalf("Status = %s with %d instances", s.Status, len(s.Instances))
				}
				polls++
			}
			b.ReportMetric(float64(len(f.Calls())-before)/float64(polls), "calls/poll")
		})
	}
}
