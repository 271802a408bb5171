package lambda

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
)

// lookup finds a deployment this driver started. It makes no call.
func (d *Driver) lookup(op string, dep *deploy.Deployment) (*record, error) {
	if dep == nil || dep.ID == "" {
		return nil, wrap(op, targetOf(dep), "", deploy.Invalid("deployment", "", "required"))
	}
	d.mu.Lock()
	rec, ok := d.deps[dep.ID]
	d.mu.Unlock()
	if !ok {
		return nil, wrap(op, dep.Target, dep.ID,
			fmt.Errorf("%w: deployment %s was not started by this driver", deploy.ErrNotFound, dep.ID))
	}
	return rec, nil
}

// weight returns the alias weight for a traffic percentage (percent/100),
// or a *deploy.ValidationError when percent is outside 1..100 or not a
// number.
func weight(percent float64) (float64, error) {
	if math.IsNaN(percent) || percent < 1 || percent > 100 {
		return 0, deploy.Invalid("percent", strconv.FormatFloat(percent, 'f', -1, 64),
			"want a share of traffic between 1 and 100")
	}
	return percent / 100, nil
}

// Shift puts percent (1..100) of the alias's traffic on the new version:
// below 100, the alias keeps the old version as its primary and weights the
// new one at percent/100 in RoutingConfig.AdditionalVersionWeights; at 100
// it points at the new version with no weights and the deployment is
// Succeeded. It makes one UpdateAlias call, which carries the alias's
// RevisionId: a change made by someone else since the last shift fails
// with deploy.ErrLocked rather than being overwritten, and a failed call
// leaves the alias as it was.
//
// Refused before any call: a percent outside 1..100 or not a number, and a
// deployment that has ended or was stopped (deploy.ErrInvalidRequest); a
// deployment this driver did not start (deploy.ErrNotFound).
func (d *Driver) Shift(ctx context.Context, dep *deploy.Deployment, percent float64) error {
	if err := ctx.Err(); err != nil {
		return wrap("shift", targetOf(dep), idOf(dep), err)
	}
	w, err := weight(percent)
	if err != nil {
		return wrap("shift", targetOf(dep), idOf(dep), err)
	}
	rec, err := d.lookup("shift", dep)
	if err != nil {
		return err
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return wrap("shift", rec.d.Target, rec.d.ID, err)
	}
	if rec.d.Status.Terminal() {
		return wrap("shift", rec.d.Target, rec.d.ID,
			deploy.Invalid("deployment", rec.d.ID, "it is "+string(rec.d.Status)+"; a deployment that ended cannot shift"))
	}
	det := rec.det
	cur, err := getAlias(ctx, d.client, det.Function, det.Alias)
	if err != nil {
		return wrap("shift", rec.d.Target, rec.d.ID, err)
	}
	if !ours(cur, det) {
		return wrap("shift", rec.d.Target, rec.d.ID, fmt.Errorf("%w: alias %s changed outside this deployment: it now runs %s",
			deploy.ErrLocked, det.Alias, cur))
	}
	in := &awslambda.UpdateAliasInput{FunctionName: aws.String(det.Function), Name: aws.String(det.Alias),
		RevisionId: optString(cur.RevisionID)}
	if percent == 100 || det.FromVersion == det.ToVersion {
		in.FunctionVersion = aws.String(det.ToVersion)
		in.RoutingConfig = noWeights()
	} else {
		in.FunctionVersion = aws.String(det.FromVersion)
		in.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{det.ToVersion: w}}
	}
	err = retryConflict(ctx, d.opts, "UpdateAlias", func() error { return updateAlias(ctx, d.client, in) })
	if err != nil {
		return wrap("UpdateAlias", rec.d.Target, rec.d.ID, fmt.Errorf("shift alias %s to %s%%: %w",
			det.Alias, strconv.FormatFloat(percent, 'f', -1, 64), err))
	}
	now := d.opts.Clock.Now()
	rec.d.Percent = percent
	rec.d.UpdatedAt = now
	if percent == 100 {
		rec.d.Status = deploy.StatusSucceeded
		rec.d.EndedAt = now
		d.record(ctx, rec)
	}
	return nil
}

// ours reports whether the alias is where this deployment leaves it: on the
// old version, possibly weighted towards the new one.
func ours(a AliasState, det *Detail) bool {
	if a.Version != det.FromVersion {
		return false
	}
	for v := range a.Weights {
		if v != det.ToVersion {
			return false
		}
	}
	return true
}

