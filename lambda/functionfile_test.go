package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
)

// lambrollFunction is lambroll's function.json shape with every field
// CreateFunction takes that an update can apply or must report.
const lambrollFunction = `{
  "Architectures": ["arm64"],
  "Description": "hello",
  "EphemeralStorage": {"Size": 1024},
  "Environment": {"Variables": {"K": "v"}},
  "FunctionName": "app",
  "Handler": "index.handler",
  "MemorySize": 256,
  "Role": "arn:aws:iam::123456789012:role/r",
  "Runtime": "python3.12",
  "Timeout": 10,
  "TracingConfig": {"Mode": "Active"},
  "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
  "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"},
  "FileSystemConfigs": [{"Arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1", "LocalMountPath": "/mnt/efs"}],
  "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN", "LogGroup": "/aws/lambda/app"},
  "SnapStart": {"ApplyOn": "None"},
  "KMSKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1",
  "Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:l:1"],
  "Tags": {"env": "dev"},
  "PackageType": "Zip",
  "CodeSigningConfigArn": "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-1"
}`

func TestParseFunctionConfigLambroll(t *testing.T) {
	c, err := lambda.ParseFunctionConfig([]byte(lambrollFunction))
	if err != nil {
		t.Fatal(err)
	}
	if c.Architectures[0] != types.ArchitectureArm64 || aws.ToInt32(c.EphemeralStorage.Size) != 1024 || c.TracingConfig.Mode != types.TracingModeActive ||
		c.VpcConfig.SubnetIds[0] != "subnet-1" || c.LoggingConfig.LogFormat != types.LogFormatJson || c.Tags["env"] != "dev" ||
		c.PackageType != types.PackageTypeZip || len(c.FileSystemConfigs) != 1 {
		t.Fatalf("%+v", c)
	}
	// get-function-configuration output: read-only fields dropped, Layers as objects.
	c, err = lambda.ParseFunctionConfig([]byte(`{"FunctionName":"app","FunctionArn":"arn:x","CodeSha256":"abc","Version":"$LATEST",
	"State":"Active","LastModified":"2024","RevisionId":"r","Layers":[{"Arn":"arn:l:1","CodeSize":3}],
	"VpcConfig":{"SubnetIds":[],"SecurityGroupIds":[],"VpcId":""},"SnapStart":{"ApplyOn":"None","OptimizationStatus":"Off"}}`))
	if err != nil || c.Layers[0] != "arn:l:1" {
		t.Fatalf("describe output: %+v %v", c, err)
	}
	for _, bad := range []string{`{"Architectures":["sparc"]}`, `{"Architectures":["arm64","x86_64"]}`, `{"EphemeralStorage":{"Size":100}}`,
		`{"TracingConfig":{"Mode":"Loud"}}`, `{"PackageType":"Tarball"}`, `{"Bogus":1}`, `[1]`, `null`, `{"MemorySize":64}`} {
		if _, err := lambda.ParseFunctionConfig([]byte(bad)); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestFunctionFileUpdateAppliesAndReports(t *testing.T) {
	e := newEnv(t)
	c, err := lambda.ParseFunctionConfig([]byte(lambrollFunction))
	if err != nil {
		t.Fatal(err)
	}
	req := deploy.Request{Target: e.tgt, Options: &lambda.DeployOptions{Zip: e.zip(), Config: c}}
	p, err := e.eng.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, w := range []string{"CodeSigningConfigArn", "Tags (the client cannot TagResource)"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %s:\n%s", w, notes)
		}
	}
	var paths []string
	for _, ch := range p.Changes {
		paths = append(paths, ch.Path)
	}
	for _, w := range []string{"function.Architectures", "function.TracingConfig", "function.EphemeralStorage", "function.VpcConfig", "function.LoggingConfig"} {
		if !slices.Contains(paths, w) {
			t.Errorf("changes %v lack %s", paths, w)
		}
	}
	d, err := e.eng.Execute(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.fake.GetFunctionConfiguration(context.Background(), &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("app"), Qualifier: aws.String(d.To.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Architectures[0] != types.ArchitectureArm64 || aws.ToInt32(got.EphemeralStorage.Size) != 1024 || got.TracingConfig.Mode != types.TracingModeActive ||
		got.VpcConfig.SubnetIds[0] != "subnet-1" || aws.ToString(got.KMSKeyArn) == "" {
		t.Fatalf("version %s: %+v", d.To.ID, got)
	}
}

func TestCreateRefusesBeforeAnyMutation(t *testing.T) {
	e := newEnv(t)
	tgt := lambda.Target("new", "current")
	for _, tc := range []struct {
		cfg  string
		opts lambda.DeployOptions
	}{
		{`{"Handler":"h","Runtime":"python3.12"}`, lambda.DeployOptions{Zip: fakeZip("PK")}},                                       // no Role
		{`{"Role":"arn:r"}`, lambda.DeployOptions{Zip: fakeZip("PK")}},                                                             // zip needs Handler and Runtime
		{`{"Role":"arn:r","Handler":"h","Runtime":"python3.12"}`, lambda.DeployOptions{}},                                          // no code
		{`{"Role":"arn:r","FunctionName":"other","Handler":"h","Runtime":"python3.12"}`, lambda.DeployOptions{Zip: fakeZip("PK")}}, // wrong name
	} {
		c, err := lambda.ParseFunctionConfig([]byte(tc.cfg))
		if err != nil {
			t.Fatal(err)
		}
		tc.opts.Config = c
		if _, err := e.drv.Create(context.Background(), tgt, tc.opts); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("%s: %v", tc.cfg, err)
		}
	}
	if e.fake.Mutations() != 0 {
		t.Fatalf("calls made: %v", e.fake.Calls())
	}
	// A client without CreateFunction cannot create.
	plain := lambda.New(struct{ lambda.Client }{e.fake}, lambda.Options{})
	c, _ := lambda.ParseFunctionConfig([]byte(`{"Role":"arn:r"}`))
	if _, err := plain.Create(context.Background(), tgt, lambda.DeployOptions{ImageURI: "1.dkr.ecr.us-east-1.amazonaws.com/x:1", Config: c}); !errors.Is(err, deploy.ErrUnsupported) {
		t.Fatalf("no creator: %v", err)
	}
	if ok, err := e.drv.FunctionExists(context.Background(), tgt); ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
	if ok, err := e.drv.FunctionExists(context.Background(), e.tgt); !ok || err != nil {
		t.Fatalf("exists app: %v %v", ok, err)
	}
}

func TestZipDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "pkg", "node_modules"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.js"), []byte("exports.handler=1"), 0o755)
	os.WriteFile(filepath.Join(dir, "pkg", "a.js"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, "pkg", "node_modules", "x.js"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("r"), 0o644)
	os.WriteFile(filepath.Join(dir, ".lambdaignore"), []byte("# comment\n*.md\nnode_modules/\n"), 0o644)
	b1, err := lambda.ZipDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := lambda.ZipDir(dir)
	if !bytes.Equal(b1, b2) {
		t.Fatal("the same tree gave different zips")
	}
	zr, err := zip.NewReader(bytes.NewReader(b1), int64(len(b1)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name == "index.js" && f.Mode().Perm()&0o111 == 0 {
			t.Error("executable bit lost")
		}
	}
	if strings.Join(names, ",") != "index.js,pkg/a.js" {
		t.Fatalf("zip holds %v", names)
	}
	for _, bad := range []string{filepath.Join(dir, "nope"), filepath.Join(dir, "index.js"), t.TempDir()} {
		if _, err := lambda.ZipDir(bad); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// SourceDir publishes it.
	e := newEnv(t)
	d, err := e.eng.Deploy(context.Background(), deploy.Request{Target: e.tgt, Options: &lambda.DeployOptions{SourceDir: dir}})
	if err != nil || d.To.ID != "4" {
		t.Fatalf("deploy src: %v %v", d, err)
	}
}

func TestLoadFunctionFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "function.json")
	os.WriteFile(p, []byte(`{"FunctionName":"{{ must_env "ENV" }}-app","Role":"{{ tfstate "aws_iam_role.r.arn" }}","Description":"{{ env "D" "d" }}"}`), 0o644)
	st := filepath.Join(dir, "s.tfstate")
	os.WriteFile(st, []byte(`{"version":4,"resources":[{"mode":"managed","type":"aws_iam_role","name":"r","instances":[{"attributes":{"arn":"arn:role"}}]}]}`), 0o644)
	env := func(k string) (string, bool) {
		if k == "ENV" {
			return "dev", true
		}
		return "", false
	}
	c, err := lambda.LoadFunctionFile(context.Background(), p, lambda.FileOptions{LookupEnv: env, TFState: st})
	if err != nil || *c.FunctionName != "dev-app" || *c.Role != "arn:role" || *c.Description != "d" {
		t.Fatalf("%+v %v", c, err)
	}
	none := func(string) (string, bool) { return "", false }
	if _, err := lambda.LoadFunctionFile(context.Background(), p, lambda.FileOptions{LookupEnv: none, TFState: st}); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("unset: %v", err)
	}
}

func FuzzParseFunctionConfig(f *testing.F) {
	f.Add([]byte(lambrollFunction))
	for _, s := range []string{`{}`, `{"Layers":[{"Arn":"a"}]}`, `{"VpcConfig":{"VpcId":"v"}}`, `{"Architectures":["arm64"]}`,
		`{"EphemeralStorage":{"Size":512}}`, `{"MemorySize":128}`, `null`, `[]`, `{"a":1} x`, `{"Environment":{"Variables":{"A":"b"},"Error":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := lambda.ParseFunctionConfig(in)
		if err != nil {
			if !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("err %v is not ErrInvalidRequest", err)
			}
			return
		}
		if c == nil {
			t.Fatal("nil config without error")
		}
		if c.MemorySize != nil && (*c.MemorySize < 128 || *c.MemorySize > 10240) {
			t.Fatalf("accepted MemorySize %d", *c.MemorySize)
		}
		if len(c.Architectures) > 1 {
			t.Fatal("accepted two architectures")
		}
	})
}

func TestCreateFunctionAndAlias(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, err := lambda.ParseFunctionConfig([]byte(strings.Replace(lambrollFunction, `"FunctionName": "app"`, `"FunctionName": "hello"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	tgt := lambda.Target("hello", "current")
	r, err := e.drv.Create(ctx, tgt, lambda.DeployOptions{Zip: fakeZip("PK hello"), Config: c})
	if err != nil || r.ID != "1" {
		t.Fatalf("create: %+v %v", r, err)
	}
	if v, _ := e.fake.Alias("hello", "current"); v != "1" {
		t.Fatalf("alias at %q", v)
	}
	got, _ := e.fake.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("hello"), Qualifier: aws.String("1")})
	if got.Architectures[0] != types.ArchitectureArm64 || got.TracingConfig.Mode != types.TracingModeActive || aws.ToInt32(got.MemorySize) != 256 {
		t.Fatalf("created %+v", got)
	}
	// Both exist now: Create refuses; a deployment takes over.
	if _, err := e.drv.Create(ctx, tgt, lambda.DeployOptions{Zip: fakeZip("PK hello 2"), Config: c}); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("second create: %v", err)
	}
	// The function exists without the alias: the code is published and the alias made.
	r, err = e.drv.Create(ctx, lambda.Target("app", "current"), lambda.DeployOptions{Zip: fakeZip("PK app new")})
	if err != nil || r.ID != "4" {
		t.Fatalf("alias only: %+v %v", r, err)
	}
	if v, _ := e.fake.Alias("app", "current"); v != "4" {
		t.Fatalf("alias at %q", v)
	}
}
