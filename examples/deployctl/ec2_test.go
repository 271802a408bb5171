package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

func TestEC2Usage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ec2"}, "name an ec2 subcommand"},
		{[]string{"ec2", "bogus"}, "unknown ec2 subcommand"},
		{[]string{"ec2", "deploy", "--group", "g", "--s3", "s3://b/k.zip"}, "--application and --group"},
		{[]string{"ec2", "deploy", "--application", "a", "--group", "g"}, "exactly one of --s3, --github and --appspec"},
		{[]string{"ec2", "deploy", "--application", "a", "--group", "g", "--s3", "s3://b/k.zip", "--github", "o/r@x"}, "exactly one"},
		{[]string{"ec2", "deploy", "--application", "a", "--group", "g", "--github", "o/r@" + strings.Repeat("a", 40), "--bundle-type", "zip"}, "--bundle-type goes with --s3"},
		{[]string{"ec2", "deploy", "--application", "a", "--group", "g", "--s3", "s3://bucket"}, "s3://bucket/key"},
		{[]string{"ec2", "deploy", "--application", "a", "--group", "g", "--s3", "s3://b/k", "--bundle-type", "rar"}, "want zip, tar, tgz"},
		{[]string{"ec2", "deploy", "--application", "a", "--group", "g", "--github", "acme/web@"}, "commit"},
		{[]string{"ec2", "deploy", "--application", "a", "--group", "g", "--s3", "s3://b/k.zip", "--min-healthy", "FLEET_PERCENT:100"}, "FLEET_PERCENT"},
		{[]string{"ec2", "deploy", "--application", "a", "--group", "g", "--s3", "s3://b/k.zip", "--rollback-on", "sometimes"}, "rollbackEvents"},
		{[]string{"ec2", "stop", "--application", "a", "--group", "g"}, "--deployment-id"},
		{[]string{"ec2", "continue", "--application", "a", "--group", "g"}, "--deployment-id"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// cliEnv serves an in-memory CodeDeploy on the wall clock, with fast
// lifecycle events, to deployctl: group app/web (in place, on-premises
// instances host-1..3 tagged Role=web, run one at a time) and app/bg
// (blue/green, waiting in Ready).
func cliEnv(t *testing.T, clock deploy.Clock) (*codedeployfake.Fake, string) {
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	fake := codedeployfake.New(codedeployfake.Options{Clock: clock, StepDuration: time.Millisecond})
	role := []cdtypes.TagFilter{{Key: aws.String("Role"), Value: aws.String("web"), Type: cdtypes.TagFilterTypeKeyAndValue}}
	for _, h := range []string{"host-1", "host-2", "host-3"} {
		fake.AddOnPremisesInstance(h, map[string]string{"Role": "web"})
	}
	fake.AddOnPremisesInstance("host-bg", map[string]string{"Role": "bg"})
	cur := &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
		S3Location: &cdtypes.S3Location{Bucket: aws.String("b"), Key: aws.String("v0.zip"), BundleType: cdtypes.BundleTypeZip}}
	fake.AddGroup(codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"host-1", "host-2", "host-3"},
		Batches: true, OnPremisesTagFilters: role, Current: cur})
	fake.AddGroup(codedeployfake.Group{Application: "app", Name: "bg", Targets: []string{"host-bg"},
		Events: codedeployfake.ServerBlueGreenEvents(), ReadyBefore: "BeforeAllowTraffic", Current: cur,
		OnPremisesTagFilters: []cdtypes.TagFilter{{Key: aws.String("Role"), Value: aws.String("bg"), Type: cdtypes.TagFilterTypeKeyAndValue}},
		DeploymentStyle:      &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen, DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl}})
	srv := codedeployserver.Start(t, fake)
	return fake, srv.URL
}

