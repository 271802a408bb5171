package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

// Two engines share a store (in production: store/localstore on one
// machine, store/dynamostore across machines). While one deploys, the
// other is refused with a LockedError naming the holder.
func ExampleLockedError() {
	clock := deploytest.NewClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clock})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	store := deploytest.NewStore()
	alice := deploy.New(fake, deploy.Options{Clock: clock, Store: store, Owner: "alice"})
	bob := deploy.New(fake, deploy.Options{Clock: clock, Store: store, Owner: "bob"})

	ctx := context.Background()
	done := make(chan error)
	go func() {
		_, err := alice.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
			Strategy: deploy.Canary(10, 5*time.Minute)})
		done <- err
	}()
	_ = clock.BlockUntil(ctx, 1) // alice bakes at 10%

	_, err := bob.Deploy(ctx, deploy.Request{Target: target, Revision: deploy.Revision{ID: "v3"}})
	var le *deploy.LockedError
	if errors.As(err, &le) {
		fmt.Println("bob refused; held by", le.Holder.Owner, "since", le.Holder.Since.Format(time.Kitchen))
	}

	clock.SetAuto(true)
	fmt.Println("alice:", <-done)
	hist, _ := store.History(ctx, target.String())
	for _, h := range hist {
		fmt.Println(h.Revision.ID, h.Status)
	}
	// Output:
	// bob refused; held by alice since 12:00AM
	// alice: <nil>
	// v2 Succeeded
	// v1 Succeeded
}
