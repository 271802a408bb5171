package ec2_test

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// BenchmarkStatus measures one Status poll of a live deployment on fleets
// of 4 and 100 instances, and reports the CodeDeploy calls each poll
// makes (GetDeployment, ListDeploymentTargets, BatchGetDeploymentTargets
// 25 at a time).
func BenchmarkStatus(b *testing.B) {
	for _, n := range []int{4, 100} {
		b.Run(map[int]string{4: "4", 100: "100"}[n], func(b *testing.B) {
			e := newEnv(b, n)
			d := e.start(b, deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: oneAtATime(b)})
			e.clock.Advance(3 * time.Second)
			before := len(e.cd.Calls())
			b.ResetTimer()
			for range b.N {
				if _, err := e.drv.Status(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(e.cd.Calls())-before)/float64(b.N), "calls/op")
		})
	}
}

// BenchmarkPlan measures a dry run on a fleet of 100 tagged instances and
// reports its calls (CodeDeploy and EC2).
func BenchmarkPlan(b *testing.B) {
	e := newEnv(b, 100)
	req := deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: oneAtATime(b)}
	before, ec2Before := len(e.cd.Calls()), len(e.ec2.Calls())
	b.ResetTimer()
	for range b.N {
		if _, err := e.drv.Prepare(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(e.cd.Calls())-before)/float64(b.N), "codedeploy-calls/op")
	b.ReportMetric(float64(len(e.ec2.Calls())-ec2Before)/float64(b.N), "ec2-calls/op")
}

// BenchmarkDeploy runs a whole OneAtATime deployment of 10 instances on
// the engine and reports the CodeDeploy calls it took.
func BenchmarkDeploy(b *testing.B) {
	e := newEnv(b, 10)
	before := len(e.cd.Calls())
	b.ResetTimer()
	for range b.N {
		if _, err := e.run(b, deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: oneAtATime(b)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(e.cd.Calls())-before)/float64(b.N), "calls/op")
}
