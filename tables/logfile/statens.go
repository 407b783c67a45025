package logfile

import "github.com/osquery-syslog/osquery-syslog/eventstore"

// stateNS registers the owner of the saved positions' keys (StateKeyPrefix)
// with the event store, whose state keys are "<namespace>/<name>".
var stateNS = eventstore.NewNamespace("logfile")
