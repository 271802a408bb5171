package codedeployserver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// These tests drive the real aws-sdk-go-v2 CodeDeploy client, through the
// server's awsJson1.1 endpoint, against the in-memory fake, with the
// platform tracker on top: what moto_server cannot show (its CodeDeploy
// deployments never leave Created).

const step = time.Second

type wire struct {
	clock  *deploytest.Clock
	fake   *codedeployfake.Fake
	server *codedeployserver.Server
	client *codedeploy.Client
	cd     *platform.CodeDeploy
}

func newWire(t *testing.T, pageSize int, groups ...codedeployfake.Group) *wire {
	t.Helper()
	clk := deploytest.NewClock(time.Time{})
	f := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: step, PageSize: pageSize})
	for _, g := range groups {
		f.AddGroup(g)
	}
	s := codedeployserver.Start(t, f)
	c := s.Client()
	return &wire{clock: clk, fake: f, server: s, client: c,
		cd: platform.NewCodeDeploy(c, platform.CodeDeployOptions{Clock: clk, Platform: "wire"})}
}

func (w *wire) status(t *testing.T, id string) *platform.DeploymentState {
	t.Helper()
	s, err := w.cd.Status(context.Background(), id)
	if err != nil {
		t.Fatalf("Status(%s): %v", id, err)
	}
	return s
}

func appspec(v string) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
		AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String("version: 0.0 # " + v)}}
}

func s3rev(key string) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
		S3Location: &cdtypes.S3Location{Bucket: aws.String("bucket"), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip}}
}

func input(app, group string, rev *cdtypes.RevisionLocation, config string) *codedeploy.CreateDeploymentInput {
	in := &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group), Revision: rev}
	if config != "" {
		in.DeploymentConfigName = aws.String(config)
	}
	return in
}

func lifecycle(in deploy.Instance) string {
	var out []string
	for _, e := range in.Lifecycle {
		out = append(out, e.Name+"="+e.Status)
	}
	return strings.Join(out, ",")
}

func TestWireLambdaCanary(t *testing.T) {
	w := newWire(t, 0, codedeployfake.Group{Application: "app", Name: "fn", ComputePlatform: cdtypes.ComputePlatformLambda,
		Targets: []string{"checkout:live"}, Current: appspec("v6")})
	ctx := context.Background()
	t0 := w.clock.Now()
	in := input("app", "fn", appspec("v7"), "CodeDeployDefault.LambdaCanary10Percent5Minutes")
	in.Description = aws.String("canary of v7")
	id, err := w.cd.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	// The fake received what the client sent, decoded from the wire.
	calls := w.fake.Calls()
	got := calls[0].Input.(*codedeploy.CreateDeploymentInput)
	if aws.ToString(got.Revision.AppSpecContent.Content) != "version: 0.0 # v7" ||
		aws.ToString(got.DeploymentConfigName) != "CodeDeployDefault.LambdaCanary10Percent5Minutes" ||
		aws.ToString(got.Description) != "canary of v7" {
		t.Fatalf("CreateDeployment input on the server: %+v", got)
	}

	s := w.status(t, id)
	if s.Status != deploy.StatusCreated || s.Percent != 0 || !s.CreatedAt.Equal(t0) {
		t.Fatalf("at creation: %s %v%% created %v, want Created 0%% at %v", s.Status, s.Percent, s.CreatedAt, t0)
	}
	steps := []struct {
		after   time.Duration
		status  deploy.Status
		percent float64
		running string
	}{
		{step, deploy.StatusInProgress, 0, "BeforeAllowTraffic"},
		{step, deploy.StatusInProgress, 10, "AllowTraffic"},
		{4 * time.Minute, deploy.StatusInProgress, 10, "AllowTraffic"},
		{time.Minute, deploy.StatusInProgress, 100, "AllowTraffic"},
		{step, deploy.StatusInProgress, 100, "AfterAllowTraffic"},
		{step, deploy.StatusSucceeded, 100, ""},
	}
	last := 0.0
	for i, st := range steps {
		w.clock.Advance(st.after)
		s = w.status(t, id)
		if s.Status != st.status || s.Percent != st.percent {
			t.Fatalf("poll %d: %s %v%%, want %s %v%%", i, s.Status, s.Percent, st.status, st.percent)
		}
		if s.Percent < last {
			t.Fatalf("poll %d: traffic fell from %v%% to %v%%", i, last, s.Percent)
		}
		last = s.Percent
		if len(s.Instances) != 1 || s.Instances[0].ID != "checkout:live" {
			t.Fatalf("poll %d: instances %+v", i, s.Instances)
		}
		running := ""
		for _, ev := range s.Instances[0].Lifecycle {
			if ev.Status == "InProgress" {
				running = ev.Name
			}
		}
		if running != st.running {
			t.Fatalf("poll %d: running %q, want %q", i, running, st.running)
		}
	}
	if got := lifecycle(s.Instances[0]); got != "BeforeAllowTraffic=Succeeded,AllowTraffic=Succeeded,AfterAllowTraffic=Succeeded" {
		t.Fatalf("lifecycle %s", got)
	}
	// Timestamps crossed the wire as epoch seconds and came back exact.
	ev := s.Instances[0].Lifecycle[1]
	if want := t0.Add(2 * step); !ev.Start.Equal(want) {
		t.Fatalf("AllowTraffic started %v, want %v", ev.Start, want)
	}
	if want := t0.Add(3*step + 5*time.Minute); !ev.End.Equal(want) {
		t.Fatalf("AllowTraffic ended %v, want %v", ev.End, want)
	}
	if want := w.clock.Now(); !s.EndedAt.Equal(want) {
		t.Fatalf("EndedAt %v, want %v", s.EndedAt, want)
	}
	if s.PreviousRevision == nil || s.PreviousRevision.ID != platform.RevisionFromLocation(appspec("v6")).ID ||
		s.Revision.ID != platform.RevisionFromLocation(appspec("v7")).ID {
		t.Fatalf("revisions %+v <- %+v", s.Revision, s.PreviousRevision)
	}
	if s.Info.DeploymentOverview == nil || s.Info.DeploymentOverview.Succeeded != 1 {
		t.Fatalf("overview %+v", s.Info.DeploymentOverview)
	}
	if w.fake.Mutations() != 1 {
		t.Fatalf("mutations = %d, want 1", w.fake.Mutations())
	}
	ops := map[string]bool{}
	for _, c := range w.fake.Calls() {
		ops[c.Op] = true
	}
	for _, op := range []string{"GetDeployment", "ListDeploymentTargets", "BatchGetDeploymentTargets"} {
		if !ops[op] {
			t.Fatalf("no %s call reached the fake: %v", op, ops)
		}
	}
}

