// Package lambda deploys AWS Lambda functions by moving an alias from one
// published version to another.
//
// Two drivers share one request shape:
//
//   - [Driver] (client-driven, deploy.ModeEngine; [New], [NewFromConfig]):
//     Start publishes the new version (from a zip file or bytes, an S3
//     object or an image URI, or takes an existing version number), and the
//     engine walks the strategy, calling Shift to weight the new version in
//     the alias's RoutingConfig.AdditionalVersionWeights (0.1, 0.2, ... for
//     Linear10PercentEvery...), then pointing the alias at it alone.
//   - [CodeDeployDriver] (deploy.ModePlatform; [NewCodeDeploy],
//     [NewCodeDeployFromConfig]): the same request becomes a CodeDeploy
//     deployment on a Lambda deployment group, with an AppSpec (Name, Alias,
//     CurrentVersion, TargetVersion, Hooks), a deployment configuration, and
//     alarm and auto-rollback overrides, tracked to a terminal state by
//     platform.CodeDeploy. It is a deploy.StatusBatcher and
//     deploy.BatchSizer: the engine polls a fleet's deployment records 25
//     to a BatchGetDeployments request, each alias's weights still read on
//     their own.
//
// # Stop and rollback
//
// A stop with rollback, and every rollback, leaves the alias on exactly one
// version with no weights. A stop without rollback moves nothing more: the
// alias keeps the weights it had, and the deployment ends Stopped with the
// share the new version still serves. Such a weighted alias is locked:
// Prepare refuses new deployments with a *WeightedAliasError (wrapping
// deploy.ErrLocked) until it is repaired, by a rollback
// (deploy.Engine.Rollback, or any request whose RollbackOf is set, which
// puts the alias on the version it names alone) or by
// DeployOptions.ResetWeights. The engine's own cleanup (a cancelled
// deployment, a failure under a rollback policy) always stops with
// rollback, so it never leaves an alias weighted. A deployment that has
// ended is not changed by Stop: it is reversed by a new deployment.
//
// # Gates
//
// CloudWatch alarms come from platform.NewAlarmGate; lifecycle hooks
// (BeforeAllowTraffic, AfterAllowTraffic) are [HookFunction] (a Lambda
// validation function invoked synchronously) or [HookFunc] (a Go func), each
// with a short timeout measured on its clock. In CodeDeploy mode function
// hooks become the AppSpec's Hooks (and CodeDeploy, not the engine, runs
// them) and alarm gates the alarm override.
//
// # Requests
//
// Targets are named "function:alias" (the function may be a name or an ARN),
// or carry Attrs "function" and "alias"; [Target] builds one. Revisions are
// version numbers in Revision.ID; driver options go in Request.Options as
// *DeployOptions. A plan that publishes new code has no To.ID (its Label is
// "function:(new version)"); the Deployment Start returns carries the
// version Lambda gave it.
//
// # Function files
//
// lambroll's function.json (the whole CreateFunction input) is a
// [FunctionConfig]: [LoadFunctionFile] renders it as lambroll does (Go
// templates with env, must_env, json_escape and tfstate; .jsonnet
// evaluated with the same native functions) and refuses an unset
// must_env or a leftover "{{". A deployment applies what updates can and
// notes the rest in its plan; [Driver.Create] makes a function (or an
// alias) that does not exist yet. [ZipDir] and DeployOptions.SourceDir
// package a directory, as lambroll's --src.
//
// # Errors
//
// Every AWS error is wrapped by platform.Wrap: errors.Is finds the deploy
// sentinel of its class and errors.As the SDK's own type. Preconditions are
// refused before any mutating call, with errors that wrap
// deploy.ErrInvalidRequest ($LATEST on either side, the target equal to the
// current version, a percent outside 1..100), deploy.ErrNotFound (a missing
// function, alias or version, such as "999"), deploy.ErrUnsupported with
// deploy.ErrInvalidRequest (deploy.UnsupportedStrategy: minimum healthy
// hosts; approval steps and steps no predefined configuration has, in
// CodeDeploy mode) or deploy.ErrLocked (*WeightedAliasError; a live
// deployment to the same alias).
//
// # Lost answers
//
// A mutating call whose answer was lost (platform.Uncertain: a timeout, a
// reset, a reply that does not decode, a 5xx) is read back before it is
// reported. After UpdateAlias the alias is read (GetAlias): on the version
// and weights sent, the shift, stop or rollback took, and a note says so.
// After UpdateFunctionConfiguration the configuration is compared with the
// one sent. After a code update with Publish (or PublishVersion) whose
// answer was lost, $LATEST's CodeSha256 is compared with the zip's, and
// PublishVersion is asked for the version: Lambda publishes no second
// version of unchanged code, so it answers with the one the lost call
// made. Otherwise the error says the outcome was unknown and what Lambda
// showed. CreateDeployment takes no idempotency token: when it fails after
// CodeDeploy created the deployment all the same (an unreadable answer, or
// an SDK retry refused because the first attempt took effect), Start finds
// the deployment and the run follows it (platform.CodeDeploy.CreatedAnyway).
// Both drivers are deploy.ServingReader: ReadServing reads the
// alias's version and weights, so the engine can say what a failed
// cleanup left.
package lambda
