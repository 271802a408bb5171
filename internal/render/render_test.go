package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
)

const stateJSON = `{"version":4,"outputs":{"vpc":{"value":"vpc-1","type":"string"},"ids":{"value":["a","b"]}},
"resources":[
 {"mode":"managed","type":"aws_iam_role","name":"task","instances":[{"attributes":{"arn":"arn:aws:iam::1:role/task","tags":{"Name":"t"}}}]},
 {"mode":"data","type":"aws_ecr_repository","name":"app","instances":[{"attributes":{"repository_url":"1.dkr.ecr/app"}}]},
 {"module":"module.net","mode":"managed","type":"aws_subnet","name":"s","instances":[{"index_key":0,"attributes":{"id":"subnet-0"}},{"index_key":1,"attributes":{"id":"subnet-1"}}]},
 {"module":"module.svc[\"web\"]","mode":"managed","type":"aws_lb_target_group","name":"tg","instances":[{"index_key":"blue","attributes":{"arn":"tg-blue","port":8080}}]}
]}`

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestTemplateFunctions(t *testing.T) {
	st, err := ParseTFState("test.tfstate", []byte(stateJSON))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{LookupEnv: env(map[string]string{"ENV": "prod", "EMPTY": ""}), States: []State{{State: st}, {Prefix: "other_", State: st}}}
	for _, tc := range []struct {
		in, want, err string
	}{
		{`{{ must_env "ENV" }}`, "prod", ""},
		{"{{ must_env `ENV` }}", "prod", ""},
		{`{{ must_env "EMPTY" }}`, "", ""},
		{`{{ must_env "NOPE" }}`, "", "environment variable NOPE is not set"},
		{`{{ env "ENV" }}`, "prod", ""},
		{`{{ env "NOPE" }}`, "", ""},
		{`{{ env "NOPE" "dflt" }}`, "dflt", ""},
		{`{{ env "EMPTY" "dflt" }}`, "dflt", ""},
		{`"{{ json_escape "a\"b\\c\n<x>" }}"`, `"a\"b\\c\n<x>"`, ""},
		{`{{ tfstate "aws_iam_role.task.arn" }}`, "arn:aws:iam::1:role/task", ""},
		{`{{ tfstate "aws_iam_role.task.tags.Name" }}`, "t", ""},
		{`{{ tfstate "aws_iam_role.task.tags" }}`, `{"Name":"t"}`, ""},
		{`{{ tfstate "data.aws_ecr_repository.app.repository_url" }}`, "1.dkr.ecr/app", ""},
		{`{{ tfstate "module.net.aws_subnet.s[1].id" }}`, "subnet-1", ""},
		{`{{ tfstate "module.svc[\"web\"].aws_lb_target_group.tg[\"blue\"].port" }}`, "8080", ""},
		{`{{ tfstatef "module.net.aws_subnet.s[%d].id" 0 }}`, "subnet-0", ""},
		{`{{ other_tfstate "output.vpc" }}`, "vpc-1", ""},
		{`{{ tfstate "output.ids[1]" }}`, "b", ""},
		{`{{ tfstate "aws_iam_role.nope.arn" }}`, "", "no such resource"},
		{`{{ tfstate "aws_iam_role.task.nope" }}`, "", "no attribute nope"},
		{`{{ tfstate "module.net.aws_subnet.s[7].id" }}`, "", "no such instance"},
		{`{{ tfstate "x[" }}`, "", "bad address"},
		{`{{ nosuchfunc }}`, "", "bad template"},
		{`{{ "{{" }}`, "", "unrendered placeholder"},
	} {
		got, err := Template("f.json", []byte(tc.in), o)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Errorf("%s: err %v, want %q (ErrInvalidRequest)", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestJsonnetNatives(t *testing.T) {
	o := Options{LookupEnv: env(map[string]string{"TAG": "v1"}), ExtStr: map[string]string{"x": "ext"}, ExtCode: map[string]string{"n": "1+2"}}
	src := `local must_env = std.native('must_env'); local env = std.native('env');
{ image: 'nginx:' + must_env('TAG'), d: env('NOPE', 'dflt'), e: std.extVar('x'), n: std.extVar('n'), j: std.native('json_escape')('"') }`
	got, err := File("td.jsonnet", []byte(src), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"image": "nginx:v1"`, `"d": "dflt"`, `"e": "ext"`, `"n": 3`, `"j": "\\\""`} {
		if !strings.Contains(string(got), w) {
			t.Errorf("missing %s in %s", w, got)
		}
	}
	_, err = File("td.jsonnet", []byte(`{ image: std.native('must_env')('UNSET') }`), o)
	if err == nil || !errors.Is(err, deploy.ErrInvalidRequest) || !strings.Contains(err.Error(), "UNSET is not set") {
		t.Fatalf("unset: %v", err)
	}
	// The evaluated Jsonnet is rendered as a template too.
	got, err = File("td.jsonnet", []byte("{ image: 'nginx:{{ must_env `TAG` }}' }"), o)
	if err != nil || !strings.Contains(string(got), "nginx:v1") {
		t.Fatalf("template in jsonnet: %s %v", got, err)
	}
	if _, err = File("td.jsonnet", []byte(`{ a: `), o); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("syntax: %v", err)
	}
}

func TestJsonnetImportsAndState(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lib.libsonnet"), []byte(`{ cpu: '256' }`), 0o644)
	os.WriteFile(filepath.Join(dir, "tf.tfstate"), []byte(stateJSON), 0o644)
	st, err := LoadTFState(t.Context(), "tf.tfstate", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "td.jsonnet")
	os.WriteFile(p, []byte(`local lib = import 'lib.libsonnet'; lib + { role: std.native('tfstate')('aws_iam_role.task.arn') }`), 0o644)
	got, err := ReadFile(p, Options{States: []State{{State: st}}})
	if err != nil || !strings.Contains(string(got), `"cpu": "256"`) || !strings.Contains(string(got), "role/task") {
		t.Fatalf("%s %v", got, err)
	}
	if _, err := LoadTFState(t.Context(), "s3://b/k", dir, nil); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("s3 without client: %v", err)
	}
	if _, err := LoadTFState(t.Context(), "http://x/y", dir, nil); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("http: %v", err)
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{`{"image":"{{ must_env "X" }}"}`, `{{ tfstate "a.b.c" }}`, `{{`, `}}`, `{{ env "A" "b" }}`, `plain`} {
		f.Add(s)
	}
	st, _ := ParseTFState("s", []byte(stateJSON))
	o := Options{LookupEnv: env(map[string]string{"X": "1"}), States: []State{{State: st}}}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Template("f", []byte(s), o)
		if err == nil && strings.Contains(string(out), "{{") {
			t.Fatalf("accepted output with {{: %q", out)
		}
		if err != nil && !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzTFStateLookup(f *testing.F) {
	for _, s := range []string{"aws_iam_role.task.arn", `module.svc["web"].aws_lb_target_group.tg["blue"].port`, "output.ids[1]", "a[", "...", "module.", "data.x.y.z[0][1]"} {
		f.Add(s)
	}
	st, _ := ParseTFState("s", []byte(stateJSON))
	f.Fuzz(func(t *testing.T, addr string) {
		if _, err := st.LookupString(addr); err != nil && !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
