package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/opsworksserver"
	"github.com/switchyard/switchyard/opsworks/opsworksfake"
)

// opsworksCLI runs deployctl against an in-memory OpsWorks on an httptest
// endpoint, whose commands finish at once on the wall clock.
func opsworksCLI(t *testing.T) (*opsworksfake.Fake, func(args ...string) (int, string, string)) {
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	fake := opsworksfake.New(opsworksfake.Options{Step: time.Nanosecond})
	fake.AddStack("s-1")
	fake.AddLayer("s-1", "web")
	fake.AddInstance("s-1", "i-1", "web")
	fake.AddInstance("s-1", "i-2", "web")
	fake.AddInstance("s-1", "i-3")
	fake.AddApp("s-1", "a-1", "v1", true)
	srv := opsworksserver.Start(t, fake)
	return fake, func(args ...string) (int, string, string) {
		return runCLI(t, append([]string{"--endpoint-url", srv.URL}, args...)...)
	}
}

func TestOpsWorksUsage(t *testing.T) {
	_, cli := opsworksCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"opsworks"}, "name an opsworks subcommand"},
		{[]string{"opsworks", "bogus"}, "unknown opsworks subcommand"},
		{[]string{"opsworks", "deploy", "--app", "a-1"}, "--stack is required"},
		{[]string{"opsworks", "deploy", "--stack", "s-1"}, "--app is required"},
		{[]string{"opsworks", "command", "--stack", "s-1"}, "--command is required"},
		{[]string{"opsworks", "command", "--stack", "s-1", "--command", "setup", "--arg", "novalue"}, "key=value"},
		{[]string{"opsworks", "command", "--stack", "s-1", "--command", "execute_recipes"}, "execute_recipes needs recipes"},
		{[]string{"opsworks", "command", "--stack", "s-1", "--command", "execute_recipes", "--arg", "recipes=a::b,broken"}, "command.args.recipes"},
		{[]string{"opsworks", "command", "--stack", "s-1", "--command", "update_dependencies", "--arg", "upgrade_os_to=Amazon Linux 2"}, "allow_reboot"},
		{[]string{"opsworks", "command", "--stack", "s-1", "--command", "restart"}, "needs the app ID"},
		{[]string{"opsworks", "command", "--stack", "s-1", "--app", "a-1", "--command", "setup"}, "takes no app ID"},
		{[]string{"opsworks", "command", "--stack", "s-1", "--app", "a-1", "--command", "reboot"}, "unknown command"},
		{[]string{"opsworks", "deploy", "--stack", "s-1", "--app", "a-1", "--custom-json", `{"password": hunter2}`}, "line 1, column 14"},
		{[]string{"opsworks", "rollback", "--stack", "s-1", "--app", "a-1", "--versions", "5"}, "five versions"},
		{[]string{"opsworks", "rollback", "--stack", "s-1", "--app", "a-1", "--to", "v1", "--versions", "1"}, "not both"},
		{[]string{"opsworks", "status", "--stack", "s-1"}, "--deployment-id"},
		{[]string{"opsworks", "deploy", "--stack", "s-1", "--app", "a-1", "--strategy", "canary:10:5m"}, "flag provided but not defined"},
	} {
		code, _, stderr := cli(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: stderr shows the custom JSON: %s", tc.args, stderr)
		}
	}
}

func TestOpsWorksCommands(t *testing.T) {
	fake, cli := opsworksCLI(t)
	app := []string{"--stack", "s-1", "--app", "a-1"}
	with := func(sub string, extra ...string) []string {
		return append(append([]string{"opsworks", sub}, app...), extra...)
	}
	code, out, stderr := cli(with("deploy", "--revision", "v2", "--dry-run", "--custom-json", `{"password":"hunter2"}`)...)
	if code != 0 || !strings.Contains(out, "app.a-1.appSource.revision: v1 -> v2") || fake.Mutations() != 0 {
		t.Fatalf("dry run: exit %d mutations %d\n%s\n%s", code, fake.Mutations(), out, stderr)
	}
	code, out, stderr = cli(append([]string{"--output", "json"}, with("deploy", "--revision", "v2", "--dry-run", "--custom-json", `{"password":"hunter2"}`)...)...)
	if code != 0 || strings.Contains(out+stderr, "hunter2") || !strings.Contains(out, "not shown") {
		t.Fatalf("json dry run shows the custom JSON or failed: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = cli(with("deploy", "--revision", "v2", "--arg", "migrate=true", "--comment", "release 2", "--custom-json", `{"password":"hunter2"}`)...)
	if code != 0 || !strings.Contains(out, "Succeeded") || strings.Contains(out+stderr, "hunter2") {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "instance i-2: deploy successful") {
		t.Errorf("no per-instance progress:\n%s", stderr)
	}
	if got := fake.Serving("a-1"); got["v2"] != 100 {
		t.Fatalf("serving %v", got)
	}
	// A stack command failing on one instance: exit 1, the instance named.
	fake.FailNext(1)
	code, out, stderr = cli("opsworks", "command", "--stack", "s-1", "--command", "execute_recipes", "--arg", "recipes=phpapp::appsetup,nginx::default")
	if code != 1 || !strings.Contains(stderr, "failed instances: i-3") || !strings.Contains(stderr, "i-3.log") {
		t.Fatalf("failing command: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = cli("opsworks", "command", "--stack", "s-1", "--command", "setup", "--layer", "web", "--no-wait")
	if code != 0 || !strings.Contains(out, "InProgress") {
		t.Fatalf("no-wait: exit %d\n%s\n%s", code, out, stderr)
	}
	id := strings.Fields(out)[0]
	code, out, stderr = cli("opsworks", "status", "--stack", "s-1", "--deployment-id", id)
	if code != 0 || !strings.Contains(out, id) {
		t.Fatalf("status: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = cli(with("status")...)
	if code != 0 || !strings.Contains(out, "* v2") {
		t.Fatalf("history: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = cli(with("rollback")...)
	if code != 0 || !strings.Contains(out, "-> v1 Succeeded") || fake.Serving("a-1")["v1"] != 100 {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = cli(with("deploy", "--revision", "v3")...)
	if code != 0 {
		t.Fatalf("deploy v3: exit %d\n%s", code, stderr)
	}
	code, out, stderr = cli(with("rollback", "--versions", "1")...)
	if code != 0 || fake.Serving("a-1")["v1"] != 100 {
		t.Fatalf("rollback command: exit %d serving %v\n%s\n%s", code, fake.Serving("a-1"), out, stderr)
	}
	// A failing deploy is rolled back by default (--rollback-on failure).
	fake.FailNext(1)
	code, out, stderr = cli(with("deploy", "--revision", "v4")...)
	if code != 1 || !strings.Contains(out, "RolledBack") || !strings.Contains(stderr, "failed instances: i-3") || fake.Serving("a-1")["v1"] != 100 {
		t.Fatalf("failing deploy: exit %d serving %v\n%s\n%s", code, fake.Serving("a-1"), out, stderr)
	}
	code, _, stderr = cli(with("deploy", "--revision", "v5", "--layer", "nope")...)
	if code != 1 || !strings.Contains(stderr, "nope") {
		t.Fatalf("unknown layer: exit %d\n%s", code, stderr)
	}
}
