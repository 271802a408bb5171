package deploytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// broken is the reference fake with one sentence of the contract broken:
// each field, when set, replaces one method.
type broken struct {
	*Driver
	extra *atomic.Int64 // mutating calls the variant makes on its own

	platform   func() string
	prepare    func(ctx context.Context, req deploy.Request) (*deploy.Plan, error)
	start      func(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error)
	status     func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error)
	shift      func(ctx context.Context, d *deploy.Deployment, pct float64) error
	stop       func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error)
	cont       func(ctx context.Context, d *deploy.Deployment) error
	history    func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error)
	statusMany func(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error)
	serving    func(ctx context.Context, t deploy.Target) ([]deploy.Share, error)
}

func (b *broken) ReadServing(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
	if b.serving != nil {
		return b.serving(ctx, t)
	}
	return b.Driver.ReadServing(ctx, t)
}

func (b *broken) Platform() string {
	if b.platform != nil {
		return b.platform()
	}
	return b.Driver.Platform()
}

func (b *broken) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	if b.prepare != nil {
		return b.prepare(ctx, req)
	}
	return b.Driver.Prepare(ctx, req)
}

func (b *broken) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	if b.start != nil {
		return b.start(ctx, p)
	}
	return b.Driver.Start(ctx, p)
}

func (b *broken) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	if b.status != nil {
		return b.status(ctx, d)
	}
	return b.Driver.Status(ctx, d)
}

func (b *broken) Shift(ctx context.Context, d *deploy.Deployment, pct float64) error {
	if b.shift != nil {
		return b.shift(ctx, d, pct)
	}
	return b.Driver.Shift(ctx, d, pct)
}

func (b *broken) Stop(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if b.stop != nil {
		return b.stop(ctx, d, o)
	}
	return b.Driver.Stop(ctx, d, o)
}

func (b *broken) Continue(ctx context.Context, d *deploy.Deployment) error {
	if b.cont != nil {
		return b.cont(ctx, d)
	}
	return b.Driver.Continue(ctx, d)
}

func (b *broken) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
	if b.history != nil {
		return b.history(ctx, t)
	}
	return b.Driver.History(ctx, t)
}

func (b *broken) StatusMany(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
	if b.statusMany != nil {
		return b.statusMany(ctx, ds)
	}
	if b.status == nil {
		return b.Driver.StatusMany(ctx, ds)
	}
	// A broken Status is broken in batches too.
	out := make([]*deploy.Deployment, len(ds))
	var errs []error
	for i, d := range ds {
		nd, err := b.status(ctx, d)
		if err != nil {
			errs = append(errs, &deploy.Error{Op: "status", DeploymentID: d.ID, Err: err})
			continue
		}
		out[i] = nd
	}
	return out, errors.Join(errs...)
}

type variant struct {
	name    string
	mode    deploy.Mode
	clause  string
	breakIt func(b *broken)
}

// platformRollback is a platform-mode fake that rolls itself back on
// failure.
const platformRollback = deploy.Mode("platform+rollback")

func harnessFor(mode deploy.Mode, breakIt func(*broken)) func(t *testing.T) *Harness {
	return func(t *testing.T) *Harness {
		clk := NewClock(time.Time{})
		o := DriverOptions{Mode: mode, Clock: clk, KnownRevisionsOnly: true}
		if mode == platformRollback {
			o.Mode, o.PlatformRollback = deploy.ModePlatform, true
		}
		f := NewDriver(o)
		target := f.AddTarget("web", deploy.Revision{ID: "rev-0"})
		b := &broken{Driver: f, extra: new(atomic.Int64)}
		if breakIt != nil {
			breakIt(b)
		}
		var n atomic.Int64
		return &Harness{
			Driver: b, Clock: clk, Target: target,
			MissingTarget:   deploy.Target{Name: "nope"},
			MissingRevision: deploy.Revision{ID: "rev-999"},
			Request: func(*testing.T) deploy.Request {
				rev := deploy.Revision{ID: fmt.Sprintf("rev-%d", n.Add(1))}
				f.AddRevision(rev)
				return deploy.Request{Target: target, Revision: rev}
			},
			Mutations: func() int { return f.MutatingCalls() + int(b.extra.Load()) },
			Serving:   func(*testing.T) map[string]float64 { return f.Serving("web") },
			FailNext:  func(*testing.T) { f.FailNext(0, nil) },
			Timeout:   3 * time.Second,
		}
	}
}

