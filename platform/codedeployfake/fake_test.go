package codedeployfake_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

var _ platform.CodeDeployAPI = (*codedeployfake.Fake)(nil)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now().Add(d)
	return ch
}
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestFakeProgressAndRecording(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0).UTC()}
	f := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: time.Minute, PageSize: 1})
	f.AddGroup(codedeployfake.Group{Application: "a", Name: "g", Targets: []string{"i-1", "i-2"}})
	ctx := context.Background()
	out, err := f.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("a"),
		DeploymentGroupName: aws.String("g"), Revision: &cdtypes.RevisionLocation{
			GitHubLocation: &cdtypes.GitHubLocation{Repository: aws.String("o/r"), CommitId: aws.String("abc")}}})
	if err != nil {
		t.Fatal(err)
	}
	id := out.DeploymentId
	get := func() cdtypes.DeploymentInfo {
		g, err := f.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: id})
		if err != nil {
			t.Fatal(err)
		}
		return *g.DeploymentInfo
	}
	if s := get().Status; s != cdtypes.DeploymentStatusCreated {
		t.Fatalf("status %s", s)
	}
	clk.Advance(time.Minute)
	info := get()
	if info.Status != cdtypes.DeploymentStatusInProgress || info.DeploymentOverview.InProgress != 2 {
		t.Fatalf("after a step: %s %+v", info.Status, info.DeploymentOverview)
	}
	// Targets page one at a time.
	var ids []string
	in := &codedeploy.ListDeploymentTargetsInput{DeploymentId: id}
	for {
		lt, err := f.ListDeploymentTargets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(lt.TargetIds) > 1 {
			t.Fatalf("page of %d", len(lt.TargetIds))
		}
		ids = append(ids, lt.TargetIds...)
		if lt.NextToken == nil {
			break
		}
		in = &codedeploy.ListDeploymentTargetsInput{DeploymentId: id, NextToken: lt.NextToken}
	}
	if len(ids) != 2 {
		t.Fatalf("targets %v", ids)
	}
	bt, err := f.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: id, TargetIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	it := bt.DeploymentTargets[0].InstanceTarget
	if it == nil || len(it.LifecycleEvents) != len(codedeployfake.ServerEvents()) ||
		it.LifecycleEvents[0].Status != cdtypes.LifecycleEventStatusInProgress ||
		it.LifecycleEvents[1].Status != cdtypes.LifecycleEventStatusPending {
		t.Fatalf("instance target %+v", it)
	}
	clk.Advance(7 * time.Minute)
	if s := get().Status; s != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("final %s", s)
	}
	if f.Mutations() != 1 {
		t.Fatalf("mutations %d", f.Mutations())
	}
	for _, c := range f.Calls() {
		if c.Mutating != (c.Op == "CreateDeployment") {
			t.Fatalf("call %s mutating=%v", c.Op, c.Mutating)
		}
	}
	if _, err := f.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: make([]string, 26)}); err == nil {
		t.Fatal("BatchGetDeployments accepted 26 IDs")
	}
	var nf *cdtypes.DeploymentDoesNotExistException
	if _, err := f.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("x")}); !errors.As(err, &nf) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := f.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: id}); err == nil {
		t.Fatal("continued a completed deployment")
	}
}

var _ platform.CodeDeployGroupsAPI = (*codedeployfake.Fake)(nil)

