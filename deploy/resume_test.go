package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// errKilled is what a killed process's calls get: nothing reaches the
// platform or the store any more, as after kill -9.
var errKilled = errors.New("process killed")

// killer kills the "process" after a given journal write or a given
// mutating platform call: from then on every driver and store call fails
// without effect, and the deployment's contexts (cleanup included) end, so
// the engine cleans up nothing.
type killer struct {
	mu                   sync.Mutex
	appends, mutations   int
	atAppend, atMutation int
	dead                 bool
	cancel               func()
}

func (k *killer) isDead() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dead
}

// count records one append or mutation and kills when it is the chosen one.
func (k *killer) count(append bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return
	}
	if append {
		k.appends++
		if k.appends == k.atAppend {
			k.dead = true
		}
	} else {
		k.mutations++
		if k.mutations == k.atMutation {
			k.dead = true
		}
	}
	if k.dead {
		k.cancel()
	}
}

type killStore struct {
	deploy.Store
	k *killer
}

func (s *killStore) Lock(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	if s.k.isDead() {
		return deploy.Lease{}, errKilled
	}
	return s.Store.Lock(ctx, l)
}

func (s *killStore) Renew(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	if s.k.isDead() {
		return deploy.Lease{}, errKilled
	}
	return s.Store.Renew(ctx, l)
}

func (s *killStore) Unlock(ctx context.Context, l deploy.Lease) error {
	if s.k.isDead() {
		return errKilled
	}
	return s.Store.Unlock(ctx, l)
}

func (s *killStore) Append(ctx context.Context, e deploy.JournalEntry) error {
	if s.k.isDead() {
		return errKilled
	}
	err := s.Store.Append(ctx, e)
	if err == nil {
		s.k.count(true)
	}
	return err
}

func (s *killStore) Record(ctx context.Context, target string, h deploy.HistoryEntry) error {
	if s.k.isDead() {
		return errKilled
	}
	return s.Store.Record(ctx, target, h)
}

type killDriver struct {
	*deploytest.Driver
	k *killer
}

func (d *killDriver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	if d.k.isDead() {
		return nil, errKilled
	}
	out, err := d.Driver.Start(ctx, p)
	if err == nil {
		d.k.count(false)
	}
	return out, err
}

func (d *killDriver) Shift(ctx context.Context, dep *deploy.Deployment, pct float64) error {
	if d.k.isDead() {
		return errKilled
	}
	err := d.Driver.Shift(ctx, dep, pct)
	if err == nil {
		d.k.count(false)
	}
	return err
}

func (d *killDriver) Stop(ctx context.Context, dep *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if d.k.isDead() {
		return "", errKilled
	}
	out, err := d.Driver.Stop(ctx, dep, o)
	if err == nil {
		d.k.count(false)
	}
	return out, err
}

func (d *killDriver) Status(ctx context.Context, dep *deploy.Deployment) (*deploy.Deployment, error) {
	if d.k.isDead() {
		return nil, fmt.Errorf("%w: %w", deploy.ErrNotFound, errKilled)
	}
	return d.Driver.Status(ctx, dep)
}

func (d *killDriver) StatusMany(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
	if d.k.isDead() {
		return nil, errKilled
	}
	return d.Driver.StatusMany(ctx, ds)
}

func (d *killDriver) Live(ctx context.Context, t deploy.Target) (*deploy.Deployment, error) {
	if d.k.isDead() {
		return nil, errKilled
	}
	return d.Driver.Live(ctx, t)
}

// TestResumeAfterKillAtEveryStep kills a canary (10%, bake, 100%) after
// every journal write and after every platform call in turn, as kill -9
// would, then resumes from the journal in a new engine: every case must
// end Succeeded or RolledBack (or closed, when nothing had started), with
// the platform serving one revision and the lock free.
func TestResumeAfterKillAtEveryStep(t *testing.T) {
	testResumeAfterKill(t, deploy.ModeEngine, 7, 3)
}

// TestResumeAfterKillPlatformMode: the same for a deployment the platform
// drives (the fake follows the strategy by itself): resumed runs are
// followed to their end.
func TestResumeAfterKillPlatformMode(t *testing.T) {
	testResumeAfterKill(t, deploy.ModePlatform, 3, 1)
}

