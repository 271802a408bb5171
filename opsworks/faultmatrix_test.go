package opsworks_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/opsworksserver"
	"github.com/switchyard/switchyard/opsworks"
	"github.com/switchyard/switchyard/opsworks/opsworksfake"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// faultKinds are the fault classes of the matrix: those of the ECS and
// Lambda ones, and a lost answer (the call took effect, the caller got a
// timeout).
var faultKinds = []faultinject.Kind{faultinject.Throttle, faultinject.ServerError, faultinject.Unavailable,
	faultinject.Reset, faultinject.Timeout, faultinject.Malformed, faultinject.Lost}

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
		faultinject.SDKRetries(&cfg)
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

// lastDeployed reads from the fake the revision the newest successful
// deploy of app-1 names in its comment's marker ("to=REV"), or "" when
// there is none.
func lastDeployed(t *testing.T, f *opsworksfake.Fake) string {
	t.Helper()
	out, err := f.DescribeDeployments(context.Background(), &awsopsworks.DescribeDeploymentsInput{AppId: aws.String("app-1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Deployments { // newest first
		if aws.ToString(d.Status) != "successful" || d.Command == nil || d.Command.Name != "deploy" {
			continue
		}
		for _, field := range strings.Fields(strings.TrimSuffix(aws.ToString(d.Comment), "]")) {
			if rev, ok := strings.CutPrefix(field, "to="); ok {
				return rev
			}
		}
	}
	return ""
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

// The fault matrix: a deploy of revision v2 of app-1 (UpdateApp, then
// CreateDeployment on the stack's three instances, rollback on failure)
// through the real SDK to the OpsWorks endpoint, with the first read
// (DescribeApps, in Prepare), the first mutation (UpdateApp),
// CreateDeployment or the first command read of a status poll
// (DescribeCommands) failing in each way AWS and the network fail, with
// and without the SDK's retries (7 kinds x 4 places x 2 = 56 runs). Each
// run makes exactly the one injected fault and ends Succeeded, or failed
// with a typed error that classifies. The stack read back from the fake
// afterwards is in a known state: no deployment running, every instance
// on one revision of the app, the app's source naming it (v2 exactly
// when the run succeeded, v1 otherwise, so an instance OpsWorks sets up
// later gets what the others run) and so does the newest successful
// deploy's marker (what History reads), and no deployment the run does not
// account for. With the SDK's retries one retryable fault never fails the
// run.
func TestFaultMatrix(t *testing.T) {
	where := []struct {
		name string
		rule faultinject.Rule
		op   string // the operation the fault must hit
	}{
		{"first-read", faultinject.Rule{Calls: faultinject.Reads, Nth: []int{1}}, "DescribeApps"},
		{"first-mutation", faultinject.Rule{Calls: faultinject.Mutations, Nth: []int{1}}, "UpdateApp"},
		{"create", faultinject.Rule{Operations: []string{"CreateDeployment"}, Nth: []int{1}}, "CreateDeployment"},
		{"first-poll", faultinject.Rule{Operations: []string{"DescribeCommands"}, Nth: []int{1}}, "DescribeCommands"},
	}
	for _, sdkRetries := range []bool{false, true} {
		for _, w := range where {
			for _, kind := range faultKinds {
				name := w.name + "/" + kind.String()
				if sdkRetries {
					name = "sdk-retries/" + name
				}
				t.Run(name, func(t *testing.T) {
					rule := w.rule
					rule.Fault = faultinject.Fault{Kind: kind}
					e, ft, _ := faultEnv(t, rule, sdkRetries)
					before, _ := stackDeployments(t, e.fake)
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					d, err := e.eng.Deploy(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "v2"},
						RollbackOn: deploy.OnFailure})

					inj := ft.Injected()
					if len(inj) != 1 || inj[0].Operation != w.op || inj[0].Fault != kind {
						t.Fatalf("injected %+v, want one %s on %s", inj, kind, w.op)
					}
					all, running := stackDeployments(t, e.fake)
					if len(running) > 0 {
						t.Fatalf("deployments %v left running (run: %v)", running, err)
					}
					var created []string
					for _, id := range all {
						if !slices.Contains(before, id) {
							created = append(created, id)
						}
					}
					serving := e.fake.Serving("app-1")
					revs := slices.Sorted(maps.Keys(serving))
					source := e.fake.AppRevision("app-1")
					if len(revs) != 1 || revs[0] != source {
						t.Fatalf("the instances run %v, the app's source names %s (run: %v)", serving, source, err)
					}
					if last := lastDeployed(t, e.fake); last != source && (last != "" || source != "v1") {
						t.Fatalf("the app runs %s, its last successful deploy deployed %q (run: %v)", source, last, err)
					}
					if err == nil {
						if d.Status != deploy.StatusSucceeded || d.To.ID != "v2" || source != "v2" {
							t.Fatalf("no error but %s to %s, app on %s", d.Status, d.To.ID, source)
						}
						if len(created) != 1 || created[0] != d.ID {
							t.Fatalf("deployments created %v, want only %s", created, d.ID)
						}
						return
					}
					var de *deploy.Error
					if !errors.As(err, &de) {
						t.Fatalf("untyped error %T: %v", err, err)
					}
					if kind == faultinject.Throttle && !errors.Is(err, deploy.ErrThrottled) {
						t.Fatalf("a throttle does not wrap deploy.ErrThrottled: %v", err)
					}
					if sdkRetries && kind != faultinject.Malformed {
						t.Fatalf("one retryable fault failed the run although the SDK retries: %v", err)
					}
					if source != "v1" {
						t.Fatalf("a failed run left the app on %s, not v1: %v", source, err)
					}
					var accounted []string
					if d != nil {
						if d.Status != deploy.StatusFailed && d.Status != deploy.StatusRolledBack {
							t.Fatalf("ended %s: %v", d.Status, err)
						}
						accounted = []string{d.ID, d.RolledBackBy}
					}
					for _, id := range created {
						if !slices.Contains(accounted, id) {
							t.Fatalf("deployment %s was created, but the run (%v, %v) does not account for it", id, d, err)
						}
					}
					t.Logf("%s: %v", platform.Classify(err), err)
				})
			}
		}
	}
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
