package ecs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
)

// History returns the task definitions the service ran, newest first, with
// the current one marked. With the service-deployments API each entry is a
// service deployment and its outcome (a rolled-back deployment is
// StatusRolledBack, so it never counts as known good). Without it (an older
// partition, an emulator) the history is the family's ACTIVE revisions:
// those older than the current one count as succeeded, newer ones (never
// deployed, or rolled back) as failed; a note event says so.
func (d *Driver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
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
	if IsUnavailable(err) {
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

// serviceDeploymentHistory builds the history from ListServiceDeployments
// and DescribeServiceRevisions.
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
	// Service revision ARN -> task definition, 20 per call.
	taskDefs := map[string]string{}
	var arns []string
	for _, b := range briefs {
		if a := aws.ToString(b.TargetServiceRevisionArn); a != "" && !contains(arns, a) {
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
	current := aws.ToString(svc.TaskDefinition)
	var h []deploy.HistoryEntry
	currentSeen := false
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
		switch {
		case td == current && !currentSeen && (e.Status == deploy.StatusSucceeded || !e.Status.Terminal()):
			e.Current, currentSeen = true, true
		case e.Status == deploy.StatusSucceeded && familyOf(td) == familyOf(current) && revisionNumber(td) > revisionNumber(current):
			// The service went back to an older revision since: this
			// one was rolled back, so it is not known good.
			e.Status = deploy.StatusRolledBack
		}
		h = append(h, e)
	}
	if !currentSeen && current != "" {
		h = append(h, deploy.HistoryEntry{Revision: deploy.Revision{ID: current, Label: labelOf(current)},
			Status: deploy.StatusSucceeded, Current: true})
	}
	sort.SliceStable(h, func(i, j int) bool { return h[i].At.After(h[j].At) })
	return h, nil
}

// familyHistory builds the history from the family's ACTIVE revisions.
func (d *Driver) familyHistory(ctx context.Context, svc *types.Service) ([]deploy.HistoryEntry, error) {
	current := aws.ToString(svc.TaskDefinition)
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
		case n > curRev:
			e.Status = deploy.StatusFailed
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
		if p := primaryOf(svc); h[i].Current && p != nil && aws.ToString(p.TaskDefinition) == current {
			h[i].DeploymentID = aws.ToString(p.Id)
		}
	}
	sort.SliceStable(h, func(i, j int) bool { return revisionNumber(h[i].Revision.ID) > revisionNumber(h[j].Revision.ID) })
	return h, nil
}

// resolveRollback picks the task definition a rollback goes to: the
// request's revision, DeployOptions.Revision of the family, or the last
// known good one from History.
func (d *Driver) resolveRollback(ctx context.Context, req deploy.Request, o DeployOptions, svc *types.Service, family string) (string, error) {
	if svc == nil {
		return "", fmt.Errorf("%w: nothing to roll back: the service does not exist", deploy.ErrNotFound)
	}
	current := aws.ToString(svc.TaskDefinition)
	var to string
	switch {
	case req.Revision.ID != "":
		to = req.Revision.ID
	case req.Revision.Label != "":
		to = req.Revision.Label
	case o.Revision > 0:
		to = family + ":" + strconv.Itoa(o.Revision)
	default:
		h, err := d.History(ctx, req.Target)
		if err != nil {
			var de *deploy.Error
			if errors.As(err, &de) {
				err = de.Err
			}
			return "", err
		}
		good, ok := deploy.LastKnownGood(h)
		if !ok {
			return "", fmt.Errorf("%w: no earlier task definition of %s deployed successfully", deploy.ErrNotFound, labelOf(current))
		}
		to = good.Revision.ID
	}
	if to == current || labelOf(to) == labelOf(current) {
		return "", deploy.Invalid("revision", labelOf(to), "the service already runs this task definition")
	}
	return to, nil
}

// errNoServiceDeployments stands for the service-deployments API answering
// as missing earlier; IsUnavailable reports it.
var errNoServiceDeployments = &smithy.GenericAPIError{Code: "UnknownOperationException",
	Message: "the ECS service-deployments API answered as unavailable before"}
