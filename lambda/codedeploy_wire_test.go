package lambda_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/bufclient"
	"github.com/switchyard/switchyard/internal/codedeployserver"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// The CodeDeploy-managed driver with its CodeDeploy client on the wire:
// the real SDK client against codedeployserver's awsJson1.1 endpoint over
// the in-memory CodeDeploy. Its Lambda side is, in turn, the real SDK
// client against moto_server ("moto", skipped where moto_server is not
// installed) and the in-memory lambdafake ("memory"), so the CodeDeploy
// wire is tested everywhere. cdGlue, on the server side, moves the alias as
// CodeDeploy would (moto cannot run CodeDeploy deployments). The engine,
// the tracker's polls and the fake's deployments share one auto clock.

// httpLog is an aws.HTTPClient that records "METHOD PATH" of every request
// before passing it on.
type httpLog struct {
	next aws.HTTPClient
	mu   sync.Mutex
	reqs []string
}

func (l *httpLog) Do(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r.Method+" "+r.URL.Path)
	l.mu.Unlock()
	return l.next.Do(r)
}

// all returns every request so far.
func (l *httpLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

// eventLog collects engine events.
type eventLog struct {
	mu sync.Mutex
	ev []deploy.Event
}

func (l *eventLog) add(e deploy.Event) {
	l.mu.Lock()
	l.ev = append(l.ev, e)
	l.mu.Unlock()
}

// of returns the messages of the events of kind k for deployment id.
func (l *eventLog) of(k deploy.EventKind, id string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.ev {
		if e.Kind == k && e.DeploymentID == id {
			out = append(out, e.Message)
		}
	}
	return out
}

// percents returns the traffic percentages of the shift events of
// deployment id.
func (l *eventLog) percents(id string) []float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []float64
	for _, e := range l.ev {
		if e.Kind == deploy.EventShift && e.DeploymentID == id {
			out = append(out, e.Percent)
		}
	}
	return out
}

// statuses returns every status an event reported for deployment id.
func (l *eventLog) statuses(id string) []deploy.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []deploy.Status
	for _, e := range l.ev {
		if e.DeploymentID == id && e.Status != "" && (len(out) == 0 || out[len(out)-1] != e.Status) {
			out = append(out, e.Status)
		}
	}
	return out
}

// lambdaSide is the Lambda the driver talks to: function "app" with
// versions 1 and 2, alias "live" on 2, and two alarms in state OK,
// "app-live-errors" and "app-live-latency".
type lambdaSide struct {
	// client and invoker are the driver's and the hooks' clients.
	client  lambda.Client
	invoker lambda.Invoker
	// cw answers the alarm gate.
	cw platform.CloudWatchAPI
	// point moves the alias as CodeDeploy does, outside the driver's calls.
	point aliasPointer
	// alias reads the alias as "VERSION map[WEIGHTS]".
	alias func(t *testing.T) string
	// versions lists the published versions.
	versions func(t *testing.T) []string
	// calls returns the driver's calls so far: how many reads, and the
	// operation names of the mutating ones.
	calls func() (reads int, mutating []string)
}

// memoryLambda is the in-memory Lambda.
func memoryLambda(t *testing.T) *lambdaSide {
	lf := lambdafake.New()
	lf.AddFunction("app", 2)
	lf.AddAlias("app", "live", "2", nil)
	lf.AddFunction("app-pre", 1)
	lf.AddFunction("app-post", 1)
	return &lambdaSide{client: lf, invoker: lf,
		cw:    &fakeCW{alarms: map[string]cwtypes.StateValue{"app-live-errors": cwtypes.StateValueOk, "app-live-latency": cwtypes.StateValueOk}},
		point: fakePointer(lf),
		alias: func(t *testing.T) string {
			v, w := lf.Alias("app", "live")
			return fmt.Sprintf("%s %v", v, w)
		},
		versions: func(*testing.T) []string { return lf.Versions("app") },
		calls: func() (int, []string) {
			reads, mut := 0, []string(nil)
			for _, c := range lf.Calls() {
				if c.Mutating {
					mut = append(mut, c.Op)
				} else {
					reads++
				}
			}
			return reads, mut
		},
	}
}

// motoLambda is moto_server's Lambda and CloudWatch through the real SDK
// clients. The driver's client records its HTTP requests; CodeDeploy's
// moves of the alias use a client of their own.
func motoLambda(t *testing.T) *lambdaSide {
	m := newMotoEnv(t)
	ctx := context.Background()
	if _, err := m.lc.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("app"),
		ZipFile: zipOf(t, "return 2"), Publish: true}); err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}
	if _, err := m.lc.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("app"), Name: aws.String("live"),
		FunctionVersion: aws.String("2")}); err != nil {
		t.Fatalf("UpdateAlias: %v", err)
	}
	for _, name := range []string{"app-live-errors", "app-live-latency"} {
		if _, err := m.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(name), Namespace: aws.String("AWS/Lambda"), MetricName: aws.String("Errors"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		}); err != nil {
			t.Fatalf("PutMetricAlarm: %v", err)
		}
	}
	cfg := m.srv.Config()
	log := &httpLog{next: cfg.HTTPClient}
	cfg.HTTPClient = log
	return &lambdaSide{client: awslambda.NewFromConfig(cfg), invoker: m.lc, cw: m.cw,
		point: func(fn, alias, version string, weights map[string]float64) error {
			rc := &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights}
			if weights == nil {
				rc.AdditionalVersionWeights = map[string]float64{}
			}
			_, err := m.lc.UpdateAlias(context.Background(), &awslambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String(alias),
				FunctionVersion: aws.String(version), RoutingConfig: rc})
			return err
		},
		alias: func(t *testing.T) string {
			v, w := m.alias(t)
			return fmt.Sprintf("%s %v", v, w)
		},
		versions: func(t *testing.T) []string {
			out, err := m.lc.ListVersionsByFunction(context.Background(), &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("app")})
			if err != nil {
				t.Fatalf("ListVersionsByFunction: %v", err)
			}
			var vs []string
			for _, v := range out.Versions {
				if aws.ToString(v.Version) != "$LATEST" {
					vs = append(vs, aws.ToString(v.Version))
				}
			}
			return vs
		},
		calls: func() (int, []string) {
			reads, mut := 0, []string(nil)
			for _, r := range log.all() {
				if strings.HasPrefix(r, http.MethodGet+" ") {
					reads++
				} else {
					mut = append(mut, lambdaOp(r))
				}
			}
			return reads, mut
		},
	}
}

// lambdaOp names the Lambda operation of a mutating REST request.
func lambdaOp(req string) string {
	method, path, _ := strings.Cut(req, " ")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) >= 4 && parts[1] == "functions" {
		switch {
		case method == http.MethodPut && parts[3] == "code":
			return "UpdateFunctionCode"
		case method == http.MethodPut && parts[3] == "configuration":
			return "UpdateFunctionConfiguration"
		case method == http.MethodPost && parts[3] == "versions":
			return "PublishVersion"
		case method == http.MethodPut && parts[3] == "aliases":
			return "UpdateAlias"
		}
	}
	return req
}

// forEachLambda runs test once per Lambda side, each with a fresh setup.
func forEachLambda(t *testing.T, test func(t *testing.T, w *cdWire)) {
	for _, side := range []struct {
		name string
		new  func(*testing.T) *lambdaSide
	}{{"memory", memoryLambda}, {"moto", motoLambda}} {
		t.Run(side.name, func(t *testing.T) { test(t, newCDWire(t, side.new(t))) })
	}
}

type cdWire struct {
	lambda  *lambdaSide
	fake    *codedeployfake.Fake
	glue    *cdGlue
	cdCalls *httpLog // the X-Amz-Target of every request the CodeDeploy endpoint received
	eng     *deploy.Engine
	events  *eventLog
	tgt     deploy.Target
}

