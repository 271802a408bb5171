package lambda

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// CodeDeployOptions configure a CodeDeployDriver. The zero value means
// defaults, but a deployment group must come from somewhere: here, the
// target's Attrs ("codedeploy": "APP/GROUP") or DeployOptions.
type CodeDeployOptions struct {
	// Options are the Lambda side's options (Clock, Logger, update
	// polling, conflict retries). History is not used: CodeDeploy keeps it.
	Options
	// CodeDeployApplication and CodeDeployDeploymentGroup name the
	// CodeDeploy Lambda deployment group used when neither the target nor
	// the request names one.
	CodeDeployApplication     string
	CodeDeployDeploymentGroup string
	// NoTargets skips the per-target reads in Status (platform.CodeDeploy's
	// NoTargets): Percent then comes from the deployment overview alone.
	NoTargets bool
}

// CodeDeployDriver hands Lambda deployments to CodeDeploy (deploy.ModePlatform):
// Start publishes the version if needed, then creates a CodeDeploy
// deployment whose AppSpec names the function, alias, current and target
// versions and the hook functions, with the deployment configuration the
// strategy maps to and alarm and auto-rollback overrides. CodeDeploy shifts
// the alias; Status, StatusMany, Stop (with auto-rollback) and History go
// through platform.CodeDeploy. It implements deploy.Driver,
// deploy.Stopper, deploy.Historian, deploy.StatusBatcher and
// deploy.BatchSizer and is safe for concurrent use.
type CodeDeployDriver struct {
	lambda  Client
	cd      platform.CodeDeployAPI
	tracker *platform.CodeDeploy
	// ended reads only the deployment records (NoTargets): enough to tell
	// how a deployment ended before stopping it.
	ended *platform.CodeDeploy
	opts  CodeDeployOptions

	mu    sync.Mutex
	local map[string]*deploy.Deployment // rollbacks done by resetting the alias alone
	seq   int
}

var (
	_ deploy.Driver        = (*CodeDeployDriver)(nil)
	_ deploy.Stopper       = (*CodeDeployDriver)(nil)
	_ deploy.Historian     = (*CodeDeployDriver)(nil)
	_ deploy.StatusBatcher = (*CodeDeployDriver)(nil)
	_ deploy.BatchSizer    = (*CodeDeployDriver)(nil)
)

// NewCodeDeploy returns a CodeDeploy-managed driver over a Lambda client
// and a CodeDeploy client (*codedeploy.Client or codedeployfake.Fake). o
// may be the zero value.
func NewCodeDeploy(lc Client, cd platform.CodeDeployAPI, o CodeDeployOptions) *CodeDeployDriver {
	o.Options = o.Options.withDefaults()
	tr := platform.NewCodeDeploy(cd, platform.CodeDeployOptions{Clock: o.Clock, Platform: Platform, NoTargets: o.NoTargets})
	ended := platform.NewCodeDeploy(cd, platform.CodeDeployOptions{Clock: o.Clock, Platform: Platform, NoTargets: true})
	return &CodeDeployDriver{lambda: lc, cd: cd, tracker: tr, ended: ended, opts: o, local: map[string]*deploy.Deployment{}}
}

// NewCodeDeployFromConfig returns a CodeDeploy-managed driver over the
// Lambda and CodeDeploy clients made from cfg.
func NewCodeDeployFromConfig(cfg aws.Config, o CodeDeployOptions) *CodeDeployDriver {
	return NewCodeDeploy(awslambda.NewFromConfig(cfg), platform.NewCodeDeployClient(cfg), o)
}

// Platform returns "lambda".
func (c *CodeDeployDriver) Platform() string { return Platform }

// codeDeployPlan is what Prepare resolved for CodeDeploy.
type codeDeployPlan struct {
	application, group string
	configName         string
	before, after      string
	alarms             []string
	ignoreAlarmErrors  bool
	// localOnly: a rollback to the version the alias's primary runs, which
	// resetting the alias's weights completes without CodeDeploy.
	localOnly bool
}

