package ecs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// ECSAPI is the part of the ECS API the driver uses. *ecs.Client satisfies
// it; tests use an in-memory fake (package ecsfake).
//
// The mutating calls are RegisterTaskDefinition, DeregisterTaskDefinition,
// CreateService, UpdateService, StopServiceDeployment and
// ContinueServiceDeployment; Prepare (the dry run) makes none of them.
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	CreateService(ctx context.Context, in *ecs.CreateServiceInput, optFns ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	DeregisterTaskDefinition(ctx context.Context, in *ecs.DeregisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
	StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error)
	ContinueServiceDeployment(ctx context.Context, in *ecs.ContinueServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.ContinueServiceDeploymentOutput, error)
}

// AutoScalingAPI is the part of the Application Auto Scaling API the driver
// uses to suspend and resume a service's scaling. *applicationautoscaling.Client
// satisfies it. RegisterScalableTarget is the only mutating call.
type AutoScalingAPI interface {
	DescribeScalableTargets(ctx context.Context, in *applicationautoscaling.DescribeScalableTargetsInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalableTargetsOutput, error)
	RegisterScalableTarget(ctx context.Context, in *applicationautoscaling.RegisterScalableTargetInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.RegisterScalableTargetOutput, error)
}

var (
	_ ECSAPI         = (*ecs.Client)(nil)
	_ AutoScalingAPI = (*applicationautoscaling.Client)(nil)
)
