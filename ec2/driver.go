package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Driver deploys application revisions to EC2 and on-premises instances
// through CodeDeploy (deploy.ModePlatform): CodeDeploy runs each instance
// through its lifecycle events batch by batch, as the deployment
// configuration's minimum healthy hosts allow, or, for a blue/green group,
// installs on replacement instances and reroutes traffic to them. Status,
// Stop, Continue and History go through platform.CodeDeploy. It implements
// deploy.Driver, deploy.Stopper, deploy.Continuer, deploy.Historian,
// deploy.StatusBatcher and deploy.BatchSizer and is safe for concurrent
// use; it keeps no state between calls, so a deployment started on one
// machine is tracked, stopped or rolled back from any other.
type Driver struct {
	cd      CodeDeployAPI
	tracker *platform.CodeDeploy
	// ended reads only the deployment records (NoTargets): enough to tell
	// how a deployment stands before stopping or continuing it.
	ended *platform.CodeDeploy
	opts  Options
}

var (
	_ deploy.Driver        = (*Driver)(nil)
	_ deploy.Stopper       = (*Driver)(nil)
	_ deploy.Continuer     = (*Driver)(nil)
	_ deploy.Historian     = (*Driver)(nil)
	_ deploy.StatusBatcher = (*Driver)(nil)
	_ deploy.BatchSizer    = (*Driver)(nil)
)

// New returns a driver over a CodeDeploy client (*codedeploy.Client or
// codedeployfake.Fake). o may be the zero value; set o.EC2 and
// o.AutoScaling for plans that count the instances of tag filters and
// Auto Scaling groups. It panics if client is nil, a programming error.
func New(client CodeDeployAPI, o Options) *Driver {
	if client == nil {
		panic("ec2: New with a nil CodeDeployAPI")
	}
	o = o.withDefaults()
	tr := platform.NewCodeDeploy(client, platform.CodeDeployOptions{Clock: o.Clock, Platform: Platform,
		NoTargets: o.NoTargets, TargetsOnChange: o.InstancesOnChange, HistoryLimit: o.HistoryLimit})
	ended := platform.NewCodeDeploy(client, platform.CodeDeployOptions{Clock: o.Clock, Platform: Platform, NoTargets: true})
	return &Driver{cd: client, tracker: tr, ended: ended, opts: o}
}

// Platform returns "ec2".
func (d *Driver) Platform() string { return Platform }

// Detail is Deployment.Detail (and, read-only, what a plan resolved) for
// EC2/on-premises deployments.
type Detail struct {
	// Application and DeploymentGroup are where the deployment runs.
	Application     string
	DeploymentGroup string
	// DeploymentConfig is the deployment configuration used, and
	// MinHealthyHosts its rule.
	DeploymentConfig string
	MinHealthyHosts  deploy.MinHealthyHosts
	// BlueGreen is true for a blue/green group.
	BlueGreen bool
	// Instances are the instances the plan resolved (empty when they could
	// not be counted).
	Instances []string
}

// planDetail is what Prepare hands to Start.
type planDetail struct {
	app, grp    string
	group       *Group // nil when CreateGroup creates it
	loc         *cdtypes.RevisionLocation
	cfg         config
	o           DeployOptions
	alarms      []string
	instances   []string
	description string
}

func wrap(op string, t deploy.Target, id string, err error) error {
	if err == nil {
		return nil
	}
	var de *deploy.Error
	if errors.As(err, &de) && (de.DeploymentID != "" || id == "") {
		return err
	}
	return &deploy.Error{Platform: Platform, Op: op, Target: t.String(), DeploymentID: id, Err: err}
}

func targetOf(d *deploy.Deployment) deploy.Target {
	if d == nil {
		return deploy.Target{Platform: Platform}
	}
	return d.Target
}

func idOf(d *deploy.Deployment) string {
	if d == nil {
		return ""
	}
	return d.ID
}

// Prepare validates the request, reads the deployment group, resolves the
// instances it targets and works out the batches. Bad input (a malformed S3
// URL, an unknown bundle type, an empty commit, a tar bundle for Windows,
// more than three tag sets, an unknown configuration name, a strategy with
// steps CodeDeploy cannot follow) is refused before any call. It makes no
// mutating call. A group that runs a deployment, or whose last deployment
// stopped or failed part way without a rollback, is refused with an error
// wrapping deploy.ErrLocked, unless the request is a rollback (RollbackOf).
func (d *Driver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	t := req.Target
	if t.Platform == "" {
		t.Platform = Platform
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("prepare", t, "", err)
	}
	p, err := d.prepare(ctx, req)
	if err != nil {
		return nil, wrap("prepare", t, "", err)
	}
	return p, nil
}

// input is what validation makes of a request, before any call.
type input struct {
	app, grp string
	o        DeployOptions
	strategy deploy.Strategy
	loc      *cdtypes.RevisionLocation
	// lookup: the revision ID needs History to be complete (a bundle
	// type, AppSpec content).
	lookup string
}

