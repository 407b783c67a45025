package pack

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"
)

// shipped is one user record recovered from the output.
type shipped struct {
	ref  Ref
	pk   string // outer partition key (and, for aggregates, the sub-record key)
	data []byte // framed line as shipped (incl. newline if configured)
}

var magic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// unpack checks every record against cfg's limit and decodes it back into
// user records using only independent tools: compress/gzip, the awslabs
// deaggregator and newline splitting. It fails the test on any violation.
func unpack(tb testing.TB, cfg Config, recs []Record) []shipped {
	tb.Helper()
	limit := cfg.MaxRecordBytes
	if limit == 0 {
		limit = map[Service]int{Kinesis: 1 << 20, Firehose: 1_024_000}[cfg.Service]
	}
	var out []shipped
	for i, r := range recs {
		size := len(r.Data)
		if cfg.Service == Kinesis {
			size += len(r.PartitionKey)
			if r.PartitionKey == "" || len([]rune(r.PartitionKey)) > 256 {
				tb.Fatalf("record %d: bad partition key %q", i, r.PartitionKey)
			}
		} else if r.PartitionKey != "" {
			tb.Fatalf("record %d: firehose record has partition key %q", i, r.PartitionKey)
		}
		if size > limit {
			tb.Fatalf("record %d: size %d > limit %d", i, size, limit)
		}
		if len(r.Refs) == 0 {
			tb.Fatalf("record %d: no refs", i)
		}
		data := r.Data
		if cfg.Compression == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				tb.Fatalf("record %d: gzip: %v", i, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				tb.Fatalf("record %d: gunzip: %v", i, err)
			}
		}
		var subs [][]byte
		var keys []string
		switch {
		case cfg.Service == Kinesis && cfg.Aggregate:
			pk := r.PartitionKey
			got, err := deaggregator.DeaggregateRecords([]types.Record{{Data: data, PartitionKey: &pk}})
			if err != nil {
				tb.Fatalf("record %d: deaggregate: %v", i, err)
			}
			isAgg := bytes.HasPrefix(data, magic)
			if isAgg != (len(r.Refs) > 1) {
				tb.Fatalf("record %d: %d refs but aggregated=%v", i, len(r.Refs), isAgg)
			}
			if len(got) != len(r.Refs) {
				tb.Fatalf("record %d: deaggregated %d sub-records, want %d", i, len(got), len(r.Refs))
			}
			for _, g := range got {
				subs = append(subs, g.Data)
				keys = append(keys, *g.PartitionKey)
			}
		case cfg.Join:
			if !bytes.HasSuffix(data, []byte("\n")) {
				tb.Fatalf("record %d: joined record does not end in newline", i)
			}
			for _, l := range bytes.SplitAfter(data, []byte("\n")) {
				if len(l) > 0 {
					subs = append(subs, l)
					keys = append(keys, r.PartitionKey)
				}
			}
			if len(subs) != len(r.Refs) {
				tb.Fatalf("record %d: %d lines, want %d", i, len(subs), len(r.Refs))
			}
		default:
			if len(r.Refs) != 1 {
				tb.Fatalf("record %d: %d refs in a single-line record", i, len(r.Refs))
			}
			subs, keys = [][]byte{data}, []string{r.PartitionKey}
		}
		for j, s := range subs {
			if keys[j] != r.PartitionKey {
				tb.Fatalf("record %d sub %d: partition key %q inside, %q outside", i, j, keys[j], r.PartitionKey)
			}
			body := s
			if cfg.Newline {
				if !bytes.HasSuffix(body, []byte("\n")) || bytes.Count(body, []byte("\n")) != 1 {
					tb.Fatalf("record %d sub %d: want exactly one trailing newline: %q", i, j, trunc(body))
				}
				body = body[:len(body)-1]
			}
			if !json.Valid(body) || body[0] != '{' {
				tb.Fatalf("record %d sub %d: not a JSON object: %q", i, j, trunc(body))
			}
			if cfg.AddLogType && !bytes.HasSuffix(body, []byte(`"log_type":"result"}`)) && !bytes.HasSuffix(body, []byte(`"log_type":"status"}`)) &&
				!bytes.Contains(body, []byte(`"log_type":"`)) {
				tb.Fatalf("record %d sub %d: no log_type: %q", i, j, trunc(body))
			}
			out = append(out, shipped{ref: r.Refs[j], pk: keys[j], data: s})
		}
	}
	return out
}

// checkComplete asserts every entry is either fully shipped (all parts,
// each exactly once) or dropped, and nothing else appears.
func checkComplete(tb testing.TB, entries []Entry, got []shipped, dropped []Dropped) map[int64][]shipped {
	tb.Helper()
	byID := map[int64][]shipped{}
	for _, s := range got {
		byID[s.ref.ID] = append(byID[s.ref.ID], s)
	}
	droppedIDs := map[int64]bool{}
	for _, d := range dropped {
		droppedIDs[d.ID] = true
	}
	known := map[int64]bool{}
	for _, e := range entries {
		known[e.ID] = true
		parts := byID[e.ID]
		if len(parts) == 0 {
			if !droppedIDs[e.ID] {
				tb.Fatalf("entry %d neither shipped nor dropped", e.ID)
			}
			continue
		}
		n := parts[0].ref.Parts
		if len(parts) != n {
			tb.Fatalf("entry %d: %d parts shipped, Parts=%d", e.ID, len(parts), n)
		}
		seen := make([]bool, n)
		for _, s := range parts {
			if s.ref.Parts != n || s.ref.Part < 0 || s.ref.Part >= n || seen[s.ref.Part] {
				tb.Fatalf("entry %d: bad/duplicate part %+v", e.ID, s.ref)
			}
			seen[s.ref.Part] = true
		}
	}
	for id := range byID {
		if !known[id] {
			tb.Fatalf("unknown id %d shipped", id)
		}
	}
	return byID
}

func trunc(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func mustNew(tb testing.TB, cfg Config) *Packer {
	tb.Helper()
	p, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// eventLine builds an osquery event-format result line of about size bytes.
func eventLine(r *rand.Rand, name string, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"name":%q,"hostIdentifier":"host-%d","calendarTime":"Mon Jan  1 00:00:00 2024 UTC","unixTime":1704067200,"epoch":0,"counter":%d,"numerics":false,"decorations":{"host_uuid":"4C4C4544-0042-3010-8051-B4C04F4E3232"},"columns":{`,
		name, r.IntN(100), r.IntN(1000))
	i := 0
	for b.Len() < size-40 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"col%d":"%s"`, i, strings.Repeat(string(rune('a'+r.IntN(26))), min(r.IntN(40)+1, max(1, size-40-b.Len()))))
		i++
	}
	b.WriteString(`},"action":"added"}`)
	return []byte(b.String())
}

// kplSizeIndependent recomputes an aggregate's size from the protobuf wire
// rules with encoding/binary, independently of kpl.go.
func kplSizeIndependent(pk string, lineLens ...int) int {
	var buf [binary.MaxVarintLen64]byte
	vl := func(n int) int { return binary.PutUvarint(buf[:], uint64(n)) }
	n := 4 + 16 + 1 + vl(len(pk)) + len(pk)
	for _, l := range lineLens {
		body := 1 + 1 + 1 + vl(l) + l
		n += 1 + vl(body) + body
	}
	return n
}
