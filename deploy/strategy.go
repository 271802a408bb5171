package deploy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// StepKind says what a strategy step does.
type StepKind string

// The kinds of strategy step.
const (
	// StepShift moves traffic (or the share of the fleet) to Percent.
	StepShift StepKind = "shift"
	// StepBake holds the current traffic split for Duration while gates are
	// watched.
	StepBake StepKind = "bake"
	// StepApprove holds the deployment in StatusReady until Engine.Approve is
	// called (or the platform's own continue, for platform-driven strategies).
	StepApprove StepKind = "approve"
)

// Step is one step of a Strategy.
type Step struct {
	// Kind is what the step does.
	Kind StepKind `json:"kind"`
	// Percent is the share of traffic on the new revision after a StepShift,
	// in 1..100.
	Percent float64 `json:"percent,omitempty"`
	// Duration is how long a StepBake lasts. Zero means no wait.
	Duration time.Duration `json:"duration,omitempty"`
}

// ShiftTo returns a step that moves percent of traffic to the new revision.
func ShiftTo(percent float64) Step { return Step{Kind: StepShift, Percent: percent} }

// BakeFor returns a step that waits d with gates watched.
func BakeFor(d time.Duration) Step { return Step{Kind: StepBake, Duration: d} }

// Approval returns a step that waits for approval.
func Approval() Step { return Step{Kind: StepApprove} }

// String renders the step in the short form's token syntax: "10", "5m", "approve".
func (s Step) String() string {
	switch s.Kind {
	case StepShift:
		return strconv.FormatFloat(s.Percent, 'f', -1, 64)
	case StepBake:
		return formatDuration(s.Duration)
	case StepApprove:
		return "approve"
	}
	return "?" + string(s.Kind)
}

// Strategy says how a deployment moves traffic or instances to the new
// revision: a list of steps that must end with a shift to 100 percent, and
// for in-place fleets the minimum number of healthy hosts.
//
// The zero Strategy means AllAtOnce.
type Strategy struct {
	// Name is the name the strategy was built or parsed from, such as
	// "canary:10:5m" or "CodeDeployDefault.LambdaCanary10Percent5Minutes". It is
	// informational; Steps and MinHealthy are what the engine follows.
	Name string `json:"name,omitempty"`
	// Steps in order. Empty means a single shift to 100.
	Steps []Step `json:"steps,omitempty"`
	// MinHealthy, when set, is the minimum healthy hosts rule for in-place
	// fleet deployments (EC2/on-premises).
	MinHealthy *MinHealthyHosts `json:"minHealthy,omitempty"`
}

// AllAtOnce moves all traffic at once.
func AllAtOnce() Strategy {
	return Strategy{Name: "all-at-once", Steps: []Step{ShiftTo(100)}}
}

// Canary moves percent of traffic, bakes for bake, then moves the rest.
func Canary(percent float64, bake time.Duration) Strategy {
	return Strategy{
		Name:  fmt.Sprintf("canary:%s:%s", formatPercent(percent), formatDuration(bake)),
		Steps: []Step{ShiftTo(percent), BakeFor(bake), ShiftTo(100)},
	}
}

// Linear moves traffic in increments of percent with interval between them:
// percent, 2*percent, ... and finally 100. Linear(10, time.Minute) makes ten
// shifts with nine waits.
func Linear(percent float64, interval time.Duration) Strategy {
	s := Strategy{Name: fmt.Sprintf("linear:%s:%s", formatPercent(percent), formatDuration(interval))}
	if !(percent >= 1 && percent <= 100) {
		// Keep the bad value so Validate reports it.
		s.Steps = []Step{ShiftTo(percent), BakeFor(interval), ShiftTo(100)}
		return s
	}
	for i := 1; ; i++ {
		p := roundPercent(percent * float64(i))
		if p >= 100 {
			s.Steps = append(s.Steps, ShiftTo(100))
			return s
		}
		s.Steps = append(s.Steps, ShiftTo(p), BakeFor(interval))
	}
}

// Custom builds a strategy from explicit steps. Validate it before use (the
// engine does).
func Custom(steps ...Step) Strategy {
	parts := make([]string, len(steps))
	for i, st := range steps {
		parts[i] = st.String()
	}
	return Strategy{Name: "steps:" + strings.Join(parts, ","), Steps: append([]Step(nil), steps...)}
}

// WithMinHealthy returns a copy of s that keeps at least m hosts healthy.
func (s Strategy) WithMinHealthy(m MinHealthyHosts) Strategy {
	s.MinHealthy = &m
	return s
}