func TestWireFailingHookRollsBack(t *testing.T) {
	w := newWire(t, 0, codedeployfake.Group{Application: "app", Name: "fn", ComputePlatform: cdtypes.ComputePlatformLambda,
		Targets: []string{"checkout:live"}, Current: appspec("v6"),
		AutoRollback: &cdtypes.AutoRollbackConfiguration{Enabled: true,
			Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}}})
	ctx := context.Background()
	w.fake.FailNext("AfterAllowTraffic", "")
	id, err := w.cd.Create(ctx, input("app", "fn", appspec("v7"), "CodeDeployDefault.LambdaAllAtOnce"))
	if err != nil {
		t.Fatal(err)
	}
	var s *platform.DeploymentState
	sawRollingBack := false
	for i := 0; i < 30; i++ {
		w.clock.Advance(step)
		s = w.status(t, id)
		if s.Status == deploy.StatusSucceeded {
			t.Fatalf("poll %d: a rolled-back deployment reported Succeeded", i)
		}
		if s.RolledBackBy != "" && !s.Terminal() {
			sawRollingBack = true
			if s.Status != deploy.StatusInProgress || !strings.Contains(s.Reason, "rolling back") {
				t.Fatalf("poll %d, rolling back: %s %q", i, s.Status, s.Reason)
			}
		}
		if s.Terminal() {
			break
		}
	}
	if s.Status != deploy.StatusRolledBack || s.RolledBackBy == "" || !sawRollingBack {
		t.Fatalf("final %s by %q (saw rollback running: %v), want RolledBack", s.Status, s.RolledBackBy, sawRollingBack)
	}
	if s.CodeDeployStatus != cdtypes.DeploymentStatusFailed || s.Percent != 0 {
		t.Fatalf("CodeDeploy status %s, percent %v", s.CodeDeployStatus, s.Percent)
	}
	for _, want := range []string{"HOOK_EXECUTION_FAILURE", "AfterAllowTraffic failed", "rolled back by " + s.RolledBackBy} {
		if !strings.Contains(s.Reason, want) {
			t.Fatalf("reason %q lacks %q", s.Reason, want)
		}
	}
	if got := lifecycle(s.Instances[0]); got != "BeforeAllowTraffic=Succeeded,AllowTraffic=Succeeded,AfterAllowTraffic=Failed" {
		t.Fatalf("lifecycle %s", got)
	}
	if ev := s.Instances[0].Lifecycle[2]; !strings.Contains(ev.Message, "ScriptFailed") {
		t.Fatalf("AfterAllowTraffic message %q", ev.Message)
	}
	rb := w.status(t, s.RolledBackBy)
	if rb.Status != deploy.StatusSucceeded || rb.RollbackOf != id ||
		rb.Revision.ID != platform.RevisionFromLocation(appspec("v6")).ID || rb.Info.Creator != cdtypes.DeploymentCreatorCodeDeployRollback {
		t.Fatalf("rollback deployment: %s of %q revision %+v creator %s", rb.Status, rb.RollbackOf, rb.Revision, rb.Info.Creator)
	}
	d := s.Apply(nil)
	if d.Status != deploy.StatusRolledBack || d.RolledBackBy != s.RolledBackBy {
		t.Fatalf("Apply: %s by %q", d.Status, d.RolledBackBy)
	}
}

