package lambda

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/render"
	"github.com/switchyard/switchyard/platform"
)

// Tagger is the optional call that applies a function file's Tags to an
// existing function. *lambda.Client satisfies it; a Client without it has
// Tags reported in the plan and left alone.
type Tagger interface {
	TagResource(ctx context.Context, in *awslambda.TagResourceInput, optFns ...func(*awslambda.Options)) (*awslambda.TagResourceOutput, error)
}

// Creator is the optional part of a client that Driver.Create needs.
// *lambda.Client satisfies it.
type Creator interface {
	CreateFunction(ctx context.Context, in *awslambda.CreateFunctionInput, optFns ...func(*awslambda.Options)) (*awslambda.CreateFunctionOutput, error)
	CreateAlias(ctx context.Context, in *awslambda.CreateAliasInput, optFns ...func(*awslambda.Options)) (*awslambda.CreateAliasOutput, error)
}

var (
	_ Tagger  = (*awslambda.Client)(nil)
	_ Creator = (*awslambda.Client)(nil)
)

// S3Client is the S3 call a Terraform state in S3 needs. *s3.Client from
// aws-sdk-go-v2 satisfies it.
type S3Client interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// FileOptions say how LoadFunctionFile renders a function file. The zero
// value reads the process environment and offers no tfstate function.
type FileOptions struct {
	// LookupEnv reads environment variables for env and must_env. Default
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// TFState, when set, is a Terraform state (local path, file:// or
	// s3:// URL) offered as tfstate and tfstatef, as lambroll's --tfstate.
	TFState string
	// S3 reads a TFState in S3. Nil refuses one.
	S3 S3Client
	// ExtStr and ExtCode are Jsonnet external variables.
	ExtStr, ExtCode map[string]string
}

// LoadFunctionFile reads lambroll's function.json (or function.jsonnet):
// rendered as a Go template with env, must_env, json_escape and, with
// TFState, tfstate and tfstatef; a .jsonnet file is evaluated first with
// the same functions as native functions. A must_env of an unset variable,
// a "{{" left after rendering, or a bad field is a *deploy.ValidationError.
func LoadFunctionFile(ctx context.Context, file string, o FileOptions) (*FunctionConfig, error) {
	ro := render.Options{LookupEnv: o.LookupEnv, ExtStr: o.ExtStr, ExtCode: o.ExtCode}
	if o.TFState != "" {
		var get render.S3Getter
		if o.S3 != nil {
			get = o.S3
		}
		st, err := render.LoadTFState(ctx, o.TFState, "", get)
		if err != nil {
			return nil, err
		}
		ro.States = []render.State{{State: st}}
	}
	b, err := render.ReadFile(file, ro)
	if err != nil {
		return nil, err
	}
	c, err := ParseFunctionConfig(b)
	if err != nil {
		var ve *deploy.ValidationError
		if errors.As(err, &ve) && ve.Value == "" {
			ve.Value = file
		}
		return nil, err
	}
	return c, nil
}

// unapplied lists what an update of an existing function cannot apply
// from cfg, for the plan's notes.
func unapplied(cfg *FunctionConfig, cur *awslambda.GetFunctionConfigurationOutput, canTag bool) []string {
	if cfg == nil {
		return nil
	}
	var out []string
	if cfg.PackageType != "" && cfg.PackageType != cur.PackageType {
		out = append(out, "PackageType "+string(cfg.PackageType)+" (the function is "+string(cur.PackageType)+"; only a new function can change it)")
	}
	if cfg.CodeSigningConfigArn != nil {
		out = append(out, "CodeSigningConfigArn (set it with PutFunctionCodeSigningConfig)")
	}
	if cfg.Code != nil {
		out = append(out, "Code (the deployment's code source is published instead)")
	}
	if cfg.Tags != nil && !canTag {
		out = append(out, "Tags (the client cannot TagResource)")
	}
	if cfg.TenancyConfig != nil {
		out = append(out, "TenancyConfig (creation only)")
	}
	return out
}

