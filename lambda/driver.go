package lambda

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Detail is the Lambda-specific part of a deployment (Deployment.Detail).
type Detail struct {
	// Function and Alias are the target.
	Function string
	Alias    string
	// FromVersion is the version the alias ran before; ToVersion the one
	// being deployed.
	FromVersion string
	ToVersion   string
	// Published is true when Start published ToVersion.
	Published bool
	// Source is where a published version came from.
	Source string
	// CodeDeployID is the CodeDeploy deployment, in CodeDeploy-managed mode.
	CodeDeployID string
}

// planDetail is what Prepare hands to Start (Plan.Detail).
type planDetail struct {
	function, alias string
	from            string
	aliasRev        string // the alias's RevisionId when prepared
	fnRev           string // $LATEST's RevisionId when prepared
	src             source
	config          *FunctionConfig
	resetWeights    bool
	description     string
	// codeDeploy is set by the CodeDeploy driver.
	codeDeploy *codeDeployPlan
}

// Driver deploys a Lambda alias by shifting its weights itself, step by
// step as the engine asks (deploy.ModeEngine). It implements deploy.Driver,
// deploy.Shifter, deploy.Stopper and deploy.Historian, and is safe for
// concurrent use. Deployments live in the driver's memory: Status, Shift
// and Stop know only the deployments this Driver started, and Start
// refuses a second live deployment to an alias while this Driver runs one.
type Driver struct {
	client Client
	opts   Options

	mu       sync.Mutex
	deps     map[string]*record
	starting map[string]bool // aliases ("function:alias") with a Start under way
	seq      int
}

// record is a deployment this driver started.
type record struct {
	mu  sync.Mutex // serializes Shift, Stop and Status on one deployment
	d   *deploy.Deployment
	det *Detail
}

var (
	_ deploy.Driver    = (*Driver)(nil)
	_ deploy.Shifter   = (*Driver)(nil)
	_ deploy.Stopper   = (*Driver)(nil)
	_ deploy.Historian = (*Driver)(nil)
)

// New returns a client-driven Driver over client (*lambda.Client from
// aws-sdk-go-v2, or lambdafake.Client). o may be the zero value.
func New(client Client, o Options) *Driver {
	return &Driver{client: client, opts: o.withDefaults(), deps: map[string]*record{}, starting: map[string]bool{}}
}

// NewFromConfig returns a client-driven Driver over the Lambda client made
// from cfg.
func NewFromConfig(cfg aws.Config, o Options) *Driver {
	return New(awslambda.NewFromConfig(cfg), o)
}

// Platform returns "lambda".
func (d *Driver) Platform() string { return Platform }

// wrap returns err as a *deploy.Error of this platform (platform.Wrap): the
// deploy sentinel of its class is added and the SDK error stays reachable
// with errors.As. An err that already is a *deploy.Error is returned as is.
func wrap(op string, t deploy.Target, id string, err error) error {
	if t.Platform == "" {
		t.Platform = Platform
	}
	return platform.WrapDeployment(Platform, op, t.String(), id, err)
}

// AliasState is where an alias points.
type AliasState struct {
	Function string `json:"function"`
	Alias    string `json:"alias"`
	// Version is the primary version.
	Version string `json:"version"`
	// Weights are the additional versions' weights (nil when none).
	Weights map[string]float64 `json:"weights,omitempty"`
	// RevisionID is the alias's revision, for optimistic updates.
	RevisionID string `json:"revisionId,omitempty"`
}

// Single reports whether the alias points at one version with no weights.
func (a AliasState) Single() bool { return len(a.Weights) == 0 }

// String describes the alias: "version 3", or "version 3 + version 4 at 0.1".
func (a AliasState) String() string {
	s := "version " + a.Version
	for _, v := range slices.Sorted(maps.Keys(a.Weights)) {
		s += fmt.Sprintf(" + version %s at %s", v, strconv.FormatFloat(a.Weights[v], 'f', -1, 64))
	}
	return s
}