func TestWireStop(t *testing.T) {
	group := codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2"}, Current: s3rev("v1.zip")}
	ctx := context.Background()
	start := func(t *testing.T, w *wire) string {
		t.Helper()
		id, err := w.cd.Create(ctx, input("app", "web", s3rev("v2.zip"), ""))
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(2 * step)
		return id
	}

	t.Run("pending then succeeded", func(t *testing.T) {
		w := newWire(t, 0, group)
		id := start(t, w)
		w.fake.StopPending(1)
		if out, err := w.cd.Stop(ctx, id, false); err != nil || out != deploy.StopPending {
			t.Fatalf("Stop = %q, %v; want pending", out, err)
		}
		if s := w.status(t, id); s.Terminal() {
			t.Fatalf("a pending stop is already %s", s.Status)
		}
		if out, err := w.cd.Stop(ctx, id, false); err != nil || out != deploy.StopPending {
			t.Fatalf("Stop again before the event ends = %q, %v; want pending", out, err)
		}
		w.clock.Advance(step)
		if out, err := w.cd.Stop(ctx, id, false); err != nil || out != deploy.StopSucceeded {
			t.Fatalf("Stop after the event ended = %q, %v; want succeeded", out, err)
		}
		s := w.status(t, id)
		if s.Status != deploy.StatusStopped || !strings.Contains(s.Reason, "MANUAL_STOP") {
			t.Fatalf("after stop: %s %q", s.Status, s.Reason)
		}
		var sent []*codedeploy.StopDeploymentInput
		for _, c := range w.fake.Calls() {
			if c.Op == "StopDeployment" {
				sent = append(sent, c.Input.(*codedeploy.StopDeploymentInput))
			}
		}
		if len(sent) != 3 || sent[0].AutoRollbackEnabled == nil || *sent[0].AutoRollbackEnabled {
			t.Fatalf("StopDeployment inputs on the server: %+v, want 3 with autoRollbackEnabled=false", sent)
		}
	})

	t.Run("refused", func(t *testing.T) {
		w := newWire(t, 0, group)
		id := start(t, w)
		w.fake.RefuseStop(&cdtypes.UnsupportedActionForDeploymentTypeException{Message: aws.String("cannot stop this one")})
		out, err := w.cd.Stop(ctx, id, true)
		if out != "" || !errors.Is(err, deploy.ErrCannotStop) {
			t.Fatalf("Stop = %q, %v; want an error wrapping ErrCannotStop", out, err)
		}
		var sdkErr *cdtypes.UnsupportedActionForDeploymentTypeException
		if !errors.As(err, &sdkErr) || sdkErr.ErrorMessage() != "cannot stop this one" {
			t.Fatalf("errors.As(%v) does not reach the SDK exception", err)
		}
		var de *deploy.Error
		if !errors.As(err, &de) || de.Op != "StopDeployment" || de.DeploymentID != id || de.Platform != "wire" {
			t.Fatalf("deploy.Error %+v", de)
		}
		if s := w.status(t, id); s.Terminal() {
			t.Fatalf("a refused stop ended the deployment: %s", s.Status)
		}
	})

	t.Run("already succeeded", func(t *testing.T) {
		w := newWire(t, 0, group)
		id := start(t, w)
		w.clock.Advance(time.Minute)
		if s := w.status(t, id); s.Status != deploy.StatusSucceeded {
			t.Fatalf("status %s, want succeeded", s.Status)
		}
		_, err := w.cd.Stop(ctx, id, false)
		var done *cdtypes.DeploymentAlreadyCompletedException
		if !errors.Is(err, deploy.ErrCannotStop) || !errors.As(err, &done) {
			t.Fatalf("Stop of a succeeded deployment = %v, want ErrCannotStop wrapping DeploymentAlreadyCompletedException", err)
		}
	})
}

