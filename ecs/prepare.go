package ecs

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

// plan is the driver-private part of a deploy.Plan (Plan.Detail).
type plan struct {
	cluster, service string
	opts             DeployOptions
	// register is the task definition to register, nil to use taskDef.
	register *ecs.RegisterTaskDefinitionInput
	// registered is the ARN Start registered register as, so a Start the
	// engine asks again after a throttle reuses it instead of registering
	// a second revision.
	registered string
	// taskDef is the task definition ARN to deploy when not registering.
	taskDef string
	// fromTaskDef is the task definition the service runs now ("" if new).
	fromTaskDef string
	// fromDesired and fromPrimary are the service's desired count and the
	// ID of its PRIMARY deployment when prepared: what a read-back after
	// an UpdateService whose answer was lost compares with.
	fromDesired int32
	fromPrimary string
	// create is set when the service does not exist yet.
	create *ecs.CreateServiceInput
	// attrs are the service attributes to send, nil when unchanged.
	attrs *serviceAttrs
	// config is the deployment configuration the deployment runs with.
	config *types.DeploymentConfiguration
	// desired is the desired count to set, nil to keep it.
	desired *int32
	// suspend is the auto-scaling SuspendedState to set, nil to leave it.
	suspend *bool
	// deregister is the task definition to deregister after a rollback.
	deregister string
	// codeDeploy is set for CODE_DEPLOY-controller services.
	codeDeploy *codeDeployPlan
	// inFlight is a CodeDeploy deployment in flight that a rollback stops.
	inFlight string
	// cdGroup is the CodeDeploy deployment group, once resolved.
	cdGroup *cdGroup
	// rollbackOf is the request's RollbackOf ("(rollback)" for a request
	// with RollbackOptions that names none): such a request may repair a
	// deployment stopped part way.
	rollbackOf string
}

// Prepare validates req, reads the service, task definitions and
// auto-scaling target, and works out the full diff. It makes no mutating
// call. Bad input gives an error wrapping deploy.ErrInvalidRequest before
// any call (among it what ECS itself would refuse: names outside ECS's
// character rules, a task definition over MaxTaskDefinitionSize or not
// UTF-8, zero or negative cpu and memory, a desired count over
// MaxDesiredCount, a CodeDeploy configuration of another compute
// platform), and a strategy ECS cannot follow one from
// deploy.UnsupportedStrategy. An unknown service with no service definition
// to create it, or a task definition that does not exist, gives one
// wrapping deploy.ErrNotFound. A service with a deployment in progress, or
// one stopped part way (see deploy.Driver's Locks), gives one wrapping
// deploy.ErrLocked.
//
// A task definition document is planned as the revision it would register:
// the plan's To has no ID and is labelled "family:(new)", with the file
// name (or "inline") as its Source. A request for the task definition the
// service already runs is planned as a redeployment, as ecspresso does.
func (d *Driver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("prepare", req.Target, "", err)
	}
	p, err := d.prepare(ctx, req)
	if err != nil {
		return nil, wrap("prepare", req.Target, "", err)
	}
	return p, nil
}

