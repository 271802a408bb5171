// Package codedeployfake is an in-memory CodeDeploy for driver tests. Fake
// implements platform.CodeDeployAPI with the real SDK input and output types
// and error types; its deployments move forward on a deploy.Clock, so a test
// advances a fake clock and polls, and an hour-long canary runs in
// milliseconds.
//
// A deployment goes Created -> InProgress -> (Ready, when the group waits
// for ContinueDeployment) -> Succeeded, running the group's lifecycle events
// on every target in lockstep: BeforeAllowTraffic, AllowTraffic,
// AfterAllowTraffic for Lambda; the ECS blue/green events for ECS;
// ApplicationStop ... ValidateService for Server (or, for a Server group
// with Group.Batches, batch by batch as the deployment configuration's
// minimum healthy hosts allow, each target running the new revision once
// its batch is done: InstanceRevisions). Each event takes
// Options.StepDuration; AllowTraffic also lasts the bake time of the
// deployment configuration (CodeDeployDefault.LambdaCanary10Percent5Minutes
// holds 10% for five minutes), and the target's traffic weight follows the
// configuration's steps. Failures are injected per lifecycle event, stops
// can answer Pending first or be refused, and failed or stopped deployments
// roll back automatically, as a new deployment, when the group or the
// request says so. A deployment that fails or is stopped without a
// rollback leaves the traffic where it was: its targets keep reporting the
// weight they had when it ended, as CodeDeploy leaves a Lambda alias or an
// ECS listener as they were.
//
// Every call is recorded (Calls, Mutations) so a test can assert that a dry
// run made no mutating call.
package codedeployfake

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
)

// LambdaEvents returns the lifecycle events of a Lambda deployment.
func LambdaEvents() []string {
	return []string{"BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"}
}

// ECSEvents returns the lifecycle events of an ECS blue/green deployment.
func ECSEvents() []string {
	return []string{"BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic",
		"AfterAllowTestTraffic", "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"}
}

// ServerEvents returns the lifecycle events of an EC2/on-premises in-place
// deployment.
func ServerEvents() []string {
	return []string{"ApplicationStop", "DownloadBundle", "BeforeInstall", "Install",
		"AfterInstall", "ApplicationStart", "ValidateService"}
}

// ServerBlueGreenEvents returns the lifecycle events of an EC2/on-premises
// blue/green deployment, as CodeDeploy runs them: the in-place events on
// the replacement instances, the traffic events that reroute to them, and
// the events that block traffic to the original instances.
func ServerBlueGreenEvents() []string {
	return append(ServerEvents(), "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic",
		"BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic")
}

// Options configures a Fake. The zero value of each field means its
// documented default.
type Options struct {
	// Clock drives the deployments. Default deploy.SystemClock{}; tests pass
	// a fake clock.
	Clock deploy.Clock
	// StepDuration is how long each lifecycle event takes, and how long a
	// deployment stays Created. Default one second.
	StepDuration time.Duration
	// PageSize is how many IDs the List calls return per page. Default 100.
	PageSize int
	// IDPrefix starts every deployment ID. Default "d-".
	IDPrefix string
}

// Group is a deployment group known to the fake.
type Group struct {
	// Application and Name identify the group. Required.
	Application string
	Name        string
	// ComputePlatform is Lambda, ECS or Server. Default Server.
	ComputePlatform cdtypes.ComputePlatform
	// Targets are the target IDs each deployment runs on: instance IDs for
	// Server, "function:alias" for Lambda, "cluster:service" for ECS.
	// Default one target named after the group.
	Targets []string
	// Events overrides the platform's lifecycle events.
	Events []string
	// ReadyBefore, when set, makes deployments wait in Ready before this
	// lifecycle event (say "BeforeAllowTraffic" or "AllowTraffic") until
	// ContinueDeployment, as blue/green deployments with a manual reroute
	// do.
	ReadyBefore string
	// AutoRollback is the group's automatic rollback configuration; a
	// deployment's own AutoRollbackConfiguration overrides it.
	AutoRollback *cdtypes.AutoRollbackConfiguration
	// Current is the revision the group runs before any deployment, which an
	// automatic rollback of the first deployment returns to.
	Current *cdtypes.RevisionLocation
	// ECSServices are the ECS services of an ECS group, as
	// BatchGetDeploymentGroups reports them (ecsServices). Default: one per
	// target of the form "cluster:service".
	ECSServices []cdtypes.ECSService
	// Alarms is the group's CloudWatch alarm configuration, reported by
	// BatchGetDeploymentGroups. Nil means none.
	Alarms *cdtypes.AlarmConfiguration
	// DeploymentConfigName is the group's default deployment configuration,
	// reported by BatchGetDeploymentGroups. Empty means the platform's
	// all-at-once configuration.
	DeploymentConfigName string

	// Batches makes Server deployments go through the targets batch by
	// batch, as CodeDeploy's in-place deployments do: the deployment
	// configuration's minimum healthy hosts (deploy.MinHealthyHosts.Plan)
	// sets the batches, each batch runs every lifecycle event before the
	// next begins, and a batch's targets then run the new revision. A
	// failure on a target fails the deployment (HEALTH_CONSTRAINTS), except
	// with CodeDeployDefault.OneAtATime on the last of several targets,
	// which CodeDeploy tolerates. A configuration that can never be met on
	// the fleet fails at once (HEALTH_CONSTRAINTS_INVALID). Without
	// Batches every target runs in lockstep.
	Batches bool
	// DeploymentStyle, BlueGreen, LoadBalancer, EC2TagFilters, EC2TagSet,
	// OnPremisesTagFilters, OnPremisesTagSet, AutoScalingGroups and
	// OutdatedInstancesStrategy are reported by BatchGetDeploymentGroups as
	// they are; the fake deploys to Targets whatever they say.
	DeploymentStyle           *cdtypes.DeploymentStyle
	BlueGreen                 *cdtypes.BlueGreenDeploymentConfiguration
	LoadBalancer              *cdtypes.LoadBalancerInfo
	EC2TagFilters             []cdtypes.EC2TagFilter
	EC2TagSet                 *cdtypes.EC2TagSet
	OnPremisesTagFilters      []cdtypes.TagFilter
	OnPremisesTagSet          *cdtypes.OnPremisesTagSet
	AutoScalingGroups         []string
	OutdatedInstancesStrategy cdtypes.OutdatedInstancesStrategy
}

// Call is one recorded API call.
type Call struct {
	// Op is the operation name, such as "CreateDeployment".
	Op string
	// Mutating is true for CreateDeployment, StopDeployment,
	// ContinueDeployment, CreateDeploymentConfig and CreateDeploymentGroup;
	// the reads are not.
	Mutating bool
	// Input is the input the call received (a pointer to the SDK input).
	Input any
}

// Fake is an in-memory CodeDeploy. Its methods are safe for concurrent use.
type Fake struct {
	mu          sync.Mutex
	opts        Options
	groups      map[string]*Group
	apps        map[string]cdtypes.ComputePlatform
	deps        map[string]*dep
	order       []string
	seq         int
	calls       []Call
	failNext    []failure
	stopPending int
	stopErr     error
	errs        map[string][]error
	// revs is the revision each target of each group runs, by group key
	// ("app/group") and target ID.
	revs    map[string]map[string]*cdtypes.RevisionLocation
	configs map[string]cdtypes.DeploymentConfigInfo
	onPrem  map[string]map[string]string
}

type failure struct {
	event, target string
}

type dep struct {
	info      cdtypes.DeploymentInfo
	group     *Group
	events    []string
	targets   []*target
	strategy  deploy.Strategy
	next      int       // index of the next event to begin
	cur       int       // index of the running event, -1 if none
	curStart  time.Time // when cur began
	nextAt    time.Time // when the next transition happens; zero: waiting
	fail      []failure
	stopping  bool // a pending stop: stop when the running event ends
	stopRoll  bool
	stoppedBy string  // "request", "alarm" or ""
	waited    bool    // went through Ready already
	endWeight float64 // traffic left on the new revision when it ended Failed or Stopped
	batches   [][]int // target indices of each batch; one batch holds all in lockstep
	batch     int     // index of the running batch
	invalid   string  // a minimum healthy hosts rule the fleet can never meet
	mostConc  bool    // OneAtATime: a failure on the last target is tolerated
}