// share is the percentage of the alias's traffic that version gets.
func (a AliasState) share(version string) float64 {
	if a.Version == version {
		rest := 0.0
		for v, w := range a.Weights {
			if v != version {
				rest += w
			}
		}
		return clampPercent(100 - rest*100)
	}
	return clampPercent(a.Weights[version] * 100)
}

func clampPercent(p float64) float64 { return max(0, min(100, math.Round(p*1e6)/1e6)) }

// Alias reads where the target's alias points. It changes nothing. A
// missing function or alias gives an error wrapping deploy.ErrNotFound.
func (d *Driver) Alias(ctx context.Context, t deploy.Target) (AliasState, error) {
	if err := ctx.Err(); err != nil {
		return AliasState{}, wrap("alias", t, "", err)
	}
	fn, alias, err := ParseTarget(t)
	if err != nil {
		return AliasState{}, wrap("alias", t, "", err)
	}
	a, err := getAlias(ctx, d.client, fn, alias)
	if err != nil {
		return AliasState{}, wrap("alias", t, "", err)
	}
	return a, nil
}

// getAlias reads an alias. Its errors are *deploy.Error values made by
// platform.Wrap (a missing function or alias wraps deploy.ErrNotFound).
func getAlias(ctx context.Context, c Client, fn, alias string) (AliasState, error) {
	out, err := c.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias)})
	if err != nil {
		return AliasState{}, platform.Wrap(Platform, "GetAlias", Target(fn, alias).String(),
			fmt.Errorf("alias %s of %s: %w", alias, fn, err))
	}
	a := AliasState{Function: fn, Alias: alias, Version: aws.ToString(out.FunctionVersion), RevisionID: aws.ToString(out.RevisionId)}
	if out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0 {
		a.Weights = maps.Clone(out.RoutingConfig.AdditionalVersionWeights)
	}
	return a, nil
}

// Prepare validates req, resolves the alias's current version and the
// version to deploy, and lists what would change. It makes only read calls
// (GetAlias, GetFunctionConfiguration). Refused, with no call at all when
// the input alone shows it: $LATEST as either version, the target equal to
// the current version (including a zip whose code the current version
// already runs) unless the request is a rollback, an alias already
// weighted (*WeightedAliasError, unless ResetWeights or a rollback), a
// missing function, alias or version (deploy.ErrNotFound), a strategy
// Lambda cannot carry out (deploy.UnsupportedStrategy). Refused as
// *deploy.ValidationError, before any mutating call: function and alias
// names outside Lambda's rules, version 0, a package that is not a zip
// archive or is over MaxZipSize (or unzips to over MaxUnzippedSize), an
// http(s) URL as a code source, a non-UTF-8 configuration, a CodeDeploy
// configuration of another compute platform, and a hook function or
// CloudWatch alarm (a *platform.AlarmGate) that does not exist (found with
// GetFunctionConfiguration and DescribeAlarms).
//
// When the request publishes new code, the plan's To has no ID (the
// version number is known once published): its Label is
// "function:(new version)" and its Source the code's origin.
func (d *Driver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("prepare", req.Target, "", err)
	}
	p, err := prepare(ctx, d.client, req)
	if err != nil {
		return nil, wrap("prepare", req.Target, "", err)
	}
	p.Mode = deploy.ModeEngine
	return p, nil
}

// checkStrategy refuses, before any call, a strategy no Lambda deployment
// can carry out.
func checkStrategy(s deploy.Strategy) error {
	if s.MinHealthy != nil {
		return deploy.UnsupportedStrategy(Platform, s,
			"keep a minimum of healthy hosts: a Lambda deployment shifts an alias's traffic between two versions")
	}
	return s.Validate()
}

