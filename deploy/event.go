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
type Event struct {
	Time         time.Time `json:"time"`
	Kind         EventKind `json:"kind"`
	DeploymentID string    `json:"deploymentId,omitempty"`
	Target       string    `json:"target"`
	Status       Status    `json:"status,omitempty"`
	Step         int       `json:"step"`
	Percent      float64   `json:"percent"`
	Gate         string    `json:"gate,omitempty"`
	Phase        Phase     `json:"phase,omitempty"`
	Message      string    `json:"message,omitempty"`
	Err          error     `json:"-"`
}

// MarshalJSON adds the error text as "error".
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	v := struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain: plain(e)}
	if e.Err != nil {
		v.Error = e.Err.Error()
	}
	return json.Marshal(v)
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
