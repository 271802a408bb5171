package ecs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

func TestDeployRollingToStable(t *testing.T) {
	for _, api := range []bool{true, false} {
		name := "service-deployments"
		if !api {
			name = "describe-services-fallback"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, ecsfake.Options{NoServiceDeployments: !api})
			e.fake.ResetCalls()
			eng := e.engine()
			p, err := eng.Plan(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}))
			if err != nil {
				t.Fatal(err)
			}
			if e.fake.Mutations() != 0 {
				t.Fatalf("plan made %d mutating calls", e.fake.Mutations())
			}
			want := deploy.Change{Path: "taskDefinition.containerDefinitions[0].image", Old: "nginx:1", New: "nginx:2"}
			if len(p.Changes) != 1 || p.Changes[0] != want {
				t.Fatalf("changes = %+v, want only %+v (defaults are not changes)", p.Changes, want)
			}
			d, err := eng.Execute(e.ctx(), p)
			if err != nil {
				t.Fatalf("deploy: %v", err)
			}
			if d.Status != deploy.StatusSucceeded || d.To.Label != "web:2" || d.From.Label != "web:1" {
				t.Fatalf("deployment = %s %s -> %s", d.Status, d.From.Label, d.To.Label)
			}
			svc := e.service()
			if aws.ToString(svc.TaskDefinition) != d.To.ID || len(svc.Deployments) != 1 || svc.RunningCount != 2 {
				t.Fatalf("service not stable on the new revision: %s", jsonOf(svc.Deployments))
			}
			if n := e.fake.Count("UpdateService"); n != 1 {
				t.Fatalf("UpdateService called %d times, want 1", n)
			}
			msgs := e.messages(deploy.EventMessage)
			seen := map[string]int{}
			for _, m := range msgs {
				seen[m]++
			}
			if !strings.Contains(strings.Join(msgs, "\n"), "has reached a steady state") {
				t.Fatalf("service events not streamed: %q", msgs)
			}
			for m, n := range seen {
				if n > 1 && strings.HasPrefix(m, "(service") {
					t.Fatalf("event %q reported %d times", m, n)
				}
			}
			notes := strings.Join(e.notes, "\n")
			if api == strings.Contains(notes, "unavailable") {
				t.Fatalf("fallback note presence wrong (api=%v): %q", api, notes)
			}
		})
	}
}

func TestCircuitBreakerRollbackIsNeverSuccess(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "service-deployments", false: "fallback"}[api], func(t *testing.T) {
			e := newEnv(t, ecsfake.Options{NoServiceDeployments: !api})
			e.fake.FailNext(1)
			d, err := e.engine().Deploy(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:bad")}))
			if !errors.Is(err, deploy.ErrRolledBack) {
				t.Fatalf("err = %v, want ErrRolledBack", err)
			}
			if d.Status != deploy.StatusRolledBack {
				t.Fatalf("status = %s", d.Status)
			}
			if !strings.Contains(d.Reason, "circuit breaker") {
				t.Fatalf("reason = %q", d.Reason)
			}
			if got := aws.ToString(e.service().TaskDefinition); !strings.HasSuffix(got, "web:1") {
				t.Fatalf("service runs %s after rollback", got)
			}
		})
	}
}

func TestCanaryAndLinearFollowSteps(t *testing.T) {
	for _, tc := range []struct {
		s       deploy.Strategy
		weights []string
	}{
		{deploy.Canary(10, 5*time.Minute), []string{"10%", "100%"}},
		{deploy.Linear(25, time.Minute), []string{"25%", "50%", "75%", "100%"}},
	} {
		t.Run(tc.s.String(), func(t *testing.T) {
			// Shifts last longer than the engine's longest poll delay, so
			// every step is observed.
			e := newEnv(t, ecsfake.Options{ShiftTime: time.Minute})
			req := e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2"), BakeTime: 2 * time.Minute})
			req.Strategy = tc.s
			d, err := e.engine().Deploy(e.ctx(), req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != deploy.StatusSucceeded {
				t.Fatalf("status %s", d.Status)
			}
			dc := e.service().DeploymentConfiguration
			switch tc.s.Shape().Kind {
			case "canary":
				if dc.Strategy != types.DeploymentStrategyCanary || aws.ToFloat64(dc.CanaryConfiguration.CanaryPercent) != 10 ||
					aws.ToInt32(dc.CanaryConfiguration.CanaryBakeTimeInMinutes) != 5 {
					t.Fatalf("config %s", jsonOf(dc))
				}
			case "linear":
				if dc.Strategy != types.DeploymentStrategyLinear || aws.ToFloat64(dc.LinearConfiguration.StepPercent) != 25 {
					t.Fatalf("config %s", jsonOf(dc))
				}
			}
			if aws.ToInt32(dc.BakeTimeInMinutes) != 2 {
				t.Fatalf("bake %v", dc.BakeTimeInMinutes)
			}
			all := strings.Join(e.messages(deploy.EventMessage), "\n")
			for _, w := range tc.weights {
				if !strings.Contains(all, "PRODUCTION_TRAFFIC_SHIFT, production traffic "+w) {
					t.Fatalf("no step at %s in %q", w, all)
				}
			}
			if !strings.Contains(all, "BAKE_TIME") {
				t.Fatalf("no bake stage in %q", all)
			}
		})
	}
}

func TestAlarmRollback(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	e.fake.SetAlarm("5xx", true)
	req := e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2"), Alarms: []string{"5xx"}})
	req.Strategy = deploy.Canary(10, 5*time.Minute)
	req.RollbackOn = deploy.OnAlarm
	d, err := e.engine().Deploy(e.ctx(), req)
	if !errors.Is(err, deploy.ErrRolledBack) || d.Status != deploy.StatusRolledBack {
		t.Fatalf("got %v, %v", d.Status, err)
	}
	if !strings.Contains(d.Reason, "alarm 5xx") {
		t.Fatalf("reason %q", d.Reason)
	}
	al := e.service().DeploymentConfiguration.Alarms
	if al == nil || !al.Rollback || !al.Enable || al.AlarmNames[0] != "5xx" {
		t.Fatalf("alarms %s", jsonOf(al))
	}
}

func TestPausedHookContinue(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	req := e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2"),
		Hooks: []LifecycleHook{{Pause: true, Stages: []string{"POST_TEST_TRAFFIC_SHIFT"}}}})
	req.Strategy = deploy.AllAtOnce()
	o := req.Options.(DeployOptions)
	o.BlueGreen = true
	req.Options = o
	p, err := e.drv.Prepare(e.ctx(), req)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.drv.Start(e.ctx(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.drv.Continue(e.ctx(), d); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("continue before the pause: %v", err)
	}
	e.clock.Advance(time.Minute)
	s, err := e.drv.Status(e.ctx(), d)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != deploy.StatusReady {
		t.Fatalf("status %s, want Ready (%s)", s.Status, s.Reason)
	}
	if err := e.drv.Continue(e.ctx(), s); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	s, err = e.drv.Status(e.ctx(), s)
	if err != nil || s.Status != deploy.StatusSucceeded {
		t.Fatalf("after continue: %v %v", s.Status, err)
	}
}

