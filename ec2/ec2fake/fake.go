// Package ec2fake is an in-memory EC2 (DescribeInstances) and Auto Scaling
// (DescribeAutoScalingGroups) for tests of the ec2 driver's target
// resolution. Client implements ec2.EC2API and ec2.AutoScalingAPI with the
// real SDK input and output types. Both operations only read, so the fake
// records calls (Calls) but has no mutations to count.
package ec2fake

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Instance is an EC2 instance known to the fake.
type Instance struct {
	// ID is the instance ID, such as "i-0123". Required.
	ID string
	// Tags are the instance's tags.
	Tags map[string]string
	// State is the instance state name. Default "running".
	State ec2types.InstanceStateName
	// Windows marks a Windows instance (Platform "windows").
	Windows bool
}

// Client is an in-memory EC2 and Auto Scaling. Its methods are safe for
// concurrent use.
type Client struct {
	mu        sync.Mutex
	instances map[string]Instance
	groups    map[string][]string
	calls     []string
}

// New returns an empty fake.
func New() *Client {
	return &Client{instances: map[string]Instance{}, groups: map[string][]string{}}
}

// AddInstance registers an instance (replacing one with the same ID).
func (c *Client) AddInstance(in Instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in.State == "" {
		in.State = ec2types.InstanceStateNameRunning
	}
	tags := map[string]string{}
	for k, v := range in.Tags {
		tags[k] = v
	}
	in.Tags = tags
	c.instances[in.ID] = in
}

// AddAutoScalingGroup registers an Auto Scaling group whose InService
// instances are ids.
func (c *Client) AddAutoScalingGroup(name string, ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups[name] = append([]string(nil), ids...)
}

// Calls returns the operations called so far, in order.
func (c *Client) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// DescribeInstances returns the instances matching every filter (tag:KEY,
// tag-key, tag-value, instance-state-name, instance-id; any of a filter's
// values) and InstanceIds, in ID order, in one reservation per instance.
func (c *Client) DescribeInstances(_ context.Context, in *awsec2.DescribeInstancesInput, _ ...func(*awsec2.Options)) (*awsec2.DescribeInstancesOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "DescribeInstances")
	ids := make([]string, 0, len(c.instances))
	for id := range c.instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := &awsec2.DescribeInstancesOutput{}
	for _, id := range ids {
		inst := c.instances[id]
		if len(in.InstanceIds) > 0 && !contains(in.InstanceIds, id) {
			continue
		}
		if !matches(inst, in.Filters) {
			continue
		}
		r := ec2types.Instance{InstanceId: aws.String(id), State: &ec2types.InstanceState{Name: inst.State}}
		if inst.Windows {
			r.Platform = ec2types.PlatformValuesWindows
		}
		keys := make([]string, 0, len(inst.Tags))
		for k := range inst.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r.Tags = append(r.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(inst.Tags[k])})
		}
		out.Reservations = append(out.Reservations, ec2types.Reservation{Instances: []ec2types.Instance{r}})
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func matches(inst Instance, filters []ec2types.Filter) bool {
	for _, f := range filters {
		name := aws.ToString(f.Name)
		ok := false
		for _, v := range f.Values {
			switch {
			case strings.HasPrefix(name, "tag:"):
				tv, has := inst.Tags[strings.TrimPrefix(name, "tag:")]
				ok = ok || (has && tv == v)
			case name == "tag-key":
				_, has := inst.Tags[v]
				ok = ok || has
			case name == "tag-value":
				for _, tv := range inst.Tags {
					ok = ok || tv == v
				}
			case name == "instance-state-name":
				ok = ok || string(inst.State) == v
			case name == "instance-id":
				ok = ok || inst.ID == v
			default:
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// DescribeAutoScalingGroups describes the named groups (all when none is
// named) with their instances, each InService. Unknown names are left out,
// as Auto Scaling does.
func (c *Client) DescribeAutoScalingGroups(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "DescribeAutoScalingGroups")
	names := in.AutoScalingGroupNames
	if len(names) == 0 {
		for n := range c.groups {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	out := &autoscaling.DescribeAutoScalingGroupsOutput{}
	for _, n := range names {
		ids, ok := c.groups[n]
		if !ok {
			continue
		}
		g := astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(n)}
		for _, id := range ids {
			g.Instances = append(g.Instances, astypes.Instance{InstanceId: aws.String(id),
				LifecycleState: astypes.LifecycleStateInService})
		}
		out.AutoScalingGroups = append(out.AutoScalingGroups, g)
	}
	return out, nil
}
