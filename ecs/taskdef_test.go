package ecs

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

func TestParseTaskDefinition(t *testing.T) {
	cases := []struct {
		name, in string
		family   string
		image    string
		tags     int
		err      bool
	}{
		{name: "describe output", in: string(taskDefJSON("web", "nginx:2")), family: "web", image: "nginx:2"},
		{name: "register input", in: `{"family":"api","containerDefinitions":[{"name":"a","image":"api:1"}],"cpu":"256","memory":"512"}`,
			family: "api", image: "api:1"},
		{name: "describe output with tags", in: `{"taskDefinition":{"family":"x","revision":3,"containerDefinitions":[{"name":"a","image":"i"}]},
			"tags":[{"key":"team","value":"core"}]}`, family: "x", image: "i", tags: 1},
		{name: "case-insensitive keys", in: `{"Family":"y","ContainerDefinitions":[{"Name":"a","Image":"i"}]}`, family: "y", image: "i"},
		{name: "deregisteredAt stripped", in: `{"family":"z","status":"INACTIVE","deregisteredAt":"2026-01-01T00:00:00Z","containerDefinitions":[{"name":"a","image":"i"}]}`,
			family: "z", image: "i"},
		{name: "empty", in: "  ", err: true},
		{name: "not an object", in: `["family"]`, err: true},
		{name: "truncated", in: `{"family":"web"`, err: true},
		{name: "trailing data", in: `{"family":"w","containerDefinitions":[{"name":"a","image":"i"}]} {}`, err: true},
		{name: "no family", in: `{"containerDefinitions":[{"name":"a","image":"i"}]}`, err: true},
		{name: "no image", in: `{"family":"w","containerDefinitions":[{"name":"a"}]}`, err: true},
		{name: "unknown field", in: `{"family":"w","containerDefinitions":[{"name":"a","image":"i"}],"colour":"red"}`, err: true},
		{name: "taskDefinition not object", in: `{"taskDefinition":"web:1"}`, err: true},
		{name: "wrong type", in: `{"family":"w","containerDefinitions":[{"name":"a","image":"i","memory":"lots"}]}`, err: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := parseTaskDefinition([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, deploy.ErrInvalidRequest) {
					t.Fatalf("err = %v, want ErrInvalidRequest", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(in.Family) != tc.family || aws.ToString(in.ContainerDefinitions[0].Image) != tc.image || len(in.Tags) != tc.tags {
				t.Fatalf("got %s", jsonOf(in))
			}
		})
	}
}

func TestParseServiceDefinition(t *testing.T) {
	in, err := parseServiceDefinition([]byte(`{"serviceName":"web","serviceArn":"arn:x","taskDefinition":"web:1","desiredCount":2,
	  "createdAt":"2026-01-01T00:00:00Z","deployments":[],"launchType":"FARGATE"}`))
	if err != nil || aws.ToInt32(in.DesiredCount) != 2 || in.TaskDefinition != nil {
		t.Fatalf("%v %v", in, err)
	}
	for _, bad := range []string{"", `{"services":[]}`, `{"desiredCount":"two"}`, `{"nope":1}`} {
		if _, err := parseServiceDefinition([]byte(bad)); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Fatalf("%q: err = %v", bad, err)
		}
	}
}

func TestDiffTaskDefinitionIgnoresDefaults(t *testing.T) {
	cur := taskDef("web", "nginx:1")
	cur.ContainerDefinitions[0].Essential = aws.Bool(true)
	cur.ContainerDefinitions[0].PortMappings[0].Protocol = "tcp"
	cur.ContainerDefinitions[0].PortMappings[0].HostPort = aws.Int32(80)
	next := taskDef("web", "nginx:1")
	if c := diffTaskDefinition(cur, next); len(c) != 0 {
		t.Fatalf("defaults reported as changes: %+v", c)
	}
	next.ContainerDefinitions[0].Memory = aws.Int32(512)
	next.Cpu = aws.String("256")
	c := diffTaskDefinition(cur, next)
	if len(c) != 2 || c[0].Path != "taskDefinition.containerDefinitions[0].memory" || c[0].Old != "256" || c[0].New != "512" ||
		c[1].Path != "taskDefinition.cpu" {
		t.Fatalf("%+v", c)
	}
	// A removed field is a change too.
	if c := diffTaskDefinition(next, cur); len(c) != 2 {
		t.Fatalf("%+v", c)
	}
}

func TestDeploymentConfigMapping(t *testing.T) {
	cases := []struct {
		name string
		req  deploy.Request
		o    DeployOptions
		want string
		err  bool
	}{
		{name: "zero keeps", want: `{"Strategy":""}`},
		{name: "all at once", req: deploy.Request{Strategy: deploy.AllAtOnce()}, want: `{"Strategy":"ROLLING"}`},
		{name: "blue green", o: DeployOptions{BlueGreen: true}, want: `{"Strategy":"BLUE_GREEN"}`},
		{name: "canary", req: deploy.Request{Strategy: deploy.Canary(10, 5*60e9)},
			want: `{"Strategy":"CANARY","Canary":{"CanaryBakeTimeInMinutes":5,"CanaryPercent":10}}`},
		{name: "linear", req: deploy.Request{Strategy: deploy.Linear(20, 60e9)},
			want: `{"Strategy":"LINEAR","Linear":{"StepBakeTimeInMinutes":1,"StepPercent":20}}`},
		{name: "linear too fine", req: deploy.Request{Strategy: deploy.Linear(2, 60e9)}, err: true},
		{name: "approval", req: deploy.Request{Strategy: deploy.Custom(deploy.ShiftTo(10), deploy.Approval(), deploy.ShiftTo(100))}, err: true},
		{name: "hooks need strategy", o: DeployOptions{Hooks: []LifecycleHook{{Pause: true, Stages: []string{"PRE_SCALE_UP"}}}}, err: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dc, _, err := deploymentConfig(nil, tc.req, tc.o)
			if tc.err {
				if !errors.Is(err, deploy.ErrInvalidRequest) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := jsonOf(struct {
				Strategy string
				Canary   *types.CanaryConfiguration `json:",omitempty"`
				Linear   *types.LinearConfiguration `json:",omitempty"`
			}{string(dc.Strategy), dc.CanaryConfiguration, dc.LinearConfiguration})
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	// Alarms and circuit breaker follow the rollback policy; bakes round up.
	dc, notes, err := deploymentConfig(nil, deploy.Request{Strategy: deploy.Canary(5, 90e9), RollbackOn: deploy.OnAlarm | deploy.OnFailure},
		DeployOptions{Alarms: []string{"a"}})
	if err != nil || !dc.Alarms.Rollback || !dc.DeploymentCircuitBreaker.Rollback || aws.ToInt32(dc.CanaryConfiguration.CanaryBakeTimeInMinutes) != 2 || len(notes) != 1 {
		t.Fatalf("%s %v %v", jsonOf(dc), notes, err)
	}
}

func TestIsUnavailable(t *testing.T) {
	if isUnavailable(nil) || isUnavailable(errors.New("x")) {
		t.Fatal("plain errors are not unavailability")
	}
}

func FuzzParseTaskDefinition(f *testing.F) {
	f.Add(taskDefJSON("web", "nginx:1"))
	f.Add([]byte(`{"family":"api","containerDefinitions":[{"name":"a","image":"api:1"}]}`))
	f.Add([]byte(`{"taskDefinition":{"family":"x","containerDefinitions":[{"name":"a","image":"i"}]},"tags":[{"key":"k","value":"v"}]}`))
	f.Add([]byte(`{"taskDefinition":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := parseTaskDefinition(data)
		if err != nil {
			if !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if aws.ToString(in.Family) == "" || len(in.ContainerDefinitions) == 0 {
			t.Fatalf("accepted an incomplete task definition: %s", jsonOf(in))
		}
		// What was accepted parses again to the same input.
		again, err := parseTaskDefinition([]byte(jsonOf(in)))
		if err != nil {
			t.Fatalf("re-parse of %s: %v", jsonOf(in), err)
		}
		if jsonOf(again) != jsonOf(in) {
			t.Fatalf("not stable:\n%s\n%s", jsonOf(in), jsonOf(again))
		}
	})
}
