package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchyard/switchyard/internal/motoserver"
)

// ecspresso's README shapes: a YAML configuration with a tfstate plugin
// whose state is in S3, a templated task definition, a service
// definition, and the same task definition in Jsonnet.
const (
	ecspressoYML = `region: us-east-1
cluster: prod
service: api
service_definition: ecs-service-def.json
task_definition: ecs-task-def.json
timeout: "10m0s"
plugins:
  - name: tfstate
    config:
      url: s3://tfstate/app/terraform.tfstate
`
	ecspressoTD = `{
  "family": "api",
  "executionRoleArn": "{{ tfstate "aws_iam_role.ecs_task_execution.arn" }}",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [{
    "name": "app",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:{{ must_env "IMAGE_TAG" }}",
    "essential": true,
    "environment": [{"name": "DB_PASSWORD", "value": "{{ must_env "DB_PASSWORD" }}"}]
  }]
}`
	ecspressoSD = `{"desiredCount": 1, "launchType": "FARGATE",
  "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["{{ tfstate "aws_subnet.a.id" }}"], "securityGroups": ["{{ must_env "SG" }}"], "assignPublicIp": "DISABLED"}}}`
	ecspressoJsonnet = `local must_env = std.native('must_env');
local tfstate = std.native('tfstate');
{
  family: 'api',
  executionRoleArn: tfstate('aws_iam_role.ecs_task_execution.arn'),
  containerDefinitions: [{ name: 'app', image: 'nginx:' + must_env('IMAGE_TAG'), essential: true, memory: 128 }],
}`
	tfstateJSON = `{"version":4,"resources":[
 {"mode":"managed","type":"aws_iam_role","name":"ecs_task_execution","instances":[{"attributes":{"arn":"arn:aws:iam::123456789012:role/ecsTaskExecutionRole"}}]},
 {"mode":"managed","type":"aws_subnet","name":"a","instances":[{"attributes":{"id":"subnet-0abc"}}]}]}`
)