// TestEC2CommandsOverTheWire drives deployctl ec2 against the real
// CodeDeploy client and codedeployserver: a dry run prints the instances
// and batches, a failing deployment prints the instance and lifecycle
// event and exits 1, the repair and a good deployment exit 0, and status
// lists the history.
func TestEC2CommandsOverTheWire(t *testing.T) {
	fake, url := cliEnv(t, nil)
	ec2 := func(args ...string) (int, string, string) {
		return runCLI(t, append([]string{"--endpoint-url", url, "ec2"}, args...)...)
	}
	code, out, stderr := ec2("deploy", "--application", "app", "--group", "web", "--s3", "s3://b/v1.zip", "--dry-run")
	if code != 0 || !strings.Contains(out, "instances: 3") || !strings.Contains(out, "batches: 3 [1 1 1]") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	if n := fake.Mutations(); n != 0 {
		t.Fatalf("the dry run made %d mutating calls", n)
	}
	code, out, _ = ec2("deploy", "--application", "app", "--group", "web", "--s3", "s3://b/v1.zip", "--dry-run",
		"--config", "CodeDeployDefault.AllAtOnce")
	if code != 0 || !strings.Contains(out, "batches: 1 [3]") {
		t.Fatalf("dry run AllAtOnce: exit %d\n%s", code, out)
	}
	code, _, stderr = ec2("deploy", "--application", "app", "--group", "web", "--s3", "s3://b/v1.zip", "--dry-run",
		"--min-healthy", "HOST_COUNT:3")
	if code != 2 || !strings.Contains(stderr, "can never succeed on the 3 instances") {
		t.Fatalf("dry run HOST_COUNT:3: exit %d\n%s", code, stderr)
	}

	fake.FailNext("BeforeInstall", "host-2")
	code, out, stderr = ec2("deploy", "--application", "app", "--group", "web", "--s3", "s3://b/v1.tar", "--rollback-on", "")
	if code != 1 || !strings.Contains(out, "failed: instance host-2, lifecycle event BeforeInstall (ScriptFailed)") {
		t.Fatalf("failing deploy: exit %d\n%s\n%s", code, out, stderr)
	}
	// host-1 runs v1, the rest v0: the group is locked until a rollback.
	code, _, stderr = ec2("deploy", "--application", "app", "--group", "web", "--s3", "s3://b/v2.zip", "--no-wait")
	if code != 1 || !strings.Contains(stderr, "roll it back first") {
		t.Fatalf("deploy while split: exit %d\n%s", code, stderr)
	}
	code, out, stderr = ec2("rollback", "--application", "app", "--group", "web")
	if code != 0 || !strings.Contains(out, "Succeeded") {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "--endpoint-url", url, "--output", "json", "ec2", "deploy", "--application", "app", "--group", "web",
		"--github", "acme/web@"+strings.Repeat("ab", 20))
	d := resultDeployment(t, out)
	if code != 0 || d.Status != deploy.StatusSucceeded {
		t.Fatalf("deploy from GitHub: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = ec2("status", "--application", "app", "--group", "web")
	if code != 0 || !strings.Contains(out, "* abababa") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	code, out, _ = ec2("status", "--application", "app", "--group", "web", "--deployment-id", d.ID)
	if code != 0 || !strings.Contains(out, d.ID) || !strings.Contains(out, "Succeeded") {
		t.Fatalf("status of %s: exit %d\n%s", d.ID, code, out)
	}
	code, _, stderr = ec2("stop", "--application", "app", "--group", "web", "--deployment-id", d.ID)
	if code != 1 || !strings.Contains(stderr, "succeeded") {
		t.Fatalf("stop of a deployment that succeeded: exit %d\n%s", code, stderr)
	}
}

// TestEC2StopAndContinue: --no-wait returns at once; stop and continue act
// on the deployment by ID, as from another machine. The fake runs on a
// manual clock, so nothing moves unless the test says.
func TestEC2StopAndContinue(t *testing.T) {
	clk := deploytest.NewClock(deploytest.Epoch())
	fake, url := cliEnv(t, clk)
	ec2 := func(args ...string) (int, string, string) {
		return runCLI(t, append([]string{"--endpoint-url", url, "--output", "json", "ec2"}, args...)...)
	}
	code, out, stderr := ec2("deploy", "--application", "app", "--group", "bg", "--s3", "s3://b/v1.zip", "--no-wait")
	d := resultDeployment(t, out)
	if code != 0 || d.ID == "" {
		t.Fatalf("deploy --no-wait: exit %d\n%s\n%s", code, out, stderr)
	}
	for range 200 {
		if info, _ := fake.Deployment(d.ID); info.Status == cdtypes.DeploymentStatusReady {
			break
		}
		clk.Advance(time.Millisecond)
	}
	code, out, stderr = ec2("continue", "--application", "app", "--group", "bg", "--deployment-id", d.ID)
	if code != 0 || !strings.Contains(out, `"continue":"ok"`) {
		t.Fatalf("continue: exit %d\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = ec2("continue", "--application", "app", "--group", "bg", "--deployment-id", d.ID)
	if code != 2 || !strings.Contains(stderr, "not waiting") {
		t.Fatalf("second continue: exit %d\n%s", code, stderr)
	}
	// A live deployment on web, stopped with rollback.
	out2, err := fake.CreateDeployment(context.Background(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"),
		DeploymentGroupName: aws.String("web"), Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeGitHub,
			GitHubLocation: &cdtypes.GitHubLocation{Repository: aws.String("a/b"), CommitId: aws.String(strings.Repeat("c", 40))}}})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Millisecond)
	code, out, stderr = ec2("stop", "--application", "app", "--group", "web", "--deployment-id", aws.ToString(out2.DeploymentId))
	if code != 0 || !strings.Contains(out, `"stop":"Succeeded"`) {
		t.Fatalf("stop: exit %d\n%s\n%s", code, out, stderr)
	}
}
