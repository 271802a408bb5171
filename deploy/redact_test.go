package deploy_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
)

func TestSensitivePath(t *testing.T) {
	for path, want := range map[string]bool{
		"taskDefinition.containerDefinitions[0].environment[3].value":                       true,
		"taskDefinition.containerDefinitions[0].environment[3].name":                        false,
		"function.Environment.Variables.MODE":                                               true,
		"taskDefinition.containerDefinitions[0].secrets[0].valueFrom":                       true,
		"taskDefinition.containerDefinitions[0].repositoryCredentials.credentialsParameter": true,
		"customJson":             true,
		"app.appSource.password": true,
		"config.apiKey":          true,
		"service.desiredCount":   false,
		"taskDefinition.containerDefinitions[0].image": false,
		"function.codeSha256":                          false,
	} {
		assert.Equal(t, want, deploy.SensitivePath(path), path)
	}
}

// secretDriver plans a change that carries secrets.
type secretDriver struct{ *deploytest.Driver }

func (s secretDriver) Prepare(ctx context.Context, req deploy.Request) (*deploy.Plan, error) {
	p, err := s.Driver.Prepare(ctx, req)
	if p != nil {
		p.Changes = append(p.Changes,
			deploy.Change{Path: "taskDefinition.containerDefinitions[0].environment[0].value", Old: "old-hunter2", New: "hunter2"},
			deploy.Change{Path: "token", New: "hunter3", Sensitive: true},
			deploy.Change{Path: "opaque", New: "hunter4", Sensitive: true},
			deploy.Change{Path: "taskDefinition.containerDefinitions[0].image", Old: "nginx:1", New: "nginx:2"})
	}
	return p, err
}

func TestPlansNeverShowSecrets(t *testing.T) {
	clk := deploytest.NewAutoClock(time.Time{})
	fake := deploytest.NewDriver(deploytest.DriverOptions{Clock: clk})
	target := fake.AddTarget("web", deploy.Revision{ID: "v1"})
	var events []deploy.Event
	eng := deploy.New(secretDriver{fake}, deploy.Options{Clock: clk, OnEvent: func(e deploy.Event) { events = append(events, e) }})
	p, err := eng.Plan(context.Background(), deploy.Request{Target: target, Revision: deploy.Revision{ID: "v2"},
		Options: map[string]string{"DB_PASSWORD": "hunter5"}})
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	eb, err := json.Marshal(events)
	require.NoError(t, err)
	for _, shown := range []string{p.String(), string(b), string(eb)} {
		assert.NotContains(t, shown, "hunter")
		assert.Contains(t, shown, "nginx:2", "what is not secret is still shown")
	}
	assert.Contains(t, p.String(), "environment[0].value: (redacted) -> (redacted)", "a changed secret still shows as changed")
	for _, c := range p.Changes[len(p.Changes)-4 : len(p.Changes)-1] {
		assert.True(t, c.Sensitive, c.Path)
	}
	assert.False(t, strings.Contains(string(b), `"options"`), "driver options stay out of JSON")
}
