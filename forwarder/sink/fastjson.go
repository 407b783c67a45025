package sink

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// putBodies wraps the SDK's AWS JSON 1.1 protocol and writes the bodies of
// PutRecords and PutRecordBatch itself, byte for byte as the SDK would
// (TestPutBodiesMatchSDK), into one buffer of the exact size. The SDK's
// generic serializer grows its buffer by doubling (clearing and copying
// several times the request size) and then copies the result once more;
// for requests of megabytes of base64 that was about a third of the
// shipper's CPU after SQLite. Headers, signing (the payload is still
// hashed), retries and everything else stay the SDK's: the request is
// first serialized by the SDK without its records, then only the body is
// replaced. Inputs using members the fast path does not write, or strings
// that would need JSON escaping, go to the SDK's serializer unchanged.
type putBodies struct {
	smithyhttp.ClientProtocol
}

func (p putBodies) SerializeRequest(ctx context.Context, schema *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	var body []byte
	var bare smithy.Serializable
	switch v := in.(type) {
	case *kinesis.PutRecordsInput:
		if body = putRecordsBody(v); body != nil {
			bare = &kinesis.PutRecordsInput{StreamARN: v.StreamARN, StreamName: v.StreamName}
		}
	case *firehose.PutRecordBatchInput:
		if body = putRecordBatchBody(v); body != nil {
			bare = &firehose.PutRecordBatchInput{DeliveryStreamName: v.DeliveryStreamName}
		}
	}
	if body == nil {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req)
	}
	if err := p.ClientProtocol.SerializeRequest(ctx, schema, bare, req); err != nil {
		return err
	}
	sreq, err := req.SetStream(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("setting the request body: %w", err)
	}
	*req = *sreq
	return nil
}

// plainJSON reports whether s is written into a JSON string as it is:
// printable ASCII other than '"' and '\\' (and, to stay clear of any HTML
// escaping, '<', '>' and '&').
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

func optPlain(s *string) bool { return s == nil || plainJSON(*s) }

func optLen(key string, s *string) int {
	if s == nil {
		return 0
	}
	return len(`,"":""`) + len(key) + len(*s)
}

func appendOpt(dst []byte, key string, s *string) []byte {
	if s == nil {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, key...)
	dst = append(dst, `":"`...)
	dst = append(dst, *s...)
	return append(dst, '"')
}

// putRecordsBody returns the JSON body of in, or nil when in uses members
// or strings the fast path leaves to the SDK.
func putRecordsBody(in *kinesis.PutRecordsInput) []byte {
	if in.Records == nil || in.DryRun != nil || in.StreamId != nil || !optPlain(in.StreamARN) || !optPlain(in.StreamName) {
		return nil
	}
	size := len(`{"Records":[]}`) + optLen("StreamARN", in.StreamARN) + optLen("StreamName", in.StreamName)
	for i := range in.Records {
		r := &in.Records[i]
		if r.Data == nil || r.ExplicitHashKey != nil || r.PartitionKey == nil || !plainJSON(*r.PartitionKey) {
			return nil
		}
		size += len(`,{"Data":"","PartitionKey":""}`) + base64.StdEncoding.EncodedLen(len(r.Data)) + len(*r.PartitionKey)
	}
	b := make([]byte, 0, size)
	b = append(b, `{"Records":[`...)
	for i := range in.Records {
		r := &in.Records[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Data":"`...)
		b = appendBase64(b, r.Data)
		b = append(b, `","PartitionKey":"`...)
		b = append(b, *r.PartitionKey...)
		b = append(b, `"}`...)
	}
	b = append(b, ']')
	b = appendOpt(b, "StreamARN", in.StreamARN)
	b = appendOpt(b, "StreamName", in.StreamName)
	return append(b, '}')
}

// putRecordBatchBody returns the JSON body of in, or nil when in uses
// members or strings the fast path leaves to the SDK.
func putRecordBatchBody(in *firehose.PutRecordBatchInput) []byte {
	if in.Records == nil || in.DeliveryStreamName == nil || !plainJSON(*in.DeliveryStreamName) {
		return nil
	}
	size := len(`{"DeliveryStreamName":"","Records":[]}`) + len(*in.DeliveryStreamName)
	for i := range in.Records {
		if in.Records[i].Data == nil {
			return nil
		}
		size += len(`,{"Data":""}`) + base64.StdEncoding.EncodedLen(len(in.Records[i].Data))
	}
	b := make([]byte, 0, size)
	b = append(b, `{"DeliveryStreamName":"`...)
	b = append(b, *in.DeliveryStreamName...)
	b = append(b, `","Records":[`...)
	for i := range in.Records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Data":"`...)
		b = appendBase64(b, in.Records[i].Data)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}
