package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// app holds the global flags and the output streams.
type app struct {
	region      string
	profile     string
	endpointURL string
	output      string
	timeout     time.Duration
	cleanup     time.Duration // --cleanup-timeout
	storeURL    string        // --store (see store.go)
	lockLease   time.Duration // --lock-lease
	store       deploy.Store  // opened from storeURL before a command runs

	stdout io.Writer
	stderr io.Writer
	mu     sync.Mutex

	// repair returns the command that puts the target back, set by
	// commands that change one: printed when a deployment's cleanup failed
	// (le says what the target was left serving) or was interrupted (le
	// nil).
	repair func(le *deploy.LeftError) string
	// last is the last deployment printed, for the JSON result line.
	last *deploy.Deployment
	// progress follows the deployments for people (text output).
	progress *progressView
}

// usageError is bad command-line usage: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitCode maps an error to deployctl's exit status.
func exitCode(err error) int {
	var ue usageError
	var le *deploy.LockedError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &le):
		// Refused: another run holds the target's lock (the error names it).
		return 3
	case errors.As(err, &ue), errors.Is(err, deploy.ErrInvalidRequest):
		return 2
	default:
		return 1
	}
}

// flags returns a flag set for a subcommand whose parse errors are usage
// errors.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("deployctl "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	return fs
}

// parse parses args and turns parse failures into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// parseFlags parses args without the flag package's own printing: -h or
// --help prints the flag set's usage and returns flag.ErrHelp (exit 0); a
// bad flag returns one usage error line that points at -h (exit 2) rather
// than the whole usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		if fs.Usage != nil {
			fs.Usage()
		} else {
			fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return err
	default:
		return usagef("%v (see '%s -h')", err, fs.Name())
	}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--h", "--help":
		return true
	}
	return false
}

// checkAlarms refuses, with one DescribeAlarms read, alarm names that
// CloudWatch does not have: ECS and CodeDeploy take alarm names as they
// are, and a misspelt one would never go off. A failed call is returned
// as it is (not bad input).
func checkAlarms(ctx context.Context, cfg aws.Config, names []string) error {
	if len(names) == 0 {
		return nil
	}
	g, err := platform.NewAlarmGate(platform.NewCloudWatchClient(cfg), platform.AlarmGateOptions{Names: names})
	if err != nil {
		return err
	}
	_, err = g.Alarms(ctx)
	var re *smithyhttp.ResponseError
	if errors.Is(err, deploy.ErrNotFound) && !errors.As(err, &re) {
		return deploy.Invalid("--alarm", strings.Join(names, ","), err.Error())
	}
	return err
}

// awsConfig loads the AWS configuration the global flags describe.
func (a *app) awsConfig(ctx context.Context) (aws.Config, error) {
	return platform.LoadConfig(ctx, platform.ConfigOptions{Region: a.region, Profile: a.profile, EndpointURL: a.endpointURL})
}

