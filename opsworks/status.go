package opsworks

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/aws-sdk-go-v2/service/opsworks/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// marker is what the driver writes at the end of a deployment's comment,
// so that any process reading the stack's deployments learns which app
// revision each one deployed (OpsWorks keeps no revision per deployment):
// "[switchyard to=REV from=REV rollback-of=ID]".
type marker struct{ To, From, RollbackOf string }

const markerPrefix = "[switchyard"

func (m marker) String() string {
	if m.To == "" && m.RollbackOf == "" {
		return ""
	}
	s := markerPrefix
	if m.To != "" {
		s += " to=" + m.To
	}
	if m.From != "" {
		s += " from=" + m.From
	}
	if m.RollbackOf != "" {
		s += " rollback-of=" + m.RollbackOf
	}
	return s + "]"
}

// comment is the user's comment followed by the marker.
func (m marker) comment(user string) string {
	return strings.TrimSpace(strings.TrimSpace(user) + " " + m.String())
}

// parseMarker reads the marker at the end of a comment.
func parseMarker(comment string) (marker, bool) {
	i := strings.LastIndex(comment, markerPrefix)
	if i < 0 || !strings.HasSuffix(comment, "]") {
		return marker{}, false
	}
	var m marker
	for _, f := range strings.Fields(strings.TrimSuffix(comment[i+len(markerPrefix):], "]")) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "to":
			m.To = v
		case "from":
			m.From = v
		case "rollback-of":
			m.RollbackOf = v
		}
	}
	return m, true
}

// urlSources are the source types whose version is their URL.
func urlSource(t types.SourceType) bool {
	return t == types.SourceTypeS3 || t == types.SourceTypeArchive
}

// sourceRevision is the version an app source names: its Revision, or its
// URL for S3 and archive sources.
func sourceRevision(s *types.Source) string {
	if s == nil {
		return ""
	}
	if urlSource(s.Type) || aws.ToString(s.Revision) == "" {
		return aws.ToString(s.Url)
	}
	return aws.ToString(s.Revision)
}

func sourceField(s *types.Source) string {
	if s != nil && (urlSource(s.Type) || aws.ToString(s.Revision) == "" && aws.ToString(s.Url) != "" && s.Type == "") {
		return "url"
	}
	return "revision"
}

// withRevision returns a copy of s naming rev. Credentials are sent back
// as DescribeApps returned them (OpsWorks filters them in answers).
func withRevision(s *types.Source, rev string) *types.Source {
	n := types.Source{}
	if s != nil {
		n = *s
	}
	if sourceField(s) == "url" {
		n.Url = aws.String(rev)
	} else {
		n.Revision = aws.String(rev)
	}
	return &n
}

func revisionOf(app, rev string, s *types.Source) deploy.Revision {
	// A revision with credentials is refused as a deployment's (Prepare),
	// so one seen here is an app source set elsewhere: shown safe.
	r := deploy.Revision{ID: safeURL(rev), Label: safeURL(rev), Attrs: map[string]string{"app": app}}
	if s != nil {
		if s.Type != "" {
			r.Attrs["sourceType"] = string(s.Type)
		}
		if u := aws.ToString(s.Url); u != "" && u != rev {
			r.Source = safeURL(u)
		}
	}
	return r
}

