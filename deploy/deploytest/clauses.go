package deploytest

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

func clausePlatform(c *checker) {
	p := c.h.Driver.Platform()
	if p == "" {
		c.Fatalf("Platform() is empty")
	}
	for range 3 {
		if again := c.h.Driver.Platform(); again != p {
			c.Fatalf("Platform() changed from %q to %q", p, again)
		}
	}
	if tp := c.h.Target.Platform; tp != "" && tp != p {
		c.Errorf("the Harness's Target says platform %q, the driver %q", tp, p)
	}
}

func clausePrepareReadOnly(c *checker) {
	before, mut := c.serving(), c.h.Mutations()
	p, err := c.eng.Plan(c.ctx, c.request())
	if err != nil {
		c.Fatalf("Plan: %v", err)
	}
	if p.To.IsZero() {
		c.Errorf("the plan has no To revision")
	}
	if p.Mode != deploy.ModeEngine && p.Mode != deploy.ModePlatform {
		c.Errorf("plan mode %q is not engine or platform", p.Mode)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("Prepare made %d mutating calls, want 0", n)
	}
	c.expectServing(before, "after Prepare")
}

func clauseUnknownTarget(c *checker) {
	if c.h.MissingTarget.Name == "" {
		c.Skipf("the Harness names no MissingTarget")
	}
	req := c.request()
	req.Target = c.h.MissingTarget
	mut := c.h.Mutations()
	_, err := c.eng.Plan(c.ctx, req)
	if !errors.Is(err, deploy.ErrNotFound) {
		c.Errorf("Plan on a missing target: err = %v, want ErrNotFound", err)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("%d mutating calls for a missing target, want 0", n)
	}
}

func clauseMissingRevision(c *checker) {
	if c.h.MissingRevision.ID == "" {
		c.Skipf("the Harness names no MissingRevision")
	}
	mut := c.h.Mutations()
	_, err := c.eng.Plan(c.ctx, deploy.Request{Target: c.h.Target, Revision: c.h.MissingRevision, Strategy: c.strategy()})
	if !errors.Is(err, deploy.ErrNotFound) || errors.Is(err, deploy.ErrInvalidRequest) {
		c.Errorf("Plan of missing revision %s: err = %v, want ErrNotFound and not ErrInvalidRequest", c.h.MissingRevision.ID, err)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("%d mutating calls for a missing revision, want 0", n)
	}
}

func clauseBadStrategy(c *checker) {
	req := c.request()
	req.Strategy = deploy.Custom(deploy.ShiftTo(10), deploy.BakeFor(time.Minute), deploy.ShiftTo(50))
	mut := c.h.Mutations()
	_, err := c.eng.Deploy(c.ctx, req)
	var ve *deploy.ValidationError
	if !errors.Is(err, deploy.ErrInvalidRequest) || !errors.As(err, &ve) {
		c.Errorf("Deploy with a strategy that never reaches 100%%: err = %v, want a *ValidationError", err)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("%d mutating calls for a bad strategy, want 0", n)
	}
}

func clauseUnsupportedStrategy(c *checker) {
	mh := deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 1})
	for _, s := range []deploy.Strategy{mh, deploy.Custom(deploy.ShiftTo(10), deploy.Approval(), deploy.ShiftTo(100))} {
		req := c.request()
		req.Strategy = s
		mut := c.h.Mutations()
		_, err := c.eng.Plan(c.ctx, req)
		if err != nil {
			var ve *deploy.ValidationError
			if !errors.Is(err, deploy.ErrUnsupported) || !errors.Is(err, deploy.ErrInvalidRequest) || !errors.As(err, &ve) || ve.Field != "strategy" {
				c.Errorf("Plan with strategy %s: err = %v, want nil or deploy.UnsupportedStrategy's error (ErrUnsupported, ErrInvalidRequest, a *ValidationError of field strategy)", s, err)
			}
		}
		if n := c.h.Mutations() - mut; n != 0 {
			c.Errorf("Plan with strategy %s made %d mutating calls, want 0", s, n)
		}
	}
}

func clauseRunningRevision(c *checker) {
	cur := c.initial()
	mut := c.h.Mutations()
	p, err := c.eng.Plan(c.ctx, deploy.Request{Target: c.h.Target, Revision: deploy.Revision{ID: cur}, Strategy: c.strategy()})
	switch {
	case err != nil && !errors.Is(err, deploy.ErrInvalidRequest):
		c.Errorf("Plan of the running revision %s: err = %v, want nil or ErrInvalidRequest", cur, err)
	case err == nil && (p.To.ID != cur || p.From == nil || p.From.ID != cur):
		c.Errorf("Plan of the running revision %s: From %v To %s, want both %s", cur, p.From, p.To.ID, cur)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("Plan of the running revision made %d mutating calls, want 0", n)
	}
	d := c.mustDeploy(c.request())
	mut = c.h.Mutations()
	for _, rev := range []string{d.To.ID, cur} {
		p, err := c.eng.Plan(c.ctx, deploy.Request{Target: c.h.Target, Revision: deploy.Revision{ID: rev},
			Strategy: deploy.AllAtOnce(), RollbackOf: d.ID})
		if err != nil {
			c.Errorf("Plan of %s with RollbackOf %s: %v, want a plan", rev, d.ID, err)
		} else if p.To.ID != rev {
			c.Errorf("Plan of %s with RollbackOf: To is %s", rev, p.To.ID)
		}
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("Plans with RollbackOf made %d mutating calls, want 0", n)
	}
}

