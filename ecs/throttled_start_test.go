package ecs

import (
	"testing"

	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ecs/ecsfake"
)

// A Start whose UpdateService is throttled after the task definition was
// registered is asked again by the engine; the second Start reuses the
// revision the first registered, so the service ends on web:2 and no
// web:3 exists.
func TestThrottledStartReusesTheRegisteredRevision(t *testing.T) {
	e := newEnv(t, ecsfake.Options{})
	e.fake.InjectError("UpdateService", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})
	d, err := e.engine().Deploy(e.ctx(), e.request(DeployOptions{TaskDefinition: taskDefJSON("web", "nginx:2")}))
	if err != nil {
		t.Fatalf("a throttled UpdateService failed the deployment: %v", err)
	}
	if d.Status != deploy.StatusSucceeded || d.To.Label != "web:2" {
		t.Fatalf("deployment %s on %s, want Succeeded on web:2", d.Status, d.To.Label)
	}
	if n := e.fake.Count("RegisterTaskDefinition"); n != 1 {
		t.Fatalf("RegisterTaskDefinition called %d times, want once (the second Start reuses web:2)", n)
	}
	if n := e.fake.Count("UpdateService"); n != 2 {
		t.Fatalf("UpdateService called %d times, want 2 (one throttled)", n)
	}
}
