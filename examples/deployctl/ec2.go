package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
)

// ec2Flags are the flags of the ec2 subcommands.
type ec2Flags struct {
	application, group string
	s3, bundleType     string
	github, appspec    string
	config, minHealthy string
	revision           string
	alarms             stringList
	rollbackOn         string
	fileExists         string
	ignoreStopFailures bool
	outdatedOnly       bool
	comment            string
	deploymentID       string
	dryRun, noWait     bool
	rollback           bool
}

// runEC2 dispatches deployctl ec2 deploy|rollback|stop|continue|status.
func runEC2(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(a.stderr, "usage: deployctl ec2 deploy|rollback|stop|continue|status --application A --group G [flags]")
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(a.stderr, "usage: deployctl ec2 deploy|rollback|stop|continue|status --application A --group G [flags]")
		return usagef("name an ec2 subcommand: deploy, rollback, stop, continue or status")
	}
	cmd := args[0]
	var f ec2Flags
	fs := a.flags("ec2 " + cmd)
	fs.StringVar(&f.application, "application", "", "CodeDeploy application (required)")
	fs.StringVar(&f.group, "group", "", "CodeDeploy deployment group (required)")
	switch cmd {
	case "deploy":
		fs.StringVar(&f.s3, "s3", "", "revision in S3: s3://bucket/key[?versionId=V]")
		fs.StringVar(&f.bundleType, "bundle-type", "", "bundle type of --s3: zip, tar or tgz (default: from the key's extension)")
		fs.StringVar(&f.github, "github", "", "revision in GitHub: OWNER/REPO@COMMIT")
		fs.StringVar(&f.appspec, "appspec", "", "deploy this AppSpec file's content inline (hooks only)")
		fs.StringVar(&f.minHealthy, "min-healthy", "", "custom minimum healthy hosts: HOST_COUNT:N or FLEET_PERCENT:N")
		fs.StringVar(&f.fileExists, "file-exists", "", "files already on the instances: DISALLOW, OVERWRITE or RETAIN")
		fs.BoolVar(&f.ignoreStopFailures, "ignore-application-stop-failures", false, "go on when ApplicationStop fails")
		fs.BoolVar(&f.outdatedOnly, "update-outdated-instances-only", false, "deploy only to instances not on the group's last revision")
		fs.StringVar(&f.comment, "description", "", "description recorded on the deployment")
		fallthrough
	case "rollback":
		fs.StringVar(&f.config, "config", "", "deployment configuration: CodeDeployDefault.OneAtATime, HalfAtATime, AllAtOnce or a custom one")
		fs.Var(&f.alarms, "alarm", "CloudWatch alarm CodeDeploy watches (repeatable)")
		fs.StringVar(&f.rollbackOn, "rollback-on", "failure,alarm", "CodeDeploy rolls back on: failure, alarm, stop (comma-separated; empty for never)")
		fs.BoolVar(&f.dryRun, "dry-run", false, "show the instances and batches and change nothing")
		fs.BoolVar(&f.noWait, "no-wait", false, "return once CodeDeploy accepted the deployment")
		if cmd == "rollback" {
			fs.StringVar(&f.revision, "revision", "", "revision ID to roll back to (default: the last one that succeeded)")
		}
	case "stop":
		fs.StringVar(&f.deploymentID, "deployment-id", "", "deployment to stop (required)")
		fs.BoolVar(&f.rollback, "rollback", true, "roll the instances back to the previous revision")
	case "continue":
		fs.StringVar(&f.deploymentID, "deployment-id", "", "blue/green deployment waiting in Ready (required)")
	case "status":
		fs.StringVar(&f.deploymentID, "deployment-id", "", "deployment to show (default: the group's history)")
	default:
		return usagef("unknown ec2 subcommand %q (want deploy, rollback, stop, continue or status)", cmd)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if f.application == "" || f.group == "" {
		return usagef("--application and --group are required")
	}
	if (cmd == "stop" || cmd == "continue") && f.deploymentID == "" {
		return usagef("--deployment-id is required")
	}
	target := ec2.Target(f.application, f.group)
	if cmd == "deploy" || cmd == "rollback" {
		a.repair = ec2Repair(f.application, f.group, a.lastDeployment)
	}
	opts, strategy, rollbackOn, err := f.options(cmd)
	if err != nil {
		return err
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	if err := checkAlarms(ctx, cfg, f.alarms); err != nil {
		return err
	}
	drv := ec2.NewFromConfig(cfg, ec2.Options{})
	eng := a.engine(drv, deploy.Options{})
	switch cmd {
	case "deploy":
		req := deploy.Request{Target: target, Strategy: strategy, RollbackOn: rollbackOn, NoWait: f.noWait,
			Comment: f.comment, Options: opts}
		if f.dryRun {
			p, err := eng.Plan(ctx, req)
			if err != nil {
				return err
			}
			a.printEC2Plan(p)
			return nil
		}
		d, err := eng.Deploy(ctx, req)
		a.printEC2Deployment(d)
		return err
	case "rollback":
		req := deploy.RollbackRequest{Target: target, To: f.revision, Strategy: strategy, NoWait: f.noWait, Options: opts}
		if f.dryRun {
			p, err := eng.PlanRollback(ctx, req)
			if err != nil {
				return err
			}
			a.printEC2Plan(p)
			return nil
		}
		d, err := eng.Rollback(ctx, req)
		a.printEC2Deployment(d)
		return err
	case "stop":
		d := &deploy.Deployment{ID: f.deploymentID, Target: target}
		rollback := f.rollback
		if rollback {
			// A deployment that already stopped has nothing left to stop.
			if st, err := drv.Status(ctx, d); err == nil && st.Status == deploy.StatusStopped {
				rollback = false
			}
		}
		out, err := drv.Stop(ctx, d, deploy.StopOptions{Rollback: rollback})
		if err != nil {
			return err
		}
		a.print(map[string]string{"deploymentId": f.deploymentID, "stop": string(out)}, func(w io.Writer) {
			fmt.Fprintf(w, "%s: stop %s\n", f.deploymentID, out)
		})
		return nil
	case "continue":
		if err := drv.Continue(ctx, &deploy.Deployment{ID: f.deploymentID, Target: target}); err != nil {
			return err
		}
		a.print(map[string]string{"deploymentId": f.deploymentID, "continue": "ok"}, func(w io.Writer) {
			fmt.Fprintf(w, "%s: continuing\n", f.deploymentID)
		})
		return nil
	default:
		return a.statusOrHistory(ctx, drv, target, f.deploymentID, a.printEC2Deployment)
	}
}

// statusOrHistory shows deployment id of target when id is set (with
// show), and target's history otherwise: what the status subcommands of
// the CodeDeploy and OpsWorks commands print.
func (a *app) statusOrHistory(ctx context.Context, drv interface {
	deploy.Driver
	deploy.Historian
}, target deploy.Target, id string, show func(*deploy.Deployment)) error {
	if id != "" {
		d, err := drv.Status(ctx, &deploy.Deployment{ID: id, Target: target})
		if err != nil {
			return err
		}
		show(d)
		return nil
	}
	h, err := drv.History(ctx, target)
	if err != nil {
		return err
	}
	a.printHistory(h)
	return nil
}

// options turns the deploy and rollback flags into driver options, a
// strategy and a rollback policy; bad values are invalid input (exit 2).
func (f *ec2Flags) options(cmd string) (*ec2.DeployOptions, deploy.Strategy, deploy.RollbackOn, error) {
	var strategy deploy.Strategy
	if cmd != "deploy" && cmd != "rollback" {
		return nil, strategy, 0, nil
	}
	o := &ec2.DeployOptions{Alarms: f.alarms, CodeDeployConfig: f.config,
		FileExistsBehavior:            ec2.FileExistsBehavior(strings.ToUpper(f.fileExists)),
		IgnoreApplicationStopFailures: f.ignoreStopFailures, UpdateOutdatedInstancesOnly: f.outdatedOnly}
	rollbackOn, err := deploy.ParseRollbackOn(f.rollbackOn)
	if err != nil {
		return nil, strategy, 0, err
	}
	if f.minHealthy != "" {
		m, err := deploy.ParseMinHealthyHosts(f.minHealthy)
		if err != nil {
			return nil, strategy, 0, err
		}
		strategy = deploy.AllAtOnce().WithMinHealthy(m)
	}
	if cmd == "rollback" {
		if o.CodeDeployConfig == "" && len(o.Alarms) == 0 {
			return nil, strategy, rollbackOn, nil
		}
		return o, strategy, rollbackOn, nil
	}
	sources := 0
	for _, s := range []string{f.s3, f.github, f.appspec} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return nil, strategy, 0, usagef("give exactly one of --s3, --github and --appspec")
	}
	if f.bundleType != "" && f.s3 == "" {
		return nil, strategy, 0, usagef("--bundle-type goes with --s3")
	}
	switch {
	case f.s3 != "":
		r, err := ec2.ParseS3URL(f.s3, f.bundleType)
		if err != nil {
			return nil, strategy, 0, err
		}
		o.S3 = &r
	case f.github != "":
		r, err := ec2.ParseGitHub(f.github)
		if err != nil {
			return nil, strategy, 0, err
		}
		o.GitHub = &r
	default:
		b, err := os.ReadFile(f.appspec)
		if err != nil {
			return nil, strategy, 0, usagef("--appspec: %v", err)
		}
		o.AppSpec = string(b)
	}
	return o, strategy, rollbackOn, nil
}

