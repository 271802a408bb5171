package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
)

// StatusQuery names one deployment for StatusMany.
type StatusQuery struct {
	// ID is the CodeDeploy deployment ID. It must not be empty.
	ID string
	// Last is the deployment as the caller last reported it, or nil. Only
	// CodeDeployOptions.TargetsOnChange reads it, and never modifies it.
	Last *deploy.Deployment
}

// StatusMany reads many deployments with few calls and reports each as
// Status would. It changes nothing.
//
// The deployment records come from BatchGetDeployments, MaxBatchGetDeployments
// IDs a request, and so do the records of the rollback deployments
// CodeDeploy made for them (in the same requests' answers when the caller
// asked for those too). The targets stay one deployment at a time, as
// CodeDeploy's API has them (ListDeploymentTargets and
// BatchGetDeploymentTargets both take one deployment ID), and are read as
// Status reads them, except under TargetsOnChange. A poll of n live
// deployments with k targets each therefore costs ceil(n/25)
// BatchGetDeployments plus n times (1 + ceil(k/25)) target calls, where
// Status costs n times (2 + ceil(k/25)); deployments that CodeDeploy is
// rolling back add one BatchGetDeployments per 25 rollback deployments not
// among them.
//
// CodeDeploy refuses a whole BatchGetDeployments request when one of its IDs
// is malformed (InvalidDeploymentIdException), and its API reference does
// not say what it answers for a well-formed ID it does not know (the fake
// and emulators leave it out): StatusMany asks for each ID of a refused
// request, and each ID an answer left out, alone with GetDeployment, so that one bad ID costs a call of its own and never the
// report of the others, and an unknown one gets CodeDeploy's own answer
// (DeploymentDoesNotExistException, an error wrapping deploy.ErrNotFound).
// Any other failure of a request (throttling, the network) is the error of
// each deployment it asked for.
//
// The result has one state and one error per query, in order: states[i] is
// nil exactly when errs[i] is not. Each error is a *deploy.Error whose
// DeploymentID is qs[i].ID, wrapped as Wrap classifies it (an empty ID
// wraps deploy.ErrInvalidRequest). A context that is done gives its error
// for every query, before any call. Queries with the same ID read it once
// and get separate states. The caller must not modify a query's Last while
// StatusMany runs.
func (c *CodeDeploy) StatusMany(ctx context.Context, qs []StatusQuery) (states []*DeploymentState, errs []error) {
	states = make([]*DeploymentState, len(qs))
	errs = make([]error, len(qs))
	if err := ctx.Err(); err != nil {
		for i, q := range qs {
			errs[i] = WrapDeployment(c.opts.Platform, "BatchGetDeployments", "", q.ID, err)
		}
		return states, errs
	}
	var ids []string
	seen := map[string]bool{}
	for i, q := range qs {
		if q.ID == "" {
			errs[i] = &deploy.Error{Platform: c.opts.Platform, Op: "BatchGetDeployments",
				Err: deploy.Invalid("deploymentId", "", "must not be empty")}
			continue
		}
		if !seen[q.ID] {
			seen[q.ID] = true
			ids = append(ids, q.ID)
		}
	}
	infos, failed := map[string]*cdtypes.DeploymentInfo{}, map[string]error{}
	c.getMany(ctx, ids, infos, failed)
	var rollbacks []string
	for _, id := range ids {
		info := infos[id]
		if info == nil || info.RollbackInfo == nil {
			continue
		}
		rb := aws.ToString(info.RollbackInfo.RollbackDeploymentId)
		if rb != "" && !seen[rb] {
			seen[rb] = true
			rollbacks = append(rollbacks, rb)
		}
	}
	c.getMany(ctx, rollbacks, infos, failed)
	now := c.opts.Clock.Now()
	read := map[string][]cdtypes.DeploymentTarget{}
	readErr := map[string]error{}
	for i, q := range qs {
		if errs[i] != nil {
			continue
		}
		if err := failed[q.ID]; err != nil {
			errs[i] = err
			continue
		}
		got := infos[q.ID]
		if got == nil { // getMany answers every ID it is given; never here
			errs[i] = &deploy.Error{Platform: c.opts.Platform, Op: "BatchGetDeployments", DeploymentID: q.ID,
				Err: fmt.Errorf("%w: deployment %s was not read", deploy.ErrNotFound, q.ID)}
			continue
		}
		info := *got
		s := newState(q.ID, &info)
		if s.RolledBackBy != "" {
			if err := resolveRollback(s, infos[s.RolledBackBy], failed[s.RolledBackBy]); err != nil {
				errs[i] = err
				continue
			}
		}
		if c.wantTargets(s) {
			if last := c.unchanged(s, q.Last); last != nil {
				reuse(s, last, now)
				states[i] = s
				continue
			}
			targets, ok := read[q.ID]
			err := readErr[q.ID]
			if !ok && err == nil {
				targets, err = c.targets(ctx, q.ID)
				read[q.ID], readErr[q.ID] = targets, err
			}
			if err != nil {
				errs[i] = err
				continue
			}
			s.Targets = targets
		}
		finish(s, now)
		states[i] = s
	}
	return states, errs
}

