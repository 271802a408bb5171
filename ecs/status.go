package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

// describeServicesBatch is how many services DescribeServices takes per call.
const describeServicesBatch = 10

// describeServiceDeploymentsBatch is how many ARNs DescribeServiceDeployments
// takes per call.
const describeServiceDeploymentsBatch = 20

// Status reports where ECS is with dep: from the service deployment
// (DescribeServiceDeployments) where that API exists, and from the
// service's deployments (DescribeServices) otherwise. It changes nothing,
// dep included: it returns a new Deployment with dep's ID, Target and To.
// Percent is the share of production traffic on To where ECS shifts
// traffic (blue/green, canary, linear), else the share of the service's
// running tasks that run To. A deployment ECS rolled back (circuit breaker,
// alarm, stop with rollback) is StatusRolledBack with Percent 0; the
// service's events since the deployment began are in Messages, oldest
// first. An ID the service does not know gives an error wrapping
// deploy.ErrNotFound.
func (d *Driver) Status(ctx context.Context, dep *deploy.Deployment) (*deploy.Deployment, error) {
	out, errs := d.statusMany(ctx, []*deploy.Deployment{dep})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return out[0], nil
}

// StatusMany reports the status of many deployments with few calls:
// DescribeServices takes ten services of a cluster per call and
// DescribeServiceDeployments twenty deployments per call; the CodeDeploy
// deployments of CODE_DEPLOY services (blue/green through CodeDeploy) are
// read through platform.CodeDeploy.StatusMany, their records 25 to a
// BatchGetDeployments request and each one's targets on its own. Status is
// StatusMany of one deployment, so the two always agree. It changes
// nothing. The result has one entry per input, in the same order, nil
// exactly where that deployment could not be reported; the error then
// joins (errors.Join) one *deploy.Error per nil entry, whose DeploymentID
// names it.
func (d *Driver) StatusMany(ctx context.Context, deps []*deploy.Deployment) ([]*deploy.Deployment, error) {
	out, errs := d.statusMany(ctx, deps)
	return out, errors.Join(errs...)
}

