package deploytest

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/switchyard/switchyard/deploy"
)

// Store is an in-memory deploy.Store, the reference the store conformance
// suite (RunStore) is written against. It keeps everything in the memory
// of one process, so it only suits tests and single-process programs. It
// is safe for concurrent use. Its zero value is not usable: call NewStore.
type Store struct {
	mu       sync.Mutex
	locks    map[string]deploy.Lease
	journals map[string][]deploy.JournalEntry
	history  map[string][]deploy.HistoryEntry
	calls    int
}

var _ deploy.Store = (*Store)(nil)

// NewStore returns an empty in-memory store.
func NewStore() *Store {
	return &Store{locks: map[string]deploy.Lease{}, journals: map[string][]deploy.JournalEntry{},
		history: map[string][]deploy.HistoryEntry{}}
}

// Calls returns how many store methods were called so far.
func (s *Store) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *Store) enter(ctx context.Context) error {
	s.mu.Lock()
	s.calls++
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return err
	}
	return nil
}

// Lock takes l.Target's lock for l, as deploy.Store says.
func (s *Store) Lock(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	if err := s.enter(ctx); err != nil {
		return deploy.Lease{}, err
	}
	defer s.mu.Unlock()
	if cur, ok := s.locks[l.Target]; ok && cur.Token != l.Token && cur.Expires.After(l.Since) {
		return deploy.Lease{}, &deploy.LockedError{Holder: cur}
	} else if ok && cur.Token == l.Token {
		l.Since = cur.Since
	}
	s.locks[l.Target] = l
	return l, nil
}

// Renew extends a lease held with l.Token.
func (s *Store) Renew(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	if err := s.enter(ctx); err != nil {
		return deploy.Lease{}, err
	}
	defer s.mu.Unlock()
	cur, ok := s.locks[l.Target]
	if !ok || cur.Token != l.Token {
		return deploy.Lease{}, fmt.Errorf("%w: %s", deploy.ErrLockLost, l.Target)
	}
	cur.Expires = l.Expires
	s.locks[l.Target] = cur
	return cur, nil
}

// Unlock releases a lock held with l.Token.
func (s *Store) Unlock(ctx context.Context, l deploy.Lease) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if cur, ok := s.locks[l.Target]; ok && cur.Token == l.Token {
		delete(s.locks, l.Target)
	}
	return nil
}

// Holder returns the lease on target, or nil.
func (s *Store) Holder(ctx context.Context, target string) (*deploy.Lease, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if cur, ok := s.locks[target]; ok {
		return &cur, nil
	}
	return nil, nil
}

// Append adds e to its run's journal.
func (s *Store) Append(ctx context.Context, e deploy.JournalEntry) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	j := s.journals[e.Run]
	if e.Run == "" || e.Seq != len(j)+1 {
		return fmt.Errorf("%w: journal %s entry %d (the journal has %d)", deploy.ErrConflict, e.Run, e.Seq, len(j))
	}
	s.journals[e.Run] = append(j, cloneEntry(e))
	return nil
}

func cloneEntry(e deploy.JournalEntry) deploy.JournalEntry {
	if e.From != nil {
		f := *e.From
		e.From = &f
	}
	if e.To != nil {
		t := *e.To
		e.To = &t
	}
	if e.Strategy != nil {
		st := *e.Strategy
		st.Steps = append([]deploy.Step(nil), st.Steps...)
		e.Strategy = &st
	}
	return e
}

// Journal returns run's entries in order.
func (s *Store) Journal(ctx context.Context, run string) ([]deploy.JournalEntry, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	j, ok := s.journals[run]
	if !ok {
		return nil, fmt.Errorf("%w: journal %s", deploy.ErrNotFound, run)
	}
	out := make([]deploy.JournalEntry, len(j))
	for i, e := range j {
		out[i] = cloneEntry(e)
	}
	return out, nil
}

// Unfinished returns the runs with no JournalEnd entry.
func (s *Store) Unfinished(ctx context.Context) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []string
	for run, j := range s.journals {
		if len(j) > 0 && j[len(j)-1].Kind != deploy.JournalEnd {
			out = append(out, run)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Record adds h to target's history.
func (s *Store) Record(ctx context.Context, target string, h deploy.HistoryEntry) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	hs := s.history[target]
	for i := range hs {
		if h.DeploymentID != "" && hs[i].DeploymentID == h.DeploymentID {
			hs[i] = h
			return nil
		}
	}
	s.history[target] = append(hs, h)
	return nil
}

// History returns target's revisions, newest first.
func (s *Store) History(ctx context.Context, target string) ([]deploy.HistoryEntry, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return deploy.SortHistory(s.history[target]), nil
}
