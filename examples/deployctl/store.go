package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/ec2"
	"github.com/switchyard/switchyard/ecs"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/opsworks"
	"github.com/switchyard/switchyard/store/dynamostore"
	"github.com/switchyard/switchyard/store/localstore"
)

// storeFlags registers the global --store and --lock-lease flags.
func storeFlags(fs *flag.FlagSet, a *app) {
	fs.StringVar(&a.storeURL, "store", "", "where deployments, history (Lambda alias history too, unless lambda --history names a file) "+
		"and locks are kept: a directory, file://DIR or dynamodb://TABLE (default: DEPLOYCTL_STORE, else "+defaultStoreDir()+")")
	fs.DurationVar(&a.lockLease, "lock-lease", time.Minute, "how long a target's lock holds without renewal; a dead run's lock is free once it expires")
}

// minLockLease leaves room for the engine's longest wait between renewals
// (its 30s poll and gate intervals) and the calls around it.
const minLockLease = 45 * time.Second

// needsStore reports whether command deploys, rolls back or reads state.
func needsStore(command string) bool {
	switch command {
	case "version", "strategies", "store":
		return false
	}
	return true
}

// defaultStoreDir is the per-user state directory.
func defaultStoreDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "deployctl")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "deployctl")
	}
	return ".deployctl-state"
}

// storeLocation resolves --store: the flag, DEPLOYCTL_STORE, or the
// per-user directory. It returns either a directory or a DynamoDB table.
func (a *app) storeLocation() (dir, table string, err error) {
	u := a.storeURL
	if u == "" {
		u = os.Getenv("DEPLOYCTL_STORE")
	}
	switch {
	case u == "":
		return defaultStoreDir(), "", nil
	case strings.HasPrefix(u, "dynamodb://"):
		table = strings.TrimPrefix(u, "dynamodb://")
		if table == "" || strings.Contains(table, "/") {
			return "", "", usagef("--store dynamodb://TABLE names one table, not %q", u)
		}
		return "", table, nil
	case strings.HasPrefix(u, "file://"):
		dir = strings.TrimPrefix(u, "file://")
	case strings.Contains(u, "://"):
		return "", "", usagef("--store wants a directory, file://DIR or dynamodb://TABLE, not %q", u)
	default:
		dir = u
	}
	if dir == "" {
		return "", "", usagef("--store file:// needs a directory")
	}
	return dir, "", nil
}

// openStore opens the store --store names into a.store.
func (a *app) openStore(ctx context.Context) (func(), error) {
	if a.lockLease < minLockLease {
		return nil, usagef("--lock-lease must be at least %s: the engine renews the lease when it wakes, at least every 30s", minLockLease)
	}
	dir, table, err := a.storeLocation()
	if err != nil {
		return nil, err
	}
	if table != "" {
		cfg, err := a.awsConfig(ctx)
		if err != nil {
			return nil, err
		}
		a.store = dynamostore.New(dynamodb.NewFromConfig(cfg), table, dynamostore.Options{})
		return func() {}, nil
	}
	s, err := localstore.Open(dir)
	if err != nil {
		return nil, err
	}
	a.store = s
	return func() { _ = s.Close() }, nil
}

// runStore is deployctl store create URL.
func runStore(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(a.stderr, "usage: deployctl store create dynamodb://TABLE | DIR")
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: deployctl store create dynamodb://TABLE | DIR")
	}
	fs := a.flags("store create")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("unexpected argument %q", fs.Arg(1))
	}
	if fs.NArg() == 1 {
		a.storeURL = fs.Arg(0)
	}
	dir, table, err := a.storeLocation()
	if err != nil {
		return err
	}
	if table == "" {
		s, err := localstore.Open(dir)
		if err != nil {
			return err
		}
		_ = s.Close()
		a.print(map[string]string{"store": dir}, func(w io.Writer) { fmt.Fprintln(w, "local store ready in", dir) })
		return nil
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	if err := dynamostore.CreateTable(ctx, dynamodb.NewFromConfig(cfg), table, dynamostore.CreateTableOptions{}); err != nil {
		return err
	}
	a.print(map[string]string{"store": "dynamodb://" + table}, func(w io.Writer) {
		fmt.Fprintf(w, "DynamoDB table %s ready (PK/SK, time to live on ttl)\n", table)
	})
	return nil
}

// lambdaHistory is where the lambda driver keeps alias histories: in the
// store, shared by every run that uses it, unless --history names a file.
func (a *app) lambdaHistory(file string) lambda.HistoryStore {
	if a.store != nil && file == defaultHistory() {
		return lambda.StoreHistory(a.store)
	}
	return lambda.NewFileHistory(file)
}

