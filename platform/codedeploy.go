package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
)

// CodeDeployAPI is the part of the CodeDeploy API the tracker uses.
// *codedeploy.Client satisfies it, and so does codedeployfake.Fake.
type CodeDeployAPI interface {
	CreateDeployment(ctx context.Context, in *codedeploy.CreateDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentOutput, error)
	GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error)
	StopDeployment(ctx context.Context, in *codedeploy.StopDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error)
	ContinueDeployment(ctx context.Context, in *codedeploy.ContinueDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ContinueDeploymentOutput, error)
	ListDeploymentTargets(ctx context.Context, in *codedeploy.ListDeploymentTargetsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentTargetsOutput, error)
	BatchGetDeploymentTargets(ctx context.Context, in *codedeploy.BatchGetDeploymentTargetsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentTargetsOutput, error)
	ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error)
	BatchGetDeployments(ctx context.Context, in *codedeploy.BatchGetDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentsOutput, error)
}

var _ CodeDeployAPI = (*codedeploy.Client)(nil)

// CodeDeployGroupsAPI is the read-only part of the CodeDeploy API that
// finds applications and deployment groups: what a driver needs to
// discover the deployment group of a resource (the ECS driver looks for the
// group whose ecsServices lists a service). *codedeploy.Client satisfies
// it, and so does codedeployfake.Fake. It is separate from CodeDeployAPI so
// that implementations of the tracker's interface need not grow.
type CodeDeployGroupsAPI interface {
	ListApplications(ctx context.Context, in *codedeploy.ListApplicationsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListApplicationsOutput, error)
	BatchGetApplications(ctx context.Context, in *codedeploy.BatchGetApplicationsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetApplicationsOutput, error)
	ListDeploymentGroups(ctx context.Context, in *codedeploy.ListDeploymentGroupsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentGroupsOutput, error)
	BatchGetDeploymentGroups(ctx context.Context, in *codedeploy.BatchGetDeploymentGroupsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentGroupsOutput, error)
}

var _ CodeDeployGroupsAPI = (*codedeploy.Client)(nil)

// MaxBatchGetDeployments is how many deployment IDs one BatchGetDeployments
// request may carry: 25, as the CodeDeploy API reference documents for its
// deploymentIds parameter ("The maximum number of deployment IDs you can
// specify is 25"). CodeDeploy refuses more with
// BatchLimitExceededException, whose documented message says 100, the
// limit of other CodeDeploy batch calls; the parameter's 25 is the one
// that holds.
const MaxBatchGetDeployments = 25

// maxBatchGetDeploymentTargets is BatchGetDeploymentTargets' limit on
// targetIds.
const maxBatchGetDeploymentTargets = 25

// DefaultHistoryLimit is the default of CodeDeployOptions.HistoryLimit.
const DefaultHistoryLimit = 100

// CodeDeployOptions configures a CodeDeploy tracker. The zero value of each
// field means its documented default.
type CodeDeployOptions struct {
	// Clock dates what CodeDeploy does not (UpdatedAt when no target says,
	// messages without a time). Default deploy.SystemClock{}.
	Clock deploy.Clock
	// Platform is the Platform field of the *deploy.Error values returned,
	// such as "lambda", "ec2" or "ecs". Default "codedeploy".
	Platform string
	// NoTargets skips ListDeploymentTargets and BatchGetDeploymentTargets in
	// Status: Instances stay empty and Percent comes from the deployment
	// overview alone. Use it for cheap polling of large fleets, or against
	// emulators that lack the target API.
	NoTargets bool
	// TargetsOnChange lets StatusMany skip the target reads
	// (ListDeploymentTargets, BatchGetDeploymentTargets) of a live
	// EC2/on-premises deployment whose status and instance counts
	// (DeploymentOverview) are what StatusQuery.Last reported: the state
	// then carries Last's instances and their lifecycle messages, and such
	// a poll costs only its share of a BatchGetDeployments request. The
	// price: an instance's lifecycle events are reported when its status
	// changes (it succeeds, fails, is skipped or waits in Ready), not as
	// each event starts and ends; every event is still reported, with
	// CodeDeploy's times, and Status, Percent and Reason are exact.
	// Lambda and ECS deployments always read their targets (their traffic
	// weights are there), and so do deployments that ended or are being
	// rolled back. Status ignores it. Default false: every poll reads the
	// targets.
	TargetsOnChange bool
	// HistoryLimit caps how many deployments History reads, in the order
	// ListDeployments returns them (newest first). Default
	// DefaultHistoryLimit.
	HistoryLimit int
}

// CodeDeploy tracks CodeDeploy deployments for the drivers that deploy
// through CodeDeploy (Lambda, EC2/on-premises, ECS blue/green): it creates,
// reads, stops and continues deployments and reports them in the deploy
// package's terms. It is safe for concurrent use; it keeps no state between
// calls.
type CodeDeploy struct {
	api  CodeDeployAPI
	opts CodeDeployOptions
}

// NewCodeDeploy returns a tracker over api. It panics if api is nil, which is
// a programming error.
func NewCodeDeploy(api CodeDeployAPI, opts CodeDeployOptions) *CodeDeploy {
	if api == nil {
		panic("platform: NewCodeDeploy with a nil CodeDeployAPI")
	}
	if opts.Clock == nil {
		opts.Clock = deploy.SystemClock{}
	}
	if opts.Platform == "" {
		opts.Platform = "codedeploy"
	}
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = DefaultHistoryLimit
	}
	return &CodeDeploy{api: api, opts: opts}
}

