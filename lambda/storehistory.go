package lambda

import (
	"context"

	"github.com/switchyard/switchyard/deploy"
)

// StoreHistory returns a HistoryStore kept in s, the store an engine uses
// (deploy.Options.Store): every process and machine sharing the store then
// sees the same alias histories and known-good versions, where a
// FileHistory is one machine's and a MemoryHistory one process's.
func StoreHistory(s deploy.Store) HistoryStore { return storeHistory{s} }

type storeHistory struct{ s deploy.Store }

// Record adds or replaces e in the store's history of target.
func (h storeHistory) Record(ctx context.Context, target string, e deploy.HistoryEntry) error {
	e.Current = false // derived from the alias when loaded
	return h.s.Record(ctx, target, e)
}

// Load returns the store's history of target, newest first.
func (h storeHistory) Load(ctx context.Context, target string) ([]deploy.HistoryEntry, error) {
	return h.s.History(ctx, target)
}
