package platform

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/motoserver"
)

// fakeCloudWatch serves DescribeAlarms from a list of alarms, pageSize per
// page, and records every input it was given.
type fakeCloudWatch struct {
	mu        sync.Mutex
	metric    []cwtypes.MetricAlarm
	composite []cwtypes.CompositeAlarm
	pageSize  int
	err       error
	calls     []cloudwatch.DescribeAlarmsInput
}

func (f *fakeCloudWatch) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, *in)
	if f.err != nil {
		return nil, f.err
	}
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, &smithy.GenericAPIError{Code: "InvalidParameterCombination", Message: "names and prefix"}
	}
	if len(in.AlarmNames) > 100 {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "too many names"}
	}
	match := func(name string) bool {
		if len(in.AlarmNames) > 0 {
			for _, n := range in.AlarmNames {
				if n == name {
					return true
				}
			}
			return false
		}
		return in.AlarmNamePrefix == nil || strings.HasPrefix(name, *in.AlarmNamePrefix)
	}
	wantType := func(t cwtypes.AlarmType) bool {
		if len(in.AlarmTypes) == 0 {
			return t == cwtypes.AlarmTypeMetricAlarm
		}
		for _, x := range in.AlarmTypes {
			if x == t {
				return true
			}
		}
		return false
	}
	// One flat list of hits, paged by index.
	type hit struct {
		m *cwtypes.MetricAlarm
		c *cwtypes.CompositeAlarm
	}
	var hits []hit
	if wantType(cwtypes.AlarmTypeMetricAlarm) {
		for i := range f.metric {
			if match(aws.ToString(f.metric[i].AlarmName)) {
				hits = append(hits, hit{m: &f.metric[i]})
			}
		}
	}
	if wantType(cwtypes.AlarmTypeCompositeAlarm) {
		for i := range f.composite {
			if match(aws.ToString(f.composite[i].AlarmName)) {
				hits = append(hits, hit{c: &f.composite[i]})
			}
		}
	}
	start := 0
	if in.NextToken != nil {
		for start < len(hits) && pageToken(start) != *in.NextToken {
			start++
		}
	}
	size := f.pageSize
	if size <= 0 {
		size = len(hits) + 1
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	end := min(start+size, len(hits))
	for _, h := range hits[start:end] {
		if h.m != nil {
			out.MetricAlarms = append(out.MetricAlarms, *h.m)
		} else {
			out.CompositeAlarms = append(out.CompositeAlarms, *h.c)
		}
	}
	if end < len(hits) {
		out.NextToken = aws.String(pageToken(end))
	}
	return out, nil
}

func pageToken(i int) string { return "page-" + string(rune('a'+i)) }

func metric(name string, state cwtypes.StateValue, reason string) cwtypes.MetricAlarm {
	return cwtypes.MetricAlarm{AlarmName: aws.String(name), StateValue: state, StateReason: aws.String(reason)}
}

func TestNewAlarmGateValidates(t *testing.T) {
	fake := &fakeCloudWatch{}
	tests := []struct {
		name  string
		api   CloudWatchAPI
		opts  AlarmGateOptions
		field string
	}{
		{"nil client", nil, AlarmGateOptions{Names: []string{"a"}}, "cloudwatch client"},
		{"nothing to watch", fake, AlarmGateOptions{}, "alarms"},
		{"empty name", fake, AlarmGateOptions{Names: []string{"a", " "}}, "alarms.names[1]"},
		{"empty prefix", fake, AlarmGateOptions{Prefixes: []string{""}}, "alarms.prefixes[0]"},
		{"long name", fake, AlarmGateOptions{Names: []string{strings.Repeat("x", 256)}}, "alarms.names[0]"},
		{"bad insufficient policy", fake, AlarmGateOptions{Names: []string{"a"}, InsufficientData: 7}, "alarms.insufficientData"},
		{"bad missing policy", fake, AlarmGateOptions{Names: []string{"a"}, Missing: -1}, "alarms.missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewAlarmGate(tt.api, tt.opts)
			if g != nil || !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("NewAlarmGate = %v, %v; want ErrInvalidRequest", g, err)
			}
			var ve *deploy.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("error %v: want field %q", err, tt.field)
			}
		})
	}
	if len(fake.calls) != 0 {
		t.Fatalf("validation made %d AWS calls", len(fake.calls))
	}
}

