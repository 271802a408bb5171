package lambda

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Lambda's documented quotas on deployment packages
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
const (
	// MaxZipSize is the largest zip Lambda takes in a direct upload
	// (UpdateFunctionCode ZipFile): 50 MB. Larger packages go through S3.
	MaxZipSize = 50 * 1024 * 1024
	// MaxUnzippedSize is the largest a package may be once unzipped
	// (layers included, which this check cannot see): 250 MB.
	MaxUnzippedSize = 250 * 1024 * 1024
)

var (
	qualifiedARNRE = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]{1,64}:(\$LATEST|[a-zA-Z0-9-_]{1,128})$`)
	partialARNRE   = regexp.MustCompile(`^\d{12}:function:[a-zA-Z0-9-_]{1,64}$`)
)

// checkZipFile refuses, without reading it, a file larger than MaxZipSize.
func checkZipFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return deploy.Invalid("zip", path, err.Error())
	}
	if fi.IsDir() {
		return deploy.Invalid("zip", path, "is a directory; package it with a source directory (--src) instead")
	}
	if fi.Size() > MaxZipSize {
		return deploy.Invalid("zip", path, fmt.Sprintf("%d bytes is more than Lambda's 50 MB limit for a direct upload; upload it to S3 and deploy from there", fi.Size()))
	}
	return nil
}

// checkZip refuses a package that is not a zip archive, is larger than
// Lambda takes in a direct upload, or unzips to more than MaxUnzippedSize.
func checkZip(label string, b []byte) error {
	if len(b) > MaxZipSize {
		return deploy.Invalid("zip", label, fmt.Sprintf("%d bytes is more than Lambda's 50 MB limit for a direct upload; upload it to S3 and deploy from there", len(b)))
	}
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return deploy.Invalid("zip", label, "not a zip archive: "+err.Error())
	}
	var total uint64
	for _, f := range r.File {
		total += f.UncompressedSize64
		if total > MaxUnzippedSize {
			return deploy.Invalid("zip", label, "unzips to more than Lambda's 250 MB limit")
		}
	}
	return nil
}

// checkFunctionName refuses a function name or ARN that breaks Lambda's
// naming rules (letters, digits, hyphens and underscores, 1 to 64; or a
// function ARN, optionally with a version or alias qualifier).
func checkFunctionName(field, name string) error {
	if !utf8.ValidString(name) {
		return deploy.Invalid(field, name, "not valid UTF-8")
	}
	if functionNameRE.MatchString(name) || qualifiedARNRE.MatchString(name) || partialARNRE.MatchString(name) {
		return nil
	}
	return deploy.Invalid(field, name, "not a Lambda function name (letters, digits, hyphens and underscores, at most 64) or function ARN")
}

// checkAliasName refuses an alias name that breaks Lambda's rules
// (letters, digits, hyphens and underscores, 1 to 128, not only digits).
func checkAliasName(field, name string) error {
	if !aliasRE.MatchString(name) {
		return deploy.Invalid(field, name, "not a Lambda alias name (letters, digits, hyphens and underscores, at most 128)")
	}
	return nil
}

// checkStrategyPlatform refuses a CodeDeploy predefined configuration of
// another compute platform (an ECS or EC2/on-premises one).
func checkStrategyPlatform(s deploy.Strategy) error {
	short, ok := strings.CutPrefix(s.Name, deploy.CodeDeployPrefix)
	if !ok {
		return nil
	}
	if i := strings.IndexAny(short, ";"); i >= 0 {
		short = short[:i]
	}
	switch {
	case strings.HasPrefix(short, "Lambda"):
		return nil
	case strings.HasPrefix(short, "ECS"):
		return deploy.Invalid("strategy", s.Name, "an ECS CodeDeploy configuration; a Lambda deployment takes a CodeDeployDefault.Lambda* one")
	case short == "OneAtATime", short == "HalfAtATime", short == "AllAtOnce":
		return deploy.Invalid("strategy", s.Name, "an EC2/on-premises CodeDeploy configuration; a Lambda deployment takes a CodeDeployDefault.Lambda* one")
	}
	return nil
}

// checkGates finds, with read calls only, a hook function or a CloudWatch
// alarm that does not exist, so a misspelt name is refused by the plan
// rather than after a version is published.
func checkGates(ctx context.Context, c Client, gates []deploy.Gate) error {
	for _, g := range gates {
		switch g := g.(type) {
		case *Hook:
			fn := g.FunctionName()
			if fn == "" {
				continue
			}
			if err := checkFunctionName("hook "+g.Name(), fn); err != nil {
				return err
			}
			// No qualifier: the name may be a qualified ARN.
			_, err := c.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
			if err != nil {
				err = platform.Wrap(Platform, "GetFunctionConfiguration", Platform+":"+fn, err)
				if errors.Is(err, deploy.ErrNotFound) {
					return deploy.Invalid("hook "+string(g.Phase()), fn, "no such Lambda function")
				}
				return err
			}
		case *platform.AlarmGate:
			if _, err := g.Alarms(ctx); err != nil {
				// Only the gate's own finding (DescribeAlarms answered and
				// the alarm is not there) is bad input; a failed call is
				// not.
				var re *smithyhttp.ResponseError
				if errors.Is(err, deploy.ErrNotFound) && !errors.As(err, &re) {
					return deploy.Invalid("alarm", "", err.Error())
				}
				return err
			}
		}
	}
	return nil
}
