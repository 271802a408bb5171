package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/platform"
)

// lambdaFlags are the flags shared by the lambda subcommands.
type lambdaFlags struct {
	function, alias        string
	zip, s3, image         string
	version, config        string
	strategy               string
	alarms, alarmPrefixes  stringList
	insufficientFail       bool
	beforeHook, afterHook  string
	hookTimeout            time.Duration
	codeDeploy             string
	deploymentID           string
	rollbackOn             string
	history                string
	dryRun, noWait         bool
	resetWeights, rollback bool
	src, tfstate           string
	extStr, extCode        stringList
	envFiles               stringList
	// fileConfig is --config, rendered.
	fileConfig *lambda.FunctionConfig
}

func (f *lambdaFlags) register(fs *flag.FlagSet, cmd string) {
	fs.StringVar(&f.function, "function", "", "Lambda function name or ARN (required unless --config names it)")
	configHelp := "lambroll's function file (function.json or .jsonnet); its FunctionName stands in for --function (and the alias defaults to current)"
	if cmd == "deploy" {
		configHelp = "function file applied before publishing: lambroll's function.json (the CreateFunction input) or .jsonnet, rendered with env, must_env, json_escape and tfstate; creates the function (or the alias) when missing; its FunctionName stands in for --function (and the alias defaults to current)"
	}
	fs.StringVar(&f.config, "config", "", configHelp)
	fs.StringVar(&f.tfstate, "tfstate", "", "Terraform state (path or s3://bucket/key) for the function file's tfstate function")
	fs.Var(&f.extStr, "ext-str", "Jsonnet external string variable NAME=VALUE (repeatable)")
	fs.Var(&f.extCode, "ext-code", "Jsonnet external code variable NAME=CODE (repeatable)")
	fs.Var(&f.envFiles, "envfile", "KEY=VALUE file read for env and must_env, over the environment (repeatable)")
	fs.StringVar(&f.alias, "alias", "", "alias to shift (required)")
	fs.StringVar(&f.codeDeploy, "codedeploy", "", "APP/GROUP: hand the deployment to this CodeDeploy Lambda deployment group")
	fs.StringVar(&f.history, "history", defaultHistory(), "file that records the versions each alias ran (client-driven mode)")
	switch cmd {
	case "deploy", "rollback":
		fs.StringVar(&f.version, "version", "", "deploy this published version")
		fs.StringVar(&f.strategy, "strategy", "", "all-at-once, canary:P:D, linear:P:D, steps:..., or a CodeDeployDefault.Lambda* name")
		fs.Var(&f.alarms, "alarm", "CloudWatch alarm that stops the deployment (repeatable)")
		fs.Var(&f.alarmPrefixes, "alarm-prefix", "every CloudWatch alarm whose name starts with this (repeatable)")
		fs.BoolVar(&f.insufficientFail, "fail-on-insufficient-data", false, "treat INSUFFICIENT_DATA alarms as failures")
		fs.StringVar(&f.beforeHook, "before-hook", "", "validation function invoked before traffic moves (BeforeAllowTraffic)")
		fs.StringVar(&f.afterHook, "after-hook", "", "validation function invoked once all traffic moved (AfterAllowTraffic)")
		fs.DurationVar(&f.hookTimeout, "hook-timeout", lambda.DefaultHookTimeout, "how long a hook may run")
		fs.StringVar(&f.rollbackOn, "rollback-on", "failure,alarm", "roll back automatically on: failure, alarm, stop (comma-separated; empty for never)")
		fs.BoolVar(&f.dryRun, "dry-run", false, "show what would change and change nothing")
		fs.BoolVar(&f.noWait, "no-wait", false, "return once CodeDeploy accepted the deployment (--codedeploy only)")
	case "stop":
		fs.StringVar(&f.deploymentID, "deployment-id", "", "CodeDeploy deployment to stop (--codedeploy)")
		fs.BoolVar(&f.rollback, "rollback", true, "roll the CodeDeploy deployment back")
	case "status":
		fs.StringVar(&f.deploymentID, "deployment-id", "", "CodeDeploy deployment to show (--codedeploy)")
	}
	if cmd == "deploy" {
		fs.StringVar(&f.zip, "zip", "", "publish a new version from this zip file")
		fs.StringVar(&f.s3, "s3", "", "publish a new version from s3://bucket/key[?versionId=V]")
		fs.StringVar(&f.image, "image", "", "publish a new version from this container image URI")
		fs.StringVar(&f.src, "src", "", "publish a new version from a zip of this directory (lambroll's --src; .lambdaignore excludes)")
		fs.BoolVar(&f.resetWeights, "reset-weights", false, "repair an alias already weighted by pointing it at its primary version first")
	}
}

func defaultHistory() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ".switchyard-lambda-history.json"
	}
	return filepath.Join(dir, "switchyard", "lambda-history.json")
}