// validate checks everything that needs no call.
func validate(req deploy.Request) (*input, error) {
	app, grp, err := ParseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	o, err := deploy.OptionsOf[DeployOptions](req.Options)
	if err != nil {
		return nil, err
	}
	in := &input{app: app, grp: grp, o: o}
	s := req.Strategy
	if len(s.Steps) == 0 {
		s = deploy.AllAtOnce()
		s.Name, s.MinHealthy = req.Strategy.Name, req.Strategy.MinHealthy
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if !sameSteps(s.Normalized(), deploy.AllAtOnce().Normalized()) {
		return nil, deploy.UnsupportedStrategy(Platform, s,
			"shift traffic by percentages, bake or wait for approval on EC2/on-premises: CodeDeploy goes through the instances batch by batch "+
				"as the minimum healthy hosts allow (OneAtATime, HalfAtATime, AllAtOnce or HOST_COUNT/FLEET_PERCENT); "+
				"a blue/green group waits in Ready by itself")
	}
	in.strategy = s
	if o.CodeDeployConfig != "" {
		if err := checkConfigName(o.CodeDeployConfig); err != nil {
			return nil, err
		}
		if s.MinHealthy != nil && strings.HasPrefix(o.CodeDeployConfig, deploy.CodeDeployPrefix) {
			cs, _ := deploy.ParseStrategy(o.CodeDeployConfig)
			if *cs.MinHealthy != *s.MinHealthy {
				return nil, deploy.Invalid("codeDeployConfig", o.CodeDeployConfig,
					"disagrees with the strategy's minimum healthy hosts "+s.MinHealthy.String())
			}
		}
	}
	switch o.FileExistsBehavior {
	case "", FileDisallow, FileOverwrite, FileRetain:
	default:
		return nil, deploy.Invalid("fileExistsBehavior", string(o.FileExistsBehavior), "want DISALLOW, OVERWRITE or RETAIN")
	}
	if len(o.Alarms) > 10 {
		return nil, deploy.Invalid("alarms", strings.Join(o.Alarms, ","), "CodeDeploy takes at most 10 alarms per deployment")
	}
	if o.DisableAlarms && len(o.Alarms) > 0 {
		return nil, deploy.Invalid("alarms", strings.Join(o.Alarms, ","), "not with DisableAlarms")
	}
	if o.CreateGroup != nil {
		if err := o.CreateGroup.validate(); err != nil {
			return nil, err
		}
	}
	if err := in.revision(req); err != nil {
		return nil, err
	}
	if o.Windows {
		if err := windowsBundle(in.loc, "the deployment group runs Windows"); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func sameSteps(a, b []deploy.Step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// windowsBundle refuses a tar or tgz bundle for Windows instances.
func windowsBundle(loc *cdtypes.RevisionLocation, why string) error {
	if loc == nil || loc.S3Location == nil {
		return nil
	}
	switch loc.S3Location.BundleType {
	case cdtypes.BundleTypeTar, cdtypes.BundleTypeTarGZip:
		return deploy.Invalid("bundleType", string(loc.S3Location.BundleType),
			why+", and CodeDeploy cannot unpack tar or tgz bundles on Windows Server; use a zip bundle")
	}
	return nil
}

// revision resolves the revision to deploy from the options or the
// request, without any call.
func (in *input) revision(req deploy.Request) error {
	o := in.o
	if req.Revision.ID != "" {
		// An existing revision: options that would name another are
		// ignored, as the contract asks of rollbacks.
		return in.fromID(req.Revision.ID, req.Revision.Attrs)
	}
	n := 0
	for _, set := range []bool{o.S3 != nil, o.GitHub != nil, o.AppSpec != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return deploy.Invalid("revision", "", "name one revision: DeployOptions.S3, GitHub or AppSpec")
	}
	switch {
	case o.S3 != nil:
		if err := o.S3.validate(); err != nil {
			return err
		}
		in.loc = s3Location(*o.S3)
	case o.GitHub != nil:
		if err := o.GitHub.validate(); err != nil {
			return err
		}
		in.loc = githubLocation(*o.GitHub)
	case o.AppSpec != "":
		if !utf8.ValidString(o.AppSpec) {
			return deploy.Invalid("appSpec", "", "not valid UTF-8")
		}
		in.loc = appSpecLocation(o.AppSpec)
	case req.Revision.Source != "":
		src := req.Revision.Source
		switch {
		case strings.HasPrefix(src, "s3://"):
			r, err := ParseS3URL(src, "")
			if err != nil {
				return err
			}
			in.loc = s3Location(r)
		case strings.HasPrefix(src, "github:"):
			r, err := ParseGitHub(src)
			if err != nil {
				return err
			}
			in.loc = githubLocation(r)
		default:
			return deploy.Invalid("revision.source", src, "want s3://bucket/key or github:OWNER/REPO@COMMIT")
		}
	default:
		return deploy.Invalid("revision", "", "name a revision: DeployOptions.S3, GitHub or AppSpec, or Request.Revision.ID or Source")
	}
	return nil
}

// fromID reads a revision ID as platform.RevisionFromLocation writes it.
func (in *input) fromID(id string, attrs map[string]string) error {
	switch {
	case strings.HasPrefix(id, "s3://"):
		bt := attrs["bundleType"]
		r, err := ParseS3URL(id, bt)
		if err != nil {
			var ve *deploy.ValidationError
			if bt == "" && errors.As(err, &ve) && ve.Field == "bundleType" {
				in.lookup = id // History says which bundle type it was
				return nil
			}
			return err
		}
		in.loc = s3Location(r)
	case strings.HasPrefix(id, "github:"):
		r, err := ParseGitHub(id)
		if err != nil {
			return err
		}
		in.loc = githubLocation(r)
	case strings.HasPrefix(id, "appspec:"):
		if c := attrs["content"]; c != "" && "appspec:"+sha(c) == id {
			in.loc = appSpecLocation(c)
			return nil
		}
		in.lookup = id
	default:
		return deploy.Invalid("revision.id", id, "want s3://bucket/key[?versionId=V][#etag=E], github:OWNER/REPO@COMMIT or appspec:SHA256")
	}
	return nil
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func githubLocation(r GitHubRevision) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeGitHub,
		GitHubLocation: &cdtypes.GitHubLocation{Repository: aws.String(r.Repository), CommitId: aws.String(r.CommitID)}}
}

func appSpecLocation(content string) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeString,
		String_: &cdtypes.RawString{Content: aws.String(content), Sha256: aws.String(sha(content))}}
}

// locationOf rebuilds a revision location from a History entry's revision.
func locationOf(r deploy.Revision) (*cdtypes.RevisionLocation, bool) {
	a := r.Attrs
	switch {
	case a["bucket"] != "" && a["key"] != "":
		s := S3Revision{Bucket: a["bucket"], Key: a["key"], BundleType: BundleType(a["bundleType"]), Version: a["version"], ETag: a["eTag"]}
		loc := s3Location(s)
		loc.S3Location.BundleType = cdtypes.BundleType(a["bundleType"])
		return loc, true
	case a["repository"] != "":
		return githubLocation(GitHubRevision{Repository: a["repository"], CommitID: a["commitId"]}), true
	case a["content"] != "":
		return appSpecLocation(a["content"]), true
	}
	return nil, false
}

// config is the deployment configuration a deployment uses.
type config struct {
	name   string
	mh     deploy.MinHealthyHosts
	create bool // a custom configuration Start creates
}

// CustomConfigName is the name of the deployment configuration the driver
// creates for a minimum healthy hosts rule no predefined configuration has,
// such as "Switchyard.HOST_COUNT.2".
func CustomConfigName(m deploy.MinHealthyHosts) string {
	return "Switchyard." + string(m.Type) + "." + strconv.Itoa(m.Value)
}

// resolveConfig picks the deployment configuration: the strategy's
// minimum healthy hosts, DeployOptions.CodeDeployConfig, or the group's.
func (d *Driver) resolveConfig(ctx context.Context, in *input, groupConfig string) (config, error) {
	if mh := in.strategy.MinHealthy; mh != nil {
		if name, ok := in.strategy.CodeDeployConfigName("Server"); ok {
			return config{name: name, mh: *mh}, nil
		}
		if mh.Type == deploy.MostConcurrency {
			return config{}, deploy.Invalid("strategy", in.strategy.String(), "MOST_CONCURRENCY is CodeDeployDefault.OneAtATime alone")
		}
		name := in.o.CodeDeployConfig
		if name == "" {
			name = CustomConfigName(*mh)
		}
		got, err := d.readConfig(ctx, name)
		switch {
		case errors.Is(err, deploy.ErrNotFound) && in.o.CodeDeployConfig == "":
			return config{name: name, mh: *mh, create: true}, nil
		case err != nil:
			return config{}, err
		case got != *mh:
			return config{}, deploy.Invalid("codeDeployConfig", name, "its minimum healthy hosts are "+got.String()+", the strategy's "+mh.String())
		}
		return config{name: name, mh: *mh}, nil
	}
	name := in.o.CodeDeployConfig
	if name == "" {
		name = groupConfig
	}
	if name == "" {
		name = deploy.CodeDeployPrefix + "OneAtATime"
	}
	if s, err := deploy.ParseStrategy(name); err == nil && strings.HasPrefix(name, deploy.CodeDeployPrefix) {
		if s.MinHealthy == nil {
			return config{}, deploy.Invalid("codeDeployConfig", name, "not an EC2/on-premises configuration")
		}
		return config{name: name, mh: *s.MinHealthy}, nil
	}
	mh, err := d.readConfig(ctx, name)
	if err != nil {
		return config{}, err
	}
	return config{name: name, mh: mh}, nil
}

// readConfig reads a custom configuration's minimum healthy hosts.
func (d *Driver) readConfig(ctx context.Context, name string) (deploy.MinHealthyHosts, error) {
	out, err := d.cd.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String(name)})
	if err != nil {
		return deploy.MinHealthyHosts{}, platform.Wrap(Platform, "GetDeploymentConfig", name, err)
	}
	info := out.DeploymentConfigInfo
	if info == nil || info.MinimumHealthyHosts == nil {
		return deploy.MinHealthyHosts{}, deploy.Invalid("codeDeployConfig", name, "not an EC2/on-premises configuration (it has no minimum healthy hosts)")
	}
	if info.ComputePlatform != "" && info.ComputePlatform != cdtypes.ComputePlatformServer {
		return deploy.MinHealthyHosts{}, deploy.Invalid("codeDeployConfig", name, "a "+string(info.ComputePlatform)+" configuration, not an EC2/on-premises one")
	}
	return deploy.MinHealthyHosts{Type: deploy.HostsType(info.MinimumHealthyHosts.Type), Value: int(info.MinimumHealthyHosts.Value)}, nil
}

