package ec2_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// faultKinds are the fault classes of the matrix: those of the ECS and
// Lambda ones, and a lost answer (the call took effect, the caller got a
// timeout).
var faultKinds = []faultinject.Kind{faultinject.Throttle, faultinject.ServerError, faultinject.Unavailable,
	faultinject.Reset, faultinject.Timeout, faultinject.Malformed, faultinject.Lost}

// liveStatuses are the CodeDeploy statuses of a deployment that has not
// ended.
var liveStatuses = []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued,
	cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusBaking, cdtypes.DeploymentStatusReady}

// faultEnv is newEnv with the driver built by NewFromConfig over the real
// CodeDeploy client, talking to the in-memory CodeDeploy through
// codedeployserver, with every CodeDeploy call going through a fault
// injector that applies rule. The driver's debug logs are kept in logs.
func faultEnv(t *testing.T, rule faultinject.Rule, sdkRetries bool) (*env, *faultinject.Transport, *logs) {
	t.Helper()
	e := newEnv(t, 3)
	srv := codedeployserver.Start(t, e.cd)
	cfg := srv.Config()
	rule.Service = "CodeDeploy"
	ft := faultinject.New(cfg.HTTPClient, rule)
	cfg.HTTPClient = ft
	if sdkRetries {
		faultinject.SDKRetries(&cfg)
	}
	l := &logs{}
	e.drv = ec2.NewFromConfig(cfg, ec2.Options{Clock: e.clock, EC2: e.ec2, AutoScaling: e.ec2,
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

// groupDeployments lists the IDs of app/web's deployments, newest first,
// read from the fake itself (not through the driver); with live, only
// those that have not ended.
func groupDeployments(t *testing.T, cd *codedeployfake.Fake, live bool) []string {
	t.Helper()
	in := &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web")}
	if live {
		in.IncludeOnlyStatuses = liveStatuses
	}
	out, err := cd.ListDeployments(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Deployments
}

// groupRevisions reads from the fake the revision IDs app/web's
// instances run, each once, sorted.
func groupRevisions(cd *codedeployfake.Fake) []string {
	var revs []string
	for _, loc := range cd.InstanceRevisions("app", "web") {
		if id := platform.RevisionFromLocation(loc).ID; !slices.Contains(revs, id) {
			revs = append(revs, id)
		}
	}
	slices.Sort(revs)
	return revs
}

// lastSucceeded reads from the fake the revision of app/web's last
// successful deployment, as its deployment group records it.
func lastSucceeded(t *testing.T, cd *codedeployfake.Fake) string {
	t.Helper()
	out, err := cd.GetDeploymentGroup(context.Background(), &codedeploy.GetDeploymentGroupInput{
		ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	last := out.DeploymentGroupInfo.LastSuccessfulDeployment
	if last == nil {
		t.Fatal("the group records no successful deployment")
	}
	info, _ := cd.Deployment(aws.ToString(last.DeploymentId))
	return platform.RevisionFromLocation(info.Revision).ID
}

// newDeployments returns the IDs in after that are not in before.
func newDeployments(before, after []string) []string {
	var out []string
	for _, id := range after {
		if !slices.Contains(before, id) {
			out = append(out, id)
		}
	}
	return out
}

// The fault matrix: an in-place deployment (three instances, one at a
// time, rollback on failure) through the real SDK to the CodeDeploy
// endpoint, with the first read (GetDeploymentGroup, in Prepare), the
// first mutation (CreateDeployment) or the first per-instance read of a
// status poll (ListDeploymentTargets) failing in each way AWS and the
// network fail, with and without the SDK's retries (7 kinds x 3 places x
// 2 = 42 runs). Each run makes exactly the one injected fault, and ends
// Succeeded, or Failed/RolledBack (or refused before any deployment) with
// a typed error that classifies. The group read back from the fake
// afterwards is in a known state: no deployment live, every instance on
// one revision (the new one exactly when the run succeeded), which the
// group's last successful deployment deployed (so the next plan's From
// and History are right), and no deployment on it that the run does not
// account for (the one it returns, and that one's rollback). With the
// SDK's retries one retryable fault never fails the run.
func TestFaultMatrix(t *testing.T) {
	where := []struct {
		name string
		rule faultinject.Rule
		op   string // the operation the fault must hit
	}{
		{"first-read", faultinject.Rule{Calls: faultinject.Reads, Nth: []int{1}}, "GetDeploymentGroup"},
		{"first-mutation", faultinject.Rule{Calls: faultinject.Mutations, Nth: []int{1}}, "CreateDeployment"},
		{"first-poll", faultinject.Rule{Operations: []string{"ListDeploymentTargets"}, Nth: []int{1}}, "ListDeploymentTargets"},
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
					before := groupDeployments(t, e.cd, false)
					opts := e.nextS3()
					want := "s3://bucket/" + opts.S3.Key
					d, err := e.run(t, deploy.Request{Target: e.tgt, Options: opts, RollbackOn: deploy.OnFailure})

					inj := ft.Injected()
					if len(inj) != 1 || inj[0].Operation != w.op || inj[0].Fault != kind {
						t.Fatalf("injected %+v, want one %s on %s", inj, kind, w.op)
					}
					if live := groupDeployments(t, e.cd, true); len(live) > 0 {
						t.Fatalf("deployments %v left live (run: %v)", live, err)
					}
					created := newDeployments(before, groupDeployments(t, e.cd, false))
					revs := groupRevisions(e.cd)
					if len(revs) != 1 {
						t.Fatalf("the instances run %v, not one revision (run: %v)", revs, err)
					}
					if last := lastSucceeded(t, e.cd); last != revs[0] {
						t.Fatalf("the instances run %s, the group's last successful deployment %s (run: %v)", revs[0], last, err)
					}
					if err == nil {
						if d.Status != deploy.StatusSucceeded || d.To.ID != want || revs[0] != want {
							t.Fatalf("no error but %s to %s, instances on %s", d.Status, d.To.ID, revs[0])
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
					if revs[0] != initialID {
						t.Fatalf("a failed run left the instances on %s, not %s: %v", revs[0], initialID, err)
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

// CreateDeployment takes no idempotency token. When its answer is lost
// after CodeDeploy created the deployment (a malformed body, or a timeout
// after which the SDK sends it again and CodeDeploy refuses the second
// with DeploymentLimitExceededException), Start finds the deployment and
// the run follows it to the end: exactly one deployment is created and
// none is left running unseen behind an error.
func TestCreateDeploymentAnswerLost(t *testing.T) {
	for _, c := range []struct {
		kind       faultinject.Kind
		sdkRetries bool
		calls      int // CreateDeployment calls that reach CodeDeploy
	}{
		{faultinject.Malformed, false, 1},
		{faultinject.Malformed, true, 1},
		{faultinject.Lost, false, 1},
		{faultinject.Lost, true, 2},
	} {
		name := c.kind.String()
		if c.sdkRetries {
			name += "/sdk-retries"
		}
		t.Run(name, func(t *testing.T) {
			e, ft, l := faultEnv(t, faultinject.Rule{Operations: []string{"CreateDeployment"}, Nth: []int{1},
				Fault: faultinject.Fault{Kind: c.kind}}, c.sdkRetries)
			before := groupDeployments(t, e.cd, false)
			seen := len(e.cd.Calls())
			opts := e.nextS3()
			d, err := e.run(t, deploy.Request{Target: e.tgt, Options: opts, RollbackOn: deploy.OnFailure})
			if err != nil || d.Status != deploy.StatusSucceeded {
				t.Fatalf("deploy after a lost CreateDeployment answer: %v (%v)", err, d)
			}
			created := newDeployments(before, groupDeployments(t, e.cd, false))
			if len(created) != 1 || created[0] != d.ID {
				t.Fatalf("deployments created %v, the run followed %s", created, d.ID)
			}
			if revs := groupRevisions(e.cd); len(revs) != 1 || revs[0] != "s3://bucket/"+opts.S3.Key {
				t.Fatalf("instances on %v", revs)
			}
			if len(ft.Injected()) != 1 {
				t.Fatalf("injected %+v", ft.Injected())
			}
			reached := 0
			for _, call := range e.cd.Calls()[seen:] {
				if call.Op == "CreateDeployment" {
					reached++
				}
			}
			if reached != c.calls {
				t.Fatalf("%d CreateDeployment calls reached CodeDeploy, want %d", reached, c.calls)
			}
			if !strings.Contains(l.String(), "CreateDeployment failed but created the deployment\" id="+d.ID) {
				t.Fatalf("the driver does not say it found %s:\n%s", d.ID, l)
			}
		})
	}
}

// A deployment someone else started between Start's check and its
// CreateDeployment call is not taken for the run's own: CodeDeploy refuses
// the call (DeploymentLimitExceededException), the live deployment
// deploys another revision, and Start fails with an error wrapping
// deploy.ErrLocked that names it.
func TestCreateDeploymentRefusedForAnotherDeployment(t *testing.T) {
	e := newEnv(t, 3)
	srv := codedeployserver.Start(t, e.cd)
	cfg := srv.Config()
	next := cfg.HTTPClient
	var other string
	cfg.HTTPClient = doerFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("X-Amz-Target") == codedeployserver.TargetPrefix+"CreateDeployment" && other == "" {
			out, err := e.cd.CreateDeployment(r.Context(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"),
				DeploymentGroupName: aws.String("web"), Revision: s3Loc("someone-else.zip")})
			if err != nil {
				return nil, err
			}
			other = aws.ToString(out.DeploymentId)
		}
		return next.Do(r)
	})
	faultinject.SDKRetries(&cfg)
	e.drv = ec2.NewFromConfig(cfg, ec2.Options{Clock: e.clock, EC2: e.ec2, AutoScaling: e.ec2})
	e.eng = deploy.New(e.drv, deploy.Options{Clock: e.clock})
	d, err := e.run(t, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	var busy *cdtypes.DeploymentLimitExceededException
	if d != nil || !errors.Is(err, deploy.ErrLocked) || !errors.As(err, &busy) || other == "" || !strings.Contains(err.Error(), other) {
		t.Fatalf("deploy while %s runs: %v, %v; want ErrLocked naming it", other, d, err)
	}
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }
