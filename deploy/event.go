package deploy

import (
	"context"
	"encoding/json"
	"time"
)

// EventKind says what an Event reports.
type EventKind string

// The kinds of event.
const (
	// EventPlanned: the driver prepared a plan.
	EventPlanned EventKind = "planned"
	// EventStatus: the deployment's status changed.
	EventStatus EventKind = "status"
	// EventShift: traffic moved; Percent is the new share.
	EventShift EventKind = "shift"
	// EventStep: a strategy step began; Step is its index.
	EventStep EventKind = "step"
	// EventGate: a gate was checked; Err is set when it refused.
	EventGate EventKind = "gate"
	// EventMessage: the platform said something (Message).
	EventMessage EventKind = "message"
	// EventStop: a stop was requested or its outcome is known.
	EventStop EventKind = "stop"
	// EventRollback: a rollback began or ended.
	EventRollback EventKind = "rollback"
	// EventNote: the engine or a driver notes something (a fallback, a retry).
	EventNote EventKind = "note"
)

// Event is one observable thing that happened to a deployment. The engine
// sends events to Options.OnEvent in the order they happen for each
// deployment.
//
// An event carries what a progress display needs and nothing else: where
// the deployment is in its strategy (Step of Steps), the traffic on the new
// revision (Percent), when the bake in progress ends (BakeUntil), how its
// instances stand (Instances) and an estimate of the time left (Remaining).
type Event struct {
	// Time is the engine clock's time of the event.
	Time time.Time `json:"time"`
	// Kind says what the event reports.
	Kind EventKind `json:"kind"`
	// DeploymentID is set once the deployment exists.
	DeploymentID string `json:"deploymentId,omitempty"`
	// Target is the target's String() form.
	Target string `json:"target"`
	// Status is the deployment's status at the time of the event.
	Status Status `json:"status,omitempty"`
	// Step is the index of the strategy step in progress (or last done),
	// 0..Steps-1. Where the platform walks the strategy and does not say,
	// the engine works it out from Percent.
	Step int `json:"step"`
	// Steps is how many steps the strategy has (shifts, bakes and
	// approvals); 0 before a deployment starts.
	Steps int `json:"steps,omitempty"`
	// Percent is the share of traffic (or of the fleet) on the new
	// revision.
	Percent float64 `json:"percent"`
	// BakeUntil is when the bake in progress ends, during a bake.
	BakeUntil time.Time `json:"bakeUntil,omitzero"`
	// Instances counts per-instance progress where the platform reports
	// instances.
	Instances *InstanceCounts `json:"instances,omitempty"`
	// Remaining estimates the time left: the rest of the bake in progress
	// and every bake still to come. Shifts and platform work add to it, so
	// it is a lower bound.
	Remaining time.Duration `json:"-"`
	// Gate and Phase name the gate checked, for EventGate.
	Gate  string `json:"gate,omitempty"`
	Phase Phase  `json:"phase,omitempty"`
	// Message says what happened, in words.
	Message string `json:"message,omitempty"`
	// Err is set when something refused or failed.
	Err error `json:"-"`
}

// InstanceCounts is per-instance progress: how many instances are done,
// how many failed, out of how many.
type InstanceCounts struct {
	Done   int `json:"done"`
	Failed int `json:"failed"`
	Total  int `json:"total"`
}

// MarshalJSON adds the error text as "error" and Remaining as
// "remainingSeconds".
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	v := struct {
		plain
		RemainingSeconds float64 `json:"remainingSeconds,omitempty"`
		Error            string  `json:"error,omitempty"`
	}{plain: plain(e), RemainingSeconds: e.Remaining.Seconds()}
	if e.Err != nil {
		v.Error = e.Err.Error()
	}
	return json.Marshal(v)
}

