// Command quickstart runs a simulated canary deployment with no AWS account:
// the fake driver stands in for a Lambda alias, a simulated CloudWatch alarm
// watches the new version's error rate, the alarm fires half-way through the
// bake, and the engine rolls the alias back. Progress prints as it happens.
//
//	go run ./examples/quickstart            # about three seconds
//	go run ./examples/quickstart -healthy   # the same deployment without the bug
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	speed := fs.Float64("speed", 300, "simulated seconds per real second")
	instant := fs.Bool("instant", false, "do not wait at all (a fake clock that jumps)")
	healthy := fs.Bool("healthy", false, "deploy a version without the bug: the canary succeeds")
	strategy := fs.String("strategy", "canary:10:10m", "deployment strategy")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *speed <= 0 {
		fmt.Fprintln(stderr, "quickstart: -speed must be positive")
		return 2
	}
	s, err := deploy.ParseStrategy(*strategy)
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 2
	}

	var clock deploy.Clock = newScaledClock(deploytest.Epoch(), *speed)
	if *instant {
		clock = deploytest.NewAutoClock(time.Time{})
	}
	drv := deploytest.NewDriver(deploytest.DriverOptions{Platform: "lambda", Clock: clock})
	target := drv.AddTarget("checkout-api:live", deploy.Revision{ID: "41", Label: "v41"})
	alarm := &errorRateAlarm{name: "checkout-api-5xx", clock: clock, threshold: 2.0, buggy: !*healthy}
	start := clock.Now()

	eng := deploy.New(drv, deploy.Options{
		Clock:        clock,
		GateInterval: time.Minute,
		OnEvent: func(e deploy.Event) {
			if line := describe(e, alarm); line != "" {
				fmt.Fprintf(stdout, "[+%s] %s\n", clockOffset(e.Time.Sub(start)), line)
			}
		},
	})
	fmt.Fprintln(stdout, "switchyard quickstart: a simulated canary on the fake driver (no AWS account needed)")
	fmt.Fprintf(stdout, "deploying %s v41 -> v42 with %s; alarm %s (error rate > %.1f%%); roll back on alarm\n\n",
		target, s, alarm.name, alarm.threshold)
	d, err := eng.Deploy(ctx, deploy.Request{
		Target:     target,
		Revision:   deploy.Revision{ID: "42", Label: "v42"},
		Strategy:   s,
		Gates:      []deploy.Gate{alarm},
		RollbackOn: deploy.OnAlarm | deploy.OnFailure,
	})
	fmt.Fprintln(stdout)
	if d == nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 1
	}
	fmt.Fprintf(stdout, "result: %s, alias serves %s\n", d.Status, drv.Current("checkout-api:live").Label)
	if err != nil {
		fmt.Fprintf(stdout, "reason: %v\n", err)
	}
	switch {
	case *healthy && d.Status == deploy.StatusSucceeded, !*healthy && d.Status == deploy.StatusRolledBack:
		return 0
	default:
		return 1
	}
}

// describe turns an engine event into a progress line.
func describe(e deploy.Event, a *errorRateAlarm) string {
	switch e.Kind {
	case deploy.EventStatus:
		return fmt.Sprintf("%-8s %s", "status", e.Status) + where(e)
	case deploy.EventShift:
		return fmt.Sprintf("%-8s %s", "traffic", e.Message) + where(e)
	case deploy.EventGate:
		var ge *deploy.GateError
		if errors.As(e.Err, &ge) {
			return fmt.Sprintf("%-8s %s FAILED during %s: %v", "alarm", e.Gate, e.Phase, ge.Err)
		}
		return fmt.Sprintf("%-8s %s OK, error rate %.1f%%", "alarm", e.Gate, a.last())
	case deploy.EventStop, deploy.EventRollback, deploy.EventNote:
		return fmt.Sprintf("%-8s %s", e.Kind, e.Message)
	}
	return ""
}

// where says where the deployment stands, from the event's progress
// fields: step n of m, and the time left while it runs.
func where(e deploy.Event) string {
	if e.Steps == 0 {
		return ""
	}
	s := fmt.Sprintf("   [step %d/%d", e.Step+1, e.Steps)
	if !e.Status.Terminal() && e.Remaining > 0 {
		s += ", at least " + e.Remaining.Round(time.Second).String() + " left"
	}
	return s + "]"
}

func clockOffset(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}
