package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs"
)

// optInt32 is an int flag that knows whether it was set.
type optInt32 struct{ v *int32 }

func (o *optInt32) String() string {
	if o.v == nil {
		return ""
	}
	return strconv.Itoa(int(*o.v))
}

// Set parses the value.
func (o *optInt32) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return err
	}
	v := int32(n)
	o.v = &v
	return nil
}

// ecsFlags are the flags of the ecs subcommands, with ecspresso's names.
type ecsFlags struct {
	cluster, service       string
	taskDef, serviceDef    string
	tasks                  optInt32
	dryRun, skipTaskDef    bool
	force, noWait, wait    bool
	waitUntil              string
	suspendAS, resumeAS    bool
	rollbackEvents         string
	noUpdateService        bool
	latestTaskDef          bool
	revision               int
	deregister             bool
	strategy               string
	blueGreen              bool
	alarms                 stringList
	cdApp, cdGroup, cdConf string
	config                 string
	extStr, extCode        stringList
	envFiles               stringList
	renderTargets          []string
}

func (f *ecsFlags) register(fs *flag.FlagSet, cmd string) {
	defer addNegations(fs)
	fs.StringVar(&f.config, "config", "", "ecspresso configuration file (ecspresso.yml, .json or .jsonnet): cluster, service, definitions, region, timeout, tfstate plugins; flags override it")
	fs.Var(&f.extStr, "ext-str", "Jsonnet external string variable NAME=VALUE (repeatable)")
	fs.Var(&f.extCode, "ext-code", "Jsonnet external code variable NAME=CODE (repeatable)")
	fs.Var(&f.envFiles, "envfile", "KEY=VALUE file read for env and must_env, over the environment (repeatable)")
	if cmd == "render" {
		fs.StringVar(&f.taskDef, "task-definition", "", "task definition file to render (default: the configuration's)")
		fs.StringVar(&f.serviceDef, "service-definition", "", "service definition file to render (default: the configuration's)")
		return
	}
	fs.StringVar(&f.cluster, "cluster", ecs.DefaultCluster, "ECS cluster")
	fs.StringVar(&f.service, "service", "", "ECS service (required unless --config names it)")
	if cmd == "status" {
		return
	}
	fs.BoolVar(&f.dryRun, "dry-run", false, "dry run (no changes to AWS)")
	fs.Var(&f.tasks, "tasks", "desired count of tasks (default: current count)")
	switch cmd {
	case "deploy", "diff":
		fs.StringVar(&f.taskDef, "task-definition", "", "task definition file (describe-task-definition output or register input)")
		fs.StringVar(&f.serviceDef, "service-definition", "", "service definition file (creates the service when missing)")
		fs.BoolVar(&f.skipTaskDef, "skip-task-definition", false, "skip registering a new task definition")
		fs.BoolVar(&f.force, "force-new-deployment", false, "force a new deployment")
		fs.BoolVar(&f.noUpdateService, "no-update-service", false, "don't update service attributes")
		fs.BoolVar(&f.latestTaskDef, "latest-task-definition", false, "use the latest task definition")
		fs.IntVar(&f.revision, "revision", 0, "deploy this revision of the task definition family")
		fs.StringVar(&f.rollbackEvents, "rollback-events", "", "roll back when these happen: DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_ALARM,DEPLOYMENT_STOP_ON_REQUEST")
		fs.StringVar(&f.strategy, "strategy", "", "all-at-once, canary:P:D, linear:P:D, or a CodeDeployDefault.ECS* name (default: the service's)")
		fs.BoolVar(&f.blueGreen, "blue-green", false, "deploy all at once as ECS BLUE_GREEN rather than ROLLING")
		fs.Var(&f.alarms, "alarm", "CloudWatch alarm for deploymentConfiguration.alarms (repeatable)")
		fs.StringVar(&f.cdApp, "codedeploy-application", "", "CodeDeploy application of a CODE_DEPLOY service")
		fs.StringVar(&f.cdGroup, "codedeploy-deployment-group", "", "CodeDeploy deployment group of a CODE_DEPLOY service")
		fs.StringVar(&f.cdConf, "codedeploy-config", "", "CodeDeploy deployment configuration")
	case "rollback":
		fs.IntVar(&f.revision, "revision", 0, "revision of the task definition to roll back to (default: the last known good)")
		fs.BoolVar(&f.deregister, "deregister", false, "deregister the rolled-back task definition")
		fs.BoolVar(&f.wait, "wait", true, "wait for the service to be stable")
	}
	if cmd != "rollback" {
		fs.BoolVar(&f.noWait, "no-wait", false, "don't wait for the service to be stable")
		fs.StringVar(&f.waitUntil, "wait-until", ecs.WaitStable, "wait until the service is stable or deployed")
		fs.BoolVar(&f.suspendAS, "suspend-auto-scaling", false, "suspend application auto-scaling")
		fs.BoolVar(&f.resumeAS, "resume-auto-scaling", false, "resume application auto-scaling")
	}
}

