package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/platform"
)

// motoEnv is a function "app" with version 1 behind alias "live" on
// moto_server, reached through the real SDK clients.
type motoEnv struct {
	srv *motoserver.Server
	lc  *awslambda.Client
	cw  *cloudwatch.Client
}

func newMotoEnv(t *testing.T) *motoEnv {
	t.Helper()
	return seedMotoEnv(t, motoserver.Start(t))
}

// seedMotoEnv fills srv as newMotoEnv describes.
func seedMotoEnv(t *testing.T, srv *motoserver.Server) *motoEnv {
	t.Helper()
	cfg := srv.Config()
	m := &motoEnv{srv: srv, lc: awslambda.NewFromConfig(cfg), cw: srv.CloudWatch()}
	role := createRole(t, srv, cfg, "lambda-role")
	ctx := context.Background()
	_, err := m.lc.CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String("app"), Role: aws.String(role), Runtime: types.RuntimePython312,
		Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, "return 1")}, Publish: true,
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if _, err := m.lc.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	// The hook functions the CodeDeploy tests name: Prepare refuses a hook
	// function that does not exist.
	for _, fn := range []string{"app-pre", "app-post"} {
		if _, err := m.lc.CreateFunction(ctx, &awslambda.CreateFunctionInput{
			FunctionName: aws.String(fn), Role: aws.String(role), Runtime: types.RuntimePython312,
			Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, "return 0")},
		}); err != nil {
			t.Fatalf("CreateFunction %s: %v", fn, err)
		}
	}
	return m
}

// createRole makes an IAM role through moto's IAM query API (signed with
// SigV4 so moto routes it to IAM) and returns its ARN.
func createRole(t *testing.T, srv *motoserver.Server, cfg aws.Config, name string) string {
	t.Helper()
	form := url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {name},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}}
	body := form.Encode()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CreateRole: %s: %s", resp.Status, b)
	}
	return "arn:aws:iam::123456789012:role/" + name
}

func zipOf(t *testing.T, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("index.py")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "def handler(event, context):\n    %s\n", body)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (m *motoEnv) alias(t *testing.T) (string, map[string]float64) {
	t.Helper()
	out, err := m.lc.GetAlias(context.Background(), &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
	if err != nil {
		t.Fatalf("GetAlias: %v", err)
	}
	var w map[string]float64
	if out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0 {
		w = out.RoutingConfig.AdditionalVersionWeights
	}
	return aws.ToString(out.FunctionVersion), w
}

// weightRecorder is a gate that reads the alias after every shift, so the
// test sees the weights moto really holds.
func (m *motoEnv) weightRecorder(t *testing.T, into *[]string, mu *sync.Mutex) deploy.Gate {
	return deploy.GateFunc{GateName: "recorder", Phases: []deploy.Phase{deploy.PhaseShift, deploy.PhaseAfterTraffic},
		Func: func(ctx context.Context, c deploy.Check) error {
			v, w := m.alias(t)
			mu.Lock()
			*into = append(*into, fmt.Sprintf("%s %v", v, w))
			mu.Unlock()
			return nil
		}}
}

func TestMotoCanaryCompletes(t *testing.T) {
	m := newMotoEnv(t)
	clk := deploytest.NewAutoClock(time.Time{})
	eng := deploy.New(lambda.New(m.lc, lambda.Options{Clock: clk}), deploy.Options{Clock: clk})
	var seen []string
	var mu sync.Mutex
	req := deploy.Request{Target: lambda.Target("app", "live"), Strategy: mustStrategy(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
		Options: &lambda.DeployOptions{Zip: zipOf(t, "return 2")}, Gates: []deploy.Gate{m.weightRecorder(t, &seen, &mu)}}
	d, err := eng.Deploy(context.Background(), req)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if d.Status != deploy.StatusSucceeded || d.From.ID != "1" || d.To.ID != "2" {
		t.Fatalf("deployment %s %v -> %s", d.Status, d.From, d.To.ID)
	}
	if want := []string{"1 map[2:0.1]", "2 map[]"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("alias after each shift = %q, want %q", seen, want)
	}
	if v, w := m.alias(t); v != "2" || w != nil {
		t.Fatalf("alias = %s %v, want 2 alone", v, w)
	}
}

func TestMotoAlarmMidCanaryRollsBack(t *testing.T) {
	m := newMotoEnv(t)
	ctx := context.Background()
	dims, err := platform.LambdaVersionDimensions("app", "live", "2")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("app-live-errors"), Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
		Dimensions: dims, Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
	})
	if err != nil {
		t.Fatalf("PutMetricAlarm: %v", err)
	}
	gate, err := platform.NewAlarmGate(m.cw, platform.AlarmGateOptions{Prefixes: []string{"app-live-"}})
	if err != nil {
		t.Fatal(err)
	}
	// The alarm goes off once 10% of traffic is on the new version.
	fire := deploy.GateFunc{GateName: "fire", Phases: []deploy.Phase{deploy.PhaseShift}, Func: func(ctx context.Context, c deploy.Check) error {
		_, err := m.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("app-live-errors"),
			StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("errors on the canary")})
		return err
	}}
	clk := deploytest.NewAutoClock(time.Time{})
	eng := deploy.New(lambda.New(m.lc, lambda.Options{Clock: clk}), deploy.Options{Clock: clk})
	var seen []string
	var mu sync.Mutex
	req := deploy.Request{Target: lambda.Target("app", "live"), Strategy: mustStrategy(t, "canary:10:5m"),
		Options: &lambda.DeployOptions{Zip: zipOf(t, "raise Exception()")},
		Gates:   []deploy.Gate{m.weightRecorder(t, &seen, &mu), fire, gate}, RollbackOn: deploy.OnAlarm}
	d, err := eng.Deploy(ctx, req)
	if !errors.Is(err, deploy.ErrAlarm) || !errors.Is(err, deploy.ErrRolledBack) {
		t.Fatalf("err = %v, want ErrAlarm and ErrRolledBack", err)
	}
	if d.Status != deploy.StatusRolledBack {
		t.Fatalf("status %s", d.Status)
	}
	if want := []string{"1 map[2:0.1]"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("alias mid-canary = %q, want %q", seen, want)
	}
	if v, w := m.alias(t); v != "1" || w != nil {
		t.Fatalf("after the alarm GetAlias = %s %v, want version 1 and no weights", v, w)
	}
}

