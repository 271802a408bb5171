package deploytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// Harness is what the conformance suite needs to exercise a driver. A new
// Harness is made for every clause, so clauses do not see each other's
// deployments.
type Harness struct {
	// Driver is the driver under test. Required.
	Driver deploy.Driver
	// Clock is the fake clock the driver's platform fakes run on. The suite
	// runs the engine on it in auto mode, so waits take no real time.
	// Required.
	Clock *Clock
	// Target exists and runs one revision, which deployed successfully,
	// with all of its traffic. Required.
	Target deploy.Target
	// MissingTarget does not exist. When its Name is empty the clause about
	// unknown targets is skipped.
	MissingTarget deploy.Target
	// MissingRevision is a well-formed revision of Target that does not
	// exist (a task definition ARN of a revision never registered, a
	// version number never published). When its ID is empty the clause
	// about missing revisions is skipped.
	MissingRevision deploy.Revision
	// Request returns a request for Target that deploys a revision not
	// deployed before, with any driver options filled in. The suite sets the
	// strategy, gates and rollback policy itself. Required.
	Request func(t *testing.T) deploy.Request
	// Mutations returns how many mutating platform calls the driver has
	// made so far. Required.
	Mutations func() int
	// Serving reads what the platform actually serves for Target now, from
	// the platform (or its fake), never from the driver: each revision's ID
	// (as the driver reports it in Deployment.To.ID and From.ID) with its
	// share of traffic or of the fleet, in percent, summing to 100. The
	// suite checks it after every deploy, rollback, stop and cancel.
	// Required.
	Serving func(t *testing.T) map[string]float64
	// FailNext, when set, makes the next deployment fail on the platform
	// (a failing task, a failing lifecycle hook, a Shift error). Clauses
	// about failures are skipped without it.
	FailNext func(t *testing.T)
	// ThrottleStart, when set, makes the platform throttle, once, the call
	// the next Start starts the deployment with (UpdateService,
	// CreateDeployment, ...), after any call that Start makes before it, as
	// the platform answers when throttled. The clause about a Start asked
	// again after a throttle is skipped without it.
	ThrottleStart func(t *testing.T)
	// Waiting, when set, returns a request whose deployment waits in
	// StatusReady until Continue (a PAUSE hook, a blue/green deployment
	// waiting to reroute). Without it, drivers with deploy.Continuer are
	// tried with an approval step in a platform-mode strategy.
	Waiting func(t *testing.T) deploy.Request
	// Strategy is the strategy the suite deploys with. It should move part
	// of the traffic and then bake. Default deploy.Canary(10, 5*time.Minute).
	Strategy deploy.Strategy
	// Options are the engine options the suite starts from; the suite sets
	// Clock and OnEvent (calling yours too).
	Options deploy.Options
	// Timeout bounds each clause in real time. A clause still running then
	// fails, quoting the contract, and its context is cancelled. Default
	// 10 seconds.
	Timeout time.Duration
}

// Run runs the conformance suite: one subtest per clause of the Driver
// contract (deploy.Driver and the optional interfaces). newHarness is
// called once per clause. Clauses about optional interfaces the driver
// does not implement, or that need a Harness field left empty, are skipped
// with a message saying so. A failing clause quotes the contract sentence
// the driver broke. Every clause is bounded in real time by
// Harness.Timeout, so no driver can hang the suite.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	t.Helper()
	for _, cl := range clauses {
		t.Run(cl.name, func(t *testing.T) {
			res := runClause(t, cl, newHarness)
			if len(res.failures) > 0 {
				t.Errorf("%s\ncontract: %s", strings.Join(res.failures, "\n"), cl.rule)
			}
			if res.skipped != "" && len(res.failures) == 0 {
				t.Skip(res.skipped)
			}
		})
	}
}

// Clauses returns the names of the suite's clauses, in the order Run runs
// them, so a test can select one with -run.
func Clauses() []string {
	out := make([]string, len(clauses))
	for i, c := range clauses {
		out[i] = c.name
	}
	return out
}

type clause struct {
	name string
	rule string
	fn   func(c *checker)
}

