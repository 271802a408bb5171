package deploy

import (
	"context"
	"fmt"
)

// RollbackRequest asks to return a target to an earlier revision.
type RollbackRequest struct {
	// Target is what to roll back. Required.
	Target Target
	// To names the revision to return to, by ID or label. Empty means the
	// last known good revision from the driver's Historian.
	To string
	// Strategy is how to shift back. Default AllAtOnce.
	Strategy Strategy
	// Gates are checked as for any deployment.
	Gates []Gate
	// Of is the ID of the deployment being reversed. Default: the deployment
	// that put the current revision in place, when history knows it.
	Of string
	// NoWait returns once the platform accepted the rollback (platform mode).
	NoWait bool
	// Options holds driver-specific options, such as *ecs.RollbackOptions.
	Options any
}

// Rollback returns a target to the last known good revision, or to the one
// req.To names, as a new deployment whose RollbackOf points at the
// deployment it reverses. Without a Historian, req.To is required. Asking
// for the revision the target already runs is an ErrInvalidRequest.
func (e *Engine) Rollback(ctx context.Context, req RollbackRequest) (*Deployment, error) {
	if req.Target.Platform == "" {
		req.Target.Platform = e.platform()
	}
	p, err := e.PlanRollback(ctx, req)
	if err != nil {
		return nil, err
	}
	return e.Execute(ctx, p)
}

// PlanRollback resolves a rollback and plans it without changing anything
// (the dry run of Rollback).
func (e *Engine) PlanRollback(ctx context.Context, req RollbackRequest) (*Plan, error) {
	if req.Target.Platform == "" {
		req.Target.Platform = e.platform()
	}
	if req.Target.Name == "" {
		return nil, e.wrap("rollback", req.Target, "", Invalid("target.name", "", "required"))
	}
	rev, of, err := e.resolveRollback(ctx, req)
	if err != nil {
		return nil, e.wrap("rollback", req.Target, "", err)
	}
	strategy := req.Strategy
	if len(strategy.Steps) == 0 {
		strategy = AllAtOnce()
	}
	return e.Plan(ctx, Request{
		Target:     req.Target,
		Revision:   rev,
		Strategy:   strategy,
		Gates:      req.Gates,
		RollbackOf: of,
		NoWait:     req.NoWait,
		Comment:    "rollback to " + rev.String(),
		Options:    req.Options,
	})
}

func (e *Engine) resolveRollback(ctx context.Context, req RollbackRequest) (Revision, string, error) {
	h, ok := e.drv.(Historian)
	if !ok {
		if req.To == "" {
			return Revision{}, "", Invalid("to", "", e.platform()+" keeps no revision history: name the revision to roll back to")
		}
		return Revision{ID: req.To}, req.Of, nil
	}
	hist, err := h.History(ctx, req.Target)
	if err != nil {
		return Revision{}, "", err
	}
	of := req.Of
	for _, en := range hist {
		if en.Current {
			if of == "" {
				of = en.DeploymentID
			}
			if req.To != "" && (en.Revision.ID == req.To || en.Revision.Label == req.To) {
				return Revision{}, "", Invalid("to", req.To, "the target already runs this revision")
			}
		}
	}
	if req.To == "" {
		good, ok := LastKnownGood(hist)
		if !ok {
			return Revision{}, "", fmt.Errorf("%w: no earlier revision of %s deployed successfully", ErrNotFound, req.Target)
		}
		return good.Revision, of, nil
	}
	for _, en := range hist {
		if en.Revision.ID == req.To || en.Revision.Label == req.To {
			return en.Revision, of, nil
		}
	}
	// Not in the history the driver keeps (it may keep only recent
	// deployments): let the driver resolve it.
	return Revision{ID: req.To}, of, nil
}
