package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"
)

// journal is one run's hold on the store: the lease on its target and the
// journal it writes. Nested rollbacks of the run share it (see runFrom).
type journal struct {
	e      *Engine
	run    string
	target Target

	mu      sync.Mutex
	seq     int
	lease   Lease
	renewed time.Time
	lost    error
}

type journalKey struct{}

// journalFrom returns the journal of the run whose cleanup ctx belongs to,
// when it is for target t.
func journalFrom(ctx context.Context, t Target) *journal {
	j, _ := ctx.Value(journalKey{}).(*journal)
	if j != nil && j.target.String() == t.String() {
		return j
	}
	return nil
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lockLease returns the lease the engine asks the store for.
func (e *Engine) lockLease(target Target, run, token string) Lease {
	now := e.opts.Clock.Now()
	host, _ := os.Hostname()
	owner := e.opts.Owner
	if owner == "" {
		owner = os.Getenv("USER")
	}
	if owner == "" {
		if u, err := user.Current(); err == nil {
			owner = u.Username
		}
	}
	return Lease{Target: target.String(), Token: token, Owner: owner, Host: host, PID: os.Getpid(), Run: run,
		Since: now, Expires: now.Add(e.opts.LockLease)}
}

// openJournal takes the store's lock on target for a new run (or, for the
// rollback nested in a run, joins that run's journal) and returns it.
// Without a store it returns nil: every journal method accepts a nil
// receiver and does nothing.
func (e *Engine) openJournal(ctx context.Context, target Target) (j *journal, nested bool, err error) {
	if e.opts.Store == nil {
		return nil, false, nil
	}
	if j := journalFrom(ctx, target); j != nil {
		return j, true, nil
	}
	now := e.opts.Clock.Now()
	run := now.UTC().Format("20060102T150405Z") + "-" + newToken()[:12]
	l, err := e.opts.Store.Lock(ctx, e.lockLease(target, run, newToken()))
	if err != nil {
		return nil, false, e.wrap("lock", target, "", err)
	}
	return &journal{e: e, run: run, target: target, lease: l, renewed: now}, false, nil
}

// adopt takes the lock for an unfinished run found in the store, to
// resume it: the lease names the resuming engine.
func (e *Engine) adopt(ctx context.Context, run string, target Target, seq int) (*journal, error) {
	l, err := e.opts.Store.Lock(ctx, e.lockLease(target, run, newToken()))
	if err != nil {
		return nil, err
	}
	return &journal{e: e, run: run, target: target, lease: l, renewed: e.opts.Clock.Now(), seq: seq}, nil
}

// with returns ctx carrying j, so a rollback the run starts joins it.
func (j *journal) with(ctx context.Context) context.Context {
	if j == nil {
		return ctx
	}
	return context.WithValue(ctx, journalKey{}, j)
}

// write appends one entry. It is written before the platform call it
// describes: an error means the call must not be made.
func (j *journal) write(ctx context.Context, en JournalEntry) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lost != nil {
		return j.lost
	}
	en.Run, en.Seq, en.At = j.run, j.seq+1, j.e.opts.Clock.Now()
	if en.Target.Name == "" {
		en.Target = j.target
	}
	if err := j.e.opts.Store.Append(ctx, en); err != nil {
		if errors.Is(err, ErrConflict) {
			// Someone else writes this journal: the run is no longer ours.
			j.lost = fmt.Errorf("%w: journal %s: %w", ErrLockLost, j.run, err)
			return j.lost
		}
		return fmt.Errorf("journal %s: %w", j.run, err)
	}
	j.seq++
	return j.renewLocked(ctx, false)
}

// renew extends the lease once a third of it has passed. The engine calls
// it whenever it wakes (a poll, a gate check, a step), so the lease must
// be longer than the longest of its waits (Options.Poll.MaxDelay and
// GateInterval). A lease someone else took is lost for good: the run must
// end.
func (j *journal) renew(ctx context.Context) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.renewLocked(ctx, false)
}

func (j *journal) renewLocked(ctx context.Context, force bool) error {
	if j.lost != nil {
		return j.lost
	}
	now := j.e.opts.Clock.Now()
	if !force && now.Sub(j.renewed) < j.e.opts.LockLease/3 {
		return nil
	}
	l := j.lease
	l.Expires = now.Add(j.e.opts.LockLease)
	nl, err := j.e.opts.Store.Renew(ctx, l)
	if err != nil {
		if errors.Is(err, ErrLockLost) {
			j.lost = err
		}
		return err
	}
	j.lease, j.renewed = nl, now
	return nil
}

