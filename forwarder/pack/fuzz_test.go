package pack

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"
)

// fuzzConfig picks one of the packing modes from mode.
func fuzzConfig(mode uint8, limit int) Config {
	var c Config
	switch mode % 5 {
	case 0:
		c = DefaultConfig(Kinesis)
	case 1:
		c = DefaultConfig(Kinesis)
		c.Aggregate = true
	case 2:
		c = DefaultConfig(Firehose)
	case 3:
		c = DefaultConfig(Kinesis)
		c.Aggregate, c.Compression = true, "gzip"
	case 4:
		c = DefaultConfig(Firehose)
		c.Join, c.Compression = false, "gzip"
	}
	c.HostIdentifier = "host"
	c.MaxRecordBytes = limit
	if mode&0x10 != 0 {
		c.AddLogType = false
	}
	if mode&0x20 != 0 && c.Service == Kinesis {
		c.PartitionKey, c.PartitionKeyField = Field, "name"
	}
	return c
}

// FuzzSplit: arbitrary input lines never panic; every output is a valid
// JSON object within the limit; every entry is shipped completely or
// dropped for a stated reason; split snapshot rows keep their order and
// are each shipped once or counted as dropped.
func FuzzSplit(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 1))
	f.Add([]byte(`{}`), uint16(0), uint8(0), uint8(0))
	f.Add([]byte(`{"s":0,"f":"a.cpp","i":12,"m":"msg","h":"host","c":"Mon Jan  1 00:00:00 2024 UTC","u":1704067200}`), uint16(0), uint8(2), uint8(1))
	f.Add(snapshotLine(rows(r, 20, 50, 300)), uint16(0), uint8(1), uint8(0))
	f.Add(batchLine(rows(r, 10, 50, 300), rows(r, 10, 50, 300)), uint16(500), uint8(2), uint8(0))
	f.Add(batchLine(nil, []string{row(r, 1, 3000)}), uint16(100), uint8(0x23), uint8(0))
	f.Add([]byte(`{"snapshot":[1,2,3, {"a":[]} ,"x"],"log_type":5}`), uint16(0), uint8(4), uint8(0))
	f.Fuzz(func(t *testing.T, line []byte, limitSel uint16, mode, kind uint8) {
		limit := 1024 + int(limitSel)%4096
		cfg := fuzzConfig(mode, limit)
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		k := Kind(kind % 3)
		entries := []Entry{{ID: 1, Kind: k, Line: line}, {ID: 2, Line: []byte(`{"name":"n","x":1}`)}}
		recs, dropped := p.Pack(entries)
		got := unpack(t, cfg, recs)
		byID := checkComplete(t, entries, got, dropped)
		if len(byID[2]) != 1 {
			t.Fatal("control entry lost")
		}
		trimmed := bytes.TrimSpace(line)
		isObj := json.Valid(trimmed) && len(trimmed) > 0 && trimmed[0] == '{'
		for _, d := range dropped {
			if d.ID != 1 {
				t.Fatalf("unexpected drop %+v", d)
			}
			if (d.Reason == NotJSON) == isObj {
				t.Fatalf("reason %v for input valid=%v", d.Reason, isObj)
			}
			if len(d.Sample) > 64 || d.Rows < 1 {
				t.Fatalf("bad drop report %+v", d)
			}
		}
		if !isObj {
			return
		}
		if len(byID[1]) == 0 && len(dropped) == 0 {
			t.Fatal("valid object neither shipped nor dropped")
		}
		// Rows of a simple snapshot line survive in order.
		if k == Status || bytes.Count(trimmed, []byte(`"snapshot"`)) != 1 || bytes.Contains(trimmed, []byte(`"diffResults"`)) || len(byID[1]) < 2 {
			return
		}
		var orig struct{ Snapshot []json.RawMessage }
		if json.Unmarshal(trimmed, &orig) != nil || orig.Snapshot == nil {
			return
		}
		var want []string
		for _, r := range orig.Snapshot {
			want = append(want, compact(r))
		}
		var shippedRows []string
		parts := byID[1]
		for i := 0; i < len(parts); i++ {
			for _, s := range parts {
				if s.ref.Part != i {
					continue
				}
				var part struct{ Snapshot []json.RawMessage }
				if err := json.Unmarshal(s.data, &part); err != nil {
					t.Fatal(err)
				}
				for _, r := range part.Snapshot {
					shippedRows = append(shippedRows, compact(r))
				}
			}
		}
		lost := 0
		for _, d := range dropped {
			lost += d.Rows
		}
		if len(shippedRows)+lost != len(want) {
			t.Fatalf("%d rows shipped + %d dropped != %d", len(shippedRows), lost, len(want))
		}
		j := 0
		for _, w := range want {
			if j < len(shippedRows) && shippedRows[j] == w {
				j++
			}
		}
		if j != len(shippedRows) {
			t.Fatal("shipped rows are not the original rows in order")
		}
	})
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// FuzzKPL: arbitrary records encoded by the KPL encoder (directly, with
// several keys) and by the Packer (one aggregate per key) come back
// unchanged from the awslabs deaggregator.
func FuzzKPL(f *testing.F) {
	f.Add([]byte("hello"), uint8(1), uint16(0))
	f.Add([]byte{}, uint8(0), uint16(0))
	f.Add(bytes.Repeat([]byte{0xF3, 0x89, 0x9A, 0xC2, 0}, 100), uint8(7), uint16(3000))
	f.Add([]byte(strings.Repeat("0123456789", 300)), uint8(200), uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, nkeys uint8, limitSel uint16) {
		// Cut data into records; the key of each record comes from its
		// first byte.
		keys := []string{"k"}
		for i := 1; i < int(nkeys%16)+1; i++ {
			keys = append(keys, fmt.Sprintf("key-%d-%s", i, strings.Repeat("é", i*7)))
		}
		var subs []kplSub
		for rest := data; len(rest) > 0; {
			n := min(len(rest), int(rest[0])%64+1)
			subs = append(subs, kplSub{key: uint64(int(rest[0]) % len(keys)), data: rest[:n]})
			rest = rest[n:]
		}
		if len(subs) == 0 {
			subs = append(subs, kplSub{data: []byte{}})
		}
		blob := appendKPL(nil, keys, subs)
		if len(blob) != kplSize(keys, subs) {
			t.Fatalf("size %d, predicted %d", len(blob), kplSize(keys, subs))
		}
		pk := "outer"
		got, err := deaggregator.DeaggregateRecords([]types.Record{{Data: blob, PartitionKey: &pk}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(subs) {
			t.Fatalf("%d sub-records, want %d", len(got), len(subs))
		}
		for i, g := range got {
			if *g.PartitionKey != keys[subs[i].key] || !bytes.Equal(g.Data, subs[i].data) {
				t.Fatalf("sub %d mismatch", i)
			}
		}

		// Through the Packer: each sub-record becomes a JSON line whose
		// "name" is its key; Field mode aggregates per key.
		cfg := Config{Service: Kinesis, Aggregate: true, PartitionKey: Field, PartitionKeyField: "name",
			HostIdentifier: "host", MaxRecordBytes: 1024 + int(limitSel)%8192}
		p := mustNew(t, cfg)
		var entries []Entry
		for i, s := range subs {
			line := fmt.Sprintf(`{"name":%q,"d":"%s"}`, keys[s.key], hex.EncodeToString(s.data))
			entries = append(entries, Entry{ID: int64(i), Line: []byte(line)})
		}
		recs, dropped := p.Pack(entries)
		if len(dropped) != 0 {
			t.Fatal(dropped)
		}
		out := unpack(t, cfg, recs)
		checkComplete(t, entries, out, dropped)
		for _, s := range out {
			if string(s.data) != string(entries[s.ref.ID].Line) || s.pk != keys[subs[s.ref.ID].key] {
				t.Fatalf("entry %d mismatch", s.ref.ID)
			}
		}
	})
}

// FuzzValid: the hand-written scanner accepts exactly what
// encoding/json.Valid accepts, and scanTop exactly the objects.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,-2.5e3,true,false,null,"\u00e9\n"]}`, `[`, `{"a":01}`, ` {"a" : { } } `, `"\ud800"`, "{\"\xff\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b)
		if got := validJSON(b); got != want {
			t.Fatalf("validJSON = %v, json.Valid = %v", got, want)
		}
		tb := trimWS(b)
		_, ok := scanTop(tb, "x")
		if wantObj := want && len(tb) > 0 && tb[0] == '{'; ok != wantObj {
			t.Fatalf("scanTop = %v, want %v", ok, wantObj)
		}
	})
}
