package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	owtypes "github.com/aws/aws-sdk-go-v2/service/opsworks/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/opsworksserver"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/opsworks/opsworksfake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
	"github.com/switchyard/switchyard/store/localstore"
)

// canaries are the secret values a test plants: each distinct, each
// recognisable in any output, with what it stands for.
type canaries struct {
	values []string
	what   map[string]string
	// kept are the canaries the store may keep: what a driver needs to
	// deploy a revision again.
	kept map[string]bool
}

// secret returns a new canary standing for what.
func (c *canaries) secret(what string) string {
	if c.what == nil {
		c.what = map[string]string{}
	}
	sum := sha256.Sum256([]byte(what))
	v := fmt.Sprintf("sekrit-%02d-canary-%x", len(c.values)+1, sum[:4])
	c.values = append(c.values, v)
	c.what[v] = what
	return v
}

// window is the length of the shortest piece of a canary that counts as
// a leak.
const window = 8

// forms returns the ways a canary can be shown that count as showing it:
// every substring of window bytes (a longer substring holds one), its hex,
// and its base64 (standard and URL alphabets) at each of the three byte
// alignments it can have inside a longer encoded text, less the
// characters that depend on its neighbours.
func forms(v string) []string {
	var out []string
	for i := 0; i+window <= len(v); i++ {
		out = append(out, v[i:i+window])
	}
	out = append(out, hex.EncodeToString([]byte(v)), strings.ToUpper(hex.EncodeToString([]byte(v))))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for pad := range 3 {
			s := enc.EncodeToString(append(make([]byte, pad), v...))
			skip := 0
			if pad > 0 {
				skip = 4 // the group shared with the bytes before
			}
			if mid := s[skip : len(s)-4]; len(mid) >= window {
				out = append(out, mid)
			}
		}
	}
	return out
}

// keptSecret is secret for a canary the store may keep.
func (c *canaries) keptSecret(what string) string {
	v := c.secret(what)
	if c.kept == nil {
		c.kept = map[string]bool{}
	}
	c.kept[v] = true
	return v
}

// leaks lists every canary that out shows in any of its forms, but those
// in except. A canary shown whole is reported as itself; the output is
// then searched, with the canaries shown whole masked, for the pieces and
// encodings of any canary (canaries share their "sekrit-" prefix, so a
// piece is reported once).
func (c *canaries) leaks(out string, except map[string]bool) []string {
	var found []string
	around := func(s string, i, n int) string {
		return strings.ToValidUTF8(s[max(0, i-60):min(len(s), i+n+60)], "?")
	}
	masked := out
	for _, v := range c.values {
		if i := strings.Index(masked, v); i >= 0 {
			if !except[v] {
				found = append(found, fmt.Sprintf("%s (%s) in …%s…", v, c.what[v], around(out, i, len(v))))
			}
			masked = strings.ReplaceAll(masked, v, strings.Repeat("\x00", len(v)))
		}
	}
	seen := map[string]bool{}
	for _, v := range c.values {
		for _, f := range forms(v) {
			if i := strings.Index(masked, f); i >= 0 && !seen[f] {
				seen[f] = true
				found = append(found, fmt.Sprintf("%q, a piece or an encoding of %s (%s), in …%s…", f, v, c.what[v], around(out, i, len(f))))
				break
			}
		}
	}
	return found
}

// TestCanaryForms proves the search finds a canary however it is shown,
// and finds nothing in output that only names secrets.
func TestCanaryForms(t *testing.T) {
	var c canaries
	v := c.secret("test")
	for name, out := range map[string]string{
		"whole":     "password: " + v,
		"quoted":    fmt.Sprintf("%q", v),
		"prefix":    v[:window] + "…",
		"suffix":    "…" + v[len(v)-window:],
		"hex":       hex.EncodeToString([]byte("x" + v + "y")),
		"base64":    base64.StdEncoding.EncodeToString([]byte(v)),
		"base64+1":  base64.StdEncoding.EncodeToString([]byte("{" + v + "}")),
		"base64+2":  base64.RawURLEncoding.EncodeToString([]byte("{\"" + v + "\"}")),
		"base64+3":  base64.StdEncoding.EncodeToString([]byte("abc" + v)),
		"in a diff": "environment[0].value: (redacted) -> " + v,
	} {
		if len(c.leaks(out, nil)) == 0 {
			t.Errorf("%s: %q not found", name, out)
		}
	}
	for _, out := range []string{"", "environment[0].value: (redacted) -> (redacted)", "DB_PASSWORD API_TOKEN", "sekrit-", v[:window-1], v[len(v)-window+1:]} {
		if l := c.leaks(out, nil); len(l) > 0 {
			t.Errorf("%q: found %v", out, l)
		}
	}
}

// secretOpsWorks is an OpsWorks whose stack and apps hold secrets where
// users keep them: the stack's CustomJson, the apps' environment (secure
// and not), SSL private key and source password, and credentials in some
// apps' source URLs. It answers them unfiltered (OpsWorks filters the
// password and secure values; a proxy or an older API might not), and
// the deployments it describes carry their CustomJson as OpsWorks's do.
type secretOpsWorks struct {
	*opsworksfake.Fake
	stackJSON, password string
	env                 []owtypes.EnvironmentVariable
	ssl                 *owtypes.SslConfiguration
	// sources replace the sources of these apps: URLs with credentials,
	// set outside deployctl.
	sources map[string]owtypes.Source
}

// DescribeStacks adds the stack's CustomJson.
func (s *secretOpsWorks) DescribeStacks(ctx context.Context, in *awsopsworks.DescribeStacksInput, opts ...func(*awsopsworks.Options)) (*awsopsworks.DescribeStacksOutput, error) {
	out, err := s.Fake.DescribeStacks(ctx, in, opts...)
	if err == nil {
		for i := range out.Stacks {
			out.Stacks[i].CustomJson = aws.String(s.stackJSON)
		}
	}
	return out, err
}

