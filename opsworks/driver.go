package opsworks

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/aws-sdk-go-v2/service/opsworks/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Driver deploys to OpsWorks Stacks through CreateDeployment and follows
// each deployment with DescribeDeployments and DescribeCommands. It
// implements deploy.Driver and deploy.Historian (deploy.ModePlatform: OpsWorks
// runs the command on every instance at once) and is safe for concurrent
// use. It has no Stopper: OpsWorks cannot stop a deployment.
type Driver struct {
	client API
	opts   Options

	mu       sync.Mutex
	starting map[string]bool // targets with a Start under way
}

var (
	_ deploy.Driver        = (*Driver)(nil)
	_ deploy.Historian     = (*Driver)(nil)
	_ deploy.StatusBatcher = (*Driver)(nil)
)

// New returns a Driver over client (*opsworks.Client from aws-sdk-go-v2,
// or opsworksfake.Fake). o may be the zero value.
func New(client API, o Options) *Driver {
	return &Driver{client: client, opts: o.withDefaults(), starting: map[string]bool{}}
}

// NewFromConfig returns a Driver over the OpsWorks client made from cfg.
func NewFromConfig(cfg aws.Config, o Options) *Driver {
	return New(awsopsworks.NewFromConfig(cfg), o)
}

// Platform returns "opsworks".
func (d *Driver) Platform() string { return Platform }

// Detail is the OpsWorks-specific part of a deployment (Deployment.Detail).
type Detail struct {
	// StackID and AppID are the target (AppID is empty for stack commands).
	StackID, AppID string
	// Command is the deployment's command.
	Command string
	// Args are the command's arguments.
	Args map[string][]string
	// InstanceIDs are the instances OpsWorks runs the command on.
	InstanceIDs []string
	// Failed lists the instances whose command failed, once known.
	Failed []InstanceFailure
}

// InstanceFailure is one instance whose command failed.
type InstanceFailure struct {
	// InstanceID is the OpsWorks instance.
	InstanceID string
	// CommandID is the instance's command.
	CommandID string
	// ExitCode is what the command exited with.
	ExitCode int
	// LogURL is the command's log, where OpsWorks gives one.
	LogURL string
}

// String names the instance, its exit code and its log.
func (f InstanceFailure) String() string {
	s := fmt.Sprintf("%s (exit %d)", f.InstanceID, f.ExitCode)
	if f.LogURL != "" {
		s += " log " + f.LogURL
	}
	return s
}

// FailedInstances returns the instances whose command failed in d, as the
// driver's Status reported them (nil when none failed or d is not an
// OpsWorks deployment).
func FailedInstances(d *deploy.Deployment) []InstanceFailure {
	if d == nil {
		return nil
	}
	if det, ok := d.Detail.(*Detail); ok && det != nil {
		return append([]InstanceFailure(nil), det.Failed...)
	}
	return nil
}

// planDetail is what Prepare hands to Start (Plan.Detail).
type planDetail struct {
	stack, app string
	cmd        string
	opts       DeployOptions
	source     *types.Source // the app's source as read, for a deploy
	newSource  *types.Source // the source UpdateApp sets, nil when unchanged
	mark       marker
}

func wrap(op string, t deploy.Target, id string, err error) error {
	if t.Platform == "" {
		t.Platform = Platform
	}
	return platform.WrapDeployment(Platform, op, t.String(), id, err)
}

// checkStrategy refuses what OpsWorks cannot do: it runs a command on all
// of its instances at once.
func checkStrategy(s deploy.Strategy) error {
	if s.MinHealthy != nil {
		return deploy.UnsupportedStrategy(Platform, s, "keep a minimum of healthy hosts: OpsWorks runs a deployment on all of its instances at once")
	}
	if s.Shape().Kind != "all-at-once" {
		return deploy.UnsupportedStrategy(Platform, s, "shift part of the instances first: OpsWorks runs a deployment on all of its instances at once (use all-at-once, or limit the instances with DeployOptions.InstanceIDs or LayerIDs)")
	}
	return nil
}

