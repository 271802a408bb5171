package deploytest_test

// A driver written outside switchyard, as a platform team would write one
// for a system of their own: it imports only the standard library and
// deploy, and passes deploytest.Run. The platform here is a feature-flag
// service whose flags serve a weighted mix of two variants.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// flagService stands in for the team's platform and its API.
type flagService struct {
	mu        sync.Mutex
	flags     map[string]*flag
	variants  map[string]bool
	mutations int
	failNext  bool
}

type flag struct {
	variant string  // serves 100-weight percent
	canary  string  // serves weight percent, when set
	weight  float64 // percent on canary
}

// flagDriver is the third party's driver: engine-driven, with Shifter,
// Stopper and Historian.
type flagDriver struct {
	svc   *flagService
	clock deploy.Clock

	mu      sync.Mutex
	seq     int
	deps    map[string]*deploy.Deployment
	holder  map[string]string // flag → deployment holding it
	history map[string][]deploy.HistoryEntry
}

func newFlagDriver(svc *flagService, clock deploy.Clock) *flagDriver {
	d := &flagDriver{svc: svc, clock: clock, deps: map[string]*deploy.Deployment{},
		holder: map[string]string{}, history: map[string][]deploy.HistoryEntry{}}
	for name, f := range svc.flags {
		d.history[name] = []deploy.HistoryEntry{{Revision: deploy.Revision{ID: f.variant},
			Status: deploy.StatusSucceeded, At: clock.Now(), Current: true}}
	}
	return d
}

func (d *flagDriver) Platform() string { return "flags" }

// locked refuses a deployment while another holds the flag.
func (d *flagDriver) locked(name, rollbackOf string) error {
	h := d.deps[d.holder[name]]
	switch {
	case h == nil:
		return nil
	case !h.Status.Terminal():
		return fmt.Errorf("%w: %s is being deployed by %s", deploy.ErrLocked, name, h.ID)
	case rollbackOf == "":
		return fmt.Errorf("%w: %s was stopped with %v%% on %s; repair it with Engine.Rollback", deploy.ErrLocked, name, h.Percent, h.To.ID)
	}
	return nil
}

func (d *flagDriver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.svc.mu.Lock()
	defer d.svc.mu.Unlock()
	f := d.svc.flags[req.Target.Name]
	if f == nil {
		return nil, fmt.Errorf("%w: flag %s", deploy.ErrNotFound, req.Target.Name)
	}
	if req.Strategy.MinHealthy != nil {
		return nil, deploy.UnsupportedStrategy("flags", req.Strategy, "count hosts: flags have none")
	}
	if req.Revision.ID == "" {
		return nil, deploy.Invalid("revision.id", "", "name a variant")
	}
	if !d.svc.variants[req.Revision.ID] {
		return nil, fmt.Errorf("%w: variant %s", deploy.ErrNotFound, req.Revision.ID)
	}
	if err := d.locked(req.Target.Name, req.RollbackOf); err != nil {
		return nil, err
	}
	if req.Revision.ID == f.variant && req.RollbackOf == "" {
		return nil, deploy.Invalid("revision.id", req.Revision.ID, "the flag already serves it")
	}
	return &deploy.Plan{Request: req, From: &deploy.Revision{ID: f.variant}, To: req.Revision, Mode: deploy.ModeEngine,
		Changes: []deploy.Change{{Path: "variant", Old: f.variant, New: req.Revision.ID}}}, nil
}

func (d *flagDriver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	name := p.Request.Target.Name
	if err := d.locked(name, p.Request.RollbackOf); err != nil {
		return nil, err
	}
	d.seq++
	now := d.clock.Now()
	dep := &deploy.Deployment{ID: fmt.Sprintf("flags-%d", d.seq), Target: p.Request.Target, From: p.From, To: p.To,
		Strategy: p.Request.Strategy, Status: deploy.StatusInProgress, CreatedAt: now, UpdatedAt: now,
		RollbackOf: p.Request.RollbackOf}
	d.deps[dep.ID] = dep
	d.holder[name] = dep.ID
	return dep.Clone(), nil
}

func (d *flagDriver) lookup(id string) (*deploy.Deployment, error) {
	dep := d.deps[id]
	if dep == nil {
		return nil, fmt.Errorf("%w: deployment %s", deploy.ErrNotFound, id)
	}
	return dep, nil
}

func (d *flagDriver) Status(ctx context.Context, in *deploy.Deployment) (*deploy.Deployment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dep, err := d.lookup(in.ID)
	if err != nil {
		return nil, err
	}
	return dep.Clone(), nil
}

