package lambda_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
)

// Every precondition is refused with a typed error and no mutating call.
func TestPreconditions(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.json")
	os.WriteFile(badCfg, []byte(`{"MemorySize": 512, "Handlr": "x"}`), 0o644)
	goodCfg := filepath.Join(dir, "good.json")
	os.WriteFile(goodCfg, []byte(`{"MemorySize": 512}`), 0o644)

	cases := []struct {
		name  string
		setup func(e *env)
		req   func(e *env) deploy.Request
		is    error
		as    func(error) bool
		text  []string
	}{
		{name: "LatestAsTarget",
			req: func(e *env) deploy.Request { return e.versionRequest("$LATEST", deploy.AllAtOnce()) },
			is:  deploy.ErrInvalidRequest, text: []string{"$LATEST"}},
		{name: "LatestAsCurrent",
			setup: func(e *env) { e.fake.AddAlias("app", "live", "$LATEST", nil) },
			req:   func(e *env) deploy.Request { return e.versionRequest("2", deploy.AllAtOnce()) },
			is:    deploy.ErrInvalidRequest, text: []string{"$LATEST"}},
		{name: "LatestAsAlias",
			req: func(e *env) deploy.Request {
				return deploy.Request{Target: lambda.Target("app", "$LATEST"), Revision: deploy.Revision{ID: "2"}}
			},
			is: deploy.ErrInvalidRequest},
		{name: "TargetEqualsCurrent",
			req: func(e *env) deploy.Request { return e.versionRequest("1", deploy.AllAtOnce()) },
			is:  deploy.ErrInvalidRequest, text: []string{"already points at version 1"}},
		{name: "ZipEqualsCurrentCode",
			setup: func(e *env) {
				e.fake.AddAlias("app", "live", e.fake.Publish("app", fakeZip("same code")), nil)
			},
			req: func(e *env) deploy.Request {
				return deploy.Request{Target: e.tgt, Options: &lambda.DeployOptions{Zip: fakeZip("same code")}}
			},
			is: deploy.ErrInvalidRequest, text: []string{"already runs this code"}},
		{name: "AliasWeightedBySomeoneElse",
			setup: func(e *env) { e.fake.AddAlias("app", "live", "1", map[string]float64{"3": 0.3}) },
			req:   func(e *env) deploy.Request { return e.versionRequest("2", deploy.AllAtOnce()) },
			is:    deploy.ErrLocked,
			as: func(err error) bool {
				var we *lambda.WeightedAliasError
				return errors.As(err, &we) && we.Version == "1" && we.Weights["3"] == 0.3
			},
			text: []string{"primary version 1", "version 3 at 0.3", "ResetWeights", "--reset-weights"}},
		{name: "VersionDoesNotExist",
			req: func(e *env) deploy.Request { return e.versionRequest("42", deploy.AllAtOnce()) },
			is:  deploy.ErrNotFound,
			as: func(err error) bool {
				var nf *types.ResourceNotFoundException
				return errors.As(err, &nf)
			}},
		{name: "FunctionDoesNotExist",
			req: func(e *env) deploy.Request {
				return deploy.Request{Target: lambda.Target("nope", "live"), Revision: deploy.Revision{ID: "2"}}
			},
			is: deploy.ErrNotFound},
		{name: "AliasDoesNotExist",
			req: func(e *env) deploy.Request {
				return deploy.Request{Target: lambda.Target("app", "nope"), Revision: deploy.Revision{ID: "2"}}
			},
			is: deploy.ErrNotFound},
		{name: "VersionNotANumber",
			req: func(e *env) deploy.Request { return e.versionRequest("live", deploy.AllAtOnce()) },
			is:  deploy.ErrInvalidRequest},
		{name: "TwoSources",
			req: func(e *env) deploy.Request {
				r := e.versionRequest("2", deploy.AllAtOnce())
				r.Options = &lambda.DeployOptions{ImageURI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"}
				return r
			},
			is: deploy.ErrInvalidRequest, text: []string{"more than one source"}},
		{name: "NoSource",
			req: func(e *env) deploy.Request { return deploy.Request{Target: e.tgt} },
			is:  deploy.ErrInvalidRequest},
		{name: "MissingZipFile",
			req: func(e *env) deploy.Request {
				return deploy.Request{Target: e.tgt, Options: &lambda.DeployOptions{ZipFile: filepath.Join(dir, "none.zip")}}
			},
			is: deploy.ErrInvalidRequest},
		{name: "ConfigUnknownField",
			req: func(e *env) deploy.Request {
				return deploy.Request{Target: e.tgt, Options: &lambda.DeployOptions{Zip: e.zip(), ConfigFile: badCfg}}
			},
			is: deploy.ErrInvalidRequest, text: []string{"Handlr"}},
		{name: "ConfigWithExistingVersion",
			req: func(e *env) deploy.Request {
				r := e.versionRequest("2", deploy.AllAtOnce())
				r.Options = &lambda.DeployOptions{ConfigFile: goodCfg}
				return r
			},
			is: deploy.ErrInvalidRequest},
		{name: "S3WithoutKey",
			req: func(e *env) deploy.Request {
				return deploy.Request{Target: e.tgt, Options: &lambda.DeployOptions{S3Bucket: "b"}}
			},
			is: deploy.ErrInvalidRequest},
		{name: "WrongOptionsType",
			req: func(e *env) deploy.Request {
				r := e.versionRequest("2", deploy.AllAtOnce())
				r.Options = 42
				return r
			},
			is: deploy.ErrInvalidRequest},
		{name: "MinHealthyHosts",
			req: func(e *env) deploy.Request {
				return e.versionRequest("2", deploy.AllAtOnce().WithMinHealthy(deploy.MinHealthyHosts{Type: deploy.FleetPercent, Value: 50}))
			},
			is: deploy.ErrInvalidRequest},
		{name: "StrategyNeverReachesHundred",
			req: func(e *env) deploy.Request {
				return e.versionRequest("2", deploy.Custom(deploy.ShiftTo(10), deploy.ShiftTo(50)))
			},
			is: deploy.ErrInvalidRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.setup != nil {
				c.setup(e)
			}
			req := c.req(e)
			for _, call := range []func() error{
				func() error { _, err := e.drv.Prepare(context.Background(), req); return err },
				func() error { _, err := e.eng.Deploy(context.Background(), req); return err },
			} {
				err := call()
				if !errors.Is(err, c.is) {
					t.Fatalf("err = %v, want %v", err, c.is)
				}
				if c.as != nil && !c.as(err) {
					t.Fatalf("err = %v (%T) is not the expected type", err, err)
				}
				for _, s := range c.text {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				var de *deploy.Error
				if !errors.As(err, &de) {
					t.Errorf("err %v is not a *deploy.Error", err)
				}
			}
			if n := e.fake.Mutations(); n != 0 {
				t.Fatalf("%d mutating calls, want 0: %+v", n, e.fake.Calls())
			}
		})
	}
}

// A weight outside 0..1 is refused by Shift before any call.
func TestShiftWeightOutOfRange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.drv.Prepare(ctx, e.versionRequest("2", deploy.AllAtOnce()))
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.drv.Start(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	before := e.fake.Mutations()
	for _, pc := range []float64{0, 0.5, -10, 100.5, 1000, math.NaN(), math.Inf(1)} {
		err := e.drv.Shift(ctx, d, pc)
		var ve *deploy.ValidationError
		if !errors.Is(err, deploy.ErrInvalidRequest) || !errors.As(err, &ve) || ve.Field != "percent" {
			t.Errorf("Shift(%v) err = %v, want a percent ValidationError", pc, err)
		}
	}
	if n := e.fake.Mutations() - before; n != 0 {
		t.Fatalf("%d mutating calls", n)
	}
	for _, pc := range []float64{1, 100} {
		if _, err := lambda.Weight(pc); err != nil {
			t.Errorf("Weight(%v): %v", pc, err)
		}
	}
}

// A dry run (Plan) over a client that fails every mutating call succeeds.
func TestDryRunMakesNoMutatingCall(t *testing.T) {
	e := newEnv(t)
	e.fake.ReadOnly(true)
	for _, req := range []deploy.Request{
		e.zipRequest(mustStrategy(t, "canary:10:5m")),
		e.versionRequest("3", deploy.AllAtOnce()),
	} {
		p, err := e.eng.Plan(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if p.Mode != deploy.ModeEngine || p.From.ID != "1" || len(p.Changes) == 0 {
			t.Fatalf("plan = %+v", p)
		}
	}
	if n := e.fake.Mutations(); n != 0 {
		t.Fatalf("%d mutating calls", n)
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string][2]string{
		"app:live": {"app", "live"},
		"arn:aws:lambda:us-east-1:123456789012:function:app:live": {"arn:aws:lambda:us-east-1:123456789012:function:app", "live"},
	} {
		fn, a, err := lambda.ParseTarget(deploy.Target{Name: in})
		if err != nil || fn != want[0] || a != want[1] {
			t.Errorf("ParseTarget(%q) = %q %q %v", in, fn, a, err)
		}
	}
	for _, bad := range []string{"", "app", ":live", "app:", "app:$LATEST", "app:3", "arn:aws:lambda:us-east-1:1:function:live"} {
		if _, _, err := lambda.ParseTarget(deploy.Target{Name: bad}); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("ParseTarget(%q) err = %v", bad, err)
		}
	}
	fn, a, err := lambda.ParseTarget(deploy.Target{Attrs: map[string]string{"function": "f", "alias": "a"}})
	if err != nil || fn != "f" || a != "a" {
		t.Errorf("attrs: %q %q %v", fn, a, err)
	}
}

func TestResetWeights(t *testing.T) {
	e := newEnv(t)
	if _, err := e.drv.ResetWeights(context.Background(), e.tgt); err != nil || e.fake.Mutations() != 0 {
		t.Fatalf("single alias: %v, %d mutations", err, e.fake.Mutations())
	}
	e.fake.AddAlias("app", "live", "2", map[string]float64{"3": 0.4})
	was, err := e.drv.ResetWeights(context.Background(), e.tgt)
	if err != nil || was.Weights["3"] != 0.4 {
		t.Fatalf("ResetWeights = %+v, %v", was, err)
	}
	if v, w := e.fake.Alias("app", "live"); v != "2" || w != nil {
		t.Fatalf("alias %s %v", v, w)
	}
}