// Prepare validates req, reads the stack (or app) and its deployments, and
// says what the deployment would run. It makes only read calls
// (DescribeStacks or DescribeApps, DescribeDeployments). Refused before
// any call: an unknown command, bad Args or CustomJSON, an app command
// without an app or a stack command with one, a rollback of more than four
// versions, a strategy other than all-at-once (deploy.UnsupportedStrategy).
// Refused after reading: a missing stack or app (deploy.ErrNotFound), a
// deployment already running on the target (deploy.ErrLocked).
func (d *Driver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("prepare", req.Target, "", err)
	}
	p, err := d.prepare(ctx, req)
	if err != nil {
		return nil, wrap("prepare", req.Target, "", err)
	}
	return p, nil
}

func (d *Driver) prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	if req.Target.Platform == "" {
		req.Target.Platform = Platform
	}
	stack, app, err := ParseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if len(req.Strategy.Steps) == 0 {
		mh := req.Strategy.MinHealthy
		req.Strategy = deploy.AllAtOnce()
		req.Strategy.MinHealthy = mh
	}
	if err := checkStrategy(req.Strategy); err != nil {
		return nil, err
	}
	o, err := deployOptions(req.Options)
	if err != nil {
		return nil, err
	}
	cmd, err := o.validate(app, req.Revision)
	if err != nil {
		return nil, err
	}
	if id := req.Revision.ID; id != "" && (strings.ContainsAny(id, " \t\r\n[]") || len(id) > 1024) {
		return nil, deploy.Invalid("revision.id", safeURL(id), "an app source revision has no spaces or brackets")
	}
	if hasCredentials(req.Revision.ID) {
		return nil, deploy.Invalid("revision.id", safeURL(req.Revision.ID), "a URL with credentials would be recorded in the deployment; give them in the app source's Username and Password instead")
	}
	plan := &deploy.Plan{Request: req, Mode: deploy.ModePlatform}
	pd := &planDetail{stack: stack, app: app, cmd: cmd, opts: o}
	var deps []types.Deployment
	var a *types.App
	if app != "" {
		if a, err = describeApp(ctx, d.client, stack, app); err != nil {
			return nil, err
		}
	} else if err := describeStack(ctx, d.client, stack); err != nil {
		return nil, err
	}
	if deps, err = describeDeployments(ctx, d.client, &awsopsworks.DescribeDeploymentsInput{StackId: aws.String(stack)}); err != nil {
		return nil, err
	}
	if err := lockedBy(req.Target, app, deps); err != nil {
		return nil, err
	}
	targets, err := resolveInstances(ctx, d.client, stack, o)
	if err != nil {
		return nil, err
	}
	plan.Notes = append(plan.Notes, fmt.Sprintf("runs on %d instances: %s", len(targets), strings.Join(targets, ", ")))
	cmdChange := deploy.Change{Path: "command", New: commandLabel(cmd, o.Args)}
	var hist []deploy.HistoryEntry
	if a != nil && hasCredentials(sourceRevision(a.AppSource)) {
		return nil, deploy.Invalid("appSource.url", safeURL(sourceRevision(a.AppSource)), "app "+app+"'s source URL holds credentials, which the driver would record in deployments; move them to the source's Username and Password")
	}
	if a != nil {
		hist = history(a, deps)
		if cur, ok := current(hist); ok {
			r := cur.Revision
			plan.From = &r
		}
	}
	switch cmd {
	case CommandDeploy:
		src := a.AppSource
		if src == nil {
			src = &types.Source{}
		}
		pd.source = src
		to := req.Revision.ID
		if to == "" {
			to = sourceRevision(src)
		}
		if to == "" {
			return nil, deploy.Invalid("revision.id", "", "app "+app+" has no source revision: name the revision to deploy")
		}
		plan.To = revisionOf(app, to, src)
		if to != sourceRevision(src) {
			ns := withRevision(src, to)
			pd.newSource = ns
			plan.Changes = append(plan.Changes, deploy.Change{Path: "app." + app + ".appSource." + sourceField(src), Old: sourceRevision(src), New: to})
		}
		if plan.From != nil && plan.From.ID == to && req.RollbackOf == "" {
			plan.Notes = append(plan.Notes, "the instances already run "+to+": this redeploys it")
		}
		pd.mark = marker{To: to, RollbackOf: req.RollbackOf}
		if plan.From != nil {
			pd.mark.From = plan.From.ID
		}
	case CommandRollback:
		n := max(o.Versions, 1)
		revs := earlier(hist)
		of := req.RollbackOf
		if cur, ok := current(hist); ok && of == "" {
			// The rollback reverses the deployment that put the current
			// revision there.
			of = cur.DeploymentID
		}
		if len(revs) >= n {
			plan.To = revisionOf(app, revs[n-1], a.AppSource)
			pd.mark = marker{To: revs[n-1], RollbackOf: of}
			if plan.From != nil {
				pd.mark.From = plan.From.ID
			}
		} else if n == 1 {
			plan.To = deploy.Revision{ID: "previous", Label: "the previous version of " + app, Source: "rollback"}
			plan.Notes = append(plan.Notes, "no earlier revision of "+app+" is known to switchyard; OpsWorks rolls the instances back to the version they ran before")
		} else {
			return nil, fmt.Errorf("%w: a rollback %d versions back: only %d earlier revisions of app %s are known", deploy.ErrNotFound, n, len(revs), app)
		}
		if n > 1 {
			// The rollback command goes one version back: n versions back
			// is a deploy of the revision n deployments ago, which the
			// instances still keep.
			pd.cmd = CommandDeploy
			pd.source = a.AppSource
			if pd.source == nil {
				pd.source = &types.Source{}
			}
			if plan.To.ID != sourceRevision(pd.source) {
				pd.newSource = withRevision(pd.source, plan.To.ID)
				plan.Changes = append(plan.Changes, deploy.Change{Path: "app." + app + ".appSource." + sourceField(pd.source), Old: sourceRevision(pd.source), New: plan.To.ID})
			}
			cmdChange.New = CommandDeploy
			plan.Notes = append(plan.Notes, fmt.Sprintf("OpsWorks's rollback command goes one version back; %d versions back deploys %s", n, plan.To.ID))
		}
	default:
		plan.From = nil
		plan.To = deploy.Revision{ID: cmd, Label: commandLabel(cmd, o.Args), Source: "command"}
		if app != "" {
			plan.To.Attrs = map[string]string{"app": app}
		}
	}
	plan.Changes = append(plan.Changes, cmdChange)
	if len(o.InstanceIDs) > 0 {
		plan.Changes = append(plan.Changes, deploy.Change{Path: "instanceIds", New: strings.Join(o.InstanceIDs, ",")})
	}
	if len(o.LayerIDs) > 0 {
		plan.Changes = append(plan.Changes, deploy.Change{Path: "layerIds", New: strings.Join(o.LayerIDs, ",")})
	}
	if o.CustomJSON != "" {
		plan.Changes = append(plan.Changes, deploy.Change{Path: "customJson", New: redacted(o.CustomJSON)})
	}
	plan.Notes = append(plan.Notes, "OpsWorks deployments cannot be stopped: once started, this one runs to its end")
	plan.Detail = pd
	return plan, nil
}

