package jsonstr

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// goldenSamples are the multi-byte inputs of testdata/golden.txt, besides
// every single byte.
var goldenSamples = []string{
	"",
	"plain ascii text",
	`a/b "q" \ back`,
	"tab\there\nnew\r\x00nul\x1f\x7fdel",
	"<script>&amp;</script>",
	"caf\u00e9 \u65e5\u672c \U0001F600",
	"\u2028line\u2029para",
	"bad \xff\xfe utf8 \xe2\x82 cut \xc0\xaf overlong",
	"com.apple.ASL /var/log/asl/2026.12.04.G80.asl",
	`{"nested":"json"}`,
}

// TestGolden pins every mode byte for byte to the output of the functions
// it replaced (tables/asl's Boost escaping, schedule's rapidjson escaping,
// encoding/json in forwarder/pack and extension, the journal source's
// journalctl escaping), recorded in testdata/golden.txt: every single byte
// and goldenSamples.
func TestGolden(t *testing.T) {
	f, err := os.Open("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	modes := map[string]Mode{"rapid": Rapid, "boost": Boost, "journal": Journal, "std": Std}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), " ")
		m, ok := modes[name]
		if !ok {
			t.Fatalf("line %d: unknown mode %q", n+1, name)
		}
		qin, err := strconv.QuotedPrefix(rest)
		if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		in, _ := strconv.Unquote(qin)
		want, err := strconv.Unquote(strings.TrimPrefix(rest[len(qin):], " "))
		if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if got := string(Append([]byte("prefix"), in, m)); got != "prefix"+want {
			t.Errorf("%s %q: got %q, want %q", name, in, got, "prefix"+want)
		}
		if got := string(Append([]byte("prefix"), []byte(in), m)); got != "prefix"+want {
			t.Errorf("%s []byte(%q): got %q, want %q", name, in, got, "prefix"+want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if want := len(modes) * (256 + len(goldenSamples)); n != want {
		t.Fatalf("golden has %d lines, want %d", n, want)
	}
}

func TestModes(t *testing.T) {
	tests := []struct {
		in                         string
		rapid, boost, journal, std string
	}{
		{"a/b", `"a/b"`, `"a\/b"`, `"a/b"`, `"a/b"`},
		{"<&>", `"<&>"`, `"<&>"`, `"<&>"`, `"\u003c\u0026\u003e"`},
		{"\x01\x1b", `"\u0001\u001B"`, `"\u0001\u001B"`, `"\u0001\u001b"`, `"\u0001\u001b"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`, `"\b\f\n\r\t"`, `"\u0008\u000c\n\r\t"`, `"\b\f\n\r\t"`},
		{"\x7f", "\"\x7f\"", "\"\x7f\"", `"\u007f"`, "\"\x7f\""},
		{"\xff", "\"\xff\"", "\"\xff\"", "\"\xff\"", `"\ufffd"`},
		{"\u2028", "\"\u2028\"", "\"\u2028\"", "\"\u2028\"", `"\u2028"`},
		{"q\"b\\", `"q\"b\\"`, `"q\"b\\"`, `"q\"b\\"`, `"q\"b\\"`},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			m    Mode
			want string
		}{{Rapid, tt.rapid}, {Boost, tt.boost}, {Journal, tt.journal}, {Std, tt.std}} {
			if got := string(Append(nil, tt.in, c.m)); got != c.want {
				t.Errorf("mode %d, %q: got %s, want %s", c.m, tt.in, got, c.want)
			}
		}
	}
}

// FuzzAppend checks properties that hold for every input: Std is
// encoding/json, Boost is Rapid with '/' escaped, and Rapid's output, when
// the input is valid UTF-8, decodes back to the input.
func FuzzAppend(f *testing.F) {
	for _, s := range goldenSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		std, _ := json.Marshal(s)
		if got := Append(nil, s, Std); string(got) != string(std) {
			t.Fatalf("Std %q: got %s, want %s", s, got, std)
		}
		rapid := string(Append(nil, s, Rapid))
		if boost := string(Append(nil, s, Boost)); boost != strings.ReplaceAll(rapid, "/", `\/`) {
			t.Fatalf("Boost %q: got %s, Rapid gives %s", s, boost, rapid)
		}
		if !json.Valid([]byte(rapid)) {
			t.Fatalf("Rapid %q: invalid JSON %s", s, rapid)
		}
		var back string
		if err := json.Unmarshal([]byte(rapid), &back); err != nil || (utf8.ValidString(s) && back != s) {
			t.Fatalf("Rapid %q: decodes to %q (%v)", s, back, err)
		}
	})
}

func BenchmarkAppendRapid(b *testing.B) {
	s := `Dec  4 17:19:46 host sshd[1234]: Accepted publickey for root from 10.0.0.1 port 22 ssh2: "RSA" \ SHA256`
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = Append(buf[:0], s, Rapid)
	}
}
