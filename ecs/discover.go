package ecs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
)

// CodeDeploy batch limits.
const (
	batchGetApplicationsMax     = 100
	batchGetDeploymentGroupsMax = 100
)

// ambiguousGroupError says that several CodeDeploy deployment
// groups list the service in their ecsServices, so the driver cannot pick
// one. Set DeployOptions.CodeDeployApplication and
// CodeDeployDeploymentGroup to choose. It wraps deploy.ErrInvalidRequest.
type ambiguousGroupError struct {
	// Cluster and Service name the ECS service.
	Cluster, Service string
	// Groups are the matching groups as "application/group", sorted.
	Groups []string
}

// Error lists the matching groups.
func (e *ambiguousGroupError) Error() string {
	return fmt.Sprintf("%d CodeDeploy deployment groups list ECS service %s/%s (%s); set CodeDeployApplication and CodeDeployDeploymentGroup to choose one",
		len(e.Groups), e.Cluster, e.Service, strings.Join(e.Groups, ", "))
}

// Unwrap returns deploy.ErrInvalidRequest.
func (e *ambiguousGroupError) Unwrap() error { return deploy.ErrInvalidRequest }

// cdGroup is the CodeDeploy deployment group of a CODE_DEPLOY-controller
// service, as Prepare resolved it.
type cdGroup struct {
	application, group string
	// info is the group as BatchGetDeploymentGroups describes it, nil when
	// it could not be read (the console's names, nothing matching).
	info *cdtypes.DeploymentGroupInfo
	// notes say how the group was found.
	notes []string
}

func (g *cdGroup) name() string { return g.application + "/" + g.group }

// consoleNames are the names the ECS console gives the CodeDeploy
// application and deployment group of a blue/green service.
func consoleNames(cluster, service string) (application, group string) {
	return "AppECS-" + cluster + "-" + service, "DgpECS-" + cluster + "-" + service
}

// codeDeployGroup resolves, once per plan, the CodeDeploy application and
// deployment group of the plan's service, with read-only calls only:
//
//   - both DeployOptions.CodeDeployApplication and CodeDeployDeploymentGroup
//     set: that group, read with BatchGetDeploymentGroups (an error wrapping
//     deploy.ErrNotFound when it does not exist);
//   - otherwise, as ecspresso does, the group whose ecsServices lists the
//     service, among the groups of CodeDeployApplication when set, else of
//     every application on the ECS compute platform (ListApplications,
//     BatchGetApplications, ListDeploymentGroups, BatchGetDeploymentGroups),
//     and only groups named CodeDeployDeploymentGroup when that is set.
//     Several matches give an *ambiguousGroupError; none gives the
//     console's names, "AppECS-CLUSTER-SERVICE"/"DgpECS-CLUSTER-SERVICE"
//     (or the names set in the options), with a note. Where CodeDeploy
//     answers that these operations do not exist (an emulator), the same
//     fallback applies, with a note saying so.
func (d *Driver) codeDeployGroup(ctx context.Context, pl *plan) (*cdGroup, error) {
	if pl.cdGroup != nil {
		return pl.cdGroup, nil
	}
	g, err := d.resolveCodeDeployGroup(ctx, pl)
	if err != nil {
		return nil, err
	}
	pl.cdGroup = g
	return g, nil
}

func (d *Driver) resolveCodeDeployGroup(ctx context.Context, pl *plan) (*cdGroup, error) {
	g, err := d.resolveGroup(ctx, pl)
	var dne *cdtypes.ApplicationDoesNotExistException
	if pl.opts.CodeDeployApplication != "" && errors.As(err, &dne) && !errors.Is(err, deploy.ErrNotFound) {
		err = fmt.Errorf("%w: CodeDeploy application %s: %w", deploy.ErrNotFound, pl.opts.CodeDeployApplication, err)
	}
	return g, err
}