type result struct {
	failures []string
	skipped  string
}

// checker is what a clause reports to. It stands in for *testing.T so a
// clause can run in its own goroutine, bounded in real time.
type checker struct {
	t   *testing.T
	h   *Harness
	ctx context.Context
	eng *deploy.Engine

	mu       sync.Mutex
	closed   bool
	failures []string
	skipped  string
	events   []deploy.Event
}

func (c *checker) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.failures = append(c.failures, fmt.Sprintf(format, args...))
	}
}

func (c *checker) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	runtime.Goexit()
}

func (c *checker) Skipf(format string, args ...any) {
	c.mu.Lock()
	if !c.closed {
		c.skipped = fmt.Sprintf(format, args...)
	}
	c.mu.Unlock()
	runtime.Goexit()
}

func (c *checker) result() result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return result{failures: append([]string(nil), c.failures...), skipped: c.skipped}
}

func runClause(t *testing.T, cl clause, newHarness func(t *testing.T) *Harness) result {
	h := newHarness(t)
	if h == nil || h.Driver == nil || h.Clock == nil || h.Request == nil || h.Mutations == nil || h.Serving == nil {
		return result{failures: []string{"deploytest: the Harness needs Driver, Clock, Request, Mutations and Serving"}}
	}
	h.Clock.SetAuto(true)
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &checker{t: t, h: h, ctx: ctx}
	o := h.Options
	o.Clock = h.Clock
	user := o.OnEvent
	o.OnEvent = func(e deploy.Event) {
		c.mu.Lock()
		c.events = append(c.events, e)
		c.mu.Unlock()
		if user != nil {
			user(e)
		}
	}
	c.eng = deploy.New(h.Driver, o)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				c.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		cl.fn(c)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		c.Errorf("the clause did not finish within %s of real time: a call that never returns or a deployment that never ends", timeout)
		cancel()
		grace := time.NewTimer(2 * time.Second)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C:
		}
	}
	return c.result()
}

