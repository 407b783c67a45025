package queue

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// threadCPU is the calling thread's CPU time (Linux RUSAGE_THREAD); the
// caller locks its goroutine to the thread.
func threadCPU() time.Duration { return rusage(1) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReadAck measures the queue's share of the ship path: b.N queued
// lines of 550 bytes are read in reads of 20,000 (the forwarder's default)
// and acknowledged in runs of ackRun, as the senders do (a plain Kinesis
// request carries 500 lines, an aggregated one about 9,000).
func BenchmarkReadAck(b *testing.B) {
	for _, ackRun := range []int{500, 9000} {
		b.Run(fmt.Sprintf("ack%d", ackRun), func(b *testing.B) {
			db, q := openQueue(b, filepath.Join(b.TempDir(), "q.db"), 0)
			defer db.Close()
			line := []byte(`{"name":"pack_syslog_query","hostIdentifier":"host-1","columns":{"message":"` + strings.Repeat("x", 470) + `"},"action":"added"}`)
			batch := make([][]byte, 1000)
			for i := range batch {
				batch[i] = line
			}
			for i := 0; i < b.N; i += len(batch) {
				if err := q.AppendMany(0, batch[:min(len(batch), b.N-i)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := cpuTime()
			b.ResetTimer()
			var cursor int64
			var tRead, tAck time.Duration
			ids := make([]int64, 0, ackRun)
			for {
				t0 := threadCPU()
				items, err := q.Read(b.Context(), cursor, 20000, 16<<20)
				tRead += threadCPU() - t0
				if err != nil {
					b.Fatal(err)
				}
				if len(items) == 0 {
					break
				}
				cursor = items[len(items)-1].ID
				for _, it := range items {
					ids = append(ids, it.ID)
					if len(ids) == ackRun {
						t0 := threadCPU()
						if err := q.Ack(ids); err != nil {
							b.Fatal(err)
						}
						tAck += threadCPU() - t0
						ids = ids[:0]
					}
				}
			}
			if err := q.Ack(ids); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			if q.Len() != 0 {
				b.Fatalf("%d lines left", q.Len())
			}
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "lines/cpu-s")
			b.ReportMetric(float64(tRead.Nanoseconds())/float64(b.N), "read-ns/line")
			b.ReportMetric(float64(tAck.Nanoseconds())/float64(b.N), "ack-ns/line")
		})
	}
}