// Create calls CreateDeployment and returns the new deployment's ID. in must
// name the application and deployment group, or Create returns an error
// wrapping deploy.ErrInvalidRequest without calling AWS. AWS errors are
// wrapped with Wrap: a deployment already running on the group
// (DeploymentLimitExceededException) wraps deploy.ErrLocked, a missing
// application or group deploy.ErrNotFound.
func (c *CodeDeploy) Create(ctx context.Context, in *codedeploy.CreateDeploymentInput) (string, error) {
	if in == nil {
		return "", deploy.Invalid("createDeploymentInput", "", "must not be nil")
	}
	if aws.ToString(in.ApplicationName) == "" {
		return "", deploy.Invalid("applicationName", "", "must not be empty")
	}
	if aws.ToString(in.DeploymentGroupName) == "" {
		return "", deploy.Invalid("deploymentGroupName", "", "must not be empty")
	}
	target := aws.ToString(in.ApplicationName) + "/" + aws.ToString(in.DeploymentGroupName)
	out, err := c.api.CreateDeployment(ctx, in)
	if err != nil {
		return "", Wrap(c.opts.Platform, "CreateDeployment", target, err)
	}
	id := aws.ToString(out.DeploymentId)
	if id == "" {
		return "", &deploy.Error{Platform: c.opts.Platform, Op: "CreateDeployment", Target: target,
			Err: errors.New("CodeDeploy returned no deployment ID")}
	}
	return id, nil
}

// liveStatuses are the statuses of a deployment that has not ended.
var liveStatuses = []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued,
	cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusBaking, cdtypes.DeploymentStatusReady}

// Created finds the deployment a failed Create(ctx, in) may have created
// all the same. CreateDeployment takes no idempotency token, and a call can
// fail after it took effect: its answer was lost or could not be read, or
// the SDK sent it again after a first attempt whose answer was lost, and
// CodeDeploy refused the second with DeploymentLimitExceededException
// because the first had created the deployment (a deployment group runs one
// deployment at a time, so a retry never creates a second). The only way
// to know is to look: Created lists the group's live deployments
// (ListDeployments with the statuses Created, Queued, InProgress, Baking
// and Ready, then BatchGetDeployments) and returns the ID of the one a user
// created (not Auto Scaling, not a CodeDeploy rollback) to deploy in's
// revision, or "" when there is none. It changes nothing. The caller must
// have seen no live deployment on the group just before its
// CreateDeployment call, or Created may find one that another caller
// started.
func (c *CodeDeploy) Created(ctx context.Context, in *codedeploy.CreateDeploymentInput) (string, error) {
	if in == nil || aws.ToString(in.ApplicationName) == "" || aws.ToString(in.DeploymentGroupName) == "" {
		return "", deploy.Invalid("createDeploymentInput", "", "must name the application and deployment group")
	}
	target := aws.ToString(in.ApplicationName) + "/" + aws.ToString(in.DeploymentGroupName)
	out, err := c.api.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: in.ApplicationName,
		DeploymentGroupName: in.DeploymentGroupName, IncludeOnlyStatuses: liveStatuses})
	if err != nil {
		return "", Wrap(c.opts.Platform, "ListDeployments", target, err)
	}
	ids := out.Deployments
	if len(ids) == 0 {
		return "", nil
	}
	if len(ids) > MaxBatchGetDeployments {
		ids = ids[:MaxBatchGetDeployments]
	}
	got, err := c.api.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: ids})
	if err != nil {
		return "", Wrap(c.opts.Platform, "BatchGetDeployments", target, err)
	}
	want := RevisionFromLocation(in.Revision).ID
	for _, info := range got.DeploymentsInfo {
		if (info.Creator == "" || info.Creator == cdtypes.DeploymentCreatorUser) &&
			RevisionFromLocation(info.Revision).ID == want && slices.Contains(liveStatuses, info.Status) {
			return aws.ToString(info.DeploymentId), nil
		}
	}
	return "", nil
}