// The clauses, in the order Run runs them. Each rule quotes the contract.
var clauses = []clause{
	{"PlatformIsNamed", "Platform must return the same non-empty name on every call. The driver's targets carry it in Target.Platform.", clausePlatform},
	{"PrepareMakesNoMutatingCall", "Prepare must not make any mutating platform call: the engine's Plan (dry run) is Prepare alone. The plan's To must not be zero.", clausePrepareReadOnly},
	{"PrepareUnknownTargetIsNotFound", "A target that does not exist must give an error that wraps ErrNotFound.", clauseUnknownTarget},
	{"PrepareMissingRevisionIsNotFound", "A well-formed revision ID that names no revision must give an error that wraps ErrNotFound (not ErrInvalidRequest).", clauseMissingRevision},
	{"BadStrategyRefusedBeforeDriver", "Bad input is refused with ErrInvalidRequest before any mutating call.", clauseBadStrategy},
	{"UnsupportedStrategyRefusedAlike", "A strategy the platform cannot carry out must be refused with UnsupportedStrategy, which wraps both ErrUnsupported and ErrInvalidRequest.", clauseUnsupportedStrategy},
	{"PrepareRunningRevision", "A request for the revision the target already runs, without RollbackOf, must either be refused with an error wrapping ErrInvalidRequest or be planned as a redeployment of it (To.ID equal to From.ID). With RollbackOf set it must be planned.", clauseRunningRevision},
	{"StartReturnsLiveDeployment", "The returned Deployment must have a non-empty ID unique on the platform, the plan's target, a To whose ID is set, and a live first status: StatusCreated, StatusQueued or StatusInProgress. In ModeEngine no traffic may move to the new revision yet (Percent 0).", clauseStart},
	{"SecondDeploymentIsLocked", "A target has at most one live deployment. Start must refuse a second one while another is live with an error wrapping ErrLocked, or accept it in StatusQueued.", clauseSecondDeployment},
	{"DeployReachesSucceeded", "A deployment that completes is StatusSucceeded with Percent 100, and its To serves all traffic; in ModeEngine the deployment must report StatusSucceeded once Shift(100) has completed.", clauseDeploySucceeds},
	{"StatusIsReadOnly", "Status must not change anything on the platform and must not modify *d; it returns a new Deployment with d's ID, Target and To.", clauseStatusReadOnly},
	{"StatusUnknownDeploymentIsNotFound", "An unknown deployment must give an error wrapping ErrNotFound.", clauseStatusUnknown},
	{"FailureIsNeverReportedAsSuccess", "A deployment the platform rolled back must be reported as StatusRolledBack with Percent 0, never StatusSucceeded; a deployment that did not succeed must never be listed as StatusSucceeded.", clauseFailure},
	{"FailureRollsBackWhenAsked", "With OnFailure a failed deployment returns the target to d.From: Status reports StatusRolledBack with Percent 0 and d.From serves all traffic.", clauseFailureRollback},
	{"AlarmRollsBack", "An alarm with OnAlarm rolls the deployment back: StatusRolledBack with Percent 0, d.From serves all traffic, and the error wraps ErrAlarm.", clauseAlarmRollback},
	{"StopWithRollbackRestoresFrom", "With o.Rollback the platform returns the target to d.From: once the stop has succeeded, Status reports StatusRolledBack with Percent 0 and d.From serves all traffic.", clauseStopRollback},
	{"StopWithoutRollbackLeavesTraffic", "Without o.Rollback nothing more moves: the traffic stays where it was when the stop took effect, and Status reports StatusStopped with Percent the share To still serves; a split keeps the target locked (Prepare refuses with ErrLocked naming the repair, Engine.Rollback) until a rollback request repairs it. A platform that can only stop by reverting must refuse a stop without rollback with an error wrapping ErrUnsupported and change nothing.", clauseStopNoRollback},
	{"StopOfEndedDeploymentChangesNothing", "Stop returns StopSucceeded or StopPending, or an error. Stopping a deployment that has ended must change nothing. It returns StopSucceeded when the deployment ended Stopped, Failed or RolledBack and no rollback is asked, or it ended RolledBack. It returns an error wrapping ErrCannotStop when it ended Succeeded (with or without o.Rollback), and when o.Rollback asks to reverse one that ended Stopped or Failed.", clauseStopEnded},
	{"ShiftOutOfRangeRefused", "A percent outside 1..100 (or not a number) must be refused with an error wrapping ErrInvalidRequest before any call.", clauseShiftRange},
	{"ShiftAfterStopRefused", "A Shift of a deployment that has ended or was stopped must be refused with an error wrapping ErrInvalidRequest: it changes nothing.", clauseShiftAfterStop},
	{"FailedShiftLeavesTraffic", "A Shift that fails must leave the traffic as it was before the call.", clauseFailedShift},
	{"ShiftUnknownDeploymentIsNotFound", "An unknown deployment must give an error wrapping ErrNotFound.", clauseShiftUnknown},
	{"PercentIsWhatIsServed", "Percent must be the share of traffic (or of the fleet) that To serves, in 0..100; traffic only rises during a deployment and ends at 100.", clauseShifts},
	{"CancelLeavesKnownState", "When the caller's context ends during an engine-driven shift, the engine stops the deployment and returns the traffic to the previous revision before it returns.", clauseCancel},
	{"DoneContextChangesNothing", "A method called with a context that is already done must return an error wrapping ctx.Err() and must change nothing.", clauseDoneContext},
	{"ContinueRefusesDeploymentNotWaiting", "Continue must return an error wrapping ErrInvalidRequest and change nothing when d is not waiting, and one wrapping ErrNotFound when d is unknown.", clauseContinueNotWaiting},
	{"ContinueLetsWaitingDeploymentGoOn", "Continue lets d, waiting in StatusReady, go on: Status then leaves StatusReady.", clauseContinueWaiting},
	{"HistoryListsRevisionBeforeFirstDeployment", "The revision the target ran before the first deployment the platform remembers must be listed (StatusSucceeded); when the target runs a revision, exactly one entry must be Current: the revision that serves all traffic.", clauseHistoryInitial},
	{"HistoryRecordsDeployments", "History returns the target's revisions, newest first, one entry per deployment; exactly one entry is Current: the revision that serves all traffic. An unknown target must give an error wrapping ErrNotFound.", clauseHistory},
	{"HistoryNeverListsFailureAsSuccess", "A deployment that did not succeed must never be listed as StatusSucceeded (it may be left out).", clauseHistoryFailure},
	{"HistoryCurrentWhileSplit", "While traffic is split (a live deployment, or one stopped part way), the Current entry is the revision the deployment moves traffic from.", clauseHistorySplit},
	{"RollbackToLastKnownGood", "Rollback with no revision named returns the target to the last known good revision, as a new deployment whose RollbackOf points at the deployment it reverses.", clauseRollbackLKG},
	{"RollbackToNamedRevision", "Rollback to a named revision deploys exactly that revision; the target and revision alone must be enough.", clauseRollbackNamed},
	{"RollbackToRunningRevisionRefused", "Asking to roll back to the revision the target already runs is an ErrInvalidRequest, and changes nothing.", clauseRollbackCurrent},
	{"StatusManyKeepsOrder", "The result must have one entry per element of ds, in the same order, entry i reporting ds[i]; an entry is nil where that deployment could not be reported. err must be nil when no entry is nil; otherwise it must hold, for each nil entry, an *Error whose DeploymentID names it.", clauseStatusMany},
	{"ReadServingReportsWhatIsServed", "ReadServing must change nothing, and must report what the platform serves for t now, read from the platform, not what a deployment meant it to serve: one Share per revision with a share above 0, summing to 100, each Revision's ID as the driver reports it in Deployment.From and To. An unknown target must give an error wrapping ErrNotFound.", clauseReadServing},
	{"StartAgainAfterThrottleReusesWork", "Start must not be called twice with the same plan, except after an error wrapping ErrThrottled: the engine asks again after backing off. Start must then not repeat what the throttled attempt already changed, so a throttled Start followed by one that succeeds leaves the platform as one Start would.", clauseStartAfterThrottle},
	{"GatesCheckedWhenPlatformCompletes", "The engine never reports success for a deployment a gate refused, even one the platform completed between two polls: gates are checked once more when it reports success.", clauseGatesAfterCompletion},
}

