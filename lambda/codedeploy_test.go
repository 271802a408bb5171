package lambda_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// cdEnv is the CodeDeploy-managed driver over in-memory Lambda and
// CodeDeploy. The CodeDeploy fake does not touch Lambda, so cdGlue moves
// the alias the way CodeDeploy would once a deployment succeeds.
type cdEnv struct {
	lf    *lambdafake.Client
	cd    *codedeployfake.Fake
	glue  *cdGlue
	clock *deploytest.Clock
	drv   *lambda.CodeDeployDriver
	eng   *deploy.Engine
	tgt   deploy.Target
	n     int
}

func newCDEnv(t *testing.T) *cdEnv {
	t.Helper()
	clk := deploytest.NewAutoClock(time.Time{})
	lf := lambdafake.New()
	lf.AddFunction("app", 3)
	lf.AddAlias("app", "live", "1", nil)
	cd := codedeployfake.New(codedeployfake.Options{Clock: clk})
	// The group last put version 1 on the alias.
	seed, err := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "2", TargetVersion: "1"}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	cd.AddGroup(codedeployfake.Group{Application: "app", Name: "app-live", ComputePlatform: cdtypes.ComputePlatformLambda, Targets: []string{"app:live"},
		Current: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(seed), Sha256: aws.String(lambda.Sha256(seed))}}})
	glue := newCDGlue(cd, fakePointer(lf), false)
	drv := lambda.NewCodeDeploy(lf, glue, lambda.CodeDeployOptions{Options: lambda.Options{Clock: clk}, CodeDeployApplication: "app", CodeDeployDeploymentGroup: "app-live"})
	return &cdEnv{lf: lf, cd: cd, glue: glue, clock: clk, drv: drv, eng: deploy.New(drv, deploy.Options{Clock: clk}), tgt: lambda.Target("app", "live")}
}

func (e *cdEnv) mutations() int { return e.lf.Mutations() + e.cd.Mutations() }

func TestCodeDeployConformance(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness {
		e := newCDEnv(t)
		e.glue.weights = true
		return &deploytest.Harness{
			Driver: e.drv, Clock: e.clock, Target: e.tgt, MissingTarget: lambda.Target("app", "missing"),
			MissingRevision: deploy.Revision{ID: "999"},
			Mutations:       e.mutations,
			Timeout:         20 * time.Second,
			Serving: func(t *testing.T) map[string]float64 {
				e.glue.Sync("app", "app-live")
				if err := e.glue.Err(); err != nil {
					t.Errorf("moving the alias: %v", err)
				}
				return aliasServing(t, e.lf)
			},
			FailNext: func(t *testing.T) { e.cd.FailNext("AfterAllowTraffic", "") },
			Request: func(t *testing.T) deploy.Request {
				e.n++
				v := e.lf.Publish("app", []byte(strings.Repeat("x", e.n)))
				return deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: v}}
			},
		}
	})
}

func TestCodeDeployRequest(t *testing.T) {
	e := newCDEnv(t)
	e.lf.AddFunction("pre", 0)
	e.lf.AddFunction("post", 0)
	cw := &fakeCW{alarms: map[string]cwtypes.StateValue{"app-errors": cwtypes.StateValueOk, "app-latency": cwtypes.StateValueOk, "other": cwtypes.StateValueOk}}
	gate, err := platform.NewAlarmGate(cw, platform.AlarmGateOptions{Prefixes: []string{"app-"}})
	if err != nil {
		t.Fatal(err)
	}
	req := deploy.Request{Target: e.tgt, Strategy: mustStrategy(t, "linear:10:10m"), Comment: "release 7",
		Options:    &lambda.DeployOptions{Zip: fakeZip("PK new"), Alarms: []string{"extra"}},
		RollbackOn: deploy.OnFailure | deploy.OnAlarm,
		Gates: []deploy.Gate{gate,
			lambda.HookFunction(e.lf, "pre", deploy.PhaseBeforeTraffic, lambda.HookOptions{}),
			lambda.HookFunction(e.lf, "post", deploy.PhaseAfterTraffic, lambda.HookOptions{})}}
	p, err := e.eng.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != deploy.ModePlatform || e.mutations() != 0 {
		t.Fatalf("plan mode %s, %d mutations", p.Mode, e.mutations())
	}
	d, err := e.eng.Execute(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != deploy.StatusSucceeded || d.To.ID != "4" {
		t.Fatalf("deployment %s to %s", d.Status, d.To.ID)
	}
	var in *codedeploy.CreateDeploymentInput
	for _, c := range e.cd.Calls() {
		if c.Op == "CreateDeployment" {
			in = c.Input.(*codedeploy.CreateDeploymentInput)
		}
	}
	if in == nil {
		t.Fatal("no CreateDeployment")
	}
	if got := aws.ToString(in.DeploymentConfigName); got != "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes" {
		t.Errorf("config %s", got)
	}
	if aws.ToString(in.Description) != "release 7" {
		t.Errorf("description %q", aws.ToString(in.Description))
	}
	spec, err := lambda.ParseAppSpec([]byte(aws.ToString(in.Revision.AppSpecContent.Content)))
	if err != nil {
		t.Fatal(err)
	}
	want := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "1", TargetVersion: "4", BeforeAllowTraffic: "pre", AfterAllowTraffic: "post"}
	if spec != want {
		t.Errorf("appspec %+v, want %+v", spec, want)
	}
	if got := aws.ToString(in.Revision.AppSpecContent.Sha256); got != lambda.Sha256(aws.ToString(in.Revision.AppSpecContent.Content)) {
		t.Errorf("sha256 %s", got)
	}
	ar := in.AutoRollbackConfiguration
	if !ar.Enabled || !reflect.DeepEqual(ar.Events, []cdtypes.AutoRollbackEvent{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}) {
		t.Errorf("auto rollback %+v", ar)
	}
	var alarms []string
	for _, a := range in.OverrideAlarmConfiguration.Alarms {
		alarms = append(alarms, aws.ToString(a.Name))
	}
	if !in.OverrideAlarmConfiguration.Enabled || !reflect.DeepEqual(alarms, []string{"app-errors", "app-latency", "extra"}) {
		t.Errorf("alarms %v", alarms)
	}
	if v, _ := e.lf.Alias("app", "live"); v != "4" {
		t.Errorf("alias on %s", v)
	}
}

