package lambda_test

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
)

// TestStoreHistoryAcrossMachines: one machine deploys, another (a fresh
// driver and engine sharing only the store) rolls back to the last known
// good version without naming it.
func TestStoreHistoryAcrossMachines(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	store := deploytest.NewStore()
	machine := func() *deploy.Engine {
		drv := lambda.New(e.fake, lambda.Options{Clock: e.clock, History: lambda.StoreHistory(store)})
		return deploy.New(drv, deploy.Options{Clock: e.clock, Store: store})
	}
	a, b := machine(), machine()
	for _, v := range []string{"2", "3"} {
		if _, err := a.Deploy(ctx, e.versionRequest(v, deploy.AllAtOnce())); err != nil {
			t.Fatal(err)
		}
	}
	d, err := b.Rollback(ctx, deploy.RollbackRequest{Target: e.tgt})
	if err != nil {
		t.Fatal(err)
	}
	if v, w := e.fake.Alias("app", "live"); d.To.ID != "2" || v != "2" || len(w) != 0 {
		t.Errorf("rolled back to %s, alias on %s %v; want version 2, the last known good", d.To.ID, v, w)
	}
	hist, err := b.History(ctx, e.tgt)
	if err != nil {
		t.Fatal(err)
	}
	cur := 0
	for _, h := range hist {
		if h.Current {
			cur++
			if h.Revision.ID != "2" {
				t.Errorf("current %s; want 2", h.Revision.ID)
			}
		}
	}
	if cur != 1 {
		t.Errorf("%d current entries in %+v; want one", cur, hist)
	}
}
