package ecs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

func newCodeDeployEnv(t *testing.T) (*env, *codedeployfake.Fake) {
	t.Helper()
	e := newEnv(t, ecsfake.Options{})
	td := e.fake.SeedTaskDefinition(taskDef("bg", "bg:1"))
	e.fake.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("bg"), TaskDefinition: aws.String(td),
		DesiredCount: aws.Int32(2), DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy},
		LoadBalancers: []types.LoadBalancer{{ContainerName: aws.String("app"), ContainerPort: aws.Int32(80),
			TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1")}}})
	cd := codedeployfake.New(codedeployfake.Options{Clock: e.clock, StepDuration: 30 * time.Second})
	cd.AddGroup(codedeployfake.Group{Application: "AppECS-prod-bg", Name: "DgpECS-prod-bg", ComputePlatform: cdtypes.ComputePlatformEcs,
		Targets: []string{"prod:bg"}, Current: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(`{"version":0.0,"Resources":[]}`)}}})
	drv := New(e.fake, Options{AutoScaling: e.fake, CodeDeploy: cd, Clock: e.clock})
	e.drv = drv
	e.tgt = Target("prod", "bg")
	return e, cd
}

func TestCodeDeployController(t *testing.T) {
	e, cd := newCodeDeployEnv(t)
	req := e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2")})
	req.Strategy = deploy.Canary(10, 5*time.Minute)
	req.RollbackOn = deploy.OnFailure | deploy.OnAlarm | deploy.OnStopRequest
	d, err := e.engine().Deploy(e.ctx(), req)
	if err != nil || d.Status != deploy.StatusSucceeded {
		t.Fatalf("%v %v", d, err)
	}
	info, ok := cd.Deployment(d.ID)
	if !ok {
		t.Fatalf("no CodeDeploy deployment %s", d.ID)
	}
	if aws.ToString(info.DeploymentConfigName) != "CodeDeployDefault.ECSCanary10Percent5Minutes" {
		t.Fatalf("config %s", aws.ToString(info.DeploymentConfigName))
	}
	ev := info.AutoRollbackConfiguration
	if ev == nil || !ev.Enabled || len(ev.Events) != 3 {
		t.Fatalf("auto rollback %s", jsonOf(ev))
	}
	var spec struct {
		Resources []map[string]struct {
			Type       string
			Properties struct {
				TaskDefinition   string
				LoadBalancerInfo struct {
					ContainerName string
					ContainerPort int
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(info.Revision.AppSpecContent.Content)), &spec); err != nil {
		t.Fatal(err)
	}
	ts := spec.Resources[0]["TargetService"]
	if ts.Type != "AWS::ECS::Service" || !strings.HasSuffix(ts.Properties.TaskDefinition, "bg:2") ||
		ts.Properties.LoadBalancerInfo.ContainerName != "app" || ts.Properties.LoadBalancerInfo.ContainerPort != 80 {
		t.Fatalf("appspec %+v", ts)
	}
	// A failing lifecycle event rolls back through CodeDeploy.
	cd.FailNext("AfterAllowTestTraffic", "")
	_, err = e.engine().Deploy(e.ctx(), func() deploy.Request {
		r := e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:3")})
		r.RollbackOn = deploy.OnFailure
		return r
	}())
	if !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatalf("err = %v, want ErrRolledBack", err)
	}
}

func TestCodeDeployRollbackStopsInFlight(t *testing.T) {
	e, cd := newCodeDeployEnv(t)
	p := mustPlan(t, e, DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2")})
	d, err := e.drv.Start(e.ctx(), p)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	rp, err := e.drv.Prepare(e.ctx(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{Label: "bg:1"}, Options: RollbackOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rp.Notes, "\n"), d.ID) {
		t.Fatalf("rollback plan does not stop %s: %v", d.ID, rp.Notes)
	}
	before := cd.Mutations()
	rd, err := e.drv.Start(e.ctx(), rp)
	if err != nil {
		t.Fatal(err)
	}
	if rd.ID != d.ID || cd.Mutations() != before+1 {
		t.Fatalf("rollback made a new deployment %s (mutations %d -> %d)", rd.ID, before, cd.Mutations())
	}
	var last *deploy.Deployment
	for range 20 {
		e.clock.Advance(time.Minute)
		if last, err = e.drv.Status(e.ctx(), rd); err != nil || last.Status.Terminal() {
			break
		}
	}
	if err != nil || last.Status != deploy.StatusRolledBack {
		t.Fatalf("%v %v", last, err)
	}
}