// newCDWire serves a CodeDeploy Lambda deployment group app/app-live,
// whose lifecycle events take a minute each and whose current revision is
// the deployment that moved the alias from 1 to 2, and builds the driver
// over it and ls.
func newCDWire(t *testing.T, ls *lambdaSide) *cdWire {
	t.Helper()
	clk := deploytest.NewAutoClock(time.Time{})
	fake := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: time.Minute})
	seed, err := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "1", TargetVersion: "2"}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	fake.AddGroup(codedeployfake.Group{Application: "app", Name: "app-live", ComputePlatform: cdtypes.ComputePlatformLambda,
		Targets: []string{"app:live"},
		Current: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(seed), Sha256: aws.String(lambda.Sha256(seed))}}})
	glue := newCDGlue(fake, ls.point, true)

	cdCalls := &httpLog{}
	h := codedeployserver.Handler(glue)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdCalls.mu.Lock()
		cdCalls.reqs = append(cdCalls.reqs, r.Header.Get("X-Amz-Target"))
		cdCalls.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	cd := codedeploy.NewFromConfig(aws.Config{
		Region:           codedeployserver.Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       bufclient.Client{HTTP: &http.Client{Transport: tr}},
	})

	drv := lambda.NewCodeDeploy(ls.client, cd, lambda.CodeDeployOptions{Options: lambda.Options{Clock: clk},
		CodeDeployApplication: "app", CodeDeployDeploymentGroup: "app-live"})
	events := &eventLog{}
	t.Cleanup(func() {
		if err := glue.Err(); err != nil {
			t.Errorf("moving the alias as CodeDeploy: %v", err)
		}
	})
	return &cdWire{lambda: ls, fake: fake, glue: glue, cdCalls: cdCalls,
		// A CodeDeploy stop stays pending while the running lifecycle event
		// lasts, which is the whole 5-minute bake of the canary these tests
		// deploy: give the engine's cleanup more than that.
		eng:    deploy.New(drv, deploy.Options{Clock: clk, OnEvent: events.add, CleanupTimeout: 15 * time.Minute}),
		events: events, tgt: lambda.Target("app", "live")}
}

// request deploys a new package (published as version 3) with the canary
// CodeDeploy config, hook functions for both traffic phases, the alarm
// gate over the two alarms plus one more alarm by name.
func (w *cdWire) request(t *testing.T, rollbackOn deploy.RollbackOn) deploy.Request {
	t.Helper()
	gate, err := platform.NewAlarmGate(w.lambda.cw, platform.AlarmGateOptions{Prefixes: []string{"app-live-"}})
	if err != nil {
		t.Fatal(err)
	}
	return deploy.Request{Target: w.tgt, Strategy: mustStrategy(t, "canary:10:5m"), Comment: "release 3", RollbackOn: rollbackOn,
		Options: &lambda.DeployOptions{Zip: zipOf(t, "return 3"), Alarms: []string{"extra-alarm"}},
		Gates: []deploy.Gate{gate,
			lambda.HookFunction(w.lambda.invoker, "app-pre", deploy.PhaseBeforeTraffic, lambda.HookOptions{}),
			lambda.HookFunction(w.lambda.invoker, "app-post", deploy.PhaseAfterTraffic, lambda.HookOptions{})}}
}

// calls returns the fake's recorded calls of op.
func (w *cdWire) calls(op string) []any {
	var out []any
	for _, c := range w.fake.Calls() {
		if c.Op == op {
			out = append(out, c.Input)
		}
	}
	return out
}

// creates returns the CreateDeployment inputs as the server decoded them.
func (w *cdWire) creates() []*codedeploy.CreateDeploymentInput {
	var out []*codedeploy.CreateDeploymentInput
	for _, in := range w.calls("CreateDeployment") {
		out = append(out, in.(*codedeploy.CreateDeploymentInput))
	}
	return out
}

// alias reads the alias as "VERSION map[WEIGHTS]".
func (w *cdWire) alias(t *testing.T) string {
	t.Helper()
	return w.lambda.alias(t)
}