type target struct {
	id     string
	status cdtypes.TargetStatus
	events []cdtypes.LifecycleEvent
	update time.Time
}

// New returns an empty fake.
func New(opts Options) *Fake {
	if opts.Clock == nil {
		opts.Clock = deploy.SystemClock{}
	}
	if opts.StepDuration <= 0 {
		opts.StepDuration = time.Second
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.IDPrefix == "" {
		opts.IDPrefix = "d-"
	}
	return &Fake{opts: opts, groups: map[string]*Group{}, apps: map[string]cdtypes.ComputePlatform{},
		deps: map[string]*dep{}, errs: map[string][]error{},
		revs: map[string]map[string]*cdtypes.RevisionLocation{}, configs: map[string]cdtypes.DeploymentConfigInfo{},
		onPrem: map[string]map[string]string{}}
}

// AddGroup registers a deployment group (and its application).
func (f *Fake) AddGroup(g Group) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g.ComputePlatform == "" {
		g.ComputePlatform = cdtypes.ComputePlatformServer
	}
	if len(g.Targets) == 0 {
		g.Targets = []string{g.Name}
	}
	if len(g.Events) == 0 {
		switch g.ComputePlatform {
		case cdtypes.ComputePlatformLambda:
			g.Events = LambdaEvents()
		case cdtypes.ComputePlatformEcs:
			g.Events = ECSEvents()
		default:
			g.Events = ServerEvents()
		}
	}
	if len(g.ECSServices) == 0 && g.ComputePlatform == cdtypes.ComputePlatformEcs {
		for _, t := range g.Targets {
			if c, svc, ok := strings.Cut(t, ":"); ok {
				g.ECSServices = append(g.ECSServices, cdtypes.ECSService{ClusterName: aws.String(c), ServiceName: aws.String(svc)})
			}
		}
	}
	if g.DeploymentConfigName == "" {
		switch g.ComputePlatform {
		case cdtypes.ComputePlatformLambda:
			g.DeploymentConfigName = "CodeDeployDefault.LambdaAllAtOnce"
		case cdtypes.ComputePlatformEcs:
			g.DeploymentConfigName = "CodeDeployDefault.ECSAllAtOnce"
		default:
			g.DeploymentConfigName = "CodeDeployDefault.OneAtATime"
		}
	}
	g.Targets = append([]string(nil), g.Targets...)
	g.Events = append([]string(nil), g.Events...)
	g.ECSServices = append([]cdtypes.ECSService(nil), g.ECSServices...)
	if _, ok := f.apps[g.Application]; !ok {
		f.apps[g.Application] = g.ComputePlatform
	}
	g.EC2TagFilters = append([]cdtypes.EC2TagFilter(nil), g.EC2TagFilters...)
	g.OnPremisesTagFilters = append([]cdtypes.TagFilter(nil), g.OnPremisesTagFilters...)
	g.AutoScalingGroups = append([]string(nil), g.AutoScalingGroups...)
	key := g.Application + "/" + g.Name
	f.groups[key] = &g
	revs := map[string]*cdtypes.RevisionLocation{}
	if g.Current != nil {
		for _, t := range g.Targets {
			revs[t] = g.Current
		}
	}
	f.revs[key] = revs
}

// InstanceRevisions returns the revision each target of a group runs now,
// by target ID: the group's Current revision until a deployment puts a new
// one on the target. A target runs a deployment's revision once it has run
// every lifecycle event of it (its status is Succeeded), so a deployment
// that failed or stopped part way leaves some targets on the new revision
// and the rest on the old one, and a rollback deployment puts the old one
// back. Targets that never ran any revision are left out. It is what the
// fleet serves, read from the platform: tests compare it with what a driver
// reports.
func (f *Fake) InstanceRevisions(application, group string) map[string]*cdtypes.RevisionLocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.opts.Clock.Now()
	for i := 0; i < len(f.order); i++ {
		f.advance(f.deps[f.order[i]], now)
	}
	out := map[string]*cdtypes.RevisionLocation{}
	for id, r := range f.revs[application+"/"+group] {
		out[id] = r
	}
	return out
}

// AddDeploymentConfig registers a custom EC2/on-premises deployment
// configuration, as CreateDeploymentConfig does.
func (f *Fake) AddDeploymentConfig(name string, m deploy.MinHealthyHosts) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configs[name] = serverConfig(name, m)
}

// AddOnPremisesInstance registers an on-premises instance with its tags,
// for ListOnPremisesInstances.
func (f *Fake) AddOnPremisesInstance(name string, tags map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := map[string]string{}
	for k, v := range tags {
		t[k] = v
	}
	f.onPrem[name] = t
}

// AddApplication registers an application with no deployment group (yet).
// An empty platform means Server. AddGroup registers its application
// itself.
func (f *Fake) AddApplication(name string, platform cdtypes.ComputePlatform) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if platform == "" {
		platform = cdtypes.ComputePlatformServer
	}
	f.apps[name] = platform
}

// FailNext makes the next deployment created fail at lifecycle event event
// on target (the first target when target is empty). Calls add up: each
// makes one more future deployment fail.
func (f *Fake) FailNext(event, target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = append(f.failNext, failure{event, target})
}

// Fail makes deployment id fail at lifecycle event event on target (the
// first target when empty), if that event has not run yet.
func (f *Fake) Fail(id, event, target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d := f.deps[id]; d != nil {
		d.fail = append(d.fail, failure{event, target})
	}
}

// StopPending makes the next n StopDeployment calls that stop a live
// deployment answer Pending: the deployment stops when its running
// lifecycle event ends, and StopDeployment answers Succeeded once it has.
func (f *Fake) StopPending(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopPending = n
}

// RefuseStop makes every StopDeployment call fail with err (nil restores
// normal stops). Use a CodeDeploy error type, such as
// &types.UnsupportedActionForDeploymentTypeException{}.
func (f *Fake) RefuseStop(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopErr = err
}

// InjectError makes the next call of operation op return err (once per
// InjectError call), for testing throttling and other transient failures.
func (f *Fake) InjectError(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[op] = append(f.errs[op], err)
}

// TriggerAlarm stops deployment id as an alarm does (ErrorInformation
// ALARM_ACTIVE), rolling back when its rollback configuration includes
// DEPLOYMENT_STOP_ON_ALARM. It does nothing to a completed deployment.
func (f *Fake) TriggerAlarm(id, alarm string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.deps[id]
	if d == nil {
		return
	}
	now := f.opts.Clock.Now()
	f.advance(d, now)
	if terminal(d.info.Status) {
		return
	}
	d.stoppedBy = "alarm"
	f.end(d, now, cdtypes.DeploymentStatusStopped, cdtypes.ErrorCodeAlarmActive,
		fmt.Sprintf("One or more alarms have been activated: %s", alarm),
		rollbackOn(d, cdtypes.AutoRollbackEventDeploymentStopOnAlarm))
}

// Calls returns every call made so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Mutations counts the mutating calls made so far.
func (f *Fake) Mutations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Mutating {
			n++
		}
	}
	return n
}

// Deployment returns a copy of deployment id's record as GetDeployment
// would, after bringing it up to the clock's time.
func (f *Fake) Deployment(id string) (cdtypes.DeploymentInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.deps[id]
	if d == nil {
		return cdtypes.DeploymentInfo{}, false
	}
	f.advance(d, f.opts.Clock.Now())
	return f.snapshot(d), true
}

