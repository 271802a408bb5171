package ecs

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// Secrets never reach the logs: a deployment whose task definition
// carries environment values and secrets, with the driver and the engine
// logging at debug level, logs none of them, and no event carries one.
func TestDebugLogsCarryNoSecret(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, ecsfake.Options{})
	e.drv = New(e.fake, Options{AutoScaling: e.fake, Clock: e.clock, Logger: logger})
	var events bytes.Buffer
	eng := deploy.New(e.drv, deploy.Options{Clock: e.clock, Logger: logger, OnEvent: func(ev deploy.Event) {
		fmt.Fprintf(&events, "%+v\n", ev)
	}})
	doc := `{"family":"web","containerDefinitions":[{"name":"app","image":"nginx:2","memory":256,
		"environment":[{"name":"DB_PASSWORD","value":"s3cr3t-env-value"},{"name":"MODE","value":"s3cr3t-plain-value"}],
		"secrets":[{"name":"API_KEY","valueFrom":"arn:aws:ssm:us-east-1:123456789012:parameter/s3cr3t-param"}],
		"dockerLabels":{"TOKEN":"s3cr3t-label"}}]}`
	p, err := eng.Plan(e.ctx(), e.request(DeployOptions{TaskDefinition: []byte(doc)}))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&events, "%+v\n", p.Changes)
	if _, err := eng.Execute(e.ctx(), p); err != nil {
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