func (d *Driver) statusMany(ctx context.Context, deps []*deploy.Deployment) ([]*deploy.Deployment, []error) {
	out := make([]*deploy.Deployment, len(deps))
	errAt := make([]error, len(deps))
	inOrder := func() []error {
		var errs []error
		for _, err := range errAt {
			if err != nil {
				errs = append(errs, err)
			}
		}
		return errs
	}
	if err := ctx.Err(); err != nil {
		for i, dep := range deps {
			if dep == nil {
				errAt[i] = wrap("status", deploy.Target{}, "", err)
			} else {
				errAt[i] = wrap("status", dep.Target, dep.ID, err)
			}
		}
		return out, inOrder()
	}
	type ref struct {
		i                int
		cluster, service string
		det              *deployment
	}
	refs := make([]ref, 0, len(deps))
	// CodeDeploy deployments (CODE_DEPLOY services), read in one batch.
	var cdAt []int
	var cdDeps []*deploy.Deployment
	var cdDets []*deployment
	for i, dep := range deps {
		if dep == nil || dep.ID == "" {
			errAt[i] = wrap("status", deploy.Target{}, "", deploy.Invalid("deployment", "", "required"))
			continue
		}
		cluster, service, err := parseTarget(dep.Target)
		if err != nil {
			errAt[i] = wrap("status", dep.Target, dep.ID, err)
			continue
		}
		det, _ := dep.Detail.(*deployment)
		if det != nil && det.codeDeployID != "" {
			cdAt, cdDeps, cdDets = append(cdAt, i), append(cdDeps, dep), append(cdDets, det)
			continue
		}
		refs = append(refs, ref{i, cluster, service, det})
	}
	if len(cdAt) > 0 {
		nds, errs := d.codeDeployStatusMany(ctx, cdDeps, cdDets)
		for j, i := range cdAt {
			if errs[j] != nil {
				errAt[i] = wrap("status", deps[i].Target, deps[i].ID, errs[j])
				continue
			}
			out[i] = nds[j]
		}
	}
	// DescribeServices, ten per call per cluster.
	services := map[string]*types.Service{} // cluster + "/" + service
	byCluster := map[string][]string{}
	var clusters []string
	for _, r := range refs {
		if _, ok := byCluster[r.cluster]; !ok {
			clusters = append(clusters, r.cluster)
		}
		if !contains(byCluster[r.cluster], r.service) {
			byCluster[r.cluster] = append(byCluster[r.cluster], r.service)
		}
	}
	failed := map[string]error{}
	for _, c := range clusters {
		names := byCluster[c]
		for len(names) > 0 {
			n := min(describeServicesBatch, len(names))
			res, err := d.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(c), Services: names[:n]})
			for _, s := range names[:n] {
				if err != nil {
					failed[c+"/"+s] = err
				}
			}
			if err == nil {
				for j := range res.Services {
					s := &res.Services[j]
					services[c+"/"+aws.ToString(s.ServiceName)] = s
				}
			}
			names = names[n:]
		}
	}
	// Service deployments, twenty per call.
	var arns []string
	for _, r := range refs {
		if r.det == nil {
			if id := deps[r.i].ID; isServiceDeploymentARN(id) && !contains(arns, id) {
				arns = append(arns, id)
			}
			continue
		}
		if arn, fb := r.det.state(); arn == "" && !fb {
			d.resolveServiceDeployment(ctx, r.det, services[r.cluster+"/"+r.service], deps[r.i].CreatedAt)
		}
		if arn, _ := r.det.state(); arn != "" && !contains(arns, arn) {
			arns = append(arns, arn)
		}
	}
	sds := map[string]*types.ServiceDeployment{}
	for len(arns) > 0 {
		n := min(describeServiceDeploymentsBatch, len(arns))
		res, err := d.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: arns[:n]})
		if err != nil && !isUnavailable(err) {
			for _, a := range arns[:n] {
				failed["sd:"+a] = err
			}
		}
		if err == nil {
			for j := range res.ServiceDeployments {
				sd := &res.ServiceDeployments[j]
				sds[aws.ToString(sd.ServiceDeploymentArn)] = sd
			}
		}
		arns = arns[n:]
	}
	for _, r := range refs {
		dep := deps[r.i]
		key := r.cluster + "/" + r.service
		if err := failed[key]; err != nil {
			errAt[r.i] = wrap("status", dep.Target, dep.ID, err)
			continue
		}
		svc := services[key]
		if svc == nil || aws.ToString(svc.Status) == "INACTIVE" {
			errAt[r.i] = wrap("status", dep.Target, dep.ID,
				fmt.Errorf("%w: service %s in cluster %s", deploy.ErrNotFound, r.service, r.cluster))
			continue
		}
		var sd *types.ServiceDeployment
		if r.det == nil && isServiceDeploymentARN(dep.ID) {
			if err := failed["sd:"+dep.ID]; err != nil {
				errAt[r.i] = wrap("status", dep.Target, dep.ID, err)
				continue
			}
			if sd = sds[dep.ID]; sd == nil {
				errAt[r.i] = wrap("status", dep.Target, dep.ID,
					fmt.Errorf("%w: service deployment %s", deploy.ErrNotFound, dep.ID))
				continue
			}
		}
		if r.det != nil {
			if arn, _ := r.det.state(); arn != "" {
				if err := failed["sd:"+arn]; err != nil {
					errAt[r.i] = wrap("status", dep.Target, dep.ID, err)
					continue
				}
				sd = sds[arn]
			}
		}
		nd, err := d.evaluate(ctx, dep, r.det, svc, sd)
		if err != nil {
			errAt[r.i] = wrap("status", dep.Target, dep.ID, err)
			continue
		}
		out[r.i] = nd
	}
	return out, inOrder()
}

// evaluate turns what ECS said into the deployment's new snapshot.
func (d *Driver) evaluate(ctx context.Context, dep *deploy.Deployment, det *deployment, svc *types.Service, sd *types.ServiceDeployment) (*deploy.Deployment, error) {
	nd := dep.Clone()
	ours, waitUntil, ecsID := dep.To.ID, WaitStable, dep.ID
	switch {
	case det != nil:
		ours, waitUntil, ecsID = det.taskDef, det.waitUntil, det.ecsID
	case sd != nil:
		if ours == "" {
			td, err := d.revisionTaskDefinition(ctx, sd)
			if err != nil {
				return nil, err
			}
			ours = td
		}
	default:
		own := deploymentByID(svc, dep.ID)
		if own == nil {
			return nil, fmt.Errorf("%w: service %s has no deployment %s", deploy.ErrNotFound, aws.ToString(svc.ServiceName), dep.ID)
		}
		ours = aws.ToString(own.TaskDefinition)
	}
	var v verdict
	if sd != nil {
		v = judgeServiceDeployment(sd, svc, ecsID, ours, waitUntil)
	} else {
		v = judgeDeployments(svc, ecsID, ours, waitUntil)
	}
	if det != nil {
		det.mu.Lock()
		switch {
		case det.ended != nil:
			v = *det.ended
		case v.status == deploy.StatusSucceeded || v.status == deploy.StatusRolledBack || v.status == deploy.StatusStopped:
			e := v
			det.ended = &e
		}
		det.mu.Unlock()
	}
	now := d.clock.Now()
	nd.Status, nd.Percent, nd.Reason = v.status, v.percent, v.reason
	nd.Step = stepOf(nd.Strategy, v.percent, v.status)
	nd.UpdatedAt = now
	if nd.Status.Terminal() && nd.EndedAt.IsZero() {
		nd.EndedAt = now
	}
	nd.Messages = mergeMessages(nd.Messages, serviceMessages(svc, dep.CreatedAt))
	if sd != nil {
		nd.Messages = mergeMessages(nd.Messages, stageMessages(sd, now))
	}
	return nd, nil
}

