package ecs

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
)

// History returns the task definitions the service ran, newest first, one
// entry per deployment, with exactly one entry Current: the task definition
// that serves the service or, while a deployment is live or was stopped
// part way, the one that deployment moves tasks and traffic from. It
// changes nothing.
//
// With the service-deployments API each entry is a service deployment and
// its outcome (a rolled-back deployment is StatusRolledBack, so it never
// counts as known good), and the task definition the service ran before
// the oldest deployment ECS remembers is listed too (StatusSucceeded,
// without a DeploymentID). Without that API (an older partition, an
// emulator) the history is the family's ACTIVE revisions: those older than
// the current one count as succeeded, newer ones are left out (never
// deployed, or rolled back) unless the service is deploying one; a note
// event says so. An unknown service gives an error wrapping
// deploy.ErrNotFound.
func (d *Driver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("history", t, "", err)
	}
	cluster, service, err := parseTarget(t)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	svc, err := d.describeService(ctx, cluster, service)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	if svc == nil {
		return nil, wrap("history", t, "", fmt.Errorf("%w: service %s in cluster %s", deploy.ErrNotFound, service, cluster))
	}
	var h []deploy.HistoryEntry
	if d.noSD.Load() {
		err = errNoServiceDeployments
	} else {
		h, err = d.serviceDeploymentHistory(ctx, cluster, service, svc)
	}
	if isUnavailable(err) {
		d.noSD.Store(true)
		deploy.NotifierFrom(ctx)(deploy.EventNote,
			"ECS service-deployments API unavailable; history from task definition revisions")
		h, err = d.familyHistory(ctx, svc)
	}
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	return h, nil
}

// serviceDeploymentHistory builds the history from ListServiceDeployments,
// DescribeServiceDeployments (the newest and the oldest deployment, for the
// revisions they moved from) and DescribeServiceRevisions.
func (d *Driver) serviceDeploymentHistory(ctx context.Context, cluster, service string, svc *types.Service) ([]deploy.HistoryEntry, error) {
	var briefs []types.ServiceDeploymentBrief
	var token *string
	for {
		out, err := d.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
			Cluster: aws.String(cluster), Service: aws.String(service), NextToken: token}, probeOnce)
		if err != nil {
			return nil, err
		}
		briefs = append(briefs, out.ServiceDeployments...)
		if out.NextToken == nil || len(briefs) >= 100 {
			break
		}
		token = out.NextToken
	}
	sort.SliceStable(briefs, func(i, j int) bool { return aws.ToTime(briefs[i].CreatedAt).After(aws.ToTime(briefs[j].CreatedAt)) })
	current := aws.ToString(svc.TaskDefinition)

	// The revisions the newest deployment (when live or stopped) and the
	// oldest one moved from.
	var newestFrom, oldestFrom string // service revision ARNs
	split := len(briefs) > 0 && (isLive(briefs[0].Status) ||
		briefs[0].Status == types.ServiceDeploymentStatusStopped && len(svc.Deployments) > 1)
	var describe []string
	if split {
		describe = append(describe, aws.ToString(briefs[0].ServiceDeploymentArn))
	}
	if n := len(briefs); n > 0 && (!split || n > 1) {
		describe = append(describe, aws.ToString(briefs[n-1].ServiceDeploymentArn))
	}
	if len(describe) > 0 {
		out, err := d.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: describe})
		if err != nil {
			return nil, err
		}
		for _, sd := range out.ServiceDeployments {
			if len(sd.SourceServiceRevisions) == 0 {
				continue
			}
			src := aws.ToString(sd.SourceServiceRevisions[0].Arn)
			arn := aws.ToString(sd.ServiceDeploymentArn)
			if split && arn == describe[0] {
				newestFrom = src
			}
			if arn == aws.ToString(briefs[len(briefs)-1].ServiceDeploymentArn) {
				oldestFrom = src
			}
		}
	}

	// Service revision ARN -> task definition, 20 per call.
	taskDefs := map[string]string{}
	var arns []string
	for _, b := range briefs {
		if a := aws.ToString(b.TargetServiceRevisionArn); a != "" && !contains(arns, a) {
			arns = append(arns, a)
		}
	}
	for _, a := range []string{newestFrom, oldestFrom} {
		if a != "" && !contains(arns, a) {
			arns = append(arns, a)
		}
	}
	for len(arns) > 0 {
		n := min(20, len(arns))
		out, err := d.ecs.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: arns[:n]})
		if err != nil {
			return nil, err
		}
		for _, r := range out.ServiceRevisions {
			taskDefs[aws.ToString(r.ServiceRevisionArn)] = aws.ToString(r.TaskDefinition)
		}
		arns = arns[n:]
	}
	if split {
		if td := taskDefs[newestFrom]; td != "" {
			current = td
		}
	}

	var h []deploy.HistoryEntry
	for _, b := range briefs {
		td := taskDefs[aws.ToString(b.TargetServiceRevisionArn)]
		if td == "" {
			continue
		}
		e := deploy.HistoryEntry{
			Revision:     deploy.Revision{ID: td, Label: labelOf(td)},
			DeploymentID: aws.ToString(b.ServiceDeploymentArn),
			Status:       serviceDeploymentStatus(b.Status),
			At:           firstTime(b.FinishedAt, b.StartedAt, b.CreatedAt),
		}
		if e.Status == deploy.StatusSucceeded && td != current && familyOf(td) == familyOf(current) &&
			revisionNumber(td) > revisionNumber(current) {
			// The service went back to an older revision since: this
			// one was rolled back, so it is not known good.
			e.Status = deploy.StatusRolledBack
		}
		h = append(h, e)
	}
	if td := taskDefs[oldestFrom]; td != "" && (len(h) == 0 || h[len(h)-1].Revision.ID != td) {
		h = append(h, deploy.HistoryEntry{Revision: deploy.Revision{ID: td, Label: labelOf(td)}, Status: deploy.StatusSucceeded})
	}
	markCurrent(&h, current)
	return h, nil
}

