// Package opsworks runs AWS OpsWorks Stacks deployments: the twelve
// commands of CreateDeployment, validated before any call, followed to
// their end through DescribeDeployments and DescribeCommands, and rolled
// back.
//
// # End of life
//
// AWS disabled OpsWorks Stacks for new and existing customers on
// 2024-05-26. Against AWS the service's calls now fail, and this driver
// reports those failures as any other AWS error (wrapped by platform.Wrap);
// it works against OpsWorks-compatible endpoints and fakes. The last
// OpsWorks client aws-sdk-go-v2 published, which this package builds on,
// is service/opsworks v1.27.4 (2025-06-10); it gets no further fixes. The
// driver is kept because the specification names OpsWorks and teams
// moving off it keep tooling and tests built on it, and it is held to the
// same contract as the other drivers (deploytest.Run passes over
// opsworksfake). Users still on OpsWorks Stacks should move their
// workloads to EC2 or on-premises instances deployed by CodeDeploy, to
// ECS or to Lambda; build nothing new on this driver.
//
// # Targets, commands and revisions
//
// A target is an app of a stack ([Target](stackID, appID), named
// "stackID/appID") or, for stack commands, the stack itself
// ([Target](stackID, "")). The deployment's command is in
// deploy.Request.Options as *[DeployOptions]:
//
//   - app commands (need the app): deploy (Args migrate true or false),
//     rollback, start, stop, restart, undeploy;
//   - stack commands (refuse an app): setup, configure,
//     install_dependencies, update_dependencies (Args upgrade_os_to, which
//     needs allow_reboot true, and allow_reboot), update_custom_cookbooks,
//     execute_recipes (Args recipes, each "cookbook::recipe").
//
// Args are checked per command ([ValidateCommand]) and CustomJSON must be
// one JSON object ([ValidateCustomJSON], which reports where it is not);
// each refusal is a *deploy.ValidationError naming the argument, made
// before any call. InstanceIDs and LayerIDs limit the instances; the
// request's Comment becomes the deployment's comment and NoWait returns
// once OpsWorks accepted it. CustomJSON is sent to OpsWorks and never
// appears in plans (DeployOptions.MarshalJSON leaves it out), events, logs
// or errors.
//
// An app's revision is its source's version: AppSource.Revision (a commit,
// a branch), or AppSource.Url for S3 and archive sources. Deploying a new
// revision (Request.Revision.ID) is UpdateApp (the source) followed by
// CreateDeployment (deploy); when either fails, the source is put back.
// CreateDeployment takes no idempotency token: the SDK retries it only
// when OpsWorks throttled it, and after a failure whose outcome is unknown
// (a lost or unreadable answer, a server error) Start looks among the
// stack's deployments for the one the call may have created all the same
// before sending it again (see Driver.Start). The other commands deploy nothing new: their plan's To is the
// command itself (To.ID "execute_recipes", ...) and they have no From, so
// the engine never "rolls back" a setup or a restart.
//
// OpsWorks records no revision per deployment. The driver therefore ends
// the comment of every deploy and rollback it starts with a marker,
// "[switchyard to=REV from=REV rollback-of=ID]", and reads it back: History
// lists those deployments (deployments made without the driver are left
// out), Status reports a deployment a later one reversed as RolledBack,
// and any process sees the same history. Percent is the share of the
// deployment's instances whose command succeeded, and each instance's
// command is reported in Deployment.Instances and as a Message (an engine
// event). When a deployment fails, its Reason (and so the engine's error)
// names the failing instances with their exit codes and log URLs;
// [FailedInstances] returns them.
//
// # Strategies, locks, stop and rollback
//
// Plans are deploy.ModePlatform: OpsWorks runs a command on all of its
// instances at once, so any strategy but all-at-once is refused with
// deploy.UnsupportedStrategy (limit the instances instead). A target has
// one deployment at a time: Prepare and Start refuse one while a
// deployment of the same app, or a stack command, runs in the stack
// (deploy.ErrLocked).
//
// OpsWorks has no call that stops a deployment, so the driver has no
// deploy.Stopper: Engine.Stop returns deploy.ErrUnsupported, and when a
// gate refuses a deployment the engine waits for OpsWorks to finish it and
// then, where the rollback policy says so, rolls back with a new
// deployment of the previous revision. A cancelled context leaves the
// deployment running on OpsWorks.
//
// Rollback takes two forms. Engine.Rollback (and the engine's automatic
// rollbacks) deploy an earlier revision: UpdateApp plus deploy. The
// rollback command (DeployOptions{Command: "rollback", Versions: n}) uses
// the versions OpsWorks keeps on the instances: it keeps five, so a
// rollback goes at most [MaxRollbackVersions] (four) back, and asking for
// more is refused before any call. One version back is OpsWorks's own
// rollback command; n versions back deploys the revision n deployments
// ago.
//
// # Errors
//
// Every AWS error goes through platform.Wrap: ValidationException wraps
// deploy.ErrInvalidRequest and ResourceNotFoundException deploy.ErrNotFound,
// and errors.As still reaches *types.ValidationException and
// *types.ResourceNotFoundException. A missing stack, app or deployment
// wraps deploy.ErrNotFound.
package opsworks
