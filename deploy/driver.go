package deploy

import (
	"context"
	"fmt"
	"time"
)

// Driver is what every platform implements. Its methods must be safe for
// concurrent use by several deployments and several engines.
//
// # Context
//
// Every method of Driver and of the optional interfaces takes a context. A
// method called with a context that is already done must return an error
// wrapping ctx.Err() and must change nothing. A method whose context ends
// while it runs must return promptly with an error wrapping ctx.Err(); a
// mutating call it had in flight must leave the platform either as it was
// before the call or as the call would have left it, never in between.
//
// # Locks
//
// A target has at most one live deployment. Start must refuse a second one
// while another is live (by this process or any other the platform can see)
// with an error wrapping ErrLocked, or accept it in StatusQueued and hold it
// there until the first ends. A deployment stopped without rollback while
// its traffic was split (0 < Percent < 100) keeps the target locked: Prepare
// must then refuse new deployments with an error wrapping ErrLocked that
// names the repair (Engine.Rollback, which returns all traffic to the
// revision the stopped deployment moved it from). A request whose RollbackOf
// names a deployment that has ended is that repair and must be accepted.
//
// # Uncertain outcomes
//
// A mutating call whose answer was lost (a timeout or reset once the
// request could have been sent, a reply that does not decode, a server
// error: platform.Uncertain tells them for AWS) may have been carried out.
// A driver must not report such a call as failed, nor make it again,
// before it has read the platform back. When the read shows the change
// made, the driver carries on as if the call had answered and must say so
// in a note (EventNote through NotifierFrom; a driver never prints). When
// it does not, the driver's error must say that the outcome was unknown
// and what the read showed.
type Driver interface {
	// Platform must return the same non-empty name on every call, such as
	// "ecs" or "lambda". The driver's targets carry it in Target.Platform.
	Platform() string
	// Prepare validates and resolves req and works out what would change.
	// It must not make any mutating platform call: the engine's Plan (dry
	// run) is Prepare alone.
	//
	// Bad input must be reported with an error that wraps ErrInvalidRequest.
	// A target that does not exist, or a well-formed revision ID that names
	// no revision, must give one that wraps ErrNotFound (not
	// ErrInvalidRequest). A strategy the platform cannot carry out must be
	// refused with UnsupportedStrategy, which wraps both ErrUnsupported and
	// ErrInvalidRequest.
	//
	// The plan's To must not be zero. When the platform numbers a revision
	// only once it is registered (an ECS task definition, a Lambda version),
	// the plan's To.ID must be empty and its Label and Source must say what
	// would be registered ("web:(next)", a file name); the Deployment Start
	// returns then carries the ID the platform gave it.
	//
	// When req.Revision.ID is set, the driver deploys that existing revision
	// and must ignore options that would make a new one (a task definition
	// file, a zip): the engine's rollbacks send such requests with Options
	// nil, so the target and revision alone must be enough.
	//
	// A request for the revision the target already runs, without
	// RollbackOf, must either be refused with an error wrapping
	// ErrInvalidRequest or be planned as a redeployment of it (To.ID equal
	// to From.ID). With RollbackOf set it must be planned: a platform that
	// failed without rolling back may still serve the new revision in part,
	// and the rollback must put the old one back everywhere.
	Prepare(ctx context.Context, req Request) (*Plan, error)
	// Start begins the deployment p describes and returns at once. The
	// returned Deployment must have a non-empty ID unique on the platform,
	// the plan's target, a To whose ID is set, and a live first status:
	// StatusCreated, StatusQueued or StatusInProgress. In ModeEngine no
	// traffic may move to the new revision yet (Percent 0). Start must not
	// be called twice with the same plan, except after an error wrapping
	// ErrThrottled: the platform refused a call for its rate, and the
	// engine asks again after backing off. Start must then not repeat what
	// the throttled attempt already changed (it reuses a revision it
	// registered, for instance), so a throttled Start followed by one that
	// succeeds leaves the platform as one Start would. See Locks for a
	// target that already has a live deployment.
	Start(ctx context.Context, p *Plan) (*Deployment, error)
	// Status reports where the platform really is with d. It must not
	// change anything on the platform and must not modify *d; it returns a
	// new Deployment with d's ID, Target and To. Fields the platform does
	// not keep (From, Strategy, RollbackOf) may be left zero: the engine
	// carries them over from d. Percent must be the share of traffic (or of
	// the fleet) that To serves, in 0..100.
	//
	// A deployment the platform rolled back must be reported as
	// StatusRolledBack with Percent 0, never StatusSucceeded. In ModeEngine
	// the deployment must report StatusSucceeded once Shift(100) has
	// completed. An unknown deployment must give an error wrapping
	// ErrNotFound; any other error means the status could not be read
	// (throttling, the network) and the engine keeps asking.
	Status(ctx context.Context, d *Deployment) (*Deployment, error)
}