func TestCodeDeployWireCanary(t *testing.T) {
	forEachLambda(t, func(t *testing.T, w *cdWire) {
		ctx := context.Background()
		rollbackOn := deploy.OnFailure | deploy.OnAlarm
		d, err := w.eng.Deploy(ctx, w.request(t, rollbackOn))
		if err != nil {
			t.Fatalf("Deploy: %v", err)
		}
		if d.Status != deploy.StatusSucceeded || d.From == nil || d.From.ID != "2" || d.To.ID != "3" || d.Percent != 100 {
			t.Fatalf("deployment %s %v%% %v -> %s", d.Status, d.Percent, d.From, d.To.ID)
		}
		det, ok := d.Detail.(*lambda.CodeDeployDetail)
		if !ok || !det.Published || det.CodeDeployID != d.ID {
			t.Fatalf("detail %#v", d.Detail)
		}

		// What CodeDeploy received, decoded by the server from the SDK's
		// serialization, is exactly what the driver built.
		creates := w.creates()
		if len(creates) != 1 {
			t.Fatalf("%d CreateDeployment calls, want 1", len(creates))
		}
		got := creates[0]
		want := lambda.CreateDeploymentInput("app", "app-live", "CodeDeployDefault.LambdaCanary10Percent5Minutes", det.AppSpec,
			rollbackOn, []string{"app-live-errors", "app-live-latency", "extra-alarm"}, false)
		want.Description = aws.String("release 3")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CreateDeployment on the server:\n%s\nwant\n%s", dump(got), dump(want))
		}
		// And field by field, against what the request asked for.
		if c := aws.ToString(got.DeploymentConfigName); c != "CodeDeployDefault.LambdaCanary10Percent5Minutes" {
			t.Errorf("config %q", c)
		}
		if got.Revision == nil || got.Revision.RevisionType != cdtypes.RevisionLocationTypeAppSpecContent || got.Revision.AppSpecContent == nil {
			t.Fatalf("revision %+v", got.Revision)
		}
		content := aws.ToString(got.Revision.AppSpecContent.Content)
		if content != det.AppSpec {
			t.Errorf("AppSpec content changed on the wire:\n%s\nsent\n%s", content, det.AppSpec)
		}
		spec, err := lambda.ParseAppSpec([]byte(content))
		if err != nil {
			t.Fatal(err)
		}
		if wantSpec := (lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "2", TargetVersion: "3",
			BeforeAllowTraffic: "app-pre", AfterAllowTraffic: "app-post"}); spec != wantSpec {
			t.Errorf("AppSpec %+v, want %+v", spec, wantSpec)
		}
		sum := sha256.Sum256([]byte(content))
		if s := aws.ToString(got.Revision.AppSpecContent.Sha256); s != hex.EncodeToString(sum[:]) {
			t.Errorf("sha256 %s, want %s", s, hex.EncodeToString(sum[:]))
		}
		if ar := got.AutoRollbackConfiguration; ar == nil || !ar.Enabled ||
			!reflect.DeepEqual(ar.Events, []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure, cdtypes.AutoRollbackEventDeploymentStopOnAlarm}) {
			t.Errorf("auto rollback %+v", ar)
		}
		ac := got.OverrideAlarmConfiguration
		if ac == nil || !ac.Enabled || ac.IgnorePollAlarmFailure {
			t.Fatalf("alarm configuration %+v", ac)
		}
		var alarms []string
		for _, a := range ac.Alarms {
			alarms = append(alarms, aws.ToString(a.Name))
		}
		if !reflect.DeepEqual(alarms, []string{"app-live-errors", "app-live-latency", "extra-alarm"}) {
			t.Errorf("alarms %v", alarms)
		}

		// The engine followed CodeDeploy's traffic: 10% for the canary, then
		// all of it, and CodeDeploy (not the driver) moved the alias.
		if pct := w.events.percents(d.ID); !reflect.DeepEqual(pct, []float64{10, 100}) {
			t.Errorf("shift events at %v%%, want [10 100]", pct)
		}
		if got, want := w.glue.Moves(), []string{"2 map[3:0.1]", "3 map[]"}; !reflect.DeepEqual(got, want) {
			t.Errorf("alias moves %q, want %q", got, want)
		}
		if a := w.alias(t); a != "3 map[]" {
			t.Errorf("alias %s, want 3 alone", a)
		}
		// The driver's only mutating Lambda call: the package upload, which
		// publishes the version too. Never an alias update.
		if _, got := w.lambda.calls(); !reflect.DeepEqual(got, []string{"UpdateFunctionCode"}) {
			t.Errorf("mutating Lambda calls %q, want only UpdateFunctionCode", got)
		}
		if s := w.events.statuses(d.ID); s[len(s)-1] != deploy.StatusSucceeded {
			t.Errorf("statuses %v", s)
		}

		// History over the wire: ListDeployments and BatchGetDeployments.
		h, err := w.eng.History(ctx, w.tgt)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		var hist []string
		for _, e := range h {
			hist = append(hist, fmt.Sprintf("%s %s %s current=%v", e.Revision.ID, e.DeploymentID, e.Status, e.Current))
		}
		if want := []string{"3 " + d.ID + " Succeeded current=true", "2  Succeeded current=false"}; !reflect.DeepEqual(hist, want) {
			t.Errorf("history %q, want %q", hist, want)
		}
	})
}

