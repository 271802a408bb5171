package lambda

import (
	"strings"

	"github.com/switchyard/switchyard/deploy"
)

// Platform is the Platform() of both Lambda drivers, and the Platform of
// their targets.
const Platform = "lambda"

// Target returns the deploy.Target for alias of function (a name or an ARN).
func Target(function, alias string) deploy.Target {
	return deploy.Target{Platform: Platform, Name: function + ":" + alias}
}

// ParseTarget returns the function and alias a target names: Attrs
// "function" and "alias" when set, otherwise Name split at its last colon
// ("my-fn:live", "arn:aws:lambda:us-east-1:123456789012:function:my-fn:live").
// A missing part is a *deploy.ValidationError.
func ParseTarget(t deploy.Target) (function, alias string, err error) {
	function, alias = t.Attrs["function"], t.Attrs["alias"]
	if function == "" || alias == "" {
		i := strings.LastIndex(t.Name, ":")
		if i < 0 {
			return "", "", deploy.Invalid("target.name", t.Name, `want "function:alias"`)
		}
		if function == "" {
			function = t.Name[:i]
		}
		if alias == "" {
			alias = t.Name[i+1:]
		}
	}
	if function == "" || strings.HasSuffix(function, ":function") {
		return "", "", deploy.Invalid("target.name", t.Name, "function name is empty")
	}
	if alias == "" {
		return "", "", deploy.Invalid("target.name", t.Name, "alias name is empty")
	}
	if alias == latest {
		return "", "", deploy.Invalid("target.alias", alias, "$LATEST is not an alias; traffic shifting needs an alias")
	}
	if isVersionNumber(alias) {
		return "", "", deploy.Invalid("target.alias", alias, "a version number is not an alias")
	}
	if err := checkFunctionName("target.function", function); err != nil {
		return "", "", err
	}
	if err := checkAliasName("target.alias", alias); err != nil {
		return "", "", err
	}
	return function, alias, nil
}

const latest = "$LATEST"

func isVersionNumber(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
