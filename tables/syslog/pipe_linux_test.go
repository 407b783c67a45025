package syslog

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenPipeBufferSize(t *testing.T) {
	f, err := OpenPipe(filepath.Join(t.TempDir(), "p"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var size int
	rc.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
	if err != nil {
		t.Fatal(err)
	}
	// Root may exceed pipe-max-size; others get at most that.
	if size != PipeBufferSize && unix.Geteuid() == 0 {
		t.Errorf("pipe buffer %d, want %d", size, PipeBufferSize)
	}
	if size <= 64<<10 {
		t.Errorf("pipe buffer %d: not grown", size)
	}
}

func TestSetPipeSizeFallback(t *testing.T) {
	defer func(f func(int, int) error, p string) { setPipeSizeFcntl, pipeMaxSizeFile = f, p }(setPipeSizeFcntl, pipeMaxSizeFile)
	max := filepath.Join(t.TempDir(), "pipe-max-size")
	tests := []struct {
		name    string
		maxFile string // content of pipe-max-size; "" for none
		limit   int    // sizes above this fail with EPERM; 0 fails all
		want    []int  // sizes tried
		wantLog string
	}{
		{"granted", "262144\n", PipeBufferSize, []int{PipeBufferSize}, ""},
		{"limited", "262144\n", 262144, []int{PipeBufferSize, 262144}, "INFO syslog pipe buffer limited"},
		{"no limit file", "", 262144, []int{PipeBufferSize}, "WARN cannot grow the syslog pipe buffer"},
		{"still refused", "262144\n", 0, []int{PipeBufferSize, 262144}, "WARN cannot grow the syslog pipe buffer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(max)
			if tt.maxFile != "" {
				os.WriteFile(max, []byte(tt.maxFile), 0o600)
			}
			pipeMaxSizeFile = max
			var tried []int
			setPipeSizeFcntl = func(fd, size int) error {
				tried = append(tried, size)
				if size > tt.limit {
					return unix.EPERM
				}
				return nil
			}
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
			setPipeSize(3, "p", log)
			if !slices.Equal(tried, tt.want) {
				t.Errorf("sizes tried %v, want %v", tried, tt.want)
			}
			got := strings.ReplaceAll(strings.TrimPrefix(buf.String(), "level="), " msg=", " ")
			got = strings.ReplaceAll(got, `"`, "")
			if tt.wantLog == "" && got != "" || !strings.HasPrefix(got, tt.wantLog) {
				t.Errorf("log %q, want %q...", got, tt.wantLog)
			}
		})
	}
}
