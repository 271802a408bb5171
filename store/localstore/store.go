package localstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/deploy"
)

// Store is a deploy.Store in a local directory. It is safe for concurrent
// use by goroutines and by processes that open the same directory.
type Store struct {
	dir  string
	host string

	mu   sync.Mutex // serializes this handle's use of lock
	lock *os.File
}

var _ deploy.Store = (*Store)(nil)

// Open opens (creating it if needed) the store in dir. Close it when done.
func Open(dir string) (*Store, error) {
	if !supported {
		return nil, fmt.Errorf("localstore: %w: file locks", deploy.ErrUnsupported)
	}
	for _, sub := range []string{"locks", "runs", "open", "history"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("localstore: %w", err)
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	host, _ := os.Hostname()
	return &Store{dir: dir, host: host, lock: f}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close releases the store's file handle.
func (s *Store) Close() error { return s.lock.Close() }

// exclusive runs f while holding the store's file lock.
func (s *Store) exclusive(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := flock(s.lock); err != nil {
		return fmt.Errorf("localstore: lock %s: %w", s.dir, err)
	}
	defer func() { _ = funlock(s.lock) }()
	return f()
}

func key(s string) string { return "t-" + url.PathEscape(s) }

func (s *Store) lockPath(target string) string {
	return filepath.Join(s.dir, "locks", key(target)+".json")
}

// writeFile replaces path atomically: a temporary file in the same
// directory, flushed, renamed over path, and the directory flushed.
func writeFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not every file system syncs directories
	return nil
}

func readFile(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

func (s *Store) holder(target string) (*deploy.Lease, error) {
	var l deploy.Lease
	ok, err := readFile(s.lockPath(target), &l)
	if err != nil || !ok {
		return nil, err
	}
	return &l, nil
}

// Lock takes l.Target's lock as deploy.Store says; a holder that was a
// process of this host that no longer runs is taken over at once.
func (s *Store) Lock(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	err := s.exclusive(ctx, func() error {
		cur, err := s.holder(l.Target)
		if err != nil {
			return err
		}
		if cur != nil && cur.Token == l.Token {
			l.Since = cur.Since
		} else if cur != nil && cur.Expires.After(l.Since) && !(cur.Host == s.host && processGone(cur.PID)) {
			return &deploy.LockedError{Holder: *cur}
		}
		return writeFile(s.lockPath(l.Target), l)
	})
	if err != nil {
		return deploy.Lease{}, wrap(err)
	}
	return l, nil
}

// Renew extends a lease held with l.Token.
func (s *Store) Renew(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	var out deploy.Lease
	err := s.exclusive(ctx, func() error {
		cur, err := s.holder(l.Target)
		if err != nil {
			return err
		}
		if cur == nil || cur.Token != l.Token {
			return fmt.Errorf("%w: %s", deploy.ErrLockLost, l.Target)
		}
		cur.Expires = l.Expires
		out = *cur
		return writeFile(s.lockPath(l.Target), cur)
	})
	return out, wrap(err)
}

// Unlock releases a lock held with l.Token.
func (s *Store) Unlock(ctx context.Context, l deploy.Lease) error {
	return wrap(s.exclusive(ctx, func() error {
		cur, err := s.holder(l.Target)
		if err != nil || cur == nil || cur.Token != l.Token {
			return err
		}
		if err := os.Remove(s.lockPath(l.Target)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return syncDir(filepath.Join(s.dir, "locks"))
	}))
}

// Holder returns the lease on target, or nil.
func (s *Store) Holder(ctx context.Context, target string) (*deploy.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l, err := s.holder(target)
	return l, wrap(err)
}

func (s *Store) runDir(run string) string { return filepath.Join(s.dir, "runs", key(run)) }

func entryName(seq int) string { return fmt.Sprintf("%010d.json", seq) }

// Append adds e to its run's journal; a taken Seq is ErrConflict.
func (s *Store) Append(ctx context.Context, e deploy.JournalEntry) error {
	if e.Run == "" || e.Seq < 1 {
		return fmt.Errorf("localstore: %w: journal entry needs a run and a sequence number from 1", deploy.ErrInvalidRequest)
	}
	return wrap(s.exclusive(ctx, func() error {
		path := filepath.Join(s.runDir(e.Run), entryName(e.Seq))
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%w: journal %s entry %d is taken", deploy.ErrConflict, e.Run, e.Seq)
		}
		if e.Seq == 1 {
			if err := writeFile(filepath.Join(s.dir, "open", key(e.Run)), e.Run); err != nil {
				return err
			}
		}
		if err := writeFile(path, e); err != nil {
			return err
		}
		if e.Kind == deploy.JournalEnd {
			if err := os.Remove(filepath.Join(s.dir, "open", key(e.Run))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	}))
}

// Journal returns run's entries in order.
func (s *Store) Journal(ctx context.Context, run string) ([]deploy.JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(s.runDir(run))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("localstore: %w: journal %s", deploy.ErrNotFound, run)
	}
	if err != nil {
		return nil, wrap(err)
	}
	var out []deploy.JournalEntry
	for _, de := range ents {
		if !isRecord(de.Name()) {
			continue
		}
		var e deploy.JournalEntry
		if _, err := readFile(filepath.Join(s.runDir(run), de.Name()), &e); err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("localstore: %w: journal %s", deploy.ErrNotFound, run)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// isRecord tells a record from a torn temporary file.
func isRecord(name string) bool {
	return strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".")
}

// Unfinished returns the runs with no JournalEnd entry.
func (s *Store) Unfinished(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(s.dir, "open"))
	if err != nil {
		return nil, wrap(err)
	}
	var out []string
	for _, de := range ents {
		if !strings.HasPrefix(de.Name(), "t-") {
			continue
		}
		run, err := url.PathUnescape(strings.TrimPrefix(de.Name(), "t-"))
		if err == nil {
			out = append(out, run)
		}
	}
	return out, nil
}

// Record adds h to target's history.
func (s *Store) Record(ctx context.Context, target string, h deploy.HistoryEntry) error {
	name := h.DeploymentID
	if name == "" {
		name = "at-" + strconv.FormatInt(h.At.UnixNano(), 10)
	}
	return wrap(s.exclusive(ctx, func() error {
		return writeFile(filepath.Join(s.dir, "history", key(target), key(name)+".json"), h)
	}))
}

// History returns target's revisions, newest first.
func (s *Store) History(ctx context.Context, target string) ([]deploy.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir := filepath.Join(s.dir, "history", key(target))
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []deploy.HistoryEntry{}, nil
	}
	if err != nil {
		return nil, wrap(err)
	}
	var out []deploy.HistoryEntry
	for _, de := range ents {
		if !isRecord(de.Name()) {
			continue
		}
		var h deploy.HistoryEntry
		if _, err := readFile(filepath.Join(dir, de.Name()), &h); err != nil {
			return nil, wrap(err)
		}
		out = append(out, h)
	}
	return deploy.SortHistory(out), nil
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	var le *deploy.LockedError
	if errors.As(err, &le) || errors.Is(err, deploy.ErrConflict) || errors.Is(err, deploy.ErrLockLost) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("localstore: %w", err)
}