// printEC2Plan shows a dry run: the plan, the instance count and the
// batches.
func (a *app) printEC2Plan(p *deploy.Plan) {
	a.print(p, func(w io.Writer) {
		fmt.Fprint(w, p.String())
		if b := p.Batches; b != nil {
			sizes := make([]string, len(b.Batches))
			for i, n := range b.Batches {
				sizes[i] = fmt.Sprint(n)
			}
			fmt.Fprintf(w, "  instances: %d (at least %d kept healthy)\n", b.Instances, b.MinHealthy)
			fmt.Fprintf(w, "  batches: %d [%s]\n", len(b.Batches), strings.Join(sizes, " "))
		}
	})
}

// printEC2Deployment shows a deployment and, when it failed, which
// instance failed at which lifecycle event.
func (a *app) printEC2Deployment(d *deploy.Deployment) {
	if d == nil {
		return
	}
	a.printDeployment(d)
	if le := ec2.FailureOf(d); le != nil && a.output != "json" {
		a.mu.Lock()
		defer a.mu.Unlock()
		fmt.Fprintf(a.stdout, "failed: instance %s, lifecycle event %s", le.Instance, le.Event)
		if le.Code != "" {
			fmt.Fprintf(a.stdout, " (%s)", le.Code)
		}
		fmt.Fprintln(a.stdout)
	}
}
