package lambda_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/platform"
)

func countCalls(e *cdEnv, op string) int {
	n := 0
	for _, c := range e.cd.Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

// A CodeDeploy stop without rollback leaves the alias weighted and the
// deployment Stopped at the share CodeDeploy had shifted; the alias is then
// locked until Engine.Rollback repairs it, which needs no CodeDeploy
// deployment when it returns to the alias's primary version.
func TestCodeDeployStopWithoutRollbackLocksUntilRollback(t *testing.T) {
	e := newCDEnv(t)
	e.glue.weights = true
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
	if d.Status != deploy.StatusCreated || d.Percent != 0 {
		t.Fatalf("Start = %s at %v%%", d.Status, d.Percent)
	}
	for range 20 {
		e.clock.Advance(time.Second)
		if st, err := e.drv.Status(ctx, d); err != nil {
			t.Fatal(err)
		} else if st.Percent > 0 {
			break
		}
	}
	out, err := e.drv.Stop(ctx, d, deploy.StopOptions{Reason: "operator"})
	if err != nil || out != deploy.StopSucceeded {
		t.Fatalf("Stop = %q, %v", out, err)
	}
	st, err := e.drv.Status(ctx, d)
	if err != nil || st.Status != deploy.StatusStopped || st.Percent != 10 {
		t.Fatalf("Status = %+v, %v; want Stopped at 10%%", st, err)
	}
	e.glue.Sync("app", "app-live")
	if v, w := e.lf.Alias("app", "live"); v != "1" || w["2"] != 0.1 {
		t.Fatalf("alias %s %v, want 1 with 2 at 0.1", v, w)
	}
	// Stopping it again changes nothing; reversing it is refused.
	stops := countCalls(e, "StopDeployment")
	if out, err := e.drv.Stop(ctx, d, deploy.StopOptions{}); err != nil || out != deploy.StopSucceeded {
		t.Fatalf("second Stop = %q, %v", out, err)
	}
	if _, err := e.drv.Stop(ctx, d, deploy.StopOptions{Rollback: true}); !errors.Is(err, deploy.ErrCannotStop) {
		t.Fatalf("Stop with rollback of a stopped deployment: %v, want ErrCannotStop", err)
	}
	if n := countCalls(e, "StopDeployment"); n != stops {
		t.Fatalf("%d StopDeployment calls for an ended deployment", n-stops)
	}
	e.clock.SetAuto(true)
	var we *lambda.WeightedAliasError
	if _, err := e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "3"}}); !errors.As(err, &we) || !errors.Is(err, deploy.ErrLocked) {
		t.Fatalf("Plan on the weighted alias: %v, want a WeightedAliasError", err)
	}
	creates := countCalls(e, "CreateDeployment")
	rb, err := e.eng.Rollback(ctx, deploy.RollbackRequest{Target: e.tgt, Of: d.ID})
	if err != nil || rb.Status != deploy.StatusSucceeded || rb.To.ID != "1" || rb.RollbackOf != d.ID {
		t.Fatalf("Rollback = %+v, %v", rb, err)
	}
	if n := countCalls(e, "CreateDeployment"); n != creates {
		t.Fatalf("the rollback to the primary version created %d CodeDeploy deployments", n-creates)
	}
	e.glue.Sync("app", "app-live")
	if v, w := e.lf.Alias("app", "live"); v != "1" || w != nil {
		t.Fatalf("alias %s %v after the rollback, want 1 alone", v, w)
	}
	if _, err := e.eng.Deploy(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "3"}}); err != nil {
		t.Fatalf("deploy after the repair: %v", err)
	}
}

// Hook functions go into the AppSpec; the plan's gates keep only what the
// engine must still run.
func TestCodeDeployHooksLeaveEngineGates(t *testing.T) {
	e := newCDEnv(t)
	e.lf.AddFunction("pre", 0)
	ctx := context.Background()
	other := deploy.GateFunc{GateName: "smoke", Func: func(context.Context, deploy.Check) error { return nil }}
	hook := lambda.HookFunction(e.lf, "pre", deploy.PhaseBeforeTraffic, lambda.HookOptions{})
	p, err := e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "2"}, Gates: []deploy.Gate{hook, other}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Request.Gates) != 1 || p.Request.Gates[0].Name() != "smoke" {
		t.Fatalf("plan gates %v, want only smoke", p.Request.Gates)
	}
	p, err = e.eng.Plan(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "2"}, Gates: []deploy.Gate{hook}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Request.Gates == nil || len(p.Request.Gates) != 0 {
		t.Fatalf("plan gates %#v, want an empty non-nil slice", p.Request.Gates)
	}
}

