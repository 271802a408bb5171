package ecs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// newDiscoveryEnv seeds CODE_DEPLOY service prod/bg and a CodeDeploy with
// applications on every compute platform, paging one name at a time; the
// groups are added by the test.
func newDiscoveryEnv(t *testing.T, groups ...codedeployfake.Group) (*env, *codedeployfake.Fake) {
	t.Helper()
	e := newEnv(t, ecsfake.Options{})
	td := e.fake.SeedTaskDefinition(taskDef("bg", "bg:1"))
	e.fake.SeedService(&ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("bg"), TaskDefinition: aws.String(td),
		DesiredCount: aws.Int32(2), DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy},
		LoadBalancers: []types.LoadBalancer{{ContainerName: aws.String("app"), ContainerPort: aws.Int32(80),
			TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/1")}}})
	cd := codedeployfake.New(codedeployfake.Options{Clock: e.clock, StepDuration: 30 * time.Second, PageSize: 1})
	cd.AddGroup(codedeployfake.Group{Application: "fleet", Name: "web-servers"})
	cd.AddGroup(codedeployfake.Group{Application: "functions", Name: "api", ComputePlatform: cdtypes.ComputePlatformLambda, Targets: []string{"api:live"}})
	cd.AddApplication("empty-ecs", cdtypes.ComputePlatformEcs)
	for _, g := range groups {
		if g.ComputePlatform == "" {
			g.ComputePlatform = cdtypes.ComputePlatformEcs
		}
		g.Current = &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(`{"version":0.0,"Resources":[]}`)}}
		cd.AddGroup(g)
	}
	drv := New(e.fake, Options{AutoScaling: e.fake, CodeDeploy: cd, Clock: e.clock})
	e.drv, e.tgt = drv, Target("prod", "bg")
	return e, cd
}

func cdOps(cd *codedeployfake.Fake) map[string]int {
	n := map[string]int{}
	for _, c := range cd.Calls() {
		n[c.Op]++
	}
	return n
}

func groupChange(p *deploy.Plan) string {
	for _, c := range p.Changes {
		if c.Path == "codeDeploy.deployment" {
			return c.New
		}
	}
	return ""
}

func noMutations(t *testing.T, e *env, cd *codedeployfake.Fake) {
	t.Helper()
	if e.fake.Mutations() != 0 || cd.Mutations() != 0 {
		t.Fatalf("Prepare made mutating calls: ECS %d, CodeDeploy %d", e.fake.Mutations(), cd.Mutations())
	}
}

