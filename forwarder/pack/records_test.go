package pack

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"
)

// lineOf returns a JSON object of exactly n bytes: {"p":"xxx..."}.
func lineOf(n int, c byte) []byte {
	if n < 8 {
		panic("too short")
	}
	return []byte(`{"p":"` + strings.Repeat(string(c), n-8) + `"}`)
}

func TestKPLManyPartitionKeys(t *testing.T) {
	r := mrand.New(mrand.NewPCG(21, 22))
	for _, limit := range []int{0, 64 << 10, 5000} {
		for _, gz := range []string{"", "gzip"} {
			t.Run(fmt.Sprintf("limit=%d/%s", limit, gz), func(t *testing.T) {
				cfg := kinesisCfg()
				cfg.Aggregate, cfg.PartitionKey, cfg.PartitionKeyField, cfg.MaxRecordBytes, cfg.Compression = true, Field, "name", limit, gz
				p := mustNew(t, cfg)
				var entries []Entry
				for i := 0; i < 10000; i++ {
					name := fmt.Sprintf("pack_query_%d", r.IntN(50))
					if i%97 == 0 {
						name = "" // falls back to host identifier
					}
					entries = append(entries, Entry{ID: int64(i), Line: eventLine(r, name, 300+r.IntN(500))})
				}
				recs, dropped := p.Pack(entries)
				if len(dropped) != 0 {
					t.Fatal(dropped)
				}
				got := unpack(t, cfg, recs) // deaggregates every record, asserts counts and inner==outer keys
				checkComplete(t, entries, got, dropped)
				// Data and keys of every sub-record, and per-key queue order.
				lastByKey := map[string]int64{}
				for _, s := range got {
					e := entries[s.ref.ID]
					want := string(e.Line[:len(e.Line)-1]) + `,"log_type":"result"}`
					if string(s.data) != want {
						t.Fatalf("entry %d data mismatch", s.ref.ID)
					}
					wantPK := "host-1"
					if i := bytes.Index(e.Line, []byte(`"name":"`)); i >= 0 {
						if n := e.Line[i+8:]; n[0] != '"' {
							wantPK = string(n[:bytes.IndexByte(n, '"')])
						}
					}
					if s.pk != wantPK {
						t.Fatalf("entry %d: key %q, want %q", s.ref.ID, s.pk, wantPK)
					}
					if last, ok := lastByKey[s.pk]; ok && last >= s.ref.ID {
						t.Fatalf("key %q out of order: %d after %d", s.pk, s.ref.ID, last)
					}
					lastByKey[s.pk] = s.ref.ID
				}
				if len(lastByKey) != 51 {
					t.Fatalf("%d keys", len(lastByKey))
				}
				if limit == 0 && len(recs) > 51*2 {
					t.Fatalf("poor aggregation: %d records", len(recs))
				}
			})
		}
	}
}

// TestKPLExactLimit: an aggregate of exactly MaxRecordBytes (data + outer
// key) is allowed; one byte more is not.
func TestKPLExactLimit(t *testing.T) {
	for _, limit := range []int{4096, 70000, 1 << 20} {
		for _, pk := range []string{"k", strings.Repeat("p", 200)} {
			t.Run(fmt.Sprintf("%d/%d", limit, len(pk)), func(t *testing.T) {
				cfg := Config{Service: Kinesis, MaxRecordBytes: limit, Aggregate: true, HostIdentifier: pk}
				p := mustNew(t, cfg)
				a := lineOf(100, 'a')
				// Find the second line's length that makes the aggregate exactly
				// the limit, computed independently of the package.
				n := -1
				for x := 8; x < limit; x++ {
					if kplSizeIndependent(pk, len(a), x)+len(pk) == limit {
						n = x
					}
				}
				if n < 0 {
					t.Skip("limit not reachable exactly (varint step)")
				}
				recs, _ := p.Pack([]Entry{{ID: 1, Line: a}, {ID: 2, Line: lineOf(n, 'b')}})
				if len(recs) != 1 || len(recs[0].Data)+len(recs[0].PartitionKey) != limit {
					t.Fatalf("want 1 record of exactly %d bytes, got %d records", limit, len(recs))
				}
				got := unpack(t, cfg, recs)
				if len(got) != 2 || string(got[0].data) != string(a) || string(got[1].data) != string(lineOf(n, 'b')) {
					t.Fatal("round trip mismatch")
				}
				recs, _ = p.Pack([]Entry{{ID: 1, Line: a}, {ID: 2, Line: lineOf(n+1, 'b')}})
				if len(recs) != 2 {
					t.Fatalf("one byte over: want 2 raw records, got %d", len(recs))
				}
				unpack(t, cfg, recs)
				if string(recs[0].Data) != string(a) || string(recs[1].Data) != string(lineOf(n+1, 'b')) {
					t.Fatal("over-limit pair not sent raw")
				}
			})
		}
	}
}

