package lambda_test

import (
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
)

func harness(t *testing.T, publish bool, s deploy.Strategy) *deploytest.Harness {
	e := newEnv(t)
	h := &deploytest.Harness{
		Driver:        e.drv,
		Clock:         e.clock,
		Target:        e.tgt,
		MissingTarget: lambda.Target("app", "missing"),
		Mutations:     e.fake.Mutations,
		Strategy:      s,
		FailNext: func(t *testing.T) {
			e.fake.FailNext("UpdateAlias", fmt.Errorf("injected failure"))
		},
	}
	if publish {
		h.Request = func(t *testing.T) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: &lambda.DeployOptions{Zip: e.zip()}}
		}
	} else {
		h.Request = func(t *testing.T) deploy.Request {
			v := e.fake.Publish("app", e.zip())
			return deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: v}}
		}
	}
	return h
}

func TestConformancePublishZip(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness { return harness(t, true, deploy.Strategy{}) })
}

func TestConformanceExistingVersion(t *testing.T) {
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness { return harness(t, false, deploy.Strategy{}) })
}

func TestConformanceLinear(t *testing.T) {
	s, err := deploy.ParseStrategy("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes")
	if err != nil {
		t.Fatal(err)
	}
	deploytest.Run(t, func(t *testing.T) *deploytest.Harness { return harness(t, true, s) })
}

var _ = lambdafake.New
