package logfile

import (
	"encoding/json"
	"fmt"
	"slices"
)

// flush stores the pending lines and the positions after them in one
// transaction. On failure every position goes back to what is stored, so the
// lines are read again.
func (t *Tailer) flush() error {
	state := map[string]string{}
	var dirty []*follower
	for _, f := range t.followers() {
		if !f.dirty {
			continue
		}
		dirty = append(dirty, f)
		if f.finished {
			state[f.pos.key()] = "" // done: forget the position
			continue
		}
		t.sign(f)
		b, _ := json.Marshal(f.pos)
		state[f.pos.key()] = string(b)
	}
	for k, v := range t.tombstones {
		if _, ok := state[k]; !ok {
			state[k] = v
		}
	}
	if err := t.batch.Commit(state); err != nil {
		for _, f := range dirty {
			path := f.pos.Path // a renamed file keeps its new name
			f.pos = f.committed
			f.pos.Path = path
			f.pathAny = nil
			f.pos.Current = !f.retired
			f.sp.skipping = f.pos.Skipping
			f.last = fileID{}
			f.finished = false
		}
		t.fail("store", "", err)
		return fmt.Errorf("storing log lines: %w", err)
	}
	for _, f := range dirty {
		f.committed = f.pos
		f.dirty = false
		if f.finished {
			f.close()
		}
	}
	t.old = slices.DeleteFunc(t.old, func(g *follower) bool { return g.finished })
	clear(t.tombstones)
	return nil
}

func (t *Tailer) followers() []*follower {
	out := make([]*follower, 0, len(t.cur)+len(t.old))
	out = append(out, t.old...)
	for _, f := range t.cur {
		out = append(out, f)
	}
	return out
}
