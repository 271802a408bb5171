package ecs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// CodeDeployAPI is the part of the CodeDeploy API used for services with the
// CODE_DEPLOY deployment controller: platform.CodeDeployAPI to create,
// follow and stop deployments, and platform.CodeDeployGroupsAPI (read-only)
// to find the service's deployment group. *codedeploy.Client and
// codedeployfake.Fake satisfy it.
type CodeDeployAPI interface {
	platform.CodeDeployAPI
	platform.CodeDeployGroupsAPI
}

var _ CodeDeployAPI = (*codedeploy.Client)(nil)

// codeDeployPlan is what Start needs to deploy through CodeDeploy.
type codeDeployPlan struct {
	application, group string
	config             string
	events             []cdtypes.AutoRollbackEvent
	// stop is an in-flight CodeDeploy deployment a rollback stops with
	// auto-rollback instead of creating a new deployment.
	stop string
	svc  *types.Service
}

func newCodeDeployClient(cfg aws.Config) CodeDeployAPI { return platform.NewCodeDeployClient(cfg) }

func isCodeDeploy(svc *types.Service) bool {
	return svc.DeploymentController != nil && svc.DeploymentController.Type == types.DeploymentControllerTypeCodeDeploy
}

func (d *Driver) tracker() *platform.CodeDeploy {
	return platform.NewCodeDeploy(d.cd, platform.CodeDeployOptions{Clock: d.clock, Platform: Platform})
}

// prepareCodeDeploy plans a deployment of a CODE_DEPLOY-controller service:
// an AppSpec built from the service, the deployment configuration matching
// the strategy, and the rollback events. A rollback with a CodeDeploy
// deployment in flight stops that one with auto-rollback instead.
func (d *Driver) prepareCodeDeploy(ctx context.Context, pl *plan, out *deploy.Plan, svc *types.Service, req deploy.Request) (*deploy.Plan, error) {
	if d.cd == nil {
		return nil, fmt.Errorf("%w: service %s uses the CODE_DEPLOY controller and the driver has no CodeDeploy client", deploy.ErrUnsupported, pl.service)
	}
	o := pl.opts
	if err := checkCodeDeployOptions(o); err != nil {
		return nil, err
	}
	g, err := d.codeDeployGroup(ctx, pl)
	if err != nil {
		return nil, err
	}
	out.Notes = append(out.Notes, g.notes...)
	cp := &codeDeployPlan{svc: svc}
	cp.application, cp.group = g.application, g.group
	cp.config = o.CodeDeployConfig
	if cp.config == "" {
		name, ok := req.Strategy.CodeDeployConfigName("ECS")
		if !ok {
			return nil, deploy.UnsupportedStrategy(Platform, req.Strategy, "map this strategy onto a predefined CodeDeploy ECS configuration; set CodeDeployConfig")
		}
		cp.config = name
	}
	for _, e := range req.RollbackOn.Events() {
		cp.events = append(cp.events, cdtypes.AutoRollbackEvent(e))
	}
	out.Notes = append(out.Notes, groupNotes(g, cp.config, cp.events, req)...)
	if pl.inFlight != "" {
		cp.stop = pl.inFlight
		out.Notes = append(out.Notes, "CodeDeploy deployment "+cp.stop+" is in flight: stopping it with auto-rollback")
	}
	if o.Tasks != nil && *o.Tasks != svc.DesiredCount {
		pl.desired = o.Tasks
		out.Changes = append(out.Changes, deploy.Change{Path: "service.desiredCount",
			Old: strconv.Itoa(int(svc.DesiredCount)), New: strconv.Itoa(int(*o.Tasks))})
	}
	if o.SuspendAutoScaling || o.ResumeAutoScaling {
		if err := d.prepareAutoScaling(ctx, pl, out); err != nil {
			return nil, err
		}
	}
	if cp.stop == "" {
		out.Changes = append(out.Changes, deploy.Change{Path: "codeDeploy.deployment",
			New: cp.application + "/" + cp.group + " " + cp.config + " rollback on " + req.RollbackOn.String()})
	}
	pl.codeDeploy = cp
	if out.Request.Strategy.Name == "" && len(out.Request.Strategy.Steps) == 0 {
		out.Request.Strategy = deploy.AllAtOnce()
	}
	return out, nil
}

