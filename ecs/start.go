package ecs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// deployment is the driver-private part of a deploy.Deployment (its
// Detail). It is shared by copies of the Deployment, so its mutable part is
// guarded.
type deployment struct {
	cluster, service string
	// taskDef is the task definition ARN being deployed.
	taskDef string
	// waitUntil is WaitStable or WaitDeployed.
	waitUntil string
	// codeDeployID is the CodeDeploy deployment of a CODE_DEPLOY service.
	codeDeployID string
	// ecsID is the ECS deployment ID (ecs-svc/...) in the service's
	// deployments list.
	ecsID string

	mu sync.Mutex
	// sdARN is the ECS service deployment, "" until known.
	sdARN string
	// fallback is set once the service-deployments API proved unavailable.
	fallback bool
	// rollbackStarted records a stop-with-rollback done by redeploying
	// the previous task definition (fallback mode).
	rollbackStarted bool
	// ended is the verdict once Status saw the deployment succeed, stop
	// or roll back: ECS forgets a deployment that later ones replaced.
	ended *verdict
}

func (dt *deployment) state() (arn string, fallback bool) {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	return dt.sdARN, dt.fallback
}

// Start makes the plan's mutating calls: RegisterTaskDefinition,
// RegisterScalableTarget, then CreateService or one UpdateService, then
// DeregisterTaskDefinition for a rollback with Deregister. Before the first
// of them it checks again that the service has no live deployment (an
// error wrapping deploy.ErrLocked, nothing changed). It returns the
// deployment at once, in StatusInProgress (StatusCreated through
// CodeDeploy), with To the task definition's ARN. The deployment is
// identified by its ECS service deployment ARN where the service-deployments
// API exists, else by the ECS deployment ID (ecs-svc/...) of the service's
// new PRIMARY deployment.
func (d *Driver) Start(ctx context.Context, p *deploy.Plan) (*deploy.Deployment, error) {
	if err := ctx.Err(); err != nil {
		var t deploy.Target
		if p != nil {
			t = p.Request.Target
		}
		return nil, wrap("start", t, "", err)
	}
	if p == nil {
		return nil, wrap("start", deploy.Target{}, "", deploy.Invalid("plan", "", "required"))
	}
	pl, ok := p.Detail.(*plan)
	if !ok {
		return nil, wrap("start", p.Request.Target, "", deploy.Invalid("plan", "", "not prepared by the ecs driver"))
	}
	if pl.codeDeploy != nil {
		dep, err := d.startCodeDeploy(ctx, p, pl)
		return dep, wrap("start", p.Request.Target, "", err)
	}
	dep, err := d.start(ctx, p, pl)
	if err != nil {
		return nil, wrap("start", p.Request.Target, "", err)
	}
	return dep, nil
}

