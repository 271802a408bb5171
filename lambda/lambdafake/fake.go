// Package lambdafake is an in-memory Lambda API for tests of the lambda
// driver: functions, published versions, weighted aliases and synchronous
// invocations, with a record of every alias update and a count of mutating
// calls. It follows the real service where the driver depends on it:
// UpdateAlias with a nil RoutingConfig keeps the weights, PublishVersion of
// unchanged code returns the existing version, updates go through
// LastUpdateStatus InProgress, and busy functions answer
// ResourceConflictException.
package lambdafake

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// AliasUpdate is one successful UpdateAlias call as the alias looked after it.
type AliasUpdate struct {
	Function string
	Alias    string
	// Version is the alias's primary version.
	Version string
	// Weights is the alias's AdditionalVersionWeights after the call (nil
	// when there are none).
	Weights map[string]float64
}

// Single reports whether the alias pointed at one version with no weights.
func (u AliasUpdate) Single() bool { return len(u.Weights) == 0 }

// Call is one API call the fake answered.
type Call struct {
	Op       string
	Function string
	Mutating bool
}

// InvokeFunc answers Invoke for one function. It returns the payload and
// the FunctionError ("" for success).
type InvokeFunc func(ctx context.Context, payload []byte) (out []byte, functionError string, err error)

type function struct {
	name     string
	latest   types.FunctionConfiguration
	code     string // sha256 of $LATEST
	versions map[string]types.FunctionConfiguration
	order    []string
	next     int
	aliases  map[string]*types.AliasConfiguration
	busy     int // GetFunctionConfiguration calls that still report InProgress
	aliasRev int
	rev      int // $LATEST's revision: every code or configuration change bumps it
}

// revisionID is $LATEST's RevisionId.
func (f *function) revisionID() *string { return aws.String("fn-" + strconv.Itoa(f.rev)) }

// stale refuses an update whose RevisionId is not $LATEST's, as Lambda does.
func (f *function) stale(rev *string) error {
	if rev != nil && aws.ToString(rev) != aws.ToString(f.revisionID()) {
		return &types.PreconditionFailedException{Message: aws.String("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")}
	}
	return nil
}

// Client is the fake. Its zero value is not usable; call New.
type Client struct {
	mu        sync.Mutex
	region    string
	account   string
	functions map[string]*function
	updates   []AliasUpdate
	calls     []Call
	mutations int
	invokers  map[string]InvokeFunc

	// UpdateDelay is how many GetFunctionConfiguration calls report
	// LastUpdateStatus InProgress after each code or configuration update.
	UpdateDelay int
	conflicts   int
	failNext    map[string]error
	readOnly    bool
}

// New returns an empty fake in us-east-1 for account 123456789012.
func New() *Client {
	return &Client{region: "us-east-1", account: "123456789012",
		functions: map[string]*function{}, invokers: map[string]InvokeFunc{},
		failNext: map[string]error{}}
}

// AddFunction creates a function whose $LATEST runs code, and publishes
// versions 1..versions of it (each with distinct code). It returns the
// function's ARN.
func (c *Client) AddFunction(name string, versions int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := &function{name: name, versions: map[string]types.FunctionConfiguration{},
		aliases: map[string]*types.AliasConfiguration{}, next: 1}
	f.latest = types.FunctionConfiguration{
		FunctionName:     aws.String(name),
		FunctionArn:      aws.String(c.arn(name, "")),
		Version:          aws.String("$LATEST"),
		Runtime:          types.RuntimePython312,
		Handler:          aws.String("index.handler"),
		MemorySize:       aws.Int32(128),
		Timeout:          aws.Int32(3),
		State:            types.StateActive,
		LastUpdateStatus: types.LastUpdateStatusSuccessful,
	}
	c.functions[name] = f
	for i := 1; i <= versions; i++ {
		f.setCode(fmt.Appendf(nil, "%s code %d", name, i))
		c.publish(f, "")
	}
	return c.arn(name, "")
}

