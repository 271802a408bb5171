package opsworks_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/aws-sdk-go-v2/service/opsworks/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/opsworks"
)

func (e *env) deploy(t *testing.T, rev string) *deploy.Deployment {
	t.Helper()
	d, err := e.eng.Deploy(context.Background(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: rev}})
	if err != nil {
		t.Fatalf("deploy %s: %v", rev, err)
	}
	return d
}

func TestRollbackCommand(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, r := range []string{"v2", "v3", "v4", "v5"} {
		e.deploy(t, r)
	}
	// One version back: OpsWorks's own rollback command.
	p, err := e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Options: &opsworks.DeployOptions{Command: opsworks.CommandRollback}})
	if err != nil || p.To.ID != "v4" || p.From.ID != "v5" {
		t.Fatalf("plan: %v %v", p, err)
	}
	d, err := e.eng.Execute(ctx, p)
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatalf("rollback: %v %v", d, err)
	}
	if got := e.fake.Serving("app-1"); got["v4"] != 100 {
		t.Fatalf("after rollback serving %v", got)
	}
	if last := e.fake.Calls(); !strings.Contains(strings.Join(last, ","), "CreateDeployment") {
		t.Fatal("no CreateDeployment")
	}
	h, _ := e.drv.History(ctx, e.tgt)
	if !h[0].Current || h[0].Revision.ID != "v4" {
		t.Fatalf("history after rollback: %v", h)
	}
	// Three versions back from v4: v4's predecessors that succeeded are
	// v3, v2, v1 (v5 was rolled back... and is newer).
	p, err = e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Options: &opsworks.DeployOptions{Command: opsworks.CommandRollback, Versions: 3}})
	if err != nil || p.To.ID != "v1" {
		t.Fatalf("plan 3 back: %v %v (%v)", p, err, h)
	}
	if _, err := e.eng.Execute(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := e.fake.Serving("app-1"); got["v1"] != 100 {
		t.Fatalf("after rollback 3 back serving %v", got)
	}
	// More than four back is refused before any call.
	calls := len(e.fake.Calls())
	_, err = e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Options: &opsworks.DeployOptions{Command: opsworks.CommandRollback, Versions: 5}})
	var ve *deploy.ValidationError
	if !errors.As(err, &ve) || ve.Field != "versions" || !strings.Contains(err.Error(), "five versions") {
		t.Fatalf("5 back: %v", err)
	}
	if len(e.fake.Calls()) != calls {
		t.Fatal("a refused rollback made calls")
	}
	// Further back than the history the driver knows: ErrNotFound.
	e2 := newEnv(t)
	e2.deploy(t, "v2")
	_, err = e2.eng.Plan(ctx, deploy.Request{Target: e2.tgt, Options: &opsworks.DeployOptions{Command: opsworks.CommandRollback, Versions: 2}})
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("2 back with 1 known: %v", err)
	}
}

func TestEngineRollbackAndStop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.deploy(t, "v2")
	d := e.deploy(t, "v3")
	if _, err := e.eng.Stop(ctx, d, deploy.StopOptions{Rollback: true}); !errors.Is(err, deploy.ErrUnsupported) {
		t.Fatalf("Stop: %v, want ErrUnsupported", err)
	}
	if _, ok := any(e.drv).(deploy.Stopper); ok {
		t.Fatal("the driver claims it can stop")
	}
	rb, err := e.eng.Rollback(ctx, deploy.RollbackRequest{Target: e.tgt})
	if err != nil || rb.To.ID != "v2" || rb.RollbackOf != d.ID {
		t.Fatalf("Rollback: %v %v", rb, err)
	}
	got, err := e.drv.Status(ctx, d)
	if err != nil || got.Status != deploy.StatusRolledBack || got.Percent != 0 || got.RolledBackBy != rb.ID {
		t.Fatalf("Status of the reversed deployment: %+v %v", got, err)
	}
}

func TestLockAndNoWait(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d, err := e.eng.Deploy(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "v2"}, NoWait: true})
	if err != nil || d.Status != deploy.StatusInProgress {
		t.Fatalf("NoWait: %v %v", d, err)
	}
	for _, req := range []deploy.Request{
		{Target: e.tgt, Revision: deploy.Revision{ID: "v3"}},
		{Target: opsworks.Target("stack-1", ""), Options: &opsworks.DeployOptions{Command: opsworks.CommandConfigure}},
	} {
		_, err := e.eng.Plan(ctx, req)
		if !errors.Is(err, deploy.ErrLocked) || !strings.Contains(err.Error(), d.ID) || !strings.Contains(err.Error(), "cannot stop") {
			t.Fatalf("Plan while %s runs: %v", d.ID, err)
		}
	}
	got, err := e.eng.Wait(ctx, d)
	if err != nil || got.Status != deploy.StatusSucceeded {
		t.Fatalf("Wait: %v %v", got, err)
	}
	if _, err := e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "v3"}}); err != nil {
		t.Fatalf("Plan after: %v", err)
	}
}

