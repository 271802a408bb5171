// Package codedeployserver serves an in-memory CodeDeploy
// (codedeployfake.Fake, or any platform.CodeDeployAPI) over HTTP in
// CodeDeploy's own awsJson1.1 protocol, so tests can drive the real
// aws-sdk-go-v2 CodeDeploy client through deployments that progress to a
// terminal state. moto_server cannot: it keeps CodeDeploy deployments at
// Created and lacks StopDeployment, ContinueDeployment and
// ListDeploymentTargets.
//
// The protocol, as the SDK speaks it: every call is a POST to / with the
// header "X-Amz-Target: CodeDeploy_20141006.<Operation>" and a JSON body
// whose keys are the model's member names (camelCase); answers are JSON
// with timestamps in epoch seconds; errors are HTTP 400 (500 for server
// faults) with the body {"__type": "<ExceptionName>", "message": "..."},
// which the SDK turns into its typed exceptions (*types.DeploymentLimitExceededException
// and friends). The server implements the operations of
// platform.CodeDeployAPI: CreateDeployment, GetDeployment, StopDeployment,
// ContinueDeployment, ListDeploymentTargets, BatchGetDeploymentTargets,
// ListDeployments and BatchGetDeployments; and, when the API behind it
// has them (codedeployfake.Fake does), the ones the EC2/on-premises driver
// adds: GetDeploymentGroup, BatchGetDeploymentGroups, GetDeploymentConfig,
// CreateDeploymentConfig, CreateDeploymentGroup and
// ListOnPremisesInstances. Any other operation answers
// UnknownOperationException. It checks neither signatures nor
// credentials.
package codedeployserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/internal/bufclient"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// TargetPrefix starts the X-Amz-Target header of every CodeDeploy call.
const TargetPrefix = "CodeDeploy_20141006."

// Region is the region of the aws.Config that Server.Config returns.
const Region = "us-east-1"

// contentType is the awsJson1.1 media type.
const contentType = "application/x-amz-json-1.1"

// maxBody caps a request body; CodeDeploy's largest inputs (AppSpec content)
// are far smaller.
const maxBody = 4 << 20

// Server is a running CodeDeploy endpoint on a loopback httptest.Server.
type Server struct {
	*httptest.Server
	// Fake is the in-memory CodeDeploy the server answers from; tests set
	// up groups, inject failures and advance its clock through it.
	Fake *codedeployfake.Fake

	transport *http.Transport
}

// New starts a server answering from fake. The caller must Close it.
// It panics if fake is nil.
func New(fake *codedeployfake.Fake) *Server {
	if fake == nil {
		panic("codedeployserver: New with a nil fake")
	}
	return newServer(Handler(fake), fake)
}

