package ec2_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/internal/codedeployserver"
)

// wireEnv is newEnv with the driver talking to the in-memory CodeDeploy
// through the real SDK client over HTTP (internal/codedeployserver).
func wireEnv(t *testing.T, instances int) *env {
	e := newEnv(t, instances)
	srv := codedeployserver.Start(t, e.cd)
	e.drv = ec2.New(srv.Client(), ec2.Options{Clock: e.clock, EC2: e.ec2, AutoScaling: e.ec2})
	e.eng = deploy.New(e.drv, deploy.Options{Clock: e.clock})
	return e
}

// TestConformanceOverTheWire runs the suite with the real CodeDeploy
// client: the SDK's serializers and typed errors, the fake's progression.
func TestConformanceOverTheWire(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness {
		e := wireEnv(t, 3)
		h := harness(t, oneAtATime(t))
		h.Driver, h.Clock, h.Mutations = e.drv, e.clock, e.cd.Mutations
		h.Serving = func(t *testing.T) map[string]float64 { return e.serving("web") }
		h.Request = func(t *testing.T) deploy.Request { return deploy.Request{Target: e.tgt, Options: e.nextS3()} }
		h.FailNext = func(t *testing.T) { e.cd.FailNext("Install", "") }
		h.Waiting = func(t *testing.T) deploy.Request {
			return deploy.Request{Target: ec2.Target("app", "bg"), Options: e.nextS3()}
		}
		return h
	})
}

// TestWireFailureAndCustomConfig: over the wire, a failure names the
// instance and event, and a custom configuration is created with
// CreateDeploymentConfig and read back with GetDeploymentConfig.
func TestWireFailureAndCustomConfig(t *testing.T) {
	e := wireEnv(t, 4)
	e.cd.FailNext("ApplicationStart", "i-003")
	req := deploy.Request{Target: e.tgt, Options: e.nextS3(),
		Strategy: deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 75})}
	d, err := e.run(t, req)
	if !errors.Is(err, deploy.ErrFailed) || !strings.Contains(err.Error(), "instance i-003 failed at ApplicationStart") {
		t.Fatalf("deploy: %v", err)
	}
	if le := ec2.FailureOf(d); le == nil || !errors.Is(le, ec2.ErrScriptFailed) {
		t.Errorf("FailureOf = %v", le)
	}
	e.clock.SetAuto(true)
	if _, err := e.eng.Rollback(ctx, deploy.RollbackRequest{Target: e.tgt, Of: d.ID}); err != nil {
		t.Fatal(err)
	}
	e.clock.SetAuto(false)
	req.Options = e.nextS3()
	d, err = e.run(t, req)
	if err != nil || d.Detail.(*ec2.Detail).DeploymentConfig != "Switchyard.FLEET_PERCENT.75" {
		t.Fatalf("second deploy: %v, %v", d, err)
	}
}