func (f *Fake) record(op string, mutating bool, in any) error {
	f.calls = append(f.calls, Call{Op: op, Mutating: mutating, Input: in})
	if q := f.errs[op]; len(q) > 0 {
		f.errs[op] = q[1:]
		return q[0]
	}
	return nil
}

// CreateDeployment starts a deployment on a registered group. It refuses a
// second live deployment on the same group with
// DeploymentLimitExceededException, as CodeDeploy does.
func (f *Fake) CreateDeployment(_ context.Context, in *codedeploy.CreateDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CreateDeployment", true, in); err != nil {
		return nil, err
	}
	if aws.ToString(in.ApplicationName) == "" {
		return nil, &cdtypes.ApplicationNameRequiredException{Message: aws.String("The minimum length of application name is 1.")}
	}
	if aws.ToString(in.DeploymentGroupName) == "" {
		return nil, &cdtypes.DeploymentGroupNameRequiredException{Message: aws.String("The deployment group name is required.")}
	}
	if !f.hasApp(aws.ToString(in.ApplicationName)) {
		return nil, &cdtypes.ApplicationDoesNotExistException{Message: aws.String("No application found for name: " + aws.ToString(in.ApplicationName))}
	}
	g := f.groups[aws.ToString(in.ApplicationName)+"/"+aws.ToString(in.DeploymentGroupName)]
	if g == nil {
		return nil, &cdtypes.DeploymentGroupDoesNotExistException{Message: aws.String("No deployment group found for name: " + aws.ToString(in.DeploymentGroupName))}
	}
	if in.Revision == nil {
		return nil, &cdtypes.RevisionRequiredException{Message: aws.String("Revision is required")}
	}
	now := f.opts.Clock.Now()
	for _, id := range f.order {
		o := f.deps[id]
		if o.group == g {
			f.advance(o, now)
			if !terminal(o.info.Status) {
				return nil, &cdtypes.DeploymentLimitExceededException{Message: aws.String(
					"The Deployment Group '" + g.Name + "' already has an active Deployment '" + id + "'")}
			}
		}
	}
	d := f.create(g, in, now, cdtypes.DeploymentCreatorUser)
	if len(f.failNext) > 0 {
		d.fail = append(d.fail, f.failNext[0])
		f.failNext = f.failNext[1:]
	}
	return &codedeploy.CreateDeploymentOutput{DeploymentId: d.info.DeploymentId}, nil
}

func (f *Fake) hasApp(app string) bool {
	_, ok := f.apps[app]
	return ok
}

func (f *Fake) create(g *Group, in *codedeploy.CreateDeploymentInput, now time.Time, creator cdtypes.DeploymentCreator) *dep {
	f.seq++
	id := f.opts.IDPrefix + strconv.Itoa(f.seq)
	cfg := aws.ToString(in.DeploymentConfigName)
	if cfg == "" {
		switch g.ComputePlatform {
		case cdtypes.ComputePlatformLambda:
			cfg = "CodeDeployDefault.LambdaAllAtOnce"
		case cdtypes.ComputePlatformEcs:
			cfg = "CodeDeployDefault.ECSAllAtOnce"
		default:
			cfg = "CodeDeployDefault.OneAtATime"
		}
	}
	strategy, err := deploy.ParseStrategy(cfg)
	if err != nil {
		strategy = deploy.AllAtOnce()
		if c, ok := f.configs[cfg]; ok && c.MinimumHealthyHosts != nil {
			strategy = strategy.WithMinHealthy(deploy.MinHealthyHosts{
				Type: deploy.HostsType(c.MinimumHealthyHosts.Type), Value: int(c.MinimumHealthyHosts.Value)})
		}
	}
	d := &dep{
		group:    g,
		events:   g.Events,
		strategy: strategy,
		cur:      -1,
		nextAt:   now.Add(f.opts.StepDuration),
	}
	d.info = cdtypes.DeploymentInfo{
		DeploymentId:              aws.String(id),
		ApplicationName:           in.ApplicationName,
		DeploymentGroupName:       in.DeploymentGroupName,
		DeploymentConfigName:      aws.String(cfg),
		ComputePlatform:           g.ComputePlatform,
		Status:                    cdtypes.DeploymentStatusCreated,
		CreateTime:                aws.Time(now),
		Creator:                   creator,
		Description:               in.Description,
		Revision:                  in.Revision,
		PreviousRevision:          f.lastGood(g),
		AutoRollbackConfiguration: in.AutoRollbackConfiguration,
		DeploymentOverview:        &cdtypes.DeploymentOverview{},
	}
	if d.info.AutoRollbackConfiguration == nil {
		d.info.AutoRollbackConfiguration = g.AutoRollback
	}
	for _, tid := range g.Targets {
		t := &target{id: tid, status: cdtypes.TargetStatusPending, update: now}
		for _, e := range d.events {
			t.events = append(t.events, cdtypes.LifecycleEvent{
				LifecycleEventName: aws.String(e), Status: cdtypes.LifecycleEventStatusPending,
			})
		}
		d.targets = append(d.targets, t)
	}
	all := make([]int, len(d.targets))
	for i := range all {
		all[i] = i
	}
	d.batches = [][]int{all}
	if g.Batches && g.ComputePlatform == cdtypes.ComputePlatformServer && creator != cdtypes.DeploymentCreatorCodeDeployRollback &&
		strategy.MinHealthy != nil {
		d.mostConc = strategy.MinHealthy.Type == deploy.MostConcurrency
		bp, err := strategy.MinHealthy.Plan(len(d.targets))
		if err != nil {
			d.invalid = err.Error()
		} else {
			d.batches = nil
			next := 0
			for _, n := range bp.Batches {
				d.batches = append(d.batches, all[next:next+n])
				next += n
			}
		}
	}
	f.deps[id] = d
	f.order = append(f.order, id)
	return d
}

// lastGood is the revision of the group's newest succeeded deployment, or
// the group's seeded current revision.
func (f *Fake) lastGood(g *Group) *cdtypes.RevisionLocation {
	for i := len(f.order) - 1; i >= 0; i-- {
		o := f.deps[f.order[i]]
		if o.group == g && o.info.Status == cdtypes.DeploymentStatusSucceeded {
			return o.info.Revision
		}
	}
	return g.Current
}

func terminal(s cdtypes.DeploymentStatus) bool {
	switch s {
	case cdtypes.DeploymentStatusSucceeded, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
		return true
	}
	return false
}

// eventDuration is how long lifecycle event i lasts: AllowTraffic also
// holds the strategy's bake time.
func (f *Fake) eventDuration(d *dep, i int) time.Duration {
	if d.events[i] == "AllowTraffic" {
		return f.opts.StepDuration + d.strategy.TotalBake()
	}
	return f.opts.StepDuration
}

// running returns the targets of the batch in progress.
func (d *dep) running() []*target {
	out := make([]*target, 0, len(d.batches[d.batch]))
	for _, i := range d.batches[d.batch] {
		out = append(out, d.targets[i])
	}
	return out
}

