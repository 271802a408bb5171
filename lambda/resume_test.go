package lambda_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
)

// TestMotoResumeAfterCrashMidCanary: a process that shifted 10% of the
// alias and died (its driver's memory gone, its journal and lock left in
// the store) is resumed by a new process: the alias returns to version 1
// alone and the lock is released.
func TestMotoResumeAfterCrashMidCanary(t *testing.T) {
	m := newMotoEnv(t)
	ctx := context.Background()
	clk := deploytest.NewAutoClock(time.Time{})
	store := deploytest.NewStore()
	target := lambda.Target("app", "live")

	// The first process: plan, start and shift 10%, journaling each step.
	drv1 := lambda.New(m.lc, lambda.Options{Clock: clk})
	p, err := deploy.New(drv1, deploy.Options{Clock: clk}).Plan(ctx, deploy.Request{Target: target,
		Strategy: deploy.Canary(10, 5*time.Minute), Options: &lambda.DeployOptions{Zip: zipOf(t, "return 2")}})
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	const run = "crashed"
	if _, err := store.Lock(ctx, deploy.Lease{Target: target.String(), Token: "dead", Run: run, Since: now, Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	seq := 0
	journal := func(en deploy.JournalEntry) {
		seq++
		en.Run, en.Seq, en.At = run, seq, clk.Now()
		en.Target = target
		if err := store.Append(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	planTo := p.To
	journal(deploy.JournalEntry{Kind: deploy.JournalPlan, From: p.From, To: &planTo, Mode: p.Mode, Strategy: &p.Request.Strategy})
	d, err := drv1.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	journal(deploy.JournalEntry{Kind: deploy.JournalStarted, DeploymentID: d.ID, To: &d.To})
	journal(deploy.JournalEntry{Kind: deploy.JournalShift, DeploymentID: d.ID, Percent: 10})
	if err := drv1.Shift(ctx, d, 10); err != nil {
		t.Fatal(err)
	}
	if v, w := m.alias(t); v != "1" || w[d.To.ID] != 0.1 {
		t.Fatalf("alias before the crash: %s %v", v, w)
	}

	// A new process, once the dead one's lease ran out.
	clk.Set(now.Add(time.Minute))
	eng := deploy.New(lambda.New(m.lc, lambda.Options{Clock: clk}), deploy.Options{Clock: clk, Store: store})
	res, err := eng.Resume(ctx, deploy.ResumeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Deployment == nil || res[0].Deployment.Status != deploy.StatusRolledBack {
		t.Fatalf("resume = %+v; want the canary rolled back", res)
	}
	if v, w := m.alias(t); v != "1" || len(w) != 0 {
		t.Errorf("alias after resume: version %s weights %v; want version 1 alone", v, w)
	}
	if h, _ := store.Holder(ctx, target.String()); h != nil {
		t.Errorf("lock after resume: %+v", h)
	}
	if left, _ := store.Unfinished(ctx); len(left) != 0 {
		t.Errorf("unfinished after resume: %v", left)
	}
}