func TestKPLSingleRecordRaw(t *testing.T) {
	cfg := kinesisCfg()
	cfg.Aggregate = true
	p := mustNew(t, cfg)
	recs, _ := p.Pack([]Entry{{ID: 1, Line: []byte(`{"a":1}`)}})
	if len(recs) != 1 || string(recs[0].Data) != `{"a":1,"log_type":"result"}` || recs[0].PartitionKey != "host-1" {
		t.Fatalf("got %+v", recs)
	}
	// A lone line of exactly limit-pk bytes ships raw; one more byte is
	// too large.
	cfg.AddLogType = false
	p = mustNew(t, cfg)
	max := 1<<20 - len("host-1")
	recs, dropped := p.Pack([]Entry{{ID: 1, Line: lineOf(max, 'x')}, {ID: 2, Line: lineOf(max+1, 'y')}})
	if len(recs) != 1 || len(recs[0].Data) != max || len(dropped) != 1 || dropped[0].ID != 2 || dropped[0].Reason != TooLarge {
		t.Fatalf("recs %d, dropped %+v", len(recs), dropped)
	}
}

// TestKPLEncoder checks the low-level encoder with several keys and
// non-zero indices against the deaggregator.
func TestKPLEncoder(t *testing.T) {
	keys := []string{"a", "bb", strings.Repeat("c", 300), "é"}
	var subs []kplSub
	for i := 0; i < 200; i++ {
		subs = append(subs, kplSub{key: uint64(i % len(keys)), data: bytes.Repeat([]byte{byte(i)}, i*7)})
	}
	blob := appendKPL(nil, keys, subs)
	if len(blob) != kplSize(keys, subs) {
		t.Fatalf("size %d, predicted %d", len(blob), kplSize(keys, subs))
	}
	pk := "outer"
	got, err := deaggregator.DeaggregateRecords([]types.Record{{Data: blob, PartitionKey: &pk}})
	if err != nil || len(got) != len(subs) {
		t.Fatalf("deaggregated %d, err %v", len(got), err)
	}
	for i, g := range got {
		if *g.PartitionKey != keys[subs[i].key] || !bytes.Equal(g.Data, subs[i].data) {
			t.Fatalf("sub %d mismatch", i)
		}
	}
	// Sanity: the oracle really does pass a corrupted blob through as one
	// record, which is why counts are asserted everywhere.
	blob[len(blob)-1] ^= 1
	got, _ = deaggregator.DeaggregateRecords([]types.Record{{Data: blob, PartitionKey: &pk}})
	if len(got) != 1 {
		t.Fatalf("corrupt blob gave %d records", len(got))
	}
}

