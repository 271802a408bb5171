package deploy

import (
	"context"
	"fmt"
	"sort"
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
	// Options holds driver-specific options, read by the driver (the ecs
	// driver's *ecs.RollbackOptions, for example).
	Options any
}

// Rollback reverses a target's newest deployment, as a new deployment whose
// RollbackOf points at the one it reverses:
//
//   - When the newest deployment in the target's history did not complete
//     (it failed, was stopped part way, or is still live), rolling back
//     returns all traffic to the revision the target ran before it (the
//     Current entry): this is the repair of a deployment stopped without
//     rollback, whose split keeps the target locked.
//   - Otherwise it goes to the last known good revision (LastKnownGood),
//     or to the one req.To names; asking for the revision the target
//     already runs is an ErrInvalidRequest.
//
// Without a Historian, req.To is required.
func (e *Engine) Rollback(ctx context.Context, req RollbackRequest) (*Deployment, error) {
	if req.Target.Platform == "" {
		req.Target.Platform = e.platform()
	}
	if err := e.checkLock(ctx, req.Target); err != nil {
		return nil, err
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
	var hist []HistoryEntry
	var err error
	switch {
	case ok:
		hist, err = h.History(ctx, req.Target)
	case e.opts.Store != nil:
		hist, err = e.storeHistory(ctx, req.Target)
	case req.To == "":
		return Revision{}, "", Invalid("to", "", e.platform()+" keeps no revision history: name the revision to roll back to")
	default:
		return Revision{ID: req.To}, req.Of, nil
	}
	if err != nil {
		return Revision{}, "", err
	}
	hist = append([]HistoryEntry(nil), hist...)
	sort.SliceStable(hist, func(i, j int) bool { return hist[i].At.After(hist[j].At) })
	of := req.Of
	var cur *HistoryEntry
	for i := range hist {
		if hist[i].Current {
			cur = &hist[i]
			break
		}
	}
	names := func(en HistoryEntry) bool { return en.Revision.ID == req.To || en.Revision.Label == req.To }
	// An unfinished newest deployment may still hold part of the traffic:
	// reversing it puts everything back on the current revision.
	if cur != nil && len(hist) > 0 && !hist[0].Current && hist[0].Status != StatusSucceeded &&
		hist[0].Status != StatusRolledBack && (req.To == "" || names(*cur)) {
		if of == "" {
			of = hist[0].DeploymentID
		}
		return cur.Revision, of, nil
	}
	if cur != nil {
		if of == "" {
			of = cur.DeploymentID
		}
		if req.To != "" && names(*cur) {
			return Revision{}, "", Invalid("to", req.To, "the target already runs this revision")
		}
	}
	if req.To == "" {
		good, ok := LastKnownGood(hist)
		if !ok && e.opts.Store != nil {
			// The platform's history may be short (a process's memory): the
			// store remembers across processes and machines.
			good, ok = e.storeGood(ctx, req.Target, cur)
		}
		if !ok {
			return Revision{}, "", fmt.Errorf("%w: no earlier revision of %s deployed successfully", ErrNotFound, req.Target)
		}
		return good.Revision, of, nil
	}
	for _, en := range hist {
		if names(en) {
			return en.Revision, of, nil
		}
	}
	// Not in the history the driver keeps (it may keep only recent
	// deployments): let the driver resolve it.
	return Revision{ID: req.To}, of, nil
}