func clauseStart(c *checker) {
	earlier := c.mustDeploy(c.request())
	before := c.serving()
	p := c.plan(c.request())
	d, err := c.h.Driver.Start(c.ctx, p)
	if err != nil {
		c.Fatalf("Start: %v", err)
	}
	defer c.stopRollback(d)
	if d.ID == "" {
		c.Errorf("Start returned a deployment without an ID")
	}
	if d.ID == earlier.ID {
		c.Errorf("Start returned the ID %s of an earlier deployment", d.ID)
	}
	if d.Target.Name != p.Request.Target.Name {
		c.Errorf("Start returned target %q, want %q", d.Target.Name, p.Request.Target.Name)
	}
	if d.To.ID == "" {
		c.Errorf("Start returned a deployment whose To has no ID")
	}
	if !isLive(d.Status) {
		c.Errorf("Start's status is %q, want Created, Queued or InProgress", d.Status)
	}
	if p.Mode == deploy.ModeEngine {
		if d.Percent != 0 {
			c.Errorf("engine-mode Start reports %v%% on the new revision, want 0", d.Percent)
		}
		c.expectServing(before, "after an engine-mode Start")
	}
	if d.ID != "" {
		if got := c.status(d); got.ID != d.ID {
			c.Errorf("Status of %s reports deployment %s", d.ID, got.ID)
		}
	}
}

func clauseSecondDeployment(c *checker) {
	p1 := c.plan(c.request())
	p2 := c.plan(c.request())
	d1, err := c.h.Driver.Start(c.ctx, p1)
	if err != nil {
		c.Fatalf("Start: %v", err)
	}
	defer c.stopRollback(d1)
	before := c.serving()
	d2, err := c.h.Driver.Start(c.ctx, p2)
	if err != nil {
		if !errors.Is(err, deploy.ErrLocked) {
			c.Errorf("second Start while %s is live: err = %v, want ErrLocked", d1.ID, err)
		}
		c.expectServing(before, "after a refused second Start")
		return
	}
	defer c.stopRollback(d2)
	if d2.ID == d1.ID {
		c.Errorf("the second Start returned the first deployment's ID %s", d1.ID)
	}
	if d2.Status != deploy.StatusQueued {
		c.Errorf("second Start while %s is live was accepted as %s, want ErrLocked or StatusQueued", d1.ID, d2.Status)
	}
	if got := c.status(d2); got.Status != deploy.StatusQueued {
		c.Errorf("the queued deployment reports %s while %s is live, want Queued", got.Status, d1.ID)
	}
}

func clauseDeploySucceeds(c *checker) {
	d := c.mustDeploy(c.request())
	got := c.status(d)
	if got.Status != deploy.StatusSucceeded || got.Percent != 100 {
		c.Errorf("Status after success = %s at %v%%, want Succeeded at 100%%", got.Status, got.Percent)
	}
	if d.Percent != 100 {
		c.Errorf("Deploy returned %v%%, want 100", d.Percent)
	}
	c.expectServing(map[string]float64{d.To.ID: 100}, "after a successful deploy")
	saw := false
	for _, e := range c.eventsOf(d.ID) {
		saw = saw || (e.Kind == deploy.EventStatus && e.Status == deploy.StatusSucceeded)
	}
	if !saw {
		c.Errorf("no status event reported Succeeded")
	}
	if hist, ok := c.history(); ok && len(hist) > 0 && hist[0].Revision.ID != d.To.ID {
		c.Errorf("the newest History entry is %s, want %s", hist[0].Revision.ID, d.To.ID)
	}
	c.expectCurrent(d.To.ID, "after a successful deploy")
}

func (c *checker) checkStatusReadOnly(d *deploy.Deployment) {
	arg := d.Clone()
	want := asJSON(arg)
	detail := arg.Detail
	before, mut := c.serving(), c.h.Mutations()
	for range 3 {
		got, err := c.h.Driver.Status(c.ctx, arg)
		if err != nil {
			c.Fatalf("Status: %v", err)
		}
		if got == arg {
			c.Errorf("Status returned its argument, want a new Deployment")
		}
		if got.ID != d.ID || got.Target.Name != d.Target.Name || got.To.ID != d.To.ID {
			c.Errorf("Status of %s (%s, to %s) returned %s (%s, to %s)", d.ID, d.Target.Name, d.To.ID, got.ID, got.Target.Name, got.To.ID)
		}
		if !(got.Percent >= 0 && got.Percent <= 100) {
			c.Errorf("Status reports %v%%, want 0..100", got.Percent)
		}
		if !got.Status.Valid() {
			c.Errorf("Status reports %q, not a valid status", got.Status)
		}
	}
	if asJSON(arg) != want || arg.Detail != detail {
		c.Errorf("Status modified its argument:\n was %s\n now %s", want, asJSON(arg))
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("Status made %d mutating calls, want 0", n)
	}
	c.expectServing(before, "after Status")
}

func clauseStatusReadOnly(c *checker) {
	done := c.mustDeploy(c.request())
	c.checkStatusReadOnly(done)
	p := c.plan(c.request())
	live, err := c.h.Driver.Start(c.ctx, p)
	if err != nil {
		c.Fatalf("Start: %v", err)
	}
	defer c.stopRollback(live)
	c.checkStatusReadOnly(live)
}

func clauseStatusUnknown(c *checker) {
	_, err := c.h.Driver.Status(c.ctx, &deploy.Deployment{ID: "does-not-exist-0000", Target: c.h.Target})
	if !errors.Is(err, deploy.ErrNotFound) {
		c.Errorf("Status of an unknown deployment: err = %v, want ErrNotFound", err)
	}
}

func (c *checker) needFailures() {
	if c.h.FailNext == nil {
		c.Skipf("the Harness cannot make a deployment fail (FailNext is nil)")
	}
}