// appSpec builds the AppSpec of an ECS deployment from the service.
func appSpec(svc *types.Service, taskDef string) (string, error) {
	props := map[string]any{"TaskDefinition": taskDef}
	if len(svc.LoadBalancers) > 0 {
		lb := svc.LoadBalancers[0]
		props["LoadBalancerInfo"] = map[string]any{"ContainerName": aws.ToString(lb.ContainerName), "ContainerPort": aws.ToInt32(lb.ContainerPort)}
	}
	if svc.PlatformVersion != nil {
		props["PlatformVersion"] = *svc.PlatformVersion
	}
	if nc := svc.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
		a := nc.AwsvpcConfiguration
		props["NetworkConfiguration"] = map[string]any{"AwsvpcConfiguration": map[string]any{
			"Subnets": a.Subnets, "SecurityGroups": a.SecurityGroups, "AssignPublicIp": string(a.AssignPublicIp)}}
	}
	if len(svc.CapacityProviderStrategy) > 0 {
		var cps []map[string]any
		for _, c := range svc.CapacityProviderStrategy {
			cps = append(cps, map[string]any{"CapacityProvider": aws.ToString(c.CapacityProvider), "Base": c.Base, "Weight": c.Weight})
		}
		props["CapacityProviderStrategy"] = cps
	}
	b, err := json.Marshal(map[string]any{
		"version": 0.0,
		"Resources": []any{map[string]any{"TargetService": map[string]any{
			"Type": "AWS::ECS::Service", "Properties": props}}},
	})
	return string(b), err
}

// startCodeDeploy starts a deployment of a CODE_DEPLOY-controller service:
// it stops the in-flight deployment a rollback replaces (with
// auto-rollback), or it checks that the deployment group has no live
// deployment, registers the task definition, applies the desired count and
// auto-scaling settings, and creates the CodeDeploy deployment.
//
// CreateDeployment takes no idempotency token. When it fails, the
// deployment it may have created all the same (its answer was lost or
// unreadable, or the SDK sent it again and CodeDeploy refused or throttled
// the second attempt after the first had created it) is looked for
// (platform.CodeDeploy.CreatedAnyway): a live deployment of the AppSpec
// sent, which the group did not have just before, is returned as this
// one, so it is followed to its end rather than left running unseen
// behind an error.
func (d *Driver) startCodeDeploy(ctx context.Context, p *deploy.Plan, pl *plan) (*deploy.Deployment, error) {
	cp := pl.codeDeploy
	tr := d.tracker()
	det := &deployment{cluster: pl.cluster, service: pl.service, waitUntil: pl.opts.WaitUntil}
	if cp.stop != "" {
		if _, err := tr.Stop(ctx, cp.stop, true); err != nil {
			return nil, err
		}
		det.codeDeployID = cp.stop
		dep := &deploy.Deployment{ID: cp.stop, Target: p.Request.Target, From: p.From, To: p.To, Strategy: p.Request.Strategy,
			Status: deploy.StatusInProgress, CreatedAt: d.clock.Now(), Detail: det}
		return d.codeDeployStatus(ctx, dep, det)
	}
	// Prepare checked too, but another deployer may have started one
	// since; and CreatedAnyway counts on the group being idle now.
	live, err := tr.Live(ctx, cp.application, cp.group)
	if err != nil {
		return nil, err
	}
	if len(live) > 0 {
		return nil, fmt.Errorf("%w: CodeDeploy deployment %s of service %s is in progress on %s/%s; wait for it to end or stop it",
			deploy.ErrLocked, live[0], pl.service, cp.application, cp.group)
	}
	taskDef, err := d.registerIfNeeded(ctx, pl)
	if err != nil {
		return nil, err
	}
	det.taskDef = taskDef
	if pl.suspend != nil {
		if err := d.setSuspended(ctx, pl.cluster, pl.service, *pl.suspend); err != nil {
			return nil, fmt.Errorf("RegisterScalableTarget: %w", err)
		}
	}
	if pl.desired != nil {
		if _, err := d.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(pl.cluster), Service: aws.String(pl.service),
			DesiredCount: pl.desired}); err != nil {
			return nil, fmt.Errorf("UpdateService: %w", err)
		}
	}
	spec, err := appSpec(cp.svc, taskDef)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(spec))
	in := &codedeploy.CreateDeploymentInput{
		ApplicationName:      aws.String(cp.application),
		DeploymentGroupName:  aws.String(cp.group),
		DeploymentConfigName: aws.String(cp.config),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(spec), Sha256: aws.String(hex.EncodeToString(sum[:]))}},
		AutoRollbackConfiguration: &cdtypes.AutoRollbackConfiguration{Enabled: len(cp.events) > 0, Events: cp.events},
	}
	if p.Request.Comment != "" {
		in.Description = aws.String(p.Request.Comment)
	}
	id, err := tr.Create(ctx, in)
	if err != nil {
		cause := err
		if id, err = tr.CreatedAnyway(ctx, in, cause); err != nil {
			return nil, err
		}
		d.log.DebugContext(ctx, "CreateDeployment failed but created the deployment", "id", id, "error", cause)
	}
	det.codeDeployID = id
	now := d.clock.Now()
	return &deploy.Deployment{ID: id, Target: p.Request.Target, From: p.From,
		To:       deploy.Revision{ID: taskDef, Label: labelOf(taskDef), Source: p.To.Source},
		Strategy: p.Request.Strategy, Status: deploy.StatusCreated, CreatedAt: now, UpdatedAt: now,
		RollbackOf: p.Request.RollbackOf, Detail: det}, nil
}