func TestCodeDeployWireHookFailureRollsBack(t *testing.T) {
	forEachLambda(t, func(t *testing.T, w *cdWire) {
		w.fake.FailNext("AfterAllowTraffic", "")
		d, err := w.eng.Deploy(context.Background(), w.request(t, deploy.OnFailure))
		if !errors.Is(err, deploy.ErrRolledBack) {
			t.Fatalf("err = %v, want ErrRolledBack", err)
		}
		if d == nil || d.Status != deploy.StatusRolledBack {
			t.Fatalf("deployment %+v, want RolledBack", d)
		}
		if d.RolledBackBy == "" || d.RolledBackBy == d.ID || !strings.Contains(d.Reason, "AfterAllowTraffic") {
			t.Fatalf("rolled back by %q, reason %q", d.RolledBackBy, d.Reason)
		}
		if slices.Contains(w.events.statuses(d.ID), deploy.StatusSucceeded) {
			t.Fatalf("the engine reported Succeeded on the way: %v", w.events.statuses(d.ID))
		}
		// CodeDeploy rolled back by itself (one CreateDeployment: the engine
		// made no rollback deployment of its own), with a deployment that
		// points at this one.
		if n := len(w.creates()); n != 1 {
			t.Fatalf("%d CreateDeployment calls, want 1", n)
		}
		rb, ok := w.fake.Deployment(d.RolledBackBy)
		if !ok || rb.Status != cdtypes.DeploymentStatusSucceeded || rb.Creator != cdtypes.DeploymentCreatorCodeDeployRollback ||
			rb.RollbackInfo == nil || aws.ToString(rb.RollbackInfo.RollbackTriggeringDeploymentId) != d.ID {
			t.Fatalf("rollback deployment %+v", rb)
		}
		// The alias took the canary, then all traffic, and went back to 2 when
		// the hook failed.
		if got, want := w.glue.Moves(), []string{"2 map[3:0.1]", "3 map[]", "2 map[]"}; !reflect.DeepEqual(got, want) {
			t.Errorf("alias moves %q, want %q", got, want)
		}
		if a := w.alias(t); a != "2 map[]" {
			t.Errorf("alias %s, want 2 alone", a)
		}
		if !slices.ContainsFunc(w.events.of(deploy.EventMessage, d.ID), func(m string) bool { return strings.Contains(m, "AfterAllowTraffic") }) {
			t.Errorf("no message about the failed hook in %q", w.events.of(deploy.EventMessage, d.ID))
		}
	})
}

