package eventsrc

import (
	"bytes"
	"flag"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/osquery-syslog/osquery-syslog/eventstore"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, in  string
		max       int
		want      string
		truncated bool
	}{
		{"empty", "", 3, "", false},
		{"shorter", "ab", 3, "ab", false},
		{"exactly max", "abc", 3, "abc", false},
		{"ascii", "abcd", 3, "abc", true},
		{"2-byte whole at the cut", "aé", 3, "aé", false},
		{"2-byte whole before the cut", "aéb", 3, "aé", true},
		{"2-byte split", "abé", 3, "ab", true},
		{"3-byte split after 1", "ab€", 3, "ab", true},
		{"3-byte split after 2", "a€", 3, "a", true},
		{"3-byte whole", "€b", 3, "€", true},
		{"4-byte split after 1", "abc😀", 4, "abc", true},
		{"4-byte split after 2", "ab😀", 3, "ab", true},
		{"4-byte split after 3", "a😀", 3, "a", true},
		{"4-byte whole", "😀b", 4, "😀", true},
		{"only a split character", "😀", 2, "", true},
		{"max 0", "abc", 0, "", true},
		{"invalid bytes cut at max", "ab\xff\xfe", 3, "ab\xff", true},
		{"continuation bytes without a lead", "a\x80\x80\x80b", 3, "a\x80\x80", true},
		{"invalid lead kept", "ab\xc0\x80", 3, "ab\xc0", true},
		{"lead with a bad second byte kept", "a\xe0\x41b", 3, "a\xe0A", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, truncated := Truncate(tt.in, tt.max)
			if got != tt.want || truncated != tt.truncated {
				t.Errorf("Truncate(%q, %d) = %q, %v; want %q, %v", tt.in, tt.max, got, truncated, tt.want, tt.truncated)
			}
			gotB, truncatedB := Truncate([]byte(tt.in), tt.max)
			if string(gotB) != got || truncatedB != truncated {
				t.Errorf("Truncate([]byte) = %q, %v; the string form %q, %v", gotB, truncatedB, got, truncated)
			}
		})
	}
}

// FuzzTruncate checks Truncate's contract on any input: a prefix of at
// most max bytes, at most 3 bytes short of it, valid UTF-8 when the input
// is, and the input itself when it fits.
func FuzzTruncate(f *testing.F) {
	f.Add([]byte("abcé€😀"), uint16(5))
	f.Add([]byte("a\xff\xe0\x80b"), uint16(3))
	f.Add([]byte(""), uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, max uint16) {
		m := int(max % 512)
		got, truncated := Truncate(in, m)
		if truncated != (len(in) > m) {
			t.Fatalf("truncated = %v for %d bytes, max %d", truncated, len(in), m)
		}
		if !bytes.HasPrefix(in, got) || len(got) > m && truncated {
			t.Fatalf("%q is not a prefix of %q of at most %d bytes", got, in, m)
		}
		if !truncated {
			if len(got) != len(in) {
				t.Fatalf("fitting input changed: %q", got)
			}
			return
		}
		if len(got) < m-(utf8.UTFMax-1) {
			t.Fatalf("cut %d bytes short of %d", m-len(got), m)
		}
		if utf8.Valid(in[:m]) && len(got) != m {
			t.Fatalf("a valid prefix of %d bytes was cut to %d", m, len(got))
		}
		if utf8.Valid(in) && !utf8.Valid(got) {
			t.Fatalf("%q of valid UTF-8 is invalid", got)
		}
		if s, ts := Truncate(string(in), m); s != string(got) || ts != truncated {
			t.Fatalf("string form %q, %v differs from %q", s, ts, got)
		}
	})
}

func TestValidateMaxLine(t *testing.T) {
	for _, v := range []int{MinMaxLine, DefaultMaxLine, MaxMaxLine} {
		if err := ValidateMaxLine("x_max_line", v); err != nil {
			t.Errorf("%d: %v", v, err)
		}
	}
	for _, v := range []int{MinMaxLine - 1, MaxMaxLine + 1, 0, -1} {
		err := ValidateMaxLine("syslog_max_line", v)
		if err2 := ValidateMaxLine("--syslog_max_line", v); err2 == nil || err == nil || err2.Error() != err.Error() {
			t.Errorf("%d: with dashes %v, without %v", v, err2, err)
		}
		want := "--syslog_max_line: must be between 256 and 67108864 bytes, got " + strconv.Itoa(v)
		if err == nil || err.Error() != want {
			t.Errorf("%d: %v, want %s", v, err, want)
		}
	}
}

func TestRetention(t *testing.T) {
	var r Retention
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	r.RegisterRows(fs, "logfile", "logfile_lines")
	want := map[string][2]string{
		"logfile_events_expiry": {"2592000", "Seconds logfile_lines rows are kept (0 = forever)"},
		"logfile_events_max":    {"100000", "Most logfile_lines rows kept, counted in events (0 = unlimited)"},
	}
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if w := want[f.Name]; f.DefValue != w[0] || f.Usage != w[1] {
			t.Errorf("--%s default %q usage %q, want %q %q", f.Name, f.DefValue, f.Usage, w[0], w[1])
		}
	})
	if n != len(want) {
		t.Errorf("%d flags, want %d", n, len(want))
	}
	if r.Limits() != (eventstore.Limits{MaxAge: 30 * 24 * time.Hour, MaxCount: 100000}) {
		t.Errorf("default limits %+v", r.Limits())
	}
	if err := fs.Parse([]string{"--logfile_events_expiry=0", "--logfile_events_max=7"}); err != nil {
		t.Fatal(err)
	}
	if r.Limits() != (eventstore.Limits{MaxCount: 7}) {
		t.Errorf("limits %+v", r.Limits())
	}
	var s Retention
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	s.Register(fs, "syslog")
	if f := fs.Lookup("syslog_events_max"); f == nil || f.Usage != "Most syslog rows kept, counted in events (0 = unlimited)" {
		t.Errorf("syslog_events_max: %+v", f)
	}
}