var (
	engine   = deploy.ModeEngine
	platform = deploy.ModePlatform
)

// variants break the contract one sentence at a time. Each names the
// clause that must catch it.
var variants = []variant{
	{"empty platform name", engine, "PlatformIsNamed", func(b *broken) { b.platform = func() string { return "" } }},
	{"platform name changes", engine, "PlatformIsNamed", func(b *broken) {
		var n atomic.Int64
		b.platform = func() string { return fmt.Sprint("fake", n.Add(1)) }
	}},
	{"Prepare mutates", engine, "PrepareMakesNoMutatingCall", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			b.extra.Add(1)
			return b.Driver.Prepare(ctx, req)
		}
	}},
	{"plan without To", engine, "PrepareMakesNoMutatingCall", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			p, err := b.Driver.Prepare(ctx, req)
			if p != nil {
				p.To = deploy.Revision{}
			}
			return p, err
		}
	}},
	{"missing target is invalid", engine, "PrepareUnknownTargetIsNotFound", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			p, err := b.Driver.Prepare(ctx, req)
			if errors.Is(err, deploy.ErrNotFound) {
				err = deploy.Invalid("target", req.Target.Name, "no such target")
			}
			return p, err
		}
	}},
	{"missing revision is invalid", engine, "PrepareMissingRevisionIsNotFound", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			p, err := b.Driver.Prepare(ctx, req)
			if errors.Is(err, deploy.ErrNotFound) {
				err = fmt.Errorf("%w: %w", deploy.ErrInvalidRequest, err)
			}
			return p, err
		}
	}},
	{"unsupported strategy refused its own way", engine, "UnsupportedStrategyRefusedAlike", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			if req.Strategy.MinHealthy != nil {
				return nil, fmt.Errorf("%w: no host rules here", deploy.ErrUnsupported)
			}
			return b.Driver.Prepare(ctx, req)
		}
	}},
	{"running revision is an opaque error", engine, "PrepareRunningRevision", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			p, err := b.Driver.Prepare(ctx, req)
			if errors.Is(err, deploy.ErrInvalidRequest) {
				err = errors.New("nothing to do")
			}
			return p, err
		}
	}},
	{"rollback of the running revision refused", engine, "PrepareRunningRevision", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			if req.RollbackOf != "" && req.Revision.ID == b.Driver.Current("web").ID {
				return nil, deploy.Invalid("revision", req.Revision.ID, "already running")
			}
			return b.Driver.Prepare(ctx, req)
		}
	}},
	{"Start without To ID", engine, "StartReturnsLiveDeployment", func(b *broken) {
		b.start = func(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
			d, err := b.Driver.Start(ctx, p)
			if d != nil {
				d.To.ID = ""
			}
			return d, err
		}
	}},
	{"Start reports Baking", platform, "StartReturnsLiveDeployment", func(b *broken) {
		b.start = func(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
			d, err := b.Driver.Start(ctx, p)
			if d != nil {
				d.Status = deploy.StatusBaking
			}
			return d, err
		}
	}},
	{"Start moves traffic in engine mode", engine, "StartReturnsLiveDeployment", func(b *broken) {
		b.start = func(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
			d, err := b.Driver.Start(ctx, p)
			if err == nil {
				d.Step = 0
				err = b.Driver.Shift(ctx, d, 10)
			}
			return d, err
		}
	}},
	{"Start reuses deployment IDs", engine, "StartReturnsLiveDeployment", func(b *broken) {
		b.start = func(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
			d, err := b.Driver.Start(ctx, p)
			if d != nil {
				b.Driver.mu.Lock()
				fd := b.Driver.deployments[d.ID]
				delete(b.Driver.deployments, d.ID)
				d.ID = "fake-1"
				fd.d.ID = d.ID
				b.Driver.deployments[d.ID] = fd
				b.Driver.targets["web"].live = d.ID
				b.Driver.mu.Unlock()
			}
			return d, err
		}
	}},
	{"Stop answers an outcome of its own", engine, "StopOfEndedDeploymentChangesNothing", func(b *broken) {
		b.stop = func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
			out, err := b.Driver.Stop(ctx, d, o)
			if out == deploy.StopSucceeded {
				out = "Done"
			}
			return out, err
		}
	}},
	{"second Start pretends to run", engine, "SecondDeploymentIsLocked", func(b *broken) {
		b.start = func(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
			d, err := b.Driver.Start(ctx, p)
			if errors.Is(err, deploy.ErrLocked) {
				return &deploy.Deployment{ID: "ghost", Target: p.Request.Target, To: p.To, Status: deploy.StatusInProgress}, nil
			}
			return d, err
		}
	}},
	{"stale status never completes", platform, "DeployReachesSucceeded", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd := d.Clone()
			nd.Status = deploy.StatusInProgress
			return nd, nil
		}
	}},
	{"status hangs until cancelled", platform, "DeployReachesSucceeded", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
	}},
	{"success reported before the platform finished", platform, "DeployReachesSucceeded", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil && nd.Percent > 0 {
				nd.Status, nd.Percent = deploy.StatusSucceeded, 100
			}
			return nd, err
		}
	}},
	{"Status modifies its argument", engine, "StatusIsReadOnly", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil {
				d.UpdatedAt = d.UpdatedAt.Add(time.Second)
			}
			return nd, err
		}
	}},
	{"Status mutates", engine, "StatusIsReadOnly", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			b.extra.Add(1)
			return b.Driver.Status(ctx, d)
		}
	}},
	{"Status answers for another deployment", engine, "StatusIsReadOnly", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil && !nd.Status.Terminal() {
				nd.ID += "-other"
			}
			return nd, err
		}
	}},
	{"unknown deployment is a plain error", engine, "StatusUnknownDeploymentIsNotFound", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if errors.Is(err, deploy.ErrNotFound) {
				err = errors.New("no such deployment")
			}
			return nd, err
		}
	}},
	{"rolled back reported as succeeded", engine, "StopWithRollbackRestoresFrom", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil && nd.Status == deploy.StatusRolledBack {
				nd.Status = deploy.StatusSucceeded
			}
			return nd, err
		}
	}},
	{"platform rollback reported as succeeded", platformRollback, "FailureRollsBackWhenAsked", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil && nd.Status == deploy.StatusRolledBack {
				nd.Status = deploy.StatusSucceeded
			}
			return nd, err
		}
	}},
	{"failure reported as succeeded by the platform", platform, "FailureIsNeverReportedAsSuccess", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil && nd.Status == deploy.StatusFailed {
				nd.Status, nd.Percent = deploy.StatusSucceeded, 100
			}
			return nd, err
		}
	}},
	{"Percent kept after rollback", engine, "AlarmRollsBack", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil && nd.Status == deploy.StatusRolledBack {
				nd.Percent = 10
			}
			return nd, err
		}
	}},
	{"Percent not what is served", platform, "PercentIsWhatIsServed", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil && nd.Percent > 0 && nd.Percent < 100 {
				nd.Percent = min(nd.Percent*2, 99)
			}
			return nd, err
		}
	}},
	{"Shift ignores the percent asked", engine, "PercentIsWhatIsServed", func(b *broken) {
		b.shift = func(ctx context.Context, d *deploy.Deployment, pct float64) error {
			if pct < 100 {
				pct = min(pct+5, 99)
			}
			return b.Driver.Shift(ctx, d, pct)
		}
	}},
	{"Shift clamps out-of-range percents", engine, "ShiftOutOfRangeRefused", func(b *broken) {
		b.shift = func(ctx context.Context, d *deploy.Deployment, pct float64) error {
			if !(pct >= 1) {
				pct = 1
			}
			if !(pct <= 100) {
				pct = 100
			}
			return b.Driver.Shift(ctx, d, pct)
		}
	}},
	{"Shift of a stopped deployment is silently ignored", engine, "ShiftAfterStopRefused", func(b *broken) {
		b.shift = func(ctx context.Context, d *deploy.Deployment, pct float64) error {
			err := b.Driver.Shift(ctx, d, pct)
			if errors.Is(err, deploy.ErrInvalidRequest) && pct >= 1 && pct <= 100 {
				return nil
			}
			return err
		}
	}},
	{"a failed Shift moves traffic anyway", engine, "FailedShiftLeavesTraffic", func(b *broken) {
		b.shift = func(ctx context.Context, d *deploy.Deployment, pct float64) error {
			err := b.Driver.Shift(ctx, d, pct)
			if err != nil && !errors.Is(err, deploy.ErrInvalidRequest) && !errors.Is(err, deploy.ErrNotFound) {
				b.Driver.mu.Lock()
				if fd := b.Driver.deployments[d.ID]; fd != nil && !fd.d.Status.Terminal() {
					fd.d.Percent = pct
				}
				b.Driver.mu.Unlock()
			}
			return err
		}
	}},
	{"History of a missing target is empty", engine, "HistoryRecordsDeployments", func(b *broken) {
		b.history = func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
			h, err := b.Driver.History(ctx, t)
			if errors.Is(err, deploy.ErrNotFound) {
				return nil, nil
			}
			return h, err
		}
	}},
	{"Continue of an unknown deployment is invalid", platform, "ContinueRefusesDeploymentNotWaiting", func(b *broken) {
		b.cont = func(ctx context.Context, d *deploy.Deployment) error {
			err := b.Driver.Continue(ctx, d)
			if errors.Is(err, deploy.ErrNotFound) {
				err = deploy.Invalid("deployment", d.ID, "not waiting")
			}
			return err
		}
	}},
	{"Shift of an unknown deployment is a plain error", engine, "ShiftUnknownDeploymentIsNotFound", func(b *broken) {
		b.shift = func(ctx context.Context, d *deploy.Deployment, pct float64) error {
			err := b.Driver.Shift(ctx, d, pct)
			if errors.Is(err, deploy.ErrNotFound) {
				err = errors.New("unknown")
			}
			return err
		}
	}},
	{"Stop ignores Rollback", engine, "StopWithRollbackRestoresFrom", func(b *broken) {
		b.stop = func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
			o.Rollback = false
			return b.Driver.Stop(ctx, d, o)
		}
	}},
	{"Stop reverts without being asked", engine, "StopWithoutRollbackLeavesTraffic", func(b *broken) {
		b.stop = func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
			o.Rollback = true
			return b.Driver.Stop(ctx, d, o)
		}
	}},
	{"Stop reverts without being asked and calls it stopped", platform, "StopWithoutRollbackLeavesTraffic", func(b *broken) {
		b.stop = func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
			o.Rollback = true
			return b.Driver.Stop(ctx, d, o)
		}
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			nd, err := b.Driver.Status(ctx, d)
			if err == nil && nd.Status == deploy.StatusRolledBack {
				nd.Status = deploy.StatusStopped
			}
			return nd, err
		}
	}},
	{"split target not locked", engine, "StopWithoutRollbackLeavesTraffic", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			p, err := b.Driver.Prepare(ctx, req)
			if errors.Is(err, deploy.ErrLocked) && req.RollbackOf == "" {
				req.RollbackOf = "pretend"
				p, err = b.Driver.Prepare(ctx, req)
			}
			return p, err
		}
	}},
	{"Stop pretends to succeed", engine, "CancelLeavesKnownState", func(b *broken) {
		b.stop = func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
			return deploy.StopSucceeded, nil
		}
	}},
	{"Stop of a succeeded deployment says stopped", engine, "StopOfEndedDeploymentChangesNothing", func(b *broken) {
		b.stop = func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
			out, err := b.Driver.Stop(ctx, d, o)
			if errors.Is(err, deploy.ErrCannotStop) {
				return deploy.StopSucceeded, nil
			}
			return out, err
		}
	}},
	{"Stop of a rolled-back deployment refused", engine, "StopOfEndedDeploymentChangesNothing", func(b *broken) {
		b.stop = func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
			if nd, err := b.Driver.Status(ctx, d); err == nil && nd.Status == deploy.StatusRolledBack {
				return "", fmt.Errorf("%w: already over", deploy.ErrCannotStop)
			}
			return b.Driver.Stop(ctx, d, o)
		}
	}},
	{"Status ignores a done context", engine, "DoneContextChangesNothing", func(b *broken) {
		b.status = func(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
			return b.Driver.Status(context.WithoutCancel(ctx), d)
		}
	}},
	{"Stop ignores a done context", engine, "DoneContextChangesNothing", func(b *broken) {
		b.stop = func(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
			return b.Driver.Stop(context.WithoutCancel(ctx), d, o)
		}
	}},
	{"Continue of a finished deployment passes", platform, "ContinueRefusesDeploymentNotWaiting", func(b *broken) {
		b.cont = func(ctx context.Context, d *deploy.Deployment) error {
			if err := b.Driver.Continue(ctx, d); !errors.Is(err, deploy.ErrInvalidRequest) {
				return err
			}
			return nil
		}
	}},
	{"Continue does nothing", platform, "ContinueLetsWaitingDeploymentGoOn", func(b *broken) {
		b.cont = func(context.Context, *deploy.Deployment) error { return nil }
	}},
	{"History forgets the first revision", engine, "HistoryListsRevisionBeforeFirstDeployment", func(b *broken) {
		b.history = func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
			h, err := b.Driver.History(ctx, t)
			return slices.DeleteFunc(h, func(e deploy.HistoryEntry) bool { return e.DeploymentID == "initial" }), err
		}
	}},
	{"History has no Current", engine, "HistoryRecordsDeployments", func(b *broken) {
		b.history = func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
			h, err := b.Driver.History(ctx, t)
			for i := range h {
				h[i].Current = false
			}
			return h, err
		}
	}},
	{"History oldest first", engine, "HistoryRecordsDeployments", func(b *broken) {
		b.history = func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
			h, err := b.Driver.History(ctx, t)
			slices.Reverse(h)
			return h, err
		}
	}},
	{"History lists failures as successes", engine, "HistoryNeverListsFailureAsSuccess", func(b *broken) {
		b.history = func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
			h, err := b.Driver.History(ctx, t)
			for i := range h {
				h[i].Status = deploy.StatusSucceeded
			}
			return h, err
		}
	}},
	{"History calls the new revision current while split", engine, "HistoryCurrentWhileSplit", func(b *broken) {
		b.history = func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
			h, err := b.Driver.History(ctx, t)
			serving := b.Driver.Serving(t.Name)
			if len(serving) == 2 {
				for id := range serving {
					if id != b.Driver.Current(t.Name).ID {
						for i := range h {
							h[i].Current = false
						}
						h = append([]deploy.HistoryEntry{{Revision: deploy.Revision{ID: id}, Status: deploy.StatusInProgress, Current: true, At: b.Driver.Clock().Now()}}, h...)
					}
				}
			}
			return h, err
		}
	}},
	{"Prepare needs options to redeploy a revision", engine, "RollbackToNamedRevision", func(b *broken) {
		b.prepare = func(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
			if req.Options == nil && req.RollbackOf != "" {
				return nil, deploy.Invalid("options", "", "required")
			}
			return b.Driver.Prepare(ctx, req)
		}
	}},
	{"History's Current is stale", engine, "RollbackToRunningRevisionRefused", func(b *broken) {
		b.history = func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
			h, err := b.Driver.History(ctx, t)
			if len(h) > 1 && h[0].Current {
				h[0].Current, h[1].Current = false, true
			}
			return h, err
		}
	}},
	{"History without deployment IDs", engine, "RollbackToLastKnownGood", func(b *broken) {
		b.history = func(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
			h, err := b.Driver.History(ctx, t)
			for i := range h {
				h[i].DeploymentID = ""
			}
			return h, err
		}
	}},
	{"StatusMany out of order", engine, "StatusManyKeepsOrder", func(b *broken) {
		b.statusMany = func(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
			out, err := b.Driver.StatusMany(ctx, ds)
			slices.Reverse(out)
			return out, err
		}
	}},
	{"StatusMany drops the error", engine, "StatusManyKeepsOrder", func(b *broken) {
		b.statusMany = func(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
			out, _ := b.Driver.StatusMany(ctx, ds)
			return out, nil
		}
	}},
	{"ReadServing says what the deployment meant, not what is served", engine, "ReadServingReportsWhatIsServed", func(b *broken) {
		b.serving = func(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
			out, err := b.Driver.ReadServing(ctx, t)
			if len(out) > 1 {
				out = []deploy.Share{{Revision: out[len(out)-1].Revision, Percent: 100}}
			}
			return out, err
		}
	}},
	{"ReadServing shares do not add up", platform, "ReadServingReportsWhatIsServed", func(b *broken) {
		b.serving = func(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
			out, err := b.Driver.ReadServing(ctx, t)
			for i := range out {
				out[i].Percent /= 2
			}
			return out, err
		}
	}},
	{"ReadServing changes something", engine, "ReadServingReportsWhatIsServed", func(b *broken) {
		b.serving = func(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
			b.extra.Add(1)
			return b.Driver.ReadServing(ctx, t)
		}
	}},
	{"ReadServing of a missing target is empty", engine, "ReadServingReportsWhatIsServed", func(b *broken) {
		b.serving = func(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
			out, err := b.Driver.ReadServing(ctx, t)
			if errors.Is(err, deploy.ErrNotFound) {
				return nil, nil
			}
			return out, err
		}
	}},
	{"StatusMany error names nobody", engine, "StatusManyKeepsOrder", func(b *broken) {
		b.statusMany = func(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
			out, err := b.Driver.StatusMany(ctx, ds)
			if err != nil {
				err = errors.New("some deployments could not be read")
			}
			return out, err
		}
	}},
}

