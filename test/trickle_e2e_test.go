package test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"

	"github.com/osquery-syslog/osquery-syslog/test/awsfake"
	"github.com/osquery-syslog/osquery-syslog/test/kinesismock"
	"github.com/osquery-syslog/osquery-syslog/test/osquerytest"
)

// Billing steps: Kinesis Data Streams bills a PUT payload unit per started
// 25 KB of a record, Firehose rounds every record up to 5 KB.
const (
	kinesisUnit  = 25 << 10
	firehoseUnit = 5 << 10
)

func billed(n, unit int) int { return max(1, (n+unit-1)/unit) }

// trickleRow is result row i of a trickle: 300–800 bytes (550 on average),
// the size of a syslog pack's event-format rows.
func trickleRow(r *rand.Rand, i int) string {
	size := 300 + r.IntN(501)
	var b strings.Builder
	fmt.Fprintf(&b, `{"name":"pack_syslog_query_%d","hostIdentifier":"host-1","calendarTime":"Mon Nov 30 20:00:00 2026 UTC","unixTime":1796068800,"epoch":0,"counter":%d,"numerics":false,"columns":{`, i%20, i)
	for c := 0; b.Len() < size-40; c++ {
		if c > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"col%d":"%s"`, c, strings.Repeat(string(rune('a'+r.IntN(26))), min(r.IntN(40)+1, max(1, size-40-b.Len()))))
	}
	b.WriteString(`},"action":"added"}`)
	return b.String()
}

// trickle makes n logger calls to plugin, one row each, evenly spread over
// d, the way osqueryd hands over results one query run at a time. It
// returns the bytes of the rows as osquery's own logger would ship them
// (one record per row, with "log_type":"result" added).
func trickle(t *testing.T, e env, p *process, plugin string, n int, d time.Duration) []int {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	sizes := make([]int, n)
	ctx := t.Context()
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(d * time.Duration(i) / time.Duration(n))); wait > 0 {
			time.Sleep(wait)
		}
		row := trickleRow(r, i)
		sizes[i] = len(row) + len(`,"log_type":"result"`)
		code, msg, err := e.mgr.CallLogger(ctx, plugin, map[string]string{"string": row, "category": "event"})
		if err != nil || code != 0 {
			t.Fatalf("logger call %d: code %d %q %v\n%s", i, code, msg, err, p.logs())
		}
	}
	t.Logf("%d logger calls in %v", n, time.Since(start).Round(time.Millisecond))
	return sizes
}

// kinesisMockFlags are the extension's flags for the kinesis logger
// shipping to stream in mock with the given period (seconds).
func kinesisMockFlags(e env, mock *kinesismock.Mock, stream string, period int) []string {
	return []string{
		"--forwarder_queue_path", filepath.Join(e.dir, "queue.db"),
		"--aws_kinesis_stream", stream,
		"--aws_kinesis_endpoint", mock.Endpoint(),
		"--aws_region", kinesismock.Region,
		"--aws_access_key_id", "AKIDOSQUERYSYSLOG",
		"--aws_secret_access_key", "secret",
		"--aws_kinesis_period", strconv.Itoa(period),
	}
}

// pluginStats returns the osquery_syslog_stats row of a logger plugin.
func pluginStats(ctx context.Context, mgr *osquerytest.Manager, source string) (map[string]string, error) {
	rows, err := mgr.Select(ctx, "osquery_syslog_stats", osquerytest.Constraint{Column: "source", Op: osquerytest.OpEquals, Expr: source})
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%d stats rows for source %s", len(rows), source)
	}
	return rows[0], nil
}

// TestKinesisTrickleCost: 1,000 result rows handed to the kinesis logger
// one call at a time over 5 s, period 5 s, default aggregation, arrive in
// kinesis-mock in at most 2 aggregates per partition key, at least 40x
// fewer PUT payload units than osquery's one record per row; the stats
// table's billed_units agrees with what the stream holds.
func TestKinesisTrickleCost(t *testing.T) {
	const n, period = 1000, 5 * time.Second
	mock := kinesismock.StartT(t, "trickle:1")
	e := newEnv(t)
	p, _ := e.start(t, kinesisMockFlags(e, mock, "trickle", int(period/time.Second))...)
	defer p.terminate(30 * time.Second)

	sizes := trickle(t, e, p, "kinesis", n, 5*time.Second)
	ctx := t.Context()
	var recs []kinesismock.Record
	var subs []types.Record
	deadline := time.Now().Add(2 * time.Minute)
	for len(subs) < n && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		var err error
		if recs, err = mock.ReadAll(ctx, "trickle"); err != nil {
			t.Fatal(err)
		}
		in := make([]types.Record, len(recs))
		for i, r := range recs {
			in[i] = types.Record{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
		}
		if subs, err = deaggregator.DeaggregateRecords(in); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int]int{}
	for _, s := range subs {
		seen[lineCounter(t, s.Data)]++
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("row %d arrived %d times (%d rows in %d records)\n%s", i, seen[i], len(subs), len(recs), p.logs())
		}
	}
	perKey := map[string]int{}
	ours, perRow := 0, 0
	for _, r := range recs {
		perKey[r.PartitionKey]++
		ours += billed(len(r.Data), kinesisUnit)
	}
	for _, s := range sizes {
		perRow += billed(s, kinesisUnit)
	}
	host, _ := os.Hostname()
	if len(perKey) != 1 || perKey[host] == 0 {
		t.Errorf("partition keys %v, want the host identifier %q only", perKey, host)
	}
	for k, c := range perKey {
		if c > 2 {
			t.Errorf("partition key %q: %d aggregates for a 5 s trickle with a 5 s period, want at most 2", k, c)
		}
	}
	if ours*40 > perRow {
		t.Errorf("%d PUT payload units, one record per row %d: only %.1fx fewer, want >= 40x", ours, perRow, float64(perRow)/float64(ours))
	}
	eventually(t, 20*time.Second, "billed_units in osquery_syslog_stats", func() error {
		st, err := pluginStats(ctx, e.mgr, "kinesis")
		if err != nil {
			return err
		}
		if st["billed_units"] != strconv.Itoa(ours) || st["shipped"] != strconv.Itoa(n) {
			return fmt.Errorf("billed_units %s shipped %s, want %d and %d", st["billed_units"], st["shipped"], ours, n)
		}
		return nil
	})
	t.Logf("%d rows in %d records, %d PUT payload units vs %d for one record per row: %.1fx fewer", n, len(recs), ours, perRow, float64(perRow)/float64(ours))
}

// TestFirehoseTrickleCost: the same trickle through the firehose logger
// arrives in at most 2 joined records, billed at the fewest 5 KB steps the
// bytes allow (at most one partial step per record). Firehose's own floor
// is one 5 KB step per row, so joining saves at most 5 KB over the average
// row (about 9x for 550-byte rows); with gzip the saving reaches 40x.
func TestFirehoseTrickleCost(t *testing.T) {
	for _, c := range []struct {
		name        string
		compression string
		minFewer    float64
	}{
		{"joined", "", 8},
		{"joined_gzip", "gzip", 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n, stream = 1000, "trickle"
			fh := awsfake.NewFirehose(t, stream)
			e := newEnv(t)
			flags := firehoseFlags(e, fh, stream)
			flags = append(flags, "--aws_firehose_period", "5")
			if c.compression != "" {
				flags = append(flags, "--aws_firehose_compression", c.compression)
			}
			p, _ := e.start(t, flags...)
			defer p.terminate(30 * time.Second)

			sizes := trickle(t, e, p, "firehose", n, 5*time.Second)
			var recs []awsfake.Entry
			deadline := time.Now().Add(time.Minute)
			for time.Now().Before(deadline) {
				time.Sleep(500 * time.Millisecond)
				recs = fh.Records(stream)
				if _, lines := firehoseCounts(t, gunzipAll(t, recs)); lines >= n {
					break
				}
			}
			seen, lines := firehoseCounts(t, gunzipAll(t, recs))
			for i := range n {
				if seen[i] != 1 {
					t.Fatalf("row %d arrived %d times (%d lines in %d records)\n%s", i, seen[i], lines, len(recs), p.logs())
				}
			}
			if len(recs) > 2 {
				t.Errorf("%d joined records for a 5 s trickle with a 5 s period, want at most 2", len(recs))
			}
			ours, perRow, total := 0, 0, 0
			for _, r := range recs {
				ours += billed(len(r.Data), firehoseUnit)
				total += len(r.Data)
			}
			for _, s := range sizes {
				perRow += billed(s+1, firehoseUnit) // osquery adds "\n"
			}
			if floor := billed(total, firehoseUnit); ours > floor+len(recs) {
				t.Errorf("%d billed 5 KB steps for %d bytes in %d records: more than one partial step per record", ours, total, len(recs))
			}
			if fewer := float64(perRow) / float64(ours); fewer < c.minFewer {
				t.Errorf("%d billed steps, one record per row %d: %.1fx fewer, want >= %.0fx", ours, perRow, fewer, c.minFewer)
			}
			st, err := pluginStats(t.Context(), e.mgr, "firehose")
			if err != nil {
				t.Fatal(err)
			}
			if st["billed_units"] != strconv.Itoa(ours) {
				t.Errorf("billed_units %s, the stream holds %d", st["billed_units"], ours)
			}
			t.Logf("%d rows in %d records, %d billed 5 KB steps vs %d for one record per row: %.1fx fewer", n, len(recs), ours, perRow, float64(perRow)/float64(ours))
		})
	}
}

// gunzipAll returns recs with gzip-compressed data decompressed.
func gunzipAll(t *testing.T, recs []awsfake.Entry) []awsfake.Entry {
	t.Helper()
	out := make([]awsfake.Entry, len(recs))
	for i, r := range recs {
		out[i] = r
		if len(r.Data) < 2 || r.Data[0] != 0x1f || r.Data[1] != 0x8b {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatal(err)
		}
		if out[i].Data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
