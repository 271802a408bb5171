package ec2_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ec2/ec2fake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// statusOnly hides StatusMany, so the engine polls each deployment alone.
type statusOnly struct{ deploy.Driver }

// fleetGroups adds n in-place groups "g000".."gNNN" of two instances each
// (tagged Group=gNNN in ef) to f, running s3://bucket/app-0.zip, and
// returns a request deploying app-1.zip to each.
func fleetGroups(f *codedeployfake.Fake, ef *ec2fake.Client, n int) []deploy.Request {
	reqs := make([]deploy.Request, n)
	for i := range n {
		g := fmt.Sprintf("g%03d", i)
		ids := []string{g + "-i-1", g + "-i-2"}
		for _, id := range ids {
			ef.AddInstance(ec2fake.Instance{ID: id, Tags: map[string]string{"Group": g}})
		}
		f.AddGroup(codedeployfake.Group{Application: "app", Name: g, Batches: true,
			Targets: ids, Current: s3Loc("app-0.zip"), DeploymentConfigName: "CodeDeployDefault.OneAtATime",
			EC2TagFilters: []cdtypes.EC2TagFilter{{Key: aws.String("Group"), Value: aws.String(g), Type: cdtypes.EC2TagFilterTypeKeyAndValue}}})
		reqs[i] = deploy.Request{Target: ec2.Target("app", g),
			Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "bucket", Key: "app-1.zip"}}}
	}
	return reqs
}

// A fleet of 100 EC2/on-premises deployments through Engine.DeployAll
// with the engine's defaults reads its deployments with one
// BatchGetDeployments per 25 deployments per poll; polled one by one, the
// same fleet costs one GetDeployment per deployment per poll. The test runs
// in a synctest bubble: the engine's, the driver's and the fake's default
// clock is the bubble's, so every poll falls due on the same fake instant
// it would in production, and no timing decides the outcome.
func TestFleetOf100PollsOneBatchGetDeploymentsPer25(t *testing.T) {
	for _, batched := range []bool{true, false} {
		t.Run(map[bool]string{true: "StatusMany", false: "Status"}[batched], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 100
				log := codedeployfake.NewReadLog(codedeployfake.New(codedeployfake.Options{}))
				ef := ec2fake.New()
				reqs := fleetGroups(log.Fake, ef, n)
				var drv deploy.Driver = ec2.New(log, ec2.Options{EC2: ef})
				if !batched {
					drv = statusOnly{drv}
				}
				eng := deploy.New(drv, deploy.Options{Concurrency: n})
				start := time.Now()
				ds, err := eng.DeployAll(context.Background(), reqs, deploy.FleetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ds {
					if d.Status != deploy.StatusSucceeded {
						t.Fatalf("%s: %s (%s)", d.Target, d.Status, d.Reason)
					}
				}
				// The polls: every deployment read after the plans and
				// starts (all at the first instant), by instant.
				log.CheckPolls(t, start, n, batched)
			})
		})
	}
}
