package ecs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

func TestBadInputIsTypedAndMutatesNothing(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, nil, 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"family": "web", "containerDefinitions": [`), 0o644)
	cases := []struct {
		name  string
		tgt   string
		o     DeployOptions
		field string
		notFd bool
	}{
		{name: "malformed task definition", o: DeployOptions{TaskDefinitionFile: bad}, field: "taskDefinition"},
		{name: "empty task definition", o: DeployOptions{TaskDefinitionFile: empty}, field: "taskDefinition"},
		{name: "missing file", o: DeployOptions{TaskDefinitionFile: filepath.Join(dir, "nope.json")}, field: "taskDefinitionFile"},
		{name: "no containers", o: DeployOptions{TaskDefinition: []byte(`{"family":"web","containerDefinitions":[]}`)}, field: "taskDefinition.containerDefinitions"},
		{name: "unknown field", o: DeployOptions{TaskDefinition: []byte(`{"family":"web","containerDefinitionz":[]}`)}, field: "taskDefinition"},
		{name: "revision and latest", o: DeployOptions{Revision: 3, LatestTaskDefinition: true}, field: "revision"},
		{name: "negative tasks", o: DeployOptions{Tasks: ptr(int32(-2))}, field: "tasks"},
		{name: "wait until soon", o: DeployOptions{WaitUntil: "soon"}, field: "waitUntil"},
		{name: "suspend and resume", o: DeployOptions{SuspendAutoScaling: true, ResumeAutoScaling: true}, field: "suspendAutoScaling"},
		{name: "skip and revision", o: DeployOptions{SkipTaskDefinition: true, Revision: 2}, field: "skipTaskDefinition"},
		{name: "hook without role", o: DeployOptions{Hooks: []LifecycleHook{{FunctionARN: "arn:fn", Stages: []string{"PRE_SCALE_UP"}}}}, field: "hooks[0].roleARN"},
		{name: "hook bad stage", o: DeployOptions{Hooks: []LifecycleHook{{Pause: true, Stages: []string{"LUNCH"}}}}, field: "hooks[0].stages"},
		{name: "unknown service", tgt: "prod/ghost", o: DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}, notFd: true},
		{name: "unknown revision", o: DeployOptions{Revision: 42}, notFd: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ecsfake.Options{})
			e.fake.ResetCalls()
			req := e.request(tc.o)
			if tc.tgt != "" {
				req.Target = deploy.Target{Name: tc.tgt}
			}
			_, err := e.drv.Prepare(e.ctx(), req)
			if tc.notFd {
				if !errors.Is(err, deploy.ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
			} else {
				var ve *deploy.ValidationError
				if !errors.Is(err, deploy.ErrInvalidRequest) || !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("err = %v, want a ValidationError on %s", err, tc.field)
				}
				if n := len(e.fake.Calls()); n != 0 {
					t.Fatalf("bad input reached AWS: %v", e.fake.Calls())
				}
			}
			var de *deploy.Error
			if !errors.As(err, &de) || de.Platform != "ecs" || de.Op != "prepare" {
				t.Fatalf("not a *deploy.Error: %#v", err)
			}
			if e.fake.Mutations() != 0 {
				t.Fatalf("mutating calls: %v", e.fake.Calls())
			}
		})
	}
}

func TestUnknownServiceCreatedFromDefinition(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	e.tgt = Target("prod", "api")
	def := []byte(`{"serviceName": "api", "launchType": "FARGATE", "desiredCount": 3,
	  "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100,
	    "deploymentCircuitBreaker": {"enable": true, "rollback": true}}}`)
	d, err := e.engine().Deploy(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("api", "api:1"), ServiceDefinition: def}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != deploy.StatusSucceeded || d.From != nil || d.To.Label != "api:1" {
		t.Fatalf("%s %v %s", d.Status, d.From, d.To.Label)
	}
	out, _ := e.fake.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
	if s := out.Services[0]; s.DesiredCount != 3 || s.LaunchType != types.LaunchTypeFargate {
		t.Fatalf("service %s", jsonOf(s))
	}
}

func TestServiceDefinitionDiff(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	e.fake.ResetCalls()
	// Same defaults as the service, one real change, and describe-services
	// read-only fields that must be ignored.
	def := []byte(`{"services": [{"serviceName": "web", "serviceArn": "arn:x", "status": "ACTIVE", "runningCount": 2,
	  "deployments": [], "events": [], "healthCheckGracePeriodSeconds": 60,
	  "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100,
	    "deploymentCircuitBreaker": {"enable": true, "rollback": true}}}]}`)
	p, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{SkipTaskDefinition: true, ServiceDefinition: def, Tasks: ptr(int32(4))}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range p.Changes {
		got[c.Path] = c.Old + "->" + c.New
	}
	want := map[string]string{"service.healthCheckGracePeriodSeconds": "->60", "service.desiredCount": "2->4"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
	if e.fake.Mutations() != 0 {
		t.Fatal("prepare mutated")
	}
	// --no-update-service drops the attribute change.
	p, err = e.drv.Prepare(e.ctx(), e.request(DeployOptions{SkipTaskDefinition: true, ServiceDefinition: def, NoUpdateService: true}))
	if err != nil || len(p.Changes) != 0 {
		t.Fatalf("no-update-service: %v %v", p.Changes, err)
	}
	d, err := e.engine().Execute(e.ctx(), mustPlan(t, e, DeployOptions{SkipTaskDefinition: true, ServiceDefinition: def}))
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatal(d, err)
	}
	if g := e.service().HealthCheckGracePeriodSeconds; aws.ToInt32(g) != 60 {
		t.Fatalf("grace %v", g)
	}
}

func mustPlan(t *testing.T, e *env, o DeployOptions) *deploy.Plan {
	t.Helper()
	p, err := e.drv.Prepare(e.ctx(), e.request(o))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRollbackToLastKnownGood(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	eng := e.engine()
	// web:2 succeeds, web:3 fails and is rolled back by the circuit breaker.
	if _, err := eng.Deploy(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})); err != nil {
		t.Fatal(err)
	}
	e.fake.FailNext(1)
	if _, err := eng.Deploy(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:3")})); !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatal(err)
	}
	// web:4 succeeds; the last known good before it is web:2, not web:3.
	if _, err := eng.Deploy(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:4")})); err != nil {
		t.Fatal(err)
	}
	h, err := e.drv.History(e.ctx(), e.tgt)
	if err != nil {
		t.Fatal(err)
	}
	if !h[0].Current || h[0].Revision.Label != "web:4" {
		t.Fatalf("history %+v", h)
	}
	e.fake.ResetCalls()
	p, err := eng.PlanRollback(e.ctx(), deploy.RollbackRequest{Target: e.tgt, Options: &RollbackOptions{Deregister: true}})
	if err != nil {
		t.Fatal(err)
	}
	if p.To.Label != "web:2" || e.fake.Mutations() != 0 {
		t.Fatalf("rollback plan to %s (want web:2, skipping the rolled-back web:3)", p.To.Label)
	}
	d, err := eng.Execute(e.ctx(), p)
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatal(d, err)
	}
	if st := e.fake.TaskDefinitionStatus("web:4"); st != "INACTIVE" {
		t.Fatalf("web:4 is %s after --deregister", st)
	}
	if got := labelOf(aws.ToString(e.service().TaskDefinition)); got != "web:2" {
		t.Fatalf("service on %s", got)
	}
	// A named revision, with a desired count.
	p, err = eng.PlanRollback(e.ctx(), deploy.RollbackRequest{Target: e.tgt, To: "web:1", Options: RollbackOptions{Tasks: ptr(int32(5))}})
	if err != nil || p.To.Label != "web:1" || p.Request.RollbackOf == "" {
		t.Fatalf("%v %v", p, err)
	}
	if !strings.Contains(p.String(), "service.desiredCount: 2 -> 5") {
		t.Fatalf("plan %s", p)
	}
	// The engine's own Rollback goes through History too.
	d, err = eng.Rollback(e.ctx(), deploy.RollbackRequest{Target: e.tgt})
	if err != nil || d.To.Label != "web:1" {
		t.Fatalf("engine rollback: %v %v", d, err)
	}
}

func TestRollbackFallbackHistory(t *testing.T) {
	e := newEnv(t, ecsfake.Options{NoServiceDeployments: true})
	eng := e.engine()
	if _, err := eng.Deploy(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")})); err != nil {
		t.Fatal(err)
	}
	e.fake.SeedTaskDefinition(taskDef("web-worker", "w:1")) // same prefix, other family
	p, err := eng.PlanRollback(e.ctx(), deploy.RollbackRequest{Target: e.tgt})
	if err != nil || p.To.Label != "web:1" {
		t.Fatalf("%v %v", p, err)
	}
	if !strings.Contains(strings.Join(e.notes, "\n"), "unavailable") {
		t.Fatalf("no fallback note: %q", e.notes)
	}
}

func TestRefreshAndScale(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	eng := e.engine()
	before := e.service()
	p, err := eng.Plan(e.ctx(), e.request(DeployOptions{SkipTaskDefinition: true, ForceNewDeployment: true, NoUpdateService: true,
		ServiceDefinition: []byte(`{"healthCheckGracePeriodSeconds": 5}`)}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 0 || !strings.Contains(strings.Join(p.Notes, ","), "forcing") {
		t.Fatalf("refresh plan %+v", p)
	}
	d, err := eng.Execute(e.ctx(), p)
	if err != nil {
		t.Fatal(err)
	}
	after := e.service()
	if d.ID == aws.ToString(before.Deployments[0].Id) || aws.ToString(after.TaskDefinition) != aws.ToString(before.TaskDefinition) ||
		after.HealthCheckGracePeriodSeconds != nil {
		t.Fatalf("refresh changed more than a new deployment: %s", jsonOf(after))
	}
	d, err = eng.Deploy(e.ctx(), e.request(DeployOptions{SkipTaskDefinition: true, NoUpdateService: true, Tasks: ptr(int32(6))}))
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatal(err)
	}
	if s := e.service(); s.DesiredCount != 6 || aws.ToString(s.TaskDefinition) != aws.ToString(before.TaskDefinition) {
		t.Fatalf("scale: %d", s.DesiredCount)
	}
}

func TestAutoScalingSuspendResume(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	e.addScalableTarget()
	eng := e.engine()
	p, err := eng.Plan(e.ctx(), e.request(DeployOptions{SkipTaskDefinition: true, SuspendAutoScaling: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Path != "autoScaling.suspended" || e.fake.Mutations() != 0 {
		t.Fatalf("%+v", p.Changes)
	}
	if _, err := eng.Execute(e.ctx(), p); err != nil {
		t.Fatal(err)
	}
	st := e.fake.ScalableTarget("prod", "web").SuspendedState
	if !aws.ToBool(st.DynamicScalingInSuspended) || !aws.ToBool(st.DynamicScalingOutSuspended) || !aws.ToBool(st.ScheduledScalingSuspended) {
		t.Fatalf("not suspended: %s", jsonOf(st))
	}
	if _, err := eng.Deploy(e.ctx(), e.request(DeployOptions{SkipTaskDefinition: true, ResumeAutoScaling: true})); err != nil {
		t.Fatal(err)
	}
	if st := e.fake.ScalableTarget("prod", "web").SuspendedState; aws.ToBool(st.DynamicScalingInSuspended) {
		t.Fatalf("not resumed: %s", jsonOf(st))
	}
}

func TestWaitUntilDeployed(t *testing.T) {
	e := newEnv(t, ecsfake.Options{DrainTime: 10 * 60e9})
	p := mustPlan(t, e, DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2"), WaitUntil: WaitDeployed})
	d, err := e.drv.Start(e.ctx(), p)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(60e9)
	s, _ := e.drv.Status(e.ctx(), d)
	// Tasks are up but old ones still drain: deployed is not yet
	// reached only once the service deployment completes.
	if s.Status.Terminal() {
		t.Fatalf("terminal too early: %s", s.Status)
	}
	e.clock.Advance(10 * 60e9)
	s, _ = e.drv.Status(e.ctx(), s)
	if s.Status != deploy.StatusSucceeded {
		t.Fatalf("status %s", s.Status)
	}
}

func TestStatusManyBatchesTenPerCall(t *testing.T) {
	e := newEnv(t, ecsfake.Options{NoServiceDeployments: true})
	td := e.fake.SeedTaskDefinition(taskDef("svc", "x:1"))
	var deps []*deploy.Deployment
	for i := range 25 {
		name := fmt.Sprintf("s%02d", i)
		e.fake.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String(name),
			TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1)})
		svc, _ := e.fake.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{name}})
		deps = append(deps, &deploy.Deployment{ID: aws.ToString(svc.Services[0].Deployments[0].Id), Target: Target("prod", name)})
	}
	e.fake.ResetCalls()
	out, err := e.drv.StatusMany(e.ctx(), deps)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Count("DescribeServices"); n != 3 {
		t.Fatalf("DescribeServices called %d times for 25 services, want 3", n)
	}
	for i, d := range out {
		if d == nil || d.Status != deploy.StatusSucceeded {
			t.Fatalf("%d: %v", i, d)
		}
	}
}
