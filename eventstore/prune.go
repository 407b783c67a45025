package eventstore

import "fmt"

// PruneStates deletes the state keys that start with prefix (itself starting
// with a registered "<namespace>/") and hold an empty value. Readers that keep per-item state (a log tailer's positions)
// end an item by storing "" with AppendState, atomically with their rows,
// and prune the empty keys later, so the state table does not grow with
// every item ever seen. It returns the number of keys deleted.
func (s *Store) PruneStates(prefix string) (int64, error) {
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	// Keys compare bytewise, so the keys with the prefix all sort at or
	// after it: the primary key finds the start, substr checks the rest.
	st, err := s.prepare(`DELETE FROM ` + stateTable + ` WHERE key >= ?1 AND substr(key, 1, length(?1)) = ?1 AND (value IS NULL OR value = '')`)
	if err != nil {
		return 0, fmt.Errorf("eventstore: prune states: %w", err)
	}
	defer st.Close()
	args := namedArgs(1)
	args[0].Value = prefix
	n, err := execChanges(st, args)
	if err != nil {
		return 0, fmt.Errorf("eventstore: prune states: %w", err)
	}
	return n, nil
}
