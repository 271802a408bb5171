package ecs

import (
	"fmt"
	"time"

	"github.com/switchyard/switchyard/deploy"
)

// WaitUntil values.
const (
	// WaitStable waits until the service is steady: one deployment left,
	// running the new task definition with runningCount == desiredCount.
	WaitStable = "stable"
	// WaitDeployed waits until the deployment itself completed (the service
	// deployment is SUCCESSFUL, or the PRIMARY rollout is COMPLETED), without
	// waiting for the old tasks to drain.
	WaitDeployed = "deployed"
)

// Hook stages where ECS runs lifecycle hooks (DeploymentLifecycleHookStage).
var hookStages = []string{
	"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
	"POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT",
	"POST_PRODUCTION_TRAFFIC_SHIFT",
}

// LifecycleHook is an ECS deployment lifecycle hook: a Lambda function ECS
// invokes at the named stages (or a pause until Continue, when Pause is set).
type LifecycleHook struct {
	// FunctionARN is the Lambda function ECS invokes. Required unless Pause.
	FunctionARN string
	// Stages are the ECS stage names, PRE_SCALE_UP through
	// POST_PRODUCTION_TRAFFIC_SHIFT (and RECONCILE_SERVICE). Required.
	Stages []string
	// RoleARN lets ECS invoke the function. Empty means DeployOptions.HookRoleARN.
	RoleARN string
	// Pause makes the hook a PAUSE hook: the deployment waits (StatusReady)
	// until Driver.Continue. PAUSE hooks cannot sit at TEST_TRAFFIC_SHIFT or
	// PRODUCTION_TRAFFIC_SHIFT.
	Pause bool
	// Details are custom parameters ECS passes to the function on each
	// invocation (hookDetails): any value encoding/json renders, usually a
	// map. Nil sends none. Not for PAUSE hooks.
	Details any
}