func (d *Driver) prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	// Everything that can be checked without AWS is checked first.
	cluster, service, err := parseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	st, err := settingsOf(req)
	if err != nil {
		return nil, err
	}
	o := st.DeployOptions
	if err := checkStrategy(req, o); err != nil {
		return nil, err
	}
	if (o.SuspendAutoScaling || o.ResumeAutoScaling) && d.as == nil {
		return nil, deploy.Invalid("suspendAutoScaling", "", "the driver has no Application Auto Scaling client")
	}
	named := req.Revision.ID != "" || req.Revision.Label != ""
	var register *ecs.RegisterTaskDefinitionInput
	source := ""
	if !named && !o.SkipTaskDefinition {
		data, src, err := readDoc("taskDefinition", o.TaskDefinition, o.TaskDefinitionFile)
		if err != nil {
			return nil, err
		}
		if data != nil {
			if register, err = parseTaskDefinition(data); err != nil {
				return nil, err
			}
			source = src
			if o.TaskDefinition != nil && o.TaskDefinitionSource != "" {
				source = o.TaskDefinitionSource
			}
		}
	}
	var def *ecs.CreateServiceInput
	if !st.rollback {
		data, _, err := readDoc("serviceDefinition", o.ServiceDefinition, o.ServiceDefinitionFile)
		if err != nil {
			return nil, err
		}
		if data != nil {
			if def, err = parseServiceDefinition(data); err != nil {
				return nil, err
			}
			if def.ServiceName != nil && *def.ServiceName != "" && *def.ServiceName != service {
				return nil, deploy.Invalid("serviceDefinition.serviceName", *def.ServiceName, "does not match the target's service "+service)
			}
		}
	}

	pl := &plan{cluster: cluster, service: service, opts: o, rollbackOf: req.RollbackOf}
	if st.rollback && pl.rollbackOf == "" {
		pl.rollbackOf = "(rollback)"
	}
	out := &deploy.Plan{Request: req, Mode: deploy.ModePlatform, Detail: pl}
	if st.rollback {
		out.Request.Options = RollbackOptions{Deregister: st.deregister, WaitUntil: o.WaitUntil, Tasks: o.Tasks}
	} else {
		out.Request.Options = o
	}

	svc, err := d.describeService(ctx, cluster, service)
	if err != nil {
		return nil, err
	}
	if svc == nil {
		if def == nil {
			return nil, fmt.Errorf("%w: service %s in cluster %s does not exist and no service definition was given to create it",
				deploy.ErrNotFound, service, cluster)
		}
		if register == nil && !named && !o.LatestTaskDefinition && o.Revision == 0 {
			return nil, deploy.Invalid("taskDefinition", "", "a new service needs a task definition")
		}
	}
	codeDeploy := svc != nil && isCodeDeploy(svc)
	if svc != nil && !codeDeploy {
		if err := d.checkLock(ctx, cluster, service, svc, pl.rollbackOf); err != nil {
			return nil, err
		}
	}

	// The task definition to deploy.
	var cur *types.TaskDefinition
	var curTags []types.Tag
	if svc != nil {
		pl.fromTaskDef = aws.ToString(svc.TaskDefinition)
		pl.fromDesired = svc.DesiredCount
		if p := primaryOf(svc); p != nil {
			pl.fromPrimary = aws.ToString(p.Id)
		}
		cur, curTags, err = d.describeTaskDefinition(ctx, pl.fromTaskDef)
		if err != nil {
			return nil, err
		}
		out.From = revisionOf(cur, pl.fromTaskDef)
	}
	family := ""
	if cur != nil {
		family = aws.ToString(cur.Family)
	}
	inFlight := ""
	if codeDeploy && d.cd != nil {
		if err := checkCodeDeployOptions(o); err != nil {
			return nil, err
		}
		if inFlight, err = d.codeDeployInFlight(ctx, pl); err != nil {
			return nil, err
		}
		if inFlight != "" && !st.rollback && req.RollbackOf == "" {
			return nil, fmt.Errorf("%w: CodeDeploy deployment %s of service %s is in progress; wait for it to end or stop it",
				deploy.ErrLocked, inFlight, service)
		}
	}
	switch {
	case register != nil:
		pl.register = register
		out.To = deploy.Revision{Label: aws.ToString(register.Family) + ":(new)", Source: source}
		out.Changes = append(out.Changes, diffTaskDefinition(registerInputOf(cur, curTags), register)...)
		if cur != nil && aws.ToString(cur.Family) == aws.ToString(register.Family) && len(out.Changes) == 0 {
			out.Notes = append(out.Notes, "the task definition file equals "+labelOf(pl.fromTaskDef)+"; a new revision is registered anyway")
		}
	case inFlight != "":
		// Stopping the CodeDeploy deployment with auto-rollback returns
		// the service to what it runs now.
		pl.taskDef = pl.fromTaskDef
		out.To = *out.From
		out.To.Source = "rollback"
	case named:
		id := req.Revision.ID
		if id == "" {
			id = req.Revision.Label
		}
		src := "revision"
		if st.rollback || req.RollbackOf != "" {
			src = "rollback"
		}
		if err := d.useTaskDefinition(ctx, pl, out, id, cur, curTags, src); err != nil {
			return nil, err
		}
		if st.deregister && pl.fromTaskDef != "" && pl.taskDef != pl.fromTaskDef {
			pl.deregister = pl.fromTaskDef
			out.Changes = append(out.Changes, deploy.Change{Path: "taskDefinition.status", Old: labelOf(pl.fromTaskDef) + " ACTIVE", New: "INACTIVE"})
		}
	case o.LatestTaskDefinition:
		if family == "" {
			return nil, deploy.Invalid("latestTaskDefinition", "true", "the service has no task definition family")
		}
		if err := d.useTaskDefinition(ctx, pl, out, family, cur, curTags, "latest"); err != nil {
			return nil, err
		}
	case o.Revision > 0:
		if family == "" {
			return nil, deploy.Invalid("revision", strconv.Itoa(o.Revision), "the service has no task definition family")
		}
		if err := d.useTaskDefinition(ctx, pl, out, family+":"+strconv.Itoa(o.Revision), cur, curTags, "revision"); err != nil {
			return nil, err
		}
	default:
		// Skip: deploy what the service runs now.
		pl.taskDef = pl.fromTaskDef
		out.To = *out.From
		out.To.Source = "current"
	}

	if svc == nil {
		return d.prepareCreate(ctx, pl, out, def, req)
	}
	if codeDeploy {
		return d.prepareCodeDeploy(ctx, pl, out, svc, req)
	}

	// Service attributes and deployment configuration.
	want := serviceAttrs{}
	if def != nil && !o.NoUpdateService {
		want = attrsOfDefinition(def)
	}
	base := svc.DeploymentConfiguration
	if want.DeploymentConfiguration != nil {
		base = want.DeploymentConfiguration
	}
	if !o.NoUpdateService {
		sreq := req
		sreq.RollbackOf = pl.rollbackOf // deploymentConfig's rollback rules
		dc, notes, err := deploymentConfig(base, sreq, o)
		if err == nil && d.noSD.Load() && dc.Strategy != "" && dc.Strategy != types.DeploymentStrategyRolling {
			err = deploy.UnsupportedStrategy(Platform, req.Strategy, "deploy "+string(dc.Strategy)+
				" here: without the ECS service-deployments API (an older partition, an emulator) services deploy ROLLING only")
		}
		if err != nil {
			return nil, err
		}
		out.Notes = append(out.Notes, notes...)
		want.DeploymentConfiguration = dc
		changes := diffService(attrsOfService(svc), want)
		if len(changes) > 0 {
			out.Changes = append(out.Changes, changes...)
			pl.attrs = &want
		}
		pl.config = want.DeploymentConfiguration
	} else {
		// The service's deployment configuration is an attribute too:
		// ECS deploys with its own strategy, and the plan says so.
		pl.config = svc.DeploymentConfiguration
		out.Request.Strategy = strategyOf(pl.config)
	}

	// Desired count.
	if o.Tasks != nil {
		pl.desired = o.Tasks
		if *o.Tasks != svc.DesiredCount {
			out.Changes = append(out.Changes, deploy.Change{Path: "service.desiredCount",
				Old: strconv.Itoa(int(svc.DesiredCount)), New: strconv.Itoa(int(*o.Tasks))})
		}
	}
	if o.ForceNewDeployment {
		out.Notes = append(out.Notes, "forcing a new deployment")
	}
	if err := d.prepareAutoScaling(ctx, pl, out); err != nil {
		return nil, err
	}
	if pl.register == nil && pl.taskDef == pl.fromTaskDef && pl.attrs == nil && !o.ForceNewDeployment &&
		(pl.desired == nil || *pl.desired == svc.DesiredCount) {
		out.Notes = append(out.Notes, "nothing changes: ECS starts no new deployment")
	}
	if out.Request.Strategy.Name == "" && len(out.Request.Strategy.Steps) == 0 {
		out.Request.Strategy = strategyOf(pl.config)
	}
	return out, nil
}