func newServer(h http.Handler, fake *codedeployfake.Fake) *Server {
	return &Server{Server: httptest.NewServer(h), Fake: fake,
		transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// Close shuts the server down and closes the idle connections of the
// clients Config made.
func (s *Server) Close() {
	s.Server.Close()
	s.transport.CloseIdleConnections()
}

// Start is New, closed when t ends.
func Start(t testing.TB, fake *codedeployfake.Fake) *Server {
	t.Helper()
	s := New(fake)
	t.Cleanup(s.Close)
	return s
}

// Config returns an aws.Config for the server: static credentials, region
// Region, BaseEndpoint the server's URL, one attempt per call (a fake
// answers the same way twice, so retries only hide errors from tests) and
// an HTTP client that hands the transport a copy of each request body (see
// bufclient.Client).
func (s *Server) Config() aws.Config {
	return bufclient.Config(s.URL, Region, s.transport)
}

// Client returns the real SDK CodeDeploy client, configured by Config.
func (s *Server) Client(optFns ...func(*codedeploy.Options)) *codedeploy.Client {
	return codedeploy.NewFromConfig(s.Config(), optFns...)
}

// operation decodes one call's body and runs it against an API.
type operation func(ctx context.Context, api platform.CodeDeployAPI, body []byte) (any, error)

// op adapts an SDK method expression to an operation.
func op[In, Out any](call func(platform.CodeDeployAPI, context.Context, *In) (*Out, error)) operation {
	return func(ctx context.Context, api platform.CodeDeployAPI, body []byte) (any, error) {
		in := new(In)
		if err := decode(body, in); err != nil {
			return nil, &protocolError{status: http.StatusBadRequest, code: "SerializationException", msg: err.Error()}
		}
		return call(api, ctx, in)
	}
}

// opOf adapts an SDK method expression of an optional API (one
// platform.CodeDeployAPI does not have) to an operation; an API without it
// answers UnknownOperationException.
func opOf[API, In, Out any](name string, call func(API, context.Context, *In) (*Out, error)) operation {
	return func(ctx context.Context, api platform.CodeDeployAPI, body []byte) (any, error) {
		a, ok := api.(API)
		if !ok {
			return nil, &protocolError{status: http.StatusBadRequest, code: "UnknownOperationException",
				msg: fmt.Sprintf("operation %s is not implemented by this server's API", name)}
		}
		in := new(In)
		if err := decode(body, in); err != nil {
			return nil, &protocolError{status: http.StatusBadRequest, code: "SerializationException", msg: err.Error()}
		}
		return call(a, ctx, in)
	}
}

// The optional APIs of the EC2/on-premises driver's operations.
type (
	groupGetter interface {
		GetDeploymentGroup(context.Context, *codedeploy.GetDeploymentGroupInput, ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error)
	}
	groupsGetter interface {
		BatchGetDeploymentGroups(context.Context, *codedeploy.BatchGetDeploymentGroupsInput, ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentGroupsOutput, error)
	}
	configGetter interface {
		GetDeploymentConfig(context.Context, *codedeploy.GetDeploymentConfigInput, ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentConfigOutput, error)
	}
	configCreator interface {
		CreateDeploymentConfig(context.Context, *codedeploy.CreateDeploymentConfigInput, ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentConfigOutput, error)
	}
	groupCreator interface {
		CreateDeploymentGroup(context.Context, *codedeploy.CreateDeploymentGroupInput, ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentGroupOutput, error)
	}
	onPremLister interface {
		ListOnPremisesInstances(context.Context, *codedeploy.ListOnPremisesInstancesInput, ...func(*codedeploy.Options)) (*codedeploy.ListOnPremisesInstancesOutput, error)
	}
)

// operations maps each supported operation name to its handler.
var operations = map[string]operation{
	"CreateDeployment": op(func(a platform.CodeDeployAPI, ctx context.Context, in *codedeploy.CreateDeploymentInput) (*codedeploy.CreateDeploymentOutput, error) {
		return a.CreateDeployment(ctx, in)
	}),
	"GetDeployment": op(func(a platform.CodeDeployAPI, ctx context.Context, in *codedeploy.GetDeploymentInput) (*codedeploy.GetDeploymentOutput, error) {
		return a.GetDeployment(ctx, in)
	}),
	"StopDeployment": op(func(a platform.CodeDeployAPI, ctx context.Context, in *codedeploy.StopDeploymentInput) (*codedeploy.StopDeploymentOutput, error) {
		return a.StopDeployment(ctx, in)
	}),
	"ContinueDeployment": op(func(a platform.CodeDeployAPI, ctx context.Context, in *codedeploy.ContinueDeploymentInput) (*codedeploy.ContinueDeploymentOutput, error) {
		return a.ContinueDeployment(ctx, in)
	}),
	"ListDeploymentTargets": op(func(a platform.CodeDeployAPI, ctx context.Context, in *codedeploy.ListDeploymentTargetsInput) (*codedeploy.ListDeploymentTargetsOutput, error) {
		return a.ListDeploymentTargets(ctx, in)
	}),
	"BatchGetDeploymentTargets": op(func(a platform.CodeDeployAPI, ctx context.Context, in *codedeploy.BatchGetDeploymentTargetsInput) (*codedeploy.BatchGetDeploymentTargetsOutput, error) {
		return a.BatchGetDeploymentTargets(ctx, in)
	}),
	"ListDeployments": op(func(a platform.CodeDeployAPI, ctx context.Context, in *codedeploy.ListDeploymentsInput) (*codedeploy.ListDeploymentsOutput, error) {
		return a.ListDeployments(ctx, in)
	}),
	"BatchGetDeployments": op(func(a platform.CodeDeployAPI, ctx context.Context, in *codedeploy.BatchGetDeploymentsInput) (*codedeploy.BatchGetDeploymentsOutput, error) {
		return a.BatchGetDeployments(ctx, in)
	}),
	"GetDeploymentGroup": opOf("GetDeploymentGroup", func(a groupGetter, ctx context.Context, in *codedeploy.GetDeploymentGroupInput) (*codedeploy.GetDeploymentGroupOutput, error) {
		return a.GetDeploymentGroup(ctx, in)
	}),
	"BatchGetDeploymentGroups": opOf("BatchGetDeploymentGroups", func(a groupsGetter, ctx context.Context, in *codedeploy.BatchGetDeploymentGroupsInput) (*codedeploy.BatchGetDeploymentGroupsOutput, error) {
		return a.BatchGetDeploymentGroups(ctx, in)
	}),
	"GetDeploymentConfig": opOf("GetDeploymentConfig", func(a configGetter, ctx context.Context, in *codedeploy.GetDeploymentConfigInput) (*codedeploy.GetDeploymentConfigOutput, error) {
		return a.GetDeploymentConfig(ctx, in)
	}),
	"CreateDeploymentConfig": opOf("CreateDeploymentConfig", func(a configCreator, ctx context.Context, in *codedeploy.CreateDeploymentConfigInput) (*codedeploy.CreateDeploymentConfigOutput, error) {
		return a.CreateDeploymentConfig(ctx, in)
	}),
	"CreateDeploymentGroup": opOf("CreateDeploymentGroup", func(a groupCreator, ctx context.Context, in *codedeploy.CreateDeploymentGroupInput) (*codedeploy.CreateDeploymentGroupOutput, error) {
		return a.CreateDeploymentGroup(ctx, in)
	}),
	"ListOnPremisesInstances": opOf("ListOnPremisesInstances", func(a onPremLister, ctx context.Context, in *codedeploy.ListOnPremisesInstancesInput) (*codedeploy.ListOnPremisesInstancesOutput, error) {
		return a.ListOnPremisesInstances(ctx, in)
	}),
}

// Operations returns the names of the operations the server implements.
func Operations() []string {
	names := make([]string, 0, len(operations))
	for n := range operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler returns an http.Handler that answers CodeDeploy awsJson1.1 calls
// from api. Server uses it with a codedeployfake.Fake; any
// platform.CodeDeployAPI works. It panics if api is nil.
func Handler(api platform.CodeDeployAPI) http.Handler {
	if api == nil {
		panic("codedeployserver: Handler with a nil API")
	}
	return &handler{api: api}
}

type handler struct {
	api platform.CodeDeployAPI
	seq atomic.Int64
}

// protocolError is an error the server itself answers with (bad request,
// unknown operation), as opposed to one the API returns.
type protocolError struct {
	status    int
	code, msg string
}

func (e *protocolError) Error() string { return e.code + ": " + e.msg }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", "req-"+strconv.FormatInt(h.seq.Add(1), 10))
	out, err := h.serve(r)
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := encode(out)
	if err != nil {
		writeError(w, &protocolError{status: http.StatusInternalServerError, code: "InternalFailure",
			msg: "encoding the response: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func (h *handler) serve(r *http.Request) (any, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, &protocolError{status: http.StatusNotFound, code: "UnknownOperationException",
			msg: fmt.Sprintf("%s %s is not a CodeDeploy operation", r.Method, r.URL.Path)}
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, TargetPrefix)
	call := operations[name]
	if !ok || call == nil {
		return nil, &protocolError{status: http.StatusBadRequest, code: "UnknownOperationException",
			msg: fmt.Sprintf("unknown operation %q", target)}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, &protocolError{status: http.StatusBadRequest, code: "SerializationException", msg: err.Error()}
	}
	if len(body) > maxBody {
		return nil, &protocolError{status: http.StatusRequestEntityTooLarge, code: "SerializationException",
			msg: "request body too large"}
	}
	return call(r.Context(), h.api, body)
}

// writeError answers err in the awsJson1.1 error shape: the API error code
// in __type and its message, HTTP 400 for client faults and 500 for server
// faults and errors that are not API errors.
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
