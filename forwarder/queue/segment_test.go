package queue

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// openSeg opens the queue "kinesis" with segments of rows lines.
func openSeg(t testing.TB, path string, rows, max int64) (*DB, *Queue) {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.segRows = rows
	q, err := db.Queue("kinesis", max)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db, q
}

func appendN(t testing.TB, q *Queue, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if err := q.Append(uint8(i%3), fmt.Appendf(nil, "line-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll returns every queued item as "id:kind:line".
func readAll(t testing.TB, q *Queue) []string {
	t.Helper()
	items, err := q.Read(t.Context(), 0, 1<<20, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%d:%d:%s", it.ID, it.Kind, it.Line))
	}
	return out
}

func want(ids ...int) []string {
	var out []string
	for _, i := range ids {
		out = append(out, fmt.Sprintf("%d:%d:line-%d", i, i%3, i))
	}
	return out
}

func ints(from, to int, skip ...int) []int {
	var out []int
	for i := from; i <= to; i++ {
		if !slices.Contains(skip, i) {
			out = append(out, i)
		}
	}
	return out
}

// segTables lists the queue's segment tables and the number of persisted
// acknowledged ranges.
func segTables(t testing.TB, db *DB) ([]string, int) {
	t.Helper()
	rows, err := db.w.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'q_kinesis_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		if n != "q_kinesis_acked" {
			names = append(names, n)
		}
	}
	rows.Close()
	var n int
	if err := db.w.QueryRow(`SELECT count(*) FROM q_kinesis_acked`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(names, func(a, b string) int { // by first id
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return names, n
}

func TestOutOfOrderAcks(t *testing.T) {
	db, q := openSeg(t, filepath.Join(t.TempDir(), "q.db"), 4, 0)
	defer db.Close()
	appendN(t, q, 1, 20)
	// Senders finish in any order; runs overlap and repeat.
	for _, ack := range [][]int64{{13, 14, 15}, {2, 3}, {19, 20, 21}, {14, 15, 16}, {1}, {9, 11, 10}} {
		if err := q.Ack(ack); err != nil {
			t.Fatal(err)
		}
	}
	if got, w := readAll(t, q), want(4, 5, 6, 7, 8, 12, 17, 18); !slices.Equal(got, w) {
		t.Errorf("left %v, want %v", got, w)
	}
	if q.Len() != 8 {
		t.Errorf("Len %d, want 8", q.Len())
	}
	// Reads after a cursor skip acknowledged ids too.
	items, err := q.Read(t.Context(), 8, 2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].ID != 12 || items[1].ID != 17 {
		t.Errorf("read after 8: %+v", items)
	}
}

func TestSegmentDrop(t *testing.T) {
	db, q := openSeg(t, filepath.Join(t.TempDir(), "q.db"), 4, 0)
	defer db.Close()
	appendN(t, q, 1, 10) // segments 1-4, 5-8, 9-10
	if names, _ := segTables(t, db); !slices.Equal(names, []string{"q_kinesis_1", "q_kinesis_5", "q_kinesis_9"}) {
		t.Fatalf("segments %v", names)
	}
	if err := q.Ack([]int64{5, 6, 7}); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack([]int64{9, 10}); err != nil {
		t.Fatal(err)
	}
	names, ranges := segTables(t, db)
	if !slices.Equal(names, []string{"q_kinesis_1", "q_kinesis_5", "q_kinesis_9"}) || ranges != 2 {
		t.Fatalf("nothing whole acknowledged but the last segment: segments %v, %d ranges", names, ranges)
	}
	if err := q.Ack([]int64{8}); err != nil {
		t.Fatal(err)
	}
	names, ranges = segTables(t, db)
	if !slices.Equal(names, []string{"q_kinesis_1", "q_kinesis_9"}) || ranges != 1 {
		t.Errorf("after acking 5-8: segments %v, %d ranges (want the one of 9-10)", names, ranges)
	}
	if got := readAll(t, q); !slices.Equal(got, want(1, 2, 3, 4)) {
		t.Errorf("left %v", got)
	}
	// The last segment is kept even when acknowledged whole: it carries
	// the highest id.
	if err := q.Ack([]int64{4, 3, 2, 1}); err != nil {
		t.Fatal(err)
	}
	names, ranges = segTables(t, db)
	if !slices.Equal(names, []string{"q_kinesis_9"}) || ranges != 1 || q.Len() != 0 {
		t.Errorf("drained: segments %v, %d ranges, len %d", names, ranges, q.Len())
	}
	if ts, err := q.Oldest(t.Context()); err != nil || !ts.IsZero() {
		t.Errorf("Oldest of a drained queue = %v, %v", ts, err)
	}
	appendN(t, q, 11, 14) // 13 starts a new segment
	names, _ = segTables(t, db)
	if !slices.Equal(names, []string{"q_kinesis_9", "q_kinesis_13"}) {
		t.Errorf("segments %v", names)
	}
	if err := q.Ack([]int64{12, 11}); err != nil {
		t.Fatal(err)
	}
	names, ranges = segTables(t, db)
	if !slices.Equal(names, []string{"q_kinesis_13"}) || ranges != 0 {
		t.Errorf("segment 9 not dropped once no longer last: %v, %d ranges", names, ranges)
	}
	if got := readAll(t, q); !slices.Equal(got, want(13, 14)) {
		t.Errorf("left %v", got)
	}
}

func TestRestartWithPartiallyAckedSegments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db, q := openSeg(t, path, 5, 0)
	appendN(t, q, 1, 17)
	acked := []int64{2, 3, 6, 7, 8, 9, 10, 1, 4, 12, 16}
	for i := 0; i < len(acked); i += 2 {
		if err := q.Ack(acked[i:min(i+2, len(acked))]); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	db.Close()

	db, q = openSeg(t, path, 5, 0)
	w := want(5, 11, 13, 14, 15, 17)
	if got := readAll(t, q); !slices.Equal(got, w) {
		t.Errorf("after reopen %v, want %v", got, w)
	}
	if q.Len() != int64(len(w)) {
		t.Errorf("Len %d, want %d", q.Len(), len(w))
	}
	if err := q.Ack([]int64{5, 11, 13, 14, 15, 17}); err != nil {
		t.Fatal(err)
	}
	q.Close()
	db.Close()

	// Drained: ids still go on after the last one used.
	db, q = openSeg(t, path, 5, 0)
	defer db.Close()
	if q.Len() != 0 || len(readAll(t, q)) != 0 {
		t.Fatalf("drained queue reopened with %d lines", q.Len())
	}
	appendN(t, q, 18, 18)
	if got := readAll(t, q); !slices.Equal(got, want(18)) {
		t.Errorf("new line %v, want id 18", got)
	}
}

func TestDropOldestAcrossSegments(t *testing.T) {
	db, q := openSeg(t, filepath.Join(t.TempDir(), "q.db"), 3, 5)
	defer db.Close()
	appendN(t, q, 1, 4)
	items, err := q.Read(t.Context(), 0, 2, 1<<20) // 1 and 2 in flight
	if err != nil || len(items) != 2 {
		t.Fatal(items, err)
	}
	if err := q.Ack([]int64{3}); err != nil { // shipped out of order
		t.Fatal(err)
	}
	appendN(t, q, 5, 12)
	// 11 lines left unacknowledged, bound 5: 1, 2, 4, 5, 6, 7 dropped.
	if got := readAll(t, q); !slices.Equal(got, want(8, 9, 10, 11, 12)) {
		t.Errorf("left %v", got)
	}
	if q.Len() != 5 || q.Dropped() != 6 {
		t.Errorf("Len %d dropped %d, want 5 and 6", q.Len(), q.Dropped())
	}
	// The in-flight lines were dropped meanwhile: their late ack counts nothing.
	if err := q.Ack([]int64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 5 {
		t.Errorf("Len %d after a late ack", q.Len())
	}
	names, _ := segTables(t, db)
	if !slices.Equal(names, []string{"q_kinesis_7", "q_kinesis_10"}) {
		t.Errorf("segments %v, want 7 and 10", names)
	}
}

// createOldLayout writes a queue file as the single-table layout did:
// AUTOINCREMENT ids, acknowledged rows deleted.
func createOldLayout(t *testing.T, path string, n int, deleted ...int) {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.w.Exec(`CREATE TABLE queue_kinesis (id INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, line BLOB NOT NULL, created INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := db.w.Exec(`INSERT INTO queue_kinesis (kind, line, created) VALUES (?, ?, ?)`, i%3, fmt.Sprintf("line-%d", i), 1700000000+i); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range deleted {
		if _, err := db.w.Exec(`DELETE FROM queue_kinesis WHERE id = ?`, d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMigrateOldLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	createOldLayout(t, path, 12, 1, 3, 4, 8, 11, 12)
	db, q := openSeg(t, path, 4, 0)
	w := want(2, 5, 6, 7, 9, 10)
	if got := readAll(t, q); !slices.Equal(got, w) {
		t.Fatalf("migrated %v, want %v", got, w)
	}
	if q.Len() != 6 {
		t.Errorf("Len %d, want 6", q.Len())
	}
	if ts, err := q.Oldest(t.Context()); err != nil || ts.Unix() != 1700000002 {
		t.Errorf("Oldest %v %v, want the time of line 2", ts, err)
	}
	appendN(t, q, 13, 14) // after the highest id the old table used
	if got := readAll(t, q); !slices.Equal(got, append(w, want(13, 14)...)) {
		t.Errorf("after appends %v", got)
	}
	if err := q.Ack([]int64{2, 5, 6}); err != nil {
		t.Fatal(err)
	}
	q.Close()
	db.Close()

	db, q = openSeg(t, path, 4, 0)
	defer db.Close()
	if got := readAll(t, q); !slices.Equal(got, want(7, 9, 10, 13, 14)) {
		t.Errorf("after reopen %v", got)
	}
	if err := q.Ack([]int64{7, 9, 10}); err != nil {
		t.Fatal(err)
	}
	names, _ := segTables(t, db)
	if !slices.Equal(names, []string{"q_kinesis_13"}) {
		t.Errorf("the migrated segment is not dropped once acknowledged: %v", names)
	}
}

func TestMigrateEmptyOldLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	createOldLayout(t, path, 5, 1, 2, 3, 4, 5)
	db, q := openSeg(t, path, 4, 0)
	defer db.Close()
	if q.Len() != 0 {
		t.Fatalf("Len %d", q.Len())
	}
	appendN(t, q, 6, 6)
	if got := readAll(t, q); !slices.Equal(got, want(6)) {
		t.Errorf("got %v, want id 6", got)
	}
}

// TestModel runs random appends, reads, out-of-order acks, reopens and
// buffered_log_max drops against an in-memory model of the queue.
func TestModel(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			path := filepath.Join(t.TempDir(), "q.db")
			segRows := int64(1 + rng.IntN(9))
			var max int64
			if seed%3 == 0 {
				max = int64(5 + rng.IntN(30))
			}
			db, q := openSeg(t, path, segRows, max)
			defer func() { db.Close() }()
			model := map[int64]string{} // unacknowledged id -> line
			var lastID, dropped, cursor int64
			var inflight []int64
			n := 0
			for step := range 600 {
				switch op := rng.IntN(20); {
				case op < 8: // append
					k := 1 + rng.IntN(4)
					lines := make([][]byte, k)
					for i := range lines {
						n++
						lines[i] = fmt.Appendf(nil, "l%d", n)
						lastID++
						model[lastID] = string(lines[i])
					}
					if err := q.AppendMany(0, lines); err != nil {
						t.Fatal(err)
					}
					if max > 0 && int64(len(model)) > max {
						ids := sortedIDs(model)
						for _, id := range ids[:int64(len(ids))-max] {
							delete(model, id)
							dropped++
						}
					}
				case op < 12: // read from the cursor
					items, err := q.Read(t.Context(), cursor, 1+rng.IntN(10), 1<<20)
					if err != nil {
						t.Fatal(err)
					}
					var wantIDs []int64
					for _, id := range sortedIDs(model) {
						if id > cursor && len(wantIDs) < len(items) {
							wantIDs = append(wantIDs, id)
						}
					}
					for i, it := range items {
						if i >= len(wantIDs) || it.ID != wantIDs[i] || string(it.Line) != model[it.ID] {
							t.Fatalf("step %d: read %d %q, model %v", step, it.ID, it.Line, wantIDs)
						}
						inflight = append(inflight, it.ID)
						cursor = it.ID
					}
				case op < 18: // ack a random part of what is in flight, plus noise
					rng.Shuffle(len(inflight), func(i, j int) { inflight[i], inflight[j] = inflight[j], inflight[i] })
					k := rng.IntN(len(inflight) + 1)
					ack := slices.Clone(inflight[:k])
					inflight = inflight[k:]
					if rng.IntN(4) == 0 {
						ack = append(ack, lastID+1+int64(rng.IntN(3)), int64(rng.IntN(int(lastID)+1)))
					}
					for _, id := range ack {
						delete(model, id)
					}
					if err := q.Ack(ack); err != nil {
						t.Fatal(err)
					}
				default: // restart: what was in flight is read again
					q.Close()
					db.Close()
					db, q = openSeg(t, path, segRows, max)
					cursor, inflight, dropped = 0, nil, 0
				}
				if q.Len() != int64(len(model)) || q.Dropped() != dropped {
					t.Fatalf("step %d: Len %d dropped %d, model %d and %d", step, q.Len(), q.Dropped(), len(model), dropped)
				}
			}
			var wantAll []string
			for _, id := range sortedIDs(model) {
				wantAll = append(wantAll, fmt.Sprintf("%d:0:%s", id, model[id]))
			}
			if got := readAll(t, q); !slices.Equal(got, wantAll) {
				t.Errorf("final queue %v, model %v", got, wantAll)
			}
			// Segments acknowledged whole are gone: every segment table but
			// the last holds an unacknowledged line.
			names, _ := segTables(t, db)
			for _, name := range names[:len(names)-1] {
				var ids []int64
				rows, err := db.w.Query(`SELECT id FROM ` + name)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id int64
					rows.Scan(&id)
					ids = append(ids, id)
				}
				rows.Close()
				if !slices.ContainsFunc(ids, func(id int64) bool { _, ok := model[id]; return ok }) {
					t.Errorf("segment %s (ids %v) is acknowledged whole but kept", name, ids)
				}
			}
		})
	}
}

func sortedIDs(m map[int64]string) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Acks of one line at a time add a row each; the ack table is rewritten
// compactly before it grows much past the merged ranges.
func TestAckTableStaysCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db, q := openSeg(t, path, 1<<20, 0)
	appendN(t, q, 1, 2000)
	for id := int64(1); id <= 1999; id += 2 { // every odd id: 1000 spans
		if err := q.Ack([]int64{id}); err != nil {
			t.Fatal(err)
		}
	}
	for id := int64(2); id <= 1000; id += 2 { // merges 1..1001 into one span
		if err := q.Ack([]int64{id}); err != nil {
			t.Fatal(err)
		}
	}
	_, rows := segTables(t, db)
	// 1 span for 1..1001 and 499 odd singles above: 500 spans.
	if rows > 2*500+compactRows {
		t.Errorf("%d rows in the ack table for 500 spans", rows)
	}
	q.Close()
	db.Close()
	db, q = openSeg(t, path, 1<<20, 0)
	defer db.Close()
	if got := readAll(t, q); len(got) != 500 || got[0] != want(1002)[0] || q.Len() != 500 {
		t.Errorf("after reopen %d lines (first %v), Len %d", len(got), got[:1], q.Len())
	}
	if _, rows := segTables(t, db); rows != 500 {
		t.Errorf("reopen left %d ack rows, want the 500 merged spans", rows)
	}
}