func (d *Driver) prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	in, err := validate(req)
	if err != nil {
		return nil, err
	}
	det := &planDetail{app: in.app, grp: in.grp, o: in.o}
	for _, g := range req.Gates {
		if ag, ok := g.(*platform.AlarmGate); ok {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			states, err := ag.Alarms(ctx)
			if err != nil {
				return nil, fmt.Errorf("alarms of gate %s: %w", ag.Name(), err)
			}
			for _, s := range states {
				det.alarms = append(det.alarms, s.Name)
			}
		}
	}
	det.alarms = append(det.alarms, in.o.Alarms...)
	if len(det.alarms) > 10 {
		return nil, deploy.Invalid("alarms", strings.Join(det.alarms, ","), "CodeDeploy takes at most 10 alarms per deployment")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &deploy.Plan{Request: req, Mode: deploy.ModePlatform, Detail: det}
	p.Request.Strategy = in.strategy
	if p.Request.Target.Platform == "" {
		p.Request.Target.Platform = Platform
	}
	g, err := d.readGroup(ctx, in.app, in.grp)
	var groupConfig string
	switch {
	case errors.Is(err, deploy.ErrNotFound) && in.o.CreateGroup != nil:
		spec := in.o.CreateGroup
		groupConfig = spec.DeploymentConfig
		p.Changes = append(p.Changes, deploy.Change{Path: "codedeploy.deploymentGroup", New: in.app + "/" + in.grp})
		p.Notes = append(p.Notes, "the deployment group "+in.app+"/"+in.grp+" does not exist; Start creates it")
		g = &Group{Application: in.app, Name: in.grp, EC2TagSets: spec.EC2TagSets, OnPremisesTagSets: spec.OnPremisesTagSets,
			AutoScalingGroups: spec.AutoScalingGroups, BlueGreen: spec.BlueGreen, TrafficControl: len(spec.TargetGroups) > 0,
			WaitForContinue: spec.WaitForContinue, TerminateOriginal: !spec.KeepOriginal, DeploymentConfig: spec.DeploymentConfig}
	case err != nil:
		return nil, err
	default:
		det.group = g
		groupConfig = g.DeploymentConfig
		if err := d.checkLock(ctx, g, req.RollbackOf); err != nil {
			return nil, err
		}
		if g.LastSucceeded != "" {
			s, err := d.ended.Status(ctx, g.LastSucceeded)
			if err != nil {
				return nil, err
			}
			if !s.Revision.IsZero() {
				from := s.Revision
				p.From = &from
			}
		}
	}
	if in.lookup != "" {
		if det.group == nil {
			return nil, fmt.Errorf("%w: revision %s: the deployment group does not exist yet, so no deployment ever used it", deploy.ErrNotFound, in.lookup)
		}
		h, err := d.tracker.History(ctx, in.app, in.grp)
		if err != nil {
			return nil, err
		}
		for _, e := range h {
			if e.Revision.ID == in.lookup {
				in.loc, _ = locationOf(e.Revision)
				break
			}
		}
		if in.loc == nil {
			return nil, fmt.Errorf("%w: revision %s was never deployed to %s/%s; name its bundle type or content", deploy.ErrNotFound, in.lookup, in.app, in.grp)
		}
	}
	det.loc = in.loc
	p.To = platform.RevisionFromLocation(in.loc)
	if p.From != nil && p.From.ID == p.To.ID && req.RollbackOf == "" {
		p.Notes = append(p.Notes, "the group already runs "+p.To.ID+"; this redeploys it")
	}
	cfg, err := d.resolveConfig(ctx, in, groupConfig)
	if err != nil {
		return nil, err
	}
	det.cfg = cfg
	if cfg.create {
		p.Changes = append(p.Changes, deploy.Change{Path: "codedeploy.deploymentConfig", New: cfg.name + " (" + cfg.mh.String() + ")"})
	}
	fl, err := d.resolve(ctx, g)
	if err != nil {
		return nil, err
	}
	d.opts.Logger.DebugContext(ctx, "resolved instances", "application", in.app, "group", in.grp,
		"instances", len(fl.ids), "windows", len(fl.windows), "unresolved", strings.Join(fl.unresolved, "; "))
	if len(fl.windows) > 0 {
		if err := windowsBundle(in.loc, "instances "+strings.Join(fl.windows, ", ")+" run Windows"); err != nil {
			return nil, err
		}
	}
	det.instances = fl.ids
	if len(fl.unresolved) > 0 {
		p.Notes = append(p.Notes, "instances not counted: "+strings.Join(fl.unresolved, ", "))
	}
	if len(fl.unresolved) == 0 || len(fl.ids) > 0 {
		bp, err := cfg.mh.Plan(len(fl.ids))
		if err != nil {
			var ve *deploy.ValidationError
			if errors.As(err, &ve) {
				return nil, deploy.Invalid("deploymentConfig", cfg.name+" ("+cfg.mh.String()+")",
					fmt.Sprintf("can never succeed on the %d instances %s/%s targets: %s", len(fl.ids), in.app, in.grp, ve.Reason))
			}
			return nil, err
		}
		p.Batches = &bp
	}
	if g.BlueGreen {
		note := "blue/green: CodeDeploy installs on replacement instances and reroutes traffic to them"
		if g.WaitForContinue {
			note += "; it waits in Ready for Continue before rerouting"
		}
		if g.TerminateOriginal {
			note += "; the original instances are then terminated"
		} else {
			note += "; the original instances are kept running"
		}
		p.Notes = append(p.Notes, note)
	}
	p.Changes = append(p.Changes, deploy.Change{Path: "codedeploy." + in.app + "/" + in.grp,
		Old: revID(p.From), New: p.To.ID + " with " + cfg.name})
	switch {
	case in.o.DisableAlarms:
		p.Notes = append(p.Notes, "the group's alarms are off for this deployment")
	case len(det.alarms) > 0:
		p.Notes = append(p.Notes, "CodeDeploy watches alarms "+strings.Join(det.alarms, ", "))
	case len(g.Alarms) > 0:
		p.Notes = append(p.Notes, "CodeDeploy watches the group's alarms "+strings.Join(g.Alarms, ", "))
	}
	rollbackOn := req.RollbackOn
	if in.o.GroupRollback {
		rollbackOn = g.RollbackOn
	}
	if ev := rollbackOn.Events(); len(ev) > 0 {
		p.Notes = append(p.Notes, "CodeDeploy rolls back on "+strings.Join(ev, ", "))
	} else {
		p.Notes = append(p.Notes, "CodeDeploy does not roll back by itself")
	}
	desc := req.Comment
	if req.RollbackOf != "" {
		desc = strings.TrimSuffix("Rollback of deployment "+req.RollbackOf+"; "+req.Comment, "; ")
	}
	det.description = desc
	return p, nil
}

