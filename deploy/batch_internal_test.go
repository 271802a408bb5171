package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// gatedBatcher holds its first StatusMany call until release is closed and
// records the size of every batch.
type gatedBatcher struct {
	release chan struct{}
	mu      sync.Mutex
	sizes   []int
}

func (g *gatedBatcher) StatusMany(_ context.Context, ds []*Deployment) ([]*Deployment, error) {
	g.mu.Lock()
	first := len(g.sizes) == 0
	g.sizes = append(g.sizes, len(ds))
	g.mu.Unlock()
	if first {
		<-g.release
	}
	out := make([]*Deployment, len(ds))
	var errs []error
	for i, d := range ds {
		if d.ID == "gone" {
			errs = append(errs, &Error{Op: "status", DeploymentID: d.ID, Err: ErrNotFound})
			continue
		}
		out[i] = &Deployment{ID: d.ID, Status: StatusInProgress}
	}
	return out, errors.Join(errs...)
}

func TestBatcherGathersConcurrentPolls(t *testing.T) {
	g := &gatedBatcher{release: make(chan struct{})}
	b := newBatcher(g, nil, SystemClock{}, 0, 0)
	ctx := context.Background()
	first := make(chan error, 1)
	go func() {
		_, err := b.status(ctx, &Deployment{ID: "d0"})
		first <- err
	}()
	// Wait until the first call is in flight, then queue nine more.
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.sizes) == 1 })
	var wg sync.WaitGroup
	results := make([]error, 9)
	for i := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("d%d", i+1)
			if i == 4 {
				id = "gone"
			}
			d, err := b.status(ctx, &Deployment{ID: id})
			if err == nil && d.ID != id {
				err = fmt.Errorf("got %s for %s", d.ID, id)
			}
			results[i] = err
		}()
	}
	waitFor(t, func() bool { return b.g.Pending() == 9 })
	close(g.release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, err := range results {
		if i == 4 {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("gone: err = %v, want ErrNotFound", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("d%d: %v", i+1, err)
		}
	}
	if want := []int{1, 9}; fmt.Sprint(g.sizes) != fmt.Sprint(want) {
		t.Fatalf("batch sizes %v, want %v", g.sizes, want)
	}
}

func TestErrorFor(t *testing.T) {
	a := &Error{Op: "status", DeploymentID: "a", Err: ErrNotFound}
	bErr := &Error{Op: "status", DeploymentID: "b", Err: errors.New("throttled")}
	joined := errors.Join(a, bErr)
	if got := errorFor(joined, "b"); got != bErr {
		t.Fatalf("errorFor(joined, b) = %v", got)
	}
	if got := errorFor(nil, "c"); !errors.Is(got, ErrNotFound) {
		t.Fatalf("errorFor(nil, c) = %v", got)
	}
	if got := errorFor(a, "c"); !errors.Is(got, ErrNotFound) || got == error(a) {
		t.Fatalf("errorFor(a, c) = %v", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// With a window, polls that fall due within it go out together, in
// batches no larger than the driver's StatusBatchSize.
func TestBatcherGathersByTimeInBatchesOfTheDriversSize(t *testing.T) {
	g := &gatedBatcher{release: make(chan struct{})}
	close(g.release)
	clk := &windowClock{opened: make(chan struct{}), fire: make(chan time.Time)}
	b := newBatcher(g, nil, clk, time.Second, 3)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 7 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.status(ctx, &Deployment{ID: fmt.Sprint("d", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	<-clk.opened // the window opened with the first poll
	waitFor(t, func() bool { return b.g.Pending() == 7 })
	clk.fire <- time.Time{} // the window closes: all seven go, three at a time
	wg.Wait()
	if want := []int{3, 3, 1}; fmt.Sprint(g.sizes) != fmt.Sprint(want) {
		t.Fatalf("batch sizes %v, want %v", g.sizes, want)
	}
}

// windowClock lets the test say when a batch window closes.
type windowClock struct {
	once   sync.Once
	opened chan struct{}
	fire   chan time.Time
}

func (c *windowClock) Now() time.Time { return time.Time{} }
func (c *windowClock) After(time.Duration) <-chan time.Time {
	c.once.Do(func() { close(c.opened) })
	return c.fire
}
