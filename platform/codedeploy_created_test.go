package platform_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
	"github.com/switchyard/switchyard/platform/codedeployfake"
)

// CreatedAnyway follows the deployment a failed Create made after every
// failure an attempt may have passed (a lost or unreadable answer, a
// retry refused because the first attempt created it, a retry throttled
// after such an attempt), never takes another revision's deployment for
// the call's, says what the read showed when it finds nothing after an
// uncertain failure, and does not look after failures no attempt can have
// passed.
func TestCodeDeployCreatedAnyway(t *testing.T) {
	createErr := func(err error) error { return platform.Wrap("test", "CreateDeployment", "app/web", err) }
	lost := createErr(&smithy.DeserializationError{Err: io.ErrUnexpectedEOF})
	limit := createErr(&cdtypes.DeploymentLimitExceededException{Message: aws.String("The Deployment Group 'web' already has an active Deployment")})
	throttled := createErr(&cdtypes.ThrottlingException{Message: aws.String("Rate exceeded")})
	for _, c := range []struct {
		name string
		// made is the revision of the live deployment on the group when
		// CreatedAnyway runs ("": none).
		made    string
		err     error
		lookErr error // ListDeployments fails with it
		cancel  bool
		// found: the live deployment is returned; looked: ListDeployments
		// was called; unknown: the error says the outcome was unknown.
		found, looked, unknown bool
		wrapped                []error
	}{
		{name: "lost answer, created", made: "v2.zip", err: lost, found: true, looked: true},
		{name: "retry refused, created", made: "v2.zip", err: limit, found: true, looked: true},
		{name: "retry throttled, created", made: "v2.zip", err: throttled, found: true, looked: true},
		{name: "lost answer, not created", err: lost, looked: true, unknown: true, wrapped: []error{lost}},
		{name: "another revision runs", made: "other.zip", err: limit, looked: true, wrapped: []error{limit, deploy.ErrLocked}},
		{name: "throttled, not created", err: throttled, looked: true, wrapped: []error{throttled, deploy.ErrThrottled}},
		{name: "lookup fails", made: "v2.zip", err: lost, looked: true,
			lookErr: &cdtypes.ThrottlingException{Message: aws.String("Rate exceeded")}, wrapped: []error{lost, deploy.ErrThrottled}},
		{name: "bad input", made: "v2.zip", err: createErr(&cdtypes.InvalidDeploymentConfigNameException{Message: aws.String("bad")}),
			wrapped: []error{deploy.ErrInvalidRequest}},
		{name: "missing group", made: "v2.zip", err: createErr(&cdtypes.DeploymentGroupDoesNotExistException{Message: aws.String("no group")}),
			wrapped: []error{deploy.ErrNotFound}},
		{name: "context done", made: "v2.zip", err: createErr(context.Canceled), cancel: true, wrapped: []error{context.Canceled}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1"}, Current: s3rev("v1.zip")})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var notes []string
			ctx = deploy.WithNotifier(ctx, func(_ deploy.EventKind, msg string) { notes = append(notes, msg) })
			made := ""
			if c.made != "" {
				var err error
				if made, err = e.cd.Create(ctx, input("app", "web", s3rev(c.made), "")); err != nil {
					t.Fatal(err)
				}
			}
			if c.lookErr != nil {
				e.fake.InjectError("ListDeployments", c.lookErr)
			}
			if c.cancel {
				cancel()
			}
			before := len(e.fake.Calls())
			id, err := e.cd.CreatedAnyway(ctx, input("app", "web", s3rev("v2.zip"), ""), c.err)
			looked := false
			for _, call := range e.fake.Calls()[before:] {
				looked = looked || call.Op == "ListDeployments"
			}
			if looked != c.looked {
				t.Errorf("looked for the deployment: %v, want %v", looked, c.looked)
			}
			if c.found {
				if id != made || err != nil {
					t.Fatalf("CreatedAnyway = %q, %v; want %s, nil", id, err, made)
				}
				if len(notes) != 1 || !strings.Contains(notes[0], "created deployment "+made+": following it") {
					t.Errorf("notes %q, want one saying %s is followed", notes, made)
				}
				return
			}
			if id != "" || err == nil {
				t.Fatalf("CreatedAnyway = %q, %v; want an error", id, err)
			}
			for _, w := range c.wrapped {
				if !errors.Is(err, w) {
					t.Errorf("error %v does not wrap %v", err, w)
				}
			}
			if got := strings.Contains(err.Error(), "the outcome is unknown") && strings.Contains(err.Error(), "app/web has no live deployment of v2.zip"); got != c.unknown {
				t.Errorf("error %q says the outcome is unknown and what the read showed: %v, want %v", err, got, c.unknown)
			}
			if len(notes) != 0 {
				t.Errorf("notes %q, want none", notes)
			}
		})
	}
	t.Run("no failure", func(t *testing.T) {
		e := newEnv(t, codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1"}, Current: s3rev("v1.zip")})
		if id, err := e.cd.CreatedAnyway(context.Background(), input("app", "web", s3rev("v2.zip"), ""), nil); id != "" || err == nil {
			t.Fatalf("CreatedAnyway without a failure = %q, %v; want an error", id, err)
		}
	})
}

// Live lists the group's deployments that have not ended.
func TestCodeDeployLive(t *testing.T) {
	e := newEnv(t, codedeployfake.Group{Application: "app", Name: "web", Targets: []string{"i-1"}, Current: s3rev("v1.zip")})
	ctx := context.Background()
	live := func() []string {
		t.Helper()
		ids, err := e.cd.Live(ctx, "app", "web")
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if ids := live(); len(ids) != 0 {
		t.Fatalf("live before any deployment: %v", ids)
	}
	id, err := e.cd.Create(ctx, input("app", "web", s3rev("v2.zip"), ""))
	if err != nil {
		t.Fatal(err)
	}
	if ids := live(); len(ids) != 1 || ids[0] != id {
		t.Fatalf("live %v, want [%s]", ids, id)
	}
	e.clock.Advance(time.Hour)
	if ids := live(); len(ids) != 0 {
		t.Fatalf("live after %s ended: %v", id, ids)
	}
	if _, err := e.cd.Live(ctx, "app", ""); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Fatalf("no group: %v", err)
	}
	e.fake.InjectError("ListDeployments", &cdtypes.ThrottlingException{Message: aws.String("Rate exceeded")})
	if _, err := e.cd.Live(ctx, "app", "web"); !errors.Is(err, deploy.ErrThrottled) {
		t.Fatalf("throttled: %v", err)
	}
}
