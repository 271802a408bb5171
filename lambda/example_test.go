package lambda_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
)

// A linear deployment of an existing version over the in-memory Lambda,
// with the alias weights it set. Real code passes lambda.NewFromConfig's
// client and keeps the default clock.
func Example() {
	f := lambdafake.New()
	f.AddFunction("app", 2)
	f.AddAlias("app", "live", "1", nil)
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	eng := deploy.New(lambda.New(f, lambda.Options{Clock: clk}), deploy.Options{Clock: clk})
	s, _ := deploy.ParseStrategy("CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
	d, err := eng.Deploy(context.Background(), deploy.Request{
		Target: lambda.Target("app", "live"), Revision: deploy.Revision{ID: "2"}, Strategy: s,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range f.AliasUpdates() {
		fmt.Println(u.Version, u.Weights)
	}
	fmt.Println(d.Status)
	// Output:
	// 1 map[2:0.1]
	// 1 map[2:0.2]
	// 1 map[2:0.3]
	// 1 map[2:0.4]
	// 1 map[2:0.5]
	// 1 map[2:0.6]
	// 1 map[2:0.7]
	// 1 map[2:0.8]
	// 1 map[2:0.9]
	// 2 map[]
	// Succeeded
}

// A stop without rollback leaves the alias weighted and locked; the
// rollback of the stopped deployment is the repair.
func ExampleDriver_Stop() {
	f := lambdafake.New()
	f.AddFunction("app", 2)
	f.AddAlias("app", "live", "1", nil)
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	drv := lambda.New(f, lambda.Options{Clock: clk})
	eng := deploy.New(drv, deploy.Options{Clock: clk})
	ctx := context.Background()
	tgt := lambda.Target("app", "live")

	p, _ := eng.Plan(ctx, deploy.Request{Target: tgt, Revision: deploy.Revision{ID: "2"}, Strategy: deploy.Canary(10, 0)})
	d, _ := drv.Start(ctx, p)
	_ = drv.Shift(ctx, d, 10)
	_, _ = drv.Stop(ctx, d, deploy.StopOptions{})
	st, _ := drv.Status(ctx, d)
	fmt.Println(st.Status, st.Percent)
	fmt.Println(f.Alias("app", "live"))

	_, err := eng.Plan(ctx, deploy.Request{Target: tgt, Revision: deploy.Revision{ID: "2"}})
	fmt.Println(errors.Is(err, deploy.ErrLocked))

	rb, _ := eng.Rollback(ctx, deploy.RollbackRequest{Target: tgt, Of: d.ID})
	fmt.Println(rb.Status, rb.To.ID)
	fmt.Println(f.Alias("app", "live"))
	// Output:
	// Stopped 10
	// 1 map[2:0.1]
	// true
	// Succeeded 1
	// 1 map[]
}
