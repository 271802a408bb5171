package lambda

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/render"
	"github.com/switchyard/switchyard/platform"
)

// Options configure a Driver or a CodeDeployDriver. The zero value means
// every default.
type Options struct {
	// Clock is the source of time for every wait (update polling, conflict
	// backoff). Default deploy.SystemClock{}.
	Clock deploy.Clock
	// Logger receives debug logs of platform calls. Default: discard.
	Logger *slog.Logger
	// PollInterval is how often LastUpdateStatus is read while a function
	// update is in progress. Default 1s.
	PollInterval time.Duration
	// UpdateTimeout bounds each wait for LastUpdateStatus to become
	// Successful. Default 5 minutes.
	UpdateTimeout time.Duration
	// ConflictRetries is how many times a call that failed with
	// ResourceConflictException is retried. Default 6; negative means none.
	ConflictRetries int
	// ConflictBackoff is the first delay before such a retry; each retry
	// doubles it, up to 30s. Default 1s.
	ConflictBackoff time.Duration
	// History records the versions each alias pointed at. Default an
	// in-memory store private to the driver; use NewFileHistory to keep it
	// across processes.
	History HistoryStore
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = deploy.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.UpdateTimeout <= 0 {
		o.UpdateTimeout = 5 * time.Minute
	}
	if o.ConflictRetries == 0 {
		o.ConflictRetries = 6
	}
	if o.ConflictRetries < 0 {
		o.ConflictRetries = 0
	}
	if o.ConflictBackoff <= 0 {
		o.ConflictBackoff = time.Second
	}
	if o.History == nil {
		o.History = NewMemoryHistory()
	}
	return o
}

// DeployOptions are the Lambda-specific options of a request
// (deploy.Request.Options, as *DeployOptions or DeployOptions). The zero
// value deploys the version the request names in Revision.ID.
//
// At most one code source may be set, and none when the request names an
// existing version in Revision.ID. Without any, Revision.Source is read:
// "s3://bucket/key[?versionId=V]", an image URI
// ("123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag") or a path to a
// .zip file. A version published from a code source is described with the
// request's Comment.
type DeployOptions struct {
	// ZipFile is a path to a deployment package to publish.
	ZipFile string
	// SourceDir is a directory to package (ZipDir) and publish, as
	// lambroll's --src.
	SourceDir string
	// Zip is a deployment package's content to publish.
	Zip []byte
	// S3Bucket, S3Key and S3ObjectVersion name a deployment package in S3.
	S3Bucket, S3Key, S3ObjectVersion string
	// ImageURI is a container image to publish.
	ImageURI string
	// ConfigFile, when set, is a function file (FunctionConfig: lambroll's
	// function.json, or .jsonnet) applied to $LATEST before the code is
	// published, rendered as LoadFunctionFile does with the process
	// environment. Only with a new code source.
	ConfigFile string
	// Config is the same as ConfigFile, given inline. Not with ConfigFile.
	Config *FunctionConfig
	// ResetWeights repairs an alias that is already weighted (someone else's
	// deployment, or one stopped without rollback): Start first points it
	// at its primary version alone. Without it such an alias is refused
	// with a *WeightedAliasError (unless the request is a rollback).
	ResetWeights bool

	// CodeDeploy-managed mode only (CodeDeployDriver); the client-driven
	// Driver ignores them:

	// CodeDeployApplication and CodeDeployDeploymentGroup name the
	// CodeDeploy Lambda deployment group, overriding the target's
	// ("codedeploy" attribute) and the driver's.
	CodeDeployApplication     string
	CodeDeployDeploymentGroup string
	// CodeDeployConfig names a deployment configuration to use instead of
	// the predefined one the strategy maps to (a custom configuration).
	CodeDeployConfig string
	// Alarms are CloudWatch alarm names for CodeDeploy's alarm override, in
	// addition to those of platform.AlarmGate gates.
	Alarms []string
	// IgnoreAlarmErrors lets the deployment go on when CodeDeploy cannot
	// read the alarms (IgnorePollAlarmFailure).
	IgnoreAlarmErrors bool
}

