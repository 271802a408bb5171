package ecs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ecs/ecsfake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// bgFleet is an ECS fake with rolling service prod/web (on web:1, two
// tasks) and n CODE_DEPLOY services prod/bg000..bgNNN (on bg:1), each with
// its CodeDeploy ECS deployment group AppECS-prod-bgNNN/DgpECS-prod-bgNNN
// in an in-memory CodeDeploy, on one manual clock.
type bgFleet struct {
	clock *deploytest.Clock
	ecs   *ecsfake.Fake
	cd    *codedeployfake.Fake
	drv   *Driver
}

// newBGFleet builds the fleet; group, when set, may change each group
// before it is added.
func newBGFleet(t *testing.T, n int, group func(i int, g *codedeployfake.Group)) *bgFleet {
	t.Helper()
	clk := deploytest.NewClock(deploytest.Epoch())
	f := ecsfake.New(ecsfake.Options{Clock: clk})
	web := f.SeedTaskDefinition(taskDef("web", "nginx:1"))
	f.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(web),
		DesiredCount: aws.Int32(2), DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyRolling}})
	bg := f.SeedTaskDefinition(taskDef("bg", "bg:1"))
	cd := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: 10 * time.Second})
	for i := range n {
		name := fmt.Sprintf("bg%03d", i)
		f.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String(bg),
			DesiredCount: aws.Int32(2), DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy},
			LoadBalancers: []types.LoadBalancer{{ContainerName: aws.String("app"), ContainerPort: aws.Int32(80),
				TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1")}}})
		g := codedeployfake.Group{Application: "AppECS-prod-" + name, Name: "DgpECS-prod-" + name, ComputePlatform: cdtypes.ComputePlatformEcs,
			Targets: []string{"prod:" + name}, Current: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
				AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(`{"version":0.0,"Resources":[]}`)}}}
		if group != nil {
			group(i, &g)
		}
		cd.AddGroup(g)
	}
	return &bgFleet{clock: clk, ecs: f, cd: cd, drv: New(f, Options{AutoScaling: f, CodeDeploy: cd, Clock: clk})}
}

// start plans and starts req.
func (b *bgFleet) start(t *testing.T, req deploy.Request) *deploy.Deployment {
	t.Helper()
	p, err := b.drv.Prepare(context.Background(), req)
	if err != nil {
		t.Fatalf("Prepare %s: %v", req.Target, err)
	}
	d, err := b.drv.Start(context.Background(), p)
	if err != nil {
		t.Fatalf("Start %s: %v", req.Target, err)
	}
	return d
}

// bgRequest deploys bg:2 to service i of the fleet with strategy s.
func bgRequest(i int, s deploy.Strategy, rollbackOn deploy.RollbackOn) deploy.Request {
	name := fmt.Sprintf("bg%03d", i)
	return deploy.Request{Target: Target("prod", name), Strategy: s, RollbackOn: rollbackOn,
		Options: DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2"),
			CodeDeployApplication: "AppECS-prod-" + name, CodeDeployDeploymentGroup: "DgpECS-prod-" + name}}
}