func TestAlarmGateCheck(t *testing.T) {
	alarms := []cwtypes.MetricAlarm{
		metric("api-errors", cwtypes.StateValueOk, "fine"),
		metric("api-latency", cwtypes.StateValueAlarm, "Threshold Crossed: 3 datapoints > 1.0"),
		metric("fn-errors-v7", cwtypes.StateValueInsufficientData, "no data yet"),
		metric("fn-throttles", cwtypes.StateValueOk, ""),
		metric("db-cpu", cwtypes.StateValueAlarm, "cpu high"),
	}
	composite := []cwtypes.CompositeAlarm{
		{AlarmName: aws.String("svc-health"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("child in alarm")},
	}
	tests := []struct {
		name      string
		opts      AlarmGateOptions
		pageSize  int
		wantErr   error // nil: pass
		wantAlarm []string
		notAlarm  bool // refused, but without ErrAlarm
	}{
		{name: "ok alarm passes", opts: AlarmGateOptions{Names: []string{"api-errors"}}},
		{name: "alarm refuses", opts: AlarmGateOptions{Names: []string{"api-errors", "api-latency"}},
			wantErr: deploy.ErrAlarm, wantAlarm: []string{"api-latency"}},
		{name: "insufficient data passes by default", opts: AlarmGateOptions{Names: []string{"fn-errors-v7"}}},
		{name: "insufficient data fails when configured",
			opts:      AlarmGateOptions{Names: []string{"fn-errors-v7"}, InsufficientData: InsufficientDataFail},
			wantAlarm: []string{"fn-errors-v7"}, notAlarm: true},
		{name: "insufficient data and alarm",
			opts:    AlarmGateOptions{Names: []string{"fn-errors-v7", "db-cpu"}, InsufficientData: InsufficientDataFail},
			wantErr: deploy.ErrAlarm, wantAlarm: []string{"db-cpu", "fn-errors-v7"}},
		{name: "missing named alarm is not found", opts: AlarmGateOptions{Names: []string{"api-errors", "nope"}},
			wantErr: deploy.ErrNotFound},
		{name: "missing named alarm ignored", opts: AlarmGateOptions{Names: []string{"api-errors", "nope"}, Missing: MissingAlarmIgnore}},
		{name: "prefix matching nothing is not found", opts: AlarmGateOptions{Prefixes: []string{"zzz"}},
			wantErr: deploy.ErrNotFound},
		{name: "prefix matching nothing ignored", opts: AlarmGateOptions{Prefixes: []string{"zzz"}, Missing: MissingAlarmIgnore}},
		{name: "prefix passes", opts: AlarmGateOptions{Prefixes: []string{"fn-"}}},
		{name: "prefix refuses, paginated", opts: AlarmGateOptions{Prefixes: []string{"api-", "db-"}}, pageSize: 1,
			wantErr: deploy.ErrAlarm, wantAlarm: []string{"api-latency", "db-cpu"}},
		{name: "composite alarm refuses", opts: AlarmGateOptions{Names: []string{"svc-health", "api-errors"}},
			wantErr: deploy.ErrAlarm, wantAlarm: []string{"svc-health"}},
		{name: "names and prefixes together", opts: AlarmGateOptions{Names: []string{"db-cpu"}, Prefixes: []string{"fn-"}}, pageSize: 1,
			wantErr: deploy.ErrAlarm, wantAlarm: []string{"db-cpu"}},
	}
	phases := []deploy.Phase{deploy.PhaseBeforeTraffic, deploy.PhaseShift, deploy.PhaseBake, deploy.PhaseAfterTraffic, deploy.PhaseWatch}
	for _, mode := range gateModes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				fake := &fakeCloudWatch{metric: alarms, composite: composite, pageSize: tt.pageSize}
				opts := tt.opts
				opts.Batcher = mode.batcher(t, fake)
				g, err := NewAlarmGate(fake, opts)
				if err != nil {
					t.Fatal(err)
				}
				for _, ph := range phases {
					err := g.Check(context.Background(), deploy.Check{Phase: ph, Percent: 10})
					refused := tt.wantErr != nil || len(tt.wantAlarm) > 0
					if !refused {
						if err != nil {
							t.Fatalf("%s: Check = %v, want pass", ph, err)
						}
						continue
					}
					if err == nil {
						t.Fatalf("%s: Check passed, want refusal", ph)
					}
					if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
						t.Fatalf("%s: Check = %v, want %v", ph, err, tt.wantErr)
					}
					if tt.notAlarm && errors.Is(err, deploy.ErrAlarm) {
						t.Fatalf("%s: Check = %v wraps ErrAlarm, want plain failure", ph, err)
					}
					if len(tt.wantAlarm) > 0 {
						var ae *AlarmError
						if !errors.As(err, &ae) {
							t.Fatalf("%s: Check = %T %v, want *AlarmError", ph, err, err)
						}
						var names []string
						for _, a := range ae.Alarms {
							names = append(names, a.Name)
							if !strings.Contains(err.Error(), a.Name) || (a.Reason != "" && !strings.Contains(err.Error(), a.Reason)) {
								t.Fatalf("error text %q does not name %s and its reason", err, a.Name)
							}
						}
						if strings.Join(names, ",") != strings.Join(tt.wantAlarm, ",") {
							t.Fatalf("%s: alarms %v, want %v", ph, names, tt.wantAlarm)
						}
					}
				}
				for _, c := range fake.calls {
					if len(c.AlarmTypes) != 2 {
						t.Fatalf("DescribeAlarms without both alarm types: %+v", c.AlarmTypes)
					}
				}
			})
		}
	}
}

