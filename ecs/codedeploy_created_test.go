package ecs

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ecs/ecsfake"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/platform/codedeployfake"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// syncBuffer keeps what a driver logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// lostBGEnv is CODE_DEPLOY service prod/bg (on bg:1) in the ECS fake, and
// its deployment group AppECS-prod-bg/DgpECS-prod-bg in the in-memory
// CodeDeploy, which the driver reaches with the real SDK client through
// codedeployserver, every call going through a fault injector first.
type lostBGEnv struct {
	fake  *codedeployfake.Fake
	ft    *faultinject.Transport
	eng   *deploy.Engine
	notes *[]string
	mu    *sync.Mutex
	logs  *syncBuffer
}

// newLostBGEnv builds the environment with rule applied to CodeDeploy
// calls; wrap, when set, wraps the HTTP client under the injector.
func newLostBGEnv(t *testing.T, rule faultinject.Rule, sdkRetries bool, wrap func(aws.HTTPClient) aws.HTTPClient) *lostBGEnv {
	t.Helper()
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	ef := ecsfake.New(ecsfake.Options{Clock: clk})
	td := ef.SeedTaskDefinition(taskDef("bg", "bg:1"))
	ef.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("bg"), TaskDefinition: aws.String(td),
		DesiredCount: aws.Int32(2), DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy},
		LoadBalancers: []types.LoadBalancer{{ContainerName: aws.String("app"), ContainerPort: aws.Int32(80),
			TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1")}}})
	fake := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: 30 * time.Second})
	fake.AddGroup(codedeployfake.Group{Application: "AppECS-prod-bg", Name: "DgpECS-prod-bg", ComputePlatform: cdtypes.ComputePlatformEcs,
		Targets: []string{"prod:bg"}, Current: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(`{"version":0.0,"Resources":[]}`)}}})
	srv := codedeployserver.Start(t, fake)
	cfg := srv.Config()
	if wrap != nil {
		cfg.HTTPClient = wrap(cfg.HTTPClient)
	}
	rule.Service = "CodeDeploy"
	ft := faultinject.New(cfg.HTTPClient, rule)
	cfg.HTTPClient = ft
	if sdkRetries {
		faultinject.SDKRetries(&cfg)
	}
	logs := &syncBuffer{}
	drv := New(ef, Options{AutoScaling: ef, CodeDeploy: codedeploy.NewFromConfig(cfg), Clock: clk,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	e := &lostBGEnv{fake: fake, ft: ft, logs: logs, notes: new([]string), mu: new(sync.Mutex)}
	e.eng = deploy.New(drv, deploy.Options{Clock: clk, OnEvent: func(ev deploy.Event) {
		if ev.Kind == deploy.EventNote {
			e.mu.Lock()
			*e.notes = append(*e.notes, ev.Message)
			e.mu.Unlock()
		}
	}})
	return e
}

func (e *lostBGEnv) deploy() (*deploy.Deployment, error) {
	return e.eng.Deploy(context.Background(), deploy.Request{Target: Target("prod", "bg"), RollbackOn: deploy.OnFailure,
		Options: DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2"),
			CodeDeployApplication: "AppECS-prod-bg", CodeDeployDeploymentGroup: "DgpECS-prod-bg"}})
}

// deployments lists the group's deployment IDs, read from the fake.
func (e *lostBGEnv) deployments(t *testing.T) []string {
	t.Helper()
	out, err := e.fake.ListDeployments(context.Background(), &codedeploy.ListDeploymentsInput{
		ApplicationName: aws.String("AppECS-prod-bg"), DeploymentGroupName: aws.String("DgpECS-prod-bg")})
	if err != nil {
		t.Fatal(err)
	}
	return out.Deployments
}

// reached counts the CreateDeployment calls that reached CodeDeploy.
func (e *lostBGEnv) reached() int {
	n := 0
	for _, c := range e.fake.Calls() {
		if c.Op == "CreateDeployment" {
			n++
		}
	}
	return n
}