func TestCodeDeployWireStopPendingThenRollsBack(t *testing.T) {
	forEachLambda(t, func(t *testing.T, w *cdWire) {
		ctx := context.Background()
		w.fake.StopPending(1)
		req := w.request(t, 0)
		op := w.operator()
		req.Gates = append(req.Gates, op)
		d, err := w.eng.Deploy(ctx, req)
		if outcome, stopErr := op.outcome, op.err; stopErr != nil || outcome != deploy.StopPending {
			t.Fatalf("Engine.Stop = %q, %v; want Pending", outcome, stopErr)
		}
		if !errors.Is(err, deploy.ErrRolledBack) {
			t.Fatalf("err = %v, want ErrRolledBack", err)
		}
		if d.Status != deploy.StatusRolledBack || d.RolledBackBy == "" {
			t.Fatalf("deployment %s rolled back by %q (%s)", d.Status, d.RolledBackBy, d.Reason)
		}
		// Every StopDeployment asked for auto-rollback; the engine asked again
		// while CodeDeploy answered Pending, until it answered Succeeded.
		stops := w.calls("StopDeployment")
		if len(stops) < 2 {
			t.Fatalf("%d StopDeployment calls, want the pending one and at least one more", len(stops))
		}
		for i, in := range stops {
			s := in.(*codedeploy.StopDeploymentInput)
			if aws.ToString(s.DeploymentId) != d.ID || s.AutoRollbackEnabled == nil || !*s.AutoRollbackEnabled {
				t.Errorf("StopDeployment %d: %s rollback %v", i, aws.ToString(s.DeploymentId), s.AutoRollbackEnabled)
			}
		}
		msgs := w.events.of(deploy.EventStop, d.ID)
		t.Logf("stop events %q, StopDeployment calls %d, reason %q", msgs, len(stops), d.Reason)
		if len(msgs) < 3 || msgs[0] != "stop requested" || !slices.Contains(msgs, "stop Pending") || msgs[len(msgs)-1] != "stop Succeeded" {
			t.Errorf("stop events %q", msgs)
		}
		info, _ := w.fake.Deployment(d.ID)
		if info.Status != cdtypes.DeploymentStatusStopped || info.ErrorInformation == nil || info.ErrorInformation.Code != cdtypes.ErrorCodeManualStop {
			t.Errorf("CodeDeploy record %s %+v", info.Status, info.ErrorInformation)
		}
		if n := len(w.creates()); n != 1 {
			t.Errorf("%d CreateDeployment calls, want 1 (CodeDeploy rolls back by itself)", n)
		}
		if got, want := w.glue.Moves(), []string{"2 map[3:0.1]", "2 map[]"}; !reflect.DeepEqual(got, want) {
			t.Errorf("alias moves %q, want %q", got, want)
		}
		if a := w.alias(t); a != "2 map[]" {
			t.Errorf("alias %s, want 2 alone", a)
		}
	})
}

// operator is a gate that stops the deployment with rollback through
// Engine.Stop, once, when the canary has 10% of the traffic.
type operator struct {
	eng     *deploy.Engine
	once    sync.Once
	outcome deploy.StopOutcome
	err     error
}

func (w *cdWire) operator() *operator { return &operator{eng: w.eng} }

func (o *operator) Name() string { return "operator" }

func (o *operator) Check(ctx context.Context, c deploy.Check) error {
	if c.Phase == deploy.PhaseWatch && c.Percent >= 10 {
		o.once.Do(func() {
			o.outcome, o.err = o.eng.Stop(ctx, c.Deployment, deploy.StopOptions{Rollback: true, Reason: "operator stop"})
		})
	}
	return nil
}

