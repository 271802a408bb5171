package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ecs"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/opsworks"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// faultProxy is a proxy to moto that injects faults by operation: the
// X-Amz-Target operation name for JSON protocols (ECS), "METHOD PATH" for
// REST ones (Lambda). A fault the transport raises (a timeout, a reset)
// reaches deployctl as the proxy's 502.
func faultProxy(t *testing.T, srv *motoserver.Server, rules ...faultinject.Rule) (string, *faultinject.Transport) {
	t.Helper()
	target, _ := url.Parse(srv.URL)
	ft := faultinject.New(rt{http.DefaultTransport}, rules...)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.Host = target.Host },
		Transport: ft})
	t.Cleanup(proxy.Close)
	return proxy.URL, ft
}

// resultLine is the --output json result line.
type resultLine struct {
	ExitCode int    `json:"exitCode"`
	Error    string `json:"error"`
	Left     []struct {
		Target  string `json:"target"`
		Serving []struct {
			Revision struct {
				ID    string `json:"id"`
				Label string `json:"label"`
			} `json:"revision"`
			Percent float64 `json:"percent"`
		} `json:"serving"`
		LastSeen    bool   `json:"lastSeen"`
		NeedsRepair bool   `json:"needsRepair"`
		Repair      string `json:"repair"`
	} `json:"left"`
}

