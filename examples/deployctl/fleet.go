package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/platform"
)

// fleetFile is what `deployctl fleet deploy FILE` reads (YAML or JSON):
//
//	concurrency: 4        # deployments at once (default 4)
//	failFast: false       # stop starting new ones after a failure
//	targets:
//	  - name: migrate
//	    lambda: {function: migrate, alias: live, zip: build/migrate.zip}
//	  - name: api
//	    after: [migrate]
//	    ecs: {cluster: prod, service: api, taskDefinition: api-td.json, tasks: 3}
//
// Each target is exactly one of lambda or ecs; after names the targets
// that must succeed before it starts. alarms (CloudWatch alarm names) are
// the ECS deployment's deploymentConfiguration.alarms, or the Lambda
// deployment's alarm gate; the Lambda gates of a fleet look their alarms
// up together (platform.AlarmBatcher: up to 100 names a DescribeAlarms
// call), and every alarm must exist before anything is deployed.
type fleetFile struct {
	Concurrency int           `yaml:"concurrency"`
	FailFast    bool          `yaml:"failFast"`
	Targets     []fleetTarget `yaml:"targets"`
}

type fleetTarget struct {
	Name   string       `yaml:"name"`
	After  []string     `yaml:"after"`
	ECS    *fleetECS    `yaml:"ecs"`
	Lambda *fleetLambda `yaml:"lambda"`
}

type fleetECS struct {
	Cluster        string   `yaml:"cluster"`
	Service        string   `yaml:"service"`
	TaskDefinition string   `yaml:"taskDefinition"`
	Tasks          *int32   `yaml:"tasks"`
	Strategy       string   `yaml:"strategy"`
	RollbackEvents string   `yaml:"rollbackEvents"`
	NoWait         bool     `yaml:"noWait"`
	Alarms         []string `yaml:"alarms"`
}

type fleetLambda struct {
	Function   string   `yaml:"function"`
	Alias      string   `yaml:"alias"`
	Zip        string   `yaml:"zip"`
	Version    string   `yaml:"version"`
	Strategy   string   `yaml:"strategy"`
	RollbackOn string   `yaml:"rollbackOn"`
	Alarms     []string `yaml:"alarms"`
}

// parseFleet reads and checks a fleet file; every refusal names the input.
func parseFleet(data []byte) (*fleetFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f fleetFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, deploy.Invalid("fleet", "", "the file is empty")
		}
		return nil, deploy.Invalid("fleet", "", err.Error())
	}
	if len(f.Targets) == 0 {
		return nil, deploy.Invalid("fleet.targets", "", "list at least one target")
	}
	if f.Concurrency < 0 {
		return nil, deploy.Invalid("fleet.concurrency", fmt.Sprint(f.Concurrency), "must not be negative")
	}
	for i, t := range f.Targets {
		field := fmt.Sprintf("fleet.targets[%d]", i)
		switch {
		case (t.ECS == nil) == (t.Lambda == nil):
			return nil, deploy.Invalid(field, t.Name, "give exactly one of ecs or lambda")
		case t.ECS != nil && (t.ECS.Service == "" || t.ECS.TaskDefinition == ""):
			return nil, deploy.Invalid(field+".ecs", t.Name, "service and taskDefinition are required")
		case t.Lambda != nil && (t.Lambda.Function == "" || t.Lambda.Alias == ""):
			return nil, deploy.Invalid(field+".lambda", t.Name, "function and alias are required")
		case t.Lambda != nil && (t.Lambda.Zip == "") == (t.Lambda.Version == ""):
			return nil, deploy.Invalid(field+".lambda", t.Name, "give exactly one of zip or version")
		}
	}
	return &f, nil
}

