package ec2_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ec2/ec2fake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

var ctx = context.Background()

// poll asks Status until ok, moving the manual clock on by step.
func (e *env) poll(t *testing.T, d *deploy.Deployment, step time.Duration, ok func(*deploy.Deployment) bool) *deploy.Deployment {
	t.Helper()
	for range 500 {
		got, err := e.drv.Status(ctx, d)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		if ok(got) {
			return got
		}
		e.clock.Advance(step)
	}
	t.Fatalf("deployment %s never reached the state wanted", d.ID)
	return nil
}

func (e *env) start(t testing.TB, req deploy.Request) *deploy.Deployment {
	t.Helper()
	p, err := e.drv.Prepare(ctx, req)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	d, err := e.drv.Start(ctx, p)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return d
}

// TestLifecycleEventsInOrder: each instance's lifecycle events are
// reported as engine events, in the order CodeDeploy runs them, one
// instance after the other with OneAtATime.
func TestLifecycleEventsInOrder(t *testing.T) {
	e := newEnv(t, 2)
	var msgs []string
	e.eng = deploy.New(e.drv, deploy.Options{Clock: e.clock, OnEvent: func(ev deploy.Event) {
		if ev.Kind == deploy.EventMessage {
			msgs = append(msgs, ev.Message)
		}
	}})
	d, err := e.run(t, deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: oneAtATime(t)})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, id := range []string{"i-001", "i-002"} {
		for _, ev := range codedeployfake.ServerEvents() {
			want = append(want, id+": "+ev+" succeeded")
		}
	}
	var got []string
	for _, m := range msgs {
		if strings.HasSuffix(m, " succeeded") && strings.HasPrefix(m, "i-") {
			got = append(got, m)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("lifecycle messages:\n got %q\nwant %q", got, want)
	}
	if len(d.Instances) != 2 {
		t.Fatalf("instances = %+v", d.Instances)
	}
	for _, in := range d.Instances {
		var names []string
		for _, l := range in.Lifecycle {
			names = append(names, l.Name)
			if l.Status != "Succeeded" {
				t.Errorf("%s %s: %s", in.ID, l.Name, l.Status)
			}
		}
		if !slices.Equal(names, codedeployfake.ServerEvents()) {
			t.Errorf("%s events %v", in.ID, names)
		}
	}
}

// TestFailureNamesInstanceAndEvent: a lifecycle event failing on the
// second instance fails the deployment; the error names the instance and
// the event, the typed error carries CodeDeploy's code, the first
// instance keeps the new revision, and the group stays locked until
// Engine.Rollback repairs it.
func TestFailureNamesInstanceAndEvent(t *testing.T) {
	e := newEnv(t, 3)
	e.cd.FailNext("AfterInstall", "i-002")
	req := deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: oneAtATime(t)}
	d, err := e.run(t, req)
	if !errors.Is(err, deploy.ErrFailed) || d.Status != deploy.StatusFailed {
		t.Fatalf("deploy: %v, %v", d.Status, err)
	}
	if !strings.Contains(err.Error(), "instance i-002 failed at AfterInstall") {
		t.Errorf("error %q does not name the instance and event", err)
	}
	le := ec2.FailureOf(d)
	if le == nil || le.Instance != "i-002" || le.Event != "AfterInstall" || le.Code != cdtypes.LifecycleErrorCodeScriptFailed {
		t.Fatalf("FailureOf = %+v", le)
	}
	if !errors.Is(le, ec2.ErrScriptFailed) || !errors.Is(le, deploy.ErrFailed) {
		t.Errorf("%v does not wrap ErrScriptFailed and ErrFailed", le)
	}
	serving := e.serving("web")
	if got := serving[d.To.ID]; got < 33 || got > 34 || d.Percent != got {
		t.Errorf("serving %v, driver says %v%%", serving, d.Percent)
	}
	_, err = e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	if !errors.Is(err, deploy.ErrLocked) || !strings.Contains(err.Error(), "Engine.Rollback") {
		t.Fatalf("Prepare after a failure part way: %v, want ErrLocked naming Engine.Rollback", err)
	}
	e.clock.SetAuto(true)
	rb, err := e.eng.Rollback(ctx, deploy.RollbackRequest{Target: e.tgt, Of: d.ID})
	e.clock.SetAuto(false)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if rb.To.ID != initialID || rb.RollbackOf != d.ID {
		t.Errorf("rollback to %s of %s", rb.To.ID, rb.RollbackOf)
	}
	info, _ := e.cd.Deployment(rb.ID)
	if desc := aws.ToString(info.Description); !strings.Contains(desc, d.ID) {
		t.Errorf("rollback description %q does not name %s", desc, d.ID)
	}
	if s := e.serving("web"); s[initialID] != 100 {
		t.Errorf("after rollback serving %v", s)
	}
}

