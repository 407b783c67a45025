package sink

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Kinesis limits (Kinesis Data Streams API reference, PutRecords): 500
// records, 5 MiB per request and 1 MiB per record, both counting data plus
// partition key. A stream may allow larger records (MaxRecordSizeInKiB, up to
// 10 MiB); Describe reads it.
const (
	KinesisMaxRecords     = 500
	KinesisMaxBatchBytes  = 5 << 20
	KinesisMaxRecordBytes = 1 << 20
	// KinesisMaxPartitionKey is the partition key limit, in Unicode
	// characters.
	KinesisMaxPartitionKey = 256
)

// KinesisLimits returns the limits of a stream whose records may be up to
// maxRecordKiB KiB (0 = the default 1 MiB). A request may always carry at
// least one maximal record.
func KinesisLimits(maxRecordKiB int) Limits {
	rec := KinesisMaxRecordBytes
	if maxRecordKiB > 0 {
		rec = maxRecordKiB << 10
	}
	return Limits{
		MaxRecords:        KinesisMaxRecords,
		MaxBatchBytes:     max(KinesisMaxBatchBytes, rec),
		MaxRecordBytes:    rec,
		CountPartitionKey: true,
		BillingUnit:       KinesisBillingUnit,
	}
}

// Kinesis puts records into one Kinesis data stream with PutRecords. It is
// safe for concurrent use.
type Kinesis struct {
	client      *kinesis.Client
	name, arn   *string
	limits      atomic.Pointer[Limits]
	fixedLimits bool
	creds       *aws.CredentialsCache
}

var _ Sink = (*Kinesis)(nil)

// NewKinesis returns a sink for stream (a name or a stream ARN) with the
// client built from cfg; cfg.BaseEndpoint, when set, beats the
// AWS_ENDPOINT_URL_* environment. It makes no network call: limits are the
// defaults until Describe reads the stream's.
func NewKinesis(cfg aws.Config, stream string, opts ...Option) (*Kinesis, error) {
	if stream == "" {
		return nil, errors.New("Stream name must be specified with --aws_kinesis_stream")
	}
	o := apply(opts)
	switch o.wire {
	case "", WireJSON, WireCBOR:
	default:
		return nil, fmt.Errorf("kinesis wire format %q: want %q or %q", o.wire, WireCBOR, WireJSON)
	}
	endpoint := cfg.BaseEndpoint
	fns := append([]func(*kinesis.Options){func(ko *kinesis.Options) {
		if endpoint != nil {
			ko.BaseEndpoint = endpoint
		}
		if o.wire == WireCBOR {
			ko.Protocol = cborPutRecords{ko.Protocol}
		} else {
			ko.Protocol = putBodies{ko.Protocol}
		}
	}}, o.kinesis...)
	k := &Kinesis{client: kinesis.NewFromConfig(cfg, fns...)}
	if isARN(stream) {
		k.arn = aws.String(stream)
	} else {
		k.name = aws.String(stream)
	}
	l := KinesisLimits(0)
	if o.limits != nil {
		l, k.fixedLimits = *o.limits, true
	}
	k.limits.Store(&l)
	k.creds, _ = cfg.Credentials.(*aws.CredentialsCache)
	return k, nil
}

// Name returns "kinesis".
func (k *Kinesis) Name() string { return "kinesis" }

// Stream returns the stream name or ARN.
func (k *Kinesis) Stream() string {
	if k.arn != nil {
		return *k.arn
	}
	return *k.name
}

// Limits returns the current limits.
func (k *Kinesis) Limits() Limits { return *k.limits.Load() }

// Client returns the SDK client (for tests and tools).
func (k *Kinesis) Client() *kinesis.Client { return k.client }

// StreamInfo is what Describe learnt about a stream or delivery stream.
type StreamInfo struct {
	Name, ARN, Status string
	OpenShards        int // Kinesis only
	MaxRecordKiB      int // Kinesis only: 0 when the service did not say (= 1024)
	Encryption        string
}

// Describe calls DescribeStreamSummary: a health check at start-up, and the
// stream's MaxRecordSizeInKiB becomes the record limit (unless WithLimits
// fixed the limits). On error the limits stay as they were; a policy that
// allows kinesis:PutRecords but not kinesis:DescribeStreamSummary is common,
// so callers should log the error and go on with the defaults.
func (k *Kinesis) Describe(ctx context.Context) (StreamInfo, error) {
	out, err := k.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: k.name, StreamARN: k.arn})
	if err != nil {
		return StreamInfo{}, err
	}
	s := out.StreamDescriptionSummary
	if s == nil {
		return StreamInfo{}, errors.New("DescribeStreamSummary: empty answer")
	}
	info := StreamInfo{
		Name:       aws.ToString(s.StreamName),
		ARN:        aws.ToString(s.StreamARN),
		Status:     string(s.StreamStatus),
		OpenShards: int(aws.ToInt32(s.OpenShardCount)),
		Encryption: string(s.EncryptionType),
	}
	if s.MaxRecordSizeInKiB != nil {
		info.MaxRecordKiB = int(*s.MaxRecordSizeInKiB)
	}
	if !k.fixedLimits {
		l := KinesisLimits(info.MaxRecordKiB)
		k.limits.Store(&l)
	}
	return info, nil
}

// Put sends recs with one PutRecords call. See Sink.
func (k *Kinesis) Put(ctx context.Context, recs []Record) (Result, error) {
	if len(recs) == 0 {
		return Result{}, nil
	}
	entries := make([]types.PutRecordsRequestEntry, len(recs))
	for i := range recs {
		// Pointing into recs avoids one allocation per record; the SDK only
		// reads it.
		entries[i] = types.PutRecordsRequestEntry{Data: recs[i].Data, PartitionKey: &recs[i].PartitionKey}
	}
	out, err := k.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: k.name, StreamARN: k.arn, Records: entries})
	if err != nil {
		invalidateIfExpired(k.creds, err)
		return Result{}, err
	}
	if len(out.Records) != len(recs) {
		return Result{}, &MalformedResponseError{Op: "PutRecords", Sent: len(recs), Got: len(out.Records)}
	}
	res := Result{SDKRetried: sdkRetries(out.ResultMetadata)}
	for i := range out.Records {
		if c := aws.ToString(out.Records[i].ErrorCode); c != "" {
			res.add(i, c, aws.ToString(out.Records[i].ErrorMessage))
		}
	}
	if res.OK() && aws.ToInt32(out.FailedRecordCount) > 0 {
		// Failures announced but none identified: resend everything rather
		// than lose records.
		return Result{}, &MalformedResponseError{Op: "PutRecords", Sent: len(recs), Got: len(recs), Failed: int(aws.ToInt32(out.FailedRecordCount))}
	}
	return res, nil
}

func (r *Result) add(i int, code, msg string) {
	if len(r.Failed) == 0 {
		r.Message = msg
	}
	r.Failed = append(r.Failed, i)
	r.Codes = append(r.Codes, code)
}

// MalformedResponseError is an HTTP 200 answer whose per-record results do
// not match the request; no record may be assumed delivered. Retryable.
type MalformedResponseError struct {
	Op        string
	Sent, Got int
	Failed    int // announced failed count when no entry carries an ErrorCode
}

func (e *MalformedResponseError) Error() string {
	if e.Failed > 0 {
		return fmt.Sprintf("%s: answer counts %d failed records but marks none", e.Op, e.Failed)
	}
	return fmt.Sprintf("%s: answer has %d results for %d records", e.Op, e.Got, e.Sent)
}
