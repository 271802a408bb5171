// Package ecs is the switchyard driver for Amazon ECS services, after
// ecspresso's deploy, rollback, refresh and scale commands.
//
// New (or NewFromConfig) makes a Driver. A target names a service as
// "cluster/service" (or "service" alone, in the "default" cluster); Target
// builds one. A deploy.Request carries a DeployOptions in its Options:
// refresh is DeployOptions{SkipTaskDefinition, ForceNewDeployment,
// NoUpdateService} and scale DeployOptions{SkipTaskDefinition,
// NoUpdateService, Tasks}. A rollback is deploy.Engine.Rollback (or
// PlanRollback, its dry run) with a *RollbackOptions in
// deploy.RollbackRequest.Options.
//
// Prepare reads the service, the task definitions and the auto-scaling
// target and makes no mutating call, so the engine's Plan is a dry run with
// the full diff. Start makes the mutating calls in order:
// RegisterTaskDefinition (when a task definition document is given),
// RegisterScalableTarget (when suspending or resuming auto scaling),
// CreateService or exactly one UpdateService, then DeregisterTaskDefinition
// for a rollback with RollbackOptions.Deregister. A service has at most one
// live deployment: Prepare and Start refuse another with an error wrapping
// deploy.ErrLocked.
//
// The engine's strategy maps onto ECS's native deploymentConfiguration
// strategies (ROLLING, BLUE_GREEN, CANARY, LINEAR), with bake time, CloudWatch
// alarms and lifecycle hooks, so plans run in deploy.ModePlatform; a
// strategy ECS cannot follow (a minimum-healthy-hosts rule, an approval
// step) is refused with deploy.UnsupportedStrategy. Status follows the
// service-deployments API (ListServiceDeployments,
// DescribeServiceDeployments) and falls back to DescribeServices polling
// where that API is missing (an older partition, an emulator), saying so in
// a note event; there ECS deploys ROLLING only and stops a deployment only
// by rolling it back. A deployment whose PRIMARY deployment is no longer
// ours (the circuit breaker or an alarm rolled it back) is reported as
// deploy.StatusRolledBack, never as a success.
//
// Every method called with a context that is already done returns an error
// wrapping ctx.Err() and makes no call. Every other error is a
// *deploy.Error wrapping the sentinel of its class (deploy.ErrNotFound,
// ErrInvalidRequest, ErrLocked, ...) and, where AWS refused a call, the
// SDK's error (reach it with errors.As).
//
// A mutating call whose answer was lost (platform.Uncertain: a timeout, a
// reset, a reply that does not decode, a 5xx) is read back before Start or
// Stop reports it: after UpdateService (a deployment, a rollback, a stop by
// rolling back) and CreateService the driver reads the service, and
// carries on when it runs what was sent, saying so in a note event; after
// RegisterTaskDefinition it reads the family's latest revision and adopts
// it when it is what was sent, so no revision is registered twice.
// Otherwise the error says the outcome was unknown and what ECS showed.
// ReadServing (deploy.ServingReader) reads what a service serves, so the
// engine can say what a failed cleanup left.
//
// Services with the CODE_DEPLOY deployment controller deploy through
// CodeDeploy with an AppSpec built from the service. Prepare finds their
// deployment group as ecspresso does, by the ECS services the groups list
// (read-only calls), and its notes say what the group's own alarms and
// automatic rollback will do. StatusMany reads their CodeDeploy
// deployments 25 to a BatchGetDeployments request beside the rolling
// services' DescribeServices. When CreateDeployment fails after CodeDeploy
// created the deployment all the same (an unreadable answer, or an SDK
// retry refused because the first attempt took effect), Start finds it and
// the run follows it (platform.CodeDeploy.CreatedAnyway).
package ecs

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Platform is the driver's Platform() value.
const Platform = "ecs"

// DefaultCluster is the cluster of a target that names none.
const DefaultCluster = "default"

// Options configure a Driver. The zero value of every field means its
// documented default.
type Options struct {
	// AutoScaling is the Application Auto Scaling client. Nil means
	// suspending or resuming auto scaling is refused as invalid.
	AutoScaling AutoScalingAPI
	// CodeDeploy is used for services with the CODE_DEPLOY deployment
	// controller. Nil means such services are refused as unsupported.
	CodeDeploy CodeDeployAPI
	// Clock is the source of time. Nil means deploy.SystemClock{}.
	Clock deploy.Clock
	// Logger receives debug logs of the calls made. Nil discards them.
	Logger *slog.Logger
}

// Driver deploys ECS services. It implements deploy.Driver, deploy.Stopper,
// deploy.Continuer, deploy.Historian, deploy.StatusBatcher and
// deploy.ServingReader, and is safe for concurrent use.
type Driver struct {
	ecs   ECSAPI
	as    AutoScalingAPI
	cd    CodeDeployAPI
	clock deploy.Clock
	log   *slog.Logger
	// noSD records that the service-deployments API answered as missing,
	// so later deployments go straight to DescribeServices polling.
	noSD atomic.Bool
	// noAbort records that ECS refused StopServiceDeployment's ABORT stop
	// type, so later stops without rollback are refused without a call.
	noAbort atomic.Bool
}

