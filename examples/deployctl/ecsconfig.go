package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs"
	"github.com/switchyard/switchyard/ecs/ecspresso"
)

// extVars reads repeated NAME=VALUE flags.
func extVars(flagName string, l stringList) (map[string]string, error) {
	if len(l) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range l {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--%s wants NAME=VALUE, not %q", flagName, k)
		}
		m[k] = v
	}
	return m, nil
}

// renderOptions are the ecspresso options the flags give.
func (f *ecsFlags) renderOptions() (ecspresso.Options, error) {
	var o ecspresso.Options
	var err error
	if o.ExtStr, err = extVars("ext-str", f.extStr); err != nil {
		return o, err
	}
	if o.ExtCode, err = extVars("ext-code", f.extCode); err != nil {
		return o, err
	}
	o.LookupEnv, err = envFiles(f.envFiles)
	return o, err
}

// loadConfig reads --config, if given, and fills in what the flags that
// were not set leave to it: cluster, service and the definition files, the
// CodeDeploy names, and the region when --region was not given. Its
// tfstate states are read later (Config.LoadPlugins), once the region is
// known.
func (f *ecsFlags) loadConfig(a *app, set map[string]bool) (*ecspresso.Config, error) {
	if f.config == "" {
		return nil, nil
	}
	o, err := f.renderOptions()
	if err != nil {
		return nil, err
	}
	c, err := ecspresso.Read(f.config, o)
	if err != nil {
		return nil, err
	}
	if !set["cluster"] {
		f.cluster = c.Cluster
	}
	if !set["service"] {
		f.service = c.Service
	}
	if !set["task-definition"] {
		f.taskDef = c.TaskDefinitionPath
	}
	if !set["service-definition"] {
		f.serviceDef = c.ServiceDefinitionPath
	}
	if !set["codedeploy-application"] && c.CodeDeploy.ApplicationName != "" {
		f.cdApp = c.CodeDeploy.ApplicationName
	}
	if !set["codedeploy-deployment-group"] && c.CodeDeploy.DeploymentGroupName != "" {
		f.cdGroup = c.CodeDeploy.DeploymentGroupName
	}
	if a.region == "" {
		a.region = c.Region
	}
	if len(c.Ignored) > 0 {
		fmt.Fprintf(a.stderr, "deployctl ecs: %s: ignoring %s\n", f.config, strings.Join(c.Ignored, ", "))
	}
	return c, nil
}

// definitions renders the task and service definition files (the
// configuration's, or the flags') into o, so that a placeholder left in
// either is refused before any AWS call. A definition file that cannot be
// read is left to the driver, which names it.
func (f *ecsFlags) definitions(o *ecs.DeployOptions, conf *ecspresso.Config) error {
	ro, err := f.renderOptions()
	if err != nil {
		return err
	}
	renderFile := func(path string) ([]byte, error) {
		if conf != nil {
			return conf.RenderFile(path)
		}
		return ecspresso.RenderFile(path, ro)
	}
	if f.taskDef != "" && !o.SkipTaskDefinition {
		b, err := renderFile(f.taskDef)
		if err != nil && !isUnreadable(err) {
			return err
		}
		if err == nil {
			o.TaskDefinition, o.TaskDefinitionFile, o.TaskDefinitionSource = b, "", f.taskDef
		}
	}
	if f.serviceDef != "" {
		b, err := renderFile(f.serviceDef)
		if err != nil && !isUnreadable(err) {
			return err
		}
		if err == nil {
			o.ServiceDefinition, o.ServiceDefinitionFile = b, ""
		}
	}
	return nil
}

// isUnreadable says whether a render error is the file's absence.
func isUnreadable(err error) bool {
	var ve *deploy.ValidationError
	return errors.As(err, &ve) && ve.Field == "file"
}

// ecsRender prints the rendered configuration, task definition or service
// definition (ecspresso's render config|taskdef|servicedef; taskdef by
// default) with secret values redacted (see redactSecrets). It calls nothing that
// changes AWS: at most S3 reads of tfstate states.
func ecsRender(ctx context.Context, a *app, f ecsFlags, conf *ecspresso.Config) error {
	if len(f.renderTargets) == 0 {
		f.renderTargets = []string{"taskdef"}
	}
	if conf != nil && len(conf.Plugins) > 0 {
		cfg, err := a.awsConfig(ctx)
		if err != nil {
			return err
		}
		if err := conf.LoadPlugins(ctx, newS3(cfg, a.endpointURL)); err != nil {
			return err
		}
	}
	ro, err := f.renderOptions()
	if err != nil {
		return err
	}
	for _, t := range f.renderTargets {
		var doc []byte
		var path string
		switch t {
		case "config":
			if conf == nil {
				return usagef("render config needs --config")
			}
			doc, _ = json.MarshalIndent(map[string]any{"region": conf.Region, "cluster": conf.Cluster, "service": conf.Service,
				"task_definition": conf.TaskDefinitionPath, "service_definition": conf.ServiceDefinitionPath,
				"timeout": conf.Timeout.String(), "plugins": conf.Plugins}, "", "  ")
			doc = append(doc, '\n')
		case "taskdef", "servicedef":
			path = f.taskDef
			if t == "servicedef" {
				path = f.serviceDef
			}
			if path == "" {
				return usagef("render %s: no file (give --config or --%s)", t, map[string]string{"taskdef": "task-definition", "servicedef": "service-definition"}[t])
			}
			if conf != nil {
				doc, err = conf.RenderFile(path)
			} else {
				doc, err = ecspresso.RenderFile(path, ro)
			}
			if err != nil {
				return err
			}
			doc = redactSecrets(doc)
		default:
			return usagef("render what? %q (want config, taskdef or servicedef)", t)
		}
		if a.output == "json" {
			var c bytes.Buffer
			if json.Compact(&c, doc) == nil {
				a.jsonLine("status", map[string]any{"render": t, "document": json.RawMessage(c.Bytes())})
				continue
			}
		}
		a.mu.Lock()
		_, _ = a.stdout.Write(doc)
		a.mu.Unlock()
	}
	return nil
}