// prepare is shared by both drivers. Its request has its target's
// Platform and its strategy's default filled in.
func prepare(ctx context.Context, c Client, req deploy.Request) (*deploy.Plan, error) {
	if req.Target.Platform == "" {
		req.Target.Platform = Platform
	}
	fn, alias, err := ParseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if len(req.Strategy.Steps) == 0 {
		mh := req.Strategy.MinHealthy
		req.Strategy = deploy.AllAtOnce()
		req.Strategy.MinHealthy = mh
	}
	if err := checkStrategyPlatform(req.Strategy); err != nil {
		return nil, err
	}
	if err := checkStrategy(req.Strategy); err != nil {
		return nil, err
	}
	o, err := deployOptions(req.Options)
	if err != nil {
		return nil, err
	}
	src, err := resolveSource(req.Revision, o)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(o)
	if err != nil {
		return nil, err
	}
	if cfg != nil && src.kind == sourceVersion {
		return nil, deploy.Invalid("config", o.ConfigFile, "a configuration update needs new code to publish; an existing version cannot change")
	}
	if cfg != nil && cfg.FunctionName != nil && *cfg.FunctionName != fn && !hasSuffixName(fn, *cfg.FunctionName) {
		return nil, deploy.Invalid("config.FunctionName", *cfg.FunctionName, "does not match the target function "+fn)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	a, err := getAlias(ctx, c, fn, alias)
	if err != nil {
		return nil, err
	}
	if err := checkGates(ctx, c, req.Gates); err != nil {
		return nil, err
	}
	plan := &deploy.Plan{Request: req}
	if a.Version == latest {
		return nil, deploy.Invalid("alias.functionVersion", latest,
			fmt.Sprintf("alias %s points at $LATEST; point it at a published version first", alias))
	}
	// The engine's rollbacks (RollbackOf set) redeploy the version the
	// alias started from after a deployment it could not stop: the alias may
	// still carry that deployment's weight, and may already point at the
	// version. Both are what a rollback repairs, not reasons to refuse.
	rollback := req.RollbackOf != ""
	if !a.Single() {
		if !o.ResetWeights && !rollback {
			return nil, &WeightedAliasError{Function: fn, Alias: alias, Version: a.Version, Weights: a.Weights}
		}
		plan.Changes = append(plan.Changes, deploy.Change{Path: "alias." + alias + ".routingConfig", Old: a.String(), New: "version " + a.Version})
		plan.Notes = append(plan.Notes, "the alias's weights will be removed first (ResetWeights), leaving version "+a.Version+" alone")
	}
	fromCfg, err := getConfig(ctx, c, fn, a.Version)
	if err != nil {
		return nil, err
	}
	plan.From = versionRevision(fn, fromCfg)

	det := &planDetail{function: fn, alias: alias, from: a.Version, aliasRev: a.RevisionID, src: src, config: cfg,
		resetWeights: (o.ResetWeights || rollback) && !a.Single(), description: req.Comment}
	switch src.kind {
	case sourceVersion:
		if src.version == a.Version && !rollback {
			return nil, deploy.Invalid("revision.id", src.version, "alias "+alias+" already points at version "+src.version)
		}
		toCfg, err := getConfig(ctx, c, fn, src.version)
		if err != nil {
			return nil, err
		}
		plan.To = *versionRevision(fn, toCfg)
		plan.To.Source = req.Revision.Source
		if aws.ToString(toCfg.CodeSha256) != "" && aws.ToString(toCfg.CodeSha256) != aws.ToString(fromCfg.CodeSha256) {
			plan.Changes = append(plan.Changes, deploy.Change{Path: "function.codeSha256", Old: aws.ToString(fromCfg.CodeSha256), New: aws.ToString(toCfg.CodeSha256)})
		}
	default:
		latestCfg, err := getConfig(ctx, c, fn, latest)
		if err != nil {
			return nil, err
		}
		det.fnRev = aws.ToString(latestCfg.RevisionId)
		cfgChanges := configChanges(latestCfg, cfg)
		_, canTag := c.(Tagger)
		if canTag && cfg != nil && len(cfg.Tags) > 0 {
			plan.Notes = append(plan.Notes, "function file: its Tags will be applied with TagResource")
		}
		for _, n := range unapplied(cfg, latestCfg, canTag) {
			plan.Notes = append(plan.Notes, "function file: not applied to an existing function: "+n)
		}
		if sha := src.codeSha256(); sha != "" {
			if sha == aws.ToString(fromCfg.CodeSha256) && len(configChanges(fromCfg, cfg)) == 0 && configEqual(fromCfg, latestCfg) {
				return nil, deploy.Invalid("revision", src.label(),
					"version "+a.Version+" (the alias's current version) already runs this code and configuration")
			}
			if sha != aws.ToString(latestCfg.CodeSha256) {
				plan.Changes = append(plan.Changes, deploy.Change{Path: "function.codeSha256", Old: aws.ToString(latestCfg.CodeSha256), New: sha})
			}
		} else {
			plan.Changes = append(plan.Changes, deploy.Change{Path: "function.code", New: src.label()})
		}
		plan.Changes = append(plan.Changes, cfgChanges...)
		plan.To = deploy.Revision{Label: fn + ":(new version)", Source: src.label(),
			Attrs: map[string]string{"function": fn, "source": string(src.kind)}}
		if sha := src.codeSha256(); sha != "" {
			plan.To.Attrs["codeSha256"] = sha
		}
		plan.Notes = append(plan.Notes, "a new version will be published from "+src.label())
	}
	plan.Changes = append(plan.Changes, deploy.Change{Path: "alias." + alias + ".functionVersion", Old: a.Version, New: orNew(plan.To.ID)})
	plan.Detail = det
	return plan, nil
}

func hasSuffixName(fn, name string) bool {
	return len(fn) > len(name) && fn[len(fn)-len(name)-1:] == ":"+name
}

func orNew(v string) string {
	if v == "" {
		return "(new version)"
	}
	return v
}

func getConfig(ctx context.Context, c Client, fn, qualifier string) (*awslambda.GetFunctionConfigurationOutput, error) {
	out, err := c.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn), Qualifier: aws.String(qualifier)})
	if err != nil {
		what := "version " + qualifier + " of " + fn
		if qualifier == latest {
			what = "function " + fn
		}
		return nil, platform.Wrap(Platform, "GetFunctionConfiguration", Platform+":"+fn, fmt.Errorf("%s: %w", what, err))
	}
	return out, nil
}

