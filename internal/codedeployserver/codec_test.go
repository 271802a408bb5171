package codedeployserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/switchyard/switchyard/platform"
)

// filler sets every member of a shape, recursively, to a distinct value,
// so a round trip that drops or renames any member shows up in a
// comparison.
type filler struct{ n int }

func (f *filler) next() int { f.n++; return f.n }

func (f *filler) fill(v reflect.Value, depth int) {
	if depth > 10 {
		return
	}
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Unix(1_700_000_000+int64(f.next()), 250_000_000).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		for _, m := range members(v.Type()) {
			f.fill(v.Field(m.index), depth+1)
		}
	case reflect.Slice:
		if v.Type() == bytesType {
			v.SetBytes([]byte(fmt.Sprintf("blob-%d", f.next())))
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 2; i++ {
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, depth+1)
			m.SetMapIndex(reflect.ValueOf(fmt.Sprintf("k%d", f.next())).Convert(v.Type().Key()), e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", v.Type().Name(), f.next()))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.next()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.next()) + 0.5)
	default:
		panic("filler: cannot fill " + v.Type().String())
	}
}

func filled[T any]() *T {
	v := new(T)
	(&filler{}).fill(reflect.ValueOf(v).Elem(), 0)
	return v
}

// echo is a platform.CodeDeployAPI that records the input of each call and
// answers with a fixed output or error.
type echo struct {
	mu  sync.Mutex
	in  any
	out any
	err error
}

func answer[Out any](e *echo, in any) (*Out, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.in = in
	if e.err != nil {
		return nil, e.err
	}
	return e.out.(*Out), nil
}

func (e *echo) CreateDeployment(_ context.Context, in *codedeploy.CreateDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentOutput, error) {
	return answer[codedeploy.CreateDeploymentOutput](e, in)
}
func (e *echo) GetDeployment(_ context.Context, in *codedeploy.GetDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	return answer[codedeploy.GetDeploymentOutput](e, in)
}
func (e *echo) StopDeployment(_ context.Context, in *codedeploy.StopDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error) {
	return answer[codedeploy.StopDeploymentOutput](e, in)
}
func (e *echo) ContinueDeployment(_ context.Context, in *codedeploy.ContinueDeploymentInput, _ ...func(*codedeploy.Options)) (*codedeploy.ContinueDeploymentOutput, error) {
	return answer[codedeploy.ContinueDeploymentOutput](e, in)
}
func (e *echo) ListDeploymentTargets(_ context.Context, in *codedeploy.ListDeploymentTargetsInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentTargetsOutput, error) {
	return answer[codedeploy.ListDeploymentTargetsOutput](e, in)
}
func (e *echo) BatchGetDeploymentTargets(_ context.Context, in *codedeploy.BatchGetDeploymentTargetsInput, _ ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentTargetsOutput, error) {
	return answer[codedeploy.BatchGetDeploymentTargetsOutput](e, in)
}
func (e *echo) ListDeployments(_ context.Context, in *codedeploy.ListDeploymentsInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error) {
	return answer[codedeploy.ListDeploymentsOutput](e, in)
}
func (e *echo) BatchGetDeployments(_ context.Context, in *codedeploy.BatchGetDeploymentsInput, _ ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentsOutput, error) {
	return answer[codedeploy.BatchGetDeploymentsOutput](e, in)
}

func (e *echo) GetDeploymentGroup(_ context.Context, in *codedeploy.GetDeploymentGroupInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error) {
	return answer[codedeploy.GetDeploymentGroupOutput](e, in)
}

func (e *echo) BatchGetDeploymentGroups(_ context.Context, in *codedeploy.BatchGetDeploymentGroupsInput, _ ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentGroupsOutput, error) {
	return answer[codedeploy.BatchGetDeploymentGroupsOutput](e, in)
}

func (e *echo) GetDeploymentConfig(_ context.Context, in *codedeploy.GetDeploymentConfigInput, _ ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentConfigOutput, error) {
	return answer[codedeploy.GetDeploymentConfigOutput](e, in)
}

func (e *echo) CreateDeploymentConfig(_ context.Context, in *codedeploy.CreateDeploymentConfigInput, _ ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentConfigOutput, error) {
	return answer[codedeploy.CreateDeploymentConfigOutput](e, in)
}

func (e *echo) CreateDeploymentGroup(_ context.Context, in *codedeploy.CreateDeploymentGroupInput, _ ...func(*codedeploy.Options)) (*codedeploy.CreateDeploymentGroupOutput, error) {
	return answer[codedeploy.CreateDeploymentGroupOutput](e, in)
}

func (e *echo) ListOnPremisesInstances(_ context.Context, in *codedeploy.ListOnPremisesInstancesInput, _ ...func(*codedeploy.Options)) (*codedeploy.ListOnPremisesInstancesOutput, error) {
	return answer[codedeploy.ListOnPremisesInstancesOutput](e, in)
}

var _ platform.CodeDeployAPI = (*echo)(nil)

// startEcho serves e and returns the real SDK client for it.
func startEcho(t *testing.T, e *echo) *codedeploy.Client {
	t.Helper()
	s := newServer(Handler(e), nil)
	t.Cleanup(s.Close)
	return s.Client()
}

// roundTrip sends a fully filled input through the real client and the
// server to the echo API, which answers a fully filled output; both must
// arrive intact.
func roundTrip[In, Out any](t *testing.T, call func(*codedeploy.Client, context.Context, *In) (*Out, error)) {
	t.Helper()
	e := &echo{}
	c := startEcho(t, e)
	in, want := filled[In](), filled[Out]()
	e.out = want
	got, err := call(c, context.Background(), in)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if !reflect.DeepEqual(e.in, in) {
		t.Errorf("the server decoded\n%#v\nthe client sent\n%#v", e.in, in)
	}
	reflect.ValueOf(got).Elem().FieldByName("ResultMetadata").Set(reflect.ValueOf(middleware.Metadata{}))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the client decoded\n%#v\nthe server sent\n%#v", got, want)
	}
}