func (d *Driver) resolveGroup(ctx context.Context, pl *plan) (*cdGroup, error) {
	app, group := pl.opts.CodeDeployApplication, pl.opts.CodeDeployDeploymentGroup
	if app != "" && group != "" {
		g := &cdGroup{application: app, group: group}
		infos, missing, err := d.batchGetGroups(ctx, app, []string{group}, cdProbeOnce)
		switch {
		case isUnavailable(err):
			g.notes = append(g.notes, "CodeDeploy BatchGetDeploymentGroups is unavailable here: deployment group "+g.name()+" was not checked")
			return g, nil
		case err != nil:
			return nil, fmt.Errorf("BatchGetDeploymentGroups %s: %w", g.name(), err)
		case len(infos) == 0:
			why := ""
			if missing != "" {
				why = ": " + missing
			}
			return nil, fmt.Errorf("%w: CodeDeploy deployment group %s does not exist%s", deploy.ErrNotFound, g.name(), why)
		}
		g.info = &infos[0]
		if !listsService(g.info, pl.cluster, pl.service) {
			g.notes = append(g.notes, fmt.Sprintf("deployment group %s lists ECS services %s, not %s/%s",
				g.name(), servicesOf(g.info), pl.cluster, pl.service))
		}
		return g, nil
	}
	matches, err := d.findGroups(ctx, pl.cluster, pl.service, app, group)
	if isUnavailable(err) {
		g := d.consoleGroup(pl)
		g.notes = append(g.notes, "CodeDeploy application discovery is unavailable here; using deployment group "+g.name())
		return g, nil
	}
	if err != nil {
		return nil, err
	}
	switch len(matches) {
	case 0:
		g := d.consoleGroup(pl)
		g.notes = append(g.notes, fmt.Sprintf("no CodeDeploy deployment group lists ECS service %s/%s; using %s", pl.cluster, pl.service, g.name()))
		return g, nil
	case 1:
		m := matches[0]
		g := &cdGroup{application: aws.ToString(m.ApplicationName), group: aws.ToString(m.DeploymentGroupName), info: &m}
		g.notes = append(g.notes, fmt.Sprintf("CodeDeploy deployment group %s lists ECS service %s/%s", g.name(), pl.cluster, pl.service))
		return g, nil
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = aws.ToString(m.ApplicationName) + "/" + aws.ToString(m.DeploymentGroupName)
	}
	slices.Sort(names)
	return nil, &ambiguousGroupError{Cluster: pl.cluster, Service: pl.service, Groups: names}
}

// consoleGroup is the fallback: the options' names, else the console's.
func (d *Driver) consoleGroup(pl *plan) *cdGroup {
	app, group := consoleNames(pl.cluster, pl.service)
	if pl.opts.CodeDeployApplication != "" {
		app = pl.opts.CodeDeployApplication
	}
	if pl.opts.CodeDeployDeploymentGroup != "" {
		group = pl.opts.CodeDeployDeploymentGroup
	}
	return &cdGroup{application: app, group: group}
}

// findGroups returns the deployment groups whose ecsServices list
// cluster/service: those of application app when set, else of every ECS
// application; only groups named group when set.
func (d *Driver) findGroups(ctx context.Context, cluster, service, app, group string) ([]cdtypes.DeploymentGroupInfo, error) {
	apps := []string{app}
	if app == "" {
		var err error
		if apps, err = d.ecsApplications(ctx); err != nil {
			return nil, err
		}
	}
	var out []cdtypes.DeploymentGroupInfo
	for _, a := range apps {
		names := []string{group}
		if group == "" {
			var err error
			if names, err = d.groupNames(ctx, a); err != nil {
				return nil, err
			}
		}
		for len(names) > 0 {
			n := min(batchGetDeploymentGroupsMax, len(names))
			infos, _, err := d.batchGetGroups(ctx, a, names[:n])
			if err != nil {
				return nil, fmt.Errorf("BatchGetDeploymentGroups %s: %w", a, err)
			}
			for _, g := range infos {
				if g.ComputePlatform == cdtypes.ComputePlatformEcs && listsService(&g, cluster, service) {
					out = append(out, g)
				}
			}
			names = names[n:]
		}
	}
	return out, nil
}

// ecsApplications lists the CodeDeploy applications on the ECS compute
// platform.
func (d *Driver) ecsApplications(ctx context.Context) ([]string, error) {
	var all []string
	var token *string
	for {
		var optFns []func(*codedeploy.Options)
		if token == nil {
			optFns = append(optFns, cdProbeOnce)
		}
		out, err := d.cd.ListApplications(ctx, &codedeploy.ListApplicationsInput{NextToken: token}, optFns...)
		if err != nil {
			return nil, fmt.Errorf("ListApplications: %w", err)
		}
		all = append(all, out.Applications...)
		if token = out.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	var ecsApps []string
	for len(all) > 0 {
		n := min(batchGetApplicationsMax, len(all))
		out, err := d.cd.BatchGetApplications(ctx, &codedeploy.BatchGetApplicationsInput{ApplicationNames: all[:n]})
		if err != nil {
			return nil, fmt.Errorf("BatchGetApplications: %w", err)
		}
		for _, a := range out.ApplicationsInfo {
			if a.ComputePlatform == cdtypes.ComputePlatformEcs {
				ecsApps = append(ecsApps, aws.ToString(a.ApplicationName))
			}
		}
		all = all[n:]
	}
	slices.Sort(ecsApps)
	return ecsApps, nil
}

// groupNames lists an application's deployment groups.
func (d *Driver) groupNames(ctx context.Context, app string) ([]string, error) {
	var names []string
	var token *string
	for {
		out, err := d.cd.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String(app), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("ListDeploymentGroups %s: %w", app, err)
		}
		names = append(names, out.DeploymentGroups...)
		if token = out.NextToken; aws.ToString(token) == "" {
			return names, nil
		}
	}
}