func clauseFailure(c *checker) {
	c.needFailures()
	c.h.FailNext(c.t)
	d, err := c.deploy(c.request())
	if err == nil {
		c.Fatalf("Deploy of a failing deployment returned no error")
	}
	if d == nil {
		c.Fatalf("Deploy returned no deployment: %v", err)
	}
	if d.Status != deploy.StatusFailed && d.Status != deploy.StatusRolledBack {
		c.Errorf("status = %s, want Failed or RolledBack", d.Status)
	}
	if !errors.Is(err, deploy.ErrFailed) && !errors.Is(err, deploy.ErrRolledBack) {
		c.Errorf("err = %v, want ErrFailed or ErrRolledBack", err)
	}
	got := c.status(d)
	if got.Status == deploy.StatusSucceeded {
		c.Errorf("the driver reports the failed deployment %s as Succeeded", d.ID)
	}
	if got.Status == deploy.StatusRolledBack && got.Percent != 0 {
		c.Errorf("the driver reports the rolled-back deployment at %v%%, want 0", got.Percent)
	}
	if share := c.serving()[d.To.ID]; math.Abs(share-got.Percent) > 0.01 {
		c.Errorf("the driver reports %v%% on %s, the platform serves %v%%", got.Percent, d.To.ID, share)
	}
	c.expectNoSuccessFor(d.ID)
}

// expectRolledBack checks a deployment that ended RolledBack, and what the
// platform serves after it.
func (c *checker) expectRolledBack(d *deploy.Deployment, err error, initial string) {
	if d == nil {
		c.Fatalf("no deployment returned: %v", err)
	}
	if d.Status != deploy.StatusRolledBack || !errors.Is(err, deploy.ErrRolledBack) {
		c.Errorf("status = %s, err = %v, want RolledBack and ErrRolledBack", d.Status, err)
	}
	if d.Percent != 0 {
		c.Errorf("the rolled-back deployment reports %v%% on the new revision, want 0", d.Percent)
	}
	// A deployment the platform rolled back (stopped with rollback) must
	// say so itself. One the engine reversed with a new deployment
	// (RolledBackBy) may have completed on the platform first: a gate that
	// refused after 100% is reversed that way.
	if d.RolledBackBy == "" {
		got := c.status(d)
		if got.Status != deploy.StatusRolledBack || got.Percent != 0 {
			c.Errorf("the driver reports the deployment the platform rolled back as %s at %v%%, want RolledBack at 0%%", got.Status, got.Percent)
		}
		c.expectNoSuccessFor(d.ID)
	}
	c.expectServing(map[string]float64{initial: 100}, "after the rollback")
	c.expectCurrent(initial, "after the rollback")
}

func clauseFailureRollback(c *checker) {
	c.needFailures()
	initial := c.initial()
	c.h.FailNext(c.t)
	req := c.request()
	req.RollbackOn = deploy.OnFailure
	d, err := c.deploy(req)
	c.expectRolledBack(d, err, initial)
}

func clauseAlarmRollback(c *checker) {
	initial := c.initial()
	alarm := NewAlarm("conformance-alarm")
	alarm.FireAt(1)
	req := c.request()
	req.Gates = []deploy.Gate{alarm}
	req.RollbackOn = deploy.OnAlarm
	d, err := c.deploy(req)
	if !errors.Is(err, deploy.ErrAlarm) {
		c.Errorf("err = %v, want ErrAlarm", err)
	}
	var ge *deploy.GateError
	if !errors.As(err, &ge) || ge.Gate != "conformance-alarm" {
		c.Errorf("err %v does not name the gate", err)
	}
	c.expectRolledBack(d, err, initial)
}

func (c *checker) needStopper() deploy.Stopper {
	st, ok := c.h.Driver.(deploy.Stopper)
	if !ok {
		c.Skipf("the driver does not implement deploy.Stopper")
	}
	return st
}

func clauseStopRollback(c *checker) {
	c.needStopper()
	initial := c.initial()
	var outcome deploy.StopOutcome
	var stopErr error
	gate, called := onFirstSplit("stopper", func(ctx context.Context, ch deploy.Check) {
		outcome, stopErr = c.eng.Stop(ctx, ch.Deployment, deploy.StopOptions{Rollback: true, Reason: "conformance"})
	})
	req := c.request()
	req.Gates = []deploy.Gate{gate}
	d, err := c.deploy(req)
	if !called() {
		c.Skipf("the deployment never served part of the traffic on the new revision, so it could not be stopped part way (%v); use a Harness.Strategy that splits the traffic and bakes", err)
	}
	if stopErr != nil {
		c.Fatalf("Stop: %v", stopErr)
	}
	if outcome != deploy.StopSucceeded && outcome != deploy.StopPending {
		c.Errorf("Stop outcome = %q, want Succeeded or Pending", outcome)
	}
	c.expectRolledBack(d, err, initial)

	// The same, asked of the driver alone: the engine's own repairs must
	// not hide a driver that ignores Rollback.
	st := c.needStopper()
	live, _ := c.startLive(c.request())
	if out, err := c.stopUntilDone(st, live, deploy.StopOptions{Rollback: true, Reason: "conformance"}); err != nil || out != deploy.StopSucceeded {
		c.Fatalf("Stop with rollback: %q, %v", out, err)
	}
	got, ok := c.pollUntil(live, 50, func(x *deploy.Deployment) bool { return x.Status.Terminal() })
	if !ok || got.Status != deploy.StatusRolledBack || got.Percent != 0 {
		c.Errorf("after Stop with rollback the driver reports %s at %v%%, want RolledBack at 0%%", got.Status, got.Percent)
	}
	c.expectServing(map[string]float64{initial: 100}, "after Stop with rollback")
}

