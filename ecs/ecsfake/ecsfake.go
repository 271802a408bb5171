// Package ecsfake is an in-memory Amazon ECS and Application Auto Scaling
// for tests of the ecs driver. It implements the driver's ECSAPI and
// AutoScalingAPI and moves deployments forward on a deploy.Clock: tasks
// start, traffic shifts through the canary and linear steps of ECS's native
// strategies, lifecycle hooks run (Lambda hooks through a callback, PAUSE
// hooks until ContinueServiceDeployment), alarms and the deployment circuit
// breaker roll deployments back, and the service's events say so. It can
// also answer like an emulator without the service-deployments API.
//
// Every call first advances the fake to the clock's current time; nothing
// happens between calls. It is safe for concurrent use.
package ecsfake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/deploy"
)

// Options configure a fake. The zero value is a fake with the
// service-deployments API on the system clock.
type Options struct {
	// Clock moves deployments forward. Nil means deploy.SystemClock{}.
	Clock deploy.Clock
	// NoServiceDeployments makes List/Describe/Stop/ContinueServiceDeployment
	// and DescribeServiceRevisions fail as moto does (an HTTP 500 whose body
	// is not JSON), as in a partition or emulator without that API.
	NoServiceDeployments bool
	// TaskStartTime is how long new tasks take to start. Default 30s.
	TaskStartTime time.Duration
	// DrainTime is how long old tasks take to stop. Default 30s.
	DrainTime time.Duration
	// ShiftTime is how long each traffic shift takes. Default 10s.
	ShiftTime time.Duration
	// HookResult decides the outcome of a Lambda lifecycle hook; nil means
	// every hook succeeds. A non-nil error rolls the deployment back.
	HookResult func(functionARN, stage string) error
	// RefuseAbort makes StopServiceDeployment refuse stop type ABORT with an
	// InvalidParameterException, as ECS does where only ROLLBACK is
	// accepted (the API reference lists ABORT but documents ROLLBACK as
	// the one valid value).
	RefuseAbort bool
}

const (
	account = "123456789012"
	region  = "us-east-1"
)

// Fake is the in-memory ECS and Application Auto Scaling.
type Fake struct {
	opts Options

	mu        sync.Mutex
	seq       int
	families  map[string][]*types.TaskDefinition
	tags      map[string][]types.Tag
	services  map[string]*service // cluster/name
	sds       map[string]*dep     // service deployment ARN -> deployment
	revisions map[string]string   // service revision ARN -> task definition
	scalable  map[string]*astypes.ScalableTarget
	alarms    map[string]bool
	failNext  int
	calls     []string
	mutations int
	faults    map[string][]error
}

type service struct {
	svc    types.Service // attributes; Deployments and Events are rebuilt
	deps   []*dep        // newest first
	events []types.ServiceEvent
}

type stage struct {
	name   types.ServiceDeploymentLifecycleStage
	dur    time.Duration
	weight float64 // production traffic set on entry; <0 leaves it
}

type dep struct {
	s          *service
	d          types.Deployment
	sd         types.ServiceDeployment
	prev       *dep // the deployment this one replaces
	plan       []stage
	idx        int
	stageStart time.Time
	fail       bool
	hook       *types.DeploymentLifecycleHookDetail
	// rollbackAt is when a rollback in progress completes.
	rollbackAt time.Time
	rollbackTo *dep
	stopAt     time.Time
	done       bool
	// restore marks the deployment ECS starts to put the previous task
	// definition back during a rollback.
	restore bool
}

// New returns an empty fake.
func New(o Options) *Fake {
	if o.Clock == nil {
		o.Clock = deploy.SystemClock{}
	}
	if o.TaskStartTime <= 0 {
		o.TaskStartTime = 30 * time.Second
	}
	if o.DrainTime <= 0 {
		o.DrainTime = 30 * time.Second
	}
	if o.ShiftTime <= 0 {
		o.ShiftTime = 10 * time.Second
	}
	return &Fake{opts: o, families: map[string][]*types.TaskDefinition{}, tags: map[string][]types.Tag{},
		services: map[string]*service{}, sds: map[string]*dep{}, revisions: map[string]string{},
		scalable: map[string]*astypes.ScalableTarget{}, alarms: map[string]bool{}}
}

// FailNext makes the tasks of the next n deployments fail to start. With
// the circuit breaker on, those deployments fail (and roll back when it
// says so); without it they never finish.
func (f *Fake) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext += n
}

// SetAlarm puts a CloudWatch alarm in the ALARM state (or out of it). A
// deployment whose deploymentConfiguration.alarms names it stops, and rolls
// back when the alarms say rollback.
func (f *Fake) SetAlarm(name string, alarm bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alarms[name] = alarm
}

// InjectError makes the next call of operation op (such as
// "StopServiceDeployment") fail with err, once per InjectError call. The
// call is recorded, and counts as a mutation when op mutates, as a call
// that reached AWS and was refused.
func (f *Fake) InjectError(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.faults == nil {
		f.faults = map[string][]error{}
	}
	f.faults[op] = append(f.faults[op], err)
}

func (f *Fake) fault(op string) error {
	q := f.faults[op]
	if len(q) == 0 {
		return nil
	}
	f.faults[op] = q[1:]
	return q[0]
}

// Mutations is the number of mutating calls so far.
func (f *Fake) Mutations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mutations
}

// Calls returns the operation names called so far, in order.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// ResetCalls forgets the calls and mutations recorded so far.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.mutations = nil, 0
}

// Count returns how many times op was called.
func (f *Fake) Count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

// SeedTaskDefinition registers a task definition without recording a call
// and returns its ARN.
func (f *Fake) SeedTaskDefinition(in *ecs.RegisterTaskDefinitionInput) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return aws.ToString(f.register(in).TaskDefinitionArn)
}

// SeedService creates a service that is already stable on its task
// definition, without recording a call.
func (f *Fake) SeedService(in *ecs.CreateServiceInput) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.newService(in)
	d := f.newDeployment(s, aws.ToString(in.TaskDefinition), nil)
	d.d.RunningCount = d.d.DesiredCount
	d.d.RolloutState = types.DeploymentRolloutStateCompleted
	d.sd.Status = types.ServiceDeploymentStatusSuccessful
	d.sd.FinishedAt = aws.Time(f.now())
	d.sd.TargetServiceRevision.RunningTaskCount = d.d.DesiredCount
	d.done = true
}