// TestRoundTrip proves the codec's member names, nesting, enums, numbers,
// booleans and timestamps match the SDK's serializers and deserializers
// for every operation the server implements, in both directions.
func TestRoundTrip(t *testing.T) {
	ops := map[string]func(t *testing.T){
		"CreateDeployment": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.CreateDeploymentInput) (*codedeploy.CreateDeploymentOutput, error) {
				return c.CreateDeployment(ctx, in)
			})
		},
		"GetDeployment": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.GetDeploymentInput) (*codedeploy.GetDeploymentOutput, error) {
				return c.GetDeployment(ctx, in)
			})
		},
		"StopDeployment": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.StopDeploymentInput) (*codedeploy.StopDeploymentOutput, error) {
				return c.StopDeployment(ctx, in)
			})
		},
		"ContinueDeployment": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.ContinueDeploymentInput) (*codedeploy.ContinueDeploymentOutput, error) {
				return c.ContinueDeployment(ctx, in)
			})
		},
		"ListDeploymentTargets": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.ListDeploymentTargetsInput) (*codedeploy.ListDeploymentTargetsOutput, error) {
				return c.ListDeploymentTargets(ctx, in)
			})
		},
		"BatchGetDeploymentTargets": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.BatchGetDeploymentTargetsInput) (*codedeploy.BatchGetDeploymentTargetsOutput, error) {
				return c.BatchGetDeploymentTargets(ctx, in)
			})
		},
		"ListDeployments": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.ListDeploymentsInput) (*codedeploy.ListDeploymentsOutput, error) {
				return c.ListDeployments(ctx, in)
			})
		},
		"BatchGetDeployments": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.BatchGetDeploymentsInput) (*codedeploy.BatchGetDeploymentsOutput, error) {
				return c.BatchGetDeployments(ctx, in)
			})
		},
		"GetDeploymentGroup": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.GetDeploymentGroupInput) (*codedeploy.GetDeploymentGroupOutput, error) {
				return c.GetDeploymentGroup(ctx, in)
			})
		},
		"BatchGetDeploymentGroups": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.BatchGetDeploymentGroupsInput) (*codedeploy.BatchGetDeploymentGroupsOutput, error) {
				return c.BatchGetDeploymentGroups(ctx, in)
			})
		},
		"GetDeploymentConfig": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.GetDeploymentConfigInput) (*codedeploy.GetDeploymentConfigOutput, error) {
				return c.GetDeploymentConfig(ctx, in)
			})
		},
		"CreateDeploymentConfig": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.CreateDeploymentConfigInput) (*codedeploy.CreateDeploymentConfigOutput, error) {
				return c.CreateDeploymentConfig(ctx, in)
			})
		},
		"CreateDeploymentGroup": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.CreateDeploymentGroupInput) (*codedeploy.CreateDeploymentGroupOutput, error) {
				return c.CreateDeploymentGroup(ctx, in)
			})
		},
		"ListOnPremisesInstances": func(t *testing.T) {
			roundTrip(t, func(c *codedeploy.Client, ctx context.Context, in *codedeploy.ListOnPremisesInstancesInput) (*codedeploy.ListOnPremisesInstancesOutput, error) {
				return c.ListOnPremisesInstances(ctx, in)
			})
		},
	}
	if got, want := len(ops), len(Operations()); got != want {
		t.Fatalf("round trips for %d operations, the server implements %d: %v", got, want, Operations())
	}
	for _, name := range Operations() {
		f := ops[name]
		if f == nil {
			t.Fatalf("no round trip for %s", name)
		}
		t.Run(name, f)
	}
}

