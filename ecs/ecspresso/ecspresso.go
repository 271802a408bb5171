// Package ecspresso reads ecspresso's configuration file (ecspresso.yml,
// .yaml, .json or .jsonnet) and the task and service definitions it names,
// rendered as ecspresso renders them, and turns them into the ecs driver's
// options. It never prints and makes no AWS call except reading Terraform
// states from S3 for the tfstate plugin.
//
// The configuration itself is rendered as a Go template with env and
// must_env (and json_escape) before it is parsed. Definition files are
// rendered with those functions plus tfstate and tfstatef of each tfstate
// plugin (under its func_prefix); .jsonnet files are evaluated first with
// the same functions as native functions (std.native("must_env")). A
// must_env of an unset variable, or a "{{" left in any rendered file, is a
// *deploy.ValidationError.
package ecspresso

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs"
	"github.com/switchyard/switchyard/internal/render"
)

// S3Client is the S3 call the tfstate plugin makes for a state in S3.
// *s3.Client from aws-sdk-go-v2 satisfies it.
type S3Client interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options say where Load reads its inputs. The zero value reads the process
// environment and refuses states in S3.
type Options struct {
	// LookupEnv reads environment variables for env and must_env. Default
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// S3 reads tfstate plugin states at s3:// URLs. Nil refuses them.
	S3 S3Client
	// ExtStr and ExtCode are Jsonnet external variables (ecspresso's
	// --ext-str and --ext-code).
	ExtStr, ExtCode map[string]string
}

// Plugin is one entry of the configuration's plugins.
type Plugin struct {
	// Name is the plugin's name; "tfstate" is supported.
	Name string
	// FuncPrefix prefixes the plugin's template function names.
	FuncPrefix string
	// Config is the plugin's configuration (for tfstate: url or path).
	Config map[string]any
}

// CodeDeploy is the configuration's codedeploy section.
type CodeDeploy struct {
	// ApplicationName is codedeploy.application_name.
	ApplicationName string
	// DeploymentGroupName is codedeploy.deployment_group_name.
	DeploymentGroupName string
}

// Config is an ecspresso configuration, its paths made relative to the
// working directory (or absolute).
type Config struct {
	// Path is the configuration file.
	Path string
	// Region, Cluster and Service name the service. Cluster defaults to
	// ecs.DefaultCluster.
	Region, Cluster, Service string
	// TaskDefinitionPath and ServiceDefinitionPath are the definition
	// files; empty when the configuration names none.
	TaskDefinitionPath, ServiceDefinitionPath string
	// Timeout is the configuration's timeout; zero when it sets none.
	Timeout time.Duration
	// RequiredVersion is ecspresso's required_version, kept for reference.
	RequiredVersion string
	// CodeDeploy names the CodeDeploy application and deployment group of
	// a CODE_DEPLOY-controller service.
	CodeDeploy CodeDeploy
	// Plugins are the configuration's plugins.
	Plugins []Plugin
	// Ignored lists the configuration's keys this package does not use
	// (such as filter_command or appspec), sorted, so a caller can say so.
	Ignored []string

	render render.Options
}

// known are the configuration keys Load reads.
var known = []string{"region", "cluster", "service", "service_definition", "task_definition", "timeout",
	"plugins", "required_version", "codedeploy"}

// Load reads and renders the configuration at path and loads the states
// of its tfstate plugins (relative paths are relative to the file's
// directory): Read, then LoadPlugins with o.S3. Bad input is a
// *deploy.ValidationError; a state that cannot be read from S3 is the S3
// error, wrapped.
func Load(ctx context.Context, path string, o Options) (*Config, error) {
	c, err := Read(path, o)
	if err != nil {
		return nil, err
	}
	if err := c.LoadPlugins(ctx, o.S3); err != nil {
		return nil, err
	}
	return c, nil
}