func clauseStopNoRollback(c *checker) {
	st := c.needStopper()
	initial := c.initial()
	d, p := c.startLive(c.request())
	before := c.serving()
	split := c.status(d)
	out, err := st.Stop(c.ctx, d.Clone(), deploy.StopOptions{Reason: "conformance"})
	if errors.Is(err, deploy.ErrUnsupported) {
		// The platform can only stop by reverting: it must say so and change nothing.
		if got := c.status(d); got.Status.Terminal() {
			c.Errorf("a stop without rollback refused with ErrUnsupported changed the deployment to %s", got.Status)
		}
		c.expectServing(before, "after a stop without rollback refused with ErrUnsupported")
		c.stopRollback(d)
		return
	}
	if err != nil {
		c.stopRollback(d)
		c.Fatalf("Stop without rollback: %v", err)
	}
	if out == deploy.StopPending {
		if out, err = c.stopUntilDone(st, d, deploy.StopOptions{Reason: "conformance"}); err != nil || out != deploy.StopSucceeded {
			c.Fatalf("Stop without rollback: %s, %v", out, err)
		}
	}
	got, ok := c.pollUntil(d, 50, func(x *deploy.Deployment) bool { return x.Status.Terminal() })
	if !ok || got.Status != deploy.StatusStopped {
		c.Fatalf("after a stop without rollback the driver reports %s, want Stopped", got.Status)
	}
	share := c.serving()[d.To.ID]
	if math.Abs(share-got.Percent) > 0.01 {
		c.Errorf("a stopped deployment reports %v%% on %s, the platform serves %v%%", got.Percent, d.To.ID, share)
	}
	if p.Mode == deploy.ModeEngine {
		c.expectServing(before, "after a stop without rollback")
		if got.Percent != split.Percent {
			c.Errorf("after a stop without rollback the driver reports %v%%, want %v%% as before", got.Percent, split.Percent)
		}
	}
	if share > 0 && share < 100 {
		c.expectCurrent(initial, "while a stopped deployment splits the traffic")
		mut := c.h.Mutations()
		_, err := c.eng.Plan(c.ctx, c.request())
		if !errors.Is(err, deploy.ErrLocked) || !strings.Contains(strings.ToLower(err.Error()), "rollback") {
			c.Errorf("Plan while a stopped deployment splits the traffic: err = %v, want ErrLocked naming the repair (Engine.Rollback)", err)
		}
		if n := c.h.Mutations() - mut; n != 0 {
			c.Errorf("Plan made %d mutating calls, want 0", n)
		}
	}
	rreq := deploy.RollbackRequest{Target: c.h.Target, Of: d.ID}
	if _, ok := c.h.Driver.(deploy.Historian); !ok {
		rreq.To = initial
	}
	rb, err := c.eng.Rollback(c.ctx, rreq)
	if err != nil {
		c.Fatalf("Rollback after a stop without rollback: %v", err)
	}
	if rb.To.ID != initial {
		c.Errorf("the rollback after a stop deployed %s, want %s", rb.To.ID, initial)
	}
	c.expectServing(map[string]float64{initial: 100}, "after the rollback that repairs a stop")
	c.mustDeploy(c.request())
}

func clauseStopEnded(c *checker) {
	st := c.needStopper()
	d := c.mustDeploy(c.request())
	for _, rb := range []bool{false, true} {
		out, err := st.Stop(c.ctx, d.Clone(), deploy.StopOptions{Rollback: rb})
		if !errors.Is(err, deploy.ErrCannotStop) {
			c.Errorf("Stop (rollback %v) of a deployment that succeeded: %q, %v, want ErrCannotStop", rb, out, err)
		}
		if got := c.status(d); got.Status != deploy.StatusSucceeded {
			c.Errorf("after Stop (rollback %v) of a deployment that succeeded Status reports %s", rb, got.Status)
		}
		c.expectServing(map[string]float64{d.To.ID: 100}, "after a Stop of a deployment that succeeded")
	}
	live, _ := c.startLive(c.request())
	if out, err := c.stopUntilDone(st, live, deploy.StopOptions{Rollback: true}); err != nil || out != deploy.StopSucceeded {
		c.Fatalf("Stop with rollback: %q, %v", out, err)
	}
	rolled, ok := c.pollUntil(live, 50, func(x *deploy.Deployment) bool { return x.Status.Terminal() })
	if !ok || rolled.Status != deploy.StatusRolledBack {
		c.Fatalf("after Stop with rollback the driver reports %s, want RolledBack", rolled.Status)
	}
	after := c.serving()
	for _, rb := range []bool{false, true} {
		out, err := st.Stop(c.ctx, live.Clone(), deploy.StopOptions{Rollback: rb})
		if err != nil || out != deploy.StopSucceeded {
			c.Errorf("Stop (rollback %v) of a deployment that ended RolledBack: %q, %v, want StopSucceeded", rb, out, err)
		}
		if got := c.status(live); got.Status != deploy.StatusRolledBack {
			c.Errorf("Stop of a rolled-back deployment changed its status to %s", got.Status)
		}
		c.expectServing(after, "after a Stop of a deployment that ended")
	}
}

func (c *checker) needShifter() deploy.Shifter {
	sh, ok := c.h.Driver.(deploy.Shifter)
	if !ok {
		c.Skipf("the driver does not implement deploy.Shifter")
	}
	return sh
}

