// Package faultinject is an HTTP client that injects the failures AWS
// and the network produce (throttling, 5xx, connection resets, timeouts,
// latency, malformed bodies, answers lost after the call took effect)
// under the AWS SDK, so the whole SDK stack
// (retries, error decoding) and the drivers above it run against them.
//
// Use a Transport as an aws.Config's HTTPClient:
//
//	ft := faultinject.New(cfg.HTTPClient, faultinject.Rule{
//		Operations: []string{"UpdateService"},
//		Fault:      faultinject.Fault{Kind: faultinject.Throttle},
//		Times:      2,
//	})
//	cfg.HTTPClient = ft
//	client := ecs.NewFromConfig(cfg)
//
// Each request is matched to an operation: the SDK's operation name and
// service ID from the request's context when the SDK sent it, else the
// X-Amz-Target header (JSON protocols), the Action form field (query
// protocols), or "METHOD PATH" (REST protocols). The first rule whose
// filter and schedule select the call decides its fault; a call no rule
// selects goes to the next client unchanged. Errors are shaped as the
// service's protocol shapes them (awsJson __type, restJson
// X-Amzn-ErrorType, awsQuery and EC2 XML, rpc-v2-cbor), so the SDK decodes
// them into the same API errors a real endpoint gives.
//
// A Transport is safe for concurrent use. It never sleeps on its own:
// Latency waits through Options.Wait, which tests replace.
package faultinject

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
)

// Kind is a kind of injected fault.
type Kind int

const (
	// None lets the call through unchanged.
	None Kind = iota
	// Throttle answers with the service's throttling error
	// (ThrottlingException, TooManyRequestsException for Lambda,
	// Throttling for query services, RequestLimitExceeded for EC2); the
	// call never reaches the server.
	Throttle
	// ServerError answers HTTP 500 InternalFailure; the call never reaches
	// the server.
	ServerError
	// Unavailable answers HTTP 503 ServiceUnavailable; the call never
	// reaches the server.
	Unavailable
	// Reset fails the call with a connection reset (ECONNRESET); the call
	// never reaches the server.
	Reset
	// Timeout fails the call with a network timeout (a net.Error whose
	// Timeout is true); the call never reaches the server.
	Timeout
	// Latency waits Fault.Latency (through Options.Wait) and then sends the
	// call on.
	Latency
	// Malformed sends the call on, so it takes effect, and replaces the
	// response body with truncated, undecodable bytes: the outcome of the
	// call is unknown to the caller.
	Malformed
	// Lost sends the call on, so it takes effect, then drops the response
	// and fails the call with a network timeout, as when an answer never
	// arrives: the outcome is unknown to the caller, and the SDK retries
	// the call (a mutation that is not idempotent then runs twice, or is
	// refused the second time because the first took effect).
	Lost
)

// String names the kind in lower case, such as "throttle".
func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Throttle:
		return "throttle"
	case ServerError:
		return "500"
	case Unavailable:
		return "503"
	case Reset:
		return "reset"
	case Timeout:
		return "timeout"
	case Latency:
		return "latency"
	case Malformed:
		return "malformed"
	case Lost:
		return "lost"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Kinds lists every fault kind but None, in order.
func Kinds() []Kind {
	return []Kind{Throttle, ServerError, Unavailable, Reset, Timeout, Latency, Malformed, Lost}
}

// Fault is what a selected call gets.
type Fault struct {
	// Kind of fault.
	Kind Kind
	// Latency is the added delay of a Latency fault.
	Latency time.Duration
}

// Calls selects which calls a Rule applies to, by kind of operation.
type Calls int

const (
	// AnyCall selects reads and mutations alike.
	AnyCall Calls = iota
	// Reads selects only operations that change nothing (Get, List,
	// Describe, BatchGet ...).
	Reads
	// Mutations selects only operations that may change something.
	Mutations
)

// Rule selects calls and the fault they get. Its filter (Service,
// Operations, Calls) picks the calls it counts; its schedule (Nth, After,
// Times, Probability) picks which of those fault. The zero schedule
// faults every call the filter picks. Each rule counts every call its
// filter picks, even one an earlier rule faulted; the first rule that
// selects a call gives its fault.
type Rule struct {
	// Service, when set, is the SDK service ID the rule applies to, such
	// as "ECS", "Lambda", "CloudWatch" or "CodeDeploy" (case-insensitive).
	Service string
	// Operations, when not empty, are the operation names the rule applies
	// to, such as "UpdateService" (case-insensitive).
	Operations []string
	// Calls narrows the rule to reads or mutations.
	Calls Calls
	// Fault is what the selected calls get.
	Fault Fault
	// Nth, when not empty, lists the 1-based positions, among the calls
	// the filter picks, that fault; others pass.
	Nth []int
	// After lets the first After calls the filter picks pass.
	After int
	// Times, when positive, is the most calls this rule faults.
	Times int
	// Probability, when in (0, 1), faults each picked call with that
	// chance, drawn from the Transport's seeded source. 0 means always.
	Probability float64
}

