package awsfake

import (
	"crypto/md5"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Account is the account id in the fakes' ARNs.
const Account = "000000000000"

// Kinesis is a fake Kinesis Data Streams endpoint (JSON 1.1, target prefix
// Kinesis_20131202) for the cases kinesis-mock cannot do: fault injection,
// a stream's MaxRecordSizeInKiB, exact per-attempt logs. It serves
// PutRecords, PutRecord and DescribeStreamSummary, and enforces the service
// limits (500 records, record and request size) the way Kinesis does.
type Kinesis struct {
	server
	streams map[string]*kstream // guarded by server.mu
}

type kstream struct {
	name         string
	shards       int
	maxRecordKiB int // 0: DescribeStreamSummary says nothing (= 1024)
	records      []Entry
	seq          int64
	created      time.Time
}

// NewKinesis starts a fake with the given streams (one shard each, default
// record size); it stops when the test ends.
func NewKinesis(tb testing.TB, streams ...string) *Kinesis {
	k := &Kinesis{streams: map[string]*kstream{}}
	k.putOp = "PutRecords"
	k.handler = k.handle
	for _, s := range streams {
		k.AddStream(s, 1, 0)
	}
	k.start(tb)
	return k
}

// AddStream creates (or replaces) a stream with shards shards whose records
// may be up to maxRecordKiB KiB (0 = unset, the 1 MiB default).
func (k *Kinesis) AddStream(name string, shards, maxRecordKiB int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.streams[name] = &kstream{name: name, shards: max(shards, 1), maxRecordKiB: maxRecordKiB, created: time.Now()}
}

// DeleteStream removes a stream: later requests get ResourceNotFoundException.
func (k *Kinesis) DeleteStream(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.streams, name)
}

// Records returns the records the stream accepted, in order of acceptance.
func (k *Kinesis) Records(stream string) []Entry {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.streams[stream]; s != nil {
		return append([]Entry(nil), s.records...)
	}
	return nil
}

// StreamARN returns the ARN the fake gives stream.
func StreamARN(stream string) string {
	return "arn:aws:kinesis:us-east-1:" + Account + ":stream/" + stream
}

func (k *Kinesis) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	op := opOf(r)
	req := Request{Op: op, AccessKey: AccessKey(r), SessionToken: r.Header.Get("X-Amz-Security-Token"), UserAgent: r.UserAgent(), Status: 200}
	if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.") {
		req.Status, req.ErrorCode = 400, "UnknownOperationException"
		k.appendLog(req)
		writeJSONError(w, 400, "UnknownOperationException", "unknown target "+r.Header.Get("X-Amz-Target"))
		return
	}
	var in struct {
		StreamName string
		StreamARN  string
		Records    []struct {
			Data            []byte
			PartitionKey    string
			ExplicitHashKey string
		}
		// PutRecord
		Data            []byte
		PartitionKey    string
		ExplicitHashKey string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		req.Status, req.ErrorCode = 400, "SerializationException"
		k.appendLog(req)
		writeJSONError(w, 400, "SerializationException", err.Error())
		return
	}
	name := in.StreamName
	if name == "" {
		name = in.StreamARN[strings.LastIndexByte(in.StreamARN, '/')+1:]
	}
	req.Stream = name
	if op == "PutRecord" {
		in.Records = append(in.Records[:0], struct {
			Data            []byte
			PartitionKey    string
			ExplicitHashKey string
		}{in.Data, in.PartitionKey, in.ExplicitHashKey})
	}
	for _, e := range in.Records {
		req.Entries = append(req.Entries, Entry{Data: e.Data, PartitionKey: e.PartitionKey, ExplicitHashKey: e.ExplicitHashKey})
	}

	if f := k.takeRequestFault(op); f != nil {
		req.Status, req.ErrorCode = f.Status, f.Code
		k.appendLog(req)
		k.writeFault(w, r, f)
		return
	}

	k.mu.Lock()
	s := k.streams[name]
	k.mu.Unlock()
	if s == nil {
		req.Status, req.ErrorCode = 400, "ResourceNotFoundException"
		k.appendLog(req)
		writeJSONError(w, 400, "ResourceNotFoundException", fmt.Sprintf("Stream %s under account %s not found.", name, Account))
		return
	}

	switch op {
	case "DescribeStreamSummary":
		k.appendLog(req)
		k.mu.Lock()
		sum := map[string]any{
			"StreamName": s.name, "StreamARN": StreamARN(s.name), "StreamStatus": "ACTIVE",
			"StreamModeDetails": map[string]string{"StreamMode": "PROVISIONED"}, "RetentionPeriodHours": 24,
			"StreamCreationTimestamp": float64(s.created.UnixMilli()) / 1000, "EnhancedMonitoring": []any{},
			"EncryptionType": "NONE", "OpenShardCount": s.shards, "ConsumerCount": 0,
		}
		if s.maxRecordKiB > 0 {
			sum["MaxRecordSizeInKiB"] = s.maxRecordKiB
		}
		k.mu.Unlock()
		writeJSON(w, map[string]any{"StreamDescriptionSummary": sum})
	case "PutRecords", "PutRecord":
		k.put(w, r, op, s, req)
	default:
		req.Status, req.ErrorCode = 400, "UnknownOperationException"
		k.appendLog(req)
		writeJSONError(w, 400, "UnknownOperationException", "the fake does not implement "+op)
	}
}

