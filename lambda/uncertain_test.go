package lambda_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/platform/faultinject"
)

// lostEnv is seedMotoEnv's function behind a fault-injecting transport,
// with an engine on an auto clock that collects its notes.
type lostEnv struct {
	*motoEnv
	ft    *faultinject.Transport
	eng   *deploy.Engine
	mu    sync.Mutex
	notes []string
}

func newLostEnv(t *testing.T, srv *motoserver.Server, o deploy.Options, rules ...faultinject.Rule) *lostEnv {
	t.Helper()
	srv.Reset(t)
	e := &lostEnv{motoEnv: seedMotoEnv(t, srv)}
	cfg := srv.Config()
	e.ft = faultinject.New(cfg.HTTPClient, rules...)
	cfg.HTTPClient = e.ft
	clk := deploytest.NewAutoClock(time.Time{})
	o.Clock = clk
	o.OnEvent = func(ev deploy.Event) {
		if ev.Kind == deploy.EventNote {
			e.mu.Lock()
			e.notes = append(e.notes, ev.Message)
			e.mu.Unlock()
		}
	}
	e.eng = deploy.New(lambda.NewFromConfig(cfg, lambda.Options{Clock: clk}), o)
	return e
}

func (e *lostEnv) noted(t *testing.T, want string) {
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

func (e *lostEnv) versions(t *testing.T) []string {
	t.Helper()
	out, err := e.lc.ListVersionsByFunction(context.Background(), &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, v := range out.Versions {
		vs = append(vs, aws.ToString(v.Version))
	}
	return vs
}

func (e *lostEnv) canary(t *testing.T, gates ...deploy.Gate) (*deploy.Deployment, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.eng.Deploy(ctx, deploy.Request{Target: lambda.Target("app", "live"), Strategy: mustStrategy(t, "canary:10:5m"),
		Options: &lambda.DeployOptions{Zip: zipOf(t, "return 2")}, Gates: gates, RollbackOn: deploy.OnFailure | deploy.OnAlarm})
}

func lambdaFault(op string, kind faultinject.Kind, nth ...int) faultinject.Rule {
	return faultinject.Rule{Service: "Lambda", Operations: []string{op}, Nth: nth, Fault: faultinject.Fault{Kind: kind}}
}

// Lambda calls whose answer was lost, against moto: the driver reads the
// alias (or the function) back and reports what Lambda actually did.
func TestLostAnswersReadBackOnMoto(t *testing.T) {
	srv := motoserver.Start(t)

	t.Run("UpdateAlias malformed: the shift moto applied is a shift", func(t *testing.T) {
		e := newLostEnv(t, srv, deploy.Options{}, lambdaFault("UpdateAlias", faultinject.Malformed, 1))
		d, err := e.canary(t)
		if err != nil || d.Status != deploy.StatusSucceeded {
			t.Fatalf("moto applied the shift, but the canary ended %v: %v", d, err)
		}
		if v, w := e.alias(t); v != "2" || w != nil {
			t.Fatalf("alias %s %v", v, w)
		}
		e.noted(t, "UpdateAlias's answer was lost")
		e.noted(t, "runs version 1 + version 2 at 0.1: Lambda took the update")
	})

	t.Run("UpdateAlias timeout: unknown, and the rollback restores the alias", func(t *testing.T) {
		e := newLostEnv(t, srv, deploy.Options{}, lambdaFault("UpdateAlias", faultinject.Timeout, 1))
		d, err := e.canary(t)
		if err == nil || !strings.Contains(err.Error(), "outcome is unknown") || !strings.Contains(err.Error(), "alias live runs version 1") {
			t.Fatalf("err = %v, want the outcome unknown with the alias read back on version 1", err)
		}
		if d.Status != deploy.StatusRolledBack && d.Status != deploy.StatusFailed {
			t.Fatalf("status %s", d.Status)
		}
		if v, w := e.alias(t); v != "1" || w != nil {
			t.Fatalf("alias %s %v", v, w)
		}
	})

	t.Run("UpdateFunctionCode malformed: the published version is adopted", func(t *testing.T) {
		e := newLostEnv(t, srv, deploy.Options{}, lambdaFault("UpdateFunctionCode", faultinject.Malformed, 1))
		d, err := e.canary(t)
		if err != nil || d.To.ID != "2" {
			t.Fatalf("moto published version 2, but the run ended %v: %v", d, err)
		}
		if got := strings.Join(e.versions(t), " "); got != "$LATEST 1 2" {
			t.Fatalf("versions %s, want $LATEST 1 2 (none published twice)", got)
		}
		e.noted(t, "published as version 2")
	})

	t.Run("rollback's UpdateAlias throttled for good: left weighted", func(t *testing.T) {
		// The canary's 10% shift goes through; every UpdateAlias after it
		// (the rollback) is throttled until the cleanup budget runs out.
		e := newLostEnv(t, srv, deploy.Options{CleanupTimeout: 3 * time.Minute},
			faultinject.Rule{Service: "Lambda", Operations: []string{"UpdateAlias"}, After: 1, Fault: faultinject.Fault{Kind: faultinject.Throttle}})
		alarm := deploytest.NewAlarm("errors")
		alarm.FireAt(10)
		d, err := e.canary(t, alarm)
		if !errors.Is(err, deploy.ErrAlarm) || d.Status != deploy.StatusFailed {
			t.Fatalf("ended %s: %v", d.Status, err)
		}
		var le *deploy.LeftError
		if !errors.As(err, &le) {
			t.Fatalf("the error does not say what the alias is left serving: %v", err)
		}
		if le.LastSeen || len(le.Serving) != 2 || le.Serving[0].Revision.ID != "2" || le.Serving[0].Percent != 10 ||
			le.Serving[1].Revision.ID != "1" || le.Serving[1].Percent != 90 || le.Repair == nil || le.Repair.ID != "1" {
			t.Fatalf("LeftError %+v", le)
		}
		if !strings.Contains(err.Error(), "left serving app:2 at 10% and app:1 at 90%; repair: roll back to app:1") {
			t.Fatalf("err = %v", err)
		}
		if v, w := e.alias(t); v != "1" || w["2"] != 0.1 {
			t.Fatalf("alias %s %v: the test wants it left weighted", v, w)
		}
		if n := len(e.ft.Injected()); n < 3 {
			t.Fatalf("the throttled rollback was tried %d times, want it retried with backoff", n)
		}
	})

	t.Run("ReadServing", func(t *testing.T) {
		srv.Reset(t)
		m := seedMotoEnv(t, srv)
		if _, err := m.lc.PublishVersion(context.Background(), &awslambda.PublishVersionInput{FunctionName: aws.String("app")}); err != nil {
			t.Fatal(err)
		}
		drv := lambda.New(m.lc, lambda.Options{})
		got, err := drv.ReadServing(context.Background(), lambda.Target("app", "live"))
		if err != nil || len(got) != 1 || got[0].Revision.Label != "app:1" || got[0].Percent != 100 {
			t.Fatalf("ReadServing = %+v, %v", got, err)
		}
		if _, err := drv.ReadServing(context.Background(), lambda.Target("app", "ghost")); !errors.Is(err, deploy.ErrNotFound) {
			t.Fatalf("missing alias: %v", err)
		}
	})
}