// DeployOptions describe an ECS deployment, after ecspresso's deploy
// command. They are passed as deploy.Request.Options (as DeployOptions or
// *DeployOptions). The zero value deploys the service's current task
// definition again with its current attributes and desired count, with the
// request's strategy (all at once is ECS's ROLLING), and waits until the
// service is stable.
//
// ecspresso's other commands are option sets: refresh is
// {SkipTaskDefinition, ForceNewDeployment, NoUpdateService} (a new
// deployment, nothing else changes), scale is {SkipTaskDefinition,
// NoUpdateService, Tasks} (the desired count only), and rollback is
// deploy.Engine.Rollback with a *RollbackOptions in
// deploy.RollbackRequest.Options. A request that returns once ECS accepted
// the deployment sets deploy.Request.NoWait.
//
// When deploy.Request.Revision names a task definition (an ARN or
// "family:N", as the engine's rollbacks do), that revision is deployed and
// the options that pick or register one (TaskDefinition,
// TaskDefinitionFile, SkipTaskDefinition, LatestTaskDefinition, Revision)
// are ignored.
type DeployOptions struct {
	// TaskDefinition is a task definition document to register: the output
	// of `aws ecs describe-task-definition` (its read-only fields are
	// dropped) or the RegisterTaskDefinition input, field names matched
	// case-insensitively. TaskDefinitionFile is read when TaskDefinition is
	// nil.
	TaskDefinition     []byte
	TaskDefinitionFile string
	// TaskDefinitionSource names where TaskDefinition came from (a
	// rendered file, say) in plans and the new revision's Source. Empty
	// means "inline".
	TaskDefinitionSource string
	// ServiceDefinition is a service definition document (the CreateService
	// input, or one service as `aws ecs describe-services` prints it), used
	// to create the service when it does not exist and, unless
	// NoUpdateService, to update its attributes. ServiceDefinitionFile is
	// read when ServiceDefinition is nil.
	ServiceDefinition     []byte
	ServiceDefinitionFile string

	// Tasks is the desired count; nil keeps the current count (or the
	// service definition's for a new service). Must not be negative.
	Tasks *int32
	// SkipTaskDefinition deploys the task definition the service runs now
	// (--skip-task-definition).
	SkipTaskDefinition bool
	// LatestTaskDefinition deploys the newest ACTIVE revision of the
	// family (--latest-task-definition). Not with Revision.
	LatestTaskDefinition bool
	// Revision deploys revision N of the service's task definition family
	// (--revision). A deploy.Request.Revision with an ARN or "family:N"
	// label does the same.
	Revision int
	// ForceNewDeployment starts a new deployment even when nothing changed.
	ForceNewDeployment bool
	// NoUpdateService leaves the service's attributes alone, its deployment
	// configuration included: ECS deploys with the service's own strategy,
	// and the plan's strategy says which (--no-update-service).
	NoUpdateService bool
	// WaitUntil is WaitStable (default) or WaitDeployed.
	WaitUntil string
	// SuspendAutoScaling and ResumeAutoScaling set the service's Application
	// Auto Scaling target's SuspendedState before the update. At most one.
	SuspendAutoScaling bool
	ResumeAutoScaling  bool

	// BlueGreen makes an all-at-once strategy ECS's BLUE_GREEN instead of
	// ROLLING.
	BlueGreen bool
	// BakeTime is deploymentConfiguration.bakeTimeInMinutes for blue/green,
	// linear and canary deployments (rounded up to whole minutes). Zero
	// keeps the service's.
	BakeTime time.Duration
	// Alarms are CloudWatch alarm names for deploymentConfiguration.alarms;
	// the deployment rolls back on them when the request's RollbackOn has
	// deploy.OnAlarm.
	Alarms []string
	// Hooks are the deployment's lifecycle hooks. Nil keeps the service's.
	Hooks []LifecycleHook
	// HookRoleARN is the default role for Hooks.
	HookRoleARN string
	// CodeDeployConfig names the CodeDeploy deployment configuration for
	// CODE_DEPLOY-controller services. Empty means the one that matches the
	// request's strategy (CodeDeployDefault.ECSAllAtOnce for all-at-once).
	CodeDeployConfig string
	// CodeDeployApplication and CodeDeployDeploymentGroup name the
	// CodeDeploy application and deployment group of a CODE_DEPLOY-controller
	// service. Empty means discovered, as ecspresso does: the deployment
	// group whose ecsServices lists the service, searched in
	// CodeDeployApplication when set, else in every ECS application (several
	// matches are an *AmbiguousDeploymentGroupError). When none matches, the
	// console's names, "AppECS-CLUSTER-SERVICE" and "DgpECS-CLUSTER-SERVICE",
	// are used, and the plan says so.
	CodeDeployApplication     string
	CodeDeployDeploymentGroup string
}

// RollbackOptions are the ecs driver's options for a rollback, passed as
// deploy.RollbackRequest.Options (as RollbackOptions or *RollbackOptions)
// to deploy.Engine.Rollback or PlanRollback. The engine resolves the
// revision (the last known good one from History, or the one named); the
// zero value returns the service to it and waits until it is stable.
type RollbackOptions struct {
	// Deregister deregisters the task definition the rollback moves away
	// from (ecspresso's rollback --deregister), once ECS has accepted the
	// rollback.
	Deregister bool
	// WaitUntil is WaitStable (default) or WaitDeployed.
	WaitUntil string
	// Tasks, when set, is the desired count the rollback sets; nil keeps
	// the current count. Must not be negative.
	Tasks *int32
}

// settings are a request's options as the driver works with them.
type settings struct {
	DeployOptions
	// rollback is set when the request carried RollbackOptions.
	rollback bool
	// deregister is RollbackOptions.Deregister.
	deregister bool
}

