package platform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// gateMode is a way a gate looks its alarms up: on its own, or through an
// AlarmBatcher (on an auto-advancing clock, so its window passes at once).
type gateMode struct {
	name    string
	batched bool
}

var gateModes = []gateMode{{"direct", false}, {"batched", true}}

func (m gateMode) batcher(t *testing.T, api CloudWatchAPI) *AlarmBatcher {
	t.Helper()
	if !m.batched {
		return nil
	}
	b, err := NewAlarmBatcher(api, AlarmBatcherOptions{Clock: deploytest.NewAutoClock(time.Time{})})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewAlarmBatcherValidates(t *testing.T) {
	if b, err := NewAlarmBatcher(nil, AlarmBatcherOptions{}); b != nil || !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("NewAlarmBatcher(nil) = %v, %v; want ErrInvalidRequest", b, err)
	}
	b, err := NewAlarmBatcher(&fakeCloudWatch{}, AlarmBatcherOptions{})
	if err != nil || b.g.Window != DefaultAlarmBatchWindow || b.g.Clock == nil {
		t.Fatalf("defaults: %+v, %v", b, err)
	}
	if b, _ := NewAlarmBatcher(&fakeCloudWatch{}, AlarmBatcherOptions{Window: -1}); b.g.Window != 0 {
		t.Fatalf("negative window: %v", b.g.Window)
	}
}

// checkAll checks every gate at once, each from its own goroutine, and
// returns their errors in order.
func checkAll(ctx context.Context, gates []*AlarmGate) []error {
	errs := make([]error, len(gates))
	var wg sync.WaitGroup
	for i, g := range gates {
		wg.Go(func() { errs[i] = g.Check(ctx, deploy.Check{Phase: deploy.PhaseBake}) })
	}
	wg.Wait()
	return errs
}

