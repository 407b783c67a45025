package test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/awslabs/kinesis-aggregation/go/v2/deaggregator"

	"github.com/osquery-syslog/osquery-syslog/forwarder/pack"
	"github.com/osquery-syslog/osquery-syslog/forwarder/sink"
	"github.com/osquery-syslog/osquery-syslog/test/kinesismock"
)

// TestKinesisWireRoundTrip: PutRecords sent as CBOR and as JSON are
// accepted by kinesis-mock, and what it stores de-aggregates (awslabs'
// deaggregator) to exactly the lines sent, byte for byte, and so do raw
// records of arbitrary bytes.
func TestKinesisWireRoundTrip(t *testing.T) {
	mock := kinesismock.StartT(t, "wire_cbor:2", "wire_json:1")
	for _, wire := range []string{sink.WireCBOR, sink.WireJSON} {
		t.Run(wire, func(t *testing.T) {
			stream := "wire_" + wire
			cfg := mock.Config()
			rec := &contentTypes{}
			cfg.HTTPClient = rec
			k, err := sink.NewKinesis(cfg, stream, sink.WithKinesisWire(wire))
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(5, 6))
			pc := pack.DefaultConfig(pack.Kinesis)
			pc.Aggregate, pc.PartitionKey, pc.AddLogType = true, pack.Random, false
			p, err := pack.New(pc)
			if err != nil {
				t.Fatal(err)
			}
			var entries []pack.Entry
			want := map[string]bool{}
			for i := range 3000 {
				l := fmt.Sprintf(`{"name":"q%d","counter":%d,"columns":{"s":"%s","u":"héllo \u2603 \\\" /"}}`, i%9, i, bytes.Repeat([]byte{'a' + byte(r.IntN(26))}, r.IntN(900)))
				entries = append(entries, pack.Entry{ID: int64(i + 1), Line: []byte(l)})
				want[l] = true
			}
			recs, dropped := p.Pack(entries)
			if len(dropped) != 0 {
				t.Fatalf("dropped %v", dropped)
			}
			// Raw records of every byte value, as a compressed or binary
			// record would be.
			raw := map[string]string{}
			for i := range 50 {
				b := make([]byte, r.IntN(4000))
				for j := range b {
					b[j] = byte(r.IntN(256))
				}
				pk := fmt.Sprintf("raw-%d", i)
				raw[pk] = string(b)
				recs = append(recs, pack.Record{Data: b, PartitionKey: pk})
			}
			for _, batch := range pack.Batches(recs, 500, 5<<20, true) {
				in := make([]sink.Record, len(batch))
				for i, r := range batch {
					in[i] = sink.Record{Data: r.Data, PartitionKey: r.PartitionKey}
				}
				res, err := k.Put(t.Context(), in)
				if err != nil {
					t.Fatalf("%s PutRecords: %v\n%s", wire, err, mock.Output())
				}
				if !res.OK() {
					t.Fatalf("%s PutRecords: %d records failed: %v %s", wire, len(res.Failed), res.Codes, res.Message)
				}
			}
			stored, err := mock.ReadAll(t.Context(), stream)
			if err != nil {
				t.Fatal(err)
			}
			var aggregated []types.Record
			for _, s := range stored {
				if want, ok := raw[s.PartitionKey]; ok {
					if string(s.Data) != want {
						t.Errorf("raw record %s: %d bytes stored, %d sent, differ", s.PartitionKey, len(s.Data), len(want))
					}
					delete(raw, s.PartitionKey)
					continue
				}
				aggregated = append(aggregated, types.Record{Data: s.Data, PartitionKey: aws.String(s.PartitionKey)})
			}
			if len(raw) != 0 {
				t.Errorf("%d raw records missing", len(raw))
			}
			subs, err := deaggregator.DeaggregateRecords(aggregated)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range subs {
				if !want[string(s.Data)] {
					t.Fatalf("a sub-record differs from every line sent: %.200q", s.Data)
				}
				delete(want, string(s.Data))
			}
			if len(want) != 0 {
				t.Fatalf("%d lines missing after %s round trip (%d sub-records)", len(want), wire, len(subs))
			}
			wantCT := map[string]string{sink.WireCBOR: "application/x-amz-cbor-1.1", sink.WireJSON: "application/x-amz-json-1.1"}[wire]
			if rec.req != wantCT || rec.resp != wantCT {
				t.Errorf("PutRecords sent as %q, answered as %q; want %q", rec.req, rec.resp, wantCT)
			}
			// An error answer in the same format keeps its code.
			missing, err := sink.NewKinesis(cfg, "no_such_stream", sink.WithKinesisWire(wire))
			if err != nil {
				t.Fatal(err)
			}
			_, err = missing.Put(t.Context(), []sink.Record{{Data: []byte("x"), PartitionKey: "k"}})
			if c := sink.Classify(err); c.Code != "ResourceNotFoundException" || c.Kind != sink.Terminal {
				t.Errorf("PutRecords to a missing stream: %v, classified %v %s", err, c.Kind, c.Code)
			}
			t.Logf("%s: %d records (%d aggregates) stored and de-aggregated byte-exact; answer %s", wire, len(stored), len(aggregated), rec.resp)
		})
	}
}

// contentTypes is an HTTP client that notes the content types of the last
// PutRecords request and its answer.
type contentTypes struct {
	mu        sync.Mutex
	req, resp string
}

func (c *contentTypes) Do(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(r)
	if err == nil && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecords") {
		c.mu.Lock()
		c.req, c.resp = r.Header.Get("Content-Type"), resp.Header.Get("Content-Type")
		c.mu.Unlock()
	}
	return resp, err
}