func (d *Driver) start(ctx context.Context, p *deploy.Plan, pl *plan) (*deploy.Deployment, error) {
	// Up to and including the CreateService or UpdateService that starts
	// the deployment, a throttled call leaves the platform as a second
	// Start needs it (the lock still free, the task definition registered
	// and reused): those throttles are left to the engine, whose rate
	// control must see them (deploy.EngineRetriesThrottles). The calls after
	// it keep the client's own retries.
	pre := ctx
	if deploy.EngineRetriesStart(ctx) {
		pre = deploy.WithEngineRetries(ctx)
	}
	if pl.create == nil {
		// Prepare checked too, but another deployer may have started
		// one since.
		if err := d.checkLock(pre, pl.cluster, pl.service, nil, pl.rollbackOf); err != nil {
			return nil, err
		}
	}
	taskDef, err := d.registerIfNeeded(pre, pl)
	if err != nil {
		return nil, err
	}
	var svc *types.Service
	if pl.create != nil {
		in := *pl.create
		in.TaskDefinition = aws.String(taskDef)
		d.log.DebugContext(ctx, "CreateService", "cluster", pl.cluster, "service", pl.service, "taskDefinition", taskDef)
		out, err := d.ecs.CreateService(pre, &in)
		switch {
		case err == nil:
			svc = out.Service
		case platform.Uncertain(err) && ctx.Err() == nil:
			if svc, err = d.readBackCreate(ctx, pl, taskDef, err); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("CreateService: %w", err)
		}
	} else {
		if pl.suspend != nil {
			if err := d.setSuspended(pre, pl.cluster, pl.service, *pl.suspend); err != nil {
				return nil, fmt.Errorf("RegisterScalableTarget: %w", err)
			}
		}
		in := &ecs.UpdateServiceInput{
			Cluster:            aws.String(pl.cluster),
			Service:            aws.String(pl.service),
			TaskDefinition:     aws.String(taskDef),
			DesiredCount:       pl.desired,
			ForceNewDeployment: pl.opts.ForceNewDeployment,
		}
		if pl.attrs != nil {
			pl.attrs.apply(in)
		}
		d.log.DebugContext(ctx, "UpdateService", "cluster", pl.cluster, "service", pl.service, "taskDefinition", taskDef,
			"force", pl.opts.ForceNewDeployment)
		out, err := d.ecs.UpdateService(pre, in)
		switch {
		case err == nil:
			svc = out.Service
		case platform.Uncertain(err) && ctx.Err() == nil:
			// The answer was lost, not necessarily the update.
			if svc, err = d.readBackUpdate(ctx, pl, taskDef, err); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("UpdateService: %w", err)
		}
		if pl.deregister != "" {
			if _, err := d.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(pl.deregister)}); err != nil {
				if !platform.Uncertain(err) || ctx.Err() != nil || !d.readBackDeregistered(ctx, pl.deregister, err) {
					return nil, fmt.Errorf("DeregisterTaskDefinition %s: %w", labelOf(pl.deregister), err)
				}
			}
		}
	}
	if svc == nil {
		return nil, fmt.Errorf("%w: ECS returned no service", deploy.ErrFailed)
	}
	det := &deployment{cluster: pl.cluster, service: pl.service, taskDef: taskDef, waitUntil: pl.opts.WaitUntil}
	primary := primaryOf(svc)
	now := d.clock.Now()
	dep := &deploy.Deployment{
		Target:     p.Request.Target,
		From:       p.From,
		To:         deploy.Revision{ID: taskDef, Label: labelOf(taskDef), Source: p.To.Source, Attrs: p.To.Attrs},
		Strategy:   p.Request.Strategy,
		Status:     deploy.StatusInProgress,
		CreatedAt:  now,
		UpdatedAt:  now,
		RollbackOf: p.Request.RollbackOf,
		Detail:     det,
	}
	if primary != nil {
		dep.ID = aws.ToString(primary.Id)
		det.ecsID = dep.ID
		if primary.CreatedAt != nil {
			dep.CreatedAt = *primary.CreatedAt
		}
		if aws.ToString(primary.TaskDefinition) != taskDef {
			deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf(
				"ECS reports no deployment of %s yet (PRIMARY runs %s)", labelOf(taskDef), labelOf(aws.ToString(primary.TaskDefinition))))
		}
	} else {
		dep.ID = aws.ToString(svc.ServiceArn) + "@" + now.UTC().Format(time.RFC3339Nano)
	}
	if dep.Target.Platform == "" {
		dep.Target.Platform = Platform
	}
	d.resolveServiceDeployment(ctx, det, svc, dep.CreatedAt)
	if arn, _ := det.state(); arn != "" {
		// With the service-deployments API the deployment is known by
		// its service deployment ARN, as History reports it.
		dep.ID = arn
	}
	return dep, nil
}

// registerIfNeeded registers the plan's task definition and returns the
// ARN to deploy.
func (d *Driver) registerIfNeeded(ctx context.Context, pl *plan) (string, error) {
	if pl.register == nil {
		return pl.taskDef, nil
	}
	if pl.registered != "" {
		return pl.registered, nil // registered by an earlier, throttled Start of this plan
	}
	d.log.DebugContext(ctx, "RegisterTaskDefinition", "family", aws.ToString(pl.register.Family))
	out, err := d.ecs.RegisterTaskDefinition(ctx, pl.register)
	if err != nil {
		if platform.Uncertain(err) && ctx.Err() == nil {
			// The revision may be registered: adopt it rather than
			// register a second one.
			arn, err := d.readBackRegister(ctx, pl, err)
			if err == nil {
				pl.registered = arn
			}
			return arn, err
		}
		return "", fmt.Errorf("RegisterTaskDefinition: %w", err)
	}
	if out.TaskDefinition == nil || out.TaskDefinition.TaskDefinitionArn == nil {
		return "", fmt.Errorf("%w: RegisterTaskDefinition returned no ARN", deploy.ErrFailed)
	}
	pl.registered = *out.TaskDefinition.TaskDefinitionArn
	return pl.registered, nil
}