func revID(r *deploy.Revision) string {
	if r == nil {
		return ""
	}
	return r.ID
}

// checkLock refuses a new deployment while the group runs one, or while
// its last deployment stopped or failed part way without a rollback
// (unless the request is the rollback that repairs it).
func (d *Driver) checkLock(ctx context.Context, g *Group, rollbackOf string) error {
	last := g.Info.LastAttemptedDeployment
	if last == nil || aws.ToString(last.DeploymentId) == "" {
		return nil
	}
	id := aws.ToString(last.DeploymentId)
	s, err := d.ended.Status(ctx, id)
	if err != nil {
		return err
	}
	if !s.Terminal() {
		return fmt.Errorf("%w: CodeDeploy deployment %s is still %s on %s/%s; stop it or wait for it to end",
			deploy.ErrLocked, id, s.CodeDeployStatus, g.Application, g.Name)
	}
	if rollbackOf == "" && s.RolledBackBy == "" && (s.Status == deploy.StatusStopped || s.Status == deploy.StatusFailed) &&
		s.Percent > 0 && s.Percent < 100 {
		return fmt.Errorf("%w: deployment %s ended %s part way: %.0f%% of the instances run %s; "+
			"roll it back first (Engine.Rollback, deployctl ec2 rollback)",
			deploy.ErrLocked, id, s.Status, s.Percent, s.Revision.ID)
	}
	return nil
}

