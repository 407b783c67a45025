// Package journal serves journal_messages: systemd journal entries read
// through journald's own reader library, libsystemd (sd_journal), into the
// durable event buffer, so that hosts without rsyslog get their logs into
// osquery and a copied /var/log/journal can be read on any Linux host.
//
// # Reader choice
//
// The entries are read with sd_journal, the API journald documents for
// readers and that journalctl itself uses, not with a subprocess and not
// with a reader of our own: libsystemd follows every journal file format
// change (compact mode, zstd/lz4/xz compression, keyed hashes), verifies
// files, skips damaged ones, interleaves and deduplicates files of one
// directory, and follows rotation with inotify. A pure-Go reader would have
// to redo all of that and trail systemd's releases.
//
// libsystemd.so.0 is opened with dlopen at run time, and the twenty-odd
// functions are resolved with dlsym (sdjournal_linux.c). Building needs no
// systemd headers or library (no libsystemd-dev), only cgo, which the
// SQLite buffer needs anyway; a binary built on one host runs on any Linux
// host, with or without systemd. Where libsystemd.so.0 is missing, and on
// macOS or builds without cgo (reader_other.go), Open records the reason as
// the journal source's state in osquery_syslog_stats ("unavailable: ...");
// journal_messages exists and is empty; nothing fails.
//
// github.com/coreos/go-systemd/v22/sdjournal was the other candidate: it
// dlopens libsystemd too, but it compiles against systemd's headers, and it
// makes one cgo call (with a mutex and a symbol lookup) per field of every
// entry. Here one cgo call (jr_read) copies up to thousands of whole entries
// (realtime and monotonic timestamps, cursor, every field) into one Go
// buffer, which is what makes ingestion faster than journalctl -o json on
// the same files (BenchmarkJournalIngest, make bench).
//
// # Position
//
// Rows go to the event buffer through eventsrc.Writer (group commit,
// expiry, the one truncation rule), each with its cursor as the state, so
// every transaction stores the cursor of its own last entry with its rows
// (eventstore AppendState), under a key per --journal_path: after a restart or kill -9 the source seeks to it and
// continues with the next entry, with nothing lost and nothing twice. When
// the cursor's entry no longer exists (the journal was vacuumed, or rotated
// away), sd_journal_seek_cursor stands at the closest later entry, which is
// the oldest one still there: reading resumes there and the journal row of
// osquery_syslog_stats counts a gap. A first start reads from
// --journal_since: boot (the default: the current boot's first entry, or
// when the journal does not hold this boot, as with a copied journal, the
// time this host booted), all, now, an RFC 3339 time or unix seconds.
//
// # Reading a copied journal
//
// The query subcommand given --journal_path reads that journal (a copied
// /var/log/journal, on any Linux host with libsystemd) to its end
// (Reader.ReadAll) into a private temporary buffer, and answers the SQL with
// journal_messages over it; --journal_since defaults to all there, and
// --database_path is neither read for journal_messages nor written:
//
//	osquery-syslog.ext query --journal_path /evidence/var/log/journal \
//	  "SELECT datetime(event_time, 'unixepoch'), tag, message FROM journal_messages WHERE identifier = 'sshd'"
//
// A daemon with --journal_path and --journal_since all keeps such a copy in
// a buffer of its own instead, for many queries over a large journal.
//
// # Rows
//
// Each entry becomes one row (Columns documents each column): the fields
// with a column of their own are stored there (integers only when written
// canonically, so nothing is altered); every other field, and
// __MONOTONIC_TIMESTAMP, is stored in fields as a JSON object, values as
// journalctl -o json writes them (a string when valid UTF-8, else an array
// of byte values). MESSAGE is stored byte for byte, binary or not.
//
// Damaged journal files (bad signature, truncated) are counted in
// parse_errors of the journal stats row, each once, and skipped, as
// sd_journal skips them; an entry whose data cannot be read is skipped and
// counted the same way, as journalctl skips it.
package journal
