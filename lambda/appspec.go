package lambda

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/deploy"
)

// AppSpec is a CodeDeploy application specification for a Lambda
// deployment: one function, its alias, the version the alias runs and the
// one to shift it to, and up to one validation function per hook.
type AppSpec struct {
	// Function is the function's name or ARN.
	Function string
	// Alias is the alias CodeDeploy shifts.
	Alias string
	// CurrentVersion is the version the alias runs now.
	CurrentVersion string
	// TargetVersion is the version to shift to.
	TargetVersion string
	// BeforeAllowTraffic and AfterAllowTraffic name validation functions
	// (empty for none). CodeDeploy invokes them with a deployment ID and a
	// hook execution ID, and waits for PutLifecycleEventHookExecutionStatus.
	BeforeAllowTraffic string
	AfterAllowTraffic  string
}

var (
	functionNameRE = regexp.MustCompile(`^(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:)?[a-zA-Z0-9-_]{1,64}$`)
	aliasRE        = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,128}$`)
)

// Validate checks every field: function and hook names as Lambda accepts
// them, an alias name that is not a version number, two different
// published version numbers (never $LATEST). Errors are
// *deploy.ValidationError.
func (a AppSpec) Validate() error {
	if !functionNameRE.MatchString(a.Function) {
		return deploy.Invalid("appspec.Name", a.Function, "not a Lambda function name or ARN")
	}
	if !aliasRE.MatchString(a.Alias) || isVersionNumber(a.Alias) {
		return deploy.Invalid("appspec.Alias", a.Alias, "not a Lambda alias name")
	}
	for _, v := range []struct{ field, val string }{{"CurrentVersion", a.CurrentVersion}, {"TargetVersion", a.TargetVersion}} {
		if v.val == latest {
			return deploy.Invalid("appspec."+v.field, v.val, "$LATEST cannot take part in traffic shifting")
		}
		if !isVersionNumber(v.val) {
			return deploy.Invalid("appspec."+v.field, v.val, "want a published version number")
		}
	}
	if a.CurrentVersion == a.TargetVersion {
		return deploy.Invalid("appspec.TargetVersion", a.TargetVersion, "equals CurrentVersion")
	}
	for _, h := range []struct{ field, val string }{{"BeforeAllowTraffic", a.BeforeAllowTraffic}, {"AfterAllowTraffic", a.AfterAllowTraffic}} {
		if h.val != "" && !functionNameRE.MatchString(h.val) {
			return deploy.Invalid("appspec.Hooks."+h.field, h.val, "not a Lambda function name or ARN")
		}
	}
	return nil
}

type appSpecDoc struct {
	Version   json.RawMessage              `json:"version"`
	Resources []map[string]appSpecResource `json:"Resources"`
	Hooks     []map[string]string          `json:"Hooks,omitempty"`
}

type appSpecResource struct {
	Type       string            `json:"Type"`
	Properties appSpecProperties `json:"Properties"`
}

type appSpecProperties struct {
	Name           string `json:"Name"`
	Alias          string `json:"Alias"`
	CurrentVersion string `json:"CurrentVersion"`
	TargetVersion  string `json:"TargetVersion"`
}

const lambdaResourceType = "AWS::Lambda::Function"

// JSON renders the AppSpec as CodeDeploy's AppSpecContent (JSON is valid
// YAML, and CodeDeploy accepts either). It validates first.
func (a AppSpec) JSON() (string, error) {
	if err := a.Validate(); err != nil {
		return "", err
	}
	doc := appSpecDoc{
		Version: json.RawMessage("0.0"),
		Resources: []map[string]appSpecResource{{resourceName(a.Function): {Type: lambdaResourceType,
			Properties: appSpecProperties{Name: a.Function, Alias: a.Alias, CurrentVersion: a.CurrentVersion, TargetVersion: a.TargetVersion}}}},
	}
	if a.BeforeAllowTraffic != "" {
		doc.Hooks = append(doc.Hooks, map[string]string{"BeforeAllowTraffic": a.BeforeAllowTraffic})
	}
	if a.AfterAllowTraffic != "" {
		doc.Hooks = append(doc.Hooks, map[string]string{"AfterAllowTraffic": a.AfterAllowTraffic})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// sha256Hex is the hex SHA-256 of content, as CodeDeploy's AppSpecContent
// Sha256 field wants it.
func sha256Hex(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// resourceName is the logical name of the function in Resources: its
// short name.
func resourceName(fn string) string { return shortName(fn) }

// ParseAppSpec reads a Lambda AppSpec in JSON: one resource of type
// AWS::Lambda::Function and optional BeforeAllowTraffic and
// AfterAllowTraffic hooks. The result is validated. Errors are
// *deploy.ValidationError.
func ParseAppSpec(content []byte) (AppSpec, error) {
	if !utf8.Valid(content) {
		return AppSpec{}, deploy.Invalid("appspec", "", "not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.DisallowUnknownFields()
	var doc appSpecDoc
	if err := dec.Decode(&doc); err != nil {
		return AppSpec{}, deploy.Invalid("appspec", "", err.Error())
	}
	if dec.More() {
		return AppSpec{}, deploy.Invalid("appspec", "", "trailing data")
	}
	if v := strings.TrimSpace(string(doc.Version)); v != "0.0" && v != "0" && v != `"0.0"` {
		return AppSpec{}, deploy.Invalid("appspec.version", v, "want 0.0")
	}
	if len(doc.Resources) != 1 || len(doc.Resources[0]) != 1 {
		return AppSpec{}, deploy.Invalid("appspec.Resources", "", "want exactly one Lambda function")
	}
	var a AppSpec
	for _, r := range doc.Resources[0] {
		if r.Type != lambdaResourceType {
			return AppSpec{}, deploy.Invalid("appspec.Resources.Type", r.Type, "want "+lambdaResourceType)
		}
		a = AppSpec{Function: r.Properties.Name, Alias: r.Properties.Alias,
			CurrentVersion: r.Properties.CurrentVersion, TargetVersion: r.Properties.TargetVersion}
	}
	for i, h := range doc.Hooks {
		if len(h) != 1 {
			return AppSpec{}, deploy.Invalid(fmt.Sprintf("appspec.Hooks[%d]", i), "", "want one hook per entry")
		}
		for k, v := range h {
			switch k {
			case "BeforeAllowTraffic":
				if a.BeforeAllowTraffic != "" {
					return AppSpec{}, deploy.Invalid("appspec.Hooks", k, "given twice")
				}
				a.BeforeAllowTraffic = v
			case "AfterAllowTraffic":
				if a.AfterAllowTraffic != "" {
					return AppSpec{}, deploy.Invalid("appspec.Hooks", k, "given twice")
				}
				a.AfterAllowTraffic = v
			default:
				return AppSpec{}, deploy.Invalid("appspec.Hooks", k, "want BeforeAllowTraffic or AfterAllowTraffic")
			}
			if v == "" {
				return AppSpec{}, deploy.Invalid("appspec.Hooks."+k, v, "empty function name")
			}
		}
	}
	if err := a.Validate(); err != nil {
		return AppSpec{}, err
	}
	return a, nil
}