func TestCodeDeployDiscoveryFindsGroup(t *testing.T) {
	e, cd := newDiscoveryEnv(t,
		codedeployfake.Group{Application: "shop", Name: "bg-blue-green", Targets: []string{"prod:bg"},
			Alarms: &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String("bg-5xx")}, {Name: aws.String("bg-latency")}}},
			AutoRollback: &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{
				cdtypes.AutoRollbackEventDeploymentFailure, cdtypes.AutoRollbackEventDeploymentStopOnAlarm}},
			DeploymentConfigName: "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"},
		codedeployfake.Group{Application: "shop", Name: "web", Targets: []string{"prod:web"}},
		codedeployfake.Group{Application: "staging", Name: "bg", Targets: []string{"staging:bg"}},
	)
	req := e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2")})
	req.RollbackOn = deploy.OnFailure
	p, err := e.drv.Prepare(e.ctx(), req)
	if err != nil {
		t.Fatal(err)
	}
	noMutations(t, e, cd)
	if got := groupChange(p); !strings.HasPrefix(got, "shop/bg-blue-green ") {
		t.Fatalf("deployment group %q", got)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, want := range []string{
		"CodeDeploy deployment group shop/bg-blue-green lists ECS service prod/bg",
		"stops deployments on CloudWatch alarms bg-5xx, bg-latency",
		"rolls back automatically on DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_ALARM; this deployment overrides that with DEPLOYMENT_FAILURE",
		"own deployment configuration is CodeDeployDefault.ECSLinear10PercentEvery1Minutes; this deployment uses CodeDeployDefault.ECSAllAtOnce",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	// Five applications, a page each; only the three ECS ones have their
	// groups listed (shop's two take two pages), and described when any.
	ops := cdOps(cd)
	if ops["ListApplications"] != 5 || ops["BatchGetApplications"] != 1 || ops["ListDeploymentGroups"] != 4 || ops["BatchGetDeploymentGroups"] != 2 {
		t.Fatalf("calls %v", ops)
	}
	d, err := e.drv.Start(e.ctx(), p)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := cd.Deployment(d.ID)
	if !ok || aws.ToString(info.ApplicationName) != "shop" || aws.ToString(info.DeploymentGroupName) != "bg-blue-green" {
		t.Fatalf("deployment %s went to %s/%s", d.ID, aws.ToString(info.ApplicationName), aws.ToString(info.DeploymentGroupName))
	}
	// A rollback finds the in-flight deployment through the same group.
	e.clock.Advance(time.Minute)
	rp, err := e.drv.Prepare(e.ctx(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{Label: "bg:1"}, Options: RollbackOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rp.Notes, "\n"), "CodeDeploy deployment "+d.ID+" is in flight") {
		t.Fatalf("rollback plan does not stop %s: %v", d.ID, rp.Notes)
	}
}

func TestCodeDeployDiscoveryAmbiguous(t *testing.T) {
	e, cd := newDiscoveryEnv(t,
		codedeployfake.Group{Application: "shop", Name: "bg", Targets: []string{"prod:bg"}},
		codedeployfake.Group{Application: "AppECS-prod-bg", Name: "DgpECS-prod-bg", Targets: []string{"prod:bg"}},
		codedeployfake.Group{Application: "shop", Name: "bg-canary", ECSServices: []cdtypes.ECSService{
			{ClusterName: aws.String("prod"), ServiceName: aws.String("arn:aws:ecs:us-east-1:123456789012:service/prod/bg")}}},
	)
	_, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2")}))
	var amb *ambiguousGroupError
	if !errors.As(err, &amb) || !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("err = %v, want *ambiguousGroupError wrapping ErrInvalidRequest", err)
	}
	if got := fmt.Sprint(amb.Groups); got != "[AppECS-prod-bg/DgpECS-prod-bg shop/bg shop/bg-canary]" || amb.Cluster != "prod" || amb.Service != "bg" {
		t.Fatalf("groups %s of %s/%s", got, amb.Cluster, amb.Service)
	}
	var de *deploy.Error
	if !errors.As(err, &de) || de.Op != "prepare" {
		t.Fatalf("err %v is not a prepare *deploy.Error", err)
	}
	noMutations(t, e, cd)
	// Naming the group in the options settles it.
	p, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2"),
		CodeDeployApplication: "shop", CodeDeployDeploymentGroup: "bg-canary"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := groupChange(p); !strings.HasPrefix(got, "shop/bg-canary ") {
		t.Fatalf("deployment group %q", got)
	}
	// Naming only the application narrows the search, but shop has two
	// matching groups.
	_, err = e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2"), CodeDeployApplication: "shop"}))
	if !errors.As(err, &amb) || fmt.Sprint(amb.Groups) != "[shop/bg shop/bg-canary]" {
		t.Fatalf("err = %v", err)
	}
	noMutations(t, e, cd)
}

func TestCodeDeployDiscoveryNoMatch(t *testing.T) {
	e, cd := newDiscoveryEnv(t,
		codedeployfake.Group{Application: "shop", Name: "web", Targets: []string{"prod:web"}},
		codedeployfake.Group{Application: "AppECS-prod-bg", Name: "DgpECS-prod-bg", Targets: []string{"prod:bg"}, ComputePlatform: cdtypes.ComputePlatformServer},
	)
	p, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2")}))
	if err != nil {
		t.Fatal(err)
	}
	noMutations(t, e, cd)
	if got := groupChange(p); !strings.HasPrefix(got, "AppECS-prod-bg/DgpECS-prod-bg ") {
		t.Fatalf("deployment group %q", got)
	}
	if notes := strings.Join(p.Notes, "\n"); !strings.Contains(notes, "no CodeDeploy deployment group lists ECS service prod/bg; using AppECS-prod-bg/DgpECS-prod-bg") {
		t.Fatalf("notes %s", notes)
	}
}

