package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestQuickstartRollsBack(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-instant"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"traffic  10% on v42",
		"FAILED during Bake",
		"rollback rolled back to v41",
		"result: RolledBack, alias serves v41",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestQuickstartHealthySucceeds(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-instant", "-healthy", "-strategy", "linear:25:2m"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "result: Succeeded, alias serves v42") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestQuickstartBadStrategy(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-strategy", "canary:0:5m"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}