// Read reads and renders the configuration at path, with no AWS call: its
// tfstate functions are unavailable until LoadPlugins (a caller that needs
// the configuration's region to make an S3 client reads it here first).
// Relative definition paths become relative to the file's directory.
func Read(path string, o Options) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, deploy.Invalid("config", path, err.Error())
	}
	ro := render.Options{LookupEnv: o.LookupEnv, ExtStr: o.ExtStr, ExtCode: o.ExtCode}
	data, err := render.File(path, raw, ro)
	if err != nil {
		return nil, err
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&c.TaskDefinitionPath, &c.ServiceDefinitionPath} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	c.render = ro
	return c, nil
}

// LoadPlugins reads the states of the configuration's tfstate plugins (a
// path relative to the configuration's directory, file://, or s3:// read
// through s3c, which may be nil when no state is in S3), making their
// functions available to the definitions.
func (c *Config) LoadPlugins(ctx context.Context, s3c S3Client) error {
	dir := filepath.Dir(c.Path)
	c.render.States = nil
	for i, p := range c.Plugins {
		loc, _ := p.Config["url"].(string)
		if loc == "" {
			loc, _ = p.Config["path"].(string)
		}
		if loc == "" {
			return deploy.Invalid(fmt.Sprintf("config.plugins[%d].config", i), "", "tfstate needs url or path")
		}
		var get render.S3Getter
		if s3c != nil {
			get = s3c
		}
		st, err := render.LoadTFState(ctx, loc, dir, get)
		if err != nil {
			return err
		}
		c.render.States = append(c.render.States, render.State{Prefix: p.FuncPrefix, State: st})
	}
	return nil
}

// Parse reads a rendered configuration (YAML or JSON); path names it in
// errors and is kept as Config.Path. Paths in it are left as written.
// Unknown keys are listed in Config.Ignored; known keys of the wrong type,
// a bad timeout, a plugin other than tfstate, or a missing service are a
// *deploy.ValidationError.
func Parse(path string, data []byte) (*Config, error) {
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, deploy.Invalid("config", path, "malformed: "+firstLine(err.Error()))
	}
	c := &Config{Path: path, Cluster: ecs.DefaultCluster}
	str := func(key string, dst *string) error {
		v, ok := m[key]
		if !ok || v == nil {
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return deploy.Invalid("config."+key, fmt.Sprint(v), "must be a string")
		}
		*dst = s
		return nil
	}
	for k, dst := range map[string]*string{"region": &c.Region, "cluster": &c.Cluster, "service": &c.Service,
		"service_definition": &c.ServiceDefinitionPath, "task_definition": &c.TaskDefinitionPath, "required_version": &c.RequiredVersion} {
		if err := str(k, dst); err != nil {
			return nil, err
		}
	}
	if c.Cluster == "" {
		c.Cluster = ecs.DefaultCluster
	}
	if v, ok := m["timeout"]; ok && v != nil {
		d, err := parseTimeout(v)
		if err != nil {
			return nil, err
		}
		c.Timeout = d
	}
	if v, ok := m["codedeploy"]; ok && v != nil {
		cd, ok := v.(map[string]any)
		if !ok {
			return nil, deploy.Invalid("config.codedeploy", "", "must be a mapping")
		}
		c.CodeDeploy.ApplicationName, _ = cd["application_name"].(string)
		c.CodeDeploy.DeploymentGroupName, _ = cd["deployment_group_name"].(string)
	}
	if v, ok := m["plugins"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			return nil, deploy.Invalid("config.plugins", "", "must be a list")
		}
		for i, e := range list {
			pm, ok := e.(map[string]any)
			if !ok {
				return nil, deploy.Invalid(fmt.Sprintf("config.plugins[%d]", i), "", "must be a mapping")
			}
			p := Plugin{}
			p.Name, _ = pm["name"].(string)
			p.FuncPrefix, _ = pm["func_prefix"].(string)
			p.Config, _ = pm["config"].(map[string]any)
			if p.Name != "tfstate" {
				return nil, deploy.Invalid(fmt.Sprintf("config.plugins[%d].name", i), p.Name, "only the tfstate plugin is supported")
			}
			c.Plugins = append(c.Plugins, p)
		}
	}
	for k := range m {
		if !slices.Contains(known, k) {
			c.Ignored = append(c.Ignored, k)
		}
	}
	slices.Sort(c.Ignored)
	if c.Service == "" {
		return nil, deploy.Invalid("config.service", "", "required")
	}
	return c, nil
}