func TestECSConfigOnMoto(t *testing.T) {
	srv := motoserver.Start(t, "MOTO_ECS_SERVICE_RUNNING=1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "") // the configuration names the region
	t.Setenv("IMAGE_TAG", "v42")
	t.Setenv("DB_PASSWORD", "hunter2-secret")
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	ctx := context.Background()
	c := awsecs.NewFromConfig(cfg)
	c.CreateCluster(ctx, &awsecs.CreateClusterInput{ClusterName: aws.String("prod")})
	ec := ec2.NewFromConfig(cfg)
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	subnet := aws.ToString(sub.Subnet.SubnetId)
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("api"), Description: aws.String("api"), VpcId: vpc.Vpc.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SG", aws.ToString(sg.GroupId))
	s3c := newS3(cfg, srv.URL)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tfstate")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tfstate"), Key: aws.String("app/terraform.tfstate"),
		Body: strings.NewReader(strings.ReplaceAll(tfstateJSON, "subnet-0abc", subnet))}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for n, body := range map[string]string{"ecspresso.yml": ecspressoYML, "ecs-task-def.json": ecspressoTD,
		"ecs-service-def.json": ecspressoSD, "ecs-task-def.jsonnet": ecspressoJsonnet} {
		os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644)
	}
	conf := filepath.Join(dir, "ecspresso.yml")
	cli := func(args ...string) (int, string, string) {
		return runCLI(t, append([]string{"--endpoint-url", srv.URL, "ecs"}, args...)...)
	}
	countTDs := func() int {
		out, err := c.ListTaskDefinitions(ctx, &awsecs.ListTaskDefinitionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.TaskDefinitionArns)
	}

	// render prints the rendered definition, secrets redacted, and
	// registers nothing.
	code, out, stderr := cli("render", "--config", conf, "taskdef", "servicedef")
	if code != 0 || !strings.Contains(out, "api:v42") || !strings.Contains(out, "role/ecsTaskExecutionRole") ||
		!strings.Contains(out, subnet) || strings.Contains(out+stderr, "hunter2") {
		t.Fatalf("render: %d\n%s\n%s", code, out, stderr)
	}
	if countTDs() != 0 {
		t.Fatal("render registered a task definition")
	}

	// The service does not exist: deploy creates it from the rendered files.
	code, out, stderr = cli("deploy", "--config", conf, "--no-wait")
	if code != 0 || !strings.Contains(out, "api:1") {
		t.Fatalf("deploy: %d\n%s\n%s", code, out, stderr)
	}
	if strings.Contains(out+stderr, "hunter2") {
		t.Fatal("a secret was printed")
	}
	td, err := c.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api:1")})
	if err != nil {
		t.Fatal(err)
	}
	cd := td.TaskDefinition.ContainerDefinitions[0]
	if aws.ToString(cd.Image) != "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v42" ||
		aws.ToString(td.TaskDefinition.ExecutionRoleArn) != "arn:aws:iam::123456789012:role/ecsTaskExecutionRole" ||
		aws.ToString(cd.Environment[0].Value) != "hunter2-secret" {
		t.Fatalf("registered %+v", td.TaskDefinition)
	}
	svc, err := c.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("service: %v %v", svc, err)
	}
	if nc := svc.Services[0].NetworkConfiguration; nc == nil || nc.AwsvpcConfiguration.Subnets[0] != subnet {
		t.Fatalf("service network %+v", svc.Services[0].NetworkConfiguration)
	}

	// diff is the dry run: it shows the new image and registers nothing.
	t.Setenv("IMAGE_TAG", "v43")
	code, out, stderr = cli("diff", "--config", conf)
	if code != 0 || !strings.Contains(out, "api:v42 -> ") || !strings.Contains(out, "api:v43") || strings.Contains(out, "hunter2") {
		t.Fatalf("diff: %d\n%s\n%s", code, out, stderr)
	}
	if countTDs() != 1 {
		t.Fatal("diff registered a task definition")
	}

	// Unset and unrendered placeholders are refused with exit 2, nothing registered.
	os.Unsetenv("IMAGE_TAG")
	code, _, stderr = cli("deploy", "--config", conf, "--no-wait")
	if code != 2 || !strings.Contains(stderr, "IMAGE_TAG is not set") {
		t.Fatalf("unset: %d %s", code, stderr)
	}
	t.Setenv("IMAGE_TAG", "v43")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"family":"api","containerDefinitions":[{"name":"app","image":"nginx:{{ ssm "/x" }}"}]}`), 0o644)
	if code, _, stderr = cli("deploy", "--config", conf, "--task-definition", bad, "--no-wait"); code != 2 {
		t.Fatalf("unknown function: %d %s", code, stderr)
	}
	os.WriteFile(bad, []byte(`{"family":"api","containerDefinitions":[{"name":"app","image":"{{ "{{" }} x }}"}]}`), 0o644)
	if code, _, stderr = cli("deploy", "--task-definition", bad, "--cluster", "prod", "--service", "api", "--no-wait"); code != 2 ||
		!strings.Contains(stderr, "unrendered") {
		t.Fatalf("leftover: %d %s", code, stderr)
	}
	if countTDs() != 1 {
		t.Fatal("a refused deploy registered a task definition")
	}

	// The Jsonnet task definition, given by flag over the configuration's.
	code, out, stderr = cli("deploy", "--config", conf, "--task-definition", filepath.Join(dir, "ecs-task-def.jsonnet"), "--no-wait", "--no-update-service")
	if code != 0 || !strings.Contains(out, "api:2") {
		t.Fatalf("jsonnet deploy: %d\n%s\n%s", code, out, stderr)
	}
	td, _ = c.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api:2")})
	if aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image) != "nginx:v43" {
		t.Fatalf("jsonnet registered %+v", td.TaskDefinition.ContainerDefinitions[0])
	}

	// rollback --no-wait, as ecspresso accepts it; scale and refresh from the configuration.
	if code, out, stderr = cli("rollback", "--config", conf, "--no-wait", "--no-deregister"); code != 0 || !strings.Contains(out, "api:1") {
		t.Fatalf("rollback: %d\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr = cli("scale", "--config", conf, "--tasks", "2", "--no-wait"); code != 0 {
		t.Fatalf("scale: %s", stderr)
	}
	if code, _, stderr = cli("refresh", "--config", conf, "--no-wait"); code != 0 {
		t.Fatalf("refresh: %s", stderr)
	}
	if code, out, stderr = cli("status", "--config", conf); code != 0 || !strings.Contains(out, "* api:1") {
		t.Fatalf("status: %d %s %s", code, out, stderr)
	}
}

func TestECSNegatedFlags(t *testing.T) {
	var f ecsFlags
	fs := (&app{stderr: new(strings.Builder)}).flags("ecs rollback")
	f.register(fs, "rollback")
	if err := parse(fs, []string{"--service", "s", "--no-wait", "--deregister", "--no-deregister"}); err != nil {
		t.Fatal(err)
	}
	if f.wait || f.deregister {
		t.Fatalf("rollback: wait %v deregister %v", f.wait, f.deregister)
	}
	f = ecsFlags{}
	fs = (&app{stderr: new(strings.Builder)}).flags("ecs deploy")
	f.register(fs, "deploy")
	if err := parse(fs, []string{"--no-wait", "--wait", "--no-update-service", "--update-service", "--no-dry-run", "--suspend-auto-scaling", "--no-suspend-auto-scaling", "--wait=false"}); err != nil {
		t.Fatal(err)
	}
	if !f.noWait || f.noUpdateService || f.dryRun || f.suspendAS {
		t.Fatalf("deploy: %+v", f)
	}
}

func TestECSRenderWithoutAWS(t *testing.T) {
	dir := t.TempDir()
	td := filepath.Join(dir, "td.json")
	os.WriteFile(td, []byte(`{"family":"x","containerDefinitions":[{"name":"a","image":"{{ env "NOPE_IMG" "nginx" }}","environment":[{"name":"K","value":"{{ json_escape "v\"" }}"}]}]}`), 0o644)
	code, out, stderr := runCLI(t, "ecs", "render", "--task-definition", td)
	if code != 0 || !strings.Contains(out, `"image": "nginx"`) || !strings.Contains(out, redacted) {
		t.Fatalf("%d %s %s", code, out, stderr)
	}
	for _, bad := range [][]string{{"ecs", "render", "config"}, {"ecs", "render", "bogus", "--task-definition", td}, {"ecs", "render", "servicedef"}} {
		if code, _, _ := runCLI(t, bad...); code != 2 {
			t.Errorf("%v: exit %d", bad, code)
		}
	}
}

func TestECSRenderJSONLines(t *testing.T) {
	dir := t.TempDir()
	td := filepath.Join(dir, "td.json")
	os.WriteFile(td, []byte(`{"family":"x","containerDefinitions":[{"name":"a","image":"nginx","environment":[{"name":"K","value":"secret-v"}]}]}`), 0o644)
	code, out, stderr := runCLI(t, "--output", "json", "ecs", "render", "--task-definition", td)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.HasPrefix(lines[0], `{"type":"status","document":{`) || !strings.Contains(lines[0], `"render":"taskdef"`) || strings.Contains(out, "secret-v") {
		t.Fatalf("%d\n%s\n%s", code, out, stderr)
	}
}

func TestEnvFileAndExtVars(t *testing.T) {
	dir := t.TempDir()
	ef := filepath.Join(dir, ".env")
	os.WriteFile(ef, []byte("# comment\nexport IMG_TAG=\"1.2\"\n\nOTHER='x'\n"), 0o644)
	td := filepath.Join(dir, "td.jsonnet")
	os.WriteFile(td, []byte(`{ family: 'x', containerDefinitions: [{ name: 'a', image: 'nginx:' + std.native('must_env')('IMG_TAG') + std.extVar('sfx') + std.toString(std.extVar('n')) }] }`), 0o644)
	code, out, stderr := runCLI(t, "ecs", "render", "--task-definition", td, "--envfile", ef, "--ext-str", "sfx=-b", "--ext-code", "n=1+1")
	if code != 0 || !strings.Contains(out, `"image": "nginx:1.2-b2"`) {
		t.Fatalf("%d %s %s", code, out, stderr)
	}
	os.WriteFile(ef, []byte("not a pair\n"), 0o644)
	if code, _, _ := runCLI(t, "ecs", "render", "--task-definition", td, "--envfile", ef); code != 2 {
		t.Fatalf("bad envfile: exit %d", code)
	}
	if code, _, _ := runCLI(t, "ecs", "render", "--task-definition", td, "--ext-str", "novalue"); code != 2 {
		t.Fatalf("bad ext-str: exit %d", code)
	}
}

func TestWithTimeoutFrom(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	ctx, stop := withTimeoutFrom(parent, time.Hour)
	defer stop()
	<-parent.Done()
	select {
	case <-ctx.Done():
		t.Fatal("the parent's deadline ended the configuration's longer timeout")
	case <-time.After(20 * time.Millisecond):
	}
	parent2, cancel2 := context.WithCancel(context.Background())
	ctx2, stop2 := withTimeoutFrom(parent2, time.Hour)
	defer stop2()
	cancel2()
	select {
	case <-ctx2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("an interrupt did not reach the configuration's context")
	}
	ctx3, stop3 := withTimeoutFrom(context.Background(), time.Millisecond)
	defer stop3()
	<-ctx3.Done()
	if !errors.Is(context.Cause(ctx3), context.DeadlineExceeded) {
		t.Fatalf("cause %v", context.Cause(ctx3))
	}
}
