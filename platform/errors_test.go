package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/deploy"
)

// opErr wraps err the way the SDK returns it from a client call: an
// *smithy.OperationError around an HTTP response error around the API error.
func opErr(service, op string, status int, err error) error {
	return &smithy.OperationError{
		ServiceID:     service,
		OperationName: op,
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      err,
			},
			RequestID: "req-1",
		},
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestClassify(t *testing.T) {
	msg := func(s string) *string { return &s }
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ClassUnknown},
		{"plain", errors.New("boom"), ClassUnknown},
		{"ecs service not found", opErr("ECS", "UpdateService", 400, &ecstypes.ServiceNotFoundException{Message: msg("gone")}), ClassNotFound},
		{"ecs cluster not found", opErr("ECS", "DescribeServices", 400, &ecstypes.ClusterNotFoundException{}), ClassNotFound},
		{"ecs service not active", opErr("ECS", "UpdateService", 400, &ecstypes.ServiceNotActiveException{}), ClassNotFound},
		{"ecs invalid parameter", opErr("ECS", "UpdateService", 400, &ecstypes.InvalidParameterException{}), ClassValidation},
		{"ecs client exception", opErr("ECS", "UpdateService", 400, &ecstypes.ClientException{}), ClassValidation},
		{"ecs server exception", opErr("ECS", "UpdateService", 500, &ecstypes.ServerException{}), ClassRetryable},
		{"ecs access denied", opErr("ECS", "UpdateService", 400, &ecstypes.AccessDeniedException{}), ClassAccessDenied},
		{"lambda conflict", opErr("Lambda", "PublishVersion", 409, &lambdatypes.ResourceConflictException{}), ClassConflict},
		{"lambda not found", opErr("Lambda", "GetAlias", 404, &lambdatypes.ResourceNotFoundException{}), ClassNotFound},
		{"lambda too many requests", opErr("Lambda", "UpdateAlias", 429, &lambdatypes.TooManyRequestsException{}), ClassThrottling},
		{"lambda invalid parameter value", opErr("Lambda", "UpdateAlias", 400, &lambdatypes.InvalidParameterValueException{}), ClassValidation},
		{"lambda precondition failed", opErr("Lambda", "UpdateAlias", 412, &lambdatypes.PreconditionFailedException{}), ClassConflict},
		{"lambda service exception", opErr("Lambda", "UpdateAlias", 500, &lambdatypes.ServiceException{}), ClassRetryable},
		{"lambda resource not ready", opErr("Lambda", "Invoke", 502, &lambdatypes.ResourceNotReadyException{}), ClassRetryable},
		{"codedeploy deployment does not exist", opErr("CodeDeploy", "GetDeployment", 400, &cdtypes.DeploymentDoesNotExistException{}), ClassNotFound},
		{"codedeploy application does not exist", opErr("CodeDeploy", "CreateDeployment", 400, &cdtypes.ApplicationDoesNotExistException{}), ClassNotFound},
		{"codedeploy group does not exist", opErr("CodeDeploy", "CreateDeployment", 400, &cdtypes.DeploymentGroupDoesNotExistException{}), ClassNotFound},
		{"codedeploy limit exceeded", opErr("CodeDeploy", "CreateDeployment", 400, &cdtypes.DeploymentLimitExceededException{}), ClassConflict},
		{"codedeploy already completed", opErr("CodeDeploy", "StopDeployment", 400, &cdtypes.DeploymentAlreadyCompletedException{}), ClassConflict},
		{"codedeploy invalid deployment id", opErr("CodeDeploy", "GetDeployment", 400, &cdtypes.InvalidDeploymentIdException{}), ClassValidation},
		{"codedeploy id required", opErr("CodeDeploy", "GetDeployment", 400, &cdtypes.DeploymentIdRequiredException{}), ClassValidation},
		{"codedeploy throttling", opErr("CodeDeploy", "GetDeployment", 400, &cdtypes.ThrottlingException{}), ClassThrottling},
		{"ec2 request limit", opErr("EC2", "DescribeInstances", 503, &smithy.GenericAPIError{Code: "RequestLimitExceeded"}), ClassThrottling},
		{"ec2 instance not found", opErr("EC2", "DescribeInstances", 400, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"}), ClassNotFound},
		{"resource in use", &smithy.GenericAPIError{Code: "ResourceInUseException"}, ClassConflict},
		{"validation", &smithy.GenericAPIError{Code: "ValidationException"}, ClassValidation},
		{"expired token", &smithy.GenericAPIError{Code: "ExpiredTokenException"}, ClassAccessDenied},
		{"unknown code, 503", opErr("X", "Op", 503, &smithy.GenericAPIError{Code: "Weird"}), ClassRetryable},
		{"unknown code, 429", opErr("X", "Op", 429, &smithy.GenericAPIError{Code: "Weird"}), ClassThrottling},
		{"unknown code, 404", opErr("X", "Op", 404, &smithy.GenericAPIError{Code: "Weird"}), ClassNotFound},
		{"unknown code, 400", opErr("X", "Op", 400, &smithy.GenericAPIError{Code: "Weird"}), ClassUnknown},
		{"unknown code, server fault", &smithy.GenericAPIError{Code: "Weird", Fault: smithy.FaultServer}, ClassRetryable},
		{"html 500 without code", opErr("X", "Op", 500, errors.New("unexpected EOF")), ClassRetryable},
		{"network timeout", &smithy.OperationError{ServiceID: "ECS", OperationName: "X", Err: timeoutErr{}}, ClassRetryable},
		{"connection refused", fmt.Errorf("send: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), ClassRetryable},
		{"context canceled", fmt.Errorf("op: %w", context.Canceled), ClassCanceled},
		{"deadline", &smithy.OperationError{Err: context.DeadlineExceeded}, ClassCanceled},
		{"deploy not found", fmt.Errorf("x: %w", deploy.ErrNotFound), ClassNotFound},
		{"deploy invalid", deploy.Invalid("f", "v", "bad"), ClassValidation},
		{"deploy locked", deploy.ErrLocked, ClassConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Fatalf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
			want := tt.want == ClassThrottling || tt.want == ClassRetryable
			if got := IsRetryable(tt.err); got != want {
				t.Fatalf("IsRetryable(%v) = %v, want %v", tt.err, got, want)
			}
		})
	}
}

func TestClassString(t *testing.T) {
	seen := map[string]bool{}
	for c := ClassUnknown; c <= ClassCanceled; c++ {
		s := c.String()
		if s == "" || seen[s] {
			t.Fatalf("Class(%d).String() = %q, empty or repeated", c, s)
		}
		seen[s] = true
	}
	if Class(99).String() != "unknown" {
		t.Fatalf("out-of-range class: %q", Class(99).String())
	}
}

func TestWrap(t *testing.T) {
	svcNotFound := opErr("ECS", "UpdateService", 400, &ecstypes.ServiceNotFoundException{})
	conflict := opErr("Lambda", "PublishVersion", 409, &lambdatypes.ResourceConflictException{})
	limit := opErr("CodeDeploy", "CreateDeployment", 400, &cdtypes.DeploymentLimitExceededException{})
	invalid := opErr("ECS", "UpdateService", 400, &ecstypes.InvalidParameterException{})
	throttled := opErr("ECS", "UpdateService", 400, &ecstypes.LimitExceededException{})
	tests := []struct {
		name     string
		err      error
		sentinel error // nil: none of the sentinels below
		as       func(error) bool
	}{
		{"service not found", svcNotFound, deploy.ErrNotFound, func(err error) bool {
			var e *ecstypes.ServiceNotFoundException
			return errors.As(err, &e)
		}},
		{"resource conflict", conflict, deploy.ErrLocked, func(err error) bool {
			var e *lambdatypes.ResourceConflictException
			return errors.As(err, &e)
		}},
		{"deployment limit", limit, deploy.ErrLocked, func(err error) bool {
			var e *cdtypes.DeploymentLimitExceededException
			return errors.As(err, &e)
		}},
		{"invalid parameter", invalid, deploy.ErrInvalidRequest, func(err error) bool {
			var e *ecstypes.InvalidParameterException
			return errors.As(err, &e)
		}},
		{"throttled", throttled, deploy.ErrThrottled, func(err error) bool {
			var e *ecstypes.LimitExceededException
			return errors.As(err, &e)
		}},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), deploy.ErrTimeout, func(err error) bool {
			return errors.Is(err, context.DeadlineExceeded)
		}},
	}
	all := []error{deploy.ErrNotFound, deploy.ErrLocked, deploy.ErrInvalidRequest, deploy.ErrTimeout, deploy.ErrThrottled}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WrapDeployment("ecs", "UpdateService", "c/web", "d-1", tt.err)
			var de *deploy.Error
			if !errors.As(err, &de) {
				t.Fatalf("Wrap = %T, want *deploy.Error", err)
			}
			if de.Platform != "ecs" || de.Op != "UpdateService" || de.Target != "c/web" || de.DeploymentID != "d-1" {
				t.Fatalf("Wrap fields = %+v", de)
			}
			for _, s := range all {
				if got, want := errors.Is(err, s), s == tt.sentinel; got != want {
					t.Fatalf("errors.Is(%v, %v) = %v, want %v", err, s, got, want)
				}
			}
			if !tt.as(err) {
				t.Fatalf("errors.As cannot reach the SDK error through %v", err)
			}
			if !strings.Contains(err.Error(), tt.err.Error()) {
				t.Fatalf("message %q lost the cause %q", err, tt.err)
			}
		})
	}
	if Wrap("ecs", "x", "t", nil) != nil {
		t.Fatal("Wrap(nil) != nil")
	}
	once := Wrap("ecs", "UpdateService", "c/web", svcNotFound)
	if twice := Wrap("ecs", "status", "c/web", once); twice != once {
		t.Fatalf("Wrap re-wrapped a *deploy.Error: %v", twice)
	}
	already := fmt.Errorf("lookup: %w", deploy.ErrNotFound)
	if got := Wrap("ecs", "x", "", already).Error(); strings.Count(got, "not found") != 1 {
		t.Fatalf("sentinel added twice: %q", got)
	}
}
