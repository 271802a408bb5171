package lambda

import (
	"context"

	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Client is the part of the Lambda API the driver uses. *lambda.Client from
// aws-sdk-go-v2 satisfies it; lambdafake.Client is an in-memory stand-in.
//
// The read-only calls are GetFunctionConfiguration and GetAlias; the
// mutating ones are UpdateFunctionCode, UpdateFunctionConfiguration,
// PublishVersion and UpdateAlias. Prepare only ever makes read-only calls.
type Client interface {
	GetFunctionConfiguration(ctx context.Context, in *awslambda.GetFunctionConfigurationInput, optFns ...func(*awslambda.Options)) (*awslambda.GetFunctionConfigurationOutput, error)
	GetAlias(ctx context.Context, in *awslambda.GetAliasInput, optFns ...func(*awslambda.Options)) (*awslambda.GetAliasOutput, error)
	UpdateFunctionCode(ctx context.Context, in *awslambda.UpdateFunctionCodeInput, optFns ...func(*awslambda.Options)) (*awslambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *awslambda.UpdateFunctionConfigurationInput, optFns ...func(*awslambda.Options)) (*awslambda.UpdateFunctionConfigurationOutput, error)
	PublishVersion(ctx context.Context, in *awslambda.PublishVersionInput, optFns ...func(*awslambda.Options)) (*awslambda.PublishVersionOutput, error)
	UpdateAlias(ctx context.Context, in *awslambda.UpdateAliasInput, optFns ...func(*awslambda.Options)) (*awslambda.UpdateAliasOutput, error)
}

// Invoker is the Lambda call a hook function needs. *lambda.Client
// satisfies it.
type Invoker interface {
	Invoke(ctx context.Context, in *awslambda.InvokeInput, optFns ...func(*awslambda.Options)) (*awslambda.InvokeOutput, error)
}

var (
	_ Client  = (*awslambda.Client)(nil)
	_ Invoker = (*awslambda.Client)(nil)
)
