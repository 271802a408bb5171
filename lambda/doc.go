// Package lambda deploys AWS Lambda functions by moving an alias from one
// published version to another.
//
// Two drivers share one request shape:
//
//   - [Driver] (client-driven, deploy.ModeEngine): Start publishes the new
//     version (from a zip file or bytes, an S3 object or an image URI, or takes
//     an existing version number), and the engine walks the strategy, calling
//     Shift to weight the new version in the alias's
//     RoutingConfig.AdditionalVersionWeights (0.1, 0.2, ... for
//     Linear10PercentEvery...), then pointing the alias at it alone. Stop and
//     rollback always leave the alias on exactly one version with no weights.
//   - [CodeDeployDriver] (deploy.ModePlatform): the same request becomes a
//     CodeDeploy deployment on a Lambda deployment group, with an AppSpec
//     (Name, Alias, CurrentVersion, TargetVersion, Hooks), a deployment
//     configuration, and alarm and auto-rollback overrides, tracked to a
//     terminal state by platform.CodeDeploy.
//
// Gates: CloudWatch alarms come from platform.NewAlarmGate; lifecycle hooks
// (BeforeAllowTraffic, AfterAllowTraffic) are [HookFunction] (a Lambda
// validation function invoked synchronously) or [HookFunc] (a Go func), each
// with a short timeout measured on the driver's clock.
//
// Targets are named "function:alias" (the function may be a name or an ARN),
// or carry Attrs "function" and "alias". Revisions are version numbers in
// Revision.ID; driver options go in Request.Options as *DeployOptions.
//
// Preconditions are refused before any mutating call, with errors that
// wrap deploy.ErrInvalidRequest ($LATEST on either side, the target equal to
// the current version, a weight outside 0..1), deploy.ErrNotFound (a missing
// function, alias or version) or deploy.ErrLocked (*WeightedAliasError: the
// alias is already weighted; DeployOptions.ResetWeights repairs it).
package lambda