// verdict is what a judge function concluded.
type verdict struct {
	status  deploy.Status
	percent float64
	reason  string
}

// stable reports whether the service runs ours alone and at its desired
// count.
func stable(svc *types.Service, ours string) bool {
	if len(svc.Deployments) != 1 {
		return false
	}
	p := svc.Deployments[0]
	return aws.ToString(p.TaskDefinition) == ours && p.RunningCount == p.DesiredCount &&
		(p.RolloutState == "" || p.RolloutState == types.DeploymentRolloutStateCompleted)
}

// taskShare is the share (0..100) of the service's running tasks that run
// the task definition ours.
func taskShare(svc *types.Service, ours string) float64 {
	var mine, all int32
	for _, d := range svc.Deployments {
		all += d.RunningCount
		if aws.ToString(d.TaskDefinition) == ours {
			mine += d.RunningCount
		}
	}
	if all <= 0 {
		return 0
	}
	return float64(mine) / float64(all) * 100
}

// judgeDeployments decides from DescribeServices alone (the fallback where
// the service-deployments API is missing). ECS's circuit breaker rolls back
// by making the previous task definition PRIMARY again: a deployment whose
// PRIMARY is no longer ours is RolledBack, never Succeeded.
func judgeDeployments(svc *types.Service, id, ours, waitUntil string) verdict {
	own := deploymentByID(svc, id)
	primary := primaryOf(svc)
	primaryTD := ""
	if primary != nil {
		primaryTD = aws.ToString(primary.TaskDefinition)
	}
	if own != nil && own.RolloutState == types.DeploymentRolloutStateFailed {
		reason := aws.ToString(own.RolloutStateReason)
		if primary != nil && primaryTD != ours {
			if !stable(svc, primaryTD) {
				return verdict{deploy.StatusInProgress, 0, "rolling back to " + labelOf(primaryTD) + ": " + reason}
			}
			return verdict{deploy.StatusRolledBack, 0, "circuit breaker rolled back to " + labelOf(primaryTD) + ": " + reason}
		}
		return verdict{deploy.StatusFailed, taskShare(svc, ours), reason}
	}
	if primary != nil && primaryTD != ours && (own == nil || own != primary) && aws.ToString(svc.TaskDefinition) != ours {
		if own != nil && !stable(svc, primaryTD) {
			return verdict{deploy.StatusInProgress, 0, "rolling back to " + labelOf(primaryTD)}
		}
		reason := fmt.Sprintf("the PRIMARY deployment runs %s, not %s", labelOf(primaryTD), labelOf(ours))
		if ev := failureEvent(svc, id); ev != "" {
			reason += ": " + ev
		}
		return verdict{deploy.StatusRolledBack, 0, reason}
	}
	if own == nil || aws.ToString(own.TaskDefinition) != ours {
		if primary != nil && primaryTD == ours {
			own = primary // Superseded by a deployment of the same task definition.
		} else {
			return verdict{deploy.StatusInProgress, 0, "ECS has not started a deployment of " + labelOf(ours) + " yet"}
		}
	}
	pct := taskShare(svc, ours)
	switch {
	case waitUntil == WaitDeployed && (own.RolloutState == types.DeploymentRolloutStateCompleted ||
		own.RolloutState == "" && own.RunningCount == own.DesiredCount && own == primary):
		return verdict{deploy.StatusSucceeded, 100, ""}
	case waitUntil != WaitDeployed && stable(svc, ours):
		return verdict{deploy.StatusSucceeded, 100, ""}
	}
	return verdict{deploy.StatusInProgress, pct, ""}
}