// Start runs the plan: for a deploy of a new revision UpdateApp sets the
// app's source first, then CreateDeployment runs the command. It returns
// the deployment InProgress. A deployment already running on the target
// gives an error wrapping deploy.ErrLocked and changes nothing; when
// UpdateApp fails (its answer may be lost after the source changed) or
// CreateDeployment fails after it, the app's source is put back.
//
// CreateDeployment takes no idempotency token, and OpsWorks runs a second
// deployment for a second call, so a call whose outcome is unknown is not
// simply sent again: the SDK retries it only when OpsWorks throttled it,
// and after other failures Start looks for the deployment among the
// stack's. One the call created all the same is returned, and followed to
// its end rather than left running unseen behind an error; when there is
// none, the call is sent again as the SDK's retryer would have.
func (d *Driver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	var t deploy.Target
	if p != nil {
		t = p.Request.Target
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("start", t, "", err)
	}
	pd, ok := planDetailOf(p)
	if !ok {
		return nil, wrap("start", t, "", deploy.Invalid("plan", "", "not prepared by the opsworks driver"))
	}
	// One Start per stack at a time in this process: a stack command and
	// an app deploy of the same stack lock each other too.
	key := pd.stack
	d.mu.Lock()
	if d.starting[key] {
		d.mu.Unlock()
		return nil, wrap("start", t, "", fmt.Errorf("%w: another deployment to %s is starting", deploy.ErrLocked, t))
	}
	d.starting[key] = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.starting, key)
		d.mu.Unlock()
	}()
	dep, err := d.start(ctx, p, pd)
	if err != nil {
		return nil, wrap("start", t, "", err)
	}
	return dep, nil
}