func TestAlarmGateChunksNames(t *testing.T) {
	for _, mode := range gateModes {
		t.Run(mode.name, func(t *testing.T) { testAlarmGateChunksNames(t, mode) })
	}
}

func testAlarmGateChunksNames(t *testing.T, mode gateMode) {
	fake := &fakeCloudWatch{pageSize: 30}
	var names []string
	for i := 0; i < 250; i++ {
		n := "alarm-" + strings.Repeat("x", i%5) + string(rune('A'+i%26)) + string(rune('a'+i/26))
		names = append(names, n)
		fake.metric = append(fake.metric, metric(n, cwtypes.StateValueOk, ""))
	}
	fake.metric[237].StateValue = cwtypes.StateValueAlarm
	g, err := NewAlarmGate(fake, AlarmGateOptions{Names: names, Batcher: mode.batcher(t, fake)})
	if err != nil {
		t.Fatal(err)
	}
	states, err := g.Alarms(context.Background())
	if err != nil {
		t.Fatalf("Alarms: %v", err)
	}
	if len(states) != 250 || !sort.SliceIsSorted(states, func(i, j int) bool { return states[i].Name < states[j].Name }) {
		t.Fatalf("got %d alarms (sorted: %v), want 250 sorted", len(states), sort.SliceIsSorted(states, func(i, j int) bool { return states[i].Name < states[j].Name }))
	}
	for _, c := range fake.calls {
		if len(c.AlarmNames) > 100 {
			t.Fatalf("DescribeAlarms with %d names", len(c.AlarmNames))
		}
	}
	if err := g.Check(context.Background(), deploy.Check{Phase: deploy.PhaseWatch}); !errors.Is(err, deploy.ErrAlarm) {
		t.Fatalf("Check = %v, want ErrAlarm", err)
	}
}

func TestAlarmGateAPIError(t *testing.T) {
	for _, mode := range gateModes {
		t.Run(mode.name, func(t *testing.T) { testAlarmGateAPIError(t, mode) })
	}
}

func testAlarmGateAPIError(t *testing.T, mode gateMode) {
	fake := &fakeCloudWatch{err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}}
	g, err := NewAlarmGate(fake, AlarmGateOptions{Name: "my-gate", Names: []string{"a"}, Batcher: mode.batcher(t, fake)})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name() != "my-gate" {
		t.Fatalf("Name = %q", g.Name())
	}
	err = g.Check(context.Background(), deploy.Check{Phase: deploy.PhaseShift})
	var de *deploy.Error
	var api smithy.APIError
	if !errors.As(err, &de) || de.Op != "DescribeAlarms" || !errors.As(err, &api) || Classify(err) != ClassAccessDenied {
		t.Fatalf("Check = %v, want a *deploy.Error wrapping the API error", err)
	}
	if errors.Is(err, deploy.ErrAlarm) {
		t.Fatalf("an API failure must not count as an alarm: %v", err)
	}
}

