package lambda_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
)

// FuzzLambdaStrategy runs the strategy parser over Lambda configuration
// names and short forms: whatever parses must be a valid strategy whose
// every shift is a weight Lambda accepts, ending at 100, and whose short
// form parses back to the same steps. Whatever does not parse is a
// ValidationError.
func FuzzLambdaStrategy(f *testing.F) {
	for _, n := range deploy.CodeDeployConfigNames() {
		f.Add(n)
	}
	for _, s := range []string{"", "all-at-once", "canary:10:5m", "linear:10:1m", "linear:33:10s", "steps:5,1m,50,approve,100",
		"canary:0:5m", "linear:101:1m", "steps:10,5m", "CodeDeployDefault.LambdaCanary99Percent1Minutes", "canary:1e400:1m", "steps:NaN,100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := deploy.ParseStrategy(in)
		if err != nil {
			if !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("ParseStrategy(%q) err %v does not wrap ErrInvalidRequest", in, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseStrategy(%q) gave an invalid strategy: %v", in, err)
		}
		last := 0.0
		for _, st := range s.Normalized() {
			if st.Kind != deploy.StepShift {
				continue
			}
			w, err := lambda.Weight(st.Percent)
			if err != nil || w <= 0 || w > 1 || math.IsNaN(w) {
				t.Fatalf("%q: shift %v gives weight %v (%v)", in, st.Percent, w, err)
			}
			if st.Percent <= last {
				t.Fatalf("%q: shifts do not rise: %v after %v", in, st.Percent, last)
			}
			last = st.Percent
		}
		if last != 100 {
			t.Fatalf("%q: last shift %v", in, last)
		}
		if s.MinHealthy != nil {
			return // not a Lambda strategy; the driver refuses it
		}
		back, err := deploy.ParseStrategy(s.String())
		if err != nil {
			t.Fatalf("%q: short form %q does not parse: %v", in, s.String(), err)
		}
		a, b := s.Normalized(), back.Normalized()
		if len(a) != len(b) {
			t.Fatalf("%q: round trip %q changed steps: %v vs %v", in, s.String(), a, b)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%q: round trip %q changed step %d: %v vs %v", in, s.String(), i, a[i], b[i])
			}
		}
		if strings.HasPrefix(in, deploy.CodeDeployPrefix+"Lambda") {
			if name, ok := s.CodeDeployConfigName("Lambda"); !ok || name != strings.TrimSpace(strings.SplitN(in, ";", 2)[0]) {
				t.Fatalf("%q: CodeDeployConfigName = %q %v", in, name, ok)
			}
		}
	})
}

// FuzzAppSpec builds AppSpecs from arbitrary fields: a valid one renders to
// JSON that parses back to the same AppSpec; an invalid one is refused with
// a ValidationError and renders nothing.
func FuzzAppSpec(f *testing.F) {
	f.Add("app", "live", "1", "2", "", "")
	f.Add("arn:aws:lambda:us-east-1:123456789012:function:app", "prod", "7", "12", "pre-check", "post-check")
	f.Add("app", "live", "$LATEST", "2", "", "")
	f.Add("app", "3", "1", "2", "", "")
	f.Add("app", "live", "2", "2", "", "")
	f.Add("a\"pp", "li\nve", "1", "02", "x y", "")
	f.Fuzz(func(t *testing.T, fn, alias, cur, target, before, after string) {
		a := lambda.AppSpec{Function: fn, Alias: alias, CurrentVersion: cur, TargetVersion: target,
			BeforeAllowTraffic: before, AfterAllowTraffic: after}
		content, err := a.JSON()
		if verr := a.Validate(); (verr == nil) != (err == nil) {
			t.Fatalf("Validate %v but JSON %v", verr, err)
		}
		if err != nil {
			if !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("err %v is not ErrInvalidRequest", err)
			}
			if content != "" {
				t.Fatal("content rendered for an invalid AppSpec")
			}
			return
		}
		if cur == target || cur == "$LATEST" || target == "$LATEST" {
			t.Fatalf("accepted versions %q -> %q", cur, target)
		}
		back, err := lambda.ParseAppSpec([]byte(content))
		if err != nil {
			t.Fatalf("rendered AppSpec does not parse: %v\n%s", err, content)
		}
		if back != a {
			t.Fatalf("round trip changed the AppSpec: %+v vs %+v", back, a)
		}
		if len(lambda.Sha256(content)) != 64 {
			t.Fatal("bad sha256")
		}
	})
}

// FuzzParseAppSpec feeds arbitrary bytes to the AppSpec parser: it never
// panics, and whatever it accepts renders back to an equivalent AppSpec.
func FuzzParseAppSpec(f *testing.F) {
	good, _ := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "1", TargetVersion: "2", BeforeAllowTraffic: "v"}.JSON()
	f.Add([]byte(good))
	f.Add([]byte(`{"version":0.0,"Resources":[{"f":{"Type":"AWS::Lambda::Function","Properties":{"Name":"f","Alias":"a","CurrentVersion":"1","TargetVersion":"2"}}}]}`))
	f.Add([]byte(`{"version":0.0,"Resources":[]}`))
	f.Add([]byte(`nonsense`))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := lambda.ParseAppSpec(in)
		if err != nil {
			if !errors.Is(err, deploy.ErrInvalidRequest) {
				t.Fatalf("err %v is not ErrInvalidRequest", err)
			}
			return
		}
		content, err := a.JSON()
		if err != nil {
			t.Fatalf("parsed AppSpec does not render: %v", err)
		}
		back, err := lambda.ParseAppSpec([]byte(content))
		if err != nil || back != a {
			t.Fatalf("round trip: %+v %v", back, err)
		}
	})
}