// Start creates the deployment group when DeployOptions.CreateGroup says
// so and it does not exist, the custom deployment configuration when the
// plan needs one, then the CodeDeploy deployment. It returns once
// CodeDeploy has accepted it, StatusCreated at 0 percent. A group that
// runs a deployment is refused with an error wrapping deploy.ErrLocked
// (CodeDeploy's DeploymentLimitExceededException says the same).
//
// CreateDeployment takes no idempotency token. When it fails, Start looks
// for the deployment it may have created all the same (its answer was lost
// or unreadable, or the SDK sent it again and CodeDeploy refused the second
// attempt because the first had created it): a live deployment of the
// plan's revision, which the group did not have just before, is returned
// as this one, so it is followed to its end rather than left running
// unseen behind an error.
func (d *Driver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	if p == nil {
		return nil, wrap("start", deploy.Target{Platform: Platform}, "", deploy.Invalid("plan", "", "required"))
	}
	t := p.Request.Target
	if t.Platform == "" {
		t.Platform = Platform
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("start", t, "", err)
	}
	det, ok := p.Detail.(*planDetail)
	if !ok || det == nil {
		return nil, wrap("start", t, "", deploy.Invalid("plan", "", "not prepared by the ec2 driver"))
	}
	if det.group == nil {
		if err := d.createGroup(ctx, det); err != nil {
			return nil, wrap("start", t, "", err)
		}
	} else if err := d.checkLive(ctx, det); err != nil {
		return nil, wrap("start", t, "", err)
	}
	if det.cfg.create {
		_, err := d.cd.CreateDeploymentConfig(ctx, &codedeploy.CreateDeploymentConfigInput{
			DeploymentConfigName: aws.String(det.cfg.name), ComputePlatform: cdtypes.ComputePlatformServer,
			MinimumHealthyHosts: &cdtypes.MinimumHealthyHosts{Type: cdtypes.MinimumHealthyHostsType(det.cfg.mh.Type), Value: int32(det.cfg.mh.Value)}})
		var exists *cdtypes.DeploymentConfigAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return nil, wrap("start", t, "", platform.Wrap(Platform, "CreateDeploymentConfig", t.String(), err))
		}
	}
	in := d.createInput(p, det)
	d.opts.Logger.DebugContext(ctx, "CreateDeployment", "application", det.app, "group", det.grp,
		"config", det.cfg.name, "revision", p.To.ID, "instances", len(det.instances))
	id, err := d.tracker.Create(ctx, in)
	if err != nil {
		if id, err = d.createdAnyway(ctx, in, err); err != nil {
			return nil, wrap("start", t, "", err)
		}
	}
	now := d.opts.Clock.Now()
	deploy.NotifierFrom(ctx)(deploy.EventNote, "created CodeDeploy deployment "+id+" on "+det.app+"/"+det.grp+" with "+det.cfg.name)
	dep := &deploy.Deployment{ID: id, Target: t, To: p.To, Strategy: p.Request.Strategy, Status: deploy.StatusCreated,
		CreatedAt: now, UpdatedAt: now, RollbackOf: p.Request.RollbackOf,
		Detail: &Detail{Application: det.app, DeploymentGroup: det.grp, DeploymentConfig: det.cfg.name, MinHealthyHosts: det.cfg.mh,
			BlueGreen: det.group != nil && det.group.BlueGreen, Instances: append([]string(nil), det.instances...)}}
	if p.From != nil {
		f := *p.From
		dep.From = &f
	}
	return dep, nil
}

