package opsworks_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/opsworks"
)

type args = map[string][]string

// TestCommandArgs plans every command with valid and invalid Args: valid
// ones plan (and then run to success on the fake), invalid ones are
// refused before any call with a *deploy.ValidationError naming the
// argument.
func TestCommandArgs(t *testing.T) {
	cases := []struct {
		cmd   string
		args  args
		field string // "" when valid
	}{
		{"deploy", nil, ""},
		{"deploy", args{"migrate": {"true"}}, ""},
		{"deploy", args{"migrate": {"false"}}, ""},
		{"deploy", args{"migrate": {"yes"}}, "command.args.migrate"},
		{"deploy", args{"migrate": {"true", "false"}}, "command.args.migrate"},
		{"deploy", args{"migrate": {}}, "command.args.migrate"},
		{"deploy", args{"recipes": {"a::b"}}, "command.args.recipes"},
		{"rollback", nil, ""},
		{"rollback", args{"migrate": {"true"}}, "command.args.migrate"},
		{"start", nil, ""},
		{"start", args{"force": {"true"}}, "command.args.force"},
		{"stop", nil, ""},
		{"stop", args{"migrate": {"true"}}, "command.args.migrate"},
		{"restart", nil, ""},
		{"restart", args{"x": {"1"}}, "command.args.x"},
		{"undeploy", nil, ""},
		{"undeploy", args{"allow_reboot": {"true"}}, "command.args.allow_reboot"},
		{"setup", nil, ""},
		{"setup", args{"recipes": {"a::b"}}, "command.args.recipes"},
		{"configure", nil, ""},
		{"configure", args{"migrate": {"false"}}, "command.args.migrate"},
		{"install_dependencies", nil, ""},
		{"install_dependencies", args{"upgrade_os_to": {"Amazon Linux 2"}}, "command.args.upgrade_os_to"},
		{"update_dependencies", nil, ""},
		{"update_dependencies", args{"allow_reboot": {"false"}}, ""},
		{"update_dependencies", args{"allow_reboot": {"true"}}, ""},
		{"update_dependencies", args{"upgrade_os_to": {"Amazon Linux 2016.09"}, "allow_reboot": {"true"}}, ""},
		{"update_dependencies", args{"upgrade_os_to": {"Amazon Linux 2016.09"}}, "command.args.allow_reboot"},
		{"update_dependencies", args{"upgrade_os_to": {"Amazon Linux 2016.09"}, "allow_reboot": {"false"}}, "command.args.allow_reboot"},
		{"update_dependencies", args{"upgrade_os_to": {""}, "allow_reboot": {"true"}}, "command.args.upgrade_os_to"},
		{"update_dependencies", args{"upgrade_os_to": {"a", "b"}, "allow_reboot": {"true"}}, "command.args.upgrade_os_to"},
		{"update_dependencies", args{"allow_reboot": {"maybe"}}, "command.args.allow_reboot"},
		{"update_dependencies", args{"reboot": {"true"}}, "command.args.reboot"},
		{"update_custom_cookbooks", nil, ""},
		{"update_custom_cookbooks", args{"recipes": {"a::b"}}, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {"phpapp::appsetup"}}, ""},
		{"execute_recipes", args{"recipes": {"phpapp::appsetup", "nginx::default", "my-book::do_it.now"}}, ""},
		{"execute_recipes", nil, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {}}, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {"phpapp"}}, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {"phpapp::"}}, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {"::appsetup"}}, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {"a::b::c"}}, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {"a b::c"}}, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {"a::b", "a::b"}}, "command.args.recipes"},
		{"execute_recipes", args{"recipes": {"a::b"}, "migrate": {"true"}}, "command.args.migrate"},
		{"reboot", nil, "command"},
		{"DEPLOY", nil, "command"},
	}
	for _, tc := range cases {
		name := tc.cmd
		for k, v := range tc.args {
			name += " " + k + "=" + strings.Join(v, ",")
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			tgt := e.tgt
			if opsworks.IsStackCommand(tc.cmd) {
				tgt = opsworks.Target("stack-1", "")
			}
			req := deploy.Request{Target: tgt, Options: &opsworks.DeployOptions{Command: tc.cmd, Args: tc.args}}
			if tc.cmd == "deploy" {
				req.Revision.ID = "v2"
			}
			calls := len(e.fake.Calls())
			_, err := e.eng.Plan(context.Background(), req)
			if direct := opsworks.ValidateCommand(tc.cmd, tc.args); (direct == nil) != (tc.field == "") {
				t.Errorf("ValidateCommand = %v", direct)
			}
			if tc.field != "" {
				var ve *deploy.ValidationError
				if !errors.As(err, &ve) || !errors.Is(err, deploy.ErrInvalidRequest) || ve.Field != tc.field {
					t.Fatalf("err = %v, want a *deploy.ValidationError of field %s", err, tc.field)
				}
				if n := len(e.fake.Calls()) - calls; n != 0 {
					t.Errorf("refused input made %d calls: %v", n, e.fake.Calls())
				}
				return
			}
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if e.fake.Mutations() != 0 {
				t.Fatalf("Plan mutated")
			}
			if tc.cmd == "rollback" {
				// Rollback needs a version to go back to.
				if _, err := e.eng.Deploy(context.Background(), deploy.Request{Target: e.tgt, Revision: deploy.Revision{ID: "v2"}}); err != nil {
					t.Fatal(err)
				}
			}
			d, err := e.eng.Deploy(context.Background(), req)
			if err != nil || d.Status != deploy.StatusSucceeded {
				t.Fatalf("Deploy: %v %v", d, err)
			}
		})
	}
}

