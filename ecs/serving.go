package ecs

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

var _ deploy.ServingReader = (*Driver)(nil)

// ReadServing reports what the service serves now (deploy.ServingReader),
// each task definition by its ARN with its share in percent. While a
// deployment that shifts production traffic (BLUE_GREEN, CANARY, LINEAR)
// is in flight, stopped or rolling back, the shares are its traffic
// weights, read with DescribeServiceDeployments and
// DescribeServiceRevisions; otherwise they are the shares of the running
// tasks of the service's deployments (DescribeServices), and a service
// with no task running serves its task definition alone. It changes
// nothing. A missing service gives an error wrapping deploy.ErrNotFound.
func (d *Driver) ReadServing(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
	if t.Platform == "" {
		t.Platform = Platform
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("serving", t, "", err)
	}
	cluster, service, err := parseTarget(t)
	if err != nil {
		return nil, wrap("serving", t, "", err)
	}
	svc, err := d.describeService(ctx, cluster, service)
	if err != nil {
		return nil, wrap("serving", t, "", fmt.Errorf("DescribeServices: %w", err))
	}
	if svc == nil {
		return nil, wrap("serving", t, "", fmt.Errorf("%w: service %s in cluster %s", deploy.ErrNotFound, service, cluster))
	}
	if shares, ok, err := d.trafficShares(ctx, svc); err != nil {
		return nil, wrap("serving", t, "", err)
	} else if ok {
		return shares, nil
	}
	return taskShares(svc), nil
}

// taskShares is what the service's running tasks serve, by task
// definition, largest share first.
func taskShares(svc *types.Service) []deploy.Share {
	var all int32
	for _, dep := range svc.Deployments {
		all += dep.RunningCount
	}
	if all <= 0 {
		td := aws.ToString(svc.TaskDefinition)
		if td == "" {
			if p := primaryOf(svc); p != nil {
				td = aws.ToString(p.TaskDefinition)
			}
		}
		if td == "" {
			return nil
		}
		return []deploy.Share{{Revision: tdRevision(td), Percent: 100}}
	}
	by := map[string]float64{}
	for _, dep := range svc.Deployments {
		if dep.RunningCount > 0 {
			by[aws.ToString(dep.TaskDefinition)] += float64(dep.RunningCount) / float64(all) * 100
		}
	}
	return sharesOf(by)
}

// trafficShares reads the production traffic weights of the service's
// current service deployment, when it shifts traffic and has not
// succeeded. ok is false when there are none to read (no such deployment,
// no weights, or no service-deployments API here).
func (d *Driver) trafficShares(ctx context.Context, svc *types.Service) ([]deploy.Share, bool, error) {
	arn := aws.ToString(svc.CurrentServiceDeployment)
	if arn == "" || d.noSD.Load() {
		return nil, false, nil
	}
	out, err := d.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}}, probeOnce)
	if err != nil {
		if isUnavailable(err) {
			d.noSD.Store(true)
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("DescribeServiceDeployments: %w", err)
	}
	if len(out.ServiceDeployments) == 0 {
		return nil, false, nil
	}
	sd := &out.ServiceDeployments[0]
	tgt := sd.TargetServiceRevision
	if sd.Status == types.ServiceDeploymentStatusSuccessful || tgt == nil || tgt.RequestedProductionTrafficWeight == nil ||
		tgt.Arn == nil || len(sd.SourceServiceRevisions) == 0 {
		return nil, false, nil
	}
	arns := []string{aws.ToString(tgt.Arn)}
	weights := map[string]float64{aws.ToString(tgt.Arn): *tgt.RequestedProductionTrafficWeight}
	// The source revisions share what the target does not get, in
	// proportion to their own weights where they have them (ECS does not
	// always update those as a rollback moves traffic back).
	rest := 100 - *tgt.RequestedProductionTrafficWeight
	var srcs []types.ServiceRevisionSummary
	var sum float64
	for _, src := range sd.SourceServiceRevisions {
		if aws.ToString(src.Arn) != "" {
			srcs = append(srcs, src)
			sum += aws.ToFloat64(src.RequestedProductionTrafficWeight)
		}
	}
	for _, src := range srcs {
		a := aws.ToString(src.Arn)
		arns = append(arns, a)
		switch {
		case len(srcs) == 1:
			weights[a] += rest
		case sum > 0:
			weights[a] += rest * aws.ToFloat64(src.RequestedProductionTrafficWeight) / sum
		default:
			weights[a] += rest / float64(len(srcs))
		}
	}
	revs, err := d.ecs.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: arns})
	if err != nil {
		return nil, false, fmt.Errorf("DescribeServiceRevisions: %w", err)
	}
	by := map[string]float64{}
	for _, r := range revs.ServiceRevisions {
		if w := weights[aws.ToString(r.ServiceRevisionArn)]; w > 0 {
			by[aws.ToString(r.TaskDefinition)] += w
		}
	}
	if len(by) == 0 {
		return nil, false, nil
	}
	return sharesOf(by), true, nil
}

// sharesOf turns task definition ARNs and percentages into shares,
// largest first.
func sharesOf(by map[string]float64) []deploy.Share {
	out := make([]deploy.Share, 0, len(by))
	for td, p := range by {
		out = append(out, deploy.Share{Revision: tdRevision(td), Percent: p})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Percent != out[j].Percent {
			return out[i].Percent > out[j].Percent
		}
		return out[i].Revision.ID < out[j].Revision.ID
	})
	return out
}

func tdRevision(arn string) deploy.Revision { return deploy.Revision{ID: arn, Label: labelOf(arn)} }
