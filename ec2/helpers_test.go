package ec2_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ec2/ec2fake"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// env is a driver over an in-memory CodeDeploy with application "app":
// group "web" (in place, batches by minimum healthy hosts, instances
// i-1..i-N tagged Env=prod, OneAtATime) and group "bg" (blue/green,
// waiting in Ready before rerouting, instances tagged Env=bg). Both run
// s3://bucket/app-0.zip, put there by a deployment that succeeded.
type env struct {
	cd    *codedeployfake.Fake
	ec2   *ec2fake.Client
	clock *deploytest.Clock
	drv   *ec2.Driver
	eng   *deploy.Engine
	tgt   deploy.Target
	n     atomic.Int64
}

func newEnv(t testing.TB, instances int) *env {
	t.Helper()
	clk := deploytest.NewClock(deploytest.Epoch())
	cd := codedeployfake.New(codedeployfake.Options{Clock: clk})
	ef := ec2fake.New()
	var web, bg []string
	for i := 1; i <= instances; i++ {
		id := fmt.Sprintf("i-%03d", i)
		web = append(web, id)
		ef.AddInstance(ec2fake.Instance{ID: id, Tags: map[string]string{"Env": "prod", "Role": "web"}})
	}
	ef.AddInstance(ec2fake.Instance{ID: "i-dev", Tags: map[string]string{"Env": "dev", "Role": "web"}})
	ef.AddInstance(ec2fake.Instance{ID: "i-stopped", Tags: map[string]string{"Env": "prod"}, State: "stopped"})
	for i := 1; i <= 2; i++ {
		id := fmt.Sprintf("i-bg%d", i)
		bg = append(bg, id)
		ef.AddInstance(ec2fake.Instance{ID: id, Tags: map[string]string{"Env": "bg"}})
	}
	cd.AddGroup(codedeployfake.Group{Application: "app", Name: "web", Targets: web, Batches: true,
		DeploymentConfigName: "CodeDeployDefault.OneAtATime",
		EC2TagFilters:        []cdtypes.EC2TagFilter{{Key: aws.String("Env"), Value: aws.String("prod"), Type: cdtypes.EC2TagFilterTypeKeyAndValue}}})
	cd.AddGroup(codedeployfake.Group{Application: "app", Name: "bg", Targets: bg,
		Events: codedeployfake.ServerBlueGreenEvents(), ReadyBefore: "BeforeAllowTraffic",
		DeploymentStyle: &cdtypes.DeploymentStyle{DeploymentType: cdtypes.DeploymentTypeBlueGreen,
			DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl},
		BlueGreen: &cdtypes.BlueGreenDeploymentConfiguration{
			DeploymentReadyOption:                     &cdtypes.DeploymentReadyOption{ActionOnTimeout: cdtypes.DeploymentReadyActionStopDeployment},
			TerminateBlueInstancesOnDeploymentSuccess: &cdtypes.BlueInstanceTerminationOption{Action: cdtypes.InstanceActionKeepAlive}},
		EC2TagFilters: []cdtypes.EC2TagFilter{{Key: aws.String("Env"), Value: aws.String("bg"), Type: cdtypes.EC2TagFilterTypeKeyAndValue}}})
	for _, g := range []string{"web", "bg"} {
		seed(t, cd, clk, g)
	}
	drv := ec2.New(cd, ec2.Options{Clock: clk, EC2: ef, AutoScaling: ef})
	return &env{cd: cd, ec2: ef, clock: clk, drv: drv, eng: deploy.New(drv, deploy.Options{Clock: clk}), tgt: ec2.Target("app", "web")}
}

// seed deploys s3://bucket/app-0.zip to group g and runs it to the end
// (continuing it when it waits in Ready).
func seed(t testing.TB, cd *codedeployfake.Fake, clk *deploytest.Clock, g string) {
	t.Helper()
	out, err := cd.CreateDeployment(context.Background(), &codedeploy.CreateDeploymentInput{
		ApplicationName: aws.String("app"), DeploymentGroupName: aws.String(g),
		DeploymentConfigName: aws.String("CodeDeployDefault.AllAtOnce"),
		Revision:             s3Loc("app-0.zip")})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		clk.Advance(time.Minute)
		info, _ := cd.Deployment(*out.DeploymentId)
		switch info.Status {
		case cdtypes.DeploymentStatusSucceeded:
			return
		case cdtypes.DeploymentStatusReady:
			if _, err := cd.ContinueDeployment(context.Background(), &codedeploy.ContinueDeploymentInput{DeploymentId: out.DeploymentId}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatalf("seed deployment of %s never succeeded", g)
}

func s3Loc(key string) *cdtypes.RevisionLocation {
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
		S3Location: &cdtypes.S3Location{Bucket: aws.String("bucket"), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip}}
}

// initialID is the revision ID of the seed revision.
var initialID = platform.RevisionFromLocation(s3Loc("app-0.zip")).ID

// nextS3 returns options for a new S3 bundle.
func (e *env) nextS3() *ec2.DeployOptions {
	return &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "bucket", Key: fmt.Sprintf("app-%d.zip", e.n.Add(1))}}
}

// serving reads what each instance of group g runs, from the fake, as
// revision ID -> percent of the fleet.
func (e *env) serving(g string) map[string]float64 {
	revs := e.cd.InstanceRevisions("app", g)
	out := map[string]float64{}
	for _, loc := range revs {
		out[platform.RevisionFromLocation(loc).ID] += 100 / float64(len(revs))
	}
	return out
}

// run deploys req on the engine with the clock in auto mode.
func (e *env) run(t testing.TB, req deploy.Request) (*deploy.Deployment, error) {
	t.Helper()
	e.clock.SetAuto(true)
	defer e.clock.SetAuto(false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return e.eng.Deploy(ctx, req)
}

func oneAtATime(t testing.TB) deploy.Strategy {
	t.Helper()
	s, err := deploy.ParseStrategy("CodeDeployDefault.OneAtATime")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