// useTaskDefinition resolves ref (an ARN, "family:N" or a family) as the
// revision to deploy.
func (d *Driver) useTaskDefinition(ctx context.Context, pl *plan, out *deploy.Plan, ref string, cur *types.TaskDefinition, curTags []types.Tag, source string) error {
	td, tags, err := d.describeTaskDefinition(ctx, ref)
	if err != nil {
		return err
	}
	pl.taskDef = aws.ToString(td.TaskDefinitionArn)
	out.To = *revisionOf(td, pl.taskDef)
	out.To.Source = source
	if pl.taskDef != pl.fromTaskDef {
		out.Changes = append(out.Changes, deploy.Change{Path: "service.taskDefinition",
			Old: labelOf(pl.fromTaskDef), New: labelOf(pl.taskDef)})
		out.Changes = append(out.Changes, diffTaskDefinition(registerInputOf(cur, curTags), registerInputOf(td, tags))...)
	}
	return nil
}

func (d *Driver) prepareCreate(ctx context.Context, pl *plan, out *deploy.Plan, def *ecs.CreateServiceInput, req deploy.Request) (*deploy.Plan, error) {
	create := *def
	create.Cluster = aws.String(pl.cluster)
	create.ServiceName = aws.String(pl.service)
	if pl.opts.Tasks != nil {
		create.DesiredCount = pl.opts.Tasks
	}
	dc, notes, err := deploymentConfig(create.DeploymentConfiguration, req, pl.opts)
	if err != nil {
		return nil, err
	}
	if dc != nil && (create.DeploymentConfiguration != nil || len(req.Strategy.Steps) > 0 || req.RollbackOn != 0 ||
		len(pl.opts.Alarms) > 0 || pl.opts.Hooks != nil || pl.opts.BakeTime > 0) {
		create.DeploymentConfiguration = dc
	}
	pl.config = create.DeploymentConfiguration
	out.Notes = append(out.Notes, notes...)
	pl.create = &create
	out.Changes = append(out.Changes, deploy.Change{Path: "service", New: "create " + pl.cluster + "/" + pl.service})
	out.Changes = append(out.Changes, diffService(serviceAttrs{}, attrsOfDefinition(&create))...)
	if create.DesiredCount != nil {
		out.Changes = append(out.Changes, deploy.Change{Path: "service.desiredCount", New: strconv.Itoa(int(*create.DesiredCount))})
	}
	if pl.opts.SuspendAutoScaling || pl.opts.ResumeAutoScaling {
		out.Notes = append(out.Notes, "a new service has no auto-scaling target to suspend or resume")
	}
	if out.Request.Strategy.Name == "" && len(out.Request.Strategy.Steps) == 0 {
		out.Request.Strategy = strategyOf(pl.config)
	}
	return out, nil
}

