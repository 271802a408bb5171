package platform

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/motoserver"
)

// isolateAWSEnv points the SDK at temporary config files holding a
// "staging" profile and clears every AWS variable that could leak in from
// the machine.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	credFile := filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfgFile, []byte(`[default]
region = us-west-2

[profile staging]
region = eu-west-1
max_attempts = 7
retry_mode = adaptive

[profile noregion]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credFile, []byte(`[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret

[staging]
aws_access_key_id = AKIASTAGING
aws_secret_access_key = staging-secret

[noregion]
aws_access_key_id = AKIANOREGION
aws_secret_access_key = x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
		"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CA_BUNDLE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLoadConfigProfiles(t *testing.T) {
	isolateAWSEnv(t)
	ctx := context.Background()
	tests := []struct {
		name        string
		env         map[string]string
		opts        ConfigOptions
		region      string
		key         string
		endpoint    string
		maxAttempts int
		adaptive    bool
	}{
		{name: "default profile", region: "us-west-2", key: "AKIADEFAULT", maxAttempts: 5},
		{name: "named profile", opts: ConfigOptions{Profile: "staging"}, region: "eu-west-1", key: "AKIASTAGING",
			maxAttempts: 7, adaptive: true},
		{name: "AWS_PROFILE", env: map[string]string{"AWS_PROFILE": "staging"}, region: "eu-west-1", key: "AKIASTAGING",
			maxAttempts: 7, adaptive: true},
		{name: "options beat profile", opts: ConfigOptions{Profile: "staging", Region: "ap-south-1", MaxAttempts: 2,
			RetryMode: aws.RetryModeStandard}, region: "ap-south-1", key: "AKIASTAGING", maxAttempts: 2},
		{name: "AWS_REGION beats profile", env: map[string]string{"AWS_REGION": "ca-central-1"}, region: "ca-central-1",
			key: "AKIADEFAULT", maxAttempts: 5},
		{name: "AWS_MAX_ATTEMPTS", env: map[string]string{"AWS_MAX_ATTEMPTS": "9"}, region: "us-west-2", key: "AKIADEFAULT",
			maxAttempts: 9},
		{name: "endpoint option", opts: ConfigOptions{EndpointURL: "http://127.0.0.1:5000/"}, region: "us-west-2",
			key: "AKIADEFAULT", endpoint: "http://127.0.0.1:5000", maxAttempts: 5},
		{name: "endpoint env", env: map[string]string{"AWS_ENDPOINT_URL": "https://vpce.example.com"}, region: "us-west-2",
			key: "AKIADEFAULT", endpoint: "https://vpce.example.com", maxAttempts: 5},
		{name: "endpoint option beats env", env: map[string]string{"AWS_ENDPOINT_URL": "https://env.example.com"},
			opts: ConfigOptions{EndpointURL: "http://localhost:4566"}, region: "us-west-2", key: "AKIADEFAULT",
			endpoint: "http://localhost:4566", maxAttempts: 5},
		{name: "static credentials", opts: ConfigOptions{Credentials: credentials.NewStaticCredentialsProvider("AKIASTATIC", "s", "")},
			region: "us-west-2", key: "AKIASTATIC", maxAttempts: 5},
		{name: "adaptive option", opts: ConfigOptions{RetryMode: aws.RetryModeAdaptive, MaxAttempts: 3}, region: "us-west-2",
			key: "AKIADEFAULT", maxAttempts: 3, adaptive: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := LoadConfig(ctx, tt.opts)
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if cfg.Region != tt.region {
				t.Fatalf("Region = %q, want %q", cfg.Region, tt.region)
			}
			creds, err := cfg.Credentials.Retrieve(ctx)
			if err != nil {
				t.Fatalf("credentials: %v", err)
			}
			if creds.AccessKeyID != tt.key {
				t.Fatalf("AccessKeyID = %q, want %q", creds.AccessKeyID, tt.key)
			}
			if got := aws.ToString(cfg.BaseEndpoint); got != tt.endpoint {
				t.Fatalf("BaseEndpoint = %q, want %q", got, tt.endpoint)
			}
			r := cfg.Retryer()
			if r.MaxAttempts() != tt.maxAttempts || cfg.RetryMaxAttempts != tt.maxAttempts {
				t.Fatalf("MaxAttempts = %d (config %d), want %d", r.MaxAttempts(), cfg.RetryMaxAttempts, tt.maxAttempts)
			}
			_, isAdaptive := r.(*retry.AdaptiveMode)
			if isAdaptive != tt.adaptive {
				t.Fatalf("retryer %T, adaptive want %v", r, tt.adaptive)
			}
		})
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	isolateAWSEnv(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		env   map[string]string
		opts  ConfigOptions
		field string
	}{
		{name: "endpoint without scheme", opts: ConfigOptions{EndpointURL: "localhost:4566"}, field: "endpointURL"},
		{name: "endpoint bad scheme", opts: ConfigOptions{EndpointURL: "ftp://example.com"}, field: "endpointURL"},
		{name: "endpoint no host", opts: ConfigOptions{EndpointURL: "http://"}, field: "endpointURL"},
		{name: "endpoint unparsable", opts: ConfigOptions{EndpointURL: "http://[::1"}, field: "endpointURL"},
		{name: "endpoint with query", opts: ConfigOptions{EndpointURL: "http://h/?a=b"}, field: "endpointURL"},
		{name: "endpoint with user", opts: ConfigOptions{EndpointURL: "http://u:p@h"}, field: "endpointURL"},
		{name: "endpoint env", env: map[string]string{"AWS_ENDPOINT_URL": "not a url"}, field: EndpointEnv},
		{name: "negative attempts", opts: ConfigOptions{MaxAttempts: -1}, field: "maxAttempts"},
		{name: "negative backoff", opts: ConfigOptions{MaxBackoff: -time.Second}, field: "maxBackoff"},
		{name: "retry mode", opts: ConfigOptions{RetryMode: "legacy"}, field: "retryMode"},
		{name: "region", opts: ConfigOptions{Region: "US East 1"}, field: "region"},
		{name: "no region", opts: ConfigOptions{Profile: "noregion"}, field: "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := LoadConfig(ctx, tt.opts)
			var ve *deploy.ValidationError
			if !errors.Is(err, deploy.ErrInvalidRequest) || !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("LoadConfig = %v, want ErrInvalidRequest on %q", err, tt.field)
			}
		})
	}
	t.Run("missing profile", func(t *testing.T) {
		_, err := LoadConfig(ctx, ConfigOptions{Profile: "nope"})
		if !errors.Is(err, deploy.ErrNotFound) {
			t.Fatalf("LoadConfig = %v, want ErrNotFound", err)
		}
	})
}

func TestNewRetryerBackoff(t *testing.T) {
	for _, mode := range []aws.RetryMode{aws.RetryModeStandard, aws.RetryModeAdaptive} {
		r := NewRetryer(mode, 4, 300*time.Millisecond)()
		if r.MaxAttempts() != 4 {
			t.Fatalf("%s: MaxAttempts = %d", mode, r.MaxAttempts())
		}
		throttled := opErr("ECS", "UpdateService", 400, &smithy.GenericAPIError{Code: "ThrottlingException"})
		if !r.IsErrorRetryable(throttled) {
			t.Fatalf("%s: throttling not retryable", mode)
		}
		for i := 0; i < 200; i++ {
			d, err := r.RetryDelay(20, throttled)
			if err != nil {
				t.Fatal(err)
			}
			if d > 300*time.Millisecond {
				t.Fatalf("%s: RetryDelay = %v, above MaxBackoff", mode, d)
			}
		}
	}
}

type countingHTTP struct {
	n    atomic.Int32
	next aws.HTTPClient
}

func (c *countingHTTP) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.Do(r)
}

// TestLoadConfigMoto sends a real client through a config loaded from the
// environment (AWS_ENDPOINT_URL, a shared profile) to moto_server, with the
// HTTPClient option in the path.
func TestLoadConfigMoto(t *testing.T) {
	s := motoserver.Start(t)
	isolateAWSEnv(t)
	t.Setenv("AWS_ENDPOINT_URL", s.URL)
	t.Setenv("AWS_PROFILE", "staging")
	hc := &countingHTTP{next: http.DefaultClient}
	cfg, err := LoadConfig(context.Background(), ConfigOptions{Region: "us-east-1", MaxAttempts: 1, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	cw := cloudwatch.NewFromConfig(cfg, motoserver.CloudWatchOptions)
	if _, err := cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{}); err != nil {
		t.Fatalf("DescribeAlarms through LoadConfig: %v", err)
	}
	if hc.n.Load() != 1 {
		t.Fatalf("HTTP client saw %d requests, want 1", hc.n.Load())
	}
}
