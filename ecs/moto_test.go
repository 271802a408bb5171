package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/motoserver"
)

// motoEnv is a cluster "prod" with service "web" on web:1 (two running
// tasks) and an auto-scaling target, in a fresh moto_server.
type motoEnv struct {
	ecs   *ecs.Client
	as    *applicationautoscaling.Client
	drv   *Driver
	tgt   deploy.Target
	mu    sync.Mutex
	notes []string
}

func newMoto(t *testing.T, env ...string) *motoEnv {
	t.Helper()
	if env == nil {
		env = []string{"MOTO_ECS_SERVICE_RUNNING=2"}
	}
	s := motoserver.Start(t, env...)
	cfg := s.Config()
	m := &motoEnv{ecs: ecs.NewFromConfig(cfg), as: applicationautoscaling.NewFromConfig(cfg), tgt: Target("prod", "web")}
	m.drv = NewFromConfig(cfg, Options{})
	ctx := context.Background()
	if _, err := m.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ecs.RegisterTaskDefinition(ctx, taskDef("web", "nginx:1")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.as.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: astypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web"),
		ScalableDimension: astypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *motoEnv) ctx() context.Context {
	return deploy.WithNotifier(context.Background(), func(_ deploy.EventKind, msg string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.notes = append(m.notes, msg)
	})
}

func (m *motoEnv) service(t *testing.T) types.Service {
	t.Helper()
	out, err := m.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	return out.Services[0]
}

func (m *motoEnv) suspended(t *testing.T) astypes.SuspendedState {
	t.Helper()
	out, err := m.as.DescribeScalableTargets(context.Background(), &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: astypes.ServiceNamespaceEcs, ResourceIds: []string{"service/prod/web"}})
	if err != nil || len(out.ScalableTargets) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	if out.ScalableTargets[0].SuspendedState == nil {
		return astypes.SuspendedState{}
	}
	return *out.ScalableTargets[0].SuspendedState
}

// state is everything the dry run must leave alone, as JSON.
func (m *motoEnv) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	svcs, err := m.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	var tds []any
	for _, st := range []types.TaskDefinitionStatus{types.TaskDefinitionStatusActive, types.TaskDefinitionStatusInactive} {
		l, err := m.ecs.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: st})
		if err != nil {
			t.Fatal(err)
		}
		tds = append(tds, l.TaskDefinitionArns)
	}
	st, err := m.as.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: astypes.ServiceNamespaceEcs})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal([]any{svcs.Services, svcs.Failures, tds, st.ScalableTargets})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (m *motoEnv) run(t *testing.T, o DeployOptions) *deploy.Deployment {
	t.Helper()
	// moto never moves a rollout forward: return once ECS accepted it.
	d, err := deploy.New(m.drv, deploy.Options{}).Deploy(m.ctx(), deploy.Request{Target: m.tgt, Options: o, NoWait: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMotoDeployRegistersAndUpdates(t *testing.T) {
	m := newMoto(t)
	d := m.run(t, DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})
	if d.To.Label != "web:2" || d.From == nil || d.From.Label != "web:1" {
		t.Fatalf("deployment %s -> %s", d.From, d.To)
	}
	if got := m.service(t).TaskDefinition; !strings.HasSuffix(aws.ToString(got), "task-definition/web:2") {
		t.Fatalf("service runs %s", aws.ToString(got))
	}
	notes := strings.Join(m.notes, "\n")
	if !strings.Contains(notes, "service-deployments API unavailable") {
		t.Fatalf("no fallback note: %q", notes)
	}
	// Status falls back to DescribeServices and, since moto does not
	// roll out, says the deployment has not started rather than failing
	// or claiming success or rollback.
	s, err := m.drv.Status(m.ctx(), d)
	if err != nil || s.Status != deploy.StatusInProgress {
		t.Fatalf("status %v %v", s, err)
	}
}

// moto leaves every PRIMARY deployment IN_PROGRESS and never adds the old
// one beside it: that is not a rollout holding the service, so deploys one
// after another go through (the lock once refused them all).
func TestMotoDeploysOneAfterAnother(t *testing.T) {
	m := newMoto(t, "MOTO_ECS_SERVICE_RUNNING=0")
	m.run(t, DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})
	d := m.run(t, DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:3")})
	if d.To.Label != "web:3" {
		t.Fatalf("second deploy went to %s", d.To.Label)
	}
}

func TestMotoRollbackWithDeregister(t *testing.T) {
	m := newMoto(t)
	m.run(t, DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})
	d, err := deploy.New(m.drv, deploy.Options{}).Rollback(m.ctx(), deploy.RollbackRequest{Target: m.tgt, NoWait: true,
		Options: &RollbackOptions{Deregister: true}})
	if err != nil {
		t.Fatal(err)
	}
	if d.To.Label != "web:1" {
		t.Fatalf("rolled back to %s", d.To.Label)
	}
	if got := aws.ToString(m.service(t).TaskDefinition); !strings.HasSuffix(got, "web:1") {
		t.Fatalf("service runs %s", got)
	}
	td, err := m.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:2")})
	if err != nil || td.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
		t.Fatalf("web:2 after --deregister: %v %v", td, err)
	}
}

