package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Firehose is a fake Amazon Data Firehose endpoint (JSON 1.1, target prefix
// Firehose_20150804): PutRecordBatch, PutRecord and DescribeDeliveryStream,
// with Firehose's limits (500 records, 1,024,000 bytes per record, 4 MiB per
// request). It keeps every accepted record in order.
type Firehose struct {
	server
	streams map[string]*fstream // guarded by server.mu
}

type fstream struct {
	name    string
	records []Entry
	seq     int64
	created time.Time
}

// NewFirehose starts a fake with the given delivery streams; it stops when
// the test ends.
func NewFirehose(tb testing.TB, streams ...string) *Firehose {
	f := &Firehose{streams: map[string]*fstream{}}
	f.putOp = "PutRecordBatch"
	f.handler = f.handle
	for _, s := range streams {
		f.AddStream(s)
	}
	f.start(tb)
	return f
}

// AddStream creates (or empties) a delivery stream.
func (f *Firehose) AddStream(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.streams[name] = &fstream{name: name, created: time.Now()}
}

// DeleteStream removes a delivery stream.
func (f *Firehose) DeleteStream(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.streams, name)
}

// Records returns the records the delivery stream accepted, in order.
func (f *Firehose) Records(stream string) []Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.streams[stream]; s != nil {
		return append([]Entry(nil), s.records...)
	}
	return nil
}

// DeliveryStreamARN returns the ARN the fake gives a delivery stream.
func DeliveryStreamARN(stream string) string {
	return "arn:aws:firehose:us-east-1:" + Account + ":deliverystream/" + stream
}

func (f *Firehose) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	op := opOf(r)
	req := Request{Op: op, AccessKey: AccessKey(r), SessionToken: r.Header.Get("X-Amz-Security-Token"), UserAgent: r.UserAgent(), Status: 200}
	if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Firehose_20150804.") {
		req.Status, req.ErrorCode = 400, "UnknownOperationException"
		f.appendLog(req)
		writeJSONError(w, 400, "UnknownOperationException", "unknown target "+r.Header.Get("X-Amz-Target"))
		return
	}
	var in struct {
		DeliveryStreamName string
		Records            []struct{ Data []byte }
		Record             struct{ Data []byte }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		req.Status, req.ErrorCode = 400, "SerializationException"
		f.appendLog(req)
		writeJSONError(w, 400, "SerializationException", err.Error())
		return
	}
	req.Stream = in.DeliveryStreamName
	if op == "PutRecord" {
		in.Records = append(in.Records[:0], in.Record)
	}
	for _, e := range in.Records {
		req.Entries = append(req.Entries, Entry{Data: e.Data})
	}
	if flt := f.takeRequestFault(op); flt != nil {
		req.Status, req.ErrorCode = flt.Status, flt.Code
		f.appendLog(req)
		f.writeFault(w, r, flt)
		return
	}
	f.mu.Lock()
	s := f.streams[in.DeliveryStreamName]
	f.mu.Unlock()
	if s == nil {
		req.Status, req.ErrorCode = 400, "ResourceNotFoundException"
		f.appendLog(req)
		writeJSONError(w, 400, "ResourceNotFoundException", fmt.Sprintf("Firehose %s under account %s not found.", in.DeliveryStreamName, Account))
		return
	}
	switch op {
	case "DescribeDeliveryStream":
		f.appendLog(req)
		writeJSON(w, map[string]any{"DeliveryStreamDescription": map[string]any{
			"DeliveryStreamName": s.name, "DeliveryStreamARN": DeliveryStreamARN(s.name),
			"DeliveryStreamStatus": "ACTIVE", "DeliveryStreamType": "DirectPut", "VersionId": "1",
			"CreateTimestamp": float64(s.created.UnixMilli()) / 1000, "Destinations": []any{}, "HasMoreDestinations": false,
			"DeliveryStreamEncryptionConfiguration": map[string]string{"Status": "DISABLED"},
		}})
	case "PutRecordBatch", "PutRecord":
		f.put(w, op, s, req)
	default:
		req.Status, req.ErrorCode = 400, "UnknownOperationException"
		f.appendLog(req)
		writeJSONError(w, 400, "UnknownOperationException", "the fake does not implement "+op)
	}
}

func (f *Firehose) put(w http.ResponseWriter, op string, s *fstream, req Request) {
	if err := checkFirehose(req.Entries, op == "PutRecordBatch"); err != nil {
		b := asBadRequest(err)
		req.Status, req.ErrorCode = b.status, b.code
		f.appendLog(req)
		writeJSONError(w, b.status, b.code, b.message)
		return
	}
	datas := make([][]byte, len(req.Entries))
	for i, e := range req.Entries {
		datas[i] = e.Data
	}
	fails := f.recordFailures(datas, "ServiceUnavailableException", "Slow down.")
	type result struct {
		RecordId     string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	results := make([]result, len(req.Entries))
	failed := 0
	f.mu.Lock()
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
		e.SequenceNumber = fmt.Sprintf("rec-%s-%012d", s.name, s.seq)
		results[i] = result{RecordId: e.SequenceNumber}
		s.records = append(s.records, *e)
	}
	f.log = append(f.log, req)
	f.mu.Unlock()
	if op == "PutRecord" {
		if failed > 0 {
			writeJSONError(w, 400, results[0].ErrorCode, results[0].ErrorMessage)
			return
		}
		writeJSON(w, map[string]any{"RecordId": results[0].RecordId, "Encrypted": false})
		return
	}
	writeJSON(w, map[string]any{"FailedPutCount": failed, "Encrypted": false, "RequestResponses": results})
}

// checkFirehose enforces PutRecordBatch's limits.
func checkFirehose(entries []Entry, batch bool) error {
	if batch && (len(entries) < 1 || len(entries) > 500) {
		return &badRequest{400, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%d' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500 and greater than or equal to 1", len(entries))}
	}
	total := 0
	for i, e := range entries {
		if len(e.Data) > 1024000 {
			return &badRequest{400, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'records.%d.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000", i+1)}
		}
		total += len(e.Data)
	}
	if total > 4<<20 {
		return &badRequest{400, "InvalidArgumentException", "Records size exceeds 4 MiB limit"}
	}
	return nil
}