// TestOneAtATimeToleratesLastInstance: CodeDeployDefault.OneAtATime lets
// a failure on the last instance pass.
func TestOneAtATimeToleratesLastInstance(t *testing.T) {
	e := newEnv(t, 3)
	e.cd.FailNext("ValidateService", "i-003")
	d, err := e.run(t, deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: oneAtATime(t)})
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatalf("deploy: %v, %v", d, err)
	}
}

// TestStopPending: a stop while lifecycle events run answers Pending; a
// later one Succeeded, and the instances done keep the new revision.
func TestStopPending(t *testing.T) {
	e := newEnv(t, 4)
	d := e.start(t, deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: oneAtATime(t)})
	live := e.poll(t, d, time.Second, func(x *deploy.Deployment) bool { return x.Percent >= 25 })
	e.clock.Advance(time.Second) // the second instance is running an event
	e.cd.StopPending(1)
	out, err := e.drv.Stop(ctx, live, deploy.StopOptions{})
	if err != nil || out != deploy.StopPending {
		t.Fatalf("first Stop: %q, %v; want Pending", out, err)
	}
	e.clock.Advance(2 * time.Second)
	out, err = e.drv.Stop(ctx, live, deploy.StopOptions{})
	if err != nil || out != deploy.StopSucceeded {
		t.Fatalf("second Stop: %q, %v; want Succeeded", out, err)
	}
	got := e.poll(t, d, time.Second, func(x *deploy.Deployment) bool { return x.Status.Terminal() })
	if got.Status != deploy.StatusStopped || got.Percent != e.serving("web")[d.To.ID] || got.Percent == 0 {
		t.Errorf("after stop: %s at %v%%, serving %v", got.Status, got.Percent, e.serving("web"))
	}
	// Stopping it again changes nothing; asking for a rollback now is refused.
	if out, err := e.drv.Stop(ctx, got, deploy.StopOptions{}); err != nil || out != deploy.StopSucceeded {
		t.Errorf("Stop of a stopped deployment: %q, %v", out, err)
	}
	if _, err := e.drv.Stop(ctx, got, deploy.StopOptions{Rollback: true}); !errors.Is(err, deploy.ErrCannotStop) {
		t.Errorf("Stop with rollback of a stopped deployment: %v, want ErrCannotStop", err)
	}
}

