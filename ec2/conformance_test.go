package ec2_test

import (
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ec2"
)

func harness(t *testing.T, s deploy.Strategy) *deploytest.Harness {
	h, _ := harnessEnv(t, s)
	return h
}

func harnessEnv(t *testing.T, s deploy.Strategy) (*deploytest.Harness, *env) {
	e := newEnv(t, 4)
	return &deploytest.Harness{
		Driver:        e.drv,
		Clock:         e.clock,
		Target:        e.tgt,
		MissingTarget: ec2.Target("app", "missing"),
		Mutations:     e.cd.Mutations,
		Serving:       func(t *testing.T) map[string]float64 { return e.serving("web") },
		Strategy:      s,
		Timeout:       20 * time.Second,
		Request: func(t *testing.T) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: e.nextS3()}
		},
		FailNext: func(t *testing.T) { e.cd.FailNext("Install", "") },
		ThrottleStart: func(t *testing.T) {
			e.cd.InjectError("CreateDeployment", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})
		},
		Waiting: func(t *testing.T) deploy.Request {
			return deploy.Request{Target: ec2.Target("app", "bg"), Options: e.nextS3()}
		},
	}, e
}

// TestConformance runs the suite on four instances, one at a time: the
// fleet is split while the deployment runs, so stops and alarms catch it
// part way.
func TestConformance(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness { return harness(t, oneAtATime(t)) })
}

// TestConformanceHalfAtATime runs it with two batches of two.
func TestConformanceHalfAtATime(t *testing.T) {
	s, err := deploy.ParseStrategy("CodeDeployDefault.HalfAtATime")
	if err != nil {
		t.Fatal(err)
	}
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness { return harness(t, s) })
}

// TestConformanceStopPending runs it with every stop of a running
// lifecycle event answering Pending first, as CodeDeploy does while
// scripts still run: the deployment stops when the event ends.
func TestConformanceStopPending(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness {
		h, e := harnessEnv(t, oneAtATime(t))
		e.cd.StopPending(1 << 20)
		return h
	})
}
