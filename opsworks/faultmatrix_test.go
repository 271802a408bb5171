package opsworks_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/opsworksserver"
	"github.com/switchyard/switchyard/opsworks"
	"github.com/switchyard/switchyard/opsworks/opsworksfake"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// withSDKRetries gives cfg production's SDK retries (the standard
// retryer's three attempts) without the backoff's wall-clock waits.
func withSDKRetries(cfg *aws.Config) {
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
}

// faultEnv is newEnv with the driver built by NewFromConfig over the real
// OpsWorks client, talking to the in-memory OpsWorks through
// opsworksserver, with every OpsWorks call going through a fault injector
// that applies rule. The driver's debug logs are kept in logs.
func faultEnv(t *testing.T, rule faultinject.Rule, sdkRetries bool) (*env, *faultinject.Transport, *logs) {
	t.Helper()
	e := newEnv(t)
	srv := opsworksserver.Start(t, e.fake)
	cfg := srv.Config()
	rule.Service = "OpsWorks"
	ft := faultinject.New(cfg.HTTPClient, rule)
	cfg.HTTPClient = ft
	if sdkRetries {
		withSDKRetries(&cfg)
	}
	l := &logs{}
	e.drv = opsworks.NewFromConfig(cfg, opsworks.Options{Clock: e.clock,
		Logger: slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	e.eng = deploy.New(e.drv, deploy.Options{Clock: e.clock})
	return e, ft, l
}

// logs keeps what a driver logs.
type logs struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// stackDeployments reads stack-1's deployments from the fake itself (not
// through the driver): every ID, newest first, and those still running.
func stackDeployments(t *testing.T, f *opsworksfake.Fake) (ids, running []string) {
	t.Helper()
	out, err := f.DescribeDeployments(context.Background(), &awsopsworks.DescribeDeploymentsInput{StackId: aws.String("stack-1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Deployments {
		ids = append(ids, aws.ToString(d.DeploymentId))
		if aws.ToString(d.Status) == "running" {
			running = append(running, aws.ToString(d.DeploymentId))
		}
	}
	return ids, running
}

// CreateDeployment takes no idempotency token, and OpsWorks runs a second
// deployment for a second call. When the answer is lost after OpsWorks
// created the deployment (a malformed body; a timeout, which the SDK does
// not retry for this call), Start finds the deployment among the stack's
// and the run follows it: exactly one deployment, the app's source left on
// the revision it deploys. A call that created nothing (a reset) is sent
// again when the SDK's retryer allows it.
func TestCreateDeploymentAnswerLost(t *testing.T) {
	for _, c := range []struct {
		kind       faultinject.Kind
		sdkRetries bool
		sent       int // CreateDeployment calls sent
		found      bool
	}{
		{faultinject.Malformed, false, 1, true},
		{faultinject.Malformed, true, 1, true},
		{faultinject.Lost, false, 1, true},
		{faultinject.Lost, true, 1, true},
		{faultinject.Reset, true, 2, false},
		{faultinject.Throttle, true, 2, false},
	} {
		name := c.kind.String()
		if c.sdkRetries {
			name += "/sdk-retries"
		}
		t.Run(name, func(t *testing.T) {
			e, ft, l := faultEnv(t, faultinject.Rule{Operations: []string{"CreateDeployment"}, Nth: []int{1},
				Fault: faultinject.Fault{Kind: c.kind}}, c.sdkRetries)
			d, err := e.eng.Deploy(context.Background(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "v2"}})
			if err != nil || d.Status != deploy.StatusSucceeded {
				t.Fatalf("deploy after a %s CreateDeployment: %v (%v)", c.kind, err, d)
			}
			all, _ := stackDeployments(t, e.fake)
			if len(all) != 1 || all[0] != d.ID {
				t.Fatalf("deployments %v, the run followed %s", all, d.ID)
			}
			if got := e.fake.Serving("app-1"); got["v2"] != 100 || e.fake.AppRevision("app-1") != "v2" {
				t.Fatalf("serving %v, app source %s", got, e.fake.AppRevision("app-1"))
			}
			sent := 0
			for _, call := range ft.Calls() {
				if call.Operation == "CreateDeployment" {
					sent++
				}
			}
			if sent != c.sent || len(ft.Injected()) != 1 {
				t.Fatalf("%d CreateDeployment calls sent (want %d), faults %+v", sent, c.sent, ft.Injected())
			}
			if found := strings.Contains(l.String(), "CreateDeployment failed but created the deployment\" id="+d.ID); found != c.found {
				t.Fatalf("the driver says it found %s: %v, want %v:\n%s", d.ID, found, c.found, l)
			}
		})
	}
}

// foreignCreate is an OpsWorks whose CreateDeployment fails with a server
// error after someone else created a deployment on the stack.
type foreignCreate struct{ *opsworksfake.Fake }

func (f foreignCreate) CreateDeployment(ctx context.Context, in *awsopsworks.CreateDeploymentInput, o ...func(*awsopsworks.Options)) (*awsopsworks.CreateDeploymentOutput, error) {
	if _, err := f.Fake.CreateDeployment(ctx, &awsopsworks.CreateDeploymentInput{StackId: in.StackId, AppId: in.AppId,
		Command: in.Command, Comment: aws.String("someone else's")}, o...); err != nil {
		return nil, err
	}
	return nil, &smithy.GenericAPIError{Code: "InternalFailure", Message: "injected", Fault: smithy.FaultServer}
}

// A deployment that someone else created while Start's CreateDeployment
// failed is not taken for the run's own: Start fails with the call's error,
// typed, and puts the app's source back.
func TestCreateDeploymentFailedBesideAnotherDeployment(t *testing.T) {
	e := newEnv(t)
	e.drv = opsworks.New(foreignCreate{e.fake}, opsworks.Options{Clock: e.clock})
	e.eng = deploy.New(e.drv, deploy.Options{Clock: e.clock})
	d, err := e.eng.Deploy(context.Background(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "v2"}})
	var de *deploy.Error
	if d != nil || !errors.As(err, &de) || platform.Classify(err) != platform.ClassRetryable {
		t.Fatalf("deploy: %v, %v; want a retryable start error", d, err)
	}
	if all, _ := stackDeployments(t, e.fake); len(all) != 1 {
		t.Fatalf("deployments %v", all)
	}
	if got := e.fake.AppRevision("app-1"); got != "v1" {
		t.Fatalf("app source left on %s", got)
	}
}
