package ec2

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Platform is the driver's Platform() value.
const Platform = "ec2"

// CodeDeployAPI is the part of the CodeDeploy API the driver uses: the
// tracker's calls, deployment group and configuration reads, on-premises
// instance listing, and the two creations Start may make (a custom
// deployment configuration, a deployment group from DeployOptions).
// *codedeploy.Client satisfies it, and so does codedeployfake.Fake.
type CodeDeployAPI interface {
	platform.CodeDeployAPI
	GetDeploymentGroup(ctx context.Context, in *codedeploy.GetDeploymentGroupInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error)
	GetDeploymentConfig(ctx context.Context, in *codedeploy.GetDeploymentConfigInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentConfigOutput, error)
	CreateDeploymentConfig(ctx context.Context, in *codedeploy.CreateDeploymentConfigInput, optFns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentConfigOutput, error)
	CreateDeploymentGroup(ctx context.Context, in *codedeploy.CreateDeploymentGroupInput, optFns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentGroupOutput, error)
	ListOnPremisesInstances(ctx context.Context, in *codedeploy.ListOnPremisesInstancesInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListOnPremisesInstancesOutput, error)
}

// EC2API is the EC2 call the driver uses to resolve tag filters.
// *ec2.Client satisfies it.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *awsec2.DescribeInstancesInput, optFns ...func(*awsec2.Options)) (*awsec2.DescribeInstancesOutput, error)
}

// AutoScalingAPI is the Auto Scaling call the driver uses to resolve Auto
// Scaling groups. *autoscaling.Client satisfies it.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

var (
	_ CodeDeployAPI  = (*codedeploy.Client)(nil)
	_ EC2API         = (*awsec2.Client)(nil)
	_ AutoScalingAPI = (*autoscaling.Client)(nil)
)

// Target returns the deployment target of a CodeDeploy deployment group:
// Name "application/group", Attrs "application" and "group".
func Target(application, group string) deploy.Target {
	return deploy.Target{Platform: Platform, Name: application + "/" + group,
		Attrs: map[string]string{"application": application, "group": group}}
}

// ParseTarget returns the application and deployment group a target
// names: its Attrs "application" and "group", or else its Name
// "application/group". Anything else is a *deploy.ValidationError.
func ParseTarget(t deploy.Target) (application, group string, err error) {
	if t.Platform != "" && t.Platform != Platform {
		return "", "", deploy.Invalid("target.platform", t.Platform, "want "+Platform)
	}
	application, group = t.Attrs["application"], t.Attrs["group"]
	if application == "" && group == "" {
		var ok bool
		application, group, ok = strings.Cut(t.Name, "/")
		if !ok {
			return "", "", deploy.Invalid("target", t.Name, "want APPLICATION/GROUP")
		}
	}
	if application == "" || group == "" || strings.Contains(group, "/") {
		return "", "", deploy.Invalid("target", t.Name, "want APPLICATION/GROUP")
	}
	return application, group, nil
}

// NewFromConfig returns a driver over the CodeDeploy, EC2 and Auto Scaling
// clients made from cfg. o.EC2 and o.AutoScaling, when set, are kept.
func NewFromConfig(cfg aws.Config, o Options) *Driver {
	if o.EC2 == nil {
		o.EC2 = awsec2.NewFromConfig(cfg)
	}
	if o.AutoScaling == nil {
		o.AutoScaling = autoscaling.NewFromConfig(cfg)
	}
	return New(platform.NewCodeDeployClient(cfg), o)
}
