package ec2

import (
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Options configure a Driver. The zero value means every default.
type Options struct {
	// Clock dates what CodeDeploy does not. Default deploy.SystemClock{}.
	Clock deploy.Clock
	// Logger receives debug logs of platform calls. Default: discard.
	Logger *slog.Logger
	// EC2 resolves the EC2 instances a deployment group's tag filters
	// name (DescribeInstances). Default none: a plan then leaves the
	// EC2 instances uncounted and says so in its notes. NewFromConfig sets it.
	EC2 EC2API
	// AutoScaling resolves the instances of a deployment group's Auto
	// Scaling groups (DescribeAutoScalingGroups). Default none, as for EC2.
	// NewFromConfig sets it.
	AutoScaling AutoScalingAPI
	// NoTargets skips the per-instance reads in Status
	// (platform.CodeDeployOptions.NoTargets): Instances stay empty and
	// Percent comes from the deployment overview alone. Cheaper on large
	// fleets.
	NoTargets bool
	// InstancesOnChange lets StatusMany, the engine's polls of a fleet, skip
	// the per-instance reads of a live deployment whose status and
	// instance counts have not changed since the poll before, and report
	// that poll's instances again (platform.CodeDeployOptions.TargetsOnChange):
	// such a poll costs only its share of one BatchGetDeployments request.
	// An instance's lifecycle events then reach the deployment when the
	// instance's status changes rather than as each one starts and ends.
	// Default false: every poll reads every instance.
	InstancesOnChange bool
	// HistoryLimit caps how many deployments History reads. Default
	// platform.DefaultHistoryLimit.
	HistoryLimit int
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = deploy.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// BundleType is the archive format of an S3 revision.
type BundleType string

// The bundle types CodeDeploy takes for EC2/on-premises revisions.
const (
	BundleZip  BundleType = "zip"
	BundleTar  BundleType = "tar"
	BundleTgz  BundleType = "tgz"
	BundleYAML BundleType = "YAML"
	BundleJSON BundleType = "JSON"
)

// ParseBundleType reads zip, tar, tgz (or tar.gz), YAML or JSON, in any
// case. Anything else is a *deploy.ValidationError.
func ParseBundleType(s string) (BundleType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "zip":
		return BundleZip, nil
	case "tar":
		return BundleTar, nil
	case "tgz", "tar.gz":
		return BundleTgz, nil
	case "yaml", "yml":
		return BundleYAML, nil
	case "json":
		return BundleJSON, nil
	}
	return "", deploy.Invalid("bundleType", s, "want zip, tar, tgz, YAML or JSON")
}

// bundleFromKey infers the bundle type from an object key's extension.
func bundleFromKey(key string) (BundleType, bool) {
	k := strings.ToLower(key)
	switch {
	case strings.HasSuffix(k, ".zip"):
		return BundleZip, true
	case strings.HasSuffix(k, ".tar.gz"), strings.HasSuffix(k, ".tgz"):
		return BundleTgz, true
	case strings.HasSuffix(k, ".tar"):
		return BundleTar, true
	case strings.HasSuffix(k, ".yml"), strings.HasSuffix(k, ".yaml"):
		return BundleYAML, true
	case strings.HasSuffix(k, ".json"):
		return BundleJSON, true
	}
	return "", false
}

// S3Revision is an application bundle in S3.
type S3Revision struct {
	// Bucket and Key locate the bundle. Required.
	Bucket, Key string
	// BundleType is the archive format. Empty means the key's extension
	// says (.zip, .tar, .tar.gz or .tgz, .yml, .json); a key without one
	// needs it set.
	BundleType BundleType
	// Version is the object's version ID; ETag its ETag. Both optional:
	// CodeDeploy then takes the newest object and skips the ETag check.
	Version, ETag string
}

// ParseS3URL reads "s3://bucket/key", optionally followed by
// "?versionId=V" and "&etag=E" (or "#etag=E", as revision IDs are
// written), with the bundle type bundleType (empty: inferred from the key).
// A malformed URL or unknown bundle type is a *deploy.ValidationError.
func ParseS3URL(s string, bundleType string) (S3Revision, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "s3://")
	if !ok {
		return S3Revision{}, deploy.Invalid("s3", platform.RedactURL(s), "want s3://bucket/key[?versionId=V]")
	}
	rest, frag, _ := strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return S3Revision{}, deploy.Invalid("s3", platform.RedactURL(s), "want s3://bucket/key with a bucket and an object key")
	}
	r := S3Revision{Bucket: bucket, Key: key}
	q, err := url.ParseQuery(query)
	if err != nil {
		return S3Revision{}, deploy.Invalid("s3", platform.RedactURL(s), "malformed query: "+err.Error())
	}
	for k := range q {
		if k != "versionId" && k != "etag" {
			return S3Revision{}, deploy.Invalid("s3", platform.RedactURL(s), "unknown parameter "+k+"; want versionId or etag")
		}
	}
	r.Version, r.ETag = q.Get("versionId"), q.Get("etag")
	if e, ok := strings.CutPrefix(frag, "etag="); ok {
		r.ETag = e
	} else if frag != "" {
		name, _, _ := strings.Cut(frag, "=")
		return S3Revision{}, deploy.Invalid("s3", platform.RedactURL(s), "unknown fragment "+name+"; want #etag=E")
	}
	if bundleType != "" {
		bt, err := ParseBundleType(bundleType)
		if err != nil {
			return S3Revision{}, err
		}
		r.BundleType = bt
	}
	return r, r.validate()
}

var legacyBucketRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,255}$`)

func (r S3Revision) validate() error {
	if r.Bucket == "" || r.Key == "" {
		return deploy.Invalid("s3", "s3://"+r.Bucket+"/"+r.Key, "bucket and key are required")
	}
	if strings.ContainsAny(r.Bucket, "/?# ") || !legacyBucketRE.MatchString(r.Bucket) {
		// The legacy rule (us-east-1 buckets made before March 2018 may
		// have capitals and underscores), so no existing bucket is refused.
		return deploy.Invalid("s3.bucket", r.Bucket, "not a bucket name (letters, digits, dots, hyphens and underscores)")
	}
	if r.BundleType != "" {
		if _, err := ParseBundleType(string(r.BundleType)); err != nil {
			return err
		}
	} else if _, ok := bundleFromKey(r.Key); !ok {
		return deploy.Invalid("bundleType", "", "the key "+path.Base(r.Key)+" does not say its archive format; set the bundle type (zip, tar or tgz)")
	}
	return nil
}

func (r S3Revision) bundle() BundleType {
	if r.BundleType != "" {
		bt, _ := ParseBundleType(string(r.BundleType))
		return bt
	}
	bt, _ := bundleFromKey(r.Key)
	return bt
}

// GitHubRevision is a commit of a GitHub repository.
type GitHubRevision struct {
	// Repository is "owner/name". Required.
	Repository string
	// CommitID is the full 40-character SHA-1 of the commit. Required.
	CommitID string
}

var (
	repoRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$`)
	commitRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
)

// ParseGitHub reads "OWNER/REPO@COMMIT" (optionally prefixed "github:").
func ParseGitHub(s string) (GitHubRevision, error) {
	in := strings.TrimPrefix(strings.TrimSpace(s), "github:")
	repo, commit, _ := strings.Cut(in, "@")
	r := GitHubRevision{Repository: repo, CommitID: commit}
	return r, r.validate()
}

func (r GitHubRevision) validate() error {
	if !repoRE.MatchString(r.Repository) {
		return deploy.Invalid("github.repository", r.Repository, "want OWNER/REPO")
	}
	if r.CommitID == "" {
		return deploy.Invalid("github.commitId", "", "a GitHub revision needs a commit ID (OWNER/REPO@COMMIT)")
	}
	if !commitRE.MatchString(r.CommitID) {
		return deploy.Invalid("github.commitId", r.CommitID, "want the full 40-character SHA-1 of the commit")
	}
	return nil
}

// FileExistsBehavior says what CodeDeploy does with files already on an
// instance that the revision also installs.
type FileExistsBehavior string

// The behaviours CodeDeploy defines.
const (
	// FileDisallow fails the deployment (CodeDeploy's default).
	FileDisallow FileExistsBehavior = "DISALLOW"
	// FileOverwrite replaces the file.
	FileOverwrite FileExistsBehavior = "OVERWRITE"
	// FileRetain keeps the file on the instance.
	FileRetain FileExistsBehavior = "RETAIN"
)

