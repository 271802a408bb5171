package deploytest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// Harness is what the conformance suite needs to exercise a driver. A new
// Harness is made for every clause, so clauses do not see each other's
// deployments.
type Harness struct {
	// Driver is the driver under test.
	Driver deploy.Driver
	// Clock is the fake clock the driver's platform fakes run on. The suite
	// runs the engine on it in auto mode, so waits take no real time.
	Clock *Clock
	// Target exists and runs a revision that deployed successfully.
	Target deploy.Target
	// MissingTarget does not exist. When its Name is empty the clause about
	// unknown targets is skipped.
	MissingTarget deploy.Target
	// Request returns a request for Target that deploys a revision not
	// deployed before, with any driver options filled in. The suite sets the
	// strategy, gates and rollback policy itself.
	Request func(t *testing.T) deploy.Request
	// Mutations returns how many mutating platform calls the driver has
	// made so far.
	Mutations func() int
	// FailNext, when set, makes the next deployment fail on the platform
	// (a failing task, a failing lifecycle hook, a Shift error). Clauses
	// about failures are skipped without it.
	FailNext func(t *testing.T)
	// Strategy is the strategy the suite deploys with. Default
	// deploy.Canary(10, 5*time.Minute).
	Strategy deploy.Strategy
	// Options are the engine options the suite starts from; the suite sets
	// Clock.
	Options deploy.Options
}

// Run runs the conformance suite: one subtest per clause of the Driver
// contract. newHarness is called once per clause. Clauses about optional
// interfaces the driver does not implement are skipped with a message
// saying so.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	clauses := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"PlatformIsNamed", clausePlatform},
		{"PrepareMakesNoMutatingCall", clausePrepareReadOnly},
		{"PrepareUnknownTargetIsNotFound", clauseUnknownTarget},
		{"BadStrategyRefusedBeforeDriver", clauseBadStrategy},
		{"StartReturnsLiveDeployment", clauseStart},
		{"DeployReachesSucceeded", clauseDeploySucceeds},
		{"StatusIsReadOnly", clauseStatusReadOnly},
		{"StatusUnknownDeploymentIsNotFound", clauseStatusUnknown},
		{"FailureIsNeverReportedAsSuccess", clauseFailure},
		{"FailureRollsBackWhenAsked", clauseFailureRollback},
		{"AlarmRollsBack", clauseAlarmRollback},
		{"StopRequestEndsDeployment", clauseStop},
		{"StopAfterEndChangesNothing", clauseStopAfterEnd},
		{"ContinueRefusesDeploymentNotWaiting", clauseContinue},
		{"HistoryRecordsDeployments", clauseHistory},
		{"RollbackToLastKnownGood", clauseRollbackLKG},
		{"RollbackToNamedRevision", clauseRollbackNamed},
		{"ShiftsRiseToHundred", clauseShifts},
		{"CancelLeavesKnownState", clauseCancel},
	}
	for _, c := range clauses {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if h == nil || h.Driver == nil || h.Clock == nil || h.Request == nil || h.Mutations == nil {
				t.Fatal("deploytest: Harness needs Driver, Clock, Request and Mutations")
			}
			h.Clock.SetAuto(true)
			c.fn(t, newSuite(h))
		})
	}
}

type suite struct {
	h      *Harness
	eng    *deploy.Engine
	mu     sync.Mutex
	events []deploy.Event
}

func newSuite(h *Harness) *suite {
	s := &suite{h: h}
	o := h.Options
	o.Clock = h.Clock
	user := o.OnEvent
	o.OnEvent = func(e deploy.Event) {
		s.mu.Lock()
		s.events = append(s.events, e)
		s.mu.Unlock()
		if user != nil {
			user(e)
		}
	}
	s.eng = deploy.New(h.Driver, o)
	return s
}

func (s *suite) strategy() deploy.Strategy {
	if len(s.h.Strategy.Steps) > 0 {
		return s.h.Strategy
	}
	return deploy.Canary(10, 5*time.Minute)
}

func (s *suite) request(t *testing.T) deploy.Request {
	r := s.h.Request(t)
	if r.Target.Name == "" {
		r.Target = s.h.Target
	}
	r.Strategy = s.strategy()
	return r
}

