package deploy

import (
	"context"
	"time"
)

// Driver is what every platform implements. Its methods must be safe for
// concurrent use by several deployments.
type Driver interface {
	// Platform names the platform, such as "ecs" or "lambda".
	Platform() string
	// Prepare validates and resolves req and works out what would change.
	// It must not make any mutating platform call: the engine's Plan (dry
	// run) is Prepare alone. Bad input must be reported with an error that
	// wraps ErrInvalidRequest; a target or revision that does not exist with
	// one that wraps ErrNotFound.
	//
	// When req.Revision.ID is set, the driver deploys that existing revision
	// and must ignore options that would make a new one (a task definition
	// file, a zip): the engine's rollbacks send such requests with Options
	// nil, so the target and revision alone must be enough. A request with
	// RollbackOf set may name the revision the target already runs (a
	// platform that failed without rolling back may still serve it in part);
	// the driver must redeploy it rather than refuse.
	Prepare(ctx context.Context, req Request) (*Plan, error)
	// Start begins the deployment p describes and returns at once, with the
	// deployment's ID and first status. In ModeEngine no traffic may move to
	// the new revision yet (Percent 0). Start must not be called twice with
	// the same plan.
	Start(ctx context.Context, p *Plan) (*Deployment, error)
	// Status reports where the platform really is with d. It must not
	// change anything. A deployment the platform rolled back must be
	// reported as StatusRolledBack, never StatusSucceeded. An unknown
	// deployment must give an error wrapping ErrNotFound. In ModeEngine, the
	// deployment must report StatusSucceeded once Shift(100) has completed.
	Status(ctx context.Context, d *Deployment) (*Deployment, error)
}

// Shifter moves traffic on platforms that cannot follow a strategy
// themselves. Drivers whose plans use ModeEngine must implement it.
type Shifter interface {
	// Shift puts percent (1..100) of traffic on d.To and the rest on d.From.
	// Shift(100) completes the deployment: the target then runs d.To alone.
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
// failure the engine waits for the deployment to end before rolling back.
type Stopper interface {
	// Stop asks the platform to stop d. It returns StopSucceeded or
	// StopPending, or an error wrapping ErrCannotStop when the platform can
	// no longer stop it. Stopping a deployment that already stopped returns
	// StopSucceeded. With o.Rollback the platform also returns the target to
	// d.From, and Status then reports StatusRolledBack.
	Stop(ctx context.Context, d *Deployment, o StopOptions) (StopOutcome, error)
}

// Continuer resumes a deployment in StatusReady (a blue/green deployment
// waiting to reroute traffic, a deployment paused at a lifecycle hook).
// Without it, approval steps in ModePlatform fail with ErrUnsupported.
type Continuer interface {
	// Continue lets d go on. It must return an error wrapping
	// ErrInvalidRequest when d is not waiting.
	Continue(ctx context.Context, d *Deployment) error
}

// Historian reports the revisions a target ran. Without it, Engine.Rollback
// needs an explicit revision.
type Historian interface {
	// History returns the target's revisions, newest first, with the current
	// one marked. An unknown target gives an error wrapping ErrNotFound.
	History(ctx context.Context, t Target) ([]HistoryEntry, error)
}

// StatusBatcher reports many deployments in fewer platform calls (ECS's
// DescribeServices takes ten services at once). When the driver has it, the
// engine gathers the status polls of the deployments it runs at the same
// time (a fleet) into StatusMany calls; without it each deployment is
// polled with Status on its own.
type StatusBatcher interface {
	// StatusMany reports each of ds as Status would, in order. An entry is
	// nil where that deployment could not be reported; err then holds an
	// *Error whose DeploymentID names it (several are joined in a
	// *multierror.Error). It must not change anything.
	StatusMany(ctx context.Context, ds []*Deployment) ([]*Deployment, error)
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
