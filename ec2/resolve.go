package ec2

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// Group is what the driver read of a deployment group.
type Group struct {
	// Application and Name identify the group.
	Application, Name string
	// BlueGreen is true for a BLUE_GREEN deployment style;
	// TrafficControl for WITH_TRAFFIC_CONTROL.
	BlueGreen, TrafficControl bool
	// WaitForContinue: a blue/green deployment waits in Ready for Continue
	// before rerouting traffic (STOP_DEPLOYMENT action on timeout).
	WaitForContinue bool
	// TerminateOriginal: the original instances are terminated after a
	// blue/green deployment (KeepAlive otherwise).
	TerminateOriginal bool
	// DeploymentConfig is the group's default configuration.
	DeploymentConfig string
	// EC2TagSets, OnPremisesTagSets and AutoScalingGroups select the
	// group's instances (a single list of filters is one set).
	EC2TagSets, OnPremisesTagSets [][]TagFilter
	AutoScalingGroups             []string
	// Alarms are the group's alarm names when its alarm configuration is
	// enabled; RollbackOn its automatic rollback events when enabled.
	Alarms     []string
	RollbackOn deploy.RollbackOn
	// LastSucceeded is the group's last successful deployment, if any.
	LastSucceeded string
	// Instances are the instances the group targets now, sorted, and
	// WindowsInstances those of them that run Windows; DescribeGroup fills
	// them. Unresolved says what could not be counted (no EC2 or Auto
	// Scaling client).
	Instances, WindowsInstances, Unresolved []string
	// Info is the GetDeploymentGroup record.
	Info *cdtypes.DeploymentGroupInfo
}

// DescribeGroup reads the target's deployment group (GetDeploymentGroup)
// and resolves the instances it targets, as a plan does. It only reads. A
// missing group wraps deploy.ErrNotFound.
func (d *Driver) DescribeGroup(ctx context.Context, t deploy.Target) (*Group, error) {
	if t.Platform == "" {
		t.Platform = Platform
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("describe", t, "", err)
	}
	app, grp, err := ParseTarget(t)
	if err != nil {
		return nil, wrap("describe", t, "", err)
	}
	g, err := d.readGroup(ctx, app, grp)
	if err != nil {
		return nil, wrap("describe", t, "", err)
	}
	fl, err := d.resolve(ctx, g)
	if err != nil {
		return nil, wrap("describe", t, "", err)
	}
	g.Instances, g.WindowsInstances, g.Unresolved = fl.ids, fl.windows, fl.unresolved
	return g, nil
}

// readGroup reads application/group. A missing one wraps deploy.ErrNotFound.
func (d *Driver) readGroup(ctx context.Context, app, grp string) (*Group, error) {
	target := app + "/" + grp
	out, err := d.cd.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{
		ApplicationName: aws.String(app), DeploymentGroupName: aws.String(grp)})
	if err != nil {
		return nil, platform.Wrap(Platform, "GetDeploymentGroup", target, err)
	}
	if out.DeploymentGroupInfo == nil {
		return nil, &deploy.Error{Platform: Platform, Op: "GetDeploymentGroup", Target: target,
			Err: fmt.Errorf("%w: deployment group %s of application %s does not exist", deploy.ErrNotFound, grp, app)}
	}
	return groupFromInfo(app, out.DeploymentGroupInfo), nil
}