// CodeDeployDetail is Deployment.Detail for CodeDeploy-managed deployments.
type CodeDeployDetail struct {
	Detail
	// Application and DeploymentGroup are where the deployment runs.
	Application     string
	DeploymentGroup string
	// AppSpec is the AppSpec content sent.
	AppSpec string
}

// group resolves the deployment group: DeployOptions, then the target's
// "codedeploy" attribute, then the driver's options.
func (c *CodeDeployDriver) group(t deploy.Target, o DeployOptions) (string, string, error) {
	app, grp := o.CodeDeployApplication, o.CodeDeployDeploymentGroup
	if app == "" && grp == "" {
		if v := t.Attrs["codedeploy"]; v != "" {
			var ok bool
			app, grp, ok = strings.Cut(v, "/")
			if !ok {
				return "", "", deploy.Invalid("target.attrs.codedeploy", v, "want APPLICATION/GROUP")
			}
		}
	}
	if app == "" && grp == "" {
		app, grp = c.opts.CodeDeployApplication, c.opts.CodeDeployDeploymentGroup
	}
	if app == "" || grp == "" {
		return "", "", deploy.Invalid("codedeploy", app+"/"+grp, "name the CodeDeploy application and deployment group")
	}
	return app, grp, nil
}

// Prepare validates and resolves like Driver.Prepare (same preconditions,
// read-only Lambda calls), then maps the request onto CodeDeploy: the
// strategy to a predefined Lambda configuration (or
// DeployOptions.CodeDeployConfig), HookFunction gates to AppSpec hooks,
// platform.AlarmGate gates to the alarm override (their alarms are listed
// with DescribeAlarms), RollbackOn to the auto-rollback override. The
// plan's Request.Gates keeps the gates CodeDeploy does not run itself, so
// the engine does not run a hook twice. Refused before any call: a
// strategy CodeDeploy cannot follow (approval steps, steps no predefined
// configuration has, minimum healthy hosts: deploy.UnsupportedStrategy), Go
// func hooks (CodeDeploy can only invoke functions), two hooks for one
// phase. It makes no CodeDeploy call.
func (c *CodeDeployDriver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("prepare", req.Target, "", err)
	}
	p, err := c.prepare(ctx, req)
	if err != nil {
		return nil, wrap("prepare", req.Target, "", err)
	}
	return p, nil
}

