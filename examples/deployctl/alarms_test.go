package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/switchyard/switchyard/deploy"
)

// cborText appends a CBOR text string (shorter than 24 bytes).
func cborText(b []byte, s string) []byte { return append(append(b, 0x60|byte(len(s))), s...) }

// cloudWatchWith answers DescribeAlarms (rpc-v2-cbor, the client's default
// protocol) with metric alarms of the given names, all OK.
type cloudWatchWith []string

func (names cloudWatchWith) Do(r *http.Request) (*http.Response, error) {
	body := []byte{0xa1}
	body = cborText(body, "MetricAlarms")
	body = append(body, 0x80|byte(len(names)))
	for _, n := range names {
		body = append(body, 0xa2)
		body = cborText(cborText(body, "AlarmName"), n)
		body = cborText(cborText(body, "StateValue"), "OK")
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Request: r,
		Header: http.Header{"Content-Type": {"application/cbor"}, "Smithy-Protocol": {"rpc-v2-cbor"}},
		Body:   io.NopCloser(bytes.NewReader(body))}, nil
}

// --alarm names that CloudWatch does not have are refused (exit 2) before
// any deployment; names it has pass.
func TestCheckAlarms(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1, HTTPClient: cloudWatchWith{"web-errors"}}
	ctx := context.Background()
	if err := checkAlarms(ctx, cfg, []string{"web-errors"}); err != nil {
		t.Fatalf("existing alarm: %v", err)
	}
	err := checkAlarms(ctx, cfg, []string{"web-errors", "web-erorrs"})
	var ve *deploy.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "web-erorrs") || exitCode(err) != 2 {
		t.Fatalf("missing alarm: %v (exit %d), want a validation error naming it", err, exitCode(err))
	}
}
