package logfile

import (
	"errors"
	"io"
)

// read takes the new complete lines of f, after checking that the bytes
// before its position are still the ones it read.
//
// copytruncate: the writer keeps its file and logrotate copies it then
// truncates it to 0. A size below our position means exactly that: the new
// generation starts at 0. When the file has already grown past our position
// again, the size does not tell, but the marker (hash of the 64 bytes before
// the position) no longer matches: same answer. Inherent window: lines
// written between our last read and the truncation exist only in the copy
// and are not read (every copytruncate tailer has this window; rename
// rotation has none).
func (t *Tailer) read(f *follower, id fileID) error {
	if id.Size < f.pos.Offset || !t.markerOK(f) {
		t.src.Rotations.Add(1)
		t.log.Info("log file truncated; reading it from the start", "path", f.pos.Path, "size", id.Size, "offset", f.pos.Offset)
		t.restart(f, id)
	}
	f.last = id
	return t.readLines(f)
}

func (t *Tailer) markerOK(f *follower) bool {
	if f.pos.Offset == 0 {
		return true
	}
	n := min(int64(markerLen), f.pos.Offset)
	h, ok := hashRange(f.f, f.pos.Offset-n, n, t.hbuf)
	return ok && h == f.pos.Marker
}

// restart begins a new generation of the same file at offset 0.
func (t *Tailer) restart(f *follower, id fileID) {
	f.pos = position{Path: f.pos.Path, Dev: id.Dev, Ino: id.Ino, Birth: f.pos.Birth, Current: f.pos.Current, Seq: f.pos.Seq}
	f.sp.skipping = false
	f.dirty = true
}

// readLines reads f from its position to the end of the file, taking every
// complete line.
func (t *Tailer) readLines(f *follower) error {
	for {
		n, err := f.f.ReadAt(t.buf, f.pos.Offset)
		if err != nil && !errors.Is(err, io.EOF) {
			t.fail("read", f.pos.Path, err)
			return nil
		}
		if n == 0 {
			return nil
		}
		f.active = t.now()
		t.nowUnix = f.active.Unix()
		data := t.buf[:n]
		// One string per read: the messages are substrings of it.
		t.chunk = ""
		done := 0
		for {
			l, start, c, ok := f.sp.next(data[done:])
			if ok {
				if t.chunk == "" {
					t.chunk = string(data)
				}
				from := done + start
				t.emitText(f, t.chunk[from:from+len(l.text)], l.truncated, f.pos.Offset+int64(from))
			}
			done += c
			if !ok {
				break
			}
		}
		if done > 0 {
			f.pos.Offset += int64(done)
			f.pos.Skipping = f.sp.skipping
			f.dirty = true
			t.src.BytesRead.Add(int64(done))
			if done >= markerLen {
				f.pos.Marker = hashBytes(data[done-markerLen : done])
			} else {
				t.remark(f)
			}
		}
		if t.batch.Len() >= t.cfg.BatchSize {
			if err := t.flush(); err != nil {
				return err
			}
		}
		if n < len(t.buf) || done == 0 {
			return nil
		}
	}
}

// emit queues one line of f as an event.
func (t *Tailer) emit(f *follower, l line, off int64) {
	t.emitText(f, string(l.text), l.truncated, off)
}

func (t *Tailer) emitText(f *follower, text string, truncated bool, off int64) {
	f.pos.Line++
	var trunc int64
	if truncated {
		trunc = 1
		t.src.TruncatedLines.Add(1)
	}
	t.src.LinesRead.Add(1)
	if f.pathAny == nil || f.inoAny == nil {
		f.pathAny, f.inoAny = f.pos.Path, int64(f.pos.Ino)
	}
	v := t.batch.Row()
	v[colPath], v[colLine], v[colMessage], v[colOffset], v[colInode], v[colTruncated] = f.pathAny, f.pos.Line, text, off, f.inoAny, trunc
	t.batch.Add(t.nowUnix, v)
}
