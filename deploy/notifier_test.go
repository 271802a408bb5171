package deploy_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// noting is the fake driver (its Driver methods only) with a note from
// every call the engine makes.
type noting struct{ d *deploytest.Driver }

func (n noting) Platform() string { return n.d.Platform() }

func (n noting) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	deploy.NotifierFrom(ctx)(deploy.EventNote, "note from Prepare")
	return n.d.Prepare(ctx, req)
}

func (n noting) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	deploy.NotifierFrom(ctx)(deploy.EventNote, "note from Start")
	return n.d.Start(ctx, p)
}

func (n noting) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	deploy.NotifierFrom(ctx)(deploy.EventNote, "note from Status")
	return n.d.Status(ctx, d)
}

// What a driver reports through the context's Notifier reaches OnEvent,
// from every call, including Prepare and Start before a deployment
// exists.
func TestDriverNotesReachOnEvent(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk, Mode: deploy.ModePlatform})
	target := drv.AddTarget("svc", deploy.Revision{ID: "1"})
	var mu sync.Mutex
	notes := map[string]deploy.Event{}
	eng := deploy.New(noting{drv}, deploy.Options{Clock: clk, OnEvent: func(ev deploy.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Kind == deploy.EventNote {
			notes[ev.Message] = ev
		}
	}})
	if _, err := eng.Deploy(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "2"}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"note from Prepare", "note from Start", "note from Status"} {
		ev, ok := notes[want]
		if !ok {
			t.Errorf("%q never reached OnEvent (got %v)", want, notes)
			continue
		}
		if ev.Target != target.String() || ev.Time.IsZero() {
			t.Errorf("%q: target %q, time %v; want the target and a time", want, ev.Target, ev.Time)
		}
	}
}

// A notifier the caller put in the context still gets the driver's notes:
// the engine reports them as events as well, not instead.
func TestDriverNotesAlsoReachTheCallersNotifier(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	drv := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk, Mode: deploy.ModePlatform})
	target := drv.AddTarget("svc", deploy.Revision{ID: "1"})
	var mu sync.Mutex
	got := map[string]bool{}
	ctx := deploy.WithNotifier(context.Background(), func(_ deploy.EventKind, msg string) {
		mu.Lock()
		defer mu.Unlock()
		got[msg] = true
	})
	eng := deploy.New(noting{drv}, deploy.Options{Clock: clk})
	if _, err := eng.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "2"}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"note from Prepare", "note from Start", "note from Status"} {
		if !got[want] {
			t.Errorf("%q never reached the caller's notifier (got %v)", want, got)
		}
	}
}