// getMany reads the records of ids into infos, MaxBatchGetDeployments a
// BatchGetDeployments request, and the error of each it could not read
// into failed. An ID whose request was refused as malformed, or that the
// answer left out, is asked for alone (GetDeployment).
func (c *CodeDeploy) getMany(ctx context.Context, ids []string, infos map[string]*cdtypes.DeploymentInfo, failed map[string]error) {
	var alone []string
	for start := 0; start < len(ids); start += MaxBatchGetDeployments {
		chunk := ids[start:min(start+MaxBatchGetDeployments, len(ids))]
		out, err := c.api.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: chunk})
		if err != nil {
			var malformed *cdtypes.InvalidDeploymentIdException
			if errors.As(err, &malformed) && len(chunk) > 1 {
				alone = append(alone, chunk...)
				continue
			}
			for _, id := range chunk {
				failed[id] = WrapDeployment(c.opts.Platform, "BatchGetDeployments", "", id, err)
			}
			continue
		}
		asked := make(map[string]bool, len(chunk))
		for _, id := range chunk {
			asked[id] = true
		}
		for j := range out.DeploymentsInfo {
			info := &out.DeploymentsInfo[j]
			if id := aws.ToString(info.DeploymentId); asked[id] && infos[id] == nil {
				infos[id] = info
			}
		}
		for _, id := range chunk {
			if infos[id] == nil {
				alone = append(alone, id)
			}
		}
	}
	for _, id := range alone {
		info, err := c.get(ctx, id)
		if err != nil {
			failed[id] = err
			continue
		}
		infos[id] = info
	}
}

// unchanged returns last when TargetsOnChange lets s stand on last's
// instances instead of reading its targets again: s is a live
// EC2/on-premises deployment that CodeDeploy is not rolling back, and last
// reported the same deployment with the same status and, instance by
// instance, the counts s's DeploymentOverview gives (Pending, InProgress,
// Succeeded, Failed, Skipped, Ready). It returns nil otherwise.
func (c *CodeDeploy) unchanged(s *DeploymentState, last *deploy.Deployment) *deploy.Deployment {
	if !c.opts.TargetsOnChange || last == nil || last.ID != s.ID || s.ComputePlatform != cdtypes.ComputePlatformServer ||
		s.RolledBackBy != "" || s.Status.Terminal() || last.Status != s.Status || len(last.Instances) == 0 {
		return nil
	}
	o := s.Info.DeploymentOverview
	if o == nil {
		return nil
	}
	var n [6]int64 // Pending, InProgress, Succeeded, Failed, Skipped, Ready
	for _, in := range last.Instances {
		switch in.Status {
		case deploy.StatusQueued:
			n[0]++
		case deploy.StatusInProgress:
			n[1]++
		case deploy.StatusSucceeded:
			n[2]++
		case deploy.StatusFailed:
			n[3]++
		case deploy.StatusStopped:
			n[4]++
		case deploy.StatusReady:
			n[5]++
		default:
			// A target CodeDeploy reported as Unknown: read again.
			return nil
		}
	}
	if n != [6]int64{o.Pending, o.InProgress, o.Succeeded, o.Failed, o.Skipped, o.Ready} {
		return nil
	}
	return last
}

// reuse finishes s with last's instances and their messages standing in
// for targets not read again.
func reuse(s *DeploymentState, last *deploy.Deployment, now time.Time) {
	s.Instances = make([]deploy.Instance, len(last.Instances))
	var prefixes []string
	for i, in := range last.Instances {
		in.Lifecycle = append([]deploy.LifecycleEvent(nil), in.Lifecycle...)
		s.Instances[i] = in
		prefixes = append(prefixes, in.ID+"/")
	}
	var carried []deploy.Message
	for _, m := range last.Messages {
		for _, p := range prefixes {
			if strings.HasPrefix(m.ID, p) {
				carried = append(carried, m)
				break
			}
		}
	}
	s.UpdatedAt = last.UpdatedAt
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = now
	}
	s.Percent = percent(s)
	s.Messages = messages(s, now, carried)
}
