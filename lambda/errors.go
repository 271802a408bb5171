package lambda

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
)

// WeightedAliasError refuses a deployment to an alias that already splits
// traffic between versions: another deployment owns it, or one was stopped
// without rollback part way. It wraps deploy.ErrLocked. Two repairs put
// the alias on Version alone: a rollback to Version (deploy.Engine.Rollback,
// or any request whose RollbackOf is set), or DeployOptions.ResetWeights
// (deployctl --reset-weights) on the next deployment.
type WeightedAliasError struct {
	Function string
	Alias    string
	// Version is the alias's primary version.
	Version string
	// Weights are its AdditionalVersionWeights.
	Weights map[string]float64
}

// Error names the versions and the repair.
func (e *WeightedAliasError) Error() string {
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(e.Weights)) {
		parts = append(parts, fmt.Sprintf("version %s at %s", v, strconv.FormatFloat(e.Weights[v], 'f', -1, 64)))
	}
	return fmt.Sprintf("alias %s of %s is already weighted: primary version %s, %s; "+
		"another deployment may be shifting it. To repair, point it at version %s alone "+
		"(DeployOptions.ResetWeights, deployctl --reset-weights) and deploy again, "+
		"or roll back to it (Engine.Rollback)",
		e.Alias, e.Function, e.Version, strings.Join(parts, ", "), e.Version)
}

// Unwrap returns deploy.ErrLocked.
func (e *WeightedAliasError) Unwrap() error { return deploy.ErrLocked }

// HookError reports a lifecycle hook that refused a deployment: the
// function raised an error, returned a failure, or timed out.
type HookError struct {
	// Hook is the hook's Name().
	Hook string
	// Phase is when it ran.
	Phase deploy.Phase
	// FunctionError is Lambda's FunctionError ("Unhandled", "Handled") for
	// an invoked function, empty otherwise.
	FunctionError string
	// Payload is what the function returned, if anything.
	Payload string
	// Err is the cause: a Go hook's error, a timeout (wrapping
	// deploy.ErrTimeout) or the Invoke call's error. Nil when the function
	// itself reported the failure.
	Err error
}

// Error describes the failure.
func (e *HookError) Error() string {
	msg := fmt.Sprintf("hook %s (%s)", e.Hook, e.Phase)
	switch {
	case e.FunctionError != "":
		msg += fmt.Sprintf(": function error %s: %s", e.FunctionError, truncate(e.Payload, 512))
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	default:
		msg += ": reported failure: " + truncate(e.Payload, 512)
	}
	return msg
}

// Unwrap returns the cause.
func (e *HookError) Unwrap() error { return e.Err }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// isConflict reports whether err is Lambda's ResourceConflictException (an
// update is in progress).
func isConflict(err error) bool {
	var e *types.ResourceConflictException
	return errors.As(err, &e)
}
