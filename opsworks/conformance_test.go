package opsworks_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/opsworks"
	"github.com/switchyard/switchyard/opsworks/opsworksfake"
)

// env is a driver over an in-memory OpsWorks: stack "stack-1" with layer
// "web" and three instances, app "app-1" at revision "v1" on all of them.
type env struct {
	fake  *opsworksfake.Fake
	clock *deploytest.Clock
	drv   *opsworks.Driver
	eng   *deploy.Engine
	tgt   deploy.Target
	n     atomic.Int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	f := opsworksfake.New(opsworksfake.Options{Clock: clk})
	f.AddStack("stack-1")
	f.AddLayer("stack-1", "web")
	f.AddLayer("stack-1", "db")
	f.AddInstance("stack-1", "i-1", "web")
	f.AddInstance("stack-1", "i-2", "web")
	f.AddInstance("stack-1", "i-3", "db")
	f.AddApp("stack-1", "app-1", "v1", true)
	drv := opsworks.New(f, opsworks.Options{Clock: clk})
	return &env{fake: f, clock: clk, drv: drv, eng: deploy.New(drv, deploy.Options{Clock: clk}), tgt: opsworks.Target("stack-1", "app-1")}
}

// rev returns a revision not deployed before.
func (e *env) rev() string { return fmt.Sprintf("v%d", e.n.Add(1)+1) }

func TestConformance(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness {
		e := newEnv(t)
		return &deploytest.Harness{
			Driver:        e.drv,
			Clock:         e.clock,
			Target:        e.tgt,
			MissingTarget: opsworks.Target("stack-1", "app-missing"),
			Request: func(t *testing.T) deploy.Request {
				return deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: e.rev()}}
			},
			Mutations: e.fake.Mutations,
			Serving:   func(t *testing.T) map[string]float64 { return e.fake.Serving("app-1") },
			FailNext:  func(t *testing.T) { e.fake.FailNext(1) },
			Strategy:  deploy.AllAtOnce(),
			Timeout:   20 * time.Second,
		}
	})
}
