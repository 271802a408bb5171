package platform_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// testClock is a manual deploy.Clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *testClock {
	return &testClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now().Add(d)
	return ch
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const step = time.Second

type env struct {
	clock *testClock
	fake  *codedeployfake.Fake
	cd    *platform.CodeDeploy
}

func newEnv(t *testing.T, groups ...codedeployfake.Group) *env {
	t.Helper()
	clk := newClock()
	f := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: step})
	for _, g := range groups {
		f.AddGroup(g)
	}
	return &env{clock: clk, fake: f, cd: platform.NewCodeDeploy(f, platform.CodeDeployOptions{Clock: clk, Platform: "test"})}
}

func s3rev(key string) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
		S3Location: &cdtypes.S3Location{Bucket: aws.String("bucket"), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip}}
}

func appspec(v string) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
		AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String("version: 0.0 # " + v)}}
}

func input(app, group string, rev *cdtypes.RevisionLocation, config string) *codedeploy.CreateDeploymentInput {
	in := &codedeploy.CreateDeploymentInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group), Revision: rev}
	if config != "" {
		in.DeploymentConfigName = aws.String(config)
	}
	return in
}

func rollbackOn(events ...cdtypes.AutoRollbackEvent) *cdtypes.AutoRollbackConfiguration {
	return &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: events}
}

// poller polls Status and checks the message contract on every poll: IDs
// unique within a poll, and every ID seen before still there with the same
// text.
type poller struct {
	t    *testing.T
	e    *env
	seen map[string]string
}

func (p *poller) status(id string) *platform.DeploymentState {
	p.t.Helper()
	s, err := p.e.cd.Status(context.Background(), id)
	if err != nil {
		p.t.Fatalf("Status(%s): %v", id, err)
	}
	ids := map[string]bool{}
	for i, m := range s.Messages {
		if ids[m.ID] {
			p.t.Fatalf("message ID %q twice in one poll", m.ID)
		}
		ids[m.ID] = true
		if i > 0 && m.At.Before(s.Messages[i-1].At) {
			p.t.Fatalf("messages out of order: %v", s.Messages)
		}
		if old, ok := p.seen[m.ID]; ok && old != m.Text {
			p.t.Fatalf("message %q changed text: %q -> %q", m.ID, old, m.Text)
		}
		p.seen[m.ID] = m.Text
	}
	for id := range p.seen {
		if !ids[id] && !strings.HasPrefix(id, "rollback") {
			p.t.Fatalf("message %q disappeared", id)
		}
	}
	return s
}

func newPoller(t *testing.T, e *env) *poller { return &poller{t: t, e: e, seen: map[string]string{}} }

