package opsworks

import (
	"context"

	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
)

// API is the part of the OpsWorks Stacks API the driver uses.
// *opsworks.Client from aws-sdk-go-v2 satisfies it; opsworksfake.Fake is an
// in-memory stand-in.
//
// The read-only calls are DescribeStacks, DescribeApps, DescribeInstances,
// DescribeLayers, DescribeDeployments and DescribeCommands; the mutating ones are UpdateApp and
// CreateDeployment. Prepare (the dry run) makes only read-only calls.
type API interface {
	DescribeStacks(ctx context.Context, in *awsopsworks.DescribeStacksInput, optFns ...func(*awsopsworks.Options)) (*awsopsworks.DescribeStacksOutput, error)
	DescribeApps(ctx context.Context, in *awsopsworks.DescribeAppsInput, optFns ...func(*awsopsworks.Options)) (*awsopsworks.DescribeAppsOutput, error)
	DescribeInstances(ctx context.Context, in *awsopsworks.DescribeInstancesInput, optFns ...func(*awsopsworks.Options)) (*awsopsworks.DescribeInstancesOutput, error)
	DescribeLayers(ctx context.Context, in *awsopsworks.DescribeLayersInput, optFns ...func(*awsopsworks.Options)) (*awsopsworks.DescribeLayersOutput, error)
	DescribeDeployments(ctx context.Context, in *awsopsworks.DescribeDeploymentsInput, optFns ...func(*awsopsworks.Options)) (*awsopsworks.DescribeDeploymentsOutput, error)
	DescribeCommands(ctx context.Context, in *awsopsworks.DescribeCommandsInput, optFns ...func(*awsopsworks.Options)) (*awsopsworks.DescribeCommandsOutput, error)
	UpdateApp(ctx context.Context, in *awsopsworks.UpdateAppInput, optFns ...func(*awsopsworks.Options)) (*awsopsworks.UpdateAppOutput, error)
	CreateDeployment(ctx context.Context, in *awsopsworks.CreateDeploymentInput, optFns ...func(*awsopsworks.Options)) (*awsopsworks.CreateDeploymentOutput, error)
}

var _ API = (*awsopsworks.Client)(nil)