// createdAnyway looks for the deployment a CreateDeployment call that
// failed with err may have created all the same: its answer was lost or
// unreadable, or the SDK sent it again and CodeDeploy refused the second
// attempt because the first had created the deployment. The rule is
// platform.CodeDeploy.CreatedAnyway's, shared with the Lambda and ECS
// drivers: Start saw no live deployment on the group just before the call,
// so a live one of the plan's revision is this call's, and its ID is
// returned so the deployment is followed rather than left running unseen
// behind an error. Otherwise it returns err (saying the outcome was unknown
// and what the read showed when err was uncertain), joined with the
// lookup's own failure when the lookup failed.
func (d *Driver) createdAnyway(ctx context.Context, in *codedeploy.CreateDeploymentInput, err error) (string, error) {
	id, ferr := d.tracker.CreatedAnyway(ctx, in, err)
	if ferr != nil {
		return "", ferr
	}
	d.opts.Logger.DebugContext(ctx, "CreateDeployment failed but created the deployment", "id", id, "error", err)
	return id, nil
}

// checkLive refuses a deployment while the group has a live one.
func (d *Driver) checkLive(ctx context.Context, det *planDetail) error {
	out, err := d.cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(det.app),
		DeploymentGroupName: aws.String(det.grp), IncludeOnlyStatuses: []cdtypes.DeploymentStatus{
			cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued, cdtypes.DeploymentStatusInProgress,
			cdtypes.DeploymentStatusBaking, cdtypes.DeploymentStatusReady}})
	if err != nil {
		return platform.Wrap(Platform, "ListDeployments", det.app+"/"+det.grp, err)
	}
	if len(out.Deployments) > 0 {
		return fmt.Errorf("%w: CodeDeploy deployment %s is still running on %s/%s; stop it or wait for it to end",
			deploy.ErrLocked, out.Deployments[0], det.app, det.grp)
	}
	return nil
}

// createInput builds the CreateDeployment request.
func (d *Driver) createInput(p *deploy.Plan, det *planDetail) *codedeploy.CreateDeploymentInput {
	o := det.o
	in := &codedeploy.CreateDeploymentInput{
		ApplicationName:               aws.String(det.app),
		DeploymentGroupName:           aws.String(det.grp),
		DeploymentConfigName:          aws.String(det.cfg.name),
		Revision:                      det.loc,
		IgnoreApplicationStopFailures: o.IgnoreApplicationStopFailures,
		UpdateOutdatedInstancesOnly:   o.UpdateOutdatedInstancesOnly,
	}
	if det.description != "" {
		in.Description = aws.String(det.description)
	}
	if o.FileExistsBehavior != "" {
		in.FileExistsBehavior = cdtypes.FileExistsBehavior(o.FileExistsBehavior)
	}
	if !o.GroupRollback {
		ev := p.Request.RollbackOn.Events()
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: len(ev) > 0}
		for _, e := range ev {
			in.AutoRollbackConfiguration.Events = append(in.AutoRollbackConfiguration.Events, cdtypes.AutoRollbackEvent(e))
		}
	}
	switch {
	case o.DisableAlarms:
		in.OverrideAlarmConfiguration = &cdtypes.AlarmConfiguration{Enabled: false}
	case len(det.alarms) > 0:
		ac := &cdtypes.AlarmConfiguration{Enabled: true, IgnorePollAlarmFailure: o.IgnoreAlarmErrors}
		for _, a := range det.alarms {
			ac.Alarms = append(ac.Alarms, cdtypes.Alarm{Name: aws.String(a)})
		}
		in.OverrideAlarmConfiguration = ac
	}
	return in
}