func parseResult(t *testing.T, out string) resultLine {
	t.Helper()
	var r resultLine
	if err := json.Unmarshal(lastLine(t, out, "result"), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// deployctl ecs through a proxy that loses UpdateService's answer: the
// driver reads the service back, so a deployment or rollback that moto
// applied exits 0, and one that never reached it exits 1 saying the
// outcome was unknown and what was read back.
func TestECSLostAnswersThroughDeployctl(t *testing.T) {
	srv := motoserver.Start(t, "MOTO_ECS_SERVICE_RUNNING=1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("DEPLOYCTL_STORE", t.TempDir())
	c := awsecs.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	ctx := context.Background()
	dir := t.TempDir()
	td := filepath.Join(dir, "td.json")
	writeTD := func(image string) {
		os.WriteFile(td, []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"`+image+`","memory":128}]}`), 0o644)
	}
	runs := func() string {
		out, err := c.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("read back: %v", err)
		}
		s := aws.ToString(out.Services[0].TaskDefinition)
		return s[strings.LastIndex(s, "/")+1:]
	}
	base := []string{"--cluster", "prod", "--service", "web"}
	reset := func() {
		srv.Reset(t)
		c.CreateCluster(ctx, &awsecs.CreateClusterInput{ClusterName: aws.String("prod")})
		writeTD("nginx:1")
		sd := filepath.Join(dir, "svc.json")
		os.WriteFile(sd, []byte(`{"serviceName":"web","desiredCount":1}`), 0o644)
		if code, _, stderr := runCLI(t, append([]string{"--endpoint-url", srv.URL, "ecs", "deploy", "--task-definition", td,
			"--service-definition", sd, "--no-wait"}, base...)...); code != 0 {
			t.Fatalf("create: %s", stderr)
		}
		writeTD("nginx:2")
	}
	lost := func(kind faultinject.Kind, nth int) faultinject.Rule {
		return faultinject.Rule{Operations: []string{"UpdateService"}, Nth: []int{nth}, Fault: faultinject.Fault{Kind: kind}}
	}

	t.Run("deploy, answer malformed", func(t *testing.T) {
		reset()
		proxy, ft := faultProxy(t, srv, lost(faultinject.Malformed, 1))
		code, out, stderr := runCLI(t, append([]string{"--endpoint-url", proxy, "--output", "json", "ecs", "deploy", "--task-definition", td, "--no-wait"}, base...)...)
		if code != 0 || runs() != "web:2" || len(ft.Injected()) != 1 {
			t.Fatalf("exit %d, service on %s, injected %v\n%s\n%s", code, runs(), ft.Injected(), out, stderr)
		}
		if !strings.Contains(out, "UpdateService's answer was lost") || len(parseResult(t, out).Left) != 0 {
			t.Fatalf("no note of the read-back, or a left report:\n%s", out)
		}
	})

	t.Run("rollback, answer malformed", func(t *testing.T) {
		reset()
		if code, _, stderr := runCLI(t, append([]string{"--endpoint-url", srv.URL, "ecs", "deploy", "--task-definition", td, "--no-wait"}, base...)...); code != 0 {
			t.Fatalf("deploy: %s", stderr)
		}
		proxy, _ := faultProxy(t, srv, lost(faultinject.Malformed, 1))
		code, out, stderr := runCLI(t, append([]string{"--endpoint-url", proxy, "--output", "json", "ecs", "rollback", "--wait=false"}, base...)...)
		if code != 0 || runs() != "web:1" {
			t.Fatalf("the rollback happened (service on %s) but deployctl exited %d\n%s\n%s", runs(), code, out, stderr)
		}
		if r := parseResult(t, out); r.ExitCode != 0 || r.Error != "" {
			t.Fatalf("result %+v", r)
		}
	})

	t.Run("rollback, no answer", func(t *testing.T) {
		reset()
		if code, _, stderr := runCLI(t, append([]string{"--endpoint-url", srv.URL, "ecs", "deploy", "--task-definition", td, "--no-wait"}, base...)...); code != 0 {
			t.Fatalf("deploy: %s", stderr)
		}
		proxy, _ := faultProxy(t, srv, lost(faultinject.Timeout, 1))
		code, out, stderr := runCLI(t, append([]string{"--endpoint-url", proxy, "ecs", "rollback", "--wait=false"}, base...)...)
		if code != 1 || runs() != "web:2" || !strings.Contains(stderr, "outcome is unknown") || !strings.Contains(stderr, "on web:2") {
			t.Fatalf("exit %d, service on %s\n%s\n%s", code, runs(), out, stderr)
		}
	})
}

// deployctl lambda: a canary whose final shift fails and whose rollback
// AWS keeps throttling past --cleanup-timeout exits 1 with one line that
// says the alias is left weighted (each version's share) and the exact
// command that repairs it, in text and in the JSON result; a shift whose
// answer was lost but which moto applied is a shift.
func TestLambdaLeftWeightedThroughDeployctl(t *testing.T) {
	srv, lc, zipPath, hist := lambdaOnMoto(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("DEPLOYCTL_STORE", t.TempDir())
	aliasOp := "PUT /2015-03-31/functions/app/aliases/live"
	alias := func() (string, map[string]float64) {
		out, err := lc.GetAlias(context.Background(), &awslambda.GetAliasInput{FunctionName: aws.String("app"), Name: aws.String("live")})
		if err != nil {
			t.Fatal(err)
		}
		var w map[string]float64
		if out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0 {
			w = out.RoutingConfig.AdditionalVersionWeights
		}
		return aws.ToString(out.FunctionVersion), w
	}
	repairWith := func(proxy string) {
		if code, _, stderr := runCLI(t, "--endpoint-url", srv.URL, "lambda", "stop", "--function", "app", "--alias", "live", "--history", hist); code != 0 {
			t.Fatalf("repair: %s", stderr)
		}
		if v, w := alias(); v != "1" || w != nil {
			t.Fatalf("after the repair the alias runs %s %v", v, w)
		}
	}
	for _, output := range []string{"text", "json"} {
		t.Run("rollback throttled/"+output, func(t *testing.T) {
			proxy, ft := faultProxy(t, srv,
				// The final shift fails (a 500 the read-back shows was
				// not applied); every UpdateAlias after it is throttled.
				faultinject.Rule{Operations: []string{aliasOp}, Nth: []int{2}, Fault: faultinject.Fault{Kind: faultinject.ServerError}},
				faultinject.Rule{Operations: []string{aliasOp}, After: 2, Fault: faultinject.Fault{Kind: faultinject.Throttle}})
			code, out, stderr := runCLI(t, "--endpoint-url", proxy, "--output", output, "--cleanup-timeout", "3s",
				"lambda", "deploy", "--function", "app", "--alias", "live", "--history", hist, "--zip", zipPath, "--strategy", "canary:10:1s")
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", code, out, stderr)
			}
			v, w := alias()
			if v != "1" || len(w) != 1 {
				t.Fatalf("the test wants the alias left weighted; it runs %s %v", v, w)
			}
			var newV string
			for k := range w {
				newV = k
			}
			repair := "deployctl lambda stop --function app --alias live --history " + hist
			want := "deployctl lambda: left serving app:" + newV + " at 10% and app:1 at 90%; repair: " + repair
			if !strings.Contains(stderr, want+"\n") {
				t.Fatalf("stderr lacks %q:\n%s", want, stderr)
			}
			if n := len(ft.Injected()); n < 3 {
				t.Fatalf("%d faults injected: the throttled rollback was not retried", n)
			}
			if output == "json" {
				r := parseResult(t, out)
				if r.ExitCode != 1 || len(r.Left) != 1 {
					t.Fatalf("result %+v\n%s", r, out)
				}
				l := r.Left[0]
				if l.Target != "lambda:app:live" || l.Repair != repair || !l.NeedsRepair || l.LastSeen ||
					len(l.Serving) != 2 || l.Serving[0].Revision.ID != newV || l.Serving[0].Percent != 10 ||
					l.Serving[1].Revision.ID != "1" || l.Serving[1].Percent != 90 {
					t.Fatalf("left %+v\n%s", l, out)
				}
			}
			repairWith(proxy)
		})
	}
	t.Run("shift answer malformed", func(t *testing.T) {
		proxy, ft := faultProxy(t, srv, faultinject.Rule{Operations: []string{aliasOp}, Nth: []int{1}, Fault: faultinject.Fault{Kind: faultinject.Malformed}})
		code, out, stderr := runCLI(t, "--endpoint-url", proxy, "--output", "json",
			"lambda", "deploy", "--function", "app", "--alias", "live", "--history", hist, "--version", "2", "--strategy", "canary:10:1s")
		if code != 0 || len(ft.Injected()) != 1 {
			t.Fatalf("moto applied the shift, yet exit %d (injected %v)\n%s\n%s", code, ft.Injected(), out, stderr)
		}
		if v, w := alias(); v != "2" || w != nil {
			t.Fatalf("alias %s %v", v, w)
		}
		if !strings.Contains(out, "Lambda took the update") {
			t.Fatalf("no note of the read-back:\n%s", out)
		}
	})
}

// The repair command each platform prints, from what the target was left
// serving.
func TestRepairCommands(t *testing.T) {
	v := func(id string) deploy.Revision { return deploy.Revision{ID: id, Label: "app:" + id} }
	one := v("1")
	weighted := &deploy.LeftError{DeploymentID: "d-1", Serving: []deploy.Share{{Revision: v("2"), Percent: 10}, {Revision: one, Percent: 90}}, Repair: &one, Live: true}
	onNew := &deploy.LeftError{DeploymentID: "d-1", Serving: []deploy.Share{{Revision: v("2"), Percent: 100}}, Repair: &one}
	none := func() *deploy.Deployment { return nil }
	live := func() *deploy.Deployment { return &deploy.Deployment{ID: "d-9", Status: deploy.StatusInProgress} }
	lf := &lambdaFlags{function: "app", alias: "live", history: defaultHistory()}
	cd := &lambdaFlags{function: "app", alias: "live", codeDeploy: "App/Group"}
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"ecs", ecsRepair("prod", "web")(weighted), "deployctl ecs rollback --cluster prod --service web"},
		{"lambda weighted", lambdaRepair(lf, none)(weighted), "deployctl lambda stop --function app --alias live"},
		{"lambda on the new version", lambdaRepair(lf, none)(onNew), "deployctl lambda rollback --function app --alias live --version 1"},
		{"lambda interrupted", lambdaRepair(lf, none)(nil), "deployctl lambda stop --function app --alias live"},
		{"lambda codedeploy live", lambdaRepair(cd, none)(weighted), "deployctl lambda stop --function app --alias live --codedeploy App/Group --deployment-id d-1"},
		{"lambda codedeploy ended", lambdaRepair(cd, none)(onNew), "deployctl lambda rollback --function app --alias live --codedeploy App/Group"},
		{"ec2 live", ec2Repair("App", "Group", none)(weighted), "deployctl ec2 stop --application App --group Group --deployment-id d-1"},
		{"ec2 ended", ec2Repair("App", "Group", none)(onNew), "deployctl ec2 rollback --application App --group Group"},
		{"ec2 interrupted while live", ec2Repair("App", "Group", live)(nil), "deployctl ec2 stop --application App --group Group --deployment-id d-9"},
		{"opsworks", opsworksRepair("stack-1", "app-1")(onNew), "deployctl opsworks rollback --stack stack-1 --app app-1"},
		{"quoting", ecsRepair("prod", "my service")(nil), "deployctl ecs rollback --cluster prod --service 'my service'"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		target deploy.Target
		want   string
	}{
		{ecs.Target("prod", "web"), "deployctl ecs rollback --cluster prod --service web"},
		{lambda.Target("app", "live"), "deployctl lambda stop --function app --alias live"},
		{ec2.Target("App", "Group"), "deployctl ec2 rollback --application App --group Group"},
		{opsworks.Target("s", "a"), "deployctl opsworks rollback --stack s --app a"},
	} {
		if got := targetRepair(tc.target)(nil); got != tc.want {
			t.Errorf("fleet target %s: %q, want %q", tc.target, got, tc.want)
		}
	}
	// A fleet's failures are joined: each target whose cleanup failed
	// gets its line.
	joined := errors.Join(fmt.Errorf("web: %w", weighted), errors.New("other"), &deploy.Error{Err: onNew})
	if got := leftErrors(joined); len(got) != 2 || got[0] != weighted || got[1] != onNew {
		t.Errorf("leftErrors = %v", got)
	}
	if code, _, stderr := runCLI(t, "--cleanup-timeout", "0s", "version"); code != 2 || !strings.Contains(stderr, "--cleanup-timeout") {
		t.Errorf("--cleanup-timeout 0s: exit %d, %s", code, stderr)
	}
}
