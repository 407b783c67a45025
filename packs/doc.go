// Package packs holds osquery query packs (JSON files in this folder) for
// the tables of this extension; its tests run every pack query on the
// embedded engine against realistic sample lines (testdata/).
//
//   - syslog-security.conf: sudo, su, SSH logins, new users and groups,
//     kernel errors, segfaults, service crashes and log floods, over
//     syslog_messages.
//   - journal-security.conf: the same detections over journal_messages, for
//     hosts where journald logs and no rsyslog runs. Same query names and
//     result columns (datetime computed from event_time_usec), plus the
//     entry's cursor (journalctl --cursor=... shows the entry with all its
//     fields). Programs are matched by identifier (SYSLOG_IDENTIFIER), which
//     is pushed down to the buffer. Its test writes the samples
//     (testdata/journal-samples.json, journalctl's json format) into a real
//     journal file and reads them through the table's own reader.
//
// Pack queries do not OR together equality terms on pushed-down columns
// (host, identifier, systemd_unit, boot_id): SQLite may then scan once per
// term and merge the scans by rowid, and the engine's rowids (row numbers
// per scan) repeat across scans, which drops rows. IN (...) and CASE are
// safe.
package packs