// judgeServiceDeployment decides from the ECS service deployment, with the
// service for stability and the circuit-breaker check.
func judgeServiceDeployment(sd *types.ServiceDeployment, svc *types.Service, id, ours, waitUntil string) verdict {
	pct := taskShare(svc, ours)
	if t := sd.TargetServiceRevision; t != nil && t.RequestedProductionTrafficWeight != nil {
		pct = *t.RequestedProductionTrafficWeight
	}
	why := func(base string) string {
		var parts []string
		if base != "" {
			parts = append(parts, base)
		}
		if s := aws.ToString(sd.StatusReason); s != "" {
			parts = append(parts, s)
		}
		if a := sd.Alarms; a != nil && len(a.TriggeredAlarmNames) > 0 {
			parts = append(parts, "alarm "+strings.Join(a.TriggeredAlarmNames, ", ")+" triggered")
		}
		if cb := sd.DeploymentCircuitBreaker; cb != nil && cb.Status == types.ServiceDeploymentRollbackMonitorsStatusTriggered {
			parts = append(parts, fmt.Sprintf("circuit breaker triggered (%d failed tasks)", cb.FailureCount))
		}
		if r := sd.Rollback; r != nil && aws.ToString(r.Reason) != "" && !contains(parts, aws.ToString(r.Reason)) {
			parts = append(parts, aws.ToString(r.Reason))
		}
		return strings.Join(parts, "; ")
	}
	switch sd.Status {
	case types.ServiceDeploymentStatusPending:
		return verdict{deploy.StatusCreated, 0, ""}
	case types.ServiceDeploymentStatusInProgress:
		for _, h := range sd.LifecycleHookDetails {
			if h.Status == types.DeploymentLifecycleHookStatusAwaitingAction {
				return verdict{deploy.StatusReady, pct, "paused at " + string(sd.LifecycleStage) + " hook " + aws.ToString(h.HookId)}
			}
		}
		if sd.LifecycleStage == types.ServiceDeploymentLifecycleStageBakeTime {
			return verdict{deploy.StatusBaking, pct, ""}
		}
		return verdict{deploy.StatusInProgress, pct, ""}
	case types.ServiceDeploymentStatusStopRequested, types.ServiceDeploymentStatusRollbackRequested,
		types.ServiceDeploymentStatusRollbackInProgress:
		return verdict{deploy.StatusInProgress, pct, why(strings.ToLower(strings.ReplaceAll(string(sd.Status), "_", " ")))}
	case types.ServiceDeploymentStatusRollbackSuccessful:
		return verdict{deploy.StatusRolledBack, 0, why("rolled back")}
	case types.ServiceDeploymentStatusRollbackFailed:
		return verdict{deploy.StatusFailed, pct, why("rollback failed")}
	case types.ServiceDeploymentStatusStopped:
		if cb := sd.DeploymentCircuitBreaker; cb != nil && cb.Status == types.ServiceDeploymentRollbackMonitorsStatusTriggered {
			return verdict{deploy.StatusFailed, pct, why("")}
		}
		if a := sd.Alarms; a != nil && len(a.TriggeredAlarmNames) > 0 {
			return verdict{deploy.StatusFailed, pct, why("")}
		}
		return verdict{deploy.StatusStopped, pct, why("stopped")}
	case types.ServiceDeploymentStatusSuccessful:
		if cur := aws.ToString(svc.CurrentServiceDeployment); cur != "" && cur != aws.ToString(sd.ServiceDeploymentArn) {
			// It completed, and a later deployment replaced it.
			return verdict{deploy.StatusSucceeded, 100, ""}
		}
		// Never a success when ECS no longer runs ours.
		if p := primaryOf(svc); p != nil && aws.ToString(p.TaskDefinition) != ours && aws.ToString(svc.TaskDefinition) != ours {
			return verdict{deploy.StatusRolledBack, 0, "the PRIMARY deployment runs " + labelOf(aws.ToString(p.TaskDefinition))}
		}
		if waitUntil == WaitDeployed || stable(svc, ours) {
			return verdict{deploy.StatusSucceeded, 100, ""}
		}
		return verdict{deploy.StatusInProgress, 100, "waiting for the service to be stable"}
	}
	return verdict{deploy.StatusInProgress, pct, "service deployment status " + string(sd.Status)}
}

