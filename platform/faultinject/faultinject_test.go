package faultinject_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// unreachable is a next client that fails the test: the faults that answer
// by themselves must never reach the server.
type unreachable struct{ t *testing.T }

func (u unreachable) Do(r *http.Request) (*http.Response, error) {
	u.t.Errorf("request reached the server: %s %s", r.Method, r.URL)
	return nil, errors.New("unreachable")
}

func config(hc aws.HTTPClient) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1, HTTPClient: hc}
}

// call is one read operation of one SDK client.
type call struct {
	service, op string
	throttle    string // the error code the service throttles with
	run         func(ctx context.Context, cfg aws.Config) error
}

func calls() []call {
	return []call{
		{"ECS", "DescribeServices", "ThrottlingException", func(ctx context.Context, cfg aws.Config) error {
			_, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"s"}})
			return err
		}},
		{"Lambda", "GetAlias", "TooManyRequestsException", func(ctx context.Context, cfg aws.Config) error {
			_, err := lambda.NewFromConfig(cfg).GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("f"), Name: aws.String("a")})
			return err
		}},
		{"CloudWatch", "DescribeAlarms", "ThrottlingException", func(ctx context.Context, cfg aws.Config) error {
			// The default protocol: rpc-v2-cbor.
			_, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			return err
		}},
		{"CloudWatch", "DescribeAlarms", "Throttling", func(ctx context.Context, cfg aws.Config) error {
			_, err := cloudwatch.NewFromConfig(cfg, motoserver.CloudWatchOptions).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			return err
		}},
		{"CodeDeploy", "GetDeployment", "ThrottlingException", func(ctx context.Context, cfg aws.Config) error {
			_, err := codedeploy.NewFromConfig(cfg).GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-1")})
			return err
		}},
		{"EC2", "DescribeInstances", "RequestLimitExceeded", func(ctx context.Context, cfg aws.Config) error {
			_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		}},
		{"Auto Scaling", "DescribeAutoScalingGroups", "Throttling", func(ctx context.Context, cfg aws.Config) error {
			_, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		}},
		{"Application Auto Scaling", "DescribeScalableTargets", "ThrottlingException", func(ctx context.Context, cfg aws.Config) error {
			_, err := applicationautoscaling.NewFromConfig(cfg).DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: "ecs"})
			return err
		}},
		{"DynamoDB", "GetItem", "ThrottlingException", func(ctx context.Context, cfg aws.Config) error {
			_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"),
				Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
			return err
		}},
		{"OpsWorks", "DescribeDeployments", "ThrottlingException", func(ctx context.Context, cfg aws.Config) error {
			_, err := opsworks.NewFromConfig(cfg).DescribeDeployments(ctx, &opsworks.DescribeDeploymentsInput{StackId: aws.String("s")})
			return err
		}},
	}
}

// Every fault that answers by itself decodes, through the real SDK stack
// of every service the drivers use, into the error a real endpoint gives,
// and platform.Classify puts it in the class the engine acts on.
func TestFaultsDecodeAndClassifyAcrossServices(t *testing.T) {
	want := map[faultinject.Kind]platform.Class{
		faultinject.Throttle:    platform.ClassThrottling,
		faultinject.ServerError: platform.ClassRetryable,
		faultinject.Unavailable: platform.ClassRetryable,
		faultinject.Reset:       platform.ClassRetryable,
		faultinject.Timeout:     platform.ClassRetryable,
	}
	for _, c := range calls() {
		for _, kind := range []faultinject.Kind{faultinject.Throttle, faultinject.ServerError, faultinject.Unavailable, faultinject.Reset, faultinject.Timeout} {
			t.Run(c.service+"/"+c.throttle+"/"+kind.String(), func(t *testing.T) {
				ft := faultinject.New(unreachable{t}, faultinject.Rule{Service: c.service, Operations: []string{c.op}, Fault: faultinject.Fault{Kind: kind}})
				err := c.run(context.Background(), config(ft))
				if err == nil {
					t.Fatal("no error")
				}
				if got := platform.Classify(err); got != want[kind] {
					t.Fatalf("Classify = %v, want %v; err: %v", got, want[kind], err)
				}
				if kind == faultinject.Throttle {
					var api smithy.APIError
					if !errors.As(err, &api) || api.ErrorCode() != c.throttle {
						t.Fatalf("error code %v, want %s; err: %v", api, c.throttle, err)
					}
					if !errors.Is(platform.Wrap("test", c.op, "x", err), deploy.ErrThrottled) {
						t.Fatalf("platform.Wrap does not wrap deploy.ErrThrottled: %v", err)
					}
				}
				inj := ft.Injected()
				if len(inj) != 1 || inj[0].Operation != c.op || inj[0].Mutating || inj[0].Fault != kind {
					t.Fatalf("Injected = %+v", inj)
				}
			})
		}
	}
}

// canned answers every call with one JSON body.
type canned struct {
	mu   sync.Mutex
	n    int
	body string
}