// ecsCommands are the ecs subcommands.
const ecsCommands = "deploy, rollback, refresh, scale, status, diff or render"

// runECS dispatches deployctl ecs deploy|rollback|refresh|scale|status|diff|render.
func runECS(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(a.stderr, "usage: deployctl ecs deploy|rollback|refresh|scale|status|diff|render [--config ecspresso.yml] --cluster C --service S [flags]")
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(a.stderr, "usage: deployctl ecs deploy|rollback|refresh|scale|status|diff|render [--config ecspresso.yml] --cluster C --service S [flags]")
		return usagef("name an ecs subcommand: %s", ecsCommands)
	}
	cmd := args[0]
	var f ecsFlags
	fs := a.flags("ecs " + cmd)
	switch cmd {
	case "deploy", "rollback", "refresh", "scale", "status", "diff", "render":
		f.register(fs, cmd)
	default:
		return usagef("unknown ecs subcommand %q (want %s)", cmd, ecsCommands)
	}
	rest := args[1:]
	if cmd == "render" {
		// ecspresso's render names what to render: config, servicedef,
		// taskdef, before or after the flags.
		for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			f.renderTargets = append(f.renderTargets, rest[0])
			rest = rest[1:]
		}
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		f.renderTargets = append(f.renderTargets, fs.Args()...)
	} else if err := parse(fs, rest); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	conf, err := f.loadConfig(a, set)
	if err != nil {
		return err
	}
	if cmd == "render" {
		return ecsRender(ctx, a, f, conf)
	}
	if f.service == "" {
		return usagef("--service is required")
	}
	// ecspresso's refresh and scale are option sets of a deployment.
	o := ecs.DeployOptions{
		Tasks:              f.tasks.v,
		TaskDefinitionFile: f.taskDef, ServiceDefinitionFile: f.serviceDef,
		SkipTaskDefinition: f.skipTaskDef, ForceNewDeployment: f.force, NoUpdateService: f.noUpdateService,
		LatestTaskDefinition: f.latestTaskDef, Revision: f.revision, WaitUntil: f.waitUntil,
		SuspendAutoScaling: f.suspendAS, ResumeAutoScaling: f.resumeAS,
		BlueGreen: f.blueGreen, Alarms: f.alarms,
		CodeDeployApplication: f.cdApp, CodeDeployDeploymentGroup: f.cdGroup, CodeDeployConfig: f.cdConf,
	}
	switch cmd {
	case "refresh":
		o.SkipTaskDefinition, o.ForceNewDeployment, o.NoUpdateService = true, true, true
	case "scale":
		o.SkipTaskDefinition, o.NoUpdateService = true, true
		if o.Tasks == nil {
			return &deploy.Error{Platform: ecs.Platform, Op: "prepare", Target: ecs.Target(f.cluster, f.service).String(),
				Err: deploy.Invalid("tasks", "", "scale needs a desired count")}
		}
	}
	// Definitions are rendered before any AWS call (after reading the
	// tfstate plugins' states, which may be in S3): a placeholder left, or
	// a must_env unset, is refused first.
	needDefs := cmd != "status" && cmd != "rollback"
	lateDefs := conf != nil && len(conf.Plugins) > 0
	renderDefs := func() error {
		if err := f.definitions(&o, conf); err != nil {
			return err
		}
		if (cmd == "deploy" || cmd == "diff") && o.TaskDefinition == nil && o.TaskDefinitionFile == "" && !f.skipTaskDef && !f.latestTaskDef && f.revision == 0 {
			return usagef("--task-definition FILE is required (or --skip-task-definition, --latest-task-definition, --revision)")
		}
		return nil
	}
	if needDefs && !lateDefs {
		if err := renderDefs(); err != nil {
			return err
		}
	}
	if conf != nil && conf.Timeout > 0 && a.timeout == defaultTimeout {
		// The configuration's timeout stands in for deployctl's default.
		var cancel context.CancelFunc
		ctx, cancel = withTimeoutFrom(ctx, conf.Timeout)
		defer cancel()
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	if err := checkAlarms(ctx, cfg, f.alarms); err != nil {
		return err
	}
	if conf != nil {
		if err := conf.LoadPlugins(ctx, newS3(cfg, a.endpointURL)); err != nil {
			return err
		}
	}
	if needDefs && lateDefs {
		if err := renderDefs(); err != nil {
			return err
		}
	}
	drv := ecs.NewFromConfig(cfg, ecs.Options{})
	target := ecs.Target(f.cluster, f.service)
	a.repair = ecsRepair(f.cluster, f.service)
	if cmd == "status" {
		return ecsStatus(ctx, a, drv, awsecs.NewFromConfig(cfg), f, target)
	}
	eng := a.engine(drv, deploy.Options{})
	if cmd == "rollback" {
		return ecsRollback(ctx, a, eng, drv, f, target)
	}
	req := deploy.Request{Target: target, Options: o, NoWait: f.noWait}
	if f.rollbackEvents != "" {
		if req.RollbackOn, err = deploy.ParseRollbackOn(f.rollbackEvents); err != nil {
			return err
		}
	}
	if f.strategy != "" {
		if req.Strategy, err = deploy.ParseStrategy(f.strategy); err != nil {
			return err
		}
	}
	p, err := eng.Plan(ctx, req)
	if err != nil {
		return err
	}
	if f.dryRun || cmd == "diff" {
		a.printPlan(p)
		return nil
	}
	d, err := eng.Execute(ctx, p)
	a.printDeployment(d)
	return err
}