// FunctionConfig is a function's configuration in the JSON shape of the
// Lambda API: the whole CreateFunction input, as lambroll's function.json
// writes it (the output of `aws lambda get-function-configuration` is
// accepted too, its read-only fields dropped). Nil fields are left as they
// are; unknown fields are refused.
//
// A deployment applies what an update can apply: UpdateFunctionConfiguration
// takes most fields, UpdateFunctionCode takes Architectures, and Tags are
// applied with TagResource when the client has it (Tagger). What no update
// can change (PackageType, CodeSigningConfigArn, Code, Publish, PublishTo,
// and Tags without a Tagger) is reported in the plan's notes and left
// alone. Driver.Create applies them all to a new function.
type FunctionConfig struct {
	Description *string          `json:"Description,omitempty"`
	Handler     *string          `json:"Handler,omitempty"`
	Runtime     *string          `json:"Runtime,omitempty"`
	Role        *string          `json:"Role,omitempty"`
	MemorySize  *int32           `json:"MemorySize,omitempty"`
	Timeout     *int32           `json:"Timeout,omitempty"`
	Layers      []string         `json:"Layers,omitempty"`
	Environment *EnvironmentSpec `json:"Environment,omitempty"`
	// FunctionName, when present, must name the target's function.
	FunctionName *string `json:"FunctionName,omitempty"`

	// Architectures is x86_64 or arm64 (one), applied with the code.
	Architectures []types.Architecture `json:"Architectures,omitempty"`
	// EphemeralStorage is /tmp's size.
	EphemeralStorage *types.EphemeralStorage `json:"EphemeralStorage,omitempty"`
	// TracingConfig is X-Ray tracing.
	TracingConfig *types.TracingConfig `json:"TracingConfig,omitempty"`
	// VpcConfig attaches the function to subnets and security groups.
	VpcConfig *types.VpcConfig `json:"VpcConfig,omitempty"`
	// DeadLetterConfig is where failed asynchronous events go.
	DeadLetterConfig *types.DeadLetterConfig `json:"DeadLetterConfig,omitempty"`
	// FileSystemConfigs mount EFS file systems.
	FileSystemConfigs []types.FileSystemConfig `json:"FileSystemConfigs,omitempty"`
	// ImageConfig overrides a container image's settings.
	ImageConfig *types.ImageConfig `json:"ImageConfig,omitempty"`
	// LoggingConfig is the log format, levels and group.
	LoggingConfig *types.LoggingConfig `json:"LoggingConfig,omitempty"`
	// SnapStart is SnapStart's setting.
	SnapStart *types.SnapStart `json:"SnapStart,omitempty"`
	// KMSKeyArn encrypts the environment.
	KMSKeyArn *string `json:"KMSKeyArn,omitempty"`
	// Tags are the function's tags.
	Tags map[string]string `json:"Tags,omitempty"`
	// CapacityProviderConfig, DurableConfig and TenancyConfig are passed on
	// as the API takes them (TenancyConfig at creation only).
	CapacityProviderConfig *types.CapacityProviderConfig `json:"CapacityProviderConfig,omitempty"`
	DurableConfig          *types.DurableConfig          `json:"DurableConfig,omitempty"`
	TenancyConfig          *types.TenancyConfig          `json:"TenancyConfig,omitempty"`

	// Creation only: reported, not applied, when the function exists.

	// PackageType is Zip or Image.
	PackageType types.PackageType `json:"PackageType,omitempty"`
	// CodeSigningConfigArn names a code-signing configuration.
	CodeSigningConfigArn *string `json:"CodeSigningConfigArn,omitempty"`
	// Code is the CreateFunction code (S3 or image; ZipFile as base64). A
	// deployment's code source takes precedence.
	Code *types.FunctionCode `json:"Code,omitempty"`
	// Publish and PublishTo are CreateFunction's; a deployment always
	// publishes.
	Publish   *bool                                `json:"Publish,omitempty"`
	PublishTo types.FunctionVersionLatestPublished `json:"PublishTo,omitempty"`
}

