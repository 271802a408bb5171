package ec2_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ec2/ec2fake"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// TestBadInputRefusedBeforeAnyCall: every malformed request is a
// *deploy.ValidationError (wrapping deploy.ErrInvalidRequest) naming the
// field, and neither CodeDeploy nor EC2 sees a single call.
func TestBadInputRefusedBeforeAnyCall(t *testing.T) {
	tagSet := []ec2.TagFilter{{Key: "Env", Value: "prod"}}
	cases := []struct {
		name  string
		field string
		req   func(e *env) deploy.Request
	}{
		{"malformed S3 URL", "s3", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Revision: deploy.Revision{Source: "s3://bucket-only"}}
		}},
		{"S3 URL with an unknown parameter", "s3", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "s3://b/app.zip?version=3"}}
		}},
		{"unknown bundle type", "bundleType", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "b", Key: "app.rar", BundleType: "rar"}}}
		}},
		{"key without a bundle type", "bundleType", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "b", Key: "app"}}}
		}},
		{"empty commit", "github.commitId", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: &ec2.DeployOptions{GitHub: &ec2.GitHubRevision{Repository: "acme/web"}}}
		}},
		{"short commit", "github.commitId", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Revision: deploy.Revision{Source: "github:acme/web@abc123"}}
		}},
		{"repository without owner", "github.repository", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: &ec2.DeployOptions{GitHub: &ec2.GitHubRevision{Repository: "web", CommitID: commit}}}
		}},
		{"tar bundle for a Windows group", "bundleType", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: &ec2.DeployOptions{Windows: true,
				S3: &ec2.S3Revision{Bucket: "b", Key: "app.tar"}}}
		}},
		{"tgz bundle for a Windows group", "bundleType", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: &ec2.DeployOptions{Windows: true,
				S3: &ec2.S3Revision{Bucket: "b", Key: "app.bin", BundleType: ec2.BundleTgz}}}
		}},
		{"more than three tag sets", "createGroup.ec2TagSets", func(e *env) deploy.Request {
			o := e.nextS3()
			o.CreateGroup = &ec2.GroupSpec{ServiceRoleARN: "arn:aws:iam::123456789012:role/cd",
				EC2TagSets: [][]ec2.TagFilter{tagSet, tagSet, tagSet, tagSet}}
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"more than three on-premises tag sets", "createGroup.onPremisesTagSets", func(e *env) deploy.Request {
			o := e.nextS3()
			o.CreateGroup = &ec2.GroupSpec{ServiceRoleARN: "arn:aws:iam::123456789012:role/cd",
				OnPremisesTagSets: [][]ec2.TagFilter{tagSet, tagSet, tagSet, tagSet}}
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"unknown tag filter type", "createGroup.tagFilter", func(e *env) deploy.Request {
			o := e.nextS3()
			o.CreateGroup = &ec2.GroupSpec{ServiceRoleARN: "arn:aws:iam::123456789012:role/cd",
				EC2TagSets: [][]ec2.TagFilter{{{Key: "Env", Type: "KEY_OR_VALUE"}}}}
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"KEY_ONLY filter without a key", "createGroup.tagFilter", func(e *env) deploy.Request {
			o := e.nextS3()
			o.CreateGroup = &ec2.GroupSpec{ServiceRoleARN: "arn:aws:iam::123456789012:role/cd",
				EC2TagSets: [][]ec2.TagFilter{{{Value: "prod", Type: ec2.KeyOnly}}}}
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"unknown predefined config", "codeDeployConfig", func(e *env) deploy.Request {
			o := e.nextS3()
			o.CodeDeployConfig = "CodeDeployDefault.TwoAtATime"
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"Lambda config", "codeDeployConfig", func(e *env) deploy.Request {
			o := e.nextS3()
			o.CodeDeployConfig = "CodeDeployDefault.LambdaAllAtOnce"
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"malformed config name", "codeDeployConfig", func(e *env) deploy.Request {
			o := e.nextS3()
			o.CodeDeployConfig = "half at a time"
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"config disagreeing with the strategy", "codeDeployConfig", func(e *env) deploy.Request {
			o := e.nextS3()
			o.CodeDeployConfig = "CodeDeployDefault.AllAtOnce"
			return deploy.Request{Target: e.tgt, Options: o, Strategy: deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.MostConcurrency, Value: 1})}
		}},
		{"unknown fileExistsBehavior", "fileExistsBehavior", func(e *env) deploy.Request {
			o := e.nextS3()
			o.FileExistsBehavior = "CLOBBER"
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"two revisions", "revision", func(e *env) deploy.Request {
			o := e.nextS3()
			o.GitHub = &ec2.GitHubRevision{Repository: "acme/web", CommitID: commit}
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"no revision", "revision", func(e *env) deploy.Request { return deploy.Request{Target: e.tgt} }},
		{"unknown revision ID", "revision.id", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "ftp://host/app.zip"}}
		}},
		{"canary strategy", "strategy", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: deploy.Canary(10, 5*time.Minute)}
		}},
		{"approval step", "strategy", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: e.nextS3(), Strategy: deploy.Custom(deploy.Approval(), deploy.ShiftTo(100))}
		}},
		{"FLEET_PERCENT 100", "minHealthyHosts.value", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: e.nextS3(),
				Strategy: deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 100})}
		}},
		{"eleven alarms", "alarms", func(e *env) deploy.Request {
			o := e.nextS3()
			o.Alarms = strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")
			return deploy.Request{Target: e.tgt, Options: o}
		}},
		{"target without a group", "target", func(e *env) deploy.Request {
			return deploy.Request{Target: deploy.Target{Name: "app"}, Options: e.nextS3()}
		}},
		{"options of another driver", "options", func(e *env) deploy.Request {
			return deploy.Request{Target: e.tgt, Options: struct{ Zip []byte }{}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 2)
			req := c.req(e)
			before, ec2Before := len(e.cd.Calls()), len(e.ec2.Calls())
			_, err := e.drv.Prepare(context.Background(), req)
			var ve *deploy.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("Prepare: %v, want a *deploy.ValidationError", err)
			}
			if ve.Field != c.field {
				t.Errorf("field = %q, want %q (%v)", ve.Field, c.field, err)
			}
			if n := len(e.cd.Calls()) - before; n != 0 {
				t.Errorf("%d CodeDeploy calls, want none: %v", n, e.cd.Calls()[before:])
			}
			if n := len(e.ec2.Calls()) - ec2Before; n != 0 {
				t.Errorf("%d EC2 calls, want none", n)
			}
		})
	}
}

