package localstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// benchDeploys runs b.N deployments of the fake driver with strategy,
// each to its own target, on an engine with store (nil for none), and
// reports the store calls per deployment.
func benchDeploys(b *testing.B, store deploy.Store, strategy deploy.Strategy) {
	clock := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	var cs *deploytest.CountingStore
	opts := deploy.Options{Clock: clock}
	if store != nil {
		cs = deploytest.NewCountingStore(store)
		opts.Store = cs
	}
	eng := deploy.New(fake, opts)
	targets := make([]deploy.Target, b.N)
	for i := range targets {
		targets[i] = fake.AddTarget(fmt.Sprintf("web-%d", i), deploy.Revision{ID: "v1"})
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := eng.Deploy(ctx, deploy.Request{Target: targets[i], Revision: deploy.Revision{ID: "v2"},
			Strategy: strategy}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if cs != nil {
		calls, total := cs.Calls()
		b.ReportMetric(float64(total)/float64(b.N), "store-calls/op")
		b.ReportMetric(float64(calls["Append"])/float64(b.N), "appends/op")
		b.ReportMetric(float64(calls["Renew"])/float64(b.N), "renews/op")
	}
}

var strategies = []struct {
	name string
	s    deploy.Strategy
}{
	{"canary-10-5m", deploy.Canary(10, 5*time.Minute)},
	{"all-at-once", deploy.AllAtOnce()},
}

// BenchmarkDeployNoStore is the baseline: deployments with no store.
func BenchmarkDeployNoStore(b *testing.B) {
	for _, st := range strategies {
		b.Run(st.name, func(b *testing.B) { benchDeploys(b, nil, st.s) })
	}
}

// BenchmarkDeployLocalStore is the same with the local store.
func BenchmarkDeployLocalStore(b *testing.B) {
	for _, st := range strategies {
		b.Run(st.name, func(b *testing.B) { benchDeploys(b, open(b, b.TempDir()), st.s) })
	}
}
