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

// marking is the fake driver recording, per call, whether the engine says
// it asks the call again when throttled.
type marking struct {
	*deploytest.Driver
	mu     sync.Mutex
	marked map[string][]bool
}

func (m *marking) note(op string, ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.marked[op] = append(m.marked[op], deploy.EngineRetriesThrottles(ctx))
}

func (m *marking) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	m.note("Prepare", ctx)
	return m.Driver.Prepare(ctx, req)
}

func (m *marking) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	m.note("Start", ctx)
	return m.Driver.Start(ctx, p)
}

func (m *marking) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	m.note("Status", ctx)
	return m.Driver.Status(ctx, d)
}

func (m *marking) Shift(ctx context.Context, d *deploy.Deployment, pct float64) error {
	m.note("Shift", ctx)
	return m.Driver.Shift(ctx, d, pct)
}

func (m *marking) StatusMany() {} // hide the fake's: polls go through Status

// The calls the engine asks again when throttled, Start aside, carry the
// mark an AWS client reads to leave throttles to the engine; a caller's
// own Engine.Status does not.
func TestEngineRetriesThrottlesMarksItsCalls(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := f.AddTarget("fn", deploy.Revision{ID: "1"})
	m := &marking{Driver: f, marked: map[string][]bool{}}
	eng := deploy.New(m, deploy.Options{Clock: clk})
	d, err := eng.Deploy(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "2"},
		Strategy: deploy.Canary(10, 5*time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	for _, op := range []string{"Prepare", "Start", "Status", "Shift"} {
		if len(m.marked[op]) == 0 {
			t.Errorf("the engine made no %s call", op)
		}
		for _, marked := range m.marked[op] {
			// A start's calls after its mutation took effect must keep
			// the client's own retries.
			if want := op != "Start"; marked != want {
				t.Errorf("a %s call is marked %v, want %v", op, marked, want)
			}
		}
	}
	m.marked = map[string][]bool{}
	m.mu.Unlock()
	if _, err := eng.Status(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if got := m.marked["Status"]; len(got) != 1 || got[0] {
		t.Errorf("a caller's Engine.Status is marked as retried by the engine: %v", got)
	}
}

// startMarks is the fake driver recording whether its Start hears that
// the engine asks it again when throttled.
type startMarks struct {
	*deploytest.Driver
	retried []bool
}

func (s *startMarks) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	s.retried = append(s.retried, deploy.EngineRetriesStart(ctx))
	return s.Driver.Start(ctx, p)
}

// The engine's Start says it is asked again when throttled; a Start made
// outside the engine does not.
func TestEngineRetriesStartMarksTheEnginesStart(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	f := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := f.AddTarget("fn", deploy.Revision{ID: "1"})
	s := &startMarks{Driver: f}
	eng := deploy.New(s, deploy.Options{Clock: clk})
	p, err := eng.Plan(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Execute(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if deploy.EngineRetriesStart(context.Background()) || len(s.retried) != 1 || !s.retried[0] {
		t.Fatalf("Start heard %v, want the engine's mark once", s.retried)
	}
}