func groupFromInfo(app string, info *cdtypes.DeploymentGroupInfo) *Group {
	g := &Group{Application: app, Name: aws.ToString(info.DeploymentGroupName), Info: info,
		DeploymentConfig: aws.ToString(info.DeploymentConfigName)}
	if s := info.DeploymentStyle; s != nil {
		g.BlueGreen = s.DeploymentType == cdtypes.DeploymentTypeBlueGreen
		g.TrafficControl = s.DeploymentOption == cdtypes.DeploymentOptionWithTrafficControl
	}
	if bg := info.BlueGreenDeploymentConfiguration; bg != nil {
		if r := bg.DeploymentReadyOption; r != nil && r.ActionOnTimeout == cdtypes.DeploymentReadyActionStopDeployment {
			g.WaitForContinue = true
		}
		if t := bg.TerminateBlueInstancesOnDeploymentSuccess; t != nil {
			g.TerminateOriginal = t.Action == cdtypes.InstanceActionTerminate
		}
	}
	conv := func(fs []cdtypes.EC2TagFilter) []TagFilter {
		var out []TagFilter
		for _, f := range fs {
			out = append(out, TagFilter{Key: aws.ToString(f.Key), Value: aws.ToString(f.Value), Type: TagFilterType(f.Type)})
		}
		return out
	}
	convOn := func(fs []cdtypes.TagFilter) []TagFilter {
		var out []TagFilter
		for _, f := range fs {
			out = append(out, TagFilter{Key: aws.ToString(f.Key), Value: aws.ToString(f.Value), Type: TagFilterType(f.Type)})
		}
		return out
	}
	if len(info.Ec2TagFilters) > 0 {
		g.EC2TagSets = append(g.EC2TagSets, conv(info.Ec2TagFilters))
	}
	if s := info.Ec2TagSet; s != nil {
		for _, set := range s.Ec2TagSetList {
			g.EC2TagSets = append(g.EC2TagSets, conv(set))
		}
	}
	if len(info.OnPremisesInstanceTagFilters) > 0 {
		g.OnPremisesTagSets = append(g.OnPremisesTagSets, convOn(info.OnPremisesInstanceTagFilters))
	}
	if s := info.OnPremisesTagSet; s != nil {
		for _, set := range s.OnPremisesTagSetList {
			g.OnPremisesTagSets = append(g.OnPremisesTagSets, convOn(set))
		}
	}
	for _, a := range info.AutoScalingGroups {
		g.AutoScalingGroups = append(g.AutoScalingGroups, aws.ToString(a.Name))
	}
	if a := info.AlarmConfiguration; a != nil && a.Enabled {
		for _, x := range a.Alarms {
			g.Alarms = append(g.Alarms, aws.ToString(x.Name))
		}
	}
	if r := info.AutoRollbackConfiguration; r != nil && r.Enabled {
		for _, e := range r.Events {
			on, _ := deploy.ParseRollbackOn(string(e))
			g.RollbackOn |= on
		}
	}
	if l := info.LastSuccessfulDeployment; l != nil {
		g.LastSucceeded = aws.ToString(l.DeploymentId)
	}
	return g
}

// fleet is the instances a group targets.
type fleet struct {
	// ids are the instance IDs (EC2) and names (on-premises), sorted.
	ids []string
	// windows lists the EC2 instances that run Windows.
	windows []string
	// unresolved says what could not be counted (no EC2 client, ...).
	unresolved []string
}

// resolve finds the instances g targets: EC2 instances in state running
// that match every EC2 tag set (any filter of a set), on-premises
// instances that match every on-premises tag set, and the InService
// instances of its Auto Scaling groups. It only reads.
func (d *Driver) resolve(ctx context.Context, g *Group) (*fleet, error) {
	f := &fleet{}
	ids := map[string]bool{}
	if len(g.EC2TagSets) > 0 || len(g.AutoScalingGroups) > 0 {
		if d.opts.EC2 == nil && len(g.EC2TagSets) > 0 {
			f.unresolved = append(f.unresolved, "EC2 tag filters (no EC2 client)")
		}
	}
	if len(g.EC2TagSets) > 0 && d.opts.EC2 != nil {
		var acc map[string]bool
		for _, set := range g.EC2TagSets {
			match := map[string]bool{}
			for _, tf := range set {
				got, win, err := d.describe(ctx, g, ec2Filter(tf))
				if err != nil {
					return nil, err
				}
				for _, id := range got {
					match[id] = true
				}
				for _, id := range win {
					if !contains(f.windows, id) {
						f.windows = append(f.windows, id)
					}
				}
			}
			acc = intersect(acc, match)
		}
		for id := range acc {
			ids[id] = true
		}
	}
	if len(g.AutoScalingGroups) > 0 {
		if d.opts.AutoScaling == nil {
			f.unresolved = append(f.unresolved, "Auto Scaling groups (no Auto Scaling client)")
		} else {
			out, err := d.opts.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
				AutoScalingGroupNames: g.AutoScalingGroups})
			if err != nil {
				return nil, platform.Wrap(Platform, "DescribeAutoScalingGroups", g.Application+"/"+g.Name, err)
			}
			found := map[string]bool{}
			for _, asg := range out.AutoScalingGroups {
				found[aws.ToString(asg.AutoScalingGroupName)] = true
				for _, in := range asg.Instances {
					if in.LifecycleState == astypes.LifecycleStateInService {
						ids[aws.ToString(in.InstanceId)] = true
					}
				}
			}
			for _, n := range g.AutoScalingGroups {
				if !found[n] {
					return nil, &deploy.Error{Platform: Platform, Op: "DescribeAutoScalingGroups", Target: g.Application + "/" + g.Name,
						Err: fmt.Errorf("%w: Auto Scaling group %s of the deployment group does not exist", deploy.ErrNotFound, n)}
				}
			}
		}
	}
	if len(g.OnPremisesTagSets) > 0 {
		var acc map[string]bool
		for _, set := range g.OnPremisesTagSets {
			match := map[string]bool{}
			for _, tf := range set {
				names, err := d.onPremises(ctx, g, tf)
				if err != nil {
					return nil, err
				}
				for _, n := range names {
					match[n] = true
				}
			}
			acc = intersect(acc, match)
		}
		for id := range acc {
			ids[id] = true
		}
	}
	for id := range ids {
		f.ids = append(f.ids, id)
	}
	sort.Strings(f.ids)
	var win []string
	for _, id := range f.windows {
		if ids[id] {
			win = append(win, id)
		}
	}
	sort.Strings(win)
	f.windows = win
	return f, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// intersect returns acc ∩ m, or m when acc is nil (the first set).
