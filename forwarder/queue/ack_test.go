package queue

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// Ack deletes exactly the ids given, whatever their order, gaps and
// repeats (it deletes by runs of consecutive ids).
func TestAckRuns(t *testing.T) {
	tests := []struct {
		name string
		ack  []int64
		keep []int64
	}{
		{"one run", []int64{3, 4, 5, 6}, []int64{1, 2, 7, 8, 9, 10}},
		{"unsorted with gaps and repeats", []int64{7, 2, 3, 3, 9, 10}, []int64{1, 4, 5, 6, 8}},
		{"singles", []int64{1, 10}, []int64{2, 3, 4, 5, 6, 7, 8, 9}},
		{"unknown ids", []int64{11, 12, 5}, []int64{1, 2, 3, 4, 6, 7, 8, 9, 10}},
		{"all", []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, q := openQueue(t, filepath.Join(t.TempDir(), "q.db"), 0)
			defer db.Close()
			for i := 1; i <= 10; i++ {
				if err := q.Append(0, []byte(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
			if err := q.Ack(tt.ack); err != nil {
				t.Fatal(err)
			}
			items, err := q.Read(t.Context(), 0, 100, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, it := range items {
				got = append(got, it.ID)
			}
			if !slices.Equal(got, tt.keep) {
				t.Errorf("left %v, want %v", got, tt.keep)
			}
			if q.Len() != int64(len(tt.keep)) {
				t.Errorf("Len %d, want %d", q.Len(), len(tt.keep))
			}
		})
	}
}
