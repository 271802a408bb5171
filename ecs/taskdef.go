package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/document"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	smithydocument "github.com/aws/smithy-go/document"

	"github.com/switchyard/switchyard/deploy"
)

// taskDefinitionReadOnly are the fields of `aws ecs describe-task-definition`
// output that RegisterTaskDefinition does not take.
var taskDefinitionReadOnly = []string{
	"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
	"registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt",
}

// serviceReadOnly are the fields of `aws ecs describe-services` output that
// CreateService does not take.
var serviceReadOnly = []string{
	"serviceArn", "clusterArn", "status", "runningCount", "pendingCount", "deployments",
	"events", "createdAt", "createdBy", "taskSets", "roleArn", "currentServiceDeployment",
	"currentServiceRevisions", "resourceManagementType", "platformFamily",
}

// parseTaskDefinition reads a task definition in either of the shapes
// `aws ecs` uses: the output of describe-task-definition
// ({"taskDefinition": {...}, "tags": [...]}, whose read-only fields such as
// taskDefinitionArn, revision, status, requiresAttributes, compatibilities and
// registeredAt/By are dropped) or the RegisterTaskDefinition input
// ({"family": ..., "containerDefinitions": [...]}). Field names match
// case-insensitively, as the AWS CLI's JSON does. Unknown fields, an empty
// document, a missing family or no container definitions give a
// *deploy.ValidationError.
func parseTaskDefinition(data []byte) (*ecs.RegisterTaskDefinitionInput, error) {
	obj, err := jsonObject("taskDefinition", data)
	if err != nil {
		return nil, err
	}
	if inner, ok := lookupFold(obj, "taskDefinition"); ok {
		m, ok := inner.(map[string]any)
		if !ok {
			return nil, deploy.Invalid("taskDefinition", "", "\"taskDefinition\" must be an object")
		}
		if tags, ok := lookupFold(obj, "tags"); ok {
			if _, has := lookupFold(m, "tags"); !has {
				m["tags"] = tags
			}
		}
		obj = m
	}
	deleteFold(obj, taskDefinitionReadOnly...)
	in := new(ecs.RegisterTaskDefinitionInput)
	if err := decodeStrict(obj, in); err != nil {
		return nil, deploy.Invalid("taskDefinition", "", err.Error())
	}
	if in.Family == nil || *in.Family == "" {
		return nil, deploy.Invalid("taskDefinition.family", "", "required")
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, deploy.Invalid("taskDefinition.containerDefinitions", "", "at least one container is required")
	}
	for i, c := range in.ContainerDefinitions {
		if c.Name == nil || *c.Name == "" {
			return nil, deploy.Invalid(fmt.Sprintf("taskDefinition.containerDefinitions[%d].name", i), "", "required")
		}
		if c.Image == nil || *c.Image == "" {
			return nil, deploy.Invalid(fmt.Sprintf("taskDefinition.containerDefinitions[%d].image", i), "", "required")
		}
	}
	if err := checkTaskDefinitionLimits(in); err != nil {
		return nil, err
	}
	return in, nil
}