// StatusMany reports each deployment of a batch exactly as Status does,
// CodeDeploy deployments of CODE_DEPLOY services (created, shifting at
// 10%, waiting in Ready, rolling back, rolled back, stopped part way,
// succeeded, unknown) and a rolling deployment alike; the two are compared
// field by field every 15 seconds of an eight-minute window, with each
// poll's reports given back as the engine gives them.
func TestCodeDeployStatusManyAgreesWithStatus(t *testing.T) {
	ctx := context.Background()
	b := newBGFleet(t, 6, func(i int, g *codedeployfake.Group) {
		if i == 4 {
			g.ReadyBefore = "AllowTraffic"
		}
	})
	canary := deploy.Canary(10, 5*time.Minute)
	ds := []*deploy.Deployment{
		b.start(t, bgRequest(0, deploy.AllAtOnce(), 0)),
		b.start(t, bgRequest(1, canary, 0)),
	}
	b.cd.FailNext("AfterAllowTestTraffic", "")
	ds = append(ds, b.start(t, bgRequest(2, deploy.AllAtOnce(), deploy.OnFailure)))
	stopped := b.start(t, bgRequest(3, canary, 0))
	ds = append(ds, stopped, b.start(t, bgRequest(4, deploy.AllAtOnce(), 0)),
		&deploy.Deployment{ID: "d-404", Target: Target("prod", "bg005"), To: deploy.Revision{ID: "bg:2"},
			Detail: &deployment{cluster: "prod", service: "bg005", codeDeployID: "d-404"}},
		b.start(t, deploy.Request{Target: Target("prod", "web"), Options: DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}}),
		nil)
	seen := map[string]bool{}
	for at := time.Duration(0); at <= 8*time.Minute; at += 15 * time.Second {
		if at == 90*time.Second {
			if out, err := b.drv.Stop(ctx, stopped, deploy.StopOptions{}); err != nil || out != deploy.StopSucceeded {
				t.Fatalf("Stop %s: %v, %v", stopped.ID, out, err)
			}
		}
		many, err := b.drv.StatusMany(ctx, ds)
		if len(many) != len(ds) {
			t.Fatalf("+%v: StatusMany returned %d entries for %d deployments", at, len(many), len(ds))
		}
		for i, d := range ds {
			one, oneErr := b.drv.Status(ctx, d)
			switch {
			case one == nil && many[i] == nil:
				part := errorNaming(err, idOfDep(d))
				if part == nil {
					t.Errorf("+%v: %s: StatusMany's error %v names no *deploy.Error for it", at, idOfDep(d), err)
				}
				for _, sentinel := range []error{deploy.ErrNotFound, deploy.ErrInvalidRequest} {
					if errors.Is(oneErr, sentinel) != errors.Is(part, sentinel) {
						t.Errorf("+%v: %s: Status says %v, StatusMany %v", at, idOfDep(d), oneErr, part)
					}
				}
			case one == nil || many[i] == nil:
				t.Errorf("+%v: %s: Status %v (%v), StatusMany %v (%v)", at, idOfDep(d), one, oneErr, many[i], err)
			case !reflect.DeepEqual(one, many[i]):
				t.Errorf("+%v: %s: Status and StatusMany disagree:\n%+v\n%+v", at, d.ID, one, many[i])
			default:
				state := string(one.Status)
				if one.RolledBackBy != "" && !one.Status.Terminal() {
					state = "rolling back"
				}
				seen[state] = true
				ds[i] = many[i]
			}
		}
		b.clock.Advance(15 * time.Second)
	}
	for _, s := range []string{"Created", "InProgress", "Ready", "rolling back", "Succeeded", "RolledBack", "Stopped"} {
		if !seen[s] {
			t.Errorf("no deployment was seen %s; seen %v", s, seen)
		}
	}
}

// A batch's CodeDeploy deployments cost one BatchGetDeployments per 25
// (and no GetDeployment), its rolling deployments one DescribeServices per
// ten services, neither paying for the other.
func TestCodeDeployStatusManyBatchesBlueGreen(t *testing.T) {
	for _, c := range []struct {
		bg, rolling int
	}{
		{1, 0}, {25, 0}, {26, 0}, {60, 1}, {0, 1},
	} {
		t.Run(fmt.Sprintf("blue-green=%d/rolling=%d", c.bg, c.rolling), func(t *testing.T) {
			b := newBGFleet(t, c.bg, nil)
			var ds []*deploy.Deployment
			for i := range c.bg {
				ds = append(ds, b.start(t, bgRequest(i, deploy.Canary(10, 5*time.Minute), 0)))
			}
			if c.rolling > 0 {
				ds = append(ds, b.start(t, deploy.Request{Target: Target("prod", "web"), Options: DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}}))
			}
			b.clock.Advance(time.Minute)
			cdBefore := len(b.cd.Calls())
			b.ecs.ResetCalls()
			out, err := b.drv.StatusMany(context.Background(), ds)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range out {
				if d == nil || d.ID != ds[i].ID {
					t.Fatalf("entry %d: %+v, want %s", i, d, ds[i].ID)
				}
			}
			ops := map[string]int{}
			for _, call := range b.cd.Calls()[cdBefore:] {
				ops[call.Op]++
			}
			if want := (c.bg + 24) / 25; ops["BatchGetDeployments"] != want || ops["GetDeployment"] != 0 {
				t.Errorf("%d BatchGetDeployments and %d GetDeployment for %d CodeDeploy deployments, want %d and 0 (%v)",
					ops["BatchGetDeployments"], ops["GetDeployment"], c.bg, want, ops)
			}
			if ops["ListDeploymentTargets"] != c.bg {
				t.Errorf("%d ListDeploymentTargets for %d CodeDeploy deployments, want one each", ops["ListDeploymentTargets"], c.bg)
			}
			if describes, want := b.ecs.Count("DescribeServices"), (c.rolling+9)/10; describes != want {
				t.Errorf("%d DescribeServices for %d rolling deployments, want %d", describes, c.rolling, want)
			}
		})
	}
}

// errorNaming returns the part of a StatusMany error about deployment id.
func errorNaming(err error, id string) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return nil
	}
	for _, e := range j.Unwrap() {
		var de *deploy.Error
		if errors.As(e, &de) && de.DeploymentID == id {
			return e
		}
	}
	return nil
}

func idOfDep(d *deploy.Deployment) string {
	if d == nil {
		return ""
	}
	return d.ID
}