func TestCodeDeployLambdaCanary(t *testing.T) {
	e := newEnv(t, codedeployfake.Group{Application: "app", Name: "fn", ComputePlatform: cdtypes.ComputePlatformLambda,
		Targets: []string{"checkout:live"}})
	ctx := context.Background()
	id, err := e.cd.Create(ctx, input("app", "fn", appspec("v7"), "CodeDeployDefault.LambdaCanary10Percent5Minutes"))
	if err != nil {
		t.Fatal(err)
	}
	p := newPoller(t, e)
	s := p.status(id)
	if s.Status != deploy.StatusCreated || s.Percent != 0 || len(s.Instances) != 0 {
		t.Fatalf("at creation: %s %v%% %d instances", s.Status, s.Percent, len(s.Instances))
	}
	for _, c := range e.fake.Calls() {
		if c.Op == "ListDeploymentTargets" {
			t.Fatal("Status listed targets of a Created deployment")
		}
	}
	type want struct {
		after   time.Duration
		status  deploy.Status
		percent float64
		running string
	}
	steps := []want{
		{step, deploy.StatusInProgress, 0, "BeforeAllowTraffic"},
		{step, deploy.StatusInProgress, 10, "AllowTraffic"},
		{4 * time.Minute, deploy.StatusInProgress, 10, "AllowTraffic"},
		{time.Minute, deploy.StatusInProgress, 100, "AllowTraffic"},
		{step, deploy.StatusInProgress, 100, "AfterAllowTraffic"},
		{step, deploy.StatusSucceeded, 100, ""},
	}
	for i, w := range steps {
		e.clock.Advance(w.after)
		s = p.status(id)
		if s.Status != w.status || s.Percent != w.percent {
			t.Fatalf("step %d: %s %v%%, want %s %v%%", i, s.Status, s.Percent, w.status, w.percent)
		}
		if len(s.Instances) != 1 || s.Instances[0].ID != "checkout:live" {
			t.Fatalf("step %d: instances %+v", i, s.Instances)
		}
		running := ""
		for _, ev := range s.Instances[0].Lifecycle {
			if ev.Status == "InProgress" {
				running = ev.Name
			}
		}
		if running != w.running {
			t.Fatalf("step %d: running %q, want %q", i, running, w.running)
		}
	}
	var names []string
	for _, ev := range s.Instances[0].Lifecycle {
		names = append(names, ev.Name+"="+ev.Status)
		if ev.Start.IsZero() || ev.End.IsZero() {
			t.Fatalf("event %s without times", ev.Name)
		}
	}
	if got := strings.Join(names, ","); got != "BeforeAllowTraffic=Succeeded,AllowTraffic=Succeeded,AfterAllowTraffic=Succeeded" {
		t.Fatalf("lifecycle %s", got)
	}
	if s.EndedAt.IsZero() || s.CreatedAt.IsZero() || !s.EndedAt.After(s.CreatedAt) || s.Reason != "" {
		t.Fatalf("times/reason: %+v", s)
	}
	for _, id := range []string{"checkout:live/BeforeAllowTraffic/InProgress", "checkout:live/AllowTraffic/Succeeded",
		"checkout:live/AfterAllowTraffic/Succeeded"} {
		if _, ok := p.seen[id]; !ok {
			t.Fatalf("no message %q in %v", id, p.seen)
		}
	}
	if !strings.HasPrefix(s.Revision.ID, "appspec:") {
		t.Fatalf("revision %+v", s.Revision)
	}
	if e.fake.Mutations() != 1 {
		t.Fatalf("mutations = %d, want 1 (CreateDeployment)", e.fake.Mutations())
	}
}

func TestCodeDeployApply(t *testing.T) {
	e := newEnv(t, codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1"}, Current: s3rev("v1.zip")})
	ctx := context.Background()
	id, err := e.cd.Create(ctx, input("app", "web", s3rev("v2.zip"), ""))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * step)
	s, err := e.cd.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	d := s.Apply(nil)
	if d.ID != id || d.Status != deploy.StatusSucceeded || d.Percent != 100 || d.To.Label != "v2.zip" ||
		d.From == nil || d.From.Label != "v1.zip" || len(d.Instances) != 1 || len(d.Messages) == 0 {
		t.Fatalf("Apply(nil) = %+v", d)
	}
	mine := &deploy.Deployment{ID: "old", Target: deploy.Target{Name: "app/web"}, To: deploy.Revision{ID: "mine"},
		Strategy: deploy.AllAtOnce(), Detail: "x", Step: 2}
	got := s.Apply(mine)
	if got.Target.Name != "app/web" || got.To.ID != "mine" || got.Detail != "x" || got.Step != 2 || got.ID != id ||
		got.Status != deploy.StatusSucceeded || got.From == nil {
		t.Fatalf("Apply(d) = %+v", got)
	}
	if mine.Status != "" || mine.ID != "old" {
		t.Fatal("Apply changed its argument")
	}
}