// advance applies every transition due by now, in time order.
func (f *Fake) advance(d *dep, now time.Time) {
	for !terminal(d.info.Status) && !d.nextAt.IsZero() && !d.nextAt.After(now) {
		at := d.nextAt
		if d.info.Status == cdtypes.DeploymentStatusCreated {
			d.info.Status = cdtypes.DeploymentStatusInProgress
			d.info.StartTime = aws.Time(at)
			if d.invalid != "" {
				f.end(d, at, cdtypes.DeploymentStatusFailed, cdtypes.ErrorCodeHealthConstraintsInvalid, d.invalid, false)
				return
			}
			for _, t := range d.running() {
				t.status, t.update = cdtypes.TargetStatusInProgress, at
			}
			f.begin(d, at)
			continue
		}
		// The running event ends at 'at'.
		i := d.cur
		failed := ""
		batch := d.running()
		for _, fl := range d.fail {
			if fl.event == d.events[i] {
				failed = fl.target
				if failed == "" {
					failed = d.targets[0].id
				}
			}
		}
		failedHere := false
		for _, t := range batch {
			e := &t.events[i]
			e.EndTime = aws.Time(at)
			t.update = at
			if t.id == failed {
				failedHere = true
				e.Status = cdtypes.LifecycleEventStatusFailed
				e.Diagnostics = &cdtypes.Diagnostics{ErrorCode: cdtypes.LifecycleErrorCodeScriptFailed,
					Message:    aws.String("Script at specified location: " + d.events[i] + " run failed with exit code 1"),
					ScriptName: aws.String("hooks/" + d.events[i]), LogTail: aws.String("[stderr] injected failure")}
			} else {
				e.Status = cdtypes.LifecycleEventStatusSucceeded
				e.Diagnostics = &cdtypes.Diagnostics{ErrorCode: cdtypes.LifecycleErrorCodeSuccess,
					Message: aws.String("Succeeded")}
			}
		}
		d.cur = -1
		if failed != "" && len(d.batches) > 1 && !failedHere {
			failed = "" // the failing target is in a later batch
		}
		if failed != "" {
			last := d.mostConc && len(d.targets) > 1 && d.batch == len(d.batches)-1
			if !last {
				code := cdtypes.ErrorCodeHealthConstraints
				if d.group.ComputePlatform != cdtypes.ComputePlatformServer {
					code = cdtypes.ErrorCodeHookExecutionFailure
				}
				f.end(d, at, cdtypes.DeploymentStatusFailed, code,
					fmt.Sprintf("lifecycle event %s failed on %s", d.events[i], failed),
					rollbackOn(d, cdtypes.AutoRollbackEventDeploymentFailure))
				return
			}
			// OneAtATime tolerates a failure on the last instance: it stops
			// there and the deployment goes on.
			for _, t := range batch {
				if t.id == failed {
					t.status = cdtypes.TargetStatusFailed
					for j := i + 1; j < len(t.events); j++ {
						t.events[j].Status = cdtypes.LifecycleEventStatusSkipped
					}
				}
			}
			d.next = len(d.events)
		}
		if d.stopping {
			d.stoppedBy = "request"
			if d.next >= len(d.events) {
				f.finishBatch(d, at)
			}
			f.end(d, at, cdtypes.DeploymentStatusStopped, cdtypes.ErrorCodeManualStop,
				"The deployment was stopped by the user.", d.stopRoll)
			return
		}
		if d.next >= len(d.events) {
			f.finishBatch(d, at)
			if d.batch+1 < len(d.batches) {
				d.batch++
				d.next = 0
				for _, t := range d.running() {
					t.status, t.update = cdtypes.TargetStatusInProgress, at
				}
				f.begin(d, at)
				continue
			}
			f.succeed(d, at)
			return
		}
		if d.group.ReadyBefore != "" && d.events[d.next] == d.group.ReadyBefore &&
			d.info.Status != cdtypes.DeploymentStatusReady && !d.waited {
			d.info.Status = cdtypes.DeploymentStatusReady
			for _, t := range batch {
				t.status, t.update = cdtypes.TargetStatusReady, at
			}
			d.nextAt = time.Time{}
			return
		}
		f.begin(d, at)
	}
}

// finishBatch marks the running batch's targets that did not fail as
// succeeded: they run the deployment's revision now.
func (f *Fake) finishBatch(d *dep, at time.Time) {
	revs := f.revs[d.group.Application+"/"+d.group.Name]
	for _, t := range d.running() {
		if t.status == cdtypes.TargetStatusFailed {
			continue
		}
		t.status, t.update = cdtypes.TargetStatusSucceeded, at
		if revs != nil && d.info.Revision != nil {
			revs[t.id] = d.info.Revision
		}
	}
}

// begin starts event d.next of the running batch at time at.
func (f *Fake) begin(d *dep, at time.Time) {
	i := d.next
	d.next++
	d.cur = i
	d.curStart = at
	for _, t := range d.running() {
		t.events[i].Status = cdtypes.LifecycleEventStatusInProgress
		t.events[i].StartTime = aws.Time(at)
		t.status, t.update = cdtypes.TargetStatusInProgress, at
	}
	d.nextAt = at.Add(f.eventDuration(d, i))
}

func (f *Fake) succeed(d *dep, at time.Time) {
	d.info.Status = cdtypes.DeploymentStatusSucceeded
	d.info.CompleteTime = aws.Time(at)
	d.nextAt = time.Time{}
	revs := f.revs[d.group.Application+"/"+d.group.Name]
	for _, t := range d.targets {
		if t.status == cdtypes.TargetStatusFailed {
			continue
		}
		t.status, t.update = cdtypes.TargetStatusSucceeded, at
		if revs != nil && d.info.Revision != nil {
			revs[t.id] = d.info.Revision
		}
	}
}

// end finishes d as Failed or Stopped at time at, skipping the events that
// have not run, and starts a rollback deployment when rollback is true.
func (f *Fake) end(d *dep, at time.Time, status cdtypes.DeploymentStatus, code cdtypes.ErrorCode, msg string, rollback bool) {
	// Without a rollback the traffic stays where the deployment left it.
	d.endWeight = f.weight(d, at)
	d.info.Status = status
	d.info.CompleteTime = aws.Time(at)
	d.info.ErrorInformation = &cdtypes.ErrorInformation{Code: code, Message: aws.String(msg)}
	d.nextAt = time.Time{}
	for _, t := range d.targets {
		failed := false
		for j := range t.events {
			e := &t.events[j]
			switch e.Status {
			case cdtypes.LifecycleEventStatusPending:
				e.Status = cdtypes.LifecycleEventStatusSkipped
			case cdtypes.LifecycleEventStatusInProgress:
				e.Status = cdtypes.LifecycleEventStatusFailed
				e.EndTime = aws.Time(at)
				e.Diagnostics = &cdtypes.Diagnostics{ErrorCode: cdtypes.LifecycleErrorCodeUnknownError, Message: aws.String(msg)}
				failed = true
			case cdtypes.LifecycleEventStatusFailed:
				failed = true
			}
		}
		switch {
		case failed:
			t.status = cdtypes.TargetStatusFailed
		case t.status == cdtypes.TargetStatusSucceeded:
		default:
			t.status = cdtypes.TargetStatusSkipped
		}
		t.update = at
	}
	d.cur = -1
	// CodeDeploy does not roll back a rollback.
	if !rollback || d.info.Creator == cdtypes.DeploymentCreatorCodeDeployRollback {
		return
	}
	prev := d.info.PreviousRevision
	if prev == nil {
		d.info.RollbackInfo = &cdtypes.RollbackInfo{RollbackMessage: aws.String(
			"Automatic rollback not performed: no last known good revision")}
		return
	}
	d.endWeight = 0 // the rollback returns the traffic at once
	rb := f.create(d.group, &codedeploy.CreateDeploymentInput{
		ApplicationName:      d.info.ApplicationName,
		DeploymentGroupName:  d.info.DeploymentGroupName,
		DeploymentConfigName: d.info.DeploymentConfigName,
		Revision:             prev,
	}, at, cdtypes.DeploymentCreatorCodeDeployRollback)
	// A rollback returns traffic at once: all at once, no bake.
	rb.strategy = deploy.AllAtOnce()
	rb.info.PreviousRevision = d.info.Revision
	rb.info.RollbackInfo = &cdtypes.RollbackInfo{
		RollbackTriggeringDeploymentId: d.info.DeploymentId,
		RollbackMessage:                aws.String("Rollback of deployment " + aws.ToString(d.info.DeploymentId)),
	}
	d.info.RollbackInfo = &cdtypes.RollbackInfo{
		RollbackDeploymentId: rb.info.DeploymentId,
		RollbackMessage:      aws.String("Deployment rolled back by " + aws.ToString(rb.info.DeploymentId)),
	}
}