// DescribeApps adds the app's environment, SSL configuration and source
// password.
func (s *secretOpsWorks) DescribeApps(ctx context.Context, in *awsopsworks.DescribeAppsInput, opts ...func(*awsopsworks.Options)) (*awsopsworks.DescribeAppsOutput, error) {
	out, err := s.Fake.DescribeApps(ctx, in, opts...)
	if err == nil {
		for i := range out.Apps {
			a := &out.Apps[i]
			a.Environment, a.SslConfiguration, a.EnableSsl = s.env, s.ssl, aws.Bool(true)
			if a.AppSource != nil {
				src := *a.AppSource
				if o, ok := s.sources[aws.ToString(a.AppId)]; ok {
					src = o
				}
				src.Username, src.Password = aws.String("deployer"), aws.String(s.password)
				a.AppSource = &src
			}
		}
	}
	return out, err
}

// secretStep is one deployctl run of the secrets test.
type secretStep struct {
	// name names the subtest.
	name string
	// args are deployctl's arguments after --output and --store; lazy,
	// when set, computes them when the step runs (a deployment ID).
	args []string
	lazy func(t *testing.T) []string
	// code is the exit status the step must end with, so that a step that
	// fails early cannot pass by printing nothing.
	code int
	// want, when set, must be in stdout or stderr: the step reached the
	// output that would show the secret (a diff, a refusal); wantJSON
	// stands in for it with --output json when the words differ.
	want, wantJSON string
	// before and after set the platform up for the step and tidy after it.
	before, after func(t *testing.T)
	// cutCleanup cuts the engine's cleanup short, as a second signal does:
	// for a deployment the platform never finishes (moto's ECS rollouts).
	cutCleanup bool
}

// secretsEnv is one set of platforms and files full of secrets: moto for
// ECS, Lambda and DynamoDB, codedeployserver for EC2 (one on the wall
// clock, one on a manual clock for stop and continue) and opsworksserver
// for OpsWorks.
type secretsEnv struct {
	t      *testing.T
	c      canaries
	dir    string
	store  string
	moto   string
	cd     string
	cdm    string
	cdFake *codedeployfake.Fake
	cdMan  *codedeployfake.Fake
	clk    *deploytest.Clock
	ow     string
	lc     *awslambda.Client
}