func TestWireContinueReady(t *testing.T) {
	w := newWire(t, 0, codedeployfake.Group{Application: "app", Name: "svc", ComputePlatform: cdtypes.ComputePlatformEcs,
		Targets: []string{"prod:web"}, ReadyBefore: "AllowTraffic"})
	ctx := context.Background()
	id, err := w.cd.Create(ctx, input("app", "svc", appspec("td:8"), "CodeDeployDefault.ECSAllAtOnce"))
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * step)
	err = w.cd.Continue(ctx, id)
	var notReady *cdtypes.DeploymentIsNotInReadyStateException
	if !errors.Is(err, deploy.ErrInvalidRequest) || !errors.As(err, &notReady) {
		t.Fatalf("Continue before Ready = %v, want ErrInvalidRequest wrapping DeploymentIsNotInReadyStateException", err)
	}
	var s *platform.DeploymentState
	for i := 0; i < 20; i++ {
		w.clock.Advance(step)
		if s = w.status(t, id); s.Status == deploy.StatusReady {
			break
		}
	}
	if s.Status != deploy.StatusReady || s.Percent != 0 {
		t.Fatalf("status %s %v%%, want Ready at 0%%", s.Status, s.Percent)
	}
	if s.Instances[0].Status != deploy.StatusReady {
		t.Fatalf("target %+v, want Ready", s.Instances[0])
	}
	// Ready waits for ContinueDeployment however long it takes.
	w.clock.Advance(time.Hour)
	if s = w.status(t, id); s.Status != deploy.StatusReady {
		t.Fatalf("after an hour: %s, want still Ready", s.Status)
	}
	if err := w.cd.Continue(ctx, id); err != nil {
		t.Fatalf("Continue: %v", err)
	}
	var cont *codedeploy.ContinueDeploymentInput
	for _, c := range w.fake.Calls() {
		if c.Op == "ContinueDeployment" {
			cont = c.Input.(*codedeploy.ContinueDeploymentInput)
		}
	}
	if cont.DeploymentWaitType != cdtypes.DeploymentWaitTypeReadyWait {
		t.Fatalf("ContinueDeployment wait type on the server %q", cont.DeploymentWaitType)
	}
	for i := 0; i < 20 && !s.Terminal(); i++ {
		w.clock.Advance(step)
		s = w.status(t, id)
	}
	if s.Status != deploy.StatusSucceeded || s.Percent != 100 {
		t.Fatalf("after Continue: %s %v%%, want Succeeded 100%%", s.Status, s.Percent)
	}
	if got := len(s.Instances[0].Lifecycle); got != len(codedeployfake.ECSEvents()) {
		t.Fatalf("%d lifecycle events, want %d", got, len(codedeployfake.ECSEvents()))
	}
	err = w.cd.Continue(ctx, id)
	var done *cdtypes.DeploymentAlreadyCompletedException
	if !errors.Is(err, deploy.ErrInvalidRequest) || !errors.As(err, &done) {
		t.Fatalf("Continue after success = %v", err)
	}
}

