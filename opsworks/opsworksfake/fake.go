// Package opsworksfake is an in-memory OpsWorks Stacks for tests: stacks,
// layers, instances and apps, and deployments whose per-instance commands
// finish one after another on a deploy.Clock. Fake implements
// opsworks.API (the calls the driver makes) the way the service answers
// them, with its typed errors (*types.ValidationException,
// *types.ResourceNotFoundException), so a driver test needs no AWS
// account; internal/opsworksserver serves it over HTTP to the real SDK
// client.
package opsworksfake

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsopsworks "github.com/aws/aws-sdk-go-v2/service/opsworks"
	"github.com/aws/aws-sdk-go-v2/service/opsworks/types"

	"github.com/switchyard/switchyard/deploy"
)

// Filtered is what OpsWorks answers in place of an app source's password
// or SSH key.
const Filtered = "*****FILTERED*****"

// DefaultStep is how long each instance's command takes by default.
const DefaultStep = time.Minute

// Options configure a Fake.
type Options struct {
	// Clock drives the commands. Default deploy.SystemClock{}.
	Clock deploy.Clock
	// Step is how long an instance's command runs: the commands of a
	// deployment's n instances end at Step, 2*Step, ... n*Step after it was
	// created. Default DefaultStep.
	Step time.Duration
}

// Fake is an in-memory OpsWorks Stacks. It is safe for concurrent use.
type Fake struct {
	mu        sync.Mutex
	clock     deploy.Clock
	step      time.Duration
	stacks    map[string]bool
	layers    map[string]string // layer → stack
	instances []*instance
	apps      map[string]*app
	deps      []*dep
	seq       int
	mutations int
	failNext  int
	failCall  map[string]error
	calls     []string
}

type instance struct {
	id, stack string
	layers    []string
	releases  map[string][]string // app → revisions deployed, oldest first (at most five)
}

type app struct {
	id, stack, shortname string
	src                  types.Source
	created              time.Time
}

type dep struct {
	id, stack, app, cmd string
	args                map[string][]string
	comment, customJSON string
	revision            string // a deploy's app source revision when created
	created, completed  time.Time
	status              string
	cmds                []*command
	instanceIDs         []string
}

type command struct {
	id, instance   string
	due, completed time.Time
	fail           bool
	status         string
	exit           int32
}

// New returns an empty Fake.
func New(o Options) *Fake {
	if o.Clock == nil {
		o.Clock = deploy.SystemClock{}
	}
	if o.Step <= 0 {
		o.Step = DefaultStep
	}
	return &Fake{clock: o.Clock, step: o.Step, stacks: map[string]bool{}, layers: map[string]string{},
		apps: map[string]*app{}, failCall: map[string]error{}}
}

// AddStack adds a stack.
func (f *Fake) AddStack(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stacks[id] = true
}

// AddLayer adds a layer to a stack.
func (f *Fake) AddLayer(stack, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.layers[id] = stack
}

// AddInstance adds an online instance to a stack, in the given layers.
func (f *Fake) AddInstance(stack, id string, layers ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.instances = append(f.instances, &instance{id: id, stack: stack, layers: layers, releases: map[string][]string{}})
}

// AddApp adds an app to a stack with a git source at revision, already
// deployed on every instance of the stack when deployed is true.
func (f *Fake) AddApp(stack, id, revision string, deployed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apps[id] = &app{id: id, stack: stack, shortname: id, created: f.clock.Now(),
		src: types.Source{Type: types.SourceTypeGit, Url: aws.String("https://git.example.com/" + id + ".git"),
			Revision: aws.String(revision), SshKey: aws.String("-----BEGIN KEY----- secret")}}
	if deployed {
		for _, in := range f.instances {
			if in.stack == stack {
				in.releases[id] = []string{revision}
			}
		}
	}
}

// FailNext makes the next deployment's command fail on its last n
// instances (the others succeed first).
func (f *Fake) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = n
}

// FailCall makes the next call of operation op (such as
// "CreateDeployment") return err.
func (f *Fake) FailCall(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failCall[op] = err
}

// Mutations counts the mutating calls that succeeded (UpdateApp,
// CreateDeployment).
func (f *Fake) Mutations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mutations
}