// TestZeroAndAbsent proves absent members stay absent and present zero
// values survive: a nil pointer is not sent, a pointer to false is.
func TestZeroAndAbsent(t *testing.T) {
	e := &echo{out: &codedeploy.StopDeploymentOutput{}}
	c := startEcho(t, e)
	if _, err := c.StopDeployment(context.Background(), &codedeploy.StopDeploymentInput{
		DeploymentId: aws.String("d-1"), AutoRollbackEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	got := e.in.(*codedeploy.StopDeploymentInput)
	if got.AutoRollbackEnabled == nil || *got.AutoRollbackEnabled {
		t.Fatalf("AutoRollbackEnabled = %v, want a pointer to false", got.AutoRollbackEnabled)
	}
	if _, err := c.StopDeployment(context.Background(), &codedeploy.StopDeploymentInput{DeploymentId: aws.String("d-1")}); err != nil {
		t.Fatal(err)
	}
	if got := e.in.(*codedeploy.StopDeploymentInput); got.AutoRollbackEnabled != nil {
		t.Fatalf("AutoRollbackEnabled = %v, want nil", *got.AutoRollbackEnabled)
	}
}

func TestCodecNonFiniteAndErrors(t *testing.T) {
	for _, f := range []float64{math.Inf(1), math.Inf(-1), 0.125} {
		b, err := encode(&cdtypes.LambdaFunctionInfo{TargetVersionWeight: f})
		if err != nil {
			t.Fatal(err)
		}
		var got cdtypes.LambdaFunctionInfo
		if err := decode(b, &got); err != nil || got.TargetVersionWeight != f {
			t.Fatalf("%v -> %s -> %v, %v", f, b, got.TargetVersionWeight, err)
		}
	}
	for _, bad := range []string{
		`{"deploymentID": "d-1"}`,        // wrong case
		`{"deploymentId": 7}`,            // wrong type
		`{"deploymentId": "d-1"} {}`,     // trailing document
		`[]`,                             // not an object
		`{"autoRollbackEnabled": "yes"}`, // string for a boolean
	} {
		if err := decode([]byte(bad), &codedeploy.StopDeploymentInput{}); err == nil {
			t.Errorf("decode(%s) succeeded", bad)
		}
	}
	if err := decode([]byte(`{"createTimeRange": {"start": "yesterday"}}`), &codedeploy.ListDeploymentsInput{}); err == nil {
		t.Error("a string timestamp decoded")
	}
}

// TestErrors proves API errors reach the client as the SDK's typed
// exceptions (client faults) or generic API errors with their code, and
// that the server's own refusals are well-formed.
func TestErrors(t *testing.T) {
	e := &echo{}
	c := startEcho(t, e)
	ctx := context.Background()

	e.err = &cdtypes.DeploymentLimitExceededException{Message: aws.String("busy")}
	_, err := c.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("a")})
	var limit *cdtypes.DeploymentLimitExceededException
	if !errors.As(err, &limit) || limit.ErrorMessage() != "busy" {
		t.Fatalf("CreateDeployment error = %v, want DeploymentLimitExceededException busy", err)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Fatalf("status of %v is not 400", err)
	}

	e.err = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	_, err = c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-1")})
	if platform.Classify(err) != platform.ClassThrottling {
		t.Fatalf("Classify(%v) = %v, want throttling", err, platform.Classify(err))
	}

	e.err = errors.New("disk on fire")
	_, err = c.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String("d-1")})
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError ||
		!strings.Contains(err.Error(), "disk on fire") || platform.Classify(err) != platform.ClassRetryable {
		t.Fatalf("plain error = %v, want a retryable 500 saying disk on fire", err)
	}
}

// TestUnknownOperation calls an operation the server does not implement
// with the real client and with a raw request.
func TestUnknownOperation(t *testing.T) {
	c := startEcho(t, &echo{})
	_, err := c.ListApplications(context.Background(), &codedeploy.ListApplicationsInput{})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "UnknownOperationException" {
		t.Fatalf("ListApplications error = %v, want UnknownOperationException", err)
	}
}

func TestEncodeStrings(t *testing.T) {
	for _, s := range []string{"plain", `quote " and \ backslash`, "new\nline\ttab\r", "\x00\x01\x1f ctl",
		"unicode é ✓ 🚀", "line\u2028sep", "bad \xff utf8"} {
		b, err := encode(&cdtypes.ErrorInformation{Message: aws.String(s)})
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Fatalf("%q encoded as invalid JSON %s", s, b)
		}
		var std struct{ Message string }
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatal(err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if std.Message != want {
			t.Fatalf("%q -> %s -> %q", s, b, std.Message)
		}
		var got cdtypes.ErrorInformation
		if err := decode(b, &got); err != nil || aws.ToString(got.Message) != want {
			t.Fatalf("decode(%s) = %q, %v", b, aws.ToString(got.Message), err)
		}
	}
}
