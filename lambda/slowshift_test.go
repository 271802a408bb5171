package lambda_test

import (
	"context"
	"errors"
	"testing"
	"time"

	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
	"github.com/switchyard/switchyard/lambda/lambdafake"
)

// slowAlias is the Lambda fake with UpdateAlias of function "slow" held
// until release is closed, as a call the SDK keeps retrying through
// throttles is held.
type slowAlias struct {
	*lambdafake.Client
	entered chan struct{}
	release chan struct{}
}

func (s *slowAlias) UpdateAlias(ctx context.Context, in *awslambda.UpdateAliasInput, o ...func(*awslambda.Options)) (*awslambda.UpdateAliasOutput, error) {
	if *in.FunctionName == "slow" {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Client.UpdateAlias(ctx, in, o...)
}

// While one alias's Shift waits on a slow UpdateAlias, a Start of another
// alias and that deployment's Status and Shift go ahead: none waits for
// the slow call. (Start used to hold the driver's lock while it waited for
// every live deployment's own lock, which a Shift holds through its AWS
// calls, so one call slowed by throttling held up the whole fleet.) A
// second Start of the shifting alias is still refused as locked.
func TestStartDoesNotWaitForAnotherAliasesShift(t *testing.T) {
	f := lambdafake.New()
	for _, fn := range []string{"slow", "fast"} {
		f.AddFunction(fn, 2)
		f.AddAlias(fn, "live", "1", nil)
	}
	c := &slowAlias{Client: f, entered: make(chan struct{}), release: make(chan struct{})}
	drv := lambda.New(c, lambda.Options{})
	ctx := context.Background()
	start := func(fn string) (*deploy.Deployment, error) {
		p, err := drv.Prepare(ctx, deploy.Request{Target: lambda.Target(fn, "live"), Revision: deploy.Revision{ID: "2"},
			Strategy: deploy.Canary(10, time.Minute)})
		if err != nil {
			return nil, err
		}
		return drv.Start(ctx, p)
	}
	slow, err := start("slow")
	if err != nil {
		t.Fatal(err)
	}
	shifted := make(chan error, 1)
	go func() { shifted <- drv.Shift(ctx, slow, 10) }()
	<-c.entered // the slow Shift holds its deployment now

	done := make(chan error, 1)
	go func() {
		fast, err := start("fast")
		if err == nil {
			_, err = drv.Status(ctx, fast)
		}
		if err == nil {
			err = drv.Shift(ctx, fast, 10)
		}
		done <- err
	}()
	again := make(chan error, 1)
	go func() {
		_, err := start("slow")
		again <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(c.release)
		t.Fatal("Start, Status and Shift of another alias waited for a slow UpdateAlias of alias slow:live")
	}
	close(c.release)
	if err := <-shifted; err != nil {
		t.Fatal(err)
	}
	if err := <-again; !errors.Is(err, deploy.ErrLocked) {
		t.Fatalf("a second Start of the shifting alias: %v, want an error wrapping ErrLocked", err)
	}
}
