package logfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// visit checks one path: new file, rotation, truncation or growth.
func (t *Tailer) visit(path string) error {
	f := t.cur[path]
	id, err := statPathNoBirth(path)
	if err == nil {
		if f != nil && f.f != nil && f.pos.id().sameInode(id) {
			// We hold this inode open, so it cannot have been freed and
			// reused: it is still our file.
			id.Birth = f.pos.Birth
		} else {
			id.Birth = birthTime(path)
		}
	}
	if err != nil {
		if f != nil && errors.Is(err, fs.ErrNotExist) {
			// Deleted (or renamed away) and not recreated yet: keep
			// draining the open file.
			return t.retire(f)
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotRegular) {
			t.fail("stat", path, err)
		}
		return nil
	}
	if f == nil {
		return t.open(path, id)
	}
	if !f.pos.id().sameFile(id) {
		// Rename rotation or delete + recreate: the path names another
		// file. Drain the old one to its end first, so every line of the
		// old generation is stored before any line of the new one.
		t.src.Rotations.Add(1)
		t.log.Info("log file rotated", "path", path, "old_inode", f.pos.Ino, "new_inode", id.Ino)
		if err := t.retire(f); err != nil {
			return err
		}
		return t.open(path, id)
	}
	if id.Size == f.last.Size && id.MtimeNS == f.last.MtimeNS {
		return nil // idle
	}
	if f.f == nil {
		fd, fid, err := openID(path)
		if err != nil {
			t.fail("open", path, err)
			return nil
		}
		if !f.pos.id().sameInode(fid) {
			fd.Close()
			return nil // replaced between stat and open: the next step sees the rotation
		}
		f.f = fd
	}
	return t.read(f, id)
}

// open starts following the file at path: resumed from a saved position
// that still proves itself, else from its start. Saved generations of the
// path that were rotated away while we were down are found again and
// drained first.
func (t *Tailer) open(path string, id fileID) error {
	fd, fid, err := openID(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.fail("open", path, err)
		}
		return nil
	}
	fid.Birth = id.Birth
	if !fid.sameInode(id) {
		fid.Birth = birthTime(path)
	}
	// Renamed to a name the patterns also match (app.log -> app.log.1 with
	// "app.log*"): the file is already followed; it moves to its new name
	// and keeps its position, instead of being read again from 0.
	if g := t.followerOf(fid); g != nil {
		return t.adopt(g, path, fd, fid)
	}
	f := &follower{
		pos:    position{Path: path, Dev: fid.Dev, Ino: fid.Ino, Birth: fid.Birth, Current: true, Seq: time.Now().UnixNano()},
		f:      fd,
		sp:     splitter{max: t.cfg.MaxLine},
		dirty:  true,
		active: t.now(),
	}
	f.committed = f.pos // if the first store fails, start over from here
	saved := t.saved[path]
	delete(t.saved, path)
	// A saved position of this very file under another name (renamed
	// while we were down to a name that is matched too) belongs here.
	for other, list := range t.saved {
		for i := 0; i < len(list); i++ {
			if list[i].id().sameFile(fid) {
				saved = append(saved, list[i])
				list = slices.Delete(list, i, i+1)
				i--
			}
		}
		t.saved[other] = list
	}
	// Older generations first: they are drained before the file at the path.
	sort.Slice(saved, func(i, j int) bool { return saved[i].Seq < saved[j].Seq })
	for _, p := range saved {
		if p.id().sameFile(fid) {
			if t.verify(fd, fid, p) {
				moved := p.Path != path
				if moved {
					t.tombstones[p.key()] = "" // stored again under the new name
					p.Path = path
				}
				p.Current = true
				f.pos = p
				f.committed = p
				f.sp.skipping = p.Skipping
				f.dirty = moved
				t.log.Info("resuming log file", "path", path, "offset", p.Offset, "line", p.Line)
				continue
			}
			t.log.Info("saved position does not match the file any more (truncated or inode reused); reading it from the start", "path", path)
			t.tombstones[p.key()] = ""
			continue
		}
		if p.Current {
			t.src.Rotations.Add(1) // rotated or replaced while we were down
		}
		if err := t.recover(p); err != nil {
			fd.Close()
			return err
		}
	}
	t.cur[path] = f
	return t.read(f, fid)
}

// followerOf returns the follower (current or retired) of the file id, if
// any.
func (t *Tailer) followerOf(id fileID) *follower {
	for _, g := range t.cur {
		if g.pos.id().sameFile(id) {
			return g
		}
	}
	for _, g := range t.old {
		if g.pos.id().sameFile(id) {
			return g
		}
	}
	return nil
}