func TestCodeDeployServerFailureRollsBack(t *testing.T) {
	tests := []struct {
		name       string
		group      codedeployfake.Group
		failRB     bool
		wantFinal  deploy.Status
		wantReason []string
		wantRB     bool
	}{
		{
			name: "rollback succeeds",
			group: codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2", "i-3"},
				Current: s3rev("v1.zip"), AutoRollback: rollbackOn(cdtypes.AutoRollbackEventDeploymentFailure)},
			wantFinal: deploy.StatusRolledBack, wantReason: []string{"HEALTH_CONSTRAINTS", "rolled back by"}, wantRB: true,
		},
		{
			name: "rollback fails",
			group: codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2", "i-3"},
				Current: s3rev("v1.zip"), AutoRollback: rollbackOn(cdtypes.AutoRollbackEventDeploymentFailure)},
			failRB: true, wantFinal: deploy.StatusFailed, wantReason: []string{"HEALTH_CONSTRAINTS", "rollback deployment", "failed"}, wantRB: true,
		},
		{
			name:      "no rollback configured",
			group:     codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2", "i-3"}, Current: s3rev("v1.zip")},
			wantFinal: deploy.StatusFailed, wantReason: []string{"HEALTH_CONSTRAINTS", "Install failed on i-2"},
		},
		{
			name: "nothing to roll back to",
			group: codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2", "i-3"},
				AutoRollback: rollbackOn(cdtypes.AutoRollbackEventDeploymentFailure)},
			wantFinal: deploy.StatusFailed, wantReason: []string{"HEALTH_CONSTRAINTS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.group)
			ctx := context.Background()
			e.fake.FailNext("Install", "i-2")
			id, err := e.cd.Create(ctx, input("app", "web", s3rev("v2.zip"), "CodeDeployDefault.AllAtOnce"))
			if err != nil {
				t.Fatal(err)
			}
			p := newPoller(t, e)
			var s *platform.DeploymentState
			seenFailedEarly := false
			for i := 0; i < 40; i++ {
				e.clock.Advance(step)
				s = p.status(id)
				if s.Status == deploy.StatusSucceeded {
					t.Fatalf("poll %d: a failed deployment reported Succeeded", i)
				}
				if s.RolledBackBy != "" && tt.failRB {
					e.fake.Fail(s.RolledBackBy, "BeforeInstall", "")
				}
				if s.RolledBackBy != "" && !s.Terminal() {
					seenFailedEarly = true
					if s.Status != deploy.StatusInProgress || !strings.Contains(s.Reason, "rolling back") {
						t.Fatalf("while rolling back: %s %q", s.Status, s.Reason)
					}
				}
				if s.Terminal() {
					break
				}
			}
			if s.Status != tt.wantFinal {
				t.Fatalf("final status %s (%s), want %s", s.Status, s.Reason, tt.wantFinal)
			}
			if tt.wantRB != (s.RolledBackBy != "") || (tt.wantRB && !seenFailedEarly) {
				t.Fatalf("RolledBackBy %q, want rollback %v (seen live %v)", s.RolledBackBy, tt.wantRB, seenFailedEarly)
			}
			for _, r := range tt.wantReason {
				if !strings.Contains(s.Reason, r) {
					t.Fatalf("reason %q lacks %q", s.Reason, r)
				}
			}
			// Instance lifecycles: i-2 failed at Install, the rest skipped.
			var i2 *deploy.Instance
			for i := range s.Instances {
				if s.Instances[i].ID == "i-2" {
					i2 = &s.Instances[i]
				}
			}
			if i2 == nil || i2.Status != deploy.StatusFailed {
				t.Fatalf("i-2: %+v", i2)
			}
			var got []string
			for _, ev := range i2.Lifecycle {
				got = append(got, ev.Name+"="+ev.Status)
			}
			want := "ApplicationStop=Succeeded,DownloadBundle=Succeeded,BeforeInstall=Succeeded,Install=Failed," +
				"AfterInstall=Skipped,ApplicationStart=Skipped,ValidateService=Skipped"
			if strings.Join(got, ",") != want {
				t.Fatalf("i-2 lifecycle %s", strings.Join(got, ","))
			}
			if msg := p.seen["i-2/Install/Failed"]; !strings.Contains(msg, "ScriptFailed") {
				t.Fatalf("failure message %q", msg)
			}
			if s.RolledBackBy != "" {
				rb, err := e.cd.Status(ctx, s.RolledBackBy)
				if err != nil {
					t.Fatal(err)
				}
				if rb.RollbackOf != id || rb.Revision.Label != "v1.zip" {
					t.Fatalf("rollback deployment: of %q revision %+v", rb.RollbackOf, rb.Revision)
				}
				if _, ok := p.seen["rollback/"+s.RolledBackBy]; !ok {
					t.Fatalf("no rollback message in %v", p.seen)
				}
			}
		})
	}
}

