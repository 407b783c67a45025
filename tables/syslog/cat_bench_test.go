//go:build unix

package syslog

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/osquery-syslog/osquery-syslog/stats"
)

// catFile writes n rsyslog CSV lines of ~200 bytes (every message distinct)
// to a file and returns its path and size.
func catFile(b *testing.B, n int) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "lines.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var size int64
	for i := range n {
		l := csvLine("2026-11-30T20:00:00.123456+00:00", fmt.Sprint("web-", i%7), fmt.Sprint(i%8), "authpriv",
			fmt.Sprintf("sshd[%d]:", 1000+i%5000), fmt.Sprintf("Accepted publickey for deploy from 10.0.%d.%d port %d ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz %d", i%256, i/256%256, 40000+i%20000, i))
		k, _ := w.WriteString(l)
		size += int64(k)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path, size
}

// catInto starts `cat file` with the FIFO at fifo as its standard output:
// a separate process writing a real pipe, as rsyslog's ompipe does.
func catInto(b *testing.B, file, fifo string) *exec.Cmd {
	b.Helper()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	cmd := exec.Command("cat", file)
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return cmd
}

// BenchmarkIngestCat feeds b.N lines with `cat FILE > FIFO` and reports
// lines/s for two readers of the same FIFO:
//   - raw: a plain read loop that counts newlines, the physical ceiling of
//     the pipe on this machine;
//   - store: OpenPipe → Ingest → the real event store on disk, timed until
//     every line is committed (durably buffered and queryable).
func BenchmarkIngestCat(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		file, size := catFile(b, b.N)
		fifo := filepath.Join(b.TempDir(), "syslog_pipe")
		r, err := OpenPipe(fifo, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		b.SetBytes(size / int64(b.N))
		b.ResetTimer()
		cpu0 := cpuTime()
		cmd := catInto(b, file, fifo)
		buf := make([]byte, 256<<10)
		lines := 0
		for lines < b.N {
			n, err := r.Read(buf)
			lines += bytes.Count(buf[:n], []byte{'\n'})
			if err != nil && err != io.EOF {
				if os.IsTimeout(err) {
					continue
				}
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/line")
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("store", func(b *testing.B) {
		file, size := catFile(b, b.N)
		st := newStream(b)
		var src stats.Source
		fifo := filepath.Join(b.TempDir(), "syslog_pipe")
		r, err := OpenPipe(fifo, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		ctx, cancel := context.WithCancel(b.Context())
		done := make(chan error, 1)
		go func() { done <- Ingest(ctx, r, Config{}, st, &src, quietLog()) }()
		b.SetBytes(size / int64(b.N))
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuTime()
		cmd := catInto(b, file, fifo)
		for st.Count() < int64(b.N) {
			time.Sleep(200 * time.Microsecond)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/line")
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		if n := src.ParseErrors.Load(); n != 0 {
			b.Fatalf("%d parse errors", n)
		}
		if n := st.Count(); n != int64(b.N) {
			b.Fatalf("%d rows stored for %d lines", n, b.N)
		}
	})
}