// DeploymentState is CodeDeploy's view of one deployment, in the deploy
// package's terms. Drivers merge it into their own *deploy.Deployment with
// Apply, and may read the raw CodeDeploy records it was built from.
//
// Status mapping: Created, Queued, InProgress, Baking, Ready, Succeeded,
// Failed and Stopped map to the deploy statuses of the same name, except
// that a deployment CodeDeploy rolled back (RollbackInfo.RollbackDeploymentId
// set) is reported by the state of its rollback deployment:
//   - rollback Succeeded: StatusRolledBack (never StatusSucceeded, whatever
//     the deployment's own status says);
//   - rollback still live: StatusInProgress, with RolledBackBy set and Reason
//     saying the rollback is running, so callers wait for the target to
//     really be back before calling it rolled back;
//   - rollback Failed or Stopped, or gone: the deployment's own status
//     (Failed or Stopped), with Reason saying the rollback did not complete.
type DeploymentState struct {
	// ID is the deployment ID.
	ID string
	// ComputePlatform is Lambda, ECS or Server.
	ComputePlatform cdtypes.ComputePlatform
	// Status is the deploy status, as described on the type.
	Status deploy.Status
	// CodeDeployStatus is CodeDeploy's own status of this deployment.
	CodeDeployStatus cdtypes.DeploymentStatus
	// Percent is the share on the new revision, 0..100: for Lambda the
	// target version's weight, for ECS the green task set's traffic weight,
	// for EC2/on-premises the share of the deployment's instances that
	// succeeded (skipped instances count in the fleet). It is 100
	// once the deployment succeeded and 0 once it was rolled back; a
	// deployment that failed or stopped without a rollback keeps the share
	// its targets report (CodeDeploy leaves the traffic where it was).
	Percent float64
	// CreatedAt, UpdatedAt and EndedAt come from CodeDeploy (UpdatedAt is
	// the latest target update, or the tracker's clock when none says).
	CreatedAt time.Time
	UpdatedAt time.Time
	EndedAt   time.Time
	// Reason is why the deployment failed, stopped or rolled back, from
	// ErrorInformation and RollbackInfo.
	Reason string
	// RollbackOf is the deployment this one rolls back
	// (RollbackInfo.RollbackTriggeringDeploymentId).
	RollbackOf string
	// RolledBackBy is the rollback deployment CodeDeploy created for this
	// one (RollbackInfo.RollbackDeploymentId).
	RolledBackBy string
	// Application and Group are the deployment's application and deployment
	// group names.
	Application string
	Group       string
	// Revision is the revision being deployed, converted by
	// RevisionFromLocation; PreviousRevision the one it replaces, if known.
	Revision         deploy.Revision
	PreviousRevision *deploy.Revision
	// Instances is one entry per deployment target (instance, Lambda
	// function, ECS service), sorted by ID, each with its lifecycle events
	// in the order CodeDeploy runs them. Empty with NoTargets, and while the
	// deployment is Created or Queued.
	Instances []deploy.Instance
	// Messages says what CodeDeploy reported, oldest first: one message per
	// lifecycle event status change of each target (IDs
	// "target/event/status"), the error information ("error/CODE"), the
	// rollback message ("rollback/ID") and the deployment status messages
	// ("status/TEXT"). IDs are stable across calls, so the engine reports
	// each once.
	Messages []deploy.Message
	// Info is the GetDeployment record.
	Info *cdtypes.DeploymentInfo
	// RollbackInfo is the GetDeployment record of the rollback deployment,
	// when there is one.
	RollbackInfo *cdtypes.DeploymentInfo
	// Targets are the BatchGetDeploymentTargets records.
	Targets []cdtypes.DeploymentTarget
}

// Terminal reports whether the state will not change any more.
func (s *DeploymentState) Terminal() bool { return s.Status.Terminal() }

// Apply returns a copy of d (a new Deployment when d is nil) updated with
// what CodeDeploy reports: ID, Status, Percent, CreatedAt, UpdatedAt,
// EndedAt, Reason, RollbackOf, RolledBackBy, Instances and Messages. From
// and To are filled from the revisions only when d has none. Target,
// Strategy, Step and Detail are left as d has them.
func (s *DeploymentState) Apply(d *deploy.Deployment) *deploy.Deployment {
	out := d.Clone()
	if out == nil {
		out = &deploy.Deployment{}
	}
	out.ID = s.ID
	out.Status = s.Status
	out.Percent = s.Percent
	if !s.CreatedAt.IsZero() {
		out.CreatedAt = s.CreatedAt
	}
	out.UpdatedAt = s.UpdatedAt
	out.EndedAt = s.EndedAt
	out.Reason = s.Reason
	if s.RollbackOf != "" {
		out.RollbackOf = s.RollbackOf
	}
	out.RolledBackBy = s.RolledBackBy
	out.Instances = append([]deploy.Instance(nil), s.Instances...)
	out.Messages = append([]deploy.Message(nil), s.Messages...)
	if out.To.IsZero() {
		out.To = s.Revision
	}
	if out.From == nil && s.PreviousRevision != nil {
		p := *s.PreviousRevision
		out.From = &p
	}
	return out
}

// Status reads deployment id (GetDeployment, then its targets unless
// NoTargets, and its rollback deployment if CodeDeploy made one) and
// reports it as a DeploymentState. It changes nothing. An empty id gives an
// error wrapping deploy.ErrInvalidRequest, an unknown one an error wrapping
// deploy.ErrNotFound.
func (c *CodeDeploy) Status(ctx context.Context, id string) (*DeploymentState, error) {
	if id == "" {
		return nil, deploy.Invalid("deploymentId", "", "must not be empty")
	}
	info, err := c.get(ctx, id)
	if err != nil {
		return nil, err
	}
	now := c.opts.Clock.Now()
	s := newState(id, info)
	if s.RolledBackBy != "" {
		rb, err := c.get(ctx, s.RolledBackBy)
		if err := resolveRollback(s, rb, err); err != nil {
			return nil, err
		}
	}
	if c.wantTargets(s) {
		targets, err := c.targets(ctx, id)
		if err != nil {
			return nil, err
		}
		s.Targets = targets
	}
	finish(s, now)
	return s, nil
}

