package lambda_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// The fault matrix: a canary to moto's Lambda with the first read, the
// first mutation or the second UpdateAlias (the final shift) failing in
// each way AWS and the network fail, with and without the SDK's retries.
// With rollback on failure (deployctl's default), every run ends
// Succeeded, or Failed/RolledBack with a typed error, and
// the alias read back afterwards is on one version with no weights: the
// new one only when the run succeeded.
func TestFaultMatrixAgainstMoto(t *testing.T) {
	srv := motoserver.Start(t)
	kinds := []faultinject.Kind{faultinject.Throttle, faultinject.ServerError, faultinject.Unavailable,
		faultinject.Reset, faultinject.Timeout, faultinject.Malformed}
	where := []struct {
		name string
		rule faultinject.Rule
	}{
		{"first-read", faultinject.Rule{Calls: faultinject.Reads, Nth: []int{1}}},
		{"first-mutation", faultinject.Rule{Calls: faultinject.Mutations, Nth: []int{1}}},
		{"final-shift", faultinject.Rule{Operations: []string{"UpdateAlias"}, Nth: []int{2}}},
	}
	for _, sdkRetries := range []bool{false, true} {
		for _, w := range where {
			for _, kind := range kinds {
				name := w.name + "/" + kind.String()
				if sdkRetries {
					name = "sdk-retries/" + name
				}
				t.Run(name, func(t *testing.T) {
					srv.Reset(t)
					m := seedMotoEnv(t, srv)
					rule := w.rule
					rule.Service, rule.Fault = "Lambda", faultinject.Fault{Kind: kind}
					cfg := srv.Config()
					ft := faultinject.New(cfg.HTTPClient, rule)
					cfg.HTTPClient = ft
					if sdkRetries {
						faultinject.SDKRetries(&cfg)
					}
					clk := deploytest.NewAutoClock(time.Time{})
					eng := deploy.New(lambda.NewFromConfig(cfg, lambda.Options{Clock: clk}), deploy.Options{Clock: clk})
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					d, err := eng.Deploy(ctx, deploy.Request{Target: lambda.Target("app", "live"), Strategy: mustStrategy(t, "canary:10:5m"),
						Options: &lambda.DeployOptions{Zip: zipOf(t, "return 2")}, RollbackOn: deploy.OnFailure})
					if len(ft.Injected()) != 1 {
						t.Fatalf("injected %+v, want one fault", ft.Injected())
					}
					v, weights := m.alias(t)
					if len(weights) != 0 {
						t.Fatalf("alias left on %s with weights %v (run: %v)", v, weights, err)
					}
					if err == nil {
						if d.Status != deploy.StatusSucceeded || v != d.To.ID {
							t.Fatalf("no error but %s, alias on %s, deployed %s", d.Status, v, d.To.ID)
						}
						return
					}
					var de *deploy.Error
					if !errors.As(err, &de) {
						t.Fatalf("untyped error %T: %v", err, err)
					}
					if d != nil && d.Status != deploy.StatusFailed && d.Status != deploy.StatusRolledBack {
						t.Fatalf("ended %s: %v", d.Status, err)
					}
					if v != "1" {
						t.Fatalf("failed run left the alias on %s, not 1: %v", v, err)
					}
					if sdkRetries && kind != faultinject.Malformed {
						t.Logf("with SDK retries, one %s still failed the run: %v", kind, err)
					}
					t.Logf("%s: %v", platform.Classify(err), err)
				})
			}
		}
	}
}
