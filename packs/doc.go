// Package packs holds osquery query packs (JSON files in this folder) for
// the tables of this extension; its tests run every pack query on the
// embedded engine against realistic sample lines (testdata/).
//
//   - syslog-security.conf: sudo, su, SSH logins, new users and groups,
//     kernel errors, segfaults, service crashes and log floods, over
//     syslog_messages.
package packs
