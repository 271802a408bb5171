package opsworksserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/aws-sdk-go-v2/service/opsworks/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/opsworksserver"
	"github.com/switchyard/switchyard/opsworks/opsworksfake"
)

func post(t *testing.T, url, target, ct, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, v
}

func TestProtocol(t *testing.T) {
	f := opsworksfake.New(opsworksfake.Options{})
	f.AddStack("s")
	f.AddApp("s", "a", "v1", false)
	srv := opsworksserver.Start(t, f)
	const ct = "application/x-amz-json-1.1"
	code, v := post(t, srv.URL, "OpsWorks_20130218.DeleteStack", ct, `{}`)
	if code != 400 || v["__type"] != "UnknownOperationException" {
		t.Errorf("unknown operation: %d %v", code, v)
	}
	code, v = post(t, srv.URL, "OpsWorks_20130218.DescribeApps", "text/plain", `{}`)
	if code != 400 || v["__type"] != "SerializationException" {
		t.Errorf("wrong content type: %d %v", code, v)
	}
	code, v = post(t, srv.URL, "OpsWorks_20130218.DescribeApps", ct, `{"AppIds":["nope"]}`)
	if code != 400 || v["__type"] != "ResourceNotFoundException" || !strings.Contains(v["message"].(string), "nope") {
		t.Errorf("missing app: %d %v", code, v)
	}
	code, v = post(t, srv.URL, "OpsWorks_20130218.DescribeApps", ct, `{"AppIds":["a"]}`)
	apps, _ := v["Apps"].([]any)
	if code != 200 || len(apps) != 1 || strings.Contains(srvBody(v), "secret") || !strings.Contains(srvBody(v), opsworksfake.Filtered) {
		t.Errorf("describe: %d %v", code, v)
	}
	if _, ok := v["ResultMetadata"]; ok {
		t.Error("ResultMetadata on the wire")
	}
	// The real client reaches the typed errors.
	c := srv.Client()
	_, err := c.CreateDeployment(context.Background(), &awsopsworks.CreateDeploymentInput{StackId: aws.String("s"),
		Command: &types.DeploymentCommand{Name: types.DeploymentCommandNameDeploy}})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("deploy without an app: %v, want *types.ValidationException", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorFault() != smithy.FaultClient {
		t.Errorf("fault %v", err)
	}
	if got := opsworksserver.Operations(); len(got) != 8 {
		t.Errorf("Operations = %v", got)
	}
}

func srvBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