func versionRevision(fn string, c *awslambda.GetFunctionConfigurationOutput) *deploy.Revision {
	v := aws.ToString(c.Version)
	r := &deploy.Revision{ID: v, Label: shortName(fn) + ":" + v, Attrs: map[string]string{"function": fn}}
	if s := aws.ToString(c.CodeSha256); s != "" {
		r.Attrs["codeSha256"] = s
	}
	if a := aws.ToString(c.FunctionArn); a != "" {
		r.Attrs["arn"] = a
	}
	return r
}

// shortName is the function name of an ARN, or the name itself.
func shortName(fn string) string {
	const marker = ":function:"
	for i := 0; i+len(marker) <= len(fn); i++ {
		if fn[i:i+len(marker)] == marker {
			return fn[i+len(marker):]
		}
	}
	return fn
}

func configEqual(a, b *awslambda.GetFunctionConfigurationOutput) bool {
	return aws.ToString(a.Handler) == aws.ToString(b.Handler) && a.Runtime == b.Runtime &&
		aws.ToInt32(a.MemorySize) == aws.ToInt32(b.MemorySize) && aws.ToInt32(a.Timeout) == aws.ToInt32(b.Timeout) &&
		aws.ToString(a.Description) == aws.ToString(b.Description) && envOf(a) == envOf(b)
}

func envOf(c *awslambda.GetFunctionConfigurationOutput) string {
	if c.Environment == nil {
		return ""
	}
	return fmt.Sprint(c.Environment.Variables)
}

