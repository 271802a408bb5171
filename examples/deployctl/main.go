// Command deployctl is a deployment CLI built on switchyard, the way a
// platform team would embed the library in its own tool.
//
// Usage:
//
//	deployctl [global flags] <command> [command flags]
//
// Global flags: --region, --profile, --endpoint-url, --output text|json,
// --timeout. Exit status: 0 on success, 1 when a deployment failed, was
// stopped or was rolled back (or AWS refused a call), 2 on bad usage or
// invalid input.
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
)

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
		{"ecs", "deploy, roll back, refresh, scale or show an ECS service (deploy|rollback|refresh|scale|status)", runECS},
		{"ec2", "deploy to EC2/on-premises instances through CodeDeploy (deploy|rollback|stop|continue|status)", runEC2},
		{"opsworks", "deploy, run a command on, roll back or show an OpsWorks stack or app (deploy|command|rollback|status)", runOpsWorks},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
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
	fs.DurationVar(&a.timeout, "timeout", 0, "give up after this long (0: no limit); an engine-driven shift is rolled back")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
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
	rest := fs.Args()
	if len(rest) == 0 {
		usage(stderr, fs)
		return 2
	}
	for _, c := range commands() {
		if c.name != rest[0] {
			continue
		}
		if a.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, a.timeout)
			defer cancel()
		}
		err := c.run(ctx, a, rest[1:])
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "deployctl %s: %v\n", c.name, err)
		}
		return exitCode(err)
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
	fmt.Fprintln(a.stdout, "deployctl (switchyard)", version())
	return nil
}
