package deploy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchyard/switchyard/deploy"
)

func shifts(s deploy.Strategy) []float64 {
	var out []float64
	for _, st := range s.Normalized() {
		if st.Kind == deploy.StepShift {
			out = append(out, st.Percent)
		}
	}
	return out
}

func TestParseStrategy(t *testing.T) {
	cases := []struct {
		in     string
		shifts []float64
		bake   time.Duration
		min    *deploy.MinHealthyHosts
	}{
		{"", []float64{100}, 0, nil},
		{"all-at-once", []float64{100}, 0, nil},
		{"canary:10:5m", []float64{10, 100}, 5 * time.Minute, nil},
		{"canary:25%:1h", []float64{25, 100}, time.Hour, nil},
		{"linear:10:1m", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 9 * time.Minute, nil},
		{"linear:30:2m", []float64{30, 60, 90, 100}, 6 * time.Minute, nil},
		{"steps:5,10m,50,approve,100", []float64{5, 50, 100}, 10 * time.Minute, nil},
		{"CodeDeployDefault.LambdaAllAtOnce", []float64{100}, 0, nil},
		{"CodeDeployDefault.LambdaCanary10Percent5Minutes", []float64{10, 100}, 5 * time.Minute, nil},
		{"CodeDeployDefault.LambdaCanary10Percent10Minutes", []float64{10, 100}, 10 * time.Minute, nil},
		{"CodeDeployDefault.LambdaCanary10Percent15Minutes", []float64{10, 100}, 15 * time.Minute, nil},
		{"CodeDeployDefault.LambdaCanary10Percent30Minutes", []float64{10, 100}, 30 * time.Minute, nil},
		{"CodeDeployDefault.LambdaLinear10PercentEvery1Minute", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 9 * time.Minute, nil},
		{"CodeDeployDefault.LambdaLinear10PercentEvery2Minutes", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 18 * time.Minute, nil},
		{"CodeDeployDefault.LambdaLinear10PercentEvery3Minutes", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 27 * time.Minute, nil},
		{"CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 90 * time.Minute, nil},
		{"CodeDeployDefault.ECSAllAtOnce", []float64{100}, 0, nil},
		{"CodeDeployDefault.ECSCanary10Percent5Minutes", []float64{10, 100}, 5 * time.Minute, nil},
		{"CodeDeployDefault.ECSCanary10Percent15Minutes", []float64{10, 100}, 15 * time.Minute, nil},
		{"CodeDeployDefault.ECSLinear10PercentEvery1Minutes", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 9 * time.Minute, nil},
		{"CodeDeployDefault.ECSLinear10PercentEvery3Minutes", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 27 * time.Minute, nil},
		{"CodeDeployDefault.AllAtOnce", []float64{100}, 0, &deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 0}},
		{"CodeDeployDefault.HalfAtATime", []float64{100}, 0, &deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 50}},
		{"CodeDeployDefault.OneAtATime", []float64{100}, 0, &deploy.MinHealthyHosts{Type: deploy.MostConcurrency, Value: 1}},
		{"all-at-once;min-healthy=HOST_COUNT:2", []float64{100}, 0, &deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 2}},
		{"all-at-once;min-healthy=fleet_percent:75", []float64{100}, 0, &deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 75}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			s, err := deploy.ParseStrategy(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.shifts, shifts(s))
			assert.Equal(t, tc.bake, s.TotalBake())
			assert.Equal(t, tc.min, s.MinHealthy)
			again, err := deploy.ParseStrategy(s.String())
			require.NoError(t, err, "round trip of %q", s.String())
			assert.Equal(t, s.Normalized(), again.Normalized())
		})
	}
}