// configChanges lists what cfg would change on cur.
func configChanges(cur *awslambda.GetFunctionConfigurationOutput, cfg *FunctionConfig) []deploy.Change {
	if cfg == nil {
		return nil
	}
	var out []deploy.Change
	add := func(path, old, new string) {
		if old != new {
			out = append(out, deploy.Change{Path: "function." + path, Old: old, New: new})
		}
	}
	if cfg.Description != nil {
		add("Description", aws.ToString(cur.Description), *cfg.Description)
	}
	if cfg.Handler != nil {
		add("Handler", aws.ToString(cur.Handler), *cfg.Handler)
	}
	if cfg.Runtime != nil {
		add("Runtime", string(cur.Runtime), *cfg.Runtime)
	}
	if cfg.Role != nil {
		add("Role", aws.ToString(cur.Role), *cfg.Role)
	}
	if cfg.MemorySize != nil {
		add("MemorySize", strconv.Itoa(int(aws.ToInt32(cur.MemorySize))), strconv.Itoa(int(*cfg.MemorySize)))
	}
	if cfg.Timeout != nil {
		add("Timeout", strconv.Itoa(int(aws.ToInt32(cur.Timeout))), strconv.Itoa(int(*cfg.Timeout)))
	}
	if cfg.Layers != nil {
		var old []string
		for _, l := range cur.Layers {
			old = append(old, aws.ToString(l.Arn))
		}
		add("Layers", fmt.Sprint(old), fmt.Sprint(cfg.Layers))
	}
	out = append(out, moreChanges(cur, cfg)...)
	if cfg.Environment != nil {
		var old map[string]string
		if cur.Environment != nil {
			old = cur.Environment.Variables
		}
		for _, k := range sortedKeys(old, cfg.Environment.Variables) {
			add("Environment.Variables."+k, old[k], cfg.Environment.Variables[k])
		}
	}
	return out
}

func sortedKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// Start publishes the new version if the plan has one to publish (waiting
// for LastUpdateStatus Successful before and after each update, retrying
// ResourceConflictException), first removing the alias's weights if the
// plan says ResetWeights (or is a rollback of a weighted alias), and
// returns the deployment InProgress at 0 percent: the alias still points
// at the old version alone.
//
// While this Driver has a live deployment to the same alias, Start refuses
// another with an error wrapping deploy.ErrLocked, before any call; a
// rollback of that deployment (Request.RollbackOf naming it) is accepted
// and ends it.
func (d *Driver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	if p == nil {
		return nil, wrap("start", deploy.Target{}, "", deploy.Invalid("plan", "", "required"))
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("start", p.Request.Target, "", err)
	}
	det, ok := p.Detail.(*planDetail)
	if !ok || det == nil || det.codeDeploy != nil {
		return nil, wrap("start", p.Request.Target, "", deploy.Invalid("plan", "", "not prepared by the lambda driver"))
	}
	key := det.function + ":" + det.alias
	superseded, err := d.reserve(key, p.Request.RollbackOf)
	if err != nil {
		return nil, wrap("start", p.Request.Target, "", err)
	}
	defer func() {
		d.mu.Lock()
		delete(d.starting, key)
		d.mu.Unlock()
	}()
	to, published, err := startCommon(ctx, d.client, d.opts, p, det)
	if err != nil {
		return nil, wrap("start", p.Request.Target, "", err)
	}
	now := d.opts.Clock.Now()
	from := *p.From
	dep := &deploy.Deployment{
		Target: p.Request.Target, From: &from, To: to, Strategy: p.Request.Strategy,
		Status: deploy.StatusInProgress, CreatedAt: now, UpdatedAt: now, RollbackOf: p.Request.RollbackOf,
	}
	if dep.Target.Platform == "" {
		dep.Target.Platform = Platform
	}
	rd := &Detail{Function: det.function, Alias: det.alias, FromVersion: det.from, ToVersion: to.ID, Published: published}
	if published {
		rd.Source = det.src.label()
	}
	dep.Detail = rd
	rec := &record{d: dep, det: rd}
	d.mu.Lock()
	d.seq++
	dep.ID = fmt.Sprintf("lambda-%s-%s-%d-%d", shortName(det.function), det.alias, now.UnixNano(), d.seq)
	d.deps[dep.ID] = rec
	d.mu.Unlock()
	if superseded != nil {
		superseded.mu.Lock()
		if !superseded.d.Status.Terminal() {
			superseded.d.Status = deploy.StatusFailed
			superseded.d.Reason = "rolled back by " + dep.ID
			superseded.d.RolledBackBy = dep.ID
			superseded.d.UpdatedAt, superseded.d.EndedAt = now, now
			d.record(ctx, superseded)
		}
		superseded.mu.Unlock()
	}
	d.seedHistory(ctx, rec)
	d.record(ctx, rec)
	return dep.Clone(), nil
}