func (s *suite) eventsOf(id string) []deploy.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []deploy.Event
	for _, e := range s.events {
		if e.DeploymentID == id {
			out = append(out, e)
		}
	}
	return out
}

func (s *suite) deploy(t *testing.T, req deploy.Request) (*deploy.Deployment, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return s.eng.Deploy(ctx, req)
}

func (s *suite) mustDeploy(t *testing.T, req deploy.Request) *deploy.Deployment {
	t.Helper()
	d, err := s.deploy(t, req)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if d.Status != deploy.StatusSucceeded {
		t.Fatalf("Deploy status = %s, want Succeeded", d.Status)
	}
	return d
}

func (s *suite) history(t *testing.T) []deploy.HistoryEntry {
	t.Helper()
	h, ok := s.h.Driver.(deploy.Historian)
	if !ok {
		return nil
	}
	out, err := h.History(context.Background(), s.h.Target)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return out
}

func current(hist []deploy.HistoryEntry) (deploy.Revision, bool) {
	for _, e := range hist {
		if e.Current {
			return e.Revision, true
		}
	}
	return deploy.Revision{}, false
}

func sameRevision(a, b deploy.Revision) bool {
	return a.ID == b.ID || (a.Label != "" && a.Label == b.Label)
}

// The driver names its platform, and the name does not change.
func clausePlatform(t *testing.T, s *suite) {
	p := s.h.Driver.Platform()
	if p == "" {
		t.Fatal("Platform() is empty")
	}
	if again := s.h.Driver.Platform(); again != p {
		t.Fatalf("Platform() changed from %q to %q", p, again)
	}
}

// Prepare (the dry run) resolves a plan and makes no mutating call.
func clausePrepareReadOnly(t *testing.T, s *suite) {
	before := s.h.Mutations()
	p, err := s.eng.Plan(context.Background(), s.request(t))
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if p.To.IsZero() {
		t.Error("plan has no To revision")
	}
	if p.Mode != deploy.ModeEngine && p.Mode != deploy.ModePlatform {
		t.Errorf("plan mode %q is not engine or platform", p.Mode)
	}
	if n := s.h.Mutations() - before; n != 0 {
		t.Fatalf("Prepare made %d mutating calls, want 0", n)
	}
}

// Prepare on a target that does not exist fails with ErrNotFound and
// changes nothing.
func clauseUnknownTarget(t *testing.T, s *suite) {
	if s.h.MissingTarget.Name == "" {
		t.Skip("harness names no missing target")
	}
	req := s.request(t)
	req.Target = s.h.MissingTarget
	before := s.h.Mutations()
	_, err := s.eng.Plan(context.Background(), req)
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("Plan on missing target: err = %v, want ErrNotFound", err)
	}
	if n := s.h.Mutations() - before; n != 0 {
		t.Fatalf("%d mutating calls for a missing target, want 0", n)
	}
}

// A strategy that never reaches 100% is refused with ErrInvalidRequest
// before the driver makes any call that changes something.
func clauseBadStrategy(t *testing.T, s *suite) {
	req := s.request(t)
	req.Strategy = deploy.Custom(deploy.ShiftTo(10), deploy.BakeFor(time.Minute), deploy.ShiftTo(50))
	before := s.h.Mutations()
	_, err := s.eng.Deploy(context.Background(), req)
	if !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("Deploy with bad strategy: err = %v, want ErrInvalidRequest", err)
	}
	var ve *deploy.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v is not a *ValidationError", err)
	}
	if n := s.h.Mutations() - before; n != 0 {
		t.Fatalf("%d mutating calls for a bad strategy, want 0", n)
	}
}

// Start returns a deployment with an ID, the target and a valid status.
func clauseStart(t *testing.T, s *suite) {
	p, err := s.eng.Plan(context.Background(), s.request(t))
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	d, err := s.h.Driver.Start(context.Background(), p)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if d.ID == "" {
		t.Fatal("Start returned a deployment without an ID")
	}
	if !d.Status.Valid() {
		t.Fatalf("Start status %q is not a valid status", d.Status)
	}
	if p.Mode == deploy.ModeEngine && d.Percent != 0 {
		t.Fatalf("engine-mode Start moved %v%% of traffic, want 0", d.Percent)
	}
	// Leave the platform clean for the driver's own cleanup.
	if st, ok := s.h.Driver.(deploy.Stopper); ok && !d.Status.Terminal() {
		_, _ = st.Stop(context.Background(), d, deploy.StopOptions{Rollback: true})
	}
}

