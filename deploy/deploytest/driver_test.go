package deploytest_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

func fakeHarness(mode deploy.Mode, platformRollback bool) func(t *testing.T) *deploytest.Harness {
	return func(t *testing.T) *deploytest.Harness {
		clk := deploytest.NewClock(time.Time{})
		f := deploytest.NewDriver(deploytest.DriverOptions{Mode: mode, Clock: clk, PlatformRollback: platformRollback,
			KnownRevisionsOnly: true})
		target := f.AddTarget("web", deploy.Revision{ID: "rev-0", Label: "v0"})
		var n atomic.Int64
		return &deploytest.Harness{
			Driver:          f,
			Clock:           clk,
			Target:          target,
			MissingTarget:   deploy.Target{Name: "nope"},
			MissingRevision: deploy.Revision{ID: "rev-999"},
			Request: func(t *testing.T) deploy.Request {
				i := n.Add(1)
				rev := deploy.Revision{ID: fmt.Sprintf("rev-%d", i), Label: fmt.Sprintf("v%d", i)}
				f.AddRevision(rev)
				return deploy.Request{Target: target, Revision: rev}
			},
			Mutations: f.MutatingCalls,
			Serving:   func(*testing.T) map[string]float64 { return f.Serving("web") },
			FailNext:  func(t *testing.T) { f.FailNext(0, nil) },
		}
	}
}

func TestConformanceEngineMode(t *testing.T) {
	deploytest.Run(t, fakeHarness(deploy.ModeEngine, false))
}

func TestConformancePlatformMode(t *testing.T) {
	deploytest.Run(t, fakeHarness(deploy.ModePlatform, false))
}

func TestConformancePlatformRollback(t *testing.T) {
	deploytest.Run(t, fakeHarness(deploy.ModePlatform, true))
}

// A platform that only deploys all at once never splits the traffic: the
// clauses that need a split skip, and the rest still hold.
func TestConformanceAllAtOnce(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness {
		h := fakeHarness(deploy.ModePlatform, false)(t)
		h.Strategy = deploy.AllAtOnce()
		return h
	})
}
