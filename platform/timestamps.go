package platform

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	"github.com/switchyard/switchyard/internal/isotime"
)

// NewCodeDeployClient returns the CodeDeploy client the drivers make from
// cfg. CodeDeploy's awsJson 1.1 protocol carries timestamps as epoch
// seconds, and the SDK's decoder refuses anything else; emulators such as
// moto answer GetDeployment, BatchGetDeployments and friends with ISO-8601
// strings instead. The client therefore reads responses through
// WithISOTimestampsAsEpoch, which leaves AWS's own answers unchanged and
// lets the same driver work against an emulator.
func NewCodeDeployClient(cfg aws.Config, optFns ...func(*codedeploy.Options)) *codedeploy.Client {
	next := cfg.HTTPClient
	if next == nil {
		next = &http.Client{}
	}
	cfg.HTTPClient = WithISOTimestampsAsEpoch(next)
	return codedeploy.NewFromConfig(cfg, optFns...)
}

// WithISOTimestampsAsEpoch wraps next so that, in JSON response bodies,
// every string value under a key ending in "Time", "At", "Date" or
// "Timestamp" that parses as RFC 3339 becomes epoch seconds with
// millisecond precision, as the awsJson protocol wants. Other bodies (an
// emulator's HTML 500) pass unchanged. Use it for CodeDeploy clients only:
// services whose timestamps are strings in their API (OpsWorks's CreatedAt)
// would no longer decode.
func WithISOTimestampsAsEpoch(next aws.HTTPClient) aws.HTTPClient { return isotime.Client(next) }

// RewriteISOTimestamps rewrites the timestamps of a JSON document as
// WithISOTimestampsAsEpoch describes. It reports false, and returns body
// unchanged, when body is not a JSON object or array or has nothing to
// rewrite.
func RewriteISOTimestamps(body []byte) ([]byte, bool) { return isotime.Rewrite(body) }
