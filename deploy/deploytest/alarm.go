package deploytest

import (
	"context"
	"fmt"
	"sync"

	"github.com/switchyard/switchyard/deploy"
)

// Alarm is a deploy.Gate that stands in for a CloudWatch alarm. It is in
// the OK state until Fire is called, or until a check sees at least the
// traffic percentage given to FireAt. In the ALARM state every check fails
// with an error wrapping deploy.ErrAlarm. It is safe for concurrent use.
type Alarm struct {
	name string

	mu     sync.Mutex
	firing bool
	at     float64
	checks []deploy.Check
}

// NewAlarm returns an alarm gate in the OK state.
func NewAlarm(name string) *Alarm { return &Alarm{name: name} }

// Name returns the alarm's name.
func (a *Alarm) Name() string { return a.name }

// Fire puts the alarm in the ALARM state.
func (a *Alarm) Fire() {
	a.mu.Lock()
	a.firing = true
	a.mu.Unlock()
}

// Clear puts the alarm back in the OK state and forgets FireAt.
func (a *Alarm) Clear() {
	a.mu.Lock()
	a.firing, a.at = false, 0
	a.mu.Unlock()
}

// FireAt makes the alarm fire at the first check that sees percent or more
// of traffic on the new revision.
func (a *Alarm) FireAt(percent float64) {
	a.mu.Lock()
	a.at = percent
	a.mu.Unlock()
}

// Checks returns every check made so far.
func (a *Alarm) Checks() []deploy.Check {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]deploy.Check(nil), a.checks...)
}

// Check fails with an error wrapping deploy.ErrAlarm while the alarm fires.
func (a *Alarm) Check(_ context.Context, c deploy.Check) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checks = append(a.checks, c)
	if a.at > 0 && c.Percent >= a.at {
		a.firing = true
	}
	if a.firing {
		return fmt.Errorf("%w: %s is in ALARM at %v%% traffic", deploy.ErrAlarm, a.name, c.Percent)
	}
	return nil
}