// Shifter moves traffic on platforms that cannot follow a strategy
// themselves. Drivers whose plans use ModeEngine must implement it.
type Shifter interface {
	// Shift puts percent (1..100) of traffic on d.To and the rest on d.From.
	// Shift(100) completes the deployment: the target then serves d.To alone
	// and Status reports StatusSucceeded.
	//
	// A percent outside 1..100 (or not a number) must be refused with an
	// error wrapping ErrInvalidRequest before any call. So must a Shift of
	// a deployment that has ended or was stopped: it changes nothing. An
	// unknown deployment must give an error wrapping ErrNotFound, and a
	// target that someone else changed since the last shift one wrapping
	// ErrLocked. A Shift that fails must leave the traffic as it was before
	// the call.
	Shift(ctx context.Context, d *Deployment, percent float64) error
}

// StopOutcome is the result of a stop request, as CodeDeploy defines it.
type StopOutcome string

const (
	// StopSucceeded: the deployment stopped; nothing more of it runs.
	StopSucceeded StopOutcome = "Succeeded"
	// StopPending: the deployment is stopping; some steps may still run.
	// Asking again later returns StopSucceeded once they have finished.
	StopPending StopOutcome = "Pending"
)

// StopOptions are the options of a stop request.
type StopOptions struct {
	// Rollback asks the platform to return the target to d.From as well.
	Rollback bool
	// Reason is recorded where the platform keeps one.
	Reason string
}

// Stopper stops a deployment in flight. Without it the engine cannot
// interrupt a deployment: Engine.Stop returns ErrUnsupported, and on a gate
// failure the engine waits for the deployment to end before rolling back
// with a new deployment.
type Stopper interface {
	// Stop asks the platform to stop d, a live deployment. It returns
	// StopSucceeded or StopPending, or an error wrapping ErrCannotStop when
	// the platform can no longer stop it.
	//
	// With o.Rollback the platform returns the target to d.From: once the
	// stop has succeeded, Status reports StatusRolledBack with Percent 0
	// and d.From serves all traffic.
	//
	// Without o.Rollback nothing more moves: the traffic stays where it was
	// when the stop took effect, and Status reports StatusStopped with
	// Percent the share To still serves (see Locks on Driver). A platform
	// that can only stop by reverting must refuse a stop without rollback
	// with an error wrapping ErrUnsupported and change nothing; the engine
	// then stops with rollback.
	//
	// Stopping a deployment that has ended must change nothing. It returns
	// StopSucceeded when the deployment ended Stopped, Failed or RolledBack
	// and no rollback is asked, or it ended RolledBack. It returns an error
	// wrapping ErrCannotStop when it ended Succeeded (with or without
	// o.Rollback), and when o.Rollback asks to reverse one that ended
	// Stopped or Failed: an ended deployment is reversed by a new one
	// (Engine.Rollback).
	Stop(ctx context.Context, d *Deployment, o StopOptions) (StopOutcome, error)
}

// Continuer resumes a deployment in StatusReady (a blue/green deployment
// waiting to reroute traffic, a deployment paused at a lifecycle hook).
// Without it, approval steps in ModePlatform fail with ErrUnsupported.
type Continuer interface {
	// Continue lets d, waiting in StatusReady, go on: Status then leaves
	// StatusReady. It must return an error wrapping ErrInvalidRequest and
	// change nothing when d is not waiting, and one wrapping ErrNotFound
	// when d is unknown.
	Continue(ctx context.Context, d *Deployment) error
}