func TestFakeApplicationsAndGroups(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0).UTC()}
	f := codedeployfake.New(codedeployfake.Options{Clock: clk, PageSize: 2})
	f.AddGroup(codedeployfake.Group{Application: "AppECS-prod-web", Name: "DgpECS-prod-web", ComputePlatform: cdtypes.ComputePlatformEcs,
		Targets: []string{"prod:web"}, Alarms: &cdtypes.AlarmConfiguration{Enabled: true, Alarms: []cdtypes.Alarm{{Name: aws.String("5xx")}}},
		AutoRollback: &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}}})
	f.AddGroup(codedeployfake.Group{Application: "fleet", Name: "g1"})
	f.AddGroup(codedeployfake.Group{Application: "fleet", Name: "g2"})
	f.AddGroup(codedeployfake.Group{Application: "fleet", Name: "g3"})
	f.AddApplication("empty", cdtypes.ComputePlatformLambda)
	ctx := context.Background()

	var apps []string
	var tok *string
	for {
		out, err := f.ListApplications(ctx, &codedeploy.ListApplicationsInput{NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, out.Applications...)
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	if fmt.Sprint(apps) != "[AppECS-prod-web empty fleet]" {
		t.Fatalf("applications %v", apps)
	}
	ba, err := f.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: apps})
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, a := range ba.ApplicationsInfo {
		platforms = append(platforms, aws.ToString(a.ApplicationName)+"="+string(a.ComputePlatform))
	}
	if fmt.Sprint(platforms) != "[AppECS-prod-web=ECS empty=Lambda fleet=Server]" {
		t.Fatalf("platforms %v", platforms)
	}
	var dne *cdtypes.ApplicationDoesNotExistException
	if _, err := f.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: []string{"nope"}}); !errors.As(err, &dne) {
		t.Fatalf("unknown application: %v", err)
	}

	lg, err := f.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String("fleet")})
	if err != nil || fmt.Sprint(lg.DeploymentGroups) != "[g1 g2]" || lg.NextToken == nil {
		t.Fatalf("first page %v %v", lg, err)
	}
	lg, err = f.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String("fleet"), NextToken: lg.NextToken})
	if err != nil || fmt.Sprint(lg.DeploymentGroups) != "[g3]" || lg.NextToken != nil {
		t.Fatalf("second page %v %v", lg, err)
	}
	if _, err := f.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String("nope")}); !errors.As(err, &dne) {
		t.Fatalf("unknown application: %v", err)
	}

	bg, err := f.BatchGetDeploymentGroups(ctx, &codedeploy.BatchGetDeploymentGroupsInput{ApplicationName: aws.String("AppECS-prod-web"),
		DeploymentGroupNames: []string{"DgpECS-prod-web", "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bg.DeploymentGroupsInfo) != 1 || aws.ToString(bg.ErrorMessage) == "" {
		t.Fatalf("groups %+v, error message %q", bg.DeploymentGroupsInfo, aws.ToString(bg.ErrorMessage))
	}
	g := bg.DeploymentGroupsInfo[0]
	if len(g.EcsServices) != 1 || aws.ToString(g.EcsServices[0].ClusterName) != "prod" || aws.ToString(g.EcsServices[0].ServiceName) != "web" ||
		g.AlarmConfiguration == nil || aws.ToString(g.AlarmConfiguration.Alarms[0].Name) != "5xx" ||
		g.AutoRollbackConfiguration == nil || !g.AutoRollbackConfiguration.Enabled ||
		aws.ToString(g.DeploymentConfigName) != "CodeDeployDefault.ECSAllAtOnce" || g.ComputePlatform != cdtypes.ComputePlatformEcs {
		t.Fatalf("group %+v", g)
	}
	if f.Mutations() != 0 {
		t.Fatalf("reads counted as %d mutations", f.Mutations())
	}
}

// A stop without rollback leaves the traffic where it was; a stop with
// rollback returns it.
func TestStopKeepsOrReturnsTraffic(t *testing.T) {
	for _, rollback := range []bool{false, true} {
		clk := &clock{now: time.Unix(1_700_000_000, 0).UTC()}
		f := codedeployfake.New(codedeployfake.Options{Clock: clk})
		f.AddGroup(codedeployfake.Group{Application: "a", Name: "g", ComputePlatform: cdtypes.ComputePlatformLambda, Targets: []string{"fn:live"},
			Current: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
				AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String("v1")}}})
		ctx := context.Background()
		out, err := f.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("a"), DeploymentGroupName: aws.String("g"),
			DeploymentConfigName: aws.String("CodeDeployDefault.LambdaCanary10Percent5Minutes"),
			Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
				AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String("v2")}}})
		if err != nil {
			t.Fatal(err)
		}
		weight := func() float64 {
			t.Helper()
			o, err := f.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: out.DeploymentId, TargetIds: []string{"fn:live"}})
			if err != nil {
				t.Fatal(err)
			}
			return o.DeploymentTargets[0].LambdaTarget.LambdaFunctionInfo.TargetVersionWeight
		}
		clk.Advance(3 * time.Second) // Created, BeforeAllowTraffic, into AllowTraffic's canary
		if w := weight(); w != 0.1 {
			t.Fatalf("canary weight %v", w)
		}
		if _, err := f.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: out.DeploymentId, AutoRollbackEnabled: aws.Bool(rollback)}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		want := 0.1
		if rollback {
			want = 0
		}
		if w := weight(); w != want {
			t.Errorf("rollback %v: weight after the stop %v, want %v", rollback, w, want)
		}
		info, _ := f.Deployment(aws.ToString(out.DeploymentId))
		if (info.RollbackInfo != nil && aws.ToString(info.RollbackInfo.RollbackDeploymentId) != "") != rollback {
			t.Errorf("rollback %v: rollback info %+v", rollback, info.RollbackInfo)
		}
	}
}

func s3(key string) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
		S3Location: &cdtypes.S3Location{Bucket: aws.String("b"), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip}}
}

func revKeys(f *codedeployfake.Fake) map[string]string {
	out := map[string]string{}
	for id, r := range f.InstanceRevisions("a", "g") {
		out[id] = aws.ToString(r.S3Location.Key)
	}
	return out
}

