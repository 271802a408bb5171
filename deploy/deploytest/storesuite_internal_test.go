package deploytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// brokenStore is the in-memory store with one sentence of the contract
// broken.
type brokenStore struct {
	*Store
	lock    func(s *Store, ctx context.Context, l deploy.Lease) (deploy.Lease, error)
	renew   func(s *Store, ctx context.Context, l deploy.Lease) (deploy.Lease, error)
	unlock  func(s *Store, ctx context.Context, l deploy.Lease) error
	append  func(s *Store, ctx context.Context, e deploy.JournalEntry) error
	unfin   func(s *Store, ctx context.Context) ([]string, error)
	history func(s *Store, ctx context.Context, target string) ([]deploy.HistoryEntry, error)
}

func (b *brokenStore) Lock(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	if b.lock != nil {
		return b.lock(b.Store, ctx, l)
	}
	return b.Store.Lock(ctx, l)
}

func (b *brokenStore) Renew(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	if b.renew != nil {
		return b.renew(b.Store, ctx, l)
	}
	return b.Store.Renew(ctx, l)
}

func (b *brokenStore) Unlock(ctx context.Context, l deploy.Lease) error {
	if b.unlock != nil {
		return b.unlock(b.Store, ctx, l)
	}
	return b.Store.Unlock(ctx, l)
}

func (b *brokenStore) Append(ctx context.Context, e deploy.JournalEntry) error {
	if b.append != nil {
		return b.append(b.Store, ctx, e)
	}
	return b.Store.Append(ctx, e)
}

func (b *brokenStore) Unfinished(ctx context.Context) ([]string, error) {
	if b.unfin != nil {
		return b.unfin(b.Store, ctx)
	}
	return b.Store.Unfinished(ctx)
}

func (b *brokenStore) History(ctx context.Context, target string) ([]deploy.HistoryEntry, error) {
	if b.history != nil {
		return b.history(b.Store, ctx, target)
	}
	return b.Store.History(ctx, target)
}

// TestStoreSuiteCatchesBrokenStores: each broken store must fail the
// clause meant for the sentence it breaks.
func TestStoreSuiteCatchesBrokenStores(t *testing.T) {
	cases := []struct {
		clause string
		brk    func(b *brokenStore)
	}{
		{"LockHeld", func(b *brokenStore) {
			b.lock = func(s *Store, ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.locks[l.Target] = l // never refuses
				return l, nil
			}
		}},
		{"LockExpired", func(b *brokenStore) {
			b.lock = func(s *Store, ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				if cur, ok := s.locks[l.Target]; ok && cur.Token != l.Token {
					return deploy.Lease{}, &deploy.LockedError{Holder: cur} // leases never expire
				}
				s.locks[l.Target] = l
				return l, nil
			}
		}},
		{"LockRace", func(b *brokenStore) {
			b.lock = func(s *Store, ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
				s.mu.Lock()
				cur, held := s.locks[l.Target]
				s.mu.Unlock()
				if held && cur.Token != l.Token && cur.Expires.After(l.Since) {
					return deploy.Lease{}, &deploy.LockedError{Holder: cur}
				}
				time.Sleep(time.Millisecond) // check, then set: not atomic
				s.mu.Lock()
				s.locks[l.Target] = l
				s.mu.Unlock()
				return l, nil
			}
		}},
		{"Renew", func(b *brokenStore) {
			b.renew = func(s *Store, ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.locks[l.Target] = l // renews whatever it is asked
				return l, nil
			}
		}},
		{"Unlock", func(b *brokenStore) {
			b.unlock = func(s *Store, ctx context.Context, l deploy.Lease) error {
				s.mu.Lock()
				defer s.mu.Unlock()
				delete(s.locks, l.Target) // releases anyone's lock
				return nil
			}
		}},
		{"JournalConflict", func(b *brokenStore) {
			b.append = func(s *Store, ctx context.Context, e deploy.JournalEntry) error {
				s.mu.Lock()
				defer s.mu.Unlock()
				j := s.journals[e.Run]
				if e.Seq <= len(j) {
					j[e.Seq-1] = e // overwrites a taken entry
					return nil
				}
				s.journals[e.Run] = append(j, e)
				return nil
			}
		}},
		{"Unfinished", func(b *brokenStore) {
			b.unfin = func(s *Store, ctx context.Context) ([]string, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				var out []string
				for run := range s.journals {
					out = append(out, run) // ended runs too
				}
				return out, nil
			}
		}},
		{"History", func(b *brokenStore) {
			b.history = func(s *Store, ctx context.Context, target string) ([]deploy.HistoryEntry, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				return append([]deploy.HistoryEntry(nil), s.history[target]...), nil // oldest first
			}
		}},
		{"DoneContext", func(b *brokenStore) {
			b.append = func(s *Store, _ context.Context, e deploy.JournalEntry) error {
				return s.Append(context.Background(), e) // ignores its context
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.clause, func(t *testing.T) {
			var cl storeClause
			for _, c := range storeClauses {
				if c.name == tc.clause {
					cl = c
				}
			}
			if cl.fn == nil {
				t.Fatalf("no clause %s", tc.clause)
			}
			failures := runStoreClause(t, cl, func(t *testing.T) *StoreHarness {
				b := &brokenStore{Store: NewStore()}
				tc.brk(b)
				return &StoreHarness{Store: b, Timeout: 3 * time.Second}
			})
			if len(failures) == 0 {
				t.Errorf("clause %s passed a store that breaks it", tc.clause)
			} else {
				t.Logf("caught: %s", fmt.Sprint(failures[0]))
			}
		})
	}
}