// engine returns an engine for drv that prints progress as it happens.
func (a *app) engine(drv deploy.Driver, opts deploy.Options) *deploy.Engine {
	if opts.OnEvent == nil {
		opts.OnEvent = a.printEvent
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Store == nil && a.store != nil {
		opts.Store, opts.LockLease = a.store, a.lockLease
	}
	if opts.CleanupTimeout == 0 {
		opts.CleanupTimeout = a.cleanup
	}
	return deploy.New(drv, opts)
}

// printEvent writes one progress line (text, on stderr) or, with
// --output json, one "event" line of JSON Lines on stdout.
func (a *app) printEvent(e deploy.Event) {
	if a.output == "json" {
		a.jsonLine("event", e)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if e.Kind == deploy.EventPlanned {
		return
	}
	line := fmt.Sprintf("%s  %-8s %s", e.Time.Format("15:04:05"), e.Kind, e.Target)
	if e.Gate != "" {
		line += " gate " + e.Gate + " (" + string(e.Phase) + ")"
	}
	if e.Message != "" {
		line += ": " + e.Message
	}
	if e.Err != nil {
		line += ": " + e.Err.Error()
	}
	if a.progress == nil {
		a.progress = newProgressView(a.stderr)
	}
	a.progress.printAbove(a.stderr, line)
	if p := a.progress.update(e); p != "" {
		fmt.Fprintf(a.stderr, "%s  %-8s %s\n", e.Time.Format("15:04:05"), "progress", p)
	}
}

// jsonLine writes v as one line of JSON Lines on stdout, with "type"
// first. An object's fields follow "type" at the top level; anything else
// goes under "value".
func (a *app) jsonLine(typ string, v any) {
	b, err := json.Marshal(printable(v))
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	var line []byte
	switch {
	case len(b) >= 2 && b[0] == '{' && string(b) != "{}":
		line = append([]byte(`{"type":`+strconv.Quote(typ)+`,`), b[1:]...)
	case string(b) == "{}":
		line = []byte(`{"type":` + strconv.Quote(typ) + `}`)
	default:
		line = append(append([]byte(`{"type":`+strconv.Quote(typ)+`,"value":`), b...), '}')
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stdout.Write(append(line, '\n'))
}

// printable returns v as output shows it, with what a revision keeps for
// its driver alone left out: Attrs["content"], an AppSpec given inline
// (CodeDeploy), which the driver needs to deploy it again and which may
// hold anything; the revision's ID is its SHA-256 already. v is not
// changed.
func printable(v any) any {
	switch t := v.(type) {
	case *deploy.Plan:
		if t == nil {
			return v
		}
		p := *t
		p.Request.Revision, p.To = printableRevision(p.Request.Revision), printableRevision(p.To)
		if p.From != nil {
			from := printableRevision(*p.From)
			p.From = &from
		}
		return &p
	case *deploy.Deployment:
		return printableDeployment(t)
	case []deploy.HistoryEntry:
		return printableHistory(t)
	case deploy.Revision:
		return printableRevision(t)
	case result:
		t.Deployment = printableDeployment(t.Deployment)
		return t
	case fleetLine:
		t.Deployment = printableDeployment(t.Deployment)
		return t
	case historyOut:
		t.History = printableHistory(t.History)
		return t
	case []resumedOut:
		out := make([]resumedOut, len(t))
		for i, r := range t {
			r.Deployment = printableDeployment(r.Deployment)
			out[i] = r
		}
		return out
	}
	return v
}

func printableRevision(r deploy.Revision) deploy.Revision {
	if _, ok := r.Attrs["content"]; !ok {
		return r
	}
	attrs := make(map[string]string, len(r.Attrs))
	for k, v := range r.Attrs {
		if k != "content" {
			attrs[k] = v
		}
	}
	r.Attrs = attrs
	if len(attrs) == 0 {
		r.Attrs = nil
	}
	return r
}

func printableDeployment(d *deploy.Deployment) *deploy.Deployment {
	if d == nil {
		return nil
	}
	c := d.Clone()
	c.To = printableRevision(c.To)
	if c.From != nil {
		from := printableRevision(*c.From)
		c.From = &from
	}
	return c
}

func printableHistory(h []deploy.HistoryEntry) []deploy.HistoryEntry {
	out := make([]deploy.HistoryEntry, len(h))
	for i, e := range h {
		e.Revision = printableRevision(e.Revision)
		out[i] = e
	}
	return out
}

// print writes v as a JSON Lines "plan" (for a *deploy.Plan) or "status"
// line, or as text with the given function.
func (a *app) print(v any, text func(w io.Writer)) {
	if d, ok := v.(*deploy.Deployment); ok {
		a.mu.Lock()
		a.last = d
		a.mu.Unlock()
	}
	if a.output == "json" {
		typ := "status"
		if _, ok := v.(*deploy.Plan); ok {
			typ = "plan"
		}
		a.jsonLine(typ, v)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	text(a.stdout)
}

// lastDeployment returns the last deployment printed, if any.
func (a *app) lastDeployment() *deploy.Deployment {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// result is the last line of every command in --output json.
type result struct {
	Command    string             `json:"command"`
	ExitCode   int                `json:"exitCode"`
	Error      string             `json:"error,omitempty"`
	Deployment *deploy.Deployment `json:"deployment,omitempty"`
	// Left has one entry per target whose cleanup failed.
	Left []*leftResult `json:"left,omitempty"`
}

// leftResult is what a target was left serving after a cleanup that
// failed, and the command that repairs it.
type leftResult struct {
	// Target is the target's String() form.
	Target string `json:"target"`
	// Serving is each revision with its share, in percent.
	Serving []deploy.Share `json:"serving"`
	// LastSeen marks Serving as the last status seen, not read back.
	LastSeen bool `json:"lastSeen,omitempty"`
	// NeedsRepair is false when the target already serves the revision
	// the cleanup was returning it to, alone.
	NeedsRepair bool `json:"needsRepair"`
	// Repair is the deployctl command that repairs the target.
	Repair string `json:"repair,omitempty"`
}

// left describes le for people (one line) and for --output json.
func (a *app) left(le *deploy.LeftError) (string, *leftResult) {
	r := &leftResult{Target: le.Target.String(), Serving: le.Serving, LastSeen: le.LastSeen, NeedsRepair: le.NeedsRepair()}
	if r.Serving == nil {
		r.Serving = []deploy.Share{}
	}
	line := "left serving " + le.ServingString()
	if le.LastSeen {
		line += " (as last seen; it could not be read back)"
	}
	if !r.NeedsRepair {
		return line + ", the revision the cleanup was returning it to: nothing to repair", r
	}
	repair := a.repair
	if repair == nil {
		repair = targetRepair(le.Target)
	}
	if repair != nil {
		r.Repair = repair(le)
	}
	switch {
	case r.Repair != "":
		line += "; repair: " + r.Repair
	case le.Repair != nil:
		line += "; repair: roll it back to " + le.Repair.String()
	}
	return line, r
}

// printPlan shows a dry run.
func (a *app) printPlan(p *deploy.Plan) {
	a.print(p, func(w io.Writer) {
		fmt.Fprint(w, p.String())
		if len(p.Changes) == 0 {
			fmt.Fprintln(w, "  no changes")
		}
	})
}

// printDeployment shows a deployment's outcome.
func (a *app) printDeployment(d *deploy.Deployment) {
	if d == nil {
		return
	}
	a.print(d, func(w io.Writer) {
		from := "(none)"
		if d.From != nil {
			from = d.From.String()
		}
		fmt.Fprintf(w, "%s %s: %s -> %s %s", d.ID, d.Target, from, d.To, d.Status)
		if d.Reason != "" {
			fmt.Fprintf(w, " (%s)", d.Reason)
		}
		if d.RollbackOf != "" {
			fmt.Fprintf(w, " rollback of %s", d.RollbackOf)
		}
		if d.RolledBackBy != "" {
			fmt.Fprintf(w, " rolled back by %s", d.RolledBackBy)
		}
		fmt.Fprintln(w)
	})
}

// printHistory shows a target's revisions.
func (a *app) printHistory(h []deploy.HistoryEntry) {
	a.print(h, func(w io.Writer) {
		for _, e := range h {
			mark := " "
			if e.Current {
				mark = "*"
			}
			fmt.Fprintf(w, "%s %-40s %-10s %s %s\n", mark, e.Revision, e.Status, e.DeploymentID, e.At.Format("2006-01-02 15:04:05"))
		}
	})
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

// Set appends one value.
func (s *stringList) Set(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	*s = append(*s, v)
	return nil
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
