package lambda_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
)

// TestFunctionChangedAfterPlan: every UpdateFunctionCode and
// UpdateFunctionConfiguration carries the RevisionId read before it; when
// someone else changed the function after the plan was made, Lambda
// answers PreconditionFailed and the deployment stops, reports it and
// overwrites nothing.
func TestFunctionChangedAfterPlan(t *testing.T) {
	for _, withConfig := range []bool{false, true} {
		name := "code"
		if withConfig {
			name = "configuration and code"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			req := e.zipRequest(deploy.Canary(10, 0))
			if withConfig {
				mem := int32(512)
				req.Options = &lambda.DeployOptions{Zip: e.zip(), Config: &lambda.FunctionConfig{MemorySize: &mem}}
			}
			p, err := e.eng.Plan(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			// Someone else changes the function between plan and deploy.
			if _, err := e.fake.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{
				FunctionName: aws.String("app"), Description: aws.String("changed by a colleague")}); err != nil {
				t.Fatal(err)
			}
			versions := len(e.fake.Versions("app"))
			before, _ := e.fake.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("app")})
			_, err = e.eng.Execute(ctx, p)
			var pf *types.PreconditionFailedException
			if !errors.Is(err, deploy.ErrLocked) || !errors.As(err, &pf) || !strings.Contains(err.Error(), "changed by someone else") {
				t.Fatalf("deploy after the function changed = %v; want ErrLocked reaching PreconditionFailedException", err)
			}
			if n := len(e.fake.Versions("app")); n != versions {
				t.Errorf("%d versions after the refused deploy; want %d (nothing published)", n, versions)
			}
			if v, w := e.fake.Alias("app", "live"); v != "1" || len(w) != 0 {
				t.Errorf("alias %s %v; want version 1 untouched", v, w)
			}
			cfg, _ := e.fake.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("app")})
			if aws.ToString(cfg.CodeSha256) != aws.ToString(before.CodeSha256) || aws.ToInt32(cfg.MemorySize) != aws.ToInt32(before.MemorySize) {
				t.Errorf("the function changed: %v/%d, was %v/%d", aws.ToString(cfg.CodeSha256), aws.ToInt32(cfg.MemorySize), aws.ToString(before.CodeSha256), aws.ToInt32(before.MemorySize))
			}
			if aws.ToString(cfg.Description) != "changed by a colleague" {
				t.Errorf("the colleague's change was overwritten: description %q", aws.ToString(cfg.Description))
			}
			// A fresh plan sees the change and goes through.
			req.Options = &lambda.DeployOptions{Zip: e.zip()}
			if _, err := e.eng.Deploy(ctx, req); err != nil {
				t.Fatalf("deploy with a fresh plan: %v", err)
			}
		})
	}
}
