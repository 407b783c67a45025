package schedule

import (
	"fmt"
	"testing"
	"time"
)

func benchRows(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{
			"datetime": "2026-11-02T07:05:16.000000+00:00", "host": "web-1", "tag": fmt.Sprintf("sshd[%d]", 2200+i),
			"message":        fmt.Sprintf("Failed password for invalid user admin from 198.51.100.23 port %d ssh2", 40000+i),
			"remote_address": "198.51.100.23",
		}
	}
	return rows
}

// BenchmarkEventLines: formatting one run's result lines (100 rows).
func BenchmarkEventLines(b *testing.B) {
	it := &Item{Name: "pack_syslog-security_ssh_failed_logins", Host: "web-1", Time: time.Unix(1793603109, 0),
		Decorations: map[string]string{"environment": "prod"}, Added: benchRows(100)}
	b.ReportAllocs()
	for b.Loop() {
		EventLines(it)
	}
}

// BenchmarkDiff: the differential of two 1,000-row results differing in 10%.
func BenchmarkDiff(b *testing.B) {
	prev := benchRows(1000)
	cur := append(append([]Row(nil), prev[100:]...), benchRows(1100)[1000:]...)
	b.ReportAllocs()
	for b.Loop() {
		diff(prev, cur)
	}
}