// moreChanges lists what cfg's fields beyond the basic nine would change.
func moreChanges(cur *awslambda.GetFunctionConfigurationOutput, cfg *FunctionConfig) []deploy.Change {
	var out []deploy.Change
	add := func(p string, old, new any) {
		o, n := jsonText(old), jsonText(new)
		if o != n {
			out = append(out, deploy.Change{Path: "function." + p, Old: o, New: n})
		}
	}
	if cfg.Architectures != nil {
		add("Architectures", cur.Architectures, cfg.Architectures)
	}
	if cfg.EphemeralStorage != nil {
		add("EphemeralStorage", cur.EphemeralStorage, cfg.EphemeralStorage)
	}
	if cfg.TracingConfig != nil {
		var old any
		if cur.TracingConfig != nil {
			old = types.TracingConfig{Mode: cur.TracingConfig.Mode}
		}
		add("TracingConfig", old, *cfg.TracingConfig)
	}
	if cfg.VpcConfig != nil {
		var old any
		if v := cur.VpcConfig; v != nil && (len(v.SubnetIds) > 0 || len(v.SecurityGroupIds) > 0) {
			old = types.VpcConfig{SubnetIds: v.SubnetIds, SecurityGroupIds: v.SecurityGroupIds, Ipv6AllowedForDualStack: v.Ipv6AllowedForDualStack}
		}
		add("VpcConfig", old, *cfg.VpcConfig)
	}
	if cfg.DeadLetterConfig != nil {
		add("DeadLetterConfig", cur.DeadLetterConfig, cfg.DeadLetterConfig)
	}
	if cfg.FileSystemConfigs != nil {
		add("FileSystemConfigs", cur.FileSystemConfigs, cfg.FileSystemConfigs)
	}
	if cfg.ImageConfig != nil {
		var old any
		if cur.ImageConfigResponse != nil && cur.ImageConfigResponse.ImageConfig != nil {
			old = cur.ImageConfigResponse.ImageConfig
		}
		add("ImageConfig", old, cfg.ImageConfig)
	}
	if cfg.LoggingConfig != nil {
		add("LoggingConfig", cur.LoggingConfig, cfg.LoggingConfig)
	}
	if cfg.SnapStart != nil {
		var old any
		if cur.SnapStart != nil {
			old = types.SnapStart{ApplyOn: cur.SnapStart.ApplyOn}
		}
		add("SnapStart", old, *cfg.SnapStart)
	}
	if cfg.KMSKeyArn != nil {
		add("KMSKeyArn", aws.ToString(cur.KMSKeyArn), *cfg.KMSKeyArn)
	}
	if cfg.CapacityProviderConfig != nil {
		add("CapacityProviderConfig", cur.CapacityProviderConfig, cfg.CapacityProviderConfig)
	}
	if cfg.DurableConfig != nil {
		add("DurableConfig", cur.DurableConfig, cfg.DurableConfig)
	}
	return out
}

// jsonText is v as compact JSON ("" for nil and empty values).
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "{}" || string(b) == "[]" {
		return ""
	}
	return string(b)
}

// applyMore puts cfg's fields beyond the basic nine into an update.
func applyMore(in *awslambda.UpdateFunctionConfigurationInput, c *FunctionConfig) {
	in.EphemeralStorage, in.TracingConfig, in.VpcConfig = c.EphemeralStorage, c.TracingConfig, c.VpcConfig
	in.DeadLetterConfig, in.FileSystemConfigs, in.ImageConfig = c.DeadLetterConfig, c.FileSystemConfigs, c.ImageConfig
	in.LoggingConfig, in.SnapStart, in.KMSKeyArn = c.LoggingConfig, c.SnapStart, c.KMSKeyArn
	in.CapacityProviderConfig, in.DurableConfig = c.CapacityProviderConfig, c.DurableConfig
}

// tag applies a configuration's Tags to the function, when the client can.
func tag(ctx context.Context, c Client, o Options, fn string, cfg *FunctionConfig) error {
	t, ok := c.(Tagger)
	if cfg == nil || len(cfg.Tags) == 0 || !ok {
		return nil
	}
	cur, err := getConfig(ctx, c, fn, latest)
	if err != nil {
		return err
	}
	arn := aws.ToString(cur.FunctionArn)
	if arn == "" {
		arn = fn
	}
	err = retryConflict(ctx, o, "TagResource", func() error {
		_, err := t.TagResource(ctx, &awslambda.TagResourceInput{Resource: aws.String(arn), Tags: cfg.Tags})
		return err
	})
	if err != nil {
		return platform.Wrap(Platform, "TagResource", Platform+":"+fn, err)
	}
	return nil
}

