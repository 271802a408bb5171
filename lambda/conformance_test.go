package lambda_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
)

// aliasServing reads what alias "live" of "app" serves from the in-memory
// Lambda: each version's share in percent (the primary gets what the
// weights leave).
func aliasServing(t *testing.T, f *lambdafake.Client) map[string]float64 {
	t.Helper()
	v, w := f.Alias("app", "live")
	out := map[string]float64{}
	rest := 0.0
	for ver, wt := range w {
		if wt > 0 {
			out[ver] = wt * 100
			rest += wt * 100
		}
	}
	if v != "" && rest < 100 {
		out[v] = 100 - rest
	}
	return out
}

func harness(t *testing.T, publish bool, s deploy.Strategy) *deploytest.Harness {
	e := newEnv(t)
	h := &deploytest.Harness{
		Driver:          e.drv,
		Clock:           e.clock,
		Target:          e.tgt,
		MissingTarget:   lambda.Target("app", "missing"),
		MissingRevision: deploy.Revision{ID: "999"},
		Mutations:       e.fake.Mutations,
		Serving:         func(t *testing.T) map[string]float64 { return aliasServing(t, e.fake) },
		Strategy:        s,
		Timeout:         20 * time.Second,
		FailNext: func(t *testing.T) {
			e.fake.FailNext("UpdateAlias", fmt.Errorf("injected failure"))
		},
	}
	if publish {
		// The publish after the code update is throttled once.
		h.ThrottleStart = func(t *testing.T) {
			e.fake.FailNext("PublishVersion", &types.TooManyRequestsException{Message: aws.String("Rate exceeded")})
		}
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