// reserve claims alias key for a Start. It refuses (deploy.ErrLocked) when
// another Start for the alias is under way, or when a deployment this
// driver started to it is live and rollbackOf does not name it; it returns
// the live deployment a rollback supersedes.
//
// The deployments of the alias are found under d.mu (their function and
// alias never change), and their status is read after d.mu is released: a
// deployment's own lock is held through its Shift's and Stop's AWS calls,
// which take seconds when the SDK retries throttled ones, and d.mu held
// while waiting for it would hold up every other alias's Start, Status,
// Shift and Stop behind that one call.
func (d *Driver) reserve(key, rollbackOf string) (*record, error) {
	type candidate struct {
		id  string
		rec *record
	}
	d.mu.Lock()
	if d.starting[key] {
		d.mu.Unlock()
		return nil, fmt.Errorf("%w: another deployment to alias %s is starting", deploy.ErrLocked, key)
	}
	var same []candidate
	for id, rec := range d.deps {
		if rec.det.Function+":"+rec.det.Alias == key {
			same = append(same, candidate{id, rec})
		}
	}
	d.starting[key] = true
	d.mu.Unlock()
	var superseded *record
	for _, c := range same {
		c.rec.mu.Lock()
		live := !c.rec.d.Status.Terminal()
		c.rec.mu.Unlock()
		if !live {
			continue
		}
		if c.id != rollbackOf {
			d.mu.Lock()
			delete(d.starting, key)
			d.mu.Unlock()
			return nil, fmt.Errorf("%w: deployment %s to alias %s is still running; stop it or wait for it to end", deploy.ErrLocked, c.id, key)
		}
		superseded = c.rec
	}
	return superseded, nil
}

// startCommon publishes the version to deploy (or resolves the existing
// one) and repairs the alias if asked. Shared by both drivers.
func startCommon(ctx context.Context, c Client, o Options, p *deploy.Plan, det *planDetail) (deploy.Revision, bool, error) {
	if p.From == nil {
		return deploy.Revision{}, false, deploy.Invalid("plan.from", "", "missing")
	}
	if det.resetWeights {
		err := retryConflict(ctx, o, "UpdateAlias", func() error {
			return updateAlias(ctx, c, &awslambda.UpdateAliasInput{FunctionName: aws.String(det.function), Name: aws.String(det.alias),
				FunctionVersion: aws.String(det.from), RoutingConfig: noWeights(), RevisionId: optString(det.aliasRev)})
		})
		if err != nil {
			return deploy.Revision{}, false, platform.Wrap(Platform, "UpdateAlias", Target(det.function, det.alias).String(),
				fmt.Errorf("reset alias weights: %w", err))
		}
		deploy.NotifierFrom(ctx)(deploy.EventNote, "removed the alias's weights: "+det.alias+" now runs version "+det.from+" alone")
	}
	if det.src.kind == sourceVersion {
		cfg, err := getConfig(ctx, c, det.function, det.src.version)
		if err != nil {
			return deploy.Revision{}, false, err
		}
		r := *versionRevision(det.function, cfg)
		r.Source = p.To.Source
		return r, false, nil
	}
	v, err := publish(ctx, c, o, det)
	if err != nil {
		return deploy.Revision{}, false, err
	}
	if v == det.from {
		return deploy.Revision{}, true, fmt.Errorf("%w: publishing gave version %s, which the alias already runs (code and configuration unchanged)", deploy.ErrInvalidRequest, v)
	}
	cfg, err := getConfig(ctx, c, det.function, v)
	if err != nil {
		return deploy.Revision{}, true, err
	}
	r := *versionRevision(det.function, cfg)
	r.Source = det.src.label()
	r.CreatedAt = o.Clock.Now()
	return r, true, nil
}

