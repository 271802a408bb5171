package deploytest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// StoreHarness is what RunStore needs to exercise a store.
type StoreHarness struct {
	// Store is the store under test, empty. Required.
	Store deploy.Store
	// Other, when set, returns a second handle on the same backing state
	// (another process's view: a second client of the same table, a second
	// open of the same directory). Races are run across Store and Other.
	// Default: Store itself.
	Other func(t *testing.T) deploy.Store
	// Racers is how many goroutines race for one lock or one journal
	// entry. Default 8.
	Racers int
	// Timeout bounds each clause in real time. Default 20 seconds.
	Timeout time.Duration
}

type storeClause struct {
	name string
	rule string
	fn   func(ctx context.Context, t *storeChecker, h *StoreHarness)
}

// RunStore runs the store conformance suite: one subtest per clause of the
// deploy.Store contract. newHarness is called once per clause and must
// return an empty store. A failing clause quotes the contract sentence the
// store broke; every clause is bounded in real time by
// StoreHarness.Timeout. Run it with -race: the race clauses call the store
// from many goroutines at once.
func RunStore(t *testing.T, newHarness func(t *testing.T) *StoreHarness) {
	t.Helper()
	for _, cl := range storeClauses {
		t.Run(cl.name, func(t *testing.T) {
			if failures := runStoreClause(t, cl, newHarness); len(failures) > 0 {
				t.Errorf("%s\ncontract: %s", strings.Join(failures, "\n"), cl.rule)
			}
		})
	}
}

// storeChecker is what a store clause reports to; it stands in for
// *testing.T so the clause runs in its own goroutine, bounded in real time.
type storeChecker struct {
	t        *testing.T
	mu       sync.Mutex
	failures []string
}

func (c *storeChecker) Errorf(format string, args ...any) {
	c.mu.Lock()
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// Fatalf reports and ends the clause's goroutine.
func (c *storeChecker) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	runtime.Goexit()
}