// TestStopRefused: CodeDeploy refusing a stop is the third outcome.
func TestStopRefused(t *testing.T) {
	e := newEnv(t, 2)
	d := e.start(t, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	e.clock.Advance(2 * time.Second)
	e.cd.RefuseStop(&cdtypes.UnsupportedActionForDeploymentTypeException{Message: aws.String("no")})
	if _, err := e.drv.Stop(ctx, d, deploy.StopOptions{Rollback: true}); !errors.Is(err, deploy.ErrCannotStop) {
		t.Fatalf("Stop: %v, want ErrCannotStop", err)
	}
}

// TestCodeDeployAlarmRollsBack: an alarm CodeDeploy watches stops the
// deployment and, with DEPLOYMENT_STOP_ON_ALARM, rolls it back; the
// deployment carries the alarm override.
func TestCodeDeployAlarmRollsBack(t *testing.T) {
	e := newEnv(t, 4)
	o := e.nextS3()
	o.Alarms = []string{"web-5xx"}
	d := e.start(t, deploy.Request{Target: e.tgt, Options: o, Strategy: oneAtATime(t), RollbackOn: deploy.OnAlarm | deploy.OnFailure})
	in := lastCreate(t, e.cd)
	if ac := in.OverrideAlarmConfiguration; ac == nil || !ac.Enabled || len(ac.Alarms) != 1 || aws.ToString(ac.Alarms[0].Name) != "web-5xx" {
		t.Errorf("alarm override = %+v", in.OverrideAlarmConfiguration)
	}
	if rc := in.AutoRollbackConfiguration; rc == nil || !rc.Enabled || len(rc.Events) != 2 {
		t.Errorf("rollback override = %+v", in.AutoRollbackConfiguration)
	}
	e.poll(t, d, time.Second, func(x *deploy.Deployment) bool { return x.Percent >= 50 })
	e.cd.TriggerAlarm(d.ID, "web-5xx")
	got := e.poll(t, d, time.Second, func(x *deploy.Deployment) bool { return x.Status.Terminal() })
	if got.Status != deploy.StatusRolledBack || got.Percent != 0 || got.RolledBackBy == "" {
		t.Errorf("after the alarm: %s at %v%% (rolled back by %q)", got.Status, got.Percent, got.RolledBackBy)
	}
	if !strings.Contains(got.Reason, "ALARM_ACTIVE") {
		t.Errorf("reason %q", got.Reason)
	}
	if s := e.serving("web"); s[initialID] != 100 {
		t.Errorf("serving %v", s)
	}
}

func lastCreate(t *testing.T, cd *codedeployfake.Fake) *codedeploy.CreateDeploymentInput {
	t.Helper()
	calls := cd.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Op == "CreateDeployment" {
			return calls[i].Input.(*codedeploy.CreateDeploymentInput)
		}
	}
	t.Fatal("no CreateDeployment call")
	return nil
}

// TestDeploymentOptionsSent: the per-deployment options reach
// CreateDeployment; GroupRollback keeps the group's configuration.
func TestDeploymentOptionsSent(t *testing.T) {
	e := newEnv(t, 2)
	d := e.start(t, deploy.Request{Target: e.tgt, Comment: "release 7", Options: &ec2.DeployOptions{
		GitHub:             &ec2.GitHubRevision{Repository: "acme/web", CommitID: commit},
		FileExistsBehavior: ec2.FileOverwrite, IgnoreApplicationStopFailures: true, UpdateOutdatedInstancesOnly: true,
		GroupRollback: true, DisableAlarms: true, CodeDeployConfig: "CodeDeployDefault.AllAtOnce"}})
	in := lastCreate(t, e.cd)
	if in.FileExistsBehavior != cdtypes.FileExistsBehaviorOverwrite || !in.IgnoreApplicationStopFailures || !in.UpdateOutdatedInstancesOnly {
		t.Errorf("input %+v", in)
	}
	if in.AutoRollbackConfiguration != nil {
		t.Errorf("GroupRollback sent an override %+v", in.AutoRollbackConfiguration)
	}
	if in.OverrideAlarmConfiguration == nil || in.OverrideAlarmConfiguration.Enabled {
		t.Errorf("DisableAlarms sent %+v", in.OverrideAlarmConfiguration)
	}
	if aws.ToString(in.Description) != "release 7" || aws.ToString(in.DeploymentConfigName) != "CodeDeployDefault.AllAtOnce" {
		t.Errorf("description %q config %q", aws.ToString(in.Description), aws.ToString(in.DeploymentConfigName))
	}
	if gh := in.Revision.GitHubLocation; gh == nil || aws.ToString(gh.CommitId) != commit {
		t.Errorf("revision %+v", in.Revision)
	}
	if d.To.ID != "github:acme/web@"+commit {
		t.Errorf("To = %s", d.To.ID)
	}
	// The same revision again, from its ID: it is a redeployment.
	e.poll(t, d, time.Second, func(x *deploy.Deployment) bool { return x.Status.Terminal() })
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: d.To.ID}})
	if err != nil || p.From == nil || p.From.ID != d.To.ID || p.To.ID != d.To.ID {
		t.Fatalf("Prepare of the running revision: %v, %v", p, err)
	}
}

