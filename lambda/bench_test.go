package lambda_test

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
)

// BenchmarkLinearDeploy measures a whole Linear10PercentEvery10Minutes
// deployment (ten alias updates, nine bakes) through the engine over the
// in-memory Lambda on an auto-advancing clock: the driver's and engine's
// own cost, no network.
func BenchmarkLinearDeploy(b *testing.B) {
	s, _ := deploy.ParseStrategy("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes")
	for b.Loop() {
		b.StopTimer()
		f := lambdafake.New()
		f.AddFunction("app", 2)
		f.AddAlias("app", "live", "1", nil)
		clk := deploytest.NewAutoClock(deploytest.Epoch())
		eng := deploy.New(lambda.New(f, lambda.Options{Clock: clk}), deploy.Options{Clock: clk})
		b.StartTimer()
		if _, err := eng.Deploy(context.Background(), deploy.Request{Target: lambda.Target("app", "live"),
			Revision: deploy.Revision{ID: "2"}, Strategy: s}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppSpecJSON measures rendering an AppSpec.
func BenchmarkAppSpecJSON(b *testing.B) {
	a := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "1", TargetVersion: "2", BeforeAllowTraffic: "pre", AfterAllowTraffic: "post"}
	for b.Loop() {
		if _, err := a.JSON(); err != nil {
			b.Fatal(err)
		}
	}
}