// write writes body to name in the environment's directory and returns
// its path.
func (e *secretsEnv) write(name, body string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// zip writes a Lambda package whose handler returns n.
func (e *secretsEnv) zip(n int) string {
	return e.write(fmt.Sprintf("code-%d.zip", n), string(lambdaZip(e.t, fmt.Sprintf("return %d", n))))
}

// on prefixes args with --endpoint-url url.
func on(url string, args ...string) []string { return append([]string{"--endpoint-url", url}, args...) }

// newSecretsEnv starts the platforms, plants secrets in what they run and
// in every file a user gives deployctl, and returns the steps that run
// every command against them.
func newSecretsEnv(t *testing.T) (*secretsEnv, []secretStep) {
	e := &secretsEnv{t: t, dir: t.TempDir(), store: t.TempDir()}
	ctx := context.Background()
	srv, lc, _, _ := lambdaOnMoto(t)
	e.moto, e.lc = srv.URL, lc
	e.cdFake, e.cd = cliEnv(t, nil)
	e.clk = deploytest.NewClock(deploytest.Epoch())
	e.cdMan, e.cdm = cliEnv(t, e.clk)
	s := &e.c

	// Lambda: version 2 of app, behind alias live, has secrets in its
	// environment; the function files change some, keep one, drop one.
	fnOld := map[string]string{"DB_PASSWORD": s.secret("lambda env value, old, changed"), "SHARED_TOKEN": s.secret("lambda env value, unchanged"),
		"OLD_API_KEY": s.secret("lambda env value, removed"), "PLAIN": s.secret("lambda env value under a plain name, old")}
	if _, err := lc.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("app"),
		Environment: &lambdatypes.Environment{Variables: fnOld}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("app"),
		ZipFile: lambdaZip(t, "return 20"), Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"),
		FunctionVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FN_DB_PASSWORD", s.secret("lambda env value, new, from must_env"))
	fnEnvfile := e.write("fn.env", "FN_PLAIN="+s.secret("lambda env value, new, from --envfile")+"\n")
	fnFile := func(name, fn, extra string) string {
		return e.write(name, `{
  "FunctionName": "`+fn+`", "Handler": "index.handler", "Runtime": "python3.12",
  "Role": "arn:aws:iam::123456789012:role/r", "MemorySize": 128, "Timeout": 5,`+extra+`
  "Environment": {"Variables": {"DB_PASSWORD": "{{ must_env "FN_DB_PASSWORD" }}", "SHARED_TOKEN": "`+fnOld["SHARED_TOKEN"]+`",
    "PLAIN": "{{ env "FN_PLAIN" "none" }}", "NEW_SECRET": "`+s.secret("lambda env value, added, literal")+`"}},
  "Tags": {"API_TOKEN": "`+s.secret("lambda tag under a secret key")+`"}
}`)
	}
	fj := fnFile("function.json", "app", "")
	fjFresh := fnFile("fresh.json", "fresh", "")
	fjBad := fnFile("bad-memory.json", "app", ` "EphemeralStorage": {"Size": 1},`)
	fjUnset := e.write("unset.json", `{"FunctionName": "app", "Environment": {"Variables": {"A": "`+s.secret("lambda env value beside an unset one")+
		`", "B": "{{ must_env "FN_NEVER_SET" }}"}}}`)
	fjBroken := e.write("broken.json", `{"FunctionName": "app", "Environment": {"Variables": {"A": "{{ must_env "FN_DB_PASSWORD" }}" "B": 1}}}`)
	fjn := e.write("function.jsonnet", `local must_env = std.native('must_env');
{
  FunctionName: 'app', Handler: 'index.handler', Runtime: 'python3.12', Role: 'arn:aws:iam::123456789012:role/r',
  Environment: { Variables: { DB_PASSWORD: must_env('FN_DB_PASSWORD'), EXT_TOKEN: std.extVar('FN_EXT') } },
}`)
	fnExt := "FN_EXT=" + s.secret("lambda env value from --ext-str")
	fjnBad := e.write("bad.jsonnet", `local must_env = std.native('must_env');
{ FunctionName: 'app', MemorySize: std.parseInt(must_env('FN_DB_PASSWORD')) }`)
	fjNumber := e.write("number.json", `{"FunctionName": "app", "MemorySize": "{{ must_env "FN_DB_PASSWORD" }}"}`)
	dynamo := "dynamodb://deployctl-secrets"
	fn := func(cmd string, args ...string) []string {
		return on(e.moto, append([]string{"lambda", cmd, "--function", "app", "--alias", "live"}, args...)...)
	}
	lambdaDeploy := func(args ...string) []string { return fn("deploy", args...) }

	// ECS: service prod/web runs a task definition with secrets in every
	// place a task definition takes one; the next one changes some, keeps
	// some, drops one and adds one.
	if _, err := awsecs.NewFromConfig(srv.Config()).CreateCluster(ctx, &awsecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	ecsShared, ecsRepo, ecsLogSecret := s.secret("ecs env value, unchanged"), s.secret("ecs repositoryCredentials"), s.secret("ecs log secretOptions valueFrom")
	taskDef := func(name, image, tag, dbPassword, last, valueFrom, label, apiKey string) string {
		return e.write(name, fmt.Sprintf(`{"family": "web", "tags": [{"key": "API_TOKEN", "value": %q}],
  "containerDefinitions": [{"name": "app", "image": %q, "memory": 128,
    "environment": [{"name": "DB_PASSWORD", "value": %q}, {"name": "SHARED", "value": %q}, %s],
    "secrets": [{"name": "API_KEY", "valueFrom": %q}],
    "dockerLabels": {"PASSWORD": %q, "team": "web"},
    "repositoryCredentials": {"credentialsParameter": %q},
    "logConfiguration": {"logDriver": "awsfirelens", "options": {"apikey": %q, "Name": "datadog"},
      "secretOptions": [{"name": "dd_token", "valueFrom": %q}]}}]}`,
			tag, image, dbPassword, ecsShared, last, valueFrom, label, ecsRepo, apiKey, ecsLogSecret))
	}
	tdOld := taskDef("td-old.json", "nginx:1", s.secret("ecs tag under a secret key, old"), s.secret("ecs env value, old, changed"),
		fmt.Sprintf(`{"name": "GONE", "value": %q}`, s.secret("ecs env value, removed")), s.secret("ecs secrets valueFrom, old"),
		s.secret("ecs docker label PASSWORD, old"), s.secret("ecs log option apikey, old"))
	tdNew := taskDef("td-new.json", "nginx:2", s.secret("ecs tag under a secret key, new"), s.secret("ecs env value, new, changed"),
		fmt.Sprintf(`{"name": "ADDED", "value": %q}`, s.secret("ecs env value, added")), s.secret("ecs secrets valueFrom, new"),
		s.secret("ecs docker label PASSWORD, new"), s.secret("ecs log option apikey, new"))
	tdBad := e.write("td-bad.json", fmt.Sprintf(`{"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx:1", "memory": 1,
  "environment": [{"name": "DB_PASSWORD", "value": %q}]}]}`, s.secret("ecs env value in a refused task definition")))
	sd := e.write("svc.json", fmt.Sprintf(`{"serviceName": "web", "desiredCount": 1, "tags": [{"key": "DEPLOY_TOKEN", "value": %q}]}`,
		s.secret("ecs service tag under a secret key")))
	// ecspresso's files: a configuration, templated definitions reading
	// secrets from the environment and an envfile, and Jsonnet.
	t.Setenv("WEB_DB_PASSWORD", s.secret("ecs env value from must_env"))
	t.Setenv("WEB_LABEL_PASSWORD", s.secret("ecs docker label from must_env"))
	ecsEnvfile := e.write("ecs/.env", "WEB_TOKEN="+s.secret("ecs env value from --envfile")+"\n")
	e.write("ecs/ecs-task-def.json", `{"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx:3", "memory": 128,
  "environment": [{"name": "DB_PASSWORD", "value": "{{ must_env "WEB_DB_PASSWORD" }}"}, {"name": "SHARED", "value": "`+ecsShared+`"},
    {"name": "WEB_TOKEN", "value": "{{ env "WEB_TOKEN" "none" }}"}],
  "dockerLabels": {"PASSWORD": "{{ must_env "WEB_LABEL_PASSWORD" }}"}}]}`)
	e.write("ecs/ecs-service-def.json", `{"desiredCount": 1, "tags": [{"key": "DEPLOY_TOKEN", "value": "{{ must_env "WEB_DB_PASSWORD" }}"}]}`)
	tdJsonnet := e.write("ecs/ecs-task-def.jsonnet", `local must_env = std.native('must_env');
{
  family: 'web',
  containerDefinitions: [{ name: 'app', image: 'nginx:4', memory: 128,
    environment: [{ name: 'DB_PASSWORD', value: must_env('WEB_DB_PASSWORD') }, { name: 'EXT', value: std.extVar('WEB_EXT') }] }],
}`)
	ecsExt := "WEB_EXT=" + s.secret("ecs env value from --ext-str")
	tdJsonnetBad := e.write("ecs/bad.jsonnet", `local must_env = std.native('must_env');
{ family: 'web', containerDefinitions: [{ name: 'app', image: 'nginx', memory: std.parseInt(must_env('WEB_DB_PASSWORD')) }] }`)
	tdExtCode := e.write("ecs/ext-code.jsonnet", `{ family: 'web', containerDefinitions: [{ name: 'app', image: 'nginx', memory: 128,
  environment: [{ name: 'DB_PASSWORD', value: std.extVar('WEB_CODE').password }] }] }`)
	ecsExtCode := "WEB_CODE={password: '" + s.secret("ecs env value from a broken --ext-code") + "'"
	tdExtCodeBad := e.write("ecs/ext-code-bad.jsonnet", `{ family: 'web', containerDefinitions: [{ name: 'app', image: 'nginx',
  memory: std.parseInt(std.extVar('WEB_CODE').password) }] }`)
	ecsExtCodeOK := `WEB_CODE={password: "` + s.secret("ecs value from --ext-code") + `"}`
	conf := e.write("ecs/ecspresso.yml", "region: us-east-1\ncluster: prod\nservice: web\ntask_definition: ecs-task-def.json\nservice_definition: ecs-service-def.json\n")
	tdUnset := e.write("ecs/td-unset.json", `{"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx:1", "memory": 128,
  "environment": [{"name": "A", "value": "{{ must_env "WEB_DB_PASSWORD" }}"}, {"name": "B", "value": "{{ must_env "WEB_NEVER_SET" }}"}]}]}`)
	tdBroken := e.write("ecs/td-broken.json", `{"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx:1", "memory": 128,
  "environment": [{"name": "A", "value": "{{ must_env "WEB_DB_PASSWORD" }}" "oops"}]}]}`)
	tdLeftover := e.write("ecs/td-leftover.json", `{"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx:1", "memory": 128,
  "environment": [{"name": "A", "value": "{{ must_env "WEB_DB_PASSWORD" }} {{ "{{" }} x }}"}]}]}`)
	svc := []string{"--cluster", "prod", "--service", "web"}
	ecs := func(cmd string, args ...string) []string {
		return on(e.moto, append(append([]string{"ecs", cmd}, svc...), args...)...)
	}

	// EC2: the revision is an AppSpec given inline; a secret-looking S3
	// URL is refused.
	appspec := e.write("appspec.yml", "version: 0.0\nos: linux\n# deploy token: "+s.keptSecret("ec2 appspec content")+"\nhooks: {}\n")
	appspec2 := e.write("appspec2.yml", "version: 0.0\nos: linux\n# deploy token: "+s.keptSecret("ec2 appspec content, second")+"\nhooks: {}\n")
	s3Token := "s3://b/v2.zip?X-Amz-Security-Token=" + s.secret("ec2 S3 URL query credentials")
	grp := []string{"--application", "app", "--group", "web"}
	ec2 := func(cmd string, args ...string) []string {
		return on(e.cd, append(append([]string{"ec2", cmd}, grp...), args...)...)
	}
	lastEC2 := func(t *testing.T, f *codedeployfake.Fake, group string) string {
		out, err := f.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String(group)})
		if err != nil || len(out.Deployments) == 0 {
			t.Fatalf("no deployment of app/%s: %v", group, err)
		}
		return out.Deployments[0]
	}
	var live string
	// Lambda through CodeDeploy, on the manual-clock CodeDeploy: a
	// deployment of app:live to stop and show.
	e.cdMan.AddGroup(codedeployfake.Group{Application: "fn", Name: "live", ComputePlatform: cdtypes.ComputePlatformLambda, Targets: []string{"app:live"}})
	var lambdaCD string
	lambdaCDDeployment := func(t *testing.T) {
		spec := `{"version":0.0,"Resources":[{"app":{"Type":"AWS::Lambda::Function","Properties":{"Name":"app","Alias":"live","CurrentVersion":"1","TargetVersion":"2"}}}]}`
		out, err := e.cdMan.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("fn"),
			DeploymentGroupName: aws.String("live"), DeploymentConfigName: aws.String("CodeDeployDefault.LambdaCanary10Percent5Minutes"),
			Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
				AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(spec)}}})
		if err != nil {
			t.Fatal(err)
		}
		lambdaCD = aws.ToString(out.DeploymentId)
		e.clk.Advance(3 * time.Second)
	}
	lambdaCDArgs := func(cmd string) func(*testing.T) []string {
		return func(*testing.T) []string {
			return on(e.cdm, "lambda", cmd, "--function", "app", "--alias", "live", "--codedeploy", "fn/live", "--deployment-id", lambdaCD)
		}
	}

	// OpsWorks: the stack, app and deployments hold secrets.
	owFake := opsworksfake.New(opsworksfake.Options{Step: time.Nanosecond})
	owFake.AddStack("s-1")
	owFake.AddLayer("s-1", "web")
	owFake.AddInstance("s-1", "i-1", "web")
	owFake.AddInstance("s-1", "i-2", "web")
	owFake.AddInstance("s-1", "i-3")
	owFake.AddApp("s-1", "a-1", "v1", true)
	owFake.AddApp("s-1", "a-2", "v1", true)
	owFake.AddApp("s-1", "a-3", "v1", true)
	ow := opsworksserver.Start(t, &secretOpsWorks{Fake: owFake,
		stackJSON: `{"db": {"password": "` + s.secret("opsworks stack CustomJson") + `"}}`,
		password:  s.secret("opsworks app source password"),
		env: []owtypes.EnvironmentVariable{{Key: aws.String("DB_PASSWORD"), Value: aws.String(s.secret("opsworks app env value, secure")), Secure: aws.Bool(true)},
			{Key: aws.String("PLAIN"), Value: aws.String(s.secret("opsworks app env value, not secure")), Secure: aws.Bool(false)}},
		ssl: &owtypes.SslConfiguration{Certificate: aws.String("-----BEGIN CERTIFICATE-----"),
			PrivateKey: aws.String(s.secret("opsworks app SSL private key")), Chain: aws.String("")},
		sources: map[string]owtypes.Source{
			"a-2": {Type: owtypes.SourceTypeS3, Url: aws.String("https://code.s3.amazonaws.com/a-2.zip?X-Amz-Security-Token=" +
				s.secret("opsworks app source URL session token") + "&X-Amz-Signature=" + s.secret("opsworks app source URL signature"))},
			"a-3": {Type: owtypes.SourceTypeGit, Url: aws.String("https://deployer:" + s.secret("opsworks app source URL password") + "@git.example.com/a-3.git")},
		}})
	e.ow = ow.URL
	customJSON := func(what string) string {
		return `{"deploy": {"a-1": {"environment": {"DB_PASSWORD": "` + s.secret(what) + `"}}}, "note": "` + s.secret(what+", plain key") + `"}`
	}
	cjFile := e.write("custom.json", customJSON("opsworks deployment CustomJson from @file"))
	app := []string{"--stack", "s-1", "--app", "a-1"}
	opsworks := func(cmd string, args ...string) []string {
		return on(e.ow, append(append([]string{"opsworks", cmd}, app...), args...)...)
	}
	lastOpsWorks := func(t *testing.T) string {
		out, err := owFake.DescribeDeployments(ctx, &awsopsworks.DescribeDeploymentsInput{StackId: aws.String("s-1")})
		if err != nil || len(out.Deployments) == 0 {
			t.Fatalf("no OpsWorks deployment: %v", err)
		}
		return aws.ToString(out.Deployments[0].DeploymentId)
	}

	// A fleet of both: the ECS target's task definition holds secrets.
	fleet := e.write("fleet.yaml", "targets:\n  - name: migrate\n    lambda: {function: app, alias: live, zip: "+e.zip(30)+
		"}\n  - name: web\n    after: [migrate]\n    ecs: {cluster: prod, service: web, taskDefinition: "+tdNew+", noWait: true}\n")
	fleetFailing := e.write("fleet-failing.yaml", "targets:\n  - name: migrate\n    lambda: {function: app, alias: live, version: '99'}\n"+
		"  - name: web\n    after: [migrate]\n    ecs: {cluster: prod, service: web, taskDefinition: "+tdOld+", noWait: true}\n")
	fleetRefused := e.write("fleet-refused.yaml", "targets:\n  - name: web\n    ecs: {cluster: prod, service: web, taskDefinition: "+tdNew+
		"}\n    environment: {API_TOKEN: "+s.secret("fleet file, unknown key")+"}\n")

	// lockLambda holds lambda:app:live's lock as another live run would.
	var held deploy.Lease
	lockLambda := func(t *testing.T) {
		st := e.openStore(t)
		defer st.Close()
		host, _ := os.Hostname()
		now := time.Now()
		l, err := st.Lock(ctx, deploy.Lease{Target: lambda.Target("app", "live").String(), Token: "other", Owner: "ci job 7",
			Host: host, PID: os.Getpid(), Run: "other", Since: now, Expires: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		held = l
	}
	unlockLambda := func(t *testing.T) {
		st := e.openStore(t)
		defer st.Close()
		if err := st.Unlock(ctx, held); err != nil {
			t.Fatal(err)
		}
	}

	steps := []secretStep{
		// Lambda, client-driven, on moto.
		{name: "lambda status", args: fn("status")},
		{name: "lambda deploy dry run", args: lambdaDeploy("--config", fj, "--envfile", fnEnvfile, "--zip", e.zip(3), "--dry-run"),
			want: "Environment.Variables.DB_PASSWORD"},
		{name: "lambda deploy jsonnet dry run", args: lambdaDeploy("--config", fjn, "--ext-str", fnExt, "--zip", e.zip(3), "--dry-run"),
			want: "Environment.Variables.EXT_TOKEN"},
		{name: "lambda deploy", args: lambdaDeploy("--config", fj, "--envfile", fnEnvfile, "--zip", e.zip(3)), want: "Succeeded"},
		{name: "lambda deploy jsonnet", args: lambdaDeploy("--config", fjn, "--ext-str", fnExt, "--zip", e.zip(4)), want: "Succeeded"},
		{name: "lambda status after", args: fn("status")},
		{name: "lambda rollback dry run", args: fn("rollback", "--dry-run")},
		{name: "lambda rollback", args: fn("rollback"), want: "Succeeded"},
		{name: "lambda deploy version", args: lambdaDeploy("--version", "4"), want: "Succeeded"},
		{name: "lambda stop weighted", args: fn("stop"), want: "now version 4 alone", wantJSON: `"weights":{"2":0.1}`, before: func(t *testing.T) {
			if _, err := lc.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"), FunctionVersion: aws.String("4"),
				RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1}}}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "lambda create dry run", args: on(e.moto, "lambda", "deploy", "--config", fjFresh, "--envfile", fnEnvfile, "--zip", e.zip(5), "--dry-run"),
			want: "would be created", wantJSON: `"createFunction":true`},
		{name: "lambda create", args: on(e.moto, "lambda", "deploy", "--config", fjFresh, "--envfile", fnEnvfile, "--zip", e.zip(5)), want: "fresh"},
		{name: "lambda deploy timeout rolled back", args: append([]string{"--timeout", "2s"},
			lambdaDeploy("--config", fj, "--envfile", fnEnvfile, "--zip", e.zip(6), "--strategy", "canary:10:1h")...), code: 1},
		{name: "lambda deploy S3 URL with a token dry run", args: lambdaDeploy("--s3", "s3://code/app.zip?X-Amz-Security-Token="+s.secret("lambda S3 URL query credentials"), "--dry-run"),
			code: 2, want: "X-Amz-Security-Token"},
		{name: "lambda deploy presigned URL", args: lambdaDeploy("--s3", "https://code.s3.amazonaws.com/app.zip?X-Amz-Signature="+s.secret("lambda presigned URL signature")),
			code: 2, want: "s3://"},
		{name: "lambda deploy missing version", args: lambdaDeploy("--version", "99"), code: 1},
		{name: "lambda deploy refused config", args: lambdaDeploy("--config", fjBad, "--envfile", fnEnvfile, "--zip", e.zip(7)), code: 2, want: "EphemeralStorage"},
		{name: "lambda deploy unset must_env", args: lambdaDeploy("--config", fjUnset, "--zip", e.zip(7)), code: 2, want: "FN_NEVER_SET"},
		{name: "lambda deploy broken JSON", args: lambdaDeploy("--config", fjBroken, "--zip", e.zip(7)), code: 2},
		{name: "lambda deploy locked", args: lambdaDeploy("--config", fj, "--envfile", fnEnvfile, "--zip", e.zip(7)), code: 3, want: "ci job 7",
			before: lockLambda, after: unlockLambda},
		{name: "lambda deploy jsonnet error", args: lambdaDeploy("--config", fjnBad, "--zip", e.zip(7)), code: 2, want: "jsonnet"},
		{name: "lambda deploy secret in a number", args: lambdaDeploy("--config", fjNumber, "--zip", e.zip(7)), code: 2, want: "MemorySize"},
		{name: "history lambda", args: []string{"history", "lambda:app:live"}, want: "Succeeded"},
		{name: "store create dynamodb", args: on(e.moto, "store", "create", dynamo), want: "deployctl-secrets"},
		{name: "lambda deploy dynamodb store", args: append([]string{"--store", dynamo}, lambdaDeploy("--config", fj, "--envfile", fnEnvfile, "--zip", e.zip(8))...),
			want: "Succeeded"},
		{name: "history dynamodb store", args: on(e.moto, "--store", dynamo, "history", "lambda:app:live"), want: "Succeeded"},
		{name: "resume dynamodb store", args: on(e.moto, "--store", dynamo, "resume")},
		{name: "resume lambda", args: on(e.moto, "resume"), want: "rolled back", before: e.killedLambdaRun},

		// ECS on moto.
		{name: "ecs deploy create", args: ecs("deploy", "--task-definition", tdOld, "--service-definition", sd, "--no-wait"), want: "web:1"},
		{name: "ecs status", args: ecs("status"), want: "web:1"},
		{name: "ecs diff", args: ecs("diff", "--task-definition", tdNew), want: "environment[0].value"},
		{name: "ecs deploy dry run", args: ecs("deploy", "--task-definition", tdNew, "--tasks", "2", "--dry-run"), want: "dockerLabels."},
		{name: "ecs render files", args: on(e.moto, "ecs", "render", "--task-definition", tdNew, "--service-definition", sd, "taskdef", "servicedef"),
			want: "DEPLOY_TOKEN"},
		{name: "ecs render ecspresso", args: on(e.moto, "ecs", "render", "--config", conf, "--envfile", ecsEnvfile, "config", "taskdef", "servicedef"),
			want: "WEB_TOKEN"},
		{name: "ecs render jsonnet", args: on(e.moto, "ecs", "render", "--task-definition", tdJsonnet, "--ext-str", ecsExt), want: "EXT"},
		{name: "ecs diff ecspresso", args: on(e.moto, "ecs", "diff", "--config", conf, "--envfile", ecsEnvfile), want: "nginx:3"},
		{name: "ecs deploy", args: ecs("deploy", "--task-definition", tdNew, "--no-wait"), want: "web:2"},
		{name: "ecs deploy ecspresso", args: on(e.moto, "ecs", "deploy", "--config", conf, "--envfile", ecsEnvfile, "--no-wait"), want: "web:3"},
		{name: "ecs deploy jsonnet", args: on(e.moto, "ecs", "deploy", "--config", conf, "--task-definition", tdJsonnet, "--ext-str", ecsExt, "--no-wait"),
			want: "web:4"},
		{name: "ecs scale", args: ecs("scale", "--tasks", "2", "--no-wait")},
		{name: "ecs refresh", args: ecs("refresh", "--no-wait")},
		{name: "ecs rollback dry run", args: ecs("rollback", "--dry-run", "--revision", "2"), want: "web:2"},
		{name: "ecs rollback", args: ecs("rollback", "--revision", "2", "--no-wait"), want: "web:2"},
		{name: "ecs status after", args: ecs("status"), want: "web:2"},
		{name: "ecs deploy timeout", args: append([]string{"--timeout", "2s"}, ecs("deploy", "--task-definition", tdOld)...), code: 1,
			want: "repair it with", cutCleanup: true},
		{name: "ecs deploy refused definition", args: ecs("deploy", "--task-definition", tdBad, "--no-wait"), code: 2, want: "memory"},
		{name: "ecs deploy refused count", args: ecs("deploy", "--task-definition", tdNew, "--tasks", "-2", "--no-wait"), code: 2},
		{name: "ecs deploy unset must_env", args: ecs("deploy", "--task-definition", tdUnset, "--no-wait"), code: 2, want: "WEB_NEVER_SET"},
		{name: "ecs deploy broken JSON", args: ecs("deploy", "--task-definition", tdBroken, "--no-wait"), code: 2},
		{name: "ecs deploy leftover placeholder", args: ecs("deploy", "--task-definition", tdLeftover, "--no-wait"), code: 2, want: "unrendered"},
		{name: "ecs render jsonnet error", args: on(e.moto, "ecs", "render", "--task-definition", tdJsonnetBad), code: 2, want: "jsonnet"},
		{name: "ecs deploy jsonnet error", args: ecs("deploy", "--task-definition", tdJsonnetBad, "--no-wait"), code: 2, want: "jsonnet"},
		{name: "ecs render --ext-code error", args: on(e.moto, "ecs", "render", "--task-definition", tdExtCodeBad, "--ext-code", ecsExtCodeOK), code: 2,
			want: "jsonnet"},
		{name: "ecs deploy broken --ext-code", args: ecs("deploy", "--task-definition", tdExtCode, "--ext-code", ecsExtCode, "--no-wait"), code: 2,
			want: "jsonnet"},
		{name: "ecs render leftover placeholder", args: on(e.moto, "ecs", "render", "--task-definition", tdLeftover), code: 2},
		{name: "ecs deploy missing cluster", args: on(e.moto, "ecs", "deploy", "--cluster", "nope", "--service", "web", "--task-definition", tdNew, "--no-wait"),
			code: 1},
		{name: "history ecs", args: []string{"history", "ecs:prod/web"}},

		// EC2 and on-premises instances through CodeDeploy.
		{name: "ec2 deploy dry run", args: ec2("deploy", "--appspec", appspec, "--dry-run"), want: "instances: 3", wantJSON: `"instances":3`},
		{name: "ec2 deploy", args: ec2("deploy", "--appspec", appspec), want: "Succeeded"},
		{name: "ec2 deploy refused S3 URL", args: ec2("deploy", "--s3", s3Token), code: 2, want: "X-Amz-Security-Token"},
		{name: "ec2 status", args: ec2("status"), want: "appspec:"},
		{name: "ec2 status deployment", lazy: func(t *testing.T) []string { return ec2("status", "--deployment-id", lastEC2(t, e.cdFake, "web")) }, want: "Succeeded"},
		{name: "ec2 deploy failing", args: ec2("deploy", "--appspec", appspec2, "--rollback-on", ""), code: 1, want: "BeforeInstall",
			before: func(*testing.T) { e.cdFake.FailNext("BeforeInstall", "host-2") }},
		{name: "ec2 deploy refused while split", args: ec2("deploy", "--appspec", appspec2, "--no-wait"), code: 1},
		{name: "ec2 rollback dry run", args: ec2("rollback", "--dry-run")},
		{name: "ec2 rollback", args: ec2("rollback"), want: "Succeeded"},
		{name: "ec2 stop ended", lazy: func(t *testing.T) []string { return ec2("stop", "--deployment-id", lastEC2(t, e.cdFake, "web")) }, code: 1},
		{name: "ec2 continue not waiting", lazy: func(t *testing.T) []string { return ec2("continue", "--deployment-id", lastEC2(t, e.cdFake, "web")) }, code: 2},
		{name: "ec2 deploy blue/green no wait", args: on(e.cdm, "ec2", "deploy", "--application", "app", "--group", "bg", "--appspec", appspec, "--no-wait")},
		{name: "ec2 continue", lazy: func(t *testing.T) []string {
			return on(e.cdm, "ec2", "continue", "--application", "app", "--group", "bg", "--deployment-id", lastEC2(t, e.cdMan, "bg"))
		}, before: func(t *testing.T) { e.untilReady(t, lastEC2(t, e.cdMan, "bg")) }},
		{name: "ec2 stop live", lazy: func(t *testing.T) []string {
			return on(e.cdm, append([]string{"ec2", "stop", "--deployment-id", live}, grp...)...)
		}, before: func(t *testing.T) { live = e.liveEC2(t, appspec) }},
		{name: "lambda status through CodeDeploy", lazy: lambdaCDArgs("status"), before: lambdaCDDeployment, want: "InProgress"},
		{name: "lambda stop through CodeDeploy", lazy: lambdaCDArgs("stop"), want: "stop"},
		{name: "history ec2", args: []string{"history", "ec2:app/web"}, want: "Succeeded"},

		// OpsWorks.
		{name: "opsworks deploy dry run", args: opsworks("deploy", "--revision", "v2", "--dry-run", "--custom-json", customJSON("opsworks deployment CustomJson, dry run")),
			want: "customJson"},
		{name: "opsworks deploy", args: opsworks("deploy", "--revision", "v2", "--custom-json", "@"+cjFile), want: "Succeeded"},
		{name: "opsworks command", args: on(e.ow, "opsworks", "command", "--stack", "s-1", "--command", "execute_recipes", "--arg", "recipes=a::b",
			"--custom-json", customJSON("opsworks stack command CustomJson")), want: "Succeeded"},
		{name: "opsworks status deployment", want: "Succeeded", lazy: func(t *testing.T) []string {
			return on(e.ow, "opsworks", "status", "--stack", "s-1", "--deployment-id", lastOpsWorks(t))
		}},
		{name: "opsworks status", args: opsworks("status"), want: "v2"},
		{name: "opsworks rollback dry run", args: opsworks("rollback", "--dry-run"), want: "v1"},
		{name: "opsworks rollback", args: opsworks("rollback"), want: "Succeeded"},
		{name: "opsworks rollback versions", args: opsworks("rollback", "--versions", "1"), want: "Succeeded"},
		{name: "opsworks deploy failing", args: opsworks("deploy", "--revision", "v3", "--custom-json", customJSON("opsworks failing deploy CustomJson")),
			code: 1, want: "i-3", before: func(*testing.T) { owFake.FailNext(1) }},
		{name: "opsworks deploy refused JSON", args: opsworks("deploy", "--revision", "v3", "--custom-json",
			`{"password": `+s.secret("opsworks CustomJson, unquoted")+`}`), code: 2, want: "customJson"},
		{name: "opsworks deploy refused revision", args: opsworks("deploy", "--revision",
			"https://deployer:"+s.secret("opsworks revision URL password")+"@git.example.com/a.git"), code: 2, want: "***@"},
		{name: "opsworks deploy presigned URL dry run", args: opsworks("deploy", "--dry-run", "--revision",
			"https://code.s3.amazonaws.com/a.zip?X-Amz-Security-Token="+s.secret("opsworks revision URL query credentials")), code: 2, want: "X-Amz-Security-Token"},
		{name: "opsworks deploy unknown layer", args: opsworks("deploy", "--revision", "v3", "--layer", "nope", "--custom-json",
			customJSON("opsworks CustomJson, unknown layer")), code: 1, want: "nope"},
		{name: "opsworks status presigned source", args: on(e.ow, "opsworks", "status", "--stack", "s-1", "--app", "a-2"), want: "X-Amz-Security-Token=***"},
		{name: "opsworks deploy presigned source", args: on(e.ow, "opsworks", "deploy", "--stack", "s-1", "--app", "a-2", "--dry-run",
			"--revision", "https://code.s3.amazonaws.com/a-2-v2.zip"), code: 2, want: "holds credentials"},
		{name: "opsworks status source with password", args: on(e.ow, "opsworks", "status", "--stack", "s-1", "--app", "a-3"), want: "***@"},
		{name: "opsworks rollback source with password", args: on(e.ow, "opsworks", "rollback", "--stack", "s-1", "--app", "a-3"), code: 1,
			want: "no earlier revision"},
		{name: "opsworks deploy source with password", args: on(e.ow, "opsworks", "deploy", "--stack", "s-1", "--app", "a-3", "--revision", "v2"), code: 2,
			want: "holds credentials"},
		{name: "history opsworks", args: []string{"history", "opsworks:s-1/a-1"}, want: "v"},

		// Every platform at once, the store, and commands that take no
		// secret.
		{name: "fleet dry run", args: on(e.moto, "fleet", "deploy", "--dry-run", fleet), want: "(redacted)"},
		{name: "fleet deploy", args: on(e.moto, "fleet", "deploy", fleet), want: "migrate"},
		{name: "fleet deploy failing", args: on(e.moto, "fleet", "deploy", fleetFailing), code: 1, want: "migrate"},
		{name: "fleet deploy refused", args: on(e.moto, "fleet", "deploy", fleetRefused), code: 2, want: "environment"},
		{name: "resume nothing", args: on(e.moto, "resume")},
		{name: "store create", args: []string{"store", "create", filepath.Join(e.dir, "store2")}},
		{name: "strategies", args: []string{"strategies", "canary:10:5m"}},
		{name: "version", args: []string{"version"}},
	}
	return e, steps
}