// runStoreClause runs one clause on a fresh harness and returns its failures.
func runStoreClause(t *testing.T, cl storeClause, newHarness func(t *testing.T) *StoreHarness) []string {
	h := newHarness(t)
	if h.Racers <= 0 {
		h.Racers = 8
	}
	if h.Timeout <= 0 {
		h.Timeout = 20 * time.Second
	}
	if h.Other == nil {
		h.Other = func(*testing.T) deploy.Store { return h.Store }
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	defer cancel()
	c := &storeChecker{t: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		cl.fn(ctx, c, h)
	}()
	select {
	case <-done:
	case <-time.After(h.Timeout + time.Second):
		c.Errorf("still running after %s", h.Timeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.failures...)
}

// StoreClauses returns the names of RunStore's clauses, in order.
func StoreClauses() []string {
	out := make([]string, len(storeClauses))
	for i, c := range storeClauses {
		out[i] = c.name
	}
	return out
}

var storeT0 = Epoch()

func lease(target, token string, since time.Time, d time.Duration) deploy.Lease {
	return deploy.Lease{Target: target, Token: token, Owner: "owner-" + token, Host: "host-" + token, PID: 4242,
		Run: "run-" + token, Since: since, Expires: since.Add(d)}
}

var storeClauses = []storeClause{
	{"LockFree", "Lock must succeed when nobody holds the lock; Holder returns the lease, or nil when the lock is free.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			s := h.Store
			if hl, err := s.Holder(ctx, "fake:web"); err != nil || hl != nil {
				t.Errorf("Holder of a free lock = %v, %v; want nil, nil", hl, err)
			}
			l, err := s.Lock(ctx, lease("fake:web", "a", storeT0, time.Minute))
			if err != nil {
				t.Fatalf("Lock of a free target: %v", err)
			}
			if l.Token != "a" || l.Owner != "owner-a" || l.Host != "host-a" || l.PID != 4242 || !l.Expires.Equal(storeT0.Add(time.Minute)) {
				t.Errorf("Lock returned %+v", l)
			}
			hl, err := h.Other(t.t).Holder(ctx, "fake:web")
			if err != nil || hl == nil || hl.Token != "a" || hl.Run != "run-a" || !hl.Since.Equal(storeT0) {
				t.Errorf("Holder after Lock = %+v, %v; want the lease of token a", hl, err)
			}
		}},
	{"LockHeld", "Otherwise it must fail with a *LockedError naming the holder, which wraps ErrLocked.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			if _, err := h.Store.Lock(ctx, lease("fake:web", "a", storeT0, time.Minute)); err != nil {
				t.Fatalf("%v", err)
			}
			_, err := h.Other(t.t).Lock(ctx, lease("fake:web", "b", storeT0.Add(30*time.Second), time.Minute))
			var le *deploy.LockedError
			if !errors.Is(err, deploy.ErrLocked) || !errors.As(err, &le) {
				t.Fatalf("second Lock = %v; want a *LockedError wrapping ErrLocked", err)
			}
			if le.Holder.Token != "a" || le.Holder.Owner != "owner-a" || !le.Holder.Since.Equal(storeT0) {
				t.Errorf("LockedError names %+v; want the holder a since %s", le.Holder, storeT0)
			}
			// Another target is another lock.
			if _, err := h.Other(t.t).Lock(ctx, lease("fake:api", "b", storeT0, time.Minute)); err != nil {
				t.Errorf("Lock of another target: %v", err)
			}
		}},
	{"LockSameToken", "It must succeed when the holder is l itself (same Token: the lease is extended).",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			if _, err := h.Store.Lock(ctx, lease("fake:web", "a", storeT0, time.Minute)); err != nil {
				t.Fatalf("%v", err)
			}
			l, err := h.Store.Lock(ctx, lease("fake:web", "a", storeT0.Add(30*time.Second), time.Minute))
			if err != nil {
				t.Fatalf("Lock again with the holder's token: %v", err)
			}
			if !l.Expires.Equal(storeT0.Add(90 * time.Second)) {
				t.Errorf("lease expires %s; want %s", l.Expires, storeT0.Add(90*time.Second))
			}
		}},
	{"LockExpired", "It must succeed when the holder's lease has expired (Expires is not after l.Since).",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			if _, err := h.Store.Lock(ctx, lease("fake:web", "a", storeT0, time.Minute)); err != nil {
				t.Fatalf("%v", err)
			}
			if _, err := h.Other(t.t).Lock(ctx, lease("fake:web", "b", storeT0.Add(59*time.Second), time.Minute)); !errors.Is(err, deploy.ErrLocked) {
				t.Fatalf("Lock before the lease expired = %v; want ErrLocked", err)
			}
			l, err := h.Other(t.t).Lock(ctx, lease("fake:web", "b", storeT0.Add(time.Minute), time.Minute))
			if err != nil {
				t.Fatalf("Lock once the lease expired: %v", err)
			}
			if l.Token != "b" {
				t.Errorf("lease after takeover: %+v", l)
			}
			if _, err := h.Store.Renew(ctx, lease("fake:web", "a", storeT0, 3*time.Minute)); !errors.Is(err, deploy.ErrLockLost) {
				t.Errorf("Renew by the holder whose lock was taken over = %v; want ErrLockLost", err)
			}
			hl, err := h.Store.Holder(ctx, "fake:web")
			if err != nil || hl == nil || hl.Token != "b" {
				t.Errorf("Holder after a refused renew = %+v, %v; want b", hl, err)
			}
		}},
	{"Renew", "Renew extends a lease this caller holds to l.Expires; when the lock is not held with l.Token it must fail with an error wrapping ErrLockLost and change nothing.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			if _, err := h.Store.Lock(ctx, lease("fake:web", "a", storeT0, time.Minute)); err != nil {
				t.Fatalf("%v", err)
			}
			l, err := h.Store.Renew(ctx, lease("fake:web", "a", storeT0, 5*time.Minute))
			if err != nil || !l.Expires.Equal(storeT0.Add(5*time.Minute)) {
				t.Fatalf("Renew = %+v, %v; want the lease until %s", l, err, storeT0.Add(5*time.Minute))
			}
			if _, err := h.Other(t.t).Lock(ctx, lease("fake:web", "b", storeT0.Add(2*time.Minute), time.Minute)); !errors.Is(err, deploy.ErrLocked) {
				t.Errorf("Lock within the renewed lease = %v; want ErrLocked", err)
			}
			if _, err := h.Other(t.t).Renew(ctx, lease("fake:web", "b", storeT0, time.Hour)); !errors.Is(err, deploy.ErrLockLost) {
				t.Errorf("Renew with another token = %v; want ErrLockLost", err)
			}
			if _, err := h.Other(t.t).Renew(ctx, lease("fake:free", "b", storeT0, time.Hour)); !errors.Is(err, deploy.ErrLockLost) {
				t.Errorf("Renew of a free lock = %v; want ErrLockLost", err)
			}
			if hl, _ := h.Store.Holder(ctx, "fake:free"); hl != nil {
				t.Errorf("a refused Renew took the lock: %+v", hl)
			}
			hl, err := h.Store.Holder(ctx, "fake:web")
			if err != nil || hl == nil || hl.Token != "a" || !hl.Expires.Equal(storeT0.Add(5*time.Minute)) {
				t.Errorf("Holder = %+v, %v; want a until %s", hl, err, storeT0.Add(5*time.Minute))
			}
		}},
	{"Unlock", "Unlock releases the lock when it is held with l.Token. Releasing a lock that is free or held by another token must change nothing and return nil.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			if _, err := h.Store.Lock(ctx, lease("fake:web", "a", storeT0, time.Minute)); err != nil {
				t.Fatalf("%v", err)
			}
			if err := h.Other(t.t).Unlock(ctx, lease("fake:web", "b", storeT0, time.Minute)); err != nil {
				t.Errorf("Unlock with another token: %v", err)
			}
			if hl, _ := h.Store.Holder(ctx, "fake:web"); hl == nil || hl.Token != "a" {
				t.Fatalf("Unlock with another token released the lock: holder %+v", hl)
			}
			if err := h.Store.Unlock(ctx, lease("fake:web", "a", storeT0, time.Minute)); err != nil {
				t.Fatalf("Unlock by the holder: %v", err)
			}
			if hl, err := h.Store.Holder(ctx, "fake:web"); hl != nil || err != nil {
				t.Errorf("Holder after Unlock = %+v, %v; want nil", hl, err)
			}
			if err := h.Store.Unlock(ctx, lease("fake:web", "a", storeT0, time.Minute)); err != nil {
				t.Errorf("Unlock of a free lock: %v", err)
			}
			if _, err := h.Other(t.t).Lock(ctx, lease("fake:web", "b", storeT0, time.Minute)); err != nil {
				t.Errorf("Lock after Unlock: %v", err)
			}
		}},
	{"LockRace", "Of several callers racing for one free lock, exactly one must win.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			for round := range 3 {
				target := fmt.Sprintf("fake:race-%d", round)
				// An expired lease at first in round 1: the takeover is raced too.
				if round == 1 {
					if _, err := h.Store.Lock(ctx, lease(target, "old", storeT0.Add(-time.Hour), time.Minute)); err != nil {
						t.Fatalf("%v", err)
					}
				}
				var wg sync.WaitGroup
				var mu sync.Mutex
				var won []string
				for i := range h.Racers {
					s := h.Store
					if i%2 == 1 {
						s = h.Other(t.t)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						tok := fmt.Sprintf("r%d", i)
						_, err := s.Lock(ctx, lease(target, tok, storeT0, time.Minute))
						switch {
						case err == nil:
							mu.Lock()
							won = append(won, tok)
							mu.Unlock()
						case !errors.Is(err, deploy.ErrLocked):
							t.Errorf("racing Lock: %v; want success or ErrLocked", err)
						}
					}()
				}
				wg.Wait()
				if len(won) != 1 {
					t.Fatalf("round %d: %d of %d racers took the lock (%v); want exactly one", round, len(won), h.Racers, won)
				}
				if hl, _ := h.Store.Holder(ctx, target); hl == nil || hl.Token != won[0] {
					t.Errorf("round %d: holder %+v; want the winner %s", round, hl, won[0])
				}
			}
		}},
	{"Journal", "Append adds e to the journal of run e.Run; Journal returns the entries of run in Seq order; an unknown run gives an error wrapping ErrNotFound.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			from := deploy.Revision{ID: "v1", Label: "one"}
			st := deploy.Canary(10, 5*time.Minute)
			entries := []deploy.JournalEntry{
				{Run: "r1", Seq: 1, Kind: deploy.JournalPlan, At: storeT0, Target: deploy.Target{Platform: "fake", Name: "web"},
					From: &from, To: &deploy.Revision{ID: "v2"}, Mode: deploy.ModeEngine, Strategy: &st, RollbackOn: deploy.OnAlarm | deploy.OnFailure},
				{Run: "r1", Seq: 2, Kind: deploy.JournalStarted, At: storeT0.Add(time.Second), DeploymentID: "d-1", Status: deploy.StatusInProgress},
				{Run: "r1", Seq: 3, Kind: deploy.JournalShift, At: storeT0.Add(2 * time.Second), DeploymentID: "d-1", Percent: 10, Step: 0},
			}
			for _, e := range entries {
				if err := h.Store.Append(ctx, e); err != nil {
					t.Fatalf("Append %d: %v", e.Seq, err)
				}
			}
			got, err := h.Other(t.t).Journal(ctx, "r1")
			if err != nil || len(got) != len(entries) {
				t.Fatalf("Journal = %d entries, %v; want %d", len(got), err, len(entries))
			}
			for i, e := range got {
				if e.Seq != i+1 || e.Kind != entries[i].Kind || !e.At.Equal(entries[i].At) || e.DeploymentID != entries[i].DeploymentID || e.Percent != entries[i].Percent {
					t.Errorf("entry %d = %+v; want %+v", i, e, entries[i])
				}
			}
			p := got[0]
			if p.From == nil || p.From.ID != from.ID || p.From.Label != from.Label || p.To == nil || p.To.ID != "v2" || p.Mode != deploy.ModeEngine ||
				p.Strategy == nil || p.Strategy.String() != st.String() || p.RollbackOn != entries[0].RollbackOn || p.Target.Name != "web" {
				t.Errorf("plan entry read back as %+v", p)
			}
			if _, err := h.Store.Journal(ctx, "nope"); !errors.Is(err, deploy.ErrNotFound) {
				t.Errorf("Journal of an unknown run = %v; want ErrNotFound", err)
			}
		}},
	{"JournalConflict", "An entry whose Seq is already taken must be refused with an error wrapping ErrConflict and change nothing, so two writers cannot interleave one journal.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			if err := h.Store.Append(ctx, deploy.JournalEntry{Run: "r1", Seq: 1, Kind: deploy.JournalPlan, At: storeT0, Message: "first"}); err != nil {
				t.Fatalf("%v", err)
			}
			err := h.Other(t.t).Append(ctx, deploy.JournalEntry{Run: "r1", Seq: 1, Kind: deploy.JournalPlan, At: storeT0, Message: "second"})
			if !errors.Is(err, deploy.ErrConflict) {
				t.Fatalf("Append of a taken Seq = %v; want ErrConflict", err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := 0
			for i := range h.Racers {
				s := h.Store
				if i%2 == 1 {
					s = h.Other(t.t)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.Append(ctx, deploy.JournalEntry{Run: "r1", Seq: 2, Kind: deploy.JournalStatus, At: storeT0, Message: fmt.Sprint(i)})
					switch {
					case err == nil:
						mu.Lock()
						won++
						mu.Unlock()
					case !errors.Is(err, deploy.ErrConflict):
						t.Errorf("racing Append: %v; want success or ErrConflict", err)
					}
				}()
			}
			wg.Wait()
			if won != 1 {
				t.Errorf("%d of %d racers appended entry 2; want exactly one", won, h.Racers)
			}
			j, err := h.Store.Journal(ctx, "r1")
			if err != nil || len(j) != 2 || j[0].Message != "first" {
				t.Errorf("journal after the race = %+v, %v; want two entries, the first one kept", j, err)
			}
		}},
	{"Unfinished", "Unfinished returns the IDs of runs whose journal has no JournalEnd entry; an entry whose Kind is JournalEnd closes the run.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			for _, run := range []string{"a", "b"} {
				if err := h.Store.Append(ctx, deploy.JournalEntry{Run: run, Seq: 1, Kind: deploy.JournalPlan, At: storeT0}); err != nil {
					t.Fatalf("%v", err)
				}
			}
			if err := h.Store.Append(ctx, deploy.JournalEntry{Run: "b", Seq: 2, Kind: deploy.JournalEnd, At: storeT0, Status: deploy.StatusSucceeded}); err != nil {
				t.Fatalf("%v", err)
			}
			got, err := h.Other(t.t).Unfinished(ctx)
			if err != nil || len(got) != 1 || got[0] != "a" {
				t.Errorf("Unfinished = %v, %v; want [a]", got, err)
			}
			if j, err := h.Store.Journal(ctx, "b"); err != nil || len(j) != 2 {
				t.Errorf("a closed run's journal = %v, %v; want both entries", j, err)
			}
		}},
	{"History", "Record adds h to target's revision history; an entry with the same DeploymentID replaces the earlier one. History returns target's revisions, newest first; a target with no history gives an empty list and no error.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			if hist, err := h.Store.History(ctx, "fake:web"); err != nil || len(hist) != 0 {
				t.Errorf("History of a new target = %v, %v; want empty", hist, err)
			}
			rec := []deploy.HistoryEntry{
				{Revision: deploy.Revision{ID: "v1"}, DeploymentID: "d1", Status: deploy.StatusSucceeded, At: storeT0},
				{Revision: deploy.Revision{ID: "v2", Label: "two"}, DeploymentID: "d2", Status: deploy.StatusInProgress, At: storeT0.Add(time.Minute)},
				{Revision: deploy.Revision{ID: "v3"}, DeploymentID: "d3", Status: deploy.StatusFailed, At: storeT0.Add(2 * time.Minute)},
				{Revision: deploy.Revision{ID: "v2", Label: "two"}, DeploymentID: "d2", Status: deploy.StatusSucceeded, At: storeT0.Add(90 * time.Second), Current: true},
			}
			for _, e := range rec {
				if err := h.Store.Record(ctx, "fake:web", e); err != nil {
					t.Fatalf("%v", err)
				}
			}
			if err := h.Store.Record(ctx, "fake:api", deploy.HistoryEntry{Revision: deploy.Revision{ID: "x"}, DeploymentID: "dx", Status: deploy.StatusSucceeded, At: storeT0}); err != nil {
				t.Fatalf("%v", err)
			}
			hist, err := h.Other(t.t).History(ctx, "fake:web")
			if err != nil || len(hist) != 3 {
				t.Fatalf("History = %+v, %v; want 3 entries", hist, err)
			}
			want := []string{"d3", "d2", "d1"}
			for i, e := range hist {
				if e.DeploymentID != want[i] {
					t.Errorf("History[%d] = %s; want %s (newest first)", i, e.DeploymentID, want[i])
				}
			}
			if hist[1].Status != deploy.StatusSucceeded || !hist[1].Current || hist[1].Revision.Label != "two" {
				t.Errorf("the replaced entry reads %+v", hist[1])
			}
			if good, ok := deploy.LastKnownGood(hist); !ok || good.Revision.ID != "v1" {
				t.Errorf("LastKnownGood of the store's history = %+v, %v; want v1", good, ok)
			}
		}},
	{"DoneContext", "A method called with a context that is already done must return an error wrapping ctx.Err() and change nothing.",
		func(ctx context.Context, t *storeChecker, h *StoreHarness) {
			dctx, cancel := context.WithCancel(ctx)
			cancel()
			s := h.Store
			if _, err := s.Lock(dctx, lease("fake:web", "a", storeT0, time.Minute)); !errors.Is(err, context.Canceled) {
				t.Errorf("Lock = %v", err)
			}
			if err := s.Append(dctx, deploy.JournalEntry{Run: "r", Seq: 1, Kind: deploy.JournalPlan, At: storeT0}); !errors.Is(err, context.Canceled) {
				t.Errorf("Append = %v", err)
			}
			if err := s.Record(dctx, "fake:web", deploy.HistoryEntry{Revision: deploy.Revision{ID: "v1"}, DeploymentID: "d", At: storeT0}); !errors.Is(err, context.Canceled) {
				t.Errorf("Record = %v", err)
			}
			if hl, err := s.Holder(ctx, "fake:web"); err != nil || hl != nil {
				t.Errorf("a Lock with a done context took the lock: %+v, %v", hl, err)
			}
			if _, err := s.Journal(ctx, "r"); !errors.Is(err, deploy.ErrNotFound) {
				t.Errorf("an Append with a done context wrote: %v", err)
			}
			if hist, _ := s.History(ctx, "fake:web"); len(hist) != 0 {
				t.Errorf("a Record with a done context wrote: %v", hist)
			}
		}},
}
