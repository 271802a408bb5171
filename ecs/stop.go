package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Stop stops an in-flight deployment.
//
// With o.Rollback it returns the service to dep.From: with the
// service-deployments API through StopServiceDeployment with stop type
// ROLLBACK, without it by updating the service back to dep.From's task
// definition (once). Status then reports StatusRolledBack.
//
// Without o.Rollback it calls StopServiceDeployment with stop type ABORT:
// ECS stops the deployment where it is and Status reports StatusStopped.
// Where ECS refuses ABORT (its API reference documents ROLLBACK as the one
// valid stop type in some partitions), and where the service-deployments
// API is missing, ECS can stop a deployment only by rolling it back: Stop
// then changes nothing and returns an error wrapping deploy.ErrUnsupported
// (the engine then stops with rollback). The driver remembers a refused
// ABORT and makes no call for later stops without rollback.
//
// Stop returns StopPending until ECS reports the deployment ended, then
// StopSucceeded. A deployment that has ended changes nothing: it returns
// StopSucceeded, or an error wrapping deploy.ErrCannotStop when it
// succeeded, or when o.Rollback asks to reverse one that ended Stopped or
// Failed (deploy.Engine.Rollback does that with a new deployment).
func (d *Driver) Stop(ctx context.Context, dep *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	out, err := d.stop(ctx, dep, o)
	if err != nil {
		id := ""
		var t deploy.Target
		if dep != nil {
			id, t = dep.ID, dep.Target
		}
		return "", wrap("stop", t, id, err)
	}
	return out, nil
}

