package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/deploy"
)

// flatten turns v (an SDK struct) into path -> JSON text leaves, dropping
// zero values (null, "", 0, false, empty lists and objects) so that a field
// left out and a field set to its zero value compare equal. Keys are
// lowerCamel, as the ECS API spells them, except inside lifecycle hooks'
// hookDetails, which are free-form and kept as written.
func flatten(prefix string, v any) map[string]string {
	out := map[string]string{}
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return out
	}
	spliceHookDetails(tree, deploymentConfigurationOf(v))
	var walk func(path string, n any, raw bool)
	walk = func(path string, n any, raw bool) {
		switch t := n.(type) {
		case nil:
		case map[string]any:
			for k, c := range t {
				if raw {
					walk(path+"."+k, c, true)
					continue
				}
				walk(path+"."+lowerCamel(k), c, k == "HookDetails")
			}
		case []any:
			for i, c := range t {
				walk(fmt.Sprintf("%s[%d]", path, i), c, raw)
			}
		case string:
			if t != "" {
				out[path] = t
			}
		case json.Number:
			if f, err := t.Float64(); err != nil || f != 0 {
				out[path] = t.String()
			}
		case bool:
			if t {
				out[path] = "true"
			}
		}
	}
	walk(prefix, tree, false)
	return out
}

// deploymentConfigurationOf returns the deployment configuration inside
// the structs flatten sees, nil for others.
func deploymentConfigurationOf(v any) *types.DeploymentConfiguration {
	switch t := v.(type) {
	case serviceAttrs:
		return t.DeploymentConfiguration
	case *serviceAttrs:
		if t != nil {
			return t.DeploymentConfiguration
		}
	case *ecs.CreateServiceInput:
		if t != nil {
			return t.DeploymentConfiguration
		}
	}
	return nil
}

// spliceHookDetails puts the hookDetails of dc's lifecycle hooks into tree
// (v as encoding/json renders it), which sees documents as empty objects.
func spliceHookDetails(tree any, dc *types.DeploymentConfiguration) {
	if dc == nil {
		return
	}
	root, _ := tree.(map[string]any)
	dct, _ := root["DeploymentConfiguration"].(map[string]any)
	hooks, _ := dct["LifecycleHooks"].([]any)
	for i, h := range dc.LifecycleHooks {
		if i >= len(hooks) {
			break
		}
		m, ok := hooks[i].(map[string]any)
		if !ok {
			continue
		}
		v, err := documentJSON(h.HookDetails)
		if err != nil {
			v = "(unreadable: " + err.Error() + ")"
		}
		if v == nil {
			delete(m, "HookDetails")
		} else {
			m["HookDetails"] = v
		}
	}
}