// Calls lists the operations called so far, in order.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Serving returns what the stack's instances run of app now: each revision
// with its share of the instances that run the app, in percent.
func (f *Fake) Serving(appID string) map[string]float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance()
	count := map[string]int{}
	total := 0
	for _, in := range f.instances {
		if r := in.releases[appID]; len(r) > 0 {
			count[r[len(r)-1]]++
			total++
		}
	}
	out := map[string]float64{}
	for rev, n := range count {
		out[rev] = float64(n) * 100 / float64(total)
	}
	return out
}

// AppRevision returns the revision app's source names now.
func (f *Fake) AppRevision(appID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a := f.apps[appID]; a != nil {
		return aws.ToString(a.src.Revision)
	}
	return ""
}

// CustomJSON returns the custom JSON deployment id was created with.
func (f *Fake) CustomJSON(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.deps {
		if d.id == id {
			return d.customJSON
		}
	}
	return ""
}

func (f *Fake) begin(op string) error {
	f.calls = append(f.calls, op)
	if err := f.failCall[op]; err != nil {
		delete(f.failCall, op)
		return err
	}
	f.advance()
	return nil
}

func validation(format string, args ...any) error {
	return &types.ValidationException{Message: aws.String(fmt.Sprintf(format, args...))}
}

func notFound(format string, args ...any) error {
	return &types.ResourceNotFoundException{Message: aws.String(fmt.Sprintf(format, args...))}
}

func ts(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return aws.String(t.UTC().Format("2006-01-02T15:04:05+00:00"))
}

// advance completes the commands that are due on the clock.
func (f *Fake) advance() {
	now := f.clock.Now()
	for _, d := range f.deps {
		if d.status != "running" {
			continue
		}
		pending := 0
		failed := false
		for _, c := range d.cmds {
			if c.status == "pending" && !c.due.After(now) {
				c.completed = c.due
				if c.fail {
					c.status, c.exit = "failed", 1
				} else {
					c.status = "successful"
					f.apply(d, c.instance)
				}
			}
			switch c.status {
			case "pending":
				pending++
			case "failed":
				failed = true
			}
		}
		if pending == 0 {
			d.status = "successful"
			if failed {
				d.status = "failed"
			}
			d.completed = d.created
			for _, c := range d.cmds {
				if c.completed.After(d.completed) {
					d.completed = c.completed
				}
			}
		}
	}
}

// apply is what a successful command does to an instance.
func (f *Fake) apply(d *dep, id string) {
	var in *instance
	for _, x := range f.instances {
		if x.id == id {
			in = x
		}
	}
	if in == nil || d.app == "" {
		return
	}
	rel := in.releases[d.app]
	switch d.cmd {
	case "deploy":
		rel = append(rel, d.revision)
		if len(rel) > 5 {
			rel = rel[len(rel)-5:]
		}
	case "rollback":
		if len(rel) > 1 {
			rel = rel[:len(rel)-1]
		}
	case "undeploy":
		rel = nil
	}
	in.releases[d.app] = rel
}

var commands = []string{"deploy", "rollback", "start", "stop", "restart", "undeploy",
	"setup", "configure", "install_dependencies", "update_dependencies", "update_custom_cookbooks", "execute_recipes"}

func isAppCommand(c string) bool { return slices.Contains(commands[:6], c) }

// DescribeStacks answers the stacks named (ResourceNotFoundException for
// an unknown one), or every stack.
func (f *Fake) DescribeStacks(_ context.Context, in *awsopsworks.DescribeStacksInput, _ ...func(*awsopsworks.Options)) (*awsopsworks.DescribeStacksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DescribeStacks"); err != nil {
		return nil, err
	}
	out := &awsopsworks.DescribeStacksOutput{}
	ids := in.StackIds
	if len(ids) == 0 {
		for id := range f.stacks {
			ids = append(ids, id)
		}
		sort.Strings(ids)
	}
	for _, id := range ids {
		if !f.stacks[id] {
			return nil, notFound("Unable to find stack with ID %s", id)
		}
		out.Stacks = append(out.Stacks, types.Stack{StackId: aws.String(id), Name: aws.String(id)})
	}
	return out, nil
}

