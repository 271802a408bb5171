package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchyard/switchyard/deploy"
)

// simPlatform is a simulated AWS for fleets: a platform-driven deployment
// is done after three successful status reads, and status reads beyond a
// token-bucket rate (wall clock) are throttled, as an AWS API is.
type simPlatform struct {
	lim       *rate.Limiter
	batch     int // > 0: StatusMany takes up to this many deployments a call
	calls     atomic.Int64
	throttled atomic.Int64
	useful    atomic.Int64

	mu    sync.Mutex
	seq   int
	reads map[string]int
}

func (s *simPlatform) Platform() string { return "sim" }

func (s *simPlatform) Prepare(_ context.Context, req deploy.Request) (*deploy.Plan, error) {
	return &deploy.Plan{Request: req, To: req.Revision, Mode: deploy.ModePlatform}, nil
}

func (s *simPlatform) Start(_ context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprint("d-", s.seq)
	s.reads[id] = 0
	return &deploy.Deployment{ID: id, Target: p.Request.Target, To: p.To, Status: deploy.StatusInProgress}, nil
}

// read answers one deployment's status, once the call got through.
func (s *simPlatform) read(d *deploy.Deployment) *deploy.Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads[d.ID]++
	s.useful.Add(1)
	nd := &deploy.Deployment{ID: d.ID, Target: d.Target, To: d.To, Status: deploy.StatusInProgress, Percent: 50}
	if s.reads[d.ID] >= 3 {
		nd.Status, nd.Percent = deploy.StatusSucceeded, 100
	}
	return nd
}

func (s *simPlatform) call() error {
	s.calls.Add(1)
	if !s.lim.Allow() {
		s.throttled.Add(1)
		return fmt.Errorf("ThrottlingException: %w", deploy.ErrThrottled)
	}
	return nil
}

func (s *simPlatform) Status(_ context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	if err := s.call(); err != nil {
		return nil, err
	}
	return s.read(d), nil
}

// batched is the simulated platform with StatusMany.
type batched struct{ *simPlatform }

// StatusBatchSize tells the engine one request reports ten deployments.
func (b batched) StatusBatchSize() int { return b.batch }

func (b batched) StatusMany(_ context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
	out := make([]*deploy.Deployment, len(ds))
	var errs []error
	for i := 0; i < len(ds); i += b.batch {
		end := min(i+b.batch, len(ds))
		if err := b.call(); err != nil {
			for _, d := range ds[i:end] {
				errs = append(errs, &deploy.Error{Op: "StatusMany", DeploymentID: d.ID, Err: err})
			}
			continue
		}
		for j := i; j < end; j++ {
			out[j] = b.read(ds[j])
		}
	}
	if len(errs) == 0 {
		return out, nil
	}
	return out, errors.Join(errs...)
}

// BenchmarkFleetAtRateLimit deploys a fleet against the simulated AWS at
// 500 status calls a second (wall clock; polls scaled to 20-200 ms so the
// limit, not the poll delay, sets the pace) and reports the wall time over
// the floor (the calls needed divided by the rate), the calls issued
// (throttled ones included) per useful call, and the deployments reported
// Failed although the platform completed them.
func BenchmarkFleetAtRateLimit(b *testing.B) {
	poll := deploy.PollOptions{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, BatchWindow: 20 * time.Millisecond}
	for _, n := range []int{10, 100, 1000} {
		for _, mode := range []string{"Status", "StatusMany10"} {
			b.Run(fmt.Sprintf("targets=%d/%s", n, mode), func(b *testing.B) {
				for b.Loop() {
					fleetAtRateLimit(b, n, mode, 500, 50, poll)
				}
			})
		}
	}
}

// BenchmarkFleetAtRateLimitDefaults is the fleet as AWS paces it, with
// every engine default (polls from 2 s to 30 s): 1000 targets whose status
// reads are limited to 100 a second, burst 10 or 100, so the floor is 30 s.
func BenchmarkFleetAtRateLimitDefaults(b *testing.B) {
	for _, burst := range []int{10, 100} {
		for _, mode := range []string{"Status", "StatusMany10"} {
			b.Run(fmt.Sprintf("targets=1000/burst=%d/%s", burst, mode), func(b *testing.B) {
				for b.Loop() {
					fleetAtRateLimit(b, 1000, mode, 100, burst, deploy.PollOptions{})
				}
			})
		}
	}
}

func fleetAtRateLimit(b *testing.B, n int, mode string, perSecond float64, burst int, poll deploy.PollOptions) {
	sim := &simPlatform{lim: rate.NewLimiter(rate.Limit(perSecond), burst), reads: map[string]int{}}
	var drv deploy.Driver = sim
	needed := float64(3 * n)
	if mode == "StatusMany10" {
		sim.batch = 10
		drv = batched{sim}
		needed = float64(3*n) / 10
	}
	eng := deploy.New(drv, deploy.Options{Concurrency: n, Poll: poll})
	reqs := make([]deploy.Request, n)
	for i := range reqs {
		reqs[i] = deploy.Request{Target: deploy.Target{Name: fmt.Sprint("svc-", i)}, Revision: deploy.Revision{ID: "2"}}
	}
	start := time.Now()
	ds, _ := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
	wall := time.Since(start)
	failed := 0
	for _, d := range ds {
		if d == nil || d.Status != deploy.StatusSucceeded {
			failed++
		}
	}
	floor := time.Duration(needed / perSecond * float64(time.Second))
	b.ReportMetric(float64(wall)/float64(max(floor, 200*time.Millisecond)), "wall/floor")
	b.ReportMetric(float64(sim.calls.Load())/needed, "calls/useful")
	b.ReportMetric(float64(sim.throttled.Load()), "throttled")
	b.ReportMetric(float64(failed), "failed")
}