// Serving returns what the service serves now, from the fake's own state:
// each task definition ARN with its share of production traffic, in
// percent, summing to 100. While a deployment with traffic shifting
// (BLUE_GREEN, CANARY, LINEAR) is in flight, stopped or rolling back, the
// shares are its production traffic weights; otherwise they are the shares
// of the service's running tasks. A service with no running task serves its
// task definition. Nil when the service does not exist.
func (f *Fake) Serving(cluster, service string) map[string]float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance()
	s := f.services[key(cluster, service)]
	if s == nil || aws.ToString(s.svc.Status) != "ACTIVE" {
		return nil
	}
	out := map[string]float64{}
	add := func(td string, pct float64) {
		if pct > 0 {
			out[td] += pct
		}
	}
	for _, d := range s.deps {
		if d.restore {
			continue
		}
		t := d.sd.TargetServiceRevision
		if t != nil && t.RequestedProductionTrafficWeight != nil && d.prev != nil &&
			d.sd.Status != types.ServiceDeploymentStatusSuccessful {
			w := *t.RequestedProductionTrafficWeight
			add(aws.ToString(d.d.TaskDefinition), w)
			add(aws.ToString(d.prev.d.TaskDefinition), 100-w)
			return out
		}
		break
	}
	var all int32
	for _, d := range s.deps {
		all += d.d.RunningCount
	}
	if all == 0 {
		out[aws.ToString(s.svc.TaskDefinition)] = 100
		return out
	}
	for _, d := range s.deps {
		add(aws.ToString(d.d.TaskDefinition), float64(d.d.RunningCount)/float64(all)*100)
	}
	return out
}

// TaskDefinitionStatus returns the status of a task definition ("" if
// unknown).
func (f *Fake) TaskDefinitionStatus(ref string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if td := f.lookupTD(ref); td != nil {
		return string(td.Status)
	}
	return ""
}

// ScalableTarget returns a copy of the service's scalable target, nil if
// none.
func (f *Fake) ScalableTarget(cluster, service string) *astypes.ScalableTarget {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.scalable["service/"+cluster+"/"+service]
	if st == nil {
		return nil
	}
	c := *st
	return &c
}

func (f *Fake) now() time.Time { return f.opts.Clock.Now() }

func (f *Fake) call(op string, mutating bool) {
	f.calls = append(f.calls, op)
	if mutating {
		f.mutations++
	}
	f.advance()
}

func (f *Fake) next() int { f.seq++; return f.seq }

// unavailable is what moto answers for operations it lacks.
func unavailable(op string) error {
	return &smithy.OperationError{ServiceID: "ECS", OperationName: op, Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusInternalServerError, Header: http.Header{}}},
		Err:      errors.New("deserialization failed, failed to decode response body, invalid character '<' looking for beginning of value"),
	}}
}

func invalidParam(msg string) error {
	return &types.InvalidParameterException{Message: aws.String(msg)}
}

// ---- task definitions ----

func (f *Fake) register(in *ecs.RegisterTaskDefinitionInput) *types.TaskDefinition {
	fam := aws.ToString(in.Family)
	rev := int32(len(f.families[fam]) + 1)
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, account, fam, rev)
	td := &types.TaskDefinition{
		TaskDefinitionArn: aws.String(arn), Family: in.Family, Revision: rev, Status: types.TaskDefinitionStatusActive,
		ContainerDefinitions: in.ContainerDefinitions, Cpu: in.Cpu, Memory: in.Memory, NetworkMode: in.NetworkMode,
		ExecutionRoleArn: in.ExecutionRoleArn, TaskRoleArn: in.TaskRoleArn, Volumes: in.Volumes,
		RequiresCompatibilities: in.RequiresCompatibilities, PlacementConstraints: in.PlacementConstraints,
		RuntimePlatform: in.RuntimePlatform, EphemeralStorage: in.EphemeralStorage, PidMode: in.PidMode, IpcMode: in.IpcMode,
		ProxyConfiguration: in.ProxyConfiguration, InferenceAccelerators: in.InferenceAccelerators,
		EnableFaultInjection: in.EnableFaultInjection,
		Compatibilities:      []types.Compatibility{types.CompatibilityEc2, types.CompatibilityFargate},
		RegisteredAt:         aws.Time(f.now()), RegisteredBy: aws.String("arn:aws:iam::" + account + ":root"),
	}
	// ECS fills in defaults: essential containers, tcp port mappings.
	cds := make([]types.ContainerDefinition, len(td.ContainerDefinitions))
	for i, c := range td.ContainerDefinitions {
		if c.Essential == nil {
			c.Essential = aws.Bool(true)
		}
		pms := make([]types.PortMapping, len(c.PortMappings))
		for j, pm := range c.PortMappings {
			if pm.Protocol == "" {
				pm.Protocol = types.TransportProtocolTcp
			}
			pms[j] = pm
		}
		c.PortMappings = pms
		cds[i] = c
	}
	td.ContainerDefinitions = cds
	f.families[fam] = append(f.families[fam], td)
	if len(in.Tags) > 0 {
		f.tags[arn] = in.Tags
	}
	return td
}

func (f *Fake) lookupTD(ref string) *types.TaskDefinition {
	l := ref
	if i := strings.LastIndex(l, "/"); i >= 0 {
		l = l[i+1:]
	}
	fam, rev := l, 0
	if i := strings.LastIndex(l, ":"); i >= 0 {
		fam = l[:i]
		rev, _ = strconv.Atoi(l[i+1:])
		if rev == 0 {
			return nil
		}
	}
	tds := f.families[fam]
	if rev > 0 {
		if rev > len(tds) {
			return nil
		}
		return tds[rev-1]
	}
	for i := len(tds) - 1; i >= 0; i-- {
		if tds[i].Status == types.TaskDefinitionStatusActive {
			return tds[i]
		}
	}
	return nil
}

// RegisterTaskDefinition registers a new revision of the family.
func (f *Fake) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("RegisterTaskDefinition", true)
	if err := f.fault("RegisterTaskDefinition"); err != nil {
		return nil, err
	}
	if aws.ToString(in.Family) == "" || len(in.ContainerDefinitions) == 0 {
		return nil, &types.ClientException{Message: aws.String("family and containerDefinitions are required")}
	}
	td := f.register(in)
	c := *td
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &c, Tags: in.Tags}, nil
}