// prepareAutoScaling reads the service's scalable target when asked to
// suspend or resume it.
func (d *Driver) prepareAutoScaling(ctx context.Context, pl *plan, out *deploy.Plan) error {
	if !pl.opts.SuspendAutoScaling && !pl.opts.ResumeAutoScaling {
		return nil
	}
	st, err := d.scalableTarget(ctx, pl.cluster, pl.service)
	if err != nil {
		return err
	}
	if st == nil {
		out.Notes = append(out.Notes, "the service has no Application Auto Scaling target: nothing to suspend or resume")
		return nil
	}
	want := pl.opts.SuspendAutoScaling
	pl.suspend = &want
	cur := st.SuspendedState != nil && aws.ToBool(st.SuspendedState.DynamicScalingInSuspended) &&
		aws.ToBool(st.SuspendedState.DynamicScalingOutSuspended) && aws.ToBool(st.SuspendedState.ScheduledScalingSuspended)
	curAny := st.SuspendedState != nil && (aws.ToBool(st.SuspendedState.DynamicScalingInSuspended) ||
		aws.ToBool(st.SuspendedState.DynamicScalingOutSuspended) || aws.ToBool(st.SuspendedState.ScheduledScalingSuspended))
	if (want && !cur) || (!want && curAny) {
		out.Changes = append(out.Changes, deploy.Change{Path: "autoScaling.suspended",
			Old: strconv.FormatBool(curAny), New: strconv.FormatBool(want)})
	}
	return nil
}

