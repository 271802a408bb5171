package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/internal/motoserver"
)

func TestECSUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ecs"}, "name an ecs subcommand"},
		{[]string{"ecs", "bogus"}, "unknown ecs subcommand"},
		{[]string{"ecs", "deploy", "--cluster", "c"}, "--service is required"},
		{[]string{"ecs", "scale", "--service", "s", "--tasks", "many"}, "invalid value"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestECSCommandsOnMoto runs deploy --dry-run, deploy, scale, refresh,
// rollback and status against moto_server, and bad input that must be
// refused with exit status 2.
func TestECSCommandsOnMoto(t *testing.T) {
	srv := motoserver.Start(t, "MOTO_ECS_SERVICE_RUNNING=1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	c := awsecs.NewFromConfig(cfg)
	ctx := context.Background()
	c.CreateCluster(ctx, &awsecs.CreateClusterInput{ClusterName: aws.String("prod")})
	dir := t.TempDir()
	td := filepath.Join(dir, "td.json")
	os.WriteFile(td, []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx:1","memory":128}]}`), 0o644)
	sd := filepath.Join(dir, "svc.json")
	os.WriteFile(sd, []byte(`{"serviceName":"web","desiredCount":1}`), 0o644)
	cli := func(args ...string) (int, string, string) {
		return runCLI(t, append([]string{"--endpoint-url", srv.URL, "ecs"}, args...)...)
	}
	base := []string{"--cluster", "prod", "--service", "web"}

	// The service does not exist: deploy creates it from the definition.
	code, out, stderr := cli(append([]string{"deploy", "--task-definition", td, "--service-definition", sd, "--no-wait"}, base...)...)
	if code != 0 || !strings.Contains(out, "web:1") {
		t.Fatalf("create: exit %d\n%s\n%s", code, out, stderr)
	}
	os.WriteFile(td, []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx:2","memory":128}]}`), 0o644)
	code, out, _ = cli(append([]string{"deploy", "--task-definition", td, "--dry-run", "--tasks", "3"}, base...)...)
	if code != 0 || !strings.Contains(out, "nginx:1 -> nginx:2") || !strings.Contains(out, "service.desiredCount: 1 -> 3") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if code, out, stderr = cli(append([]string{"deploy", "--task-definition", td, "--no-wait"}, base...)...); code != 0 {
		t.Fatalf("deploy: %d %s %s", code, out, stderr)
	}
	if code, _, stderr = cli(append([]string{"scale", "--tasks", "2", "--no-wait"}, base...)...); code != 0 {
		t.Fatalf("scale: %s", stderr)
	}
	if code, _, stderr = cli(append([]string{"refresh", "--no-wait"}, base...)...); code != 0 {
		t.Fatalf("refresh: %s", stderr)
	}
	// The dry run of a rollback plans through the engine and changes nothing.
	if code, out, stderr = cli(append([]string{"rollback", "--revision", "1", "--dry-run"}, base...)...); code != 0 ||
		!strings.Contains(out, "web:2 -> web:1") {
		t.Fatalf("rollback dry run: %d %s %s", code, out, stderr)
	}
	if code, out, stderr = cli(append([]string{"rollback", "--deregister", "--wait=false"}, base...)...); code != 0 || !strings.Contains(out, "web:1") {
		t.Fatalf("rollback: %d %s %s", code, out, stderr)
	}
	svc, err := c.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || !strings.HasSuffix(aws.ToString(svc.Services[0].TaskDefinition), "web:1") || svc.Services[0].DesiredCount != 2 {
		t.Fatalf("service after commands: %v %v", svc, err)
	}
	tdo, _ := c.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:2")})
	if tdo.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
		t.Fatalf("web:2 not deregistered")
	}
	if code, out, stderr = cli(append([]string{"status"}, base...)...); code != 0 || !strings.Contains(out, "* web:1") {
		t.Fatalf("status: %d %s %s", code, out, stderr)
	}
	for _, bad := range [][]string{
		{"deploy", "--skip-task-definition", "--tasks", "-2"},
		{"deploy", "--skip-task-definition", "--wait-until", "soon"},
		{"deploy", "--revision", "1", "--latest-task-definition"},
		{"rollback", "--revision", "1", "--tasks", "-1"},
		{"rollback", "--revision", "1"}, // the service runs web:1 already
		{"scale"},                       // scale needs --tasks
	} {
		if code, _, stderr := cli(append(bad, base...)...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", bad, code, stderr)
		}
	}
}
