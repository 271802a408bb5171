package platform_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// fleet is n in-place groups "g00".."gNN" of three instances each, batch by
// batch, every one with a deployment of v2.zip under way, the first failing
// on i-2 and rolled back by CodeDeploy, plus a Lambda canary on group
// "fn". ids are the deployments, the Lambda one last.
func fleet(t *testing.T, n int, opts platform.CodeDeployOptions) (e *env, ids []string) {
	t.Helper()
	e = newEnv(t)
	opts.Clock = e.clock
	e.cd = platform.NewCodeDeploy(e.fake, opts)
	ctx := context.Background()
	for i := range n {
		g := codedeployfake.Group{Application: "app", Name: fmt.Sprintf("g%02d", i), Batches: true,
			Targets: []string{"i-1", "i-2", "i-3"}, Current: s3rev("v1.zip")}
		if i == 0 {
			g.AutoRollback = rollbackOn(cdtypes.AutoRollbackEventDeploymentFailure)
		}
		e.fake.AddGroup(g)
		if i == 0 {
			e.fake.FailNext("Install", "i-2")
		}
		id, err := e.cd.Create(ctx, input("app", g.Name, s3rev("v2.zip"), "CodeDeployDefault.OneAtATime"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	e.fake.AddGroup(codedeployfake.Group{Application: "app", Name: "fn", ComputePlatform: cdtypes.ComputePlatformLambda,
		Targets: []string{"checkout:live"}})
	id, err := e.cd.Create(ctx, input("app", "fn", appspec("v2"), "CodeDeployDefault.LambdaCanary10Percent5Minutes"))
	if err != nil {
		t.Fatal(err)
	}
	return e, append(ids, id)
}

// advance is how far a poll loop moves the clock: a step while an in-place
// deployment runs, half a minute once only the Lambda canary's wait is left.
func advance(serversEnded bool) time.Duration {
	if serversEnded {
		return 30 * step
	}
	return step
}

func queries(ids []string, last []*platform.DeploymentState) []platform.StatusQuery {
	qs := make([]platform.StatusQuery, len(ids))
	for i, id := range ids {
		qs[i].ID = id
		if last != nil && last[i] != nil {
			qs[i].Last = last[i].Apply(nil)
		}
	}
	return qs
}

// ops counts the fake's calls by operation since call number from.
func ops(f *codedeployfake.Fake, from int) map[string]int {
	n := map[string]int{}
	for _, c := range f.Calls()[from:] {
		n[c.Op]++
	}
	return n
}

// TestStatusManyReportsAsStatus polls a fleet of 30 deployments (one rolled
// back, one Lambda canary) from start to end with StatusMany and, at every
// instant, with Status one by one: the states must be the same, and
// StatusMany must read the deployments with one BatchGetDeployments per 25
// (plus one for the rollback deployment) and no GetDeployment.
func TestStatusManyReportsAsStatus(t *testing.T) {
	e, ids := fleet(t, 30, platform.CodeDeployOptions{Platform: "test"})
	ctx := context.Background()
	sawRollback, sawMid := false, false
	for poll := 0; ; poll++ {
		if poll > 400 {
			t.Fatal("the fleet never ended")
		}
		from := len(e.fake.Calls())
		states, errs := e.cd.StatusMany(ctx, queries(ids, nil))
		n := ops(e.fake, from)
		if n["GetDeployment"] != 0 {
			t.Fatalf("poll %d: StatusMany made %d GetDeployment calls", poll, n["GetDeployment"])
		}
		wantBatch := 2 // 31 deployments
		if states[0] != nil && states[0].RolledBackBy != "" {
			wantBatch++
			sawRollback = true
		}
		if n["BatchGetDeployments"] != wantBatch {
			t.Fatalf("poll %d: %d BatchGetDeployments, want %d", poll, n["BatchGetDeployments"], wantBatch)
		}
		for _, c := range e.fake.Calls()[from:] {
			if in, ok := c.Input.(*codedeploy.BatchGetDeploymentsInput); ok && len(in.DeploymentIds) > platform.MaxBatchGetDeployments {
				t.Fatalf("BatchGetDeployments of %d IDs", len(in.DeploymentIds))
			}
		}
		ended, servers := true, true
		for i, id := range ids {
			if errs[i] != nil || states[i] == nil {
				t.Fatalf("poll %d: %s: %v", poll, id, errs[i])
			}
			want, err := e.cd.Status(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(states[i], want) {
				t.Fatalf("poll %d: StatusMany reports %s as\n%+v\nStatus as\n%+v", poll, id, states[i], want)
			}
			if want.Status == deploy.StatusInProgress && want.Percent > 0 && want.Percent < 100 {
				sawMid = true
			}
			ended = ended && want.Terminal()
			servers = servers && (want.Terminal() || want.ComputePlatform != cdtypes.ComputePlatformServer)
		}
		if ended {
			break
		}
		e.clock.Advance(advance(servers))
	}
	if !sawRollback || !sawMid {
		t.Fatalf("the fleet never showed a rollback (%v) or a deployment part way (%v)", sawRollback, sawMid)
	}
	states, _ := e.cd.StatusMany(ctx, queries(ids, nil))
	if states[0].Status != deploy.StatusRolledBack || states[1].Status != deploy.StatusSucceeded || states[30].Status != deploy.StatusSucceeded {
		t.Fatalf("final: %s, %s, %s", states[0].Status, states[1].Status, states[30].Status)
	}
}

// TestStatusManyErrors: order kept, nil exactly where an error is, each
// error naming its deployment; an unknown ID costs one GetDeployment of
// its own and wraps ErrNotFound; a malformed ID that makes CodeDeploy refuse
// the whole request is asked alone; a throttled request fails only the
// deployments it asked for, wrapping deploy.ErrThrottled; an empty ID and
// a done context are refused without a call.
func TestStatusManyErrors(t *testing.T) {
	e, ids := fleet(t, 30, platform.CodeDeployOptions{Platform: "test"})
	ctx := context.Background()
	e.clock.Advance(3 * step)
	check := func(name string, qids []string, wantErr map[int]error) {
		t.Helper()
		states, errs := e.cd.StatusMany(ctx, queries(qids, nil))
		if len(states) != len(qids) || len(errs) != len(qids) {
			t.Fatalf("%s: %d states, %d errors for %d queries", name, len(states), len(errs), len(qids))
		}
		for i, id := range qids {
			want := wantErr[i]
			if want == nil {
				if errs[i] != nil || states[i] == nil || states[i].ID != id {
					t.Fatalf("%s: entry %d (%s): %v, %v", name, i, id, states[i], errs[i])
				}
				continue
			}
			var de *deploy.Error
			if states[i] != nil || !errors.Is(errs[i], want) || !errors.As(errs[i], &de) || de.DeploymentID != id {
				t.Fatalf("%s: entry %d (%s): %v, %v; want nil and a *deploy.Error naming it, wrapping %v", name, i, id, states[i], errs[i], want)
			}
		}
	}

	from := len(e.fake.Calls())
	check("unknown", []string{ids[3], "d-missing", ids[1], ids[3]}, map[int]error{1: deploy.ErrNotFound})
	if n := ops(e.fake, from); n["BatchGetDeployments"] != 1 || n["GetDeployment"] != 1 {
		t.Fatalf("unknown: calls %v, want one BatchGetDeployments and one GetDeployment", n)
	}

	from = len(e.fake.Calls())
	e.fake.InjectError("BatchGetDeployments", &cdtypes.InvalidDeploymentIdException{Message: aws.String("bad id")})
	check("malformed", []string{ids[2], ids[5], ids[7]}, nil)
	if n := ops(e.fake, from); n["BatchGetDeployments"] != 1 || n["GetDeployment"] != 3 {
		t.Fatalf("malformed: calls %v, want one BatchGetDeployments and three GetDeployment", n)
	}

	e.fake.InjectError("BatchGetDeployments", &cdtypes.ThrottlingException{Message: aws.String("slow down")})
	want := map[int]error{}
	for i := 0; i < 25; i++ {
		want[i] = deploy.ErrThrottled
	}
	check("throttled", ids[1:], want)
	_, errs := e.cd.StatusMany(ctx, queries([]string{ids[1]}, nil))
	if errs[0] != nil {
		t.Fatalf("after the throttle: %v", errs[0])
	}

	e.fake.InjectError("ListDeploymentTargets", &cdtypes.ThrottlingException{Message: aws.String("slow down")})
	check("targets throttled", []string{ids[4], ids[5]}, map[int]error{0: deploy.ErrThrottled})

	from = len(e.fake.Calls())
	check("empty ID", []string{ids[1], ""}, map[int]error{1: deploy.ErrInvalidRequest})
	if n := ops(e.fake, from); n["BatchGetDeployments"] != 1 {
		t.Fatalf("empty ID: calls %v", n)
	}

	from = len(e.fake.Calls())
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, errs = e.cd.StatusMany(done, queries(ids[:2], nil))
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("done context: entry %d: %v", i, err)
		}
	}
	if n := len(e.fake.Calls()) - from; n != 0 {
		t.Fatalf("done context: %d calls", n)
	}
	if states, errs := e.cd.StatusMany(ctx, nil); len(states) != 0 || len(errs) != 0 {
		t.Fatalf("no queries: %v, %v", states, errs)
	}
}

// TestStatusManyTargetsOnChange polls the fleet with TargetsOnChange,
// giving each poll the states of the poll before: a poll reads the
// targets only of the deployments whose instance counts or status moved
// (and always those of the Lambda canary), and once the fleet has ended
// every state is the one Status reports, instances and messages included.
func TestStatusManyTargetsOnChange(t *testing.T) {
	e, ids := fleet(t, 10, platform.CodeDeployOptions{Platform: "test", TargetsOnChange: true})
	ctx := context.Background()
	var last []*platform.DeploymentState
	spared, polls := 0, 0
	for ; polls < 400; polls++ {
		from := len(e.fake.Calls())
		states, errs := e.cd.StatusMany(ctx, queries(ids, last))
		lists := ops(e.fake, from)["ListDeploymentTargets"]
		live := 0
		for i, s := range states {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if s.CodeDeployStatus != cdtypes.DeploymentStatusCreated && s.CodeDeployStatus != cdtypes.DeploymentStatusQueued {
				live++
			}
			if last != nil && s.Percent < last[i].Percent && s.Status != deploy.StatusRolledBack && last[i].RolledBackBy == "" {
				t.Fatalf("poll %d: %s went back from %v%% to %v%%", polls, ids[i], last[i].Percent, s.Percent)
			}
			if last != nil && s.ComputePlatform == cdtypes.ComputePlatformServer {
				counted := map[deploy.Status]int64{}
				for _, in := range s.Instances {
					counted[in.Status]++
				}
				if o := s.Info.DeploymentOverview; len(s.Instances) > 0 && counted[deploy.StatusSucceeded] != o.Succeeded {
					t.Fatalf("poll %d: %s: %d instances succeeded, the overview says %d", polls, ids[i], counted[deploy.StatusSucceeded], o.Succeeded)
				}
			}
		}
		if last != nil && lists < live {
			spared += live - lists
		}
		if lists > live {
			t.Fatalf("poll %d: %d ListDeploymentTargets for %d deployments", polls, lists, live)
		}
		last = states
		ended, servers := true, true
		for _, s := range states {
			ended = ended && s.Terminal()
			servers = servers && (s.Terminal() || s.ComputePlatform != cdtypes.ComputePlatformServer)
		}
		if ended {
			break
		}
		e.clock.Advance(advance(servers))
	}
	if spared == 0 {
		t.Fatalf("TargetsOnChange spared no target read in %d polls", polls)
	}
	t.Logf("%d polls, %d target reads spared", polls, spared)
	for i, id := range ids {
		want, err := e.cd.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := last[i]
		if got.Status != want.Status || got.Percent != want.Percent || got.Reason != want.Reason ||
			!reflect.DeepEqual(got.Instances, want.Instances) || !reflect.DeepEqual(got.Messages, want.Messages) {
			t.Fatalf("%s ended as\n%+v\nStatus says\n%+v", id, got, want)
		}
	}
}

// TestStatusManyTargetsOnChangeMidway checks a spared poll in the middle of
// a deployment: with the same counts it reads no target and carries the
// instances and their lifecycle messages; once an instance moves, it reads
// them again.
func TestStatusManyTargetsOnChangeMidway(t *testing.T) {
	e, ids := fleet(t, 2, platform.CodeDeployOptions{Platform: "test", TargetsOnChange: true})
	ctx := context.Background()
	id := ids[1]
	e.clock.Advance(3 * step)
	first, errs := e.cd.StatusMany(ctx, queries([]string{id}, nil))
	if errs[0] != nil || len(first[0].Instances) != 3 {
		t.Fatalf("first poll: %v, %+v", errs[0], first[0])
	}
	from := len(e.fake.Calls())
	again, errs := e.cd.StatusMany(ctx, queries([]string{id}, first))
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if n := ops(e.fake, from); n["ListDeploymentTargets"] != 0 || n["BatchGetDeploymentTargets"] != 0 || n["BatchGetDeployments"] != 1 {
		t.Fatalf("unchanged poll: calls %v, want one BatchGetDeployments alone", n)
	}
	if !reflect.DeepEqual(again[0].Instances, first[0].Instances) || !reflect.DeepEqual(again[0].Messages, first[0].Messages) ||
		again[0].Percent != first[0].Percent || !again[0].UpdatedAt.Equal(first[0].UpdatedAt) {
		t.Fatalf("unchanged poll reports\n%+v\nafter\n%+v", again[0], first[0])
	}
	// NoTargets-free Status is the reference: TargetsOnChange is ignored there.
	if s, err := e.cd.Status(ctx, id); err != nil || len(s.Instances) != 3 {
		t.Fatalf("Status: %v, %v", s, err)
	}
	prev := first
	for range 40 {
		e.clock.Advance(step)
		from = len(e.fake.Calls())
		next, errs := e.cd.StatusMany(ctx, queries([]string{id}, prev))
		if errs[0] != nil {
			t.Fatal(errs[0])
		}
		o := next[0].Info.DeploymentOverview
		moved := o.Succeeded != count(prev[0].Instances, deploy.StatusSucceeded) || next[0].Status != prev[0].Status
		if read := ops(e.fake, from)["ListDeploymentTargets"] > 0; read != moved && !next[0].Terminal() {
			t.Fatalf("counts moved %v, targets read %v", moved, read)
		}
		if moved {
			want, _ := e.cd.Status(ctx, id)
			if !reflect.DeepEqual(next[0].Instances, want.Instances) {
				t.Fatalf("after a move: instances\n%+v\nwant\n%+v", next[0].Instances, want.Instances)
			}
		}
		prev = next
		if next[0].Terminal() {
			return
		}
	}
	t.Fatal("the deployment never ended")
}

func count(ins []deploy.Instance, s deploy.Status) int64 {
	n := int64(0)
	for _, in := range ins {
		if in.Status == s {
			n++
		}
	}
	return n
}
