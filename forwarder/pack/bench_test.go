package pack

import (
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchEntries returns n typical event-format result lines of 300–800
// bytes from 20 queries.
func benchEntries(n int) ([]Entry, int) {
	r := rand.New(rand.NewPCG(99, 100))
	es := make([]Entry, n)
	total := 0
	for i := range es {
		es[i] = Entry{ID: int64(i), Line: eventLine(r, "pack_query_"+string(rune('a'+r.IntN(20))), 300+r.IntN(501))}
		total += len(es[i].Line)
	}
	return es, total
}

// benchPack measures Pack + Batches over batches of 500 lines (the size a
// sender drains per request).
func benchPack(b *testing.B, cfg Config) {
	p := mustNew(b, cfg)
	entries, total := benchEntries(500)
	maxBytes, countPK := KinesisMaxBatchBytes, true
	if cfg.Service == Firehose {
		maxBytes, countPK = FirehoseMaxBatchBytes, false
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	records := 0
	for b.Loop() {
		recs, _ := p.Pack(entries)
		records += len(recs)
		Batches(recs, MaxBatchRecords, maxBytes, countPK)
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	lines := float64(b.N) * float64(len(entries))
	b.ReportMetric(lines/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/lines, "allocs/record")
	b.ReportMetric(float64(records)/float64(b.N), "out-records/op")
	s := p.Stats()
	if s.ShippedBytes > 0 {
		b.ReportMetric(float64(s.FramedBytes)/float64(s.ShippedBytes), "compression-x")
	}
}

func BenchmarkPackKinesis(b *testing.B) {
	cfg := kinesisCfg()
	benchPack(b, cfg)
}

func BenchmarkPackKinesisAggregated(b *testing.B) {
	cfg := kinesisCfg()
	cfg.Aggregate = true
	benchPack(b, cfg)
}

// BenchmarkPackKinesisAggregatedByName: Field mode, 20 keys per batch.
func BenchmarkPackKinesisAggregatedByName(b *testing.B) {
	cfg := kinesisCfg()
	cfg.Aggregate, cfg.PartitionKey, cfg.PartitionKeyField = true, Field, "name"
	benchPack(b, cfg)
}

func BenchmarkPackKinesisRandomKey(b *testing.B) {
	cfg := kinesisCfg()
	cfg.PartitionKey = Random
	benchPack(b, cfg)
}

func BenchmarkPackFirehoseJoined(b *testing.B) {
	benchPack(b, DefaultConfig(Firehose))
}

func BenchmarkPackGzip(b *testing.B) {
	cfg := kinesisCfg()
	cfg.Aggregate, cfg.Compression = true, "gzip"
	benchPack(b, cfg)
}

func BenchmarkPackFirehoseJoinedGzip(b *testing.B) {
	cfg := DefaultConfig(Firehose)
	cfg.Compression = "gzip"
	benchPack(b, cfg)
}

// BenchmarkSplit3MiB: splitting one 3 MiB snapshot.
func BenchmarkSplit3MiB(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	line := snapshotLine(rows(r, 6000, 100, 1000))
	p := mustNew(b, kinesisCfg())
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		p.Pack([]Entry{{ID: 1, Kind: Snapshot, Line: line}})
	}
}

// BenchmarkValidate compares the scanner Pack uses with encoding/json.Valid
// on a typical 550-byte event-format line.
func BenchmarkValidate(b *testing.B) {
	line := eventLine(rand.New(rand.NewPCG(1, 2)), "pack_query", 550)
	b.Run("scanTop", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if _, ok := scanTop(line, "name"); !ok {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if !json.Valid(line) {
				b.Fatal("invalid")
			}
		}
	})
}