// openStore opens the environment's store as another process would.
func (e *secretsEnv) openStore(t *testing.T) *localstore.Store {
	t.Helper()
	st, err := localstore.Open(e.store)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// killedLambdaRun leaves lambda:app:live as a run killed mid-canary does:
// 10% on version 3 and its journal and lock in the store, for resume.
func (e *secretsEnv) killedLambdaRun(t *testing.T) {
	ctx := context.Background()
	if _, err := e.lc.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"), FunctionVersion: aws.String("4"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"3": 0.1}}}); err != nil {
		t.Fatal(err)
	}
	st := e.openStore(t)
	defer st.Close()
	leaveKilledRun(t, st, "4", "3")
}

// untilReady moves the manual-clock CodeDeploy until deployment id waits
// in Ready.
func (e *secretsEnv) untilReady(t *testing.T, id string) {
	for range 1000 {
		if info, _ := e.cdMan.Deployment(id); info.Status == cdtypes.DeploymentStatusReady {
			return
		}
		e.clk.Advance(time.Millisecond)
	}
	t.Fatalf("deployment %s never got to Ready", id)
}

// liveEC2 starts a deployment of the AppSpec at path on app/web of the
// manual-clock CodeDeploy and returns its ID; it stays in progress until
// the clock moves.
func (e *secretsEnv) liveEC2(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.cdMan.CreateDeployment(context.Background(), &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("app"),
		DeploymentGroupName: aws.String("web"), Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(string(b))}}})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Millisecond)
	return aws.ToString(out.DeploymentId)
}