// rollbackOn reports whether d's rollback configuration covers event.
func rollbackOn(d *dep, event cdtypes.AutoRollbackEvent) bool {
	c := d.info.AutoRollbackConfiguration
	if c == nil || !c.Enabled {
		return false
	}
	for _, e := range c.Events {
		if e == event {
			return true
		}
	}
	return false
}

// snapshot builds the DeploymentInfo of d as of its last advance.
func (f *Fake) snapshot(d *dep) cdtypes.DeploymentInfo {
	info := d.info
	o := &cdtypes.DeploymentOverview{}
	for _, t := range d.targets {
		switch t.status {
		case cdtypes.TargetStatusPending:
			o.Pending++
		case cdtypes.TargetStatusInProgress:
			o.InProgress++
		case cdtypes.TargetStatusSucceeded:
			o.Succeeded++
		case cdtypes.TargetStatusFailed:
			o.Failed++
		case cdtypes.TargetStatusSkipped:
			o.Skipped++
		case cdtypes.TargetStatusReady:
			o.Ready++
		}
	}
	info.DeploymentOverview = o
	if d.info.RollbackInfo != nil {
		ri := *d.info.RollbackInfo
		info.RollbackInfo = &ri
	}
	if d.info.ErrorInformation != nil {
		ei := *d.info.ErrorInformation
		info.ErrorInformation = &ei
	}
	return info
}

// weight is the share of traffic (0..1) on the new revision at time now.
func (f *Fake) weight(d *dep, now time.Time) float64 {
	switch d.info.Status {
	case cdtypes.DeploymentStatusSucceeded:
		return 1
	case cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
		return d.endWeight
	}
	allow := -1
	for i, e := range d.events {
		if e == "AllowTraffic" {
			allow = i
		}
	}
	switch {
	case allow < 0:
		return 0
	case d.cur == allow:
		w, elapsed := 0.0, now.Sub(d.curStart)
		var t time.Duration
		for _, st := range d.strategy.Normalized() {
			switch st.Kind {
			case deploy.StepShift:
				if t <= elapsed {
					w = st.Percent / 100
				}
			case deploy.StepBake:
				t += st.Duration
			}
		}
		if elapsed >= f.eventDuration(d, allow) {
			return 1
		}
		return w
	case d.next > allow:
		return 1
	}
	return 0
}

// GetDeployment returns a deployment's record.
func (f *Fake) GetDeployment(_ context.Context, in *codedeploy.GetDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GetDeployment", false, in); err != nil {
		return nil, err
	}
	d, err := f.lookup(in.DeploymentId)
	if err != nil {
		return nil, err
	}
	info := f.snapshot(d)
	return &codedeploy.GetDeploymentOutput{DeploymentInfo: &info}, nil
}

func (f *Fake) lookup(id *string) (*dep, error) {
	if aws.ToString(id) == "" {
		return nil, &cdtypes.DeploymentIdRequiredException{Message: aws.String("At least one deployment ID must be specified.")}
	}
	d := f.deps[aws.ToString(id)]
	if d == nil {
		return nil, &cdtypes.DeploymentDoesNotExistException{Message: aws.String("The deployment " + aws.ToString(id) + " could not be found.")}
	}
	f.advance(d, f.opts.Clock.Now())
	return d, nil
}

// StopDeployment stops a live deployment (Succeeded), or answers Pending
// under StopPending, or fails with RefuseStop's error. A completed
// deployment gives DeploymentAlreadyCompletedException, except one stopped
// by a request, which answers Succeeded again.
func (f *Fake) StopDeployment(_ context.Context, in *codedeploy.StopDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("StopDeployment", true, in); err != nil {
		return nil, err
	}
	d, err := f.lookup(in.DeploymentId)
	if err != nil {
		return nil, err
	}
	if f.stopErr != nil {
		return nil, f.stopErr
	}
	now := f.opts.Clock.Now()
	if terminal(d.info.Status) {
		if d.info.Status == cdtypes.DeploymentStatusStopped && d.stoppedBy == "request" {
			return &codedeploy.StopDeploymentOutput{Status: cdtypes.StopStatusSucceeded,
				StatusMessage: aws.String("Deployment stopped")}, nil
		}
		return nil, &cdtypes.DeploymentAlreadyCompletedException{Message: aws.String(
			"Deployment " + aws.ToString(in.DeploymentId) + " has already completed with status " + string(d.info.Status))}
	}
	rollback := rollbackOn(d, cdtypes.AutoRollbackEventDeploymentStopOnRequest)
	if in.AutoRollbackEnabled != nil {
		rollback = *in.AutoRollbackEnabled
	}
	if d.stopping {
		return &codedeploy.StopDeploymentOutput{Status: cdtypes.StopStatusPending,
			StatusMessage: aws.String("Deployment is stopping")}, nil
	}
	if f.stopPending > 0 && d.cur >= 0 {
		f.stopPending--
		d.stopping, d.stopRoll = true, rollback
		return &codedeploy.StopDeploymentOutput{Status: cdtypes.StopStatusPending,
			StatusMessage: aws.String("Deployment is stopping; lifecycle events are still running")}, nil
	}
	d.stoppedBy = "request"
	f.end(d, now, cdtypes.DeploymentStatusStopped, cdtypes.ErrorCodeManualStop, "The deployment was stopped by the user.", rollback)
	return &codedeploy.StopDeploymentOutput{Status: cdtypes.StopStatusSucceeded, StatusMessage: aws.String("Deployment stopped")}, nil
}

// ContinueDeployment lets a deployment waiting in Ready go on. Other
// deployments give DeploymentIsNotInReadyStateException (or
// DeploymentAlreadyCompletedException); a wait type other than READY_WAIT
// gives InvalidDeploymentWaitTypeException.
func (f *Fake) ContinueDeployment(_ context.Context, in *codedeploy.ContinueDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.ContinueDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ContinueDeployment", true, in); err != nil {
		return nil, err
	}
	d, err := f.lookup(in.DeploymentId)
	if err != nil {
		return nil, err
	}
	if in.DeploymentWaitType != "" && in.DeploymentWaitType != cdtypes.DeploymentWaitTypeReadyWait {
		return nil, &cdtypes.InvalidDeploymentWaitTypeException{Message: aws.String("wait type " + string(in.DeploymentWaitType) + " is not supported")}
	}
	if terminal(d.info.Status) {
		return nil, &cdtypes.DeploymentAlreadyCompletedException{Message: aws.String("The deployment has already completed.")}
	}
	if d.info.Status != cdtypes.DeploymentStatusReady {
		return nil, &cdtypes.DeploymentIsNotInReadyStateException{Message: aws.String(
			"The deployment " + aws.ToString(in.DeploymentId) + " is not in the Ready state: " + string(d.info.Status))}
	}
	now := f.opts.Clock.Now()
	d.info.Status = cdtypes.DeploymentStatusInProgress
	d.waited = true
	f.begin(d, now)
	return &codedeploy.ContinueDeploymentOutput{}, nil
}

// ListDeploymentTargets lists a deployment's target IDs, PageSize at a time.
func (f *Fake) ListDeploymentTargets(_ context.Context, in *codedeploy.ListDeploymentTargetsInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentTargetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListDeploymentTargets", false, in); err != nil {
		return nil, err
	}
	d, err := f.lookup(in.DeploymentId)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(d.targets))
	for i, t := range d.targets {
		ids[i] = t.id
	}
	page, next, err := f.page(ids, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &codedeploy.ListDeploymentTargetsOutput{TargetIds: page, NextToken: next}, nil
}

func (f *Fake) page(ids []string, token *string) ([]string, *string, error) {
	start := 0
	if tok := aws.ToString(token); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(ids) {
			return nil, nil, &cdtypes.InvalidNextTokenException{Message: aws.String("The next token is invalid.")}
		}
		start = n
	}
	end := min(start+f.opts.PageSize, len(ids))
	var next *string
	if end < len(ids) {
		next = aws.String(strconv.Itoa(end))
	}
	return append([]string(nil), ids[start:end]...), next, nil
}

