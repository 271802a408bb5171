package dynamostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/motoserver"
)

// BenchmarkDeployDynamoDBStore runs b.N deployments (a canary of 10%, a
// 5 minute bake and 100%; all at once) of the fake driver with the DynamoDB store on moto_server (loopback; a real
// table adds a network round trip per call), and reports the store calls
// per deployment.
func BenchmarkDeployDynamoDBStore(b *testing.B) {
	srv := motoserver.Start(b)
	for _, s := range []struct {
		name string
		s    deploy.Strategy
	}{{"canary-10-5m", deploy.Canary(10, 5*time.Minute)}, {"all-at-once", deploy.AllAtOnce()}} {
		b.Run(s.name, func(b *testing.B) { benchDynamo(b, srv, s.s) })
	}
}

func benchDynamo(b *testing.B, srv *motoserver.Server, strategy deploy.Strategy) {
	st, _, _ := newTable(b, srv)
	clock := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	cs := deploytest.NewCountingStore(st)
	eng := deploy.New(fake, deploy.Options{Clock: clock, Store: cs})
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
	calls, total := cs.Calls()
	b.ReportMetric(float64(total)/float64(b.N), "store-calls/op")
	b.ReportMetric(float64(calls["Append"])/float64(b.N), "appends/op")
	b.ReportMetric(float64(calls["Renew"])/float64(b.N), "renews/op")
}
