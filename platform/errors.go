package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
)

// Class is the kind of failure an error reports, independent of the AWS
// service that returned it.
type Class int

const (
	// ClassUnknown: not recognised (also the class of a nil error).
	ClassUnknown Class = iota
	// ClassThrottling: the request was throttled (ThrottlingException,
	// TooManyRequestsException, RequestLimitExceeded, ...). Retry with
	// backoff.
	ClassThrottling
	// ClassNotFound: a resource does not exist (ResourceNotFoundException,
	// ServiceNotFoundException, DeploymentDoesNotExistException, ...).
	ClassNotFound
	// ClassConflict: another operation holds the resource
	// (ResourceConflictException, DeploymentLimitExceededException,
	// ResourceInUseException, ...).
	ClassConflict
	// ClassValidation: the request was malformed (ValidationException,
	// InvalidParameterException, CodeDeploy's Invalid*Exception and
	// *RequiredException, ...).
	ClassValidation
	// ClassAccessDenied: the caller may not do this, or its credentials are
	// bad or expired.
	ClassAccessDenied
	// ClassRetryable: a transient server or network failure (HTTP 5xx,
	// ServiceUnavailable, InternalFailure, connection errors, network
	// timeouts).
	ClassRetryable
	// ClassCanceled: the context was canceled or its deadline passed; the
	// caller gave up, so retrying with the same context is pointless.
	ClassCanceled
)

// String returns the class name in lower case, such as "not-found".
func (c Class) String() string {
	switch c {
	case ClassThrottling:
		return "throttling"
	case ClassNotFound:
		return "not-found"
	case ClassConflict:
		return "conflict"
	case ClassValidation:
		return "validation"
	case ClassAccessDenied:
		return "access-denied"
	case ClassRetryable:
		return "retryable"
	case ClassCanceled:
		return "canceled"
	}
	return "unknown"
}