// parseServiceDefinition reads a service definition: the CreateService input
// shape, or one service as `aws ecs describe-services` prints it (its
// read-only fields such as serviceArn, status, deployments and events are
// dropped; {"services": [one]} is accepted too). The free-form hookDetails
// of deploymentConfiguration.lifecycleHooks become the SDK's document
// values, numbers kept exact. Bad input gives a *deploy.ValidationError.
func parseServiceDefinition(data []byte) (*ecs.CreateServiceInput, error) {
	obj, err := jsonObject("serviceDefinition", data)
	if err != nil {
		return nil, err
	}
	if inner, ok := lookupFold(obj, "services"); ok {
		list, ok := inner.([]any)
		if !ok || len(list) != 1 {
			return nil, deploy.Invalid("serviceDefinition.services", "", "must hold exactly one service")
		}
		m, ok := list[0].(map[string]any)
		if !ok {
			return nil, deploy.Invalid("serviceDefinition.services[0]", "", "must be an object")
		}
		obj = m
	}
	deleteFold(obj, serviceReadOnly...)
	// describe-services names the task definition ARN "taskDefinition" as
	// CreateService does; the driver sets it itself, so it is dropped.
	deleteFold(obj, "taskDefinition")
	// encoding/json cannot decode into the SDK's document.Interface, so
	// hookDetails are taken out first and put back as documents.
	details := takeHookDetails(obj)
	in := new(ecs.CreateServiceInput)
	if err := decodeStrict(obj, in); err != nil {
		return nil, deploy.Invalid("serviceDefinition", "", err.Error())
	}
	for i, v := range details {
		if in.DeploymentConfiguration == nil || i >= len(in.DeploymentConfiguration.LifecycleHooks) {
			continue // Not reached: the hook the details came from was decoded.
		}
		h := &in.DeploymentConfiguration.LifecycleHooks[i]
		if h.TargetType == types.DeploymentLifecycleHookTargetTypePause {
			return nil, deploy.Invalid(fmt.Sprintf("serviceDefinition.deploymentConfiguration.lifecycleHooks[%d].hookDetails", i), "",
				"a PAUSE hook takes no hookDetails")
		}
		h.HookDetails = newDocument(v)
	}
	if in.DesiredCount != nil {
		if err := checkDesiredCount("serviceDefinition.desiredCount", int(*in.DesiredCount)); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// takeHookDetails removes the non-null hookDetails of
// deploymentConfiguration.lifecycleHooks[i] from obj and returns them by
// hook index. Shapes that are not objects and lists are left for the
// strict decoder to refuse.
func takeHookDetails(obj map[string]any) map[int]any {
	dcv, _ := lookupFold(obj, "deploymentConfiguration")
	dc, ok := dcv.(map[string]any)
	if !ok {
		return nil
	}
	hv, _ := lookupFold(dc, "lifecycleHooks")
	hooks, ok := hv.([]any)
	if !ok {
		return nil
	}
	out := map[int]any{}
	for i, h := range hooks {
		m, ok := h.(map[string]any)
		if !ok {
			continue
		}
		if v, ok := lookupFold(m, "hookDetails"); ok {
			deleteFold(m, "hookDetails")
			if v != nil {
				out[i] = v
			}
		}
	}
	return out
}

// newDocument makes a document of a JSON tree decoded with UseNumber: its
// json.Number values become document.Number, which the SDK writes as JSON
// numbers (a json.Number would be written as a string).
func newDocument(v any) document.Interface {
	return document.NewLazyDocument(documentValue(v))
}

func documentValue(v any) any {
	switch t := v.(type) {
	case json.Number:
		return smithydocument.Number(t.String())
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			m[k] = documentValue(c)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, c := range t {
			l[i] = documentValue(c)
		}
		return l
	}
	return v
}

// hookDetailsDocument makes the hookDetails document of a Go value, going
// through encoding/json so the value's json tags apply.
func hookDetailsDocument(v any) (document.Interface, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("hook details are not JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("hook details are not JSON: %w", err)
	}
	return newDocument(tree), nil
}

// documentJSON returns the JSON tree of a document (numbers as
// json.Number), nil for a nil document.
func documentJSON(d document.Interface) (any, error) {
	if d == nil {
		return nil, nil
	}
	b, err := d.MarshalSmithyDocument()
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// jsonObject decodes data as one JSON object.
func jsonObject(field string, data []byte) (map[string]any, error) {
	if err := checkDocSize(field, data); err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, deploy.Invalid(field, "", "not valid UTF-8")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, deploy.Invalid(field, "", "empty document")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, deploy.Invalid(field, "", "malformed JSON: "+err.Error())
	}
	if dec.More() {
		return nil, deploy.Invalid(field, "", "trailing data after the JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, deploy.Invalid(field, "", "must be a JSON object")
	}
	return obj, nil
}

// decodeStrict re-encodes obj and decodes it into out, refusing unknown
// fields. encoding/json matches field names case-insensitively, which is
// how the SDK's Go field names meet the API's lowerCamel JSON.
func decodeStrict(obj map[string]any, out any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return err
	}
	return nil
}

func lookupFold(m map[string]any, key string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func deleteFold(m map[string]any, keys ...string) {
	for k := range m {
		for _, d := range keys {
			if strings.EqualFold(k, d) {
				delete(m, k)
			}
		}
	}
}

// registerInputOf converts a registered task definition to the input that
// would register it again, for diffs.
func registerInputOf(td *types.TaskDefinition, tags []types.Tag) *ecs.RegisterTaskDefinitionInput {
	if td == nil {
		return nil
	}
	return &ecs.RegisterTaskDefinitionInput{
		ContainerDefinitions:    td.ContainerDefinitions,
		Family:                  td.Family,
		Cpu:                     td.Cpu,
		EnableFaultInjection:    td.EnableFaultInjection,
		EphemeralStorage:        td.EphemeralStorage,
		ExecutionRoleArn:        td.ExecutionRoleArn,
		InferenceAccelerators:   td.InferenceAccelerators,
		IpcMode:                 td.IpcMode,
		Memory:                  td.Memory,
		NetworkMode:             td.NetworkMode,
		PidMode:                 td.PidMode,
		PlacementConstraints:    td.PlacementConstraints,
		ProxyConfiguration:      td.ProxyConfiguration,
		RequiresCompatibilities: td.RequiresCompatibilities,
		RuntimePlatform:         td.RuntimePlatform,
		Tags:                    tags,
		TaskRoleArn:             td.TaskRoleArn,
		Volumes:                 td.Volumes,
	}
}