// publish applies the configuration update, then the code update with
// Publish, waiting for LastUpdateStatus around each, and returns the new
// version number.
//
// Each update carries the function's RevisionId as last read: the first
// one the RevisionId Prepare read (so a change someone made since the plan
// was shown is detected), the code update after a configuration update the
// RevisionId read once that update finished. Lambda answers a stale one
// with PreconditionFailedException: publish then stops with an error
// wrapping deploy.ErrLocked and overwrites nothing.
func publish(ctx context.Context, c Client, o Options, det *planDetail) (string, error) {
	fn := det.function
	if _, err := waitUpdatedRev(ctx, c, o, fn); err != nil {
		return "", err
	}
	rev := det.fnRev
	if det.config != nil {
		in := configInput(fn, det.config)
		in.RevisionId = optString(rev)
		err := retryConflict(ctx, o, "UpdateFunctionConfiguration", func() error {
			_, err := c.UpdateFunctionConfiguration(ctx, in)
			return err
		})
		switch {
		case err == nil:
			if rev, err = waitUpdatedRev(ctx, c, o, fn); err != nil {
				return "", err
			}
		case platform.Uncertain(err) && ctx.Err() == nil:
			// The answer was lost, not necessarily the update.
			if rev, err = readBackConfig(ctx, c, o, fn, det.config, err); err != nil {
				return "", platform.Wrap(Platform, "UpdateFunctionConfiguration", Platform+":"+fn, err)
			}
		default:
			return "", platform.Wrap(Platform, "UpdateFunctionConfiguration", Platform+":"+fn, changedSince(fn, err))
		}
		if err := tag(ctx, c, o, fn, det.config); err != nil {
			return "", err
		}
	}
	in := &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String(fn), Publish: true, RevisionId: optString(rev)}
	if det.config != nil {
		in.Architectures = det.config.Architectures
	}
	switch det.src.kind {
	case sourceZip:
		in.ZipFile = det.src.zip
	case sourceS3:
		in.S3Bucket, in.S3Key = aws.String(det.src.bucket), aws.String(det.src.key)
		if det.src.objVer != "" {
			in.S3ObjectVersion = aws.String(det.src.objVer)
		}
	case sourceImage:
		in.ImageUri = aws.String(det.src.image)
	}
	var out *awslambda.UpdateFunctionCodeOutput
	err := retryConflict(ctx, o, "UpdateFunctionCode", func() error {
		var err error
		out, err = c.UpdateFunctionCode(ctx, in)
		return err
	})
	if err != nil {
		if !platform.Uncertain(err) || ctx.Err() != nil {
			return "", platform.Wrap(Platform, "UpdateFunctionCode", Platform+":"+fn, changedSince(fn, err))
		}
		// The answer was lost, not necessarily the code or its version.
		v, err := readBackPublish(ctx, c, o, det, err)
		if err != nil {
			return "", platform.Wrap(Platform, "UpdateFunctionCode", Platform+":"+fn, err)
		}
		return v, nil
	}
	if err := waitUpdated(ctx, c, o, fn); err != nil {
		return "", err
	}
	v := aws.ToString(out.Version)
	if v == "" || v == latest {
		// Publish was not honoured (some emulators): publish explicitly.
		var pv *awslambda.PublishVersionOutput
		err := retryConflict(ctx, o, "PublishVersion", func() error {
			var err error
			pv, err = c.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String(fn), Description: optString(det.description)})
			return err
		})
		switch {
		case err == nil:
			v = aws.ToString(pv.Version)
		case platform.Uncertain(err) && ctx.Err() == nil:
			// Asking again finds the version a lost call published.
			if v, err = readBackPublish(ctx, c, o, det, err); err != nil {
				return "", platform.Wrap(Platform, "PublishVersion", Platform+":"+fn, err)
			}
			return v, nil
		default:
			return "", platform.Wrap(Platform, "PublishVersion", Platform+":"+fn, err)
		}
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, "published version "+v+" of "+fn+" from "+det.src.label())
	return v, nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func configInput(fn string, c *FunctionConfig) *awslambda.UpdateFunctionConfigurationInput {
	in := &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn),
		Description: c.Description, Handler: c.Handler, Role: c.Role, MemorySize: c.MemorySize, Timeout: c.Timeout, Layers: c.Layers}
	if c.Runtime != nil {
		in.Runtime = types.Runtime(*c.Runtime)
	}
	if c.Environment != nil {
		in.Environment = &types.Environment{Variables: maps.Clone(c.Environment.Variables)}
	}
	applyMore(in, c)
	return in
}