func (d *Driver) stop(ctx context.Context, dep *deploy.Deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if dep == nil || dep.ID == "" {
		return "", deploy.Invalid("deployment", "", "required")
	}
	det, _ := dep.Detail.(*deployment)
	cur, err := d.Status(ctx, dep)
	if err != nil {
		return "", err
	}
	if out, ended, err := deploy.StopEnded(cur.Status, o); ended {
		return out, err
	}
	if det != nil && det.codeDeployID != "" {
		return d.stopCodeDeploy(ctx, dep, det, o)
	}
	if det == nil {
		det = &deployment{ecsID: dep.ID}
		det.cluster, det.service, _ = parseTarget(dep.Target)
		det.taskDef = dep.To.ID
		if isServiceDeploymentARN(dep.ID) {
			det.sdARN, det.ecsID = dep.ID, ""
		}
	}
	if arn, _ := det.state(); arn != "" {
		sd, err := d.describeServiceDeployment(ctx, arn)
		if err != nil {
			return "", err
		}
		switch sd.Status {
		case types.ServiceDeploymentStatusStopRequested, types.ServiceDeploymentStatusRollbackRequested,
			types.ServiceDeploymentStatusRollbackInProgress:
			return deploy.StopPending, nil
		}
		if err := d.stopServiceDeployment(ctx, arn, o.Rollback); err != nil {
			if platform.Uncertain(err) && ctx.Err() == nil {
				// The answer was lost: ECS says whether the stop took.
				if sd, rerr := d.describeServiceDeployment(ctx, arn); rerr == nil && stopping(sd.Status) {
					deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("StopServiceDeployment's answer was lost (%v); read back, the deployment is %s: ECS took the stop",
						err, sd.Status))
					return deploy.StopPending, nil
				}
			}
			if platform.Classify(err) == platform.ClassConflict {
				// It may have ended since Status looked.
				if cur, serr := d.Status(ctx, dep); serr == nil {
					if out, ended, eerr := deploy.StopEnded(cur.Status, o); ended {
						return out, eerr
					}
				}
			}
			return "", err
		}
		return deploy.StopPending, nil
	}
	// DescribeServices only: ECS cannot freeze a rolling deployment, so
	// the one stop it has is a rollback, by redeploying the previous task
	// definition.
	if !o.Rollback {
		return "", fmt.Errorf("%w: without the ECS service-deployments API a deployment can be stopped only by rolling it back; nothing was changed",
			deploy.ErrUnsupported)
	}
	if dep.From == nil || dep.From.ID == "" {
		return "", fmt.Errorf("%w: nothing to roll back to: the service ran no earlier task definition", deploy.ErrCannotStop)
	}
	det.mu.Lock()
	started := det.rollbackStarted
	det.mu.Unlock()
	svc, err := d.describeService(ctx, det.cluster, det.service)
	if err != nil {
		return "", err
	}
	if svc == nil {
		return "", fmt.Errorf("%w: service %s", deploy.ErrNotFound, det.service)
	}
	if started || aws.ToString(svc.TaskDefinition) == dep.From.ID {
		return deploy.StopPending, nil
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	in := &ecs.UpdateServiceInput{Cluster: aws.String(det.cluster), Service: aws.String(det.service), TaskDefinition: aws.String(dep.From.ID)}
	if svc.DeploymentConfiguration != nil && svc.DeploymentConfiguration.Strategy != "" &&
		svc.DeploymentConfiguration.Strategy != types.DeploymentStrategyRolling {
		// Back all at once, as any rollback.
		dc, _, err := deploymentConfig(svc.DeploymentConfiguration, deploy.Request{Strategy: deploy.AllAtOnce(), RollbackOf: dep.ID}, DeployOptions{})
		if err != nil {
			return "", err
		}
		in.DeploymentConfiguration = dc
	}
	d.log.DebugContext(ctx, "UpdateService (stop with rollback)", "taskDefinition", dep.From.ID)
	if _, err := d.ecs.UpdateService(ctx, in); err != nil {
		if !platform.Uncertain(err) || ctx.Err() != nil {
			return "", fmt.Errorf("UpdateService: %w", err)
		}
		// The answer was lost, not necessarily the update: read back.
		svc, rerr := d.describeService(ctx, det.cluster, det.service)
		switch {
		case rerr != nil:
			return "", fmt.Errorf("UpdateService: the outcome is unknown (the answer was lost: %w), and reading the service back failed: %w", err, rerr)
		case svc == nil:
			return "", lost("UpdateService", err, "no service "+det.service)
		case aws.ToString(svc.TaskDefinition) != dep.From.ID:
			return "", lost("UpdateService", err, "service "+det.service+" on "+labelOf(aws.ToString(svc.TaskDefinition)))
		}
		deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("UpdateService's answer was lost (%v); read back, the service runs %s: ECS took the rollback",
			err, dep.From))
	}
	det.mu.Lock()
	det.rollbackStarted = true
	det.mu.Unlock()
	deploy.NotifierFrom(ctx)(deploy.EventNote, "stopping by rolling back: updated the service to "+dep.From.String())
	return deploy.StopPending, nil
}

// Continue lets a deployment paused at a PAUSE lifecycle hook (StatusReady)
// go on, with ContinueServiceDeployment and action CONTINUE. It returns an
// error wrapping deploy.ErrInvalidRequest, changing nothing, when no hook
// is waiting, and one wrapping deploy.ErrNotFound when ECS does not know
// the deployment.
func (d *Driver) Continue(ctx context.Context, dep *deploy.Deployment) error {
	if err := d.cont(ctx, dep); err != nil {
		id := ""
		var t deploy.Target
		if dep != nil {
			id, t = dep.ID, dep.Target
		}
		return wrap("continue", t, id, err)
	}
	return nil
}