// DeployOptions are the EC2/on-premises options of a request
// (deploy.Request.Options, as *DeployOptions or DeployOptions). The zero
// value deploys the revision Request.Revision names: its ID (a revision ID
// as History reports it: "s3://bucket/key[?versionId=V][#etag=E]",
// "github:OWNER/REPO@COMMIT") or, without one, its Source ("s3://..." or
// "github:OWNER/REPO@COMMIT").
//
// At most one of S3, GitHub and AppSpec may be set; all three are ignored
// when Request.Revision.ID names an existing revision (as the engine's
// rollbacks do).
type DeployOptions struct {
	// S3 is a bundle in S3.
	S3 *S3Revision
	// GitHub is a commit in GitHub.
	GitHub *GitHubRevision
	// AppSpec is AppSpec content deployed inline (revision type String):
	// hooks only, no files.
	AppSpec string

	// CodeDeployConfig names the deployment configuration: a predefined
	// one (CodeDeployDefault.OneAtATime, HalfAtATime, AllAtOnce) or a
	// custom one that exists. Empty: the strategy's minimum healthy hosts
	// when it has them, else the group's configuration. It must agree with
	// the strategy's minimum healthy hosts when both are set.
	CodeDeployConfig string

	// FileExistsBehavior overrides the AppSpec's handling of files already
	// on the instances. Empty: CodeDeploy's default (DISALLOW).
	FileExistsBehavior FileExistsBehavior
	// IgnoreApplicationStopFailures lets instances go on when their
	// ApplicationStop script fails.
	IgnoreApplicationStopFailures bool
	// UpdateOutdatedInstancesOnly deploys only to the instances that do not
	// run the group's last revision.
	UpdateOutdatedInstancesOnly bool

	// GroupRollback keeps the group's automatic rollback configuration.
	// Without it the deployment overrides it with Request.RollbackOn (none
	// when zero).
	GroupRollback bool
	// Alarms are CloudWatch alarm names for CodeDeploy's alarm override, in
	// addition to those of platform.AlarmGate gates; at most 10 in all.
	// Without any the group's alarm configuration applies.
	Alarms []string
	// IgnoreAlarmErrors lets the deployment go on when CodeDeploy cannot
	// read the alarms (IgnorePollAlarmFailure).
	IgnoreAlarmErrors bool
	// DisableAlarms turns the group's alarm configuration off for this
	// deployment. Not with Alarms.
	DisableAlarms bool

	// Windows says the group's instances run Windows, where CodeDeploy
	// cannot unpack tar bundles: a tar or tgz revision is then refused
	// before any call. Without it the driver finds out from the instances
	// the group targets (EC2's Platform) and refuses in Prepare all the same.
	Windows bool

	// CreateGroup, when set, describes the deployment group to create if it
	// does not exist (CreateDeploymentGroup in Start). An existing group is
	// used as it is.
	CreateGroup *GroupSpec
}

// TagFilterType is how a tag filter matches: CodeDeploy's KEY_ONLY,
// VALUE_ONLY and KEY_AND_VALUE.
type TagFilterType string

// The tag filter types.
const (
	KeyOnly     TagFilterType = "KEY_ONLY"
	ValueOnly   TagFilterType = "VALUE_ONLY"
	KeyAndValue TagFilterType = "KEY_AND_VALUE"
)

// TagFilter selects instances by one tag.
type TagFilter struct {
	Key   string
	Value string
	// Type defaults to KEY_AND_VALUE.
	Type TagFilterType
}

func (f TagFilter) kind() TagFilterType {
	if f.Type == "" {
		return KeyAndValue
	}
	return f.Type
}

func (f TagFilter) validate(field string) error {
	switch f.kind() {
	case KeyOnly:
		if f.Key == "" {
			return deploy.Invalid(field, "", "a KEY_ONLY filter needs a key")
		}
	case ValueOnly:
		if f.Value == "" {
			return deploy.Invalid(field, "", "a VALUE_ONLY filter needs a value")
		}
	case KeyAndValue:
		if f.Key == "" || f.Value == "" {
			return deploy.Invalid(field, f.Key+"="+f.Value, "a KEY_AND_VALUE filter needs a key and a value")
		}
	default:
		return deploy.Invalid(field, string(f.Type), "want KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE")
	}
	return nil
}

// MaxTagSets is how many tag sets a deployment group takes: instances
// match a set when they match any of its filters, and the group when they
// match every set.
const MaxTagSets = 3

