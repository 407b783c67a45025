// Package logfile follows log files into the event store and serves them as
// logfile_lines: every complete line exactly once, in order per file
// generation, across the ways log files get rotated.
//
// Identity. A followed file is its (device, inode), its birth time where the
// file system records one (statx), and a hash of its first bytes (up to
// 1 KiB). A position (offset, line number) is saved with the rows it
// produced, in one event-store transaction, together with a hash of the 64
// bytes before it; on resume it is trusted only if all of these still
// match, so neither a truncated-and-rewritten file nor a new file that got
// a deleted file's inode is read from the middle.
//
// Rotation matrix (what each case looks like and what the tailer does):
//
//   - rename rotation (mv a a.1; new a): the path names another inode. The
//     old file is still open: it is read to its end first, kept open while
//     it grows (writers that have not reopened yet) and, once quiet for
//     RotateWait, its unfinished last line is stored and it is closed. Then
//     the new file is read from 0. Rotated while we were down: the saved
//     inode is looked up in the same directory and drained the same way.
//   - renamed to a name the patterns also match (app.log -> app.log.1 with
//     "app.log*"): the follower moves to the new name with its position;
//     the same file is never followed twice, live or after a restart.
//   - copytruncate: same inode, size below our offset (or, if it already
//     grew back, the marker hash differs): a new generation from 0. Lines
//     written between our last read and the truncation exist only in the
//     copy: an inherent window of copytruncate, documented, not fixable by
//     any tailer that does not also follow the copy.
//   - delete and recreate: like rename rotation; the deleted file is drained
//     through its open handle.
//   - inode reuse: same (device, inode), different birth time or head hash:
//     a new file, read from 0.
//   - unfinished last line: not stored (and the position stays before it)
//     until its newline arrives; CRLF endings lose the CR.
//   - long lines: the first MaxLine bytes are stored (less a UTF-8
//     character the cut would split: eventsrc.Truncate), flagged truncated,
//     and the rest of the line is skipped (the skip survives restarts).
//
// Rows and positions are stored through eventsrc.Batch, one transaction
// per step (or per BatchSize lines).
//
// Change detection uses inotify on the patterns' directories where
// available, with a full scan every RescanInterval as a safety net, and
// polling every PollInterval otherwise. At most MaxOpen file handles are
// held: idle files are closed and reopened when they change.
package logfile