// Three hundred gates over distinct alarms, checked together through one
// batcher, cost three DescribeAlarms calls of 100 names; each gate is
// answered as it would be alone: one alarm in ALARM refuses only its gate
// (ErrAlarm), a missing alarm only its own (ErrNotFound, or nothing under
// MissingAlarmIgnore), INSUFFICIENT_DATA only a gate whose policy fails it.
// A prefix gate still makes its own call. Without the batcher the same
// check costs a call per gate. The test runs in a synctest bubble, so the
// batcher's default window on the default clock is the bubble's.
func TestAlarmBatcher300Gates(t *testing.T) {
	for _, batched := range []bool{true, false} {
		t.Run(map[bool]string{true: "batched", false: "direct"}[batched], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := &fakeCloudWatch{pageSize: 100}
				const n = 300
				var gates []*AlarmGate
				var b *AlarmBatcher
				if batched {
					var err error
					if b, err = NewAlarmBatcher(fake, AlarmBatcherOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				for i := range n {
					name := fmt.Sprintf("svc%03d-errors", i)
					state := cwtypes.StateValueOk
					switch i {
					case 7:
						state = cwtypes.StateValueAlarm
					case 8, 9:
						state = cwtypes.StateValueInsufficientData
					}
					if i != 11 && i != 12 {
						fake.metric = append(fake.metric, metric(name, state, "reason "+name))
					}
					o := AlarmGateOptions{Name: fmt.Sprintf("gate%03d", i), Names: []string{name}, Batcher: b}
					switch i {
					case 9:
						o.InsufficientData = InsufficientDataFail
					case 12:
						o.Missing = MissingAlarmIgnore
					}
					g, err := NewAlarmGate(fake, o)
					if err != nil {
						t.Fatal(err)
					}
					gates = append(gates, g)
				}
				start := time.Now()
				errs := checkAll(context.Background(), gates)
				if batched && time.Since(start) != DefaultAlarmBatchWindow {
					t.Errorf("the checks took %v, want the window, %v", time.Since(start), DefaultAlarmBatchWindow)
				}
				for i, err := range errs {
					var ae *AlarmError
					switch i {
					case 7:
						if !errors.Is(err, deploy.ErrAlarm) || !errors.As(err, &ae) || ae.Gate != "gate007" || len(ae.Alarms) != 1 ||
							!strings.Contains(err.Error(), "reason svc007-errors") {
							t.Errorf("gate %d: %v, want ErrAlarm for svc007-errors", i, err)
						}
					case 9:
						if err == nil || errors.Is(err, deploy.ErrAlarm) || !errors.As(err, &ae) {
							t.Errorf("gate %d: %v, want an INSUFFICIENT_DATA refusal", i, err)
						}
					case 11:
						if !errors.Is(err, deploy.ErrNotFound) || !strings.Contains(err.Error(), "svc011-errors") || !strings.Contains(err.Error(), "gate011") {
							t.Errorf("gate %d: %v, want ErrNotFound naming its gate and alarm", i, err)
						}
					default:
						if err != nil {
							t.Errorf("gate %d: %v, want a pass", i, err)
						}
					}
				}
				want := n
				if batched {
					want = 3
				}
				if len(fake.calls) != want {
					t.Fatalf("%d DescribeAlarms calls, want %d", len(fake.calls), want)
				}
				for _, c := range fake.calls {
					if len(c.AlarmNames) > 100 || len(c.AlarmTypes) != 2 || aws.ToInt32(c.MaxRecords) != 100 {
						t.Fatalf("DescribeAlarms with %d names, types %v, MaxRecords %d", len(c.AlarmNames), c.AlarmTypes, aws.ToInt32(c.MaxRecords))
					}
				}
				if !batched {
					return
				}
				// Gates over the same alarms name each once; a prefix gate
				// makes its own call.
				fake.calls = nil
				shared := []string{"svc000-errors", "svc001-errors", "svc007-errors"}
				var more []*AlarmGate
				for i := range 50 {
					g, err := NewAlarmGate(fake, AlarmGateOptions{Names: shared[:1+i%3], Batcher: b})
					if err != nil {
						t.Fatal(err)
					}
					more = append(more, g)
				}
				pg, err := NewAlarmGate(fake, AlarmGateOptions{Prefixes: []string{"svc29"}, Batcher: b})
				if err != nil {
					t.Fatal(err)
				}
				more = append(more, pg)
				errs = checkAll(context.Background(), more)
				for i, err := range errs[:50] {
					if (i%3 == 2) != errors.Is(err, deploy.ErrAlarm) {
						t.Errorf("shared gate %d: %v", i, err)
					}
				}
				if errs[50] != nil {
					t.Errorf("prefix gate: %v", errs[50])
				}
				byName, byPrefix := 0, 0
				for _, c := range fake.calls {
					if c.AlarmNamePrefix != nil {
						byPrefix++
						continue
					}
					byName++
					if len(c.AlarmNames) != 3 {
						t.Errorf("DescribeAlarms of %v, want the three shared names once", c.AlarmNames)
					}
				}
				if byName != 1 || byPrefix != 1 {
					t.Fatalf("%d calls by name and %d by prefix, want 1 and 1", byName, byPrefix)
				}
			})
		})
	}
}

// throttlingCloudWatch answers ThrottlingException to every call that
// names alarm, and passes the others to the fake.
type throttlingCloudWatch struct {
	*fakeCloudWatch
	alarm string
}

func (f throttlingCloudWatch) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, o ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	for _, n := range in.AlarmNames {
		if n == f.alarm {
			f.mu.Lock()
			f.calls = append(f.calls, *in)
			f.mu.Unlock()
			return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
		}
	}
	return f.fakeCloudWatch.DescribeAlarms(ctx, in, o...)
}

// A throttled DescribeAlarms fails the gates whose alarms it asked for,
// with an error that wraps deploy.ErrThrottled (never ErrAlarm) and names
// the gate; gates whose alarms went in another call pass.
func TestAlarmBatcherThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeCloudWatch{}
		var names []string
		for i := range 150 {
			names = append(names, fmt.Sprintf("a%03d", i))
			fake.metric = append(fake.metric, metric(names[i], cwtypes.StateValueOk, ""))
		}
		api := throttlingCloudWatch{fake, "a120"}
		b, err := NewAlarmBatcher(api, AlarmBatcherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var gates []*AlarmGate
		for i := range 150 {
			g, err := NewAlarmGate(api, AlarmGateOptions{Name: "g-" + names[i], Names: names[i : i+1], Batcher: b})
			if err != nil {
				t.Fatal(err)
			}
			gates = append(gates, g)
		}
		errs := checkAll(context.Background(), gates)
		if len(fake.calls) != 2 {
			t.Fatalf("%d calls, want 2", len(fake.calls))
		}
		// Which call a gate's alarm went in depends on the order the gates
		// came in.
		throttled := map[string]bool{}
		for _, c := range fake.calls {
			if slices.Contains(c.AlarmNames, api.alarm) {
				for _, n := range c.AlarmNames {
					throttled[n] = true
				}
			}
		}
		if len(throttled) != 100 && len(throttled) != 50 {
			t.Fatalf("the throttled call named %d alarms", len(throttled))
		}
		for i, err := range errs {
			var de *deploy.Error
			switch {
			case !throttled[names[i]] && err != nil:
				t.Errorf("gate %d, in the call that went through: %v", i, err)
			case throttled[names[i]] && (!errors.Is(err, deploy.ErrThrottled) || errors.Is(err, deploy.ErrAlarm) ||
				!errors.As(err, &de) || de.Op != "DescribeAlarms" || de.Target != "g-"+names[i]):
				t.Errorf("gate %d, in the throttled call: %v, want a *deploy.Error wrapping ErrThrottled", i, err)
			}
		}
	})
}