// commandOf names the deployctl command args run: "history", "ecs diff".
func commandOf(args []string) string {
	for len(args) > 1 && strings.HasPrefix(args[0], "--") {
		args = args[2:] // a global flag and its value
	}
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") && slices.Contains([]string{"lambda", "ecs", "ec2", "opsworks", "store", "fleet"}, args[0]) {
		return args[0] + " " + args[1]
	}
	return args[0]
}

// runStep runs one step's deployctl in mode and returns its exit status,
// everything it wrote and the arguments it ran with.
func (e *secretsEnv) runStep(t *testing.T, mode string, s secretStep) (int, string, string, []string) {
	t.Helper()
	args := s.args
	if s.lazy != nil {
		args = s.lazy(t)
	}
	args = append([]string{"--output", mode, "--store", e.store}, args...)
	ctx := context.Background()
	if s.cutCleanup {
		hard, cut := context.WithCancel(ctx)
		cut()
		ctx = deploy.WithCleanupContext(ctx, hard)
	}
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	if mode == "json" {
		checkJSONLines(t, out.String(), code)
	}
	return code, out.String(), errOut.String(), args
}

// TestNoSecretInAnyOutput is issue 12's test: it plants distinct canary
// secrets everywhere a user keeps one (ECS environment values, secrets,
// docker labels, tags and log options under secret-looking keys, old and
// new, changed and unchanged; ecspresso's templates, envfiles and Jsonnet
// external variables; Lambda function files and the versions they
// replace; OpsWorks CustomJson, app environment, SSL key and source
// password; CodeDeploy AppSpecs and credentials in S3 URLs; fleet files),
// runs every deployctl command on them in text and in JSON (deploys, dry
// runs, diffs, renders, status, rollbacks, stops, history, resume, fleets,
// and the refusals and failures that print errors), and fails if any
// byte of stdout or stderr shows a canary, its hex or base64, or any 8
// bytes of it.
func TestNoSecretInAnyOutput(t *testing.T) {
	runs, planned, covered := 0, 0, map[string]bool{}
	for _, mode := range []string{"text", "json"} {
		t.Run(mode, func(t *testing.T) {
			e, steps := newSecretsEnv(t)
			planned += len(steps)
			for _, s := range steps {
				t.Run(s.name, func(t *testing.T) {
					if s.before != nil {
						s.before(t)
					}
					code, out, errOut, args := e.runStep(t, mode, s)
					runs++
					covered[commandOf(args)] = true
					if s.after != nil {
						s.after(t)
					}
					for _, l := range e.c.leaks(out, nil) {
						t.Errorf("stdout shows %s", l)
					}
					for _, l := range e.c.leaks(errOut, nil) {
						t.Errorf("stderr shows %s", l)
					}
					if code != s.code {
						t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, s.code, out, errOut)
					}
					want := s.want
					if mode == "json" && s.wantJSON != "" {
						want = s.wantJSON
					}
					if !strings.Contains(out+errOut, want) {
						t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", want, out, errOut)
					}
				})
			}
			// The store's journal and history are a log too: they keep no
			// secret but the AppSpecs the EC2 driver redeploys on rollback.
			err := filepath.WalkDir(e.store, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				for _, l := range e.c.leaks(string(b), e.c.kept) {
					t.Errorf("the store's %s keeps %s", p, l)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
			t.Logf("%s: %d runs, %d canaries", mode, len(steps), len(e.c.values))
		})
	}
	names := slices.Sorted(maps.Keys(covered))
	tops := map[string]bool{}
	for _, n := range names {
		top, _, _ := strings.Cut(n, " ")
		tops[top] = true
	}
	for _, c := range commands() {
		if !tops[c.name] && runs == planned { // not when -run picks some steps
			t.Errorf("deployctl %s never ran with secrets about", c.name)
		}
	}
	t.Logf("%d commands: %s", len(names), strings.Join(names, ", "))
	if !t.Failed() {
		t.Logf("%d command invocations in text and JSON, 0 secret bytes", runs)
	}
}