// pin points the alias at version alone, with no weights, whatever it ran
// before. The update carries the RevisionId of the alias as pin read it
// just before, so a change made in between fails (deploy.ErrLocked) rather
// than being overwritten; an alias already on version alone is left as it
// is.
func (d *Driver) pin(ctx context.Context, fn, alias, version string) error {
	return retryConflict(ctx, d.opts, "UpdateAlias", func() error {
		cur, err := getAlias(ctx, d.client, fn, alias)
		if err != nil {
			return err
		}
		if cur.Version == version && cur.Single() {
			return nil
		}
		return updateAlias(ctx, d.client, &awslambda.UpdateAliasInput{FunctionName: aws.String(fn),
			Name: aws.String(alias), FunctionVersion: aws.String(version), RoutingConfig: noWeights(),
			RevisionId: optString(cur.RevisionID)})
	})
}

// Stop ends a live deployment. With o.Rollback the alias returns to the old
// version alone (one UpdateAlias call) and the deployment is RolledBack at
// 0 percent. Without it nothing moves: the alias keeps the weights it has,
// and the deployment is Stopped with Percent the share the new version
// still has. An alias left weighted that way keeps the target locked:
// Prepare refuses new deployments with a *WeightedAliasError until a
// rollback (deploy.Engine.Rollback, or a request whose RollbackOf names the
// stopped deployment) or DeployOptions.ResetWeights puts it on one
// version. The engine's own cleanup (a cancelled or failed deployment it
// rolls back) always stops with rollback.
//
// Stopping a deployment that has ended changes nothing and makes no call:
// StopSucceeded for one that ended RolledBack, or Stopped or Failed when no
// rollback is asked; an error wrapping deploy.ErrCannotStop for one that
// Succeeded, and for a rollback of one that ended Stopped or Failed (an
// ended deployment is reversed by a new one, deploy.Engine.Rollback). Stop
// answers StopSucceeded or an error, never StopPending: the alias update is
// synchronous.
func (d *Driver) Stop(ctx context.Context, dep *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", wrap("stop", targetOf(dep), idOf(dep), err)
	}
	rec, err := d.lookup("stop", dep)
	if err != nil {
		return "", err
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return "", wrap("stop", rec.d.Target, rec.d.ID, err)
	}
	det := rec.det
	if out, ended, err := deploy.StopEnded(rec.d.Status, o); ended {
		return out, wrap("stop", rec.d.Target, rec.d.ID, err)
	}
	now := d.opts.Clock.Now()
	if !o.Rollback {
		rec.d.Status = deploy.StatusStopped
		rec.d.UpdatedAt, rec.d.EndedAt = now, now
		rec.d.Reason = o.Reason
		if rec.d.Percent > 0 {
			rec.d.Reason = joinReason(rec.d.Reason, fmt.Sprintf("stopped with %s%% of alias %s on version %s; "+
				"the alias stays weighted until rolled back", strconv.FormatFloat(rec.d.Percent, 'f', -1, 64), det.Alias, det.ToVersion))
		}
		d.record(ctx, rec)
		deploy.NotifierFrom(ctx)(deploy.EventNote, "stopped; alias "+det.Alias+" left as it is")
		return deploy.StopSucceeded, nil
	}
	if err := d.pin(ctx, det.Function, det.Alias, det.FromVersion); err != nil {
		return "", wrap("UpdateAlias", rec.d.Target, rec.d.ID, fmt.Errorf("return alias %s to version %s: %w", det.Alias, det.FromVersion, err))
	}
	now = d.opts.Clock.Now()
	rec.d.Status = deploy.StatusRolledBack
	rec.d.Percent = 0
	rec.d.UpdatedAt, rec.d.EndedAt = now, now
	rec.d.Reason = o.Reason
	d.record(ctx, rec)
	deploy.NotifierFrom(ctx)(deploy.EventNote, "alias "+det.Alias+" returned to version "+det.FromVersion)
	return deploy.StopSucceeded, nil
}

func joinReason(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// Status reports the deployment with the share of traffic the alias really
// gives the new version. It changes nothing and never modifies dep. It
// makes one GetAlias call for a live or stopped deployment, none for one
// that succeeded, failed or rolled back (those are answered from memory).
// A deployment this driver did not start is deploy.ErrNotFound.
func (d *Driver) Status(ctx context.Context, dep *deploy.Deployment) (*deploy.Deployment, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("status", targetOf(dep), idOf(dep), err)
	}
	rec, err := d.lookup("status", dep)
	if err != nil {
		return nil, err
	}
	rec.mu.Lock()
	out := rec.d.Clone()
	det := rec.det
	rec.mu.Unlock()
	if out.Status.Terminal() && out.Status != deploy.StatusStopped {
		return out, nil
	}
	a, err := getAlias(ctx, d.client, det.Function, det.Alias)
	if err != nil {
		return nil, wrap("status", out.Target, out.ID, err)
	}
	out.Percent = a.share(det.ToVersion)
	if !out.Status.Terminal() && !ours(a, det) && !(a.Version == det.ToVersion && a.Single()) {
		out.Reason = "alias " + det.Alias + " changed outside this deployment: it runs " + a.String()
	}
	return out, nil
}

