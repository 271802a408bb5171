package opsworks_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/opsworks"
)

// FuzzCustomJSON feeds arbitrary text to ValidateCustomJSON: it accepts
// exactly the JSON objects, refuses the rest with a *deploy.ValidationError
// of field customJson that says where, and never quotes the input.
func FuzzCustomJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"deploy":{"app":{"migrate":true}}}`, `[]`, `null`, `"x"`, `{"a":1,}`, `{"a":1} x`,
		"{\n\"a\": tru\n}", `{"a":[1,2`, ``, `   `, `{"\u00e9": "\xff"}`, `{"a":1}{"b":2}`, `1e400`, `{"a":1e400}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		err := opsworks.ValidateCustomJSON(in)
		var m map[string]json.RawMessage
		// encoding/json would take invalid UTF-8 (replacing it); OpsWorks
		// gets exactly the bytes given, so they must be UTF-8.
		want := utf8.ValidString(in) && json.Unmarshal([]byte(in), &m) == nil && m != nil
		if (err == nil) != want {
			t.Fatalf("ValidateCustomJSON(%q) = %v; json.Unmarshal into an object ok = %v", in, err, want)
		}
		if err == nil {
			return
		}
		var ve *deploy.ValidationError
		if !errors.As(err, &ve) || ve.Field != "customJson" || ve.Value != "" || !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Fatalf("err %#v is not a customJson ValidationError without a value", err)
		}
		if !strings.Contains(err.Error(), "empty") && !strings.Contains(err.Error(), "at byte ") {
			t.Fatalf("err %v does not say where", err)
		}
		if len(in) >= 16 && strings.Contains(err.Error(), in) {
			t.Fatalf("err %v quotes the input", err)
		}
	})
}

var recipe = regexp.MustCompile(`^[A-Za-z0-9_.-]+::[A-Za-z0-9_.-]+$`)

// FuzzArgs feeds arbitrary commands and arguments to ValidateCommand:
// whatever it accepts is a known command whose every argument is one that
// command takes, with values of the right form; whatever it refuses is a
// *deploy.ValidationError naming the command or the argument.
func FuzzArgs(f *testing.F) {
	f.Add("deploy", "migrate", "true", "", false)
	f.Add("deploy", "migrate", "yes", "", false)
	f.Add("execute_recipes", "recipes", "phpapp::appsetup", "nginx::default", true)
	f.Add("execute_recipes", "recipes", "phpapp", "", false)
	f.Add("update_dependencies", "upgrade_os_to", "Amazon Linux 2016.09", "true", true)
	f.Add("update_dependencies", "upgrade_os_to", "Amazon Linux 2016.09", "false", true)
	f.Add("update_dependencies", "allow_reboot", "true", "", false)
	f.Add("setup", "recipes", "a::b", "", false)
	f.Add("restart", "", "", "", false)
	f.Add("bogus", "x", "y", "", false)
	f.Fuzz(func(t *testing.T, cmd, key, v1, v2 string, two bool) {
		args := map[string][]string{}
		if key != "" {
			vals := []string{v1}
			if two {
				vals = append(vals, v2)
			}
			args[key] = vals
			if cmd == "update_dependencies" && key == "upgrade_os_to" && two {
				// The second value is allow_reboot's.
				args[key] = []string{v1}
				args["allow_reboot"] = []string{v2}
			}
		}
		err := opsworks.ValidateCommand(cmd, args)
		if err != nil {
			var ve *deploy.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, deploy.ErrInvalidRequest) || !strings.HasPrefix(ve.Field, "command") {
				t.Fatalf("ValidateCommand(%q, %v) = %#v, want a ValidationError naming the command or argument", cmd, args, err)
			}
			if strings.HasPrefix(ve.Field, "command.args.") {
				if _, ok := args[strings.TrimPrefix(ve.Field, "command.args.")]; !ok && ve.Field != "command.args.recipes" && ve.Field != "command.args.allow_reboot" {
					t.Fatalf("err names %s, which %v does not have", ve.Field, args)
				}
			}
			return
		}
		if !opsworks.IsAppCommand(cmd) && !opsworks.IsStackCommand(cmd) {
			t.Fatalf("accepted unknown command %q", cmd)
		}
		for k, vs := range args {
			switch {
			case k == "migrate" && cmd == "deploy", k == "allow_reboot" && cmd == "update_dependencies":
				if len(vs) != 1 || (vs[0] != "true" && vs[0] != "false") {
					t.Fatalf("accepted %s=%q", k, vs)
				}
			case k == "upgrade_os_to" && cmd == "update_dependencies":
				if len(vs) != 1 || strings.TrimSpace(vs[0]) == "" || len(args["allow_reboot"]) != 1 || args["allow_reboot"][0] != "true" {
					t.Fatalf("accepted upgrade_os_to without allow_reboot true: %v", args)
				}
			case k == "recipes" && cmd == "execute_recipes":
				for _, r := range vs {
					if !recipe.MatchString(r) {
						t.Fatalf("accepted recipe %q", r)
					}
				}
			default:
				t.Fatalf("%s accepted argument %q", cmd, k)
			}
		}
		if cmd == "execute_recipes" && len(args["recipes"]) == 0 {
			t.Fatal("execute_recipes accepted without recipes")
		}
	})
}
