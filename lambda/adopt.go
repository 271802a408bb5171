package lambda

import (
	"context"

	"github.com/switchyard/switchyard/deploy"
)

var _ deploy.Adopter = (*Driver)(nil)

// Adopt takes over a client-driven deployment that another process started
// and left (deploy.Engine.Resume after a crash): dep carries the ID,
// target, From and To the journal recorded. Adopt reads the alias (one
// GetAlias call), registers the deployment so Status, Shift and Stop work
// on it, and returns it as the alias stands: Succeeded when the alias runs
// To alone, InProgress with To's share when the alias is weighted between
// From and To (or not moved yet), and Failed (Percent 0, with the reason)
// when someone else changed the alias since: Resume then leaves it alone. It changes nothing.
func (d *Driver) Adopt(ctx context.Context, dep *deploy.Deployment) (*deploy.Deployment, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("adopt", targetOf(dep), idOf(dep), err)
	}
	if dep == nil || dep.ID == "" || dep.From == nil || dep.From.ID == "" || dep.To.ID == "" {
		return nil, wrap("adopt", targetOf(dep), idOf(dep), deploy.Invalid("deployment", idOf(dep), "needs an ID, From and To"))
	}
	d.mu.Lock()
	rec, known := d.deps[dep.ID]
	d.mu.Unlock()
	if known {
		return d.Status(ctx, rec.d)
	}
	fn, alias, err := ParseTarget(dep.Target)
	if err != nil {
		return nil, wrap("adopt", dep.Target, dep.ID, err)
	}
	a, err := getAlias(ctx, d.client, fn, alias)
	if err != nil {
		return nil, wrap("adopt", dep.Target, dep.ID, err)
	}
	out := dep.Clone()
	rd := &Detail{Function: fn, Alias: alias, FromVersion: dep.From.ID, ToVersion: dep.To.ID}
	out.Detail = rd
	out.Percent = a.share(rd.ToVersion)
	now := d.opts.Clock.Now()
	out.UpdatedAt = now
	switch {
	case a.Version == rd.ToVersion && a.Single():
		out.Status, out.Percent, out.EndedAt = deploy.StatusSucceeded, 100, now
	case ours(a, rd):
		out.Status = deploy.StatusInProgress
	default:
		// Someone else owns the alias now: nothing of it is this
		// deployment's to move back.
		out.Status, out.Percent, out.EndedAt = deploy.StatusFailed, 0, now
		out.Reason = "alias " + alias + " changed outside this deployment: it runs " + a.String()
	}
	d.mu.Lock()
	if _, dup := d.deps[out.ID]; !dup {
		d.deps[out.ID] = &record{d: out.Clone(), det: rd}
	}
	d.mu.Unlock()
	return out, nil
}