// createGroup creates the deployment group DeployOptions.CreateGroup
// describes; one that exists by now is used as it is.
func (d *Driver) createGroup(ctx context.Context, det *planDetail) error {
	spec := det.o.CreateGroup
	if spec == nil {
		return deploy.Invalid("plan", "", "the deployment group does not exist and the plan has no CreateGroup")
	}
	in := &codedeploy.CreateDeploymentGroupInput{
		ApplicationName:     aws.String(det.app),
		DeploymentGroupName: aws.String(det.grp),
		ServiceRoleArn:      aws.String(spec.ServiceRoleARN),
		AutoScalingGroups:   spec.AutoScalingGroups,
	}
	if spec.DeploymentConfig != "" {
		in.DeploymentConfigName = aws.String(spec.DeploymentConfig)
	}
	if len(spec.EC2TagSets) > 0 {
		in.Ec2TagSet = &cdtypes.EC2TagSet{}
		for _, set := range spec.EC2TagSets {
			var fs []cdtypes.EC2TagFilter
			for _, f := range set {
				fs = append(fs, cdtypes.EC2TagFilter{Key: nilIfEmpty(f.Key), Value: nilIfEmpty(f.Value), Type: cdtypes.EC2TagFilterType(f.kind())})
			}
			in.Ec2TagSet.Ec2TagSetList = append(in.Ec2TagSet.Ec2TagSetList, fs)
		}
	}
	if len(spec.OnPremisesTagSets) > 0 {
		in.OnPremisesTagSet = &cdtypes.OnPremisesTagSet{}
		for _, set := range spec.OnPremisesTagSets {
			var fs []cdtypes.TagFilter
			for _, f := range set {
				fs = append(fs, cdtypes.TagFilter{Key: nilIfEmpty(f.Key), Value: nilIfEmpty(f.Value), Type: cdtypes.TagFilterType(f.kind())})
			}
			in.OnPremisesTagSet.OnPremisesTagSetList = append(in.OnPremisesTagSet.OnPremisesTagSetList, fs)
		}
	}
	if spec.BlueGreen {
		in.DeploymentStyle = &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen,
			DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl}
		action := cdtypes.InstanceActionTerminate
		if spec.KeepOriginal {
			action = cdtypes.InstanceActionKeepAlive
		}
		ready := cdtypes.DeploymentReadyActionContinueDeployment
		if spec.WaitForContinue {
			ready = cdtypes.DeploymentReadyActionStopDeployment
		}
		in.BlueGreenDeploymentConfiguration = &cdtypes.BlueGreenDeploymentConfiguration{
			DeploymentReadyOption: &cdtypes.DeploymentReadyOption{ActionOnTimeout: ready},
			GreenFleetProvisioningOption: &cdtypes.GreenFleetProvisioningOption{
				Action: cdtypes.GreenFleetProvisioningActionCopyAutoScalingGroup},
			TerminateBlueInstancesOnDeploymentSuccess: &cdtypes.BlueInstanceTerminationOption{
				Action: action, TerminationWaitTimeInMinutes: int32(spec.TerminationWait.Minutes())},
		}
		lb := &cdtypes.LoadBalancerInfo{}
		for _, tg := range spec.TargetGroups {
			lb.TargetGroupInfoList = append(lb.TargetGroupInfoList, cdtypes.TargetGroupInfo{Name: aws.String(tg)})
		}
		in.LoadBalancerInfo = lb
	} else {
		in.DeploymentStyle = &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeInPlace,
			DeploymentOption: cdtypes.DeploymentOptionWithoutTrafficControl}
	}
	if len(spec.Alarms) > 0 {
		in.AlarmConfiguration = &cdtypes.AlarmConfiguration{Enabled: true}
		for _, a := range spec.Alarms {
			in.AlarmConfiguration.Alarms = append(in.AlarmConfiguration.Alarms, cdtypes.Alarm{Name: aws.String(a)})
		}
	}
	if ev := spec.RollbackOn.Events(); len(ev) > 0 {
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: true}
		for _, e := range ev {
			in.AutoRollbackConfiguration.Events = append(in.AutoRollbackConfiguration.Events, cdtypes.AutoRollbackEvent(e))
		}
	}
	_, err := d.cd.CreateDeploymentGroup(ctx, in)
	var exists *cdtypes.DeploymentGroupAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return platform.Wrap(Platform, "CreateDeploymentGroup", det.app+"/"+det.grp, err)
	}
	return nil
}

// Status reads the CodeDeploy deployment through platform.CodeDeploy:
// each instance with its lifecycle events in order, Percent the share of
// the fleet on the new revision. A deployment CodeDeploy rolled back is
// StatusRolledBack at 0 percent; one that failed says in Reason which
// instance failed at which lifecycle event (FailureOf reads it as a
// *LifecycleError). An unknown ID wraps deploy.ErrNotFound. It changes
// nothing and never modifies d.
func (d *Driver) Status(ctx context.Context, dep *deploy.Deployment) (*deploy.Deployment, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("status", targetOf(dep), idOf(dep), err)
	}
	if dep == nil || dep.ID == "" {
		return nil, wrap("status", targetOf(dep), "", deploy.Invalid("deployment", "", "required"))
	}
	s, err := d.tracker.Status(ctx, dep.ID)
	if err != nil {
		return nil, wrap("status", dep.Target, dep.ID, err)
	}
	return report(dep, s), nil
}

