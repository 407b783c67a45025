package asl

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/osquery/osquery-go/plugin/table"

	"github.com/osquery-syslog/osquery-syslog/stats"
	"github.com/osquery-syslog/osquery-syslog/tables/asl/aslfile"
)

// benchStore writes about size bytes of store, split into daily files of
// about 10 MB, and returns the directory and the record count.
func benchStore(b *testing.B, size int) (string, int) {
	dir := b.TempDir()
	senders := make([]string, 200)
	for i := range senders {
		senders[i] = fmt.Sprintf("com.apple.daemon%03d", i)
	}
	n, written, day := 0, 0, 0
	for written < size {
		w := aslfile.NewWriter(aslfile.Modern, uint64(1700000000+day*86400))
		w.Grow(11 << 20)
		for k := 0; w.Len() < 10<<20; k++ {
			m := aslfile.Message{
				ID: uint64(n + 1), Time: uint64(1700000000 + day*86400 + k/2), Level: uint16(n % 8),
				PID: uint32(100 + n%3000), UID: 0, GID: 0, ReadUID: aslfile.Unset, ReadGID: aslfile.Unset,
				Host: aslfile.Str("macbook"), Sender: aslfile.Str(senders[n%len(senders)]), Facility: aslfile.Str("daemon"),
				Text: aslfile.Str(fmt.Sprintf("message %d: something happened in a daemon", n)),
			}
			if n%3 == 0 {
				m.Pairs = []aslfile.Pair{{Key: "com.apple.message.domain", Value: aslfile.Str("com.apple.sleep")}}
			}
			w.Add(&m)
			n++
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("2023.11.%02d.asl", day+1)), w.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		written += w.Len()
		day++
	}
	return dir, n
}

// BenchmarkPluginCall100MB runs osquery-go's plugin Call with the context
// JSON osqueryd sends, over a 100 MB store of 10 daily files: a full scan
// (every row built), a sender = constraint (resolved before the rest of the
// record), and a one-hour time range on a table that has read the store
// once (files skipped, the right one entered at a checkpoint).
func BenchmarkPluginCall100MB(b *testing.B) {
	dir, records := benchStore(b, 100<<20)
	cases := []struct {
		name string
		cons map[string][]table.Constraint
	}{
		{"full_scan", nil},
		{"sender_eq", map[string][]table.Constraint{"sender": {con(table.OperatorEquals, "com.apple.daemon007")}}},
		{"time_hour_warm", map[string][]table.Constraint{"time": {
			con(table.OperatorGreaterThanOrEquals, "1700432000"), con(table.OperatorLessThan, "1700435600")}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			reg := stats.NewRegistry()
			tb := New(Config{StorePath: dir, Registry: reg})
			plugin := table.NewPlugin(TableName, Columns(), tb.Generate)
			req := map[string]string{"action": "generate", "context": contextJSON(tc.cons)}
			if resp := plugin.Call(b.Context(), map[string]string{"action": "generate", "context": contextJSON(nil)}); resp.Status.Code != 0 {
				b.Fatal(resp.Status.Message)
			}
			warm := reg.Source(StatsSource).LinesRead.Load()
			b.ReportAllocs()
			start := time.Now()
			rows := 0
			for b.Loop() {
				resp := plugin.Call(b.Context(), req)
				if resp.Status.Code != 0 {
					b.Fatal(resp.Status.Message)
				}
				rows = len(resp.Response)
			}
			el := time.Since(start).Seconds()
			b.ReportMetric(float64(records)*float64(b.N)/el, "records/s")
			b.ReportMetric(float64(rows), "rows/op")
			b.ReportMetric(float64(reg.Source(StatsSource).LinesRead.Load()-warm)/float64(b.N), "read/op")
		})
	}
}

// contextJSON renders constraints as osqueryd's context JSON (every column
// listed, sorted by name).
func contextJSON(cons map[string][]table.Constraint) string {
	type item struct {
		Op   int    `json:"op"`
		Expr string `json:"expr"`
	}
	type entry struct {
		Name     string `json:"name"`
		List     []item `json:"list"`
		Affinity string `json:"affinity"`
	}
	var c struct {
		Constraints []entry `json:"constraints"`
	}
	cols := Columns()
	names := make([]string, 0, len(cols))
	types := map[string]string{}
	for _, col := range cols {
		names = append(names, col.Name)
		types[col.Name] = string(col.Type)
	}
	for _, n := range slices.Sorted(slices.Values(names)) {
		e := entry{Name: n, List: []item{}, Affinity: types[n]}
		for _, x := range cons[n] {
			e.List = append(e.List, item{Op: int(x.Operator), Expr: x.Expression})
		}
		c.Constraints = append(c.Constraints, e)
	}
	out, _ := json.Marshal(c)
	return string(out)
}