func planDetailOf(p *deploy.Plan) (*planDetail, bool) {
	if p == nil {
		return nil, false
	}
	pd, ok := p.Detail.(*planDetail)
	return pd, ok && pd != nil
}

func (d *Driver) start(ctx context.Context, p *deploy.Plan, pd *planDetail) (*deploy.Deployment, error) {
	t := p.Request.Target
	deps, err := describeDeployments(ctx, d.client, &awsopsworks.DescribeDeploymentsInput{StackId: aws.String(pd.stack)})
	if err != nil {
		return nil, err
	}
	if err := lockedBy(t, pd.app, deps); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if pd.newSource != nil {
		d.opts.Logger.Debug("UpdateApp", "app", pd.app, "revision", sourceRevision(pd.newSource))
		if _, err := d.client.UpdateApp(ctx, &awsopsworks.UpdateAppInput{AppId: aws.String(pd.app), AppSource: pd.newSource}); err != nil {
			// The call may have taken effect with its answer lost.
			return nil, d.restoreSource(ctx, t, pd, platform.Wrap(Platform, "UpdateApp", t.String(), err))
		}
	}
	in := &awsopsworks.CreateDeploymentInput{
		StackId:     aws.String(pd.stack),
		Command:     &types.DeploymentCommand{Name: types.DeploymentCommandName(pd.cmd), Args: cloneArgs(pd.opts.Args)},
		InstanceIds: append([]string(nil), pd.opts.InstanceIDs...),
		LayerIds:    append([]string(nil), pd.opts.LayerIDs...),
	}
	if pd.app != "" {
		in.AppId = aws.String(pd.app)
	}
	if c := pd.mark.comment(p.Request.Comment); c != "" {
		in.Comment = aws.String(c)
	}
	if pd.opts.CustomJSON != "" {
		in.CustomJson = aws.String(pd.opts.CustomJSON)
	}
	d.opts.Logger.Debug("CreateDeployment", "stack", pd.stack, "app", pd.app, "command", pd.cmd)
	id, err := d.createDeployment(ctx, t, in, deps)
	if err != nil {
		if pd.newSource != nil {
			// Leave the app as it was: nothing was deployed.
			err = d.restoreSource(ctx, t, pd, err)
		}
		return nil, err
	}
	now := d.opts.Clock.Now()
	dep := &deploy.Deployment{
		ID: id, Target: t, To: p.To, Strategy: p.Request.Strategy, Status: deploy.StatusInProgress,
		CreatedAt: now, UpdatedAt: now, RollbackOf: p.Request.RollbackOf,
		Detail: &Detail{StackID: pd.stack, AppID: pd.app, Command: pd.cmd, Args: cloneArgs(pd.opts.Args)},
	}
	if dep.RollbackOf == "" {
		dep.RollbackOf = pd.mark.RollbackOf
	}
	if p.From != nil {
		f := *p.From
		dep.From = &f
	}
	return dep, nil
}

// restoreSource puts app pd.app's source back to what Prepare read, after
// a Start that failed with err changed it, or may have (UpdateApp sets the
// whole source, so sending it again is safe). It returns err, joined with
// the failure to put the source back, if any.
func (d *Driver) restoreSource(ctx context.Context, t deploy.Target, pd *planDetail, err error) error {
	rctx := context.WithoutCancel(ctx)
	if _, rerr := d.client.UpdateApp(rctx, &awsopsworks.UpdateAppInput{AppId: aws.String(pd.app), AppSource: pd.source}); rerr != nil {
		return errors.Join(err, fmt.Errorf("putting app %s's source back to %s: %w", pd.app, sourceRevision(pd.source), platform.Wrap(Platform, "UpdateApp", t.String(), rerr)))
	}
	return err
}