// newState is what info alone says of deployment id: everything but the
// rollback, the targets and what is worked out from them (finish).
func newState(id string, info *cdtypes.DeploymentInfo) *DeploymentState {
	s := &DeploymentState{
		ID:               id,
		ComputePlatform:  info.ComputePlatform,
		CodeDeployStatus: info.Status,
		Status:           MapCodeDeployStatus(info.Status),
		CreatedAt:        aws.ToTime(info.CreateTime),
		EndedAt:          aws.ToTime(info.CompleteTime),
		Application:      aws.ToString(info.ApplicationName),
		Group:            aws.ToString(info.DeploymentGroupName),
		Revision:         RevisionFromLocation(info.Revision),
		Info:             info,
	}
	if p := RevisionFromLocation(info.PreviousRevision); !p.IsZero() {
		s.PreviousRevision = &p
	}
	s.Reason = errorReason(info.ErrorInformation)
	if ri := info.RollbackInfo; ri != nil {
		s.RollbackOf = aws.ToString(ri.RollbackTriggeringDeploymentId)
		s.RolledBackBy = aws.ToString(ri.RollbackDeploymentId)
	}
	return s
}

// wantTargets reports whether s's targets are read: not with NoTargets,
// and not before CodeDeploy has any (Created, Queued).
func (c *CodeDeploy) wantTargets(s *DeploymentState) bool {
	return !c.opts.NoTargets && s.CodeDeployStatus != cdtypes.DeploymentStatusCreated &&
		s.CodeDeployStatus != cdtypes.DeploymentStatusQueued
}

// finish works out Instances, UpdatedAt, Percent and Messages from s's
// records.
func finish(s *DeploymentState, now time.Time) {
	s.Instances, s.UpdatedAt = instances(s.Targets)
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = now
	}
	s.Percent = percent(s)
	s.Messages = messages(s, now, nil)
}

// resolveRollback decides the state's status and reason from its rollback
// deployment rb, as the GetDeployment of s.RolledBackBy answered (rb, err):
// a rollback deployment CodeDeploy does not know is said in Reason, any
// other error is returned. No record and no error count as not found.
func resolveRollback(s *DeploymentState, rb *cdtypes.DeploymentInfo, err error) error {
	if errors.Is(err, deploy.ErrNotFound) || (rb == nil && err == nil) {
		s.Reason = joinReason(s.Reason, fmt.Sprintf("rollback deployment %s not found", s.RolledBackBy))
		return nil
	}
	if err != nil {
		return err
	}
	s.RollbackInfo = rb
	msg := aws.ToString(s.Info.RollbackInfo.RollbackMessage)
	switch rb.Status {
	case cdtypes.DeploymentStatusSucceeded:
		s.Status = deploy.StatusRolledBack
		s.Reason = joinReason(s.Reason, "rolled back by "+s.RolledBackBy)
		if end := aws.ToTime(rb.CompleteTime); !end.IsZero() {
			s.EndedAt = end
		}
	case cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
		// The target may be anywhere: report the deployment's own end.
		if !s.Status.Terminal() || s.Status == deploy.StatusSucceeded {
			s.Status = deploy.StatusFailed
		}
		s.Reason = joinReason(s.Reason, fmt.Sprintf("rollback deployment %s %s: %s",
			s.RolledBackBy, strings.ToLower(string(rb.Status)), errorReason(rb.ErrorInformation)))
	default:
		s.Status = deploy.StatusInProgress
		s.EndedAt = time.Time{}
		s.Reason = joinReason(s.Reason, fmt.Sprintf("rolling back: deployment %s is %s", s.RolledBackBy, rb.Status))
	}
	if msg != "" && !strings.Contains(s.Reason, msg) {
		s.Reason = joinReason(s.Reason, msg)
	}
	return nil
}

func (c *CodeDeploy) get(ctx context.Context, id string) (*cdtypes.DeploymentInfo, error) {
	out, err := c.api.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		return nil, WrapDeployment(c.opts.Platform, "GetDeployment", "", id, err)
	}
	if out.DeploymentInfo == nil {
		return nil, &deploy.Error{Platform: c.opts.Platform, Op: "GetDeployment", DeploymentID: id,
			Err: fmt.Errorf("%w: no deployment info returned", deploy.ErrNotFound)}
	}
	return out.DeploymentInfo, nil
}

// targets lists and reads every target of deployment id.
func (c *CodeDeploy) targets(ctx context.Context, id string) ([]cdtypes.DeploymentTarget, error) {
	var ids []string
	seen := map[string]bool{}
	in := &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(id)}
	for {
		out, err := c.api.ListDeploymentTargets(ctx, in)
		if err != nil {
			return nil, WrapDeployment(c.opts.Platform, "ListDeploymentTargets", "", id, err)
		}
		ids = append(ids, out.TargetIds...)
		next := aws.ToString(out.NextToken)
		if next == "" {
			break
		}
		if seen[next] {
			return nil, &deploy.Error{Platform: c.opts.Platform, Op: "ListDeploymentTargets", DeploymentID: id,
				Err: fmt.Errorf("pagination token %q repeated", next)}
		}
		seen[next] = true
		in = &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(id), NextToken: aws.String(next)}
	}
	var targets []cdtypes.DeploymentTarget
	for start := 0; start < len(ids); start += maxBatchGetDeploymentTargets {
		end := min(start+maxBatchGetDeploymentTargets, len(ids))
		out, err := c.api.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{
			DeploymentId: aws.String(id), TargetIds: ids[start:end],
		})
		if err != nil {
			return nil, WrapDeployment(c.opts.Platform, "BatchGetDeploymentTargets", "", id, err)
		}
		targets = append(targets, out.DeploymentTargets...)
	}
	sort.SliceStable(targets, func(i, j int) bool { return targetView(targets[i]).id < targetView(targets[j]).id })
	return targets, nil
}

