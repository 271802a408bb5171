package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/opsworks"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// corpus is the bad-input corpus shared by every parser and command.
const corpus = "../../testdata/badinput"

func corpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(corpus, dir, "*"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no corpus in %s: %v", dir, err)
	}
	return m
}

func corpusLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpus, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// oneLineInvalid fails unless err is a *deploy.ValidationError whose
// message is one line.
func oneLineInvalid(t *testing.T, what string, err error) {
	t.Helper()
	var ve *deploy.ValidationError
	switch {
	case err == nil:
		t.Errorf("%s: accepted", what)
	case !errors.As(err, &ve):
		t.Errorf("%s: %T is not a *deploy.ValidationError: %v", what, err, err)
	case strings.Contains(err.Error(), "\n"):
		t.Errorf("%s: message of several lines: %q", what, err)
	}
}

// Every parser refuses every corpus entry of its kind with a one-line
// *deploy.ValidationError, and none panics.
func TestBadInputCorpusParsers(t *testing.T) {
	n := 0
	for _, s := range corpusLines(t, "strategies.txt") {
		_, err := deploy.ParseStrategy(s)
		oneLineInvalid(t, "strategy "+s, err)
		n++
	}
	for _, f := range corpusFiles(t, "functionconfig") {
		b, _ := os.ReadFile(f)
		_, err := lambda.ParseFunctionConfig(b)
		if filepath.Base(f) == "other-function.json" {
			continue // valid alone; refused against its target (see the commands)
		}
		oneLineInvalid(t, f, err)
		n++
	}
	for _, f := range corpusFiles(t, "appspec-lambda") {
		b, _ := os.ReadFile(f)
		_, err := lambda.ParseAppSpec(b)
		oneLineInvalid(t, f, err)
		n++
	}
	for _, f := range corpusFiles(t, "customjson") {
		b, _ := os.ReadFile(f)
		oneLineInvalid(t, f, opsworks.ValidateCustomJSON(string(b)))
		n++
	}
	for _, s := range corpusLines(t, "ec2-s3.txt") {
		_, err := ec2.ParseS3URL(s, "")
		oneLineInvalid(t, "s3 "+s, err)
		n++
	}
	for _, s := range corpusLines(t, "lambda-aliases.txt") {
		_, _, err := lambda.ParseTarget(lambda.Target("app", s))
		oneLineInvalid(t, "alias "+s, err)
		n++
	}
	for _, s := range corpusLines(t, "lambda-functions.txt") {
		_, _, err := lambda.ParseTarget(deploy.Target{Platform: "lambda", Attrs: map[string]string{"function": s, "alias": "live"}})
		oneLineInvalid(t, "function "+s, err)
		n++
	}
	t.Logf("%d bad inputs through the parsers", n)
}

// rt adapts a RoundTripper to faultinject.Doer.
type rt struct{ http.RoundTripper }

func (r rt) Do(req *http.Request) (*http.Response, error) { return r.RoundTrip(req) }

