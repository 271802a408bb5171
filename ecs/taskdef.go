package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

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

// ParseTaskDefinition reads a task definition in either of the shapes
// `aws ecs` uses: the output of describe-task-definition
// ({"taskDefinition": {...}, "tags": [...]}, whose read-only fields such as
// taskDefinitionArn, revision, status, requiresAttributes, compatibilities and
// registeredAt/By are dropped) or the RegisterTaskDefinition input
// ({"family": ..., "containerDefinitions": [...]}). Field names match
// case-insensitively, as the AWS CLI's JSON does. Unknown fields, an empty
// document, a missing family or no container definitions give a
// *deploy.ValidationError.
func ParseTaskDefinition(data []byte) (*ecs.RegisterTaskDefinitionInput, error) {
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
	return in, nil
}

// ParseServiceDefinition reads a service definition: the CreateService input
// shape, or one service as `aws ecs describe-services` prints it (its
// read-only fields such as serviceArn, status, deployments and events are
// dropped; {"services": [one]} is accepted too). Bad input gives a
// *deploy.ValidationError.
func ParseServiceDefinition(data []byte) (*ecs.CreateServiceInput, error) {
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
	in := new(ecs.CreateServiceInput)
	if err := decodeStrict(obj, in); err != nil {
		return nil, deploy.Invalid("serviceDefinition", "", err.Error())
	}
	return in, nil
}

// jsonObject decodes data as one JSON object.
func jsonObject(field string, data []byte) (map[string]any, error) {
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
