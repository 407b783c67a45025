package kinesismock

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestPutAndReadBack(t *testing.T) {
	start := time.Now()
	m := StartT(t, "events:2", "other")
	t.Logf("kinesis-mock ready in %v at %s", time.Since(start).Round(time.Millisecond), m.Endpoint())

	var entries []types.PutRecordsRequestEntry
	want := map[string]string{}
	for i := range 20 {
		pk, data := fmt.Sprintf("host-%d", i%5), fmt.Sprintf(`{"n":%d}`, i)
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(pk), Data: []byte(data)})
		want[data] = pk
	}
	out, err := m.Client().PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("events"), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("%d records failed", *out.FailedRecordCount)
	}
	got, err := m.ReadAll(t.Context(), "events")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	shards := map[string]bool{}
	last := map[string]int{} // per partition key, order must be kept
	for _, r := range got {
		pk, ok := want[string(r.Data)]
		if !ok || pk != r.PartitionKey {
			t.Errorf("unexpected record %q with key %q", r.Data, r.PartitionKey)
		}
		var n int
		fmt.Sscanf(string(r.Data), `{"n":%d}`, &n)
		if prev, ok := last[pk]; ok && n < prev {
			t.Errorf("key %s: record %d after %d", pk, n, prev)
		}
		last[pk] = n
		shards[r.ShardID] = true
	}
	if len(shards) != 2 {
		t.Logf("records landed on %d shard(s)", len(shards))
	}
	t.Logf("read back at %v", time.Since(start))
	if other, err := m.ReadAll(t.Context(), "other"); err != nil || len(other) != 0 {
		t.Fatalf("other stream: %d records, %v", len(other), err)
	}
}
