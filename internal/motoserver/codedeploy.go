package motoserver

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	"github.com/switchyard/switchyard/internal/isotime"
)

// CodeDeployHTTPClient returns an aws.HTTPClient for CodeDeploy clients that
// talk to moto_server: a plain *http.Client read through
// isotime.Client (moto answers with ISO-8601 timestamps
// where the awsJson protocol wants epoch seconds). Besides the timestamps,
// moto keeps CodeDeploy deployments in Created and lacks most operations
// (StopDeployment, ContinueDeployment, ListDeploymentTargets, ...), so
// progression needs the codedeployfake package.
func CodeDeployHTTPClient() aws.HTTPClient {
	return isotime.Client(&http.Client{})
}

// WithISOTimestampsAsEpoch is isotime.Client.
func WithISOTimestampsAsEpoch(next aws.HTTPClient) aws.HTTPClient { return isotime.Client(next) }

// RewriteISOTimestamps is isotime.Rewrite.
func RewriteISOTimestamps(body []byte) ([]byte, bool) { return isotime.Rewrite(body) }

// CodeDeploy returns a CodeDeploy client for the server that uses
// CodeDeployHTTPClient.
func (s *Server) CodeDeploy() *codedeploy.Client {
	cfg := s.Config()
	cfg.HTTPClient = CodeDeployHTTPClient()
	return codedeploy.NewFromConfig(cfg)
}
