package bufclient

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config is the aws.Config the wire tests give a real SDK client that
// talks to a loopback fake endpoint at url: static test credentials, one
// attempt per call (a fake's refusals are final), and requests sent through
// Client over rt.
func Config(url, region string, rt http.RoundTripper) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       Client{HTTP: &http.Client{Transport: rt}},
	}
}
