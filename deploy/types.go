package deploy

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Target is what a deployment changes: an ECS service, a Lambda alias, a
// CodeDeploy deployment group, an OpsWorks app. Drivers define its fields'
// meaning for their platform.
type Target struct {
	// Platform is the driver's Platform() value. Empty means the engine's driver.
	Platform string `json:"platform,omitempty"`
	// Name identifies the target on its platform, such as "cluster/service"
	// or "function:alias".
	Name string `json:"name"`
	// Attrs holds platform-specific coordinates (region, cluster ARN, ...).
	Attrs map[string]string `json:"attrs,omitempty"`
}

// String returns "platform:name", or Name alone when Platform is empty.
func (t Target) String() string {
	if t.Platform == "" {
		return t.Name
	}
	return t.Platform + ":" + t.Name
}

// Revision is what a deployment puts on a target: a task definition, a
// Lambda version, an S3 or GitHub bundle, an OpsWorks app source.
type Revision struct {
	// ID identifies the revision on its platform (a task definition ARN, a
	// version number, an S3 URL with version or ETag, a commit ID).
	ID string `json:"id"`
	// Label is a short human name, such as "web:42" or "v7".
	Label string `json:"label,omitempty"`
	// Source says where the revision came from: a file path, "s3://...",
	// "github:owner/repo@commit", "latest".
	Source string `json:"source,omitempty"`
	// CreatedAt is when the platform registered it, if known.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// Attrs holds platform-specific details.
	Attrs map[string]string `json:"attrs,omitempty"`
}

// String returns the label, or the ID when there is no label.
func (r Revision) String() string {
	if r.Label != "" {
		return r.Label
	}
	return r.ID
}

// IsZero reports whether r names no revision.
func (r Revision) IsZero() bool { return r.ID == "" && r.Label == "" && r.Source == "" }

// Message is something the platform said about a deployment: an ECS service
// event, a CodeDeploy lifecycle event, an OpsWorks command log line.
type Message struct {
	// ID is unique within the deployment; the engine reports each ID once.
	ID string `json:"id"`
	// At is when the platform said it.
	At time.Time `json:"at"`
	// Text is what it said.
	Text string `json:"text"`
}

// LifecycleEvent is one lifecycle hook of one instance (CodeDeploy's
// ApplicationStop ... ValidateService, an OpsWorks command).
type LifecycleEvent struct {
	Name    string    `json:"name"`
	Status  string    `json:"status"`
	Start   time.Time `json:"start,omitzero"`
	End     time.Time `json:"end,omitzero"`
	Message string    `json:"message,omitempty"`
}

// Instance is per-instance (or per-task, per-host) progress.
type Instance struct {
	ID        string           `json:"id"`
	Status    Status           `json:"status"`
	Lifecycle []LifecycleEvent `json:"lifecycle,omitempty"`
}

// Deployment is one attempt to move a target from one revision to another.
// Drivers create it in Start and refresh it in Status; the engine adds
// progress. A Deployment returned to a caller is a snapshot the caller owns.
type Deployment struct {
	// ID identifies the deployment on its platform (a CodeDeploy deployment
	// ID, an ECS service deployment ARN, ...).
	ID string `json:"id"`
	// Target is what is being changed.
	Target Target `json:"target"`
	// From is the revision the target ran before, nil if none.
	From *Revision `json:"from,omitempty"`
	// To is the revision being deployed.
	To Revision `json:"to"`
	// Strategy is how it is being deployed.
	Strategy Strategy `json:"strategy"`
	// Status is where it stands.
	Status Status `json:"status"`
	// Percent is the share of traffic (or of the fleet) on To, 0..100.
	Percent float64 `json:"percent"`
	// Step is the index of the strategy step in progress (or last done).
	Step int `json:"step"`
	// CreatedAt, UpdatedAt and EndedAt are platform or engine clock times.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	EndedAt   time.Time `json:"endedAt,omitzero"`
	// Reason says why the deployment ended (or is about to), when it did not
	// simply succeed.
	Reason string `json:"reason,omitempty"`
	// RollbackOf is the ID of the deployment this one reverses.
	RollbackOf string `json:"rollbackOf,omitempty"`
	// RolledBackBy is the ID of the deployment that reversed this one, when a
	// separate deployment did.
	RolledBackBy string `json:"rolledBackBy,omitempty"`
	// Instances is per-instance progress where the platform has it.
	Instances []Instance `json:"instances,omitempty"`
	// Messages are what the platform said, oldest first.
	Messages []Message `json:"messages,omitempty"`
	// Detail is driver-specific state. Drivers must tolerate receiving a
	// copy of the Deployment they returned, with Detail shared.
	Detail any `json:"-"`
}