func (d *Driver) cont(ctx context.Context, dep *deploy.Deployment) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dep == nil || dep.ID == "" {
		return deploy.Invalid("deployment", "", "required")
	}
	det, _ := dep.Detail.(*deployment)
	if det != nil && det.codeDeployID != "" {
		return d.continueCodeDeploy(ctx, dep, det)
	}
	arn := ""
	switch {
	case det != nil:
		arn, _ = det.state()
	case isServiceDeploymentARN(dep.ID):
		arn = dep.ID
	}
	if arn == "" {
		// Without a service deployment nothing can wait at a hook; an
		// unknown deployment is still ErrNotFound.
		if _, err := d.Status(ctx, dep); err != nil {
			return err
		}
		return deploy.Invalid("deployment", dep.ID, "not waiting at a lifecycle hook (the ECS service-deployments API is unavailable)")
	}
	sd, err := d.describeServiceDeployment(ctx, arn)
	if err != nil {
		return err
	}
	for _, h := range sd.LifecycleHookDetails {
		if h.Status == types.DeploymentLifecycleHookStatusAwaitingAction {
			if err := ctx.Err(); err != nil {
				return err
			}
			_, err := d.ecs.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{
				ServiceDeploymentArn: aws.String(arn), HookId: h.HookId, Action: types.DeploymentLifecycleHookActionContinue})
			if err != nil {
				return fmt.Errorf("ContinueServiceDeployment: %w", err)
			}
			return nil
		}
	}
	return deploy.Invalid("deployment", dep.ID, "not waiting at a lifecycle hook")
}

func (d *Driver) describeServiceDeployment(ctx context.Context, arn string) (*types.ServiceDeployment, error) {
	out, err := d.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil {
		return nil, err
	}
	if len(out.ServiceDeployments) == 0 {
		return nil, fmt.Errorf("%w: service deployment %s", deploy.ErrNotFound, arn)
	}
	return &out.ServiceDeployments[0], nil
}

// stopServiceDeployment calls StopServiceDeployment with ROLLBACK, or with
// ABORT when rollback is false. Where ECS refuses ABORT (now or before)
// it returns an error wrapping deploy.ErrUnsupported: the only stop ECS
// offers there rolls back, which was not asked for.
func (d *Driver) stopServiceDeployment(ctx context.Context, arn string, rollback bool) error {
	call := func(st types.StopServiceDeploymentStopType) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.log.DebugContext(ctx, "StopServiceDeployment", "arn", arn, "type", st)
		_, err := d.ecs.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), StopType: st})
		if err != nil {
			return fmt.Errorf("StopServiceDeployment %s: %w", st, err)
		}
		return nil
	}
	if rollback {
		return call(types.StopServiceDeploymentStopTypeRollback)
	}
	if d.noAbort.Load() {
		return fmt.Errorf("%w: ECS refuses stop type ABORT here and stops only by rolling back; nothing was changed", deploy.ErrUnsupported)
	}
	err := call(types.StopServiceDeploymentStopTypeAbort)
	if err == nil || !abortRefused(err) {
		return err
	}
	d.noAbort.Store(true)
	// The SDK error is not wrapped: its class (a validation error) would
	// make the refusal look like bad input.
	return fmt.Errorf("%w: ECS refused stop type ABORT (%s) and stops only by rolling back; nothing was changed",
		deploy.ErrUnsupported, apiMessage(err))
}

// abortRefused reports whether err is ECS refusing stop type ABORT: a
// validation error (InvalidParameterException, ClientException,
// UnsupportedFeatureException or a ValidationException code) whose message
// names ABORT or the stop type. Other errors, such as an unknown ARN or a
// deployment no longer in progress, are not.
func abortRefused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "InvalidParameterException", "ClientException", "UnsupportedFeatureException", "ValidationException":
	default:
		return false
	}
	m := strings.ToLower(ae.ErrorMessage())
	return strings.Contains(m, "abort") || strings.Contains(m, "stoptype") || strings.Contains(m, "stop type")
}

// apiMessage is the AWS error message of err, or err's text.
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != "" {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// stopping reports whether a service deployment is being stopped or
// rolled back, or has been.
func stopping(s types.ServiceDeploymentStatus) bool {
	switch s {
	case types.ServiceDeploymentStatusStopRequested, types.ServiceDeploymentStatusRollbackRequested,
		types.ServiceDeploymentStatusRollbackInProgress, types.ServiceDeploymentStatusStopped,
		types.ServiceDeploymentStatusRollbackSuccessful:
		return true
	}
	return false
}
