// Package deploy is the core of switchyard: the abstractions every platform
// shares and the Engine that runs a deployment through a platform Driver.
//
// A deployment moves a Target (an ECS service, a Lambda alias, a CodeDeploy
// deployment group, an OpsWorks app) from its current Revision to a new one,
// following a Strategy (a list of steps: shift traffic to N percent, bake for
// a while, wait for approval). Gates (CloudWatch alarms, validation hooks,
// any Go func) are checked while traffic shifts and bakes; a rollback policy
// (RollbackOn) says what happens when one refuses.
//
// # Drivers
//
// A platform implements Driver, which every driver must: Platform, Prepare
// (validate, resolve and diff, changing nothing), Start (begin and return at
// once) and Status (where the platform really is, changing nothing).
//
// Capabilities not every platform has are optional one-method interfaces,
// found by type assertion, as database/sql/driver does:
//
//   - Shifter: the engine moves traffic itself, step by step. Required for
//     plans in ModeEngine (Lambda aliases without CodeDeploy); without it the
//     platform must follow the strategy itself (ModePlatform) and the engine
//     only polls Status and checks gates.
//   - Stopper: stop a deployment in flight, with or without rollback.
//     Without it Engine.Stop returns ErrUnsupported and, when a gate fails,
//     the engine waits for the platform to finish before rolling back with a
//     new deployment.
//   - Continuer: let a deployment waiting in StatusReady go on. Without it a
//     strategy with an approval step fails with ErrUnsupported in
//     ModePlatform; in ModeEngine approvals are the engine's own.
//   - Historian: the revisions a target ran. Without it Engine.Rollback needs
//     the revision named, since there is no last known good to find.
//   - StatusBatcher: report many deployments in fewer platform calls. With
//     it the engine gathers the polls of the deployments it runs at the same
//     time (a fleet) into StatusMany calls; without it each is polled alone.
//     BatchSizer says how many one platform request can report, so batches
//     are cut to that size and rate control counts requests.
//   - Finder and Adopter: find, and take over, a deployment a dead process
//     started, for Engine.Resume (see Store).
//   - ServingReader: what a target serves now, read from the platform.
//     When a cleanup fails the engine reads it once, so its error
//     (*LeftError) says what the target is left serving; without it the
//     error gives the last status the engine saw.
//
// The contract each method owes is written on Driver and the optional
// interfaces as "must" sentences, and package deploytest checks every one
// of them (deploytest.Run). Among them: every method honours its context;
// a target has one live deployment at a time (ErrLocked); a stop without
// rollback leaves the traffic where it was and keeps a split target locked
// until Engine.Rollback repairs it; a stop with rollback, or any rollback,
// leaves the previous revision serving everything.
//
// # The engine
//
// Engine.Deploy plans, starts and follows one deployment to a terminal
// status, reporting every change to Options.OnEvent. It never reports
// success for a deployment the platform rolled back, nor for one a gate
// refused: gates are checked after every shift, during bakes and once more
// when the deployment completes, even when the platform completed it
// between two polls. When a gate refuses, the deployment is stopped and,
// where the policy says so, rolled back: by the platform when its Stopper
// can, otherwise by a new deployment of the previous revision whose
// RollbackOf names the failed one. When the caller's context ends during an
// engine-driven shift, the engine stops the deployment and returns the
// traffic to the previous revision before it returns, so the platform is
// left in a known state. Everything such a cleanup does (the stop, the wait,
// nested rollbacks) shares one budget, Options.CleanupTimeout, measured on
// the engine's clock. Within it a throttled stop or rollback is asked
// again after backing off: throttling during a rollback is normal in a
// fleet. A cleanup that still fails, or runs out of budget, returns an
// error holding a *LeftError that says what the target is left serving
// (read back through the driver's ServingReader, else as last seen) and
// the revision that repairs it with Engine.Rollback.
//
// A driver whose mutating call lost its answer (see Uncertain outcomes on
// Driver) reads the platform back before it reports an outcome, and says
// what it found in a note event.
//
// A status the engine cannot read is unknown, not failed: it keeps asking
// for Options.StatusTimeout and then gives up with an error wrapping
// ErrTimeout that names the last status it saw, without stopping or rolling
// back what it cannot see.
//
// Engine.Plan is the dry run: the driver's Prepare alone, with no mutating
// call. Engine.Stop has CodeDeploy's three outcomes: StopSucceeded,
// StopPending (ask again later) and an error wrapping ErrCannotStop.
// Engine.Rollback goes to the last known good revision or a named one, as a
// new deployment. Engine.DeployAll deploys a fleet with bounded concurrency;
// one target's failure does not cancel the others unless FleetOptions says
// so, and the failures come back joined (errors.Join).
//
// All time comes from Options.Clock, so tests run an hour-long canary in
// milliseconds with deploytest.Clock. The package never prints, never
// sleeps on the wall clock unless given SystemClock, and keeps no
// package-level mutable state.
//
// # State, locks and resume
//
// Without Options.Store a deployment lives in the memory of the process
// that runs it. With one (package store/localstore for one machine,
// store/dynamostore for many; deploytest.Store in tests), Execute takes
// the target's lock with a lease before anything changes (another engine,
// process or machine gets a *LockedError naming the holder and since
// when), writes every step to the run's journal before the platform call
// it describes, renews the lease while the deployment runs and releases
// it last. Engine.Resume reads the journal a dead process left, asks the
// driver where the platform really is (Finder and Adopter help drivers
// that keep deployments in memory) and finishes or rolls back each run,
// so a target never stays weighted or locked. Rollback falls back to the
// store's history for the last known good revision.
//
// # Errors
//
// Failures are *Error values naming the platform, operation, target and
// deployment, wrapping the cause (which errors.As reaches, AWS SDK errors
// included) and a sentinel for errors.Is: ErrInvalidRequest (bad input,
// refused before any mutating call), ErrNotFound, ErrUnsupported,
// ErrTimeout, ErrLocked, and for deployments that ended badly ErrFailed,
// ErrStopped or ErrRolledBack, with ErrGateFailed and ErrAlarm telling why.
// A deployment whose cleanup failed also carries a *LeftError.
package deploy
