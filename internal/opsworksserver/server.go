// Package opsworksserver serves an OpsWorks Stacks API (opsworksfake.Fake,
// or any opsworks.API) over HTTP in OpsWorks's awsJson1.1 protocol, so
// tests drive the real aws-sdk-go-v2 OpsWorks client. moto_server has no
// OpsWorks.
//
// The protocol, as the SDK speaks it: every call is a POST to / with the
// header "X-Amz-Target: OpsWorks_20130218.<Operation>" and a JSON body whose
// keys are the model's member names (PascalCase, as the SDK's Go fields
// are); answers are JSON (OpsWorks's dates are strings); errors are HTTP
// 400 (500 for server faults) with the body {"__type": "<ExceptionName>",
// "message": "..."}, which the SDK turns into *types.ValidationException
// and *types.ResourceNotFoundException. The server implements the
// operations of opsworks.API: DescribeStacks, DescribeApps,
// DescribeInstances, DescribeLayers, DescribeDeployments, DescribeCommands, UpdateApp and CreateDeployment;
// any other answers UnknownOperationException. It checks neither
// signatures nor credentials.
package opsworksserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/bufclient"
	"github.com/switchyard/switchyard/opsworks"
)

// TargetPrefix starts the X-Amz-Target header of every OpsWorks call.
const TargetPrefix = "OpsWorks_20130218."

// Region is the region of the aws.Config that Server.Config returns.
const Region = "us-east-1"

const contentType = "application/x-amz-json-1.1"

const maxBody = 1 << 20

// Server is a running OpsWorks endpoint on a loopback httptest.Server.
type Server struct {
	*httptest.Server
	transport *http.Transport
	h         *handler
}