// testResumeAfterKill kills after each of the appends journal writes and
// each of the mutations platform calls a canary makes, and one past each.
func testResumeAfterKill(t *testing.T, mode deploy.Mode, appends, mutations int) {
	type kase struct{ atAppend, atMutation int }
	var cases []kase
	for i := 1; i <= appends+1; i++ {
		cases = append(cases, kase{atAppend: i})
	}
	for i := 1; i <= mutations+1; i++ {
		cases = append(cases, kase{atMutation: i})
	}
	survived := 0
	for _, c := range cases {
		name := fmt.Sprintf("after journal write %d", c.atAppend)
		if c.atMutation > 0 {
			name = fmt.Sprintf("after platform call %d", c.atMutation)
		}
		t.Run(name, func(t *testing.T) {
			clock := deploytest.NewAutoClock(time.Time{})
			fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock, Mode: mode})
			target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
			store := deploytest.NewStore()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cleanup, cutCleanup := context.WithCancel(context.Background())
			defer cutCleanup()
			k := &killer{atAppend: c.atAppend, atMutation: c.atMutation, cancel: func() { cutCleanup(); cancel() }}
			e1 := deploy.New(&killDriver{Driver: fake, k: k}, deploy.Options{Clock: clock, Store: &killStore{Store: store, k: k}, Owner: "first"})
			_, err := e1.Deploy(deploy.WithCleanupContext(ctx, cleanup), deploy.Request{Target: target,
				Revision: deploy.Revision{ID: "v2"}, Strategy: deploy.Canary(10, 5*time.Minute),
				RollbackOn: deploy.OnFailure | deploy.OnAlarm | deploy.OnStopRequest})
			if !k.isDead() {
				if err != nil {
					t.Fatalf("deploy without a kill: %v", err)
				}
				survived++
				return
			}
			// The dead process's lease runs out; a new engine resumes.
			clock.Advance(2 * time.Minute)
			e2 := deploy.New(fake, deploy.Options{Clock: clock, Store: store, Owner: "second"})
			res, err := e2.Resume(context.Background(), deploy.ResumeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				t.Logf("resumed %s: %s %v (err %v)", r.Run, r.Action, statusOf(r.Deployment), r.Err)
				switch {
				case r.Deployment == nil && r.Action == "closed":
				case r.Deployment != nil && (r.Deployment.Status == deploy.StatusSucceeded || r.Deployment.Status == deploy.StatusRolledBack):
				default:
					t.Errorf("run %s ended %s %v: want Succeeded or RolledBack", r.Run, r.Action, statusOf(r.Deployment))
				}
			}
			serving := fake.Serving("web")
			if len(serving) != 1 || (serving["v1"] != 100 && serving["v2"] != 100) {
				t.Errorf("serving %v after resume; want one revision with all traffic", serving)
			}
			if left, _ := store.Unfinished(context.Background()); len(left) != 0 {
				t.Errorf("unfinished runs after resume: %v", left)
			}
			if h, _ := store.Holder(context.Background(), target.String()); h != nil && h.Expires.After(clock.Now()) {
				t.Errorf("lock still held after resume: %+v", h)
			}
			// The target takes a new deployment at once.
			if _, err := e2.Deploy(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v3"}}); err != nil {
				t.Errorf("deploy after resume: %v", err)
			}
		})
	}
	// 7 journal writes (plan, started, shift, shifted, shift, shifted,
	// end) and 3 platform calls (Start, Shift 10, Shift 100): the last
	// case of each kind outlives the deployment.
	if survived != 2 {
		t.Errorf("%d cases ran to completion without a kill; want 2 (the kill points go just past the last step)", survived)
	}
}

func statusOf(d *deploy.Deployment) string {
	if d == nil {
		return "(no deployment)"
	}
	return fmt.Sprintf("%s %s at %v%%", d.ID, d.Status, d.Percent)
}