func (c *CodeDeployDriver) prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	o, err := deployOptions(req.Options)
	if err != nil {
		return nil, err
	}
	app, grp, err := c.group(req.Target, o)
	if err != nil {
		return nil, err
	}
	cp := &codeDeployPlan{application: app, group: grp, configName: o.CodeDeployConfig, ignoreAlarmErrors: o.IgnoreAlarmErrors}
	strategy := req.Strategy
	if len(strategy.Steps) == 0 {
		strategy = deploy.AllAtOnce()
		strategy.MinHealthy = req.Strategy.MinHealthy
	}
	if err := checkStrategy(strategy); err != nil {
		return nil, err
	}
	for _, st := range strategy.Steps {
		if st.Kind == deploy.StepApprove {
			return nil, deploy.UnsupportedStrategy(Platform, strategy, "wait for approval in a CodeDeploy deployment: CodeDeploy Lambda deployments have no approval step")
		}
	}
	if cp.configName == "" {
		name, ok := strategy.CodeDeployConfigName("Lambda")
		if !ok {
			return nil, deploy.UnsupportedStrategy(Platform, strategy,
				"follow these steps in CodeDeploy: no predefined CodeDeploy Lambda configuration has them; create a deployment configuration and name it in DeployOptions.CodeDeployConfig")
		}
		cp.configName = name
	}
	gates := make([]deploy.Gate, 0, len(req.Gates))
	var alarmGates []*platform.AlarmGate
	for _, g := range req.Gates {
		switch g := g.(type) {
		case *Hook:
			if g.FunctionName() == "" {
				return nil, deploy.Invalid("gates", g.Name(), "a Go func hook cannot run inside CodeDeploy; use a Lambda function hook")
			}
			slot := map[deploy.Phase]*string{deploy.PhaseBeforeTraffic: &cp.before, deploy.PhaseAfterTraffic: &cp.after}[g.Phase()]
			if slot == nil {
				return nil, deploy.Invalid("gates", g.Name(), "CodeDeploy runs hooks only at BeforeAllowTraffic and AfterAllowTraffic")
			}
			if *slot != "" {
				return nil, deploy.Invalid("gates", g.Name(), "CodeDeploy takes one hook function per phase; "+*slot+" is already set")
			}
			*slot = g.FunctionName()
			continue // CodeDeploy runs it, not the engine
		case *platform.AlarmGate:
			alarmGates = append(alarmGates, g)
		}
		gates = append(gates, g)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, g := range alarmGates {
		states, err := g.Alarms(ctx)
		if err != nil {
			return nil, fmt.Errorf("alarms of gate %s: %w", g.Name(), err)
		}
		for _, s := range states {
			cp.alarms = append(cp.alarms, s.Name)
		}
	}
	cp.alarms = append(cp.alarms, o.Alarms...)
	if len(cp.alarms) > 10 {
		return nil, deploy.Invalid("alarms", strings.Join(cp.alarms, ","), "CodeDeploy takes at most 10 alarms per deployment")
	}
	p, err := prepare(ctx, c.lambda, req)
	if err != nil {
		return nil, err
	}
	p.Mode = deploy.ModePlatform
	p.Request.Gates = gates
	det := p.Detail.(*planDetail)
	det.codeDeploy = cp
	if p.To.ID != "" && p.To.ID == det.from {
		// A rollback to the version the alias's primary runs: resetting
		// its weights is the whole deployment, and CodeDeploy has nothing
		// to shift.
		cp.localOnly = true
		p.Notes = append(p.Notes, "the alias already runs version "+det.from+"; no CodeDeploy deployment is needed")
		return p, nil
	}
	p.Changes = append(p.Changes, deploy.Change{Path: "codedeploy." + app + "/" + grp, New: "deployment with " + cp.configName})
	if len(cp.alarms) > 0 {
		p.Notes = append(p.Notes, "CodeDeploy watches alarms "+strings.Join(cp.alarms, ", "))
	}
	if ev := req.RollbackOn.Events(); len(ev) > 0 {
		p.Notes = append(p.Notes, "CodeDeploy rolls back on "+strings.Join(ev, ", "))
	}
	return p, nil
}

