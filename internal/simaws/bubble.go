package simaws

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The environment through which Run hands a spec to the test it starts,
// and the test hands its Result back.
const (
	specEnv   = "SIMAWS_SPEC"
	resultEnv = "SIMAWS_RESULT"
)

// childTimeout bounds, in real time, the test Run starts: a 1000-target
// fleet takes seconds.
const childTimeout = 5 * time.Minute

// Run runs the test named test of the running test binary in a process of
// its own, with spec in its environment, and returns the Result the test
// wrote (with Write). It fails b if the test fails or writes nothing.
//
// It is how a benchmark runs a fleet in virtual time: testing/synctest's
// bubbles (fake time that moves on when every goroutine waits) take a
// *testing.T, and Go 1.26 offers no way to make one from a *testing.B.
// The test the benchmark names calls Spec first, which skips it unless Run
// started it, so `go test` runs it as a test only in that way; there it
// runs the fleet in synctest.Test and calls Write.
func Run(b *testing.B, test, spec string) Result {
	b.Helper()
	out := filepath.Join(b.TempDir(), "result.json")
	// The timeout makes a bubble that stalls (a goroutine blocked on a
	// mutex held across a sleep stops its clock) fail with every
	// goroutine's stack instead of hanging.
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v", "-test.timeout="+childTimeout.String())
	cmd.Env = append(os.Environ(), specEnv+"="+spec, resultEnv+"="+out)
	log, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%s (%s): %v\n%s", test, spec, err, log)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatalf("%s (%s) wrote no result: %v\n%s", test, spec, err, log)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		b.Fatalf("%s (%s): %v", test, spec, err)
	}
	return r
}

// Spec returns the spec Run passed to this test, and skips t when Run did
// not start it.
func Spec(t *testing.T) string {
	t.Helper()
	spec := os.Getenv(specEnv)
	if spec == "" || os.Getenv(resultEnv) == "" {
		t.Skip("run by a benchmark through simaws.Run only")
	}
	return spec
}

// Write hands r back to the benchmark that started this test.
func Write(t *testing.T, r Result) {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv(resultEnv), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Report reports the mean of results as b's metrics: wall/floor (the wall
// time over the floor, see Result.Floor), calls/useful (every call,
// throttled ones included, per call that went through), throttled (calls),
// failed (deployments), wall/(floor+solo) (the wall time over the floor
// plus one target's own time: what making every call back to back and
// then waiting for the last target would take), and wall-s, floor-s and
// solo-s (seconds, on the bubble's clock; solo is Result.Solo). The last
// result is logged family by family.
func Report(b *testing.B, results []Result) {
	b.Helper()
	if len(results) == 0 {
		return
	}
	var ratio, serial, perUseful, throttled, failed, wall, floor, solo float64
	for _, r := range results {
		f, _ := r.Floor()
		calls, thr, useful := r.Totals()
		ratio += r.Wall.Seconds() / max(f.Seconds(), 1e-9)
		serial += r.Wall.Seconds() / max(f.Seconds()+r.Solo.Seconds(), 1e-9)
		perUseful += float64(calls) / float64(max(useful, 1))
		throttled += float64(thr)
		failed += float64(r.Failed)
		wall += r.Wall.Seconds()
		floor += f.Seconds()
		solo += r.Solo.Seconds()
	}
	n := float64(len(results))
	b.ReportMetric(ratio/n, "wall/floor")
	b.ReportMetric(perUseful/n, "calls/useful")
	b.ReportMetric(throttled/n, "throttled")
	b.ReportMetric(failed/n, "failed")
	b.ReportMetric(serial/n, "wall/(floor+solo)")
	b.ReportMetric(wall/n, "wall-s")
	b.ReportMetric(floor/n, "floor-s")
	b.ReportMetric(solo/n, "solo-s")
	b.Log(results[len(results)-1])
}
