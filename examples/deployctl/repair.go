package main

import (
	"errors"
	"regexp"
	"strings"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ecs"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/opsworks"
)

// The commands that repair a target a deployment left in an unknown or
// split state: set as app.repair by each platform's commands, printed when
// a cleanup failed (le says what the target serves) or a deployment was
// interrupted (le is nil).

var plainArg = regexp.MustCompile(`^[A-Za-z0-9_./:@=+,-]+$`)

// commandLine joins a command line, quoting what a shell would split.
func commandLine(args ...string) string {
	for i, a := range args {
		if !plainArg.MatchString(a) {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(args, " ")
}

// ecsRepair rolls the service back: deployctl ecs rollback returns all
// traffic to the revision an unfinished deployment moved it from, else to
// the last known good one.
func ecsRepair(cluster, service string) func(*deploy.LeftError) string {
	return func(*deploy.LeftError) string {
		return commandLine("deployctl", "ecs", "rollback", "--cluster", cluster, "--service", service)
	}
}

// lambdaRepair: an alias left weighted is repaired by "lambda stop" (which
// points it at its primary version alone, the version the deployment moved
// traffic from); one left on the new version alone by "lambda rollback" to
// the version the cleanup was returning it to. Through CodeDeploy, a
// deployment still live is stopped (with rollback); one that ended is
// rolled back.
func lambdaRepair(f *lambdaFlags, last func() *deploy.Deployment) func(*deploy.LeftError) string {
	return func(le *deploy.LeftError) string {
		base := []string{"deployctl", "lambda"}
		target := []string{"--function", f.function, "--alias", f.alias}
		if f.codeDeploy != "" {
			target = append(target, "--codedeploy", f.codeDeploy)
			id, live := "", true
			switch {
			case le != nil:
				id, live = le.DeploymentID, le.Live
			case last() != nil:
				id, live = last().ID, !last().Status.Terminal()
			}
			if live && id != "" {
				return commandLine(append(append(append(base, "stop"), target...), "--deployment-id", id)...)
			}
			return commandLine(append(append(base, "rollback"), target...)...)
		}
		if f.history != defaultHistory() {
			target = append(target, "--history", f.history)
		}
		if le != nil && len(le.Serving) == 1 && le.Repair != nil && le.Serving[0].Revision.ID != le.Repair.ID {
			return commandLine(append(append(append(base, "rollback"), target...), "--version", le.Repair.ID)...)
		}
		return commandLine(append(append(base, "stop"), target...)...)
	}
}

// ec2Repair stops a CodeDeploy deployment still live (with rollback,
// deployctl ec2 stop's default), and rolls back a group whose deployment
// ended: a new deployment of the last revision that succeeded.
func ec2Repair(application, group string, last func() *deploy.Deployment) func(*deploy.LeftError) string {
	return func(le *deploy.LeftError) string {
		id, live := "", false
		switch {
		case le != nil:
			id, live = le.DeploymentID, le.Live
		case last() != nil:
			id, live = last().ID, !last().Status.Terminal()
		}
		if live && id != "" {
			return commandLine("deployctl", "ec2", "stop", "--application", application, "--group", group, "--deployment-id", id)
		}
		return commandLine("deployctl", "ec2", "rollback", "--application", application, "--group", group)
	}
}

// opsworksRepair redeploys the app's last known good revision.
func opsworksRepair(stack, app string) func(*deploy.LeftError) string {
	return func(*deploy.LeftError) string {
		return commandLine("deployctl", "opsworks", "rollback", "--stack", stack, "--app", app)
	}
}

// targetRepair is the repair of a target no command set one for (a fleet's
// targets), from the target alone.
func targetRepair(t deploy.Target) func(*deploy.LeftError) string {
	none := func() *deploy.Deployment { return nil }
	switch t.Platform {
	case ecs.Platform:
		cluster, service := t.Attrs["cluster"], t.Attrs["service"]
		if service == "" {
			cluster, service, _ = strings.Cut(t.Name, "/")
		}
		if service != "" {
			return ecsRepair(cluster, service)
		}
	case lambda.Platform:
		if fn, alias, err := lambda.ParseTarget(t); err == nil {
			return lambdaRepair(&lambdaFlags{function: fn, alias: alias, codeDeploy: t.Attrs["codedeploy"], history: defaultHistory()}, none)
		}
	case ec2.Platform:
		if app, group, err := ec2.ParseTarget(t); err == nil {
			return ec2Repair(app, group, none)
		}
	case opsworks.Platform:
		if t.Attrs["stack"] != "" && t.Attrs["app"] != "" {
			return opsworksRepair(t.Attrs["stack"], t.Attrs["app"])
		}
	}
	return nil
}

// leftErrors returns every *deploy.LeftError in err's tree, in order: one
// per target whose cleanup failed (a fleet may have several).
func leftErrors(err error) []*deploy.LeftError {
	var out []*deploy.LeftError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		var le *deploy.LeftError
		if x, ok := e.(*deploy.LeftError); ok {
			out = append(out, x)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		default:
			if errors.As(e, &le) {
				out = append(out, le)
			}
		}
	}
	walk(err)
	return out
}
