package ec2_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/internal/motoserver"
)

// TestMoto drives the driver with the real CodeDeploy and EC2 clients
// against moto_server, for what moto implements: an application, a
// deployment group with two EC2 tag sets, tagged EC2 instances resolved
// into a batch plan, CreateDeployment, Status and History. moto keeps
// deployments in Created, so progression is tested over codedeployserver.
func TestMoto(t *testing.T) {
	s := motoserver.Start(t)
	cd := s.CodeDeploy()
	ec := awsec2.NewFromConfig(s.Config())
	run := func(env, role string, n int32) {
		t.Helper()
		_, err := ec.RunInstances(ctx, &awsec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(n), MaxCount: aws.Int32(n),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
				{Key: aws.String("Env"), Value: aws.String(env)}, {Key: aws.String("Role"), Value: aws.String(role)}}}}})
		if err != nil {
			t.Fatalf("RunInstances: %v", err)
		}
	}
	run("prod", "web", 3)
	run("staging", "web", 1)
	run("prod", "db", 2)
	run("dev", "web", 1)
	if _, err := cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("shop"),
		ComputePlatform: cdtypes.ComputePlatformServer}); err != nil {
		t.Fatal(err)
	}
	filter := func(k, v string) cdtypes.EC2TagFilter {
		return cdtypes.EC2TagFilter{Key: aws.String(k), Value: aws.String(v), Type: cdtypes.EC2TagFilterTypeKeyAndValue}
	}
	// (Env=prod OR Env=staging) AND Role=web: four instances.
	if _, err := cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("shop"),
		DeploymentGroupName: aws.String("web"), ServiceRoleArn: aws.String("arn:aws:iam::123456789012:role/codedeploy"),
		DeploymentConfigName: aws.String("CodeDeployDefault.HalfAtATime"),
		Ec2TagSet: &cdtypes.EC2TagSet{Ec2TagSetList: [][]cdtypes.EC2TagFilter{
			{filter("Env", "prod"), filter("Env", "staging")}, {filter("Role", "web")}}}}); err != nil {
		t.Fatal(err)
	}
	// NewFromConfig, as deployctl builds it: its CodeDeploy client reads
	// moto's ISO timestamps (platform.NewCodeDeployClient).
	drv := ec2.NewFromConfig(s.Config(), ec2.Options{EC2: ec})
	tgt := ec2.Target("shop", "web")
	req := deploy.Request{Target: tgt, Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "releases", Key: "web/v2.zip", Version: "v2"}}}
	p, err := drv.Prepare(ctx, req)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if p.Batches == nil || p.Batches.Instances != 4 || len(p.Batches.Batches) != 2 || p.Batches.Batches[0] != 2 {
		t.Fatalf("plan batches %+v, want 4 instances in two batches of 2", p.Batches)
	}
	if _, err := drv.Prepare(ctx, deploy.Request{Target: ec2.Target("shop", "missing"), Options: req.Options}); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("Prepare of a missing group: %v, want ErrNotFound", err)
	}
	d, err := drv.Start(ctx, p)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	st, err := drv.Status(ctx, d)
	if err != nil || st.Status != deploy.StatusCreated || st.To.ID != "s3://releases/web/v2.zip?versionId=v2" {
		t.Fatalf("Status: %+v, %v", st, err)
	}
	if _, err := drv.Start(ctx, p); !errors.Is(err, deploy.ErrLocked) {
		t.Errorf("a second Start while %s is live: %v, want ErrLocked", d.ID, err)
	}
	h, err := drv.History(ctx, tgt)
	if err != nil || len(h) != 1 || h[0].DeploymentID != d.ID || h[0].Status == deploy.StatusSucceeded {
		t.Fatalf("History: %+v, %v", h, err)
	}
	if _, err := drv.History(ctx, ec2.Target("shop", "missing")); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("History of a missing group: %v", err)
	}
}