// GroupSpec describes a deployment group to create.
type GroupSpec struct {
	// ServiceRoleARN is the role CodeDeploy acts as. Required.
	ServiceRoleARN string
	// EC2TagSets and OnPremisesTagSets select instances: OR within a set,
	// AND across up to MaxTagSets sets.
	EC2TagSets        [][]TagFilter
	OnPremisesTagSets [][]TagFilter
	// AutoScalingGroups are Auto Scaling group names whose instances belong
	// to the group.
	AutoScalingGroups []string
	// DeploymentConfig is the group's default configuration. Default
	// CodeDeployDefault.OneAtATime.
	DeploymentConfig string
	// BlueGreen makes the group's deployments blue/green (replacement
	// instances) instead of in place.
	BlueGreen bool
	// TargetGroups are Elastic Load Balancing target group names for
	// traffic control. Required with BlueGreen.
	TargetGroups []string
	// WaitForContinue makes blue/green deployments wait in Ready for
	// ContinueDeployment before rerouting traffic.
	WaitForContinue bool
	// KeepOriginal keeps the original instances running after a blue/green
	// deployment instead of terminating them.
	KeepOriginal bool
	// TerminationWait is how long the original instances keep running
	// before they are terminated. Default 0, at once.
	TerminationWait time.Duration
	// Alarms and RollbackOn are the group's alarm and automatic rollback
	// configuration.
	Alarms     []string
	RollbackOn deploy.RollbackOn
}

func (g *GroupSpec) validate() error {
	if g.ServiceRoleARN == "" {
		return deploy.Invalid("createGroup.serviceRoleArn", "", "a deployment group needs a service role")
	}
	if len(g.EC2TagSets) > MaxTagSets {
		return deploy.Invalid("createGroup.ec2TagSets", itoa(len(g.EC2TagSets)), "a deployment group takes at most 3 tag sets")
	}
	if len(g.OnPremisesTagSets) > MaxTagSets {
		return deploy.Invalid("createGroup.onPremisesTagSets", itoa(len(g.OnPremisesTagSets)), "a deployment group takes at most 3 tag sets")
	}
	for _, sets := range [][][]TagFilter{g.EC2TagSets, g.OnPremisesTagSets} {
		for _, set := range sets {
			if len(set) == 0 {
				return deploy.Invalid("createGroup.tagSets", "", "a tag set needs at least one filter")
			}
			for _, f := range set {
				if err := f.validate("createGroup.tagFilter"); err != nil {
					return err
				}
			}
		}
	}
	if len(g.EC2TagSets) == 0 && len(g.OnPremisesTagSets) == 0 && len(g.AutoScalingGroups) == 0 {
		return deploy.Invalid("createGroup", "", "name the instances: tag sets or Auto Scaling groups")
	}
	if g.BlueGreen && len(g.TargetGroups) == 0 {
		return deploy.Invalid("createGroup.targetGroups", "", "a blue/green group reroutes traffic through a load balancer target group")
	}
	if g.DeploymentConfig != "" {
		if err := checkConfigName(g.DeploymentConfig); err != nil {
			return err
		}
	}
	if len(g.Alarms) > 10 {
		return deploy.Invalid("createGroup.alarms", strings.Join(g.Alarms, ","), "at most 10 alarms")
	}
	if g.TerminationWait < 0 {
		return deploy.Invalid("createGroup.terminationWait", g.TerminationWait.String(), "must not be negative")
	}
	return nil
}

// checkConfigName refuses a predefined configuration name that is not an
// EC2/on-premises one. Custom names are checked against CodeDeploy later.
func checkConfigName(name string) error {
	if !strings.HasPrefix(name, deploy.CodeDeployPrefix) {
		if !configNameRE.MatchString(name) {
			return deploy.Invalid("codeDeployConfig", name, "not a deployment configuration name (letters, digits, ., _ and -, up to 100)")
		}
		return nil
	}
	s, err := deploy.ParseStrategy(name)
	if err != nil || s.MinHealthy == nil {
		return deploy.Invalid("codeDeployConfig", name,
			"not an EC2/on-premises configuration; want CodeDeployDefault.OneAtATime, HalfAtATime, AllAtOnce or a custom configuration's name")
	}
	return nil
}

var configNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func itoa(n int) string { return strconv.Itoa(n) }

// s3Location is the CodeDeploy location of r.
func s3Location(r S3Revision) *cdtypes.RevisionLocation {
	loc := &cdtypes.S3Location{Bucket: &r.Bucket, Key: &r.Key, BundleType: cdtypes.BundleType(r.bundle())}
	if r.Version != "" {
		v := r.Version
		loc.Version = &v
	}
	if r.ETag != "" {
		e := r.ETag
		loc.ETag = &e
	}
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: loc}
}