// codeDeployStatus reads one CodeDeploy deployment of a CODE_DEPLOY
// service (GetDeployment and its targets), as Start reports the in-flight
// deployment a rollback stopped.
func (d *Driver) codeDeployStatus(ctx context.Context, dep *deploy.Deployment, det *deployment) (*deploy.Deployment, error) {
	st, err := d.tracker().Status(ctx, det.codeDeployID)
	if err != nil {
		return nil, err
	}
	return codeDeployReport(dep, st), nil
}

// codeDeployStatusMany reads the CodeDeploy deployments of CODE_DEPLOY
// services with platform.CodeDeploy.StatusMany: their records
// platform.MaxBatchGetDeployments (25) to a BatchGetDeployments request,
// each one's targets (the task sets and their traffic weights) on its own.
// dets[i] is the detail of deps[i]. It returns one report and one error
// per deployment, in order, the report nil exactly where the error is not.
func (d *Driver) codeDeployStatusMany(ctx context.Context, deps []*deploy.Deployment, dets []*deployment) ([]*deploy.Deployment, []error) {
	qs := make([]platform.StatusQuery, len(deps))
	for i, dep := range deps {
		qs[i] = platform.StatusQuery{ID: dets[i].codeDeployID, Last: dep}
	}
	states, errs := d.tracker().StatusMany(ctx, qs)
	out := make([]*deploy.Deployment, len(deps))
	for i, dep := range deps {
		if errs[i] == nil {
			out[i] = codeDeployReport(dep, states[i])
		}
	}
	return out, errs
}

// codeDeployReport is dep updated with what CodeDeploy says of it (st),
// dep's revisions kept: the one conversion of a CODE_DEPLOY service's
// deployment, whether read alone or in a batch.
func codeDeployReport(dep *deploy.Deployment, st *platform.DeploymentState) *deploy.Deployment {
	out := st.Apply(dep)
	if dep.To.ID != "" {
		out.To = dep.To
	}
	if dep.From != nil {
		f := *dep.From
		out.From = &f
	}
	return out
}

func (d *Driver) stopCodeDeploy(ctx context.Context, dep *deploy.Deployment, det *deployment, o deploy.StopOptions) (deploy.StopOutcome, error) {
	return d.tracker().Stop(ctx, det.codeDeployID, o.Rollback)
}

func (d *Driver) continueCodeDeploy(ctx context.Context, dep *deploy.Deployment, det *deployment) error {
	return d.tracker().Continue(ctx, det.codeDeployID)
}

// checkCodeDeployOptions refuses the ECS-controller settings a
// CODE_DEPLOY-controller service cannot take.
func checkCodeDeployOptions(o DeployOptions) error {
	if o.Hooks != nil || len(o.Alarms) > 0 || o.BlueGreen || o.BakeTime > 0 {
		return deploy.Invalid("options", "", "hooks, alarms, blueGreen and bakeTime are ECS-controller settings; a CODE_DEPLOY service takes them from its deployment group")
	}
	return nil
}

// codeDeployInFlight finds a live CodeDeploy deployment of the service's
// deployment group, records it in pl and returns its ID ("" if none or if
// the group's history cannot be read). Only finding the group can fail.
func (d *Driver) codeDeployInFlight(ctx context.Context, pl *plan) (string, error) {
	g, err := d.codeDeployGroup(ctx, pl)
	if err != nil {
		return "", err
	}
	hist, err := d.tracker().History(ctx, g.application, g.group)
	if err != nil {
		d.log.DebugContext(ctx, "CodeDeploy history", "err", err)
		return "", nil
	}
	for _, h := range hist {
		if !h.Status.Terminal() && h.DeploymentID != "" {
			pl.inFlight = h.DeploymentID
			return pl.inFlight, nil
		}
	}
	return "", nil
}