// Clone returns a copy of d that shares no slices or maps with it (Detail is
// shared).
func (d *Deployment) Clone() *Deployment {
	if d == nil {
		return nil
	}
	c := *d
	if d.From != nil {
		f := *d.From
		c.From = &f
	}
	c.Strategy.Steps = append([]Step(nil), d.Strategy.Steps...)
	c.Instances = append([]Instance(nil), d.Instances...)
	c.Messages = append([]Message(nil), d.Messages...)
	return &c
}

// HistoryEntry is one revision a target ran, from a Historian.
type HistoryEntry struct {
	// Revision is what was deployed.
	Revision Revision `json:"revision"`
	// DeploymentID is the deployment that put it there, if known.
	DeploymentID string `json:"deploymentId,omitempty"`
	// Status is how that deployment ended (or stands).
	Status Status `json:"status"`
	// At is when that deployment ended or, if it is live, started.
	At time.Time `json:"at,omitzero"`
	// Current is true for the revision serving the target now.
	Current bool `json:"current,omitempty"`
}

// LastKnownGood returns the newest entry that is not the current one and
// whose deployment succeeded. History is expected newest first, but the
// function sorts by At itself when times are set.
func LastKnownGood(history []HistoryEntry) (HistoryEntry, bool) {
	h := append([]HistoryEntry(nil), history...)
	sort.SliceStable(h, func(i, j int) bool { return h[i].At.After(h[j].At) })
	var current string
	for _, e := range h {
		if e.Current {
			current = e.Revision.ID
			break
		}
	}
	for _, e := range h {
		if e.Status == StatusSucceeded && !e.Current && e.Revision.ID != current {
			return e, true
		}
	}
	return HistoryEntry{}, false
}

// Change is one difference a plan would make.
type Change struct {
	// Path names what changes, such as "taskDefinition.containerDefinitions[0].image".
	Path string `json:"path"`
	// Old and New are the values as text; Old is empty for an addition.
	// Sensitive values read as Redacted.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Sensitive marks a value that must never be shown. Drivers set it for
	// values they know to be secret; Engine.Plan also sets it for every path
	// SensitivePath names, and then replaces Old and New with Redacted.
	Sensitive bool `json:"sensitive,omitempty"`
}

// Redacted is what a sensitive value reads as in plans and events.
const Redacted = "(redacted)"

// secretWords are path fragments that mark a value as secret.
var secretWords = [...]string{"password", "passwd", "secret", "token", "credential", "privatekey", "private_key",
	"apikey", "api_key", "accesskey", "access_key", "sshkey", "ssh_key", "customjson", "auth"}

// SensitivePath reports whether a change at path holds a value that must
// never be shown in output: an environment variable's value (ECS's
// environment[i].value, Lambda's Environment.Variables.NAME), or anything
// whose path looks secret (password, secret, token, credential, private,
// API, access or SSH key, auth, OpsWorks's CustomJson). Names alone are not
// sensitive: environment[i].name is shown.
func SensitivePath(path string) bool {
	p := strings.ToLower(path)
	if strings.Contains(p, "environment") && (strings.HasSuffix(p, ".value") || strings.Contains(p, "environment.variables.")) {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(p, w) {
			return true
		}
	}
	return false
}

// redact returns changes with every sensitive value replaced by Redacted.
func redact(changes []Change) []Change {
	if len(changes) == 0 {
		return changes
	}
	out := make([]Change, len(changes))
	for i, c := range changes {
		if c.Sensitive || SensitivePath(c.Path) {
			c.Sensitive = true
			if c.Old != "" {
				c.Old = Redacted
			}
			if c.New != "" {
				c.New = Redacted
			}
		}
		out[i] = c
	}
	return out
}

// Mode says who carries out the strategy's steps.
type Mode string

const (
	// ModePlatform: the platform follows the strategy itself (ECS native
	// strategies, CodeDeploy); the engine starts the deployment, polls Status
	// and checks gates.
	ModePlatform Mode = "platform"
	// ModeEngine: the engine walks the steps and moves traffic through the
	// driver's Shifter (Lambda aliases without CodeDeploy).
	ModeEngine Mode = "engine"
)

// Plan is what a driver's Prepare resolved: everything Start needs, and the
// difference it would make. Preparing a plan changes nothing on the platform.
type Plan struct {
	// Request is the request the plan answers, with defaults filled in.
	Request Request `json:"request"`
	// From is the revision the target runs now, nil if none (a new service).
	From *Revision `json:"from,omitempty"`
	// To is the revision that would be deployed, resolved (a task definition
	// file becomes the revision it would register as).
	To Revision `json:"to"`
	// Mode says who walks the strategy steps.
	Mode Mode `json:"mode"`
	// Changes lists what would change, defaults not counted as changes.
	Changes []Change `json:"changes,omitempty"`
	// Batches is the in-place batch plan for fleet platforms, if any.
	Batches *BatchPlan `json:"batches,omitempty"`
	// Notes are things worth saying about the plan (fallbacks, no-ops).
	Notes []string `json:"notes,omitempty"`
	// Detail is driver-private state passed from Prepare to Start.
	Detail any `json:"-"`
}