// redacted replaces secret values in rendered output.
const redacted = deploy.Redacted

// redactSecrets replaces, in a rendered definition, every value a plan
// would redact (deploy.SensitivePath of its path: containers' environment
// values, Lambda's Environment.Variables, anything under a key that looks
// secret, such as secrets[].valueFrom, repositoryCredentials, a docker
// label PASSWORD or a log option apikey) and the value of every
// {"name"|"key", "value"} pair whose name looks secret (a tag API_TOKEN):
// secrets are never printed. A document that is not JSON is returned as
// is.
func redactSecrets(doc []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return doc
	}
	v = redactValue(v, "")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(v) != nil {
		return doc
	}
	return b.Bytes()
}

// redactValue redacts v, found at path, and what it holds.
func redactValue(v any, path string) any {
	switch t := v.(type) {
	case map[string]any:
		pair := false
		for k, c := range t {
			if s, ok := c.(string); ok && (strings.EqualFold(k, "name") || strings.EqualFold(k, "key")) && deploy.SensitivePath(s) {
				pair = true
			}
		}
		for k, c := range t {
			if pair && strings.EqualFold(k, "value") {
				t[k] = redacted
				continue
			}
			t[k] = redactValue(c, path+"."+k)
		}
	case []any:
		for i, c := range t {
			t[i] = redactValue(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case nil:
	default:
		if deploy.SensitivePath(path) {
			return redacted
		}
	}
	return v
}

// newS3 returns the S3 client for tfstate states; path-style addressing
// when every call goes to one endpoint (an emulator).
func newS3(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// deployctl prints its own output; not the SDK's notes.
		o.DisableLogOutputChecksumValidationSkipped = true
		if endpoint != "" || cfg.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}

// withTimeoutFrom returns a context that ends d from now, or when ctx is
// cancelled for any reason but its own deadline: the configuration's
// timeout replaces deployctl's default rather than only shortening it.
func withTimeoutFrom(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	inner, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), d, fmt.Errorf("%w: the configuration's timeout of %s", context.DeadlineExceeded, d))
	inner, cancelCause := context.WithCancelCause(inner)
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancelCause(context.Cause(ctx))
		}
	})
	return inner, func() {
		stop()
		cancelCause(nil)
		cancel()
	}
}

// negation is the --no-X (or --X for a --no-X flag) form of a boolean
// flag, as ecspresso accepts them: it sets the flag to the opposite.
type negation struct{ of flag.Value }

func (n negation) String() string { return "" }

// Set sets the negated flag.
func (n negation) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	return n.of.Set(strconv.FormatBool(!b))
}

// IsBoolFlag lets the flag be given without a value.
func (n negation) IsBoolFlag() bool { return true }

// addNegations gives every boolean flag of fs its negated form (--wait
// for --no-wait, --no-wait for --wait, --no-deregister, ...), unless fs
// already has a flag of that name.
func addNegations(fs *flag.FlagSet) {
	var bools []*flag.Flag
	fs.VisitAll(func(fl *flag.Flag) {
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if _, neg := fl.Value.(negation); !neg {
				bools = append(bools, fl)
			}
		}
	})
	for _, fl := range bools {
		name := "no-" + fl.Name
		if n, ok := strings.CutPrefix(fl.Name, "no-"); ok {
			name = n
		}
		if fs.Lookup(name) == nil {
			fs.Var(negation{fl.Value}, name, "negation of --"+fl.Name)
		}
	}
}

// envFiles returns a LookupEnv that reads KEY=VALUE lines of files (as
// ecspresso's and lambroll's --envfile; later files win) over the
// process environment, without changing the process's environment. Blank
// lines and # comments are skipped; values may be quoted.
func envFiles(files []string) (func(string) (string, bool), error) {
	if len(files) == 0 {
		return nil, nil
	}
	vars := map[string]string{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, deploy.Invalid("envfile", file, err.Error())
		}
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			line = strings.TrimPrefix(line, "export ")
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, deploy.Invalid("envfile", file, fmt.Sprintf("line %d is not KEY=VALUE", i+1))
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			vars[k] = v
		}
	}
	return func(k string) (string, bool) {
		if v, ok := vars[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}, nil
}
