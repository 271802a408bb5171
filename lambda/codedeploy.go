package lambda

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// CodeDeployOptions configure a CodeDeployDriver. The zero value means
// defaults, but a deployment group must come from somewhere: here, the
// target's Attrs ("codedeploy": "APP/GROUP") or DeployOptions.
type CodeDeployOptions struct {
	// Options are the Lambda side's options (Clock, update polling,
	// conflict retries). History is not used: CodeDeploy keeps it.
	Options
	// Application and DeploymentGroup name the CodeDeploy Lambda
	// deployment group used when neither the target nor the request names
	// one.
	Application     string
	DeploymentGroup string
	// NoTargets skips the per-target reads in Status (platform.CodeDeploy's
	// NoTargets).
	NoTargets bool
}

// CodeDeployDriver hands Lambda deployments to CodeDeploy (deploy.ModePlatform):
// Start publishes the version if needed, then creates a CodeDeploy
// deployment whose AppSpec names the function, alias, current and target
// versions and the hook functions, with the deployment configuration the
// strategy maps to and alarm and auto-rollback overrides. CodeDeploy shifts
// the alias; Status, Stop (with auto-rollback) and History go through
// platform.CodeDeploy. It implements deploy.Driver, deploy.Stopper and
// deploy.Historian and is safe for concurrent use.
type CodeDeployDriver struct {
	lambda  Client
	tracker *platform.CodeDeploy
	opts    CodeDeployOptions
}

var (
	_ deploy.Driver    = (*CodeDeployDriver)(nil)
	_ deploy.Stopper   = (*CodeDeployDriver)(nil)
	_ deploy.Historian = (*CodeDeployDriver)(nil)
)

// NewCodeDeploy returns a CodeDeploy-managed driver over a Lambda client
// and a CodeDeploy client (*codedeploy.Client or codedeployfake.Fake).
func NewCodeDeploy(lc Client, cd platform.CodeDeployAPI, opts CodeDeployOptions) *CodeDeployDriver {
	opts.Options = opts.Options.withDefaults()
	tr := platform.NewCodeDeploy(cd, platform.CodeDeployOptions{Clock: opts.Clock, Platform: PlatformName, NoTargets: opts.NoTargets})
	return &CodeDeployDriver{lambda: lc, tracker: tr, opts: opts}
}

// Platform returns "lambda".
func (c *CodeDeployDriver) Platform() string { return PlatformName }

// codeDeployPlan is what Prepare resolved for CodeDeploy.
type codeDeployPlan struct {
	application, group string
	configName         string
	before, after      string
	alarms             []string
	ignoreAlarmErrors  bool
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

func (c *CodeDeployDriver) fail(op string, t deploy.Target, id string, err error) error {
	if t.Platform == "" {
		t.Platform = PlatformName
	}
	return &deploy.Error{Platform: PlatformName, Op: op, Target: t.String(), DeploymentID: id, Err: err}
}

// group resolves the deployment group: DeployOptions, then the target's
// "codedeploy" attribute, then the driver's options.
func (c *CodeDeployDriver) group(t deploy.Target, o DeployOptions) (string, string, error) {
	app, grp := o.Application, o.DeploymentGroup
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
		app, grp = c.opts.Application, c.opts.DeploymentGroup
	}
	if app == "" || grp == "" {
		return "", "", deploy.Invalid("codedeploy", app+"/"+grp, "name the CodeDeploy application and deployment group")
	}
	return app, grp, nil
}