func TestAlarmGateDefaultName(t *testing.T) {
	g, err := NewAlarmGate(&fakeCloudWatch{}, AlarmGateOptions{Names: []string{"a", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name() != DefaultAlarmGateName {
		t.Fatalf("Name = %q", g.Name())
	}
}

func TestLambdaVersionDimensions(t *testing.T) {
	dims, err := LambdaVersionDimensions("checkout", "live", "7")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range dims {
		got[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	want := map[string]string{"FunctionName": "checkout", "Resource": "checkout:live", "ExecutedVersion": "7"}
	if len(got) != 3 || got["FunctionName"] != want["FunctionName"] || got["Resource"] != want["Resource"] || got["ExecutedVersion"] != want["ExecutedVersion"] {
		t.Fatalf("dimensions %v, want %v", got, want)
	}
	for _, bad := range [][3]string{{"", "a", "1"}, {"f", "", "1"}, {"f", "a", ""}, {"f", "a", "$LATEST"}} {
		if _, err := LambdaVersionDimensions(bad[0], bad[1], bad[2]); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Fatalf("LambdaVersionDimensions%v = %v, want ErrInvalidRequest", bad, err)
		}
	}
}

// TestAlarmGateMoto runs the gate with the real CloudWatch client against
// moto_server: an alarm on the per-version Lambda dimensions goes from
// INSUFFICIENT_DATA to ALARM to OK.
func TestAlarmGateMoto(t *testing.T) {
	s := motoserver.Start(t)
	cw := s.CloudWatch()
	for _, mode := range gateModes {
		t.Run(mode.name, func(t *testing.T) { testAlarmGateMoto(t, cw, mode) })
	}
}

func testAlarmGateMoto(t *testing.T, cw *cloudwatch.Client, mode gateMode) {
	ctx := context.Background()
	dims, err := LambdaVersionDimensions("checkout", "live", "7")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"checkout-v7-errors", "checkout-v7-throttles"} {
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(name), Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
			Dimensions: dims, Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		}); err != nil {
			t.Fatalf("PutMetricAlarm: %v", err)
		}
	}
	set := func(name string, v cwtypes.StateValue, reason string) {
		t.Helper()
		if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: aws.String(name), StateValue: v, StateReason: aws.String(reason),
		}); err != nil {
			t.Fatalf("SetAlarmState: %v", err)
		}
	}
	byName, err := NewAlarmGate(cw, AlarmGateOptions{Names: []string{"checkout-v7-errors"}, InsufficientData: InsufficientDataFail,
		Batcher: mode.batcher(t, cw)})
	if err != nil {
		t.Fatal(err)
	}
	byPrefix, err := NewAlarmGate(cw, AlarmGateOptions{Prefixes: []string{"checkout-v7-"}, Batcher: mode.batcher(t, cw)})
	if err != nil {
		t.Fatal(err)
	}
	check := func(g *AlarmGate) error {
		return g.Check(ctx, deploy.Check{Phase: deploy.PhaseBake, Percent: 10})
	}
	// A new version has no data points yet.
	set("checkout-v7-errors", cwtypes.StateValueInsufficientData, "no data")
	set("checkout-v7-throttles", cwtypes.StateValueInsufficientData, "no data")
	if err := check(byName); err == nil || errors.Is(err, deploy.ErrAlarm) {
		t.Fatalf("INSUFFICIENT_DATA with Fail policy: Check = %v, want a non-alarm refusal", err)
	}
	if err := check(byPrefix); err != nil {
		t.Fatalf("INSUFFICIENT_DATA with Pass policy: Check = %v", err)
	}
	set("checkout-v7-throttles", cwtypes.StateValueAlarm, "Threshold Crossed: 1 datapoint [3.0] >= 1.0")
	err = check(byPrefix)
	var ae *AlarmError
	if !errors.Is(err, deploy.ErrAlarm) || !errors.As(err, &ae) || len(ae.Alarms) != 1 ||
		ae.Alarms[0].Name != "checkout-v7-throttles" || !strings.Contains(err.Error(), "Threshold Crossed") {
		t.Fatalf("Check = %v, want ErrAlarm naming checkout-v7-throttles and its reason", err)
	}
	set("checkout-v7-throttles", cwtypes.StateValueOk, "recovered")
	set("checkout-v7-errors", cwtypes.StateValueOk, "recovered")
	if err := check(byPrefix); err != nil {
		t.Fatalf("all OK: Check = %v", err)
	}
	if err := check(byName); err != nil {
		t.Fatalf("all OK: Check = %v", err)
	}
	missing, err := NewAlarmGate(cw, AlarmGateOptions{Names: []string{"checkout-v7-errors", "no-such-alarm"}, Batcher: mode.batcher(t, cw)})
	if err != nil {
		t.Fatal(err)
	}
	if err := check(missing); !errors.Is(err, deploy.ErrNotFound) || !strings.Contains(err.Error(), "no-such-alarm") {
		t.Fatalf("missing alarm: Check = %v, want ErrNotFound naming it", err)
	}
}