// noWeights is the routing configuration that removes every weight. (A nil
// RoutingConfig leaves the weights as they are.)
func noWeights() *types.AliasRoutingConfiguration {
	return &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}
}

// waitUpdated polls $LATEST until LastUpdateStatus is Successful (or
// absent, as right after creation).
func waitUpdated(ctx context.Context, c Client, o Options, fn string) error {
	_, err := waitUpdatedRev(ctx, c, o, fn)
	return err
}

// waitUpdatedRev is waitUpdated that also returns $LATEST's RevisionId once
// the update finished.
func waitUpdatedRev(ctx context.Context, c Client, o Options, fn string) (string, error) {
	deadline := o.Clock.Now().Add(o.UpdateTimeout)
	for {
		cfg, err := getConfig(ctx, c, fn, latest)
		if err != nil {
			return "", err
		}
		switch cfg.LastUpdateStatus {
		case types.LastUpdateStatusSuccessful, "":
			if cfg.State != types.StateFailed {
				return aws.ToString(cfg.RevisionId), nil
			}
			return "", fmt.Errorf("%w: function %s is in state Failed: %s", deploy.ErrFailed, fn, aws.ToString(cfg.StateReason))
		case types.LastUpdateStatusFailed:
			return "", fmt.Errorf("%w: update of %s failed (%s): %s", deploy.ErrFailed, fn, cfg.LastUpdateStatusReasonCode, aws.ToString(cfg.LastUpdateStatusReason))
		}
		if !o.Clock.Now().Before(deadline) {
			return "", fmt.Errorf("%w: %s still has LastUpdateStatus %s after %s", deploy.ErrTimeout, fn, cfg.LastUpdateStatus, o.UpdateTimeout)
		}
		if err := sleep(ctx, o.Clock, o.PollInterval); err != nil {
			return "", err
		}
	}
}

// changedSince explains Lambda's PreconditionFailedException: someone
// else changed the function since its RevisionId was read.
func changedSince(fn string, err error) error {
	var pf *types.PreconditionFailedException
	if errors.As(err, &pf) {
		return fmt.Errorf("function %s was changed by someone else since it was read (RevisionId); not overwriting it: %w", fn, err)
	}
	return err
}

// retryConflict calls f, the AWS call op, until it does not fail with
// ResourceConflictException, backing off on the clock. Each attempt is
// logged at debug level.
func retryConflict(ctx context.Context, o Options, op string, f func() error) error {
	delay := o.ConflictBackoff
	for attempt := 0; ; attempt++ {
		err := f()
		o.Logger.DebugContext(ctx, "lambda call", "op", op, "attempt", attempt+1, "err", err)
		if err == nil || !isConflict(err) || attempt >= o.ConflictRetries {
			return err
		}
		deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("update in progress (ResourceConflictException), retrying in %s", delay))
		if err := sleep(ctx, o.Clock, delay); err != nil {
			return err
		}
		delay = min(delay*2, maxConflictBackoff)
	}
}

const maxConflictBackoff = 30 * time.Second

// sleep waits d on clk, or until ctx ends.
func sleep(ctx context.Context, clk deploy.Clock, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clk.After(d):
		return nil
	}
}
