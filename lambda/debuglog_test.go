package lambda_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
)

// Secrets never reach the logs: a canary whose function configuration
// carries environment values, with the driver and the engine logging at
// debug level, logs none of them, and no event or plan change carries one.
func TestDebugLogsCarryNoSecret(t *testing.T) {
	var logs, events bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := lambdafake.New()
	f.AddFunction("app", 1)
	f.AddAlias("app", "live", "1", nil)
	clk := deploytest.NewAutoClock(deploytest.Epoch())
	drv := lambda.New(f, lambda.Options{Clock: clk, Logger: logger})
	eng := deploy.New(drv, deploy.Options{Clock: clk, Logger: logger, OnEvent: func(ev deploy.Event) {
		fmt.Fprintf(&events, "%+v\n", ev)
	}})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "function.json")
	zip := filepath.Join(dir, "app.zip")
	if err := os.WriteFile(cfg, []byte(`{"Environment": {"Variables": {"DB_PASSWORD": "s3cr3t-one", "MODE": "s3cr3t-two"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zip, fakeZip("new code"), 0o644); err != nil {
		t.Fatal(err)
	}
	req := deploy.Request{Target: lambda.Target("app", "live"), Strategy: deploy.Canary(10, 5*time.Minute),
		Options: &lambda.DeployOptions{ZipFile: zip, ConfigFile: cfg}}
	p, err := eng.Plan(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&events, "%+v\n", p.Changes)
	if _, err := eng.Execute(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged at debug level")
	}
	for _, out := range []string{logs.String(), events.String()} {
		if strings.Contains(out, "s3cr3t") {
			t.Fatalf("a secret reached the logs or events:\n%s", out)
		}
	}
}