func clauseShiftRange(c *checker) {
	sh := c.needShifter()
	p := c.plan(c.request())
	if p.Mode != deploy.ModeEngine {
		c.Skipf("the driver plans in ModePlatform; the engine never calls Shift")
	}
	d, err := c.h.Driver.Start(c.ctx, p)
	if err != nil {
		c.Fatalf("Start: %v", err)
	}
	defer c.stopRollback(d)
	before, mut := c.serving(), c.h.Mutations()
	for _, pct := range []float64{0, -5, 0.5, 100.5, 101, math.NaN(), math.Inf(1)} {
		if err := sh.Shift(c.ctx, d.Clone(), pct); !errors.Is(err, deploy.ErrInvalidRequest) {
			c.Errorf("Shift(%v): err = %v, want ErrInvalidRequest", pct, err)
		}
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("refused Shifts made %d mutating calls, want 0", n)
	}
	c.expectServing(before, "after refused Shifts")
}

func clauseShiftAfterStop(c *checker) {
	sh := c.needShifter()
	st := c.needStopper()
	p := c.plan(c.request())
	if p.Mode != deploy.ModeEngine {
		c.Skipf("the driver plans in ModePlatform; the engine never calls Shift")
	}
	initial := c.initial()
	d, _ := c.startLive(c.request())
	if _, err := c.stopUntilDone(st, d, deploy.StopOptions{Rollback: true}); err != nil {
		c.Fatalf("Stop: %v", err)
	}
	mut := c.h.Mutations()
	if err := sh.Shift(c.ctx, d.Clone(), 50); !errors.Is(err, deploy.ErrInvalidRequest) {
		c.Errorf("Shift after Stop: err = %v, want ErrInvalidRequest", err)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("a refused Shift made %d mutating calls, want 0", n)
	}
	c.expectServing(map[string]float64{initial: 100}, "after a Shift of a stopped deployment")
	if got := c.status(d); got.Status != deploy.StatusRolledBack {
		c.Errorf("a Shift after the stop changed the status to %s", got.Status)
	}
	done := c.mustDeploy(c.request())
	if err := sh.Shift(c.ctx, done.Clone(), 50); !errors.Is(err, deploy.ErrInvalidRequest) {
		c.Errorf("Shift of a deployment that succeeded: err = %v, want ErrInvalidRequest", err)
	}
	c.expectServing(map[string]float64{done.To.ID: 100}, "after a Shift of a finished deployment")
}

func clauseFailedShift(c *checker) {
	sh := c.needShifter()
	c.needFailures()
	p := c.plan(c.request())
	if p.Mode != deploy.ModeEngine {
		c.Skipf("the driver plans in ModePlatform; the engine never calls Shift")
	}
	c.h.FailNext(c.t)
	p = c.plan(c.request())
	d, err := c.h.Driver.Start(c.ctx, p)
	if err != nil {
		c.Skipf("the Harness's FailNext makes Start fail (%v), not a Shift", err)
	}
	defer c.stopRollback(d)
	before := c.serving()
	pct := c.firstShift()
	if pct == 0 {
		pct = 100
	}
	if err := sh.Shift(c.ctx, d.Clone(), pct); err == nil {
		c.Skipf("the Harness's FailNext does not make the first Shift fail")
	}
	c.expectServing(before, "after a Shift that failed")
	if got := c.status(d); got.Percent != 0 || got.Status == deploy.StatusSucceeded {
		c.Errorf("after a Shift that failed the driver reports %s at %v%%, want 0%% and not Succeeded", got.Status, got.Percent)
	}
}

func clauseShiftUnknown(c *checker) {
	sh := c.needShifter()
	err := sh.Shift(c.ctx, &deploy.Deployment{ID: "does-not-exist-0000", Target: c.h.Target, To: deploy.Revision{ID: "x"}}, 50)
	if !errors.Is(err, deploy.ErrNotFound) {
		c.Errorf("Shift of an unknown deployment: err = %v, want ErrNotFound", err)
	}
}

func clauseShifts(c *checker) {
	gate := deploy.GateFunc{GateName: "served", Func: func(ctx context.Context, ch deploy.Check) error {
		if ch.Phase == deploy.PhaseBeforeTraffic {
			return nil
		}
		share := c.serving()[ch.Deployment.To.ID]
		if math.Abs(share-ch.Percent) > 0.01 {
			c.Errorf("during %s the deployment reports %v%% on %s, the platform serves %v%%", ch.Phase, ch.Percent, ch.Deployment.To.ID, share)
		}
		return nil
	}}
	req := c.request()
	req.Gates = []deploy.Gate{gate}
	d := c.mustDeploy(req)
	last := -1.0
	for _, e := range c.eventsOf(d.ID) {
		if e.Kind != deploy.EventShift {
			continue
		}
		if e.Percent < last {
			c.Errorf("traffic went down from %v%% to %v%%", last, e.Percent)
		}
		last = e.Percent
	}
	if d.Percent != 100 {
		c.Errorf("final percent = %v, want 100", d.Percent)
	}
}

func clauseCancel(c *checker) {
	initial := c.initial()
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	gate, called := onFirstSplit("canceller", func(context.Context, deploy.Check) { cancel() })
	req := c.request()
	req.Gates = []deploy.Gate{gate}
	p := c.plan(req)
	d, err := c.eng.Execute(ctx, p)
	if !called() {
		c.Skipf("the deployment never served part of the traffic on the new revision, so it could not be cancelled part way (%v); use a Harness.Strategy that splits the traffic and bakes", err)
	}
	if !errors.Is(err, context.Canceled) {
		c.Errorf("err = %v, want context.Canceled", err)
	}
	if d == nil {
		c.Fatalf("no deployment returned after cancel")
	}
	if p.Mode != deploy.ModeEngine {
		return
	}
	if d.Status != deploy.StatusRolledBack && d.Status != deploy.StatusStopped {
		c.Errorf("engine-driven deployment after cancel = %s, want RolledBack or Stopped", d.Status)
	}
	if got := c.status(d); !got.Status.Terminal() || got.Status == deploy.StatusSucceeded {
		c.Errorf("after cancel the driver reports %s, want it ended and not Succeeded", got.Status)
	}
	c.expectServing(map[string]float64{initial: 100}, "after a cancelled engine-driven deployment")
	c.expectCurrent(initial, "after a cancelled engine-driven deployment")
}