// Start publishes the version if needed and creates the CodeDeploy
// deployment. It returns once CodeDeploy has accepted it, StatusCreated at
// 0 percent. A deployment group that already runs a deployment is refused
// with an error wrapping deploy.ErrLocked before anything is published
// (CodeDeploy's DeploymentLimitExceededException says the same, later).
//
// CreateDeployment takes no idempotency token. When it fails, Start looks
// for the deployment it may have created all the same (its answer was lost
// or unreadable, or the SDK sent it again and CodeDeploy refused or
// throttled the second attempt after the first had created it;
// platform.CodeDeploy.CreatedAnyway): a live deployment of the plan's
// AppSpec, which the group did not have just before, is returned as this
// one, so it is followed to its end rather than left running unseen
// behind an error.
func (c *CodeDeployDriver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	if p == nil {
		return nil, wrap("start", deploy.Target{}, "", deploy.Invalid("plan", "", "required"))
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("start", p.Request.Target, "", err)
	}
	det, ok := p.Detail.(*planDetail)
	if !ok || det == nil || det.codeDeploy == nil {
		return nil, wrap("start", p.Request.Target, "", deploy.Invalid("plan", "", "not prepared by the lambda CodeDeploy driver"))
	}
	cp := det.codeDeploy
	t := p.Request.Target
	if t.Platform == "" {
		t.Platform = Platform
	}
	if err := c.checkLock(ctx, cp); err != nil {
		return nil, wrap("start", t, "", err)
	}
	to, published, err := startCommon(ctx, c.lambda, c.opts.Options, p, det)
	if err != nil {
		return nil, wrap("start", t, "", err)
	}
	now := c.opts.Clock.Now()
	from := *p.From
	if cp.localOnly {
		return c.startLocal(t, p, det, from, to, now), nil
	}
	spec := AppSpec{Function: det.function, Alias: det.alias, CurrentVersion: det.from, TargetVersion: to.ID,
		BeforeAllowTraffic: cp.before, AfterAllowTraffic: cp.after}
	content, err := spec.JSON()
	if err != nil {
		return nil, wrap("start", t, "", err)
	}
	in := createDeploymentInput(cp.application, cp.group, cp.configName, content, p.Request.RollbackOn, cp.alarms, cp.ignoreAlarmErrors)
	if p.Request.Comment != "" {
		in.Description = aws.String(p.Request.Comment)
	}
	id, err := c.tracker.Create(ctx, in)
	if err != nil {
		cause := err
		if id, err = c.tracker.CreatedAnyway(ctx, in, cause); err != nil {
			return nil, wrap("start", t, "", err)
		}
		c.opts.Logger.DebugContext(ctx, "CreateDeployment failed but created the deployment", "id", id, "error", cause)
	}
	dd := &CodeDeployDetail{Detail: Detail{Function: det.function, Alias: det.alias, FromVersion: det.from, ToVersion: to.ID,
		Published: published, CodeDeployID: id}, Application: cp.application, DeploymentGroup: cp.group, AppSpec: content}
	if published {
		dd.Source = det.src.label()
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, "created CodeDeploy deployment "+id+" on "+cp.application+"/"+cp.group)
	return &deploy.Deployment{ID: id, Target: t, From: &from, To: to, Strategy: p.Request.Strategy,
		Status: deploy.StatusCreated, CreatedAt: now, UpdatedAt: now, RollbackOf: p.Request.RollbackOf, Detail: dd}, nil
}

// checkLock refuses a deployment while the group has a live one. Start
// calls it before any change, and CreatedAnyway relies on it: a live
// deployment found after a failed CreateDeployment is then the call's.
func (c *CodeDeployDriver) checkLock(ctx context.Context, cp *codeDeployPlan) error {
	live, err := c.tracker.Live(ctx, cp.application, cp.group)
	if err != nil {
		return err
	}
	if len(live) > 0 {
		return fmt.Errorf("%w: CodeDeploy deployment %s is still running on %s/%s; stop it or wait for it to end",
			deploy.ErrLocked, live[0], cp.application, cp.group)
	}
	return nil
}

// startLocal records a rollback that resetting the alias's weights
// completed: it is Succeeded from the start.
func (c *CodeDeployDriver) startLocal(t deploy.Target, p *deploy.Plan, det *planDetail, from, to deploy.Revision, now time.Time) *deploy.Deployment {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	id := fmt.Sprintf("lambda-reset-%s-%s-%d-%d", shortName(det.function), det.alias, now.UnixNano(), c.seq)
	d := &deploy.Deployment{ID: id, Target: t, From: &from, To: to, Strategy: p.Request.Strategy,
		Status: deploy.StatusInProgress, CreatedAt: now, UpdatedAt: now, RollbackOf: p.Request.RollbackOf,
		Detail: &CodeDeployDetail{Detail: Detail{Function: det.function, Alias: det.alias, FromVersion: det.from, ToVersion: to.ID}}}
	done := d.Clone()
	done.Status, done.Percent, done.EndedAt = deploy.StatusSucceeded, 100, now
	done.Reason = "the alias's weights were removed; version " + to.ID + " serves all traffic"
	c.local[id] = done
	return d
}

