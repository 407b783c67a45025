// Package syslog reads the named pipe that rsyslog (or syslog-ng) writes
// with osquery's CSV template into the event store, and serves the
// syslog_messages table from it.
//
// It replaces osquery's own syslog publisher and keeps its parsing exactly
// (six CSV fields, rsyslog's quoting, trimmed fields, one ':' off the tag,
// osquery's error wording) while fixing what makes that publisher weak:
//
//   - no rate cap of ~500 lines/s: lines are read through a 1 MiB buffer and
//     appended in batches, one transaction per batch;
//   - bad input never stops ingestion (osquery gives up for good after ten
//     net parse errors); each bad line is counted and skipped;
//   - a long line is kept, truncated to MaxLine bytes and flagged, instead
//     of losing its first 2 KiB and producing a bogus line from its tail;
//   - the syslog timestamp is also parsed (event_time), honouring its offset;
//   - the pipe is checked before use: symlinks, non-FIFOs and
//     world-writable FIFOs are refused.
//
// Wiring rsyslog: the template and action of osquery's documentation work
// unchanged, pointed at the extension's --syslog_pipe_path.
package syslog