// runLambda dispatches deployctl lambda deploy|rollback|stop|status.
func runLambda(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(a.stderr, "usage: deployctl lambda deploy|rollback|stop|status --function F --alias A [flags]")
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(a.stderr, "usage: deployctl lambda deploy|rollback|stop|status --function F --alias A [flags]")
		return usagef("name a lambda subcommand: deploy, rollback, stop or status")
	}
	cmd := args[0]
	var f lambdaFlags
	fs := a.flags("lambda " + cmd)
	switch cmd {
	case "deploy", "rollback", "stop", "status":
		f.register(fs, cmd)
	default:
		return usagef("unknown lambda subcommand %q (want deploy, rollback, stop or status)", cmd)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if f.config != "" {
		if err := f.loadFunctionFile(ctx, a); err != nil {
			return err
		}
	}
	if f.function == "" || f.alias == "" {
		return usagef("--function and --alias are required")
	}
	target := lambda.Target(f.function, f.alias)
	a.repair = lambdaRepair(&f, a.lastDeployment)
	var app, group string
	if f.codeDeploy != "" {
		var ok bool
		app, group, ok = strings.Cut(f.codeDeploy, "/")
		if !ok || app == "" || group == "" {
			return usagef("--codedeploy wants APP/GROUP, not %q", f.codeDeploy)
		}
		target.Attrs = map[string]string{"codedeploy": f.codeDeploy}
	} else if f.noWait {
		return usagef("--no-wait needs --codedeploy: a client-driven deployment only moves while deployctl runs")
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	var drv deploy.Driver
	var client *lambda.Driver
	if f.codeDeploy != "" {
		drv = lambda.NewCodeDeployFromConfig(cfg, lambda.CodeDeployOptions{CodeDeployApplication: app, CodeDeployDeploymentGroup: group})
	} else {
		client = lambda.NewFromConfig(cfg, lambda.Options{History: a.lambdaHistory(f.history)})
		drv = client
	}
	eng := a.engine(drv, deploy.Options{})
	switch cmd {
	case "deploy":
		return lambdaDeploy(ctx, a, eng, client, cfg, target, &f)
	case "rollback":
		return lambdaRollback(ctx, a, eng, cfg, target, &f)
	case "stop":
		return lambdaStop(ctx, a, drv, client, target, &f)
	default:
		return lambdaStatus(ctx, a, drv, client, target, &f)
	}
}

// gates builds the alarm gate and the hooks the flags ask for.
func (f *lambdaFlags) gates(cfg aws.Config, lc lambda.Invoker) ([]deploy.Gate, error) {
	var gates []deploy.Gate
	if len(f.alarms) > 0 || len(f.alarmPrefixes) > 0 {
		o := platform.AlarmGateOptions{Names: f.alarms, Prefixes: f.alarmPrefixes}
		if f.insufficientFail {
			o.InsufficientData = platform.InsufficientDataFail
		}
		g, err := platform.NewAlarmGate(platform.NewCloudWatchClient(cfg), o)
		if err != nil {
			return nil, err
		}
		gates = append(gates, g)
	}
	ho := lambda.HookOptions{Timeout: f.hookTimeout}
	if f.beforeHook != "" {
		gates = append(gates, lambda.HookFunction(lc, f.beforeHook, deploy.PhaseBeforeTraffic, ho))
	}
	if f.afterHook != "" {
		gates = append(gates, lambda.HookFunction(lc, f.afterHook, deploy.PhaseAfterTraffic, ho))
	}
	return gates, nil
}

func lambdaDeploy(ctx context.Context, a *app, eng *deploy.Engine, client *lambda.Driver, cfg aws.Config, target deploy.Target, f *lambdaFlags) error {
	sources := 0
	for _, s := range []string{f.zip, f.s3, f.image, f.version, f.src} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return usagef("give exactly one of --zip, --s3, --image and --version (or --src DIR)")
	}
	if f.s3 != "" {
		if err := checkS3Flag(f.s3); err != nil {
			return err
		}
	}
	strategy, err := deploy.ParseStrategy(f.strategy)
	if err != nil {
		return err
	}
	rollbackOn, err := deploy.ParseRollbackOn(f.rollbackOn)
	if err != nil {
		return err
	}
	gates, err := f.gates(cfg, awslambda.NewFromConfig(cfg))
	if err != nil {
		return err
	}
	opts := &lambda.DeployOptions{ZipFile: f.zip, ImageURI: f.image, SourceDir: f.src, Config: f.fileConfig, ResetWeights: f.resetWeights}
	if f.s3 != "" && f.fileConfig != nil {
		// DeployOptions takes S3 as fields or as the revision's source.
		if u, err := url.Parse(f.s3); err == nil && u.Scheme == "s3" {
			opts.S3Bucket, opts.S3Key, opts.S3ObjectVersion = u.Host, strings.TrimPrefix(u.Path, "/"), u.Query().Get("versionId")
		}
	}
	if client != nil && f.fileConfig != nil && f.version == "" {
		exists, err := client.FunctionExists(ctx, target)
		if err != nil {
			return err
		}
		if !exists {
			return lambdaCreate(ctx, a, client, target, f, opts, true)
		}
		if _, err := client.Alias(ctx, target); errors.Is(err, deploy.ErrNotFound) {
			return lambdaCreate(ctx, a, client, target, f, opts, false)
		}
	}
	req := deploy.Request{Target: target, Revision: deploy.Revision{ID: f.version, Source: f.s3}, Strategy: strategy,
		Gates: gates, RollbackOn: rollbackOn, NoWait: f.noWait, Options: opts}
	if f.dryRun {
		p, err := eng.Plan(ctx, req)
		if err != nil {
			return err
		}
		a.printPlan(p)
		return nil
	}
	d, err := eng.Deploy(ctx, req)
	a.printDeployment(d)
	return err
}

