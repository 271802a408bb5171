package ec2_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ec2/ec2fake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// A dry run resolves the instances a deployment group's tags select and
// says how the deployment would go through them. Here five instances are
// tagged Env=prod and the strategy keeps three healthy: two batches of two
// and one of one. With the real clients use ec2.NewFromConfig.
func Example_plan() {
	clk := deploytest.NewClock(deploytest.Epoch())
	cd := codedeployfake.New(codedeployfake.Options{Clock: clk})
	ec := ec2fake.New()
	var ids []string
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("i-%d", i)
		ids = append(ids, id)
		ec.AddInstance(ec2fake.Instance{ID: id, Tags: map[string]string{"Env": "prod"}})
	}
	cd.AddGroup(codedeployfake.Group{Application: "shop", Name: "web", Targets: ids,
		EC2TagFilters: []cdtypes.EC2TagFilter{{Key: aws.String("Env"), Value: aws.String("prod"), Type: cdtypes.EC2TagFilterTypeKeyAndValue}}})
	drv := ec2.New(cd, ec2.Options{Clock: clk, EC2: ec})
	eng := deploy.New(drv, deploy.Options{Clock: clk})
	s3, err := ec2.ParseS3URL("s3://releases/web/v2.zip?versionId=3", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := eng.Plan(context.Background(), deploy.Request{
		Target:   ec2.Target("shop", "web"),
		Strategy: deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.HostCount, Value: 3}),
		Options:  &ec2.DeployOptions{S3: &s3},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.To.ID)
	fmt.Println(p.Batches.Instances, "instances in batches of", p.Batches.Batches)
	fmt.Println(p.Changes[0].Path, p.Changes[0].New)
	// Output:
	// s3://releases/web/v2.zip?versionId=3
	// 5 instances in batches of [2 2 1]
	// codedeploy.deploymentConfig Switchyard.HOST_COUNT.3 (HOST_COUNT:3)
}
