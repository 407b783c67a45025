package journaltest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestWriteExport(t *testing.T) {
	tests := []struct {
		name string
		in   []Entry
		want string
	}{
		{
			name: "text fields, timestamps first, cursor left out",
			in: []Entry{{
				"MESSAGE":      []byte("hello = world"),
				"PRIORITY":     []byte("6"),
				FieldRealtime:  []byte("1700000000000000"),
				FieldMonotonic: []byte("42"),
				FieldCursor:    []byte("s=1;i=2"),
				"__SEQNUM":     []byte("2"),
			}},
			want: "__REALTIME_TIMESTAMP=1700000000000000\n__MONOTONIC_TIMESTAMP=42\nMESSAGE=hello = world\nPRIORITY=6\n\n",
		},
		{
			name: "binary-safe form for newline, control bytes and invalid UTF-8",
			in: []Entry{
				{"A": []byte("x\ny")},
				{"B": []byte("\xff")},
				{"C": []byte("nul\x00")},
				{"D": []byte("")},
				{"E": []byte("ünï")},
			},
			want: "A\n\x03\x00\x00\x00\x00\x00\x00\x00x\ny\n\n" +
				"B\n\x01\x00\x00\x00\x00\x00\x00\x00\xff\n\n" +
				"C\n\x04\x00\x00\x00\x00\x00\x00\x00nul\x00\n\n" +
				"D=\n\n" +
				"E=ünï\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteExport(&b, tt.in); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	if err := WriteExport(&bytes.Buffer{}, []Entry{{"lower": []byte("x")}}); err == nil {
		t.Error("a lower-case field name was accepted")
	}
}

func TestGenerate(t *testing.T) {
	es := Generate(3000, 1)
	if len(es) != 3000 {
		t.Fatalf("got %d entries", len(es))
	}
	priorities, facilities, units, boots, hosts := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	var binary, multiline, large, empty, utf8Multi int
	var last uint64
	for i, e := range es {
		rt, err := strconv.ParseUint(string(e[FieldRealtime]), 10, 64)
		if err != nil || rt <= last {
			t.Fatalf("entry %d: realtime %q not increasing after %d", i, e[FieldRealtime], last)
		}
		last = rt
		for _, f := range []string{FieldMonotonic, FieldBootID, "_HOSTNAME", "_TRANSPORT", "PRIORITY", "SYSLOG_FACILITY", "SYSLOG_IDENTIFIER", "MESSAGE"} {
			if _, ok := e[f]; !ok {
				t.Fatalf("entry %d lacks %s", i, f)
			}
		}
		if string(e["_TRANSPORT"]) != "kernel" {
			for _, f := range []string{"_PID", "_UID", "_GID", "_COMM", "_EXE", "_CMDLINE", "_SYSTEMD_UNIT"} {
				if _, ok := e[f]; !ok {
					t.Fatalf("entry %d lacks %s", i, f)
				}
			}
		}
		priorities[string(e["PRIORITY"])] = true
		facilities[string(e["SYSLOG_FACILITY"])] = true
		units[string(e["_SYSTEMD_UNIT"])] = true
		boots[string(e[FieldBootID])] = true
		hosts[string(e["_HOSTNAME"])] = true
		m := e["MESSAGE"]
		switch {
		case len(m) == 0:
			empty++
		case !utf8.Valid(m) && bytes.IndexByte(m, 0) >= 0:
			binary++
		case len(m) == LargeMessageSize:
			large++
		case bytes.IndexByte(m, '\n') >= 0:
			multiline++
		case utf8.RuneCount(m) < len(m):
			utf8Multi++
		}
	}
	if len(priorities) != 8 || len(facilities) != 24 {
		t.Errorf("%d priorities, %d facilities; want 8 and 24", len(priorities), len(facilities))
	}
	if len(units) < 20 || len(boots) < 3 || len(hosts) < 3 {
		t.Errorf("%d units, %d boots, %d hosts", len(units), len(boots), len(hosts))
	}
	if binary < 10 || multiline < 10 || large < 2 || empty < 1 || utf8Multi < 10 {
		t.Errorf("binary %d, multiline %d, large %d, empty %d, utf8 %d", binary, multiline, large, empty, utf8Multi)
	}

	// Content depends on the seed only; timestamps continue across calls.
	a, b := Generate(50, 7), Generate(50, 7)
	for i := range a {
		if !bytes.Equal(a[i]["MESSAGE"], b[i]["MESSAGE"]) || !bytes.Equal(a[i]["_PID"], b[i]["_PID"]) {
			t.Fatalf("entry %d differs between two calls with the same seed", i)
		}
	}
	lastA, _ := strconv.ParseUint(string(a[len(a)-1][FieldRealtime]), 10, 64)
	firstB, _ := strconv.ParseUint(string(b[0][FieldRealtime]), 10, 64)
	if firstB <= lastA {
		t.Errorf("second call starts at %d, not after %d", firstB, lastA)
	}
}

// equal compares want with got entry by entry.
func equal(t *testing.T, want, got []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d entries, wrote %d", len(got), len(want))
	}
	bad := 0
	for i := range want {
		if d := Diff(want[i], got[i]); len(d) > 0 {
			t.Errorf("entry %d: %s", i, strings.Join(d, "; "))
			if bad++; bad == 5 {
				t.FailNow()
			}
		}
		if len(got[i][FieldCursor]) == 0 {
			t.Fatalf("entry %d: no cursor", i)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	Require(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "system.journal")
	es := Generate(3000, 42)
	if err := WriteJournal(path, es); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, es, got)
}

func TestAppendAndArchive(t *testing.T) {
	Require(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "system.journal")
	first, second, third := Generate(100, 1), Generate(50, 2), Generate(30, 3)
	if err := WriteJournal(path, first); err != nil {
		t.Fatal(err)
	}
	if err := WriteJournal(path, second); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]Entry{}, first...), second...)
	equal(t, all, got)

	archived, err := Archive(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Archive: %v", path, err)
	}
	name := filepath.Base(archived)
	if !strings.HasPrefix(name, "system@") || !strings.HasSuffix(name, ".journal") {
		t.Errorf("archived name %s", name)
	}
	if err := WriteJournal(path, third); err != nil {
		t.Fatal(err)
	}
	got, err = Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, append(all, third...), got)

	// A copy of the archived file is still read; the new file is another one.
	fromNew, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, third, fromNew)
}

func TestWriteJournalErrors(t *testing.T) {
	Require(t)
	dir := t.TempDir()
	if err := WriteJournal(filepath.Join(dir, "x.log"), Generate(1, 1)); err == nil {
		t.Error("a name without .journal was accepted")
	}
	if err := WriteJournal(filepath.Join(dir, "x.journal"), []Entry{{"MESSAGE": []byte("no time")}}); err == nil {
		t.Error("an entry without a realtime timestamp was accepted")
	}
	// journal-remote moves a file whose last entry lies in the future aside
	// rather than append to it: an error, not a silent new file.
	future := Generate(1, 1)
	future[0][FieldRealtime] = itoa(uint64(time.Now().Add(time.Hour).UnixMicro()))
	path := filepath.Join(dir, "future.journal")
	if err := WriteJournal(path, future); err != nil {
		t.Fatal(err)
	}
	if err := WriteJournal(path, Generate(1, 2)); err == nil || !strings.Contains(err.Error(), "instead of appending") {
		t.Errorf("appending to a file from the future: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing.journal")); err == nil {
		t.Error("reading a missing file succeeded")
	}
	if _, err := Archive(filepath.Join(dir, "missing.journal")); err == nil {
		t.Error("archiving a missing file succeeded")
	}
}
