// Package simaws is a simulated AWS rate limit for the fleet benchmarks:
// per-API-family token buckets that answer a call beyond them with the
// error the service sends (ThrottlingException, TooManyRequestsException),
// and count every call, throttled ones included, family by family. A
// driver's in-memory fake is wrapped in a type whose methods ask Limits
// for leave before they reach the fake. Limits can also run the AWS SDK's
// retry loop around that leave, with the SDK's own retryer, as a real
// client does before an error reaches the driver.
//
// The buckets run on time.Now, so in a testing/synctest bubble they refill
// on the bubble's fake clock, as the engine's polls and the fakes'
// deployments do. Run (see bubble.go) gives a benchmark such a bubble.
package simaws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"golang.org/x/time/rate"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Family is one of AWS's throttling buckets: the operations that draw on
// it, its capacity (the burst) and its refill rate (the sustained rate).
type Family struct {
	// Name names the family in reports ("service read", "control plane").
	Name string
	// Ops are the API operations that draw on the bucket.
	Ops []string
	// Burst is the bucket's maximum capacity, in calls.
	Burst int
	// Rate is the bucket's refill rate, in calls per second. Zero means
	// the family is not limited, only counted.
	Rate float64
}

// Limits is a set of families, each with its token bucket and counters. It
// is safe for concurrent use.
type Limits struct {
	throttled func(op string) error
	retryer   aws.Retryer
	byOp      map[string]*family
	families  []*family

	mu         sync.Mutex
	retries    map[string]int
	sdkRetries int // attempts the SDK's loop made after a first
	sdkGaveUp  int // calls the SDK's loop returned failed after retrying
}

type family struct {
	Family
	lim *rate.Limiter

	mu  sync.Mutex
	ops map[string]*OpStats
}

// New returns limits for families, whose buckets start full. throttled
// makes the error a call beyond its family's bucket gets (the service's
// own throttling error). With a retryer (one per client, as the SDK makes
// one per client: platform.NewRetryer gives the one platform.LoadConfig
// sets), Call runs the SDK's retry loop with it; nil means every throttled
// call fails at once, as with RetryMaxAttempts 1. New panics if an
// operation is in two families.
func New(families []Family, throttled func(op string) error, retryer aws.Retryer) *Limits {
	l := &Limits{throttled: throttled, retryer: retryer, byOp: map[string]*family{}, retries: map[string]int{}}
	for _, f := range families {
		fam := &family{Family: f, ops: map[string]*OpStats{}}
		if f.Rate > 0 {
			fam.lim = rate.NewLimiter(rate.Limit(f.Rate), f.Burst)
		}
		l.families = append(l.families, fam)
		for _, op := range f.Ops {
			if _, dup := l.byOp[op]; dup {
				panic("simaws.New: operation " + op + " is in two families")
			}
			l.byOp[op] = fam
		}
	}
	return l
}

// Call asks leave for one call of op: nil when the call may go on to the
// fake, the family's throttling error when its bucket is empty. Every
// attempt is counted. With a retryer, a throttled attempt is tried again
// as the SDK's retry middleware (aws/retry.Attempt) does: within the
// retryer's MaxAttempts, while its retry quota lasts, after its backoff
// (but never a throttle of a call the engine asks again itself, as
// platform.LoadConfig's clients leave those to the engine)
// (slept on the bubble's clock); the error after the last attempt is the
// SDK's (*retry.MaxAttemptsError, or the quota's error joined to the
// throttle). Call panics for an operation in no family: every call a
// wrapper passes on is in one, so none goes uncounted.
func (l *Limits) Call(ctx context.Context, op string) error {
	if l.retryer == nil {
		return l.attempt(op)
	}
	release := func(error) error { return nil }
	for attempt := 1; ; attempt++ {
		releaseAttempt := l.retryer.GetInitialToken()
		if v2, ok := l.retryer.(aws.RetryerV2); ok {
			var err error
			if releaseAttempt, err = v2.GetAttemptToken(ctx); err != nil {
				return err
			}
		}
		// As platform.LoadConfig's clients do (LeaveThrottlesToEngine), a
		// throttle of a call the engine asks again is left to the engine.
		err := platform.EngineThrottle(ctx, l.attempt(op))
		_ = release(err)
		_ = releaseAttempt(err)
		if err == nil || !l.retryer.IsErrorRetryable(err) {
			return err
		}
		if attempt >= l.retryer.MaxAttempts() {
			return l.gaveUp(&retry.MaxAttemptsError{Attempt: attempt, Err: err})
		}
		var quotaErr error
		if release, quotaErr = l.retryer.GetRetryToken(ctx, err); quotaErr != nil {
			return l.gaveUp(errors.Join(err, quotaErr))
		}
		delay, err := l.retryer.RetryDelay(attempt, err)
		if err != nil {
			return l.gaveUp(err)
		}
		select {
		case <-ctx.Done():
			return &aws.RequestCanceledError{Err: ctx.Err()}
		case <-time.After(delay):
		}
		l.mu.Lock()
		l.sdkRetries++
		l.mu.Unlock()
	}
}