// Options configure a Transport. The zero value means every default.
type Options struct {
	// Seed seeds the source that Rule.Probability draws from: the same
	// seed and the same calls give the same faults. Default 1.
	Seed uint64
	// Wait waits d for a Latency fault, or returns ctx's error first.
	// Default: a timer that ctx cancels.
	Wait func(ctx context.Context, d time.Duration) error
}

// Doer is what the Transport sends passing calls to: an aws.HTTPClient,
// such as *http.Client.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Call is one call the Transport saw.
type Call struct {
	// Service is the SDK service ID, or the X-Amz-Target prefix, or "".
	Service string
	// Operation is the operation name, or "METHOD PATH" when unknown.
	Operation string
	// Mutating reports whether the operation may change something.
	Mutating bool
	// Fault is the fault injected, None when the call passed.
	Fault Kind
}

// Transport is an aws.HTTPClient and an http.RoundTripper that injects
// faults. Create it with New.
type Transport struct {
	next  Doer
	rules []Rule
	wait  func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	rng     *rand.Rand
	matched []int // per rule: calls its filter picked
	faulted []int // per rule: calls it faulted
	calls   []Call
}

// New returns a Transport that sends passing calls to next (nil means
// http.DefaultClient) and faults the calls rules select.
func New(next Doer, rules ...Rule) *Transport {
	return NewWithOptions(next, Options{}, rules...)
}

// NewWithOptions is New with options.
func NewWithOptions(next Doer, o Options, rules ...Rule) *Transport {
	if next == nil {
		next = http.DefaultClient
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Wait == nil {
		o.Wait = timerWait
	}
	return &Transport{next: next, rules: append([]Rule(nil), rules...), wait: o.Wait,
		rng:     rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		matched: make([]int, len(rules)), faulted: make([]int, len(rules))}
}

func timerWait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Calls returns every call seen so far, in order.
func (t *Transport) Calls() []Call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Call(nil), t.calls...)
}

// Injected returns the calls that got a fault, in order.
func (t *Transport) Injected() []Call {
	var out []Call
	for _, c := range t.Calls() {
		if c.Fault != None {
			out = append(out, c)
		}
	}
	return out
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) { return t.Do(req) }

// Do implements aws.HTTPClient.
func (t *Transport) Do(req *http.Request) (*http.Response, error) {
	service, op, proto, err := identify(req)
	if err != nil {
		return nil, err
	}
	mutating := IsMutating(op)
	f := t.choose(service, op, mutating)
	t.mu.Lock()
	t.calls = append(t.calls, Call{Service: service, Operation: op, Mutating: mutating, Fault: f.Kind})
	t.mu.Unlock()
	switch f.Kind {
	case Throttle:
		return errorResponse(req, proto, service, 0), nil
	case ServerError:
		return errorResponse(req, proto, service, http.StatusInternalServerError), nil
	case Unavailable:
		return errorResponse(req, proto, service, http.StatusServiceUnavailable), nil
	case Reset:
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(),
			Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	case Timeout:
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(),
			Err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}}
	case Latency:
		if err := t.wait(req.Context(), f.Latency); err != nil {
			return nil, &url.Error{Op: req.Method, URL: req.URL.String(), Err: err}
		}
	}
	resp, err := t.next.Do(req)
	if err == nil && f.Kind == Lost {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(),
			Err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}}
	}
	if err != nil || f.Kind != Malformed {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(malform(body)))
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	return resp, nil
}

// choose applies the rules to one call and counts it.
func (t *Transport) choose(service, op string, mutating bool) Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	chosen := Fault{}
	found := false
	for i, r := range t.rules {
		// Every rule counts every call its filter picks, so a rule's Nth
		// and After do not depend on the rules before it.
		if !r.picks(service, op, mutating) {
			continue
		}
		t.matched[i]++
		n := t.matched[i]
		if found || n <= r.After || (r.Times > 0 && t.faulted[i] >= r.Times) {
			continue
		}
		if len(r.Nth) > 0 && !contains(r.Nth, n) {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && t.rng.Float64() >= r.Probability {
			continue
		}
		t.faulted[i]++
		chosen, found = r.Fault, true
	}
	return chosen
}

func contains(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}

func (r Rule) picks(service, op string, mutating bool) bool {
	if r.Service != "" && !strings.EqualFold(r.Service, service) {
		return false
	}
	if len(r.Operations) > 0 {
		ok := false
		for _, o := range r.Operations {
			ok = ok || strings.EqualFold(o, op)
		}
		if !ok {
			return false
		}
	}
	switch r.Calls {
	case Reads:
		return !mutating
	case Mutations:
		return mutating
	}
	return true
}

