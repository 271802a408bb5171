package platform_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/platform"
)

// The client deployctl and the gates use reads moto's alarms although moto
// does not speak CloudWatch's default protocol (rpc-v2-cbor): the first
// call learns that and every call goes in awsQuery.
func TestCloudWatchClientAgainstMoto(t *testing.T) {
	srv := motoserver.Start(t)
	ctx := context.Background()
	if _, err := srv.CloudWatch().PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("web-5xx"), Namespace: aws.String("AWS/ECS"), MetricName: aws.String("5xx"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := cloudwatch.NewFromConfig(srv.Config()).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err == nil {
		t.Log("moto now speaks rpc-v2-cbor; the fallback is not exercised here")
	}
	cw := platform.NewCloudWatchClient(srv.Config())
	for range 2 {
		out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"web-5xx"}})
		if err != nil || len(out.MetricAlarms) != 1 || aws.ToString(out.MetricAlarms[0].AlarmName) != "web-5xx" {
			t.Fatalf("DescribeAlarms = %+v, %v", out, err)
		}
	}
	g, err := platform.NewAlarmGate(cw, platform.AlarmGateOptions{Names: []string{"web-5xx", "web-missing"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Alarms(ctx); err == nil {
		t.Fatal("a missing alarm went unnoticed")
	}
}

// An endpoint that speaks only awsQuery (as one written from the oldest
// CloudWatch reference might): the client falls through rpc-v2-cbor and
// awsJson 1.0 to it, and stays there.
func TestCloudWatchClientFallsBackToQuery(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Header.Get("Content-Type"))
		if !strings.Contains(string(body), "Action=DescribeAlarms") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms><member><AlarmName>web-5xx</AlarmName><StateValue>OK</StateValue></member></MetricAlarms></DescribeAlarmsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeAlarmsResponse>`)
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1}
	cw := platform.NewCloudWatchClient(cfg)
	for i := range 2 {
		out, err := cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"web-5xx"}})
		if err != nil || len(out.MetricAlarms) != 1 || out.MetricAlarms[0].StateValue != cwtypes.StateValueOk {
			t.Fatalf("call %d: DescribeAlarms = %+v, %v", i, out, err)
		}
	}
	if len(seen) != 4 || !strings.HasPrefix(seen[2], "application/x-www-form-urlencoded") || seen[3] != seen[2] {
		t.Fatalf("requests %q: want cbor, json, then query twice", seen)
	}
}
