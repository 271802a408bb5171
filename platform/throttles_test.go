package platform_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// A client from LoadConfig, against an endpoint that throttles the first
// two attempts of every call: a call the engine asks again itself is tried
// once and its throttle reaches the engine (still a ThrottlingException and
// deploy.ErrThrottled through platform.Wrap); any other call is retried by
// the SDK as before and succeeds on its third attempt.
func TestLoadConfigLeavesEngineThrottlesToTheEngine(t *testing.T) {
	cfg, err := platform.LoadConfig(context.Background(), platform.ConfigOptions{Region: "us-east-1", EndpointURL: "http://127.0.0.1:1",
		MaxBackoff: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = aws.AnonymousCredentials{}
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		attempts int
		ok       bool
	}{
		{"outside the engine", context.Background(), 3, true},
		{"a call the engine retries", deploy.WithEngineRetries(context.Background()), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := faultinject.New(describeServicesOK{}, faultinject.Rule{Service: "ECS", Nth: []int{1, 2}, Fault: faultinject.Fault{Kind: faultinject.Throttle}})
			c := cfg.Copy()
			c.HTTPClient = ft
			_, err := ecs.NewFromConfig(c).DescribeServices(tc.ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
			if got := len(ft.Calls()); got != tc.attempts {
				t.Fatalf("%d attempts, want %d (err %v)", got, tc.attempts, err)
			}
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" ||
					!errors.Is(platform.Wrap("ecs", "DescribeServices", "web", err), deploy.ErrThrottled) {
					t.Fatalf("the throttle the engine gets is not a ThrottlingException wrapping deploy.ErrThrottled: %v", err)
				}
			}
		})
	}
}

// describeServicesOK answers every request with an empty DescribeServices
// reply.
type describeServicesOK struct{}

func (describeServicesOK) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Status: "200 OK", Request: r,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:   io.NopCloser(strings.NewReader(`{"services":[],"failures":[]}`))}, nil
}