func intersect(acc, m map[string]bool) map[string]bool {
	if acc == nil {
		return m
	}
	out := map[string]bool{}
	for id := range acc {
		if m[id] {
			out[id] = true
		}
	}
	return out
}

func ec2Filter(tf TagFilter) ec2types.Filter {
	switch tf.kind() {
	case KeyOnly:
		return ec2types.Filter{Name: aws.String("tag-key"), Values: []string{tf.Key}}
	case ValueOnly:
		return ec2types.Filter{Name: aws.String("tag-value"), Values: []string{tf.Value}}
	}
	return ec2types.Filter{Name: aws.String("tag:" + tf.Key), Values: []string{tf.Value}}
}

// describe lists the running instances matching one filter, following
// NextToken, and which of them run Windows.
func (d *Driver) describe(ctx context.Context, g *Group, f ec2types.Filter) (ids, windows []string, err error) {
	in := &awsec2.DescribeInstancesInput{Filters: []ec2types.Filter{f,
		{Name: aws.String("instance-state-name"), Values: []string{string(ec2types.InstanceStateNameRunning)}}}}
	seen := map[string]bool{}
	for {
		out, err := d.opts.EC2.DescribeInstances(ctx, in)
		if err != nil {
			return nil, nil, platform.Wrap(Platform, "DescribeInstances", g.Application+"/"+g.Name, err)
		}
		for _, r := range out.Reservations {
			for _, inst := range r.Instances {
				id := aws.ToString(inst.InstanceId)
				ids = append(ids, id)
				if inst.Platform == ec2types.PlatformValuesWindows ||
					strings.HasPrefix(strings.ToLower(aws.ToString(inst.PlatformDetails)), "windows") {
					windows = append(windows, id)
				}
			}
		}
		next := aws.ToString(out.NextToken)
		if next == "" || seen[next] {
			return ids, windows, nil
		}
		seen[next] = true
		in.NextToken = aws.String(next)
	}
}

// onPremises lists the registered on-premises instances matching one filter.
func (d *Driver) onPremises(ctx context.Context, g *Group, tf TagFilter) ([]string, error) {
	in := &codedeploy.ListOnPremisesInstancesInput{RegistrationStatus: cdtypes.RegistrationStatusRegistered,
		TagFilters: []cdtypes.TagFilter{{Key: nilIfEmpty(tf.Key), Value: nilIfEmpty(tf.Value), Type: cdtypes.TagFilterType(tf.kind())}}}
	var names []string
	seen := map[string]bool{}
	for {
		out, err := d.cd.ListOnPremisesInstances(ctx, in)
		if err != nil {
			return nil, platform.Wrap(Platform, "ListOnPremisesInstances", g.Application+"/"+g.Name, err)
		}
		names = append(names, out.InstanceNames...)
		next := aws.ToString(out.NextToken)
		if next == "" || seen[next] {
			return names, nil
		}
		seen[next] = true
		in.NextToken = aws.String(next)
	}
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
