package ecs

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
)

// The limits refuse what ECS refuses and accept every form ECS accepts.
func TestTaskDefinitionLimits(t *testing.T) {
	td := func(task, container string) []byte {
		return []byte(`{"family":"web"` + task + `,"containerDefinitions":[{"name":"app","image":"nginx"` + container + `}]}`)
	}
	good := [][]byte{
		td("", ""), td(`,"cpu":"256","memory":"512"`, ""), td(`,"cpu":"1 vCPU","memory":"2 GB"`, ""),
		td(`,"cpu":"0.25 vCPU","memory":"0.5GB"`, `,"cpu":0,"memory":6,"memoryReservation":64`),
		[]byte(`{"family":"Web_App-2","containerDefinitions":[{"name":"a_b-C","image":"x"},{"name":"side","image":"y"}]}`),
	}
	for _, b := range good {
		if _, err := parseTaskDefinition(b); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
	bad := map[string][]byte{
		"taskDefinition.family":                                    []byte(`{"family":"web.app","containerDefinitions":[{"name":"app","image":"nginx"}]}`),
		"taskDefinition.containerDefinitions[0].name":              []byte(`{"family":"web","containerDefinitions":[{"name":"app one","image":"nginx"}]}`),
		"taskDefinition.containerDefinitions[1].name":              []byte(`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx"},{"name":"app","image":"x"}]}`),
		"taskDefinition.containerDefinitions[0].cpu":               td("", `,"cpu":-2`),
		"taskDefinition.containerDefinitions[0].memory":            td("", `,"memory":5`),
		"taskDefinition.containerDefinitions[0].memoryReservation": td("", `,"memoryReservation":0`),
		"taskDefinition.cpu":                                       td(`,"cpu":"0"`, ""),
		"taskDefinition.memory":                                    td(`,"memory":"-1 GB"`, ""),
		"taskDefinition":                                           td("", `,"command":["`+strings.Repeat("x", MaxTaskDefinitionSize)+`"]`),
	}
	for field, b := range bad {
		_, err := parseTaskDefinition(b)
		var ve *deploy.ValidationError
		if !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%s: err = %v, want a *deploy.ValidationError for %s", field, err, field)
		}
	}
	if _, err := parseTaskDefinition([]byte("{\"family\":\"w\xffb\",\"containerDefinitions\":[]}")); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("non-UTF-8: %v", err)
	}
	for _, n := range []int{-1, MaxDesiredCount + 1} {
		if err := checkDesiredCount("tasks", n); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("desired count %d: %v", n, err)
		}
	}
	for _, n := range []int{0, MaxDesiredCount} {
		if err := checkDesiredCount("tasks", n); err != nil {
			t.Errorf("desired count %d: %v", n, err)
		}
	}
	for _, s := range []string{"CodeDeployDefault.LambdaAllAtOnce", "CodeDeployDefault.OneAtATime"} {
		if err := checkStrategyPlatform(deploy.Strategy{Name: s}); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if err := checkStrategyPlatform(deploy.Strategy{Name: "CodeDeployDefault.ECSCanary10Percent5Minutes"}); err != nil {
		t.Errorf("ECS config: %v", err)
	}
}
