// Package ec2 deploys application revisions to Amazon EC2 and on-premises
// instances through AWS CodeDeploy (the EC2/On-Premises compute platform).
//
// A target is a CodeDeploy deployment group ([Target]: "application/group").
// [Driver] (deploy.ModePlatform; [New], [NewFromConfig]) hands each
// deployment to CodeDeploy and reports what CodeDeploy does:
//
//   - Prepare (the dry run) validates the request before any call, reads
//     the group (GetDeploymentGroup: its EC2 and on-premises tag filters and
//     tag sets, Auto Scaling groups, deployment style, alarms and automatic
//     rollback), resolves the instances it targets (EC2 DescribeInstances
//     per tag filter, OR within a tag set and AND across up to three; Auto
//     Scaling DescribeAutoScalingGroups; CodeDeploy ListOnPremisesInstances)
//     and works out the batches with deploy.MinHealthyHosts.Plan, refusing a
//     configuration that can never succeed on that fleet. It makes no
//     mutating call.
//   - Start creates the deployment (CreateDeployment) with the revision (S3
//     bundle, GitHub commit or inline AppSpec), the deployment configuration
//     (CodeDeployDefault.OneAtATime, HalfAtATime, AllAtOnce, or a custom
//     minimum healthy hosts rule, created on first use as
//     [CustomConfigName]), the per-deployment options
//     ([DeployOptions]: fileExistsBehavior, ignoreApplicationStopFailures,
//     updateOutdatedInstancesOnly) and the alarm and automatic rollback
//     overrides. It can create the group first ([GroupSpec]).
//   - Status reports each instance with its lifecycle events in order
//     (ApplicationStop, DownloadBundle, BeforeInstall, Install, AfterInstall,
//     ApplicationStart, ValidateService, and the blue/green traffic events),
//     which the engine turns into events; Percent is the share of the fleet
//     on the new revision. A failure names the instance and the lifecycle
//     event ([FailureOf] returns it as a [LifecycleError] whose error code
//     maps to [ErrScriptFailed] and friends). StatusMany (the driver is a
//     deploy.StatusBatcher and deploy.BatchSizer) reports a fleet's
//     deployments as Status would, reading their records 25 to a
//     BatchGetDeployments request, so an engine running many deployments
//     polls them in few calls; [Options].InstancesOnChange also spares the
//     instance reads of deployments that did not move since the last poll.
//   - Stop has CodeDeploy's three outcomes: Succeeded, Pending while
//     lifecycle events still run, or an error wrapping deploy.ErrCannotStop.
//     With rollback CodeDeploy redeploys the previous revision; without it
//     the instances stay where they are, and a group left part on the new
//     revision and part on the old is locked (Prepare refuses with
//     deploy.ErrLocked) until deploy.Engine.Rollback repairs it.
//   - Continue lets a blue/green deployment waiting in Ready reroute
//     traffic to its replacement instances (ContinueDeployment).
//   - History comes from CodeDeploy itself (ListDeployments,
//     BatchGetDeployments), so a rollback — a new deployment of the last
//     revision that succeeded, whose description names the deployment it
//     reverses — works from any machine.
//
// The driver keeps no state of its own: everything it knows it reads from
// CodeDeploy, EC2 and Auto Scaling, through the narrow interfaces
// [CodeDeployAPI], [EC2API] and [AutoScalingAPI] that the SDK clients (and
// the fakes in platform/codedeployfake and ec2/ec2fake) satisfy.
package ec2
