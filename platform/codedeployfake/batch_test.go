package codedeployfake_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// TestBatchGetDeploymentsLimits checks the limits the CodeDeploy API
// reference gives BatchGetDeployments: at most 25 IDs
// (BatchLimitExceededException beyond), at least one
// (DeploymentIdRequiredException), records in the order asked, unknown IDs
// left out.
func TestBatchGetDeploymentsLimits(t *testing.T) {
	ctx := context.Background()
	f := codedeployfake.New(codedeployfake.Options{Clock: &clock{}})
	var ids []string
	for i := range 26 {
		g := fmt.Sprintf("g%02d", i)
		f.AddGroup(codedeployfake.Group{Application: "app", Name: g})
		out, err := f.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"),
			DeploymentGroupName: aws.String(g), Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
				S3Location: &cdtypes.S3Location{Bucket: aws.String("b"), Key: aws.String("k.zip"), BundleType: cdtypes.BundleTypeZip}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.DeploymentId))
	}
	var limit *cdtypes.BatchLimitExceededException
	if _, err := f.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: ids}); !errors.As(err, &limit) {
		t.Fatalf("26 IDs: %v, want BatchLimitExceededException", err)
	}
	var required *cdtypes.DeploymentIdRequiredException
	if _, err := f.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{}); !errors.As(err, &required) {
		t.Fatalf("no IDs: %v, want DeploymentIdRequiredException", err)
	}
	asked := append([]string{ids[24], "d-unknown"}, ids[:23]...)
	out, err := f.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: asked})
	if err != nil {
		t.Fatalf("25 IDs: %v", err)
	}
	if len(out.DeploymentsInfo) != 24 || aws.ToString(out.DeploymentsInfo[0].DeploymentId) != ids[24] ||
		aws.ToString(out.DeploymentsInfo[1].DeploymentId) != ids[0] {
		t.Fatalf("25 IDs, one unknown: %d records", len(out.DeploymentsInfo))
	}
}