// A gate whose context ends while it waits for the window returns at once
// with the context's error; the others are still answered, and a call
// made for gates that have all stopped waiting is canceled.
func TestAlarmBatcherCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeCloudWatch{metric: []cwtypes.MetricAlarm{metric("a", cwtypes.StateValueOk, ""), metric("b", cwtypes.StateValueAlarm, "")}}
		b, err := NewAlarmBatcher(fake, AlarmBatcherOptions{Window: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ga, _ := NewAlarmGate(fake, AlarmGateOptions{Names: []string{"a"}, Batcher: b})
		gb, _ := NewAlarmGate(fake, AlarmGateOptions{Names: []string{"b"}, Batcher: b})
		ctx, cancel := context.WithCancel(context.Background())
		var errA, errB error
		var wg sync.WaitGroup
		wg.Go(func() { errA = ga.Check(ctx, deploy.Check{}) })
		wg.Go(func() { errB = gb.Check(context.Background(), deploy.Check{}) })
		time.Sleep(time.Second) // the bubble's clock: both wait in the window
		cancel()
		synctest.Wait()
		if !errors.Is(errA, context.Canceled) {
			t.Fatalf("canceled gate: %v", errA)
		}
		wg.Wait()
		if !errors.Is(errB, deploy.ErrAlarm) {
			t.Fatalf("the other gate: %v", errB)
		}
		if len(fake.calls) != 1 || len(fake.calls[0].AlarmNames) != 1 || fake.calls[0].AlarmNames[0] != "b" {
			t.Fatalf("calls %+v, want one for b alone", fake.calls)
		}
		done, stop := context.WithCancel(context.Background())
		stop()
		if err := ga.Check(done, deploy.Check{}); !errors.Is(err, context.Canceled) || len(fake.calls) != 1 {
			t.Fatalf("done context: %v after %d calls", err, len(fake.calls))
		}
	})
}

// blockingCloudWatch holds every DescribeAlarms call until its context
// ends, and says whether one ended.
type blockingCloudWatch struct{ ended chan error }

func (f blockingCloudWatch) DescribeAlarms(ctx context.Context, _ *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	<-ctx.Done()
	f.ended <- ctx.Err()
	return nil, ctx.Err()
}

// A call in flight for gates that all stop waiting is canceled; while one
// of them still waits, it goes on.
func TestAlarmBatcherCancelsAbandonedCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := blockingCloudWatch{ended: make(chan error, 1)}
		b, err := NewAlarmBatcher(api, AlarmBatcherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ga, _ := NewAlarmGate(api, AlarmGateOptions{Names: []string{"a"}, Batcher: b})
		gb, _ := NewAlarmGate(api, AlarmGateOptions{Names: []string{"b"}, Batcher: b})
		ctxA, cancelA := context.WithCancel(context.Background())
		ctxB, cancelB := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { ga.Check(ctxA, deploy.Check{}) })
		wg.Go(func() { gb.Check(ctxB, deploy.Check{}) })
		time.Sleep(2 * DefaultAlarmBatchWindow) // the call is in flight
		cancelA()
		synctest.Wait()
		select {
		case err := <-api.ended:
			t.Fatalf("the call ended (%v) while gate b still waited", err)
		default:
		}
		cancelB()
		wg.Wait()
		if err := <-api.ended; !errors.Is(err, context.Canceled) {
			t.Fatalf("the abandoned call ended with %v, want context.Canceled", err)
		}
	})
}