// FunctionExists says whether the target's function exists (an alias is
// not needed). It makes one read-only call.
func (d *Driver) FunctionExists(ctx context.Context, t deploy.Target) (bool, error) {
	fn, _, err := ParseTarget(t)
	if err != nil {
		return false, err
	}
	_, err = getConfig(ctx, d.client, fn, latest)
	if errors.Is(err, deploy.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Create makes what the target lacks, as lambroll's deploy does. When the
// function does not exist, it is created from o's configuration (Config or
// ConfigFile: Role is required, and Handler and Runtime for a zip package)
// and code source (a zip, directory, S3 object or image; not a version)
// with the whole CreateFunction input (Tags, PackageType and
// CodeSigningConfigArn included), version 1 is published, and the alias
// is created pointing at it. When the function exists but the alias does
// not, the configuration and code are applied and published as a
// deployment would, and the alias is created pointing at the new version.
// When both exist it refuses with deploy.ErrInvalidRequest (deploy
// instead). Bad input is refused before any mutating call; a client
// without CreateFunction and CreateAlias (Creator) is
// deploy.ErrUnsupported. It returns the version the alias points at.
func (d *Driver) Create(ctx context.Context, t deploy.Target, o DeployOptions) (deploy.Revision, error) {
	fn, alias, err := ParseTarget(t)
	if err != nil {
		return deploy.Revision{}, err
	}
	src, err := resolveSource(deploy.Revision{}, o)
	if err != nil {
		return deploy.Revision{}, wrap("create", t, "", err)
	}
	cr, ok := d.client.(Creator)
	if !ok {
		return deploy.Revision{}, wrap("create", t, "", fmt.Errorf("%w: the client cannot CreateFunction", deploy.ErrUnsupported))
	}
	exists, err := d.FunctionExists(ctx, t)
	if err != nil {
		return deploy.Revision{}, err
	}
	var in *awslambda.CreateFunctionInput
	if !exists {
		if in, _, err = createInput(fn, t, o); err != nil {
			return deploy.Revision{}, wrap("create", t, "", err)
		}
	}
	var v string
	if exists {
		if _, err := getAlias(ctx, d.client, fn, alias); err == nil {
			return deploy.Revision{}, wrap("create", t, "", deploy.Invalid("target", t.String(), "the function and its alias exist; deploy to it instead"))
		} else if !errors.Is(err, deploy.ErrNotFound) {
			return deploy.Revision{}, err
		}
		cfg, err := loadConfig(o)
		if err != nil {
			return deploy.Revision{}, wrap("create", t, "", err)
		}
		if v, err = publish(ctx, d.client, d.opts, &planDetail{function: fn, alias: alias, src: src, config: cfg}); err != nil {
			return deploy.Revision{}, err
		}
	} else {
		// One attempt: a conflict here means someone created it meanwhile.
		out, err := cr.CreateFunction(ctx, in)
		d.opts.Logger.DebugContext(ctx, "lambda call", "op", "CreateFunction", "err", err)
		if err != nil {
			return deploy.Revision{}, platform.Wrap(Platform, "CreateFunction", t.String(), err)
		}
		if err := waitUpdated(ctx, d.client, d.opts, fn); err != nil {
			return deploy.Revision{}, err
		}
		v = aws.ToString(out.Version)
		if v == "" || v == latest {
			pv, err := d.client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String(fn)})
			if err != nil {
				return deploy.Revision{}, platform.Wrap(Platform, "PublishVersion", t.String(), err)
			}
			v = aws.ToString(pv.Version)
		}
	}
	_, err = cr.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias), FunctionVersion: aws.String(v)})
	if err != nil {
		return deploy.Revision{}, platform.Wrap(Platform, "CreateAlias", t.String(), err)
	}
	cfg, err := getConfig(ctx, d.client, fn, v)
	if err != nil {
		return deploy.Revision{}, err
	}
	r := *versionRevision(fn, cfg)
	r.Source = src.label()
	r.CreatedAt = d.opts.Clock.Now()
	return r, nil
}

