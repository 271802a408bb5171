package ecs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// lostAnswerEnv is moto's ECS (service prod/web on web:1) with a driver
// whose calls go through a fault-injecting transport.
type lostAnswerEnv struct {
	clean *ecs.Client
	drv   *Driver
	ft    *faultinject.Transport
	eng   *deploy.Engine
	mu    sync.Mutex
	notes []string
}

func newLostAnswerEnv(t *testing.T, srv *motoserver.Server, rules ...faultinject.Rule) *lostAnswerEnv {
	t.Helper()
	srv.Reset(t)
	base := srv.Config()
	seedECS(t, base)
	e := &lostAnswerEnv{clean: ecs.NewFromConfig(base)}
	e.ft = faultinject.New(base.HTTPClient, rules...)
	cfg := base.Copy()
	cfg.HTTPClient = e.ft
	e.drv = NewFromConfig(cfg, Options{})
	e.eng = deploy.New(e.drv, deploy.Options{OnEvent: func(ev deploy.Event) {
		if ev.Kind == deploy.EventNote {
			e.mu.Lock()
			e.notes = append(e.notes, ev.Message)
			e.mu.Unlock()
		}
	}})
	return e
}

func (e *lostAnswerEnv) runs(t *testing.T) string {
	t.Helper()
	out, err := e.clean.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("read back: %v", err)
	}
	return labelOf(aws.ToString(out.Services[0].TaskDefinition))
}