// ecsRollback returns the service to its last known good task definition,
// or to revision --revision of its family, through the engine's Rollback
// (PlanRollback for --dry-run).
func ecsRollback(ctx context.Context, a *app, eng *deploy.Engine, drv *ecs.Driver, f ecsFlags, target deploy.Target) error {
	req := deploy.RollbackRequest{Target: target, NoWait: !f.wait,
		Options: &ecs.RollbackOptions{Deregister: f.deregister, Tasks: f.tasks.v}}
	invalid := func(field, value, reason string) error {
		return &deploy.Error{Platform: ecs.Platform, Op: "prepare", Target: target.String(), Err: deploy.Invalid(field, value, reason)}
	}
	if t := f.tasks.v; t != nil && *t < 0 {
		return invalid("tasks", strconv.Itoa(int(*t)), "must not be negative")
	}
	if f.revision > 0 {
		// --revision N is revision N of the family the service runs.
		h, err := drv.History(ctx, target)
		if err != nil {
			return err
		}
		for _, e := range h {
			if e.Current {
				family := e.Revision.Label
				if i := strings.LastIndex(family, ":"); i >= 0 {
					family = family[:i]
				}
				req.To = family + ":" + strconv.Itoa(f.revision)
				if req.To == e.Revision.Label {
					return invalid("revision", req.To, "the service already runs this task definition")
				}
			}
		}
		if req.To == "" {
			return fmt.Errorf("%w: service %s runs no task definition", deploy.ErrNotFound, target.Name)
		}
	} else if f.revision < 0 {
		return invalid("revision", strconv.Itoa(f.revision), "must be positive")
	}
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

// ecsStatus shows the service's PRIMARY deployment and its task definition
// history.
func ecsStatus(ctx context.Context, a *app, drv *ecs.Driver, c *awsecs.Client, f ecsFlags, target deploy.Target) error {
	out, err := c.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String(f.cluster), Services: []string{f.service}})
	if err != nil {
		return err
	}
	if len(out.Services) == 0 {
		return fmt.Errorf("%w: service %s in cluster %s", deploy.ErrNotFound, f.service, f.cluster)
	}
	for _, dep := range out.Services[0].Deployments {
		if aws.ToString(dep.Status) != "PRIMARY" {
			continue
		}
		td := aws.ToString(dep.TaskDefinition)
		d, err := drv.Status(ctx, &deploy.Deployment{ID: aws.ToString(dep.Id), Target: target, To: deploy.Revision{ID: td}})
		if err != nil {
			return err
		}
		a.printDeployment(d)
	}
	h, err := drv.History(ctx, target)
	if err != nil {
		return err
	}
	a.printHistory(h)
	return nil
}
