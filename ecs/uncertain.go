package ecs

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

// A mutating call whose answer was lost (platform.Uncertain) may have been
// carried out. Before reporting it, the driver reads ECS back: when ECS
// shows the change, it carries on as if the call had answered and says so
// in a note; when ECS does not, its error says the outcome was unknown and
// what the read showed (see Uncertain outcomes on deploy.Driver).

// lost is the error of a mutating call whose answer was lost and whose
// change the read-back did not show.
func lost(op string, err error, shows string) error {
	return fmt.Errorf("%s: the outcome is unknown (the answer was lost: %w); read back, ECS shows %s: the call was not applied, or not yet", op, err, shows)
}

// readBackUpdate reads the service after an UpdateService whose answer
// was lost and returns it when ECS took the update: the service runs
// taskDef, a task definition it did not run before, or a new PRIMARY
// deployment of taskDef replaced the one it had (a forced deployment), or,
// where no new deployment was asked, its desired count is the one sent.
func (d *Driver) readBackUpdate(ctx context.Context, pl *plan, taskDef string, cause error) (*types.Service, error) {
	svc, err := d.describeService(ctx, pl.cluster, pl.service)
	if err != nil {
		return nil, fmt.Errorf("UpdateService: the outcome is unknown (the answer was lost: %w), and reading the service back failed: %w", cause, err)
	}
	if svc == nil {
		return nil, lost("UpdateService", cause, "no service "+pl.service)
	}
	desiredOK := pl.desired == nil || svc.DesiredCount == *pl.desired
	primary := primaryOf(svc)
	runs := aws.ToString(svc.TaskDefinition)
	newDeployment := primary != nil && aws.ToString(primary.TaskDefinition) == taskDef && aws.ToString(primary.Id) != pl.fromPrimary
	noDeployment := taskDef == pl.fromTaskDef && !pl.opts.ForceNewDeployment
	var why string
	switch {
	case runs == taskDef && taskDef != pl.fromTaskDef && desiredOK:
		why = "the service runs " + labelOf(taskDef)
	case newDeployment && desiredOK:
		why = "its PRIMARY deployment " + aws.ToString(primary.Id) + " runs " + labelOf(taskDef)
	case noDeployment && pl.desired != nil && *pl.desired != pl.fromDesired && svc.DesiredCount == *pl.desired:
		why = "the service's desired count is " + strconv.Itoa(int(svc.DesiredCount))
	default:
		shows := "service " + pl.service + " on " + labelOf(runs) + " with desired count " + strconv.Itoa(int(svc.DesiredCount))
		if primary != nil {
			shows += " (PRIMARY deployment " + aws.ToString(primary.Id) + ")"
		}
		return nil, lost("UpdateService", cause, shows)
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("UpdateService's answer was lost (%v); read back, %s: ECS took the update", cause, why))
	return svc, nil
}

// readBackCreate reads the service after a CreateService whose answer was
// lost and returns it when ECS created it on taskDef.
func (d *Driver) readBackCreate(ctx context.Context, pl *plan, taskDef string, cause error) (*types.Service, error) {
	svc, err := d.describeService(ctx, pl.cluster, pl.service)
	if err != nil {
		return nil, fmt.Errorf("CreateService: the outcome is unknown (the answer was lost: %w), and reading the service back failed: %w", cause, err)
	}
	if svc == nil || aws.ToString(svc.TaskDefinition) != taskDef {
		shows := "no service " + pl.service
		if svc != nil {
			shows = "service " + pl.service + " on " + labelOf(aws.ToString(svc.TaskDefinition))
		}
		return nil, lost("CreateService", cause, shows)
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("CreateService's answer was lost (%v); read back, service %s exists on %s: ECS created it",
		cause, pl.service, labelOf(taskDef)))
	return svc, nil
}

// readBackRegister reads the family's latest revision after a
// RegisterTaskDefinition whose answer was lost, and adopts it when it is
// what was sent (every value sent, tags included, is there as sent; values
// ECS fills in do not count) and not the revision the service ran already; otherwise it reports the outcome unknown. So a
// lost answer never registers the same revision twice.
func (d *Driver) readBackRegister(ctx context.Context, pl *plan, cause error) (string, error) {
	family := aws.ToString(pl.register.Family)
	td, tags, err := d.describeTaskDefinition(ctx, family)
	if err != nil {
		return "", fmt.Errorf("RegisterTaskDefinition: the outcome is unknown (the answer was lost: %w), and reading family %s back failed: %w", cause, family, err)
	}
	arn := ""
	if td != nil {
		arn = aws.ToString(td.TaskDefinitionArn)
	}
	switch {
	case td == nil:
		return "", lost("RegisterTaskDefinition", cause, "no revision of family "+family)
	case arn == pl.fromTaskDef || arn == "":
		return "", lost("RegisterTaskDefinition", cause, "the latest revision of "+family+" is "+labelOf(arn)+", which the service already ran")
	}
	// What was sent must be there as sent; what ECS fills in (defaults
	// such as networkMode, the attributes it adds) is not a difference.
	got, sent := flatten("taskDefinition", registerInputOf(td, tags)), flatten("taskDefinition", pl.register)
	dropTaskDefinitionDefaults(got)
	dropTaskDefinitionDefaults(sent)
	if changes := diffMaps(got, sent, false); len(changes) > 0 {
		return "", lost("RegisterTaskDefinition", cause, fmt.Sprintf("the latest revision of %s is %s, which differs from the one sent (%s)",
			family, labelOf(arn), changes[0].Path))
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("RegisterTaskDefinition's answer was lost (%v); read back, %s is the task definition sent: adopting it rather than registering it again",
		cause, labelOf(arn)))
	return arn, nil
}

// readBackDeregistered reports whether a task definition whose
// deregistration lost its answer is INACTIVE, saying so in a note.
func (d *Driver) readBackDeregistered(ctx context.Context, arn string, cause error) bool {
	out, err := d.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	if err != nil || out.TaskDefinition == nil || out.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
		return false
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("DeregisterTaskDefinition's answer was lost (%v); read back, %s is INACTIVE: ECS deregistered it",
		cause, labelOf(arn)))
	return true
}
