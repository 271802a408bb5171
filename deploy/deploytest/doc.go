// Package deploytest is what switchyard's users and drivers test with.
//
// Driver is an in-memory deploy.Driver that follows the whole contract and
// implements every optional interface. It can be told to fail at any
// strategy step (FailNext), to fail starting or reporting, to stop slowly
// (StopSlowly: StopPending first) or to refuse to stop (RefuseStop), and it
// records every call so a test can assert that a dry run made no mutating
// one. In engine mode it stands in for a Lambda alias the engine shifts; in
// platform mode it follows the strategy by itself on its clock, as ECS or
// CodeDeploy do, and with PlatformRollback it rolls itself back on failure.
//
// Clock is a controllable deploy.Clock: manual (Advance, Set, BlockUntil)
// or auto-advancing, so an hour-long canary runs in microseconds. Alarm is a
// gate that stands in for a CloudWatch alarm.
//
// Run is the conformance suite every driver passes, ours and users': one
// subtest per clause of the Driver contract, against a Harness the driver's
// test provides.
package deploytest