func TestFirehoseJoinExactLimit(t *testing.T) {
	cfg := DefaultConfig(Firehose)
	cfg.AddLogType = false
	p := mustNew(t, cfg)
	mk := func(n int, last int) []Entry {
		var es []Entry
		for i := 0; i < n; i++ {
			l := 1023
			if i == n-1 {
				l = last
			}
			es = append(es, Entry{ID: int64(i), Line: lineOf(l, 'a'+byte(i%26))})
		}
		return es
	}
	tests := []struct {
		name    string
		entries []Entry
		records int
	}{
		{"exactly 1,024,000", mk(1000, 1023), 1},
		{"one byte more", mk(1000, 1024), 2},
		{"one line more", mk(1001, 1023), 2},
		{"one byte less", mk(1000, 1022), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, dropped := p.Pack(tc.entries)
			if len(dropped) != 0 || len(recs) != tc.records {
				t.Fatalf("%d records, dropped %v", len(recs), dropped)
			}
			got := unpack(t, cfg, recs)
			checkComplete(t, tc.entries, got, dropped)
			for i, s := range got {
				if s.ref.ID != int64(i) || string(s.data) != string(tc.entries[i].Line)+"\n" {
					t.Fatalf("line %d out of order or changed", i)
				}
			}
			if tc.name == "exactly 1,024,000" && len(recs[0].Data) != 1_024_000 {
				t.Fatalf("record is %d bytes", len(recs[0].Data))
			}
		})
	}
	// Without Join: one line per record, newline-terminated.
	cfg.Join = false
	p = mustNew(t, cfg)
	recs, _ := p.Pack(mk(3, 100))
	if len(recs) != 3 || string(recs[2].Data) != string(lineOf(100, 'c'))+"\n" {
		t.Fatalf("unjoined: %d records", len(recs))
	}
	unpack(t, cfg, recs)
}

// randomText returns n bytes that are valid inside a JSON string but as
// close to incompressible as JSON allows (bytes 0x20–0xFF except '"' and
// '\\'; encoding/json and the scanner accept non-UTF-8 bytes).
func randomText(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		c := b[i]%222 + 0x20
		if c >= '"' {
			c++
		}
		if c >= '\\' {
			c++
		}
		b[i] = c
	}
	return b
}

func TestGzip(t *testing.T) {
	r := mrand.New(mrand.NewPCG(31, 32))
	for _, base := range []Config{kinesisCfg(), func() Config { c := kinesisCfg(); c.Aggregate = true; return c }(), DefaultConfig(Firehose)} {
		for _, lvl := range []int{0, 6, 9} {
			cfg := base
			cfg.Compression, cfg.GzipLevel = "gzip", lvl
			t.Run(fmt.Sprintf("%v/agg=%v/join=%v/level=%d", cfg.Service, cfg.Aggregate, cfg.Join, lvl), func(t *testing.T) {
				p := mustNew(t, cfg)
				var entries []Entry
				for i := 0; i < 1500; i++ {
					entries = append(entries, Entry{ID: int64(i), Line: eventLine(r, "q", 300+r.IntN(500))})
				}
				recs, dropped := p.Pack(entries)
				if len(dropped) != 0 {
					t.Fatal(dropped)
				}
				got := unpack(t, cfg, recs) // gunzips each record
				checkComplete(t, entries, got, dropped)
				s := p.Stats()
				if s.ShippedBytes >= s.FramedBytes {
					t.Fatalf("no compression: %+v", s)
				}
			})
		}
	}
}

