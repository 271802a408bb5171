package deploy

import (
	"testing"
	"time"
)

// A platform that reports only its percentage still gets the right step.
func TestProgressInfersTheStepFromPercent(t *testing.T) {
	s := Custom(ShiftTo(10), BakeFor(10*time.Minute), ShiftTo(50), BakeFor(5*time.Minute), ShiftTo(100))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		status   Status
		percent  float64
		step     int
		left     time.Duration
		instance []Instance
	}{
		{StatusInProgress, 0, 0, 15 * time.Minute, nil},
		{StatusInProgress, 10, 0, 15 * time.Minute, nil},
		{StatusBaking, 10, 1, 9*time.Minute + 5*time.Minute, nil}, // a minute into the first bake
		{StatusInProgress, 50, 2, 5 * time.Minute, nil},
		{StatusBaking, 50, 3, 4 * time.Minute, nil},
		{StatusSucceeded, 100, 4, 0, []Instance{{Status: StatusSucceeded}, {Status: StatusFailed}, {Status: StatusInProgress}}},
	} {
		d := &Deployment{Strategy: s, Status: tt.status, Percent: tt.percent, UpdatedAt: t0, Instances: tt.instance}
		var ev Event
		progress(&ev, d, time.Time{}, t0.Add(time.Minute))
		if ev.Steps != 5 || ev.Step != tt.step || ev.Remaining != tt.left {
			t.Errorf("%s at %v%%: step %d of %d, %v left; want step %d, %v", tt.status, tt.percent, ev.Step, ev.Steps, ev.Remaining, tt.step, tt.left)
		}
		if tt.instance != nil && (ev.Instances == nil || *ev.Instances != (InstanceCounts{Done: 1, Failed: 1, Total: 3})) {
			t.Errorf("instances %+v", ev.Instances)
		}
	}
}