// MapCodeDeployStatus maps a CodeDeploy deployment status to the deploy
// status of the same name. It does not know about rollbacks (Status does);
// an unknown status maps to deploy.StatusInProgress, since CodeDeploy adds
// live statuses more often than terminal ones.
func MapCodeDeployStatus(s cdtypes.DeploymentStatus) deploy.Status {
	switch s {
	case cdtypes.DeploymentStatusCreated:
		return deploy.StatusCreated
	case cdtypes.DeploymentStatusQueued:
		return deploy.StatusQueued
	case cdtypes.DeploymentStatusInProgress:
		return deploy.StatusInProgress
	case cdtypes.DeploymentStatusBaking:
		return deploy.StatusBaking
	case cdtypes.DeploymentStatusReady:
		return deploy.StatusReady
	case cdtypes.DeploymentStatusSucceeded:
		return deploy.StatusSucceeded
	case cdtypes.DeploymentStatusFailed:
		return deploy.StatusFailed
	case cdtypes.DeploymentStatusStopped:
		return deploy.StatusStopped
	}
	return deploy.StatusInProgress
}

// mapTargetStatus maps a target (or instance) status to a deploy status:
// Pending is Queued, Skipped is Stopped (it never ran), Unknown is Created.
func mapTargetStatus(s cdtypes.TargetStatus) deploy.Status {
	switch s {
	case cdtypes.TargetStatusPending:
		return deploy.StatusQueued
	case cdtypes.TargetStatusInProgress:
		return deploy.StatusInProgress
	case cdtypes.TargetStatusSucceeded:
		return deploy.StatusSucceeded
	case cdtypes.TargetStatusFailed:
		return deploy.StatusFailed
	case cdtypes.TargetStatusSkipped:
		return deploy.StatusStopped
	case cdtypes.TargetStatusReady:
		return deploy.StatusReady
	}
	return deploy.StatusCreated
}

// view is the common part of the four target kinds.
type view struct {
	id      string
	status  cdtypes.TargetStatus
	updated time.Time
	events  []cdtypes.LifecycleEvent
}

func targetView(t cdtypes.DeploymentTarget) view {
	switch {
	case t.LambdaTarget != nil:
		x := t.LambdaTarget
		return view{aws.ToString(x.TargetId), x.Status, aws.ToTime(x.LastUpdatedAt), x.LifecycleEvents}
	case t.EcsTarget != nil:
		x := t.EcsTarget
		return view{aws.ToString(x.TargetId), x.Status, aws.ToTime(x.LastUpdatedAt), x.LifecycleEvents}
	case t.InstanceTarget != nil:
		x := t.InstanceTarget
		return view{aws.ToString(x.TargetId), x.Status, aws.ToTime(x.LastUpdatedAt), x.LifecycleEvents}
	case t.CloudFormationTarget != nil:
		x := t.CloudFormationTarget
		return view{aws.ToString(x.TargetId), x.Status, aws.ToTime(x.LastUpdatedAt), x.LifecycleEvents}
	}
	return view{}
}

func instances(targets []cdtypes.DeploymentTarget) ([]deploy.Instance, time.Time) {
	var out []deploy.Instance
	var latest time.Time
	for _, t := range targets {
		v := targetView(t)
		if v.id == "" {
			continue
		}
		if v.updated.After(latest) {
			latest = v.updated
		}
		in := deploy.Instance{ID: v.id, Status: mapTargetStatus(v.status)}
		for _, e := range v.events {
			in.Lifecycle = append(in.Lifecycle, deploy.LifecycleEvent{
				Name:    aws.ToString(e.LifecycleEventName),
				Status:  string(e.Status),
				Start:   aws.ToTime(e.StartTime),
				End:     aws.ToTime(e.EndTime),
				Message: diagnostics(e.Diagnostics, true),
			})
		}
		out = append(out, in)
	}
	return out, latest
}

// diagnostics formats a lifecycle event's diagnostics; withLog adds the log
// tail on following lines.
func diagnostics(d *cdtypes.Diagnostics, withLog bool) string {
	if d == nil {
		return ""
	}
	var parts []string
	if d.ErrorCode != "" && d.ErrorCode != cdtypes.LifecycleErrorCodeSuccess {
		parts = append(parts, string(d.ErrorCode))
	}
	if m := aws.ToString(d.Message); m != "" {
		parts = append(parts, m)
	}
	s := strings.Join(parts, ": ")
	if sc := aws.ToString(d.ScriptName); sc != "" {
		s += " (script " + sc + ")"
	}
	if withLog {
		if tail := strings.TrimSpace(aws.ToString(d.LogTail)); tail != "" {
			s += "\n" + tail
		}
	}
	return strings.TrimSpace(s)
}

func percent(s *DeploymentState) float64 {
	switch s.Status {
	case deploy.StatusSucceeded:
		return 100
	case deploy.StatusRolledBack:
		return 0
	}
	found, best := false, 0.0
	for _, t := range s.Targets {
		switch {
		case t.LambdaTarget != nil && t.LambdaTarget.LambdaFunctionInfo != nil:
			found = true
			best = max(best, weightPercent(t.LambdaTarget.LambdaFunctionInfo.TargetVersionWeight))
		case t.CloudFormationTarget != nil:
			found = true
			best = max(best, weightPercent(t.CloudFormationTarget.TargetVersionWeight))
		case t.EcsTarget != nil:
			for _, ts := range t.EcsTarget.TaskSetsInfo {
				if ts.TaskSetLabel == cdtypes.TargetLabelGreen {
					found = true
					best = max(best, ts.TrafficWeight)
				}
			}
		}
	}
	if found {
		return clampPercent(best)
	}
	if o := s.Info.DeploymentOverview; o != nil {
		// Skipped instances are part of the fleet: they keep the old
		// revision.
		total := o.Pending + o.InProgress + o.Succeeded + o.Failed + o.Ready + o.Skipped
		if total > 0 {
			return clampPercent(float64(o.Succeeded) * 100 / float64(total))
		}
	}
	return 0
}