var (
	_ deploy.Driver        = (*Driver)(nil)
	_ deploy.Stopper       = (*Driver)(nil)
	_ deploy.Continuer     = (*Driver)(nil)
	_ deploy.Historian     = (*Driver)(nil)
	_ deploy.StatusBatcher = (*Driver)(nil)
)

// New returns a driver over client, which must not be nil (*ecs.Client,
// or ecsfake.Fake in tests). The optional clients come in o.
func New(client ECSAPI, o Options) *Driver {
	if client == nil {
		panic("ecs.New: the ECS client must not be nil")
	}
	d := &Driver{ecs: client, as: o.AutoScaling, cd: o.CodeDeploy, clock: o.Clock, log: o.Logger}
	if d.clock == nil {
		d.clock = deploy.SystemClock{}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d
}

// NewFromConfig returns a driver over the real ECS client made from cfg,
// with the Application Auto Scaling and CodeDeploy clients made from cfg
// unless o sets them.
func NewFromConfig(cfg aws.Config, o Options) *Driver {
	if o.AutoScaling == nil {
		o.AutoScaling = applicationautoscaling.NewFromConfig(cfg)
	}
	if o.CodeDeploy == nil {
		o.CodeDeploy = newCodeDeployClient(cfg)
	}
	return New(ecs.NewFromConfig(cfg), o)
}

// Platform returns "ecs".
func (d *Driver) Platform() string { return Platform }

// Target returns the target for service in cluster (DefaultCluster when
// empty).
func Target(cluster, service string) deploy.Target {
	if cluster == "" {
		cluster = DefaultCluster
	}
	return deploy.Target{Platform: Platform, Name: cluster + "/" + service,
		Attrs: map[string]string{"cluster": cluster, "service": service}}
}

// parseTarget returns the cluster and service a target names: Attrs
// "cluster" and "service" when set, else Name as "cluster/service" or
// "service".
func parseTarget(t deploy.Target) (cluster, service string, err error) {
	cluster, service = t.Attrs["cluster"], t.Attrs["service"]
	if service == "" {
		name := t.Name
		if i := strings.LastIndex(name, "/"); i >= 0 {
			if cluster == "" {
				cluster = name[:i]
			}
			name = name[i+1:]
		}
		service = name
	}
	if cluster == "" {
		cluster = DefaultCluster
	}
	if service == "" {
		return "", "", deploy.Invalid("target", t.Name, "want cluster/service")
	}
	if t.Platform != "" && t.Platform != Platform {
		return "", "", deploy.Invalid("target.platform", t.Platform, "want ecs")
	}
	if !strings.HasPrefix(cluster, "arn:") {
		if err := checkName("target.cluster", cluster); err != nil {
			return "", "", err
		}
	}
	if err := checkName("target.service", service); err != nil {
		return "", "", err
	}
	return cluster, service, nil
}

// wrap makes err a *deploy.Error through platform.WrapDeployment, which
// adds the deploy sentinel of its class and keeps the AWS error reachable
// with errors.As. ECS's not-found answers that are not typed as such (a
// ClientException saying a task definition does not exist) get
// deploy.ErrNotFound first.
func wrap(op string, t deploy.Target, id string, err error) error {
	if err == nil {
		return nil
	}
	if isNotFound(err) && !errors.Is(err, deploy.ErrNotFound) {
		err = fmt.Errorf("%w: %w", deploy.ErrNotFound, err)
	}
	if t.Platform == "" && t.Name != "" {
		t.Platform = Platform
	}
	return platform.WrapDeployment(Platform, op, t.String(), id, err)
}

func isNotFound(err error) bool {
	var snf *types.ServiceNotFoundException
	var snd *types.ServiceNotActiveException
	var cnf *types.ClusterNotFoundException
	var sdnf *types.ServiceDeploymentNotFoundException
	if errors.As(err, &snf) || errors.As(err, &snd) || errors.As(err, &cnf) || errors.As(err, &sdnf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException", "NotFoundException", "ObjectNotFoundException":
			return true
		case "ClientException":
			msg := strings.ToLower(ae.ErrorMessage())
			return strings.Contains(msg, "unable to describe task definition") ||
				strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist")
		}
	}
	return false
}

// isUnavailable reports whether err says the operation does not exist where
// it was called: an unknown-operation error code, or an HTTP 404, 500 or 501
// whose body is not an AWS error (an emulator's HTML page). The driver falls
// back to DescribeServices polling on such errors.
func isUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "UnknownOperationException", "UnknownOperation", "InvalidAction",
			"UnsupportedOperation", "UnsupportedOperationException", "NotImplemented":
			return true
		}
		return false
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound, http.StatusInternalServerError, http.StatusNotImplemented:
			return true
		}
	}
	return false
}

// probeOnce makes a call that may hit a missing operation try only once:
// an emulator's HTML 500 is not worth the SDK's retries and backoff.
func probeOnce(o *ecs.Options) { o.RetryMaxAttempts = 1 }
