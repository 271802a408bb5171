package deploy

import "context"

// Phase says when a gate is being checked.
type Phase string

// The phases at which the engine checks gates.
const (
	// PhaseBeforeTraffic: the new revision is ready but has no traffic
	// (Lambda's BeforeAllowTraffic).
	PhaseBeforeTraffic Phase = "BeforeAllowTraffic"
	// PhaseShift: traffic has just moved to a new percentage.
	PhaseShift Phase = "Shift"
	// PhaseBake: during a bake step, every Options.GateInterval.
	PhaseBake Phase = "Bake"
	// PhaseAfterTraffic: all traffic is on the new revision (Lambda's
	// AfterAllowTraffic).
	PhaseAfterTraffic Phase = "AfterAllowTraffic"
	// PhaseWatch: the platform is shifting by itself and the engine checks
	// gates at each poll.
	PhaseWatch Phase = "Watch"
)

// Check is what a gate is asked about.
type Check struct {
	// Deployment is a snapshot of the deployment; gates must not change it.
	Deployment *Deployment
	// Phase is when the check runs.
	Phase Phase
	// Percent is the traffic on the new revision at the time of the check.
	Percent float64
}

// Gate is a check run during and after shifting. Check returns nil to let the
// deployment go on; any error refuses it. Errors that wrap ErrAlarm count as
// alarms (OnAlarm rollback policy), all others as failures (OnFailure).
// Gates ignore phases they have nothing to say about by returning nil. A gate
// may be called concurrently for different deployments.
type Gate interface {
	// Name identifies the gate in events and errors.
	Name() string
	// Check passes (nil) or refuses (an error).
	Check(ctx context.Context, c Check) error
}

// GateFunc adapts a function to a Gate.
type GateFunc struct {
	// GateName is what Name returns.
	GateName string
	// Func is called for every check.
	Func func(ctx context.Context, c Check) error
	// Phases, when not empty, limits the phases Func is called for.
	Phases []Phase
}

// Name returns GateName.
func (g GateFunc) Name() string { return g.GateName }

// Check calls Func when c.Phase is one of Phases (or Phases is empty).
func (g GateFunc) Check(ctx context.Context, c Check) error {
	if len(g.Phases) > 0 {
		found := false
		for _, p := range g.Phases {
			found = found || p == c.Phase
		}
		if !found {
			return nil
		}
	}
	return g.Func(ctx, c)
}