func TestCodeDeployStop(t *testing.T) {
	group := codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2"}, Current: s3rev("v1.zip")}
	ctx := context.Background()
	start := func(t *testing.T, e *env) string {
		t.Helper()
		id, err := e.cd.Create(ctx, input("app", "web", s3rev("v2.zip"), ""))
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * step) // InProgress, second event running
		return id
	}
	t.Run("stops", func(t *testing.T) {
		e := newEnv(t, group)
		id := start(t, e)
		out, err := e.cd.Stop(ctx, id, false)
		if err != nil || out != deploy.StopSucceeded {
			t.Fatalf("Stop = %v, %v", out, err)
		}
		s, _ := e.cd.Status(ctx, id)
		if s.Status != deploy.StatusStopped || !strings.Contains(s.Reason, "MANUAL_STOP") {
			t.Fatalf("after stop: %s %q", s.Status, s.Reason)
		}
		out, err = e.cd.Stop(ctx, id, false)
		if err != nil || out != deploy.StopSucceeded {
			t.Fatalf("second Stop = %v, %v; want StopSucceeded", out, err)
		}
		var in *codedeploy.StopDeploymentInput
		for _, c := range e.fake.Calls() {
			if c.Op == "StopDeployment" {
				in = c.Input.(*codedeploy.StopDeploymentInput)
				if !c.Mutating {
					t.Fatal("StopDeployment not recorded as mutating")
				}
			}
		}
		if in == nil || in.AutoRollbackEnabled == nil || *in.AutoRollbackEnabled {
			t.Fatalf("StopDeployment input %+v, want autoRollbackEnabled=false", in)
		}
	})
	t.Run("stops with rollback", func(t *testing.T) {
		e := newEnv(t, group)
		id := start(t, e)
		if out, err := e.cd.Stop(ctx, id, true); err != nil || out != deploy.StopSucceeded {
			t.Fatalf("Stop = %v, %v", out, err)
		}
		s, _ := e.cd.Status(ctx, id)
		if s.Status != deploy.StatusInProgress || s.RolledBackBy == "" {
			t.Fatalf("rolling back: %s by %q", s.Status, s.RolledBackBy)
		}
		e.clock.Advance(20 * step)
		s, _ = e.cd.Status(ctx, id)
		if s.Status != deploy.StatusRolledBack || s.Percent != 0 {
			t.Fatalf("after rollback: %s %v%%", s.Status, s.Percent)
		}
	})
	t.Run("pending then succeeded", func(t *testing.T) {
		e := newEnv(t, group)
		id := start(t, e)
		e.fake.StopPending(1)
		if out, err := e.cd.Stop(ctx, id, false); err != nil || out != deploy.StopPending {
			t.Fatalf("Stop = %v, %v; want StopPending", out, err)
		}
		if out, err := e.cd.Stop(ctx, id, false); err != nil || out != deploy.StopPending {
			t.Fatalf("Stop again before the event ends = %v, %v; want StopPending", out, err)
		}
		s, _ := e.cd.Status(ctx, id)
		if s.Terminal() {
			t.Fatalf("pending stop already terminal: %s", s.Status)
		}
		e.clock.Advance(step)
		s, _ = e.cd.Status(ctx, id)
		if s.Status != deploy.StatusStopped {
			t.Fatalf("after the running event: %s", s.Status)
		}
		if out, err := e.cd.Stop(ctx, id, false); err != nil || out != deploy.StopSucceeded {
			t.Fatalf("Stop after pending = %v, %v; want StopSucceeded", out, err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		e := newEnv(t, group)
		id := start(t, e)
		e.fake.RefuseStop(&cdtypes.UnsupportedActionForDeploymentTypeException{Message: aws.String("no")})
		_, err := e.cd.Stop(ctx, id, false)
		var sdk *cdtypes.UnsupportedActionForDeploymentTypeException
		var de *deploy.Error
		if !errors.Is(err, deploy.ErrCannotStop) || !errors.As(err, &sdk) || !errors.As(err, &de) || de.DeploymentID != id {
			t.Fatalf("Stop = %v, want ErrCannotStop wrapping the SDK error", err)
		}
	})
	t.Run("already succeeded", func(t *testing.T) {
		e := newEnv(t, group)
		id := start(t, e)
		e.clock.Advance(time.Minute)
		_, err := e.cd.Stop(ctx, id, false)
		var sdk *cdtypes.DeploymentAlreadyCompletedException
		if !errors.Is(err, deploy.ErrCannotStop) || !errors.As(err, &sdk) || !strings.Contains(err.Error(), "Succeeded") {
			t.Fatalf("Stop = %v, want ErrCannotStop", err)
		}
	})
	t.Run("throttled is not a refusal", func(t *testing.T) {
		e := newEnv(t, group)
		id := start(t, e)
		e.fake.InjectError("StopDeployment", &cdtypes.ThrottlingException{Message: aws.String("slow down")})
		_, err := e.cd.Stop(ctx, id, false)
		if err == nil || errors.Is(err, deploy.ErrCannotStop) || !platform.IsRetryable(err) {
			t.Fatalf("Stop = %v, want a retryable error", err)
		}
	})
	t.Run("unknown and empty", func(t *testing.T) {
		e := newEnv(t, group)
		if _, err := e.cd.Stop(ctx, "d-nope", false); !errors.Is(err, deploy.ErrNotFound) {
			t.Fatalf("Stop(unknown) = %v", err)
		}
		if _, err := e.cd.Stop(ctx, "", false); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Fatalf("Stop(\"\") = %v", err)
		}
	})
}

