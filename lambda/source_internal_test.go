package lambda

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
)

// Code sources: an S3 URL takes versionId and nothing else, and a refusal
// never shows a query value (a presigned or console URL carries
// credentials there), nor the user information of a URL.
func TestParseSourceRefusesAndRedacts(t *testing.T) {
	for _, src := range []string{
		"s3://bucket/app.zip?X-Amz-Security-Token=S3CR3T-T0K3N",
		"s3://bucket/app.zip?versionId=1&X-Amz-Signature=S3CR3T-T0K3N",
		"s3://bucket/app.zip#token=S3CR3T-T0K3N",
		"https://bucket.s3.amazonaws.com/app.zip?X-Amz-Signature=S3CR3T-T0K3N",
		"https://user:S3CR3T-T0K3N@example.com/app.zip",
		"s3://user:S3CR3T-T0K3N@/app.zip",
	} {
		_, err := parseSource(src)
		var ve *deploy.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("parseSource(%q) = %v, want a *deploy.ValidationError", src, err)
			continue
		}
		if strings.Contains(err.Error(), "S3CR3T") {
			t.Errorf("parseSource(%q) refusal shows the secret: %v", src, err)
		}
	}
	s, err := parseSource("s3://bucket/app.zip?versionId=7")
	if err != nil || s.kind != sourceS3 || s.bucket != "bucket" || s.key != "app.zip" || s.objVer != "7" {
		t.Fatalf("parseSource of a versioned S3 object = %+v, %v", s, err)
	}
}