// createDeployment sends CreateDeployment and returns the new deployment's
// ID. OpsWorks takes no idempotency token and runs a second deployment for
// a second call, so a call whose outcome is unknown is never simply sent
// again: the SDK may retry it only when OpsWorks throttled it (an answer
// that says nothing was created). After any other failure that may follow
// a creation (no answer, an answer that cannot be read, a server error)
// the driver looks at the stack's deployments: one that is not among
// before (the stack's deployments read just before) and has the call's
// command, app and comment is the call's own, and its ID is returned; when
// there is none and the SDK's retryer would have retried the error, the
// call is sent again after the retryer's delay, as many times in all as
// the retryer allows. (A call that reaches OpsWorks only after the driver
// looked would still run twice; without a token nothing closes that
// window.)
func (d *Driver) createDeployment(ctx context.Context, t deploy.Target, in *awsopsworks.CreateDeploymentInput, before []types.Deployment) (string, error) {
	var retryer aws.Retryer
	throttlesOnly := func(o *awsopsworks.Options) {
		if o.Retryer != nil {
			retryer = o.Retryer
			o.Retryer = throttleRetryer{o.Retryer}
		}
	}
	for attempt := 1; ; attempt++ {
		out, err := d.client.CreateDeployment(ctx, in, throttlesOnly)
		if err == nil {
			id := aws.ToString(out.DeploymentId)
			if id == "" {
				return "", errors.New("CreateDeployment returned no deployment ID")
			}
			return id, nil
		}
		err = platform.Wrap(Platform, "CreateDeployment", t.String(), err)
		switch platform.Classify(err) {
		case platform.ClassValidation, platform.ClassNotFound, platform.ClassAccessDenied, platform.ClassThrottling:
			// OpsWorks refused the call: nothing was created.
			return "", err
		}
		id, ferr := d.findCreated(ctx, in, before)
		switch {
		case ferr != nil:
			return "", errors.Join(err, fmt.Errorf("OpsWorks may have created the deployment all the same: looking for it failed: %w", ferr))
		case id != "":
			d.opts.Logger.DebugContext(ctx, "CreateDeployment failed but created the deployment", "id", id, "error", err)
			deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("CreateDeployment failed (%v), but OpsWorks created deployment %s: following it", err, id))
			return id, nil
		}
		if retryer == nil || attempt >= retryer.MaxAttempts() || !retryer.IsErrorRetryable(err) {
			return "", err
		}
		delay, derr := retryer.RetryDelay(attempt, err)
		if derr != nil {
			return "", err
		}
		d.opts.Logger.DebugContext(ctx, "CreateDeployment failed and created nothing: sending it again", "attempt", attempt+1, "error", err)
		select {
		case <-ctx.Done():
			return "", errors.Join(err, ctx.Err())
		case <-d.opts.Clock.After(delay):
		}
	}
}

// findCreated returns the ID of the stack's deployment that is not among
// before and has in's command, app and comment, or "" when there is none.
func (d *Driver) findCreated(ctx context.Context, in *awsopsworks.CreateDeploymentInput, before []types.Deployment) (string, error) {
	deps, err := describeDeployments(ctx, d.client, &awsopsworks.DescribeDeploymentsInput{StackId: in.StackId})
	if err != nil {
		return "", err
	}
	known := map[string]bool{}
	for _, dep := range before {
		known[aws.ToString(dep.DeploymentId)] = true
	}
	for _, dep := range deps {
		if !known[aws.ToString(dep.DeploymentId)] && commandName(dep) == string(in.Command.Name) &&
			aws.ToString(dep.AppId) == aws.ToString(in.AppId) && aws.ToString(dep.Comment) == aws.ToString(in.Comment) {
			return aws.ToString(dep.DeploymentId), nil
		}
	}
	return "", nil
}

// throttleRetryer lets the SDK retry a call only when it was throttled.
type throttleRetryer struct{ aws.Retryer }

// IsErrorRetryable reports whether err is a throttle the retryer retries.
func (r throttleRetryer) IsErrorRetryable(err error) bool {
	return platform.Classify(err) == platform.ClassThrottling && r.Retryer.IsErrorRetryable(err)
}

// GetAttemptToken is the wrapped retryer's, for aws.RetryerV2.
func (r throttleRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.Retryer.GetInitialToken(), nil
}