func TestCodeDeployAlarmStopRollsBack(t *testing.T) {
	e := newEnv(t, codedeployfake.Group{Application: "app", Name: "fn", ComputePlatform: cdtypes.ComputePlatformLambda,
		Targets: []string{"checkout:live"}, Current: appspec("v6"),
		AutoRollback: rollbackOn(cdtypes.AutoRollbackEventDeploymentStopOnAlarm)})
	ctx := context.Background()
	id, err := e.cd.Create(ctx, input("app", "fn", appspec("v7"), "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2*step + 90*time.Second)
	s, _ := e.cd.Status(ctx, id)
	if s.Percent != 20 {
		t.Fatalf("linear after 90s: %v%%, want 20", s.Percent)
	}
	e.fake.TriggerAlarm(id, "checkout-errors")
	for i := 0; i < 10 && !s.Terminal(); i++ {
		e.clock.Advance(step)
		s, _ = e.cd.Status(ctx, id)
	}
	if s.Status != deploy.StatusRolledBack || !strings.Contains(s.Reason, "ALARM_ACTIVE") || !strings.Contains(s.Reason, "checkout-errors") {
		t.Fatalf("after alarm: %s %q", s.Status, s.Reason)
	}
}

func TestCodeDeployContinue(t *testing.T) {
	e := newEnv(t, codedeployfake.Group{Application: "app", Name: "svc", ComputePlatform: cdtypes.ComputePlatformEcs,
		Targets: []string{"prod:web"}, ReadyBefore: "BeforeAllowTraffic"})
	ctx := context.Background()
	id, err := e.cd.Create(ctx, input("app", "svc", appspec("td:8"), ""))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(step)
	if err := e.cd.Continue(ctx, id); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("Continue while InProgress = %v, want ErrInvalidRequest", err)
	}
	var sdk *cdtypes.DeploymentIsNotInReadyStateException
	if err := e.cd.Continue(ctx, id); !errors.As(err, &sdk) {
		t.Fatalf("Continue error does not reach the SDK error: %v", err)
	}
	e.clock.Advance(10 * step)
	s, _ := e.cd.Status(ctx, id)
	if s.Status != deploy.StatusReady || s.Percent != 0 || s.Instances[0].Status != deploy.StatusReady {
		t.Fatalf("waiting: %s %v%% %+v", s.Status, s.Percent, s.Instances)
	}
	e.clock.Advance(time.Hour)
	if s, _ = e.cd.Status(ctx, id); s.Status != deploy.StatusReady {
		t.Fatalf("Ready must wait for Continue, got %s", s.Status)
	}
	if err := e.cd.Continue(ctx, id); err != nil {
		t.Fatalf("Continue: %v", err)
	}
	for _, c := range e.fake.Calls() {
		if in, ok := c.Input.(*codedeploy.ContinueDeploymentInput); ok && in.DeploymentWaitType != cdtypes.DeploymentWaitTypeReadyWait {
			t.Fatalf("ContinueDeployment wait type %q", in.DeploymentWaitType)
		}
	}
	e.clock.Advance(2 * step)
	s, _ = e.cd.Status(ctx, id)
	if s.Status != deploy.StatusInProgress || s.Percent != 100 {
		t.Fatalf("after AllowTraffic: %s %v%%", s.Status, s.Percent)
	}
	e.clock.Advance(step)
	if s, _ = e.cd.Status(ctx, id); s.Status != deploy.StatusSucceeded {
		t.Fatalf("final %s", s.Status)
	}
	if err := e.cd.Continue(ctx, id); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("Continue after success = %v", err)
	}
	if err := e.cd.Continue(ctx, "d-404"); !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("Continue(unknown) = %v", err)
	}
	if err := e.cd.Continue(ctx, ""); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("Continue(\"\") = %v", err)
	}
}

