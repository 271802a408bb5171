package opsworks_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/opsworks/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/opsworksserver"
	"github.com/switchyard/switchyard/opsworks"
)

// wire is env with the driver on the real SDK client, talking to the
// in-memory OpsWorks through opsworksserver.
type wire struct {
	*env
	srv    *opsworksserver.Server
	mu     sync.Mutex
	events []deploy.Event
}

func newWire(t *testing.T) *wire {
	e := newEnv(t)
	w := &wire{env: e, srv: opsworksserver.Start(t, e.fake)}
	e.drv = opsworks.New(w.srv.Client(), opsworks.Options{Clock: e.clock})
	e.eng = deploy.New(e.drv, deploy.Options{Clock: e.clock, OnEvent: func(ev deploy.Event) {
		w.mu.Lock()
		w.events = append(w.events, ev)
		w.mu.Unlock()
	}})
	return w
}

func (w *wire) eventText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, ev := range w.events {
		b.WriteString(string(ev.Kind) + " " + ev.Message)
		if ev.Err != nil {
			b.WriteString(" " + ev.Err.Error())
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestWireDeployAndDescribe(t *testing.T) {
	w := newWire(t)
	ctx := context.Background()
	secret := `{"db":{"password":"hunter2-very-secret"}}`
	d, err := w.eng.Deploy(ctx, deploy.Request{Target: w.tgt, Revision: deploy.Revision{ID: "v2"}, Comment: "release 2",
		Options: &opsworks.DeployOptions{Args: map[string][]string{"migrate": {"true"}}, CustomJSON: secret}})
	if err != nil {
		t.Fatalf("Deploy: %v\n%s", err, w.eventText())
	}
	if d.Status != deploy.StatusSucceeded || d.Percent != 100 || d.To.ID != "v2" || d.From == nil || d.From.ID != "v1" {
		t.Fatalf("deployment = %s %v%% %v -> %s", d.Status, d.Percent, d.From, d.To.ID)
	}
	if got := w.fake.Serving("app-1"); got["v2"] != 100 {
		t.Fatalf("serving %v", got)
	}
	if w.fake.CustomJSON(d.ID) != secret {
		t.Fatalf("custom JSON did not reach OpsWorks")
	}
	if w.fake.AppRevision("app-1") != "v2" {
		t.Fatalf("app source revision %q", w.fake.AppRevision("app-1"))
	}
	targets := w.srv.Targets()
	for _, op := range []string{"DescribeApps", "DescribeDeployments", "UpdateApp", "CreateDeployment", "DescribeCommands"} {
		if !slices.Contains(targets, opsworksserver.TargetPrefix+op) {
			t.Errorf("no %s call over the wire: %v", op, targets)
		}
	}
	// The create call carried the command, its args, the comment and the custom JSON.
	var create string
	for i, tg := range targets {
		if tg == opsworksserver.TargetPrefix+"CreateDeployment" {
			create = w.srv.Bodies()[i]
		}
	}
	for _, want := range []string{`"Name":"deploy"`, `"migrate":["true"]`, `release 2`, `"StackId":"stack-1"`, `"AppId":"app-1"`, `hunter2`} {
		if !strings.Contains(create, want) {
			t.Errorf("CreateDeployment body lacks %s: %s", want, create)
		}
	}
	// The SSH key OpsWorks filters in answers was not overwritten.
	for i, tg := range targets {
		if tg == opsworksserver.TargetPrefix+"UpdateApp" && strings.Contains(w.srv.Bodies()[i], "BEGIN KEY") {
			t.Errorf("UpdateApp sent the key in clear, which the driver never saw: %s", w.srv.Bodies()[i])
		}
	}
	if txt := w.eventText(); strings.Contains(txt, "hunter2") {
		t.Errorf("custom JSON in events:\n%s", txt)
	}
	for _, inst := range []string{"i-1", "i-2", "i-3"} {
		if !strings.Contains(w.eventText(), "instance "+inst+": deploy successful") {
			t.Errorf("no event for %s's command:\n%s", inst, w.eventText())
		}
	}
	// Describe: Status of the finished deployment, and History.
	got, err := w.drv.Status(ctx, &deploy.Deployment{ID: d.ID, Target: w.tgt})
	if err != nil || got.Status != deploy.StatusSucceeded || got.To.ID != "v2" || len(got.Instances) != 3 {
		t.Fatalf("Status: %+v %v", got, err)
	}
	h, err := w.drv.History(ctx, w.tgt)
	if err != nil || len(h) != 2 || !h[0].Current || h[0].Revision.ID != "v2" || h[1].Revision.ID != "v1" {
		t.Fatalf("History: %v %v", h, err)
	}
}

func TestWireCommandFailsOnOneInstance(t *testing.T) {
	w := newWire(t)
	w.fake.FailNext(1)
	d, err := w.eng.Deploy(context.Background(), deploy.Request{Target: opsworks.Target("stack-1", ""),
		Options: &opsworks.DeployOptions{Command: opsworks.CommandExecuteRecipes, Args: map[string][]string{"recipes": {"phpapp::appsetup"}}}})
	if !errors.Is(err, deploy.ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed", err)
	}
	if d.Status != deploy.StatusFailed {
		t.Fatalf("status %s", d.Status)
	}
	for _, want := range []string{"i-3", "exit 1", "https://opsworks-logs.example.com/" + d.ID + "/i-3.log", "1 of 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	f := opsworks.FailedInstances(d)
	if len(f) != 1 || f[0].InstanceID != "i-3" || f[0].LogURL == "" {
		t.Errorf("FailedInstances = %v", f)
	}
	if !strings.Contains(w.eventText(), "instance i-3 (exit 1)") || !strings.Contains(w.eventText(), "instance i-1: execute_recipes successful") {
		t.Errorf("per-instance events missing:\n%s", w.eventText())
	}
	var failed int
	for _, in := range d.Instances {
		if in.Status == deploy.StatusFailed {
			failed++
		}
	}
	if failed != 1 || len(d.Instances) != 3 {
		t.Errorf("instances %+v", d.Instances)
	}
}

func TestWireServiceExceptions(t *testing.T) {
	w := newWire(t)
	ctx := context.Background()
	// ResourceNotFoundException: an app that does not exist.
	_, err := w.eng.Plan(ctx, deploy.Request{Target: opsworks.Target("stack-1", "nope"), Revision: deploy.Revision{ID: "v2"}})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) || !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("missing app: err = %v, want *types.ResourceNotFoundException and ErrNotFound", err)
	}
	var de *deploy.Error
	if !errors.As(err, &de) || de.Platform != opsworks.Platform {
		t.Errorf("err %v is not an opsworks *deploy.Error", err)
	}
	// ... and an unknown deployment.
	_, err = w.drv.Status(ctx, &deploy.Deployment{ID: "d-9999", Target: w.tgt})
	if !errors.As(err, &rnf) || !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("unknown deployment: err = %v", err)
	}
	// ... and a stack that does not exist.
	_, err = w.eng.Deploy(ctx, deploy.Request{Target: opsworks.Target("stack-nope", ""),
		Options: &opsworks.DeployOptions{Command: opsworks.CommandSetup}})
	if !errors.As(err, &rnf) || !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("unknown stack: err = %v", err)
	}
	// A layer or an instance the stack does not have is refused before
	// anything changes.
	for _, o := range []*opsworks.DeployOptions{{Command: opsworks.CommandSetup, LayerIDs: []string{"no-such-layer"}},
		{Command: opsworks.CommandSetup, InstanceIDs: []string{"i-9"}}} {
		_, err = w.eng.Deploy(ctx, deploy.Request{Target: opsworks.Target("stack-1", ""), Options: o})
		if !errors.Is(err, deploy.ErrNotFound) || w.fake.Mutations() != 0 {
			t.Fatalf("unknown layer or instance: err = %v, %d mutations", err, w.fake.Mutations())
		}
	}
	// ValidationException, as OpsWorks answers a request it refuses.
	mut := w.fake.Mutations()
	w.fake.FailCall("CreateDeployment", &types.ValidationException{Message: aws.String("Instance i-1 is not online")})
	_, err = w.eng.Deploy(ctx, deploy.Request{Target: w.tgt, Revision: deploy.Revision{ID: "v2"}})
	var ve *types.ValidationException
	if !errors.As(err, &ve) || !errors.Is(err, deploy.ErrInvalidRequest) || !strings.Contains(err.Error(), "not online") {
		t.Fatalf("validation: err = %v, want *types.ValidationException and ErrInvalidRequest", err)
	}
	// The refused deployment left the app's source as it was.
	if got := w.fake.AppRevision("app-1"); got != "v1" {
		t.Errorf("after a refused CreateDeployment the app's source is %q, want v1", got)
	}
	if n := w.fake.Mutations() - mut; n != 2 {
		t.Errorf("%d mutations, want UpdateApp and its undo", n)
	}
}
