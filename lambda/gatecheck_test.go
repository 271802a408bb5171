package lambda_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// A misspelt alarm or hook function is found by the dry run, against
// moto through the real SDK, with read calls only; the same request with
// names that exist plans cleanly.
func TestPlanFindsMissingAlarmAndHookOnMoto(t *testing.T) {
	m := newMotoEnv(t)
	ctx := context.Background()
	if _, err := m.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("app-errors"), Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
	}); err != nil {
		t.Fatal(err)
	}
	cfg := m.srv.Config()
	rec := faultinject.New(cfg.HTTPClient)
	cfg.HTTPClient = rec
	eng := deploy.New(lambda.NewFromConfig(cfg, lambda.Options{}), deploy.Options{})
	gate := func(name string) deploy.Gate {
		g, err := platform.NewAlarmGate(m.cw, platform.AlarmGateOptions{Names: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	hook := func(fn string) deploy.Gate {
		return lambda.HookFunction(m.lc, fn, deploy.PhaseBeforeTraffic, lambda.HookOptions{})
	}
	req := func(g ...deploy.Gate) deploy.Request {
		return deploy.Request{Target: lambda.Target("app", "live"), Options: &lambda.DeployOptions{Zip: zipOf(t, "return 2")}, Gates: g}
	}
	for _, tc := range []struct {
		name  string
		gates []deploy.Gate
		want  string
	}{
		{"missing alarm", []deploy.Gate{gate("app-errros")}, "app-errros"},
		{"missing hook", []deploy.Gate{gate("app-errors"), hook("app-pre-traffik")}, "app-pre-traffik"},
		{"bad hook name", []deploy.Gate{hook("bad hook!")}, "bad hook!"},
		{"missing qualified hook", []deploy.Gate{hook("arn:aws:lambda:us-east-1:123456789012:function:app-gone:live")}, "app-gone"},
	} {
		_, err := eng.Plan(ctx, req(tc.gates...))
		var ve *deploy.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want a *deploy.ValidationError naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := eng.Plan(ctx, req(gate("app-errors"), hook("app-pre"), hook("arn:aws:lambda:us-east-1:123456789012:function:app-post"))); err != nil {
		t.Fatalf("plan with an existing alarm and hook: %v", err)
	}
	for _, c := range rec.Calls() {
		if c.Mutating {
			t.Errorf("mutating call %s during plans", c.Operation)
		}
	}
}
