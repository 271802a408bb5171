package lambda_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/bufclient"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
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

// lostCDEnv is the CodeDeploy-managed driver over the in-memory Lambda
// (function "app", versions 1 to 3, alias "live" on 1) and the real SDK
// CodeDeploy client, which talks to the in-memory CodeDeploy (group
// app/app-live) through codedeployserver, every call going through a
// fault injector first.
type lostCDEnv struct {
	lf     *lambdafake.Client
	fake   *codedeployfake.Fake
	glue   *cdGlue
	ft     *faultinject.Transport
	eng    *deploy.Engine
	events *eventLog
	logs   *syncBuffer
	tgt    deploy.Target
}

// newLostCDEnv builds the environment with rule applied to CodeDeploy
// calls; wrap, when set, wraps the HTTP client under the injector.
func newLostCDEnv(t *testing.T, rule faultinject.Rule, sdkRetries bool, wrap func(aws.HTTPClient) aws.HTTPClient) *lostCDEnv {
	t.Helper()
	clk := deploytest.NewAutoClock(time.Time{})
	lf := lambdafake.New()
	lf.AddFunction("app", 3)
	lf.AddAlias("app", "live", "1", nil)
	fake := codedeployfake.New(codedeployfake.Options{Clock: clk})
	seed, err := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "2", TargetVersion: "1"}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	fake.AddGroup(codedeployfake.Group{Application: "app", Name: "app-live", ComputePlatform: cdtypes.ComputePlatformLambda,
		Targets: []string{"app:live"},
		Current: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(seed), Sha256: aws.String(lambda.Sha256(seed))}}})
	glue := newCDGlue(fake, fakePointer(lf), true)
	srv := httptest.NewServer(codedeployserver.Handler(glue))
	t.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	cfg := bufclient.Config(srv.URL, codedeployserver.Region, tr)
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
	drv := lambda.NewCodeDeploy(lf, codedeploy.NewFromConfig(cfg), lambda.CodeDeployOptions{
		Options:               lambda.Options{Clock: clk, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))},
		CodeDeployApplication: "app", CodeDeployDeploymentGroup: "app-live"})
	events := &eventLog{}
	t.Cleanup(func() {
		if err := glue.Err(); err != nil {
			t.Errorf("moving the alias as CodeDeploy: %v", err)
		}
	})
	return &lostCDEnv{lf: lf, fake: fake, glue: glue, ft: ft, events: events, logs: logs, tgt: lambda.Target("app", "live"),
		eng: deploy.New(drv, deploy.Options{Clock: clk, OnEvent: events.add})}
}

// deployments lists app/app-live's deployment IDs, read from the fake.
func (e *lostCDEnv) deployments(t *testing.T) []string {
	t.Helper()
	out, err := e.fake.ListDeployments(context.Background(), &codedeploy.ListDeploymentsInput{
		ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("app-live")})
	if err != nil {
		t.Fatal(err)
	}
	return out.Deployments
}

// reached counts the CreateDeployment calls that reached CodeDeploy.
func (e *lostCDEnv) reached() int {
	n := 0
	for _, c := range e.fake.Calls() {
		if c.Op == "CreateDeployment" {
			n++
		}
	}
	return n
}

// notes returns the note events of the run, whichever deployment they name.
func (e *lostCDEnv) notes() []string {
	e.events.mu.Lock()
	defer e.events.mu.Unlock()
	var out []string
	for _, ev := range e.events.ev {
		if ev.Kind == deploy.EventNote {
			out = append(out, ev.Message)
		}
	}
	return out
}

// CreateDeployment takes no idempotency token. When its answer is lost
// after CodeDeploy created the deployment (an unreadable body, or a
// timeout after which the SDK sends it again and CodeDeploy refuses the
// second with DeploymentLimitExceededException), Start finds the
// deployment and the run follows it to its end: exactly one deployment is
// created, the alias ends on the new version, and none is left running
// unseen behind an error. When the call never reached CodeDeploy (a 500
// before it), Start fails, saying the outcome was unknown and that the
// group has no such deployment.
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
			e := newLostCDEnv(t, faultinject.Rule{Operations: []string{"CreateDeployment"}, Nth: []int{1},
				Fault: faultinject.Fault{Kind: c.kind}}, c.sdkRetries, nil)
			d, err := e.eng.Deploy(context.Background(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "3"},
				RollbackOn: deploy.OnFailure})
			if n := len(e.ft.Injected()); n != 1 {
				t.Fatalf("injected %d faults, want 1: %+v", n, e.ft.Injected())
			}
			if n := e.reached(); n != c.reached {
				t.Errorf("%d CreateDeployment calls reached CodeDeploy, want %d", n, c.reached)
			}
			created := e.deployments(t)
			if !c.followed {
				if d != nil || err == nil || !strings.Contains(err.Error(), "the outcome is unknown") ||
					!strings.Contains(err.Error(), "app/app-live has no live deployment") {
					t.Fatalf("deploy after a CreateDeployment that never arrived: %v, %v; want an error saying the outcome was unknown and what the read showed", d, err)
				}
				if len(created) != 0 {
					t.Fatalf("deployments %v, want none", created)
				}
				return
			}
			if err != nil || d == nil || d.Status != deploy.StatusSucceeded {
				t.Fatalf("deploy after a lost CreateDeployment answer: %v (%v)", err, d)
			}
			if len(created) != 1 || created[0] != d.ID {
				t.Fatalf("deployments created %v, the run followed %s", created, d.ID)
			}
			if v, w := e.lf.Alias("app", "live"); v != "3" || len(w) != 0 {
				t.Errorf("alias on %s %v, want 3 alone", v, w)
			}
			if !slices.ContainsFunc(e.notes(), func(n string) bool {
				return strings.Contains(n, "CodeDeploy created deployment "+d.ID+": following it")
			}) {
				t.Errorf("no note says %s is followed: %q", d.ID, e.notes())
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
	e := newLostCDEnv(t, faultinject.Rule{}, true, func(next aws.HTTPClient) aws.HTTPClient {
		return doerFunc(func(r *http.Request) (*http.Response, error) {
			if r.Header.Get("X-Amz-Target") == codedeployserver.TargetPrefix+"CreateDeployment" && other == "" {
				spec, err := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "1", TargetVersion: "2"}.JSON()
				if err != nil {
					return nil, err
				}
				out, err := fake.CreateDeployment(r.Context(), lambda.CreateDeploymentInput("app", "app-live", "", spec, 0, nil, false))
				if err != nil {
					return nil, err
				}
				other = aws.ToString(out.DeploymentId)
			}
			return next.Do(r)
		})
	})
	fake = e.fake
	d, err := e.eng.Deploy(context.Background(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "3"}})
	var busy *cdtypes.DeploymentLimitExceededException
	if d != nil || !errors.Is(err, deploy.ErrLocked) || !errors.As(err, &busy) || other == "" || !strings.Contains(err.Error(), other) {
		t.Fatalf("deploy while %s runs: %v, %v; want ErrLocked naming it", other, d, err)
	}
	if ids := e.deployments(t); len(ids) != 1 || ids[0] != other {
		t.Fatalf("deployments %v, want only %s", ids, other)
	}
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }
