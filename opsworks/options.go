package opsworks

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/deploy"
)

// Options configure a Driver. The zero value means every default.
type Options struct {
	// Clock is the source of time (for deployments' times when OpsWorks
	// gives none). Default deploy.SystemClock{}.
	Clock deploy.Clock
	// Logger receives debug logs of platform calls. Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = deploy.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// The twelve deployment commands of OpsWorks Stacks' CreateDeployment.
const (
	// App commands (they need the app ID).
	CommandDeploy   = "deploy"
	CommandRollback = "rollback"
	CommandStart    = "start"
	CommandStop     = "stop"
	CommandRestart  = "restart"
	CommandUndeploy = "undeploy"
	// Stack commands (they refuse an app ID).
	CommandSetup                 = "setup"
	CommandConfigure             = "configure"
	CommandInstallDependencies   = "install_dependencies"
	CommandUpdateDependencies    = "update_dependencies"
	CommandUpdateCustomCookbooks = "update_custom_cookbooks"
	CommandExecuteRecipes        = "execute_recipes"
)

// MaxRollbackVersions is how far back the rollback command goes: OpsWorks
// keeps five versions of an app, the current one and four before it.
const MaxRollbackVersions = 4

// AppCommands returns the app commands, which need an app ID.
func AppCommands() []string {
	return []string{CommandDeploy, CommandRollback, CommandStart, CommandStop, CommandRestart, CommandUndeploy}
}

// StackCommands returns the stack commands, which refuse an app ID.
func StackCommands() []string {
	return []string{CommandSetup, CommandConfigure, CommandInstallDependencies, CommandUpdateDependencies,
		CommandUpdateCustomCookbooks, CommandExecuteRecipes}
}

// IsAppCommand reports whether name is one of the app commands.
func IsAppCommand(name string) bool { return slices.Contains(AppCommands(), name) }

// IsStackCommand reports whether name is one of the stack commands.
func IsStackCommand(name string) bool { return slices.Contains(StackCommands(), name) }

// DeployOptions describe an OpsWorks deployment (deploy.Request.Options, as
// *DeployOptions or DeployOptions). The command is the deployment's
// content: a deploy of a new app revision (Request.Revision.ID), or any of
// the other eleven commands. Request.Comment becomes the deployment's
// comment and Request.NoWait returns once OpsWorks accepted it.
//
// The zero value deploys Request.Revision to the target app's instances.
type DeployOptions struct {
	// Command is the command's name (CommandDeploy, ...). Default
	// CommandDeploy for an app target; required for a stack target.
	Command string
	// Args are the command's arguments, validated per command before any
	// call: deploy takes migrate (true or false); update_dependencies takes
	// upgrade_os_to (which needs allow_reboot true) and allow_reboot (true
	// or false); execute_recipes needs recipes (each "cookbook::recipe").
	// The other commands take none. Unknown arguments are refused.
	Args map[string][]string
	// InstanceIDs limits the deployment to these instances (with the
	// instances of LayerIDs). Default every instance of the stack.
	InstanceIDs []string
	// LayerIDs limits the deployment to the instances of these layers
	// (with InstanceIDs).
	LayerIDs []string
	// CustomJSON overrides stack configuration attributes. It must be a
	// JSON object. It is sent to OpsWorks and never appears in plans,
	// events, logs or errors.
	CustomJSON string
	// Versions is how many versions the rollback command goes back, 1 to
	// MaxRollbackVersions (4). Default 1. Only with CommandRollback.
	Versions int
}

// MarshalJSON writes the options with CustomJSON left out (its length
// instead), so a plan printed as JSON never shows it.
func (o DeployOptions) MarshalJSON() ([]byte, error) {
	type plain DeployOptions
	p := plain(o)
	p.CustomJSON = ""
	return json.Marshal(struct {
		plain
		CustomJSON string `json:"CustomJSON,omitempty"`
	}{p, redacted(o.CustomJSON)})
}

func redacted(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("(%d bytes, not shown)", len(s))
}

func deployOptions(v any) (DeployOptions, error) { return deploy.OptionsOf[DeployOptions](v) }

var recipeName = regexp.MustCompile(`^[A-Za-z0-9_.-]+::[A-Za-z0-9_.-]+$`)

// ValidateCommand checks a command and its arguments as CreateDeployment
// would take them, before any call. Each refusal is a
// *deploy.ValidationError (wrapping deploy.ErrInvalidRequest) whose Field
// names the command or the argument ("command.args.recipes").
func ValidateCommand(name string, args map[string][]string) error {
	if !IsAppCommand(name) && !IsStackCommand(name) {
		return deploy.Invalid("command", name, "unknown command; want one of "+
			strings.Join(append(AppCommands(), StackCommands()...), ", "))
	}
	allowed := map[string]bool{}
	switch name {
	case CommandDeploy:
		allowed["migrate"] = true
	case CommandUpdateDependencies:
		allowed["upgrade_os_to"], allowed["allow_reboot"] = true, true
	case CommandExecuteRecipes:
		allowed["recipes"] = true
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := "command.args." + k
		if !allowed[k] {
			if len(allowed) == 0 {
				return deploy.Invalid(field, "", "the "+name+" command takes no arguments")
			}
			return deploy.Invalid(field, "", "unknown argument of "+name+"; it takes "+strings.Join(sortedKeys(allowed), ", "))
		}
		vs := args[k]
		if len(vs) == 0 {
			return deploy.Invalid(field, "", "needs a value")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return deploy.Invalid(field, "", "not valid UTF-8")
			}
		}
		switch k {
		case "migrate", "allow_reboot", "upgrade_os_to":
			if len(vs) != 1 {
				return deploy.Invalid(field, strings.Join(vs, ","), "takes exactly one value")
			}
		}
		switch k {
		case "migrate", "allow_reboot":
			if vs[0] != "true" && vs[0] != "false" {
				return deploy.Invalid(field, vs[0], "want true or false")
			}
		case "upgrade_os_to":
			if strings.TrimSpace(vs[0]) == "" {
				return deploy.Invalid(field, "", "name the Amazon Linux version, such as \"Amazon Linux 2018.03\"")
			}
			if strings.ContainsAny(vs[0], "\n\r\t") {
				return deploy.Invalid(field, "", "must be one line")
			}
		case "recipes":
			seen := map[string]bool{}
			for _, r := range vs {
				if !recipeName.MatchString(r) {
					return deploy.Invalid(field, r, "want cookbook::recipe")
				}
				if seen[r] {
					return deploy.Invalid(field, r, "listed twice")
				}
				seen[r] = true
			}
		}
	}
	if name == CommandExecuteRecipes && len(args["recipes"]) == 0 {
		return deploy.Invalid("command.args.recipes", "", "execute_recipes needs recipes, each cookbook::recipe")
	}
	if up := args["upgrade_os_to"]; len(up) > 0 {
		if ar := args["allow_reboot"]; len(ar) != 1 || ar[0] != "true" {
			return deploy.Invalid("command.args.allow_reboot", strings.Join(ar, ","), "upgrade_os_to needs allow_reboot true")
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ValidateCustomJSON checks that s is one JSON object. When it is not, the
// *deploy.ValidationError (field "customJson") says where, by byte offset,
// line and column, and never quotes s.
func ValidateCustomJSON(s string) error {
	trimmed := strings.TrimLeft(s, " \t\r\n")
	if trimmed == "" {
		return deploy.Invalid("customJson", "", "empty: leave it unset, or give a JSON object")
	}
	if !utf8.ValidString(s) {
		at := 0
		for at < len(s) {
			r, n := utf8.DecodeRuneInString(s[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return deploy.Invalid("customJson", "", fmt.Sprintf("not valid UTF-8 at byte %d", at+1))
	}
	if !json.Valid([]byte(s)) {
		var v any
		err := json.Unmarshal([]byte(s), &v)
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return deploy.Invalid("customJson", "", "not valid JSON "+position(s, 0))
		}
		off := se.Offset - 1 // the byte that broke the syntax
		switch msg := se.Error(); {
		case strings.Contains(msg, "unexpected end"):
			return deploy.Invalid("customJson", "", "not valid JSON: it ends early "+position(s, int64(len(s))))
		case strings.Contains(msg, "after top-level value"):
			return deploy.Invalid("customJson", "", "trailing data after the JSON object "+position(s, off))
		}
		return deploy.Invalid("customJson", "", "not valid JSON "+position(s, off))
	}
	if trimmed[0] != '{' {
		return deploy.Invalid("customJson", "", fmt.Sprintf("must be a JSON object, not %s %s", jsonKind(trimmed[0]), position(s, int64(len(s)-len(trimmed)))))
	}
	return nil
}

// position describes byte offset off of s as "at byte N (line L, column C)",
// counting from 1.
func position(s string, off int64) string {
	if off < 0 {
		off = 0
	}
	if off > int64(len(s)) {
		off = int64(len(s))
	}
	line, col := 1, 1
	for _, c := range []byte(s[:off]) {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("at byte %d (line %d, column %d)", off+1, line, col)
}

func jsonKind(first byte) string {
	switch first {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// validate checks the options for a target (app set or not) and a
// revision, before any call. It returns the command name with its default.
func (o DeployOptions) validate(appID string, rev deploy.Revision) (string, error) {
	cmd := o.Command
	if cmd == "" {
		if appID == "" {
			return "", deploy.Invalid("command", "", "required for a stack target: name a stack command ("+strings.Join(StackCommands(), ", ")+")")
		}
		cmd = CommandDeploy
	}
	if err := ValidateCommand(cmd, o.Args); err != nil {
		return "", err
	}
	switch {
	case IsAppCommand(cmd) && appID == "":
		return "", deploy.Invalid("appId", "", "the "+cmd+" command is an app command: it needs the app ID")
	case IsStackCommand(cmd) && appID != "":
		return "", deploy.Invalid("appId", appID, "the "+cmd+" command is a stack command: it takes no app ID (target the stack)")
	}
	if cmd == CommandRollback {
		if o.Versions < 0 || o.Versions > MaxRollbackVersions {
			return "", deploy.Invalid("versions", fmt.Sprint(o.Versions),
				fmt.Sprintf("OpsWorks keeps five versions of an app, so a rollback goes 1 to %d versions back", MaxRollbackVersions))
		}
	} else if o.Versions != 0 {
		return "", deploy.Invalid("versions", fmt.Sprint(o.Versions), "only the rollback command goes versions back")
	}
	if cmd != CommandDeploy && rev.ID != "" {
		return "", deploy.Invalid("revision.id", rev.ID, "only the deploy command deploys a revision; "+cmd+" runs on what the instances have")
	}
	if err := checkIDs("instanceIds", o.InstanceIDs); err != nil {
		return "", err
	}
	if err := checkIDs("layerIds", o.LayerIDs); err != nil {
		return "", err
	}
	if o.CustomJSON != "" {
		if err := ValidateCustomJSON(o.CustomJSON); err != nil {
			return "", err
		}
	}
	return cmd, nil
}

func checkIDs(field string, ids []string) error {
	seen := map[string]bool{}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if strings.TrimSpace(id) == "" {
			return deploy.Invalid(f, "", "empty ID")
		}
		if strings.ContainsAny(id, " \t\n/") {
			return deploy.Invalid(f, id, "not an ID")
		}
		if seen[id] {
			return deploy.Invalid(f, id, "listed twice")
		}
		seen[id] = true
	}
	return nil
}