// Historian reports the revisions a target ran. Without it, Engine.Rollback
// needs an explicit revision.
type Historian interface {
	// History returns the target's revisions, newest first, one entry per
	// deployment the platform remembers. It must change nothing.
	//
	// Each entry's Status must be how its deployment ended or stands: a
	// deployment that did not succeed must never be listed as
	// StatusSucceeded (it may be left out). When the target runs a
	// revision, exactly one entry must be Current: the revision that serves
	// all traffic or, while traffic is split (a live deployment, or one
	// stopped part way), the revision the deployment moves traffic from.
	// The revision the target ran before the first deployment the platform
	// remembers must be listed (StatusSucceeded; its DeploymentID may be
	// empty). An unknown target must give an error wrapping ErrNotFound.
	History(ctx context.Context, t Target) ([]HistoryEntry, error)
}

// StatusBatcher reports many deployments in fewer platform calls (ECS's
// DescribeServices takes ten services at once). When the driver has it, the
// engine gathers the status polls of the deployments it runs at the same
// time (a fleet) into StatusMany calls; without it each deployment is
// polled with Status on its own.
type StatusBatcher interface {
	// StatusMany reports each of ds as Status would and must change
	// nothing. The result must have one entry per element of ds, in the
	// same order, entry i reporting ds[i]; an entry is nil where that
	// deployment could not be reported. err must be nil when no entry is
	// nil; otherwise it must hold, for each nil entry, an *Error whose
	// DeploymentID names it, several joined with errors.Join (any error
	// with an Unwrap() []error method will do).
	StatusMany(ctx context.Context, ds []*Deployment) ([]*Deployment, error)
}

// BatchSizer tells the engine how many deployments one StatusMany call
// can report in a single platform request (ECS's DescribeServices takes
// ten). The engine then sends its gathered polls in batches of that size,
// so its rate control counts platform requests, not StatusMany calls.
// Without it a batch may hold any number of deployments.
type BatchSizer interface {
	// StatusBatchSize must return a positive number, the same on every
	// call.
	StatusBatchSize() int
}

// Share is one revision a target serves and its share of the target's
// traffic (or of its fleet), in percent.
type Share struct {
	// Revision is what is served, with the ID the driver reports in
	// Deployment.From and To, and its Label where the platform has one.
	Revision Revision `json:"revision"`
	// Percent is its share, 0 < Percent <= 100.
	Percent float64 `json:"percent"`
}

// ServingReader reads what a target serves now. The engine reads it once
// when a cleanup fails (a stop or a rollback it could not finish, or one
// Options.CleanupTimeout cut short), so that its error can say what the
// target is left serving (a *LeftError). Without it the engine reports the
// last status it saw instead.
type ServingReader interface {
	// ReadServing must change nothing, and must report what the platform
	// serves for t now, read from the platform, not what a deployment
	// meant it to serve: one Share per revision with a share above 0,
	// summing to 100, each Revision's ID as the driver reports it in
	// Deployment.From and To (its Label should be set too). A target that
	// serves nothing gives an empty list; an unknown target must give an
	// error wrapping ErrNotFound.
	ReadServing(ctx context.Context, t Target) ([]Share, error)
}

// Clock is the engine's source of time. Every wait the engine makes goes
// through it, so a fake clock runs an hour-long canary in milliseconds.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// StopEnded applies the Stopper contract's rules for a deployment that has
// ended with status s: StopSucceeded for one that ended RolledBack, or
// Stopped or Failed when o asks no rollback; an error wrapping
// ErrCannotStop for one that Succeeded, and for a rollback of one that
// ended Stopped or Failed (an ended deployment is reversed by a new one,
// Engine.Rollback). ended is false when s is live: the driver must then
// stop the deployment itself. Drivers call it first in Stop.
func StopEnded(s Status, o StopOptions) (out StopOutcome, ended bool, err error) {
	switch s {
	case StatusSucceeded:
		return "", true, fmt.Errorf("%w: the deployment already succeeded; reverse it with a new deployment (Engine.Rollback)", ErrCannotStop)
	case StatusStopped, StatusFailed:
		if o.Rollback {
			return "", true, fmt.Errorf("%w: the deployment already ended %s; reverse it with a new deployment (Engine.Rollback)", ErrCannotStop, s)
		}
		return StopSucceeded, true, nil
	case StatusRolledBack:
		return StopSucceeded, true, nil
	}
	return "", false, nil
}