// TestFakeBatches: with Batches, a Server deployment goes batch by batch
// (HalfAtATime on four targets: two, then two), each batch's targets run
// the new revision once done, and a stop leaves the fleet split.
func TestFakeBatches(t *testing.T) {
	clk := &clock{now: time.Unix(1_700_000_000, 0).UTC()}
	f := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: time.Second})
	f.AddGroup(codedeployfake.Group{Application: "a", Name: "g", Targets: []string{"i-1", "i-2", "i-3", "i-4"},
		Batches: true, Current: s3("v0.zip")})
	ctx := context.Background()
	out, err := f.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("a"),
		DeploymentGroupName: aws.String("g"), DeploymentConfigName: aws.String("CodeDeployDefault.HalfAtATime"), Revision: s3("v1.zip")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.DeploymentId)
	clk.Advance(time.Second + 7*time.Second) // created, then the first batch's seven events
	info, _ := f.Deployment(id)
	if o := info.DeploymentOverview; o.Succeeded != 2 || o.InProgress != 2 {
		t.Fatalf("after the first batch: %+v", o)
	}
	if got := revKeys(f); got["i-1"] != "v1.zip" || got["i-2"] != "v1.zip" || got["i-3"] != "v0.zip" {
		t.Fatalf("revisions %v", got)
	}
	if _, err := f.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	info, _ = f.Deployment(id)
	if info.Status != cdtypes.DeploymentStatusStopped || info.DeploymentOverview.Succeeded != 2 {
		t.Fatalf("after stop: %s %+v", info.Status, info.DeploymentOverview)
	}
	if got := revKeys(f); got["i-3"] != "v0.zip" || got["i-1"] != "v1.zip" {
		t.Fatalf("revisions after stop %v", got)
	}
	// A configuration the fleet can never meet fails at once.
	f.AddDeploymentConfig("custom", deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 4})
	out, err = f.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("a"),
		DeploymentGroupName: aws.String("g"), DeploymentConfigName: aws.String("custom"), Revision: s3("v2.zip")})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	info, _ = f.Deployment(aws.ToString(out.DeploymentId))
	if info.Status != cdtypes.DeploymentStatusFailed || info.ErrorInformation.Code != cdtypes.ErrorCodeHealthConstraintsInvalid {
		t.Fatalf("impossible config: %s %+v", info.Status, info.ErrorInformation)
	}
}

// TestFakeConfigsAndOnPremises covers the configuration calls and
// ListOnPremisesInstances.
func TestFakeConfigsAndOnPremises(t *testing.T) {
	f := codedeployfake.New(codedeployfake.Options{})
	ctx := context.Background()
	got, err := f.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String("CodeDeployDefault.HalfAtATime")})
	if err != nil || got.DeploymentConfigInfo.MinimumHealthyHosts.Type != cdtypes.MinimumHealthyHostsTypeFleetPercent {
		t.Fatalf("HalfAtATime: %+v, %v", got, err)
	}
	var missing *cdtypes.DeploymentConfigDoesNotExistException
	if _, err := f.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String("x")}); !errors.As(err, &missing) {
		t.Fatalf("missing config: %v", err)
	}
	in := &codedeploy.CreateDeploymentConfigInput{DeploymentConfigName: aws.String("x"),
		MinimumHealthyHosts: &cdtypes.MinimumHealthyHosts{Type: cdtypes.MinimumHealthyHostsTypeHostCount, Value: 2}}
	if _, err := f.CreateDeploymentConfig(ctx, in); err != nil {
		t.Fatal(err)
	}
	var exists *cdtypes.DeploymentConfigAlreadyExistsException
	if _, err := f.CreateDeploymentConfig(ctx, in); !errors.As(err, &exists) {
		t.Fatalf("second create: %v", err)
	}
	f.AddOnPremisesInstance("h1", map[string]string{"Role": "web"})
	f.AddOnPremisesInstance("h2", map[string]string{"Role": "db"})
	f.AddOnPremisesInstance("h3", map[string]string{"Env": "web"})
	for _, tc := range []struct {
		tf   cdtypes.TagFilter
		want string
	}{
		{cdtypes.TagFilter{Key: aws.String("Role"), Value: aws.String("web"), Type: cdtypes.TagFilterTypeKeyAndValue}, "[h1]"},
		{cdtypes.TagFilter{Key: aws.String("Role"), Type: cdtypes.TagFilterTypeKeyOnly}, "[h1 h2]"},
		{cdtypes.TagFilter{Value: aws.String("web"), Type: cdtypes.TagFilterTypeValueOnly}, "[h1 h3]"},
	} {
		out, err := f.ListOnPremisesInstances(ctx, &codedeploy.ListOnPremisesInstancesInput{TagFilters: []cdtypes.TagFilter{tc.tf}})
		if err != nil || fmt.Sprint(out.InstanceNames) != tc.want {
			t.Errorf("%+v: %v, %v; want %s", tc.tf, out.InstanceNames, err, tc.want)
		}
	}
	if f.Mutations() != 2 {
		t.Errorf("mutations = %d, want 2 (the two CreateDeploymentConfig calls)", f.Mutations())
	}
}
