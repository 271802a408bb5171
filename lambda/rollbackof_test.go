package lambda_test

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/deploy"
)

// The engine's own rollbacks redeploy the version the alias started from,
// with RollbackOf set, after a deployment it could not stop left a weight
// behind. That request repairs the alias instead of being refused as a
// weighted alias or an equal version.
func TestRollbackRequestRepairsWeightedAlias(t *testing.T) {
	e := newEnv(t)
	e.fake.AddAlias("app", "live", "1", map[string]float64{"2": 0.1})
	req := e.versionRequest("1", deploy.AllAtOnce())
	if _, err := e.eng.Plan(context.Background(), req); err == nil {
		t.Fatal("a plain request on a weighted alias must be refused")
	}
	req.RollbackOf = "lambda-app-live-1"
	d, err := e.eng.Deploy(context.Background(), req)
	if err != nil {
		t.Fatalf("rollback deploy: %v", err)
	}
	if d.Status != deploy.StatusSucceeded || d.RollbackOf != "lambda-app-live-1" {
		t.Fatalf("deployment = %s rollbackOf %q", d.Status, d.RollbackOf)
	}
	if v, w := e.fake.Alias("app", "live"); v != "1" || len(w) != 0 {
		t.Fatalf("alias after rollback: version %s weights %v, want 1 alone", v, w)
	}
}