// report is dep updated with what CodeDeploy says of it (s), the failing
// instance and lifecycle event first in Reason.
func report(dep *deploy.Deployment, s *platform.DeploymentState) *deploy.Deployment {
	out := s.Apply(dep)
	if out.Status == deploy.StatusFailed || out.Status == deploy.StatusStopped || out.Status == deploy.StatusRolledBack ||
		(out.Status == deploy.StatusInProgress && out.RolledBackBy != "") {
		if le := FailureOf(out); le != nil && !strings.Contains(out.Reason, le.Error()) {
			out.Reason = le.Error() + "; " + out.Reason
		}
	}
	return out
}

// Stop stops a live CodeDeploy deployment: with o.Rollback CodeDeploy
// redeploys the previous revision (Status ends RolledBack); without it the
// instances stay where they are (Status ends Stopped with Percent the
// share of instances on the new revision, and Prepare refuses new
// deployments until Engine.Rollback repairs the group). Outcomes are
// CodeDeploy's: Succeeded, Pending (lifecycle events still running), or an
// error wrapping deploy.ErrCannotStop.
//
// A deployment that has ended is not sent to CodeDeploy: StopSucceeded for
// one that ended RolledBack, or Stopped or Failed when no rollback is
// asked; an error wrapping deploy.ErrCannotStop for one that Succeeded,
// and for a rollback of one that ended Stopped or Failed (an ended
// deployment is reversed by a new one, deploy.Engine.Rollback).
func (d *Driver) Stop(ctx context.Context, dep *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", wrap("stop", targetOf(dep), idOf(dep), err)
	}
	if dep == nil || dep.ID == "" {
		return "", wrap("stop", targetOf(dep), "", deploy.Invalid("deployment", "", "required"))
	}
	s, err := d.ended.Status(ctx, dep.ID)
	if err != nil {
		return "", wrap("stop", dep.Target, dep.ID, err)
	}
	if out, ended, err := deploy.StopEnded(s.Status, o); ended {
		return out, wrap("stop", dep.Target, dep.ID, err)
	}
	if s.RolledBackBy != "" {
		// CodeDeploy is rolling it back already.
		return deploy.StopPending, nil
	}
	out, err := d.tracker.Stop(ctx, dep.ID, o.Rollback)
	if err != nil {
		return "", wrap("stop", dep.Target, dep.ID, err)
	}
	return out, nil
}

// Continue lets a blue/green deployment waiting in Ready reroute traffic
// to its replacement instances (ContinueDeployment). A deployment that is
// not waiting gives an error wrapping deploy.ErrInvalidRequest without
// calling ContinueDeployment; an unknown one deploy.ErrNotFound.
func (d *Driver) Continue(ctx context.Context, dep *deploy.Deployment) error {
	if err := ctx.Err(); err != nil {
		return wrap("continue", targetOf(dep), idOf(dep), err)
	}
	if dep == nil || dep.ID == "" {
		return wrap("continue", targetOf(dep), "", deploy.Invalid("deployment", "", "required"))
	}
	s, err := d.ended.Status(ctx, dep.ID)
	if err != nil {
		return wrap("continue", dep.Target, dep.ID, err)
	}
	if s.Status != deploy.StatusReady {
		return wrap("continue", dep.Target, dep.ID, fmt.Errorf("%w: deployment %s is %s, not waiting in Ready",
			deploy.ErrInvalidRequest, dep.ID, s.CodeDeployStatus))
	}
	return wrap("continue", dep.Target, dep.ID, d.tracker.Continue(ctx, dep.ID))
}

// History lists the deployment group's deployments from CodeDeploy
// (ListDeployments, BatchGetDeployments), newest first: each entry's
// revision, how its deployment ended, and which revision is Current (the
// newest that succeeded). The revision the oldest deployment listed
// replaced is listed after it as succeeded, so a rollback works from any
// machine. An unknown group wraps deploy.ErrNotFound.
func (d *Driver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
	if t.Platform == "" {
		t.Platform = Platform
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("history", t, "", err)
	}
	app, grp, err := ParseTarget(t)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	h, err := d.tracker.History(ctx, app, grp)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	if len(h) == 0 {
		// Some endpoints list nothing for a group that does not exist:
		// tell the two apart.
		if _, err := d.readGroup(ctx, app, grp); err != nil {
			return nil, wrap("history", t, "", err)
		}
		return h, nil
	}
	oldest := h[len(h)-1]
	s, err := d.ended.Status(ctx, oldest.DeploymentID)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	current := false
	for _, e := range h {
		current = current || e.Current
	}
	if prev := s.PreviousRevision; prev != nil {
		listed := false
		for _, e := range h {
			listed = listed || (e.Revision.ID == prev.ID && e.Status == deploy.StatusSucceeded)
		}
		if !listed {
			h = append(h, deploy.HistoryEntry{Revision: *prev, Status: deploy.StatusSucceeded, Current: !current})
		} else if !current {
			for i := range h {
				if h[i].Revision.ID == prev.ID && h[i].Status == deploy.StatusSucceeded {
					h[i].Current = true
					break
				}
			}
		}
	}
	return h, nil
}
