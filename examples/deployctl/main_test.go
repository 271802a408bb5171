package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
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
	if err := json.Unmarshal([]byte(out), &v); err != nil {
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