// EnvironmentSpec is a function's environment.
type EnvironmentSpec struct {
	Variables map[string]string `json:"Variables"`
}

// readOnlyFunctionFields are the fields of get-function-configuration
// output that no create or update takes.
var readOnlyFunctionFields = []string{"FunctionArn", "CodeSize", "CodeSha256", "Version", "LastModified",
	"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
	"LastUpdateStatusReasonCode", "RevisionId", "MasterArn", "SigningProfileVersionArn", "SigningJobArn",
	"RuntimeVersionConfig", "ImageConfigResponse", "ConfigSha256", "ResponseMetadata"}

// ParseFunctionConfig reads a FunctionConfig from JSON: lambroll's
// function.json (the CreateFunction input) or get-function-configuration
// output (read-only fields dropped, Layers as ARNs). Field names match
// case-insensitively. Unknown fields, values out of range and trailing data
// are a *deploy.ValidationError.
func ParseFunctionConfig(data []byte) (*FunctionConfig, error) {
	if !utf8.Valid(data) {
		return nil, deploy.Invalid("config", "", "not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, deploy.Invalid("config", "", err.Error())
	}
	if dec.More() {
		return nil, deploy.Invalid("config", "", "trailing data after the JSON object")
	}
	if obj == nil {
		return nil, deploy.Invalid("config", "", "must be a JSON object")
	}
	normalizeFunctionJSON(obj)
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, deploy.Invalid("config", "", err.Error())
	}
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c FunctionConfig
	if err := dec.Decode(&c); err != nil {
		return nil, deploy.Invalid("config", "", err.Error())
	}
	if c.MemorySize != nil && (*c.MemorySize < 128 || *c.MemorySize > 10240) {
		return nil, deploy.Invalid("config.MemorySize", fmt.Sprint(*c.MemorySize), "must be between 128 and 10240")
	}
	if c.Timeout != nil && (*c.Timeout < 1 || *c.Timeout > 900) {
		return nil, deploy.Invalid("config.Timeout", fmt.Sprint(*c.Timeout), "must be between 1 and 900 seconds")
	}
	if c.Runtime != nil {
		known := false
		for _, r := range types.Runtime("").Values() {
			known = known || string(r) == *c.Runtime
		}
		if !known {
			return nil, deploy.Invalid("config.Runtime", *c.Runtime, "unknown runtime")
		}
	}
	if len(c.Architectures) > 1 {
		return nil, deploy.Invalid("config.Architectures", fmt.Sprint(c.Architectures), "give one architecture")
	}
	for _, a := range c.Architectures {
		if !slices.Contains(types.Architecture("").Values(), a) {
			return nil, deploy.Invalid("config.Architectures", string(a), "want x86_64 or arm64")
		}
	}
	if c.PackageType != "" && !slices.Contains(types.PackageType("").Values(), c.PackageType) {
		return nil, deploy.Invalid("config.PackageType", string(c.PackageType), "want Zip or Image")
	}
	if e := c.EphemeralStorage; e != nil && (e.Size == nil || *e.Size < 512 || *e.Size > 10240) {
		return nil, deploy.Invalid("config.EphemeralStorage.Size", "", "must be between 512 and 10240 MB")
	}
	if t := c.TracingConfig; t != nil && t.Mode != "" && !slices.Contains(types.TracingMode("").Values(), t.Mode) {
		return nil, deploy.Invalid("config.TracingConfig.Mode", string(t.Mode), "want Active or PassThrough")
	}
	return &c, nil
}

// normalizeFunctionJSON drops the read-only parts of
// get-function-configuration output and turns its Layers objects into
// ARNs, so both shapes decode the same.
func normalizeFunctionJSON(obj map[string]any) {
	for k, v := range obj {
		if slices.ContainsFunc(readOnlyFunctionFields, func(f string) bool { return strings.EqualFold(f, k) }) {
			delete(obj, k)
			continue
		}
		m, _ := v.(map[string]any)
		switch strings.ToLower(k) {
		case "layers":
			if l, ok := v.([]any); ok {
				for i, e := range l {
					if lm, ok := e.(map[string]any); ok {
						for lk, lv := range lm {
							if strings.EqualFold(lk, "arn") {
								l[i] = lv
							}
						}
					}
				}
			}
		case "vpcconfig":
			deleteKeyFold(m, "VpcId")
		case "snapstart":
			deleteKeyFold(m, "OptimizationStatus")
		case "environment":
			deleteKeyFold(m, "Error")
		}
	}
}