// ---- helpers ----

func (c *checker) strategy() deploy.Strategy {
	if len(c.h.Strategy.Steps) > 0 {
		return c.h.Strategy
	}
	return deploy.Canary(10, 5*time.Minute)
}

// firstShift is the first percentage the strategy moves to below 100.
func (c *checker) firstShift() float64 {
	for _, st := range c.strategy().Normalized() {
		if st.Kind == deploy.StepShift && st.Percent < 100 {
			return st.Percent
		}
	}
	return 0
}

func (c *checker) request() deploy.Request {
	r := c.h.Request(c.t)
	if r.Target.Name == "" {
		r.Target = c.h.Target
	}
	r.Strategy = c.strategy()
	return r
}

func (c *checker) eventsOf(id string) []deploy.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []deploy.Event
	for _, e := range c.events {
		if e.DeploymentID == id {
			out = append(out, e)
		}
	}
	return out
}

func (c *checker) plan(req deploy.Request) *deploy.Plan {
	p, err := c.eng.Plan(c.ctx, req)
	if err != nil {
		c.Fatalf("Plan: %v", err)
	}
	return p
}

func (c *checker) deploy(req deploy.Request) (*deploy.Deployment, error) {
	return c.eng.Deploy(c.ctx, req)
}

func (c *checker) mustDeploy(req deploy.Request) *deploy.Deployment {
	d, err := c.deploy(req)
	if err != nil {
		c.Fatalf("Deploy: %v", err)
	}
	if d.Status != deploy.StatusSucceeded {
		c.Fatalf("Deploy status = %s, want Succeeded", d.Status)
	}
	return d
}

func (c *checker) status(d *deploy.Deployment) *deploy.Deployment {
	got, err := c.h.Driver.Status(c.ctx, d.Clone())
	if err != nil {
		c.Fatalf("Status(%s): %v", d.ID, err)
	}
	if got == nil {
		c.Fatalf("Status(%s) returned neither a deployment nor an error", d.ID)
	}
	return got
}

