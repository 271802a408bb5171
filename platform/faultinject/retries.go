package faultinject

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// SDKRetries gives cfg the SDK's standard retryer (its three attempts, as
// production has them) without the backoff's wall-clock waits, so a test
// sees what the SDK retries, and what it gives up on, at once.
func SDKRetries(cfg *aws.Config) {
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
}