// DescribeTaskDefinition returns a task definition by ARN, family:revision
// or family (the latest ACTIVE revision).
func (f *Fake) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("DescribeTaskDefinition", false)
	if err := f.fault("DescribeTaskDefinition"); err != nil {
		return nil, err
	}
	td := f.lookupTD(aws.ToString(in.TaskDefinition))
	if td == nil {
		return nil, &types.ClientException{Message: aws.String("Unable to describe task definition.")}
	}
	c := *td
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &c}
	for _, inc := range in.Include {
		if inc == types.TaskDefinitionFieldTags {
			out.Tags = f.tags[aws.ToString(td.TaskDefinitionArn)]
		}
	}
	return out, nil
}

// DeregisterTaskDefinition marks a revision INACTIVE.
func (f *Fake) DeregisterTaskDefinition(_ context.Context, in *ecs.DeregisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("DeregisterTaskDefinition", true)
	if err := f.fault("DeregisterTaskDefinition"); err != nil {
		return nil, err
	}
	td := f.lookupTD(aws.ToString(in.TaskDefinition))
	if td == nil || !strings.Contains(aws.ToString(in.TaskDefinition), ":") {
		return nil, &types.ClientException{Message: aws.String("The specified task definition does not exist.")}
	}
	td.Status = types.TaskDefinitionStatusInactive
	td.DeregisteredAt = aws.Time(f.now())
	c := *td
	return &ecs.DeregisterTaskDefinitionOutput{TaskDefinition: &c}, nil
}

// ListTaskDefinitions lists ARNs by family prefix and status.
func (f *Fake) ListTaskDefinitions(_ context.Context, in *ecs.ListTaskDefinitionsInput, _ ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("ListTaskDefinitions", false)
	if err := f.fault("ListTaskDefinitions"); err != nil {
		return nil, err
	}
	type e struct {
		fam string
		rev int32
		arn string
	}
	var all []e
	for fam, tds := range f.families {
		if !strings.HasPrefix(fam, aws.ToString(in.FamilyPrefix)) {
			continue
		}
		for _, td := range tds {
			st := in.Status
			if st == "" {
				st = types.TaskDefinitionStatusActive
			}
			if td.Status == st {
				all = append(all, e{fam, td.Revision, aws.ToString(td.TaskDefinitionArn)})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].fam != all[j].fam {
			return all[i].fam < all[j].fam
		}
		return all[i].rev < all[j].rev
	})
	if in.Sort == types.SortOrderDesc {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	out := &ecs.ListTaskDefinitionsOutput{}
	for _, x := range all {
		out.TaskDefinitionArns = append(out.TaskDefinitionArns, x.arn)
	}
	return out, nil
}

// ---- services ----

func key(cluster, name string) string {
	if cluster == "" {
		cluster = "default"
	}
	if i := strings.LastIndex(cluster, "/"); i >= 0 {
		cluster = cluster[i+1:]
	}
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return cluster + "/" + name
}

func (f *Fake) newService(in *ecs.CreateServiceInput) *service {
	k := key(aws.ToString(in.Cluster), aws.ToString(in.ServiceName))
	cluster := k[:strings.Index(k, "/")]
	s := &service{svc: types.Service{
		ServiceName:                   in.ServiceName,
		ServiceArn:                    aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s", region, account, k)),
		ClusterArn:                    aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, account, cluster)),
		Status:                        aws.String("ACTIVE"),
		DesiredCount:                  aws.ToInt32(in.DesiredCount),
		LaunchType:                    in.LaunchType,
		CapacityProviderStrategy:      in.CapacityProviderStrategy,
		DeploymentConfiguration:       in.DeploymentConfiguration,
		DeploymentController:          in.DeploymentController,
		NetworkConfiguration:          in.NetworkConfiguration,
		LoadBalancers:                 in.LoadBalancers,
		PlacementConstraints:          in.PlacementConstraints,
		PlacementStrategy:             in.PlacementStrategy,
		PlatformVersion:               in.PlatformVersion,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		EnableECSManagedTags:          in.EnableECSManagedTags,
		EnableExecuteCommand:          in.EnableExecuteCommand,
		PropagateTags:                 in.PropagateTags,
		ServiceRegistries:             in.ServiceRegistries,
		SchedulingStrategy:            types.SchedulingStrategyReplica,
		CreatedAt:                     aws.Time(f.now()),
	}}
	if s.svc.DeploymentController == nil {
		s.svc.DeploymentController = &types.DeploymentController{Type: types.DeploymentControllerTypeEcs}
	}
	if s.svc.DeploymentConfiguration == nil {
		s.svc.DeploymentConfiguration = &types.DeploymentConfiguration{
			MaximumPercent: aws.Int32(200), MinimumHealthyPercent: aws.Int32(100),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{},
			Strategy:                 types.DeploymentStrategyRolling,
		}
	}
	f.services[k] = s
	return s
}

