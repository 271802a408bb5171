package platform

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// BenchmarkAlarmGatesTogether checks n gates, one distinct alarm each, all
// at once, with a shared AlarmBatcher and without, and reports the
// DescribeAlarms calls per round of checks. The batcher's window runs on a
// manual clock, moved once every gate waits in it.
func BenchmarkAlarmGatesTogether(b *testing.B) {
	for _, n := range []int{10, 300, 1000} {
		for _, batched := range []bool{false, true} {
			b.Run(fmt.Sprintf("gates=%d/%s", n, map[bool]string{true: "batched", false: "direct"}[batched]), func(b *testing.B) {
				fake := &fakeCloudWatch{pageSize: 100}
				clk := deploytest.NewClock(time.Time{})
				var ab *AlarmBatcher
				if batched {
					ab, _ = NewAlarmBatcher(fake, AlarmBatcherOptions{Clock: clk})
				}
				gates := make([]*AlarmGate, n)
				for i := range gates {
					name := fmt.Sprintf("svc%04d-errors", i)
					fake.metric = append(fake.metric, metric(name, cwtypes.StateValueOk, ""))
					gates[i], _ = NewAlarmGate(fake, AlarmGateOptions{Names: []string{name}, Batcher: ab})
				}
				b.ResetTimer()
				for range b.N {
					var wg sync.WaitGroup
					for _, g := range gates {
						wg.Go(func() {
							if err := g.Check(context.Background(), deploy.Check{Phase: deploy.PhaseBake}); err != nil {
								b.Error(err)
							}
						})
					}
					if batched {
						for {
							if ab.g.Pending() == n {
								break
							}
							runtime.Gosched() // let the gates' goroutines reach the batcher
						}
						if err := clk.BlockUntil(context.Background(), 1); err != nil { // the window is open
							b.Fatal(err)
						}
						clk.Advance(DefaultAlarmBatchWindow)
					}
					wg.Wait()
				}
				b.StopTimer()
				fake.mu.Lock()
				calls := len(fake.calls)
				fake.mu.Unlock()
				b.ReportMetric(float64(calls)/float64(b.N), "DescribeAlarms/round")
				b.ReportMetric(float64(calls)/float64(b.N)/float64(n), "DescribeAlarms/check")
			})
		}
	}
}
