package deploytest

import (
	"context"
	"sync"

	"github.com/switchyard/switchyard/deploy"
)

// CountingStore wraps a deploy.Store and counts the calls made to it, per
// method, so tests and benchmarks can say what a store costs a deployment.
// It is safe for concurrent use.
type CountingStore struct {
	deploy.Store

	mu    sync.Mutex
	calls map[string]int
}

// NewCountingStore returns s wrapped in a counter.
func NewCountingStore(s deploy.Store) *CountingStore {
	return &CountingStore{Store: s, calls: map[string]int{}}
}

func (c *CountingStore) count(op string) {
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
}

// Calls returns the number of calls per method name, and their total.
func (c *CountingStore) Calls() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	total := 0
	for k, v := range c.calls {
		out[k] = v
		total += v
	}
	return out, total
}

// Lock counts and forwards.
func (c *CountingStore) Lock(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	c.count("Lock")
	return c.Store.Lock(ctx, l)
}

// Renew counts and forwards.
func (c *CountingStore) Renew(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	c.count("Renew")
	return c.Store.Renew(ctx, l)
}

// Unlock counts and forwards.
func (c *CountingStore) Unlock(ctx context.Context, l deploy.Lease) error {
	c.count("Unlock")
	return c.Store.Unlock(ctx, l)
}

// Holder counts and forwards.
func (c *CountingStore) Holder(ctx context.Context, target string) (*deploy.Lease, error) {
	c.count("Holder")
	return c.Store.Holder(ctx, target)
}

// Append counts and forwards.
func (c *CountingStore) Append(ctx context.Context, e deploy.JournalEntry) error {
	c.count("Append")
	return c.Store.Append(ctx, e)
}

// Journal counts and forwards.
func (c *CountingStore) Journal(ctx context.Context, run string) ([]deploy.JournalEntry, error) {
	c.count("Journal")
	return c.Store.Journal(ctx, run)
}

// Unfinished counts and forwards.
func (c *CountingStore) Unfinished(ctx context.Context) ([]string, error) {
	c.count("Unfinished")
	return c.Store.Unfinished(ctx)
}

// Record counts and forwards.
func (c *CountingStore) Record(ctx context.Context, target string, h deploy.HistoryEntry) error {
	c.count("Record")
	return c.Store.Record(ctx, target, h)
}

// History counts and forwards.
func (c *CountingStore) History(ctx context.Context, target string) ([]deploy.HistoryEntry, error) {
	c.count("History")
	return c.Store.History(ctx, target)
}
