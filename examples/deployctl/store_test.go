package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/store/localstore"
)

// TestMain keeps every test's deployctl state out of the user's own state
// directory: each run of the tests gets a fresh store.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deployctl-store-")
	if err != nil {
		panic(err)
	}
	os.Setenv("DEPLOYCTL_STORE", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runCLICtx(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestTwoRunsOnOneAliasOnMoto: two deployctl runs deploy to one alias at
// once (two CI jobs on one runner sharing a store): the second exits 3
// naming the holder, and the first one's weights are untouched.
func TestTwoRunsOnOneAliasOnMoto(t *testing.T) {
	srv, lc, zipPath, hist := lambdaOnMoto(t)
	store := t.TempDir()
	zip3 := filepath.Join(t.TempDir(), "three.zip")
	if err := os.WriteFile(zip3, lambdaZip(t, "return 3"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(zip string) []string {
		return []string{"--endpoint-url", srv.URL, "--store", "file://" + store, "--timeout", "0", "lambda", "deploy",
			"--function", "app", "--alias", "live", "--history", hist, "--zip", zip, "--strategy", "canary:10:1h"}
	}
	alias := func() (string, map[string]float64) {
		out, err := lc.GetAlias(context.Background(), &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		var w map[string]float64
		if out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0 {
			w = out.RoutingConfig.AdditionalVersionWeights
		}
		return aws.ToString(out.FunctionVersion), w
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code           int
		stdout, stderr string
	}
	first := make(chan result, 1)
	go func() {
		code, out, errOut := runCLICtx(ctx, args(zipPath)...)
		first <- result{code, out, errOut}
	}()
	deadline := time.Now().Add(20 * time.Second)
	var before map[string]float64
	for {
		v, w := alias()
		if v == "1" && len(w) == 1 {
			before = w
			break
		}
		if time.Now().After(deadline) {
			cancel()
			r := <-first
			t.Fatalf("the first run never weighted the alias (alias %s %v): exit %d\n%s", v, w, r.code, r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, _, stderr := runCLI(t, args(zip3)...)
	if code != 3 || !strings.Contains(stderr, "locked by") || !strings.Contains(stderr, "pid") {
		t.Errorf("second run: exit %d\n%s\nwant 3 naming the holder", code, stderr)
	}
	t.Logf("second run refused: %s", stderr)
	if v, w := alias(); v != "1" || len(w) != 1 || fmt.Sprint(w) != fmt.Sprint(before) {
		t.Errorf("alias after the refused run: version %s %v; want version 1 %v untouched", v, w, before)
	}
	code, out, _ := runCLI(t, "--store", store, "history", "lambda:app:live")
	if code != 0 || !strings.Contains(out, "locked by") {
		t.Errorf("history while the first run holds the alias: exit %d\n%s", code, out)
	}
	cancel() // the first run is interrupted: its shift is rolled back
	r := <-first
	if r.code != 1 {
		t.Errorf("first run after interrupt: exit %d\n%s", r.code, r.stderr)
	}
	if v, w := alias(); v != "1" || len(w) != 0 {
		t.Errorf("alias after the interrupted run: version %s %v; want version 1 alone", v, w)
	}
	code, out, stderr = runCLI(t, "--store", store, "history", "lambda:app:live")
	if code != 0 || strings.Contains(out, "locked by") || !strings.Contains(out, "RolledBack") {
		t.Errorf("history after the runs: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "--endpoint-url", srv.URL, "--store", store, "resume")
	if code != 0 || !strings.Contains(out, "nothing to resume") {
		t.Errorf("resume: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestStoreCreateDynamoDBOnMoto(t *testing.T) {
	srv, _, _, _ := lambdaOnMoto(t)
	for range 2 { // idempotent
		code, out, stderr := runCLI(t, "--endpoint-url", srv.URL, "store", "create", "dynamodb://deployctl-state")
		if code != 0 || !strings.Contains(out, "deployctl-state ready") {
			t.Fatalf("store create: exit %d\n%s\n%s", code, out, stderr)
		}
	}
	code, out, stderr := runCLI(t, "--endpoint-url", srv.URL, "--store", "dynamodb://deployctl-state", "history", "lambda:app:live")
	if code != 0 || !strings.Contains(out, "no history") {
		t.Errorf("history on the new table: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, args := range [][]string{{"history", "lambda:app:live"}, {"resume"}, {"store", "create", "dynamodb://deployctl-state"}} {
		code, out, stderr := runCLI(t, append([]string{"--endpoint-url", srv.URL, "--store", "dynamodb://deployctl-state", "--output", "json"}, args...)...)
		if code != 0 || !strings.Contains(out, `"type":"result"`) {
			t.Errorf("%v --output json: exit %d\n%s\n%s", args, code, out, stderr)
		}
	}
}

func TestStoreFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", "s3://bucket", "history", "x"}, "file://DIR or dynamodb://TABLE"},
		{[]string{"--store", "dynamodb://", "history", "x"}, "one table"},
		{[]string{"--lock-lease", "0s", "history", "x"}, "--lock-lease"},
		{[]string{"history"}, "usage: deployctl history"},
		{[]string{"store"}, "store create"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestResumeCommandOnMoto: a deployctl run killed with 10% of the alias on
// version 2 left its journal and lock in the local store; deployctl resume
// puts the alias back on version 1 alone and frees the lock.
func TestResumeCommandOnMoto(t *testing.T) {
	srv, lc, _, _ := lambdaOnMoto(t)
	ctx := context.Background()
	if _, err := lc.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("app"),
		ZipFile: lambdaZip(t, "return 2"), Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"),
		FunctionVersion: aws.String("1"), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1}}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := localstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	leaveKilledRun(t, st, "1", "2")
	code, out, stderr := runCLI(t, "--endpoint-url", srv.URL, "--store", dir, "resume")
	if code != 0 || !strings.Contains(out, "killed lambda:app:live: rolled back") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, stderr)
	}
	a, err := lc.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.FunctionVersion) != "1" || (a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0) {
		t.Errorf("alias after resume: version %s %v; want version 1 alone", aws.ToString(a.FunctionVersion), a.RoutingConfig)
	}
	if h, _ := st.Holder(ctx, lambda.Target("app", "live").String()); h != nil {
		t.Errorf("lock after resume: %+v", h)
	}
}

// leaveKilledRun leaves in st what a deployctl run killed with 10% of the
// alias app:live on version to (from serving the rest) leaves: its journal
// up to the first shift, and its lock, held by a process that is gone.
func leaveKilledRun(t *testing.T, st deploy.Store, fromVersion, toVersion string) {
	t.Helper()
	ctx := context.Background()
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	target := lambda.Target("app", "live")
	now := time.Now()
	if _, err := st.Lock(ctx, deploy.Lease{Target: target.String(), Token: "dead", Owner: "ci", Host: host, PID: dead.Process.Pid,
		Run: "killed", Since: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	from, to := deploy.Revision{ID: fromVersion}, deploy.Revision{ID: toVersion}
	strategy := deploy.Canary(10, time.Hour)
	for i, en := range []deploy.JournalEntry{
		{Kind: deploy.JournalPlan, From: &from, To: &to, Mode: deploy.ModeEngine, Strategy: &strategy},
		{Kind: deploy.JournalStarted, DeploymentID: "lambda-app-live-killed", To: &to},
		{Kind: deploy.JournalShift, DeploymentID: "lambda-app-live-killed", Percent: 10},
		{Kind: deploy.JournalShifted, DeploymentID: "lambda-app-live-killed", Percent: 10},
	} {
		en.Run, en.Seq, en.At, en.Target = "killed", i+1, now, target
		if err := st.Append(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
}