// DescribeApps answers the apps named (ResourceNotFoundException for an
// unknown one) or a stack's apps, with credentials filtered.
func (f *Fake) DescribeApps(_ context.Context, in *awsopsworks.DescribeAppsInput, _ ...func(*awsopsworks.Options)) (*awsopsworks.DescribeAppsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DescribeApps"); err != nil {
		return nil, err
	}
	if len(in.AppIds) == 0 && aws.ToString(in.StackId) == "" {
		return nil, validation("Please provide either one or more app IDs or a stack ID")
	}
	out := &awsopsworks.DescribeAppsOutput{}
	show := func(a *app) {
		src := a.src
		if src.Password != nil {
			src.Password = aws.String(Filtered)
		}
		if src.SshKey != nil {
			src.SshKey = aws.String(Filtered)
		}
		out.Apps = append(out.Apps, types.App{AppId: aws.String(a.id), StackId: aws.String(a.stack), Name: aws.String(a.id),
			Shortname: aws.String(a.shortname), AppSource: &src, Type: types.AppTypeOther, CreatedAt: ts(a.created)})
	}
	if len(in.AppIds) > 0 {
		for _, id := range in.AppIds {
			a := f.apps[id]
			if a == nil {
				return nil, notFound("Unable to find app with ID %s", id)
			}
			show(a)
		}
		return out, nil
	}
	if !f.stacks[aws.ToString(in.StackId)] {
		return nil, notFound("Unable to find stack with ID %s", aws.ToString(in.StackId))
	}
	ids := []string{}
	for id, a := range f.apps {
		if a.stack == aws.ToString(in.StackId) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		show(f.apps[id])
	}
	return out, nil
}

// UpdateApp changes an app's source. A password or SSH key sent back as
// Filtered keeps the one the app has.
func (f *Fake) UpdateApp(_ context.Context, in *awsopsworks.UpdateAppInput, _ ...func(*awsopsworks.Options)) (*awsopsworks.UpdateAppOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("UpdateApp"); err != nil {
		return nil, err
	}
	a := f.apps[aws.ToString(in.AppId)]
	if a == nil {
		return nil, notFound("Unable to find app with ID %s", aws.ToString(in.AppId))
	}
	if in.AppSource != nil {
		src := *in.AppSource
		if aws.ToString(src.Password) == Filtered {
			src.Password = a.src.Password
		}
		if aws.ToString(src.SshKey) == Filtered {
			src.SshKey = a.src.SshKey
		}
		a.src = src
	}
	f.mutations++
	return &awsopsworks.UpdateAppOutput{}, nil
}

// CreateDeployment validates the request as OpsWorks does and starts the
// command on the target instances (InstanceIds and the instances of
// LayerIds; every instance of the stack when both are empty).
func (f *Fake) CreateDeployment(_ context.Context, in *awsopsworks.CreateDeploymentInput, _ ...func(*awsopsworks.Options)) (*awsopsworks.CreateDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("CreateDeployment"); err != nil {
		return nil, err
	}
	stack := aws.ToString(in.StackId)
	if stack == "" {
		return nil, validation("StackId is required")
	}
	if in.Command == nil || !slices.Contains(commands, string(in.Command.Name)) {
		return nil, validation("Command.Name must be one of %v", commands)
	}
	if !f.stacks[stack] {
		return nil, notFound("Unable to find stack with ID %s", stack)
	}
	cmd := string(in.Command.Name)
	appID := aws.ToString(in.AppId)
	if isAppCommand(cmd) && appID == "" {
		return nil, validation("AppId is required for the %s command", cmd)
	}
	var a *app
	if appID != "" {
		if a = f.apps[appID]; a == nil || a.stack != stack {
			return nil, notFound("Unable to find app with ID %s", appID)
		}
	}
	if cj := aws.ToString(in.CustomJson); cj != "" {
		var v map[string]any
		if err := json.Unmarshal([]byte(cj), &v); err != nil {
			return nil, validation("CustomJson must be a JSON object")
		}
	}
	if cmd == "execute_recipes" && len(in.Command.Args["recipes"]) == 0 {
		return nil, validation("execute_recipes needs the recipes argument")
	}
	var targets []string
	want := map[string]bool{}
	for _, id := range in.InstanceIds {
		found := false
		for _, x := range f.instances {
			found = found || (x.id == id && x.stack == stack)
		}
		if !found {
			return nil, notFound("Unable to find instance with ID %s", id)
		}
		want[id] = true
	}
	for _, l := range in.LayerIds {
		if f.layers[l] != stack {
			return nil, notFound("Unable to find layer with ID %s", l)
		}
	}
	for _, x := range f.instances {
		if x.stack != stack {
			continue
		}
		pick := want[x.id] || (len(want) == 0 && len(in.LayerIds) == 0)
		for _, l := range in.LayerIds {
			pick = pick || slices.Contains(x.layers, l)
		}
		if pick {
			targets = append(targets, x.id)
		}
	}
	f.seq++
	now := f.clock.Now()
	d := &dep{id: fmt.Sprintf("d-%04d", f.seq), stack: stack, app: appID, cmd: cmd, args: cloneArgs(in.Command.Args),
		comment: aws.ToString(in.Comment), customJSON: aws.ToString(in.CustomJson), created: now, status: "running",
		instanceIDs: targets}
	if a != nil {
		d.revision = aws.ToString(a.src.Revision)
		if d.revision == "" {
			d.revision = aws.ToString(a.src.Url)
		}
	}
	for i, id := range targets {
		d.cmds = append(d.cmds, &command{id: fmt.Sprintf("c-%04d-%d", f.seq, i+1), instance: id,
			due: now.Add(time.Duration(i+1) * f.step), status: "pending", fail: i >= len(targets)-f.failNext})
	}
	f.failNext = 0
	f.deps = append(f.deps, d)
	f.mutations++
	f.advance()
	return &awsopsworks.CreateDeploymentOutput{DeploymentId: aws.String(d.id)}, nil
}

