package aslfile

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StoreFixture returns a store file of about size bytes with messages shaped
// like a real store's: a few hundred senders and hosts shared through string
// records, messages of 40 to 200 bytes, most of them unique, and 0 to 3
// extra pairs.
func storeFixture(size int) (*Writer, int) {
	w := NewWriter(Modern, 1700000000)
	w.Grow(size + size/8)
	senders := make([]string, 300)
	for i := range senders {
		senders[i] = fmt.Sprintf("com.apple.daemon%03d", i)
	}
	facilities := []string{"kern", "daemon", "auth", "com.apple.securityd", "user"}
	n := 0
	var m Message
	for w.Len() < size {
		text := fmt.Sprintf("message %d from the fixture writer: %s", n, "padding text of the kind daemons log "[:n%37])
		if n%10 == 0 {
			text = "a frequently repeated message, shared by many records"
		}
		m = Message{
			ID: uint64(n + 1), Time: uint64(1700000000 + n/10), Nano: uint32(n * 7919 % 1000000000),
			Level: uint16(n % 8), PID: uint32(100 + n%5000), UID: uint32(n % 3 * 250), GID: 20,
			ReadUID: Unset, ReadGID: Unset,
			Host: Str("macbook"), Sender: Str(senders[n%len(senders)]), Facility: Str(facilities[n%len(facilities)]),
			Text: Str(text), Pairs: m.Pairs[:0],
		}
		for k := range n % 4 {
			m.Pairs = append(m.Pairs, Pair{Key: fmt.Sprintf("com.apple.key%d", k), Value: Str(fmt.Sprint(n % 97))})
		}
		w.Add(&m)
		n++
	}
	return w, n
}

// BenchmarkReadStore100MB walks and decodes every record of a 100 MB store
// file written by the fixture writer, read from disk through the Reader.
// (With b.Loop the function body runs once, so the fixture is built once.)
func BenchmarkReadStore100MB(b *testing.B) {
	w, records := storeFixture(100 << 20)
	path := filepath.Join(b.TempDir(), "2026.01.01.asl")
	size := int64(w.Len())
	if err := os.WriteFile(path, w.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	w = nil
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r, err := NewReader(f, size)
		if err != nil {
			b.Fatal(err)
		}
		var rec Record
		var m Message
		n := 0
		for r.Next(&rec) {
			if err := r.Decode(&rec, &m); err != nil {
				b.Fatal(err)
			}
			n++
		}
		f.Close()
		if r.Err() != nil || n != records {
			b.Fatalf("read %d records (err %v), want %d", n, r.Err(), records)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/time.Since(start).Seconds(), "records/s")
}