// alarms is every alarm name the fleet's targets watch, each once.
func (f *fleetFile) alarms() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range f.Targets {
		var names []string
		if t.ECS != nil {
			names = t.ECS.Alarms
		} else {
			names = t.Lambda.Alarms
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// items turns the fleet into deploy.FleetItems; alarmGate builds the gate
// of a Lambda target's alarms.
func (f *fleetFile) items(alarmGate func(names []string) (deploy.Gate, error)) ([]deploy.FleetItem, error) {
	out := make([]deploy.FleetItem, len(f.Targets))
	for i, t := range f.Targets {
		field := fmt.Sprintf("fleet.targets[%d]", i)
		var req deploy.Request
		var strategy, rollback string
		switch {
		case t.ECS != nil:
			req = deploy.Request{Target: ecs.Target(t.ECS.Cluster, t.ECS.Service), NoWait: t.ECS.NoWait,
				Options: ecs.DeployOptions{TaskDefinitionFile: t.ECS.TaskDefinition, Tasks: t.ECS.Tasks, Alarms: t.ECS.Alarms}}
			strategy, rollback = t.ECS.Strategy, t.ECS.RollbackEvents
		default:
			req = deploy.Request{Target: lambda.Target(t.Lambda.Function, t.Lambda.Alias),
				Revision: deploy.Revision{ID: t.Lambda.Version}, Options: &lambda.DeployOptions{ZipFile: t.Lambda.Zip}}
			strategy, rollback = t.Lambda.Strategy, t.Lambda.RollbackOn
			if rollback == "" {
				rollback = "failure,alarm"
			}
			if len(t.Lambda.Alarms) > 0 {
				g, err := alarmGate(t.Lambda.Alarms)
				if err != nil {
					return nil, fmt.Errorf("%s.lambda.alarms: %w", field, err)
				}
				req.Gates = []deploy.Gate{g}
			}
		}
		if strategy != "" {
			s, err := deploy.ParseStrategy(strategy)
			if err != nil {
				return nil, fmt.Errorf("%s.strategy: %w", field, err)
			}
			req.Strategy = s
		}
		on, err := deploy.ParseRollbackOn(rollback)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		req.RollbackOn = on
		name := t.Name
		if name == "" {
			name = req.Target.String()
		}
		out[i] = deploy.FleetItem{Name: name, Request: req, After: t.After}
	}
	return out, nil
}

// runFleet runs deployctl fleet deploy FILE.
func runFleet(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprintln(a.stderr, "usage: deployctl fleet deploy FILE   (YAML or JSON: concurrency, failFast, targets with ecs or lambda and after)")
		if len(args) == 0 {
			return usagef("fleet needs a subcommand")
		}
		return nil
	}
	if args[0] != "deploy" {
		return usagef("unknown fleet subcommand %q (want deploy)", args[0])
	}
	fs := a.flags("fleet deploy")
	dryRun := fs.Bool("dry-run", false, "plan every target and change nothing")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("fleet deploy wants one FILE")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return usagef("fleet file: %v", err)
	}
	f, err := parseFleet(data)
	if err != nil {
		return err
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	if err := checkAlarms(ctx, cfg, f.alarms()); err != nil {
		return err
	}
	// One batcher for the fleet: the gates checked within a second share
	// their DescribeAlarms calls.
	cw := platform.NewCloudWatchClient(cfg)
	batcher, err := platform.NewAlarmBatcher(cw, platform.AlarmBatcherOptions{})
	if err != nil {
		return err
	}
	items, err := f.items(func(names []string) (deploy.Gate, error) {
		return platform.NewAlarmGate(cw, platform.AlarmGateOptions{Names: names, Batcher: batcher})
	})
	if err != nil {
		return err
	}
	engines := []*deploy.Engine{
		a.engine(ecs.NewFromConfig(cfg, ecs.Options{}), deploy.Options{}),
		a.engine(lambda.NewFromConfig(cfg, lambda.Options{History: a.lambdaHistory(defaultHistory())}), deploy.Options{}),
	}
	if *dryRun {
		for _, it := range items {
			eng := engines[0]
			if it.Request.Target.Platform == lambda.Platform {
				eng = engines[1]
			}
			p, err := eng.Plan(ctx, it.Request)
			if err != nil {
				return fmt.Errorf("%s: %w", it.Name, err)
			}
			a.printPlan(p)
		}
		return nil
	}
	results, err := deploy.Fleet{Engines: engines, Concurrency: f.Concurrency, FailFast: f.FailFast}.Deploy(ctx, items)
	for _, r := range results {
		a.print(fleetLine{Name: r.Name, Started: r.Started, Deployment: r.Deployment, Error: errString(r.Err)}, func(w io.Writer) {
			status := "not started"
			if r.Deployment != nil {
				status = string(r.Deployment.Status)
			}
			fmt.Fprintf(w, "%-30s %-12s %s\n", r.Name, status, errString(r.Err))
		})
	}
	return err
}

// fleetLine is one target's outcome in --output json.
type fleetLine struct {
	Name       string             `json:"name"`
	Started    bool               `json:"started"`
	Deployment *deploy.Deployment `json:"deployment,omitempty"`
	Error      string             `json:"error,omitempty"`
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
