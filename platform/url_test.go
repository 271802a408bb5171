package platform_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/platform"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"s3://bucket/key.zip", "s3://bucket/key.zip"},
		{"s3://bucket/key.zip?versionId=3", "s3://bucket/key.zip?versionId=…"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Security-Token=T0K3N&X-Amz-Signature=S1G", "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=…&X-Amz-Signature=…"},
		{"s3://bucket/key#etag=abc", "s3://bucket/key#etag=…"},
		{"https://user:hunter2@github.com/org/repo.git", "https://***@github.com/org/repo.git"},
		{"https://user:p@ss@host/x?token=t", "https://***@host/x?token=…"},
		{"https://host/a@b", "https://host/a@b"},
		{"not a url", "not a url"},
		{"", ""},
	} {
		got := platform.RedactURL(tc.in)
		if got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, secret := range []string{"T0K3N", "S1G", "hunter2", "p@ss"} {
			if strings.Contains(tc.in, secret) && strings.Contains(got, secret) {
				t.Errorf("RedactURL(%q) = %q shows %q", tc.in, got, secret)
			}
		}
	}
}

func FuzzRedactURL(f *testing.F) {
	f.Add("https://user:secret@host/path?X-Amz-Signature=abc#frag=x")
	f.Add("s3://b/k?versionId=1")
	f.Fuzz(func(t *testing.T, s string) {
		got := platform.RedactURL(s)
		if platform.RedactURL(got) != got {
			t.Fatalf("RedactURL is not idempotent: %q -> %q -> %q", s, got, platform.RedactURL(got))
		}
		if i := strings.IndexAny(got, "?#"); i >= 0 {
			for _, p := range strings.FieldsFunc(got[i+1:], func(r rune) bool { return r == '&' || r == '#' || r == ';' }) {
				if _, v, ok := strings.Cut(p, "="); ok && v != "…" {
					t.Fatalf("RedactURL(%q) = %q shows a query value %q", s, got, v)
				}
			}
		}
	})
}
