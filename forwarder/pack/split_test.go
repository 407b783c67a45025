package pack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// row builds one osquery row object of about size bytes.
func row(r *rand.Rand, i, size int) string {
	pad := max(0, size-60)
	return fmt.Sprintf(`{"pid":"%d","name":"proc-%d","cmdline":"%s","uid":"0"}`, i, r.IntN(1e6), strings.Repeat(string(rune('a'+i%26)), pad))
}

func rows(r *rand.Rand, n, minSize, maxSize int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = row(r, i, minSize+r.IntN(maxSize-minSize+1))
	}
	return out
}

const envHead = `{"name":"pack_processes","hostIdentifier":"host-1","calendarTime":"Mon Jan  1 00:00:00 2024 UTC","unixTime":1704067200,"epoch":3,"counter":7,"numerics":false,"decorations":{"host_uuid":"U-1","username":"root"}`

func snapshotLine(rs []string) []byte {
	return []byte(envHead + `,"snapshot":[` + strings.Join(rs, ",") + `],"action":"snapshot","extra":{"k":[1,2]}}`)
}

func batchLine(added, removed []string) []byte {
	return []byte(envHead + `,"diffResults":{"added":[` + strings.Join(added, ",") + `],"removed":[` + strings.Join(removed, ",") + `]},"action":"batch"}`)
}

// decodeParts parses each shipped part, checks the envelope equals the
// original's and returns the row arrays concatenated in part order.
func decodeParts(t *testing.T, orig []byte, parts []shipped, newline bool) (snapshot, added, removed []string) {
	t.Helper()
	var want map[string]json.RawMessage
	if err := json.Unmarshal(orig, &want); err != nil {
		t.Fatal(err)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].ref.Part < parts[j].ref.Part })
	for _, s := range parts {
		body := s.data
		if newline {
			body = bytes.TrimSuffix(body, []byte("\n"))
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("part %d: %v", s.ref.Part, err)
		}
		if string(got["log_type"]) != `"result"` {
			t.Fatalf("part %d: log_type %s", s.ref.Part, got["log_type"])
		}
		for k, v := range want {
			switch k {
			case "snapshot":
				var rs []json.RawMessage
				if err := json.Unmarshal(got[k], &rs); err != nil {
					t.Fatal(err)
				}
				for _, r := range rs {
					snapshot = append(snapshot, string(r))
				}
			case "diffResults":
				var d map[string][]json.RawMessage
				if err := json.Unmarshal(got[k], &d); err != nil {
					t.Fatal(err)
				}
				if _, ok := d["added"]; !ok {
					t.Fatalf("part %d lacks added", s.ref.Part)
				}
				if _, ok := d["removed"]; !ok {
					t.Fatalf("part %d lacks removed", s.ref.Part)
				}
				for _, r := range d["added"] {
					added = append(added, string(r))
				}
				for _, r := range d["removed"] {
					removed = append(removed, string(r))
				}
			default:
				if string(got[k]) != string(v) {
					t.Fatalf("part %d: envelope %s = %s, want %s", s.ref.Part, k, got[k], v)
				}
			}
		}
		if len(got) != len(want)+1 {
			t.Fatalf("part %d: %d members, want %d", s.ref.Part, len(got), len(want)+1)
		}
		// Envelope order is kept: the part starts like the original.
		if !bytes.HasPrefix(body, []byte(envHead)) {
			t.Fatalf("part %d: envelope order changed: %q", s.ref.Part, trunc(body))
		}
	}
	return
}

func equalRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: row %d differs", what, i)
		}
	}
}

func splitConfigs() map[string]Config {
	k := kinesisCfg()
	ka := kinesisCfg()
	ka.Aggregate = true
	kz := kinesisCfg()
	kz.Compression = "gzip"
	f := DefaultConfig(Firehose)
	fz := DefaultConfig(Firehose)
	fz.Compression = "gzip"
	return map[string]Config{"kinesis": k, "kinesis-agg": ka, "kinesis-gzip": kz, "firehose-join": f, "firehose-join-gzip": fz}
}

func TestSplitSnapshot3MiB(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	rs := rows(r, 6000, 100, 1000)
	line := snapshotLine(rs)
	if len(line) < 3<<20 {
		t.Fatalf("line only %d bytes", len(line))
	}
	for name, cfg := range splitConfigs() {
		t.Run(name, func(t *testing.T) {
			p := mustNew(t, cfg)
			entries := []Entry{{ID: 1, Line: []byte(`{"small":1}`)}, {ID: 2, Kind: Snapshot, Line: line}, {ID: 3, Line: []byte(`{"small":2}`)}}
			recs, dropped := p.Pack(entries)
			if len(dropped) != 0 {
				t.Fatalf("dropped %+v", dropped)
			}
			got := unpack(t, cfg, recs)
			byID := checkComplete(t, entries, got, dropped)
			parts := byID[2]
			if len(parts) < 4 {
				t.Fatalf("3 MiB split into %d parts", len(parts))
			}
			snap, _, _ := decodeParts(t, line, parts, cfg.Newline)
			equalRows(t, "snapshot", snap, rs)
			if p.Stats().Split != 1 {
				t.Fatalf("Split = %d", p.Stats().Split)
			}
		})
	}
}

func TestSplitBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	tests := []struct {
		name           string
		added, removed []string
	}{
		{"added and removed", rows(r, 3000, 50, 700), rows(r, 2500, 50, 700)},
		{"added only", rows(r, 4000, 200, 900), nil},
		{"removed only", nil, rows(r, 4000, 200, 900)},
	}
	for _, tc := range tests {
		for name, cfg := range splitConfigs() {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				line := batchLine(tc.added, tc.removed)
				p := mustNew(t, cfg)
				entries := []Entry{{ID: 10, Line: line}}
				recs, dropped := p.Pack(entries)
				if len(dropped) != 0 {
					t.Fatalf("dropped %+v", dropped)
				}
				got := unpack(t, cfg, recs)
				byID := checkComplete(t, entries, got, dropped)
				if len(byID[10]) < 2 {
					t.Fatalf("%d-byte line not split", len(line))
				}
				_, added, removed := decodeParts(t, line, byID[10], cfg.Newline)
				equalRows(t, "added", added, tc.added)
				equalRows(t, "removed", removed, tc.removed)
			})
		}
	}
}

// TestSplitTight checks parts are filled to the byte: with a small limit,
// every part but the last is within one row of the budget.
func TestSplitTight(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rs := rows(r, 300, 60, 120)
	line := snapshotLine(rs)
	cfg := kinesisCfg()
	cfg.MaxRecordBytes = 4096
	p := mustNew(t, cfg)
	recs, dropped := p.Pack([]Entry{{ID: 1, Line: line}})
	if len(dropped) != 0 {
		t.Fatal(dropped)
	}
	got := unpack(t, cfg, recs)
	snap, _, _ := decodeParts(t, line, got, false)
	equalRows(t, "snapshot", snap, rs)
	for i, rec := range recs[:len(recs)-1] {
		size := len(rec.Data) + len(rec.PartitionKey)
		if size > 4096 || size < 4096-130 {
			t.Fatalf("part %d is %d bytes, not tightly packed", i, size)
		}
	}
}

func TestSplitDrops(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	small := rows(r, 20, 100, 200)
	huge := row(r, 99, 2<<20)
	withHuge := append(append(append([]string{}, small[:10]...), huge), small[10:]...)
	bigEnvelope := []byte(`{"name":"q","decorations":{"x":"` + strings.Repeat("d", 2<<20) + `"},"snapshot":[{"a":"1"}]}`)
	event := eventLine(r, "q", 3<<20)
	status := []byte(`{"s":0,"f":"a","i":1,"m":"` + strings.Repeat("m", 2<<20) + `","h":"h","c":"C","u":1}`)
	tests := []struct {
		name      string
		kind      Kind
		line      []byte
		reason    Reason
		rows      int
		wantShip  []string // rows still shipped
		wantWhole bool     // nothing of the entry ships
	}{
		{name: "one oversize row, others ship", line: snapshotLine(withHuge), reason: RowTooLarge, rows: 1, wantShip: small},
		{name: "only row oversize", line: snapshotLine([]string{huge}), reason: RowTooLarge, rows: 1, wantWhole: true},
		{name: "oversize row in batch", line: batchLine([]string{huge, small[0]}, []string{huge}), reason: RowTooLarge, rows: 2},
		{name: "event-format line", line: event, reason: TooLarge, rows: 1, wantWhole: true},
		{name: "envelope alone too large", line: bigEnvelope, reason: TooLarge, rows: 1, wantWhole: true},
		{name: "status line", kind: Status, line: status, reason: TooLarge, rows: 1, wantWhole: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kinesisCfg()
			p := mustNew(t, cfg)
			entries := []Entry{{ID: 1, Kind: tc.kind, Line: tc.line}, {ID: 2, Line: []byte(`{"ok":true}`)}}
			recs, dropped := p.Pack(entries)
			if len(dropped) != 1 || dropped[0].ID != 1 || dropped[0].Reason != tc.reason || dropped[0].Rows != tc.rows {
				t.Fatalf("dropped = %+v", dropped)
			}
			if len(dropped[0].Sample) > 64 || dropped[0].Bytes < 2<<20-100 {
				t.Fatalf("drop sample %d bytes, Bytes %d", len(dropped[0].Sample), dropped[0].Bytes)
			}
			got := unpack(t, cfg, recs)
			byID := checkComplete(t, entries, got, dropped)
			if len(byID[2]) != 1 {
				t.Fatal("unrelated entry lost")
			}
			if tc.wantWhole != (len(byID[1]) == 0) {
				t.Fatalf("entry 1 shipped %d parts", len(byID[1]))
			}
			if tc.wantShip != nil {
				snap, _, _ := decodeParts(t, tc.line, byID[1], false)
				equalRows(t, "snapshot", snap, tc.wantShip)
			}
		})
	}
}

// TestGzipOversizeLineShipsAlone: with gzip, a line above the raw limit
// that cannot be split ships alone if it fits once compressed.
func TestGzipOversizeLineShipsAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	event := eventLine(r, "q", 2<<20) // compresses very well
	for _, agg := range []bool{false, true} {
		cfg := kinesisCfg()
		cfg.Compression, cfg.Aggregate = "gzip", agg
		p := mustNew(t, cfg)
		entries := []Entry{{ID: 1, Line: []byte(`{"a":1}`)}, {ID: 2, Line: event}, {ID: 3, Line: []byte(`{"a":3}`)}}
		recs, dropped := p.Pack(entries)
		if len(dropped) != 0 {
			t.Fatal(dropped)
		}
		got := unpack(t, cfg, recs)
		byID := checkComplete(t, entries, got, dropped)
		if len(byID[2]) != 1 || len(byID[2][0].data) < 2<<20 {
			t.Fatalf("agg=%v: big line not shipped whole", agg)
		}
		for _, rec := range recs {
			if len(rec.Refs) > 1 && rec.Refs[0].ID == 2 || len(rec.Refs) > 1 && rec.Refs[len(rec.Refs)-1].ID == 2 {
				t.Fatalf("agg=%v: oversize line shares a record", agg)
			}
		}
	}
}