// newDeployment makes td the service's PRIMARY deployment.
func (f *Fake) newDeployment(s *service, td string, prev *dep) *dep {
	now := f.now()
	n := f.next()
	k := key(aws.ToString(s.svc.ClusterArn), aws.ToString(s.svc.ServiceName))
	d := &dep{s: s, prev: prev, stageStart: now}
	d.d = types.Deployment{
		Id: aws.String(fmt.Sprintf("ecs-svc/%019d", 1000000000000000000+n)), Status: aws.String("PRIMARY"),
		TaskDefinition: aws.String(td), DesiredCount: s.svc.DesiredCount, RolloutState: types.DeploymentRolloutStateInProgress,
		RolloutStateReason: aws.String("ECS deployment in progress."), CreatedAt: aws.Time(now), UpdatedAt: aws.Time(now),
		LaunchType: s.svc.LaunchType,
	}
	revARN := fmt.Sprintf("arn:aws:ecs:%s:%s:service-revision/%s/%d", region, account, k, n)
	f.revisions[revARN] = td
	dc := s.svc.DeploymentConfiguration
	d.sd = types.ServiceDeployment{
		ServiceDeploymentArn: aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:service-deployment/%s/sd-%d", region, account, k, n)),
		ServiceArn:           s.svc.ServiceArn, ClusterArn: s.svc.ClusterArn,
		CreatedAt: aws.Time(now), StartedAt: aws.Time(now), UpdatedAt: aws.Time(now),
		Status:                  types.ServiceDeploymentStatusInProgress,
		DeploymentConfiguration: dc,
		TargetServiceRevision:   &types.ServiceRevisionSummary{Arn: aws.String(revARN), RequestedTaskCount: s.svc.DesiredCount},
	}
	if dc != nil && dc.Alarms != nil && dc.Alarms.Enable {
		d.sd.Alarms = &types.ServiceDeploymentAlarms{AlarmNames: dc.Alarms.AlarmNames, Status: types.ServiceDeploymentRollbackMonitorsStatusMonitoring}
	}
	if dc != nil && dc.DeploymentCircuitBreaker != nil && dc.DeploymentCircuitBreaker.Enable {
		d.sd.DeploymentCircuitBreaker = &types.ServiceDeploymentCircuitBreaker{Status: types.ServiceDeploymentRollbackMonitorsStatusMonitoring, Threshold: 3}
	}
	if prev != nil {
		d.sd.SourceServiceRevisions = []types.ServiceRevisionSummary{{Arn: prev.sd.TargetServiceRevision.Arn,
			RunningTaskCount: prev.d.RunningCount, RequestedTaskCount: prev.d.DesiredCount}}
		if w := (types.DeploymentStrategy)(""); dc != nil && dc.Strategy != w && dc.Strategy != types.DeploymentStrategyRolling {
			d.sd.TargetServiceRevision.RequestedProductionTrafficWeight = aws.Float64(0)
		}
	}
	if f.failNext > 0 {
		f.failNext--
		d.fail = true
	}
	d.plan = f.planFor(dc)
	for _, o := range s.deps {
		if aws.ToString(o.d.Status) == "PRIMARY" {
			o.d.Status = aws.String("ACTIVE")
		}
		if !o.done && o.sd.Status == types.ServiceDeploymentStatusInProgress {
			// A new deployment supersedes one in flight.
			o.sd.Status = types.ServiceDeploymentStatusStopped
			o.sd.StatusReason = aws.String("superseded by " + aws.ToString(d.d.Id))
			o.sd.StoppedAt = aws.Time(now)
			o.done = true
		}
	}
	s.deps = append([]*dep{d}, s.deps...)
	s.svc.TaskDefinition = aws.String(td)
	s.svc.CurrentServiceDeployment = d.sd.ServiceDeploymentArn
	f.sds[aws.ToString(d.sd.ServiceDeploymentArn)] = d
	f.event(s, fmt.Sprintf("(service %s) has begun deployment %s of %s.", aws.ToString(s.svc.ServiceName), aws.ToString(d.d.Id), labelOf(td)))
	f.enter(d, now)
	return d
}

