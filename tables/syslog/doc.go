// Package syslog reads the rsyslog/syslog-ng named pipe into the event store
// and serves the syslog_messages table.
package syslog

import _ "golang.org/x/sys/unix" // pipe setup (mkfifo, flock, F_SETPIPE_SZ)