// parseTime reads OpsWorks's date strings ("2016-01-02T03:04:05+00:00").
func parseTime(s *string) time.Time {
	v := aws.ToString(s)
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-07:00", "2006-01-02 15:04:05 -0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func statusOf(s string) deploy.Status {
	switch s {
	case "successful":
		return deploy.StatusSucceeded
	case "failed":
		return deploy.StatusFailed
	}
	return deploy.StatusInProgress
}

func commandName(dep types.Deployment) string {
	if dep.Command == nil {
		return ""
	}
	return string(dep.Command.Name)
}

// rolledBack returns, for each deployment a later successful one reversed
// (its marker's rollback-of), the ID of that later one.
func rolledBack(deps []types.Deployment) map[string]string {
	out := map[string]string{}
	for _, dep := range deps {
		if aws.ToString(dep.Status) != "successful" {
			continue
		}
		if m, ok := parseMarker(aws.ToString(dep.Comment)); ok && m.RollbackOf != "" {
			out[m.RollbackOf] = aws.ToString(dep.DeploymentId)
		}
	}
	return out
}

// history builds an app's history from its stack's deployments: one entry
// per deploy or rollback the driver marked, newest first, then the
// revision the app ran before the oldest of them.
func history(a *types.App, deps []types.Deployment) []deploy.HistoryEntry {
	app := aws.ToString(a.AppId)
	type marked struct {
		dep types.Deployment
		m   marker
		at  time.Time
	}
	var ms []marked
	for _, dep := range deps {
		if aws.ToString(dep.AppId) != app {
			continue
		}
		if n := commandName(dep); n != CommandDeploy && n != CommandRollback {
			continue
		}
		m, ok := parseMarker(aws.ToString(dep.Comment))
		if !ok || m.To == "" {
			continue
		}
		ms = append(ms, marked{dep, m, parseTime(dep.CreatedAt)})
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].at.After(ms[j].at) })
	rb := rolledBack(deps)
	out := make([]deploy.HistoryEntry, 0, len(ms)+1)
	for _, x := range ms {
		st := statusOf(aws.ToString(x.dep.Status))
		id := aws.ToString(x.dep.DeploymentId)
		if st == deploy.StatusSucceeded && rb[id] != "" {
			st = deploy.StatusRolledBack
		}
		at := parseTime(x.dep.CompletedAt)
		if at.IsZero() || !st.Terminal() {
			at = x.at
		}
		out = append(out, deploy.HistoryEntry{Revision: revisionOf(app, x.m.To, a.AppSource), DeploymentID: id, Status: st, At: at})
	}
	initial := sourceRevision(a.AppSource)
	if len(ms) > 0 {
		initial = ms[len(ms)-1].m.From
	}
	if initial != "" {
		e := deploy.HistoryEntry{Revision: revisionOf(app, initial, a.AppSource), Status: deploy.StatusSucceeded}
		if len(ms) > 0 {
			e.At = ms[len(ms)-1].at.Add(-time.Second)
		} else if t := parseTime(a.CreatedAt); !t.IsZero() {
			e.At = t
		}
		out = append(out, e)
	}
	for i := range out {
		if out[i].Status == deploy.StatusSucceeded {
			out[i].Current = true
			break
		}
	}
	return out
}

func current(h []deploy.HistoryEntry) (deploy.HistoryEntry, bool) {
	for _, e := range h {
		if e.Current {
			return e, true
		}
	}
	return deploy.HistoryEntry{}, false
}

// earlier lists the revisions before the current one that deployed
// successfully, newest first, each once in a row: where the rollback
// command, one version at a time, would take the app.
func earlier(h []deploy.HistoryEntry) []string {
	var out []string
	last := ""
	seen := false
	for _, e := range h {
		if e.Current {
			seen, last = true, e.Revision.ID
			continue
		}
		if !seen || e.Status != deploy.StatusSucceeded || e.Revision.ID == last {
			continue
		}
		out = append(out, e.Revision.ID)
		last = e.Revision.ID
	}
	return out
}

// History returns the app's revisions, newest first: one entry per deploy
// or rollback the driver started (it marks them in their comments, since
// OpsWorks records no revision per deployment), then the revision the app
// ran before the oldest of them. Deployments made without the driver are
// left out. A deployment a later one reversed is listed RolledBack. The
// Current entry is the newest that succeeded. A stack target is refused
// (deploy.ErrInvalidRequest: stack commands deploy no revision); a missing
// app wraps deploy.ErrNotFound. It calls DescribeApps and
// DescribeDeployments.
func (d *Driver) History(ctx context.Context, t deploy.Target) ([]deploy.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("history", t, "", err)
	}
	stack, app, err := ParseTarget(t)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	if app == "" {
		return nil, wrap("history", t, "", deploy.Invalid("appId", "", "revision history is an app's: name the app"))
	}
	a, err := describeApp(ctx, d.client, stack, app)
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	deps, err := describeDeployments(ctx, d.client, &awsopsworks.DescribeDeploymentsInput{AppId: aws.String(app)})
	if err != nil {
		return nil, wrap("history", t, "", err)
	}
	return history(a, deps), nil
}

