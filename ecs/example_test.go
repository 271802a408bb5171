package ecs_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/ecs"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// seed gives the fake a service cluster/name that runs family:1 (image)
// with two tasks, the deployment circuit breaker on with rollback.
func seed(f *ecsfake.Fake, cluster, name, family, image string) {
	td := f.SeedTaskDefinition(&awsecs.RegisterTaskDefinitionInput{Family: aws.String(family),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(256)}}})
	f.SeedService(&awsecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(200), MinimumHealthyPercent: aws.Int32(100),
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}, Strategy: types.DeploymentStrategyRolling}})
}

// A rolling deploy of a task definition file, as `ecspresso deploy` does:
// the plan (the dry run, which makes no mutating call) prints the diff
// first, then the deployment runs to the end. Real code builds the driver
// with ecs.NewFromConfig and keeps the system clock.
func Example() {
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	f := ecsfake.New(ecsfake.Options{Clock: clk})
	seed(f, "prod", "web", "web", "nginx:1.27")
	drv := ecs.New(f, ecs.Options{AutoScaling: f, Clock: clk})
	eng := deploy.New(drv, deploy.Options{Clock: clk})
	ctx := context.Background()

	taskDef := []byte(`{"family": "web", "containerDefinitions": [
	  {"name": "app", "image": "nginx:1.28", "memory": 512, "essential": true}]}`)
	req := deploy.Request{Target: ecs.Target("prod", "web"), RollbackOn: deploy.OnFailure,
		Options: ecs.DeployOptions{TaskDefinition: taskDef, Tasks: aws.Int32(3)}}
	p, err := eng.Plan(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(p)
	fmt.Println("mutating calls after the plan:", f.Mutations())

	d, err := eng.Execute(ctx, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Status, d.From.Label, "->", d.To.Label)
	fmt.Println("calls:", f.Count("RegisterTaskDefinition"), "RegisterTaskDefinition,", f.Count("UpdateService"), "UpdateService")
	// Output:
	// ecs:prod/web: web:1 -> web:(new) [all-at-once, platform]
	//   taskDefinition.containerDefinitions[0].image: nginx:1.27 -> nginx:1.28
	//   taskDefinition.containerDefinitions[0].memory: 256 -> 512
	//   service.desiredCount: 2 -> 3
	// mutating calls after the plan: 0
	// Succeeded web:1 -> web:2
	// calls: 1 RegisterTaskDefinition, 1 UpdateService
}

// The deployment circuit breaker rolls a failing deployment back: the
// engine reports it as RolledBack, never as a success, and the service is
// back on its previous task definition.
func Example_circuitBreakerRollback() {
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	f := ecsfake.New(ecsfake.Options{Clock: clk})
	seed(f, "prod", "web", "web", "nginx:1.27")
	drv := ecs.New(f, ecs.Options{Clock: clk})
	eng := deploy.New(drv, deploy.Options{Clock: clk})

	f.FailNext(1) // the new tasks will not start
	d, err := eng.Deploy(context.Background(), deploy.Request{Target: ecs.Target("prod", "web"), RollbackOn: deploy.OnFailure,
		Options: ecs.DeployOptions{TaskDefinition: []byte(`{"family": "web",
		  "containerDefinitions": [{"name": "app", "image": "nginx:broken", "memory": 256}]}`)}})
	fmt.Println(d.Status, errors.Is(err, deploy.ErrRolledBack))
	fmt.Println(d.Reason)
	svc, _ := f.DescribeServices(context.Background(), &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	fmt.Println("service runs", aws.ToString(svc.Services[0].TaskDefinition))
	// Output:
	// RolledBack true
	// rolled back; circuit breaker triggered (2 failed tasks); circuit breaker: tasks failed to start
	// service runs arn:aws:ecs:us-east-1:123456789012:task-definition/web:1
}

// StatusMany follows many deployments with few calls: DescribeServices
// takes ten services of a cluster per call, DescribeServiceDeployments
// twenty deployments.
func ExampleDriver_StatusMany() {
	clk := deploytest.NewClock(deploytest.Epoch())
	f := ecsfake.New(ecsfake.Options{Clock: clk})
	drv := ecs.New(f, ecs.Options{Clock: clk})
	ctx := context.Background()

	var deps []*deploy.Deployment
	for _, t := range []struct {
		cluster string
		n       int
	}{{"prod", 12}, {"staging", 3}} {
		for i := range t.n {
			name := fmt.Sprintf("svc%02d", i)
			seed(f, t.cluster, name, t.cluster+"-"+name, "app:1")
			p, err := drv.Prepare(ctx, deploy.Request{Target: ecs.Target(t.cluster, name), Options: ecs.DeployOptions{
				SkipTaskDefinition: true, ForceNewDeployment: true, NoUpdateService: true}})
			if err != nil {
				fmt.Println(err)
				return
			}
			d, err := drv.Start(ctx, p)
			if err != nil {
				fmt.Println(err)
				return
			}
			deps = append(deps, d)
		}
	}
	for _, wait := range []time.Duration{0, 2 * time.Minute} {
		clk.Advance(wait)
		f.ResetCalls()
		now, err := drv.StatusMany(ctx, deps)
		if err != nil {
			fmt.Println(err)
			return
		}
		count := map[deploy.Status]int{}
		for _, d := range now {
			count[d.Status]++
		}
		fmt.Printf("after %v: %d services, %v; %d DescribeServices, %d DescribeServiceDeployments\n", wait, len(now), count,
			f.Count("DescribeServices"), f.Count("DescribeServiceDeployments"))
	}
	// Output:
	// after 0s: 15 services, map[InProgress:15]; 3 DescribeServices, 1 DescribeServiceDeployments
	// after 2m0s: 15 services, map[Succeeded:15]; 3 DescribeServices, 1 DescribeServiceDeployments
}