// Publish sets $LATEST's code and publishes it as a new version, out of
// band: the call is not recorded or counted. It returns the version.
func (c *Client) Publish(fn string, code []byte) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.functions[fn]
	f.setCode(code)
	return aws.ToString(c.publish(f, "").Version)
}

// AddAlias creates alias name on function fn pointing at version, with
// optional additional weights.
func (c *Client) AddAlias(fn, name, version string, weights map[string]float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.functions[fn]
	a := &types.AliasConfiguration{Name: aws.String(name), FunctionVersion: aws.String(version),
		AliasArn: aws.String(c.arn(fn, name))}
	if len(weights) > 0 {
		a.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: maps.Clone(weights)}
	}
	f.aliasRev++
	a.RevisionId = aws.String(strconv.Itoa(f.aliasRev))
	f.aliases[name] = a
}

// SetInvoke sets how Invoke answers for function fn.
func (c *Client) SetInvoke(fn string, h InvokeFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invokers[fn] = h
}

// ConflictNext makes the next n mutating calls fail with
// ResourceConflictException.
func (c *Client) ConflictNext(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conflicts = n
}

// FailNext makes the next call of operation op fail with err.
func (c *Client) FailNext(op string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failNext[op] = err
}

// ReadOnly makes every mutating call fail (and still count), for proving
// that a dry run changes nothing.
func (c *Client) ReadOnly(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readOnly = on
}

// AliasUpdates returns every successful UpdateAlias, oldest first.
func (c *Client) AliasUpdates() []AliasUpdate {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]AliasUpdate, len(c.updates))
	for i, u := range c.updates {
		u.Weights = maps.Clone(u.Weights)
		out[i] = u
	}
	return out
}

// Mutations returns how many mutating calls were made, failed ones included.
func (c *Client) Mutations() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mutations
}

// Calls returns every call answered, oldest first.
func (c *Client) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// Alias returns the alias's primary version and weights now.
func (c *Client) Alias(fn, name string) (version string, weights map[string]float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.functions[fn]
	if !ok || f.aliases[name] == nil {
		return "", nil
	}
	a := f.aliases[name]
	if a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
		weights = maps.Clone(a.RoutingConfig.AdditionalVersionWeights)
	}
	return aws.ToString(a.FunctionVersion), weights
}

// Versions returns the function's published version numbers, oldest first.
func (c *Client) Versions(fn string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.functions[fn]; ok {
		return append([]string(nil), f.order...)
	}
	return nil
}

func (c *Client) arn(fn, qualifier string) string {
	a := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.region, c.account, fn)
	if qualifier != "" {
		a += ":" + qualifier
	}
	return a
}

func (f *function) setCode(zip []byte) {
	sum := sha256.Sum256(zip)
	f.code = base64.StdEncoding.EncodeToString(sum[:])
	f.latest.CodeSha256 = aws.String(f.code)
	f.latest.CodeSize = int64(len(zip))
}

func (c *Client) publish(f *function, desc string) types.FunctionConfiguration {
	// Like the service: publishing unchanged code and configuration returns
	// the newest version.
	if n := len(f.order); n > 0 {
		last := f.versions[f.order[n-1]]
		if aws.ToString(last.CodeSha256) == f.code && sameConfig(last, f.latest) {
			return last
		}
	}
	v := strconv.Itoa(f.next)
	f.next++
	cfg := f.latest
	cfg.Version = aws.String(v)
	cfg.FunctionArn = aws.String(c.arn(f.name, v))
	cfg.Description = aws.String(desc)
	cfg.LastUpdateStatus = types.LastUpdateStatusSuccessful
	cfg.State = types.StateActive
	f.versions[v] = cfg
	f.order = append(f.order, v)
	return cfg
}

func sameConfig(a, b types.FunctionConfiguration) bool {
	return aws.ToString(a.Handler) == aws.ToString(b.Handler) && a.Runtime == b.Runtime &&
		aws.ToInt32(a.MemorySize) == aws.ToInt32(b.MemorySize) && aws.ToInt32(a.Timeout) == aws.ToInt32(b.Timeout) &&
		envString(a) == envString(b)
}