func TestEveryCodeDeployNameParses(t *testing.T) {
	for _, n := range deploy.CodeDeployConfigNames() {
		s, err := deploy.ParseStrategy(n)
		require.NoError(t, err, n)
		assert.Equal(t, n, s.Name)
		platform := "Server"
		switch {
		case strings.Contains(n, ".Lambda"):
			platform = "Lambda"
		case strings.Contains(n, ".ECS"):
			platform = "ECS"
		}
		back, ok := s.CodeDeployConfigName(platform)
		assert.True(t, ok, n)
		assert.Equal(t, n, back)
	}
	_, ok := deploy.Canary(20, time.Minute).CodeDeployConfigName("Lambda")
	assert.False(t, ok, "no predefined config for a 20%% canary")
}

func TestParseStrategyErrors(t *testing.T) {
	cases := map[string]string{
		"CodeDeployDefault.LambdaCanary7Percent3Minutes": "unknown CodeDeploy",
		"CodeDeployDefault.Bogus":                        "unknown CodeDeploy",
		"canary:0:5m":                                    "between 1 and 100",
		"canary:101:5m":                                  "between 1 and 100",
		"linear:-5:1m":                                   "between 1 and 100",
		"canary:10:-5m":                                  "negative",
		"canary:10":                                      "PERCENT:DURATION",
		"canary:ten:5m":                                  "not a number",
		"canary:10:soon":                                 "duration",
		"steps:10,50":                                    "never reach 100",
		"steps:50,10,100":                                "greater than the previous",
		"steps:100,5m,100":                               "no shift may follow",
		"steps:":                                         "not a number",
		"blue-green":                                     "want all-at-once",
		"all-at-once;min-healthy=FLEET_PERCENT:100": "can never be met",
		"all-at-once;min-healthy=HOST_COUNT:-1":     "negative",
		"all-at-once;min-healthy=PODS:1":            "HOST_COUNT",
		"all-at-once;surge=2":                       "min-healthy",
		"canary:NaN:5m":                             "not a number",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			_, err := deploy.ParseStrategy(in)
			require.Error(t, err)
			assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
			var ve *deploy.ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Contains(t, err.Error(), want)
		})
	}
}

func TestStrategyShape(t *testing.T) {
	assert.Equal(t, deploy.Shape{Kind: "all-at-once"}, deploy.Strategy{}.Shape())
	assert.Equal(t, deploy.Shape{Kind: "canary", Percent: 10, Interval: 5 * time.Minute}, deploy.Canary(10, 5*time.Minute).Shape())
	assert.Equal(t, deploy.Shape{Kind: "linear", Percent: 10, Interval: time.Minute}, deploy.Linear(10, time.Minute).Shape())
	assert.Equal(t, "custom", deploy.Custom(deploy.ShiftTo(10), deploy.Approval(), deploy.ShiftTo(100)).Shape().Kind)
	assert.Equal(t, "canary:10:5m", deploy.Canary(10, 5*time.Minute).String())
	assert.Equal(t, "linear:10:1h30m", deploy.Linear(10, 90*time.Minute).String())
	assert.Equal(t, "steps:10,approve,100", deploy.Custom(deploy.ShiftTo(10), deploy.Approval(), deploy.ShiftTo(100)).String())
}

func TestStrategyText(t *testing.T) {
	var s deploy.Strategy
	require.NoError(t, s.UnmarshalText([]byte("canary:10:5m")))
	b, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "canary:10:5m", string(b))
	assert.ErrorIs(t, s.UnmarshalText([]byte("canary:0:5m")), deploy.ErrInvalidRequest)
}

