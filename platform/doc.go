// Package platform holds the AWS plumbing that more than one driver needs:
//
//   - [LoadConfig] loads an aws.Config with region, shared profile, endpoint
//     override and the retry and backoff policy.
//   - [Classify], [IsRetryable] and [Wrap] turn AWS SDK errors into the
//     deploy package's typed errors without hiding the SDK error.
//   - [AlarmGate] is a deploy.Gate over CloudWatch alarms; an [AlarmBatcher]
//     shared by a fleet's gates gathers their lookups into few
//     DescribeAlarms calls.
//   - [CodeDeploy] tracks CodeDeploy deployments (Lambda, EC2/on-premises and
//     ECS blue/green) and reports them in the deploy package's terms, one at
//     a time ([CodeDeploy.Status]) or a fleet at a time
//     ([CodeDeploy.StatusMany], 25 deployments a BatchGetDeployments), and
//     finds the deployment a failed CreateDeployment made all the same
//     ([CodeDeploy.CreatedAnyway]), so every driver follows it by one rule.
//
// Every type talks to AWS through a narrow interface that the real SDK
// client satisfies, so tests substitute in-memory fakes (see the
// codedeployfake subpackage). Nothing here prints, sleeps or keeps
// package-level state: time comes from a deploy.Clock passed in options.
package platform