func (c *canned) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body: io.NopCloser(strings.NewReader(c.body)), Request: r}, nil
}

// The SDK's own retryer retries what the transport injects: two throttles
// and a reset, then the call goes through on the fourth attempt.
func TestSDKRetriesInjectedFaults(t *testing.T) {
	next := &canned{body: `{"clusterArns":[]}`}
	ft := faultinject.New(next,
		faultinject.Rule{Operations: []string{"ListClusters"}, Fault: faultinject.Fault{Kind: faultinject.Throttle}, Times: 2},
		faultinject.Rule{Operations: []string{"ListClusters"}, Fault: faultinject.Fault{Kind: faultinject.Reset}, Nth: []int{3}})
	cfg := config(ft)
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	if _, err := ecs.NewFromConfig(cfg).ListClusters(context.Background(), &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("ListClusters: %v", err)
	}
	var kinds []string
	for _, c := range ft.Calls() {
		kinds = append(kinds, c.Fault.String())
	}
	if got := strings.Join(kinds, ","); got != "throttle,throttle,reset,none" || next.n != 1 {
		t.Fatalf("calls %s, server saw %d; want throttle,throttle,reset,none and 1", got, next.n)
	}
}

// Schedules: Nth, After and Times pick exact calls; a seeded probability
// picks the same calls for the same seed; Calls narrows to mutations.
func TestSchedules(t *testing.T) {
	run := func(ft *faultinject.Transport, ops ...string) string {
		var b strings.Builder
		for _, op := range ops {
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", bytes.NewReader([]byte("{}")))
			req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
			resp, err := ft.Do(req)
			switch {
			case err != nil:
				b.WriteString("E")
			case resp.StatusCode != 200:
				b.WriteString("T")
			default:
				b.WriteString(".")
			}
		}
		return b.String()
	}
	thr := faultinject.Fault{Kind: faultinject.Throttle}
	ops := []string{"UpdateService", "UpdateService", "UpdateService", "UpdateService", "UpdateService"}
	if got := run(faultinject.New(&canned{body: "{}"}, faultinject.Rule{Fault: thr, Nth: []int{2, 4}}), ops...); got != ".T.T." {
		t.Errorf("Nth 2,4: %s", got)
	}
	if got := run(faultinject.New(&canned{body: "{}"}, faultinject.Rule{Fault: thr, After: 1, Times: 2}), ops...); got != ".TT.." {
		t.Errorf("After 1 Times 2: %s", got)
	}
	mixed := []string{"DescribeServices", "UpdateService", "ListTasks", "RegisterTaskDefinition"}
	if got := run(faultinject.New(&canned{body: "{}"}, faultinject.Rule{Fault: thr, Calls: faultinject.Mutations}), mixed...); got != ".T.T" {
		t.Errorf("Mutations: %s", got)
	}
	if got := run(faultinject.New(&canned{body: "{}"}, faultinject.Rule{Fault: faultinject.Fault{Kind: faultinject.Reset}, Calls: faultinject.Reads}), mixed...); got != "E.E." {
		t.Errorf("Reads: %s", got)
	}
	many := make([]string, 200)
	for i := range many {
		many[i] = "DescribeServices"
	}
	p := func(seed uint64) string {
		return run(faultinject.NewWithOptions(&canned{body: "{}"}, faultinject.Options{Seed: seed}, faultinject.Rule{Fault: thr, Probability: 0.3}), many...)
	}
	a, b := p(7), p(7)
	if a != b {
		t.Errorf("the same seed gave different faults")
	}
	if n := strings.Count(a, "T"); n < 30 || n > 90 {
		t.Errorf("probability 0.3 faulted %d of 200", n)
	}
	if p(8) == a {
		t.Errorf("another seed gave the same faults")
	}
}

// Against moto: added latency waits through Options.Wait and the call
// goes through; a malformed body fails the call although the mutation
// took effect (the caller cannot know the outcome).
func TestLatencyAndMalformedAgainstMoto(t *testing.T) {
	srv := motoserver.Start(t)
	base := srv.Config()
	var waited []time.Duration
	ft := faultinject.NewWithOptions(base.HTTPClient, faultinject.Options{Wait: func(_ context.Context, d time.Duration) error {
		waited = append(waited, d)
		return nil
	}},
		faultinject.Rule{Operations: []string{"ListClusters"}, Fault: faultinject.Fault{Kind: faultinject.Latency, Latency: 3 * time.Second}},
		faultinject.Rule{Operations: []string{"CreateCluster"}, Fault: faultinject.Fault{Kind: faultinject.Malformed}})
	cfg := base.Copy()
	cfg.HTTPClient = ft
	c := ecs.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := c.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("ListClusters with latency: %v", err)
	}
	if len(waited) != 1 || waited[0] != 3*time.Second {
		t.Fatalf("waited %v", waited)
	}
	_, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c1")})
	if err == nil {
		t.Fatal("CreateCluster with a malformed body succeeded")
	}
	t.Logf("malformed: class %v: %v", platform.Classify(err), err)
	out, err := ecs.NewFromConfig(base).DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"c1"}})
	if err != nil || len(out.Clusters) != 1 {
		t.Fatalf("the mutation behind the malformed answer did not take effect: %v %+v", err, out)
	}
	if got := ft.Calls(); len(got) != 2 || got[0].Fault != faultinject.Latency || got[1].Fault != faultinject.Malformed || !got[1].Mutating {
		t.Fatalf("Calls = %+v", got)
	}
}