func TestMotoDryRunChangesNothing(t *testing.T) {
	m := newMotoEnv(t)
	ctx := context.Background()
	versions := func() int {
		out, err := m.lc.ListVersionsByFunction(ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("app")})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Versions)
	}
	latestSha := func() string {
		out, err := m.lc.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("app")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.CodeSha256)
	}
	nv, sha := versions(), latestSha()
	eng := deploy.New(lambda.New(m.lc, lambda.Options{}), deploy.Options{})
	p, err := eng.Plan(ctx, deploy.Request{Target: lambda.Target("app", "live"), Strategy: mustStrategy(t, "linear:10:1m"),
		Options: &lambda.DeployOptions{Zip: zipOf(t, "return 3"), Config: &lambda.FunctionConfig{MemorySize: aws.Int32(256)}}})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if p.From == nil || p.From.ID != "1" || len(p.Changes) < 3 {
		t.Fatalf("plan:\n%s", p)
	}
	if v, w := m.alias(t); v != "1" || w != nil {
		t.Fatalf("alias = %s %v", v, w)
	}
	if versions() != nv || latestSha() != sha {
		t.Fatal("the dry run published or updated code")
	}
	out, _ := m.lc.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("app")})
	if aws.ToInt32(out.MemorySize) == 256 {
		t.Fatal("the dry run changed the configuration")
	}
}

// Preconditions over the wire: a missing version is ErrNotFound with the
// SDK's error reachable, and a weighted alias is refused.
func TestMotoPreconditions(t *testing.T) {
	m := newMotoEnv(t)
	ctx := context.Background()
	drv := lambda.New(m.lc, lambda.Options{})
	_, err := drv.Prepare(ctx, deploy.Request{Target: lambda.Target("app", "live"), Revision: deploy.Revision{ID: "9"}})
	var nf *types.ResourceNotFoundException
	if !errors.Is(err, deploy.ErrNotFound) || !errors.As(err, &nf) {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := m.lc.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("app"), ZipFile: zipOf(t, "return 4"), Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.lc.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.5}}}); err != nil {
		t.Fatal(err)
	}
	_, err = drv.Prepare(ctx, deploy.Request{Target: lambda.Target("app", "live"), Revision: deploy.Revision{ID: "2"}})
	var we *lambda.WeightedAliasError
	if !errors.As(err, &we) || !errors.Is(err, deploy.ErrLocked) {
		t.Fatalf("weighted alias: %v", err)
	}
}

// Over the wire, a stop without rollback leaves the alias weighted and
// locked, and Engine.Rollback of the stopped deployment repairs it.
func TestMotoStopWithoutRollbackThenRepair(t *testing.T) {
	m := newMotoEnv(t)
	ctx := context.Background()
	if _, err := m.lc.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("app"), ZipFile: zipOf(t, "return 5"), Publish: true}); err != nil {
		t.Fatal(err)
	}
	drv := lambda.New(m.lc, lambda.Options{})
	eng := deploy.New(drv, deploy.Options{})
	tgt := lambda.Target("app", "live")
	p, err := eng.Plan(ctx, deploy.Request{Target: tgt, Revision: deploy.Revision{ID: "2"}, Strategy: mustStrategy(t, "canary:10:5m")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := drv.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := drv.Shift(ctx, d, 10); err != nil {
		t.Fatal(err)
	}
	if out, err := drv.Stop(ctx, d, deploy.StopOptions{}); err != nil || out != deploy.StopSucceeded {
		t.Fatalf("Stop = %q, %v", out, err)
	}
	if v, w := m.alias(t); v != "1" || w["2"] != 0.1 {
		t.Fatalf("alias after the stop = %s %v, want 1 with 2 at 0.1", v, w)
	}
	if st, err := drv.Status(ctx, d); err != nil || st.Status != deploy.StatusStopped || st.Percent != 10 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if _, err := eng.Plan(ctx, deploy.Request{Target: tgt, Revision: deploy.Revision{ID: "2"}}); !errors.Is(err, deploy.ErrLocked) {
		t.Fatalf("Plan on the weighted alias: %v, want ErrLocked", err)
	}
	rb, err := eng.Rollback(ctx, deploy.RollbackRequest{Target: tgt, Of: d.ID})
	if err != nil || rb.To.ID != "1" {
		t.Fatalf("Rollback = %+v, %v", rb, err)
	}
	if v, w := m.alias(t); v != "1" || w != nil {
		t.Fatalf("alias after the repair = %s %v, want 1 alone", v, w)
	}
}