// TestAppSpecRevisionRollback: an inline AppSpec revision is found again
// by its ID in History, so it can be rolled back to.
func TestAppSpecRevisionRollback(t *testing.T) {
	e := newEnv(t, 2)
	first, err := e.run(t, deploy.Request{Target: e.tgt, Options: &ec2.DeployOptions{AppSpec: "version: 0.0\nos: linux\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.run(t, deploy.Request{Target: e.tgt, Options: e.nextS3()}); err != nil {
		t.Fatal(err)
	}
	e.clock.SetAuto(true)
	rb, err := e.eng.Rollback(ctx, deploy.RollbackRequest{Target: e.tgt})
	e.clock.SetAuto(false)
	if err != nil || rb.To.ID != first.To.ID {
		t.Fatalf("rollback: %v, %v", rb, err)
	}
	if s := e.serving("web"); s[first.To.ID] != 100 {
		t.Errorf("serving %v", s)
	}
}

// TestBlueGreenReadyAndContinue: a blue/green group waits in Ready until
// Continue, runs the traffic events, and its plan says the original
// instances are kept.
func TestBlueGreenReadyAndContinue(t *testing.T) {
	e := newEnv(t, 1)
	tgt := ec2.Target("app", "bg")
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: tgt, Options: e.nextS3()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "kept running") || !strings.Contains(strings.Join(p.Notes, "\n"), "Ready") {
		t.Errorf("notes %q", p.Notes)
	}
	d, err := e.drv.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.drv.Continue(ctx, d); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Errorf("Continue before Ready: %v", err)
	}
	ready := e.poll(t, d, time.Second, func(x *deploy.Deployment) bool { return x.Status == deploy.StatusReady })
	e.clock.Advance(time.Hour)
	if got, _ := e.drv.Status(ctx, ready); got.Status != deploy.StatusReady {
		t.Fatalf("left Ready without Continue: %s", got.Status)
	}
	if err := e.drv.Continue(ctx, ready); err != nil {
		t.Fatal(err)
	}
	done := e.poll(t, d, time.Second, func(x *deploy.Deployment) bool { return x.Status.Terminal() })
	if done.Status != deploy.StatusSucceeded {
		t.Fatalf("status %s", done.Status)
	}
	var names []string
	for _, l := range done.Instances[0].Lifecycle {
		names = append(names, l.Name)
	}
	if !slices.Equal(names, codedeployfake.ServerBlueGreenEvents()) {
		t.Errorf("events %v", names)
	}
}