// createInput builds and checks the CreateFunction input, with no call.
func createInput(fn string, t deploy.Target, o DeployOptions) (*awslambda.CreateFunctionInput, source, error) {
	src, err := resolveSource(deploy.Revision{}, o)
	if err != nil {
		return nil, src, err
	}
	cfg, err := loadConfig(o)
	if err != nil {
		return nil, src, err
	}
	if cfg == nil {
		return nil, src, deploy.Invalid("config", "", "creating a function needs its configuration (function.json)")
	}
	if cfg.FunctionName != nil && *cfg.FunctionName != fn && !hasSuffixName(fn, *cfg.FunctionName) {
		return nil, src, deploy.Invalid("config.FunctionName", *cfg.FunctionName, "does not match the target function "+fn)
	}
	if aws.ToString(cfg.Role) == "" {
		return nil, src, deploy.Invalid("config.Role", "", "required to create a function")
	}
	in := &awslambda.CreateFunctionInput{FunctionName: aws.String(fn), Role: cfg.Role, Publish: true,
		Description: cfg.Description, Handler: cfg.Handler, MemorySize: cfg.MemorySize, Timeout: cfg.Timeout, Layers: cfg.Layers,
		Architectures: cfg.Architectures, EphemeralStorage: cfg.EphemeralStorage, TracingConfig: cfg.TracingConfig,
		VpcConfig: cfg.VpcConfig, DeadLetterConfig: cfg.DeadLetterConfig, FileSystemConfigs: cfg.FileSystemConfigs,
		ImageConfig: cfg.ImageConfig, LoggingConfig: cfg.LoggingConfig, SnapStart: cfg.SnapStart, KMSKeyArn: cfg.KMSKeyArn,
		Tags: cfg.Tags, CapacityProviderConfig: cfg.CapacityProviderConfig, DurableConfig: cfg.DurableConfig,
		TenancyConfig: cfg.TenancyConfig, PackageType: cfg.PackageType, CodeSigningConfigArn: cfg.CodeSigningConfigArn,
		PublishTo: cfg.PublishTo}
	if cfg.Runtime != nil {
		in.Runtime = types.Runtime(*cfg.Runtime)
	}
	if cfg.Environment != nil {
		in.Environment = &types.Environment{Variables: cfg.Environment.Variables}
	}
	code := &types.FunctionCode{}
	switch src.kind {
	case sourceZip:
		code.ZipFile = src.zip
	case sourceS3:
		code.S3Bucket, code.S3Key = aws.String(src.bucket), aws.String(src.key)
		if src.objVer != "" {
			code.S3ObjectVersion = aws.String(src.objVer)
		}
	case sourceImage:
		code.ImageUri = aws.String(src.image)
		if in.PackageType == "" {
			in.PackageType = types.PackageTypeImage
		}
	case sourceVersion:
		return nil, src, deploy.Invalid("revision.id", src.version, "a new function has no versions; give its code")
	}
	in.Code = code
	if in.PackageType != types.PackageTypeImage && (in.Handler == nil || in.Runtime == "") {
		return nil, src, deploy.Invalid("config", "", "a zip function needs Handler and Runtime")
	}
	return in, src, nil
}

// ZipDir builds a deployment package of the regular files under dir, as
// lambroll's --src does: paths relative to dir, sorted, executable bits
// kept, modification times fixed (the same tree gives the same bytes, so
// an unchanged tree is recognized as the code the alias already runs).
// Files matching a pattern of dir/.lambdaignore (one filepath.Match
// pattern per line, matched against the relative path and the base name;
// # starts a comment) are left out, as is .lambdaignore itself. A missing
// or empty directory is a *deploy.ValidationError.
func ZipDir(dir string) ([]byte, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		msg := "not a directory"
		if err != nil {
			msg = err.Error()
		}
		return nil, deploy.Invalid("src", dir, msg)
	}
	ignore, err := readIgnore(filepath.Join(dir, ".lambdaignore"))
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignored(ignore, rel) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.Type().IsRegular() && rel != ".lambdaignore" {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, deploy.Invalid("src", dir, err.Error())
	}
	if len(files) == 0 {
		return nil, deploy.Invalid("src", dir, "no files to package")
	}
	slices.Sort(files)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	epoch := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, rel := range files {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		info, err := os.Stat(full)
		if err != nil {
			return nil, deploy.Invalid("src", full, err.Error())
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return nil, deploy.Invalid("src", full, err.Error())
		}
		h.Name, h.Method, h.Modified = rel, zip.Deflate, epoch
		h.SetMode(info.Mode().Perm() | 0o444)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(full)
		if err != nil {
			return nil, deploy.Invalid("src", full, err.Error())
		}
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func readIgnore(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, deploy.Invalid("src", file, err.Error())
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		l = strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/")
		if _, err := path.Match(l, ""); err != nil {
			return nil, deploy.Invalid("src", file, "bad pattern "+l)
		}
		out = append(out, l)
	}
	return out, nil
}

func ignored(patterns []string, rel string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, path.Base(rel)); ok {
			return true
		}
	}
	return false
}