// setSuspended sets all three suspended flags of the service's scalable
// target.
func (d *Driver) setSuspended(ctx context.Context, cluster, service string, suspended bool) error {
	_, err := d.as.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace:  astypes.ServiceNamespaceEcs,
		ResourceId:        aws.String(resourceID(cluster, service)),
		ScalableDimension: astypes.ScalableDimensionECSServiceDesiredCount,
		SuspendedState: &astypes.SuspendedState{
			DynamicScalingInSuspended:  aws.Bool(suspended),
			DynamicScalingOutSuspended: aws.Bool(suspended),
			ScheduledScalingSuspended:  aws.Bool(suspended),
		},
	})
	return err
}

// resolveServiceDeployment finds the ECS service deployment that
// corresponds to the deployment created at createdAt, with
// ListServiceDeployments. When that API is unavailable it records the
// fallback to DescribeServices polling and says so once in a note event.
// Other errors leave the ARN unknown, to be tried again by Status.
func (d *Driver) resolveServiceDeployment(ctx context.Context, det *deployment, svc *types.Service, createdAt time.Time) {
	det.mu.Lock()
	defer det.mu.Unlock()
	if det.sdARN != "" || det.fallback {
		return
	}
	if d.noSD.Load() {
		det.fallback = true
		deploy.NotifierFrom(ctx)(deploy.EventNote,
			"ECS service-deployments API unavailable here; following the deployment with DescribeServices polling")
		return
	}
	out, err := d.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
		Cluster:   aws.String(det.cluster),
		Service:   aws.String(det.service),
		CreatedAt: &types.CreatedAt{After: aws.Time(createdAt.Add(-time.Minute))},
	}, probeOnce)
	if err != nil {
		if isUnavailable(err) {
			d.noSD.Store(true)
			det.fallback = true
			deploy.NotifierFrom(ctx)(deploy.EventNote,
				"ECS service-deployments API unavailable here; following the deployment with DescribeServices polling")
			d.log.DebugContext(ctx, "ListServiceDeployments unavailable", "err", err)
		}
		return
	}
	if svc != nil && svc.CurrentServiceDeployment != nil {
		for _, b := range out.ServiceDeployments {
			if aws.ToString(b.ServiceDeploymentArn) == *svc.CurrentServiceDeployment {
				det.sdARN = *svc.CurrentServiceDeployment
				return
			}
		}
	}
	var best *types.ServiceDeploymentBrief
	var bestGap time.Duration
	for i := range out.ServiceDeployments {
		b := &out.ServiceDeployments[i]
		if b.CreatedAt == nil {
			continue
		}
		gap := b.CreatedAt.Sub(createdAt)
		if gap < 0 {
			gap = -gap
		}
		if best == nil || gap < bestGap {
			best, bestGap = b, gap
		}
	}
	if best != nil && bestGap <= time.Minute {
		det.sdARN = aws.ToString(best.ServiceDeploymentArn)
	}
}

// primaryOf returns the service's PRIMARY deployment.
func primaryOf(svc *types.Service) *types.Deployment {
	if svc == nil {
		return nil
	}
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Status) == "PRIMARY" {
			return &svc.Deployments[i]
		}
	}
	return nil
}

func deploymentByID(svc *types.Service, id string) *types.Deployment {
	if svc == nil {
		return nil
	}
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Id) == id {
			return &svc.Deployments[i]
		}
	}
	return nil
}

// isServiceDeploymentARN reports whether id is an ECS service deployment ARN.
func isServiceDeploymentARN(id string) bool {
	return strings.HasPrefix(id, "arn:") && strings.Contains(id, ":service-deployment/")
}