// Strategies CodeDeploy cannot follow are deploy.UnsupportedStrategy,
// refused before any call.
func TestCodeDeployUnsupportedStrategies(t *testing.T) {
	e := newCDEnv(t)
	for _, s := range []deploy.Strategy{
		deploy.Custom(deploy.ShiftTo(7), deploy.BakeFor(time.Minute), deploy.ShiftTo(100)),
		deploy.Custom(deploy.ShiftTo(10), deploy.Approval(), deploy.ShiftTo(100)),
		deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 1}),
	} {
		calls := len(e.cd.Calls()) + len(e.lf.Calls())
		_, err := e.drv.Prepare(context.Background(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "2"}, Strategy: s})
		if !errors.Is(err, deploy.ErrUnsupported) || !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("%s: %v, want UnsupportedStrategy", s, err)
		}
		if n := len(e.cd.Calls()) + len(e.lf.Calls()) - calls; n != 0 {
			t.Errorf("%s: %d calls before the refusal", s, n)
		}
	}
}

// The client-driven driver refuses a second live deployment to an alias,
// and accepts the rollback of the live one, which ends it.
func TestSecondLiveDeploymentLocked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p1, err := e.drv.Prepare(ctx, e.versionRequest("2", deploy.AllAtOnce()))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := e.drv.Prepare(ctx, e.versionRequest("3", deploy.AllAtOnce()))
	if err != nil {
		t.Fatal(err)
	}
	d1, err := e.drv.Start(ctx, p1)
	if err != nil {
		t.Fatal(err)
	}
	mut := e.fake.Mutations()
	if _, err := e.drv.Start(ctx, p2); !errors.Is(err, deploy.ErrLocked) {
		t.Fatalf("second Start: %v, want ErrLocked", err)
	}
	if e.fake.Mutations() != mut {
		t.Fatal("the refused Start made a mutating call")
	}
	rbReq := e.versionRequest("1", deploy.AllAtOnce())
	rbReq.RollbackOf = d1.ID
	p3, err := e.drv.Prepare(ctx, rbReq)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := e.drv.Start(ctx, p3)
	if err != nil {
		t.Fatalf("rollback Start: %v", err)
	}
	if st, _ := e.drv.Status(ctx, d1); !st.Status.Terminal() || st.RolledBackBy != rb.ID {
		t.Fatalf("the superseded deployment is %s (rolled back by %q)", st.Status, st.RolledBackBy)
	}
	if err := e.drv.Shift(ctx, rb, 100); err != nil {
		t.Fatal(err)
	}
	// Once ended, the alias takes new deployments again.
	if d, err := e.drv.Start(ctx, p2); err != nil || d.Status != deploy.StatusInProgress {
		t.Fatalf("Start after the end: %v, %v", d, err)
	}
}

// AWS errors keep their SDK type and gain the deploy sentinel; a cancelled
// context reaches no AWS call at all.
func TestErrorsWrapped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.drv.Prepare(ctx, deploy.Request{Target: lambda.Target("nope", "live"), Revision: deploy.Revision{ID: "2"}})
	var de *deploy.Error
	if !errors.Is(err, deploy.ErrNotFound) || !errors.As(err, &de) || de.Platform != lambda.Platform || platform.Classify(err) != platform.ClassNotFound {
		t.Fatalf("missing function: %v", err)
	}
	dead, cancel := context.WithCancel(ctx)
	cancel()
	calls := len(e.fake.Calls())
	if _, err := e.drv.Alias(dead, e.tgt); !errors.Is(err, context.Canceled) {
		t.Errorf("Alias: %v", err)
	}
	if _, err := e.drv.ResetWeights(dead, e.tgt); !errors.Is(err, context.Canceled) {
		t.Errorf("ResetWeights: %v", err)
	}
	if _, err := e.drv.History(dead, e.tgt); !errors.Is(err, context.Canceled) {
		t.Errorf("History: %v", err)
	}
	if n := len(e.fake.Calls()) - calls; n != 0 {
		t.Errorf("%d calls with a cancelled context", n)
	}
}