// A deployment runs to StatusSucceeded, Status agrees afterwards, and the
// engine reported the status changes.
func clauseDeploySucceeds(t *testing.T, s *suite) {
	req := s.request(t)
	d := s.mustDeploy(t, req)
	got, err := s.h.Driver.Status(context.Background(), d)
	if err != nil {
		t.Fatalf("Status after success: %v", err)
	}
	if got.Status != deploy.StatusSucceeded {
		t.Fatalf("Status after success = %s, want Succeeded", got.Status)
	}
	var sawSucceeded bool
	for _, e := range s.eventsOf(d.ID) {
		if e.Kind == deploy.EventStatus && e.Status == deploy.StatusSucceeded {
			sawSucceeded = true
		}
	}
	if !sawSucceeded {
		t.Fatal("no status event reported Succeeded")
	}
	if cur, ok := current(s.history(t)); ok && !sameRevision(cur, d.To) {
		t.Fatalf("history says %s is current, want %s", cur, d.To)
	}
}

// Status changes nothing.
func clauseStatusReadOnly(t *testing.T, s *suite) {
	d := s.mustDeploy(t, s.request(t))
	before := s.h.Mutations()
	for range 3 {
		if _, err := s.h.Driver.Status(context.Background(), d); err != nil {
			t.Fatalf("Status: %v", err)
		}
	}
	if n := s.h.Mutations() - before; n != 0 {
		t.Fatalf("Status made %d mutating calls, want 0", n)
	}
}

// Status of a deployment that does not exist fails with ErrNotFound.
func clauseStatusUnknown(t *testing.T, s *suite) {
	_, err := s.h.Driver.Status(context.Background(), &deploy.Deployment{ID: "does-not-exist-0000", Target: s.h.Target})
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("Status of unknown deployment: err = %v, want ErrNotFound", err)
	}
}

// A deployment that fails on the platform ends in Failed or RolledBack, and
// the engine reports an error, never success.
func clauseFailure(t *testing.T, s *suite) {
	if s.h.FailNext == nil {
		t.Skip("harness cannot inject platform failures")
	}
	s.h.FailNext(t)
	d, err := s.deploy(t, s.request(t))
	if err == nil {
		t.Fatal("Deploy of a failing deployment returned no error")
	}
	if d == nil {
		t.Fatalf("Deploy returned no deployment: %v", err)
	}
	if d.Status != deploy.StatusFailed && d.Status != deploy.StatusRolledBack {
		t.Fatalf("status = %s, want Failed or RolledBack", d.Status)
	}
	if !errors.Is(err, deploy.ErrFailed) && !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatalf("err = %v, want ErrFailed or ErrRolledBack", err)
	}
}

// With OnFailure, a failed deployment returns the target to the revision it
// ran before.
func clauseFailureRollback(t *testing.T, s *suite) {
	if s.h.FailNext == nil {
		t.Skip("harness cannot inject platform failures")
	}
	before, _ := current(s.history(t))
	s.h.FailNext(t)
	req := s.request(t)
	req.RollbackOn = deploy.OnFailure
	d, err := s.deploy(t, req)
	if !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatalf("err = %v, want ErrRolledBack", err)
	}
	if d.Status != deploy.StatusRolledBack {
		t.Fatalf("status = %s, want RolledBack", d.Status)
	}
	if after, ok := current(s.history(t)); ok && !sameRevision(after, before) {
		t.Fatalf("after rollback %s is current, want %s", after, before)
	}
}