// CreateDeployment takes no idempotency token. When its answer is lost
// after CodeDeploy created the blue/green deployment (an unreadable body,
// or a timeout after which the SDK sends it again and CodeDeploy refuses
// the second with DeploymentLimitExceededException), Start finds the
// deployment and the run follows it to its end: exactly one deployment is
// created, and none is left running unseen behind an error. When the call
// never reached CodeDeploy (a 500 before it), Start fails, saying the
// outcome was unknown and that the group has no such deployment.
func TestCodeDeployCreateDeploymentAnswerLost(t *testing.T) {
	for _, c := range []struct {
		kind       faultinject.Kind
		sdkRetries bool
		reached    int  // CreateDeployment calls that reach CodeDeploy
		followed   bool // the run follows the deployment to its end
	}{
		{faultinject.Malformed, false, 1, true},
		{faultinject.Malformed, true, 1, true},
		{faultinject.Lost, false, 1, true},
		{faultinject.Lost, true, 2, true},
		{faultinject.ServerError, false, 0, false},
	} {
		name := c.kind.String()
		if c.sdkRetries {
			name += "/sdk-retries"
		}
		t.Run(name, func(t *testing.T) {
			e := newLostBGEnv(t, faultinject.Rule{Operations: []string{"CreateDeployment"}, Nth: []int{1},
				Fault: faultinject.Fault{Kind: c.kind}}, c.sdkRetries, nil)
			d, err := e.deploy()
			if n := len(e.ft.Injected()); n != 1 {
				t.Fatalf("injected %d faults, want 1: %+v", n, e.ft.Injected())
			}
			if n := e.reached(); n != c.reached {
				t.Errorf("%d CreateDeployment calls reached CodeDeploy, want %d", n, c.reached)
			}
			created := e.deployments(t)
			if !c.followed {
				if d != nil || err == nil || !strings.Contains(err.Error(), "the outcome is unknown") ||
					!strings.Contains(err.Error(), "AppECS-prod-bg/DgpECS-prod-bg has no live deployment") {
					t.Fatalf("deploy after a CreateDeployment that never arrived: %v, %v; want an error saying the outcome was unknown and what the read showed", d, err)
				}
				if len(created) != 0 {
					t.Fatalf("deployments %v, want none", created)
				}
				return
			}
			if err != nil || d == nil || d.Status != deploy.StatusSucceeded || !strings.HasSuffix(d.To.ID, "bg:2") {
				t.Fatalf("deploy after a lost CreateDeployment answer: %v (%+v)", err, d)
			}
			if len(created) != 1 || created[0] != d.ID {
				t.Fatalf("deployments created %v, the run followed %s", created, d.ID)
			}
			e.mu.Lock()
			notes := append([]string(nil), *e.notes...)
			e.mu.Unlock()
			if !slices.ContainsFunc(notes, func(n string) bool {
				return strings.Contains(n, "CodeDeploy created deployment "+d.ID+": following it")
			}) {
				t.Errorf("no note says %s is followed: %q", d.ID, notes)
			}
			if !strings.Contains(e.logs.String(), "CreateDeployment failed but created the deployment\" id="+d.ID) {
				t.Errorf("the driver does not log that it found %s:\n%s", d.ID, e.logs)
			}
		})
	}
}

// A deployment someone else started between Start's check and its
// CreateDeployment call is not taken for the run's own: CodeDeploy refuses
// the call (DeploymentLimitExceededException), the live deployment
// deploys another AppSpec, and Start fails with an error wrapping
// deploy.ErrLocked that names it.
func TestCodeDeployCreateDeploymentRefusedForAnotherDeployment(t *testing.T) {
	var fake *codedeployfake.Fake
	var other string
	e := newLostBGEnv(t, faultinject.Rule{}, true, func(next aws.HTTPClient) aws.HTTPClient {
		return doerFunc(func(r *http.Request) (*http.Response, error) {
			if r.Header.Get("X-Amz-Target") == codedeployserver.TargetPrefix+"CreateDeployment" && other == "" {
				out, err := fake.CreateDeployment(r.Context(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("AppECS-prod-bg"),
					DeploymentGroupName: aws.String("DgpECS-prod-bg"), Revision: &cdtypes.RevisionLocation{
						RevisionType:   cdtypes.RevisionLocationTypeAppSpecContent,
						AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(`{"version":0.0,"Resources":[{"someone":"else"}]}`)}}})
				if err != nil {
					return nil, err
				}
				other = aws.ToString(out.DeploymentId)
			}
			return next.Do(r)
		})
	})
	fake = e.fake
	d, err := e.deploy()
	var busy *cdtypes.DeploymentLimitExceededException
	if d != nil || !errors.Is(err, deploy.ErrLocked) || !errors.As(err, &busy) || other == "" || !strings.Contains(err.Error(), other) {
		t.Fatalf("deploy while %s runs: %v, %v; want ErrLocked naming it", other, d, err)
	}
	if ids := e.deployments(t); len(ids) != 1 || ids[0] != other {
		t.Fatalf("deployments %v, want only %s", ids, other)
	}
}

// Start refuses, before any change, a deployment while the group runs one
// that another deployer started after the plan was made, so that a
// deployment CreatedAnyway finds is always the call's own.
func TestCodeDeployStartRefusesLiveGroup(t *testing.T) {
	b := newBGFleet(t, 1, nil)
	p, err := b.drv.Prepare(context.Background(), bgRequest(0, deploy.AllAtOnce(), 0))
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.cd.CreateDeployment(context.Background(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("AppECS-prod-bg000"),
		DeploymentGroupName: aws.String("DgpECS-prod-bg000"), Revision: &cdtypes.RevisionLocation{
			RevisionType:   cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(`{"version":0.0,"Resources":[{"someone":"else"}]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	b.ecs.ResetCalls()
	mut := b.cd.Mutations()
	d, err := b.drv.Start(context.Background(), p)
	if d != nil || !errors.Is(err, deploy.ErrLocked) || !strings.Contains(err.Error(), aws.ToString(out.DeploymentId)) {
		t.Fatalf("Start while %s runs: %v, %v; want ErrLocked naming it", aws.ToString(out.DeploymentId), d, err)
	}
	if n := b.ecs.Mutations(); n != 0 || b.cd.Mutations() != mut {
		t.Fatalf("a refused Start made %d ECS and %d CodeDeploy mutating calls, want none", n, b.cd.Mutations()-mut)
	}
}
