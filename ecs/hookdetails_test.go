package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// serviceWithHook is a describe-services document of a blue/green service
// whose Lambda hook carries hookDetails.
const serviceWithHook = `{"services": [{
  "serviceName": "web", "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
  "status": "ACTIVE", "desiredCount": 2, "runningCount": 2, "deployments": [], "events": [],
  "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
  "deploymentConfiguration": {
    "maximumPercent": 200, "minimumHealthyPercent": 100, "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5,
    "lifecycleHooks": [
      {"hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
       "roleArn": "arn:aws:iam::123456789012:role/hooks",
       "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
       "hookDetails": {"path": "/health", "threshold": 0.995, "retries": 3,
                       "big": 12345678901234567890, "tags": ["a", "b"], "nested": {"on": true, "none": null}}},
      {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}
    ]}}]}`

func hookDetailsOf(t *testing.T, in *ecs.CreateServiceInput, i int) map[string]any {
	t.Helper()
	if in.DeploymentConfiguration == nil || len(in.DeploymentConfiguration.LifecycleHooks) <= i {
		t.Fatalf("no hook %d in %s", i, jsonOf(in.DeploymentConfiguration))
	}
	v, err := documentJSON(in.DeploymentConfiguration.LifecycleHooks[i].HookDetails)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := v.(map[string]any)
	return m
}

func TestParseServiceDefinitionHookDetails(t *testing.T) {
	in, err := parseServiceDefinition([]byte(serviceWithHook))
	if err != nil {
		t.Fatal(err)
	}
	hooks := in.DeploymentConfiguration.LifecycleHooks
	if len(hooks) != 2 || aws.ToString(hooks[0].HookTargetArn) != "arn:aws:lambda:us-east-1:123456789012:function:smoke" ||
		hooks[1].TargetType != types.DeploymentLifecycleHookTargetTypePause || hooks[1].HookDetails != nil {
		t.Fatalf("hooks %s", jsonOf(hooks))
	}
	got := hookDetailsOf(t, in, 0)
	b, _ := json.Marshal(got)
	// Numbers stay exact (no float64 round trip), null stays null.
	want := `{"big":12345678901234567890,"nested":{"none":null,"on":true},"path":"/health","retries":3,"tags":["a","b"],"threshold":0.995}`
	if string(b) != want {
		t.Fatalf("hookDetails\n got %s\nwant %s", b, want)
	}

	cases := []struct {
		name, in string
		want     string // JSON of hook 0's details; "" for none
		field    string // the refused field, for errors
	}{
		{name: "key case-insensitive", in: `{"deploymentConfiguration":{"lifecycleHooks":[{"hookTargetArn":"arn:fn","roleArn":"arn:r","lifecycleStages":["PRE_SCALE_UP"],"HookDetails":{"k":"v"}}]}}`,
			want: `{"k":"v"}`},
		{name: "null details", in: `{"deploymentConfiguration":{"lifecycleHooks":[{"hookTargetArn":"arn:fn","roleArn":"arn:r","lifecycleStages":["PRE_SCALE_UP"],"hookDetails":null}]}}`},
		{name: "list details", in: `{"deploymentConfiguration":{"lifecycleHooks":[{"hookTargetArn":"arn:fn","roleArn":"arn:r","lifecycleStages":["PRE_SCALE_UP"],"hookDetails":[1,"two"]}]}}`,
			want: `[1,"two"]`},
		{name: "pause hook with details", in: `{"deploymentConfiguration":{"lifecycleHooks":[{"targetType":"PAUSE","lifecycleStages":["POST_SCALE_UP"],"hookDetails":{"k":1}}]}}`,
			field: "serviceDefinition.deploymentConfiguration.lifecycleHooks[0].hookDetails"},
		{name: "unknown hook field", in: `{"deploymentConfiguration":{"lifecycleHooks":[{"hookDetails":{},"colour":"red"}]}}`, field: "serviceDefinition"},
		{name: "hooks not a list", in: `{"deploymentConfiguration":{"lifecycleHooks":{"hookDetails":{}}}}`, field: "serviceDefinition"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := parseServiceDefinition([]byte(tc.in))
			if tc.field != "" {
				var ve *deploy.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := documentJSON(in.DeploymentConfiguration.LifecycleHooks[0].HookDetails)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if v != nil {
				b, _ := json.Marshal(v)
				got = string(b)
			}
			if got != tc.want {
				t.Fatalf("details %s, want %s", got, tc.want)
			}
		})
	}
}