func TestMotoAutoScalingSuspendResume(t *testing.T) {
	m := newMoto(t)
	m.run(t, DeployOptions{SkipTaskDefinition: true, SuspendAutoScaling: true})
	s := m.suspended(t)
	if !aws.ToBool(s.DynamicScalingInSuspended) || !aws.ToBool(s.DynamicScalingOutSuspended) || !aws.ToBool(s.ScheduledScalingSuspended) {
		t.Fatalf("not suspended: %s", jsonOf(s))
	}
	m.run(t, DeployOptions{SkipTaskDefinition: true, ResumeAutoScaling: true})
	s = m.suspended(t)
	if aws.ToBool(s.DynamicScalingInSuspended) || aws.ToBool(s.DynamicScalingOutSuspended) || aws.ToBool(s.ScheduledScalingSuspended) {
		t.Fatalf("not resumed: %s", jsonOf(s))
	}
}

func TestMotoRefreshAndScale(t *testing.T) {
	m := newMoto(t)
	before := m.service(t)
	p, err := m.drv.Prepare(m.ctx(), deploy.Request{Target: m.tgt, Options: DeployOptions{SkipTaskDefinition: true, ForceNewDeployment: true, NoUpdateService: true}})
	if err != nil || len(p.Changes) != 0 {
		t.Fatalf("refresh plan %v %v", p, err)
	}
	if _, err := m.drv.Start(m.ctx(), p); err != nil {
		t.Fatal(err)
	}
	after := m.service(t)
	if aws.ToString(after.TaskDefinition) != aws.ToString(before.TaskDefinition) || after.DesiredCount != before.DesiredCount {
		t.Fatalf("refresh changed the service: %s", jsonOf(after))
	}
	m.run(t, DeployOptions{SkipTaskDefinition: true, NoUpdateService: true, Tasks: ptr(int32(4))})
	after = m.service(t)
	if after.DesiredCount != 4 || aws.ToString(after.TaskDefinition) != aws.ToString(before.TaskDefinition) {
		t.Fatalf("scale: desired %d on %s", after.DesiredCount, aws.ToString(after.TaskDefinition))
	}
}

func TestMotoDryRunChangesNothing(t *testing.T) {
	m := newMoto(t)
	m.run(t, DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})
	eng := deploy.New(m.drv, deploy.Options{})
	before := m.state(t)
	for i, o := range []DeployOptions{
		{TaskDefinition: taskDefJSON("web", "nginx:3"), ServiceDefinition: []byte(`{"healthCheckGracePeriodSeconds": 30}`),
			Tasks: ptr(int32(5)), SuspendAutoScaling: true, ForceNewDeployment: true},
		{SkipTaskDefinition: true, ForceNewDeployment: true, NoUpdateService: true},
		{SkipTaskDefinition: true, NoUpdateService: true, Tasks: ptr(int32(1))},
		{LatestTaskDefinition: true},
		{Revision: 1, ResumeAutoScaling: true},
	} {
		p, err := eng.Plan(m.ctx(), deploy.Request{Target: m.tgt, Options: o})
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if o.TaskDefinition != nil && len(p.Changes) < 3 {
			t.Fatalf("deploy dry run shows too little: %+v", p.Changes)
		}
	}
	if _, err := eng.PlanRollback(m.ctx(), deploy.RollbackRequest{Target: m.tgt, Options: &RollbackOptions{Deregister: true}}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if after := m.state(t); after != before {
		t.Fatalf("dry run changed moto's state:\nbefore %s\nafter  %s", before, after)
	}
	// Bad input is refused before any call too.
	_, err := eng.Plan(m.ctx(), deploy.Request{Target: Target("prod", "ghost"), Options: DeployOptions{TaskDefinition: taskDefJSON("web", "x")}})
	if !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("unknown service: %v", err)
	}
	if after := m.state(t); after != before {
		t.Fatal("refused request changed moto's state")
	}
}