// New starts a server answering from api. The caller must Close it.
func New(api opsworks.API) *Server {
	if api == nil {
		panic("opsworksserver: New with a nil API")
	}
	h := &handler{api: api}
	return &Server{Server: httptest.NewServer(h), h: h, transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// Start is New, closed when t ends.
func Start(t testing.TB, api opsworks.API) *Server {
	t.Helper()
	s := New(api)
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down and closes idle client connections.
func (s *Server) Close() {
	s.Server.Close()
	s.transport.CloseIdleConnections()
}

// Targets lists the X-Amz-Target operations called so far, in order.
func (s *Server) Targets() []string {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return append([]string(nil), s.h.targets...)
}

// Bodies returns every request body received so far, in order.
func (s *Server) Bodies() []string {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return append([]string(nil), s.h.bodies...)
}

// Config returns an aws.Config for the server: static credentials, region
// Region, BaseEndpoint the server's URL and one attempt per call.
func (s *Server) Config() aws.Config {
	return bufclient.Config(s.URL, Region, s.transport)
}

// Client returns the real SDK OpsWorks client, configured by Config.
func (s *Server) Client(optFns ...func(*awsopsworks.Options)) *awsopsworks.Client {
	return awsopsworks.NewFromConfig(s.Config(), optFns...)
}

type operation func(ctx context.Context, api opsworks.API, body []byte) (any, error)

func op[In, Out any](call func(opsworks.API, context.Context, *In) (*Out, error)) operation {
	return func(ctx context.Context, api opsworks.API, body []byte) (any, error) {
		in := new(In)
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(in); err != nil {
			return nil, &protocolError{status: http.StatusBadRequest, code: "SerializationException", msg: err.Error()}
		}
		return call(api, ctx, in)
	}
}

var operations = map[string]operation{
	"DescribeStacks": op(func(a opsworks.API, ctx context.Context, in *awsopsworks.DescribeStacksInput) (*awsopsworks.DescribeStacksOutput, error) {
		return a.DescribeStacks(ctx, in)
	}),
	"DescribeApps": op(func(a opsworks.API, ctx context.Context, in *awsopsworks.DescribeAppsInput) (*awsopsworks.DescribeAppsOutput, error) {
		return a.DescribeApps(ctx, in)
	}),
	"DescribeInstances": op(func(a opsworks.API, ctx context.Context, in *awsopsworks.DescribeInstancesInput) (*awsopsworks.DescribeInstancesOutput, error) {
		return a.DescribeInstances(ctx, in)
	}),
	"DescribeLayers": op(func(a opsworks.API, ctx context.Context, in *awsopsworks.DescribeLayersInput) (*awsopsworks.DescribeLayersOutput, error) {
		return a.DescribeLayers(ctx, in)
	}),
	"DescribeDeployments": op(func(a opsworks.API, ctx context.Context, in *awsopsworks.DescribeDeploymentsInput) (*awsopsworks.DescribeDeploymentsOutput, error) {
		return a.DescribeDeployments(ctx, in)
	}),
	"DescribeCommands": op(func(a opsworks.API, ctx context.Context, in *awsopsworks.DescribeCommandsInput) (*awsopsworks.DescribeCommandsOutput, error) {
		return a.DescribeCommands(ctx, in)
	}),
	"UpdateApp": op(func(a opsworks.API, ctx context.Context, in *awsopsworks.UpdateAppInput) (*awsopsworks.UpdateAppOutput, error) {
		return a.UpdateApp(ctx, in)
	}),
	"CreateDeployment": op(func(a opsworks.API, ctx context.Context, in *awsopsworks.CreateDeploymentInput) (*awsopsworks.CreateDeploymentOutput, error) {
		return a.CreateDeployment(ctx, in)
	}),
}

// Operations returns the names of the operations the server implements.
func Operations() []string {
	out := make([]string, 0, len(operations))
	for n := range operations {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

type handler struct {
	api     opsworks.API
	mu      sync.Mutex
	targets []string
	bodies  []string
}

type protocolError struct {
	status    int
	code, msg string
}

func (e *protocolError) Error() string { return e.code + ": " + e.msg }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := h.serve(r)
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := encode(out)
	if err != nil {
		writeError(w, &protocolError{status: http.StatusInternalServerError, code: "InternalFailure", msg: err.Error()})
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func (h *handler) serve(r *http.Request) (any, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, &protocolError{status: http.StatusNotFound, code: "UnknownOperationException",
			msg: fmt.Sprintf("%s %s is not an OpsWorks operation", r.Method, r.URL.Path)}
	}
	if ct := r.Header.Get("Content-Type"); ct != contentType {
		return nil, &protocolError{status: http.StatusBadRequest, code: "SerializationException", msg: "Content-Type must be " + contentType}
	}
	target := r.Header.Get("X-Amz-Target")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return nil, &protocolError{status: http.StatusBadRequest, code: "SerializationException", msg: "bad request body"}
	}
	h.mu.Lock()
	h.targets = append(h.targets, target)
	h.bodies = append(h.bodies, string(body))
	h.mu.Unlock()
	name, ok := strings.CutPrefix(target, TargetPrefix)
	call := operations[name]
	if !ok || call == nil {
		return nil, &protocolError{status: http.StatusBadRequest, code: "UnknownOperationException", msg: fmt.Sprintf("unknown operation %q", target)}
	}
	return call(r.Context(), h.api, body)
}

// encode writes an SDK output shape as OpsWorks does: PascalCase members,
// absent members left out, no ResultMetadata.
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok {
		delete(m, "ResultMetadata")
	}
	return json.Marshal(prune(doc))
}

// prune drops nulls and empty strings (unset enums) from a document.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil || e == "" {
				delete(x, k)
				continue
			}
			x[k] = prune(e)
		}
	case []any:
		for i, e := range x {
			x[i] = prune(e)
		}
	}
	return v
}

func writeError(w http.ResponseWriter, err error) {
	status, code, msg := http.StatusInternalServerError, "InternalFailure", err.Error()
	var pe *protocolError
	var api smithy.APIError
	switch {
	case errors.As(err, &pe):
		status, code, msg = pe.status, pe.code, pe.msg
	case errors.As(err, &api):
		code, msg = api.ErrorCode(), api.ErrorMessage()
		if api.ErrorFault() != smithy.FaultServer {
			status = http.StatusBadRequest
		}
	}
	body, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(body)
}
