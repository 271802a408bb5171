package lambda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
)

func (d *Driver) lookup(dep *deploy.Deployment) (*record, error) {
	if dep == nil || dep.ID == "" {
		return nil, deploy.Invalid("deployment", "", "required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, ok := d.deps[dep.ID]
	if !ok {
		return nil, fmt.Errorf("%w: deployment %s was not started by this driver", deploy.ErrNotFound, dep.ID)
	}
	return rec, nil
}

// Weight returns the alias weight for a traffic percentage (percent/100),
// or a *deploy.ValidationError when it falls outside 0..1 or is not a number.
func Weight(percent float64) (float64, error) {
	w := percent / 100
	if math.IsNaN(w) || w <= 0 || w > 1 {
		return 0, deploy.Invalid("percent", strconv.FormatFloat(percent, 'f', -1, 64),
			"the new version's weight (percent/100) must be above 0 and at most 1")
	}
	return w, nil
}

// Shift puts percent of the alias's traffic on the new version: below 100,
// the alias keeps the old version as its primary and weights the new one
// at percent/100 in RoutingConfig.AdditionalVersionWeights; at 100 it
// points at the new version with no weights and the deployment is
// Succeeded. The update carries the alias's RevisionId so a change made by
// someone else in between fails (deploy.ErrLocked) rather than being
// overwritten. A percent whose weight falls outside 0..1 is refused before
// any call. When ctx ends mid-shift, Shift returns the alias to the old
// version alone before returning.
func (d *Driver) Shift(ctx context.Context, dep *deploy.Deployment, percent float64) error {
	rec, err := d.lookup(dep)
	if err != nil {
		return d.fail("shift", targetOf(dep), idOf(dep), err)
	}
	w, err := Weight(percent)
	if err != nil {
		return d.fail("shift", rec.d.Target, rec.d.ID, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	switch rec.d.Status {
	case deploy.StatusSucceeded:
		if percent == 100 {
			return nil
		}
		fallthrough
	case deploy.StatusStopped, deploy.StatusRolledBack, deploy.StatusFailed:
		return d.fail("shift", rec.d.Target, rec.d.ID,
			fmt.Errorf("%w: the deployment is %s", deploy.ErrInvalidRequest, rec.d.Status))
	}
	det := rec.det
	if ctx.Err() != nil {
		return d.cancelShift(ctx, rec, percent, ctx.Err())
	}
	cur, err := getAlias(ctx, d.client, det.Function, det.Alias)
	if err != nil {
		if ctx.Err() != nil {
			return d.cancelShift(ctx, rec, percent, err)
		}
		return d.fail("shift", rec.d.Target, rec.d.ID, err)
	}
	if !d.ours(cur, det) {
		return d.fail("shift", rec.d.Target, rec.d.ID, fmt.Errorf("%w: alias %s changed outside this deployment: it now runs %s",
			deploy.ErrLocked, det.Alias, cur))
	}
	in := &awslambda.UpdateAliasInput{FunctionName: aws.String(det.Function), Name: aws.String(det.Alias)}
	if cur.RevisionID != "" {
		in.RevisionId = aws.String(cur.RevisionID)
	}
	if percent == 100 {
		in.FunctionVersion = aws.String(det.ToVersion)
		in.RoutingConfig = noWeights()
	} else {
		in.FunctionVersion = aws.String(det.FromVersion)
		in.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{det.ToVersion: w}}
	}
	err = retryConflict(ctx, d.opts, func() error {
		_, err := d.client.UpdateAlias(ctx, in)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return d.cancelShift(ctx, rec, percent, err)
		}
		var pf *types.PreconditionFailedException
		if errors.As(err, &pf) {
			err = fmt.Errorf("%w: alias %s changed while shifting: %w", deploy.ErrLocked, det.Alias, err)
		}
		return d.fail("UpdateAlias", rec.d.Target, rec.d.ID, err)
	}
	now := d.opts.Clock.Now()
	rec.d.Percent = percent
	rec.d.UpdatedAt = now
	if percent == 100 {
		rec.d.Status = deploy.StatusSucceeded
		rec.d.EndedAt = now
		d.record(ctx, rec)
		return nil
	}
	if ctx.Err() != nil {
		return d.cancelShift(ctx, rec, percent, ctx.Err())
	}
	return nil
}

// ours reports whether the alias is where this deployment left it: on the
// old version, possibly weighted towards the new one.
func (d *Driver) ours(a AliasState, det *Detail) bool {
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

// cancelShift returns the alias to the old version alone after ctx ended
// mid-shift, marks the deployment Stopped and reports why.
func (d *Driver) cancelShift(ctx context.Context, rec *record, percent float64, cause error) error {
	cctx := context.WithoutCancel(ctx)
	err := d.pin(cctx, rec.det, rec.det.FromVersion)
	now := d.opts.Clock.Now()
	rec.d.Status = deploy.StatusStopped
	rec.d.Percent = 0
	rec.d.Reason = fmt.Sprintf("context ended while shifting to %s%%; alias returned to version %s",
		strconv.FormatFloat(percent, 'f', -1, 64), rec.det.FromVersion)
	rec.d.UpdatedAt, rec.d.EndedAt = now, now
	if err != nil {
		rec.d.Status = deploy.StatusFailed
		rec.d.Reason = "context ended mid-shift and the alias could not be returned: " + err.Error()
		return d.fail("shift", rec.d.Target, rec.d.ID, errors.Join(cause, fmt.Errorf("restore alias: %w", err)))
	}
	d.record(cctx, rec)
	return d.fail("shift", rec.d.Target, rec.d.ID, fmt.Errorf("%s: %w", rec.d.Reason, cause))
}

// pin points the alias at version alone, with no weights, whatever it ran
// before.
func (d *Driver) pin(ctx context.Context, det *Detail, version string) error {
	return retryConflict(ctx, d.opts, func() error {
		_, err := d.client.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String(det.Function),
			Name: aws.String(det.Alias), FunctionVersion: aws.String(version), RoutingConfig: noWeights()})
		return err
	})
}

// Stop ends a deployment and leaves the alias on exactly one version with
// no weights. A deployment still shifting returns to the old version
// (StatusStopped, or StatusRolledBack with o.Rollback). A deployment that
// already reached 100 percent stays there unless o.Rollback asks to return
// it to the old version; if the alias has since moved to another version,
// that rollback fails with deploy.ErrCannotStop. Stopping a stopped
// deployment is StopSucceeded. Stop always answers StopSucceeded or an
// error: the alias update is synchronous.
func (d *Driver) Stop(ctx context.Context, dep *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	rec, err := d.lookup(dep)
	if err != nil {
		return "", d.fail("stop", targetOf(dep), idOf(dep), err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	det := rec.det
	final := deploy.StatusStopped
	if o.Rollback {
		final = deploy.StatusRolledBack
	}
	switch rec.d.Status {
	case deploy.StatusRolledBack:
		return deploy.StopSucceeded, nil
	case deploy.StatusSucceeded:
		if !o.Rollback {
			return deploy.StopSucceeded, nil
		}
		cur, err := getAlias(ctx, d.client, det.Function, det.Alias)
		if err != nil {
			return "", d.fail("stop", rec.d.Target, rec.d.ID, err)
		}
		if cur.Version != det.ToVersion && !(cur.Version == det.FromVersion && cur.Single()) {
			return "", d.fail("stop", rec.d.Target, rec.d.ID, fmt.Errorf("%w: alias %s has moved on to %s since this deployment",
				deploy.ErrCannotStop, det.Alias, cur))
		}
	case deploy.StatusStopped, deploy.StatusFailed:
		if !o.Rollback {
			// Make sure the alias is on one version; it normally already is.
			cur, err := getAlias(ctx, d.client, det.Function, det.Alias)
			if err != nil {
				return "", d.fail("stop", rec.d.Target, rec.d.ID, err)
			}
			if cur.Single() {
				return deploy.StopSucceeded, nil
			}
		}
	}
	if err := d.pin(ctx, det, det.FromVersion); err != nil {
		return "", d.fail("stop", rec.d.Target, rec.d.ID, fmt.Errorf("return alias %s to version %s: %w", det.Alias, det.FromVersion, err))
	}
	now := d.opts.Clock.Now()
	rec.d.Status = final
	rec.d.Percent = 0
	rec.d.UpdatedAt, rec.d.EndedAt = now, now
	if o.Reason != "" {
		rec.d.Reason = o.Reason
	}
	d.record(ctx, rec)
	deploy.NotifierFrom(ctx)(deploy.EventNote, "alias "+det.Alias+" returned to version "+det.FromVersion)
	return deploy.StopSucceeded, nil
}

// Status reports the deployment with the traffic share the alias really
// gives the new version. It makes only a GetAlias call, for live
// deployments. A deployment this driver did not start is deploy.ErrNotFound.
func (d *Driver) Status(ctx context.Context, dep *deploy.Deployment) (*deploy.Deployment, error) {
	rec, err := d.lookup(dep)
	if err != nil {
		return nil, d.fail("status", targetOf(dep), idOf(dep), err)
	}
	rec.mu.Lock()
	out := rec.d.Clone()
	det := rec.det
	rec.mu.Unlock()
	if out.Status.Terminal() {
		return out, nil
	}
	a, err := getAlias(ctx, d.client, det.Function, det.Alias)
	if err != nil {
		return nil, d.fail("status", out.Target, out.ID, err)
	}
	switch {
	case a.Version == det.ToVersion && a.Single():
		out.Percent = 100
	case a.Version == det.FromVersion:
		out.Percent = a.Weights[det.ToVersion] * 100
	default:
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
	if err := d.opts.History.Record(ctx, rec.d.Target.String(), e); err != nil {
		deploy.NotifierFrom(ctx)(deploy.EventNote, "could not record history: "+err.Error())
		d.opts.Logger.Warn("lambda history", "err", err)
	}
}

// seedHistory records the version the alias ran before rec's deployment,
// when the store does not know it yet, so that it can be rolled back to.
func (d *Driver) seedHistory(ctx context.Context, rec *record) {
	seed(ctx, d.opts, rec.d.Target.String(), rec.d.From)
}

func seed(ctx context.Context, o Options, target string, from *deploy.Revision) {
	if from == nil {
		return
	}
	h, err := o.History.Load(ctx, target)
	if err != nil {
		return
	}
	for _, e := range h {
		if e.Revision.ID == from.ID {
			return
		}
	}
	// At is left zero: it sorts after every deployment.
	_ = o.History.Record(ctx, target, deploy.HistoryEntry{Revision: *from, Status: deploy.StatusSucceeded})
}

// History returns the versions the alias was deployed to, newest first,
// from the driver's HistoryStore, with the entry for the version the alias
// runs alone now marked Current. When the store knows nothing of the
// current version, an entry for it (StatusSucceeded, no deployment ID)
// leads the list. A missing alias is deploy.ErrNotFound.
func (d *Driver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
	return history(ctx, d.client, d.opts, t)
}

func history(ctx context.Context, c Client, o Options, t deploy.Target) ([]deploy.HistoryEntry, error) {
	if t.Platform == "" {
		t.Platform = PlatformName
	}
	fn, alias, err := ParseTarget(t)
	if err != nil {
		return nil, &deploy.Error{Platform: PlatformName, Op: "history", Target: t.String(), Err: err}
	}
	a, err := getAlias(ctx, c, fn, alias)
	if err != nil {
		return nil, &deploy.Error{Platform: PlatformName, Op: "history", Target: t.String(), Err: err}
	}
	h, err := o.History.Load(ctx, t.String())
	if err != nil {
		return nil, &deploy.Error{Platform: PlatformName, Op: "history", Target: t.String(), Err: err}
	}
	if a.Single() {
		found := false
		for i := range h {
			if h[i].Revision.ID == a.Version {
				h[i].Current = true
				found = true
				break
			}
		}
		if !found {
			cur := deploy.HistoryEntry{Revision: deploy.Revision{ID: a.Version, Label: shortName(fn) + ":" + a.Version},
				Status: deploy.StatusSucceeded, Current: true}
			h = append([]deploy.HistoryEntry{cur}, h...)
		}
	}
	return h, nil
}

// LastKnownGood returns the newest version the alias was successfully
// deployed to other than the one it runs now, from History.
func (d *Driver) LastKnownGood(ctx context.Context, t deploy.Target) (deploy.Revision, bool, error) {
	h, err := d.History(ctx, t)
	if err != nil {
		return deploy.Revision{}, false, err
	}
	e, ok := deploy.LastKnownGood(h)
	return e.Revision, ok, nil
}

// ResetWeights repairs an alias left weighted (by an interrupted deployment
// or another tool): it points the alias at its primary version alone and
// returns the state it found. An alias that already runs one version is
// left alone. This is what a command-line "stop" does for a client-driven
// deployment started by another process.
func (d *Driver) ResetWeights(ctx context.Context, t deploy.Target) (AliasState, error) {
	a, err := d.Alias(ctx, t)
	if err != nil {
		return AliasState{}, err
	}
	if a.Single() {
		return a, nil
	}
	if err := d.pin(ctx, &Detail{Function: a.Function, Alias: a.Alias}, a.Version); err != nil {
		return a, d.fail("UpdateAlias", t, "", err)
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, "alias "+a.Alias+" returned to version "+a.Version+" alone")
	return a, nil
}
