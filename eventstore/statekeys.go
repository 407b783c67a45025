package eventstore

import (
	"fmt"
	"strings"
	"sync"
)

// Namespace is one owner's share of the state keys: every key it makes is
// "<owner>/<name>". Make one per owner, at package level, with NewNamespace.
type Namespace struct{ owner string }

var (
	nsMu     sync.Mutex
	nsOwners = map[string]bool{}
)

// NewNamespace registers owner as a state-key namespace and returns its
// handle. owner is a non-empty word without '/'; registering the same owner
// twice is a programming error, and NewNamespace panics on it (two owners
// would overwrite each other's state).
func NewNamespace(owner string) Namespace {
	if owner == "" || strings.Contains(owner, "/") {
		panic(fmt.Sprintf("eventstore: invalid state namespace %q", owner))
	}
	nsMu.Lock()
	defer nsMu.Unlock()
	if nsOwners[owner] {
		panic(fmt.Sprintf("eventstore: state namespace %q registered twice", owner))
	}
	nsOwners[owner] = true
	return Namespace{owner: owner}
}

// Key returns the state key of name in n: "<owner>/<name>".
func (n Namespace) Key(name string) string { return n.owner + "/" + name }

// Prefix returns "<owner>/", the prefix of every key of n (for States and
// PruneStates).
func (n Namespace) Prefix() string { return n.owner + "/" }

// checkKey accepts a key "<owner>/<name>" with owner registered and name
// non-empty. checkPrefix accepts "<owner>/" and anything longer.
func checkKey(key string) error {
	if owner, name, ok := strings.Cut(key, "/"); ok && name != "" && registered(owner) {
		return nil
	}
	return fmt.Errorf("eventstore: state key %q is not <namespace>/<name> with a registered namespace", key)
}

func checkPrefix(prefix string) error {
	if owner, _, ok := strings.Cut(prefix, "/"); ok && registered(owner) {
		return nil
	}
	return fmt.Errorf("eventstore: state prefix %q does not start with a registered <namespace>/", prefix)
}

func registered(owner string) bool {
	nsMu.Lock()
	defer nsMu.Unlock()
	return nsOwners[owner]
}

// legacyStateKeys maps the key prefixes that releases before the namespace
// rule wrote to their keys under the rule. Keys already of the form
// "<owner>/<name>" (logfile positions "logfile/...", stats snapshots
// "stats/...") kept their names.
var legacyStateKeys = []struct{ old, new string }{
	{"daemon.instance_id", "daemon/instance_id"}, // a whole key
	{"schedule.interval.", "schedule/interval/"}, // + query name: splayed interval
	{"schedule.query.", "schedule/query/"},       // + query name: differential state
}

// migrateStateKeys renames legacy keys, in one transaction. Where a store
// holds both a legacy key and its new name (a downgrade that ran on), the
// legacy key's value, written last, wins. It runs on every Open and does
// nothing once the keys are renamed.
func (s *Store) migrateStateKeys() error {
	// Look before taking the write lock: most opens find nothing to do.
	where := make([]string, len(legacyStateKeys))
	for i, m := range legacyStateKeys {
		where[i] = hasPrefix(m.old)
	}
	found, err := s.exists(`SELECT 1 FROM ` + stateTable + ` WHERE ` + strings.Join(where, " OR ") + ` LIMIT 1`)
	if err != nil || !found {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	for _, m := range legacyStateKeys {
		err := s.exec(fmt.Sprintf(`UPDATE OR REPLACE %s SET key = %s || substr(key, %d) WHERE %s`,
			stateTable, sqlString(m.new), len(m.old)+1, hasPrefix(m.old)))
		if err != nil {
			s.rollback()
			return fmt.Errorf("renaming state keys %s*: %w", m.old, err)
		}
	}
	return s.commit()
}

// hasPrefix is the SQL condition "key starts with p". Keys compare bytewise:
// the primary key finds the run of keys at or after p, substr checks the rest.
func hasPrefix(p string) string {
	return fmt.Sprintf("(key >= %s AND substr(key, 1, %d) = %s)", sqlString(p), len(p), sqlString(p))
}

// sqlString quotes a constant as an SQL string literal.
func sqlString(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