// resourceID is the Application Auto Scaling resource ID of a service.
func resourceID(cluster, service string) string { return "service/" + cluster + "/" + service }

func (d *Driver) scalableTarget(ctx context.Context, cluster, service string) (*astypes.ScalableTarget, error) {
	out, err := d.as.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace:  astypes.ServiceNamespaceEcs,
		ResourceIds:       []string{resourceID(cluster, service)},
		ScalableDimension: astypes.ScalableDimensionECSServiceDesiredCount,
	})
	if err != nil {
		return nil, err
	}
	for i := range out.ScalableTargets {
		return &out.ScalableTargets[i], nil
	}
	return nil, nil
}

// describeService returns the service, or nil when it does not exist (or
// is INACTIVE).
func (d *Driver) describeService(ctx context.Context, cluster, service string) (*types.Service, error) {
	out, err := d.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		return nil, err
	}
	for i := range out.Services {
		s := &out.Services[i]
		if aws.ToString(s.ServiceName) == service || strings.HasSuffix(aws.ToString(s.ServiceArn), "/"+service) {
			if aws.ToString(s.Status) == "INACTIVE" {
				return nil, nil
			}
			return s, nil
		}
	}
	return nil, nil
}

func (d *Driver) describeTaskDefinition(ctx context.Context, ref string) (*types.TaskDefinition, []types.Tag, error) {
	out, err := d.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		if isNotFound(err) {
			return nil, nil, fmt.Errorf("%w: task definition %s: %w", deploy.ErrNotFound, ref, err)
		}
		return nil, nil, err
	}
	if out.TaskDefinition == nil {
		return nil, nil, fmt.Errorf("%w: task definition %s", deploy.ErrNotFound, ref)
	}
	return out.TaskDefinition, out.Tags, nil
}

// readDoc returns inline data, or the file's contents, or nil when neither
// is given.
func readDoc(field string, data []byte, file string) ([]byte, string, error) {
	if data != nil {
		return data, "inline", nil
	}
	if file == "" {
		return nil, "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", deploy.Invalid(field+"File", file, err.Error())
	}
	if b == nil {
		b = []byte{}
	}
	return b, file, nil
}

// revisionOf describes a task definition as a revision.
func revisionOf(td *types.TaskDefinition, arn string) *deploy.Revision {
	r := &deploy.Revision{ID: arn, Label: labelOf(arn)}
	if td != nil {
		if td.TaskDefinitionArn != nil {
			r.ID = *td.TaskDefinitionArn
		}
		r.Label = aws.ToString(td.Family) + ":" + strconv.Itoa(int(td.Revision))
		if td.RegisteredAt != nil {
			r.CreatedAt = *td.RegisteredAt
		}
		r.Attrs = map[string]string{"status": string(td.Status)}
		for _, c := range td.ContainerDefinitions {
			r.Attrs["image."+aws.ToString(c.Name)] = aws.ToString(c.Image)
		}
	}
	return r
}

// labelOf returns "family:revision" for a task definition ARN.
func labelOf(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// familyOf returns the family of a task definition ARN or label.
func familyOf(ref string) string {
	l := labelOf(ref)
	if i := strings.LastIndex(l, ":"); i >= 0 {
		return l[:i]
	}
	return l
}

// revisionNumber returns the revision number of an ARN or label, 0 if none.
func revisionNumber(ref string) int {
	l := labelOf(ref)
	if i := strings.LastIndex(l, ":"); i >= 0 {
		n, _ := strconv.Atoi(l[i+1:])
		return n
	}
	return 0
}
