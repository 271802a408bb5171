package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
)

// runCLI runs deployctl in-process. With --output json it also checks
// that stdout is JSON Lines as documented, whatever the command.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	for i, a := range args {
		if a == "--output" && i+1 < len(args) && args[i+1] == "json" {
			checkJSONLines(t, out.String(), code)
		}
	}
	return code, out.String(), errOut.String()
}

var camel = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// dataMaps are objects whose keys are data (names, versions), not fields;
// a rendered "document" is the user's own file, docker labels and all.
var dataMaps = map[string]bool{"attrs": true, "weights": true, "args": true, "variables": true, "tags": true, "document": true}

// checkJSONLines checks --output json's stdout: every line one JSON object
// with a known "type", camelCase field names, and a "result" line last that
// carries the exit code.
func checkJSONLines(t *testing.T, out string, code int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" || len(lines) == 0 {
		t.Fatalf("--output json wrote nothing to stdout")
	}
	var check func(path string, v any)
	check = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if !camel.MatchString(k) {
					t.Errorf("field %q at %s is not camelCase", k, path)
				}
				if !dataMaps[k] {
					check(path+"."+k, c)
				}
			}
		case []any:
			for _, c := range x {
				check(path+"[]", c)
			}
		}
	}
	for i, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
		typ, _ := obj["type"].(string)
		switch typ {
		case "event", "plan", "status", "result":
		default:
			t.Errorf("line %d has type %q, want event, plan, status or result: %s", i+1, typ, l)
		}
		if (typ == "result") != (i == len(lines)-1) {
			t.Errorf("line %d of %d has type %q; the result, and only it, comes last", i+1, len(lines), typ)
		}
		check("line", obj)
	}
	var r struct {
		ExitCode int `json:"exitCode"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil || r.ExitCode != code {
		t.Errorf("result line %s: exitCode %d, want %d (%v)", lines[len(lines)-1], r.ExitCode, code, err)
	}
}

// lastLine returns the last --output json line of type typ.
func lastLine(t *testing.T, out, typ string) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var h struct {
			Type string `json:"type"`
		}
		if json.Unmarshal([]byte(lines[i]), &h) == nil && h.Type == typ {
			return []byte(lines[i])
		}
	}
	t.Fatalf("no %q line in:\n%s", typ, out)
	return nil
}

// resultDeployment returns the deployment of the --output json result line.
func resultDeployment(t *testing.T, out string) deploy.Deployment {
	t.Helper()
	var r struct {
		Deployment deploy.Deployment `json:"deployment"`
	}
	if err := json.Unmarshal(lastLine(t, out, "result"), &r); err != nil {
		t.Fatal(err)
	}
	return r.Deployment
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage"},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"--output", "yaml", "version"}, 2, "--output"},
		{[]string{"--timeout", "-1s", "version"}, 2, "--timeout"},
		{[]string{"--bogus", "version"}, 2, "flag provided but not defined"},
		{[]string{"version", "extra"}, 2, "unexpected argument"},
		{[]string{"version"}, 0, ""},
		{[]string{"-h"}, 0, "usage"},
		{[]string{"strategies"}, 0, ""},
		{[]string{"strategies", "canary:10:5m"}, 0, ""},
		{[]string{"strategies", "canary:0:5m"}, 2, "between 1 and 100"},
		{[]string{"strategies", "CodeDeployDefault.Nope"}, 2, "unknown CodeDeploy"},
		{[]string{"strategies", "--instances", "4", "all-at-once;min-healthy=HOST_COUNT:4"}, 2, "can never be met"},
		{[]string{"strategies", "--instances", "4", "canary:10:5m"}, 2, "minimum healthy"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if tc.want != "" && !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q does not mention %q", stderr, tc.want)
			}
		})
	}
}

func TestExitCodeMapping(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{nil, 0},
		{usagef("bad"), 2},
		{deploy.Invalid("tasks", "-2", "must not be negative"), 2},
		{&deploy.Error{Op: "deploy", Err: fmt.Errorf("%w: alarm", deploy.ErrRolledBack)}, 1},
		{&deploy.Error{Op: "deploy", Err: deploy.ErrStopped}, 1},
		{&deploy.Error{Op: "deploy", Err: deploy.ErrFailed}, 1},
		{errors.New("connection refused"), 1},
	}
	for _, tc := range cases {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

func TestStrategiesOutput(t *testing.T) {
	code, out, _ := runCLI(t, "strategies", "--instances", "9", "CodeDeployDefault.HalfAtATime")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "batches [4 4 1]") {
		t.Fatalf("output lacks the batch plan:\n%s", out)
	}
	code, out, _ = runCLI(t, "--output", "json", "strategies", "linear:25:1m")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v struct {
		Strategy string        `json:"strategy"`
		Steps    []deploy.Step `json:"steps"`
	}
	if err := json.Unmarshal(lastLine(t, out, "status"), &v); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	if v.Strategy != "linear:25:1m" || len(v.Steps) != 7 {
		t.Fatalf("json = %+v", v)
	}
	code, out, _ = runCLI(t, "strategies")
	if code != 0 || !strings.Contains(out, "CodeDeployDefault.LambdaCanary10Percent5Minutes") {
		t.Fatalf("listing: exit %d\n%s", code, out)
	}
}