func envString(c types.FunctionConfiguration) string {
	if c.Environment == nil {
		return ""
	}
	return fmt.Sprint(c.Environment.Variables)
}

// splitName accepts a name, an ARN or a partial ARN with an optional qualifier.
func splitName(name string) (fn, qualifier string) {
	if i := strings.Index(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	fn, qualifier, _ = strings.Cut(name, ":")
	return fn, qualifier
}

// begin records a call and applies injected failures. It must be called
// with c.mu held.
func (c *Client) begin(op, fn string, mutating bool) error {
	c.calls = append(c.calls, Call{Op: op, Function: fn, Mutating: mutating})
	if err, ok := c.failNext[op]; ok {
		delete(c.failNext, op)
		if mutating {
			c.mutations++
		}
		return err
	}
	if !mutating {
		return nil
	}
	c.mutations++
	if c.readOnly {
		return fmt.Errorf("lambdafake: mutating call %s on %s in read-only mode", op, fn)
	}
	if c.conflicts > 0 {
		c.conflicts--
		return &types.ResourceConflictException{Message: aws.String("The operation cannot be performed at this time. An update is in progress for resource: " + fn)}
	}
	return nil
}

func (c *Client) lookup(fn string) (*function, error) {
	f, ok := c.functions[fn]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Function not found: " + c.arn(fn, ""))}
	}
	return f, nil
}

// GetFunctionConfiguration returns $LATEST, a version, or the version an
// alias points at.
func (c *Client) GetFunctionConfiguration(ctx context.Context, in *awslambda.GetFunctionConfigurationInput, _ ...func(*awslambda.Options)) (*awslambda.GetFunctionConfigurationOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn, q := splitName(aws.ToString(in.FunctionName))
	if in.Qualifier != nil {
		q = *in.Qualifier
	}
	if err := c.begin("GetFunctionConfiguration", fn, false); err != nil {
		return nil, err
	}
	f, err := c.lookup(fn)
	if err != nil {
		return nil, err
	}
	var cfg types.FunctionConfiguration
	switch {
	case q == "" || q == "$LATEST":
		cfg = f.latest
		if f.busy > 0 {
			f.busy--
			cfg.LastUpdateStatus = types.LastUpdateStatusInProgress
		}
	case f.aliases[q] != nil:
		cfg = f.versions[aws.ToString(f.aliases[q].FunctionVersion)]
	default:
		v, ok := f.versions[q]
		if !ok {
			return nil, &types.ResourceNotFoundException{Message: aws.String("Function not found: " + c.arn(fn, q))}
		}
		cfg = v
	}
	out := &awslambda.GetFunctionConfigurationOutput{FunctionName: cfg.FunctionName, FunctionArn: cfg.FunctionArn, Version: cfg.Version, Runtime: cfg.Runtime, Handler: cfg.Handler, MemorySize: cfg.MemorySize, Timeout: cfg.Timeout, State: cfg.State, LastUpdateStatus: cfg.LastUpdateStatus, LastUpdateStatusReason: cfg.LastUpdateStatusReason, CodeSha256: cfg.CodeSha256, CodeSize: cfg.CodeSize, Description: cfg.Description, Environment: cfg.Environment, Role: cfg.Role,
		Architectures: cfg.Architectures, EphemeralStorage: cfg.EphemeralStorage, TracingConfig: cfg.TracingConfig, VpcConfig: cfg.VpcConfig,
		LoggingConfig: cfg.LoggingConfig, KMSKeyArn: cfg.KMSKeyArn, DeadLetterConfig: cfg.DeadLetterConfig, PackageType: cfg.PackageType}
	if q == "" || q == "$LATEST" {
		out.RevisionId = f.revisionID()
	}
	return out, nil
}