func lowerCamel(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// taskDefinitionDefaults are values ECS fills in on registration; a file
// that leaves them out does not change them.
var taskDefinitionDefaults = []struct {
	re    *regexp.Regexp
	value string
}{
	{regexp.MustCompile(`^taskDefinition\.containerDefinitions\[\d+\]\.essential$`), "true"},
	{regexp.MustCompile(`^taskDefinition\.containerDefinitions\[\d+\]\.portMappings\[\d+\]\.protocol$`), "tcp"},
}

var hostPortRe = regexp.MustCompile(`^(taskDefinition\.containerDefinitions\[\d+\]\.portMappings\[\d+\])\.hostPort$`)

func dropTaskDefinitionDefaults(m map[string]string) {
	for k, v := range m {
		for _, d := range taskDefinitionDefaults {
			if d.value == v && d.re.MatchString(k) {
				delete(m, k)
			}
		}
		if sm := hostPortRe.FindStringSubmatch(k); sm != nil && m[sm[1]+".containerPort"] == v {
			delete(m, k)
		}
	}
}

// diffTaskDefinition lists what registering next would change compared with
// cur (nil when the service has none). Defaults ECS fills in are not changes.
func diffTaskDefinition(cur, next *ecs.RegisterTaskDefinitionInput) []deploy.Change {
	a, b := flatten("taskDefinition", cur), flatten("taskDefinition", next)
	if cur == nil {
		a = map[string]string{}
	}
	dropTaskDefinitionDefaults(a)
	dropTaskDefinitionDefaults(b)
	return diffMaps(a, b, true)
}

// diffMaps compares leaves. With all, keys only in a are removals;
// otherwise only keys present in b count (attributes b leaves out are kept).
func diffMaps(a, b map[string]string, all bool) []deploy.Change {
	var out []deploy.Change
	for k, nv := range b {
		if ov := a[k]; ov != nv {
			out = append(out, deploy.Change{Path: k, Old: ov, New: nv})
		}
	}
	if all {
		for k, ov := range a {
			if _, ok := b[k]; !ok {
				out = append(out, deploy.Change{Path: k, Old: ov})
			}
		}
	}
	for i, c := range out {
		// The value of a {key, value} or {name, value} pair (a tag) is
		// secret when its key looks secret, wherever the pair sits.
		if base, ok := strings.CutSuffix(c.Path, ".value"); ok {
			for _, k := range []string{base + ".key", base + ".name"} {
				if deploy.SensitivePath(a[k]) || deploy.SensitivePath(b[k]) {
					out[i].Sensitive = true
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// serviceAttrs are the attributes of a service UpdateService can change,
// desired count and task definition aside (those have their own options).
type serviceAttrs struct {
	AvailabilityZoneRebalancing   types.AvailabilityZoneRebalancing
	CapacityProviderStrategy      []types.CapacityProviderStrategyItem
	DeploymentConfiguration       *types.DeploymentConfiguration
	EnableECSManagedTags          *bool
	EnableExecuteCommand          *bool
	HealthCheckGracePeriodSeconds *int32
	LoadBalancers                 []types.LoadBalancer
	NetworkConfiguration          *types.NetworkConfiguration
	PlacementConstraints          []types.PlacementConstraint
	PlacementStrategy             []types.PlacementStrategy
	PlatformVersion               *string
	PropagateTags                 types.PropagateTags
	ServiceConnectConfiguration   *types.ServiceConnectConfiguration
	ServiceRegistries             []types.ServiceRegistry
	VolumeConfigurations          []types.ServiceVolumeConfiguration
	VpcLatticeConfigurations      []types.VpcLatticeConfiguration
}

func attrsOfService(s *types.Service) serviceAttrs {
	return serviceAttrs{
		AvailabilityZoneRebalancing:   s.AvailabilityZoneRebalancing,
		CapacityProviderStrategy:      s.CapacityProviderStrategy,
		DeploymentConfiguration:       s.DeploymentConfiguration,
		EnableECSManagedTags:          &s.EnableECSManagedTags,
		EnableExecuteCommand:          &s.EnableExecuteCommand,
		HealthCheckGracePeriodSeconds: s.HealthCheckGracePeriodSeconds,
		LoadBalancers:                 s.LoadBalancers,
		NetworkConfiguration:          s.NetworkConfiguration,
		PlacementConstraints:          s.PlacementConstraints,
		PlacementStrategy:             s.PlacementStrategy,
		PlatformVersion:               s.PlatformVersion,
		PropagateTags:                 s.PropagateTags,
		ServiceRegistries:             s.ServiceRegistries,
	}
}

func attrsOfDefinition(d *ecs.CreateServiceInput) serviceAttrs {
	a := serviceAttrs{
		AvailabilityZoneRebalancing:   d.AvailabilityZoneRebalancing,
		CapacityProviderStrategy:      d.CapacityProviderStrategy,
		DeploymentConfiguration:       d.DeploymentConfiguration,
		HealthCheckGracePeriodSeconds: d.HealthCheckGracePeriodSeconds,
		LoadBalancers:                 d.LoadBalancers,
		NetworkConfiguration:          d.NetworkConfiguration,
		PlacementConstraints:          d.PlacementConstraints,
		PlacementStrategy:             d.PlacementStrategy,
		PlatformVersion:               d.PlatformVersion,
		PropagateTags:                 d.PropagateTags,
		ServiceConnectConfiguration:   d.ServiceConnectConfiguration,
		ServiceRegistries:             d.ServiceRegistries,
		VolumeConfigurations:          d.VolumeConfigurations,
		VpcLatticeConfigurations:      d.VpcLatticeConfigurations,
	}
	if d.EnableECSManagedTags {
		a.EnableECSManagedTags = &d.EnableECSManagedTags
	}
	if d.EnableExecuteCommand {
		a.EnableExecuteCommand = &d.EnableExecuteCommand
	}
	return a
}

// diffService lists the attributes want would change on the service; only
// attributes want sets count, so defaults and omissions are not changes.
func diffService(cur, want serviceAttrs) []deploy.Change {
	return diffMaps(flatten("service", cur), flatten("service", want), false)
}

// apply copies the attributes into an UpdateService input.
func (a serviceAttrs) apply(in *ecs.UpdateServiceInput) {
	in.AvailabilityZoneRebalancing = a.AvailabilityZoneRebalancing
	in.CapacityProviderStrategy = a.CapacityProviderStrategy
	in.DeploymentConfiguration = a.DeploymentConfiguration
	in.EnableECSManagedTags = a.EnableECSManagedTags
	in.EnableExecuteCommand = a.EnableExecuteCommand
	in.HealthCheckGracePeriodSeconds = a.HealthCheckGracePeriodSeconds
	in.LoadBalancers = a.LoadBalancers
	in.NetworkConfiguration = a.NetworkConfiguration
	in.PlacementConstraints = a.PlacementConstraints
	in.PlacementStrategy = a.PlacementStrategy
	in.PlatformVersion = a.PlatformVersion
	in.PropagateTags = a.PropagateTags
	in.ServiceConnectConfiguration = a.ServiceConnectConfiguration
	in.ServiceRegistries = a.ServiceRegistries
	in.VolumeConfigurations = a.VolumeConfigurations
	in.VpcLatticeConfigurations = a.VpcLatticeConfigurations
}