func cloneArgs(a map[string][]string) map[string][]string {
	if a == nil {
		return nil
	}
	out := map[string][]string{}
	for k, v := range a {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func (d *dep) describe() types.Deployment {
	out := types.Deployment{DeploymentId: aws.String(d.id), StackId: aws.String(d.stack),
		Command:   &types.DeploymentCommand{Name: types.DeploymentCommandName(d.cmd), Args: cloneArgs(d.args)},
		CreatedAt: ts(d.created), CompletedAt: ts(d.completed), Status: aws.String(d.status),
		InstanceIds: append([]string(nil), d.instanceIDs...), IamUserArn: aws.String("arn:aws:iam::123456789012:user/test")}
	if d.app != "" {
		out.AppId = aws.String(d.app)
	}
	if d.comment != "" {
		out.Comment = aws.String(d.comment)
	}
	if d.customJSON != "" {
		out.CustomJson = aws.String(d.customJSON)
	}
	if !d.completed.IsZero() {
		out.Duration = aws.Int32(int32(d.completed.Sub(d.created) / time.Second))
	}
	return out
}

// DescribeDeployments answers the deployments named
// (ResourceNotFoundException for an unknown one), or a stack's or an app's,
// newest first.
func (f *Fake) DescribeDeployments(_ context.Context, in *awsopsworks.DescribeDeploymentsInput, _ ...func(*awsopsworks.Options)) (*awsopsworks.DescribeDeploymentsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DescribeDeployments"); err != nil {
		return nil, err
	}
	out := &awsopsworks.DescribeDeploymentsOutput{}
	switch {
	case len(in.DeploymentIds) > 0:
		for _, id := range in.DeploymentIds {
			var found *dep
			for _, d := range f.deps {
				if d.id == id {
					found = d
				}
			}
			if found == nil {
				return nil, notFound("Unable to find deployment with ID %s", id)
			}
			out.Deployments = append(out.Deployments, found.describe())
		}
		return out, nil
	case aws.ToString(in.AppId) != "":
		if f.apps[aws.ToString(in.AppId)] == nil {
			return nil, notFound("Unable to find app with ID %s", aws.ToString(in.AppId))
		}
	case aws.ToString(in.StackId) != "":
		if !f.stacks[aws.ToString(in.StackId)] {
			return nil, notFound("Unable to find stack with ID %s", aws.ToString(in.StackId))
		}
	default:
		return nil, validation("Please provide a stack ID, an app ID or deployment IDs")
	}
	for i := len(f.deps) - 1; i >= 0; i-- {
		d := f.deps[i]
		if (in.AppId != nil && d.app == *in.AppId) || (in.AppId == nil && d.stack == aws.ToString(in.StackId)) {
			out.Deployments = append(out.Deployments, d.describe())
		}
	}
	return out, nil
}

// DescribeCommands answers a deployment's commands, one per instance
// (ResourceNotFoundException for an unknown deployment).
func (f *Fake) DescribeCommands(_ context.Context, in *awsopsworks.DescribeCommandsInput, _ ...func(*awsopsworks.Options)) (*awsopsworks.DescribeCommandsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DescribeCommands"); err != nil {
		return nil, err
	}
	id := aws.ToString(in.DeploymentId)
	if id == "" {
		return nil, validation("Please provide a deployment ID")
	}
	out := &awsopsworks.DescribeCommandsOutput{}
	for _, d := range f.deps {
		if d.id != id {
			continue
		}
		for _, c := range d.cmds {
			cmd := types.Command{CommandId: aws.String(c.id), DeploymentId: aws.String(d.id), InstanceId: aws.String(c.instance),
				Type: aws.String(d.cmd), Status: aws.String(c.status), CreatedAt: ts(d.created), AcknowledgedAt: ts(d.created),
				CompletedAt: ts(c.completed)}
			if c.status != "pending" {
				cmd.ExitCode = aws.Int32(c.exit)
				cmd.LogUrl = aws.String("https://opsworks-logs.example.com/" + d.id + "/" + c.instance + ".log")
			}
			out.Commands = append(out.Commands, cmd)
		}
		return out, nil
	}
	return nil, notFound("Unable to find deployment with ID %s", id)
}

