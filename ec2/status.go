package ec2

import (
	"context"
	"errors"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// StatusMany reports each of deps as Status would, with the deployment
// records of up to platform.MaxBatchGetDeployments (25) deployments read in
// one BatchGetDeployments request (platform.CodeDeploy.StatusMany); each
// deployment's instances are still read on their own (ListDeploymentTargets,
// BatchGetDeploymentTargets), unless Options.InstancesOnChange spares the
// reads of those that have not changed. It changes nothing and never
// modifies an element of deps.
//
// The result has one entry per element of deps, in the same order; an
// entry is nil exactly where that deployment could not be reported (an
// unknown ID wraps deploy.ErrNotFound, a nil or ID-less one
// deploy.ErrInvalidRequest), and the error then joins (errors.Join) one
// *deploy.Error per nil entry, whose DeploymentID names it. A context that
// is done gives its error for every entry, before any call.
func (d *Driver) StatusMany(ctx context.Context, deps []*deploy.Deployment) ([]*deploy.Deployment, error) {
	out := make([]*deploy.Deployment, len(deps))
	errAt := make([]error, len(deps))
	var qs []platform.StatusQuery
	var at []int
	for i, dep := range deps {
		switch {
		case ctx.Err() != nil:
			errAt[i] = wrap("status", targetOf(dep), idOf(dep), ctx.Err())
		case dep == nil || dep.ID == "":
			errAt[i] = wrap("status", targetOf(dep), "", deploy.Invalid("deployment", "", "required"))
		default:
			qs = append(qs, platform.StatusQuery{ID: dep.ID, Last: dep})
			at = append(at, i)
		}
	}
	if len(qs) > 0 {
		states, errs := d.tracker.StatusMany(ctx, qs)
		for j, i := range at {
			if errs[j] != nil {
				errAt[i] = wrap("status", deps[i].Target, deps[i].ID, errs[j])
				continue
			}
			out[i] = report(deps[i], states[j])
		}
	}
	return out, errors.Join(errAt...)
}

// StatusBatchSize returns platform.MaxBatchGetDeployments (25), the
// deployments one BatchGetDeployments request reads, so the engine sends
// its gathered polls 25 at a time (deploy.BatchSizer).
func (d *Driver) StatusBatchSize() int { return platform.MaxBatchGetDeployments }