// progress fills in an event's progress fields from a deployment: the step
// count, the step (worked out from Percent where the platform did not say),
// the end of the bake in progress, the instance counts and the time left.
// bakeUntil is the end of a bake the engine is holding, if any.
func progress(ev *Event, d *Deployment, bakeUntil, now time.Time) {
	steps := d.Strategy.Normalized()
	ev.Steps = len(steps)
	step := d.Step
	if step == 0 && d.Percent > 0 {
		for i, st := range steps {
			if st.Kind == StepShift && st.Percent <= d.Percent {
				step = i
			}
		}
		if d.Status == StatusBaking && step+1 < len(steps) && steps[step+1].Kind == StepBake {
			step++
		}
	}
	if step >= len(steps) && len(steps) > 0 {
		step = len(steps) - 1
	}
	ev.Step = step
	if bakeUntil.IsZero() && d.Status == StatusBaking && step < len(steps) && steps[step].Kind == StepBake && !d.UpdatedAt.IsZero() {
		bakeUntil = d.UpdatedAt.Add(steps[step].Duration)
	}
	if d.Status == StatusBaking || !bakeUntil.IsZero() {
		ev.BakeUntil = bakeUntil
	}
	if !d.Status.Terminal() {
		var left time.Duration
		if !ev.BakeUntil.IsZero() && ev.BakeUntil.After(now) {
			left += ev.BakeUntil.Sub(now)
		}
		for i := step + 1; i < len(steps); i++ {
			if steps[i].Kind == StepBake {
				left += steps[i].Duration
			}
		}
		ev.Remaining = left
	}
	if len(d.Instances) > 0 {
		c := &InstanceCounts{Total: len(d.Instances)}
		for _, in := range d.Instances {
			switch in.Status {
			case StatusSucceeded:
				c.Done++
			case StatusFailed, StatusStopped, StatusRolledBack:
				c.Failed++
			}
		}
		ev.Instances = c
	}
}

// Notifier lets a driver report events through the engine. The engine
// passes one in the context of every driver call; drivers get it with
// NotifierFrom.
type Notifier func(kind EventKind, message string)

type notifierKey struct{}

// WithNotifier returns a context that carries n. The engine uses it for
// every driver call; tests of a driver can use it to collect notes.
func WithNotifier(ctx context.Context, n Notifier) context.Context {
	return context.WithValue(ctx, notifierKey{}, n)
}

// NotifierFrom returns the notifier the engine put in ctx, or a no-op.
func NotifierFrom(ctx context.Context) Notifier {
	if n, ok := ctx.Value(notifierKey{}).(Notifier); ok && n != nil {
		return n
	}
	return func(EventKind, string) {}
}

// ChanObserver returns an OnEvent function that sends every event on ch. It
// blocks when ch is full, so give ch a buffer or drain it.
func ChanObserver(ch chan<- Event) func(Event) {
	return func(e Event) { ch <- e }
}

type throttleRetriesKey struct{}

// WithEngineRetries returns ctx marked as that of a driver call the engine
// asks again when the platform throttles it (see EngineRetriesThrottles).
// The engine marks its calls with it; a test of a driver or of an AWS
// client may use it to make the calls the engine makes.
func WithEngineRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, throttleRetriesKey{}, true)
}

// EngineRetriesThrottles reports whether ctx is that of a driver call the
// engine asks again, after backing off under its shared rate control, when
// the platform throttles it (an error wrapping ErrThrottled), and whose
// AWS calls may each be left to it: a plan, a status poll, a shift, a stop
// or continue of a running deployment, a gate check. An AWS client may then
// leave throttling errors to the engine instead of retrying them itself, so
// that the engine's rate control, which paces every deployment of a fleet,
// sees every throttle (platform.LoadConfig's clients do). Start is not
// marked: a start makes calls after its mutation took effect, which asked
// again would not find the platform as the first attempt did, so the
// client keeps retrying their throttles unless the driver marks the calls
// that are safe to leave (see EngineRetriesStart). Calls made outside the
// engine, and Engine.Status or Engine.Stop asked by a caller, are not
// marked.
func EngineRetriesThrottles(ctx context.Context) bool {
	v, _ := ctx.Value(throttleRetriesKey{}).(bool)
	return v
}

type startRetriesKey struct{}

// EngineRetriesStart reports whether ctx is that of a Start the engine asks
// again when it fails with an error wrapping ErrThrottled. Such a Start may
// mark its own calls with WithEngineRetries up to and including the first
// mutation that takes effect (a throttled one left the platform as it was,
// and the next Start reuses what the earlier ones did), so that their
// throttles reach the engine's rate control; the calls after it must keep
// the client's own retries.
func EngineRetriesStart(ctx context.Context) bool {
	v, _ := ctx.Value(startRetriesKey{}).(bool)
	return v
}