func (e *lostAnswerEnv) revisions(t *testing.T) []string {
	t.Helper()
	out, err := e.clean.ListTaskDefinitions(context.Background(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, a := range out.TaskDefinitionArns {
		labels = append(labels, labelOf(a))
	}
	return labels
}

func (e *lostAnswerEnv) noted(t *testing.T, want string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range e.notes {
		if strings.Contains(n, want) {
			return
		}
	}
	t.Fatalf("no note says %q; notes: %q", want, e.notes)
}

func lostOn(op string, kind faultinject.Kind) faultinject.Rule {
	return faultinject.Rule{Service: "ECS", Operations: []string{op}, Nth: []int{1}, Fault: faultinject.Fault{Kind: kind}}
}

func ctx20(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// An UpdateService, RegisterTaskDefinition or rollback whose answer was
// lost, against moto: the driver reads ECS back and reports what ECS
// actually did. A reply that did not decode (Malformed: moto applied the
// call) is carried on as accepted, saying so; a timeout (the call never
// reached moto) is an error that says the outcome was unknown and what the
// read-back showed, never a silent success.
func TestLostAnswersReadBackOnMoto(t *testing.T) {
	srv := motoserver.Start(t, "MOTO_ECS_SERVICE_RUNNING=2")
	deployWeb2 := func(e *lostAnswerEnv, t *testing.T) (*deploy.Deployment, error) {
		return e.eng.Deploy(ctx20(t), deploy.Request{Target: Target("prod", "web"),
			Options: DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}, NoWait: true})
	}

	t.Run("UpdateService malformed: accepted", func(t *testing.T) {
		e := newLostAnswerEnv(t, srv, lostOn("UpdateService", faultinject.Malformed))
		d, err := deployWeb2(e, t)
		if err != nil {
			t.Fatalf("moto applied the update, but the deployment failed: %v", err)
		}
		if d.To.Label != "web:2" || d.ID == "" || e.runs(t) != "web:2" {
			t.Fatalf("deployment %s to %s; service runs %s", d.ID, d.To.Label, e.runs(t))
		}
		e.noted(t, "UpdateService's answer was lost")
		e.noted(t, "ECS took the update")
	})

	t.Run("UpdateService timeout: unknown, read back", func(t *testing.T) {
		e := newLostAnswerEnv(t, srv, lostOn("UpdateService", faultinject.Timeout))
		_, err := deployWeb2(e, t)
		if err == nil {
			t.Fatal("the update never reached ECS, yet the deployment was accepted")
		}
		var de *deploy.Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "outcome is unknown") ||
			!strings.Contains(err.Error(), "ECS shows service web on web:1") {
			t.Fatalf("the error does not say the outcome was unknown and what was read back: %v", err)
		}
		if got := e.runs(t); got != "web:1" {
			t.Fatalf("service runs %s", got)
		}
	})

	t.Run("rollback's UpdateService malformed: rolled back", func(t *testing.T) {
		e := newLostAnswerEnv(t, srv, faultinject.Rule{Service: "ECS", Operations: []string{"UpdateService"}, Nth: []int{2},
			Fault: faultinject.Fault{Kind: faultinject.Malformed}})
		if _, err := deployWeb2(e, t); err != nil {
			t.Fatal(err)
		}
		d, err := e.eng.Rollback(ctx20(t), deploy.RollbackRequest{Target: Target("prod", "web"), NoWait: true})
		if err != nil {
			t.Fatalf("moto applied the rollback, but it failed: %v", err)
		}
		if d.To.Label != "web:1" || e.runs(t) != "web:1" {
			t.Fatalf("rolled back to %s; service runs %s", d.To.Label, e.runs(t))
		}
		e.noted(t, "ECS took the update")
	})

	t.Run("rollback's UpdateService timeout: unknown", func(t *testing.T) {
		e := newLostAnswerEnv(t, srv, faultinject.Rule{Service: "ECS", Operations: []string{"UpdateService"}, Nth: []int{2},
			Fault: faultinject.Fault{Kind: faultinject.Timeout}})
		if _, err := deployWeb2(e, t); err != nil {
			t.Fatal(err)
		}
		_, err := e.eng.Rollback(ctx20(t), deploy.RollbackRequest{Target: Target("prod", "web"), NoWait: true})
		if err == nil || !strings.Contains(err.Error(), "outcome is unknown") || !strings.Contains(err.Error(), "on web:2") {
			t.Fatalf("err = %v, want the outcome unknown with the service read back on web:2", err)
		}
	})

	t.Run("RegisterTaskDefinition malformed: adopted, not registered twice", func(t *testing.T) {
		e := newLostAnswerEnv(t, srv, lostOn("RegisterTaskDefinition", faultinject.Malformed))
		d, err := deployWeb2(e, t)
		if err != nil {
			t.Fatalf("moto registered web:2, but the deployment failed: %v", err)
		}
		if d.To.Label != "web:2" || e.runs(t) != "web:2" {
			t.Fatalf("deployed %s; service runs %s", d.To.Label, e.runs(t))
		}
		if got := strings.Join(e.revisions(t), " "); got != "web:1 web:2" {
			t.Fatalf("revisions %s, want web:1 web:2 (none registered twice)", got)
		}
		e.noted(t, "adopting it rather than registering it again")
	})

	t.Run("RegisterTaskDefinition timeout: unknown", func(t *testing.T) {
		e := newLostAnswerEnv(t, srv, lostOn("RegisterTaskDefinition", faultinject.Timeout))
		_, err := deployWeb2(e, t)
		if err == nil || !strings.Contains(err.Error(), "outcome is unknown") || !strings.Contains(err.Error(), "latest revision of web is web:1") {
			t.Fatalf("err = %v", err)
		}
		if got := strings.Join(e.revisions(t), " "); got != "web:1" || e.runs(t) != "web:1" {
			t.Fatalf("revisions %s, service on %s", got, e.runs(t))
		}
	})

	t.Run("stop with rollback, UpdateService malformed: pending", func(t *testing.T) {
		e := newLostAnswerEnv(t, srv, faultinject.Rule{Service: "ECS", Operations: []string{"UpdateService"}, Nth: []int{2},
			Fault: faultinject.Fault{Kind: faultinject.Malformed}})
		d, err := deployWeb2(e, t)
		if err != nil {
			t.Fatal(err)
		}
		var notes []string
		ctx := deploy.WithNotifier(ctx20(t), func(_ deploy.EventKind, m string) { notes = append(notes, m) })
		out, err := e.drv.Stop(ctx, d, deploy.StopOptions{Rollback: true})
		if err != nil || out != deploy.StopPending {
			t.Fatalf("Stop = %q, %v; want StopPending: moto took the rollback", out, err)
		}
		if e.runs(t) != "web:1" || !strings.Contains(strings.Join(notes, "\n"), "ECS took the rollback") {
			t.Fatalf("service on %s; notes %q", e.runs(t), notes)
		}
	})
}

// ReadServing against moto: the service's running tasks, by task
// definition.
func TestReadServingOnMoto(t *testing.T) {
	m := newMoto(t)
	got, err := m.drv.ReadServing(m.ctx(), m.tgt)
	if err != nil || len(got) != 1 || got[0].Revision.Label != "web:1" || got[0].Percent != 100 ||
		!strings.HasSuffix(got[0].Revision.ID, "task-definition/web:1") {
		t.Fatalf("ReadServing = %+v, %v; want web:1 at 100%%", got, err)
	}
	if _, err := m.drv.ReadServing(m.ctx(), Target("prod", "ghost")); !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("missing service: %v", err)
	}
}
