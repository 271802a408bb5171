package platform_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/platform"
)

// TestCodeDeployMoto drives the tracker with the real CodeDeploy client
// against moto_server: create, read back, history and a missing deployment.
// moto keeps deployments in Created, so progression is tested on the fake.
func TestCodeDeployMoto(t *testing.T) {
	s := motoserver.Start(t)
	ctx := context.Background()
	c := s.CodeDeploy()
	if _, err := c.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("shop"),
		ComputePlatform: cdtypes.ComputePlatformServer}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("shop"),
		DeploymentGroupName: aws.String("web"), ServiceRoleArn: aws.String("arn:aws:iam::123456789012:role/codedeploy")}); err != nil {
		t.Fatal(err)
	}
	cd := platform.NewCodeDeploy(c, platform.CodeDeployOptions{Platform: "ec2"})
	id, err := cd.Create(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: &cdtypes.S3Location{
			Bucket: aws.String("releases"), Key: aws.String("web/v2.zip"), BundleType: cdtypes.BundleTypeZip}},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	st, err := cd.Status(ctx, id)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.Status != deploy.StatusCreated || st.Application != "shop" || st.Group != "web" ||
		st.Revision.ID != "s3://releases/web/v2.zip" || st.CreatedAt.IsZero() || st.PreviousRevision != nil {
		t.Fatalf("Status = %+v", st)
	}
	h, err := cd.History(ctx, "shop", "web")
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(h) != 1 || h[0].DeploymentID != id || h[0].Status != deploy.StatusCreated || h[0].Current {
		t.Fatalf("History = %+v", h)
	}
	if _, err := cd.Status(ctx, "d-ABCDEFGHI"); !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("Status(unknown) = %v, want ErrNotFound", err)
	}
}