// TestTargets checks which commands need the app, and the other
// request-level refusals, all before any call.
func TestTargets(t *testing.T) {
	stack := opsworks.Target("stack-1", "")
	app := opsworks.Target("stack-1", "app-1")
	cases := []struct {
		name  string
		req   deploy.Request
		field string
	}{
		{"app command on a stack", deploy.Request{Target: stack, Options: &opsworks.DeployOptions{Command: "restart"}}, "appId"},
		{"default command on a stack", deploy.Request{Target: stack}, "command"},
		{"stack command on an app", deploy.Request{Target: app, Options: &opsworks.DeployOptions{Command: "setup"}}, "appId"},
		{"no stack", deploy.Request{Target: deploy.Target{Name: "/app-1"}}, "stackId"},
		{"revision with a restart", deploy.Request{Target: app, Revision: deploy.Revision{ID: "v2"}, Options: &opsworks.DeployOptions{Command: "restart"}}, "revision.id"},
		{"revision with spaces", deploy.Request{Target: app, Revision: deploy.Revision{ID: "v 2"}}, "revision.id"},
		{"rollback five back", deploy.Request{Target: app, Options: &opsworks.DeployOptions{Command: "rollback", Versions: 5}}, "versions"},
		{"rollback negative", deploy.Request{Target: app, Options: &opsworks.DeployOptions{Command: "rollback", Versions: -1}}, "versions"},
		{"versions on deploy", deploy.Request{Target: app, Revision: deploy.Revision{ID: "v2"}, Options: &opsworks.DeployOptions{Versions: 2}}, "versions"},
		{"empty instance", deploy.Request{Target: app, Revision: deploy.Revision{ID: "v2"}, Options: &opsworks.DeployOptions{InstanceIDs: []string{""}}}, "instanceIds[0]"},
		{"duplicate layer", deploy.Request{Target: app, Revision: deploy.Revision{ID: "v2"}, Options: &opsworks.DeployOptions{LayerIDs: []string{"web", "web"}}}, "layerIds[1]"},
		{"custom JSON array", deploy.Request{Target: app, Revision: deploy.Revision{ID: "v2"}, Options: &opsworks.DeployOptions{CustomJSON: `["secret"]`}}, "customJson"},
		{"custom JSON broken", deploy.Request{Target: app, Revision: deploy.Revision{ID: "v2"}, Options: &opsworks.DeployOptions{CustomJSON: `{"password": secret}`}}, "customJson"},
		{"options of another driver", deploy.Request{Target: app, Options: 42}, "options"},
		{"canary", deploy.Request{Target: app, Revision: deploy.Revision{ID: "v2"}, Strategy: deploy.Canary(10, 0)}, "strategy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.eng.Plan(context.Background(), tc.req)
			var ve *deploy.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field || !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("err = %v, want a *deploy.ValidationError of field %s", err, tc.field)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the custom JSON: %v", err)
			}
			if calls := e.fake.Calls(); len(calls) != 0 {
				t.Errorf("refused input made calls: %v", calls)
			}
		})
	}
}

func TestCustomJSONPosition(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a": 1,}`, "at byte 9 (line 1, column 9)"},
		{"{\n  \"a\": tru\n}", "line 2"},
		{`{"a": 1} {"b": 2}`, "trailing data after the JSON object at byte 10 (line 1, column 10)"},
		{`"s3cr3t"`, "must be a JSON object, not a string"},
		{`{"a": [1, 2`, "ends early"},
		{`   `, "empty"},
	} {
		err := opsworks.ValidateCustomJSON(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateCustomJSON(%q) = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the error quotes the input: %v", err)
		}
	}
	for _, ok := range []string{`{}`, ` {"deploy": {"app": {"migrate": true}}} `, `{"a": [1, {"b": null}]}`} {
		if err := opsworks.ValidateCustomJSON(ok); err != nil {
			t.Errorf("ValidateCustomJSON(%q) = %v", ok, err)
		}
	}
}
