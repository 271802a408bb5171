package lambda

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
)

func TestZipLimits(t *testing.T) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	// A header that claims more than Lambda unzips (nothing is stored).
	if _, err := w.CreateRaw(&zip.FileHeader{Name: "bomb", Method: zip.Store, UncompressedSize64: MaxUnzippedSize + 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := checkZip("bomb.zip", buf.Bytes()); !errors.Is(err, deploy.ErrInvalidRequest) || !strings.Contains(err.Error(), "250 MB") {
		t.Errorf("zip bomb: %v", err)
	}
	for name, b := range map[string][]byte{"text": []byte("hello"), "gzip": {0x1f, 0x8b, 8, 0}, "truncated": buf.Bytes()[:10]} {
		if err := checkZip(name, b); !errors.Is(err, deploy.ErrInvalidRequest) || !strings.Contains(err.Error(), "not a zip") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := checkZip("big", make([]byte, MaxZipSize+1)); err == nil || !strings.Contains(err.Error(), "50 MB") {
		t.Errorf("over 50 MB: %v", err)
	}
}

func TestNameRules(t *testing.T) {
	for _, fn := range []string{"app", "my-App_2", "arn:aws:lambda:us-east-1:123456789012:function:app",
		"arn:aws:lambda:us-east-1:123456789012:function:app:live", "123456789012:function:app", strings.Repeat("a", 64)} {
		if err := checkFunctionName("f", fn); err != nil {
			t.Errorf("%s: %v", fn, err)
		}
	}
	for _, fn := range []string{"", "a b", "app!", strings.Repeat("a", 65), "arn:aws:lambda:us-east-1:123:function:app", "app\xff"} {
		if err := checkFunctionName("f", fn); err == nil {
			t.Errorf("%q accepted", fn)
		}
	}
	for _, a := range []string{"bad alias!", "", strings.Repeat("a", 129), "a/b"} {
		if err := checkAliasName("a", a); err == nil {
			t.Errorf("alias %q accepted", a)
		}
	}
	for s, ok := range map[string]bool{"CodeDeployDefault.LambdaLinear10PercentEvery1Minute": true, "canary:10:5m": true,
		"CodeDeployDefault.ECSAllAtOnce": false, "CodeDeployDefault.HalfAtATime": false} {
		if err := checkStrategyPlatform(deploy.Strategy{Name: s}); (err == nil) != ok {
			t.Errorf("%s: %v", s, err)
		}
	}
}