// TestSuiteCatchesBrokenDrivers is the suite's own mutation test: each
// variant of the reference driver breaks one sentence of the contract, and
// the clause meant to catch it must fail, within its real-time bound.
func TestSuiteCatchesBrokenDrivers(t *testing.T) {
	byName := map[string]clause{}
	for _, c := range clauses {
		byName[c.name] = c
	}
	covered := map[string]bool{}
	for _, v := range variants {
		cl, ok := byName[v.clause]
		if !ok {
			t.Fatalf("variant %q names no clause %q", v.name, v.clause)
		}
		covered[v.clause] = true
		t.Run(strings.ReplaceAll(v.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			res := runClause(t, cl, harnessFor(v.mode, v.breakIt))
			if len(res.failures) == 0 {
				t.Errorf("clause %s passed a driver that breaks it (%s)", v.clause, v.name)
			}
			if res.skipped != "" && len(res.failures) == 0 {
				t.Errorf("clause %s skipped: %s", v.clause, res.skipped)
			}
		})
	}
	t.Run("reference passes every clause", func(t *testing.T) {
		for _, mode := range []deploy.Mode{engine, platform} {
			for _, cl := range clauses {
				res := runClause(t, cl, harnessFor(mode, nil))
				if len(res.failures) > 0 {
					t.Errorf("%s mode, %s: %s", mode, cl.name, strings.Join(res.failures, "; "))
				}
			}
		}
	})
	var missing []string
	for _, c := range clauses {
		if !covered[c.name] {
			missing = append(missing, c.name)
		}
	}
	t.Logf("%d variants; clauses no variant targets: %v", len(variants), missing)
}