func clauseDoneContext(c *checker) {
	done := c.mustDeploy(c.request())
	p2 := c.plan(c.request())
	dead, cancel := context.WithCancel(c.ctx)
	cancel()
	mut := c.h.Mutations()
	before := c.serving()
	expect := func(what string, err error) {
		if !errors.Is(err, context.Canceled) {
			c.Errorf("%s with a done context: err = %v, want one wrapping context.Canceled", what, err)
		}
	}
	_, err := c.h.Driver.Prepare(dead, c.request())
	expect("Prepare", err)
	d, err := c.h.Driver.Start(dead, p2)
	expect("Start", err)
	if err == nil && d != nil {
		c.stopRollback(d)
	}
	_, err = c.h.Driver.Status(dead, done.Clone())
	expect("Status of an ended deployment", err)
	if hi, ok := c.h.Driver.(deploy.Historian); ok {
		_, err = hi.History(dead, c.h.Target)
		expect("History", err)
	}
	if sb, ok := c.h.Driver.(deploy.StatusBatcher); ok {
		_, err = sb.StatusMany(dead, []*deploy.Deployment{done.Clone()})
		expect("StatusMany", err)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("calls with a done context made %d mutating calls, want 0", n)
	}
	c.expectServing(before, "after calls with a done context")

	live, p := c.startLive(c.request())
	defer c.stopRollback(live)
	mut, before = c.h.Mutations(), c.serving()
	_, err = c.h.Driver.Status(dead, live.Clone())
	expect("Status of a live deployment", err)
	if sh, ok := c.h.Driver.(deploy.Shifter); ok && p.Mode == deploy.ModeEngine {
		expect("Shift", sh.Shift(dead, live.Clone(), 100))
	}
	if st, ok := c.h.Driver.(deploy.Stopper); ok {
		_, err = st.Stop(dead, live.Clone(), deploy.StopOptions{Rollback: true})
		expect("Stop", err)
	}
	if co, ok := c.h.Driver.(deploy.Continuer); ok {
		expect("Continue", co.Continue(dead, live.Clone()))
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("calls with a done context made %d mutating calls, want 0", n)
	}
	c.expectServing(before, "after calls with a done context")
	if got := c.status(live); got.Status.Terminal() {
		c.Errorf("calls with a done context ended the live deployment (%s)", got.Status)
	}
}

func (c *checker) needContinuer() deploy.Continuer {
	co, ok := c.h.Driver.(deploy.Continuer)
	if !ok {
		c.Skipf("the driver does not implement deploy.Continuer")
	}
	return co
}

func clauseContinueNotWaiting(c *checker) {
	co := c.needContinuer()
	d := c.mustDeploy(c.request())
	mut := c.h.Mutations()
	if err := co.Continue(c.ctx, d.Clone()); !errors.Is(err, deploy.ErrInvalidRequest) {
		c.Errorf("Continue of a finished deployment: err = %v, want ErrInvalidRequest", err)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("a refused Continue made %d mutating calls, want 0", n)
	}
	c.expectServing(map[string]float64{d.To.ID: 100}, "after a refused Continue")
	if err := co.Continue(c.ctx, &deploy.Deployment{ID: "does-not-exist-0000", Target: c.h.Target}); !errors.Is(err, deploy.ErrNotFound) {
		c.Errorf("Continue of an unknown deployment: err = %v, want ErrNotFound", err)
	}
}

func clauseContinueWaiting(c *checker) {
	co := c.needContinuer()
	var req deploy.Request
	if c.h.Waiting != nil {
		req = c.h.Waiting(c.t)
		if req.Target.Name == "" {
			req.Target = c.h.Target
		}
	} else {
		req = c.request()
		req.Strategy = deploy.Custom(deploy.ShiftTo(10), deploy.Approval(), deploy.ShiftTo(100))
	}
	p, err := c.eng.Plan(c.ctx, req)
	if err != nil {
		if c.h.Waiting == nil {
			c.Skipf("the driver refuses an approval step (%v) and the Harness gives no Waiting request", err)
		}
		c.Fatalf("Plan of the Waiting request: %v", err)
	}
	if p.Mode != deploy.ModePlatform {
		c.Skipf("approvals of engine-driven plans are the engine's own")
	}
	d, err := c.h.Driver.Start(c.ctx, p)
	if err != nil {
		c.Fatalf("Start: %v", err)
	}
	defer c.stopRollback(d)
	got, ok := c.pollUntil(d, 200, func(x *deploy.Deployment) bool { return x.Status == deploy.StatusReady || x.Status.Terminal() })
	if !ok || got.Status != deploy.StatusReady {
		c.Fatalf("the waiting deployment never reached StatusReady (last %s)", got.Status)
	}
	if err := co.Continue(c.ctx, got.Clone()); err != nil {
		c.Fatalf("Continue of a deployment in StatusReady: %v", err)
	}
	if after, ok := c.pollUntil(d, 3, func(x *deploy.Deployment) bool { return x.Status != deploy.StatusReady }); !ok {
		c.Errorf("after Continue the deployment still reports %s", after.Status)
	}
}

func (c *checker) needHistorian() {
	if _, ok := c.h.Driver.(deploy.Historian); !ok {
		c.Skipf("the driver does not implement deploy.Historian")
	}
}