// createDeploymentInput builds the CreateDeployment request for a Lambda
// AppSpec: the content with its SHA-256, the deployment configuration, the
// auto-rollback override from rollbackOn (disabled when empty) and, when
// alarms are named, the alarm override.
func createDeploymentInput(application, group, configName, appspec string, rollbackOn deploy.RollbackOn, alarms []string, ignoreAlarmErrors bool) *codedeploy.CreateDeploymentInput {
	in := &codedeploy.CreateDeploymentInput{
		ApplicationName:     aws.String(application),
		DeploymentGroupName: aws.String(group),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(appspec), Sha256: aws.String(sha256Hex(appspec))}},
		AutoRollbackConfiguration: &cdtypes.AutoRollbackConfiguration{Enabled: len(rollbackOn.Events()) > 0},
	}
	if configName != "" {
		in.DeploymentConfigName = aws.String(configName)
	}
	for _, e := range rollbackOn.Events() {
		in.AutoRollbackConfiguration.Events = append(in.AutoRollbackConfiguration.Events, cdtypes.AutoRollbackEvent(e))
	}
	if len(alarms) > 0 {
		ac := &cdtypes.AlarmConfiguration{Enabled: true, IgnorePollAlarmFailure: ignoreAlarmErrors}
		for _, a := range alarms {
			ac.Alarms = append(ac.Alarms, cdtypes.Alarm{Name: aws.String(a)})
		}
		in.OverrideAlarmConfiguration = ac
	}
	return in
}

// Status reads the CodeDeploy deployment through platform.CodeDeploy: a
// deployment CodeDeploy rolled back is StatusRolledBack, one stopped
// without rollback StatusStopped with the share CodeDeploy had shifted.
// An unknown ID wraps deploy.ErrNotFound. It changes nothing and never
// modifies d.
func (c *CodeDeployDriver) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	if out, known, err := c.known(ctx, d); known {
		return out, err
	}
	s, err := c.tracker.Status(ctx, d.ID)
	if err != nil {
		return nil, wrap("status", d.Target, d.ID, err)
	}
	return reportCodeDeploy(d, s), nil
}

// StatusMany reports each of ds as Status would, with the deployment
// records of up to platform.MaxBatchGetDeployments (25) deployments read
// in one BatchGetDeployments request (platform.CodeDeploy.StatusMany); each
// deployment's target (the alias and its weights) is still read on its own,
// as CodeDeploy's API has it, unless CodeDeployOptions.NoTargets. It
// changes nothing and never modifies an element of ds.
//
// The result has one entry per element of ds, in the same order; an entry
// is nil exactly where that deployment could not be reported (an unknown
// ID wraps deploy.ErrNotFound, a nil or ID-less one
// deploy.ErrInvalidRequest), and the error then joins (errors.Join) one
// *deploy.Error per nil entry, whose DeploymentID names it. A context that
// is done gives its error for every entry, before any call.
func (c *CodeDeployDriver) StatusMany(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
	out := make([]*deploy.Deployment, len(ds))
	errAt := make([]error, len(ds))
	var qs []platform.StatusQuery
	var at []int
	for i, d := range ds {
		if nd, known, err := c.known(ctx, d); known {
			out[i], errAt[i] = nd, err
			continue
		}
		qs = append(qs, platform.StatusQuery{ID: d.ID, Last: d})
		at = append(at, i)
	}
	if len(qs) > 0 {
		states, errs := c.tracker.StatusMany(ctx, qs)
		for j, i := range at {
			if errs[j] != nil {
				errAt[i] = wrap("status", ds[i].Target, ds[i].ID, errs[j])
				continue
			}
			out[i] = reportCodeDeploy(ds[i], states[j])
		}
	}
	return out, errors.Join(errAt...)
}

// StatusBatchSize returns platform.MaxBatchGetDeployments (25), the
// deployments one BatchGetDeployments request reads, so the engine sends
// its gathered polls 25 at a time (deploy.BatchSizer).
func (c *CodeDeployDriver) StatusBatchSize() int { return platform.MaxBatchGetDeployments }

// known answers what Status and StatusMany report of d without asking
// CodeDeploy: the error of a context that is done or of a deployment
// without an ID, or the recorded end of a rollback done by resetting the
// alias alone. known is false when CodeDeploy must be asked.
func (c *CodeDeployDriver) known(ctx context.Context, d *deploy.Deployment) (out *deploy.Deployment, known bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, true, wrap("status", targetOf(d), idOf(d), err)
	}
	if d == nil || d.ID == "" {
		return nil, true, wrap("status", targetOf(d), "", deploy.Invalid("deployment", "", "required"))
	}
	c.mu.Lock()
	local := c.local[d.ID].Clone()
	c.mu.Unlock()
	if local != nil {
		return local, true, nil
	}
	return nil, false, nil
}