// weightPercent reads a Lambda or CloudFormation target version weight,
// which CodeDeploy reports as a fraction (0.1 for 10%); values above 1 are
// taken as percentages already.
func weightPercent(w float64) float64 {
	if w <= 1 {
		return w * 100
	}
	return w
}

func clampPercent(p float64) float64 { return max(0, min(100, p)) }

// messages builds s's messages (see DeploymentState.Messages). carried are
// target messages of an earlier poll that stand in for s.Targets when those
// were not read again (StatusMany with TargetsOnChange).
func messages(s *DeploymentState, now time.Time, carried []deploy.Message) []deploy.Message {
	type msg struct {
		deploy.Message
		seq int
	}
	var out []msg
	add := func(id string, at time.Time, text string) {
		if at.IsZero() {
			at = now
		}
		out = append(out, msg{deploy.Message{ID: id, At: at, Text: text}, len(out)})
	}
	info := s.Info
	created := aws.ToTime(info.CreateTime)
	for _, m := range carried {
		add(m.ID, m.At, m.Text)
	}
	for _, t := range s.Targets {
		v := targetView(t)
		for _, e := range v.events {
			name := aws.ToString(e.LifecycleEventName)
			start, end := aws.ToTime(e.StartTime), aws.ToTime(e.EndTime)
			switch e.Status {
			case cdtypes.LifecycleEventStatusPending, cdtypes.LifecycleEventStatusUnknown, "":
				continue
			case cdtypes.LifecycleEventStatusInProgress:
				add(v.id+"/"+name+"/InProgress", firstTime(start, v.updated, created), v.id+": "+name+" started")
			default:
				if e.Status != cdtypes.LifecycleEventStatusSkipped && !start.IsZero() {
					// Report the start too, in case a poll never saw it in progress.
					add(v.id+"/"+name+"/InProgress", start, v.id+": "+name+" started")
				}
				text := v.id + ": " + name + " " + strings.ToLower(string(e.Status))
				if d := diagnostics(e.Diagnostics, false); d != "" && e.Status == cdtypes.LifecycleEventStatusFailed {
					text += ": " + d
				}
				add(v.id+"/"+name+"/"+string(e.Status), firstTime(end, start, v.updated, created), text)
			}
		}
	}
	for _, m := range info.DeploymentStatusMessages {
		if m != "" {
			add("status/"+m, firstTime(aws.ToTime(info.StartTime), created), m)
		}
	}
	if ei := info.ErrorInformation; ei != nil && (ei.Code != "" || aws.ToString(ei.Message) != "") {
		add("error/"+string(ei.Code), firstTime(aws.ToTime(info.CompleteTime), s.UpdatedAt), "deployment error: "+errorReason(ei))
	}
	if ri := info.RollbackInfo; ri != nil {
		if id := aws.ToString(ri.RollbackDeploymentId); id != "" {
			text := "rolled back by deployment " + id
			if m := aws.ToString(ri.RollbackMessage); m != "" {
				text += ": " + m
			}
			var at time.Time
			if s.RollbackInfo != nil {
				at = aws.ToTime(s.RollbackInfo.CreateTime)
			}
			add("rollback/"+id, firstTime(at, aws.ToTime(info.CompleteTime), s.UpdatedAt), text)
		} else if m := aws.ToString(ri.RollbackMessage); m != "" {
			add("rollback/"+m, firstTime(aws.ToTime(info.CompleteTime), s.UpdatedAt), m)
		}
		if id := aws.ToString(ri.RollbackTriggeringDeploymentId); id != "" {
			add("rollback-of/"+id, created, "rolls back deployment "+id)
		}
	}
	if m := aws.ToString(info.AdditionalDeploymentStatusInfo); m != "" {
		add("info/"+m, firstTime(s.UpdatedAt), m)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].seq < out[j].seq
	})
	res := make([]deploy.Message, 0, len(out))
	seen := map[string]bool{}
	for _, m := range out {
		if !seen[m.ID] {
			seen[m.ID] = true
			res = append(res, m.Message)
		}
	}
	return res
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func errorReason(ei *cdtypes.ErrorInformation) string {
	if ei == nil {
		return ""
	}
	m := aws.ToString(ei.Message)
	switch {
	case ei.Code != "" && m != "":
		return string(ei.Code) + ": " + m
	case ei.Code != "":
		return string(ei.Code)
	}
	return m
}

