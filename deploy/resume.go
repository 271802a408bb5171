package deploy

import (
	"context"
	"errors"
	"fmt"
)

// Finder finds the deployment that holds a target. Engine.Resume uses it
// when a process died between starting a deployment and writing down its
// ID: without it, such a run can only be reported.
type Finder interface {
	// Live returns the deployment that holds t: one in flight, or one
	// stopped part way whose traffic is still split. It returns nil and no
	// error when none does, and must change nothing.
	Live(ctx context.Context, t Target) (*Deployment, error)
}

// Adopter takes over a deployment that another process started, for
// drivers that keep their deployments in memory (a client-driven Lambda
// shift). Engine.Resume calls it before Status.
type Adopter interface {
	// Adopt registers d (its ID, Target, From, To and Strategy, as the
	// journal recorded them) so that Status, Shift and Stop work on it,
	// and returns it as the platform stands (Status, Percent). It must
	// change nothing on the platform. Adopting a deployment the driver
	// already knows returns its current state.
	Adopt(ctx context.Context, d *Deployment) (*Deployment, error)
}

// ResumeOptions select what Engine.Resume picks up.
type ResumeOptions struct {
	// Runs limits Resume to these journal runs. Default: every unfinished
	// run of the engine's platform.
	Runs []string
}

// Resumed is what Engine.Resume did with one unfinished run.
type Resumed struct {
	// Run is the journal run.
	Run string
	// Target is the run's target.
	Target Target
	// Deployment is where the run's deployment ended, nil when it never
	// started (or its start could not be found).
	Deployment *Deployment
	// Action says what Resume did: "finished", "rolled back", "closed",
	// "skipped".
	Action string
	// Err is why the run could not be resumed (an error wrapping ErrLocked
	// when its holder still runs), or the deployment's error.
	Err error
}

// Resume finds the runs a dead process left unfinished in Options.Store
// and brings each target to a known state. A run whose lock is still held
// (its holder runs, its lease has not expired) is skipped with an error
// wrapping ErrLocked. For each other run, Resume takes the lock, asks the
// driver where the platform really is, and:
//
//   - a deployment that ended is recorded as it ended; one stopped part
//     way with its traffic split is rolled back by a new deployment;
//   - a live engine-driven deployment (a client-driven traffic shift) is
//     stopped with rollback, since the gates and approvals that guarded it
//     died with its process;
//   - a live platform-driven deployment is followed to its end, and its
//     rollback policy applies;
//   - a rollback that was under way is finished;
//   - a run that never started is closed.
//
// Each run is then closed in the journal and its lock released, so no
// target is left weighted or locked. Without a store Resume returns an
// error wrapping ErrInvalidRequest.
func (e *Engine) Resume(ctx context.Context, o ResumeOptions) ([]Resumed, error) {
	st := e.opts.Store
	if st == nil {
		return nil, e.wrap("resume", Target{}, "", Invalid("options.store", "", "Resume needs a Store"))
	}
	runs := o.Runs
	if len(runs) == 0 {
		var err error
		if runs, err = st.Unfinished(ctx); err != nil {
			return nil, e.wrap("resume", Target{}, "", err)
		}
	}
	var out []Resumed
	for _, run := range runs {
		ents, err := st.Journal(ctx, run)
		if err != nil {
			out = append(out, Resumed{Run: run, Action: "skipped", Err: e.wrap("resume", Target{}, "", err)})
			continue
		}
		if len(ents) == 0 || ents[len(ents)-1].Kind == JournalEnd {
			continue
		}
		t := ents[0].Target
		if t.Platform != "" && t.Platform != e.platform() {
			continue
		}
		out = append(out, e.resumeRun(ctx, run, ents))
	}
	return out, nil
}

// stage is one deployment of a run: the plan entry and what followed.
type stage struct {
	plan    JournalEntry
	id      string
	percent float64
	status  Status
}

func stages(ents []JournalEntry) []stage {
	var out []stage
	for _, en := range ents {
		switch en.Kind {
		case JournalPlan, JournalRollback:
			out = append(out, stage{plan: en})
			continue
		}
		if len(out) == 0 {
			continue
		}
		s := &out[len(out)-1]
		if en.Kind == JournalStarted {
			s.id = en.DeploymentID
			if en.To != nil {
				s.plan.To = en.To
			}
		}
		if en.Kind == JournalShifted || en.Kind == JournalStarted {
			s.percent = en.Percent
		}
		if en.Status != "" {
			s.status = en.Status
		}
	}
	return out
}

func (s stage) deployment(t Target) *Deployment {
	d := &Deployment{ID: s.id, Target: t, From: s.plan.From, RollbackOf: s.plan.RollbackOf,
		Status: s.status, Percent: s.percent}
	if s.plan.To != nil {
		d.To = *s.plan.To
	}
	if s.plan.Strategy != nil {
		d.Strategy = *s.plan.Strategy
	}
	if d.Status == "" {
		d.Status = StatusInProgress
	}
	return d
}

