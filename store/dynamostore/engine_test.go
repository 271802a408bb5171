package dynamostore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/store/dynamostore"
)

// TestEnginesRaceOnOneTable: two engines (two clients, as on two machines)
// on one table race for one target: exactly one deploys, the other gets
// ErrLocked naming the holder; a lock whose lease expired is taken over.
func TestEnginesRaceOnOneTable(t *testing.T) {
	srv := motoserver.Start(t)
	_, _, table := newTable(t, srv)
	clock := deploytest.NewClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	engine := func(owner string) *deploy.Engine {
		st := dynamostore.New(dynamodb.NewFromConfig(srv.Config()), table, dynamostore.Options{})
		return deploy.New(fake, deploy.Options{Clock: clock, Store: st, Owner: owner})
	}
	engines := []*deploy.Engine{engine("machine-a"), engine("machine-b")}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	locked := make(chan int, 2)
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
				Strategy: deploy.Canary(10, 5*time.Minute)})
			if errors.Is(errs[i], deploy.ErrLocked) {
				locked <- i
			}
		}()
	}
	var loser int
	select {
	case loser = <-locked:
	case <-ctx.Done():
		t.Fatal("neither engine was refused")
	}
	// The winner bakes at 10% on the manual clock; let it finish.
	if err := clock.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.SetAuto(true)
	wg.Wait()
	var le *deploy.LockedError
	if !errors.As(errs[loser], &le) {
		t.Fatalf("loser's error %v; want a *deploy.LockedError from the store", errs[loser])
	}
	if want := []string{"machine-a", "machine-b"}[1-loser]; le.Holder.Owner != want {
		t.Errorf("LockedError names %q; want the winner", le.Holder.Owner)
	}
	if errs[1-loser] != nil {
		t.Errorf("winner: %v", errs[1-loser])
	}
	starts := 0
	for _, c := range fake.Calls() {
		if c.Op == "Start" {
			starts++
		}
	}
	if starts != 1 {
		t.Errorf("%d Start calls; want exactly one deployment", starts)
	}

	// A holder that died on another machine: its lease is honoured until it
	// expires, then taken over.
	clock.SetAuto(false)
	st := dynamostore.New(dynamodb.NewFromConfig(srv.Config()), table, dynamostore.Options{})
	now := clock.Now()
	if _, err := st.Lock(ctx, deploy.Lease{Target: target.String(), Token: "dead", Owner: "machine-c", Since: now, Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := engines[0].Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v3"}}); !errors.As(err, &le) || le.Holder.Owner != "machine-c" {
		t.Fatalf("deploy while machine-c's lease runs = %v; want ErrLocked naming machine-c", err)
	}
	clock.Advance(time.Minute)
	clock.SetAuto(true)
	if _, err := engines[0].Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v3"}}); err != nil {
		t.Fatalf("deploy once the dead holder's lease expired: %v", err)
	}
	if h, _ := st.Holder(ctx, target.String()); h != nil {
		t.Errorf("lock held after the deployment: %+v", h)
	}
}

// TestResumeOnDynamoDB: a run left unfinished in the table by a dead process
// is resumed by an engine on another machine once the lease expired.
func TestResumeOnDynamoDB(t *testing.T) {
	srv := motoserver.Start(t)
	st, _, _ := newTable(t, srv)
	clock := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	ctx := context.Background()
	// What a process killed at 10% leaves: its journal, its lock and the split.
	e0 := deploy.New(fake, deploy.Options{Clock: clock})
	p, err := e0.Plan(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"}, Strategy: deploy.Canary(10, time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := fake.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Shift(ctx, d, 10); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	run := "dead-run"
	if _, err := st.Lock(ctx, deploy.Lease{Target: target.String(), Token: "dead", Run: run, Since: now, Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	to := p.To
	for i, en := range []deploy.JournalEntry{
		{Kind: deploy.JournalPlan, Target: target, From: p.From, To: &to, Mode: p.Mode, Strategy: &p.Request.Strategy},
		{Kind: deploy.JournalStarted, DeploymentID: d.ID},
		{Kind: deploy.JournalShift, DeploymentID: d.ID, Percent: 10},
	} {
		en.Run, en.Seq, en.At = run, i+1, now
		if en.Target.Name == "" {
			en.Target = target
		}
		if err := st.Append(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	e := deploy.New(fake, deploy.Options{Clock: clock, Store: st})
	res, err := e.Resume(ctx, deploy.ResumeOptions{})
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, deploy.ErrLocked) {
		t.Fatalf("resume within the dead holder's lease = %+v, %v; want the run skipped as locked", res, err)
	}
	clock.Set(now.Add(time.Minute))
	res, err = e.Resume(ctx, deploy.ResumeOptions{})
	if err != nil || len(res) != 1 || res[0].Deployment == nil || res[0].Deployment.Status != deploy.StatusRolledBack {
		t.Fatalf("resume = %+v, %v; want the split rolled back", res, err)
	}
	if s := fake.Serving("web"); len(s) != 1 || s["v1"] != 100 {
		t.Errorf("serving %v; want v1 alone", s)
	}
	if left, _ := st.Unfinished(ctx); len(left) != 0 {
		t.Errorf("unfinished after resume: %v", left)
	}
	if h, _ := st.Holder(ctx, target.String()); h != nil {
		t.Errorf("lock after resume: %+v", h)
	}
}
