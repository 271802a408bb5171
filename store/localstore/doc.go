// Package localstore is the embedded deploy.Store: a directory on the local
// disk that several processes on one machine share safely (two CI jobs on
// one runner, a deployctl run and its resume).
//
// # Why a file layout and not an embedded database
//
// Every record is its own small JSON file, written to a temporary file in
// the same directory, flushed to disk (fsync), then renamed over its final
// name, and the directory flushed. A rename is atomic on POSIX file
// systems: a reader sees the old file or the new one, never part of
// either. So a write interrupted at any byte (kill -9, a full disk, a
// power cut before the rename) leaves the previous state readable; the
// torn temporary file (named .tmp-*) is ignored by every read. Writes
// that must not interleave across processes (taking a lock, appending the
// next journal entry) run under an advisory lock (flock) on DIR/.lock,
// which the kernel releases when its process dies, so a crashed process
// never wedges the store.
//
// An embedded database would give the same guarantees (bbolt, for one,
// is crash-safe) but holds an exclusive lock on its file for as long as a
// process keeps it open and polls with wall-clock sleeps to wait for it;
// the store's records are few and small (a journal of a few dozen entries
// per deployment), so plain files are fast enough, add no dependency, and
// stay readable with cat and jq when something needs repair.
//
// # Layout
//
//	DIR/.lock                     flock'd while a write runs
//	DIR/locks/T.json              the lease on target T
//	DIR/runs/R/0000000001.json    the journal of run R, one file per entry
//	DIR/open/R                    present while run R is unfinished
//	DIR/history/T/K.json          one history entry of target T
//
// T is the target's String() form and K the deployment ID (or the entry's
// time when it has none), both escaped as URL path segments.
//
// # Dead holders
//
// A lease records the host and process ID of its holder. A lock held by a
// process of this host that no longer runs is taken over at once, without
// waiting for its lease to expire; a lease from another host is honoured
// until it expires. File locks (flock) are Unix-only: on other systems
// Open returns an error wrapping deploy.ErrUnsupported.
package localstore