// Every corpus entry given to the matching deployctl command, against moto
// behind a recording proxy: exit status 2, one line on stderr, and no
// mutating AWS call.
func TestBadInputCorpusCommandsOnMoto(t *testing.T) {
	srv, _, zipPath, hist := lambdaOnMoto(t)
	t.Setenv("DEPLOYCTL_STORE", t.TempDir())
	cfg := srv.Config()
	ctx := context.Background()
	ec := awsecs.NewFromConfig(cfg)
	if _, err := ec.CreateCluster(ctx, &awsecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.RegisterTaskDefinition(ctx, &awsecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("nginx:1"), Memory: aws.Int32(128)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.CreateService(ctx, &awsecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(srv.URL)
	rec := faultinject.New(rt{http.DefaultTransport})
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.Host = target.Host },
		Transport: rec})
	defer proxy.Close()

	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.zip")
	if err := os.WriteFile(huge, []byte("PK\x03\x04"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, lambda.MaxZipSize+1); err != nil { // sparse: nothing written
		t.Fatal(err)
	}
	hugeTD := filepath.Join(dir, "huge-taskdef.json")
	if err := os.WriteFile(hugeTD, []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx","memory":128,"command":["`+strings.Repeat("x", 5<<20)+`"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}

	type tc struct {
		name string
		args []string
	}
	var cases []tc
	ldeploy := func(name string, extra ...string) {
		args := append([]string{"lambda", "deploy", "--history", hist}, extra...)
		cases = append(cases, tc{name, args})
	}
	app := []string{"--function", "app", "--alias", "live"}
	for _, s := range corpusLines(t, "lambda-aliases.txt") {
		ldeploy("alias "+s, "--function", "app", "--alias", s, "--zip", zipPath)
	}
	for _, s := range corpusLines(t, "lambda-functions.txt") {
		ldeploy("function "+s, "--function", s, "--alias", "live", "--zip", zipPath)
	}
	for _, s := range corpusLines(t, "lambda-versions.txt") {
		ldeploy("version "+s, append(app, "--version", s)...)
	}
	for _, s := range corpusLines(t, "lambda-s3.txt") {
		ldeploy("s3 "+s, append(app, "--s3", s)...)
	}
	for _, s := range corpusLines(t, "strategies.txt") {
		ldeploy("strategy "+s, append(app, "--zip", zipPath, "--strategy", s)...)
		cases = append(cases, tc{"strategies " + s, []string{"strategies", s}})
	}
	for _, s := range []string{"CodeDeployDefault.ECSAllAtOnce", "CodeDeployDefault.ECSLinear10PercentEvery1Minutes", "CodeDeployDefault.OneAtATime"} {
		ldeploy("other platform "+s, append(app, "--zip", zipPath, "--strategy", s)...)
	}
	for _, f := range append(corpusFiles(t, "zips"), huge) {
		ldeploy("zip "+filepath.Base(f), append(app, "--zip", f)...)
	}
	for _, f := range corpusFiles(t, "functionconfig") {
		ldeploy("config "+filepath.Base(f), append(app, "--zip", zipPath, "--config", f)...)
	}
	ldeploy("missing before-hook", append(app, "--zip", zipPath, "--before-hook", "no-such-function")...)
	ldeploy("missing after-hook", append(app, "--zip", zipPath, "--after-hook", "no-such-function")...)
	ldeploy("bad hook name", append(app, "--zip", zipPath, "--before-hook", "bad hook!")...)

	ecsBase := []string{"--cluster", "prod", "--service", "web", "--no-wait"}
	for _, f := range append(corpusFiles(t, "taskdef"), hugeTD) {
		cases = append(cases, tc{"taskdef " + filepath.Base(f), append([]string{"ecs", "deploy", "--task-definition", f}, ecsBase...)})
	}
	for _, f := range corpusFiles(t, "servicedef") {
		cases = append(cases, tc{"servicedef " + filepath.Base(f), append([]string{"ecs", "deploy", "--skip-task-definition", "--service-definition", f}, ecsBase...)})
	}
	for _, n := range []string{"-1", "5001", "99999999999"} {
		cases = append(cases, tc{"tasks " + n, append([]string{"ecs", "scale", "--tasks", n}, ecsBase...)})
	}
	for _, s := range []string{"CodeDeployDefault.LambdaAllAtOnce", "CodeDeployDefault.HalfAtATime"} {
		cases = append(cases, tc{"ecs strategy " + s, append([]string{"ecs", "deploy", "--skip-task-definition", "--strategy", s}, ecsBase...)})
	}
	for _, s := range []string{"bad svc", "a/b/c!", strings.Repeat("s", 256)} {
		cases = append(cases, tc{"ecs service " + s, []string{"ecs", "deploy", "--cluster", "prod", "--service", s, "--skip-task-definition", "--no-wait"}})
	}

	ec2Base := []string{"ec2", "deploy", "--application", "app", "--group", "web"}
	for _, s := range corpusLines(t, "ec2-s3.txt") {
		cases = append(cases, tc{"ec2 s3 " + s, append(append([]string(nil), ec2Base...), "--s3", s)})
	}
	for _, f := range corpusFiles(t, "appspec-ec2") {
		cases = append(cases, tc{"ec2 appspec " + filepath.Base(f), append(append([]string(nil), ec2Base...), "--appspec", f)})
	}
	for _, s := range []string{"CodeDeployDefault.LambdaAllAtOnce", "CodeDeployDefault.ECSAllAtOnce"} {
		cases = append(cases, tc{"ec2 config " + s, append(append([]string(nil), ec2Base...), "--s3", "s3://b/k.zip", "--config", s)})
	}

	stack, appID := "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	for _, f := range corpusFiles(t, "customjson") {
		cases = append(cases, tc{"customjson " + filepath.Base(f), []string{"opsworks", "deploy", "--stack", stack, "--app", appID, "--custom-json", "@" + f}})
	}
	for _, a := range corpusLines(t, "opsworks-args.txt") {
		cases = append(cases, tc{"opsworks arg " + a, []string{"opsworks", "command", "--stack", stack, "--app", appID, "--command", "deploy", "--arg", a}})
	}
	cases = append(cases, tc{"opsworks execute_recipes without recipes", []string{"opsworks", "command", "--stack", stack, "--command", "execute_recipes"}})

	mutating := 0
	for _, c := range cases {
		before := len(rec.Calls())
		code, _, stderr := runCLI(t, append([]string{"--endpoint-url", proxy.URL}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 || strings.Contains(stderr, "panic") {
			t.Errorf("%s: exit %d with %d lines, want 2 and one line:\n%s", c.name, code, len(lines), stderr)
		}
		for _, call := range rec.Calls()[before:] {
			if call.Mutating {
				mutating++
				t.Errorf("%s: mutating call %s %s", c.name, call.Service, call.Operation)
			}
		}
	}
	t.Logf("%d bad inputs through deployctl, %d AWS calls (reads), %d mutating", len(cases), len(rec.Calls()), mutating)
}
