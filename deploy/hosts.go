package deploy

import (
	"fmt"
	"strconv"
	"strings"
)

// HostsType is how MinHealthyHosts counts.
type HostsType string

// The minimum healthy hosts types CodeDeploy defines.
const (
	// HostCount: Value is an absolute number of instances that must stay healthy.
	HostCount HostsType = "HOST_COUNT"
	// FleetPercent: Value is the percentage of the fleet that must stay
	// healthy, rounded up to whole instances.
	FleetPercent HostsType = "FLEET_PERCENT"
	// MostConcurrency with Value 1 is CodeDeployDefault.OneAtATime: one
	// instance at a time, all but one kept healthy, and a failure on the last
	// instance does not fail the deployment. It cannot be set on a custom
	// configuration.
	MostConcurrency HostsType = "MOST_CONCURRENCY"
)

// MinHealthyHosts is CodeDeploy's rule for in-place deployments: how many
// instances must stay healthy, which sets how many go at once.
type MinHealthyHosts struct {
	Type  HostsType `json:"type"`
	Value int       `json:"value"`
}

// String renders m as "TYPE:VALUE".
func (m MinHealthyHosts) String() string { return fmt.Sprintf("%s:%d", m.Type, m.Value) }

// ParseMinHealthyHosts reads "HOST_COUNT:N" or "FLEET_PERCENT:N".
func ParseMinHealthyHosts(s string) (MinHealthyHosts, error) {
	t, v, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return MinHealthyHosts{}, Invalid("minHealthyHosts", s, "want HOST_COUNT:N or FLEET_PERCENT:N")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return MinHealthyHosts{}, Invalid("minHealthyHosts.value", v, "not a whole number")
	}
	m := MinHealthyHosts{Type: HostsType(strings.ToUpper(t)), Value: n}
	return m, m.Validate()
}

// Validate checks the type and the value's range on its own: HOST_COUNT at
// least 0, FLEET_PERCENT in 0..99 (100 could never be met), MOST_CONCURRENCY
// exactly 1. Whether a HOST_COUNT can be met depends on the fleet; see Plan.
func (m MinHealthyHosts) Validate() error {
	switch m.Type {
	case HostCount:
		if m.Value < 0 {
			return Invalid("minHealthyHosts.value", strconv.Itoa(m.Value), "HOST_COUNT must not be negative")
		}
	case FleetPercent:
		if m.Value < 0 || m.Value > 99 {
			return Invalid("minHealthyHosts.value", strconv.Itoa(m.Value),
				"FLEET_PERCENT must be between 0 and 99; 100 can never be met")
		}
	case MostConcurrency:
		if m.Value != 1 {
			return Invalid("minHealthyHosts.value", strconv.Itoa(m.Value), "MOST_CONCURRENCY takes only 1")
		}
	default:
		return Invalid("minHealthyHosts.type", string(m.Type), "want HOST_COUNT or FLEET_PERCENT")
	}
	return nil
}

// BatchPlan says how an in-place deployment goes through a fleet.
type BatchPlan struct {
	// Instances is the fleet size.
	Instances int `json:"instances"`
	// MinHealthy is how many instances stay healthy at all times.
	MinHealthy int `json:"minHealthy"`
	// BatchSize is the most instances taken offline at once.
	BatchSize int `json:"batchSize"`
	// Batches holds the size of each batch in order; they add up to Instances.
	Batches []int `json:"batches"`
	// MustSucceed is how many instances must deploy successfully for the
	// deployment to succeed.
	MustSucceed int `json:"mustSucceed"`
}

// Plan works out the batches for a fleet of n instances. It returns a
// *ValidationError when the rule can never be met on n instances (for
// example HOST_COUNT 3 on three instances leaves none to take offline).
func (m MinHealthyHosts) Plan(n int) (BatchPlan, error) {
	if err := m.Validate(); err != nil {
		return BatchPlan{}, err
	}
	if n <= 0 {
		return BatchPlan{}, Invalid("instances", strconv.Itoa(n), "a deployment needs at least one instance")
	}
	var healthy, batch, must int
	switch m.Type {
	case MostConcurrency:
		healthy, batch = n-1, 1
		must = n - 1
		if n == 1 {
			must = 1
		}
	case HostCount:
		healthy = m.Value
		batch = n - healthy
		must = healthy
	case FleetPercent:
		healthy = (n*m.Value + 99) / 100 // rounded up
		batch = n - healthy
		must = healthy
	}
	if batch < 1 {
		return BatchPlan{}, Invalid("minHealthyHosts", m.String(),
			fmt.Sprintf("can never be met on %d instances: no instance could be taken offline", n))
	}
	if must == 0 {
		must = 1
	}
	p := BatchPlan{Instances: n, MinHealthy: healthy, BatchSize: batch, MustSucceed: must}
	for left := n; left > 0; left -= batch {
		p.Batches = append(p.Batches, min(batch, left))
	}
	return p, nil
}