// An alarm gate firing mid-deployment with OnAlarm rolls the deployment
// back; the error wraps ErrAlarm.
func clauseAlarmRollback(t *testing.T, s *suite) {
	before, _ := current(s.history(t))
	alarm := NewAlarm("conformance-alarm")
	alarm.FireAt(1)
	req := s.request(t)
	req.Gates = []deploy.Gate{alarm}
	req.RollbackOn = deploy.OnAlarm
	d, err := s.deploy(t, req)
	if !errors.Is(err, deploy.ErrAlarm) || !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatalf("err = %v, want ErrAlarm and ErrRolledBack", err)
	}
	if d.Status != deploy.StatusRolledBack {
		t.Fatalf("status = %s, want RolledBack", d.Status)
	}
	var ge *deploy.GateError
	if !errors.As(err, &ge) || ge.Gate != "conformance-alarm" {
		t.Fatalf("err %v does not name the gate", err)
	}
	if after, ok := current(s.history(t)); ok && !sameRevision(after, before) {
		t.Fatalf("after alarm rollback %s is current, want %s", after, before)
	}
}

// A stop requested while the deployment runs ends it as Stopped or
// RolledBack, and Deploy reports that.
func clauseStop(t *testing.T, s *suite) {
	if _, ok := s.h.Driver.(deploy.Stopper); !ok {
		t.Skip("driver does not implement deploy.Stopper")
	}
	var once sync.Once
	var outcome deploy.StopOutcome
	var stopErr error
	stopper := deploy.GateFunc{GateName: "stopper", Func: func(ctx context.Context, c deploy.Check) error {
		once.Do(func() {
			outcome, stopErr = s.eng.Stop(ctx, c.Deployment, deploy.StopOptions{Reason: "conformance"})
		})
		return nil
	}}
	req := s.request(t)
	req.Gates = []deploy.Gate{stopper}
	d, err := s.deploy(t, req)
	if stopErr != nil {
		t.Fatalf("Stop: %v", stopErr)
	}
	if outcome != deploy.StopSucceeded && outcome != deploy.StopPending {
		t.Fatalf("Stop outcome = %q, want Succeeded or Pending", outcome)
	}
	if d == nil || (d.Status != deploy.StatusStopped && d.Status != deploy.StatusRolledBack) {
		t.Fatalf("deployment after stop = %+v (err %v), want Stopped or RolledBack", d, err)
	}
	if !errors.Is(err, deploy.ErrStopped) && !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatalf("err = %v, want ErrStopped or ErrRolledBack", err)
	}
}

// Stopping a deployment that already succeeded either reports success or
// is refused with ErrCannotStop, and never changes the target's revision.
func clauseStopAfterEnd(t *testing.T, s *suite) {
	st, ok := s.h.Driver.(deploy.Stopper)
	if !ok {
		t.Skip("driver does not implement deploy.Stopper")
	}
	d := s.mustDeploy(t, s.request(t))
	out, err := st.Stop(context.Background(), d, deploy.StopOptions{})
	if err != nil && !errors.Is(err, deploy.ErrCannotStop) {
		t.Fatalf("Stop after success: err = %v, want nil or ErrCannotStop", err)
	}
	if err == nil && out != deploy.StopSucceeded {
		t.Fatalf("Stop after success: outcome %q, want Succeeded", out)
	}
	got, err := s.h.Driver.Status(context.Background(), d)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if got.Status != deploy.StatusSucceeded {
		t.Fatalf("Status after stopping a finished deployment = %s, want Succeeded", got.Status)
	}
	if cur, ok := current(s.history(t)); ok && !sameRevision(cur, d.To) {
		t.Fatalf("stop after success changed the current revision to %s", cur)
	}
}

// Continue on a deployment that is not waiting is refused with
// ErrInvalidRequest.
func clauseContinue(t *testing.T, s *suite) {
	c, ok := s.h.Driver.(deploy.Continuer)
	if !ok {
		t.Skip("driver does not implement deploy.Continuer")
	}
	d := s.mustDeploy(t, s.request(t))
	if err := c.Continue(context.Background(), d); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("Continue on a finished deployment: err = %v, want ErrInvalidRequest", err)
	}
}

