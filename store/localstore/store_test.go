package localstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/store/localstore"
)

func open(t testing.TB, dir string) *localstore.Store {
	t.Helper()
	s, err := localstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRunStore(t *testing.T) {
	deploytest.RunStore(t, func(t *testing.T) *deploytest.StoreHarness {
		dir := t.TempDir()
		return &deploytest.StoreHarness{
			Store: open(t, dir),
			// A second open of the directory: another process's view, with
			// its own file lock.
			Other: func(t *testing.T) deploy.Store { return open(t, dir) },
		}
	})
}

// TestInterruptedWriteAtAnyByte leaves, next to a journal, a lock and a
// history entry, the torn temporary file of a write interrupted at every
// byte in turn: the previous state must stay readable and the store must
// go on working.
func TestInterruptedWriteAtAnyByte(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	t0 := deploytest.Epoch()
	l := deploy.Lease{Target: "fake:web", Token: "a", Owner: "a", Since: t0, Expires: t0.Add(time.Minute)}
	if _, err := s.Lock(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, deploy.JournalEntry{Run: "r", Seq: 1, Kind: deploy.JournalPlan, At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, "fake:web", deploy.HistoryEntry{Revision: deploy.Revision{ID: "v1"}, DeploymentID: "d1", Status: deploy.StatusSucceeded, At: t0}); err != nil {
		t.Fatal(err)
	}
	next := deploy.JournalEntry{Run: "r", Seq: 2, Kind: deploy.JournalShift, At: t0, Percent: 10, DeploymentID: "d1"}
	b, _ := json.Marshal(next)
	var runDir string
	entries, _ := filepath.Glob(filepath.Join(dir, "runs", "*"))
	runDir = entries[0]
	locks := filepath.Join(dir, "locks")
	hist, _ := filepath.Glob(filepath.Join(dir, "history", "*"))
	for n := 0; n <= len(b); n++ {
		for _, d := range []string{runDir, locks, hist[0]} {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf(".tmp-%d", n)), b[:n], 0o600); err != nil {
				t.Fatal(err)
			}
		}
		j, err := s.Journal(ctx, "r")
		if err != nil || len(j) != 1 || j[0].Kind != deploy.JournalPlan {
			t.Fatalf("torn write of %d bytes: journal %+v, %v; want the one entry before it", n, j, err)
		}
		if h, err := s.Holder(ctx, "fake:web"); err != nil || h == nil || h.Token != "a" {
			t.Fatalf("torn write of %d bytes: holder %+v, %v", n, h, err)
		}
		if h, err := s.History(ctx, "fake:web"); err != nil || len(h) != 1 {
			t.Fatalf("torn write of %d bytes: history %+v, %v", n, h, err)
		}
	}
	if err := s.Append(ctx, next); err != nil {
		t.Fatalf("append after torn writes: %v", err)
	}
	if run, _ := s.Unfinished(ctx); len(run) != 1 || run[0] != "r" {
		t.Errorf("unfinished = %v", run)
	}
}

// TestDeadProcessLockTakenAtOnce: a lock whose holder process is gone on
// this host is taken over at once, without waiting for its lease.
func TestDeadProcessLockTakenAtOnce(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	t0 := deploytest.Epoch()
	dead := deploy.Lease{Target: "fake:web", Token: "dead", Host: host, PID: cmd.Process.Pid, Since: t0, Expires: t0.Add(time.Hour)}
	if _, err := s.Lock(ctx, dead); err != nil {
		t.Fatal(err)
	}
	alive := deploy.Lease{Target: "fake:api", Token: "alive", Host: host, PID: os.Getpid(), Since: t0, Expires: t0.Add(time.Hour)}
	if _, err := s.Lock(ctx, alive); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(ctx, deploy.Lease{Target: "fake:web", Token: "new", Host: host, PID: os.Getpid(), Since: t0.Add(time.Second), Expires: t0.Add(time.Minute)}); err != nil {
		t.Errorf("lock held by a dead process (pid %d): %v; want it taken over", cmd.Process.Pid, err)
	}
	if _, err := s.Lock(ctx, deploy.Lease{Target: "fake:api", Token: "new", Host: host, PID: os.Getpid(), Since: t0.Add(time.Second), Expires: t0.Add(time.Minute)}); !errors.Is(err, deploy.ErrLocked) {
		t.Errorf("lock held by a live process: %v; want ErrLocked", err)
	}
}