// Status reads deployment d with DescribeDeployments and its instances'
// commands with DescribeCommands. It reports each instance's command
// (Instances, and a Message per command status: the engine turns each into
// an event), Percent the share of the deployment's instances whose command
// succeeded, and, when the deployment failed, the failing instances with
// their log URLs (Reason, and FailedInstances). A deploy that a later
// deployment of the driver reversed is StatusRolledBack at 0 percent. It
// changes nothing and leaves *d alone. An unknown deployment wraps
// deploy.ErrNotFound.
func (d *Driver) Status(ctx context.Context, dep *deploy.Deployment) (*deploy.Deployment, error) {
	if dep == nil {
		return nil, wrap("status", deploy.Target{}, "", deploy.Invalid("deployment", "", "required"))
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("status", dep.Target, dep.ID, err)
	}
	nd, err := d.status(ctx, dep)
	if err != nil {
		return nil, wrap("status", dep.Target, dep.ID, err)
	}
	return nd, nil
}

func (d *Driver) status(ctx context.Context, in *deploy.Deployment) (*deploy.Deployment, error) {
	if in.ID == "" {
		return nil, deploy.Invalid("deployment.id", "", "required")
	}
	t := in.Target.String()
	out, err := d.client.DescribeDeployments(ctx, &awsopsworks.DescribeDeploymentsInput{DeploymentIds: []string{in.ID}})
	if err != nil {
		return nil, platform.WrapDeployment(Platform, "DescribeDeployments", t, in.ID, err)
	}
	var dep *types.Deployment
	for i := range out.Deployments {
		if aws.ToString(out.Deployments[i].DeploymentId) == in.ID {
			dep = &out.Deployments[i]
		}
	}
	if dep == nil {
		return nil, fmt.Errorf("%w: deployment %s", deploy.ErrNotFound, in.ID)
	}
	return d.describe(ctx, in, dep, map[string][]types.Deployment{})
}

