package lambda_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// aliasPointer routes a function alias to version, plus weights on other
// versions (nil: version alone), as CodeDeploy's AllowTraffic does.
type aliasPointer func(fn, alias, version string, weights map[string]float64) error

// fakePointer moves an alias of the in-memory Lambda.
func fakePointer(lf *lambdafake.Client) aliasPointer {
	return func(fn, alias, version string, weights map[string]float64) error {
		lf.AddAlias(fn, alias, version, weights)
		return nil
	}
}

// cdGlue wraps the CodeDeploy fake, which does not touch Lambda, and does
// to the alias what CodeDeploy would: when a Lambda deployment is seen
// Succeeded, the alias is pointed at its AppSpec's TargetVersion (as
// AllowTraffic does); when a rollback deployment succeeds, at the
// CurrentVersion of the deployment it rolls back (as CodeDeploy's Lambda
// rollback does). With weights set it also mirrors traffic while a
// deployment runs, whenever BatchGetDeploymentTargets reports the target
// version's weight: CurrentVersion with the target version weighted while
// the weight is below 1, TargetVersion alone once it is 1.
//
// It is a platform.CodeDeployAPI, so it serves the driver directly or,
// through codedeployserver.Handler, over the wire.
type cdGlue struct {
	*codedeployfake.Fake
	point   aliasPointer
	weights bool

	mu      sync.Mutex
	done    map[string]bool
	shifted map[string]float64
	last    map[string]string // per alias, its last move
	log     []string
	errs    []error
}

func newCDGlue(f *codedeployfake.Fake, point aliasPointer, weights bool) *cdGlue {
	return &cdGlue{Fake: f, point: point, weights: weights, done: map[string]bool{}, shifted: map[string]float64{}, last: map[string]string{}}
}

func (g *cdGlue) GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, o ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	out, err := g.Fake.GetDeployment(ctx, in, o...)
	if err == nil && out.DeploymentInfo != nil {
		g.apply(*out.DeploymentInfo)
	}
	return out, err
}

func (g *cdGlue) BatchGetDeployments(ctx context.Context, in *codedeploy.BatchGetDeploymentsInput, o ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentsOutput, error) {
	out, err := g.Fake.BatchGetDeployments(ctx, in, o...)
	if err == nil {
		for _, info := range out.DeploymentsInfo {
			g.apply(info)
		}
	}
	return out, err
}

func (g *cdGlue) BatchGetDeploymentTargets(ctx context.Context, in *codedeploy.BatchGetDeploymentTargetsInput, o ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentTargetsOutput, error) {
	out, err := g.Fake.BatchGetDeploymentTargets(ctx, in, o...)
	if err == nil && g.weights {
		for _, t := range out.DeploymentTargets {
			if lt := t.LambdaTarget; lt != nil && lt.LambdaFunctionInfo != nil && lt.Status == cdtypes.TargetStatusInProgress {
				g.shift(aws.ToString(lt.DeploymentId), lt.LambdaFunctionInfo.TargetVersionWeight)
			}
		}
	}
	return out, err
}

