package ecspresso

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

const state = `{"version":4,"resources":[{"mode":"managed","type":"aws_iam_role","name":"ecs_task_execution",
"instances":[{"attributes":{"arn":"arn:aws:iam::123456789012:role/ecsTaskExecutionRole"}}]}]}`

// writeSample writes the shapes ecspresso's README documents: a YAML
// configuration with a tfstate plugin and templated definitions.
func writeSample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"ecspresso.yml": `region: {{ env "REGION" "ap-northeast-1" }}
cluster: default
service: myservice
service_definition: ecs-service-def.json
task_definition: ecs-task-def.json
timeout: "10m0s"
filter_command: peco
plugins:
  - name: tfstate
    config:
      path: terraform.tfstate
`,
		"terraform.tfstate": state,
		"ecs-task-def.json": `{
  "family": "myservice",
  "executionRoleArn": "{{ tfstate "aws_iam_role.ecs_task_execution.arn" }}",
  "containerDefinitions": [{"name": "app", "image": "nginx:{{ must_env "IMAGE_TAG" }}", "essential": true,
    "environment": [{"name": "SECRET", "value": "{{ env "SECRET" "none" }}"}]}]
}`,
		"ecs-service-def.json": `{"desiredCount": 1, "launchType": "FARGATE"}`,
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadSample(t *testing.T) {
	dir := writeSample(t)
	o, c, err := LoadDeployOptions(t.Context(), filepath.Join(dir, "ecspresso.yml"), Options{LookupEnv: envOf(map[string]string{"IMAGE_TAG": "1.25"})})
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "ap-northeast-1" || c.Cluster != "default" || c.Service != "myservice" || c.Timeout != 10*time.Minute {
		t.Fatalf("config %+v", c)
	}
	if len(c.Ignored) != 1 || c.Ignored[0] != "filter_command" {
		t.Fatalf("ignored %v", c.Ignored)
	}
	if c.Target().String() != "ecs:default/myservice" && !strings.Contains(c.Target().String(), "myservice") {
		t.Fatalf("target %s", c.Target())
	}
	td := string(o.TaskDefinition)
	for _, w := range []string{`"image": "nginx:1.25"`, "role/ecsTaskExecutionRole", `"value": "none"`} {
		if !strings.Contains(td, w) {
			t.Errorf("task definition lacks %s:\n%s", w, td)
		}
	}
	if !strings.Contains(string(o.ServiceDefinition), "FARGATE") {
		t.Fatalf("service definition %s", o.ServiceDefinition)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := writeSample(t)
	cfg := filepath.Join(dir, "ecspresso.yml")
	// IMAGE_TAG unset: must_env refuses.
	_, _, err := LoadDeployOptions(t.Context(), cfg, Options{LookupEnv: envOf(nil)})
	if !errors.Is(err, deploy.ErrInvalidRequest) || !strings.Contains(err.Error(), "IMAGE_TAG is not set") {
		t.Fatalf("unset: %v", err)
	}
	// A placeholder left by a function ecspresso has but this one lacks.
	os.WriteFile(filepath.Join(dir, "ecs-service-def.json"), []byte("{\"desiredCount\": 1, \"x\": \"{{ ssm `/app/x` }}\"}"), 0o644)
	_, _, err = LoadDeployOptions(t.Context(), cfg, Options{LookupEnv: envOf(map[string]string{"IMAGE_TAG": "1"})})
	if !errors.Is(err, deploy.ErrInvalidRequest) || !strings.Contains(err.Error(), "ssm") {
		t.Fatalf("leftover: %v", err)
	}
	// An S3 state without an S3 client.
	os.WriteFile(cfg, []byte("service: s\nplugins:\n  - name: tfstate\n    config:\n      url: s3://b/k\n"), 0o644)
	if _, err = Load(t.Context(), cfg, Options{}); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("s3: %v", err)
	}
}

func TestJsonnetConfigAndDefinitions(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ecspresso.jsonnet"), []byte(`{ region: 'us-east-1', cluster: 'c', service: std.native('must_env')('SVC'), task_definition: 'td.jsonnet' }`), 0o644)
	os.WriteFile(filepath.Join(dir, "td.jsonnet"), []byte(`local env = std.native('env');
{ family: 'web', containerDefinitions: [{ name: 'app', image: 'nginx:' + env('TAG', 'latest') + '-' + std.extVar('suffix') }] }`), 0o644)
	o, c, err := LoadDeployOptions(t.Context(), filepath.Join(dir, "ecspresso.jsonnet"),
		Options{LookupEnv: envOf(map[string]string{"SVC": "web"}), ExtStr: map[string]string{"suffix": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Service != "web" || !strings.Contains(string(o.TaskDefinition), `"nginx:latest-x"`) {
		t.Fatalf("%+v %s", c, o.TaskDefinition)
	}
}

func TestParseTable(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"service: s\ntimeout: 5m\n", ""},
		{"service: s\ntimeout: 300\n", ""},
		{"service: s\ntimeout: soon\n", "config.timeout"},
		{"cluster: c\n", "config.service"},
		{"service: [1]\n", "must be a string"},
		{"service: s\nplugins:\n  - name: ssm\n", "only the tfstate plugin"},
		{"service: s\nplugins: 3\n", "must be a list"},
		{"service: s\ncodedeploy:\n  application_name: a\n  deployment_group_name: g\n", ""},
		{": :", "malformed"},
	} {
		_, err := Parse("e.yml", []byte(tc.in))
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, deploy.ErrInvalidRequest)) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"service: s\n", "region: r\ncluster: c\nservice: s\ntimeout: 10m0s\nplugins:\n  - name: tfstate\n    config: {url: s3://b/k}\n",
		`{"service":"s","timeout":3}`, "service: s\ncodedeploy: 1\n", "- a\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse("f.yml", []byte(s))
		if err != nil {
			if !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if c.Service == "" || c.Cluster == "" || c.Timeout < 0 {
			t.Fatalf("accepted %+v", c)
		}
	})
}