// String summarises the plan in one line per change.
func (p *Plan) String() string {
	var b strings.Builder
	from := "(none)"
	if p.From != nil {
		from = p.From.String()
	}
	b.WriteString(p.Request.Target.String() + ": " + from + " -> " + p.To.String() +
		" [" + p.Request.Strategy.String() + ", " + string(p.Mode) + "]\n")
	for _, c := range p.Changes {
		b.WriteString("  " + c.Path + ": " + c.Old + " -> " + c.New + "\n")
	}
	for _, n := range p.Notes {
		b.WriteString("  note: " + n + "\n")
	}
	return b.String()
}

// RollbackOn is a set of conditions under which a deployment is rolled back
// automatically (CodeDeploy's auto-rollback events).
type RollbackOn uint8

const (
	// OnFailure: DEPLOYMENT_FAILURE; the deployment failed or a gate other
	// than an alarm refused it.
	OnFailure RollbackOn = 1 << iota
	// OnAlarm: DEPLOYMENT_STOP_ON_ALARM; a gate reported an alarm.
	OnAlarm
	// OnStopRequest: DEPLOYMENT_STOP_ON_REQUEST; someone asked to stop it.
	OnStopRequest
)

// Has reports whether every condition in c is in r.
func (r RollbackOn) Has(c RollbackOn) bool { return r&c == c && c != 0 }

// Events returns the CodeDeploy auto-rollback event names in r.
func (r RollbackOn) Events() []string {
	var out []string
	if r.Has(OnFailure) {
		out = append(out, "DEPLOYMENT_FAILURE")
	}
	if r.Has(OnAlarm) {
		out = append(out, "DEPLOYMENT_STOP_ON_ALARM")
	}
	if r.Has(OnStopRequest) {
		out = append(out, "DEPLOYMENT_STOP_ON_REQUEST")
	}
	return out
}

// String joins Events with commas.
func (r RollbackOn) String() string { return strings.Join(r.Events(), ",") }

// ParseRollbackOn reads a comma-separated list of CodeDeploy event names
// (DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST)
// or the short names failure, alarm, stop. Empty means none.
func ParseRollbackOn(s string) (RollbackOn, error) {
	var r RollbackOn
	for _, f := range strings.Split(s, ",") {
		switch strings.ToUpper(strings.TrimSpace(f)) {
		case "":
		case "DEPLOYMENT_FAILURE", "FAILURE":
			r |= OnFailure
		case "DEPLOYMENT_STOP_ON_ALARM", "ALARM":
			r |= OnAlarm
		case "DEPLOYMENT_STOP_ON_REQUEST", "STOP", "REQUEST":
			r |= OnStopRequest
		default:
			return 0, Invalid("rollbackEvents", f,
				"want DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM or DEPLOYMENT_STOP_ON_REQUEST")
		}
	}
	return r, nil
}

// Request asks for one deployment.
type Request struct {
	// Target is what to change. Required.
	Target Target `json:"target"`
	// Revision is what to deploy. Drivers may resolve it from Options (a
	// task definition file, a zip) when it is zero.
	Revision Revision `json:"revision"`
	// Strategy is how to shift. The zero value is AllAtOnce.
	Strategy Strategy `json:"strategy"`
	// Gates are checked while traffic shifts and bakes.
	Gates []Gate `json:"-"`
	// RollbackOn says when to roll back automatically. Zero means never.
	RollbackOn RollbackOn `json:"rollbackOn,omitempty"`
	// RollbackOf, when set, marks this request as the rollback of that
	// deployment ID.
	RollbackOf string `json:"rollbackOf,omitempty"`
	// NoWait asks the engine to return once the platform has accepted the
	// deployment (platform mode only).
	NoWait bool `json:"noWait,omitempty"`
	// Comment is recorded on platforms that keep one.
	Comment string `json:"comment,omitempty"`
	// Options holds driver-specific options, such as *ecs.DeployOptions.
	// They are left out of JSON: a task definition or function
	// configuration carries environment values and other secrets.
	Options any `json:"-"`
}

// OptionsOf returns a request's driver-specific options as a T, accepting
// a T, a *T or nil (the zero T, the defaults). Any other type is a
// *ValidationError naming the type wanted. Drivers use it to read
// Request.Options and RollbackRequest.Options.
func OptionsOf[T any](v any) (T, error) {
	var zero T
	switch o := v.(type) {
	case nil:
		return zero, nil
	case T:
		return o, nil
	case *T:
		if o == nil {
			return zero, nil
		}
		return *o, nil
	}
	return zero, Invalid("options", fmt.Sprintf("%T", v), fmt.Sprintf("want %T", &zero))
}