// shift mirrors weight w of deployment id's target version on the alias.
func (g *cdGlue) shift(id string, w float64) {
	if w <= 0 {
		return
	}
	info, ok := g.Fake.Deployment(id)
	if !ok || info.Revision == nil || info.Revision.AppSpecContent == nil {
		return
	}
	spec, err := lambda.ParseAppSpec([]byte(aws.ToString(info.Revision.AppSpecContent.Content)))
	if err != nil {
		g.fail(fmt.Errorf("deployment %s: %w", id, err))
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done[id] || g.shifted[id] == w {
		return
	}
	g.shifted[id] = w
	if w >= 1 {
		g.pointLocked(spec.Function, spec.Alias, spec.TargetVersion, nil)
		return
	}
	g.pointLocked(spec.Function, spec.Alias, spec.CurrentVersion, map[string]float64{spec.TargetVersion: w})
}

func (g *cdGlue) apply(info cdtypes.DeploymentInfo) {
	if info.Status != cdtypes.DeploymentStatusSucceeded || info.Revision == nil || info.Revision.AppSpecContent == nil {
		return
	}
	id := aws.ToString(info.DeploymentId)
	g.mu.Lock()
	seen := g.done[id]
	g.done[id] = true
	g.mu.Unlock()
	if seen {
		return
	}
	spec, err := lambda.ParseAppSpec([]byte(aws.ToString(info.Revision.AppSpecContent.Content)))
	if err != nil {
		g.fail(fmt.Errorf("deployment %s: %w", id, err))
		return
	}
	version := spec.TargetVersion
	if ri := info.RollbackInfo; ri != nil && aws.ToString(ri.RollbackTriggeringDeploymentId) != "" {
		trig, ok := g.Fake.Deployment(aws.ToString(ri.RollbackTriggeringDeploymentId))
		if !ok {
			g.fail(fmt.Errorf("rollback %s: triggering deployment %s not found", id, aws.ToString(ri.RollbackTriggeringDeploymentId)))
			return
		}
		ts, err := lambda.ParseAppSpec([]byte(aws.ToString(trig.Revision.AppSpecContent.Content)))
		if err != nil {
			g.fail(fmt.Errorf("deployment %s: %w", aws.ToString(trig.DeploymentId), err))
			return
		}
		version = ts.CurrentVersion
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pointLocked(spec.Function, spec.Alias, version, nil)
}

// Sync makes the alias what the group's newest deployment that has begun
// says it is now, as CodeDeploy keeps it: a rollback returns the traffic to
// the version its triggering deployment started from; a deployment that
// succeeded serves its target version; any other (running, or failed or
// stopped without rollback) serves the weight its target reports. Like
// every move of the glue, a state already applied is not applied again, so
// the driver's own alias changes in between are left alone.
func (g *cdGlue) Sync(app, group string) {
	ctx := context.Background()
	list, err := g.Fake.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group)})
	if err != nil {
		g.fail(err)
		return
	}
	for _, id := range list.Deployments {
		info, ok := g.Fake.Deployment(id)
		if !ok || info.Status == cdtypes.DeploymentStatusCreated || info.Status == cdtypes.DeploymentStatusQueued ||
			info.Revision == nil || info.Revision.AppSpecContent == nil {
			continue
		}
		spec, err := lambda.ParseAppSpec([]byte(aws.ToString(info.Revision.AppSpecContent.Content)))
		if err != nil {
			g.fail(fmt.Errorf("deployment %s: %w", id, err))
			return
		}
		if ri := info.RollbackInfo; ri != nil && aws.ToString(ri.RollbackTriggeringDeploymentId) != "" {
			trig, ok := g.Fake.Deployment(aws.ToString(ri.RollbackTriggeringDeploymentId))
			if !ok {
				return
			}
			ts, err := lambda.ParseAppSpec([]byte(aws.ToString(trig.Revision.AppSpecContent.Content)))
			if err != nil {
				g.fail(err)
				return
			}
			g.mu.Lock()
			g.pointLocked(ts.Function, ts.Alias, ts.CurrentVersion, nil)
			g.mu.Unlock()
			return
		}
		w := 1.0
		if info.Status != cdtypes.DeploymentStatusSucceeded {
			out, err := g.Fake.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{
				DeploymentId: aws.String(id), TargetIds: []string{spec.Function + ":" + spec.Alias}})
			if err != nil || len(out.DeploymentTargets) == 0 || out.DeploymentTargets[0].LambdaTarget == nil ||
				out.DeploymentTargets[0].LambdaTarget.LambdaFunctionInfo == nil {
				g.fail(fmt.Errorf("targets of %s: %v", id, err))
				return
			}
			w = out.DeploymentTargets[0].LambdaTarget.LambdaFunctionInfo.TargetVersionWeight
		}
		g.mu.Lock()
		switch {
		case w <= 0:
			g.pointLocked(spec.Function, spec.Alias, spec.CurrentVersion, nil)
		case w >= 1:
			g.pointLocked(spec.Function, spec.Alias, spec.TargetVersion, nil)
		default:
			g.pointLocked(spec.Function, spec.Alias, spec.CurrentVersion, map[string]float64{spec.TargetVersion: w})
		}
		g.mu.Unlock()
		return
	}
}

// pointLocked moves the alias unless it is already there.
func (g *cdGlue) pointLocked(fn, alias, version string, weights map[string]float64) {
	move := fmt.Sprintf("%s %v", version, weights)
	if g.last[fn+":"+alias] == move {
		return
	}
	if err := g.point(fn, alias, version, weights); err != nil {
		g.errs = append(g.errs, fmt.Errorf("pointing %s:%s at %s %v: %w", fn, alias, version, weights, err))
		return
	}
	g.last[fn+":"+alias] = move
	g.log = append(g.log, move)
}

func (g *cdGlue) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.errs = append(g.errs, err)
}

// Moves returns every alias change made so far, as "VERSION map[WEIGHTS]".
func (g *cdGlue) Moves() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.log...)
}

// Err joins the errors met moving the alias.
func (g *cdGlue) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}
