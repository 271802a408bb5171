package platform

import (
	"context"

	"github.com/aws/smithy-go/middleware"

	"github.com/switchyard/switchyard/deploy"
)

// LeaveThrottlesToEngine is an AWS client option (add it to
// aws.Config.APIOptions; LoadConfig does) that stops the SDK's retry loop
// from retrying a throttled attempt of a call the deploy engine asks again
// itself (deploy.EngineRetriesThrottles). The engine's rate control paces
// every deployment of a fleet, so it must see every throttle: retried by
// the SDK, most of them never reach it, and a fleet keeps calling at a rate
// the platform refuses (1.3 to 1.7 calls per useful call at 100 and 1000
// targets, against 1.02 to 1.06 when the engine sees them). Other errors,
// and calls made outside the engine, are retried as the SDK's retryer says.
func LeaveThrottlesToEngine(stack *middleware.Stack) error {
	mw := middleware.FinalizeMiddlewareFunc("LeaveThrottlesToEngine",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			return out, md, EngineThrottle(ctx, err)
		})
	if _, ok := stack.Finalize.Get("Retry"); !ok {
		return nil // no retry loop (a presigning client): nothing to keep from retrying
	}
	return stack.Finalize.Insert(mw, "Retry", middleware.After)
}

// EngineThrottle returns err as the SDK's retry loop must see it within
// ctx: a throttling error of a call the engine asks again itself comes back
// marked not retryable (errors.As and errors.Is still reach the service's
// error through it); any other error comes back as it is.
// LeaveThrottlesToEngine applies it to every attempt.
func EngineThrottle(ctx context.Context, err error) error {
	if err == nil || !deploy.EngineRetriesThrottles(ctx) || Classify(err) != ClassThrottling {
		return err
	}
	return &leftToEngine{err}
}

// leftToEngine is a throttling error the SDK must not retry.
type leftToEngine struct{ err error }

func (e *leftToEngine) Error() string { return e.err.Error() }

func (e *leftToEngine) Unwrap() error { return e.err }

// RetryableError tells the SDK's retryer not to retry: the engine will.
func (e *leftToEngine) RetryableError() bool { return false }
