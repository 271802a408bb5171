package lambda_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
)

func mustStrategy(t *testing.T, s string) deploy.Strategy {
	t.Helper()
	st, err := deploy.ParseStrategy(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestLinear10PercentEvery10MinutesWeights(t *testing.T) {
	e := newEnv(t)
	start := e.clock.Now()
	d, err := e.eng.Deploy(context.Background(), e.zipRequest(mustStrategy(t, "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes")))
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if d.Status != deploy.StatusSucceeded || d.To.ID != "4" || d.From.ID != "1" {
		t.Fatalf("deployment = %s %s -> %s, want Succeeded 1 -> 4", d.Status, d.From.ID, d.To.ID)
	}
	ups := e.fake.AliasUpdates()
	if len(ups) != 10 {
		t.Fatalf("%d alias updates, want 10: %+v", len(ups), ups)
	}
	for i, u := range ups[:9] {
		want := map[string]float64{"4": float64(i+1) / 10}
		if u.Version != "1" || !reflect.DeepEqual(u.Weights, want) {
			t.Errorf("update %d = version %s weights %v, want version 1 weights %v", i, u.Version, u.Weights, want)
		}
	}
	// The weights are exactly the decimal literals.
	lits := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}
	for i, w := range lits {
		if got := ups[i].Weights["4"]; got != w {
			t.Errorf("weight %d = %v, want exactly %v", i, got, w)
		}
	}
	if last := ups[9]; last.Version != "4" || !last.Single() {
		t.Fatalf("last update = %+v, want version 4 alone", last)
	}
	if v, w := e.fake.Alias("app", "live"); v != "4" || w != nil {
		t.Fatalf("alias = %s %v, want 4 alone", v, w)
	}
	if got := e.clock.Now().Sub(start); got < 90*time.Minute {
		t.Fatalf("fake clock moved %s, want at least 90m of bakes", got)
	}
}

func TestCanaryWeights(t *testing.T) {
	e := newEnv(t)
	_, err := e.eng.Deploy(context.Background(), e.versionRequest("3", mustStrategy(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes")))
	if err != nil {
		t.Fatal(err)
	}
	want := []lambdafake.AliasUpdate{
		{Function: "app", Alias: "live", Version: "1", Weights: map[string]float64{"3": 0.1}},
		{Function: "app", Alias: "live", Version: "3"},
	}
	if got := e.fake.AliasUpdates(); !reflect.DeepEqual(got, want) {
		t.Fatalf("updates = %+v, want %+v", got, want)
	}
}

func TestCustomSteps(t *testing.T) {
	e := newEnv(t)
	_, err := e.eng.Deploy(context.Background(), e.versionRequest("2", mustStrategy(t, "steps:5,1m,25,1m,50,1m,100")))
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, u := range e.fake.AliasUpdates() {
		got = append(got, u.Weights["2"])
	}
	if want := []float64{0.05, 0.25, 0.5, 0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("weights = %v, want %v", got, want)
	}
}

// Every predefined Lambda configuration runs to the new version alone with
// rising weights.
func TestEveryLambdaConfigName(t *testing.T) {
	for _, name := range deploy.CodeDeployConfigNames() {
		if !strings.HasPrefix(name, deploy.CodeDeployPrefix+"Lambda") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			s := mustStrategy(t, name)
			if _, err := e.eng.Deploy(context.Background(), e.versionRequest("2", s)); err != nil {
				t.Fatal(err)
			}
			ups := e.fake.AliasUpdates()
			shifts := 0
			for _, st := range s.Normalized() {
				if st.Kind == deploy.StepShift {
					shifts++
				}
			}
			if len(ups) != shifts {
				t.Fatalf("%d updates, want %d", len(ups), shifts)
			}
			last := 0.0
			for _, u := range ups[:len(ups)-1] {
				if w := u.Weights["2"]; w <= last || w >= 1 || u.Version != "1" {
					t.Fatalf("bad update %+v after weight %v", u, last)
				}
				last = u.Weights["2"]
			}
			if u := ups[len(ups)-1]; u.Version != "2" || !u.Single() {
				t.Fatalf("last update %+v", u)
			}
		})
	}
}

func TestAlarmMidCanaryRollsBack(t *testing.T) {
	e := newEnv(t)
	alarm := deploytest.NewAlarm("errors")
	alarm.FireAt(10)
	req := e.zipRequest(mustStrategy(t, "canary:10:5m"))
	req.Gates = []deploy.Gate{alarm}
	req.RollbackOn = deploy.OnAlarm
	d, err := e.eng.Deploy(context.Background(), req)
	if !errors.Is(err, deploy.ErrAlarm) || !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatalf("err = %v, want ErrAlarm and ErrRolledBack", err)
	}
	if d.Status != deploy.StatusRolledBack {
		t.Fatalf("status %s", d.Status)
	}
	if v, w := e.fake.Alias("app", "live"); v != "1" || w != nil {
		t.Fatalf("alias = %s %v, want 1 alone", v, w)
	}
	ups := e.fake.AliasUpdates()
	if last := ups[len(ups)-1]; last.Version != "1" || !last.Single() {
		t.Fatalf("last update %+v", last)
	}
	st, err := e.drv.Status(context.Background(), d)
	if err != nil || st.Status != deploy.StatusRolledBack {
		t.Fatalf("Status = %v, %v", st, err)
	}
}

// Without a rollback policy a failed deployment leaves the alias where it
// was: weighted, and locked until a rollback repairs it.
func TestFailureWithoutRollbackLeavesAliasWeighted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alarm := deploytest.NewAlarm("errors")
	alarm.FireAt(30)
	req := e.versionRequest("2", mustStrategy(t, "linear:10:1m"))
	req.Gates = []deploy.Gate{alarm}
	d, err := e.eng.Deploy(ctx, req)
	if !errors.Is(err, deploy.ErrFailed) {
		t.Fatalf("err = %v", err)
	}
	if d.Status != deploy.StatusFailed {
		t.Fatalf("status %s", d.Status)
	}
	if v, w := e.fake.Alias("app", "live"); v != "1" || w["2"] != 0.3 {
		t.Fatalf("alias = %s %v, want 1 with 2 at 0.3", v, w)
	}
	// The next deployment is refused, naming the repair.
	_, err = e.eng.Deploy(ctx, e.versionRequest("3", deploy.AllAtOnce()))
	var we *lambda.WeightedAliasError
	if !errors.As(err, &we) || !errors.Is(err, deploy.ErrLocked) || !strings.Contains(err.Error(), "Engine.Rollback") {
		t.Fatalf("second deploy: %v, want a WeightedAliasError naming Engine.Rollback", err)
	}
	// The rollback of the failed deployment is the repair.
	rb, err := e.eng.Deploy(ctx, deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "1"}, RollbackOf: d.ID})
	if err != nil || rb.Status != deploy.StatusSucceeded {
		t.Fatalf("rollback = %+v, %v", rb, err)
	}
	if v, w := e.fake.Alias("app", "live"); v != "1" || w != nil {
		t.Fatalf("alias = %s %v, want 1 alone", v, w)
	}
}

