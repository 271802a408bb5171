package opsworks

import (
	"strings"

	"github.com/switchyard/switchyard/deploy"
)

// Platform is the driver's Platform() and the Platform of its targets.
const Platform = "opsworks"

// Target returns the deploy.Target of app appID in stack stackID. With an
// empty appID it is the stack itself, the target of stack commands (setup,
// configure, execute_recipes, ...). Its Name is "stackID/appID", or
// stackID alone.
func Target(stackID, appID string) deploy.Target {
	name := stackID
	attrs := map[string]string{"stack": stackID}
	if appID != "" {
		name += "/" + appID
		attrs["app"] = appID
	}
	return deploy.Target{Platform: Platform, Name: name, Attrs: attrs}
}

// ParseTarget returns the stack and app a target names: Attrs "stack" and
// "app" when set, otherwise Name split at its first slash ("stack/app", or
// "stack" alone for a stack). A missing stack is a *deploy.ValidationError.
func ParseTarget(t deploy.Target) (stackID, appID string, err error) {
	stackID, appID = t.Attrs["stack"], t.Attrs["app"]
	if stackID == "" {
		s, a, _ := strings.Cut(t.Name, "/")
		stackID = s
		if appID == "" {
			appID = a
		}
	}
	if stackID == "" {
		return "", "", deploy.Invalid("stackId", "", "required: name the stack (target \"stackID/appID\" or \"stackID\")")
	}
	if strings.ContainsAny(stackID, " /\t\n") {
		return "", "", deploy.Invalid("stackId", stackID, "not a stack ID")
	}
	if strings.ContainsAny(appID, " /\t\n") {
		return "", "", deploy.Invalid("appId", appID, "not an app ID")
	}
	return stackID, appID, nil
}
