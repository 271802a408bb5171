package lambda_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// cdFleet adds n functions "f000".."fNNN" to lf, each with versions 1 and
// 2 and alias "live" on 1, and to cd one CodeDeploy Lambda deployment group
// per alias, app/fNNN, whose last deployment put version 1 on the alias. It
// returns the targets, each naming its group (Attrs "codedeploy").
func cdFleet(t testing.TB, lf *lambdafake.Client, cd *codedeployfake.Fake, n int) []deploy.Target {
	t.Helper()
	tgts := make([]deploy.Target, n)
	for i := range n {
		fn := fmt.Sprintf("f%03d", i)
		lf.AddFunction(fn, 2)
		lf.AddAlias(fn, "live", "1", nil)
		seed, err := lambda.AppSpec{Function: fn, Alias: "live", CurrentVersion: "2", TargetVersion: "1"}.JSON()
		if err != nil {
			t.Fatal(err)
		}
		cd.AddGroup(codedeployfake.Group{Application: "app", Name: fn, ComputePlatform: cdtypes.ComputePlatformLambda,
			Targets: []string{fn + ":live"},
			Current: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
				AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(seed), Sha256: aws.String(lambda.Sha256(seed))}}})
		tgts[i] = lambda.Target(fn, "live")
		tgts[i].Attrs = map[string]string{"codedeploy": "app/" + fn}
	}
	return tgts
}

// statusOnly hides StatusMany, so the engine polls each deployment alone.
type statusOnly struct{ deploy.Driver }

// StatusMany reports each deployment exactly as Status does, whatever
// state it is in: created, shifting at 10%, rolling back, rolled back by
// CodeDeploy, stopped part way, succeeded, a rollback done by resetting the
// alias alone, unknown, nil. The two are compared field by field every 15
// seconds of an eight-minute window, with StatusMany given each poll's
// reports as the engine gives them.
func TestCodeDeployStatusManyAgreesWithStatus(t *testing.T) {
	ctx := context.Background()
	clk := deploytest.NewClock(deploytest.Epoch())
	lf := lambdafake.New()
	cd := codedeployfake.New(codedeployfake.Options{Clock: clk, StepDuration: 10 * time.Second})
	tgts := cdFleet(t, lf, cd, 6)
	drv := lambda.NewCodeDeploy(lf, cd, lambda.CodeDeployOptions{Options: lambda.Options{Clock: clk}})
	start := func(req deploy.Request) *deploy.Deployment {
		t.Helper()
		p, err := drv.Prepare(ctx, req)
		if err != nil {
			t.Fatalf("Prepare %s: %v", req.Target, err)
		}
		d, err := drv.Start(ctx, p)
		if err != nil {
			t.Fatalf("Start %s: %v", req.Target, err)
		}
		return d
	}
	canary := mustStrategy(t, "canary:10:5m")
	ds := []*deploy.Deployment{
		start(deploy.Request{Target: tgts[0], Revision: deploy.Revision{ID: "2"}}),
		start(deploy.Request{Target: tgts[1], Revision: deploy.Revision{ID: "2"}, Strategy: canary}),
	}
	cd.FailNext("AfterAllowTraffic", "")
	ds = append(ds, start(deploy.Request{Target: tgts[2], Revision: deploy.Revision{ID: "2"}, RollbackOn: deploy.OnFailure}))
	stopped := start(deploy.Request{Target: tgts[3], Revision: deploy.Revision{ID: "2"}, Strategy: canary})
	ds = append(ds, stopped,
		// The alias already runs version 1: resetting its weights is the
		// whole rollback, and no CodeDeploy deployment is made.
		start(deploy.Request{Target: tgts[4], Revision: deploy.Revision{ID: "1"}, RollbackOf: "d-earlier"}),
		&deploy.Deployment{ID: "d-404", Target: tgts[5], To: deploy.Revision{ID: "2"}},
		nil)
	seen := map[string]bool{}
	for at := time.Duration(0); at <= 8*time.Minute; at += 15 * time.Second {
		if at == time.Minute {
			if out, err := drv.Stop(ctx, stopped, deploy.StopOptions{}); err != nil || out != deploy.StopSucceeded {
				t.Fatalf("Stop %s: %v, %v", stopped.ID, out, err)
			}
		}
		many, err := drv.StatusMany(ctx, ds)
		if len(many) != len(ds) {
			t.Fatalf("+%v: StatusMany returned %d entries for %d deployments", at, len(many), len(ds))
		}
		for i, d := range ds {
			one, oneErr := drv.Status(ctx, d)
			switch {
			case one == nil && many[i] == nil:
				var de *deploy.Error
				if !errors.As(errorNaming(err, idOfDep(d)), &de) {
					t.Errorf("+%v: %s: StatusMany's error %v names no *deploy.Error for it", at, idOfDep(d), err)
				}
				for _, sentinel := range []error{deploy.ErrNotFound, deploy.ErrInvalidRequest} {
					if errors.Is(oneErr, sentinel) != errors.Is(errorNaming(err, idOfDep(d)), sentinel) {
						t.Errorf("+%v: %s: Status says %v, StatusMany %v", at, idOfDep(d), oneErr, err)
					}
				}
			case one == nil || many[i] == nil:
				t.Errorf("+%v: %s: Status %v (%v), StatusMany %v (%v)", at, idOfDep(d), one, oneErr, many[i], err)
			case !reflect.DeepEqual(one, many[i]):
				t.Errorf("+%v: %s: Status and StatusMany disagree:\n%+v\n%+v", at, d.ID, one, many[i])
			default:
				state := string(one.Status)
				if one.RolledBackBy != "" && !one.Status.Terminal() {
					state = "rolling back"
				}
				seen[state] = true
				ds[i] = many[i]
			}
		}
		clk.Advance(15 * time.Second)
	}
	for _, s := range []string{"Created", "InProgress", "rolling back", "Succeeded", "RolledBack", "Stopped"} {
		if !seen[s] {
			t.Errorf("no deployment was seen %s; seen %v", s, seen)
		}
	}
}

// errorNaming returns the part of a StatusMany error about deployment id.
func errorNaming(err error, id string) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return nil
	}
	for _, e := range j.Unwrap() {
		var de *deploy.Error
		if errors.As(e, &de) && de.DeploymentID == id {
			return e
		}
	}
	return nil
}

func idOfDep(d *deploy.Deployment) string {
	if d == nil {
		return ""
	}
	return d.ID
}