// GetAlias returns an alias.
func (c *Client) GetAlias(ctx context.Context, in *awslambda.GetAliasInput, _ ...func(*awslambda.Options)) (*awslambda.GetAliasOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn, _ := splitName(aws.ToString(in.FunctionName))
	if err := c.begin("GetAlias", fn, false); err != nil {
		return nil, err
	}
	f, err := c.lookup(fn)
	if err != nil {
		return nil, err
	}
	a, ok := f.aliases[aws.ToString(in.Name)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Alias not found: " + c.arn(fn, aws.ToString(in.Name)))}
	}
	out := &awslambda.GetAliasOutput{AliasArn: a.AliasArn, Name: a.Name, FunctionVersion: a.FunctionVersion,
		Description: a.Description, RevisionId: a.RevisionId}
	if a.RoutingConfig != nil {
		out.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: maps.Clone(a.RoutingConfig.AdditionalVersionWeights)}
	}
	return out, nil
}

// UpdateFunctionCode replaces $LATEST's code and publishes a version when
// asked. Only ZipFile changes the code hash; S3 and image sources hash
// their coordinates.
func (c *Client) UpdateFunctionCode(ctx context.Context, in *awslambda.UpdateFunctionCodeInput, _ ...func(*awslambda.Options)) (*awslambda.UpdateFunctionCodeOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn, _ := splitName(aws.ToString(in.FunctionName))
	if err := c.begin("UpdateFunctionCode", fn, true); err != nil {
		return nil, err
	}
	f, err := c.lookup(fn)
	if err != nil {
		return nil, err
	}
	if f.busy > 0 {
		return nil, &types.ResourceConflictException{Message: aws.String("An update is in progress for resource: " + c.arn(fn, ""))}
	}
	if err := f.stale(in.RevisionId); err != nil {
		return nil, err
	}
	f.rev++
	if in.Architectures != nil {
		f.latest.Architectures = in.Architectures
	}
	switch {
	case in.ZipFile != nil:
		f.setCode(in.ZipFile)
	case in.S3Bucket != nil:
		f.setCode([]byte("s3://" + aws.ToString(in.S3Bucket) + "/" + aws.ToString(in.S3Key) + "?" + aws.ToString(in.S3ObjectVersion)))
	case in.ImageUri != nil:
		f.setCode([]byte(aws.ToString(in.ImageUri)))
	default:
		return nil, &types.InvalidParameterValueException{Message: aws.String("Please provide a source for function code.")}
	}
	cfg := f.latest
	if in.Publish {
		cfg = c.publish(f, "")
	}
	f.busy = c.UpdateDelay
	out := awslambda.UpdateFunctionCodeOutput{FunctionName: cfg.FunctionName, FunctionArn: cfg.FunctionArn, Version: cfg.Version, Runtime: cfg.Runtime, Handler: cfg.Handler, MemorySize: cfg.MemorySize, Timeout: cfg.Timeout, State: cfg.State, LastUpdateStatus: cfg.LastUpdateStatus, LastUpdateStatusReason: cfg.LastUpdateStatusReason, CodeSha256: cfg.CodeSha256, CodeSize: cfg.CodeSize, Description: cfg.Description, Environment: cfg.Environment, Role: cfg.Role}
	if c.UpdateDelay > 0 {
		out.LastUpdateStatus = types.LastUpdateStatusInProgress
	}
	return &out, nil
}

