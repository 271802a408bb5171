package lambda_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
)

// env is a driver over an in-memory Lambda with function "app" (versions
// 1..3) and alias "live" on version 1.
type env struct {
	fake  *lambdafake.Client
	clock *deploytest.Clock
	drv   *lambda.Driver
	eng   *deploy.Engine
	tgt   deploy.Target
	n     atomic.Int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	f := lambdafake.New()
	f.AddFunction("app", 3)
	f.AddAlias("app", "live", "1", nil)
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	drv := lambda.New(f, lambda.Options{Clock: clk})
	return &env{fake: f, clock: clk, drv: drv, eng: deploy.New(drv, deploy.Options{Clock: clk}), tgt: lambda.Target("app", "live")}
}

// zip returns a fresh deployment package.
func (e *env) zip() []byte {
	return fakeZip(fmt.Sprintf("fake package %d", e.n.Add(1)))
}

// fakeZip is a real zip archive holding one file with content: the driver
// refuses a package that is not a zip archive.
func fakeZip(content string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("index.py")
	if err == nil {
		_, err = f.Write([]byte(content))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func (e *env) zipRequest(s deploy.Strategy) deploy.Request {
	return deploy.Request{Target: e.tgt, Strategy: s, Options: &lambda.DeployOptions{Zip: e.zip()}}
}

func (e *env) versionRequest(v string, s deploy.Strategy) deploy.Request {
	return deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: v}, Strategy: s}
}

// aliasUpdates counts UpdateAlias calls.
func (e *env) aliasUpdates() int { return len(e.fake.AliasUpdates()) }