// settingsOf reads a request's options: DeployOptions, RollbackOptions (or
// pointers to them) or nil. A request that names its revision ignores the
// options that would pick or register another.
func settingsOf(req deploy.Request) (settings, error) {
	var s settings
	switch v := req.Options.(type) {
	case RollbackOptions:
		s = settings{DeployOptions: DeployOptions{WaitUntil: v.WaitUntil, Tasks: v.Tasks}, rollback: true, deregister: v.Deregister}
	case *RollbackOptions:
		s.rollback = true
		if v != nil {
			s.DeployOptions = DeployOptions{WaitUntil: v.WaitUntil, Tasks: v.Tasks}
			s.deregister = v.Deregister
		}
	default:
		o, err := deploy.OptionsOf[DeployOptions](req.Options)
		if err != nil {
			return s, deploy.Invalid("options", fmt.Sprintf("%T", req.Options), "want ecs.DeployOptions or ecs.RollbackOptions")
		}
		s.DeployOptions = o
	}
	if s.rollback && req.Revision.ID == "" && req.Revision.Label == "" {
		return s, deploy.Invalid("revision", "", "a rollback names the task definition to return to (use deploy.Engine.Rollback)")
	}
	if req.Revision.ID != "" || req.Revision.Label != "" {
		o := &s.DeployOptions
		o.TaskDefinition, o.TaskDefinitionFile = nil, ""
		o.SkipTaskDefinition, o.LatestTaskDefinition, o.Revision = false, false, 0
	}
	o, err := s.normalize()
	s.DeployOptions = o
	return s, err
}

// normalize checks the options against each other and fills in defaults.
// It is pure.
func (o DeployOptions) normalize() (DeployOptions, error) {
	if o.Tasks != nil {
		if err := checkDesiredCount("tasks", int(*o.Tasks)); err != nil {
			return o, err
		}
	}
	switch o.WaitUntil {
	case "":
		o.WaitUntil = WaitStable
	case WaitStable, WaitDeployed:
	default:
		return o, deploy.Invalid("waitUntil", o.WaitUntil, "want stable or deployed")
	}
	if o.Revision < 0 {
		return o, deploy.Invalid("revision", fmt.Sprint(o.Revision), "must be positive")
	}
	if o.Revision > 0 && o.LatestTaskDefinition {
		return o, deploy.Invalid("revision", fmt.Sprint(o.Revision), "not with latestTaskDefinition")
	}
	hasFile := o.TaskDefinition != nil || o.TaskDefinitionFile != ""
	if o.SkipTaskDefinition && (o.LatestTaskDefinition || o.Revision > 0) {
		return o, deploy.Invalid("skipTaskDefinition", "true", "not with latestTaskDefinition or revision")
	}
	if hasFile && (o.LatestTaskDefinition || o.Revision > 0) {
		return o, deploy.Invalid("taskDefinition", o.TaskDefinitionFile, "not with latestTaskDefinition or revision")
	}
	if o.SuspendAutoScaling && o.ResumeAutoScaling {
		return o, deploy.Invalid("suspendAutoScaling", "true", "not with resumeAutoScaling")
	}
	if o.BakeTime < 0 {
		return o, deploy.Invalid("bakeTime", o.BakeTime.String(), "must not be negative")
	}
	for i, h := range o.Hooks {
		f := fmt.Sprintf("hooks[%d]", i)
		if !h.Pause && h.FunctionARN == "" {
			return o, deploy.Invalid(f+".functionARN", "", "required for a Lambda hook")
		}
		if len(h.Stages) == 0 {
			return o, deploy.Invalid(f+".stages", "", "at least one stage is required")
		}
		for _, s := range h.Stages {
			if !contains(hookStages, s) {
				return o, deploy.Invalid(f+".stages", s, "want one of PRE_SCALE_UP ... POST_PRODUCTION_TRAFFIC_SHIFT")
			}
			if h.Pause && (s == "TEST_TRAFFIC_SHIFT" || s == "PRODUCTION_TRAFFIC_SHIFT") {
				return o, deploy.Invalid(f+".stages", s, "a pause hook cannot sit at a traffic shift")
			}
		}
		if h.Details != nil {
			if h.Pause {
				return o, deploy.Invalid(f+".details", "", "a pause hook takes no details")
			}
			if _, err := hookDetailsDocument(h.Details); err != nil {
				return o, deploy.Invalid(f+".details", "", err.Error())
			}
		}
		if h.RoleARN == "" && o.HookRoleARN == "" && !h.Pause {
			return o, deploy.Invalid(f+".roleARN", "", "a Lambda hook needs a role (RoleARN or HookRoleARN)")
		}
	}
	return o, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