func deleteKeyFold(m map[string]any, key string) {
	for k := range m {
		if strings.EqualFold(k, key) {
			delete(m, k)
		}
	}
}

func deployOptions(v any) (DeployOptions, error) {
	return deploy.OptionsOf[DeployOptions](v)
}

// sourceKind says where the version to deploy comes from.
type sourceKind string

const (
	sourceVersion sourceKind = "version"
	sourceZip     sourceKind = "zip"
	sourceS3      sourceKind = "s3"
	sourceImage   sourceKind = "image"
)

// source is a resolved revision source.
type source struct {
	kind    sourceKind
	version string
	zipPath string
	dir     bool // zipPath is a directory packaged by ZipDir
	zip     []byte
	bucket  string
	key     string
	objVer  string
	image   string
}

// label describes the source for plans and revisions.
func (s source) label() string {
	switch s.kind {
	case sourceVersion:
		return s.version
	case sourceZip:
		if s.zipPath != "" {
			return s.zipPath
		}
		return fmt.Sprintf("zip (%d bytes)", len(s.zip))
	case sourceS3:
		u := "s3://" + s.bucket + "/" + s.key
		if s.objVer != "" {
			u += "?versionId=" + url.QueryEscape(s.objVer)
		}
		return u
	case sourceImage:
		return s.image
	}
	return ""
}

