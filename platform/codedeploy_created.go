package platform

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	"github.com/switchyard/switchyard/deploy"
)

// Live lists the IDs of the deployments of application/group that have not
// ended (ListDeployments with the statuses Created, Queued, InProgress,
// Baking and Ready; one page, enough to tell whether there is any). It
// changes nothing. A driver calls it just before Create, so that the group
// is known to have had no live deployment when CreatedAnyway looks for the
// one a failed Create made. Empty names give an error wrapping
// deploy.ErrInvalidRequest; AWS errors are wrapped with Wrap.
func (c *CodeDeploy) Live(ctx context.Context, application, group string) ([]string, error) {
	if application == "" || group == "" {
		return nil, deploy.Invalid("deploymentGroup", application+"/"+group, "must name the application and deployment group")
	}
	out, err := c.api.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(application),
		DeploymentGroupName: aws.String(group), IncludeOnlyStatuses: liveStatuses})
	if err != nil {
		return nil, Wrap(c.opts.Platform, "ListDeployments", application+"/"+group, err)
	}
	return out.Deployments, nil
}

// CreatedAnyway decides what a Create(ctx, in) that failed with err leaves
// the caller to follow. CreateDeployment takes no idempotency token, and a
// call can fail after it took effect: its answer was lost or could not be
// read (Uncertain), or the SDK sent it again after such an attempt and
// CodeDeploy refused the second with DeploymentLimitExceededException
// because the first had created the deployment, or the SDK's last attempt
// failed otherwise (throttled, say) after an earlier one took effect.
// CreatedAnyway therefore looks (Created) after every failure but those no
// attempt can have passed: bad input (deploy.ErrInvalidRequest), a missing
// application or group (deploy.ErrNotFound), and a context that is done,
// which it returns as they are.
//
// When the lookup finds the deployment, CreatedAnyway returns its ID and a
// nil error, and says so in a note (deploy.NotifierFrom): the caller must
// then carry on as if Create had answered with that ID, so the deployment
// is followed to its end rather than left running unseen behind an error.
// When it finds none, it returns err: for an uncertain err, wrapped in an
// error that says the outcome was unknown and what the read showed. When
// the lookup fails, it returns err joined with the lookup's failure.
//
// As for Created, the caller must have seen no live deployment on the group
// just before its Create call (Live), or CreatedAnyway may return one that
// another caller started. err must not be nil.
func (c *CodeDeploy) CreatedAnyway(ctx context.Context, in *codedeploy.CreateDeploymentInput, err error) (string, error) {
	if err == nil {
		return "", &deploy.Error{Platform: c.opts.Platform, Op: "CreateDeployment",
			Err: errors.New("CreatedAnyway called without a failure")}
	}
	if errors.Is(err, deploy.ErrInvalidRequest) || errors.Is(err, deploy.ErrNotFound) || ctx.Err() != nil {
		return "", err
	}
	id, ferr := c.Created(ctx, in)
	switch {
	case ferr != nil:
		return "", errors.Join(err, fmt.Errorf("CodeDeploy may have created the deployment all the same: looking for it failed: %w", ferr))
	case id == "" && Uncertain(err):
		return "", fmt.Errorf("CreateDeployment: the outcome is unknown (the answer was lost: %w); read back, deployment group %s/%s has no live deployment of %s: the call was not applied, or CodeDeploy does not list it yet",
			err, aws.ToString(in.ApplicationName), aws.ToString(in.DeploymentGroupName), RevisionFromLocation(in.Revision).Label)
	case id == "":
		return "", err
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("CreateDeployment failed (%v), but CodeDeploy created deployment %s: following it", err, id))
	return id, nil
}
