package test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"

	"github.com/osquery-syslog/osquery-syslog/test/kinesismock"
)

// TestKinesisLoggerExactlyOnce: logger calls made the way osqueryd makes
// them arrive in a real Kinesis emulator exactly once, KPL-aggregated.
func TestKinesisLoggerExactlyOnce(t *testing.T) {
	mock := kinesismock.StartT(t, "osquery_results:2")
	e := newEnv(t)
	p, _ := e.start(t, kinesisMockFlags(e, mock, "osquery_results", 1)...)
	defer p.terminate(30 * time.Second)

	host, _ := os.Hostname()
	const n = 10000
	ctx := t.Context()
	for i := range n {
		line := fmt.Sprintf(`{"name":"pack_syslog_sudo","hostIdentifier":"host-%d","calendarTime":"Sun Nov 22 07:00:00 2026 UTC","unixTime":1795330800,"epoch":0,"counter":%d,"numerics":false,"columns":{"i":"%d"},"action":"added"}`, i%7, i, i)
		code, msg, err := e.mgr.CallLogger(ctx, "kinesis", map[string]string{"string": line, "category": "event"})
		if err != nil || code != 0 {
			t.Fatalf("logger call %d: code %d %q %v\n%s", i, code, msg, err, p.logs())
		}
	}

	var subs []types.Record
	var outer int
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		recs, err := mock.ReadAll(ctx, "osquery_results")
		if err != nil {
			t.Fatal(err)
		}
		in := make([]types.Record, len(recs))
		for i, r := range recs {
			in[i] = types.Record{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
		}
		subs, err = deaggregator.DeaggregateRecords(in)
		if err != nil {
			t.Fatal(err)
		}
		outer = len(recs)
		if len(subs) >= n {
			break
		}
		time.Sleep(time.Second)
	}
	seen := map[int]int{}
	for _, s := range subs {
		var v struct {
			Counter        int    `json:"counter"`
			HostIdentifier string `json:"hostIdentifier"`
			LogType        string `json:"log_type"`
		}
		if err := json.Unmarshal(s.Data, &v); err != nil {
			t.Fatalf("sub-record is not JSON: %q", s.Data)
		}
		if v.LogType != "result" || aws.ToString(s.PartitionKey) != host {
			t.Errorf("sub-record %s", s.Data)
		}
		seen[v.Counter]++
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("record %d arrived %d times (%d sub-records in %d stream records)\n%s", i, seen[i], len(subs), outer, p.logs())
		}
	}
	if outer >= n/10 {
		t.Errorf("%d stream records for %d lines: aggregation is not packing", outer, n)
	}
	t.Logf("%d logger calls arrived exactly once in %d aggregated Kinesis records", n, outer)
}
