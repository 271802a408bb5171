package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
)

// Every ECS and Lambda command's --output json is JSON Lines as the README
// documents (runCLI checks each line: a known type, camelCase fields, the
// result last with the exit code), whatever the outcome.
func TestJSONLinesForEveryCommand(t *testing.T) {
	srv, _, zipPath, hist := lambdaOnMoto(t)
	dir := t.TempDir()
	td := filepath.Join(dir, "td.json")
	sd := filepath.Join(dir, "svc.json")
	if err := os.WriteFile(td, []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx:1","memory":128,
		"environment":[{"name":"DB_PASSWORD","value":"hunter2"}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sd, []byte(`{"serviceName":"web","desiredCount":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := awsecs.NewFromConfig(srv.Config()).CreateCluster(context.Background(),
		&awsecs.CreateClusterInput{ClusterName: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "--endpoint-url", srv.URL, "ecs", "deploy", "--cluster", "default", "--service", "web",
		"--task-definition", td, "--service-definition", sd, "--no-wait")
	if code != 0 {
		t.Fatalf("setup: %s", stderr)
	}
	ecs := []string{"--cluster", "default", "--service", "web"}
	fn := []string{"--function", "app", "--alias", "live", "--history", hist}
	for _, args := range [][]string{
		append([]string{"ecs", "status"}, ecs...),
		append([]string{"ecs", "deploy", "--task-definition", td, "--dry-run"}, ecs...),
		append([]string{"ecs", "deploy", "--task-definition", td, "--no-wait"}, ecs...),
		append([]string{"ecs", "scale", "--tasks", "2", "--no-wait"}, ecs...),
		append([]string{"ecs", "refresh", "--no-wait"}, ecs...),
		append([]string{"ecs", "rollback", "--dry-run"}, ecs...),
		append([]string{"ecs", "deploy", "--task-definition", "/nonexistent.json"}, ecs...),
		append([]string{"lambda", "status"}, fn...),
		append([]string{"lambda", "deploy", "--zip", zipPath, "--dry-run"}, fn...),
		append([]string{"lambda", "deploy", "--zip", zipPath}, fn...),
		append([]string{"lambda", "rollback"}, fn...),
		append([]string{"lambda", "stop"}, fn...),
		append([]string{"lambda", "deploy", "--version", "99"}, fn...),
		{"strategies", "canary:10:5m"},
		{"strategies"},
		{"version"},
	} {
		t.Run(strings.Join(args[:min(2, len(args))], "_"), func(t *testing.T) {
			_, out, _ := runCLI(t, append([]string{"--endpoint-url", srv.URL, "--output", "json"}, args...)...)
			if strings.Contains(out, "hunter2") {
				t.Fatalf("a secret reached stdout:\n%s", out)
			}
		})
	}
}