// codeSha256 is the hash Lambda reports for a zip, empty for other sources.
func (s source) codeSha256() string {
	if s.kind != sourceZip {
		return ""
	}
	sum := sha256.Sum256(s.zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// resolveSource works out the code source of a request without any AWS
// call. It reads the zip file, if any.
func resolveSource(rev deploy.Revision, o DeployOptions) (source, error) {
	var found []source
	if rev.ID != "" {
		found = append(found, source{kind: sourceVersion, version: rev.ID})
	}
	if o.ZipFile != "" {
		found = append(found, source{kind: sourceZip, zipPath: o.ZipFile})
	}
	if o.Zip != nil {
		found = append(found, source{kind: sourceZip, zip: o.Zip})
	}
	if o.SourceDir != "" {
		found = append(found, source{kind: sourceZip, zipPath: o.SourceDir, dir: true})
	}
	if o.S3Bucket != "" || o.S3Key != "" || o.S3ObjectVersion != "" {
		found = append(found, source{kind: sourceS3, bucket: o.S3Bucket, key: o.S3Key, objVer: o.S3ObjectVersion})
	}
	if o.ImageURI != "" {
		found = append(found, source{kind: sourceImage, image: o.ImageURI})
	}
	if len(found) == 0 && rev.Source != "" {
		s, err := parseSource(rev.Source)
		if err != nil {
			return source{}, err
		}
		found = append(found, s)
	}
	switch len(found) {
	case 0:
		return source{}, deploy.Invalid("revision", "", "name a version, or a zip file, S3 object or image URI to publish")
	case 1:
	default:
		kinds := make([]string, len(found))
		for i, f := range found {
			kinds[i] = string(f.kind) + " " + f.label()
		}
		return source{}, deploy.Invalid("revision", strings.Join(kinds, ", "), "more than one source given; name exactly one")
	}
	s := found[0]
	switch s.kind {
	case sourceVersion:
		if s.version == latest {
			return source{}, deploy.Invalid("revision.id", s.version, "$LATEST cannot be deployed: traffic shifting needs a published version")
		}
		if !isVersionNumber(s.version) || strings.Trim(s.version, "0") == "" {
			return source{}, deploy.Invalid("revision.id", s.version, "want a published version number (1 or more)")
		}
	case sourceZip:
		if s.dir {
			b, err := ZipDir(s.zipPath)
			if err != nil {
				return source{}, err
			}
			s.zip = b
		} else if s.zipPath != "" {
			if err := checkZipFile(s.zipPath); err != nil {
				return source{}, err
			}
			b, err := os.ReadFile(s.zipPath)
			if err != nil {
				return source{}, deploy.Invalid("zip", s.zipPath, err.Error())
			}
			s.zip = b
		}
		if len(s.zip) == 0 {
			return source{}, deploy.Invalid("zip", s.zipPath, "the deployment package is empty")
		}
		if err := checkZip(s.label(), s.zip); err != nil {
			return source{}, err
		}
	case sourceS3:
		if s.bucket == "" || s.key == "" {
			return source{}, deploy.Invalid("s3", s.label(), "both bucket and key are required")
		}
	}
	return s, nil
}

// parseSource reads Revision.Source.
func parseSource(src string) (source, error) {
	if !utf8.ValidString(src) {
		return source{}, deploy.Invalid("revision.source", src, "not valid UTF-8")
	}
	const wantS3 = "want s3://bucket/key[?versionId=V]"
	if scheme, _, ok := strings.Cut(src, "://"); ok && scheme != "s3" {
		return source{}, deploy.Invalid("revision.source", platform.RedactURL(src), "a "+scheme+":// URL is not a Lambda code source; "+wantS3)
	}
	switch {
	case strings.HasPrefix(src, "s3://"):
		// Errors show the URL without its query's values: one copied from
		// a console, or presigned, carries credentials there, and a
		// parameter other than versionId means nothing to Lambda.
		u, err := url.Parse(src)
		if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return source{}, deploy.Invalid("revision.source", platform.RedactURL(src), wantS3)
		}
		for k := range u.Query() {
			if k != "versionId" {
				return source{}, deploy.Invalid("revision.source", platform.RedactURL(src), "unknown parameter "+k+"; "+wantS3)
			}
		}
		if u.Fragment != "" {
			return source{}, deploy.Invalid("revision.source", platform.RedactURL(src), "a fragment (#...) is not part of an S3 object's name; "+wantS3)
		}
		return source{kind: sourceS3, bucket: u.Host, key: strings.TrimPrefix(u.Path, "/"), objVer: u.Query().Get("versionId")}, nil
	case strings.HasPrefix(src, "image:"):
		return source{kind: sourceImage, image: strings.TrimPrefix(src, "image:")}, nil
	case strings.Contains(src, ".dkr.ecr.") || strings.Contains(src, "@sha256:"):
		return source{kind: sourceImage, image: src}, nil
	case strings.HasPrefix(src, "zip:"):
		return source{kind: sourceZip, zipPath: strings.TrimPrefix(src, "zip:")}, nil
	case strings.HasSuffix(strings.ToLower(src), ".zip") || strings.HasSuffix(strings.ToLower(src), ".jar"):
		return source{kind: sourceZip, zipPath: src}, nil
	}
	return source{}, deploy.Invalid("revision.source", src, "want s3://bucket/key, an image URI, or a .zip file")
}

// loadConfig reads the configuration update of a request, if any.
func loadConfig(o DeployOptions) (*FunctionConfig, error) {
	if o.ConfigFile != "" && o.Config != nil {
		return nil, deploy.Invalid("config", o.ConfigFile, "give ConfigFile or Config, not both")
	}
	if o.Config != nil {
		b, err := json.Marshal(o.Config)
		if err != nil {
			return nil, deploy.Invalid("config", "", err.Error())
		}
		return ParseFunctionConfig(b)
	}
	if o.ConfigFile == "" {
		return nil, nil
	}
	if _, err := os.Stat(o.ConfigFile); err != nil {
		return nil, deploy.Invalid("configFile", o.ConfigFile, err.Error())
	}
	b, err := render.ReadFile(o.ConfigFile, render.Options{})
	if err != nil {
		return nil, err
	}
	c, err := ParseFunctionConfig(b)
	if err != nil {
		var ve *deploy.ValidationError
		if errors.As(err, &ve) {
			ve.Value = o.ConfigFile
		}
		return nil, err
	}
	return c, nil
}