// TestTagSetsAndAutoScaling: OR within a tag set, AND across sets,
// KEY_ONLY and VALUE_ONLY filters, Auto Scaling groups and on-premises
// instances all count in the plan.
func TestTagSetsAndAutoScaling(t *testing.T) {
	e := newEnv(t, 1)
	ef := e.ec2
	ef.AddInstance(ec2fake.Instance{ID: "i-a", Tags: map[string]string{"Env": "staging", "Web": ""}})
	ef.AddInstance(ec2fake.Instance{ID: "i-b", Tags: map[string]string{"Env": "qa", "Web": "x"}})
	ef.AddInstance(ec2fake.Instance{ID: "i-c", Tags: map[string]string{"Env": "staging"}})
	ef.AddInstance(ec2fake.Instance{ID: "i-d", Tags: map[string]string{"Stage": "blue", "Web": "y"}})
	ef.AddInstance(ec2fake.Instance{ID: "i-asg1"})
	ef.AddAutoScalingGroup("asg", "i-asg1", "i-asg2")
	e.cd.AddOnPremisesInstance("onprem-1", map[string]string{"Site": "dc1"})
	e.cd.AddOnPremisesInstance("onprem-2", map[string]string{"Site": "dc2"})
	kv := func(k, v string, typ cdtypes.EC2TagFilterType) cdtypes.EC2TagFilter {
		f := cdtypes.EC2TagFilter{Type: typ}
		if k != "" {
			f.Key = aws.String(k)
		}
		if v != "" {
			f.Value = aws.String(v)
		}
		return f
	}
	e.cd.AddGroup(codedeployfake.Group{Application: "app", Name: "sets", Batches: true,
		EC2TagSet: &cdtypes.EC2TagSet{Ec2TagSetList: [][]cdtypes.EC2TagFilter{
			{kv("Env", "staging", cdtypes.EC2TagFilterTypeKeyAndValue), kv("", "blue", cdtypes.EC2TagFilterTypeValueOnly)},
			{kv("Web", "", cdtypes.EC2TagFilterTypeKeyOnly)},
		}},
		AutoScalingGroups: []string{"asg"},
		OnPremisesTagSet: &cdtypes.OnPremisesTagSet{OnPremisesTagSetList: [][]cdtypes.TagFilter{
			{{Key: aws.String("Site"), Value: aws.String("dc1"), Type: cdtypes.TagFilterTypeKeyAndValue}}}},
	})
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: ec2.Target("app", "sets"), Options: e.nextS3()})
	if err != nil {
		t.Fatal(err)
	}
	// i-a (staging, Web), i-d (blue, Web); not i-b (qa), not i-c (no Web);
	// the Auto Scaling group's two; onprem-1.
	if p.Batches == nil || p.Batches.Instances != 5 {
		t.Fatalf("plan batches %+v, want 5 instances", p.Batches)
	}
	d, err := e.drv.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"i-a", "i-asg1", "i-asg2", "i-d", "onprem-1"}
	if got := d.Detail.(*ec2.Detail).Instances; !slices.Equal(got, want) {
		t.Errorf("instances %v, want %v", got, want)
	}
}

// TestPlanWithoutEC2Client: without an EC2 client the plan says the
// instances were not counted instead of failing.
func TestPlanWithoutEC2Client(t *testing.T) {
	e := newEnv(t, 2)
	drv := ec2.New(e.cd, ec2.Options{Clock: e.clock})
	p, err := drv.Prepare(ctx, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	if err != nil {
		t.Fatal(err)
	}
	if p.Batches != nil || !strings.Contains(strings.Join(p.Notes, " "), "not counted") {
		t.Errorf("batches %+v notes %q", p.Batches, p.Notes)
	}
}

// TestCreateGroup: a group that does not exist is created in Start from
// DeployOptions.CreateGroup; the plan says so and makes no call that
// mutates.
func TestCreateGroup(t *testing.T) {
	e := newEnv(t, 1)
	e.cd.AddOnPremisesInstance("host-1", map[string]string{"Role": "api"})
	e.cd.AddOnPremisesInstance("host-2", map[string]string{"Role": "api"})
	o := e.nextS3()
	o.CreateGroup = &ec2.GroupSpec{ServiceRoleARN: "arn:aws:iam::123456789012:role/cd",
		OnPremisesTagSets: [][]ec2.TagFilter{{{Key: "Role", Value: "api"}}}, DeploymentConfig: "CodeDeployDefault.HalfAtATime",
		RollbackOn: deploy.OnFailure}
	tgt := ec2.Target("app", "api")
	mut := e.cd.Mutations()
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: tgt, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if e.cd.Mutations() != mut {
		t.Errorf("Prepare mutated")
	}
	if p.Batches == nil || !slices.Equal(p.Batches.Batches, []int{1, 1}) {
		t.Errorf("batches %+v", p.Batches)
	}
	d, err := e.run(t, deploy.Request{Target: tgt, Options: o})
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatalf("deploy: %v %v", d, err)
	}
	if s := e.serving("api"); s[d.To.ID] != 100 {
		t.Errorf("serving %v", s)
	}
}