func joinReason(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// Stop asks CodeDeploy to stop deployment id, rolling back to the previous
// revision when rollback is true (StopDeployment's autoRollbackEnabled).
// It returns deploy.StopSucceeded or deploy.StopPending as CodeDeploy
// answers. A deployment that already stopped gives StopSucceeded; one that
// already ended otherwise (succeeded, failed) or that CodeDeploy refuses to
// stop gives an error wrapping deploy.ErrCannotStop and the SDK error. An
// unknown id wraps deploy.ErrNotFound, an empty one
// deploy.ErrInvalidRequest; transient AWS errors are returned wrapped
// (IsRetryable tells them), not as ErrCannotStop.
func (c *CodeDeploy) Stop(ctx context.Context, id string, rollback bool) (deploy.StopOutcome, error) {
	if id == "" {
		return "", deploy.Invalid("deploymentId", "", "must not be empty")
	}
	out, err := c.api.StopDeployment(ctx, &codedeploy.StopDeploymentInput{
		DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(rollback),
	})
	if err != nil {
		return c.stopError(ctx, id, err)
	}
	switch out.Status {
	case cdtypes.StopStatusSucceeded:
		return deploy.StopSucceeded, nil
	case cdtypes.StopStatusPending:
		return deploy.StopPending, nil
	}
	return "", &deploy.Error{Platform: c.opts.Platform, Op: "StopDeployment", DeploymentID: id,
		Err: fmt.Errorf("%w: unexpected stop status %q: %s", deploy.ErrCannotStop, out.Status, aws.ToString(out.StatusMessage))}
}

func (c *CodeDeploy) stopError(ctx context.Context, id string, err error) (deploy.StopOutcome, error) {
	var done *cdtypes.DeploymentAlreadyCompletedException
	var unsupported *cdtypes.UnsupportedActionForDeploymentTypeException
	var notStarted *cdtypes.DeploymentNotStartedException
	switch {
	case errors.As(err, &done):
		info, gerr := c.get(ctx, id)
		if gerr != nil {
			return "", gerr
		}
		if info.Status == cdtypes.DeploymentStatusStopped {
			return deploy.StopSucceeded, nil
		}
		return "", &deploy.Error{Platform: c.opts.Platform, Op: "StopDeployment", DeploymentID: id,
			Err: fmt.Errorf("%w: deployment already %s: %w", deploy.ErrCannotStop, info.Status, err)}
	case errors.As(err, &unsupported), errors.As(err, &notStarted):
		return "", &deploy.Error{Platform: c.opts.Platform, Op: "StopDeployment", DeploymentID: id,
			Err: fmt.Errorf("%w: %w", deploy.ErrCannotStop, err)}
	}
	switch Classify(err) {
	case ClassNotFound, ClassValidation, ClassThrottling, ClassRetryable, ClassCanceled, ClassAccessDenied:
		return "", WrapDeployment(c.opts.Platform, "StopDeployment", "", id, err)
	}
	// Anything else is CodeDeploy refusing: the third outcome.
	return "", &deploy.Error{Platform: c.opts.Platform, Op: "StopDeployment", DeploymentID: id,
		Err: fmt.Errorf("%w: %w", deploy.ErrCannotStop, err)}
}

// Continue lets a deployment waiting in Ready (a blue/green deployment
// waiting to reroute traffic) go on: ContinueDeployment with
// deploymentWaitType READY_WAIT. A deployment that is not waiting
// (DeploymentIsNotInReadyStateException, or already completed) gives an
// error wrapping deploy.ErrInvalidRequest; one whose type cannot continue
// (UnsupportedActionForDeploymentTypeException) deploy.ErrUnsupported; an
// unknown id deploy.ErrNotFound. Each also wraps the SDK error.
func (c *CodeDeploy) Continue(ctx context.Context, id string) error {
	if id == "" {
		return deploy.Invalid("deploymentId", "", "must not be empty")
	}
	_, err := c.api.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{
		DeploymentId: aws.String(id), DeploymentWaitType: cdtypes.DeploymentWaitTypeReadyWait,
	})
	if err == nil {
		return nil
	}
	var notReady *cdtypes.DeploymentIsNotInReadyStateException
	var done *cdtypes.DeploymentAlreadyCompletedException
	var unsupported *cdtypes.UnsupportedActionForDeploymentTypeException
	switch {
	case errors.As(err, &notReady), errors.As(err, &done):
		return &deploy.Error{Platform: c.opts.Platform, Op: "ContinueDeployment", DeploymentID: id,
			Err: fmt.Errorf("%w: deployment is not waiting to continue: %w", deploy.ErrInvalidRequest, err)}
	case errors.As(err, &unsupported):
		return &deploy.Error{Platform: c.opts.Platform, Op: "ContinueDeployment", DeploymentID: id,
			Err: fmt.Errorf("%w: %w", deploy.ErrUnsupported, err)}
	}
	return WrapDeployment(c.opts.Platform, "ContinueDeployment", "", id, err)
}

