package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/switchyard/switchyard/deploy"
)

// HistoryStore keeps the versions each alias was deployed to. Lambda keeps
// no such record itself. Implementations must be safe for concurrent use.
type HistoryStore interface {
	// Record adds e to target's history, replacing an earlier entry with
	// the same DeploymentID.
	Record(ctx context.Context, target string, e deploy.HistoryEntry) error
	// Load returns target's history, newest first. An unknown target has
	// an empty history.
	Load(ctx context.Context, target string) ([]deploy.HistoryEntry, error)
}

// MemoryHistory is a HistoryStore in memory. The zero value is not usable;
// call NewMemoryHistory.
type MemoryHistory struct {
	mu      sync.Mutex
	entries map[string][]deploy.HistoryEntry
}

// NewMemoryHistory returns an empty MemoryHistory.
func NewMemoryHistory() *MemoryHistory {
	return &MemoryHistory{entries: map[string][]deploy.HistoryEntry{}}
}

// Record adds or replaces e.
func (m *MemoryHistory) Record(_ context.Context, target string, e deploy.HistoryEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[target] = upsert(m.entries[target], e)
	return nil
}

// Load returns target's history, newest first.
func (m *MemoryHistory) Load(_ context.Context, target string) ([]deploy.HistoryEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sortHistory(m.entries[target]), nil
}

func upsert(h []deploy.HistoryEntry, e deploy.HistoryEntry) []deploy.HistoryEntry {
	e.Current = false // derived from the alias when loaded
	for i := range h {
		if h[i].DeploymentID == e.DeploymentID && (e.DeploymentID != "" || h[i].Revision.ID == e.Revision.ID) {
			h = append(h[:i], h[i+1:]...)
			break
		}
	}
	return append(h, e)
}

// sortHistory orders h newest first; entries recorded at the same time keep
// the later-recorded one first.
func sortHistory(h []deploy.HistoryEntry) []deploy.HistoryEntry {
	out := make([]deploy.HistoryEntry, len(h))
	for i, e := range h {
		out[len(h)-1-i] = e
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out
}

// FileHistory is a HistoryStore in a JSON file, for command-line tools that
// deploy and roll back in separate processes. Writes replace the file
// atomically; concurrent processes may lose each other's entries.
type FileHistory struct {
	path string
	mu   sync.Mutex
	// Max is how many entries are kept per target. Default 50.
	Max int
}

// NewFileHistory returns a FileHistory at path; the file is created on the
// first Record.
func NewFileHistory(path string) *FileHistory { return &FileHistory{path: path} }

func (f *FileHistory) read() (map[string][]deploy.HistoryEntry, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string][]deploy.HistoryEntry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lambda history: %w", err)
	}
	m := map[string][]deploy.HistoryEntry{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("lambda history %s: %w", f.path, err)
		}
	}
	return m, nil
}

// Record adds or replaces e and rewrites the file.
func (f *FileHistory) Record(_ context.Context, target string, e deploy.HistoryEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return err
	}
	h := upsert(m[target], e) // oldest first
	max := f.Max
	if max <= 0 {
		max = 50
	}
	if len(h) > max {
		h = h[len(h)-max:]
	}
	m[target] = h
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("lambda history: %w", err)
	}
	if dir := filepath.Dir(f.path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("lambda history: %w", err)
		}
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("lambda history: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("lambda history: %w", err)
	}
	return nil
}

// Load returns target's history, newest first.
func (f *FileHistory) Load(_ context.Context, target string) ([]deploy.HistoryEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return nil, err
	}
	return sortHistory(m[target]), nil
}
