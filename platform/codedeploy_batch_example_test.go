package platform_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// StatusMany polls a fleet of deployments with one BatchGetDeployments per
// 25 of them; the instances of each are still read per deployment. Here 30
// groups of two instances deploy at once over the in-memory fake.
func ExampleCodeDeploy_StatusMany() {
	clock := deploytest.NewClock(time.Time{})
	fake := codedeployfake.New(codedeployfake.Options{Clock: clock, StepDuration: time.Second})
	cd := platform.NewCodeDeploy(fake, platform.CodeDeployOptions{Clock: clock, Platform: "ec2"})
	ctx := context.Background()
	var qs []platform.StatusQuery
	for i := range 30 {
		group := fmt.Sprintf("web-%02d", i)
		fake.AddGroup(codedeployfake.Group{Application: "shop", Name: group, Targets: []string{"i-1", "i-2"}})
		id, err := cd.Create(ctx, &codedeploy.CreateDeploymentInput{
			ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String(group),
			Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
				S3Location: &cdtypes.S3Location{Bucket: aws.String("releases"), Key: aws.String("shop-2.zip"), BundleType: cdtypes.BundleTypeZip}},
		})
		if err != nil {
			panic(err)
		}
		qs = append(qs, platform.StatusQuery{ID: id})
	}
	qs = append(qs, platform.StatusQuery{ID: "d-UNKNOWN"})

	clock.Advance(3 * time.Second)
	before := len(fake.Calls())
	states, errs := cd.StatusMany(ctx, qs)
	calls := map[string]int{}
	for _, c := range fake.Calls()[before:] {
		calls[c.Op]++
	}
	fmt.Println(states[0].ID, states[0].Status, len(states[0].Instances), "instances")
	fmt.Println(states[29].ID, states[29].Status)
	fmt.Println("unknown:", states[30] == nil, errs[30])
	fmt.Println("BatchGetDeployments:", calls["BatchGetDeployments"], "GetDeployment:", calls["GetDeployment"],
		"ListDeploymentTargets:", calls["ListDeploymentTargets"])
	// Output:
	// d-1 InProgress 2 instances
	// d-30 InProgress
	// unknown: true ec2 GetDeployment (deployment d-UNKNOWN): deploy: not found: DeploymentDoesNotExistException: The deployment d-UNKNOWN could not be found.
	// BatchGetDeployments: 2 GetDeployment: 1 ListDeploymentTargets: 30
}