func (k *Kinesis) put(w http.ResponseWriter, r *http.Request, op string, s *kstream, req Request) {
	k.mu.Lock()
	maxRec := 1 << 20
	if s.maxRecordKiB > 0 {
		maxRec = s.maxRecordKiB << 10
	}
	k.mu.Unlock()
	if err := checkKinesis(req.Entries, maxRec, op == "PutRecords"); err != nil {
		b := asBadRequest(err)
		req.Status, req.ErrorCode = b.status, b.code
		k.appendLog(req)
		writeJSONError(w, b.status, b.code, b.message)
		return
	}
	datas := make([][]byte, len(req.Entries))
	for i, e := range req.Entries {
		datas[i] = e.Data
	}
	fails := k.recordFailures(datas, "ProvisionedThroughputExceededException",
		"Rate exceeded for shard shardId-000000000000 in stream "+s.name+" under account "+Account+".")

	type result struct {
		SequenceNumber string `json:",omitempty"`
		ShardId        string `json:",omitempty"`
		ErrorCode      string `json:",omitempty"`
		ErrorMessage   string `json:",omitempty"`
	}
	results := make([]result, len(req.Entries))
	failed := 0
	k.mu.Lock()
	for i := range req.Entries {
		e := &req.Entries[i]
		if fails != nil && fails[i] != "" {
			code, msg, _ := strings.Cut(fails[i], "\x00")
			e.ErrorCode = code
			results[i] = result{ErrorCode: code, ErrorMessage: msg}
			failed++
			continue
		}
		s.seq++
		e.SequenceNumber = fmt.Sprintf("4963%036d", s.seq)
		e.ShardID = fmt.Sprintf("shardId-%012d", shardOf(e.PartitionKey, e.ExplicitHashKey, s.shards))
		results[i] = result{SequenceNumber: e.SequenceNumber, ShardId: e.ShardID}
		s.records = append(s.records, *e)
	}
	k.log = append(k.log, req)
	k.mu.Unlock()

	if op == "PutRecord" {
		if failed > 0 {
			writeJSONError(w, 400, results[0].ErrorCode, results[0].ErrorMessage)
			return
		}
		writeJSON(w, map[string]any{"SequenceNumber": results[0].SequenceNumber, "ShardId": results[0].ShardId, "EncryptionType": "NONE"})
		return
	}
	writeJSON(w, map[string]any{"FailedRecordCount": failed, "Records": results, "EncryptionType": "NONE"})
}

// checkKinesis enforces PutRecords' limits: 1–500 records, a partition key
// of 1–256 characters, data+key within the record limit, the request within
// 5 MiB (or one maximal record when the stream allows larger ones).
func checkKinesis(entries []Entry, maxRecord int, batch bool) error {
	if batch && (len(entries) < 1 || len(entries) > 500) {
		return &badRequest{400, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%d' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500 and greater than or equal to 1", len(entries))}
	}
	total := 0
	for i, e := range entries {
		if n := utf8.RuneCountInString(e.PartitionKey); n < 1 || n > 256 {
			return &badRequest{400, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'records.%d.member.partitionKey' failed to satisfy constraint: Member must have length between 1 and 256", i+1)}
		}
		size := len(e.Data) + len(e.PartitionKey)
		if size > maxRecord {
			return &badRequest{400, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'records.%d.member.data' failed to satisfy constraint: Member must have length less than or equal to %d", i+1, maxRecord)}
		}
		total += size
	}
	if total > max(5<<20, maxRecord) {
		return &badRequest{400, "InvalidArgumentException", "Records size exceeds 5 MB limit"}
	}
	return nil
}

// shardOf maps a record to a shard the way Kinesis does: the MD5 of the
// partition key (or the explicit hash key) as a 128-bit number, over shards
// of equal hash ranges.
func shardOf(pk, ehk string, shards int) int {
	h := new(big.Int)
	if ehk != "" {
		if _, ok := h.SetString(ehk, 10); !ok {
			h.SetInt64(0)
		}
	} else {
		sum := md5.Sum([]byte(pk))
		h.SetBytes(sum[:])
	}
	h.Mul(h, big.NewInt(int64(shards)))
	h.Rsh(h, 128)
	return int(h.Int64())
}

// ShardOf exposes the fake's shard mapping for tests.
func ShardOf(pk string, shards int) int { return shardOf(pk, "", shards) }