func TestCodeDeployRefusals(t *testing.T) {
	for name, mut := range map[string]func(*deploy.Request){
		"go func hook": func(r *deploy.Request) {
			r.Gates = []deploy.Gate{lambda.HookFunc("x", deploy.PhaseBeforeTraffic, func(context.Context, deploy.Check) error { return nil }, lambda.HookOptions{})}
		},
		"custom steps": func(r *deploy.Request) {
			r.Strategy = deploy.Custom(deploy.ShiftTo(7), deploy.BakeFor(time.Minute), deploy.ShiftTo(100))
		},
		"approval": func(r *deploy.Request) {
			r.Strategy = deploy.Custom(deploy.ShiftTo(10), deploy.Approval(), deploy.ShiftTo(100))
		},
		"latest":       func(r *deploy.Request) { r.Revision.ID = "$LATEST" },
		"same version": func(r *deploy.Request) { r.Revision.ID = "1" },
		"no group":     func(r *deploy.Request) { r.Options = &lambda.DeployOptions{CodeDeployApplication: "app"} },
		"hook on shift": func(r *deploy.Request) {
			r.Gates = []deploy.Gate{lambda.HookFunction(nil, "f", deploy.PhaseShift, lambda.HookOptions{})}
		},
		"missing version": func(r *deploy.Request) { r.Revision.ID = "77" },
	} {
		t.Run(name, func(t *testing.T) {
			e := newCDEnv(t)
			req := deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "2"}}
			mut(&req)
			_, err := e.eng.Deploy(context.Background(), req)
			if !errors.Is(err, deploy.ErrInvalidRequest) && !errors.Is(err, deploy.ErrNotFound) {
				t.Fatalf("err = %v", err)
			}
			if e.mutations() != 0 {
				t.Fatalf("%d mutations", e.mutations())
			}
		})
	}
}

func TestCodeDeployStopWithRollback(t *testing.T) {
	e := newCDEnv(t)
	e.clock.SetAuto(false)
	ctx := context.Background()
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "2"}, Strategy: mustStrategy(t, "canary:10:5m")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.drv.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Second)
	out, err := e.drv.Stop(ctx, d, deploy.StopOptions{Rollback: true})
	if err != nil || (out != deploy.StopSucceeded && out != deploy.StopPending) {
		t.Fatalf("Stop = %v %v", out, err)
	}
	var stop *codedeploy.StopDeploymentInput
	for _, c := range e.cd.Calls() {
		if c.Op == "StopDeployment" {
			stop = c.Input.(*codedeploy.StopDeploymentInput)
		}
	}
	if stop == nil || !aws.ToBool(stop.AutoRollbackEnabled) {
		t.Fatalf("StopDeployment %+v, want auto-rollback", stop)
	}
	e.wantRolledBack(t, d)
}

func TestCodeDeployAlarmRollsBack(t *testing.T) {
	e := newCDEnv(t)
	e.clock.SetAuto(false)
	ctx := context.Background()
	p, err := e.drv.Prepare(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "3"}, Strategy: mustStrategy(t, "canary:10:5m"),
		RollbackOn: deploy.OnAlarm, Options: &lambda.DeployOptions{Alarms: []string{"errors"}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.drv.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second)
	e.cd.TriggerAlarm(d.ID, "errors")
	e.wantRolledBack(t, d)
}

// wantRolledBack polls d every 10 simulated seconds until it ends and
// fails the test unless it ended RolledBack.
func (e *cdEnv) wantRolledBack(t *testing.T, d *deploy.Deployment) {
	t.Helper()
	for range 100 {
		e.clock.Advance(10 * time.Second)
		st, err := e.drv.Status(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status.Terminal() {
			if st.Status != deploy.StatusRolledBack {
				t.Fatalf("status %s (%s), want RolledBack", st.Status, st.Reason)
			}
			return
		}
	}
	t.Fatal("never ended")
}

// fakeCW answers DescribeAlarms from a map.
type fakeCW struct {
	alarms map[string]cwtypes.StateValue
}

func (f *fakeCW) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	out := &cloudwatch.DescribeAlarmsOutput{}
	for name, st := range f.alarms {
		match := false
		for _, n := range in.AlarmNames {
			match = match || n == name
		}
		if p := aws.ToString(in.AlarmNamePrefix); p != "" && strings.HasPrefix(name, p) {
			match = true
		}
		if match {
			out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(name), StateValue: st})
		}
	}
	return out, nil
}