// UpdateFunctionConfiguration changes $LATEST's handler, runtime, memory,
// timeout, description and environment, ephemeral storage, tracing, VPC,
// logging, KMS key and dead-letter configuration.
func (c *Client) UpdateFunctionConfiguration(ctx context.Context, in *awslambda.UpdateFunctionConfigurationInput, _ ...func(*awslambda.Options)) (*awslambda.UpdateFunctionConfigurationOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn, _ := splitName(aws.ToString(in.FunctionName))
	if err := c.begin("UpdateFunctionConfiguration", fn, true); err != nil {
		return nil, err
	}
	f, err := c.lookup(fn)
	if err != nil {
		return nil, err
	}
	if f.busy > 0 {
		return nil, &types.ResourceConflictException{Message: aws.String("An update is in progress for resource: " + c.arn(fn, ""))}
	}
	if err := f.stale(in.RevisionId); err != nil {
		return nil, err
	}
	f.rev++
	if in.Handler != nil {
		f.latest.Handler = in.Handler
	}
	if in.Runtime != "" {
		f.latest.Runtime = in.Runtime
	}
	if in.MemorySize != nil {
		f.latest.MemorySize = in.MemorySize
	}
	if in.Timeout != nil {
		f.latest.Timeout = in.Timeout
	}
	if in.Description != nil {
		f.latest.Description = in.Description
	}
	if in.Environment != nil {
		f.latest.Environment = &types.EnvironmentResponse{Variables: maps.Clone(in.Environment.Variables)}
	}
	if in.EphemeralStorage != nil {
		f.latest.EphemeralStorage = in.EphemeralStorage
	}
	if in.TracingConfig != nil {
		f.latest.TracingConfig = &types.TracingConfigResponse{Mode: in.TracingConfig.Mode}
	}
	if in.VpcConfig != nil {
		f.latest.VpcConfig = &types.VpcConfigResponse{SubnetIds: in.VpcConfig.SubnetIds, SecurityGroupIds: in.VpcConfig.SecurityGroupIds}
	}
	if in.LoggingConfig != nil {
		f.latest.LoggingConfig = in.LoggingConfig
	}
	if in.KMSKeyArn != nil {
		f.latest.KMSKeyArn = in.KMSKeyArn
	}
	if in.DeadLetterConfig != nil {
		f.latest.DeadLetterConfig = in.DeadLetterConfig
	}
	f.busy = c.UpdateDelay
	return &awslambda.UpdateFunctionConfigurationOutput{FunctionName: f.latest.FunctionName, FunctionArn: f.latest.FunctionArn, Version: f.latest.Version, Runtime: f.latest.Runtime, Handler: f.latest.Handler, MemorySize: f.latest.MemorySize, Timeout: f.latest.Timeout, State: f.latest.State, LastUpdateStatus: f.latest.LastUpdateStatus, LastUpdateStatusReason: f.latest.LastUpdateStatusReason, CodeSha256: f.latest.CodeSha256, CodeSize: f.latest.CodeSize, Description: f.latest.Description, Environment: f.latest.Environment, Role: f.latest.Role}, nil
}

// PublishVersion publishes $LATEST.
func (c *Client) PublishVersion(ctx context.Context, in *awslambda.PublishVersionInput, _ ...func(*awslambda.Options)) (*awslambda.PublishVersionOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn, _ := splitName(aws.ToString(in.FunctionName))
	if err := c.begin("PublishVersion", fn, true); err != nil {
		return nil, err
	}
	f, err := c.lookup(fn)
	if err != nil {
		return nil, err
	}
	if f.busy > 0 {
		return nil, &types.ResourceConflictException{Message: aws.String("An update is in progress for resource: " + c.arn(fn, ""))}
	}
	cfg := c.publish(f, aws.ToString(in.Description))
	return &awslambda.PublishVersionOutput{FunctionName: cfg.FunctionName, FunctionArn: cfg.FunctionArn, Version: cfg.Version, Runtime: cfg.Runtime, Handler: cfg.Handler, MemorySize: cfg.MemorySize, Timeout: cfg.Timeout, State: cfg.State, LastUpdateStatus: cfg.LastUpdateStatus, LastUpdateStatusReason: cfg.LastUpdateStatusReason, CodeSha256: cfg.CodeSha256, CodeSize: cfg.CodeSize, Description: cfg.Description, Environment: cfg.Environment, Role: cfg.Role}, nil
}