func cloneArgs(a map[string][]string) map[string][]string {
	if a == nil {
		return nil
	}
	out := make(map[string][]string, len(a))
	for k, v := range a {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// commandLabel is "execute_recipes recipes=a::b,c::d".
func commandLabel(cmd string, args map[string][]string) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := cmd
	for _, k := range keys {
		s += " " + k + "=" + strings.Join(args[k], ",")
	}
	return s
}

// lockedBy returns an error wrapping deploy.ErrLocked when a deployment
// that would overlap one to target (app, or the stack when app is empty)
// is running: one of the same app, or a stack command.
func lockedBy(t deploy.Target, app string, deps []types.Deployment) error {
	for _, dep := range deps {
		if aws.ToString(dep.Status) != "running" {
			continue
		}
		da := aws.ToString(dep.AppId)
		if app == "" || da == "" || da == app {
			what := "stack command"
			if dep.Command != nil {
				what = string(dep.Command.Name)
			}
			return fmt.Errorf("%w: deployment %s (%s) is running on %s; OpsWorks cannot stop it: wait for it to end, then deploy (or roll back with Engine.Rollback)",
				deploy.ErrLocked, aws.ToString(dep.DeploymentId), what, t)
		}
	}
	return nil
}

func describeApp(ctx context.Context, c API, stack, app string) (*types.App, error) {
	out, err := c.DescribeApps(ctx, &awsopsworks.DescribeAppsInput{AppIds: []string{app}})
	if err != nil {
		return nil, platform.Wrap(Platform, "DescribeApps", Target(stack, app).String(), fmt.Errorf("app %s: %w", app, err))
	}
	for i := range out.Apps {
		a := &out.Apps[i]
		if aws.ToString(a.AppId) == app {
			if s := aws.ToString(a.StackId); s != "" && s != stack {
				return nil, fmt.Errorf("%w: app %s is in stack %s, not %s", deploy.ErrNotFound, app, s, stack)
			}
			return a, nil
		}
	}
	return nil, fmt.Errorf("%w: app %s", deploy.ErrNotFound, app)
}

func describeStack(ctx context.Context, c API, stack string) error {
	out, err := c.DescribeStacks(ctx, &awsopsworks.DescribeStacksInput{StackIds: []string{stack}})
	if err != nil {
		return platform.Wrap(Platform, "DescribeStacks", Target(stack, "").String(), fmt.Errorf("stack %s: %w", stack, err))
	}
	for _, s := range out.Stacks {
		if aws.ToString(s.StackId) == stack {
			return nil
		}
	}
	return fmt.Errorf("%w: stack %s", deploy.ErrNotFound, stack)
}

func describeDeployments(ctx context.Context, c API, in *awsopsworks.DescribeDeploymentsInput) ([]types.Deployment, error) {
	out, err := c.DescribeDeployments(ctx, in)
	if err != nil {
		return nil, platform.Wrap(Platform, "DescribeDeployments", Target(aws.ToString(in.StackId), aws.ToString(in.AppId)).String(), err)
	}
	return out.Deployments, nil
}

// resolveInstances returns the instances of stack a deployment with o
// would run on, refusing instance and layer IDs the stack does not have
// (deploy.ErrNotFound) and a choice that leaves no instance.
func resolveInstances(ctx context.Context, c API, stack string, o DeployOptions) ([]string, error) {
	t := Target(stack, "").String()
	out, err := c.DescribeInstances(ctx, &awsopsworks.DescribeInstancesInput{StackId: aws.String(stack)})
	if err != nil {
		return nil, platform.Wrap(Platform, "DescribeInstances", t, err)
	}
	if len(o.LayerIDs) > 0 {
		lout, err := c.DescribeLayers(ctx, &awsopsworks.DescribeLayersInput{StackId: aws.String(stack)})
		if err != nil {
			return nil, platform.Wrap(Platform, "DescribeLayers", t, err)
		}
		have := map[string]bool{}
		for _, l := range lout.Layers {
			have[aws.ToString(l.LayerId)] = true
		}
		for _, l := range o.LayerIDs {
			if !have[l] {
				return nil, fmt.Errorf("%w: layer %s is not in stack %s", deploy.ErrNotFound, l, stack)
			}
		}
	}
	inStack := map[string]bool{}
	var picked []string
	for _, in := range out.Instances {
		id := aws.ToString(in.InstanceId)
		inStack[id] = true
		pick := len(o.InstanceIDs) == 0 && len(o.LayerIDs) == 0
		pick = pick || contains(o.InstanceIDs, id)
		for _, l := range in.LayerIds {
			pick = pick || contains(o.LayerIDs, l)
		}
		if pick {
			picked = append(picked, id)
		}
	}
	for _, id := range o.InstanceIDs {
		if !inStack[id] {
			return nil, fmt.Errorf("%w: instance %s is not in stack %s", deploy.ErrNotFound, id, stack)
		}
	}
	if len(picked) == 0 {
		return nil, deploy.Invalid("instanceIds", strings.Join(o.InstanceIDs, ","), "no instance of stack "+stack+" would run the command")
	}
	sort.Strings(picked)
	return picked, nil
}
