package platform

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/internal/gather"
)

// DefaultAlarmBatchWindow is the default of AlarmBatcherOptions.Window.
const DefaultAlarmBatchWindow = time.Second

// AlarmBatcherOptions configures an AlarmBatcher. The zero value of each
// field means its documented default.
type AlarmBatcherOptions struct {
	// Clock times the window. Default deploy.SystemClock{}. Give it the
	// engine's clock (deploy.Options.Clock) when that is not the wall
	// clock, so that the window passes with the engine's time.
	Clock deploy.Clock
	// Window is how long the batcher gathers lookups, from the first one
	// that finds it idle, before it calls DescribeAlarms for all of them:
	// each check of a gate that uses it waits up to Window longer (a
	// gate is checked every deploy.Options.GateInterval, 30 s by default).
	// Default DefaultAlarmBatchWindow. A negative Window means no wait:
	// only the lookups that arrive while a call is in flight go out
	// together in the next.
	Window time.Duration
}

// AlarmBatcher gathers the alarm name lookups of many AlarmGates (the gates
// of a fleet's deployments, each checked on its own schedule) into few
// DescribeAlarms calls: the lookups made within one window go out together,
// each call with up to 100 AlarmNames (CloudWatch's limit), every alarm
// named once however many gates watch it, and each gate is answered from
// the result as if it had made the calls itself. 300 gates over distinct
// alarms checked within a window cost 3 DescribeAlarms calls instead of
// 300.
//
// Create one per CloudWatch client (one account and region) with
// NewAlarmBatcher and pass it to every gate in AlarmGateOptions.Batcher;
// the gates that share it must watch alarms of that account and region.
// Gates look their Names up through it, with its client; their Prefixes
// are still looked up by each gate, with its own client, since a prefix
// query returns alarms no other gate asked for. It is safe for concurrent
// use and keeps nothing between windows: a check always sees CloudWatch's
// state from after the check began. A gate whose context ends while it
// waits returns at once with the context's error; the calls of a batch end
// early only when every gate in it has stopped waiting.
type AlarmBatcher struct {
	api CloudWatchAPI
	g   gather.Gatherer[*alarmLookup]
}

type alarmLookup struct {
	ctx   context.Context
	names []string
	done  chan alarmAnswer // buffered: the batcher never waits on it
}

type alarmAnswer struct {
	found map[string]AlarmState
	err   error
}

// NewAlarmBatcher returns a batcher that calls DescribeAlarms on api. It
// returns an error wrapping deploy.ErrInvalidRequest when api is nil. It
// makes no AWS call.
func NewAlarmBatcher(api CloudWatchAPI, o AlarmBatcherOptions) (*AlarmBatcher, error) {
	if api == nil {
		return nil, deploy.Invalid("cloudwatch client", "", "must not be nil")
	}
	if o.Clock == nil {
		o.Clock = deploy.SystemClock{}
	}
	switch {
	case o.Window == 0:
		o.Window = DefaultAlarmBatchWindow
	case o.Window < 0:
		o.Window = 0
	}
	b := &AlarmBatcher{api: api}
	b.g = gather.Gatherer[*alarmLookup]{Clock: o.Clock, Window: o.Window, Send: b.send}
	return b, nil
}

// lookup returns the states of those of names that exist, looked up in the
// next batch. Its error is DescribeAlarms' own (not wrapped), or ctx's
// when ctx ends first.
func (b *AlarmBatcher) lookup(ctx context.Context, names []string) (map[string]AlarmState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l := &alarmLookup{ctx: ctx, names: names, done: make(chan alarmAnswer, 1)}
	b.g.Add(l)
	select {
	case a := <-l.done:
		return a.found, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// send looks up every name the live lookups of batch ask for, 100 names a
// DescribeAlarms call, and answers each lookup.
func (b *AlarmBatcher) send(batch []*alarmLookup) {
	var live []*alarmLookup
	for _, l := range batch {
		if l.ctx.Err() == nil {
			live = append(live, l)
		}
	}
	if len(live) == 0 {
		return
	}
	// The calls serve several gates, so no single gate's cancellation may
	// end them; they carry the first gate's values and end once every gate
	// has stopped waiting.
	ctx, cancel := context.WithCancel(context.WithoutCancel(live[0].ctx))
	defer cancel()
	waiting := atomic.Int64{}
	waiting.Store(int64(len(live)))
	for _, l := range live {
		stop := context.AfterFunc(l.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	var names []string
	seen := map[string]bool{}
	for _, l := range live {
		for _, n := range l.names {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	found := map[string]AlarmState{}
	failed := map[string]error{}
	for start := 0; start < len(names); start += maxAlarmNamesPerCall {
		chunk := names[start:min(start+maxAlarmNamesPerCall, len(names))]
		if err := describeAlarms(ctx, b.api, chunk, nil, found); err != nil {
			for _, n := range chunk {
				failed[n] = err
			}
		}
	}
	for _, l := range live {
		a := alarmAnswer{found: make(map[string]AlarmState, len(l.names))}
		for _, n := range l.names {
			if err := failed[n]; err != nil {
				a = alarmAnswer{err: err}
				break
			}
			if s, ok := found[n]; ok {
				a.found[n] = s
			}
		}
		l.done <- a
	}
}