// TestGzipIncompressible: near-incompressible lines of the largest allowed
// size still fit once gzipped (at every level), and joined records of such
// data stay within the limit.
func TestGzipIncompressible(t *testing.T) {
	for _, lvl := range []int{1, 2, 9} {
		for _, svc := range []Service{Kinesis, Firehose} {
			t.Run(fmt.Sprintf("%v/%d", svc, lvl), func(t *testing.T) {
				cfg := DefaultConfig(svc)
				cfg.HostIdentifier, cfg.Compression, cfg.GzipLevel, cfg.AddLogType = "h", "gzip", lvl, false
				p := mustNew(t, cfg)
				budget := p.lineBudget(p.keyLen(p.host))
				if cfg.Newline {
					budget--
				}
				line := []byte(`{"r":"` + string(randomText(budget-8)) + `"}`)
				var entries []Entry
				entries = append(entries, Entry{ID: 1, Line: line})
				for i := 2; i < 60; i++ {
					entries = append(entries, Entry{ID: int64(i), Line: []byte(`{"r":"` + string(randomText(20000)) + `"}`)})
				}
				recs, dropped := p.Pack(entries)
				if len(dropped) != 0 {
					t.Fatal(dropped)
				}
				got := unpack(t, cfg, recs)
				checkComplete(t, entries, got, dropped)
				// The maximal line alone: compressed size within the limit.
				if recs[0].Refs[0].ID != 1 || len(recs[0].Refs) != 1 {
					t.Fatal("maximal line not alone")
				}
				// Past the raw budget an unsplittable line still ships alone if it
				// fits compressed (random text compresses ~2%); 10% over does not.
				line2 := []byte(`{"r":"` + string(randomText(budget-7)) + `"}`)
				entries = []Entry{{ID: 9, Line: line2}, {ID: 10, Line: []byte(`{"a":1}`)}}
				recs, dropped = p.Pack(entries)
				if len(dropped) != 0 {
					t.Fatalf("over-budget line dropped: %+v", dropped)
				}
				checkComplete(t, entries, unpack(t, cfg, recs), dropped)
				line3 := []byte(`{"r":"` + string(randomText(budget*11/10)) + `"}`)
				_, dropped = p.Pack([]Entry{{ID: 11, Line: line3}})
				if len(dropped) != 1 || dropped[0].Reason != TooLarge {
					t.Fatalf("incompressible oversize line: %+v", dropped)
				}
			})
		}
	}
}