func TestCodeDeployCreate(t *testing.T) {
	e := newEnv(t, codedeployfake.Group{Application: "app", Name: "web"})
	ctx := context.Background()
	for _, in := range []*codedeploy.CreateDeploymentInput{nil, input("", "web", s3rev("a"), ""), input("app", "", s3rev("a"), "")} {
		if _, err := e.cd.Create(ctx, in); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Fatalf("Create(%+v) = %v, want ErrInvalidRequest", in, err)
		}
	}
	if len(e.fake.Calls()) != 0 {
		t.Fatal("invalid input reached CodeDeploy")
	}
	if _, err := e.cd.Create(ctx, input("nope", "web", s3rev("a"), "")); !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("unknown application: %v", err)
	}
	var gone *cdtypes.DeploymentGroupDoesNotExistException
	if _, err := e.cd.Create(ctx, input("app", "nope", s3rev("a"), "")); !errors.Is(err, deploy.ErrNotFound) || !errors.As(err, &gone) {
		t.Fatalf("unknown group: %v", err)
	}
	if _, err := e.cd.Create(ctx, input("app", "web", s3rev("a"), "")); err != nil {
		t.Fatal(err)
	}
	_, err := e.cd.Create(ctx, input("app", "web", s3rev("b"), ""))
	var limit *cdtypes.DeploymentLimitExceededException
	var de *deploy.Error
	if !errors.Is(err, deploy.ErrLocked) || !errors.As(err, &limit) || !errors.As(err, &de) || de.Target != "app/web" || de.Platform != "test" {
		t.Fatalf("second live deployment: %v", err)
	}
}

