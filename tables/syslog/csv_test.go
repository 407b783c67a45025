package syslog

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// osquery's test_csv_separator vectors (osquery-behavior.md §1.6), the C
// string literals written as Go raw strings.
func TestSplitCSVOsqueryVectors(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`,,,,`, []string{"", "", "", "", ""}},
		{` , , , , `, []string{" ", " ", " ", " ", " "}},
		{`foo,bar,baz`, []string{"foo", "bar", "baz"}},
		{`"foo","bar","baz"`, []string{"foo", "bar", "baz"}},
		{`",foo,",",bar","baz,"`, []string{",foo,", ",bar", "baz,"}},
		{`",f\oo,",",ba\'r","baz\,"`, []string{`,f\oo,`, `,ba\'r`, `baz\,`}},
		{`""",f\o""o,",""",ba\'r","baz\,"""`, []string{`",f\o"o,`, `",ba\'r`, `baz\,"`}},
		{`""",f\ø""o,",""",bá\'r","baz\,"""`, []string{`",f\ø"o,`, `",bá\'r`, `baz\,"`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SplitCSV([]byte(tt.in)); !slices.Equal(got, tt.want) {
				t.Errorf("SplitCSV(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitCSVEdges(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{``, nil},                                        // empty input: no token
		{`a,`, []string{"a", ""}},                        // separator at the end: a final empty token
		{`a"b,c"d`, []string{"ab,cd"}},                   // text outside quotes is kept
		{`"a""b"`, []string{`a"b`}},                      // "" inside quotes
		{`""`, []string{""}},                             // open and close
		{`"abc,def`, []string{"abc,def"}},                // unterminated quote runs to the end
		{`a""b`, []string{"ab"}},                         // "" outside quotes is an empty quoted run
		{`"x"",y`, []string{`x",y`}},                     // "" then still quoted
		{"\"a\r\n\",b", []string{"a\r\n", "b"}},          // no special bytes besides , and "
		{`" a ", b `, []string{" a ", " b "}},            // no trimming here
		{`,"",""""`, []string{"", "", `"`}},              // empty and escaped-only tokens
		{`"unterminated,""`, []string{`unterminated,"`}}, // "" at the end of an open quote
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SplitCSV([]byte(tt.in)); !slices.Equal(got, tt.want) {
				t.Errorf("SplitCSV(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// osquery's test_populate_event_context (§1.7).
const osqueryGoodLine = `"2016-03-22T21:17:01.701882+00:00","vagrant-ubuntu-trusty-64","6","cron","CRON[16538]:"," (root) CMD (   cd / && run-parts --report /etc/cron.hourly)"`

func TestParseLineOsqueryVectors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Message
		wantErr error
		errText string
	}{
		{
			name: "good line",
			in:   osqueryGoodLine,
			want: Message{
				Datetime: "2016-03-22T21:17:01.701882+00:00",
				Host:     "vagrant-ubuntu-trusty-64",
				Severity: "6",
				Facility: "cron",
				Tag:      "CRON[16538]",
				Message:  "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
			},
		},
		{
			name:    "too few fields",
			in:      `"2016-03-22T21:17:01.701882+00:00","vagrant-ubuntu-trusty-64","6","cron",`,
			wantErr: ErrFewerFields,
			errText: "Received fewer fields than expected",
		},
		{
			name:    "too many fields",
			in:      `"2016-03-22T21:17:01.701882+00:00","","6","","","",""`,
			wantErr: ErrMoreFields,
			errText: "Received more fields than expected",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLine([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || err.Error() != tt.errText {
					t.Fatalf("err = %v, want %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseLine =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestParseLine(t *testing.T) {
	msg := func(f ...string) Message {
		return Message{Datetime: f[0], Host: f[1], Severity: f[2], Facility: f[3], Tag: f[4], Message: f[5]}
	}
	tests := []struct {
		name    string
		in      string
		want    Message
		wantErr error
	}{
		{"plain", `a,b,c,d,e,f`, msg("a", "b", "c", "d", "e", "f"), nil},
		{"six empty fields", `,,,,,`, msg("", "", "", "", "", ""), nil},
		{"crlf", "\"a\",\"b\",\"3\",\"d\",\"tag:\",\"msg\"\r", msg("a", "b", "3", "d", "tag", "msg"), nil},
		{"crlf unquoted", "a,b,3,d,tag:,msg\r", msg("a", "b", "3", "d", "tag", "msg"), nil},
		{"trim inside quotes", `"  a  ", b ," c","d ",  "e:"  ,"	f	"`, msg("a", "b", "c", "d", "e", "f"), nil},
		{"one colon off the tag", `a,b,c,d,"CRON[1]::",f`, msg("a", "b", "c", "d", "CRON[1]:", "f"), nil},
		{"colon then trimmed space", `a,b,c,d,"tag : ",f`, msg("a", "b", "c", "d", "tag ", "f"), nil},
		{"tag only a colon", `a,b,c,d,":",f`, msg("a", "b", "c", "d", "", "f"), nil},
		{"colon not last", `a,b,c,d,"t:x",f`, msg("a", "b", "c", "d", "t:x", "f"), nil},
		{"escaped quotes", `a,b,c,d,e,"say ""hi"", ok"`, msg("a", "b", "c", "d", "e", `say "hi", ok`), nil},
		{"text outside quotes", `a,b,c,d,e,x"y,z"w`, msg("a", "b", "c", "d", "e", "xy,zw"), nil},
		{"unterminated quote in message", `a,b,c,d,e,"mess, age`, msg("a", "b", "c", "d", "e", "mess, age"), nil},
		{"backslashes literal", `a,b,c,d,e,"C:\path\"`, msg("a", "b", "c", "d", "e", `C:\path\`), nil},
		{"non-ASCII space kept", "a,b,c,d,e,\"\u00a0x\u00a0\"", msg("a", "b", "c", "d", "e", "\u00a0x\u00a0"), nil},
		{"inner whitespace kept", `a,b,c,d,e," x  y "`, msg("a", "b", "c", "d", "e", "x  y"), nil},
		{"whitespace split by quotes", `a,b,c,d,e, "" x "" `, msg("a", "b", "c", "d", "e", "x"), nil},
		{"empty line", ``, Message{}, ErrFewerFields},
		{"lone cr", "\r", Message{}, ErrFewerFields},
		{"unterminated quote swallows fields", `a,b,"c,d,e,f`, Message{}, ErrFewerFields},
		{"seven empty fields", `,,,,,,`, Message{}, ErrMoreFields},
		{"many fields", `a,b,c,d,e,f,g,h,i`, Message{}, ErrMoreFields},
		// rsyslog's partial write glued to the next message: the fragment
		// ends inside quotes, so the quoting flips and the next message
		// becomes the tail of this one, as it does in osquery.
		{"glued partial write", `"2016-03-22T21:17:01+00:00","h","6","cron","t:","partial mes"2016-03-22T21:17:02+00:00","h","6","cron","t:","next"`,
			msg("2016-03-22T21:17:01+00:00", "h", "6", "cron", "t", "partial mes2016-03-22T21:17:02+00:00,h,6,cron,t:,next"), nil},
		{"glued fragment of a first field", `"2016-03-2"2016-03-22T21:17:02+00:00","h","6","cron","t:","next"`, Message{}, ErrFewerFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLine([]byte(tt.in))
			if err != tt.wantErr {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseLine(%q) =\n%#v\nwant\n%#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseLineDoesNotAliasInput(t *testing.T) {
	line := []byte(osqueryGoodLine)
	m, err := ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	for i := range line {
		line[i] = 'X'
	}
	if m.Host != "vagrant-ubuntu-trusty-64" || m.Tag != "CRON[16538]" {
		t.Errorf("fields changed with the input buffer: %#v", m)
	}
}

func TestParseLineAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	line := []byte(osqueryGoodLine)
	if n := testing.AllocsPerRun(200, func() { ParseLine(line) }); n != 1 {
		t.Errorf("ParseLine makes %v allocations per line, want 1 (one string for all fields)", n)
	}
}

// refParse is ParseLine written the slow, obvious way from osquery's
// algorithm: tokenize, count, trim each token, strip one ':' from the tag.
func refParse(line []byte) (Message, error) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	tok := SplitCSV(line)
	if len(tok) < NumFields {
		return Message{}, ErrFewerFields
	}
	if len(tok) > NumFields {
		return Message{}, ErrMoreFields
	}
	for i := range tok {
		tok[i] = strings.Trim(tok[i], " \t\n\v\f\r")
	}
	return Message{tok[0], tok[1], tok[2], tok[3], strings.TrimSuffix(tok[4], ":"), tok[5]}, nil
}

// csvEncode writes m the way rsyslog's csv property option does: every field
// quoted, inner quotes doubled. The tag gets back a ':' so that parsing
// removes exactly that one.
func csvEncode(m Message) []byte {
	var b []byte
	for i, f := range []string{m.Datetime, m.Host, m.Severity, m.Facility, m.Tag + ":", m.Message} {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, strings.ReplaceAll(f, `"`, `""`)...)
		b = append(b, '"')
	}
	return b
}

func FuzzParseLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		got, err := ParseLine(line)
		want, wantErr := refParse(line)
		if err != wantErr || got != want {
			t.Fatalf("ParseLine(%q) = %#v, %v; the reference gives %#v, %v", line, got, err, want, wantErr)
		}
		if err != nil {
			return
		}
		again, err := ParseLine(csvEncode(got))
		if err != nil || again != got {
			t.Fatalf("re-encoded %#v parses as %#v, %v", got, again, err)
		}
	})
}

func BenchmarkParseLine(b *testing.B) {
	line := []byte(osqueryGoodLine)
	b.ReportAllocs()
	b.SetBytes(int64(len(line) + 1))
	for b.Loop() {
		if _, err := ParseLine(line); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