// IsMutating reports whether an operation name may change something: it
// is not a Get, List, Describe, BatchGet, Head, Query or Scan.
func IsMutating(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "BatchGet", "Head", "Query", "Scan", "GET ", "HEAD "} {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}

// protocol is how a service shapes its errors.
type protocol int

const (
	protoJSON  protocol = iota // awsJson 1.0/1.1: __type in the body
	protoREST                  // restJson: X-Amzn-ErrorType
	protoQuery                 // awsQuery XML
	protoEC2                   // ec2Query XML
	protoCBOR                  // rpc-v2-cbor
)

// identify names the call's service and operation and its protocol. It
// reads a form body (and puts it back) to find a query protocol's Action.
func identify(req *http.Request) (service, op string, proto protocol, err error) {
	ctx := req.Context()
	service, op = awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	target := req.Header.Get("X-Amz-Target")
	ct := req.Header.Get("Content-Type")
	switch {
	case target != "":
		proto = protoJSON
		if op == "" {
			prefix, name, _ := strings.Cut(target, ".")
			service, op = prefix, name
		}
	case req.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" || strings.HasPrefix(ct, "application/cbor"):
		proto = protoCBOR
		if op == "" {
			op = req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
		}
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		proto = protoQuery
		if req.Body != nil && req.Body != http.NoBody {
			b, rerr := io.ReadAll(req.Body)
			_ = req.Body.Close()
			if rerr != nil {
				return "", "", 0, rerr
			}
			req.Body = io.NopCloser(bytes.NewReader(b))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
			if v, perr := url.ParseQuery(string(b)); perr == nil {
				if op == "" {
					op = v.Get("Action")
				}
				if v.Get("Version") == "2016-11-15" {
					proto = protoEC2
				}
			}
		}
	default:
		proto = protoREST
	}
	if strings.EqualFold(service, "EC2") {
		proto = protoEC2
	}
	if op == "" {
		op = req.Method + " " + req.URL.Path
	}
	return service, op, proto, nil
}

// throttleCode is the code a service throttles with.
func throttleCode(service string, proto protocol) string {
	switch {
	case proto == protoEC2:
		return "RequestLimitExceeded"
	case strings.EqualFold(service, "Lambda"):
		return "TooManyRequestsException"
	case proto == protoQuery:
		return "Throttling"
	}
	return "ThrottlingException"
}

// errorResponse answers req with a throttling error (status 0) or a 5xx,
// in the protocol's shape.
func errorResponse(req *http.Request, proto protocol, service string, status int) *http.Response {
	code, msg := throttleCode(service, proto), "Rate exceeded"
	switch status {
	case 0:
		status = http.StatusBadRequest
		if proto == protoREST {
			status = http.StatusTooManyRequests
		}
	case http.StatusServiceUnavailable:
		code, msg = "ServiceUnavailable", "Service is unavailable (injected)"
	default:
		code, msg = "InternalFailure", "Internal failure (injected)"
	}
	h := http.Header{}
	h.Set("X-Amzn-Requestid", "faultinject")
	var body []byte
	switch proto {
	case protoJSON:
		h.Set("Content-Type", "application/x-amz-json-1.1")
		body = fmt.Appendf(nil, `{"__type":%q,"message":%q}`, code, msg)
	case protoREST:
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Errortype", code)
		body = fmt.Appendf(nil, `{"Type":"User","message":%q}`, msg)
	case protoQuery:
		h.Set("Content-Type", "text/xml")
		body = fmt.Appendf(nil, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>faultinject</RequestId></ErrorResponse>`, code, msg)
	case protoEC2:
		h.Set("Content-Type", "text/xml")
		body = fmt.Appendf(nil, `<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>faultinject</RequestID></Response>`, code, msg)
	case protoCBOR:
		h.Set("Content-Type", "application/cbor")
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		body = cborMap(map2{"__type", code}, map2{"message", msg})
	}
	return &http.Response{Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Request: req,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
}

type map2 struct{ k, v string }

// cborMap encodes a map of text strings in CBOR (RFC 8949).
func cborMap(pairs ...map2) []byte {
	out := []byte{0xa0 | byte(len(pairs))}
	for _, p := range pairs {
		out = cborText(out, p.k)
		out = cborText(out, p.v)
	}
	return out
}

func cborText(out []byte, s string) []byte {
	switch n := len(s); {
	case n < 24:
		out = append(out, 0x60|byte(n))
	case n < 256:
		out = append(out, 0x78, byte(n))
	default:
		out = append(out, 0x79, byte(n>>8), byte(n))
	}
	return append(out, s...)
}

// malform returns bytes no protocol decodes: the first half of body with
// a stray byte, or garbage when body is empty.
func malform(body []byte) []byte {
	if len(body) < 2 {
		return []byte("{\x00<")
	}
	return append(append([]byte(nil), body[:len(body)/2]...), 0xff, '<', '{')
}
