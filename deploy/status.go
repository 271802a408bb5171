package deploy

// Status is where a deployment stands. The zero value is not a valid status;
// drivers always report one of the named constants.
type Status string

// The statuses a deployment moves through. Created, Queued, InProgress, Baking
// and Ready are live; Succeeded, Failed, Stopped and RolledBack are terminal.
const (
	// StatusCreated: the platform accepted the deployment but has not begun it.
	StatusCreated Status = "Created"
	// StatusQueued: the deployment waits behind another one on the same target.
	StatusQueued Status = "Queued"
	// StatusInProgress: the platform is replacing the revision or shifting traffic.
	StatusInProgress Status = "InProgress"
	// StatusBaking: traffic is partly or wholly on the new revision and the
	// deployment waits out a bake period while gates are watched.
	StatusBaking Status = "Baking"
	// StatusReady: the deployment waits for approval (an approval step, or a
	// blue/green deployment waiting to reroute traffic).
	StatusReady Status = "Ready"
	// StatusSucceeded: the new revision serves all traffic.
	StatusSucceeded Status = "Succeeded"
	// StatusFailed: the deployment ended without reaching the new revision and
	// nothing was rolled back.
	StatusFailed Status = "Failed"
	// StatusStopped: the deployment was stopped on request and not rolled back.
	StatusStopped Status = "Stopped"
	// StatusRolledBack: the deployment ended and the target was returned to
	// the revision it ran before. A rolled-back deployment never counts as a
	// success, whatever the platform's own deployment record says.
	StatusRolledBack Status = "RolledBack"
)

// Statuses lists every valid status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusCreated, StatusQueued, StatusInProgress, StatusBaking, StatusReady,
		StatusSucceeded, StatusFailed, StatusStopped, StatusRolledBack}
}

// Terminal reports whether s is a final status: no further change follows.
func (s Status) Terminal() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusStopped, StatusRolledBack:
		return true
	}
	return false
}

// Valid reports whether s is one of the named statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses() {
		if s == v {
			return true
		}
	}
	return false
}

// String returns the status name.
func (s Status) String() string { return string(s) }
