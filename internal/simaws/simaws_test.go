package simaws

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
)

var errThrottled = errors.New("throttled")

// A family lets its burst through at once, then its sustained rate, on
// the bubble's clock; every call is counted, throttled ones included, and
// the floor is the useful calls over the sustained rate.
func TestLimitsBurstRefillAndCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New([]Family{
			{Name: "writes", Ops: []string{"Put", "Delete"}, Burst: 3, Rate: 1},
			{Name: "reads", Ops: []string{"Get"}, Rate: 0},
		}, func(string) error { return errThrottled }, nil)
		for i := range 5 {
			err := l.Call(t.Context(), "Put")
			if want := i >= 3; (err != nil) != want {
				t.Fatalf("call %d: %v, want throttled %v", i, err, want)
			}
		}
		time.Sleep(2 * time.Second) // two tokens back
		for i := range 3 {
			if err := l.Call(t.Context(), "Delete"); (err != nil) != (i == 2) {
				t.Fatalf("delete %d after 2s: %v", i, err)
			}
		}
		for range 100 {
			if err := l.Call(t.Context(), "Get"); err != nil {
				t.Fatalf("an unlimited family throttled: %v", err)
			}
		}
		stats := l.Stats()
		if len(stats) != 2 || stats[0].Calls != 8 || stats[0].Throttled != 3 || stats[0].Useful() != 5 {
			t.Fatalf("writes: %+v", stats)
		}
		if ops := stats[0].Ops; len(ops) != 2 || ops[0] != (OpStats{"Put", 5, 2}) || ops[1] != (OpStats{"Delete", 3, 1}) {
			t.Fatalf("writes by operation: %+v", ops)
		}
		r := l.NewResult([]*deploy.Deployment{{Status: deploy.StatusSucceeded}, {Status: deploy.StatusFailed}, nil}, nil, 7*time.Second)
		if floor, name := r.Floor(); floor != 5*time.Second || name != "writes" {
			t.Fatalf("floor %v (%s), want 5s (writes)", floor, name)
		}
		if calls, throttled, useful := r.Totals(); calls != 108 || throttled != 3 || useful != 105 {
			t.Fatalf("totals %d %d %d", calls, throttled, useful)
		}
		if r.Failed != 2 || r.Targets != 3 {
			t.Fatalf("%d of %d failed, want 2 of 3", r.Failed, r.Targets)
		}
	})
}

// OnEvent counts the engine's notes of throttled calls by kind.
func TestOnEventCountsRetries(t *testing.T) {
	l := New(nil, nil, nil)
	for _, m := range []string{
		"plan throttled, asking again: x", "start throttled, asking again: x", "start throttled, asking again: y",
		"gate alarms throttled, checking again: x", "shift throttled, trying again: x", "status unknown, asking again: x",
	} {
		l.OnEvent(deploy.Event{Kind: deploy.EventNote, Message: m})
	}
	l.OnEvent(deploy.Event{Kind: deploy.EventStatus, Message: "plan throttled, asking again: x"})
	r := l.NewResult(nil, nil, 0)
	want := map[string]int{"plan": 1, "start": 2, "gate": 1, "shift": 1}
	if len(r.Retries) != len(want) {
		t.Fatalf("retries %v, want %v", r.Retries, want)
	}
	for k, v := range want {
		if r.Retries[k] != v {
			t.Fatalf("retries %v, want %v", r.Retries, want)
		}
	}
}

// With a retryer, a throttled call is attempted again as the SDK does, up
// to its MaxAttempts, every attempt counted; the error after the last is
// the SDK's MaxAttemptsError, still reaching the service's throttle.
func TestLimitsRunTheSDKRetryLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		throttle := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
		l := New([]Family{{Name: "writes", Ops: []string{"Put"}, Burst: 1, Rate: 1e-6}},
			func(string) error { return throttle },
			retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 3 }))
		if err := l.Call(t.Context(), "Put"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err := l.Call(t.Context(), "Put")
		var maxErr *retry.MaxAttemptsError
		var api smithy.APIError
		if !errors.As(err, &maxErr) || maxErr.Attempt != 3 || !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
			t.Fatalf("err = %v, want a MaxAttemptsError after 3 attempts wrapping the throttle", err)
		}
		if time.Since(start) == 0 {
			t.Fatal("the retries did not back off")
		}
		r := l.NewResult(nil, nil, 0)
		if calls, throttled, _ := r.Totals(); calls != 4 || throttled != 3 || r.SDKRetries != 2 || r.SDKGaveUp != 1 {
			t.Fatalf("%d calls, %d throttled, %d SDK retries, %d given up; want 4, 3, 2, 1", calls, throttled, r.SDKRetries, r.SDKGaveUp)
		}
	})
}