// TestProcessesRace runs several processes that race for one lock in one
// directory (two CI jobs on one runner): exactly one wins.
func TestProcessesRace(t *testing.T) {
	if dir := os.Getenv("LOCALSTORE_RACE_DIR"); dir != "" {
		s, err := localstore.Open(dir)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		t0 := deploytest.Epoch()
		tok := os.Getenv("LOCALSTORE_RACE_TOKEN")
		_, err = s.Lock(context.Background(), deploy.Lease{Target: "fake:web", Token: tok, Host: "elsewhere", Since: t0, Expires: t0.Add(time.Hour)})
		switch {
		case err == nil:
			fmt.Println("won")
		case errors.Is(err, deploy.ErrLocked):
			fmt.Println("lost")
		default:
			fmt.Println("error", err)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	const n = 6
	cmds := make([]*exec.Cmd, n)
	outs := make([]*strings.Builder, n)
	for i := range n {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestProcessesRace$")
		cmds[i].Env = append(os.Environ(), "LOCALSTORE_RACE_DIR="+dir, "LOCALSTORE_RACE_TOKEN=p"+strconv.Itoa(i))
		outs[i] = &strings.Builder{}
		cmds[i].Stdout = outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	won := 0
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v: %s", i, err, outs[i])
		}
		out := outs[i].String()
		switch {
		case strings.HasPrefix(out, "won"):
			won++
		case strings.HasPrefix(out, "lost"):
		default:
			t.Errorf("process %d: %s", i, out)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d processes took the lock; want exactly one", won, n)
	}
}

// TestResumeTakesOverDeadProcessAtOnce: a run whose process died on this
// host is resumed at once, without waiting for its lease to expire.
func TestResumeTakesOverDeadProcessAtOnce(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	clock := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	p, err := deploy.New(fake, deploy.Options{Clock: clock}).Plan(ctx, deploy.Request{Target: target,
		Revision: deploy.Revision{ID: "v2"}, Strategy: deploy.Canary(10, time.Minute)})
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
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	now := clock.Now()
	if _, err := s.Lock(ctx, deploy.Lease{Target: target.String(), Token: "dead", Host: host, PID: cmd.Process.Pid,
		Run: "r", Since: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	to := p.To
	for i, en := range []deploy.JournalEntry{
		{Kind: deploy.JournalPlan, From: p.From, To: &to, Mode: p.Mode, Strategy: &p.Request.Strategy},
		{Kind: deploy.JournalStarted, DeploymentID: d.ID, To: &d.To},
		{Kind: deploy.JournalShifted, DeploymentID: d.ID, Percent: 10},
	} {
		en.Run, en.Seq, en.At, en.Target = "r", i+1, now, target
		if err := s.Append(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	res, err := deploy.New(fake, deploy.Options{Clock: clock, Store: s}).Resume(ctx, deploy.ResumeOptions{})
	if err != nil || len(res) != 1 || res[0].Deployment == nil || res[0].Deployment.Status != deploy.StatusRolledBack {
		t.Fatalf("resume = %+v, %v; want the canary rolled back at once", res, err)
	}
	if sv := fake.Serving("web"); len(sv) != 1 || sv["v1"] != 100 {
		t.Errorf("serving %v; want v1 alone", sv)
	}
	if h, _ := s.Holder(ctx, target.String()); h != nil {
		t.Errorf("lock after resume: %+v", h)
	}
}