// driverFor builds the driver that resumes a target of platform.
func (a *app) driverFor(cfg aws.Config, t deploy.Target) (deploy.Driver, error) {
	switch t.Platform {
	case lambda.Platform:
		if cd := t.Attrs["codedeploy"]; cd != "" {
			app, group, _ := strings.Cut(cd, "/")
			return lambda.NewCodeDeployFromConfig(cfg, lambda.CodeDeployOptions{CodeDeployApplication: app, CodeDeployDeploymentGroup: group}), nil
		}
		return lambda.NewFromConfig(cfg, lambda.Options{History: a.lambdaHistory(defaultHistory())}), nil
	case "ecs":
		return ecs.NewFromConfig(cfg, ecs.Options{}), nil
	case "ec2":
		return ec2.NewFromConfig(cfg, ec2.Options{}), nil
	case "opsworks":
		return opsworks.NewFromConfig(cfg, opsworks.Options{}), nil
	}
	return nil, fmt.Errorf("%w: no driver for platform %q", deploy.ErrUnsupported, t.Platform)
}

// runResume is deployctl resume: every unfinished run in the store is
// finished or rolled back by the driver of its platform.
func runResume(ctx context.Context, a *app, args []string) error {
	if err := parse(a.flags("resume"), args); err != nil {
		return err
	}
	runs, err := a.store.Unfinished(ctx)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		a.print([]deploy.Resumed{}, func(w io.Writer) { fmt.Fprintln(w, "nothing to resume") })
		return nil
	}
	byTarget := map[string][]string{}
	targets := map[string]deploy.Target{}
	for _, run := range runs {
		j, err := a.store.Journal(ctx, run)
		if err != nil || len(j) == 0 {
			continue
		}
		key := j[0].Target.Platform + "|" + j[0].Target.Attrs["codedeploy"]
		byTarget[key] = append(byTarget[key], run)
		targets[key] = j[0].Target
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(byTarget))
	for k := range byTarget {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var all []deploy.Resumed
	var errs []error
	for _, k := range keys {
		drv, err := a.driverFor(cfg, targets[k])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := a.engine(drv, deploy.Options{}).Resume(ctx, deploy.ResumeOptions{Runs: byTarget[k]})
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range res {
			all = append(all, r)
			if r.Err != nil && !(errors.Is(r.Err, deploy.ErrRolledBack) && r.Deployment != nil && r.Deployment.Status == deploy.StatusRolledBack) {
				errs = append(errs, fmt.Errorf("run %s (%s): %w", r.Run, r.Target, r.Err))
			}
		}
	}
	a.print(resumedJSON(all), func(w io.Writer) {
		for _, r := range all {
			status := "(never started)"
			if r.Deployment != nil {
				status = r.Deployment.ID + " " + string(r.Deployment.Status)
			}
			fmt.Fprintf(w, "%s %s: %s, %s\n", r.Run, r.Target, r.Action, status)
		}
	})
	return errors.Join(errs...)
}

type resumedOut struct {
	Run        string             `json:"run"`
	Target     string             `json:"target"`
	Action     string             `json:"action"`
	Deployment *deploy.Deployment `json:"deployment,omitempty"`
	Error      string             `json:"error,omitempty"`
}

func resumedJSON(rs []deploy.Resumed) []resumedOut {
	out := make([]resumedOut, 0, len(rs))
	for _, r := range rs {
		o := resumedOut{Run: r.Run, Target: r.Target.String(), Action: r.Action, Deployment: r.Deployment}
		if r.Err != nil {
			o.Error = r.Err.Error()
		}
		out = append(out, o)
	}
	return out
}

// historyOut is what deployctl history prints with --output json.
type historyOut struct {
	Target  string                `json:"target"`
	History []deploy.HistoryEntry `json:"history"`
	Lock    *deploy.Lease         `json:"lock,omitempty"`
}

// runHistory is deployctl history TARGET: the store's record of the
// target's revisions, newest first, with the known good ones marked.
func runHistory(ctx context.Context, a *app, args []string) error {
	fs := a.flags("history")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: deployctl history PLATFORM:NAME (such as lambda:app:live or ecs:cluster/service)")
	}
	target := fs.Arg(0)
	h, err := a.store.History(ctx, target)
	if err != nil {
		return err
	}
	holder, err := a.store.Holder(ctx, target)
	if err != nil {
		return err
	}
	a.print(historyOut{target, h, holder}, func(w io.Writer) {
		if len(h) == 0 {
			fmt.Fprintln(w, "no history for", target)
		}
		for _, e := range h {
			mark := " "
			if e.Status == deploy.StatusSucceeded {
				mark = "✓" // known good
			}
			at := "" // the revision a target ran before any deployment has no time
			if !e.At.IsZero() {
				at = e.At.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s %-30s %-10s %-40s %s\n", mark, e.Revision, e.Status, e.DeploymentID, at)
		}
		if holder != nil {
			fmt.Fprintln(w, "locked by", holder)
		}
	})
	return nil
}