// gaveUp counts a call the SDK's loop failed after throttles, and returns
// its error.
func (l *Limits) gaveUp(err error) error {
	l.mu.Lock()
	l.sdkGaveUp++
	l.mu.Unlock()
	return err
}

// attempt is one attempt of a call of op.
func (l *Limits) attempt(op string) error {
	f, ok := l.byOp[op]
	if !ok {
		panic("simaws: operation " + op + " is in no family")
	}
	allowed := f.lim == nil || f.lim.AllowN(time.Now(), 1)
	f.mu.Lock()
	s := f.ops[op]
	if s == nil {
		s = &OpStats{Op: op}
		f.ops[op] = s
	}
	s.Calls++
	if !allowed {
		s.Throttled++
	}
	f.mu.Unlock()
	if allowed {
		return nil
	}
	return l.throttled(op)
}

// OnEvent counts the engine's retries of throttled driver calls, by the
// kind of call ("plan", "start", "status", "shift", ...): the notes
// "plan throttled, asking again: ..." and the like. Give it to the engine
// as deploy.Options.OnEvent. A status retry is counted per deployment, so
// a throttled StatusMany counts once for each deployment it asked about.
func (l *Limits) OnEvent(ev deploy.Event) {
	if ev.Kind != deploy.EventNote {
		return
	}
	kind, rest, ok := strings.Cut(ev.Message, " throttled, ")
	if !ok || rest == "" || strings.Contains(kind, ":") {
		return
	}
	if strings.HasPrefix(kind, "gate ") {
		kind = "gate"
	}
	l.mu.Lock()
	l.retries[kind]++
	l.mu.Unlock()
}

// FamilyStats is what one family saw.
type FamilyStats struct {
	Name string
	// Rate is the family's sustained rate (0: not limited).
	Rate float64
	// Calls counts every call, Throttled those the bucket refused; the
	// rest went through (the useful calls).
	Calls, Throttled int
	// Ops are the same counts operation by operation, in the order of
	// Family.Ops.
	Ops []OpStats
}

// OpStats is what one operation saw.
type OpStats struct {
	Op               string
	Calls, Throttled int
}

// Useful is the calls that went through.
func (s FamilyStats) Useful() int { return s.Calls - s.Throttled }

// Floor is the least time the family's useful calls take at its
// sustained rate, ignoring the burst (0 for a family with no rate).
func (s FamilyStats) Floor() time.Duration {
	if s.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(s.Useful()) / s.Rate * float64(time.Second))
}

// Stats returns each family's counts, in the order New was given them
// (families with no call left out).
func (l *Limits) Stats() []FamilyStats {
	var out []FamilyStats
	for _, f := range l.families {
		s := FamilyStats{Name: f.Name, Rate: f.Rate}
		f.mu.Lock()
		for _, op := range f.Family.Ops {
			if o := f.ops[op]; o != nil {
				s.Ops = append(s.Ops, *o)
				s.Calls += o.Calls
				s.Throttled += o.Throttled
			}
		}
		f.mu.Unlock()
		if s.Calls > 0 {
			out = append(out, s)
		}
	}
	return out
}