func clauseHistoryInitial(c *checker) {
	c.needHistorian()
	initial := c.initial()
	hist, _ := c.history()
	found := false
	for _, e := range hist {
		found = found || (e.Revision.ID == initial && e.Status == deploy.StatusSucceeded)
	}
	if !found {
		c.Errorf("History does not list %s, the revision the target ran before any deployment, as Succeeded: %s", initial, histString(hist))
	}
	c.expectCurrent(initial, "before any deployment")
	c.mustDeploy(c.request())
	hist, _ = c.history()
	found = false
	for _, e := range hist {
		found = found || e.Revision.ID == initial
	}
	if !found {
		c.Errorf("after one deployment History no longer lists %s, the revision the target ran before it: %s", initial, histString(hist))
	}
}

func clauseHistory(c *checker) {
	c.needHistorian()
	initial := c.initial()
	d := c.mustDeploy(c.request())
	hist, _ := c.history()
	if len(hist) == 0 {
		c.Fatalf("History is empty after a deployment")
	}
	if hist[0].Revision.ID != d.To.ID {
		c.Errorf("the newest History entry is %s, want %s", hist[0].Revision.ID, d.To.ID)
	}
	for i := 1; i < len(hist); i++ {
		if !hist[i].At.IsZero() && hist[i].At.After(hist[i-1].At) && !hist[i-1].At.IsZero() {
			c.Errorf("History is not newest first: %s", histString(hist))
			break
		}
	}
	c.expectCurrent(d.To.ID, "after a deployment")
	if good, ok := deploy.LastKnownGood(hist); !ok || good.Revision.ID != initial {
		c.Errorf("last known good = %v (found %v), want %s", good.Revision.ID, ok, initial)
	}
	if c.h.MissingTarget.Name != "" {
		if _, err := c.h.Driver.(deploy.Historian).History(c.ctx, c.h.MissingTarget); !errors.Is(err, deploy.ErrNotFound) {
			c.Errorf("History of a missing target: err = %v, want ErrNotFound", err)
		}
	}
}

func clauseHistoryFailure(c *checker) {
	c.needHistorian()
	c.needFailures()
	initial := c.initial()
	c.h.FailNext(c.t)
	req := c.request()
	req.RollbackOn = deploy.OnFailure
	d, _ := c.deploy(req)
	if d == nil {
		c.Fatalf("Deploy started nothing")
	}
	c.expectNoSuccessFor(d.ID)
	c.expectCurrent(initial, "after a failed deployment")
}

func clauseHistorySplit(c *checker) {
	c.needHistorian()
	initial := c.initial()
	gate, called := onFirstSplit("history", func(context.Context, deploy.Check) {
		c.expectCurrent(initial, "while the traffic is split")
	})
	req := c.request()
	req.Gates = []deploy.Gate{gate}
	c.mustDeploy(req)
	if !called() {
		c.Skipf("the deployment never served part of the traffic on the new revision; use a Harness.Strategy that splits the traffic and bakes")
	}
}

func clauseRollbackLKG(c *checker) {
	c.needHistorian()
	first := c.mustDeploy(c.request())
	second := c.mustDeploy(c.request())
	rb, err := c.eng.Rollback(c.ctx, deploy.RollbackRequest{Target: c.h.Target})
	if err != nil {
		c.Fatalf("Rollback: %v", err)
	}
	if rb.ID == second.ID || rb.ID == first.ID {
		c.Errorf("the rollback reused deployment ID %s", rb.ID)
	}
	if rb.RollbackOf != second.ID {
		c.Errorf("RollbackOf = %q, want %q", rb.RollbackOf, second.ID)
	}
	if rb.To.ID != first.To.ID {
		c.Errorf("the rollback deployed %s, want %s", rb.To.ID, first.To.ID)
	}
	c.expectServing(map[string]float64{first.To.ID: 100}, "after a rollback")
	c.expectCurrent(first.To.ID, "after a rollback")
}

func clauseRollbackNamed(c *checker) {
	first := c.mustDeploy(c.request())
	c.mustDeploy(c.request())
	c.mustDeploy(c.request())
	rb, err := c.eng.Rollback(c.ctx, deploy.RollbackRequest{Target: c.h.Target, To: first.To.ID})
	if err != nil {
		c.Fatalf("Rollback to %s: %v", first.To.ID, err)
	}
	if rb.To.ID != first.To.ID {
		c.Errorf("the rollback deployed %s, want %s", rb.To.ID, first.To.ID)
	}
	c.expectServing(map[string]float64{first.To.ID: 100}, "after a rollback to a named revision")
	c.expectCurrent(first.To.ID, "after a rollback to a named revision")
}

func clauseRollbackCurrent(c *checker) {
	c.needHistorian()
	d := c.mustDeploy(c.request())
	mut := c.h.Mutations()
	_, err := c.eng.Rollback(c.ctx, deploy.RollbackRequest{Target: c.h.Target, To: d.To.ID})
	if !errors.Is(err, deploy.ErrInvalidRequest) {
		c.Errorf("Rollback to the running revision: err = %v, want ErrInvalidRequest", err)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("a refused rollback made %d mutating calls, want 0", n)
	}
	c.expectServing(map[string]float64{d.To.ID: 100}, "after a refused rollback")
}