// reportCodeDeploy is d updated with what CodeDeploy says of it (s): the one
// conversion Status and StatusMany share.
func reportCodeDeploy(d *deploy.Deployment, s *platform.DeploymentState) *deploy.Deployment {
	return s.Apply(d)
}

// Stop stops a live CodeDeploy deployment, with auto-rollback when
// o.Rollback is set (CodeDeploy then returns the alias to the old version
// itself, and Status ends RolledBack); without it CodeDeploy leaves the
// alias where it is and Status ends Stopped. Outcomes are CodeDeploy's:
// Succeeded, Pending, or an error wrapping deploy.ErrCannotStop.
//
// A deployment that has ended is not sent to CodeDeploy (which refuses to
// stop a completed deployment): StopSucceeded for one that ended
// RolledBack, or Stopped or Failed when no rollback is asked; an error
// wrapping deploy.ErrCannotStop for one that Succeeded, and for a rollback
// of one that ended Stopped or Failed (an ended deployment is reversed by
// a new one, deploy.Engine.Rollback).
func (c *CodeDeployDriver) Stop(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", wrap("stop", targetOf(d), idOf(d), err)
	}
	if d == nil || d.ID == "" {
		return "", wrap("stop", targetOf(d), "", deploy.Invalid("deployment", "", "required"))
	}
	c.mu.Lock()
	local := c.local[d.ID].Clone()
	c.mu.Unlock()
	st := local
	if st == nil {
		s, err := c.ended.Status(ctx, d.ID)
		if err != nil {
			return "", wrap("stop", d.Target, d.ID, err)
		}
		st = s.Apply(d)
	}
	if out, ended, err := deploy.StopEnded(st.Status, o); ended {
		return out, wrap("stop", d.Target, d.ID, err)
	}
	out, err := c.tracker.Stop(ctx, d.ID, o.Rollback)
	if err != nil {
		return "", wrap("stop", d.Target, d.ID, err)
	}
	return out, nil
}

// History lists the deployment group's deployments, newest first, as
// Lambda versions: each entry's Revision is the AppSpec's TargetVersion.
// The entry marked Current is the newest succeeded one for the version the
// alias runs (its primary version while it is weighted; read with
// GetAlias); when no deployment put it there, an entry for it
// (StatusSucceeded, no deployment ID) leads the list. The version the
// oldest deployment started from is listed as succeeded. The target must
// name its deployment group (Attrs "codedeploy") unless the driver's
// options do.
func (c *CodeDeployDriver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
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
	app, grp, err := c.group(t, DeployOptions{})
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	a, err := getAlias(ctx, c.lambda, fn, alias)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	h, err := c.tracker.History(ctx, app, grp)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	out := make([]deploy.HistoryEntry, 0, len(h)+1)
	oldest := ""
	for _, e := range h {
		if spec, err := ParseAppSpec([]byte(e.Revision.Attrs["content"])); err == nil {
			oldest = spec.CurrentVersion
			e.Revision = deploy.Revision{ID: spec.TargetVersion, Label: shortName(fn) + ":" + spec.TargetVersion,
				Source: e.Revision.ID, Attrs: map[string]string{"function": fn, "appspec": e.Revision.ID}}
		}
		out = append(out, e)
	}
	// The version the oldest deployment started from ran successfully
	// before it: keep it as a rollback candidate.
	if oldest != "" && !slices.ContainsFunc(out, func(e deploy.HistoryEntry) bool { return e.Revision.ID == oldest }) {
		out = append(out, deploy.HistoryEntry{Revision: deploy.Revision{ID: oldest, Label: shortName(fn) + ":" + oldest,
			Attrs: map[string]string{"function": fn}}, Status: deploy.StatusSucceeded})
	}
	return markCurrent(out, fn, a), nil
}
