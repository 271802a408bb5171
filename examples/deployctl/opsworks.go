package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/opsworks"
)

// opsworksFlags are the flags of the opsworks subcommands.
type opsworksFlags struct {
	stack, app     string
	command        string
	args           argList
	instances      stringList
	layers         stringList
	comment        string
	customJSON     string
	revision, to   string
	versions       int
	rollbackOn     string
	deploymentID   string
	dryRun, noWait bool
}

// argList is the repeatable --arg key=value flag. A value with commas is
// a list (recipes=a::b,c::d), except for upgrade_os_to, whose value is one
// name.
type argList map[string][]string

func (a *argList) String() string {
	var parts []string
	for k, v := range *a {
		parts = append(parts, k+"="+strings.Join(v, ","))
	}
	return strings.Join(parts, " ")
}

// Set adds one key=value.
func (a *argList) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("want key=value, not %q", s)
	}
	if *a == nil {
		*a = argList{}
	}
	vals := []string{v}
	if k != "upgrade_os_to" {
		vals = strings.Split(v, ",")
	}
	for _, x := range vals {
		(*a)[k] = append((*a)[k], strings.TrimSpace(x))
	}
	return nil
}

func (f *opsworksFlags) register(fs *flag.FlagSet, cmd string) {
	fs.StringVar(&f.stack, "stack", "", "OpsWorks stack ID (required)")
	fs.StringVar(&f.app, "app", "", "app ID (app commands, deploy, rollback, history)")
	if cmd == "status" {
		fs.StringVar(&f.deploymentID, "deployment-id", "", "show this deployment (default: the app's history)")
		return
	}
	fs.Var(&f.instances, "instance", "run on this instance (repeatable; default every instance of the stack)")
	fs.Var(&f.layers, "layer", "run on the instances of this layer (repeatable)")
	fs.StringVar(&f.comment, "comment", "", "the deployment's comment")
	fs.BoolVar(&f.dryRun, "dry-run", false, "show what would run and change nothing")
	fs.BoolVar(&f.noWait, "no-wait", false, "return once OpsWorks accepted the deployment")
	switch cmd {
	case "deploy", "command":
		fs.Var(&f.args, "arg", "command argument key=value (repeatable; recipes=a::b,c::d lists)")
		fs.StringVar(&f.customJSON, "custom-json", "", "custom JSON object, or @file to read it from a file (never printed)")
	}
	switch cmd {
	case "deploy":
		fs.StringVar(&f.revision, "revision", "", "app source revision to deploy (default: the app's source as it is)")
		fs.StringVar(&f.rollbackOn, "rollback-on", "failure", "redeploy the previous revision when the deployment: failure, alarm (comma-separated; empty for never)")
	case "command":
		fs.StringVar(&f.command, "command", "", "command to run (required): "+strings.Join(append(opsworks.AppCommands(), opsworks.StackCommands()...), ", "))
	case "rollback":
		fs.StringVar(&f.to, "to", "", "deploy this earlier revision (default: the last known good one)")
		fs.IntVar(&f.versions, "versions", 0, "use OpsWorks's rollback command to go this many versions back (1 to 4)")
	}
}

