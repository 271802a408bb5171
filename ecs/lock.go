package ecs

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

// liveStatuses are the service deployment statuses of a deployment that
// has not ended.
var liveStatuses = []types.ServiceDeploymentStatus{
	types.ServiceDeploymentStatusPending, types.ServiceDeploymentStatusInProgress,
	types.ServiceDeploymentStatusStopRequested, types.ServiceDeploymentStatusRollbackRequested,
	types.ServiceDeploymentStatusRollbackInProgress,
}

func isLive(s types.ServiceDeploymentStatus) bool {
	for _, l := range liveStatuses {
		if s == l {
			return true
		}
	}
	return false
}

// checkLock refuses, with an error wrapping deploy.ErrLocked, a new
// deployment of the service while another one is live. With svc (the
// service as Prepare read it) it also refuses one while the service's
// newest deployment was stopped part way (it runs two task definitions),
// unless rollbackOf is set: that request is the repair.
//
// Where the service-deployments API exists it asks ListServiceDeployments
// for live deployments (and DescribeServiceDeployments about a stopped
// one); where it does not, a PRIMARY deployment IN_PROGRESS beside an older
// one is live (svc, or DescribeServices when svc is nil). Every call is
// read-only.
func (d *Driver) checkLock(ctx context.Context, cluster, service string, svc *types.Service, rollbackOf string) error {
	if !d.noSD.Load() {
		out, err := d.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
			Cluster: aws.String(cluster), Service: aws.String(service), Status: liveStatuses}, probeOnce)
		switch {
		case err == nil:
			for _, b := range out.ServiceDeployments {
				if isLive(b.Status) {
					return fmt.Errorf("%w: service %s/%s has deployment %s in progress (%s); wait for it to end or stop it",
						deploy.ErrLocked, cluster, service, aws.ToString(b.ServiceDeploymentArn), b.Status)
				}
			}
			if svc == nil || rollbackOf != "" {
				return nil
			}
			return d.stoppedPartWay(ctx, cluster, service, svc)
		case isUnavailable(err):
			d.noSD.Store(true)
		default:
			return err
		}
	}
	if svc == nil {
		s, err := d.describeService(ctx, cluster, service)
		if err != nil {
			return err
		}
		if s == nil {
			return fmt.Errorf("%w: service %s in cluster %s", deploy.ErrNotFound, service, cluster)
		}
		svc = s
	}
	// A rollout in progress replaces the tasks of an older deployment, so
	// it runs beside one (ACTIVE or DRAINING). A lone PRIMARY still
	// IN_PROGRESS is a service being created or scaled, and emulators
	// such as moto leave every PRIMARY IN_PROGRESS forever: neither holds
	// the service.
	if p := primaryOf(svc); p != nil && p.RolloutState == types.DeploymentRolloutStateInProgress && len(svc.Deployments) > 1 {
		return fmt.Errorf("%w: service %s/%s has deployment %s of %s in progress; wait for it to end or stop it",
			deploy.ErrLocked, cluster, service, aws.ToString(p.Id), labelOf(aws.ToString(p.TaskDefinition)))
	}
	return nil
}

// stoppedPartWay refuses a deployment while the service's newest service
// deployment ended STOPPED (not for a failure) with two task definitions
// still running.
func (d *Driver) stoppedPartWay(ctx context.Context, cluster, service string, svc *types.Service) error {
	arn := aws.ToString(svc.CurrentServiceDeployment)
	if arn == "" || len(svc.Deployments) < 2 {
		return nil
	}
	sd, err := d.describeServiceDeployment(ctx, arn)
	if errors.Is(err, deploy.ErrNotFound) {
		return nil // ECS no longer describes it: nothing is held.
	}
	if err != nil || sd.Status != types.ServiceDeploymentStatusStopped {
		return err
	}
	if v := judgeServiceDeployment(sd, svc, "", "", WaitStable); v.status != deploy.StatusStopped {
		return nil
	}
	return fmt.Errorf("%w: deployment %s of service %s/%s was stopped part way and the service runs two task definitions; "+
		"return it to the one it ran before with deploy.Engine.Rollback", deploy.ErrLocked, arn, cluster, service)
}