// UpdateAlias changes an alias's version and, when RoutingConfig is not nil,
// its weights (an empty map removes them). Like the service it refuses
// weights outside 0..1, $LATEST, unknown versions, more than one additional
// version, and an additional version equal to the primary one.
func (c *Client) UpdateAlias(ctx context.Context, in *awslambda.UpdateAliasInput, _ ...func(*awslambda.Options)) (*awslambda.UpdateAliasOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn, _ := splitName(aws.ToString(in.FunctionName))
	if err := c.begin("UpdateAlias", fn, true); err != nil {
		return nil, err
	}
	f, err := c.lookup(fn)
	if err != nil {
		return nil, err
	}
	a, ok := f.aliases[aws.ToString(in.Name)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Alias not found: " + c.arn(fn, aws.ToString(in.Name)))}
	}
	if in.RevisionId != nil && aws.ToString(in.RevisionId) != aws.ToString(a.RevisionId) {
		return nil, &types.PreconditionFailedException{Message: aws.String("The RevisionId provided does not match the latest RevisionId for the alias.")}
	}
	version := aws.ToString(a.FunctionVersion)
	if in.FunctionVersion != nil {
		version = *in.FunctionVersion
		if _, ok := f.versions[version]; !ok && version != "$LATEST" {
			return nil, &types.ResourceNotFoundException{Message: aws.String("Function not found: " + c.arn(fn, version))}
		}
	}
	var weights map[string]float64
	if a.RoutingConfig != nil {
		weights = a.RoutingConfig.AdditionalVersionWeights
	}
	if in.RoutingConfig != nil {
		weights = in.RoutingConfig.AdditionalVersionWeights
		if len(weights) > 1 {
			return nil, &types.InvalidParameterValueException{Message: aws.String("Number of additional version weights cannot be greater than 1.")}
		}
		for v, w := range weights {
			if !(w >= 0 && w <= 1) {
				return nil, &types.InvalidParameterValueException{Message: aws.String(fmt.Sprintf("Weight %v for version %s is outside [0.0, 1.0]", w, v))}
			}
			if _, ok := f.versions[v]; !ok {
				return nil, &types.InvalidParameterValueException{Message: aws.String("Version " + v + " does not exist")}
			}
			if v == version {
				return nil, &types.InvalidParameterValueException{Message: aws.String("Additional version cannot be the alias's primary version")}
			}
		}
	}
	if version == "$LATEST" && len(weights) > 0 {
		return nil, &types.InvalidParameterValueException{Message: aws.String("$LATEST is not supported for an alias pointing to more than 1 version")}
	}
	a.FunctionVersion = aws.String(version)
	if len(weights) > 0 {
		a.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: maps.Clone(weights)}
	} else {
		a.RoutingConfig = nil
	}
	if in.Description != nil {
		a.Description = in.Description
	}
	f.aliasRev++
	a.RevisionId = aws.String(strconv.Itoa(f.aliasRev))
	u := AliasUpdate{Function: fn, Alias: aws.ToString(a.Name), Version: version}
	if len(weights) > 0 {
		u.Weights = maps.Clone(weights)
	}
	c.updates = append(c.updates, u)
	out := &awslambda.UpdateAliasOutput{AliasArn: a.AliasArn, Name: a.Name, FunctionVersion: a.FunctionVersion,
		Description: a.Description, RevisionId: a.RevisionId}
	if a.RoutingConfig != nil {
		out.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: maps.Clone(weights)}
	}
	return out, nil
}

// Invoke calls the handler set with SetInvoke. A function without one
// returns "null". The invocation is not counted as a mutation.
func (c *Client) Invoke(ctx context.Context, in *awslambda.InvokeInput, _ ...func(*awslambda.Options)) (*awslambda.InvokeOutput, error) {
	c.mu.Lock()
	fn, _ := splitName(aws.ToString(in.FunctionName))
	err := c.begin("Invoke", fn, false)
	h := c.invokers[fn]
	_, ferr := c.lookup(fn)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	if h == nil {
		return &awslambda.InvokeOutput{StatusCode: 200, Payload: []byte("null")}, nil
	}
	out, fnErr, err := h(ctx, in.Payload)
	if err != nil {
		return nil, err
	}
	o := &awslambda.InvokeOutput{StatusCode: 200, Payload: out, ExecutedVersion: aws.String("$LATEST")}
	if fnErr != "" {
		o.FunctionError = aws.String(fnErr)
	}
	return o, nil
}

