// Command deployctl is a deployment CLI built on switchyard, the way a
// platform team would embed the library in its own tool.
//
// Usage:
//
//	deployctl [global flags] <command> [command flags]
//
// With --output json, stdout is JSON Lines: one object per line, each with
// a "type" ("event", "plan", "status", "result"), camelCase field names,
// and the command's "result" (command, exitCode, error, deployment) last;
// human text never goes to stdout then.
//
// Global flags: --region, --profile, --endpoint-url, --output text|json,
// --timeout (default 10 minutes, as ecspresso's; 0 waits without limit),
// --cleanup-timeout (how long stopping and rolling back may take once a
// deployment must end early; default 15 minutes),
// --store (where deployments, history and locks are kept: a directory,
// file://DIR or dynamodb://TABLE; default DEPLOYCTL_STORE, else a per-user
// state directory) and --lock-lease (default 1m).
// SIGINT, SIGTERM and SIGHUP are handled alike: the first stops the
// deployment and restores the platform (an engine-driven shift is rolled
// back) within the engine's cleanup time; a second cuts that short, and
// deployctl prints the state it left and the command that repairs it.
// Whenever a deployment's cleanup failed (a stop or rollback AWS refused or
// kept throttling past --cleanup-timeout), deployctl prints one line with
// what the target is left serving and the exact command that repairs it
// ("left" in the --output json result).
// Exit status: 0 on success, 1 when a deployment failed, was
// stopped or was rolled back (or AWS refused a call), 2 on bad usage or
// invalid input, 3 when the target is locked by another run (the message
// names the holder and since when).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// defaultTimeout bounds every waiting command unless --timeout says
// otherwise: ecspresso's default.
const defaultTimeout = 10 * time.Minute

// command is one deployctl subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

// commands is the command table. Each platform adds its entry here.
func commands() []command {
	return []command{
		{"strategies", "show the steps of a strategy, or list CodeDeploy's predefined ones", runStrategies},
		{"lambda", "deploy, roll back, stop or show a Lambda alias (deploy|rollback|stop|status)", runLambda},
		{"ecs", "deploy, roll back, refresh, scale, diff, render or show an ECS service (deploy|rollback|refresh|scale|status|diff|render)", runECS},
		{"ec2", "deploy to EC2/on-premises instances through CodeDeploy (deploy|rollback|stop|continue|status)", runEC2},
		{"opsworks", "deploy, run a command on, roll back or show an OpsWorks stack or app (deploy|command|rollback|status)", runOpsWorks},
		{"store", "set up a store: store create dynamodb://TABLE (idempotent)", runStore},
		{"resume", "finish or roll back every deployment a dead process left unfinished", runResume},
		{"history", "show a target's revisions and known-good marks from the store (history TARGET)", runHistory},
		{"fleet", "deploy ECS services and Lambda aliases in dependency order from a YAML or JSON file (deploy FILE)", runFleet},
		{"version", "print the version", runVersion},
	}
}

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, interrupt := interruptible(context.Background(), sigs, os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sigs)
	interrupt()
	os.Exit(code)
}

// interruptible returns a context that the first signal on sigs cancels
// and whose cleanups (deploy.WithCleanupContext) the second cuts short, so
// SIGINT, SIGTERM and SIGHUP all stop a deployment the same way: the first
// stops it and restores the platform within the engine's cleanup time; the
// second stops at once. The returned func releases the watcher.
func interruptible(parent context.Context, sigs <-chan os.Signal, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	hard, cutShort := context.WithCancelCause(context.Background())
	quit := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "deployctl: %s: stopping the deployment and restoring the platform (send it again to stop at once)\n", s)
			cancel(fmt.Errorf("%w: interrupted by %s", context.Canceled, s))
		case <-quit:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "deployctl: %s again: cutting the cleanup short\n", s)
			cutShort(fmt.Errorf("%w: interrupted twice", context.Canceled))
		case <-quit:
		}
	}()
	return deploy.WithCleanupContext(ctx, hard), func() {
		close(quit)
		cancel(nil)
		cutShort(nil)
	}
}