// TestUnknownCustomConfig: a custom configuration name that does not
// exist is ErrNotFound, found with a read.
func TestUnknownCustomConfig(t *testing.T) {
	e := newEnv(t, 2)
	o := e.nextS3()
	o.CodeDeployConfig = "Nope"
	mut := e.cd.Mutations()
	_, err := e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Options: o})
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("Prepare: %v, want ErrNotFound", err)
	}
	if e.cd.Mutations() != mut {
		t.Errorf("mutated")
	}
	e.cd.AddDeploymentConfig("Two", deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 1})
	o.CodeDeployConfig = "Two"
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Options: o})
	if err != nil || !slices.Equal(p.Batches.Batches, []int{1, 1}) {
		t.Fatalf("Prepare with a custom config: %v, %v", p, err)
	}
}

// TestRollbackFromAnotherMachine: the history comes from CodeDeploy, so a
// driver that never saw the deployments rolls back all the same.
func TestRollbackFromAnotherMachine(t *testing.T) {
	e := newEnv(t, 2)
	first, err := e.run(t, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.run(t, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	if err != nil {
		t.Fatal(err)
	}
	other := ec2.New(e.cd, ec2.Options{Clock: e.clock, EC2: e.ec2})
	eng := deploy.New(other, deploy.Options{Clock: e.clock})
	e.clock.SetAuto(true)
	rb, err := eng.Rollback(ctx, deploy.RollbackRequest{Target: e.tgt})
	e.clock.SetAuto(false)
	if err != nil {
		t.Fatal(err)
	}
	if rb.To.ID != first.To.ID || rb.RollbackOf != second.ID {
		t.Errorf("rolled back to %s (of %s), want %s (of %s)", rb.To.ID, rb.RollbackOf, first.To.ID, second.ID)
	}
	h, err := other.History(ctx, e.tgt)
	if err != nil || h[0].Revision.ID != first.To.ID || !h[0].Current {
		t.Errorf("history %+v, %v", h, err)
	}
}

func TestTargetAndConstructors(t *testing.T) {
	tg := ec2.Target("app", "web")
	if tg.Platform != "ec2" || tg.Name != "app/web" {
		t.Errorf("%+v", tg)
	}
	app, grp, err := ec2.ParseTarget(deploy.Target{Name: "a/b"})
	if err != nil || app != "a" || grp != "b" {
		t.Errorf("%s %s %v", app, grp, err)
	}
	if _, _, err := ec2.ParseTarget(deploy.Target{Platform: "ecs", Name: "a/b"}); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Errorf("ecs target accepted")
	}
	if d := ec2.NewFromConfig(aws.Config{Region: "us-east-1"}, ec2.Options{}); d.Platform() != "ec2" {
		t.Errorf("platform")
	}
	defer func() {
		if recover() == nil {
			t.Errorf("New(nil) did not panic")
		}
	}()
	ec2.New(nil, ec2.Options{})
}

// TestRevisionIDWins: a request naming an existing revision by ID deploys
// it and ignores options that would name another.
func TestRevisionIDWins(t *testing.T) {
	e := newEnv(t, 2)
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: initialID}, RollbackOf: "d-1",
		Options: e.nextS3()})
	if err != nil || p.To.ID != initialID {
		t.Fatalf("Prepare: %v, %v", p, err)
	}
	// A key without an extension: History says which bundle type it was.
	d, err := e.run(t, deploy.Request{Target: e.tgt, Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "b", Key: "bundle", BundleType: ec2.BundleTgz}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.run(t, deploy.Request{Target: e.tgt, Options: e.nextS3()}); err != nil {
		t.Fatal(err)
	}
	p, err = e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: d.To.ID}})
	if err != nil || p.To.Attrs["bundleType"] != "tgz" {
		t.Fatalf("Prepare of %s: %+v, %v", d.To.ID, p, err)
	}
	if _, err := e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "s3://b/never"}}); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("a bundle never deployed without a type: %v, want ErrNotFound", err)
	}
}