// History returns the revisions deployed to application/group, newest
// first, one entry per deployment (ListDeployments, then
// BatchGetDeployments 25 at a time), at most HistoryLimit of them. Each
// entry's Status follows the rules of DeploymentState, with rollbacks
// resolved among the deployments read (a rolled-back deployment whose
// rollback succeeded is StatusRolledBack). The newest succeeded deployment's
// entry is marked Current. At is the completion time, or the creation time
// of a live deployment. A missing application or group gives an error
// wrapping deploy.ErrNotFound; empty names deploy.ErrInvalidRequest.
func (c *CodeDeploy) History(ctx context.Context, application, group string) ([]deploy.HistoryEntry, error) {
	if application == "" {
		return nil, deploy.Invalid("applicationName", "", "must not be empty")
	}
	if group == "" {
		return nil, deploy.Invalid("deploymentGroupName", "", "must not be empty")
	}
	target := application + "/" + group
	var ids []string
	// The SDK's paginator follows NextToken and stops on a repeated token.
	pages := codedeploy.NewListDeploymentsPaginator(c.api, &codedeploy.ListDeploymentsInput{
		ApplicationName: aws.String(application), DeploymentGroupName: aws.String(group)})
	for pages.HasMorePages() && len(ids) < c.opts.HistoryLimit {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, Wrap(c.opts.Platform, "ListDeployments", target, err)
		}
		ids = append(ids, out.Deployments...)
	}
	if len(ids) > c.opts.HistoryLimit {
		ids = ids[:c.opts.HistoryLimit]
	}
	byID := map[string]*cdtypes.DeploymentInfo{}
	var infos []*cdtypes.DeploymentInfo
	for start := 0; start < len(ids); start += MaxBatchGetDeployments {
		end := min(start+MaxBatchGetDeployments, len(ids))
		out, err := c.api.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: ids[start:end]})
		if err != nil {
			return nil, Wrap(c.opts.Platform, "BatchGetDeployments", target, err)
		}
		for i := range out.DeploymentsInfo {
			info := &out.DeploymentsInfo[i]
			id := aws.ToString(info.DeploymentId)
			if id == "" || byID[id] != nil {
				continue
			}
			byID[id] = info
			infos = append(infos, info)
		}
	}
	sort.SliceStable(infos, func(i, j int) bool {
		return aws.ToTime(infos[i].CreateTime).After(aws.ToTime(infos[j].CreateTime))
	})
	entries := make([]deploy.HistoryEntry, 0, len(infos))
	current := false
	for _, info := range infos {
		st := MapCodeDeployStatus(info.Status)
		if ri := info.RollbackInfo; ri != nil && aws.ToString(ri.RollbackDeploymentId) != "" {
			if rb := byID[aws.ToString(ri.RollbackDeploymentId)]; rb != nil {
				switch rb.Status {
				case cdtypes.DeploymentStatusSucceeded:
					st = deploy.StatusRolledBack
				case cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
					if st == deploy.StatusSucceeded || !st.Terminal() {
						st = deploy.StatusFailed
					}
				default:
					st = deploy.StatusInProgress
				}
			}
		}
		e := deploy.HistoryEntry{
			Revision:     RevisionFromLocation(info.Revision),
			DeploymentID: aws.ToString(info.DeploymentId),
			Status:       st,
			At:           firstTime(aws.ToTime(info.CompleteTime), aws.ToTime(info.CreateTime)),
		}
		if !current && st == deploy.StatusSucceeded {
			e.Current, current = true, true
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// RevisionFromLocation converts a CodeDeploy revision location to a
// deploy.Revision with a stable ID:
//   - S3: ID "s3://bucket/key" plus "?versionId=V" and/or "#etag=E" when set,
//     Label the key's base name (with "@V" for a version), Attrs bucket, key,
//     bundleType, version and eTag;
//   - GitHub: ID "github:repository@commit", Label the short commit;
//   - AppSpec content (Lambda, ECS) or a raw string: ID "appspec:SHA256" of the
//     content (CodeDeploy's sha256 when given), Attrs "content".
//
// Source is the ID without version details. A nil location gives the zero
// Revision.
func RevisionFromLocation(loc *cdtypes.RevisionLocation) deploy.Revision {
	if loc == nil {
		return deploy.Revision{}
	}
	switch {
	case loc.S3Location != nil:
		s3 := loc.S3Location
		bucket, key := aws.ToString(s3.Bucket), aws.ToString(s3.Key)
		src := "s3://" + bucket + "/" + key
		id, label := src, path.Base(key)
		attrs := map[string]string{"bucket": bucket, "key": key}
		if s3.BundleType != "" {
			attrs["bundleType"] = string(s3.BundleType)
		}
		if v := aws.ToString(s3.Version); v != "" {
			id += "?versionId=" + v
			label += "@" + v
			attrs["version"] = v
		}
		if e := aws.ToString(s3.ETag); e != "" {
			id += "#etag=" + e
			attrs["eTag"] = e
		}
		return deploy.Revision{ID: id, Label: label, Source: src, Attrs: attrs}
	case loc.GitHubLocation != nil:
		gh := loc.GitHubLocation
		repo, commit := aws.ToString(gh.Repository), aws.ToString(gh.CommitId)
		short := commit
		if len(short) > 7 {
			short = short[:7]
		}
		id := "github:" + repo + "@" + commit
		return deploy.Revision{ID: id, Label: short, Source: id,
			Attrs: map[string]string{"repository": repo, "commitId": commit}}
	case loc.AppSpecContent != nil:
		return contentRevision(aws.ToString(loc.AppSpecContent.Content), aws.ToString(loc.AppSpecContent.Sha256))
	case loc.String_ != nil:
		return contentRevision(aws.ToString(loc.String_.Content), aws.ToString(loc.String_.Sha256))
	}
	return deploy.Revision{ID: string(loc.RevisionType), Label: string(loc.RevisionType)}
}

func contentRevision(content, sum string) deploy.Revision {
	if sum == "" {
		h := sha256.Sum256([]byte(content))
		sum = hex.EncodeToString(h[:])
	}
	short := sum
	if len(short) > 12 {
		short = short[:12]
	}
	return deploy.Revision{ID: "appspec:" + sum, Label: "appspec:" + short, Source: "appspec",
		Attrs: map[string]string{"content": content}}
}