// TestGzipResplit forces plans that overflow once compressed (via the
// test-only slack) and checks re-splitting and the Incompressible path keep
// every record within the limit and every entry accounted for.
func TestGzipResplit(t *testing.T) {
	for _, agg := range []bool{false, true} {
		for _, slack := range []int{60000, 200000} {
			t.Run(fmt.Sprintf("agg=%v/slack=%d", agg, slack), func(t *testing.T) {
				var cfg Config
				if agg {
					cfg = kinesisCfg()
					cfg.Aggregate = true
				} else {
					cfg = DefaultConfig(Firehose)
				}
				cfg.Compression, cfg.MaxRecordBytes = "gzip", 100000
				p := mustNew(t, cfg)
				p.slack = slack
				r := mrand.New(mrand.NewPCG(41, 42))
				var entries []Entry
				for i := 0; i < 300; i++ {
					entries = append(entries, Entry{ID: int64(i), Line: []byte(`{"r":"` + string(randomText(500+r.IntN(30000))) + `"}`)})
				}
				var rs []string
				for i := 0; i < 400; i++ {
					rs = append(rs, `{"x":"`+string(randomText(200+r.IntN(3000)))+`"}`)
				}
				entries = append(entries, Entry{ID: 1000, Line: snapshotLine(rs)})
				recs, dropped := p.Pack(entries)
				got := unpack(t, cfg, recs)
				byID := checkComplete(t, entries, got, dropped)
				for _, d := range dropped {
					if d.Reason != Incompressible {
						t.Fatalf("unexpected drop %+v", d)
					}
				}
				if slack == 200000 && len(dropped) == 0 {
					t.Fatal("expected some Incompressible drops with this slack")
				}
				if len(byID[1000]) == 0 {
					t.Fatal("snapshot entirely lost")
				}
				t.Logf("%d records, %d dropped, snapshot parts %d", len(recs), len(dropped), len(byID[1000]))
			})
		}
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGzipMembersConcatenate: Firehose concatenates records at the
// destination; gzip members concatenate into one valid gzip stream.
func TestGzipMembersConcatenate(t *testing.T) {
	cfg := DefaultConfig(Firehose)
	cfg.Compression, cfg.MaxRecordBytes = "gzip", 2000
	p := mustNew(t, cfg)
	var entries []Entry
	var want bytes.Buffer
	for i := 0; i < 100; i++ {
		l := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("z", i*3))
		entries = append(entries, Entry{ID: int64(i), Line: []byte(l)})
		want.WriteString(l[:len(l)-1] + `,"log_type":"result"}` + "\n")
	}
	recs, _ := p.Pack(entries)
	var all []byte
	for _, r := range recs {
		all = append(all, r.Data...)
	}
	if len(recs) < 2 || string(gunzip(t, all)) != want.String() {
		t.Fatalf("%d records; concatenation does not gunzip to the lines", len(recs))
	}
}

func TestBatches(t *testing.T) {
	mk := func(n, size, pk int) []Record {
		rs := make([]Record, n)
		for i := range rs {
			rs[i] = Record{Data: make([]byte, size), PartitionKey: strings.Repeat("k", pk)}
		}
		return rs
	}
	const mib = 1 << 20
	tests := []struct {
		name    string
		recs    []Record
		maxRecs int
		maxB    int
		countPK bool
		sizes   []int
	}{
		{"empty", nil, 500, 5 * mib, true, nil},
		{"500 records", mk(500, 10, 5), 500, 5 * mib, true, []int{500}},
		{"501 records", mk(501, 10, 5), 500, 5 * mib, true, []int{500, 1}},
		{"1000 records", mk(1000, 10, 5), 500, 5 * mib, true, []int{500, 500}},
		// 5 records of 1 MiB - 10 data + 10 key bytes = exactly 5 MiB.
		{"exactly 5 MiB incl. keys", mk(5, mib-10, 10), 500, 5 * mib, true, []int{5}},
		{"5 MiB + 1 incl. keys", append(mk(4, mib-10, 10), mk(1, mib-9, 10)...), 500, 5 * mib, true, []int{4, 1}},
		{"keys not counted", mk(5, mib-10, 10), 500, 5*mib - 50, false, []int{5}},
		{"keys counted", mk(5, mib-10, 10), 500, 5*mib - 50, true, []int{4, 1}},
		{"exactly 4 MiB firehose", mk(4, mib, 0), 500, 4 * mib, false, []int{4}},
		{"4 MiB + 1 firehose", append(mk(3, mib, 0), mk(1, mib+1, 0)...), 500, 4 * mib, false, []int{3, 1}},
		{"500 small firehose at exactly 4 MiB", mk(500, 4*mib/500, 0), 500, 500 * (4 * mib / 500), false, []int{500}},
		{"oversize record alone", append(mk(1, 10, 0), mk(1, 6*mib, 0)...), 500, 5 * mib, true, []int{1, 1}},
		{"no limits", mk(1000, 10, 0), 0, 0, false, []int{1000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bs := Batches(tc.recs, tc.maxRecs, tc.maxB, tc.countPK)
			var sizes []int
			total := 0
			for _, b := range bs {
				sizes = append(sizes, len(b))
				bytes := 0
				for _, r := range b {
					bytes += len(r.Data)
					if tc.countPK {
						bytes += len(r.PartitionKey)
					}
				}
				if len(b) > 1 && ((tc.maxRecs > 0 && len(b) > tc.maxRecs) || (tc.maxB > 0 && bytes > tc.maxB)) {
					t.Fatalf("batch over limits: %d records, %d bytes", len(b), bytes)
				}
				if cap(b) != len(b) {
					t.Fatal("batch capacity not capped")
				}
				total += len(b)
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tc.sizes) || total != len(tc.recs) {
				t.Fatalf("batch sizes %v, want %v", sizes, tc.sizes)
			}
		})
	}
}