func (e *Engine) resumeRun(ctx context.Context, runID string, ents []JournalEntry) Resumed {
	t := ents[0].Target
	res := Resumed{Run: runID, Target: t}
	release, err := e.reserve(Request{Target: t})
	if err != nil {
		res.Action, res.Err = "skipped", err
		return res
	}
	defer release()
	j, err := e.adopt(ctx, runID, t, ents[len(ents)-1].Seq)
	if err != nil {
		res.Action, res.Err = "skipped", e.wrap("resume", t, "", err)
		return res
	}
	// Another engine may have resumed the run between our read and our
	// lock: read it again under the lock.
	if ents, err = e.opts.Store.Journal(ctx, runID); err != nil || len(ents) == 0 || ents[len(ents)-1].Kind == JournalEnd {
		j.release(ctx)
		res.Action = "skipped"
		if err != nil {
			res.Err = e.wrap("resume", t, "", err)
		}
		return res
	}
	j.seq = ents[len(ents)-1].Seq
	ctx = j.with(ctx)
	sts := stages(ents)
	if len(sts) == 0 {
		res.Action = "closed"
		j.end(ctx, nil, nil, nil)
		return res
	}
	cur := sts[len(sts)-1]
	if cur.id == "" {
		// The process died around Start: did the platform start it?
		if f, ok := e.drv.(Finder); ok {
			live, err := f.Live(ctx, t)
			if err != nil {
				res.Action, res.Err = "skipped", e.wrap("resume", t, "", err)
				j.release(ctx)
				return res
			}
			if live != nil {
				cur.id = live.ID
				_ = j.write(ctx, JournalEntry{Kind: JournalStarted, DeploymentID: live.ID, Percent: live.Percent,
					Message: "found on the platform by Resume"})
			}
		}
	}
	if cur.id == "" && len(sts) > 1 {
		// A rollback that never started: the deployment it reverses is
		// what to look at.
		cur = sts[len(sts)-2]
	}
	if cur.id == "" {
		res.Action = "closed"
		j.end(ctx, nil, nil, errors.New("resumed: the deployment never started"))
		return res
	}
	mode := cur.plan.Mode
	if mode == "" {
		mode = ModePlatform
	}
	d := cur.deployment(t)
	req := Request{Target: t, Strategy: d.Strategy, RollbackOn: cur.plan.RollbackOn, RollbackOf: cur.plan.RollbackOf}
	p := &Plan{Request: req, From: d.From, To: d.To, Mode: mode}
	r := &run{e: e, req: req, p: p, d: d, seen: map[string]bool{}, stopCh: make(chan struct{}),
		approve: make(chan struct{}, 1), j: j}
	e.mu.Lock()
	e.running[d.ID] = r
	e.targets[t.String()] = d.ID
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.running, d.ID)
		e.mu.Unlock()
	}()
	r.emit(EventNote, "resuming run "+runID)
	var nd *Deployment
	if ad, ok := e.drv.(Adopter); ok {
		nd, err = ad.Adopt(ctx, d)
	} else {
		nd, err = e.drv.Status(ctx, d)
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			res.Action = "closed"
			j.end(ctx, nil, nil, fmt.Errorf("resumed: the platform does not know deployment %s: %w", d.ID, err))
			return res
		}
		res.Action, res.Err = "skipped", e.wrap("resume", t, d.ID, err)
		j.release(ctx)
		return res
	}
	r.merge(nd)
	d = r.snapshot()
	var derr error
	switch {
	case d.Status.Terminal() && (d.Status == StatusFailed || d.Status == StatusStopped) &&
		d.Percent > 0 && d.Percent < 100 && d.From != nil:
		res.Action = "rolled back"
		cctx, cancel := e.cleanup(ctx)
		d, derr = e.rollbackAfter(cctx, r, fmt.Errorf("resumed: %s was left %s with its traffic split", d.ID, d.Status))
		cancel()
	case d.Status.Terminal():
		res.Action = "closed"
	case req.RollbackOf != "" || mode == ModePlatform:
		// A rollback is finished; a platform-driven deployment is followed
		// and its policy applies.
		res.Action = "finished"
		if mode == ModeEngine {
			r.d.Step = 0
		}
		d, derr = e.drive(ctx, r)
	default:
		res.Action = "rolled back"
		d, derr = e.halt(ctx, r, true, StatusStopped, "resumed: the process running the deployment ended", nil)
	}
	if d != nil && d.Status == StatusSucceeded && res.Action == "rolled back" {
		res.Action = "finished"
	}
	res.Deployment, res.Err = d, derr
	j.end(ctx, p, d, derr)
	return res
}

// release gives back the lock of a run that stays unfinished.
func (j *journal) release(ctx context.Context) {
	j.mu.Lock()
	l := j.lease
	j.mu.Unlock()
	_ = j.e.opts.Store.Unlock(context.WithoutCancel(ctx), l)
}