// BatchGetDeploymentTargets returns up to 25 targets of a deployment, typed
// by the group's compute platform, with their lifecycle events.
func (f *Fake) BatchGetDeploymentTargets(_ context.Context, in *codedeploy.BatchGetDeploymentTargetsInput, _ ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentTargetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("BatchGetDeploymentTargets", false, in); err != nil {
		return nil, err
	}
	d, err := f.lookup(in.DeploymentId)
	if err != nil {
		return nil, err
	}
	if len(in.TargetIds) > 25 {
		return nil, &cdtypes.DeploymentTargetListSizeExceededException{Message: aws.String("at most 25 targets")}
	}
	now := f.opts.Clock.Now()
	w := f.weight(d, now)
	out := &codedeploy.BatchGetDeploymentTargetsOutput{}
	for _, id := range in.TargetIds {
		var t *target
		for _, x := range d.targets {
			if x.id == id {
				t = x
			}
		}
		if t == nil {
			return nil, &cdtypes.DeploymentTargetDoesNotExistException{Message: aws.String("target " + id + " not found")}
		}
		out.DeploymentTargets = append(out.DeploymentTargets, f.targetRecord(d, t, w))
	}
	return out, nil
}

func (f *Fake) targetRecord(d *dep, t *target, w float64) cdtypes.DeploymentTarget {
	events := append([]cdtypes.LifecycleEvent(nil), t.events...)
	switch d.group.ComputePlatform {
	case cdtypes.ComputePlatformLambda:
		return cdtypes.DeploymentTarget{DeploymentTargetType: cdtypes.DeploymentTargetTypeLambdaTarget,
			LambdaTarget: &cdtypes.LambdaTarget{
				DeploymentId: d.info.DeploymentId, TargetId: aws.String(t.id), TargetArn: aws.String(t.id),
				Status: t.status, LastUpdatedAt: aws.Time(t.update), LifecycleEvents: events,
				LambdaFunctionInfo: &cdtypes.LambdaFunctionInfo{FunctionName: aws.String(t.id), TargetVersionWeight: w},
			}}
	case cdtypes.ComputePlatformEcs:
		return cdtypes.DeploymentTarget{DeploymentTargetType: cdtypes.DeploymentTargetTypeEcsTarget,
			EcsTarget: &cdtypes.ECSTarget{
				DeploymentId: d.info.DeploymentId, TargetId: aws.String(t.id), TargetArn: aws.String(t.id),
				Status: t.status, LastUpdatedAt: aws.Time(t.update), LifecycleEvents: events,
				TaskSetsInfo: []cdtypes.ECSTaskSet{
					{Identifer: aws.String("ecs-svc/blue"), TaskSetLabel: cdtypes.TargetLabelBlue, TrafficWeight: 100 - w*100},
					{Identifer: aws.String("ecs-svc/green"), TaskSetLabel: cdtypes.TargetLabelGreen, TrafficWeight: w * 100},
				},
			}}
	}
	return cdtypes.DeploymentTarget{DeploymentTargetType: cdtypes.DeploymentTargetTypeInstanceTarget,
		InstanceTarget: &cdtypes.InstanceTarget{
			DeploymentId: d.info.DeploymentId, TargetId: aws.String(t.id),
			TargetArn: aws.String("arn:aws:ec2:us-east-1:123456789012:instance/" + t.id),
			Status:    t.status, LastUpdatedAt: aws.Time(t.update), LifecycleEvents: events,
		}}
}

// ListDeployments lists a group's deployment IDs, newest first, PageSize at
// a time, filtered by IncludeOnlyStatuses.
func (f *Fake) ListDeployments(_ context.Context, in *codedeploy.ListDeploymentsInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListDeployments", false, in); err != nil {
		return nil, err
	}
	app, group := aws.ToString(in.ApplicationName), aws.ToString(in.DeploymentGroupName)
	if app != "" && !f.hasApp(app) {
		return nil, &cdtypes.ApplicationDoesNotExistException{Message: aws.String("No application found for name: " + app)}
	}
	if group != "" && f.groups[app+"/"+group] == nil {
		return nil, &cdtypes.DeploymentGroupDoesNotExistException{Message: aws.String("No deployment group found for name: " + group)}
	}
	now := f.opts.Clock.Now()
	// Advancing may start rollback deployments, so advance first, then list.
	for i := 0; i < len(f.order); i++ {
		f.advance(f.deps[f.order[i]], now)
	}
	var ids []string
	for i := len(f.order) - 1; i >= 0; i-- {
		d := f.deps[f.order[i]]
		if (app != "" && d.group.Application != app) || (group != "" && d.group.Name != group) {
			continue
		}
		if len(in.IncludeOnlyStatuses) > 0 {
			keep := false
			for _, s := range in.IncludeOnlyStatuses {
				keep = keep || s == d.info.Status
			}
			if !keep {
				continue
			}
		}
		ids = append(ids, f.order[i])
	}
	page, next, err := f.page(ids, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &codedeploy.ListDeploymentsOutput{Deployments: page, NextToken: next}, nil
}

// BatchGetDeployments returns the records of up to 25 deployments, in the
// order asked; unknown IDs are left out. As the CodeDeploy API reference
// documents, more than 25 IDs give BatchLimitExceededException and none
// DeploymentIdRequiredException.
func (f *Fake) BatchGetDeployments(_ context.Context, in *codedeploy.BatchGetDeploymentsInput, _ ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("BatchGetDeployments", false, in); err != nil {
		return nil, err
	}
	if len(in.DeploymentIds) == 0 {
		return nil, &cdtypes.DeploymentIdRequiredException{Message: aws.String("At least one deployment ID must be specified.")}
	}
	if len(in.DeploymentIds) > 25 {
		return nil, &cdtypes.BatchLimitExceededException{Message: aws.String("The maximum number of names or IDs allowed for this request (25) was exceeded.")}
	}
	out := &codedeploy.BatchGetDeploymentsOutput{}
	now := f.opts.Clock.Now()
	for _, id := range in.DeploymentIds {
		d := f.deps[id]
		if d == nil {
			continue
		}
		f.advance(d, now)
		out.DeploymentsInfo = append(out.DeploymentsInfo, f.snapshot(d))
	}
	return out, nil
}