// DescribeInstances answers the instances named
// (ResourceNotFoundException for an unknown one), a layer's or a stack's.
func (f *Fake) DescribeInstances(_ context.Context, in *awsopsworks.DescribeInstancesInput, _ ...func(*awsopsworks.Options)) (*awsopsworks.DescribeInstancesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DescribeInstances"); err != nil {
		return nil, err
	}
	out := &awsopsworks.DescribeInstancesOutput{}
	show := func(x *instance) {
		out.Instances = append(out.Instances, types.Instance{InstanceId: aws.String(x.id), StackId: aws.String(x.stack),
			LayerIds: append([]string(nil), x.layers...), Hostname: aws.String(x.id), Status: aws.String("online")})
	}
	switch {
	case len(in.InstanceIds) > 0:
		for _, id := range in.InstanceIds {
			found := false
			for _, x := range f.instances {
				if x.id == id {
					show(x)
					found = true
				}
			}
			if !found {
				return nil, notFound("Unable to find instance with ID %s", id)
			}
		}
	case aws.ToString(in.LayerId) != "":
		if f.layers[aws.ToString(in.LayerId)] == "" {
			return nil, notFound("Unable to find layer with ID %s", aws.ToString(in.LayerId))
		}
		for _, x := range f.instances {
			if slices.Contains(x.layers, aws.ToString(in.LayerId)) {
				show(x)
			}
		}
	case aws.ToString(in.StackId) != "":
		if !f.stacks[aws.ToString(in.StackId)] {
			return nil, notFound("Unable to find stack with ID %s", aws.ToString(in.StackId))
		}
		for _, x := range f.instances {
			if x.stack == aws.ToString(in.StackId) {
				show(x)
			}
		}
	default:
		return nil, validation("Please provide either one or more instance IDs or one stack ID or one app ID")
	}
	return out, nil
}

// DescribeLayers answers the layers named (ResourceNotFoundException for
// an unknown one) or a stack's.
func (f *Fake) DescribeLayers(_ context.Context, in *awsopsworks.DescribeLayersInput, _ ...func(*awsopsworks.Options)) (*awsopsworks.DescribeLayersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DescribeLayers"); err != nil {
		return nil, err
	}
	out := &awsopsworks.DescribeLayersOutput{}
	if len(in.LayerIds) > 0 {
		for _, id := range in.LayerIds {
			st := f.layers[id]
			if st == "" {
				return nil, notFound("Unable to find layer with ID %s", id)
			}
			out.Layers = append(out.Layers, types.Layer{LayerId: aws.String(id), StackId: aws.String(st), Name: aws.String(id)})
		}
		return out, nil
	}
	stack := aws.ToString(in.StackId)
	if !f.stacks[stack] {
		return nil, notFound("Unable to find stack with ID %s", stack)
	}
	var ids []string
	for id, st := range f.layers {
		if st == stack {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		out.Layers = append(out.Layers, types.Layer{LayerId: aws.String(id), StackId: aws.String(stack), Name: aws.String(id)})
	}
	return out, nil
}