// A lost answer: the call reaches the server and takes effect, and the
// caller gets a retryable timeout. The SDK then sends the mutation again,
// which CodeDeploy refuses because the first one created the deployment.
func TestLostAnswer(t *testing.T) {
	fake := codedeployfake.New(codedeployfake.Options{})
	fake.AddGroup(codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1"}})
	srv := codedeployserver.Start(t, fake)
	in := &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
			S3Location: &cdtypes.S3Location{Bucket: aws.String("b"), Key: aws.String("k.zip"), BundleType: cdtypes.BundleTypeZip}}}
	ctx := context.Background()

	cfg := srv.Config()
	ft := faultinject.New(cfg.HTTPClient, faultinject.Rule{Operations: []string{"CreateDeployment"}, Times: 1,
		Fault: faultinject.Fault{Kind: faultinject.Lost}})
	cfg.HTTPClient = ft
	_, err := codedeploy.NewFromConfig(cfg).CreateDeployment(ctx, in)
	if platform.Classify(err) != platform.ClassRetryable {
		t.Fatalf("lost answer: class %v: %v", platform.Classify(err), err)
	}
	if _, ok := fake.Deployment("d-1"); !ok {
		t.Fatal("the call behind the lost answer did not take effect")
	}

	cfg.RetryMaxAttempts = 3
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	ft = faultinject.New(srv.Config().HTTPClient, faultinject.Rule{Operations: []string{"CreateDeployment"}, Times: 1,
		Fault: faultinject.Fault{Kind: faultinject.Lost}})
	cfg.HTTPClient = ft
	if _, err := fake.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String("d-1")}); err != nil {
		t.Fatal(err)
	}
	_, err = codedeploy.NewFromConfig(cfg).CreateDeployment(ctx, in)
	var busy *cdtypes.DeploymentLimitExceededException
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "d-2") {
		t.Fatalf("retried after a lost answer: %v, want DeploymentLimitExceededException naming d-2", err)
	}
	if got := ft.Calls(); len(got) != 2 || got[0].Fault != faultinject.Lost || got[1].Fault != faultinject.None {
		t.Fatalf("Calls = %+v", got)
	}
}

// platform.Uncertain, through the real SDK stack of every service the
// drivers use: a call whose answer was lost (5xx, reset, timeout, a reply
// that does not decode) may have been carried out; a throttled call, and
// a connection that was never made, were not.
func TestUncertainAcrossServices(t *testing.T) {
	want := map[faultinject.Kind]bool{faultinject.Throttle: false, faultinject.ServerError: true,
		faultinject.Unavailable: true, faultinject.Reset: true, faultinject.Timeout: true}
	for _, c := range calls() {
		for kind, uncertain := range want {
			t.Run(c.service+"/"+c.throttle+"/"+kind.String(), func(t *testing.T) {
				ft := faultinject.New(unreachable{t}, faultinject.Rule{Service: c.service, Operations: []string{c.op}, Fault: faultinject.Fault{Kind: kind}})
				err := c.run(context.Background(), config(ft))
				if got := platform.Uncertain(err); got != uncertain {
					t.Fatalf("Uncertain = %v, want %v; err: %v", got, uncertain, err)
				}
				if got := platform.Uncertain(platform.Wrap("test", c.op, "x", err)); got != uncertain {
					t.Fatalf("Uncertain of the wrapped error = %v, want %v", got, uncertain)
				}
			})
		}
	}
	t.Run("malformed", func(t *testing.T) {
		next := &canned{body: `{"service":{"serviceName":"web"}}`}
		ft := faultinject.New(next, faultinject.Rule{Fault: faultinject.Fault{Kind: faultinject.Malformed}})
		_, err := ecs.NewFromConfig(config(ft)).UpdateService(context.Background(), &ecs.UpdateServiceInput{Service: aws.String("web")})
		if err == nil || !platform.Uncertain(err) || next.n != 1 {
			t.Fatalf("a reply that does not decode: Uncertain(%v) = false or the call did not reach the server (%d)", err, next.n)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		_, err := ecs.NewFromConfig(config(http.DefaultClient)).UpdateService(context.Background(), &ecs.UpdateServiceInput{Service: aws.String("web")})
		if err == nil || platform.Uncertain(err) {
			t.Fatalf("a connection never made: Uncertain(%v) = true, want false", err)
		}
	})
	for _, err := range []error{nil, context.Canceled, errors.New("the driver's own refusal"), deploy.ErrThrottled} {
		if platform.Uncertain(err) {
			t.Errorf("Uncertain(%v) = true", err)
		}
	}
}