// checkS3Flag refuses a --s3 that is not s3://bucket/key[?versionId=V]:
// another scheme would be read as a local file, and a query parameter
// other than versionId means nothing to Lambda and, in a URL copied from
// a console or presigned, is a credential the deployment would record as
// its source. Refusals show the URL without its query's values.
func checkS3Flag(s string) error {
	const want = "want s3://bucket/key[?versionId=V]"
	if !strings.HasPrefix(s, "s3://") {
		return deploy.Invalid("--s3", platform.RedactURL(s), "not an s3:// URL; "+want)
	}
	u, err := url.Parse(s)
	if err != nil {
		return deploy.Invalid("--s3", platform.RedactURL(s), want)
	}
	for k := range u.Query() {
		if k != "versionId" {
			return deploy.Invalid("--s3", platform.RedactURL(s), "unknown parameter "+k+"; "+want)
		}
	}
	if u.Fragment != "" {
		return deploy.Invalid("--s3", platform.RedactURL(s), "a fragment (#...) is not part of an S3 object's name; "+want)
	}
	return nil
}

func lambdaRollback(ctx context.Context, a *app, eng *deploy.Engine, cfg aws.Config, target deploy.Target, f *lambdaFlags) error {
	var strategy deploy.Strategy
	if f.strategy != "" {
		s, err := deploy.ParseStrategy(f.strategy)
		if err != nil {
			return err
		}
		strategy = s
	}
	gates, err := f.gates(cfg, awslambda.NewFromConfig(cfg))
	if err != nil {
		return err
	}
	req := deploy.RollbackRequest{Target: target, To: f.version, Strategy: strategy, Gates: gates, NoWait: f.noWait}
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
	return err
}

func lambdaStop(ctx context.Context, a *app, drv deploy.Driver, client *lambda.Driver, target deploy.Target, f *lambdaFlags) error {
	if client != nil {
		// A client-driven deployment lives in the process that runs it:
		// stopping from outside means removing the alias's weights.
		was, err := client.ResetWeights(ctx, target)
		if err != nil {
			return err
		}
		a.print(was, func(w io.Writer) {
			if was.Single() {
				fmt.Fprintf(w, "%s: alias runs %s alone; nothing to stop\n", target, was)
				return
			}
			fmt.Fprintf(w, "%s: was %s; now version %s alone\n", target, was, was.Version)
		})
		return nil
	}
	if f.deploymentID == "" {
		return usagef("--deployment-id is required with --codedeploy")
	}
	d := &deploy.Deployment{ID: f.deploymentID, Target: target}
	rollback := f.rollback
	if rollback {
		// A deployment that already stopped has nothing left to stop:
		// report it stopped, as CodeDeploy does, rather than refuse to
		// reverse it.
		if st, err := drv.Status(ctx, d); err == nil && st.Status == deploy.StatusStopped {
			rollback = false
		}
	}
	out, err := drv.(deploy.Stopper).Stop(ctx, d, deploy.StopOptions{Rollback: rollback})
	if err != nil {
		return err
	}
	a.print(map[string]string{"deploymentId": f.deploymentID, "stop": string(out)}, func(w io.Writer) {
		fmt.Fprintf(w, "%s: stop %s\n", f.deploymentID, out)
	})
	return nil
}

func lambdaStatus(ctx context.Context, a *app, drv deploy.Driver, client *lambda.Driver, target deploy.Target, f *lambdaFlags) error {
	if f.deploymentID != "" {
		if client != nil {
			return usagef("--deployment-id needs --codedeploy")
		}
		d, err := drv.Status(ctx, &deploy.Deployment{ID: f.deploymentID, Target: target})
		if err != nil {
			return err
		}
		a.printDeployment(d)
		return nil
	}
	if client != nil {
		st, err := client.Alias(ctx, target)
		if err != nil {
			return err
		}
		a.print(st, func(w io.Writer) { fmt.Fprintf(w, "%s: %s\n", target, st) })
	}
	h, err := drv.(deploy.Historian).History(ctx, target)
	if err != nil {
		if errors.Is(err, deploy.ErrNotFound) {
			return err
		}
		return err
	}
	a.printHistory(h)
	return nil
}