func targetOf(dep *deploy.Deployment) deploy.Target {
	if dep == nil {
		return deploy.Target{}
	}
	return dep.Target
}

func idOf(dep *deploy.Deployment) string {
	if dep == nil {
		return ""
	}
	return dep.ID
}

// record writes rec's state to the history store. A store failure is
// reported as a note: history is advisory.
func (d *Driver) record(ctx context.Context, rec *record) {
	e := deploy.HistoryEntry{Revision: rec.d.To, DeploymentID: rec.d.ID, Status: rec.d.Status, At: rec.d.UpdatedAt}
	if err := d.opts.History.Record(context.WithoutCancel(ctx), rec.d.Target.String(), e); err != nil {
		deploy.NotifierFrom(ctx)(deploy.EventNote, "could not record history: "+err.Error())
		d.opts.Logger.Warn("lambda history", "err", err)
	}
}

// seedHistory records the version the alias ran before rec's deployment,
// when the store does not know it yet, so that it can be rolled back to.
func (d *Driver) seedHistory(ctx context.Context, rec *record) {
	from := rec.d.From
	if from == nil {
		return
	}
	target := rec.d.Target.String()
	h, err := d.opts.History.Load(ctx, target)
	if err != nil {
		return
	}
	for _, e := range h {
		if e.Revision.ID == from.ID {
			return
		}
	}
	// At is left zero: it sorts after every deployment.
	_ = d.opts.History.Record(context.WithoutCancel(ctx), target, deploy.HistoryEntry{Revision: *from, Status: deploy.StatusSucceeded})
}

// History returns the versions the alias was deployed to, newest first,
// from the driver's HistoryStore, with the version the alias runs marked
// Current: its newest successful entry, or, when the store has none, an
// entry for it (StatusSucceeded, no deployment ID) leading the list. While
// the alias is weighted, the current version is its primary one (the
// version a deployment shifts traffic from). The version the alias ran
// before the first deployment this store saw is listed as succeeded. A
// missing alias is deploy.ErrNotFound.
func (d *Driver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
	if t.Platform == "" {
		t.Platform = Platform
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("history", t, "", err)
	}
	fn, alias, err := ParseTarget(t)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	a, err := getAlias(ctx, d.client, fn, alias)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	h, err := d.opts.History.Load(ctx, t.String())
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	return markCurrent(h, fn, a), nil
}

// markCurrent marks the newest succeeded entry for the alias's primary
// version Current (and no other), adding one when there is none.
func markCurrent(h []deploy.HistoryEntry, fn string, a AliasState) []deploy.HistoryEntry {
	found := false
	for i := range h {
		h[i].Current = false
		if !found && h[i].Revision.ID == a.Version && h[i].Status == deploy.StatusSucceeded {
			h[i].Current, found = true, true
		}
	}
	if found || a.Version == "" {
		return h
	}
	cur := deploy.HistoryEntry{Revision: deploy.Revision{ID: a.Version, Label: shortName(fn) + ":" + a.Version,
		Attrs: map[string]string{"function": fn}}, Status: deploy.StatusSucceeded, Current: true}
	return append([]deploy.HistoryEntry{cur}, h...)
}

// ResetWeights repairs an alias left weighted (by a deployment stopped
// without rollback, or another tool): it points the alias at its primary
// version alone and returns the state it found. An alias that already runs
// one version is left alone. This is what a command-line "stop" does for a
// client-driven deployment started by another process.
func (d *Driver) ResetWeights(ctx context.Context, t deploy.Target) (AliasState, error) {
	a, err := d.Alias(ctx, t)
	if err != nil {
		return AliasState{}, err
	}
	if a.Single() {
		return a, nil
	}
	err = retryConflict(ctx, d.opts, "UpdateAlias", func() error {
		return updateAlias(ctx, d.client, &awslambda.UpdateAliasInput{FunctionName: aws.String(a.Function),
			Name: aws.String(a.Alias), FunctionVersion: aws.String(a.Version), RoutingConfig: noWeights(),
			RevisionId: optString(a.RevisionID)})
	})
	if err != nil {
		return a, wrap("UpdateAlias", t, "", err)
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, "alias "+a.Alias+" returned to version "+a.Version+" alone")
	return a, nil
}