func TestAfterTrafficFailureReturnsToOldVersion(t *testing.T) {
	e := newEnv(t)
	e.fake.SetInvoke("validate", func(ctx context.Context, payload []byte) ([]byte, string, error) {
		return []byte(`{"status":"Failed"}`), "", nil
	})
	e.fake.AddFunction("validate", 0)
	req := e.versionRequest("2", deploy.AllAtOnce())
	req.Gates = []deploy.Gate{lambda.HookFunction(e.fake, "validate", deploy.PhaseAfterTraffic, lambda.HookOptions{})}
	req.RollbackOn = deploy.OnFailure
	d, err := e.eng.Deploy(context.Background(), req)
	var he *lambda.HookError
	if !errors.As(err, &he) || !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatalf("err = %v, want a HookError and ErrRolledBack", err)
	}
	if d.Status != deploy.StatusRolledBack {
		t.Fatalf("status %s", d.Status)
	}
	if v, w := e.fake.Alias("app", "live"); v != "1" || w != nil {
		t.Fatalf("alias = %s %v, want 1 alone", v, w)
	}
}

func TestBeforeTrafficHookFunctionErrorFailsBeforeAnyShift(t *testing.T) {
	e := newEnv(t)
	e.fake.AddFunction("validate", 0)
	var got []byte
	e.fake.SetInvoke("validate", func(ctx context.Context, payload []byte) ([]byte, string, error) {
		got = payload
		return []byte(`{"errorMessage":"smoke test failed"}`), "Unhandled", nil
	})
	req := e.versionRequest("2", mustStrategy(t, "canary:10:5m"))
	req.Gates = []deploy.Gate{lambda.HookFunction(e.fake, "validate", deploy.PhaseBeforeTraffic, lambda.HookOptions{})}
	req.RollbackOn = deploy.OnFailure
	_, err := e.eng.Deploy(context.Background(), req)
	var he *lambda.HookError
	if !errors.As(err, &he) || he.FunctionError != "Unhandled" || !strings.Contains(err.Error(), "smoke test failed") {
		t.Fatalf("err = %v", err)
	}
	for _, u := range e.fake.AliasUpdates() {
		if u.Version != "1" || !u.Single() {
			t.Fatalf("traffic moved: %+v", u)
		}
	}
	for _, want := range []string{`"phase":"BeforeAllowTraffic"`, `"currentVersion":"1"`, `"targetVersion":"2"`, `"alias":"live"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("payload %s lacks %s", got, want)
		}
	}
}

func TestGoFuncHooks(t *testing.T) {
	e := newEnv(t)
	var phases []deploy.Phase
	rec := func(ctx context.Context, c deploy.Check) error {
		phases = append(phases, c.Phase)
		return nil
	}
	req := e.versionRequest("2", mustStrategy(t, "canary:10:5m"))
	req.Gates = []deploy.Gate{
		lambda.HookFunc("before", deploy.PhaseBeforeTraffic, rec, lambda.HookOptions{}),
		lambda.HookFunc("after", deploy.PhaseAfterTraffic, rec, lambda.HookOptions{}),
	}
	if _, err := e.eng.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if want := []deploy.Phase{deploy.PhaseBeforeTraffic, deploy.PhaseAfterTraffic}; !reflect.DeepEqual(phases, want) {
		t.Fatalf("phases = %v, want %v", phases, want)
	}
}

func TestHookTimeout(t *testing.T) {
	clk := deploytest.NewClock(time.Time{})
	f := lambdafake.New()
	f.AddFunction("slow", 0)
	f.SetInvoke("slow", func(ctx context.Context, _ []byte) ([]byte, string, error) {
		<-ctx.Done()
		return nil, "", ctx.Err()
	})
	for name, h := range map[string]*lambda.Hook{
		"function": lambda.HookFunction(f, "slow", deploy.PhaseBeforeTraffic, lambda.HookOptions{Timeout: 10 * time.Second, Clock: clk}),
		// A Go func that ignores its context still times out.
		"func": lambda.HookFunc("stuck", deploy.PhaseBeforeTraffic, func(context.Context, deploy.Check) error {
			select {}
		}, lambda.HookOptions{Timeout: 10 * time.Second, Clock: clk}),
	} {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- h.Check(context.Background(), deploy.Check{Phase: deploy.PhaseBeforeTraffic}) }()
			if err := clk.BlockUntil(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			clk.Advance(10 * time.Second)
			err := <-done
			var he *lambda.HookError
			if !errors.As(err, &he) || !errors.Is(err, deploy.ErrTimeout) {
				t.Fatalf("err = %v, want a HookError wrapping ErrTimeout", err)
			}
		})
	}
}

func TestHookIgnoresOtherPhases(t *testing.T) {
	called := false
	h := lambda.HookFunc("x", deploy.PhaseAfterTraffic, func(context.Context, deploy.Check) error { called = true; return errors.New("no") }, lambda.HookOptions{})
	for _, p := range []deploy.Phase{deploy.PhaseBeforeTraffic, deploy.PhaseShift, deploy.PhaseBake, deploy.PhaseWatch} {
		if err := h.Check(context.Background(), deploy.Check{Phase: p}); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if called {
		t.Fatal("hook ran outside its phase")
	}
}

func TestHookResultFailed(t *testing.T) {
	for payload, want := range map[string]bool{
		``: false, `null`: false, `true`: false, `false`: true, `"Failed"`: true, `"Succeeded"`: false,
		`{"status":"Failed"}`: true, `{"Status":"FAILED"}`: true, `{"status":"Succeeded"}`: false,
		`{"status":"failure"}`: true, `not json`: false, `{"statusCode":500}`: false,
	} {
		if got := lambda.HookResultFailed([]byte(payload)); got != want {
			t.Errorf("HookResultFailed(%q) = %v, want %v", payload, got, want)
		}
	}
}

func TestPublishWaitsForUpdateAndRetriesConflicts(t *testing.T) {
	e := newEnv(t)
	e.fake.UpdateDelay = 3
	e.fake.ConflictNext(2)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "function.json")
	if err := os.WriteFile(cfg, []byte(`{"MemorySize": 512, "Environment": {"Variables": {"MODE": "new"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(dir, "app.zip")
	if err := os.WriteFile(zip, fakeZip("PK new code"), 0o644); err != nil {
		t.Fatal(err)
	}
	req := deploy.Request{Target: e.tgt, Options: &lambda.DeployOptions{ZipFile: zip, ConfigFile: cfg}}
	p, err := e.eng.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if e.fake.Mutations() != 0 {
		t.Fatal("Plan mutated")
	}
	var paths []string
	for _, c := range p.Changes {
		paths = append(paths, c.Path)
	}
	for _, want := range []string{"function.codeSha256", "function.MemorySize", "function.Environment.Variables.MODE", "alias.live.functionVersion"} {
		if !strings.Contains(strings.Join(paths, " "), want) {
			t.Errorf("plan changes %v lack %s", paths, want)
		}
	}
	d, err := e.eng.Execute(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if d.To.ID != "4" {
		t.Fatalf("deployed %s, want new version 4", d.To.ID)
	}
	var ops []string
	for _, c := range e.fake.Calls() {
		if c.Mutating {
			ops = append(ops, c.Op)
		}
	}
	// Two conflicts on the configuration update, then one update each.
	want := []string{"UpdateFunctionConfiguration", "UpdateFunctionConfiguration", "UpdateFunctionConfiguration", "UpdateFunctionCode", "UpdateAlias"}
	if !reflect.DeepEqual(ops, want) {
		t.Fatalf("mutating calls = %v, want %v", ops, want)
	}
	// Each update was followed by polling until Successful: the code update
	// must not have been tried while the configuration update was in
	// progress (the fake would have answered a conflict).
	if n := countOp(e.fake.Calls(), "GetFunctionConfiguration"); n < 8 {
		t.Fatalf("only %d GetFunctionConfiguration calls: LastUpdateStatus was not polled", n)
	}
}

func countOp(calls []lambdafake.Call, op string) int {
	n := 0
	for _, c := range calls {
		if c.Op == op {
			n++
		}
	}
	return n
}

func TestPublishFailedUpdate(t *testing.T) {
	e := newEnv(t)
	e.fake.FailNext("UpdateFunctionCode", &types.CodeStorageExceededException{Message: aws.String("storage full")})
	_, err := e.eng.Deploy(context.Background(), e.zipRequest(deploy.AllAtOnce()))
	var cs *types.CodeStorageExceededException
	if !errors.As(err, &cs) {
		t.Fatalf("err = %v, want the SDK error reachable", err)
	}
	var de *deploy.Error
	if !errors.As(err, &de) || de.Platform != "lambda" {
		t.Fatalf("err %v is not a *deploy.Error from lambda", err)
	}
	if e.aliasUpdates() != 0 {
		t.Fatal("alias changed")
	}
}

func TestResetWeightsRepairsAlias(t *testing.T) {
	e := newEnv(t)
	e.fake.AddAlias("app", "live", "1", map[string]float64{"3": 0.25})
	req := e.versionRequest("2", deploy.AllAtOnce())
	req.Options = &lambda.DeployOptions{ResetWeights: true}
	if _, err := e.eng.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	ups := e.fake.AliasUpdates()
	if len(ups) != 2 || ups[0].Version != "1" || !ups[0].Single() || ups[1].Version != "2" || !ups[1].Single() {
		t.Fatalf("updates = %+v, want repair to 1 then 2", ups)
	}
}

func TestShiftRefusesAliasChangedByOthers(t *testing.T) {
	e := newEnv(t)
	p, err := e.drv.Prepare(context.Background(), e.versionRequest("2", deploy.AllAtOnce()))
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.drv.Start(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.AddAlias("app", "live", "3", nil) // someone else deploys
	before := e.fake.Mutations()
	err = e.drv.Shift(context.Background(), d, 10)
	if !errors.Is(err, deploy.ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if e.fake.Mutations() != before {
		t.Fatal("Shift changed an alias it does not own")
	}
}

// Cancelling the context while Shift waits out a conflict backoff returns
// at once with the context's error and leaves the alias as it was before
// the call; the engine's follow-up stop with rollback then restores it.
func TestCancelMidShiftLeavesAliasAsItWas(t *testing.T) {
	f := lambdafake.New()
	f.AddFunction("app", 3)
	f.AddAlias("app", "live", "1", nil)
	clk := deploytest.NewClock(time.Time{})
	drv := lambda.New(f, lambda.Options{Clock: clk})
	ctx := context.Background()
	p, err := drv.Prepare(ctx, deploy.Request{Target: lambda.Target("app", "live"), Revision: deploy.Revision{ID: "2"}, Strategy: mustStrategy(t, "linear:10:1m")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := drv.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := drv.Shift(ctx, d, 10); err != nil {
		t.Fatal(err)
	}
	f.ConflictNext(1)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- drv.Shift(sctx, d, 20) }()
	if err := clk.BlockUntil(ctx, 1); err != nil { // waiting out the conflict backoff
		t.Fatal(err)
	}
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if v, w := f.Alias("app", "live"); v != "1" || w["2"] != 0.1 {
		t.Fatalf("alias = %s %v, want 1 with 2 at 0.1", v, w)
	}
	st, err := drv.Status(ctx, d)
	if err != nil || st.Status != deploy.StatusInProgress || st.Percent != 10 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if out, err := drv.Stop(ctx, d, deploy.StopOptions{Rollback: true}); err != nil || out != deploy.StopSucceeded {
		t.Fatalf("Stop = %v, %v", out, err)
	}
	if v, w := f.Alias("app", "live"); v != "1" || w != nil {
		t.Fatalf("alias = %s %v", v, w)
	}
}

func TestStopWithAndWithoutRollback(t *testing.T) {
	for _, rollback := range []bool{false, true} {
		e := newEnv(t)
		ctx := context.Background()
		p, err := e.drv.Prepare(ctx, e.versionRequest("2", mustStrategy(t, "linear:10:1m")))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := e.drv.Start(ctx, p)
		for _, pc := range []float64{10, 20, 30} {
			if err := e.drv.Shift(ctx, d, pc); err != nil {
				t.Fatal(err)
			}
		}
		st, _ := e.drv.Status(ctx, d)
		if math.Abs(st.Percent-30) > 1e-9 || st.Status != deploy.StatusInProgress {
			t.Fatalf("status before stop = %s %v%%", st.Status, st.Percent)
		}
		out, err := e.drv.Stop(ctx, d, deploy.StopOptions{Rollback: rollback, Reason: "operator"})
		if err != nil || out != deploy.StopSucceeded {
			t.Fatalf("Stop = %v, %v", out, err)
		}
		v, w := e.fake.Alias("app", "live")
		st, _ = e.drv.Status(ctx, d)
		if rollback {
			if v != "1" || w != nil {
				t.Fatalf("alias = %s %v, want 1 alone", v, w)
			}
			if st.Status != deploy.StatusRolledBack || st.Percent != 0 || st.Reason != "operator" {
				t.Fatalf("status = %s %v%% (%s), want RolledBack at 0", st.Status, st.Percent, st.Reason)
			}
		} else {
			// Nothing more moves: the alias keeps its weights.
			if v != "1" || w["2"] != 0.3 {
				t.Fatalf("alias = %s %v, want 1 with 2 at 0.3", v, w)
			}
			if st.Status != deploy.StatusStopped || math.Abs(st.Percent-30) > 1e-9 || !strings.HasPrefix(st.Reason, "operator") {
				t.Fatalf("status = %s %v%% (%s), want Stopped at 30", st.Status, st.Percent, st.Reason)
			}
		}
		if err := e.drv.Shift(ctx, d, 40); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Fatalf("Shift after stop: %v", err)
		}
	}
}

func TestHistoryAndLastKnownGood(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.eng.Deploy(ctx, e.versionRequest("2", deploy.AllAtOnce())); err != nil {
		t.Fatal(err)
	}
	alarm := deploytest.NewAlarm("a")
	alarm.FireAt(1)
	req := e.versionRequest("3", mustStrategy(t, "canary:10:1m"))
	req.Gates, req.RollbackOn = []deploy.Gate{alarm}, deploy.OnAlarm
	if _, err := e.eng.Deploy(ctx, req); !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatal(err)
	}
	h, err := e.drv.History(ctx, e.tgt)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range h {
		s := en.Revision.ID + ":" + string(en.Status)
		if en.Current {
			s += "*"
		}
		got = append(got, s)
	}
	if want := []string{"3:RolledBack", "2:Succeeded*", "1:Succeeded"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	good, ok := deploy.LastKnownGood(h)
	if !ok || good.Revision.ID != "1" {
		t.Fatalf("last known good = %v %v, want 1", good, ok)
	}
	rb, err := e.eng.Rollback(ctx, deploy.RollbackRequest{Target: e.tgt})
	if err != nil || rb.To.ID != "1" {
		t.Fatalf("rollback = %v, %v", rb, err)
	}
	if v, _ := e.fake.Alias("app", "live"); v != "1" {
		t.Fatalf("alias on %s after rollback", v)
	}
}

func TestFileHistorySurvivesDrivers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.json")
	f := lambdafake.New()
	f.AddFunction("app", 3)
	f.AddAlias("app", "live", "1", nil)
	clk := deploytest.NewAutoClock(time.Time{})
	ctx := context.Background()
	first := deploy.New(lambda.New(f, lambda.Options{Clock: clk, History: lambda.NewFileHistory(path)}), deploy.Options{Clock: clk})
	if _, err := first.Deploy(ctx, deploy.Request{Target: lambda.Target("app", "live"), Revision: deploy.Revision{ID: "2"}}); err != nil {
		t.Fatal(err)
	}
	second := lambda.New(f, lambda.Options{Clock: clk, History: lambda.NewFileHistory(path)})
	h, err := second.History(ctx, lambda.Target("app", "live"))
	if err != nil {
		t.Fatal(err)
	}
	good, ok := deploy.LastKnownGood(h)
	if !ok || good.Revision.ID != "1" {
		t.Fatalf("last known good from file = %v %v", good, ok)
	}
}

func TestStatusUnknown(t *testing.T) {
	e := newEnv(t)
	_, err := e.drv.Status(context.Background(), &deploy.Deployment{ID: "nope", Target: e.tgt})
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatal(err)
	}
}
