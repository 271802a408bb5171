package platform

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchyard/switchyard/deploy"
)

// Defaults of ConfigOptions.
const (
	// DefaultMaxAttempts is the default number of attempts per AWS call,
	// the first one included.
	DefaultMaxAttempts = 5
	// DefaultMaxBackoff is the default upper bound of the delay between two
	// attempts.
	DefaultMaxBackoff = 20 * time.Second
)

// EndpointEnv is the environment variable LoadConfig reads an endpoint
// override from when ConfigOptions.EndpointURL is empty.
const EndpointEnv = "AWS_ENDPOINT_URL"

// ConfigOptions says how to load an aws.Config. The zero value loads the
// default chain (environment, shared config and credentials files, IMDS)
// with the documented retry defaults.
type ConfigOptions struct {
	// Region overrides the region; default AWS_REGION, AWS_DEFAULT_REGION or
	// the profile's region. Loading fails when no region is found.
	Region string
	// Profile selects a shared config profile; default AWS_PROFILE, else
	// "default". A profile that does not exist gives an error wrapping
	// deploy.ErrNotFound.
	Profile string
	// EndpointURL sends every service to one endpoint (an emulator, a VPC
	// endpoint); it becomes aws.Config.BaseEndpoint. Default the
	// AWS_ENDPOINT_URL environment variable, else the services' own
	// endpoints. It must be an absolute http or https URL.
	EndpointURL string
	// MaxAttempts is the number of attempts per call, the first included.
	// Default AWS_MAX_ATTEMPTS or the profile's max_attempts, else
	// DefaultMaxAttempts (5). 1 disables retries.
	MaxAttempts int
	// MaxBackoff bounds the delay between attempts. Default
	// DefaultMaxBackoff (20s).
	MaxBackoff time.Duration
	// RetryMode is aws.RetryModeStandard or aws.RetryModeAdaptive (which
	// also rate-limits the client after throttling). Default AWS_RETRY_MODE
	// or the profile's retry_mode, else standard.
	RetryMode aws.RetryMode
	// Credentials overrides the credential chain, for example with
	// credentials.NewStaticCredentialsProvider. Default the SDK's chain.
	Credentials aws.CredentialsProvider
	// HTTPClient sends the requests. Default the SDK's client. When
	// AWS_CA_BUNDLE is set the SDK needs a client it can add the bundle to
	// (an *awshttp.BuildableClient); another client then fails loading.
	HTTPClient aws.HTTPClient
}

// LoadConfig loads an aws.Config with config.LoadDefaultConfig and applies
// opts: region, shared profile, endpoint override and a retryer built with
// retry.NewStandard (or retry.NewAdaptiveMode) bounded by MaxAttempts and
// MaxBackoff, retrying what the SDK deems retryable (throttling, 5xx,
// connection errors), except the throttles of calls the deploy engine asks
// again itself (LeaveThrottlesToEngine), which its rate control must see.
//
// Input is validated first: a malformed EndpointURL (or AWS_ENDPOINT_URL), a
// negative MaxAttempts or MaxBackoff, an unknown RetryMode or a malformed
// region gives an error wrapping deploy.ErrInvalidRequest, as does finding no
// region at all. LoadConfig makes no AWS call (credentials are resolved
// lazily, by the first request).
func LoadConfig(ctx context.Context, opts ConfigOptions) (aws.Config, error) {
	endpoint, err := resolveEndpoint(opts.EndpointURL)
	if err != nil {
		return aws.Config{}, err
	}
	if opts.MaxAttempts < 0 {
		return aws.Config{}, deploy.Invalid("maxAttempts", fmt.Sprint(opts.MaxAttempts), "must be 0 (default) or more")
	}
	if opts.MaxBackoff < 0 {
		return aws.Config{}, deploy.Invalid("maxBackoff", opts.MaxBackoff.String(), "must be 0 (default) or more")
	}
	switch opts.RetryMode {
	case "", aws.RetryModeStandard, aws.RetryModeAdaptive:
	default:
		return aws.Config{}, deploy.Invalid("retryMode", string(opts.RetryMode), "want standard or adaptive")
	}
	if opts.Region != "" {
		if err := validRegion("region", opts.Region); err != nil {
			return aws.Config{}, err
		}
	}

	var load []func(*config.LoadOptions) error
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.HTTPClient != nil {
		load = append(load, config.WithHTTPClient(opts.HTTPClient))
	}
	if opts.Credentials != nil {
		load = append(load, config.WithCredentialsProvider(opts.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		var noProfile config.SharedConfigProfileNotExistError
		if errors.As(err, &noProfile) {
			return aws.Config{}, fmt.Errorf("platform: load AWS config: %w: %w", deploy.ErrNotFound, err)
		}
		return aws.Config{}, fmt.Errorf("platform: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, deploy.Invalid("region", "", "no region: set it in the options, AWS_REGION or the profile")
	}
	if err := validRegion("region", cfg.Region); err != nil {
		return aws.Config{}, err
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}

	maxAttempts := opts.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = cfg.RetryMaxAttempts
	}
	if maxAttempts == 0 {
		maxAttempts = DefaultMaxAttempts
	}
	maxBackoff := opts.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = DefaultMaxBackoff
	}
	mode := opts.RetryMode
	if mode == "" {
		mode = cfg.RetryMode
	}
	if mode == "" {
		mode = aws.RetryModeStandard
	}
	cfg.Retryer = NewRetryer(mode, maxAttempts, maxBackoff)
	cfg.APIOptions = append(cfg.APIOptions, LeaveThrottlesToEngine)
	cfg.RetryMaxAttempts = maxAttempts
	cfg.RetryMode = mode
	return cfg, nil
}

// NewRetryer returns an aws.Config.Retryer factory for mode (standard or
// adaptive; anything else means standard) with the given attempt and
// backoff bounds. LoadConfig uses it; it is exported for callers that build
// an aws.Config by hand.
func NewRetryer(mode aws.RetryMode, maxAttempts int, maxBackoff time.Duration) func() aws.Retryer {
	std := func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
	}
	if mode == aws.RetryModeAdaptive {
		return func() aws.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, std)
			})
		}
	}
	return func() aws.Retryer { return retry.NewStandard(std) }
}

// resolveEndpoint returns the endpoint override from the option or the
// environment, validated.
func resolveEndpoint(opt string) (string, error) {
	field, raw := "endpointURL", opt
	if raw == "" {
		field, raw = EndpointEnv, os.Getenv(EndpointEnv)
	}
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", deploy.Invalid(field, raw, err.Error())
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", deploy.Invalid(field, raw, "want an http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", deploy.Invalid(field, raw, "no host")
	}
	if u.User != nil {
		return "", deploy.Invalid(field, raw, "must not carry user information")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", deploy.Invalid(field, raw, "must not have a query or fragment")
	}
	return strings.TrimSuffix(raw, "/"), nil
}

// validRegion accepts names such as us-east-1, eu-central-2, us-gov-west-1,
// cn-north-1 and local test regions: lower-case letters, digits and dashes.
func validRegion(field, r string) error {
	if len(r) > 64 {
		return deploy.Invalid(field, r, "too long")
	}
	for i, c := range r {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(r)-1:
		default:
			return deploy.Invalid(field, r, "want lower-case letters, digits and dashes, such as us-east-1")
		}
	}
	return nil
}