func labelOf(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func (f *Fake) planFor(dc *types.DeploymentConfiguration) []stage {
	o := f.opts
	strategy := types.DeploymentStrategyRolling
	bake := time.Duration(0)
	if dc != nil {
		if dc.Strategy != "" {
			strategy = dc.Strategy
		}
		bake = time.Duration(aws.ToInt32(dc.BakeTimeInMinutes)) * time.Minute
	}
	if strategy == types.DeploymentStrategyRolling {
		return []stage{{types.ServiceDeploymentLifecycleStageScaleUp, o.TaskStartTime, -1}, {types.ServiceDeploymentLifecycleStageCleanUp, o.DrainTime, -1}}
	}
	p := []stage{
		{types.ServiceDeploymentLifecycleStageReconcileService, 0, -1},
		{types.ServiceDeploymentLifecycleStagePreScaleUp, 0, -1},
		{types.ServiceDeploymentLifecycleStageScaleUp, o.TaskStartTime, -1},
		{types.ServiceDeploymentLifecycleStagePostScaleUp, 0, -1},
		{types.ServiceDeploymentLifecycleStageTestTrafficShift, o.ShiftTime, -1},
		{types.ServiceDeploymentLifecycleStagePostTestTrafficShift, 0, -1},
	}
	var weights []float64
	var holds []time.Duration
	switch strategy {
	case types.DeploymentStrategyCanary:
		pct, hold := 10.0, time.Duration(0)
		if c := dc.CanaryConfiguration; c != nil {
			pct = aws.ToFloat64(c.CanaryPercent)
			hold = time.Duration(aws.ToInt32(c.CanaryBakeTimeInMinutes)) * time.Minute
		}
		weights, holds = []float64{pct, 100}, []time.Duration{hold, 0}
	case types.DeploymentStrategyLinear:
		step, hold := 10.0, time.Duration(0)
		if c := dc.LinearConfiguration; c != nil {
			step = aws.ToFloat64(c.StepPercent)
			hold = time.Duration(aws.ToInt32(c.StepBakeTimeInMinutes)) * time.Minute
		}
		for w := step; w < 100; w += step {
			weights, holds = append(weights, w), append(holds, hold)
		}
		weights, holds = append(weights, 100), append(holds, 0)
	default: // BLUE_GREEN
		weights, holds = []float64{100}, []time.Duration{0}
	}
	for i, w := range weights {
		p = append(p, stage{"PRE_PRODUCTION_TRAFFIC_SHIFT", 0, -1},
			stage{types.ServiceDeploymentLifecycleStageProductionTrafficShift, o.ShiftTime + holds[i], w})
	}
	return append(p,
		stage{types.ServiceDeploymentLifecycleStagePostProductionTrafficShift, 0, -1},
		stage{types.ServiceDeploymentLifecycleStageBakeTime, bake, -1},
		stage{types.ServiceDeploymentLifecycleStageCleanUp, o.DrainTime, -1})
}

func (f *Fake) event(s *service, msg string) {
	n := f.next()
	s.events = append([]types.ServiceEvent{{Id: aws.String(fmt.Sprintf("ev-%08d", n)), CreatedAt: aws.Time(f.now()),
		Message: aws.String(msg)}}, s.events...)
	if len(s.events) > 100 {
		s.events = s.events[:100]
	}
}

// enter starts stage d.idx at t: sets traffic and runs or pauses at hooks.
func (f *Fake) enter(d *dep, t time.Time) {
	st := d.plan[d.idx]
	d.stageStart = t
	d.sd.LifecycleStage = st.name
	d.sd.UpdatedAt = aws.Time(t)
	if st.weight >= 0 && d.sd.TargetServiceRevision != nil {
		d.sd.TargetServiceRevision.RequestedProductionTrafficWeight = aws.Float64(st.weight)
		for i := range d.sd.SourceServiceRevisions {
			d.sd.SourceServiceRevisions[i].RequestedProductionTrafficWeight = aws.Float64(100 - st.weight)
		}
	}
	dc := d.sd.DeploymentConfiguration
	if dc == nil {
		return
	}
	for i, h := range dc.LifecycleHooks {
		for _, hs := range h.LifecycleStages {
			if string(hs) != string(st.name) {
				continue
			}
			id := fmt.Sprintf("hook-%d-%d", i, f.next())
			if h.TargetType == types.DeploymentLifecycleHookTargetTypePause {
				d.hook = &types.DeploymentLifecycleHookDetail{HookId: aws.String(id), Status: types.DeploymentLifecycleHookStatusAwaitingAction,
					TargetType: types.DeploymentLifecycleHookTargetTypePause, TimeoutAction: types.DeploymentLifecycleHookActionRollback}
				d.sd.LifecycleHookDetails = []types.DeploymentLifecycleHookDetail{*d.hook}
				f.event(d.s, fmt.Sprintf("(service %s) deployment %s paused at %s.", aws.ToString(d.s.svc.ServiceName), aws.ToString(d.d.Id), st.name))
				return
			}
			var err error
			if f.opts.HookResult != nil {
				err = f.opts.HookResult(aws.ToString(h.HookTargetArn), string(st.name))
			}
			status := types.DeploymentLifecycleHookStatusSucceeded
			if err != nil {
				status = types.DeploymentLifecycleHookStatusFailed
			}
			d.sd.LifecycleHookDetails = append(d.sd.LifecycleHookDetails, types.DeploymentLifecycleHookDetail{
				HookId: aws.String(id), Status: status, TargetArn: h.HookTargetArn, TargetType: types.DeploymentLifecycleHookTargetTypeAwsLambda})
			if err != nil {
				f.rollback(d, t, fmt.Sprintf("lifecycle hook %s failed at %s: %v", aws.ToString(h.HookTargetArn), st.name, err))
				return
			}
		}
	}
}

// advance moves every deployment forward to the clock's time.
func (f *Fake) advance() {
	now := f.now()
	for _, s := range f.services {
		for _, d := range s.deps {
			f.step(d, now)
		}
	}
}

func (f *Fake) step(d *dep, now time.Time) {
	for !d.done {
		if !d.stopAt.IsZero() {
			if now.Before(d.stopAt) {
				return
			}
			d.sd.Status = types.ServiceDeploymentStatusStopped
			d.sd.StoppedAt, d.sd.FinishedAt = aws.Time(d.stopAt), aws.Time(d.stopAt)
			d.done = true
			f.event(d.s, fmt.Sprintf("(service %s) deployment %s stopped.", aws.ToString(d.s.svc.ServiceName), aws.ToString(d.d.Id)))
			return
		}
		if !d.rollbackAt.IsZero() {
			if now.Before(d.rollbackAt) {
				return
			}
			f.finishRollback(d)
			return
		}
		if d.hook != nil {
			return
		}
		st := d.plan[d.idx]
		end := d.stageStart.Add(st.dur)
		if st.name == types.ServiceDeploymentLifecycleStageScaleUp && !d.fail {
			// Tasks come up over the stage.
			frac := 1.0
			if st.dur > 0 && now.Before(end) {
				frac = float64(now.Sub(d.stageStart)) / float64(st.dur)
			}
			d.d.RunningCount = int32(float64(d.d.DesiredCount) * frac)
			d.sd.TargetServiceRevision.RunningTaskCount = d.d.RunningCount
		}
		if now.Before(end) {
			return
		}
		if f.tripped(d, end) {
			return
		}
		if st.name == types.ServiceDeploymentLifecycleStageScaleUp && d.fail {
			d.d.FailedTasks += d.d.DesiredCount
			f.event(d.s, fmt.Sprintf("(service %s) deployment %s: tasks failed to start.", aws.ToString(d.s.svc.ServiceName), aws.ToString(d.d.Id)))
			cb := d.sd.DeploymentConfiguration
			if cb == nil || cb.DeploymentCircuitBreaker == nil || !cb.DeploymentCircuitBreaker.Enable {
				d.stageStart = end // retry forever, as ECS does without the circuit breaker
				continue
			}
			d.d.RolloutState = types.DeploymentRolloutStateFailed
			d.d.RolloutStateReason = aws.String("ECS deployment circuit breaker: tasks failed to start.")
			d.sd.DeploymentCircuitBreaker.Status = types.ServiceDeploymentRollbackMonitorsStatusTriggered
			d.sd.DeploymentCircuitBreaker.FailureCount = d.d.FailedTasks
			if cb.DeploymentCircuitBreaker.Rollback {
				f.rollback(d, end, "circuit breaker: tasks failed to start")
			} else {
				d.sd.Status = types.ServiceDeploymentStatusStopped
				d.sd.StatusReason = aws.String("circuit breaker: tasks failed to start")
				d.sd.StoppedAt, d.sd.FinishedAt = aws.Time(end), aws.Time(end)
				d.done = true
			}
			return
		}
		if st.name == types.ServiceDeploymentLifecycleStageScaleUp {
			f.event(d.s, fmt.Sprintf("(service %s) has started %d tasks.", aws.ToString(d.s.svc.ServiceName), d.d.DesiredCount))
		}
		if d.idx == len(d.plan)-1 {
			f.complete(d, end)
			return
		}
		d.idx++
		f.enter(d, end)
	}
}

// tripped checks the deployment's alarms at t; an alarm stops it (and rolls
// it back when the configuration says so).
func (f *Fake) tripped(d *dep, t time.Time) bool {
	dc := d.sd.DeploymentConfiguration
	if dc == nil || dc.Alarms == nil || !dc.Alarms.Enable {
		return false
	}
	var fired []string
	for _, a := range dc.Alarms.AlarmNames {
		if f.alarms[a] {
			fired = append(fired, a)
		}
	}
	if len(fired) == 0 {
		return false
	}
	d.sd.Alarms.Status = types.ServiceDeploymentRollbackMonitorsStatusTriggered
	d.sd.Alarms.TriggeredAlarmNames = fired
	reason := "alarm " + strings.Join(fired, ", ") + " in ALARM"
	if dc.Alarms.Rollback {
		f.rollback(d, t, reason)
	} else {
		d.d.RolloutState = types.DeploymentRolloutStateFailed
		d.d.RolloutStateReason = aws.String(reason)
		d.sd.Status = types.ServiceDeploymentStatusStopped
		d.sd.StatusReason = aws.String(reason)
		d.sd.StoppedAt, d.sd.FinishedAt = aws.Time(t), aws.Time(t)
		d.done = true
	}
	return true
}

func (f *Fake) complete(d *dep, t time.Time) {
	d.d.RunningCount = d.d.DesiredCount
	d.d.RolloutState = types.DeploymentRolloutStateCompleted
	d.d.RolloutStateReason = aws.String("ECS deployment " + aws.ToString(d.d.Id) + " completed.")
	d.d.UpdatedAt = aws.Time(t)
	d.sd.Status = types.ServiceDeploymentStatusSuccessful
	d.sd.FinishedAt, d.sd.UpdatedAt = aws.Time(t), aws.Time(t)
	d.sd.TargetServiceRevision.RunningTaskCount = d.d.RunningCount
	if d.sd.Alarms != nil && d.sd.Alarms.Status == types.ServiceDeploymentRollbackMonitorsStatusMonitoring {
		d.sd.Alarms.Status = types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete
	}
	d.done = true
	// Old tasks are gone.
	var keep []*dep
	for _, o := range d.s.deps {
		if o == d {
			keep = append(keep, o)
		}
	}
	d.s.deps = keep
	f.event(d.s, fmt.Sprintf("(service %s) has reached a steady state.", aws.ToString(d.s.svc.ServiceName)))
}

// rollback returns the service to d.prev's task definition.
func (f *Fake) rollback(d *dep, t time.Time, reason string) {
	if d.prev == nil {
		d.sd.Status = types.ServiceDeploymentStatusRollbackFailed
		d.sd.StatusReason = aws.String(reason + "; no previous revision")
		d.done = true
		return
	}
	d.d.RolloutState = types.DeploymentRolloutStateFailed
	d.d.RolloutStateReason = aws.String(reason)
	d.d.Status = aws.String("ACTIVE")
	d.sd.Status = types.ServiceDeploymentStatusRollbackInProgress
	d.sd.Rollback = &types.Rollback{Reason: aws.String(reason), StartedAt: aws.Time(t), ServiceRevisionArn: d.prev.sd.TargetServiceRevision.Arn}
	d.sd.UpdatedAt = aws.Time(t)
	if d.sd.TargetServiceRevision.RequestedProductionTrafficWeight != nil {
		d.sd.TargetServiceRevision.RequestedProductionTrafficWeight = aws.Float64(0)
	}
	d.hook = nil
	d.rollbackAt = t.Add(f.opts.DrainTime)
	td := aws.ToString(d.prev.d.TaskDefinition)
	// ECS starts a deployment of the previous task definition.
	n := f.next()
	rb := &dep{s: d.s, done: true, restore: true}
	rb.d = types.Deployment{Id: aws.String(fmt.Sprintf("ecs-svc/%019d", 1000000000000000000+n)), Status: aws.String("PRIMARY"),
		TaskDefinition: aws.String(td), DesiredCount: d.s.svc.DesiredCount, RunningCount: d.prev.d.RunningCount,
		RolloutState: types.DeploymentRolloutStateInProgress, CreatedAt: aws.Time(t), UpdatedAt: aws.Time(t), LaunchType: d.s.svc.LaunchType}
	rb.sd = d.prev.sd
	d.rollbackTo = rb
	var keep []*dep
	for _, o := range d.s.deps {
		if o != d.prev {
			keep = append(keep, o)
		}
	}
	d.s.deps = append([]*dep{rb}, keep...)
	d.s.svc.TaskDefinition = aws.String(td)
	f.event(d.s, fmt.Sprintf("(service %s) deployment %s failed: %s. Rolling back to %s.",
		aws.ToString(d.s.svc.ServiceName), aws.ToString(d.d.Id), reason, labelOf(td)))
}

func (f *Fake) finishRollback(d *dep) {
	t := d.rollbackAt
	d.rollbackAt = time.Time{}
	d.sd.Status = types.ServiceDeploymentStatusRollbackSuccessful
	d.sd.FinishedAt, d.sd.UpdatedAt = aws.Time(t), aws.Time(t)
	d.done = true
	rb := d.rollbackTo
	rb.d.RunningCount = rb.d.DesiredCount
	rb.d.RolloutState = types.DeploymentRolloutStateCompleted
	d.s.deps = []*dep{rb}
	d.d.RunningCount = 0
	f.event(d.s, fmt.Sprintf("(service %s) rolled back to %s and has reached a steady state.",
		aws.ToString(d.s.svc.ServiceName), labelOf(aws.ToString(rb.d.TaskDefinition))))
}

func (f *Fake) snapshot(s *service) types.Service {
	out := s.svc
	out.Deployments = nil
	out.RunningCount = 0
	for _, d := range s.deps {
		out.Deployments = append(out.Deployments, d.d)
		out.RunningCount += d.d.RunningCount
	}
	out.Events = append([]types.ServiceEvent(nil), s.events...)
	if f.opts.NoServiceDeployments {
		out.CurrentServiceDeployment = nil
	}
	return out
}

// CreateService creates a service and its first deployment.
func (f *Fake) CreateService(_ context.Context, in *ecs.CreateServiceInput, _ ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("CreateService", true)
	if err := f.fault("CreateService"); err != nil {
		return nil, err
	}
	k := key(aws.ToString(in.Cluster), aws.ToString(in.ServiceName))
	if s, ok := f.services[k]; ok && aws.ToString(s.svc.Status) == "ACTIVE" {
		return nil, invalidParam("Creation of service was not idempotent.")
	}
	if f.lookupTD(aws.ToString(in.TaskDefinition)) == nil {
		return nil, &types.ClientException{Message: aws.String("TaskDefinition not found.")}
	}
	s := f.newService(in)
	f.newDeployment(s, aws.ToString(in.TaskDefinition), nil)
	out := f.snapshot(s)
	return &ecs.CreateServiceOutput{Service: &out}, nil
}

// UpdateService changes the service and starts a deployment when the task
// definition or the deployment configuration changes, or when forced.
func (f *Fake) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("UpdateService", true)
	if err := f.fault("UpdateService"); err != nil {
		return nil, err
	}
	s := f.services[key(aws.ToString(in.Cluster), aws.ToString(in.Service))]
	if s == nil || aws.ToString(s.svc.Status) != "ACTIVE" {
		return nil, &types.ServiceNotFoundException{Message: aws.String("Service not found.")}
	}
	td := aws.ToString(s.svc.TaskDefinition)
	if in.TaskDefinition != nil {
		t := f.lookupTD(*in.TaskDefinition)
		if t == nil {
			return nil, &types.ClientException{Message: aws.String("TaskDefinition not found.")}
		}
		td = aws.ToString(t.TaskDefinitionArn)
	}
	if in.DesiredCount != nil {
		if *in.DesiredCount < 0 {
			return nil, invalidParam("desiredCount must be >= 0")
		}
		s.svc.DesiredCount = *in.DesiredCount
		for _, d := range s.deps {
			if aws.ToString(d.d.Status) == "PRIMARY" {
				d.d.DesiredCount = *in.DesiredCount
				if d.done {
					d.d.RunningCount = *in.DesiredCount
				}
				if d.sd.TargetServiceRevision != nil {
					d.sd.TargetServiceRevision.RequestedTaskCount = *in.DesiredCount
				}
			}
		}
	}
	configChanged := false
	if in.DeploymentConfiguration != nil {
		s.svc.DeploymentConfiguration = in.DeploymentConfiguration
		configChanged = true
	}
	if in.NetworkConfiguration != nil {
		s.svc.NetworkConfiguration = in.NetworkConfiguration
		configChanged = true
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		s.svc.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
	}
	if in.PlatformVersion != nil {
		s.svc.PlatformVersion = in.PlatformVersion
	}
	if in.EnableExecuteCommand != nil {
		s.svc.EnableExecuteCommand = *in.EnableExecuteCommand
	}
	if in.EnableECSManagedTags != nil {
		s.svc.EnableECSManagedTags = *in.EnableECSManagedTags
	}
	if in.LoadBalancers != nil {
		s.svc.LoadBalancers = in.LoadBalancers
	}
	if in.PlacementStrategy != nil {
		s.svc.PlacementStrategy = in.PlacementStrategy
	}
	if in.PlacementConstraints != nil {
		s.svc.PlacementConstraints = in.PlacementConstraints
	}
	if in.CapacityProviderStrategy != nil {
		s.svc.CapacityProviderStrategy = in.CapacityProviderStrategy
	}
	if in.PropagateTags != "" {
		s.svc.PropagateTags = in.PropagateTags
	}
	if in.ServiceRegistries != nil {
		s.svc.ServiceRegistries = in.ServiceRegistries
	}
	var primary *dep
	for _, d := range s.deps {
		if aws.ToString(d.d.Status) == "PRIMARY" {
			primary = d
		}
	}
	if primary == nil || aws.ToString(primary.d.TaskDefinition) != td || in.ForceNewDeployment || configChanged {
		f.newDeployment(s, td, primary)
	}
	out := f.snapshot(s)
	return &ecs.UpdateServiceOutput{Service: &out}, nil
}