// run executes deployctl with args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("deployctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&a.region, "region", "", "AWS region (default: AWS_REGION or the profile's)")
	fs.StringVar(&a.profile, "profile", "", "shared config profile (default: AWS_PROFILE)")
	fs.StringVar(&a.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint (default: AWS_ENDPOINT_URL)")
	fs.StringVar(&a.output, "output", "text", "output format: text or json")
	fs.DurationVar(&a.timeout, "timeout", defaultTimeout, "give up waiting after this long (0: no limit); an engine-driven shift is rolled back")
	fs.DurationVar(&a.cleanup, "cleanup-timeout", 15*time.Minute, "how long stopping and rolling back may take once a deployment must end early (a throttled stop or rollback is retried within it)")
	storeFlags(fs, a)
	fs.Usage = func() { usage(stderr, fs) }
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "deployctl: %v\n", err)
		return 2
	}
	if a.output != "text" && a.output != "json" {
		fmt.Fprintf(stderr, "deployctl: --output must be text or json, not %q\n", a.output)
		return 2
	}
	if a.timeout < 0 {
		fmt.Fprintln(stderr, "deployctl: --timeout must not be negative")
		return 2
	}
	if a.cleanup <= 0 {
		fmt.Fprintln(stderr, "deployctl: --cleanup-timeout must be positive")
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		usage(stderr, fs)
		return 2
	}
	for _, c := range commands() {
		if c.name != rest[0] {
			continue
		}
		if needsStore(c.name) {
			closeStore, err := a.openStore(ctx)
			if err != nil {
				fmt.Fprintf(stderr, "deployctl: --store: %v\n", err)
				return 2
			}
			defer closeStore()
		}
		if a.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, a.timeout)
			defer cancel()
		}
		err := c.run(ctx, a, rest[1:])
		if a.progress != nil {
			a.progress.finish()
		}
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "deployctl %s: %v\n", c.name, err)
		}
		interrupted := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, deploy.ErrTimeout)
		var left []*leftResult
		lefts := leftErrors(err)
		for _, le := range lefts {
			// The cleanup failed: say what the target serves and what
			// repairs it, one line per target.
			line, lr := a.left(le)
			if len(lefts) > 1 {
				line = le.Target.String() + ": " + line
			}
			fmt.Fprintf(stderr, "deployctl %s: %s\n", c.name, line)
			left = append(left, lr)
		}
		switch {
		case len(lefts) > 0:
		case interrupted && a.repair != nil && !errors.Is(err, deploy.ErrRolledBack):
			// Interrupted or out of time: say what repairs whatever the
			// platform was left with (the last state is printed above).
			fmt.Fprintf(stderr, "deployctl %s: if the target is not back on its previous revision, repair it with: %s\n", c.name, a.repair(nil))
		}
		code := exitCode(err)
		if a.output == "json" {
			r := result{Command: c.name, ExitCode: code, Deployment: a.last, Left: left}
			if len(rest) > 1 && !strings.HasPrefix(rest[1], "-") {
				r.Command += " " + rest[1]
			}
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				r.Error = err.Error()
			}
			a.jsonLine("result", r)
		}
		return code
	}
	fmt.Fprintf(stderr, "deployctl: unknown command %q\n", rest[0])
	usage(stderr, fs)
	return 2
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: deployctl [global flags] <command> [command flags]")
	fmt.Fprintln(w, "\ncommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nglobal flags:")
	fs.PrintDefaults()
}

func runVersion(_ context.Context, a *app, args []string) error {
	if err := parse(a.flags("version"), args); err != nil {
		return err
	}
	v := version()
	a.print(map[string]string{"version": v}, func(w io.Writer) { fmt.Fprintln(w, "deployctl (switchyard)", v) })
	return nil
}