// runOpsWorks dispatches deployctl opsworks deploy|command|rollback|status.
func runOpsWorks(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(a.stderr, "usage: deployctl opsworks deploy|command|rollback|status --stack S [--app A] [flags]")
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(a.stderr, "usage: deployctl opsworks deploy|command|rollback|status --stack S [--app A] [flags]")
		return usagef("name an opsworks subcommand: deploy, command, rollback or status")
	}
	cmd := args[0]
	var f opsworksFlags
	fs := a.flags("opsworks " + cmd)
	switch cmd {
	case "deploy", "command", "rollback", "status":
		f.register(fs, cmd)
	default:
		return usagef("unknown opsworks subcommand %q (want deploy, command, rollback or status)", cmd)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if f.stack == "" {
		return usagef("--stack is required")
	}
	switch {
	case cmd == "deploy" && f.app == "", cmd == "rollback" && f.app == "":
		return usagef("--app is required for opsworks %s", cmd)
	case cmd == "command" && f.command == "":
		return usagef("--command is required")
	case cmd == "rollback" && f.to != "" && f.versions != 0:
		return usagef("give --to or --versions, not both")
	case cmd == "rollback" && f.versions == 0 && (len(f.instances) > 0 || len(f.layers) > 0):
		return usagef("--instance and --layer need --versions: a rollback to a revision redeploys it everywhere")
	case cmd == "status" && f.app == "" && f.deploymentID == "":
		return usagef("give --app (history) or --deployment-id")
	}
	if strings.HasPrefix(f.customJSON, "@") {
		b, err := os.ReadFile(strings.TrimPrefix(f.customJSON, "@"))
		if err != nil {
			return usagef("--custom-json: %v", err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return deploy.Invalid("customJson", strings.TrimPrefix(f.customJSON, "@"), "the file is empty: leave --custom-json out, or give a JSON object")
		}
		f.customJSON = string(b)
	}
	target := opsworks.Target(f.stack, f.app)
	if f.app != "" && (cmd == "deploy" || cmd == "rollback") {
		a.repair = opsworksRepair(f.stack, f.app)
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	drv := opsworks.NewFromConfig(cfg, opsworks.Options{})
	eng := a.engine(drv, deploy.Options{})
	opts := &opsworks.DeployOptions{Command: f.command, Args: f.args, InstanceIDs: f.instances, LayerIDs: f.layers, CustomJSON: f.customJSON}
	switch cmd {
	case "deploy":
		rollbackOn, err := deploy.ParseRollbackOn(f.rollbackOn)
		if err != nil {
			return err
		}
		opts.Command = opsworks.CommandDeploy
		return a.opsworksRun(ctx, eng, deploy.Request{Target: target, Revision: deploy.Revision{ID: f.revision},
			RollbackOn: rollbackOn, NoWait: f.noWait, Comment: f.comment, Options: opts}, f.dryRun)
	case "command":
		return a.opsworksRun(ctx, eng, deploy.Request{Target: target, NoWait: f.noWait, Comment: f.comment, Options: opts}, f.dryRun)
	case "rollback":
		if f.versions != 0 {
			opts.Command, opts.Versions = opsworks.CommandRollback, f.versions
			return a.opsworksRun(ctx, eng, deploy.Request{Target: target, NoWait: f.noWait, Comment: f.comment, Options: opts}, f.dryRun)
		}
		req := deploy.RollbackRequest{Target: target, To: f.to, NoWait: f.noWait}
		if f.dryRun {
			p, err := eng.PlanRollback(ctx, req)
			if err != nil {
				return err
			}
			a.printPlan(p)
			return nil
		}
		d, err := eng.Rollback(ctx, req)
		a.printDeployment(d)
		a.printFailed(d)
		return err
	default:
		return a.statusOrHistory(ctx, drv, target, f.deploymentID, func(d *deploy.Deployment) {
			a.printDeployment(d)
			a.printFailed(d)
		})
	}
}

// opsworksRun plans req and, unless dryRun, runs it.
func (a *app) opsworksRun(ctx context.Context, eng *deploy.Engine, req deploy.Request, dryRun bool) error {
	if dryRun {
		p, err := eng.Plan(ctx, req)
		if err != nil {
			return err
		}
		a.printPlan(p)
		return nil
	}
	d, err := eng.Deploy(ctx, req)
	a.printDeployment(d)
	a.printFailed(d)
	return err
}

// printFailed names the instances whose command failed, on stderr.
func (a *app) printFailed(d *deploy.Deployment) {
	failed := opsworks.FailedInstances(d)
	if len(failed) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.output == "json" {
		type inst struct {
			InstanceID string `json:"instanceId"`
			ExitCode   int    `json:"exitCode"`
			LogURL     string `json:"logUrl,omitempty"`
		}
		v := struct {
			Type      string `json:"type"`
			Instances []inst `json:"instances"`
		}{Type: "failedInstances"}
		for _, f := range failed {
			v.Instances = append(v.Instances, inst{f.InstanceID, f.ExitCode, f.LogURL})
		}
		b, _ := json.Marshal(v)
		fmt.Fprintln(a.stderr, string(b))
		return
	}
	ids := make([]string, len(failed))
	for i, f := range failed {
		ids[i] = f.InstanceID
	}
	fmt.Fprintf(a.stderr, "failed instances: %s\n", strings.Join(ids, " "))
	for _, f := range failed {
		fmt.Fprintf(a.stderr, "  %s\n", f)
	}
}