// set writes the flag on the service: one mutating call.
func (d *flagDriver) set(name string, f flag) error {
	d.svc.mu.Lock()
	defer d.svc.mu.Unlock()
	if d.svc.failNext {
		d.svc.failNext = false
		return errors.New("flag service: 503")
	}
	d.svc.mutations++
	*d.svc.flags[name] = f
	return nil
}

func (d *flagDriver) Shift(ctx context.Context, in *deploy.Deployment, percent float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !(percent >= 1 && percent <= 100) {
		return deploy.Invalid("percent", fmt.Sprint(percent), "must be within 1..100")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dep, err := d.lookup(in.ID)
	if err != nil {
		return err
	}
	if dep.Status.Terminal() {
		return deploy.Invalid("deployment", dep.ID, "already "+string(dep.Status))
	}
	name := dep.Target.Name
	next := flag{variant: dep.From.ID, canary: dep.To.ID, weight: percent}
	if percent == 100 || dep.To.ID == dep.From.ID {
		next = flag{variant: dep.To.ID}
	}
	if err := d.set(name, next); err != nil {
		return err
	}
	dep.Percent, dep.UpdatedAt = percent, d.clock.Now()
	if percent == 100 {
		dep.Status, dep.EndedAt = deploy.StatusSucceeded, dep.UpdatedAt
		h := d.history[name]
		for i := range h {
			h[i].Current = false
		}
		d.history[name] = append(h, deploy.HistoryEntry{Revision: dep.To, DeploymentID: dep.ID,
			Status: deploy.StatusSucceeded, At: dep.EndedAt, Current: true})
		delete(d.holder, name)
	}
	return nil
}

func (d *flagDriver) Stop(ctx context.Context, in *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dep, err := d.lookup(in.ID)
	if err != nil {
		return "", err
	}
	switch {
	case dep.Status == deploy.StatusSucceeded,
		o.Rollback && (dep.Status == deploy.StatusStopped || dep.Status == deploy.StatusFailed):
		return "", fmt.Errorf("%w: %s ended %s; deploy the old variant instead", deploy.ErrCannotStop, dep.ID, dep.Status)
	case dep.Status.Terminal():
		return deploy.StopSucceeded, nil
	}
	name := dep.Target.Name
	status := deploy.StatusStopped
	if o.Rollback || dep.Percent == 0 {
		if err := d.set(name, flag{variant: dep.From.ID}); err != nil {
			return "", err
		}
		if o.Rollback {
			status = deploy.StatusRolledBack
		}
		dep.Percent = 0
		delete(d.holder, name)
	}
	dep.Status, dep.EndedAt, dep.Reason = status, d.clock.Now(), o.Reason
	d.history[name] = append(d.history[name], deploy.HistoryEntry{Revision: dep.To, DeploymentID: dep.ID,
		Status: status, At: dep.EndedAt})
	return deploy.StopSucceeded, nil
}

func (d *flagDriver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	h, ok := d.history[t.Name]
	if !ok {
		return nil, fmt.Errorf("%w: flag %s", deploy.ErrNotFound, t.Name)
	}
	out := make([]deploy.HistoryEntry, len(h))
	for i, e := range h {
		out[len(h)-1-i] = e
	}
	return out, nil
}

func TestThirdPartyDriverPassesRun(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness {
		clock := deploytest.NewClock(time.Time{})
		svc := &flagService{flags: map[string]*flag{"checkout": {variant: "v0"}}, variants: map[string]bool{"v0": true}}
		drv := newFlagDriver(svc, clock)
		n := 0
		return &deploytest.Harness{
			Driver:          drv,
			Clock:           clock,
			Target:          deploy.Target{Platform: "flags", Name: "checkout"},
			MissingTarget:   deploy.Target{Name: "no-such-flag"},
			MissingRevision: deploy.Revision{ID: "v999"},
			Request: func(*testing.T) deploy.Request {
				svc.mu.Lock()
				defer svc.mu.Unlock()
				n++
				v := fmt.Sprint("v", n)
				svc.variants[v] = true
				return deploy.Request{Revision: deploy.Revision{ID: v}}
			},
			Mutations: func() int {
				svc.mu.Lock()
				defer svc.mu.Unlock()
				return svc.mutations
			},
			Serving: func(*testing.T) map[string]float64 {
				svc.mu.Lock()
				defer svc.mu.Unlock()
				f := *svc.flags["checkout"]
				out := map[string]float64{f.variant: 100 - f.weight}
				if f.canary != "" {
					out[f.canary] = f.weight
				}
				maps.DeleteFunc(out, func(_ string, p float64) bool { return p == 0 })
				return out
			},
			FailNext: func(*testing.T) {
				svc.mu.Lock()
				svc.failNext = true
				svc.mu.Unlock()
			},
		}
	})
}
