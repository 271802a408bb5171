package deploy

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the engine and the drivers return wraps one of
// these where it applies, so callers test with errors.Is rather than strings.
var (
	// ErrInvalidRequest: the input is malformed or contradictory. Returned
	// before any mutating platform call. Usually carried by a *ValidationError.
	ErrInvalidRequest = errors.New("deploy: invalid request")
	// ErrNotFound: a target, revision or deployment does not exist.
	ErrNotFound = errors.New("deploy: not found")
	// ErrUnsupported: the driver or platform cannot do what was asked (for
	// example stopping an OpsWorks deployment). It wraps errors.ErrUnsupported.
	ErrUnsupported = fmt.Errorf("deploy: %w", errors.ErrUnsupported)
	// ErrTimeout: time ran out before the deployment's outcome was known:
	// the context's deadline (such errors also wrap
	// context.DeadlineExceeded), the engine's StatusTimeout while no status
	// could be read, or its CleanupTimeout during a stop or rollback.
	ErrTimeout = errors.New("deploy: timed out")
	// ErrThrottled: the platform throttled a call (ThrottlingException,
	// TooManyRequestsException, Rate exceeded). Drivers wrap it
	// (platform.Wrap does for AWS throttling errors). The engine retries a
	// throttled Prepare, Start, status read, Shift, Stop, Continue or gate
	// check after backing off and slows that family of calls down: a
	// throttled call never counts toward giving up on a deployment and
	// never makes one Failed.
	ErrThrottled = errors.New("deploy: throttled")
	// ErrLocked: another deployment holds the target (CodeDeploy's
	// DeploymentLimitExceeded, an alias weighted by someone else, ...).
	ErrLocked = errors.New("deploy: target locked by another deployment")
	// ErrFailed: the deployment ended in StatusFailed.
	ErrFailed = errors.New("deploy: deployment failed")
	// ErrStopped: the deployment ended in StatusStopped.
	ErrStopped = errors.New("deploy: deployment stopped")
	// ErrRolledBack: the deployment ended in StatusRolledBack.
	ErrRolledBack = errors.New("deploy: deployment rolled back")
	// ErrGateFailed: a gate refused the deployment. Gate errors that are not
	// alarms are reported wrapped in a *GateError that also wraps this.
	ErrGateFailed = errors.New("deploy: gate failed")
	// ErrAlarm: an alarm gate saw an alarm in the ALARM state. Gates return
	// errors wrapping ErrAlarm so the engine applies the OnAlarm rollback
	// policy rather than OnFailure.
	ErrAlarm = errors.New("deploy: alarm")
	// ErrCannotStop: the platform refused to stop the deployment (the third
	// outcome of a stop request).
	ErrCannotStop = errors.New("deploy: deployment cannot be stopped")
)

// Error is the error type the engine and the drivers return for a failed
// operation. It names where the failure happened and wraps the cause, which
// may be an AWS SDK error (reach it with errors.As) and usually one of the
// sentinels above (test with errors.Is).
type Error struct {
	// Platform is the driver's Platform() value, such as "ecs".
	Platform string
	// Op is the operation: "prepare", "start", "status", "shift", "stop",
	// "rollback", "deploy", or a driver-specific name such as "UpdateService".
	Op string
	// Target is the target's String() form.
	Target string
	// DeploymentID is set once a deployment exists.
	DeploymentID string
	// Err is the cause.
	Err error
}