// Created finds the live deployment a failed CreateDeployment call made
// all the same: a user's, of the call's revision, still live. It ignores
// one of another revision, one that ended and CodeDeploy's own rollbacks.
func TestCodeDeployCreated(t *testing.T) {
	e := newEnv(t, codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2"},
		Current: s3rev("v1.zip"), AutoRollback: rollbackOn(cdtypes.AutoRollbackEventDeploymentFailure)})
	ctx := context.Background()
	created := func(rev string) string {
		t.Helper()
		id, err := e.cd.Created(ctx, input("app", "web", s3rev(rev), ""))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if id := created("v2.zip"); id != "" {
		t.Fatalf("no deployment yet, found %s", id)
	}
	id, err := e.cd.Create(ctx, input("app", "web", s3rev("v2.zip"), ""))
	if err != nil {
		t.Fatal(err)
	}
	if got := created("v2.zip"); got != id {
		t.Fatalf("Created = %q, want %s", got, id)
	}
	if got := created("v3.zip"); got != "" {
		t.Fatalf("took %s, of another revision, for the call's", got)
	}
	e.clock.Advance(time.Hour)
	if got := created("v2.zip"); got != "" {
		t.Fatalf("took %s, which ended, for the call's", got)
	}
	// A rollback CodeDeploy makes redeploys v2 on its own: not a user's.
	e.fake.FailNext("Install", "i-1")
	if _, err := e.cd.Create(ctx, input("app", "web", s3rev("v4.zip"), "")); err != nil {
		t.Fatal(err)
	}
	rb := ""
	for range 100 {
		e.clock.Advance(step)
		if st, err := e.cd.Status(ctx, "d-2"); err == nil && st.RolledBackBy != "" {
			if info, _ := e.fake.Deployment(st.RolledBackBy); info.Status == cdtypes.DeploymentStatusCreated || info.Status == cdtypes.DeploymentStatusInProgress {
				rb = st.RolledBackBy
				break
			}
		}
	}
	if rb == "" {
		t.Fatal("no live rollback deployment")
	}
	if info, _ := e.fake.Deployment(rb); platform.RevisionFromLocation(info.Revision).ID != "s3://bucket/v2.zip" {
		t.Fatalf("the rollback deploys %v", info.Revision)
	}
	if got := created("v2.zip"); got != "" {
		t.Fatalf("took CodeDeploy's rollback %s for a user's call", got)
	}
	e.fake.InjectError("ListDeployments", &cdtypes.ThrottlingException{Message: aws.String("Rate exceeded")})
	if _, err := e.cd.Created(ctx, input("app", "web", s3rev("v1.zip"), "")); !errors.Is(err, deploy.ErrThrottled) {
		t.Fatalf("throttled lookup: %v", err)
	}
	if _, err := e.cd.Created(ctx, input("app", "", s3rev("v1.zip"), "")); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("no group: %v", err)
	}
}

func TestCodeDeployStatusErrors(t *testing.T) {
	e := newEnv(t, codedeployfake.Group{Application: "app", Name: "web"})
	ctx := context.Background()
	if _, err := e.cd.Status(ctx, ""); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("Status(\"\") = %v", err)
	}
	_, err := e.cd.Status(ctx, "d-missing")
	var sdk *cdtypes.DeploymentDoesNotExistException
	if !errors.Is(err, deploy.ErrNotFound) || !errors.As(err, &sdk) {
		t.Fatalf("Status(unknown) = %v", err)
	}
	id, _ := e.cd.Create(ctx, input("app", "web", s3rev("a"), ""))
	e.clock.Advance(3 * step)
	e.fake.InjectError("BatchGetDeploymentTargets", &cdtypes.ThrottlingException{Message: aws.String("slow")})
	if _, err := e.cd.Status(ctx, id); !platform.IsRetryable(err) {
		t.Fatalf("throttled Status = %v, want retryable", err)
	}
}

func TestCodeDeployManyTargets(t *testing.T) {
	var targets []string
	for i := 0; i < 60; i++ {
		targets = append(targets, fmt.Sprintf("i-%03d", i))
	}
	clk := newClock()
	f := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: step, PageSize: 7})
	f.AddGroup(codedeployfake.Group{Application: "app", Name: "fleet", Targets: targets})
	ctx := context.Background()
	cd := platform.NewCodeDeploy(f, platform.CodeDeployOptions{Clock: clk})
	id, err := cd.Create(ctx, input("app", "fleet", s3rev("a"), ""))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * step)
	s, err := cd.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Instances) != 60 || s.Instances[0].ID != "i-000" || s.Instances[59].ID != "i-059" {
		t.Fatalf("%d instances", len(s.Instances))
	}
	batches := 0
	for _, c := range f.Calls() {
		if in, ok := c.Input.(*codedeploy.BatchGetDeploymentTargetsInput); ok {
			batches++
			if len(in.TargetIds) > 25 {
				t.Fatalf("BatchGetDeploymentTargets with %d IDs", len(in.TargetIds))
			}
		}
	}
	if batches != 3 {
		t.Fatalf("%d BatchGetDeploymentTargets calls, want 3", batches)
	}
	// NoTargets polls without target calls and takes Percent from the overview.
	quiet := platform.NewCodeDeploy(f, platform.CodeDeployOptions{Clock: clk, NoTargets: true})
	before := len(f.Calls())
	qs, err := quiet.Status(ctx, id)
	if err != nil || len(qs.Instances) != 0 || len(f.Calls()) != before+1 {
		t.Fatalf("NoTargets: %v, %d instances, %d calls", err, len(qs.Instances), len(f.Calls())-before)
	}
	clk.Advance(time.Minute)
	if qs, _ = quiet.Status(ctx, id); qs.Status != deploy.StatusSucceeded || qs.Percent != 100 {
		t.Fatalf("NoTargets final: %s %v", qs.Status, qs.Percent)
	}
}

