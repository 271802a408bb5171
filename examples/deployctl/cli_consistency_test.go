package main

import (
	"strings"
	"testing"
)

// Every command answers -h with its usage and exit 0, and an unknown flag
// with one line that points at -h and exit 2 (not the whole usage).
func TestHelpAndUnknownFlagsAreConsistent(t *testing.T) {
	help := [][]string{
		{"-h"}, {"strategies", "-h"}, {"version", "-h"}, {"history", "-h"}, {"resume", "-h"},
		{"store", "-h"}, {"lambda", "-h"}, {"lambda", "--help"}, {"ecs", "-h"}, {"ec2", "-h"}, {"opsworks", "-h"},
		{"lambda", "deploy", "-h"}, {"ecs", "deploy", "-h"}, {"ecs", "render", "-h"}, {"ec2", "deploy", "-h"}, {"opsworks", "command", "-h"}, {"fleet", "-h"}, {"fleet", "deploy", "-h"},
	}
	for _, args := range help {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, args...)
			if code != 0 || !strings.Contains(strings.ToLower(stderr), "usage") {
				t.Fatalf("exit %d, want 0 with a usage; stderr:\n%s", code, stderr)
			}
		})
	}
	bad := [][]string{
		{"--bogus", "version"}, {"strategies", "--bogus"}, {"version", "--bogus"}, {"history", "--bogus"},
		{"lambda", "deploy", "--bogus"}, {"ecs", "deploy", "--bogus"}, {"ecs", "render", "--bogus"},
		{"ec2", "deploy", "--bogus"}, {"opsworks", "deploy", "--bogus"}, {"store", "create", "--bogus"},
		{"lambda", "deploy", "--version"}, {"fleet", "deploy", "--bogus"},
	}
	for _, args := range bad {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(stderr, "-h'") {
				t.Fatalf("exit %d with %d lines, want exit 2 with one line pointing at -h; stderr:\n%s", code, len(lines), stderr)
			}
		})
	}
}