func TestWireLimitExceededAndNotFound(t *testing.T) {
	w := newWire(t, 0, codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1"}})
	ctx := context.Background()
	first, err := w.cd.Create(ctx, input("app", "web", s3rev("v2.zip"), ""))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.cd.Create(ctx, input("app", "web", s3rev("v3.zip"), ""))
	var limit *cdtypes.DeploymentLimitExceededException
	if !errors.Is(err, deploy.ErrLocked) || !errors.As(err, &limit) || !strings.Contains(limit.ErrorMessage(), first) {
		t.Fatalf("second Create = %v, want ErrLocked wrapping DeploymentLimitExceededException naming %s", err, first)
	}
	if platform.Classify(err) != platform.ClassConflict {
		t.Fatalf("Classify = %v", platform.Classify(err))
	}
	// Once the first ends, the group takes a new deployment.
	w.clock.Advance(time.Minute)
	if _, err := w.cd.Create(ctx, input("app", "web", s3rev("v3.zip"), "")); err != nil {
		t.Fatalf("Create after the first ended: %v", err)
	}

	_, err = w.cd.Create(ctx, input("app", "nope", s3rev("v3.zip"), ""))
	var noGroup *cdtypes.DeploymentGroupDoesNotExistException
	if !errors.Is(err, deploy.ErrNotFound) || !errors.As(err, &noGroup) {
		t.Fatalf("Create on a missing group = %v", err)
	}
	_, err = w.cd.Status(ctx, "d-404")
	var noDep *cdtypes.DeploymentDoesNotExistException
	if !errors.Is(err, deploy.ErrNotFound) || !errors.As(err, &noDep) {
		t.Fatalf("Status of a missing deployment = %v", err)
	}
}

func TestWireHistory(t *testing.T) {
	// Page size 2 makes History follow ListDeployments' NextToken over the
	// wire.
	w := newWire(t, 2, codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2"},
		Current: s3rev("v1.zip"),
		AutoRollback: &cdtypes.AutoRollbackConfiguration{Enabled: true,
			Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}}})
	ctx := context.Background()
	deployRev := func(key string, fail bool) string {
		t.Helper()
		if fail {
			w.fake.FailNext("Install", "i-2")
		}
		id, err := w.cd.Create(ctx, input("app", "web", s3rev(key), ""))
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute) // ends it, and any rollback
		return id
	}
	v2 := deployRev("v2.zip", false)
	v3 := deployRev("v3.zip", true)
	v4 := deployRev("v4.zip", false)
	rb := w.status(t, v3).RolledBackBy
	if rb == "" {
		t.Fatal("v3 was not rolled back")
	}
	h, err := w.cd.History(ctx, "app", "web")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, label string
		status    deploy.Status
		current   bool
	}
	want := []row{
		{v4, "v4.zip", deploy.StatusSucceeded, true},
		{rb, "v2.zip", deploy.StatusSucceeded, false},
		{v3, "v3.zip", deploy.StatusRolledBack, false},
		{v2, "v2.zip", deploy.StatusSucceeded, false},
	}
	if len(h) != len(want) {
		t.Fatalf("history has %d entries, want %d: %+v", len(h), len(want), h)
	}
	for i, e := range h {
		g := row{e.DeploymentID, e.Revision.Label, e.Status, e.Current}
		if g != want[i] {
			t.Fatalf("entry %d = %+v, want %+v", i, g, want[i])
		}
		if i > 0 && e.At.After(h[i-1].At) {
			t.Fatalf("entry %d at %v is newer than entry %d at %v", i, e.At, i-1, h[i-1].At)
		}
	}
	lists := 0
	for _, c := range w.fake.Calls() {
		if c.Op == "ListDeployments" {
			lists++
		}
	}
	if lists != 2 {
		t.Fatalf("%d ListDeployments calls, want 2 pages", lists)
	}
	_, err = w.cd.History(ctx, "app", "nope")
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("History of a missing group = %v", err)
	}
}

// TestWireManyPolls polls a 60-target deployment a few hundred times (five
// calls a poll, some answers 20 KB) through the client Server.Client
// makes. Without bufclient.Client about one call in a few hundred failed
// with "use of closed network connection" (see its doc comment).
func TestWireManyPolls(t *testing.T) {
	targets := make([]string, 60)
	for i := range targets {
		targets[i] = "i-" + strings.Repeat("0", 10) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	w := newWire(t, 0, codedeployfake.Group{Application: "app", Name: "fleet", Targets: targets})
	id, err := w.cd.Create(context.Background(), input("app", "fleet", s3rev("v2.zip"), ""))
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * step)
	polls := 300
	if testing.Short() {
		polls = 50
	}
	for i := 0; i < polls; i++ {
		s := w.status(t, id)
		if len(s.Instances) != 60 || s.Status != deploy.StatusInProgress {
			t.Fatalf("poll %d: %s with %d instances", i, s.Status, len(s.Instances))
		}
	}
}

// TestWireTransientErrors proves injected throttling and server faults
// reach the tracker's caller as retryable errors, and that the next call
// goes through.
func TestWireTransientErrors(t *testing.T) {
	w := newWire(t, 0, codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1"}})
	ctx := context.Background()
	id, err := w.cd.Create(ctx, input("app", "web", s3rev("v2.zip"), ""))
	if err != nil {
		t.Fatal(err)
	}
	w.fake.InjectError("GetDeployment", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})
	_, err = w.cd.Status(ctx, id)
	if platform.Classify(err) != platform.ClassThrottling || !platform.IsRetryable(err) {
		t.Fatalf("throttled Status = %v (%v), want retryable throttling", err, platform.Classify(err))
	}
	w.fake.InjectError("ListDeploymentTargets", &smithy.GenericAPIError{Code: "InternalFailure", Message: "oops", Fault: smithy.FaultServer})
	w.clock.Advance(step)
	_, err = w.cd.Status(ctx, id)
	var re interface{ HTTPStatusCode() int }
	if !platform.IsRetryable(err) || !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Fatalf("server fault = %v, want a retryable HTTP 500", err)
	}
	if s := w.status(t, id); s.Status != deploy.StatusInProgress {
		t.Fatalf("after the faults: %s", s.Status)
	}
}
