package opsworks_test

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/opsworks"
	"github.com/switchyard/switchyard/opsworks/opsworksfake"
)

// A deploy of a new app revision over the in-memory OpsWorks, then a stack
// command that fails on one instance. Real code passes
// opsworks.NewFromConfig's client and keeps the default clock.
func Example() {
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	f := opsworksfake.New(opsworksfake.Options{Clock: clk})
	f.AddStack("stack-1")
	f.AddInstance("stack-1", "i-1")
	f.AddInstance("stack-1", "i-2")
	f.AddApp("stack-1", "app-1", "v1", true)
	eng := deploy.New(opsworks.New(f, opsworks.Options{Clock: clk}), deploy.Options{Clock: clk})
	ctx := context.Background()

	d, err := eng.Deploy(ctx, deploy.Request{
		Target:   opsworks.Target("stack-1", "app-1"),
		Revision: deploy.Revision{ID: "v2"},
		Comment:  "release 2",
		Options:  &opsworks.DeployOptions{Args: map[string][]string{"migrate": {"true"}}},
	})
	fmt.Println(d.Status, d.From.ID, "->", d.To.ID, f.Serving("app-1"), err)

	f.FailNext(1)
	d, err = eng.Deploy(ctx, deploy.Request{
		Target: opsworks.Target("stack-1", ""),
		Options: &opsworks.DeployOptions{Command: opsworks.CommandExecuteRecipes,
			Args: map[string][]string{"recipes": {"phpapp::appsetup"}}},
	})
	fmt.Println(d.Status, opsworks.FailedInstances(d)[0].InstanceID)
	fmt.Println(err != nil)
	// Output:
	// Succeeded v1 -> v2 map[v2:100] <nil>
	// Failed i-2
	// true
}

// Bad arguments are refused before any call, naming the argument.
func ExampleValidateCommand() {
	fmt.Println(opsworks.ValidateCommand("update_dependencies", map[string][]string{"upgrade_os_to": {"Amazon Linux 2018.03"}}))
	fmt.Println(opsworks.ValidateCommand("execute_recipes", map[string][]string{"recipes": {"phpapp"}}))
	fmt.Println(opsworks.ValidateCustomJSON(`{"key": value}`))
	// Output:
	// invalid command.args.allow_reboot: upgrade_os_to needs allow_reboot true
	// invalid command.args.recipes "phpapp": want cookbook::recipe
	// invalid customJson: not valid JSON at byte 9 (line 1, column 9)
}