// DescribeServices describes up to ten services of a cluster.
func (f *Fake) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("DescribeServices", false)
	if err := f.fault("DescribeServices"); err != nil {
		return nil, err
	}
	if len(in.Services) > 10 {
		return nil, invalidParam("services can have at most 10 items")
	}
	out := &ecs.DescribeServicesOutput{}
	for _, name := range in.Services {
		s := f.services[key(aws.ToString(in.Cluster), name)]
		if s == nil {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s", region, account, name)),
				Reason: aws.String("MISSING")})
			continue
		}
		out.Services = append(out.Services, f.snapshot(s))
	}
	return out, nil
}

// ---- service deployments ----

// ListServiceDeployments lists a service's deployments, newest first.
func (f *Fake) ListServiceDeployments(_ context.Context, in *ecs.ListServiceDeploymentsInput, _ ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("ListServiceDeployments", false)
	if err := f.fault("ListServiceDeployments"); err != nil {
		return nil, err
	}
	if f.opts.NoServiceDeployments {
		return nil, unavailable("ListServiceDeployments")
	}
	s := f.services[key(aws.ToString(in.Cluster), aws.ToString(in.Service))]
	if s == nil {
		return nil, &types.ServiceNotFoundException{Message: aws.String("Service not found.")}
	}
	var all []*dep
	for _, d := range f.sds {
		if d.s == s {
			all = append(all, d)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].sd.CreatedAt.After(*all[j].sd.CreatedAt) ||
			all[i].sd.CreatedAt.Equal(*all[j].sd.CreatedAt) && aws.ToString(all[i].d.Id) > aws.ToString(all[j].d.Id)
	})
	out := &ecs.ListServiceDeploymentsOutput{}
	for _, d := range all {
		if c := in.CreatedAt; c != nil {
			if c.After != nil && d.sd.CreatedAt.Before(*c.After) || c.Before != nil && d.sd.CreatedAt.After(*c.Before) {
				continue
			}
		}
		if len(in.Status) > 0 {
			ok := false
			for _, st := range in.Status {
				ok = ok || st == d.sd.Status
			}
			if !ok {
				continue
			}
		}
		out.ServiceDeployments = append(out.ServiceDeployments, types.ServiceDeploymentBrief{
			ServiceDeploymentArn: d.sd.ServiceDeploymentArn, ServiceArn: d.sd.ServiceArn, ClusterArn: d.sd.ClusterArn,
			CreatedAt: d.sd.CreatedAt, StartedAt: d.sd.StartedAt, FinishedAt: d.sd.FinishedAt, Status: d.sd.Status,
			StatusReason: d.sd.StatusReason, TargetServiceRevisionArn: d.sd.TargetServiceRevision.Arn})
	}
	return out, nil
}

