package lambda_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
)

func TestAppSpecJSON(t *testing.T) {
	a := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "1", TargetVersion: "2",
		BeforeAllowTraffic: "pre", AfterAllowTraffic: "post"}
	got, err := a.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 0.0,
  "Resources": [
    {
      "app": {
        "Type": "AWS::Lambda::Function",
        "Properties": {
          "Name": "app",
          "Alias": "live",
          "CurrentVersion": "1",
          "TargetVersion": "2"
        }
      }
    }
  ],
  "Hooks": [
    {
      "BeforeAllowTraffic": "pre"
    },
    {
      "AfterAllowTraffic": "post"
    }
  ]
}`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Fatal("not JSON")
	}
}

func TestAppSpecValidate(t *testing.T) {
	ok := lambda.AppSpec{Function: "app", Alias: "live", CurrentVersion: "1", TargetVersion: "2"}
	for name, mut := range map[string]func(*lambda.AppSpec){
		"latest current": func(a *lambda.AppSpec) { a.CurrentVersion = "$LATEST" },
		"latest target":  func(a *lambda.AppSpec) { a.TargetVersion = "$LATEST" },
		"equal":          func(a *lambda.AppSpec) { a.TargetVersion = "1" },
		"no function":    func(a *lambda.AppSpec) { a.Function = "" },
		"numeric alias":  func(a *lambda.AppSpec) { a.Alias = "4" },
		"bad hook":       func(a *lambda.AppSpec) { a.BeforeAllowTraffic = "no spaces allowed" },
		"bad version":    func(a *lambda.AppSpec) { a.TargetVersion = "v2" },
	} {
		a := ok
		mut(&a)
		if err := a.Validate(); !errors.Is(err, deploy.ErrInvalidRequest) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}