// Error formats the error as "platform op target (deployment id): cause".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Platform != "" {
		b.WriteString(e.Platform)
		b.WriteString(" ")
	}
	b.WriteString(e.Op)
	if e.Target != "" {
		b.WriteString(" ")
		b.WriteString(e.Target)
	}
	if e.DeploymentID != "" {
		b.WriteString(" (deployment ")
		b.WriteString(e.DeploymentID)
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ValidationError describes one piece of bad input. It wraps
// ErrInvalidRequest.
type ValidationError struct {
	// Field names the input at fault, such as "strategy.steps[2].percent".
	Field string
	// Value is the offending value as text, if there is one.
	Value string
	// Reason says what is wrong.
	Reason string
}

// Invalid returns a *ValidationError for field with the given reason.
func Invalid(field, value, reason string) *ValidationError {
	return &ValidationError{Field: field, Value: value, Reason: reason}
}

// Error formats the field, value and reason.
func (e *ValidationError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("invalid %s %q: %s", e.Field, e.Value, e.Reason)
	}
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidRequest.
func (e *ValidationError) Unwrap() error { return ErrInvalidRequest }

// GateError reports a gate that refused a deployment.
type GateError struct {
	// Gate is the gate's Name().
	Gate string
	// Phase is when the gate ran.
	Phase Phase
	// Err is what the gate returned.
	Err error
}

// Error names the gate and its reason.
func (e *GateError) Error() string {
	return fmt.Sprintf("gate %s failed during %s: %v", e.Gate, e.Phase, e.Err)
}

// Unwrap returns ErrGateFailed and the gate's own error, so errors.Is finds
// both ErrGateFailed and, for alarm gates, ErrAlarm.
func (e *GateError) Unwrap() []error { return []error{ErrGateFailed, e.Err} }

// StatusError returns the sentinel for a terminal status that is not a
// success: ErrFailed, ErrStopped or ErrRolledBack. It returns nil for
// StatusSucceeded and for live statuses.
func StatusError(s Status) error {
	switch s {
	case StatusFailed:
		return ErrFailed
	case StatusStopped:
		return ErrStopped
	case StatusRolledBack:
		return ErrRolledBack
	}
	return nil
}

// UnsupportedStrategy returns the error every driver gives for a strategy
// its platform cannot carry out (a minimum-healthy-hosts rule for traffic
// shifting, an approval step where the platform has no pause): a
// *ValidationError for the field "strategy" that wraps ErrInvalidRequest,
// joined with ErrUnsupported, so errors.Is finds both and errors.As finds
// the *ValidationError.
func UnsupportedStrategy(platform string, s Strategy, reason string) error {
	return &unsupportedStrategyError{ve: Invalid("strategy", s.String(), platform+" cannot "+reason)}
}

type unsupportedStrategyError struct{ ve *ValidationError }

func (e *unsupportedStrategyError) Error() string   { return e.ve.Error() }
func (e *unsupportedStrategyError) Unwrap() []error { return []error{ErrUnsupported, e.ve} }

// LeftError says what a target was left serving when the engine could not
// finish cleaning up after a deployment: a stop or a rollback failed, or
// Options.CleanupTimeout ran out first. The engine joins it to the error
// it returns; reach it with errors.As. Its message reads like "left serving
// web:7 at 30% and web:6 at 70%; repair: roll back to web:6
// (Engine.Rollback)".
type LeftError struct {
	// Target is what was left.
	Target Target
	// DeploymentID is the deployment whose cleanup failed.
	DeploymentID string
	// Serving is what the target serves: the deployment's To first, then
	// its From, then any other revision. It is read from the platform
	// (ServingReader) unless LastSeen is set.
	Serving []Share
	// LastSeen marks Serving as the engine's last view of the deployment
	// (To at its last Percent, From at the rest), because the driver is no
	// ServingReader, or the read failed (ReadErr), or the cleanup was cut
	// short (WithCleanupContext).
	LastSeen bool
	// ReadErr is why Serving could not be read back, if it was tried.
	ReadErr error
	// Repair is the revision that repairs the target: Engine.Rollback of
	// Target returns all traffic to it. Nil when the target had no earlier
	// revision.
	Repair *Revision
	// Live reports whether the platform last reported the deployment as
	// still running (not in a terminal status): a platform that follows
	// its own strategy may still be moving it.
	Live bool
}

// NeedsRepair reports whether the target must still be repaired: false
// only when Serving, read back from the platform, is Repair alone.
func (e *LeftError) NeedsRepair() bool {
	if e.LastSeen || e.Repair == nil || len(e.Serving) != 1 {
		return true
	}
	return e.Serving[0].Revision.ID != e.Repair.ID || e.Serving[0].Percent < 100-1e-6
}

// ServingString lists Serving as "web:7 at 30% and web:6 at 70%", or
// "nothing".
func (e *LeftError) ServingString() string {
	if len(e.Serving) == 0 {
		return "nothing"
	}
	parts := make([]string, len(e.Serving))
	for i, s := range e.Serving {
		parts[i] = s.Revision.String() + " at " + formatPercent(roundPercent(s.Percent)) + "%"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Error says what the target serves, how that is known, and what repairs
// it.
func (e *LeftError) Error() string {
	var b strings.Builder
	b.WriteString("left serving ")
	b.WriteString(e.ServingString())
	if e.LastSeen {
		b.WriteString(" as last seen")
		if e.ReadErr != nil {
			b.WriteString(" (not read back: " + e.ReadErr.Error() + ")")
		}
	}
	switch {
	case !e.NeedsRepair():
		b.WriteString(", the revision the cleanup was returning it to: nothing to repair")
	case e.Repair == nil:
		b.WriteString("; no earlier revision to roll back to")
	default:
		b.WriteString("; repair: roll back to " + e.Repair.String() + " (Engine.Rollback)")
	}
	return b.String()
}