// History lists the new revision as current, newest first, after a deploy.
func clauseHistory(t *testing.T, s *suite) {
	if _, ok := s.h.Driver.(deploy.Historian); !ok {
		t.Skip("driver does not implement deploy.Historian")
	}
	before := s.history(t)
	d := s.mustDeploy(t, s.request(t))
	after := s.history(t)
	if len(after) == 0 {
		t.Fatal("history is empty after a deployment")
	}
	cur, ok := current(after)
	if !ok || !sameRevision(cur, d.To) {
		t.Fatalf("current revision in history = %v (found %v), want %s", cur, ok, d.To)
	}
	if !sameRevision(after[0].Revision, d.To) {
		t.Fatalf("newest history entry is %s, want %s", after[0].Revision, d.To)
	}
	if prev, ok := current(before); ok {
		if good, ok := deploy.LastKnownGood(after); !ok || !sameRevision(good.Revision, prev) {
			t.Fatalf("last known good = %v (found %v), want %s", good.Revision, ok, prev)
		}
	}
}

// Rollback with no revision named returns the target to the last known
// good revision, as a new deployment linked to the one it reverses.
func clauseRollbackLKG(t *testing.T, s *suite) {
	if _, ok := s.h.Driver.(deploy.Historian); !ok {
		t.Skip("driver does not implement deploy.Historian")
	}
	first := s.mustDeploy(t, s.request(t))
	second := s.mustDeploy(t, s.request(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rb, err := s.eng.Rollback(ctx, deploy.RollbackRequest{Target: s.h.Target})
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if rb.ID == second.ID || rb.ID == first.ID {
		t.Fatalf("rollback reused deployment ID %s", rb.ID)
	}
	if rb.RollbackOf != second.ID {
		t.Fatalf("RollbackOf = %q, want %q", rb.RollbackOf, second.ID)
	}
	if cur, ok := current(s.history(t)); !ok || !sameRevision(cur, first.To) {
		t.Fatalf("after rollback current = %s, want %s", cur, first.To)
	}
}

// Rollback to a named revision deploys exactly that revision.
func clauseRollbackNamed(t *testing.T, s *suite) {
	first := s.mustDeploy(t, s.request(t))
	s.mustDeploy(t, s.request(t))
	s.mustDeploy(t, s.request(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rb, err := s.eng.Rollback(ctx, deploy.RollbackRequest{Target: s.h.Target, To: first.To.ID})
	if err != nil {
		t.Fatalf("Rollback to %s: %v", first.To.ID, err)
	}
	if !sameRevision(rb.To, first.To) {
		t.Fatalf("rollback deployed %s, want %s", rb.To, first.To)
	}
	if cur, ok := current(s.history(t)); ok && !sameRevision(cur, first.To) {
		t.Fatalf("after rollback current = %s, want %s", cur, first.To)
	}
}

// Traffic only rises during a deployment and ends at 100 percent.
func clauseShifts(t *testing.T, s *suite) {
	d := s.mustDeploy(t, s.request(t))
	last := -1.0
	for _, e := range s.eventsOf(d.ID) {
		if e.Kind != deploy.EventShift {
			continue
		}
		if e.Percent < last {
			t.Fatalf("traffic went down from %v%% to %v%%", last, e.Percent)
		}
		last = e.Percent
	}
	if d.Percent != 100 {
		t.Fatalf("final percent = %v, want 100", d.Percent)
	}
}

// Cancelling the context mid-deployment returns a context error and, for
// engine-driven deployments, leaves the target on its old revision.
func clauseCancel(t *testing.T, s *suite) {
	before, _ := current(s.history(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	canceller := deploy.GateFunc{GateName: "canceller", Func: func(context.Context, deploy.Check) error {
		cancel()
		return nil
	}, Phases: []deploy.Phase{deploy.PhaseShift, deploy.PhaseWatch, deploy.PhaseBake}}
	req := s.request(t)
	req.Gates = []deploy.Gate{canceller}
	p, err := s.eng.Plan(context.Background(), req)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	d, err := s.eng.Execute(ctx, p)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d == nil {
		t.Fatal("no deployment returned after cancel")
	}
	if p.Mode != deploy.ModeEngine {
		return
	}
	if d.Status != deploy.StatusRolledBack && d.Status != deploy.StatusStopped {
		t.Fatalf("engine-driven deployment after cancel = %s, want RolledBack or Stopped", d.Status)
	}
	if after, ok := current(s.history(t)); ok && !sameRevision(after, before) {
		t.Fatalf("after cancel %s is current, want %s", after, before)
	}
}
