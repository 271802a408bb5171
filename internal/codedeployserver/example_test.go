package codedeployserver_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// The real CodeDeploy client talks to the fake over HTTP: a deployment
// moves on the fake's clock, and CodeDeploy's errors arrive as the SDK's
// exception types.
func ExampleNew() {
	clock := deploytest.NewClock(time.Time{})
	fake := codedeployfake.New(codedeployfake.Options{Clock: clock})
	fake.AddGroup(codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1", "i-2"}})
	s := codedeployserver.New(fake)
	defer s.Close()
	client := s.Client()

	ctx := context.Background()
	in := &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
			S3Location: &cdtypes.S3Location{Bucket: aws.String("releases"), Key: aws.String("web-2.zip"), BundleType: cdtypes.BundleTypeZip}}}
	created, err := client.CreateDeployment(ctx, in)
	if err != nil {
		panic(err)
	}
	_, err = client.CreateDeployment(ctx, in)
	var busy *cdtypes.DeploymentLimitExceededException
	fmt.Println("second deployment refused:", errors.As(err, &busy))

	for _, wait := range []time.Duration{0, 3 * time.Second, time.Minute} {
		clock.Advance(wait)
		out, err := client.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: created.DeploymentId})
		if err != nil {
			panic(err)
		}
		o := out.DeploymentInfo.DeploymentOverview
		fmt.Printf("%s %s: %d in progress, %d succeeded\n", aws.ToString(created.DeploymentId),
			out.DeploymentInfo.Status, o.InProgress, o.Succeeded)
	}
	// Output:
	// second deployment refused: true
	// d-1 Created: 0 in progress, 0 succeeded
	// d-1 InProgress: 2 in progress, 0 succeeded
	// d-1 Succeeded: 0 in progress, 2 succeeded
}
