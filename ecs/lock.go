package ecs

import (
	"context"
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
// deployment of svc while another one is live, and while the newest one
// was stopped part way (the service runs two task definitions) unless
// rollbackOf is set: that request is the repair. It makes read-only calls:
// ListServiceDeployments (and DescribeServiceDeployments for a stopped
// one) where the service-deployments API exists, nothing more than svc
// where it does not (a PRIMARY deployment IN_PROGRESS is live).
//
// svc may be nil: the service is then described only when needed.
func (d *Driver) checkLock(ctx context.Context, cluster, service string, svc *types.Service, rollbackOf string) error {
	describe := func() (*types.Service, error) {
		if svc != nil {
			return svc, nil
		}
		s, err := d.describeService(ctx, cluster, service)
		if err == nil && s == nil {
			err = fmt.Errorf("%w: service %s in cluster %s", deploy.ErrNotFound, service, cluster)
		}
		svc = s
		return s, err
	}
	if !d.noSD.Load() {
		out, err := d.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
			Cluster: aws.String(cluster), Service: aws.String(service)}, probeOnce)
		switch {
		case err == nil:
			return d.lockedBy(ctx, cluster, service, describe, out.ServiceDeployments, rollbackOf)
		case isUnavailable(err):
			d.noSD.Store(true)
		default:
			return err
		}
	}
	if _, err := describe(); err != nil {
		return err
	}
	if p := primaryOf(svc); p != nil && p.RolloutState == types.DeploymentRolloutStateInProgress {
		return fmt.Errorf("%w: service %s/%s has deployment %s of %s in progress; wait for it to end or stop it",
			deploy.ErrLocked, cluster, service, aws.ToString(p.Id), labelOf(aws.ToString(p.TaskDefinition)))
	}
	return nil
}

func (d *Driver) lockedBy(ctx context.Context, cluster, service string, describe func() (*types.Service, error),
	briefs []types.ServiceDeploymentBrief, rollbackOf string) error {
	var newest *types.ServiceDeploymentBrief
	for i := range briefs {
		b := &briefs[i]
		if isLive(b.Status) {
			return fmt.Errorf("%w: service %s/%s has deployment %s in progress (%s); wait for it to end or stop it",
				deploy.ErrLocked, cluster, service, aws.ToString(b.ServiceDeploymentArn), b.Status)
		}
		if newest == nil || aws.ToTime(b.CreatedAt).After(aws.ToTime(newest.CreatedAt)) {
			newest = b
		}
	}
	if rollbackOf != "" || newest == nil || newest.Status != types.ServiceDeploymentStatusStopped {
		return nil
	}
	svc, err := describe()
	if err != nil || len(svc.Deployments) < 2 {
		return err
	}
	// The newest deployment ended STOPPED with two task definitions
	// running: stopped part way, unless ECS stopped it for a failure.
	sd, err := d.describeServiceDeployment(ctx, aws.ToString(newest.ServiceDeploymentArn))
	if err != nil {
		return err
	}
	if v := judgeServiceDeployment(sd, svc, "", "", WaitStable); v.status != deploy.StatusStopped {
		return nil
	}
	return fmt.Errorf("%w: deployment %s of service %s/%s was stopped part way and the service runs two task definitions; "+
		"return it to the one it ran before with deploy.Engine.Rollback", deploy.ErrLocked, aws.ToString(newest.ServiceDeploymentArn), cluster, service)
}
