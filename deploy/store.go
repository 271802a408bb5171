package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Store keeps what must outlive the process that runs a deployment: the
// journal of each run (every state change and step, written before the
// platform call it describes), each target's revision history with the
// revisions known good, and a per-target lock with a lease. Options.Store
// plugs one into an Engine; package deploytest has an in-memory Store and
// a conformance suite (deploytest.RunStore) that every Store must pass.
//
// Every method must be safe for concurrent use by several goroutines, and
// by several engines (processes, machines) sharing the same backing state.
// A method called with a context that is already done must return an error
// wrapping ctx.Err() and change nothing. Stores never read a clock: every
// time they compare comes from the caller (Lease.Since, JournalEntry.At).
type Store interface {
	// Lock takes the lock of l.Target for l (Token, Owner, Host, PID, Since
	// and Expires set by the caller) and returns the lease it holds.
	//
	// It must succeed when nobody holds the lock, when the holder's lease
	// has expired (Expires is not after l.Since), or when the holder is l
	// itself (same Token: the lease is extended). A store may also take
	// over a lock whose holder it knows to be gone (a local store, a
	// process that no longer runs on this host). Otherwise it must fail
	// with a *LockedError naming the holder, which wraps ErrLocked. Of
	// several callers racing for one free lock, exactly one must win.
	Lock(ctx context.Context, l Lease) (Lease, error)
	// Renew extends a lease this caller holds to l.Expires. When the lock
	// is no longer held with l.Token (it expired and someone else took it,
	// or it was released), it must fail with an error wrapping ErrLockLost
	// and change nothing.
	Renew(ctx context.Context, l Lease) (Lease, error)
	// Unlock releases the lock when it is held with l.Token. Releasing a
	// lock that is free or held by another token must change nothing and
	// return nil: the lease was already lost.
	Unlock(ctx context.Context, l Lease) error
	// Holder returns the lease on target, or nil when the lock is free. An
	// expired lease is still returned: the caller compares Expires.
	Holder(ctx context.Context, target string) (*Lease, error)

	// Append adds e to the journal of run e.Run. e.Seq must be one more
	// than the last entry's (1 for the first); an entry whose Seq is
	// already taken must be refused with an error wrapping ErrConflict
	// and change nothing, so two writers cannot interleave one journal.
	// Entries are returned in Seq order. An entry whose Kind is
	// JournalEnd closes the run: Unfinished no longer lists it.
	Append(ctx context.Context, e JournalEntry) error
	// Journal returns the entries of run, in Seq order; an unknown run
	// gives an error wrapping ErrNotFound.
	Journal(ctx context.Context, run string) ([]JournalEntry, error)
	// Unfinished returns the IDs of runs whose journal has no JournalEnd
	// entry, in any order.
	Unfinished(ctx context.Context) ([]string, error)

	// Record adds h to target's revision history. An entry with the same
	// DeploymentID (when not empty) replaces the earlier one.
	Record(ctx context.Context, target string, h HistoryEntry) error
	// History returns target's revisions, newest first (by At); a target
	// with no history gives an empty list and no error.
	History(ctx context.Context, target string) ([]HistoryEntry, error)
}

// Lease is a hold on a target's lock.
type Lease struct {
	// Target is the target's String() form.
	Target string `json:"target"`
	// Token identifies this hold; only its holder renews or releases it.
	Token string `json:"token"`
	// Owner names who holds it for people: "alice", "ci job 42".
	Owner string `json:"owner,omitempty"`
	// Host and PID say where the holder runs.
	Host string `json:"host,omitempty"`
	PID  int    `json:"pid,omitempty"`
	// Run is the journal run the holder writes.
	Run string `json:"run,omitempty"`
	// Since is when the lock was first taken, Expires when the lease ends
	// unless renewed.
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

// String names the holder: "alice on ci-3 (pid 812) since 10:02:03Z".
func (l Lease) String() string {
	s := l.Owner
	if s == "" {
		s = "(unnamed)"
	}
	if l.Host != "" {
		s += " on " + l.Host
	}
	if l.PID != 0 {
		s += fmt.Sprintf(" (pid %d)", l.PID)
	}
	return s + " since " + l.Since.UTC().Format(time.RFC3339) + ", lease until " + l.Expires.UTC().Format(time.RFC3339)
}

// LockedError is a refusal to take a target's lock: someone else holds it.
// It wraps ErrLocked.
type LockedError struct {
	// Holder is the lease that holds the target.
	Holder Lease
}

// Error names the target and its holder.
func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is locked by %s", e.Holder.Target, e.Holder)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

var (
	// ErrLockLost: a lease could not be renewed because the lock is no
	// longer held with its token.
	ErrLockLost = errors.New("deploy: lock lost")
	// ErrConflict: a store write lost a race (a journal entry whose
	// sequence number another writer took).
	ErrConflict = errors.New("deploy: conflicting write")
)

// JournalKind says what a journal entry records.
type JournalKind string

const (
	// JournalPlan: the run is about to start the plan (written before
	// Start). It carries the target, From, To, Mode, Strategy and
	// RollbackOn.
	JournalPlan JournalKind = "plan"
	// JournalStarted: Start returned DeploymentID.
	JournalStarted JournalKind = "started"
	// JournalShift: the engine is about to shift Percent of the traffic.
	JournalShift JournalKind = "shift"
	// JournalShifted: the shift to Percent took effect.
	JournalShifted JournalKind = "shifted"
	// JournalStop: the engine is about to stop the deployment (Rollback
	// says how).
	JournalStop JournalKind = "stop"
	// JournalRollback: the engine is about to start a rollback deployment.
	JournalRollback JournalKind = "rollback"
	// JournalStatus: the deployment's status changed to Status.
	JournalStatus JournalKind = "status"
	// JournalEnd: the run is over; Status is how it ended.
	JournalEnd JournalKind = "end"
)

// JournalEntry is one record of a run's journal. A run is one Execute of
// a plan: it starts with JournalPlan and ends with JournalEnd.
type JournalEntry struct {
	// Run identifies the run; Seq orders its entries from 1.
	Run string `json:"run"`
	Seq int    `json:"seq"`
	// Kind says what the entry records.
	Kind JournalKind `json:"kind"`
	// At is when it was written, on the engine's clock.
	At time.Time `json:"at"`
	// Target is the deployment's target.
	Target Target `json:"target"`
	// DeploymentID is set once Start returned.
	DeploymentID string `json:"deploymentId,omitempty"`
	// Status and Percent are where the deployment stands.
	Status  Status  `json:"status,omitempty"`
	Percent float64 `json:"percent,omitempty"`
	// Step is the strategy step index.
	Step int `json:"step,omitempty"`
	// Rollback is set on a JournalStop that rolls back.
	Rollback bool `json:"rollback,omitempty"`
	// Plan fields, set on JournalPlan.
	From       *Revision  `json:"from,omitempty"`
	To         *Revision  `json:"to,omitempty"`
	Mode       Mode       `json:"mode,omitempty"`
	Strategy   *Strategy  `json:"strategy,omitempty"`
	RollbackOn RollbackOn `json:"rollbackOn,omitempty"`
	RollbackOf string     `json:"rollbackOf,omitempty"`
	// Message says more, for people.
	Message string `json:"message,omitempty"`
}

// SortHistory returns a copy of h, newest first by At; of entries with the
// same At, the one later in h comes first. Stores use it for History.
func SortHistory(h []HistoryEntry) []HistoryEntry {
	out := make([]HistoryEntry, len(h))
	for i, e := range h {
		out[len(h)-1-i] = e
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out
}
