package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/fxamacker/cbor/v2"
)

// Kinesis wire formats (aws_kinesis_wire).
const (
	// WireCBOR sends PutRecords as CBOR (application/x-amz-cbor-1.1), as
	// the AWS Java SDK and the KCL do: record data travels as raw bytes
	// instead of base64 in JSON, about a quarter fewer bytes on the wire
	// and no base64 work.
	WireCBOR = "cbor"
	// WireJSON sends PutRecords as the Go SDK does, AWS JSON 1.1 with
	// base64 data.
	WireJSON = "json"
)

const cborContentType = "application/x-amz-cbor-1.1"

// cborPutRecords wraps the SDK's AWS JSON 1.1 protocol of the Kinesis
// client and sends PutRecords as CBOR: the same operation (X-Amz-Target)
// and members, the body encoded with a CBOR library, and the answer
// decoded from CBOR. Everything else (other operations, headers, SigV4
// signing, which hashes whatever body is set here, retries) stays the
// SDK's. An error answer is turned back into the JSON the SDK's own error
// handling reads, so errors carry the same types and codes as with JSON.
type cborPutRecords struct {
	smithyhttp.ClientProtocol
}

// cborEntry and cborPut are PutRecords' request members.
type cborEntry struct {
	Data            []byte  `cbor:"Data"`
	ExplicitHashKey *string `cbor:"ExplicitHashKey,omitempty"`
	PartitionKey    *string `cbor:"PartitionKey"`
}

type cborPut struct {
	Records    []cborEntry `cbor:"Records"`
	StreamARN  *string     `cbor:"StreamARN,omitempty"`
	StreamName *string     `cbor:"StreamName,omitempty"`
}

// cborResult and cborAnswer are PutRecords' answer members.
type cborResult struct {
	SequenceNumber *string `cbor:"SequenceNumber"`
	ShardId        *string `cbor:"ShardId"`
	ErrorCode      *string `cbor:"ErrorCode"`
	ErrorMessage   *string `cbor:"ErrorMessage"`
}

type cborAnswer struct {
	FailedRecordCount *int32       `cbor:"FailedRecordCount"`
	Records           []cborResult `cbor:"Records"`
	EncryptionType    string       `cbor:"EncryptionType"`
}

// cborError is an error answer's members.
type cborError struct {
	Type    string `cbor:"__type" json:"__type,omitempty"`
	Message string `cbor:"message" json:"message,omitempty"`
}

// cborEnc encodes into the caller's buffer, sized for the request, rather
// than into a pooled one that is then copied.
var cborEnc = func() cbor.UserBufferEncMode {
	m, err := cbor.EncOptions{}.UserBufferEncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func (p cborPutRecords) SerializeRequest(ctx context.Context, schema *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	v, ok := in.(*kinesis.PutRecordsInput)
	if !ok || v.DryRun != nil || v.StreamId != nil {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req)
	}
	if err := p.ClientProtocol.SerializeRequest(ctx, schema, &kinesis.PutRecordsInput{StreamARN: v.StreamARN, StreamName: v.StreamName}, req); err != nil {
		return err
	}
	body := cborPut{Records: make([]cborEntry, len(v.Records)), StreamARN: v.StreamARN, StreamName: v.StreamName}
	size := 64
	for i := range v.Records {
		r := &v.Records[i]
		data := r.Data
		if data == nil {
			data = []byte{}
		}
		body.Records[i] = cborEntry{Data: data, ExplicitHashKey: r.ExplicitHashKey, PartitionKey: r.PartitionKey}
		size += len(data) + len(aws.ToString(r.PartitionKey)) + 32
	}
	var buf bytes.Buffer
	buf.Grow(size)
	if err := cborEnc.MarshalToBuffer(body, &buf); err != nil {
		return fmt.Errorf("encoding PutRecords as CBOR: %w", err)
	}
	req.Header.Set("Content-Type", cborContentType)
	sreq, err := req.SetStream(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return fmt.Errorf("setting the request body: %w", err)
	}
	*req = *sreq
	return nil
}

func (p cborPutRecords) DeserializeResponse(ctx context.Context, schema *smithy.OperationSchema, reg *smithy.TypeRegistry, resp *smithyhttp.Response, out smithy.Deserializable) error {
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-amz-cbor") {
		return p.ClientProtocol.DeserializeResponse(ctx, schema, reg, resp, out)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return &smithy.DeserializationError{Err: fmt.Errorf("reading the CBOR answer: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		// The error members as JSON, for the SDK's error handling.
		var e cborError
		if err := cbor.Unmarshal(body, &e); err != nil {
			return &smithy.DeserializationError{Err: fmt.Errorf("decoding a CBOR error answer: %w", err), Snapshot: body[:min(len(body), 1024)]}
		}
		js, err := json.Marshal(e)
		if err != nil {
			return &smithy.DeserializationError{Err: fmt.Errorf("decoding a CBOR error answer: %w", err)}
		}
		resp.Body = io.NopCloser(bytes.NewReader(js))
		resp.Header.Set("Content-Type", "application/x-amz-json-1.1")
		return p.ClientProtocol.DeserializeResponse(ctx, schema, reg, resp, out)
	}
	o, ok := out.(*kinesis.PutRecordsOutput)
	if !ok {
		return &smithy.DeserializationError{Err: fmt.Errorf("a CBOR answer to %T", out)}
	}
	var a cborAnswer
	if err := cbor.Unmarshal(body, &a); err != nil {
		return &smithy.DeserializationError{Err: fmt.Errorf("decoding the CBOR answer: %w", err), Snapshot: body[:min(len(body), 1024)]}
	}
	o.FailedRecordCount = a.FailedRecordCount
	o.EncryptionType = types.EncryptionType(a.EncryptionType)
	o.Records = make([]types.PutRecordsResultEntry, len(a.Records))
	for i, r := range a.Records {
		o.Records[i] = types.PutRecordsResultEntry{SequenceNumber: r.SequenceNumber, ShardId: r.ShardId, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage}
	}
	return nil
}