// adopt moves follower g, whose file is now named path, to that path.
func (t *Tailer) adopt(g *follower, path string, fd *os.File, id fileID) error {
	if cur, ok := t.cur[g.pos.Path]; ok && cur == g {
		delete(t.cur, g.pos.Path)
	}
	t.old = slices.DeleteFunc(t.old, func(o *follower) bool { return o == g })
	t.log.Info("log file renamed; following it under its new name", "old_path", g.pos.Path, "path", path)
	t.tombstones[g.pos.key()] = ""
	g.pos.Path = path
	g.pos.Current = true
	g.retired, g.finished = false, false
	g.pathAny = nil
	g.dirty = true
	if g.f == nil {
		g.f = fd
	} else {
		fd.Close()
	}
	t.cur[path] = g
	return t.read(g, id)
}

// recover finds a saved generation that is no longer at its path (rotated
// while we were down, or while its handle was closed) in the same directory
// and drains it from the saved position.
func (t *Tailer) recover(p position) error {
	t.tombstones[p.key()] = ""
	fd, fid := t.findInode(p)
	if fd == nil {
		t.log.Warn("saved log file generation not found; its unread lines are lost", "path", p.Path, "inode", p.Ino, "offset", p.Offset)
		return nil
	}
	delete(t.tombstones, p.key())
	p.Current = false
	f := &follower{pos: p, committed: p, f: fd, sp: splitter{max: t.cfg.MaxLine, skipping: p.Skipping}, active: t.now(), retired: true}
	f.pos.Current = false
	f.dirty = true
	t.old = append(t.old, f)
	t.log.Info("draining rotated log file", "path", p.Path, "inode", p.Ino, "offset", p.Offset)
	return t.read(f, fid)
}

// findInode looks for the file of p in p.Path's directory.
func (t *Tailer) findInode(p position) (*os.File, fileID) {
	dir := filepath.Dir(p.Path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fileID{}
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		id, ok := idOf(fi)
		if !ok || !id.sameInode(p.id()) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		id.Birth = birthTime(name)
		if !id.sameFile(p.id()) {
			return nil, fileID{}
		}
		fd, fid, err := openID(name)
		if err != nil || !fid.sameInode(id) {
			if fd != nil {
				fd.Close()
			}
			return nil, fileID{}
		}
		fid.Birth = id.Birth
		if !t.verify(fd, fid, p) {
			fd.Close()
			return nil, fileID{}
		}
		return fd, fid
	}
	return nil, fileID{}
}

// retire moves f off its path: it is drained (now and at every step) until
// it has not grown for RotateWait, then its unfinished last line, if any, is
// stored and it is closed.
func (t *Tailer) retire(f *follower) error {
	delete(t.cur, f.pos.Path)
	if f.f == nil {
		// Closed to respect MaxOpen: find the file again by inode.
		fd, fid := t.findInode(f.pos)
		if fd == nil {
			t.log.Warn("rotated log file not found; its unread lines are lost", "path", f.pos.Path, "inode", f.pos.Ino)
			t.tombstones[f.pos.key()] = ""
			return nil
		}
		f.f = fd
		f.last = fid
	}
	f.retired = true
	f.pos.Current = false
	f.dirty = true
	f.active = t.now()
	t.old = append(t.old, f)
	id, err := statFile(f.f)
	if err != nil {
		t.fail("stat", f.pos.Path, err)
		return nil
	}
	return t.read(f, id)
}

// drainOld reads the retired generations and finishes those that have been
// quiet for RotateWait.
func (t *Tailer) drainOld() error {
	for _, f := range slices.Clone(t.old) {
		if f.finished {
			continue
		}
		id, err := statFile(f.f)
		if err != nil {
			t.fail("stat", f.pos.Path, err)
			continue
		}
		if id.Size != f.last.Size || id.MtimeNS != f.last.MtimeNS {
			if err := t.read(f, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// finishQuiet finishes the retired generations that have been quiet for
// RotateWait. It runs after every path of a step has been visited, so that
// a rotated file that also matches the patterns under its new name is
// adopted (and keeps waiting for its unfinished line) rather than finished.
func (t *Tailer) finishQuiet() {
	for _, f := range slices.Clone(t.old) {
		if !f.finished {
			t.finishIfQuiet(f)
		}
	}
}

// finishIfQuiet ends a retired generation that has not grown for
// RotateWait: its unfinished last line is stored as a line (no writer will
// finish it), its position removed, its file closed.
func (t *Tailer) finishIfQuiet(f *follower) {
	if t.now().Sub(f.active) < t.cfg.RotateWait {
		return
	}
	n, err := f.f.ReadAt(t.buf, f.pos.Offset)
	if err != nil && !errors.Is(err, io.EOF) {
		t.fail("read", f.pos.Path, err)
	}
	if l, c, ok := f.sp.flush(t.buf[:n]); c > 0 {
		t.nowUnix = t.now().Unix()
		if ok {
			t.emit(f, l, f.pos.Offset)
		}
		f.pos.Offset += int64(c)
		t.src.BytesRead.Add(int64(c))
		t.remark(f)
	}
	f.finished = true
	f.dirty = true
}
