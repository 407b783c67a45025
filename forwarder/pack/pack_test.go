package pack

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func kinesisCfg() Config {
	c := DefaultConfig(Kinesis)
	c.HostIdentifier = "host-1"
	return c
}

// packOne packs a single entry with cfg and returns the single shipped line
// (without framing checks beyond unpack's) or the drop.
func packOne(t *testing.T, cfg Config, e Entry) (string, []Dropped) {
	t.Helper()
	p := mustNew(t, cfg)
	recs, dropped := p.Pack([]Entry{e})
	got := unpack(t, cfg, recs)
	if len(got)+len(dropped) == 0 {
		t.Fatal("entry neither shipped nor dropped")
	}
	if len(got) == 0 {
		return "", dropped
	}
	if len(got) != 1 {
		t.Fatalf("got %d user records, want 1", len(got))
	}
	return string(got[0].data), dropped
}

func TestStatusConversion(t *testing.T) {
	const elem = `{"s":0,"f":"a.cpp","i":12,"m":"msg","h":"host","c":"Mon Jan  1 00:00:00 2024 UTC","u":1704067200}`
	tests := []struct {
		name    string
		version string
		host    string
		noLT    bool
		in      string
		want    string
	}{
		{
			name:    "golden with version",
			version: "5.12.1",
			in:      elem,
			want:    `{"hostIdentifier":"host","calendarTime":"Mon Jan  1 00:00:00 2024 UTC","unixTime":1704067200,"severity":0,"filename":"a.cpp","line":12,"message":"msg","version":"5.12.1","log_type":"status"}`,
		},
		{
			name: "no version omitted",
			in:   elem,
			want: `{"hostIdentifier":"host","calendarTime":"Mon Jan  1 00:00:00 2024 UTC","unixTime":1704067200,"severity":0,"filename":"a.cpp","line":12,"message":"msg","log_type":"status"}`,
		},
		{
			name: "without log_type",
			noLT: true,
			in:   elem,
			want: `{"hostIdentifier":"host","calendarTime":"Mon Jan  1 00:00:00 2024 UTC","unixTime":1704067200,"severity":0,"filename":"a.cpp","line":12,"message":"msg"}`,
		},
		{
			name: "key order of input irrelevant, escapes kept verbatim",
			in:   `{"u":1,"m":"x\/y \"q\" \u00e9","i":3,"f":"f.cpp","s":2,"c":"C","h":"h"}`,
			want: `{"hostIdentifier":"h","calendarTime":"C","unixTime":1,"severity":2,"filename":"f.cpp","line":3,"message":"x\/y \"q\" \u00e9","log_type":"status"}`,
		},
		{
			name: "missing h uses config host identifier",
			host: `we"ird`,
			in:   `{"s":1,"f":"a.cpp","i":1,"m":"m","c":"C","u":2}`,
			want: `{"hostIdentifier":"we\"ird","calendarTime":"C","unixTime":2,"severity":1,"filename":"a.cpp","line":1,"message":"m","log_type":"status"}`,
		},
		{
			name:    "unknown members kept after version",
			version: "5",
			in:      `{"s":0,"x":[1,2],"f":"a","i":1,"m":"m","h":"h","c":"C","u":2,"version":"6"}`,
			want:    `{"hostIdentifier":"h","calendarTime":"C","unixTime":2,"severity":0,"filename":"a","line":1,"message":"m","x":[1,2],"version":"6","log_type":"status"}`,
		},
		{
			name: "already converted passes through (osquery vector)",
			in:   `{"severity":"0"}`,
			want: `{"severity":"0","log_type":"status"}`,
		},
		{
			name: "whitespace around element",
			in:   " \n" + elem + "\r\n",
			want: `{"hostIdentifier":"host","calendarTime":"Mon Jan  1 00:00:00 2024 UTC","unixTime":1704067200,"severity":0,"filename":"a.cpp","line":12,"message":"msg","log_type":"status"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kinesisCfg()
			cfg.Version = tc.version
			if tc.host != "" {
				cfg.HostIdentifier = tc.host
			}
			cfg.AddLogType = !tc.noLT
			got, dropped := packOne(t, cfg, Entry{ID: 1, Kind: Status, Line: []byte(tc.in)})
			if len(dropped) != 0 {
				t.Fatalf("dropped: %+v", dropped)
			}
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestLogType(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		noLT    bool
		newline bool
		in      string
		want    string
	}{
		{name: "empty object", in: `{}`, want: `{"log_type":"result"}`},
		{name: "empty object with space", in: " { \t} \n", want: `{"log_type":"result"}`},
		{name: "appended last", in: `{"a":1}`, want: `{"a":1,"log_type":"result"}`},
		{name: "values keep their types", in: `{"n":1.50,"b":true,"z":null,"e":[],"o":{}}`, want: `{"n":1.50,"b":true,"z":null,"e":[],"o":{},"log_type":"result"}`},
		{name: "trailing whitespace trimmed", in: "{\"a\":1}\n\n", want: `{"a":1,"log_type":"result"}`},
		{name: "inner whitespace kept", in: `{ "a" : 1 }`, want: `{ "a" : 1 ,"log_type":"result"}`},
		{name: "existing replaced in place", in: `{"a":1,"log_type":"x","b":2}`, want: `{"a":1,"log_type":"result","b":2}`},
		{name: "existing non-string replaced", in: `{"log_type":{"x":[1]}}`, want: `{"log_type":"result"}`},
		{name: "first of duplicates replaced", in: `{"log_type":1,"log_type":2}`, want: `{"log_type":"result","log_type":2}`},
		{name: "nested log_type untouched", in: `{"a":{"log_type":1}}`, want: `{"a":{"log_type":1},"log_type":"result"}`},
		{name: "snapshot is a result", kind: Snapshot, in: `{"snapshot":[],"action":"snapshot"}`, want: `{"snapshot":[],"action":"snapshot","log_type":"result"}`},
		{name: "unknown kind is a result", kind: 9, in: `{"a":1}`, want: `{"a":1,"log_type":"result"}`},
		{name: "status", kind: Status, in: `{"severity":"0"}`, want: `{"severity":"0","log_type":"status"}`},
		{name: "disabled", noLT: true, in: ` {"a":1} `, want: `{"a":1}`},
		{name: "newline", newline: true, in: `{"a":1}`, want: "{\"a\":1,\"log_type\":\"result\"}\n"},
		{name: "utf8 passes through", in: `{"a":"héllo/ü"}`, want: `{"a":"héllo/ü","log_type":"result"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kinesisCfg()
			cfg.AddLogType = !tc.noLT
			cfg.Newline = tc.newline
			got, dropped := packOne(t, cfg, Entry{ID: 7, Kind: tc.kind, Line: []byte(tc.in)})
			if len(dropped) != 0 {
				t.Fatalf("dropped: %+v", dropped)
			}
			if got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNotJSONDropped(t *testing.T) {
	for _, in := range []string{
		"", "   ", "not json", `This line will be discarded because it is not in JSON format`,
		`["a"]`, `"str"`, `1`, `null`, `{"a":1} {"b":2}`, `{"a":}`, `{"a":1`, `{"a":1,}`, `{'a':1}`,
		`{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":01}`, `{"a":1.}`, `{"a":tru}`, `{"a":[1,]}`, `{a:1}`,
	} {
		t.Run(in, func(t *testing.T) {
			for _, kind := range []Kind{Result, Status} {
				_, dropped := packOne(t, kinesisCfg(), Entry{ID: 3, Kind: kind, Line: []byte(in)})
				if len(dropped) != 1 || dropped[0].ID != 3 || dropped[0].Reason != NotJSON || dropped[0].Rows != 1 {
					t.Fatalf("kind %v: dropped = %+v", kind, dropped)
				}
			}
		})
	}
	// The sample is a short prefix, never the whole line.
	long := strings.Repeat("x", 1000)
	_, dropped := packOne(t, kinesisCfg(), Entry{ID: 1, Line: []byte(long)})
	if len(dropped[0].Sample) != 64 || dropped[0].Bytes != 1000 {
		t.Fatalf("sample %d bytes, Bytes %d", len(dropped[0].Sample), dropped[0].Bytes)
	}
}

func TestPartitionKeys(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name  string
		mode  PartitionKeyMode
		field string
		line  string
		want  string
	}{
		{name: "host identifier", mode: HostIdentifier, line: `{"name":"q"}`, want: "host-1"},
		{name: "field", mode: Field, field: "name", line: `{"name":"pack_q","x":1}`, want: "pack_q"},
		{name: "field escaped", mode: Field, field: "name", line: `{"name":"a\/b\u00e9"}`, want: "a/bé"},
		{name: "field number", mode: Field, field: "counter", line: `{"counter":42}`, want: "42"},
		{name: "field bool", mode: Field, field: "numerics", line: `{"numerics":false}`, want: "false"},
		{name: "field absent", mode: Field, field: "name", line: `{"other":"x"}`, want: "host-1"},
		{name: "field empty", mode: Field, field: "name", line: `{"name":""}`, want: "host-1"},
		{name: "field null", mode: Field, field: "name", line: `{"name":null}`, want: "host-1"},
		{name: "field object", mode: Field, field: "name", line: `{"name":{"a":1}}`, want: "host-1"},
		{name: "nested field", mode: Field, field: "decorations.host_uuid", line: `{"decorations":{"a":1,"host_uuid":"U-1"}}`, want: "U-1"},
		{name: "nested field absent", mode: Field, field: "decorations.host_uuid", line: `{"decorations":{"a":1}}`, want: "host-1"},
		{name: "nested through scalar", mode: Field, field: "decorations.host_uuid", line: `{"decorations":"x"}`, want: "host-1"},
		{name: "cut to 256 characters", mode: Field, field: "name", line: `{"name":"` + long + `"}`, want: strings.Repeat("é", 256)},
		{name: "status by hostIdentifier", mode: Field, field: "hostIdentifier", line: `{"s":0,"h":"hh","m":"m"}`, want: "hh"},
	}
	for _, tc := range tests {
		for _, agg := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/agg=%v", tc.name, agg), func(t *testing.T) {
				cfg := kinesisCfg()
				cfg.PartitionKey, cfg.PartitionKeyField, cfg.Aggregate = tc.mode, tc.field, agg
				kind := Result
				if strings.Contains(tc.line, `"s":0`) {
					kind = Status
				}
				p := mustNew(t, cfg)
				recs, dropped := p.Pack([]Entry{{ID: 1, Kind: kind, Line: []byte(tc.line)}, {ID: 2, Kind: kind, Line: []byte(tc.line)}})
				if len(dropped) != 0 {
					t.Fatalf("dropped %+v", dropped)
				}
				got := unpack(t, cfg, recs)
				if len(got) != 2 {
					t.Fatalf("%d user records", len(got))
				}
				for _, s := range got {
					if s.pk != tc.want {
						t.Fatalf("pk %q, want %q", s.pk, tc.want)
					}
				}
				if agg && len(recs) != 1 {
					t.Fatalf("same key should aggregate into 1 record, got %d", len(recs))
				}
			})
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRandomPartitionKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, agg := range []bool{false, true} {
		t.Run(fmt.Sprintf("agg=%v", agg), func(t *testing.T) {
			cfg := kinesisCfg()
			cfg.PartitionKey, cfg.Aggregate, cfg.MaxRecordBytes = Random, agg, 64<<10
			p := mustNew(t, cfg)
			seen := map[string]bool{}
			var nibble [16]int
			total := 0
			for round := 0; round < 20; round++ {
				var entries []Entry
				for i := 0; i < 500; i++ {
					entries = append(entries, Entry{ID: int64(round*1000 + i), Line: eventLine(r, "q", 300)})
				}
				recs, dropped := p.Pack(entries)
				if len(dropped) != 0 {
					t.Fatal(dropped)
				}
				got := unpack(t, cfg, recs)
				checkComplete(t, entries, got, dropped)
				for _, rec := range recs {
					if !uuidRE.MatchString(rec.PartitionKey) {
						t.Fatalf("not a UUIDv4: %q", rec.PartitionKey)
					}
					if seen[rec.PartitionKey] {
						t.Fatalf("duplicate key %q", rec.PartitionKey)
					}
					seen[rec.PartitionKey] = true
					for _, c := range rec.PartitionKey[:8] {
						nibble[strings.IndexRune("0123456789abcdef", c)]++
						total++
					}
				}
				if agg && len(recs) >= len(entries) {
					t.Fatalf("random keys must not defeat aggregation: %d records for %d lines", len(recs), len(entries))
				}
			}
			// Crude uniformity check of the first 8 hex digits: each count is
			// binomial(total, 1/16); allow 5 standard deviations, so a
			// correct generator fails about once in a million runs (the
			// aggregated case has few keys, and a fixed ±50% band failed
			// there a few times in a hundred).
			exp := float64(total) / 16
			sd := math.Sqrt(float64(total) * (1.0 / 16) * (15.0 / 16))
			for d, c := range nibble {
				if math.Abs(float64(c)-exp) > 5*sd {
					t.Fatalf("hex digit %x appears %d times, expected about %.0f (sd %.1f)", d, c, exp, sd)
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	ok := kinesisCfg()
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"unknown service", func(c *Config) { c.Service = 7 }},
		{"kinesis limit too big", func(c *Config) { c.MaxRecordBytes = 10<<20 + 1 }},
		{"limit too small", func(c *Config) { c.MaxRecordBytes = 100 }},
		{"firehose limit too big", func(c *Config) { c.Service = Firehose; c.MaxRecordBytes = 1_024_001 }},
		{"firehose aggregate", func(c *Config) { c.Service = Firehose; c.Aggregate = true }},
		{"aggregate and join", func(c *Config) { c.Aggregate, c.Join, c.Newline = true, true, true }},
		{"join without newline", func(c *Config) { c.Join = true }},
		{"bad compression", func(c *Config) { c.Compression = "zstd" }},
		{"bad gzip level", func(c *Config) { c.Compression, c.GzipLevel = "gzip", 10 }},
		{"field without name", func(c *Config) { c.PartitionKey = Field }},
		{"bad mode", func(c *Config) { c.PartitionKey = 9 }},
		{"no host identifier", func(c *Config) { c.HostIdentifier = "" }},
	}
	for _, tc := range tests {
		c := ok
		tc.mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: New succeeded", tc.name)
		}
	}
	for _, c := range []Config{ok, DefaultConfig(Firehose), {Service: Kinesis, PartitionKey: Random}} {
		if _, err := New(c); err != nil {
			t.Errorf("New(%+v): %v", c, err)
		}
	}
}

func TestStats(t *testing.T) {
	cfg := kinesisCfg()
	cfg.Aggregate = true
	cfg.Compression = "gzip"
	p := mustNew(t, cfg)
	r := rand.New(rand.NewPCG(3, 4))
	var entries []Entry
	in := 0
	for i := 0; i < 1000; i++ {
		l := eventLine(r, "q", 500)
		in += len(l)
		entries = append(entries, Entry{ID: int64(i), Line: l})
	}
	entries = append(entries, Entry{ID: 5000, Line: []byte("junk")})
	recs, dropped := p.Pack(entries)
	s := p.Stats()
	shipped := 0
	for _, r := range recs {
		shipped += len(r.Data)
	}
	if s.Entries != 1001 || s.Lines != 1000 || s.Records != int64(len(recs)) || s.Dropped != int64(len(dropped)) || s.Dropped != 1 ||
		s.InputBytes != int64(in+4) || s.ShippedBytes != int64(shipped) || s.RawBytes != int64(in+1000*len(`,"log_type":"result"`)) {
		t.Fatalf("stats %+v (records %d, shipped %d, in %d)", s, len(recs), shipped, in)
	}
	if s.FramedBytes <= s.RawBytes || s.ShippedBytes*3 > s.FramedBytes {
		t.Fatalf("expected KPL framing overhead and >3x compression: %+v", s)
	}
	t.Logf("aggregation %.0f lines/record, compression %.1fx", float64(s.Lines)/float64(s.Records), float64(s.FramedBytes)/float64(s.ShippedBytes))
}

func TestRecordsDoNotAliasBuffers(t *testing.T) {
	for _, cfg := range []Config{kinesisCfg(), func() Config { c := kinesisCfg(); c.Aggregate = true; return c }(), DefaultConfig(Firehose)} {
		p := mustNew(t, cfg)
		recs1, _ := p.Pack([]Entry{{ID: 1, Line: []byte(`{"a":1}`)}, {ID: 2, Line: []byte(`{"a":2}`)}})
		snap := make([]string, len(recs1))
		for i, r := range recs1 {
			snap[i] = string(r.Data)
		}
		p.Pack([]Entry{{ID: 3, Line: []byte(`{"b":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)}, {ID: 4, Line: []byte(`{"b":"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"}`)}})
		for i, r := range recs1 {
			if string(r.Data) != snap[i] {
				t.Fatalf("record %d changed by a later Pack", i)
			}
		}
		// Appending to one record's Refs must not clobber the next.
		if len(recs1) > 1 {
			before := recs1[1].Refs[0]
			_ = append(recs1[0].Refs, Ref{ID: 99})
			if recs1[1].Refs[0] != before {
				t.Fatal("Refs share capacity")
			}
		}
	}
}

func TestJSONValidMatchesStdlib(t *testing.T) {
	for _, s := range []string{`{}`, `[]`, `1`, `-0.5e+3`, `"\ud800"`, `{"a":[true,false,null,{"b":"c"}]}`, `01`, `1e`, `-`, `"\u12"`, "\"\x7f\xff\"", strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000)} {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid = %v", s, got, want)
		}
	}
}
