package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// lambroll's README shape: function.json with templates, and the same
// in Jsonnet.
const (
	functionJSON = `{
  "Architectures": ["arm64"],
  "Description": "hello function for {{ must_env "ENV" }}",
  "EphemeralStorage": {"Size": 1024},
  "Environment": {"Variables": {"BAR": "baz", "TOKEN": "{{ must_env "TOKEN" }}", "FOO": "{{ env "FOO" "default" }}"}},
  "FunctionName": "{{ must_env "ENV" }}-hello",
  "Handler": "index.handler",
  "MemorySize": 128,
  "Role": "{{ tfstate "aws_iam_role.lambda.arn" }}",
  "Runtime": "python3.12",
  "Tags": {"env": "{{ must_env "ENV" }}"},
  "Timeout": 5,
  "TracingConfig": {"Mode": "PassThrough"},
  "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"}
}`
	functionJsonnet = `local must_env = std.native('must_env');
{
  FunctionName: must_env('ENV') + '-hello',
  Handler: 'index.handler',
  Runtime: 'python3.12',
  Role: std.native('tfstate')('aws_iam_role.lambda.arn'),
  MemorySize: 256,
  Timeout: 30,
  EphemeralStorage: { Size: 2048 },
  TracingConfig: { Mode: 'Active' },
  Environment: { Variables: { TOKEN: must_env('TOKEN') } },
}`
	lambdaState = `{"version":4,"resources":[{"mode":"managed","type":"aws_iam_role","name":"lambda",
"instances":[{"attributes":{"arn":"arn:aws:iam::123456789012:role/r"}}]}]}`
)

func TestLambdaFunctionFileOnMoto(t *testing.T) {
	srv, lc, _, hist := lambdaOnMoto(t) // creates role "r"
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "lib"), 0o755)
	os.WriteFile(filepath.Join(src, "index.py"), []byte("def handler(e, c):\n    return 1\n"), 0o644)
	os.WriteFile(filepath.Join(src, "lib", "util.py"), []byte("X = 1\n"), 0o644)
	os.WriteFile(filepath.Join(src, "notes.md"), []byte("ignored"), 0o644)
	os.WriteFile(filepath.Join(src, ".lambdaignore"), []byte("# docs\n*.md\n"), 0o644)
	fj := filepath.Join(dir, "function.json")
	os.WriteFile(fj, []byte(functionJSON), 0o644)
	os.WriteFile(filepath.Join(dir, "function.jsonnet"), []byte(functionJsonnet), 0o644)
	state := filepath.Join(dir, "terraform.tfstate")
	os.WriteFile(state, []byte(lambdaState), 0o644)
	t.Setenv("ENV", "dev")
	t.Setenv("TOKEN", "s3cr3t-token")
	cli := func(args ...string) (int, string, string) {
		return runCLI(t, append([]string{"--endpoint-url", srv.URL, "lambda"}, args...)...)
	}
	exists := func() bool {
		_, err := lc.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("dev-hello")})
		return err == nil
	}

	// Unset placeholders are refused with exit 2, nothing created.
	os.Unsetenv("TOKEN")
	if code, _, stderr := cli("deploy", "--config", fj, "--tfstate", state, "--src", src, "--history", hist); code != 2 || !strings.Contains(stderr, "TOKEN is not set") {
		t.Fatalf("unset: %d %s", code, stderr)
	}
	if code, _, stderr := cli("deploy", "--config", fj, "--src", src, "--history", hist); code != 2 || !strings.Contains(stderr, "tfstate") {
		t.Fatalf("no state: %d %s", code, stderr) // tfstate is undefined without --tfstate
	}
	if exists() {
		t.Fatal("a refused deploy created the function")
	}
	t.Setenv("TOKEN", "s3cr3t-token")

	// The function does not exist: the dry run says it would be created;
	// deploy creates it from function.json and --src, with alias "current".
	code, out, stderr := cli("deploy", "--config", fj, "--tfstate", state, "--src", src, "--history", hist, "--dry-run")
	if code != 0 || !strings.Contains(out, "would be created") || exists() {
		t.Fatalf("dry run: %d %s %s", code, out, stderr)
	}
	code, out, stderr = cli("deploy", "--config", fj, "--tfstate", state, "--src", src, "--history", hist)
	if code != 0 || !strings.Contains(out, "created function dev-hello, version 1") || strings.Contains(out+stderr, "s3cr3t") {
		t.Fatalf("create: %d %s %s", code, out, stderr)
	}
	fc, err := lc.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("dev-hello"), Qualifier: aws.String("current")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(fc.Description) != "hello function for dev" || fc.Environment.Variables["TOKEN"] != "s3cr3t-token" ||
		fc.Environment.Variables["FOO"] != "default" || aws.ToString(fc.Role) != "arn:aws:iam::123456789012:role/r" ||
		len(fc.Architectures) != 1 || fc.Architectures[0] != types.ArchitectureArm64 ||
		fc.EphemeralStorage == nil || aws.ToInt32(fc.EphemeralStorage.Size) != 1024 || aws.ToString(fc.Version) != "1" {
		t.Fatalf("created %+v", fc)
	}
	tags, err := lc.ListTags(ctx, &awslambda.ListTagsInput{Resource: fc.FunctionArn})
	if err != nil || tags.Tags["env"] != "dev" {
		t.Fatalf("tags %v %v", tags, err)
	}

	// The Jsonnet file updates it: a new version behind the alias, its
	// configuration read back from moto.
	os.WriteFile(filepath.Join(src, "index.py"), []byte("def handler(e, c):\n    return 2\n"), 0o644)
	code, out, stderr = cli("deploy", "--config", filepath.Join(dir, "function.jsonnet"), "--tfstate", state, "--src", src, "--history", hist)
	if code != 0 || strings.Contains(out+stderr, "s3cr3t") {
		t.Fatalf("update: %d %s %s", code, out, stderr)
	}
	fc, err = lc.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("dev-hello"), Qualifier: aws.String("current")})
	if err != nil {
		t.Fatal(err)
	}
	// moto's UpdateFunctionConfiguration keeps only the basic fields (the
	// others are checked against lambdafake in package lambda).
	if code, out, stderr = cli("status", "--config", fj, "--tfstate", state, "--history", hist); code != 0 || !strings.Contains(out, "dev-hello") {
		t.Fatalf("status: %d %s %s", code, out, stderr)
	}
	// A second alias on the existing function: published and created.
	code, out, stderr = cli("deploy", "--config", fj, "--tfstate", state, "--src", src, "--alias", "beta", "--history", hist)
	if code != 0 || !strings.Contains(out, "created alias beta") {
		t.Fatalf("alias: %d %s %s", code, out, stderr)
	}
	if aws.ToString(fc.Version) != "2" || aws.ToInt32(fc.MemorySize) != 256 || aws.ToInt32(fc.Timeout) != 30 ||
		fc.Environment.Variables["TOKEN"] != "s3cr3t-token" {
		t.Fatalf("updated v%s mem %d timeout %d", aws.ToString(fc.Version), aws.ToInt32(fc.MemorySize), aws.ToInt32(fc.Timeout))
	}
}