// markCurrent marks the newest succeeded entry of task definition current
// as Current (else its newest entry), adding one when there is none.
func markCurrent(h *[]deploy.HistoryEntry, current string) {
	if current == "" {
		return
	}
	at := -1
	for i, e := range *h {
		if e.Revision.ID != current {
			continue
		}
		if e.Status == deploy.StatusSucceeded {
			at = i
			break
		}
		if at < 0 {
			at = i
		}
	}
	if at < 0 {
		*h = append(*h, deploy.HistoryEntry{Revision: deploy.Revision{ID: current, Label: labelOf(current)}, Status: deploy.StatusSucceeded})
		at = len(*h) - 1
	}
	(*h)[at].Current = true
}

// familyHistory builds the history from the family's ACTIVE revisions.
// While the PRIMARY deployment is in progress, the task definition still
// running beside it is current.
func (d *Driver) familyHistory(ctx context.Context, svc *types.Service) ([]deploy.HistoryEntry, error) {
	current := aws.ToString(svc.TaskDefinition)
	primary := primaryOf(svc)
	live := ""
	if primary != nil && primary.RolloutState == types.DeploymentRolloutStateInProgress {
		var from *types.Deployment
		for i := range svc.Deployments {
			o := &svc.Deployments[i]
			if o != primary && o.RunningCount > 0 && aws.ToString(o.TaskDefinition) != aws.ToString(primary.TaskDefinition) &&
				(from == nil || o.RunningCount > from.RunningCount) {
				from = o
			}
		}
		if from != nil {
			live, current = aws.ToString(primary.TaskDefinition), aws.ToString(from.TaskDefinition)
		}
	}
	family := familyOf(current)
	curRev := revisionNumber(current)
	var arns []string
	var token *string
	for {
		out, err := d.ecs.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{
			FamilyPrefix: aws.String(family), Sort: types.SortOrderDesc, NextToken: token,
			Status: types.TaskDefinitionStatusActive})
		if err != nil {
			return nil, err
		}
		arns = append(arns, out.TaskDefinitionArns...)
		if out.NextToken == nil || len(arns) >= 100 {
			break
		}
		token = out.NextToken
	}
	var h []deploy.HistoryEntry
	seen := false
	for _, a := range arns {
		if familyOf(a) != family {
			continue // FamilyPrefix matches "web-worker" for "web".
		}
		e := deploy.HistoryEntry{Revision: deploy.Revision{ID: a, Label: labelOf(a)}}
		switch n := revisionNumber(a); {
		case a == current:
			e.Status, e.Current, seen = deploy.StatusSucceeded, true, true
		case a == live:
			e.Status = deploy.StatusInProgress
		case n > curRev:
			// Registered and never deployed, or rolled back: nothing
			// says it ever served, so it is left out.
			continue
		default:
			e.Status = deploy.StatusSucceeded
		}
		h = append(h, e)
	}
	if !seen && current != "" {
		h = append(h, deploy.HistoryEntry{Revision: deploy.Revision{ID: current, Label: labelOf(current)},
			Status: deploy.StatusSucceeded, Current: true})
	}
	for i := range h {
		for _, o := range svc.Deployments {
			if aws.ToString(o.TaskDefinition) == h[i].Revision.ID && (h[i].Current || h[i].Revision.ID == live) {
				h[i].DeploymentID = aws.ToString(o.Id)
			}
		}
	}
	sort.SliceStable(h, func(i, j int) bool { return revisionNumber(h[i].Revision.ID) > revisionNumber(h[j].Revision.ID) })
	return h, nil
}

// errNoServiceDeployments stands for the service-deployments API answering
// as missing earlier; isUnavailable reports it.
var errNoServiceDeployments = &smithy.GenericAPIError{Code: "UnknownOperationException",
	Message: "the ECS service-deployments API answered as unavailable before"}