// DescribeServiceDeployments describes up to twenty service deployments.
func (f *Fake) DescribeServiceDeployments(_ context.Context, in *ecs.DescribeServiceDeploymentsInput, _ ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("DescribeServiceDeployments", false)
	if err := f.fault("DescribeServiceDeployments"); err != nil {
		return nil, err
	}
	if f.opts.NoServiceDeployments {
		return nil, unavailable("DescribeServiceDeployments")
	}
	if len(in.ServiceDeploymentArns) > 20 {
		return nil, invalidParam("serviceDeploymentArns can have at most 20 items")
	}
	out := &ecs.DescribeServiceDeploymentsOutput{}
	for _, a := range in.ServiceDeploymentArns {
		d := f.sds[a]
		if d == nil {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(a), Reason: aws.String("MISSING")})
			continue
		}
		sd := d.sd
		if sd.TargetServiceRevision != nil {
			t := *sd.TargetServiceRevision
			sd.TargetServiceRevision = &t
		}
		sd.LifecycleHookDetails = append([]types.DeploymentLifecycleHookDetail(nil), sd.LifecycleHookDetails...)
		out.ServiceDeployments = append(out.ServiceDeployments, sd)
	}
	return out, nil
}

// DescribeServiceRevisions returns the task definition of service revisions.
func (f *Fake) DescribeServiceRevisions(_ context.Context, in *ecs.DescribeServiceRevisionsInput, _ ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("DescribeServiceRevisions", false)
	if err := f.fault("DescribeServiceRevisions"); err != nil {
		return nil, err
	}
	if f.opts.NoServiceDeployments {
		return nil, unavailable("DescribeServiceRevisions")
	}
	out := &ecs.DescribeServiceRevisionsOutput{}
	for _, a := range in.ServiceRevisionArns {
		td, ok := f.revisions[a]
		if !ok {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(a), Reason: aws.String("MISSING")})
			continue
		}
		out.ServiceRevisions = append(out.ServiceRevisions, types.ServiceRevision{ServiceRevisionArn: aws.String(a), TaskDefinition: aws.String(td)})
	}
	return out, nil
}