// Normalized returns the steps the engine runs: the steps of s, or a single
// shift to 100 for the zero Strategy.
func (s Strategy) Normalized() []Step {
	if len(s.Steps) == 0 {
		return []Step{ShiftTo(100)}
	}
	return s.Steps
}

// Validate checks that every shift is within 1..100 and strictly above the
// previous one, the last shift reaches 100, no shift follows it, bakes are
// not negative, and MinHealthy (if set) is well formed. It returns a
// *ValidationError wrapping ErrInvalidRequest.
func (s Strategy) Validate() error {
	last := 0.0
	for i, st := range s.Normalized() {
		field := fmt.Sprintf("strategy.steps[%d]", i)
		switch st.Kind {
		case StepShift:
			if math.IsNaN(st.Percent) || st.Percent < 1 || st.Percent > 100 {
				return Invalid(field+".percent", formatPercent(st.Percent), "must be between 1 and 100")
			}
			if last >= 100 {
				return Invalid(field, st.String(), "no shift may follow the shift to 100")
			}
			if st.Percent <= last {
				return Invalid(field+".percent", formatPercent(st.Percent),
					fmt.Sprintf("must be greater than the previous shift (%s)", formatPercent(last)))
			}
			last = st.Percent
		case StepBake:
			if st.Duration < 0 {
				return Invalid(field+".duration", st.Duration.String(), "bake must not be negative")
			}
		case StepApprove:
		default:
			return Invalid(field+".kind", string(st.Kind), "unknown step kind")
		}
	}
	if last != 100 {
		return Invalid("strategy.steps", s.String(), "steps never reach 100 percent")
	}
	if s.MinHealthy != nil {
		if err := s.MinHealthy.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// TotalBake is the sum of every bake step.
func (s Strategy) TotalBake() time.Duration {
	var d time.Duration
	for _, st := range s.Steps {
		if st.Kind == StepBake {
			d += st.Duration
		}
	}
	return d
}

// Shape describes a strategy as a canary or linear rollout when it is one,
// which is how platforms with native strategies (ECS, CodeDeploy) take it.
type Shape struct {
	// Kind is "all-at-once", "canary", "linear" or "custom".
	Kind string
	// Percent is the canary percentage or the linear increment.
	Percent float64
	// Interval is the canary bake or the linear interval.
	Interval time.Duration
}

// Shape classifies s. Strategies with approval steps or uneven increments
// are "custom".
func (s Strategy) Shape() Shape {
	steps := s.Normalized()
	if len(steps) == 1 && steps[0].Kind == StepShift && steps[0].Percent == 100 {
		return Shape{Kind: "all-at-once"}
	}
	if len(steps) == 3 && steps[0].Kind == StepShift && steps[1].Kind == StepBake &&
		steps[2].Kind == StepShift && steps[2].Percent == 100 {
		c := Shape{Kind: "canary", Percent: steps[0].Percent, Interval: steps[1].Duration}
		if l := Linear(c.Percent, c.Interval); !equalSteps(l.Steps, steps) {
			return c
		}
	}
	if len(steps) >= 3 && steps[0].Kind == StepShift && steps[1].Kind == StepBake {
		l := Linear(steps[0].Percent, steps[1].Duration)
		if equalSteps(l.Steps, steps) {
			return Shape{Kind: "linear", Percent: steps[0].Percent, Interval: steps[1].Duration}
		}
	}
	return Shape{Kind: "custom"}
}

func equalSteps(a, b []Step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String returns the short form of s, which ParseStrategy reads back:
// "all-at-once", "canary:10:5m", "linear:10:1m" or "steps:10,5m,approve,100",
// followed by ";min-healthy=HOST_COUNT:2" when MinHealthy is set.
func (s Strategy) String() string {
	var out string
	switch sh := s.Shape(); sh.Kind {
	case "all-at-once":
		out = "all-at-once"
	case "canary", "linear":
		out = fmt.Sprintf("%s:%s:%s", sh.Kind, formatPercent(sh.Percent), formatDuration(sh.Interval))
	default:
		parts := make([]string, len(s.Steps))
		for i, st := range s.Steps {
			parts[i] = st.String()
		}
		out = "steps:" + strings.Join(parts, ",")
	}
	if s.MinHealthy != nil {
		out += ";min-healthy=" + s.MinHealthy.String()
	}
	return out
}

// MarshalText encodes s in its short form.
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a short form or CodeDeploy name with ParseStrategy.
func (s *Strategy) UnmarshalText(b []byte) error {
	v, err := ParseStrategy(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

func formatPercent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// roundPercent removes float noise from multiples such as 3*0.1.
func roundPercent(p float64) float64 { return math.Round(p*1e6) / 1e6 }

// formatDuration renders d compactly: 5m, 1h30m, 90s, 1.5s.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