func TestCodeDeployHistory(t *testing.T) {
	clk := newClock()
	f := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: step, PageSize: 4})
	f.AddGroup(codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1"}, Current: s3rev("v0.zip"),
		AutoRollback: rollbackOn(cdtypes.AutoRollbackEventDeploymentFailure)})
	f.AddGroup(codedeployfake.Group{Application: "app", Name: "other"})
	ctx := context.Background()
	cd := platform.NewCodeDeploy(f, platform.CodeDeployOptions{Clock: clk})
	deployRev := func(key string, fail bool) string {
		t.Helper()
		if fail {
			f.FailNext("Install", "")
		}
		id, err := cd.Create(ctx, input("app", "web", s3rev(key), ""))
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		return id
	}
	// 30 good deployments, so History needs several pages and batches.
	var ids []string
	for i := 1; i <= 30; i++ {
		ids = append(ids, deployRev(fmt.Sprintf("v%d.zip", i), false))
	}
	bad := deployRev("v31.zip", true) // fails; rolled back to v30
	h, err := cd.History(ctx, "app", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 32 {
		t.Fatalf("%d entries, want 32 (30 + failed + rollback)", len(h))
	}
	if h[0].Revision.Label != "v30.zip" || h[0].Status != deploy.StatusSucceeded || !h[0].Current {
		t.Fatalf("newest: %+v, want the rollback to v30 as current", h[0])
	}
	if h[1].DeploymentID != bad || h[1].Status != deploy.StatusRolledBack || h[1].Current {
		t.Fatalf("second: %+v, want the rolled back deployment", h[1])
	}
	if h[2].DeploymentID != ids[29] || h[2].Status != deploy.StatusSucceeded || h[2].Current {
		t.Fatalf("third: %+v", h[2])
	}
	for i := 1; i < len(h); i++ {
		if h[i].At.After(h[i-1].At) {
			t.Fatalf("history not newest first at %d", i)
		}
	}
	good, ok := deploy.LastKnownGood(h)
	if !ok || good.DeploymentID != ids[28] {
		t.Fatalf("LastKnownGood = %+v (want %s); the current revision v30 must not count", good, ids[28])
	}
	for _, c := range f.Calls() {
		if in, ok := c.Input.(*codedeploy.BatchGetDeploymentsInput); ok && len(in.DeploymentIds) > 25 {
			t.Fatalf("BatchGetDeployments with %d IDs", len(in.DeploymentIds))
		}
	}
	limited := platform.NewCodeDeploy(f, platform.CodeDeployOptions{Clock: clk, HistoryLimit: 5})
	if h, err := limited.History(ctx, "app", "web"); err != nil || len(h) != 5 {
		t.Fatalf("HistoryLimit 5: %d entries, %v", len(h), err)
	}
	if h, err := cd.History(ctx, "app", "other"); err != nil || len(h) != 0 {
		t.Fatalf("empty group: %v, %v", h, err)
	}
	if _, err := cd.History(ctx, "app", "nope"); !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("unknown group: %v", err)
	}
	if _, err := cd.History(ctx, "", "web"); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("empty app: %v", err)
	}
	if f.Mutations() != 31 {
		t.Fatalf("mutations %d, want 31 creates and nothing from History", f.Mutations())
	}
}
