package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
)

// DefaultHookTimeout is how long a hook may run when HookOptions.Timeout is
// zero. CodeDeploy allows an hour; a validation function that needs more
// than a minute is better run as a bake-time alarm.
const DefaultHookTimeout = time.Minute

// HookOptions configure a lifecycle hook. The zero value means defaults.
type HookOptions struct {
	// Timeout bounds one run of the hook, measured on Clock. A hook that
	// has not answered by then fails with an error wrapping
	// deploy.ErrTimeout. Default DefaultHookTimeout.
	Timeout time.Duration
	// Clock measures Timeout. Default deploy.SystemClock{}.
	Clock deploy.Clock
	// Qualifier is the version or alias of the hook function to invoke.
	// Default: unqualified ($LATEST).
	Qualifier string
}

// Hook is a lifecycle hook run as a deploy.Gate in one phase
// (deploy.PhaseBeforeTraffic or deploy.PhaseAfterTraffic, Lambda's
// BeforeAllowTraffic and AfterAllowTraffic): either a Lambda validation
// function invoked synchronously, or a Go func. It passes every other phase.
// In CodeDeploy-managed mode, Lambda function hooks go into the AppSpec's
// Hooks instead.
type Hook struct {
	name     string
	phase    deploy.Phase
	function string
	invoker  Invoker
	fn       func(ctx context.Context, c deploy.Check) error
	opts     HookOptions
}

// HookFunction returns a hook that invokes function (name or ARN) with
// RequestResponse in phase. The function receives a JSON HookEvent. It
// fails the deployment by raising an error (Lambda's FunctionError) or by
// returning a failure: false, "Failed", or an object whose "status" is
// "Failed" (any case) or "FAILED". Anything else passes.
func HookFunction(inv Invoker, function string, phase deploy.Phase, opts HookOptions) *Hook {
	return &Hook{name: string(phase) + ":" + function, phase: phase, function: function, invoker: inv, opts: opts.withDefaults()}
}

// HookFunc returns a hook that runs f in phase. f should honour ctx, which
// ends at the timeout; if it does not, the hook fails at the timeout anyway
// and f's result is discarded.
func HookFunc(name string, phase deploy.Phase, f func(ctx context.Context, c deploy.Check) error, opts HookOptions) *Hook {
	return &Hook{name: name, phase: phase, fn: f, opts: opts.withDefaults()}
}

func (o HookOptions) withDefaults() HookOptions {
	if o.Timeout <= 0 {
		o.Timeout = DefaultHookTimeout
	}
	if o.Clock == nil {
		o.Clock = deploy.SystemClock{}
	}
	return o
}

// Name identifies the hook: "BeforeAllowTraffic:fn" for a function hook.
func (h *Hook) Name() string { return h.name }

// Phase is the phase the hook runs in.
func (h *Hook) Phase() deploy.Phase { return h.phase }

// FunctionName is the hook's Lambda function, empty for a Go func hook.
func (h *Hook) FunctionName() string { return h.function }

// Timeout is the hook's timeout.
func (h *Hook) Timeout() time.Duration { return h.opts.Timeout }

// HookEvent is what a hook function receives.
type HookEvent struct {
	DeploymentID   string  `json:"deploymentId"`
	Phase          string  `json:"phase"`
	Function       string  `json:"function"`
	Alias          string  `json:"alias"`
	CurrentVersion string  `json:"currentVersion"`
	TargetVersion  string  `json:"targetVersion"`
	Percent        float64 `json:"percent"`
}

// Check runs the hook when c.Phase is the hook's phase and returns nil
// otherwise. A failure is a *HookError.
func (h *Hook) Check(ctx context.Context, c deploy.Check) error {
	if c.Phase != h.phase {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-h.opts.Clock.After(h.opts.Timeout):
			timedOut.Store(true)
			cancel()
		case <-stop:
		}
	}()
	type result struct{ err error }
	done := make(chan result, 1)
	go func() { done <- result{h.run(ctx, c)} }()
	select {
	case r := <-done:
		if r.err != nil && timedOut.Load() {
			return &HookError{Hook: h.name, Phase: h.phase, Err: fmt.Errorf("%w: no answer within %s", deploy.ErrTimeout, h.opts.Timeout)}
		}
		return r.err
	case <-ctx.Done():
		if timedOut.Load() {
			return &HookError{Hook: h.name, Phase: h.phase, Err: fmt.Errorf("%w: no answer within %s", deploy.ErrTimeout, h.opts.Timeout)}
		}
		return &HookError{Hook: h.name, Phase: h.phase, Err: ctx.Err()}
	}
}

func (h *Hook) run(ctx context.Context, c deploy.Check) error {
	if h.fn != nil {
		if err := h.fn(ctx, c); err != nil {
			return &HookError{Hook: h.name, Phase: h.phase, Err: err}
		}
		return nil
	}
	payload, err := json.Marshal(hookEvent(c))
	if err != nil {
		return &HookError{Hook: h.name, Phase: h.phase, Err: err}
	}
	in := &awslambda.InvokeInput{FunctionName: aws.String(h.function), Payload: payload,
		InvocationType: types.InvocationTypeRequestResponse}
	if h.opts.Qualifier != "" {
		in.Qualifier = aws.String(h.opts.Qualifier)
	}
	out, err := h.invoker.Invoke(ctx, in)
	if err != nil {
		return &HookError{Hook: h.name, Phase: h.phase, Err: fmt.Errorf("invoke %s: %w", h.function, err)}
	}
	if fe := aws.ToString(out.FunctionError); fe != "" {
		return &HookError{Hook: h.name, Phase: h.phase, FunctionError: fe, Payload: string(out.Payload)}
	}
	if out.StatusCode >= 300 {
		return &HookError{Hook: h.name, Phase: h.phase, Payload: string(out.Payload),
			Err: fmt.Errorf("invoke %s: status %d", h.function, out.StatusCode)}
	}
	if hookResultFailed(out.Payload) {
		return &HookError{Hook: h.name, Phase: h.phase, Payload: string(out.Payload)}
	}
	return nil
}

func hookEvent(c deploy.Check) HookEvent {
	e := HookEvent{Phase: string(c.Phase), Percent: c.Percent}
	if d := c.Deployment; d != nil {
		e.DeploymentID = d.ID
		e.TargetVersion = d.To.ID
		if d.From != nil {
			e.CurrentVersion = d.From.ID
		}
		if det, ok := d.Detail.(*Detail); ok && det != nil {
			e.Function, e.Alias = det.Function, det.Alias
			e.CurrentVersion, e.TargetVersion = det.FromVersion, det.ToVersion
		} else if fn, alias, err := ParseTarget(d.Target); err == nil {
			e.Function, e.Alias = fn, alias
		}
	}
	return e
}

// hookResultFailed reports whether a hook function's result payload says
// the validation failed: JSON false, the string "Failed", or an object
// whose "status" (or "Status") is "Failed" in any case. Anything else,
// including an empty or non-JSON payload, is a pass.
func hookResultFailed(payload []byte) bool {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 {
		return false
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return false
	}
	failed := func(s string) bool {
		s = strings.ToLower(strings.TrimSpace(s))
		return s == "failed" || s == "failure"
	}
	switch x := v.(type) {
	case bool:
		return !x
	case string:
		return failed(x)
	case map[string]any:
		for k, val := range x {
			if strings.EqualFold(k, "status") {
				if s, ok := val.(string); ok && failed(s) {
					return true
				}
			}
		}
	}
	return false
}
