package gather

import (
	"sync"
	"testing"
	"time"
)

// manual is a clock whose After fires when the test says.
type manual struct{ fire chan time.Time }

func (m manual) After(time.Duration) <-chan time.Time { return m.fire }

// Requests added within the window go out together; one added while a
// batch is being sent goes in the next; after a quiet send the next
// request opens a new window.
func TestGathererBatchesByWindow(t *testing.T) {
	clk := manual{fire: make(chan time.Time)}
	var mu sync.Mutex
	var batches [][]int
	sending := make(chan struct{})
	release := make(chan struct{})
	g := &Gatherer[int]{Clock: clk, Window: time.Second, Send: func(b []int) {
		mu.Lock()
		batches = append(batches, append([]int(nil), b...))
		n := len(batches)
		mu.Unlock()
		if n == 1 {
			sending <- struct{}{}
			<-release
		}
	}}
	g.Add(1)
	g.Add(2)
	g.Add(3)
	clk.fire <- time.Time{} // the window closes: 1, 2, 3 go
	<-sending
	g.Add(4) // arrives while the first batch is being sent
	g.Add(5)
	close(release)
	clk.fire <- time.Time{} // the next batch's window
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 2 })
	g.Add(6)
	clk.fire <- time.Time{}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 3 })
	mu.Lock()
	defer mu.Unlock()
	want := [][]int{{1, 2, 3}, {4, 5}, {6}}
	for i := range want {
		if len(batches[i]) != len(want[i]) {
			t.Fatalf("batches %v, want %v", batches, want)
		}
		for j := range want[i] {
			if batches[i][j] != want[i][j] {
				t.Fatalf("batches %v, want %v", batches, want)
			}
		}
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