// TestWindowsInstancesRefuseTar: a group whose instances run Windows
// refuses a tar bundle in Prepare, with reads only.
func TestWindowsInstancesRefuseTar(t *testing.T) {
	e := newEnv(t, 2)
	e.ec2.AddInstance(ec2fake.Instance{ID: "i-001", Tags: map[string]string{"Env": "prod"}, Windows: true})
	mut := e.cd.Mutations()
	_, err := e.drv.Prepare(context.Background(), deploy.Request{Target: e.tgt,
		Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "b", Key: "app.tar.gz"}}})
	var ve *deploy.ValidationError
	if !errors.As(err, &ve) || ve.Field != "bundleType" || !strings.Contains(err.Error(), "i-001") {
		t.Fatalf("Prepare: %v, want a bundleType error naming i-001", err)
	}
	if e.cd.Mutations() != mut {
		t.Errorf("mutating calls made")
	}
	if _, err := e.drv.Prepare(context.Background(), deploy.Request{Target: e.tgt,
		Options: &ec2.DeployOptions{S3: &ec2.S3Revision{Bucket: "b", Key: "app.zip"}}}); err != nil {
		t.Errorf("a zip bundle for Windows: %v", err)
	}
}

func TestParseS3URL(t *testing.T) {
	r, err := ec2.ParseS3URL("s3://bucket/path/app.tgz?versionId=v3&etag=abc", "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Bucket != "bucket" || r.Key != "path/app.tgz" || r.Version != "v3" || r.ETag != "abc" {
		t.Errorf("parsed %+v", r)
	}
	r, err = ec2.ParseS3URL("s3://bucket/app?versionId=v3#etag=e1", "tar")
	if err != nil || r.BundleType != ec2.BundleTar || r.ETag != "e1" {
		t.Errorf("parsed %+v, %v", r, err)
	}
	for _, bad := range []string{"", "bucket/key", "s3://", "s3:///key", "s3://bucket/", "s3://bucket/dir/", "https://bucket/key.zip", "s3://b/k.zip#frag"} {
		if _, err := ec2.ParseS3URL(bad, ""); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("ParseS3URL(%q) = %v, want ErrInvalidRequest", bad, err)
		}
	}
	if _, err := ec2.ParseS3URL("s3://b/k.zip", "7z"); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Errorf("bundle type 7z accepted")
	}
}

func TestParseGitHub(t *testing.T) {
	r, err := ec2.ParseGitHub("acme/web@" + commit)
	if err != nil || r.Repository != "acme/web" || r.CommitID != commit {
		t.Fatalf("parsed %+v, %v", r, err)
	}
	for _, bad := range []string{"acme/web", "acme/web@", "web@" + commit, "@" + commit, "acme/web@xyz"} {
		if _, err := ec2.ParseGitHub(bad); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("ParseGitHub(%q) = %v, want ErrInvalidRequest", bad, err)
		}
	}
}