// StopServiceDeployment stops (ABORT) or rolls back (ROLLBACK) a deployment
// in flight.
func (f *Fake) StopServiceDeployment(_ context.Context, in *ecs.StopServiceDeploymentInput, _ ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("StopServiceDeployment", true)
	if err := f.fault("StopServiceDeployment"); err != nil {
		return nil, err
	}
	if f.opts.NoServiceDeployments {
		return nil, unavailable("StopServiceDeployment")
	}
	d := f.sds[aws.ToString(in.ServiceDeploymentArn)]
	if d == nil {
		return nil, &types.ServiceDeploymentNotFoundException{Message: aws.String("service deployment not found")}
	}
	if d.done || !d.rollbackAt.IsZero() || !d.stopAt.IsZero() {
		return nil, &types.ConflictException{Message: aws.String("the service deployment is not in progress")}
	}
	if in.StopType == types.StopServiceDeploymentStopTypeAbort && f.opts.RefuseAbort {
		return nil, invalidParam("Invalid stopType ABORT: the valid stop type is ROLLBACK.")
	}
	now := f.now()
	if in.StopType == types.StopServiceDeploymentStopTypeAbort {
		d.sd.Status = types.ServiceDeploymentStatusStopRequested
		d.stopAt = now.Add(f.opts.ShiftTime)
		d.hook = nil
	} else {
		d.sd.Status = types.ServiceDeploymentStatusRollbackRequested
		f.rollback(d, now, "stop requested with rollback")
	}
	return &ecs.StopServiceDeploymentOutput{ServiceDeploymentArn: in.ServiceDeploymentArn}, nil
}

// ContinueServiceDeployment resolves a PAUSE hook: CONTINUE goes on,
// ROLLBACK rolls back.
func (f *Fake) ContinueServiceDeployment(_ context.Context, in *ecs.ContinueServiceDeploymentInput, _ ...func(*ecs.Options)) (*ecs.ContinueServiceDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("ContinueServiceDeployment", true)
	if err := f.fault("ContinueServiceDeployment"); err != nil {
		return nil, err
	}
	if f.opts.NoServiceDeployments {
		return nil, unavailable("ContinueServiceDeployment")
	}
	d := f.sds[aws.ToString(in.ServiceDeploymentArn)]
	if d == nil {
		return nil, &types.ServiceDeploymentNotFoundException{Message: aws.String("service deployment not found")}
	}
	if d.hook == nil || aws.ToString(d.hook.HookId) != aws.ToString(in.HookId) {
		return nil, invalidParam("no hook " + aws.ToString(in.HookId) + " is awaiting action")
	}
	now := f.now()
	for i := range d.sd.LifecycleHookDetails {
		if aws.ToString(d.sd.LifecycleHookDetails[i].HookId) == aws.ToString(in.HookId) {
			d.sd.LifecycleHookDetails[i].Status = types.DeploymentLifecycleHookStatusSucceeded
		}
	}
	d.hook = nil
	if in.Action == types.DeploymentLifecycleHookActionRollback {
		f.rollback(d, now, "rolled back at a paused hook")
	} else {
		d.stageStart = now
	}
	return &ecs.ContinueServiceDeploymentOutput{ServiceDeploymentArn: in.ServiceDeploymentArn}, nil
}

// ---- Application Auto Scaling ----

// RegisterScalableTarget creates or updates a scalable target.
func (f *Fake) RegisterScalableTarget(_ context.Context, in *applicationautoscaling.RegisterScalableTargetInput, _ ...func(*applicationautoscaling.Options)) (*applicationautoscaling.RegisterScalableTargetOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("RegisterScalableTarget", true)
	if err := f.fault("RegisterScalableTarget"); err != nil {
		return nil, err
	}
	id := aws.ToString(in.ResourceId)
	st := f.scalable[id]
	if st == nil {
		if in.MinCapacity == nil || in.MaxCapacity == nil {
			return nil, &astypes.ValidationException{Message: aws.String("MinCapacity and MaxCapacity are required for a new scalable target")}
		}
		st = &astypes.ScalableTarget{ResourceId: in.ResourceId, ServiceNamespace: in.ServiceNamespace,
			ScalableDimension: in.ScalableDimension, CreationTime: aws.Time(f.now()), RoleARN: aws.String("arn:aws:iam::" + account + ":role/ecsAutoscale"),
			SuspendedState: &astypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(false), DynamicScalingOutSuspended: aws.Bool(false), ScheduledScalingSuspended: aws.Bool(false)}}
		f.scalable[id] = st
	}
	if in.MinCapacity != nil {
		st.MinCapacity = in.MinCapacity
	}
	if in.MaxCapacity != nil {
		st.MaxCapacity = in.MaxCapacity
	}
	if s := in.SuspendedState; s != nil {
		ns := *st.SuspendedState
		if s.DynamicScalingInSuspended != nil {
			ns.DynamicScalingInSuspended = s.DynamicScalingInSuspended
		}
		if s.DynamicScalingOutSuspended != nil {
			ns.DynamicScalingOutSuspended = s.DynamicScalingOutSuspended
		}
		if s.ScheduledScalingSuspended != nil {
			ns.ScheduledScalingSuspended = s.ScheduledScalingSuspended
		}
		st.SuspendedState = &ns
	}
	return &applicationautoscaling.RegisterScalableTargetOutput{}, nil
}

// DescribeScalableTargets lists scalable targets by resource ID.
func (f *Fake) DescribeScalableTargets(_ context.Context, in *applicationautoscaling.DescribeScalableTargetsInput, _ ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalableTargetsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("DescribeScalableTargets", false)
	if err := f.fault("DescribeScalableTargets"); err != nil {
		return nil, err
	}
	out := &applicationautoscaling.DescribeScalableTargetsOutput{}
	ids := in.ResourceIds
	if len(ids) == 0 {
		for id := range f.scalable {
			ids = append(ids, id)
		}
		sort.Strings(ids)
	}
	for _, id := range ids {
		if st := f.scalable[id]; st != nil {
			c := *st
			out.ScalableTargets = append(out.ScalableTargets, c)
		}
	}
	return out, nil
}