// ListApplications lists application names in name order, PageSize at a
// time.
func (f *Fake) ListApplications(_ context.Context, in *codedeploy.ListApplicationsInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListApplicationsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListApplications", false, in); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(f.apps))
	for a := range f.apps {
		names = append(names, a)
	}
	sort.Strings(names)
	page, next, err := f.page(names, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &codedeploy.ListApplicationsOutput{Applications: page, NextToken: next}, nil
}

// BatchGetApplications describes up to 100 applications. An unknown name
// gives ApplicationDoesNotExistException, as CodeDeploy answers.
func (f *Fake) BatchGetApplications(_ context.Context, in *codedeploy.BatchGetApplicationsInput, _ ...func(*codedeploy.Options)) (*codedeploy.BatchGetApplicationsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("BatchGetApplications", false, in); err != nil {
		return nil, err
	}
	if len(in.ApplicationNames) == 0 {
		return nil, &cdtypes.ApplicationNameRequiredException{Message: aws.String("The application names are required.")}
	}
	if len(in.ApplicationNames) > 100 {
		return nil, &cdtypes.BatchLimitExceededException{Message: aws.String("The maximum number of names or IDs allowed for this request (100) was exceeded.")}
	}
	out := &codedeploy.BatchGetApplicationsOutput{}
	for _, a := range in.ApplicationNames {
		p, ok := f.apps[a]
		if !ok {
			return nil, &cdtypes.ApplicationDoesNotExistException{Message: aws.String("Application does not exist with name " + a)}
		}
		out.ApplicationsInfo = append(out.ApplicationsInfo, cdtypes.ApplicationInfo{ApplicationName: aws.String(a),
			ApplicationId: aws.String("app-" + a), ComputePlatform: p})
	}
	return out, nil
}

// ListDeploymentGroups lists an application's group names in name order,
// PageSize at a time.
func (f *Fake) ListDeploymentGroups(_ context.Context, in *codedeploy.ListDeploymentGroupsInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentGroupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListDeploymentGroups", false, in); err != nil {
		return nil, err
	}
	app := aws.ToString(in.ApplicationName)
	if app == "" {
		return nil, &cdtypes.ApplicationNameRequiredException{Message: aws.String("The minimum length of application name is 1.")}
	}
	if !f.hasApp(app) {
		return nil, &cdtypes.ApplicationDoesNotExistException{Message: aws.String("No application found for name: " + app)}
	}
	var names []string
	for _, g := range f.groups {
		if g.Application == app {
			names = append(names, g.Name)
		}
	}
	sort.Strings(names)
	page, next, err := f.page(names, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &codedeploy.ListDeploymentGroupsOutput{ApplicationName: in.ApplicationName, DeploymentGroups: page, NextToken: next}, nil
}

// BatchGetDeploymentGroups describes up to 100 groups of one application:
// compute platform, ECS services, alarms, automatic rollback, deployment
// configuration and the last deployments. Unknown group names are left out
// and named in ErrorMessage, as CodeDeploy does.
func (f *Fake) BatchGetDeploymentGroups(_ context.Context, in *codedeploy.BatchGetDeploymentGroupsInput, _ ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentGroupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("BatchGetDeploymentGroups", false, in); err != nil {
		return nil, err
	}
	app := aws.ToString(in.ApplicationName)
	if app == "" {
		return nil, &cdtypes.ApplicationNameRequiredException{Message: aws.String("The minimum length of application name is 1.")}
	}
	if !f.hasApp(app) {
		return nil, &cdtypes.ApplicationDoesNotExistException{Message: aws.String("No application found for name: " + app)}
	}
	if len(in.DeploymentGroupNames) == 0 {
		return nil, &cdtypes.DeploymentGroupNameRequiredException{Message: aws.String("The deployment group names are required.")}
	}
	if len(in.DeploymentGroupNames) > 100 {
		return nil, &cdtypes.BatchLimitExceededException{Message: aws.String("The maximum number of names or IDs allowed for this request (100) was exceeded.")}
	}
	out := &codedeploy.BatchGetDeploymentGroupsOutput{}
	var missing []string
	now := f.opts.Clock.Now()
	for _, name := range in.DeploymentGroupNames {
		g := f.groups[app+"/"+name]
		if g == nil {
			missing = append(missing, name)
			continue
		}
		info := f.groupInfo(app, g, now)
		out.DeploymentGroupsInfo = append(out.DeploymentGroupsInfo, info)
	}
	if len(missing) > 0 {
		out.ErrorMessage = aws.String("Deployment groups do not exist: " + strings.Join(missing, ", "))
	}
	return out, nil
}

// serverConfig describes an EC2/on-premises deployment configuration.
func serverConfig(name string, m deploy.MinHealthyHosts) cdtypes.DeploymentConfigInfo {
	return cdtypes.DeploymentConfigInfo{
		DeploymentConfigName: aws.String(name), DeploymentConfigId: aws.String("dc-" + name),
		ComputePlatform:     cdtypes.ComputePlatformServer,
		MinimumHealthyHosts: &cdtypes.MinimumHealthyHosts{Type: cdtypes.MinimumHealthyHostsType(m.Type), Value: int32(m.Value)},
	}
}

// GetDeploymentConfig describes a predefined configuration
// (CodeDeployDefault.*, as deploy.ParseStrategy knows them) or one added
// with AddDeploymentConfig or CreateDeploymentConfig. An unknown name gives
// DeploymentConfigDoesNotExistException.
func (f *Fake) GetDeploymentConfig(_ context.Context, in *codedeploy.GetDeploymentConfigInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentConfigOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GetDeploymentConfig", false, in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.DeploymentConfigName)
	if name == "" {
		return nil, &cdtypes.DeploymentConfigNameRequiredException{Message: aws.String("Deployment config name is required")}
	}
	if c, ok := f.configs[name]; ok {
		return &codedeploy.GetDeploymentConfigOutput{DeploymentConfigInfo: &c}, nil
	}
	if st, err := deploy.ParseStrategy(name); err == nil && strings.HasPrefix(name, deploy.CodeDeployPrefix) {
		short := strings.TrimPrefix(name, deploy.CodeDeployPrefix)
		if st.MinHealthy != nil {
			c := serverConfig(name, *st.MinHealthy)
			return &codedeploy.GetDeploymentConfigOutput{DeploymentConfigInfo: &c}, nil
		}
		p := cdtypes.ComputePlatformLambda
		if strings.HasPrefix(short, "ECS") {
			p = cdtypes.ComputePlatformEcs
		}
		return &codedeploy.GetDeploymentConfigOutput{DeploymentConfigInfo: &cdtypes.DeploymentConfigInfo{
			DeploymentConfigName: aws.String(name), ComputePlatform: p}}, nil
	}
	return nil, &cdtypes.DeploymentConfigDoesNotExistException{Message: aws.String("The deployment configuration " + name + " does not exist")}
}

// CreateDeploymentConfig registers a custom EC2/on-premises configuration
// from its MinimumHealthyHosts. A name already taken gives
// DeploymentConfigAlreadyExistsException.
func (f *Fake) CreateDeploymentConfig(_ context.Context, in *codedeploy.CreateDeploymentConfigInput, _ ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentConfigOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CreateDeploymentConfig", true, in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.DeploymentConfigName)
	if name == "" {
		return nil, &cdtypes.DeploymentConfigNameRequiredException{Message: aws.String("Deployment config name is required")}
	}
	if _, ok := f.configs[name]; ok || strings.HasPrefix(name, deploy.CodeDeployPrefix) {
		return nil, &cdtypes.DeploymentConfigAlreadyExistsException{Message: aws.String("A deployment configuration named " + name + " already exists")}
	}
	if in.MinimumHealthyHosts == nil {
		return nil, &cdtypes.InvalidMinimumHealthyHostValueException{Message: aws.String("minimumHealthyHosts is required")}
	}
	m := deploy.MinHealthyHosts{Type: deploy.HostsType(in.MinimumHealthyHosts.Type), Value: int(in.MinimumHealthyHosts.Value)}
	if err := m.Validate(); err != nil || m.Type == deploy.MostConcurrency {
		return nil, &cdtypes.InvalidMinimumHealthyHostValueException{Message: aws.String("invalid minimum healthy hosts " + m.String())}
	}
	c := serverConfig(name, m)
	f.configs[name] = c
	return &codedeploy.CreateDeploymentConfigOutput{DeploymentConfigId: c.DeploymentConfigId}, nil
}

// ListOnPremisesInstances lists registered on-premises instances (added
// with AddOnPremisesInstance) that carry at least one of the tag filters
// (all of them when none is given), in name order, PageSize at a time.
func (f *Fake) ListOnPremisesInstances(_ context.Context, in *codedeploy.ListOnPremisesInstancesInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListOnPremisesInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListOnPremisesInstances", false, in); err != nil {
		return nil, err
	}
	if in.RegistrationStatus == cdtypes.RegistrationStatusDeregistered {
		return &codedeploy.ListOnPremisesInstancesOutput{}, nil
	}
	var names []string
	for name, tags := range f.onPrem {
		keep := len(in.TagFilters) == 0
		for _, tf := range in.TagFilters {
			k, v := aws.ToString(tf.Key), aws.ToString(tf.Value)
			switch tf.Type {
			case cdtypes.TagFilterTypeKeyOnly:
				_, ok := tags[k]
				keep = keep || ok
			case cdtypes.TagFilterTypeValueOnly:
				for _, tv := range tags {
					keep = keep || tv == v
				}
			default:
				tv, ok := tags[k]
				keep = keep || (ok && tv == v)
			}
		}
		if keep {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	page, next, err := f.page(names, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &codedeploy.ListOnPremisesInstancesOutput{InstanceNames: page, NextToken: next}, nil
}

// CreateDeploymentGroup registers a deployment group with what the input
// says (style, tag filters and sets, Auto Scaling groups, alarms,
// auto-rollback, configuration), deploying in batches. Its targets are the
// on-premises instances its tag filters or tag sets match (OR within a set,
// AND across sets), or one target named after the group. A name
// already taken gives DeploymentGroupAlreadyExistsException.
func (f *Fake) CreateDeploymentGroup(_ context.Context, in *codedeploy.CreateDeploymentGroupInput, _ ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentGroupOutput, error) {
	f.mu.Lock()
	if err := f.record("CreateDeploymentGroup", true, in); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	app, name := aws.ToString(in.ApplicationName), aws.ToString(in.DeploymentGroupName)
	if app == "" {
		f.mu.Unlock()
		return nil, &cdtypes.ApplicationNameRequiredException{Message: aws.String("The minimum length of application name is 1.")}
	}
	if name == "" {
		f.mu.Unlock()
		return nil, &cdtypes.DeploymentGroupNameRequiredException{Message: aws.String("The deployment group name is required.")}
	}
	if !f.hasApp(app) {
		f.mu.Unlock()
		return nil, &cdtypes.ApplicationDoesNotExistException{Message: aws.String("No application found for name: " + app)}
	}
	if f.groups[app+"/"+name] != nil {
		f.mu.Unlock()
		return nil, &cdtypes.DeploymentGroupAlreadyExistsException{Message: aws.String("A deployment group named " + name + " already exists")}
	}
	if aws.ToString(in.ServiceRoleArn) == "" {
		f.mu.Unlock()
		return nil, &cdtypes.RoleRequiredException{Message: aws.String("Role ARN is required")}
	}
	sets := [][]cdtypes.TagFilter{}
	if len(in.OnPremisesInstanceTagFilters) > 0 {
		sets = append(sets, in.OnPremisesInstanceTagFilters)
	}
	if in.OnPremisesTagSet != nil {
		sets = append(sets, in.OnPremisesTagSet.OnPremisesTagSetList...)
	}
	var targets []string
	for n, tags := range f.onPrem {
		all := len(sets) > 0
		for _, set := range sets {
			any := false
			for _, tf := range set {
				v, ok := tags[aws.ToString(tf.Key)]
				switch tf.Type {
				case cdtypes.TagFilterTypeKeyOnly:
					any = any || ok
				case cdtypes.TagFilterTypeValueOnly:
					for _, tv := range tags {
						any = any || tv == aws.ToString(tf.Value)
					}
				default:
					any = any || (ok && v == aws.ToString(tf.Value))
				}
			}
			all = all && any
		}
		if all {
			targets = append(targets, n)
		}
	}
	sort.Strings(targets)
	plat := f.apps[app]
	f.mu.Unlock()
	g := Group{Application: app, Name: name, ComputePlatform: plat, Targets: targets,
		DeploymentConfigName: aws.ToString(in.DeploymentConfigName), AutoRollback: in.AutoRollbackConfiguration,
		Alarms: in.AlarmConfiguration, DeploymentStyle: in.DeploymentStyle, BlueGreen: in.BlueGreenDeploymentConfiguration,
		LoadBalancer: in.LoadBalancerInfo, EC2TagFilters: in.Ec2TagFilters, EC2TagSet: in.Ec2TagSet,
		OnPremisesTagFilters: in.OnPremisesInstanceTagFilters, OnPremisesTagSet: in.OnPremisesTagSet,
		AutoScalingGroups: in.AutoScalingGroups, OutdatedInstancesStrategy: in.OutdatedInstancesStrategy, Batches: true}
	f.AddGroup(g)
	return &codedeploy.CreateDeploymentGroupOutput{DeploymentGroupId: aws.String("dg-" + app + "-" + name)}, nil
}

// groupInfo describes group g of application app as of now.
func (f *Fake) groupInfo(app string, g *Group, now time.Time) cdtypes.DeploymentGroupInfo {
	info := cdtypes.DeploymentGroupInfo{
		ApplicationName: aws.String(app), DeploymentGroupName: aws.String(g.Name),
		DeploymentGroupId: aws.String("dg-" + app + "-" + g.Name), ComputePlatform: g.ComputePlatform,
		DeploymentConfigName: aws.String(g.DeploymentConfigName),
		EcsServices:          append([]cdtypes.ECSService(nil), g.ECSServices...),
	}
	if g.Alarms != nil {
		a := *g.Alarms
		a.Alarms = append([]cdtypes.Alarm(nil), g.Alarms.Alarms...)
		info.AlarmConfiguration = &a
	}
	if g.AutoRollback != nil {
		r := *g.AutoRollback
		r.Events = append([]cdtypes.AutoRollbackEvent(nil), g.AutoRollback.Events...)
		info.AutoRollbackConfiguration = &r
	}
	if g.ComputePlatform == cdtypes.ComputePlatformEcs {
		info.DeploymentStyle = &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen,
			DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl}
	}
	if g.DeploymentStyle != nil {
		ds := *g.DeploymentStyle
		info.DeploymentStyle = &ds
	}
	info.BlueGreenDeploymentConfiguration = g.BlueGreen
	info.LoadBalancerInfo = g.LoadBalancer
	info.Ec2TagFilters = append([]cdtypes.EC2TagFilter(nil), g.EC2TagFilters...)
	info.Ec2TagSet = g.EC2TagSet
	info.OnPremisesInstanceTagFilters = append([]cdtypes.TagFilter(nil), g.OnPremisesTagFilters...)
	info.OnPremisesTagSet = g.OnPremisesTagSet
	info.OutdatedInstancesStrategy = g.OutdatedInstancesStrategy
	for _, a := range g.AutoScalingGroups {
		info.AutoScalingGroups = append(info.AutoScalingGroups, cdtypes.AutoScalingGroup{Name: aws.String(a)})
	}
	// Advancing may start rollback deployments, which count too.
	for i := 0; i < len(f.order); i++ {
		d := f.deps[f.order[i]]
		if d.group != g {
			continue
		}
		f.advance(d, now)
		last := &cdtypes.LastDeploymentInfo{DeploymentId: d.info.DeploymentId, Status: d.info.Status,
			CreateTime: d.info.CreateTime, EndTime: d.info.CompleteTime}
		info.LastAttemptedDeployment = last
		if d.info.Status == cdtypes.DeploymentStatusSucceeded {
			info.LastSuccessfulDeployment = last
		}
	}
	return info
}

// GetDeploymentGroup describes one group as BatchGetDeploymentGroups does.
// An unknown group gives DeploymentGroupDoesNotExistException.
func (f *Fake) GetDeploymentGroup(_ context.Context, in *codedeploy.GetDeploymentGroupInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GetDeploymentGroup", false, in); err != nil {
		return nil, err
	}
	app := aws.ToString(in.ApplicationName)
	if app == "" {
		return nil, &cdtypes.ApplicationNameRequiredException{Message: aws.String("The minimum length of application name is 1.")}
	}
	if !f.hasApp(app) {
		return nil, &cdtypes.ApplicationDoesNotExistException{Message: aws.String("No application found for name: " + app)}
	}
	g := f.groups[app+"/"+aws.ToString(in.DeploymentGroupName)]
	if g == nil {
		return nil, &cdtypes.DeploymentGroupDoesNotExistException{Message: aws.String("No Deployment Group found for name: " + aws.ToString(in.DeploymentGroupName))}
	}
	info := f.groupInfo(app, g, f.opts.Clock.Now())
	return &codedeploy.GetDeploymentGroupOutput{DeploymentGroupInfo: &info}, nil
}
