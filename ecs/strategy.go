package ecs

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

// checkStrategy refuses, before any call, a strategy ECS cannot carry out:
// a minimum-healthy-hosts rule (ECS services deploy by percentages of
// tasks, set with the service's minimumHealthyPercent), and steps that map
// onto none of ECS's native strategies.
func checkStrategy(req deploy.Request, o DeployOptions) error {
	if err := checkStrategyPlatform(req.Strategy); err != nil {
		return err
	}
	if req.Strategy.MinHealthy != nil {
		return deploy.UnsupportedStrategy(Platform, req.Strategy,
			"keep a minimum of healthy hosts: ECS replaces a service's tasks by percentages (the service's minimumHealthyPercent)")
	}
	if len(req.Strategy.Steps) == 0 {
		return nil
	}
	_, _, err := deploymentConfig(nil, deploy.Request{Strategy: req.Strategy}, DeployOptions{BlueGreen: o.BlueGreen})
	if errors.Is(err, deploy.ErrUnsupported) {
		return err
	}
	return nil
}

// deploymentConfig returns cur with the request's strategy, rollback policy,
// bake time, alarms and hooks applied, and notes about roundings. cur is
// not modified. A zero request strategy (no steps) keeps the service's own
// strategy; an explicit all-at-once one is ROLLING (BLUE_GREEN with
// o.BlueGreen). Strategies ECS cannot follow natively (approval steps,
// uneven increments) are refused with deploy.UnsupportedStrategy. A
// rollback (req.RollbackOf set) drops the service's PAUSE hooks, so it
// never waits for an approval, and an all-at-once one stays ROLLING unless
// Lambda hooks remain (then BLUE_GREEN).
func deploymentConfig(cur *types.DeploymentConfiguration, req deploy.Request, o DeployOptions) (*types.DeploymentConfiguration, []string, error) {
	var dc types.DeploymentConfiguration
	if cur != nil {
		dc = *cur
	}
	var notes []string
	minutes := func(field string, d time.Duration) (int32, error) {
		if d < 0 {
			return 0, deploy.Invalid(field, d.String(), "must not be negative")
		}
		m := int32(math.Ceil(d.Minutes()))
		if m > 1440 {
			return 0, deploy.Invalid(field, d.String(), "ECS allows at most 1440 minutes")
		}
		if time.Duration(m)*time.Minute != d {
			notes = append(notes, fmt.Sprintf("%s %s rounded up to %d minute(s): ECS bakes in whole minutes", field, d, m))
		}
		return m, nil
	}
	if len(req.Strategy.Steps) > 0 || o.BlueGreen {
		if err := req.Strategy.Validate(); err != nil {
			return nil, nil, err
		}
		sh := req.Strategy.Shape()
		switch sh.Kind {
		case "all-at-once":
			dc.Strategy = types.DeploymentStrategyRolling
			if o.BlueGreen {
				dc.Strategy = types.DeploymentStrategyBlueGreen
			}
			dc.CanaryConfiguration, dc.LinearConfiguration = nil, nil
		case "canary":
			if sh.Percent < 0.1 || sh.Percent > 100 {
				return nil, nil, deploy.UnsupportedStrategy(Platform, req.Strategy, "shift a canary of less than 0.1%")
			}
			m, err := minutes("strategy.canaryBake", sh.Interval)
			if err != nil {
				return nil, nil, err
			}
			dc.Strategy = types.DeploymentStrategyCanary
			dc.CanaryConfiguration = &types.CanaryConfiguration{CanaryPercent: aws.Float64(sh.Percent), CanaryBakeTimeInMinutes: aws.Int32(m)}
			dc.LinearConfiguration = nil
		case "linear":
			if sh.Percent < 3 || sh.Percent > 100 {
				return nil, nil, deploy.UnsupportedStrategy(Platform, req.Strategy, "shift linear steps of less than 3%")
			}
			m, err := minutes("strategy.stepBake", sh.Interval)
			if err != nil {
				return nil, nil, err
			}
			dc.Strategy = types.DeploymentStrategyLinear
			dc.LinearConfiguration = &types.LinearConfiguration{StepPercent: aws.Float64(sh.Percent), StepBakeTimeInMinutes: aws.Int32(m)}
			dc.CanaryConfiguration = nil
		default:
			return nil, nil, deploy.UnsupportedStrategy(Platform, req.Strategy,
				"follow these steps: ECS deploys rolling, blue/green, canary (P%, bake, 100%) or linear (P% every T); use a PAUSE lifecycle hook for approvals")
		}
	}
	if o.BakeTime > 0 {
		m, err := minutes("bakeTime", o.BakeTime)
		if err != nil {
			return nil, nil, err
		}
		dc.BakeTimeInMinutes = aws.Int32(m)
	}
	if req.RollbackOn.Has(deploy.OnFailure) {
		dc.DeploymentCircuitBreaker = &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}
	}
	if len(o.Alarms) > 0 {
		dc.Alarms = &types.DeploymentAlarms{
			AlarmNames: append([]string(nil), o.Alarms...),
			Enable:     true,
			Rollback:   req.RollbackOn.Has(deploy.OnAlarm),
		}
	} else if dc.Alarms != nil && req.RollbackOn.Has(deploy.OnAlarm) && !dc.Alarms.Rollback {
		a := *dc.Alarms
		a.Rollback = true
		dc.Alarms = &a
	}
	if o.Hooks == nil && req.RollbackOf != "" && len(dc.LifecycleHooks) > 0 {
		// A rollback does not wait at the service's PAUSE hooks.
		keep := []types.DeploymentLifecycleHook{}
		for _, h := range dc.LifecycleHooks {
			if h.TargetType != types.DeploymentLifecycleHookTargetTypePause {
				keep = append(keep, h)
			}
		}
		dc.LifecycleHooks = keep
		if len(keep) > 0 && dc.Strategy == types.DeploymentStrategyRolling {
			// The service's Lambda hooks still run, which ROLLING cannot.
			dc.Strategy = types.DeploymentStrategyBlueGreen
		}
	}
	if o.Hooks != nil {
		if dc.Strategy == "" || dc.Strategy == types.DeploymentStrategyRolling {
			return nil, nil, deploy.Invalid("hooks", "", "lifecycle hooks need a blue/green, linear or canary strategy")
		}
		dc.LifecycleHooks = nil
		for _, h := range o.Hooks {
			lh := types.DeploymentLifecycleHook{TargetType: types.DeploymentLifecycleHookTargetTypeAwsLambda}
			if h.Pause {
				lh.TargetType = types.DeploymentLifecycleHookTargetTypePause
			} else {
				lh.HookTargetArn = aws.String(h.FunctionARN)
				role := h.RoleARN
				if role == "" {
					role = o.HookRoleARN
				}
				lh.RoleArn = aws.String(role)
				if h.Details != nil {
					doc, err := hookDetailsDocument(h.Details)
					if err != nil {
						return nil, nil, deploy.Invalid("hooks.details", "", err.Error())
					}
					lh.HookDetails = doc
				}
			}
			for _, s := range h.Stages {
				lh.LifecycleStages = append(lh.LifecycleStages, types.DeploymentLifecycleHookStage(s))
			}
			dc.LifecycleHooks = append(dc.LifecycleHooks, lh)
		}
	}
	return &dc, notes, nil
}

// strategyOf describes an ECS deployment configuration as an engine
// strategy, for the deployments the driver reports.
func strategyOf(dc *types.DeploymentConfiguration) deploy.Strategy {
	if dc == nil {
		return deploy.AllAtOnce()
	}
	switch dc.Strategy {
	case types.DeploymentStrategyCanary:
		if c := dc.CanaryConfiguration; c != nil && c.CanaryPercent != nil && *c.CanaryPercent < 100 {
			return deploy.Canary(*c.CanaryPercent, time.Duration(aws.ToInt32(c.CanaryBakeTimeInMinutes))*time.Minute)
		}
	case types.DeploymentStrategyLinear:
		if c := dc.LinearConfiguration; c != nil && c.StepPercent != nil && *c.StepPercent >= 1 {
			return deploy.Linear(*c.StepPercent, time.Duration(aws.ToInt32(c.StepBakeTimeInMinutes))*time.Minute)
		}
	}
	return deploy.AllAtOnce()
}