// IsConflict reports whether err is a ResourceConflictException.
func IsConflict(err error) bool {
	var e *types.ResourceConflictException
	return errors.As(err, &e)
}

// CreateFunction creates a function from the input's configuration and
// code (a zip's bytes, or the S3 object's or image's name standing in for
// them), publishing version 1 when Publish is set. An existing name is a
// ResourceConflictException.
func (c *Client) CreateFunction(ctx context.Context, in *awslambda.CreateFunctionInput, _ ...func(*awslambda.Options)) (*awslambda.CreateFunctionOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := aws.ToString(in.FunctionName)
	if err := c.begin("CreateFunction", name, true); err != nil {
		return nil, err
	}
	if _, ok := c.functions[name]; ok {
		return nil, &types.ResourceConflictException{Message: aws.String("Function already exist: " + name)}
	}
	f := &function{name: name, versions: map[string]types.FunctionConfiguration{},
		aliases: map[string]*types.AliasConfiguration{}, next: 1}
	f.latest = types.FunctionConfiguration{FunctionName: aws.String(name), FunctionArn: aws.String(c.arn(name, "")),
		Version: aws.String("$LATEST"), Runtime: in.Runtime, Handler: in.Handler, MemorySize: in.MemorySize, Timeout: in.Timeout,
		Description: in.Description, Role: in.Role, State: types.StateActive, LastUpdateStatus: types.LastUpdateStatusSuccessful,
		Architectures: in.Architectures, EphemeralStorage: in.EphemeralStorage, LoggingConfig: in.LoggingConfig,
		KMSKeyArn: in.KMSKeyArn, DeadLetterConfig: in.DeadLetterConfig, PackageType: in.PackageType}
	if in.Environment != nil {
		f.latest.Environment = &types.EnvironmentResponse{Variables: maps.Clone(in.Environment.Variables)}
	}
	if in.TracingConfig != nil {
		f.latest.TracingConfig = &types.TracingConfigResponse{Mode: in.TracingConfig.Mode}
	}
	switch code := in.Code; {
	case code == nil:
	case code.ZipFile != nil:
		f.setCode(code.ZipFile)
	case code.S3Bucket != nil:
		f.setCode([]byte("s3://" + aws.ToString(code.S3Bucket) + "/" + aws.ToString(code.S3Key)))
	case code.ImageUri != nil:
		f.setCode([]byte(aws.ToString(code.ImageUri)))
	}
	c.functions[name] = f
	out := &awslambda.CreateFunctionOutput{FunctionName: f.latest.FunctionName, FunctionArn: f.latest.FunctionArn, Version: aws.String("$LATEST")}
	if in.Publish {
		cfg := c.publish(f, "")
		out.Version = cfg.Version
	}
	return out, nil
}

// CreateAlias creates an alias; an existing one is a
// ResourceConflictException and an unknown version a
// ResourceNotFoundException.
func (c *Client) CreateAlias(ctx context.Context, in *awslambda.CreateAliasInput, _ ...func(*awslambda.Options)) (*awslambda.CreateAliasOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn, _ := splitName(aws.ToString(in.FunctionName))
	if err := c.begin("CreateAlias", fn, true); err != nil {
		return nil, err
	}
	f, err := c.lookup(fn)
	if err != nil {
		return nil, err
	}
	name, v := aws.ToString(in.Name), aws.ToString(in.FunctionVersion)
	if f.aliases[name] != nil {
		return nil, &types.ResourceConflictException{Message: aws.String("Alias already exists: " + c.arn(fn, name))}
	}
	if _, ok := f.versions[v]; !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Function not found: " + c.arn(fn, v))}
	}
	a := &types.AliasConfiguration{Name: aws.String(name), FunctionVersion: aws.String(v), AliasArn: aws.String(c.arn(fn, name))}
	f.aliases[name] = a
	return &awslambda.CreateAliasOutput{Name: a.Name, FunctionVersion: a.FunctionVersion, AliasArn: a.AliasArn}, nil
}