// end closes the run: the final entry, the target's history (with the
// revision it ran before, the first time the store sees the target) and
// the lock, released last.
func (j *journal) end(ctx context.Context, p *Plan, d *Deployment, runErr error) {
	if j == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	st := j.e.opts.Store
	en := JournalEntry{Kind: JournalEnd}
	if d != nil {
		en.DeploymentID, en.Status, en.Percent, en.Step = d.ID, d.Status, d.Percent, d.Step
		if !d.Status.Terminal() {
			en.Message = "left to the platform"
		}
	}
	if runErr != nil {
		en.Message = runErr.Error()
	}
	if d != nil && d.Status.Terminal() {
		if hist, err := st.History(ctx, j.target.String()); err == nil && len(hist) == 0 && d.From != nil {
			_ = st.Record(ctx, j.target.String(), HistoryEntry{Revision: *d.From, Status: StatusSucceeded,
				At: d.CreatedAt.Add(-time.Nanosecond)})
		}
		at := d.EndedAt
		if at.IsZero() {
			at = j.e.opts.Clock.Now()
		}
		_ = st.Record(ctx, j.target.String(), HistoryEntry{Revision: d.To, DeploymentID: d.ID, Status: d.Status, At: at})
	}
	if err := j.write(ctx, en); err != nil {
		// The run stays unfinished in the store: Resume will look at it.
		return
	}
	j.mu.Lock()
	l := j.lease
	j.mu.Unlock()
	_ = st.Unlock(ctx, l)
}

// renewRun renews r's lease, when it has one; a lost lease ends the run.
func (r *run) renewLease(ctx context.Context) error {
	if r.j == nil {
		return nil
	}
	if err := r.j.renew(ctx); err != nil && errors.Is(err, ErrLockLost) {
		return r.e.wrap("lock", r.req.Target, r.snapshot().ID, err)
	}
	return nil
}

// note writes an entry about r's deployment.
func (r *run) note(ctx context.Context, kind JournalKind, percent float64, rollback bool) error {
	if r.j == nil {
		return nil
	}
	d := r.snapshot()
	en := JournalEntry{Kind: kind, DeploymentID: d.ID, Status: d.Status, Percent: percent, Step: d.Step, Rollback: rollback}
	if kind == JournalStarted {
		// The platform may have numbered the revision only now.
		en.To = &d.To
	}
	err := r.j.write(context.WithoutCancel(ctx), en)
	if err != nil {
		return r.e.wrap("journal", d.Target, d.ID, err)
	}
	return nil
}

// planEntry is the entry written before Start.
func planEntry(p *Plan) JournalEntry {
	kind := JournalPlan
	if p.Request.RollbackOf != "" {
		kind = JournalRollback
	}
	to := p.To
	st := p.Request.Strategy
	return JournalEntry{Kind: kind, Target: p.Request.Target, From: p.From, To: &to, Mode: p.Mode, Strategy: &st,
		RollbackOn: p.Request.RollbackOn, RollbackOf: p.Request.RollbackOf}
}

// withCause returns ctx, already cancelled with cause err.
func withCause(ctx context.Context, err error) context.Context {
	c, cancel := context.WithCancelCause(ctx)
	cancel(err)
	return c
}

// storeHistory returns the target's history from the store, with the
// newest successful entry marked Current: every deployment through a
// store-backed engine is recorded, so that is the revision serving.
func (e *Engine) storeHistory(ctx context.Context, t Target) ([]HistoryEntry, error) {
	hist, err := e.opts.Store.History(ctx, t.String())
	if err != nil {
		return nil, err
	}
	cur := false
	for i := range hist {
		hist[i].Current = !cur && hist[i].Status == StatusSucceeded
		cur = cur || hist[i].Current
	}
	return hist, nil
}

// storeGood returns the store's last known good revision of t that is not
// the one the target runs (cur, from the platform, when known).
func (e *Engine) storeGood(ctx context.Context, t Target, cur *HistoryEntry) (HistoryEntry, bool) {
	hist, err := e.storeHistory(ctx, t)
	if err != nil {
		return HistoryEntry{}, false
	}
	if cur != nil {
		for i := range hist {
			hist[i].Current = hist[i].Revision.ID == cur.Revision.ID
		}
	}
	return LastKnownGood(hist)
}

// checkLock refuses a deployment (Deploy, Rollback) to a target whose
// store lock someone else holds, so the holder is named before the
// platform is asked anything (a platform's own refusal would not name
// it). A dry run (Plan) needs no lock and is not refused.
func (e *Engine) checkLock(ctx context.Context, t Target) error {
	if t.Platform == "" {
		t.Platform = e.platform()
	}
	if e.opts.Store == nil || journalFrom(ctx, t) != nil {
		return nil
	}
	h, err := e.opts.Store.Holder(ctx, t.String())
	if err != nil || h == nil || !h.Expires.After(e.opts.Clock.Now()) {
		// A store that cannot answer is asked again by Execute's Lock.
		return nil
	}
	return e.wrap("lock", t, "", &LockedError{Holder: *h})
}