// stepOf maps the traffic percentage onto the strategy's step index.
func stepOf(s deploy.Strategy, pct float64, st deploy.Status) int {
	steps := s.Normalized()
	step := 0
	for i, x := range steps {
		if x.Kind == deploy.StepShift && pct >= x.Percent {
			step = i
			if st == deploy.StatusBaking && i+1 < len(steps) && steps[i+1].Kind == deploy.StepBake {
				step = i + 1
			}
		}
	}
	return step
}

// serviceMessages returns the service events since since, oldest first.
// ECS lists them newest first and keeps the last hundred.
func serviceMessages(svc *types.Service, since time.Time) []deploy.Message {
	var out []deploy.Message
	for i := len(svc.Events) - 1; i >= 0; i-- {
		e := svc.Events[i]
		at := aws.ToTime(e.CreatedAt)
		if !since.IsZero() && at.Before(since.Add(-time.Second)) {
			continue
		}
		id := aws.ToString(e.Id)
		if id == "" {
			id = at.Format(time.RFC3339Nano) + " " + aws.ToString(e.Message)
		}
		out = append(out, deploy.Message{ID: "event:" + id, At: at, Text: aws.ToString(e.Message)})
	}
	return out
}

// stageMessages reports the service deployment's lifecycle stage, once per
// stage and traffic weight.
func stageMessages(sd *types.ServiceDeployment, now time.Time) []deploy.Message {
	if sd.LifecycleStage == "" {
		return nil
	}
	text := "lifecycle stage " + string(sd.LifecycleStage)
	id := "stage:" + string(sd.LifecycleStage)
	if t := sd.TargetServiceRevision; t != nil && t.RequestedProductionTrafficWeight != nil {
		w := fmt.Sprint(*t.RequestedProductionTrafficWeight)
		text += ", production traffic " + w + "%"
		id += ":" + w
	}
	at := aws.ToTime(sd.UpdatedAt)
	if at.IsZero() {
		at = now
	}
	return []deploy.Message{{ID: id, At: at, Text: text}}
}

// mergeMessages appends the messages of add whose IDs old lacks.
func mergeMessages(old, add []deploy.Message) []deploy.Message {
	seen := make(map[string]bool, len(old))
	for _, m := range old {
		seen[m.ID] = true
	}
	for _, m := range add {
		if !seen[m.ID] {
			seen[m.ID] = true
			old = append(old, m)
		}
	}
	return old
}

// serviceDeploymentStatus maps a service deployment status onto the
// engine's statuses.
func serviceDeploymentStatus(s types.ServiceDeploymentStatus) deploy.Status {
	switch s {
	case types.ServiceDeploymentStatusPending:
		return deploy.StatusCreated
	case types.ServiceDeploymentStatusSuccessful:
		return deploy.StatusSucceeded
	case types.ServiceDeploymentStatusStopped:
		return deploy.StatusStopped
	case types.ServiceDeploymentStatusRollbackSuccessful:
		return deploy.StatusRolledBack
	case types.ServiceDeploymentStatusRollbackFailed:
		return deploy.StatusFailed
	}
	return deploy.StatusInProgress
}

func firstTime(ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t != nil && !t.IsZero() {
			return *t
		}
	}
	return time.Time{}
}

// failureEvent returns the newest service event that names deployment id
// and says it failed or rolled back.
func failureEvent(svc *types.Service, id string) string {
	for _, e := range svc.Events {
		m := aws.ToString(e.Message)
		l := strings.ToLower(m)
		if id != "" && strings.Contains(m, id) && (strings.Contains(l, "fail") || strings.Contains(l, "roll")) {
			return m
		}
	}
	return ""
}

// revisionTaskDefinition returns the task definition of a service
// deployment's target revision.
func (d *Driver) revisionTaskDefinition(ctx context.Context, sd *types.ServiceDeployment) (string, error) {
	if sd.TargetServiceRevision == nil || sd.TargetServiceRevision.Arn == nil {
		return "", fmt.Errorf("%w: service deployment %s names no revision", deploy.ErrNotFound, aws.ToString(sd.ServiceDeploymentArn))
	}
	out, err := d.ecs.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{*sd.TargetServiceRevision.Arn}})
	if err != nil {
		return "", err
	}
	if len(out.ServiceRevisions) == 0 {
		return "", fmt.Errorf("%w: service revision %s", deploy.ErrNotFound, *sd.TargetServiceRevision.Arn)
	}
	return aws.ToString(out.ServiceRevisions[0].TaskDefinition), nil
}
