package motoserver

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestCloudWatchOptions proves the protocol override lets the real client
// create an alarm, set its state and read it back from moto_server.
func TestCloudWatchOptions(t *testing.T) {
	s := Start(t)
	c := s.CloudWatch()
	ctx := context.Background()
	if _, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("errors"), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), MetricName: aws.String("Errors"),
		Namespace: aws.String("AWS/Lambda"), Period: aws.Int32(60), Statistic: cwtypes.StatisticSum,
	}); err != nil {
		t.Fatalf("PutMetricAlarm: %v", err)
	}
	if _, err := c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String("errors"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("boom"),
	}); err != nil {
		t.Fatalf("SetAlarmState: %v", err)
	}
	out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"errors"}})
	if err != nil {
		t.Fatalf("DescribeAlarms: %v", err)
	}
	if len(out.MetricAlarms) != 1 || out.MetricAlarms[0].StateValue != cwtypes.StateValueAlarm ||
		aws.ToString(out.MetricAlarms[0].StateReason) != "boom" {
		t.Fatalf("DescribeAlarms = %+v, want errors in ALARM (boom)", out.MetricAlarms)
	}
}
