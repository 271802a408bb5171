package ec2_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
)

// TestPlanBatches plans fleets of 1, 2, 5, 10 and 100 instances against
// each predefined configuration and custom ones: the plan counts the
// instances and says how many go in each batch, or refuses a
// configuration that can never succeed on that fleet, without any
// mutating call.
func TestPlanBatches(t *testing.T) {
	type want struct {
		batches []int
		refused bool
	}
	rep := func(size, n int) []int {
		var out []int
		for left := n; left > 0; left -= size {
			out = append(out, min(size, left))
		}
		return out
	}
	configs := []struct {
		name string
		mh   *deploy.MinHealthyHosts // nil: the predefined config alone
		want func(n int) want
	}{
		{"CodeDeployDefault.OneAtATime", nil, func(n int) want { return want{batches: rep(1, n)} }},
		{"CodeDeployDefault.HalfAtATime", nil, func(n int) want {
			if n == 1 {
				return want{refused: true} // 50% of 1 rounds up to 1: none could go
			}
			return want{batches: rep(n-(n*50+99)/100, n)}
		}},
		{"CodeDeployDefault.AllAtOnce", nil, func(n int) want { return want{batches: []int{n}} }},
		{"HOST_COUNT:2", &deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 2}, func(n int) want {
			if n <= 2 {
				return want{refused: true}
			}
			return want{batches: rep(n-2, n)}
		}},
		{"HOST_COUNT:9", &deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 9}, func(n int) want {
			if n <= 9 {
				return want{refused: true}
			}
			return want{batches: rep(n-9, n)}
		}},
		{"FLEET_PERCENT:75", &deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 75}, func(n int) want {
			healthy := (n*75 + 99) / 100
			if n-healthy < 1 {
				return want{refused: true}
			}
			return want{batches: rep(n-healthy, n)}
		}},
		{"FLEET_PERCENT:99", &deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 99}, func(n int) want {
			if n < 100 {
				return want{refused: true}
			}
			return want{batches: rep(1, n)}
		}},
		{"FLEET_PERCENT:0", &deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 0}, func(n int) want { return want{batches: []int{n}} }},
	}
	for _, n := range []int{1, 2, 5, 10, 100} {
		for _, c := range configs {
			t.Run(fmt.Sprintf("%d/%s", n, c.name), func(t *testing.T) {
				e := newEnv(t, n)
				req := deploy.Request{Target: e.tgt, Options: e.nextS3()}
				if c.mh != nil {
					req.Strategy = deploy.AllAtOnce().WithMinHealthy(*c.mh)
				} else {
					s, err := deploy.ParseStrategy(c.name)
					if err != nil {
						t.Fatal(err)
					}
					req.Strategy = s
				}
				mut := e.cd.Mutations()
				p, err := e.drv.Prepare(context.Background(), req)
				if n := e.cd.Mutations() - mut; n != 0 {
					t.Errorf("Prepare made %d mutating calls", n)
				}
				w := c.want(n)
				if w.refused {
					var ve *deploy.ValidationError
					if !errors.As(err, &ve) || !errors.Is(err, deploy.ErrInvalidRequest) {
						t.Fatalf("Prepare: %v, want a *ValidationError", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Prepare: %v", err)
				}
				if p.Batches == nil || p.Batches.Instances != n {
					t.Fatalf("plan batches = %+v, want %d instances", p.Batches, n)
				}
				if !slices.Equal(p.Batches.Batches, w.batches) {
					t.Errorf("batches = %v, want %v", p.Batches.Batches, w.batches)
				}
			})
		}
	}
}

// TestBatchesRunInOrder deploys to five instances two at a time (HOST_COUNT
// 3) and checks the fleet share moves through the batches.
func TestBatchesRunInOrder(t *testing.T) {
	e := newEnv(t, 5)
	req := deploy.Request{Target: e.tgt, Options: e.nextS3(),
		Strategy: deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 3})}
	var percents []float64
	e.eng = deploy.New(e.drv, deploy.Options{Clock: e.clock, OnEvent: func(ev deploy.Event) {
		if ev.Kind == deploy.EventShift || ev.Kind == deploy.EventStatus {
			if len(percents) == 0 || percents[len(percents)-1] != ev.Percent {
				percents = append(percents, ev.Percent)
			}
		}
	}})
	d, err := e.run(t, req)
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatalf("deploy: %v, %v", d, err)
	}
	if dt := d.Detail.(*ec2.Detail); dt.DeploymentConfig != ec2.CustomConfigName(deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 3}) {
		t.Errorf("config = %s", dt.DeploymentConfig)
	}
	for _, want := range []float64{40, 80, 100} {
		if !slices.Contains(percents, want) {
			t.Errorf("percents seen %v, want %v among them", percents, want)
		}
	}
	created := 0
	for _, c := range e.cd.Calls() {
		if c.Op == "CreateDeploymentConfig" {
			created++
		}
	}
	if created != 1 {
		t.Errorf("CreateDeploymentConfig called %d times, want 1", created)
	}
	// The second time the configuration exists.
	req.Options = e.nextS3()
	if _, err := e.run(t, req); err != nil {
		t.Fatal(err)
	}
	created = 0
	for _, c := range e.cd.Calls() {
		if c.Op == "CreateDeploymentConfig" {
			created++
		}
	}
	if created != 1 {
		t.Errorf("CreateDeploymentConfig called %d times in all, want 1", created)
	}
}
