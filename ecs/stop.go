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
)

// Stop stops an in-flight deployment. With the service-deployments API it
// calls StopServiceDeployment (stop type ROLLBACK with o.Rollback, ABORT
// without) and returns StopPending until ECS reports the deployment ended,
// then StopSucceeded. ECS's API reference lists ABORT but documents ROLLBACK
// as the one valid stop type: where ECS refuses ABORT with a validation
// error naming it, the driver stops with ROLLBACK instead, says so in a
// note event, and sends ROLLBACK directly from then on. Without that API, a stop updates the service back to
// dep.From's task definition (once), with or without o.Rollback, since a
// rolling ECS deployment cannot be frozen; a note event says so. A deployment that already ended gives
// StopSucceeded, or ErrCannotStop when it succeeded.
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
	if dep == nil || dep.ID == "" {
		return "", deploy.Invalid("deployment", "", "required")
	}
	det, _ := dep.Detail.(*deployment)
	if det != nil && det.codeDeployID != "" {
		return d.stopCodeDeploy(ctx, dep, det, o)
	}
	cur, err := d.Status(ctx, dep)
	if err != nil {
		return "", err
	}
	switch cur.Status {
	case deploy.StatusSucceeded:
		return "", fmt.Errorf("%w: the deployment already succeeded", deploy.ErrCannotStop)
	case deploy.StatusStopped, deploy.StatusRolledBack, deploy.StatusFailed:
		return deploy.StopSucceeded, nil
	}
	if det == nil {
		det = &deployment{ecsID: dep.ID}
		det.cluster, det.service, _ = parseTarget(dep.Target)
		det.taskDef = dep.To.ID
		if isServiceDeploymentARN(dep.ID) {
			det.sdARN, det.ecsID = dep.ID, ""
		}
	}
	arn, fallback := det.state()
	if arn != "" {
		sd, err := d.describeServiceDeployment(ctx, arn)
		if err != nil {
			return "", err
		}
		switch sd.Status {
		case types.ServiceDeploymentStatusStopRequested, types.ServiceDeploymentStatusRollbackRequested,
			types.ServiceDeploymentStatusRollbackInProgress:
			return deploy.StopPending, nil
		}
		err = d.stopServiceDeployment(ctx, arn, o.Rollback, dep)
		if err == nil {
			return deploy.StopPending, nil
		}
		if !IsUnavailable(err) {
			return "", fmt.Errorf("StopServiceDeployment: %w", err)
		}
		fallback = true
	}
	_ = fallback
	// DescribeServices-only: ECS cannot freeze a rolling deployment, so a
	// stop rolls back by redeploying the previous task definition.
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
	d.log.DebugContext(ctx, "UpdateService (stop with rollback)", "taskDefinition", dep.From.ID)
	if _, err := d.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(det.cluster), Service: aws.String(det.service), TaskDefinition: aws.String(dep.From.ID)}); err != nil {
		return "", fmt.Errorf("UpdateService: %w", err)
	}
	det.mu.Lock()
	det.rollbackStarted = true
	det.mu.Unlock()
	msg := "stopping by rolling back: updated the service to " + dep.From.String()
	if !o.Rollback {
		msg += " (without the service-deployments API ECS can only stop a deployment by rolling it back)"
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, msg)
	return deploy.StopPending, nil
}

// Continue lets a deployment paused at a PAUSE lifecycle hook go on
// (ContinueServiceDeployment with action CONTINUE). It returns an error
// wrapping deploy.ErrInvalidRequest when no hook is waiting.
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
	if dep == nil || dep.ID == "" {
		return deploy.Invalid("deployment", "", "required")
	}
	det, _ := dep.Detail.(*deployment)
	if det == nil {
		return deploy.Invalid("deployment", dep.ID, "not started by this driver")
	}
	if det.codeDeployID != "" {
		return d.continueCodeDeploy(ctx, dep, det)
	}
	arn, _ := det.state()
	if arn == "" {
		return deploy.Invalid("deployment", dep.ID, "no ECS service deployment to continue (the service-deployments API is unavailable)")
	}
	sd, err := d.describeServiceDeployment(ctx, arn)
	if err != nil {
		return err
	}
	for _, h := range sd.LifecycleHookDetails {
		if h.Status == types.DeploymentLifecycleHookStatusAwaitingAction {
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
// ABORT when rollback is false and ECS has not refused ABORT before. A
// refused ABORT is retried once as ROLLBACK, with a note event.
func (d *Driver) stopServiceDeployment(ctx context.Context, arn string, rollback bool, dep *deploy.Deployment) error {
	call := func(st types.StopServiceDeploymentStopType) error {
		d.log.DebugContext(ctx, "StopServiceDeployment", "arn", arn, "type", st)
		_, err := d.ecs.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), StopType: st})
		return err
	}
	back := "the previous revision"
	if dep.From != nil && dep.From.String() != "" {
		back = dep.From.String()
	}
	if rollback {
		return call(types.StopServiceDeploymentStopTypeRollback)
	}
	if d.noAbort.Load() {
		if err := call(types.StopServiceDeploymentStopTypeRollback); err != nil {
			return err
		}
		deploy.NotifierFrom(ctx)(deploy.EventNote, "stopping with ROLLBACK: ECS refuses stop type ABORT here; the service goes back to "+back)
		return nil
	}
	aerr := call(types.StopServiceDeploymentStopTypeAbort)
	if aerr == nil || !abortRefused(aerr) {
		return aerr
	}
	d.noAbort.Store(true)
	d.log.DebugContext(ctx, "StopServiceDeployment ABORT refused", "err", aerr)
	if err := call(types.StopServiceDeploymentStopTypeRollback); err != nil {
		return err
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, "ECS refused stop type ABORT ("+apiMessage(aerr)+
		"); stopped with ROLLBACK instead: the service goes back to "+back)
	return nil
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
