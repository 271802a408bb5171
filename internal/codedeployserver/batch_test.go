package codedeployserver_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// TestWireStatusMany drives the tracker's StatusMany over the wire: 30
// deployments (two BatchGetDeployments requests) and an unknown ID come
// back as Status reports them, and the limits the CodeDeploy API
// reference gives BatchGetDeployments reach the SDK as its typed errors:
// BatchLimitExceededException beyond 25 IDs, DeploymentIdRequiredException
// for none.
func TestWireStatusMany(t *testing.T) {
	var groups []codedeployfake.Group
	for i := range 30 {
		groups = append(groups, codedeployfake.Group{Application: "app", Name: fmt.Sprintf("g%02d", i), Targets: []string{"i-1", "i-2"}})
	}
	w := newWire(t, 0, groups...)
	ctx := context.Background()
	var qs []platform.StatusQuery
	for _, g := range groups {
		id, err := w.cd.Create(ctx, input("app", g.Name, s3rev("v2.zip"), ""))
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, platform.StatusQuery{ID: id})
	}
	qs = append(qs, platform.StatusQuery{ID: "d-unknown"})
	w.clock.Advance(3 * step)
	before := len(w.fake.Calls())
	states, errs := w.cd.StatusMany(ctx, qs)
	batches := 0
	for _, c := range w.fake.Calls()[before:] {
		if c.Op == "BatchGetDeployments" {
			batches++
		}
	}
	if batches != 2 {
		t.Fatalf("%d BatchGetDeployments for 31 IDs, want 2", batches)
	}
	for i, q := range qs[:30] {
		if errs[i] != nil {
			t.Fatalf("%s: %v", q.ID, errs[i])
		}
		if want := w.status(t, q.ID); !reflect.DeepEqual(states[i], want) {
			t.Fatalf("%s over the wire: StatusMany\n%+v\nStatus\n%+v", q.ID, states[i], want)
		}
	}
	var gone *cdtypes.DeploymentDoesNotExistException
	if states[30] != nil || !errors.Is(errs[30], deploy.ErrNotFound) || !errors.As(errs[30], &gone) {
		t.Fatalf("unknown: %v, %v", states[30], errs[30])
	}

	ids := make([]string, 26)
	for i := range ids {
		ids[i] = qs[i].ID
	}
	var limit *cdtypes.BatchLimitExceededException
	if _, err := w.client.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: ids}); !errors.As(err, &limit) {
		t.Fatalf("26 IDs over the wire: %v, want BatchLimitExceededException", err)
	}
	var required *cdtypes.DeploymentIdRequiredException
	if _, err := w.client.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: []string{}}); !errors.As(err, &required) {
		t.Fatalf("no IDs over the wire: %v, want DeploymentIdRequiredException", err)
	}
}