// describe completes the status of in from its OpsWorks deployment dep:
// DescribeCommands, and for an ended deploy or rollback the app's
// deployments (read once per app into appDeps), to learn whether a later
// one reversed it.
func (d *Driver) describe(ctx context.Context, in *deploy.Deployment, dep *types.Deployment, appDeps map[string][]types.Deployment) (*deploy.Deployment, error) {
	t := in.Target.String()
	cout, err := d.client.DescribeCommands(ctx, &awsopsworks.DescribeCommandsInput{DeploymentId: aws.String(in.ID)})
	if err != nil {
		return nil, platform.WrapDeployment(Platform, "DescribeCommands", t, in.ID, err)
	}
	cmds := append([]types.Command(nil), cout.Commands...)
	sort.SliceStable(cmds, func(i, j int) bool { return aws.ToString(cmds[i].InstanceId) < aws.ToString(cmds[j].InstanceId) })

	nd := &deploy.Deployment{ID: in.ID, Target: in.Target, To: in.To, RollbackOf: in.RollbackOf,
		CreatedAt: parseTime(dep.CreatedAt), EndedAt: parseTime(dep.CompletedAt)}
	if in.From != nil {
		f := *in.From
		nd.From = &f
	}
	m, marked := parseMarker(aws.ToString(dep.Comment))
	if nd.To.ID == "" {
		// Status of a deployment this process did not start.
		switch {
		case marked && m.To != "":
			nd.To = deploy.Revision{ID: m.To, Label: m.To}
		default:
			nd.To = deploy.Revision{ID: commandName(*dep), Label: commandName(*dep), Source: "command"}
		}
	}
	if nd.From == nil && marked && m.From != "" {
		nd.From = &deploy.Revision{ID: m.From, Label: m.From}
	}
	if nd.RollbackOf == "" && marked {
		nd.RollbackOf = m.RollbackOf
	}
	det := &Detail{StackID: aws.ToString(dep.StackId), AppID: aws.ToString(dep.AppId), Command: commandName(*dep),
		InstanceIDs: append([]string(nil), dep.InstanceIds...)}
	if dep.Command != nil {
		det.Args = cloneArgs(dep.Command.Args)
	}
	ok := 0
	var last time.Time
	for _, c := range cmds {
		inst := aws.ToString(c.InstanceId)
		st := aws.ToString(c.Status)
		created, done := parseTime(c.CreatedAt), parseTime(c.CompletedAt)
		ev := deploy.LifecycleEvent{Name: aws.ToString(c.Type), Status: st, Start: created, End: done}
		is := deploy.StatusInProgress
		text := fmt.Sprintf("instance %s: %s %s", inst, aws.ToString(c.Type), st)
		switch st {
		case "successful":
			is = deploy.StatusSucceeded
			ok++
		case "failed":
			is = deploy.StatusFailed
			f := InstanceFailure{InstanceID: inst, CommandID: aws.ToString(c.CommandId), ExitCode: int(aws.ToInt32(c.ExitCode)), LogURL: aws.ToString(c.LogUrl)}
			det.Failed = append(det.Failed, f)
			ev.Message = f.String()
			text = "instance " + f.String() + ": " + aws.ToString(c.Type) + " failed"
		case "skipped":
			is = deploy.StatusStopped
		}
		if c.ExitCode != nil && st != "failed" && st != "pending" {
			text += fmt.Sprintf(" (exit %d)", aws.ToInt32(c.ExitCode))
		}
		at := created
		if !done.IsZero() {
			at = done
		}
		if at.After(last) {
			last = at
		}
		nd.Instances = append(nd.Instances, deploy.Instance{ID: inst, Status: is, Lifecycle: []deploy.LifecycleEvent{ev}})
		nd.Messages = append(nd.Messages, deploy.Message{ID: aws.ToString(c.CommandId) + "/" + st, At: at, Text: text})
		if len(det.InstanceIDs) == 0 || !contains(det.InstanceIDs, inst) {
			det.InstanceIDs = append(det.InstanceIDs, inst)
		}
	}
	if len(cmds) > 0 {
		nd.Percent = float64(ok) * 100 / float64(len(cmds))
	}
	nd.Status = statusOf(aws.ToString(dep.Status))
	nd.UpdatedAt = last
	if nd.UpdatedAt.IsZero() {
		nd.UpdatedAt = nd.CreatedAt
	}
	if nd.Status == deploy.StatusSucceeded && ok == len(cmds) {
		// Every command succeeded (or there were none). With skipped
		// instances OpsWorks still calls it successful, and Percent says
		// how many ran it.
		nd.Percent = 100
	}
	if nd.Status == deploy.StatusFailed {
		parts := make([]string, len(det.Failed))
		for i, f := range det.Failed {
			parts[i] = f.String()
		}
		if len(parts) > 0 {
			nd.Reason = fmt.Sprintf("%s failed on %d of %d instances: %s", det.Command, len(parts), len(cmds), strings.Join(parts, "; "))
		} else {
			nd.Reason = det.Command + " failed"
		}
	}
	if nd.Status.Terminal() && det.AppID != "" && (det.Command == CommandDeploy || det.Command == CommandRollback) {
		deps, ok := appDeps[det.AppID]
		if !ok {
			var err error
			if deps, err = describeDeployments(ctx, d.client, &awsopsworks.DescribeDeploymentsInput{AppId: aws.String(det.AppID)}); err != nil {
				return nil, err
			}
			appDeps[det.AppID] = deps
		}
		if by := rolledBack(deps)[in.ID]; by != "" {
			nd.Status, nd.Percent, nd.RolledBackBy = deploy.StatusRolledBack, 0, by
			nd.Reason = strings.TrimSpace(nd.Reason + " (rolled back by " + by + ")")
		}
	}
	nd.Detail = det
	return nd, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// StatusMany reports each of ds as Status would, in one DescribeDeployments
// call for all of them, then DescribeCommands for each and one
// DescribeDeployments per app whose ended deploys may have been reversed.
// When OpsWorks refuses the batch (an unknown ID makes it answer
// ResourceNotFoundException for all), each is asked alone. An entry is nil
// where its deployment could not be reported; err then holds a
// *deploy.Error naming each such deployment.
func (d *Driver) StatusMany(ctx context.Context, ds []*deploy.Deployment) ([]*deploy.Deployment, error) {
	out := make([]*deploy.Deployment, len(ds))
	var errs []error
	fail := func(i int, err error) {
		var t deploy.Target
		id := ""
		if ds[i] != nil {
			t, id = ds[i].Target, ds[i].ID
		}
		errs = append(errs, &deploy.Error{Platform: Platform, Op: "status", Target: withPlatform(t).String(), DeploymentID: id, Err: err})
	}
	if err := ctx.Err(); err != nil {
		for i := range ds {
			fail(i, err)
		}
		return out, errors.Join(errs...)
	}
	var ids []string
	seen := map[string]bool{}
	for _, x := range ds {
		if x != nil && x.ID != "" && !seen[x.ID] {
			seen[x.ID] = true
			ids = append(ids, x.ID)
		}
	}
	byID := map[string]*types.Deployment{}
	batchErr := error(nil)
	if len(ids) > 0 {
		res, err := d.client.DescribeDeployments(ctx, &awsopsworks.DescribeDeploymentsInput{DeploymentIds: ids})
		if err != nil {
			batchErr = err
		} else {
			for i := range res.Deployments {
				byID[aws.ToString(res.Deployments[i].DeploymentId)] = &res.Deployments[i]
			}
		}
	}
	appDeps := map[string][]types.Deployment{}
	for i, x := range ds {
		if x == nil || x.ID == "" {
			fail(i, deploy.Invalid("deployment.id", "", "required"))
			continue
		}
		var nd *deploy.Deployment
		var err error
		if dep := byID[x.ID]; dep != nil {
			nd, err = d.describe(ctx, x, dep, appDeps)
		} else if batchErr != nil {
			nd, err = d.status(ctx, x)
		} else {
			err = fmt.Errorf("%w: deployment %s", deploy.ErrNotFound, x.ID)
		}
		if err != nil {
			fail(i, err)
			continue
		}
		out[i] = nd
	}
	return out, errors.Join(errs...)
}

func withPlatform(t deploy.Target) deploy.Target {
	if t.Platform == "" {
		t.Platform = Platform
	}
	return t
}

// safeURL hides the user information of a URL (https://user:secret@host/...)
// and the values of its query parameters that hold credentials (a
// presigned URL's X-Amz-Signature and X-Amz-Security-Token, a ?token=), so
// a repository's credentials never reach plans, events or errors.
func safeURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	auth := s[i+3:]
	end := len(auth)
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		end = j
	}
	if at := strings.LastIndex(auth[:end], "@"); at >= 0 {
		s = s[:i+3] + "***@" + auth[at+1:]
	}
	if q := strings.IndexAny(s, "?#"); q >= 0 {
		s = s[:q] + queryParam.ReplaceAllStringFunc(s[q:], func(p string) string {
			if name, _, _ := strings.Cut(p[1:], "="); credentialParam(name) {
				return p[:1] + name + "=***"
			}
			return p
		})
	}
	return s
}

// queryParam is one parameter of a URL's query or fragment, with the
// character before it.
var queryParam = regexp.MustCompile(`[?&#;][^&#;]*`)

// credentialParam reports whether a URL's query parameter holds a
// credential: its name looks secret (deploy.SensitivePath: a token, a
// credential, an access key) or it is a signature.
func credentialParam(name string) bool {
	return deploy.SensitivePath(name) || strings.Contains(strings.ToLower(name), "signature")
}

// hasCredentials reports whether s is a URL with user information or a
// query parameter that holds a credential.
func hasCredentials(s string) bool {
	return safeURL(s) != s
}