// batchGetGroups describes groups of app; missing is CodeDeploy's message
// about names it does not know.
func (d *Driver) batchGetGroups(ctx context.Context, app string, names []string, optFns ...func(*codedeploy.Options)) ([]cdtypes.DeploymentGroupInfo, string, error) {
	out, err := d.cd.BatchGetDeploymentGroups(ctx, &codedeploy.BatchGetDeploymentGroupsInput{
		ApplicationName: aws.String(app), DeploymentGroupNames: names}, optFns...)
	if err != nil {
		return nil, "", err
	}
	return out.DeploymentGroupsInfo, aws.ToString(out.ErrorMessage), nil
}

// cdProbeOnce makes a call that may hit a missing operation try only once.
func cdProbeOnce(o *codedeploy.Options) { o.RetryMaxAttempts = 1 }

// listsService reports whether the group's ecsServices name cluster/service.
// Names and ARNs compare by their last path element.
func listsService(g *cdtypes.DeploymentGroupInfo, cluster, service string) bool {
	for _, s := range g.EcsServices {
		if lastElem(aws.ToString(s.ClusterName)) == lastElem(cluster) && lastElem(aws.ToString(s.ServiceName)) == lastElem(service) {
			return true
		}
	}
	return false
}

func lastElem(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func servicesOf(g *cdtypes.DeploymentGroupInfo) string {
	if len(g.EcsServices) == 0 {
		return "(none)"
	}
	parts := make([]string, len(g.EcsServices))
	for i, s := range g.EcsServices {
		parts[i] = aws.ToString(s.ClusterName) + "/" + aws.ToString(s.ServiceName)
	}
	return strings.Join(parts, ", ")
}

// groupNotes describe what the deployment group itself will do during the
// deployment: its alarms, its automatic rollback (which the deployment's own
// rollback configuration replaces), its default deployment configuration.
func groupNotes(g *cdGroup, config string, events []cdtypes.AutoRollbackEvent, req deploy.Request) []string {
	if g.info == nil {
		return nil
	}
	var notes []string
	name := g.name()
	alarmsOn := false
	if a := g.info.AlarmConfiguration; a != nil && len(a.Alarms) > 0 {
		names := make([]string, len(a.Alarms))
		for i, x := range a.Alarms {
			names[i] = aws.ToString(x.Name)
		}
		if a.Enabled {
			alarmsOn = true
			n := "deployment group " + name + " stops deployments on CloudWatch alarms " + strings.Join(names, ", ")
			if a.IgnorePollAlarmFailure {
				n += " (alarm poll failures ignored)"
			}
			notes = append(notes, n)
		} else {
			notes = append(notes, "deployment group "+name+" has CloudWatch alarms "+strings.Join(names, ", ")+" configured but disabled")
		}
	}
	if req.RollbackOn.Has(deploy.OnAlarm) && !alarmsOn {
		notes = append(notes, "rollback on alarm is asked, but deployment group "+name+" watches no CloudWatch alarms")
	}
	ours := eventNames(events)
	if ours == "" {
		ours = "no automatic rollback"
	}
	if r := g.info.AutoRollbackConfiguration; r != nil && r.Enabled && len(r.Events) > 0 {
		theirs := eventNames(r.Events)
		if theirs == eventNames(events) {
			notes = append(notes, "deployment group "+name+" rolls back automatically on "+theirs+", as this deployment asks")
		} else {
			notes = append(notes, "deployment group "+name+" rolls back automatically on "+theirs+"; this deployment overrides that with "+ours)
		}
	}
	if c := aws.ToString(g.info.DeploymentConfigName); c != "" && c != config {
		notes = append(notes, "deployment group "+name+"'s own deployment configuration is "+c+"; this deployment uses "+config)
	}
	return notes
}

// eventNames renders rollback events sorted, comma-separated.
func eventNames(events []cdtypes.AutoRollbackEvent) string {
	s := make([]string, len(events))
	for i, e := range events {
		s[i] = string(e)
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}
