// Package deploytest is what switchyard's users and driver authors test
// with.
//
// # The conformance suite
//
// Run is the executable form of the contract in package deploy: one
// subtest per clause, each quoting the contract sentence it checks when it
// fails. A driver author writes a Harness over a fake of their platform
// (the Driver under test, a Clock, a Target, fresh Requests, a count of
// mutating calls, and Serving: what the platform really serves, read from
// the platform rather than the driver) and calls Run from a test. Clauses
// cover Prepare as a dry run (no mutating call, ErrNotFound for missing
// targets and revisions, UnsupportedStrategy, the running revision), Start
// (a live first status, no traffic in engine mode, ErrLocked for a second
// live deployment), Status (read-only, leaves its argument alone, never
// Succeeded for a rollback, Percent equal to what is served), Shift (range,
// after stop, unknown), Stop with and without rollback and of ended
// deployments, Continue, History (the first revision, exactly one Current,
// Current while split, failures never successes), rollbacks, StatusMany's
// order and errors, ReadServing (what the platform serves, before, while
// split and after a rollback, read-only), and context cancellation of every
// method. Each clause
// runs in real time bounded by Harness.Timeout (10 seconds by default), so
// a driver that hangs fails its clause instead of hanging the suite. A
// driver needs only the standard library and package deploy to pass it.
//
// The suite is itself tested: 60 variants of the reference driver each
// break one sentence of the contract, and the clause meant for each must
// fail it. Score: 60 caught of 60, each within its 3-second bound. Two
// clauses check the engine rather than the driver (a bad strategy is
// refused before the driver is called; gates are checked when the platform
// completes between polls) and no driver variant can break them; the
// engine's own tests cover them.
//
// # The fake driver
//
// Driver is an in-memory deploy.Driver that follows the whole contract and
// implements every optional interface. It can be told to fail at any
// strategy step (FailNext), to fail starting or reporting, to stop slowly
// (StopSlowly: StopPending first), to refuse to stop (RefuseStop) or to
// fail stopping with any error (FailStop: a throttle, say), or to fail
// reading what it serves (FailServing), and it records every call so a
// test can assert that a dry run made no mutating one; Serving (and
// ReadServing, the deploy.ServingReader) says what it serves. In engine mode it stands in for a
// Lambda alias the engine shifts; in platform mode it follows the strategy
// by itself on its clock, as ECS or CodeDeploy do, and with
// PlatformRollback it rolls itself back on failure.
//
// # Stores
//
// Store is an in-memory deploy.Store, the reference for RunStore, the store
// conformance suite: one subtest per sentence of the deploy.Store contract
// (locks free, held, re-taken by their token, taken over once expired,
// renewed, released; journals in order, a taken sequence number refused;
// unfinished runs; history newest first; done contexts), including races
// of many goroutines for one lock and one journal entry across two handles
// on the same state (StoreHarness.Other), to run under -race.
// CountingStore counts what a store is asked, for benchmarks.
//
// Clock is a controllable deploy.Clock: manual (Advance, Set, BlockUntil)
// or auto-advancing, so an hour-long canary runs in microseconds. Alarm is a
// gate that stands in for a CloudWatch alarm.
package deploytest
