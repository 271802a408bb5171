package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

func TestLambdaUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lambda"}, "name a lambda subcommand"},
		{[]string{"lambda", "bogus"}, "unknown lambda subcommand"},
		{[]string{"lambda", "deploy", "--alias", "live", "--version", "2"}, "--function and --alias"},
		{[]string{"lambda", "deploy", "--function", "f", "--alias", "live", "--version", "2", "--no-wait"}, "--no-wait needs --codedeploy"},
		{[]string{"lambda", "deploy", "--function", "f", "--alias", "live", "--codedeploy", "app"}, "APP/GROUP"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func lambdaZip(t *testing.T, body string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, _ := w.Create("index.py")
	f.Write([]byte("def handler(e, c):\n    " + body + "\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLambdaCommandsOnMoto runs deploy --dry-run, deploy, status, a deploy
// to the same version (refused) and stop against moto_server.
// lambdaOnMoto starts moto with function "app" (version 1) and alias
// "live" on it, and writes a zip of a second version. It returns the
// server, a Lambda client, the zip's path and a history file path.
func lambdaOnMoto(t *testing.T) (*motoserver.Server, *awslambda.Client, string, string) {
	t.Helper()
	srv := motoserver.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg := srv.Config()
	ctx := context.Background()
	form := url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"r"},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[]}`}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(form.Encode()))
	creds, _ := cfg.Credentials.Retrieve(ctx)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lc := awslambda.NewFromConfig(cfg)
	if _, err := lc.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("app"),
		Role: aws.String("arn:aws:iam::123456789012:role/r"), Runtime: types.RuntimePython312, Handler: aws.String("index.handler"),
		Code: &types.FunctionCode{ZipFile: lambdaZip(t, "return 1")}, Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "app.zip")
	if err := os.WriteFile(zipPath, lambdaZip(t, "return 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(dir, "history.json")
	return srv, lc, zipPath, hist
}

func TestLambdaCommandsOnMoto(t *testing.T) {
	srv, lc, zipPath, hist := lambdaOnMoto(t)
	ctx := context.Background()
	base := []string{"--endpoint-url", srv.URL, "lambda"}
	common := []string{"--function", "app", "--alias", "live", "--history", hist}
	cli := func(args ...string) (int, string, string) {
		sub := append(append(append([]string(nil), base...), args[0]), common...)
		return runCLI(t, append(sub, args[1:]...)...)
	}
	alias := func() string {
		out, err := lc.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		w := ""
		if out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0 {
			w = " weighted"
		}
		return aws.ToString(out.FunctionVersion) + w
	}

	code, out, stderr := cli("deploy", "--zip", zipPath, "--strategy", "canary:10:1s", "--dry-run")
	if code != 0 || !strings.Contains(out, "alias.live.functionVersion") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := alias(); got != "1" {
		t.Fatalf("dry run moved the alias: %s", got)
	}
	code, out, stderr = cli("deploy", "--zip", zipPath, "--strategy", "canary:10:1s")
	if code != 0 || !strings.Contains(out, "Succeeded") {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "10% on") {
		t.Errorf("progress did not show the canary shift:\n%s", stderr)
	}
	if got := alias(); got != "2" {
		t.Fatalf("alias after deploy: %s", got)
	}
	code, out, stderr = cli("status")
	if code != 0 || !strings.Contains(out, "version 2") || !strings.Contains(out, "* app:2") {
		t.Fatalf("status: exit %d\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = cli("deploy", "--version", "2")
	if code != 2 || !strings.Contains(stderr, "already points at version 2") {
		t.Fatalf("same version: exit %d\n%s", code, stderr)
	}
	if _, err := lc.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"1": 0.5}}}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = cli("deploy", "--version", "1")
	if code != 1 || !strings.Contains(stderr, "--reset-weights") {
		t.Fatalf("weighted alias: exit %d\n%s", code, stderr)
	}
	code, out, stderr = cli("stop")
	if code != 0 || alias() != "2" {
		t.Fatalf("stop: exit %d alias %s\n%s\n%s", code, alias(), out, stderr)
	}
	code, out, stderr = cli("rollback")
	if code != 0 || alias() != "1" {
		t.Fatalf("rollback: exit %d alias %s\n%s\n%s", code, alias(), out, stderr)
	}
}

// TestLambdaStopCodeDeploy stops a CodeDeploy-managed deployment through
// the real CodeDeploy client (on codedeployserver): a live one stops, one
// already stopped reports stopped again, one that succeeded cannot be
// stopped.
func TestLambdaStopCodeDeploy(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	clk := deploytest.NewClock(deploytest.Epoch())
	fake := codedeployfake.New(codedeployfake.Options{Clock: clk})
	fake.AddGroup(codedeployfake.Group{Application: "app", Name: "live", ComputePlatform: cdtypes.ComputePlatformLambda,
		Targets: []string{"app:live"}})
	srv := codedeployserver.Start(t, fake)
	create := func() string {
		spec := `{"version":0.0,"Resources":[{"app":{"Type":"AWS::Lambda::Function","Properties":{"Name":"app","Alias":"live","CurrentVersion":"1","TargetVersion":"2"}}}]}`
		out, err := fake.CreateDeployment(context.Background(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"),
			DeploymentGroupName: aws.String("live"), DeploymentConfigName: aws.String("CodeDeployDefault.LambdaCanary10Percent5Minutes"),
			Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
				AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(spec)}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.DeploymentId)
	}
	stop := func(id string) (int, string, string) {
		return runCLI(t, "--endpoint-url", srv.URL, "lambda", "stop", "--function", "app", "--alias", "live",
			"--codedeploy", "app/live", "--deployment-id", id)
	}
	id := create()
	clk.Advance(3 * time.Second)
	for range 2 { // live, then already stopped
		code, out, stderr := stop(id)
		if code != 0 || strings.TrimSpace(out) != id+": stop Succeeded" {
			t.Fatalf("stop: exit %d\n%s\n%s", code, out, stderr)
		}
	}
	done := create()
	clk.Advance(time.Hour)
	if info, _ := fake.Deployment(done); info.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("deployment %s is %s", done, info.Status)
	}
	code, out, stderr := stop(done)
	if code != 1 || !strings.Contains(stderr, "cannot be stopped") {
		t.Fatalf("stop of a succeeded deployment: exit %d\n%s\n%s", code, out, stderr)
	}
}

// SIGTERM (as CI systems cancel jobs) in the middle of a canary stops it and
// puts the alias back on the old version alone before deployctl exits 1.
func TestLambdaSignalRestoresAlias(t *testing.T) {
	srv, lc, zipPath, hist := lambdaOnMoto(t)
	ctx := context.Background()
	sigs := make(chan os.Signal, 2)
	var errOut syncBuffer
	sctx, release := interruptible(ctx, sigs, &errOut)
	defer release()
	done := make(chan int, 1)
	go func() {
		done <- run(sctx, []string{"--endpoint-url", srv.URL, "lambda", "deploy", "--function", "app", "--alias", "live",
			"--history", hist, "--zip", zipPath, "--strategy", "canary:10:1h"}, io.Discard, &errOut)
	}()
	weighted := func() bool {
		out, err := lc.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
		return err == nil && out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0
	}
	deadline := time.Now().Add(20 * time.Second)
	for !weighted() {
		if time.Now().After(deadline) {
			t.Fatalf("the canary never weighted the alias: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sigs <- syscall.SIGTERM
	var code int
	select {
	case code = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("deployctl did not exit after SIGTERM: %s", errOut.String())
	}
	if code != 1 {
		t.Fatalf("exit %d after SIGTERM, want 1: %s", code, errOut.String())
	}
	out, err := lc.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionVersion) != "1" || (out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0) {
		t.Fatalf("alias after SIGTERM: version %s, routing %+v", aws.ToString(out.FunctionVersion), out.RoutingConfig)
	}
	for _, want := range []string{"terminated: stopping the deployment and restoring the platform", "all traffic back on"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
}

func TestSecondSignalCutsCleanupShort(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	var errOut syncBuffer
	ctx, release := interruptible(context.Background(), sigs, &errOut)
	defer release()
	clk := deploytest.NewClock(time.Time{}) // manual: a pending stop waits
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	fake.StopSlowly(1000)
	eng := deploy.New(fake, deploy.Options{Clock: clk, CleanupTimeout: time.Hour})
	first := deploy.GateFunc{GateName: "first-signal", Phases: []deploy.Phase{deploy.PhaseShift},
		Func: func(context.Context, deploy.Check) error { sigs <- syscall.SIGHUP; <-ctx.Done(); return nil }}
	done := make(chan error, 1)
	go func() {
		_, err := eng.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
			Strategy: deploy.Canary(10, time.Hour), Gates: []deploy.Gate{first}})
		done <- err
	}()
	if err := clk.BlockUntil(context.Background(), 1); err != nil { // the cleanup waits on its pending stop
		t.Fatal(err)
	}
	sigs <- os.Interrupt
	select {
	case err := <-done:
		if !strings.Contains(fmt.Sprint(err), "cleanup cut short") {
			t.Fatalf("err %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second signal did not cut the cleanup short")
	}
	for _, want := range []string{"hangup: stopping the deployment", "interrupt again: cutting the cleanup short"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the signal watcher and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
