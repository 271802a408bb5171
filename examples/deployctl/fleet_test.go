package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

func TestFleetFileRefusals(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"empty":     ``,
		"unknown":   "targets:\n  - name: a\n    lambda: {function: f, alias: live, version: '1'}\n    colour: red\n",
		"both":      "targets:\n  - ecs: {service: s, taskDefinition: td.json}\n    lambda: {function: f, alias: live, version: '1'}\n",
		"neither":   "targets:\n  - name: a\n",
		"cycle":     "targets:\n  - {name: a, after: [b], lambda: {function: f, alias: live, version: '1'}}\n  - {name: b, after: [a], lambda: {function: g, alias: live, version: '1'}}\n",
		"no source": "targets:\n  - lambda: {function: f, alias: live}\n",
		"strategy":  "targets:\n  - lambda: {function: f, alias: live, version: '1', strategy: 'canary:200:1m'}\n",
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name+".yaml")
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCLI(t, "--endpoint-url", "http://127.0.0.1:1", "fleet", "deploy", file)
			if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
				t.Fatalf("exit %d, want 2 with one line:\n%s", code, stderr)
			}
		})
	}
}

// A fleet across platforms on moto: the Lambda migration first, then the
// ECS service after it; a failing target skips what depends on it.
func TestFleetDeployOnMoto(t *testing.T) {
	srv, lc, zipPath, hist := lambdaOnMoto(t)
	_ = hist
	ctx := context.Background()
	if _, err := awsecs.NewFromConfig(srv.Config()).CreateCluster(ctx, &awsecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	td := filepath.Join(dir, "td.json")
	sd := filepath.Join(dir, "svc.json")
	os.WriteFile(td, []byte(`{"family":"api","containerDefinitions":[{"name":"app","image":"nginx:1","memory":128}]}`), 0o644)
	os.WriteFile(sd, []byte(`{"serviceName":"api","desiredCount":1}`), 0o644)
	if code, _, stderr := runCLI(t, "--endpoint-url", srv.URL, "ecs", "deploy", "--cluster", "prod", "--service", "api",
		"--task-definition", td, "--service-definition", sd, "--no-wait"); code != 0 {
		t.Fatalf("setup: %s", stderr)
	}
	os.WriteFile(td, []byte(`{"family":"api","containerDefinitions":[{"name":"app","image":"nginx:2","memory":128}]}`), 0o644)
	file := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(file, []byte(`concurrency: 2
targets:
  - name: migrate
    lambda: {function: app, alias: live, zip: `+zipPath+`}
  - name: api
    after: [migrate]
    ecs: {cluster: prod, service: api, taskDefinition: `+td+`, noWait: true}
`), 0o644)
	code, out, stderr := runCLI(t, "--endpoint-url", srv.URL, "fleet", "deploy", file)
	if code != 0 {
		t.Fatalf("fleet: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "migrate") || !strings.Contains(out, "api") || !strings.Contains(stderr, "running,") {
		t.Fatalf("fleet output:\n%s\n%s", out, stderr)
	}
	al, err := lc.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
	if err != nil || aws.ToString(al.FunctionVersion) != "2" {
		t.Fatalf("alias after the fleet: %v %v", aws.ToString(al.FunctionVersion), err)
	}
	// A failing first target: the service after it never starts.
	os.WriteFile(file, []byte(`targets:
  - name: migrate
    lambda: {function: app, alias: live, version: "99"}
  - name: api
    after: [migrate]
    ecs: {cluster: prod, service: api, taskDefinition: `+td+`, noWait: true}
`), 0o644)
	code, out, stderr = runCLI(t, "--endpoint-url", srv.URL, "--output", "json", "fleet", "deploy", file)
	if code != 1 || !strings.Contains(out, `"name":"api","started":false`) || !strings.Contains(out, "migrate did not succeed") {
		t.Fatalf("failing fleet: exit %d\n%s\n%s", code, out, stderr)
	}
}

// A fleet's alarms: every one must exist before anything is deployed (exit
// 2, one line naming it, the alias untouched); a Lambda target's alarms
// gate its deployment through the fleet's shared alarm batcher.
func TestFleetAlarmsOnMoto(t *testing.T) {
	srv, lc, zipPath, _ := lambdaOnMoto(t)
	ctx := context.Background()
	if _, err := srv.CloudWatch().PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("app-errors"), Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
	}); err != nil {
		t.Fatal(err)
	}
	alias := func() string {
		al, err := lc.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(al.FunctionVersion)
	}
	before := alias()
	file := filepath.Join(t.TempDir(), "fleet.yaml")
	os.WriteFile(file, []byte(`targets:
  - lambda: {function: app, alias: live, zip: `+zipPath+`, alarms: [app-errors, app-erorrs]}
`), 0o644)
	code, out, stderr := runCLI(t, "--endpoint-url", srv.URL, "fleet", "deploy", file)
	if code != 2 || !strings.Contains(stderr, "app-erorrs") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || alias() != before {
		t.Fatalf("missing alarm: exit %d, alias %s (was %s)\n%s\n%s", code, alias(), before, out, stderr)
	}
	os.WriteFile(file, []byte(`targets:
  - lambda: {function: app, alias: live, zip: `+zipPath+`, alarms: [app-errors], strategy: 'canary:10:1s'}
`), 0o644)
	code, out, stderr = runCLI(t, "--endpoint-url", srv.URL, "--output", "json", "fleet", "deploy", file)
	if code != 0 || alias() == before {
		t.Fatalf("fleet with an alarm gate: exit %d, alias %s (was %s)\n%s\n%s", code, alias(), before, out, stderr)
	}
	if !strings.Contains(out, `"gate":"`) {
		t.Fatalf("no gate event: the alarm gate did not run\n%s", out)
	}
}
