package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// record runs f on an engine over the fake and returns its events.
func record(t *testing.T, mode deploy.Mode, f func(eng *deploy.Engine, fake *deploytest.Driver) error) []deploy.Event {
	t.Helper()
	clk := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Mode: mode, Clock: clk})
	var mu sync.Mutex
	var events []deploy.Event
	eng := deploy.New(fake, deploy.Options{Clock: clk, OnEvent: func(e deploy.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}})
	_ = f(eng, fake)
	return events
}

// lines feeds events to a plain (not a terminal) progress view.
func lines(events []deploy.Event) []string {
	p := newProgressView(nil)
	var out []string
	for _, e := range events {
		if l := p.update(e); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func expectLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("progress never showed %q:\n%s", w, all)
		}
	}
}

func TestProgressOfACanary(t *testing.T) {
	events := record(t, deploy.ModeEngine, func(eng *deploy.Engine, fake *deploytest.Driver) error {
		tg := fake.AddTarget("checkout:live", deploy.Revision{ID: "41"})
		_, err := eng.Deploy(context.Background(), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "42"},
			Strategy: deploy.Canary(10, 5*time.Minute)})
		return err
	})
	got := lines(events)
	expectLines(t, got,
		"fake:checkout:live: step 1/3 · 10% · InProgress · at least 5m0s left",
		"step 2/3 · 10% · Baking · bake ends 00:05:00 · at least 5m0s left",
		"step 3/3 · 100% · Succeeded")
	for _, l := range got {
		if strings.Contains(l, "Succeeded") && strings.Contains(l, "left") {
			t.Errorf("a finished deployment has no time left: %s", l)
		}
	}
}

func TestProgressOfARollback(t *testing.T) {
	events := record(t, deploy.ModeEngine, func(eng *deploy.Engine, fake *deploytest.Driver) error {
		tg := fake.AddTarget("checkout:live", deploy.Revision{ID: "41"})
		alarm := deploytest.NewAlarm("5xx")
		alarm.FireAt(10)
		_, err := eng.Deploy(context.Background(), deploy.Request{Target: tg, Revision: deploy.Revision{ID: "42"},
			Strategy: deploy.Linear(25, time.Minute), Gates: []deploy.Gate{alarm}, RollbackOn: deploy.OnAlarm})
		return err
	})
	expectLines(t, lines(events),
		"step 1/7 · 25% · InProgress · at least 3m0s left",
		"step 1/7 · 0% · RolledBack")
}

func TestProgressOfAFleet(t *testing.T) {
	events := record(t, deploy.ModePlatform, func(eng *deploy.Engine, fake *deploytest.Driver) error {
		var reqs []deploy.Request
		for i := range 3 {
			tg := fake.AddTarget(fmt.Sprint("svc-", i), deploy.Revision{ID: "1"})
			reqs = append(reqs, deploy.Request{Target: tg, Revision: deploy.Revision{ID: "2"}, Strategy: deploy.Canary(50, time.Minute)})
		}
		fake.FailNext(2, errors.New("tasks failed")) // the first started fails at its last shift
		_, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{Concurrency: 3})
		return err
	})
	got := lines(events)
	// The deployments interleave as the scheduler runs them; whatever the
	// order, each is followed step by step and the fleet is summed up.
	expectLines(t, got, "step 2/3 · 50% · Baking", "· Failed", "step 3/3 · 100% · Succeeded", "1 failed")
	for _, l := range got[4:] {
		if !strings.Contains(l, " running, ") {
			t.Errorf("with several deployments each line sums the fleet up: %s", l)
		}
	}
	if !strings.Contains(got[len(got)-1], "0 running, 2 done, 1 failed") {
		t.Errorf("the last line does not sum the fleet up: %s", got[len(got)-1])
	}
}