func TestStoreLockAcrossEngines(t *testing.T) {
	clock := deploytest.NewClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	store := deploytest.NewStore()
	e1 := deploy.New(fake, deploy.Options{Clock: clock, Store: store, Owner: "alice"})
	e2 := deploy.New(fake, deploy.Options{Clock: clock, Store: store, Owner: "bob"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := e1.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"}, Strategy: deploy.Canary(10, 5*time.Minute)})
		done <- err
	}()
	if err := clock.BlockUntil(ctx, 1); err != nil { // e1 bakes at 10%
		t.Fatal(err)
	}
	_, err := e2.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v3"}})
	var le *deploy.LockedError
	if !errors.Is(err, deploy.ErrLocked) || !errors.As(err, &le) || le.Holder.Owner != "alice" || !le.Holder.Since.Equal(deploytest.Epoch()) {
		t.Fatalf("second engine's deploy = %v; want a LockedError naming alice since %s", err, deploytest.Epoch())
	}
	if n := len(fake.Shifts("web")); n != 1 {
		t.Errorf("shifts %v; the refused deployment must not touch the target", fake.Shifts("web"))
	}
	clock.SetAuto(true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if h, _ := store.Holder(ctx, target.String()); h != nil {
		t.Errorf("lock held after the deployment ended: %+v", h)
	}
	// The store remembers: another engine rolls back to the last known good.
	hist, _ := store.History(ctx, target.String())
	if len(hist) != 2 || hist[0].Revision.ID != "v2" || hist[1].Revision.ID != "v1" {
		t.Errorf("store history %+v; want v2 then v1", hist)
	}
}

type shiftOnly struct {
	deploy.Driver
	deploy.Shifter
	deploy.Stopper
}

// TestRollbackUsesStoreLastKnownGood: another engine (another process,
// another machine) rolls back to the last known good revision the store
// recorded, with no revision named and no history on the driver.
func TestRollbackUsesStoreLastKnownGood(t *testing.T) {
	clock := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	store := deploytest.NewStore()
	ctx := context.Background()
	e1 := deploy.New(fake, deploy.Options{Clock: clock, Store: store})
	for _, v := range []string{"v2", "v3"} {
		if _, err := e1.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: v}}); err != nil {
			t.Fatal(err)
		}
	}
	e2 := deploy.New(shiftOnly{fake, fake, fake}, deploy.Options{Clock: clock, Store: store})
	if _, ok := e2.Driver().(deploy.Historian); ok {
		t.Fatal("the second engine's driver must keep no history")
	}
	d, err := e2.Rollback(ctx, deploy.RollbackRequest{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	if d.To.ID != "v2" || fake.Current("web").ID != "v2" {
		t.Errorf("rolled back to %s (serving %v); want v2, the last known good before v3", d.To.ID, fake.Serving("web"))
	}
}

// TestConcurrentResumes: two engines resume the same dead run at once;
// exactly one acts on it.
func TestConcurrentResumes(t *testing.T) {
	for round := range 20 {
		clock := deploytest.NewAutoClock(time.Time{})
		fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
		target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
		store := deploytest.NewStore()
		ctx, cancel := context.WithCancel(context.Background())
		cleanup, cut := context.WithCancel(context.Background())
		k := &killer{atAppend: 4, cancel: func() { cut(); cancel() }} // after "shifted 10"
		e1 := deploy.New(&killDriver{Driver: fake, k: k}, deploy.Options{Clock: clock, Store: &killStore{Store: store, k: k}})
		_, _ = e1.Deploy(deploy.WithCleanupContext(ctx, cleanup), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
			Strategy: deploy.Canary(10, 5*time.Minute)})
		cancel()
		cut()
		clock.Advance(2 * time.Minute)
		var wg sync.WaitGroup
		results := make([][]deploy.Resumed, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := deploy.New(fake, deploy.Options{Clock: clock, Store: store})
				results[i], _ = e.Resume(context.Background(), deploy.ResumeOptions{})
			}()
		}
		wg.Wait()
		acted := 0
		for _, rs := range results {
			for _, r := range rs {
				if r.Action != "skipped" {
					acted++
				}
			}
		}
		if acted != 1 {
			t.Fatalf("round %d: %d resumes acted on the run (%+v); want exactly one", round, acted, results)
		}
		if s := fake.Serving("web"); len(s) != 1 || s["v1"] != 100 {
			t.Fatalf("round %d: serving %v", round, s)
		}
	}
}
