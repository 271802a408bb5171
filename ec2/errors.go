package ec2

import (
	"errors"
	"strings"

	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
)

// Errors a lifecycle event failure wraps, one per CodeDeploy lifecycle
// error code. Each also wraps deploy.ErrFailed.
var (
	// ErrScriptFailed: a hook script exited with a non-zero status
	// (ScriptFailed).
	ErrScriptFailed = errors.New("ec2: lifecycle script failed")
	// ErrScriptTimedOut: a hook script ran longer than its timeout
	// (ScriptTimedOut).
	ErrScriptTimedOut = errors.New("ec2: lifecycle script timed out")
	// ErrScriptMissing: the AppSpec names a script the bundle lacks
	// (ScriptMissing).
	ErrScriptMissing = errors.New("ec2: lifecycle script missing")
	// ErrScriptNotExecutable: a hook script is not executable
	// (ScriptNotExecutable).
	ErrScriptNotExecutable = errors.New("ec2: lifecycle script not executable")
	// ErrLifecycleUnknown: the event failed for another reason, such as a
	// bundle that could not be downloaded or the agent stopping
	// (UnknownError, or no code).
	ErrLifecycleUnknown = errors.New("ec2: lifecycle event failed")
)

// LifecycleError says which instance failed at which lifecycle event, and
// why. errors.Is reaches the sentinel of its Code and deploy.ErrFailed.
type LifecycleError struct {
	// Instance is the instance ID (or on-premises instance name).
	Instance string
	// Event is the lifecycle event that failed, such as "ApplicationStart".
	Event string
	// Code is CodeDeploy's lifecycle error code (ScriptFailed, ...), empty
	// when it gave none.
	Code cdtypes.LifecycleErrorCode
	// Message is CodeDeploy's diagnostic message, with the script's log
	// tail on the lines after the first.
	Message string
}

// Error names the instance, the event and the first line of the message.
func (e *LifecycleError) Error() string {
	msg := e.Message
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	s := "instance " + e.Instance + " failed at " + e.Event
	if msg != "" {
		s += ": " + msg
	}
	return s
}

// Unwrap returns the sentinel of e.Code and deploy.ErrFailed.
func (e *LifecycleError) Unwrap() []error {
	return []error{codeError(e.Code), deploy.ErrFailed}
}

func codeError(c cdtypes.LifecycleErrorCode) error {
	switch c {
	case cdtypes.LifecycleErrorCodeScriptFailed:
		return ErrScriptFailed
	case cdtypes.LifecycleErrorCodeScriptTimedOut:
		return ErrScriptTimedOut
	case cdtypes.LifecycleErrorCodeScriptMissing:
		return ErrScriptMissing
	case cdtypes.LifecycleErrorCodeScriptNotExecutable:
		return ErrScriptNotExecutable
	}
	return ErrLifecycleUnknown
}

// FailureOf returns the first lifecycle event failure among d's
// instances, in instance order, or nil when none failed. The driver's
// Status fills Instances (unless Options.NoTargets).
func FailureOf(d *deploy.Deployment) *LifecycleError {
	if d == nil {
		return nil
	}
	for _, in := range d.Instances {
		for _, e := range in.Lifecycle {
			if e.Status != string(cdtypes.LifecycleEventStatusFailed) {
				continue
			}
			le := &LifecycleError{Instance: in.ID, Event: e.Name, Message: e.Message}
			if code, _, ok := strings.Cut(e.Message, ": "); ok {
				switch c := cdtypes.LifecycleErrorCode(code); c {
				case cdtypes.LifecycleErrorCodeScriptFailed, cdtypes.LifecycleErrorCodeScriptTimedOut,
					cdtypes.LifecycleErrorCodeScriptMissing, cdtypes.LifecycleErrorCodeScriptNotExecutable,
					cdtypes.LifecycleErrorCodeUnknownError:
					le.Code = c
				}
			}
			return le
		}
	}
	return nil
}
