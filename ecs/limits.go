package ecs

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/switchyard/switchyard/deploy"
)

// ECS quotas and naming rules checked before any call
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html).
const (
	// MaxTaskDefinitionSize is the largest task definition
	// RegisterTaskDefinition takes: 64 KiB of JSON.
	MaxTaskDefinitionSize = 64 * 1024
	// MaxDesiredCount is the most tasks one service may run: the "Tasks per
	// service" quota, 5,000, which AWS does not raise.
	MaxDesiredCount = 5000
	// maxDocumentFile bounds a task or service definition file read whole:
	// far above any valid document, so a huge file is refused quickly.
	maxDocumentFile = 4 << 20
	// minContainerMemory is the least memory (MiB) ECS gives a container:
	// Docker refuses less than 6 MiB.
	minContainerMemory = 6
)

// ecsNameRE is the rule for task definition families, container names,
// cluster and service names: letters, digits, hyphens and underscores, up
// to 255.
var ecsNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// checkName refuses a name that breaks ECS's character rules.
func checkName(field, name string) error {
	if !ecsNameRE.MatchString(name) {
		return deploy.Invalid(field, name, "letters, digits, hyphens and underscores only, 1 to 255 of them")
	}
	return nil
}

// checkTaskDefinitionLimits refuses a task definition that ECS would
// refuse: a family or container name breaking the naming rules, more than
// MaxTaskDefinitionSize of JSON, or a cpu or memory value that is zero or
// negative where ECS takes only positive ones.
func checkTaskDefinitionLimits(in *ecs.RegisterTaskDefinitionInput) error {
	if err := checkName("taskDefinition.family", *in.Family); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, c := range in.ContainerDefinitions {
		field := fmt.Sprintf("taskDefinition.containerDefinitions[%d]", i)
		if err := checkName(field+".name", *c.Name); err != nil {
			return err
		}
		if seen[*c.Name] {
			return deploy.Invalid(field+".name", *c.Name, "given to two containers")
		}
		seen[*c.Name] = true
		if c.Cpu < 0 {
			return deploy.Invalid(field+".cpu", strconv.Itoa(int(c.Cpu)), "must not be negative")
		}
		if c.Memory != nil && *c.Memory < minContainerMemory {
			return deploy.Invalid(field+".memory", strconv.Itoa(int(*c.Memory)), "must be at least 6 MiB")
		}
		if c.MemoryReservation != nil && *c.MemoryReservation < minContainerMemory {
			return deploy.Invalid(field+".memoryReservation", strconv.Itoa(int(*c.MemoryReservation)), "must be at least 6 MiB")
		}
	}
	for _, v := range []struct {
		field string
		val   *string
	}{{"taskDefinition.cpu", in.Cpu}, {"taskDefinition.memory", in.Memory}} {
		if v.val == nil {
			continue
		}
		s := strings.TrimSpace(*v.val)
		// "1 vCPU" and "2 GB" are accepted forms; their number must be
		// positive as a plain number must.
		num := strings.TrimSpace(strings.TrimRightFunc(s, func(r rune) bool { return r == ' ' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }))
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return deploy.Invalid(v.field, *v.val, "want a number, such as 256 or \"1 vCPU\" / \"2 GB\"")
		}
		if f <= 0 {
			return deploy.Invalid(v.field, *v.val, "must be positive")
		}
	}
	b, err := json.Marshal(in)
	if err != nil {
		return deploy.Invalid("taskDefinition", "", err.Error())
	}
	if len(b) > MaxTaskDefinitionSize {
		return deploy.Invalid("taskDefinition", *in.Family, fmt.Sprintf("%d bytes of JSON is more than ECS's 64 KiB limit", len(b)))
	}
	return nil
}

// checkDesiredCount refuses a desired count ECS cannot run.
func checkDesiredCount(field string, n int) error {
	if n < 0 {
		return deploy.Invalid(field, strconv.Itoa(n), "must not be negative")
	}
	if n > MaxDesiredCount {
		return deploy.Invalid(field, strconv.Itoa(n), "ECS runs at most 5000 tasks per service")
	}
	return nil
}

// checkStrategyPlatform refuses a CodeDeploy predefined configuration of
// another compute platform (a Lambda or EC2/on-premises one).
func checkStrategyPlatform(s deploy.Strategy) error {
	short, ok := strings.CutPrefix(s.Name, deploy.CodeDeployPrefix)
	if !ok {
		return nil
	}
	if i := strings.IndexByte(short, ';'); i >= 0 {
		short = short[:i]
	}
	switch {
	case strings.HasPrefix(short, "Lambda"):
		return deploy.Invalid("strategy", s.Name, "a Lambda CodeDeploy configuration; an ECS deployment takes a CodeDeployDefault.ECS* one")
	case short == "OneAtATime", short == "HalfAtATime", short == "AllAtOnce":
		return deploy.Invalid("strategy", s.Name, "an EC2/on-premises CodeDeploy configuration; an ECS deployment takes a CodeDeployDefault.ECS* one")
	}
	return nil
}

// checkDocSize refuses a document too large to be a task or service
// definition before it is parsed.
func checkDocSize(field string, data []byte) error {
	if len(data) > maxDocumentFile {
		return deploy.Invalid(field, "", fmt.Sprintf("%d bytes is far more than ECS takes (64 KiB)", len(data)))
	}
	return nil
}
