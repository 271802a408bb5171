package ecs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

// CodeDeployAPI is the part of the CodeDeploy API used for services with
// the CODE_DEPLOY deployment controller.
type CodeDeployAPI interface{}

type codeDeployPlan struct{}

func newCodeDeployClient(cfg aws.Config) CodeDeployAPI { return nil }

func isCodeDeploy(svc *types.Service) bool {
	return svc.DeploymentController != nil && svc.DeploymentController.Type == types.DeploymentControllerTypeCodeDeploy
}

func (d *Driver) prepareCodeDeploy(ctx context.Context, pl *plan, out *deploy.Plan, svc *types.Service, req deploy.Request) (*deploy.Plan, error) {
	return nil, fmt.Errorf("%w: CODE_DEPLOY controller", deploy.ErrUnsupported)
}

func (d *Driver) startCodeDeploy(ctx context.Context, p *deploy.Plan, pl *plan) (*deploy.Deployment, error) {
	return nil, fmt.Errorf("%w: CODE_DEPLOY controller", deploy.ErrUnsupported)
}

func (d *Driver) codeDeployStatus(ctx context.Context, dep *deploy.Deployment, det *deployment) (*deploy.Deployment, error) {
	return nil, fmt.Errorf("%w: CODE_DEPLOY controller", deploy.ErrUnsupported)
}

func (d *Driver) stopCodeDeploy(ctx context.Context, dep *deploy.Deployment, det *deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	return "", fmt.Errorf("%w: CODE_DEPLOY controller", deploy.ErrUnsupported)
}

func (d *Driver) continueCodeDeploy(ctx context.Context, dep *deploy.Deployment, det *deployment) error {
	return fmt.Errorf("%w: CODE_DEPLOY controller", deploy.ErrUnsupported)
}