// Classify returns the class of err. It looks, in order, at context
// cancellation, the deploy sentinels err already wraps, the API error code
// of a smithy.APIError anywhere in the chain, the HTTP status code of the
// response, and the SDK's own throttle and retry rules
// (retry.DefaultRetryables), including connection errors and network
// timeouts. A nil error is ClassUnknown.
func Classify(err error) Class {
	if err == nil {
		return ClassUnknown
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ClassCanceled
	}
	switch {
	case errors.Is(err, deploy.ErrNotFound):
		return ClassNotFound
	case errors.Is(err, deploy.ErrInvalidRequest):
		return ClassValidation
	case errors.Is(err, deploy.ErrLocked):
		return ClassConflict
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if c := classifyCode(api.ErrorCode()); c != ClassUnknown {
			return c
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		switch code := status.HTTPStatusCode(); {
		case code == 429:
			return ClassThrottling
		case code == 403:
			return ClassAccessDenied
		case code == 404:
			return ClassNotFound
		case code == 409:
			return ClassConflict
		case code >= 500 && code <= 599:
			return ClassRetryable
		}
	}
	if api != nil && api.ErrorFault() == smithy.FaultServer {
		return ClassRetryable
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return ClassRetryable
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ClassRetryable
	}
	return ClassUnknown
}

// classifyCode maps an AWS error code to a class; ClassUnknown when the code
// says nothing recognisable.
func classifyCode(code string) Class {
	switch code {
	case "":
		return ClassUnknown
	// Throttling.
	case "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
		"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException", "ThrottlingError":
		return ClassThrottling
	// Not found.
	case "ResourceNotFoundException", "ResourceNotFound", "ResourceNotFoundFault",
		"NotFoundException", "NotFound", "ServiceNotFoundException", "ServiceNotActiveException",
		"ClusterNotFoundException", "TaskSetNotFoundException", "TargetNotFoundException",
		"NoSuchEntity", "NoSuchKey", "NoSuchBucket", "NoSuchVersion":
		return ClassNotFound
	// Conflict.
	case "ResourceConflictException", "DeploymentLimitExceededException", "ResourceInUseException",
		"ConflictException", "ConcurrentModificationException", "UpdateInProgressException",
		"DeploymentAlreadyStartedException", "DeploymentAlreadyCompletedException",
		"DeploymentIsNotInReadyStateException", "PreconditionFailedException",
		"OperationAbortedException":
		return ClassConflict
	// Validation.
	case "ValidationException", "ValidationError", "InvalidParameterException",
		"InvalidParameterValueException", "InvalidParameterValue", "InvalidParameterCombination",
		"InvalidInput", "InvalidRequestException", "MissingParameter", "MissingRequiredParameter",
		"ClientException", "SerializationException", "InvalidArgumentException",
		"UnsupportedActionForDeploymentTypeException", "MultipleIamArnsProvidedException":
		return ClassValidation
	// Access denied and bad credentials.
	case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation",
		"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
		"SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "AuthFailure",
		"MissingAuthenticationToken", "MissingAuthenticationTokenException", "UnauthorizedException",
		"IncompleteSignature", "InvalidAccessKeyId", "OptInRequired", "NotAuthorized",
		"AuthorizationError", "IamRoleRequiredException":
		return ClassAccessDenied
	// Transient server failures.
	case "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure",
		"InternalError", "InternalServerError", "InternalServiceError", "InternalServiceErrorException",
		"InternalException", "InternalServerException", "ServerException", "ServiceException",
		"RequestTimeout", "RequestTimeoutException", "Unavailable", "ResourceNotReadyException",
		"EC2UnexpectedException":
		return ClassRetryable
	}
	switch {
	case strings.HasSuffix(code, "DoesNotExistException"), strings.HasSuffix(code, "NotFoundException"),
		strings.HasSuffix(code, "NotFound"), strings.HasPrefix(code, "NoSuch"):
		// CodeDeploy's ApplicationDoesNotExistException, EC2's
		// InvalidInstanceID.NotFound, ...
		return ClassNotFound
	case strings.HasPrefix(code, "Invalid"), strings.HasSuffix(code, "RequiredException"),
		strings.HasSuffix(code, "ValidationException"):
		// CodeDeploy's InvalidDeploymentIdException,
		// DeploymentIdRequiredException, ...
		return ClassValidation
	}
	return ClassUnknown
}

// IsRetryable reports whether retrying the call that returned err may
// succeed: throttling and transient server or network failures. It is false
// for nil, for canceled contexts and for errors the SDK marks as not
// retryable.
func IsRetryable(err error) bool {
	switch Classify(err) {
	case ClassThrottling, ClassRetryable:
		return true
	}
	return false
}

// sentinel returns the deploy sentinel for a class, or nil.
func sentinel(c Class, err error) error {
	switch c {
	case ClassThrottling:
		return deploy.ErrThrottled
	case ClassNotFound:
		return deploy.ErrNotFound
	case ClassValidation:
		return deploy.ErrInvalidRequest
	case ClassConflict:
		return deploy.ErrLocked
	case ClassCanceled:
		if errors.Is(err, context.DeadlineExceeded) {
			return deploy.ErrTimeout
		}
	}
	return nil
}

// Wrap returns err as a *deploy.Error naming the platform ("ecs",
// "lambda", ...), the operation (an SDK operation name such as
// "UpdateService", or "status") and the target. The Error's Err wraps both
// the deploy sentinel for err's class (ClassThrottling: deploy.ErrThrottled,
// ClassNotFound: deploy.ErrNotFound, ClassValidation:
// deploy.ErrInvalidRequest, ClassConflict: deploy.ErrLocked, a passed
// context deadline: deploy.ErrTimeout) and err itself, so
// errors.Is finds the sentinel and errors.As still reaches the SDK's type
// (for example *ecstypes.ServiceNotFoundException).
//
// Wrap returns nil for a nil err. An err that already is a *deploy.Error is
// returned unchanged, and a sentinel err already wraps is not added twice.
func Wrap(platform, op, target string, err error) error {
	return WrapDeployment(platform, op, target, "", err)
}

// WrapDeployment is Wrap with the deployment ID set on the *deploy.Error.
func WrapDeployment(platform, op, target, deploymentID string, err error) error {
	if err == nil {
		return nil
	}
	var de *deploy.Error
	if errors.As(err, &de) {
		return err
	}
	inner := err
	if s := sentinel(Classify(err), err); s != nil && !errors.Is(err, s) {
		inner = fmt.Errorf("%w: %w", s, err)
	}
	return &deploy.Error{Platform: platform, Op: op, Target: target, DeploymentID: deploymentID, Err: inner}
}

// Uncertain reports whether the mutating call that returned err may have
// been carried out although it failed: the request may have reached AWS,
// and only its answer was lost. That is so for a reply that could not be
// read (a truncated or undecodable body, *smithy.DeserializationError,
// unless its HTTP status says the call was refused), a server failure
// (HTTP 5xx, an error AWS marks as its own fault), and a connection that
// was reset or timed out once the request could have been sent.
//
// It is false for nil; for throttling, not-found, conflict, validation and
// access errors (AWS answered, and refused); for a connection that could
// not be made (nothing was sent); for context errors (the caller gave up,
// and the Driver contract already requires a mutation cut short to leave
// the platform as before or as after it, which only a read can tell); and
// for errors it does not recognise.
//
// A driver that gets an uncertain error from a mutating call reads the
// platform back before it reports an outcome: see the ecs and lambda
// drivers.
func Uncertain(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var status interface{ HTTPStatusCode() int }
	code := 0
	if errors.As(err, &status) {
		code = status.HTTPStatusCode()
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		// The answer could not be read. Its status, when it says the call
		// was refused (4xx), is answer enough.
		return code < 400 || code >= 500
	}
	switch Classify(err) {
	case ClassThrottling, ClassNotFound, ClassConflict, ClassValidation, ClassAccessDenied:
		return false
	}
	if code >= 500 && code <= 599 {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorFault() == smithy.FaultServer || classifyCode(api.ErrorCode()) == ClassRetryable
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false // no connection, so nothing was sent
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return false
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
