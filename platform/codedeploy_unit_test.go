package platform

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
)

func TestMapCodeDeployStatus(t *testing.T) {
	tests := []struct {
		in   cdtypes.DeploymentStatus
		want deploy.Status
	}{
		{cdtypes.DeploymentStatusCreated, deploy.StatusCreated},
		{cdtypes.DeploymentStatusQueued, deploy.StatusQueued},
		{cdtypes.DeploymentStatusInProgress, deploy.StatusInProgress},
		{cdtypes.DeploymentStatusBaking, deploy.StatusBaking},
		{cdtypes.DeploymentStatusReady, deploy.StatusReady},
		{cdtypes.DeploymentStatusSucceeded, deploy.StatusSucceeded},
		{cdtypes.DeploymentStatusFailed, deploy.StatusFailed},
		{cdtypes.DeploymentStatusStopped, deploy.StatusStopped},
		{"SomethingNew", deploy.StatusInProgress},
	}
	for _, tt := range tests {
		if got := MapCodeDeployStatus(tt.in); got != tt.want {
			t.Errorf("MapCodeDeployStatus(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRevisionFromLocation(t *testing.T) {
	tests := []struct {
		name           string
		loc            *cdtypes.RevisionLocation
		id, label, src string
		attrs          map[string]string
	}{
		{name: "nil"},
		{name: "s3 versioned", loc: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3,
			S3Location: &cdtypes.S3Location{Bucket: aws.String("b"), Key: aws.String("apps/web.zip"),
				BundleType: cdtypes.BundleTypeZip, Version: aws.String("v3"), ETag: aws.String("abc")}},
			id: "s3://b/apps/web.zip?versionId=v3#etag=abc", label: "web.zip@v3", src: "s3://b/apps/web.zip",
			attrs: map[string]string{"bucket": "b", "key": "apps/web.zip", "bundleType": "zip", "version": "v3", "eTag": "abc"}},
		{name: "s3 plain", loc: &cdtypes.RevisionLocation{S3Location: &cdtypes.S3Location{Bucket: aws.String("b"), Key: aws.String("k.tgz")}},
			id: "s3://b/k.tgz", label: "k.tgz", src: "s3://b/k.tgz", attrs: map[string]string{"bucket": "b", "key": "k.tgz"}},
		{name: "github", loc: &cdtypes.RevisionLocation{GitHubLocation: &cdtypes.GitHubLocation{
			Repository: aws.String("acme/web"), CommitId: aws.String("0123456789abcdef")}},
			id: "github:acme/web@0123456789abcdef", label: "0123456", src: "github:acme/web@0123456789abcdef",
			attrs: map[string]string{"repository": "acme/web", "commitId": "0123456789abcdef"}},
		{name: "appspec with sha", loc: &cdtypes.RevisionLocation{AppSpecContent: &cdtypes.AppSpecContent{
			Content: aws.String("version: 0.0"), Sha256: aws.String("ffffffffffffffffffff")}},
			id: "appspec:ffffffffffffffffffff", label: "appspec:ffffffffffff", src: "appspec",
			attrs: map[string]string{"content": "version: 0.0"}},
		{name: "appspec hashed", loc: &cdtypes.RevisionLocation{AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String("x")}},
			// sha256("x")
			id: "appspec:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", label: "appspec:2d711642b726",
			src: "appspec", attrs: map[string]string{"content": "x"}},
		{name: "raw string", loc: &cdtypes.RevisionLocation{String_: &cdtypes.RawString{Content: aws.String("x")}},
			id: "appspec:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", label: "appspec:2d711642b726",
			src: "appspec", attrs: map[string]string{"content": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RevisionFromLocation(tt.loc)
			if r.ID != tt.id || r.Label != tt.label || r.Source != tt.src {
				t.Fatalf("got %+v, want id %q label %q source %q", r, tt.id, tt.label, tt.src)
			}
			if len(r.Attrs) != len(tt.attrs) {
				t.Fatalf("attrs %v, want %v", r.Attrs, tt.attrs)
			}
			for k, v := range tt.attrs {
				if r.Attrs[k] != v {
					t.Fatalf("attrs %v, want %v", r.Attrs, tt.attrs)
				}
			}
		})
	}
}