// Result is one fleet run against the simulated AWS.
type Result struct {
	// Targets is the fleet's size, Failed the deployments that did not end
	// Succeeded (the simulated platform completes every one).
	Targets, Failed int
	// Wall is how long the fleet took, on the bubble's clock.
	Wall time.Duration
	// Solo is how long one target of the fleet takes alone, with no call
	// throttled: the platform's own time, which no rate shortens.
	Solo time.Duration
	// Families is what each API family saw.
	Families []FamilyStats
	// Retries are the engine's retries of throttled calls, by kind of
	// call (see Limits.OnEvent).
	Retries map[string]int
	// SDKRetries are the attempts the SDK's retry loop made after a
	// first, SDKGaveUp the calls it failed after throttles (the throttles
	// the driver, and so the engine, saw). Zero without a retryer.
	SDKRetries, SDKGaveUp int
	// Notes are lines for the benchmark's log (the reasons of failures).
	Notes []string
}

// NewResult makes the Result of a fleet from what DeployAll returned (ds
// and err), how long it took, and the limits' counts. A deployment that
// is nil or did not end Succeeded counts as failed; the first few are
// named in Notes, with the first line of err.
func (l *Limits) NewResult(ds []*deploy.Deployment, err error, wall time.Duration) Result {
	r := Result{Targets: len(ds), Wall: wall, Families: l.Stats(), Retries: map[string]int{}}
	l.mu.Lock()
	for k, v := range l.retries {
		r.Retries[k] = v
	}
	r.SDKRetries, r.SDKGaveUp = l.sdkRetries, l.sdkGaveUp
	l.mu.Unlock()
	for i, d := range ds {
		if d != nil && d.Status == deploy.StatusSucceeded {
			continue
		}
		r.Failed++
		if len(r.Notes) < 5 {
			if d == nil {
				r.Notes = append(r.Notes, fmt.Sprintf("request %d: no deployment", i))
			} else {
				r.Notes = append(r.Notes, fmt.Sprintf("%s: %s (%s)", d.Target, d.Status, d.Reason))
			}
		}
	}
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		r.Notes = append(r.Notes, "error: "+first)
	}
	return r
}

// Floor is the largest family floor: the useful calls of a family divided
// by its sustained rate, the burst ignored. The busiest family is named.
func (r Result) Floor() (time.Duration, string) {
	var floor time.Duration
	name := ""
	for _, f := range r.Families {
		if fl := f.Floor(); fl > floor {
			floor, name = fl, f.Name
		}
	}
	return floor, name
}

// Totals is every call, the throttled ones, and the useful ones (those
// that went through), over all families.
func (r Result) Totals() (calls, throttled, useful int) {
	for _, f := range r.Families {
		calls += f.Calls
		throttled += f.Throttled
	}
	return calls, throttled, calls - throttled
}

// String is a one-line summary and a line per family.
func (r Result) String() string {
	floor, busiest := r.Floor()
	calls, throttled, useful := r.Totals()
	var b strings.Builder
	fmt.Fprintf(&b, "%d targets, %d failed: wall %v, floor %v (%s), one target alone %v; %d calls, %d throttled, %d useful",
		r.Targets, r.Failed, r.Wall.Round(time.Millisecond), floor.Round(time.Millisecond), busiest,
		r.Solo.Round(time.Millisecond), calls, throttled, useful)
	fams := append([]FamilyStats(nil), r.Families...)
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].Floor() > fams[j].Floor() })
	for _, f := range fams {
		fmt.Fprintf(&b, "\n  %-28s %6.1f/s  %7d calls  %6d throttled  floor %v",
			f.Name, f.Rate, f.Calls, f.Throttled, f.Floor().Round(time.Millisecond))
		if len(f.Ops) > 1 {
			for _, o := range f.Ops {
				fmt.Fprintf(&b, "\n    %-26s          %7d calls  %6d throttled", o.Op, o.Calls, o.Throttled)
			}
		}
	}
	if r.SDKRetries > 0 || r.SDKGaveUp > 0 {
		fmt.Fprintf(&b, "\n  SDK retries %d; calls the SDK failed after throttles %d", r.SDKRetries, r.SDKGaveUp)
	}
	if len(r.Retries) > 0 {
		kinds := make([]string, 0, len(r.Retries))
		for k := range r.Retries {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		b.WriteString("\n  engine retries after a throttle:")
		for _, k := range kinds {
			fmt.Fprintf(&b, " %s %d", k, r.Retries[k])
		}
	}
	for _, n := range r.Notes {
		b.WriteString("\n  " + n)
	}
	return b.String()
}