func TestCodeDeployGroupFromOptions(t *testing.T) {
	e, cd := newDiscoveryEnv(t,
		codedeployfake.Group{Application: "shop", Name: "bg", Targets: []string{"prod:bg"}},
		codedeployfake.Group{Application: "shop", Name: "other", Targets: []string{"prod:other"},
			AutoRollback: &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}}},
	)
	tdef := taskDefJSON("bg", "bg:2")

	// Application only: its groups alone are searched.
	p, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: tdef, CodeDeployApplication: "shop"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := groupChange(p); !strings.HasPrefix(got, "shop/bg ") {
		t.Fatalf("deployment group %q", got)
	}
	if ops := cdOps(cd); ops["ListApplications"] != 0 || ops["BatchGetApplications"] != 0 {
		t.Fatalf("listed applications: %v", ops)
	}

	// Both names: the group is read, not searched; one that lists another
	// service is used as told, with a note, and its rollback noted.
	req := e.request(DeployOptions{TaskDefinition: tdef, CodeDeployApplication: "shop", CodeDeployDeploymentGroup: "other"})
	req.RollbackOn = deploy.OnFailure
	before := cdOps(cd)
	p, err = e.drv.Prepare(e.ctx(), req)
	if err != nil {
		t.Fatal(err)
	}
	after := cdOps(cd)
	if after["ListDeploymentGroups"] != before["ListDeploymentGroups"] || after["BatchGetDeploymentGroups"] != before["BatchGetDeploymentGroups"]+1 {
		t.Fatalf("calls %v -> %v", before, after)
	}
	notes := strings.Join(p.Notes, "\n")
	if !strings.Contains(notes, "deployment group shop/other lists ECS services prod/other, not prod/bg") ||
		!strings.Contains(notes, "rolls back automatically on DEPLOYMENT_FAILURE, as this deployment asks") {
		t.Fatalf("notes %s", notes)
	}

	// A named group that does not exist is not found, before any mutation.
	_, err = e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: tdef, CodeDeployApplication: "shop", CodeDeployDeploymentGroup: "gone"}))
	if !errors.Is(err, deploy.ErrNotFound) || !strings.Contains(err.Error(), "shop/gone") {
		t.Fatalf("err = %v, want ErrNotFound naming shop/gone", err)
	}
	// An unknown application too.
	_, err = e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: tdef, CodeDeployApplication: "nope"}))
	var dne *cdtypes.ApplicationDoesNotExistException
	if !errors.As(err, &dne) || !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound wrapping ApplicationDoesNotExistException", err)
	}
	noMutations(t, e, cd)
}

func TestCodeDeployDiscoveryErrors(t *testing.T) {
	// Where CodeDeploy lacks the operations (an emulator's HTML 500), the
	// console's names are used, with a note.
	e, cd := newDiscoveryEnv(t, codedeployfake.Group{Application: "AppECS-prod-bg", Name: "DgpECS-prod-bg", Targets: []string{"prod:bg"}})
	cd.InjectError("ListApplications", &smithy.OperationError{ServiceID: "CodeDeploy", OperationName: "ListApplications",
		Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusInternalServerError, Header: http.Header{}}},
			Err: errors.New("deserialization failed")}})
	p, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2")}))
	if err != nil {
		t.Fatal(err)
	}
	if got := groupChange(p); !strings.HasPrefix(got, "AppECS-prod-bg/DgpECS-prod-bg ") {
		t.Fatalf("deployment group %q", got)
	}
	if notes := strings.Join(p.Notes, "\n"); !strings.Contains(notes, "discovery is unavailable here") {
		t.Fatalf("notes %s", notes)
	}
	// Other errors, such as a missing permission, fail the plan.
	cd.InjectError("ListDeploymentGroups", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform codedeploy:ListDeploymentGroups"})
	_, err = e.drv.Prepare(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("bg", "bg:2")}))
	var ae smithy.APIError
	var de *deploy.Error
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	noMutations(t, e, cd)
}