// serving reads what the platform serves, checking the shares add up.
func (c *checker) serving() map[string]float64 {
	s := c.h.Serving(c.t)
	total := 0.0
	for id, p := range s {
		if !(p > 0 && p <= 100) {
			c.Errorf("Serving: %s has a share of %v%%, want 0 < share <= 100", id, p)
		}
		total += p
	}
	if len(s) > 0 && math.Abs(total-100) > 0.01 {
		c.Errorf("Serving: shares add up to %v%%, want 100 (%v)", total, s)
	}
	return s
}

func sameShares(a, b map[string]float64) bool {
	ids := map[string]bool{}
	for id := range a {
		ids[id] = true
	}
	for id := range b {
		ids[id] = true
	}
	for id := range ids {
		if math.Abs(a[id]-b[id]) > 0.01 {
			return false
		}
	}
	return true
}

func (c *checker) expectServing(want map[string]float64, when string) {
	if got := c.serving(); !sameShares(got, want) {
		c.Errorf("%s the platform serves %v, want %v", when, got, want)
	}
}

// initial is the revision the target serves alone when the clause begins.
func (c *checker) initial() string {
	s := c.serving()
	for id, p := range s {
		if p >= 100-0.01 {
			return id
		}
	}
	c.Fatalf("the Harness's Target must serve one revision with all traffic; it serves %v", s)
	return ""
}

func (c *checker) history() ([]deploy.HistoryEntry, bool) {
	h, ok := c.h.Driver.(deploy.Historian)
	if !ok {
		return nil, false
	}
	out, err := h.History(c.ctx, c.h.Target)
	if err != nil {
		c.Fatalf("History: %v", err)
	}
	return out, true
}

// currentOf checks that exactly one entry is Current and returns it.
func (c *checker) currentOf(hist []deploy.HistoryEntry) (deploy.HistoryEntry, bool) {
	var cur []deploy.HistoryEntry
	for _, e := range hist {
		if e.Current {
			cur = append(cur, e)
		}
	}
	if len(cur) != 1 {
		c.Errorf("History has %d entries marked Current, want exactly one: %s", len(cur), histString(hist))
		if len(cur) == 0 {
			return deploy.HistoryEntry{}, false
		}
	}
	return cur[0], true
}

// expectCurrent checks History's Current entry, for drivers with a Historian.
func (c *checker) expectCurrent(id, when string) {
	hist, ok := c.history()
	if !ok {
		return
	}
	if cur, ok := c.currentOf(hist); ok && cur.Revision.ID != id {
		c.Errorf("%s History's Current is %s, want %s: %s", when, cur.Revision.ID, id, histString(hist))
	}
}

// expectNoSuccessFor checks History lists deployment id as anything but
// succeeded.
func (c *checker) expectNoSuccessFor(id string) {
	hist, ok := c.history()
	if !ok {
		return
	}
	for _, e := range hist {
		if e.DeploymentID == id && e.Status == deploy.StatusSucceeded {
			c.Errorf("History lists deployment %s, which did not succeed, as Succeeded: %s", id, histString(hist))
		}
	}
}