// TestDescribeGroup reads a group's style, configuration, alarms, rollback
// and instances; a plan that keeps the group's configuration says so.
func TestDescribeGroup(t *testing.T) {
	e := newEnv(t, 3)
	e.cd.AddGroup(codedeployfake.Group{Application: "app", Name: "guarded", Targets: []string{"i-001"},
		DeploymentConfigName: "CodeDeployDefault.AllAtOnce",
		EC2TagFilters:        []cdtypes.EC2TagFilter{{Key: aws.String("Role"), Type: cdtypes.EC2TagFilterTypeKeyOnly}},
		Alarms:               &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String("p99")}}},
		AutoRollback: &cdtypes.AutoRollbackConfiguration{Enabled: true,
			Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}}})
	g, err := e.drv.DescribeGroup(ctx, ec2.Target("app", "guarded"))
	if err != nil {
		t.Fatal(err)
	}
	if g.BlueGreen || g.DeploymentConfig != "CodeDeployDefault.AllAtOnce" || !slices.Equal(g.Alarms, []string{"p99"}) ||
		g.RollbackOn != deploy.OnFailure || len(g.Instances) != 4 { // i-001..3 and i-dev carry Role
		t.Errorf("group %+v", g)
	}
	bg, err := e.drv.DescribeGroup(ctx, ec2.Target("app", "bg"))
	if err != nil || !bg.BlueGreen || !bg.TrafficControl || !bg.WaitForContinue || bg.TerminateOriginal {
		t.Errorf("blue/green group %+v, %v", bg, err)
	}
	if _, err := e.drv.DescribeGroup(ctx, ec2.Target("app", "nope")); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("missing group: %v", err)
	}
	o := e.nextS3()
	o.GroupRollback = true
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: ec2.Target("app", "guarded"), Options: o})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(p.Notes, "\n")
	if !strings.Contains(notes, "group's alarms p99") || !strings.Contains(notes, "rolls back on DEPLOYMENT_FAILURE") {
		t.Errorf("notes %q", notes)
	}
}

// TestPrepareLockedWhileLive: Prepare refuses while the group runs a
// deployment (started by anyone), naming it, with reads only.
func TestPrepareLockedWhileLive(t *testing.T) {
	e := newEnv(t, 2)
	out, err := e.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"),
		DeploymentGroupName: aws.String("web"), Revision: s3Loc("other.zip")})
	if err != nil {
		t.Fatal(err)
	}
	mut := e.cd.Mutations()
	_, err = e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	if !errors.Is(err, deploy.ErrLocked) || !strings.Contains(err.Error(), aws.ToString(out.DeploymentId)) {
		t.Fatalf("Prepare while %s runs: %v, want ErrLocked naming it", aws.ToString(out.DeploymentId), err)
	}
	if e.cd.Mutations() != mut {
		t.Errorf("Prepare mutated")
	}
	e.cd.InjectError("CreateDeployment", &cdtypes.DeploymentLimitExceededException{Message: aws.String("busy")})
	e.clock.Advance(time.Hour)
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Options: e.nextS3()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.drv.Start(ctx, p); !errors.Is(err, deploy.ErrLocked) {
		t.Errorf("Start refused by CodeDeploy with DeploymentLimitExceededException: %v, want ErrLocked", err)
	}
}
