package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// A canary whose final shift fails, on a platform that will neither stop
// it nor start its rollback: the error says what the target is left
// serving, read back through the driver's ServingReader, and what repairs
// it.
func ExampleLeftError() {
	clk := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := fake.AddTarget("web", deploy.Revision{ID: "arn:td/web:6", Label: "web:6"})
	fake.FailNext(2, errors.New("tasks keep failing"))
	fake.RefuseStop(errors.New("the platform is busy"))
	eng := deploy.New(fake, deploy.Options{Clock: clk})

	_, err := eng.Deploy(context.Background(), deploy.Request{Target: target,
		Revision: deploy.Revision{ID: "arn:td/web:7", Label: "web:7"},
		Strategy: deploy.Canary(30, 10*time.Minute), RollbackOn: deploy.OnFailure})
	var left *deploy.LeftError
	if errors.As(err, &left) {
		fmt.Println(left)
		fmt.Println("repair needed:", left.NeedsRepair(), "- roll back to", left.Repair)
	}
	// Output:
	// left serving web:7 at 30% and web:6 at 70%; repair: roll back to web:6 (Engine.Rollback)
	// repair needed: true - roll back to web:6
}
