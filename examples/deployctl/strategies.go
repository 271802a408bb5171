package main

import (
	"context"
	"fmt"
	"io"

	"github.com/switchyard/switchyard/deploy"
)

// runStrategies prints the steps of a strategy, with the batch plan for
// --instances N when it has a minimum healthy hosts rule, or lists
// CodeDeploy's predefined configurations.
func runStrategies(_ context.Context, a *app, args []string) error {
	fs := a.flags("strategies")
	instances := fs.Int("instances", 0, "fleet size for the batch plan of a minimum healthy hosts rule")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		names := deploy.CodeDeployConfigNames()
		a.print(names, func(w io.Writer) {
			for _, n := range names {
				fmt.Fprintln(w, n)
			}
		})
		return nil
	}
	if fs.NArg() > 1 {
		return usagef("one strategy at a time")
	}
	s, err := deploy.ParseStrategy(fs.Arg(0))
	if err != nil {
		return err
	}
	var plan *deploy.BatchPlan
	if *instances != 0 {
		if s.MinHealthy == nil {
			return usagef("--instances needs a strategy with a minimum healthy hosts rule")
		}
		p, err := s.MinHealthy.Plan(*instances)
		if err != nil {
			return err
		}
		plan = &p
	}
	out := struct {
		Strategy deploy.Strategy   `json:"strategy"`
		Steps    []deploy.Step     `json:"steps"`
		Batches  *deploy.BatchPlan `json:"batches,omitempty"`
	}{s, s.Normalized(), plan}
	a.print(out, func(w io.Writer) {
		fmt.Fprintln(w, s.String())
		for i, st := range s.Normalized() {
			switch st.Kind {
			case deploy.StepShift:
				fmt.Fprintf(w, "  %2d. shift to %v%%\n", i+1, st.Percent)
			case deploy.StepBake:
				fmt.Fprintf(w, "  %2d. bake %v\n", i+1, st.Duration)
			case deploy.StepApprove:
				fmt.Fprintf(w, "  %2d. wait for approval\n", i+1)
			}
		}
		if plan != nil {
			fmt.Fprintf(w, "  %d instances: batches %v, %d kept healthy, %d must succeed\n",
				plan.Instances, plan.Batches, plan.MinHealthy, plan.MustSucceed)
		}
	})
	return nil
}