func clauseStatusMany(c *checker) {
	sb, ok := c.h.Driver.(deploy.StatusBatcher)
	if !ok {
		c.Skipf("the driver does not implement deploy.StatusBatcher")
	}
	d1 := c.mustDeploy(c.request())
	d2 := c.mustDeploy(c.request())
	missing := &deploy.Deployment{ID: "does-not-exist-0000", Target: c.h.Target, To: deploy.Revision{ID: "x"}}
	mut := c.h.Mutations()
	out, err := sb.StatusMany(c.ctx, []*deploy.Deployment{d2.Clone(), missing, d1.Clone()})
	if len(out) != 3 {
		c.Fatalf("StatusMany of 3 deployments returned %d entries (err %v)", len(out), err)
	}
	if out[0] == nil || out[0].ID != d2.ID || out[2] == nil || out[2].ID != d1.ID {
		c.Errorf("StatusMany entries are not in the order asked: want %s, nil, %s; got %v, %v, %v", d2.ID, d1.ID, idOf(out[0]), idOf(out[1]), idOf(out[2]))
	}
	if out[1] != nil {
		c.Errorf("StatusMany reported the unknown deployment as %s", out[1].ID)
	}
	if err == nil || !findError(err, missing.ID) {
		c.Errorf("StatusMany's error %v has no *deploy.Error naming %s", err, missing.ID)
	}
	out, err = sb.StatusMany(c.ctx, []*deploy.Deployment{d1.Clone(), d2.Clone()})
	if err != nil || len(out) != 2 || out[0] == nil || out[1] == nil || out[0].ID != d1.ID || out[1].ID != d2.ID {
		c.Errorf("StatusMany of two known deployments: %v, %v; want both, in order, and no error", out, err)
	} else if out[0].Status != deploy.StatusSucceeded || out[1].Status != deploy.StatusSucceeded {
		c.Errorf("StatusMany reports %s and %s for two deployments that succeeded", out[0].Status, out[1].Status)
	}
	if n := c.h.Mutations() - mut; n != 0 {
		c.Errorf("StatusMany made %d mutating calls, want 0", n)
	}
}

func idOf(d *deploy.Deployment) string {
	if d == nil {
		return "nil"
	}
	return d.ID
}

func clauseGatesAfterCompletion(c *checker) {
	initial := c.initial()
	refuse := deploy.GateFunc{GateName: "after-traffic", Phases: []deploy.Phase{deploy.PhaseAfterTraffic},
		Func: func(context.Context, deploy.Check) error { return errors.New("smoke test failed") }}
	req := c.request()
	req.Gates = []deploy.Gate{refuse}
	req.RollbackOn = deploy.OnFailure
	d, err := c.deploy(req)
	if err == nil || d == nil || d.Status == deploy.StatusSucceeded {
		c.Fatalf("a deployment whose after-traffic gate refused ended %v, err %v; want it not to succeed", d, err)
	}
	if !errors.Is(err, deploy.ErrGateFailed) {
		c.Errorf("err = %v, want ErrGateFailed", err)
	}
	c.expectServing(map[string]float64{initial: 100}, "after a gate refused the completed deployment (OnFailure)")
}

func clauseReadServing(c *checker) {
	sr, ok := c.h.Driver.(deploy.ServingReader)
	if !ok {
		c.Skipf("the driver is not a deploy.ServingReader")
	}
	check := func(when string) {
		mut := c.h.Mutations()
		got, err := sr.ReadServing(c.ctx, c.h.Target)
		if err != nil {
			c.Fatalf("ReadServing %s: %v", when, err)
		}
		if n := c.h.Mutations() - mut; n != 0 {
			c.Errorf("ReadServing %s made %d mutating calls, want 0", when, n)
		}
		shares := map[string]float64{}
		total := 0.0
		for _, s := range got {
			if !(s.Percent > 0 && s.Percent <= 100) {
				c.Errorf("ReadServing %s: %s has a share of %v%%, want 0 < share <= 100", when, s.Revision.ID, s.Percent)
			}
			if _, dup := shares[s.Revision.ID]; dup {
				c.Errorf("ReadServing %s lists %s twice", when, s.Revision.ID)
			}
			shares[s.Revision.ID] += s.Percent
			total += s.Percent
		}
		if len(got) > 0 && math.Abs(total-100) > 0.01 {
			c.Errorf("ReadServing %s: shares add up to %v%%, want 100", when, total)
		}
		if want := c.serving(); !sameShares(shares, want) {
			c.Errorf("ReadServing %s reports %v; the platform serves %v", when, shares, want)
		}
	}
	check("before any deployment")
	live, _ := c.startLive(c.request())
	check("while the traffic is split")
	c.stopRollback(live)
	c.pollUntil(live, 50, func(x *deploy.Deployment) bool { return x.Status.Terminal() })
	check("after a stop with rollback")
	if c.h.MissingTarget.Name != "" {
		if _, err := sr.ReadServing(c.ctx, c.h.MissingTarget); !errors.Is(err, deploy.ErrNotFound) {
			c.Errorf("ReadServing of a missing target: err = %v, want ErrNotFound", err)
		}
	}
}

func clauseStartAfterThrottle(c *checker) {
	if c.h.ThrottleStart == nil {
		c.Skipf("the Harness cannot throttle a Start (ThrottleStart is nil)")
	}
	// What one deployment costs in mutating calls when nothing throttles.
	before := c.h.Mutations()
	c.mustDeploy(c.request())
	once := c.h.Mutations() - before
	c.h.ThrottleStart(c.t)
	before = c.h.Mutations()
	d := c.mustDeploy(c.request())
	// The throttled call itself may count; nothing else may be made twice.
	if got := c.h.Mutations() - before; got > once+1 {
		c.Errorf("a deployment whose Start was throttled once made %d mutating calls, one that was not %d: the second Start repeated what the first had done", got, once)
	}
	if share := c.serving()[d.To.ID]; math.Abs(share-100) > 0.01 {
		c.Errorf("after a throttled Start asked again, %s serves %v%%, want 100", d.To.ID, share)
	}
}