func histString(h []deploy.HistoryEntry) string {
	parts := make([]string, len(h))
	for i, e := range h {
		cur := ""
		if e.Current {
			cur = " current"
		}
		parts[i] = fmt.Sprintf("{%s %s %s%s}", e.Revision.ID, e.DeploymentID, e.Status, cur)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// stopRollback stops d with rollback, asking again while pending. It is
// how clauses clean up after starting a deployment by hand.
func (c *checker) stopRollback(d *deploy.Deployment) {
	st, ok := c.h.Driver.(deploy.Stopper)
	if !ok {
		return
	}
	for range 50 {
		out, err := st.Stop(c.ctx, d.Clone(), deploy.StopOptions{Rollback: true, Reason: "conformance cleanup"})
		if err != nil || out != deploy.StopPending {
			return
		}
		<-c.h.Clock.After(5 * time.Second)
	}
}

// stopUntilDone asks Stop until it stops pending.
func (c *checker) stopUntilDone(st deploy.Stopper, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	for range 50 {
		out, err := st.Stop(c.ctx, d.Clone(), o)
		if err == nil && out != deploy.StopSucceeded && out != deploy.StopPending {
			c.Errorf("Stop answered %q with no error, want StopSucceeded or StopPending", out)
		}
		if err != nil || out != deploy.StopPending {
			return out, err
		}
		<-c.h.Clock.After(5 * time.Second)
	}
	c.Fatalf("Stop of %s was still pending after 50 requests", d.ID)
	return "", nil
}

// pollUntil asks Status until ok says so, moving the clock on between
// polls; it gives up after n polls.
func (c *checker) pollUntil(d *deploy.Deployment, n int, ok func(*deploy.Deployment) bool) (*deploy.Deployment, bool) {
	var got *deploy.Deployment
	for range n {
		got = c.status(d)
		if ok(got) {
			return got, true
		}
		<-c.h.Clock.After(5 * time.Second)
	}
	return got, false
}

// startLive plans and starts a deployment with the driver alone and, for
// engine-driven plans, shifts it to the strategy's first percentage;
// platform-driven ones are polled until part of the traffic has moved.
// It returns the deployment and the plan.
func (c *checker) startLive(req deploy.Request) (*deploy.Deployment, *deploy.Plan) {
	p := c.plan(req)
	d, err := c.h.Driver.Start(c.ctx, p)
	if err != nil {
		c.Fatalf("Start: %v", err)
	}
	if d.From == nil {
		d.From = p.From
	}
	if len(d.Strategy.Steps) == 0 {
		d.Strategy = p.Request.Strategy
	}
	if p.Mode == deploy.ModeEngine {
		sh, ok := c.h.Driver.(deploy.Shifter)
		if !ok {
			c.Fatalf("the plan is ModeEngine but the driver is not a deploy.Shifter")
		}
		if pct := c.firstShift(); pct > 0 {
			if err := sh.Shift(c.ctx, d.Clone(), pct); err != nil {
				c.stopRollback(d)
				c.Fatalf("Shift(%v): %v", pct, err)
			}
			d.Percent = pct
		}
		return d, p
	}
	got, ok := c.pollUntil(d, 200, func(x *deploy.Deployment) bool { return x.Percent > 0 || x.Status.Terminal() })
	if !ok || got.Status.Terminal() {
		c.stopRollback(d)
		c.Skipf("the platform never served part of the traffic on the new revision while it ran (last %s at %v%%); use a Harness.Strategy that bakes", got.Status, got.Percent)
	}
	got.From, got.Strategy = d.From, d.Strategy
	return got, p
}

func isLive(s deploy.Status) bool {
	return s == deploy.StatusCreated || s == deploy.StatusQueued || s == deploy.StatusInProgress
}

// onFirstSplit returns a gate that calls f once, at the first check that
// sees part (not all) of the traffic on the new revision.
func onFirstSplit(name string, f func(ctx context.Context, ch deploy.Check)) (deploy.Gate, func() bool) {
	var once sync.Once
	var mu sync.Mutex
	called := false
	g := deploy.GateFunc{GateName: name, Func: func(ctx context.Context, ch deploy.Check) error {
		if ch.Percent > 0 && ch.Percent < 100 {
			once.Do(func() {
				f(ctx, ch)
				mu.Lock()
				called = true
				mu.Unlock()
			})
		}
		return nil
	}}
	return g, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return called
	}
}

// findError reports whether err holds a *deploy.Error naming id, looking
// through joined errors.
func findError(err error, id string) bool {
	if err == nil {
		return false
	}
	var de *deploy.Error
	if errors.As(err, &de) && de.DeploymentID == id {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if findError(e, id) {
				return true
			}
		}
	case interface{ Unwrap() error }:
		return findError(u.Unwrap(), id)
	}
	return false
}

func asJSON(d *deploy.Deployment) string {
	b, _ := json.Marshal(d)
	return string(b)
}