func TestMinHealthyHostsPlan(t *testing.T) {
	cases := []struct {
		m       deploy.MinHealthyHosts
		n       int
		batches []int
		healthy int
		must    int
		err     bool
	}{
		{deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 6}, 9, []int{3, 3, 3}, 6, 6, false},
		{deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 40}, 9, []int{5, 4}, 4, 4, false},
		{deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 50}, 5, []int{2, 2, 1}, 3, 3, false},
		{deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 0}, 4, []int{4}, 0, 1, false},
		{deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 0}, 4, []int{4}, 0, 1, false},
		{deploy.MinHealthyHosts{Type: deploy.MostConcurrency, Value: 1}, 3, []int{1, 1, 1}, 2, 2, false},
		{deploy.MinHealthyHosts{Type: deploy.MostConcurrency, Value: 1}, 1, []int{1}, 0, 1, false},
		{deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 3}, 3, nil, 0, 0, true},
		{deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 99}, 10, nil, 0, 0, true},
		{deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 50}, 1, nil, 0, 0, true},
		{deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 1}, 0, nil, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.m.String(), func(t *testing.T) {
			p, err := tc.m.Plan(tc.n)
			if tc.err {
				assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.batches, p.Batches)
			assert.Equal(t, tc.healthy, p.MinHealthy)
			assert.Equal(t, tc.must, p.MustSucceed)
			sum := 0
			for _, b := range p.Batches {
				sum += b
			}
			assert.Equal(t, tc.n, sum)
		})
	}
}

func TestRollbackOnEvents(t *testing.T) {
	r, err := deploy.ParseRollbackOn("DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM")
	require.NoError(t, err)
	assert.True(t, r.Has(deploy.OnFailure))
	assert.True(t, r.Has(deploy.OnAlarm))
	assert.False(t, r.Has(deploy.OnStopRequest))
	assert.Equal(t, "DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_ALARM", r.String())
	_, err = deploy.ParseRollbackOn("DEPLOYMENT_SOMETIMES")
	assert.ErrorIs(t, err, deploy.ErrInvalidRequest)
}

func TestLastKnownGood(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := []deploy.HistoryEntry{
		{Revision: deploy.Revision{ID: "4"}, Status: deploy.StatusSucceeded, At: t0.Add(4 * time.Hour), Current: true},
		{Revision: deploy.Revision{ID: "3"}, Status: deploy.StatusFailed, At: t0.Add(3 * time.Hour)},
		{Revision: deploy.Revision{ID: "2"}, Status: deploy.StatusRolledBack, At: t0.Add(2 * time.Hour)},
		{Revision: deploy.Revision{ID: "1"}, Status: deploy.StatusSucceeded, At: t0.Add(time.Hour)},
	}
	good, ok := deploy.LastKnownGood(h)
	require.True(t, ok)
	assert.Equal(t, "1", good.Revision.ID)
	_, ok = deploy.LastKnownGood(h[:3])
	assert.False(t, ok)
}

func TestStatusTerminal(t *testing.T) {
	for _, s := range deploy.Statuses() {
		assert.True(t, s.Valid())
		want := s == deploy.StatusSucceeded || s == deploy.StatusFailed || s == deploy.StatusStopped || s == deploy.StatusRolledBack
		assert.Equal(t, want, s.Terminal(), s)
	}
	assert.False(t, deploy.Status("Bogus").Valid())
}

func FuzzParseStrategy(f *testing.F) {
	for _, n := range deploy.CodeDeployConfigNames() {
		f.Add(n)
	}
	for _, s := range []string{"", "all-at-once", "canary:10:5m", "linear:10:1m", "steps:5,1m,approve,100",
		"canary:99.5:1ns", "linear:33.3:1h", "all-at-once;min-healthy=HOST_COUNT:2", "steps:100", "canary:1e2:1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := deploy.ParseStrategy(in)
		if err != nil {
			if !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("ParseStrategy(%q) error %v does not wrap ErrInvalidRequest", in, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseStrategy(%q) returned an invalid strategy: %v", in, err)
		}
		last := shifts(s)
		if len(last) == 0 || last[len(last)-1] != 100 {
			t.Fatalf("ParseStrategy(%q) does not end at 100: %v", in, last)
		}
		again, err := deploy.ParseStrategy(s.String())
		if err != nil {
			t.Fatalf("round trip of %q via %q: %v", in, s.String(), err)
		}
		if !equal(s.Normalized(), again.Normalized()) {
			t.Fatalf("round trip of %q changed steps: %v vs %v", in, s.Normalized(), again.Normalized())
		}
	})
}

func equal(a, b []deploy.Step) bool {
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