// parseTimeout reads a duration ("10m", "1h30m") or a number of seconds.
func parseTimeout(v any) (time.Duration, error) {
	var d time.Duration
	var err error
	switch t := v.(type) {
	case string:
		d, err = time.ParseDuration(t)
		if err != nil {
			var n int
			if n, err = strconv.Atoi(t); err == nil {
				d = time.Duration(n) * time.Second
			}
		}
	case int:
		d = time.Duration(t) * time.Second
	case float64:
		d = time.Duration(t * float64(time.Second))
	default:
		err = fmt.Errorf("type %T", v)
	}
	if err != nil || d < 0 {
		return 0, deploy.Invalid("config.timeout", fmt.Sprint(v), "want a duration such as 10m")
	}
	return d, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Target is the configuration's service as a deploy target.
func (c *Config) Target() deploy.Target { return ecs.Target(c.Cluster, c.Service) }

// RenderTaskDefinition reads and renders the task definition file. It is
// nil (and no error) when the configuration names none.
func (c *Config) RenderTaskDefinition() ([]byte, error) {
	return c.renderFile(c.TaskDefinitionPath)
}

// RenderServiceDefinition reads and renders the service definition file.
// It is nil (and no error) when the configuration names none.
func (c *Config) RenderServiceDefinition() ([]byte, error) {
	return c.renderFile(c.ServiceDefinitionPath)
}

// RenderFile reads and renders any definition file with the
// configuration's functions (a flag's file that overrides the
// configuration's, say).
func (c *Config) RenderFile(path string) ([]byte, error) { return c.renderFile(path) }

func (c *Config) renderFile(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := render.ReadFile(path, c.render)
	if err != nil {
		return nil, err
	}
	// A result that is not JSON is left for the driver to refuse, with
	// its own message; JSON is indented for people to read.
	return indent(b), nil
}

func indent(b []byte) []byte {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return b
	}
	return append(out.Bytes(), '\n')
}

// DeployOptions renders both definition files into ecs.DeployOptions
// (TaskDefinition and ServiceDefinition hold the rendered JSON) with the
// configuration's CodeDeploy names. A caller layers its own flags on top.
func (c *Config) DeployOptions() (ecs.DeployOptions, error) {
	var o ecs.DeployOptions
	td, err := c.RenderTaskDefinition()
	if err != nil {
		return o, err
	}
	sd, err := c.RenderServiceDefinition()
	if err != nil {
		return o, err
	}
	o.TaskDefinition, o.ServiceDefinition = td, sd
	if td != nil {
		o.TaskDefinitionSource = c.TaskDefinitionPath
	}
	o.CodeDeployApplication, o.CodeDeployDeploymentGroup = c.CodeDeploy.ApplicationName, c.CodeDeploy.DeploymentGroupName
	return o, nil
}

// LoadDeployOptions is Load followed by Config.DeployOptions: the
// deployment an ecspresso configuration file describes, with its target.
func LoadDeployOptions(ctx context.Context, path string, o Options) (ecs.DeployOptions, *Config, error) {
	c, err := Load(ctx, path, o)
	if err != nil {
		return ecs.DeployOptions{}, nil, err
	}
	do, err := c.DeployOptions()
	return do, c, err
}

// RenderFile reads and renders a definition file outside any
// configuration: env, must_env and json_escape (and Jsonnet's natives),
// without tfstate.
func RenderFile(path string, o Options) ([]byte, error) {
	c := &Config{render: render.Options{LookupEnv: o.LookupEnv, ExtStr: o.ExtStr, ExtCode: o.ExtCode}}
	return c.renderFile(path)
}