func TestHookFailureRollsBack(t *testing.T) {
	e := newEnv(t, ecsfake.Options{HookResult: func(fn, stage string) error {
		if stage == "POST_SCALE_UP" {
			return errors.New("smoke test failed")
		}
		return nil
	}})
	req := e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2"), HookRoleARN: "arn:aws:iam::1:role/hooks",
		Hooks: []LifecycleHook{{FunctionARN: "arn:aws:lambda:us-east-1:1:function:smoke", Stages: []string{"POST_SCALE_UP"}}}})
	req.Strategy = deploy.Canary(20, time.Minute)
	d, err := e.engine().Deploy(e.ctx(), req)
	if !errors.Is(err, deploy.ErrRolledBack) || !strings.Contains(d.Reason, "smoke test failed") {
		t.Fatalf("got %v %q %v", d.Status, d.Reason, err)
	}
	hooks := e.service().DeploymentConfiguration.LifecycleHooks
	if len(hooks) != 1 || aws.ToString(hooks[0].HookTargetArn) != "arn:aws:lambda:us-east-1:1:function:smoke" ||
		hooks[0].LifecycleStages[0] != types.DeploymentLifecycleHookStagePostScaleUp {
		t.Fatalf("hooks %s", jsonOf(hooks))
	}
}

func TestStopWithRollback(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "service-deployments", false: "fallback"}[api], func(t *testing.T) {
			e := newEnv(t, ecsfake.Options{NoServiceDeployments: !api})
			p, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}))
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.drv.Start(e.ctx(), p)
			if err != nil {
				t.Fatal(err)
			}
			// Without the API ECS stops only by rolling back: a plain
			// stop is refused and changes nothing.
			if !api {
				if _, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{}); !errors.Is(err, deploy.ErrUnsupported) {
					t.Fatalf("plain stop without the API: %v", err)
				}
				if e.fake.Count("UpdateService") != 1 {
					t.Fatalf("the refused stop updated the service: %v", e.fake.Calls())
				}
			}
			out, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{Rollback: true})
			if err != nil || out != deploy.StopPending {
				t.Fatalf("stop: %v %v", out, err)
			}
			out, err = e.drv.Stop(e.ctx(), d, deploy.StopOptions{Rollback: true})
			if err != nil || out != deploy.StopPending {
				t.Fatalf("second stop: %v %v", out, err)
			}
			e.clock.Advance(5 * time.Minute)
			s, err := e.drv.Status(e.ctx(), d)
			if err != nil || s.Status != deploy.StatusRolledBack {
				t.Fatalf("status %v %v", s, err)
			}
			out, err = e.drv.Stop(e.ctx(), d, deploy.StopOptions{Rollback: true})
			if err != nil || out != deploy.StopSucceeded {
				t.Fatalf("stop after rollback: %v %v", out, err)
			}
			if got := aws.ToString(e.service().TaskDefinition); !strings.HasSuffix(got, "web:1") {
				t.Fatalf("service runs %s", got)
			}
		})
	}
}

func TestStopAbort(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	p, _ := e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}))
	d, err := e.drv.Start(e.ctx(), p)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{}); err != nil || out != deploy.StopPending {
		t.Fatalf("%v %v", out, err)
	}
	e.clock.Advance(time.Minute)
	if out, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{}); err != nil || out != deploy.StopSucceeded {
		t.Fatalf("%v %v", out, err)
	}
	s, _ := e.drv.Status(e.ctx(), d)
	if s.Status != deploy.StatusStopped {
		t.Fatalf("status %s", s.Status)
	}
}

func TestStatusUnknownDeployment(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	_, err := e.drv.Status(e.ctx(), &deploy.Deployment{ID: "ecs-svc/0", Target: e.tgt})
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	_, err = e.drv.Status(e.ctx(), &deploy.Deployment{ID: "ecs-svc/0", Target: Target("prod", "nope")})
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}