// When CodeDeploy refuses to stop (the third outcome), Engine.Stop reports
// ErrCannotStop with the SDK's exception decoded from the wire; the
// deployment runs to its end on the platform and the engine then rolls it
// back with a deployment of its own.
func TestCodeDeployWireStopRefused(t *testing.T) {
	forEachLambda(t, func(t *testing.T, w *cdWire) {
		ctx := context.Background()
		w.fake.RefuseStop(&cdtypes.UnsupportedActionForDeploymentTypeException{Message: aws.String("cannot stop this deployment")})
		req := w.request(t, 0)
		op := w.operator()
		req.Gates = append(req.Gates, op)
		d, err := w.eng.Deploy(ctx, req)
		var refused *cdtypes.UnsupportedActionForDeploymentTypeException
		if !errors.Is(op.err, deploy.ErrCannotStop) || !errors.As(op.err, &refused) || op.outcome != "" {
			t.Fatalf("Engine.Stop = %q, %v; want ErrCannotStop wrapping the SDK exception", op.outcome, op.err)
		}
		if !strings.Contains(aws.ToString(refused.Message), "cannot stop this deployment") {
			t.Errorf("exception message %q", aws.ToString(refused.Message))
		}
		if !errors.Is(err, deploy.ErrRolledBack) || !errors.Is(err, deploy.ErrCannotStop) {
			t.Fatalf("err = %v, want ErrRolledBack and ErrCannotStop", err)
		}
		if d.Status != deploy.StatusRolledBack || d.RolledBackBy == "" {
			t.Fatalf("deployment %s rolled back by %q (%s)", d.Status, d.RolledBackBy, d.Reason)
		}
		info, _ := w.fake.Deployment(d.ID)
		if info.Status != cdtypes.DeploymentStatusSucceeded {
			t.Errorf("CodeDeploy record of %s: %s, want Succeeded (it could not be stopped)", d.ID, info.Status)
		}
		// The rollback is the engine's: a second CodeDeploy deployment from
		// 3 back to 2, linked to the first.
		creates := w.creates()
		if len(creates) != 2 {
			t.Fatalf("%d CreateDeployment calls, want 2", len(creates))
		}
		spec, err := lambda.ParseAppSpec([]byte(aws.ToString(creates[1].Revision.AppSpecContent.Content)))
		if err != nil {
			t.Fatal(err)
		}
		if spec.CurrentVersion != "3" || spec.TargetVersion != "2" {
			t.Errorf("rollback AppSpec %+v, want 3 -> 2", spec)
		}
		rb, err := w.eng.Status(ctx, &deploy.Deployment{ID: d.RolledBackBy, Target: w.tgt})
		if err != nil || rb.Status != deploy.StatusSucceeded {
			t.Fatalf("rollback deployment %s: %v %v", d.RolledBackBy, rb, err)
		}
		if got, want := w.glue.Moves(), []string{"2 map[3:0.1]", "3 map[]", "2 map[]"}; !reflect.DeepEqual(got, want) {
			t.Errorf("alias moves %q, want %q", got, want)
		}
		if a := w.alias(t); a != "2 map[]" {
			t.Errorf("alias %s, want 2 alone", a)
		}
	})
}

func TestCodeDeployWireDryRun(t *testing.T) {
	forEachLambda(t, func(t *testing.T, w *cdWire) {
		ctx := context.Background()
		before := w.alias(t)
		p, err := w.eng.Plan(ctx, w.request(t, deploy.OnFailure|deploy.OnAlarm))
		if err != nil {
			t.Fatalf("Plan: %v", err)
		}
		if p.Mode != deploy.ModePlatform || p.From == nil || p.From.ID != "2" {
			t.Fatalf("plan:\n%s", p)
		}
		if !slices.ContainsFunc(p.Changes, func(c deploy.Change) bool {
			return c.Path == "codedeploy.app/app-live" && strings.Contains(c.New, "CodeDeployDefault.LambdaCanary10Percent5Minutes")
		}) {
			t.Errorf("no CodeDeploy change in the plan:\n%s", p)
		}
		if s := p.String(); !strings.Contains(s, "app-live-errors, app-live-latency, extra-alarm") || !strings.Contains(s, "DEPLOYMENT_FAILURE") {
			t.Errorf("plan does not name the alarms and rollback events:\n%s", s)
		}
		if calls := w.fake.Calls(); len(calls) != 0 {
			t.Errorf("the dry run called CodeDeploy: %+v", calls)
		}
		if reqs := w.cdCalls.all(); len(reqs) != 0 {
			t.Errorf("the dry run sent requests to CodeDeploy: %q", reqs)
		}
		reads, mut := w.lambda.calls()
		if len(mut) != 0 {
			t.Errorf("the dry run made mutating Lambda calls: %q", mut)
		}
		if reads == 0 {
			t.Error("the dry run read nothing from Lambda")
		}
		if v := w.lambda.versions(t); !reflect.DeepEqual(v, []string{"1", "2"}) {
			t.Errorf("versions %v after the dry run, want [1 2]", v)
		}
		if a := w.alias(t); a != before {
			t.Errorf("alias %s, was %s", a, before)
		}
	})
}

// dump renders an SDK input for a failure message.
func dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
