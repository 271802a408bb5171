package codedeployfake

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
)

// ReadLog is a Fake that records every deployment read (GetDeployment and
// BatchGetDeployments): when it was made and how many deployments it asked
// for, so a test can count what a fleet's polls cost. Use it wherever the
// Fake is used. It is safe for concurrent use.
type ReadLog struct {
	*Fake
	mu    sync.Mutex
	reads []Read
}

// Read is one deployment read.
type Read struct {
	// At is when it was made (time.Now: in a testing/synctest bubble, the
	// bubble's time).
	At time.Time
	// Op is "GetDeployment" or "BatchGetDeployments".
	Op string
	// IDs is how many deployments it asked for.
	IDs int
}

// NewReadLog returns f recording its deployment reads.
func NewReadLog(f *Fake) *ReadLog { return &ReadLog{Fake: f} }

func (l *ReadLog) note(op string, ids int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads = append(l.reads, Read{time.Now(), op, ids})
}

// BatchGetDeployments records the read and answers as the Fake does.
func (l *ReadLog) BatchGetDeployments(ctx context.Context, in *codedeploy.BatchGetDeploymentsInput, o ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentsOutput, error) {
	l.note("BatchGetDeployments", len(in.DeploymentIds))
	return l.Fake.BatchGetDeployments(ctx, in, o...)
}

// GetDeployment records the read and answers as the Fake does.
func (l *ReadLog) GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, o ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error) {
	l.note("GetDeployment", 1)
	return l.Fake.GetDeployment(ctx, in, o...)
}

// CheckPolls checks the reads made after start, grouped by instant (each
// instant a poll round): batched, each round must read all n deployments
// with one BatchGetDeployments per 25 (CodeDeploy's limit) and no
// GetDeployment; otherwise every deployment polled costs one GetDeployment.
// It reports the figures in t's log and fails t when there was no poll.
func (l *ReadLog) CheckPolls(t testing.TB, start time.Time, n int, batched bool) {
	t.Helper()
	l.mu.Lock()
	rounds := map[time.Time][]Read{}
	for _, r := range l.reads {
		if !r.At.Equal(start) {
			rounds[r.At] = append(rounds[r.At], r)
		}
	}
	l.mu.Unlock()
	if len(rounds) == 0 {
		t.Fatal("no poll was made")
	}
	var times []time.Time
	for at := range rounds {
		times = append(times, at)
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	calls, deploymentPolls := 0, 0
	for _, at := range times {
		polled, batches, gets := 0, 0, 0
		for _, r := range rounds[at] {
			polled += r.IDs
			switch r.Op {
			case "BatchGetDeployments":
				batches++
			case "GetDeployment":
				gets++
			}
		}
		calls += len(rounds[at])
		if batched && (batches != (n+24)/25 || gets != 0 || polled != n) {
			t.Errorf("poll at +%v: %d BatchGetDeployments and %d GetDeployment for %d deployments; want %d, 0 and all %d",
				at.Sub(start), batches, gets, polled, (n+24)/25, n)
		}
		// One by one the polls are jittered: whatever falls on one
		// instant costs a call per deployment.
		if !batched && (gets != polled || batches != 0) {
			t.Errorf("poll at +%v: %d GetDeployment and %d BatchGetDeployments for %d deployments, want %d and 0",
				at.Sub(start), gets, batches, polled, polled)
		}
		deploymentPolls += polled
	}
	t.Logf("%d instants with polls, %d deployment polls, %d deployment reads: %.2f reads per deployment poll",
		len(times), deploymentPolls, calls, float64(calls)/float64(deploymentPolls))
}