// TestHookDetailsOnTheWire sends a parsed service definition through the
// real SDK client: the details reach the request body as JSON, numbers
// exact.
func TestHookDetailsOnTheWire(t *testing.T) {
	in, err := parseServiceDefinition([]byte(serviceWithHook))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	in.Cluster, in.ServiceName, in.TaskDefinition = aws.String("prod"), aws.String("web"), aws.String("web:1")
	if _, err := c.CreateService(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var sent struct {
		DeploymentConfiguration struct {
			LifecycleHooks []struct {
				HookDetails json.RawMessage `json:"hookDetails"`
			} `json:"lifecycleHooks"`
		} `json:"deploymentConfiguration"`
	}
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	hooks := sent.DeploymentConfiguration.LifecycleHooks
	if len(hooks) != 2 || len(hooks[1].HookDetails) != 0 {
		t.Fatalf("hooks sent: %s", body)
	}
	d := string(hooks[0].HookDetails)
	for _, want := range []string{`"big":12345678901234567890`, `"threshold":0.995`, `"retries":3`, `"path":"/health"`, `"none":null`} {
		if !strings.Contains(d, want) {
			t.Fatalf("hookDetails sent %s lacks %s", d, want)
		}
	}
}

// TestDeployServiceDefinitionWithHookDetails plans and deploys a service
// definition whose hook has details: the plan lists the details as
// changes, the update carries them, and a second plan sees no change.
func TestDeployServiceDefinitionWithHookDetails(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	def := strings.Replace(serviceWithHook, `{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}`, `{"targetType": "PAUSE", "lifecycleStages": ["PRE_SCALE_UP"]}`, 1)
	p := mustPlan(t, e, DeployOptions{ServiceDefinition: []byte(def), SkipTaskDefinition: true})
	changed := map[string]string{}
	for _, c := range p.Changes {
		changed[c.Path] = c.New
	}
	pre := "service.deploymentConfiguration.lifecycleHooks[0].hookDetails."
	if changed[pre+"threshold"] != "0.995" || changed[pre+"big"] != "12345678901234567890" || changed[pre+"nested.on"] != "true" {
		t.Fatalf("plan changes lack the hook details: %s", jsonOf(p.Changes))
	}
	if e.fake.Mutations() != 0 {
		t.Fatalf("Prepare made %d mutating calls", e.fake.Mutations())
	}
	d, err := e.drv.Start(e.ctx(), p)
	if err != nil {
		t.Fatal(err)
	}
	hooks := e.service().DeploymentConfiguration.LifecycleHooks
	v, err := documentJSON(hooks[0].HookDetails)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := v.(map[string]any); m["path"] != "/health" {
		t.Fatalf("UpdateService sent details %v", v)
	}
	// The deployment waits at its PAUSE hook, which locks the service
	// until it ends.
	if _, err := e.drv.Stop(e.ctx(), d, deploy.StopOptions{Rollback: true}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	p2 := mustPlan(t, e, DeployOptions{ServiceDefinition: []byte(def), SkipTaskDefinition: true})
	for _, c := range p2.Changes {
		if strings.Contains(c.Path, "hookDetails") {
			t.Fatalf("unchanged details reported as a change: %s", jsonOf(p2.Changes))
		}
	}
	// A changed detail is one change.
	def3 := strings.Replace(def, `"retries": 3`, `"retries": 4`, 1)
	p3 := mustPlan(t, e, DeployOptions{ServiceDefinition: []byte(def3), SkipTaskDefinition: true})
	var got []string
	for _, c := range p3.Changes {
		if strings.Contains(c.Path, "hookDetails") {
			got = append(got, c.Path+" "+c.Old+"->"+c.New)
		}
	}
	if len(got) != 1 || got[0] != pre+"retries 3->4" {
		t.Fatalf("changes %v", got)
	}
}

func TestLifecycleHookDetailsOption(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	type smoke struct {
		Path  string  `json:"path"`
		Ratio float64 `json:"ratio"`
	}
	req := e.request(DeployOptions{BlueGreen: true, HookRoleARN: "arn:aws:iam::1:role/hooks",
		Hooks: []LifecycleHook{{FunctionARN: "arn:aws:lambda:us-east-1:1:function:smoke", Stages: []string{"POST_SCALE_UP"},
			Details: smoke{Path: "/ready", Ratio: 0.5}}}})
	req.Strategy = deploy.AllAtOnce()
	if _, err := e.engine().Deploy(e.ctx(), req); err != nil {
		t.Fatal(err)
	}
	v, err := documentJSON(e.service().DeploymentConfiguration.LifecycleHooks[0].HookDetails)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(v); string(b) != `{"path":"/ready","ratio":0.5}` {
		t.Fatalf("details sent %s", b)
	}
	for _, bad := range []LifecycleHook{
		{Pause: true, Stages: []string{"POST_SCALE_UP"}, Details: map[string]any{"k": 1}},
		{FunctionARN: "arn:fn", RoleARN: "arn:r", Stages: []string{"POST_SCALE_UP"}, Details: func() {}},
	} {
		_, err := e.drv.Prepare(e.ctx(), e.request(DeployOptions{BlueGreen: true, Hooks: []LifecycleHook{bad}}))
		var ve *deploy.ValidationError
		if !errors.As(err, &ve) || ve.Field != "hooks[0].details" {
			t.Fatalf("err = %v, want invalid hooks[0].details", err)
		}
	}
}

func FuzzParseServiceDefinition(f *testing.F) {
	f.Add([]byte(serviceWithHook))
	f.Add([]byte(`{"serviceName":"web","desiredCount":2,"launchType":"FARGATE"}`))
	f.Add([]byte(`{"deploymentConfiguration":{"lifecycleHooks":[{"hookDetails":{"a":[1,2.5e10,null]}}]}}`))
	f.Add([]byte(`{"deploymentConfiguration":{"lifecycleHooks":[null,{"hookDetails":null},{"HookDetails":"x"}]}}`))
	f.Add([]byte(`{"services":[{"serviceName":"a","deployments":[]}]}`))
	f.Add([]byte(`{"services":[]}`))
	f.Add([]byte(`{"deploymentConfiguration":[]}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := parseServiceDefinition(data)
		if err != nil {
			if !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if in.TaskDefinition != nil {
			t.Fatalf("kept taskDefinition %q", *in.TaskDefinition)
		}
		// Every accepted document renders again, details included, and
		// parses to the same definition.
		again, err := parseServiceDefinition([]byte(serviceDefinitionJSON(t, in)))
		if err != nil {
			t.Fatalf("re-parse of %s: %v", serviceDefinitionJSON(t, in), err)
		}
		if a, b := serviceDefinitionJSON(t, in), serviceDefinitionJSON(t, again); a != b {
			t.Fatalf("not stable:\n%s\n%s", a, b)
		}
	})
}

// serviceDefinitionJSON renders a CreateService input as a service
// definition, hook details included (encoding/json alone sees a document
// as an empty object).
func serviceDefinitionJSON(t *testing.T, in *ecs.CreateServiceInput) string {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	delete(tree, "ResultMetadata")
	spliceHookDetails(tree, in.DeploymentConfiguration)
	out, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