func TestInstancesAndLayers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d, err := e.eng.Deploy(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "v2"},
		Options: &opsworks.DeployOptions{LayerIDs: []string{"web"}}})
	if err != nil || len(d.Instances) != 2 || d.Percent != 100 {
		t.Fatalf("layer deploy: %+v %v", d, err)
	}
	if got := e.fake.Serving("app-1"); got["v2"] < 66 || got["v1"] < 33 {
		t.Fatalf("serving %v", got)
	}
	d, err = e.eng.Deploy(ctx, deploy.Request{Target: opsworks.Target("stack-1", ""),
		Options: &opsworks.DeployOptions{Command: opsworks.CommandUpdateDependencies, InstanceIDs: []string{"i-3"},
			Args: map[string][]string{"upgrade_os_to": {"Amazon Linux 2018.03"}, "allow_reboot": {"true"}}}})
	if err != nil || len(d.Instances) != 1 || d.Instances[0].ID != "i-3" || d.To.ID != "update_dependencies" || d.From != nil {
		t.Fatalf("instance command: %+v %v", d, err)
	}
}

func TestStatusOfForeignDeployment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Made without the driver: no marker in its comment.
	out, err := e.fake.CreateDeployment(ctx, &awsopsworks.CreateDeploymentInput{StackId: aws.String("stack-1"), AppId: aws.String("app-1"),
		Command: &types.DeploymentCommand{Name: types.DeploymentCommandNameRestart}, Comment: aws.String("by hand")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.eng.Wait(ctx, &deploy.Deployment{ID: aws.ToString(out.DeploymentId), Target: e.tgt})
	if err != nil || got.Status != deploy.StatusSucceeded || got.To.ID != "restart" {
		t.Fatalf("Wait: %+v %v", got, err)
	}
	h, err := e.drv.History(ctx, e.tgt)
	if err != nil || len(h) != 1 || h[0].Revision.ID != "v1" || !h[0].Current {
		t.Fatalf("History: %v %v", h, err)
	}
	if _, err := e.drv.History(ctx, opsworks.Target("stack-1", "")); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("History of a stack: %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		t          deploy.Target
		stack, app string
		bad        bool
	}{
		{opsworks.Target("s", "a"), "s", "a", false},
		{opsworks.Target("s", ""), "s", "", false},
		{deploy.Target{Name: "s/a"}, "s", "a", false},
		{deploy.Target{Name: "s"}, "s", "", false},
		{deploy.Target{Name: ""}, "", "", true},
		{deploy.Target{Name: "s/a/b"}, "", "", true},
	} {
		s, a, err := opsworks.ParseTarget(tc.t)
		if (err != nil) != tc.bad || (!tc.bad && (s != tc.stack || a != tc.app)) {
			t.Errorf("ParseTarget(%v) = %q %q %v", tc.t, s, a, err)
		}
	}
}

func TestPlanJSONHidesCustomJSON(t *testing.T) {
	e := newEnv(t)
	p, err := e.eng.Plan(context.Background(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "v2"},
		Options: &opsworks.DeployOptions{CustomJSON: `{"password":"hunter2"}`}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := jsonOf(p)
	if err != nil || strings.Contains(b, "hunter2") || strings.Contains(p.String(), "hunter2") || !strings.Contains(b, "not shown") {
		t.Fatalf("plan shows the custom JSON: %s %v", b, err)
	}
}

func TestStatusManyBatches(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.deploy(t, "v2")
	b, err := e.eng.Deploy(ctx, deploy.Request{Target: opsworks.Target("stack-1", ""), Options: &opsworks.DeployOptions{Command: opsworks.CommandConfigure}})
	if err != nil {
		t.Fatal(err)
	}
	calls := len(e.fake.Calls())
	out, err := e.drv.StatusMany(ctx, []*deploy.Deployment{b, a})
	if err != nil || out[0].ID != b.ID || out[1].ID != a.ID || out[1].Status != deploy.StatusSucceeded {
		t.Fatalf("StatusMany: %v %v", out, err)
	}
	// One DescribeDeployments for both, a DescribeCommands each, one
	// DescribeDeployments for the app's history.
	if n := len(e.fake.Calls()) - calls; n != 4 {
		t.Errorf("StatusMany made %d calls: %v", n, e.fake.Calls()[calls:])
	}
}

func TestSourceCredentialsRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "https://deployer:s3cr3t@artifacts.example.com/app-2.zip"}})
	if !errors.Is(err, deploy.ErrInvalidRequest) || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("revision with credentials: %v", err)
	}
	if _, err := e.fake.UpdateApp(ctx, &awsopsworks.UpdateAppInput{AppId: aws.String("app-1"), AppSource: &types.Source{
		Type: types.SourceTypeArchive, Url: aws.String("https://deployer:s3cr3t@artifacts.example.com/app-1.zip")}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "https://artifacts.example.com/app-2.zip"}})
	if !errors.Is(err, deploy.ErrInvalidRequest) || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "***@") {
		t.Fatalf("app source with credentials: %v", err)
	}
}

func TestNewFromConfig(t *testing.T) {
	d := opsworks.NewFromConfig(aws.Config{Region: "us-east-1"}, opsworks.Options{})
	if d.Platform() != opsworks.Platform || opsworks.Platform != "opsworks" {
		t.Fatalf("Platform() = %q", d.Platform())
	}
	if opsworks.FailedInstances(nil) != nil || opsworks.FailedInstances(&deploy.Deployment{}) != nil {
		t.Fatal("FailedInstances of a deployment without detail")
	}
	if len(opsworks.AppCommands())+len(opsworks.StackCommands()) != 12 {
		t.Fatal("not twelve commands")
	}
}