// Prepare validates and resolves like Driver.Prepare (same preconditions,
// read-only Lambda calls), then maps the request onto CodeDeploy: the
// strategy to a predefined Lambda configuration (or
// DeployOptions.DeploymentConfigName), HookFunction gates to AppSpec hooks,
// platform.AlarmGate gates to the alarm override (their alarms are listed
// with DescribeAlarms), RollbackOn to the auto-rollback override. Refused:
// a strategy no predefined configuration matches, approval steps, Go func
// hooks (CodeDeploy can only invoke functions), two hooks for one phase.
// It makes no CodeDeploy call.
func (c *CodeDeployDriver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	p, err := c.prepare(ctx, req)
	if err != nil {
		return nil, c.fail("prepare", req.Target, "", err)
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
	cp := &codeDeployPlan{application: app, group: grp, configName: o.DeploymentConfigName, ignoreAlarmErrors: o.IgnoreAlarmErrors}
	strategy := req.Strategy
	if len(strategy.Steps) == 0 {
		strategy = deploy.AllAtOnce()
	}
	if cp.configName == "" {
		for _, st := range strategy.Steps {
			if st.Kind == deploy.StepApprove {
				return nil, deploy.Invalid("strategy", strategy.String(), "CodeDeploy Lambda deployments have no approval step")
			}
		}
		name, ok := strategy.CodeDeployConfigName("Lambda")
		if !ok && strategy.Validate() == nil {
			return nil, deploy.Invalid("strategy", strategy.String(),
				"no predefined CodeDeploy Lambda configuration has these steps; create a deployment configuration and name it in DeployOptions.DeploymentConfigName")
		}
		cp.configName = name
	}
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
		case *platform.AlarmGate:
			states, err := g.Alarms(ctx)
			if err != nil {
				return nil, fmt.Errorf("alarms of gate %s: %w", g.Name(), err)
			}
			for _, s := range states {
				cp.alarms = append(cp.alarms, s.Name)
			}
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
	p.Detail.(*planDetail).codeDeploy = cp
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
// deployment. It returns once CodeDeploy has accepted it.
func (c *CodeDeployDriver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	det, ok := p.Detail.(*planDetail)
	if !ok || det == nil || det.codeDeploy == nil {
		return nil, c.fail("start", p.Request.Target, "", deploy.Invalid("plan", "", "not prepared by the lambda CodeDeploy driver"))
	}
	cp := det.codeDeploy
	to, published, err := startCommon(ctx, c.lambda, c.opts.Options, p, det)
	if err != nil {
		return nil, c.fail("start", p.Request.Target, "", err)
	}
	spec := AppSpec{Function: det.function, Alias: det.alias, CurrentVersion: det.from, TargetVersion: to.ID,
		BeforeAllowTraffic: cp.before, AfterAllowTraffic: cp.after}
	content, err := spec.JSON()
	if err != nil {
		return nil, c.fail("start", p.Request.Target, "", err)
	}
	in := CreateDeploymentInput(cp.application, cp.group, cp.configName, content, p.Request.RollbackOn, cp.alarms, cp.ignoreAlarmErrors)
	if p.Request.Comment != "" {
		in.Description = aws.String(p.Request.Comment)
	}
	id, err := c.tracker.Create(ctx, in)
	if err != nil {
		return nil, c.fail("start", p.Request.Target, "", err)
	}
	now := c.opts.Clock.Now()
	from := *p.From
	dd := &CodeDeployDetail{Detail: Detail{Function: det.function, Alias: det.alias, FromVersion: det.from, ToVersion: to.ID,
		Published: published, CodeDeployID: id}, Application: cp.application, DeploymentGroup: cp.group, AppSpec: content}
	if published {
		dd.Source = det.src.label()
	}
	t := p.Request.Target
	if t.Platform == "" {
		t.Platform = PlatformName
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, "created CodeDeploy deployment "+id+" on "+cp.application+"/"+cp.group)
	return &deploy.Deployment{ID: id, Target: t, From: &from, To: to, Strategy: p.Request.Strategy,
		Status: deploy.StatusCreated, CreatedAt: now, UpdatedAt: now, RollbackOf: p.Request.RollbackOf, Detail: dd}, nil
}

// CreateDeploymentInput builds the CreateDeployment request for a Lambda
// AppSpec: the content with its SHA-256, the deployment configuration, the
// auto-rollback override from rollbackOn (disabled when empty) and, when
// alarms are named, the alarm override.
func CreateDeploymentInput(application, group, configName, appspec string, rollbackOn deploy.RollbackOn, alarms []string, ignoreAlarmErrors bool) *codedeploy.CreateDeploymentInput {
	in := &codedeploy.CreateDeploymentInput{
		ApplicationName:     aws.String(application),
		DeploymentGroupName: aws.String(group),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(appspec), Sha256: aws.String(Sha256(appspec))}},
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
// deployment CodeDeploy rolled back is StatusRolledBack. An unknown ID
// wraps deploy.ErrNotFound. It changes nothing.
func (c *CodeDeployDriver) Status(ctx context.Context, d *deploy.Deployment) (*deploy.Deployment, error) {
	if d == nil || d.ID == "" {
		return nil, c.fail("status", targetOf(d), "", deploy.Invalid("deployment", "", "required"))
	}
	s, err := c.tracker.Status(ctx, d.ID)
	if err != nil {
		return nil, c.fail("status", d.Target, d.ID, err)
	}
	out := s.Apply(d)
	if det := codeDeployDetail(d); det != nil && s.Status == deploy.StatusSucceeded {
		out.Percent = 100
	}
	return out, nil
}

func codeDeployDetail(d *deploy.Deployment) *CodeDeployDetail {
	if d == nil {
		return nil
	}
	det, _ := d.Detail.(*CodeDeployDetail)
	return det
}

// Stop stops the CodeDeploy deployment, with auto-rollback when o.Rollback
// is set (CodeDeploy then returns the alias to the old version itself).
// Outcomes are CodeDeploy's: Succeeded, Pending, or an error wrapping
// deploy.ErrCannotStop.
func (c *CodeDeployDriver) Stop(ctx context.Context, d *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if d == nil || d.ID == "" {
		return "", c.fail("stop", targetOf(d), "", deploy.Invalid("deployment", "", "required"))
	}
	out, err := c.tracker.Stop(ctx, d.ID, o.Rollback)
	if err != nil {
		return "", c.fail("stop", d.Target, d.ID, err)
	}
	return out, nil
}

// History lists the deployment group's deployments, newest first, as
// Lambda versions: each entry's Revision is the AppSpec's TargetVersion.
// The entry marked Current is the newest one for the version the alias runs
// alone now (read with GetAlias); when no deployment put it there, an entry
// for it (StatusSucceeded, no deployment ID) leads the list. The target
// must name its deployment group (Attrs "codedeploy") unless the driver's
// options do.
func (c *CodeDeployDriver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
	fn, alias, err := ParseTarget(t)
	if err != nil {
		return nil, c.fail("history", t, "", err)
	}
	a, err := getAlias(ctx, c.lambda, fn, alias)
	if err != nil {
		return nil, c.fail("history", t, "", err)
	}
	app, grp, err := c.group(t, DeployOptions{})
	if err != nil {
		return nil, c.fail("history", t, "", err)
	}
	h, err := c.tracker.History(ctx, app, grp)
	if err != nil {
		return nil, c.fail("history", t, "", err)
	}
	out := make([]deploy.HistoryEntry, 0, len(h)+1)
	oldest := ""
	for _, e := range h {
		if spec, err := ParseAppSpec([]byte(e.Revision.Attrs["content"])); err == nil {
			oldest = spec.CurrentVersion
			e.Revision = deploy.Revision{ID: spec.TargetVersion, Label: shortName(fn) + ":" + spec.TargetVersion,
				Source: e.Revision.ID, Attrs: map[string]string{"function": fn, "appspec": e.Revision.ID}}
		}
		e.Current = false
		out = append(out, e)
	}
	// The version the oldest deployment started from ran successfully
	// before it: keep it as a rollback candidate.
	if oldest != "" && !slices.ContainsFunc(out, func(e deploy.HistoryEntry) bool { return e.Revision.ID == oldest }) {
		out = append(out, deploy.HistoryEntry{Revision: deploy.Revision{ID: oldest, Label: shortName(fn) + ":" + oldest,
			Attrs: map[string]string{"function": fn}}, Status: deploy.StatusSucceeded})
	}
	if !a.Single() {
		return out, nil
	}
	for i := range out {
		if out[i].Revision.ID == a.Version && out[i].Status == deploy.StatusSucceeded {
			out[i].Current = true
			return out, nil
		}
	}
	cur := deploy.HistoryEntry{Revision: deploy.Revision{ID: a.Version, Label: shortName(fn) + ":" + a.Version,
		Attrs: map[string]string{"function": fn}}, Status: deploy.StatusSucceeded, Current: true}
	return append([]deploy.HistoryEntry{cur}, out...), nil
}
